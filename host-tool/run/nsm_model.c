/* The host NSM model: PCRs, locks and the seven operations (see
 * nsm_model.h). Requests are decoded and responses encoded by nsm/nsm_proto,
 * documents built and signed by nsm/attest_doc: this file only keeps state. */
#include "host-tool/run/nsm_model.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/digest.h"
#include "nsm/attest_doc.h"
#include "host-tool/run/nsm_ca.h"

/* SHA-384 of the concatenation of up to three parts. */
static void sha384_of(const void *a, size_t na, const void *b, size_t nb, const void *c, size_t nc,
		      uint8_t out[CR_PCR_LEN])
{
	br_sha384_context h;
	br_sha384_init(&h);
	br_sha384_update(&h, a, na);
	br_sha384_update(&h, b, nb);
	br_sha384_update(&h, c, nc);
	br_sha384_out(&h, out);
}

/* A PCR extend: reg = SHA384(reg || data). */
static void pcr_extend(uint8_t reg[CR_PCR_LEN], const void *data, size_t n)
{
	uint8_t old[CR_PCR_LEN];
	memcpy(old, reg, CR_PCR_LEN);
	sha384_of(old, CR_PCR_LEN, data, n, NULL, 0, reg);
}

void nsm_model_module_id(const struct eif_pcrs *pcrs, uint64_t cid, const uint8_t boot_id[RUN_BOOT_ID_LEN],
			 char out[NSM_MODEL_ID_LEN + 1])
{
	static const char parent[] = "cleanroom local parent", enclave[] = "cleanroom enclave";
	uint8_t d[CR_PCR_LEN], cid_be[8], ids[3 * CR_PCR_LEN + RUN_BOOT_ID_LEN];
	char inst[17], enc[17];

	for (int i = 0; i < 8; i++)
		cid_be[i] = (uint8_t)(cid >> (56 - 8 * i));
	sha384_of(parent, sizeof parent - 1, NULL, 0, NULL, 0, d);
	cr_hex(d, 8, inst);
	memcpy(ids, pcrs->pcr0, CR_PCR_LEN);
	memcpy(ids + CR_PCR_LEN, pcrs->pcr1, CR_PCR_LEN);
	memcpy(ids + 2 * CR_PCR_LEN, pcrs->pcr2, CR_PCR_LEN);
	memcpy(ids + 3 * CR_PCR_LEN, boot_id, RUN_BOOT_ID_LEN);
	sha384_of(enclave, sizeof enclave - 1, cid_be, sizeof cid_be, ids, sizeof ids, d);
	cr_hex(d, 8, enc);
	snprintf(out, NSM_MODEL_ID_LEN + 1, "i-0%s-enc%s", inst, enc);
}

void nsm_model_init(struct nsm_model *m, const struct eif_pcrs *pcrs, uint64_t cid,
		    const uint8_t boot_id[RUN_BOOT_ID_LEN], const struct nsm_ca *ca)
{
	memset(m, 0, sizeof *m);
	nsm_model_module_id(pcrs, cid, boot_id, m->module_id);
	memcpy(m->pcr[0], pcrs->pcr0, CR_PCR_LEN);
	memcpy(m->pcr[1], pcrs->pcr1, CR_PCR_LEN);
	memcpy(m->pcr[2], pcrs->pcr2, CR_PCR_LEN);
	/* PCR4: the parent instance id, extended as raw text ("i-0…"). */
	pcr_extend(m->pcr[4], m->module_id, (size_t)(strstr(m->module_id, "-enc") - m->module_id));
	if (pcrs->has_pcr8)
		memcpy(m->pcr[8], pcrs->pcr8, CR_PCR_LEN);
	m->locked = (1u << NSM_MODEL_LOCKED_BOOT) - 1;
	m->ca = ca;
}

