/* The vsock bridge: guest side (virtio-vsock packets on the TX and RX
 * queues), the connection state machine, and setup/teardown. The Unix
 * socket side is in vsock_host.c; shared state in vsock_conn.h. */
#include "host-tool/run/vsock_conn.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

/* ------------------------------------------------------------ guest -> host */

static void bad_packet(struct vsock_bridge *b, const char *msg)
{
	b->st.bad_packets++;
	vsock_log_guest(b, "dropped a malformed packet from the guest (%lu so far): %s", b->st.bad_packets, msg);
}

static void handle_rw(struct vconn *c, const struct vsock_hdr *h, const struct virtq_elem *el)
{
	struct vsock_bridge *b = c->br;
	if (c->state != VC_ESTABLISHED || c->guest_shut_send) {
		vconn_kill(c, 1);
		return;
	}
	if (h->len == 0)
		return;
	if (c->rx_cnt - c->fwd_cnt + h->len > b->cfg.buf_alloc) {
		vsock_log_guest(b, "guest port %u sent %u bytes beyond its credit; connection reset", c->guest_port,
				c->rx_cnt - c->fwd_cnt + h->len - b->cfg.buf_alloc);
		vconn_kill(c, 1);
		return;
	}
	c->rx_cnt += h->len;
	if (vsock_host_send(c, el, VSOCK_HDR_SIZE, h->len)) {
		vconn_kill(c, 1);
		return;
	}
	b->st.bytes_to_host += h->len;
	vsock_conn_maybe_credit(c);
}

static void handle_shutdown(struct vconn *c, uint32_t flags)
{
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->guest_shut_rcv = 1;
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->guest_shut_send = 1;
	if (c->state != VC_ESTABLISHED) {
		vconn_kill(c, 1);
		return;
	}
	if (c->guest_shut_send && vsock_host_flush(c)) {
		vconn_kill(c, 1);
		return;
	}
	vsock_conn_check_done(c);
}

/* One packet the guest sent. */
static void handle_tx_packet(struct vsock_bridge *b, const struct virtq_elem *el)
{
	struct vsock_hdr h;
	struct cr_err e;
	struct vconn *c;
	uint32_t host_cid;

	if (vsock_pkt_parse(el, &h, &e)) {
		bad_packet(b, e.msg);
		return;
	}
	if (h.src_cid != b->cfg.guest_cid) {
		cr_fail(&e, "source CID %llu is not the guest's %llu", (unsigned long long)h.src_cid,
			(unsigned long long)b->cfg.guest_cid);
		bad_packet(b, e.msg);
		return;
	}
	if (h.dst_cid != VSOCK_CID_HOST && h.dst_cid != VSOCK_CID_PARENT) {
		/* Nobody else is reachable (no sibling enclaves). */
		if (h.op != VIRTIO_VSOCK_OP_RST && h.dst_cid <= UINT32_MAX)
			vsock_queue_rst(b, (uint32_t)h.dst_cid, h.dst_port, h.src_port);
		return;
	}
	host_cid = (uint32_t)h.dst_cid;
	c = vconn_find(b, host_cid, h.dst_port, h.src_port);
	if (h.type != VIRTIO_VSOCK_TYPE_STREAM) { /* SEQPACKET was not negotiated */
		if (c)
			vconn_kill(c, 0);
		if (h.op != VIRTIO_VSOCK_OP_RST)
			vsock_queue_rst(b, host_cid, h.dst_port, h.src_port);
		return;
	}
	if (h.op == VIRTIO_VSOCK_OP_RST) {
		if (c)
			vconn_kill(c, 0);
		return;
	}
	if (h.op == VIRTIO_VSOCK_OP_REQUEST) {
		if (c) /* the guest forgot it; so do we */
			vconn_kill(c, 0);
		c = vsock_host_connect_guest(b, &h);
		if (!c) {
			vsock_queue_rst(b, host_cid, h.dst_port, h.src_port);
			return;
		}
		c->peer_buf_alloc = h.buf_alloc;
		c->peer_fwd_cnt = h.fwd_cnt;
		c->ctl |= CTL_RESPONSE;
		vconn_want_work(c);
		return;
	}
	if (!c) {
		vsock_queue_rst(b, host_cid, h.dst_port, h.src_port);
		return;
	}
	/* Every packet carries the guest's current credit. */
	c->peer_buf_alloc = h.buf_alloc;
	c->peer_fwd_cnt = h.fwd_cnt;
	switch (h.op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VC_CONNECTING) {
			vconn_kill(c, 1);
			return;
		}
		vsock_host_established(c);
		return;
	case VIRTIO_VSOCK_OP_RW: handle_rw(c, &h, el); return;
	case VIRTIO_VSOCK_OP_SHUTDOWN: handle_shutdown(c, h.flags); return;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		if (c->readable && vconn_peer_credit(c))
			vconn_want_work(c);
		return;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		c->ctl |= CTL_CREDIT;
		vconn_want_work(c);
		return;
	default: {
		char buf[16];
		cr_fail(&e, "unknown %s on port %u", vsock_op_name(h.op, buf, sizeof buf), h.src_port);
		bad_packet(b, e.msg);
		vconn_kill(c, 1);
		return;
	}
	}
}

