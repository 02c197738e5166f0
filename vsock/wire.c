#include "vsock/wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/cbor_read.h"
#include "base/cbor_write.h"
#include "base/term.h"

static const char *const type_names[] = {
	[WIRE_REQUEST] = "request",   [WIRE_ENTRY] = "entry",       [WIRE_DATA] = "data",
	[WIRE_END] = "end",           [WIRE_ACCEPTED] = "accepted", [WIRE_LOG] = "log",
	[WIRE_ARTIFACT] = "artifact", [WIRE_RESULT] = "result",     [WIRE_ERROR] = "error",
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

const char *wire_type_name(enum wire_type t)
{
	return (size_t)t < NTYPES ? type_names[t] : "?";
}

const char *wire_stream_name(enum wire_stream s)
{
	return s == WIRE_SRC ? "src" : "deps";
}

static const char *const status_names[] = {
	[WIRE_ST_OK] = "ok",
	[WIRE_ST_FAILED] = "failed",
	[WIRE_ST_TIMEOUT] = "timeout",
	[WIRE_ST_LIMIT] = "limit",
	[WIRE_ST_MISSING_OUTPUT] = "missing-output",
	[WIRE_ST_BAD_OUTPUT] = "bad-output",
};
#define NSTATUS (sizeof status_names / sizeof status_names[0])

static const char *const err_code_names[] = {
	[WIRE_ERR_PROTOCOL] = "protocol", [WIRE_ERR_REFUSED] = "refused",   [WIRE_ERR_LIMIT] = "limit",
	[WIRE_ERR_BUSY] = "busy",         [WIRE_ERR_INTERNAL] = "internal",
};
#define NERRCODES (sizeof err_code_names / sizeof err_code_names[0])

const char *wire_status_name(enum wire_status s)
{
	return (size_t)s < NSTATUS ? status_names[s] : "?";
}

const char *wire_err_code_name(enum wire_err_code c)
{
	return (size_t)c < NERRCODES ? err_code_names[c] : "?";
}

static const char *entry_type_name(enum wire_entry_type t)
{
	return t == WIRE_FILE ? "file" : t == WIRE_DIR ? "dir" : "symlink";
}

int wire_check_path(const char *path, const char *what, struct cr_err *e)
{
	size_t n = strlen(path);
	const char *c = path;
	if (n == 0)
		return cr_fail(e, "%s: empty path", what);
	if (n > WIRE_MAX_PATH)
		return cr_fail(e, "%s: path of %zu bytes exceeds the limit of %d", what, n, WIRE_MAX_PATH);
	if (path[0] == '/')
		return cr_fail(e, "%s '%s': absolute paths are refused", what, path);
	while (*c) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0)
			return cr_fail(e, "%s '%s': empty path component", what, path);
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return cr_fail(e, "%s '%s': '.' and '..' components are refused", what, path);
		if (len == 4 && !memcmp(c, ".git", 4))
			return cr_fail(
				e,
				"%s '%s': '.git' components are refused (send a checkout's files, not its repository)",
				what, path);
		if (!slash)
			break;
		c = slash + 1;
		if (!*c)
			return cr_fail(e, "%s '%s': trailing '/'", what, path);
	}
	return 0;
}

/* ---------------------------------------------------------------- encode */

static void head(struct cbor_w *w, size_t fields, enum wire_type t)
{
	cw_map(w, fields + 2);
	cw_text(w, "v");
	cw_uint(w, WIRE_VERSION);
	cw_text(w, "t");
	cw_text(w, wire_type_name(t));
}

static void kv_uint(struct cbor_w *w, const char *k, uint64_t v)
{
	cw_text(w, k);
	cw_uint(w, v);
}

static void kv_text(struct cbor_w *w, const char *k, const char *v)
{
	cw_text(w, k);
	cw_text(w, v);
}

