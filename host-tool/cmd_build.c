/* cleanroom build: send sources to an enclave's build agent, build them
 * there, bring the outputs back (vsock/README.md is the protocol). */
#include <bearssl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "report/report.h"
#include "base/digest.h"
#include "base/json.h"
#include "base/pem.h"
#include "base/term.h"
#include "host-tool/client/build_client.h"
#include "host-tool/client/staging.h"
#include "host-tool/client/src_stream.h"
#include "host-tool/client/vsock_client.h"
#include "host-tool/commands.h"
#include "host-tool/eif/eif.h"
#include "host-tool/run/local_enclave.h"
#include "host-tool/run/run_qemu.h"
#include "host-tool/verify/bundle_verify.h"
#include "host-tool/verify/verify_inputs.h"
#include "vsock/vsock.h"
#include "vsock/wire.h"

/* How long past the build's own timeout the client waits for a word from
 * the enclave before it gives up on it. */
#define ENCLAVE_SILENCE_MARGIN_S 30
/* How long the client waits for the enclave to take any of what it sends
 * (the request, the trees): an agent reading its stream never stalls that
 * long (it gives up on a silent client after 120 s itself), and a peer that
 * never reads must not hold the client in a send for ever. */
#define ENCLAVE_SEND_STALL_S 120

/* The signed report, written beside the outputs (report/report.h), and the
 * same envelope in the standard forms other verifiers read, with the
 * attestation document those forms do not carry (docs/bundle-format.md). */
#define BUNDLE_NAME REPORT_FILE_BUNDLE
#define DSSE_NAME REPORT_FILE_DSSE
#define SIGSTORE_NAME REPORT_FILE_SIGSTORE
#define ATTESTATION_NAME REPORT_FILE_ATTESTATION
static const char *const report_names[REPORT_NFILES] = REPORT_FILES;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cleanroom build (--cid N | --local FILE.eif | --vsock PATH) --output PATH...\n"
		"                       [--deps DIR] [--out DIR] [--timeout S] [--memory MiB] [--pids N]\n"
		"                       [--root PEM] [--eif FILE | --pcr0 HEX --pcr1 HEX --pcr2 HEX]\n"
		"                       [--machine M] [--allow-unsigned-attestation]\n"
		"                       [--log FILE] [--log-limit BYTES] [--json] SRC_DIR -- CMD [ARG...]\n"
		"\n"
		"Build SRC_DIR inside an enclave: the sources (and vendored dependencies) are sent over\n"
		"vsock to the enclave's build agent, which runs CMD in its sandbox — network off, the\n"
		"image's toolchain read-only, an unprivileged user, limits — with the sources in\n"
		"/work/src (the working directory) and the dependencies read-only in /work/deps. The\n"
		"build log streams to stderr as it happens, with every control character shown\n"
		"escaped (\\x1b, \\r, \\u009b...: a build cannot drive your terminal); --log FILE\n"
		"keeps the raw bytes. The files named by --output (paths relative to the source\n"
		"root) come back into --out; they are written only after the whole result arrived,\n"
		"and nothing is left behind when the build or the transfer fails. '.git' is not\n"
		"sent, so the source tree id is the checkout's: compare it with\n"
		"`git rev-parse HEAD^{tree}` of a clean checkout.\n"
		"\n"
		"A successful build comes with the enclave's signed report, " BUNDLE_NAME ", written\n"
		"into --out with the outputs, and the same envelope in the standard forms: " DSSE_NAME "\n"
		"(the DSSE envelope), " SIGSTORE_NAME " (a Sigstore bundle) and " ATTESTATION_NAME "\n"
		"(the attestation document those two do not carry; see `cleanroom verify --help`).\n"
		"Before anything is written, the report is verified exactly as `cleanroom verify`\n"
		"does (attestation chain, signature, bindings, the outputs' digests, this build's\n"
		"nonce, and the image's PCRs when known); a report that is missing or fails a check\n"
		"fails the build (exit 6).\n"
		"\n"
		"where:\n"
		"  --cid N            a Nitro enclave's CID (AF_VSOCK, port %d)\n"
		"  --local FILE.eif   boot FILE.eif locally with 'cleanroom run' for this one build\n"
		"  --vsock PATH       an enclave already running under 'cleanroom run': its host\n"
		"                     socket (printed by run; DIR/vsock with --vsock-dir DIR)\n"
		"  --enclave-memory MiB  RAM of that local enclave (default: run's default)\n"
		"  --nsm-ca DIR       the local enclave's mock-NSM test CA (run's --nsm-ca): kept, so\n"
		"                     `cleanroom verify --root DIR/root.pem` works after the run\n"
		"  --machine M        the local enclave's QEMU machine (run's --machine): microvm\n"
		"                     (default, mock NSM) or nitro-enclave (upstream QEMU's, whose NSM\n"
		"                     does not sign: see --allow-unsigned-attestation), or virt (for\n"
		"                     aarch64 images, and their default)\n"
		"report verification:\n"
		"  --root PEM         the root the attestation must chain to (default: the AWS Nitro\n"
		"                     Enclaves root G1; with --local: the local run's mock NSM root;\n"
		"                     with --vsock: pass the run's nsm_root)\n"
		"  --eif FILE         the image the enclave must run: its PCR0/1/2 are checked (with\n"
		"                     --local: that EIF)\n"
		"  --pcr0/--pcr1/--pcr2 HEX  the same, as values (all three)\n"
		"  --allow-unsigned-attestation  accept an UNSIGNED attestation document (alg -1:\n"
		"                     QEMU's emulated NSM, --machine nitro-enclave) and check all but\n"
		"                     its signature and chain, which are listed as not possible; such\n"
		"                     a report proves nothing about where the build ran. Without it,\n"
		"                     an unsigned document fails the build (exit 6, nothing in --out)\n"
		"options:\n"
		"  --output PATH      a file the build produces (1 to %d; repeat the option)\n"
		"  --deps DIR         vendored dependencies, sent as a separate stream and digest\n"
		"  --out DIR          where the outputs go (default: ./cleanroom-out)\n"
		"  --timeout S        wall-clock limit of the build (default: %d; 0: the enclave's\n"
		"                     maximum, %d)\n"
		"  --memory MiB       memory limit of the build (default: the enclave's maximum)\n"
		"  --pids N           process limit of the build, at least %d (default: the enclave's\n"
		"                     maximum, set below the kernel's own process limits so that\n"
		"                     the build's limit is the one that stops a fork bomb)\n"
		"  --log FILE         also write the build log, byte for byte, to FILE (mode 0600;\n"
		"                     written when the build ran, whatever its outcome)\n"
		"  --log-limit BYTES  the enclave keeps this much of the log and drops the rest\n"
		"                     (%d to %llu, the default); a cut log is reported, and the\n"
		"                     report records the bytes kept and dropped; an enclave sending\n"
		"                     more than the limit is stopped (exit 5, no --log kept)\n"
		"  --source-date-epoch N  SOURCE_DATE_EPOCH inside the build (default: the variable\n"
		"                     SOURCE_DATE_EPOCH, else 0)\n"
		"  --json             a JSON summary on stdout (the log stays on stderr)\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 built, outputs written; 1 the build failed (non-zero exit, signal,\n"
		"an output missing or not a regular file); 2 usage error; 3 the inputs were refused (a path, file "
		"type,\n"
		"symlink or size rule); 4 the build hit its time, memory or process limit;\n"
		"5 transfer, connection or enclave error (also: the enclave silent, or still sending\n"
		"the log, for --timeout plus 30 s, or taking nothing sent for 120 s); 6 the signed\n"
		"report is missing or does not verify; 128+N stopped by signal N (SIGINT, SIGTERM,\n"
		"SIGHUP: the connection is closed, which cancels the build, and nothing is written).\n"
		"One line on stderr says which.\n"
		"\n"
		"example:\n"
		"  cleanroom build --local build/demo/enclave.eif --output hello ./hello-src -- make hello\n",
		WIRE_PORT, WIRE_MAX_OUTPUTS, WIRE_DEFAULT_TIMEOUT_S, WIRE_MAX_TIMEOUT_S, WIRE_MIN_PIDS,
		WIRE_MIN_LOG_BYTES, (unsigned long long)WIRE_MAX_LOG_BYTES);
}

