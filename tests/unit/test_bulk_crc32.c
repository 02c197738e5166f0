/* host-tool/eif/bulk_crc32.c: libdeflate's CRC-32 gives zlib's. Every
 * length 0..1024, every length fed in two pieces split at each point, large
 * inputs in uneven pieces, and the known answer for "123456789". */
#include <zlib.h>

#include "host-tool/eif/bulk_crc32.h"
#include "tests/unit/check.h"

#define SMALL 1024
#define LARGE ((64u << 20) + 13)

int main(void)
{
	uint8_t *data = malloc(LARGE);
	size_t bad_len = SIZE_MAX, bad_split = SIZE_MAX;
	if (!data)
		return 1;
	for (size_t i = 0; i < LARGE; i++)
		data[i] = t_random_byte();
	printf("# CRC-32 with %s\n", bulk_crc32_impl());
	T_OK(!strcmp(bulk_crc32_impl(), "libdeflate"), "libdeflate is found (libdeflate0, installed by make)");
	T_OK(bulk_crc32(0, "123456789", 9) == 0xcbf43926u, "the check value of CRC-32/ISO-HDLC");
	T_OK(bulk_crc32(0, "", 0) == 0 && bulk_crc32(0x12345678u, data, 0) == 0x12345678u,
	     "an empty input leaves the CRC as it was");
	for (size_t n = 0; n <= SMALL && bad_len == SIZE_MAX; n++) {
		uint32_t want = (uint32_t)crc32(0, data, (uInt)n);
		if (bulk_crc32(0, data, n) != want)
			bad_len = n;
		for (size_t cut = 0; cut <= n && bad_split == SIZE_MAX; cut++)
			if (bulk_crc32(bulk_crc32(0, data, cut), data + cut, n - cut) != want)
				bad_split = n * 10000 + cut;
	}
	if (bad_len != SIZE_MAX)
		printf("# first length that differs: %zu\n", bad_len);
	T_OK(bad_len == SIZE_MAX, "zlib's CRC for every length 0..%d", SMALL);
	T_OK(bad_split == SIZE_MAX, "zlib's CRC for every length 0..%d in two pieces cut anywhere", SMALL);
	{
		static const size_t steps[] = { 0, 1000003, 4093, 1u << 20 };
		uint32_t want = (uint32_t)crc32(0, data, LARGE);
		for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
			size_t step = steps[i] ? steps[i] : LARGE;
			uint32_t got = 0;
			for (size_t off = 0; off < LARGE; off += step)
				got = bulk_crc32(got, data + off, LARGE - off < step ? LARGE - off : step);
			T_OK(got == want, "zlib's CRC for %u random bytes in pieces of %zu", LARGE, step);
		}
	}
	free(data);
	return t_done();
}