int wire_encode(const struct wire_msg *m, struct cr_buf *out, struct cr_err *e)
{
	struct cbor_w w;
	cw_init(&w, out);
	switch (m->type) {
	case WIRE_REQUEST: {
		const struct wire_request *r = &m->u.request;
		head(&w, 5, m->type);
		cw_text(&w, "argv");
		cw_array(&w, r->argc);
		for (size_t i = 0; i < r->argc; i++)
			cw_text(&w, r->argv[i]);
		cw_text(&w, "outputs");
		cw_array(&w, r->noutputs);
		for (size_t i = 0; i < r->noutputs; i++)
			cw_text(&w, r->outputs[i]);
		kv_uint(&w, "sde", r->sde);
		cw_text(&w, "nonce");
		cw_bytes(&w, r->nonce, r->nonce_len);
		cw_text(&w, "limits");
		cw_map(&w, r->limits.log_bytes ? 7 : 6);
		kv_uint(&w, "timeout_s", r->limits.timeout_s);
		kv_uint(&w, "memory_mb", r->limits.memory_mb);
		kv_uint(&w, "pids", r->limits.pids);
		kv_uint(&w, "source_mb", r->limits.source_mb);
		kv_uint(&w, "files", r->limits.files);
		kv_uint(&w, "output_mb", r->limits.output_mb);
		if (r->limits.log_bytes) /* absent = the agent's maximum (older agents know no other) */
			kv_uint(&w, "log_bytes", r->limits.log_bytes);
		break;
	}
	case WIRE_ENTRY: {
		const struct wire_entry *x = &m->u.entry;
		head(&w, x->type == WIRE_SYMLINK ? 6 : 5, m->type);
		kv_text(&w, "stream", wire_stream_name(x->stream));
		kv_text(&w, "path", x->path);
		kv_text(&w, "type", entry_type_name(x->type));
		kv_uint(&w, "size", x->size);
		cw_text(&w, "exec");
		cw_bool(&w, x->exec);
		if (x->type == WIRE_SYMLINK)
			kv_text(&w, "target", x->target);
		break;
	}
	case WIRE_DATA:
	case WIRE_LOG:
		head(&w, 1, m->type);
		cw_text(&w, "d");
		cw_bytes(&w, m->u.data.p, m->u.data.n);
		break;
	case WIRE_END:
		head(&w, 3, m->type);
		kv_text(&w, "stream", wire_stream_name(m->u.end.stream));
		kv_uint(&w, "files", m->u.end.files);
		kv_uint(&w, "bytes", m->u.end.bytes);
		break;
	case WIRE_ACCEPTED: {
		const struct wire_accepted *a = &m->u.accepted;
		head(&w, 5, m->type);
		kv_text(&w, "stream", wire_stream_name(a->stream));
		kv_uint(&w, "files", a->files);
		kv_uint(&w, "bytes", a->bytes);
		cw_text(&w, "tree_sha1");
		cw_bytes(&w, a->tree_sha1, sizeof a->tree_sha1);
		cw_text(&w, "tree_sha256");
		cw_bytes(&w, a->tree_sha256, sizeof a->tree_sha256);
		break;
	}
	case WIRE_ARTIFACT:
		head(&w, 3, m->type);
		kv_text(&w, "path", m->u.artifact.path);
		kv_uint(&w, "size", m->u.artifact.size);
		cw_text(&w, "exec");
		cw_bool(&w, m->u.artifact.exec);
		break;
	case WIRE_RESULT: {
		const struct wire_result *r = &m->u.result;
		head(&w, r->log_dropped ? 7 : 6, m->type);
		kv_text(&w, "status", wire_status_name(r->status));
		cw_text(&w, "exit_code");
		r->has_exit_code ? cw_uint(&w, r->exit_code) : cw_null(&w);
		cw_text(&w, "signal");
		r->has_signal ? cw_uint(&w, r->signal) : cw_null(&w);
		kv_text(&w, "detail", r->detail);
		kv_uint(&w, "wall_ms", r->wall_ms);
		cw_text(&w, "bundle");
		r->bundle ? cw_bytes(&w, r->bundle, r->bundle_len) : cw_null(&w);
		if (r->log_dropped) /* absent = nothing dropped (older clients know no other) */
			kv_uint(&w, "log_dropped", r->log_dropped);
		break;
	}
	case WIRE_ERROR:
		head(&w, 2, m->type);
		kv_text(&w, "code", wire_err_code_name(m->u.error.code));
		kv_text(&w, "message", m->u.error.message);
		break;
	}
	if (cw_finish(&w, e))
		return cr_err_wrap(e, "encode %s message", wire_type_name(m->type));
	if (out->len > WIRE_MAX_FRAME)
		return cr_fail(e, "encode %s message: %zu bytes exceeds the frame limit", wire_type_name(m->type),
			       out->len);
	return 0;
}

/* ---------------------------------------------------------------- decode */

