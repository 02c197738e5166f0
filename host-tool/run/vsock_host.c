/* The host (Unix socket) side of the vsock bridge: the listener host
 * programs connect to, the "CONNECT <port>\n" handshake, connections to
 * "<uds>_<port>" for guest-initiated streams, and non-blocking writes with
 * bounded buffering. All sockets are edge-triggered; `readable`/`writable`
 * remember readiness until a call returns EAGAIN. */
#include "host-tool/run/vsock_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_sock.h"
#include "base/util.h"

#define CONN_EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

/* ------------------------------------------------------------ writing */

int vsock_host_flush(struct vconn *c)
{
	while (c->pend_len > 0) {
		ssize_t n = send(c->fd, c->pend + c->pend_off, c->pend_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->writable = 0;
				return 0;
			}
			return -1;
		}
		c->pend_off += (size_t)n;
		c->pend_len -= (size_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	c->pend_off = 0;
	/* The guest will send no more: pass its half-close on once drained. */
	if (c->guest_shut_send && !c->host_wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->host_wr_shut = 1;
	}
	return 0;
}

int vsock_host_send(struct vconn *c, const struct virtq_elem *el, size_t skip, size_t len)
{
	struct iovec iov[VIRTQ_MAX_IOV];
	size_t got;
	unsigned n = virtq_elem_slice(el, 1, skip, len, iov, VIRTQ_MAX_IOV, &got);
	ssize_t w = 0;

	if (c->pend_len == 0 && c->writable) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = n };
		do
			w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			c->writable = 0;
			w = 0;
		}
		c->fwd_cnt += (uint32_t)w;
	}
	if ((size_t)w < got && vconn_pend_append(c, iov, n, (size_t)w)) {
		vsock_log_guest(c->br, "connection to port %u: cannot buffer %zu bytes", c->host_port, got - (size_t)w);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ events */

static void conn_cb(struct evsrc *s, uint32_t events);

static int conn_register(struct vconn *c)
{
	struct cr_err e;
	if (evloop_add(c->br->loop, &c->src, c->fd, CONN_EVENTS, conn_cb, &e)) {
		vsock_log(c->br, "%s", e.msg);
		return -1;
	}
	return 0;
}

/* Parse "CONNECT <port>\n" from a host client without reading past it:
 * bytes after the newline belong to the stream. */
static void read_connect_line(struct vconn *c)
{
	struct vsock_bridge *b = c->br;
	char buf[VSOCK_CONNECT_LINE_MAX + 1];
	char *nl;
	uint64_t port;
	ssize_t n = recv(c->fd, buf, VSOCK_CONNECT_LINE_MAX, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		c->readable = 0;
		return;
	}
	if (n <= 0) {
		vconn_kill(c, 0);
		return;
	}
	buf[n] = 0;
	nl = memchr(buf, '\n', (size_t)n);
	if (!nl) {
		if (n >= VSOCK_CONNECT_LINE_MAX) {
			vsock_log(b, "host client sent no \"CONNECT <port>\" line within %d bytes; closed",
				  VSOCK_CONNECT_LINE_MAX);
			vconn_kill(c, 0);
			return;
		}
		c->readable = 0; /* wait for the rest of the line */
		return;
	}
	*nl = 0;
	if (strncmp(buf, "CONNECT ", 8) || cr_parse_u64(buf + 8, UINT32_MAX, &port)) {
		vsock_log(b, "host client sent \"%.*s\", not \"CONNECT <port>\"; closed", (int)(nl - buf), buf);
		vconn_kill(c, 0);
		return;
	}
	if (recv(c->fd, buf, (size_t)(nl - buf) + 1, MSG_DONTWAIT) != (nl - buf) + 1) {
		vconn_kill(c, 0);
		return;
	}
	c->host_cid = VSOCK_CID_PARENT;
	c->guest_port = (uint32_t)port;
	c->host_port = vconn_alloc_host_port(b, c->guest_port);
	if (!c->host_port) {
		vsock_log(b, "no free host port for a connection to guest port %u", c->guest_port);
		vconn_kill(c, 0);
		return;
	}
	vconn_insert(b, c);
	c->state = VC_CONNECTING;
	c->deadline_ms = cr_mono_ms() + b->cfg.handshake_ms;
	c->ctl |= CTL_REQUEST;
	vconn_want_work(c);
}

static void conn_cb(struct evsrc *s, uint32_t events)
{
	struct vconn *c = EVLOOP_OWNER(s, struct vconn, src);

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = 1;
	switch (c->state) {
	case VC_CONNECT_LINE:
		if (c->readable)
			read_connect_line(c);
		return;
	case VC_CONNECTING:
		/* Nothing is read before the guest accepts; a client that hangs up
		 * meanwhile is dropped (and the guest told, should it accept). */
		if (events & (EPOLLHUP | EPOLLERR))
			vconn_kill(c, 1);
		return;
	case VC_ESTABLISHED: break;
	}
	/* The host program closed (not just half-closed) its socket: the guest
	 * gets what is left, close_ms from the last data it took (send_data
	 * moves the deadline on), then its end is reset. (After our own
	 * SHUT_WR, HUP only means the peer half-closed too: the stream is over
	 * once its EOF is read, see vsock_conn_check_done.) */
	if ((events & EPOLLHUP) && !c->host_hup && !c->host_wr_shut) {
		c->host_hup = 1;
		c->deadline_ms = cr_mono_ms() + c->br->cfg.close_ms;
	}
	if (c->writable && c->pend_len) {
		if (vsock_host_flush(c)) {
			vconn_kill(c, 1);
			return;
		}
		vsock_conn_maybe_credit(c);
		if (vsock_conn_check_done(c))
			return;
	}
	if (c->readable)
		vconn_want_work(c);
}

void vsock_host_established(struct vconn *c)
{
	char line[24];
	int n = snprintf(line, sizeof line, "OK %u\n", c->host_port);
	/* A fresh socket has room for a few bytes; a failure means the client left. */
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		vconn_kill(c, 1);
		return;
	}
	c->state = VC_ESTABLISHED;
	c->deadline_ms = 0;
	if (c->readable)
		vconn_want_work(c);
}

