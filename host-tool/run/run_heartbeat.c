/* Heartbeat listener for `cleanroom run` (see run_heartbeat.h). */
#include "host-tool/run/run_heartbeat.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/unix_sock.h"

static void close_listener(struct run_heartbeat *h)
{
	if (h->listen_fd < 0)
		return;
	evloop_del(h->loop, &h->listen_src);
	close(h->listen_fd);
	h->listen_fd = -1;
	unlink(h->path);
}

static void close_conn(struct run_heartbeat *h)
{
	if (h->conn_fd < 0)
		return;
	evloop_del(h->loop, &h->conn_src);
	close(h->conn_fd);
	h->conn_fd = -1;
}

static void conn_cb(struct evsrc *s, uint32_t events)
{
	struct run_heartbeat *h = EVLOOP_OWNER(s, struct run_heartbeat, conn_src);
	uint8_t b;
	ssize_t r = recv(h->conn_fd, &b, 1, MSG_DONTWAIT);
	(void)events;
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r == 1 && b == RUN_HEARTBEAT_BYTE && send(h->conn_fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
		h->done = 1;
	} else {
		h->failed = 1;
		if (r == 1 && b != RUN_HEARTBEAT_BYTE)
			cr_fail(&h->err, "heartbeat: the enclave sent 0x%02x on port %d, expected 0x%02X", b,
				RUN_HEARTBEAT_PORT, RUN_HEARTBEAT_BYTE);
		else if (r == 0)
			cr_fail(&h->err, "heartbeat: the enclave closed port %d without sending 0x%02X",
				RUN_HEARTBEAT_PORT, RUN_HEARTBEAT_BYTE);
		else
			cr_failp(&h->err, "heartbeat: port %d", RUN_HEARTBEAT_PORT);
	}
	close_conn(h);
}

static void listen_cb(struct evsrc *s, uint32_t events)
{
	struct run_heartbeat *h = EVLOOP_OWNER(s, struct run_heartbeat, listen_src);
	struct cr_err e;
	int fd = evloop_accept(h->loop, &h->listen_src, SOCK_CLOEXEC | SOCK_NONBLOCK);
	(void)events;
	if (fd < 0)
		return; /* out of descriptors: evloop_accept paused the listener */
	/* One heartbeat per boot, as nitro-cli: nobody else is served. */
	close_listener(h);
	h->conn_fd = fd;
	if (evloop_add(h->loop, &h->conn_src, fd, EPOLLIN | EPOLLRDHUP, conn_cb, &e)) {
		h->failed = 1;
		h->err = e;
		close(fd);
		h->conn_fd = -1;
	}
}

int run_heartbeat_listen(struct run_heartbeat *h, struct evloop *loop, const char *path, struct cr_err *e)
{
	memset(h, 0, sizeof *h);
	h->loop = loop;
	h->listen_fd = h->conn_fd = -1;
	if ((size_t)snprintf(h->path, sizeof h->path, "%s", path) >= sizeof h->path)
		return cr_fail(e, "%s: path too long", path);
	h->listen_fd = unix_sock_listen(path, 4, e);
	if (h->listen_fd < 0)
		return -1;
	if (evloop_add(loop, &h->listen_src, h->listen_fd, EPOLLIN, listen_cb, e)) {
		close(h->listen_fd);
		h->listen_fd = -1;
		unlink(path);
		return -1;
	}
	return 0;
}

void run_heartbeat_close(struct run_heartbeat *h)
{
	if (!h->loop)
		return;
	close_listener(h);
	close_conn(h);
}
