/* cleanroom build: send sources to an enclave's build agent, build them
 * there, bring the outputs back (vsock/README.md is the protocol). */
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/digest.h"
#include "host-tool/verify/bundle_verify.h"
#include "host-tool/eif/eif.h"
#include "host-tool/commands.h"
#include "base/json.h"
#include "host-tool/run/local_enclave.h"
#include "base/pem.h"
#include "host-tool/client/src_stream.h"
#include "base/term.h"
#include "host-tool/verify/verify_inputs.h"
#include "vsock/vsock.h"
#include "host-tool/client/vsock_client.h"
#include "vsock/wire.h"

/* Exit statuses, documented in --help. */
enum {
	EXIT_OK = 0,
	EXIT_BUILD_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_LIMIT = 4,
	EXIT_TRANSFER = 5,
	EXIT_REPORT = 6,
};

/* How long past the build's own timeout the client waits for a word from
 * the enclave before it gives up on it. */
#define ENCLAVE_SILENCE_MARGIN_S 30

/* The signed report, written beside the outputs (nsm/report.h). */
#define BUNDLE_NAME "cleanroom-bundle.json"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cleanroom build (--cid N | --local FILE.eif | --vsock PATH) --output PATH...\n"
		"                       [--deps DIR] [--out DIR] [--timeout S] [--memory MiB] [--pids N]\n"
		"                       [--root PEM] [--eif FILE | --pcr0 HEX --pcr1 HEX --pcr2 HEX]\n"
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
		"into --out with the outputs. Before anything is written, the report is verified\n"
		"exactly as `cleanroom verify` does (attestation chain, signature, bindings, the\n"
		"outputs' digests, this build's nonce, and the image's PCRs when known); a report\n"
		"that is missing or fails a check fails the build (exit 6).\n"
		"\n"
		"where:\n"
		"  --cid N            a Nitro enclave's CID (AF_VSOCK, port %d)\n"
		"  --local FILE.eif   boot FILE.eif locally with 'cleanroom run' for this one build\n"
		"  --vsock PATH       an enclave already running under 'cleanroom run': its host\n"
		"                     socket (printed by run; DIR/vsock with --vsock-dir DIR)\n"
		"  --enclave-memory MiB  RAM of that local enclave (default: run's default)\n"
		"  --nsm-ca DIR       the local enclave's mock-NSM test CA (run's --nsm-ca): kept, so\n"
		"                     `cleanroom verify --root DIR/root.pem` works after the run\n"
		"report verification:\n"
		"  --root PEM         the root the attestation must chain to (default: the AWS Nitro\n"
		"                     Enclaves root G1; with --local: the local run's mock NSM root;\n"
		"                     with --vsock: pass the run's nsm_root)\n"
		"  --eif FILE         the image the enclave must run: its PCR0/1/2 are checked (with\n"
		"                     --local: that EIF)\n"
		"  --pcr0/--pcr1/--pcr2 HEX  the same, as values (all three)\n"
		"options:\n"
		"  --output PATH      a file the build produces (1 to %d; repeat the option)\n"
		"  --deps DIR         vendored dependencies, sent as a separate stream and digest\n"
		"  --out DIR          where the outputs go (default: ./cleanroom-out)\n"
		"  --timeout S        wall-clock limit of the build (default: %d)\n"
		"  --memory MiB       memory limit of the build (default: the enclave's maximum)\n"
		"  --pids N           process limit of the build, at least %d (default: the enclave's\n"
		"                     maximum, set below the kernel's own process limits so that\n"
		"                     the build's limit is the one that stops a fork bomb)\n"
		"  --log FILE         also write the build log, byte for byte, to FILE (mode 0600;\n"
		"                     written when the build ran, whatever its outcome)\n"
		"  --log-limit BYTES  the enclave keeps this much of the log and drops the rest\n"
		"                     (%d to %llu, the default); a cut log is reported, and the\n"
		"                     report records the bytes kept and dropped\n"
		"  --source-date-epoch N  SOURCE_DATE_EPOCH inside the build (default: the variable\n"
		"                     SOURCE_DATE_EPOCH, else 0)\n"
		"  --json             a JSON summary on stdout (the log stays on stderr)\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 built, outputs written; 1 the build failed (non-zero exit, signal,\n"
		"an output missing or not a regular file); 2 usage error; 3 the inputs were refused (a path, file type,\n"
		"symlink or size rule); 4 the build hit its time, memory or process limit;\n"
		"5 transfer, connection or enclave error (also: the enclave silent for --timeout\n"
		"plus 30 s); 6 the signed report is missing or does not\n"
		"verify; 128+N stopped by signal N (SIGINT, SIGTERM, SIGHUP: the connection is closed,\n"
		"which cancels the build, and nothing is written). One line on stderr says which.\n"
		"\n"
		"example:\n"
		"  cleanroom build --local build/demo/enclave.eif --output hello ./hello-src -- make hello\n",
		WIRE_PORT, WIRE_MAX_OUTPUTS, WIRE_DEFAULT_TIMEOUT_S, WIRE_MIN_PIDS, WIRE_MIN_LOG_BYTES, (unsigned long long)WIRE_MAX_LOG_BYTES);
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
	const char *root, *eif, *pcr_hex[3], *nsm_ca;
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
		{"cid", required_argument, NULL, 'c'},     {"local", required_argument, NULL, 'l'},
		{"enclave-memory", required_argument, NULL, 'M'}, {"vsock", required_argument, NULL, 'v'},
		{"output", required_argument, NULL, 'o'},  {"deps", required_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'O'},     {"timeout", required_argument, NULL, 't'},
		{"memory", required_argument, NULL, 'm'},  {"pids", required_argument, NULL, 'p'},
		{"source-date-epoch", required_argument, NULL, 's'},
		{"root", required_argument, NULL, 'R'},    {"eif", required_argument, NULL, 'E'},
		{"pcr0", required_argument, NULL, '0'},    {"pcr1", required_argument, NULL, '1'},
		{"pcr2", required_argument, NULL, '2'},    {"nsm-ca", required_argument, NULL, 'N'},
		{"log", required_argument, NULL, 'L'},     {"log-limit", required_argument, NULL, 'B'},
		{"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
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
				cr_fail(&e, "--output '%s': not valid UTF-8 (the report names outputs in JSON text)", optarg);
				cr_tprintf(stderr, "cleanroom build: %s\n", e.msg);
				return EXIT_USAGE;
			}
			if (!strcmp(optarg, BUNDLE_NAME)) {
				cr_tprintf(stderr, "cleanroom build: --output %s: that name is the signed report's\n", optarg);
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
				fprintf(stderr, "cleanroom build: --pids '%s': expected at least %d processes (the shell "
					"and the sandbox need some)\n", optarg, WIRE_MIN_PIDS);
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
		case '0': case '1': case '2': o->pcr_hex[c - '0'] = optarg; break;
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
			cr_fail(&e, "command argument %d '%s': not valid UTF-8 (the report records the command as JSON text)",
				i, o->argv[i]);
			cr_tprintf(stderr, "cleanroom build: %s\n", e.msg);
			return EXIT_USAGE;
		}
	return -1;
}

