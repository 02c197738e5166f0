/* cleanroom verify: check a build's bundle and artifacts offline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-tool/verify/bundle_verify.h"
#include "host-tool/commands.h"
#include "base/json.h"
#include "base/term.h"
#include "host-tool/verify/quorum.h"
#include "host-tool/verify/verify_inputs.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cleanroom verify BUNDLE [ARTIFACT...] [--eif FILE | --pcr0 HEX --pcr1 HEX --pcr2 HEX]\n"
		"                        [--git-commit REV [--repo DIR]] [--source DIR] [--root PEM]\n"
		"                        [--at TIME] [--nonce HEX] [--attestation FILE]\n"
		"                        [--key-out FILE] [--json]\n"
		"       cleanroom verify --quorum K [options] BUNDLE... [-- ARTIFACT...]\n"
		"\n"
		"Check the signed report of a build offline, and the artifacts against it. BUNDLE is\n"
		"any of the forms `cleanroom build` writes beside the artifacts: cleanroom-bundle.json\n"
		"(the envelope with its attestation document), cleanroom.sigstore.json (a Sigstore\n"
		"bundle v0.3) or cleanroom.intoto.jsonl (the bare DSSE envelope); the last two need\n"
		"--attestation cleanroom.attestation.cbor. The checks are the same for every form.\n"
		"Every check is listed with pass, FAIL or skip; the exit status is 0 only when none\n"
		"failed:\n"
		"\n"
		"  bundle             JSON shape, media type, DSSE payload type, base64 fields\n"
		"  statement          in-toto Statement v1 with a SLSA Provenance v1 predicate\n"
		"  attestation        the NSM attestation document: COSE_Sign1 ES384, payload, the\n"
		"                     certificate chain up to the root at the document's own time\n"
		"  binding.public_key the document binds a P-256 key (older reports: P-384) as a DER\n"
		"                     SubjectPublicKeyInfo\n"
		"  signature          the DSSE envelope is signed by that key: ECDSA P-256/SHA-256\n"
		"                     (older reports: P-384/SHA-384; the key's curve decides)\n"
		"  binding.user_data  the document's user_data is SHA-384 of the statement\n"
		"  binding.nonce      the document's nonce is the statement's invocationId\n"
		"  binding.pcrs       the statement's PCR0/1/2 are the document's\n"
		"  pcrs               the document's PCR0/1/2 are the expected image's (skip without\n"
		"                     --eif or --pcrN: any enclave image would pass)\n"
		"  nonce              the document's nonce is --nonce (skip without it)\n"
		"  artifact PATH      SHA-256 and SHA-384 of the file = the subject whose name is\n"
		"                     PATH or a suffix of PATH after a '/'\n"
		"  source             the statement's source tree = --git-commit's or --source's\n"
		"\n"
		"With --quorum K (1 to %d), each BUNDLE (1 to %d of them: every argument before\n"
		"`--`) is one builder's bundle of the same build, verified in full as above; every\n"
		"argument after the first `--` is an ARTIFACT. Then the bundles must agree: the same\n"
		"source and dependency trees, command and SOURCE_DATE_EPOCH (the ones the most\n"
		"builders share; the limits, per enclave, are not compared), an image of the allowed\n"
		"set (--eif and --pcr0/1/2 sets may be repeated; at least one image is required),\n"
		"distinct builders (distinct attestation module ids and distinct signing keys: the\n"
		"same enclave twice, or the same bundle twice, counts once), and for every artifact\n"
		"(each ARTIFACT file, or without files every subject) the same SHA-256 and SHA-384\n"
		"from at least K builders. Each BUNDLE is then a cleanroom-bundle.json. Prints an artifact x builder "
		"table and names every\n"
		"dissenter with its reason. Exit 0 only when every artifact has its quorum (a\n"
		"dissenter alone does not fail it); 1 when not, also when fewer than K builders.\n"
		"\n"
		"options:\n"
		"  --quorum K         require K agreeing builders per artifact (see above)\n"
		"  --eif FILE         expect the image FILE (its PCR0/1/2 are computed now)\n"
		"  --pcr0/--pcr1/--pcr2 HEX  expect these PCRs (96 hex digits each; all three); with\n"
		"                     --quorum, the k-th --pcr0, --pcr1 and --pcr2 form set k\n"
		"  --git-commit REV   expect REV's tree (git rev-parse REV^{tree}; SHA-1 or SHA-256\n"
		"                     repositories) as the source tree\n"
		"  --repo DIR         the git repository for --git-commit (default: .)\n"
		"  --source DIR       expect DIR's tree id, computed as `cleanroom build` sends it\n"
		"                     ('.git' skipped)\n"
		"  --root PEM         trust this root certificate instead of the compiled-in AWS Nitro\n"
		"                     Enclaves root G1; for a local run: its nsm_root\n"
		"  --at TIME          verify the chain at TIME (Unix seconds or RFC 3339) instead of\n"
		"                     the document's timestamp\n"
		"  --nonce HEX        expect this nonce (as `cleanroom build --json` prints it)\n"
		"  --attestation FILE the NSM attestation document (COSE_Sign1 bytes) of a Sigstore\n"
		"                     bundle or an .intoto.jsonl: cleanroom.attestation.cbor\n"
		"  --key-out FILE     once verified, write the attested public key there as PEM\n"
		"                     (\"PUBLIC KEY\"), for other verifiers (securesystemslib,\n"
		"                     sigstore-js); nothing is written when a check fails\n"
		"  --allow-unsigned-attestation  accept an UNSIGNED attestation document (alg -1,\n"
		"                     zero signature and certificate: QEMU's emulated NSM, `cleanroom\n"
		"                     run --machine nitro-enclave`); every other check is made, and\n"
		"                     attestation-chain and attestation-signature are listed as\n"
		"                     \"not possible\" (JSON: \"not_possible\": true). Such a report\n"
		"                     proves nothing about where the build ran. Without the option an\n"
		"                     unsigned document fails: \"attestation document is unsigned\n"
		"                     (alg -1): QEMU's emulated NSM\"\n"
		"  --json             the checks, the statement's main fields and the bound key\n"
		"                     (\"public_key\": curve, keyid, pem) as JSON on stdout\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 verified; 1 a check failed (the first failure on stderr); 2 usage or\n"
		"input error (also an ARTIFACT that cannot be read: missing, not a regular file).\n"
		"\n"
		"example:\n"
		"  cleanroom verify out/cleanroom-bundle.json out/hello --eif enclave.eif \\\n"
		"      --git-commit v1.0 --repo ~/src/hello\n"
		"  cleanroom verify out/cleanroom.sigstore.json out/hello --eif enclave.eif \\\n"
		"      --attestation out/cleanroom.attestation.cbor --key-out enclave-key.pem\n"
		"  cleanroom verify --quorum 3 a/cleanroom-bundle.json b/cleanroom-bundle.json \\\n"
		"      c/cleanroom-bundle.json --eif enclave.eif -- a/hello\n",
		QUORUM_MAX_BUNDLES, QUORUM_MAX_BUNDLES);
}

/* What the command line asked for. */
struct verify_args {
	const char *eif[BV_MAX_IMAGES];
	size_t neif;
	const char *pcr_hex[REPORT_PCRS][BV_MAX_IMAGES];
	size_t npcr[REPORT_PCRS];
	const char *git, *repo, *source, *root;
	const char *att_path, *key_out; /* --attestation, --key-out: one bundle only */
	unsigned quorum;                /* 0: one bundle */
	int json;
	char **pos; /* positional arguments before the first `--` */
	size_t npos;
	char **after; /* the arguments after it (artifacts) */
	size_t nafter;
};

