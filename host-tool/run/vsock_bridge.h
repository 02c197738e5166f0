/* The vsock bridge: a vhost-user back-end for QEMU's vhost-user-vsock-device
 * that connects guest vsock streams to host Unix sockets, Firecracker style.
 *
 *  guest -> host   A guest connection to port P of CID 3 (the Nitro parent)
 *                  or CID 2 (the host) is connected to the Unix socket
 *                  "<uds_path>_<P>". No listener there: the guest gets RST.
 *  host -> guest   A host program connects to the Unix socket <uds_path>,
 *                  writes "CONNECT <port>\n" and, once the guest accepted,
 *                  reads "OK <hostport>\n"; then the socket is the raw
 *                  stream. If the guest refuses, the socket is closed.
 *                  (vsock_client.h has a helper for this handshake.)
 *                  The guest sees these connections coming from CID 3.
 *
 * Flow control is virtio-vsock's credit scheme: we advertise buf_alloc
 * bytes of buffer per connection and count what we forwarded (fwd_cnt);
 * we never send the guest more than its advertised credit and read host
 * sockets only while the guest has credit and receive buffers, so memory
 * per connection is bounded by buf_alloc. A guest that exceeds our credit,
 * sends malformed packets or uses unknown connections gets RST; nothing it
 * sends can crash or stall the host side. When the guest driver resets
 * the device (queues stop), every connection is dropped.
 *
 * A guest cannot fill the connection table for host programs: connections
 * the guest opens are limited to max_conns minus an eighth, kept for
 * connections host programs open, and a connection whose host program
 * has closed its socket is freed close_ms after the guest last took data
 * from it, even if the guest never closes its end (as Linux and
 * Firecracker time out a closing peer). The soft RLIMIT_NOFILE is raised to
 * the hard limit for the process (and so for the programs it starts). */
#ifndef CLEANROOM_VSOCK_BRIDGE_H
#define CLEANROOM_VSOCK_BRIDGE_H

#include <stdint.h>

#include "host-tool/run/evloop.h"
#include "base/util.h"

#define VSOCK_DEFAULT_GUEST_CID 16
#define VSOCK_DEFAULT_BUF_ALLOC (256u * 1024)
#define VSOCK_DEFAULT_MAX_CONNS 1024
#define VSOCK_DEFAULT_HANDSHAKE_MS 10000
#define VSOCK_DEFAULT_CLOSE_MS 5000
#define VSOCK_FD_RESERVE 128

struct vsock_bridge_cfg {
	uint64_t guest_cid;     /* 3 < cid < 0xffffffff */
	const char *uds_path;   /* host side: listener and prefix of "<path>_<port>" */
	const char *vhost_path; /* vhost-user socket QEMU connects to */
	uint32_t buf_alloc;     /* 0: VSOCK_DEFAULT_BUF_ALLOC */
	/* 0: VSOCK_DEFAULT_MAX_CONNS. Lowered to the descriptor limit (the soft
	 * RLIMIT_NOFILE, first raised to the hard one) minus VSOCK_FD_RESERVE. */
	unsigned max_conns;
	/* A host client must send its CONNECT line, and the guest accept,
	 * within this many ms (checked every second). 0: the default. */
	unsigned handshake_ms;
	/* Once the host program has closed its socket, the guest has this many
	 * ms (checked every second) from the last data it took to read what
	 * is left and close or reset its end; then it is sent RST and the
	 * connection freed. 0: the default. */
	unsigned close_ms;
	/* Warnings, one line each; NULL: stderr with a "vsock: " prefix. */
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

struct vsock_bridge_stats {
	unsigned long conns_open, conns_total;
	unsigned long long bytes_to_host, bytes_to_guest;
	unsigned long rst_sent, bad_packets, bad_rx_buffers;
	unsigned long guest_resets; /* times the driver stopped the queues */
	int running;                /* both queues started */
};

struct vsock_bridge;

/* Create the sockets (both paths must not exist) and register with loop. */
int vsock_bridge_start(struct vsock_bridge **out, struct evloop *loop, const struct vsock_bridge_cfg *cfg,
		       struct cr_err *e);
/* Close every connection and socket and unlink the two socket paths. */
void vsock_bridge_stop(struct vsock_bridge *b);
void vsock_bridge_stats(const struct vsock_bridge *b, struct vsock_bridge_stats *s);
/* 1 once QEMU closed the vhost-user connection (after having opened it). */
int vsock_bridge_disconnected(const struct vsock_bridge *b);

#endif
