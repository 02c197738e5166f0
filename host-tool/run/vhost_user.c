/* vhost-user back-end control plane (see vhost_user.h). */
#include "host-tool/run/vhost_user.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/unix_sock.h"

/* Request numbers (vhost-user.rst, "Front-end message types"). */
enum {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_RESET_OWNER = 4,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_LOG_FD = 7,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_SET_VRING_ERR = 14,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
	VU_GET_CONFIG = 24,
	VU_SET_CONFIG = 25,
	VU_MAX_REQUEST = 64, /* beyond anything specified: surely a broken peer */
};

#define VU_VERSION 0x1u
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)

#define VU_PROTO_MQ 0
#define VU_PROTO_REPLY_ACK 3
#define VU_PROTO_CONFIG 9
#define VU_PROTOCOL_FEATURES ((1ull << VU_PROTO_MQ) | (1ull << VU_PROTO_REPLY_ACK) | (1ull << VU_PROTO_CONFIG))

#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD (1u << 8)
#define VU_VRING_F_LOG 0 /* SET_VRING_ADDR flag bit: logging */

#define VU_MAX_FDS 8
#define VU_MAX_PAYLOAD 512 /* memory table is 264 bytes, config 268 */

struct vu_hdr {
	uint32_t request, flags, size;
};
struct vu_state {
	uint32_t index, num;
};
struct vu_addr {
	uint32_t index, flags;
	uint64_t desc, used, avail, log;
};
struct vu_region {
	uint64_t gpa, size, uva, mmap_offset;
};
struct vu_config_hdr {
	uint32_t offset, size, flags;
};

/* One received request. */
struct vu_msg {
	struct vu_hdr h;
	uint8_t payload[VU_MAX_PAYLOAD];
	int fds[VU_MAX_FDS];
	unsigned nfds;
};

