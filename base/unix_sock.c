/* Unix stream sockets by path (see unix_sock.h). */
#include "base/unix_sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int unix_sock_addr(struct sockaddr_un *sa, const char *path, struct cr_err *e)
{
	size_t n = strlen(path);
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (n >= sizeof sa->sun_path)
		return cr_fail(e, "%s: socket path too long (limit %zu bytes)", path, sizeof sa->sun_path - 1);
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

int unix_sock_listen(const char *path, int backlog, struct cr_err *e)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	if (unix_sock_addr(&sa, path, e))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return cr_failp(e, "socket");
	/* The socket file gets its mode from the umask at bind time. */
	old = umask(077);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0) {
		cr_failp(e, "%s: bind", path);
		close(fd);
		return -1;
	}
	if (listen(fd, backlog) != 0) {
		cr_failp(e, "%s: listen", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int unix_sock_connect(const char *path, int nonblock, struct cr_err *e)
{
	struct sockaddr_un sa;
	int fd;

	if (unix_sock_addr(&sa, path, e))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return cr_failp(e, "socket");
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (errno == EINTR)
			continue;
		cr_failp(e, "%s: connect", path);
		close(fd);
		return -1;
	}
	return fd;
}

void unix_sock_remove_stale(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode) || unix_sock_addr(&sa, path, NULL))
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == ECONNREFUSED)
		unlink(path);
	close(fd);
}
