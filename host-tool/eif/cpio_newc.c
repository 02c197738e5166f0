#include "host-tool/eif/cpio_newc.h"

#include "base/dirwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEWC_HDR 110

static uint64_t align4(uint64_t n)
{
	return (n + 3) & ~(uint64_t)3;
}

void cpio_plan_init(struct cpio_plan *p, uint32_t mtime)
{
	memset(p, 0, sizeof *p);
	p->mtime = mtime;
}

void cpio_plan_free(struct cpio_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].src);
		if (S_ISLNK(p->v[i].mode))
			free((void *)p->v[i].data);
	}
	free(p->v);
	memset(p, 0, sizeof *p);
}

static int valid_name(const char *name, struct cr_err *e)
{
	size_t n = strlen(name);
	if (n == 0 || n > CPIO_MAX_NAME)
		return cr_fail(e, "archive path '%s': empty or longer than %d bytes", name, CPIO_MAX_NAME);
	if (name[0] == '/')
		return cr_fail(e, "archive path '%s': must be relative", name);
	return 0;
}

static struct cpio_entry *new_entry(struct cpio_plan *p, const char *name, uint32_t mode, struct cr_err *e)
{
	struct cpio_entry *x;
	if (valid_name(name, e))
		return NULL;
	if (p->n >= CPIO_MAX_ENTRIES) {
		cr_fail(e, "more than %d archive entries", CPIO_MAX_ENTRIES);
		return NULL;
	}
	if (p->n == p->alloc) {
		size_t na = p->alloc ? p->alloc * 2 : 256;
		struct cpio_entry *nv = realloc(p->v, na * sizeof *nv);
		if (!nv) {
			cr_fail(e, "out of memory");
			return NULL;
		}
		p->v = nv;
		p->alloc = na;
	}
	x = &p->v[p->n];
	memset(x, 0, sizeof *x);
	x->name = strdup(name);
	if (!x->name) {
		cr_fail(e, "out of memory");
		return NULL;
	}
	x->mode = mode;
	x->nlink = S_ISDIR(mode) ? 2 : 1;
	p->n++;
	return x;
}

int cpio_add_dir(struct cpio_plan *p, const char *name, struct cr_err *e)
{
	return new_entry(p, name, S_IFDIR | 0755, e) ? 0 : -1;
}

int cpio_add_mem(struct cpio_plan *p, const char *name, int executable, const uint8_t *data, size_t n, struct cr_err *e)
{
	struct cpio_entry *x;
	if (n > UINT32_MAX)
		return cr_fail(e, "%s: larger than the 4 GiB cpio limit", name);
	x = new_entry(p, name, S_IFREG | (executable ? 0755 : 0644), e);
	if (!x)
		return -1;
	x->data = data;
	x->size = n;
	return 0;
}

static int add_regular(struct cpio_plan *p, const char *name, const char *path, const struct stat *st, int executable,
		       struct cr_err *e)
{
	struct cpio_entry *x;
	if ((uint64_t)st->st_size > UINT32_MAX)
		return cr_fail(e, "%s: %lld bytes is larger than the 4 GiB cpio newc limit", path,
			       (long long)st->st_size);
	x = new_entry(p, name, S_IFREG | (executable ? 0755 : 0644), e);
	if (!x)
		return -1;
	x->src = strdup(path);
	if (!x->src)
		return cr_fail(e, "out of memory");
	x->size = x->src_size = (uint64_t)st->st_size;
	x->src_dev = st->st_dev;
	x->src_ino = st->st_ino;
	/* Only files that may have other names in the tree join link groups. */
	x->nlink = st->st_nlink > 1 ? 2 : 1;
	return 0;
}

int cpio_add_file(struct cpio_plan *p, const char *name, const char *path, int executable, struct cr_err *e)
{
	struct stat st;
	/* Type and size checked without opening a FIFO or a device. */
	int fd = cr_open_input(NULL, path, UINT32_MAX, 0, &st, e);
	if (fd < 0)
		return -1;
	close(fd);
	if (add_regular(p, name, path, &st, executable, e))
		return -1;
	p->v[p->n - 1].nlink = 1; /* a single named file never forms a link group */
	p->v[p->n - 1].follow = 1;
	return 0;
}

