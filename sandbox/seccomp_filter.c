/* The sandbox's seccomp filter; see seccomp_filter.h and docs/sandbox.md. */
#include "sandbox/seccomp_filter.h"
#include "sandbox/syscall_nr.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
# define NATIVE_ARCH AUDIT_ARCH_X86_64
# define X32_SYSCALL_BIT 0x40000000u
#elif defined(__aarch64__)
# define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
# error "seccomp filter: only x86_64 and aarch64 are supported"
#endif

/* Offset of the low 32 bits of argument i in struct seccomp_data. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#else
# define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)
#endif

/* Every namespace flag clone() accepts. (CLONE_NEWTIME shares its bit with
 * the exit signal in clone(), and exists only for clone3 and unshare, both
 * refused whole.) */
#define CLONE_NS_FLAGS \
 (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define DENY(n, e)               \
 {                               \
  __NR_##n, #n, SR_DENY, 0, 0, e \
 }
#define DENY_UNLESS(n, a, v, e)         \
 {                                      \
  __NR_##n, #n, SR_DENY_UNLESS, a, v, e \
 }
#define DENY_IF(n, a, v, e)         \
 {                                  \
  __NR_##n, #n, SR_DENY_IF, a, v, e \
 }
#define DENY_IF_ANY(n, a, v, e)         \
 {                                      \
  __NR_##n, #n, SR_DENY_IF_ANY, a, v, e \
 }

/* The reason for each group is in docs/sandbox.md ("The seccomp filter"). */
static const struct seccomp_rule rules[] = {
	/* Network: only AF_UNIX. EAFNOSUPPORT reads as "no such family here",
	 * which test suites treat as a skip rather than a failure. */
	DENY_UNLESS(socket, 0, AF_UNIX, EAFNOSUPPORT),
	DENY_UNLESS(socketpair, 0, AF_UNIX, EAFNOSUPPORT),
	/* Namespaces: no way out of (or around) the sandbox's own. */
	DENY_IF_ANY(clone, 0, CLONE_NS_FLAGS, EPERM),
	DENY(clone3, ENOSYS), /* flags live in memory seccomp cannot read; libc falls back to clone */
	DENY(unshare, EPERM),
	DENY(setns, EPERM),
	/* The mount table, old and new API, and the root. */
	DENY(mount, EPERM),
	DENY(umount2, EPERM),
	DENY(pivot_root, EPERM),
	DENY(chroot, EPERM),
	DENY(open_tree, EPERM),
	DENY(move_mount, EPERM),
	DENY(fsopen, EPERM),
	DENY(fsconfig, EPERM),
	DENY(fsmount, EPERM),
	DENY(fspick, EPERM),
	DENY(mount_setattr, EPERM),
	/* Other processes' memory and file descriptors. */
	DENY(ptrace, EPERM),
	DENY(process_vm_readv, EPERM),
	DENY(process_vm_writev, EPERM),
	DENY(pidfd_getfd, EPERM),
	DENY(process_madvise, EPERM),
	/* The kernel itself: modules, reboot, kexec, BPF, perf, logs. */
	DENY(init_module, EPERM),
	DENY(finit_module, EPERM),
	DENY(delete_module, EPERM),
	DENY(reboot, EPERM),
	DENY(kexec_load, EPERM),
	DENY(kexec_file_load, EPERM),
	DENY(bpf, EPERM),
	DENY(perf_event_open, EPERM),
	DENY(syslog, EPERM),
	DENY(lookup_dcookie, EPERM),
	DENY(acct, EPERM),
	DENY(swapon, EPERM),
	DENY(swapoff, EPERM),
	DENY(quotactl, EPERM),
	DENY(quotactl_fd, EPERM),
	DENY(vhangup, EPERM),
	DENY(fanotify_init, EPERM),
#ifdef __NR_iopl
	DENY(iopl, EPERM),
#endif
#ifdef __NR_ioperm
	DENY(ioperm, EPERM),
#endif
#ifdef __NR_uselib
	DENY(uselib, EPERM),
#endif
	/* Kernel keyrings are not namespaced. */
	DENY(keyctl, EPERM),
	DENY(add_key, EPERM),
	DENY(request_key, EPERM),
	/* Exploitation primitives builds never need. */
	DENY(userfaultfd, EPERM),
	DENY(io_uring_setup, ENOSYS),
	DENY(io_uring_enter, ENOSYS),
	DENY(io_uring_register, ENOSYS),
	/* File handles bypass the mount namespace ("shocker"). */
	DENY(open_by_handle_at, EPERM),
	DENY(name_to_handle_at, EPERM),
	/* The clock is the host's: the report's times depend on it. */
	DENY(settimeofday, EPERM),
	DENY(clock_settime, EPERM),
	DENY(clock_adjtime, EPERM),
	DENY(adjtimex, EPERM),
	/* Typing into a terminal the build does not own. */
	DENY_IF(ioctl, 1, TIOCSTI, EPERM),
	DENY_IF(ioctl, 1, TIOCLINUX, EPERM),
};

const struct seccomp_rule *seccomp_rules(size_t *n)
{
	*n = sizeof rules / sizeof rules[0];
	return rules;
}

uint32_t seccomp_native_arch(void)
{
	return NATIVE_ARCH;
}

static int emit(struct seccomp_prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k, struct cr_err *e)
{
	if (p->len >= SECCOMP_PROG_MAX)
		return cr_fail(e, "seccomp: program longer than %d instructions", SECCOMP_PROG_MAX);
	p->insn[p->len++] = (struct sock_filter){ code, jt, jf, k };
	return 0;
}

#define LD_ABS(off) (BPF_LD | BPF_W | BPF_ABS), 0, 0, (uint32_t)(off)
#define RET(v) (BPF_RET | BPF_K), 0, 0, (uint32_t)(v)

/* One rule. Whole-syscall denials are two instructions; argument checks
 * are five and reload the syscall number afterwards, so rules for the same
 * syscall can follow each other:
 *     jeq nr ? next : skip(4) ; ld arg ; j<op> value ; ret errno ; ld nr  */
static int emit_rule(struct seccomp_prog *p, const struct seccomp_rule *r, struct cr_err *e)
{
	uint32_t deny = SECCOMP_RET_ERRNO | ((uint32_t)r->err & SECCOMP_RET_DATA);
	if (r->kind == SR_DENY)
		return emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)r->nr, e) || emit(p, RET(deny), e);
	if (r->arg > 5)
		return cr_fail(e, "seccomp: rule for %s: argument index %u out of range", r->name, r->arg);
	uint16_t op;
	uint8_t jt, jf; /* from the compare: jump over the ret (1) or not (0) */
	switch (r->kind) {
	case SR_DENY_UNLESS:
		op = BPF_JEQ;
		jt = 1;
		jf = 0;
		break;
	case SR_DENY_IF:
		op = BPF_JEQ;
		jt = 0;
		jf = 1;
		break;
	case SR_DENY_IF_ANY:
		op = BPF_JSET;
		jt = 0;
		jf = 1;
		break;
	default: return cr_fail(e, "seccomp: rule for %s: unknown kind %d", r->name, (int)r->kind);
	}
	return emit(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, (uint32_t)r->nr, e) || emit(p, LD_ABS(ARG_LO(r->arg)), e) ||
	       emit(p, BPF_JMP | op | BPF_K, jt, jf, r->value, e) || emit(p, RET(deny), e) ||
	       emit(p, LD_ABS(offsetof(struct seccomp_data, nr)), e);
}

