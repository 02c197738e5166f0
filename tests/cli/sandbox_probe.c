/* sandbox_probe: one hostile action per run, for the sandbox tests.
 *
 *   sandbox_probe CASE [ARG...]
 *
 * One program, built static (musl), so the same binary runs natively through
 * `cleanroom sandbox-exec`, in a busybox root and as a build inside the
 * enclave (tests/cli/escape-probes.sh, tests/qemu/escape-probes.sh,
 * tests/cli/sandbox.sh, tests/qemu/sandbox_guest.c). A case may try several
 * things; each attempt prints one line
 *     probe CASE: blocked: <what>: <ERRNO> (<strerror>)
 *     probe CASE: ESCAPED: <what>
 * and the case ends with one summary line
 *     probe CASE: result: blocked <ERRNO>[,<ERRNO>...]
 *     probe CASE: result: ESCAPED
 *     probe CASE: result: contained: <what happened>
 *     probe CASE: result: allowed: <what>          (positive controls)
 * Exit status: 0 when the action succeeded (an escape, unless the case is a
 * positive control), 1 when it was refused or contained — so a hostile build
 * that was stopped fails, with the reason in its log — 2 on a usage error or
 * when the probe itself could not do its groundwork. Cases that cannot
 * "succeed" in one step (bombs, timeouts) are judged by how the sandbox
 * ended them. */
#ifndef _GNU_SOURCE
# define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/vm_sockets.h>

/* The text a planted file outside the workspace holds: reading it back
 * through a link is an escape. */
#define OUTSIDE_MARK "cleanroom-outside"

static const char *probe_name;
static int escaped_any;
static char errnos[256]; /* the distinct errno names of the refusals, in order */

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EACCES: return "EACCES";
	case EROFS: return "EROFS";
	case ENOSYS: return "ENOSYS";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	case ENXIO: return "ENXIO";
	case ENODEV: return "ENODEV";
	case ESRCH: return "ESRCH";
	case EBADF: return "EBADF";
	case EFAULT: return "EFAULT";
	case EXDEV: return "EXDEV";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOSPC: return "ENOSPC";
	case EFBIG: return "EFBIG";
	case ENOMEM: return "ENOMEM";
	case ELOOP: return "ELOOP";
	case ENOTDIR: return "ENOTDIR";
	case EBUSY: return "EBUSY";
	default: return "other";
	}
}

/* One attempt: rc < 0 is a refusal (with errno), anything else got through. */
static void attempt(long rc, const char *what)
{
	if (rc < 0) {
		int e = errno;
		const char *n = errno_name(e);
		printf("probe %s: blocked: %s: %s (%s)\n", probe_name, what, n, strerror(e));
		/* Remember each errno name once, comma-separated. */
		char key[24];
		snprintf(key, sizeof key, ",%s,", n);
		char have[sizeof errnos + 2];
		snprintf(have, sizeof have, ",%s,", errnos);
		if (!strstr(have, key)) {
			size_t l = strlen(errnos);
			snprintf(errnos + l, sizeof errnos - l, "%s%s", l ? "," : "", n);
		}
		return;
	}
	printf("probe %s: ESCAPED: %s\n", probe_name, what);
	escaped_any = 1;
}

/* The summary of a case made of attempts. */
static int verdict(void)
{
	if (escaped_any) {
		printf("probe %s: result: ESCAPED\n", probe_name);
		return 0;
	}
	printf("probe %s: result: blocked %s\n", probe_name, errnos);
	return 1;
}

/* The last line of a case that is not a list of attempts; returns rc. */
static int last_line(int rc, const char *label, const char *fmt, va_list ap)
{
	printf("probe %s: %s", probe_name, label);
	vprintf(fmt, ap);
	printf("\n");
	return rc;
}

__attribute__((format(printf, 1, 2))) static int contained(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = last_line(1, "result: contained: ", fmt, ap);
	va_end(ap);
	return rc;
}