/* One decode pass over a message map: typed getters that remember which
 * keys were used, so that unknown keys are reported afterwards. */
struct rd {
	const struct cbr_doc *d;
	size_t map;
	const char *type;
	const char *used[16];
	size_t nused;
	struct cr_err *e;
};

static size_t rd_find(struct rd *r, const char *key)
{
	size_t i = cbr_map_find(r->d, r->map, key);
	if (i != CBR_NONE && r->nused < sizeof r->used / sizeof r->used[0])
		r->used[r->nused++] = key;
	return i;
}

static int missing(struct rd *r, const char *key)
{
	return cr_fail(r->e, "%s message: field '%s' missing", r->type, key);
}

static int wrong(struct rd *r, const char *key, const char *want)
{
	return cr_fail(r->e, "%s message: field '%s' must be %s", r->type, key, want);
}

static int rd_uint(struct rd *r, const char *key, uint64_t max, uint64_t *out)
{
	size_t i = rd_find(r, key);
	if (i == CBR_NONE)
		return missing(r, key);
	if (r->d->items[i].kind != CBR_UINT)
		return wrong(r, key, "an unsigned integer");
	if (r->d->items[i].v > max)
		return cr_fail(r->e, "%s message: field '%s' = %llu exceeds %llu", r->type, key,
			       (unsigned long long)r->d->items[i].v, (unsigned long long)max);
	*out = r->d->items[i].v;
	return 0;
}

/* uint or null */
static int rd_opt_uint(struct rd *r, const char *key, int *has, uint64_t *out)
{
	size_t i = rd_find(r, key);
	if (i == CBR_NONE)
		return missing(r, key);
	*has = r->d->items[i].kind == CBR_UINT;
	if (!*has && r->d->items[i].kind != CBR_NULL)
		return wrong(r, key, "an unsigned integer or null");
	*out = *has ? r->d->items[i].v : 0;
	return 0;
}

/* uint that may be absent (then 0) */
static int rd_opt_absent(struct rd *r, const char *key, uint64_t max, uint64_t *out)
{
	if (cbr_map_find(r->d, r->map, key) == CBR_NONE) {
		*out = 0;
		return 0;
	}
	return rd_uint(r, key, max, out);
}

static int rd_bool(struct rd *r, const char *key, int *out)
{
	size_t i = rd_find(r, key);
	if (i == CBR_NONE)
		return missing(r, key);
	if (r->d->items[i].kind != CBR_BOOL)
		return wrong(r, key, "a boolean");
	*out = (int)r->d->items[i].v;
	return 0;
}

static int text_into(struct rd *r, const char *key, size_t i, char *out, size_t max)
{
	const struct cbr_item *it = &r->d->items[i];
	if (it->kind != CBR_TEXT)
		return wrong(r, key, "a text string");
	if (it->len > max)
		return cr_fail(r->e, "%s message: field '%s' of %zu bytes exceeds the limit of %zu", r->type, key,
			       it->len, max);
	if (memchr(it->p, 0, it->len))
		return cr_fail(r->e, "%s message: field '%s' contains a NUL byte", r->type, key);
	memcpy(out, it->p, it->len);
	out[it->len] = 0;
	return 0;
}

static int rd_text(struct rd *r, const char *key, char *out, size_t max)
{
	size_t i = rd_find(r, key);
	if (i == CBR_NONE)
		return missing(r, key);
	return text_into(r, key, i, out, max);
}

static int rd_bytes(struct rd *r, const char *key, size_t min, size_t max, int nullable, const uint8_t **p, size_t *n)
{
	size_t i = rd_find(r, key);
	const struct cbr_item *it;
	if (i == CBR_NONE)
		return missing(r, key);
	it = &r->d->items[i];
	if (nullable && it->kind == CBR_NULL) {
		*p = NULL;
		*n = 0;
		return 0;
	}
	if (it->kind != CBR_BYTES)
		return wrong(r, key, nullable ? "a byte string or null" : "a byte string");
	if (it->len < min || it->len > max)
		return cr_fail(r->e, "%s message: field '%s' has %zu bytes, allowed %zu to %zu", r->type, key, it->len,
			       min, max);
	*p = it->p;
	*n = it->len;
	return 0;
}

