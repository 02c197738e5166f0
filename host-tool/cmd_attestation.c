/* cleanroom attestation: show and verify NSM attestation documents. */
#include <bearssl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "nsm/attest_verify.h"
#include "host-tool/commands.h"
#include "base/json.h"
#include "base/pem.h"
#include "base/term.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: cleanroom attestation show DOC [--json]\n"
		     "       cleanroom attestation verify DOC [--root PEM] [--at TIME] [--pcr N=HEX]...\n"
		     "                 [--nonce HEX] [--user-data HEX] [--public-key HEX] [--json]\n"
		     "\n"
		     "An attestation document is what the Nitro Secure Module (NSM) of an enclave signs on\n"
		     "request: the enclave's PCRs, optional nonce/user_data/public_key, and a certificate\n"
		     "chain up to the AWS Nitro Enclaves root. DOC is the raw CBOR (COSE_Sign1) file; for a\n"
		     "base64 document run `base64 -d` first.\n"
		     "\n"
		     "show     print every field: module_id, time, PCRs in hex, optional fields, and each\n"
		     "         certificate's subject, validity, CA flags and key usage. Checks nothing\n"
		     "         beyond the structure.\n"
		     "verify   check the document and print what it proves. In order:\n"
		     "           cose       COSE_Sign1 with protected header exactly {1: -35} (ES384) and an\n"
		     "                      empty unprotected header\n"
		     "           payload    required fields and types, 1-32 PCRs of 32/48/64 bytes\n"
		     "           chain      cabundle[0] is the trusted root; leaf -> cabundle -> root valid at\n"
		     "                      the verification time, CA flags, keyUsage and pathLen enforced\n"
		     "           signature  ECDSA P-384 by the leaf key over the COSE Sig_structure\n"
		     "           pcr N, nonce, user_data, public_key   the values you ask for\n"
		     "\n"
		     "options:\n"
		     "  --root PEM        trust this root certificate instead of the compiled-in AWS Nitro\n"
		     "                    Enclaves root G1 (SHA-256 641a0321...bb5b); e.g. the test CA of a\n"
		     "                    local enclave run\n"
		     "  --at TIME         verification time: Unix seconds or RFC 3339 (2024-08-07T07:00:00Z).\n"
		     "                    Default: the document's own timestamp, because the leaf\n"
		     "                    certificate lives only ~3 hours. To insist on a fresh document,\n"
		     "                    pass the current time: --at $(date +%%s)\n"
		     "  --pcr N=HEX       require PCR N (0-31) to equal HEX (32, 48 or 64 bytes); repeatable\n"
		     "  --nonce HEX       require this nonce (an empty HEX requires an empty one)\n"
		     "  --user-data HEX   require this user_data\n"
		     "  --public-key HEX  require this public_key\n"
		     "  --json            machine-readable output on stdout\n"
		     "  -h, --help        this text\n"
		     "\n"
		     "Exit status: 0 everything holds (verify) or the document was shown, 1 a check failed\n"
		     "or DOC is unreadable or malformed (one line on stderr names the check, e.g.\n"
		     "'chain: leaf (CN=...) expired at ...' or 'pcr 0: mismatch (...)'), 2 usage error.\n"
		     "\n"
		     "examples:\n"
		     "  cleanroom attestation show doc.cbor\n"
		     "  cleanroom attestation verify doc.cbor --pcr 0=5fec1b73...e6 --nonce 0011...\n"
		     "  cleanroom attestation verify local.cbor --root test-ca.pem --at 1723012689\n");
}

/* ------------------------------------------------------------------ output */

static void cert_summary(const struct x509_cert *c, char *out, size_t cap)
{
	char ku[160] = "none";
	if (c->has_key_usage)
		x509_key_usage_text(c->key_usage, ku, sizeof ku);
	if (c->has_basic_constraints && c->is_ca && c->path_len >= 0)
		snprintf(out, cap, "CA (pathLen %d); keyUsage %s", c->path_len, ku);
	else if (c->has_basic_constraints && c->is_ca)
		snprintf(out, cap, "CA; keyUsage %s", ku);
	else
		snprintf(out, cap, "not a CA; keyUsage %s", ku);
}

