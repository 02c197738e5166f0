/* The signed report of one build: what the enclave says and how it is bound.
 *
 *   statement  in-toto Statement v1 with a SLSA Provenance v1 predicate, as
 *              canonical JSON: compact, object keys in bytewise order,
 *              integers only. Made inside the enclave (init/agent_report.c).
 *   envelope   DSSE: payloadType "application/vnd.in-toto+json", one
 *              signature (the host accepts more, see report_bundle), ECDSA
 *              P-256 over SHA-256 of
 *              PAE = "DSSEv1 " len(type) " " type " " len(payload) " " payload,
 *              DER-encoded (as sigstore/cosign sign DSSE), keyid = the key
 *              id (report_key_id). Older reports: P-384 over SHA-384, keyid
 *              "". The key's curve decides the hash (report_dsse_verify).
 *   binding    the NSM attestation document made for this build has
 *              public_key = the signing key as DER SubjectPublicKeyInfo,
 *              user_data = SHA-384(statement bytes), nonce = the host's nonce.
 *   bundle     {"attestation": base64(document),
 *               "dsseEnvelope": {"payload": base64(statement),
 *                                "payloadType": "application/vnd.in-toto+json",
 *                                "signatures": [{"keyid": "", "sig": base64(DER)}]},
 *               "mediaType": REPORT_BUNDLE_MEDIA_TYPE}
 *
 * The same code encodes (enclave) and parses (host: `cleanroom verify`,
 * `cleanroom build`). Parsing is strict and bounded; the checks themselves
 * (attestation, PCRs, signature, digests) are in host-tool/verify/bundle_verify.c. */
#ifndef CLEANROOM_REPORT_H
#define CLEANROOM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "nsm/attest_doc.h"
#include "base/ec_key.h"
#include "base/json.h"
#include "base/util.h"
#include "vsock/wire.h"

#define REPORT_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define REPORT_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
#define REPORT_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define REPORT_BUNDLE_MEDIA_TYPE "application/vnd.cleanroom.bundle.v1+json"
#define REPORT_SIGSTORE_MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
/* The project's canonical repository, as a base for links to its
 * documentation: the one place to change when the repository moves
 * (docs/build-type/v1.md says so). Statements already signed keep the URIs
 * they were made with; readers compare them exactly. */
#define REPORT_DOC_BASE "https://github.com/cleanroom-build/cleanroom/blob/main/"
/* buildType and builder.id: the document that defines every parameter,
 * resolved dependency and byproduct of this build type, and what a verifier
 * checks. A new shape gets a new file (v2.md), never an edited v1. */
#define REPORT_BUILD_TYPE REPORT_DOC_BASE "docs/build-type/v1.md"
#define REPORT_BUILDER_ID REPORT_BUILD_TYPE "#builder"
/* resolvedDependencies[].uri of the source and dependency trees */
#define REPORT_SOURCE_URI REPORT_BUILD_TYPE "#source"
#define REPORT_DEPS_URI REPORT_BUILD_TYPE "#deps"
/* Older reports (before the https build type): read and verified, never
 * written by the enclave. Their resolvedDependencies are the PCRs only. */
#define REPORT_BUILD_TYPE_URN "urn:cleanroom:build-type:nitro-enclave:v1"
#define REPORT_BUILDER_ID_URN "urn:cleanroom:builder:nitro-enclave:v1"

enum report_build_type {
	REPORT_BT_V1 = 0, /* REPORT_BUILD_TYPE: what the enclave writes */
	REPORT_BT_URN_V1, /* REPORT_BUILD_TYPE_URN: older reports */
};

/* A statement at the wire limits (64 outputs of 4 KiB paths, 64 KiB of
 * printable argv) is about 340 KiB; 640 KiB leaves room for JSON escapes, and
 * base64 of it plus the attestation document fits one result frame. A
 * larger one (argv full of control characters) gets no report: refused. */
#define REPORT_MAX_STATEMENT (640 * 1024)
#define REPORT_MAX_BUNDLE WIRE_MAX_BUNDLE

/* The files of one build's report, which `cleanroom build` writes beside
 * the outputs: the cleanroom bundle, the same envelope in the standard
 * forms, and the attestation document those forms do not carry. */
