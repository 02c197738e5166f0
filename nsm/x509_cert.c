/* One certificate: BearSSL's br_x509_decoder reads the public key, the cA
 * flag and the validity dates; the DER walk below reads only what BearSSL
 * does not expose (its decoder gives no names as text, no keyUsage, no
 * pathLenConstraint and no signature algorithm name, and br_x509_minimal
 * checks none of these on the trust anchor, nor keyUsage's presence):
 *   - issuer and subject Names: text for messages and the CLI, DER bytes
 *     for the trust anchor and for naming a mismatched link;
 *   - keyUsage (present or not, and its bits) and pathLenConstraint, for
 *     the chain rules br_x509_minimal does not apply (x509_chain.h);
 *   - the signature algorithm, by name, for messages and the CLI.
 * Walking to those fields is also where the strictness of x509_cert.h is
 * enforced (minimal lengths, BOOLEANs, no extension twice, equal inner and
 * outer algorithms, no trailing bytes). */
#include "nsm/x509_cert.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- DER reading */

#define TAG_BOOLEAN 0x01
#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_VERSION 0xa0     /* [0] EXPLICIT */
#define TAG_ISSUER_UID 0x81  /* [1] IMPLICIT */
#define TAG_SUBJECT_UID 0x82 /* [2] IMPLICIT */
#define TAG_EXTENSIONS 0xa3  /* [3] EXPLICIT */

/* Bytes still to read. */
struct der {
	const uint8_t *p;
	size_t len;
};

/* One element: tag, content, and the whole encoding. */
struct tlv {
	unsigned tag;
	const uint8_t *p;
	size_t len;
	struct x509_span all;
};

static int der_read(struct der *d, struct tlv *t, const char *what, struct cr_err *e)
{
	size_t hdr = 2, len;
	if (d->len < 2)
		return cr_fail(e, "%s: truncated", what);
	t->tag = d->p[0];
	if ((t->tag & 0x1f) == 0x1f)
		return cr_fail(e, "%s: multi-byte tags are not used in certificates", what);
	len = d->p[1];
	if (len & 0x80) {
		size_t n = len & 0x7f;
		if (n == 0)
			return cr_fail(e, "%s: indefinite length is not DER", what);
		if (n > 3)
			return cr_fail(e, "%s: length field of %zu bytes", what, n);
		if (d->len < 2 + n)
			return cr_fail(e, "%s: truncated", what);
		if (d->p[2] == 0)
			return cr_fail(e, "%s: length not in minimal form", what);
		len = 0;
		for (size_t i = 0; i < n; i++)
			len = len << 8 | d->p[2 + i];
		if (len < 0x80)
			return cr_fail(e, "%s: length not in minimal form", what);
		hdr += n;
	}
	if (len > d->len - hdr)
		return cr_fail(e, "%s: length %zu runs past the end", what, len);
	t->p = d->p + hdr;
	t->len = len;
	t->all.p = d->p;
	t->all.len = hdr + len;
	d->p += hdr + len;
	d->len -= hdr + len;
	return 0;
}

static int der_expect(struct der *d, unsigned tag, struct tlv *t, const char *what, struct cr_err *e)
{
	if (der_read(d, t, what, e))
		return -1;
	if (t->tag != tag)
		return cr_fail(e, "%s: expected tag 0x%02x, found 0x%02x", what, tag, t->tag);
	return 0;
}

static int der_peek(const struct der *d)
{
	return d->len ? d->p[0] : -1;
}

static struct der der_inside(const struct tlv *t)
{
	struct der d = { t->p, t->len };
	return d;
}

static int der_end(const struct der *d, const char *what, struct cr_err *e)
{
	if (d->len)
		return cr_fail(e, "%s: %zu unexpected bytes at the end", what, d->len);
	return 0;
}

static int oid_is(const struct tlv *t, const uint8_t *oid, size_t n)
{
	return t->tag == TAG_OID && t->len == n && !memcmp(t->p, oid, n);
}

/* Dotted form of an OID's content. */
static void oid_text(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	unsigned long v = 0;
	int first = 1;
	out[0] = 0;
	for (size_t i = 0; i < n && o + 24 < cap; i++) {
		v = v << 7 | (p[i] & 0x7f);
		if (p[i] & 0x80)
			continue;
		if (first) {
			unsigned long a = v < 80 ? v / 40 : 2;
			o += (size_t)snprintf(out + o, cap - o, "%lu.%lu", a, v - a * 40);
			first = 0;
		} else {
			o += (size_t)snprintf(out + o, cap - o, ".%lu", v);
		}
		v = 0;
	}
}

