#include "host-tool/eif/oci_apply.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-tool/eif/oci_tmp.h"
#include "base/term.h"
#include "host-tool/eif/archive_lazy.h"

#define NAME_MAX_BYTES 4000 /* under the cpio limit, with "rootfs/" */
#define WHITEOUTS_MAX (64u << 20)
#define WH ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* The decompressed tar stream of a layer may hold, beyond the file data
 * counted against --max-unpacked, this much per entry (headers, PAX and
 * GNU name records, padding) and per layer (end blocks, read-ahead): data
 * elsewhere (a directory's, a symlink's, after the end) is decompression
 * work for nothing, and bounded so. */
#define STREAM_PER_ENTRY (16u << 10)
#define STREAM_PER_LAYER (1u << 20)

/* The blob is read by r, decompressed by raw (libarchive's raw format with
 * the one filter), and the decompressed bytes are counted, hashed for the
 * diff_id and handed to a (the tar reader, no filter). */
struct layer_ctx {
	struct oci_src *src;
	const struct oci_layer *layer;
	size_t idx;
	struct oci_budget *b;
	int pass;
	struct oci_reader r;
	struct archive *raw, *a;
	struct cr_err read_err; /* the reader's error, when libarchive reports one */
	int read_failed;
	struct cr_err stream_err; /* a decompression error, or the stream bound */
	int stream_failed;
	uint64_t unpacked;       /* decompressed bytes of this layer, this pass */
	uint64_t pass1_unpacked; /* what pass 1 counted (pass 2 may not read more) */
	uint64_t entries;        /* of this layer, this pass */
	uint64_t pass1_entries;  /* pass 2 may not see more */
	int hash_diff;           /* pass 1, when the diff_id is not simply the blob's digest */
	br_sha256_context diff256;
	br_sha512_context diff512;
	uint8_t in[65536];  /* blob bytes handed to libarchive: it keeps them until the next read */
	uint8_t mid[65536]; /* decompressed bytes handed to the tar reader, likewise */
	uint8_t out[65536]; /* file data read back from libarchive */
};

