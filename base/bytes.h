/* Big-endian integers in byte strings: the EIF's fields and the length
 * prefixes of the vsock frames and of the NSM service's messages. The one
 * place they are encoded and decoded. */
#ifndef CLEANROOM_BYTES_H
#define CLEANROOM_BYTES_H

#include <stdint.h>

static inline void cr_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void cr_put_be32(uint8_t *p, uint32_t v)
{
	cr_put_be16(p, (uint16_t)(v >> 16));
	cr_put_be16(p + 2, (uint16_t)v);
}

static inline void cr_put_be64(uint8_t *p, uint64_t v)
{
	cr_put_be32(p, (uint32_t)(v >> 32));
	cr_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t cr_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t cr_be32(const uint8_t *p)
{
	return (uint32_t)cr_be16(p) << 16 | cr_be16(p + 2);
}

static inline uint64_t cr_be64(const uint8_t *p)
{
	return (uint64_t)cr_be32(p) << 32 | cr_be32(p + 4);
}

#endif
