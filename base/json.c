#include "base/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/term.h"

/* ------------------------------------------------------------ writer */

void jw_init(struct json_w *w, struct cr_buf *out, int pretty)
{
	memset(w, 0, sizeof *w);
	w->out = out;
	w->pretty = pretty;
	w->first[0] = 1;
}

static void put(struct json_w *w, const char *s, size_t n)
{
	if (!w->failed && cr_buf_put(w->out, s, n, &w->err))
		w->failed = 1;
}

static void puts_(struct json_w *w, const char *s)
{
	put(w, s, strlen(s));
}

static void newline_indent(struct json_w *w)
{
	if (!w->pretty)
		return;
	put(w, "\n", 1);
	for (int i = 0; i < w->depth; i++)
		put(w, "  ", 2);
}

/* Separator before a value or key at the current depth. */
static void before_item(struct json_w *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (!w->first[w->depth])
			put(w, ",", 1);
		newline_indent(w);
	}
	w->first[w->depth] = 0;
}

static void open_(struct json_w *w, char c)
{
	before_item(w);
	put(w, &c, 1);
	if (w->depth >= JSON_MAX_DEPTH) {
		if (!w->failed)
			cr_fail(&w->err, "JSON nesting deeper than %d", JSON_MAX_DEPTH);
		w->failed = 1;
		return;
	}
	w->depth++;
	w->first[w->depth] = 1;
}

static void close_(struct json_w *w, char c)
{
	int empty;
	if (w->depth == 0) {
		if (!w->failed)
			cr_fail(&w->err, "JSON writer: unbalanced '%c'", c);
		w->failed = 1;
		return;
	}
	empty = w->first[w->depth];
	w->depth--;
	if (!empty)
		newline_indent(w);
	put(w, &c, 1);
}

void jw_obj_begin(struct json_w *w)
{
	open_(w, '{');
}
void jw_obj_end(struct json_w *w)
{
	close_(w, '}');
}
void jw_arr_begin(struct json_w *w)
{
	open_(w, '[');
}
void jw_arr_end(struct json_w *w)
{
	close_(w, ']');
}

static void string_body(struct json_w *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0, skip = 0;
	put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7];
		const char *rep = NULL;
		if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c == '\b')
			rep = "\\b";
		else if (c == '\f')
			rep = "\\f";
		else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = 0;
			rep = esc;
		} else if (c >= 0x80) {
			/* Output is valid UTF-8 with no raw control character: C1
			 * code points and bidi controls are escaped as the terminal
			 * sanitiser escapes them (term.h), a byte that is not UTF-8
			 * becomes U+FFFD (JSON text cannot carry it). */
			size_t len = cr_utf8_seq(s + i, n - i);
			uint32_t cp = len ? cr_utf8_escaped(s + i, len) : 0;
			if (cp) {
				esc[0] = '\\';
				esc[1] = 'u';
				for (int k = 0; k < 4; k++)
					esc[2 + k] = hex[cp >> (12 - 4 * k) & 15];
				esc[6] = 0;
				rep = esc;
				skip = len - 1;
			} else if (!len) {
				rep = "\\ufffd";
			} else {
				run += len;
				i += len - 1;
				continue;
			}
		}
		if (rep) {
			put(w, s + i - run, run);
			run = 0;
			puts_(w, rep);
			i += skip;
			skip = 0;
		} else {
			run++;
		}
	}
	put(w, s + n - run, run);
	put(w, "\"", 1);
}

void jw_key(struct json_w *w, const char *key)
{
	before_item(w);
	string_body(w, key, strlen(key));
	put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
	w->after_key = 1;
}

void jw_strn(struct json_w *w, const char *s, size_t n)
{
	before_item(w);
	string_body(w, s, n);
}

void jw_str(struct json_w *w, const char *s)
{
	jw_strn(w, s, strlen(s));
}

void jw_u64(struct json_w *w, uint64_t v)
{
	char b[24];
	before_item(w);
	snprintf(b, sizeof b, "%" PRIu64, v);
	puts_(w, b);
}

void jw_i64(struct json_w *w, int64_t v)
{
	char b[24];
	before_item(w);
	snprintf(b, sizeof b, "%" PRId64, v);
	puts_(w, b);
}

void jw_bool(struct json_w *w, int v)
{
	before_item(w);
	puts_(w, v ? "true" : "false");
}

