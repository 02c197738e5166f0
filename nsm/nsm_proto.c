#include "nsm/nsm_proto.h"

#include <stdio.h>
#include <string.h>

#include "base/cbor_read.h"
#include "base/cbor_write.h"

static const char *const op_names[NSM_OP_COUNT] = {
	[NSM_OP_DESCRIBE_PCR] = "DescribePCR", [NSM_OP_EXTEND_PCR] = "ExtendPCR",
	[NSM_OP_LOCK_PCR] = "LockPCR",         [NSM_OP_LOCK_PCRS] = "LockPCRs",
	[NSM_OP_DESCRIBE_NSM] = "DescribeNSM", [NSM_OP_ATTESTATION] = "Attestation",
	[NSM_OP_GET_RANDOM] = "GetRandom",
};

static const char *const error_names[] = {
	"Success",          "InvalidArgument", "InvalidIndex",  "InvalidResponse", "ReadOnlyIndex",
	"InvalidOperation", "BufferTooSmall",  "InputTooLarge", "InternalError",   "Unknown",
};

/* Requests are tiny; a DescribeNSM response has at most NSM_LOCKED_MAX
 * entries plus a dozen fields. */
static const struct cbr_limits request_limits = { .max_items = 64, .max_depth = 4 };
static const struct cbr_limits response_limits = { .max_items = NSM_LOCKED_MAX + 32, .max_depth = 4 };

const char *nsm_op_name(enum nsm_op op)
{
	return (unsigned)op < NSM_OP_COUNT ? op_names[op] : "?";
}

const char *nsm_error_name(enum nsm_error err)
{
	return (unsigned)err <= NSM_ERROR_UNKNOWN ? error_names[err] : "Unknown";
}

enum nsm_error nsm_error_from_name(const char *name, size_t len)
{
	for (unsigned i = 0; i < NSM_ERROR_UNKNOWN; i++)
		if (strlen(error_names[i]) == len && !memcmp(error_names[i], name, len))
			return (enum nsm_error)i;
	return NSM_ERROR_UNKNOWN;
}

/* ------------------------------------------------------------ field access */

static int field(const struct cbr_doc *d, size_t m, const char *what, const char *name, size_t *v, struct cr_err *e)
{
	*v = cbr_map_find(d, m, name);
	if (*v == CBR_NONE)
		return cr_fail(e, "%s: missing field \"%s\"", what, name);
	return 0;
}

static int field_u16(const struct cbr_doc *d, size_t m, const char *what, const char *name, uint16_t *out,
		     struct cr_err *e)
{
	size_t v;
	if (field(d, m, what, name, &v, e))
		return -1;
	if (d->items[v].kind != CBR_UINT)
		return cr_fail(e, "%s: field \"%s\" must be an unsigned integer, not %s", what, name,
			       cbr_kind_name(d->items[v].kind));
	if (d->items[v].v > UINT16_MAX)
		return cr_fail(e, "%s: field \"%s\" = %llu does not fit 16 bits", what, name,
			       (unsigned long long)d->items[v].v);
	*out = (uint16_t)d->items[v].v;
	return 0;
}

/* A byte string (or, when text_ok, a text string) of min..max bytes. */
static int bytes_item(const struct cbr_doc *d, size_t v, int text_ok, size_t min, size_t max, const char *what,
		      const char *name, struct nsm_bytes *out, struct cr_err *e)
{
	const struct cbr_item *it = &d->items[v];
	if (it->kind != CBR_BYTES && !(text_ok && it->kind == CBR_TEXT))
		return cr_fail(e, "%s: field \"%s\" must be a byte string, not %s", what, name,
			       cbr_kind_name(it->kind));
	if (it->len < min || it->len > max)
		return cr_fail(e, "%s: field \"%s\" is %zu bytes (allowed %zu..%zu)", what, name, it->len, min, max);
	out->p = it->p;
	out->len = it->len;
	return 0;
}

static int field_bytes(const struct cbr_doc *d, size_t m, int text_ok, size_t min, size_t max, const char *what,
		       const char *name, struct nsm_bytes *out, struct cr_err *e)
{
	size_t v;
	if (field(d, m, what, name, &v, e))
		return -1;
	return bytes_item(d, v, text_ok, min, max, what, name, out, e);
}

