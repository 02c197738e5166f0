/* PID 1's console (init/console.c) and how the VM ends (init/log.c), on a
 * pty standing in for /dev/console, each case in a child process:
 *  - console_attach gives fd 0 O_RDONLY and fds 1, 2 O_WRONLY, three open
 *    file descriptions (O_NONBLOCK on one stays there), none close-on-exec,
 *    also when fds 0-2 were closed at start (open then returns 0 itself);
 *  - with output stopped (TCOOFF, or a ^S with IXON) PID 1's lines wait a
 *    bounded time, and the end path (console_resume, the last line,
 *    init_end_vm) gets its line out and returns: with the old blocking
 *    write and tcdrain, the child hangs and is killed at the deadline.
 * A pty has no output queue (TIOCOUTQ says 0, tcdrain returns at once), so
 * the drain's own deadline is left to a real serial port (qemu/init-boot). */
#include "init/console.c"
#include "init/log.c"

#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

#include "tests/unit/check.h"

static int master = -1, sfd = -1;
static char slave[128];

static int open_pty(void)
{
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) || unlockpt(master) || ptsname_r(master, slave, sizeof slave))
		return -1;
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	/* Held open by the test, so the pty lives between children; and to
	 * restart its output after each. */
	sfd = open(slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	return sfd < 0 ? -1 : 0;
}

/* The pty as a console is found at boot: output running, IXON on. */
static void reset_pty(void)
{
	struct termios t;
	tcflow(sfd, TCOON);
	if (tcgetattr(sfd, &t) == 0) {
		t.c_iflag |= IXON;
		tcsetattr(sfd, TCSANOW, &t);
	}
}

/* Whether output is stopped, as init's descriptor sees it: no room. Waits
 * up to 1 s for a ^S to be processed. */
static int stopped(void)
{
	for (int i = 0; i < 200; i++) {
		struct pollfd pf = { .fd = log_fd, .events = POLLOUT };
		if (poll(&pf, 1, 0) == 0)
			return 1;
		usleep(5000);
	}
	return 0;
}

/* Everything the pty's slave side has written so far (\r removed). */
static void read_master(char *buf, size_t cap)
{
	size_t n = 0;
	char c;
	while (n + 1 < cap && read(master, &c, 1) == 1)
		if (c != '\r')
			buf[n++] = c;
	buf[n] = 0;
}

/* Run fn in a child; its exit status, or -1 when it was still running
 * after limit_ms (it is killed) or died of a signal. *ms: how long. */
