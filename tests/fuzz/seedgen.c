/* Seed corpora for the fuzz targets, made by the project's own encoders:
 *
 *   seedgen OUT [TESTVECTORS_DIR]
 *
 * writes OUT/<target>/<name> for the targets wire, recv, attest and nsm
 * and report (eif seeds are packed by `cleanroom eif`: seeds.sh), the test CA
 * OUT/ca (generated once, kept: the attest, nsm and report harnesses trust
 * its root through CR_FUZZ_CA), and OUT/files/out/app, the artifact the report
 * seed's statement names (for `cleanroom verify` in tests/fuzz/valgrind.sh). Real attestation documents are read from
 * TESTVECTORS_DIR at run time — never copied into the repository — and
 * skipped with a message when it is absent. Inputs that need a flag or
 * selector byte get it here (fuzz.h). */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "nsm/attest_doc.h"
#include "host-tool/eif/eif.h"
#include "tests/fuzz/fuzz.h"
#include "host-tool/run/nsm_ca.h"
#include "nsm/nsm_client.h"
#include "host-tool/run/nsm_model.h"
#include "nsm/nsm_proto.h"
#include "report/report.h"
#include "vsock/wire.h"

static const char *out_dir;
static unsigned count;

static void die(const char *what, const struct cr_err *e)
{
	fprintf(stderr, "seedgen: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(1);
}

static void mkdir_p(const char *p)
{
	if (mkdir(p, 0755) && errno != EEXIST)
		die(p, NULL);
}

/* OUT/target/name <- prefix (if >= 0) + data. */
static void seed(const char *target, const char *name, int prefix, const uint8_t *p, size_t n)
{
	char path[4096];
	struct cr_buf b;
	struct cr_err e;
	snprintf(path, sizeof path, "%s/%s", out_dir, target);
	mkdir_p(path);
	snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
	cr_buf_init(&b, 1u << 24);
	if (prefix >= 0 && cr_buf_putc(&b, (uint8_t)prefix, &e))
		die(path, &e);
	if (cr_buf_put(&b, p, n, &e) || cr_write_file_atomic(path, b.p, b.len, 0644, &e))
		die(path, &e);
	cr_buf_free(&b);
	count++;
}

/* ------------------------------------------------------------------ wire */

static void frame(struct cr_buf *s, const struct wire_msg *m)
{
	struct cr_buf body;
	struct cr_err e;
	uint8_t hdr[4];
	cr_buf_init(&body, WIRE_MAX_FRAME);
	if (wire_encode(m, &body, &e))
		die("wire_encode", &e);
	cr_put_be32(hdr, (uint32_t)body.len);
	if (cr_buf_put(s, hdr, 4, &e) || cr_buf_put(s, body.p, body.len, &e))
		die("frame", &e);
	cr_buf_free(&body);
}

static void wire_seed(const char *name, const struct wire_msg *m)
{
	struct cr_buf b;
	struct cr_err e;
	cr_buf_init(&b, WIRE_MAX_FRAME);
	if (wire_encode(m, &b, &e))
		die(name, &e);
	seed("wire", name, -1, b.p, b.len);
	cr_buf_free(&b);
}

static struct wire_msg entry(enum wire_stream s, enum wire_entry_type t, const char *path, uint64_t size, int exec,
			     const char *target)
{
	struct wire_msg m;
	wire_entry_msg(&m, s, t, path, size, exec, target);
	return m;
}

static struct wire_msg data_msg(const char *s)
{
	struct wire_msg m;
	memset(&m, 0, sizeof m);
	m.type = WIRE_DATA;
	m.u.data.p = (const uint8_t *)s;
	m.u.data.n = strlen(s);
	return m;
}

static struct wire_msg end_msg(enum wire_stream s, uint64_t files, uint64_t bytes)
{
	struct wire_msg m;
	memset(&m, 0, sizeof m);
	m.type = WIRE_END;
	m.u.end = (struct wire_end){ s, files, bytes };
	return m;
}

static void wire_seeds(void)
{
	static char *argv[] = { "make", "-j2", "all", NULL };
	static char *outputs[] = { "out/app", "out/app.sig", NULL };
	static const uint8_t bundle[] = "{\"payloadType\":\"x\"}";
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_REQUEST;
	for (m.u.request.argc = 0; argv[m.u.request.argc]; m.u.request.argc++)
		m.u.request.argv[m.u.request.argc] = argv[m.u.request.argc];
	m.u.request.outputs[0] = outputs[0];
	m.u.request.outputs[1] = outputs[1];
	m.u.request.noutputs = 2;
	m.u.request.sde = 1700000000;
	memcpy(m.u.request.nonce, "0123456789abcdef", 16);
	m.u.request.nonce_len = 16;
	m.u.request.limits = (struct wire_limits){ 600, 1024, 256, 64, 10000, 64, 0 };
	wire_seed("request", &m);

	m = entry(WIRE_SRC, WIRE_FILE, "src/main.c", 42, 0, NULL);
	wire_seed("entry-file", &m);
	m = entry(WIRE_DEPS, WIRE_DIR, "vendor/lib", 0, 0, NULL);
	wire_seed("entry-dir", &m);
	m = entry(WIRE_SRC, WIRE_SYMLINK, "link", 0, 0, "src/main.c");
	wire_seed("entry-symlink", &m);
	m = data_msg("int main(void) { return 0; }\n");
	wire_seed("data", &m);
	m.type = WIRE_LOG;
	wire_seed("log", &m);
	m = end_msg(WIRE_SRC, 3, 42);
	wire_seed("end", &m);

	memset(&m, 0, sizeof m);
	m.type = WIRE_ACCEPTED;
	m.u.accepted.stream = WIRE_DEPS;
	m.u.accepted.files = 7;
	m.u.accepted.bytes = 1234;
	memset(m.u.accepted.tree_sha1, 0xab, 20);
	memset(m.u.accepted.tree_sha256, 0xcd, 32);
	wire_seed("accepted", &m);

	memset(&m, 0, sizeof m);
	m.type = WIRE_ARTIFACT;
	snprintf(m.u.artifact.path, sizeof m.u.artifact.path, "out/app");
	m.u.artifact.size = 4096;
	m.u.artifact.exec = 1;
	wire_seed("artifact", &m);

	memset(&m, 0, sizeof m);
	m.type = WIRE_RESULT;
	m.u.result.status = WIRE_ST_OK;
	m.u.result.has_exit_code = 1;
	snprintf(m.u.result.detail, sizeof m.u.result.detail, "built");
	m.u.result.wall_ms = 1500;
	m.u.result.bundle = bundle;
	m.u.result.bundle_len = sizeof bundle - 1;
	wire_seed("result-ok", &m);
	m.u.result.bundle = NULL;
	m.u.result.has_exit_code = 0;
	m.u.result.has_signal = 1;
	m.u.result.signal = 9;
	m.u.result.status = WIRE_ST_TIMEOUT;
	wire_seed("result-timeout", &m);

	memset(&m, 0, sizeof m);
	m.type = WIRE_ERROR;
	m.u.error.code = WIRE_ERR_REFUSED;
	snprintf(m.u.error.message, sizeof m.u.error.message, "'../x': '.' and '..' components are refused");
	wire_seed("error", &m);
}

/* ------------------------------------------------------------------ recv */

static void recv_seeds(void)
{
	struct cr_buf s;
	struct wire_msg m;
	struct cr_err e;

	/* A small tree in both streams: dirs, files in two chunks, an
	 * executable, an empty file, symlinks inside. */
	cr_buf_init(&s, 1u << 20);
	frame(&s, (m = entry(WIRE_SRC, WIRE_DIR, "src", 0, 0, NULL), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_FILE, "src/main.c", 11, 0, NULL), &m));
	frame(&s, (m = data_msg("int main"), &m));
	frame(&s, (m = data_msg("();"), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_FILE, "build.sh", 10, 1, NULL), &m));
	frame(&s, (m = data_msg("#!/bin/sh\n"), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_FILE, "empty", 0, 0, NULL), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_SYMLINK, "src/link", 0, 0, "main.c"), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_SYMLINK, "up", 0, 0, "src/../build.sh"), &m));
	frame(&s, (m = end_msg(WIRE_SRC, 6, 21), &m));
	frame(&s, (m = entry(WIRE_DEPS, WIRE_DIR, "lib", 0, 0, NULL), &m));
	frame(&s, (m = entry(WIRE_DEPS, WIRE_DIR, "lib/sub", 0, 0, NULL), &m));
	frame(&s, (m = entry(WIRE_DEPS, WIRE_FILE, "lib/sub/a.h", 4, 0, NULL), &m));
	frame(&s, (m = data_msg("#if\n"), &m));
	frame(&s, (m = end_msg(WIRE_DEPS, 3, 4), &m));
	seed("recv", "tree", -1, s.p, s.len);

	/* Empty streams. */
	s.len = 0;
	frame(&s, (m = end_msg(WIRE_SRC, 0, 0), &m));
	frame(&s, (m = end_msg(WIRE_DEPS, 0, 0), &m));
	seed("recv", "empty", -1, s.p, s.len);

	/* Refusals: a symlink that climbs out, a path under a symlink, a link
	 * chain that resolves outside, a path sent twice, data beyond a file. */
	s.len = 0;
	frame(&s, (m = entry(WIRE_SRC, WIRE_SYMLINK, "out", 0, 0, "../deps"), &m));
	frame(&s, (m = end_msg(WIRE_SRC, 1, 0), &m));
	seed("recv", "symlink-out", -1, s.p, s.len);
	s.len = 0;
	frame(&s, (m = entry(WIRE_SRC, WIRE_SYMLINK, "d", 0, 0, "."), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_FILE, "d/x", 1, 0, NULL), &m));
	frame(&s, (m = data_msg("x"), &m));
	seed("recv", "under-symlink", -1, s.p, s.len);
	s.len = 0;
	frame(&s, (m = entry(WIRE_SRC, WIRE_DIR, "a", 0, 0, NULL), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_SYMLINK, "a/b", 0, 0, "."), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_SYMLINK, "c", 0, 0, "a/b/../x"), &m));
	frame(&s, (m = end_msg(WIRE_SRC, 3, 0), &m));
	seed("recv", "symlink-chain", -1, s.p, s.len);
	s.len = 0;
	frame(&s, (m = entry(WIRE_SRC, WIRE_FILE, "f", 1, 0, NULL), &m));
	frame(&s, (m = data_msg("ab"), &m));
	seed("recv", "too-much-data", -1, s.p, s.len);
	s.len = 0;
	frame(&s, (m = entry(WIRE_SRC, WIRE_DIR, "d", 0, 0, NULL), &m));
	frame(&s, (m = entry(WIRE_SRC, WIRE_FILE, "d", 0, 0, NULL), &m));
	seed("recv", "twice", -1, s.p, s.len);
	cr_buf_free(&s);
	(void)e;
}

