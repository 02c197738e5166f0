/* Agreement across builders: classify verified bundles, compare the
 * artifacts (quorum.h). */
#include "host-tool/verify/quorum.h"

#include <stdlib.h>
#include <string.h>

#include "base/term.h"

static const struct report_statement *stmt(const struct quorum_bundle *b)
{
	return &b->r->statement.st;
}

static void key_fingerprint(struct quorum_bundle *b)
{
	const struct att_opt *k = &b->r->att->d.doc.public_key;
	char hex[CR_HEX_SIZE(CR_SHA256_LEN)];
	if (k->state != ATT_SET)
		return;
	cr_sha256_hex(k->p, k->len, hex);
	snprintf(b->key_fp, sizeof b->key_fp, "%.*s", QUORUM_KEY_FP_HEX, hex);
}

/* One builder: the same module id or the same bound key. */
static int same_builder(const struct quorum_bundle *a, const struct quorum_bundle *b)
{
	const struct att_opt *ka = &a->r->att->d.doc.public_key, *kb = &b->r->att->d.doc.public_key;
	if (!strcmp(a->r->att->d.doc.module_id, b->r->att->d.doc.module_id))
		return 1;
	return ka->state == ATT_SET && kb->state == ATT_SET && ka->len == kb->len && !memcmp(ka->p, kb->p, ka->len);
}

/* Why two bundles of one builder group are one builder, for the detail. */
static const char *builder_link(const struct quorum_bundle *a, const struct quorum_bundle *b)
{
	if (!strcmp(a->r->att->d.doc.module_id, b->r->att->d.doc.module_id))
		return "same attestation module id";
	if (same_builder(a, b))
		return "same signing key";
	return "linked through another bundle by module id or key";
}

static int same_trees(const struct report_statement *a, const struct report_statement *b)
{
	return !memcmp(a->src_tree_sha1, b->src_tree_sha1, CR_SHA1_LEN) &&
	       !memcmp(a->src_tree_sha256, b->src_tree_sha256, CR_SHA256_LEN) && a->src_files == b->src_files &&
	       !memcmp(a->deps_tree_sha256, b->deps_tree_sha256, CR_SHA256_LEN) && a->deps_files == b->deps_files;
}

/* Whether b has a subject named name. */
static int has_subject(const struct report_statement *b, const char *name)
{
	for (size_t i = 0; i < b->nsubjects; i++)
		if (!strcmp(b->subjects[i].name, name))
			return 1;
	return 0;
}

/* The external parameters besides the trees: the command,
 * SOURCE_DATE_EPOCH, and the outputs asked for (the subjects' names, in
 * any order; names are unique within a statement). A builder asked for
 * another output is another build: counted with the others, its extra
 * subject would be an artifact no K builders report, and one builder could
 * fail the quorum. The limits are internal parameters: an enclave's
 * defaults follow its memory, so they differ between builders of one
 * build; they are not compared. */
static int same_command(const struct report_statement *a, const struct report_statement *b)
{
	if (a->argc != b->argc || a->sde != b->sde || a->nsubjects != b->nsubjects)
		return 0;
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]))
			return 0;
	for (size_t i = 0; i < a->nsubjects; i++)
		if (!has_subject(b, a->subjects[i].name))
			return 0;
	return 1;
}

/* Verified bundles (status QB_BUILDER so far): group them by builder
 * (union of "same builder", transitively) into grp[], by definition into
 * def[] (the first bundle with the same one), and pick the definition most
 * builders share. */
static size_t pick_definition(const struct quorum *q, int *grp, int *def)
{
	size_t n = q->nbundles, best = n, best_count = 0;
	for (size_t i = 0; i < n; i++) {
		grp[i] = (int)i;
		def[i] = (int)i;
	}
	for (size_t i = 0; i < n; i++) {
		if (q->b[i].status != QB_BUILDER)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (q->b[j].status != QB_BUILDER)
				continue;
			if (same_builder(&q->b[i], &q->b[j])) {
				int from = grp[i], to = grp[j];
				for (size_t m = 0; m <= i; m++)
					if (grp[m] == from)
						grp[m] = to;
			}
			if (def[i] == (int)i && same_trees(stmt(&q->b[i]), stmt(&q->b[j])) &&
			    same_command(stmt(&q->b[i]), stmt(&q->b[j])))
				def[i] = def[j];
		}
	}
	for (size_t d = 0; d < n; d++) {
		size_t count = 0;
		if (q->b[d].status != QB_BUILDER || def[d] != (int)d)
			continue;
		for (size_t i = 0; i < n; i++) {
			int first = 1;
			if (q->b[i].status != QB_BUILDER || def[i] != (int)d)
				continue;
			for (size_t j = 0; j < i && first; j++)
				if (q->b[j].status == QB_BUILDER && def[j] == (int)d && grp[j] == grp[i])
					first = 0;
			count += (size_t)first;
		}
		if (count > best_count)
			best = d, best_count = count;
	}
	return best;
}