static uint64_t wall_ms(const struct nsm_model *m)
{
	struct timespec ts;
	if (m->clock_ms)
		return m->clock_ms();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int is_locked(const struct nsm_model *m, unsigned i)
{
	return (m->locked >> i) & 1;
}

/* An index that names a PCR, and one that may change. */
static enum nsm_error check_index(const struct nsm_model *m, const char *op, unsigned i, int writing, struct cr_err *e)
{
	if (i >= NSM_MODEL_MAX_PCRS) {
		cr_fail(e, "%s: index %u, the NSM has %d PCRs (InvalidIndex)", op, i, NSM_MODEL_MAX_PCRS);
		return NSM_INVALID_INDEX;
	}
	if (writing && is_locked(m, i)) {
		cr_fail(e, "%s: PCR %u is locked (ReadOnlyIndex)", op, i);
		return NSM_READ_ONLY_INDEX;
	}
	return NSM_SUCCESS;
}

static enum nsm_error opt_too_large(const char *name, const struct nsm_opt_bytes *b, struct cr_err *e)
{
	if (b->present && b->len > NSM_ATTEST_FIELD_MAX) {
		cr_fail(e, "Attestation: %s of %zu bytes, at most %d (InputTooLarge)", name, b->len,
			NSM_ATTEST_FIELD_MAX);
		return NSM_INPUT_TOO_LARGE;
	}
	return NSM_SUCCESS;
}

static struct att_opt att_opt_of(const struct nsm_opt_bytes *b)
{
	struct att_opt o = { ATT_NULL, NULL, 0 };
	if (b->present)
		o = (struct att_opt){ ATT_SET, b->p, b->len };
	return o;
}

/* Build and sign the document into doc. */
static enum nsm_error attest(struct nsm_model *m, const struct nsm_request *rq, struct cr_buf *doc, struct cr_err *e)
{
	struct att_doc d;
	enum nsm_error err;

	if ((err = opt_too_large("user_data", &rq->user_data, e)) || (err = opt_too_large("nonce", &rq->nonce, e)) ||
	    (err = opt_too_large("public_key", &rq->public_key, e)))
		return err;
	if (!m->ca) {
		cr_fail(e, "Attestation: no signing CA (InternalError)");
		return NSM_INTERNAL_ERROR;
	}
	memset(&d, 0, sizeof d);
	snprintf(d.module_id, sizeof d.module_id, "%s", m->module_id);
	snprintf(d.digest, sizeof d.digest, "SHA384");
	d.timestamp_ms = wall_ms(m);
	for (unsigned i = 0; i < NSM_MODEL_MAX_PCRS; i++)
		if (is_locked(m, i))
			d.pcrs[d.n_pcrs++] = (struct att_pcr){ i, m->pcr[i], CR_PCR_LEN };
	d.certificate = m->ca->leaf;
	d.n_cabundle = m->ca->n_bundle;
	memcpy(d.cabundle, m->ca->bundle, sizeof d.cabundle[0] * d.n_cabundle);
	d.user_data = att_opt_of(&rq->user_data);
	d.nonce = att_opt_of(&rq->nonce);
	d.public_key = att_opt_of(&rq->public_key);
	if (att_document_sign(&d, &m->ca->leaf_key, doc, e)) {
		cr_err_wrap(e, "Attestation (InternalError)");
		return NSM_INTERNAL_ERROR;
	}
	return NSM_SUCCESS;
}

static enum nsm_error get_random(uint8_t *buf, size_t n, struct cr_err *e)
{
	if (cr_random(buf, n, e)) {
		cr_err_wrap(e, "GetRandom (InternalError)");
		return NSM_INTERNAL_ERROR;
	}
	return NSM_SUCCESS;
}

/* Carry out rq; fill rs (views into the model, random or doc). */
static enum nsm_error perform(struct nsm_model *m, const struct nsm_request *rq, struct nsm_response *rs,
			      uint8_t random[NSM_MODEL_RANDOM_LEN], struct cr_buf *doc, struct cr_err *e)
{
	const char *op = nsm_op_name(rq->op);
	enum nsm_error err = NSM_SUCCESS;
	unsigned i = rq->index;

	switch (rq->op) {
	case NSM_OP_DESCRIBE_PCR:
		if ((err = check_index(m, op, i, 0, e)))
			break;
		rs->lock = is_locked(m, i);
		rs->data = (struct nsm_bytes){ m->pcr[i], CR_PCR_LEN };
		break;
	case NSM_OP_EXTEND_PCR:
		if ((err = check_index(m, op, i, 1, e)))
			break;
		pcr_extend(m->pcr[i], rq->data.p, rq->data.len);
		rs->data = (struct nsm_bytes){ m->pcr[i], CR_PCR_LEN };
		break;
	case NSM_OP_LOCK_PCR:
		if ((err = check_index(m, op, i, 1, e)))
			break;
		m->locked |= 1u << i;
		break;
	case NSM_OP_LOCK_PCRS:
		if (rq->range > NSM_MODEL_MAX_PCRS) {
			cr_fail(e, "LockPCRs: range %u, the NSM has %d PCRs (InvalidIndex)", rq->range,
				NSM_MODEL_MAX_PCRS);
			err = NSM_INVALID_INDEX;
			break;
		}
		/* Already locked PCRs in the range are no error (real NSM). */
		m->locked |= rq->range == 32 ? UINT32_MAX : (1u << rq->range) - 1;
		break;
	case NSM_OP_DESCRIBE_NSM:
		rs->describe.version_major = 1;
		rs->describe.version_minor = 0;
		rs->describe.version_patch = 0;
		snprintf(rs->describe.module_id, sizeof rs->describe.module_id, "%s", m->module_id);
		rs->describe.max_pcrs = NSM_MODEL_MAX_PCRS;
		for (unsigned k = 0; k < NSM_MODEL_MAX_PCRS; k++)
			if (is_locked(m, k))
				rs->describe.locked_pcrs[rs->describe.n_locked++] = (uint16_t)k;
		snprintf(rs->describe.digest, sizeof rs->describe.digest, "SHA384");
		break;
	case NSM_OP_GET_RANDOM:
		if ((err = get_random(random, NSM_MODEL_RANDOM_LEN, e)))
			break;
		rs->random = (struct nsm_bytes){ random, NSM_MODEL_RANDOM_LEN };
		break;
	case NSM_OP_ATTESTATION:
		if ((err = attest(m, rq, doc, e)))
			break;
		rs->document = (struct nsm_bytes){ doc->p, doc->len };
		break;
	}
	return err;
}

enum nsm_error nsm_model_handle(struct nsm_model *m, const uint8_t *req, size_t len, struct cr_buf *out,
				struct cr_err *e)
{
	uint8_t random[NSM_MODEL_RANDOM_LEN];
	struct nsm_request rq;
	struct nsm_response rs;
	struct cr_buf doc;
	struct cr_err ee;
	enum nsm_error err;

	cr_buf_init(&doc, ATT_DOC_MAX);
	memset(&rs, 0, sizeof rs);
	m->requests++;
	if (nsm_request_decode(req, len, &rq, &err, e)) {
		cr_err_wrap(e, "%s", nsm_error_name(err));
	} else {
		rs.op = rq.op;
		err = perform(m, &rq, &rs, random, &doc, e);
	}
	rs.error = err;
	if (nsm_response_encode(&rs, out, &ee)) {
		/* Only a document too large for the 0x3000-byte response gets here
		 * (a CA with long certificates): QEMU's NSM says BufferTooSmall. */
		err = rs.op == NSM_OP_ATTESTATION && !err ? NSM_BUFFER_TOO_SMALL : NSM_INTERNAL_ERROR;
		cr_fail(e, "%s: %s (%s)", nsm_op_name(rs.op), ee.msg, nsm_error_name(err));
		memset(&rs, 0, sizeof rs);
		rs.error = err;
		nsm_response_encode(&rs, out, &ee); /* {"Error": name} always fits */
	}
	cr_buf_free(&doc);
	if (err)
		m->errors++;
	return err;
}
