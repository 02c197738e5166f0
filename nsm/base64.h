/* Base64 (RFC 4648 §4, standard alphabet, '=' padding), as DSSE and the
 * bundle carry binary fields in JSON. Decoding is strict: no whitespace, no
 * missing or extra padding, no non-zero bits after the last byte — so each
 * byte string has exactly one accepted text. */
#ifndef CLEANROOM_BASE64_H
#define CLEANROOM_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Characters base64 needs for n bytes (without a NUL). */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)

/* Append the encoding of n bytes to out. */
int base64_encode(const uint8_t *in, size_t n, struct cr_buf *out, struct cr_err *e);
/* Decode text of length len into out (at most max bytes, else an error).
 * `what` names the field in error messages. */
int base64_decode(const char *text, size_t len, struct cr_buf *out, const char *what, struct cr_err *e);

#endif
