/* The test CA that signs the NSM model's attestation documents: a chain
 * root -> intermediate(s) -> leaf of ECDSA P-384 certificates, like AWS's
 * (whose root is replaced by this one: verify local documents with
 * `cleanroom attestation verify DOC --root DIR/root.pem`).
 *
 * Files of a CA directory (PEM):
 *   root.pem          the self-signed root (cabundle[0], the trust anchor)
 *   intermediate.pem  one or more CA certificates, the root's child first and
 *                     the leaf's issuer last (cabundle[1..], in that order)
 *   leaf.pem          the signing certificate (the document's certificate)
 *   leaf.key          its P-384 private key (SEC1 or PKCS#8, unencrypted)
 * Checked when loaded: every certificate at most 1024 bytes (the attestation
 * limit), the leaf key is P-384 and matches leaf.pem, and the chain is valid
 * now (names, signatures, validity, CA flags, key usages, pathLen — the same
 * x509_chain_verify() the verifier runs).
 *
 * Generation runs the openssl command (a dependency already, used for the
 * test PKIs): BearSSL signs but has no certificate writer, and writing X.509
 * DER by hand would be a second, untested ASN.1 encoder. Each certificate is
 * one `openssl req -x509 [-CA …]` with an extension section of a small
 * config file: root CA pathlen 1, intermediate CA pathlen 0 (keyCertSign,
 * cRLSign), leaf CA:FALSE with digitalSignature; subject key ids; SHA-384;
 * root and intermediate valid 3650 days, leaf 365 days; fresh keys and
 * random serials each time. root.key and intermediate.key are written too,
 * so a kept directory can issue a new leaf later. ~40 ms. */
#ifndef CLEANROOM_NSM_CA_H
#define CLEANROOM_NSM_CA_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "nsm/attest_doc.h"
#include "base/ec_key.h"
#include "base/pem.h"
#include "base/util.h"

#define NSM_CA_SUBDIR "nsm-ca" /* where a run generates its CA: <run dir>/nsm-ca */

struct nsm_ca {
	struct ec_key leaf_key;
	struct pem_list root_pem, int_pem, leaf_pem; /* own the DER below */
	struct att_bytes leaf;                       /* DER of leaf.pem */
	size_t n_bundle;
	struct att_bytes bundle[ATT_MAX_CABUNDLE]; /* root first */
	int64_t leaf_not_after;                    /* Unix seconds */
	char dir[PATH_MAX];
	char root_path[PATH_MAX]; /* dir/root.pem */
	int generated;            /* made by nsm_ca_open() */
	int remove_on_free;       /* files (and dir) go with nsm_ca_free() */
};

/* Make a new chain in dir (which must exist and hold none of the files);
 * leaf_cn is the leaf's common name. */
int nsm_ca_generate(const char *dir, const char *leaf_cn, struct cr_err *e);

/* Load and check the four files of dir (see above). */
int nsm_ca_load(struct nsm_ca *ca, const char *dir, struct cr_err *e);

/* The CA of a run:
 *   user_dir != NULL (--nsm-ca DIR): load DIR; when DIR holds none of the
 *     four files, generate a chain there first and keep it (later runs and
 *     verifiers reuse it); some but not all of them is an error naming the
 *     missing one;
 *   user_dir == NULL: generate into run_dir/nsm-ca, removed by nsm_ca_free().
 * leaf_cn is used only when generating. */
int nsm_ca_open(struct nsm_ca *ca, const char *user_dir, const char *run_dir, const char *leaf_cn, struct cr_err *e);

/* Free the memory; remove the generated directory when it was the run's. */
void nsm_ca_free(struct nsm_ca *ca);

#endif
