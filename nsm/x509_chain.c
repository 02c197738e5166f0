#include "nsm/x509_chain.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>

void x509_chain_init(struct x509_chain *ch)
{
	ch->n = 0;
}

int x509_chain_add(struct x509_chain *ch, const uint8_t *der, size_t len, const char *label, struct cr_err *e)
{
	if (ch->n == X509_CHAIN_MAX)
		return cr_fail(e, "chain: more than %d certificates", X509_CHAIN_MAX);
	if (x509_cert_parse(der, len, &ch->cert[ch->n], e))
		return cr_err_wrap(e, "chain: %s", label);
	snprintf(ch->label[ch->n], sizeof ch->label[ch->n], "%s", label);
	ch->n++;
	return 0;
}

/* "cabundle[2] (CN=...)" */
static const char *who(const struct x509_chain *ch, size_t i, char *buf, size_t cap)
{
	if (ch->cert[i].subject_cn[0])
		snprintf(buf, cap, "%s (CN=%s)", ch->label[i], ch->cert[i].subject_cn);
	else
		snprintf(buf, cap, "%s", ch->label[i]);
	return buf;
}

static int check_time(const struct x509_chain *ch, size_t i, int64_t at, struct cr_err *e)
{
	const struct x509_cert *c = &ch->cert[i];
	char w[200], t1[32], t2[32];
	if (at < c->not_before) {
		cr_time_format(c->not_before, t1);
		cr_time_format(at, t2);
		return cr_fail(e, "chain: %s is not valid before %s (verification time %s)", who(ch, i, w, sizeof w),
			       t1, t2);
	}
	if (at > c->not_after) {
		cr_time_format(c->not_after, t1);
		cr_time_format(at, t2);
		return cr_fail(e, "chain: %s expired at %s (verification time %s)", who(ch, i, w, sizeof w), t1, t2);
	}
	return 0;
}

static int fail_not_ca(const struct x509_chain *ch, size_t i, struct cr_err *e)
{
	const struct x509_cert *c = &ch->cert[i];
	char w[200];
	if (!c->has_basic_constraints || !c->is_ca)
		return cr_fail(e, "chain: %s is not a CA (basicConstraints cA is not set)", who(ch, i, w, sizeof w));
	if (c->path_len >= 0 && (size_t)c->path_len < i - 1)
		return cr_fail(e, "chain: %s has pathLenConstraint %d but %zu CA certificates below it",
			       who(ch, i, w, sizeof w), c->path_len, i - 1);
	return cr_fail(e, "chain: %s: basicConstraints rejected by BearSSL", who(ch, i, w, sizeof w));
}

/* One line for the error BearSSL's engine stopped at while reading
 * certificate i (for a signature, i is the issuer: the engine checks the
 * signature of i - 1 with the key it has just read). */
static int engine_error(const struct x509_chain *ch, size_t i, int64_t at, unsigned err, struct cr_err *e)
{
	const struct x509_cert *c = &ch->cert[i];
	char w[200], b[200];
	who(ch, i, w, sizeof w);
	who(ch, i ? i - 1 : 0, b, sizeof b); /* the engine checks signatures and names from i = 1 */
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		if (check_time(ch, i, at, e))
			return -1;
		return cr_fail(e, "chain: %s is not valid at the verification time", w);
	case BR_ERR_X509_DN_MISMATCH:
		return cr_fail(e, "chain: the issuer of %s (%s) is not the subject of %s (%s)", b,
			       ch->cert[i ? i - 1 : 0].issuer_text, ch->label[i], c->subject_text);
	case BR_ERR_X509_BAD_SIGNATURE:
		return cr_fail(e, "chain: the signature of %s does not verify with the key of %s", b, ch->label[i]);
	case BR_ERR_X509_WRONG_KEY_TYPE:
		return cr_fail(e, "chain: %s is signed with %s but %s has another key type", b,
			       ch->cert[i ? i - 1 : 0].sig_alg, ch->label[i]);
	case BR_ERR_X509_UNSUPPORTED:
		if (i && !c->key_is_ec)
			return cr_fail(e, "chain: %s has a key other than EC P-256/384/521", w);
		return cr_fail(e, "chain: %s uses an unsupported algorithm (%s)", w, c->sig_alg);
	case BR_ERR_X509_CRITICAL_EXTENSION: return cr_fail(e, "chain: %s has an unsupported critical extension", w);
	case BR_ERR_X509_NOT_CA: return fail_not_ca(ch, i, e);
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return cr_fail(e, "chain: %s keyUsage lacks %s", w, i ? "keyCertSign" : "digitalSignature");
	case BR_ERR_X509_LIMIT_EXCEEDED:
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return cr_fail(e, "chain: %s has a key or signature of a size BearSSL does not take (error %u)", w,
			       err);
	default: return cr_fail(e, "chain: %s is malformed (BearSSL X.509 error %u)", w, err);
	}
}

/* BearSSL's minimal engine over cert[0] .. cert[n - 2], the anchor cert[n - 1]
 * as the only trust anchor.
 *
 * The engine keeps the chain's state in its context's err field: 0 while
 * undecided, BR_ERR_X509_OK once a certificate verifies with a trust
 * anchor's key, else the error that ended the run (and later certificates
 * are ignored). The public API reports it only from end_chain(), for the
 * chain as a whole; reading it after each certificate (the field is private
 * in the header, but BearSSL is pinned at 0.6) is what names the
 * certificate at fault. */
