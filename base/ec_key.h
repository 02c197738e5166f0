/* EC keys for signing and verifying (BearSSL br_ec_* types underneath).
 *
 * The structs own their key bytes and hold no pointers, so they may be
 * copied freely; ec_pub_br() / ec_key_br() build the BearSSL views. Curves
 * are BearSSL's ids: BR_EC_secp256r1 (23), BR_EC_secp384r1 (24),
 * BR_EC_secp521r1 (25). */
#ifndef CLEANROOM_EC_KEY_H
#define CLEANROOM_EC_KEY_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct ec_pub {
	int curve;
	size_t q_len; /* uncompressed point 04||X||Y */
	uint8_t q[BR_EC_KBUF_PUB_MAX_SIZE];
};

struct ec_key {
	struct ec_pub pub;
	size_t x_len;
	uint8_t x[BR_EC_KBUF_PRIV_MAX_SIZE];
};

/* "P-256", "P-384", "P-521" or "an unsupported curve". */
const char *ec_curve_name(int curve);
/* 1 for P-256, P-384 and P-521, the curves this code signs and verifies with. */
int ec_curve_supported(int curve);

/* A private key from DER: SEC1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY").
 * The public key is derived. */
int ec_key_from_der(struct ec_key *k, const uint8_t *der, size_t len, struct cr_err *e);
/* The first EC or PKCS#8 private key of a PEM text. */
int ec_key_from_pem(struct ec_key *k, const uint8_t *pem, size_t len, struct cr_err *e);
/* ec_key_from_pem() on a file (errors name the path). */
int ec_key_load(struct ec_key *k, const char *path, struct cr_err *e);
/* A new key on `curve`, drawn from an HMAC-DRBG (SHA-256) seeded with seed
 * (at least 32 bytes of entropy, e.g. NSM GetRandom): the same seed gives the
 * same key. */
int ec_key_generate(struct ec_key *k, int curve, const uint8_t *seed, size_t seed_len, struct cr_err *e);

/* A public key from an uncompressed point. */
int ec_pub_set(struct ec_pub *p, int curve, const uint8_t *q, size_t len, struct cr_err *e);

/* BearSSL views of the keys (valid while the struct lives). */
br_ec_public_key ec_pub_br(const struct ec_pub *p);
br_ec_private_key ec_key_br(const struct ec_key *k);

#endif
