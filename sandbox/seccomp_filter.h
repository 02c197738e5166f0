/* The sandbox's seccomp filter: a classic-BPF program built from one table
 * of denied system calls (seccomp_filter.c), each with the errno it gets.
 *
 * Shape of the program (see docs/sandbox.md for the reason behind every rule):
 *   1. seccomp_data.arch must be the native ABI, else the process is killed
 *      (no i386 int 0x80 / compat syscalls on x86_64, no aarch32 on arm64);
 *   2. x86_64 only: syscall numbers with the x32 bit set kill the process;
 *   3. numbers above SECCOMP_NR_REVIEWED_MAX get ENOSYS: a syscall added to
 *      the kernel after this table was reviewed is refused until reviewed;
 *   4. the table: whole-syscall denials, and argument checks on the low 32
 *      bits of one argument (socket families, clone namespace flags, ioctl
 *      commands) -- the kernel truncates those arguments to 32 bits too;
 *   5. everything else is allowed.
 * A denylist, not an allowlist: builds run arbitrary toolchains, and an
 * allowlist that misses one syscall breaks them in ways hard to diagnose.
 * Rules that depend only on the syscall number let the kernel cache the
 * verdict (the seccomp action bitmap), so allowed calls cost nothing. */
#ifndef CLEANROOM_SECCOMP_FILTER_H
#define CLEANROOM_SECCOMP_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "base/util.h"

/* Highest syscall number the table below was checked against: mseal,
 * Linux 6.12 (numbers from 424 up are the same on every architecture). */
#define SECCOMP_NR_REVIEWED_MAX 462

/* Room for the whole program; seccomp_build fails if the table outgrows it. */
#define SECCOMP_PROG_MAX 512

enum seccomp_rule_kind {
	SR_DENY,        /* always denied */
	SR_DENY_UNLESS, /* denied unless the argument equals value */
	SR_DENY_IF,     /* denied if the argument equals value */
	SR_DENY_IF_ANY, /* denied if the argument has any bit of value set */
};

struct seccomp_rule {
	int nr;           /* native syscall number */
	const char *name; /* syscall name, for messages and tests */
	enum seccomp_rule_kind kind;
	unsigned arg;   /* argument index (not for SR_DENY) */
	uint32_t value; /* compared with the argument's low 32 bits */
	int err;        /* errno returned to the caller */
};

/* The table, in program order. */
const struct seccomp_rule *seccomp_rules(size_t *n);

/* The native audit architecture the program admits (AUDIT_ARCH_*). */
uint32_t seccomp_native_arch(void);

struct seccomp_prog {
	struct sock_filter insn[SECCOMP_PROG_MAX];
	size_t len;
};

/* Build the program from the table. Pure: no system calls. */
int seccomp_build(struct seccomp_prog *p, struct cr_err *e);

/* Install it on the calling thread. Requires no_new_privs (or
 * CAP_SYS_ADMIN). Async-signal-safe: returns 0, or -1 with errno. */
int seccomp_install(const struct seccomp_prog *p);

#endif
