/* The sanitiser for text from outside (base/term.h), the error messages and
 * the JSON writer that rely on it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"
#include "base/json.h"
#include "base/term.h"
#include "base/util.h"

static void buf_sink(void *ctx, const char *p, size_t n, int esc)
{
	struct cr_buf *b = ctx;
	struct cr_err e;
	(void)esc;
	if (cr_buf_put(b, p, n, &e))
		abort();
}

/* in, fed in chunks of `chunk` bytes (0: all at once), sanitised into out
 * (NUL-terminated, caller frees). */
static char *san(const void *in, size_t n, unsigned flags, size_t chunk)
{
	struct cr_buf b;
	struct cr_term t;
	struct cr_err e;
	const uint8_t *p = in;
	cr_buf_init(&b, 1 << 24);
	cr_term_init(&t, flags, buf_sink, &b);
	if (!chunk)
		chunk = n ? n : 1;
	for (size_t i = 0; i < n; i += chunk)
		cr_term_feed(&t, p + i, n - i < chunk ? n - i : chunk);
	cr_term_end(&t);
	if (cr_buf_cstr(&b, &e))
		abort();
	if (!b.p)
		return strdup("");
	return (char *)b.p;
}

/* No control character but \n and \t, no C1 (raw or UTF-8), valid UTF-8. */
static int clean(const char *s, int multiline)
{
	size_t n = strlen(s);
	if (!cr_utf8_valid(s, n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7f)
			return 0;
		if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] <= 0x9f)
			return 0;
	}
	return 1;
}

static void expect_byte(unsigned b, unsigned flags, char *want)
{
	if (b >= 0x20 && b < 0x7f)
		snprintf(want, 8, "%c", b);
	else if (b == '\n' || b == '\t')
		snprintf(want, 8, (flags & CR_TERM_MULTILINE) ? "%c" : b == '\n' ? "\\n" : "\\t", b);
	else if (b == '\r')
		snprintf(want, 8, "\\r");
	else
		snprintf(want, 8, "\\x%02x", b);
}

static void test_every_byte(void)
{
	int bad_ml = 0, bad_sl = 0, bad_stream = 0;
	char first[128] = "";
	for (unsigned b = 0; b < 256; b++) {
		uint8_t in[3] = { 'a', (uint8_t)b, 'z' };
		for (int ml = 0; ml < 2; ml++) {
			unsigned flags = ml ? CR_TERM_MULTILINE : 0;
			char want[16], full[24];
			char *got = san(in, 3, flags, 0), *got1 = san(in, 3, flags, 1);
			expect_byte(b, flags, want);
			snprintf(full, sizeof full, "a%sz", want);
			if (strcmp(got, full)) {
				*(ml ? &bad_ml : &bad_sl) += 1;
				if (!first[0])
					snprintf(first, sizeof first, "byte 0x%02x: got '%s', want '%s'", b, got, full);
			}
			if (strcmp(got1, got))
				bad_stream++;
			free(got);
			free(got1);
		}
	}
	T_OK(bad_sl == 0,
	     "every byte 0..255 alone: printable ASCII kept, C0, DEL and non-UTF-8 bytes as \\xNN, \\r \\n \\t named "
	     "(%s)",
	     first[0] ? first : "all right");
	T_OK(bad_ml == 0, "every byte 0..255 in multi-line mode: the same, but \\n and \\t kept");
	T_OK(bad_stream == 0, "every byte 0..255 fed one byte at a time gives the same output");
}

