/* The build sandbox: run one command in fresh namespaces, on a read-only
 * root, with a read-write workspace, as an unprivileged user with no
 * capabilities, under a seccomp filter, rlimits, cgroup limits and a
 * wall-clock timeout. Used by the enclave's build agent (init) and, natively
 * on a Linux host as root, by `cleanroom sandbox-exec`. The design and the
 * reason for every restriction: docs/sandbox.md.
 *
 *   struct sandbox_config c = {...};
 *   sandbox_limits_default(&c.limits);
 *   struct sandbox_result r;
 *   if (sandbox_run(&c, &r, &e)) -> setup failed, e says which step and why
 *   else r says how the command ended (exit code or signal, timed out,
 *        memory or pids limit hit, wall time).
 *
 * A caller may have other threads: the child never takes a libc lock.
 * sandbox_run reaps its own child with waitpid(pid): the caller must not
 * reap with waitpid(-1) (e.g. from a SIGCHLD handler) while it runs. It
 * installs no signal handler; a caller whose log_fd may be a broken pipe
 * should ignore SIGPIPE (a failed log write never stops the build). */
#ifndef CLEANROOM_SANDBOX_H
#define CLEANROOM_SANDBOX_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/cgroup_limits.h"
#include "base/util.h"

/* Where the workspace appears inside the sandbox (also the working dir). */
#define SANDBOX_WORKDIR "/work"
#define SANDBOX_HOSTNAME "cleanroom"
/* The fixed environment; nothing of the caller's environment goes in. */
#define SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"
#define SANDBOX_HOME "/tmp"

#define SANDBOX_MAX_ARGS 4096
#define SANDBOX_MAX_ARG_BYTES (256u * 1024)
/* Entries at the top of the root file system (each is one bind mount). */
#define SANDBOX_MAX_ROOT_ENTRIES 64

struct sandbox_limits {
	uint64_t timeout_ms;   /* wall clock for the whole tree; 0 = none */
	uint64_t memory_bytes; /* cgroup memory.max, swap 0; 0 = none */
	uint64_t pids;         /* cgroup pids.max; 0 = none */
	uint64_t nofile;       /* RLIMIT_NOFILE (soft = hard) */
	uint64_t fsize_bytes;  /* RLIMIT_FSIZE; 0 = unlimited */
	uint64_t cpu_seconds;  /* RLIMIT_CPU; 0 = unlimited */
	uint64_t tmp_bytes;    /* size of the /tmp and /dev/shm tmpfs each */
	uint64_t log_bytes;    /* log bytes passed on; past it the rest is dropped; 0 = all */
};

/* timeout 1 h, memory none, pids 4096, nofile 4096, fsize 16 GiB, cpu none,
 * tmp 1 GiB, log 64 MiB. */
void sandbox_limits_default(struct sandbox_limits *l);

struct sandbox_config {
	const char *rootfs;    /* directory, mounted read-only as / */
	const char *workspace; /* directory, mounted read-write at SANDBOX_WORKDIR */
	const char *cwd;       /* working directory, relative to the workspace; NULL = its top */
	char *const *argv;     /* NULL-terminated; argv[0] looked up in SANDBOX_PATH */
	uid_t uid;             /* not 0 */
	gid_t gid;             /* not 0 */
	uint64_t source_date_epoch;
	struct sandbox_limits limits;
	int log_fd; /* the command's stdout and stderr, combined, copied here live; -1 drops */
	/* Optional: once *cancel is non-zero (set by a signal handler or another
	 * thread), the whole sandbox is killed and the result says cancelled. */
	const volatile sig_atomic_t *cancel;
};

struct sandbox_result {
	int exited; /* the command exited: exit_code is valid */
	int exit_code;
	int signal;         /* else: the signal that killed it */
	int exec_errno;     /* sandbox_run failed because argv[0] could not be run
	                     * (e.g. ENOENT): the build's fault, not the sandbox's */
	int timed_out;      /* killed by the wall-clock timeout */
	int cancelled;      /* killed because the caller set *cancel */
	int oom_killed;     /* the memory limit was hit (the OOM killer ran) */
	int pids_limit_hit; /* a fork was refused by the pids limit */
	uint64_t wall_ms;
	uint64_t log_bytes;   /* bytes the command wrote to its log */
	int log_truncated;    /* more than limits.log_bytes: the rest was dropped */
	uint64_t memory_peak; /* bytes, when the cgroup reports it; else 0 */
	enum cg_mode cgroup;  /* how memory/pids limits were enforced */
};

/* The checks of sandbox_run() that need no file system or privilege: the
 * command, the limits, the working directory (relative, no ".."), the ids
 * (neither 0 nor -1). 0 when they pass; a caller may refuse bad options
 * before anything is set up. */
int sandbox_check_options(const struct sandbox_config *c, struct cr_err *e);

/* Run argv in the sandbox and wait for it (and everything it started) to
 * end. 0: the command ran, r says how it ended. -1: the sandbox could not be
 * set up or the command could not be started; e names the step and cause. */
int sandbox_run(const struct sandbox_config *c, struct sandbox_result *r, struct cr_err *e);

/* A shell-style status for r: the exit code, or 128 + signal. */
int sandbox_exit_status(const struct sandbox_result *r);

/* One line describing how the command ended ("exited with status 2",
 * "timed out after 10 s", "killed by the memory limit", ...). */
void sandbox_describe(const struct sandbox_result *r, const struct sandbox_limits *l, char *out, size_t cap);

/* The fixed environment for source_date_epoch: at most SANDBOX_ENV_MAX - 1
 * entries written into buf, envp NULL-terminated. */
#define SANDBOX_ENV_MAX 8
#define SANDBOX_ENV_BUF 256
void sandbox_env(uint64_t source_date_epoch, char buf[SANDBOX_ENV_BUF], char *envp[SANDBOX_ENV_MAX]);

#endif
