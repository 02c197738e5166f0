/* report_make(): the signed report, made inside the enclave (report.h). */
#include <bearssl.h>
#include <stdlib.h>
#include <string.h>

#include "base/digest.h"
#include "nsm/nsm_client.h"
#include "report/report.h"

/* GetRandom answers with what the NSM decides (QEMU's and our model's: 256
 * bytes); the buffer leaves room for that after any partial answer. */
#define SEED_BUF 1024

/* Everything large in one allocation: PID 1 keeps a small stack. */
struct report_work {
	struct cr_buf statement;
	uint8_t seed[SEED_BUF];
	struct ec_key key;
	uint8_t spki[REPORT_SPKI_MAX];
	size_t spki_len;
	char keyid[REPORT_KEY_ID_LEN + 1];
	uint8_t user_data[CR_SHA384_LEN]; /* the statement's SHA-384 */
	uint8_t sig[REPORT_SIG_MAX];
	uint8_t doc[NSM_RESPONSE_MAX];
};

/* A seed of at least 48 bytes from GetRandom (an NSM may answer with fewer
 * bytes than asked, so ask until there are enough). */
static int seed_from_nsm(struct nsm_client *c, uint8_t *seed, size_t *len, struct cr_err *e)
{
	*len = 0;
	for (int tries = 0; *len < 48; tries++) {
		size_t n;
		if (tries == 8)
			return cr_fail(e, "NSM GetRandom: fewer than 48 bytes after %d calls", tries);
		if (nsm_get_random(c, seed + *len, SEED_BUF - *len, &n, e))
			return -1;
		*len += n;
	}
	return 0;
}

int report_make(struct nsm_client *c, struct report_statement *st, struct cr_buf *out, struct cr_err *e)
{
	/* P-256/SHA-256: Sigstore's default, and the only ECDSA hash its
	 * JavaScript verifier uses (docs/bundle-format.md, "Why P-256") */
	return report_make_with(c, st, BR_EC_secp256r1, NULL, out, e);
}

int report_make_with(struct nsm_client *c, struct report_statement *st, int curve, const char *keyid,
		     struct cr_buf *out, struct cr_err *e)
{
	struct report_work *w = calloc(1, sizeof *w);
	size_t seed_len, sig_len, doc_len;
	int rc = -1;
	if (!w)
		return cr_fail(e, "report: out of memory");
	cr_buf_init(&w->statement, REPORT_MAX_STATEMENT);
	for (uint16_t i = 0; i < REPORT_PCRS; i++) {
		struct nsm_pcr p;
		if (nsm_describe_pcr(c, i, &p, e)) {
			cr_err_wrap(e, "PCR%u", i);
			goto done;
		}
		if (p.len != CR_PCR_LEN) {
			cr_fail(e, "NSM DescribePCR %u: %zu bytes, expected %d (SHA-384)", i, p.len, CR_PCR_LEN);
			goto done;
		}
		memcpy(st->pcr[i], p.value, CR_PCR_LEN);
	}
	if (seed_from_nsm(c, w->seed, &seed_len, e) || ec_key_generate(&w->key, curve, w->seed, seed_len, e) ||
	    report_spki_encode(&w->key.pub, w->spki, &w->spki_len, e) || report_statement_encode(st, &w->statement, e))
		goto done;
	report_key_id(w->spki, w->spki_len, w->keyid);
	{
		br_sha384_context h;
		br_sha384_init(&h);
		br_sha384_update(&h, w->statement.p, w->statement.len);
		br_sha384_out(&h, w->user_data);
	}
	{
		struct nsm_opt_bytes ud = { 1, w->user_data, sizeof w->user_data };
		struct nsm_opt_bytes nonce = { st->nonce_len > 0, st->nonce, st->nonce_len };
		struct nsm_opt_bytes pk = { 1, w->spki, w->spki_len };
		if (nsm_attestation(c, &ud, &nonce, &pk, w->doc, sizeof w->doc, &doc_len, e))
			goto done;
	}
	if (report_dsse_sign(&w->key, w->statement.p, w->statement.len, w->sig, &sig_len, e) ||
	    report_bundle_encode(w->statement.p, w->statement.len, w->sig, sig_len, keyid ? keyid : w->keyid, w->doc,
				 doc_len, out, e))
		goto done;
	rc = 0;
done:
	cr_buf_free(&w->statement);
	/* wipe the key and its seed: nothing outlives the call */
	memset(w, 0, sizeof *w);
	free(w);
	return rc;
}
