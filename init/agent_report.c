/* The signed report of a successful build: the build's facts as an
 * in-toto statement, signed and bound to this enclave's NSM attestation by
 * report_make() (report/report.h). */
#include <stdlib.h>
#include <string.h>

#include "base/digest.h"
#include "init/agent_session.h"
#include "nsm/nsm_client.h"
#include "report/report.h"
#include "base/version.h"

int agent_report(const struct build_facts *f, struct cr_buf *bundle, struct cr_err *e)
{
	struct report_statement *st = calloc(1, sizeof *st);
	struct nsm_client *c = calloc(1, sizeof *c);
	int rc = -1;
	if (!st || !c) {
		cr_fail(e, "report: out of memory");
		goto done;
	}
	for (size_t i = 0; i < f->nart; i++) {
		st->subjects[i].name = f->art[i].path;
		memcpy(st->subjects[i].sha256, f->art[i].sha256, CR_SHA256_LEN);
		memcpy(st->subjects[i].sha384, f->art[i].sha384, CR_SHA384_LEN);
	}
	st->nsubjects = f->nart;
	for (size_t i = 0; i < f->req->argc; i++)
		st->argv[i] = f->req->argv[i];
	st->argc = f->req->argc;
	st->sde = f->req->sde;
	memcpy(st->src_tree_sha1, f->src->tree_sha1, CR_SHA1_LEN);
	memcpy(st->src_tree_sha256, f->src->tree_sha256, CR_SHA256_LEN);
	st->src_files = f->src->files;
	memcpy(st->deps_tree_sha256, f->deps->tree_sha256, CR_SHA256_LEN);
	st->deps_files = f->deps->files;
	st->limits = f->req->limits;
	st->init_version = CLEANROOM_VERSION;
	memcpy(st->log_sha256, f->log_sha256, CR_SHA256_LEN);
	st->log_bytes = f->log_bytes;
	st->log_dropped = f->log_dropped;
	st->started_ms = f->started_ms;
	st->finished_ms = f->finished_ms;
	memcpy(st->nonce, f->req->nonce, f->req->nonce_len);
	st->nonce_len = f->req->nonce_len;
	if (nsm_open(c, NULL, e)) {
		cr_err_wrap(e, "report");
		goto done;
	}
	rc = report_make(c, st, bundle, e);
	nsm_close(c);
done:
	free(c);
	free(st);
	return rc;
}
