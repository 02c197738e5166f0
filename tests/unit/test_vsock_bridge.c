/* host-tool/run/vsock_bridge.c, vhost_user.c: the whole bridge driven by a
 * fake QEMU (vhost-user messages over its real socket, guest RAM in a
 * memfd) and a fake guest driver (rings filled by this test), without
 * QEMU. Covers the vhost-user handshake, connections both ways, credit
 * flow control, shutdown, resets, and misbehaving guests and front-ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "host-tool/run/evloop.h"
#include "base/unix_sock.h"
#include "host-tool/run/virtq.h"
#include "host-tool/run/vsock_bridge.h"
#include "host-tool/client/vsock_client.h"
#include "host-tool/run/vsock_pkt.h"

#define CID 16
#define QN 64
#define RAM (4u << 20)
#define RX_BUF (4096 + VSOCK_HDR_SIZE)
#define BUF_ALLOC 16384u
/* Ring layout in guest RAM (GPA = offset). */
#define RING_OFF(q) ((q)*0x4000u)
#define AVAIL_OFF(q) (RING_OFF(q) + 0x1000u)
#define USED_OFF(q) (RING_OFF(q) + 0x2000u)
#define RXBUF_OFF(i) (0x10000u + (i)*0x2000u)
#define TXBUF_OFF(i) (0x100000u + (i)*0x11000u)
#define TX_SLOTS 16

enum { RXQ = 0, TXQ = 1 };

static struct {
	struct evloop loop;
	struct vsock_bridge *br;
	char dir[64], uds[128], vhost[128];
	int sock;
	int memfd;
	uint8_t *ram;
	int kick[2], call[2];
	uint16_t avail_idx[2], used_seen[2];
	unsigned tx_slot;
	char log[4096];
	unsigned nlog; /* lines logged */
} F;

static void test_log(void *ctx, const char *msg)
{
	size_t n = strlen(F.log);
	(void)ctx;
	F.nlog++;
	snprintf(F.log + n, sizeof F.log - n, "%s\n", msg);
	printf("# bridge: %s\n", msg);
}

static void pump(void)
{
	struct cr_err e;
	for (int i = 0; i < 8; i++)
		evloop_run_once(&F.loop, 0, &e);
}

/* Pump until cond holds or ~2 s pass. */
/* Pump until cond holds or ~0.5 s pass. */
#define PUMP_UNTIL(cond)                        \
 do {                                           \
  for (int w_ = 0; w_ < 100 && !(cond); w_++) { \
   struct cr_err e_;                            \
   evloop_run_once(&F.loop, 5, &e_);            \
  }                                             \
 } while (0)

/* ------------------------------------------------------------ front-end */

struct msg {
	uint32_t request, flags, size;
	uint8_t payload[512];
};

static int fe_send(uint32_t req, const void *payload, uint32_t size, const int *fds, int nfds, int need_reply)
{
	struct msg m = { .request = req, .flags = 1u | (need_reply ? 8u : 0u), .size = size };
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} cb;
	struct iovec iov = { .iov_base = &m, .iov_len = 12 + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (size)
		memcpy(m.payload, payload, size);
	if (nfds) {
		struct cmsghdr *c;
		mh.msg_control = cb.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	if (sendmsg(F.sock, &mh, MSG_NOSIGNAL) != (ssize_t)(12 + size))
		return -1;
	pump();
	return 0;
}

/* Reply payload into out; returns its size or -1. */
static int fe_reply(uint32_t req, void *out, size_t max)
{
	struct msg m;
	if (recv(F.sock, &m, 12, MSG_WAITALL) != 12 || m.request != req || !(m.flags & 4) || m.size > max)
		return -1;
	if (m.size && recv(F.sock, out, m.size, MSG_WAITALL) != (ssize_t)m.size)
		return -1;
	return (int)m.size;
}

static uint64_t fe_get_u64(uint32_t req)
{
	uint64_t v = 0;
	if (fe_send(req, NULL, 0, NULL, 0, 0) || fe_reply(req, &v, sizeof v) != 8)
		return UINT64_MAX;
	return v;
}

static void fe_vring_state(uint32_t req, uint32_t idx, uint32_t num)
{
	uint32_t s[2] = { idx, num };
	fe_send(req, s, sizeof s, NULL, 0, 0);
}

static void fe_vring_fd(uint32_t req, uint32_t idx, int fd)
{
	uint64_t v = idx;
	fe_send(req, &v, sizeof v, &fd, 1, 0);
}

static void fe_vring_addr(uint32_t q)
{
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} a = { q,
		0,
		(uint64_t)(uintptr_t)F.ram + RING_OFF(q),
		(uint64_t)(uintptr_t)F.ram + USED_OFF(q),
		(uint64_t)(uintptr_t)F.ram + AVAIL_OFF(q),
		0 };
	fe_send(9, &a, sizeof a, NULL, 0, 0);
}

