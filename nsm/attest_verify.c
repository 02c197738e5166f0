#include "nsm/attest_verify.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>

#include "base/digest.h"
#include "base/thread.h"
#include "nsm/aws_root.h"

static int fail_check(struct att_verified *out, const char *check)
{
	snprintf(out->check, sizeof out->check, "%s", check);
	return -1;
}

/* The attestation profile of COSE_Sign1. */
static int check_cose(const struct cose_sign1 *m, struct cr_err *e)
{
	if (m->n_protected != 1 || !m->has_alg || m->alg != COSE_ALG_ES384) {
		if (m->has_alg && m->alg != COSE_ALG_ES384)
			return cr_fail(e, "cose: algorithm %lld (%s), attestation documents use ES384 (-35)",
				       (long long)m->alg, cose_alg_name(m->alg));
		return cr_fail(e, "cose: protected header must be exactly {1: -35} (it has %zu entries%s)",
			       m->n_protected, m->has_alg ? "" : ", no alg");
	}
	if (m->n_unprotected)
		return cr_fail(e, "cose: unprotected header must be empty (it has %zu entries)", m->n_unprotected);
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* QEMU's emulated NSM: {1: -1}, {}, 64 zero bytes of signature; its
 * payload decodes and has all-zero certificate and cabundle entries. */
#define UNSIGNED_ALG (-1)
#define UNSIGNED_SIG_LEN 64
static int is_unsigned(const struct cose_sign1 *m, const struct att_doc *doc)
{
	if (m->n_protected != 1 || !m->has_alg || m->alg != UNSIGNED_ALG || m->n_unprotected ||
	    m->signature_len != UNSIGNED_SIG_LEN || !all_zero(m->signature, m->signature_len))
		return 0;
	if (!all_zero(doc->certificate.p, doc->certificate.len))
		return 0;
	for (size_t i = 0; i < doc->n_cabundle; i++)
		if (!all_zero(doc->cabundle[i].p, doc->cabundle[i].len))
			return 0;
	return 1;
}

static int build_chain(const struct att_doc *doc, const uint8_t *root, size_t root_len, struct x509_chain *ch,
		       struct cr_err *e)
{
	char label[24], got[CR_HEX_SIZE(CR_SHA256_LEN)], want[CR_HEX_SIZE(CR_SHA256_LEN)];
	if (doc->cabundle[0].len != root_len || memcmp(doc->cabundle[0].p, root, root_len)) {
		cr_sha256_hex(doc->cabundle[0].p, doc->cabundle[0].len, got);
		cr_sha256_hex(root, root_len, want);
		return cr_fail(e, "chain: cabundle[0] is not the trusted root (SHA-256 %.16s..., trusted %.16s...)",
			       got, want);
	}
	x509_chain_init(ch);
	if (x509_chain_add(ch, doc->certificate.p, doc->certificate.len, "leaf", e))
		return -1;
	for (size_t i = doc->n_cabundle; i-- > 1;) {
		snprintf(label, sizeof label, "cabundle[%zu]", i);
		if (x509_chain_add(ch, doc->cabundle[i].p, doc->cabundle[i].len, label, e))
			return -1;
	}
	return x509_chain_add(ch, root, root_len, "root", e);
}

static int check_bytes(const char *name, const struct att_opt *got, const struct att_expect_bytes *want,
		       struct cr_err *e)
{
	char d[24];
	if (!want->set)
		return 0;
	if (got->state != ATT_SET)
		return cr_fail(e, "%s: mismatch (the document has %s)", name, att_opt_describe(got, d));
	if (got->len != want->len || memcmp(got->p, want->p, want->len))
		return cr_fail(e, "%s: mismatch (the document has %zu other bytes)", name, got->len);
	return 0;
}

static int check_pcrs(const struct att_doc *doc, const struct att_policy *pol, struct cr_err *e)
{
	for (size_t i = 0; i < pol->n_pcrs; i++) {
		const struct att_expect_pcr *w = &pol->pcrs[i];
		const struct att_pcr *g = NULL;
		char gh[129], wh[129];
		for (size_t j = 0; j < doc->n_pcrs; j++)
			if (doc->pcrs[j].index == w->index)
				g = &doc->pcrs[j];
		if (!g)
			return cr_fail(e, "pcr %u: not in the document", w->index);
		if (g->len != w->len || memcmp(g->value, w->value, w->len)) {
			cr_hex(g->value, g->len, gh);
			cr_hex(w->value, w->len, wh);
			return cr_fail(e, "pcr %u: mismatch (document %s, expected %s)", w->index, gh, wh);
		}
	}
	return 0;
}

/* The chain's signatures and the document's. They are independent checks
 * of parsed, read-only data (the leaf key comes from the leaf certificate
 * as parsed, the same bytes the chain check reads), so the chain runs on a
 * second thread while this one checks the COSE signature: about a third
 * less wall time for a document (each P-384 check is milliseconds). The
 * outcome and its message are those of checking in order: the chain's
 * failure first, then the leaf key's curve, then the signature. */
struct chain_job {
	const struct x509_chain *chain;
	int64_t at;
	int rc;
	struct cr_err e;
};

static void chain_job_run(void *p)
{
	struct chain_job *j = p;
	j->rc = x509_chain_verify(j->chain, j->at, &j->e);
}

static int verify_signatures(struct att_verified *out, struct cr_err *e)
{
	const struct x509_cert *leaf = &out->chain.cert[0];
	int leaf_ok = leaf->key_is_ec && leaf->key.curve == BR_EC_secp384r1, sig_rc = -1;
	struct chain_job job = { &out->chain, out->at, 0, { { 0 }, 0, 0 } };
	struct cr_err sig_e = { { 0 }, 0, 0 };
	struct cr_task task;

	cr_task_start(&task, chain_job_run, &job);
	if (leaf_ok)
		sig_rc = cose_sign1_verify(&out->d.cose, &leaf->key, &sig_e);
	cr_task_join(&task);

	if (job.rc) {
		if (e)
			*e = job.e;
		return fail_check(out, "chain");
	}
	if (!leaf_ok) {
		cr_fail(e, "signature: the leaf key is not P-384, which ES384 needs");
		return fail_check(out, "signature");
	}
	if (sig_rc) {
		if (e)
			*e = sig_e;
		cr_err_wrap(e, "signature");
		return fail_check(out, "signature");
	}
	return 0;
}

int att_verify(const uint8_t *buf, size_t len, const struct att_policy *pol, struct att_verified *out, struct cr_err *e)
{
	const uint8_t *root = pol->root_der;
	size_t root_len = pol->root_len;
	struct att_doc *doc = &out->d.doc;
	memset(out, 0, sizeof *out);
	if (len > ATT_DOC_MAX) {
		cr_fail(e, "cose: document of %zu bytes (at most %d)", len, ATT_DOC_MAX);
		return fail_check(out, "cose");
	}
	if (cose_sign1_parse(buf, len, &out->d.cose, e)) {
		cr_err_wrap(e, "cose");
		return fail_check(out, "cose");
	}
	if (check_cose(&out->d.cose, e)) {
		struct cr_err pe;
		/* the unsigned shape, exactly; anything else fails as it did */
		if (out->d.cose.has_alg && out->d.cose.alg == UNSIGNED_ALG &&
		    !att_payload_decode(out->d.cose.payload, out->d.cose.payload_len, doc, &pe) &&
		    is_unsigned(&out->d.cose, doc)) {
			out->unsigned_doc = 1;
			if (!pol->allow_unsigned) {
				cr_fail_code(e, CR_E_UNSIGNED, "unsigned: " ATT_UNSIGNED_MSG);
				return fail_check(out, "unsigned");
			}
			out->at = pol->has_time ? pol->at : (int64_t)(doc->timestamp_ms / 1000);
			out->at_set = 1;
			goto expectations;
		}
		memset(doc, 0, sizeof *doc);
		return fail_check(out, "cose");
	}
	if (att_payload_decode(out->d.cose.payload, out->d.cose.payload_len, doc, e))
		return fail_check(out, "payload");

	if (!root) {
		if (aws_root_check(e))
			return fail_check(out, "chain");
		root = aws_root_g1_der;
		root_len = sizeof aws_root_g1_der;
	}
	out->at = pol->has_time ? pol->at : (int64_t)(doc->timestamp_ms / 1000);
	out->at_set = 1;
	if (build_chain(doc, root, root_len, &out->chain, e))
		return fail_check(out, "chain");
	if (verify_signatures(out, e))
		return -1;

expectations:
	if (check_pcrs(doc, pol, e))
		return fail_check(out, "pcr");
	if (check_bytes("nonce", &doc->nonce, &pol->nonce, e))
		return fail_check(out, "nonce");
	if (check_bytes("user_data", &doc->user_data, &pol->user_data, e))
		return fail_check(out, "user_data");
	if (check_bytes("public_key", &doc->public_key, &pol->public_key, e))
		return fail_check(out, "public_key");
	return 0;
}
