/* The signed report (report/report.h, base/base64.h) and its verification
 * (host-tool/verify/bundle_verify.h): base64 vectors and strictness, the statement
 * (canonical, deterministic, round trip, rejections naming the field), DSSE,
 * SPKI against openssl's encoding, and report_make() on the host NSM model
 * verified end to end — then the tamper matrix, each case failing with its
 * named check. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/pem.h"
#include "host-tool/verify/bundle_verify.h"
#include "tests/unit/check.h"
#include "host-tool/run/nsm_ca.h"
#include "nsm/nsm_client.h"
#include "host-tool/run/nsm_model.h"
#include "report/report.h"

static char tmp[256];

/* --------------------------------------------------------------- base64 */

static void test_base64(void)
{
	/* bytes, standard, URL-safe padded, URL-safe unpadded */
	static const char *const vec[][4] = {
		{ "", "", "", "" },
		{ "f", "Zg==", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy", "Zm9vYmFy" },
		{ "\xfb\xff", "+/8=", "-_8=", "-_8" },
		{ "\xfb\xef\xbe", "++++", "----", "----" },
		{ "\xff\xff\xff\xff", "/////w==", "_____w==", "_____w" },
	};
	/* each refused, with why */
	static const char *const bad[][2] = {
		{ "Zg=", "padded length not a multiple of 4" },
		{ "Zg===", "three '='" },
		{ "Z===", "three '=' after one character" },
		{ "=Zg=", "'=' first" },
		{ "Zg==Zg==", "padding in the middle" },
		{ "Zm9v====", "a block of padding" },
		{ "Zg=a", "a character after '='" },
		{ "Zm8==", "two '=' where one belongs" },
		{ "Zm9vZ", "a lone final character (unpadded)" },
		{ "Zm9vZ===", "a lone final character (padded)" },
		{ "Zh==", "stray bits before '==' (standard)" },
		{ "Zm9=", "stray bits before '=' (standard)" },
		{ "Zh", "stray bits (URL-safe unpadded, 1 byte)" },
		{ "Zm9", "stray bits (URL-safe unpadded, 2 bytes)" },
		{ "-_9=", "stray bits before '=' (URL-safe padded)" },
		{ "+/8", "standard alphabet without its padding" },
		{ "+_8=", "alphabets mixed ('+' then '_')" },
		{ "-/8=", "alphabets mixed ('-' then '/')" },
		{ "Zm9v+_-/", "alphabets mixed across blocks" },
		{ "Zm9v ", "a trailing space" },
		{ " Zm9v", "a leading space" },
		{ "Zm\n9v", "a newline inside" },
		{ "Zm9v\r\n", "CRLF at the end" },
		{ "Zm\t9v", "a tab" },
		{ "Zm9v.", "a '.'" },
		{ "Zm9\xc3\xa9", "non-ASCII" },
		{ "Zm*v", "a '*'" },
	};
	struct cr_err e;
	for (size_t i = 0; i < sizeof vec / sizeof *vec; i++) {
		static const char *const form_name[] = { "standard", "URL-safe", "URL-safe unpadded" };
		for (int f = 0; f < 3; f++) {
			const char *text = vec[i][1 + f];
			struct cr_buf b;
			cr_buf_init(&b, 64);
			T_OK(base64_encode_form((const uint8_t *)vec[i][0], strlen(vec[i][0]), (enum base64_form)f, &b,
						&e) == 0 &&
				     b.len == strlen(text) && (!b.len || !memcmp(b.p, text, b.len)),
			     "base64: '%s' encodes as %s", text, form_name[f]);
			b.len = 0;
			T_OK(base64_decode(text, strlen(text), &b, "x", &e) == 0 && b.len == strlen(vec[i][0]) &&
				     (!b.len || !memcmp(b.p, vec[i][0], b.len)),
			     "base64: %s '%s' decodes", form_name[f], text);
			cr_buf_free(&b);
		}
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct cr_buf b;
		cr_buf_init(&b, 64);
		e.msg[0] = 0;
		T_OK(base64_decode(bad[i][0], strlen(bad[i][0]), &b, "field.x", &e) < 0 &&
			     !strncmp(e.msg, "field.x: ", 9),
		     "base64: %s is refused, naming the field (%s)", bad[i][1], e.msg);
		cr_buf_free(&b);
	}
	{
		struct cr_buf b;
		cr_buf_init(&b, 64);
		T_OK(base64_decode("Zm\0v", 4, &b, "f", &e) < 0, "base64: a NUL inside is refused");
		cr_buf_free(&b);
		cr_buf_init(&b, 2);
		T_OK(base64_decode("Zm9v", 4, &b, "f", &e) < 0, "base64: output beyond the limit is refused");
		cr_buf_free(&b);
	}
	{
		/* every length 0..48 and byte pattern round-trips in each form */
		int good = 1;
		for (size_t n = 0; n <= 48 && good; n++) {
			uint8_t in[48];
			for (size_t i = 0; i < n; i++)
				in[i] = (uint8_t)(i * 89 + n * 7 + 0xf0);
			for (int f = 0; f < 3 && good; f++) {
				struct cr_buf t, d;
				cr_buf_init(&t, 128);
				cr_buf_init(&d, 48);
				good = base64_encode_form(in, n, (enum base64_form)f, &t, &e) == 0 &&
				       base64_decode((const char *)t.p, t.len, &d, "x", &e) == 0 && d.len == n &&
				       (!n || !memcmp(d.p, in, n));
				if (f && t.len && (memchr(t.p, '+', t.len) || memchr(t.p, '/', t.len)))
					good = 0;
				if (f == 2 && t.len && memchr(t.p, '=', t.len))
					good = 0;
				cr_buf_free(&t);
				cr_buf_free(&d);
			}
		}
		T_OK(good, "base64: 0..48 bytes round-trip in all three forms (URL-safe without '+' '/', unpadded "
			   "without '=')");
	}
}

/* --------------------------------------------------------------- statement */

static void sample_statement(struct report_statement *s)
{
	static const char *argv[] = { "make", "-C", "src", "CFLAGS=-O2 \"quoted\" \\ back" };
	memset(s, 0, sizeof *s);
	s->nsubjects = 2;
	s->subjects[0].name = "bin/hello";
	s->subjects[1].name = "lib/libé.so";
	for (int i = 0; i < 32; i++)
		s->subjects[0].sha256[i] = (uint8_t)i, s->subjects[1].sha256[i] = (uint8_t)(0xff - i);
	for (int i = 0; i < 48; i++)
		s->subjects[0].sha384[i] = (uint8_t)(i * 3), s->subjects[1].sha384[i] = (uint8_t)(i * 7);
	for (size_t i = 0; i < 4; i++)
		s->argv[i] = argv[i];
	s->argc = 4;
	s->sde = 1700000000;
	memset(s->src_tree_sha1, 0x11, 20);
	memset(s->src_tree_sha256, 0x22, 32);
	s->src_files = 12;
	memset(s->deps_tree_sha256, 0x33, 32);
	s->deps_files = 0;
	s->limits = (struct wire_limits){ 3600, 2048, 4096, 256, 100000, 512, 0 };
	for (int p = 0; p < 3; p++)
		memset(s->pcr[p], 0xa0 + p, 48);
	s->init_version = "0.1.0";
	memset(s->log_sha256, 0x44, 32);
	s->log_bytes = 1234;
	s->started_ms = 1763900000123;
	s->finished_ms = 1763900004567;
	s->nonce_len = 32;
	memset(s->nonce, 0x55, 32);
}

/* Keys in bytewise order at every level, and no whitespace between tokens. */
static int sorted(const struct json_val *v)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->type == JSON_OBJECT && i > 0 && strcmp(v->keys[i - 1], v->keys[i]) >= 0)
			return 0;
		if ((v->type == JSON_OBJECT || v->type == JSON_ARRAY) && !sorted(v->kids[i]))
			return 0;
	}
	return 1;
}