static int run_engine(const struct x509_chain *ch, int64_t at, struct cr_err *e)
{
	const struct x509_cert *anchor = &ch->cert[ch->n - 1];
	size_t top = ch->n - 2; /* the certificate the anchor must sign */
	br_x509_trust_anchor ta;
	br_x509_minimal_context xc;
	const br_x509_class **vt = &xc.vtable;
	uint32_t days, secs;
	char w[200];

	if (!anchor->key_is_ec)
		return cr_fail(e, "chain: %s has a key other than EC P-256/384/521", who(ch, ch->n - 1, w, sizeof w));
	memset(&ta, 0, sizeof ta);
	ta.dn.data = (unsigned char *)anchor->subject.p;
	ta.dn.len = anchor->subject.len;
	ta.flags = BR_X509_TA_CA;
	ta.pkey.key_type = BR_KEYTYPE_EC;
	ta.pkey.key.ec = ec_pub_br(&anchor->key);

	br_x509_minimal_init(&xc, &br_sha256_vtable, &ta, 1);
	br_x509_minimal_set_hash(&xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(&xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(&xc, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_ecdsa(&xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
	x509_bearssl_time(at, &days, &secs);
	br_x509_minimal_set_time(&xc, days, secs);
	(*vt)->start_chain(vt, NULL);
	for (size_t i = 0; i <= top; i++) {
		const struct x509_cert *c = &ch->cert[i];
		(*vt)->start_cert(vt, (uint32_t)c->der.len);
		(*vt)->append(vt, c->der.p, c->der.len);
		(*vt)->end_cert(vt);
		if (xc.err == BR_ERR_X509_OK && i < top)
			return cr_fail(e,
				       "chain: %s is signed by %s directly, but the chain has %zu more certificate%s",
				       who(ch, i, w, sizeof w), ch->label[ch->n - 1], top - i, top - i > 1 ? "s" : "");
		if (xc.err && xc.err != BR_ERR_X509_OK)
			return engine_error(ch, i, at, (unsigned)xc.err, e);
	}
	if ((*vt)->end_chain(vt) == 0)
		return 0;
	/* Not trusted: the top certificate's issuer is not the anchor's name,
	 * or the anchor's key does not verify its signature. */
	who(ch, top, w, sizeof w);
	if (ch->cert[top].issuer.len != anchor->subject.len ||
	    memcmp(ch->cert[top].issuer.p, anchor->subject.p, anchor->subject.len))
		return cr_fail(e, "chain: the issuer of %s (%s) is not the subject of %s (%s)", w,
			       ch->cert[top].issuer_text, ch->label[ch->n - 1], anchor->subject_text);
	return cr_fail(e, "chain: the signature of %s does not verify with the key of %s", w, ch->label[ch->n - 1]);
}

/* What the engine does not check: the leaf's role, keyUsage being present,
 * and anything about the anchor. */
static int check_roles(const struct x509_chain *ch, int64_t at, struct cr_err *e)
{
	size_t last = ch->n - 1;
	char w[200];
	for (size_t i = 0; i < ch->n; i++) {
		const struct x509_cert *c = &ch->cert[i];
		who(ch, i, w, sizeof w);
		if (i == 0) {
			if (c->has_basic_constraints && c->is_ca)
				return cr_fail(e, "chain: %s is a CA certificate; a leaf must not be", w);
			if (!c->has_key_usage)
				return cr_fail(e, "chain: %s has no keyUsage extension (needs digitalSignature)", w);
			if (!(c->key_usage & X509_KU_DIGITAL_SIGNATURE))
				return cr_fail(e, "chain: %s keyUsage lacks digitalSignature", w);
			continue;
		}
		if (i == last) {
			if (check_time(ch, i, at, e))
				return -1;
			if (!c->has_basic_constraints || !c->is_ca || (c->path_len >= 0 && (size_t)c->path_len < i - 1))
				return fail_not_ca(ch, i, e);
		}
		if (!c->has_key_usage)
			return cr_fail(e, "chain: %s has no keyUsage extension (needs keyCertSign)", w);
		if (i == last && !(c->key_usage & X509_KU_KEY_CERT_SIGN))
			return cr_fail(e, "chain: %s keyUsage lacks keyCertSign", w);
	}
	return 0;
}

/* The verification times a certificate can speak of: 0000-01-01 to
 * 9999-12-31 (X.509 dates have four-digit years). Outside, BearSSL's day
 * count (a uint32 from year 0) would wrap and a far-future time could land
 * inside an expired certificate's validity. */
#define X509_TIME_MIN (-62167219200ll) /* 0000-01-01T00:00:00Z */
#define X509_TIME_MAX 253402300799ll   /* 9999-12-31T23:59:59Z */

int x509_chain_verify(const struct x509_chain *ch, int64_t at, struct cr_err *e)
{
	if (ch->n < 2)
		return cr_fail(e, "chain: needs a leaf and a trust anchor");
	if (at < X509_TIME_MIN || at > X509_TIME_MAX)
		return cr_fail(e, "chain: verification time %lld is outside the years 0000 to 9999", (long long)at);
	if (run_engine(ch, at, e) || check_roles(ch, at, e))
		return -1;
	return 0;
}