void jw_null(struct json_w *w)
{
	before_item(w);
	puts_(w, "null");
}

void jw_hex(struct json_w *w, const uint8_t *data, size_t n)
{
	char buf[2 * 64 + 1];
	before_item(w);
	put(w, "\"", 1);
	while (n) {
		size_t k = n > 64 ? 64 : n;
		cr_hex(data, k, buf);
		put(w, buf, 2 * k);
		data += k;
		n -= k;
	}
	put(w, "\"", 1);
}

void jw_kstr(struct json_w *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}
void jw_ku64(struct json_w *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}
void jw_kbool(struct json_w *w, const char *key, int v)
{
	jw_key(w, key);
	jw_bool(w, v);
}
void jw_khex(struct json_w *w, const char *key, const uint8_t *d, size_t n)
{
	jw_key(w, key);
	jw_hex(w, d, n);
}

int jw_finish(struct json_w *w, struct cr_err *e)
{
	if (!w->failed && w->depth != 0) {
		cr_fail(&w->err, "JSON writer: %d unclosed containers", w->depth);
		w->failed = 1;
	}
	if (!w->failed && cr_buf_cstr(w->out, &w->err))
		w->failed = 1;
	if (w->failed) {
		if (e)
			*e = w->err;
		return -1;
	}
	return 0;
}

int jw_print(struct json_w *w, struct cr_err *e)
{
	if (jw_finish(w, e))
		return -1;
	if (cr_tprintf(stdout, "%s\n", (const char *)w->out->p) < 0 || fflush(stdout))
		return cr_failp(e, "stdout");
	return 0;
}

void jw_value(struct json_w *w, const struct json_val *v)
{
	switch (v->type) {
	case JSON_NULL: jw_null(w); break;
	case JSON_FALSE: jw_bool(w, 0); break;
	case JSON_TRUE: jw_bool(w, 1); break;
	case JSON_NUMBER:
		before_item(w);
		put(w, v->str, v->len);
		break;
	case JSON_STRING: jw_strn(w, v->str, v->len); break;
	case JSON_ARRAY:
		jw_arr_begin(w);
		for (size_t i = 0; i < v->n; i++)
			jw_value(w, v->kids[i]);
		jw_arr_end(w);
		break;
	case JSON_OBJECT:
		jw_obj_begin(w);
		for (size_t i = 0; i < v->n; i++) {
			jw_key(w, v->keys[i]);
			jw_value(w, v->kids[i]);
		}
		jw_obj_end(w);
		break;
	}
}

/* ------------------------------------------------------------ parser */

/* Arena: a chain of blocks freed together. */
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

struct parser {
	const char *s;
	size_t len, pos;
	size_t nodes;
	const struct json_limits *lim;
	struct arena_block *arena;
	struct cr_err *e;
};

static void *arena_alloc(struct parser *p, size_t n)
{
	struct arena_block *b = p->arena;
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!b || b->size - b->used < n) {
		size_t size = n > 65536 ? n : 65536;
		b = malloc(sizeof *b + size);
		if (!b) {
			cr_fail(p->e, "JSON: out of memory");
			return NULL;
		}
		b->next = p->arena;
		b->used = 0;
		b->size = size;
		p->arena = b;
	}
	b->used += n;
	return (char *)b->data + b->used - n;
}

static int perr(struct parser *p, const char *what)
{
	return cr_fail(p->e, "JSON: %s at byte %zu", what, p->pos);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return perr(p, "invalid literal");
	p->pos += n;
	return 0;
}