/* ---------------------------------------------------------------- staging */

/* Outputs land in a staging directory inside --out and are renamed into
 * place only when the build succeeded. */
struct staging {
	char out[PATH_MAX], dir[PATH_MAX];
	int created_out;
	char *files[WIRE_MAX_OUTPUTS + 1]; /* the outputs and the bundle */
	size_t nfiles;
};

static int mkdir_p(const char *path, struct cr_err *e)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cr_failp(e, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return cr_failp(e, "mkdir %s", p);
	return 0;
}

static int staging_open(struct staging *st, const char *out, struct cr_err *e)
{
	struct stat sb;
	memset(st, 0, sizeof *st);
	snprintf(st->out, sizeof st->out, "%s", out);
	if (stat(out, &sb) < 0) {
		if (errno != ENOENT)
			return cr_failp(e, "--out %s", out);
		if (mkdir_p(out, e))
			return cr_err_wrap(e, "--out");
		st->created_out = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		return cr_fail(e, "--out %s: not a directory", out);
	}
	snprintf(st->dir, sizeof st->dir, "%s/.cleanroom-staging.XXXXXX", out);
	if (!mkdtemp(st->dir))
		return cr_failp(e, "--out %s: create a staging directory", out);
	return 0;
}

static void staging_abort(struct staging *st)
{
	if (!st->dir[0])
		return;
	/* Only our own files: remove them one by one, then the directories. */
	for (size_t i = 0; i < st->nfiles; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", st->dir, st->files[i]);
		unlink(p);
		for (char *s = strrchr(p, '/'); s && s > p + strlen(st->dir); s = strrchr(p, '/')) {
			*s = 0;
			if (rmdir(p) < 0)
				break;
		}
		free(st->files[i]);
	}
	st->nfiles = 0;
	rmdir(st->dir);
	if (st->created_out)
		rmdir(st->out);
	st->dir[0] = 0;
}

