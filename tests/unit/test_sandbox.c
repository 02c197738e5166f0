/* Unit tests for the pure parts of the sandbox: the seccomp program (run
 * through a small classic-BPF evaluator written here, so every verdict of
 * the table is checked without installing anything), the fixed environment
 * and the result helpers. The real runs are tests/cli/sandbox.sh. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>

#include <linux/audit.h>
#include <linux/seccomp.h>

#include "tests/unit/check.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"

#ifndef AF_VSOCK
# define AF_VSOCK 40
#endif

static struct seccomp_prog prog;

/* Evaluate the program on one seccomp_data; only the instructions the
 * builder emits are understood. Returns the action, or 0xdeadbeef when the
 * program is malformed (unknown opcode, jump or load out of range). */
static uint32_t eval(const struct seccomp_data *d)
{
	uint32_t a = 0;
	size_t pc = 0;
	while (pc < prog.len) {
		const struct sock_filter *f = &prog.insn[pc];
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k + 4 > sizeof *d || f->k % 4)
				return 0xdeadbeef;
			memcpy(&a, (const char *)d + f->k, 4);
			pc++;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += 1 + (a == f->k ? f->jt : f->jf); break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += 1 + (a > f->k ? f->jt : f->jf); break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += 1 + (a >= f->k ? f->jt : f->jf); break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += 1 + ((a & f->k) ? f->jt : f->jf); break;
		case BPF_RET | BPF_K: return f->k;
		default: return 0xdeadbeef;
		}
	}
	return 0xdeadbeef; /* fell off the end */
}

static uint32_t verdict(uint32_t arch, int nr, uint64_t a0, uint64_t a1)
{
	struct seccomp_data d;
	memset(&d, 0, sizeof d);
	d.arch = arch;
	d.nr = nr;
	d.args[0] = a0;
	d.args[1] = a1;
	return eval(&d);
}

static uint32_t native(int nr, uint64_t a0, uint64_t a1)
{
	return verdict(seccomp_native_arch(), nr, a0, a1);
}

#define ERRNO(e) (SECCOMP_RET_ERRNO | (uint32_t)(e))

static void test_shape(void)
{
	struct cr_err e;
	T_OK(seccomp_build(&prog, &e) == 0, "seccomp program builds");
	T_OK(prog.len > 10 && prog.len <= SECCOMP_PROG_MAX && prog.len <= BPF_MAXINSNS,
	     "seccomp program length %zu is within limits", prog.len);
	int jumps_ok = 1;
	for (size_t i = 0; i < prog.len; i++)
		if (BPF_CLASS(prog.insn[i].code) == BPF_JMP &&
		    (i + 1 + prog.insn[i].jt >= prog.len || i + 1 + prog.insn[i].jf >= prog.len))
			jumps_ok = 0;
	T_OK(jumps_ok, "every jump lands inside the program");
	T_OK(BPF_CLASS(prog.insn[prog.len - 1].code) == BPF_RET && prog.insn[prog.len - 1].k == SECCOMP_RET_ALLOW,
	     "the program ends with allow");
}

static void test_arch(void)
{
	uint32_t foreign = seccomp_native_arch() == AUDIT_ARCH_X86_64 ? AUDIT_ARCH_I386 : AUDIT_ARCH_ARM;
	T_OK(verdict(foreign, 0, 0, 0) == SECCOMP_RET_KILL_PROCESS, "foreign arch syscall 0 kills");
	T_OK(verdict(foreign, __NR_read, 0, 0) == SECCOMP_RET_KILL_PROCESS, "foreign arch read kills");
	T_OK(verdict(0, __NR_read, 0, 0) == SECCOMP_RET_KILL_PROCESS, "arch 0 kills");
#if defined(__x86_64__)
	T_OK(native(0x40000000 | __NR_read, 0, 0) == SECCOMP_RET_KILL_PROCESS, "x32 read kills");
	T_OK(native(0x40000000 | __NR_socket, AF_UNIX, 0) == SECCOMP_RET_KILL_PROCESS, "x32 socket kills");
#endif
	T_OK(native(SECCOMP_NR_REVIEWED_MAX + 1, 0, 0) == ERRNO(ENOSYS), "syscall past the reviewed range: ENOSYS");
	T_OK(native(0x3fffffff, 0, 0) == ERRNO(ENOSYS), "huge syscall number: ENOSYS");
}