static void log_bad_chains(struct vsock_bridge *b, struct virtq *vq, unsigned long *seen)
{
	if (vq->bad_chains != *seen) {
		*seen = vq->bad_chains;
		vsock_log_guest(b, "returned a malformed descriptor chain to the guest (%lu so far): %s", *seen,
				vq->err.msg);
	}
}

static void process_tx(struct vsock_bridge *b)
{
	struct virtq *vq = vu_queue(&b->vu, VSOCK_TX_QUEUE);
	struct virtq_elem el;
	unsigned budget = 256; /* then let other sources run; the after-hook continues */

	b->tx_more = 0;
	if (!vq)
		return;
	for (;;) {
		int r;
		if (budget-- == 0) {
			b->tx_more = 1;
			break;
		}
		r = virtq_pop(vq, &el);
		if (r == 0)
			break;
		if (r < 0) {
			vu_queue_error(&b->vu, VSOCK_TX_QUEUE);
			break;
		}
		handle_tx_packet(b, &el);
		virtq_push(vq, el.head, 0);
	}
	log_bad_chains(b, vq, &b->tx_bad_seen);
	virtq_notify(vq);
}

/* ------------------------------------------------------------ host -> guest */

static void fill_hdr(struct vconn *c, struct vsock_hdr *h, uint16_t op, uint32_t len, uint32_t flags)
{
	struct vsock_bridge *b = c->br;
	*h = (struct vsock_hdr){
		.src_cid = c->host_cid,
		.dst_cid = b->cfg.guest_cid,
		.src_port = c->host_port,
		.dst_port = c->guest_port,
		.len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op,
		.flags = flags,
		.buf_alloc = b->cfg.buf_alloc,
		.fwd_cnt = c->fwd_cnt,
	};
	c->fwd_reported = c->fwd_cnt;
}

/* Put a header-only packet into el; returns the bytes written (0: the
 * buffer is too small, which the caller counts). */
static uint32_t put_ctl(struct vsock_bridge *b, const struct virtq_elem *el, const struct vsock_hdr *h)
{
	if (vsock_pkt_put_hdr(el, h)) {
		b->st.bad_rx_buffers++;
		return 0;
	}
	return VSOCK_HDR_SIZE;
}