/* The first argument that is exactly "--" ends the options and the
 * bundles: found before getopt, which would fold what follows it into the
 * other positional arguments. */
static int split_at_separator(int argc, char **argv, struct verify_args *a)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			a->after = argv + i + 1;
			a->nafter = (size_t)(argc - i - 1);
			return i;
		}
	return argc;
}

static int parse_quorum(const char *s, unsigned *k)
{
	char *end;
	unsigned long v;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > QUORUM_MAX_BUNDLES)
		return -1;
	*k = (unsigned)v;
	return 0;
}

/* Options into a and v; 0, or the exit status (help: 0 with *done). */
static int parse_args(int argc, char **argv, struct verify_args *a, struct verify_inputs *v, int *done)
{
	enum {
		O_EIF = 256,
		O_PCR0,
		O_PCR1,
		O_PCR2,
		O_GIT,
		O_REPO,
		O_SOURCE,
		O_ROOT,
		O_AT,
		O_NONCE,
		O_JSON,
		O_UNSIGNED,
		O_ATTESTATION,
		O_KEY_OUT,
		O_QUORUM
	};
	static const struct option longopts[] = {
		{ "eif", required_argument, NULL, O_EIF },
		{ "pcr0", required_argument, NULL, O_PCR0 },
		{ "pcr1", required_argument, NULL, O_PCR1 },
		{ "pcr2", required_argument, NULL, O_PCR2 },
		{ "git-commit", required_argument, NULL, O_GIT },
		{ "repo", required_argument, NULL, O_REPO },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "root", required_argument, NULL, O_ROOT },
		{ "at", required_argument, NULL, O_AT },
		{ "nonce", required_argument, NULL, O_NONCE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "allow-unsigned-attestation", no_argument, NULL, O_UNSIGNED },
		{ "attestation", required_argument, NULL, O_ATTESTATION },
		{ "key-out", required_argument, NULL, O_KEY_OUT },
		{ "quorum", required_argument, NULL, O_QUORUM },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t pcr[CR_PCR_LEN];
	struct cr_err e;
	int c, nopt = split_at_separator(argc, argv, a);
	optind = 1;
	while ((c = getopt_long(nopt, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_EIF:
			if (a->neif == BV_MAX_IMAGES)
				return cr_tprintf(stderr, "cleanroom verify: more than %d --eif\n", BV_MAX_IMAGES), 2;
			a->eif[a->neif++] = optarg;
			break;
		case O_PCR0:
		case O_PCR1:
		case O_PCR2:
			if (a->npcr[c - O_PCR0] == BV_MAX_IMAGES)
				return cr_tprintf(stderr, "cleanroom verify: more than %d --pcr%d\n", BV_MAX_IMAGES,
						  c - O_PCR0),
				       2;
			if (strlen(optarg) != 2 * CR_PCR_LEN || cr_unhex(optarg, pcr, CR_PCR_LEN))
				return cr_tprintf(stderr,
						  "cleanroom verify: --pcr%d: expected %d hex digits (SHA-384)\n",
						  c - O_PCR0, 2 * CR_PCR_LEN),
				       2;
			a->pcr_hex[c - O_PCR0][a->npcr[c - O_PCR0]++] = optarg;
			break;
		case O_GIT: a->git = optarg; break;
		case O_REPO: a->repo = optarg; break;
		case O_SOURCE: a->source = optarg; break;
		case O_ROOT: a->root = optarg; break;
		case O_AT:
			if (cr_parse_time(optarg, &v->pol.at))
				return cr_tprintf(stderr,
						  "cleanroom verify: --at '%s': want Unix seconds or RFC 3339\n",
						  optarg),
				       2;
			v->pol.has_time = 1;
			break;
		case O_NONCE:
			if (vin_set_nonce(v, optarg, &e))
				return cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg), 2;
			break;
		case O_JSON: a->json = 1; break;
		case O_UNSIGNED: v->pol.allow_unsigned = 1; break;
		case O_ATTESTATION: a->att_path = optarg; break;
		case O_KEY_OUT: a->key_out = optarg; break;
		case O_QUORUM:
			if (parse_quorum(optarg, &a->quorum))
				return cr_tprintf(stderr,
						  "cleanroom verify: --quorum '%s': want a number from 1 to %d\n",
						  optarg, QUORUM_MAX_BUNDLES),
				       2;
			break;
		case 'h':
			usage(stdout);
			*done = 1;
			return 0;
		default: usage(stderr); return 2;
		}
	}
	a->pos = argv + optind;
	a->npos = (size_t)(nopt - optind);
	return 0;
}