struct vconn *vsock_host_connect_guest(struct vsock_bridge *b, const struct vsock_hdr *h)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 16];
	struct cr_err e;
	struct vconn *c;
	int fd;

	if (b->nconns_guest >= guest_max_conns(b) || b->nconns >= b->cfg.max_conns) {
		vsock_log_guest(b, "guest connection to port %u refused: %u connections open (%u by the guest)",
				h->dst_port, b->nconns, b->nconns_guest);
		return NULL;
	}
	snprintf(path, sizeof path, "%s_%u", b->uds_path, h->dst_port);
	/* Unix connects finish at once; EAGAIN means the listener's backlog is full. */
	fd = unix_sock_connect(path, 1, &e);
	if (fd < 0) {
		vsock_log_guest(b, "guest connection to %u:%u refused: %s", (unsigned)h->dst_cid, h->dst_port, e.msg);
		return NULL;
	}
	c = vconn_new(b, fd);
	if (!c) {
		close(fd);
		return NULL;
	}
	b->nconns_guest++;
	c->host_cid = (uint32_t)h->dst_cid;
	c->host_port = h->dst_port;
	c->guest_port = h->src_port;
	c->state = VC_ESTABLISHED;
	c->writable = 1;
	vconn_insert(b, c);
	if (conn_register(c)) {
		vconn_kill(c, 0);
		return NULL;
	}
	return c;
}

/* ------------------------------------------------------------ listener */

static void listen_cb(struct evsrc *s, uint32_t events)
{
	struct vsock_bridge *b = EVLOOP_OWNER(s, struct vsock_bridge, listen_src);
	(void)events;
	for (;;) {
		struct vconn *c;
		int fd = evloop_accept(b->loop, &b->listen_src, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return; /* EAGAIN: all taken; out of descriptors: evloop_accept paused the listener */
		if (b->nconns >= b->cfg.max_conns || !(c = vconn_new(b, fd))) {
			vsock_log(b, "host connection refused: %u connections open", b->nconns);
			close(fd);
			continue;
		}
		c->host_initiated = 1;
		c->state = VC_CONNECT_LINE;
		c->writable = 1;
		c->deadline_ms = cr_mono_ms() + b->cfg.handshake_ms;
		if (conn_register(c))
			vconn_kill(c, 0);
	}
}

int vsock_host_listen(struct vsock_bridge *b, struct cr_err *e)
{
	struct sockaddr_un sa;
	int fd;

	/* Guest ports are appended to this path: leave room for "_4294967295". */
	if (strlen(b->uds_path) + 11 >= sizeof sa.sun_path)
		return cr_fail(e, "%s: socket path too long to append \"_<port>\" (limit %zu bytes)", b->uds_path,
			       sizeof sa.sun_path - 12);
	fd = unix_sock_listen(b->uds_path, 128, e);
	if (fd < 0)
		return -1;
	if (evloop_add(b->loop, &b->listen_src, fd, EPOLLIN, listen_cb, e)) {
		close(fd);
		unlink(b->uds_path);
		return -1;
	}
	b->listen_fd = fd;
	return 0;
}

void vsock_host_close(struct vsock_bridge *b)
{
	if (b->listen_fd < 0)
		return;
	evloop_del(b->loop, &b->listen_src);
	close(b->listen_fd);
	b->listen_fd = -1;
	unlink(b->uds_path);
}

void vsock_host_expire(struct vsock_bridge *b)
{
	uint64_t now = cr_mono_ms();
	struct vconn *c = b->all, *next;
	for (; c; c = next) {
		next = c->anext;
		if (!c->deadline_ms || now <= c->deadline_ms)
			continue;
		if (c->state == VC_ESTABLISHED) { /* the guest kept a closed connection */
			vconn_kill(c, 1);
			continue;
		}
		vsock_log_guest(b, "host connection %s timed out after %u ms",
				c->state == VC_CONNECT_LINE ? "sent no CONNECT line; it" : "to the guest",
				b->cfg.handshake_ms);
		vconn_kill(c, c->state == VC_CONNECTING);
	}
}
