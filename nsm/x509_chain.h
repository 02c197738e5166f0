/* Certificate chain validation at an explicit time (attestation documents).
 *
 * The chain is leaf first, each certificate issued by the next, the trust
 * anchor last. x509_chain_verify() runs BearSSL's X.509 minimal engine once
 * over the whole chain (leaf first, the anchor as its only trust anchor,
 * br_x509_minimal_set_time() at `at`). For every certificate below the
 * anchor it checks: the signature (ECDSA, with the hash of the signature
 * algorithm), issuer name == the next certificate's subject name, validity
 * at `at`, no unknown critical extension; and for every CA below the anchor
 * basicConstraints cA, pathLenConstraint >= the number of CAs below it, and
 * keyCertSign if keyUsage is present. The anchor must sign the last
 * certificate below it, and no certificate below that.
 *
 * The engine trusts the anchor as a name and a key and does not look at the
 * end entity's role, so x509_chain_verify() adds, from x509_cert's fields:
 *   - the leaf: not a CA, keyUsage present with digitalSignature;
 *   - every CA: keyUsage present;
 *   - the anchor: validity at `at`, basicConstraints cA, keyCertSign,
 *     pathLenConstraint >= the number of CAs below it.
 * A failure is one line naming the certificate by its label (and CN). The
 * anchor's own signature is not checked: it is trusted because the caller
 * pinned it. Only ECDSA (P-256/384/521 with SHA-256/384/512) is accepted;
 * no revocation. */
#ifndef CLEANROOM_X509_CHAIN_H
#define CLEANROOM_X509_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "nsm/x509_cert.h"

#define X509_CHAIN_MAX 18

struct x509_chain {
	size_t n;
	struct x509_cert cert[X509_CHAIN_MAX];
	char label[X509_CHAIN_MAX][24]; /* "leaf", "cabundle[2]", "root", ... */
};

void x509_chain_init(struct x509_chain *ch);
/* Parse der and append it under label (errors: "chain: <label>: ..."). The
 * DER must outlive the chain. */
int x509_chain_add(struct x509_chain *ch, const uint8_t *der, size_t len, const char *label, struct cr_err *e);
/* Validate the whole chain at Unix time `at` (errors start "chain: "). */
int x509_chain_verify(const struct x509_chain *ch, int64_t at, struct cr_err *e);

#endif
