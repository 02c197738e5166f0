/* cleanroom build's side of the build protocol (build_client.h,
 * vsock/README.md). */
#include "host-tool/client/build_client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/term.h"

void bc_init(struct build_client *c, const struct build_job *job)
{
	memset(c, 0, sizeof *c);
	c->job = job;
	cr_buf_init(&c->bundle, WIRE_MAX_BUNDLE);
	br_sha256_init(&c->log_hash);
	c->sock = -1;
	c->exit_code = EXIT_TRANSFER;
	c->progress_tty = isatty(STDERR_FILENO);
	c->last_pct = 101;
}

void bc_free(struct build_client *c)
{
	cr_buf_free(&c->bundle);
}

/* A failure whose message is already in c->e. */
int bc_failed(struct build_client *c, int code)
{
	c->exit_code = code;
	return -1;
}

/* A failure: its message into c->e, with ": strerror(errno)" when
 * with_errno. */
int bc_fail(struct build_client *c, int code, int with_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(&c->e, CR_E_FAIL, with_errno, fmt, ap);
	va_end(ap);
	return bc_failed(c, code);
}

/* A send failed because the other end closed the connection. */
static int peer_closed(const struct cr_err *e)
{
	return e->code == CR_E_SEND && (e->sys_errno == EPIPE || e->sys_errno == ECONNRESET);
}

int bc_send_timed_out(const struct cr_err *e)
{
	return e->code == CR_E_SEND && (e->sys_errno == EAGAIN || e->sys_errno == EWOULDBLOCK);
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
	struct build_client *c = ctx;
	unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
	if (!c->progress_tty || pct == c->last_pct)
		return;
	c->last_pct = pct;
	fprintf(stderr, "\rcleanroom build: sending %.1f of %.1f MiB (%u%%)", (double)done / 1048576,
		(double)total / 1048576, pct);
	if (done == total)
		fputc('\n', stderr);
}

static int expect_accepted(struct build_client *c, enum wire_stream which, const struct src_stats *mine,
			   struct wire_accepted *acc)
{
	struct wire_msg m;
	int r = wire_recv(c->sock, &m, &c->e);
	if (r == 1)
		return bc_fail(c, EXIT_TRANSFER, 0, "the enclave closed the connection");
	if (r)
		return bc_failed(c, EXIT_TRANSFER);
	if (m.type == WIRE_ERROR) {
		cr_fail(&c->e, "the enclave refused the %s: %s", which == WIRE_SRC ? "sources" : "dependencies",
			m.u.error.message);
		r = error_exit(m.u.error.code, 0);
		wire_msg_free(&m);
		return bc_failed(c, r);
	}
	if (m.type != WIRE_ACCEPTED || m.u.accepted.stream != which) {
		cr_fail(&c->e, "protocol: expected accepted(%s), got %s", wire_stream_name(which),
			wire_type_name(m.type));
		wire_msg_free(&m);
		return bc_failed(c, EXIT_TRANSFER);
	}
	*acc = m.u.accepted;
	wire_msg_free(&m);
	if (acc->files != mine->files || acc->bytes != mine->bytes ||
	    memcmp(acc->tree_sha1, mine->tree_sha1, CR_SHA1_LEN) ||
	    memcmp(acc->tree_sha256, mine->tree_sha256, CR_SHA256_LEN))
		return bc_fail(c, EXIT_TRANSFER, 0, "transfer: the enclave's %s tree differs from what was sent",
			       wire_stream_name(which));
	return 0;
}

static int send_request(struct build_client *c)
{
	struct wire_msg m;
	struct wire_request *q = &m.u.request;
	memset(&m, 0, sizeof m);
	m.type = WIRE_REQUEST;
	q->argc = (size_t)c->job->argc;
	for (int i = 0; i < c->job->argc; i++)
		q->argv[i] = c->job->argv[i];
	q->noutputs = c->job->noutputs;
	for (size_t i = 0; i < c->job->noutputs; i++)
		q->outputs[i] = c->job->outputs[i];
	q->sde = c->job->sde;
	q->nonce_len = sizeof c->nonce;
	if (cr_random(c->nonce, sizeof c->nonce, &c->e))
		return bc_fail(c, EXIT_TRANSFER, 0, "%s", c->e.msg);
	memcpy(q->nonce, c->nonce, sizeof c->nonce);
	q->limits = c->job->limits;
	if (wire_send(c->sock, &m, &c->e))
		return bc_failed(c, EXIT_TRANSFER);
	return 0;
}

