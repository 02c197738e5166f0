#include "host-tool/eif/oci_blob.h"
#include "host-tool/eif/archive_lazy.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/term.h"

#define OUTER_MAX_MEMBERS 1000000
#define OUTER_NAMES_MAX (64u << 20) /* the folded names of all members */

int oci_digest_parse(const char *s, struct oci_digest *d)
{
	size_t hexlen, len = strlen(s);
	memset(d, 0, sizeof *d);
	if (!strncmp(s, "sha256:", 7)) {
		d->alg = 256;
		hexlen = 64;
	} else if (!strncmp(s, "sha512:", 7)) {
		d->alg = 512;
		hexlen = 128;
	} else {
		return -1;
	}
	if (len != 7 + hexlen)
		return -1;
	for (size_t i = 7; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	if (cr_unhex(s + 7, d->v, hexlen / 2))
		return -1;
	memcpy(d->text, s, len + 1);
	return 0;
}

void oci_sha256(const void *p, size_t n, uint8_t out[CR_SHA256_LEN])
{
	br_sha256_context c;
	br_sha256_init(&c);
	br_sha256_update(&c, p, n);
	br_sha256_out(&c, out);
}

static int outer_check_names(struct oci_src *s, struct cr_err *e);

int oci_src_open(struct oci_src *s, const char *path, struct cr_err *e)
{
	struct stat st;
	s->label = path;
	s->dirfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->dirfd < 0)
		return cr_failp(e, "--oci %s", path);
	if (fstat(s->dirfd, &st)) {
		cr_failp(e, "--oci %s", path);
		close(s->dirfd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		s->is_archive = 0;
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		close(s->dirfd);
		return cr_fail_code(e, CR_E_NOTREG, "--oci %s: is %s, not an image layout directory or archive", path,
				    cr_file_kind(st.st_mode));
	}
	s->is_archive = 1;
	/* Regular file: back to blocking reads. */
	fcntl(s->dirfd, F_SETFL, fcntl(s->dirfd, F_GETFL) & ~O_NONBLOCK);
	if (outer_check_names(s, e)) {
		oci_src_close(s);
		return -1;
	}
	return 0;
}

void oci_src_close(struct oci_src *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
}

/* in with "." components and repeated '/' dropped and ".." folded, into out
 * (n bytes). -1 when ".." climbs above the start or out is too small. */
static int fold_path(const char *in, char *out, size_t n)
{
	size_t len = 0;
	for (const char *p = in, *c; *p; p = c) {
		size_t cl;
		c = strchr(p, '/');
		cl = c ? (size_t)(c - p) : strlen(p);
		c = c ? c + 1 : p + cl;
		if (cl == 0 || (cl == 1 && p[0] == '.'))
			continue;
		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			if (len == 0)
				return -1;
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
			continue;
		}
		if (len + cl + 2 > n)
			return -1;
		if (len)
			out[len++] = '/';
		memcpy(out + len, p, cl);
		len += cl;
	}
	if (n)
		out[len] = 0;
	return 0;
}

/* The archive name a link entry at name points to: a hard link's target
 * (relative to the archive's root) or a symlink's (relative to name's
 * directory; `docker save` links duplicate layers so). -1 when it leaves
 * the archive or is too long. */
static int link_target(const char *name, const char *target, int is_symlink, char *out, size_t n)
{
	char buf[512];
	const char *slash = strrchr(name, '/');
	int w;
	if (!target || target[0] == '/')
		return -1;
	if (is_symlink && slash)
		w = snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - name), name, target);
	else
		w = snprintf(buf, sizeof buf, "%s", target);
	if (w < 0 || (size_t)w >= sizeof buf)
		return -1;
	return fold_path(buf, out, n) || !out[0] ? -1 : 0;
}

/* An archive member's name as the tools that unpack the archive (docker
 * load, skopeo) reach it: leading '/', "." components and repeated '/'
 * dropped, ".." folded. -1 when it leaves the archive (no such tool
 * writes it), else 0; "" is the archive's root. */
static int member_name(const char *raw, char *out, size_t n)
{
	while (*raw == '/')
		raw++;
	return fold_path(raw, out, n);
}

/* Whether a member name is the name asked for (both folded). */
static int member_is(const char *raw, const char *name)
{
	char m[512];
	return !member_name(raw, m, sizeof m) && !strcmp(m, name);
}

/* Position a fresh reader of the outer archive at the data of name.
 * Returns 1 found, 0 not found, 2 name is a link (*redirect gets its
 * target), -1 error. */
