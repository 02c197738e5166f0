/* base/cbor_read.c and base/cbor_write.c: exact encodings, the flat item
 * tree, and every rejection the reader promises; plus the time helpers of
 * base/util.c that the attestation code uses. */
#include "base/cbor_read.h"
#include "base/cbor_write.h"
#include "tests/unit/check.h"

static const struct cbr_limits lim = { .max_items = 64, .max_depth = 8 };

static const char *encoded(struct cr_buf *b, struct cbor_w *w)
{
	static char hex[256];
	static struct cr_err e;
	if (cw_finish(w, &e))
		return e.msg;
	cr_hex(b->p, b->len < 120 ? b->len : 120, hex);
	return hex;
}

static void test_writer(void)
{
	struct cr_buf b;
	struct cbor_w w;
	cr_buf_init(&b, 256);
#define ENC(stmt, want, name)         \
 do {                                 \
  b.len = 0;                          \
  cw_init(&w, &b);                    \
  stmt;                               \
  T_STR(encoded(&b, &w), want, name); \
 } while (0)
	ENC(cw_uint(&w, 23), "17", "uint 23 is one byte");
	ENC(cw_uint(&w, 24), "1818", "uint 24 takes 0x18");
	ENC(cw_uint(&w, 256), "190100", "uint 256 takes 0x19");
	ENC(cw_uint(&w, 65536), "1a00010000", "uint 65536 takes 0x1a");
	ENC(cw_uint(&w, 1ull << 32), "1b0000000100000000", "uint 2^32 takes 0x1b");
	ENC(cw_int(&w, -1), "20", "int -1");
	ENC(cw_int(&w, -35), "3822", "int -35 (ES384) is 38 22");
	ENC(cw_int(&w, -7), "26", "int -7 (ES256)");
	ENC(cw_text(&w, "index"), "65696e646578", "text");
	ENC(cw_bytes(&w, "\x01\x02", 2), "420102", "bytes");
	ENC((cw_map_indef(&w), cw_text(&w, "a"), cw_null(&w), cw_break(&w)), "bf6161f6ff", "indefinite map");
	ENC((cw_tag(&w, 18), cw_array(&w, 0)), "d280", "tag 18");
	ENC((cw_bool(&w, 1), cw_bool(&w, 0)), "f5f4", "booleans");
	cr_buf_free(&b);
	cr_buf_init(&b, 4);
	cw_init(&w, &b);
	cw_bytes(&w, "12345678", 8);
	cw_uint(&w, 1);
	T_OK(strstr(encoded(&b, &w), "limit of 4 bytes") != NULL, "the buffer limit is a sticky error");
	cr_buf_free(&b);
#undef ENC
}

/* Parse hex; "" when it parses, else the message. */
static const char *parse(const char *hex, struct cbr_doc *d)
{
	static struct cr_err e;
	static uint8_t buf[512];
	size_t n;
	if (cr_unhex_var(hex, buf, sizeof buf, &n))
		return "bad test hex";
	if (cbr_parse(buf, n, &lim, "test", d, &e))
		return e.msg;
	return "";
}

