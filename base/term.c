/* The one sanitiser for text from outside (term.h). */
#include "base/term.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence a lead byte starts, 0 if it starts none. */
static size_t lead_len(uint8_t b)
{
	if (b >= 0xc2 && b <= 0xdf)
		return 2;
	if (b >= 0xe0 && b <= 0xef)
		return 3;
	if (b >= 0xf0 && b <= 0xf4)
		return 4;
	return 0;
}

/* Whether b may be byte i (>= 1) of a sequence led by lead: the second
 * byte's range excludes overlong forms, surrogates and > U+10FFFF. */
static int cont_ok(uint8_t lead, size_t i, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf;
	if (i == 1) {
		if (lead == 0xe0)
			lo = 0xa0;
		else if (lead == 0xed)
			hi = 0x9f;
		else if (lead == 0xf0)
			lo = 0x90;
		else if (lead == 0xf4)
			hi = 0x8f;
	}
	return b >= lo && b <= hi;
}

size_t cr_utf8_seq(const void *s, size_t n)
{
	const uint8_t *p = s;
	size_t len;
	if (!n)
		return 0;
	if (p[0] < 0x80)
		return 1;
	len = lead_len(p[0]);
	if (!len || n < len)
		return 0;
	for (size_t k = 1; k < len; k++)
		if (!cont_ok(p[0], k, p[k]))
			return 0;
	return len;
}

int cr_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0, len; i < n; i += len)
		if (!(len = cr_utf8_seq(s + i, n - i)))
			return 0;
	return 1;
}

void cr_term_init(struct cr_term *t, unsigned flags, cr_term_sink sink, void *ctx)
{
	memset(t, 0, sizeof *t);
	t->flags = flags;
	t->sink = sink;
	t->ctx = ctx;
}

/* Pieces are gathered in a small buffer so a long clean run costs one
 * sink call per buffer, not one per byte. */
struct out {
	struct cr_term *t;
	char buf[1024];
	size_t n;
};

static void out_flush(struct out *o)
{
	if (o->n)
		o->t->sink(o->t->ctx, o->buf, o->n, 0);
	o->n = 0;
}

static void out_raw(struct out *o, const uint8_t *p, size_t n)
{
	if (o->n + n > sizeof o->buf)
		out_flush(o);
	memcpy(o->buf + o->n, p, n);
	o->n += n;
}

static void out_esc(struct out *o, const char *fmt, unsigned v)
{
	char e[8];
	int n;
	out_flush(o);
	n = snprintf(e, sizeof e, fmt, v);
	o->t->sink(o->t->ctx, e, (size_t)n, 1);
}

static void ascii(struct out *o, uint8_t b)
{
	int ml = (o->t->flags & CR_TERM_MULTILINE) != 0;
	if ((b >= 0x20 && b < 0x7f) || (ml && (b == '\n' || b == '\t')))
		out_raw(o, &b, 1);
	else if (b == '\r' && ml && (o->t->flags & CR_TERM_CRLF))
		o->t->cr = 1; /* a line end if \n follows */
	else if (b == '\n')
		out_esc(o, "\\n", 0);
	else if (b == '\t')
		out_esc(o, "\\t", 0);
	else if (b == '\r')
		out_esc(o, "\\r", 0);
	else
		out_esc(o, "\\x%02x", b);
}

/* C1, and the bidirectional controls, which reorder what is displayed (a
 * file name "x\u202egpj.exe" shows as "xexe.jpg"; CVE-2021-42574), with
 * the line and paragraph separators, which end a line in some viewers. */
