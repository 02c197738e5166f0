#include "vsock/vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

int vsock_wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	return r;
}

int vsock_connect(uint32_t cid, uint32_t port, int timeout_ms, struct cr_err *e)
{
	struct sockaddr_vm sa;
	struct pollfd p;
	int fd, r, err = 0;
	socklen_t len = sizeof err;

	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cr_failp(e, "socket(AF_VSOCK)");
	memset(&sa, 0, sizeof sa);
	sa.svm_family = AF_VSOCK;
	sa.svm_cid = cid;
	sa.svm_port = port;
	/* Non-blocking connect + poll bounds the wait whatever the transport does. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno != EINPROGRESS) {
			cr_failp(e, "connect to vsock %u:%u", cid, port);
			goto fail;
		}
		p = (struct pollfd){ fd, POLLOUT, 0 };
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			errno = ETIMEDOUT;
			cr_failp(e, "connect to vsock %u:%u", cid, port);
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
			cr_failp(e, "connect to vsock %u:%u", cid, port);
			goto fail;
		}
		if (err) {
			errno = err;
			cr_failp(e, "connect to vsock %u:%u", cid, port);
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		cr_failp(e, "fcntl");
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int vsock_listen(uint32_t port, int backlog, struct cr_err *e)
{
	struct sockaddr_vm sa;
	int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cr_failp(e, "socket(AF_VSOCK)");
	memset(&sa, 0, sizeof sa);
	sa.svm_family = AF_VSOCK;
	sa.svm_cid = VMADDR_CID_ANY;
	sa.svm_port = port;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, backlog) < 0) {
		cr_failp(e, "listen on vsock port %u", port);
		close(fd);
		return -1;
	}
	return fd;
}

int vsock_set_buffer(int fd, uint64_t bytes, struct cr_err *e)
{
	/* The maximum first: the size may not exceed it (256 KiB by default). */
	if (setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, &bytes, sizeof bytes) < 0 ||
	    setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, &bytes, sizeof bytes) < 0)
		return cr_failp(e, "vsock buffer of %llu bytes", (unsigned long long)bytes);
	return 0;
}