static int staging_commit(struct staging *st, struct cr_err *e)
{
	for (size_t i = 0; i < st->nfiles; i++) {
		char from[PATH_MAX], to[PATH_MAX], parent[PATH_MAX];
		char *slash;
		snprintf(from, sizeof from, "%s/%s", st->dir, st->files[i]);
		snprintf(to, sizeof to, "%s/%s", st->out, st->files[i]);
		snprintf(parent, sizeof parent, "%s", to);
		slash = strrchr(parent, '/');
		*slash = 0;
		if (mkdir_p(parent, e) || rename(from, to) < 0) {
			if (!e->msg[0] || errno)
				cr_failp(e, "move %s into place", to);
			return -1;
		}
	}
	staging_abort(st); /* removes the now empty staging directory */
	return 0;
}

/* ---------------------------------------------------------------- session */

struct client {
	struct build_opts *o;
	int sock;
	struct staging st;
	struct src_stats src, deps;
	struct src_stats src_total, deps_total; /* measured before anything starts */
	struct wire_accepted acc_src, acc_deps;
	struct wire_result result;
	int have_result;              /* result holds the enclave's */
	char result_detail[WIRE_MAX_MESSAGE];
	int exit_code;
	struct cr_err e;
	int progress_tty;
	unsigned last_pct;
	uint64_t artifact_bytes[WIRE_MAX_OUTPUTS];
	uint64_t transfer_ms;
	uint8_t nonce[CR_SHA256_LEN]; /* as many random bytes as a SHA-256 */
	struct cr_buf bundle;         /* the signed report as received */
	struct bv_result *report;     /* its verification */
	/* The build log: shown sanitised on stderr, kept raw in --log. */
	struct cr_term_file log_out;
	int log_open;                 /* log lines are being shown */
	uint8_t log_last;             /* its last byte */
	uint64_t log_bytes;           /* received */
	br_sha256_context log_hash;   /* of the log received: the report must sign the same */
	struct cr_tmpfile log_file;   /* --log, renamed into place once the build ran */
	int log_file_open, build_ran, log_write_failed;
};

/* A failure whose message is already in c->e. */
static int fail_with(struct client *c, int code)
{
	c->exit_code = code;
	return -1;
}

/* A failure: its message into c->e, with ": strerror(errno)" when
 * with_errno. */
