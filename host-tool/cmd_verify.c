/* cleanroom verify: check a build's bundle and artifacts offline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-tool/verify/bundle_verify.h"
#include "host-tool/commands.h"
#include "base/json.h"
#include "base/term.h"
#include "host-tool/verify/verify_inputs.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: cleanroom verify BUNDLE [ARTIFACT...] [--eif FILE | --pcr0 HEX --pcr1 HEX --pcr2 HEX]\n"
		     "                        [--git-commit REV [--repo DIR]] [--source DIR] [--root PEM]\n"
		     "                        [--at TIME] [--nonce HEX] [--attestation FILE]\n"
		     "                        [--key-out FILE] [--json]\n"
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
		     "options:\n"
		     "  --eif FILE         expect the image FILE (its PCR0/1/2 are computed now)\n"
		     "  --pcr0/--pcr1/--pcr2 HEX  expect these PCRs (96 hex digits each; all three)\n"
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
		     "input error.\n"
		     "\n"
		     "example:\n"
		     "  cleanroom verify out/cleanroom-bundle.json out/hello --eif enclave.eif \\\n"
		     "      --git-commit v1.0 --repo ~/src/hello\n");
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

int cmd_verify(int argc, char **argv)
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
		O_KEY_OUT
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
		{ NULL, 0, NULL, 0 },
	};
	struct verify_inputs *v = calloc(1, sizeof *v);
	struct bv_result *r = calloc(1, sizeof *r);
	const char *eif = NULL, *git = NULL, *repo = NULL, *source = NULL, *root = NULL, *bundle;
	const char *pcr_hex[3] = { NULL, NULL, NULL };
	const char *att_path = NULL, *key_out = NULL;
	uint8_t *buf = NULL, *att = NULL;
	size_t len, att_len = 0;
	int c, json = 0, rc = 2;
	struct cr_err e;
	if (!v || !r) {
		cr_tprintf(stderr, "cleanroom verify: out of memory\n");
		goto done;
	}
	vin_init(v);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_EIF: eif = optarg; break;
		case O_PCR0:
		case O_PCR1:
		case O_PCR2: pcr_hex[c - O_PCR0] = optarg; break;
		case O_GIT: git = optarg; break;
		case O_REPO: repo = optarg; break;
		case O_SOURCE: source = optarg; break;
		case O_ROOT: root = optarg; break;
		case O_AT:
			if (cr_parse_time(optarg, &v->pol.at)) {
				cr_tprintf(stderr, "cleanroom verify: --at '%s': want Unix seconds or RFC 3339\n",
					   optarg);
				goto done;
			}
			v->pol.has_time = 1;
			break;
		case O_NONCE:
			if (vin_set_nonce(v, optarg, &e)) {
				cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
				goto done;
			}
			break;
		case O_JSON: json = 1; break;
		case O_UNSIGNED: v->pol.allow_unsigned = 1; break;
		case O_ATTESTATION: att_path = optarg; break;
		case O_KEY_OUT: key_out = optarg; break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		default: usage(stderr); goto done;
		}
	}
	if (optind >= argc) {
		cr_tprintf(stderr, "cleanroom verify: missing BUNDLE (see --help)\n");
		goto done;
	}
	bundle = argv[optind++];
	if (argc - optind > BV_MAX_ARTIFACTS) {
		cr_tprintf(stderr, "cleanroom verify: more than %d artifacts\n", BV_MAX_ARTIFACTS);
		goto done;
	}
	v->pol.artifacts = (const char *const *)argv + optind;
	v->pol.nartifacts = (size_t)(argc - optind);
	if (eif && (pcr_hex[0] || pcr_hex[1] || pcr_hex[2])) {
		cr_tprintf(stderr, "cleanroom verify: give --eif or --pcr0/1/2, not both\n");
		goto done;
	}
	if (repo && !git) {
		cr_tprintf(stderr, "cleanroom verify: --repo goes with --git-commit\n");
		goto done;
	}
	if (git && source) {
		cr_tprintf(stderr, "cleanroom verify: give --git-commit or --source, not both\n");
		goto done;
	}
	for (unsigned i = 0; i < 3; i++)
		if (pcr_hex[i] && vin_set_pcr(v, i, pcr_hex[i], &e))
			goto input_error;
	if ((root && vin_set_root(v, root, &e)) || (eif && vin_set_eif(v, eif, &e)) ||
	    (git && vin_set_git_commit(v, git, repo, &e)) || (source && vin_set_source_dir(v, source, &e)) ||
	    vin_check(v, &e) || cr_read_input("BUNDLE", bundle, REPORT_MAX_BUNDLE, &buf, &len, &e) ||
	    (att_path && cr_read_input("--attestation", att_path, ATT_DOC_MAX, &att, &att_len, &e)))
		goto input_error;

	rc = bundle_verify_form(buf, len, att, att_len, att_path, &v->pol, r) ? 1 : 0;
	if (rc == 0 && key_out && write_key(r, key_out, &e)) {
		cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
		rc = 2;
	}
	if (json) {
		struct cr_buf out;
		struct json_w w;
		cr_buf_init(&out, 1 << 20);
		jw_init(&w, &out, 1);
		jw_obj_begin(&w);
		bv_write_json(r, &w);
		jw_obj_end(&w);
		if (jw_print(&w, &e)) {
			cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
			rc = 2;
		}
		cr_buf_free(&out);
	} else {
		bv_print_text(r, stdout);
		char np[256];
		if (!rc && bv_not_possible(r, np, sizeof np)[0])
			cr_tprintf(stdout,
				   "verified, except what was not possible: %s (unsigned document: QEMU's emulated "
				   "NSM; nothing proves where this ran)\n",
				   np);
		else
			cr_tprintf(stdout, "%s\n", rc ? "NOT VERIFIED" : "verified");
	}
	if (rc == 1) {
		char line[1024];
		cr_tprintf(stderr, "cleanroom verify: %s\n", bv_first_failure(r, line, sizeof line));
	}
	bv_result_free(r);
	goto done;
input_error:
	cr_tprintf(stderr, "cleanroom verify: %s\n", e.msg);
	rc = 2;
done:
	free(buf);
	free(att);
	if (v)
		vin_free(v);
	free(v);
	free(r);
	return rc;
}
