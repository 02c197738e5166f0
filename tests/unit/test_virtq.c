/* host-tool/run/virtq.c, guest_mem.c, vsock_pkt.c: the split virtqueue and
 * packet parsing against malformed guest input, without QEMU. The "guest"
 * is a buffer in this process registered as guest memory. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "host-tool/run/guest_mem.h"
#include "host-tool/run/virtq.h"
#include "host-tool/run/vsock_pkt.h"

#define GPA 0x100000ull       /* guest-physical base of region 0 */
#define UVA 0x7f0000000000ull /* QEMU's address of region 0 */
#define MEM 0x10000           /* 64 KiB */
#define QN 8                  /* queue size */
/* Layout inside region 0. */
#define DESC_OFF 0x0
#define AVAIL_OFF 0x100
#define USED_OFF 0x200
#define DATA_OFF 0x1000

static _Alignas(4096) uint8_t ram[MEM];
static _Alignas(4096) uint8_t ram2[0x2000]; /* region 1, right after region 0 in GPA space */
static struct guest_mem mem;
static struct virtq vq;

static struct vring_desc *desc(unsigned i)
{
	return (struct vring_desc *)(ram + DESC_OFF) + i;
}
static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(ram + AVAIL_OFF);
}
static struct vring_used *used(void)
{
	return (struct vring_used *)(ram + USED_OFF);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	desc(i)->addr = addr;
	desc(i)->len = len;
	desc(i)->flags = flags;
	desc(i)->next = next;
}

/* Make chain `head` available. */
static void offer(uint16_t head)
{
	avail()->ring[avail()->idx % QN] = head;
	avail()->idx++;
}

static void reset_queue(void)
{
	struct cr_err e;
	memset(ram, 0, sizeof ram);
	virtq_init(&vq);
	if (virtq_setup(&vq, &mem, QN, UVA + DESC_OFF, UVA + AVAIL_OFF, UVA + USED_OFF, 0, &e))
		printf("# setup failed: %s\n", e.msg);
}

static void test_guest_mem(void)
{
	struct guest_mem m;
	struct cr_err e;
	uint64_t span;
	static uint8_t a[0x1000], b[0x1000];

	guest_mem_init(&m);
	T_OK(guest_mem_add_host(&m, 0x1000, 0x10000, a, 0, &e) == -1 && strstr(e.msg, "size is 0"),
	     "guest_mem: an empty region is refused");
	T_OK(guest_mem_add_host(&m, UINT64_MAX - 0x10, 0x10000, a, 0x1000, &e) == -1 && strstr(e.msg, "wraps"),
	     "guest_mem: a region wrapping the address space is refused");
	T_OK(guest_mem_add_host(&m, 0x1000, 0x10000, a, sizeof a, &e) == 0, "guest_mem: a region is added");
	T_OK(guest_mem_add_host(&m, 0x1800, 0x90000, b, sizeof b, &e) == -1 && strstr(e.msg, "overlaps"),
	     "guest_mem: an overlapping guest range is refused");
	T_OK(guest_mem_add_host(&m, 0x8000, 0x10800, b, sizeof b, &e) == -1 && strstr(e.msg, "user address"),
	     "guest_mem: an overlapping QEMU range is refused");
	T_OK(guest_mem_gpa(&m, 0x1000, 0x1000) == a, "guest_mem: a whole region translates");
	T_OK(guest_mem_gpa(&m, 0x1001, 0x1000) == NULL, "guest_mem: one byte past the end does not");
	T_OK(guest_mem_gpa(&m, 0xfff, 2) == NULL, "guest_mem: one byte before the start does not");
	T_OK(guest_mem_gpa(&m, 0x1ff0, UINT64_MAX) == NULL, "guest_mem: a huge length does not");
	T_OK(guest_mem_uva(&m, 0x10ff0, 0x10) == a + 0xff0 && !guest_mem_uva(&m, 0x10ff0, 0x11),
	     "guest_mem: QEMU addresses are bounds-checked");
	T_OK(guest_mem_gpa_span(&m, 0x1ff0, 0x100, &span) == a + 0xff0 && span == 0x10,
	     "guest_mem: a span stops at the region end");
	T_OK(guest_mem_gpa_span(&m, 0x2000, 1, &span) == NULL, "guest_mem: no span outside every region");
	{
		int fd = eventfd(0, 0); /* not a regular file: size is not checked, but mmap of it fails */
		T_OK(guest_mem_add_fd(&m, 0x40000, 0x1000, 0x50000, 0, fd, &e) == -1,
		     "guest_mem: an fd that cannot be mapped is refused");
		close(fd);
	}
	{
		char path[] = "/tmp/cr-gmem-XXXXXX";
		int fd = mkstemp(path);
		unlink(path);
		T_OK(fd >= 0 && ftruncate(fd, 0x2000) == 0, "guest_mem: backing file made");
		T_OK(guest_mem_add_fd(&m, 0x40000, 0x2000, 0x50000, 0x1000, fd, &e) == -1 &&
			     strstr(e.msg, "beyond its file"),
		     "guest_mem: a region beyond its file's end is refused (no SIGBUS later)");
		T_OK(guest_mem_add_fd(&m, 0x40000, 0x1000, 0x50000, 0x1000, fd, &e) == 0 &&
			     guest_mem_gpa(&m, 0x40000, 0x1000) != NULL,
		     "guest_mem: a file region at an offset maps");
		close(fd);
	}
	guest_mem_clear(&m);
	T_OK(m.n == 0 && guest_mem_gpa(&m, 0x1000, 1) == NULL, "guest_mem: clear forgets every region");
}

