#include "base/dirwalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *dirwalk_kind(mode_t m)
{
	return cr_file_kind(m);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory open as dfd, sorted; *n gets the count. path
 * names it in errors. */
static int list_dir(int dfd, const char *path, char ***out, size_t *n, struct cr_err *e)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0); /* closedir closes it, not dfd */
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	if (!d) {
		cr_failp(e, "%s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof *v);
			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[*n] = strdup(de->d_name)))
			goto oom;
		(*n)++;
	}
	if (errno) {
		cr_failp(e, "%s: reading directory", path);
		goto fail;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, by_name);
	*out = v;
	return 0;
oom:
	cr_fail(e, "out of memory");
fail:
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	free(v);
	closedir(d);
	return -1;
}

/* Open the directory name under dfd (path in errors), which must still be
 * the one st describes: O_DIRECTORY (never a FIFO or a device, never
 * blocking) and, below the root, O_NOFOLLOW (a directory swapped for a
 * symlink since the fstatat is refused, not followed). */
static int open_dir_checked(int dfd, const char *name, const char *path, int nofollow, const struct stat *st,
			    struct cr_err *e)
{
	struct stat now;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return cr_failp(e, "%s", path);
	if (fstat(fd, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino) {
		close(fd);
		return cr_fail(e, "%s: changed while the tree was being read", path);
	}
	return fd;
}

static int walk(int dfd, const char *path, const char *rel, int depth, dirwalk_fn fn, void *ctx, struct cr_err *e)
{
	char **names = NULL;
	size_t n;
	int rc = 0;
	if (depth > DIRWALK_MAX_DEPTH)
		return cr_fail(e, "%s: directories nested deeper than %d", path, DIRWALK_MAX_DEPTH);
	if (list_dir(dfd, path, &names, &n, e))
		return -1;
	for (size_t i = 0; i < n && !rc; i++) {
		char cpath[PATH_MAX], crel[PATH_MAX];
		struct dirwalk_entry x;
		if ((size_t)snprintf(cpath, sizeof cpath, "%s/%s", path, names[i]) >= sizeof cpath ||
		    (size_t)snprintf(crel, sizeof crel, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= sizeof crel) {
			rc = cr_fail(e, "%s/%s: path too long", path, names[i]);
			break;
		}
		x.path = cpath;
		x.rel = crel;
		x.name = names[i];
		x.depth = depth + 1;
		x.dir_fd = dfd;
		if (fstatat(dfd, names[i], &x.st, AT_SYMLINK_NOFOLLOW)) {
			rc = cr_failp(e, "%s", cpath);
			break;
		}
		rc = fn(ctx, &x, e);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (rc == 0 && S_ISDIR(x.st.st_mode)) {
			int sub = open_dir_checked(dfd, names[i], cpath, 1, &x.st, e);
			rc = sub < 0 ? -1 : walk(sub, cpath, crel, depth + 1, fn, ctx, e);
			if (sub >= 0)
				close(sub);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc < 0 ? -1 : 0;
}

int dirwalk(const char *root, dirwalk_fn fn, void *ctx, struct cr_err *e)
{
	struct stat st;
	int fd, rc;
	/* stat() opens nothing: a FIFO or a device here is refused, not read */
	if (stat(root, &st))
		return cr_failp(e, "%s", root);
	if (!S_ISDIR(st.st_mode))
		return cr_fail_code(e, CR_E_NOTDIR, "%s is %s, not a directory", root, dirwalk_kind(st.st_mode));
	/* the root itself may be named through a symlink */
	fd = open_dir_checked(AT_FDCWD, root, root, 0, &st, e);
	if (fd < 0)
		return -1;
	rc = walk(fd, root, "", 0, fn, ctx, e);
	close(fd);
	return rc;
}