static uint32_t send_ctl(struct vconn *c, const struct virtq_elem *el)
{
	struct vsock_hdr h;
	if (c->ctl & CTL_REQUEST) {
		c->ctl &= ~CTL_REQUEST;
		fill_hdr(c, &h, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	} else if (c->ctl & CTL_RESPONSE) {
		c->ctl &= ~CTL_RESPONSE;
		fill_hdr(c, &h, VIRTIO_VSOCK_OP_RESPONSE, 0, 0);
	} else if (c->ctl & CTL_CREDIT) {
		c->ctl &= ~CTL_CREDIT;
		fill_hdr(c, &h, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0);
	} else {
		/* After a close (not a half-close) nobody reads either: with both
		 * flags a Linux guest resets at once instead of waiting. */
		c->ctl &= ~CTL_SHUTDOWN;
		fill_hdr(c, &h, VIRTIO_VSOCK_OP_SHUTDOWN, 0,
			 VIRTIO_VSOCK_SHUTDOWN_SEND | (c->host_hup ? VIRTIO_VSOCK_SHUTDOWN_RCV : 0));
	}
	return put_ctl(c->br, el, &h);
}

/* Read from c's socket straight into the guest buffer el (which has room
 * for payload). Returns the bytes placed, header included; 0 when nothing
 * was placed (no data yet, or end of stream, now recorded); -1 when the
 * socket failed. */
static int64_t send_data(struct vconn *c, const struct virtq_elem *el)
{
	struct vsock_bridge *b = c->br;
	struct iovec iov[VIRTQ_MAX_IOV];
	size_t room = el->in_len - VSOCK_HDR_SIZE, got;
	uint32_t credit = vconn_peer_credit(c);
	unsigned n;
	ssize_t r;
	struct vsock_hdr h;

	if (room > credit)
		room = credit;
	if (room > VSOCK_MAX_PAYLOAD)
		room = VSOCK_MAX_PAYLOAD;
	n = virtq_elem_slice(el, 0, VSOCK_HDR_SIZE, room, iov, VIRTQ_MAX_IOV, &got);
	do
		r = readv(c->fd, iov, (int)n);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		fill_hdr(c, &h, VIRTIO_VSOCK_OP_RW, (uint32_t)r, 0);
		vsock_pkt_put_hdr(el, &h);
		c->tx_cnt += (uint32_t)r;
		b->st.bytes_to_guest += (uint64_t)r;
		/* After the host program's close, close_ms counts from the last
		 * data the guest took: a slow reader gets all of it, a guest that
		 * stops taking it is let go. */
		if (c->host_hup)
			c->deadline_ms = cr_mono_ms() + b->cfg.close_ms;
		return VSOCK_HDR_SIZE + r;
	}
	c->readable = 0;
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	/* End of stream from the host program: tell the guest once. */
	c->host_eof = 1;
	if (!c->guest_shut_rcv)
		c->ctl |= CTL_SHUTDOWN;
	return 0;
}

static int can_send_data(const struct vconn *c)
{
	return c->state == VC_ESTABLISHED && c->readable && !c->host_eof && !c->guest_shut_rcv &&
	       vconn_peer_credit(c) > 0;
}

static void send_rst(struct vsock_bridge *b, struct virtq *vq, const struct virtq_elem *el)
{
	struct vsock_rst *x = &b->rst[b->rst_head];
	struct vsock_hdr h = {
		.src_cid = x->host_cid,
		.dst_cid = b->cfg.guest_cid,
		.src_port = x->host_port,
		.dst_port = x->guest_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_RST,
		.buf_alloc = b->cfg.buf_alloc,
	};
	b->rst_head = (b->rst_head + 1) % VSOCK_RST_FIFO;
	b->rst_len--;
	b->st.rst_sent++;
	virtq_push(vq, el->head, put_ctl(b, el, &h));
}

/* Fill guest receive buffers: queued resets first, then each connection's
 * control packets and data, round robin. Stops when the guest has no
 * buffers left; its next RX kick resumes. */
