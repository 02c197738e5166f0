#include "host-tool/eif/oci_unpack.h"

#include <fcntl.h>
#include <stdlib.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-tool/eif/archive_lazy.h"
#include "host-tool/eif/oci_apply.h"
#include "base/term.h"

/* PATH[:TAG|@DIGEST]: the path is the longest prefix that exists when the
 * whole argument does not (paths may contain ':'; tags may too). */
static int split_ref(const char *arg, char *path, size_t n, const char **ref, struct cr_err *e)
{
	struct stat st;
	size_t len = strlen(arg);
	*ref = NULL;
	if (len == 0 || len >= n)
		return cr_fail(e, "--oci: empty or too long");
	memcpy(path, arg, len + 1);
	if (lstat(arg, &st) == 0)
		return 0;
	for (size_t i = len; i-- > 0;) {
		if (arg[i] != ':' && arg[i] != '@')
			continue;
		path[i] = 0;
		if (lstat(path, &st) == 0) {
			*ref = arg + i + (arg[i] == ':');
			if (!**ref || strlen(*ref) > OCI_NAME_MAX)
				return cr_fail(e, "--oci %s: empty or too long tag", cr_term_arg(arg));
			if (arg[i] == '@') {
				struct oci_digest d;
				if (oci_digest_parse(arg + i + 1, &d))
					return cr_fail(e, "--oci %s: '@' must be followed by sha256:<64 hex>",
						       cr_term_arg(arg));
			}
			return 0;
		}
		memcpy(path, arg, len + 1);
	}
	return cr_fail(e, "--oci %s: no such file or directory", cr_term_arg(arg));
}

int oci_unpack(const char *arg, const char *arch, uint64_t max_unpacked, struct oci_tmp *tmp, struct oci_image *img,
	       char *rootfs, size_t rootfs_size, struct cr_err *e)
{
	const char *goarch = !strcmp(arch, "aarch64") ? "arm64" : "amd64";
	char path[4096];
	const char *ref;
	struct oci_src src = { 0, -1, NULL };
	struct oci_budget b = { max_unpacked, 0, 0, 0 };
	int rootfd = -1, rc = -1;
	char *saved_locale = NULL;
	const char *cur;
	mode_t saved_umask = 0;
	int umask_set = 0;
	tmp->fd = -1;
	tmp->path[0] = 0;
	memset(img, 0, sizeof *img);
	if (archive_lazy_load(e) || split_ref(arg, path, sizeof path, &ref, e) || oci_src_open(&src, path, e))
		return -1;
	if (ref && ref[-1] == '@')
		ref--; /* "@sha256:..." selects by digest */
	if (oci_image_load(&src, ref, goarch, img, e) || oci_tmp_create(tmp, e))
		goto out;
	/* The tree's modes are the ones oci_apply gives (0755, 0644), not
	 * masked by the caller's umask: the packer keeps the execute bit it
	 * finds, so a umask would reach the ramdisk and PCR2. */
	saved_umask = umask(0);
	umask_set = 1;
	if (mkdirat(tmp->fd, "rootfs", 0755) ||
	    (rootfd = openat(tmp->fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		cr_failp(e, "%s/rootfs", tmp->path);
		goto out;
	}
	if ((size_t)snprintf(rootfs, rootfs_size, "%s/rootfs", tmp->path) >= rootfs_size) {
		cr_fail(e, "TMPDIR: path too long");
		goto out;
	}
	/* PAX headers carry names as UTF-8 (Go's archive/tar writes them for
	 * any non-ASCII name); in the C locale libarchive cannot convert them
	 * and refuses the entry. Names are bytes on disk either way. */
	if (!saved_locale && (cur = setlocale(LC_CTYPE, NULL)) && (saved_locale = strdup(cur)))
		setlocale(LC_CTYPE, "C.UTF-8");
	for (size_t i = 0; i < img->n_layers; i++)
		if (oci_apply_layer(&src, img, i, rootfd, &b, e))
			goto out;
	rc = 0;
out:
	if (umask_set)
		umask(saved_umask);
	if (saved_locale) {
		setlocale(LC_CTYPE, saved_locale);
		free(saved_locale);
	}
	if (rootfd >= 0)
		close(rootfd);
	oci_src_close(&src);
	return rc;
}
