/* CRC-32 (IEEE, zlib's) of the large streams the host tool checks: an EIF's
 * CRC covers the whole image, so `cleanroom eif` and every EIF it reads run
 * it over every byte, beside two SHA-384 passes on two cores. zlib's crc32
 * (1.2.13) runs at about 4 GB/s here, libdeflate's (carry-less multiply, the
 * CPU's PCLMULQDQ) several times faster: at 1.2 GB that is 0.2-0.3 s of the
 * packing thread's CPU. So libdeflate is used (libdeflate.so.0, opened on
 * first use, like libcrypto for SHA-384) and zlib when it is absent; both
 * give the same CRC (tests/unit/test_bulk_crc32.c). */
#ifndef CLEANROOM_BULK_CRC32_H
#define CLEANROOM_BULK_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* zlib's crc32(crc, p, n): start with crc 0. */
uint32_t bulk_crc32(uint32_t crc, const void *p, size_t n);
/* "libdeflate" or "zlib": what bulk_crc32 computes with. */
const char *bulk_crc32_impl(void);

#endif
