/* AF_VSOCK stream sockets: the transport between an enclave and its parent
 * instance (CID 3 on Nitro), used by init (heartbeat, build agent) and by
 * the host tool when it talks to a real enclave (`--cid N`). */
#ifndef CLEANROOM_VSOCK_H
#define CLEANROOM_VSOCK_H

#include <stdint.h>

#include "base/util.h"

#define VSOCK_CID_HYPERVISOR 0
#define VSOCK_CID_LOCAL 1
#define VSOCK_CID_HOST 2
#define VSOCK_CID_PARENT 3 /* the Nitro parent instance */
#define VSOCK_CID_ANY 0xFFFFFFFFu

/* Connect to cid:port, giving up after timeout_ms. Returns a blocking,
 * close-on-exec fd or -1 with e (ECONNREFUSED/ECONNRESET when nobody listens,
 * ETIMEDOUT when the attempt took too long). */
int vsock_connect(uint32_t cid, uint32_t port, int timeout_ms, struct cr_err *e);
/* Listen on port (any CID). Returns a close-on-exec listening fd. */
int vsock_listen(uint32_t port, int backlog, struct cr_err *e);
/* Set fd's receive buffer (and its maximum) to bytes; a listening socket
 * passes it on to the connections it accepts. This is the flow-control
 * window: the peer may send that much ahead of what has been read. */
int vsock_set_buffer(int fd, uint64_t bytes, struct cr_err *e);
/* Linux's default window (and maximum) for a vsock socket. */
#define VSOCK_DEFAULT_BUFFER (256u << 10)
/* Wait up to timeout_ms (-1: forever) until fd is readable (1), or not (0),
 * or poll failed (-1). */
int vsock_wait_readable(int fd, int timeout_ms);

#endif
