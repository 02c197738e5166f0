/* A shared library opened at run time instead of linked, for the libraries
 * only one command needs (libarchive, libcrypto): linking them would cost
 * every command their load time at start-up. */
#ifndef CLEANROOM_DL_SYMS_H
#define CLEANROOM_DL_SYMS_H

#include <stddef.h>

#include "base/util.h"

/* Open soname and resolve names[i] into the function pointer at slots[i]
 * (the address of a function-pointer variable of the symbol's real type).
 * 0, or -1 with e naming the library or the first missing symbol (the
 * slots then all NULL, the library closed). On success the library stays
 * open. Not thread-safe: callers run it once (pthread_once,
 * or before any thread that uses the pointers). */
int dl_syms(const char *soname, const char *const names[], void *const slots[], size_t n, struct cr_err *e);

#endif
