/* X.509 certificates: the fields the attestation chain check and the CLI
 * need. BearSSL's br_x509_decoder supplies the public key, the validity
 * dates and the cA flag; a strict DER walk (x509_cert.c) reads only what
 * BearSSL does not expose: the Names (as text and as DER), keyUsage,
 * pathLenConstraint and the signature algorithm's name. The walk's cA must
 * agree with the decoder's or the certificate is rejected. Signature
 * verification is not done here (see x509_chain.h).
 *
 * Strictness: definite lengths in minimal form, single-byte tags, no bytes
 * after the certificate, the inner and outer signature algorithms equal,
 * BOOLEANs 0x00/0xFF, no extension twice; dates as BearSSL reads them
 * (UTCTime or GeneralizedTime ending in "Z"). */
#ifndef CLEANROOM_X509_CERT_H
#define CLEANROOM_X509_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "base/ec_key.h"
#include "base/util.h"

#define X509_MAX_DER 16384
#define X509_NAME_TEXT_MAX 512

/* KeyUsage bits (RFC 5280 §4.2.1.3): bit n of the BIT STRING = 1 << n. */
#define X509_KU_DIGITAL_SIGNATURE (1u << 0)
#define X509_KU_NON_REPUDIATION (1u << 1)
#define X509_KU_KEY_ENCIPHERMENT (1u << 2)
#define X509_KU_DATA_ENCIPHERMENT (1u << 3)
#define X509_KU_KEY_AGREEMENT (1u << 4)
#define X509_KU_KEY_CERT_SIGN (1u << 5)
#define X509_KU_CRL_SIGN (1u << 6)

struct x509_span {
	const uint8_t *p;
	size_t len;
};

/* Spans point into the parsed DER, which must outlive the struct. */
struct x509_cert {
	struct x509_span der;             /* the whole certificate */
	struct x509_span issuer, subject; /* Names, tag and length included */
	int64_t not_before, not_after;    /* Unix seconds (BearSSL's decoder) */
	int has_basic_constraints;
	int is_ca;
	int path_len; /* -1: no pathLenConstraint */
	int has_key_usage;
	unsigned key_usage;                    /* X509_KU_* */
	char sig_alg[32];                      /* "ecdsa-with-SHA384" or the dotted OID */
	char subject_text[X509_NAME_TEXT_MAX]; /* "C=US, O=Amazon, OU=AWS, CN=..." in encoded order */
	char issuer_text[X509_NAME_TEXT_MAX];
	char subject_cn[128];       /* the subject's CN, "" if none */
	struct x509_span sig_value; /* signatureValue's bytes (the BIT STRING's, unused-bits byte left out) */
	int key_is_ec;              /* an EC key on a supported curve (else key is unset) */
	struct ec_pub key;
};

/* Parse one DER certificate of at most X509_MAX_DER bytes. */
int x509_cert_parse(const uint8_t *der, size_t len, struct x509_cert *c, struct cr_err *e);

/* Each attribute of a Name (c->issuer or c->subject), in encoded order:
 * its OpenSSL long name ("commonName", "countryName", ...; the dotted OID
 * when unknown) and its value's bytes as encoded. */
typedef void (*x509_attr_fn)(void *ctx, const char *long_name, const uint8_t *v, size_t n);
int x509_name_attrs(const struct x509_span *name, x509_attr_fn fn, void *ctx, struct cr_err *e);

/* Unix seconds as BearSSL counts time: days since 0000-01-01 (proleptic
 * Gregorian) and seconds within the day. */
void x509_bearssl_time(int64_t t, uint32_t *days, uint32_t *secs);

/* "digitalSignature, keyCertSign" for a KeyUsage mask (out: 160 bytes). */
void x509_key_usage_text(unsigned ku, char *out, size_t cap);

#endif
