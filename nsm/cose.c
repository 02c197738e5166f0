#include "nsm/cose.h"

#include <bearssl.h>
#include <string.h>

#include "base/cbor_read.h"
#include "base/cbor_write.h"

/* Headers are small; the payload is one item, whatever its size. */
static const struct cbr_limits cose_limits = { .max_items = 256, .max_depth = 8 };

/* The algorithm profile of a curve. */
struct alg_profile {
	int curve;
	int64_t alg;
	const char *name;
	const br_hash_class *hash;
	size_t hlen;  /* hash output bytes */
	size_t coord; /* bytes of r and of s */
};

static const struct alg_profile profiles[] = {
	{ BR_EC_secp256r1, COSE_ALG_ES256, "ES256", &br_sha256_vtable, 32, 32 },
	{ BR_EC_secp384r1, COSE_ALG_ES384, "ES384", &br_sha384_vtable, 48, 48 },
	{ BR_EC_secp521r1, COSE_ALG_ES512, "ES512", &br_sha512_vtable, 64, 66 },
};

static const struct alg_profile *profile_for_curve(int curve)
{
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if (profiles[i].curve == curve)
			return &profiles[i];
	return NULL;
}

int64_t cose_alg_for_curve(int curve)
{
	const struct alg_profile *p = profile_for_curve(curve);
	return p ? p->alg : 0;
}

const char *cose_alg_name(int64_t alg)
{
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if (profiles[i].alg == alg)
			return profiles[i].name;
	return "unknown";
}

int cose_sig_structure(const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload, size_t len,
		       struct cr_buf *out, struct cr_err *e)
{
	struct cbor_w w;
	out->len = 0;
	cw_init(&w, out);
	cw_array(&w, 4);
	cw_text(&w, "Signature1");
	cw_bytes(&w, protected_hdr, protected_len);
	cw_bytes(&w, "", 0);
	cw_bytes(&w, payload, len);
	return cw_finish(&w, e);
}

/* Hash of the Sig_structure with the profile's hash function. */
static int sig_structure_hash(const struct alg_profile *pr, const uint8_t *prot, size_t prot_len,
			      const uint8_t *payload, size_t len, uint8_t *hash, struct cr_err *e)
{
	br_hash_compat_context hc;
	struct cr_buf buf;
	cr_buf_init(&buf, prot_len + len + 64);
	if (cose_sig_structure(prot, prot_len, payload, len, &buf, e)) {
		cr_buf_free(&buf);
		return -1;
	}
	pr->hash->init(&hc.vtable);
	pr->hash->update(&hc.vtable, buf.p, buf.len);
	pr->hash->out(&hc.vtable, hash);
	cr_buf_free(&buf);
	return 0;
}

/* The protected header: a map (an empty bstr stands for an empty map). */
static int parse_protected(struct cose_sign1 *m, struct cr_err *e)
{
	struct cbr_doc d;
	size_t v;
	if (!m->protected_len)
		return 0;
	if (cbr_parse(m->protected_hdr, m->protected_len, &cose_limits, "protected header", &d, e))
		return -1;
	if (d.items[0].kind != CBR_MAP) {
		cr_fail(e, "protected header must be a map, not %s", cbr_kind_name(d.items[0].kind));
		cbr_free(&d);
		return -1;
	}
	m->n_protected = (size_t)d.items[0].v;
	v = cbr_map_find_int(&d, 0, COSE_HDR_ALG);
	if (v != CBR_NONE) {
		if (cbr_int(&d, v, &m->alg)) {
			if (d.items[v].kind == CBR_UINT || d.items[v].kind == CBR_NEGINT)
				cr_fail(e, "protected header: alg (label 1) is out of the 64-bit signed range");
			else
				cr_fail(e, "protected header: alg (label 1) must be an integer, not %s",
					cbr_kind_name(d.items[v].kind));
			cbr_free(&d);
			return -1;
		}
		m->has_alg = 1;
	}
	cbr_free(&d);
	return 0;
}

