/* Memory and process-count limits for one sandbox, through a cgroup made
 * for it under the caller's own cgroup.
 *
 * cgroup v2 is the design (the enclave's init mounts cgroup2 with the memory
 * and pids controllers): memory.max, memory.swap.max = 0, memory.oom.group
 * = 1 (an OOM kills the whole build, not one random compiler) and pids.max.
 * On a host whose cgroup2 lacks those controllers but which mounts the v1
 * memory and pids hierarchies (like the development machines), the same
 * limits go through v1 (memory.limit_in_bytes, memory.memsw.limit_in_bytes,
 * pids.max), so that `cleanroom sandbox-exec` and its tests enforce exactly
 * what the enclave enforces. Nothing is ever mounted or remounted: the
 * cgroup is a child directory of the caller's cgroup in a hierarchy already
 * mounted. When a limit is asked for and neither way is available,
 * cg_create fails with a message saying why: a limit is never silently
 * dropped. */
#ifndef CLEANROOM_CGROUP_LIMITS_H
#define CLEANROOM_CGROUP_LIMITS_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

enum cg_mode {
	CG_NONE, /* no limit asked for: no cgroup made */
	CG_V2,
	CG_V1,
};

struct cg_limits {
	uint64_t memory_max; /* bytes; 0 = no limit */
	uint64_t pids_max;   /* tasks; 0 = no limit */
};

struct cg_ctx {
	enum cg_mode mode;
	char mem_dir[PATH_MAX];  /* v2: the one cgroup; v1: in the memory hierarchy */
	char pids_dir[PATH_MAX]; /* v1: in the pids hierarchy; v2: unused */
	int have_mem, have_pids; /* directories created by cg_create */
};

/* What the cgroup counted while the sandbox ran. */
struct cg_usage {
	uint64_t oom_kills;    /* processes the OOM killer killed */
	uint64_t pids_max_hit; /* forks refused by pids.max */
	uint64_t memory_peak;  /* bytes; 0 when the kernel does not say */
};

const char *cg_mode_name(enum cg_mode m);

/* Make the cgroup `name` and write the limits. With no limit asked for,
 * sets mode CG_NONE and succeeds. On failure nothing is left behind. */
int cg_create(struct cg_ctx *c, const struct cg_limits *l, const char *name, struct cr_err *e);

/* Move process pid into it (no-op for CG_NONE). */
int cg_enter(const struct cg_ctx *c, pid_t pid, struct cr_err *e);

/* Read the counters (zeros for CG_NONE). */
int cg_read_usage(const struct cg_ctx *c, struct cg_usage *u, struct cr_err *e);

/* Check that no process is left in the cgroup and remove it. If one is,
 * it is killed, the cgroup still removed when possible, and -1 returned:
 * the caller's "nothing survives" promise was broken. */
int cg_destroy(struct cg_ctx *c, struct cr_err *e);

#endif
