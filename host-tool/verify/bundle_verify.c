/* Verification of a build's bundle: every check listed (bundle_verify.h). */
#include "host-tool/verify/bundle_verify.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/json.h"
#include "base/pem.h"
#include "base/term.h"

static struct bv_check *add(struct bv_result *r, enum bv_status st, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static struct bv_check *add(struct bv_result *r, enum bv_status st, const char *name, const char *fmt, ...)
{
	struct bv_check *c;
	va_list ap;
	if (r->n == BV_MAX_CHECKS)
		return NULL;
	c = &r->checks[r->n++];
	snprintf(c->name, sizeof c->name, "%s", name);
	c->status = st;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof c->detail, fmt, ap);
	va_end(ap);
	if (st == BV_FAIL)
		r->verified = 0;
	return c;
}

/* The document's PCR index i (48 bytes), or NULL. */
static const uint8_t *doc_pcr(const struct att_doc *d, unsigned i)
{
	for (size_t k = 0; k < d->n_pcrs; k++)
		if (d->pcrs[k].index == i && d->pcrs[k].len == CR_PCR_LEN)
			return d->pcrs[k].value;
	return NULL;
}

static void hex_short(const uint8_t *p, size_t n, char out[20])
{
	char h[2 * 64 + 1];
	cr_hex(p, n < 64 ? n : 64, h);
	snprintf(out, 20, "%.12s…", h);
}

struct bundle_verify_in {
	const struct report_bundle *b;
	const struct bv_policy *pol;
};

/* The envelope's signatures against the bound key: verified when one of
 * them is by that key; the others are ignored, and listed as such. */
