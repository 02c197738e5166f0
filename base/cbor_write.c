#include "base/cbor_write.h"

#include <cbor.h>
#include <string.h>

void cw_init(struct cbor_w *w, struct cr_buf *out)
{
	memset(w, 0, sizeof *w);
	w->out = out;
}

void cw_raw(struct cbor_w *w, const void *p, size_t n)
{
	if (!w->failed && n && cr_buf_put(w->out, p, n, &w->err))
		w->failed = 1;
}

/* Append a head produced by a libcbor encoder (at most 9 bytes). */
static void head(struct cbor_w *w, const unsigned char *h, size_t n)
{
	if (!n) {
		if (!w->failed)
			cr_fail(&w->err, "CBOR: encoder failed");
		w->failed = 1;
		return;
	}
	cw_raw(w, h, n);
}

void cw_uint(struct cbor_w *w, uint64_t v)
{
	unsigned char h[9];
	head(w, h, cbor_encode_uint(v, h, sizeof h));
}

void cw_int(struct cbor_w *w, int64_t v)
{
	unsigned char h[9];
	if (v >= 0)
		head(w, h, cbor_encode_uint((uint64_t)v, h, sizeof h));
	else
		head(w, h, cbor_encode_negint((uint64_t)(-1 - v), h, sizeof h));
}

void cw_bytes(struct cbor_w *w, const void *p, size_t n)
{
	unsigned char h[9];
	head(w, h, cbor_encode_bytestring_start(n, h, sizeof h));
	cw_raw(w, p, n);
}

void cw_bytes_head(struct cbor_w *w, size_t n)
{
	unsigned char h[9];
	head(w, h, cbor_encode_bytestring_start(n, h, sizeof h));
}

void cw_textn(struct cbor_w *w, const char *s, size_t n)
{
	unsigned char h[9];
	head(w, h, cbor_encode_string_start(n, h, sizeof h));
	cw_raw(w, s, n);
}

void cw_text(struct cbor_w *w, const char *s)
{
	cw_textn(w, s, strlen(s));
}

void cw_array(struct cbor_w *w, size_t n)
{
	unsigned char h[9];
	head(w, h, cbor_encode_array_start(n, h, sizeof h));
}

void cw_map(struct cbor_w *w, size_t n)
{
	unsigned char h[9];
	head(w, h, cbor_encode_map_start(n, h, sizeof h));
}

void cw_map_indef(struct cbor_w *w)
{
	unsigned char h[1];
	head(w, h, cbor_encode_indef_map_start(h, sizeof h));
}

void cw_break(struct cbor_w *w)
{
	unsigned char h[1];
	head(w, h, cbor_encode_break(h, sizeof h));
}

void cw_tag(struct cbor_w *w, uint64_t tag)
{
	unsigned char h[9];
	head(w, h, cbor_encode_tag(tag, h, sizeof h));
}

void cw_bool(struct cbor_w *w, int v)
{
	unsigned char h[1];
	head(w, h, cbor_encode_bool(v != 0, h, sizeof h));
}

void cw_null(struct cbor_w *w)
{
	unsigned char h[1];
	head(w, h, cbor_encode_null(h, sizeof h));
}

int cw_finish(struct cbor_w *w, struct cr_err *e)
{
	if (w->failed) {
		if (e)
			*e = w->err;
		return -1;
	}
	return 0;
}
