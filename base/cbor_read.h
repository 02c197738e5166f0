/* Bounded CBOR decoding: the one CBOR reader of the code base.
 *
 * cbr_parse() runs libcbor's streaming decoder (cbor_stream_decode) over a
 * buffer and records every data item in a flat array, in document order
 * (pre-order). Strings are not copied: an item's p/len point into the input
 * buffer, which must outlive the cbr_doc. The parse fails, with one line
 * naming the byte offset, on:
 *   - malformed or truncated input, and bytes after the single top-level item;
 *   - more items than lim->max_items, nesting deeper than lim->max_depth;
 *   - a definite array or map that declares more elements than bytes remain
 *     (so declared sizes never drive allocation);
 *   - indefinite-length (chunked) byte or text strings, which nothing we read
 *     uses;
 *   - a map with two equal keys (integers by value, strings by content,
 *     anything else by encoding).
 * Indefinite-length arrays and maps are accepted (the attestation payload
 * uses one). Non-minimal integer encodings are accepted (real attestation
 * documents encode the timestamp with 8 bytes).
 *
 * Navigation: the children of a container at index i start at i + 1; the
 * item after a subtree is items[i].end. A map's children alternate key,
 * value; walk them with CBR_MAP_FOREACH or look one up with cbr_map_find(). */
#ifndef CLEANROOM_CBOR_READ_H
#define CLEANROOM_CBOR_READ_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

enum cbr_kind {
	CBR_UINT,   /* v = value */
	CBR_NEGINT, /* value is -1 - v */
	CBR_BYTES,  /* p, len */
	CBR_TEXT,   /* p, len (not NUL-terminated, not checked for UTF-8) */
	CBR_ARRAY,  /* v = number of elements */
	CBR_MAP,    /* v = number of key/value pairs */
	CBR_TAG,    /* v = tag number; exactly one child */
	CBR_BOOL,   /* v = 0 or 1 */
	CBR_NULL,
	CBR_UNDEFINED,
	CBR_FLOAT, /* f */
};

struct cbr_item {
	enum cbr_kind kind;
	int indefinite; /* ARRAY/MAP written with indefinite length */
	uint64_t v;
	const uint8_t *p;
	size_t len;
	double f;
	size_t off;     /* offset of the item's first byte in the input */
	size_t raw_len; /* bytes of its whole encoding, children included */
	size_t end;     /* index one past this item's subtree */
};

struct cbr_doc {
	struct cbr_item *items;
	size_t n, cap;
	const uint8_t *base;
	size_t len;
};

struct cbr_limits {
	size_t max_items;
	unsigned max_depth; /* containers and tags nest at most this deep */
};

#define CBR_NONE ((size_t)-1)

/* Decode exactly one item filling all of buf[0..len). what names the input in
 * error messages ("NSM response", "payload"). On failure doc is empty. */
int cbr_parse(const uint8_t *buf, size_t len, const struct cbr_limits *lim, const char *what, struct cbr_doc *doc,
	      struct cr_err *e);
void cbr_free(struct cbr_doc *doc);

/* Index of the value stored under text key `key` in map m, or CBR_NONE. */
size_t cbr_map_find(const struct cbr_doc *d, size_t m, const char *key);
/* Index of the value stored under integer key `key` in map m, or CBR_NONE. */
size_t cbr_map_find_int(const struct cbr_doc *d, size_t m, int64_t key);
/* 1 when item i is a text string equal to s. */
int cbr_text_is(const struct cbr_doc *d, size_t i, const char *s);
/* Item i as a signed integer (UINT or NEGINT that fits int64_t). */
int cbr_int(const struct cbr_doc *d, size_t i, int64_t *out);
/* A short human name for an item's kind, with its article ("a byte string",
 * "an array", "null"). */
const char *cbr_kind_name(enum cbr_kind k);

/* Iterate over the pairs of map m: k is the key index, v the value index. */
static inline size_t cbr_value_of(const struct cbr_doc *d, size_t m, size_t k)
{
	return k < d->items[m].end ? d->items[k].end : k;
}
#define CBR_MAP_FOREACH(d, m, k, v)                                               \
 for (size_t k = (m) + 1, v = cbr_value_of(d, m, (m) + 1); k < (d)->items[m].end; \
      k = (d)->items[v].end, v = cbr_value_of(d, m, k))
/* Iterate over the elements of array a: i is the element index. */
#define CBR_ARRAY_FOREACH(d, a, i) for (size_t i = (a) + 1; i < (d)->items[a].end; i = (d)->items[i].end)

#endif
