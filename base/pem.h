/* PEM decoding (BearSSL's br_pem_decoder): the one place that turns PEM
 * text into DER for certificates and keys. */
#ifndef CLEANROOM_PEM_H
#define CLEANROOM_PEM_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define PEM_MAX_OBJECTS 16
#define PEM_MAX_DER (64u * 1024)
#define PEM_FILE_MAX (1u << 20) /* a PEM file read by pem_read_file() */

struct pem_object {
	char name[64]; /* e.g. "CERTIFICATE", "EC PRIVATE KEY", "PRIVATE KEY" */
	uint8_t *der;
	size_t len;
};

struct pem_list {
	struct pem_object obj[PEM_MAX_OBJECTS];
	size_t n;
};

/* Decode every object of a PEM text (at most PEM_MAX_OBJECTS, each at most
 * PEM_MAX_DER bytes). Fails on malformed PEM or when no object is found. */
int pem_decode(const uint8_t *text, size_t len, struct pem_list *out, struct cr_err *e);
void pem_free(struct pem_list *l);
/* One object as PEM text (64-character lines, LF) into buf, NUL-terminated:
 * its length without the NUL, or 0 when it does not fit in cap. */
size_t pem_encode(const char *name, const uint8_t *der, size_t len, char *buf, size_t cap);
/* Read a file and decode it; what names the file in errors. */
int pem_read_file(const char *path, struct pem_list *out, struct cr_err *e);
/* The first object whose name is `name`, or NULL. */
const struct pem_object *pem_find(const struct pem_list *l, const char *name);
/* pem_read_file(), then its first CERTIFICATE into *cert (pointing into
 * out); a file without one is an error naming it, and frees out. */
int pem_read_cert(const char *path, struct pem_list *out, const struct pem_object **cert, struct cr_err *e);

#endif