static int fail_msg(struct client *c, int code, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_msg(struct client *c, int code, int with_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(&c->e, CR_E_FAIL, with_errno, fmt, ap);
	va_end(ap);
	return fail_with(c, code);
}

/* A send failed because the other end closed the connection. */
static int peer_closed(const struct cr_err *e)
{
	return e->code == CR_E_SEND && (e->sys_errno == EPIPE || e->sys_errno == ECONNRESET);
}

/* The exit status for the agent's error message: while the request and
 * sources are on their way, or once the build ran. */
static int error_exit(enum wire_err_code code, int build_ran)
{
	switch (code) {
	case WIRE_ERR_REFUSED: return build_ran ? EXIT_TRANSFER : EXIT_REFUSED;
	case WIRE_ERR_LIMIT: return build_ran ? EXIT_LIMIT : EXIT_REFUSED;
	case WIRE_ERR_PROTOCOL:
	case WIRE_ERR_BUSY:
	case WIRE_ERR_INTERNAL: break;
	}
	return EXIT_TRANSFER;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	struct client *c = ctx;
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	if (!c->progress_tty || pct == c->last_pct)
		return;
	c->last_pct = pct;
	fprintf(stderr, "\rcleanroom build: sending %.1f of %.1f MiB (%u%%)", (double)done / 1048576,
		(double)total / 1048576, pct);
	if (done == total)
		fputc('\n', stderr);
}

static int expect_accepted(struct client *c, enum wire_stream which, const struct src_stats *mine,
			   struct wire_accepted *acc)
{
	struct wire_msg m;
	int r = wire_recv(c->sock, &m, &c->e);
	if (r == 1)
		return fail_msg(c, EXIT_TRANSFER, 0, "the enclave closed the connection");
	if (r)
		return fail_with(c, EXIT_TRANSFER);
	if (m.type == WIRE_ERROR) {
		cr_fail(&c->e, "the enclave refused the %s: %s", which == WIRE_SRC ? "sources" : "dependencies",
			m.u.error.message);
		r = error_exit(m.u.error.code, 0);
		wire_msg_free(&m);
		return fail_with(c, r);
	}
	if (m.type != WIRE_ACCEPTED || m.u.accepted.stream != which) {
		cr_fail(&c->e, "protocol: expected accepted(%s), got %s", wire_stream_name(which), wire_type_name(m.type));
		wire_msg_free(&m);
		return fail_with(c, EXIT_TRANSFER);
	}
	*acc = m.u.accepted;
	wire_msg_free(&m);
	if (acc->files != mine->files || acc->bytes != mine->bytes || memcmp(acc->tree_sha1, mine->tree_sha1, CR_SHA1_LEN) ||
	    memcmp(acc->tree_sha256, mine->tree_sha256, CR_SHA256_LEN))
		return fail_msg(c, EXIT_TRANSFER, 0, "transfer: the enclave's %s tree differs from what was sent",
				wire_stream_name(which));
	return 0;
}

static int send_request(struct client *c)
{
	struct wire_msg m;
	struct wire_request *q = &m.u.request;
	memset(&m, 0, sizeof m);
	m.type = WIRE_REQUEST;
	q->argc = (size_t)c->o->argc;
	for (int i = 0; i < c->o->argc; i++)
		q->argv[i] = c->o->argv[i];
	q->noutputs = c->o->noutputs;
	for (size_t i = 0; i < c->o->noutputs; i++)
		q->outputs[i] = c->o->outputs[i];
	q->sde = c->o->sde;
	q->nonce_len = sizeof c->nonce;
	if (getrandom(c->nonce, sizeof c->nonce, 0) != (ssize_t)sizeof c->nonce)
		return fail_msg(c, EXIT_TRANSFER, 1, "getrandom");
	memcpy(q->nonce, c->nonce, sizeof c->nonce);
	q->limits = (struct wire_limits){c->o->timeout_s, c->o->memory_mb, c->o->pids, 0, 0, 0, c->o->log_limit};
	if (wire_send(c->sock, &m, &c->e))
		return fail_with(c, EXIT_TRANSFER);
	return 0;
}

/* An artifact's data, into the staging directory. */
static int receive_artifact(struct client *c, const struct wire_artifact *a)
{
	char path[PATH_MAX], parent[PATH_MAX];
	uint64_t left = a->size;
	size_t idx = c->st.nfiles;
	int fd, known = 0;
	for (size_t i = 0; i < c->o->noutputs; i++)
		known |= !strcmp(c->o->outputs[i], a->path);
	if (!known || idx >= WIRE_MAX_OUTPUTS)
		return fail_msg(c, EXIT_TRANSFER, 0, "protocol: artifact '%s' was not requested", a->path);
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(c->st.files[i], a->path))
			return fail_msg(c, EXIT_TRANSFER, 0, "protocol: artifact '%s' sent twice", a->path);
	snprintf(path, sizeof path, "%s/%s", c->st.dir, a->path);
	snprintf(parent, sizeof parent, "%s", path);
	*strrchr(parent, '/') = 0;
	if (mkdir_p(parent, &c->e))
		return fail_with(c, EXIT_TRANSFER);
	if (!(c->st.files[idx] = strdup(a->path)))
		return fail_msg(c, EXIT_TRANSFER, 0, "out of memory");
	c->st.nfiles++;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, a->exec ? 0755 : 0644);
	if (fd < 0)
		return fail_msg(c, EXIT_TRANSFER, 1, "%s", path);
	while (left) {
		struct wire_msg m;
		int r = wire_recv(c->sock, &m, &c->e);
		if (r || m.type != WIRE_DATA || m.u.data.n > left) {
			if (r == 0) {
				cr_fail(&c->e, "protocol: artifact '%s': %s where data was due", a->path, wire_type_name(m.type));
				wire_msg_free(&m);
			} else if (r == 1) {
				cr_fail(&c->e, "the enclave closed the connection inside artifact '%s'", a->path);
			}
			close(fd);
			return fail_with(c, EXIT_TRANSFER);
		}
		if (cr_write_all(fd, m.u.data.p, m.u.data.n)) {
			cr_failp(&c->e, "%s: write", path);
			wire_msg_free(&m);
			close(fd);
			return fail_with(c, EXIT_TRANSFER);
		}
		left -= m.u.data.n;
		wire_msg_free(&m);
	}
	c->artifact_bytes[idx] = a->size;
	if (fsync(fd) < 0 || close(fd) < 0)
		return fail_msg(c, EXIT_TRANSFER, 1, "%s", path);
	return 0;
}

/* A chunk of the build log: raw into --log, sanitised onto stderr (term.h),
 * whatever stderr is: a build cannot move the cursor, retitle the window,
 * write the clipboard, hide the client's own lines or forge them with \r. */
