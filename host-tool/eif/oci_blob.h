/* Reading the files of an image: from an OCI layout directory, or from a
 * tar archive of one (an OCI archive, a `docker save` archive), without
 * unpacking the archive. Every blob is read through a checker that counts
 * its bytes and hashes them (SHA-256 or SHA-512, BearSSL), and refuses it
 * when it is longer or shorter than its descriptor says or hashes to
 * another digest.
 *
 * In an archive a file is found by reading the entry headers from the
 * start (the data of other entries is skipped by seeking, the archive is
 * uncompressed tar), so nothing but the one stream is in memory. */
#ifndef CLEANROOM_OCI_BLOB_H
#define CLEANROOM_OCI_BLOB_H

#include <bearssl.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"

#define OCI_DIGEST_TEXT_MAX (7 + 2 * 64) /* "sha512:" + 128 hex */
#define OCI_JSON_MAX (4u << 20)          /* index, manifest, config: 4 MiB each */

struct oci_digest {
	int alg; /* 256 or 512 */
	uint8_t v[64];
	char text[OCI_DIGEST_TEXT_MAX + 1]; /* "sha256:<hex>" */
};

/* Parse "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>". */
int oci_digest_parse(const char *s, struct oci_digest *d);

struct oci_src {
	int is_archive;
	int dirfd;         /* the layout directory, or the archive file */
	const char *label; /* the user's PATH, for messages */
};

/* Open PATH: a directory or a tar archive (regular file). */
int oci_src_open(struct oci_src *s, const char *path, struct cr_err *e);
void oci_src_close(struct oci_src *s);
/* 1 when the file exists in the source (regular file), 0 when not. */
int oci_src_has(struct oci_src *s, const char *name, struct cr_err *e);

struct oci_reader {
	struct oci_src *src;
	const char *name;
	int fd;                          /* directory source */
	void *outer;                     /* archive source: struct archive *, positioned at the data */
	uint64_t got;                    /* bytes read so far */
	uint64_t max;                    /* refuse more than this */
	int64_t want;                    /* the descriptor's size, -1 when none */
	const struct oci_digest *digest; /* NULL: not checked (caller checks otherwise) */
	br_sha256_context sha256;
	br_sha512_context sha512;
};

/* Open the file name of the source; want = expected size (-1: unknown, then
 * at most max bytes); digest may be NULL. */
int oci_reader_open(struct oci_reader *r, struct oci_src *s, const char *name, int64_t want, uint64_t max,
		    const struct oci_digest *digest, struct cr_err *e);
/* Up to n bytes; 0 at the end; -1 with e (too long, I/O). */
long oci_reader_read(struct oci_reader *r, void *buf, size_t n, struct cr_err *e);
/* Read what is left (bounded), then check size and digest. */
int oci_reader_finish(struct oci_reader *r, struct cr_err *e);
void oci_reader_close(struct oci_reader *r);

/* openat2(dirfd, name, flags | O_CLOEXEC | O_NOCTTY) resolving beneath
 * dirfd and through no symlink (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS): an fd, or -1 with errno (ELOOP: a symlink). */
int oci_open_beneath(int dirfd, const char *name, int flags);

/* A whole small file (JSON), checked, NUL-terminated; caller frees. */
int oci_read_small(struct oci_src *s, const char *name, int64_t want, const struct oci_digest *digest, uint8_t **data,
		   size_t *len, struct cr_err *e);
/* SHA-256 of a whole small file (the docker archive's config name). */
void oci_sha256(const void *p, size_t n, uint8_t out[CR_SHA256_LEN]);

#endif
