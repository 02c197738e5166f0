/* The EIF signature section (nitro-facts §1.6): a CBOR array with one
 * {"signing_certificate": [PEM bytes as uints], "signature": [COSE_Sign1
 * bytes as uints]} map; the COSE payload is PcrInfo {"register_index": 0,
 * "register_value": [48 uints of PCR0]}. PCR8 = PCR of the certificate DER. */
#ifndef CLEANROOM_EIF_SIGN_H
#define CLEANROOM_EIF_SIGN_H

#include "base/digest.h"
#include "host-tool/eif/eif.h"
#include "host-tool/eif/pcr.h"
#include "base/util.h"
#include "nsm/x509_cert.h"

struct eif_signer {
	void *impl;
};

/* Load an EC private key (PEM) and its certificate (PEM). */
int eif_signer_load(struct eif_signer *s, const char *key_pem, const char *cert_pem, struct cr_err *e);
void eif_signer_free(struct eif_signer *s);
/* eif_write_input.sign: fills the section, sets pcrs->pcr8. */
int eif_signer_sign(void *ctx, struct eif_pcrs *pcrs, struct cr_buf *section, struct cr_err *e);

/* Check a signature section against PCR0: PCR8 from its certificate, and
 * whether the COSE signature verifies with the certificate's key over the
 * PcrInfo of this pcr0. sig_ok is set only when the section parses. */
struct eif_sig_check {
	uint8_t pcr8[CR_PCR_LEN];
	int sig_ok;
	char subject[256], issuer[256];
	char not_before[32], not_after[32];
	char algorithm[32];
	uint8_t cert_der[X509_MAX_DER]; /* the signing certificate (describe --json reads more of it) */
	size_t cert_der_len;
};
int eif_signature_check(const uint8_t *section, size_t len, const uint8_t pcr0[CR_PCR_LEN], struct eif_sig_check *out,
			struct cr_err *e);

/* For a scanned image that has a signature section: check it against the
 * scan's PCR0 and set the scan's PCR8, as Nitro does when it boots a
 * signed image. -1 with e ("signature: ...") when the section is malformed
 * or its signature does not verify; 0 (nothing done) for an unsigned image.
 * out may be NULL. */
int eif_scan_signature(const struct eif_image *img, struct eif_scan *scan, struct eif_sig_check *out, struct cr_err *e);

#endif
