#include "init/config_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int config_read(const char *path, int is_env, struct str_list *out, struct cr_err *e)
{
	uint8_t *data;
	size_t len, n = 0, start = 0, line = 1;
	memset(out, 0, sizeof *out);
	if (cr_read_file(path, CONFIG_MAX_BYTES, &data, &len, e)) {
		/* Absent only when the failing call itself said ENOENT: errno is
		 * not that call's after a size or type refusal (CR_E_TOOBIG,
		 * CR_E_NOTREG set no errno), and may be an earlier ENOENT. */
		if (e->code == CR_E_FAIL && e->sys_errno == ENOENT)
			return 1;
		return -1;
	}
	if (memchr(data, 0, len)) {
		free(data);
		return cr_fail(e, "%s: contains a NUL byte", path);
	}
	out->text = (char *)data;
	out->v = calloc(CONFIG_MAX_ENTRIES + 1, sizeof *out->v);
	if (!out->v) {
		config_free(out);
		return cr_fail(e, "out of memory");
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && data[i] != '\n')
			continue;
		if (i == len && i == start)
			break; /* final newline, or an empty file */
		data[i] = 0;
		if (n == CONFIG_MAX_ENTRIES) {
			config_free(out);
			return cr_fail(e, "%s: more than %d lines", path, CONFIG_MAX_ENTRIES);
		}
		if (is_env) {
			char *eq = strchr((char *)data + start, '=');
			if (!eq || eq == (char *)data + start) {
				config_free(out);
				return cr_fail(e, "%s: line %zu: expected KEY=VALUE", path, line);
			}
		}
		out->v[n++] = (char *)data + start;
		start = i + 1;
		line++;
	}
	out->n = n;
	if (!n) { /* AWS: an empty file means "use the defaults" */
		free(out->v);
		out->v = NULL;
	}
	return 0;
}

void config_free(struct str_list *l)
{
	free(l->v);
	free(l->text);
	memset(l, 0, sizeof *l);
}
