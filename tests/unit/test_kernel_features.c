/* The boot-time kernel feature check: passes on this kernel, and names the
 * feature when a seccomp filter makes its system call answer ENOSYS, as a
 * kernel without it would. Each case runs in a child, since a seccomp
 * filter cannot be removed. */
#include <errno.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "tests/unit/check.h"
#include "sandbox/kernel_features.h"

/* Install a filter: nr -> ENOSYS, everything else allowed. */
static int deny_enosys(long nr)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof f / sizeof f[0], .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Run the check in a child with nr denied (nr < 0: nothing denied); the
 * child writes its cr_err to the pipe. */
static int check_in_child(long nr, struct cr_err *out)
{
	int p[2], status;
	pid_t pid;
	memset(out, 0, sizeof *out);
	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct cr_err e;
		int rc;
		memset(&e, 0, sizeof e);
		close(p[0]);
		if (nr >= 0 && deny_enosys(nr) != 0)
			_exit(3);
		rc = kernel_features_check(&e);
		if (write(p[1], &e, sizeof e) != (ssize_t)sizeof e)
			_exit(4);
		_exit(rc ? 1 : 0);
	}
	close(p[1]);
	if (read(p[0], out, sizeof *out) != (ssize_t)sizeof *out)
		out->msg[0] = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static const struct {
	long nr;
	const char *name, *since;
} cases[] = {
	{ __NR_unshare, "namespaces", "CONFIG_NAMESPACES" },
	{ __NR_seccomp, "seccomp filters", "CONFIG_SECCOMP_FILTER" },
	{ __NR_open_tree, "open_tree", "(Linux 5.2+)" },
	{ __NR_move_mount, "move_mount", "(Linux 5.2+)" },
	{ __NR_pidfd_open, "pidfd_open", "(Linux 5.3+)" },
	{ __NR_openat2, "openat2", "(Linux 5.6+)" },
	{ __NR_close_range, "close_range", "(Linux 5.9+)" },
	{ __NR_mount_setattr, "mount_setattr", "(Linux 5.12+)" },
};

int main(void)
{
	struct cr_err e;
	size_t n;
	char want[128];
	const struct kernel_feature *f = kernel_features(&n);

	T_OK(n == sizeof cases / sizeof cases[0], "every feature has a case here (%zu)", n);
	for (size_t i = 0; i < n && i < sizeof cases / sizeof cases[0]; i++)
		T_OK(strstr(f[i].name, cases[i].name) == f[i].name, "table[%zu] is %s", i, cases[i].name);

	T_OK(check_in_child(-1, &e) == 0, "this kernel has everything (%s)", e.msg);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = check_in_child(cases[i].nr, &e);
		snprintf(want, sizeof want, "needs %s", cases[i].name);
		T_OK(rc == 1 && e.code == CR_E_NOKERNEL && e.sys_errno == ENOSYS,
		     "%s missing -> CR_E_NOKERNEL (rc %d, code %d, errno %d)", cases[i].name, rc, e.code, e.sys_errno);
		T_OK(strncmp(e.msg, want, strlen(want)) == 0 && strstr(e.msg, cases[i].since) &&
			     strstr(e.msg, "; this kernel is "),
		     "%s missing: message names it and the kernel: %s", cases[i].name, e.msg);
	}
	return t_done();
}