struct tree_ctx {
	struct cpio_plan *p;
	const char *prefix;
};

static int add_tree_entry(void *ctx, const struct dirwalk_entry *x, struct cr_err *e)
{
	struct tree_ctx *t = ctx;
	char name[PATH_MAX];
	if ((size_t)snprintf(name, sizeof name, "%s%s%s", t->prefix, *t->prefix ? "/" : "", x->rel) >= sizeof name)
		return cr_fail(e, "%s: path too long", x->path);
	if (S_ISDIR(x->st.st_mode))
		return cpio_add_dir(t->p, name, e);
	if (S_ISREG(x->st.st_mode))
		return add_regular(t->p, name, x->path, &x->st, (x->st.st_mode & 0111) != 0, e);
	if (S_ISLNK(x->st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(x->dir_fd, x->name, target, sizeof target);
		struct cpio_entry *c;
		uint8_t *copy;
		if (n < 0)
			return cr_failp(e, "%s: readlink", x->path);
		if ((size_t)n >= sizeof target)
			return cr_fail(e, "%s: symlink target too long", x->path);
		copy = malloc((size_t)n + 1);
		if (!copy)
			return cr_fail(e, "out of memory");
		memcpy(copy, target, (size_t)n);
		copy[n] = 0;
		c = new_entry(t->p, name, S_IFLNK | 0777, e);
		if (!c) {
			free(copy);
			return -1;
		}
		c->data = copy;
		c->size = (uint64_t)n;
		return 0;
	}
	return cr_fail_code(e, CR_E_NOTREG, "%s is %s; only directories, regular files and symlinks can be packed",
			    x->path, dirwalk_kind(x->st.st_mode));
}

int cpio_add_tree(struct cpio_plan *p, const char *prefix, const char *dir, struct cr_err *e)
{
	struct tree_ctx t = { p, prefix };
	struct stat st;
	if (stat(dir, &st))
		return cr_failp(e, "%s", dir);
	if (!S_ISDIR(st.st_mode))
		return cr_fail_code(e, CR_E_NOTDIR, "%s is %s, not a directory", dir, dirwalk_kind(st.st_mode));
	if (*prefix && cpio_add_dir(p, prefix, e))
		return -1;
	return dirwalk(dir, add_tree_entry, &t, e);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cpio_entry *)a)->name, ((const struct cpio_entry *)b)->name);
}

/* Link-group ordering: by source identity, then archive order. */
struct link_ref {
	dev_t dev;
	ino_t ino;
	size_t idx;
};

static int by_identity(const void *a, const void *b)
{
	const struct link_ref *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int group_hard_links(struct cpio_plan *p, struct cr_err *e)
{
	struct link_ref *refs;
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].src && p->v[i].nlink > 1)
			n++;
	if (!n)
		return 0;
	refs = malloc(n * sizeof *refs);
	if (!refs)
		return cr_fail(e, "out of memory");
	n = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].src && p->v[i].nlink > 1)
			refs[n++] = (struct link_ref){ p->v[i].src_dev, p->v[i].src_ino, i };
	qsort(refs, n, sizeof *refs, by_identity);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && refs[j].dev == refs[i].dev && refs[j].ino == refs[i].ino)
			j++;
		for (size_t k = i; k < j; k++) {
			struct cpio_entry *x = &p->v[refs[k].idx];
			x->nlink = (uint32_t)(j - i);
			if (k > i) {
				x->link_follower = 1;
				x->size = 0;
			}
		}
		i = j;
	}
	free(refs);
	return 0;
}

