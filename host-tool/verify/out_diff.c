/* Two output directories compared file by file (out_diff.h). */
#include "report/report.h"
#include "host-tool/verify/out_diff.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirwalk.h"
#include "base/term.h"
#include "host-tool/verify/bundle_verify.h"

#define CHUNK (1 << 16)

/* A regular file as the walk found it: what is opened later must be it
 * (a directory of the tree swapped for a symlink meanwhile would otherwise
 * lead the open, and the context bytes printed, outside the tree). */
struct tfile {
	char *rel;
	dev_t dev;
	ino_t ino;
	uint64_t size;
};

struct tree {
	const char *root;
	const char *const *ignore;
	size_t nignore;
	struct tfile *f;
	size_t n, cap;
};

static int collect(void *ctx, const struct dirwalk_entry *x, struct cr_err *e)
{
	struct tree *t = ctx;
	static const char *const report_files[REPORT_NFILES] = REPORT_FILES;
	/* An ignored directory: left out with everything in it (1: the walk
	 * skips its contents). */
	for (size_t i = 0; i < t->nignore; i++)
		if (!strcmp(x->rel, t->ignore[i]))
			return S_ISDIR(x->st.st_mode) ? 1 : 0;
	if (S_ISDIR(x->st.st_mode))
		return 0;
	for (size_t i = 0; x->depth == 1 && i < REPORT_NFILES; i++)
		if (!strcmp(x->rel, report_files[i]))
			return 0; /* each build's own report: it always differs */
	if (!S_ISREG(x->st.st_mode))
		return cr_fail(e, "%s is %s: diff compares regular files (--ignore %s to leave it out)", x->path,
			       dirwalk_kind(x->st.st_mode), x->rel);
	if (t->n == OUT_DIFF_MAX_FILES)
		return cr_fail(e, "%s: more than %d files", t->root, OUT_DIFF_MAX_FILES);
	if (t->n == t->cap) {
		struct tfile *nv = realloc(t->f, (t->cap = t->cap ? 2 * t->cap : 64) * sizeof *nv);
		if (!nv)
			return cr_fail(e, "out of memory");
		t->f = nv;
	}
	if (!(t->f[t->n].rel = strdup(x->rel)))
		return cr_fail(e, "out of memory");
	t->f[t->n].dev = x->st.st_dev;
	t->f[t->n].ino = x->st.st_ino;
	t->f[t->n].size = (uint64_t)x->st.st_size;
	t->n++;
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tfile *)a)->rel, ((const struct tfile *)b)->rel);
}

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->f[i].rel);
	free(t->f);
}

static int tree_read(struct tree *t, const char *root, const char *const *ignore, size_t nignore, struct cr_err *e)
{
	struct stat st;
	memset(t, 0, sizeof *t);
	t->root = root;
	t->ignore = ignore;
	t->nignore = nignore;
	if (lstat(root, &st))
		return cr_failp(e, "%s", root);
	if (!S_ISDIR(st.st_mode))
		return cr_fail(e, "%s is %s, not an output directory", root, cr_file_kind(st.st_mode));
	if (dirwalk(root, collect, t, e))
		return -1;
	if (t->n)
		qsort(t->f, t->n, sizeof *t->f, by_path);
	return 0;
}

static struct od_entry *add(struct out_diff *d, enum od_kind kind, const char *rel, struct cr_err *e)
{
	struct od_entry *x = &d->entries[d->n];
	if (!(x->rel = strdup(rel))) {
		cr_fail(e, "out of memory");
		return NULL;
	}
	x->kind = kind;
	d->n++;
	d->ndiffer += kind == OD_DIFFER;
	d->nonly_a += kind == OD_ONLY_A;
	d->nonly_b += kind == OD_ONLY_B;
	return x;
}

