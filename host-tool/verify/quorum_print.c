/* The quorum as text and JSON (quorum.h). Every string from a bundle
 * (subject names, module ids, check details) goes through base/term. */
#include <string.h>

#include "base/json.h"
#include "base/term.h"
#include "host-tool/verify/quorum.h"

#define CELL_HEX 8 /* hex digits of a builder's SHA-256 in a table cell */

static const char *const status_names[] = { "builder",      "failed",        "other_image",
					    "other_source", "other_command", "duplicate_builder" };
static const char *const status_words[] = { "builder",      "failed verification", "other image",
					    "other source", "other command",       "duplicate builder" };
static const char *const cell_names[] = { "agree", "differ", "missing" };

static const char *image_desc(const struct quorum *q, const struct quorum_bundle *b)
{
	if (b->r->image > 0)
		return q->pol->more_images[b->r->image - 1].desc;
	return q->pol->pcr_desc ? q->pol->pcr_desc : "the expected image";
}

static const char *module_id(const struct quorum_bundle *b)
{
	return b->r->have_document ? b->r->att->d.doc.module_id : "";
}

static void print_builders(const struct quorum *q, FILE *out)
{
	cr_tprintf(out, "builders (%zu of %zu bundles):\n", q->ncols, q->nbundles);
	for (size_t c = 0; c < q->ncols; c++) {
		const struct quorum_bundle *b = &q->b[q->col_bundle[c]];
		cr_tprintf(out, "  B%-3zu %s\n       module %s, key sha256:%s, image %s\n", c + 1, cr_term_arg(b->path),
			   cr_term_arg(module_id(b)), b->key_fp, cr_term_arg(image_desc(q, b)));
	}
}

static void print_table(const struct quorum *q, FILE *out)
{
	size_t width = 8;
	for (size_t i = 0; i < q->nrows; i++) {
		size_t n = strlen(cr_term_arg(q->rows[i].name));
		if (n > width)
			width = n < 48 ? n : 48;
	}
	cr_tprintf(out, "%-*s", (int)width, "artifact");
	for (size_t c = 0; c < q->ncols; c++) {
		char h[8];
		snprintf(h, sizeof h, "B%zu", c + 1);
		cr_tprintf(out, "  %-9s", h);
	}
	cr_tprintf(out, "  agree\n");
	for (size_t i = 0; i < q->nrows; i++) {
		const struct quorum_row *row = &q->rows[i];
		cr_tprintf(out, "%-*s", (int)width, cr_term_arg(row->name));
		for (size_t c = 0; c < q->ncols; c++) {
			const struct quorum_cell *cell = &row->cells[c];
			char h[CR_HEX_SIZE(CR_SHA256_LEN)] = "-";
			if (cell->sub)
				cr_hex(cell->sub->sha256, CR_SHA256_LEN, h);
			cr_tprintf(out, "  %.*s%-*s", CELL_HEX, h, cell->sub ? 1 : CELL_HEX,
				   cell->status == QC_DIFFER ? "*" : "");
		}
		cr_tprintf(out, "  %zu/%zu %s\n", row->agree, q->ncols,
			   row->quorum     ? "quorum"
			   : row->conflict ? "NO QUORUM (two digests each reach K)"
					   : "NO QUORUM");
	}
	cr_tprintf(out,
		   "(a cell: the first %d hex digits of that builder's SHA-256; * differs from the %s; - no such "
		   "subject)\n",
		   CELL_HEX, q->nrows && q->rows[0].from_file ? "file" : "digest most builders report");
}

static void print_dissenters(const struct quorum *q, FILE *out)
{
	int header = 0;
	for (size_t i = 0; i < q->nbundles; i++) {
		const struct quorum_bundle *b = &q->b[i];
		if (b->status == QB_BUILDER)
			continue;
		if (!header++)
			cr_tprintf(out, "dissenters:\n");
		cr_tprintf(out, "  bundle %zu %s: %s: %s\n", i + 1, cr_term_arg(b->path), status_words[b->status],
			   cr_term_arg(b->detail));
	}
	for (size_t i = 0; i < q->nrows; i++)
		for (size_t c = 0; c < q->ncols; c++) {
			const struct quorum_row *row = &q->rows[i];
			if (row->cells[c].status == QC_AGREE)
				continue;
			if (!header++)
				cr_tprintf(out, "dissenters:\n");
			cr_tprintf(out, "  B%zu %s: artifact %s: %s\n", c + 1, cr_term_arg(q->b[q->col_bundle[c]].path),
				   cr_term_arg(row->name),
				   row->cells[c].status == QC_MISSING ? "no such subject"
				   : row->from_file                   ? "different digest from the file"
				   : row->have_digest                 ? "different digest"
						      : "different digest (no two builders agree on it)");
		}
}

