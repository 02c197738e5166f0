/* Inside the sandbox: the steps pid 1 of the new namespaces takes, in
 * order, each checked and reported by name on failure (see docs/sandbox.md):
 *
 *   wait for the parent (cgroup placement) -> close inherited fds ->
 *   new cgroup namespace -> mounts private -> capture the root's entries
 *   and the workspace as detached bind mounts -> a fresh tmpfs becomes /
 *   -> root entries (read-only), /dev, /proc, /tmp, /run, /work -> / read-
 *   only -> hostname -> loopback up -> fork the command -> drop privileges
 *   -> reap until the command ends -> report its status.
 *
 * The command, pid 2: new session, stdin /dev/null, stdout+stderr to the
 * log pipe, umask 022, rlimits, then the same privilege drop (groups, gid,
 * uid, capabilities, bounding set, securebits, no_new_privs, seccomp), then
 * exec with the fixed environment.
 *
 * Only system calls here (see sandbox_priv.h): this runs in the child of a
 * raw clone(). */
#include "sandbox/sandbox_priv.h"
#include "sandbox/syscall_nr.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/securebits.h>

/* The new mount API (Linux 5.2; mount_setattr 5.12). Constants defined here
 * rather than taken from <linux/mount.h>, which clashes with <sys/mount.h>. */
#ifndef OPEN_TREE_CLONE
# define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
# define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_RDONLY
# define MOUNT_ATTR_RDONLY 0x00000001
# define MOUNT_ATTR_NOSUID 0x00000002
# define MOUNT_ATTR_NODEV 0x00000004
#endif

struct sb_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

extern char **environ;

/* Report a failed step (errno as it was) to the parent and exit. */
__attribute__((format(printf, 3, 4))) static _Noreturn void fail(const struct sb_plan *p, int kind, const char *fmt,
								 ...)
{
	struct sb_msg m;
	va_list ap;
	memset(&m, 0, sizeof m);
	m.kind = kind;
	m.err = errno;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof m.text, fmt, ap);
	va_end(ap);
	ssize_t n = write(p->report_wr, &m, sizeof m);
	(void)n;
	_exit(127);
}

#define CHECK(p, ok, ...)              \
 do {                                  \
  if (!(ok))                           \
   fail(p, SB_MSG_SETUP, __VA_ARGS__); \
 } while (0)

/* ------------------------------------------------------------ process state */

