/* The --out staging directory of cleanroom build (staging.h). */
#include "host-tool/client/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path, struct cr_err *e)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return cr_failp(e, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return cr_failp(e, "mkdir %s", p);
	return 0;
}

int staging_open(struct staging *st, const char *out, struct cr_err *e)
{
	struct stat sb;
	memset(st, 0, sizeof *st);
	snprintf(st->out, sizeof st->out, "%s", out);
	if (stat(out, &sb) < 0) {
		if (errno != ENOENT)
			return cr_failp(e, "--out %s", out);
		if (mkdir_p(out, e))
			return cr_err_wrap(e, "--out");
		st->created_out = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		return cr_fail(e, "--out %s: not a directory", out);
	}
	snprintf(st->dir, sizeof st->dir, "%s/.cleanroom-staging.XXXXXX", out);
	if (!mkdtemp(st->dir))
		return cr_failp(e, "--out %s: create a staging directory", out);
	return 0;
}

void staging_abort(struct staging *st)
{
	if (!st->dir[0])
		return;
	/* Only our own files: remove them one by one, then the directories. */
	for (size_t i = 0; i < st->nfiles; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s/%s", st->dir, st->files[i]);
		unlink(p);
		for (char *s = strrchr(p, '/'); s && s > p + strlen(st->dir); s = strrchr(p, '/')) {
			*s = 0;
			if (rmdir(p) < 0)
				break;
		}
		free(st->files[i]);
	}
	st->nfiles = 0;
	rmdir(st->dir);
	if (st->created_out)
		rmdir(st->out);
	st->dir[0] = 0;
}

int staging_commit(struct staging *st, struct cr_err *e)
{
	/* First every destination, then any rename: a rename replaces whatever
	 * the name holds (as root, "--out /dev --output null" would replace the
	 * device), and a refusal half-way would leave outputs without their
	 * report. Only a regular file, or nothing, is replaced. */
	for (size_t i = 0; i < st->nfiles; i++) {
		char to[PATH_MAX];
		snprintf(to, sizeof to, "%s/%s", st->out, st->files[i]);
		if (cr_check_replaceable(to, "nothing was moved into --out", e))
			return -1;
	}
	for (size_t i = 0; i < st->nfiles; i++) {
		char from[PATH_MAX], to[PATH_MAX], parent[PATH_MAX];
		char *slash;
		snprintf(from, sizeof from, "%s/%s", st->dir, st->files[i]);
		snprintf(to, sizeof to, "%s/%s", st->out, st->files[i]);
		snprintf(parent, sizeof parent, "%s", to);
		slash = strrchr(parent, '/');
		*slash = 0;
		if (mkdir_p(parent, e))
			errno = e->sys_errno; /* the mkdir's, named below */
		else if (rename(from, to) == 0)
			continue;
		return cr_failp(e, "move %s into place", to);
	}
	staging_abort(st); /* removes the now empty staging directory */
	return 0;
}

int staging_has(const struct staging *st, const char *rel)
{
	for (size_t i = 0; i < st->nfiles; i++)
		if (!strcmp(st->files[i], rel))
			return 1;
	return 0;
}

int staging_record(struct staging *st, const char *rel, struct cr_err *e)
{
	if (st->nfiles >= sizeof st->files / sizeof st->files[0])
		return cr_fail(e, "internal: more than %zu staged files", sizeof st->files / sizeof st->files[0]);
	if (!(st->files[st->nfiles] = strdup(rel)))
		return cr_fail(e, "out of memory");
	st->nfiles++;
	return 0;
}

int staging_create(struct staging *st, const char *rel, int mode, char *path, size_t cap, struct cr_err *e)
{
	char parent[PATH_MAX];
	int fd;
	snprintf(path, cap, "%s/%s", st->dir, rel);
	snprintf(parent, sizeof parent, "%s", path);
	*strrchr(parent, '/') = 0;
	if (mkdir_p(parent, e) || staging_record(st, rel, e))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return cr_failp(e, "%s", path);
	return fd;
}
