#include "bench/sha384x2.h"

#include <string.h>

/* Two 64-bit lanes; the compiler maps them to one SSE/AVX register. */
typedef uint64_t v2u64 __attribute__((vector_size(16)));

/* K: the first 64 bits of the fractional parts of the cube roots of the
 * first 80 primes (FIPS 180-4, 4.2.3). */
static const uint64_t K[80] = {
	0x428a2f98d728ae22ull, 0x7137449123ef65cdull, 0xb5c0fbcfec4d3b2full, 0xe9b5dba58189dbbcull,
	0x3956c25bf348b538ull, 0x59f111f1b605d019ull, 0x923f82a4af194f9bull, 0xab1c5ed5da6d8118ull,
	0xd807aa98a3030242ull, 0x12835b0145706fbeull, 0x243185be4ee4b28cull, 0x550c7dc3d5ffb4e2ull,
	0x72be5d74f27b896full, 0x80deb1fe3b1696b1ull, 0x9bdc06a725c71235ull, 0xc19bf174cf692694ull,
	0xe49b69c19ef14ad2ull, 0xefbe4786384f25e3ull, 0x0fc19dc68b8cd5b5ull, 0x240ca1cc77ac9c65ull,
	0x2de92c6f592b0275ull, 0x4a7484aa6ea6e483ull, 0x5cb0a9dcbd41fbd4ull, 0x76f988da831153b5ull,
	0x983e5152ee66dfabull, 0xa831c66d2db43210ull, 0xb00327c898fb213full, 0xbf597fc7beef0ee4ull,
	0xc6e00bf33da88fc2ull, 0xd5a79147930aa725ull, 0x06ca6351e003826full, 0x142929670a0e6e70ull,
	0x27b70a8546d22ffcull, 0x2e1b21385c26c926ull, 0x4d2c6dfc5ac42aedull, 0x53380d139d95b3dfull,
	0x650a73548baf63deull, 0x766a0abb3c77b2a8ull, 0x81c2c92e47edaee6ull, 0x92722c851482353bull,
	0xa2bfe8a14cf10364ull, 0xa81a664bbc423001ull, 0xc24b8b70d0f89791ull, 0xc76c51a30654be30ull,
	0xd192e819d6ef5218ull, 0xd69906245565a910ull, 0xf40e35855771202aull, 0x106aa07032bbd1b8ull,
	0x19a4c116b8d2d0c8ull, 0x1e376c085141ab53ull, 0x2748774cdf8eeb99ull, 0x34b0bcb5e19b48a8ull,
	0x391c0cb3c5c95a63ull, 0x4ed8aa4ae3418acbull, 0x5b9cca4f7763e373ull, 0x682e6ff3d6b2b8a3ull,
	0x748f82ee5defb2fcull, 0x78a5636f43172f60ull, 0x84c87814a1f0ab72ull, 0x8cc702081a6439ecull,
	0x90befffa23631e28ull, 0xa4506cebde82bde9ull, 0xbef9a3f7b2c67915ull, 0xc67178f2e372532bull,
	0xca273eceea26619cull, 0xd186b8c721c0c207ull, 0xeada7dd6cde0eb1eull, 0xf57d4f7fee6ed178ull,
	0x06f067aa72176fbaull, 0x0a637dc5a2c898a6ull, 0x113f9804bef90daeull, 0x1b710b35131c471bull,
	0x28db77f523047d84ull, 0x32caab7b40c72493ull, 0x3c9ebe0a15c9bebcull, 0x431d67c49c100d4cull,
	0x4cc5d4becb3e42b6ull, 0x597f299cfc657e2aull, 0x5fcb6fab3ad6faecull, 0x6c44198c4a475817ull,
};

/* SHA-384's initial state: the fractional parts of the square roots of the
 * 9th to 16th primes (FIPS 180-4, 5.3.4). */
static const uint64_t IV384[8] = {
	0xcbbb9d5dc1059ed8ull, 0x629a292a367cd507ull, 0x9159015a3070dd17ull, 0x152fecd8f70e5939ull,
	0x67332667ffc00b31ull, 0x8eb44a8768581511ull, 0xdb0c2e0d64f98fa7ull, 0x47b5481dbefa4fa4ull,
};

static inline __attribute__((always_inline)) v2u64 ror(v2u64 x, int n)
{
	return (x >> n) | (x << (64 - n));
}

static inline __attribute__((always_inline)) uint64_t load_be64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