static int fe_connect(void)
{
	struct cr_err e;
	struct timeval tv = { .tv_sec = 3 };
	F.sock = unix_sock_connect(F.vhost, 0, &e);
	if (F.sock < 0)
		return -1;
	setsockopt(F.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	pump();
	return 0;
}

/* The message sequence QEMU sends when the driver starts the device. */
static int fe_start(void)
{
	struct {
		uint32_t n, pad;
		uint64_t gpa, size, uva, off;
	} mt = { 1, 0, 0, RAM, (uint64_t)(uintptr_t)F.ram, 0 };
	uint64_t feat = (1ull << 32) | (1ull << 30), proto = (1ull << 3) | (1ull << 9) | 1, ack = 1;

	if (fe_get_u64(1) == UINT64_MAX)
		return -1;
	fe_send(16, &proto, sizeof proto, NULL, 0, 0);
	fe_send(3, NULL, 0, NULL, 0, 0);
	fe_send(2, &feat, sizeof feat, NULL, 0, 0);
	if (fe_send(5, &mt, sizeof mt, &F.memfd, 1, 1) || fe_reply(5, &ack, sizeof ack) != 8 || ack != 0)
		return -1;
	memset(F.ram, 0, 0x10000);
	F.avail_idx[0] = F.avail_idx[1] = F.used_seen[0] = F.used_seen[1] = 0;
	for (uint32_t q = 0; q < 2; q++) {
		fe_vring_state(8, q, QN);
		fe_vring_state(10, q, 0);
		fe_vring_addr(q);
		fe_vring_fd(12, q, F.kick[q]);
		fe_vring_fd(13, q, F.call[q]);
		fe_vring_state(18, q, 1);
	}
	return 0;
}

/* GET_VRING_BASE on both queues, as QEMU stops the device. */
static void fe_stop(void)
{
	uint32_t s[2];
	for (uint32_t q = 0; q < 2; q++) {
		fe_vring_state(18, q, 0);
		fe_vring_state(11, q, 0);
		fe_reply(11, s, sizeof s);
	}
}

/* ------------------------------------------------------------ guest driver */

static struct vring_desc *gdesc(int q, unsigned i)
{
	return (struct vring_desc *)(F.ram + RING_OFF(q)) + i;
}
static struct vring_avail *gavail(int q)
{
	return (struct vring_avail *)(F.ram + AVAIL_OFF(q));
}
static struct vring_used *gused(int q)
{
	return (struct vring_used *)(F.ram + USED_OFF(q));
}

static void kick(int q)
{
	uint64_t one = 1;
	if (write(F.kick[q], &one, sizeof one) != 8)
		printf("# kick failed\n");
	pump();
}

static void offer(int q, uint16_t head)
{
	gavail(q)->ring[F.avail_idx[q] % QN] = head;
	F.avail_idx[q]++;
	__atomic_store_n(&gavail(q)->idx, F.avail_idx[q], __ATOMIC_RELEASE);
}

/* Post up to n receive buffers (descriptor i uses buffer i), never more
 * than the queue holds nor over buffers the test has not read yet. */
static void rx_post(unsigned n)
{
	unsigned room = QN - (uint16_t)(F.avail_idx[RXQ] - F.used_seen[RXQ]);
	if (n > room)
		n = room;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = F.avail_idx[RXQ] % QN;
		*gdesc(RXQ, i) =
			(struct vring_desc){ .addr = RXBUF_OFF(i), .len = RX_BUF, .flags = VRING_DESC_F_WRITE };
		offer(RXQ, (uint16_t)i);
	}
	kick(RXQ);
}

static void tx_raw(const struct virtio_vsock_hdr *h, uint32_t hdr_len, const void *payload, uint32_t len)
{
	unsigned slot = F.tx_slot++ % TX_SLOTS, d = (slot * 2) % QN;
	uint8_t *p = F.ram + TXBUF_OFF(slot);
	memcpy(p, h, sizeof *h);
	if (len)
		memcpy(p + 0x100, payload, len);
	*gdesc(TXQ, d) = (struct vring_desc){
		.addr = TXBUF_OFF(slot), .len = hdr_len, .flags = len ? VRING_DESC_F_NEXT : 0, .next = (uint16_t)(d + 1)
	};
	*gdesc(TXQ, d + 1) = (struct vring_desc){ .addr = TXBUF_OFF(slot) + 0x100, .len = len };
	offer(TXQ, (uint16_t)d);
	kick(TXQ);
}

static void tx(uint16_t op, uint32_t src_port, uint32_t dst_port, uint32_t dst_cid, uint32_t flags, const void *payload,
	       uint32_t len, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	struct virtio_vsock_hdr h = { .src_cid = CID,
				      .dst_cid = dst_cid,
				      .src_port = src_port,
				      .dst_port = dst_port,
				      .len = len,
				      .type = VIRTIO_VSOCK_TYPE_STREAM,
				      .op = op,
				      .flags = flags,
				      .buf_alloc = buf_alloc,
				      .fwd_cnt = fwd_cnt };
	tx_raw(&h, sizeof h, payload, len);
}

/* Next packet the bridge put in the RX queue: header and payload. */
static int rx_next(struct virtio_vsock_hdr *h, uint8_t *payload, uint32_t *len)
{
	struct vring_used_elem u;
	PUMP_UNTIL(__atomic_load_n(&gused(RXQ)->idx, __ATOMIC_ACQUIRE) != F.used_seen[RXQ]);
	if (gused(RXQ)->idx == F.used_seen[RXQ])
		return -1;
	u = gused(RXQ)->ring[F.used_seen[RXQ] % QN];
	F.used_seen[RXQ]++;
	if (u.len < VSOCK_HDR_SIZE)
		return -2;
	memcpy(h, F.ram + RXBUF_OFF(u.id), sizeof *h);
	if (h->len != u.len - VSOCK_HDR_SIZE)
		return -3;
	if (payload)
		memcpy(payload, F.ram + RXBUF_OFF(u.id) + VSOCK_HDR_SIZE, h->len);
	if (len)
		*len = h->len;
	return 0;
}

/* Expect the next RX packet to have this op (and ports); returns it. */
static int expect_rx(uint16_t op, uint32_t src_port, uint32_t dst_port, struct virtio_vsock_hdr *out)
{
	struct virtio_vsock_hdr h;
	int r = rx_next(&h, NULL, NULL);
	if (r) {
		printf("# no packet (%d)\n", r);
		return 0;
	}
	if (out)
		*out = h;
	if (h.op != op || (src_port && h.src_port != src_port) || (dst_port && h.dst_port != dst_port) ||
	    h.dst_cid != CID) {
		printf("# got op %u %u:%u -> %u:%u\n", h.op, (unsigned)h.src_cid, h.src_port, (unsigned)h.dst_cid,
		       h.dst_port);
		return 0;
	}
	return 1;
}

static int rx_empty(void)
{
	pump();
	return gused(RXQ)->idx == F.used_seen[RXQ];
}

/* ------------------------------------------------------------ helpers */

static int host_listen(uint32_t port)
{
	char path[160];
	struct cr_err e;
	snprintf(path, sizeof path, "%s_%u", F.uds, port);
	unlink(path);
	return unix_sock_listen(path, 8, &e);
}

