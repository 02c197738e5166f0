#include "base/base64.h"

static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64_encode_form(const uint8_t *in, size_t n, enum base64_form form, struct cr_buf *out, struct cr_err *e)
{
	const char *alphabet = form == BASE64_STD ? std_alphabet : url_alphabet;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		char q[4] = { alphabet[v >> 18], alphabet[(v >> 12) & 63], k > 1 ? alphabet[(v >> 6) & 63] : '=',
			      k > 2 ? alphabet[v & 63] : '=' };
		if (cr_buf_put(out, q, form == BASE64_URL_NOPAD ? k + 1 : 4, e))
			return -1;
	}
	return 0;
}

int base64_encode(const uint8_t *in, size_t n, struct cr_buf *out, struct cr_err *e)
{
	return base64_encode_form(in, n, BASE64_STD, out, e);
}

/* The value of c in either alphabet; *kind gets 1 for a character only the
 * standard alphabet has, 2 for one only the URL-safe has, 0 for common. */
static int sextet(char c, int *kind)
{
	*kind = 0;
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '/')
		return *kind = 1, c == '+' ? 62 : 63;
	if (c == '-' || c == '_')
		return *kind = 2, c == '-' ? 62 : 63;
	return -1;
}

int base64_decode(const char *text, size_t len, struct cr_buf *out, const char *what, struct cr_err *e)
{
	size_t data = len, i;
	int alphabet = 0; /* 0 not yet known, 1 standard, 2 URL-safe */
	uint32_t v = 0;
	int bits = 0;

	/* Padding: one or two '=' at the very end of a text whose length is a
	 * multiple of 4. */
	while (data > 0 && text[data - 1] == '=' && len - data < 2)
		data--;
	for (i = 0; i < data; i++) {
		int kind, s = sextet(text[i], &kind);
		if (s < 0) {
			unsigned char c = (unsigned char)text[i];
			if (c == '=')
				return cr_fail(e, "%s: base64 padding '=' at offset %zu, before the end", what, i);
			if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
				return cr_fail(e, "%s: whitespace in base64 at offset %zu", what, i);
			return cr_fail(e, "%s: invalid base64 character at offset %zu", what, i);
		}
		if (kind && alphabet && kind != alphabet)
			return cr_fail(e, "%s: base64 mixes the standard and URL-safe alphabets (offset %zu)", what, i);
		if (kind)
			alphabet = kind;
	}
	if (data < len) {
		if (len % 4)
			return cr_fail(e, "%s: base64 length %zu with padding is not a multiple of 4", what, len);
		if ((len - data == 2) != (data % 4 == 2) || (len - data == 1) != (data % 4 == 3))
			return cr_fail(e, "%s: non-canonical base64 padding", what);
	} else if (data % 4) {
		if (alphabet == 1)
			return cr_fail(e, "%s: standard base64 of length %zu without its '=' padding", what, len);
		if (data % 4 == 1)
			return cr_fail(e, "%s: base64 length %zu is impossible (a lone final character)", what, len);
	}
	for (i = 0; i < data; i++) {
		int kind;
		v = v << 6 | (uint32_t)sextet(text[i], &kind);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (cr_buf_putc(out, (uint8_t)(v >> bits), e))
				return cr_err_wrap(e, "%s", what);
			v &= (1u << bits) - 1;
		}
	}
	if (v)
		return cr_fail(e, "%s: non-canonical base64 (stray bits before the padding)", what);
	return 0;
}
