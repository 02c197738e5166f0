/* The EIF signature section, written and checked (nitro-facts §1.6). */
#include "host-tool/eif/eif_sign.h"

#include <stdlib.h>
#include <string.h>

#include "base/digest.h"
#include "base/cbor_read.h"
#include "base/cbor_write.h"
#include "nsm/cose.h"
#include "base/ec_key.h"
#include "base/pem.h"
#include "nsm/x509_cert.h"

#define CERT_PEM_MAX 16384

struct signer_impl {
	struct ec_key key;
	uint8_t *cert_pem; /* the certificate file's bytes, stored as given */
	size_t cert_pem_len;
	uint8_t *cert_der;
	size_t cert_der_len;
};

/* serde_cbor writes Vec<u8> without serde_bytes as an array of small
 * integers, one per byte; QEMU and nitro-cli rely on that shape. */
static void cw_byte_array(struct cbor_w *w, const uint8_t *p, size_t n)
{
	cw_array(w, n);
	for (size_t i = 0; i < n; i++)
		cw_uint(w, p[i]);
}

/* PcrInfo {"register_index": 0, "register_value": [48 uints]}: the COSE payload. */
static int pcr_info(const uint8_t pcr0[CR_PCR_LEN], struct cr_buf *out, struct cr_err *e)
{
	struct cbor_w w;
	cw_init(&w, out);
	cw_map(&w, 2);
	cw_text(&w, "register_index");
	cw_uint(&w, 0);
	cw_text(&w, "register_value");
	cw_byte_array(&w, pcr0, CR_PCR_LEN);
	return cw_finish(&w, e);
}

/* The first CERTIFICATE of a PEM text as DER (malloc'd). */
static int cert_der_of_pem(const uint8_t *pem, size_t len, uint8_t **der, size_t *der_len, struct cr_err *e)
{
	struct pem_list l;
	const struct pem_object *c;
	if (pem_decode(pem, len, &l, e))
		return -1;
	c = pem_find(&l, "CERTIFICATE");
	if (!c) {
		pem_free(&l);
		return cr_fail(e, "no CERTIFICATE in the PEM");
	}
	*der = malloc(c->len);
	if (!*der) {
		pem_free(&l);
		return cr_fail(e, "out of memory");
	}
	memcpy(*der, c->der, c->len);
	*der_len = c->len;
	pem_free(&l);
	return 0;
}

void eif_signer_free(struct eif_signer *s)
{
	struct signer_impl *k = s->impl;
	if (!k)
		return;
	free(k->cert_pem);
	free(k->cert_der);
	memset(k, 0, sizeof *k); /* the private key */
	free(k);
	s->impl = NULL;
}

int eif_signer_load(struct eif_signer *s, const char *key_pem, const char *cert_pem, struct cr_err *e)
{
	struct signer_impl *k = calloc(1, sizeof *k);
	struct x509_cert cert;
	s->impl = k;
	if (!k)
		return cr_fail(e, "out of memory");
	if (ec_key_load(&k->key, key_pem, e))
		goto fail_key;
	if (cr_read_file(cert_pem, CERT_PEM_MAX, &k->cert_pem, &k->cert_pem_len, e))
		goto fail_cert;
	if (cert_der_of_pem(k->cert_pem, k->cert_pem_len, &k->cert_der, &k->cert_der_len, e) ||
	    x509_cert_parse(k->cert_der, k->cert_der_len, &cert, e)) {
		cr_err_wrap(e, "%s", cert_pem);
		goto fail_cert;
	}
	if (!cert.key_is_ec || cert.key.curve != k->key.pub.curve || cert.key.q_len != k->key.pub.q_len ||
	    memcmp(cert.key.q, k->key.pub.q, cert.key.q_len)) {
		cr_fail(e, "--sign-key %s does not match the public key of --sign-cert %s", key_pem, cert_pem);
		goto fail;
	}
	return 0;
fail_key:
	cr_err_wrap(e, "--sign-key");
	goto fail;
fail_cert:
	cr_err_wrap(e, "--sign-cert");
fail:
	eif_signer_free(s);
	return -1;
}

int eif_signer_sign(void *ctx, struct eif_pcrs *pcrs, struct cr_buf *section, struct cr_err *e)
{
	const struct signer_impl *k = ((struct eif_signer *)ctx)->impl;
	struct cr_buf payload, cose;
	struct cbor_w w;
	int rc = -1;
	cr_buf_init(&payload, 4096);
	cr_buf_init(&cose, 4096);
	if (pcr_info(pcrs->pcr0, &payload, e) || cose_sign1_sign(&k->key, payload.p, payload.len, 0, &cose, e))
		goto out;
	cw_init(&w, section);
	cw_array(&w, 1);
	cw_map(&w, 2);
	cw_text(&w, "signing_certificate");
	cw_byte_array(&w, k->cert_pem, k->cert_pem_len);
	cw_text(&w, "signature");
	cw_byte_array(&w, cose.p, cose.len);
	if (cw_finish(&w, e))
		goto out;
	pcr_of_bytes(k->cert_der, k->cert_der_len, pcrs->pcr8);
	pcrs->has_pcr8 = 1;
	rc = 0;
out:
	cr_buf_free(&payload);
	cr_buf_free(&cose);
	return rc;
}