static int hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;
	if (p->len - p->pos < 4)
		return perr(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return perr(p, "invalid \\u escape");
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t len;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

static int parse_string(struct parser *p, const char **out, size_t *outlen)
{
	size_t start = ++p->pos, n = 0;
	char *buf;
	/* Decoded text is never longer than the source. */
	size_t end = start;
	while (end < p->len && p->s[end] != '"') {
		if (p->s[end] == '\\')
			end++;
		end++;
	}
	if (end >= p->len)
		return perr(p, "unterminated string");
	buf = arena_alloc(p, end - start + 1);
	if (!buf)
		return -1;
	while (p->s[p->pos] != '"') {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c < 0x20)
			return perr(p, "control character in string");
		if (c == '\\') {
			char esc;
			p->pos++;
			esc = p->s[p->pos++];
			switch (esc) {
			case '"': buf[n++] = '"'; break;
			case '\\': buf[n++] = '\\'; break;
			case '/': buf[n++] = '/'; break;
			case 'b': buf[n++] = '\b'; break;
			case 'f': buf[n++] = '\f'; break;
			case 'n': buf[n++] = '\n'; break;
			case 'r': buf[n++] = '\r'; break;
			case 't': buf[n++] = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (hex4(p, &cp))
					return -1;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return perr(p, "lone low surrogate");
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
						return perr(p, "lone high surrogate");
					p->pos += 2;
					if (hex4(p, &lo))
						return -1;
					if (lo < 0xDC00 || lo > 0xDFFF)
						return perr(p, "invalid surrogate pair");
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				if (cp == 0)
					return perr(p, "NUL character in string");
				n += put_utf8(buf + n, cp);
				break;
			}
			default: p->pos--; return perr(p, "invalid escape");
			}
		} else {
			size_t k = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
			if (!k)
				return perr(p, "invalid UTF-8");
			memcpy(buf + n, p->s + p->pos, k);
			n += k;
			p->pos += k;
		}
	}
	p->pos++;
	buf[n] = 0;
	*out = buf;
	*outlen = n;
	return 0;
}

static int parse_number(struct parser *p, struct json_val *v)
{
	size_t start = p->pos;
	int is_int = 1;
	char *text;
	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return perr(p, "truncated number");
	if (p->s[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			return perr(p, "leading zero in number");
	} else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	} else {
		return perr(p, "invalid number");
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		is_int = 0;
		p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return perr(p, "invalid fraction");
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		is_int = 0;
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return perr(p, "invalid exponent");
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	v->type = JSON_NUMBER;
	v->len = p->pos - start;
	text = arena_alloc(p, v->len + 1);
	if (!text)
		return -1;
	memcpy(text, p->s + start, v->len);
	text[v->len] = 0;
	v->str = text;
	if (is_int) {
		char *end;
		errno = 0;
		long long x = strtoll(text, &end, 10);
		if (errno == 0 && *end == 0) {
			v->is_int = 1;
			v->i = x;
		}
	}
	return 0;
}

struct kid_list {
	struct json_val *val;
	const char *key;
	size_t key_end; /* the byte after the key: where a duplicate is reported */
	struct kid_list *next;
};

static int key_cmp(const void *a, const void *b)
{
	const struct kid_list *x = *(struct kid_list *const *)a, *y = *(struct kid_list *const *)b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->key_end > y->key_end) - (x->key_end < y->key_end);
}

/* Two equal keys in one object are refused, the later one named. Sorted,
 * not compared pairwise: 200,000 keys would otherwise cost 2e10 compares. */
static int check_unique_keys(struct parser *p, struct kid_list *head, size_t n)
{
	struct kid_list **v, *dup = NULL;
	size_t i = 0;
	if (n < 2)
		return 0;
	if (!(v = malloc(n * sizeof *v)))
		return cr_fail(p->e, "JSON: out of memory");
	for (struct kid_list *k = head; k; k = k->next)
		v[i++] = k;
	qsort(v, n, sizeof *v, key_cmp);
	for (i = 1; i < n; i++)
		if (!strcmp(v[i - 1]->key, v[i]->key) && (!dup || v[i]->key_end < dup->key_end))
			dup = v[i]; /* the second of a pair: the first duplicate in the text */
	free(v);
	if (dup)
		return cr_fail(p->e, "JSON: duplicate key \"%s\" at byte %zu", dup->key, dup->key_end);
	return 0;
}

static int parse_value(struct parser *p, int depth, struct json_val **out);

