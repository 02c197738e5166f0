/* The report's three file forms (report.h): the cleanroom bundle, the
 * Sigstore bundle and the bare DSSE envelope of an .intoto.jsonl. One
 * envelope writer and one envelope reader serve all three. */
#include <string.h>

#include "base/base64.h"
#include "report/report.h"

/* ------------------------------------------------------------ writing */

static void jw_kb64(struct json_w *w, const char *key, const uint8_t *p, size_t n, struct cr_buf *tmp)
{
	struct cr_err e;
	tmp->len = 0;
	if (base64_encode(p, n, tmp, &e)) {
		w->failed = 1;
		w->err = e;
		return;
	}
	jw_key(w, key);
	jw_strn(w, (const char *)tmp->p, tmp->len);
}

/* One signature as the writers take it. */
struct env_sig {
	const uint8_t *sig;
	size_t len;
	const char *keyid;
};

/* {"payload", "payloadType", "signatures": [{"keyid", "sig"}...]}: keys in
 * bytewise order, as every form writes its envelope. */
static void jw_envelope(struct json_w *w, const uint8_t *payload, size_t len, const struct env_sig *sigs, size_t n,
			struct cr_buf *tmp)
{
	jw_obj_begin(w);
	jw_kb64(w, "payload", payload, len, tmp);
	jw_kstr(w, "payloadType", REPORT_PAYLOAD_TYPE);
	jw_key(w, "signatures");
	jw_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "keyid", sigs[i].keyid);
		jw_kb64(w, "sig", sigs[i].sig, sigs[i].len, tmp);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

/* The writer's end: the text, a final newline, a NUL after it. */
static int finish(struct json_w *w, struct cr_buf *tmp, struct cr_buf *out, const char *what, struct cr_err *e)
{
	int rc = jw_finish(w, e);
	cr_buf_free(tmp);
	if (rc)
		return cr_err_wrap(e, "%s", what);
	if (cr_buf_putc(out, '\n', e) || cr_buf_cstr(out, e))
		return -1;
	return 0;
}

int report_bundle_encode(const uint8_t *statement, size_t statement_len, const uint8_t *sig, size_t sig_len,
			 const char *keyid, const uint8_t *doc, size_t doc_len, struct cr_buf *out, struct cr_err *e)
{
	struct json_w w;
	struct cr_buf tmp;
	struct env_sig s = { sig, sig_len, keyid };
	cr_buf_init(&tmp, REPORT_MAX_BUNDLE);
	out->len = 0;
	jw_init(&w, out, 1);
	jw_obj_begin(&w);
	jw_kb64(&w, "attestation", doc, doc_len, &tmp);
	jw_key(&w, "dsseEnvelope");
	jw_envelope(&w, statement, statement_len, &s, 1, &tmp);
	jw_kstr(&w, "mediaType", REPORT_BUNDLE_MEDIA_TYPE);
	jw_obj_end(&w);
	return finish(&w, &tmp, out, "bundle", e);
}

/* The parsed envelope's signatures as the writers take them. */
static size_t env_sigs(const struct report_bundle *b, struct env_sig sigs[REPORT_MAX_SIGS])
{
	for (size_t i = 0; i < b->nsigs; i++) {
		sigs[i].sig = b->sigs[i].sig.p;
		sigs[i].len = b->sigs[i].sig.len;
		sigs[i].keyid = b->sigs[i].keyid;
	}
	return b->nsigs;
}

/* The envelope alone (hint NULL: one compact line) or in a Sigstore bundle. */
static int encode_standard(const struct report_bundle *b, const char *hint, struct cr_buf *out, struct cr_err *e)
{
	struct json_w w;
	struct cr_buf tmp;
	struct env_sig sigs[REPORT_MAX_SIGS];
	size_t n = env_sigs(b, sigs);
	cr_buf_init(&tmp, REPORT_MAX_BUNDLE);
	out->len = 0;
	jw_init(&w, out, hint != NULL);
	if (!hint) {
		jw_envelope(&w, b->statement.p, b->statement.len, sigs, n, &tmp);
		return finish(&w, &tmp, out, "envelope", e);
	}
	jw_obj_begin(&w);
	jw_key(&w, "dsseEnvelope");
	jw_envelope(&w, b->statement.p, b->statement.len, sigs, n, &tmp);
	jw_kstr(&w, "mediaType", REPORT_SIGSTORE_MEDIA_TYPE);
	jw_key(&w, "verificationMaterial");
	jw_obj_begin(&w);
	jw_key(&w, "publicKey");
	jw_obj_begin(&w);
	jw_kstr(&w, "hint", hint);
	jw_obj_end(&w);
	jw_key(&w, "tlogEntries");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_obj_end(&w);
	return finish(&w, &tmp, out, "Sigstore bundle", e);
}

int report_dsse_jsonl_encode(const struct report_bundle *b, struct cr_buf *out, struct cr_err *e)
{
	return encode_standard(b, NULL, out, e);
}

int report_sigstore_encode(const struct report_bundle *b, const char *hint, struct cr_buf *out, struct cr_err *e)
{
	return encode_standard(b, hint, out, e);
}