/* ------------------------------------------------------------------ fields */

static const uint8_t OID_BASIC_CONSTRAINTS[] = { 0x55, 0x1d, 0x13 };
static const uint8_t OID_KEY_USAGE[] = { 0x55, 0x1d, 0x0f };
static const uint8_t OID_CN[] = { 0x55, 0x04, 0x03 };

static const struct {
	uint8_t oid[8];
	size_t n;
	const char *name;
} sig_algs[] = {
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 }, 8, "ecdsa-with-SHA256" },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 }, 8, "ecdsa-with-SHA384" },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 }, 8, "ecdsa-with-SHA512" },
};

/* Attribute types by their short (text form) and OpenSSL long names. */
static const struct {
	uint8_t oid[10];
	size_t n;
	const char *name, *long_name;
} attr_names[] = {
	{ { 0x55, 0x04, 0x03 }, 3, "CN", "commonName" },
	{ { 0x55, 0x04, 0x06 }, 3, "C", "countryName" },
	{ { 0x55, 0x04, 0x07 }, 3, "L", "localityName" },
	{ { 0x55, 0x04, 0x08 }, 3, "ST", "stateOrProvinceName" },
	{ { 0x55, 0x04, 0x0a }, 3, "O", "organizationName" },
	{ { 0x55, 0x04, 0x0b }, 3, "OU", "organizationalUnitName" },
	{ { 0x55, 0x04, 0x05 }, 3, "serialNumber", "serialNumber" },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01 }, 9, "emailAddress", "emailAddress" },
	{ { 0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19 }, 10, "DC", "domainComponent" },
};

/* Append printable bytes; anything else as \xNN, and the separators of the
 * text form escaped, so a name cannot fake another attribute. */
static void append_value(char *out, size_t cap, size_t *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && *o + 5 < cap; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\\')
			*o += (size_t)snprintf(out + *o, cap - *o, "\\x%02x", p[i]);
		else if (p[i] == ',' || p[i] == '=')
			*o += (size_t)snprintf(out + *o, cap - *o, "\\%c", p[i]);
		else
			out[(*o)++] = (char)p[i];
	}
	out[*o] = 0;
}

/* The one walk of a Name: each attribute in encoded order. */
typedef void (*attr_fn)(void *ctx, const struct tlv *type, const char *name, const char *long_name,
			const struct tlv *value);

static int name_walk(const struct tlv *name, attr_fn fn, void *ctx, const char *what, struct cr_err *e)
{
	struct der rdns = der_inside(name);
	while (rdns.len) {
		struct tlv set, atv, type, value;
		struct der set_in, atv_in;
		if (der_expect(&rdns, TAG_SET, &set, what, e))
			return -1;
		set_in = der_inside(&set);
		if (!set_in.len)
			return cr_fail(e, "%s: empty RDN", what);
		while (set_in.len) {
			const char *an = NULL, *ln = NULL;
			char dotted[64];
			if (der_expect(&set_in, TAG_SEQUENCE, &atv, what, e))
				return -1;
			atv_in = der_inside(&atv);
			if (der_expect(&atv_in, TAG_OID, &type, what, e) || der_read(&atv_in, &value, what, e) ||
			    der_end(&atv_in, what, e))
				return -1;
			for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++)
				if (oid_is(&type, attr_names[i].oid, attr_names[i].n)) {
					an = attr_names[i].name;
					ln = attr_names[i].long_name;
				}
			if (!an) {
				oid_text(type.p, type.len, dotted, sizeof dotted);
				an = ln = dotted;
			}
			fn(ctx, &type, an, ln, &value);
		}
	}
	return 0;
}

struct name_text_ctx {
	char *out, *cn;
	size_t cap, cn_cap, o;
};