/* The expected image(s) and source, the root: into v. */
static int set_inputs(const struct verify_args *a, struct verify_inputs *v, struct cr_err *e)
{
	size_t nsets = a->npcr[0];
	if (!a->quorum && a->neif && (nsets || a->npcr[1] || a->npcr[2]))
		return cr_fail(e, "give --eif or --pcr0/1/2, not both");
	if (a->npcr[1] != nsets || a->npcr[2] != nsets)
		return cr_fail(e, "give all of --pcr0, --pcr1 and --pcr2 (or --eif)%s",
			       a->quorum ? ", each as many times as there are PCR sets" : "");
	if (!a->quorum && (a->neif > 1 || nsets > 1))
		return cr_fail(e, "one expected image: several --eif or --pcr0/1/2 sets go with --quorum");
	if (a->repo && !a->git)
		return cr_fail(e, "--repo goes with --git-commit");
	if (a->git && a->source)
		return cr_fail(e, "give --git-commit or --source, not both");
	if (a->quorum && (a->att_path || a->key_out))
		return cr_fail(e,
			       "%s goes with one bundle (--quorum reads cleanroom-bundle.json files, which "
			       "carry their attestation documents)",
			       a->att_path ? "--attestation" : "--key-out");
	if (a->quorum && v->pol.has_nonce)
		return cr_fail(e, "--nonce goes with one bundle (each builder's build has its own nonce)");
	if (a->quorum && !a->neif && !nsets)
		return cr_fail(e, "--quorum needs the allowed image(s): --eif FILE or --pcr0/1/2 (else an enclave "
				  "running any code would count as a builder)");
	for (size_t i = 0; i < a->neif; i++)
		if (vin_add_eif(v, a->eif[i], e))
			return -1;
	for (size_t k = 0; k < nsets; k++) {
		const char *hex[REPORT_PCRS] = { a->pcr_hex[0][k], a->pcr_hex[1][k], a->pcr_hex[2][k] };
		if (vin_add_pcr_set(v, hex, nsets > 1 ? (unsigned)k + 1 : 0, e))
			return -1;
	}
	if ((a->root && vin_set_root(v, a->root, e)) || (a->git && vin_set_git_commit(v, a->git, a->repo, e)) ||
	    (a->source && vin_set_source_dir(v, a->source, e)))
		return -1;
	return vin_check(v, e);
}

