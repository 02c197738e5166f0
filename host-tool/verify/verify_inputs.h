/* What a bundle is verified against, from command-line inputs: the root
 * certificate, the expected image (an EIF's PCRs or given values), the
 * nonce, the expected source tree (a git commit's tree or a directory).
 * `cleanroom verify` and `cleanroom build` fill their policy through these,
 * so the two verify the same way. */
#ifndef CLEANROOM_VERIFY_INPUTS_H
#define CLEANROOM_VERIFY_INPUTS_H

#include "host-tool/verify/bundle_verify.h"
#include "base/pem.h"

struct verify_inputs {
	struct bv_policy pol;
	struct pem_list root;
	int have_root;
	unsigned pcrs_given; /* bit i: --pcrI given */
	char pcr_desc[4200];
	char source_desc[4200];
	/* allowed images beyond the first (vin_add_eif, vin_add_pcr_set) */
	struct bv_image more[BV_MAX_IMAGES - 1];
	size_t nimages; /* images added so far */
};

void vin_init(struct verify_inputs *v);
void vin_free(struct verify_inputs *v);
/* Trust the first CERTIFICATE of a PEM file instead of the AWS root. */
int vin_set_root(struct verify_inputs *v, const char *path, struct cr_err *e);
/* Expect the PCR0/1/2 of an EIF (read and measured now). */
int vin_set_eif(struct verify_inputs *v, const char *path, struct cr_err *e);
/* Expect these PCR0/1/2; desc says where they come from. */
void vin_set_pcrs(struct verify_inputs *v, const uint8_t *pcr0, const uint8_t *pcr1, const uint8_t *pcr2,
		  const char *desc);
/* Expect PCR i = hex (96 hex digits); all three must be given (vin_check). */
int vin_set_pcr(struct verify_inputs *v, unsigned i, const char *hex, struct cr_err *e);
/* Allow one more image (verify --quorum): the first one added is the
 * policy's pcr[], the next ones its more_images; at most BV_MAX_IMAGES. */
int vin_add_eif(struct verify_inputs *v, const char *path, struct cr_err *e);
/* The same with PCR0/1/2 as hex (96 digits each); set is its number, from 1,
 * for messages (0: the only set, not numbered). */
int vin_add_pcr_set(struct verify_inputs *v, const char *const hex[3], unsigned set, struct cr_err *e);
int vin_set_nonce(struct verify_inputs *v, const char *hex, struct cr_err *e);
int vin_set_nonce_bytes(struct verify_inputs *v, const uint8_t *nonce, size_t len);
/* Expect the tree of a git commit (`git rev-parse REV^{tree}` in repo, "."
 * when NULL; SHA-1 or SHA-256 repositories). */
int vin_set_git_commit(struct verify_inputs *v, const char *rev, const char *repo, struct cr_err *e);
/* Expect the tree id of a directory, computed as `cleanroom build` sends it. */
int vin_set_source_dir(struct verify_inputs *v, const char *dir, struct cr_err *e);
/* Consistency of what was given (e.g. --pcr0 without --pcr1). */
int vin_check(const struct verify_inputs *v, struct cr_err *e);

#endif
