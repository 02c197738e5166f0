/* NSM messages (nitro-facts §5.3-5.4): CBOR encoding and decoding of every
 * request and response, in both directions, so the in-enclave client and a
 * host-side NSM model share one implementation.
 *
 *   client (init):     nsm_request_encode  -> device -> nsm_response_decode
 *   model (mock NSM):  nsm_request_decode  -> model  -> nsm_response_encode
 *
 * Wire shapes are serde_cbor's externally tagged enums: a request without
 * arguments is a bare text string ("DescribeNSM", "GetRandom"); one with
 * arguments is map(1){ "Name": map{fields} }; a failure is
 * {"Error": "<ErrorCode name>"}. Encoders emit fields in NSMAPI's declaration
 * order with minimal integers, which reproduces the real bytes exactly.
 * Decoders accept any field order, reject duplicate keys and trailing bytes,
 * and ignore unknown fields (as serde does).
 *
 * Byte fields (struct nsm_bytes) are views: after decoding they point into
 * the buffer that was decoded, which must stay alive while they are used;
 * before encoding the caller points them at its own data. */
#ifndef CLEANROOM_NSM_PROTO_H
#define CLEANROOM_NSM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define NSM_REQUEST_MAX 0x1000  /* the driver rejects longer requests (EMSGSIZE) */
#define NSM_RESPONSE_MAX 0x3000 /* the response buffer the device must be given */
#define NSM_PCR_MAX_LEN 64      /* PCR values: 32, 48 (SHA384, always on Nitro) or 64 bytes */
#define NSM_MODULE_ID_MAX 255
#define NSM_LOCKED_MAX 256        /* entries in DescribeNSM.locked_pcrs */
#define NSM_ATTEST_FIELD_MAX 1024 /* user_data, nonce, public_key: what real NSM accepts */

/* Operations, in NSMAPI's Request enum order. */
enum nsm_op {
	NSM_OP_DESCRIBE_PCR,
	NSM_OP_EXTEND_PCR,
	NSM_OP_LOCK_PCR,
	NSM_OP_LOCK_PCRS,
	NSM_OP_DESCRIBE_NSM,
	NSM_OP_ATTESTATION,
	NSM_OP_GET_RANDOM,
};
#define NSM_OP_COUNT 7
/* The wire name ("DescribePCR", ...). */
const char *nsm_op_name(enum nsm_op op);

/* ErrorCode: values 0..8 are libnsm's numbering; on the wire only the name
 * travels. NSM_ERROR_UNKNOWN stands for a name not in this list (the name
 * itself is kept in nsm_response.error_name). */
enum nsm_error {
	NSM_SUCCESS = 0,
	NSM_INVALID_ARGUMENT = 1,
	NSM_INVALID_INDEX = 2,
	NSM_INVALID_RESPONSE = 3,
	NSM_READ_ONLY_INDEX = 4,
	NSM_INVALID_OPERATION = 5,
	NSM_BUFFER_TOO_SMALL = 6,
	NSM_INPUT_TOO_LARGE = 7,
	NSM_INTERNAL_ERROR = 8,
	NSM_ERROR_UNKNOWN = 9,
};
/* "InvalidIndex", ...; "Unknown" for NSM_ERROR_UNKNOWN. */
const char *nsm_error_name(enum nsm_error err);
/* The code of a wire name; NSM_ERROR_UNKNOWN when it is not one. */
enum nsm_error nsm_error_from_name(const char *name, size_t len);

struct nsm_bytes {
	const uint8_t *p;
	size_t len;
};

/* An Option<ByteBuf> of the Attestation request: null when !present. */
struct nsm_opt_bytes {
	int present;
	const uint8_t *p;
	size_t len;
};

struct nsm_request {
	enum nsm_op op;
	uint16_t index;                 /* DescribePCR, ExtendPCR, LockPCR */
	uint16_t range;                 /* LockPCRs: locks [0, range) */
	struct nsm_bytes data;          /* ExtendPCR */
	struct nsm_opt_bytes user_data; /* Attestation */
	struct nsm_opt_bytes nonce;
	struct nsm_opt_bytes public_key;
};

/* Encode a request (replacing out's contents). Fails if it would exceed
 * NSM_REQUEST_MAX. */
int nsm_request_encode(const struct nsm_request *req, struct cr_buf *out, struct cr_err *e);

/* Decode a request, as the NSM does. Byte fields may be byte or text
 * strings, and a missing Attestation field counts as null (QEMU's virtio-nsm
 * accepts both). On failure *reply (if non-NULL) is the error an NSM answers
 * with: InvalidOperation for an unknown or misshapen operation,
 * InputTooLarge for more than NSM_REQUEST_MAX bytes, InvalidArgument for a
 * bad field. */
int nsm_request_decode(const uint8_t *buf, size_t len, struct nsm_request *req, enum nsm_error *reply,
		       struct cr_err *e);

struct nsm_description {
	uint16_t version_major, version_minor, version_patch;
	char module_id[NSM_MODULE_ID_MAX + 1];
	uint16_t max_pcrs;
	uint16_t locked_pcrs[NSM_LOCKED_MAX];
	size_t n_locked;
	char digest[8]; /* "SHA256", "SHA384" or "SHA512" */
};

struct nsm_response {
	enum nsm_op op;                  /* the operation this answers */
	enum nsm_error error;            /* NSM_SUCCESS or the error received */
	char error_name[32];             /* the error's wire name, as received */
	int lock;                        /* DescribePCR */
	struct nsm_bytes data;           /* DescribePCR, ExtendPCR: the PCR value */
	struct nsm_description describe; /* DescribeNSM */
	struct nsm_bytes random;         /* GetRandom */
	struct nsm_bytes document;       /* Attestation: the COSE_Sign1 document */
};

/* Encode a response (replacing out's contents): {"Error": name} when
 * resp->error != NSM_SUCCESS (error_name is used for NSM_ERROR_UNKNOWN),
 * otherwise the success shape of resp->op. Fails past NSM_RESPONSE_MAX. */
int nsm_response_encode(const struct nsm_response *resp, struct cr_buf *out, struct cr_err *e);

/* Decode the response to operation `expected`. Returns 0 both for success
 * and for a well-formed {"Error": name} (check resp->error); -1 when the
 * bytes are not a valid answer to `expected` (wrong shape, wrong types,
 * missing keys, sizes out of bounds, truncated or trailing bytes). */
int nsm_response_decode(const uint8_t *buf, size_t len, enum nsm_op expected, struct nsm_response *resp,
			struct cr_err *e);

#endif