static int accept_wait(int lfd)
{
	int fd = -1;
	PUMP_UNTIL((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	return fd;
}

/* Read exactly n bytes from a host socket while pumping the bridge. */
static int host_read(int fd, void *buf, size_t n)
{
	size_t got = 0;
	for (int i = 0; i < 400 && got < n; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct cr_err e;
		evloop_run_once(&F.loop, 5, &e);
		if (poll(&p, 1, 0) == 1) {
			ssize_t r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
			if (r <= 0)
				return r == 0 ? (int)got : -1;
			got += (size_t)r;
		}
	}
	return (int)got;
}

/* Wait for EOF (or reset) on a host socket; with drain, data before it
 * is skipped, else data means "no EOF". */
static int host_eof_drain(int fd, int drain)
{
	char c[4096];
	for (int i = 0; i < 400; i++) {
		struct cr_err e;
		ssize_t r = recv(fd, c, drain ? sizeof c : 1, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
		if (r > 0 && !drain)
			return 0;
		if (r < 0)
			evloop_run_once(&F.loop, 5, &e);
	}
	return 0;
}

static int host_eof(int fd)
{
	return host_eof_drain(fd, 0);
}

/* ------------------------------------------------------------ tests */

static void test_handshake(void)
{
	struct __attribute__((packed)) {
		uint32_t off, size, flags;
		uint64_t cid;
	} cfg = { 0, 8, 0, 0 };
	uint64_t feat = fe_get_u64(1);
	T_OK(feat == ((1ull << 32) | (1ull << 30)),
	     "vhost-user: GET_FEATURES offers VERSION_1 and PROTOCOL_FEATURES only");
	T_OK(fe_get_u64(15) == ((1ull << 0) | (1ull << 3) | (1ull << 9)),
	     "vhost-user: protocol features MQ, REPLY_ACK, CONFIG");
	T_OK(fe_get_u64(17) == 2, "vhost-user: GET_QUEUE_NUM is 2");
	fe_send(24, &cfg, sizeof cfg, NULL, 0, 0);
	T_OK(fe_reply(24, &cfg, sizeof cfg) == 20 && cfg.cid == CID, "vhost-user: GET_CONFIG gives the guest CID");
	cfg.off = 4;
	fe_send(24, &cfg, sizeof cfg, NULL, 0, 0);
	T_OK(fe_reply(24, &cfg, sizeof cfg) == 0, "vhost-user: GET_CONFIG beyond the config space is refused");
	T_OK(fe_start() == 0, "vhost-user: SET_MEM_TABLE with REPLY_ACK is acknowledged and the queues start");
	{
		struct vsock_bridge_stats st;
		vsock_bridge_stats(F.br, &st);
		T_OK(st.running, "bridge: both queues run after SET_VRING_ENABLE");
	}
	rx_post(QN / 2);
}

static void test_guest_to_host(void)
{
	struct virtio_vsock_hdr h;
	uint8_t buf[8192];
	uint32_t len;
	int lfd, fd;

	tx(VIRTIO_VSOCK_OP_REQUEST, 1000, 7777, 3, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7777, 1000, &h) && h.src_cid == 3,
	     "guest->host: REQUEST to a port without listener is answered with RST from CID 3");
	T_OK(strstr(F.log, "v.sock_7777") != NULL, "guest->host: the refusal is logged with the socket path");

	lfd = host_listen(7000);
	tx(VIRTIO_VSOCK_OP_REQUEST, 1001, 7000, 3, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7000, 1001, &h) && h.buf_alloc == BUF_ALLOC && h.fwd_cnt == 0,
	     "guest->host: REQUEST to a listener is answered with RESPONSE and our buffer size");
	fd = accept_wait(lfd);
	T_OK(fd >= 0, "guest->host: the host listener <uds>_7000 gets a connection");
	tx(VIRTIO_VSOCK_OP_RW, 1001, 7000, 3, 0, "ping", 4, 65536, 0);
	T_OK(host_read(fd, buf, 4) == 4 && !memcmp(buf, "ping", 4), "guest->host: RW payload reaches the host socket");
	T_OK(send(fd, "pong!", 5, 0) == 5, "guest->host: host writes an answer");
	T_OK(rx_next(&h, buf, &len) == 0 && h.op == VIRTIO_VSOCK_OP_RW && len == 5 && !memcmp(buf, "pong!", 5) &&
		     h.fwd_cnt == 4 && h.src_cid == 3,
	     "guest->host: the answer arrives as RW carrying our fwd_cnt");

	/* Credit: the guest only has 8 KiB of buffer; 12 KiB from the host must stop at 8 KiB. */
	tx(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1001, 7000, 3, 0, NULL, 0, 8192, 5);
	memset(buf, 'x', sizeof buf);
	T_OK(send(fd, buf, 8192, 0) == 8192 && send(fd, buf, 4096, 0) == 4096, "credit: host writes 12 KiB");
	{
		uint32_t total = 0;
		while (rx_next(&h, NULL, &len) == 0 && h.op == VIRTIO_VSOCK_OP_RW)
			total += len;
		T_OK(total == 8192 - 0, "credit: the bridge sends only what the guest's credit allows (%u bytes)",
		     total);
		rx_post(QN / 2);
		tx(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1001, 7000, 3, 0, NULL, 0, 8192, 5 + 8192);
		total = 0;
		while (rx_next(&h, NULL, &len) == 0 && h.op == VIRTIO_VSOCK_OP_RW)
			total += len;
		T_OK(total == 4096, "credit: a CREDIT_UPDATE releases the rest (%u bytes)", total);
	}
	tx(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 1001, 7000, 3, 0, NULL, 0, 8192, 5 + 12288);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 7000, 1001, &h) && h.fwd_cnt == 4 && h.buf_alloc == BUF_ALLOC,
	     "credit: CREDIT_REQUEST is answered with CREDIT_UPDATE");

	/* Our credit: after a quarter buffer forwarded, an update comes unasked. */
	{
		uint32_t sent = 4;
		int got_update = 0;
		for (int i = 0; i < 2; i++) {
			tx(VIRTIO_VSOCK_OP_RW, 1001, 7000, 3, 0, buf, 4096, 8192, 5 + 12288);
			sent += 4096;
		}
		T_OK(host_read(fd, buf, 8192) == 8192, "credit: the host receives 8 KiB from the guest");
		while (rx_next(&h, NULL, NULL) == 0)
			if (h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE && h.fwd_cnt == sent)
				got_update = 1;
		T_OK(got_update, "credit: forwarding a quarter of the buffer sends a CREDIT_UPDATE");
	}

	/* The guest ignores our credit: the host program reads nothing, its
	 * socket fills, the bridge buffers up to our credit, then resets. */
	{
		static uint8_t big[4096];
		int rst = 0, i;
		for (i = 0; i < 400 && !strstr(F.log, "beyond its credit"); i++)
			tx(VIRTIO_VSOCK_OP_RW, 1001, 7000, 3, 0, big, sizeof big, 8192, 5 + 12288);
		for (int round = 0; round < 4; round++) {
			rx_post(QN);
			while (rx_next(&h, NULL, NULL) == 0)
				if (h.op == VIRTIO_VSOCK_OP_RST && h.dst_port == 1001)
					rst = 1;
		}
		T_OK(rst && strstr(F.log, "beyond its credit"),
		     "credit: a guest sending beyond our credit is reset (after %d KiB)", i * 4);
		T_OK(host_eof_drain(fd, 1), "credit: ... and the host socket is closed");
		close(fd);
	}

	/* Half-close both ways, then RST ends it. */
	tx(VIRTIO_VSOCK_OP_REQUEST, 1002, 7000, 3, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7000, 1002, NULL), "shutdown: second connection accepted");
	fd = accept_wait(lfd);
	tx(VIRTIO_VSOCK_OP_RW, 1002, 7000, 3, 0, "last", 4, 65536, 0);
	tx(VIRTIO_VSOCK_OP_SHUTDOWN, 1002, 7000, 3, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0, 65536, 0);
	T_OK(host_read(fd, buf, 8) == 4 && !memcmp(buf, "last", 4) && host_eof(fd),
	     "shutdown: SHUTDOWN(SEND) from the guest is a half-close after the data");
	T_OK(send(fd, "bye", 3, 0) == 3 && shutdown(fd, SHUT_WR) == 0,
	     "shutdown: the host still answers, then half-closes");
	T_OK(rx_next(&h, buf, &len) == 0 && h.op == VIRTIO_VSOCK_OP_RW && len == 3,
	     "shutdown: the answer after the guest's half-close arrives");
	T_OK(expect_rx(VIRTIO_VSOCK_OP_SHUTDOWN, 7000, 1002, &h) && h.flags == VIRTIO_VSOCK_SHUTDOWN_SEND,
	     "shutdown: the host's half-close becomes SHUTDOWN(SEND)");
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7000, 1002, NULL),
	     "shutdown: both sides done: RST releases the connection");
	close(fd);

	/* The guest closes (SHUTDOWN both): RST and the host socket closes. */
	tx(VIRTIO_VSOCK_OP_REQUEST, 1003, 7000, 3, 0, NULL, 0, 65536, 0);
	expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7000, 1003, NULL);
	fd = accept_wait(lfd);
	tx(VIRTIO_VSOCK_OP_SHUTDOWN, 1003, 7000, 3, 3, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7000, 1003, NULL) && host_eof(fd),
	     "shutdown: SHUTDOWN(RCV|SEND) is acknowledged with RST and closes the host socket");
	close(fd);

	/* The host program closes first. */
	tx(VIRTIO_VSOCK_OP_REQUEST, 1004, 7000, 3, 0, NULL, 0, 65536, 0);
	expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7000, 1004, NULL);
	fd = accept_wait(lfd);
	close(fd);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_SHUTDOWN, 7000, 1004, NULL),
	     "shutdown: a host program closing sends SHUTDOWN to the guest");
	tx(VIRTIO_VSOCK_OP_RW, 1004, 7000, 3, 0, "late", 4, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7000, 1004, NULL), "shutdown: data to a closed host program gets RST");

	/* CID 2 works too; other CIDs are unreachable. */
	tx(VIRTIO_VSOCK_OP_REQUEST, 1005, 7000, 2, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7000, 1005, &h) && h.src_cid == 2,
	     "cid: destination CID 2 is the host too");
	fd = accept_wait(lfd);
	close(fd);
	expect_rx(VIRTIO_VSOCK_OP_SHUTDOWN, 7000, 1005, NULL);
	tx(VIRTIO_VSOCK_OP_RST, 1005, 7000, 2, 0, NULL, 0, 0, 0);
	tx(VIRTIO_VSOCK_OP_REQUEST, 1006, 7000, 5, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7000, 1006, &h) && h.src_cid == 5, "cid: other destination CIDs get RST");
	close(lfd);
}