static void test_utf8(void)
{
	static const char *const valid[] = {
		"caf\xc3\xa9",               /* é */
		"\xe2\x82\xac 5",            /* € */
		"smile \xf0\x9f\x98\x80 ok", /* U+1F600 */
		"nbsp\xc2\xa0"
		"end",              /* U+00A0: first code point past C1 */
		"\xf4\x8f\xbf\xbf", /* U+10FFFF */
		"\xe2\x80\x8b zero width",
	};
	int split_ok = 1;
	for (size_t i = 0; i < sizeof valid / sizeof *valid; i++) {
		char *got = san(valid[i], strlen(valid[i]), 0, 0);
		T_STR(got, valid[i], "valid UTF-8 passes byte for byte: case %zu", i);
		free(got);
		for (size_t c = 1; c <= strlen(valid[i]); c++) {
			got = san(valid[i], strlen(valid[i]), 0, c);
			split_ok &= !strcmp(got, valid[i]);
			free(got);
		}
	}
	T_OK(split_ok, "valid UTF-8 split across reads at every position passes untouched");

	{
		int ok = 1, split = 1;
		for (unsigned cp = 0x80; cp <= 0x9f; cp++) {
			uint8_t in[2] = { 0xc2, (uint8_t)cp };
			char want[8], *got = san(in, 2, CR_TERM_MULTILINE, 0), *got1 = san(in, 2, CR_TERM_MULTILINE, 1);
			snprintf(want, sizeof want, "\\u%04x", cp);
			ok &= !strcmp(got, want);
			split &= !strcmp(got1, want);
			free(got);
			free(got1);
		}
		T_OK(ok, "C1 code points U+0080..U+009F as UTF-8 are shown as \\u0080..\\u009f");
		T_OK(split, "... also when the two bytes come in two reads");
	}

	{
		/* Every bidi control and separator escaped, whole or split at any
		 * byte; their neighbours pass. */
		static const unsigned esc_cps[] = { 0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b,
						    0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };
		static const unsigned pass_cps[] = { 0x061b, 0x061d, 0x200d, 0x2027, 0x202f, 0x2065, 0x206a, 0xa0 };
		int ok = 1, split = 1, pass = 1;
		for (size_t i = 0; i < sizeof esc_cps / sizeof *esc_cps + sizeof pass_cps / sizeof *pass_cps; i++) {
			int is_esc = i < sizeof esc_cps / sizeof *esc_cps;
			unsigned cp = is_esc ? esc_cps[i] : pass_cps[i - sizeof esc_cps / sizeof *esc_cps];
			char in[8], want[16];
			size_t n = 0;
			n += (size_t)snprintf(in, sizeof in, "a");
			if (cp < 0x800) {
				in[n++] = (char)(0xc0 | cp >> 6);
				in[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				in[n++] = (char)(0xe0 | cp >> 12);
				in[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
				in[n++] = (char)(0x80 | (cp & 0x3f));
			}
			in[n++] = 'b';
			in[n] = 0;
			if (is_esc)
				snprintf(want, sizeof want,
					 "a\\u%04x"
					 "b",
					 cp);
			else
				snprintf(want, sizeof want, "%s", in);
			for (size_t c = 0; c <= n; c++) {
				char *got = san(in, n, 0, c);
				if (c == 0)
					(is_esc ? &ok : &pass)[0] &= !strcmp(got, want);
				else
					split &= !strcmp(got, want);
				free(got);
			}
		}
		T_OK(ok, "bidi controls (U+061C, U+200E/F, U+202A-E, U+2066-9) and U+2028/9 are shown as \\uNNNN");
		T_OK(pass, "their neighbours (U+061B, U+200D, U+2027, U+202F, U+2065, U+206A, U+00A0) pass unchanged");
		T_OK(split, "... whichever byte a read ends at");
		char buf[64];
		cr_term_str("invoice\xe2\x80\xaegpj.exe", strlen("invoice\xe2\x80\xaegpj.exe"), 0, buf, sizeof buf);
		T_STR(buf, "invoice\\u202egpj.exe", "a right-to-left override in a file name is shown, not applied");
	}

	static const struct {
		const char *in, *want;
	} invalid[] = {
		{ "\xc0\x80", "\\xc0\\x80" },                   /* overlong NUL */
		{ "\xe0\x80\x9b", "\\xe0\\x80\\x9b" },          /* overlong U+001B */
		{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },          /* surrogate */
		{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" }, /* past U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80" },
		{ "x\xe2\x82", "x\\xe2\\x82" }, /* cut at the end */
		{ "\xe2\x82"
		  "A",
		  "\\xe2\\x82A" },                   /* cut by ASCII */
		{ "\xc3\xc3\xa9", "\\xc3\xc3\xa9" }, /* a lead, then a whole é */
		{ "\x9b"
		  "31m",
		  "\\x9b31m" },                              /* raw 8-bit CSI */
		{ "\xe2\x82\x1b[2J", "\\xe2\\x82\\x1b[2J" }, /* ESC inside a sequence */
	};
	for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
		char *got = san(invalid[i].in, strlen(invalid[i].in), 0, 0), *got1;
		T_STR(got, invalid[i].want, "invalid UTF-8 case %zu: each stray byte as \\xNN, the rest resynchronised",
		      i);
		got1 = san(invalid[i].in, strlen(invalid[i].in), 0, 1);
		T_STR(got1, got, "invalid UTF-8 case %zu fed byte by byte: the same", i);
		free(got);
		free(got1);
	}
}

/* The sequences of the hostile build. */
static const char hostile[] = "\x1b]0;pwned title\x07"     /* window title */
			      "\x1b]52;c;ZWNobyBoaQ==\x07" /* clipboard write */
			      "\x1b[2J\x1b[H"              /* clear screen */
			      "result        ok: fake\r\n"
			      "report        verified\n"
			      "\x9b"
			      "31m raw CSI \xc2\x9b"
			      "32m C1 CSI \xc2\x9d"
			      "0;t\xc2\x9c"
			      "\x1b[8m"; /* conceal what follows */

static void test_hostile(void)
{
	char *got = san(hostile, sizeof hostile - 1, CR_TERM_MULTILINE, 0);
	int same = 1;
	printf("# %s\n", cr_term_arg(got));
	T_OK(clean(got, 1), "the hostile log: no ESC, BEL, CR, DEL or C1 left, valid UTF-8");
	T_OK(strstr(got, "\\x1b]0;pwned title\\x07") && strstr(got, "\\x1b]52;c;") && strstr(got, "\\x1b[2J") &&
		     strstr(got, "\\x1b[8m") && strstr(got, "fake\\r\n") && strstr(got, "\\x9b31m") &&
		     strstr(got, "\\u009b32m"),
	     "the hostile log: every sequence is there, visibly escaped");
	/* Every way of cutting it into two reads gives the same text. */
	for (size_t cut = 1; cut < sizeof hostile - 1; cut++) {
		struct cr_buf b;
		struct cr_term t;
		struct cr_err e;
		cr_buf_init(&b, 1 << 16);
		cr_term_init(&t, CR_TERM_MULTILINE, buf_sink, &b);
		cr_term_feed(&t, hostile, cut);
		cr_term_feed(&t, hostile + cut, sizeof hostile - 1 - cut);
		cr_term_end(&t);
		cr_buf_cstr(&b, &e);
		same &= !strcmp((char *)b.p, got);
		cr_buf_free(&b);
	}
	T_OK(same, "the hostile log cut into two reads anywhere: the same output (split escape and UTF-8 sequences)");
	free(got);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_random(void)
{
	int ok_clean = 1, ok_chunks = 1, ok_idem = 1;
	static const uint8_t alphabet[] = { 0x1b, '[',  ']',  0x07, '\r', '\n', '\t', 'a',  0x7f, 0x9b, 0xc2, 0x80,
					    0x9f, 0xa0, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0xed, 0xff };
	for (int round = 0; round < 3000; round++) {
		uint8_t in[64];
		size_t n = rnd() % sizeof in;
		for (size_t i = 0; i < n; i++)
			in[i] = rnd() % 3 ? alphabet[rnd() % sizeof alphabet] : (uint8_t)rnd();
		for (int mode = 0; mode < 3; mode++) {
			int ml = mode > 0;
			unsigned flags = mode == 2 ? CR_TERM_MULTILINE | CR_TERM_CRLF : ml ? CR_TERM_MULTILINE : 0;
			char *a = san(in, n, flags, 0), *b = san(in, n, flags, 1 + rnd() % 5),
			     *c = san(a, strlen(a), flags, 0);
			ok_clean &= clean(a, ml);
			ok_chunks &= !strcmp(a, b);
			ok_idem &= !strcmp(a, c);
			free(a);
			free(b);
			free(c);
		}
	}
	T_OK(ok_clean, "3000 random strings: the output never holds a control character and is valid UTF-8");
	T_OK(ok_chunks, "... random read boundaries never change it");
	T_OK(ok_idem, "... and sanitising twice changes nothing");
}

/* A serial console ends its lines with \r\n: shown as line ends, while a
 * lone \r (which would let the guest overwrite a line) is still escaped. */
static void test_crlf(void)
{
	static const char in[] = "boot ok\r\nfake\rreal\r\r\nend\r";
	unsigned f = CR_TERM_MULTILINE | CR_TERM_CRLF;
	char *got = san(in, sizeof in - 1, f, 0), *got1 = san(in, sizeof in - 1, f, 1);
	T_STR(got, "boot ok\nfake\\rreal\\r\nend\\r",
	      "CRLF mode: \\r\\n is a line end, a lone \\r is escaped (also at the end)");
	T_STR(got1, got, "CRLF mode: ... the same when \\r and \\n come in two reads");
	free(got);
	free(got1);
	got = san(in, sizeof in - 1, CR_TERM_MULTILINE, 0);
	T_STR(got, "boot ok\\r\nfake\\rreal\\r\\r\nend\\r", "without CRLF mode every \\r is escaped");
	free(got);
}

static void test_str_and_errors(void)
{
	char out[8];
	size_t n;
	n = cr_term_str("ab\x1b"
			"cd",
			5, 0, out, sizeof out);
	T_STR(out, "ab\\x1bc", "cr_term_str: cut to the buffer, escapes whole (%zu bytes)", n);
	n = cr_term_str("abcde\x1b", 6, 0, out, sizeof out);
	T_STR(out, "abcde", "cr_term_str: an escape that does not fit is left out, not cut");
	n = cr_term_str("abcde\xc3\xa9\xc3\xa9", 9, 0, out, sizeof out);
	T_STR(out, "abcde\xc3\xa9", "cr_term_str: a UTF-8 sequence that does not fit is left out, not cut");
	n = cr_term_str("abcdef\xc3\xa9", 8, 0, out, sizeof out);
	T_STR(out, "abcdef", "cr_term_str: ... also when only its first byte would fit");
	T_STR(cr_term_arg("two\nlines\x1b[8m"), "two\\nlines\\x1b[8m", "cr_term_arg: one line, escaped");
	T_STR(cr_term_arg(NULL), "?", "cr_term_arg: NULL is '?'");

	struct cr_err e;
	cr_fail(&e, "file '%s' refused",
		"evil\x1b]0;t\x07\r\n\xc2\x9b"
		"2J\x9b");
	T_STR(e.msg, "file 'evil\\x1b]0;t\\x07\\r\\n\\u009b2J\\x9b' refused",
	      "cr_fail: what an error quotes is shown escaped on one line");
	cr_err_wrap(&e, "outer");
	T_STR(e.msg, "outer: file 'evil\\x1b]0;t\\x07\\r\\n\\u009b2J\\x9b' refused",
	      "cr_err_wrap: escaping twice changes nothing");
	{
		char big[2000];
		memset(big, 0x1b, sizeof big - 1);
		big[sizeof big - 1] = 0;
		cr_fail(&e, "%s", big);
		T_OK(strlen(e.msg) < sizeof e.msg && strlen(e.msg) % 4 == 0 && clean(e.msg, 0),
		     "cr_fail: a long hostile message is cut at an escape boundary (%zu bytes)", strlen(e.msg));
	}
}

static void test_json_writer(void)
{
	char all[256 + 16];
	struct cr_buf b;
	struct json_w w;
	struct cr_err e = { 0 };
	struct json_doc d = { 0 };
	size_t n = 0;
	for (unsigned c = 1; c < 256; c++)
		all[n++] = (char)c;
	memcpy(all + n, "\xc2\x9b\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xae", 11);
	n += 11;
	cr_buf_init(&b, 1 << 16);
	jw_init(&w, &b, 0);
	jw_arr_begin(&w);
	jw_strn(&w, all, n);
	jw_arr_end(&w);
	T_OK(jw_finish(&w, &e) == 0, "JSON writer: a string of every byte 1..255, C1 and emoji is written");
	T_OK(clean((char *)b.p, 0), "JSON writer: no raw control character, DEL or C1, valid UTF-8");
	T_OK(strstr((char *)b.p, "\\u001b") && strstr((char *)b.p, "\\u007f") && strstr((char *)b.p, "\\u009b") &&
		     strstr((char *)b.p, "\\ufffd") && strstr((char *)b.p, "\xc3\xa9\xf0\x9f\x98\x80") &&
		     strstr((char *)b.p, "\\u202e") && !strstr((char *)b.p, "\xe2\x80\xae"),
	     "JSON writer: ESC, DEL, C1 and U+202E as \\u escapes, stray bytes as \\ufffd, é and emoji as they are");
	T_OK(json_parse((char *)b.p, b.len, NULL, &d, &e) == 0, "JSON writer: the result parses (%s)", e.msg);
	if (d.root) {
		const struct json_val *s = d.root->kids[0];
		T_OK(s->len > 0 && memcmp(s->str, "\x01\x02\x03", 3) == 0 &&
			     !memcmp(s->str + s->len - 11, "\xc2\x9b\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xae", 11),
		     "JSON writer: control characters, C1 and U+202E round-trip through the escapes");
		json_free(&d);
	}
	cr_buf_free(&b);
}

int main(void)
{
	test_every_byte();
	test_utf8();
	test_hostile();
	test_random();
	test_crlf();
	test_str_and_errors();
	test_json_writer();
	return t_done();
}
