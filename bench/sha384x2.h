/* Two SHA-384 streams hashed together, one per 64-bit lane of a vector: the
 * alternative to libcrypto that `make bench-sha384` measures (option (a) of
 * the packing-speed work: a SIMD SHA-512 block function of our own). It lost
 * (docs/measurements.md), so the host tool does not use it; the bench keeps
 * it so the decision can be measured again on another CPU.
 *
 * Packing an image must hash its big ramdisk twice: PCR0's stream (kernel,
 * cmdline, every ramdisk) and PCR2's (the customer ramdisks) cover the same
 * bytes at different offsets, and PCR1's stream runs beside PCR0's over the
 * first sections. SHA-512's rounds are a chain of 64-bit additions, rotations
 * and logic that one stream cannot spread over a vector unit, but two streams
 * can: each vector instruction then advances both hashes. With AVX-512VL
 * (vprorq rotations, vpternlogq three-input logic) the compiler emits about
 * 28 vector instructions per round for both streams.
 *
 * The same C source (GCC vector extensions) is compiled three times, for
 * AVX-512VL, AVX2 and the baseline instruction set; sha384x2_init() picks the
 * best one the CPU has, at run time. The bench checks each one's digests
 * against BearSSL's on every run. */
#ifndef CLEANROOM_SHA384X2_H
#define CLEANROOM_SHA384X2_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"

#define SHA384X2_BLOCK 128

typedef void (*sha384x2_blocks_fn)(uint64_t s0[8], uint64_t s1[8], const uint8_t *p0, const uint8_t *p1,
				   size_t nblocks);

struct sha384x2 {
	uint64_t st[2][8];
	uint8_t buf[2][SHA384X2_BLOCK];
	size_t fill[2];
	uint64_t len[2]; /* bytes fed to each lane */
	sha384x2_blocks_fn blocks;
	const char *impl;
};

enum sha384x2_impl { SHA384X2_BEST, SHA384X2_AVX512, SHA384X2_AVX2, SHA384X2_PORTABLE };

/* Start both lanes with the best implementation the CPU runs. */
void sha384x2_init(struct sha384x2 *c);
/* With a given implementation (tests, bench); -1 if the CPU lacks it. */
int sha384x2_init_impl(struct sha384x2 *c, enum sha384x2_impl which);
/* Feed n bytes at p to the lanes in mask (bit 0: lane 0, bit 1: lane 1). */
void sha384x2_update(struct sha384x2 *c, unsigned mask, const void *p, size_t n);
/* Finish one lane (the other may go on). */
void sha384x2_out(struct sha384x2 *c, int lane, uint8_t out[CR_SHA384_LEN]);

#endif