static void log_chunk(struct client *c, const uint8_t *p, size_t n)
{
	c->log_bytes += n;
	br_sha256_update(&c->log_hash, p, n);
	if (c->log_file_open && !c->log_write_failed && cr_write_all(c->log_file.fd, p, n))
		c->log_write_failed = errno ? errno : EIO;
	if (!c->log_open) {
		cr_term_file_init(&c->log_out, stderr, CR_TERM_MULTILINE);
		c->log_open = 1;
	}
	cr_term_feed(&c->log_out.t, p, n);
	c->log_last = p[n - 1];
	fflush(stderr);
}

/* The log is over (or the build ended): what cleanroom says next starts on
 * a line of its own. */
static void log_end(struct client *c)
{
	if (!c->log_open)
		return;
	cr_term_end(&c->log_out.t);
	if (c->log_last != '\n')
		fputc('\n', stderr);
	fflush(stderr);
	c->log_open = 0;
}

/* Logs, artifacts, then the result. */
static int receive_outcome(struct client *c)
{
	c->build_ran = 1; /* both streams accepted: the build runs now */
	for (;;) {
		struct wire_msg m;
		int r = wire_recv(c->sock, &m, &c->e);
		if (r) {
			log_end(c);
			if (r == 1)
				cr_fail(&c->e, "the enclave closed the connection before the result");
			return fail_with(c, EXIT_TRANSFER);
		}
		if (m.type != WIRE_LOG)
			log_end(c);
		switch (m.type) {
		case WIRE_LOG:
			log_chunk(c, m.u.data.p, m.u.data.n);
			break;
		case WIRE_ARTIFACT:
			r = receive_artifact(c, &m.u.artifact);
			wire_msg_free(&m);
			if (r)
				return -1;
			continue;
		case WIRE_RESULT:
			c->result = m.u.result;
			c->have_result = 1;
			/* the enclave's words, shown as one line (term.h) */
			cr_term_str(m.u.result.detail, strlen(m.u.result.detail), 0, c->result_detail,
				    sizeof c->result_detail);
			if (m.u.result.bundle && cr_buf_put(&c->bundle, m.u.result.bundle, m.u.result.bundle_len, &c->e)) {
				wire_msg_free(&m);
				return fail_with(c, EXIT_TRANSFER);
			}
			c->result.bundle = NULL; /* kept in c->bundle */
			wire_msg_free(&m);
			if (c->result.log_dropped)
				cr_tprintf(stderr, "cleanroom build: build log truncated at %llu bytes; %llu bytes dropped\n",
					(unsigned long long)c->log_bytes, (unsigned long long)c->result.log_dropped);
			return 0;
		case WIRE_ERROR:
			cr_fail(&c->e, "the enclave failed: %s", m.u.error.message);
			r = error_exit(m.u.error.code, 1);
			wire_msg_free(&m);
			return fail_with(c, r);
		default:
			cr_fail(&c->e, "protocol: unexpected %s message", wire_type_name(m.type));
			wire_msg_free(&m);
			return fail_with(c, EXIT_TRANSFER);
		}
		wire_msg_free(&m);
	}
}

/* The signed report of a successful build: into the staging directory
 * beside the outputs, then verified against them (bundle_verify.h) with this
 * build's nonce, the root and the image the options (or the local run) name. */
