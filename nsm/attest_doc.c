#include "nsm/attest_doc.h"

#include <stdio.h>
#include <string.h>

#include "base/cbor_read.h"
#include "base/cbor_write.h"

/* 9 fields, 32 PCR pairs, 16 certificates, and room for unknown keys. */
static const struct cbr_limits payload_limits = { .max_items = 512, .max_depth = 8 };

static int need(const struct cbr_doc *d, const char *key, enum cbr_kind kind, size_t *v, struct cr_err *e)
{
	*v = cbr_map_find(d, 0, key);
	if (*v == CBR_NONE)
		return cr_fail(e, "payload: missing \"%s\"", key);
	if (d->items[*v].kind != kind)
		return cr_fail(e, "payload: \"%s\" must be %s, not %s", key, cbr_kind_name(kind),
			       cbr_kind_name(d->items[*v].kind));
	return 0;
}

static int der_bytes(const struct cbr_item *it, const char *what, struct att_bytes *out, struct cr_err *e)
{
	if (it->kind != CBR_BYTES)
		return cr_fail(e, "payload: %s must be a byte string, not %s", what, cbr_kind_name(it->kind));
	if (it->len < 1 || it->len > ATT_CERT_MAX)
		return cr_fail(e, "payload: %s is %zu bytes (allowed 1..%d)", what, it->len, ATT_CERT_MAX);
	out->p = it->p;
	out->len = it->len;
	return 0;
}

static int decode_pcrs(const struct cbr_doc *d, size_t m, struct att_doc *doc, struct cr_err *e)
{
	if (d->items[m].v < 1 || d->items[m].v > ATT_MAX_PCRS)
		return cr_fail(e, "payload: pcrs has %llu entries (allowed 1..%d)", (unsigned long long)d->items[m].v,
			       ATT_MAX_PCRS);
	CBR_MAP_FOREACH(d, m, k, v)
	{
		const struct cbr_item *key = &d->items[k], *val = &d->items[v];
		struct att_pcr *p = &doc->pcrs[doc->n_pcrs];
		if (key->kind != CBR_UINT)
			return cr_fail(e, "payload: pcrs: a key is %s, not an unsigned integer",
				       cbr_kind_name(key->kind));
		if (key->v >= ATT_MAX_PCRS)
			return cr_fail(e, "payload: pcrs: index %llu out of range 0..%d", (unsigned long long)key->v,
				       ATT_MAX_PCRS - 1);
		if (val->kind != CBR_BYTES)
			return cr_fail(e, "payload: pcrs[%llu] must be a byte string, not %s",
				       (unsigned long long)key->v, cbr_kind_name(val->kind));
		if (val->len != 32 && val->len != 48 && val->len != 64)
			return cr_fail(e, "payload: pcrs[%llu] is %zu bytes (must be 32, 48 or 64)",
				       (unsigned long long)key->v, val->len);
		p->index = (unsigned)key->v;
		p->value = val->p;
		p->len = val->len;
		doc->n_pcrs++;
	}
	return 0;
}

static int decode_opt(const struct cbr_doc *d, const char *key, struct att_opt *o, struct cr_err *e)
{
	size_t v = cbr_map_find(d, 0, key);
	memset(o, 0, sizeof *o);
	if (v == CBR_NONE) {
		o->state = ATT_ABSENT;
		return 0;
	}
	if (d->items[v].kind == CBR_NULL) {
		o->state = ATT_NULL;
		return 0;
	}
	if (d->items[v].kind != CBR_BYTES)
		return cr_fail(e, "payload: \"%s\" must be a byte string or null, not %s", key,
			       cbr_kind_name(d->items[v].kind));
	if (d->items[v].len > ATT_FIELD_MAX)
		return cr_fail(e, "payload: \"%s\" is %zu bytes (at most %d)", key, d->items[v].len, ATT_FIELD_MAX);
	o->state = ATT_SET;
	o->p = d->items[v].p;
	o->len = d->items[v].len;
	return 0;
}

static int decode_fields(const struct cbr_doc *d, struct att_doc *doc, struct cr_err *e)
{
	size_t v;
	const struct cbr_item *it;
	if (need(d, "module_id", CBR_TEXT, &v, e))
		return -1;
	it = &d->items[v];
	if (!it->len || it->len > ATT_MODULE_ID_MAX || memchr(it->p, 0, it->len))
		return cr_fail(e, "payload: \"module_id\" must be 1..%d bytes of text without NUL", ATT_MODULE_ID_MAX);
	memcpy(doc->module_id, it->p, it->len);
	if (need(d, "digest", CBR_TEXT, &v, e))
		return -1;
	if (!cbr_text_is(d, v, "SHA384"))
		return cr_fail(e, "payload: \"digest\" is \"%.*s\", must be \"SHA384\"",
			       (int)(d->items[v].len > 16 ? 16 : d->items[v].len), (const char *)d->items[v].p);
	strcpy(doc->digest, "SHA384");
	if (need(d, "timestamp", CBR_UINT, &v, e))
		return -1;
	if (!d->items[v].v)
		return cr_fail(e, "payload: \"timestamp\" is 0");
	doc->timestamp_ms = d->items[v].v;
	if (need(d, "pcrs", CBR_MAP, &v, e) || decode_pcrs(d, v, doc, e))
		return -1;
	if (need(d, "certificate", CBR_BYTES, &v, e) ||
	    der_bytes(&d->items[v], "\"certificate\"", &doc->certificate, e))
		return -1;
	if (need(d, "cabundle", CBR_ARRAY, &v, e))
		return -1;
	if (d->items[v].v < 1 || d->items[v].v > ATT_MAX_CABUNDLE)
		return cr_fail(e, "payload: cabundle has %llu entries (allowed 1..%d)",
			       (unsigned long long)d->items[v].v, ATT_MAX_CABUNDLE);
	CBR_ARRAY_FOREACH(d, v, i)
	{
		char what[24];
		snprintf(what, sizeof what, "cabundle[%zu]", doc->n_cabundle);
		if (der_bytes(&d->items[i], what, &doc->cabundle[doc->n_cabundle], e))
			return -1;
		doc->n_cabundle++;
	}
	if (decode_opt(d, "public_key", &doc->public_key, e) || decode_opt(d, "user_data", &doc->user_data, e) ||
	    decode_opt(d, "nonce", &doc->nonce, e))
		return -1;
	return 0;
}