static int field_pcr_value(const struct cbr_doc *d, size_t m, const char *what, struct nsm_bytes *out, struct cr_err *e)
{
	if (field_bytes(d, m, 0, 1, NSM_PCR_MAX_LEN, what, "data", out, e))
		return -1;
	if (out->len != 32 && out->len != 48 && out->len != 64)
		return cr_fail(e, "%s: field \"data\" is %zu bytes, not a 32, 48 or 64-byte PCR", what, out->len);
	return 0;
}

/* A text field copied into a C string of cap bytes (NUL included). */
static int field_text(const struct cbr_doc *d, size_t m, const char *what, const char *name, char *out, size_t cap,
		      struct cr_err *e)
{
	size_t v;
	const struct cbr_item *it;
	if (field(d, m, what, name, &v, e))
		return -1;
	it = &d->items[v];
	if (it->kind != CBR_TEXT)
		return cr_fail(e, "%s: field \"%s\" must be a text string, not %s", what, name,
			       cbr_kind_name(it->kind));
	if (it->len >= cap)
		return cr_fail(e, "%s: field \"%s\" is %zu bytes (at most %zu)", what, name, it->len, cap - 1);
	if (memchr(it->p, 0, it->len))
		return cr_fail(e, "%s: field \"%s\" contains a NUL byte", what, name);
	memcpy(out, it->p, it->len);
	out[it->len] = 0;
	return 0;
}

/* The operation named by text item k; -1 if none. */
static int op_of(const struct cbr_doc *d, size_t k)
{
	for (int i = 0; i < NSM_OP_COUNT; i++)
		if (cbr_text_is(d, k, op_names[i]))
			return i;
	return -1;
}

static int is_unit_op(enum nsm_op op)
{
	return op == NSM_OP_DESCRIBE_NSM || op == NSM_OP_GET_RANDOM;
}

/* --------------------------------------------------------------- requests */

static void put_opt(struct cbor_w *w, const char *key, const struct nsm_opt_bytes *b)
{
	cw_text(w, key);
	if (b->present)
		cw_bytes(w, b->p, b->len);
	else
		cw_null(w);
}

int nsm_request_encode(const struct nsm_request *req, struct cr_buf *out, struct cr_err *e)
{
	struct cbor_w w;
	out->len = 0;
	if ((unsigned)req->op >= NSM_OP_COUNT)
		return cr_fail(e, "NSM request: unknown operation %d", (int)req->op);
	cw_init(&w, out);
	if (is_unit_op(req->op)) {
		cw_text(&w, op_names[req->op]);
	} else {
		cw_map(&w, 1);
		cw_text(&w, op_names[req->op]);
		switch (req->op) {
		case NSM_OP_DESCRIBE_PCR:
		case NSM_OP_LOCK_PCR:
			cw_map(&w, 1);
			cw_text(&w, "index");
			cw_uint(&w, req->index);
			break;
		case NSM_OP_EXTEND_PCR:
			cw_map(&w, 2);
			cw_text(&w, "index");
			cw_uint(&w, req->index);
			cw_text(&w, "data");
			cw_bytes(&w, req->data.p, req->data.len);
			break;
		case NSM_OP_LOCK_PCRS:
			cw_map(&w, 1);
			cw_text(&w, "range");
			cw_uint(&w, req->range);
			break;
		default: /* NSM_OP_ATTESTATION */
			cw_map(&w, 3);
			put_opt(&w, "user_data", &req->user_data);
			put_opt(&w, "nonce", &req->nonce);
			put_opt(&w, "public_key", &req->public_key);
			break;
		}
	}
	if (cw_finish(&w, e))
		return cr_err_wrap(e, "NSM request %s", op_names[req->op]);
	if (out->len > NSM_REQUEST_MAX)
		return cr_fail(e, "NSM request %s: %zu bytes, more than the %u the device accepts", op_names[req->op],
			       out->len, NSM_REQUEST_MAX);
	return 0;
}

/* Attestation fields: absent or null = not present; bytes or text. */
static int opt_field(const struct cbr_doc *d, size_t m, const char *what, const char *name, struct nsm_opt_bytes *out,
		     struct cr_err *e)
{
	struct nsm_bytes b = { 0 };
	size_t v = cbr_map_find(d, m, name);
	memset(out, 0, sizeof *out);
	if (v == CBR_NONE || d->items[v].kind == CBR_NULL)
		return 0;
	if (bytes_item(d, v, 1, 0, NSM_REQUEST_MAX, what, name, &b, e))
		return -1;
	out->present = 1;
	out->p = b.p;
	out->len = b.len;
	return 0;
}

