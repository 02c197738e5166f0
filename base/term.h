/* Text from outside on its way to a terminal: the one sanitiser.
 *
 * Whatever cleanroom prints that it did not write itself — a build log,
 * the enclave's error and result strings, the guest console, names and
 * strings out of bundles, EIFs, attestation documents and archives — goes
 * through here first, on a terminal or not. Every control character is
 * replaced by a visible escape, so the reader sees that something was
 * there and the terminal never acts on it:
 *
 *   C0 (0x00-0x1f) and DEL   \xNN (\r, \n and \t as themselves: \r \n \t);
 *                            in multi-line mode \n and \t pass unchanged
 *   C1 as UTF-8 (U+0080-U+009F)             \u00NN
 *   bidi controls (U+061C, U+200E, U+200F,  \uNNNN
 *   U+202A-U+202E, U+2066-U+2069) and the
 *   line and paragraph separators (U+2028, U+2029)
 *   a byte that is not part of valid UTF-8  \xNN   (raw 0x80-0x9f among them)
 *
 * Valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF are
 * not valid) passes byte for byte. The output holds no control character
 * but \n and \t and is valid UTF-8, so sanitising twice changes nothing.
 * Backslashes are not escaped: the escapes are for a reader, not a parser.
 *
 * Streaming: a UTF-8 sequence split across two chunks is held back until it
 * completes (or proves invalid). An escape sequence split across chunks
 * needs nothing: each of its control bytes is neutralised on its own. */
#ifndef CLEANROOM_TERM_H
#define CLEANROOM_TERM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/util.h"

#define CR_TERM_MULTILINE 1u /* keep \n and \t (a log, a listing); else one line */
/* With MULTILINE: \r\n is a line end, shown as \n (a serial console ends
 * every line so); a \r not followed by \n is still shown as \r. */
#define CR_TERM_CRLF 2u

/* Output goes to a sink in pieces; esc is set for an escape (which a
 * bounded sink writes whole or not at all). */
typedef void (*cr_term_sink)(void *ctx, const char *p, size_t n, int esc);

struct cr_term {
	unsigned flags;
	uint8_t pend[4]; /* an incomplete UTF-8 sequence from the previous chunk */
	size_t npend, need;
	int cr; /* CR_TERM_CRLF: a \r held back until the next byte */
	cr_term_sink sink;
	void *ctx;
};

void cr_term_init(struct cr_term *t, unsigned flags, cr_term_sink sink, void *ctx);
/* Sanitise n bytes into the sink. */
void cr_term_feed(struct cr_term *t, const void *p, size_t n);
/* End of the stream: a sequence still incomplete is escaped byte by byte. */
void cr_term_end(struct cr_term *t);

/* A whole string into out (cap bytes, NUL-terminated), cut at a character
 * or escape boundary when it does not fit. Returns the length written. */
size_t cr_term_str(const char *in, size_t n, unsigned flags, char *out, size_t cap);

/* One string as one line, for a printf argument: the result lives in one
 * of CR_TERM_ARG_SLOTS rotating per-thread buffers (valid until that many
 * more calls), cut at CR_TERM_ARG_MAX bytes. NULL gives "?". */
#define CR_TERM_ARG_SLOTS 8
#define CR_TERM_ARG_MAX 4096
const char *cr_term_arg(const char *s);

/* A stream onto a FILE (a build log, a console): feed/end as above. */
struct cr_term_file {
	struct cr_term t;
	FILE *f;
	int failed; /* a write failed (the stream is left alone afterwards) */
};
void cr_term_file_init(struct cr_term_file *tf, FILE *f, unsigned flags);

/* printf whose result goes through the sanitiser in multi-line mode: for
 * every message that carries text from outside. Returns -1 on a format or
 * write error. */
int cr_tprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 when the n bytes at s are valid UTF-8 (the same rules as above). */
int cr_utf8_valid(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if none. */
size_t cr_utf8_seq(const void *s, size_t n);
/* For the valid sequence of len bytes at s: its code point when it is one
 * of those shown escaped (C1, bidi controls, U+2028/U+2029), else 0. The
 * JSON writer escapes the same ones. */
uint32_t cr_utf8_escaped(const void *s, size_t len);

#endif