static int parse_container(struct parser *p, int depth, struct json_val *v, int is_obj)
{
	struct kid_list *head = NULL, **tail = &head;
	size_t n = 0;
	char close = is_obj ? '}' : ']';
	if (depth >= p->lim->max_depth)
		return perr(p, "nesting too deep");
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
	} else {
		for (;;) {
			struct kid_list *k = arena_alloc(p, sizeof *k);
			if (!k)
				return -1;
			k->key = NULL;
			k->next = NULL;
			skip_ws(p);
			if (is_obj) {
				size_t klen;
				if (p->pos >= p->len || p->s[p->pos] != '"')
					return perr(p, "expected a string key");
				if (parse_string(p, &k->key, &klen))
					return -1;
				k->key_end = p->pos;
				skip_ws(p);
				if (p->pos >= p->len || p->s[p->pos] != ':')
					return perr(p, "expected ':'");
				p->pos++;
			}
			if (parse_value(p, depth + 1, &k->val))
				return -1;
			*tail = k;
			tail = &k->next;
			n++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == close) {
				p->pos++;
				break;
			}
			return perr(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	if (is_obj && check_unique_keys(p, head, n))
		return -1;
	v->type = is_obj ? JSON_OBJECT : JSON_ARRAY;
	v->n = n;
	v->kids = arena_alloc(p, (n ? n : 1) * sizeof *v->kids);
	v->keys = is_obj ? arena_alloc(p, (n ? n : 1) * sizeof *v->keys) : NULL;
	if (!v->kids || (is_obj && !v->keys))
		return -1;
	n = 0;
	for (struct kid_list *k = head; k; k = k->next, n++) {
		v->kids[n] = k->val;
		if (is_obj)
			v->keys[n] = k->key;
	}
	return 0;
}

static int parse_value(struct parser *p, int depth, struct json_val **out)
{
	struct json_val *v;
	if (++p->nodes > p->lim->max_nodes)
		return perr(p, "too many values");
	v = arena_alloc(p, sizeof *v);
	if (!v)
		return -1;
	memset(v, 0, sizeof *v);
	*out = v;
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, "unexpected end of input");
	switch (p->s[p->pos]) {
	case '{': return parse_container(p, depth, v, 1);
	case '[': return parse_container(p, depth, v, 0);
	case '"': v->type = JSON_STRING; return parse_string(p, &v->str, &v->len);
	case 't': v->type = JSON_TRUE; return literal(p, "true");
	case 'f': v->type = JSON_FALSE; return literal(p, "false");
	case 'n': v->type = JSON_NULL; return literal(p, "null");
	default: return parse_number(p, v);
	}
}

static void arena_free(struct arena_block *b)
{
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

int json_parse(const char *text, size_t len, const struct json_limits *lim, struct json_doc *doc, struct cr_err *e)
{
	static const struct json_limits defaults = { 1u << 20, 32, 100000 };
	struct parser p = { text, len, 0, 0, lim ? lim : &defaults, NULL, e };
	doc->root = NULL;
	doc->arena = NULL;
	if (p.lim->max_depth > JSON_MAX_DEPTH)
		return cr_fail(e, "JSON: depth limit above %d", JSON_MAX_DEPTH);
	if (len > p.lim->max_input)
		return cr_fail(e, "JSON: %zu bytes exceeds the limit of %zu", len, p.lim->max_input);
	if (parse_value(&p, 0, &doc->root))
		goto fail;
	skip_ws(&p);
	if (p.pos != len) {
		perr(&p, "trailing data");
		goto fail;
	}
	doc->arena = p.arena;
	return 0;
fail:
	arena_free(p.arena);
	doc->root = NULL;
	return -1;
}

void json_free(struct json_doc *doc)
{
	arena_free(doc->arena);
	doc->arena = NULL;
	doc->root = NULL;
}

const struct json_val *json_get(const struct json_val *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->kids[i];
	return NULL;
}

/* The next unit of a folded key: an ASCII letter lowercased, the UTF-8 of
 * U+017F as 's' and of U+212A as 'k' (the two non-ASCII runes that fold to
 * ASCII), any other byte as it is; -1 at the end. */
static int fold_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	if (!s[0])
		return -1;
	if (s[0] == 0xc5 && s[1] == 0xbf) {
		*p += 2;
		return 's';
	}
	if (s[0] == 0xe2 && s[1] == 0x84 && s[2] == 0xaa) {
		*p += 3;
		return 'k';
	}
	*p += 1;
	return s[0] >= 'A' && s[0] <= 'Z' ? s[0] + 32 : s[0];
}

int json_key_fold_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
	for (;;) {
		int x = fold_next(&p), y = fold_next(&q);
		if (x != y)
			return x < y ? -1 : 1;
		if (x < 0)
			return 0;
	}
}

const char *json_get_str(const struct json_val *obj, const char *key)
{
	const struct json_val *v = json_get(obj, key);
	return v && v->type == JSON_STRING ? v->str : NULL;
}
