#include "host-tool/eif/datadir.h"

#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

int cr_data_file(const char *name, char *out, size_t n, struct cr_err *e)
{
	static const char *const where[] = {"kernel/", "../kernel/", "", "../", "../lib/cleanroom/"};
	char exe[PATH_MAX], *dir;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len < 0)
		return cr_failp(e, "/proc/self/exe");
	exe[len] = 0;
	dir = dirname(exe);
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		if ((size_t)snprintf(out, n, "%s/%s%s", dir, where[i], name) < n && access(out, R_OK) == 0)
			return 0;
	}
	return cr_fail(e, "%s: not found next to %s (build it with 'make' or 'make kernel', or install with "
			  "'make install')", name, dir);
}
