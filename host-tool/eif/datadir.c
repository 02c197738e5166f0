#include "host-tool/eif/datadir.h"

#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cr_data_kernel_name(const char *arch)
{
	return strcmp(arch, "aarch64") ? "bzImage" : "Image";
}

/* Cut the last component off path (in place); "/" stays "/". */
static void cut_last(char *path)
{
	char *slash = strrchr(path, '/');
	if (slash && slash != path)
		*slash = 0;
	else if (slash)
		slash[1] = 0;
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cr_data_file(const char *arch, const char *name, char *out, size_t n, struct cr_err *e)
{
	char dir[PATH_MAX], parent[PATH_MAX], cand[4][PATH_MAX + 64];
	int arm = !strcmp(arch, "aarch64"), is_init = !strcmp(name, "init"), nc = 0;
	const char *kdir = arm ? "kernel-aarch64" : "kernel";
	ssize_t len = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (len < 0)
		return cr_failp(e, "/proc/self/exe");
	dir[len] = 0;
	cut_last(dir); /* the executable's directory */
	memcpy(parent, dir, sizeof parent);
	cut_last(parent);
	const char *sep = strcmp(parent, "/") ? "/" : "";

	snprintf(cand[nc++], sizeof cand[0], "%s%slib/cleanroom/%s/%s", parent, sep, arch, name);
	if (!is_init) {
		snprintf(cand[nc++], sizeof cand[0], "%s/%s/%s", dir, kdir, name);
		snprintf(cand[nc++], sizeof cand[0], "%s%s%s/%s", parent, sep, kdir, name);
	} else { /* a build tree: build/init, build/aarch64/init */
		snprintf(cand[nc++], sizeof cand[0], "%s/%s%s", dir, arm ? "aarch64/" : "", name);
		snprintf(cand[nc++], sizeof cand[0], "%s%s%s%s", parent, sep, arm ? "aarch64/" : "", name);
	}
	for (int i = 0; i < nc; i++) {
		if (is_file(cand[i])) {
			if (strlen(cand[i]) >= n)
				return cr_fail(e, "%s: path longer than %zu bytes", cand[i], n - 1);
			memcpy(out, cand[i], strlen(cand[i]) + 1);
			return 0;
		}
	}
	if (nc == 1)
		return cr_fail(e, "%s for %s not found: looked at %s (installed by 'make install')", name, arch,
			       cand[0]);
	return cr_fail(
		e, "%s for %s not found: looked at %s (installed by 'make install'), %s and %s (a build tree: '%s')",
		name, arch, cand[0], cand[1], cand[2],
		is_init ? (arm ? "make init-aarch64" : "make")
		: arm   ? "make kernel-aarch64"
			: "make kernel");
}

int cr_data_qemu_nitro(char *out, size_t n, struct cr_err *e)
{
	static const char bin[] = "qemu-nitro/qemu-system-x86_64";
	char dir[PATH_MAX], parent[PATH_MAX], cand[3][PATH_MAX + 64];
	ssize_t len = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (len < 0)
		return cr_failp(e, "/proc/self/exe");
	dir[len] = 0;
	cut_last(dir);
	memcpy(parent, dir, sizeof parent);
	cut_last(parent);
	const char *sep = strcmp(parent, "/") ? "/" : "";
	snprintf(cand[0], sizeof cand[0], "%s%slib/cleanroom/%s", parent, sep, bin);
	snprintf(cand[1], sizeof cand[1], "%s/%s", dir, bin);
	snprintf(cand[2], sizeof cand[2], "%s%s%s", parent, sep, bin);
	for (int i = 0; i < 3; i++) {
		if (is_file(cand[i]) && access(cand[i], X_OK) == 0) {
			if (strlen(cand[i]) >= n)
				return cr_fail(e, "%s: path longer than %zu bytes", cand[i], n - 1);
			memcpy(out, cand[i], strlen(cand[i]) + 1);
			return 0;
		}
	}
	return cr_fail(
		e,
		"no QEMU with the nitro-enclave machine: looked at %s, %s and %s (build it with 'make qemu-nitro' "
		"in the source tree, or give --qemu PATH)",
		cand[0], cand[1], cand[2]);
}
