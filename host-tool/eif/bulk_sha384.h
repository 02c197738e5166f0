/* SHA-384 of the large streams the host tool hashes (PCR0/1/2 of an image).
 *
 * Packing hashes the customer ramdisk twice (PCR0 and PCR2 both cover it), so
 * the hash's speed sets the speed of `cleanroom eif`. Measured (see
 * docs/measurements.md, `make bench-eif-pack`): BearSSL's portable SHA-384 is
 * about 3x slower than libcrypto's, whose x86-64 assembly picks its AVX2/AVX/
 * SSSE3 code at run time from the CPU's features. So the host tool's bulk
 * hashing uses libcrypto (OpenSSL 3's libcrypto.so.3, opened on first use so
 * that other commands do not pay for loading it), and falls back to BearSSL
 * when libcrypto is absent or cannot give a SHA-384 context (e.g. a provider
 * configuration without it). Both give the same digests (tests/unit/
 * test_bulk_sha384.c compares them over every length 0..1024 and large
 * inputs). Every other hash, and everything in the init, stays BearSSL. */
#ifndef CLEANROOM_BULK_SHA384_H
#define CLEANROOM_BULK_SHA384_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

struct bulk_sha384 {
	void *evp;  /* EVP_MD_CTX *, or NULL when BearSSL is used */
	int failed; /* libcrypto refused an update: the digest would be wrong */
	br_sha384_context br;
};

/* Start a hash. Never fails: without libcrypto it uses BearSSL. */
void bulk_sha384_init(struct bulk_sha384 *c);
void bulk_sha384_update(struct bulk_sha384 *c, const void *p, size_t n);
/* The digest; releases the context (init again to reuse it). -1 if
 * libcrypto failed on the way (no digest is given then). */
int bulk_sha384_out(struct bulk_sha384 *c, uint8_t out[CR_SHA384_LEN]);
/* Release without a digest (on an error path). */
void bulk_sha384_free(struct bulk_sha384 *c);
/* "libcrypto" or "BearSSL": what this context hashes with. */
const char *bulk_sha384_impl(const struct bulk_sha384 *c);

#endif