/* "layer 2 (sha256:0123456789ab) entry 'a/b': " + message. */
static int entry_fail(struct layer_ctx *c, const char *name, struct cr_err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int entry_fail(struct layer_ctx *c, const char *name, struct cr_err *e, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return cr_fail(e, "layer %zu (%.19s) entry '%s': %s", c->idx + 1, c->layer->digest.text, cr_term_arg(name),
		       msg);
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct layer_ctx *c = ctx;
	long n = oci_reader_read(&c->r, c->in, sizeof c->in, &c->read_err);
	if (n < 0) {
		c->read_failed = 1;
		archive_set_error(a, EIO, "%s", c->read_err.msg);
		return -1;
	}
	*buf = c->in;
	return n;
}

static uint64_t sat_add(uint64_t x, uint64_t y)
{
	return x + y < x ? UINT64_MAX : x + y;
}

/* Count, bound and hash n decompressed bytes at p; -1 (stream_err set)
 * past the bound. Pass 1: all layers' streams together at most the file
 * budget plus STREAM_PER_ENTRY per entry and STREAM_PER_LAYER per layer;
 * pass 2 reads the same blob, so not more than pass 1 did. */
static int stream_account(struct layer_ctx *c, const void *p, size_t n)
{
	uint64_t limit;
	c->unpacked += n;
	if (c->pass == 2) {
		if (c->unpacked <= c->pass1_unpacked)
			return 0;
		c->stream_failed = 1;
		return cr_fail(&c->stream_err, "the layer changed since it was checked (longer)");
	}
	c->b->stream += n;
	limit = sat_add(sat_add(c->b->max_bytes, c->b->entries * STREAM_PER_ENTRY),
			(uint64_t)(c->idx + 1) * STREAM_PER_LAYER);
	if (c->b->stream > limit) {
		c->stream_failed = 1;
		return cr_fail_code(
			&c->stream_err, CR_E_TOOBIG,
			"the tar stream decompresses to more than its entries and --max-unpacked (%llu bytes) "
			"allow (data outside regular files, or after the end)",
			(unsigned long long)c->b->max_bytes);
	}
	if (c->hash_diff) {
		if (c->layer->diff_id.alg == 512)
			br_sha512_update(&c->diff512, p, n);
		else
			br_sha256_update(&c->diff256, p, n);
	}
	return 0;
}

/* The tar reader's input: the decompressed blob. */
static la_ssize_t tar_cb(struct archive *a, void *ctx, const void **buf)
{
	struct layer_ctx *c = ctx;
	la_ssize_t n = archive_read_data(c->raw, c->mid, sizeof c->mid);
	if (n < 0) {
		c->stream_failed = 1;
		if (c->read_failed)
			c->stream_err = c->read_err;
		else
			cr_fail(&c->stream_err, "decompressing: %s", archive_error_string(c->raw));
	}
	if (n < 0 || stream_account(c, c->mid, (size_t)n)) {
		archive_set_error(a, EIO, "%s", c->stream_err.msg);
		return -1;
	}
	*buf = c->mid;
	return n;
}

static void layer_close(struct layer_ctx *c)
{
	if (c->a)
		archive_read_free(c->a);
	if (c->raw)
		archive_read_free(c->raw);
	c->a = c->raw = NULL;
	oci_reader_close(&c->r);
}

/* Why the layer's stream failed, with its code: the blob's reader, the
 * decompressor or the bound; else the tar reader. raw: the entry, or NULL. */
static int stream_fail(struct layer_ctx *c, const char *raw, struct cr_err *e)
{
	const struct cr_err *why = c->stream_failed ? &c->stream_err : c->read_failed ? &c->read_err : NULL;
	if (why) {
		if (raw)
			entry_fail(c, raw, e, "%s", why->msg);
		else
			cr_fail(e, "layer %zu (%.19s): %s", c->idx + 1, c->layer->digest.text, why->msg);
		e->code = why->code;
		return -1;
	}
	if (raw)
		return entry_fail(c, raw, e, "%s", archive_error_string(c->a));
	return cr_fail(e, "layer %zu (%.19s): not a valid tar stream: %s", c->idx + 1, c->layer->digest.text,
		       archive_error_string(c->a));
}

/* Open the blob; its decompressor, with exactly the filter its media type
 * names, decompressing in this process (a filter that would run an
 * external program answers ARCHIVE_WARN: refused); and the tar reader. */
static int layer_open(struct layer_ctx *c, int pass, uint64_t max, struct cr_err *e)
{
	static const int want[] = { ARCHIVE_FILTER_NONE, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD };
	struct archive_entry *ent;
	int r = ARCHIVE_OK, nf;
	if (oci_reader_open(&c->r, c->src, c->layer->path, c->layer->size, max, &c->layer->digest, e))
		return cr_err_wrap(e, "layer %zu", c->idx + 1);
	c->read_failed = c->stream_failed = 0;
	c->pass = pass;
	c->unpacked = c->entries = 0;
	/* A docker archive's layer is its tar: its digest is its diff_id. */
	c->hash_diff = pass == 1 && strcmp(c->layer->diff_id.text, c->layer->digest.text);
	br_sha256_init(&c->diff256);
	br_sha512_init(&c->diff512);
	c->raw = archive_read_new();
	c->a = archive_read_new();
	if (!c->raw || !c->a)
		return cr_fail(e, "out of memory");
	if (archive_read_support_format_raw(c->raw) != ARCHIVE_OK ||
	    archive_read_support_format_tar(c->a) != ARCHIVE_OK)
		return cr_fail(e, "libarchive: no raw or tar support");
	if (c->layer->compression == OCI_TAR_GZIP)
		r = archive_read_support_filter_gzip(c->raw);
	else if (c->layer->compression == OCI_TAR_ZSTD)
		r = archive_read_support_filter_zstd(c->raw);
	if (r != ARCHIVE_OK)
		return cr_fail(e, "layer %zu: this libarchive cannot decompress %s in-process", c->idx + 1,
			       c->layer->compression == OCI_TAR_GZIP ? "gzip" : "zstd");
	if (archive_read_open(c->raw, c, NULL, read_cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c->raw, &ent) != ARCHIVE_OK) {
		if (c->read_failed)
			return cr_fail(e, "layer %zu: %s", c->idx + 1, c->read_err.msg);
		return cr_fail(e, "layer %zu: %s", c->idx + 1, archive_error_string(c->raw));
	}
	/* The media type's compression, once: a layer compressed again inside
	 * (gzip in gzip) would be decompressed further than it says. */
	nf = archive_filter_count(c->raw);
	if (archive_filter_code(c->raw, 0) != want[c->layer->compression])
		return cr_fail(e, "layer %zu: its content is %s, not what its media type says", c->idx + 1,
			       archive_filter_name(c->raw, 0));
	if (nf != (c->layer->compression == OCI_TAR ? 1 : 2))
		return cr_fail(e, "layer %zu: its content is compressed %d times, its media type says once", c->idx + 1,
			       nf - 1);
	if (archive_read_open(c->a, c, NULL, tar_cb, NULL) != ARCHIVE_OK)
		return stream_fail(c, NULL, e);
	return 0;
}

/* The next header; 1 = entry, 0 = end, -1 = error. */
static int next_entry(struct layer_ctx *c, struct archive_entry **ent, struct cr_err *e)
{
	int r = archive_read_next_header(c->a, ent);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK)
		return stream_fail(c, NULL, e);
	c->entries++;
	return 1;
}