#define S0(x) (ror(x, 28) ^ ror(x, 34) ^ ror(x, 39))
#define S1(x) (ror(x, 14) ^ ror(x, 18) ^ ror(x, 41))
#define SG0(x) (ror(x, 1) ^ ror(x, 8) ^ ((x) >> 7))
#define SG1(x) (ror(x, 19) ^ ror(x, 61) ^ ((x) >> 6))
#define CH(e, f, g) (((e) & (f)) ^ (~(e) & (g)))
#define MAJ(a, b, c) (((a) & (b)) ^ ((a) & (c)) ^ ((b) & (c)))

/* One round, the eight variables renamed instead of moved: d and h receive
 * the new e and a. The sum is ordered so that e's next value waits on as few
 * operations as possible after the previous e (its Ch and Sigma1). */
#define ROUND(a, b, c, d, e, f, g, h, k, w) \
 do {                                       \
  v2u64 t1 = h + (k + w) + CH(e, f, g);     \
  t1 += S1(e);                              \
  d += t1;                                  \
  h = t1 + MAJ(a, b, c) + S0(a);            \
 } while (0)
/* W[j] for round i + j (i >= 16), in the 16-word window. */
#define SCHED(j) (w[j] += SG0(w[((j) + 1) & 15]) + w[((j) + 9) & 15] + SG1(w[((j) + 14) & 15]))
#define ROUNDS8(j, step)                                        \
 do {                                                           \
  ROUND(a, b, c, d, e, f, g, h, K[i + (j)], step(j));           \
  ROUND(h, a, b, c, d, e, f, g, K[i + (j) + 1], step((j) + 1)); \
  ROUND(g, h, a, b, c, d, e, f, K[i + (j) + 2], step((j) + 2)); \
  ROUND(f, g, h, a, b, c, d, e, K[i + (j) + 3], step((j) + 3)); \
  ROUND(e, f, g, h, a, b, c, d, K[i + (j) + 4], step((j) + 4)); \
  ROUND(d, e, f, g, h, a, b, c, K[i + (j) + 5], step((j) + 5)); \
  ROUND(c, d, e, f, g, h, a, b, K[i + (j) + 6], step((j) + 6)); \
  ROUND(b, c, d, e, f, g, h, a, K[i + (j) + 7], step((j) + 7)); \
 } while (0)
#define LOADED(j) w[j]

/* FIPS 180-4 6.4.2, lane i of every vector working on stream i. Inlined into
 * each target-specific copy below. */
static inline __attribute__((always_inline)) void blocks_body(uint64_t s0[8], uint64_t s1[8], const uint8_t *p0,
							      const uint8_t *p1, size_t nblocks)
{
	v2u64 st[8];
	for (int i = 0; i < 8; i++)
		st[i] = (v2u64){ s0[i], s1[i] };
	for (; nblocks; nblocks--, p0 += SHA384X2_BLOCK, p1 += SHA384X2_BLOCK) {
		v2u64 w[16], a = st[0], b = st[1], c = st[2], d = st[3], e = st[4], f = st[5], g = st[6], h = st[7];
		int i = 0;
		for (int t = 0; t < 16; t++)
			w[t] = (v2u64){ load_be64(p0 + 8 * t), load_be64(p1 + 8 * t) };
		ROUNDS8(0, LOADED);
		ROUNDS8(8, LOADED);
		for (i = 16; i < 80; i += 16) {
			ROUNDS8(0, SCHED);
			ROUNDS8(8, SCHED);
		}
		st[0] += a;
		st[1] += b;
		st[2] += c;
		st[3] += d;
		st[4] += e;
		st[5] += f;
		st[6] += g;
		st[7] += h;
	}
	for (int i = 0; i < 8; i++) {
		s0[i] = st[i][0];
		s1[i] = st[i][1];
	}
}

static void blocks_portable(uint64_t s0[8], uint64_t s1[8], const uint8_t *p0, const uint8_t *p1, size_t nblocks)
{
	blocks_body(s0, s1, p0, p1, nblocks);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) static void blocks_avx2(uint64_t s0[8], uint64_t s1[8], const uint8_t *p0,
							const uint8_t *p1, size_t nblocks)
{
	blocks_body(s0, s1, p0, p1, nblocks);
}

__attribute__((target("avx512f,avx512vl"))) static void blocks_avx512(uint64_t s0[8], uint64_t s1[8], const uint8_t *p0,
								      const uint8_t *p1, size_t nblocks)
{
	blocks_body(s0, s1, p0, p1, nblocks);
}
#endif

