/* Real NSM attestation documents ($SHARED/testvectors/nitro-attestation):
 * each verifies against the compiled-in AWS root at its own timestamp (and
 * at the time its upstream test states), matches MANIFEST.json, fails one
 * day before and after, and fails under bit flips in the signature, the
 * payload and every certificate. */
#include "nsm/attest_verify.h"
#include "nsm/aws_root.h"
#include "tests/unit/check.h"
#include "base/json.h"

#define DIR "testvectors/nitro-attestation"

struct vec {
	const char *name;
	uint8_t *doc;
	size_t len;
	const struct json_val *m; /* its MANIFEST.json entry */
};

static struct att_verified res; /* ~30 KiB: not on the stack */

/* Verify buf with pol; returns the failing check ("" when it verifies) and
 * leaves the message in *e. */
static const char *verify(const uint8_t *buf, size_t len, const struct att_policy *pol, struct cr_err *e)
{
	e->msg[0] = 0;
	if (att_verify(buf, len, pol, &res, e))
		return res.check;
	return "";
}

static int64_t manifest_int(const struct json_val *m, const char *key)
{
	const struct json_val *v = json_get(m, key);
	return v && v->type == JSON_NUMBER && v->is_int ? v->i : -1;
}

/* MANIFEST's description of an optional field: "null", "empty", "bytes[N]". */
static void describe_opt(const struct att_opt *o, char *out, size_t cap)
{
	if (o->state == ATT_NULL)
		snprintf(out, cap, "null");
	else if (o->state == ATT_SET && !o->len)
		snprintf(out, cap, "empty");
	else if (o->state == ATT_SET)
		snprintf(out, cap, "bytes[%zu]", o->len);
	else
		snprintf(out, cap, "absent");
}

static void check_fields(const struct vec *v)
{
	const struct att_doc *d = &res.d.doc;
	char buf[32];
	T_STR(d->module_id, json_get_str(v->m, "module_id"), "%s: module_id", v->name);
	T_OK((int64_t)d->timestamp_ms == manifest_int(v->m, "timestamp_ms"), "%s: timestamp", v->name);
	T_OK((int64_t)d->n_pcrs == manifest_int(v->m, "num_pcrs"), "%s: %zu PCRs", v->name, d->n_pcrs);
	T_OK((int64_t)d->n_cabundle == manifest_int(v->m, "cabundle_len"), "%s: cabundle of %zu", v->name,
	     d->n_cabundle);
	T_STR(d->indefinite ? "indefinite" : "definite(0xa9)", json_get_str(v->m, "payload_map"),
	      "%s: payload map form", v->name);
	describe_opt(&d->public_key, buf, sizeof buf);
	T_STR(buf, json_get_str(v->m, "public_key"), "%s: public_key", v->name);
	describe_opt(&d->user_data, buf, sizeof buf);
	T_STR(buf, json_get_str(v->m, "user_data"), "%s: user_data", v->name);
	describe_opt(&d->nonce, buf, sizeof buf);
	T_STR(buf, json_get_str(v->m, "nonce"), "%s: nonce", v->name);
	T_OK(res.at == (int64_t)(d->timestamp_ms / 1000), "%s: verified at the document's own timestamp", v->name);
	T_OK(res.chain.n == d->n_cabundle + 1, "%s: chain is leaf + cabundle[1..] + root", v->name);
}

/* The manifest's PCRs 0-4 and 8 as a policy. */
static void manifest_policy(const struct vec *v, struct att_policy *pol)
{
	static const unsigned idx[] = { 0, 1, 2, 3, 4, 8 };
	memset(pol, 0, sizeof *pol);
	for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
		char key[8];
		const char *hex;
		snprintf(key, sizeof key, "pcr%u", idx[i]);
		hex = json_get_str(v->m, key);
		if (!hex || cr_unhex_var(hex, pol->pcrs[pol->n_pcrs].value, 64, &pol->pcrs[pol->n_pcrs].len))
			continue;
		pol->pcrs[pol->n_pcrs++].index = idx[i];
	}
}

