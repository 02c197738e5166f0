/* Agreement across builders (host-tool/verify/quorum.h) on bundles made
 * here: enclaves are NSM models with their own boot ids (own module ids),
 * keys are chosen per bundle, so the rules the QEMU suite cannot reach are
 * checked: the same key behind two module ids, builders joined through a
 * third bundle, a tie between build definitions, two digests both reaching
 * K, a missing subject, a second allowed image. */
#include <bearssl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-tool/run/nsm_ca.h"
#include "host-tool/run/nsm_model.h"
#include "host-tool/verify/quorum.h"
#include "nsm/nsm_client.h"
#include "report/report.h"
#include "tests/unit/check.h"

#define NMODELS 11

static char tmp[256];
static struct eif_pcrs pcrs;
static struct nsm_model models[NMODELS];
static struct cr_buf model_out;

static int transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len, struct cr_err *e)
{
	model_out.len = 0;
	nsm_model_handle(ctx, req, req_len, &model_out, e);
	if (model_out.len > *resp_len)
		return cr_fail(e, "response too large");
	memcpy(resp, model_out.p, model_out.len);
	*resp_len = model_out.len;
	return 0;
}

/* What differs between the bundles of these tests. */
struct spec {
	int model;       /* the enclave */
	int key;         /* the signing key's seed byte */
	const char *arg; /* the command's last argument */
	const char *content;
	int nsubjects; /* 1: bin/hello only; 2: also lib/x.so */
};

/* A bundle as the enclave makes it, but with a chosen key: statement,
 * attestation from the model binding key, statement digest and nonce, DSSE
 * signature. Written to tmp/NAME; returns its path. */
static const char *bundle(const char *name, struct spec sp)
{
	static char paths[32][300];
	static int n;
	char *path = paths[n++ % 32];
	struct report_statement *s = calloc(1, sizeof *s);
	struct nsm_client *c = calloc(1, sizeof *c);
	struct ec_key key;
	struct cr_buf st, out;
	uint8_t seed[48], spki[REPORT_SPKI_MAX], ud[48], doc[16384], sig[REPORT_SIG_MAX];
	size_t doc_len, sig_len, spki_len = 0;
	char keyid[REPORT_KEY_ID_LEN + 1];
	struct cr_err e;
	const char *argv[2] = { "make", sp.arg };
	int rc;
	s->nsubjects = (size_t)sp.nsubjects;
	s->subjects[0].name = "bin/hello";
	s->subjects[1].name = "lib/x.so";
	for (int i = 0; i < 2; i++) {
		br_sha256_context h2;
		br_sha384_context h3;
		br_sha256_init(&h2);
		br_sha256_update(&h2, sp.content, strlen(sp.content) - (size_t)i);
		br_sha256_out(&h2, s->subjects[i].sha256);
		br_sha384_init(&h3);
		br_sha384_update(&h3, sp.content, strlen(sp.content) - (size_t)i);
		br_sha384_out(&h3, s->subjects[i].sha384);
	}
	s->argv[0] = argv[0];
	s->argv[1] = argv[1];
	s->argc = 2;
	memset(s->src_tree_sha1, 0x11, 20);
	memset(s->src_tree_sha256, 0x22, 32);
	s->src_files = 3;
	memset(s->deps_tree_sha256, 0x33, 32);
	s->limits = (struct wire_limits){ 3600, 2048, 4096, 256, 100000, 512, 0 };
	memcpy(s->pcr[0], pcrs.pcr0, 48);
	memcpy(s->pcr[1], pcrs.pcr1, 48);
	memcpy(s->pcr[2], pcrs.pcr2, 48);
	s->init_version = "0.1.0";
	s->started_ms = 1763900000123;
	s->finished_ms = 1763900004567;
	s->nonce_len = 32;
	memset(s->nonce, sp.model * 16 + sp.key, 32);
	memset(seed, sp.key, sizeof seed);
	cr_buf_init(&st, REPORT_MAX_STATEMENT);
	cr_buf_init(&out, REPORT_MAX_BUNDLE);
	nsm_client_init(c, transport, &models[sp.model]);
	rc = ec_key_generate(&key, BR_EC_secp256r1, seed, sizeof seed, &e) ||
	     report_spki_encode(&key.pub, spki, &spki_len, &e) || report_statement_encode(s, &st, &e);
	if (!rc) {
		struct nsm_opt_bytes u = { 1, ud, sizeof ud }, no = { 1, s->nonce, 32 }, pk = { 1, spki, spki_len };
		br_sha384_context h;
		report_key_id(spki, spki_len, keyid);
		br_sha384_init(&h);
		br_sha384_update(&h, st.p, st.len);
		br_sha384_out(&h, ud);
		rc = nsm_attestation(c, &u, &no, &pk, doc, sizeof doc, &doc_len, &e) ||
		     report_dsse_sign(&key, st.p, st.len, sig, &sig_len, &e) ||
		     report_bundle_encode(st.p, st.len, sig, sig_len, keyid, doc, doc_len, &out, &e);
	}
	snprintf(path, sizeof paths[0], "%s/%s", tmp, name);
	if (rc || cr_write_file_atomic(path, out.p, out.len, 0644, &e))
		printf("# bundle %s: %s\n", name, e.msg);
	cr_buf_free(&st);
	cr_buf_free(&out);
	free(s);
	free(c);
	return path;
}