static void check_signatures(const struct report_bundle *b, const struct ec_pub *pub, struct bv_result *r)
{
	const struct report_sig *sig = b->sigs;
	struct cr_err e;
	int used = -1;
	e.msg[0] = 0;
	r->nsigs = b->nsigs;
	for (size_t i = 0; i < b->nsigs; i++) {
		struct bv_sig *s = &r->sigs[i];
		snprintf(s->keyid, sizeof s->keyid, "%s", sig[i].keyid);
		/* the keyid is the envelope's text: printed, so one line */
		for (char *c = s->keyid; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				*c = '?';
		s->by_bound_key = report_dsse_verify(pub, b->statement.p, b->statement.len, sig[i].sig.p,
						     sig[i].sig.len, &e) == 0;
		if (s->by_bound_key && used < 0)
			used = (int)i, s->used = 1;
	}
	if (used < 0 && b->nsigs == 1)
		add(r, BV_FAIL, "signature", "%s", e.msg);
	else if (used < 0)
		add(r, BV_FAIL, "signature",
		    "none of the %zu signatures verifies (%s over the statement) with the "
		    "key the attestation document binds",
		    b->nsigs, report_dsse_alg(pub->curve));
	else if (b->nsigs == 1)
		add(r, BV_PASS, "signature", "DSSE %s by the bound key", report_dsse_alg(pub->curve));
	else
		add(r, BV_PASS, "signature",
		    "DSSE %s by the bound key: signatures[%d] of %zu (the others "
		    "are ignored)",
		    report_dsse_alg(pub->curve), used, b->nsigs);
	for (size_t i = 0; i < b->nsigs && b->nsigs > 1; i++) {
		char name[32];
		if ((int)i == used)
			continue;
		snprintf(name, sizeof name, "signature[%zu]", i);
		add(r, BV_SKIP, name, "ignored: keyid \"%.64s\"%s, %s", r->sigs[i].keyid,
		    strlen(r->sigs[i].keyid) > 64 ? "…" : "",
		    r->sigs[i].by_bound_key ? "a further signature by the bound key"
					    : "not a signature by the key the attestation document binds");
	}
}

/* The document's fields against the statement and the policy. */
static void check_document(const struct bundle_verify_in *in, struct bv_result *r)
{
	const struct att_doc *d = &r->att->d.doc;
	const struct report_statement *st = &r->statement.st;
	struct ec_pub pub;
	struct cr_err e;
	int have_key = 0;

	if (d->public_key.state != ATT_SET)
		add(r, BV_FAIL, "binding.public_key", "the attestation document has no public_key");
	else if (report_spki_decode(d->public_key.p, d->public_key.len, &pub, &e))
		add(r, BV_FAIL, "binding.public_key", "%s", e.msg);
	else {
		have_key = 1;
		/* kept for --key-out and --json: the key other verifiers are given */
		r->have_key = 1;
		r->key_curve = pub.curve;
		r->key_spki_len = d->public_key.len;
		memcpy(r->key_spki, d->public_key.p, d->public_key.len);
		report_key_id(r->key_spki, r->key_spki_len, r->key_id);
		add(r, BV_PASS, "binding.public_key", "%s key %.16s… bound by the attestation document",
		    ec_curve_name(pub.curve), r->key_id);
	}

	if (!have_key)
		add(r, BV_FAIL, "signature", "not checked: no bound key");
	else
		check_signatures(in->b, &pub, r);

	if (d->user_data.state != ATT_SET || d->user_data.len != 48 ||
	    memcmp(d->user_data.p, r->statement_sha384, CR_SHA384_LEN))
		add(r, BV_FAIL, "binding.user_data", "the document's user_data is not SHA-384 of the statement");
	else
		add(r, BV_PASS, "binding.user_data", "user_data = SHA-384 of the statement");

	if (!r->have_statement)
		add(r, BV_FAIL, "binding.nonce", "not checked: no statement");
	else if (d->nonce.state != (st->nonce_len ? ATT_SET : ATT_NULL) || d->nonce.len != st->nonce_len ||
		 memcmp(d->nonce.p, st->nonce, st->nonce_len))
		add(r, BV_FAIL, "binding.nonce", "the document's nonce differs from the statement's invocationId");
	else
		add(r, BV_PASS, "binding.nonce", "document nonce = statement invocationId");

	{
		int bad = -1;
		for (unsigned i = 0; i < REPORT_PCRS && r->have_statement; i++) {
			const uint8_t *v = doc_pcr(d, i);
			if (!v || memcmp(v, st->pcr[i], CR_PCR_LEN)) {
				bad = (int)i;
				break;
			}
		}
		if (!r->have_statement)
			add(r, BV_FAIL, "binding.pcrs", "not checked: no statement");
		else if (bad >= 0)
			add(r, BV_FAIL, "binding.pcrs", "pcr %d: the statement's value differs from the document's",
			    bad);
		else
			add(r, BV_PASS, "binding.pcrs", "statement PCR0/1/2 = document PCR0/1/2");
	}

	if (!in->pol->has_pcrs) {
		add(r, BV_SKIP, "pcrs", "no expected image given (--eif or --pcr0/1/2): any enclave image passes");
	} else {
		size_t nimg = 1 + in->pol->nmore_images;
		int bad = -1;
		for (size_t k = 0; k < nimg && r->image < 0; k++) {
			const uint8_t(*want)[CR_PCR_LEN] = k ? in->pol->more_images[k - 1].pcr : in->pol->pcr;
			int miss = -1;
			for (unsigned i = 0; i < REPORT_PCRS && miss < 0; i++) {
				const uint8_t *v = doc_pcr(d, i);
				if (!v || memcmp(v, want[i], CR_PCR_LEN))
					miss = (int)i;
			}
			if (miss < 0)
				r->image = (int)k;
			else if (!k)
				bad = miss;
		}
		if (r->image > 0) {
			add(r, BV_PASS, "pcrs", "PCR0/1/2 = %s", in->pol->more_images[r->image - 1].desc);
		} else if (r->image < 0) {
			char got[20] = "absent", want[20];
			const uint8_t *v = doc_pcr(d, (unsigned)bad);
			if (v)
				hex_short(v, CR_PCR_LEN, got);
			hex_short(in->pol->pcr[bad], CR_PCR_LEN, want);
			add(r, BV_FAIL, "pcrs", "pcr %d: mismatch: the document has %s, %s has %s%s", bad, got,
			    in->pol->pcr_desc ? in->pol->pcr_desc : "expected", want,
			    nimg > 1 ? " (and none of the other allowed images matches)" : "");
		} else {
			add(r, BV_PASS, "pcrs", "PCR0/1/2 = %s", in->pol->pcr_desc ? in->pol->pcr_desc : "expected");
		}
	}

	if (!in->pol->has_nonce)
		add(r, BV_SKIP, "nonce", "no expected nonce given (--nonce)");
	else if (d->nonce.state != ATT_SET || d->nonce.len != in->pol->nonce_len ||
		 memcmp(d->nonce.p, in->pol->nonce, in->pol->nonce_len))
		add(r, BV_FAIL, "nonce",
		    "the document's nonce is not the expected one (a replayed or another build's bundle)");
	else
		add(r, BV_PASS, "nonce", "document nonce = expected");
}

int bv_hash_file(const char *path, uint8_t s256[CR_SHA256_LEN], uint8_t s384[CR_SHA384_LEN], struct cr_err *e)
{
	br_sha256_context h256;
	br_sha384_context h384;
	struct stat st;
	uint64_t left;
	uint8_t *buf;
	/* A regular file (never a FIFO or a device: the open cannot block), of
	 * at most BV_ARTIFACT_MAX bytes, read up to the size it had when opened
	 * (a file growing meanwhile cannot keep the read going). */
	int fd = cr_open_input(NULL, path, BV_ARTIFACT_MAX, 0, &st, e);
	if (fd < 0)
		return -1;
	left = (uint64_t)st.st_size;
	buf = malloc(1 << 16);
	if (!buf) {
		close(fd);
		return cr_fail(e, "out of memory");
	}
	br_sha256_init(&h256);
	br_sha384_init(&h384);
	while (left) {
		ssize_t n = read(fd, buf, left < (1 << 16) ? (size_t)left : (1 << 16));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			cr_failp(e, "%s: read (did it shrink while being read?)", path);
			free(buf);
			close(fd);
			return -1;
		}
		br_sha256_update(&h256, buf, (size_t)n);
		br_sha384_update(&h384, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	free(buf);
	close(fd);
	br_sha256_out(&h256, s256);
	br_sha384_out(&h384, s384);
	return 0;
}

const struct report_subject *bv_subject_for(const struct report_statement *st, const char *path)
{
	const struct report_subject *best = NULL;
	size_t pl = strlen(path);
	for (size_t i = 0; i < st->nsubjects; i++) {
		const char *n = st->subjects[i].name;
		size_t nl = strlen(n);
		if (nl > pl || strcmp(path + pl - nl, n) || (nl < pl && path[pl - nl - 1] != '/'))
			continue;
		if (!best || nl > strlen(best->name))
			best = &st->subjects[i];
	}
	return best;
}

/* unreadable_only: the bundle did not parse, so only an artifact that
 * cannot be read is listed (the input error); the others are not checked. */
static void check_artifacts(const struct bv_policy *pol, struct bv_result *r, int unreadable_only)
{
	for (size_t i = 0; i < pol->nartifacts; i++) {
		const char *path = pol->artifacts[i];
		char name[WIRE_MAX_PATH + 16];
		uint8_t s256[32], s384[48];
		const struct report_subject *sub;
		struct cr_err e;
		snprintf(name, sizeof name, "artifact %s", path);
		/* The file is read first: one that cannot be read is an input
		 * error (exit 2, as for every file named on the command line),
		 * whatever the statement says. */
		if (bv_hash_file(path, s256, s384, &e)) {
			add(r, BV_FAIL, name, "%s", e.msg);
			if (!r->input_error[0])
				snprintf(r->input_error, sizeof r->input_error, "ARTIFACT: %s", e.msg);
			continue;
		}
		if (unreadable_only)
			continue;
		if (!r->have_statement) {
			add(r, BV_FAIL, name, "not checked: no statement");
			continue;
		}
		if (!(sub = bv_subject_for(&r->statement.st, path)))
			add(r, BV_FAIL, name, "not a subject of the statement (no subject name matches the path)");
		else if (memcmp(s256, sub->sha256, CR_SHA256_LEN))
			add(r, BV_FAIL, name, "sha256 differs from subject '%s'", sub->name);
		else if (memcmp(s384, sub->sha384, CR_SHA384_LEN))
			add(r, BV_FAIL, name, "sha384 differs from subject '%s'", sub->name);
		else
			add(r, BV_PASS, name, "sha256 and sha384 = subject '%s'", sub->name);
	}
}

static void check_source(const struct bv_policy *pol, struct bv_result *r)
{
	const struct report_statement *st = &r->statement.st;
	const uint8_t *have;
	char h[65];
	if (!pol->has_source) {
		add(r, BV_SKIP, "source", "no expected source given (--git-commit or --source)");
		return;
	}
	if (!r->have_statement) {
		add(r, BV_FAIL, "source", "not checked: no statement");
		return;
	}
	have = pol->source_tree_len == CR_SHA1_LEN ? st->src_tree_sha1 : st->src_tree_sha256;
	cr_hex(have, pol->source_tree_len, h);
	if (memcmp(have, pol->source_tree, pol->source_tree_len)) {
		char want[CR_HEX_SIZE(CR_SHA256_LEN)];
		cr_hex(pol->source_tree, pol->source_tree_len, want);
		add(r, BV_FAIL, "source", "the statement's tree %s is not %s's tree %s", h, pol->source_desc, want);
	} else {
		add(r, BV_PASS, "source", "tree %s = %s", h, pol->source_desc);
	}
}

int bundle_verify(const uint8_t *buf, size_t len, const struct bv_policy *pol, struct bv_result *r)
{
	return bundle_verify_form(buf, len, NULL, 0, NULL, pol, r);
}

int bundle_verify_form(const uint8_t *buf, size_t len, const uint8_t *att, size_t att_len, const char *att_desc,
		       const struct bv_policy *pol, struct bv_result *r)
{
	struct report_bundle b;
	struct cr_err e;
	struct bundle_verify_in in = { &b, pol };
	memset(r, 0, sizeof *r);
	r->verified = 1;
	r->image = -1;

	if (report_bundle_parse_form(buf, len, att, att_len, &b, &e)) {
		add(r, BV_FAIL, "bundle", "%s", e.msg);
		check_artifacts(pol, r, 1); /* an unreadable artifact is still named */
		return -1;
	}
	r->form = b.form;
	if (att)
		add(r, BV_PASS, "bundle", "%s, attestation document from %s", report_form_name(b.form),
		    att_desc ? att_desc : "a separate file");
	else
		add(r, BV_PASS, "bundle", "%s", report_form_name(b.form));
	{
		br_sha384_context h;
		br_sha384_init(&h);
		br_sha384_update(&h, b.statement.p, b.statement.len);
		br_sha384_out(&h, r->statement_sha384);
	}
	if (report_statement_parse(b.statement.p, b.statement.len, &r->statement, &e)) {
		report_statement_free(&r->statement);
		add(r, BV_FAIL, "statement", "%s", e.msg);
	} else {
		r->have_statement = 1;
		add(r, BV_PASS, "statement", "in-toto Statement v1, SLSA Provenance v1, %zu subject%s",
		    r->statement.st.nsubjects, r->statement.st.nsubjects == 1 ? "" : "s");
	}

	r->att = calloc(1, sizeof *r->att);
	if (!r->att) {
		add(r, BV_FAIL, "attestation", "out of memory");
	} else {
		struct att_policy ap;
		memset(&ap, 0, sizeof ap);
		ap.root_der = pol->root_der;
		ap.root_len = pol->root_len;
		ap.has_time = pol->has_time;
		ap.at = pol->at;
		ap.allow_unsigned = pol->allow_unsigned;
		if (att_verify(b.attestation.p, b.attestation.len, &ap, r->att, &e)) {
			r->unsigned_doc = r->att->unsigned_doc;
			if (e.code == CR_E_UNSIGNED)
				add(r, BV_FAIL, "attestation",
				    "%s; refused (--allow-unsigned-attestation checks all "
				    "but its signature and chain)",
				    ATT_UNSIGNED_MSG);
			else
				add(r, BV_FAIL, "attestation", "%s", e.msg);
		} else if (r->att->unsigned_doc) {
			static const char *const impossible[] = { "attestation-chain", "attestation-signature" };
			r->have_document = 1;
			r->unsigned_doc = 1;
			add(r, BV_PASS, "attestation",
			    "%s: COSE and payload well-formed; %s (allowed by "
			    "--allow-unsigned-attestation)",
			    r->att->d.doc.module_id, ATT_UNSIGNED_MSG);
			for (size_t i = 0; i < 2; i++) {
				struct bv_check *c = add(r, BV_SKIP, impossible[i],
							 "not possible: unsigned document (QEMU's emulated NSM)");
				if (c)
					c->not_possible = 1;
			}
		} else {
			char t[32];
			r->have_document = 1;
			cr_time_format(r->att->at, t);
			add(r, BV_PASS, "attestation", "%s, chain to %s valid at %s", r->att->d.doc.module_id,
			    pol->root_desc ? pol->root_desc : "the AWS Nitro Enclaves root G1", t);
		}
	}
	if (r->have_document) {
		check_document(&in, r);
	} else {
		static const char *const dependent[] = { "binding.public_key",
							 "signature",
							 "binding.user_data",
							 "binding.nonce",
							 "binding.pcrs",
							 "pcrs",
							 "nonce" };
		for (size_t i = 0; i < sizeof dependent / sizeof *dependent; i++)
			add(r, BV_FAIL, dependent[i], "not checked: the attestation document did not verify");
	}
	check_artifacts(pol, r, 0);
	check_source(pol, r);
	/* The statement's strings stay valid (they live in r->statement.doc);
	 * the bundle's bytes are no longer needed. The document's fields point
	 * into b.attestation, so keep that buffer with the result. */
	cr_buf_free(&b.statement);
	for (size_t i = 0; i < REPORT_MAX_SIGS; i++)
		cr_buf_free(&b.sigs[i].sig);
	r->att_buf = b.attestation;
	return r->verified ? 0 : -1;
}

void bv_result_free(struct bv_result *r)
{
	if (r->have_statement)
		report_statement_free(&r->statement);
	free(r->att);
	r->att = NULL;
	cr_buf_free(&r->att_buf);
}

static const char *status_word(enum bv_status s)
{
	return s == BV_PASS ? "pass" : s == BV_FAIL ? "FAIL" : "skip";
}

/* Names and details quote the bundle (subject names, module_id): each is
 * shown as one line, escaped (term.h), so a bundle cannot forge a line. */
void bv_print_text(const struct bv_result *r, FILE *out)
{
	const struct report_statement *st = &r->statement.st;
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].not_possible)
			cr_tprintf(out, "%-4s  %s: %s\n", status_word(r->checks[i].status),
				   cr_term_arg(r->checks[i].name), cr_term_arg(r->checks[i].detail));
		else
			cr_tprintf(out, "%-4s  %-20s %s\n", status_word(r->checks[i].status),
				   cr_term_arg(r->checks[i].name), cr_term_arg(r->checks[i].detail));
	if (r->have_statement) {
		char h[65];
		cr_hex(st->log_sha256, CR_SHA256_LEN, h);
		if (st->log_dropped)
			cr_tprintf(out,
				   "%-4s  %-20s %llu bytes kept, sha256 %s; TRUNCATED at the log limit: %llu bytes "
				   "dropped\n",
				   "note", "build.log", (unsigned long long)st->log_bytes, h,
				   (unsigned long long)st->log_dropped);
		else
			cr_tprintf(out, "%-4s  %-20s %llu bytes, sha256 %s, complete\n", "note", "build.log",
				   (unsigned long long)st->log_bytes, h);
	}
}