static void test_allowed(void)
{
	static const int ok[] = { __NR_read,  __NR_write,  __NR_openat, __NR_close,   __NR_execve, __NR_mmap,
				  __NR_wait4, __NR_getpid, __NR_prctl,  __NR_seccomp, __NR_pipe2,  __NR_kill };
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		T_OK(native(ok[i], 0, 0) == SECCOMP_RET_ALLOW, "syscall %d is allowed", ok[i]);
	T_OK(native(__NR_socket, AF_UNIX, SOCK_STREAM) == SECCOMP_RET_ALLOW, "socket(AF_UNIX) allowed");
	T_OK(native(__NR_socketpair, AF_UNIX, SOCK_STREAM) == SECCOMP_RET_ALLOW, "socketpair(AF_UNIX) allowed");
	T_OK(native(__NR_socket, (1ull << 32) | AF_UNIX, 0) == SECCOMP_RET_ALLOW,
	     "socket: high bits ignored as the kernel does");
	T_OK(native(__NR_clone, SIGCHLD, 0) == SECCOMP_RET_ALLOW, "clone as fork allowed");
	uint64_t thread = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
			  CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
	T_OK(native(__NR_clone, thread, 0) == SECCOMP_RET_ALLOW, "clone of a thread allowed");
	T_OK(native(__NR_ioctl, 1, TCGETS) == SECCOMP_RET_ALLOW, "ioctl TCGETS allowed");
}

static void test_denied(void)
{
	static const int families[] = { AF_INET, AF_INET6, AF_VSOCK, AF_NETLINK, AF_PACKET, 0, 255 };
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
		T_OK(native(__NR_socket, (uint64_t)families[i], SOCK_STREAM) == ERRNO(EAFNOSUPPORT),
		     "socket(family %d) gets EAFNOSUPPORT", families[i]);
		T_OK(native(__NR_socketpair, (uint64_t)families[i], SOCK_STREAM) == ERRNO(EAFNOSUPPORT),
		     "socketpair(family %d) gets EAFNOSUPPORT", families[i]);
	}
	T_OK(native(__NR_socket, (1ull << 32) | AF_INET, 0) == ERRNO(EAFNOSUPPORT),
	     "socket(AF_INET | high bits) denied");
	static const uint64_t ns[] = { CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
				       CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET };
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
		T_OK(native(__NR_clone, ns[i] | SIGCHLD, 0) == ERRNO(EPERM), "clone with namespace flag %#llx denied",
		     (unsigned long long)ns[i]);
	T_OK(native(__NR_clone3, 0, 0) == ERRNO(ENOSYS), "clone3 gets ENOSYS (libc falls back to clone)");
	T_OK(native(__NR_ioctl, 0, TIOCSTI) == ERRNO(EPERM), "ioctl TIOCSTI denied");

	/* Every whole-syscall rule of the table, with its own errno. */
	size_t n;
	const struct seccomp_rule *r = seccomp_rules(&n);
	size_t whole = 0, right = 0;
	for (size_t i = 0; i < n; i++)
		if (r[i].kind == SR_DENY) {
			whole++;
			if (native(r[i].nr, 0, 0) == ERRNO(r[i].err))
				right++;
			else
				printf("# %s (%d): verdict %#x\n", r[i].name, r[i].nr, native(r[i].nr, 0, 0));
		}
	T_OK(whole >= 40 && whole == right, "all %zu whole-syscall denials give their errno", whole);

	/* The ones docs/sandbox.md promises by name. */
	static const char *const promised[] = {
		"ptrace",
		"process_vm_readv",
		"process_vm_writev",
		"mount",
		"umount2",
		"pivot_root",
		"move_mount",
		"open_tree",
		"fsopen",
		"unshare",
		"setns",
		"init_module",
		"finit_module",
		"delete_module",
		"reboot",
		"kexec_load",
		"kexec_file_load",
		"bpf",
		"perf_event_open",
		"keyctl",
		"add_key",
		"request_key",
		"userfaultfd",
		"open_by_handle_at",
		"name_to_handle_at",
		"settimeofday",
		"clock_settime",
		"adjtimex",
		"swapon",
		"swapoff",
		"acct",
		"lookup_dcookie",
		"quotactl",
		"chroot",
#if defined(__x86_64__)
		"iopl",
		"ioperm",
#endif
	};
	for (size_t i = 0; i < sizeof promised / sizeof promised[0]; i++) {
		int found = 0;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(r[j].name, promised[i]) && r[j].kind == SR_DENY &&
			    native(r[j].nr, 0, 0) == ERRNO(EPERM))
				found = 1;
		T_OK(found, "%s is denied with EPERM", promised[i]);
	}
}

