/* CBOR encoding: the one CBOR writer of the code base (libcbor's
 * cbor_encode_* primitives, appended to a cr_buf).
 *
 * Like the JSON writer, errors are sticky: the first failure (the buffer's
 * limit) is kept, later calls do nothing, and cw_finish() reports it. The
 * caller writes the structure in order: cw_map(w, 2) then two keys and two
 * values. Integers use the shortest encoding (serde_cbor does the same), so
 * encoders built on this reproduce NSM byte for byte. */
#ifndef CLEANROOM_CBOR_WRITE_H
#define CLEANROOM_CBOR_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct cbor_w {
	struct cr_buf *out;
	int failed;
	struct cr_err err;
};

void cw_init(struct cbor_w *w, struct cr_buf *out);
void cw_uint(struct cbor_w *w, uint64_t v);
void cw_int(struct cbor_w *w, int64_t v); /* major type 0 or 1 */
void cw_bytes(struct cbor_w *w, const void *p, size_t n);
void cw_text(struct cbor_w *w, const char *s);
/* Only the head of a byte string of n bytes; the caller sends the n bytes
 * itself (the wire protocol streams file chunks without copying them). */
void cw_bytes_head(struct cbor_w *w, size_t n);
void cw_textn(struct cbor_w *w, const char *s, size_t n);
void cw_array(struct cbor_w *w, size_t n);
void cw_map(struct cbor_w *w, size_t n);
void cw_map_indef(struct cbor_w *w); /* close with cw_break() */
void cw_break(struct cbor_w *w);
void cw_tag(struct cbor_w *w, uint64_t tag);
void cw_bool(struct cbor_w *w, int v);
void cw_null(struct cbor_w *w);
/* Bytes copied verbatim (an item encoded elsewhere). */
void cw_raw(struct cbor_w *w, const void *p, size_t n);
/* 0, or -1 with the first error. */
int cw_finish(struct cbor_w *w, struct cr_err *e);

#endif