static void test_setup(void)
{
	struct virtq q;
	struct cr_err e;
	virtq_init(&q);
	T_OK(virtq_setup(&q, &mem, 6, UVA, UVA + AVAIL_OFF, UVA + USED_OFF, 0, &e) == -1 &&
		     strstr(e.msg, "power of two"),
	     "setup: a queue size that is not a power of two is refused");
	T_OK(virtq_setup(&q, &mem, 65536, UVA, UVA + AVAIL_OFF, UVA + USED_OFF, 0, &e) == -1,
	     "setup: a queue size above 32768 is refused");
	T_OK(virtq_setup(&q, &mem, QN, UVA + MEM - 16, UVA + AVAIL_OFF, UVA + USED_OFF, 0, &e) == -1 &&
		     strstr(e.msg, "descriptor table"),
	     "setup: a descriptor table running past guest memory is refused");
	T_OK(virtq_setup(&q, &mem, QN, UVA, 0x1234, UVA + USED_OFF, 0, &e) == -1 && strstr(e.msg, "available ring"),
	     "setup: an available ring outside guest memory is refused");
	T_OK(virtq_setup(&q, &mem, QN, UVA + 8, UVA + AVAIL_OFF, UVA + USED_OFF, 0, &e) == -1 &&
		     strstr(e.msg, "misaligned"),
	     "setup: a misaligned descriptor table is refused");
	memset(ram, 0, sizeof ram);
	used()->idx = 100;
	T_OK(virtq_setup(&q, &mem, QN, UVA, UVA + AVAIL_OFF, UVA + USED_OFF, 0, &e) == -1 &&
		     strstr(e.msg, "used index"),
	     "setup: a used index far from the base is refused");
	T_OK(!q.ready && virtq_pop(&q, &(struct virtq_elem){ 0 }) == -1,
	     "setup: a queue that failed setup is not used");
}