static int print_json(void (*write)(const void *, struct json_w *), const void *what)
{
	struct cr_buf out;
	struct json_w w;
	struct cr_err e;
	int rc = 0;
	/* No cap of its own: the inputs' limits bound it (64 bundles of at most
	 * REPORT_MAX_BUNDLE bytes), and a quorum's table within them passes 1 MiB. */
	cr_buf_init(&out, SIZE_MAX);
	jw_init(&w, &out, 1);
	jw_obj_begin(&w);
	write(what, &w);
	jw_obj_end(&w);
	if (jw_print(&w, &e)) {
		cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
		rc = -1;
	}
	cr_buf_free(&out);
	return rc;
}

/* --json when an input could not be read (exit 2): no checks ran. */
static void write_input_error(const void *msg, struct json_w *w)
{
	jw_kbool(w, "verified", 0);
	jw_kstr(w, "error", msg);
}

static void write_single(const void *r, struct json_w *w)
{
	bv_write_json(r, w);
}

static void write_quorum(const void *q, struct json_w *w)
{
	quorum_write_json(q, w);
}

/* --key-out: the verified report's bound key as PEM, written whole or not at all. */
static int write_key(const struct bv_result *r, const char *path, struct cr_err *e)
{
	char pem[BV_KEY_PEM_MAX];
	size_t n = bv_key_pem(r, pem, sizeof pem);
	if (!n)
		return cr_fail(e, "--key-out: no bound key to write");
	return cr_write_file_atomic(path, pem, n, 0644, e) ? cr_err_wrap(e, "--key-out") : 0;
}

static int verify_one(const struct verify_args *a, struct verify_inputs *v)
{
	struct bv_result *r = calloc(1, sizeof *r);
	uint8_t *buf = NULL, *att = NULL;
	size_t len, att_len = 0;
	struct cr_err e;
	int rc;
	if (!r)
		return cr_tprintf(stderr, "cleanroom verify: out of memory\n"), 2;
	if (cr_read_input("BUNDLE", a->pos[0], REPORT_MAX_BUNDLE, &buf, &len, &e) ||
	    (a->att_path && cr_read_input("--attestation", a->att_path, ATT_DOC_MAX, &att, &att_len, &e))) {
		cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
		if (a->json)
			print_json(write_input_error, e.msg);
		free(buf);
		free(r);
		return 2;
	}
	rc = bundle_verify_form(buf, len, att, att_len, a->att_path, &v->pol, r) ? 1 : 0;
	free(buf);
	free(att);
	/* Verified, but the key asked for is not written: exit 2, and the
	 * JSON says why beside "verified": true. */
	if (rc == 0 && a->key_out && write_key(r, a->key_out, &e))
		snprintf(r->input_error, sizeof r->input_error, "%s", e.msg);
	if (a->json) {
		if (print_json(write_single, r))
			rc = 2;
	} else {
		char np[256];
		bv_print_text(r, stdout);
		if (!rc && bv_not_possible(r, np, sizeof np)[0])
			cr_tprintf(stdout,
				   "verified, except what was not possible: %s (unsigned document: QEMU's emulated "
				   "NSM; nothing proves where this ran)\n",
				   np);
		else
			cr_tprintf(stdout, "%s\n", rc ? "NOT VERIFIED" : "verified");
	}
	if (r->input_error[0]) {
		cr_tprintf(stderr, "cleanroom verify: %s\n", r->input_error);
		rc = 2;
	} else if (rc == 1) {
		char line[1024];
		cr_tprintf(stderr, "cleanroom verify: %s\n", bv_first_failure(r, line, sizeof line));
	}
	bv_result_free(r);
	free(r);
	return rc;
}

