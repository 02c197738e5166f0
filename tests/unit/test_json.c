/* base/json.c: writer output shapes and strict parsing. */
#include "tests/unit/check.h"
#include "base/json.h"

static int parses(const char *s)
{
	struct json_doc d;
	struct cr_err e;
	if (json_parse(s, strlen(s), NULL, &d, &e))
		return 0;
	json_free(&d);
	return 1;
}

static const char *roundtrip(const char *s, int pretty, struct cr_buf *b)
{
	struct json_doc d;
	struct json_w w;
	static struct cr_err e;
	cr_buf_init(b, 1 << 16);
	if (json_parse(s, strlen(s), NULL, &d, &e))
		return e.msg;
	jw_init(&w, b, pretty);
	jw_value(&w, d.root);
	json_free(&d);
	if (jw_finish(&w, &e))
		return e.msg;
	return (const char *)b->p;
}

int main(void)
{
	struct cr_buf b;
	struct json_w w;
	struct cr_err e;

	cr_buf_init(&b, 4096);
	jw_init(&w, &b, 1);
	jw_obj_begin(&w);
	jw_key(&w, "Measurements");
	jw_obj_begin(&w);
	jw_kstr(&w, "HashAlgorithm", "Sha384 { ... }");
	jw_khex(&w, "PCR0", (const uint8_t *)"\x01\xab", 2);
	jw_obj_end(&w);
	jw_key(&w, "Empty");
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	T_OK(jw_finish(&w, &e) == 0, "pretty writer finishes");
	T_STR((char *)b.p,
	      "{\n  \"Measurements\": {\n    \"HashAlgorithm\": \"Sha384 { ... }\",\n    \"PCR0\": \"01ab\"\n  },\n  "
	      "\"Empty\": []\n}",
	      "pretty output matches serde_json's layout");
	cr_buf_free(&b);

	cr_buf_init(&b, 4096);
	jw_init(&w, &b, 0);
	jw_obj_begin(&w);
	jw_kstr(&w, "s", "a\"b\\c\n\x01");
	jw_ku64(&w, "n", 18446744073709551615ull);
	jw_key(&w, "x");
	jw_i64(&w, -5);
	jw_obj_end(&w);
	T_OK(jw_finish(&w, &e) == 0, "compact writer finishes");
	T_STR((char *)b.p, "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":18446744073709551615,\"x\":-5}",
	      "compact output escapes");
	cr_buf_free(&b);

	cr_buf_init(&b, 8);
	jw_init(&w, &b, 0);
	jw_str(&w, "longer than eight");
	T_OK(jw_finish(&w, &e) == -1 && strstr(e.msg, "limit"), "writer reports a full buffer");
	cr_buf_free(&b);

	T_STR(roundtrip("{ \"a\" : [1, 2.5e3, -0, true, false, null, \"\\u00e9\\ud83d\\ude00\"] }", 0, &b),
	      "{\"a\":[1,2.5e3,-0,true,false,null,\"\xc3\xa9\xf0\x9f\x98\x80\"]}", "parse and re-emit keeps values");
	cr_buf_free(&b);

	T_OK(!parses("{\"a\":1,\"a\":2}"), "duplicate keys are rejected");
	{
		/* The first duplicate in the text is the one named, among many
		 * keys (sorted, not compared pairwise), and in nested objects. */
		struct json_limits lim = { 8u << 20, 8, 300000 };
		struct cr_buf big;
		struct json_doc d;
		cr_buf_init(&big, 8u << 20);
		cr_buf_put(&big, "{", 1, NULL);
		for (unsigned i = 0; i < 150000; i++) {
			char k[32];
			int n = snprintf(k, sizeof k, "%s\"k%u\":%u", i ? "," : "", i, i);
			cr_buf_put(&big, k, (size_t)n, NULL);
		}
		cr_buf_put(&big, "}", 1, NULL);
		T_OK(json_parse((const char *)big.p, big.len, &lim, &d, &e) == 0 && d.root->n == 150000,
		     "an object of 150,000 distinct keys parses (%s)", e.msg);
		if (d.root)
			json_free(&d);
		big.len--;
		cr_buf_put(&big, ",\"k77\":0,\"k5\":0}", 16, NULL);
		T_OK(json_parse((const char *)big.p, big.len, &lim, &d, &e) == -1 &&
			     strstr(e.msg, "duplicate key \"k77\" at byte "),
		     "... with two keys repeated at its end, the first repeated one is named (%s)", e.msg);
		cr_buf_free(&big);
		T_OK(!parses("{\"x\":{\"b\":1,\"a\":2,\"b\":3}}"), "a duplicate key in a nested object is rejected");
		T_OK(parses("{\"a\":{\"a\":1},\"b\":{\"a\":2}}"), "equal keys in different objects are fine");
	}
	T_OK(!parses("[1,]"), "trailing comma is rejected");
	T_OK(!parses("[01]"), "leading zero is rejected");
	T_OK(!parses("\"\\u0000\""), "escaped NUL is rejected");
	T_OK(!parses("\"\\ud800\""), "lone surrogate is rejected");
	T_OK(!parses("\"\xc0\xaf\""), "overlong UTF-8 is rejected");
	T_OK(!parses("{} x"), "trailing bytes are rejected");
	T_OK(!parses("\"abc"), "unterminated string is rejected");
	T_OK(!parses("\"abc\\"), "string ending in a backslash is rejected");
	T_OK(!parses(""), "empty input is rejected");
	{
		char deep[200];
		memset(deep, '[', 100);
		memset(deep + 100, ']', 100);
		struct json_doc d;
		T_OK(json_parse(deep, 200, NULL, &d, &e) == -1 && strstr(e.msg, "too deep"), "nesting limit holds");
	}
	{
		struct json_doc d;
		const char *s = "{\"k\":\"v\",\"n\":42}";
		T_OK(json_parse(s, strlen(s), NULL, &d, &e) == 0 && !strcmp(json_get_str(d.root, "k"), "v") &&
			     json_get(d.root, "n")->is_int && json_get(d.root, "n")->i == 42 && !json_get(d.root, "z"),
		     "lookup by key");
		json_free(&d);
	}
	/* Go's encoding/json folding: ASCII case, long s, Kelvin sign. */
	T_OK(json_key_fold_cmp("Cmd", "cmd") == 0 && json_key_fold_cmp("CMD", "cmd") == 0, "ASCII case folds");
	T_OK(json_key_fold_cmp("layer\xc5\xbf", "layers") == 0 && json_key_fold_cmp("Layer\xc5\xbf", "LAYERS") == 0,
	     "U+017F folds to s");
	T_OK(json_key_fold_cmp("\xe2\x84\xaa"
			       "ey",
			       "key") == 0,
	     "U+212A folds to k");
	T_OK(json_key_fold_cmp("Cmd", "Cmds") < 0 && json_key_fold_cmp("b", "A") > 0 &&
		     json_key_fold_cmp("\xc3\xa9", "\xc3\x89") != 0 && json_key_fold_cmp("s", "\xc5") != 0,
	     "other keys differ, in a consistent order");
	return t_done();
}