static void test_env(void)
{
	char buf[SANDBOX_ENV_BUF];
	char *envp[SANDBOX_ENV_MAX];
	sandbox_env(1700000000, buf, envp);
	T_STR(envp[0], "PATH=/usr/local/bin:/usr/bin:/bin", "env PATH");
	T_STR(envp[1], "HOME=/tmp", "env HOME");
	T_STR(envp[2], "TZ=UTC", "env TZ");
	T_STR(envp[3], "LC_ALL=C", "env LC_ALL");
	T_STR(envp[4], "SOURCE_DATE_EPOCH=1700000000", "env SOURCE_DATE_EPOCH");
	T_OK(envp[5] == NULL, "env has exactly five entries");
	sandbox_env(UINT64_MAX, buf, envp);
	T_STR(envp[4], "SOURCE_DATE_EPOCH=18446744073709551615", "env SOURCE_DATE_EPOCH at its maximum fits");
}

static void test_result(void)
{
	struct sandbox_result r;
	struct sandbox_limits l;
	char s[256];
	sandbox_limits_default(&l);
	T_OK(l.timeout_ms == 3600000 && l.pids == 4096 && l.nofile == 4096 && l.memory_bytes == 0, "default limits");
	memset(&r, 0, sizeof r);
	r.exited = 1;
	r.exit_code = 3;
	T_OK(sandbox_exit_status(&r) == 3, "exit status of an exit");
	sandbox_describe(&r, &l, s, sizeof s);
	T_STR(s, "exited with status 3", "describe an exit");
	memset(&r, 0, sizeof r);
	r.signal = 9;
	r.timed_out = 1;
	r.wall_ms = 3600001;
	T_OK(sandbox_exit_status(&r) == 137, "exit status of a kill is 128+signal");
	sandbox_describe(&r, &l, s, sizeof s);
	T_OK(strstr(s, "timed out after 3600001 ms") != NULL, "describe a timeout: %s", s);
	r.timed_out = 0;
	r.oom_killed = 1;
	l.memory_bytes = 1 << 30;
	sandbox_describe(&r, &l, s, sizeof s);
	T_OK(strstr(s, "memory limit of 1073741824 bytes") != NULL, "describe an OOM kill: %s", s);
	memset(&r, 0, sizeof r);
	r.exited = 1;
	r.exit_code = 2;
	r.pids_limit_hit = 1;
	l.pids = 32;
	sandbox_describe(&r, &l, s, sizeof s);
	T_STR(s, "exited with status 2 (the pids limit refused a fork: at most 32 processes)",
	      "describe a refused fork, naming the limit");
	T_STR(cg_mode_name(CG_V2), "v2", "cgroup mode name");
}

int main(void)
{
	test_shape();
	test_arch();
	test_allowed();
	test_denied();
	test_env();
	test_result();
	return t_done();
}
