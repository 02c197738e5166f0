/* NSM attestation documents (nitro-facts §5.5): the AttestationDoc payload
 * and its COSE_Sign1 envelope, decoded and encoded by the same code.
 *
 *   verifier / `cleanroom attestation show`: att_document_parse()
 *   NSM model (signs documents for local runs): fill a struct att_doc,
 *     then att_document_sign() = att_payload_encode() + ES384 COSE_Sign1.
 *
 * Payload map (text keys, any order when decoding, NSMAPI order when
 * encoding): module_id tstr, digest tstr "SHA384", timestamp uint (ms),
 * pcrs {uint 0..31: bstr 32/48/64}, certificate bstr (DER leaf), cabundle
 * [bstr DER, root first], public_key / user_data / nonce bstr or null. The
 * map may be definite or indefinite-length (both occur in real documents).
 * Unknown keys are ignored, as NSMAPI's serde decoder does; they are covered
 * by the signature like everything else. */
#ifndef CLEANROOM_ATTEST_DOC_H
#define CLEANROOM_ATTEST_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "nsm/cose.h"
#include "base/ec_key.h"
#include "base/util.h"

#define ATT_DOC_MAX (20 * 1024) /* a whole document (payload + COSE) */
#define ATT_PAYLOAD_MAX 16384   /* attestation_process.md limits */
#define ATT_MAX_PCRS 32
#define ATT_CERT_MAX 1024 /* certificate and each cabundle entry */
#define ATT_MAX_CABUNDLE 16
#define ATT_FIELD_MAX 1024 /* public_key, user_data, nonce */
#define ATT_MODULE_ID_MAX 255

struct att_bytes {
	const uint8_t *p;
	size_t len;
};

/* An optional field: absent (key missing), null, or set (possibly empty). */
enum att_presence { ATT_ABSENT, ATT_NULL, ATT_SET };

struct att_opt {
	enum att_presence state;
	const uint8_t *p;
	size_t len;
};

struct att_pcr {
	unsigned index;       /* 0..31 */
	const uint8_t *value; /* 32, 48 or 64 bytes */
	size_t len;
};

/* Byte fields point into the decoded buffer (or, for encoding, the
 * caller's data). */
struct att_doc {
	char module_id[ATT_MODULE_ID_MAX + 1];
	char digest[8]; /* "SHA384" */
	uint64_t timestamp_ms;
	size_t n_pcrs;
	struct att_pcr pcrs[ATT_MAX_PCRS]; /* in encoded order; indices unique */
	struct att_bytes certificate;
	size_t n_cabundle;
	struct att_bytes cabundle[ATT_MAX_CABUNDLE]; /* root first */
	struct att_opt public_key, user_data, nonce;
	int indefinite; /* the map is (to be) indefinite-length */
};

/* Decode and check a payload: every required key with its type, module_id
 * non-empty, digest "SHA384", timestamp > 0, 1..32 PCRs with keys 0..31 and
 * values of 32/48/64 bytes, certificate and 1..16 cabundle entries of
 * 1..1024 bytes, optional fields up to 1024 bytes. Errors start "payload: ". */
int att_payload_decode(const uint8_t *p, size_t len, struct att_doc *d, struct cr_err *e);
/* Encode d (replacing out's contents) in NSMAPI field order; ATT_ABSENT
 * fields are left out, ATT_NULL ones written as null (what NSM does). */
int att_payload_encode(const struct att_doc *d, struct cr_buf *out, struct cr_err *e);

/* A parsed document: the envelope and the decoded payload. */
struct att_document {
	struct cose_sign1 cose;
	struct att_doc doc;
};

/* Parse a document of at most ATT_DOC_MAX bytes (COSE_Sign1 structure and
 * payload; no signature, chain or profile check: see attest_verify.h).
 * Errors start "cose: " or "payload: ". */
int att_document_parse(const uint8_t *buf, size_t len, struct att_document *out, struct cr_err *e);

/* Encode d and sign it as NSM does: untagged COSE_Sign1, protected {1: -35},
 * unprotected {}, ES384 with key (which must be P-384, the leaf key whose
 * certificate is d->certificate). out receives the document. */
int att_document_sign(const struct att_doc *d, const struct ec_key *key, struct cr_buf *out, struct cr_err *e);

/* "absent", "null", "empty" or "N bytes" (out: 24 bytes). */
const char *att_opt_describe(const struct att_opt *o, char out[24]);

#endif
