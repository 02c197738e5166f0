#include "host-tool/eif/bulk_sha384.h"

#include <dlfcn.h>
#include <pthread.h>

/* libcrypto is opened on first use, not linked: every other command (verify
 * above all, whose per-process time counts) would pay for loading it at
 * start-up. These are OpenSSL 3's EVP digest calls, with opaque types. */
static struct {
	void *(*ctx_new)(void);
	const void *(*sha384)(void);
	int (*init)(void *ctx, const void *md, void *engine);
	int (*update)(void *ctx, const void *p, size_t n);
	int (*final)(void *ctx, unsigned char *out, unsigned *len);
	void (*ctx_free)(void *ctx);
} evp;
static int evp_ok;
static pthread_once_t evp_once = PTHREAD_ONCE_INIT;

static void evp_load(void)
{
	static const char *const names[] = { "EVP_MD_CTX_new",   "EVP_sha384",         "EVP_DigestInit_ex",
					     "EVP_DigestUpdate", "EVP_DigestFinal_ex", "EVP_MD_CTX_free" };
	void **slots[] = { (void **)&evp.ctx_new, (void **)&evp.sha384, (void **)&evp.init,
			   (void **)&evp.update,  (void **)&evp.final,  (void **)&evp.ctx_free };
	void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!(*slots[i] = dlsym(lib, names[i])))
			return; /* kept open: harmless, and another thread may race */
	evp_ok = 1;
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