/* ------------------------------------------------------------ attest, nsm */

static void attest_real(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	unsigned n = 0;
	if (!d) {
		printf("seedgen: no test vectors at %s: attest seeds from the test CA only\n", dir ? dir : "(none)");
		return;
	}
	while ((de = readdir(d))) {
		char path[4096], name[300];
		struct att_document doc;
		struct cr_err e;
		uint8_t *p;
		size_t len;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || cr_read_file(path, ATT_DOC_MAX, &p, &len, &e))
			continue;
		if (att_document_parse(p, len, &doc, &e) == 0) {
			snprintf(name, sizeof name, "aws-%s", de->d_name);
			seed("attest", name, FZ_ATT_EXPECT, p, len);
			snprintf(name, sizeof name, "aws-cli-%s", de->d_name);
			seed("attest", name, FZ_ATT_CLI, p, len);
			n++;
		}
		free(p);
	}
	closedir(d);
	printf("seedgen: %u real attestation documents from %s\n", n, dir);
}

static void nsm_pair(struct nsm_model *model, const char *name, const struct nsm_request *q)
{
	struct cr_buf req, resp;
	struct cr_err e;
	char fname[128];
	cr_buf_init(&req, NSM_REQUEST_MAX);
	cr_buf_init(&resp, NSM_RESPONSE_MAX);
	if (nsm_request_encode(q, &req, &e))
		die(name, &e);
	snprintf(fname, sizeof fname, "req-%s", name);
	seed("nsm", fname, FZ_NSM_REQUEST, req.p, req.len);
	nsm_model_handle(model, req.p, req.len, &resp, &e);
	snprintf(fname, sizeof fname, "resp-%s", name);
	seed("nsm", fname, (int)q->op, resp.p, resp.len);
	if (q->op == NSM_OP_ATTESTATION) {
		/* The document itself, for the attest target (test root). */
		struct nsm_response r;
		if (nsm_response_decode(resp.p, resp.len, q->op, &r, &e) || r.error != NSM_SUCCESS)
			die("attestation from the model", &e);
		snprintf(fname, sizeof fname, "model-%s", name);
		seed("attest", fname, FZ_ATT_TEST_ROOT | FZ_ATT_EXPECT, r.document.p, r.document.len);
		snprintf(fname, sizeof fname, "model-cli-%s", name);
		seed("attest", fname, FZ_ATT_TEST_ROOT | FZ_ATT_CLI, r.document.p, r.document.len);
	}
	cr_buf_free(&req);
	cr_buf_free(&resp);
}