static void print_cert_text(const char *label, const uint8_t *der, size_t len)
{
	struct x509_cert c;
	struct cr_err e;
	char nb[32], na[32], what[256];
	if (x509_cert_parse(der, len, &c, &e)) {
		cr_tprintf(stdout, "%-12s (%zu bytes, unparseable: %s)\n", label, len, e.msg);
		return;
	}
	cr_time_format(c.not_before, nb);
	cr_time_format(c.not_after, na);
	cert_summary(&c, what, sizeof what);
	cr_tprintf(stdout, "%-12s %s\n", label, cr_term_arg(c.subject_text));
	cr_tprintf(stdout, "%-12s valid %s to %s; %s %s; %s\n", "", nb, na,
		   c.key_is_ec ? ec_curve_name(c.key.curve) : "non-EC key", cr_term_arg(c.sig_alg), what);
}

static void print_opt_text(const char *name, const struct att_opt *o)
{
	char d[24], *hex;
	if (o->state != ATT_SET || !o->len) {
		cr_tprintf(stdout, "%-12s %s\n", name, att_opt_describe(o, d));
		return;
	}
	hex = malloc(2 * o->len + 1);
	if (!hex)
		return;
	cr_hex(o->p, o->len, hex);
	cr_tprintf(stdout, "%-12s %s (%s)\n", name, hex, att_opt_describe(o, d));
	free(hex);
}

static void print_doc_text(const struct att_document *d, size_t size)
{
	const struct att_doc *p = &d->doc;
	char when[32], hex[129], label[24];
	cr_time_format((int64_t)(p->timestamp_ms / 1000), when);
	cr_tprintf(stdout, "document     %zu bytes, COSE_Sign1 %s, alg %lld (%s), payload map %s\n", size,
		   d->cose.tagged ? "tagged 18" : "untagged", (long long)d->cose.alg, cose_alg_name(d->cose.alg),
		   p->indefinite ? "indefinite-length" : "definite-length");
	cr_tprintf(stdout, "module_id    %s\n", cr_term_arg(p->module_id));
	cr_tprintf(stdout, "digest       %s\n", cr_term_arg(p->digest));
	when[strlen(when) - 1] = 0; /* the 'Z', to insert milliseconds */
	cr_tprintf(stdout, "timestamp    %llu (%s.%03lluZ)\n", (unsigned long long)p->timestamp_ms, when,
		   (unsigned long long)(p->timestamp_ms % 1000));
	cr_tprintf(stdout, "pcrs         %zu\n", p->n_pcrs);
	for (size_t i = 0; i < p->n_pcrs; i++) {
		cr_hex(p->pcrs[i].value, p->pcrs[i].len, hex);
		cr_tprintf(stdout, "  %-10u %s\n", p->pcrs[i].index, hex);
	}
	print_cert_text("certificate", p->certificate.p, p->certificate.len);
	for (size_t i = 0; i < p->n_cabundle; i++) {
		snprintf(label, sizeof label, "cabundle[%zu]", i);
		print_cert_text(label, p->cabundle[i].p, p->cabundle[i].len);
	}
	print_opt_text("public_key", &p->public_key);
	print_opt_text("user_data", &p->user_data);
	print_opt_text("nonce", &p->nonce);
}

static void json_cert(struct json_w *w, const uint8_t *der, size_t len)
{
	struct x509_cert c;
	struct cr_err e;
	char t[32], ku[160];
	br_sha256_context h;
	uint8_t fp[32];
	jw_obj_begin(w);
	br_sha256_init(&h);
	br_sha256_update(&h, der, len);
	br_sha256_out(&h, fp);
	jw_khex(w, "sha256", fp, sizeof fp);
	jw_ku64(w, "size", len);
	if (x509_cert_parse(der, len, &c, &e)) {
		jw_kstr(w, "error", e.msg);
		jw_obj_end(w);
		return;
	}
	jw_kstr(w, "subject", c.subject_text);
	jw_kstr(w, "issuer", c.issuer_text);
	cr_time_format(c.not_before, t);
	jw_kstr(w, "not_before", t);
	cr_time_format(c.not_after, t);
	jw_kstr(w, "not_after", t);
	jw_kstr(w, "signature_algorithm", c.sig_alg);
	jw_kstr(w, "key", c.key_is_ec ? ec_curve_name(c.key.curve) : "unsupported");
	jw_kbool(w, "ca", c.has_basic_constraints && c.is_ca);
	jw_key(w, "path_len");
	if (c.path_len >= 0)
		jw_u64(w, (uint64_t)c.path_len);
	else
		jw_null(w);
	jw_key(w, "key_usage");
	if (c.has_key_usage) {
		x509_key_usage_text(c.key_usage, ku, sizeof ku);
		jw_str(w, ku);
	} else {
		jw_null(w);
	}
	jw_obj_end(w);
}

