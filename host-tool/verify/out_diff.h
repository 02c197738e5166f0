/* `cleanroom diff`: two output directories (what `cleanroom build --out`
 * writes, e.g. two builders' outputs of the same build) compared file by
 * file, to find where a build is not reproducible.
 *
 * Every regular file under each directory (base/dirwalk: sorted, symlinks
 * never followed) is compared by relative path, except the top-level
 * cleanroom-bundle.json (each build's own report: it always differs) and
 * the relative paths given as ignored. A file present on one side only is
 * listed as such; a pair that differs gets both sizes, the first differing
 * offset and up to OUT_DIFF_CONTEXT bytes of each side from a little before
 * it. Anything else in a tree (a symlink, a FIFO, a device) is an input
 * error naming it, as is a file larger than BV_ARTIFACT_MAX or a tree of
 * more than OUT_DIFF_MAX_FILES files. Files are read with cr_open_input
 * (never a FIFO, never blocking), streamed, up to the size they had when
 * opened. */
#ifndef CLEANROOM_OUT_DIFF_H
#define CLEANROOM_OUT_DIFF_H

#include <stdint.h>
#include <stdio.h>

#include "base/json.h"
#include "base/util.h"

#define OUT_DIFF_MAX_FILES 65536
#define OUT_DIFF_MAX_IGNORE 64
#define OUT_DIFF_CONTEXT 16 /* bytes of context shown */
#define OUT_DIFF_BEFORE 4   /* of which before the first difference */

enum od_kind { OD_DIFFER, OD_ONLY_A, OD_ONLY_B };

struct od_entry {
	enum od_kind kind;
	char *rel;
	uint64_t size_a, size_b; /* the side's size (OD_ONLY_*: that side's only) */
	uint64_t offset;         /* OD_DIFFER: the first differing byte (or the shorter size) */
	uint64_t ctx_offset;     /* where the context starts */
	uint8_t ctx_a[OUT_DIFF_CONTEXT], ctx_b[OUT_DIFF_CONTEXT];
	size_t ctx_len_a, ctx_len_b;
};

struct out_diff {
	size_t compared; /* files present on both sides */
	size_t n;
	struct od_entry *entries; /* in path order */
	size_t ndiffer, nonly_a, nonly_b;
};

/* Compare a and b; 0 (d says whether they differ) or -1 with e. */
int out_diff(const char *a, const char *b, const char *const *ignore, size_t nignore, struct out_diff *d,
	     struct cr_err *e);
void out_diff_free(struct out_diff *d);

void out_diff_print_text(const struct out_diff *d, FILE *out);
/* JSON members of an object the caller has opened (docs/cli.md). */
void out_diff_write_json(const struct out_diff *d, struct json_w *w);

#endif