static void nsm_seeds(const struct nsm_ca *ca)
{
	static const uint8_t extend[] = "measured";
	struct nsm_model model;
	struct eif_pcrs pcrs;
	struct nsm_request q;
	struct cr_err e;
	struct cr_buf b;

	memset(&pcrs, 0, sizeof pcrs);
	pcr_of_bytes("kernel", 6, pcrs.pcr0);
	nsm_model_init(&model, &pcrs, 16, (const uint8_t[RUN_BOOT_ID_LEN]){ 0 }, ca);

	memset(&q, 0, sizeof q);
	q.op = NSM_OP_DESCRIBE_NSM;
	nsm_pair(&model, "describe-nsm", &q);
	q.op = NSM_OP_GET_RANDOM;
	nsm_pair(&model, "get-random", &q);
	q.op = NSM_OP_DESCRIBE_PCR;
	q.index = 0;
	nsm_pair(&model, "describe-pcr", &q);
	q.index = 40;
	nsm_pair(&model, "describe-pcr-invalid-index", &q);
	q.op = NSM_OP_EXTEND_PCR;
	q.index = 16;
	q.data = (struct nsm_bytes){ extend, sizeof extend - 1 };
	nsm_pair(&model, "extend-pcr", &q);
	q.index = 1;
	nsm_pair(&model, "extend-pcr-locked", &q);
	q.op = NSM_OP_LOCK_PCR;
	q.index = 16;
	nsm_pair(&model, "lock-pcr", &q);
	q.op = NSM_OP_LOCK_PCRS;
	q.range = 20;
	nsm_pair(&model, "lock-pcrs", &q);
	q.op = NSM_OP_ATTESTATION;
	q.user_data = (struct nsm_opt_bytes){ 1, (const uint8_t *)"user data", 9 };
	q.nonce = (struct nsm_opt_bytes){ 1, (const uint8_t *)"0123456789abcdef", 16 };
	q.public_key = (struct nsm_opt_bytes){ 0, NULL, 0 };
	nsm_pair(&model, "attestation", &q);
	q.user_data = (struct nsm_opt_bytes){ 1, NULL, 0 };
	q.nonce = (struct nsm_opt_bytes){ 0, NULL, 0 };
	q.public_key = (struct nsm_opt_bytes){ 1, (const uint8_t *)"key", 3 };
	nsm_pair(&model, "attestation-empty", &q);

	/* An error answer, and a bare string request. */
	cr_buf_init(&b, 256);
	{
		struct nsm_response r;
		memset(&r, 0, sizeof r);
		r.error = NSM_INVALID_INDEX;
		if (nsm_response_encode(&r, &b, &e))
			die("error response", &e);
		seed("nsm", "resp-error", NSM_OP_DESCRIBE_PCR, b.p, b.len);
	}
	cr_buf_free(&b);
}

