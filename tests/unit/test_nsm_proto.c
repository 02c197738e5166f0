/* nsm/nsm_proto.c: the exact request bytes of nitro-facts §5.4, request
 * decoding as the NSM model does it, and every response shape in both
 * directions, including malformed ones. */
#include "base/cbor_write.h"
#include "tests/unit/check.h"
#include "nsm/nsm_proto.h"

static uint8_t hexbuf[NSM_RESPONSE_MAX + 64];

static const uint8_t *unhex(const char *s, size_t *n)
{
	if (cr_unhex_var(s, hexbuf, sizeof hexbuf, n)) {
		printf("# bad hex in test: %s\n", s);
		*n = 0;
	}
	return hexbuf;
}

/* Encode req and compare with hex. */
static void expect_request(const struct nsm_request *req, const char *hex, const char *name)
{
	struct cr_buf b;
	struct cr_err e;
	char got[512];
	cr_buf_init(&b, 8192);
	if (nsm_request_encode(req, &b, &e)) {
		T_OK(0, "%s encodes: %s", name, e.msg);
	} else {
		cr_hex(b.p, b.len < 250 ? b.len : 250, got);
		T_STR(got, hex, "%s encodes to the bytes of nitro-facts 5.4", name);
	}
	cr_buf_free(&b);
}

/* Decode hex as a request; returns the reply code on failure (or -1 when
 * it decodes) and leaves the message in e. */
static int decode_request(const char *hex, struct nsm_request *r, struct cr_err *e)
{
	size_t n;
	const uint8_t *p = unhex(hex, &n);
	enum nsm_error why = NSM_SUCCESS;
	e->msg[0] = 0;
	if (nsm_request_decode(p, n, r, &why, e) == 0)
		return -1;
	return (int)why;
}

static void test_request_bytes(void)
{
	struct nsm_request r;
	memset(&r, 0, sizeof r);
	r.op = NSM_OP_DESCRIBE_NSM;
	expect_request(&r, "6b44657363726962654e534d", "DescribeNSM");
	r.op = NSM_OP_GET_RANDOM;
	expect_request(&r, "6947657452616e646f6d", "GetRandom");
	r.op = NSM_OP_DESCRIBE_PCR;
	r.index = 0;
	expect_request(&r, "a16b4465736372696265504352a165696e64657800", "DescribePCR{index:0}");
	r.op = NSM_OP_EXTEND_PCR;
	r.index = 16;
	r.data.p = (const uint8_t *)"\x01\x02\x03";
	r.data.len = 3;
	expect_request(&r, "a169457874656e64504352a265696e64657810646461746143010203",
		       "ExtendPCR{index:16,data:010203}");
	r.op = NSM_OP_LOCK_PCR;
	expect_request(&r, "a1674c6f636b504352a165696e64657810", "LockPCR{index:16}");
	r.op = NSM_OP_LOCK_PCRS;
	r.range = 32;
	expect_request(&r, "a1684c6f636b50435273a16572616e67651820", "LockPCRs{range:32}");
	memset(&r, 0, sizeof r);
	r.op = NSM_OP_ATTESTATION;
	expect_request(&r, "a16b4174746573746174696f6ea369757365725f64617461f6656e6f6e6365f66a7075626c69635f6b6579f6",
		       "Attestation{all None}");
	r.nonce.present = 1;
	r.nonce.p = (const uint8_t *)"\xaa";
	r.nonce.len = 1;
	expect_request(&r, "a16b4174746573746174696f6ea369757365725f64617461f6656e6f6e636541aa6a7075626c69635f6b6579f6",
		       "Attestation{nonce:aa}");
	{
		static uint8_t big[NSM_REQUEST_MAX];
		struct cr_buf b;
		struct cr_err e;
		memset(&r, 0, sizeof r);
		r.op = NSM_OP_EXTEND_PCR;
		r.data.p = big;
		r.data.len = sizeof big;
		cr_buf_init(&b, 2 * NSM_REQUEST_MAX);
		T_OK(nsm_request_encode(&r, &b, &e) == -1 && strstr(e.msg, "more than the 4096"),
		     "a request over 0x1000 bytes is refused (%s)", e.msg);
		cr_buf_free(&b);
	}
}