static int run_child(int (*fn)(int), int arg, unsigned limit_ms, uint64_t *ms)
{
	uint64_t t0 = cr_mono_ms();
	int status;
	pid_t pid;
	reset_pty();
	pid = fork();
	if (pid == 0)
		_exit(fn(arg));
	if (pid < 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		*ms = cr_mono_ms() - t0;
		if (r == pid) {
			reset_pty();
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		if (*ms > limit_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			reset_pty();
			return -1;
		}
		usleep(5000);
	}
}

/* ---- 2, 3: the three descriptors */

enum { START_CLOSED, START_OPEN, START_ONLY_0 };

/* Exit status: a bit per failed property (0: all hold). */
static int attach_child(int start)
{
	struct cr_err e;
	int bad = 0, null = open("/dev/null", O_RDWR);
	if (start == START_CLOSED) {
		close(0), close(1), close(2);
	} else {
		/* Inherited descriptors, close-on-exec set: replaced. */
		for (int i = 0; i < 3; i++)
			dup3(null, i, O_CLOEXEC);
		if (start == START_ONLY_0)
			close(1), close(2);
	}
	close(null);
	if (console_attach(slave, &e))
		return 0x80;
	for (int i = 0; i < 3; i++) {
		int fl = fcntl(i, F_GETFL), fd = fcntl(i, F_GETFD);
		if (fl < 0 || (fl & O_ACCMODE) != (i ? O_WRONLY : O_RDONLY))
			bad |= 1;
		if (fd < 0 || (fd & FD_CLOEXEC))
			bad |= 2;
		if (!isatty(i))
			bad |= 4;
	}
	/* asyncio sets O_NONBLOCK on stdin: stdout and stderr keep blocking. */
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	if ((fcntl(1, F_GETFL) & O_NONBLOCK) || (fcntl(2, F_GETFL) & O_NONBLOCK))
		bad |= 8;
	fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
	if (fcntl(2, F_GETFL) & O_NONBLOCK)
		bad |= 8;
	/* PID 1's own: above 2, close-on-exec, non-blocking, write-only. */
	if (log_fd < 3 || !(fcntl(log_fd, F_GETFD) & FD_CLOEXEC) ||
	    (fcntl(log_fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_WRONLY | O_NONBLOCK))
		bad |= 16;
	return bad;
}

static void check_attach(int start, const char *what)
{
	uint64_t ms;
	int r = run_child(attach_child, start, 5000, &ms);
	T_OK(r >= 0 && r != 0x80, "%s: console_attach succeeds (exit %d)", what, r);
	if (r == 0x80 || r < 0)
		return;
	T_OK(!(r & 1), "%s: fd 0 O_RDONLY, fds 1 and 2 O_WRONLY (as AWS's freopen r/w/w)", what);
	T_OK(!(r & 2), "%s: fds 0, 1, 2 are not close-on-exec (the command gets all three)", what);
	T_OK(!(r & 4), "%s: fds 0, 1, 2 are the console", what);
	T_OK(!(r & 8), "%s: three open file descriptions: O_NONBLOCK on stdin (stdout) stays there", what);
	T_OK(!(r & 16), "%s: init's own descriptor is above 2, close-on-exec, O_WRONLY|O_NONBLOCK", what);
}

/* ---- 1: stopped output */

enum { STOP_TCOOFF, STOP_XOFF };

/* In a child: the console attached, the command's last line written, then
 * output stopped as how says. 0, or an exit status saying what failed. */
static int attach_and_stop(int how)
{
	struct cr_err e;
	if (console_attach(slave, &e))
		return 10;
	(void)!write(1, "app: last line\n", 15);
	if (how == STOP_TCOOFF)
		tcflow(1, TCOOFF);
	else
		(void)!write(master, "\023", 1); /* ^S typed on the console */
	return stopped() ? 0 : 11;
}

/* Output stopped: one line waits CONSOLE_WRITE_WAIT_MS at most, the next
 * not at all. Exit status: 0, or which one took too long. */
static int bounded_child(int how)
{
	uint64_t t0, t1, t2;
	int r = attach_and_stop(how);
	if (r)
		return r;
	t0 = cr_mono_ms();
	init_log("first line while stopped");
	t1 = cr_mono_ms();
	init_log("second line while stopped");
	t2 = cr_mono_ms();
	if (t1 - t0 > CONSOLE_WRITE_WAIT_MS + 500)
		return 1;
	if (t2 - t1 > 200)
		return 2;
	return 0;
}

/* The end of bootstrap mode after a command left the console stopped. */
static int end_child(int how)
{
	int r = attach_and_stop(how);
	if (r)
		return r;
	console_resume();
	init_log("app exited with status 0");
	init_log("ending the enclave (reboot)");
	init_end_vm(); /* not PID 1: exits 0 once the console is let go */
}

/* The same for a failure: init_fatal restarts output before its lines. */
static int fatal_child(int how)
{
	int r = attach_and_stop(how);
	if (r)
		return r;
	init_fatal("step", "it failed");
}

static void check_end(int how, const char *what)
{
	char out[4096];
	uint64_t ms;
	int r;
	read_master(out, sizeof out);
	r = run_child(end_child, how, 5000, &ms);
	T_OK(r == 0, "%s, then the command exits: the end path returns (%llu ms; exit %d)", what,
	     (unsigned long long)ms, r);
	read_master(out, sizeof out);
	T_OK(strstr(out, "app: last line\n") && strstr(out, "init: app exited with status 0\n") &&
		     strstr(out, "init: ending the enclave (reboot)\n"),
	     "%s: output restarted, the command's and init's last lines reach the console", what);
}

int main(void)
{
	char out[4096];
	uint64_t ms;
	int r;
	if (getpid() == 1 || open_pty()) {
		t_skip("no pty (or running as PID 1)", "init console");
		return t_done();
	}
	signal(SIGTTOU, SIG_IGN);

	check_attach(START_CLOSED, "fds 0-2 closed at start");
	check_attach(START_OPEN, "fds 0-2 open (close-on-exec) at start");
	check_attach(START_ONLY_0, "fd 0 open, 1 and 2 closed at start");

	read_master(out, sizeof out);
	r = run_child(bounded_child, STOP_TCOOFF, 5000, &ms);
	T_OK(r == 0, "output stopped (TCOOFF): a line waits at most %d ms, the next not at all (%llu ms; exit %d)",
	     CONSOLE_WRITE_WAIT_MS, (unsigned long long)ms, r);

	check_end(STOP_TCOOFF, "output stopped by tcflow(TCOOFF)");
	check_end(STOP_XOFF, "output stopped by ^S on the input (IXON)");

	read_master(out, sizeof out);
	r = run_child(fatal_child, STOP_TCOOFF, 5000, &ms);
	T_OK(r == 1, "output stopped, then a failure: init_fatal returns (%llu ms; exit %d)", (unsigned long long)ms,
	     r);
	read_master(out, sizeof out);
	T_OK(strstr(out, "init: step: it failed\n") && strstr(out, "init: ending the enclave (reboot)\n"),
	     "a failure's lines reach a console whose output was stopped");
	return t_done();
}
