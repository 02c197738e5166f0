#include "init/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* PID 1's own descriptor on the console (-1 before console_attach). */
static int log_fd = -1;
/* A line timed out waiting for room: later ones do not wait (the console
 * is stuck; each would cost CONSOLE_WRITE_WAIT_MS). The agent logs from
 * several threads. */
static atomic_int stuck;

int console_attach(const char *path, struct cr_err *e)
{
	static const int modes[3] = { O_RDONLY, O_WRONLY, O_WRONLY };
	int fd;
	for (int i = 0; i < 3; i++) {
		/* O_CLOEXEC so that a descriptor above 2 never reaches the
		 * command; the one at i is then made inheritable explicitly
		 * (when open returns i itself, as with fds 0-2 closed at start,
		 * no dup2 clears the flag). */
		fd = open(path, modes[i] | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return cr_failp(e, "%s (for fd %d)", path, i);
		if (fd != i) {
			int r = dup2(fd, i);
			close(fd);
			if (r < 0)
				return cr_failp(e, "dup2 %s to fd %d", path, i);
		}
		if (fcntl(i, F_SETFD, 0) < 0)
			return cr_failp(e, "%s: clear close-on-exec of fd %d", path, i);
	}
	/* Non-blocking and PID 1's alone: the command's O_NONBLOCK (or not)
	 * on its descriptors never changes how PID 1's lines are written. */
	fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return cr_failp(e, "%s (for init's own lines)", path);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	atomic_store(&stuck, 0);
	return 0;
}

void console_write(const char *p, size_t n)
{
	int saved = errno;
	int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
	uint64_t deadline = 0;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !atomic_load(&stuck)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			uint64_t now = cr_mono_ms();
			if (!deadline)
				deadline = now + CONSOLE_WRITE_WAIT_MS;
			if (now < deadline && poll(&pf, 1, (int)(deadline - now)) >= 0 &&
			    !(pf.revents & (POLLERR | POLLHUP | POLLNVAL)))
				continue;
			atomic_store(&stuck, 1);
		}
		break; /* the rest of the line is lost */
	}
	errno = saved;
}

void console_resume(void)
{
	struct termios t;
	if (log_fd < 0)
		return;
	/* Clearing IXON is what restarts output stopped by a ^S (TCOON does
	 * not: it undoes only TCOOFF), and no later ^S stops it again. */
	if (tcgetattr(log_fd, &t) == 0 && (t.c_iflag & IXON)) {
		t.c_iflag &= ~(tcflag_t)IXON;
		tcsetattr(log_fd, TCSANOW, &t);
	}
	tcflow(log_fd, TCOON);
	atomic_store(&stuck, 0);
}

int console_drain(unsigned ms)
{
	uint64_t deadline = cr_mono_ms() + ms;
	if (log_fd < 0)
		return 0;
	/* Not tcdrain: it waits without a bound, and output stopped again
	 * (an orphan still running) would hold PID 1 for good. */
	for (;;) {
		int queued = 0, lsr = 0;
		if (ioctl(log_fd, TIOCOUTQ, &queued) < 0)
			queued = 0;
		/* Queued bytes gone: the UART may still hold a few (a serial
		 * port says when its transmitter is empty; anything else
		 * cannot, and is done). */
		if (queued <= 0 && (ioctl(log_fd, TIOCSERGETLSR, &lsr) < 0 || (lsr & TIOCSER_TEMT)))
			return 0;
		if (cr_mono_ms() >= deadline)
			return -1;
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
}
