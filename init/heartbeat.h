/* The enclave-ready heartbeat nitro-cli waits for: one byte 0xB7 to the
 * parent (CID 3) port 9000, echoed back. Unlike AWS's init, every wait is
 * bounded: HEARTBEAT_ATTEMPTS connection attempts, HEARTBEAT_ECHO_MS for the
 * echo, then a clear error instead of hanging. */
#ifndef CLEANROOM_INIT_HEARTBEAT_H
#define CLEANROOM_INIT_HEARTBEAT_H

#include "base/util.h"

#define HEARTBEAT_PORT 9000
#define HEARTBEAT_BYTE 0xB7
#define HEARTBEAT_ATTEMPTS 10
#define HEARTBEAT_RETRY_MS 500
#define HEARTBEAT_CONNECT_MS 5000
#define HEARTBEAT_ECHO_MS 10000

/* *sent_at gets the CLOCK_BOOTTIME second at which the byte was written,
 * *connecting the seconds spent connecting (the round trip to the host). */
int heartbeat(double *sent_at, double *connecting, struct cr_err *e);

#endif
