/* sandbox_probe: one hostile action per run, for the sandbox tests.
 *
 *   sandbox_probe CASE [ARG]
 *
 * Built static by the tests so it runs in any root, and submitted as (part
 * of) a build: natively through `cleanroom sandbox-exec`, later through an
 * enclave. It prints one line
 *     probe CASE: blocked: <what> errno=<n> (<NAME>)
 *     probe CASE: allowed: <what>
 * and exits 0 when the action was refused, 1 when it succeeded (an escape,
 * unless the case is a positive control), 2 on a usage error. Cases that
 * cannot "succeed" in one step (timeouts, bombs) say what they did. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/vm_sockets.h>

static const char *probe_name;

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
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENOSPC: return "ENOSPC";
	case EFBIG: return "EFBIG";
	case ENOMEM: return "ENOMEM";
	default: return "other";
	}
}

/* Report the result of one call: rc < 0 is "blocked" (with errno). */
static int report(long rc, const char *what)
{
	if (rc < 0) {
		int e = errno;
		printf("probe %s: blocked: %s errno=%d (%s)\n", probe_name, what, e, errno_name(e));
		return 0;
	}
	printf("probe %s: allowed: %s\n", probe_name, what);
	return 1;
}

static int sock(int family, int type, int proto, const char *what)
{
	int fd = socket(family, type, proto);
	int rc = report(fd, what);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int vsock_connect(unsigned cid)
{
	char what[64];
	snprintf(what, sizeof what, "AF_VSOCK connect to CID %u port 9000", cid);
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (fd < 0)
		return report(fd, what);
	struct sockaddr_vm a;
	memset(&a, 0, sizeof a);
	a.svm_family = AF_VSOCK;
	a.svm_cid = cid;
	a.svm_port = 9000;
	int rc = report(connect(fd, (struct sockaddr *)&a, sizeof a), what);
	close(fd);
	return rc;
}

static int tcp_connect_loopback(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return report(fd, "TCP socket for 127.0.0.1");
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(9);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int rc = report(connect(fd, (struct sockaddr *)&a, sizeof a), "TCP connect 127.0.0.1:9");
	close(fd);
	return rc;
}

/* Is the loopback interface up? (An ioctl through an AF_UNIX socket,
 * which works where AF_INET is refused.) Exit 0 when it is. */
static int loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		printf("probe %s: cannot read the flags of lo: %s\n", probe_name, strerror(errno));
		return 1;
	}
	printf("probe %s: lo is %s\n", probe_name, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
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

static int ptrace_attach(void)
{
	pid_t p = sleeper();
	int rc = report(ptrace(PTRACE_ATTACH, p, NULL, NULL), "ptrace(PTRACE_ATTACH) of a child");
	reap(p);
	return rc;
}

static int vm_readv(void)
{
	pid_t p = sleeper();
	static char buf[16];
	struct iovec l = {buf, sizeof buf}, r = {buf, sizeof buf};
	int rc = report(syscall(SYS_process_vm_readv, p, &l, 1, &r, 1, 0), "process_vm_readv of a child");
	reap(p);
	return rc;
}

static int write_file(const char *path)
{
	char what[300];
	snprintf(what, sizeof what, "create %s", path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc = report(fd, what);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	return rc;
}

static int open_dev(const char *path)
{
	char what[300];
	snprintf(what, sizeof what, "open %s", path);
	int fd = open(path, O_RDWR);
	if (fd < 0 && errno == EACCES)
		fd = open(path, O_RDONLY);
	int rc = report(fd, what);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Leave the process tree: new session, double fork, and loop forever with
 * the token in our command line so the test can look for survivors. */
static int escape(void)
{
	pid_t p = fork();
	if (p < 0)
		return report(-1, "fork");
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
	printf("probe %s: %ld processes started, then fork failed errno=%d (%s)\n", probe_name, n, e, errno_name(e));
	kill(0, SIGKILL); /* our process group: all of the children, and us */
	return 0;
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
	printf("probe %s: malloc refused after %zu MiB\n", probe_name, total >> 20);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sandbox_probe CASE [ARG]\n");
		return 2;
	}
	const char *c = probe_name = argv[1];
	const char *arg = argc > 2 ? argv[2] : NULL;
	setvbuf(stdout, NULL, _IONBF, 0);

	if (!strcmp(c, "tcp")) return sock(AF_INET, SOCK_STREAM, 0, "TCP socket");
	if (!strcmp(c, "tcp-connect")) return tcp_connect_loopback();
	if (!strcmp(c, "udp")) return sock(AF_INET, SOCK_DGRAM, 0, "UDP socket");
	if (!strcmp(c, "tcp6")) return sock(AF_INET6, SOCK_STREAM, 0, "TCP/IPv6 socket");
	if (!strcmp(c, "raw")) return sock(AF_INET, SOCK_RAW, IPPROTO_ICMP, "raw ICMP socket");
	if (!strcmp(c, "packet")) return sock(AF_PACKET, SOCK_RAW, 0, "AF_PACKET socket");
	if (!strcmp(c, "netlink")) return sock(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "AF_NETLINK route socket");
	if (!strcmp(c, "vsock")) return vsock_connect(arg ? (unsigned)atoi(arg) : 2);
	if (!strcmp(c, "socketpair-inet")) {
		int sv[2];
		return report(socketpair(AF_INET, SOCK_STREAM, 0, sv), "socketpair(AF_INET)");
	}
	if (!strcmp(c, "lo-up")) return loopback_up();
	if (!strcmp(c, "unix")) return sock(AF_UNIX, SOCK_STREAM, 0, "AF_UNIX socket");
	if (!strcmp(c, "mount")) return report(mount("none", "/tmp", "tmpfs", 0, NULL), "mount tmpfs on /tmp");
	if (!strcmp(c, "umount")) return report(umount2("/work", MNT_DETACH), "umount2 /work");
	if (!strcmp(c, "pivot_root")) return report(syscall(SYS_pivot_root, "/tmp", "/tmp"), "pivot_root");
	if (!strcmp(c, "chroot")) return report(chroot("/tmp"), "chroot /tmp");
	if (!strcmp(c, "unshare-user")) return report(unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
	if (!strcmp(c, "unshare-net")) return report(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
	if (!strcmp(c, "unshare-ns")) return report(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
	if (!strcmp(c, "clone-user")) {
		long p = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
		if (p == 0)
			_exit(0);
		if (p > 0)
			waitpid((pid_t)p, NULL, 0);
		return report(p, "clone(CLONE_NEWUSER)");
	}
	if (!strcmp(c, "setns")) {
		int fd = open("/proc/self/ns/net", O_RDONLY);
		return report(fd < 0 ? fd : setns(fd, 0), "setns to our own net namespace");
	}
	if (!strcmp(c, "ptrace")) return ptrace_attach();
	if (!strcmp(c, "ptrace-traceme")) return report(ptrace(PTRACE_TRACEME, 0, NULL, NULL), "ptrace(PTRACE_TRACEME)");
	if (!strcmp(c, "process_vm_readv")) return vm_readv();
	if (!strcmp(c, "init_module")) return report(syscall(SYS_init_module, "", 0, ""), "init_module");
	if (!strcmp(c, "finit_module")) return report(syscall(SYS_finit_module, 0, "", 0), "finit_module");
	if (!strcmp(c, "reboot")) return report(syscall(SYS_reboot, 0xfee1dead, 0x28121969, 0x4321fedc, NULL), "reboot(POWER_OFF)");
	if (!strcmp(c, "kexec")) return report(syscall(SYS_kexec_load, 0, 0, NULL, 0), "kexec_load");
	if (!strcmp(c, "bpf")) return report(syscall(SYS_bpf, 0, NULL, 0), "bpf");
	if (!strcmp(c, "perf")) return report(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), "perf_event_open");
	if (!strcmp(c, "keyctl")) return report(syscall(SYS_keyctl, 0, 0, 0, 0, 0), "keyctl");
	if (!strcmp(c, "userfaultfd")) return report(syscall(SYS_userfaultfd, 0), "userfaultfd");
	if (!strcmp(c, "open_by_handle_at")) return report(syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0), "open_by_handle_at");
	if (!strcmp(c, "settime")) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		return report(clock_settime(CLOCK_REALTIME, &ts), "clock_settime(CLOCK_REALTIME)");
	}
	if (!strcmp(c, "setuid")) return report(setuid(0), "setuid(0)");
	if (!strcmp(c, "write")) return write_file(arg ? arg : "/usr/cleanroom-probe");
	if (!strcmp(c, "open")) return open_dev(arg ? arg : "/dev/mem");
	if (!strcmp(c, "kill-init")) {
		int rc = kill(1, SIGKILL);
		printf("probe %s: kill(1, SIGKILL) returned %d\n", c, rc);
		return 0;
	}
#if defined(__x86_64__)
	/* Other ABIs on the same CPU: the filter kills (SIGSYS) before the call. */
	if (!strcmp(c, "x32")) return report(syscall(0x40000000 | SYS_getpid), "x32 getpid");
	if (!strcmp(c, "int80")) {
		long rc;
		__asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory"); /* i386 getpid */
		errno = rc < 0 ? (int)-rc : 0;
		return report(rc < 0 ? -1 : rc, "i386 getpid through int 0x80");
	}
#endif
	if (!strcmp(c, "escape")) return escape();
	if (!strcmp(c, "forkbomb")) return forkbomb();
	if (!strcmp(c, "membomb")) return membomb();
	fprintf(stderr, "sandbox_probe: unknown case '%s'\n", c);
	return 2;
}