/* Pass 1's end: the rest of the decompressed stream (after the tar's end
 * blocks), counted and hashed too; the blob's digest, then the diff_id. */
static int layer_finish(struct layer_ctx *c, struct cr_err *e)
{
	uint8_t out[64];
	la_ssize_t n;
	while ((n = archive_read_data(c->raw, c->mid, sizeof c->mid)) > 0)
		if (stream_account(c, c->mid, (size_t)n))
			return stream_fail(c, NULL, e);
	if (oci_reader_finish(&c->r, e))
		return cr_err_wrap(e, "layer %zu", c->idx + 1);
	if (n < 0)
		return cr_fail(e, "layer %zu (%.19s): decompressing: %s", c->idx + 1, c->layer->digest.text,
			       archive_error_string(c->raw));
	if (!c->hash_diff)
		return 0;
	if (c->layer->diff_id.alg == 512)
		br_sha512_out(&c->diff512, out);
	else
		br_sha256_out(&c->diff256, out);
	if (memcmp(out, c->layer->diff_id.v, (size_t)c->layer->diff_id.alg / 8)) {
		char hex[129];
		cr_hex(out, (size_t)c->layer->diff_id.alg / 8, hex);
		return cr_fail(e,
			       "layer %zu (%.19s): its uncompressed tar is sha%d:%.12s..., its rootfs.diff_ids entry "
			       "says %.19s...",
			       c->idx + 1, c->layer->digest.text, c->layer->diff_id.alg, hex, c->layer->diff_id.text);
	}
	return 0;
}

/* Normalise a tar name: strip "./" prefixes and trailing '/'; refuse
 * absolute names, empty, '.' and '..' components; bound length and depth.
 * "" is the root itself. */
static int norm_name(const char *in, char *out, const char **why)
{
	size_t n, depth = 0;
	const char *p;
	if (!in) {
		*why = "no name";
		return -1;
	}
	/* "/" alone names the root itself (umoci insert writes it so). */
	if (in[0] == '/' && in[strspn(in, "/")] == 0)
		in = "";
	if (in[0] == '/') {
		*why = "absolute name (would escape the root)";
		return -1;
	}
	while (in[0] == '.' && in[1] == '/')
		in += 2;
	if (!strcmp(in, "."))
		in = "";
	n = strlen(in);
	while (n && in[n - 1] == '/')
		n--;
	if (n > NAME_MAX_BYTES) {
		*why = "name longer than 4000 bytes";
		return -1;
	}
	memcpy(out, in, n);
	out[n] = 0;
	for (p = out; n && *p;) {
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			*why = "'..' in the name (would escape the root)";
			return -1;
		}
		if (len == 0 || (len == 1 && p[0] == '.')) {
			*why = "empty or '.' component in the name";
			return -1;
		}
		if (len > 255) {
			*why = "a name component longer than 255 bytes";
			return -1;
		}
		if (++depth > OCI_MAX_DEPTH) {
			*why = "more than 200 directories deep";
			return -1;
		}
		p = s ? s + 1 : p + len;
	}
	return 0;
}