static void test_reader(void)
{
	struct cbr_doc d;
	const char *m;
	int64_t v;
	/* {"a": [1, -2, h'ff'], 1: {_ "b": null}, "c": 18(true)} */
	m = parse("a3616183012141ff01bf6162f6ff6163d2f5", &d);
	T_STR(m, "", "a nested document parses");
	if (!*m) {
		size_t a = cbr_map_find(&d, 0, "a"), one = cbr_map_find_int(&d, 0, 1), c = cbr_map_find(&d, 0, "c");
		T_OK(d.n == 13 && d.items[0].kind == CBR_MAP && d.items[0].v == 3 && d.items[0].end == 13,
		     "13 items; the root map spans them all");
		T_OK(a == 2 && d.items[a].kind == CBR_ARRAY && d.items[a].v == 3 && d.items[a].end == 6,
		     "\"a\" is the 3-element array at item 2");
		T_OK(!cbr_int(&d, 4, &v) && v == -2 && d.items[5].kind == CBR_BYTES && d.items[5].len == 1 &&
			     d.items[5].p[0] == 0xff,
		     "its elements: -2 and a byte string pointing into the input");
		T_OK(one != CBR_NONE && d.items[one].kind == CBR_MAP && d.items[one].indefinite &&
			     d.items[one].v == 1 && d.items[one].raw_len == 5,
		     "key 1 holds an indefinite map of one pair, 5 bytes with its break");
		T_OK(c != CBR_NONE && d.items[c].kind == CBR_TAG && d.items[c].v == 18 &&
			     d.items[c + 1].kind == CBR_BOOL,
		     "\"c\" is tag 18 around true");
		T_OK(cbr_map_find(&d, 0, "zz") == CBR_NONE && cbr_map_find(&d, a, "a") == CBR_NONE,
		     "missing keys and non-maps give CBR_NONE");
		{
			int pairs = 0;
			CBR_MAP_FOREACH(&d, 0, k, val)
			{
				(void)val;
				pairs++;
				(void)k;
			}
			T_OK(pairs == 3, "CBR_MAP_FOREACH visits 3 pairs");
		}
		cbr_free(&d);
	}
	m = parse("d2c6d48100", &d);
	T_STR(m, "", "one-byte tags 18, 6 and 20 parse (libcbor rejects 0xc6..0xd4 alone)");
	if (!*m) {
		T_OK(d.items[0].v == 18 && d.items[1].v == 6 && d.items[2].v == 20 && d.items[3].kind == CBR_ARRAY,
		     "... with the right tag numbers");
		cbr_free(&d);
	}
	m = parse("bf6178bf6179f6ff6161a0ff", &d);
	T_STR(m, "", "indefinite maps nest");
	if (!*m)
		cbr_free(&d);
	T_STR(parse("a20100180100", &d), "test: map at offset 0 has a duplicate key at offset 3",
	      "a duplicate integer key is refused, even encoded longer");
	T_STR(parse("a2616101616102", &d), "test: map at offset 0 has the key \"a\" twice",
	      "a duplicate text key is refused");
	T_STR(parse("a2820102f6820102f6", &d), "test: map at offset 0 has a duplicate key at offset 5",
	      "a duplicate array key is refused");
	m = parse("a2820102f6820201f6", &d);
	T_STR(m, "", "distinct array keys are fine");
	if (!*m)
		cbr_free(&d);
	T_STR(parse("", &d), "test: empty", "empty input");
	T_STR(parse("9f01", &d), "test: truncated at offset 2 (1 containers still open)", "a truncated array");
	T_STR(parse("8301", &d), "test: an array at offset 0 declares 3 elements but only 1 bytes remain",
	      "an array cut short");
	T_STR(parse("5a00000010", &d), "test: truncated at offset 0 (the item needs 21 bytes, 5 remain)",
	      "a truncated string");
	T_STR(parse("0100", &d), "test: 1 trailing bytes after the CBOR item (offset 1)", "trailing bytes");
	T_STR(parse("1c", &d), "test: malformed CBOR at offset 0 (initial byte 0x1c)", "a reserved initial byte");
	T_STR(parse("5f4101ff", &d), "test: indefinite-length string at offset 0 is not supported",
	      "chunked byte strings are refused");
	T_STR(parse("ff", &d), "test: unexpected break (0xff) at offset 0", "a break outside any container");
	T_STR(parse("8201ff", &d), "test: unexpected break (0xff) at offset 2", "a break inside a definite array");
	T_STR(parse("bf01ff", &d), "test: indefinite map at offset 0 ends after a key without a value",
	      "an indefinite map with a dangling key");
	T_STR(parse("9b000000010000000001", &d),
	      "test: an array at offset 0 declares 4294967296 elements but only 1 bytes remain",
	      "a declared size larger than the input allocates nothing");
	T_STR(parse("bb7fffffffffffffff01", &d),
	      "test: a map at offset 0 declares 9223372036854775807 elements but only 1 bytes remain",
	      "a huge map count does not overflow");
	T_STR(parse("818181818181818181818100", &d), "test: nesting deeper than 8 at offset 8", "nesting is bounded");
	{
		char hex[300] = "9840";
		for (int i = 0; i < 64; i++)
			strcat(hex, "00");
		T_STR(parse(hex, &d), "test: more than 64 CBOR items", "the item count is bounded");
	}
}

static void test_time(void)
{
	int64_t t;
	char s[32];
	T_OK(cr_days_from_civil(1970, 1, 1) == 0 && cr_days_from_civil(2000, 3, 1) == 11017 &&
		     cr_days_from_civil(1969, 12, 31) == -1,
	     "days from civil");
	T_OK(cr_parse_time("1684362463", &t) == 0 && t == 1684362463, "Unix seconds parse");
	T_OK(cr_parse_time("2023-05-17T22:27:43Z", &t) == 0 && t == 1684362463, "RFC 3339 with Z");
	T_OK(cr_parse_time("2023-05-18T00:27:43.999+02:00", &t) == 0 && t == 1684362463,
	     "RFC 3339 with fraction and offset");
	T_OK(cr_parse_time("2024-02-29T00:00:00z", &t) == 0 && t == 1709164800, "a leap day");
	T_OK(cr_parse_time("2023-02-29T00:00:00Z", &t) == -1, "no 29 February in 2023");
	T_OK(cr_parse_time("2023-05-17T22:27:43", &t) == -1 && cr_parse_time("2023-05-17", &t) == -1 &&
		     cr_parse_time("-5", &t) == -1 && cr_parse_time("2023-13-01T00:00:00Z", &t) == -1,
	     "no zone, no time, a sign or month 13 are refused");
	cr_time_format(1684362463, s);
	T_STR(s, "2023-05-17T22:27:43Z", "time formats as RFC 3339 UTC");
	T_OK(cr_date_valid(2000, 2, 29) && !cr_date_valid(1900, 2, 29) && !cr_date_valid(2023, 4, 31),
	     "date validity: 2000 leap, 1900 not, no 31 April");
}

int main(void)
{
	test_writer();
	test_reader();
	test_time();
	return t_done();
}