static int verify_report(struct client *c, const struct local_enclave *le)
{
	struct verify_inputs *v;
	const char *paths[WIRE_MAX_OUTPUTS];
	char bundle_path[PATH_MAX], line[1024];
	const char *root = c->o->root, *eif = c->o->eif;
	int rc = -1;
	if (!c->bundle.len)
		return fail_msg(c, EXIT_REPORT, 0, "report: the enclave sent no signed report (%s)", c->result_detail);
	snprintf(bundle_path, sizeof bundle_path, "%s/%s", c->st.dir, BUNDLE_NAME);
	if (cr_write_file_atomic(bundle_path, c->bundle.p, c->bundle.len, 0644, &c->e))
		return fail_with(c, EXIT_TRANSFER);
	if (!(c->st.files[c->st.nfiles] = strdup(BUNDLE_NAME)))
		return fail_msg(c, EXIT_TRANSFER, 0, "out of memory");
	c->st.nfiles++;
	int local_pcrs = 0;
	if (le) { /* a local run: its mock NSM's root, and the EIF it booted */
		if (!root && le->nsm_root[0])
			root = le->nsm_root;
		/* run measured the EIF before booting it: no second pass over it */
		if (!eif && !c->o->pcr_hex[0] && !c->o->pcr_hex[1] && !c->o->pcr_hex[2]) {
			local_pcrs = le->have_pcrs;
			if (!local_pcrs)
				eif = c->o->local;
		}
	}
	v = calloc(1, sizeof *v);
	c->report = calloc(1, sizeof *c->report);
	if (!v || !c->report) {
		free(v);
		return fail_msg(c, EXIT_TRANSFER, 0, "out of memory");
	}
	vin_init(v);
	for (unsigned i = 0; i < 3; i++)
		if (c->o->pcr_hex[i] && vin_set_pcr(v, i, c->o->pcr_hex[i], &c->e))
			goto input_error;
	if ((root && vin_set_root(v, root, &c->e)) || (eif && vin_set_eif(v, eif, &c->e)) || vin_check(v, &c->e))
		goto input_error;
	if (local_pcrs) {
		char desc[4200];
		snprintf(desc, sizeof desc, "the EIF %s", c->o->local);
		vin_set_pcrs(v, le->pcr[0], le->pcr[1], le->pcr[2], desc);
	}
	vin_set_nonce_bytes(v, c->nonce, sizeof c->nonce);
	{
		char(*names)[PATH_MAX] = calloc(c->o->noutputs, PATH_MAX);
		if (!names) {
			cr_fail(&c->e, "out of memory");
			fail_with(c, EXIT_TRANSFER);
			goto done;
		}
		for (size_t i = 0; i < c->o->noutputs; i++) {
			snprintf(names[i], PATH_MAX, "%s/%s", c->st.dir, c->o->outputs[i]);
			paths[i] = names[i];
		}
		v->pol.artifacts = paths;
		v->pol.nartifacts = c->o->noutputs;
		rc = bundle_verify(c->bundle.p, c->bundle.len, &v->pol, c->report);
		free(names);
	}
	if (rc == 0) {
		/* The log shown is the one the enclave signed (it crossed the
		 * untrusted host on its way here), and so is what was cut. */
		const struct report_statement *st = &c->report->statement.st;
		uint8_t got[CR_SHA256_LEN];
		br_sha256_out(&c->log_hash, got);
		if (st->log_bytes != c->log_bytes || memcmp(st->log_sha256, got, CR_SHA256_LEN) || st->log_dropped != c->result.log_dropped) {
			char hs[CR_HEX_SIZE(CR_SHA256_LEN)], hg[CR_HEX_SIZE(CR_SHA256_LEN)];
			cr_hex(st->log_sha256, CR_SHA256_LEN, hs);
			cr_hex(got, CR_SHA256_LEN, hg);
			cr_fail(&c->e,
				"report: the build log received (%llu bytes, sha256 %s, %llu dropped) is not the one the report "
				"signs (%llu bytes, sha256 %s, %llu dropped)",
				(unsigned long long)c->log_bytes, hg, (unsigned long long)c->result.log_dropped,
				(unsigned long long)st->log_bytes, hs, (unsigned long long)st->log_dropped);
			rc = -1;
			fail_with(c, EXIT_REPORT);
		}
	} else {
		cr_fail(&c->e, "report: %s%s", bv_first_failure(c->report, line, sizeof line),
			c->o->vsock && !root ? " (an enclave under 'cleanroom run' chains to its nsm_root: pass --root)"
					     : "");
		fail_with(c, EXIT_REPORT);
	}
	goto done;
input_error:
	fail_with(c, EXIT_USAGE);
done:
	vin_free(v);
	free(v);
	return rc;
}

