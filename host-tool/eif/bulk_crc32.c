#include "host-tool/eif/bulk_crc32.h"

#include <limits.h>
#include <pthread.h>
#include <zlib.h>

#include "host-tool/eif/dl_syms.h"

static uint32_t (*deflate_crc32)(uint32_t crc, const void *p, size_t n);
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* A failure leaves deflate_crc32 NULL: zlib computes instead. */
static void load(void)
{
	static const char *const names[] = { "libdeflate_crc32" };
	uint32_t (*f)(uint32_t, const void *, size_t) = NULL;
	void *const slots[] = { &f };
	struct cr_err ignored;
	if (dl_syms("libdeflate.so.0", names, slots, 1, &ignored) == 0)
		deflate_crc32 = f;
}

uint32_t bulk_crc32(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;
	pthread_once(&once, load);
	if (deflate_crc32)
		return deflate_crc32(crc, p, n);
	/* zlib takes a uInt length */
	while (n) {
		uInt k = n > UINT_MAX ? UINT_MAX : (uInt)n;
		crc = (uint32_t)crc32(crc, b, k);
		b += k;
		n -= k;
	}
	return crc;
}

const char *bulk_crc32_impl(void)
{
	pthread_once(&once, load);
	return deflate_crc32 ? "libdeflate" : "zlib";
}