#define REPORT_FILE_BUNDLE "cleanroom-bundle.json"
#define REPORT_FILE_DSSE "cleanroom.intoto.jsonl"
#define REPORT_FILE_SIGSTORE "cleanroom.sigstore.json"
#define REPORT_FILE_ATTESTATION "cleanroom.attestation.cbor"
#define REPORT_FILES                                                                  \
 {                                                                                    \
  REPORT_FILE_BUNDLE, REPORT_FILE_DSSE, REPORT_FILE_SIGSTORE, REPORT_FILE_ATTESTATION \
 }
#define REPORT_NFILES 4
#define REPORT_SIG_MAX 120   /* DER ECDSA P-384: at most 104 bytes */
#define REPORT_SPKI_MAX 120  /* DER SubjectPublicKeyInfo: P-256 91, P-384 120 bytes */
#define REPORT_KEY_ID_LEN 64 /* hex SHA-256 of the SubjectPublicKeyInfo */
#define REPORT_PCRS 3        /* PCR0, PCR1, PCR2 */

struct report_subject {
	const char *name; /* the declared output path */
	uint8_t sha256[CR_SHA256_LEN], sha384[CR_SHA384_LEN];
};

/* What the statement says, for encoding (enclave) and as parsed (host; the
 * strings then point into the parsed document). */
struct report_statement {
	/* the shape: REPORT_BT_V1 (0) when encoding in the enclave; as found
	 * when parsed. REPORT_BT_URN_V1 encodes the older shape (tests). */
	enum report_build_type build_type;
	size_t nsubjects;
	struct report_subject subjects[WIRE_MAX_OUTPUTS];
	/* externalParameters */
	const char *argv[WIRE_MAX_ARGS];
	size_t argc;
	uint64_t sde;
	uint8_t src_tree_sha1[CR_SHA1_LEN], src_tree_sha256[CR_SHA256_LEN];
	uint64_t src_files;
	uint8_t deps_tree_sha256[CR_SHA256_LEN];
	uint64_t deps_files;
	/* internalParameters */
	struct wire_limits limits;
	/* resolvedDependencies: the image that ran the build (pcr0, pcr1,
	 * pcr2); with REPORT_BT_V1 also "source" (the source tree ids) and,
	 * when deps_files is not 0, "deps" (the dependency tree id), which
	 * must equal externalParameters' */
	uint8_t pcr[REPORT_PCRS][CR_PCR_LEN];
	/* runDetails */
	const char *init_version;
	uint8_t log_sha256[CR_SHA256_LEN]; /* of the log as kept (sent to the client) */
	uint64_t log_bytes;                /* bytes kept */
	uint64_t log_dropped;              /* bytes cut at limits.log_bytes; 0: the whole log.
	                                   * Byproduct annotations "truncated": true and
	                                   * "droppedBytes" when not 0 (absent in older reports) */
	int64_t started_ms, finished_ms;   /* Unix ms; RFC 3339 in the JSON */
	uint8_t nonce[WIRE_MAX_NONCE];     /* metadata.invocationId, in hex */
	size_t nonce_len;
};

/* Canonical JSON of the statement (replaces out's contents). */
int report_statement_encode(const struct report_statement *s, struct cr_buf *out, struct cr_err *e);

/* A parsed statement; st's strings live in doc until report_statement_free. */
struct report_parsed {
	struct report_statement st;
	struct json_doc doc;
};
int report_statement_parse(const uint8_t *json, size_t len, struct report_parsed *out, struct cr_err *e);
void report_statement_free(struct report_parsed *p);

/* DSSE over the statement with key: ECDSA P-256/SHA-256 or P-384/SHA-384
 * (the key's curve decides; no other curve), DER signature into sig. */
int report_dsse_sign(const struct ec_key *key, const uint8_t *payload, size_t len, uint8_t sig[REPORT_SIG_MAX],
		     size_t *sig_len, struct cr_err *e);
int report_dsse_verify(const struct ec_pub *pub, const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
		       struct cr_err *e);

/* The signature algorithm a key's curve selects, for messages:
 * "ECDSA P-256/SHA-256", "ECDSA P-384/SHA-384". */
const char *report_dsse_alg(int curve);

/* A P-256 or P-384 public key as DER SubjectPublicKeyInfo (id-ecPublicKey,
 * the named curve, uncompressed point), and back (only those exact shapes). */
int report_spki_encode(const struct ec_pub *pub, uint8_t out[REPORT_SPKI_MAX], size_t *out_len, struct cr_err *e);
int report_spki_decode(const uint8_t *der, size_t len, struct ec_pub *pub, struct cr_err *e);
/* The key id: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo. The
 * envelope's keyid and the Sigstore bundle's publicKey.hint carry it (a
 * name, not a proof: the key is the attestation document's). */
