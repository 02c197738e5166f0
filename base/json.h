/* JSON: one writer and one parser for the whole code base.
 *
 * Writer: appends to a cr_buf; errors are sticky (the first one is kept and
 * every later call is a no-op), so call sites stay flat and check once in
 * jw_finish(). Compact output by default; `pretty` gives serde_json-style
 * two-space indentation, which is what nitro-cli prints. Canonical JSON
 * (sorted keys, no whitespace) is compact output with keys emitted in order.
 *
 * Parser: strict RFC 8259 into a small tree. Bounded: input size, nesting
 * depth and node count; duplicate object keys, NUL characters in strings,
 * invalid UTF-8, lone surrogates, leading zeros and trailing bytes are
 * rejected with a message naming the offset. */
#ifndef CLEANROOM_JSON_H
#define CLEANROOM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define JSON_MAX_DEPTH 64

struct json_w {
	struct cr_buf *out;
	int pretty;
	int depth;
	int first[JSON_MAX_DEPTH + 1]; /* no element written yet at this depth */
	int after_key;
	int failed;
	struct cr_err err;
};

void jw_init(struct json_w *w, struct cr_buf *out, int pretty);
void jw_obj_begin(struct json_w *w);
void jw_obj_end(struct json_w *w);
void jw_arr_begin(struct json_w *w);
void jw_arr_end(struct json_w *w);
void jw_key(struct json_w *w, const char *key);
void jw_str(struct json_w *w, const char *s);
void jw_strn(struct json_w *w, const char *s, size_t n);
void jw_u64(struct json_w *w, uint64_t v);
void jw_i64(struct json_w *w, int64_t v);
void jw_bool(struct json_w *w, int v);
void jw_null(struct json_w *w);
void jw_hex(struct json_w *w, const uint8_t *data, size_t n); /* lowercase hex string */
/* Convenience: key + value. */
void jw_kstr(struct json_w *w, const char *key, const char *s);
void jw_ku64(struct json_w *w, const char *key, uint64_t v);
void jw_kbool(struct json_w *w, const char *key, int v);
void jw_khex(struct json_w *w, const char *key, const uint8_t *data, size_t n);
/* Check nesting is closed, NUL-terminate the buffer; -1 with e on error. */
int jw_finish(struct json_w *w, struct cr_err *e);
/* jw_finish, then the text and a newline on stdout (cr_tprintf), flushed;
 * -1 with e when the JSON is incomplete or stdout cannot be written. */
int jw_print(struct json_w *w, struct cr_err *e);

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_val {
	enum json_type type;
	/* STRING: decoded bytes (NUL-terminated, no NUL inside).
	 * NUMBER: the literal text as written. */
	const char *str;
	size_t len;
	/* NUMBER: is_int is set when the literal is an integer that fits int64. */
	int is_int;
	int64_t i;
	/* ARRAY / OBJECT: children; for OBJECT, keys[i] names kids[i]. */
	size_t n;
	struct json_val **kids;
	const char **keys;
};

struct json_limits {
	size_t max_input; /* bytes */
	int max_depth;    /* <= JSON_MAX_DEPTH */
	size_t max_nodes;
};

/* A parsed document owns all its memory. */
struct json_doc {
	struct json_val *root;
	void *arena;
};

int json_parse(const char *text, size_t len, const struct json_limits *lim, struct json_doc *doc, struct cr_err *e);
void json_free(struct json_doc *doc);

/* Member of an object by key, or NULL (also NULL when obj is not an object). */
const struct json_val *json_get(const struct json_val *obj, const char *key);
/* Keys as Go's encoding/json matches them to struct fields (Docker,
 * containerd, skopeo, umoci decode with it): ASCII case ignored, U+017F
 * (long s) read as 's' and U+212A (Kelvin) as 'k'; other bytes compared
 * as they are. A total order; 0 when Go would take one key for the other. */
int json_key_fold_cmp(const char *a, const char *b);
/* Member that must be a string; NULL if absent or of another type. */
const char *json_get_str(const struct json_val *obj, const char *key);
/* Serialize a parsed value into a writer (used to re-emit embedded JSON). */
void jw_value(struct json_w *w, const struct json_val *v);

#endif