/* ------------------------------------------------------------ reading */

const char *report_form_name(enum report_form f)
{
	switch (f) {
	case REPORT_FORM_CLEANROOM: return REPORT_BUNDLE_MEDIA_TYPE;
	case REPORT_FORM_SIGSTORE: return REPORT_SIGSTORE_MEDIA_TYPE;
	default: return "DSSE envelope (.intoto.jsonl)";
	}
}

static int b64_member(const struct json_val *obj, const char *path, const char *key, struct cr_buf *out, size_t max,
		      struct cr_err *e)
{
	const struct json_val *v = json_get(obj, key);
	char what[64];
	snprintf(what, sizeof what, "bundle: %s%s", path, key);
	if (!v || v->type != JSON_STRING)
		return cr_fail(e, "%s: %s", what, v ? "not a string" : "missing");
	cr_buf_init(out, max);
	return base64_decode(v->str, v->len, out, what, e);
}

/* A string member of at most max bytes (no NUL) copied into out
 * (max + 1 bytes); absent: "" unless required. */
static int short_str(const struct json_val *obj, const char *path, const char *key, int required, char *out, size_t max,
		     struct cr_err *e)
{
	const struct json_val *k = json_get(obj, key);
	out[0] = 0;
	if (!k)
		return required ? cr_fail(e, "bundle: %s%s: missing", path, key) : 0;
	if (k->type != JSON_STRING)
		return cr_fail(e, "bundle: %s%s: not a string", path, key);
	if (k->len > max || memchr(k->str, 0, k->len))
		return cr_fail(e, "bundle: %s%s: longer than %zu bytes or contains a NUL", path, key, max);
	memcpy(out, k->str, k->len);
	out[k->len] = 0;
	return 0;
}

/* signatures[i]: an object with "sig" (base64) and an optional "keyid"
 * (a string); other members are left alone, as DSSE readers do. */
static int parse_sig(const struct json_val *sig, const char *env, size_t i, struct report_sig *out, struct cr_err *e)
{
	char path[64];
	snprintf(path, sizeof path, "%ssignatures[%zu].", env, i);
	if (sig->type != JSON_OBJECT)
		return cr_fail(e, "bundle: %ssignatures[%zu]: not an object", env, i);
	if (short_str(sig, path, "keyid", 0, out->keyid, REPORT_KEYID_MAX, e))
		return -1;
	return b64_member(sig, path, "sig", &out->sig, REPORT_ENV_SIG_MAX, e);
}

/* The envelope object; path names it in errors ("dsseEnvelope." or ""). */
static int parse_envelope(const struct json_val *env, const char *path, struct report_bundle *out, struct cr_err *e)
{
	const struct json_val *sigs;
	const char *s;
	if (!(s = json_get_str(env, "payloadType")) || strcmp(s, REPORT_PAYLOAD_TYPE))
		return cr_fail(e, "bundle: %spayloadType: %s%s%s, expected \"%s\"", path, s ? "\"" : "",
			       s ? s : "missing or not a string", s ? "\"" : "", REPORT_PAYLOAD_TYPE);
	if (!(sigs = json_get(env, "signatures")) || sigs->type != JSON_ARRAY)
		return cr_fail(e, "bundle: %ssignatures: %s, expected an array of signature objects", path,
			       sigs ? "not an array" : "missing");
	if (sigs->n == 0 || sigs->n > REPORT_MAX_SIGS)
		return cr_fail(e, "bundle: %ssignatures: %zu signatures; 1 to %d are accepted", path, sigs->n,
			       REPORT_MAX_SIGS);
	for (size_t i = 0; i < sigs->n; i++)
		if (parse_sig(sigs->kids[i], path, i, &out->sigs[i], e))
			return -1;
	out->nsigs = sigs->n;
	return b64_member(env, path, "payload", &out->statement, REPORT_MAX_STATEMENT, e);
}

/* verificationMaterial of a Sigstore bundle: a publicKey with a hint, no
 * certificate, no transparency-log entries (nothing here could check them). */
static int parse_sigstore_material(const struct json_val *root, struct report_bundle *out, struct cr_err *e)
{
	static const char *P = "verificationMaterial";
	const struct json_val *vm = json_get(root, P), *pk, *tl;
	if (!vm || vm->type != JSON_OBJECT)
		return cr_fail(e, "bundle: %s: %s", P, vm ? "not an object" : "missing");
	if (json_get(vm, "certificate") || json_get(vm, "x509CertificateChain"))
		return cr_fail(e, "bundle: %s.%s: present; the enclave's key is given by publicKey, not a certificate",
			       P, json_get(vm, "certificate") ? "certificate" : "x509CertificateChain");
	if (!(pk = json_get(vm, "publicKey")) || pk->type != JSON_OBJECT)
		return cr_fail(e, "bundle: %s.publicKey: %s", P, pk ? "not an object" : "missing");
	if (short_str(pk, "verificationMaterial.publicKey.", "hint", 1, out->hint, REPORT_KEYID_MAX, e))
		return -1;
	if ((tl = json_get(vm, "tlogEntries")) && tl->type != JSON_ARRAY)
		return cr_fail(e, "bundle: %s.tlogEntries: not an array", P);
	if (tl && tl->n)
		return cr_fail(e,
			       "bundle: %s.tlogEntries: %zu entries; transparency-log entries are not checked "
			       "here, so none are accepted",
			       P, tl->n);
	if (json_get(root, "messageSignature"))
		return cr_fail(e, "bundle: messageSignature: present; the content must be a dsseEnvelope");
	return 0;
}

