/* Verification of a build's bundle (report/report.h), as `cleanroom verify`
 * and `cleanroom build` run it. Every check is listed with its outcome; the
 * bundle is verified only when none failed.
 *
 *   bundle             the JSON shape, media and payload types, base64; any
 *                      of the three forms (report_bundle_parse_form)
 *   statement          in-toto Statement v1 / SLSA Provenance v1 shape
 *   attestation        the NSM document: COSE, payload, chain to the root at
 *                      the document's own time (or policy->at), signature
 *   binding.public_key the document carries a P-256 or P-384
 *                      SubjectPublicKeyInfo
 *   signature          a DSSE signature verifies with that key, ECDSA with
 *                      SHA-256 for P-256, SHA-384 for P-384 (an envelope
 *                      may carry up to REPORT_MAX_SIGS; the others, by other
 *                      keys, are listed as skipped "signature[i]": ignored)
 *   binding.user_data  the document's user_data = SHA-384(statement)
 *   binding.nonce      the document's nonce = the statement's invocationId
 *   binding.pcrs       the statement's PCR0/1/2 = the document's
 *   pcrs               the document's PCR0/1/2 = the expected image, or one
 *                      of the further allowed images (skip when no image was
 *                      given: then any image passes)
 *   nonce              the document's nonce = the expected one (skip when
 *                      none was given)
 *   artifact <path>    the file's SHA-256 and SHA-384 = those of the subject
 *                      whose name is the path or a suffix of it after '/'
 *   source             the statement's source tree id = the expected one
 *                      (a git commit's tree, or a directory; skip otherwise)
 * A check that cannot run because one it depends on failed is listed as
 * failed with the reason.
 *
 * An unsigned attestation document (QEMU's emulated NSM, attest_verify.h)
 * fails "attestation" with ATT_UNSIGNED_MSG, unless policy allow_unsigned:
 * then "attestation" passes for its COSE shape and payload and says it is
 * unsigned, and "attestation-chain" and "attestation-signature" are listed
 * as skipped, not_possible (text: "not possible: ..."; JSON:
 * "not_possible": true, and "unsigned_attestation": true at the top). */
#ifndef CLEANROOM_BUNDLE_VERIFY_H
#define CLEANROOM_BUNDLE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "nsm/attest_verify.h"
#include "report/report.h"
#include "base/util.h"

enum bv_status { BV_PASS, BV_FAIL, BV_SKIP };

struct bv_check {
	char name[WIRE_MAX_PATH + 16];
	enum bv_status status;
	int not_possible; /* a skip the evidence made impossible (unsigned document) */
	char detail[512];
};

#define BV_MAX_ARTIFACTS WIRE_MAX_OUTPUTS
/* The largest artifact hashed: outputs live in the enclave's memory. */
#define BV_ARTIFACT_MAX (64ull << 30)
#define BV_MAX_CHECKS (16 + BV_MAX_ARTIFACTS + REPORT_MAX_SIGS)
/* Images a policy may allow at once (verify --quorum: repeated --eif). */
#define BV_MAX_IMAGES 8

/* An allowed image: its PCR0/1/2 and where they came from. */
struct bv_image {
	uint8_t pcr[REPORT_PCRS][CR_PCR_LEN];
	char desc[4200];
};

struct bv_policy {
	const uint8_t *root_der; /* NULL: AWS Nitro Enclaves root G1 */
	size_t root_len;
	const char *root_desc; /* for the report, e.g. the --root path */
	int has_time;          /* 0: the document's own timestamp */
	int64_t at;
	int has_pcrs; /* expected PCR0/1/2 */
	uint8_t pcr[REPORT_PCRS][CR_PCR_LEN];
	const char *pcr_desc; /* where they came from (an EIF path, "--pcrN") */
	/* further allowed images (with has_pcrs): the document's PCRs may be
	 * any one of pcr[] or these */
	const struct bv_image *more_images;
	size_t nmore_images;
	int has_nonce;
	uint8_t nonce[WIRE_MAX_NONCE];
	size_t nonce_len;
	const char *const *artifacts; /* file paths to check against the subjects */
	size_t nartifacts;
	int has_source; /* expected source tree id: 20 (SHA-1) or 32 (SHA-256) bytes */
	uint8_t source_tree[CR_SHA256_LEN];
	size_t source_tree_len;
	const char *source_desc; /* e.g. "git commit v1.2 (repo .)", "directory src/" */
	int allow_unsigned;      /* accept an unsigned document, checking all but chain and signature */
};