uint32_t cr_utf8_escaped(const void *s, size_t len)
{
	const uint8_t *p = s;
	uint32_t cp;
	if (len == 2)
		cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	else if (len == 3)
		cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	else
		return 0; /* none of them is 1 or 4 bytes long */
	if ((cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return cp;
	return 0;
}

/* The held-back sequence is complete: C1 and bidi controls escaped,
 * anything else as is. */
static void complete(struct out *o)
{
	struct cr_term *t = o->t;
	uint32_t cp = cr_utf8_escaped(t->pend, t->need);
	if (cp)
		out_esc(o, "\\u%04x", cp);
	else
		out_raw(o, t->pend, t->need);
	t->npend = t->need = 0;
}

/* The held-back bytes are no sequence: each is shown as a byte. */
static void drop_pending(struct out *o)
{
	struct cr_term *t = o->t;
	for (size_t i = 0; i < t->npend; i++)
		out_esc(o, "\\x%02x", t->pend[i]);
	t->npend = t->need = 0;
}

void cr_term_feed(struct cr_term *t, const void *data, size_t n)
{
	const uint8_t *p = data;
	struct out o;
	o.t = t;
	o.n = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (t->cr) {
			t->cr = 0;
			if (b == '\n') {
				out_raw(&o, &b, 1);
				continue;
			}
			out_esc(&o, "\\r", 0);
		}
		if (t->npend) {
			if (cont_ok(t->pend[0], t->npend, b)) {
				t->pend[t->npend++] = b;
				if (t->npend == t->need)
					complete(&o);
				continue;
			}
			/* The bytes held are a lead and continuations, none of
			 * which can start a sequence: escape them, then take b
			 * afresh. */
			drop_pending(&o);
		}
		if (b < 0x80) {
			ascii(&o, b);
		} else if ((t->need = lead_len(b)) != 0) {
			t->pend[0] = b;
			t->npend = 1;
		} else {
			out_esc(&o, "\\x%02x", b);
		}
	}
	out_flush(&o);
}

void cr_term_end(struct cr_term *t)
{
	struct out o;
	o.t = t;
	o.n = 0;
	drop_pending(&o);
	if (t->cr)
		out_esc(&o, "\\r", 0);
	t->cr = 0;
	out_flush(&o);
}

/* ------------------------------------------------------------ sinks */

struct fixed {
	char *out;
	size_t cap, len;
	int full;
};

static void fixed_sink(void *ctx, const char *p, size_t n, int esc)
{
	struct fixed *f = ctx;
	size_t room = f->cap - 1 - f->len;
	if (f->full)
		return;
	if (n > room) {
		f->full = 1;
		if (esc)
			return;
		/* cut before a UTF-8 sequence that would not fit whole */
		n = room;
		while (n > 0 && ((uint8_t)p[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(f->out + f->len, p, n);
	f->len += n;
}

size_t cr_term_str(const char *in, size_t n, unsigned flags, char *out, size_t cap)
{
	struct fixed f = { out, cap, 0, 0 };
	struct cr_term t;
	if (!cap)
		return 0;
	cr_term_init(&t, flags, fixed_sink, &f);
	cr_term_feed(&t, in, n);
	cr_term_end(&t);
	out[f.len] = 0;
	return f.len;
}

const char *cr_term_arg(const char *s)
{
	static _Thread_local char slots[CR_TERM_ARG_SLOTS][CR_TERM_ARG_MAX];
	static _Thread_local unsigned next;
	char *out = slots[next++ % CR_TERM_ARG_SLOTS];
	if (!s)
		return "?";
	cr_term_str(s, strlen(s), 0, out, CR_TERM_ARG_MAX);
	return out;
}

static void file_sink(void *ctx, const char *p, size_t n, int esc)
{
	struct cr_term_file *tf = ctx;
	(void)esc;
	if (!tf->failed && fwrite(p, 1, n, tf->f) != n)
		tf->failed = 1;
}

void cr_term_file_init(struct cr_term_file *tf, FILE *f, unsigned flags)
{
	tf->f = f;
	tf->failed = 0;
	cr_term_init(&tf->t, flags, file_sink, tf);
}

int cr_tprintf(FILE *f, const char *fmt, ...)
{
	char small[1024], *p = small;
	struct cr_term_file tf;
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof small) {
		if (!(p = malloc((size_t)n + 1)))
			return -1;
		va_start(ap, fmt);
		vsnprintf(p, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	cr_term_file_init(&tf, f, CR_TERM_MULTILINE);
	cr_term_feed(&tf.t, p, (size_t)n);
	cr_term_end(&tf.t);
	if (p != small)
		free(p);
	return tf.failed ? -1 : n;
}
