/* host-tool/eif/bulk_sha384.c: libcrypto's SHA-384 gives BearSSL's digests.
 * FIPS 180 known answers, every length 0..1024, every length fed in two
 * pieces split at each point, and large inputs in uneven pieces. */
#include <bearssl.h>

#include "base/digest.h"
#include "base/util.h"
#include "host-tool/eif/bulk_sha384.h"
#include "tests/unit/check.h"

static void bearssl_digest(const uint8_t *p, size_t n, uint8_t out[CR_SHA384_LEN])
{
	br_sha384_context c;
	br_sha384_init(&c);
	br_sha384_update(&c, p, n);
	br_sha384_out(&c, out);
}

/* The bulk digest of p fed in pieces that cut at every multiple of step
 * (step 0: one piece). */
static int bulk_digest(const uint8_t *p, size_t n, size_t step, uint8_t out[CR_SHA384_LEN])
{
	struct bulk_sha384 c;
	bulk_sha384_init(&c);
	if (!step)
		step = n ? n : 1;
	for (size_t off = 0; off < n; off += step)
		bulk_sha384_update(&c, p + off, n - off < step ? n - off : step);
	return bulk_sha384_out(&c, out);
}

static void kat(const char *msg, size_t repeat, const char *want)
{
	size_t len = strlen(msg);
	uint8_t *buf = malloc(len * repeat + 1), got[CR_SHA384_LEN];
	char hex[CR_HEX_SIZE(CR_SHA384_LEN)];
	for (size_t i = 0; i < repeat; i++)
		memcpy(buf + i * len, msg, len);
	T_OK(bulk_digest(buf, len * repeat, 0, got) == 0, "known answer: hashing %zu bytes succeeds", len * repeat);
	cr_hex(got, CR_SHA384_LEN, hex);
	T_STR(hex, want, "known answer: SHA-384 of %zu x \"%.20s\"", repeat, msg);
	free(buf);
}

int main(void)
{
	enum { SMALL = 1024, LARGE = (16 << 20) + 77 };
	uint8_t *data = malloc(LARGE), want[CR_SHA384_LEN], got[CR_SHA384_LEN];
	struct bulk_sha384 probe;
	size_t bad_len = SIZE_MAX, bad_split = SIZE_MAX;

	bulk_sha384_init(&probe);
	T_STR(bulk_sha384_impl(&probe), "libcrypto", "libcrypto's SHA-384 is the one in use");
	bulk_sha384_free(&probe);

	kat("", 1, "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
	kat("abc", 1,
	    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
	kat("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstno"
	    "pqrstu",
	    1, "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039");
	kat("a", 1000000,
	    "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985");

	for (size_t i = 0; i < LARGE; i++)
		data[i] = t_random_byte();

	/* Every length 0..1024 in one piece, and in two pieces cut at every point. */
	for (size_t n = 0; n <= SMALL && bad_len == SIZE_MAX; n++) {
		bearssl_digest(data, n, want);
		if (bulk_digest(data, n, 0, got) || memcmp(got, want, sizeof got))
			bad_len = n;
		for (size_t cut = 1; cut < n && bad_split == SIZE_MAX; cut++) {
			struct bulk_sha384 c;
			bulk_sha384_init(&c);
			bulk_sha384_update(&c, data, cut);
			bulk_sha384_update(&c, data + cut, n - cut);
			if (bulk_sha384_out(&c, got) || memcmp(got, want, sizeof got))
				bad_split = n * 10000 + cut;
		}
	}
	if (bad_len != SIZE_MAX)
		printf("# first length that differs: %zu\n", bad_len);
	T_OK(bad_len == SIZE_MAX, "same digest as BearSSL for every length 0..%d", SMALL);
	if (bad_split != SIZE_MAX)
		printf("# first length that differs in two pieces: %zu, cut at %zu\n", bad_split / 10000,
		       bad_split % 10000);
	T_OK(bad_split == SIZE_MAX, "same digest as BearSSL for every length 0..%d in two pieces cut anywhere", SMALL);

	/* Large inputs: odd sizes, fed in one piece and in uneven pieces. */
	{
		static const size_t sizes[] = { 1u << 20, (3u << 20) + 1, 10000019, LARGE };
		static const size_t steps[] = { 0, 1000003, 128, 4093 };
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			bearssl_digest(data, sizes[i], want);
			T_OK(bulk_digest(data, sizes[i], steps[i], got) == 0 && !memcmp(got, want, sizeof got),
			     "same digest as BearSSL for %zu random bytes in pieces of %zu", sizes[i], steps[i]);
		}
	}
	free(data);
	return t_done();
}
