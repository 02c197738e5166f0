/* Fuzz target: the signed report (report/report.h) as the host reads it —
 * bundle JSON (DSSE envelope + base64 attestation), the in-toto/SLSA
 * statement, the binding key's SubjectPublicKeyInfo — and the whole
 * `cleanroom verify` check list (host-tool/verify/bundle_verify.h).
 *
 * Input: one selector byte, then the bytes. selector % 5:
 *   0  a bundle, verified against the test CA's root ($CR_FUZZ_CA)
 *   1  a bundle, verified against the AWS root
 *   2  a statement (JSON)
 *   3  a DER SubjectPublicKeyInfo (P-256 or P-384)
 *   4  two bytes (big-endian) n, n bytes of attestation document, then a
 *      report in any form (a Sigstore bundle or a bare DSSE envelope take
 *      the document), verified against the test CA's root
 *
 * Properties beyond the sanitizers:
 *   - parsed bundles and statements re-encode, and parse and encode again
 *     to the same bytes (parser and encoder agree on every field); every
 *     parsed report also encodes as an .intoto.jsonl line and a Sigstore
 *     bundle that parse back (with its document) and encode to the same
 *     bytes; a decoded SPKI encodes back to the same bytes;
 *   - bundle_verify() says verified exactly when no check failed, and then
 *     has both the statement and the document; a refusal names its first
 *     failed check; the text and JSON listings can always be written. */
#include "host-tool/verify/bundle_verify.h"
#include "tests/fuzz/fuzz.h"
#include "base/json.h"
#include "report/report.h"

static struct nsm_ca ca;
static int have_ca;
static struct bv_result res;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	have_ca = fz_load_ca(&ca, "fuzz_report");
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		fz_die("/dev/null");
	return 0;
}

/* Encode a parsed report in form f (the cleanroom bundle with its first
 * signature only), parse that back with the document, encode again: the
 * same bytes. */
static void round_trip(const struct report_bundle *b, enum report_form f)
{
	struct report_bundle b2;
	struct cr_buf enc, enc2;
	struct cr_buf *bufs[2] = { &enc, &enc2 };
	const struct report_bundle *from = b;
	struct cr_err e;
	const uint8_t *att = f == REPORT_FORM_CLEANROOM ? NULL : b->attestation.p;
	if (f != REPORT_FORM_CLEANROOM && !b->attestation.len)
		return; /* an empty document: only the cleanroom bundle can carry one */
	cr_buf_init(&enc, 4 * REPORT_MAX_BUNDLE);
	cr_buf_init(&enc2, 4 * REPORT_MAX_BUNDLE);
	for (int i = 0; i < 2; i++) {
		int rc = f == REPORT_FORM_CLEANROOM
				 ? report_bundle_encode(from->statement.p, from->statement.len, from->sigs[0].sig.p,
							from->sigs[0].sig.len, from->sigs[0].keyid, from->attestation.p,
							from->attestation.len, bufs[i], &e)
			 : f == REPORT_FORM_SIGSTORE ? report_sigstore_encode(from, "fuzz-hint", bufs[i], &e)
						     : report_dsse_jsonl_encode(from, bufs[i], &e);
		if (rc)
			fz_die("a parsed report does not encode as %s: %s", report_form_name(f), e.msg);
		if (i == 1)
			break;
		if (report_bundle_parse_form(enc.p, enc.len, att, b->attestation.len, &b2, &e))
			fz_die("the %s encoding of a parsed report does not parse: %s", report_form_name(f), e.msg);
		if (b2.form != f)
			fz_die("%s parsed back as %s", report_form_name(f), report_form_name(b2.form));
		from = &b2;
	}
	if (enc.len != enc2.len || memcmp(enc.p, enc2.p, enc.len))
		fz_die("%s: parse and encode disagree", report_form_name(f));
	report_bundle_free(&b2);
	cr_buf_free(&enc);
	cr_buf_free(&enc2);
}

