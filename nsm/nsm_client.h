/* NSM client: one typed call per NSM operation, over a swappable transport.
 *
 * The transport is one function pointer. nsm_open() installs the real one
 * (the /dev/nsm ioctl NSM_IOCTL_RAW = 0xC0200A00 with a request of at most
 * 0x1000 bytes and a response buffer of exactly 0x3000, nitro-facts §5.2);
 * tests and the local mock install their own with nsm_client_init().
 *
 * Every call returns 0 on success, or -1 with a one-line message in e and
 * c->last_error set the way the NSM API library reports it:
 *   - the NSM's own {"Error": name}: that code (NSM_ERROR_UNKNOWN for a name
 *     this library does not know; the name is in the message);
 *   - a request over 0x1000 bytes: NSM_INPUT_TOO_LARGE;
 *   - a transport failure (ioctl error): NSM_INTERNAL_ERROR;
 *   - a response that is not a valid answer: NSM_INVALID_RESPONSE;
 *   - a caller buffer too small for the answer: NSM_BUFFER_TOO_SMALL.
 * On success last_error is NSM_SUCCESS. One request is in flight at a time
 * per client; the client is not thread-safe. */
#ifndef CLEANROOM_NSM_CLIENT_H
#define CLEANROOM_NSM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "nsm/nsm_proto.h"
#include "base/util.h"

#define NSM_DEVICE "/dev/nsm"

/* Send req (req_len <= NSM_REQUEST_MAX bytes); write the answer into resp
 * (capacity *resp_len = NSM_RESPONSE_MAX on entry) and set *resp_len to its
 * length. 0, or -1 with e. */
typedef int (*nsm_transport_fn)(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len,
				struct cr_err *e);

struct nsm_client {
	nsm_transport_fn transport;
	void *ctx;
	int fd; /* the device, for the built-in transport; -1 otherwise */
	enum nsm_error last_error;
	size_t resp_len;
	uint8_t resp[NSM_RESPONSE_MAX]; /* the last raw response */
};

/* Open the NSM device (path NULL = /dev/nsm) and use the ioctl transport. */
int nsm_open(struct nsm_client *c, const char *path, struct cr_err *e);
/* Use another transport (tests, the mock NSM). */
void nsm_client_init(struct nsm_client *c, nsm_transport_fn transport, void *ctx);
void nsm_close(struct nsm_client *c);

/* Any operation: encode, send, decode. On return 0 resp's byte fields point
 * into c->resp (valid until the next call). An {"Error"} answer is -1. */
int nsm_call(struct nsm_client *c, const struct nsm_request *req, struct nsm_response *resp, struct cr_err *e);

struct nsm_pcr {
	int locked; /* DescribePCR only */
	uint8_t value[NSM_PCR_MAX_LEN];
	size_t len;
};

int nsm_describe_nsm(struct nsm_client *c, struct nsm_description *out, struct cr_err *e);
int nsm_describe_pcr(struct nsm_client *c, uint16_t index, struct nsm_pcr *out, struct cr_err *e);
/* Extend PCR index with data; out (may be NULL) receives the new value. */
int nsm_extend_pcr(struct nsm_client *c, uint16_t index, const uint8_t *data, size_t len, struct nsm_pcr *out,
		   struct cr_err *e);
int nsm_lock_pcr(struct nsm_client *c, uint16_t index, struct cr_err *e);
/* Lock PCRs [0, range). */
int nsm_lock_pcrs(struct nsm_client *c, uint16_t range, struct cr_err *e);
/* Up to cap random bytes (the NSM decides how many; QEMU gives 256). */
int nsm_get_random(struct nsm_client *c, uint8_t *buf, size_t cap, size_t *len, struct cr_err *e);
/* An attestation document binding the optional fields (NULL = null). The
 * document (a COSE_Sign1, at most NSM_RESPONSE_MAX bytes) is copied to doc. */
int nsm_attestation(struct nsm_client *c, const struct nsm_opt_bytes *user_data, const struct nsm_opt_bytes *nonce,
		    const struct nsm_opt_bytes *public_key, uint8_t *doc, size_t cap, size_t *len, struct cr_err *e);

#endif