static void test_request_decode(void)
{
	struct nsm_request r;
	struct cr_err e;
	T_OK(decode_request("a169457874656e64504352a265696e64657810646461746143010203", &r, &e) == -1 &&
		     r.op == NSM_OP_EXTEND_PCR && r.index == 16 && r.data.len == 3 &&
		     !memcmp(r.data.p, "\x01\x02\x03", 3),
	     "ExtendPCR decodes back");
	T_OK(decode_request("a1684c6f636b50435273a16572616e67651820", &r, &e) == -1 && r.op == NSM_OP_LOCK_PCRS &&
		     r.range == 32,
	     "LockPCRs decodes back");
	T_OK(decode_request("6947657452616e646f6d", &r, &e) == -1 && r.op == NSM_OP_GET_RANDOM,
	     "GetRandom decodes back");
	T_OK(decode_request(
		     "a16b4174746573746174696f6ea369757365725f64617461f6656e6f6e636541aa6a7075626c69635f6b6579f6", &r,
		     &e) == -1 &&
		     r.op == NSM_OP_ATTESTATION && !r.user_data.present && r.nonce.present && r.nonce.len == 1 &&
		     !r.public_key.present,
	     "Attestation decodes back: null, bytes, null");
	/* {"Attestation": {"user_data": "hi"}}: text accepted, missing keys null (QEMU's leniency). */
	T_OK(decode_request("a16b4174746573746174696f6ea169757365725f64617461626869", &r, &e) == -1 &&
		     r.user_data.present && r.user_data.len == 2 && !r.nonce.present && !r.public_key.present,
	     "Attestation: text user_data accepted, missing nonce/public_key are null");
	T_OK(decode_request("63466f6f", &r, &e) == NSM_INVALID_OPERATION && strstr(e.msg, "unknown operation \"Foo\""),
	     "an unknown operation answers InvalidOperation (%s)", e.msg);
	T_OK(decode_request("6b4465736372696265504352", &r, &e) == NSM_INVALID_OPERATION,
	     "DescribePCR without arguments answers InvalidOperation");
	T_OK(decode_request("a26b44657363726962654e534d006947657452616e646f6d00", &r, &e) == NSM_INVALID_OPERATION &&
		     strstr(e.msg, "map with one entry"),
	     "a map of two operations answers InvalidOperation (%s)", e.msg);
	T_OK(decode_request("a16b4465736372696265504352a165696e6465786178", &r, &e) == NSM_INVALID_ARGUMENT &&
		     strstr(e.msg, "\"index\" must be an unsigned integer, not a text string"),
	     "index as text answers InvalidArgument (%s)", e.msg);
	T_OK(decode_request("a16b4465736372696265504352a165696e6465781a00011170", &r, &e) == NSM_INVALID_ARGUMENT &&
		     strstr(e.msg, "70000 does not fit 16 bits"),
	     "index 70000 answers InvalidArgument (%s)", e.msg);
	T_OK(decode_request("a16b4465736372696265504352a0", &r, &e) == NSM_INVALID_ARGUMENT &&
		     strstr(e.msg, "missing field \"index\""),
	     "a missing index answers InvalidArgument (%s)", e.msg);
	T_OK(decode_request("a16b446573637269626550435201", &r, &e) == NSM_INVALID_ARGUMENT &&
		     strstr(e.msg, "arguments must be a map"),
	     "arguments that are not a map answer InvalidArgument (%s)", e.msg);
	T_OK(decode_request("a16b4465736372696265504352a165696e646578", &r, &e) == NSM_INVALID_OPERATION &&
		     strstr(e.msg, "truncated at offset 20"),
	     "a truncated request is refused (%s)", e.msg);
	T_OK(decode_request("6947657452616e646f6d00", &r, &e) >= 0 && strstr(e.msg, "1 trailing bytes"),
	     "trailing bytes are refused (%s)", e.msg);
	{
		static uint8_t big[NSM_REQUEST_MAX + 1];
		enum nsm_error why = NSM_SUCCESS;
		T_OK(nsm_request_decode(big, sizeof big, &r, &why, &e) == -1 && why == NSM_INPUT_TOO_LARGE,
		     "a request over 0x1000 bytes answers InputTooLarge");
	}
}

/* Round trip: encode resp, decode as op, compare the interesting fields. */
static int roundtrip(const struct nsm_response *in, enum nsm_op op, struct nsm_response *out, struct cr_buf *b)
{
	struct cr_err e;
	if (nsm_response_encode(in, b, &e)) {
		printf("# encode: %s\n", e.msg);
		return 0;
	}
	if (nsm_response_decode(b->p, b->len, op, out, &e)) {
		printf("# decode: %s\n", e.msg);
		return 0;
	}
	return 1;
}

