/* Certificate chain validation at an explicit time (attestation documents).
 *
 * The chain is leaf first, each certificate issued by the next, the trust
 * anchor last. x509_chain_verify() checks, for every certificate, with one
 * line naming the certificate by its label on failure:
 *   - validity at `at` (the anchor included);
 *   - the leaf: not a CA, keyUsage present with digitalSignature;
 *   - every other certificate: basicConstraints cA, keyUsage present with
 *     keyCertSign, pathLenConstraint >= the number of CA certificates below
 *     it down to the leaf;
 *   - issuer name == the next certificate's subject name (bytes);
 *   - the signature, by BearSSL's X.509 minimal engine run over each link
 *     alone (the certificate as end entity, the next as its only trust
 *     anchor), at the same time: it verifies the ECDSA signature with the
 *     hash of the signature algorithm, re-checks names and validity, and
 *     rejects unknown critical extensions. Running it per link is what lets
 *     a failure name the certificate.
 * The anchor's own signature is not checked: it is trusted because the
 * caller pinned it. Only ECDSA (P-256/384/521 with SHA-256/384/512) is
 * accepted; no revocation. */
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
	char label[X509_CHAIN_MAX][24];   /* "leaf", "cabundle[2]", "root", ... */
};

void x509_chain_init(struct x509_chain *ch);
/* Parse der and append it under label (errors: "chain: <label>: ..."). The
 * DER must outlive the chain. */
int x509_chain_add(struct x509_chain *ch, const uint8_t *der, size_t len, const char *label, struct cr_err *e);
/* Validate the whole chain at Unix time `at` (errors start "chain: "). */
int x509_chain_verify(const struct x509_chain *ch, int64_t at, struct cr_err *e);

#endif