static void vu_log(struct vu_dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vu_log(struct vu_dev *d, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	if (!d->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	d->ops->log(d->ctx, line);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void msg_close_fds(struct vu_msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		close_fd(&m->fds[i]);
	m->nfds = 0;
}

/* Take the single fd of m (the caller owns it afterwards). */
static int msg_take_fd(struct vu_msg *m)
{
	int fd;
	if (m->nfds != 1)
		return -1;
	fd = m->fds[0];
	m->fds[0] = -1;
	m->nfds = 0;
	return fd;
}

void vu_dev_init(struct vu_dev *d, struct evloop *loop, const struct vu_ops *ops, void *ctx)
{
	memset(d, 0, sizeof *d);
	d->loop = loop;
	d->ops = ops;
	d->ctx = ctx;
	d->listen_fd = -1;
	d->fd = -1;
	guest_mem_init(&d->mem);
	for (unsigned i = 0; i < VU_MAX_QUEUES; i++) {
		struct vu_vring *vr = &d->vr[i];
		vr->dev = d;
		vr->idx = i;
		vr->kick_fd = vr->err_fd = -1;
		virtq_init(&vr->vq);
	}
}

struct virtq *vu_queue(struct vu_dev *d, unsigned idx)
{
	if (idx >= VU_MAX_QUEUES || !d->vr[idx].vq.ready)
		return NULL;
	return &d->vr[idx].vq;
}

void vu_queue_error(struct vu_dev *d, unsigned idx)
{
	struct vu_vring *vr;
	uint64_t one = 1;
	if (idx >= VU_MAX_QUEUES)
		return;
	vr = &d->vr[idx];
	if (vr->err_signalled)
		return;
	vr->err_signalled = 1;
	vu_log(d, "queue %u: %s; the queue is stopped until the guest resets the device", idx, vr->vq.err.msg);
	if (vr->err_fd >= 0 && write(vr->err_fd, &one, sizeof one) < 0) {
		/* Nothing more to do: the log line above says it all. */
	}
}

/* ------------------------------------------------------------ queue state */

static void kick_cb(struct evsrc *s, uint32_t events);

/* Start or stop the queue to match what we have been told. */
static void vring_update(struct vu_dev *d, struct vu_vring *vr)
{
	int want = vr->started && vr->enabled && vr->have_addr && vr->num && d->mem.n;
	struct cr_err e;

	if (want && !vr->vq.ready) {
		if (virtq_setup(&vr->vq, &d->mem, vr->num, vr->desc, vr->avail, vr->used, vr->base, &e)) {
			vu_log(d, "queue %u cannot start: %s", vr->idx, e.msg);
			return;
		}
		vr->err_signalled = 0;
		if (d->ops->queue_state)
			d->ops->queue_state(d->ctx, vr->idx, 1);
	} else if (!want && vr->vq.ready) {
		vr->base = virtq_stop(&vr->vq);
		if (d->ops->queue_state)
			d->ops->queue_state(d->ctx, vr->idx, 0);
	}
}

static void vring_stop(struct vu_dev *d, struct vu_vring *vr)
{
	vr->started = 0;
	vring_update(d, vr);
	evloop_del(d->loop, &vr->kick_src);
	close_fd(&vr->kick_fd);
}

static void kick_cb(struct evsrc *s, uint32_t events)
{
	struct vu_vring *vr = EVLOOP_OWNER(s, struct vu_vring, kick_src);
	struct vu_dev *d = vr->dev;
	uint64_t v;
	(void)events;
	/* Drain the eventfd; a kick on a stopped queue is remembered by the
	 * guest's ring state, which a starting queue scans anyway. */
	while (read(vr->kick_fd, &v, sizeof v) < 0 && errno == EINTR) {
	}
	if (vr->vq.ready && d->ops->queue_kick)
		d->ops->queue_kick(d->ctx, vr->idx);
}

/* Memory changed: re-translate the rings of running queues. */
static void remap_rings(struct vu_dev *d)
{
	for (unsigned i = 0; i < VU_MAX_QUEUES; i++) {
		struct vu_vring *vr = &d->vr[i];
		if (vr->vq.ready) {
			vr->base = virtq_stop(&vr->vq);
			if (d->ops->queue_state)
				d->ops->queue_state(d->ctx, i, 0);
		}
		vring_update(d, vr);
	}
}

/* ------------------------------------------------------------ replies */

static int send_reply(struct vu_dev *d, const struct vu_msg *req, const void *payload, uint32_t size)
{
	uint8_t buf[sizeof(struct vu_hdr) + VU_MAX_PAYLOAD];
	struct vu_hdr h = { .request = req->h.request, .flags = VU_VERSION | VU_FLAG_REPLY, .size = size };
	size_t n = sizeof h + size;
	memcpy(buf, &h, sizeof h);
	if (size)
		memcpy(buf + sizeof h, payload, size);
	if (cr_write_all(d->fd, buf, n) != 0) {
		vu_log(d, "cannot reply to request %u: %s", req->h.request, strerror(errno));
		return -1;
	}
	return 0;
}

static int reply_u64(struct vu_dev *d, const struct vu_msg *req, uint64_t v)
{
	return send_reply(d, req, &v, sizeof v);
}

/* ------------------------------------------------------------ requests */

/* A request's handler returns 0 (done), -1 (refused: NACK if asked) or -2
 * (protocol violation: drop the connection). Handlers that send their own
 * reply set *replied. */
struct req_ctx {
	struct vu_dev *d;
	struct vu_msg *m;
	int replied;
	struct cr_err e;
};

static int need_size(struct req_ctx *c, uint32_t size)
{
	if (c->m->h.size != size) {
		cr_fail(&c->e, "request %u: payload of %u bytes, expected %u", c->m->h.request, c->m->h.size, size);
		return -1;
	}
	return 0;
}

static uint64_t offered_features(const struct vu_dev *d)
{
	return (1ull << VU_F_VERSION_1) | (1ull << VU_F_PROTOCOL_FEATURES) | d->ops->device_features;
}

static int payload_u64(struct req_ctx *c, uint64_t *v)
{
	if (need_size(c, sizeof *v))
		return -1;
	memcpy(v, c->m->payload, sizeof *v);
	return 0;
}

/* The vring a state/u64 payload names, or NULL (message in c->e). */
static struct vu_vring *vring_of(struct req_ctx *c, uint32_t index)
{
	if (index >= c->d->ops->nqueues) {
		cr_fail(&c->e, "request %u names queue %u; the device has %u", c->m->h.request, index,
			c->d->ops->nqueues);
		return NULL;
	}
	return &c->d->vr[index];
}

static int req_set_features(struct req_ctx *c)
{
	uint64_t v;
	if (payload_u64(c, &v))
		return -1;
	if (v & ~offered_features(c->d))
		return cr_fail(&c->e, "SET_FEATURES 0x%llx asks for features not offered (0x%llx)",
			       (unsigned long long)v, (unsigned long long)offered_features(c->d));
	c->d->features = v;
	return 0;
}

static int req_set_protocol_features(struct req_ctx *c)
{
	uint64_t v;
	if (payload_u64(c, &v))
		return -1;
	if (v & ~VU_PROTOCOL_FEATURES)
		return cr_fail(&c->e, "SET_PROTOCOL_FEATURES 0x%llx asks for features not offered",
			       (unsigned long long)v);
	c->d->protocol_features = v;
	return 0;
}

static int req_set_mem_table(struct req_ctx *c)
{
	struct vu_dev *d = c->d;
	uint32_t n;
	struct guest_mem mem;

	if (c->m->h.size < 8)
		return cr_fail(&c->e, "SET_MEM_TABLE: payload of %u bytes", c->m->h.size);
	memcpy(&n, c->m->payload, sizeof n);
	if (n == 0 || n > GUEST_MEM_MAX_REGIONS)
		return cr_fail(&c->e, "SET_MEM_TABLE: %u regions (1..%d allowed)", n, GUEST_MEM_MAX_REGIONS);
	if (need_size(c, 8 + n * (uint32_t)sizeof(struct vu_region)))
		return -1;
	if (c->m->nfds != n)
		return cr_fail(&c->e, "SET_MEM_TABLE: %u regions but %u file descriptors", n, c->m->nfds);
	guest_mem_init(&mem);
	for (uint32_t i = 0; i < n; i++) {
		struct vu_region r;
		memcpy(&r, c->m->payload + 8 + i * sizeof r, sizeof r);
		if (guest_mem_add_fd(&mem, r.gpa, r.size, r.uva, r.mmap_offset, c->m->fds[i], &c->e)) {
			guest_mem_clear(&mem);
			return -1;
		}
	}
	/* Rings point into the old mapping: stop them before it goes. */
	for (unsigned i = 0; i < VU_MAX_QUEUES; i++)
		if (d->vr[i].vq.ready) {
			d->vr[i].base = virtq_stop(&d->vr[i].vq);
			if (d->ops->queue_state)
				d->ops->queue_state(d->ctx, i, 0);
		}
	guest_mem_clear(&d->mem);
	d->mem = mem;
	remap_rings(d);
	return 0;
}

static int req_vring_state(struct req_ctx *c)
{
	struct vu_state s;
	struct vu_vring *vr;
	if (need_size(c, sizeof s))
		return -1;
	memcpy(&s, c->m->payload, sizeof s);
	if (!(vr = vring_of(c, s.index)))
		return -1;
	switch (c->m->h.request) {
	case VU_SET_VRING_NUM:
		if (s.num == 0 || s.num > VIRTQ_MAX_SIZE || (s.num & (s.num - 1)))
			return cr_fail(&c->e, "SET_VRING_NUM %u for queue %u: not a power of two in 1..%d", s.num,
				       s.index, VIRTQ_MAX_SIZE);
		if (vr->vq.ready)
			return cr_fail(&c->e, "SET_VRING_NUM on running queue %u", s.index);
		vr->num = s.num;
		return 0;
	case VU_SET_VRING_BASE:
		if (s.num > 0xffff)
			return cr_fail(&c->e, "SET_VRING_BASE %u for queue %u: above 65535", s.num, s.index);
		if (vr->vq.ready)
			return cr_fail(&c->e, "SET_VRING_BASE on running queue %u", s.index);
		vr->base = (uint16_t)s.num;
		return 0;
	case VU_GET_VRING_BASE:
		vring_stop(c->d, vr);
		s.num = vr->base;
		c->replied = 1;
		return send_reply(c->d, c->m, &s, sizeof s) ? -2 : 0;
	case VU_SET_VRING_ENABLE:
		if (s.num > 1)
			return cr_fail(&c->e, "SET_VRING_ENABLE %u for queue %u", s.num, s.index);
		vr->enabled = (int)s.num;
		vring_update(c->d, vr);
		return 0;
	}
	return -1;
}

static int req_set_vring_addr(struct req_ctx *c)
{
	struct vu_addr a;
	struct vu_vring *vr;
	if (need_size(c, sizeof a))
		return -1;
	memcpy(&a, c->m->payload, sizeof a);
	if (!(vr = vring_of(c, a.index)))
		return -1;
	if (a.flags & (1u << VU_VRING_F_LOG))
		return cr_fail(&c->e, "SET_VRING_ADDR asks for dirty logging on queue %u, which is not supported",
			       a.index);
	vr->desc = a.desc;
	vr->avail = a.avail;
	vr->used = a.used;
	vr->have_addr = 1;
	if (vr->vq.ready) { /* new addresses for a running queue */
		vr->base = virtq_stop(&vr->vq);
		if (c->d->ops->queue_state)
			c->d->ops->queue_state(c->d->ctx, vr->idx, 0);
	}
	vring_update(c->d, vr);
	return 0;
}

static int req_vring_fd(struct req_ctx *c)
{
	struct vu_dev *d = c->d;
	struct vu_vring *vr;
	uint64_t v;
	int fd = -1;

	if (payload_u64(c, &v))
		return -1;
	if (v & ~(uint64_t)(VU_VRING_IDX_MASK | VU_VRING_NOFD))
		return cr_fail(&c->e, "request %u: unknown bits in 0x%llx", c->m->h.request, (unsigned long long)v);
	if (!(vr = vring_of(c, (uint32_t)(v & VU_VRING_IDX_MASK))))
		return -1;
	if (!(v & VU_VRING_NOFD) && (fd = msg_take_fd(c->m)) < 0)
		return cr_fail(&c->e, "request %u for queue %u: expected one file descriptor, got %u", c->m->h.request,
			       vr->idx, c->m->nfds);
	switch (c->m->h.request) {
	case VU_SET_VRING_KICK:
		if (fd < 0)
			return cr_fail(&c->e, "SET_VRING_KICK without a file descriptor (polling) is not supported");
		evloop_del(d->loop, &vr->kick_src);
		close_fd(&vr->kick_fd);
		vr->kick_fd = fd;
		if (evloop_add(d->loop, &vr->kick_src, fd, EPOLLIN, kick_cb, &c->e)) {
			close_fd(&vr->kick_fd);
			return -1;
		}
		vr->started = 1;
		if (!(d->features & (1ull << VU_F_PROTOCOL_FEATURES)))
			vr->enabled = 1; /* rings start enabled without protocol features */
		vring_update(d, vr);
		return 0;
	case VU_SET_VRING_CALL:
		close_fd(&vr->vq.call_fd);
		vr->vq.call_fd = fd;
		return 0;
	case VU_SET_VRING_ERR:
		close_fd(&vr->err_fd);
		vr->err_fd = fd;
		return 0;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static int req_get_config(struct req_ctx *c)
{
	struct vu_config_hdr h;
	uint8_t out[sizeof h + VU_MAX_CONFIG];

	c->replied = 1;
	if (c->m->h.size < sizeof h)
		return send_reply(c->d, c->m, NULL, 0) ? -2 : -1;
	memcpy(&h, c->m->payload, sizeof h);
	if (h.size > VU_MAX_CONFIG || c->m->h.size != sizeof h + h.size || !c->d->ops->get_config ||
	    c->d->ops->get_config(c->d->ctx, h.offset, out + sizeof h, h.size)) {
		vu_log(c->d, "GET_CONFIG offset %u size %u refused", h.offset, h.size);
		return send_reply(c->d, c->m, NULL, 0) ? -2 : 0;
	}
	memcpy(out, &h, sizeof h);
	return send_reply(c->d, c->m, out, (uint32_t)(sizeof h + h.size)) ? -2 : 0;
}

static int handle_request(struct vu_dev *d, struct vu_msg *m)
{
	struct req_ctx c = { .d = d, .m = m };
	int rc;

	switch (m->h.request) {
	case VU_GET_FEATURES:
		c.replied = 1;
		rc = reply_u64(d, m, offered_features(d)) ? -2 : 0;
		break;
	case VU_SET_FEATURES: rc = req_set_features(&c); break;
	case VU_SET_OWNER: rc = need_size(&c, 0); break;
	case VU_RESET_OWNER: /* deprecated; the spec suggests disabling the rings */
		for (unsigned i = 0; i < VU_MAX_QUEUES; i++)
			vring_stop(d, &d->vr[i]);
		rc = 0;
		break;
	case VU_GET_PROTOCOL_FEATURES:
		c.replied = 1;
		rc = reply_u64(d, m, VU_PROTOCOL_FEATURES) ? -2 : 0;
		break;
	case VU_SET_PROTOCOL_FEATURES: rc = req_set_protocol_features(&c); break;
	case VU_GET_QUEUE_NUM:
		c.replied = 1;
		rc = reply_u64(d, m, d->ops->nqueues) ? -2 : 0;
		break;
	case VU_SET_MEM_TABLE: rc = req_set_mem_table(&c); break;
	case VU_SET_VRING_NUM:
	case VU_SET_VRING_BASE:
	case VU_GET_VRING_BASE:
	case VU_SET_VRING_ENABLE: rc = req_vring_state(&c); break;
	case VU_SET_VRING_ADDR: rc = req_set_vring_addr(&c); break;
	case VU_SET_VRING_KICK:
	case VU_SET_VRING_CALL:
	case VU_SET_VRING_ERR: rc = req_vring_fd(&c); break;
	case VU_GET_CONFIG: rc = req_get_config(&c); break;
	case VU_SET_CONFIG: /* the vsock config (guest CID) is read-only */
	case VU_SET_LOG_BASE:
	case VU_SET_LOG_FD: rc = cr_fail(&c.e, "request %u is not supported by this back-end", m->h.request); break;
	default:
		/* Feature-gated requests we never offered: their reply format is
		 * unknown to us, so the only safe answer is to hang up. */
		cr_fail(&c.e, "unexpected request %u", m->h.request);
		rc = -2;
		break;
	}
	msg_close_fds(m); /* any fd a handler did not take */
	if (rc == -2) {
		vu_log(d, "vhost-user: %s; closing the connection", c.e.msg[0] ? c.e.msg : "reply failed");
		return -1;
	}
	if (rc)
		vu_log(d, "vhost-user: %s", c.e.msg);
	d->requests++;
	if (!c.replied && (m->h.flags & VU_FLAG_NEED_REPLY) && (d->protocol_features & (1ull << VU_PROTO_REPLY_ACK)))
		if (reply_u64(d, m, rc ? 1 : 0))
			return -1;
	return 0;
}

/* ------------------------------------------------------------ receiving */

/* Read one request with its fds. 1 ok, 0 orderly EOF, -1 error (e). */
static int recv_msg(int fd, struct vu_msg *m, struct cr_err *e)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &m->h, .iov_len = sizeof m->h };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf, .msg_controllen = sizeof cbuf.buf
	};
	ssize_t n;

	m->nfds = 0;
	/* Zeroed: a failed recvmsg leaves msg_controllen as it was, and the
	 * loop below must never take stack garbage for fds to keep or close. */
	memset(&cbuf, 0, sizeof cbuf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return cr_failp(e, "vhost-user: recvmsg");
	/* Collect fds first so every path below can close them. */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
			if (m->nfds < VU_MAX_FDS)
				m->fds[m->nfds++] = f;
			else
				close(f);
		}
	}
	if (n == 0)
		return 0;
	if ((size_t)n != sizeof m->h)
		return cr_fail(e, "vhost-user: connection closed in a message header");
	if (mh.msg_flags & MSG_CTRUNC)
		return cr_fail(e, "vhost-user: request %u carried more than %d file descriptors", m->h.request,
			       VU_MAX_FDS);
	if ((m->h.flags & 0x3) != VU_VERSION)
		return cr_fail(e, "vhost-user: request %u has protocol version %u, expected 1", m->h.request,
			       m->h.flags & 0x3);
	if (m->h.request == 0 || m->h.request >= VU_MAX_REQUEST)
		return cr_fail(e, "vhost-user: request type %u is out of range", m->h.request);
	if (m->h.size > VU_MAX_PAYLOAD)
		return cr_fail(e, "vhost-user: request %u has a %u-byte payload (limit %d)", m->h.request, m->h.size,
			       VU_MAX_PAYLOAD);
	if (m->h.size && cr_read_full(fd, m->payload, m->h.size) != (long)m->h.size)
		return cr_fail(e, "vhost-user: request %u: payload cut short", m->h.request);
	return 1;
}

static void conn_cb(struct evsrc *s, uint32_t events)
{
	struct vu_dev *d = EVLOOP_OWNER(s, struct vu_dev, src);
	struct vu_msg m;
	struct cr_err e = { 0 };
	int r;

	(void)events;
	r = recv_msg(d->fd, &m, &e);
	if (r <= 0) {
		msg_close_fds(&m);
		if (r < 0)
			vu_log(d, "%s; closing the connection", e.msg);
		vu_dev_disconnect(d);
		if (d->ops->disconnected)
			d->ops->disconnected(d->ctx);
		return;
	}
	if (handle_request(d, &m)) {
		vu_dev_disconnect(d);
		if (d->ops->disconnected)
			d->ops->disconnected(d->ctx);
	}
}

int vu_dev_attach(struct vu_dev *d, int fd, struct cr_err *e)
{
	struct timeval tv = { .tv_sec = 5 };
	if (d->fd >= 0)
		return cr_fail(e, "vhost-user: already serving a connection");
	/* Messages arrive whole; a front-end stalling inside one must not
	 * freeze the loop forever. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (evloop_add(d->loop, &d->src, fd, EPOLLIN, conn_cb, e))
		return -1;
	d->fd = fd;
	d->features = d->protocol_features = 0;
	return 0;
}

void vu_dev_disconnect(struct vu_dev *d)
{
	for (unsigned i = 0; i < VU_MAX_QUEUES; i++) {
		struct vu_vring *vr = &d->vr[i];
		vr->enabled = 0;
		vring_stop(d, vr);
		close_fd(&vr->vq.call_fd);
		close_fd(&vr->err_fd);
		vr->num = 0;
		vr->have_addr = 0;
		vr->base = 0;
	}
	guest_mem_clear(&d->mem);
	if (d->fd >= 0) {
		evloop_del(d->loop, &d->src);
		close_fd(&d->fd);
	}
}

static void listen_cb(struct evsrc *s, uint32_t events)
{
	struct vu_dev *d = EVLOOP_OWNER(s, struct vu_dev, listen_src);
	struct cr_err e;
	int fd;
	(void)events;
	fd = evloop_accept(d->loop, &d->listen_src, SOCK_CLOEXEC);
	if (fd < 0)
		return; /* out of descriptors: evloop_accept paused the listener */
	if (d->fd >= 0) {
		vu_log(d, "vhost-user: a second front-end tried to connect; refused");
		close(fd);
		return;
	}
	if (vu_dev_attach(d, fd, &e)) {
		vu_log(d, "%s", e.msg);
		close(fd);
	}
}

int vu_dev_listen(struct vu_dev *d, const char *path, struct cr_err *e)
{
	int fd = unix_sock_listen(path, 1, e);
	if (fd < 0)
		return -1;
	if (evloop_add(d->loop, &d->listen_src, fd, EPOLLIN, listen_cb, e)) {
		close(fd);
		unlink(path);
		return -1;
	}
	d->listen_fd = fd;
	return 0;
}

void vu_dev_free(struct vu_dev *d)
{
	vu_dev_disconnect(d);
	if (d->listen_fd >= 0) {
		evloop_del(d->loop, &d->listen_src);
		close_fd(&d->listen_fd);
	}
}