static void test_response_roundtrips(void)
{
	struct nsm_response in, out;
	struct cr_buf b;
	uint8_t pcr[48], random[256];
	char hex[64];
	for (int i = 0; i < 48; i++)
		pcr[i] = (uint8_t)i;
	for (int i = 0; i < 256; i++)
		random[i] = (uint8_t)(255 - i);
	cr_buf_init(&b, NSM_RESPONSE_MAX);

	memset(&in, 0, sizeof in);
	in.op = NSM_OP_DESCRIBE_PCR;
	in.lock = 1;
	in.data.p = pcr;
	in.data.len = 48;
	T_OK(roundtrip(&in, NSM_OP_DESCRIBE_PCR, &out, &b) && out.error == NSM_SUCCESS && out.lock == 1 &&
		     out.data.len == 48 && !memcmp(out.data.p, pcr, 48),
	     "DescribePCR {lock, data} round-trips");
	in.op = NSM_OP_EXTEND_PCR;
	T_OK(roundtrip(&in, NSM_OP_EXTEND_PCR, &out, &b) && out.data.len == 48 && !memcmp(out.data.p, pcr, 48),
	     "ExtendPCR {data} round-trips");
	in.op = NSM_OP_LOCK_PCR;
	T_OK(roundtrip(&in, NSM_OP_LOCK_PCR, &out, &b) && b.len == 8 && !memcmp(b.p, "\x67LockPCR", 8),
	     "LockPCR answers the bare text \"LockPCR\"");
	in.op = NSM_OP_LOCK_PCRS;
	T_OK(roundtrip(&in, NSM_OP_LOCK_PCRS, &out, &b) && b.len == 9 && !memcmp(b.p, "\x68LockPCRs", 9),
	     "LockPCRs answers the bare text \"LockPCRs\"");
	in.op = NSM_OP_GET_RANDOM;
	in.random.p = random;
	in.random.len = sizeof random;
	T_OK(roundtrip(&in, NSM_OP_GET_RANDOM, &out, &b) && out.random.len == 256 && !memcmp(out.random.p, random, 256),
	     "GetRandom {random} round-trips");
	cr_hex(b.p, 22, hex);
	T_STR(hex, "a16947657452616e646f6da16672616e646f6d590100",
	      "GetRandom response starts with the 19-byte prefix the Linux hwrng expects, then bstr(256)");
	in.op = NSM_OP_ATTESTATION;
	in.document.p = random;
	in.document.len = 200;
	T_OK(roundtrip(&in, NSM_OP_ATTESTATION, &out, &b) && out.document.len == 200 &&
		     !memcmp(out.document.p, random, 200),
	     "Attestation {document} round-trips");

	memset(&in, 0, sizeof in);
	in.op = NSM_OP_DESCRIBE_NSM;
	in.describe.version_major = 1;
	in.describe.version_patch = 3;
	strcpy(in.describe.module_id, "i-234-enc5678");
	in.describe.max_pcrs = 32;
	for (int i = 0; i < 16; i++)
		in.describe.locked_pcrs[in.describe.n_locked++] = (uint16_t)i;
	strcpy(in.describe.digest, "SHA384");
	T_OK(roundtrip(&in, NSM_OP_DESCRIBE_NSM, &out, &b) && out.describe.version_major == 1 &&
		     out.describe.version_patch == 3 && !strcmp(out.describe.module_id, "i-234-enc5678") &&
		     out.describe.max_pcrs == 32 && out.describe.n_locked == 16 && out.describe.locked_pcrs[15] == 15 &&
		     !strcmp(out.describe.digest, "SHA384"),
	     "DescribeNSM round-trips every field");

	memset(&in, 0, sizeof in);
	in.error = NSM_INVALID_INDEX;
	T_OK(roundtrip(&in, NSM_OP_DESCRIBE_PCR, &out, &b) && out.error == NSM_INVALID_INDEX &&
		     !strcmp(out.error_name, "InvalidIndex"),
	     "an Error response decodes to its code and name");
	cr_hex(b.p, b.len, hex);
	T_STR(hex, "a1654572726f726c496e76616c6964496e646578", "{\"Error\": \"InvalidIndex\"} has the bytes of 5.4");
	for (int i = 1; i < NSM_ERROR_UNKNOWN; i++) {
		const char *n = nsm_error_name((enum nsm_error)i);
		T_OK(nsm_error_from_name(n, strlen(n)) == (enum nsm_error)i, "error code %d <-> %s", i, n);
	}
	in.error = NSM_ERROR_UNKNOWN;
	strcpy(in.error_name, "SomethingNew");
	T_OK(roundtrip(&in, NSM_OP_GET_RANDOM, &out, &b) && out.error == NSM_ERROR_UNKNOWN &&
		     !strcmp(out.error_name, "SomethingNew"),
	     "an unknown error name decodes to NSM_ERROR_UNKNOWN and keeps the name");
	cr_buf_free(&b);
}