static int request_args(const struct cbr_doc *d, size_t v, struct nsm_request *req, const char *what, struct cr_err *e)
{
	if (d->items[v].kind != CBR_MAP)
		return cr_fail(e, "%s: arguments must be a map, not %s", what, cbr_kind_name(d->items[v].kind));
	switch (req->op) {
	case NSM_OP_DESCRIBE_PCR:
	case NSM_OP_LOCK_PCR: return field_u16(d, v, what, "index", &req->index, e);
	case NSM_OP_EXTEND_PCR:
		if (field_u16(d, v, what, "index", &req->index, e))
			return -1;
		return field_bytes(d, v, 1, 0, NSM_REQUEST_MAX, what, "data", &req->data, e);
	case NSM_OP_LOCK_PCRS: return field_u16(d, v, what, "range", &req->range, e);
	default: /* NSM_OP_ATTESTATION */
		if (opt_field(d, v, what, "user_data", &req->user_data, e) ||
		    opt_field(d, v, what, "nonce", &req->nonce, e) ||
		    opt_field(d, v, what, "public_key", &req->public_key, e))
			return -1;
		return 0;
	}
}

int nsm_request_decode(const uint8_t *buf, size_t len, struct nsm_request *req, enum nsm_error *reply, struct cr_err *e)
{
	struct cbr_doc d;
	char what[64];
	int op, rc = -1;
	enum nsm_error why = NSM_INVALID_OPERATION;
	memset(req, 0, sizeof *req);
	if (len > NSM_REQUEST_MAX) {
		why = NSM_INPUT_TOO_LARGE;
		cr_fail(e, "NSM request: %zu bytes, more than %u", len, NSM_REQUEST_MAX);
		goto out;
	}
	if (cbr_parse(buf, len, &request_limits, "NSM request", &d, e))
		goto out;
	if (d.items[0].kind == CBR_TEXT) {
		op = op_of(&d, 0);
		if (op < 0 || !is_unit_op((enum nsm_op)op)) {
			cr_fail(e, "NSM request: unknown operation \"%.*s\"",
				(int)(d.items[0].len > 32 ? 32 : d.items[0].len), (const char *)d.items[0].p);
			goto done;
		}
		req->op = (enum nsm_op)op;
		rc = 0;
	} else if (d.items[0].kind == CBR_MAP && d.items[0].v == 1) {
		op = op_of(&d, 1);
		if (op < 0 || is_unit_op((enum nsm_op)op)) {
			cr_fail(e, "NSM request: unknown operation %s", d.items[1].kind == CBR_TEXT ? "name" : "key");
			goto done;
		}
		req->op = (enum nsm_op)op;
		snprintf(what, sizeof what, "NSM request %s", op_names[op]);
		why = NSM_INVALID_ARGUMENT;
		rc = request_args(&d, d.items[1].end, req, what, e);
	} else {
		cr_fail(e, "NSM request: expected a text string or a map with one entry, got %s",
			cbr_kind_name(d.items[0].kind));
	}
done:
	cbr_free(&d);
out:
	if (rc && reply)
		*reply = why;
	return rc;
}

/* -------------------------------------------------------------- responses */

/* map(1){ key: bstr } */
static void put_bytes_map(struct cbor_w *w, const char *key, const struct nsm_bytes *b)
{
	cw_map(w, 1);
	cw_text(w, key);
	cw_bytes(w, b->p, b->len);
}