static void test_statement(void)
{
	struct report_statement *s = calloc(1, sizeof *s);
	struct report_parsed *p = calloc(1, sizeof *p);
	struct cr_buf a, b;
	struct cr_err e;
	cr_buf_init(&a, REPORT_MAX_STATEMENT);
	cr_buf_init(&b, REPORT_MAX_STATEMENT);
	sample_statement(s);
	T_OK(report_statement_encode(s, &a, &e) == 0, "statement: encodes (%s)", e.msg);
	T_OK(report_statement_encode(s, &b, &e) == 0 && a.len == b.len && !memcmp(a.p, b.p, a.len),
	     "statement: the same facts give the same bytes");
	T_OK(report_statement_parse(a.p, a.len, p, &e) == 0, "statement: parses back (%s)", e.msg);
	T_OK(sorted(p->doc.root), "statement: canonical — object keys in bytewise order at every level");
	T_OK(!memchr(a.p, '\n', a.len) && !strstr((char *)a.p, ": ") && !strstr((char *)a.p, ", "),
	     "statement: canonical — compact, no whitespace between tokens");
	T_OK(strstr((char *)a.p, "\"_type\":\"https://in-toto.io/Statement/v1\"") &&
		     strstr((char *)a.p, "\"predicateType\":\"https://slsa.dev/provenance/v1\""),
	     "statement: in-toto Statement v1 with a SLSA Provenance v1 predicate");
	T_OK(strstr((char *)a.p, "\"startedOn\":\"2025-11-23T12:13:20.123Z\"") &&
		     strstr((char *)a.p, "\"finishedOn\":\"2025-11-23T12:13:24.567Z\""),
	     "statement: times are RFC 3339 UTC with milliseconds");
	{
		const struct report_statement *q = &p->st;
		int same = q->nsubjects == 2 && !strcmp(q->subjects[1].name, "lib/libé.so") &&
			   !memcmp(q->subjects[1].sha384, s->subjects[1].sha384, 48) && q->argc == 4 &&
			   !strcmp(q->argv[3], s->argv[3]) && q->sde == s->sde &&
			   !memcmp(q->src_tree_sha1, s->src_tree_sha1, 20) && q->src_files == 12 &&
			   !memcmp(q->deps_tree_sha256, s->deps_tree_sha256, 32) && q->limits.output_mb == 512 &&
			   q->limits.timeout_s == 3600 && !memcmp(q->pcr[2], s->pcr[2], 48) && q->log_bytes == 1234 &&
			   q->started_ms == s->started_ms && q->finished_ms == s->finished_ms && q->nonce_len == 32 &&
			   !memcmp(q->nonce, s->nonce, 32) && !strcmp(q->init_version, "0.1.0");
		T_OK(same, "statement: every field survives the round trip");
	}
	report_statement_free(p);

	/* The build type is an https URI of its definition in the repository,
	 * and resolvedDependencies names the source tree after the PCRs. */
	T_OK(strstr((char *)a.p, "\"buildType\":\"https://github.com/cleanroom-build/cleanroom/blob/main/"
				 "docs/build-type/v1.md\"") &&
		     strstr((char *)a.p, "\"builder\":{\"id\":\"https://github.com/cleanroom-build/cleanroom/blob/main/"
					 "docs/build-type/v1.md#builder\"") &&
		     !strstr((char *)a.p, "urn:"),
	     "statement: buildType and builder.id are the https URI of docs/build-type/v1.md");
	T_OK(strstr((char *)a.p, "{\"digest\":{\"sha384\":\"a2a2") &&
		     strstr((char *)a.p,
			    "\"name\":\"pcr2\"},{\"digest\":{\"gitTree\":\"1111111111111111111111111111111111111111\","
			    "\"gitTreeSha256\":\"22222222222222222222222222222222"
			    "22222222222222222222222222222222\"},\"name\":\"source\","
			    "\"uri\":\"" REPORT_BUILD_TYPE "#source\"}]") &&
		     !strstr((char *)a.p, "\"name\":\"deps\""),
	     "statement: resolvedDependencies: pcr0-2, then the source tree (both ids); no deps entry without deps");
	T_OK(report_statement_parse(a.p, a.len, p, &e) == 0 && p->st.build_type == REPORT_BT_V1,
	     "statement: parsed as the v1 build type (%s)", e.msg);
	report_statement_free(p);
	s->deps_files = 3;
	T_OK(report_statement_encode(s, &b, &e) == 0 &&
		     strstr((char *)b.p,
			    "\"name\":\"source\",\"uri\":\"" REPORT_SOURCE_URI
			    "\"},{\"digest\":{\"gitTreeSha256\":\"33333333333333333333333333333333"
			    "33333333333333333333333333333333\"},\"name\":\"deps\",\"uri\":\"" REPORT_DEPS_URI "\"}]"),
	     "statement: with deps, a deps entry (its gitTreeSha256) follows the source");
	T_OK(report_statement_parse(b.p, b.len, p, &e) == 0 && p->st.deps_files == 3 && sorted(p->doc.root),
	     "statement: ... it parses back, keys in canonical order (%s)", e.msg);
	report_statement_free(p);
	s->deps_files = 0;

	/* Rejections name the field: mutate the canonical text. */
	{
		static const struct {
			const char *from, *to, *want;
		} cases[] = {
			{ "\"_type\":\"https://in-toto.io/Statement/v1\"",
			  "\"_type\":\"https://in-toto.io/Statement/v0.1\"", "statement: _type: " },
			{ "\"predicateType\":\"https://slsa.dev/provenance/v1\"", "\"predicateType\":1",
			  "predicateType: wrong type" },
			{ "\"name\":\"lib/libé.so\"", "\"name\":\"bin/hello\"", "appears twice" },
			{ "\"sha256\":\"000102", "\"sha256\":\"0102", "subject[0].digest.sha256: not 32 bytes of hex" },
			{ "\"name\":\"pcr1\"", "\"name\":\"pcr9\"", "resolvedDependencies[1].name" },
			{ "\"sourceDateEpoch\":1700000000", "\"sourceDateEpoch\":-1",
			  "sourceDateEpoch: not a non-negative" },
			{ "\"startedOn\":\"2025-11-23T12:13:20.123Z\"", "\"startedOn\":\"2025-11-23T12:13:20Z\"",
			  "metadata.startedOn: not a time" },
			{ "\"command\":[\"make\"", "\"command\":[7", "command[0]: not a string" },
			{ "{\"_type\"", "{\"_type\":1,\"_type\"", "duplicate" },
			{ "\"buildType\":\"https://github.com/cleanroom-build/cleanroom/blob/main/docs/build-type/"
			  "v1.md\"",
			  "\"buildType\":\"https://example.com/build-type/v1\"",
			  "predicate.buildDefinition.buildType: \"https://example.com/build-type/v1\" is not a known "
			  "build "
			  "type" },
			{ "docs/build-type/v1.md\",\"externalParameters\"",
			  "docs/build-type/v2.md\",\"externalParameters\"",
			  "buildType: \"https://github.com/cleanroom-build/cleanroom/blob/main/docs/build-type/v2.md\" "
			  "is not "
			  "a known" },
			{ "\"id\":\"https://github.com/cleanroom-build/cleanroom/blob/main/docs/build-type/"
			  "v1.md#builder\"",
			  "\"id\":\"urn:cleanroom:builder:nitro-enclave:v1\"", "builder.id: \"urn:cleanroom:builder" },
			{ "\"gitTree\":\"1111111111111111111111111111111111111111\",\"gitTreeSha256\":\"2222",
			  "\"gitTree\":\"1111111111111111111111111111111111111112\",\"gitTreeSha256\":\"2222",
			  "resolvedDependencies[3].digest.gitTree: differs from externalParameters.source.gitTree" },
			{ "\"name\":\"source\",\"uri\":\"https", "\"name\":\"src\",\"uri\":\"https",
			  "resolvedDependencies[3].name: \"src\", expected \"source\"" },
			{ "v1.md#source\"", "v1.md#deps\"", "resolvedDependencies[3].uri" },
			{ ",{\"digest\":{\"gitTree\"", ",{\"x\":{\"gitTree\"",
			  "resolvedDependencies[3].digest: missing" },
			{ "\"deps\":{\"files\":0", "\"deps\":{\"files\":1",
			  "resolvedDependencies: 4 entries, expected pcr0, pcr1, pcr2, source, deps" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			char *text = strdup((char *)a.p), *at = strstr(text, cases[i].from), *mut;
			size_t fl = strlen(cases[i].from), tl = strlen(cases[i].to);
			if (!at) {
				T_OK(0, "statement: mutation %zu applies", i);
				free(text);
				continue;
			}
			mut = malloc(strlen(text) + tl + 1);
			memcpy(mut, text, (size_t)(at - text));
			memcpy(mut + (at - text), cases[i].to, tl);
			strcpy(mut + (at - text) + tl, at + fl);
			e.msg[0] = 0;
			T_OK(report_statement_parse((uint8_t *)mut, strlen(mut), p, &e) < 0 &&
				     strstr(e.msg, cases[i].want),
			     "statement: refused with '%s' (%s)", cases[i].want, e.msg);
			report_statement_free(p);
			free(mut);
			free(text);
		}
	}
	cr_buf_free(&a);
	cr_buf_free(&b);
	free(s);
	free(p);
}

/* Older reports: buildType and builder.id were urns and resolvedDependencies
 * only the PCRs. tests/unit/report-urn-v1-statement.json is what the encoder
 * of commit f8e0323 (before the https build type) wrote for
 * sample_statement(); encoding with REPORT_BT_URN_V1 remakes it byte for
 * byte. It still parses; the new shape's rules do not apply to it, and the
 * two shapes cannot be mixed. */
static void test_statement_urn_v1(void)
{
	struct report_statement *s = calloc(1, sizeof *s);
	struct report_parsed *p = calloc(1, sizeof *p);
	struct cr_buf a, f;
	struct cr_err e;
	cr_buf_init(&a, REPORT_MAX_STATEMENT);
	memset(&f, 0, sizeof f);
	T_OK(cr_read_file("tests/unit/report-urn-v1-statement.json", REPORT_MAX_STATEMENT, &f.p, &f.len, &e) == 0 &&
		     f.len > 0,
	     "urn-v1: the fixture of an older statement is there (%s)", e.msg);
	sample_statement(s);
	s->build_type = REPORT_BT_URN_V1;
	T_OK(report_statement_encode(s, &a, &e) == 0 && a.len == f.len && !memcmp(a.p, f.p, a.len),
	     "urn-v1: encoding the older build type remakes the fixture byte for byte");
	T_OK(report_statement_parse(f.p, f.len, p, &e) == 0 && p->st.build_type == REPORT_BT_URN_V1 &&
		     !memcmp(p->st.pcr[2], s->pcr[2], 48) && !memcmp(p->st.src_tree_sha1, s->src_tree_sha1, 20) &&
		     !strcmp(p->st.init_version, "0.1.0"),
	     "urn-v1: the older statement parses, as the older build type (%s)", e.msg);
	report_statement_free(p);
	{
		static const struct {
			const char *from, *to, *want;
		} cases[] = {
			/* the new builder id with the old build type */
			{ "\"id\":\"urn:cleanroom:builder:nitro-enclave:v1\"", "\"id\":\"" REPORT_BUILDER_ID "\"",
			  "builder.id: \"https://" },
			/* the new build type on the old shape (no source entry) */
			{ "\"buildType\":\"urn:cleanroom:build-type:nitro-enclave:v1\"",
			  "\"buildType\":\"" REPORT_BUILD_TYPE "\"",
			  "resolvedDependencies: 3 entries, expected pcr0, pcr1, pcr2, source" },
			{ "\"buildType\":\"urn:cleanroom:build-type:nitro-enclave:v1\"",
			  "\"buildType\":\"urn:cleanroom:build-type:nitro-enclave:v2\"",
			  "predicate.buildDefinition.buildType: \"urn:cleanroom:build-type:nitro-enclave:v2\" is not a "
			  "known" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			char *at = strstr((char *)f.p, cases[i].from), *mut;
			size_t fl = strlen(cases[i].from), tl = strlen(cases[i].to);
			if (!at) {
				T_OK(0, "urn-v1: mutation %zu applies", i);
				continue;
			}
			mut = malloc(f.len + tl + 1);
			memcpy(mut, f.p, (size_t)(at - (char *)f.p));
			memcpy(mut + (at - (char *)f.p), cases[i].to, tl);
			memcpy(mut + (at - (char *)f.p) + tl, at + fl, f.len - (size_t)(at - (char *)f.p) - fl);
			mut[f.len - fl + tl] = 0;
			e.msg[0] = 0;
			T_OK(report_statement_parse((uint8_t *)mut, strlen(mut), p, &e) < 0 &&
				     strstr(e.msg, cases[i].want),
			     "urn-v1: refused with '%s' (%s)", cases[i].want, e.msg);
			report_statement_free(p);
			free(mut);
		}
	}
	cr_buf_free(&a);
	free(f.p);
	free(s);
	free(p);
}

/* A log cut at its limit: the byproduct keeps the digest
 * and size of what was kept and says how much was dropped; a whole log's
 * byproduct is as before, and older statements parse. */
static void test_statement_truncated_log(void)
{
	struct report_statement *s = calloc(1, sizeof *s);
	struct report_parsed *p = calloc(1, sizeof *p);
	struct cr_buf a;
	struct cr_err e;
	cr_buf_init(&a, REPORT_MAX_STATEMENT);
	sample_statement(s);
	T_OK(report_statement_encode(s, &a, &e) == 0 &&
		     strstr((char *)a.p, "\"annotations\":{\"bytes\":1234},\"digest\"") &&
		     !strstr((char *)a.p, "logBytes"),
	     "log: a whole log's byproduct has only its size (as in older reports), no log limit recorded when none");
	s->log_bytes = 100000;
	s->log_dropped = 4321;
	s->limits.log_bytes = 100000;
	T_OK(report_statement_encode(s, &a, &e) == 0 &&
		     strstr((char *)a.p,
			    "\"annotations\":{\"bytes\":100000,\"droppedBytes\":4321,\"truncated\":true}") &&
		     strstr((char *)a.p, "\"files\":100000,\"logBytes\":100000,\"memoryMiB\""),
	     "log: a cut log's byproduct says truncated, with the bytes kept and dropped; the limit is recorded");
	T_OK(report_statement_parse(a.p, a.len, p, &e) == 0 && p->st.log_bytes == 100000 && p->st.log_dropped == 4321 &&
		     p->st.limits.log_bytes == 100000 && sorted(p->doc.root),
	     "log: ... it parses back, keys still in canonical order (%s)", e.msg);
	report_statement_free(p);
	{
		static const struct {
			const char *from, *to, *want;
		} cases[] = {
			{ "\"truncated\":true", "\"truncated\":false", "annotations.truncated: not true" },
			{ ",\"truncated\":true", "", "annotations.truncated: missing beside droppedBytes" },
			{ "\"droppedBytes\":4321,", "", "annotations.droppedBytes: missing beside truncated" },
			{ "\"droppedBytes\":4321", "\"droppedBytes\":0", "droppedBytes: 0 with truncated true" },
			{ "\"droppedBytes\":4321", "\"droppedBytes\":\"4321\"", "droppedBytes: wrong type" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			char *at = strstr((char *)a.p, cases[i].from), *mut;
			size_t fl = strlen(cases[i].from), tl = strlen(cases[i].to);
			if (!at) {
				T_OK(0, "log: mutation %zu applies", i);
				continue;
			}
			mut = malloc(a.len + tl + 1);
			memcpy(mut, a.p, (size_t)(at - (char *)a.p));
			memcpy(mut + (at - (char *)a.p), cases[i].to, tl);
			strcpy(mut + (at - (char *)a.p) + tl, at + fl);
			e.msg[0] = 0;
			T_OK(report_statement_parse((uint8_t *)mut, strlen(mut), p, &e) < 0 &&
				     strstr(e.msg, cases[i].want),
			     "log: refused with '%s' (%s)", cases[i].want, e.msg);
			report_statement_free(p);
			free(mut);
		}
	}
	cr_buf_free(&a);
	free(s);
	free(p);
}

/* A statement at the wire limits (64 outputs with 4 KiB paths, 64 KiB of
 * argv) encodes, parses, and its bundle (with the largest attestation
 * document) fits one result frame; one whose argv is all control characters
 * (6 bytes each in JSON) is over REPORT_MAX_STATEMENT and refused, naming it. */
static void test_statement_limits(void)
{
	struct report_statement *s = calloc(1, sizeof *s);
	struct report_parsed *p = calloc(1, sizeof *p);
	static char names[WIRE_MAX_OUTPUTS][WIRE_MAX_PATH + 1];
	static char args[WIRE_MAX_ARGS][WIRE_MAX_ARGV_BYTES / WIRE_MAX_ARGS];
	static uint8_t doc[ATT_DOC_MAX], sig[REPORT_SIG_MAX];
	struct cr_buf st, b;
	struct cr_err e;
	sample_statement(s);
	for (int i = 0; i < WIRE_MAX_OUTPUTS; i++) {
		memset(names[i], 'a' + i % 26, WIRE_MAX_PATH);
		names[i][0] = (char)('A' + i / 26);
		names[i][1] = (char)('A' + i % 26);
		s->subjects[i].name = names[i];
	}
	s->nsubjects = WIRE_MAX_OUTPUTS;
	for (int i = 0; i < WIRE_MAX_ARGS; i++) {
		memset(args[i], 'x', sizeof args[i] - 1);
		s->argv[i] = args[i];
	}
	s->argc = WIRE_MAX_ARGS;
	cr_buf_init(&st, REPORT_MAX_STATEMENT);
	cr_buf_init(&b, REPORT_MAX_BUNDLE);
	T_OK(report_statement_encode(s, &st, &e) == 0, "limits: the largest statement encodes (%s)", e.msg);
	T_OK(report_statement_parse(st.p, st.len, p, &e) == 0 && p->st.nsubjects == WIRE_MAX_OUTPUTS &&
		     p->st.argc == WIRE_MAX_ARGS,
	     "limits: ... and parses back (%s)", e.msg);
	report_statement_free(p);
	T_OK(report_bundle_encode(st.p, st.len, sig, sizeof sig,
				  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", doc, sizeof doc,
				  &b, &e) == 0 &&
		     b.len <= WIRE_MAX_BUNDLE,
	     "limits: its bundle with the largest document fits a result frame (%s)", e.msg);
	for (int i = 0; i < WIRE_MAX_ARGS; i++)
		memset(args[i], 0x01, sizeof args[i] - 1);
	e.msg[0] = 0;
	T_OK(report_statement_encode(s, &st, &e) < 0 && strstr(e.msg, "statement: ") && strstr(e.msg, "655360"),
	     "limits: a statement over the limit is refused, naming it (%s)", e.msg);
	cr_buf_free(&st);
	cr_buf_free(&b);
	free(s);
	free(p);
}

/* --------------------------------------------------------------- DSSE / SPKI */

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* One curve: openssl's key, our SPKI against openssl's DER, our DSSE
 * signature checked by openssl with the curve's hash (dgst). */
static void dsse_spki_case(const char *ossl_curve, const char *dgst, int curve, size_t spki_len)
{
	char cmd[1024], path[512];
	struct ec_key k, other;
	uint8_t spki[REPORT_SPKI_MAX], sig[REPORT_SIG_MAX], *der = NULL, seed[48] = { 1 };
	size_t sig_len, der_len, n = 0;
	struct ec_pub back;
	struct cr_err e;
	const char *msg = "{\"x\":1}", *name = ec_curve_name(curve);
	snprintf(cmd, sizeof cmd,
		 "cd %s && openssl ecparam -name %s -genkey -noout -out k.pem 2>/dev/null && "
		 "openssl ec -in k.pem -pubout -outform DER -out pub.der 2>/dev/null && "
		 "openssl ec -in k.pem -pubout -out pub.pem 2>/dev/null",
		 tmp, ossl_curve);
	if (sh(cmd)) {
		T_OK(0, "openssl makes a %s key", name);
		return;
	}
	snprintf(path, sizeof path, "%s/k.pem", tmp);
	e.msg[0] = 0;
	T_OK(ec_key_load(&k, path, &e) == 0 && k.pub.curve == curve, "an openssl %s key loads (%s)", name, e.msg);
	snprintf(path, sizeof path, "%s/pub.der", tmp);
	cr_read_file(path, 4096, &der, &der_len, &e);
	T_OK(report_spki_encode(&k.pub, spki, &n, &e) == 0 && der && n == spki_len && der_len == n &&
		     !memcmp(der, spki, der_len),
	     "SPKI %s: our DER SubjectPublicKeyInfo (%zu bytes) is byte for byte openssl's", name, spki_len);
	T_OK(report_spki_decode(spki, n, &back, &e) == 0 && back.curve == curve && back.q_len == k.pub.q_len &&
		     !memcmp(back.q, k.pub.q, back.q_len),
	     "SPKI %s: decodes back to the same curve and point", name);
	{
		/* PEM of it (what verify --key-out writes) is openssl's -pubout text */
		char pem[BV_KEY_PEM_MAX];
		uint8_t *opem = NULL;
		size_t olen = 0, plen = pem_encode("PUBLIC KEY", spki, n, pem, sizeof pem);
		snprintf(path, sizeof path, "%s/pub.pem", tmp);
		cr_read_file(path, 4096, &opem, &olen, &e);
		T_OK(plen && opem && plen == olen && !memcmp(pem, opem, olen), "PEM %s: the key's PEM is openssl's",
		     name);
		T_OK(pem_encode("PUBLIC KEY", spki, n, pem, plen) == 0, "PEM %s: a buffer one byte short is refused",
		     name);
		free(opem);
	}
	spki[5] ^= 1;
	T_OK(report_spki_decode(spki, n, &back, &e) < 0 && strstr(e.msg, "public_key"),
	     "SPKI %s: another algorithm OID is refused", name);
	spki[5] ^= 1;
	T_OK(report_spki_decode(spki, n - 1, &back, &e) < 0, "SPKI %s: a short one is refused", name);
	free(der);

	T_OK(report_dsse_sign(&k, (const uint8_t *)msg, strlen(msg), sig, &sig_len, &e) == 0 && sig_len <= 104,
	     "DSSE %s: signs (a DER signature of at most 104 bytes)", name);
	T_OK(report_dsse_verify(&k.pub, (const uint8_t *)msg, strlen(msg), sig, sig_len, &e) == 0,
	     "DSSE %s: the signature verifies", name);
	{
		/* openssl checks it over PAE built by printf: the encoding is the spec's */
		FILE *f;
		snprintf(path, sizeof path, "%s/sig.der", tmp);
		f = fopen(path, "wb");
		fwrite(sig, 1, sig_len, f);
		fclose(f);
		snprintf(cmd, sizeof cmd,
			 "cd %s && printf 'DSSEv1 %%d %%s %%d %%s' %zu '%s' %zu '%s' > pae.bin && "
			 "openssl dgst -%s -verify pub.pem -signature sig.der pae.bin >/dev/null",
			 tmp, strlen(REPORT_PAYLOAD_TYPE), REPORT_PAYLOAD_TYPE, strlen(msg), msg, dgst);
		T_OK(sh(cmd) == 0, "DSSE %s: openssl verifies our signature over PAE with %s", name, dgst);
	}
	T_OK(report_dsse_verify(&k.pub, (const uint8_t *)"{\"x\":2}", 7, sig, sig_len, &e) < 0,
	     "DSSE %s: another payload does not verify", name);
	sig[sig_len - 1] ^= 1;
	T_OK(report_dsse_verify(&k.pub, (const uint8_t *)msg, strlen(msg), sig, sig_len, &e) < 0 &&
		     strstr(e.msg, report_dsse_alg(curve)),
	     "DSSE %s: a flipped signature byte does not verify (%s)", name, e.msg);
	sig[sig_len - 1] ^= 1;
	ec_key_generate(&other, curve, seed, sizeof seed, &e);
	T_OK(report_dsse_verify(&other.pub, (const uint8_t *)msg, strlen(msg), sig, sig_len, &e) < 0,
	     "DSSE %s: another key does not verify", name);
	{
		/* the key's curve decides the hash: the same key signing the PAE
		 * hashed with the other curve's hash is refused */
		const br_hash_class *wrong = curve == BR_EC_secp256r1 ? &br_sha384_vtable : &br_sha256_vtable;
		br_hash_compat_context h;
		uint8_t hash[64];
		char head[96];
		br_ec_private_key sk = ec_key_br(&k);
		int hn = snprintf(head, sizeof head, "DSSEv1 %zu %s %zu ", strlen(REPORT_PAYLOAD_TYPE),
				  REPORT_PAYLOAD_TYPE, strlen(msg));
		wrong->init(&h.vtable);
		wrong->update(&h.vtable, head, (size_t)hn);
		wrong->update(&h.vtable, msg, strlen(msg));
		wrong->out(&h.vtable, hash);
		sig_len = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), wrong, hash, &sk, sig);
		T_OK(sig_len && report_dsse_verify(&k.pub, (const uint8_t *)msg, strlen(msg), sig, sig_len, &e) < 0,
		     "DSSE %s: the key's own signature over PAE hashed with %s is refused", name,
		     curve == BR_EC_secp256r1 ? "SHA-384" : "SHA-256");
	}
}

static void test_dsse_spki(void)
{
	struct ec_key other;
	uint8_t sig[REPORT_SIG_MAX], seed[48] = { 1 };
	size_t sig_len;
	struct cr_err e;
	dsse_spki_case("prime256v1", "sha256", BR_EC_secp256r1, 91);
	dsse_spki_case("secp384r1", "sha384", BR_EC_secp384r1, 120);
	ec_key_generate(&other, BR_EC_secp521r1, seed, sizeof seed, &e);
	T_OK(report_dsse_sign(&other, (const uint8_t *)"{}", 2, sig, &sig_len, &e) < 0 &&
		     strstr(e.msg, "P-256 or P-384"),
	     "DSSE: a P-521 key is refused for signing");
	T_OK(report_dsse_verify(&other.pub, (const uint8_t *)"{}", 2, sig, 8, &e) < 0 &&
		     strstr(e.msg, "P-521, not P-256 or P-384"),
	     "DSSE: a P-521 key is refused for verifying");
	{
		uint8_t spki[REPORT_SPKI_MAX];
		size_t n;
		T_OK(report_spki_encode(&other.pub, spki, &n, &e) < 0, "SPKI: a P-521 key is not encoded");
	}
}

/* --------------------------------------------------------------- end to end */

struct model_ctx {
	struct nsm_model m;
	struct cr_buf out;
};

static int model_transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len,
			   struct cr_err *e)
{
	struct model_ctx *mc = ctx;
	mc->out.len = 0;
	nsm_model_handle(&mc->m, req, req_len, &mc->out, e);
	if (mc->out.len > *resp_len)
		return cr_fail(e, "response too large");
	memcpy(resp, mc->out.p, mc->out.len);
	*resp_len = mc->out.len;
	return 0;
}

