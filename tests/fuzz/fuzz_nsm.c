/* Fuzz target: NSM messages (nsm/nsm_proto.h) and the host NSM model
 * (host-tool/run/nsm_model.h), which answers whatever raw bytes a guest writes
 * to /dev/nsm in a local run.
 *
 * Input: one selector byte, then the message. selector % 8:
 *   0..6  the response to that operation (enum nsm_op), as the in-enclave
 *         client decodes it;
 *   7     a request, as the NSM (our host model) decodes it; then the model
 *         answers it.
 *
 * Properties beyond the sanitizers:
 *   - a decoded message re-encodes; the encoding decodes, and encoding that
 *     again gives the same bytes (decode and encode agree on every field);
 *   - a refused request names the error a real NSM answers with
 *     (InvalidOperation, InvalidArgument or InputTooLarge);
 *   - the model's answer to any bytes is a response the client decodes,
 *     for the requested operation, with the error the model returned;
 *   - an Attestation it answers verifies against the test CA's root and
 *     carries exactly the nonce, user_data and public_key asked for. */
#include <time.h>

#include "nsm/attest_verify.h"
#include "tests/fuzz/fuzz.h"
#include "host-tool/run/nsm_ca.h"
#include "host-tool/run/nsm_model.h"
#include "nsm/nsm_proto.h"

static struct nsm_ca ca;
static int have_ca;
static uint64_t fixed_ms;
static struct eif_pcrs pcrs;
static struct nsm_model model;
static struct att_verified ver;

static uint64_t fixed_clock(void)
{
	return fixed_ms;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	have_ca = fz_load_ca(&ca, "fuzz_nsm");
	fixed_ms = (uint64_t)time(NULL) * 1000;
	pcr_of_bytes("kernel", 6, pcrs.pcr0);
	pcr_of_bytes("cmdline", 7, pcrs.pcr1);
	pcr_of_bytes("ramdisk", 7, pcrs.pcr2);
	return 0;
}

static void response_roundtrip(const struct nsm_response *r, enum nsm_op op)
{
	struct cr_buf b1, b2;
	struct nsm_response r2;
	struct cr_err e;
	cr_buf_init(&b1, 2 * NSM_RESPONSE_MAX);
	cr_buf_init(&b2, 2 * NSM_RESPONSE_MAX);
	if (nsm_response_encode(r, &b1, &e))
		fz_die("a decoded %s response does not encode: %s", nsm_op_name(op), e.msg);
	if (nsm_response_decode(b1.p, b1.len, op, &r2, &e))
		fz_die("the encoding of a decoded %s response does not decode: %s", nsm_op_name(op), e.msg);
	if (r2.error != r->error || strcmp(r2.error_name, r->error_name))
		fz_die("%s response: error %s/%s became %s/%s", nsm_op_name(op), nsm_error_name(r->error),
		       r->error_name, nsm_error_name(r2.error), r2.error_name);
	if (nsm_response_encode(&r2, &b2, &e))
		fz_die("second encode of a %s response failed: %s", nsm_op_name(op), e.msg);
	if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len))
		fz_die("%s response: decode and encode disagree", nsm_op_name(op));
	cr_buf_free(&b1);
	cr_buf_free(&b2);
}

static int same_opt(const struct nsm_opt_bytes *want, const struct att_opt *got)
{
	if (!want->present)
		return got->state == ATT_NULL;
	return got->state == ATT_SET && got->len == want->len && (!got->len || !memcmp(got->p, want->p, got->len));
}

static void check_attestation(const struct nsm_request *q, const struct nsm_response *r)
{
	struct att_policy pol;
	struct cr_err e;
	if (r->error != NSM_SUCCESS || !have_ca)
		return;
	memset(&pol, 0, sizeof pol);
	pol.root_der = ca.bundle[0].p;
	pol.root_len = ca.bundle[0].len;
	if (att_verify(r->document.p, r->document.len, &pol, &ver, &e))
		fz_die("the model's attestation document does not verify: %s", e.msg);
	if (!same_opt(&q->nonce, &ver.d.doc.nonce) || !same_opt(&q->user_data, &ver.d.doc.user_data) ||
	    !same_opt(&q->public_key, &ver.d.doc.public_key))
		fz_die("the model's document does not carry the requested nonce/user_data/public_key");
}

