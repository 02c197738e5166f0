#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const uint8_t *in, size_t n, struct cr_buf *out, struct cr_err *e)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;
		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		char q[4] = {alphabet[v >> 18], alphabet[(v >> 12) & 63], k > 1 ? alphabet[(v >> 6) & 63] : '=',
			     k > 2 ? alphabet[v & 63] : '='};
		if (cr_buf_put(out, q, 4, e))
			return -1;
	}
	return 0;
}

static int sextet(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *text, size_t len, struct cr_buf *out, const char *what, struct cr_err *e)
{
	if (len % 4)
		return cr_fail(e, "%s: base64 length %zu is not a multiple of 4", what, len);
	for (size_t i = 0; i < len; i += 4) {
		int last = i + 4 == len;
		int pad = 0;
		uint32_t v = 0;
		for (int j = 0; j < 4; j++) {
			char c = text[i + j];
			int s = sextet(c);
			if (c == '=' && last && j >= 2 && (j == 3 || text[i + 3] == '=')) {
				pad++;
				s = 0;
			} else if (s < 0 || pad) {
				return cr_fail(e, "%s: invalid base64 character at offset %zu", what, i + j);
			}
			v = v << 6 | (uint32_t)s;
		}
		uint8_t b[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
		if ((pad == 1 && b[2]) || (pad == 2 && b[1]))
			return cr_fail(e, "%s: non-canonical base64 (stray bits before the padding)", what);
		if (cr_buf_put(out, b, (size_t)(3 - pad), e))
			return cr_err_wrap(e, "%s", what);
	}
	return 0;
}
