/* The --out staging directory of cleanroom build (staging.h). */
#include "host-tool/client/staging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* mkdir -p. *first (may be NULL) gets the length of the first directory it
 * created (every one below it is new too), 0 when none was made: what to
 * remove again. */
static int mkdir_p(const char *path, size_t *first, struct cr_err *e)
{
	char p[PATH_MAX];
	if (first)
		*first = 0;
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0755) == 0) {
			if (first && !*first)
				*first = strlen(p);
		} else if (errno != EEXIST) {
			return cr_failp(e, "mkdir %s", p);
		}
		if (!c)
			return 0;
		*s = '/';
	}
}

/* Remove path and its parents up to the first length made (mkdir_p's),
 * each only if empty. */
static void rmdir_made(const char *path, size_t first)
{
	char p[PATH_MAX];
	if (!first)
		return;
	snprintf(p, sizeof p, "%s", path);
	while (strlen(p) >= first) {
		char *s;
		if (rmdir(p) < 0 || !(s = strrchr(p, '/')) || s == p)
			return;
		*s = 0;
	}
}

int staging_open(struct staging *st, const char *out, struct cr_err *e)
{
	struct stat sb;
	memset(st, 0, sizeof *st);
	snprintf(st->out, sizeof st->out, "%s", out);
	if (stat(out, &sb) < 0) {
		if (errno != ENOENT)
			return cr_failp(e, "--out %s", out);
		if (mkdir_p(out, &st->created_out, e)) {
			rmdir_made(out, st->created_out);
			return cr_err_wrap(e, "--out");
		}
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
	rmdir_made(st->out, st->created_out); /* --out and the parents made for it */
	st->dir[0] = 0;
}

/* Every directory on the way from --out to rel's parent is a directory
 * or missing: a symlink there would carry the file out of --out, a file
 * would fail the move half-way. */
static int check_parents(const struct staging *st, const char *rel, struct cr_err *e)
{
	char p[PATH_MAX];
	size_t base = strlen(st->out);
	struct stat sb;
	snprintf(p, sizeof p, "%s/%s", st->out, rel);
	for (char *s = p + base + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (lstat(p, &sb) < 0) {
			if (errno == ENOENT)
				return 0; /* created at commit, and below it too */
			return cr_failp(e, "%s", p);
		}
		if (!S_ISDIR(sb.st_mode))
			return cr_fail_code(e, CR_E_NOTREG, "%s is %s, not a directory: nothing was moved into --out",
					    p, S_ISLNK(sb.st_mode) ? "a symlink" : "not a directory");
		*s = '/';
	}
	return 0;
}

/* One file's move, to undo if a later one fails. */
struct moved {
	size_t made; /* parent directories created for it (mkdir_p's first) */
	int backup;  /* the old file at its place was linked to a backup first */
	int renamed;
};

static void backup_path(const struct staging *st, size_t i, char *p, size_t cap)
{
	snprintf(p, cap, "%s/.cleanroom-old.%zu", st->dir, i);
}

/* Put back what files [0, n) did: the staged files into the staging
 * directory, the old files into place, the new directories removed. */
static void undo(struct staging *st, struct moved *mv, size_t n)
{
	while (n--) {
		char from[PATH_MAX], to[PATH_MAX], old[PATH_MAX], parent[PATH_MAX];
		snprintf(from, sizeof from, "%s/%s", st->dir, st->files[n]);
		snprintf(to, sizeof to, "%s/%s", st->out, st->files[n]);
		backup_path(st, n, old, sizeof old);
		if (mv[n].renamed)
			rename(to, from);
		if (mv[n].backup)
			rename(old, to);
		snprintf(parent, sizeof parent, "%s", to);
		*strrchr(parent, '/') = 0;
		rmdir_made(parent, mv[n].made);
	}
}

int staging_commit(struct staging *st, struct cr_err *e)
{
	struct moved mv[sizeof st->files / sizeof st->files[0]];
	size_t i;
	/* First every destination and the directories on its way, then any
	 * rename: a rename replaces whatever the name holds (as root, "--out
	 * /dev --output null" would replace the device), and a refusal
	 * half-way would leave outputs without their report. Only a regular
	 * file, or nothing, is replaced. */
	for (i = 0; i < st->nfiles; i++) {
		char to[PATH_MAX];
		snprintf(to, sizeof to, "%s/%s", st->out, st->files[i]);
		if (check_parents(st, st->files[i], e) || cr_check_replaceable(to, "nothing was moved into --out", e))
			return -1;
	}
	/* Then the moves; one that fails undoes those before it, so --out
	 * holds all of the build or what it held before. */
	memset(mv, 0, sizeof mv);
	for (i = 0; i < st->nfiles; i++) {
		char from[PATH_MAX], to[PATH_MAX], parent[PATH_MAX], old[PATH_MAX];
		snprintf(from, sizeof from, "%s/%s", st->dir, st->files[i]);
		snprintf(to, sizeof to, "%s/%s", st->out, st->files[i]);
		snprintf(parent, sizeof parent, "%s", to);
		*strrchr(parent, '/') = 0;
		if (mkdir_p(parent, &mv[i].made, e)) {
			errno = e->sys_errno; /* the mkdir's, named below */
			goto fail;
		}
		/* The old file, kept by a second link until the whole commit
		 * is through (a file system without hard links: not kept). */
		backup_path(st, i, old, sizeof old);
		mv[i].backup = link(to, old) == 0;
		if (rename(from, to) < 0)
			goto fail;
		mv[i].renamed = 1;
	}
	for (i = 0; i < st->nfiles; i++)
		if (mv[i].backup) {
			char old[PATH_MAX];
			backup_path(st, i, old, sizeof old);
			unlink(old);
		}
	staging_abort(st); /* removes the now empty staging directory */
	return 0;
fail : {
	char to[PATH_MAX];
	int err = errno;
	snprintf(to, sizeof to, "%s/%s", st->out, st->files[i]);
	undo(st, mv, i + 1);
	errno = err;
	return cr_failp(e, "move %s into place (nothing of this build was left in --out)", to);
}
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
	if (mkdir_p(parent, NULL, e) || staging_record(st, rel, e))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return cr_failp(e, "%s", path);
	return fd;
}
