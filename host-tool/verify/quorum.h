/* Agreement across builders (`cleanroom verify --quorum K`): several
 * bundles of one build, each made by a different enclave, each verified in
 * full (bundle_verify), then compared.
 *
 * A bundle is one of:
 *   builder         verified; the build definition of the quorum; a builder
 *                   not seen before: it gets a column (B1, B2, ...)
 *   failed          a check failed (the first failed check says which)
 *   other_image     its first failed check is "pcrs": an image outside the
 *                   allowed set
 *   other_source    verified, but another source tree or dependency tree
 *                   than the quorum's (also: the "source" check failed)
 *   other_command   verified, same trees, but another command,
 *                   SOURCE_DATE_EPOCH or set of outputs (the subjects'
 *                   names, in any order) (the limits, internal parameters whose
 *                   defaults follow each enclave's memory, are not compared)
 *   duplicate       verified, but by a builder already counted: the same
 *                   attestation module id OR the same bound signing key as
 *                   an earlier builder (the same enclave, or the same bundle
 *                   given twice). The first one given counts.
 * The quorum's build definition (source and deps trees, command, SOURCE_
 * DATE_EPOCH, outputs) is the one the most distinct builders share among the
 * verified bundles; on a tie, the one given first.
 *
 * The artifacts (rows): the ARTIFACT files given, each matched to a subject
 * of every builder's statement as `cleanroom verify` does (the longest
 * subject name equal to the path or a suffix of it after '/'), the file's
 * SHA-256 and SHA-384 being the digest to agree on; or, without files, every
 * subject name of any builder, the digest to agree on being the one the most
 * builders report (the first on a tie; none when no two builders report the
 * same one). A row has its quorum when at least K builders report
 * that digest and no other digest is reported by K builders. The quorum
 * holds when every row has its quorum and there is at least one row. */
#ifndef CLEANROOM_QUORUM_H
#define CLEANROOM_QUORUM_H

#include <stdio.h>

#include "host-tool/verify/bundle_verify.h"

#define QUORUM_MAX_BUNDLES 64
#define QUORUM_MAX_ROWS (QUORUM_MAX_BUNDLES * WIRE_MAX_OUTPUTS)
#define QUORUM_KEY_FP_HEX 16 /* hex digits of the key fingerprint shown */

enum qb_status { QB_BUILDER, QB_FAILED, QB_OTHER_IMAGE, QB_OTHER_SOURCE, QB_OTHER_COMMAND, QB_DUPLICATE };

struct quorum_bundle {
	const char *path;
	struct bv_result *r;
	enum qb_status status;
	int column;      /* QB_BUILDER: its column, from 0 */
	int dup_of;      /* QB_DUPLICATE: the bundle (index) counted for this builder */
	int same_bundle; /* QB_DUPLICATE: the very same statement */
	/* SHA-256 of the bound key's DER SubjectPublicKeyInfo, its first
	 * QUORUM_KEY_FP_HEX hex digits ("" without a verified document) */
	char key_fp[QUORUM_KEY_FP_HEX + 1];
	char detail[700]; /* why it is not a builder */
};

enum qc_status { QC_AGREE, QC_DIFFER, QC_MISSING };

struct quorum_cell {
	enum qc_status status;
	const struct report_subject *sub; /* QC_AGREE, QC_DIFFER */
};

struct quorum_row {
	const char *name; /* the ARTIFACT path, or the subject name */
	int from_file;    /* an ARTIFACT file given on the command line */
	int have_digest;  /* a digest to agree on (not when no builder has the subject) */
	uint8_t sha256[CR_SHA256_LEN], sha384[CR_SHA384_LEN];
	size_t agree;              /* builders reporting that digest */
	int conflict;              /* another digest also reported by K builders */
	int quorum;                /* agree >= K and no conflict */
	struct quorum_cell *cells; /* one per column */
};

struct quorum {
	unsigned k;
	const struct bv_policy *pol; /* the allowed images, for their names */
	size_t nbundles;
	struct quorum_bundle b[QUORUM_MAX_BUNDLES];
	size_t ncols;
	int col_bundle[QUORUM_MAX_BUNDLES]; /* column -> bundle index */
	size_t nrows;
	struct quorum_row *rows;
	int ok; /* every row has its quorum, at least one row, K <= columns */
};

/* Verify every bundle with pol (which must name the allowed image(s) and no
 * artifacts), classify them and compare the artifacts (files: hashed now).
 * Returns -1 with e for an input error (a bundle or file that cannot be
 * read: a special file, too large, absent; too many rows); otherwise 0, and
 * q->ok says whether the quorum holds. Free with quorum_free(). */
int quorum_verify(struct quorum *q, unsigned k, const char *const *bundles, size_t nbundles, const char *const *files,
		  size_t nfiles, const struct bv_policy *pol, struct cr_err *e);
void quorum_free(struct quorum *q);

/* The table, the builders, the dissenters and the verdict as text. */
void quorum_print_text(const struct quorum *q, FILE *out);
/* As JSON members of an object the caller has opened (docs/cli.md). */
void quorum_write_json(const struct quorum *q, struct json_w *w);
/* Why the quorum does not hold, one line. */
const char *quorum_failure(const struct quorum *q, char *buf, size_t cap);

#endif