struct build_opts {
	uint32_t cid;
	int have_cid;
	const char *local, *vsock, *deps, *out, *src;
	unsigned enclave_memory;
	char *outputs[WIRE_MAX_OUTPUTS];
	size_t noutputs;
	uint64_t timeout_s, memory_mb, pids, sde, log_limit;
	const char *log;
	char **argv;
	int argc;
	int json;
	const char *root, *eif, *pcr_hex[3], *nsm_ca, *machine;
	int allow_unsigned;
};

static int parse_u64_opt(const char *name, const char *s, uint64_t max, uint64_t *out)
{
	if (cr_parse_u64(s, max, out)) {
		cr_tprintf(stderr, "cleanroom build: %s '%s': expected a number from 0 to %llu\n", name, s,
			   (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct build_opts *o)
{
	static const struct option longopts[] = {
		{ "cid", required_argument, NULL, 'c' },
		{ "local", required_argument, NULL, 'l' },
		{ "enclave-memory", required_argument, NULL, 'M' },
		{ "vsock", required_argument, NULL, 'v' },
		{ "output", required_argument, NULL, 'o' },
		{ "deps", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'O' },
		{ "timeout", required_argument, NULL, 't' },
		{ "memory", required_argument, NULL, 'm' },
		{ "pids", required_argument, NULL, 'p' },
		{ "source-date-epoch", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'R' },
		{ "eif", required_argument, NULL, 'E' },
		{ "pcr0", required_argument, NULL, '0' },
		{ "pcr1", required_argument, NULL, '1' },
		{ "pcr2", required_argument, NULL, '2' },
		{ "nsm-ca", required_argument, NULL, 'N' },
		{ "log", required_argument, NULL, 'L' },
		{ "log-limit", required_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "machine", required_argument, NULL, 'X' },
		{ "allow-unsigned-attestation", no_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	uint64_t v;
	int c;
	struct cr_err e;
	memset(o, 0, sizeof *o);
	o->out = "cleanroom-out";
	o->timeout_s = WIRE_DEFAULT_TIMEOUT_S;
	o->pids = 0; /* the enclave's maximum: the one default is the agent's */
	if (sde && parse_u64_opt("SOURCE_DATE_EPOCH", sde, WIRE_MAX_SDE, &o->sde))
		return EXIT_USAGE;
	optind = 1;
	/* '+': stop at SRC_DIR, so options of CMD are never ours. */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_u64_opt("--cid", optarg, UINT32_MAX - 1, &v))
				return EXIT_USAGE;
			o->cid = (uint32_t)v;
			o->have_cid = 1;
			break;
		case 'l': o->local = optarg; break;
		case 'v': o->vsock = optarg; break;
		case 'M':
			if (parse_u64_opt("--enclave-memory", optarg, 1u << 20, &v))
				return EXIT_USAGE;
			o->enclave_memory = (unsigned)v;
			break;
		case 'o':
			if (o->noutputs == WIRE_MAX_OUTPUTS) {
				cr_tprintf(stderr, "cleanroom build: more than %d --output\n", WIRE_MAX_OUTPUTS);
				return EXIT_USAGE;
			}
			if (wire_check_path(optarg, "--output", &e)) {
				cr_tprintf(stderr, "cleanroom build: %s\n", e.msg);
				return EXIT_USAGE;
			}
			if (!cr_utf8_valid(optarg, strlen(optarg))) {
				cr_fail(&e, "--output '%s': not valid UTF-8 (the report names outputs in JSON text)",
					optarg);
				cr_tprintf(stderr, "cleanroom build: %s\n", e.msg);
				return EXIT_USAGE;
			}
			for (size_t i = 0; i < sizeof report_names / sizeof *report_names; i++)
				if (!strcmp(optarg, report_names[i])) {
					cr_tprintf(stderr,
						   "cleanroom build: --output %s: that name is one of the signed "
						   "report's files\n",
						   optarg);
					return EXIT_USAGE;
				}
			o->outputs[o->noutputs++] = optarg;
			break;
		case 'd': o->deps = optarg; break;
		case 'O': o->out = optarg; break;
		case 't':
			if (parse_u64_opt("--timeout", optarg, WIRE_MAX_TIMEOUT_S, &o->timeout_s))
				return EXIT_USAGE;
			break;
		case 'm':
			if (parse_u64_opt("--memory", optarg, WIRE_MAX_MEMORY_MB, &o->memory_mb))
				return EXIT_USAGE;
			break;
		case 'p':
			if (parse_u64_opt("--pids", optarg, WIRE_MAX_PIDS, &o->pids))
				return EXIT_USAGE;
			if (o->pids < WIRE_MIN_PIDS) {
				fprintf(stderr,
					"cleanroom build: --pids '%s': expected at least %d processes (the shell "
					"and the sandbox need some)\n",
					optarg, WIRE_MIN_PIDS);
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (parse_u64_opt("--source-date-epoch", optarg, WIRE_MAX_SDE, &o->sde))
				return EXIT_USAGE;
			break;
		case 'L': o->log = optarg; break;
		case 'B':
			if (parse_u64_opt("--log-limit", optarg, WIRE_MAX_LOG_BYTES, &o->log_limit))
				return EXIT_USAGE;
			if (o->log_limit < WIRE_MIN_LOG_BYTES) {
				cr_tprintf(stderr, "cleanroom build: --log-limit %s: at least %d bytes\n", optarg,
					   WIRE_MIN_LOG_BYTES);
				return EXIT_USAGE;
			}
			break;
		case 'R': o->root = optarg; break;
		case 'E': o->eif = optarg; break;
		case 'N': o->nsm_ca = optarg; break;
		case 'X': {
			enum run_machine m;
			if (run_machine_parse(optarg, &m)) {
				cr_tprintf(stderr, "cleanroom build: --machine '%s': expected %s\n", optarg,
					   RUN_MACHINE_NAMES);
				return EXIT_USAGE;
			}
		}
			o->machine = optarg;
			break;
		case 'U': o->allow_unsigned = 1; break;
		case '0':
		case '1':
		case '2': o->pcr_hex[c - '0'] = optarg; break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cr_tprintf(stderr, "cleanroom build: missing SRC_DIR and command (see --help)\n");
		return EXIT_USAGE;
	}
	o->src = argv[optind++];
	if (optind >= argc || strcmp(argv[optind], "--") || optind + 1 >= argc) {
		cr_tprintf(stderr, "cleanroom build: expected '-- CMD [ARG...]' after SRC_DIR\n");
		return EXIT_USAGE;
	}
	o->argv = argv + optind + 1;
	o->argc = argc - optind - 1;
	if (o->have_cid + !!o->local + !!o->vsock != 1) {
		cr_tprintf(stderr, "cleanroom build: give exactly one of --cid N, --local FILE.eif or --vsock PATH\n");
		return EXIT_USAGE;
	}
	if (o->eif && (o->pcr_hex[0] || o->pcr_hex[1] || o->pcr_hex[2])) {
		cr_tprintf(stderr, "cleanroom build: give --eif or --pcr0/1/2, not both\n");
		return EXIT_USAGE;
	}
	if (o->machine && !o->local) {
		cr_tprintf(stderr, "cleanroom build: --machine goes with --local\n");
		return EXIT_USAGE;
	}
	if (o->nsm_ca && o->machine && !strcmp(o->machine, "nitro-enclave")) {
		cr_tprintf(stderr, "cleanroom build: --nsm-ca: the nitro-enclave machine has its own NSM (no mock NSM, "
				   "no test CA)\n");
		return EXIT_USAGE;
	}
	if (o->nsm_ca && !o->local) {
		cr_tprintf(stderr, "cleanroom build: --nsm-ca goes with --local\n");
		return EXIT_USAGE;
	}
	if (!o->noutputs) {
		cr_tprintf(stderr, "cleanroom build: name at least one --output (the files to bring back)\n");
		return EXIT_USAGE;
	}
	if (o->argc > WIRE_MAX_ARGS) {
		cr_tprintf(stderr, "cleanroom build: more than %d command arguments\n", WIRE_MAX_ARGS);
		return EXIT_USAGE;
	}
	for (int i = 0; i < o->argc; i++)
		if (!cr_utf8_valid(o->argv[i], strlen(o->argv[i]))) {
			cr_fail(&e,
				"command argument %d '%s': not valid UTF-8 (the report records the command as JSON "
				"text)",
				i, o->argv[i]);
			cr_tprintf(stderr, "cleanroom build: %s\n", e.msg);
			return EXIT_USAGE;
		}
	return -1;
}

/* One report file into the staging directory, recorded for commit. */
static int stage_file(struct build_client *c, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", c->st.dir, name);
	if (cr_write_file_atomic(path, data, len, 0644, &c->e) || staging_record(&c->st, name, &c->e))
		return bc_failed(c, EXIT_TRANSFER);
	return 0;
}

/* The verified report's envelope as an .intoto.jsonl and a Sigstore bundle
 * (its hint: the bound key's id), and the attestation document as its own
 * file: staged with the bundle, so they land in --out together or not at all. */
static int stage_standard_forms(struct build_client *c)
{
	struct report_bundle b;
	struct cr_buf out;
	int rc = -1;
	if (report_bundle_parse(c->bundle.p, c->bundle.len, &b, &c->e))
		return bc_failed(c, EXIT_REPORT);
	cr_buf_init(&out, REPORT_MAX_BUNDLE);
	if (report_dsse_jsonl_encode(&b, &out, &c->e) || stage_file(c, DSSE_NAME, out.p, out.len) ||
	    report_sigstore_encode(&b, c->report->key_id, &out, &c->e) ||
	    stage_file(c, SIGSTORE_NAME, out.p, out.len) ||
	    stage_file(c, ATTESTATION_NAME, b.attestation.p, b.attestation.len))
		goto done;
	rc = 0;
done:
	if (rc)
		bc_failed(c, EXIT_TRANSFER);
	cr_buf_free(&out);
	report_bundle_free(&b);
	return rc;
}

/* The signed statement must describe this build: the trees this client
 * sent (hashed as they went out), its command, SOURCE_DATE_EPOCH and the
 * limits it asked for. The nonce binds the report to this request only;
 * without these checks a peer between here and a genuine enclave could
 * have it build other sources, answer 'accepted' with this client's own
 * tree ids, and pass the enclave's report on. 0, or -1 with e. */
static int statement_is_request(const struct build_client *c, const struct report_statement *st, struct cr_err *e)
{
	const struct build_job *j = c->job;
	const struct wire_limits *want = &j->limits, *got = &st->limits;
	char a[CR_HEX_SIZE(CR_SHA256_LEN)], b[CR_HEX_SIZE(CR_SHA256_LEN)];
	if (memcmp(st->src_tree_sha256, c->src.tree_sha256, CR_SHA256_LEN) ||
	    memcmp(st->src_tree_sha1, c->src.tree_sha1, CR_SHA1_LEN) || st->src_files != c->src.files) {
		cr_hex(st->src_tree_sha256, CR_SHA256_LEN, a);
		cr_hex(c->src.tree_sha256, CR_SHA256_LEN, b);
		return cr_fail(e,
			       "report: the statement's source tree (sha256 %s, %llu entries) is not the one sent "
			       "(sha256 %s, %llu entries)",
			       a, (unsigned long long)st->src_files, b, (unsigned long long)c->src.files);
	}
	if (j->deps ? memcmp(st->deps_tree_sha256, c->deps.tree_sha256, CR_SHA256_LEN) ||
			      st->deps_files != c->deps.files
		    : st->deps_files != 0) {
		cr_hex(st->deps_tree_sha256, CR_SHA256_LEN, a);
		return cr_fail(
			e, "report: the statement's dependency tree (sha256 %s, %llu entries) is not the one sent%s", a,
			(unsigned long long)st->deps_files, j->deps ? "" : " (none was)");
	}
	if (st->argc != (size_t)j->argc)
		return cr_fail(e, "report: the statement's command has %zu arguments, %d were sent", st->argc, j->argc);
	for (size_t i = 0; i < st->argc; i++)
		if (strcmp(st->argv[i], j->argv[i]))
			return cr_fail(e, "report: the statement's command argument %zu is '%s', '%s' was sent", i,
				       cr_term_arg(st->argv[i]), cr_term_arg(j->argv[i]));
	if (st->sde != j->sde)
		return cr_fail(e, "report: the statement's SOURCE_DATE_EPOCH is %llu, %llu was sent",
			       (unsigned long long)st->sde, (unsigned long long)j->sde);
#define SAME_LIMIT(f)                                                                                                \
 if (want->f && got->f != want->f)                                                                                   \
  return cr_fail(e, "report: the statement's limits." #f " is %llu, %llu was asked for", (unsigned long long)got->f, \
		 (unsigned long long)want->f);
	SAME_LIMIT(timeout_s)
	SAME_LIMIT(memory_mb)
	SAME_LIMIT(pids)
	SAME_LIMIT(source_mb)
	SAME_LIMIT(files)
	SAME_LIMIT(output_mb)
	SAME_LIMIT(log_bytes)
#undef SAME_LIMIT
	return 0;
}

/* The signed report of a successful build: into the staging directory
 * beside the outputs, then verified against them (bundle_verify.h) with this
 * build's nonce, the root and the image the options (or the local run) name. */
static int verify_report(struct build_client *c, const struct build_opts *o, const struct local_enclave *le)
{
	struct verify_inputs *v;
	const char *paths[WIRE_MAX_OUTPUTS];
	char bundle_path[PATH_MAX], line[1024];
	const char *root = o->root, *eif = o->eif;
	int rc = -1;
	if (!c->bundle.len)
		return bc_fail(c, EXIT_REPORT, 0, "report: the enclave sent no signed report (%s)", c->result_detail);
	snprintf(bundle_path, sizeof bundle_path, "%s/%s", c->st.dir, BUNDLE_NAME);
	if (cr_write_file_atomic(bundle_path, c->bundle.p, c->bundle.len, 0644, &c->e))
		return bc_failed(c, EXIT_TRANSFER);
	if (staging_record(&c->st, BUNDLE_NAME, &c->e))
		return bc_failed(c, EXIT_TRANSFER);
	int local_pcrs = 0;
	if (le) { /* a local run: its mock NSM's root, and the EIF it booted */
		if (!root && le->nsm_root[0])
			root = le->nsm_root;
		/* run measured the EIF before booting it: no second pass over it */
		if (!eif && !o->pcr_hex[0] && !o->pcr_hex[1] && !o->pcr_hex[2]) {
			local_pcrs = le->have_pcrs;
			if (!local_pcrs)
				eif = o->local;
		}
	}
	v = calloc(1, sizeof *v);
	c->report = calloc(1, sizeof *c->report);
	if (!v || !c->report) {
		free(v);
		return bc_fail(c, EXIT_TRANSFER, 0, "out of memory");
	}
	vin_init(v);
	for (unsigned i = 0; i < 3; i++)
		if (o->pcr_hex[i] && vin_set_pcr(v, i, o->pcr_hex[i], &c->e))
			goto input_error;
	if ((root && vin_set_root(v, root, &c->e)) || (eif && vin_set_eif(v, eif, &c->e)) || vin_check(v, &c->e))
		goto input_error;
	if (local_pcrs) {
		char desc[4200];
		snprintf(desc, sizeof desc, "the EIF %s", o->local);
		vin_set_pcrs(v, le->pcr[0], le->pcr[1], le->pcr[2], desc);
	}
	vin_set_nonce_bytes(v, c->nonce, sizeof c->nonce);
	v->pol.allow_unsigned = o->allow_unsigned;
	{
		char(*names)[PATH_MAX] = calloc(o->noutputs, PATH_MAX);
		if (!names) {
			cr_fail(&c->e, "out of memory");
			bc_failed(c, EXIT_TRANSFER);
			goto done;
		}
		for (size_t i = 0; i < o->noutputs; i++) {
			snprintf(names[i], PATH_MAX, "%s/%s", c->st.dir, o->outputs[i]);
			paths[i] = names[i];
		}
		v->pol.artifacts = paths;
		v->pol.nartifacts = o->noutputs;
		rc = bundle_verify(c->bundle.p, c->bundle.len, &v->pol, c->report);
		free(names);
	}
	if (rc == 0 && statement_is_request(c, &c->report->statement.st, &c->e)) {
		rc = -1;
		bc_failed(c, EXIT_REPORT);
		goto done;
	}
	if (rc == 0) {
		/* The log shown is the one the enclave signed (it crossed the
		 * untrusted host on its way here), and so is what was cut. */
		const struct report_statement *st = &c->report->statement.st;
		uint8_t got[CR_SHA256_LEN];
		br_sha256_out(&c->log_hash, got);
		if (st->log_bytes != c->log_bytes || memcmp(st->log_sha256, got, CR_SHA256_LEN) ||
		    st->log_dropped != c->result.log_dropped) {
			char hs[CR_HEX_SIZE(CR_SHA256_LEN)], hg[CR_HEX_SIZE(CR_SHA256_LEN)];
			cr_hex(st->log_sha256, CR_SHA256_LEN, hs);
			cr_hex(got, CR_SHA256_LEN, hg);
			cr_fail(&c->e,
				"report: the build log received (%llu bytes, sha256 %s, %llu dropped) is not the one "
				"the report "
				"signs (%llu bytes, sha256 %s, %llu dropped)",
				(unsigned long long)c->log_bytes, hg, (unsigned long long)c->result.log_dropped,
				(unsigned long long)st->log_bytes, hs, (unsigned long long)st->log_dropped);
			rc = -1;
			bc_failed(c, EXIT_REPORT);
		}
		if (rc == 0)
			rc = stage_standard_forms(c);
	} else {
		cr_fail(&c->e, "report: %s%s", bv_first_failure(c->report, line, sizeof line),
			o->vsock && !root ? " (an enclave under 'cleanroom run' chains to its nsm_root: pass --root)"
					  : "");
		bc_failed(c, EXIT_REPORT);
	}
	goto done;
input_error:
	bc_failed(c, EXIT_USAGE);
done:
	vin_free(v);
	free(v);
	return rc;
}

static int status_exit(enum wire_status s);

static void print_summary(const struct build_client *c, const struct build_opts *o, int ok)
{
	char h1[CR_HEX_SIZE(CR_SHA1_LEN)], h2[CR_HEX_SIZE(CR_SHA256_LEN)];
	if (o->json) {
		struct cr_buf b;
		struct json_w w;
		struct cr_err e;
		/* The enclave's status and words only when they are what decided
		 * the exit status: a build the enclave calls ok can still fail
		 * here (report, transfer, --out, a signal), and then the summary
		 * must not say "ok". */
		int enclave_says =
			c->have_result &&
			c->exit_code == (c->result.status == WIRE_ST_OK ? EXIT_OK : status_exit(c->result.status));
		cr_buf_init(&b, 1 << 16);
		jw_init(&w, &b, 1);
		jw_obj_begin(&w);
		jw_kstr(&w, "status", enclave_says ? wire_status_name(c->result.status) : "error");
		jw_kstr(&w, "detail", enclave_says ? c->result_detail : c->e.msg);
		jw_ku64(&w, "exit_status", (uint64_t)c->exit_code);
		jw_khex(&w, "source_tree_sha1", c->src.tree_sha1, CR_SHA1_LEN);
		jw_khex(&w, "source_tree_sha256", c->src.tree_sha256, CR_SHA256_LEN);
		jw_khex(&w, "deps_tree_sha256", c->deps.tree_sha256, CR_SHA256_LEN);
		jw_key(&w, "exit_code");
		c->result.has_exit_code ? jw_u64(&w, c->result.exit_code) : jw_null(&w);
		jw_ku64(&w, "wall_ms", c->result.wall_ms);
		jw_key(&w, "log");
		jw_obj_begin(&w);
		jw_ku64(&w, "bytes", c->log_bytes);
		jw_kbool(&w, "truncated", c->result.log_dropped != 0);
		jw_ku64(&w, "dropped_bytes", c->result.log_dropped);
		jw_obj_end(&w);
		jw_ku64(&w, "transfer_ms", c->transfer_ms);
		jw_ku64(&w, "transfer_bytes", c->src.bytes + c->deps.bytes);
		jw_khex(&w, "nonce", c->nonce, sizeof c->nonce);
		jw_key(&w, "report");
		if (c->report) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/%s", o->out, BUNDLE_NAME);
			jw_obj_begin(&w);
			jw_kstr(&w, "bundle", ok ? path : "");
			bv_write_json(c->report, &w);
			jw_obj_end(&w);
		} else {
			jw_null(&w);
		}
		jw_key(&w, "artifacts");
		jw_arr_begin(&w);
		for (size_t i = 0; ok && i < o->noutputs; i++) {
			jw_obj_begin(&w);
			jw_kstr(&w, "path", o->outputs[i]);
			jw_ku64(&w, "size", c->artifact_bytes[i]);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
		jw_print(&w, &e);
		cr_buf_free(&b);
		return;
	}
	if (!ok)
		return;
	cr_hex(c->src.tree_sha1, CR_SHA1_LEN, h1);
	cr_hex(c->src.tree_sha256, CR_SHA256_LEN, h2);
	cr_tprintf(stdout, "source tree   %s (sha256 %s)\n", h1, h2);
	cr_hex(c->deps.tree_sha256, CR_SHA256_LEN, h2);
	cr_tprintf(stdout, "deps tree     sha256 %s (%llu files)\n", h2, (unsigned long long)c->deps.files);
	cr_tprintf(stdout, "transfer      %.1f MiB in %.2f s\n", (double)(c->src.bytes + c->deps.bytes) / 1048576,
		   (double)c->transfer_ms / 1000);
	cr_tprintf(stdout, "result        %s: %s (%.1f s)\n", wire_status_name(c->result.status), c->result_detail,
		   (double)c->result.wall_ms / 1000);
	for (size_t i = 0; i < o->noutputs; i++)
		cr_tprintf(stdout, "artifact      %s/%s (%llu bytes)\n", o->out, o->outputs[i],
			   (unsigned long long)c->artifact_bytes[i]);
	if (c->report && c->report->verified) {
		const struct bv_check *pcrs = NULL;
		char pcr0[CR_HEX_SIZE(CR_PCR_LEN)];
		for (size_t i = 0; i < c->report->n; i++)
			if (!strcmp(c->report->checks[i].name, "pcrs"))
				pcrs = &c->report->checks[i];
		cr_hex(c->report->statement.st.pcr[0], CR_PCR_LEN, pcr0);
		char np[256];
		if (bv_not_possible(c->report, np, sizeof np)[0])
			cr_tprintf(stdout,
				   "report        %s/%s: verified (%zu checks), except what was not possible: %s "
				   "(unsigned document: QEMU's emulated NSM; nothing proves where this ran)\n",
				   o->out, BUNDLE_NAME, c->report->n, np);
		else
			cr_tprintf(stdout, "report        %s/%s: verified (%zu checks)\n", o->out, BUNDLE_NAME,
				   c->report->n);
		cr_tprintf(stdout, "image PCR0    %s%s\n", pcr0,
			   pcrs && pcrs->status == BV_SKIP ? " (not pinned: give --eif or --pcr0/1/2)" : "");
	}
}

/* --pcr0/1/2 and --root read as verify_report reads them, now: a typo in
 * them must be a usage error (exit 2) before anything starts, not after a
 * whole enclave build. verify_report reads them again for its checks. */
static int check_report_inputs(struct build_client *c, const struct build_opts *o)
{
	struct verify_inputs *v = calloc(1, sizeof *v);
	int rc = 0;
	if (!v)
		return bc_fail(c, EXIT_TRANSFER, 0, "out of memory");
	vin_init(v);
	for (unsigned i = 0; i < 3 && !rc; i++)
		if (o->pcr_hex[i] && vin_set_pcr(v, i, o->pcr_hex[i], &c->e))
			rc = -1;
	if (!rc && ((o->root && vin_set_root(v, o->root, &c->e)) || vin_check(v, &c->e)))
		rc = -1;
	vin_free(v);
	free(v);
	return rc ? bc_failed(c, EXIT_USAGE) : 0;
}

/* What the build reads from the host, checked before anything starts (an
 * enclave booted, --out made): the trees' entries (types, paths, sizes) and
 * the type and size of each named file, so that a FIFO or a device is
 * refused at once, never opened (see cr_open_input). */
static int check_inputs(struct build_client *c, const struct build_opts *o)
{
	const struct {
		const char *opt, *path;
		uint64_t max;
	} files[] = { { "--local", o->local, EIF_FILE_MAX },
		      { "--eif", o->eif, EIF_FILE_MAX },
		      { "--root", o->root, PEM_FILE_MAX } };
	memset(&c->deps_total, 0, sizeof c->deps_total);
	if (src_stream_measure(o->src, &c->src_total, &c->e)) {
		cr_err_wrap(&c->e, "SRC_DIR");
		return bc_failed(c, EXIT_REFUSED);
	}
	if (o->deps && src_stream_measure(o->deps, &c->deps_total, &c->e)) {
		cr_err_wrap(&c->e, "--deps");
		return bc_failed(c, EXIT_REFUSED);
	}
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		int fd;
		if (!files[i].path)
			continue;
		fd = cr_open_input(files[i].opt, files[i].path, files[i].max, 0, NULL, &c->e);
		if (fd < 0)
			return bc_failed(c, EXIT_USAGE);
		close(fd);
	}
	return check_report_inputs(c, o);
}

/* The exit status of a build that ran and did not succeed. */
static int status_exit(enum wire_status s)
{
	switch (s) {
	case WIRE_ST_TIMEOUT:
	case WIRE_ST_LIMIT: return EXIT_LIMIT;
	case WIRE_ST_OK:
	case WIRE_ST_FAILED:
	case WIRE_ST_MISSING_OUTPUT:
	case WIRE_ST_BAD_OUTPUT: break;
	}
	return EXIT_BUILD_FAILED;
}

/* "the build <words>: detail" */
static const char *status_words(enum wire_status s)
{
	switch (s) {
	case WIRE_ST_MISSING_OUTPUT: return "did not produce its outputs";
	case WIRE_ST_BAD_OUTPUT: return "produced an output that is not a regular file";
	default: return "failed";
	}
}

/* SIGINT, SIGTERM, SIGHUP: shut the connection down, so whatever waits on
 * it returns and the normal failure path cleans up (the staging directory
 * goes; the enclave cancels the build when the connection closes). */
static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t stop_sock = -1;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	if (stop_sock >= 0)
		shutdown(stop_sock, SHUT_RDWR);
}

int cmd_build(int argc, char **argv)
{
	struct build_opts o;
	struct build_client c;
	struct local_enclave le;
	int rc = parse_args(argc, argv, &o), have_le = 0;
	if (rc >= 0)
		return rc;
	/* --timeout 0 asks for the agent's maximum (vsock/README.md: 0 means
	 * the agent's maximum): the client must wait as long as that build may
	 * run, not 0 s plus the margin. */
	uint64_t silence_s = (o.timeout_s ? o.timeout_s : WIRE_MAX_TIMEOUT_S) + ENCLAVE_SILENCE_MARGIN_S;
	struct build_job job = {
		.src = o.src,
		.deps = o.deps,
		.outputs = o.outputs,
		.noutputs = o.noutputs,
		.argv = o.argv,
		.argc = o.argc,
		.sde = o.sde,
		.limits = { .timeout_s = o.timeout_s,
			    .memory_mb = o.memory_mb,
			    .pids = o.pids,
			    .log_bytes = o.log_limit },
	};
	bc_init(&c, &job);
	signal(SIGPIPE, SIG_IGN);
	cr_on_stop_signals(on_stop_signal);
	if (check_inputs(&c, &o)) {
		cr_tprintf(stderr, "cleanroom build: %s\n", c.e.msg);
		return c.exit_code;
	}
	if (o.log && bc_log_file_open(&c, o.log)) {
		cr_tprintf(stderr, "cleanroom build: %s\n", c.e.msg);
		return EXIT_USAGE;
	}
	if (staging_open(&c.st, o.out, &c.e)) {
		cr_tprintf(stderr, "cleanroom build: %s\n", c.e.msg);
		if (c.log_file_open)
			cr_tmpfile_abort(&c.log_file);
		return EXIT_USAGE;
	}
	if (o.local) {
		if (local_enclave_start(&le, o.local, o.machine, o.enclave_memory, o.nsm_ca, 600, &c.e) == 0) {
			have_le = 1;
			c.sock = vsock_client_connect(le.vsock, WIRE_PORT, 120000, NULL, &c.e);
			if (c.sock < 0)
				cr_err_wrap(&c.e,
					    "connect to the build agent (is %s an agent image, built without --cmd?)",
					    o.local);
		}
	} else if (o.vsock) {
		c.sock = vsock_client_connect(o.vsock, WIRE_PORT, 30000, NULL, &c.e);
	} else {
		c.sock = vsock_connect(o.cid, WIRE_PORT, 30000, &c.e);
	}
	stop_sock = c.sock;
	if (stop_signal && c.sock >= 0)
		shutdown(c.sock, SHUT_RDWR);
	if (c.sock >= 0) {
		/* The agent ends a build at its --timeout and answers; an enclave
		 * silent for longer than that plus a margin is hung or stopped. */
		struct timeval tv = { .tv_sec = (time_t)silence_s };
		struct timeval stv = { .tv_sec = ENCLAVE_SEND_STALL_S };
		setsockopt(c.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(c.sock, SOL_SOCKET, SO_SNDTIMEO, &stv, sizeof stv);
		c.build_deadline_s = silence_s;
	}
	rc = c.sock >= 0 ? bc_run(&c) : -1;
	if (rc && c.e.code == CR_E_TIMEOUT) {
		cr_fail(&c.e,
			"the enclave sent nothing for %llu s (the build's --timeout plus %d s): it is hung or stopped",
			(unsigned long long)silence_s, ENCLAVE_SILENCE_MARGIN_S);
		c.exit_code = EXIT_TRANSFER;
	} else if (rc && bc_send_timed_out(&c.e)) {
		cr_fail(&c.e, "the enclave took nothing of what was sent for %d s: it is hung or stopped",
			ENCLAVE_SEND_STALL_S);
		c.exit_code = EXIT_TRANSFER;
	}
	stop_sock = -1;
	if (c.sock >= 0)
		close(c.sock);
	if (stop_signal) {
		rc = -1;
		c.exit_code = 128 + stop_signal;
		cr_fail(&c.e, "stopped by signal %d (%s); nothing was written to %s", (int)stop_signal,
			strsignal(stop_signal), o.out);
	}
	if (rc == 0) {
		if (c.result.status == WIRE_ST_OK) {
			if (verify_report(&c, &o, have_le ? &le : NULL) == 0)
				c.exit_code = staging_commit(&c.st, &c.e) ? EXIT_TRANSFER : EXIT_OK;
			else
				rc = -1; /* c.e says why */
		} else {
			c.exit_code = status_exit(c.result.status);
		}
	}
	if (c.exit_code != EXIT_OK)
		staging_abort(&c.st);
	bc_log_end(&c);
	bc_log_file_close(&c);
	if (rc == 0 && c.exit_code != EXIT_OK && c.exit_code != EXIT_TRANSFER)
		cr_tprintf(stderr, "cleanroom build: the build %s: %s\n", status_words(c.result.status),
			   c.result_detail);
	else if (c.exit_code != EXIT_OK) {
		if (have_le && c.exit_code == EXIT_TRANSFER) {
			char tail[512];
			local_enclave_console_tail(&le, tail, sizeof tail, 3);
			if (tail[0])
				cr_tprintf(stderr, "cleanroom build: enclave console, last lines:\n%s\n", tail);
		}
		cr_tprintf(stderr, "cleanroom build: %s\n", c.e.msg);
	}
	print_summary(&c, &o, c.exit_code == EXIT_OK);
	if (have_le)
		local_enclave_stop(&le);
	if (c.report) {
		bv_result_free(c.report);
		free(c.report);
	}
	bc_free(&c);
	return c.exit_code;
}
