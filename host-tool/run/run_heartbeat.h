/* The host side of the Nitro "enclave ready" heartbeat, as nitro-cli does
 * it: listen on vsock port 9000 of the parent (here the Unix socket
 * "<vsock>_9000" of the bridge) before the enclave boots, accept one
 * connection, expect the byte 0xB7, echo it. Then the listener goes away.
 * Runs inside the caller's event loop; the caller enforces the deadline. */
#ifndef CLEANROOM_RUN_HEARTBEAT_H
#define CLEANROOM_RUN_HEARTBEAT_H

#include <stdint.h>

#include "host-tool/run/evloop.h"
#include "base/util.h"

#define RUN_HEARTBEAT_PORT 9000
#define RUN_HEARTBEAT_BYTE 0xB7

struct run_heartbeat {
	struct evloop *loop;
	char path[256];
	int listen_fd, conn_fd;
	struct evsrc listen_src, conn_src;
	int done;          /* 0xB7 received and echoed */
	int failed;        /* the guest sent something else or hung up */
	struct cr_err err; /* why it failed */
};

/* Listen on path (must not exist). */
int run_heartbeat_listen(struct run_heartbeat *h, struct evloop *loop, const char *path, struct cr_err *e);
/* Close every socket and remove the path. Idempotent. */
void run_heartbeat_close(struct run_heartbeat *h);

#endif
