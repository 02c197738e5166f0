/* /sys/fs/cgroup as AWS's init mounts it, or cgroup v2 (cgroup_mounts.h). */
#include "init/cgroup_mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
#define FLAGS_NNN (MS_NODEV | MS_NOSUID | MS_NOEXEC)
#define PROC_CGROUPS_MAX 8192

static int name_ok(const char *s, size_t n)
{
	if (n == 0 || n > CGROUP_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int cgroup_parse_enabled(const char *text, char names[][CGROUP_NAME_MAX + 1], size_t *n, struct cr_err *e)
{
	const char *line = strchr(text, '\n'); /* the header: "#subsys_name hierarchy ..." */
	unsigned lineno = 1;
	*n = 0;
	if (!line)
		return cr_fail(e, "/proc/cgroups: no header line");
	for (line++; *line; lineno++) {
		const char *end = strchr(line, '\n');
		char name[CGROUP_NAME_MAX + 2];
		unsigned hier, groups, enabled;
		int used = 0;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char buf[160];
		if (len >= sizeof buf)
			return cr_fail(e, "/proc/cgroups line %u: longer than %zu bytes", lineno + 1, sizeof buf - 1);
		memcpy(buf, line, len);
		buf[len] = 0;
		if (sscanf(buf, "%65s %u %u %u%n", name, &hier, &groups, &enabled, &used) != 4 || buf[used] != 0 ||
		    !name_ok(name, strlen(name)) || enabled > 1)
			return cr_fail(e, "/proc/cgroups line %u: expected 'name hierarchy num_cgroups enabled'",
				       lineno + 1);
		if (enabled) {
			if (*n == CGROUP_MAX_CONTROLLERS)
				return cr_fail(e, "/proc/cgroups: more than %d enabled controllers",
					       CGROUP_MAX_CONTROLLERS);
			memcpy(names[(*n)++], name, strlen(name) + 1);
		}
		line = end ? end + 1 : line + len;
	}
	return 0;
}

/* Undo the v1 mounts (the tmpfs under them goes with the directories). */
static void undo_v1(char names[][CGROUP_NAME_MAX + 1], size_t mounted, int tmpfs)
{
	char path[sizeof CG_ROOT + CGROUP_NAME_MAX + 1];
	while (mounted > 0) {
		snprintf(path, sizeof path, "%s/%s", CG_ROOT, names[--mounted]);
		umount2(path, MNT_DETACH);
	}
	if (tmpfs)
		umount2(CG_ROOT, MNT_DETACH);
}

int cgroup_mount_like_aws(struct cgroup_layout *out, struct cr_err *e)
{
	static char names[CGROUP_MAX_CONTROLLERS][CGROUP_NAME_MAX + 1];
	char path[sizeof CG_ROOT + CGROUP_NAME_MAX + 1];
	size_t n = 0, i, len;
	uint8_t *text;
	int rc;

	memset(out, 0, sizeof *out);
	if (cr_read_file("/proc/cgroups", PROC_CGROUPS_MAX, &text, &len, e))
		return -1;
	rc = cgroup_parse_enabled((const char *)text, names, &n, e);
	free(text);
	if (rc)
		return -1;
	if (n == 0) {
		snprintf(out->why, sizeof out->why, "/proc/cgroups lists no enabled controller");
		goto v2;
	}
	if (mount("cgroup_root", CG_ROOT, "tmpfs", FLAGS_NNN, "mode=0755") < 0)
		return cr_failp(e, "mount cgroup_root (tmpfs) on %s", CG_ROOT);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", CG_ROOT, names[i]);
		if (mkdir(path, 0755) < 0) {
			int err = errno;
			undo_v1(names, i, 1);
			errno = err;
			return cr_failp(e, "mkdir %s", path);
		}
		if (mount(names[i], path, "cgroup", FLAGS_NNN, names[i]) < 0) {
			snprintf(out->why, sizeof out->why, "cgroup v1 %s: %s", names[i], strerror(errno));
			undo_v1(names, i, 1);
			goto v2;
		}
	}
	out->n = n;
	return 0;
v2:
	out->v2 = 1;
	if (mount("cgroup2", CG_ROOT, "cgroup2", FLAGS_NNN, NULL) < 0)
		return cr_failp(e, "mount cgroup2 (cgroup2) on %s", CG_ROOT);
	return 0;
}