/* Read up to n bytes at off (fewer at the end of the file). */
static ssize_t read_at(int fd, uint8_t *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* The first offset where the two open files differ (UINT64_MAX: none). */
static int first_difference(int fa, int fb, uint64_t size_a, uint64_t size_b, uint64_t *at, const char *pa,
			    const char *pb, struct cr_err *e)
{
	uint64_t n = size_a < size_b ? size_a : size_b, off = 0;
	uint8_t *ba = malloc(CHUNK), *bb = malloc(CHUNK);
	int rc = 0;
	*at = UINT64_MAX;
	if (!ba || !bb)
		rc = cr_fail(e, "out of memory");
	while (!rc && off < n && *at == UINT64_MAX) {
		size_t want = n - off < CHUNK ? (size_t)(n - off) : CHUNK;
		ssize_t ra = read_at(fa, ba, want, off), rb = read_at(fb, bb, want, off);
		if (ra != (ssize_t)want || rb != (ssize_t)want) {
			errno = ra < 0 || rb < 0 ? errno : EIO;
			rc = cr_failp(e, "%s: read (did it shrink while being read?)", ra != (ssize_t)want ? pa : pb);
			break;
		}
		if (memcmp(ba, bb, want))
			for (size_t i = 0; i < want; i++)
				if (ba[i] != bb[i]) {
					*at = off + i;
					break;
				}
		off += want;
	}
	if (!rc && *at == UINT64_MAX && size_a != size_b)
		*at = n;
	free(ba);
	free(bb);
	return rc;
}

/* Open root/f->rel, which must be the file the walk found (CR_IN_SAME:
 * the same inode), still of the size it had. */
static int open_found(const char *path, const struct tfile *f, struct stat *st, struct cr_err *e)
{
	int fd;
	st->st_dev = f->dev;
	st->st_ino = f->ino;
	fd = cr_open_input(NULL, path, BV_ARTIFACT_MAX, CR_IN_NOFOLLOW | CR_IN_SAME, st, e);
	if (fd >= 0 && (uint64_t)st->st_size != f->size) {
		close(fd);
		return cr_fail(e, "%s: changed while the directories were being compared", path);
	}
	return fd;
}

static int compare_pair(struct out_diff *d, const char *ra, const char *rb, const struct tfile *a,
			const struct tfile *b, struct cr_err *e)
{
	const char *rel = a->rel;
	struct stat sa, sb;
	uint64_t at;
	int fa, fb = -1, rc = -1;
	struct od_entry *x;
	fa = open_found(ra, a, &sa, e);
	if (fa < 0 || (fb = open_found(rb, b, &sb, e)) < 0)
		goto out;
	if (first_difference(fa, fb, (uint64_t)sa.st_size, (uint64_t)sb.st_size, &at, ra, rb, e))
		goto out;
	d->compared++;
	rc = 0;
	if (at == UINT64_MAX)
		goto out;
	if (!(x = add(d, OD_DIFFER, rel, e))) {
		rc = -1;
		goto out;
	}
	x->size_a = (uint64_t)sa.st_size;
	x->size_b = (uint64_t)sb.st_size;
	x->offset = at;
	x->ctx_offset = at < OUT_DIFF_BEFORE ? 0 : at - OUT_DIFF_BEFORE;
	{
		ssize_t na = read_at(fa, x->ctx_a, OUT_DIFF_CONTEXT, x->ctx_offset);
		ssize_t nb = read_at(fb, x->ctx_b, OUT_DIFF_CONTEXT, x->ctx_offset);
		if (na < 0 || nb < 0) {
			rc = cr_failp(e, "%s: read", na < 0 ? ra : rb);
			goto out;
		}
		x->ctx_len_a = (size_t)na;
		x->ctx_len_b = (size_t)nb;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

static int only(struct out_diff *d, enum od_kind kind, const struct tfile *f, struct cr_err *e)
{
	struct od_entry *x;
	if (!(x = add(d, kind, f->rel, e)))
		return -1;
	if (kind == OD_ONLY_A)
		x->size_a = f->size;
	else
		x->size_b = f->size;
	return 0;
}

static int merge(struct out_diff *d, const struct tree *ta, const struct tree *tb, struct cr_err *e)
{
	size_t i = 0, j = 0;
	if (!(d->entries = calloc(ta->n + tb->n + 1, sizeof *d->entries)))
		return cr_fail(e, "out of memory");
	while (i < ta->n || j < tb->n) {
		int c = i == ta->n ? 1 : j == tb->n ? -1 : strcmp(ta->f[i].rel, tb->f[j].rel);
		int rc;
		if (c < 0) {
			rc = only(d, OD_ONLY_A, &ta->f[i++], e);
		} else if (c > 0) {
			rc = only(d, OD_ONLY_B, &tb->f[j++], e);
		} else {
			char pa[2 * PATH_MAX], pb[2 * PATH_MAX];
			snprintf(pa, sizeof pa, "%s/%s", ta->root, ta->f[i].rel);
			snprintf(pb, sizeof pb, "%s/%s", tb->root, tb->f[j].rel);
			rc = compare_pair(d, pa, pb, &ta->f[i], &tb->f[j], e);
			i++, j++;
		}
		if (rc)
			return -1;
	}
	return 0;
}

int out_diff(const char *a, const char *b, const char *const *ignore, size_t nignore, struct out_diff *d,
	     struct cr_err *e)
{
	struct tree ta, tb;
	int rc = -1;
	memset(d, 0, sizeof *d);
	memset(&tb, 0, sizeof tb);
	if (tree_read(&ta, a, ignore, nignore, e) == 0 && tree_read(&tb, b, ignore, nignore, e) == 0)
		rc = merge(d, &ta, &tb, e);
	tree_free(&ta);
	tree_free(&tb);
	return rc;
}

void out_diff_free(struct out_diff *d)
{
	for (size_t i = 0; d->entries && i < d->n; i++)
		free(d->entries[i].rel);
	free(d->entries);
	memset(d, 0, sizeof *d);
}