/* An artifact's data, into the staging directory. */
static int receive_artifact(struct build_client *c, const struct wire_artifact *a)
{
	char path[PATH_MAX];
	uint64_t left = a->size;
	size_t idx = c->st.nfiles;
	int fd, known = 0;
	for (size_t i = 0; i < c->job->noutputs; i++)
		known |= !strcmp(c->job->outputs[i], a->path);
	if (!known || idx >= WIRE_MAX_OUTPUTS)
		return bc_fail(c, EXIT_TRANSFER, 0, "protocol: artifact '%s' was not requested", a->path);
	if (staging_has(&c->st, a->path))
		return bc_fail(c, EXIT_TRANSFER, 0, "protocol: artifact '%s' sent twice", a->path);
	/* The protocol sends artifacts in the order of outputs, and their
	 * sizes are kept by that index (the summary prints them against
	 * --output): one out of order is refused, not mislabelled. */
	if (idx >= c->job->noutputs || strcmp(c->job->outputs[idx], a->path))
		return bc_fail(c, EXIT_TRANSFER, 0,
			       "protocol: artifact '%s' came before '%s' (artifacts come in the order of --output)",
			       a->path, idx < c->job->noutputs ? c->job->outputs[idx] : "");
	fd = staging_create(&c->st, a->path, a->exec ? 0755 : 0644, path, sizeof path, &c->e);
	if (fd < 0)
		return bc_failed(c, EXIT_TRANSFER);
	while (left) {
		struct wire_msg m;
		int r = wire_recv(c->sock, &m, &c->e);
		if (r || m.type != WIRE_DATA || m.u.data.n > left) {
			if (r == 0) {
				cr_fail(&c->e, "protocol: artifact '%s': %s where data was due", a->path,
					wire_type_name(m.type));
				wire_msg_free(&m);
			} else if (r == 1) {
				cr_fail(&c->e, "the enclave closed the connection inside artifact '%s'", a->path);
			}
			close(fd);
			return bc_failed(c, EXIT_TRANSFER);
		}
		if (cr_write_all(fd, m.u.data.p, m.u.data.n)) {
			cr_failp(&c->e, "%s: write", path);
			wire_msg_free(&m);
			close(fd);
			return bc_failed(c, EXIT_TRANSFER);
		}
		left -= m.u.data.n;
		wire_msg_free(&m);
	}
	c->artifact_bytes[idx] = a->size;
	if (fsync(fd) < 0 || close(fd) < 0)
		return bc_fail(c, EXIT_TRANSFER, 1, "%s", path);
	return 0;
}

/* A chunk of the build log: raw into --log, sanitised onto stderr (term.h),
 * whatever stderr is: a build cannot move the cursor, retitle the window,
 * write the clipboard, hide the client's own lines or forge them with \r. */
static int log_chunk(struct build_client *c, const uint8_t *p, size_t n)
{
	/* The agent passes on at most the log limit asked for (its maximum
	 * when none was): more is a hostile peer, which must not fill the
	 * disk through --log or the terminal without end. The log is not
	 * kept then, as nothing else of this build is. */
	uint64_t limit = c->job->limits.log_bytes ? c->job->limits.log_bytes : WIRE_MAX_LOG_BYTES;
	if (n > limit - c->log_bytes) {
		bc_log_end(c);
		if (c->log_file_open) {
			cr_tmpfile_abort(&c->log_file);
			c->log_file_open = 0;
		}
		return bc_fail(c, EXIT_TRANSFER, 0,
			       "protocol: the enclave sent more than the log limit of %llu bytes; nothing was kept",
			       (unsigned long long)limit);
	}
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
	return 0;
}

/* The log is over (or the build ended): what cleanroom says next starts on
 * a line of its own. */
