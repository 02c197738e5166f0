/* Guest memory regions for the vhost-user back-end (see guest_mem.h). */
#include "host-tool/run/guest_mem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void guest_mem_init(struct guest_mem *m)
{
	memset(m, 0, sizeof *m);
}

void guest_mem_clear(struct guest_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->r[i].map)
			munmap(m->r[i].map, m->r[i].map_len);
	guest_mem_init(m);
}

/* [a, a+alen) and [b, b+blen) intersect; both are known not to wrap. */
static int ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_new_region(const struct guest_mem *m, uint64_t gpa, uint64_t size, uint64_t uva, struct cr_err *e)
{
	if (m->n >= GUEST_MEM_MAX_REGIONS)
		return cr_fail(e, "memory table: more than %d regions", GUEST_MEM_MAX_REGIONS);
	if (size == 0)
		return cr_fail(e, "memory region at guest 0x%llx: size is 0", (unsigned long long)gpa);
	if (gpa + size < gpa || uva + size < uva)
		return cr_fail(e, "memory region at guest 0x%llx: size 0x%llx wraps the address space",
			       (unsigned long long)gpa, (unsigned long long)size);
	if (size > SIZE_MAX)
		return cr_fail(e, "memory region at guest 0x%llx: too large", (unsigned long long)gpa);
	for (unsigned i = 0; i < m->n; i++) {
		if (ranges_overlap(gpa, size, m->r[i].gpa, m->r[i].size))
			return cr_fail(e, "memory region at guest 0x%llx overlaps the one at 0x%llx",
				       (unsigned long long)gpa, (unsigned long long)m->r[i].gpa);
		if (ranges_overlap(uva, size, m->r[i].uva, m->r[i].size))
			return cr_fail(e, "memory region at guest 0x%llx: user address 0x%llx overlaps another region",
				       (unsigned long long)gpa, (unsigned long long)uva);
	}
	return 0;
}

int guest_mem_add_fd(struct guest_mem *m, uint64_t gpa, uint64_t size, uint64_t uva, uint64_t mmap_offset, int fd,
		     struct cr_err *e)
{
	struct stat st;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), skew, len;
	void *p;

	if (check_new_region(m, gpa, size, uva, e))
		return -1;
	if (mmap_offset + size < mmap_offset)
		return cr_fail(e, "memory region at guest 0x%llx: mmap offset wraps", (unsigned long long)gpa);
	/* Accessing a mapping past the end of its file raises SIGBUS; refuse it
	 * up front (memfd and regular files report their size). */
	if (fstat(fd, &st) != 0)
		return cr_failp(e, "memory region at guest 0x%llx: fstat", (unsigned long long)gpa);
	if ((S_ISREG(st.st_mode)) && (uint64_t)st.st_size < mmap_offset + size)
		return cr_fail(e, "memory region at guest 0x%llx: ends beyond its file (%lld bytes)",
			       (unsigned long long)gpa, (long long)st.st_size);
	skew = mmap_offset % page;
	len = size + skew;
	if (len < size || len > SIZE_MAX)
		return cr_fail(e, "memory region at guest 0x%llx: too large", (unsigned long long)gpa);
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)(mmap_offset - skew));
	if (p == MAP_FAILED)
		return cr_failp(e, "memory region at guest 0x%llx: mmap of 0x%llx bytes", (unsigned long long)gpa,
				(unsigned long long)len);
	m->r[m->n] = (struct guest_region){
		.gpa = gpa,
		.size = size,
		.uva = uva,
		.host = (uint8_t *)p + skew,
		.map = p,
		.map_len = (size_t)len,
	};
	m->n++;
	return 0;
}

int guest_mem_add_host(struct guest_mem *m, uint64_t gpa, uint64_t uva, void *p, uint64_t size, struct cr_err *e)
{
	if (check_new_region(m, gpa, size, uva, e))
		return -1;
	m->r[m->n] = (struct guest_region){ .gpa = gpa, .size = size, .uva = uva, .host = p };
	m->n++;
	return 0;
}

void *guest_mem_gpa_span(const struct guest_mem *m, uint64_t gpa, uint64_t len, uint64_t *span)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct guest_region *r = &m->r[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			uint64_t off = gpa - r->gpa, left = r->size - off;
			*span = len < left ? len : left;
			return r->host + off;
		}
	}
	return NULL;
}

void *guest_mem_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	uint64_t span;
	void *p = guest_mem_gpa_span(m, gpa, len, &span);
	return p && span == len ? p : NULL;
}

void *guest_mem_uva(const struct guest_mem *m, uint64_t uva, uint64_t len)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct guest_region *r = &m->r[i];
		if (uva >= r->uva && uva - r->uva < r->size && len <= r->size - (uva - r->uva))
			return r->host + (uva - r->uva);
	}
	return NULL;
}