__attribute__((format(printf, 1, 2))) static int groundwork_failed(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = last_line(2, "cannot run: ", fmt, ap);
	va_end(ap);
	return rc;
}

/* A positive control: the action must work. */
static int control(long rc, const char *what)
{
	if (rc < 0) {
		printf("probe %s: result: refused: %s: %s (%s)\n", probe_name, what, errno_name(errno),
		       strerror(errno));
		return 1;
	}
	printf("probe %s: result: allowed: %s\n", probe_name, what);
	return 0;
}

static void try_socket(int family, int type, int proto, const char *what)
{
	int fd = socket(family, type, proto);
	attempt(fd, what);
	if (fd >= 0)
		close(fd);
}

static void try_vsock(unsigned cid)
{
	char what[80];
	struct sockaddr_vm a;
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	snprintf(what, sizeof what, "AF_VSOCK connect to CID %u port 9000", cid);
	if (fd < 0) {
		attempt(fd, what);
		return;
	}
	memset(&a, 0, sizeof a);
	a.svm_family = AF_VSOCK;
	a.svm_cid = cid;
	a.svm_port = 9000;
	attempt(connect(fd, (struct sockaddr *)&a, sizeof a), what);
	close(fd);
}

static void try_tcp_connect(void)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) {
		attempt(fd, "TCP connect to 127.0.0.1:9");
		return;
	}
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(9);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	attempt(connect(fd, (struct sockaddr *)&a, sizeof a), "TCP connect to 127.0.0.1:9");
	close(fd);
}

/* Is the loopback interface up? (An ioctl through an AF_UNIX socket,
 * which works where AF_INET is refused.) */
static int loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return groundwork_failed("cannot read the flags of lo: %s", strerror(errno));
	printf("probe %s: result: lo is %s\n", probe_name, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
	return (ifr.ifr_flags & IFF_UP) ? 0 : 1;
}

/* A child to aim process-level probes at. */
static pid_t sleeper(void)
{
	pid_t p = fork();
	if (p == 0) {
		for (;;)
			pause();
	}
	return p;
}