/* The directory that holds rel's last component, walked from root one
 * component at a time, never through a symlink or out of the directory
 * (oci_open_beneath); *base points at that component. Missing directories
 * are made when create is set, else the result is -2. A symlink or a file
 * on the way is refused (*why). Returns an fd to close. */
static int walk_parent(int root, char *rel, int create, const char **base, const char **why)
{
	int fd = dup(root);
	char *p = rel, *s;
	if (fd < 0) {
		*why = "out of file descriptors";
		return -1;
	}
	while ((s = strchr(p, '/'))) {
		int nfd;
		*s = 0;
		int mk_failed = 0;
		nfd = oci_open_beneath(fd, p, O_RDONLY | O_DIRECTORY);
		if (nfd < 0 && errno == ENOENT && create) {
			mk_failed = mkdirat(fd, p, 0755) && errno != EEXIST;
			nfd = oci_open_beneath(fd, p, O_RDONLY | O_DIRECTORY);
		}
		if (nfd < 0) {
			struct stat st;
			int missing = errno == ENOENT;
			if (!fstatat(fd, p, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
				*why = "a directory on its path is a symlink (writing through it is refused)";
			else if (mk_failed)
				*why = "cannot create a directory";
			else if (missing)
				*why = NULL;
			else
				*why = "a component of its path is not a directory";
			*s = '/';
			close(fd);
			return missing && !create ? -2 : -1;
		}
		*s = '/';
		close(fd);
		fd = nfd;
		p = s + 1;
	}
	*base = p;
	return fd;
}

/* Collected whiteouts of one layer: normalised names, NUL-separated. */
static int pass1(struct layer_ctx *c, struct oci_budget *b, uint64_t *layer_bytes, struct cr_buf *wh, struct cr_err *e)
{
	struct archive_entry *ent;
	char name[NAME_MAX_BYTES + 1], target[NAME_MAX_BYTES + 1];
	const char *why;
	int r;
	*layer_bytes = 0;
	while ((r = next_entry(c, &ent, e)) == 1) {
		const char *raw = archive_entry_pathname(ent), *base;
		unsigned type = archive_entry_filetype(ent);
		if (++b->entries > OCI_MAX_ENTRIES)
			return entry_fail(c, raw, e, "more than %d entries in the image", OCI_MAX_ENTRIES);
		if (norm_name(raw, name, &why))
			return entry_fail(c, raw, e, "%s", why);
		base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		if (!strncmp(base, WH, 4)) {
			if (strncmp(base, WH_OPAQUE, sizeof WH_OPAQUE) && !strncmp(base, WH WH, 8))
				return entry_fail(c, raw, e, "unsupported whiteout metadata");
			if (!strcmp(base, WH) || !strcmp(base, WH ".") || !strcmp(base, WH ".."))
				return entry_fail(c, raw, e, "whiteout of nothing");
			if (cr_buf_put(wh, name, strlen(name) + 1, e))
				return entry_fail(c, raw, e, "too many whiteouts");
		} else if (archive_entry_hardlink(ent)) {
			if (norm_name(archive_entry_hardlink(ent), target, &why))
				return entry_fail(c, raw, e, "hard link target: %s", why);
			if (!target[0])
				return entry_fail(c, raw, e, "hard link to the root");
		} else if (type == AE_IFCHR || type == AE_IFBLK) {
			return entry_fail(c, raw, e, "device node refused");
		} else if (type == AE_IFIFO) {
			return entry_fail(c, raw, e, "FIFO refused");
		} else if (type == AE_IFREG) {
			int64_t sz = archive_entry_size(ent);
			if (sz < 0 || (uint64_t)sz > b->max_bytes - b->bytes - *layer_bytes)
				return entry_fail(c, raw, e, "%lld bytes would exceed --max-unpacked (%llu bytes)",
						  (long long)sz, (unsigned long long)b->max_bytes);
			*layer_bytes += (uint64_t)sz;
		} else if (type == AE_IFLNK) {
			const char *t = archive_entry_symlink(ent);
			if (!t || !*t || strlen(t) > NAME_MAX_BYTES)
				return entry_fail(c, raw, e, "symlink target empty or too long");
		} else if (type != AE_IFDIR) {
			return entry_fail(c, raw, e, "%s refused", type == AE_IFSOCK ? "socket" : "unknown file type");
		}
		if (!name[0] && type != AE_IFDIR)
			return entry_fail(c, raw, e, "the root must be a directory");
		if (archive_read_data_skip(c->a) != ARCHIVE_OK)
			return stream_fail(c, raw, e);
	}
	if (r < 0) {
		/* A damaged stream is most often a damaged blob: say so when
		 * the blob does not match its digest. */
		struct cr_err e2;
		if (!c->read_failed && oci_reader_finish(&c->r, &e2)) {
			*e = e2;
			return cr_err_wrap(e, "layer %zu", c->idx + 1);
		}
		return -1;
	}
	return layer_finish(c, e);
}

/* Whiteouts hide what lower layers put there (nothing of this layer is
 * on disk yet). */
static int apply_whiteouts(struct layer_ctx *c, int root, struct cr_buf *wh, struct cr_err *e)
{
	for (size_t off = 0; off < wh->len;) {
		char *name = (char *)wh->p + off;
		const char *base, *why = NULL;
		int fd;
		off += strlen(name) + 1;
		fd = walk_parent(root, name, 0, &base, &why);
		if (fd == -2)
			continue; /* nothing below to hide */
		if (fd < 0)
			return entry_fail(c, name, e, "%s", why ? why : "cannot walk to it");
		if (!strcmp(base, WH_OPAQUE) ? oci_rm_contents(fd) : oci_rm_at(fd, base + 4)) {
			close(fd);
			return entry_fail(c, name, e, "cannot remove: %s", strerror(errno));
		}
		close(fd);
	}
	return 0;
}

static int write_data(struct layer_ctx *c, int fd, const char *raw, uint64_t *left, struct cr_err *e)
{
	for (;;) {
		la_ssize_t n = archive_read_data(c->a, c->out, sizeof c->out);
		if (n == 0)
			return 0;
		if (n < 0)
			return stream_fail(c, raw, e);
		if ((uint64_t)n > *left)
			return entry_fail(c, raw, e, "the layer changed since it was checked (more data)");
		*left -= (uint64_t)n;
		if (cr_write_all(fd, c->out, (size_t)n))
			return entry_fail(c, raw, e, "write: %s", strerror(errno));
	}
}

/* Make room for an entry at base: an existing directory stays when the
 * entry is a directory; anything else is removed (not followed). */
static int clear_slot(int pfd, const char *base, int is_dir)
{
	struct stat st;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		return errno == ENOENT ? 0 : -1;
	}
	if (is_dir && S_ISDIR(st.st_mode))
		return 1;
	return oci_rm_at(pfd, base);
}

static int extract_entry(struct layer_ctx *c, int root, struct archive_entry *ent, char *name, uint64_t *left,
			 struct cr_err *e)
{
	const char *raw = archive_entry_pathname(ent), *base, *why = NULL;
	unsigned type = archive_entry_filetype(ent);
	int pfd, rc = -1, cs;
	if (!name[0])
		return 0; /* the root directory */
	pfd = walk_parent(root, name, 1, &base, &why);
	if (pfd < 0)
		return entry_fail(c, raw, e, "%s", why ? why : strerror(errno));
	cs = clear_slot(pfd, base, type == AE_IFDIR && !archive_entry_hardlink(ent));
	if (cs < 0) {
		entry_fail(c, raw, e, "cannot replace the existing entry: %s", strerror(errno));
		goto out;
	}
	if (archive_entry_hardlink(ent)) {
		char target[NAME_MAX_BYTES + 1];
		const char *tbase;
		struct stat st = { 0 };
		int tfd;
		/* Checked in pass 1; again, should the blob have changed since. */
		if (norm_name(archive_entry_hardlink(ent), target, &why) || !target[0]) {
			entry_fail(c, raw, e, "hard link target: %s", target[0] ? why : "the root");
			goto out;
		}
		tfd = walk_parent(root, target, 0, &tbase, &why);
		if (tfd < 0) {
			entry_fail(c, raw, e, "hard link target '%s': %s", cr_term_arg(target),
				   tfd == -2 ? "missing" : why);
			goto out;
		}
		if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) || S_ISDIR(st.st_mode)) {
			int missing = errno == ENOENT && !S_ISDIR(st.st_mode);
			entry_fail(c, raw, e, "hard link target '%s': %s", cr_term_arg(target),
				   missing ? "missing" : "a directory");
			close(tfd);
			goto out;
		}
		if (linkat(tfd, tbase, pfd, base, 0)) {
			entry_fail(c, raw, e, "hard link: %s", strerror(errno));
			close(tfd);
			goto out;
		}
		close(tfd);
	} else if (type == AE_IFDIR) {
		if (cs == 0 && mkdirat(pfd, base, 0755)) {
			entry_fail(c, raw, e, "mkdir: %s", strerror(errno));
			goto out;
		}
	} else if (type == AE_IFLNK) {
		if (symlinkat(archive_entry_symlink(ent), pfd, base)) {
			entry_fail(c, raw, e, "symlink: %s", strerror(errno));
			goto out;
		}
	} else if (type == AE_IFREG) {
		mode_t mode = (archive_entry_perm(ent) & 0111) ? 0755 : 0644;
		int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0) {
			entry_fail(c, raw, e, "create: %s", strerror(errno));
			goto out;
		}
		if (write_data(c, fd, raw, left, e)) {
			close(fd);
			goto out;
		}
		if (close(fd)) {
			entry_fail(c, raw, e, "close: %s", strerror(errno));
			goto out;
		}
	} else {
		entry_fail(c, raw, e, "the layer changed since it was checked (entry type)");
		goto out;
	}
	rc = 0;