/* The model, except that call number fault_at (1-based) of a session gets
 * fault_bytes instead of the model's answer: an NSM that fails mid-report. */
static int fault_at, calls;
static const uint8_t *fault_bytes;
static size_t fault_len;

static int faulty_transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len,
			    struct cr_err *e)
{
	if (++calls == fault_at) {
		memcpy(resp, fault_bytes, fault_len);
		*resp_len = fault_len;
		return 0;
	}
	return model_transport(ctx, req, req_len, resp, resp_len, e);
}

static void test_nsm_faults(struct model_ctx *mc)
{
	/* {"Error": "InternalError"}, as the NSM answers a failed operation */
	static const uint8_t internal_error[] = { 0xa1, 0x65, 'E', 'r', 'r', 'o', 'r', 0x6d, 'I', 'n', 't',
						  'e',  'r',  'n', 'a', 'l', 'E', 'r', 'r',  'o', 'r' };
	static const uint8_t garbage[] = { 0xff, 0x00, 0x13, 0x37 };
	/* report_make's calls: DescribePCR 0, 1, 2, GetRandom, Attestation */
	static const struct {
		int at;
		const uint8_t *bytes;
		size_t len;
		const char *want;
	} cases[] = {
		{ 1, internal_error, sizeof internal_error, "PCR0: NSM DescribePCR: InternalError" },
		{ 4, internal_error, sizeof internal_error, "NSM GetRandom: InternalError" },
		{ 5, internal_error, sizeof internal_error, "NSM Attestation: InternalError" },
		{ 5, garbage, sizeof garbage, "NSM response to Attestation: " },
		{ 3, garbage, sizeof garbage, "PCR2: NSM response to DescribePCR: " },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct nsm_client *c = calloc(1, sizeof *c);
		struct report_statement *s = calloc(1, sizeof *s);
		struct cr_buf out;
		struct cr_err e;
		int rc;
		sample_statement(s);
		cr_buf_init(&out, REPORT_MAX_BUNDLE);
		calls = 0;
		fault_at = cases[i].at;
		fault_bytes = cases[i].bytes;
		fault_len = cases[i].len;
		nsm_client_init(c, faulty_transport, mc);
		e.msg[0] = 0;
		rc = report_make(c, s, &out, &e);
		T_OK(rc < 0 && out.len == 0 && !strncmp(e.msg, cases[i].want, strlen(cases[i].want)),
		     "NSM fault: %s at call %d: no bundle, the step named (%s)",
		     cases[i].bytes == garbage ? "garbage" : "an Error answer", cases[i].at, e.msg);
		cr_buf_free(&out);
		free(c);
		free(s);
	}
}