int att_payload_decode(const uint8_t *p, size_t len, struct att_doc *doc, struct cr_err *e)
{
	struct cbr_doc d;
	int rc;
	memset(doc, 0, sizeof *doc);
	if (len < 1 || len > ATT_PAYLOAD_MAX)
		return cr_fail(e, "payload: %zu bytes (allowed 1..%d)", len, ATT_PAYLOAD_MAX);
	if (cbr_parse(p, len, &payload_limits, "payload", &d, e))
		return -1;
	if (d.items[0].kind != CBR_MAP) {
		cr_fail(e, "payload: must be a map, not %s", cbr_kind_name(d.items[0].kind));
		cbr_free(&d);
		return -1;
	}
	doc->indefinite = d.items[0].indefinite;
	rc = decode_fields(&d, doc, e);
	cbr_free(&d);
	if (rc)
		memset(doc, 0, sizeof *doc);
	return rc;
}

static void put_opt(struct cbor_w *w, const char *key, const struct att_opt *o)
{
	if (o->state == ATT_ABSENT)
		return;
	cw_text(w, key);
	if (o->state == ATT_NULL)
		cw_null(w);
	else
		cw_bytes(w, o->p, o->len);
}

int att_payload_encode(const struct att_doc *d, struct cr_buf *out, struct cr_err *e)
{
	struct cbor_w w;
	size_t n = 6 + (d->public_key.state != ATT_ABSENT) + (d->user_data.state != ATT_ABSENT) +
		   (d->nonce.state != ATT_ABSENT);
	if (d->n_pcrs > ATT_MAX_PCRS || d->n_cabundle > ATT_MAX_CABUNDLE)
		return cr_fail(e, "payload: more than %d PCRs or %d cabundle entries", ATT_MAX_PCRS, ATT_MAX_CABUNDLE);
	out->len = 0;
	cw_init(&w, out);
	if (d->indefinite)
		cw_map_indef(&w);
	else
		cw_map(&w, n);
	cw_text(&w, "module_id");
	cw_text(&w, d->module_id);
	cw_text(&w, "digest");
	cw_text(&w, d->digest[0] ? d->digest : "SHA384");
	cw_text(&w, "timestamp");
	cw_uint(&w, d->timestamp_ms);
	cw_text(&w, "pcrs");
	cw_map(&w, d->n_pcrs);
	for (size_t i = 0; i < d->n_pcrs; i++) {
		cw_uint(&w, d->pcrs[i].index);
		cw_bytes(&w, d->pcrs[i].value, d->pcrs[i].len);
	}
	cw_text(&w, "certificate");
	cw_bytes(&w, d->certificate.p, d->certificate.len);
	cw_text(&w, "cabundle");
	cw_array(&w, d->n_cabundle);
	for (size_t i = 0; i < d->n_cabundle; i++)
		cw_bytes(&w, d->cabundle[i].p, d->cabundle[i].len);
	put_opt(&w, "public_key", &d->public_key);
	put_opt(&w, "user_data", &d->user_data);
	put_opt(&w, "nonce", &d->nonce);
	if (d->indefinite)
		cw_break(&w);
	if (cw_finish(&w, e))
		return cr_err_wrap(e, "payload");
	return 0;
}

int att_document_parse(const uint8_t *buf, size_t len, struct att_document *out, struct cr_err *e)
{
	memset(out, 0, sizeof *out);
	if (len > ATT_DOC_MAX)
		return cr_fail(e, "cose: document of %zu bytes (at most %d)", len, ATT_DOC_MAX);
	if (cose_sign1_parse(buf, len, &out->cose, e))
		return cr_err_wrap(e, "cose");
	return att_payload_decode(out->cose.payload, out->cose.payload_len, &out->doc, e);
}

int att_document_sign(const struct att_doc *d, const struct ec_key *key, struct cr_buf *out, struct cr_err *e)
{
	struct cr_buf payload;
	int rc;
	if (key->pub.curve != BR_EC_secp384r1)
		return cr_fail(e, "attestation documents are signed ES384: the key must be P-384, not %s",
			       ec_curve_name(key->pub.curve));
	cr_buf_init(&payload, ATT_PAYLOAD_MAX);
	rc = att_payload_encode(d, &payload, e);
	if (!rc)
		rc = cose_sign1_sign(key, payload.p, payload.len, 0, out, e);
	cr_buf_free(&payload);
	return rc;
}

const char *att_opt_describe(const struct att_opt *o, char out[24])
{
	if (o->state == ATT_ABSENT)
		return "absent";
	if (o->state == ATT_NULL)
		return "null";
	if (!o->len)
		return "empty";
	snprintf(out, 24, "%zu bytes", o->len);
	return out;
}