static void test_good_chains(void)
{
	struct virtq_elem el;
	uint8_t buf[64];
	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t v;

	reset_queue();
	vq.call_fd = efd;
	T_OK(virtq_pop(&vq, &el) == 0, "pop: an empty ring gives nothing");
	memcpy(ram + DATA_OFF, "hello, ", 7);
	memcpy(ram + DATA_OFF + 0x100, "world", 5);
	set_desc(3, GPA + DATA_OFF, 7, VRING_DESC_F_NEXT, 5);
	set_desc(5, GPA + DATA_OFF + 0x100, 5, VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA + DATA_OFF + 0x200, 100, VRING_DESC_F_WRITE, 0);
	offer(3);
	T_OK(virtq_avail(&vq) == 1, "avail: one chain offered");
	T_OK(virtq_pop(&vq, &el) == 1 && el.head == 3 && el.n_out == 2 && el.n_in == 1 && el.out_len == 12 &&
		     el.in_len == 100,
	     "pop: a chain of two readable and one writable descriptor");
	T_OK(virtq_elem_read(&el, 0, buf, sizeof buf) == 12 && !memcmp(buf, "hello, world", 12),
	     "elem: reading across segments");
	T_OK(virtq_elem_read(&el, 5, buf, 4) == 4 && !memcmp(buf, ", wo", 4), "elem: reading at an offset");
	T_OK(virtq_elem_write(&el, 98, "xyz", 3) == 2 && !memcmp(ram + DATA_OFF + 0x200 + 98, "xy", 2),
	     "elem: writing stops at the end of the writable part");
	virtq_unpop(&vq);
	T_OK(virtq_pop(&vq, &el) == 1 && el.head == 3, "unpop: the same chain comes back");
	virtq_push(&vq, el.head, 42);
	T_OK(used()->idx == 1 && used()->ring[0].id == 3 && used()->ring[0].len == 42,
	     "push: the used ring gets id and length");
	T_OK(virtq_notify(&vq) == 1 && read(efd, &v, sizeof v) == 8, "notify: the guest is interrupted");
	T_OK(virtq_notify(&vq) == 0, "notify: nothing new, no interrupt");
	set_desc(0, GPA + DATA_OFF, 0, 0, 0);
	offer(0);
	T_OK(virtq_pop(&vq, &el) == 1 && el.n_out == 0 && el.out_len == 0,
	     "pop: a zero-length descriptor is an empty chain");
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	virtq_push(&vq, el.head, 0);
	T_OK(virtq_notify(&vq) == 0 && read(efd, &v, sizeof v) == -1, "notify: VRING_AVAIL_F_NO_INTERRUPT is honoured");
	T_OK(virtq_stop(&vq) == 2 && !vq.ready && virtq_pop(&vq, &el) == -1,
	     "stop: returns the next slot and the queue is unusable");
	close(efd);
}

/* Offer one bad chain then a good one; the bad one must come back with
 * length 0 and the good one be popped. */
static void expect_bad(const char *name, const char *why)
{
	struct virtq_elem el;
	unsigned long before = vq.bad_chains;
	set_desc(7, GPA + DATA_OFF, 8, 0, 0);
	offer(7);
	int r = virtq_pop(&vq, &el);
	T_OK(r == 1 && el.head == 7 && vq.bad_chains == before + 1 && used()->ring[(used()->idx - 1) % QN].len == 0 &&
		     strstr(vq.err.msg, why),
	     "%s", name);
	if (!strstr(vq.err.msg, why))
		printf("# message: %s\n", vq.err.msg);
}