void bv_write_json(const struct bv_result *r, struct json_w *w)
{
	const struct report_statement *st = &r->statement.st;
	jw_kbool(w, "verified", r->verified);
	if (r->input_error[0])
		jw_kstr(w, "error", r->input_error);
	jw_kbool(w, "unsigned_attestation", r->unsigned_doc);
	jw_key(w, "checks");
	jw_arr_begin(w);
	for (size_t i = 0; i < r->n; i++) {
		static const char *const words[] = { "pass", "fail", "skip" };
		jw_obj_begin(w);
		jw_kstr(w, "name", r->checks[i].name);
		jw_kstr(w, "status", words[r->checks[i].status]);
		if (r->checks[i].not_possible)
			jw_kbool(w, "not_possible", 1);
		jw_kstr(w, "detail", r->checks[i].detail);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (r->nsigs) {
		jw_key(w, "signatures");
		jw_arr_begin(w);
		for (size_t i = 0; i < r->nsigs; i++) {
			jw_obj_begin(w);
			jw_ku64(w, "index", i);
			jw_kstr(w, "keyid", r->sigs[i].keyid);
			jw_kstr(w, "status", r->sigs[i].used ? "used" : "ignored");
			jw_obj_end(w);
		}
		jw_arr_end(w);
	}
	if (r->have_statement) {
		jw_key(w, "statement");
		jw_obj_begin(w);
		jw_key(w, "subjects");
		jw_arr_begin(w);
		for (size_t i = 0; i < st->nsubjects; i++) {
			jw_obj_begin(w);
			jw_kstr(w, "name", st->subjects[i].name);
			jw_khex(w, "sha256", st->subjects[i].sha256, CR_SHA256_LEN);
			jw_khex(w, "sha384", st->subjects[i].sha384, CR_SHA384_LEN);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_key(w, "command");
		jw_arr_begin(w);
		for (size_t i = 0; i < st->argc; i++)
			jw_str(w, st->argv[i]);
		jw_arr_end(w);
		jw_khex(w, "source_tree_sha1", st->src_tree_sha1, CR_SHA1_LEN);
		jw_khex(w, "source_tree_sha256", st->src_tree_sha256, CR_SHA256_LEN);
		jw_khex(w, "deps_tree_sha256", st->deps_tree_sha256, CR_SHA256_LEN);
		jw_ku64(w, "source_date_epoch", st->sde);
		jw_khex(w, "pcr0", st->pcr[0], CR_PCR_LEN);
		jw_khex(w, "pcr1", st->pcr[1], CR_PCR_LEN);
		jw_khex(w, "pcr2", st->pcr[2], CR_PCR_LEN);
		jw_khex(w, "log_sha256", st->log_sha256, CR_SHA256_LEN);
		jw_ku64(w, "log_bytes", st->log_bytes);
		jw_kbool(w, "log_truncated", st->log_dropped != 0);
		jw_ku64(w, "log_dropped_bytes", st->log_dropped);
		jw_khex(w, "nonce", st->nonce, st->nonce_len);
		jw_khex(w, "statement_sha384", r->statement_sha384, CR_SHA384_LEN);
		jw_obj_end(w);
	}
	if (r->have_key) {
		char pem[BV_KEY_PEM_MAX];
		jw_key(w, "public_key");
		jw_obj_begin(w);
		jw_kstr(w, "curve", ec_curve_name(r->key_curve));
		jw_kstr(w, "keyid", r->key_id);
		jw_kstr(w, "pem", bv_key_pem(r, pem, sizeof pem) ? pem : "");
		jw_obj_end(w);
	}
	if (r->have_document) {
		jw_key(w, "attestation");
		jw_obj_begin(w);
		jw_kstr(w, "module_id", r->att->d.doc.module_id);
		jw_ku64(w, "timestamp_ms", r->att->d.doc.timestamp_ms);
		jw_obj_end(w);
	}
}

size_t bv_key_pem(const struct bv_result *r, char *buf, size_t cap)
{
	if (!r->have_key)
		return 0;
	return pem_encode("PUBLIC KEY", r->key_spki, r->key_spki_len, buf, cap);
}

const char *bv_not_possible(const struct bv_result *r, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].not_possible) {
			int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", r->checks[i].name);
			if (w < 0 || (size_t)w >= cap - used)
				break;
			used += (size_t)w;
		}
	return buf;
}

const char *bv_first_failure(const struct bv_result *r, char *buf, size_t cap)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->checks[i].status == BV_FAIL) {
			const char *name = r->checks[i].name, *detail = r->checks[i].detail;
			size_t n = strlen(name);
			/* a detail that names its check already ("bundle: JSON: ...")
			 * is not prefixed twice */
			if (!strncmp(detail, name, n) && detail[n] == ':')
				snprintf(buf, cap, "%s", cr_term_arg(detail));
			else
				snprintf(buf, cap, "%s: %s", cr_term_arg(name), cr_term_arg(detail));
			return buf;
		}
	snprintf(buf, cap, "no check failed");
	return buf;
}
