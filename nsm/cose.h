/* COSE_Sign1 (RFC 9052 §4.2) with ECDSA: the one implementation used by the
 * attestation verifier, the NSM model (signing attestation documents) and
 * the EIF signature section (nitro-facts §1.6).
 *
 *   COSE_Sign1 = [ protected: bstr(map), unprotected: map, payload: bstr,
 *                  signature: bstr(r || s) ]      optionally tag 18
 *   Sig_structure = ["Signature1", protected bytes as received,
 *                    h'' (external_aad), payload]
 *
 * The signature is raw r||s (each coordinate left-padded to the curve size:
 * 32, 48 or 66 bytes), hashed with the algorithm's hash: ES256 = -7
 * (P-256, SHA-256), ES384 = -35 (P-384, SHA-384), ES512 = -36 (P-521,
 * SHA-512). The algorithm is always taken from the key; a message whose
 * header names another algorithm does not verify. High-S signatures are
 * accepted (ECDSA does not require low S; real NSM documents have both). */
#ifndef CLEANROOM_COSE_H
#define CLEANROOM_COSE_H

#include <stddef.h>
#include <stdint.h>

#include "base/ec_key.h"
#include "base/util.h"

#define COSE_ALG_ES256 (-7)
#define COSE_ALG_ES384 (-35)
#define COSE_ALG_ES512 (-36)
#define COSE_TAG_SIGN1 18
#define COSE_HDR_ALG 1

/* A parsed message: every pointer refers into the parsed buffer. */
struct cose_sign1 {
	int tagged;                   /* wrapped in tag 18 */
	const uint8_t *protected_hdr; /* the protected bstr's content, as received */
	size_t protected_len;
	size_t n_protected; /* entries in the protected map */
	int has_alg;
	int64_t alg;          /* protected label 1 */
	size_t n_unprotected; /* entries in the unprotected map */
	const uint8_t *payload;
	size_t payload_len;
	const uint8_t *signature;
	size_t signature_len;
};

/* The COSE algorithm for a curve (P-256/384/521), 0 if none. */
int64_t cose_alg_for_curve(int curve);
/* "ES256", "ES384", "ES512" or "unknown". */
const char *cose_alg_name(int64_t alg);

/* Parse a COSE_Sign1 (tagged 18 or untagged) of exactly len bytes: an array
 * of exactly 4, byte-string protected header holding a map (empty bstr =
 * empty map), a map as unprotected header, byte-string payload and
 * signature. No trailing bytes, no duplicate map keys. */
int cose_sign1_parse(const uint8_t *buf, size_t len, struct cose_sign1 *m, struct cr_err *e);

/* Verify m with pub: the protected alg must be the key's algorithm, the
 * signature 2 x coordinate size, and ECDSA must verify over Sig_structure.
 * Headers other than alg are not interpreted (callers with a stricter
 * profile, like attestation, check n_protected / n_unprotected). */
int cose_sign1_verify(const struct cose_sign1 *m, const struct ec_pub *pub, struct cr_err *e);

/* Sign payload with key; out receives the whole COSE_Sign1 (replacing its
 * contents): protected {1: alg of the key}, unprotected {}, untagged unless
 * `tagged`. RFC 6979 deterministic signatures (BearSSL). */
int cose_sign1_sign(const struct ec_key *key, const uint8_t *payload, size_t len, int tagged, struct cr_buf *out,
		    struct cr_err *e);

/* The same with explicit headers, for tests and unusual profiles:
 * protected_hdr/unprotected are encoded CBOR maps (NULL = the defaults
 * above); they are copied as given, not validated. */
struct cose_sign1_opts {
	int tagged;
	const uint8_t *protected_hdr;
	size_t protected_len;
	const uint8_t *unprotected;
	size_t unprotected_len;
};
int cose_sign1_sign_opts(const struct ec_key *key, const struct cose_sign1_opts *o, const uint8_t *payload, size_t len,
			 struct cr_buf *out, struct cr_err *e);

/* Sig_structure for (protected, payload), replacing out's contents. */
int cose_sig_structure(const uint8_t *protected_hdr, size_t protected_len, const uint8_t *payload, size_t len,
		       struct cr_buf *out, struct cr_err *e);

#endif
