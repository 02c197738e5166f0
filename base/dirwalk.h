/* One directory walk for the host tool: every entry under a root, depth
 * first, each directory's entries in bytewise name order (so the visit
 * order, and whatever is built from it, does not depend on the file
 * system). Symlinks are reported, never followed. The callback decides what
 * an entry means (pack it, send it, hash it) and may refuse it. */
#ifndef CLEANROOM_DIRWALK_H
#define CLEANROOM_DIRWALK_H

#include <sys/stat.h>

#include "base/util.h"

#define DIRWALK_MAX_DEPTH 256

struct dirwalk_entry {
	const char *path; /* on disk: root/rel */
	const char *rel;  /* relative to the root, '/'-separated */
	const char *name; /* last component */
	struct stat st;   /* lstat */
	int depth;        /* 1 for entries directly under the root */
};

/* Return 0 to continue, 1 to skip a directory's contents (and the directory
 * itself is still reported), -1 with e to stop the walk. */
typedef int (*dirwalk_fn)(void *ctx, const struct dirwalk_entry *x, struct cr_err *e);

/* Walk root (which must be a directory). Errors name the path. */
int dirwalk(const char *root, dirwalk_fn fn, void *ctx, struct cr_err *e);

/* "a socket", "a FIFO", "a character device", ... for refusals. */
const char *dirwalk_kind(mode_t m);

#endif
