/* Internals of the vsock bridge shared by vsock_bridge.c (guest side,
 * queues) and vsock_host.c (Unix sockets): the bridge state, connections,
 * the connection table and the credit arithmetic.
 *
 * A connection is identified by (host CID, host port, guest port). Its
 * life: host-initiated ones start in VC_CONNECT_LINE (reading "CONNECT
 * <port>\n"), then VC_CONNECTING (REQUEST sent, awaiting RESPONSE);
 * guest-initiated ones start VC_ESTABLISHED; at most guest_max_conns()
 * of them are open at once. A connection ends by
 * vconn_kill() (optionally sending RST to the guest) and is freed at once:
 * the event loop drops its pending events.
 *
 * Invariants:
 *  - rx_cnt - fwd_cnt == bytes buffered in `pend` (guest data not yet
 *    written to the Unix socket) <= buf_alloc (the guest is RST otherwise);
 *  - tx_cnt - peer_fwd_cnt <= peer_buf_alloc for data we send the guest;
 *  - a connection that may have something to send the guest is on the
 *    work list (spurious entries are dropped by the pump). */
#ifndef CLEANROOM_VSOCK_CONN_H
#define CLEANROOM_VSOCK_CONN_H

#include <stdint.h>

#include "host-tool/run/evloop.h"
#include "host-tool/run/vhost_user.h"
#include "host-tool/run/vsock_bridge.h"
#include "host-tool/run/vsock_pkt.h"

#define VSOCK_RX_QUEUE 0
#define VSOCK_TX_QUEUE 1
#define VSOCK_HASH_BUCKETS 1024
#define VSOCK_RST_FIFO 4096
#define VSOCK_CONNECT_LINE_MAX 32
/* Log lines the guest can cause: at most VSOCK_GLOG_BURST per window of
 * VSOCK_GLOG_WINDOW_MS, then one "(N more ... suppressed)" line. */
#define VSOCK_GLOG_BURST 20
#define VSOCK_GLOG_WINDOW_MS 60000
/* Host-side ports of host-initiated connections (as Firecracker does). */
#define VSOCK_HOST_PORT_FIRST (1u << 30)
#define VSOCK_HOST_PORT_LAST ((1u << 31) - 1)

enum vconn_state { VC_CONNECT_LINE, VC_CONNECTING, VC_ESTABLISHED };

/* Control packets a connection owes the guest (sent before data). */
#define CTL_REQUEST 1u
#define CTL_RESPONSE 2u
#define CTL_SHUTDOWN 4u /* SHUTDOWN(SEND): the host side will send no more */
#define CTL_CREDIT 8u   /* CREDIT_UPDATE */

struct vconn {
	struct vsock_bridge *br;
	uint32_t host_cid, host_port, guest_port;
	enum vconn_state state;
	int host_initiated;
	struct vconn *hnext;         /* hash chain (once the key is known) */
	struct vconn *aprev, *anext; /* every connection of the bridge */
	struct vconn *wprev, *wnext; /* work list */
	int on_work;
	int fd;
	struct evsrc src;
	int readable, writable; /* edge-triggered readiness not yet used up */
	/* Handshake deadline; once established 0, or the close deadline after
	 * the host program closed its socket (host_hup). */
	uint64_t deadline_ms;
	unsigned ctl;
	/* guest -> host */
	uint32_t rx_cnt, fwd_cnt, fwd_reported;
	int in_table;
	uint8_t *pend; /* buffered guest data, [pend_off, pend_off+pend_len) */
	size_t pend_off, pend_len, pend_cap;
	int guest_shut_send, guest_shut_rcv;
	int host_wr_shut; /* shutdown(SHUT_WR) done on the Unix socket */
	/* host -> guest */
	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	int host_eof; /* the Unix peer sends no more */
	int host_hup; /* the Unix peer closed its socket: nobody reads either */
};

struct vsock_rst {
	uint32_t host_cid, host_port, guest_port;
};