static void check_times(const struct vec *v)
{
	struct att_policy pol = { 0 };
	struct cr_err e;
	int64_t ts = manifest_int(v->m, "timestamp_ms") / 1000, stated = manifest_int(v->m, "stated_verify_time_s");
	if (stated < 0 && manifest_int(v->m, "stated_verify_time_ms") > 0)
		stated = manifest_int(v->m, "stated_verify_time_ms") / 1000;
	if (stated > 0) {
		pol.has_time = 1;
		pol.at = stated;
		T_STR(verify(v->doc, v->len, &pol, &e), "", "%s: verifies at the upstream test's time %lld", v->name,
		      (long long)stated);
		if (e.msg[0])
			printf("# %s\n", e.msg);
	}
	pol.has_time = 1;
	pol.at = ts - 86400;
	T_STR(verify(v->doc, v->len, &pol, &e), "chain", "%s: fails one day before its timestamp", v->name);
	T_OK(strstr(e.msg, "not valid before") != NULL, "%s: ... saying which certificate is not yet valid (%s)",
	     v->name, e.msg);
	pol.at = ts + 86400;
	T_STR(verify(v->doc, v->len, &pol, &e), "chain", "%s: fails one day after its timestamp", v->name);
	T_OK(strstr(e.msg, "chain: leaf (CN=") && strstr(e.msg, "expired at"), "%s: ... naming the expired leaf (%s)",
	     v->name, e.msg);
}

static void check_policy(const struct vec *v)
{
	struct att_policy pol;
	struct cr_err e;
	const struct att_doc *d;
	uint8_t other[4] = { 1, 2, 3, 4 };
	manifest_policy(v, &pol);
	T_STR(verify(v->doc, v->len, &pol, &e), "", "%s: PCRs 0-4 and 8 match the manifest (%zu checked)", v->name,
	      pol.n_pcrs);
	pol.pcrs[0].value[47] ^= 1;
	T_STR(verify(v->doc, v->len, &pol, &e), "pcr", "%s: a wrong PCR0 fails", v->name);
	T_OK(!strncmp(e.msg, "pcr 0: mismatch", 15), "%s: ... with 'pcr 0: mismatch' (%.60s)", v->name, e.msg);
	memset(&pol, 0, sizeof pol);
	pol.pcrs[0].index = 20;
	pol.pcrs[0].len = 48;
	pol.n_pcrs = 1;
	T_STR(verify(v->doc, v->len, &pol, &e), "pcr", "%s: an expected PCR the document lacks fails", v->name);

	/* The document's own optional fields, then a wrong nonce. */
	memset(&pol, 0, sizeof pol);
	if (verify(v->doc, v->len, &pol, &e)[0])
		return;
	d = &res.d.doc;
	pol.nonce.set = d->nonce.state == ATT_SET;
	pol.nonce.p = d->nonce.p;
	pol.nonce.len = d->nonce.len;
	pol.user_data.set = d->user_data.state == ATT_SET;
	pol.user_data.p = d->user_data.p;
	pol.user_data.len = d->user_data.len;
	pol.public_key.set = d->public_key.state == ATT_SET;
	pol.public_key.p = d->public_key.p;
	pol.public_key.len = d->public_key.len;
	T_STR(verify(v->doc, v->len, &pol, &e), "", "%s: its own nonce/user_data/public_key match", v->name);
	pol.nonce.set = 1;
	pol.nonce.p = other;
	pol.nonce.len = sizeof other;
	T_STR(verify(v->doc, v->len, &pol, &e), "nonce", "%s: another nonce fails (%s)", v->name, e.msg);
}

/* Flip n bits, one at a time, at offsets at[0..n) of the document; each
 * must fail with check `want` (any check when want is NULL). */
static void flips(const struct vec *v, const size_t *at, int n, const char *want, const char *region)
{
	struct att_policy pol = { 0 };
	struct cr_err e;
	int bad = 0;
	char first[600] = "";
	for (int k = 0; k < n; k++) {
		const char *got;
		v->doc[at[k]] ^= (uint8_t)(1u << (k % 8));
		got = verify(v->doc, v->len, &pol, &e);
		v->doc[at[k]] ^= (uint8_t)(1u << (k % 8));
		if ((want ? strcmp(got, want) != 0 : !*got) && !bad++)
			snprintf(first, sizeof first, "byte %zu bit %d: check '%s' (%s)", at[k], k % 8, got, e.msg);
	}
	if (bad)
		printf("# %d flips not caught; first: %s\n", bad, first);
	T_OK(!bad, "%s: %d bit flips in %s all fail at %s", v->name, n, region, want ? want : "some check");
}

#define NFLIPS 24

/* NFLIPS offsets spread over [off, off + len). */
static void spread(size_t off, size_t len, size_t *at)
{
	for (size_t k = 0; k < NFLIPS; k++)
		at[k] = off + (k * len) / NFLIPS + (k % 3 < len ? k % 3 : 0);
	for (size_t k = 0; k < NFLIPS; k++)
		if (at[k] >= off + len)
			at[k] = off + len - 1;
}