static void test_host_to_guest(void)
{
	struct virtio_vsock_hdr h;
	struct cr_err e;
	uint8_t buf[64];
	uint32_t len, hp = 0;
	int fd, c2;
	char line[32];

	/* Drive the handshake by hand: vsock_client_connect would block the loop. */
	fd = unix_sock_connect(F.uds, 0, &e);
	T_OK(fd >= 0 && send(fd, "CONNECT 5000\nhello", 18, 0) == 18,
	     "host->guest: CONNECT line sent with data behind it");
	T_OK(expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 5000, &h) && h.src_cid == 3 && h.src_port >= (1u << 30),
	     "host->guest: the guest gets REQUEST from CID 3 and a host port >= 2^30");
	hp = h.src_port;
	tx(VIRTIO_VSOCK_OP_RESPONSE, 5000, hp, 3, 0, NULL, 0, 65536, 0);
	snprintf(line, sizeof line, "OK %u\n", hp);
	T_OK(host_read(fd, buf, strlen(line)) == (int)strlen(line) && !memcmp(buf, line, strlen(line)),
	     "host->guest: RESPONSE makes the bridge answer \"OK <hostport>\"");
	T_OK(rx_next(&h, buf, &len) == 0 && h.op == VIRTIO_VSOCK_OP_RW && len == 5 && !memcmp(buf, "hello", 5),
	     "host->guest: bytes after the CONNECT line are stream data");
	tx(VIRTIO_VSOCK_OP_RW, 5000, hp, 3, 0, "world", 5, 65536, 5);
	T_OK(host_read(fd, buf, 5) == 5 && !memcmp(buf, "world", 5),
	     "host->guest: the guest's answer reaches the host");
	tx(VIRTIO_VSOCK_OP_RST, 5000, hp, 3, 0, NULL, 0, 0, 0);
	T_OK(host_eof(fd), "host->guest: RST from the guest closes the host socket");
	close(fd);

	fd = unix_sock_connect(F.uds, 0, &e);
	send(fd, "CONNECT 5001\n", 13, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 5001, &h), "host->guest: REQUEST for a port nobody listens on");
	tx(VIRTIO_VSOCK_OP_RST, 5001, h.src_port, 3, 0, NULL, 0, 0, 0);
	T_OK(host_eof(fd), "host->guest: the guest's RST closes the socket without OK");
	close(fd);

	fd = unix_sock_connect(F.uds, 0, &e);
	send(fd, "CONNECT 99999999999\n", 20, 0);
	c2 = unix_sock_connect(F.uds, 0, &e);
	send(c2, "0123456789012345678901234567890123456789", 40, 0);
	T_OK(host_eof(fd) && host_eof(c2) && rx_empty(),
	     "host->guest: a bad port or a line without newline is closed, nothing reaches the guest");
	close(fd);
	close(c2);

	/* Handshakes are bounded (handshake_ms = 1500 here, checked each second). */
	fd = unix_sock_connect(F.uds, 0, &e);
	c2 = unix_sock_connect(F.uds, 0, &e);
	send(c2, "CONNECT 5003\n", 13, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 5003, &h), "handshake: REQUEST for a guest that will never answer");
	{
		int gone = 0;
		for (int i = 0; i < 80 && gone < 2; i++) {
			struct cr_err e2;
			char c;
			evloop_run_once(&F.loop, 50, &e2);
			gone = (recv(fd, &c, 1, MSG_DONTWAIT) == 0) + (recv(c2, &c, 1, MSG_DONTWAIT) == 0);
		}
		T_OK(gone == 2 && strstr(F.log, "sent no CONNECT line; it timed out") &&
			     strstr(F.log, "to the guest timed out"),
		     "handshake: a silent client and an unanswered REQUEST are closed after the deadline");
		T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, h.src_port, 5003, NULL),
		     "handshake: ... and the guest is sent RST");
	}
	close(fd);
	close(c2);

	fd = unix_sock_connect(F.uds, 0, &e);
	send(fd, "CONNECT 5002\n", 13, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 5002, &h), "host->guest: REQUEST for a third connection");
	tx(VIRTIO_VSOCK_OP_RW, 5002, h.src_port, 3, 0, "x", 1, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, h.src_port, 5002, NULL) && host_eof(fd),
	     "host->guest: data before RESPONSE resets the connection");
	close(fd);
}

