/* Verification of NSM attestation documents (nitro-facts §5.6), in order:
 *
 *   cose       COSE_Sign1 tagged 18 or untagged, exactly 4 elements,
 *              protected header exactly {1: -35} (ES384), unprotected {}
 *   payload    att_payload_decode()'s checks (attest_doc.h)
 *   chain      cabundle[0] is the trust anchor (byte for byte); the chain
 *              leaf -> cabundle[n-1] -> ... -> cabundle[1] -> anchor is valid
 *              at the verification time (x509_chain.h)
 *   signature  ECDSA P-384 over the Sig_structure with the leaf's key
 *              (high S accepted)
 *   pcr / nonce / user_data / public_key   the caller's expectations
 *
 * The trust anchor is the compiled-in AWS root G1 (its SHA-256 is checked
 * first) unless the policy names another. The verification time is the
 * document's own timestamp (rounded down to the second) unless the policy
 * sets one: a document proves what the enclave was at the time it was
 * made, and the leaf certificate lives only about three hours.
 *
 * Unsigned documents: QEMU's nitro-enclave machine emulates the NSM without
 * a key. Its documents have protected header exactly {1: -1}, an empty
 * unprotected header, a 64-byte all-zero signature, and all-zero bytes as
 * the certificate and every cabundle entry (64 each), over a well-formed
 * payload. Exactly that shape is "unsigned": it fails with check
 * "unsigned" and code CR_E_UNSIGNED ("attestation document is unsigned
 * (alg -1): QEMU's emulated NSM"), unless the policy allows it; then the
 * chain and signature checks are not possible and not made, the rest
 * (payload, pcr, nonce, user_data, public_key) is, and out->unsigned_doc
 * says so. Any other shape (alg -1 with a non-zero signature or
 * certificate, for one) fails the cose check as before. */
#ifndef CLEANROOM_ATTEST_VERIFY_H
#define CLEANROOM_ATTEST_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "nsm/attest_doc.h"
#include "base/util.h"
#include "nsm/x509_chain.h"

struct att_expect_bytes {
	int set; /* 0: not checked */
	const uint8_t *p;
	size_t len;
};

struct att_expect_pcr {
	unsigned index;
	uint8_t value[64];
	size_t len;
};

struct att_policy {
	const uint8_t *root_der; /* NULL: the AWS Nitro Enclaves root G1 */
	size_t root_len;
	int has_time; /* 0: the document's timestamp */
	int64_t at;   /* Unix seconds */
	size_t n_pcrs;
	struct att_expect_pcr pcrs[ATT_MAX_PCRS];
	/* Expected values; the document's field must be set (not null) and
	 * equal. An expected empty value matches only an empty field. */
	struct att_expect_bytes nonce, user_data, public_key;
	/* Accept an unsigned document (see above): everything but the chain
	 * and the signature is checked. */
	int allow_unsigned;
};

#define ATT_UNSIGNED_MSG "attestation document is unsigned (alg -1): QEMU's emulated NSM"

struct att_verified {
	struct att_document d;   /* pointers into the verified buffer */
	struct x509_chain chain; /* leaf, cabundle[n-1] .. cabundle[1], root */
	int64_t at;              /* the verification time used */
	int at_set;              /* at was decided (0 is a time: 1970) */
	char check[16];          /* on failure, the check that failed (see above) */
	int unsigned_doc;        /* the document has the unsigned shape (chain and signature not checked) */
};

/* 0 when the document passes every check, else -1 with out->check set and
 * one line in e that starts with the check's name. out may be large
 * (~30 KiB); allocate it accordingly. */
int att_verify(const uint8_t *buf, size_t len, const struct att_policy *pol, struct att_verified *out,
	       struct cr_err *e);

#endif
