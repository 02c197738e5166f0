/* CONNECT handshake with the vsock bridge (see vsock_client.h). */
#include "host-tool/client/vsock_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/unix_sock.h"

#define OK_LINE_MAX 32

/* Read the reply line one byte at a time (what follows belongs to the
 * stream). 1 got "OK <n>", 0 closed without a reply (refused), -1 error. */
static int read_ok_line(int fd, int64_t deadline, uint32_t *host_port, struct cr_err *e)
{
	char line[OK_LINE_MAX + 1];
	size_t n = 0;
	uint64_t v;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - (int64_t)cr_mono_ms();
		ssize_t r;
		if (left <= 0)
			return cr_fail(e, "no reply to CONNECT in time");
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return cr_failp(e, "poll");
		}
		if (!p.revents)
			continue;
		r = read(fd, line + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECONNRESET)
			return 0;
		if (r < 0)
			return cr_failp(e, "reading the CONNECT reply");
		if (r == 0) {
			if (n == 0)
				return 0;
			return cr_fail(e, "connection closed inside the CONNECT reply");
		}
		if (line[n] == '\n')
			break;
		if (++n == OK_LINE_MAX)
			return cr_fail(e, "CONNECT reply longer than %d bytes", OK_LINE_MAX);
	}
	line[n] = 0;
	if (strncmp(line, "OK ", 3) || cr_parse_u64(line + 3, UINT32_MAX, &v))
		return cr_fail(e, "unexpected CONNECT reply \"%s\"", line);
	if (host_port)
		*host_port = (uint32_t)v;
	return 1;
}

int vsock_client_connect(const char *uds_path, uint32_t port, int timeout_ms, uint32_t *host_port, struct cr_err *e)
{
	int64_t deadline = (int64_t)cr_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char req[32];
	int n = snprintf(req, sizeof req, "CONNECT %u\n", port);
	const char *why = "";

	for (;;) {
		struct cr_err ce;
		int fd = unix_sock_connect(uds_path, 0, &ce), r;
		if (fd >= 0) {
			if (cr_write_all(fd, req, (size_t)n) != 0) {
				why = "the bridge closed the connection";
			} else if ((r = read_ok_line(fd, deadline, host_port, &ce)) == 1) {
				return fd;
			} else if (r < 0) {
				close(fd);
				return cr_fail(e, "%s: port %u: %s", uds_path, port, ce.msg);
			} else {
				why = "the guest refused (nothing listening on that port yet?)";
			}
			close(fd);
		} else if (errno == ENOENT || errno == ECONNREFUSED) {
			why = "the vsock bridge is not running";
		} else {
			return cr_fail(e, "%s", ce.msg);
		}
		if ((int64_t)cr_mono_ms() + 100 > deadline)
			return cr_fail(e, "%s: cannot connect to guest port %u: %s", uds_path, port, why);
		usleep(100 * 1000);
	}
}
