/* One directory walk for the host tool: every entry under a root, depth
 * first, each directory's entries in bytewise name order (so the visit
 * order, and whatever is built from it, does not depend on the file
 * system). Symlinks are reported, never followed. The callback decides what
 * an entry means (pack it, send it, hash it) and may refuse it.
 *
 * The walk goes by directory descriptors, never by path: each directory is
 * opened from its parent's descriptor (O_NOFOLLOW) and must be the one its
 * entry described, and entries are looked at relative to that descriptor.
 * So a directory of the tree swapped for a symlink while the walk runs
 * cannot lead it, or a callback that opens through dir_fd, outside the
 * tree. */
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
	int dir_fd;       /* the directory holding it, open during the callback:
			     open the entry as openat(dir_fd, name, ... O_NOFOLLOW);
			     its read position is at the end (list it through
			     openat(dir_fd, ".", ...)) */
};

/* Return 0 to continue, 1 to skip a directory's contents (and the directory
 * itself is still reported), -1 with e to stop the walk. */
typedef int (*dirwalk_fn)(void *ctx, const struct dirwalk_entry *x, struct cr_err *e);

/* Walk root (which must be a directory). Errors name the path. */
int dirwalk(const char *root, dirwalk_fn fn, void *ctx, struct cr_err *e);

/* "a socket", "a FIFO", "a character device", ... for refusals. */
const char *dirwalk_kind(mode_t m);

#endif
