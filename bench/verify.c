/* bench/verify: time to verify real attestation documents in process (COSE
 * parse, payload decode, chain to the pinned AWS root at the document's own
 * time, ES384 signature, PCR0/1/2/8 compared with expected values), host
 * build. For each document: the mean and the fastest run; then the mean over
 * the documents. Goal: <= 20 ms per document.
 *
 *   verify [--seconds S] [--list FILE] DOC...
 *
 * --list writes one line per document for bench/verify_peer.mjs, so a peer
 * verifier checks the same documents at the same times with the same
 * expected PCRs: path, timestamp (ms) and PCR0, PCR1, PCR2, PCR8 in hex,
 * tab-separated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/digest.h"
#include "nsm/attest_verify.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Expect the document's own PCR0/1/2/8 (a peer is given the same). */
static void expect_own_pcrs(const struct att_doc *d, struct att_policy *pol, FILE *list, const char *path)
{
	static const unsigned want[] = { 0, 1, 2, 8 };
	if (list)
		fprintf(list, "%s\t%llu", path, (unsigned long long)d->timestamp_ms);
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++)
		for (size_t i = 0; i < d->n_pcrs; i++) {
			struct att_expect_pcr *x;
			char hex[CR_HEX_SIZE(64)];
			if (d->pcrs[i].index != want[w])
				continue;
			x = &pol->pcrs[pol->n_pcrs++];
			x->index = d->pcrs[i].index;
			x->len = d->pcrs[i].len;
			memcpy(x->value, d->pcrs[i].value, x->len);
			cr_hex(x->value, x->len, hex);
			if (list)
				fprintf(list, "\t%s", hex);
		}
	if (list)
		fprintf(list, "\n");
}

/* Verify one document repeatedly for budget seconds; 0 with its mean and best. */
static int bench_one(const char *path, double budget, FILE *list, double *mean, double *best)
{
	static struct att_verified out;
	struct att_policy pol;
	struct att_document parsed;
	struct cr_err e;
	uint8_t *doc;
	size_t len;
	double start, total = 0;
	long n = 0;
	memset(&pol, 0, sizeof pol);
	*best = 1e9;
	if (cr_read_file(path, ATT_DOC_MAX, &doc, &len, &e) || att_document_parse(doc, len, &parsed, &e)) {
		fprintf(stderr, "verify: %s: %s\n", path, e.msg);
		return -1;
	}
	expect_own_pcrs(&parsed.doc, &pol, list, path);
	if (att_verify(doc, len, &pol, &out, &e)) {
		fprintf(stderr, "verify: %s: %s\n", path, e.msg);
		free(doc);
		return -1;
	}
	start = now();
	while (now() - start < budget) {
		double t0 = now(), t;
		if (att_verify(doc, len, &pol, &out, &e))
			return -1;
		t = now() - t0;
		*best = t < *best ? t : *best;
		total += t;
		n++;
	}
	*mean = total / (double)n;
	printf("  %-42s %5zu bytes, %zu certificates: %6.2f ms mean, %6.2f ms best (%ld runs)\n",
	       strrchr(path, '/') ? strrchr(path, '/') + 1 : path, len, out.chain.n, *mean * 1e3, *best * 1e3, n);
	free(doc);
	return 0;
}

int main(int argc, char **argv)
{
	double budget = 1.0, sum = 0, sum_best = 0;
	const char *list_path = NULL;
	FILE *list = NULL;
	int first = 1, n = 0, rc = 0;
	while (first + 1 < argc && argv[first][0] == '-') {
		if (!strcmp(argv[first], "--seconds"))
			budget = atof(argv[first + 1]);
		else if (!strcmp(argv[first], "--list"))
			list_path = argv[first + 1];
		else
			break;
		first += 2;
	}
	if (first >= argc || budget <= 0) {
		fprintf(stderr, "usage: verify [--seconds S] [--list FILE] DOC...\n");
		return 2;
	}
	if (list_path && !(list = fopen(list_path, "w"))) {
		perror(list_path);
		return 1;
	}
	printf("ours (BearSSL, in process), %.1f s per document:\n", budget);
	for (int i = first; i < argc; i++) {
		double mean, best;
		if (bench_one(argv[i], budget, list, &mean, &best)) {
			rc = 1;
			continue;
		}
		sum += mean;
		sum_best += best;
		n++;
	}
	if (list)
		fclose(list);
	if (n)
		printf("ours: %.2f ms per document (mean of the means; of the bests %.2f ms), %d documents (goal <= 20 "
		       "ms)\n",
		       sum * 1e3 / n, sum_best * 1e3 / n, n);
	return rc;
}
