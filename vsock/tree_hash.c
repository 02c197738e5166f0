#include "vsock/tree_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/digest.h"

static void object_header(const br_hash_class **ctx, const char *kind, uint64_t size)
{
	char h[48];
	int n = snprintf(h, sizeof h, "%s %llu", kind, (unsigned long long)size);
	(*ctx)->update(ctx, h, (size_t)n + 1); /* with the NUL */
}

void blob_begin_ids(struct blob_hasher *b, uint64_t size, unsigned which)
{
	b->which = which & (BLOB_SHA1 | BLOB_SHA256);
	if (b->which & BLOB_SHA1) {
		br_sha1_init(&b->s1);
		object_header(&b->s1.vtable, "blob", size);
	}
	if (b->which & BLOB_SHA256) {
		br_sha256_init(&b->s256);
		object_header(&b->s256.vtable, "blob", size);
	}
}

void blob_begin(struct blob_hasher *b, uint64_t size)
{
	blob_begin_ids(b, size, BLOB_SHA1 | BLOB_SHA256);
}

void blob_update(struct blob_hasher *b, const void *p, size_t n)
{
	if (b->which & BLOB_SHA1)
		br_sha1_update(&b->s1, p, n);
	if (b->which & BLOB_SHA256)
		br_sha256_update(&b->s256, p, n);
}

void blob_end(struct blob_hasher *b, uint8_t sha1[CR_SHA1_LEN], uint8_t sha256[CR_SHA256_LEN])
{
	if (b->which & BLOB_SHA1)
		br_sha1_out(&b->s1, sha1);
	if (b->which & BLOB_SHA256)
		br_sha256_out(&b->s256, sha256);
}

void tree_hasher_init(struct tree_hasher *t, size_t max_entries)
{
	memset(t, 0, sizeof *t);
	t->max = max_entries;
}

void tree_hasher_free(struct tree_hasher *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	tree_hasher_init(t, t->max);
}

int tree_add(struct tree_hasher *t, const char *path, unsigned mode, const uint8_t sha1[CR_SHA1_LEN],
	     const uint8_t sha256[CR_SHA256_LEN], struct cr_err *e)
{
	struct tree_leaf *x;
	if (t->n >= t->max)
		return cr_fail(e, "tree: more than %zu files", t->max);
	if (t->n == t->alloc) {
		size_t na = t->alloc ? t->alloc * 2 : 64;
		struct tree_leaf *nv = realloc(t->v, na * sizeof *nv);
		if (!nv)
			return cr_fail(e, "out of memory");
		t->v = nv;
		t->alloc = na;
	}
	x = &t->v[t->n];
	x->path = strdup(path);
	if (!x->path)
		return cr_fail(e, "out of memory");
	x->mode = mode;
	memcpy(x->sha1, sha1, CR_SHA1_LEN);
	memcpy(x->sha256, sha256, CR_SHA256_LEN);
	t->n++;
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct tree_leaf *)a)->path, ((const struct tree_leaf *)b)->path);
}

/* Tree object bodies for both formats, built side by side. */
struct tree_body {
	struct cr_buf b1, b256;
};

static int put_entry(struct tree_body *tb, unsigned mode, const char *name, size_t nlen, const uint8_t *h1,
		     const uint8_t *h256, struct cr_err *e)
{
	char m[16];
	int n = snprintf(m, sizeof m, "%o ", mode);
	if (cr_buf_put(&tb->b1, m, (size_t)n, e) || cr_buf_put(&tb->b1, name, nlen, e) || cr_buf_putc(&tb->b1, 0, e) ||
	    cr_buf_put(&tb->b1, h1, CR_SHA1_LEN, e))
		return -1;
	if (cr_buf_put(&tb->b256, m, (size_t)n, e) || cr_buf_put(&tb->b256, name, nlen, e) ||
	    cr_buf_putc(&tb->b256, 0, e) || cr_buf_put(&tb->b256, h256, CR_SHA256_LEN, e))
		return -1;
	return 0;
}

/* Hash the tree of leaves [lo, hi), all of which start with the first
 * `skip` bytes (their directory prefix, "" or "dir/"). */
static int build(const struct tree_leaf *v, size_t lo, size_t hi, size_t skip, int depth, uint8_t h1[CR_SHA1_LEN],
		 uint8_t h256[CR_SHA256_LEN], struct cr_err *e)
{
	struct tree_body tb;
	br_sha1_context s1;
	br_sha256_context s256;
	int rc = -1;
	if (depth > 256)
		return cr_fail(e, "tree: directories nested deeper than 256");
	cr_buf_init(&tb.b1, (size_t)1 << 30);
	cr_buf_init(&tb.b256, (size_t)1 << 30);
	for (size_t i = lo; i < hi;) {
		const char *name = v[i].path + skip;
		const char *slash = strchr(name, '/');
		if (!slash) {
			if (put_entry(&tb, v[i].mode, name, strlen(name), v[i].sha1, v[i].sha256, e))
				goto out;
			i++;
		} else {
			size_t nlen = (size_t)(slash - name), j = i + 1;
			uint8_t c1[CR_SHA1_LEN], c256[CR_SHA256_LEN];
			while (j < hi && !strncmp(v[j].path + skip, name, nlen + 1))
				j++;
			if (build(v, i, j, skip + nlen + 1, depth + 1, c1, c256, e) ||
			    put_entry(&tb, 040000, name, nlen, c1, c256, e))
				goto out;
			i = j;
		}
	}
	br_sha1_init(&s1);
	br_sha256_init(&s256);
	object_header(&s1.vtable, "tree", tb.b1.len);
	object_header(&s256.vtable, "tree", tb.b256.len);
	br_sha1_update(&s1, tb.b1.p, tb.b1.len);
	br_sha256_update(&s256, tb.b256.p, tb.b256.len);
	br_sha1_out(&s1, h1);
	br_sha256_out(&s256, h256);
	rc = 0;
out:
	cr_buf_free(&tb.b1);
	cr_buf_free(&tb.b256);
	return rc;
}

/* First index whose path is >= key. */
static size_t lower_bound(const struct tree_leaf *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int tree_finish(struct tree_hasher *t, uint8_t sha1[CR_SHA1_LEN], uint8_t sha256[CR_SHA256_LEN], struct cr_err *e)
{
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, by_path);
	/* A path twice, or a file that is also a directory, cannot be a tree. */
	for (size_t i = 0; i < t->n; i++) {
		char key[4098];
		size_t j;
		if (i + 1 < t->n && !strcmp(t->v[i].path, t->v[i + 1].path))
			return cr_fail(e, "tree: '%s' given twice", t->v[i].path);
		snprintf(key, sizeof key, "%s/", t->v[i].path);
		j = lower_bound(t->v, t->n, key);
		if (j < t->n && !strncmp(t->v[j].path, key, strlen(key)))
			return cr_fail(e, "tree: '%s' is both a file and a directory", t->v[i].path);
	}
	return build(t->v, 0, t->n, 0, 0, sha1, sha256, e);
}