static void bundle(const uint8_t *data, size_t size, const uint8_t *att, size_t att_len, int test_root)
{
	struct report_bundle b;
	struct cr_err e;
	struct bv_policy pol;
	struct cr_buf jb;
	struct json_w w;
	size_t fails = 0;
	char first[600];

	if (report_bundle_parse_form(data, size, att, att_len, &b, &e)) {
		fz_check_err(&e, "report_bundle_parse_form");
	} else {
		round_trip(&b, REPORT_FORM_CLEANROOM);
		round_trip(&b, REPORT_FORM_SIGSTORE);
		round_trip(&b, REPORT_FORM_DSSE);
		report_bundle_free(&b);
	}

	memset(&pol, 0, sizeof pol);
	if (test_root && have_ca) {
		pol.root_der = ca.bundle[0].p;
		pol.root_len = ca.bundle[0].len;
		pol.root_desc = "fuzz test CA";
	}
	int rc = bundle_verify_form(data, size, att, att_len, "fuzz input", &pol, &res);
	for (size_t i = 0; i < res.n; i++)
		fails += res.checks[i].status == BV_FAIL;
	if ((rc == 0) != res.verified || res.verified != (fails == 0))
		fz_die("bundle_verify returned %d, verified %d, with %zu failed checks", rc, res.verified, fails);
	if (res.verified && (!res.have_statement || !res.have_document))
		fz_die("verified without a statement or a document");
	if (!res.verified && !bv_first_failure(&res, first, sizeof first)[0])
		fz_die("a refused bundle without a failed check to name");
	bv_print_text(&res, devnull);
	cr_buf_init(&jb, 1u << 24);
	jw_init(&w, &jb, 1);
	jw_obj_begin(&w);
	bv_write_json(&res, &w);
	jw_obj_end(&w);
	if (jw_finish(&w, &e))
		fz_die("the JSON listing does not finish: %s", e.msg);
	cr_buf_free(&jb);
	bv_result_free(&res);
}

static void statement(const uint8_t *data, size_t size)
{
	struct report_parsed p, p2;
	struct cr_buf enc, enc2;
	struct cr_err e;
	if (report_statement_parse(data, size, &p, &e)) {
		fz_check_err(&e, "report_statement_parse");
		report_statement_free(&p);
		return;
	}
	cr_buf_init(&enc, 4 * REPORT_MAX_STATEMENT);
	cr_buf_init(&enc2, 4 * REPORT_MAX_STATEMENT);
	if (report_statement_encode(&p.st, &enc, &e))
		fz_die("a parsed statement does not encode: %s", e.msg);
	if (report_statement_parse(enc.p, enc.len, &p2, &e))
		fz_die("the encoding of a parsed statement does not parse: %s", e.msg);
	if (report_statement_encode(&p2.st, &enc2, &e))
		fz_die("second encode of a statement failed: %s", e.msg);
	if (enc.len != enc2.len || memcmp(enc.p, enc2.p, enc.len))
		fz_die("statement: parse and encode disagree");
	report_statement_free(&p2);
	report_statement_free(&p);
	cr_buf_free(&enc);
	cr_buf_free(&enc2);
}

static void spki(const uint8_t *data, size_t size)
{
	struct ec_pub pub;
	struct cr_err e;
	uint8_t out[REPORT_SPKI_MAX];
	size_t n;
	if (report_spki_decode(data, size, &pub, &e)) {
		fz_check_err(&e, "report_spki_decode");
		return;
	}
	if (report_spki_encode(&pub, out, &n, &e))
		fz_die("a decoded SPKI does not encode: %s", e.msg);
	if (size != n || memcmp(out, data, size))
		fz_die("SPKI: decode and encode disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel;
	if (size < 1)
		return 0;
	sel = data[0] % 5;
	data++;
	size--;
	switch (sel) {
	case 0:
	case 1: bundle(data, size, NULL, 0, sel == 0); break;
	case 2: statement(data, size); break;
	case 3: spki(data, size); break;
	default: {
		size_t n = size >= 2 ? (size_t)data[0] << 8 | data[1] : 0;
		if (size < 2 || n > size - 2)
			return 0;
		bundle(data + 2 + n, size - 2 - n, data + 2, n, 1);
		break;
	}
	}
	return 0;
}