static char art_path[2][512];
static const char *art_paths[2] = { art_path[0], art_path[1] };

/* Set to make the next bundles' log cut at 100000 bytes with this many dropped. */
static uint64_t bundle_log_dropped;
static enum report_build_type bundle_build_type;
/* Set to BR_EC_secp384r1 to make the next bundles as older enclaves did:
 * a P-384 key, SHA-384 signature, keyid "". */
static int bundle_curve;

/* A bundle for two artifacts with contents c0, c1, from the model. */
static int make_bundle(struct model_ctx *mc, const char *c0, const char *c1, uint8_t nonce_byte, struct cr_buf *out)
{
	struct nsm_client *c = calloc(1, sizeof *c);
	struct report_statement *s = calloc(1, sizeof *s);
	const char *cs[2] = { c0, c1 };
	struct cr_err e;
	int rc;
	sample_statement(s);
	s->build_type = bundle_build_type;
	if (bundle_log_dropped) {
		s->log_bytes = s->limits.log_bytes = 100000;
		s->log_dropped = bundle_log_dropped;
	}
	memset(s->pcr, 0, sizeof s->pcr); /* report_make reads them from the NSM */
	memset(s->nonce, nonce_byte, 32);
	for (int i = 0; i < 2; i++) {
		br_sha256_context h2;
		br_sha384_context h3;
		br_sha256_init(&h2);
		br_sha256_update(&h2, cs[i], strlen(cs[i]));
		br_sha256_out(&h2, s->subjects[i].sha256);
		br_sha384_init(&h3);
		br_sha384_update(&h3, cs[i], strlen(cs[i]));
		br_sha384_out(&h3, s->subjects[i].sha384);
	}
	s->subjects[1].name = "lib/libx.so";
	nsm_client_init(c, model_transport, mc);
	rc = bundle_curve ? report_make_with(c, s, bundle_curve, "", out, &e) : report_make(c, s, out, &e);
	if (rc)
		printf("# report_make: %s\n", e.msg);
	free(c);
	free(s);
	return rc;
}

