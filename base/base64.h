/* Base64 (RFC 4648), as DSSE and the bundle carry binary fields in JSON.
 *
 * Encoding writes the standard alphabet (§4) with '=' padding. Decoding
 * accepts what the DSSE spec allows, either alphabet, each strictly:
 *  - standard (§4, '+' '/'): padded with '=' to a multiple of 4;
 *  - URL-safe (§5, '-' '_'): with or without padding; when padded, the
 *    padding is the canonical one;
 *  - no whitespace or other characters, '=' only at the end, the two
 *    alphabets never mixed in one string, and the unused bits of the last
 *    character zero — so a byte string has one accepted text per form. */
#ifndef CLEANROOM_BASE64_H
#define CLEANROOM_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

/* Characters base64 needs for n bytes (without a NUL). */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)

enum base64_form {
	BASE64_STD,       /* '+' '/', padded */
	BASE64_URL,       /* '-' '_', padded */
	BASE64_URL_NOPAD, /* '-' '_', no padding */
};

/* Append the encoding of n bytes to out. */
int base64_encode(const uint8_t *in, size_t n, struct cr_buf *out, struct cr_err *e);
int base64_encode_form(const uint8_t *in, size_t n, enum base64_form form, struct cr_buf *out, struct cr_err *e);
/* Decode text of length len into out (at most max bytes, else an error).
 * `what` names the field in error messages. */
int base64_decode(const char *text, size_t len, struct cr_buf *out, const char *what, struct cr_err *e);

#endif
