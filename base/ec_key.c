#include "base/ec_key.h"

#include <string.h>

#include "base/pem.h"

const char *ec_curve_name(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1: return "P-256";
	case BR_EC_secp384r1: return "P-384";
	case BR_EC_secp521r1: return "P-521";
	default: return "an unsupported curve";
	}
}

int ec_curve_supported(int curve)
{
	return curve == BR_EC_secp256r1 || curve == BR_EC_secp384r1 || curve == BR_EC_secp521r1;
}

int ec_pub_set(struct ec_pub *p, int curve, const uint8_t *q, size_t len, struct cr_err *e)
{
	if (!ec_curve_supported(curve))
		return cr_fail(e, "EC key: %s is not supported", ec_curve_name(curve));
	if (len > sizeof p->q || len < 1 || q[0] != 0x04)
		return cr_fail(e, "EC key: public point is not an uncompressed point");
	memset(p, 0, sizeof *p);
	p->curve = curve;
	p->q_len = len;
	memcpy(p->q, q, len);
	return 0;
}

br_ec_public_key ec_pub_br(const struct ec_pub *p)
{
	br_ec_public_key pk = { .curve = p->curve, .q = (unsigned char *)p->q, .qlen = p->q_len };
	return pk;
}

br_ec_private_key ec_key_br(const struct ec_key *k)
{
	br_ec_private_key sk = { .curve = k->pub.curve, .x = (unsigned char *)k->x, .xlen = k->x_len };
	return sk;
}

/* Fill the public half from the private scalar. */
static int derive_public(struct ec_key *k, struct cr_err *e)
{
	br_ec_private_key sk = ec_key_br(k);
	br_ec_public_key pk;
	size_t n = br_ec_compute_pub(br_ec_get_default(), &pk, k->pub.q, &sk);
	if (!n)
		return cr_fail(e, "EC key: invalid private key for %s", ec_curve_name(k->pub.curve));
	k->pub.q_len = n;
	return 0;
}

int ec_key_from_der(struct ec_key *k, const uint8_t *der, size_t len, struct cr_err *e)
{
	br_skey_decoder_context dc;
	const br_ec_private_key *sk;
	int err;
	memset(k, 0, sizeof *k);
	br_skey_decoder_init(&dc);
	br_skey_decoder_push(&dc, der, len);
	err = br_skey_decoder_last_error(&dc);
	if (err)
		return cr_fail(e, "EC key: not a valid private key (BearSSL error %d)", err);
	if (br_skey_decoder_key_type(&dc) != BR_KEYTYPE_EC)
		return cr_fail(e, "EC key: the private key is not an EC key");
	sk = br_skey_decoder_get_ec(&dc);
	if (!ec_curve_supported(sk->curve))
		return cr_fail(e, "EC key: %s is not supported (P-256, P-384 or P-521)", ec_curve_name(sk->curve));
	if (sk->xlen > sizeof k->x)
		return cr_fail(e, "EC key: private scalar too long");
	k->pub.curve = sk->curve;
	k->x_len = sk->xlen;
	memcpy(k->x, sk->x, sk->xlen);
	return derive_public(k, e);
}

/* The first EC or PKCS#8 private key of a decoded PEM. */
static int key_from_pem_list(struct ec_key *k, const struct pem_list *l, struct cr_err *e)
{
	const struct pem_object *o = pem_find(l, "EC PRIVATE KEY");
	if (!o)
		o = pem_find(l, "PRIVATE KEY");
	if (!o)
		return cr_fail(e, "EC key: no \"EC PRIVATE KEY\" or \"PRIVATE KEY\" block in the PEM");
	return ec_key_from_der(k, o->der, o->len, e);
}

int ec_key_from_pem(struct ec_key *k, const uint8_t *pem, size_t len, struct cr_err *e)
{
	struct pem_list l;
	int rc;
	if (pem_decode(pem, len, &l, e))
		return -1;
	rc = key_from_pem_list(k, &l, e);
	pem_free(&l);
	return rc;
}

int ec_key_load(struct ec_key *k, const char *path, struct cr_err *e)
{
	struct pem_list l;
	int rc;
	if (pem_read_file(path, &l, e))
		return -1;
	rc = key_from_pem_list(k, &l, e);
	pem_free(&l);
	return rc ? cr_err_wrap(e, "%s", path) : 0;
}

int ec_key_generate(struct ec_key *k, int curve, const uint8_t *seed, size_t seed_len, struct cr_err *e)
{
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	size_t n;
	memset(k, 0, sizeof *k);
	if (!ec_curve_supported(curve))
		return cr_fail(e, "EC key: %s is not supported", ec_curve_name(curve));
	if (seed_len < 32)
		return cr_fail(e, "EC key: a seed of %zu bytes is too short (at least 32)", seed_len);
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, seed_len);
	n = br_ec_keygen(&rng.vtable, br_ec_get_default(), &sk, k->x, curve);
	memset(&rng, 0, sizeof rng);
	if (!n)
		return cr_fail(e, "EC key: key generation failed");
	k->pub.curve = curve;
	k->x_len = n;
	return derive_public(k, e);
}