static void classify_failed(struct quorum_bundle *b)
{
	const struct bv_result *r = b->r;
	for (size_t i = 0; i < r->n; i++) {
		const struct bv_check *c = &r->checks[i];
		if (c->status != BV_FAIL)
			continue;
		b->status = !strcmp(c->name, "pcrs")     ? QB_OTHER_IMAGE
			    : !strcmp(c->name, "source") ? QB_OTHER_SOURCE
							 : QB_FAILED;
		snprintf(b->detail, sizeof b->detail, "%s: %s", c->name, c->detail);
		return;
	}
}

static void classify(struct quorum *q)
{
	int grp[QUORUM_MAX_BUNDLES], def[QUORUM_MAX_BUNDLES];
	size_t ref;
	for (size_t i = 0; i < q->nbundles; i++) {
		struct quorum_bundle *b = &q->b[i];
		b->status = QB_BUILDER;
		if (b->r->have_document)
			key_fingerprint(b);
		if (!b->r->verified)
			classify_failed(b);
	}
	ref = pick_definition(q, grp, def);
	for (size_t i = 0; i < q->nbundles; i++) {
		struct quorum_bundle *b = &q->b[i];
		const struct report_statement *st;
		if (b->status != QB_BUILDER)
			continue;
		st = stmt(b);
		if (def[i] != def[ref]) {
			int trees = same_trees(st, stmt(&q->b[ref]));
			b->status = trees ? QB_OTHER_COMMAND : QB_OTHER_SOURCE;
			snprintf(b->detail, sizeof b->detail, "%s than bundle %zu's, which the most builders share",
				 trees ? "another command, SOURCE_DATE_EPOCH or set of outputs"
				       : "another source or dependency tree",
				 ref + 1);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (q->b[j].status == QB_BUILDER && grp[j] == grp[i]) {
				b->status = QB_DUPLICATE;
				b->dup_of = (int)j;
				b->same_bundle =
					!memcmp(b->r->statement_sha384, q->b[j].r->statement_sha384, CR_SHA384_LEN);
				snprintf(b->detail, sizeof b->detail, "%s bundle %zu (%s): counted once",
					 b->same_bundle ? "the same signed statement as" : "the same builder as", j + 1,
					 builder_link(b, &q->b[j]));
				break;
			}
		if (b->status != QB_BUILDER)
			continue;
		b->column = (int)q->ncols;
		q->col_bundle[q->ncols++] = (int)i;
	}
}

static int same_digest(const struct report_subject *s, const uint8_t *sha256, const uint8_t *sha384)
{
	return !memcmp(s->sha256, sha256, CR_SHA256_LEN) && !memcmp(s->sha384, sha384, CR_SHA384_LEN);
}

/* The subject a column reports for a row: by path (files) or by name. */
static const struct report_subject *cell_subject(const struct quorum *q, size_t col, const struct quorum_row *row)
{
	const struct report_statement *st = stmt(&q->b[q->col_bundle[col]]);
	if (row->from_file)
		return bv_subject_for(st, row->name);
	for (size_t i = 0; i < st->nsubjects; i++)
		if (!strcmp(st->subjects[i].name, row->name))
			return &st->subjects[i];
	return NULL;
}

/* Without a file: the digest the most columns report (the first on a tie),
 * and whether another one also reaches K. */
static void row_majority(const struct quorum *q, struct quorum_row *row)
{
	size_t best = 0, reached = 0;
	for (size_t c = 0; c < q->ncols; c++) {
		const struct report_subject *s = row->cells[c].sub, *dup = NULL;
		size_t n = 0;
		if (!s)
			continue;
		for (size_t d = 0; d < c && !dup; d++)
			if (row->cells[d].sub && same_digest(row->cells[d].sub, s->sha256, s->sha384))
				dup = row->cells[d].sub;
		if (dup)
			continue;
		for (size_t d = c; d < q->ncols; d++)
			n += row->cells[d].sub && same_digest(row->cells[d].sub, s->sha256, s->sha384);
		reached += n >= q->k;
		if (n > best) {
			best = n;
			row->have_digest = 1;
			memcpy(row->sha256, s->sha256, CR_SHA256_LEN);
			memcpy(row->sha384, s->sha384, CR_SHA384_LEN);
		}
	}
	row->conflict = reached > 1;
	/* a digest only one of several builders reports is no one's to dissent
	 * from: then none is agreed on */
	if (best < 2 && q->ncols > 1)
		row->have_digest = 0;
}

static void fill_row(const struct quorum *q, struct quorum_row *row)
{
	for (size_t c = 0; c < q->ncols; c++)
		row->cells[c].sub = cell_subject(q, c, row);
	if (!row->from_file)
		row_majority(q, row);
	for (size_t c = 0; c < q->ncols; c++) {
		struct quorum_cell *cell = &row->cells[c];
		if (!cell->sub)
			cell->status = QC_MISSING;
		else if (row->have_digest && same_digest(cell->sub, row->sha256, row->sha384))
			cell->status = QC_AGREE, row->agree++;
		else
			cell->status = QC_DIFFER;
	}
	row->quorum = row->agree >= q->k && !row->conflict;
}

static struct quorum_row *new_row(struct quorum *q, const char *name, struct cr_err *e)
{
	struct quorum_row *row;
	if (q->nrows == QUORUM_MAX_ROWS) {
		cr_fail(e, "more than %d artifacts across the bundles", QUORUM_MAX_ROWS);
		return NULL;
	}
	row = &q->rows[q->nrows];
	memset(row, 0, sizeof *row);
	row->name = name;
	if (!(row->cells = calloc(q->ncols ? q->ncols : 1, sizeof *row->cells))) {
		cr_fail(e, "out of memory");
		return NULL;
	}
	q->nrows++;
	return row;
}

static int make_rows(struct quorum *q, const char *const *files, size_t nfiles, struct cr_err *e)
{
	if (!(q->rows = calloc(nfiles ? nfiles : QUORUM_MAX_ROWS, sizeof *q->rows)))
		return cr_fail(e, "out of memory");
	for (size_t i = 0; i < nfiles; i++) {
		struct quorum_row *row = new_row(q, files[i], e);
		if (!row)
			return -1;
		row->from_file = 1;
		row->have_digest = 1;
		if (bv_hash_file(files[i], row->sha256, row->sha384, e))
			return cr_err_wrap(e, "ARTIFACT");
		fill_row(q, row);
	}
	for (size_t c = 0; c < q->ncols && !nfiles; c++) {
		const struct report_statement *st = stmt(&q->b[q->col_bundle[c]]);
		for (size_t s = 0; s < st->nsubjects; s++) {
			struct quorum_row *row;
			int seen = 0;
			for (size_t i = 0; i < q->nrows && !seen; i++)
				seen = !strcmp(q->rows[i].name, st->subjects[s].name);
			if (seen)
				continue;
			if (!(row = new_row(q, st->subjects[s].name, e)))
				return -1;
			fill_row(q, row);
		}
	}
	return 0;
}

int quorum_verify(struct quorum *q, unsigned k, const char *const *bundles, size_t nbundles, const char *const *files,
		  size_t nfiles, const struct bv_policy *pol, struct cr_err *e)
{
	memset(q, 0, sizeof *q);
	q->k = k;
	q->pol = pol;
	if (nbundles > QUORUM_MAX_BUNDLES)
		return cr_fail(e, "more than %d bundles", QUORUM_MAX_BUNDLES);
	for (size_t i = 0; i < nbundles; i++) {
		struct quorum_bundle *b = &q->b[i];
		uint8_t *buf;
		size_t len;
		b->path = bundles[i];
		if (cr_read_input("BUNDLE", bundles[i], REPORT_MAX_BUNDLE, &buf, &len, e))
			return -1;
		if (!(b->r = calloc(1, sizeof *b->r))) {
			free(buf);
			return cr_fail(e, "out of memory");
		}
		q->nbundles++;
		bundle_verify(buf, len, pol, b->r);
		free(buf);
	}
	classify(q);
	if (make_rows(q, files, nfiles, e))
		return -1;
	q->ok = q->nrows > 0 && q->ncols >= q->k;
	for (size_t i = 0; i < q->nrows; i++)
		q->ok &= q->rows[i].quorum;
	return 0;
}

void quorum_free(struct quorum *q)
{
	for (size_t i = 0; i < q->nbundles; i++) {
		bv_result_free(q->b[i].r);
		free(q->b[i].r);
	}
	for (size_t i = 0; i < q->nrows; i++)
		free(q->rows[i].cells);
	free(q->rows);
	memset(q, 0, sizeof *q);
}
