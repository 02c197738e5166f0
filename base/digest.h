/* Digest sizes, in bytes, and the length of their hex text: one name each,
 * used wherever a hash, a tree id or a PCR is stored, copied or printed. */
#ifndef CLEANROOM_DIGEST_H
#define CLEANROOM_DIGEST_H

#define CR_SHA1_LEN 20
#define CR_SHA256_LEN 32
#define CR_SHA384_LEN 48
/* A Nitro PCR: a SHA-384 register. */
#define CR_PCR_LEN CR_SHA384_LEN

/* Lowercase hex of n bytes with its NUL (cr_hex's output size). */
#define CR_HEX_SIZE(n) (2 * (n) + 1)

#endif