static void test_bad_guest(void)
{
	struct virtio_vsock_hdr h = { .src_cid = CID,
				      .dst_cid = 3,
				      .src_port = 1,
				      .dst_port = 2,
				      .len = 100,
				      .type = 1,
				      .op = VIRTIO_VSOCK_OP_RW };
	struct vsock_bridge_stats st0, st;
	int lfd = host_listen(7100);

	vsock_bridge_stats(F.br, &st0);
	tx_raw(&h, 20, NULL, 0);
	tx_raw(&h, sizeof h, "abc", 3);
	h.src_cid = 99;
	h.len = 0;
	tx_raw(&h, sizeof h, NULL, 0);
	vsock_bridge_stats(F.br, &st);
	T_OK(st.bad_packets == st0.bad_packets + 3 && rx_empty(),
	     "bad guest: short header, length beyond the chain and a spoofed source CID are dropped");
	tx(VIRTIO_VSOCK_OP_RW, 4242, 7100, 3, 0, "zz", 2, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7100, 4242, NULL), "bad guest: data for an unknown connection gets RST");
	h = (struct virtio_vsock_hdr){ .src_cid = CID,
				       .dst_cid = 3,
				       .src_port = 4243,
				       .dst_port = 7100,
				       .type = 2,
				       .op = VIRTIO_VSOCK_OP_REQUEST };
	tx_raw(&h, sizeof h, NULL, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7100, 4243, NULL), "bad guest: SEQPACKET (not negotiated) gets RST");
	tx(VIRTIO_VSOCK_OP_REQUEST, 4244, 7100, 3, 0, NULL, 0, 65536, 0);
	expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7100, 4244, NULL);
	tx(42, 4244, 7100, 3, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RST, 7100, 4244, NULL), "bad guest: an unknown op resets the connection");

	/* Bad descriptors on the TX queue: returned unused, nothing else happens. */
	{
		unsigned d = 60;
		uint16_t used_before = gused(TXQ)->idx;
		*gdesc(TXQ, d) = (struct vring_desc){ .addr = RAM + 4096, .len = 64 };
		offer(TXQ, (uint16_t)d);
		*gdesc(TXQ, d + 1) = (struct vring_desc){
			.addr = TXBUF_OFF(0), .len = 64, .flags = VRING_DESC_F_NEXT, .next = (uint16_t)(d + 1)
		};
		offer(TXQ, (uint16_t)(d + 1));
		kick(TXQ);
		T_OK(gused(TXQ)->idx == (uint16_t)(used_before + 2) && gused(TXQ)->ring[used_before % QN].len == 0,
		     "bad guest: chains with out-of-range or looping descriptors are returned unused");
		T_OK(strstr(F.log, "malformed descriptor chain") != NULL, "bad guest: ... and logged");
	}
	/* A tiny RX buffer cannot take a packet: it is returned unused when its
	 * turn comes (after the buffers posted before it). */
	{
		struct virtio_vsock_hdr r;
		unsigned i = F.avail_idx[RXQ] % QN, sent = 0, rsts = 0;
		vsock_bridge_stats(F.br, &st0);
		if ((uint16_t)(F.avail_idx[RXQ] - F.used_seen[RXQ]) < QN) {
			*gdesc(RXQ, i) =
				(struct vring_desc){ .addr = RXBUF_OFF(i), .len = 8, .flags = VRING_DESC_F_WRITE };
			offer(RXQ, (uint16_t)i);
			kick(RXQ);
		}
		for (st = st0; st.bad_rx_buffers == st0.bad_rx_buffers && sent < QN + 2; sent++) {
			tx(VIRTIO_VSOCK_OP_RW, 5000 + sent, 7100, 3, 0, "zz", 2, 65536, 0);
			vsock_bridge_stats(F.br, &st);
		}
		for (int round = 0; round < 4; round++) {
			while (rx_next(&r, NULL, NULL) == 0)
				rsts += r.op == VIRTIO_VSOCK_OP_RST;
			rx_post(QN);
		}
		T_OK(st.bad_rx_buffers == st0.bad_rx_buffers + 1 && rsts == sent,
		     "bad guest: an RX buffer smaller than a header is returned unused; every reset still arrives "
		     "(%u/%u)",
		     rsts, sent);
	}
	/* A broken TX ring (index running ahead) stops only that queue. */
	{
		gavail(TXQ)->idx = (uint16_t)(F.avail_idx[TXQ] + QN + 5);
		kick(TXQ);
		T_OK(strstr(F.log, "runs") && strstr(F.log, "queue 1"),
		     "bad guest: a broken TX ring is reported, the bridge lives on");
	}
	close(lfd);
}

