/* bench/sha384: the CPU each SHA-384 implementation takes to hash the same
 * bytes for two PCR streams (what packing an image needs), in one run:
 * BearSSL (portable C, what the init uses), libcrypto (what the host tool
 * packs with, bulk_sha384) and our own two-lane SIMD SHA-512 (bench/
 * sha384x2.c, each instruction set the CPU has). Every digest is checked
 * against BearSSL's.
 *
 *   sha384 [MiB]     (default 256) */
#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/sha384x2.h"
#include "host-tool/eif/bulk_sha384.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, double cpu, size_t n, int ok)
{
	printf("  %-34s %6.3f s CPU for both streams, %5.0f MB/s per stream%s\n", name, cpu, 2 * (double)n / 1e6 / cpu,
	       ok ? "" : "   WRONG DIGEST");
}

int main(int argc, char **argv)
{
	size_t n = (size_t)(argc > 1 ? atoi(argv[1]) : 256) << 20, skew = 77;
	uint8_t *d = malloc(n), want0[CR_SHA384_LEN], want1[CR_SHA384_LEN], a[CR_SHA384_LEN], b[CR_SHA384_LEN];
	uint32_t x = 1;
	double t, best = 1e9;
	const char *best_name = "";
	br_sha384_context bc;
	if (!d || n <= skew)
		return 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1664525u + 1013904223u;
		d[i] = (uint8_t)(x >> 24);
	}
	/* Stream 0: all n bytes; stream 1: the last n - skew (PCR0 and PCR2). */
	printf("SHA-384 of two streams of %zu MiB (stream 1 starts %zu bytes later), best of 3 each:\n", n >> 20, skew);
	t = 1e9;
	for (int r = 0; r < 3; r++) {
		double t0 = cpu_now();
		br_sha384_init(&bc);
		br_sha384_update(&bc, d, n);
		br_sha384_out(&bc, want0);
		br_sha384_init(&bc);
		br_sha384_update(&bc, d + skew, n - skew);
		br_sha384_out(&bc, want1);
		if (cpu_now() - t0 < t)
			t = cpu_now() - t0;
	}
	report("BearSSL (2 passes)", t, n, 1);
	{
		struct bulk_sha384 c;
		int ok = 1;
		const char *impl = "";
		t = 1e9;
		for (int r = 0; r < 3; r++) {
			double t0 = cpu_now();
			bulk_sha384_init(&c);
			impl = bulk_sha384_impl(&c);
			bulk_sha384_update(&c, d, n);
			ok &= bulk_sha384_out(&c, a) == 0;
			bulk_sha384_init(&c);
			bulk_sha384_update(&c, d + skew, n - skew);
			ok &= bulk_sha384_out(&c, b) == 0;
			if (cpu_now() - t0 < t)
				t = cpu_now() - t0;
		}
		ok &= !memcmp(a, want0, sizeof a) && !memcmp(b, want1, sizeof b);
		printf("  (bulk_sha384 is using %s)\n", impl);
		report("libcrypto (2 passes)", t, n, ok);
		best = t;
		best_name = "libcrypto";
	}
	for (int w = SHA384X2_AVX512; w <= SHA384X2_PORTABLE; w++) {
		struct sha384x2 c;
		char name[64];
		int ok = 1;
		if (sha384x2_init_impl(&c, (enum sha384x2_impl)w))
			continue;
		t = 1e9;
		for (int r = 0; r < 3; r++) {
			double t0 = cpu_now();
			sha384x2_init_impl(&c, (enum sha384x2_impl)w);
			sha384x2_update(&c, 1, d, skew);
			sha384x2_update(&c, 3, d + skew, n - skew);
			sha384x2_out(&c, 0, a);
			sha384x2_out(&c, 1, b);
			if (cpu_now() - t0 < t)
				t = cpu_now() - t0;
			ok &= !memcmp(a, want0, sizeof a) && !memcmp(b, want1, sizeof b);
		}
		snprintf(name, sizeof name, "own two-lane %s (1 pass)", c.impl);
		report(name, t, n, ok);
		if (ok && t < best) {
			best = t;
			best_name = c.impl;
		}
	}
	printf("fastest here: %s; the host tool packs with libcrypto (bulk_sha384.h), the init with BearSSL\n",
	       best_name);
	free(d);
	return 0;
}
