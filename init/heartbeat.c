#include "init/heartbeat.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "init/log.h"
#include "vsock/vsock.h"

int heartbeat(double *sent_at, double *connecting, struct cr_err *e)
{
	struct cr_err last;
	int fd = -1;
	uint8_t b = HEARTBEAT_BYTE;
	double t0 = init_uptime();
	for (int i = 0; i < HEARTBEAT_ATTEMPTS && fd < 0; i++) {
		if (i) {
			struct timespec ts = { 0, HEARTBEAT_RETRY_MS * 1000000L };
			nanosleep(&ts, NULL);
		}
		fd = vsock_connect(VSOCK_CID_PARENT, HEARTBEAT_PORT, HEARTBEAT_CONNECT_MS, &last);
	}
	if (fd < 0)
		return cr_fail(e, "no listener after %d attempts: %s", HEARTBEAT_ATTEMPTS, last.msg);
	*connecting = init_uptime() - t0;
	if (cr_write_all(fd, &b, 1) < 0) {
		cr_failp(e, "send 0x%02X", HEARTBEAT_BYTE);
		goto fail;
	}
	*sent_at = init_uptime();
	if (vsock_wait_readable(fd, HEARTBEAT_ECHO_MS) != 1) {
		cr_fail(e, "no echo within %d ms", HEARTBEAT_ECHO_MS);
		goto fail;
	}
	if (cr_read_full(fd, &b, 1) != 1) {
		cr_failp(e, "read echo");
		goto fail;
	}
	if (b != HEARTBEAT_BYTE) {
		cr_fail(e, "echo 0x%02X, expected 0x%02X", b, HEARTBEAT_BYTE);
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -1;
}
