/* Private to sandbox.c (the supervising parent) and sandbox_child.c (what
 * runs inside the namespaces): the plan the parent prepares and the child
 * carries out, and the records the child reports back.
 *
 * Everything the child needs is computed in the parent before the clone
 * (paths resolved, the root's entries listed, argv checked, environment and
 * seccomp program built), so the child makes system calls only: no malloc,
 * no stdio, no libc fork, nothing that depends on libc state a raw clone()
 * may leave stale or locked (the caller may have other threads). */
#ifndef CLEANROOM_SANDBOX_PRIV_H
#define CLEANROOM_SANDBOX_PRIV_H

#include <limits.h>
#include <stdint.h>

#include "sandbox/sandbox.h"
#include "sandbox/seccomp_filter.h"

/* One entry at the top of the root file system. */
struct sb_entry {
	char name[NAME_MAX + 1];
	char kind;             /* 'd' directory, 'f' file (bind-mounted), 'l' symlink (recreated) */
	char target[PATH_MAX]; /* symlinks only */
};

struct sb_plan {
	char rootfs[PATH_MAX];    /* canonical */
	char workspace[PATH_MAX]; /* canonical */
	size_t n_entries;
	struct sb_entry entries[SANDBOX_MAX_ROOT_ENTRIES];
	char cwd[PATH_MAX]; /* inside: SANDBOX_WORKDIR or SANDBOX_WORKDIR/<cwd> */
	char *const *argv;
	char env_buf[SANDBOX_ENV_BUF];
	char *envp[SANDBOX_ENV_MAX];
	char tmpfs_opts[64]; /* "mode=1777,size=N" */
	uid_t uid;
	gid_t gid;
	struct sandbox_limits limits;
	struct seccomp_prog prog;
	/* The child's ends of the pipes. */
	int go_rd;     /* one byte from the parent once the cgroup is set; EOF = abort */
	int report_wr; /* struct sb_msg records */
	int log_wr;    /* the command's stdout and stderr */
};

enum sb_msg_kind {
	SB_MSG_SETUP = 1,  /* a setup step failed: text names it, err is errno */
	SB_MSG_EXEC = 2,   /* execvp failed: text is argv[0], err is errno */
	SB_MSG_STATUS = 3, /* the command ended: status is its wait status */
};

/* Fixed size, below PIPE_BUF, so every write is atomic. */
struct sb_msg {
	int32_t kind;
	int32_t err;
	int32_t status;
	char text[500];
};

/* The child: pid 1 of the new pid namespace. Never returns. */
_Noreturn void sb_child_main(const struct sb_plan *p);

/* Names the sandbox provides itself at the top of its root; a root's own
 * entries of these names are not used. */
int sb_reserved_name(const char *name);

#endif