static void reap(pid_t p)
{
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

static int ptrace_others(void)
{
	static char buf[16];
	struct iovec l = { buf, sizeof buf }, r = { buf, sizeof buf };
	pid_t p = sleeper();
	if (p < 0)
		return groundwork_failed("fork: %s", strerror(errno));
	attempt(ptrace(PTRACE_ATTACH, 1, NULL, NULL), "ptrace(PTRACE_ATTACH) of pid 1 (the sandbox's reaper)");
	attempt(ptrace(PTRACE_ATTACH, p, NULL, NULL), "ptrace(PTRACE_ATTACH) of a child");
	attempt(ptrace(PTRACE_SEIZE, p, NULL, NULL), "ptrace(PTRACE_SEIZE) of a child");
	attempt(ptrace(PTRACE_TRACEME, 0, NULL, NULL), "ptrace(PTRACE_TRACEME)");
	attempt(syscall(SYS_process_vm_readv, 1, &l, 1, &r, 1, 0), "process_vm_readv of pid 1");
	attempt(syscall(SYS_process_vm_writev, p, &l, 1, &r, 1, 0), "process_vm_writev of a child");
	reap(p);
	return verdict();
}

static void try_create(const char *path)
{
	char what[300];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	snprintf(what, sizeof what, "create %s", path);
	attempt(fd, what);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

/* Open an existing file for writing (nothing is written). */
static void try_open_write(const char *path)
{
	char what[300];
	int fd = open(path, O_WRONLY);
	snprintf(what, sizeof what, "open %s for writing", path);
	attempt(fd, what);
	if (fd >= 0)
		close(fd);
}

static void try_open_dev(const char *path)
{
	char what[300];
	int fd = open(path, O_RDWR);
	if (fd < 0 && errno == EACCES)
		fd = open(path, O_RDONLY);
	snprintf(what, sizeof what, "open %s", path);
	attempt(fd, what);
	if (fd >= 0)
		close(fd);
}

/* Read PATH through whatever links it is made of: an escape when the bytes
 * of a file planted outside the workspace come back, or when it can be
 * opened for writing. */
static void try_reach(const char *path)
{
	char what[300], buf[64];
	int fd = open(path, O_RDONLY);
	snprintf(what, sizeof what, "read %s", path);
	if (fd < 0) {
		attempt(fd, what);
	} else {
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (strstr(buf, OUTSIDE_MARK)) {
			attempt(0, what);
		} else {
			errno = ENOENT; /* it resolved to something else, not the planted file */
			printf("probe %s: resolves inside the sandbox, not to the planted file: %s\n", probe_name,
			       path);
			attempt(-1, what);
		}
	}
	snprintf(what, sizeof what, "open %s for writing", path);
	fd = open(path, O_WRONLY | O_APPEND);
	attempt(fd, what);
	if (fd >= 0)
		close(fd);
}

/* Links made by the build itself, from the working directory to TARGET, a
 * file of the root: writing through the symlink and making the hard link
 * must fail. */
static int links_out(const char *target)
{
	unlink("probe-sym");
	unlink("probe-hard");
	if (symlink(target, "probe-sym") < 0)
		return groundwork_failed("symlink in the workspace: %s", strerror(errno));
	try_open_write("probe-sym");
	attempt(link(target, "probe-hard"), "hard link from the workspace to a file of the root");
	attempt(link("/proc/self/exe", "probe-hard"), "hard link to /proc/self/exe");
	attempt(linkat(AT_FDCWD, "/proc/self/exe", AT_FDCWD, "probe-hard", AT_SYMLINK_FOLLOW),
		"hard link through /proc/self/exe (AT_SYMLINK_FOLLOW)");
	unlink("probe-sym");
	unlink("probe-hard");
	return verdict();
}

/* Look for set-uid/set-gid files in the root (not /proc, /work, /tmp). */
static unsigned scan_setid(const char *dir, int depth)
{
	unsigned found = 0;
	DIR *d;
	struct dirent *de;
	if (depth > 12 || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		char p[4096];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", strcmp(dir, "/") ? dir : "", de->d_name);
		if (!strcmp(p, "/proc") || !strcmp(p, "/work") || !strcmp(p, "/tmp") || lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			found += scan_setid(p, depth + 1);
		else if (S_ISREG(st.st_mode) && (st.st_mode & (S_ISUID | S_ISGID))) {
			printf("probe %s: set-id file: %s (mode %o, owner %u)\n", probe_name, p, st.st_mode & 07777,
			       (unsigned)st.st_uid);
			found++;
		}
	}
	closedir(d);
	return found;
}

/* Run each PATH (a set-uid-root copy of this probe) as `PATH euid`: the
 * kernel must not raise our privileges (nosuid mounts, no_new_privs). With
 * no PATH, look for any set-id file in the root. */
static int setuid_probe(int n, char **paths)
{
	attempt(setuid(0), "setuid(0)");
	attempt(setresuid(0, 0, 0), "setresuid(0, 0, 0)");
	attempt(setgid(0), "setgid(0)");
	if (n == 0) {
		unsigned found = scan_setid("/", 0);
		if (found)
			printf("probe %s: %u set-id file(s) in the root\n", probe_name, found);
		else
			printf("probe %s: no set-uid or set-gid file in the root\n", probe_name);
	}
	for (int i = 0; i < n; i++) {
		char what[300];
		int st;
		pid_t p = fork();
		if (p < 0)
			return groundwork_failed("fork: %s", strerror(errno));
		if (p == 0) {
			execl(paths[i], paths[i], "euid", (char *)NULL);
			_exit(3);
		}
		waitpid(p, &st, 0);
		snprintf(what, sizeof what, "exec set-uid-root %s gives euid 0", paths[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
			return groundwork_failed("%s did not run (status %#x)", paths[i], st);
		errno = EPERM;
		attempt(WEXITSTATUS(st) == 0 ? 0 : -1, what);
	}
	return verdict();
}

/* Run as a set-uid program: exit 0 when it made us root. */
static int euid_check(void)
{
	printf("probe %s: uid %u euid %u\n", probe_name, (unsigned)getuid(), (unsigned)geteuid());
	return geteuid() == 0 ? 0 : 1;
}

/* Leave the process tree: new session, double fork, and loop forever with
 * the token in our command line so the test can look for survivors. */
static int escape(void)
{
	pid_t p = fork();
	if (p < 0)
		return groundwork_failed("fork: %s", strerror(errno));
	if (p == 0) {
		setsid();
		if (fork() == 0) {
			signal(SIGHUP, SIG_IGN);
			signal(SIGTERM, SIG_IGN);
			for (;;)
				pause();
		}
		_exit(0);
	}
	waitpid(p, NULL, 0);
	printf("probe %s: started a detached grandchild in a new session\n", probe_name);
	return 0;
}

/* A build that never ends: a detached grandchild, and we wait forever. */
static int forever(void)
{
	if (escape() != 0)
		return 2;
	printf("probe %s: now waiting forever\n", probe_name);
	for (;;)
		pause();
}

/* Fork until refused; children wait to be killed. */
static int forkbomb(void)
{
	long n = 0;
	for (; n < 100000; n++) {
		pid_t p = fork();
		if (p < 0)
			break;
		if (p == 0) {
			for (;;)
				pause();
		}
	}
	int e = errno;
	printf("probe %s: %ld processes started, then fork failed: %s\n", probe_name, n, errno_name(e));
	printf("probe %s: result: contained: fork refused after %ld processes\n", probe_name, n);
	kill(0, SIGKILL); /* our process group: all of the children, and us */
	return 1;
}

/* Allocate and touch memory until killed (or refused). */
static int membomb(void)
{
	size_t total = 0;
	for (;;) {
		char *p = malloc(1 << 20);
		if (!p)
			break;
		memset(p, 1, 1 << 20);
		total += 1 << 20;
	}
	return contained("malloc refused after %zu MiB", total >> 20);
}

/* Write PATH until the file system (or a limit) says no. */
static int fill(const char *path)
{
	static char buf[1 << 20];
	unsigned long mib = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return groundwork_failed("create %s: %s", path, strerror(errno));
	memset(buf, 'x', sizeof buf);
	for (;;) {
		ssize_t n = write(fd, buf, sizeof buf);
		if (n < 0) {
			int e = errno;
			close(fd);
			return contained("writing %s failed after %lu MiB: %s", path, mib, errno_name(e));
		}
		if (n < (ssize_t)sizeof buf) {
			close(fd);
			return contained("writing %s stopped after %lu MiB (short write)", path, mib);
		}
		mib++;
	}
}

/* kill -9 -1: everything we may signal. Only the build's own processes
 * must be reachable; we (the caller) are spared by the kernel. */
static int kill_all(void)
{
	int st;
	pid_t p = sleeper();
	if (p < 0)
		return groundwork_failed("fork: %s", strerror(errno));
	printf("probe %s: kill(-1, SIGKILL)\n", probe_name);
	if (kill(-1, SIGKILL) < 0)
		return groundwork_failed("kill(-1, SIGKILL): %s", strerror(errno));
	waitpid(p, &st, 0);
	if (kill(1, 0) < 0)
		return groundwork_failed("pid 1 is gone: %s", strerror(errno));
	return contained("kill(-1, SIGKILL) reached our own child (%s); the sandbox's pid 1 lives",
			 WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed" : "not killed?");
}

/* Signals to pid 1 of the namespace: the kernel drops them (no handlers). */
static int kill_init(void)
{
	static const int sigs[] = { SIGKILL, SIGTERM, SIGINT, SIGHUP, SIGSTOP, SIGQUIT, SIGSEGV };
	int sent = 0;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sent += kill(1, sigs[i]) == 0;
	usleep(200 * 1000);
	char state = '?';
	FILE *f = fopen("/proc/1/stat", "r");
	if (!f)
		return groundwork_failed("pid 1 is gone: /proc/1/stat: %s", strerror(errno));
	if (fscanf(f, "%*d %*s %c", &state) != 1)
		state = '?';
	fclose(f);
	if (state == 'T' || state == 't' || state == 'Z' || state == 'X') {
		printf("probe %s: result: ESCAPED: pid 1 is in state %c\n", probe_name, state);
		return 0;
	}
	return contained(
		"%d signals sent to pid 1 (KILL, TERM, INT, HUP, STOP, QUIT, SEGV) had no effect; it is in state %c",
		sent, state);
}

static int settime(void)
{
	struct timespec ts;
	struct timeval tv;
	struct timex tx;
	clock_gettime(CLOCK_REALTIME, &ts);
	attempt(clock_settime(CLOCK_REALTIME, &ts), "clock_settime(CLOCK_REALTIME)");
	gettimeofday(&tv, NULL);
	attempt(settimeofday(&tv, NULL), "settimeofday");
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_OFFSET_SINGLESHOT;
	attempt(adjtimex(&tx), "adjtimex(ADJ_OFFSET_SINGLESHOT)");
	memset(&tx, 0, sizeof tx);
	tx.modes = ADJ_FREQUENCY;
	attempt(syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx), "clock_adjtime(ADJ_FREQUENCY)");
	return verdict();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sandbox_probe CASE [ARG...]\n");
		return 2;
	}
	const char *c = probe_name = argv[1];
	const char *arg = argc > 2 ? argv[2] : NULL;
	setvbuf(stdout, NULL, _IONBF, 0);

	/* --- network */
	if (!strcmp(c, "tcp")) {
		try_socket(AF_INET, SOCK_STREAM, 0, "socket(AF_INET, SOCK_STREAM)");
		try_socket(AF_INET6, SOCK_STREAM, 0, "socket(AF_INET6, SOCK_STREAM)");
		try_tcp_connect();
		return verdict();
	}
	if (!strcmp(c, "udp")) {
		try_socket(AF_INET, SOCK_DGRAM, 0, "socket(AF_INET, SOCK_DGRAM)");
		try_socket(AF_INET6, SOCK_DGRAM, 0, "socket(AF_INET6, SOCK_DGRAM)");
		return verdict();
	}
	if (!strcmp(c, "raw")) {
		try_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP, "socket(AF_INET, SOCK_RAW, ICMP)");
		try_socket(AF_INET, SOCK_RAW, IPPROTO_RAW, "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)");
		try_socket(AF_PACKET, SOCK_RAW, 0, "socket(AF_PACKET, SOCK_RAW)");
		return verdict();
	}
	if (!strcmp(c, "vsock")) {
		try_vsock(arg ? (unsigned)atoi(arg) : 3);
		return verdict();
	}
	if (!strcmp(c, "netlink")) {
		try_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "socket(AF_NETLINK, NETLINK_ROUTE)");
		try_socket(AF_NETLINK, SOCK_DGRAM, NETLINK_KOBJECT_UEVENT,
			   "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)");
		try_socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT, "socket(AF_NETLINK, NETLINK_AUDIT)");
		return verdict();
	}
	if (!strcmp(c, "socketpair-inet")) {
		int sv[2];
		attempt(socketpair(AF_INET, SOCK_STREAM, 0, sv), "socketpair(AF_INET)");
		return verdict();
	}
	if (!strcmp(c, "lo-up"))
		return loopback_up();
	if (!strcmp(c, "unix-bind")) { /* leaves a socket at ARG (a hostile output) */
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (!arg || strlen(arg) >= sizeof a.sun_path)
			return groundwork_failed("unix-bind needs a path shorter than %zu bytes", sizeof a.sun_path);
		memcpy(a.sun_path, arg, strlen(arg));
		return control(fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof a), "bind an AF_UNIX socket");
	}
	if (!strcmp(c, "unix")) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		return control(fd, "AF_UNIX socket");
	}

	/* --- other processes */
	if (!strcmp(c, "ptrace"))
		return ptrace_others();

	/* --- the file system view */
	if (!strcmp(c, "mount")) {
		attempt(mount("none", "/tmp", "tmpfs", 0, NULL), "mount tmpfs on /tmp");
		attempt(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL), "remount / read-write");
		attempt(mount("/work", "/tmp", NULL, MS_BIND, NULL), "bind /work onto /tmp");
		return verdict();
	}
	if (!strcmp(c, "umount")) {
		attempt(umount2("/work", MNT_DETACH), "umount2 /work");
		attempt(umount2("/proc", 0), "umount2 /proc");
		attempt(umount2("/", MNT_DETACH), "umount2 /");
		return verdict();
	}
	if (!strcmp(c, "pivot_root")) {
		attempt(syscall(SYS_pivot_root, "/tmp", "/tmp"), "pivot_root /tmp /tmp");
		attempt(chroot("/tmp"), "chroot /tmp");
		return verdict();
	}

	/* --- namespaces */
	if (!strcmp(c, "unshare")) {
		attempt(unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
		attempt(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
		attempt(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
		attempt(unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)");
		attempt(unshare(CLONE_NEWCGROUP), "unshare(CLONE_NEWCGROUP)");
		long p = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid((pid_t)p, NULL, 0);
		attempt(p, "clone(CLONE_NEWUSER)");
		return verdict();
	}
	if (!strcmp(c, "setns")) {
		static const char *const ns[] = { "/proc/self/ns/net", "/proc/self/ns/mnt", "/proc/1/ns/mnt",
						  "/proc/1/ns/pid" };
		for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
			char what[80];
			int fd = open(ns[i], O_RDONLY);
			snprintf(what, sizeof what, "setns to %s", ns[i]);
			attempt(fd < 0 ? fd : setns(fd, 0), what);
			if (fd >= 0)
				close(fd);
		}
		return verdict();
	}

	/* --- the kernel */
	if (!strcmp(c, "init_module")) {
		attempt(syscall(SYS_init_module, "", 0, ""), "init_module");
		return verdict();
	}
	if (!strcmp(c, "finit_module")) {
		int fd = open("/proc/self/exe", O_RDONLY);
		attempt(syscall(SYS_finit_module, fd, "", 0), "finit_module of our own binary");
		attempt(syscall(SYS_delete_module, "nsm", 0), "delete_module nsm");
		return verdict();
	}
	if (!strcmp(c, "reboot")) {
		attempt(syscall(SYS_reboot, 0xfee1dead, 0x28121969, 0x4321fedc, NULL), "reboot(POWER_OFF)");
		attempt(syscall(SYS_reboot, 0xfee1dead, 0x28121969, 0x01234567, NULL), "reboot(RESTART)");
		return verdict();
	}
	if (!strcmp(c, "kexec")) {
		attempt(syscall(SYS_kexec_load, 0, 0, NULL, 0), "kexec_load");
		attempt(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0), "kexec_file_load");
		return verdict();
	}
	if (!strcmp(c, "bpf")) {
		attempt(syscall(SYS_bpf, 0, NULL, 0), "bpf(BPF_MAP_CREATE)");
		attempt(syscall(SYS_bpf, 5, NULL, 0), "bpf(BPF_PROG_LOAD)");
		return verdict();
	}
	if (!strcmp(c, "perf")) {
		attempt(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), "perf_event_open");
		return verdict();
	}
	if (!strcmp(c, "keyctl")) {
		attempt(syscall(SYS_keyctl, 0, 0, 0, 0, 0), "keyctl");
		return verdict();
	}
	if (!strcmp(c, "userfaultfd")) {
		attempt(syscall(SYS_userfaultfd, 0), "userfaultfd");
		return verdict();
	}
	if (!strcmp(c, "open_by_handle_at")) {
		attempt(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0), "open_by_handle_at");
		return verdict();
	}
	if (!strcmp(c, "settime"))
		return settime();

	/* --- devices: every ARG (default: the ones that matter in an enclave) */
	if (!strcmp(c, "dev")) {
		static const char *const dflt[] = { "/dev/nsm", "/dev/mem", "/dev/kmsg", "/dev/vsock", "/dev/port" };
		if (argc > 2)
			for (int i = 2; i < argc; i++)
				try_open_dev(argv[i]);
		else
			for (size_t i = 0; i < sizeof dflt / sizeof dflt[0]; i++)
				try_open_dev(dflt[i]);
		attempt(mknod("/tmp/probe-mem", S_IFCHR | 0600, makedev(1, 1)), "mknod /tmp/probe-mem (as /dev/mem)");
		return verdict();
	}

	/* --- writing where a build must not */
	if (!strcmp(c, "write-outside")) {
		try_create("/cleanroom-probe");
		try_create("/etc/cleanroom-probe");
		try_create("/tmp/../cleanroom-probe");
		try_create("/work/../cleanroom-probe");
		try_open_write("/proc/sysrq-trigger");
		try_open_write("/proc/sys/kernel/hostname");
		try_open_write("/proc/1/mem");
		return verdict();
	}
	if (!strcmp(c, "write-rootfs")) {
		try_open_write("/bin/busybox");
		try_open_write("/etc/probe-writable"); /* mode 0666 in the native tests' root */
		try_create("/bin/cleanroom-probe");
		attempt(chmod("/bin/busybox", 04755), "chmod u+s /bin/busybox");
		attempt(unlink("/bin/sh"), "unlink /bin/sh");
		attempt(rename("/bin/busybox", "/bin/busybox.old"), "rename /bin/busybox");
		return verdict();
	}
	/* The same with the paths given (other roots, other layouts). */
	if (!strcmp(c, "write")) {
		for (int i = 2; i < argc; i++)
			try_create(argv[i]);
		return verdict();
	}
	if (!strcmp(c, "links"))
		return links_out(arg ? arg : "/bin/sh");
	if (!strcmp(c, "reach")) {
		for (int i = 2; i < argc; i++)
			try_reach(argv[i]);
		return verdict();
	}
	if (!strcmp(c, "setuid"))
		return setuid_probe(argc - 2, argv + 2);
	if (!strcmp(c, "euid"))
		return euid_check();

#if defined(__x86_64__)
	/* Other ABIs on the same CPU: the filter kills (SIGSYS) before the call. */
	if (!strcmp(c, "x32")) {
		attempt(syscall(0x40000000 | SYS_getpid), "x32 getpid");
		return verdict();
	}
	if (!strcmp(c, "int80")) {
		long rc;
		__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory"); /* i386 getpid */
		errno = rc < 0 ? (int)-rc : 0;
		attempt(rc < 0 ? -1 : rc, "i386 getpid through int 0x80");
		return verdict();
	}
#endif

	/* --- resources and processes, judged by how the sandbox ends them */
	if (!strcmp(c, "escape"))
		return escape();
	if (!strcmp(c, "forever"))
		return forever();
	if (!strcmp(c, "forkbomb"))
		return forkbomb();
	if (!strcmp(c, "membomb"))
		return membomb();
	if (!strcmp(c, "fill"))
		return fill(arg ? arg : "/tmp/probe-fill");
	if (!strcmp(c, "kill-all"))
		return kill_all();
	if (!strcmp(c, "kill-init"))
		return kill_init();
	fprintf(stderr, "sandbox_probe: unknown case '%s'\n", c);
	return 2;
}
