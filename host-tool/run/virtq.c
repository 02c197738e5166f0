/* Split virtqueue, device side (see virtq.h for the trust model). */
#include "host-tool/run/virtq.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The guest writes these concurrently: single loads/stores with the
 * ordering the virtio memory model asks for (acquire after reading the
 * available index, release before publishing the used index). */
static uint16_t load_u16_acquire(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static uint16_t load_u16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

void virtq_init(struct virtq *vq)
{
	memset(vq, 0, sizeof *vq);
	vq->call_fd = -1;
}

int virtq_setup(struct virtq *vq, const struct guest_mem *mem, unsigned num, uint64_t desc_uva, uint64_t avail_uva,
		uint64_t used_uva, uint16_t last_avail, struct cr_err *e)
{
	uint64_t dlen = 16ull * num, alen = 6ull + 2ull * num, ulen = 6ull + 8ull * num;
	void *d, *a, *u;
	uint16_t used_idx;

	vq->ready = 0;
	if (num == 0 || num > VIRTQ_MAX_SIZE || (num & (num - 1)))
		return cr_fail(e, "queue size %u is not a power of two in 1..%d", num, VIRTQ_MAX_SIZE);
	d = guest_mem_uva(mem, desc_uva, dlen);
	a = guest_mem_uva(mem, avail_uva, alen);
	u = guest_mem_uva(mem, used_uva, ulen);
	if (!d)
		return cr_fail(e, "descriptor table at 0x%llx (+%llu) is outside guest memory",
			       (unsigned long long)desc_uva, (unsigned long long)dlen);
	if (!a)
		return cr_fail(e, "available ring at 0x%llx (+%llu) is outside guest memory",
			       (unsigned long long)avail_uva, (unsigned long long)alen);
	if (!u)
		return cr_fail(e, "used ring at 0x%llx (+%llu) is outside guest memory", (unsigned long long)used_uva,
			       (unsigned long long)ulen);
	if (((uintptr_t)d % VRING_DESC_ALIGN_SIZE) || ((uintptr_t)a % VRING_AVAIL_ALIGN_SIZE) ||
	    ((uintptr_t)u % VRING_USED_ALIGN_SIZE))
		return cr_fail(e, "ring parts are misaligned (desc 0x%llx, avail 0x%llx, used 0x%llx)",
			       (unsigned long long)desc_uva, (unsigned long long)avail_uva,
			       (unsigned long long)used_uva);
	used_idx = load_u16(&((struct vring_used *)u)->idx);
	if ((uint16_t)(last_avail - used_idx) > num)
		return cr_fail(e, "used index %u is more than %u behind the base %u", used_idx, num, last_avail);
	vq->mem = mem;
	vq->num = (uint16_t)num;
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	vq->last_avail = last_avail;
	vq->used_idx = used_idx;
	vq->unnotified = 0;
	vq->broken = 0;
	vq->ready = 1;
	return 0;
}

uint16_t virtq_stop(struct virtq *vq)
{
	vq->ready = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	return vq->last_avail;
}

static int usable(struct virtq *vq)
{
	return vq->ready && !vq->broken;
}

static void set_broken(struct virtq *vq, const char *fmt, unsigned a, unsigned b)
{
	vq->broken = 1;
	cr_fail(&vq->err, fmt, a, b);
}

unsigned virtq_avail(struct virtq *vq)
{
	uint16_t n;
	if (!usable(vq))
		return 0;
	n = (uint16_t)(load_u16_acquire(&vq->avail->idx) - vq->last_avail);
	if (n > vq->num) {
		set_broken(vq, "available index runs %u entries ahead of a queue of %u", n, vq->num);
		return 0;
	}
	return n;
}

/* Walk the chain starting at head into el. 0 ok, -1 bad chain (vq->err). */
static int walk_chain(struct virtq *vq, uint16_t head, struct virtq_elem *el)
{
	uint16_t i = head;
	unsigned count = 0;

	el->head = head;
	el->n_out = el->n_in = 0;
	el->out_len = el->in_len = 0;
	for (;;) {
		struct vring_desc d;
		uint16_t flags;
		uint64_t addr;
		uint32_t len;

		if (++count > vq->num)
			return cr_fail(&vq->err, "chain at %u is longer than the queue (a loop)", head);
		memcpy(&d, &vq->desc[i], sizeof d);
		flags = le16toh(d.flags);
		addr = le64toh(d.addr);
		len = le32toh(d.len);
		if (flags & VRING_DESC_F_INDIRECT)
			return cr_fail(&vq->err, "descriptor %u is indirect, which was not negotiated", i);
		if (!(flags & VRING_DESC_F_WRITE) && el->n_in)
			return cr_fail(&vq->err, "descriptor %u is readable after a writable one", i);
		/* Map the buffer, possibly as several segments. */
		while (len > 0) {
			uint64_t span;
			void *p = addr + len < addr ? NULL : guest_mem_gpa_span(vq->mem, addr, len, &span);
			if (!p)
				return cr_fail(&vq->err, "descriptor %u: buffer 0x%llx+%u is outside guest memory", i,
					       (unsigned long long)addr, len);
			if (el->n_out + el->n_in >= VIRTQ_MAX_IOV)
				return cr_fail(&vq->err, "chain at %u has more than %d segments", head, VIRTQ_MAX_IOV);
			el->iov[el->n_out + el->n_in] = (struct iovec){ .iov_base = p, .iov_len = (size_t)span };
			if (flags & VRING_DESC_F_WRITE) {
				el->n_in++;
				el->in_len += span;
			} else {
				el->n_out++;
				el->out_len += span;
			}
			addr += span;
			len -= (uint32_t)span;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
		if (i >= vq->num)
			return cr_fail(&vq->err, "descriptor chain at %u links to %u, outside a queue of %u", head, i,
				       vq->num);
	}
}

int virtq_pop(struct virtq *vq, struct virtq_elem *el)
{
	for (;;) {
		uint16_t head;
		if (!virtq_avail(vq))
			return usable(vq) ? 0 : -1;
		head = load_u16(&vq->avail->ring[vq->last_avail % vq->num]);
		if (head >= vq->num) {
			set_broken(vq, "available ring names descriptor %u in a queue of %u", head, vq->num);
			return -1;
		}
		vq->last_avail++;
		if (walk_chain(vq, head, el) == 0)
			return 1;
		/* Hand the bad chain back unused; the guest sees a 0-byte completion. */
		vq->bad_chains++;
		virtq_push(vq, head, 0);
	}
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *u;
	if (!vq->ready)
		return;
	u = &vq->used->ring[vq->used_idx % vq->num];
	__atomic_store_n(&u->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
	vq->unnotified++;
}

int virtq_notify(struct virtq *vq)
{
	uint64_t one = 1;
	if (!vq->ready || vq->unnotified == 0)
		return 0;
	vq->unnotified = 0;
	/* The used index store must be visible before we read the guest's flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (load_u16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT)
		return 0;
	if (vq->call_fd < 0)
		return 0;
	while (write(vq->call_fd, &one, sizeof one) < 0 && errno == EINTR) {
	}
	return 1;
}

unsigned virtq_elem_slice(const struct virtq_elem *el, int out, size_t off, size_t len, struct iovec *iov, unsigned max,
			  size_t *got)
{
	unsigned first = out ? 0 : el->n_out, end = out ? el->n_out : el->n_out + el->n_in, n = 0;
	*got = 0;
	for (unsigned i = first; i < end && len > 0 && n < max; i++) {
		size_t seg = el->iov[i].iov_len, take;
		if (off >= seg) {
			off -= seg;
			continue;
		}
		take = seg - off < len ? seg - off : len;
		iov[n++] = (struct iovec){ .iov_base = (uint8_t *)el->iov[i].iov_base + off, .iov_len = take };
		*got += take;
		len -= take;
		off = 0;
	}
	return n;
}

size_t virtq_elem_read(const struct virtq_elem *el, size_t off, void *buf, size_t len)
{
	struct iovec v[VIRTQ_MAX_IOV];
	size_t got, done = 0;
	unsigned n = virtq_elem_slice(el, 1, off, len, v, VIRTQ_MAX_IOV, &got);
	for (unsigned i = 0; i < n; i++) {
		memcpy((uint8_t *)buf + done, v[i].iov_base, v[i].iov_len);
		done += v[i].iov_len;
	}
	return done;
}

size_t virtq_elem_write(const struct virtq_elem *el, size_t off, const void *buf, size_t len)
{
	struct iovec v[VIRTQ_MAX_IOV];
	size_t got, done = 0;
	unsigned n = virtq_elem_slice(el, 0, off, len, v, VIRTQ_MAX_IOV, &got);
	for (unsigned i = 0; i < n; i++) {
		memcpy(v[i].iov_base, (const uint8_t *)buf + done, v[i].iov_len);
		done += v[i].iov_len;
	}
	return done;
}
