/* Connection table, work list and credit arithmetic of the vsock bridge
 * (see vsock_conn.h). */
#include "host-tool/run/vsock_conn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/term.h"

static void log_line(struct vsock_bridge *b, const char *line)
{
	if (b->cfg.log)
		b->cfg.log(b->cfg.log_ctx, line);
	else
		cr_tprintf(stderr, "vsock: %s\n", cr_term_arg(line));
}

void vsock_log(struct vsock_bridge *b, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_line(b, line);
}

void vsock_log_guest_flush(struct vsock_bridge *b, int force)
{
	uint64_t now = cr_mono_ms();
	if (!force && now - b->glog_start_ms < VSOCK_GLOG_WINDOW_MS)
		return;
	if (b->glog_suppressed)
		vsock_log(b, "(%lu more messages about the guest suppressed)", b->glog_suppressed);
	b->glog_start_ms = now;
	b->glog_lines = 0;
	b->glog_suppressed = 0;
}

void vsock_log_guest(struct vsock_bridge *b, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	vsock_log_guest_flush(b, 0);
	if (b->glog_lines >= VSOCK_GLOG_BURST) {
		b->glog_suppressed++;
		return;
	}
	b->glog_lines++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_line(b, line);
}

static unsigned bucket(uint32_t host_cid, uint32_t host_port, uint32_t guest_port)
{
	uint32_t h = host_port * 2654435761u ^ guest_port * 40503u ^ host_cid;
	return (h ^ (h >> 16)) % VSOCK_HASH_BUCKETS;
}

struct vconn *vconn_new(struct vsock_bridge *b, int fd)
{
	struct vconn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->br = b;
	c->fd = fd;
	/* Guest data within our credit, plus slack for nothing else. */
	c->pend_cap = b->cfg.buf_alloc;
	c->anext = b->all;
	if (b->all)
		b->all->aprev = c;
	b->all = c;
	b->nconns++;
	return c;
}

void vconn_insert(struct vsock_bridge *b, struct vconn *c)
{
	unsigned i = bucket(c->host_cid, c->host_port, c->guest_port);
	c->hnext = b->table[i];
	b->table[i] = c;
	c->in_table = 1;
	b->st.conns_open++;
	b->st.conns_total++;
}

static void vconn_unlink(struct vsock_bridge *b, struct vconn *c)
{
	struct vconn **p;
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		b->all = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	b->nconns--;
	if (!c->host_initiated)
		b->nconns_guest--;
	if (!c->in_table)
		return;
	p = &b->table[bucket(c->host_cid, c->host_port, c->guest_port)];
	for (; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			b->st.conns_open--;
			return;
		}
}

struct vconn *vconn_find(struct vsock_bridge *b, uint32_t host_cid, uint32_t host_port, uint32_t guest_port)
{
	for (struct vconn *c = b->table[bucket(host_cid, host_port, guest_port)]; c; c = c->hnext)
		if (c->host_cid == host_cid && c->host_port == host_port && c->guest_port == guest_port)
			return c;
	return NULL;
}

uint32_t vconn_alloc_host_port(struct vsock_bridge *b, uint32_t guest_port)
{
	/* At most max_conns ports are taken, so this ends quickly. */
	for (unsigned tries = 0; tries <= b->cfg.max_conns; tries++) {
		uint32_t p = b->next_host_port;
		b->next_host_port = p >= VSOCK_HOST_PORT_LAST ? VSOCK_HOST_PORT_FIRST : p + 1;
		if (!vconn_find(b, VSOCK_CID_PARENT, p, guest_port))
			return p;
	}
	return 0;
}

void vconn_want_work(struct vconn *c)
{
	struct vsock_bridge *b = c->br;
	if (c->on_work)
		return;
	c->on_work = 1;
	c->wnext = NULL;
	c->wprev = b->work_tail;
	if (b->work_tail)
		b->work_tail->wnext = c;
	else
		b->work_head = c;
	b->work_tail = c;
}

void vconn_drop_work(struct vconn *c)
{
	struct vsock_bridge *b = c->br;
	if (!c->on_work)
		return;
	if (c->wprev)
		c->wprev->wnext = c->wnext;
	else
		b->work_head = c->wnext;
	if (c->wnext)
		c->wnext->wprev = c->wprev;
	else
		b->work_tail = c->wprev;
	c->wprev = c->wnext = NULL;
	c->on_work = 0;
}

void vsock_queue_rst(struct vsock_bridge *b, uint32_t host_cid, uint32_t host_port, uint32_t guest_port)
{
	if (b->rst_len == VSOCK_RST_FIFO) {
		vsock_log_guest(b, "too many resets queued for the guest; dropping one for port %u", guest_port);
		return;
	}
	b->rst[(b->rst_head + b->rst_len) % VSOCK_RST_FIFO] =
		(struct vsock_rst){ .host_cid = host_cid, .host_port = host_port, .guest_port = guest_port };
	b->rst_len++;
}

void vconn_kill(struct vconn *c, int send_rst)
{
	struct vsock_bridge *b = c->br;
	if (send_rst)
		vsock_queue_rst(b, c->host_cid, c->host_port, c->guest_port);
	vconn_drop_work(c);
	vconn_unlink(b, c);
	evloop_del(b->loop, &c->src);
	if (c->fd >= 0)
		close(c->fd);
	free(c->pend);
	free(c);
}

uint32_t vconn_peer_credit(const struct vconn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt; /* modulo 2^32, as the spec counts */
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

int vconn_pend_append(struct vconn *c, const struct iovec *iov, unsigned n, size_t skip)
{
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += iov[i].iov_len;
	total -= skip < total ? skip : total;
	if (total > c->pend_cap - c->pend_len)
		return -1;
	if (!c->pend) {
		c->pend = malloc(c->pend_cap);
		if (!c->pend)
			return -1;
	}
	if (c->pend_off + c->pend_len + total > c->pend_cap) {
		memmove(c->pend, c->pend + c->pend_off, c->pend_len);
		c->pend_off = 0;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t len = iov[i].iov_len;
		const uint8_t *p = iov[i].iov_base;
		if (skip >= len) {
			skip -= len;
			continue;
		}
		memcpy(c->pend + c->pend_off + c->pend_len, p + skip, len - skip);
		c->pend_len += len - skip;
		skip = 0;
	}
	return 0;
}

/* ------------------------------------------------------------ connection state */

int vsock_conn_check_done(struct vconn *c)
{
	/* Data to the host and control packets to the guest go out first. */
	if (c->state != VC_ESTABLISHED || c->pend_len || c->ctl)
		return 0;
	/* The guest closed both directions (its close()): acknowledge with RST,
	 * as a Linux peer does. Or each side has said it sends no more: the
	 * stream is over, and RST releases the guest socket without waiting
	 * for its close timeout. */
	if ((c->guest_shut_send && c->guest_shut_rcv) || (c->guest_shut_send && c->host_eof)) {
		vconn_kill(c, 1);
		return 1;
	}
	return 0;
}

void vsock_conn_maybe_credit(struct vconn *c)
{
	/* The guest stops when it believes our buffer is full; tell it about
	 * freed space in steps of a quarter buffer (it never waits forever:
	 * once everything is forwarded the lag is the whole buffer). */
	if (c->fwd_cnt - c->fwd_reported >= c->br->cfg.buf_alloc / 4) {
		c->ctl |= CTL_CREDIT;
		vconn_want_work(c);
	}
}