static void test_reset_and_frontend(void)
{
	struct virtio_vsock_hdr h;
	struct vsock_bridge_stats st;
	int lfd, fd;

	/* Restart the device as a guest driver reset does: connections go. */
	fe_stop();
	vsock_bridge_stats(F.br, &st);
	T_OK(!st.running && st.guest_resets == 1, "reset: GET_VRING_BASE stops the queues");
	T_OK(fe_start() == 0, "reset: the device starts again");
	rx_post(QN / 2);
	lfd = host_listen(7200);
	tx(VIRTIO_VSOCK_OP_REQUEST, 2000, 7200, 3, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7200, 2000, &h), "reset: new connections work after a restart");
	fd = accept_wait(lfd);
	fe_stop();
	T_OK(host_eof(fd), "reset: a driver reset closes the host sockets of open connections");
	close(fd);
	vsock_bridge_stats(F.br, &st);
	T_OK(st.conns_open == 0, "reset: no connection survives a reset");

	/* Front-end misbehaviour. */
	fe_start();
	{
		uint64_t bad = 1ull << 5;
		fe_send(2, &bad, sizeof bad, NULL, 0, 1);
		uint64_t ack = 0;
		T_OK(fe_reply(2, &ack, sizeof ack) == 8 && ack == 1,
		     "front-end: SET_FEATURES with unoffered bits is NACKed");
		uint32_t s[2] = { 7, 64 };
		fe_send(8, s, sizeof s, NULL, 0, 1);
		T_OK(fe_reply(8, &ack, sizeof ack) == 8 && ack == 1, "front-end: a queue index beyond 2 is NACKed");
		s[0] = 0;
		s[1] = 100;
		fe_send(8, s, sizeof s, NULL, 0, 1);
		T_OK(fe_reply(8, &ack, sizeof ack) == 8 && ack == 1,
		     "front-end: a queue size that is not a power of two is NACKed");
		struct {
			uint32_t n, pad;
			uint64_t gpa, size, uva, off;
		} mt = { 1, 0, 0, RAM * 2ull, 0x1000, 0 };
		fe_send(5, &mt, sizeof mt, &F.memfd, 1, 1);
		T_OK(fe_reply(5, &ack, sizeof ack) == 8 && ack == 1,
		     "front-end: a memory region beyond its file is NACKed");
		fe_send(5, &mt, sizeof mt, NULL, 0, 1);
		T_OK(fe_reply(5, &ack, sizeof ack) == 8 && ack == 1, "front-end: a memory table without fds is NACKed");
	}
	fe_send(40, NULL, 0, NULL, 0, 0);
	{
		char c;
		T_OK(recv(F.sock, &c, 1, 0) == 0, "front-end: an unexpected request type closes the connection");
	}
	vsock_bridge_stats(F.br, &st);
	T_OK(vsock_bridge_disconnected(F.br) && !st.running, "front-end: the bridge notices the disconnect");
	close(F.sock);
	T_OK(fe_connect() == 0 && fe_start() == 0, "front-end: a new front-end can connect afterwards");
	rx_post(QN / 2);
	tx(VIRTIO_VSOCK_OP_REQUEST, 2001, 7200, 3, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7200, 2001, NULL), "front-end: ... and the bridge works again");
	close(lfd);
}

/* The guest sees its used RX buffers and forgets them. */
static void rx_drain(void)
{
	F.used_seen[RXQ] = __atomic_load_n(&gused(RXQ)->idx, __ATOMIC_ACQUIRE);
}

/* A guest that never closes its end cannot keep connections whose host
 * program is gone (close_ms = 300 here), nor take the table's last eighth
 * (max_conns = 64 here: 56 for the guest). */
static void test_guest_keeps_conns(void)
{
	struct virtio_vsock_hdr h;
	struct vsock_bridge_stats st0, st;
	struct cr_err e;
	uint8_t buf[64];
	uint32_t len;
	int lfd = host_listen(7300), fd, fds[64], n = 0, refused = 0, freed = 0;

	vsock_bridge_stats(F.br, &st0);
	tx(VIRTIO_VSOCK_OP_REQUEST, 3000, 7300, 2, 0, NULL, 0, 65536, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7300, 3000, NULL), "close: guest connection accepted");
	fd = accept_wait(lfd);
	T_OK(send(fd, "answer", 6, 0) == 6 && close(fd) == 0, "close: the host program answers and closes");
	T_OK(rx_next(&h, buf, &len) == 0 && h.op == VIRTIO_VSOCK_OP_RW && len == 6,
	     "close: the answer reaches the guest");
	T_OK(expect_rx(VIRTIO_VSOCK_OP_SHUTDOWN, 7300, 3000, &h) &&
		     h.flags == (VIRTIO_VSOCK_SHUTDOWN_SEND | VIRTIO_VSOCK_SHUTDOWN_RCV),
	     "close: a closed host socket becomes SHUTDOWN(SEND|RCV)");
	for (int i = 0; i < 60 && !freed; i++) {
		evloop_run_once(&F.loop, 50, &e);
		vsock_bridge_stats(F.br, &st);
		freed = st.conns_open == st0.conns_open;
	}
	T_OK(freed && expect_rx(VIRTIO_VSOCK_OP_RST, 7300, 3000, NULL),
	     "close: the guest never closing its end gets RST and the connection is freed");

	/* Guest connections whose host side stays open: 56 of 64, then RST. */
	for (uint32_t p = 3100; p < 3100 + 64 && !refused; p++) {
		tx(VIRTIO_VSOCK_OP_REQUEST, p, 7300, 2, 0, NULL, 0, 65536, 0);
		if (rx_next(&h, NULL, NULL) || h.op != VIRTIO_VSOCK_OP_RESPONSE) {
			refused = 1;
			break;
		}
		fds[n++] = accept_wait(lfd);
		rx_drain();
		rx_post(QN);
	}
	T_OK(refused && n == 56, "table: the guest may open 56 of 64 connections (%d)", n);
	fd = unix_sock_connect(F.uds, 0, &e);
	T_OK(fd >= 0 && send(fd, "CONNECT 5010\n", 13, 0) == 13 && expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 5010, &h),
	     "table: a host program still reaches the guest");
	tx(VIRTIO_VSOCK_OP_RST, 5010, h.src_port, 3, 0, NULL, 0, 0, 0);
	close(fd);
	for (int i = 0; i < n; i++) {
		tx(VIRTIO_VSOCK_OP_RST, 3100 + (uint32_t)i, 7300, 2, 0, NULL, 0, 0, 0);
		close(fds[i]);
	}
	rx_drain();
	rx_post(QN);
	pump();
	vsock_bridge_stats(F.br, &st);
	T_OK(st.conns_open == st0.conns_open, "table: every connection is gone after the guest's RSTs");
	close(lfd);
}