static void name_text_attr(void *ctx, const struct tlv *type, const char *an, const char *ln, const struct tlv *value)
{
	struct name_text_ctx *c = ctx;
	(void)ln;
	if (c->o && c->o + 2 < c->cap) {
		memcpy(c->out + c->o, ", ", 3);
		c->o += 2;
	}
	if (c->o + strlen(an) + 2 < c->cap)
		c->o += (size_t)snprintf(c->out + c->o, c->cap - c->o, "%s=", an);
	append_value(c->out, c->cap, &c->o, value->p, value->len);
	if (c->cn && oid_is(type, OID_CN, 3)) {
		size_t co = 0;
		append_value(c->cn, c->cn_cap, &co, value->p, value->len);
	}
}

/* Name -> "A=v, B=w" in encoded order; cn (if non-NULL) gets the CN. */
static int name_text(const struct tlv *name, char *out, size_t cap, char *cn, size_t cn_cap, const char *what,
		     struct cr_err *e)
{
	struct name_text_ctx c = { out, cn, cap, cn_cap, 0 };
	out[0] = 0;
	if (cn)
		cn[0] = 0;
	return name_walk(name, name_text_attr, &c, what, e);
}

struct attrs_ctx {
	x509_attr_fn fn;
	void *ctx;
};

static void attrs_attr(void *ctx, const struct tlv *type, const char *an, const char *ln, const struct tlv *value)
{
	struct attrs_ctx *c = ctx;
	(void)type;
	(void)an;
	c->fn(c->ctx, ln, value->p, value->len);
}

int x509_name_attrs(const struct x509_span *name, x509_attr_fn fn, void *ctx, struct cr_err *e)
{
	struct der d = { name->p, name->len };
	struct tlv t;
	struct attrs_ctx c = { fn, ctx };
	if (der_expect(&d, TAG_SEQUENCE, &t, "name", e) || der_end(&d, "name", e))
		return -1;
	return name_walk(&t, attrs_attr, &c, "name", e);
}

static int parse_basic_constraints(struct x509_cert *c, const struct tlv *val, struct cr_err *e)
{
	struct der d = der_inside(val), in;
	struct tlv seq, t;
	const char *what = "basicConstraints";
	if (der_expect(&d, TAG_SEQUENCE, &seq, what, e) || der_end(&d, what, e))
		return -1;
	in = der_inside(&seq);
	c->has_basic_constraints = 1;
	if (der_peek(&in) == TAG_BOOLEAN) {
		if (der_read(&in, &t, what, e))
			return -1;
		if (t.len != 1 || (t.p[0] != 0 && t.p[0] != 0xff))
			return cr_fail(e, "%s: cA is not a DER BOOLEAN", what);
		c->is_ca = t.p[0] == 0xff;
	}
	if (der_peek(&in) == TAG_INTEGER) {
		if (der_read(&in, &t, what, e))
			return -1;
		if (t.len != 1 || t.p[0] & 0x80)
			return cr_fail(e, "%s: pathLenConstraint is not an integer in 0..127", what);
		c->path_len = t.p[0];
	}
	return der_end(&in, what, e);
}

static int parse_key_usage(struct x509_cert *c, const struct tlv *val, struct cr_err *e)
{
	struct der d = der_inside(val);
	struct tlv bits;
	const char *what = "keyUsage";
	if (der_expect(&d, TAG_BIT_STRING, &bits, what, e) || der_end(&d, what, e))
		return -1;
	if (bits.len < 1 || bits.p[0] > 7 || (bits.len == 1 && bits.p[0]))
		return cr_fail(e, "%s: malformed BIT STRING", what);
	c->has_key_usage = 1;
	c->key_usage = 0;
	for (size_t i = 1; i < bits.len && i <= 2; i++)
		for (unsigned b = 0; b < 8; b++)
			if (bits.p[i] & (0x80 >> b))
				c->key_usage |= 1u << ((i - 1) * 8 + b);
	return 0;
}