struct vsock_bridge {
	struct evloop *loop;
	struct vsock_bridge_cfg cfg;
	char *uds_path, *vhost_path;
	struct vu_dev vu;
	int listen_fd;
	struct evsrc listen_src;
	int timer_fd;
	struct evsrc timer_src;
	struct vconn *table[VSOCK_HASH_BUCKETS];
	struct vconn *all;
	unsigned nconns;       /* on the `all` list */
	unsigned nconns_guest; /* of those, opened by the guest */
	struct vconn *work_head, *work_tail;
	struct vsock_rst rst[VSOCK_RST_FIFO];
	unsigned rst_head, rst_len;
	uint32_t next_host_port;
	int tx_more;                            /* TX queue has work left over */
	unsigned long tx_bad_seen, rx_bad_seen; /* bad chains already logged */
	/* vsock_log_guest's window: its start, lines written, lines dropped */
	uint64_t glog_start_ms;
	unsigned glog_lines;
	unsigned long glog_suppressed;
	int was_connected, disconnected;
	struct vsock_bridge_stats st;
};

/* ---- vsock_conn.c */
/* Connections the guest may open: an eighth of max_conns is kept for host
 * programs, so that a guest opening connections cannot lock them out. */
static inline unsigned guest_max_conns(const struct vsock_bridge *b)
{
	return b->cfg.max_conns - b->cfg.max_conns / 8;
}
/* A connection on the `all` list, owning fd; NULL when out of memory. */
struct vconn *vconn_new(struct vsock_bridge *b, int fd);
/* Table membership (key fields must be set before insertion). */
void vconn_insert(struct vsock_bridge *b, struct vconn *c);
struct vconn *vconn_find(struct vsock_bridge *b, uint32_t host_cid, uint32_t host_port, uint32_t guest_port);
/* A free host port for a connection to guest_port (0 if none). */
uint32_t vconn_alloc_host_port(struct vsock_bridge *b, uint32_t guest_port);
/* Put c on the work list (no-op if already there). */
void vconn_want_work(struct vconn *c);
void vconn_drop_work(struct vconn *c);
/* End c: unregister and close its socket, free it; with send_rst the guest
 * is sent RST (only meaningful once the guest knows the connection). */
void vconn_kill(struct vconn *c, int send_rst);
/* Queue RST for a connection we do not (or no longer) track. */
void vsock_queue_rst(struct vsock_bridge *b, uint32_t host_cid, uint32_t host_port, uint32_t guest_port);
/* Bytes we may send the guest now on c. */
uint32_t vconn_peer_credit(const struct vconn *c);
/* Buffer guest bytes for the Unix socket; -1 when over pend_cap. */
int vconn_pend_append(struct vconn *c, const struct iovec *iov, unsigned n, size_t skip);
void vsock_log(struct vsock_bridge *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A log line the guest can cause at will (one per packet, connection,
 * reset...): rate-limited so that a hostile guest cannot fill the log. */
void vsock_log_guest(struct vsock_bridge *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Write the "(N more suppressed)" line if the window is over (or now, with
 * force) and start a new window; from the 1 s timer and at stop. */
void vsock_log_guest_flush(struct vsock_bridge *b, int force);
/* Something changed on c that may end it (shutdowns, flushes); 1 when c
 * was freed. */
int vsock_conn_check_done(struct vconn *c);
/* A credit update is due if the guest's view of fwd_cnt lags enough. */
void vsock_conn_maybe_credit(struct vconn *c);

/* ---- vsock_host.c (Unix side) */
int vsock_host_listen(struct vsock_bridge *b, struct cr_err *e);
void vsock_host_close(struct vsock_bridge *b);
/* Connect a guest REQUEST to "<uds>_<port>"; the new connection or NULL. */
struct vconn *vsock_host_connect_guest(struct vsock_bridge *b, const struct vsock_hdr *h);
/* Write guest payload [skip, skip+len) of the chain to c's socket (or
 * buffer it). -1 when the Unix peer is gone. */
int vsock_host_send(struct vconn *c, const struct virtq_elem *el, size_t skip, size_t len);
/* Write buffered data; apply a pending SHUT_WR. -1 when the peer is gone. */
int vsock_host_flush(struct vconn *c);
/* The guest accepted a host-initiated connection. */
void vsock_host_established(struct vconn *c);
/* Kill connections whose handshake took too long, and those whose host
 * program closed close_ms ago (RST to the guest). */
void vsock_host_expire(struct vsock_bridge *b);

#endif