static struct bv_policy pol;
static struct bv_image other_image;

/* quorum_verify over the named bundles; the result in q (freed by the caller). */
static int run(struct quorum *q, unsigned k, const char *const *b, size_t n, const char *const *files, size_t nf)
{
	struct cr_err e;
	int rc = quorum_verify(q, k, b, n, files, nf, &pol, &e);
	if (rc)
		printf("# quorum_verify: %s\n", e.msg);
	return rc;
}

static void test_rules(void)
{
	struct spec base = { 1, 1, "all", "hello", 2 };
	struct spec s2 = base, s3 = base, same_key = base, same_mod = base, cmd_a = base, cmd_b = base, y1 = base,
		    y2 = base, one = base, one2 = base;
	const char *b1, *b2, *b3, *bk, *bm, *ca, *cb, *by1, *by2, *b1s, *b2s;
	struct quorum *q = calloc(1, sizeof *q);
	char line[1024];
	s2.model = 2, s2.key = 2;
	s3.model = 3, s3.key = 3;
	same_key.model = 4;             /* b1's key, another enclave */
	same_mod.key = 5;               /* b1's enclave, another key */
	cmd_a.model = 6, cmd_a.key = 6; /* another command, twice */
	cmd_a.arg = "other";
	cmd_b.model = 7, cmd_b.key = 7;
	cmd_b.arg = "other";
	y1.model = 8, y1.key = 8, y1.content = "yellow";
	y2.model = 9, y2.key = 9, y2.content = "yellow";
	one.model = 0, one.key = 10, one.nsubjects = 1;
	one2.model = 10, one2.key = 11, one2.nsubjects = 1;
	b1 = bundle("b1", base), b2 = bundle("b2", s2), b3 = bundle("b3", s3);
	bk = bundle("bk", same_key), bm = bundle("bm", same_mod);
	ca = bundle("cmd_a", cmd_a), cb = bundle("cmd_b", cmd_b);
	by1 = bundle("by1", y1), by2 = bundle("by2", y2), b1s = bundle("one", one);
	b2s = bundle("one2", one2);

	{
		const char *v[] = { b1, b2, b3 };
		T_OK(!run(q, 3, v, 3, NULL, 0) && q->ok && q->ncols == 3 && q->nrows == 2 && q->rows[0].agree == 3,
		     "three enclaves, three keys, the same build: 3 builders, every subject 3/3");
		quorum_free(q);
	}
	{
		const char *v[] = { b1, b2, bk };
		T_OK(!run(q, 2, v, 3, NULL, 0) && q->ncols == 2 && q->b[2].status == QB_DUPLICATE &&
			     q->b[2].dup_of == 0 && !q->b[2].same_bundle && strstr(q->b[2].detail, "same signing key"),
		     "the same key in another enclave is the same builder (%s)", q->b[2].detail);
		quorum_free(q);
	}
	{
		const char *v[] = { b1, b2, bm };
		T_OK(!run(q, 2, v, 3, NULL, 0) && q->ncols == 2 && q->b[2].status == QB_DUPLICATE &&
			     strstr(q->b[2].detail, "the same builder as bundle 1 (same attestation module id)"),
		     "another key in the same enclave is the same builder (%s)", q->b[2].detail);
		quorum_free(q);
	}
	{
		/* bk and bm share nothing; b1 shares bk's key and bm's module id */
		const char *v[] = { bk, bm, b1 };
		T_OK(!run(q, 1, v, 3, NULL, 0) && q->ncols == 1 && q->b[1].status == QB_DUPLICATE &&
			     q->b[2].status == QB_DUPLICATE && strstr(q->b[1].detail, "linked through another bundle"),
		     "builders joined through a third bundle are one builder (%s)", q->b[1].detail);
		quorum_free(q);
	}
	{
		const char *v[] = { b1, b2, b1 };
		T_OK(!run(q, 2, v, 3, NULL, 0) && q->ncols == 2 && q->b[2].same_bundle &&
			     strstr(q->b[2].detail, "the same signed statement as bundle 1"),
		     "the same bundle twice counts once, said so");
		quorum_free(q);
		T_OK(!run(q, 3, v, 3, NULL, 0) && !q->ok &&
			     strstr(quorum_failure(q, line, sizeof line), "only 2 distinct builders"),
		     "K above the distinct builders fails: %s", line);
		quorum_free(q);
	}
	{
		const char *v[] = { ca, b1, cb, b2 };
		T_OK(!run(q, 2, v, 4, NULL, 0) && q->ok && q->b[0].status == QB_BUILDER &&
			     q->b[1].status == QB_OTHER_COMMAND && q->b[3].status == QB_OTHER_COMMAND,
		     "a tie between two definitions: the one given first is the quorum's");
		quorum_free(q);
	}
	{
		const char *v[] = { ca, b1, b2, b3 };
		T_OK(!run(q, 3, v, 4, NULL, 0) && q->ok && q->b[0].status == QB_OTHER_COMMAND && q->ncols == 3 &&
			     strstr(q->b[0].detail,
				    "another command, SOURCE_DATE_EPOCH or set of outputs than bundle 2's"),
		     "the definition most builders share wins, whatever the order (%s)", q->b[0].detail);
		quorum_free(q);
	}
	{
		const char *v[] = { b1, b2, by1, by2 };
		T_OK(!run(q, 2, v, 4, NULL, 0) && !q->ok && q->rows[0].conflict && !q->rows[0].quorum,
		     "two digests each from K builders: a conflict, no quorum");
		quorum_free(q);
		T_OK(!run(q, 3, v, 4, NULL, 0) && !q->ok && !q->rows[0].conflict && q->rows[0].agree == 2,
		     "2 against 2 with K 3: no quorum, no conflict");
		quorum_free(q);
	}
	{
		const char *v[] = { b1, b2, b1s };
		T_OK(!run(q, 2, v, 3, NULL, 0) && q->ok && q->ncols == 2 && q->nrows == 2 &&
			     q->b[2].status == QB_OTHER_COMMAND && q->rows[1].agree == 2,
		     "a builder asked for fewer outputs is another build: not counted, the others agree (%s)",
		     q->b[2].detail);
		quorum_free(q);
	}
	{
		/* One builder asked for an extra output cannot fail the quorum of
		 * the others: its extra subject is no row no K builders report. */
		const char *v[] = { b1s, b2s, b1 };
		T_OK(!run(q, 2, v, 3, NULL, 0) && q->ok && q->ncols == 2 && q->nrows == 1 &&
			     q->b[2].status == QB_OTHER_COMMAND && q->rows[0].agree == 2,
		     "a builder asked for an extra output is another build, not a veto (%s)", q->b[2].detail);
		quorum_free(q);
	}
	{
		char art[300];
		const char *v[] = { b1, b2, by1 }, *f[] = { art };
		struct cr_err e;
		snprintf(art, sizeof art, "%s/out/bin/hello", tmp);
		cr_write_file_atomic(art, "yellow", 6, 0644, &e);
		T_OK(!run(q, 1, v, 3, f, 1) && q->ok && q->rows[0].agree == 1 &&
			     q->rows[0].cells[2].status == QC_AGREE && q->rows[0].cells[0].status == QC_DIFFER,
		     "a file given: its digest is the one to agree on, matched by path suffix");
		quorum_free(q);
	}
	{
		const char *v[] = { b1, b2 };
		uint8_t saved[REPORT_PCRS][CR_PCR_LEN];
		memcpy(saved, pol.pcr, sizeof saved);
		memset(pol.pcr, 0x77, sizeof pol.pcr);
		T_OK(!run(q, 1, v, 2, NULL, 0) && !q->ok && q->b[0].status == QB_OTHER_IMAGE,
		     "an image outside the allowed set: other image");
		quorum_free(q);
		memcpy(other_image.pcr, saved, sizeof saved);
		snprintf(other_image.desc, sizeof other_image.desc, "the second image");
		pol.more_images = &other_image;
		pol.nmore_images = 1;
		T_OK(!run(q, 2, v, 2, NULL, 0) && q->ok && q->b[0].r->image == 1,
		     "the same image as the second allowed one: builders");
		quorum_free(q);
		memcpy(pol.pcr, saved, sizeof saved);
		pol.more_images = NULL;
		pol.nmore_images = 0;
	}
	free(q);
}

