/* The differences of two output directories as text and JSON (out_diff.h).
 * Paths come from the directories: shown through base/term. */
#include <inttypes.h>

#include "base/digest.h"
#include "base/term.h"
#include "host-tool/verify/out_diff.h"

void out_diff_print_text(const struct out_diff *d, FILE *out)
{
	char ha[CR_HEX_SIZE(OUT_DIFF_CONTEXT)], hb[CR_HEX_SIZE(OUT_DIFF_CONTEXT)];
	for (size_t i = 0; i < d->n; i++) {
		const struct od_entry *x = &d->entries[i];
		if (x->kind == OD_ONLY_A || x->kind == OD_ONLY_B) {
			cr_tprintf(out, "only in %s  %s (%" PRIu64 " bytes)\n", x->kind == OD_ONLY_A ? "A" : "B",
				   cr_term_arg(x->rel), x->kind == OD_ONLY_A ? x->size_a : x->size_b);
			continue;
		}
		cr_hex(x->ctx_a, x->ctx_len_a, ha);
		cr_hex(x->ctx_b, x->ctx_len_b, hb);
		cr_tprintf(out,
			   "differ  %s: %" PRIu64 " and %" PRIu64 " bytes, first difference at offset %" PRIu64
			   " (0x%" PRIx64 ")\n        A @%" PRIu64 ": %s\n        B @%" PRIu64 ": %s\n",
			   cr_term_arg(x->rel), x->size_a, x->size_b, x->offset, x->offset, x->ctx_offset,
			   x->ctx_len_a ? ha : "(end of file)", x->ctx_offset, x->ctx_len_b ? hb : "(end of file)");
	}
	if (!d->n)
		cr_tprintf(out, "identical: %zu files compared\n", d->compared);
	else
		cr_tprintf(out, "DIFFERENT: %zu files compared, %zu differ; %zu only in A, %zu only in B\n",
			   d->compared, d->ndiffer, d->nonly_a, d->nonly_b);
}

void out_diff_write_json(const struct out_diff *d, struct json_w *w)
{
	static const char *const lists[] = { "differ", "only_in_a", "only_in_b" };
	jw_kbool(w, "identical", d->n == 0);
	jw_ku64(w, "compared", d->compared);
	for (int k = OD_DIFFER; k <= OD_ONLY_B; k++) {
		jw_key(w, lists[k]);
		jw_arr_begin(w);
		for (size_t i = 0; i < d->n; i++) {
			const struct od_entry *x = &d->entries[i];
			if ((int)x->kind != k)
				continue;
			jw_obj_begin(w);
			jw_kstr(w, "path", x->rel);
			if (k == OD_DIFFER) {
				jw_ku64(w, "size_a", x->size_a);
				jw_ku64(w, "size_b", x->size_b);
				jw_ku64(w, "first_difference", x->offset);
				jw_ku64(w, "context_offset", x->ctx_offset);
				jw_khex(w, "context_a", x->ctx_a, x->ctx_len_a);
				jw_khex(w, "context_b", x->ctx_b, x->ctx_len_b);
			} else {
				jw_ku64(w, "size", k == OD_ONLY_A ? x->size_a : x->size_b);
			}
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
}
