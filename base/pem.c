#include "base/pem.h"

#include <bearssl.h>
#include <stdlib.h>
#include <string.h>

struct der_acc {
	struct cr_buf buf;
	int overflow;
};

static void der_append(void *ctx, const void *data, size_t len)
{
	struct der_acc *a = ctx;
	if (!a->overflow && cr_buf_put(&a->buf, data, len, NULL))
		a->overflow = 1;
}

void pem_free(struct pem_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->obj[i].der);
	l->n = 0;
}

int pem_decode(const uint8_t *text, size_t len, struct pem_list *out, struct cr_err *e)
{
	br_pem_decoder_context pc;
	struct der_acc acc;
	int inside = 0;
	memset(out, 0, sizeof *out);
	br_pem_decoder_init(&pc);
	cr_buf_init(&acc.buf, PEM_MAX_DER);
	acc.overflow = 0;
	/* A final newline lets BearSSL see the last END line. */
	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *p = pass ? (const uint8_t *)"\n" : text;
		size_t n = pass ? 1 : len;
		while (n) {
			size_t k = br_pem_decoder_push(&pc, p, n);
			p += k;
			n -= k;
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				if (out->n == PEM_MAX_OBJECTS) {
					cr_fail(e, "PEM: more than %d objects", PEM_MAX_OBJECTS);
					goto fail;
				}
				snprintf(out->obj[out->n].name, sizeof out->obj[out->n].name, "%s",
					 br_pem_decoder_name(&pc));
				cr_buf_init(&acc.buf, PEM_MAX_DER);
				acc.overflow = 0;
				br_pem_decoder_setdest(&pc, der_append, &acc);
				inside = 1;
				break;
			case BR_PEM_END_OBJ:
				if (acc.overflow) {
					cr_fail(e, "PEM: object %zu (%s) larger than %u bytes", out->n + 1,
						out->obj[out->n].name, PEM_MAX_DER);
					goto fail;
				}
				out->obj[out->n].der = acc.buf.p;
				out->obj[out->n].len = acc.buf.len;
				cr_buf_init(&acc.buf, PEM_MAX_DER);
				out->n++;
				inside = 0;
				break;
			case BR_PEM_ERROR: cr_fail(e, "PEM: malformed input (object %zu)", out->n + 1); goto fail;
			default: break;
			}
		}
	}
	if (inside) {
		cr_fail(e, "PEM: object %zu (%s) has no END line", out->n + 1, out->obj[out->n].name);
		goto fail;
	}
	if (!out->n)
		return cr_fail(e, "PEM: no object found (expected -----BEGIN ...-----)");
	return 0;
fail:
	cr_buf_free(&acc.buf);
	pem_free(out);
	return -1;
}

int pem_read_file(const char *path, struct pem_list *out, struct cr_err *e)
{
	uint8_t *text;
	size_t len;
	int rc;
	if (cr_read_file(path, PEM_FILE_MAX, &text, &len, e))
		return -1;
	rc = pem_decode(text, len, out, e);
	free(text);
	if (rc)
		return cr_err_wrap(e, "%s", path);
	return 0;
}

const struct pem_object *pem_find(const struct pem_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->obj[i].name, name))
			return &l->obj[i];
	return NULL;
}

int pem_read_cert(const char *path, struct pem_list *out, const struct pem_object **cert, struct cr_err *e)
{
	if (pem_read_file(path, out, e))
		return -1;
	if (!(*cert = pem_find(out, "CERTIFICATE"))) {
		pem_free(out);
		return cr_fail(e, "%s: no CERTIFICATE in the PEM", path);
	}
	return 0;
}

size_t pem_encode(const char *name, const uint8_t *der, size_t len, char *buf, size_t cap)
{
	/* br_pem_encode with a NULL destination gives the size it needs */
	size_t need = br_pem_encode(NULL, der, len, name, BR_PEM_LINE64);
	if (need + 1 > cap)
		return 0;
	return br_pem_encode(buf, der, len, name, BR_PEM_LINE64);
}