static void request(const uint8_t *data, size_t size)
{
	struct nsm_request q, q2;
	struct nsm_response r;
	enum nsm_error reply = NSM_SUCCESS, answered;
	struct cr_buf b1, b2, out;
	struct cr_err e;
	int qrc;

	qrc = nsm_request_decode(data, size, &q, &reply, &e);
	if (qrc) {
		fz_check_err(&e, "nsm_request_decode");
		if (reply != NSM_INVALID_OPERATION && reply != NSM_INVALID_ARGUMENT && reply != NSM_INPUT_TOO_LARGE)
			fz_die("a refused request answers %s", nsm_error_name(reply));
	} else {
		cr_buf_init(&b1, 2 * NSM_RESPONSE_MAX);
		cr_buf_init(&b2, 2 * NSM_RESPONSE_MAX);
		if (nsm_request_encode(&q, &b1, &e)) {
			/* Only the size can make a decoded request unencodable:
			 * absent Attestation fields are encoded as nulls. */
			if (size + 64 < NSM_REQUEST_MAX)
				fz_die("a decoded %s request of %zu bytes does not encode: %s", nsm_op_name(q.op), size,
				       e.msg);
		} else {
			if (nsm_request_decode(b1.p, b1.len, &q2, NULL, &e))
				fz_die("the encoding of a decoded %s request does not decode: %s", nsm_op_name(q.op),
				       e.msg);
			if (q2.op != q.op)
				fz_die("request operation changed");
			if (nsm_request_encode(&q2, &b2, &e))
				fz_die("second encode of a %s request failed: %s", nsm_op_name(q.op), e.msg);
			if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len))
				fz_die("%s request: decode and encode disagree", nsm_op_name(q.op));
		}
		cr_buf_free(&b1);
		cr_buf_free(&b2);
	}

	/* The model, fresh for every input (PCR locks and extends are state). */
	nsm_model_init(&model, &pcrs, 16, (const uint8_t[RUN_BOOT_ID_LEN]){ 0 }, have_ca ? &ca : NULL);
	model.clock_ms = fixed_clock;
	cr_buf_init(&out, NSM_RESPONSE_MAX);
	answered = nsm_model_handle(&model, data, size, &out, &e);
	if (answered != NSM_SUCCESS)
		fz_check_err(&e, "nsm_model_handle");
	if (out.len == 0 || out.len > NSM_RESPONSE_MAX)
		fz_die("the model answered %zu bytes", out.len);
	if (nsm_response_decode(out.p, out.len, qrc ? NSM_OP_DESCRIBE_NSM : q.op, &r, &e))
		fz_die("the model's answer does not decode: %s", e.msg);
	if (r.error != answered)
		fz_die("the model returned %s but answered %s", nsm_error_name(answered), nsm_error_name(r.error));
	if (qrc && (r.error != reply))
		fz_die("the model answered %s to a request the decoder refuses with %s", nsm_error_name(r.error),
		       nsm_error_name(reply));
	if (!qrc && q.op == NSM_OP_ATTESTATION)
		check_attestation(&q, &r);
	cr_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nsm_response r;
	struct cr_err e;
	unsigned sel;
	if (size < 1)
		return 0;
	sel = data[0] % 8;
	data++;
	size--;
	if (sel == FZ_NSM_REQUEST) {
		request(data, size);
		return 0;
	}
	if (nsm_response_decode(data, size, (enum nsm_op)sel, &r, &e)) {
		fz_check_err(&e, "nsm_response_decode");
		return 0;
	}
	response_roundtrip(&r, (enum nsm_op)sel);
	return 0;
}