static void pump_rx(struct vsock_bridge *b)
{
	struct virtq *vq = vu_queue(&b->vu, VSOCK_RX_QUEUE);
	struct virtq_elem el;

	if (!vq)
		return;
	for (;;) {
		struct vconn *c = b->work_head;
		int64_t used;
		int r;

		if (!b->rst_len) {
			if (!c)
				break;
			if (!c->ctl && !can_send_data(c)) {
				vconn_drop_work(c);
				continue;
			}
		}
		r = virtq_pop(vq, &el);
		if (r < 0)
			vu_queue_error(&b->vu, VSOCK_RX_QUEUE);
		if (r <= 0)
			break;
		if (el.in_len < VSOCK_HDR_SIZE || el.n_out) {
			b->st.bad_rx_buffers++;
			virtq_push(vq, el.head, 0);
			continue;
		}
		if (b->rst_len) {
			send_rst(b, vq, &el);
			continue;
		}
		if (c->ctl) {
			virtq_push(vq, el.head, send_ctl(c, &el));
			vsock_conn_check_done(c);
			continue;
		}
		if (el.in_len == VSOCK_HDR_SIZE) { /* no room for data: useless here */
			b->st.bad_rx_buffers++;
			virtq_push(vq, el.head, 0);
			continue;
		}
		used = send_data(c, &el);
		if (used <= 0) {
			virtq_unpop(vq);
			if (used < 0)
				vconn_kill(c, 1);
			else
				vsock_conn_check_done(c);
			continue;
		}
		virtq_push(vq, el.head, (uint32_t)used);
		/* Round robin: the next connection gets the next buffer. */
		vconn_drop_work(c);
		vconn_want_work(c);
	}
	log_bad_chains(b, vq, &b->rx_bad_seen);
	virtq_notify(vq);
}

/* ------------------------------------------------------------ device */

/* Each connection holds a descriptor: raise the soft RLIMIT_NOFILE to the
 * hard limit, and keep max_conns VSOCK_FD_RESERVE below it, for the rest
 * of the process (QEMU's vhost-user fds, listeners, the NSM service). */
static unsigned fit_fd_limit(unsigned max_conns)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl))
		return max_conns;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (rlim_t)max_conns + VSOCK_FD_RESERVE)
		return max_conns;
	return (unsigned)(rl.rlim_cur > 2 * VSOCK_FD_RESERVE ? rl.rlim_cur - VSOCK_FD_RESERVE : rl.rlim_cur / 2);
}

/* The guest forgot every connection (driver reset) or QEMU went away. */
static void reset_all(struct vsock_bridge *b)
{
	while (b->all)
		vconn_kill(b->all, 0);
	b->rst_len = b->rst_head = 0;
	b->tx_more = 0;
}

static int dev_get_config(void *ctx, uint32_t off, uint8_t *buf, uint32_t len)
{
	struct vsock_bridge *b = ctx;
	struct virtio_vsock_config cfg = { .guest_cid = htole64(b->cfg.guest_cid) };
	if (off > sizeof cfg || len > sizeof cfg - off)
		return -1;
	memcpy(buf, (uint8_t *)&cfg + off, len);
	return 0;
}

static void dev_queue_state(void *ctx, unsigned idx, int running)
{
	struct vsock_bridge *b = ctx;
	int was = b->st.running;
	b->st.running = vu_queue(&b->vu, VSOCK_RX_QUEUE) && vu_queue(&b->vu, VSOCK_TX_QUEUE);
	if (running) {
		b->was_connected = 1;
		/* Scan at once: the guest may have queued work before we started. */
		if (idx == VSOCK_TX_QUEUE)
			process_tx(b);
		pump_rx(b);
		return;
	}
	if (was || b->all) {
		b->st.guest_resets += was;
		reset_all(b);
	}
}

static void dev_queue_kick(void *ctx, unsigned idx)
{
	struct vsock_bridge *b = ctx;
	if (idx == VSOCK_TX_QUEUE)
		process_tx(b);
	pump_rx(b);
}

static void dev_disconnected(void *ctx)
{
	struct vsock_bridge *b = ctx;
	reset_all(b);
	b->disconnected = 1;
}

static void dev_log(void *ctx, const char *msg)
{
	/* Mostly queue errors, which a guest can repeat by resetting the device. */
	vsock_log_guest(ctx, "%s", msg);
}

static const struct vu_ops vsock_vu_ops = {
	.device_features = 0, /* stream only: no VIRTIO_VSOCK_F_SEQPACKET */
	.nqueues = 2,
	.get_config = dev_get_config,
	.queue_state = dev_queue_state,
	.queue_kick = dev_queue_kick,
	.disconnected = dev_disconnected,
	.log = dev_log,
};

static void after_batch(void *ctx)
{
	struct vsock_bridge *b = ctx;
	if (b->tx_more)
		process_tx(b);
	pump_rx(b);
}