/* One signature of the envelope, as the 'signature' check saw it. */
struct bv_sig {
	char keyid[REPORT_KEYID_MAX + 1];
	int by_bound_key; /* verifies with the document's key */
	int used;         /* the one the check relied on (the first valid) */
};

struct bv_result {
	size_t n;
	struct bv_check checks[BV_MAX_CHECKS];
	size_t nsigs; /* signatures checked (0: no bound key) */
	struct bv_sig sigs[REPORT_MAX_SIGS];
	int verified; /* no check failed */
	int have_statement, have_document;
	int unsigned_doc;               /* the document is unsigned (allowed, or the reason it failed) */
	struct report_parsed statement; /* when have_statement */
	enum report_form form;          /* the form the report came in */
	int have_key;                   /* the bound key, as the document gives it */
	int key_curve;
	uint8_t key_spki[REPORT_SPKI_MAX];
	size_t key_spki_len;
	char key_id[REPORT_KEY_ID_LEN + 1];
	struct att_verified *att; /* when have_document (verified) */
	struct cr_buf att_buf;    /* the document's bytes, which att points into */
	uint8_t statement_sha384[CR_SHA384_LEN];
	/* the allowed image the document's PCRs are: 0 the policy's pcr[],
	 * i > 0 more_images[i - 1]; -1 none, or not checked */
	int image;
	/* An input or output that failed, else empty: the first artifact that
	 * could not be read ("ARTIFACT: ..."), or cmd_verify's --key-out. Exit
	 * 2, not a failed verification; bv_write_json() writes it as "error". */
	char input_error[sizeof(struct cr_err){ 0 }.msg + 16];
};

/* Run every check; 0 when verified, -1 otherwise (the list says why). r is
 * large: allocate it. Free with bv_result_free(). */
int bundle_verify(const uint8_t *bundle, size_t len, const struct bv_policy *pol, struct bv_result *r);
/* bundle_verify() of any form: att (NULL for the cleanroom bundle) is the
 * attestation document of a Sigstore bundle or a bare envelope, att_desc
 * names where it came from. The checks are the same for every form. */
int bundle_verify_form(const uint8_t *bundle, size_t len, const uint8_t *att, size_t att_len, const char *att_desc,
		       const struct bv_policy *pol, struct bv_result *r);
void bv_result_free(struct bv_result *r);

/* The list as text (one line per check), or as JSON members of an object
 * the caller has opened: "verified", "checks" [...], "signatures" [...]
 * (each {"index", "keyid", "status": "used" | "ignored"}; when a bound key
 * was there to check them), "statement" {...}, "public_key" {"curve",
 * "keyid", "pem"} (when the document bound one), "attestation" {...}. */
void bv_print_text(const struct bv_result *r, FILE *out);
void bv_write_json(const struct bv_result *r, struct json_w *w);

/* The bound key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) into buf, NUL
 * terminated: its length, or 0 when there is no bound key. */
#define BV_KEY_PEM_MAX 512
size_t bv_key_pem(const struct bv_result *r, char *buf, size_t cap);

/* The names of the checks that were not possible, ", "-separated ("" when
 * none), e.g. "attestation-chain, attestation-signature". */
const char *bv_not_possible(const struct bv_result *r, char *buf, size_t cap);

/* SHA-256 and SHA-384 of a regular file (cr_open_input: never a FIFO or
 * device; at most BV_ARTIFACT_MAX bytes), streamed. */
int bv_hash_file(const char *path, uint8_t s256[CR_SHA256_LEN], uint8_t s384[CR_SHA384_LEN], struct cr_err *e);

/* The subject an artifact path stands for: the longest subject name equal
 * to the path or to a suffix of it that starts after a '/'; NULL if none. */
const struct report_subject *bv_subject_for(const struct report_statement *st, const char *path);

/* The first failed check as one line ("<name>: <detail>"), for errors. */
const char *bv_first_failure(const struct bv_result *r, char *buf, size_t cap);

#endif