/* A CBOR array of uints 0..255 back into bytes (malloc'd). */
static int byte_array(const struct cbr_doc *d, size_t i, const char *what, uint8_t **out, size_t *n, struct cr_err *e)
{
	size_t k = 0;
	if (d->items[i].kind != CBR_ARRAY)
		return cr_fail(e, "%s: not an array of bytes", what);
	*out = malloc(d->items[i].v ? d->items[i].v : 1);
	if (!*out)
		return cr_fail(e, "out of memory");
	CBR_ARRAY_FOREACH(d, i, j)
	{
		if (d->items[j].kind != CBR_UINT || d->items[j].v > 255) {
			free(*out);
			*out = NULL;
			return cr_fail(e, "%s: element %zu is not a byte", what, k);
		}
		(*out)[k++] = (uint8_t)d->items[j].v;
	}
	*n = k;
	return 0;
}

int eif_signature_check(const uint8_t *section, size_t len, const uint8_t pcr0[CR_PCR_LEN], struct eif_sig_check *out,
			struct cr_err *e)
{
	static const struct cbr_limits lim = { EIF_SIGNATURE_MAX + 16, 4 };
	struct cbr_doc d;
	struct cose_sign1 m;
	struct x509_cert cert;
	struct cr_buf want;
	struct cr_err why;
	uint8_t *pem = NULL, *sig = NULL, *der = NULL;
	size_t pem_len, sig_len, der_len, entry, ci, si;
	int rc = -1;

	memset(out, 0, sizeof *out);
	cr_buf_init(&want, 4096);
	if (cbr_parse(section, len, &lim, "signature section", &d, e))
		return -1;
	if (d.items[0].kind != CBR_ARRAY || d.items[0].v < 1) {
		cr_fail(e, "not a non-empty array of PCR signatures");
		goto out;
	}
	/* nitro-cli writes one entry, for PCR0: that is the one we check. */
	entry = 1;
	if (d.items[entry].kind != CBR_MAP) {
		cr_fail(e, "entry 0 is not a map");
		goto out;
	}
	ci = cbr_map_find(&d, entry, "signing_certificate");
	si = cbr_map_find(&d, entry, "signature");
	if (ci == CBR_NONE || si == CBR_NONE) {
		cr_fail(e, "entry 0 lacks %s", ci == CBR_NONE ? "signing_certificate" : "signature");
		goto out;
	}
	if (byte_array(&d, ci, "signing_certificate", &pem, &pem_len, e) ||
	    byte_array(&d, si, "signature", &sig, &sig_len, e))
		goto out;
	if (cert_der_of_pem(pem, pem_len, &der, &der_len, e) || x509_cert_parse(der, der_len, &cert, e)) {
		cr_err_wrap(e, "signing_certificate");
		goto out;
	}
	pcr_of_bytes(der, der_len, out->pcr8);
	memcpy(out->cert_der, der, der_len); /* x509_cert_parse bounds it by X509_MAX_DER */
	out->cert_der_len = der_len;
	snprintf(out->subject, sizeof out->subject, "%s", cert.subject_text);
	snprintf(out->issuer, sizeof out->issuer, "%s", cert.issuer_text);
	cr_time_format(cert.not_before, out->not_before);
	cr_time_format(cert.not_after, out->not_after);
	snprintf(out->algorithm, sizeof out->algorithm, "%s", cert.sig_alg);
	if (cose_sign1_parse(sig, sig_len, &m, e)) {
		cr_err_wrap(e, "signature");
		goto out;
	}
	/* As nitro-cli does: the payload must be PcrInfo of the PCR0 we computed,
	 * and the signature must verify with the certificate's key. */
	if (!cert.key_is_ec)
		snprintf(why.msg, sizeof why.msg, "the certificate's key is not a supported EC key");
	else if (pcr_info(pcr0, &want, e))
		goto out;
	out->sig_ok = cert.key_is_ec && m.payload_len == want.len && !memcmp(m.payload, want.p, want.len) &&
		      cose_sign1_verify(&m, &cert.key, &why) == 0;
	rc = 0;
out:
	cbr_free(&d);
	cr_buf_free(&want);
	free(pem);
	free(sig);
	free(der);
	return rc;
}

int eif_scan_signature(const struct eif_image *img, struct eif_scan *scan, struct eif_sig_check *out, struct cr_err *e)
{
	struct eif_sig_check own;
	if (img->signature < 0)
		return 0;
	if (!out)
		out = &own;
	if (eif_signature_check(img->signature_data, (size_t)img->sec[img->signature].size, scan->pcrs.pcr0, out, e))
		return cr_err_wrap(e, "signature");
	if (!out->sig_ok)
		return cr_fail(e, "signature: does not verify against PCR0 of this image");
	memcpy(scan->pcrs.pcr8, out->pcr8, CR_PCR_LEN);
	scan->pcrs.has_pcr8 = 1;
	return 0;
}