int seccomp_build(struct seccomp_prog *p, struct cr_err *e)
{
	p->len = 0;
	/* 1. The ABI: anything but the native one is killed outright. */
	if (emit(p, LD_ABS(offsetof(struct seccomp_data, arch)), e) ||
	    emit(p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, NATIVE_ARCH, e) || emit(p, RET(SECCOMP_RET_KILL_PROCESS), e) ||
	    emit(p, LD_ABS(offsetof(struct seccomp_data, nr)), e))
		return -1;
#ifdef X32_SYSCALL_BIT
	/* 2. x32 syscalls arrive with the x86_64 arch and bit 30 set. */
	if (emit(p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_SYSCALL_BIT, e) || emit(p, RET(SECCOMP_RET_KILL_PROCESS), e))
		return -1;
#endif
	/* 3. Syscalls newer than this table. */
	if (emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, 1, SECCOMP_NR_REVIEWED_MAX, e) ||
	    emit(p, RET(SECCOMP_RET_ERRNO | ENOSYS), e))
		return -1;
	/* 4. The table. */
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (rules[i].nr < 0 || rules[i].nr > SECCOMP_NR_REVIEWED_MAX)
			return cr_fail(e, "seccomp: rule for %s: number %d beyond the reviewed range", rules[i].name,
				       rules[i].nr);
		if (emit_rule(p, &rules[i], e))
			return -1;
	}
	/* 5. The rest. */
	return emit(p, RET(SECCOMP_RET_ALLOW), e);
}

int seccomp_install(const struct seccomp_prog *p)
{
	struct sock_fprog prog = {
		.len = (unsigned short)p->len,
		.filter = (struct sock_filter *)p->insn,
	};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0 ? 0 : -1;
}