int cose_sign1_parse(const uint8_t *buf, size_t len, struct cose_sign1 *m, struct cr_err *e)
{
	static const char *const names[4] = { "protected header", "unprotected header", "payload", "signature" };
	static const enum cbr_kind kinds[4] = { CBR_BYTES, CBR_MAP, CBR_BYTES, CBR_BYTES };
	struct cbr_doc d;
	size_t a = 0, el[4], n = 0;
	memset(m, 0, sizeof *m);
	if (cbr_parse(buf, len, &cose_limits, "COSE_Sign1", &d, e))
		return -1;
	if (d.items[0].kind == CBR_TAG) {
		if (d.items[0].v != COSE_TAG_SIGN1) {
			cr_fail(e, "COSE_Sign1: tag %llu is not COSE_Sign1 (18)", (unsigned long long)d.items[0].v);
			goto fail;
		}
		m->tagged = 1;
		a = 1;
	}
	if (d.items[a].kind != CBR_ARRAY || d.items[a].v != 4) {
		if (d.items[a].kind == CBR_ARRAY)
			cr_fail(e, "COSE_Sign1: array of %llu elements, must be exactly 4",
				(unsigned long long)d.items[a].v);
		else
			cr_fail(e, "COSE_Sign1: must be an array of 4, not %s", cbr_kind_name(d.items[a].kind));
		goto fail;
	}
	CBR_ARRAY_FOREACH(&d, a, i)
	{
		if (d.items[i].kind != kinds[n]) {
			cr_fail(e, "COSE_Sign1: %s must be %s, not %s", names[n], cbr_kind_name(kinds[n]),
				cbr_kind_name(d.items[i].kind));
			goto fail;
		}
		el[n++] = i;
	}
	m->protected_hdr = d.items[el[0]].p;
	m->protected_len = d.items[el[0]].len;
	m->n_unprotected = (size_t)d.items[el[1]].v;
	m->payload = d.items[el[2]].p;
	m->payload_len = d.items[el[2]].len;
	m->signature = d.items[el[3]].p;
	m->signature_len = d.items[el[3]].len;
	cbr_free(&d);
	if (parse_protected(m, e))
		return cr_err_wrap(e, "COSE_Sign1");
	return 0;
fail:
	cbr_free(&d);
	return -1;
}

int cose_sign1_verify(const struct cose_sign1 *m, const struct ec_pub *pub, struct cr_err *e)
{
	const struct alg_profile *pr = profile_for_curve(pub->curve);
	uint8_t hash[64];
	br_ec_public_key pk = ec_pub_br(pub);
	if (!pr)
		return cr_fail(e, "the key is on %s (want P-256, P-384 or P-521)", ec_curve_name(pub->curve));
	if (!m->has_alg)
		return cr_fail(e, "the protected header has no algorithm (label 1)");
	if (m->alg != pr->alg)
		return cr_fail(e, "algorithm %lld (%s) does not match the %s key, which needs %s (%lld)",
			       (long long)m->alg, cose_alg_name(m->alg), ec_curve_name(pub->curve), pr->name,
			       (long long)pr->alg);
	if (m->signature_len != 2 * pr->coord)
		return cr_fail(e, "signature is %zu bytes, %s needs %zu (r || s)", m->signature_len, pr->name,
			       2 * pr->coord);
	if (sig_structure_hash(pr, m->protected_hdr, m->protected_len, m->payload, m->payload_len, hash, e))
		return -1;
	if (!br_ecdsa_vrfy_raw_get_default()(br_ec_get_default(), hash, pr->hlen, &pk, m->signature, m->signature_len))
		return cr_fail(e, "ECDSA %s signature over the Sig_structure does not verify",
			       ec_curve_name(pub->curve));
	return 0;
}

int cose_sign1_sign_opts(const struct ec_key *key, const struct cose_sign1_opts *o, const uint8_t *payload, size_t len,
			 struct cr_buf *out, struct cr_err *e)
{
	const struct alg_profile *pr = profile_for_curve(key->pub.curve);
	uint8_t prot_default[8], hash[64], sig[132];
	struct cr_buf pb;
	const uint8_t *prot = o->protected_hdr;
	size_t prot_len = o->protected_len, sig_len;
	br_ec_private_key sk = ec_key_br(key);
	struct cbor_w w;
	if (!pr)
		return cr_fail(e, "COSE_Sign1: cannot sign with a key on %s", ec_curve_name(key->pub.curve));
	if (!prot) {
		cr_buf_init(&pb, sizeof prot_default);
		cw_init(&w, &pb);
		cw_map(&w, 1);
		cw_uint(&w, COSE_HDR_ALG);
		cw_int(&w, pr->alg);
		if (cw_finish(&w, e)) {
			cr_buf_free(&pb);
			return -1;
		}
		memcpy(prot_default, pb.p, pb.len);
		prot = prot_default;
		prot_len = pb.len;
		cr_buf_free(&pb);
	}
	if (sig_structure_hash(pr, prot, prot_len, payload, len, hash, e))
		return -1;
	sig_len = br_ecdsa_sign_raw_get_default()(br_ec_get_default(), pr->hash, hash, &sk, sig);
	if (sig_len != 2 * pr->coord)
		return cr_fail(e, "COSE_Sign1: ECDSA signing failed");
	out->len = 0;
	cw_init(&w, out);
	if (o->tagged)
		cw_tag(&w, COSE_TAG_SIGN1);
	cw_array(&w, 4);
	cw_bytes(&w, prot, prot_len);
	if (o->unprotected)
		cw_raw(&w, o->unprotected, o->unprotected_len);
	else
		cw_map(&w, 0);
	cw_bytes(&w, payload, len);
	cw_bytes(&w, sig, sig_len);
	return cw_finish(&w, e);
}

int cose_sign1_sign(const struct ec_key *key, const uint8_t *payload, size_t len, int tagged, struct cr_buf *out,
		    struct cr_err *e)
{
	struct cose_sign1_opts o = { .tagged = tagged };
	return cose_sign1_sign_opts(key, &o, payload, len, out, e);
}