static void write_file(const char *path, const char *data)
{
	struct cr_err e;
	cr_write_file_atomic(path, data, strlen(data), 0644, &e);
}

/* Verify and return the status of the named check ('-' when absent);
 * *verified gets the overall outcome. */
static char run_verify(const struct cr_buf *b, const struct bv_policy *pol, const char *check, int *verified)
{
	struct bv_result *r = calloc(1, sizeof *r);
	char st = '-';
	*verified = bundle_verify(b->p, b->len, pol, r) == 0;
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->checks[i].name, check))
			st = "pfs"[r->checks[i].status];
	if (!*verified && st != 'f')
		for (size_t i = 0; i < r->n; i++)
			if (r->checks[i].status == BV_FAIL)
				printf("# failed: %s: %s\n", r->checks[i].name, r->checks[i].detail);
	bv_result_free(r);
	free(r);
	return st;
}

/* ------------------------------------------------------------- envelopes */

/* A bundle like report_bundle_encode's, with the envelope's signatures
 * given (sigs[i] of lens[i] bytes, keyids[i] or NULL for none) and every
 * binary field in the given base64 form. */
static void env_encode(const struct report_bundle *rb, const uint8_t *const *sigs, const size_t *lens,
		       const char *const *keyids, size_t n, enum base64_form form, struct cr_buf *out)
{
	struct json_w w;
	struct cr_buf enc;
	struct cr_err e;
	cr_buf_init(&enc, REPORT_MAX_BUNDLE);
	out->len = 0;
	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	base64_encode_form(rb->attestation.p, rb->attestation.len, form, &enc, &e);
	jw_key(&w, "attestation");
	jw_strn(&w, (const char *)enc.p, enc.len);
	jw_key(&w, "dsseEnvelope");
	jw_obj_begin(&w);
	enc.len = 0;
	base64_encode_form(rb->statement.p, rb->statement.len, form, &enc, &e);
	jw_key(&w, "payload");
	jw_strn(&w, (const char *)enc.p, enc.len);
	jw_kstr(&w, "payloadType", REPORT_PAYLOAD_TYPE);
	jw_key(&w, "signatures");
	jw_arr_begin(&w);
	for (size_t i = 0; i < n; i++) {
		jw_obj_begin(&w);
		if (keyids[i])
			jw_kstr(&w, "keyid", keyids[i]);
		enc.len = 0;
		base64_encode_form(sigs[i], lens[i], form, &enc, &e);
		jw_key(&w, "sig");
		jw_strn(&w, (const char *)enc.p, enc.len);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_kstr(&w, "mediaType", REPORT_BUNDLE_MEDIA_TYPE);
	jw_obj_end(&w);
	if (jw_finish(&w, &e))
		printf("# env_encode: %s\n", e.msg);
	cr_buf_free(&enc);
}

/* Verify; *verified, the status of 'signature' and of 'bundle', the
 * number of "signature[i]" entries listed as ignored, and the JSON. */
struct env_out {
	int verified;
	char sig, bundle;
	size_t ignored;
	char first[600];
	char json[8192];
};

static void env_verify(const struct cr_buf *b, const struct bv_policy *pol, struct env_out *o)
{
	struct bv_result *r = calloc(1, sizeof *r);
	struct cr_buf j;
	struct json_w w;
	struct cr_err e;
	memset(o, 0, sizeof *o);
	o->sig = o->bundle = '-';
	o->verified = bundle_verify(b->p, b->len, pol, r) == 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!strcmp(r->checks[i].name, "signature"))
			o->sig = "pfs"[r->checks[i].status];
		if (!strcmp(r->checks[i].name, "bundle"))
			o->bundle = "pfs"[r->checks[i].status];
		if (!strncmp(r->checks[i].name, "signature[", 10) && r->checks[i].status == BV_SKIP &&
		    strstr(r->checks[i].detail, "ignored"))
			o->ignored++;
	}
	bv_first_failure(r, o->first, sizeof o->first);
	cr_buf_init(&j, 1 << 20);
	jw_init(&w, &j, 0);
	jw_obj_begin(&w);
	bv_write_json(r, &w);
	jw_obj_end(&w);
	if (jw_finish(&w, &e) == 0) {
		/* only the "signatures" member: the rest is long */
		const char *s = strstr((const char *)j.p, "\"signatures\":");
		snprintf(o->json, sizeof o->json, "%.*s", s ? (int)strcspn(s, "]") + 1 : 0, s ? s : "");
	}
	cr_buf_free(&j);
	bv_result_free(r);
	free(r);
}