/* The form from the top level: mediaType, or a bare envelope without one. */
static int detect_form(const struct json_val *root, enum report_form *f, struct cr_err *e)
{
	const struct json_val *mt = json_get(root, "mediaType");
	if (!mt) {
		if (!json_get(root, "payloadType"))
			return cr_fail(e,
				       "bundle: mediaType: missing (and no payloadType: not a DSSE envelope either)");
		*f = REPORT_FORM_DSSE;
		return 0;
	}
	if (mt->type != JSON_STRING)
		return cr_fail(e, "bundle: mediaType: not a string");
	if (!strcmp(mt->str, REPORT_BUNDLE_MEDIA_TYPE))
		*f = REPORT_FORM_CLEANROOM;
	else if (!strcmp(mt->str, REPORT_SIGSTORE_MEDIA_TYPE))
		*f = REPORT_FORM_SIGSTORE;
	else
		return cr_fail(e, "bundle: mediaType: \"%s\", expected \"%s\" or \"%s\"", mt->str,
			       REPORT_BUNDLE_MEDIA_TYPE, REPORT_SIGSTORE_MEDIA_TYPE);
	return 0;
}

/* The attestation document: the cleanroom bundle's own member, or the
 * caller's bytes for the other forms (never both, never neither). */
static int take_attestation(const struct json_val *root, const uint8_t *att, size_t att_len, struct report_bundle *out,
			    struct cr_err *e)
{
	if (out->form == REPORT_FORM_CLEANROOM) {
		if (att)
			return cr_fail(e, "bundle: carries its own attestation document; a separate one is not "
					  "accepted with it");
		return b64_member(root, "", "attestation", &out->attestation, ATT_DOC_MAX, e);
	}
	if (!att)
		return cr_fail(e,
			       "bundle: a %s carries no attestation document: give it separately (the file "
			       "`cleanroom build` writes beside it)",
			       out->form == REPORT_FORM_SIGSTORE ? "Sigstore bundle" : "DSSE envelope");
	if (att_len == 0 || att_len > ATT_DOC_MAX)
		return cr_fail(e, "attestation document: %zu bytes (1 to %d accepted)", att_len, ATT_DOC_MAX);
	cr_buf_init(&out->attestation, ATT_DOC_MAX);
	return cr_buf_put(&out->attestation, att, att_len, e);
}

int report_bundle_parse_form(const uint8_t *buf, size_t len, const uint8_t *att, size_t att_len,
			     struct report_bundle *out, struct cr_err *e)
{
	/* nodes: room to count more signatures than are accepted, so that a
	 * long list is refused with its count */
	static const struct json_limits lim = { REPORT_MAX_BUNDLE, 8, 512 };
	struct json_doc doc;
	const struct json_val *root, *env;
	int rc = -1;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < REPORT_MAX_SIGS; i++)
		cr_buf_init(&out->sigs[i].sig, REPORT_ENV_SIG_MAX);
	if (json_parse((const char *)buf, len, &lim, &doc, e))
		return cr_err_wrap(e, "bundle");
	root = doc.root;
	if (root->type != JSON_OBJECT) {
		cr_fail(e, "bundle: not a JSON object");
		goto done;
	}
	if (detect_form(root, &out->form, e))
		goto done;
	if (out->form == REPORT_FORM_DSSE) {
		if (parse_envelope(root, "", out, e))
			goto done;
	} else {
		if (!(env = json_get(root, "dsseEnvelope")) || env->type != JSON_OBJECT) {
			cr_fail(e, "bundle: dsseEnvelope: %s", env ? "not an object" : "missing");
			goto done;
		}
		if (parse_envelope(env, "dsseEnvelope.", out, e) ||
		    (out->form == REPORT_FORM_SIGSTORE && parse_sigstore_material(root, out, e)))
			goto done;
	}
	if (take_attestation(root, att, att_len, out, e))
		goto done;
	rc = 0;
done:
	json_free(&doc);
	if (rc)
		report_bundle_free(out);
	return rc;
}

int report_bundle_parse(const uint8_t *buf, size_t len, struct report_bundle *out, struct cr_err *e)
{
	return report_bundle_parse_form(buf, len, NULL, 0, out, e);
}

void report_bundle_free(struct report_bundle *b)
{
	cr_buf_free(&b->statement);
	for (size_t i = 0; i < REPORT_MAX_SIGS; i++)
		cr_buf_free(&b->sigs[i].sig);
	b->nsigs = 0;
	cr_buf_free(&b->attestation);
}