/* Absent fields are left out, null is null, set is hex ("" when empty). */
static void json_opt(struct json_w *w, const char *key, const struct att_opt *o)
{
	if (o->state == ATT_ABSENT)
		return;
	if (o->state == ATT_NULL) {
		jw_key(w, key);
		jw_null(w);
		return;
	}
	jw_khex(w, key, o->p, o->len);
}

/* The document's fields, inside an open object. */
static void json_doc_fields(struct json_w *w, const struct att_document *d, size_t size)
{
	const struct att_doc *p = &d->doc;
	char when[32], idx[8];
	jw_ku64(w, "size", size);
	jw_kbool(w, "tagged", d->cose.tagged);
	jw_key(w, "alg");
	jw_i64(w, d->cose.alg);
	jw_kstr(w, "payload_map", p->indefinite ? "indefinite" : "definite");
	jw_kstr(w, "module_id", p->module_id);
	jw_kstr(w, "digest", p->digest);
	jw_ku64(w, "timestamp", p->timestamp_ms);
	cr_time_format((int64_t)(p->timestamp_ms / 1000), when);
	jw_kstr(w, "time", when);
	jw_key(w, "pcrs");
	jw_obj_begin(w);
	for (size_t i = 0; i < p->n_pcrs; i++) {
		snprintf(idx, sizeof idx, "%u", p->pcrs[i].index);
		jw_khex(w, idx, p->pcrs[i].value, p->pcrs[i].len);
	}
	jw_obj_end(w);
	jw_key(w, "certificate");
	json_cert(w, p->certificate.p, p->certificate.len);
	jw_key(w, "cabundle");
	jw_arr_begin(w);
	for (size_t i = 0; i < p->n_cabundle; i++)
		json_cert(w, p->cabundle[i].p, p->cabundle[i].len);
	jw_arr_end(w);
	json_opt(w, "public_key", &p->public_key);
	json_opt(w, "user_data", &p->user_data);
	json_opt(w, "nonce", &p->nonce);
}

/* ------------------------------------------------------------------- show */

static int show(const char *path, int json)
{
	struct att_document d;
	struct cr_err e;
	uint8_t *doc;
	size_t len;
	int rc = 1;
	if (cr_read_input("DOC", path, ATT_DOC_MAX, &doc, &len, &e)) {
		cr_tprintf(stderr, "cleanroom attestation show: %s\n", e.msg);
		return 1;
	}
	if (att_document_parse(doc, len, &d, &e)) {
		cr_tprintf(stderr, "cleanroom attestation show: %s: %s\n", path, e.msg);
	} else if (!json) {
		print_doc_text(&d, len);
		rc = 0;
	} else {
		struct cr_buf b;
		struct json_w w;
		cr_buf_init(&b, 1u << 20);
		jw_init(&w, &b, 1);
		jw_obj_begin(&w);
		json_doc_fields(&w, &d, len);
		jw_obj_end(&w);
		if (jw_print(&w, &e))
			cr_tprintf(stderr, "cleanroom attestation show: %s\n", e.msg);
		else
			rc = 0;
		cr_buf_free(&b);
	}
	free(doc);
	return rc;
}

/* ----------------------------------------------------------------- verify */

