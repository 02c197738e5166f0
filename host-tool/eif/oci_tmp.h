/* The private work area of `cleanroom eif --oci`: one directory made with
 * mkdtemp under $TMPDIR (mode 0700), removed on every exit path, including
 * SIGINT/SIGTERM/SIGHUP while packing. The remover uses only system calls
 * (openat, getdents64, unlinkat), so the signal handler may call it; the
 * layer applier uses the same one for whiteouts and replaced directories. */
#ifndef CLEANROOM_OCI_TMP_H
#define CLEANROOM_OCI_TMP_H

#include "base/util.h"

struct oci_tmp {
	char path[4096]; /* the directory, absolute or as $TMPDIR names it */
	int fd;          /* open on it (O_DIRECTORY), -1 when none */
};

/* Create the directory and arm the signal handler (at most one at a time). */
int oci_tmp_create(struct oci_tmp *t, struct cr_err *e);
/* Remove the directory and everything in it; disarm. Safe to call twice. */
void oci_tmp_remove(struct oci_tmp *t);

/* Remove name under dirfd, recursively if it is a directory; symlinks are
 * removed, never followed. 0, or -1 with errno. Async-signal-safe. */
int oci_rm_at(int dirfd, const char *name);
/* Remove everything inside the directory open as dirfd. Async-signal-safe. */
int oci_rm_contents(int dirfd);

#endif
