/* Probes for the kernel features the sandbox uses (see kernel_features.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/kernel_features.h"

/* For the probes that pass bad arguments on purpose: a kernel that knows
 * the call answers EINVAL or EBADF; only ENOSYS means it is missing. */
static int missing(long rc)
{
	return rc < 0 && errno == ENOSYS ? ENOSYS : 0;
}

/* For the probes that open "/" or "." as an O_PATH descriptor. */
static int close_if(long fd)
{
	if (fd >= 0)
		close((int)fd);
	return missing(fd);
}

static int probe_open_tree(void)
{
	/* flags 0: an O_PATH descriptor of "/", no mount is cloned */
	return close_if(syscall(__NR_open_tree, AT_FDCWD, "/", O_CLOEXEC));
}

static int probe_move_mount(void)
{
	/* no flags and bad descriptors: EBADF from a kernel that has it */
	return missing(syscall(__NR_move_mount, -1, "", -1, "", 0));
}

static int probe_pidfd(void)
{
	return close_if(syscall(__NR_pidfd_open, getpid(), 0));
}

static int probe_openat2(void)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = O_PATH | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return close_if(syscall(__NR_openat2, AT_FDCWD, ".", &how, sizeof how));
}

static int probe_close_range(void)
{
	/* a range above every open descriptor: nothing is closed */
	return missing(syscall(__NR_close_range, ~0u - 1, ~0u, 0u));
}

static int probe_mount_setattr(void)
{
	/* a size below the first version of struct mount_attr: EINVAL */
	return missing(syscall(__NR_mount_setattr, -1, "", AT_EMPTY_PATH, NULL, (size_t)0));
}

static int probe_seccomp(void)
{
	uint32_t action = SECCOMP_RET_ERRNO;
	long rc = syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
	return rc < 0 ? errno : 0;
}

/* CLONE_NEWNS|NEWPID|NEWNET|NEWIPC|NEWUTS and a cgroup namespace, as
 * sandbox_run asks for them, tried in a child that exits at once. */
static int probe_namespaces(void)
{
	int status;
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
		_exit(unshare(flags) == 0 ? 0 : (errno & 0x7f));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : ECHILD;
}

static const struct kernel_feature features[] = {
	{ "namespaces (mount, pid, net, ipc, uts, cgroup)", "CONFIG_NAMESPACES and each *_NS option",
	  probe_namespaces },
	{ "seccomp filters", "Linux 4.14+ with CONFIG_SECCOMP_FILTER", probe_seccomp },
	{ "open_tree", "Linux 5.2+", probe_open_tree },
	{ "move_mount", "Linux 5.2+", probe_move_mount },
	{ "pidfd_open", "Linux 5.3+", probe_pidfd },
	{ "openat2", "Linux 5.6+", probe_openat2 },
	{ "close_range", "Linux 5.9+", probe_close_range },
	{ "mount_setattr", "Linux 5.12+", probe_mount_setattr },
};

const struct kernel_feature *kernel_features(size_t *n)
{
	*n = sizeof features / sizeof features[0];
	return features;
}

int kernel_features_check(struct cr_err *e)
{
	struct utsname u;
	for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
		int err = features[i].probe();
		if (!err)
			continue;
		if (uname(&u) != 0)
			strcpy(u.release, "unknown");
		cr_fail_code(e, CR_E_NOKERNEL, "needs %s (%s); this kernel is %s%s%s", features[i].name,
			     features[i].since, u.release, err == ENOSYS ? "" : ": ",
			     err == ENOSYS ? "" : strerror(err));
		e->sys_errno = err;
		return -1;
	}
	return 0;
}