static int rd_stream(struct rd *r, enum wire_stream *s)
{
	char name[8];
	if (rd_text(r, "stream", name, sizeof name - 1))
		return -1;
	if (!strcmp(name, "src"))
		*s = WIRE_SRC;
	else if (!strcmp(name, "deps"))
		*s = WIRE_DEPS;
	else
		return wrong(r, "stream", "\"src\" or \"deps\"");
	return 0;
}

/* A text field that must be one of names[0..n): *out gets its index. */
static int rd_word(struct rd *r, const char *key, const char *const *names, size_t n, const char *want, int *out)
{
	char word[32];
	if (rd_text(r, key, word, sizeof word - 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(word, names[i])) {
			*out = (int)i;
			return 0;
		}
	return wrong(r, key, want);
}

static int rd_no_unknown(struct rd *r)
{
	CBR_MAP_FOREACH(r->d, r->map, k, v)
	{
		int known = cbr_text_is(r->d, k, "v") || cbr_text_is(r->d, k, "t");
		(void)v;
		for (size_t j = 0; j < r->nused && !known; j++)
			known = cbr_text_is(r->d, k, r->used[j]);
		if (!known) {
			if (r->d->items[k].kind == CBR_TEXT)
				return cr_fail(r->e, "%s message: unknown field '%.*s'", r->type,
					       (int)(r->d->items[k].len > 64 ? 64 : r->d->items[k].len),
					       (const char *)r->d->items[k].p);
			return cr_fail(r->e, "%s message: a key that is not a text string", r->type);
		}
	}
	return 0;
}

static char *dup_text(const struct cbr_item *it)
{
	char *s = malloc(it->len + 1);
	if (s) {
		memcpy(s, it->p, it->len);
		s[it->len] = 0;
	}
	return s;
}

static void free_request(struct wire_msg *m)
{
	if (m->type != WIRE_REQUEST)
		return;
	for (size_t i = 0; i < m->u.request.argc; i++)
		free(m->u.request.argv[i]);
	for (size_t i = 0; i < m->u.request.noutputs; i++)
		free(m->u.request.outputs[i]);
	m->u.request.argc = m->u.request.noutputs = 0;
}

static int decode_request(struct rd *r, struct wire_request *q)
{
	const struct cbr_doc *d = r->d;
	size_t a = rd_find(r, "argv"), o, lim, total = 0;
	struct rd lr;
	if (a == CBR_NONE)
		return missing(r, "argv");
	if (d->items[a].kind != CBR_ARRAY || d->items[a].v < 1 || d->items[a].v > WIRE_MAX_ARGS)
		return wrong(r, "argv", "an array of 1 to 256 text strings");
	CBR_ARRAY_FOREACH(d, a, i)
	{
		if (d->items[i].kind != CBR_TEXT || d->items[i].len > WIRE_MAX_ARG ||
		    memchr(d->items[i].p, 0, d->items[i].len))
			return cr_fail(
				r->e,
				"request message: argv[%zu] must be a text string of at most %d bytes without NUL",
				q->argc, WIRE_MAX_ARG);
		/* the report records the command as JSON text */
		if (!cr_utf8_valid((const char *)d->items[i].p, d->items[i].len))
			return cr_fail(r->e, "request message: argv[%zu] is not valid UTF-8", q->argc);
		total += d->items[i].len + 1;
		if (total > WIRE_MAX_ARGV_BYTES)
			return cr_fail(r->e, "request message: argv exceeds %d bytes in total", WIRE_MAX_ARGV_BYTES);
		if (!(q->argv[q->argc++] = dup_text(&d->items[i])))
			return cr_fail(r->e, "out of memory");
	}
	o = rd_find(r, "outputs");
	if (o == CBR_NONE)
		return missing(r, "outputs");
	if (d->items[o].kind != CBR_ARRAY || d->items[o].v < 1 || d->items[o].v > WIRE_MAX_OUTPUTS)
		return wrong(r, "outputs", "an array of 1 to 64 paths");
	CBR_ARRAY_FOREACH(d, o, i)
	{
		char what[32];
		if (d->items[i].kind != CBR_TEXT || d->items[i].len > WIRE_MAX_PATH ||
		    memchr(d->items[i].p, 0, d->items[i].len))
			return cr_fail(r->e, "request message: outputs[%zu] must be a path", q->noutputs);
		if (!cr_utf8_valid((const char *)d->items[i].p, d->items[i].len))
			return cr_fail(r->e, "request message: outputs[%zu] is not valid UTF-8", q->noutputs);
		if (!(q->outputs[q->noutputs] = dup_text(&d->items[i])))
			return cr_fail(r->e, "out of memory");
		snprintf(what, sizeof what, "outputs[%zu]", q->noutputs);
		q->noutputs++;
		if (wire_check_path(q->outputs[q->noutputs - 1], what, r->e))
			return -1;
		for (size_t j = 0; j + 1 < q->noutputs; j++)
			if (!strcmp(q->outputs[j], q->outputs[q->noutputs - 1]))
				return cr_fail(r->e, "request message: output '%s' listed twice", q->outputs[j]);
	}
	if (rd_uint(r, "sde", WIRE_MAX_SDE, &q->sde))
		return -1;
	{
		const uint8_t *p;
		size_t n;
		if (rd_bytes(r, "nonce", 0, WIRE_MAX_NONCE, 0, &p, &n))
			return -1;
		memcpy(q->nonce, p, n);
		q->nonce_len = n;
	}
	lim = rd_find(r, "limits");
	if (lim == CBR_NONE)
		return missing(r, "limits");
	if (d->items[lim].kind != CBR_MAP)
		return wrong(r, "limits", "a map");
	lr = (struct rd){ d, lim, "request message: limits", { 0 }, 0, r->e };
	if (rd_uint(&lr, "timeout_s", WIRE_MAX_TIMEOUT_S, &q->limits.timeout_s) ||
	    rd_uint(&lr, "memory_mb", WIRE_MAX_MEMORY_MB, &q->limits.memory_mb) ||
	    rd_uint(&lr, "pids", WIRE_MAX_PIDS, &q->limits.pids) ||
	    rd_uint(&lr, "source_mb", WIRE_MAX_SOURCE_MB, &q->limits.source_mb) ||
	    rd_uint(&lr, "files", WIRE_MAX_FILES, &q->limits.files) ||
	    rd_uint(&lr, "output_mb", WIRE_MAX_OUTPUT_MB, &q->limits.output_mb) ||
	    rd_opt_absent(&lr, "log_bytes", UINT64_MAX, &q->limits.log_bytes))
		return -1;
	return rd_no_unknown(&lr);
}

static int decode_entry(struct rd *r, struct wire_entry *x)
{
	char type[8];
	if (rd_stream(r, &x->stream) || rd_text(r, "path", x->path, WIRE_MAX_PATH) ||
	    rd_text(r, "type", type, sizeof type - 1) || rd_uint(r, "size", UINT64_MAX, &x->size) ||
	    rd_bool(r, "exec", &x->exec))
		return -1;
	if (!strcmp(type, "file"))
		x->type = WIRE_FILE;
	else if (!strcmp(type, "dir"))
		x->type = WIRE_DIR;
	else if (!strcmp(type, "symlink"))
		x->type = WIRE_SYMLINK;
	else
		return wrong(r, "type", "\"file\", \"dir\" or \"symlink\"");
	if (x->type == WIRE_SYMLINK) {
		if (rd_text(r, "target", x->target, WIRE_MAX_PATH))
			return -1;
		if (!x->target[0])
			return cr_fail(r->e, "entry message: symlink '%s' has an empty target", x->path);
	}
	if (x->type != WIRE_FILE && (x->size || x->exec))
		return cr_fail(r->e, "entry message: %s '%s' must have size 0 and exec false", type, x->path);
	return wire_check_path(x->path, "entry", r->e);
}

int wire_decode(const uint8_t *body, size_t len, struct wire_msg *m, struct cr_err *e)
{
	static const struct cbr_limits lim = { WIRE_MAX_ARGS + WIRE_MAX_OUTPUTS + 64, 4 };
	struct cbr_doc d;
	struct rd r;
	char t[16];
	uint64_t v;
	int rc = -1;

	memset(&m->u, 0, sizeof m->u);
	if (cbr_parse(body, len, &lim, "message", &d, e))
		return -1;
	r = (struct rd){ &d, 0, "message", { 0 }, 0, e };
	if (d.items[0].kind != CBR_MAP) {
		cr_fail(e, "message: not a CBOR map");
		goto out;
	}
	if (rd_uint(&r, "v", UINT32_MAX, &v))
		goto out;
	if (v != WIRE_VERSION) {
		cr_fail(e, "message: protocol version %llu, this side speaks %d", (unsigned long long)v, WIRE_VERSION);
		goto out;
	}
	if (rd_text(&r, "t", t, sizeof t - 1))
		goto out;
	for (m->type = 0; (size_t)m->type < NTYPES && strcmp(t, type_names[m->type]); m->type++) {
	}
	if ((size_t)m->type == NTYPES) {
		cr_fail(e, "message: unknown type '%s'", t);
		goto out;
	}
	r = (struct rd){ &d, 0, wire_type_name(m->type), { 0 }, 0, e };
	switch (m->type) {
	case WIRE_REQUEST:
		if (decode_request(&r, &m->u.request))
			goto out;
		break;
	case WIRE_ENTRY:
		if (decode_entry(&r, &m->u.entry))
			goto out;
		break;
	case WIRE_DATA:
	case WIRE_LOG:
		if (rd_bytes(&r, "d", 1, m->type == WIRE_DATA ? WIRE_MAX_CHUNK : WIRE_MAX_LOG_CHUNK, 0, &m->u.data.p,
			     &m->u.data.n))
			goto out;
		break;
	case WIRE_END:
		if (rd_stream(&r, &m->u.end.stream) || rd_uint(&r, "files", UINT64_MAX, &m->u.end.files) ||
		    rd_uint(&r, "bytes", UINT64_MAX, &m->u.end.bytes))
			goto out;
		break;
	case WIRE_ACCEPTED: {
		struct wire_accepted *a = &m->u.accepted;
		const uint8_t *p1, *p2;
		size_t n1, n2;
		if (rd_stream(&r, &a->stream) || rd_uint(&r, "files", UINT64_MAX, &a->files) ||
		    rd_uint(&r, "bytes", UINT64_MAX, &a->bytes) ||
		    rd_bytes(&r, "tree_sha1", CR_SHA1_LEN, CR_SHA1_LEN, 0, &p1, &n1) ||
		    rd_bytes(&r, "tree_sha256", CR_SHA256_LEN, CR_SHA256_LEN, 0, &p2, &n2))
			goto out;
		memcpy(a->tree_sha1, p1, CR_SHA1_LEN);
		memcpy(a->tree_sha256, p2, CR_SHA256_LEN);
		break;
	}
	case WIRE_ARTIFACT:
		if (rd_text(&r, "path", m->u.artifact.path, WIRE_MAX_PATH) ||
		    rd_uint(&r, "size", UINT64_MAX, &m->u.artifact.size) || rd_bool(&r, "exec", &m->u.artifact.exec) ||
		    wire_check_path(m->u.artifact.path, "artifact", e))
			goto out;
		break;
	case WIRE_RESULT: {
		struct wire_result *x = &m->u.result;
		int st = 0;
		if (rd_word(&r, "status", status_names, NSTATUS,
			    "\"ok\", \"failed\", \"timeout\", \"limit\", \"missing-output\" or \"bad-output\"", &st) ||
		    rd_opt_uint(&r, "exit_code", &x->has_exit_code, &x->exit_code) ||
		    rd_opt_uint(&r, "signal", &x->has_signal, &x->signal) ||
		    rd_text(&r, "detail", x->detail, sizeof x->detail - 1) ||
		    rd_uint(&r, "wall_ms", UINT64_MAX, &x->wall_ms) ||
		    rd_bytes(&r, "bundle", 1, WIRE_MAX_BUNDLE, 1, &x->bundle, &x->bundle_len) ||
		    rd_opt_absent(&r, "log_dropped", UINT64_MAX, &x->log_dropped))
			goto out;
		x->status = (enum wire_status)st;
		break;
	}
	case WIRE_ERROR: {
		int code = 0;
		if (rd_word(&r, "code", err_code_names, NERRCODES,
			    "\"protocol\", \"refused\", \"limit\", \"busy\" or \"internal\"", &code) ||
		    rd_text(&r, "message", m->u.error.message, sizeof m->u.error.message - 1))
			goto out;
		m->u.error.code = (enum wire_err_code)code;
		break;
	}
	}
	rc = rd_no_unknown(&r);
out:
	cbr_free(&d);
	if (rc)
		free_request(m);
	return rc;
}

void wire_frame_release(uint8_t *frame, struct cr_pool *pool)
{
	if (pool)
		cr_pool_put(pool, frame);
	else
		free(frame);
}

void wire_msg_free(struct wire_msg *m)
{
	free_request(m);
	wire_frame_release(m->frame, m->frame_pool);
	m->frame = NULL;
	m->frame_pool = NULL;
}

/* ---------------------------------------------------------------- frames */

/* write() all of the iovecs, retrying on EINTR and short writes; iov is
 * consumed. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t r = writev(fd, iov, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

void wire_writer_init(struct wire_writer *w, int fd, size_t batch)
{
	w->fd = fd;
	w->batch = batch;
	cr_buf_init(&w->out, SIZE_MAX);
	cr_buf_init(&w->msg, WIRE_MAX_FRAME);
}

void wire_writer_free(struct wire_writer *w)
{
	cr_buf_free(&w->out);
	cr_buf_free(&w->msg);
}

/* Send the queued frames, then the n iovecs (if any) in the same call. */
static int send_queued(struct wire_writer *w, struct iovec *tail, int n, struct cr_err *e)
{
	struct iovec iov[4];
	int k = 0;
	if (w->out.len)
		iov[k++] = (struct iovec){ w->out.p, w->out.len };
	for (int i = 0; i < n; i++)
		iov[k++] = tail[i];
	w->out.len = 0; /* sent, or lost with the connection */
	if (k && writev_all(w->fd, iov, k))
		return cr_failp_code(e, CR_E_SEND, "send");
	return 0;
}

int wire_writer_flush(struct wire_writer *w, struct cr_err *e)
{
	return send_queued(w, NULL, 0, e);
}

static int queued(struct wire_writer *w, struct cr_err *e)
{
	return w->out.len >= w->batch ? send_queued(w, NULL, 0, e) : 0;
}

/* One frame: its length, then a and b (b may be empty). Queued (copied)
 * when copy, else sent at once, after what is queued, from a and b. */
static int put_frame(struct wire_writer *w, const void *a, size_t alen, const void *b, size_t blen, int copy,
		     struct cr_err *e)
{
	uint8_t len[4];
	size_t at = w->out.len;
	cr_put_be32(len, (uint32_t)(alen + blen)); /* at most WIRE_MAX_FRAME */
	if (!copy) {
		struct iovec iov[3] = { { len, 4 }, { (void *)a, alen }, { (void *)b, blen } };
		return send_queued(w, iov, blen ? 3 : 2, e);
	}
	if (cr_buf_put(&w->out, len, 4, e) || cr_buf_put(&w->out, a, alen, e) || cr_buf_put(&w->out, b, blen, e)) {
		w->out.len = at; /* no half frame stays queued */
		return -1;
	}
	return queued(w, e);
}

int wire_writer_msg(struct wire_writer *w, const struct wire_msg *m, struct cr_err *e)
{
	/* Encoded apart, so that the frame limit is the buffer's. */
	w->msg.len = 0;
	if (wire_encode(m, &w->msg, e))
		return -1;
	return put_frame(w, w->msg.p, w->msg.len, NULL, 0, w->batch != 0, e);
}

int wire_writer_data(struct wire_writer *w, enum wire_type t, const void *p, size_t n, struct cr_err *e)
{
	/* The map head, the key and the byte-string head are encoded here; a
	 * large payload goes straight from the caller's buffer (no copy). */
	struct cbor_w cw;
	if (n == 0 || n > (t == WIRE_LOG ? WIRE_MAX_LOG_CHUNK : WIRE_MAX_CHUNK))
		return cr_fail(e, "internal: %s chunk of %zu bytes", wire_type_name(t), n);
	w->msg.len = 0;
	cw_init(&cw, &w->msg);
	head(&cw, 1, t);
	cw_text(&cw, "d");
	cw_bytes_head(&cw, n);
	if (cw_finish(&cw, e))
		return -1;
	return put_frame(w, w->msg.p, w->msg.len, p, n, w->batch && n < WIRE_WRITER_COPY_MAX, e);
}

int wire_send(int fd, const struct wire_msg *m, struct cr_err *e)
{
	struct wire_writer w;
	int rc;
	wire_writer_init(&w, fd, 0);
	rc = wire_writer_msg(&w, m, e);
	wire_writer_free(&w);
	return rc;
}

int wire_send_data(int fd, enum wire_type t, const void *p, size_t n, struct cr_err *e)
{
	struct wire_writer w;
	int rc;
	wire_writer_init(&w, fd, 0);
	rc = wire_writer_data(&w, t, p, n, e);
	wire_writer_free(&w);
	return rc;
}

int wire_send_error(int fd, enum wire_err_code code, const char *message, struct cr_err *e)
{
	struct wire_msg m;
	memset(&m, 0, sizeof m);
	m.type = WIRE_ERROR;
	m.u.error.code = code;
	snprintf(m.u.error.message, sizeof m.u.error.message, "%s", message);
	return wire_send(fd, &m, e);
}

void wire_reader_init(struct wire_reader *r, int fd, struct cr_pool *pool, uint8_t *buf, size_t cap)
{
	r->fd = fd;
	r->pool = pool;
	r->buf = buf;
	r->cap = buf ? cap : 0;
	r->off = r->len = 0;
}

/* Exactly n bytes into dst: first what was read ahead, then either straight
 * from the socket (what is left is at least a buffer's worth) or through
 * the buffer, reading ahead whatever the socket has. cr_read_full's
 * results: n, 0 at the end of the stream before the first byte, -1 with
 * errno (EPIPE: the end of the stream inside the n bytes). */
static long reader_take(struct wire_reader *r, uint8_t *dst, size_t n)
{
	size_t got = r->len < n ? r->len : n;
	long x;
	if (got) {
		memcpy(dst, r->buf + r->off, got);
		r->off += got;
		r->len -= got;
	}
	while (got < n && n - got < r->cap) {
		x = read(r->fd, r->buf, r->cap);
		if (x < 0 && errno == EINTR)
			continue;
		if (x <= 0)
			goto ended;
		r->off = (size_t)x < n - got ? (size_t)x : n - got;
		r->len = (size_t)x - r->off;
		memcpy(dst + got, r->buf, r->off);
		got += r->off;
	}
	if (got < n) {
		x = cr_read_full(r->fd, dst + got, n - got);
		if (x <= 0)
			goto ended;
		got += (size_t)x;
	}
	return (long)got;
ended: /* x: 0 at the end of the stream, -1 with errno */
	if (x == 0 && got) {
		errno = EPIPE;
		return -1;
	}
	return x;
}

int wire_recv(int fd, struct wire_msg *m, struct cr_err *e)
{
	struct wire_reader r;
	wire_reader_init(&r, fd, NULL, NULL, 0);
	return wire_read(&r, m, e);
}

int wire_read(struct wire_reader *rd, struct wire_msg *m, struct cr_err *e)
{
	uint8_t hdr[4];
	uint32_t len;
	long r;
	memset(m, 0, sizeof *m);
	r = reader_take(rd, hdr, 4);
	if (r == 0)
		return 1;
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return cr_fail_code(e, CR_E_TIMEOUT, "receive: timed out");
		if (errno == EPIPE)
			return cr_fail(e, "receive: connection closed inside a frame header");
		/* "Connection timed out": a timeout too */
		return cr_failp_code(e, errno == ETIMEDOUT ? CR_E_TIMEOUT : CR_E_FAIL, "receive");
	}
	len = cr_be32(hdr);
	if (len == 0 || len > WIRE_MAX_FRAME)
		return cr_fail(e, "receive: frame length %u outside 1..%u", len, WIRE_MAX_FRAME);
	if (rd->pool && len <= rd->pool->size && (m->frame = cr_pool_get(rd->pool)))
		m->frame_pool = rd->pool;
	else
		m->frame = malloc(len);
	if (!m->frame)
		return cr_fail(e, "out of memory");
	r = reader_take(rd, m->frame, len);
	if (r != (long)len) {
		int saved = r == 0 ? EPIPE : errno; /* the end of the stream right after the header */
		wire_msg_free(m);
		errno = saved;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return cr_fail_code(e, CR_E_TIMEOUT, "receive: timed out inside a frame");
		return cr_fail(e, "receive: connection closed inside a %u-byte frame", len);
	}
	if (wire_decode(m->frame, len, m, e)) {
		wire_msg_free(m);
		return -1;
	}
	return 0;
}

void wire_entry_msg(struct wire_msg *m, enum wire_stream s, enum wire_entry_type t, const char *path, uint64_t size,
		    int exec, const char *target)
{
	memset(m, 0, sizeof *m);
	m->type = WIRE_ENTRY;
	m->u.entry.stream = s;
	m->u.entry.type = t;
	snprintf(m->u.entry.path, sizeof m->u.entry.path, "%s", path);
	m->u.entry.size = size;
	m->u.entry.exec = exec;
	if (target)
		snprintf(m->u.entry.target, sizeof m->u.entry.target, "%s", target);
}