static int verify_quorum(const struct verify_args *a, struct verify_inputs *v)
{
	struct quorum *q = calloc(1, sizeof *q);
	struct cr_err e;
	char line[1024];
	int rc;
	if (!q)
		return cr_tprintf(stderr, "cleanroom verify: out of memory\n"), 2;
	if (quorum_verify(q, a->quorum, (const char *const *)a->pos, a->npos, (const char *const *)a->after, a->nafter,
			  &v->pol, &e)) {
		cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
		if (a->json)
			print_json(write_input_error, e.msg);
		quorum_free(q);
		free(q);
		return 2;
	}
	rc = q->ok ? 0 : 1;
	if (a->json) {
		if (print_json(write_quorum, q))
			rc = 2;
	} else {
		quorum_print_text(q, stdout);
	}
	if (rc == 1)
		cr_tprintf(stderr, "cleanroom verify: %s\n", quorum_failure(q, line, sizeof line));
	quorum_free(q);
	free(q);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	struct verify_inputs *v = calloc(1, sizeof *v);
	struct cr_err e;
	int rc, done = 0;
	if (!v)
		return cr_tprintf(stderr, "cleanroom verify: out of memory\n"), 2;
	memset(&a, 0, sizeof a);
	vin_init(v);
	rc = parse_args(argc, argv, &a, v, &done);
	if (rc || done)
		goto out;
	rc = 2;
	if (!a.npos) {
		cr_tprintf(stderr, "cleanroom verify: missing BUNDLE (see --help)\n");
		goto out;
	}
	if (a.quorum) {
		if (a.npos > QUORUM_MAX_BUNDLES) {
			cr_tprintf(stderr, "cleanroom verify: more than %d bundles\n", QUORUM_MAX_BUNDLES);
			goto out;
		}
		if (a.quorum > a.npos) {
			cr_tprintf(stderr, "cleanroom verify: --quorum %u: more than the %zu bundle%s given\n",
				   a.quorum, a.npos, a.npos == 1 ? "" : "s");
			goto out;
		}
		if (a.nafter > BV_MAX_ARTIFACTS) {
			cr_tprintf(stderr, "cleanroom verify: more than %d artifacts\n", BV_MAX_ARTIFACTS);
			goto out;
		}
	} else {
		/* one bundle: the rest, before and after `--`, are artifacts */
		char **arts = calloc(a.npos + a.nafter, sizeof *arts);
		if (a.npos - 1 + a.nafter > BV_MAX_ARTIFACTS) {
			free(arts);
			cr_tprintf(stderr, "cleanroom verify: more than %d artifacts\n", BV_MAX_ARTIFACTS);
			goto out;
		}
		if (!arts) {
			cr_tprintf(stderr, "cleanroom verify: out of memory\n");
			goto out;
		}
		for (size_t i = 1; i < a.npos; i++)
			arts[i - 1] = a.pos[i];
		for (size_t i = 0; i < a.nafter; i++)
			arts[a.npos - 1 + i] = a.after[i];
		v->pol.artifacts = (const char *const *)arts;
		v->pol.nartifacts = a.npos - 1 + a.nafter;
	}
	if (set_inputs(&a, v, &e)) {
		cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
		goto out;
	}
	rc = a.quorum ? verify_quorum(&a, v) : verify_one(&a, v);
out:
	free((void *)v->pol.artifacts);
	vin_free(v);
	free(v);
	return rc;
}
