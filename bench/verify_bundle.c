/* bench/verify-bundle: time to verify one build's bundle with its
 * artifacts, in process (what `cleanroom verify` does after reading its
 * arguments): bundle and statement parsing, the attestation document and
 * its chain, the bindings, the DSSE signature and the artifacts' digests.
 * The goal is <= 20 ms.
 *
 *   verify_bundle BUNDLE ROOT.pem [ARTIFACT...]   (runs for 2 s) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "host-tool/verify/verify_inputs.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct verify_inputs *v = calloc(1, sizeof *v);
	struct bv_result *r = calloc(1, sizeof *r);
	struct cr_err e;
	uint8_t *buf;
	size_t len;
	double start, best = 1e9, total = 0;
	long n = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: verify_bundle BUNDLE ROOT.pem [ARTIFACT...]\n");
		return 2;
	}
	vin_init(v);
	if (cr_read_file(argv[1], REPORT_MAX_BUNDLE, &buf, &len, &e) || vin_set_root(v, argv[2], &e)) {
		fprintf(stderr, "verify_bundle: %s\n", e.msg);
		return 1;
	}
	v->pol.artifacts = (const char *const *)argv + 3;
	v->pol.nartifacts = (size_t)(argc - 3);
	start = now();
	while (now() - start < 2.0) {
		double t0 = now(), t1;
		int rc = bundle_verify(buf, len, &v->pol, r);
		t1 = now();
		if (rc) {
			char line[1024];
			fprintf(stderr, "verify_bundle: %s\n", bv_first_failure(r, line, sizeof line));
			return 1;
		}
		bv_result_free(r);
		best = t1 - t0 < best ? t1 - t0 : best;
		total += t1 - t0;
		n++;
	}
	printf("bench verify-bundle: %zu-byte bundle, %zu artifact(s), %ld runs\n", len, v->pol.nartifacts, n);
	printf("bench verify-bundle: %.2f ms mean, %.2f ms best (goal <= 20 ms)\n", total * 1e3 / (double)n,
	       best * 1e3);
	vin_free(v);
	free(v);
	free(r);
	free(buf);
	return 0;
}