static void test_bad_chains(void)
{
	reset_queue();
	/* Guest memory is [GPA, GPA + MEM + sizeof ram2). */
	set_desc(0, GPA + MEM + sizeof ram2, 16, 0, 0);
	offer(0);
	expect_bad("bad chain: a buffer outside guest memory is returned unused", "outside guest memory");
	set_desc(0, GPA - 8, 16, 0, 0);
	offer(0);
	expect_bad("bad chain: a buffer starting below guest memory is returned unused", "outside guest memory");
	set_desc(0, GPA + MEM + sizeof ram2 - 8, 16, 0, 0);
	offer(0);
	expect_bad("bad chain: a buffer running past the end of memory is returned unused", "outside guest memory");
	set_desc(0, UINT64_MAX - 4, 16, 0, 0);
	offer(0);
	expect_bad("bad chain: a buffer wrapping the address space is returned unused", "outside guest memory");
	set_desc(0, GPA + DATA_OFF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA + DATA_OFF, 16, VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_bad("bad chain: a descriptor loop ends and is returned unused", "loop");
	set_desc(0, GPA + DATA_OFF, 16, VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_bad("bad chain: a descriptor linking to itself ends", "loop");
	set_desc(0, GPA + DATA_OFF, 16, VRING_DESC_F_NEXT, QN + 3);
	offer(0);
	expect_bad("bad chain: a next index outside the queue is refused", "outside a queue");
	set_desc(0, GPA + DATA_OFF, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(1, GPA + DATA_OFF, 16, 0, 0);
	offer(0);
	expect_bad("bad chain: a readable descriptor after a writable one is refused", "readable after a writable");
	set_desc(0, GPA + DATA_OFF, 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	expect_bad("bad chain: indirect descriptors (not negotiated) are refused", "indirect");
	set_desc(0, GPA + DATA_OFF, 0xffffffff, 0, 0);
	offer(0);
	expect_bad("bad chain: a 4 GiB length is refused", "outside guest memory");
	T_OK(!vq.broken, "bad chains do not break the queue");
}

static void test_segments(void)
{
	struct virtq_elem el;
	/* A buffer crossing from region 0 into region 1 (adjacent in GPA space). */
	reset_queue();
	memcpy(ram + MEM - 4, "abcd", 4);
	memcpy(ram2, "efgh", 4);
	set_desc(0, GPA + MEM - 4, 8, 0, 0);
	offer(0);
	uint8_t buf[8];
	T_OK(virtq_pop(&vq, &el) == 1 && el.n_out == 2 && virtq_elem_read(&el, 0, buf, 8) == 8 &&
		     !memcmp(buf, "abcdefgh", 8),
	     "segments: a buffer spanning two adjacent regions maps to two segments");
	virtq_push(&vq, el.head, 0);
	/* A chain of QN descriptors each crossing the border: 2*QN segments fit;
	 * VIRTQ_MAX_IOV is checked with a larger queue below. */
	{
		static _Alignas(4096) uint8_t big[0x10000 + 0x1000];
		struct guest_mem m2;
		struct virtq q;
		struct cr_err e;
		struct vring_desc *d = (struct vring_desc *)big;
		struct vring_avail *a = (struct vring_avail *)(big + 0x2000);
		guest_mem_init(&m2);
		guest_mem_add_host(&m2, 0, 0x1000000, big, sizeof big, &e);
		virtq_init(&q);
		T_OK(virtq_setup(&q, &m2, 128, 0x1000000, 0x1002000, 0x1003000, 0, &e) == 0,
		     "segments: queue of 128 set up");
		for (unsigned i = 0; i < 100; i++) {
			d[i].addr = 0x8000;
			d[i].len = 1;
			d[i].flags = i < 99 ? VRING_DESC_F_NEXT : 0;
			d[i].next = (uint16_t)(i + 1);
		}
		a->ring[0] = 0;
		a->idx = 1;
		T_OK(virtq_pop(&q, &el) == 0 && q.bad_chains == 1 && strstr(q.err.msg, "segments"),
		     "segments: a chain of more than %d segments is returned unused", VIRTQ_MAX_IOV);
	}
}

static void test_broken_ring(void)
{
	struct virtq_elem el;
	reset_queue();
	avail()->idx = QN + 1;
	T_OK(virtq_pop(&vq, &el) == -1 && vq.broken && strstr(vq.err.msg, "ahead"),
	     "broken: an available index running ahead by more than the queue size breaks the queue");
	T_OK(virtq_avail(&vq) == 0 && virtq_pop(&vq, &el) == -1, "broken: a broken queue stays unused");
	reset_queue();
	avail()->ring[0] = QN;
	avail()->idx = 1;
	T_OK(virtq_pop(&vq, &el) == -1 && vq.broken && strstr(vq.err.msg, "names descriptor"),
	     "broken: a head index outside the queue breaks the queue");
}

/* Build a TX chain of header + payload, then parse it. */
static int parse_pkt(const struct virtio_vsock_hdr *h, size_t hdr_bytes, uint32_t payload, int writable,
		     struct vsock_hdr *out, struct cr_err *e)
{
	struct virtq_elem el;
	reset_queue();
	memcpy(ram + DATA_OFF, h, sizeof *h);
	set_desc(0, GPA + DATA_OFF, (uint32_t)hdr_bytes, payload || writable ? VRING_DESC_F_NEXT : 0, 1);
	set_desc(1, GPA + DATA_OFF + 0x100, payload ? payload : 8, writable ? VRING_DESC_F_WRITE : 0, 0);
	offer(0);
	if (virtq_pop(&vq, &el) != 1)
		return cr_fail(e, "pop failed");
	return vsock_pkt_parse(&el, out, e);
}

static void test_packets(void)
{
	struct virtio_vsock_hdr h = { .src_cid = 16,
				      .dst_cid = 3,
				      .src_port = 1234,
				      .dst_port = 9000,
				      .len = 100,
				      .type = 1,
				      .op = VIRTIO_VSOCK_OP_RW,
				      .buf_alloc = 4096,
				      .fwd_cnt = 7 };
	struct vsock_hdr p;
	struct cr_err e;

	T_OK(parse_pkt(&h, sizeof h, 100, 0, &p, &e) == 0 && p.len == 100 && p.src_cid == 16 && p.dst_port == 9000 &&
		     p.fwd_cnt == 7,
	     "packet: a well-formed RW packet parses");
	T_OK(parse_pkt(&h, 40, 0, 0, &p, &e) == -1 && strstr(e.msg, "less than a packet header"),
	     "packet: a chain shorter than the header is refused");
	T_OK(parse_pkt(&h, sizeof h, 50, 0, &p, &e) == -1 && strstr(e.msg, "chain carries 50"),
	     "packet: a length beyond what the chain carries is refused");
	h.len = 0x20000;
	T_OK(parse_pkt(&h, sizeof h, 100, 0, &p, &e) == -1 && strstr(e.msg, "exceeds"),
	     "packet: a payload above 64 KiB is refused");
	h.len = 4;
	h.op = VIRTIO_VSOCK_OP_REQUEST;
	T_OK(parse_pkt(&h, sizeof h, 100, 0, &p, &e) == -1 && strstr(e.msg, "carries 4 payload"),
	     "packet: a control packet with payload is refused");
	h.len = 0;
	T_OK(parse_pkt(&h, sizeof h, 0, 1, &p, &e) == -1 && strstr(e.msg, "writable"),
	     "packet: a TX chain with writable buffers is refused");
	{
		char b[16];
		T_STR(vsock_op_name(VIRTIO_VSOCK_OP_CREDIT_REQUEST, b, sizeof b), "CREDIT_REQUEST", "packet: op names");
		T_STR(vsock_op_name(99, b, sizeof b), "op 99", "packet: unknown op names");
	}
}

int main(void)
{
	struct cr_err e;
	guest_mem_init(&mem);
	if (guest_mem_add_host(&mem, GPA, UVA, ram, MEM, &e) ||
	    guest_mem_add_host(&mem, GPA + MEM, 0x600000000000ull, ram2, sizeof ram2, &e)) {
		printf("not ok - guest memory: %s\n", e.msg);
		return 1;
	}
	test_guest_mem();
	test_setup();
	test_good_chains();
	test_bad_chains();
	test_segments();
	test_broken_ring();
	test_packets();
	return t_done();
}
