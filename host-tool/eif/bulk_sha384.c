#include "host-tool/eif/bulk_sha384.h"

#include <openssl/evp.h>

void bulk_sha384_init(struct bulk_sha384 *c)
{
	EVP_MD_CTX *x = EVP_MD_CTX_new();
	if (x && EVP_DigestInit_ex(x, EVP_sha384(), NULL) != 1) {
		EVP_MD_CTX_free(x);
		x = NULL;
	}
	c->evp = x;
	c->failed = 0;
	if (!x)
		br_sha384_init(&c->br);
}

void bulk_sha384_update(struct bulk_sha384 *c, const void *p, size_t n)
{
	if (!n)
		return;
	if (c->evp) {
		if (EVP_DigestUpdate(c->evp, p, n) != 1)
			c->failed = 1;
	} else
		br_sha384_update(&c->br, p, n);
}

int bulk_sha384_out(struct bulk_sha384 *c, uint8_t out[CR_SHA384_LEN])
{
	int rc = 0;
	if (c->evp) {
		unsigned len = 0;
		if (c->failed || EVP_DigestFinal_ex(c->evp, out, &len) != 1 || len != CR_SHA384_LEN)
			rc = -1;
	} else {
		br_sha384_out(&c->br, out);
	}
	bulk_sha384_free(c);
	return rc;
}

void bulk_sha384_free(struct bulk_sha384 *c)
{
	EVP_MD_CTX_free(c->evp);
	c->evp = NULL;
}

const char *bulk_sha384_impl(const struct bulk_sha384 *c)
{
	return c->evp ? "libcrypto" : "BearSSL";
}