int sha384x2_init_impl(struct sha384x2 *c, enum sha384x2_impl which)
{
	memset(c, 0, sizeof *c);
	for (int l = 0; l < 2; l++)
		memcpy(c->st[l], IV384, sizeof IV384);
	c->blocks = blocks_portable;
	c->impl = "portable";
#if defined(__x86_64__)
	__builtin_cpu_init();
	if ((which == SHA384X2_BEST || which == SHA384X2_AVX512) && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512vl")) {
		c->blocks = blocks_avx512;
		c->impl = "AVX-512";
		return 0;
	}
	if ((which == SHA384X2_BEST || which == SHA384X2_AVX2) && __builtin_cpu_supports("avx2")) {
		c->blocks = blocks_avx2;
		c->impl = "AVX2";
		return 0;
	}
#endif
	return which == SHA384X2_BEST || which == SHA384X2_PORTABLE ? 0 : -1;
}

void sha384x2_init(struct sha384x2 *c)
{
	sha384x2_init_impl(c, SHA384X2_BEST);
}

/* The next whole block of lane l: its buffer once topped up from p, else a
 * block of p itself; NULL when neither has one. */
static const uint8_t *next_block(struct sha384x2 *c, int l, const uint8_t *p, size_t n, size_t *off)
{
	if (c->fill[l]) {
		size_t k = SHA384X2_BLOCK - c->fill[l];
		if (k > n - *off)
			k = n - *off;
		memcpy(c->buf[l] + c->fill[l], p + *off, k);
		c->fill[l] += k;
		*off += k;
		if (c->fill[l] < SHA384X2_BLOCK)
			return NULL;
		c->fill[l] = 0; /* consumed by the caller before the buffer is reused */
		return c->buf[l];
	}
	if (n - *off >= SHA384X2_BLOCK) {
		*off += SHA384X2_BLOCK;
		return p + *off - SHA384X2_BLOCK;
	}
	return NULL;
}

void sha384x2_update(struct sha384x2 *c, unsigned mask, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t off[2] = { n, n }; /* an inactive lane has nothing left */
	uint64_t scratch[8];
	for (int l = 0; l < 2; l++)
		if (mask & (1u << l)) {
			off[l] = 0;
			c->len[l] += n;
		}
	for (;;) {
		const uint8_t *b0, *b1;
		/* Both lanes reading p in place: as many block pairs as both have. */
		if (!c->fill[0] && !c->fill[1] && n - off[0] >= SHA384X2_BLOCK && n - off[1] >= SHA384X2_BLOCK) {
			size_t m0 = (n - off[0]) / SHA384X2_BLOCK, m1 = (n - off[1]) / SHA384X2_BLOCK;
			size_t m = m0 < m1 ? m0 : m1;
			c->blocks(c->st[0], c->st[1], p + off[0], p + off[1], m);
			off[0] += m * SHA384X2_BLOCK;
			off[1] += m * SHA384X2_BLOCK;
		}
		b0 = next_block(c, 0, p, n, &off[0]);
		b1 = next_block(c, 1, p, n, &off[1]);
		if (b0 && b1)
			c->blocks(c->st[0], c->st[1], b0, b1, 1);
		else if (b0 || b1) /* one lane alone: the other computes into scratch */
			c->blocks(b0 ? c->st[0] : scratch, b1 ? c->st[1] : scratch, b0 ? b0 : b1, b0 ? b0 : b1, 1);
		else
			break;
	}
	for (int l = 0; l < 2; l++)
		if (off[l] < n) { /* a tail shorter than a block, with an empty buffer */
			memcpy(c->buf[l], p + off[l], n - off[l]);
			c->fill[l] = n - off[l];
		}
}

void sha384x2_out(struct sha384x2 *c, int lane, uint8_t out[CR_SHA384_LEN])
{
	uint8_t *b = c->buf[lane];
	uint64_t scratch[8], bits = c->len[lane] * 8; /* < 2^64: images are far smaller */
	size_t fill = c->fill[lane];
	b[fill++] = 0x80;
	memset(b + fill, 0, SHA384X2_BLOCK - fill);
	if (fill > SHA384X2_BLOCK - 16) {
		c->blocks(lane ? scratch : c->st[0], lane ? c->st[1] : scratch, b, b, 1);
		memset(b, 0, SHA384X2_BLOCK);
	}
	for (int i = 0; i < 8; i++)
		b[SHA384X2_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
	c->blocks(lane ? scratch : c->st[0], lane ? c->st[1] : scratch, b, b, 1);
	for (int i = 0; i < CR_SHA384_LEN / 8; i++)
		for (int j = 0; j < 8; j++)
			out[8 * i + j] = (uint8_t)(c->st[lane][i] >> (56 - 8 * j));
	c->fill[lane] = 0;
}