static void timer_cb(struct evsrc *s, uint32_t events)
{
	struct vsock_bridge *b = EVLOOP_OWNER(s, struct vsock_bridge, timer_src);
	uint64_t n;
	(void)events;
	if (read(b->timer_fd, &n, sizeof n) < 0) {
		/* spurious wake-up; nothing to do */
	}
	vsock_host_expire(b);
	vsock_log_guest_flush(b, 0);
}

int vsock_bridge_start(struct vsock_bridge **out, struct evloop *loop, const struct vsock_bridge_cfg *cfg,
		       struct cr_err *e)
{
	struct vsock_bridge *b;
	struct itimerspec its = { .it_interval = { .tv_sec = 1 }, .it_value = { .tv_sec = 1 } };

	*out = NULL;
	if (cfg->guest_cid <= VSOCK_CID_PARENT || cfg->guest_cid >= UINT32_MAX)
		return cr_fail(e, "guest CID %llu: must be between 4 and 4294967294",
			       (unsigned long long)cfg->guest_cid);
	if (!cfg->uds_path || !cfg->vhost_path)
		return cr_fail(e, "vsock bridge: socket paths missing");
	b = calloc(1, sizeof *b);
	if (!b)
		return cr_fail(e, "out of memory");
	b->loop = loop;
	b->cfg = *cfg;
	if (!b->cfg.buf_alloc)
		b->cfg.buf_alloc = VSOCK_DEFAULT_BUF_ALLOC;
	if (!b->cfg.max_conns)
		b->cfg.max_conns = VSOCK_DEFAULT_MAX_CONNS;
	b->cfg.max_conns = fit_fd_limit(b->cfg.max_conns);
	if (!b->cfg.handshake_ms)
		b->cfg.handshake_ms = VSOCK_DEFAULT_HANDSHAKE_MS;
	if (!b->cfg.close_ms)
		b->cfg.close_ms = VSOCK_DEFAULT_CLOSE_MS;
	b->uds_path = strdup(cfg->uds_path);
	b->vhost_path = strdup(cfg->vhost_path);
	b->cfg.uds_path = b->uds_path;
	b->cfg.vhost_path = b->vhost_path;
	b->listen_fd = b->timer_fd = -1;
	b->next_host_port = VSOCK_HOST_PORT_FIRST;
	vu_dev_init(&b->vu, loop, &vsock_vu_ops, b);
	if (!b->uds_path || !b->vhost_path) {
		cr_fail(e, "out of memory");
		goto fail;
	}
	if (vsock_host_listen(b, e))
		goto fail;
	if (vu_dev_listen(&b->vu, b->vhost_path, e)) {
		vsock_host_close(b);
		goto fail;
	}
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (b->timer_fd < 0 || timerfd_settime(b->timer_fd, 0, &its, NULL) ||
	    evloop_add(loop, &b->timer_src, b->timer_fd, EPOLLIN, timer_cb, e) ||
	    evloop_add_hook(loop, after_batch, b, e)) {
		if (b->timer_fd < 0)
			cr_failp(e, "timerfd_create");
		vsock_bridge_stop(b);
		return -1;
	}
	*out = b;
	return 0;
fail:
	free(b->uds_path);
	free(b->vhost_path);
	free(b);
	return -1;
}

void vsock_bridge_stop(struct vsock_bridge *b)
{
	if (!b)
		return;
	evloop_del_hook(b->loop, after_batch, b);
	reset_all(b);
	vsock_log_guest_flush(b, 1);
	vu_dev_free(&b->vu);
	unlink(b->vhost_path);
	vsock_host_close(b);
	if (b->timer_fd >= 0) {
		evloop_del(b->loop, &b->timer_src);
		close(b->timer_fd);
	}
	free(b->uds_path);
	free(b->vhost_path);
	free(b);
}

void vsock_bridge_stats(const struct vsock_bridge *b, struct vsock_bridge_stats *s)
{
	*s = b->st;
}

int vsock_bridge_disconnected(const struct vsock_bridge *b)
{
	return b->disconnected;
}
