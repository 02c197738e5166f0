/* The customer ramdisk's /cmd and /env files, read as AWS's init reads them:
 * one entry per line, the trailing '\n' stripped, no quoting or splitting.
 * Bounded: at most CONFIG_MAX_BYTES per file and CONFIG_MAX_ENTRIES lines.
 * An /env line must look like KEY=VALUE (a bad one is refused, naming it). */
#ifndef CLEANROOM_INIT_CONFIG_FILE_H
#define CLEANROOM_INIT_CONFIG_FILE_H

#include <stddef.h>

#include "base/util.h"

#define CONFIG_MAX_BYTES (1u << 20)
#define CONFIG_MAX_ENTRIES 4096

struct str_list {
	char **v; /* NULL-terminated; NULL when the file is empty (= defaults) */
	size_t n;
	char *text; /* backing storage */
};

/* Returns 0 (read), 1 (file absent: out is empty) or -1 with e. */
int config_read(const char *path, int is_env, struct str_list *out, struct cr_err *e);
void config_free(struct str_list *l);

#endif
