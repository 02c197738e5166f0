/* The host NSM model of a local run: what the Nitro Secure Module does for
 * a real enclave (nitro-facts §5.4), answering the raw CBOR requests that
 * the guest shim nsm.ko forwards from /dev/nsm (kernel-config/nsm-shim/README.md).
 *
 * State, set up as Nitro does at enclave start:
 *   - 32 PCRs of 48 bytes (SHA-384), all zero, then PCR0/1/2 = the EIF's
 *     measurements (one extend of a zero register with H(content), which is
 *     exactly what `cleanroom describe` prints), PCR4 = one extend with the
 *     parent instance id (the "i-0…" part of module_id, as Nitro extends it
 *     with the parent's instance id), PCR8 = the signing certificate's
 *     measurement when the EIF is signed; PCR3 (the parent's IAM role) stays
 *     zero: a local run has none;
 *   - PCRs 0..15 locked.
 * Operations (request/response shapes: nsm/nsm_proto.h):
 *   DescribePCR  {lock, data}; index >= 32: InvalidIndex
 *   ExtendPCR    new = SHA384(old || data); locked: ReadOnlyIndex;
 *                index >= 32: InvalidIndex
 *   LockPCR      locked already: ReadOnlyIndex; index >= 32: InvalidIndex
 *   LockPCRs     locks [0, range); range > 32: InvalidIndex (32 is fine,
 *                PCRs already locked are no error)
 *   DescribeNSM  version 1.0.0, module_id, max_pcrs 32, locked_pcrs sorted,
 *                digest "SHA384"
 *   GetRandom    256 bytes from the host's getrandom() (as QEMU's NSM)
 *   Attestation  user_data / nonce / public_key up to 1024 bytes each (more:
 *                InputTooLarge), absent or null -> null in the document; the
 *                document is an untagged COSE_Sign1 ES384 signed by the leaf
 *                of the test CA (nsm_ca.h): module_id, digest "SHA384",
 *                timestamp (ms, now), pcrs = every PCR locked at that moment
 *                ("map of all locked PCRs", NSMAPI's AttestationDoc; 0..15
 *                unless the enclave locked more, hence 16 entries as in real
 *                documents), certificate = leaf, cabundle = [root,
 *                intermediates…] root first.
 * A request the NSM cannot parse gets the error the real one gives:
 * InvalidOperation (unknown/misshapen operation), InvalidArgument (bad
 * field), InputTooLarge (more than 0x1000 bytes).
 *
 * module_id is "i-0" + 16 hex of SHA-384("cleanroom local parent") (the
 * "parent instance", one for all local runs) + "-enc" + 16 hex of
 * SHA-384("cleanroom enclave" || CID as 8 bytes big-endian || PCR0 || PCR1 ||
 * PCR2 || boot id) — 17 + 16 hex digits, the shape of real ids
 * (i-0761a4cbcc7632aef-enc019c320cb32f6b7a). The boot id is random for each
 * run, so every boot is its own enclave, as on Nitro (two boots of one image
 * are two builders, not one).
 *
 * The model does no I/O besides getrandom() and the clock; the run service
 * (nsm_service.c) moves the bytes. */
#ifndef CLEANROOM_NSM_MODEL_H
#define CLEANROOM_NSM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "nsm/nsm_proto.h"
#include "host-tool/eif/pcr.h"
#include "host-tool/run/run_services.h"
#include "base/util.h"

#define NSM_MODEL_PORT 9100 /* vsock port the guest shim dials (CID 2) */
#define NSM_MODEL_MAX_PCRS 32
#define NSM_MODEL_LOCKED_BOOT 16 /* PCRs 0..15 are locked at start */
#define NSM_MODEL_RANDOM_LEN 256 /* bytes per GetRandom, as QEMU's NSM */
#define NSM_MODEL_ID_LEN 39      /* strlen("i-0" 16hex "-enc" 16hex) */

struct nsm_ca;

struct nsm_model {
	uint8_t pcr[NSM_MODEL_MAX_PCRS][CR_PCR_LEN];
	uint32_t locked; /* bit i set: PCR i is locked */
	char module_id[NSM_MODEL_ID_LEN + 1];
	const struct nsm_ca *ca; /* signs attestation documents */
	/* Wall clock in ms for document timestamps; NULL = CLOCK_REALTIME. */
	uint64_t (*clock_ms)(void);
	uint64_t requests, errors; /* answered so far, {"Error"} among them */
};

/* The module_id of one boot of an enclave with these measurements and CID
 * (above): the enclave part also covers boot_id, random for each boot. */
void nsm_model_module_id(const struct eif_pcrs *pcrs, uint64_t cid, const uint8_t boot_id[RUN_BOOT_ID_LEN],
			 char out[NSM_MODEL_ID_LEN + 1]);

/* Initial state for an enclave (ca may be NULL: Attestation then answers
 * InternalError). */
void nsm_model_init(struct nsm_model *m, const struct eif_pcrs *pcrs, uint64_t cid,
		    const uint8_t boot_id[RUN_BOOT_ID_LEN], const struct nsm_ca *ca);

/* Answer one raw request: out (limit >= NSM_RESPONSE_MAX) receives the raw
 * CBOR response, always one the client can decode — {"Error": name} when
 * the operation fails. Returns the error sent (NSM_SUCCESS when none); e
 * then says why in one line (for the run's log). */
enum nsm_error nsm_model_handle(struct nsm_model *m, const uint8_t *req, size_t len, struct cr_buf *out,
				struct cr_err *e);

/* The run service on port NSM_MODEL_PORT (run_services.h, nsm_service.c):
 * the model with its test CA (nsm_ca_open(): --nsm-ca DIR, or one made in
 * the run directory), the shim's framing, bounded connections. The ready
 * hook adds "nsm_module_id" and "nsm_root" (the test root's path) to the
 * ready event, or prints them. */
extern const struct run_service nsm_model_service;

/* For tests: the service state that start returned. */
struct nsm_model *nsm_service_model(void *state);
const char *nsm_service_root(void *state);
/* Time limit for connections accepted from now on (default 10 s). */
void nsm_service_set_timeout(void *state, unsigned ms);
unsigned nsm_service_connections(void *state);

#endif