void report_key_id(const uint8_t *spki, size_t len, char out[REPORT_KEY_ID_LEN + 1]);

/* Bundle JSON (replaces out's contents). */
int report_bundle_encode(const uint8_t *statement, size_t statement_len, const uint8_t *sig, size_t sig_len,
			 const char *keyid, const uint8_t *doc, size_t doc_len, struct cr_buf *out, struct cr_err *e);

/* An envelope may carry several signatures (DSSE): of them, verification
 * needs one by the key the attestation document binds; the others are
 * ignored (listed, not trusted). At most REPORT_MAX_SIGS; each sig at most
 * REPORT_ENV_SIG_MAX bytes (room for other signers' algorithms, e.g.
 * RSA-8192), each keyid at most REPORT_KEYID_MAX bytes. */
#define REPORT_MAX_SIGS 16
#define REPORT_ENV_SIG_MAX 1024
#define REPORT_KEYID_MAX 256

struct report_sig {
	struct cr_buf sig;                /* as decoded; DER for ours */
	char keyid[REPORT_KEYID_MAX + 1]; /* "" when absent */
};

/* The file forms of a report (docs/bundle-format.md). */
enum report_form {
	REPORT_FORM_CLEANROOM, /* cleanroom-bundle.json: envelope + attestation document */
	REPORT_FORM_SIGSTORE,  /* Sigstore bundle v0.3: envelope + publicKey.hint */
	REPORT_FORM_DSSE,      /* NAME.intoto.jsonl: the bare envelope on one line */
};
/* The media type, or "DSSE envelope (.intoto.jsonl)". */
const char *report_form_name(enum report_form f);

struct report_bundle {
	enum report_form form;
	char hint[REPORT_KEYID_MAX + 1]; /* Sigstore: verificationMaterial.publicKey.hint */
	struct cr_buf statement;         /* the exact signed payload bytes */
	struct report_sig sigs[REPORT_MAX_SIGS];
	size_t nsigs;              /* 1 to REPORT_MAX_SIGS */
	struct cr_buf attestation; /* COSE_Sign1 bytes */
};
/* Parse a report in any form: the top level's mediaType tells the bundles
 * apart, an object without one but with payloadType is a bare envelope.
 * Checks the shape, the media and payload types, 1 to REPORT_MAX_SIGS
 * signatures, base64 fields (standard or URL-safe, base/base64.h); for a
 * Sigstore bundle a publicKey with a string hint, no certificate, no tlog
 * entries. Does not check any signature. The cleanroom bundle carries its
 * attestation document (att must be NULL); the other two do not, and att
 * (the COSE_Sign1 bytes, e.g. NAME.attestation.cbor) gives it. */
int report_bundle_parse_form(const uint8_t *buf, size_t len, const uint8_t *att, size_t att_len,
			     struct report_bundle *out, struct cr_err *e);
/* report_bundle_parse_form() without a separate attestation document. */
int report_bundle_parse(const uint8_t *buf, size_t len, struct report_bundle *out, struct cr_err *e);

/* The standard forms of a parsed report, each ending with a newline: the
 * envelope alone as one compact line (NAME.intoto.jsonl), and a Sigstore
 * bundle v0.3 (dsseEnvelope, publicKey.hint = hint, tlogEntries []). The
 * envelope's signatures are copied as they are. */
int report_dsse_jsonl_encode(const struct report_bundle *b, struct cr_buf *out, struct cr_err *e);
int report_sigstore_encode(const struct report_bundle *b, const char *hint, struct cr_buf *out, struct cr_err *e);
void report_bundle_free(struct report_bundle *b);

struct nsm_client;
/* The enclave's half, on an open NSM client: fill st's PCRs from DescribePCR
 * 0..2, make a fresh P-256 key from NSM GetRandom, encode the statement,
 * get an attestation document binding the key, the statement's SHA-384 and
 * the nonce (st->nonce), sign the DSSE envelope and write the bundle into
 * out. The key lives only in this call. */
int report_make(struct nsm_client *c, struct report_statement *st, struct cr_buf *out, struct cr_err *e);
/* report_make() with a key on `curve` (BR_EC_secp256r1 or BR_EC_secp384r1)
 * and keyid `keyid` (NULL: the key id): tests make older-style P-384
 * bundles (keyid "") with it; the enclave never does. */
int report_make_with(struct nsm_client *c, struct report_statement *st, int curve, const char *keyid,
		     struct cr_buf *out, struct cr_err *e);

#endif
