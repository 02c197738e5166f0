/* The client side of the build protocol (vsock/README.md), as cleanroom
 * build speaks it: the request, the source and dependency streams (checked
 * against the enclave's receipt), the build log (sanitised on stderr, raw
 * into --log), the artifacts (into a staging directory), the result and the
 * signed report's bytes. Deciding what the outcome means (verifying the
 * report, committing the outputs, the exit status) is the caller's. */
#ifndef CLEANROOM_BUILD_CLIENT_H
#define CLEANROOM_BUILD_CLIENT_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/term.h"
#include "base/util.h"
#include "host-tool/client/src_stream.h"
#include "host-tool/client/staging.h"
#include "vsock/wire.h"

/* How a build ends: cleanroom build's exit statuses (documented in its
 * --help). Every failure sets one in exit_code. */
enum {
	EXIT_OK = 0,
	EXIT_BUILD_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_LIMIT = 4,
	EXIT_TRANSFER = 5,
	EXIT_REPORT = 6,
};

/* What to build: the trees, the command, the outputs, the limits asked. */
struct build_job {
	const char *src, *deps; /* deps may be NULL */
	char *const *outputs;
	size_t noutputs;
	char *const *argv;
	int argc;
	uint64_t sde;
	struct wire_limits limits;
};

struct bv_result;

struct build_client {
	const struct build_job *job;
	int sock;
	struct staging st;
	struct src_stats src, deps;
	struct src_stats src_total, deps_total; /* measured before anything starts */
	struct wire_accepted acc_src, acc_deps;
	struct wire_result result;
	int have_result; /* result holds the enclave's */
	char result_detail[WIRE_MAX_MESSAGE];
	int exit_code;
	struct cr_err e;
	int progress_tty;
	unsigned last_pct;
	uint64_t artifact_bytes[WIRE_MAX_OUTPUTS];
	uint64_t transfer_ms;
	/* Set by the caller, 0 for none: how long after both streams were
	 * accepted the build may go on sending log before its first artifact
	 * or result (its --timeout plus a margin). A silent enclave is caught
	 * by the socket's receive timeout; this catches one that trickles. */
	uint64_t build_deadline_s;
	uint8_t nonce[CR_SHA256_LEN]; /* as many random bytes as a SHA-256 */
	struct cr_buf bundle;         /* the signed report as received */
	struct bv_result *report;     /* its verification */
	/* The build log: shown sanitised on stderr, kept raw in --log. */
	struct cr_term_file log_out;
	int log_open;               /* log lines are being shown */
	uint8_t log_last;           /* its last byte */
	uint64_t log_bytes;         /* received */
	br_sha256_context log_hash; /* of the log received: the report must sign the same */
	struct cr_tmpfile log_file; /* --log, renamed into place once the build ran */
	int log_file_open, build_ran, log_write_failed;
};

/* A client for job, not connected (sock -1; the caller connects it). */
void bc_init(struct build_client *c, const struct build_job *job);
void bc_free(struct build_client *c);
/* The whole exchange on c->sock, up to the result: 0 when a result arrived
 * (c->result), else -1 with c->e and c->exit_code. src_total and deps_total
 * must hold the trees' sizes (src_stream_measure), for the progress. */
int bc_run(struct build_client *c);
/* A failure: exit_code = code, and the message (with ": strerror(errno)"
 * when with_errno) in c->e; bc_failed when c->e says why already. -1. */
int bc_fail(struct build_client *c, int code, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int bc_failed(struct build_client *c, int code);
/* A send that failed at the socket's send timeout (SO_SNDTIMEO): the
 * enclave took nothing for that long. */
int bc_send_timed_out(const struct cr_err *e);
/* --log FILE: a temporary file beside it now (so a FILE that cannot be
 * created is refused before anything is sent); bc_log_file_close renames it
 * into place if the build ran, else removes it. */
int bc_log_file_open(struct build_client *c, const char *path);
void bc_log_file_close(struct build_client *c);
/* The log shown on stderr is over: what follows starts on its own line. */
void bc_log_end(struct build_client *c);

#endif