out:
	close(pfd);
	return rc;
}

static int pass2(struct layer_ctx *c, int root, uint64_t layer_bytes, struct cr_err *e)
{
	struct archive_entry *ent;
	char name[NAME_MAX_BYTES + 1];
	const char *why;
	uint64_t left = layer_bytes;
	int r;
	while ((r = next_entry(c, &ent, e)) == 1) {
		const char *raw = archive_entry_pathname(ent), *base;
		unsigned type = archive_entry_filetype(ent);
		/* Pass 1 checked all this on the same bytes; checked again in
		 * case the blob changed in between (then its digest fails). */
		if (c->entries > c->pass1_entries)
			return entry_fail(c, raw, e, "the layer changed since it was checked (more entries)");
		if (norm_name(raw, name, &why))
			return entry_fail(c, raw, e, "%s", why);
		base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
		if (!strncmp(base, WH, 4))
			continue;
		if (!archive_entry_hardlink(ent) && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
			return entry_fail(c, raw, e, "the layer changed since it was checked");
		if (extract_entry(c, root, ent, name, &left, e))
			return -1;
	}
	if (r < 0)
		return -1;
	return oci_reader_finish(&c->r, e) ? cr_err_wrap(e, "layer %zu", c->idx + 1) : 0;
}

int oci_apply_layer(struct oci_src *src, const struct oci_image *img, size_t idx, int rootfd, struct oci_budget *b,
		    struct cr_err *e)
{
	struct layer_ctx *c = calloc(1, sizeof *c);
	struct cr_buf wh;
	uint64_t layer_bytes = 0;
	/* A docker archive's layer has no size: bounded by the byte limit
	 * (an uncompressed tar is a little larger than its files). */
	uint64_t max = b->max_bytes + (b->max_bytes >> 2) + (64u << 20);
	int rc = -1;
	if (!c)
		return cr_fail(e, "out of memory");
	c->src = src;
	c->layer = &img->layers[idx];
	c->idx = idx;
	c->b = b;
	c->r.fd = -1;
	cr_buf_init(&wh, WHITEOUTS_MAX);
	if (layer_open(c, 1, max, e) || pass1(c, b, &layer_bytes, &wh, e))
		goto out;
	c->pass1_unpacked = c->unpacked;
	c->pass1_entries = c->entries;
	layer_close(c);
	b->bytes += layer_bytes;
	if (apply_whiteouts(c, rootfd, &wh, e))
		goto out;
	if (layer_open(c, 2, max, e) || pass2(c, rootfd, layer_bytes, e))
		goto out;
	rc = 0;
out:
	layer_close(c);
	cr_buf_free(&wh);
	free(c);
	return rc;
}
