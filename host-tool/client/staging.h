/* Where cleanroom build's outputs land: a staging directory inside --out
 * (created, with --out itself when missing), filled with the outputs and
 * the signed report, then either committed (each file renamed into place)
 * or removed with everything in it: --out never holds part of a build. */
#ifndef CLEANROOM_STAGING_H
#define CLEANROOM_STAGING_H

#include <limits.h>
#include <stddef.h>

#include "base/util.h"
#include "vsock/wire.h"

struct staging {
	char out[PATH_MAX], dir[PATH_MAX];
	size_t created_out; /* --out (and parents) made here: the length of the first made, else 0 */
	/* the outputs and the report's files (the bundle, the envelope, the
	 * Sigstore bundle, the attestation document) */
	char *files[WIRE_MAX_OUTPUTS + 4];
	size_t nfiles;
};

/* Make --out (and its parents) when missing, and a fresh staging directory
 * in it. */
int staging_open(struct staging *st, const char *out, struct cr_err *e);
/* 1 when rel was staged already. */
int staging_has(const struct staging *st, const char *rel);
/* Record rel (a file the caller wrote at st->dir/rel) for commit or abort. */
int staging_record(struct staging *st, const char *rel, struct cr_err *e);
/* Create st->dir/rel (its parent directories too; never over an existing
 * file, never through a symlink) with mode, recorded; its path goes into
 * path. Returns the fd, open for writing, or -1 with e. */
int staging_create(struct staging *st, const char *rel, int mode, char *path, size_t cap, struct cr_err *e);
/* Rename every staged file into --out, then remove the staging directory.
 * Refused (CR_E_NOTREG), before anything is moved, when a destination
 * exists and is not a regular file (a device, FIFO, socket, symlink or
 * directory), or a directory on its way from --out is a symlink or not a
 * directory. A move that fails part way is undone: the files moved go back
 * (old files they replaced are restored, directories made are removed),
 * so --out holds the whole build or what it held before. */
int staging_commit(struct staging *st, struct cr_err *e);
/* Remove the staged files, the staging directory, and --out (with the
 * parents made for it) when it was created here. Idempotent. */
void staging_abort(struct staging *st);

#endif