struct verify_args {
	struct att_policy pol;
	uint8_t nonce[ATT_FIELD_MAX], user_data[ATT_FIELD_MAX], public_key[ATT_FIELD_MAX];
	struct pem_list root;
	int have_root;
	const char *root_path;
};

static int parse_pcr(const char *arg, struct att_policy *pol)
{
	const char *eq = strchr(arg, '=');
	char num[8];
	uint64_t n;
	struct att_expect_pcr *p = &pol->pcrs[pol->n_pcrs];
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof num) {
		cr_tprintf(stderr, "cleanroom attestation verify: --pcr wants N=HEX, got '%s'\n", arg);
		return -1;
	}
	memcpy(num, arg, (size_t)(eq - arg));
	num[eq - arg] = 0;
	if (cr_parse_u64(num, ATT_MAX_PCRS - 1, &n)) {
		cr_tprintf(stderr, "cleanroom attestation verify: --pcr %s: N must be 0..%d\n", arg, ATT_MAX_PCRS - 1);
		return -1;
	}
	for (size_t i = 0; i < pol->n_pcrs; i++)
		if (pol->pcrs[i].index == n) {
			cr_tprintf(stderr, "cleanroom attestation verify: --pcr %llu given twice\n",
				   (unsigned long long)n);
			return -1;
		}
	if (cr_unhex_var(eq + 1, p->value, sizeof p->value, &p->len) ||
	    (p->len != 32 && p->len != 48 && p->len != 64)) {
		cr_tprintf(stderr, "cleanroom attestation verify: --pcr %llu: want 64, 96 or 128 hex digits\n",
			   (unsigned long long)n);
		return -1;
	}
	p->index = (unsigned)n;
	pol->n_pcrs++;
	return 0;
}

static int parse_expect(const char *opt, const char *arg, uint8_t *buf, struct att_expect_bytes *x)
{
	if (cr_unhex_var(arg, buf, ATT_FIELD_MAX, &x->len)) {
		cr_tprintf(stderr,
			   "cleanroom attestation verify: %s: want an even number of hex digits, at most %d bytes\n",
			   opt, ATT_FIELD_MAX);
		return -1;
	}
	x->set = 1;
	x->p = buf;
	return 0;
}

static int load_root(struct verify_args *a, struct cr_err *e)
{
	const struct pem_object *o;
	if (pem_read_cert(a->root_path, &a->root, &o, e))
		return -1;
	a->have_root = 1;
	a->pol.root_der = o->der;
	a->pol.root_len = o->len;
	return 0;
}

static void print_verified_text(const struct verify_args *a, const struct att_verified *v, size_t size)
{
	char when[32];
	const struct x509_cert *root = &v->chain.cert[v->chain.n - 1];
	cr_tprintf(stdout, "attestation  OK: every check passed\n");
	cr_time_format(v->at, when);
	cr_tprintf(stdout, "verified at  %s (%s)\n", when, a->pol.has_time ? "--at" : "the document's timestamp");
	cr_tprintf(stdout, "trusted root %s (%s)\n", cr_term_arg(root->subject_text),
		   a->pol.root_der ? cr_term_arg(a->root_path) : "compiled-in AWS Nitro Enclaves root G1");
	cr_tprintf(stdout, "checked      %zu PCR%s%s%s%s\n", a->pol.n_pcrs, a->pol.n_pcrs == 1 ? "" : "s",
		   a->pol.nonce.set ? ", nonce" : "", a->pol.user_data.set ? ", user_data" : "",
		   a->pol.public_key.set ? ", public_key" : "");
	print_doc_text(&v->d, size);
}

