/* Git tree ids of a file tree, in both of git's object formats (SHA-1 and
 * SHA-256), so that a verifier can compare a build's source tree with
 * `git rev-parse COMMIT^{tree}`. One implementation, used by the build agent
 * (for the streamed sources) and by the host tool (for a local directory).
 *
 * Blobs are hashed as the content streams by (blob_hasher); the tree only
 * keeps each file's path and hashes, never contents. Trees are built at the
 * end: paths sorted bytewise — which is git's order, since git compares a
 * directory as "name/" — then grouped per directory. As in git, directories
 * without files do not appear. */
#ifndef CLEANROOM_TREE_HASH_H
#define CLEANROOM_TREE_HASH_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"

#define GIT_MODE_FILE 0100644
#define GIT_MODE_EXEC 0100755
#define GIT_MODE_LINK 0120000

/* Which of a blob's two ids a blob_hasher computes (blob_begin: both). */
#define BLOB_SHA1 1u
#define BLOB_SHA256 2u

struct blob_hasher {
	unsigned which;
	br_sha1_context s1;
	br_sha256_context s256;
};

/* Start a blob of exactly size bytes ("blob <size>\0" is hashed first). */
void blob_begin(struct blob_hasher *b, uint64_t size);
/* The same, computing only the ids in which (BLOB_SHA1 | BLOB_SHA256): two
 * threads can each compute one id of the same bytes. */
void blob_begin_ids(struct blob_hasher *b, uint64_t size, unsigned which);
void blob_update(struct blob_hasher *b, const void *p, size_t n);
/* The ids computed; the others' arguments may be NULL and are not written. */
void blob_end(struct blob_hasher *b, uint8_t sha1[CR_SHA1_LEN], uint8_t sha256[CR_SHA256_LEN]);

struct tree_leaf {
	char *path;
	unsigned mode;
	uint8_t sha1[CR_SHA1_LEN], sha256[CR_SHA256_LEN];
};

struct tree_hasher {
	struct tree_leaf *v;
	size_t n, alloc, max;
};

void tree_hasher_init(struct tree_hasher *t, size_t max_entries);
void tree_hasher_free(struct tree_hasher *t);
/* A file or symlink at path (relative, '/'-separated) with its blob hashes. */
int tree_add(struct tree_hasher *t, const char *path, unsigned mode, const uint8_t sha1[CR_SHA1_LEN],
	     const uint8_t sha256[CR_SHA256_LEN], struct cr_err *e);
/* The root tree ids. Fails on a path given twice or a file that is also a
 * directory. */
int tree_finish(struct tree_hasher *t, uint8_t sha1[CR_SHA1_LEN], uint8_t sha256[CR_SHA256_LEN], struct cr_err *e);

#endif