static void test_envelopes(const struct cr_buf *b, const struct bv_policy *pol)
{
	struct report_bundle rb;
	struct ec_key other;
	struct env_out o;
	struct cr_buf t;
	struct cr_err e;
	uint8_t seed[48], fsig[REPORT_SIG_MAX], big[REPORT_ENV_SIG_MAX + 1];
	size_t flen;
	const uint8_t *sigs[REPORT_MAX_SIGS + 1];
	size_t lens[REPORT_MAX_SIGS + 1];
	const char *ids[REPORT_MAX_SIGS + 1];

	if (report_bundle_parse(b->p, b->len, &rb, &e)) {
		T_OK(0, "envelopes: the bundle parses (%s)", e.msg);
		return;
	}
	T_OK(rb.nsigs == 1, "envelopes: the enclave's bundle carries one signature");
	memset(seed, 0x5a, sizeof seed);
	if (ec_key_generate(&other, BR_EC_secp384r1, seed, sizeof seed, &e) ||
	    report_dsse_sign(&other, rb.statement.p, rb.statement.len, fsig, &flen, &e)) {
		T_OK(0, "envelopes: a foreign P-384 signature over the statement (%s)", e.msg);
		report_bundle_free(&rb);
		return;
	}
	memset(big, 0xab, sizeof big);
	cr_buf_init(&t, REPORT_MAX_BUNDLE);
	const uint8_t *real = rb.sigs[0].sig.p;
	size_t rlen = rb.sigs[0].sig.len;

	/* the same envelope in each base64 form */
	sigs[0] = real, lens[0] = rlen, ids[0] = "";
	env_encode(&rb, sigs, lens, ids, 1, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified && o.ignored == 0, "envelope: re-encoded in standard base64, it verifies");
	env_encode(&rb, sigs, lens, ids, 1, BASE64_URL, &t);
	T_OK(memchr(t.p, '-', t.len) || memchr(t.p, '_', t.len), "envelope: the URL-safe text has '-' or '_' in it");
	env_verify(&t, pol, &o);
	T_OK(o.verified, "envelope: re-encoded in URL-safe base64 (padded), it verifies (%s)", o.first);
	env_encode(&rb, sigs, lens, ids, 1, BASE64_URL_NOPAD, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified, "envelope: re-encoded in URL-safe base64 without padding, it verifies (%s)", o.first);
	{
		/* one '_' of the URL text turned into '/': mixed alphabets */
		uint8_t *u;
		env_encode(&rb, sigs, lens, ids, 1, BASE64_URL, &t);
		u = memchr(t.p, '_', t.len);
		if (!u)
			u = memchr(t.p, '-', t.len);
		*u = *u == '_' ? '/' : '+';
		env_verify(&t, pol, &o);
		T_OK(!o.verified && o.bundle == 'f' && strstr(o.first, "mixes the standard and URL-safe"),
		     "envelope: a field mixing the two alphabets fails 'bundle' (%s)", o.first);
	}
	ids[0] = NULL;
	env_encode(&rb, sigs, lens, ids, 1, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified, "envelope: a signature without keyid verifies (keyid is optional)");

	/* several signatures */
	sigs[0] = fsig, lens[0] = flen, ids[0] = "other-key";
	sigs[1] = real, lens[1] = rlen, ids[1] = "";
	env_encode(&rb, sigs, lens, ids, 2, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified && o.sig == 'p' && o.ignored == 1,
	     "envelope: a foreign signature before the real one: verified, 1 ignored");
	T_OK(strstr(o.json, "{\"index\":0,\"keyid\":\"other-key\",\"status\":\"ignored\"}") &&
		     strstr(o.json, "{\"index\":1,\"keyid\":\"\",\"status\":\"used\"}"),
	     "envelope: --json lists signatures[0] ignored and [1] used: %s", o.json);
	sigs[0] = real, lens[0] = rlen, ids[0] = "";
	sigs[1] = fsig, lens[1] = flen, ids[1] = "other-key";
	sigs[2] = big, lens[2] = 512, ids[2] = "rsa-4096";
	env_encode(&rb, sigs, lens, ids, 3, BASE64_URL, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified && o.ignored == 2,
	     "envelope: the real one first, then a foreign P-384 and a 512-byte (RSA-sized) one, URL-safe: verified, 2 "
	     "ignored (%s)",
	     o.first);
	sigs[1] = real, lens[1] = rlen, ids[1] = "again";
	env_encode(&rb, sigs, lens, ids, 2, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified && o.ignored == 1 && strstr(o.json, "\"status\":\"used\"") &&
		     strstr(o.json, "{\"index\":1,\"keyid\":\"again\",\"status\":\"ignored\"}"),
	     "envelope: the valid signature twice: verified, the second listed as ignored");
	sigs[0] = fsig, lens[0] = flen, ids[0] = "a";
	sigs[1] = fsig, lens[1] = flen, ids[1] = "b";
	env_encode(&rb, sigs, lens, ids, 2, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(!o.verified && o.sig == 'f' && strstr(o.first, "signature: none of the 2 signatures verifies"),
	     "envelope: only foreign signatures fail 'signature' (%s)", o.first);
	env_encode(&rb, sigs, lens, ids, 1, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(!o.verified && o.sig == 'f' && strstr(o.first, "signature: "),
	     "envelope: a single foreign signature fails 'signature' (%s)", o.first);

	/* the bound on the number of signatures */
	for (size_t i = 0; i < REPORT_MAX_SIGS + 1; i++)
		sigs[i] = fsig, lens[i] = flen, ids[i] = "other";
	sigs[REPORT_MAX_SIGS - 1] = real, lens[REPORT_MAX_SIGS - 1] = rlen;
	env_encode(&rb, sigs, lens, ids, REPORT_MAX_SIGS, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(o.verified && o.ignored == REPORT_MAX_SIGS - 1,
	     "envelope: %d signatures, the real one last: verified, %d ignored", REPORT_MAX_SIGS, REPORT_MAX_SIGS - 1);
	sigs[REPORT_MAX_SIGS] = real, lens[REPORT_MAX_SIGS] = rlen;
	env_encode(&rb, sigs, lens, ids, REPORT_MAX_SIGS + 1, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(!o.verified && o.bundle == 'f' &&
		     strstr(o.first, "dsseEnvelope.signatures: 17 signatures; 1 to 16 are accepted"),
	     "envelope: %d signatures fail 'bundle' with the count (%s)", REPORT_MAX_SIGS + 1, o.first);
	env_encode(&rb, sigs, lens, ids, 0, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(!o.verified && o.bundle == 'f' && strstr(o.first, "0 signatures"),
	     "envelope: no signature fails 'bundle' (%s)", o.first);
	sigs[0] = real, lens[0] = rlen, ids[0] = "";
	sigs[1] = big, lens[1] = sizeof big, ids[1] = "huge";
	env_encode(&rb, sigs, lens, ids, 2, BASE64_STD, &t);
	env_verify(&t, pol, &o);
	T_OK(!o.verified && o.bundle == 'f' && strstr(o.first, "dsseEnvelope.signatures[1].sig"),
	     "envelope: a signature over %d bytes fails 'bundle', naming it (%s)", REPORT_ENV_SIG_MAX, o.first);
	{
		/* keyid of the wrong type */
		const char *k = "{\"keyid\":\"\",";
		env_encode(&rb, sigs, lens, ids, 1, BASE64_STD, &t);
		uint8_t *at = memmem(t.p, t.len, k, strlen(k));
		if (at) {
			memcpy(at, "{\"keyid\":7 ,", strlen(k));
			env_verify(&t, pol, &o);
		}
		T_OK(at && !o.verified && strstr(o.first, "signatures[0].keyid: not a string"),
		     "envelope: a keyid that is not a string fails 'bundle' (%s)", o.first);
	}
	cr_buf_free(&t);
	report_bundle_free(&rb);
}

/* ----------------------------------------------------------------- forms */

/* bundle_verify_form() on text with an attestation document: the statuses
 * of every check as one string ("ppp..."), and the first failure. */
static void form_verify(const char *text, size_t len, const struct cr_buf *att, const struct bv_policy *pol,
			char *statuses, size_t cap, char *first, size_t fcap)
{
	struct bv_result *r = calloc(1, sizeof *r);
	size_t k = 0;
	bundle_verify_form((const uint8_t *)text, len, att ? att->p : NULL, att ? att->len : 0, "test", pol, r);
	for (size_t i = 0; i < r->n && k + 1 < cap; i++)
		statuses[k++] = "pfs"[r->checks[i].status];
	statuses[k] = 0;
	bv_first_failure(r, first, fcap);
	bv_result_free(r);
	free(r);
}

/* The same report as an .intoto.jsonl line and a Sigstore bundle: both
 * verify with the attestation document given apart, with exactly the
 * cleanroom bundle's checks; without it, or with a mangled field, they fail
 * at 'bundle' naming the field. */
static void test_forms(const struct cr_buf *b, const struct bv_policy *pol)
{
	struct report_bundle rb, back;
	struct cr_buf jl, sg, t;
	struct cr_err e;
	char want[64], got[64], first[1024], keyid[REPORT_KEY_ID_LEN + 1];
	cr_buf_init(&jl, REPORT_MAX_BUNDLE);
	cr_buf_init(&sg, REPORT_MAX_BUNDLE);
	cr_buf_init(&t, REPORT_MAX_BUNDLE);
	if (report_bundle_parse(b->p, b->len, &rb, &e)) {
		T_OK(0, "forms: the bundle parses (%s)", e.msg);
		return;
	}
	{
		/* the enclave's keyid is the key id of the bound key */
		struct bv_result *r = calloc(1, sizeof *r);
		bundle_verify(b->p, b->len, pol, r);
		snprintf(keyid, sizeof keyid, "%s", r->key_id);
		T_OK(r->have_key && r->key_curve == BR_EC_secp256r1 && r->key_spki_len == 91 &&
			     !strcmp(rb.sigs[0].keyid, r->key_id) && strlen(keyid) == 64,
		     "forms: the enclave signs with a P-256 key; the envelope's keyid is its key id (%s)",
		     rb.sigs[0].keyid);
		bv_result_free(r);
		free(r);
	}
	form_verify((const char *)b->p, b->len, NULL, pol, want, sizeof want, first, sizeof first);
	T_OK(report_dsse_jsonl_encode(&rb, &jl, &e) == 0 && jl.len > 1 && jl.p[jl.len - 1] == '\n' &&
		     memchr(jl.p, '\n', jl.len) == jl.p + jl.len - 1 && !strstr((char *)jl.p, "mediaType"),
	     "forms: the .intoto.jsonl is one compact line, the bare envelope");
	T_OK(report_sigstore_encode(&rb, keyid, &sg, &e) == 0 &&
		     strstr((char *)sg.p, "\"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\"") &&
		     strstr((char *)sg.p, "\"tlogEntries\": []") && !strstr((char *)sg.p, "\"attestation\""),
	     "forms: the Sigstore bundle: v0.3 media type, no tlog entries, no attestation member");
	T_OK(report_bundle_parse_form(sg.p, sg.len, rb.attestation.p, rb.attestation.len, &back, &e) == 0 &&
		     back.form == REPORT_FORM_SIGSTORE && !strcmp(back.hint, keyid) &&
		     back.statement.len == rb.statement.len &&
		     !memcmp(back.statement.p, rb.statement.p, rb.statement.len),
	     "forms: the Sigstore bundle parses back: its hint, the same payload bytes (%s)", e.msg);
	report_bundle_free(&back);
	form_verify((const char *)jl.p, jl.len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
	T_OK(!strcmp(got, want) && !strchr(got, 'f'), "forms: the .intoto.jsonl verifies with the same checks (%s: %s)",
	     got, first);
	form_verify((const char *)sg.p, sg.len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
	T_OK(!strcmp(got, want) && !strchr(got, 'f'),
	     "forms: the Sigstore bundle verifies with the same checks (%s: %s)", got, first);
	form_verify((const char *)jl.p, jl.len, NULL, pol, got, sizeof got, first, sizeof first);
	T_OK(got[0] == 'f' && strstr(first, "bundle: ") && strstr(first, "no attestation document"),
	     "forms: an .intoto.jsonl without its attestation document fails 'bundle' (%s)", first);
	form_verify((const char *)b->p, b->len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
	T_OK(got[0] == 'f' && strstr(first, "carries its own attestation document"),
	     "forms: a cleanroom bundle with a separate attestation document fails 'bundle' (%s)", first);
	{
		/* a byte of the payload (base64 re-encoded) or of the signature:
		 * 'signature' fails in the .intoto.jsonl form too */
		struct report_bundle m;
		report_bundle_parse(b->p, b->len, &m, &e);
		char *sde = strstr((char *)m.statement.p, "\"sourceDateEpoch\":17");
		sde[19] = '2';
		report_dsse_jsonl_encode(&m, &t, &e);
		form_verify((const char *)t.p, t.len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
		T_OK(strstr(first, "signature: ") == first,
		     "forms: a payload byte changed in the .intoto.jsonl fails 'signature' (%s)", first);
		sde[19] = '7';
		m.sigs[0].sig.p[10] ^= 0x01;
		report_sigstore_encode(&m, keyid, &t, &e);
		form_verify((const char *)t.p, t.len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
		T_OK(strstr(first, "signature: ") == first,
		     "forms: a signature byte flipped in the Sigstore bundle fails 'signature' (%s)", first);
		report_bundle_free(&m);
	}
	{
		/* each mangled Sigstore field fails at 'bundle', named */
		static const char *const cases[][3] = {
			{ "\"hint\": \"", "\"hint\": 7, \"x\": \"",
			  "verificationMaterial.publicKey.hint: not a string" },
			{ "\"tlogEntries\": []", "\"tlogEntries\": [{}]", "tlogEntries: 1 entries" },
			{ "\"tlogEntries\": []", "\"tlogEntries\": {}", "tlogEntries: not an array" },
			{ "\"publicKey\": {", "\"certificate\": {}, \"publicKey\": {",
			  "verificationMaterial.certificate" },
			{ "\"publicKey\": {", "\"publicKey\": 1, \"x\": {",
			  "verificationMaterial.publicKey: not an object" },
			{ "bundle.v0.3+json", "bundle.v0.9+json",
			  "mediaType: \"application/vnd.dev.sigstore.bundle.v0.9" },
			{ "\"dsseEnvelope\": {", "\"messageSignature\": {}, \"dsseEnvelope\": {", "messageSignature" },
			{ "\"payloadType\": \"", "\"payloadType\": \"x", "dsseEnvelope.payloadType" },
			{ "\"sig\": \"", "\"sig\": \"!", "dsseEnvelope.signatures[0].sig" },
		};
		for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
			const char *at = strstr((char *)sg.p, cases[i][0]);
			if (!at) {
				T_OK(0, "forms: Sigstore mutation %zu applies", i);
				continue;
			}
			t.len = 0;
			cr_buf_put(&t, sg.p, (size_t)(at - (char *)sg.p), &e);
			cr_buf_put(&t, cases[i][1], strlen(cases[i][1]), &e);
			cr_buf_put(&t, at + strlen(cases[i][0]),
				   sg.len - (size_t)(at - (char *)sg.p) - strlen(cases[i][0]), &e);
			form_verify((const char *)t.p, t.len, &rb.attestation, pol, got, sizeof got, first,
				    sizeof first);
			T_OK(!strcmp(got, "f") && strstr(first, cases[i][2]),
			     "forms: Sigstore bundle with %s fails 'bundle' naming it (%s)", cases[i][1], first);
		}
	}
	{
		/* the bare envelope's fields are named without a prefix */
		const char *at = strstr((char *)jl.p, "\"payloadType\":\"");
		t.len = 0;
		cr_buf_put(&t, jl.p, (size_t)(at - (char *)jl.p), &e);
		cr_buf_put(&t, "\"payloadType\":1,\"y\":\"", 21, &e);
		cr_buf_put(&t, at + 15, jl.len - (size_t)(at - (char *)jl.p) - 15, &e);
		form_verify((const char *)t.p, t.len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
		T_OK(!strcmp(got, "f") && strstr(first, "bundle: payloadType: missing or not a string"),
		     "forms: an envelope whose payloadType is a number fails naming payloadType (%s)", first);
		form_verify("{\"x\":1}\n", 8, &rb.attestation, pol, got, sizeof got, first, sizeof first);
		T_OK(!strcmp(got, "f") && strstr(first, "mediaType: missing (and no payloadType"),
		     "forms: an object that is no form at all fails 'bundle' (%s)", first);
		t.len = 0; /* a second line */
		cr_buf_put(&t, jl.p, jl.len, &e);
		cr_buf_put(&t, jl.p, jl.len, &e);
		form_verify((const char *)t.p, t.len, &rb.attestation, pol, got, sizeof got, first, sizeof first);
		T_OK(!strcmp(got, "f"), "forms: an .intoto.jsonl of two lines is refused (%s)", first);
	}
	report_bundle_free(&rb);
	cr_buf_free(&jl);
	cr_buf_free(&sg);
	cr_buf_free(&t);
}

static void test_end_to_end(void)
{
	struct model_ctx *mc = calloc(1, sizeof *mc);
	struct nsm_ca *ca = calloc(1, sizeof *ca);
	struct eif_pcrs pcrs;
	struct bv_policy pol;
	struct cr_buf b, b2;
	struct cr_err e;
	char dir[400], rootpem[512];
	int ok;
	memset(&pcrs, 0, sizeof pcrs);
	for (int i = 0; i < 48; i++)
		pcrs.pcr0[i] = (uint8_t)i, pcrs.pcr1[i] = (uint8_t)(i + 1), pcrs.pcr2[i] = (uint8_t)(i + 2);
	snprintf(dir, sizeof dir, "%s/ca", tmp);
	mkdir(dir, 0755);
	if (nsm_ca_open(ca, dir, tmp, "i-0-enc0", &e)) {
		T_OK(0, "a test CA (%s)", e.msg);
		return;
	}
	snprintf(rootpem, sizeof rootpem, "%s", ca->root_path);
	nsm_model_init(&mc->m, &pcrs, 16, (const uint8_t[RUN_BOOT_ID_LEN]){ 0 }, ca);
	cr_buf_init(&mc->out, NSM_RESPONSE_MAX);
	cr_buf_init(&b, REPORT_MAX_BUNDLE);
	cr_buf_init(&b2, REPORT_MAX_BUNDLE);
	snprintf(art_path[0], sizeof art_path[0], "%s/out/bin/hello", tmp);
	snprintf(art_path[1], sizeof art_path[1], "%s/out/lib/libx.so", tmp);
	snprintf(dir, sizeof dir, "%s/out", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/out/bin", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof dir, "%s/out/lib", tmp);
	mkdir(dir, 0755);
	write_file(art_path[0], "hello binary");
	write_file(art_path[1], "library bytes");

	T_OK(make_bundle(mc, "hello binary", "library bytes", 0x55, &b) == 0,
	     "report_make: a bundle from the NSM model");
	T_OK(make_bundle(mc, "other binary", "library bytes", 0x66, &b2) == 0, "report_make: a second build's bundle");
	test_nsm_faults(mc);

	memset(&pol, 0, sizeof pol);
	{
		struct pem_list l;
		const struct pem_object *o;
		pem_read_file(rootpem, &l, &e);
		o = pem_find(&l, "CERTIFICATE");
		pol.root_der = malloc(o->len);
		memcpy((uint8_t *)pol.root_der, o->der, o->len);
		pol.root_len = o->len;
		pem_free(&l);
	}
	pol.has_pcrs = 1;
	memcpy(pol.pcr[0], pcrs.pcr0, 48);
	memcpy(pol.pcr[1], pcrs.pcr1, 48);
	memcpy(pol.pcr[2], pcrs.pcr2, 48);
	pol.has_nonce = 1;
	pol.nonce_len = 32;
	memset(pol.nonce, 0x55, 32);
	pol.artifacts = art_paths;
	pol.nartifacts = 2;
	pol.has_source = 1;
	pol.source_tree_len = 20;
	memset(pol.source_tree, 0x11, 20);
	pol.source_desc = "test";

	{
		struct bv_result *r = calloc(1, sizeof *r);
		int v = bundle_verify(b.p, b.len, &pol, r) == 0;
		size_t passed = 0;
		for (size_t i = 0; i < r->n; i++) {
			passed += r->checks[i].status == BV_PASS;
			if (r->checks[i].status != BV_PASS)
				printf("# %s: %s\n", r->checks[i].name, r->checks[i].detail);
		}
		T_OK(v && passed == r->n && r->n == 13, "verify: the bundle passes all %zu checks", r->n);
		T_OK(r->have_statement && !memcmp(r->statement.st.pcr[0], pcrs.pcr0, 48),
		     "verify: the statement's PCR0 is the one the NSM described");
		{
			char *text = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&text, &len);
			bv_print_text(r, f);
			fclose(f);
			T_OK(text && strstr(text, "note  build.log            1234 bytes, sha256 4444") &&
				     strstr(text, ", complete\n") && !strstr(text, "TRUNCATED"),
			     "verify: the text says the build log was complete, with its size and digest");
			free(text);
		}
		bv_result_free(r);
		free(r);
	}
	{
		struct bv_result *r = calloc(1, sizeof *r);
		struct cr_buf b3, js;
		struct json_w w;
		char *text = NULL;
		size_t len = 0;
		FILE *f;
		int v;
		cr_buf_init(&b3, REPORT_MAX_BUNDLE);
		cr_buf_init(&js, 1 << 20);
		bundle_log_dropped = 98765;
		T_OK(make_bundle(mc, "hello binary", "library bytes", 0x55, &b3) == 0,
		     "report_make: a bundle of a build whose log was cut");
		bundle_log_dropped = 0;
		v = bundle_verify(b3.p, b3.len, &pol, r) == 0;
		T_OK(v && r->statement.st.log_bytes == 100000 && r->statement.st.log_dropped == 98765,
		     "verify: a report of a cut log verifies and says how much was kept and dropped");
		f = open_memstream(&text, &len);
		bv_print_text(r, f);
		fclose(f);
		T_OK(text && strstr(text, "note  build.log            100000 bytes kept, sha256 4444") &&
			     strstr(text, "TRUNCATED at the log limit: 98765 bytes dropped\n"),
		     "verify: the text shows the log was truncated, with the bytes kept and dropped");
		free(text);
		jw_init(&w, &js, 0);
		jw_obj_begin(&w);
		bv_write_json(r, &w);
		jw_obj_end(&w);
		T_OK(jw_finish(&w, &e) == 0 &&
			     strstr((char *)js.p,
				    "\"log_bytes\":100000,\"log_truncated\":true,\"log_dropped_bytes\":98765"),
		     "verify --json: log_bytes, log_truncated, log_dropped_bytes");
		cr_buf_free(&js);
		cr_buf_free(&b3);
		bv_result_free(r);
		free(r);
	}

	/* A bundle of the older shape (urn build type, PCRs only) still verifies. */
	{
		struct bv_result *r = calloc(1, sizeof *r);
		struct cr_buf b4;
		int v;
		size_t passed = 0;
		cr_buf_init(&b4, REPORT_MAX_BUNDLE);
		bundle_build_type = REPORT_BT_URN_V1;
		T_OK(make_bundle(mc, "hello binary", "library bytes", 0x55, &b4) == 0,
		     "report_make: a bundle of the older (urn) build type");
		bundle_build_type = REPORT_BT_V1;
		v = bundle_verify(b4.p, b4.len, &pol, r) == 0;
		for (size_t i = 0; i < r->n; i++)
			passed += r->checks[i].status == BV_PASS;
		T_OK(v && passed == r->n && r->n == 13 && r->statement.st.build_type == REPORT_BT_URN_V1,
		     "verify: an older-shape bundle passes all %zu checks", r->n);
		cr_buf_free(&b4);
		bv_result_free(r);
		free(r);
	}

	/* A bundle as older enclaves made it: P-384 key, SHA-384 signature,
	 * keyid "": still verifies, and says which algorithm it checked. */
	{
		struct bv_result *r = calloc(1, sizeof *r);
		struct cr_buf b5;
		struct report_bundle rb5;
		int v;
		size_t passed = 0;
		const char *sigd = "";
		cr_buf_init(&b5, REPORT_MAX_BUNDLE);
		bundle_curve = BR_EC_secp384r1;
		T_OK(make_bundle(mc, "hello binary", "library bytes", 0x55, &b5) == 0,
		     "report_make_with: an older-style P-384 bundle");
		bundle_curve = 0;
		v = bundle_verify(b5.p, b5.len, &pol, r) == 0;
		for (size_t i = 0; i < r->n; i++) {
			passed += r->checks[i].status == BV_PASS;
			if (!strcmp(r->checks[i].name, "signature"))
				sigd = r->checks[i].detail;
		}
		T_OK(v && passed == r->n && r->n == 13 && r->key_curve == BR_EC_secp384r1 && r->key_spki_len == 120 &&
			     strstr(sigd, "ECDSA P-384/SHA-384"),
		     "verify: an older P-384/SHA-384 bundle passes all %zu checks (%s)", r->n, sigd);
		bv_result_free(r);
		/* its signature flipped: refused */
		if (report_bundle_parse(b5.p, b5.len, &rb5, &e) == 0) {
			struct cr_buf t5;
			cr_buf_init(&t5, REPORT_MAX_BUNDLE);
			T_OK(!strcmp(rb5.sigs[0].keyid, ""), "older bundle: keyid \"\"");
			rb5.sigs[0].sig.p[rb5.sigs[0].sig.len / 2] ^= 0x01;
			report_bundle_encode(rb5.statement.p, rb5.statement.len, rb5.sigs[0].sig.p, rb5.sigs[0].sig.len,
					     "", rb5.attestation.p, rb5.attestation.len, &t5, &e);
			T_OK(run_verify(&t5, &pol, "signature", &ok) == 'f' && !ok,
			     "tamper: a byte flipped in an older bundle's P-384 signature fails 'signature'");
			cr_buf_free(&t5);
			report_bundle_free(&rb5);
		}
		{
			struct bv_result *r2 = calloc(1, sizeof *r2);
			bundle_verify(b.p, b.len, &pol, r2);
			for (size_t i = 0; i < r2->n; i++)
				if (!strcmp(r2->checks[i].name, "signature"))
					sigd = r2->checks[i].detail;
			T_OK(strstr(sigd, "ECDSA P-256/SHA-256") != NULL, "verify: a new bundle's signature is %s",
			     sigd);
			bv_result_free(r2);
			free(r2);
		}
		cr_buf_free(&b5);
		free(r);
	}

	/* The tamper matrix: each case fails, and with the check that names it. */
	{
		struct cr_buf t;
		struct report_bundle rb;
		cr_buf_init(&t, REPORT_MAX_BUNDLE);

		write_file(art_path[0], "hello binarY");
		{
			char name[600];
			snprintf(name, sizeof name, "artifact %s", art_path[0]);
			T_OK(run_verify(&b, &pol, name, &ok) == 'f' && !ok,
			     "tamper: a byte flipped in an artifact fails 'artifact .../bin/hello'");
		}
		write_file(art_path[0], "hello binary");

		/* statement byte flipped (re-wrapped so the bundle still parses) */
		report_bundle_parse(b.p, b.len, &rb, &e);
		{
			char *at = strstr((char *)rb.statement.p, "\"sourceDateEpoch\":17");
			at[19] = '2';
			report_bundle_encode(rb.statement.p, rb.statement.len, rb.sigs[0].sig.p, rb.sigs[0].sig.len,
					     rb.sigs[0].keyid, rb.attestation.p, rb.attestation.len, &t, &e);
			T_OK(run_verify(&t, &pol, "signature", &ok) == 'f' && !ok,
			     "tamper: a byte changed in the statement fails 'signature'");
			T_OK(run_verify(&t, &pol, "binding.user_data", &ok) == 'f',
			     "tamper: ... and 'binding.user_data'");
			at[19] = '7';
		}
		rb.sigs[0].sig.p[rb.sigs[0].sig.len / 2] ^= 0x01;
		report_bundle_encode(rb.statement.p, rb.statement.len, rb.sigs[0].sig.p, rb.sigs[0].sig.len,
				     rb.sigs[0].keyid, rb.attestation.p, rb.attestation.len, &t, &e);
		T_OK(run_verify(&t, &pol, "signature", &ok) == 'f' && !ok,
		     "tamper: a byte flipped in the signature fails 'signature'");
		rb.sigs[0].sig.p[rb.sigs[0].sig.len / 2] ^= 0x01;
		rb.attestation.p[rb.attestation.len - 10] ^= 0x01;
		report_bundle_encode(rb.statement.p, rb.statement.len, rb.sigs[0].sig.p, rb.sigs[0].sig.len,
				     rb.sigs[0].keyid, rb.attestation.p, rb.attestation.len, &t, &e);
		T_OK(run_verify(&t, &pol, "attestation", &ok) == 'f' && !ok,
		     "tamper: a byte flipped in the attestation document fails 'attestation'");
		rb.attestation.p[rb.attestation.len - 10] ^= 0x01;
		report_bundle_free(&rb);

		pol.pcr[1][0] ^= 1;
		T_OK(run_verify(&b, &pol, "pcrs", &ok) == 'f' && !ok, "tamper: wrong expected PCRs fail 'pcrs'");
		pol.pcr[1][0] ^= 1;
		{
			const uint8_t *root = pol.root_der;
			pol.root_der = NULL; /* the AWS root */
			T_OK(run_verify(&b, &pol, "attestation", &ok) == 'f' && !ok,
			     "tamper: the wrong root (AWS's for a mock-NSM bundle) fails 'attestation'");
			pol.root_der = root;
		}
		pol.source_tree[0] ^= 1;
		T_OK(run_verify(&b, &pol, "source", &ok) == 'f' && !ok, "tamper: the wrong source tree fails 'source'");
		pol.source_tree[0] ^= 1;
		{
			char name[600];
			snprintf(name, sizeof name, "artifact %s", art_path[0]);
			pol.nonce[0] = 0x66; /* the other build's nonce, so only the artifacts can tell */
			T_OK(run_verify(&b2, &pol, name, &ok) == 'f' && !ok,
			     "tamper: a bundle from another build with these artifacts fails 'artifact bin/hello'");
			pol.nonce[0] = 0x55;
		}
		pol.nonce[31] ^= 1;
		T_OK(run_verify(&b, &pol, "nonce", &ok) == 'f' && !ok,
		     "tamper: a replayed bundle (another nonce) fails 'nonce'");
		pol.nonce[31] ^= 1;
		pol.has_pcrs = 0;
		T_OK(run_verify(&b, &pol, "pcrs", &ok) == 's' && ok,
		     "verify: without an expected image 'pcrs' is skipped");
		pol.has_pcrs = 1;
		{
			const char *missing[1] = { "/nonexistent/bin/hello" };
			pol.artifacts = missing;
			pol.nartifacts = 1;
			T_OK(run_verify(&b, &pol, "artifact /nonexistent/bin/hello", &ok) == 'f' && !ok,
			     "verify: a missing artifact file fails its check");
			pol.artifacts = art_paths;
			pol.nartifacts = 2;
		}
		/* truncated and garbage bundles fail at 'bundle' */
		t.len = 0;
		cr_buf_put(&t, b.p, b.len / 2, &e);
		T_OK(run_verify(&t, &pol, "bundle", &ok) == 'f' && !ok, "verify: a truncated bundle fails 'bundle'");
		cr_buf_free(&t);
	}
	test_envelopes(&b, &pol);
	test_forms(&b, &pol);
	free((void *)pol.root_der);
	cr_buf_free(&b);
	cr_buf_free(&b2);
	cr_buf_free(&mc->out);
	nsm_ca_free(ca);
	free(ca);
	free(mc);
}

int main(void)
{
	snprintf(tmp, sizeof tmp, "/tmp/test_report.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_base64();
	test_statement();
	test_statement_limits();
	test_statement_truncated_log();
	test_statement_urn_v1();
	test_dsse_spki();
	test_end_to_end();
	{
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
		sh(cmd);
	}
	return t_done();
}