static int verify_json(const struct verify_args *a, const struct att_verified *v, size_t size, int ok,
		       const struct cr_err *why)
{
	struct cr_buf b;
	struct json_w w;
	struct cr_err e;
	char when[32];
	int rc;
	cr_buf_init(&b, 1u << 20);
	jw_init(&w, &b, 1);
	jw_obj_begin(&w);
	jw_kbool(&w, "ok", ok);
	if (!ok) {
		jw_kstr(&w, "check", v->check);
		jw_kstr(&w, "error", why->msg);
	}
	if (v->at_set) {
		cr_time_format(v->at, when);
		jw_kstr(&w, "verified_at", when);
	}
	jw_kstr(&w, "root", a->pol.root_der ? a->root_path : "aws-nitro-enclaves-root-g1");
	if (v->d.doc.module_id[0]) {
		jw_key(&w, "document");
		jw_obj_begin(&w);
		json_doc_fields(&w, &v->d, size);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	rc = jw_print(&w, &e);
	if (rc)
		cr_tprintf(stderr, "cleanroom attestation verify: %s\n", e.msg);
	cr_buf_free(&b);
	return rc;
}

static int verify(const char *path, int json, struct verify_args *a)
{
	static struct att_verified v;
	struct cr_err e;
	uint8_t *doc;
	size_t len;
	int rc = 1;
	if (a->root_path && load_root(a, &e)) {
		cr_tprintf(stderr, "cleanroom attestation verify: --root: %s\n", e.msg);
		return 1;
	}
	if (cr_read_input("DOC", path, ATT_DOC_MAX, &doc, &len, &e)) {
		cr_tprintf(stderr, "cleanroom attestation verify: %s\n", e.msg);
		return 1;
	}
	if (att_verify(doc, len, &a->pol, &v, &e) == 0) {
		rc = 0;
		if (json)
			rc = verify_json(a, &v, len, 1, NULL) ? 1 : 0;
		else
			print_verified_text(a, &v, len);
	} else {
		if (json)
			verify_json(a, &v, len, 0, &e);
		cr_tprintf(stderr, "cleanroom attestation verify: %s\n", e.msg);
	}
	free(doc);
	return rc;
}

int cmd_attestation(int argc, char **argv)
{
	enum { O_ROOT = 256, O_AT, O_PCR, O_NONCE, O_USER_DATA, O_PUBLIC_KEY, O_JSON };
	static const struct option longopts[] = { { "root", required_argument, NULL, O_ROOT },
						  { "at", required_argument, NULL, O_AT },
						  { "pcr", required_argument, NULL, O_PCR },
						  { "nonce", required_argument, NULL, O_NONCE },
						  { "user-data", required_argument, NULL, O_USER_DATA },
						  { "public-key", required_argument, NULL, O_PUBLIC_KEY },
						  { "json", no_argument, NULL, O_JSON },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	static struct verify_args a;
	const char *sub;
	int c, json = 0, is_verify, rc;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
		usage(stdout);
		return 0;
	}
	is_verify = !strcmp(sub, "verify");
	if (!is_verify && strcmp(sub, "show")) {
		cr_tprintf(stderr, "cleanroom attestation: unknown subcommand '%s' (show or verify; see --help)\n",
			   sub);
		return 2;
	}
	memset(&a, 0, sizeof a);
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		int bad = 0;
		if (!is_verify && c != O_JSON && c != 'h' && c != '?') {
			cr_tprintf(stderr, "cleanroom attestation show: only --json applies (see --help)\n");
			return 2;
		}
		switch (c) {
		case O_ROOT: a.root_path = optarg; break;
		case O_AT:
			if (cr_parse_time(optarg, &a.pol.at)) {
				cr_tprintf(stderr,
					   "cleanroom attestation verify: --at '%s': want Unix seconds or RFC 3339\n",
					   optarg);
				bad = 1;
			}
			a.pol.has_time = 1;
			break;
		case O_PCR: bad = parse_pcr(optarg, &a.pol); break;
		case O_NONCE: bad = parse_expect("--nonce", optarg, a.nonce, &a.pol.nonce); break;
		case O_USER_DATA: bad = parse_expect("--user-data", optarg, a.user_data, &a.pol.user_data); break;
		case O_PUBLIC_KEY: bad = parse_expect("--public-key", optarg, a.public_key, &a.pol.public_key); break;
		case O_JSON: json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad)
			return 2;
	}
	if (argc - optind != 1) {
		cr_tprintf(stderr, "cleanroom attestation %s: expected one document file (see --help)\n", sub);
		return 2;
	}
	if (!is_verify)
		return show(argv[optind], json);
	rc = verify(argv[optind], json, &a);
	if (a.have_root)
		pem_free(&a.root);
	return rc;
}
