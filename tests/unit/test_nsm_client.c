/* nsm/nsm_client.c over a swapped transport: a tiny NSM model built from
 * the same request decoder and response encoder, plus transports that fail
 * or answer garbage. Checks the typed calls and how failures map to
 * last_error. */
#include <bearssl.h>

#include "tests/unit/check.h"
#include "nsm/nsm_client.h"

/* A minimal NSM: 32 SHA-384 PCRs, lock flags, fixed random, fixed document. */
struct model {
	uint8_t pcr[32][48];
	int locked[32];
	uint8_t last_req[NSM_REQUEST_MAX];
	size_t last_len;
	int calls;
	const char *garbage; /* answer these bytes instead (hex), if set */
	int fail;            /* the transport fails */
};

/* Fill r for q; returns the NSM error, NSM_SUCCESS when r is an answer. */
static enum nsm_error serve(struct model *m, const struct nsm_request *q, struct nsm_response *r)
{
	static const uint8_t doc[64] = { 0x84 };
	static uint8_t random[256];
	br_sha384_context h;
	r->op = q->op;
	switch (q->op) {
	case NSM_OP_DESCRIBE_PCR:
		if (q->index >= 32)
			return NSM_INVALID_INDEX;
		r->lock = m->locked[q->index];
		r->data.p = m->pcr[q->index];
		r->data.len = 48;
		return NSM_SUCCESS;
	case NSM_OP_EXTEND_PCR:
		if (q->index >= 32)
			return NSM_INVALID_INDEX;
		if (m->locked[q->index])
			return NSM_READ_ONLY_INDEX;
		br_sha384_init(&h);
		br_sha384_update(&h, m->pcr[q->index], 48);
		br_sha384_update(&h, q->data.p, q->data.len);
		br_sha384_out(&h, m->pcr[q->index]);
		r->data.p = m->pcr[q->index];
		r->data.len = 48;
		return NSM_SUCCESS;
	case NSM_OP_LOCK_PCR:
		if (q->index >= 32)
			return NSM_INVALID_INDEX;
		m->locked[q->index] = 1;
		return NSM_SUCCESS;
	case NSM_OP_LOCK_PCRS:
		if (q->range > 32)
			return NSM_INVALID_INDEX;
		for (int i = 0; i < q->range; i++)
			m->locked[i] = 1;
		return NSM_SUCCESS;
	case NSM_OP_DESCRIBE_NSM:
		r->describe.version_major = 1;
		strcpy(r->describe.module_id, "i-test-enc0");
		r->describe.max_pcrs = 32;
		for (int i = 0; i < 32; i++)
			if (m->locked[i])
				r->describe.locked_pcrs[r->describe.n_locked++] = (uint16_t)i;
		strcpy(r->describe.digest, "SHA384");
		return NSM_SUCCESS;
	case NSM_OP_GET_RANDOM:
		for (int i = 0; i < 256; i++)
			random[i] = (uint8_t)i;
		r->random.p = random;
		r->random.len = sizeof random;
		return NSM_SUCCESS;
	default:
		r->document.p = doc;
		r->document.len = sizeof doc;
		return NSM_SUCCESS;
	}
}

static int model_transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len,
			   struct cr_err *e)
{
	struct model *m = ctx;
	struct nsm_request q;
	struct nsm_response r;
	struct cr_buf b;
	enum nsm_error why;
	m->calls++;
	if (m->fail)
		return cr_fail(e, "transport is down");
	memcpy(m->last_req, req, req_len);
	m->last_len = req_len;
	if (m->garbage) {
		size_t n;
		if (cr_unhex_var(m->garbage, resp, *resp_len, &n))
			return cr_fail(e, "bad garbage hex");
		*resp_len = n;
		return 0;
	}
	memset(&r, 0, sizeof r);
	if (nsm_request_decode(req, req_len, &q, &why, e))
		r.error = why;
	else
		r.error = serve(m, &q, &r);
	cr_buf_init(&b, *resp_len);
	if (nsm_response_encode(&r, &b, e)) {
		cr_buf_free(&b);
		return -1;
	}
	memcpy(resp, b.p, b.len);
	*resp_len = b.len;
	cr_buf_free(&b);
	return 0;
}

static struct model m;
static struct nsm_client c;