static void encode_success(struct cbor_w *w, const struct nsm_response *r)
{
	const struct nsm_description *dn = &r->describe;
	if (r->op == NSM_OP_LOCK_PCR || r->op == NSM_OP_LOCK_PCRS) {
		cw_text(w, op_names[r->op]);
		return;
	}
	cw_map(w, 1);
	cw_text(w, op_names[r->op]);
	switch (r->op) {
	case NSM_OP_DESCRIBE_PCR:
		cw_map(w, 2);
		cw_text(w, "lock");
		cw_bool(w, r->lock);
		cw_text(w, "data");
		cw_bytes(w, r->data.p, r->data.len);
		break;
	case NSM_OP_EXTEND_PCR: put_bytes_map(w, "data", &r->data); break;
	case NSM_OP_DESCRIBE_NSM:
		cw_map(w, 7);
		cw_text(w, "version_major");
		cw_uint(w, dn->version_major);
		cw_text(w, "version_minor");
		cw_uint(w, dn->version_minor);
		cw_text(w, "version_patch");
		cw_uint(w, dn->version_patch);
		cw_text(w, "module_id");
		cw_text(w, dn->module_id);
		cw_text(w, "max_pcrs");
		cw_uint(w, dn->max_pcrs);
		cw_text(w, "locked_pcrs");
		cw_array(w, dn->n_locked);
		for (size_t i = 0; i < dn->n_locked && i < NSM_LOCKED_MAX; i++)
			cw_uint(w, dn->locked_pcrs[i]);
		cw_text(w, "digest");
		cw_text(w, dn->digest);
		break;
	case NSM_OP_ATTESTATION: put_bytes_map(w, "document", &r->document); break;
	default: /* NSM_OP_GET_RANDOM */ put_bytes_map(w, "random", &r->random); break;
	}
}

int nsm_response_encode(const struct nsm_response *r, struct cr_buf *out, struct cr_err *e)
{
	struct cbor_w w;
	out->len = 0;
	cw_init(&w, out);
	if (r->error != NSM_SUCCESS) {
		cw_map(&w, 1);
		cw_text(&w, "Error");
		cw_text(&w,
			r->error == NSM_ERROR_UNKNOWN && r->error_name[0] ? r->error_name : nsm_error_name(r->error));
	} else {
		if ((unsigned)r->op >= NSM_OP_COUNT)
			return cr_fail(e, "NSM response: unknown operation %d", (int)r->op);
		if (r->op == NSM_OP_DESCRIBE_NSM && r->describe.n_locked > NSM_LOCKED_MAX)
			return cr_fail(e, "NSM response DescribeNSM: more than %d locked PCRs", NSM_LOCKED_MAX);
		encode_success(&w, r);
	}
	if (cw_finish(&w, e))
		return cr_err_wrap(e, "NSM response");
	if (out->len > NSM_RESPONSE_MAX)
		return cr_fail(e, "NSM response: %zu bytes, more than the %u-byte response buffer", out->len,
			       NSM_RESPONSE_MAX);
	return 0;
}

static int decode_describe(const struct cbr_doc *d, size_t m, const char *what, struct nsm_description *dn,
			   struct cr_err *e)
{
	size_t v;
	if (field_u16(d, m, what, "version_major", &dn->version_major, e) ||
	    field_u16(d, m, what, "version_minor", &dn->version_minor, e) ||
	    field_u16(d, m, what, "version_patch", &dn->version_patch, e) ||
	    field_text(d, m, what, "module_id", dn->module_id, sizeof dn->module_id, e) ||
	    field_u16(d, m, what, "max_pcrs", &dn->max_pcrs, e) ||
	    field_text(d, m, what, "digest", dn->digest, sizeof dn->digest, e) ||
	    field(d, m, what, "locked_pcrs", &v, e))
		return -1;
	if (strcmp(dn->digest, "SHA256") && strcmp(dn->digest, "SHA384") && strcmp(dn->digest, "SHA512"))
		return cr_fail(e, "%s: field \"digest\" is \"%s\", not SHA256, SHA384 or SHA512", what, dn->digest);
	if (d->items[v].kind != CBR_ARRAY)
		return cr_fail(e, "%s: field \"locked_pcrs\" must be an array, not %s", what,
			       cbr_kind_name(d->items[v].kind));
	if (d->items[v].v > NSM_LOCKED_MAX)
		return cr_fail(e, "%s: field \"locked_pcrs\" has %llu entries (at most %d)", what,
			       (unsigned long long)d->items[v].v, NSM_LOCKED_MAX);
	CBR_ARRAY_FOREACH(d, v, i)
	{
		if (d->items[i].kind != CBR_UINT || d->items[i].v > UINT16_MAX)
			return cr_fail(e, "%s: locked_pcrs[%zu] is not a 16-bit unsigned integer", what, dn->n_locked);
		dn->locked_pcrs[dn->n_locked++] = (uint16_t)d->items[i].v;
	}
	return 0;
}

