/* Host side of a connection to a guest vsock port through the vsock
 * bridge (cleanroom run): connect to the bridge's Unix socket, send
 * "CONNECT <port>\n", wait for "OK <hostport>\n". Afterwards the socket is
 * the raw byte stream to the guest program listening on that port.
 *
 * Used by `cleanroom build --local` and the tests; the same handshake works
 * with Firecracker's vsock device. */
#ifndef CLEANROOM_VSOCK_CLIENT_H
#define CLEANROOM_VSOCK_CLIENT_H

#include <stdint.h>

#include "base/util.h"

/* Connect to guest port `port` via uds_path. Until timeout_ms has passed
 * the attempt is repeated every 100 ms while the socket does not exist yet
 * or the guest refuses (nothing listens on the port yet: the bridge closes
 * the socket without "OK"), since an enclave that is still booting looks
 * exactly like that. Returns a blocking, close-on-exec fd; *host_port (if
 * not NULL) gets the port number from the OK line. -1 with e on failure. */
int vsock_client_connect(const char *uds_path, uint32_t port, int timeout_ms, uint32_t *host_port, struct cr_err *e);

#endif
