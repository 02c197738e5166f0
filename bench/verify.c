/* bench/verify: time to verify one real attestation document (COSE parse,
 * payload decode, chain to the pinned AWS root, ES384 signature), host
 * build. Prints the mean and the fastest run; the goal is <= 20 ms.
 *
 *   verify DOC [SECONDS]     (default: run for 2 s) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nsm/attest_verify.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static struct att_verified out;
	struct att_policy pol = { 0 };
	struct cr_err e;
	uint8_t *doc;
	size_t len;
	double budget = argc > 2 ? atof(argv[2]) : 2.0, start, best = 1e9, parse_best = 1e9, total = 0;
	long n = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: verify DOC [SECONDS]\n");
		return 2;
	}
	if (cr_read_file(argv[1], ATT_DOC_MAX, &doc, &len, &e)) {
		fprintf(stderr, "verify: %s\n", e.msg);
		return 1;
	}
	if (att_verify(doc, len, &pol, &out, &e)) {
		fprintf(stderr, "verify: %s\n", e.msg);
		return 1;
	}
	start = now();
	while (now() - start < budget) {
		struct att_document d;
		double t0 = now(), t1, t2;
		if (att_document_parse(doc, len, &d, &e))
			return 1;
		t1 = now();
		if (att_verify(doc, len, &pol, &out, &e))
			return 1;
		t2 = now();
		parse_best = t1 - t0 < parse_best ? t1 - t0 : parse_best;
		best = t2 - t1 < best ? t2 - t1 : best;
		total += t2 - t1;
		n++;
	}
	printf("bench verify: %zu-byte document, %zu certificates, %ld runs\n", len, out.chain.n, n);
	printf("bench verify: full verification %.2f ms mean, %.2f ms best (goal <= 20 ms); parsing alone %.3f ms\n",
	       total * 1e3 / (double)n, best * 1e3, parse_best * 1e3);
	free(doc);
	return 0;
}
