/* Placeholder until the shared COSE module lands (nsm/cose.h). */
#include "eif_sign.h"

int eif_signer_load(struct eif_signer *s, const char *key_pem, const char *cert_pem, struct cr_err *e)
{
	(void)s; (void)key_pem; (void)cert_pem;
	return cr_fail(e, "signing: not implemented yet");
}

void eif_signer_free(struct eif_signer *s)
{
	(void)s;
}

int eif_signer_sign(void *ctx, struct eif_pcrs *pcrs, struct cr_buf *section, struct cr_err *e)
{
	(void)ctx; (void)pcrs; (void)section;
	return cr_fail(e, "signing: not implemented yet");
}

int eif_signature_check(const uint8_t *section, size_t len, const uint8_t pcr0[PCR_LEN],
			struct eif_sig_check *out, struct cr_err *e)
{
	(void)section; (void)len; (void)pcr0; (void)out;
	return cr_fail(e, "signature: checking not implemented yet");
}