/* After the host program closed, a guest reading slowly (more slowly than
 * close_ms in all) still gets everything the program wrote: close_ms counts
 * from the last data it took. Once it stops taking data and keeps its end
 * open, it is reset all the same. */
static void test_close_slow_reader(void)
{
	static uint8_t big[100000];
	struct virtio_vsock_hdr h;
	struct cr_err e;
	uint8_t buf[8192];
	uint32_t len, total = 0;
	size_t sent = 0;
	int lfd = host_listen(7400), fd, rst = 0, sb = 1 << 20;
	tx(VIRTIO_VSOCK_OP_REQUEST, 3500, 7400, 2, 0, NULL, 0, 4096, 0);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 7400, 3500, NULL), "slow reader: connection accepted");
	fd = accept_wait(lfd);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (sent < sizeof big) {
		ssize_t w = send(fd, big + sent, sizeof big - sent, 0);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	close(fd);
	/* 4 KiB of credit every 100 ms: about 2.5 s in all, close_ms is 300 */
	for (int i = 0; i < 60 && !rst && total < sent; i++) {
		uint64_t t0 = cr_mono_ms();
		while (cr_mono_ms() - t0 < 100)
			evloop_run_once(&F.loop, 20, &e);
		/* what has arrived, without waiting (rx_next waits for more) */
		while (__atomic_load_n(&gused(RXQ)->idx, __ATOMIC_ACQUIRE) != F.used_seen[RXQ] &&
		       rx_next(&h, buf, &len) == 0) {
			if (h.op == VIRTIO_VSOCK_OP_RW)
				total += len;
			if (h.op == VIRTIO_VSOCK_OP_RST)
				rst = 1;
		}
		rx_drain();
		rx_post(QN);
		tx(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 3500, 7400, 2, 0, NULL, 0, 4096, total);
	}
	T_OK(!rst && total == sent && sent == sizeof big,
	     "slow reader: all %zu bytes the host program wrote before closing arrive (%u, reset %d)", sent, total,
	     rst);
	for (uint64_t t0 = cr_mono_ms(); !rst && cr_mono_ms() - t0 < 3000;) {
		evloop_run_once(&F.loop, 20, &e);
		while (__atomic_load_n(&gused(RXQ)->idx, __ATOMIC_ACQUIRE) != F.used_seen[RXQ] &&
		       rx_next(&h, buf, &len) == 0)
			if (h.op == VIRTIO_VSOCK_OP_RST)
				rst = 1;
		rx_drain();
		rx_post(QN);
	}
	T_OK(rst, "slow reader: keeping its end open afterwards, the guest is reset after close_ms");
	close(lfd);
}

/* Out of descriptors with a host client waiting: the listener is paused
 * (the loop waits instead of spinning) and serves the client afterwards. */
static void test_fd_exhaustion(void)
{
	struct rlimit old, low;
	struct virtio_vsock_hdr h;
	struct cr_err e;
	int fd = unix_sock_connect(F.uds, 0, &e), fill[64], nfill = 0, wakes = 0, full;
	uint64_t t0;

	T_OK(fd >= 0 && send(fd, "CONNECT 5020\n", 13, 0) == 13, "fds: a host client waits in the backlog");
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)fd + 8;
	setrlimit(RLIMIT_NOFILE, &low);
	while (nfill < 64 && (fill[nfill] = dup(0)) >= 0)
		nfill++;
	full = errno == EMFILE;
	t0 = cr_mono_ms();
	while (cr_mono_ms() - t0 < 300) {
		evloop_run_once(&F.loop, 50, &e);
		wakes++;
	}
	T_OK(full && wakes < 30, "fds: out of descriptors, the loop waits (%d wake-ups in 300 ms)", wakes);
	while (nfill > 0)
		close(fill[--nfill]);
	setrlimit(RLIMIT_NOFILE, &old);
	T_OK(expect_rx(VIRTIO_VSOCK_OP_REQUEST, 0, 5020, &h), "fds: with descriptors back the client is served");
	tx(VIRTIO_VSOCK_OP_RST, 5020, h.src_port, 3, 0, NULL, 0, 0, 0);
	close(fd);
}

/* Fill the stack below the caller with words that read as an SCM_RIGHTS
 * header claiming a huge fd array: a receive path that parsed control
 * messages it never received would crash or close fd 1. */
static __attribute__((noinline)) void poison_stack(void)
{
	volatile uint64_t w[8192];
	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
		w[i] = 0x0000000100000001ull; /* cmsg_level = SOL_SOCKET, cmsg_type = SCM_RIGHTS */
}

/* A front-end that leaves with a reply unread makes our recvmsg fail with
 * ECONNRESET: no control data is parsed, the connection is dropped. */