/* ---------------------------------------------------------------- report */

/* An NSM client whose device is the host model (as in a local run). */
static int model_transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len,
			   struct cr_err *e)
{
	struct cr_buf out;
	cr_buf_init(&out, NSM_RESPONSE_MAX);
	nsm_model_handle(ctx, req, req_len, &out, e);
	if (!out.len || out.len > *resp_len) {
		cr_buf_free(&out);
		return cr_fail(e, "model answer of %zu bytes", out.len);
	}
	memcpy(resp, out.p, out.len);
	*resp_len = out.len;
	cr_buf_free(&out);
	return 0;
}

/* Selector 4 of fuzz_report: two bytes of length, the attestation
 * document, then the report text. */
static void seed_with_document(const char *name, const struct cr_buf *doc, const struct cr_buf *text)
{
	struct cr_buf b;
	struct cr_err e;
	uint8_t n[2] = { (uint8_t)(doc->len >> 8), (uint8_t)doc->len };
	cr_buf_init(&b, 1u << 24);
	if (cr_buf_put(&b, n, 2, &e) || cr_buf_put(&b, doc->p, doc->len, &e) || cr_buf_put(&b, text->p, text->len, &e))
		die(name, &e);
	seed("report", name, 4, b.p, b.len);
	cr_buf_free(&b);
}