static int parse_extensions(struct x509_cert *c, const struct tlv *outer, struct cr_err *e)
{
	struct der d = der_inside(outer), list;
	struct tlv seq;
	struct x509_span seen[32];
	size_t n_seen = 0;
	const char *what = "extensions";
	if (der_expect(&d, TAG_SEQUENCE, &seq, what, e) || der_end(&d, what, e))
		return -1;
	list = der_inside(&seq);
	while (list.len) {
		struct tlv ext, oid, crit, val;
		struct der in;
		if (der_expect(&list, TAG_SEQUENCE, &ext, what, e))
			return -1;
		in = der_inside(&ext);
		if (der_expect(&in, TAG_OID, &oid, what, e))
			return -1;
		for (size_t i = 0; i < n_seen; i++)
			if (seen[i].len == oid.len && !memcmp(seen[i].p, oid.p, oid.len))
				return cr_fail(e, "%s: an extension appears twice", what);
		if (n_seen == sizeof seen / sizeof seen[0])
			return cr_fail(e, "%s: more than %zu", what, sizeof seen / sizeof seen[0]);
		seen[n_seen].p = oid.p;
		seen[n_seen++].len = oid.len;
		if (der_peek(&in) == TAG_BOOLEAN) {
			if (der_read(&in, &crit, what, e))
				return -1;
			if (crit.len != 1 || (crit.p[0] != 0 && crit.p[0] != 0xff))
				return cr_fail(e, "%s: critical is not a DER BOOLEAN", what);
		}
		if (der_expect(&in, TAG_OCTET_STRING, &val, what, e) || der_end(&in, what, e))
			return -1;
		if (oid_is(&oid, OID_BASIC_CONSTRAINTS, 3) && parse_basic_constraints(c, &val, e))
			return -1;
		if (oid_is(&oid, OID_KEY_USAGE, 3) && parse_key_usage(c, &val, e))
			return -1;
	}
	return 0;
}

static void sig_alg_name(const struct tlv *oid, char *out, size_t cap)
{
	for (size_t i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++)
		if (oid_is(oid, sig_algs[i].oid, sig_algs[i].n)) {
			snprintf(out, cap, "%s", sig_algs[i].name);
			return;
		}
	oid_text(oid->p, oid->len, out, cap);
}

void x509_bearssl_time(int64_t t, uint32_t *days, uint32_t *secs)
{
	int64_t d = t / 86400, s = t % 86400;
	if (s < 0) {
		s += 86400;
		d--;
	}
	*days = (uint32_t)(d + 719528);
	*secs = (uint32_t)s;
}

/* Unix seconds of a BearSSL date (the inverse of x509_bearssl_time()). */
static int64_t unix_time(uint32_t days, uint32_t secs)
{
	return ((int64_t)days - 719528) * 86400 + secs;
}

static const char *decoder_error(int err)
{
	switch (err) {
	case BR_ERR_X509_UNSUPPORTED: return "unsupported version, public key algorithm or curve";
	case BR_ERR_X509_LIMIT_EXCEEDED: return "public key too large";
	default: return "malformed DER";
	}
}

/* BearSSL's decoding of the same certificate: the public key, the validity
 * dates, and the cA flag (which must agree with the walk's). validity is the
 * content of the Validity SEQUENCE, quoted when BearSSL cannot read a date. */
static int bearssl_decode(struct x509_cert *c, const struct tlv *validity, struct cr_err *e)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	int err;
	char text[160];
	size_t o = 0;
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c->der.p, c->der.len);
	err = br_x509_decoder_last_error(&dc);
	pk = br_x509_decoder_get_pkey(&dc);
	if (err == BR_ERR_X509_BAD_TIME) {
		append_value(text, sizeof text, &o, validity->p, validity->len);
		return cr_fail(e, "validity: not two dates (UTCTime or GeneralizedTime, YYMMDDHHMMSSZ) in \"%s\"",
			       text);
	}
	if (err || !pk)
		return cr_fail(e, "%s (BearSSL decoder error %d)", decoder_error(err), err);
	if (!br_x509_decoder_isCA(&dc) != !(c->has_basic_constraints && c->is_ca))
		return cr_fail(e, "basicConstraints: BearSSL reads cA differently");
	/* The fields are documented as private, but BearSSL 0.6 (pinned) has
	 * no getter for the dates it decodes. */
	c->not_before = unix_time(dc.notbefore_days, dc.notbefore_seconds);
	c->not_after = unix_time(dc.notafter_days, dc.notafter_seconds);
	if (pk->key_type == BR_KEYTYPE_EC && ec_curve_supported(pk->key.ec.curve)) {
		if (ec_pub_set(&c->key, pk->key.ec.curve, pk->key.ec.q, pk->key.ec.qlen, e))
			return -1;
		c->key_is_ec = 1;
	}
	return 0;
}