/* A fresh reader of the outer archive, at its start; plain tar only. */
static struct archive *outer_open(struct oci_src *s, struct cr_err *e)
{
	struct archive *a = archive_read_new();
	if (!a) {
		cr_fail(e, "out of memory");
		return NULL;
	}
	if (lseek(s->dirfd, 0, SEEK_SET) < 0) {
		cr_failp(e, "--oci %s", s->label);
		archive_read_free(a);
		return NULL;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, s->dirfd, 65536) != ARCHIVE_OK) {
		cr_fail(e, "--oci %s: not a tar archive: %s", s->label, archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The next header of the outer archive: 1 entry, 0 end, -1 error. */
static int outer_next(struct oci_src *s, struct archive *a, uint64_t n, struct archive_entry **ent, struct cr_err *e)
{
	int r = archive_read_next_header(a, ent);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK || n > OUTER_MAX_MEMBERS)
		return cr_fail(e, "--oci %s: not a readable tar archive: %s", s->label,
			       r == ARCHIVE_OK ? "too many entries" : archive_error_string(a));
	return 1;
}

static int strcmp_p(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* index.json and manifest.json are not content-addressed, and docker load
 * and skopeo let the last copy of a member win where this reader would
 * take the first: an archive that names a member twice (after folding the
 * name as member_name does) is refused, as is one whose member leaves it. */
static int outer_check_names(struct oci_src *s, struct cr_err *e)
{
	struct archive *a = outer_open(s, e);
	struct archive_entry *ent;
	struct cr_buf names;
	const char **v = NULL;
	size_t count = 0;
	int r, rc = -1;
	if (!a)
		return -1;
	cr_buf_init(&names, OUTER_NAMES_MAX);
	for (uint64_t n = 0; (r = outer_next(s, a, n, &ent, e)) == 1; n++) {
		const char *en = archive_entry_pathname(ent);
		char m[4096];
		if (!en)
			continue;
		if (member_name(en, m, sizeof m)) {
			cr_fail(e, "--oci %s: member '%s' leaves the archive or is too long", s->label,
				cr_term_arg(en));
			goto out;
		}
		if (!m[0])
			continue; /* the root, "./" */
		if (cr_buf_put(&names, m, strlen(m) + 1, e)) {
			cr_err_wrap(e, "--oci %s: member names", s->label);
			goto out;
		}
		count++;
	}
	if (r < 0)
		goto out;
	if (count && !(v = malloc(count * sizeof *v))) {
		cr_fail(e, "out of memory");
		goto out;
	}
	for (size_t i = 0, off = 0; i < count; i++) {
		v[i] = (const char *)names.p + off;
		off += strlen(v[i]) + 1;
	}
	qsort(v, count, sizeof *v, strcmp_p);
	for (size_t i = 1; i < count; i++)
		if (!strcmp(v[i - 1], v[i])) {
			cr_fail(e, "--oci %s: member '%s' appears twice (tools differ on which copy counts)", s->label,
				cr_term_arg(v[i]));
			goto out;
		}
	rc = 0;
out:
	free(v);
	cr_buf_free(&names);
	archive_read_free(a);
	return rc;
}

static int outer_seek_once(struct oci_src *s, const char *name, struct archive **out, char *redirect, size_t rn,
			   struct cr_err *e)
{
	struct archive *a = outer_open(s, e);
	struct archive_entry *ent;
	int r;
	*out = NULL;
	if (!a)
		return -1;
	for (uint64_t n = 0;; n++) {
		if ((r = outer_next(s, a, n, &ent, e)) < 0) {
			archive_read_free(a);
			return -1;
		}
		if (r == 0)
			break;
		if (!archive_entry_pathname(ent) || !member_is(archive_entry_pathname(ent), name))
			continue;
		if (archive_entry_hardlink(ent) || archive_entry_filetype(ent) == AE_IFLNK) {
			int sym = !archive_entry_hardlink(ent);
			r = link_target(name, sym ? archive_entry_symlink(ent) : archive_entry_hardlink(ent), sym,
					redirect, rn);
			archive_read_free(a);
			if (r)
				return cr_fail(e, "--oci %s: %s links outside the archive", s->label, name);
			return 2;
		}
		if (archive_entry_filetype(ent) == AE_IFREG) {
			*out = a;
			return 1;
		}
	}
	archive_read_free(a);
	return 0;
}

static int outer_seek(struct oci_src *s, const char *name, struct archive **out, struct cr_err *e)
{
	char cur[512], next[512];
	if (member_name(name, cur, sizeof cur))
		return 0;
	for (int hops = 0; hops < 8; hops++) {
		int r = outer_seek_once(s, cur, out, next, sizeof next, e);
		if (r != 2)
			return r;
		memcpy(cur, next, sizeof cur);
	}
	return cr_fail(e, "--oci %s: %s: too many links", s->label, name);
}

/* Open name below the layout directory: no symlinks, nothing outside it,
 * a regular file only (non-blocking open, so a FIFO cannot hang us). */
int oci_open_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC | O_NOCTTY);
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
}

