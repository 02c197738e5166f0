#include "base/cbor_read.h"

#include <cbor.h>
#include <stdlib.h>
#include <string.h>

/* Hard cap on nesting whatever the caller asks: the frame stack lives on the
 * C stack. */
#define CBR_DEPTH_CAP 64

/* What one cbor_stream_decode() call reported. */
enum ev_kind { EV_SCALAR, EV_ARRAY, EV_MAP, EV_INDEF_ARRAY, EV_INDEF_MAP, EV_TAG, EV_BREAK, EV_CHUNKED };

struct ev {
	enum ev_kind ev;
	struct cbr_item it;
};

static void scalar(void *c, enum cbr_kind k, uint64_t v)
{
	struct ev *e = c;
	e->ev = EV_SCALAR;
	e->it.kind = k;
	e->it.v = v;
}

static void on_u8(void *c, uint8_t v)
{
	scalar(c, CBR_UINT, v);
}
static void on_u16(void *c, uint16_t v)
{
	scalar(c, CBR_UINT, v);
}
static void on_u32(void *c, uint32_t v)
{
	scalar(c, CBR_UINT, v);
}
static void on_u64(void *c, uint64_t v)
{
	scalar(c, CBR_UINT, v);
}
static void on_n8(void *c, uint8_t v)
{
	scalar(c, CBR_NEGINT, v);
}
static void on_n16(void *c, uint16_t v)
{
	scalar(c, CBR_NEGINT, v);
}
static void on_n32(void *c, uint32_t v)
{
	scalar(c, CBR_NEGINT, v);
}
static void on_n64(void *c, uint64_t v)
{
	scalar(c, CBR_NEGINT, v);
}
static void on_null(void *c)
{
	scalar(c, CBR_NULL, 0);
}
static void on_undef(void *c)
{
	scalar(c, CBR_UNDEFINED, 0);
}
static void on_bool(void *c, bool v)
{
	scalar(c, CBR_BOOL, v);
}

static void string(void *c, enum cbr_kind k, cbor_data p, uint64_t len)
{
	struct ev *e = c;
	scalar(c, k, 0);
	e->it.p = p;
	e->it.len = (size_t)len;
}

static void on_bytes(void *c, cbor_data p, uint64_t len)
{
	string(c, CBR_BYTES, p, len);
}
static void on_text(void *c, cbor_data p, uint64_t len)
{
	string(c, CBR_TEXT, p, len);
}
static void on_chunked(void *c)
{
	((struct ev *)c)->ev = EV_CHUNKED;
}

static void flt(void *c, double f)
{
	struct ev *e = c;
	scalar(c, CBR_FLOAT, 0);
	e->it.f = f;
}

static void on_f2(void *c, float f)
{
	flt(c, f);
}
static void on_f8(void *c, double f)
{
	flt(c, f);
}

static void container(void *c, enum ev_kind ev, enum cbr_kind k, uint64_t n, int indef)
{
	struct ev *e = c;
	e->ev = ev;
	e->it.kind = k;
	e->it.v = n;
	e->it.indefinite = indef;
}

static void on_array(void *c, uint64_t n)
{
	container(c, EV_ARRAY, CBR_ARRAY, n, 0);
}
static void on_map(void *c, uint64_t n)
{
	container(c, EV_MAP, CBR_MAP, n, 0);
}
static void on_indef_array(void *c)
{
	container(c, EV_INDEF_ARRAY, CBR_ARRAY, 0, 1);
}
static void on_indef_map(void *c)
{
	container(c, EV_INDEF_MAP, CBR_MAP, 0, 1);
}
static void on_tag(void *c, uint64_t t)
{
	container(c, EV_TAG, CBR_TAG, t, 0);
}
static void on_break(void *c)
{
	((struct ev *)c)->ev = EV_BREAK;
}

static const struct cbor_callbacks callbacks = {
	.uint8 = on_u8,
	.uint16 = on_u16,
	.uint32 = on_u32,
	.uint64 = on_u64,
	.negint8 = on_n8,
	.negint16 = on_n16,
	.negint32 = on_n32,
	.negint64 = on_n64,
	.byte_string = on_bytes,
	.byte_string_start = on_chunked,
	.string = on_text,
	.string_start = on_chunked,
	.array_start = on_array,
	.indef_array_start = on_indef_array,
	.map_start = on_map,
	.indef_map_start = on_indef_map,
	.tag = on_tag,
	.float2 = on_f2,
	.float4 = on_f2,
	.float8 = on_f8,
	.undefined = on_undef,
	.null = on_null,
	.boolean = on_bool,
	.indef_break = on_break,
};

/* An open container (or tag) while parsing. */
struct frame {
	size_t idx;
	uint64_t remaining; /* definite: children still expected */
	uint64_t count;     /* indefinite: children seen */
	int indef;
};