int x509_cert_parse(const uint8_t *der, size_t len, struct x509_cert *c, struct cr_err *e)
{
	struct der d = { der, len }, cert, tbs;
	struct tlv t_cert, t_tbs, t_alg, t_sig, t, inner_alg, alg_oid, validity;
	memset(c, 0, sizeof *c);
	c->path_len = -1;
	if (len > X509_MAX_DER)
		return cr_fail(e, "certificate of %zu bytes (at most %d)", len, X509_MAX_DER);
	if (der_expect(&d, TAG_SEQUENCE, &t_cert, "certificate", e) || der_end(&d, "certificate", e))
		return -1;
	c->der.p = der;
	c->der.len = len;
	cert = der_inside(&t_cert);
	if (der_expect(&cert, TAG_SEQUENCE, &t_tbs, "tbsCertificate", e) ||
	    der_expect(&cert, TAG_SEQUENCE, &t_alg, "signatureAlgorithm", e) ||
	    der_expect(&cert, TAG_BIT_STRING, &t_sig, "signatureValue", e) || der_end(&cert, "certificate", e))
		return -1;
	{
		struct der a = der_inside(&t_alg);
		if (der_expect(&a, TAG_OID, &alg_oid, "signatureAlgorithm", e))
			return -1;
		sig_alg_name(&alg_oid, c->sig_alg, sizeof c->sig_alg);
	}

	tbs = der_inside(&t_tbs);
	if (der_peek(&tbs) == TAG_VERSION) {
		struct der v;
		if (der_read(&tbs, &t, "version", e))
			return -1;
		v = der_inside(&t);
		if (der_expect(&v, TAG_INTEGER, &t, "version", e) || der_end(&v, "version", e))
			return -1;
		if (t.len != 1 || t.p[0] > 2)
			return cr_fail(e, "version: not v1, v2 or v3");
	}
	if (der_expect(&tbs, TAG_INTEGER, &t, "serialNumber", e) ||
	    der_expect(&tbs, TAG_SEQUENCE, &inner_alg, "signature", e))
		return -1;
	if (inner_alg.all.len != t_alg.all.len || memcmp(inner_alg.all.p, t_alg.all.p, t_alg.all.len))
		return cr_fail(e, "signature: the TBS and outer signature algorithms differ");
	if (der_expect(&tbs, TAG_SEQUENCE, &t, "issuer", e) ||
	    name_text(&t, c->issuer_text, sizeof c->issuer_text, NULL, 0, "issuer", e))
		return -1;
	c->issuer = t.all;
	/* The dates come from BearSSL's decoder. */
	if (der_expect(&tbs, TAG_SEQUENCE, &validity, "validity", e))
		return -1;
	if (der_expect(&tbs, TAG_SEQUENCE, &t, "subject", e) ||
	    name_text(&t, c->subject_text, sizeof c->subject_text, c->subject_cn, sizeof c->subject_cn, "subject", e))
		return -1;
	c->subject = t.all;
	if (der_expect(&tbs, TAG_SEQUENCE, &t, "subjectPublicKeyInfo", e))
		return -1;
	if (der_peek(&tbs) == TAG_ISSUER_UID && der_read(&tbs, &t, "issuerUniqueID", e))
		return -1;
	if (der_peek(&tbs) == TAG_SUBJECT_UID && der_read(&tbs, &t, "subjectUniqueID", e))
		return -1;
	if (der_peek(&tbs) == TAG_EXTENSIONS) {
		if (der_read(&tbs, &t, "extensions", e) || parse_extensions(c, &t, e))
			return -1;
	}
	if (der_end(&tbs, "tbsCertificate", e))
		return -1;
	if (t_sig.len < 1 || t_sig.p[0] != 0)
		return cr_fail(e, "signatureValue: not a whole number of bytes");
	c->sig_value.p = t_sig.p + 1;
	c->sig_value.len = t_sig.len - 1;
	return bearssl_decode(c, &validity, e);
}

void x509_key_usage_text(unsigned ku, char *out, size_t cap)
{
	static const char *const names[] = { "digitalSignature", "nonRepudiation", "keyEncipherment",
					     "dataEncipherment", "keyAgreement",   "keyCertSign",
					     "cRLSign",          "encipherOnly",   "decipherOnly" };
	size_t o = 0;
	out[0] = 0;
	for (unsigned i = 0; i < sizeof names / sizeof names[0] && o < cap; i++)
		if (ku & (1u << i))
			o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? ", " : "", names[i]);
}