static int dir_open(struct oci_src *s, const char *name, struct cr_err *e)
{
	struct stat st;
	int fd = oci_open_beneath(s->dirfd, name, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return -2;
		return cr_failp(e, "--oci %s: %s", s->label, name);
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return cr_fail_code(e, CR_E_NOTREG, "--oci %s: %s is not a regular file", s->label, name);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int oci_src_has(struct oci_src *s, const char *name, struct cr_err *e)
{
	if (s->is_archive) {
		struct archive *a;
		int r = outer_seek(s, name, &a, e);
		if (a)
			archive_read_free(a);
		return r;
	}
	int fd = dir_open(s, name, e);
	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	close(fd);
	return 1;
}

int oci_reader_open(struct oci_reader *r, struct oci_src *s, const char *name, int64_t want, uint64_t max,
		    const struct oci_digest *digest, struct cr_err *e)
{
	memset(r, 0, sizeof *r);
	r->src = s;
	r->name = name;
	r->fd = -1;
	r->want = want;
	r->max = want >= 0 ? (uint64_t)want : max;
	r->digest = digest;
	br_sha256_init(&r->sha256);
	br_sha512_init(&r->sha512);
	if (s->is_archive) {
		struct archive *a;
		int found = outer_seek(s, name, &a, e);
		if (found < 0)
			return -1;
		if (!found)
			return cr_fail(e, "--oci %s: %s is missing", s->label, name);
		r->outer = a;
		return 0;
	}
	r->fd = dir_open(s, name, e);
	if (r->fd == -2)
		return cr_fail(e, "--oci %s: %s is missing", s->label, name);
	return r->fd < 0 ? -1 : 0;
}

long oci_reader_read(struct oci_reader *r, void *buf, size_t n, struct cr_err *e)
{
	long got;
	/* Ask for one byte more than allowed, to notice a longer blob. */
	if ((uint64_t)n > r->max - r->got + 1)
		n = (size_t)(r->max - r->got + 1);
	if (r->outer) {
		la_ssize_t k = archive_read_data(r->outer, buf, n);
		if (k < 0)
			return cr_fail(e, "--oci %s: %s: %s", r->src->label, r->name, archive_error_string(r->outer));
		got = (long)k;
	} else {
		ssize_t k;
		do
			k = read(r->fd, buf, n);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return cr_failp(e, "--oci %s: %s", r->src->label, r->name);
		got = (long)k;
	}
	if ((uint64_t)got > r->max - r->got)
		return cr_fail_code(e, CR_E_TOOBIG, "--oci %s: %s: longer than %s %llu bytes", r->src->label, r->name,
				    r->want >= 0 ? "its descriptor's size," : "the limit of",
				    (unsigned long long)r->max);
	r->got += (uint64_t)got;
	if (r->digest && r->digest->alg == 512)
		br_sha512_update(&r->sha512, buf, (size_t)got);
	else
		br_sha256_update(&r->sha256, buf, (size_t)got);
	return got;
}

int oci_reader_finish(struct oci_reader *r, struct cr_err *e)
{
	uint8_t buf[65536], out[64];
	long k;
	while ((k = oci_reader_read(r, buf, sizeof buf, e)) > 0)
		;
	if (k < 0)
		return -1;
	if (r->want >= 0 && r->got != (uint64_t)r->want)
		return cr_fail(e, "--oci %s: %s: %llu bytes, its descriptor says %lld (truncated?)", r->src->label,
			       r->name, (unsigned long long)r->got, (long long)r->want);
	if (!r->digest)
		return 0;
	if (r->digest->alg == 512)
		br_sha512_out(&r->sha512, out);
	else
		br_sha256_out(&r->sha256, out);
	if (memcmp(out, r->digest->v, r->digest->alg / 8)) {
		char hex[129];
		cr_hex(out, (size_t)r->digest->alg / 8, hex);
		return cr_fail(e, "--oci %s: %s: digest mismatch: sha%d:%.12s... != %.19s...", r->src->label, r->name,
			       r->digest->alg, hex, r->digest->text);
	}
	return 0;
}

void oci_reader_close(struct oci_reader *r)
{
	if (r->outer)
		archive_read_free(r->outer);
	if (r->fd >= 0)
		close(r->fd);
	r->outer = NULL;
	r->fd = -1;
}

int oci_read_small(struct oci_src *s, const char *name, int64_t want, const struct oci_digest *digest, uint8_t **data,
		   size_t *len, struct cr_err *e)
{
	struct oci_reader r;
	struct cr_buf b;
	uint8_t buf[65536];
	long k;
	*data = NULL;
	*len = 0;
	if (want > (int64_t)OCI_JSON_MAX)
		return cr_fail_code(e, CR_E_TOOBIG, "--oci %s: %s: %lld bytes is more than the %u allowed", s->label,
				    name, (long long)want, OCI_JSON_MAX);
	if (oci_reader_open(&r, s, name, want, OCI_JSON_MAX, digest, e))
		return -1;
	cr_buf_init(&b, OCI_JSON_MAX + 1);
	while ((k = oci_reader_read(&r, buf, sizeof buf, e)) > 0)
		if (cr_buf_put(&b, buf, (size_t)k, e))
			break;
	if (k != 0 || oci_reader_finish(&r, e) || cr_buf_cstr(&b, e)) {
		oci_reader_close(&r);
		cr_buf_free(&b);
		return -1;
	}
	oci_reader_close(&r);
	*data = b.p;
	*len = b.len;
	return 0;
}