static void print_summary(struct client *c, int ok)
{
	char h1[CR_HEX_SIZE(CR_SHA1_LEN)], h2[CR_HEX_SIZE(CR_SHA256_LEN)];
	if (c->o->json) {
		struct cr_buf b;
		struct json_w w;
		struct cr_err e;
		cr_buf_init(&b, 1 << 16);
		jw_init(&w, &b, 1);
		jw_obj_begin(&w);
		jw_kstr(&w, "status", c->have_result ? wire_status_name(c->result.status) : "error");
		jw_kstr(&w, "detail", c->have_result ? c->result_detail : c->e.msg);
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
			snprintf(path, sizeof path, "%s/%s", c->o->out, BUNDLE_NAME);
			jw_obj_begin(&w);
			jw_kstr(&w, "bundle", ok ? path : "");
			bv_write_json(c->report, &w);
			jw_obj_end(&w);
		} else {
			jw_null(&w);
		}
		jw_key(&w, "artifacts");
		jw_arr_begin(&w);
		for (size_t i = 0; ok && i < c->o->noutputs; i++) {
			jw_obj_begin(&w);
			jw_kstr(&w, "path", c->o->outputs[i]);
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
	for (size_t i = 0; i < c->o->noutputs; i++)
		cr_tprintf(stdout, "artifact      %s/%s (%llu bytes)\n", c->o->out, c->o->outputs[i],
			   (unsigned long long)c->artifact_bytes[i]);
	if (c->report && c->report->verified) {
		const struct bv_check *pcrs = NULL;
		char pcr0[CR_HEX_SIZE(CR_PCR_LEN)];
		for (size_t i = 0; i < c->report->n; i++)
			if (!strcmp(c->report->checks[i].name, "pcrs"))
				pcrs = &c->report->checks[i];
		cr_hex(c->report->statement.st.pcr[0], CR_PCR_LEN, pcr0);
		cr_tprintf(stdout, "report        %s/%s: verified (%zu checks)\n", c->o->out, BUNDLE_NAME, c->report->n);
		cr_tprintf(stdout, "image PCR0    %s%s\n", pcr0,
		       pcrs && pcrs->status == BV_SKIP ? " (not pinned: give --eif or --pcr0/1/2)" : "");
	}
}

/* --log FILE: a temporary file beside it now (so a FILE that cannot be
 * created is refused before anything is sent), renamed into place only once
 * the build ran. */
static int log_file_open(struct client *c, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return cr_fail(&c->e, "--log %s: exists and is not a regular file", path);
	if (cr_tmpfile_create(&c->log_file, path, &c->e))
		return cr_err_wrap(&c->e, "--log");
	c->log_file_open = 1;
	return 0;
}

static void log_file_close(struct client *c)
{
	struct cr_err e;
	if (!c->log_file_open)
		return;
	c->log_file_open = 0;
	if (!c->build_ran) { /* nothing ran: no log, no file */
		cr_tmpfile_abort(&c->log_file);
		return;
	}
	if (c->log_write_failed) {
		errno = c->log_write_failed;
		cr_failp(&e, "--log %s: write", c->log_file.dst);
		cr_tmpfile_abort(&c->log_file);
		cr_tprintf(stderr, "cleanroom build: %s; the log was not kept\n", e.msg);
		return;
	}
	if (cr_tmpfile_commit(&c->log_file, 0600, &e))
		cr_tprintf(stderr, "cleanroom build: --log: %s; the log was not kept\n", e.msg);
}

/* A send failed because the enclave closed the connection: it may have
 * refused the request (a limit, a path) while the sources were still on
 * their way, and its error message is then waiting to be read. 1 when it
 * was (c->e and the exit status say why), else 0. */
static int refused_while_sending(struct client *c)
{
	struct wire_msg m;
	struct cr_err ignored;
	if (!peer_closed(&c->e))
		return 0;
	if (wire_recv(c->sock, &m, &ignored) != 0)
		return 0;
	if (m.type != WIRE_ERROR) {
		wire_msg_free(&m);
		return 0;
	}
	cr_fail(&c->e, "the enclave refused the request: %s", m.u.error.message);
	c->exit_code = error_exit(m.u.error.code, 0);
	wire_msg_free(&m);
	return 1;
}

/* What the build reads from the host, checked before anything starts (an
 * enclave booted, --out made): the trees' entries (types, paths, sizes) and
 * the type and size of each named file, so that a FIFO or a device is
 * refused at once, never opened (see cr_open_input). */
static int check_inputs(struct client *c)
{
	const struct build_opts *o = c->o;
	const struct {
		const char *opt, *path;
		uint64_t max;
	} files[] = {{"--local", o->local, EIF_FILE_MAX}, {"--eif", o->eif, EIF_FILE_MAX}, {"--root", o->root, PEM_FILE_MAX}};
	memset(&c->deps_total, 0, sizeof c->deps_total);
	if (src_stream_measure(o->src, &c->src_total, &c->e)) {
		cr_err_wrap(&c->e, "SRC_DIR");
		return fail_with(c, EXIT_REFUSED);
	}
	if (o->deps && src_stream_measure(o->deps, &c->deps_total, &c->e)) {
		cr_err_wrap(&c->e, "--deps");
		return fail_with(c, EXIT_REFUSED);
	}
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		int fd;
		if (!files[i].path)
			continue;
		fd = cr_open_input(files[i].opt, files[i].path, files[i].max, 0, NULL, &c->e);
		if (fd < 0)
			return fail_with(c, EXIT_USAGE);
		close(fd);
	}
	return 0;
}