void bc_log_end(struct build_client *c)
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
static int receive_outcome(struct build_client *c)
{
	uint64_t deadline = cr_mono_ms() + c->build_deadline_s * 1000;
	c->build_ran = 1; /* both streams accepted: the build runs now */
	for (;;) {
		struct wire_msg m;
		int r = wire_recv(c->sock, &m, &c->e);
		if (r) {
			bc_log_end(c);
			if (r == 1)
				cr_fail(&c->e, "the enclave closed the connection before the result");
			return bc_failed(c, EXIT_TRANSFER);
		}
		if (m.type == WIRE_LOG && c->build_deadline_s && cr_mono_ms() > deadline) {
			wire_msg_free(&m);
			bc_log_end(c);
			return bc_fail(c, EXIT_TRANSFER, 0,
				       "the enclave still sends the build's log %llu s after it started (the build's "
				       "--timeout plus its margin): it does not keep the limit",
				       (unsigned long long)c->build_deadline_s);
		}
		if (m.type != WIRE_LOG)
			bc_log_end(c);
		switch (m.type) {
		case WIRE_LOG:
			r = log_chunk(c, m.u.data.p, m.u.data.n);
			wire_msg_free(&m);
			if (r)
				return -1;
			continue;
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
			if (m.u.result.bundle &&
			    cr_buf_put(&c->bundle, m.u.result.bundle, m.u.result.bundle_len, &c->e)) {
				wire_msg_free(&m);
				return bc_failed(c, EXIT_TRANSFER);
			}
			c->result.bundle = NULL; /* kept in c->bundle */
			wire_msg_free(&m);
			if (c->result.log_dropped)
				cr_tprintf(stderr,
					   "cleanroom build: build log truncated at %llu bytes; %llu bytes dropped\n",
					   (unsigned long long)c->log_bytes, (unsigned long long)c->result.log_dropped);
			return 0;
		case WIRE_ERROR:
			cr_fail(&c->e, "the enclave failed: %s", m.u.error.message);
			r = error_exit(m.u.error.code, 1);
			wire_msg_free(&m);
			return bc_failed(c, r);
		default:
			cr_fail(&c->e, "protocol: unexpected %s message", wire_type_name(m.type));
			wire_msg_free(&m);
			return bc_failed(c, EXIT_TRANSFER);
		}
		wire_msg_free(&m);
	}
}

/* --log FILE: a temporary file beside it now (so a FILE that cannot be
 * created is refused before anything is sent), renamed into place only once
 * the build ran. */
int bc_log_file_open(struct build_client *c, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return cr_fail(&c->e, "--log %s: exists and is not a regular file", path);
	if (cr_tmpfile_create(&c->log_file, path, &c->e))
		return cr_err_wrap(&c->e, "--log");
	c->log_file_open = 1;
	return 0;
}

void bc_log_file_close(struct build_client *c)
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
static int refused_while_sending(struct build_client *c)
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

/* Sending a stream failed: the agent's refusal if it sent one, else a
 * closed connection or a send that timed out (SO_SNDTIMEO) is a transfer
 * failure (5), and anything else a tree that cannot be sent (3). The same
 * for the sources and the dependencies. */
static int stream_failed(struct build_client *c)
{
	int closed = peer_closed(&c->e);
	if (refused_while_sending(c))
		return -1;
	return bc_failed(c, closed || bc_send_timed_out(&c->e) ? EXIT_TRANSFER : EXIT_REFUSED);
}

int bc_run(struct build_client *c)
{
	uint64_t total, t0;
	total = c->src_total.bytes + c->deps_total.bytes;
	t0 = cr_mono_ms();
	if (send_request(c)) {
		refused_while_sending(c);
		return -1;
	}
	if (src_stream_send(c->job->src, WIRE_SRC, c->sock, total, progress, c, &c->src, &c->e))
		return stream_failed(c);
	if (expect_accepted(c, WIRE_SRC, &c->src, &c->acc_src))
		return -1;
	if (c->job->deps) {
		if (src_stream_send(c->job->deps, WIRE_DEPS, c->sock, total, progress, c, &c->deps, &c->e))
			return stream_failed(c);
	} else {
		struct wire_msg m;
		memset(&m, 0, sizeof m);
		m.type = WIRE_END;
		m.u.end.stream = WIRE_DEPS;
		if (wire_send(c->sock, &m, &c->e) || src_stream_empty(&c->deps, &c->e))
			return bc_failed(c, EXIT_TRANSFER);
	}
	if (expect_accepted(c, WIRE_DEPS, &c->deps, &c->acc_deps))
		return -1;
	/* From the request to the enclave's receipt of both streams. */
	c->transfer_ms = cr_mono_ms() - t0;
	return receive_outcome(c);
}