static void test_calls(void)
{
	struct cr_err e;
	struct nsm_description d;
	struct nsm_pcr p;
	uint8_t zero[48] = { 0 }, want[48], buf[300], doc[16];
	char hex[2 * NSM_REQUEST_MAX + 1];
	size_t n;
	br_sha384_context h;

	T_OK(nsm_describe_nsm(&c, &d, &e) == 0 && d.max_pcrs == 32 && !strcmp(d.module_id, "i-test-enc0") &&
		     !strcmp(d.digest, "SHA384") && d.n_locked == 0 && c.last_error == NSM_SUCCESS,
	     "DescribeNSM returns the description");
	cr_hex(m.last_req, m.last_len, hex);
	T_STR(hex, "6b44657363726962654e534d", "DescribeNSM sent the bare text request");
	T_OK(nsm_describe_pcr(&c, 16, &p, &e) == 0 && p.len == 48 && !memcmp(p.value, zero, 48) && !p.locked,
	     "DescribePCR 16: 48 zero bytes, unlocked");
	T_OK(nsm_extend_pcr(&c, 16, (const uint8_t *)"\x01\x02\x03", 3, &p, &e) == 0, "ExtendPCR 16 succeeds");
	cr_hex(m.last_req, m.last_len, hex);
	T_STR(hex, "a169457874656e64504352a265696e64657810646461746143010203", "ExtendPCR sent the exact 5.4 bytes");
	br_sha384_init(&h);
	br_sha384_update(&h, zero, 48);
	br_sha384_update(&h, "\x01\x02\x03", 3);
	br_sha384_out(&h, want);
	T_OK(p.len == 48 && !memcmp(p.value, want, 48), "ExtendPCR returns SHA384(old || data)");
	T_OK(nsm_lock_pcr(&c, 16, &e) == 0 && m.locked[16], "LockPCR 16");
	T_OK(nsm_extend_pcr(&c, 16, (const uint8_t *)"x", 1, NULL, &e) == -1 && c.last_error == NSM_READ_ONLY_INDEX &&
		     !strcmp(e.msg, "NSM ExtendPCR: ReadOnlyIndex"),
	     "ExtendPCR on a locked PCR: ReadOnlyIndex (%s)", e.msg);
	T_OK(nsm_describe_pcr(&c, 16, &p, &e) == 0 && p.locked && !memcmp(p.value, want, 48) &&
		     c.last_error == NSM_SUCCESS,
	     "DescribePCR 16: locked, value kept; last_error back to Success");
	T_OK(nsm_describe_pcr(&c, 40, &p, &e) == -1 && c.last_error == NSM_INVALID_INDEX &&
		     strstr(e.msg, "InvalidIndex"),
	     "DescribePCR 40: InvalidIndex (%s)", e.msg);
	T_OK(nsm_lock_pcrs(&c, 33, &e) == -1 && c.last_error == NSM_INVALID_INDEX, "LockPCRs 33: InvalidIndex");
	T_OK(nsm_lock_pcrs(&c, 16, &e) == 0 && m.locked[0] && m.locked[15] && !m.locked[17], "LockPCRs 16 locks 0..15");
	T_OK(nsm_describe_nsm(&c, &d, &e) == 0 && d.n_locked == 17, "DescribeNSM lists the 17 locked PCRs");
	T_OK(nsm_get_random(&c, buf, sizeof buf, &n, &e) == 0 && n == 256 && buf[255] == 255,
	     "GetRandom: the 256 bytes the NSM gave");
	T_OK(nsm_get_random(&c, buf, 16, &n, &e) == 0 && n == 16 && buf[15] == 15, "GetRandom: cut to the caller's 16");
	T_OK(nsm_attestation(&c, NULL, NULL, NULL, doc, sizeof doc, &n, &e) == -1 &&
		     c.last_error == NSM_BUFFER_TOO_SMALL,
	     "Attestation into a 16-byte buffer: BufferTooSmall (%s)", e.msg);
	cr_hex(m.last_req, m.last_len, hex);
	T_OK(!strncmp(hex, "a16b4174746573746174696f6ea3", 28), "Attestation sent map(1){Attestation: map(3)}");
	{
		uint8_t big[64];
		struct nsm_opt_bytes nonce = { 1, (const uint8_t *)"nonce", 5 };
		T_OK(nsm_attestation(&c, NULL, &nonce, NULL, big, sizeof big, &n, &e) == 0 && n == 64 && big[0] == 0x84,
		     "Attestation returns the document");
	}
}

static void test_failures(void)
{
	struct cr_err e;
	struct nsm_pcr p;
	struct nsm_description d;
	static uint8_t big[NSM_REQUEST_MAX];
	int calls = m.calls;
	T_OK(nsm_extend_pcr(&c, 1, big, sizeof big, NULL, &e) == -1 && c.last_error == NSM_INPUT_TOO_LARGE &&
		     m.calls == calls,
	     "a request over 0x1000 bytes: InputTooLarge, never sent (%s)", e.msg);
	m.fail = 1;
	T_OK(nsm_describe_nsm(&c, &d, &e) == -1 && c.last_error == NSM_INTERNAL_ERROR &&
		     !strcmp(e.msg, "NSM DescribeNSM: transport is down"),
	     "a transport failure: InternalError (%s)", e.msg);
	m.fail = 0;
	m.garbage = "a16b4465736372696265504352a2646c6f636bf46464617461420102";
	T_OK(nsm_describe_pcr(&c, 0, &p, &e) == -1 && c.last_error == NSM_INVALID_RESPONSE &&
		     strstr(e.msg, "2 bytes, not a 32, 48 or 64-byte PCR"),
	     "a malformed answer: InvalidResponse (%s)", e.msg);
	m.garbage = "a1654572726f72674e6f7444656d6f";
	T_OK(nsm_describe_pcr(&c, 0, &p, &e) == -1 && c.last_error == NSM_ERROR_UNKNOWN && strstr(e.msg, "NotDemo"),
	     "an unknown error name: NSM_ERROR_UNKNOWN with the name (%s)", e.msg);
	m.garbage = "";
	T_OK(nsm_describe_pcr(&c, 0, &p, &e) == -1 && c.last_error == NSM_INVALID_RESPONSE && strstr(e.msg, "empty"),
	     "an empty answer: InvalidResponse (%s)", e.msg);
	m.garbage = NULL;
	T_OK(nsm_open(&c, "/nonexistent/nsm", &e) == -1 && strstr(e.msg, "/nonexistent/nsm: No such file"),
	     "nsm_open on a missing device fails naming it (%s)", e.msg);
}

int main(void)
{
	nsm_client_init(&c, model_transport, &m);
	test_calls();
	test_failures();
	nsm_close(&c);
	return t_done();
}