void quorum_print_text(const struct quorum *q, FILE *out)
{
	char line[1024];
	print_builders(q, out);
	print_table(q, out);
	print_dissenters(q, out);
	if (q->ok)
		cr_tprintf(out, "quorum: every artifact (%zu) agreed by at least %u of %zu builders\n", q->nrows, q->k,
			   q->ncols);
	else
		cr_tprintf(out, "NO QUORUM: %s\n", quorum_failure(q, line, sizeof line));
}

static void write_bundle(const struct quorum *q, const struct quorum_bundle *b, size_t i, struct json_w *w)
{
	jw_obj_begin(w);
	jw_ku64(w, "index", i + 1);
	jw_kstr(w, "path", b->path);
	jw_kstr(w, "status", status_names[b->status]);
	if (b->status == QB_BUILDER) {
		char label[16];
		snprintf(label, sizeof label, "B%d", b->column + 1);
		jw_kstr(w, "builder", label);
		jw_kstr(w, "image", image_desc(q, b));
	}
	if (b->status == QB_DUPLICATE) {
		jw_ku64(w, "duplicate_of", (uint64_t)b->dup_of + 1);
		jw_kbool(w, "same_bundle", b->same_bundle);
	}
	jw_kstr(w, "module_id", module_id(b));
	jw_kstr(w, "key_sha256_prefix", b->key_fp);
	jw_kstr(w, "detail", b->detail);
	jw_key(w, "verification");
	jw_obj_begin(w);
	bv_write_json(b->r, w);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void write_row(const struct quorum *q, const struct quorum_row *row, struct json_w *w)
{
	jw_obj_begin(w);
	jw_kstr(w, "name", row->name);
	jw_kbool(w, "from_file", row->from_file);
	if (row->have_digest) {
		jw_khex(w, "sha256", row->sha256, CR_SHA256_LEN);
		jw_khex(w, "sha384", row->sha384, CR_SHA384_LEN);
	}
	jw_ku64(w, "agree", row->agree);
	jw_kbool(w, "quorum", row->quorum);
	jw_kbool(w, "conflict", row->conflict);
	jw_key(w, "cells");
	jw_arr_begin(w);
	for (size_t c = 0; c < q->ncols; c++) {
		char label[16];
		snprintf(label, sizeof label, "B%zu", c + 1);
		jw_obj_begin(w);
		jw_kstr(w, "builder", label);
		jw_kstr(w, "status", cell_names[row->cells[c].status]);
		if (row->cells[c].sub)
			jw_khex(w, "sha256", row->cells[c].sub->sha256, CR_SHA256_LEN);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

void quorum_write_json(const struct quorum *q, struct json_w *w)
{
	char line[1024];
	jw_ku64(w, "quorum", q->k);
	jw_kbool(w, "ok", q->ok);
	jw_ku64(w, "builders", q->ncols);
	if (!q->ok)
		jw_kstr(w, "failure", quorum_failure(q, line, sizeof line));
	jw_key(w, "bundles");
	jw_arr_begin(w);
	for (size_t i = 0; i < q->nbundles; i++)
		write_bundle(q, &q->b[i], i, w);
	jw_arr_end(w);
	jw_key(w, "artifacts");
	jw_arr_begin(w);
	for (size_t i = 0; i < q->nrows; i++)
		write_row(q, &q->rows[i], w);
	jw_arr_end(w);
}

const char *quorum_failure(const struct quorum *q, char *buf, size_t cap)
{
	size_t bad = 0, first = 0;
	if (q->ncols < q->k) {
		snprintf(buf, cap,
			 "--quorum %u: only %zu distinct builder%s agree on the build (of %zu bundle%s; the same "
			 "enclave or the same bundle twice counts once)",
			 q->k, q->ncols, q->ncols == 1 ? "" : "s", q->nbundles, q->nbundles == 1 ? "" : "s");
		return buf;
	}
	if (!q->nrows) {
		snprintf(buf, cap, "no artifact to agree on (the builders report no subject)");
		return buf;
	}
	for (size_t i = 0; i < q->nrows; i++)
		if (!q->rows[i].quorum && !bad++)
			first = i;
	if (!bad) {
		snprintf(buf, cap, "every artifact has its quorum");
		return buf;
	}
	snprintf(buf, cap, "%zu of %zu artifacts without a quorum; %s: %zu of %zu builders agree, %u needed%s", bad,
		 q->nrows, cr_term_arg(q->rows[first].name), q->rows[first].agree, q->ncols, q->k,
		 q->rows[first].conflict ? " (and another digest also reaches it)" : "");
	return buf;
}
