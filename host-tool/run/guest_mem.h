/* Guest RAM as QEMU shares it with a vhost-user back-end: a small table of
 * regions (each one mmap'd from a file descriptor QEMU passed us) and
 * bounds-checked translation of addresses into pointers in this process.
 *
 * Two address spaces are translated:
 *  - guest-physical addresses (GPA), found in virtqueue descriptors, which
 *    the guest controls and must never be trusted;
 *  - QEMU's own virtual addresses (UVA), which vhost-user uses for the ring
 *    locations (SET_VRING_ADDR).
 * A translation succeeds only when the whole range lies inside one region;
 * callers that accept buffers spanning regions use guest_mem_gpa_span(). */
#ifndef CLEANROOM_GUEST_MEM_H
#define CLEANROOM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* VHOST_MEMORY_BASELINE_NREGIONS: what SET_MEM_TABLE can carry. */
#define GUEST_MEM_MAX_REGIONS 8

struct guest_region {
	uint64_t gpa, size, uva;
	uint8_t *host; /* first byte of the region in this process */
	void *map;     /* what to munmap, NULL when the memory is borrowed */
	size_t map_len;
};

struct guest_mem {
	struct guest_region r[GUEST_MEM_MAX_REGIONS];
	unsigned n;
};

void guest_mem_init(struct guest_mem *m);
/* Unmap every region; the table is empty afterwards. */
void guest_mem_clear(struct guest_mem *m);

/* Map `size` bytes at `mmap_offset` of fd (shared, read-write) as the region
 * [gpa, gpa+size) whose QEMU address is uva. The fd is not closed. Rejects
 * empty, wrapping or overlapping regions and ranges beyond the file's end. */
int guest_mem_add_fd(struct guest_mem *m, uint64_t gpa, uint64_t size, uint64_t uva, uint64_t mmap_offset, int fd,
		     struct cr_err *e);
/* Add a region backed by memory this process owns (tests, no unmapping). */
int guest_mem_add_host(struct guest_mem *m, uint64_t gpa, uint64_t uva, void *p, uint64_t size, struct cr_err *e);

/* Pointer to [gpa, gpa+len) when it lies inside one region, else NULL. */
void *guest_mem_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Same for a QEMU virtual address range. */
void *guest_mem_uva(const struct guest_mem *m, uint64_t uva, uint64_t len);
/* Pointer to gpa and, in *span, how many of the len bytes from there are
 * contiguous in that region (1..len when len > 0); NULL when gpa is in no
 * region. */
void *guest_mem_gpa_span(const struct guest_mem *m, uint64_t gpa, uint64_t len, uint64_t *span);

#endif