static int run_client(struct client *c)
{
	uint64_t total, t0;
	total = c->src_total.bytes + c->deps_total.bytes;
	t0 = cr_mono_ms();
	if (send_request(c)) {
		refused_while_sending(c);
		return -1;
	}
	if (src_stream_send(c->o->src, WIRE_SRC, c->sock, total, progress, c, &c->src, &c->e)) {
		int closed = peer_closed(&c->e);
		if (refused_while_sending(c))
			return -1;
		return fail_with(c, closed ? EXIT_TRANSFER : EXIT_REFUSED);
	}
	if (expect_accepted(c, WIRE_SRC, &c->src, &c->acc_src))
		return -1;
	if (c->o->deps) {
		if (src_stream_send(c->o->deps, WIRE_DEPS, c->sock, total, progress, c, &c->deps, &c->e))
			return fail_with(c, EXIT_REFUSED);
	} else {
		struct wire_msg m;
		memset(&m, 0, sizeof m);
		m.type = WIRE_END;
		m.u.end.stream = WIRE_DEPS;
		if (wire_send(c->sock, &m, &c->e) || src_stream_empty(&c->deps, &c->e))
			return fail_with(c, EXIT_TRANSFER);
	}
	if (expect_accepted(c, WIRE_DEPS, &c->deps, &c->acc_deps))
		return -1;
	/* From the request to the enclave's receipt of both streams. */
	c->transfer_ms = cr_mono_ms() - t0;
	return receive_outcome(c);
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
	struct client c;
	struct local_enclave le;
	int rc = parse_args(argc, argv, &o), have_le = 0;
	if (rc >= 0)
		return rc;
	memset(&c, 0, sizeof c);
	c.o = &o;
	cr_buf_init(&c.bundle, WIRE_MAX_BUNDLE);
	br_sha256_init(&c.log_hash);
	c.sock = -1;
	c.exit_code = EXIT_TRANSFER;
	c.progress_tty = isatty(STDERR_FILENO);
	c.last_pct = 101;
	signal(SIGPIPE, SIG_IGN);
	cr_on_stop_signals(on_stop_signal);
	if (check_inputs(&c)) {
		cr_tprintf(stderr, "cleanroom build: %s\n", c.e.msg);
		return c.exit_code;
	}
	if (o.log && log_file_open(&c, o.log)) {
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
		if (local_enclave_start(&le, o.local, o.enclave_memory, o.nsm_ca, 600, &c.e) == 0) {
			have_le = 1;
			c.sock = vsock_client_connect(le.vsock, WIRE_PORT, 120000, NULL, &c.e);
			if (c.sock < 0)
				cr_err_wrap(&c.e, "connect to the build agent (is %s an agent image, built without --cmd?)",
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
		struct timeval tv = {.tv_sec = (time_t)(o.timeout_s + ENCLAVE_SILENCE_MARGIN_S)};
		setsockopt(c.sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	rc = c.sock >= 0 ? run_client(&c) : -1;
	if (rc && c.e.code == CR_E_TIMEOUT) {
		cr_fail(&c.e, "the enclave sent nothing for %llu s (the build's --timeout plus %d s): it is hung or stopped",
			(unsigned long long)(o.timeout_s + ENCLAVE_SILENCE_MARGIN_S), ENCLAVE_SILENCE_MARGIN_S);
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
			if (verify_report(&c, have_le ? &le : NULL) == 0)
				c.exit_code = staging_commit(&c.st, &c.e) ? EXIT_TRANSFER : EXIT_OK;
			else
				rc = -1; /* c.e says why */
		} else {
			c.exit_code = status_exit(c.result.status);
		}
	}
	if (c.exit_code != EXIT_OK)
		staging_abort(&c.st);
	log_end(&c);
	log_file_close(&c);
	if (rc == 0 && c.exit_code != EXIT_OK && c.exit_code != EXIT_TRANSFER)
		cr_tprintf(stderr, "cleanroom build: the build %s: %s\n", status_words(c.result.status), c.result_detail);
	else if (c.exit_code != EXIT_OK) {
		if (have_le && c.exit_code == EXIT_TRANSFER) {
			char tail[512];
			local_enclave_console_tail(&le, tail, sizeof tail, 3);
			if (tail[0])
				cr_tprintf(stderr, "cleanroom build: enclave console, last lines:\n%s\n", tail);
		}
		cr_tprintf(stderr, "cleanroom build: %s\n", c.e.msg);
	}
	print_summary(&c, c.exit_code == EXIT_OK);
	if (have_le)
		local_enclave_stop(&le);
	if (c.report) {
		bv_result_free(c.report);
		free(c.report);
	}
	cr_buf_free(&c.bundle);
	return c.exit_code;
}
