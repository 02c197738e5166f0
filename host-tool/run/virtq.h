/* Split virtqueue, device side (VIRTIO 1.x §2.7), over guest memory that the
 * guest may change at any moment.
 *
 * Trust model: every index, flag, address and length read from the rings is
 * guest-controlled. Each descriptor is copied once and only the copy is
 * checked and used; addresses are translated with bounds checks; chains are
 * bounded by the queue size (so loops end). A malformed chain (bad address,
 * loop, readable-after-writable, indirect descriptor, too many segments) is
 * handed back to the guest unused (length 0) and counted; a malformed ring
 * (available index running ahead by more than the queue size, head index out
 * of range) marks the queue broken: it is then left alone until the device
 * is reset. Neither can crash or hang the host.
 *
 * Not negotiated, hence rejected: VIRTIO_RING_F_INDIRECT_DESC,
 * VIRTIO_RING_F_EVENT_IDX, packed rings. */
#ifndef CLEANROOM_VIRTQ_H
#define CLEANROOM_VIRTQ_H

#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "host-tool/run/guest_mem.h"
#include "base/util.h"

#define VIRTQ_MAX_SIZE 32768
/* Segments one chain may map to (a descriptor crossing a region boundary
 * takes two). The Linux vsock driver uses at most a handful. */
#define VIRTQ_MAX_IOV 64

struct virtq {
	const struct guest_mem *mem;
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail; /* next available-ring slot to take */
	uint16_t used_idx;   /* next used-ring slot to fill */
	int call_fd;         /* eventfd to interrupt the guest, -1 for none */
	unsigned unnotified; /* pushes since the last interrupt */
	int ready;           /* set up and usable */
	int broken;          /* ring malformed: do not touch until reset */
	unsigned long bad_chains;
	struct cr_err err; /* why broken, or what the last bad chain was */
};

/* One descriptor chain: readable segments (driver to device) first, then
 * writable ones. iov[0..n_out) and iov[n_out..n_out+n_in). */
struct virtq_elem {
	uint16_t head;
	unsigned n_out, n_in;
	size_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_IOV];
};

/* Queue not usable (no memory, not started). */
void virtq_init(struct virtq *vq);
/* Make the queue usable: num entries (power of two, <= VIRTQ_MAX_SIZE), ring
 * parts at QEMU addresses desc/avail/used, starting at available slot
 * last_avail. The used index is taken from the ring. */
int virtq_setup(struct virtq *vq, const struct guest_mem *mem, unsigned num, uint64_t desc_uva, uint64_t avail_uva,
		uint64_t used_uva, uint16_t last_avail, struct cr_err *e);
/* Back to the unusable state; returns the next available slot (for
 * GET_VRING_BASE). call_fd is left alone. */
uint16_t virtq_stop(struct virtq *vq);

/* Next good chain: 1 with el filled, 0 when the ring is empty, -1 when the
 * queue is broken or not ready. Bad chains are returned to the guest on the
 * way (see above). */
int virtq_pop(struct virtq *vq, struct virtq_elem *el);
/* Give back the chain popped last (not yet pushed) for a later pop. */
void virtq_unpop(struct virtq *vq);
/* Chains the guest made available and we have not popped (0 if unusable). */
unsigned virtq_avail(struct virtq *vq);
/* Return chain `head` to the guest with `len` bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/* Interrupt the guest if anything was pushed since the last call and the
 * guest did not ask to be left alone. Returns 1 when it signalled. */
int virtq_notify(struct virtq *vq);

/* Copy bytes [off, off+len) of the readable part of el into buf; returns
 * how many were available (less than len at the end of the chain). */
size_t virtq_elem_read(const struct virtq_elem *el, size_t off, void *buf, size_t len);
/* Copy buf into the writable part of el at off; returns bytes copied. */
size_t virtq_elem_write(const struct virtq_elem *el, size_t off, const void *buf, size_t len);
/* Sub-vector of the readable (out=1) or writable (out=0) part: [off, off+len)
 * into iov (at most max entries); returns the entry count, *got the bytes. */
unsigned virtq_elem_slice(const struct virtq_elem *el, int out, size_t off, size_t len, struct iovec *iov, unsigned max,
			  size_t *got);

#endif