static void check_flips(struct vec *v)
{
	struct att_policy pol = { 0 };
	struct cr_err e;
	struct att_doc d;
	struct cose_sign1 cose;
	size_t at[NFLIPS];
	struct att_bytes certs[ATT_MAX_CABUNDLE + 1];
	char region[32];
	if (verify(v->doc, v->len, &pol, &e)[0])
		return;
	d = res.d.doc;
	cose = res.d.cose;

	spread((size_t)(cose.signature - v->doc), cose.signature_len, at);
	flips(v, at, NFLIPS, "signature", "the signature");
	/* PCR values are covered only by the COSE signature. */
	for (size_t k = 0; k < NFLIPS; k++) {
		const struct att_pcr *p = &d.pcrs[k % d.n_pcrs];
		at[k] = (size_t)(p->value - v->doc) + (k * 7) % p->len;
	}
	flips(v, at, NFLIPS, "signature", "PCR values");
	/* The head of the payload: map header, keys, module_id, timestamp. */
	spread((size_t)(cose.payload - v->doc), (size_t)(d.pcrs[0].value - cose.payload), at);
	flips(v, at, NFLIPS, NULL, "the payload head");
	certs[0] = d.certificate;
	memcpy(certs + 1, d.cabundle, d.n_cabundle * sizeof certs[0]);
	for (size_t i = 0; i <= d.n_cabundle; i++) {
		if (i == 0)
			snprintf(region, sizeof region, "the leaf certificate");
		else
			snprintf(region, sizeof region, "cabundle[%zu]", i - 1);
		spread((size_t)(certs[i].p - v->doc), certs[i].len, at);
		flips(v, at, NFLIPS, "chain", region);
	}
}

int main(void)
{
	char path[4096];
	uint8_t *text;
	size_t len;
	struct json_doc manifest;
	struct cr_err e;
	size_t nv = 0;
	struct vec vecs[16];

	T_OK(aws_root_check(&e) == 0, "the compiled-in AWS root hashes to 641a0321...bb5b");
	if (!t_shared(DIR "/MANIFEST.json", path, sizeof path)) {
		t_skip("SHARED is not set", "real attestation documents");
		return t_done();
	}
	if (cr_read_file(path, 1 << 20, &text, &len, &e) || json_parse((char *)text, len, NULL, &manifest, &e)) {
		T_OK(0, "read %s: %s", path, e.msg);
		return t_done();
	}
	{
		uint8_t *der;
		size_t dl;
		t_shared(DIR "/aws_nitro_enclaves_root_g1.der", path, sizeof path);
		if (!cr_read_file(path, 4096, &der, &dl, &e)) {
			T_OK(dl == sizeof aws_root_g1_der && !memcmp(der, aws_root_g1_der, dl),
			     "the compiled-in root equals $SHARED's aws_nitro_enclaves_root_g1.der");
			free(der);
		}
	}
	for (size_t i = 0; i < manifest.root->n && nv < 16; i++) {
		struct vec *v = &vecs[nv];
		v->m = manifest.root->kids[i];
		v->name = json_get_str(v->m, "file");
		t_shared(DIR, path, sizeof path);
		snprintf(path + strlen(path), sizeof path - strlen(path), "/%s", v->name);
		if (cr_read_file(path, ATT_DOC_MAX + 1, &v->doc, &v->len, &e)) {
			T_OK(0, "read %s: %s", v->name, e.msg);
			continue;
		}
		nv++;
	}
	T_OK(nv == 5, "MANIFEST.json lists 5 documents (%zu)", nv);
	for (size_t i = 0; i < nv; i++) {
		struct vec *v = &vecs[i];
		struct att_policy pol = { 0 };
		const char *check = verify(v->doc, v->len, &pol, &e);
		T_STR(check, "", "%s: verifies at its own timestamp", v->name);
		if (*check) {
			printf("# %s\n", e.msg);
			continue;
		}
		check_fields(v);
		check_times(v);
		check_policy(v);
		check_flips(v);
	}
	for (size_t i = 0; i < nv; i++) {
		struct vec *v = &vecs[i];
		struct att_policy pol = { 0 };
		if (strcmp(v->name, "svr2_valid_bytes.cbor"))
			continue;
		pol.has_time = 1;
		pol.at = 1684362463;
		v->doc[160] ^= 1;
		T_STR(verify(v->doc, v->len, &pol, &e), "signature",
		      "svr2: flipping bit 0 of byte 160 fails the signature");
		T_OK(strstr(e.msg, "does not verify") != NULL, "svr2: ... '%s'", e.msg);
		v->doc[160] ^= 1;
	}
	for (size_t i = 0; i < nv; i++)
		free(vecs[i].doc);
	json_free(&manifest);
	free(text);
	return t_done();
}
