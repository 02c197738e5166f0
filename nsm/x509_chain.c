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
		return cr_fail(e, "chain: %s is not valid before %s (verification time %s)", who(ch, i, w, sizeof w), t1,
			       t2);
	}
	if (at > c->not_after) {
		cr_time_format(c->not_after, t1);
		cr_time_format(at, t2);
		return cr_fail(e, "chain: %s expired at %s (verification time %s)", who(ch, i, w, sizeof w), t1, t2);
	}
	return 0;
}

/* The certificate's role: leaf (index 0) or CA with (i - 1) CAs below it. */
static int check_role(const struct x509_chain *ch, size_t i, struct cr_err *e)
{
	const struct x509_cert *c = &ch->cert[i];
	char w[200];
	if (i == 0) {
		if (c->has_basic_constraints && c->is_ca)
			return cr_fail(e, "chain: %s is a CA certificate; a leaf must not be", who(ch, i, w, sizeof w));
		if (!c->has_key_usage)
			return cr_fail(e, "chain: %s has no keyUsage extension (needs digitalSignature)",
				       who(ch, i, w, sizeof w));
		if (!(c->key_usage & X509_KU_DIGITAL_SIGNATURE))
			return cr_fail(e, "chain: %s keyUsage lacks digitalSignature", who(ch, i, w, sizeof w));
		return 0;
	}
	if (!c->has_basic_constraints || !c->is_ca)
		return cr_fail(e, "chain: %s is not a CA (basicConstraints cA is not set)", who(ch, i, w, sizeof w));
	if (!c->has_key_usage)
		return cr_fail(e, "chain: %s has no keyUsage extension (needs keyCertSign)", who(ch, i, w, sizeof w));
	if (!(c->key_usage & X509_KU_KEY_CERT_SIGN))
		return cr_fail(e, "chain: %s keyUsage lacks keyCertSign", who(ch, i, w, sizeof w));
	if (c->path_len >= 0 && (size_t)c->path_len < i - 1)
		return cr_fail(e, "chain: %s has pathLenConstraint %d but %zu CA certificates below it",
			       who(ch, i, w, sizeof w), c->path_len, i - 1);
	return 0;
}

/* BearSSL's minimal X.509 engine on one link: ch->cert[i] as end entity,
 * ch->cert[i + 1] as the only (CA) trust anchor. */
static int check_link(const struct x509_chain *ch, size_t i, int64_t at, struct cr_err *e)
{
	const struct x509_cert *c = &ch->cert[i], *up = &ch->cert[i + 1];
	br_x509_trust_anchor ta;
	br_x509_minimal_context xc;
	const br_x509_class **vt = &xc.vtable;
	uint32_t days, secs;
	unsigned err;
	char w[200], u[200];

	if (c->issuer.len != up->subject.len || memcmp(c->issuer.p, up->subject.p, c->issuer.len))
		return cr_fail(e, "chain: the issuer of %s (%s) is not the subject of %s (%s)", who(ch, i, w, sizeof w),
			       c->issuer_text, ch->label[i + 1], up->subject_text);
	if (!up->key_is_ec)
		return cr_fail(e, "chain: %s has a key other than EC P-256/384/521", who(ch, i + 1, u, sizeof u));
	memset(&ta, 0, sizeof ta);
	ta.dn.data = (unsigned char *)up->subject.p;
	ta.dn.len = up->subject.len;
	ta.flags = BR_X509_TA_CA;
	ta.pkey.key_type = BR_KEYTYPE_EC;
	ta.pkey.key.ec = ec_pub_br(&up->key);

	br_x509_minimal_init(&xc, &br_sha256_vtable, &ta, 1);
	br_x509_minimal_set_hash(&xc, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(&xc, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(&xc, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_ecdsa(&xc, br_ec_get_default(), br_ecdsa_vrfy_asn1_get_default());
	x509_bearssl_time(at, &days, &secs);
	br_x509_minimal_set_time(&xc, days, secs);
	(*vt)->start_chain(vt, NULL);
	(*vt)->start_cert(vt, (uint32_t)c->der.len);
	(*vt)->append(vt, c->der.p, c->der.len);
	(*vt)->end_cert(vt);
	err = (*vt)->end_chain(vt);
	who(ch, i, w, sizeof w);
	switch (err) {
	case 0:
		return 0;
	case BR_ERR_X509_BAD_SIGNATURE:
	case BR_ERR_X509_NOT_TRUSTED:
		/* With the issuer as the only anchor and the names already
		 * compared, "not trusted" means its key did not verify. */
		return cr_fail(e, "chain: the signature of %s does not verify with the key of %s", w, ch->label[i + 1]);
	case BR_ERR_X509_UNSUPPORTED:
		return cr_fail(e, "chain: %s uses an unsupported algorithm (%s)", w, c->sig_alg);
	case BR_ERR_X509_WRONG_KEY_TYPE:
		return cr_fail(e, "chain: %s is signed with %s but %s has another key type", w, c->sig_alg,
			       ch->label[i + 1]);
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return cr_fail(e, "chain: %s has an unsupported critical extension", w);
	case BR_ERR_X509_EXPIRED:
		return cr_fail(e, "chain: %s is not valid at the verification time (BearSSL)", w);
	case BR_ERR_X509_DN_MISMATCH:
		return cr_fail(e, "chain: %s is not issued by %s (BearSSL)", w, ch->label[i + 1]);
	default:
		return cr_fail(e, "chain: %s rejected by BearSSL's X.509 engine (error %u)", w, err);
	}
}

int x509_chain_verify(const struct x509_chain *ch, int64_t at, struct cr_err *e)
{
	if (ch->n < 2)
		return cr_fail(e, "chain: needs a leaf and a trust anchor");
	for (size_t i = 0; i < ch->n; i++)
		if (check_time(ch, i, at, e) || check_role(ch, i, e))
			return -1;
	for (size_t i = 0; i + 1 < ch->n; i++)
		if (check_link(ch, i, at, e))
			return -1;
	return 0;
}