/* Decode a response written with the CBOR writer; returns the message, or
 * "" when it decoded. */
static const char *bad_response(struct cbor_w *w, struct cr_buf *b, enum nsm_op op)
{
	static struct cr_err e;
	struct nsm_response r;
	if (cw_finish(w, &e))
		return "writer failed";
	if (nsm_response_decode(b->p, b->len, op, &r, &e) == 0)
		return "";
	return e.msg;
}

#define START(b, w) \
 do {               \
  (b)->len = 0;     \
  cw_init(w, b);    \
 } while (0)

static void test_response_malformed(void)
{
	struct cr_buf b;
	struct cbor_w w;
	uint8_t pcr[64] = { 0 };
	const char *m;
	struct nsm_response r;
	struct cr_err e;
	cr_buf_init(&b, 2 * NSM_RESPONSE_MAX);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "DescribePCR"), cw_map(&w, 2), cw_text(&w, "lock"), cw_uint(&w, 1);
	cw_text(&w, "data"), cw_bytes(&w, pcr, 48);
	m = bad_response(&w, &b, NSM_OP_DESCRIBE_PCR);
	T_OK(strstr(m, "\"lock\" must be a boolean, not an unsigned integer") != NULL, "wrong type: lock as uint (%s)",
	     m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "DescribePCR"), cw_map(&w, 1), cw_text(&w, "lock"), cw_bool(&w, 0);
	m = bad_response(&w, &b, NSM_OP_DESCRIBE_PCR);
	T_OK(strstr(m, "missing field \"data\"") != NULL, "missing key: DescribePCR without data (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "ExtendPCR"), cw_map(&w, 1), cw_text(&w, "data"), cw_bytes(&w, pcr, 47);
	m = bad_response(&w, &b, NSM_OP_EXTEND_PCR);
	T_OK(strstr(m, "47 bytes, not a 32, 48 or 64-byte PCR") != NULL, "wrong size: a 47-byte PCR (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "ExtendPCR"), cw_map(&w, 1), cw_text(&w, "data"), cw_text(&w, "abc");
	m = bad_response(&w, &b, NSM_OP_EXTEND_PCR);
	T_OK(strstr(m, "\"data\" must be a byte string, not a text string") != NULL, "wrong type: data as text (%s)",
	     m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "ExtendPCR"), cw_map(&w, 1), cw_text(&w, "data"), cw_bytes(&w, pcr, 48);
	m = bad_response(&w, &b, NSM_OP_DESCRIBE_PCR);
	T_OK(strstr(m, "answers \"ExtendPCR\"") != NULL, "an answer to another operation (%s)", m);

	START(&b, &w);
	cw_text(&w, "LockPCR");
	m = bad_response(&w, &b, NSM_OP_LOCK_PCRS);
	T_OK(strstr(m, "unexpected text answer \"LockPCR\"") != NULL, "LockPCR text for LockPCRs (%s)", m);

	START(&b, &w);
	cw_array(&w, 0);
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "expected a map with one entry or a text string, got an array") != NULL, "top-level array (%s)",
	     m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "GetRandom"), cw_map(&w, 1), cw_text(&w, "random"), cw_bytes(&w, pcr, 0);
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "\"random\" is 0 bytes") != NULL, "an empty random (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "GetRandom"), cw_text(&w, "random");
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "body must be a map, not a text string") != NULL, "a body that is not a map (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "Error"), cw_uint(&w, 2);
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "\"Error\" must be a short error name") != NULL, "an Error that is not text (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "Error"), cw_text(&w, "Success");
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "names Success") != NULL, "an Error naming Success (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "GetRandom"), cw_map(&w, 2), cw_text(&w, "random"), cw_bytes(&w, pcr, 4);
	cw_text(&w, "random"), cw_bytes(&w, pcr, 4);
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "has the key \"random\" twice") != NULL, "a duplicate key (%s)", m);

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "GetRandom"), cw_map_indef(&w), cw_text(&w, "random"), cw_bytes(&w, pcr, 4);
	cw_text(&w, "extra"), cw_null(&w), cw_break(&w);
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_STR(m, "", "an indefinite-length body with an unknown extra field decodes");

	START(&b, &w);
	cw_map(&w, 1), cw_text(&w, "GetRandom"), cw_map(&w, 1), cw_text(&w, "random"), cw_bytes(&w, pcr, 4);
	b.len--;
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "truncated at offset") != NULL, "truncated (%s)", m);
	b.len += 2;
	b.p[b.len - 2] = pcr[3];
	b.p[b.len - 1] = 0;
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "1 trailing bytes") != NULL, "trailing bytes (%s)", m);

	START(&b, &w);
	for (int i = 0; i < 8; i++)
		cw_map(&w, 1), cw_text(&w, "GetRandom");
	cw_null(&w);
	m = bad_response(&w, &b, NSM_OP_GET_RANDOM);
	T_OK(strstr(m, "nesting deeper than 4") != NULL, "nesting (%s)", m);

	{
		static uint8_t big[NSM_RESPONSE_MAX + 1];
		T_OK(nsm_response_decode(big, sizeof big, NSM_OP_GET_RANDOM, &r, &e) == -1 &&
			     strstr(e.msg, "12289 bytes, more than 12288"),
		     "oversize: more than 0x3000 bytes (%s)", e.msg);
	}
	/* DescribeNSM, field by field. */
	{
		static const struct {
			const char *field;
			int kind; /* 0 uint, 1 text */
			uint64_t u;
			const char *t;
			const char *want;
		} bad[] = {
			{ "version_major", 0, 70000, NULL, "\"version_major\" = 70000 does not fit 16 bits" },
			{ "digest", 1, 0, "MD5", "\"digest\" is \"MD5\", not SHA256, SHA384 or SHA512" },
			{ "module_id", 0, 1, NULL, "\"module_id\" must be a text string, not an unsigned integer" },
		};
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			static const char *const fields[] = { "version_major", "version_minor", "version_patch",
							      "module_id",     "max_pcrs",      "digest" };
			START(&b, &w);
			cw_map(&w, 1), cw_text(&w, "DescribeNSM"), cw_map(&w, 7);
			for (size_t f = 0; f < 6; f++) {
				cw_text(&w, fields[f]);
				if (!strcmp(fields[f], bad[i].field)) {
					if (bad[i].kind)
						cw_text(&w, bad[i].t);
					else
						cw_uint(&w, bad[i].u);
				} else if (!strcmp(fields[f], "module_id")) {
					cw_text(&w, "i-1-enc2");
				} else if (!strcmp(fields[f], "digest")) {
					cw_text(&w, "SHA384");
				} else {
					cw_uint(&w, 1);
				}
			}
			cw_text(&w, "locked_pcrs"), cw_array(&w, 0);
			m = bad_response(&w, &b, NSM_OP_DESCRIBE_NSM);
			T_OK(strstr(m, bad[i].want) != NULL, "DescribeNSM: %s (%s)", bad[i].want, m);
		}
		START(&b, &w);
		cw_map(&w, 1), cw_text(&w, "DescribeNSM"), cw_map(&w, 7);
		cw_text(&w, "version_major"), cw_uint(&w, 1), cw_text(&w, "version_minor"), cw_uint(&w, 0);
		cw_text(&w, "version_patch"), cw_uint(&w, 0), cw_text(&w, "module_id"), cw_text(&w, "m");
		cw_text(&w, "max_pcrs"), cw_uint(&w, 32), cw_text(&w, "digest"), cw_text(&w, "SHA384");
		cw_text(&w, "locked_pcrs"), cw_array(&w, NSM_LOCKED_MAX + 1);
		for (int i = 0; i <= NSM_LOCKED_MAX; i++)
			cw_uint(&w, 1);
		m = bad_response(&w, &b, NSM_OP_DESCRIBE_NSM);
		T_OK(strstr(m, "\"locked_pcrs\" has 257 entries") != NULL, "DescribeNSM: 257 locked PCRs (%s)", m);
	}
	cr_buf_free(&b);
}

int main(void)
{
	test_request_bytes();
	test_request_decode();
	test_response_roundtrips();
	test_response_malformed();
	return t_done();
}