int main(void)
{
	struct nsm_ca *ca = calloc(1, sizeof *ca);
	struct cr_err e;
	char dir[400];
	snprintf(tmp, sizeof tmp, "/tmp/test_quorum.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	for (int i = 0; i < 48; i++)
		pcrs.pcr0[i] = (uint8_t)i, pcrs.pcr1[i] = (uint8_t)(i + 1), pcrs.pcr2[i] = (uint8_t)(i + 2);
	snprintf(dir, sizeof dir, "%s/out", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/out/bin", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/ca", tmp);
	mkdir(dir, 0755);
	if (nsm_ca_open(ca, dir, tmp, "i-0-enc0", &e)) {
		T_OK(0, "a test CA (%s)", e.msg);
		return t_done();
	}
	for (int i = 0; i < NMODELS; i++) {
		uint8_t boot[RUN_BOOT_ID_LEN] = { (uint8_t)i };
		nsm_model_init(&models[i], &pcrs, 16, boot, ca);
	}
	cr_buf_init(&model_out, NSM_RESPONSE_MAX);
	memset(&pol, 0, sizeof pol);
	pol.root_der = ca->bundle[0].p;
	pol.root_len = ca->bundle[0].len;
	pol.has_pcrs = 1;
	memcpy(pol.pcr[0], pcrs.pcr0, 48);
	memcpy(pol.pcr[1], pcrs.pcr1, 48);
	memcpy(pol.pcr[2], pcrs.pcr2, 48);
	test_rules();
	cr_buf_free(&model_out);
	nsm_ca_free(ca);
	free(ca);
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
		if (system(cmd))
			return 1;
	}
	return t_done();
}