const char *cbr_kind_name(enum cbr_kind k)
{
	static const char *const names[] = {
		[CBR_UINT] = "an unsigned integer",
		[CBR_NEGINT] = "a negative integer",
		[CBR_BYTES] = "a byte string",
		[CBR_TEXT] = "a text string",
		[CBR_ARRAY] = "an array",
		[CBR_MAP] = "a map",
		[CBR_TAG] = "a tag",
		[CBR_BOOL] = "a boolean",
		[CBR_NULL] = "null",
		[CBR_UNDEFINED] = "undefined",
		[CBR_FLOAT] = "a float",
	};
	return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static int push_item(struct cbr_doc *d, const struct cbr_item *it, size_t max, const char *what, struct cr_err *e)
{
	if (d->n == max)
		return cr_fail(e, "%s: more than %zu CBOR items", what, max);
	if (d->n == d->cap) {
		size_t want = d->cap ? d->cap * 2 : 32;
		struct cbr_item *p;
		if (want > max)
			want = max;
		p = realloc(d->items, want * sizeof *p);
		if (!p)
			return cr_fail(e, "%s: out of memory", what);
		d->items = p;
		d->cap = want;
	}
	d->items[d->n] = *it;
	d->items[d->n].end = d->n + 1;
	d->n++;
	return 0;
}

static int key_equal(const struct cbr_doc *d, size_t a, size_t b)
{
	const struct cbr_item *x = &d->items[a], *y = &d->items[b];
	if (x->kind != y->kind)
		return 0;
	switch (x->kind) {
	case CBR_UINT:
	case CBR_NEGINT:
	case CBR_BOOL: return x->v == y->v;
	case CBR_BYTES:
	case CBR_TEXT: return x->len == y->len && !memcmp(x->p, y->p, x->len);
	case CBR_NULL:
	case CBR_UNDEFINED: return 1;
	default: return x->raw_len == y->raw_len && !memcmp(d->base + x->off, d->base + y->off, x->raw_len);
	}
}

static int check_duplicates(const struct cbr_doc *d, const char *what, struct cr_err *e)
{
	for (size_t m = 0; m < d->n; m++) {
		if (d->items[m].kind != CBR_MAP)
			continue;
		CBR_MAP_FOREACH(d, m, k, v)
		{
			(void)v;
			for (size_t j = m + 1; j < k; j = d->items[d->items[j].end].end) {
				if (!key_equal(d, j, k))
					continue;
				if (d->items[k].kind == CBR_TEXT)
					return cr_fail(e, "%s: map at offset %zu has the key \"%.*s\" twice", what,
						       d->items[m].off,
						       (int)(d->items[k].len > 64 ? 64 : d->items[k].len),
						       (const char *)d->items[k].p);
				return cr_fail(e, "%s: map at offset %zu has a duplicate key at offset %zu", what,
					       d->items[m].off, d->items[k].off);
			}
		}
	}
	return 0;
}

/* A break (0xff) closes the innermost indefinite container. */
static int close_indefinite(struct cbr_doc *d, struct frame *stack, size_t *depth, size_t at, size_t off,
			    const char *what, struct cr_err *e)
{
	struct frame *f = *depth ? &stack[*depth - 1] : NULL;
	struct cbr_item *it;
	if (!f || !f->indef)
		return cr_fail(e, "%s: unexpected break (0xff) at offset %zu", what, at);
	it = &d->items[f->idx];
	if (it->kind == CBR_MAP && f->count % 2)
		return cr_fail(e, "%s: indefinite map at offset %zu ends after a key without a value", what, it->off);
	it->v = it->kind == CBR_MAP ? f->count / 2 : f->count;
	it->end = d->n;
	it->raw_len = off - it->off;
	(*depth)--;
	return 0;
}

/* The item just pushed starts a container or tag. *open is set when it
 * expects children (it is then on the stack). */
static int open_container(struct cbr_doc *d, struct frame *stack, size_t *depth, unsigned max_depth,
			  size_t remaining_bytes, const char *what, int *open, struct cr_err *e)
{
	struct cbr_item *it = &d->items[d->n - 1];
	struct frame f = { .idx = d->n - 1, .indef = it->indefinite };
	if (*depth == max_depth)
		return cr_fail(e, "%s: nesting deeper than %u at offset %zu", what, max_depth, it->off);
	if (it->kind == CBR_TAG)
		f.remaining = 1;
	else if (it->kind == CBR_MAP)
		f.remaining = it->v > UINT64_MAX / 2 ? UINT64_MAX : 2 * it->v;
	else
		f.remaining = it->v;
	/* Every element takes at least one byte: declared sizes cannot run
	 * past the input. */
	if (!f.indef && f.remaining > remaining_bytes)
		return cr_fail(e, "%s: %s at offset %zu declares %llu elements but only %zu bytes remain", what,
			       cbr_kind_name(it->kind), it->off, (unsigned long long)it->v, remaining_bytes);
	*open = f.indef || f.remaining;
	if (*open)
		stack[(*depth)++] = f;
	return 0;
}

/* An item is complete: count it in its parent and close every definite
 * container it completes. Returns 1 when the top-level item is complete. */
static int item_done(struct cbr_doc *d, struct frame *stack, size_t *depth, size_t off)
{
	while (*depth) {
		struct frame *f = &stack[*depth - 1];
		if (f->indef) {
			f->count++;
			return 0;
		}
		if (--f->remaining)
			return 0;
		d->items[f->idx].end = d->n;
		d->items[f->idx].raw_len = off - d->items[f->idx].off;
		(*depth)--;
	}
	return 1;
}

int cbr_parse(const uint8_t *buf, size_t len, const struct cbr_limits *lim, const char *what, struct cbr_doc *doc,
	      struct cr_err *e)
{
	struct frame stack[CBR_DEPTH_CAP];
	unsigned max_depth = lim->max_depth < CBR_DEPTH_CAP ? lim->max_depth : CBR_DEPTH_CAP;
	size_t depth = 0, off = 0;
	int done = 0;

	memset(doc, 0, sizeof *doc);
	doc->base = buf;
	doc->len = len;
	if (!len)
		return cr_fail(e, "%s: empty", what);
	while (!done) {
		struct ev ev;
		struct cbor_decoder_result r;
		size_t at = off;
		if (off == len) {
			cr_fail(e, "%s: truncated at offset %zu (%zu containers still open)", what, off, depth);
			goto fail;
		}
		memset(&ev, 0, sizeof ev);
		if (buf[off] >= 0xc6 && buf[off] <= 0xd4) {
			/* libcbor 0.10's decoder rejects these initial bytes as
			 * "unassigned tags", but RFC 8949 §3.4 makes them tags
			 * 6..20 in the one-byte form (the number is the low five
			 * bits), and COSE_Sign1 is tag 18 = 0xd2. */
			on_tag(&ev, buf[off] & 0x1f);
			r.status = CBOR_DECODER_FINISHED;
			r.read = 1;
			r.required = 0;
		} else {
			r = cbor_stream_decode(buf + off, len - off, &callbacks, &ev);
		}
		if (r.status == CBOR_DECODER_NEDATA) {
			cr_fail(e, "%s: truncated at offset %zu (the item needs %zu bytes, %zu remain)", what, off,
				r.required, len - off);
			goto fail;
		}
		if (r.status != CBOR_DECODER_FINISHED || !r.read) {
			cr_fail(e, "%s: malformed CBOR at offset %zu (initial byte 0x%02x)", what, off, buf[off]);
			goto fail;
		}
		off += r.read;
		if (ev.ev == EV_CHUNKED) {
			cr_fail(e, "%s: indefinite-length string at offset %zu is not supported", what, at);
			goto fail;
		}
		if (ev.ev == EV_BREAK) {
			if (close_indefinite(doc, stack, &depth, at, off, what, e))
				goto fail;
		} else {
			ev.it.off = at;
			ev.it.raw_len = r.read;
			if (push_item(doc, &ev.it, lim->max_items, what, e))
				goto fail;
			if (ev.ev != EV_SCALAR) {
				int open = 0;
				if (open_container(doc, stack, &depth, max_depth, len - off, what, &open, e))
					goto fail;
				if (open)
					continue;
			}
		}
		done = item_done(doc, stack, &depth, off);
	}
	if (off != len) {
		cr_fail(e, "%s: %zu trailing bytes after the CBOR item (offset %zu)", what, len - off, off);
		goto fail;
	}
	if (check_duplicates(doc, what, e))
		goto fail;
	return 0;
fail:
	cbr_free(doc);
	return -1;
}

void cbr_free(struct cbr_doc *doc)
{
	free(doc->items);
	doc->items = NULL;
	doc->n = doc->cap = 0;
}

int cbr_text_is(const struct cbr_doc *d, size_t i, const char *s)
{
	size_t n = strlen(s);
	return i < d->n && d->items[i].kind == CBR_TEXT && d->items[i].len == n && !memcmp(d->items[i].p, s, n);
}

int cbr_int(const struct cbr_doc *d, size_t i, int64_t *out)
{
	const struct cbr_item *it = &d->items[i];
	if (it->kind == CBR_UINT && it->v <= INT64_MAX) {
		*out = (int64_t)it->v;
		return 0;
	}
	if (it->kind == CBR_NEGINT && it->v <= INT64_MAX) {
		*out = -1 - (int64_t)it->v;
		return 0;
	}
	return -1;
}

size_t cbr_map_find(const struct cbr_doc *d, size_t m, const char *key)
{
	if (m >= d->n || d->items[m].kind != CBR_MAP)
		return CBR_NONE;
	CBR_MAP_FOREACH(d, m, k, v)
	if (cbr_text_is(d, k, key))
		return v;
	return CBR_NONE;
}

size_t cbr_map_find_int(const struct cbr_doc *d, size_t m, int64_t key)
{
	int64_t x;
	if (m >= d->n || d->items[m].kind != CBR_MAP)
		return CBR_NONE;
	CBR_MAP_FOREACH(d, m, k, v)
	if (!cbr_int(d, k, &x) && x == key)
		return v;
	return CBR_NONE;
}
