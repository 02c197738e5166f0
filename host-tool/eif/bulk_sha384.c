#include "host-tool/eif/bulk_sha384.h"

#include <pthread.h>

#include "host-tool/eif/dl_syms.h"

/* OpenSSL 3 crypto.h: OPENSSL_init_crypto option (not included: the
 * library is not linked, only opened). */
#define OPENSSL_INIT_NO_LOAD_CONFIG 0x00000080L

/* libcrypto is opened on first use, not linked: every other command (verify
 * above all, whose per-process time counts) would pay for loading it at
 * start-up. These are OpenSSL 3's EVP digest calls, with opaque types. */
static struct {
	int (*init_crypto)(uint64_t opts, const void *settings);
	void *(*ctx_new)(void);
	const void *(*sha384)(void);
	int (*init)(void *ctx, const void *md, void *engine);
	int (*update)(void *ctx, const void *p, size_t n);
	int (*final)(void *ctx, unsigned char *out, unsigned *len);
	void (*ctx_free)(void *ctx);
} evp;
static int evp_ok;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

/* Any failure leaves evp_ok 0: BearSSL hashes instead, to the same digests. */
static void evp_load(void)
{
	static const char *const names[] = { "OPENSSL_init_crypto", "EVP_MD_CTX_new",   "EVP_sha384",
					     "EVP_DigestInit_ex",   "EVP_DigestUpdate", "EVP_DigestFinal_ex",
					     "EVP_MD_CTX_free" };
	void *const slots[] = { &evp.init_crypto, &evp.ctx_new, &evp.sha384,  &evp.init,
				&evp.update,      &evp.final,   &evp.ctx_free };
	struct cr_err ignored;
	if (dl_syms("libcrypto.so.3", names, slots, sizeof names / sizeof names[0], &ignored))
		return;
	/* No openssl.cnf: a configuration ($OPENSSL_CONF) could load providers
	 * into a tool that only wants SHA-384 from the default one. */
	evp_ok = evp.init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) == 1;
}

void bulk_sha384_init(struct bulk_sha384 *c)
{
	void *x = NULL;
	pthread_once(&evp_once, evp_load);
	if (evp_ok && (x = evp.ctx_new()) && evp.init(x, evp.sha384(), NULL) != 1) {
		evp.ctx_free(x);
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
		if (evp.update(c->evp, p, n) != 1)
			c->failed = 1;
	} else {
		br_sha384_update(&c->br, p, n);
	}
}

int bulk_sha384_out(struct bulk_sha384 *c, uint8_t out[CR_SHA384_LEN])
{
	int rc = 0;
	if (c->evp) {
		unsigned len = 0;
		if (c->failed || evp.final(c->evp, out, &len) != 1 || len != CR_SHA384_LEN)
			rc = -1;
	} else {
		br_sha384_out(&c->br, out);
	}
	bulk_sha384_free(c);
	return rc;
}

void bulk_sha384_free(struct bulk_sha384 *c)
{
	if (c->evp)
		evp.ctx_free(c->evp);
	c->evp = NULL;
}

const char *bulk_sha384_impl(const struct bulk_sha384 *c)
{
	return c->evp ? "libcrypto" : "BearSSL";
}