static void reset_signals(void)
{
	sigset_t none;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Close every fd from 3 up except the plan's own pipes: the caller's files
 * and sockets (the build agent's vsock connection) must not leak in. */
static void close_inherited(const struct sb_plan *p)
{
	int keep[3] = { p->go_rd, p->report_wr, p->log_wr };
	unsigned lo = 3;
	/* sort three ints in place, no libc */
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2 - i; j++)
			if (keep[j] > keep[j + 1]) {
				int t = keep[j];
				keep[j] = keep[j + 1];
				keep[j + 1] = t;
			}
	for (int i = 0; i <= 3; i++) {
		unsigned hi = i < 3 ? (unsigned)keep[i] : ~0u; /* close [lo, hi) */
		if (hi > lo && syscall(__NR_close_range, lo, hi - 1, 0) != 0) {
			CHECK(p, errno == ENOSYS, "close inherited file descriptors %u-%u", lo, hi - 1);
			for (unsigned fd = lo; fd < hi && fd < 65536; fd++)
				close((int)fd);
		}
		if (i < 3)
			lo = (unsigned)keep[i] + 1;
	}
}

/* ------------------------------------------------------------ file system */

static int open_tree_clone(const char *path)
{
	return (int)syscall(__NR_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | O_CLOEXEC);
}

static int set_attr(int tree, uint64_t attrs)
{
	struct sb_mount_attr a = { .attr_set = attrs };
	return (int)syscall(__NR_mount_setattr, tree, "", AT_EMPTY_PATH, &a, sizeof a);
}

static int attach(int tree, const char *to)
{
	return (int)syscall(__NR_move_mount, tree, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH);
}

struct dev_node {
	const char *name;
	unsigned major, minor;
};

/* Only what builds use. No /dev/nsm, /dev/mem, /dev/kmsg, no disks, no vsock. */
static const struct dev_node dev_nodes[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static const char *const dev_links[][2] = {
	{ "fd", "/proc/self/fd" },
	{ "stdin", "/proc/self/fd/0" },
	{ "stdout", "/proc/self/fd/1" },
	{ "stderr", "/proc/self/fd/2" },
};

static void make_dev(const struct sb_plan *p)
{
	CHECK(p, mkdir("/dev", 0755) == 0, "mkdir /dev");
	CHECK(p, mount("cleanroom-dev", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") == 0,
	      "mount tmpfs on /dev");
	for (size_t i = 0; i < sizeof dev_nodes / sizeof dev_nodes[0]; i++) {
		char path[32];
		snprintf(path, sizeof path, "/dev/%s", dev_nodes[i].name);
		CHECK(p, mknod(path, S_IFCHR | 0666, makedev(dev_nodes[i].major, dev_nodes[i].minor)) == 0, "mknod %s",
		      path);
	}
	for (size_t i = 0; i < sizeof dev_links / sizeof dev_links[0]; i++) {
		char path[32];
		snprintf(path, sizeof path, "/dev/%s", dev_links[i][0]);
		CHECK(p, symlink(dev_links[i][1], path) == 0, "symlink %s", path);
	}
	CHECK(p, mkdir("/dev/shm", 01777) == 0, "mkdir /dev/shm");
	CHECK(p, mount("cleanroom-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, p->tmpfs_opts) == 0,
	      "mount tmpfs on /dev/shm (%s)", p->tmpfs_opts);
	CHECK(p, mount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL) == 0,
	      "remount /dev read-only");
}

/* Build the sandbox's root and enter it. */
static void build_root(const struct sb_plan *p)
{
	int tree[SANDBOX_MAX_ROOT_ENTRIES];
	char path[PATH_MAX + NAME_MAX + 2];
	const char *base = strcmp(p->rootfs, "/") ? p->rootfs : "";

	/* Nothing done here may propagate back to the caller's mounts. */
	CHECK(p, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "make all mounts private");

	/* 1. Capture every source as a detached, non-recursive bind mount
	 *    before anything is mounted over anything: a source under the
	 *    staging directory stays reachable. Root entries read-only. */
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct sb_entry *en = &p->entries[i];
		tree[i] = -1;
		if (en->kind == 'l')
			continue;
		snprintf(path, sizeof path, "%s/%s", base, en->name);
		CHECK(p, (tree[i] = open_tree_clone(path)) >= 0, "bind %s (open_tree)", path);
		CHECK(p, set_attr(tree[i], MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) == 0,
		      "make %s read-only (mount_setattr)", path);
	}
	int work = open_tree_clone(p->workspace);
	CHECK(p, work >= 0, "bind %s (open_tree)", p->workspace);
	CHECK(p, set_attr(work, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) == 0, "set nosuid,nodev on %s", p->workspace);

	/* 2. A fresh tmpfs becomes /: staged on the workspace directory
	 *    (captured above, so covering it here is harmless), moved over /,
	 *    entered with chroot. pivot_root cannot be used: in the enclave the
	 *    caller's root is the initramfs, which pivot_root refuses. The old
	 *    root stays covered and unreachable without CAP_SYS_CHROOT/mount. */
	CHECK(p, mount("cleanroom-root", p->workspace, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") == 0,
	      "mount the root tmpfs");
	CHECK(p, chdir(p->workspace) == 0, "chdir to the root tmpfs");
	CHECK(p, mount(".", "/", NULL, MS_MOVE, NULL) == 0, "move the root tmpfs onto /");
	CHECK(p, chroot(".") == 0, "chroot into the new root");
	CHECK(p, chdir("/") == 0, "chdir /");

	/* 3. The root file system's entries. */
	for (size_t i = 0; i < p->n_entries; i++) {
		const struct sb_entry *en = &p->entries[i];
		snprintf(path, sizeof path, "/%s", en->name);
		if (en->kind == 'l') {
			CHECK(p, symlink(en->target, path) == 0, "symlink %s -> %s", path, en->target);
			continue;
		}
		if (en->kind == 'd')
			CHECK(p, mkdir(path, 0755) == 0, "mkdir %s", path);
		else {
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			CHECK(p, fd >= 0, "create mount point %s", path);
			close(fd);
		}
		CHECK(p, attach(tree[i], path) == 0, "mount %s%s on %s (move_mount)", base, path, path);
		close(tree[i]);
	}

	/* 4. Devices, processes, scratch space, the workspace. */
	make_dev(p);
	CHECK(p, mkdir("/proc", 0555) == 0, "mkdir /proc");
	CHECK(p, mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0, "mount /proc");
	CHECK(p, mkdir("/tmp", 01777) == 0, "mkdir /tmp");
	CHECK(p, mount("cleanroom-tmp", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, p->tmpfs_opts) == 0,
	      "mount tmpfs on /tmp (%s)", p->tmpfs_opts);
	CHECK(p, mkdir("/run", 0755) == 0, "mkdir /run");
	CHECK(p, mkdir(SANDBOX_WORKDIR, 0755) == 0, "mkdir %s", SANDBOX_WORKDIR);
	CHECK(p, attach(work, SANDBOX_WORKDIR) == 0, "mount %s on %s (move_mount)", p->workspace, SANDBOX_WORKDIR);
	close(work);

	/* 5. The root itself read-only. */
	CHECK(p, mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) == 0,
	      "remount / read-only");
}

/* ------------------------------------------------------------ network, names */

/* A new network namespace has only lo, and it is down. The ioctl goes
 * through an AF_UNIX socket so this works without an IP stack too. */
static void loopback_up(const struct sb_plan *p)
{
	struct ifreq ifr;
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(p, s >= 0, "socket for the loopback ioctl");
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", 3);
	CHECK(p, ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "read the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	CHECK(p, ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "bring lo up");
	close(s);
}

/* ------------------------------------------------------------ privileges */

static void set_rlimits(const struct sb_plan *p)
{
	const struct sandbox_limits *l = &p->limits;
	struct {
		int res;
		const char *name;
		rlim_t soft, hard;
	} t[] = {
		{ RLIMIT_CORE, "RLIMIT_CORE", 0, 0 },
		{ RLIMIT_NOFILE, "RLIMIT_NOFILE", l->nofile, l->nofile },
		{ RLIMIT_FSIZE, "RLIMIT_FSIZE", l->fsize_bytes ? l->fsize_bytes : RLIM_INFINITY,
		  l->fsize_bytes ? l->fsize_bytes : RLIM_INFINITY },
		{ RLIMIT_CPU, "RLIMIT_CPU", l->cpu_seconds ? l->cpu_seconds : RLIM_INFINITY,
		  l->cpu_seconds ? l->cpu_seconds : RLIM_INFINITY },
		/* fixed, so the build does not see the caller's */
		{ RLIMIT_STACK, "RLIMIT_STACK", 8u << 20, RLIM_INFINITY },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct rlimit r = { t[i].soft, t[i].hard };
		CHECK(p, setrlimit(t[i].res, &r) == 0, "setrlimit %s", t[i].name);
	}
}

/* From root to p->uid/p->gid with nothing left: no supplementary groups, no
 * capabilities in any set (bounding and ambient included), securebits
 * locked so that uid 0 would not regain them either, no_new_privs, and the
 * seccomp filter last. Each step is verified, not assumed. */
static void drop_privileges(const struct sb_plan *p)
{
	CHECK(p,
	      prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
					       SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
					       SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED) == 0,
	      "lock securebits");
	for (int cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
			continue;
		CHECK(p, errno == EINVAL, "drop capability %d from the bounding set", cap);
		break; /* past the last capability this kernel knows */
	}
	CHECK(p, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == 0 || errno == EINVAL,
	      "clear ambient capabilities");
	/* Raw syscalls: this thread only, no libc broadcast machinery. */
	CHECK(p, syscall(SYS_setgroups, 0, NULL) == 0, "drop supplementary groups");
	CHECK(p, syscall(SYS_setresgid, p->gid, p->gid, p->gid) == 0, "setresgid %u", (unsigned)p->gid);
	CHECK(p, syscall(SYS_setresuid, p->uid, p->uid, p->uid) == 0, "setresuid %u", (unsigned)p->uid);

	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof d);
	CHECK(p, syscall(SYS_capset, &h, d) == 0, "clear capabilities");

	/* Verify. */
	uid_t r, ef, s;
	gid_t gr, ge, gs;
	CHECK(p, syscall(SYS_getresuid, &r, &ef, &s) == 0 && r == p->uid && ef == p->uid && s == p->uid,
	      "verify uid %u", (unsigned)p->uid);
	CHECK(p, syscall(SYS_getresgid, &gr, &ge, &gs) == 0 && gr == p->gid && ge == p->gid && gs == p->gid,
	      "verify gid %u", (unsigned)p->gid);
	CHECK(p, syscall(SYS_getgroups, 0, NULL) == 0, "verify no supplementary groups");
	CHECK(p, syscall(SYS_capget, &h, d) == 0, "read capabilities");
	errno = 0;
	CHECK(p,
	      !d[0].effective && !d[0].permitted && !d[0].inheritable && !d[1].effective && !d[1].permitted &&
		      !d[1].inheritable,
	      "verify no capabilities");
	CHECK(p, syscall(SYS_setresuid, 0, 0, 0) != 0, "verify uid 0 cannot be regained");

	CHECK(p, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "set no_new_privs");
	CHECK(p, seccomp_install(&p->prog) == 0, "install the seccomp filter");
}

/* ------------------------------------------------------------ the command */

static _Noreturn void run_command(const struct sb_plan *p)
{
	CHECK(p, setsid() >= 0, "setsid");
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(p, null >= 0, "open /dev/null");
	CHECK(p, dup2(null, 0) == 0, "stdin from /dev/null");
	CHECK(p, dup2(p->log_wr, 1) == 1 && dup2(p->log_wr, 2) == 2, "stdout and stderr to the log");
	umask(022);
	set_rlimits(p);
	drop_privileges(p);
	environ = (char **)p->envp;
	execvp(p->argv[0], p->argv);
	fail(p, SB_MSG_EXEC, "%s", p->argv[0]);
}

/* ------------------------------------------------------------ pid 1 */

/* fork() without libc: libc's fork takes its internal locks first, and a
 * lock another thread of the caller held at the moment of our raw clone
 * would never be released here. */
static pid_t raw_fork(void)
{
	return (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
}

_Noreturn void sb_child_main(const struct sb_plan *p)
{
	char go;
	ssize_t n;
	/* Die with the parent; wait until it has put us into the cgroup. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		_exit(127);
	do
		n = read(p->go_rd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(127); /* the parent gave up or died: nobody to report to */
	reset_signals();
	close_inherited(p);
	umask(0);
	/* Now that we are in the cgroup: make it the root of our view. */
	CHECK(p, unshare(CLONE_NEWCGROUP) == 0, "new cgroup namespace");
	build_root(p);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(p, null >= 0 && dup2(null, 0) == 0 && dup2(null, 1) == 1 && dup2(null, 2) == 2,
	      "stdio of the sandbox init to /dev/null");
	CHECK(p, sethostname(SANDBOX_HOSTNAME, strlen(SANDBOX_HOSTNAME)) == 0, "set the host name");
	CHECK(p, setdomainname("(none)", 6) == 0, "set the domain name");
	loopback_up(p);
	CHECK(p, chdir(p->cwd) == 0, "chdir %s", p->cwd);

	pid_t cmd = raw_fork();
	CHECK(p, cmd >= 0, "fork the command");
	if (cmd == 0)
		run_command(p);
	close(p->log_wr);

	/* pid 1 keeps nothing either. Changing uid clears the parent-death
	 * signal: set it again, then make sure the parent did not die before. */
	drop_privileges(p);
	CHECK(p, prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0, "set the parent-death signal");
	struct pollfd pf = { p->report_wr, POLLOUT, 0 };
	if (poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR))
		_exit(127);

	/* Reap everything; when the command ends, report it and exit, which
	 * makes the kernel kill whatever it left running. */
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0 && errno == EINTR)
			continue;
		CHECK(p, w >= 0, "wait for the command");
		if (w == cmd) {
			struct sb_msg m;
			memset(&m, 0, sizeof m);
			m.kind = SB_MSG_STATUS;
			m.status = st;
			n = write(p->report_wr, &m, sizeof m);
			_exit(n == (ssize_t)sizeof m ? 0 : 127);
		}
	}
}