static int decode_success(const struct cbr_doc *d, size_t m, struct nsm_response *r, const char *what, struct cr_err *e)
{
	size_t v;
	if (d->items[m].kind != CBR_MAP)
		return cr_fail(e, "%s: body must be a map, not %s", what, cbr_kind_name(d->items[m].kind));
	switch (r->op) {
	case NSM_OP_DESCRIBE_PCR:
		if (field(d, m, what, "lock", &v, e))
			return -1;
		if (d->items[v].kind != CBR_BOOL)
			return cr_fail(e, "%s: field \"lock\" must be a boolean, not %s", what,
				       cbr_kind_name(d->items[v].kind));
		r->lock = (int)d->items[v].v;
		return field_pcr_value(d, m, what, &r->data, e);
	case NSM_OP_EXTEND_PCR: return field_pcr_value(d, m, what, &r->data, e);
	case NSM_OP_DESCRIBE_NSM: return decode_describe(d, m, what, &r->describe, e);
	case NSM_OP_ATTESTATION: return field_bytes(d, m, 0, 1, NSM_RESPONSE_MAX, what, "document", &r->document, e);
	case NSM_OP_GET_RANDOM: return field_bytes(d, m, 0, 1, NSM_RESPONSE_MAX, what, "random", &r->random, e);
	default: return cr_fail(e, "%s: a %s answer is a bare text string", what, op_names[r->op]);
	}
}

int nsm_response_decode(const uint8_t *buf, size_t len, enum nsm_op expected, struct nsm_response *r, struct cr_err *e)
{
	struct cbr_doc d;
	char what[64];
	const struct cbr_item *k;
	int rc = -1;
	memset(r, 0, sizeof *r);
	if ((unsigned)expected >= NSM_OP_COUNT)
		return cr_fail(e, "NSM response: unknown operation %d", (int)expected);
	r->op = expected;
	snprintf(what, sizeof what, "NSM response to %s", op_names[expected]);
	if (len > NSM_RESPONSE_MAX)
		return cr_fail(e, "%s: %zu bytes, more than %u", what, len, NSM_RESPONSE_MAX);
	if (cbr_parse(buf, len, &response_limits, what, &d, e))
		return -1;
	if (d.items[0].kind == CBR_TEXT) {
		if ((expected == NSM_OP_LOCK_PCR || expected == NSM_OP_LOCK_PCRS) &&
		    cbr_text_is(&d, 0, op_names[expected]))
			rc = 0;
		else
			cr_fail(e, "%s: unexpected text answer \"%.*s\"", what,
				(int)(d.items[0].len > 32 ? 32 : d.items[0].len), (const char *)d.items[0].p);
		goto done;
	}
	if (d.items[0].kind != CBR_MAP || d.items[0].v != 1) {
		cr_fail(e, "%s: expected a map with one entry or a text string, got %s%s", what,
			cbr_kind_name(d.items[0].kind), d.items[0].kind == CBR_MAP ? " with another size" : "");
		goto done;
	}
	k = &d.items[1];
	if (cbr_text_is(&d, 1, "Error")) {
		size_t v = k->end;
		if (d.items[v].kind != CBR_TEXT || !d.items[v].len || d.items[v].len >= sizeof r->error_name ||
		    memchr(d.items[v].p, 0, d.items[v].len)) {
			cr_fail(e, "%s: \"Error\" must be a short error name", what);
			goto done;
		}
		memcpy(r->error_name, d.items[v].p, d.items[v].len);
		r->error = nsm_error_from_name((const char *)d.items[v].p, d.items[v].len);
		if (r->error == NSM_SUCCESS) {
			cr_fail(e, "%s: an \"Error\" that names Success", what);
			goto done;
		}
		rc = 0;
		goto done;
	}
	if (!cbr_text_is(&d, 1, op_names[expected])) {
		if (k->kind == CBR_TEXT)
			cr_fail(e, "%s: answers \"%.*s\"", what, (int)(k->len > 32 ? 32 : k->len), (const char *)k->p);
		else
			cr_fail(e, "%s: the key must be a text string, not %s", what, cbr_kind_name(k->kind));
		goto done;
	}
	rc = decode_success(&d, k->end, r, what, e);
done:
	cbr_free(&d);
	if (rc) {
		memset(r, 0, sizeof *r);
		r->op = expected;
	}
	return rc;
}
