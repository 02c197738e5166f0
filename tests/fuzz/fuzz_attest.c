/* Fuzz target: NSM attestation documents (nsm/attest_doc.h parser,
 * nsm/attest_verify.h verifier, and `cleanroom attestation show/verify`).
 *
 * Input: one flag byte (FZ_ATT_* in fuzz.h), then the document. The flags
 * choose the trust anchor (the compiled-in AWS root, or the root of the test
 * CA in $CR_FUZZ_CA that signed the generated seeds), the verification time,
 * expectations, and whether the CLI runs too.
 *
 * Properties beyond the sanitizers:
 *   - att_verify() fails with out->check set to one of its documented check
 *     names and a one-line message that starts with it, or succeeds;
 *   - it succeeds only if att_document_parse() accepts the same bytes;
 *   - with expectations copied from the document itself it gives the same
 *     result as without; with one byte of an expected PCR changed, a
 *     document that passed fails, at the "pcr" check. */
#include <limits.h>

#include "nsm/attest_verify.h"
#include "host-tool/commands.h"
#include "tests/fuzz/fuzz.h"
#include "host-tool/run/nsm_ca.h"

static struct nsm_ca ca;
static int have_ca;
static char tmp[PATH_MAX], doc_path[PATH_MAX + 16];
static struct att_verified v1, v2;

static void cleanup(void)
{
	unlink(doc_path);
	rmdir(tmp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet_stdout();
	have_ca = fz_load_ca(&ca, "fuzz_attest");
	fz_tmpdir(tmp, sizeof tmp, "attest");
	snprintf(doc_path, sizeof doc_path, "%s/doc", tmp);
	atexit(cleanup);
	return 0;
}

static int known_check(const char *c)
{
	static const char *const names[] = { "cose", "payload", "chain",     "signature",
					     "pcr",  "nonce",   "user_data", "public_key" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(c, names[i]))
			return 1;
	return 0;
}

static int run_verify(const uint8_t *doc, size_t len, const struct att_policy *pol, struct att_verified *v,
		      struct cr_err *e)
{
	int rc = att_verify(doc, len, pol, v, e);
	if (rc) {
		fz_check_err(e, "att_verify");
		if (!known_check(v->check))
			fz_die("att_verify failed with check '%s': %s", v->check, e->msg);
		if (strncmp(e->msg, v->check, strlen(v->check)) &&
		    !(!strcmp(v->check, "pcr") && !strncmp(e->msg, "pcr ", 4)))
			fz_die("att_verify: message does not start with its check '%s': %s", v->check, e->msg);
	} else if (v->check[0]) {
		fz_die("att_verify succeeded with check '%s' set", v->check);
	}
	return rc;
}

static void run_cli(int flags)
{
	char *show[] = { "attestation", "show", doc_path, "--json", NULL };
	char *show_text[] = { "attestation", "show", doc_path, NULL };
	char *verify[] = { "attestation", "verify", doc_path, "--json", "--root", ca.root_path, NULL };
	char *verify_text[] = { "attestation", "verify", doc_path, NULL };
	int rc;
	rc = (flags & FZ_ATT_FIXED_TIME) ? cmd_attestation(3, show_text) : cmd_attestation(4, show);
	if (rc != 0 && rc != 1)
		fz_die("attestation show exited %d", rc);
	rc = (flags & FZ_ATT_TEST_ROOT) && have_ca ? cmd_attestation(6, verify) : cmd_attestation(3, verify_text);
	if (rc != 0 && rc != 1)
		fz_die("attestation verify exited %d", rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct att_policy pol;
	struct att_document parsed;
	struct cr_err e, e2;
	int flags, rc, prc;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;

	memset(&pol, 0, sizeof pol);
	if ((flags & FZ_ATT_TEST_ROOT) && have_ca) {
		pol.root_der = ca.bundle[0].p;
		pol.root_len = ca.bundle[0].len;
	}
	if (flags & FZ_ATT_FIXED_TIME) {
		pol.has_time = 1;
		pol.at = 1767225600; /* 2026-01-01 */
	}
	rc = run_verify(data, size, &pol, &v1, &e);
	prc = att_document_parse(data, size, &parsed, &e2);
	if (prc)
		fz_check_err(&e2, "att_document_parse");
	if (rc == 0 && prc)
		fz_die("att_verify accepted a document att_document_parse refuses: %s", e2.msg);

	if ((flags & FZ_ATT_EXPECT) && prc == 0) {
		/* Expectations copied from the document: same outcome. */
		const struct att_doc *d = &parsed.doc;
		struct att_policy p2 = pol;
		for (size_t i = 0; i < d->n_pcrs && i < 3; i++) {
			struct att_expect_pcr *x = &p2.pcrs[p2.n_pcrs++];
			x->index = d->pcrs[i].index;
			x->len = d->pcrs[i].len;
			memcpy(x->value, d->pcrs[i].value, d->pcrs[i].len);
		}
		if (d->nonce.state == ATT_SET)
			p2.nonce = (struct att_expect_bytes){ 1, d->nonce.p, d->nonce.len };
		if (d->user_data.state == ATT_SET)
			p2.user_data = (struct att_expect_bytes){ 1, d->user_data.p, d->user_data.len };
		if (d->public_key.state == ATT_SET)
			p2.public_key = (struct att_expect_bytes){ 1, d->public_key.p, d->public_key.len };
		if ((run_verify(data, size, &p2, &v2, &e2) == 0) != (rc == 0))
			fz_die("expectations equal to the document changed the result (%d -> %s: %s)", rc, v2.check,
			       e2.msg);
		if (rc == 0 && p2.n_pcrs) {
			p2.pcrs[0].value[p2.pcrs[0].len - 1] ^= 1;
			if (run_verify(data, size, &p2, &v2, &e2) == 0 || strcmp(v2.check, "pcr"))
				fz_die("a wrong PCR %u expectation was not caught at the pcr check (check '%s')",
				       p2.pcrs[0].index, v2.check);
		}
	}

	if (flags & FZ_ATT_CLI) {
		fz_write(doc_path, data, size);
		run_cli(flags);
	}
	return 0;
}