/* A bundle made by report_make() as the agent makes it (P-256), signed
 * through the model by the test CA: selector 0 (test root) and 1 (AWS
 * root); an older-style P-384 one (0); its statement (2); SPKIs of both
 * curves (3); the same report as a Sigstore bundle and an .intoto.jsonl
 * line with the attestation document apart (4). */
static void report_seeds(const struct nsm_ca *ca)
{
	static const char artifact[] = "hello from a fuzz seed\n";
	static const char *const argv[] = { "make", "-C", "src", "all" };
	struct nsm_model model;
	struct eif_pcrs pcrs;
	struct nsm_client *c = calloc(1, sizeof *c);
	struct report_statement *st = calloc(1, sizeof *st);
	struct report_bundle b;
	struct cr_buf out;
	struct cr_err e;
	struct ec_pub pub;
	uint8_t spki[REPORT_SPKI_MAX];
	size_t spki_len;
	char path[4096];

	if (!c || !st)
		die("out of memory", NULL);
	memset(&pcrs, 0, sizeof pcrs);
	pcr_of_bytes("kernel", 6, pcrs.pcr0);
	pcr_of_bytes("cmdline", 7, pcrs.pcr1);
	pcr_of_bytes("ramdisk", 7, pcrs.pcr2);
	nsm_model_init(&model, &pcrs, 16, (const uint8_t[RUN_BOOT_ID_LEN]){ 0 }, ca);
	nsm_client_init(c, model_transport, &model);

	st->nsubjects = 1;
	st->subjects[0].name = "out/app";
	{
		br_sha256_context h256;
		br_sha384_context h384;
		br_sha256_init(&h256);
		br_sha256_update(&h256, artifact, sizeof artifact - 1);
		br_sha256_out(&h256, st->subjects[0].sha256);
		br_sha384_init(&h384);
		br_sha384_update(&h384, artifact, sizeof artifact - 1);
		br_sha384_out(&h384, st->subjects[0].sha384);
	}
	for (st->argc = 0; st->argc < sizeof argv / sizeof argv[0]; st->argc++)
		st->argv[st->argc] = argv[st->argc];
	st->sde = 1700000000;
	memset(st->src_tree_sha1, 0x5a, sizeof st->src_tree_sha1);
	memset(st->src_tree_sha256, 0x5b, sizeof st->src_tree_sha256);
	st->src_files = 12;
	memset(st->deps_tree_sha256, 0x5c, sizeof st->deps_tree_sha256);
	st->deps_files = 3;
	st->limits = (struct wire_limits){ 600, 1024, 256, 64, 10000, 64, 0 };
	st->init_version = "fuzz-seed";
	memset(st->log_sha256, 0x6d, sizeof st->log_sha256);
	st->log_bytes = 4242;
	st->started_ms = 1700000000123;
	st->finished_ms = 1700000001500;
	memcpy(st->nonce, "0123456789abcdef", 16);
	st->nonce_len = 16;

	cr_buf_init(&out, REPORT_MAX_BUNDLE);
	if (report_make(c, st, &out, &e))
		die("report_make", &e);
	seed("report", "bundle-test-root", 0, out.p, out.len);
	seed("report", "bundle-aws-root", 1, out.p, out.len);
	if (report_bundle_parse(out.p, out.len, &b, &e))
		die("report_bundle_parse", &e);
	seed("report", "statement", 2, b.statement.p, b.statement.len);
	{
		struct cr_buf text;
		cr_buf_init(&text, REPORT_MAX_BUNDLE);
		if (report_sigstore_encode(&b, b.sigs[0].keyid, &text, &e))
			die("report_sigstore_encode", &e);
		seed_with_document("sigstore-test-root", &b.attestation, &text);
		if (report_dsse_jsonl_encode(&b, &text, &e))
			die("report_dsse_jsonl_encode", &e);
		seed_with_document("intoto-jsonl-test-root", &b.attestation, &text);
		cr_buf_free(&text);
	}
	report_bundle_free(&b);
	if (report_make_with(c, st, BR_EC_secp384r1, "", &out, &e))
		die("report_make_with P-384", &e);
	seed("report", "bundle-p384-test-root", 0, out.p, out.len);
	cr_buf_free(&out);
	pub = ca->leaf_key.pub;
	if (report_spki_encode(&pub, spki, &spki_len, &e))
		die("report_spki_encode", &e);
	seed("report", "spki-p384", 3, spki, spki_len);
	{
		static const uint8_t key_seed[32] = { 7 };
		struct ec_key k;
		if (ec_key_generate(&k, BR_EC_secp256r1, key_seed, sizeof key_seed, &e) ||
		    report_spki_encode(&k.pub, spki, &spki_len, &e))
			die("a P-256 SPKI", &e);
		seed("report", "spki-p256", 3, spki, spki_len);
	}

	snprintf(path, sizeof path, "%s/files", out_dir);
	mkdir_p(path);
	snprintf(path, sizeof path, "%s/files/out", out_dir);
	mkdir_p(path);
	snprintf(path, sizeof path, "%s/files/out/app", out_dir);
	if (cr_write_file_atomic(path, artifact, sizeof artifact - 1, 0644, &e))
		die(path, &e);
	free(c);
	free(st);
}

int main(int argc, char **argv)
{
	char ca_dir[4096], probe[4200];
	struct nsm_ca ca;
	struct cr_err e;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: seedgen OUT [TESTVECTORS_DIR]\n");
		return 2;
	}
	out_dir = argv[1];
	mkdir_p(out_dir);
	snprintf(ca_dir, sizeof ca_dir, "%s/ca", out_dir);
	snprintf(probe, sizeof probe, "%s/root.pem", ca_dir);
	if (access(probe, F_OK)) {
		mkdir_p(ca_dir);
		if (nsm_ca_generate(ca_dir, "cleanroom fuzz leaf", &e))
			die("test CA", &e);
	}
	if (nsm_ca_load(&ca, ca_dir, &e))
		die("test CA", &e);
	wire_seeds();
	recv_seeds();
	attest_real(argc > 2 ? argv[2] : NULL);
	nsm_seeds(&ca);
	report_seeds(&ca);
	nsm_ca_free(&ca);
	printf("seedgen: %u seeds in %s\n", count, out_dir);
	return 0;
}