int cpio_plan_finish(struct cpio_plan *p, struct cr_err *e)
{
	size_t out = 0;
	uint32_t ino = 0;
	uint64_t size = 0;
	if (p->n)
		qsort(p->v, p->n, sizeof *p->v, by_name);
	/* Same name twice: two directories merge, anything else is an error. */
	for (size_t i = 0; i < p->n; i++) {
		if (out > 0 && !strcmp(p->v[out - 1].name, p->v[i].name)) {
			if (S_ISDIR(p->v[out - 1].mode) && S_ISDIR(p->v[i].mode)) {
				free(p->v[i].name);
				continue;
			}
			return cr_fail(e, "archive path '%s' given twice (from %s and %s)", p->v[i].name,
				       p->v[out - 1].src ? p->v[out - 1].src : "a built-in entry",
				       p->v[i].src ? p->v[i].src : "a built-in entry");
		}
		p->v[out++] = p->v[i];
	}
	p->n = out;
	if (group_hard_links(p, e))
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		struct cpio_entry *x = &p->v[i];
		if (!x->link_follower)
			x->ino = ++ino;
		size += align4(NEWC_HDR + strlen(x->name) + 1) + align4(x->size);
	}
	/* Followers take the inode of their group's first entry. */
	for (size_t i = 0; i < p->n; i++) {
		struct cpio_entry *x = &p->v[i];
		if (!x->link_follower)
			continue;
		for (size_t j = 0; j < p->n; j++)
			if (!p->v[j].link_follower && p->v[j].src && p->v[j].src_dev == x->src_dev &&
			    p->v[j].src_ino == x->src_ino) {
				x->ino = p->v[j].ino;
				break;
			}
	}
	size += align4(NEWC_HDR + sizeof "TRAILER!!!");
	size = (size + 511) & ~(uint64_t)511;
	p->size = size;
	p->finished = 1;
	return 0;
}

static void hex8(char *o, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--) {
		o[i] = digits[v & 15];
		v >>= 4;
	}
}

static int put_header(const struct cpio_sink *s, uint32_t ino, uint32_t mode, uint32_t nlink, uint32_t mtime,
		      uint32_t size, const char *name, struct cr_err *e)
{
	static const uint8_t zeros[4];
	char h[NEWC_HDR];
	size_t nlen = strlen(name) + 1;
	uint32_t fields[13] = { ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, (uint32_t)nlen, 0 };
	memcpy(h, "070701", 6);
	for (int i = 0; i < 13; i++)
		hex8(h + 6 + 8 * i, fields[i]);
	if (s->put(s->ctx, h, sizeof h, e) || s->put(s->ctx, name, nlen, e))
		return -1;
	return s->put(s->ctx, zeros, align4(NEWC_HDR + nlen) - (NEWC_HDR + nlen), e);
}

static int stream_file(const struct cpio_sink *s, const struct cpio_entry *x, struct cr_err *e)
{
	struct stat st = { .st_dev = x->src_dev, .st_ino = x->src_ino };
	/* Tree entries were lstat'ed: a symlink now is a change, not followed;
	 * the file must be the one planned before anything else is looked at. */
	int rc, fd = cr_open_input(NULL, x->src, UINT32_MAX, (x->follow ? 0 : CR_IN_NOFOLLOW) | CR_IN_SAME, &st, e);
	if (fd < 0)
		return -1;
	if ((uint64_t)st.st_size != x->src_size) { /* CR_IN_SAME: the same inode */
		close(fd);
		return cr_fail(e, "%s: changed while the image was being packed", x->src);
	}
	rc = s->copy_fd(s->ctx, fd, x->size, x->src, e);
	close(fd);
	return rc;
}

int cpio_stream(const struct cpio_plan *p, const struct cpio_sink *s, struct cr_err *e)
{
	static const uint8_t zeros[512];
	uint64_t written = 0;
	if (!p->finished)
		return cr_fail(e, "internal: cpio plan not finished");
	for (size_t i = 0; i < p->n; i++) {
		const struct cpio_entry *x = &p->v[i];
		if (put_header(s, x->ino, x->mode, x->nlink, p->mtime, (uint32_t)x->size, x->name, e))
			return -1;
		if (x->size) {
			if (x->src ? stream_file(s, x, e) : s->put(s->ctx, x->data, x->size, e))
				return -1;
			if (s->put(s->ctx, zeros, align4(x->size) - x->size, e))
				return -1;
		}
		written += align4(NEWC_HDR + strlen(x->name) + 1) + align4(x->size);
	}
	if (put_header(s, 0, 0, 1, 0, 0, "TRAILER!!!", e))
		return -1;
	written += align4(NEWC_HDR + sizeof "TRAILER!!!");
	return s->put(s->ctx, zeros, p->size - written, e);
}