static void test_frontend_reset(void)
{
	struct cr_err e;
	uint64_t proto = 1;
	struct stat sb;
	F.log[0] = 0;
	fe_send(15, NULL, 0, NULL, 0, 0); /* GET_PROTOCOL_FEATURES: its reply stays unread */
	fe_send(16, &proto, sizeof proto, NULL, 0, 0);
	close(F.sock);
	poison_stack();
	evloop_run_once(&F.loop, 100, &e);
	T_OK(strstr(F.log, "recvmsg") && strstr(F.log, "reset") && vsock_bridge_disconnected(F.br),
	     "front-end: a failed recvmsg (ECONNRESET) closes the connection without parsing control data");
	T_OK(fstat(1, &sb) == 0, "front-end: ... and closes none of our descriptors");
	T_OK(fe_connect() == 0 && fe_start() == 0, "front-end: a new front-end can connect after the reset");
	rx_post(QN / 2);
}

/* Guest-triggered log lines are rate-limited; the summary line comes at
 * the end of the window or at stop (checked in main). */
static void test_log_flood(void)
{
	unsigned before = F.nlog;
	for (unsigned i = 0; i < 300; i++) {
		tx(VIRTIO_VSOCK_OP_REQUEST, 10000 + i, 4444, 3, 0, NULL, 0, 65536, 0);
		rx_drain();
		rx_post(QN);
	}
	T_OK(F.nlog - before <= 20, "log: 300 refused guest connections write at most 20 lines (%u)", F.nlog - before);
	/* No RX buffers: resets pile up past the queue of 4096 and are dropped. */
	before = F.nlog;
	for (unsigned i = 0; i < 4200; i++)
		tx(VIRTIO_VSOCK_OP_RW, 20000 + i, 4445, 3, 0, "x", 1, 65536, 0);
	T_OK(F.nlog - before <= 1, "log: dropped resets are not logged one by one (%u lines)", F.nlog - before);
	for (int k = 0; k < 80; k++) {
		rx_drain();
		rx_post(QN);
	}
}

static void test_client_helper(void)
{
	struct cr_err e;
	char path[160];
	uint32_t hp;
	snprintf(path, sizeof path, "%s/nothing", F.dir);
	T_OK(vsock_client_connect(path, 5000, 300, &hp, &e) == -1 && strstr(e.msg, "not running"),
	     "client: no bridge socket: fails after the timeout, saying why");
	/* A fake bridge that answers in a child process. */
	snprintf(path, sizeof path, "%s/fake", F.dir);
	int lfd = unix_sock_listen(path, 4, &e);
	pid_t pid = fork();
	if (pid == 0) {
		char buf[64];
		int fl = fcntl(lfd, F_GETFL);
		fcntl(lfd, F_SETFL, fl & ~O_NONBLOCK);
		int c = accept(lfd, NULL, NULL); /* refused once */
		close(c);
		c = accept(lfd, NULL, NULL);
		ssize_t n = recv(c, buf, sizeof buf, 0);
		if (n == 13 && !memcmp(buf, "CONNECT 5000\n", 13))
			send(c, "OK 1073741825\nstream", 20, 0);
		usleep(100000);
		_exit(0);
	}
	int fd = vsock_client_connect(path, 5000, 5000, &hp, &e);
	char buf[8] = { 0 };
	T_OK(fd >= 0 && hp == 1073741825 && recv(fd, buf, 6, MSG_WAITALL) == 6 && !memcmp(buf, "stream", 6),
	     "client: retries after a refusal, parses OK and leaves the stream untouched");
	if (fd < 0)
		printf("# %s\n", e.msg);
	close(fd);
	waitpid(pid, NULL, 0);
	close(lfd);
	unlink(path);
}

int main(void)
{
	struct vsock_bridge_cfg cfg = { .guest_cid = CID,
					.buf_alloc = BUF_ALLOC,
					.handshake_ms = 1500,
					.close_ms = 300,
					.max_conns = 64,
					.log = test_log };
	struct cr_err e;

	signal(SIGPIPE, SIG_IGN);
	snprintf(F.dir, sizeof F.dir, "/tmp/cr-vsock-XXXXXX");
	if (!mkdtemp(F.dir))
		return 1;
	snprintf(F.uds, sizeof F.uds, "%s/v.sock", F.dir);
	snprintf(F.vhost, sizeof F.vhost, "%s/vhost.sock", F.dir);
	cfg.uds_path = F.uds;
	cfg.vhost_path = F.vhost;
	F.memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (F.memfd < 0 || ftruncate(F.memfd, RAM) ||
	    (F.ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_SHARED, F.memfd, 0)) == MAP_FAILED)
		return 1;
	for (int q = 0; q < 2; q++) {
		F.kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		F.call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	}
	cfg.guest_cid = 3;
	T_OK(evloop_init(&F.loop, &e) == 0 && vsock_bridge_start(&F.br, &F.loop, &cfg, &e) == -1 &&
		     strstr(e.msg, "CID 3"),
	     "start: guest CID 3 (the parent's) is refused");
	cfg.guest_cid = CID;
	T_OK(vsock_bridge_start(&F.br, &F.loop, &cfg, &e) == 0, "start: the bridge starts");
	T_OK(vsock_bridge_start(&(struct vsock_bridge *){ 0 }, &F.loop, &cfg, &e) == -1 && strstr(e.msg, "bind"),
	     "start: a second bridge on the same paths is refused");
	if (!F.br || fe_connect())
		return 1;
	test_handshake();
	test_guest_to_host();
	test_host_to_guest();
	test_bad_guest();
	test_reset_and_frontend();
	test_frontend_reset();
	test_guest_keeps_conns();
	test_close_slow_reader();
	test_fd_exhaustion();
	test_log_flood();
	test_client_helper();
	F.log[0] = 0;
	vsock_bridge_stop(F.br);
	T_OK(strstr(F.log, "more messages about the guest suppressed") != NULL,
	     "log: stop writes how many guest-triggered lines were suppressed");
	{
		struct stat sb;
		T_OK(stat(F.uds, &sb) != 0 && stat(F.vhost, &sb) != 0, "stop: both sockets are removed");
	}
	close(F.sock);
	evloop_free(&F.loop);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", F.dir);
	if (system(cmd)) {
	}
	return t_done();
}
