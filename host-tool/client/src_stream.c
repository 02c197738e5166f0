#include "host-tool/client/src_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/dirwalk.h"
#include "vsock/tree_hash.h"

/* Frames are batched up to this many bytes a write (see wire_writer). */
#define SRC_STREAM_BATCH 65536u

struct walk_ctx {
	struct wire_writer *out; /* NULL: only measuring */
	enum wire_stream which;
	struct src_stats *st;
	struct tree_hasher tree;
	uint8_t *buf;
	uint64_t total;
	src_progress_fn progress;
	void *pctx;
	int measure_only;
};

static int send_entry(struct walk_ctx *w, const char *rel, enum wire_entry_type t, uint64_t size, int exec,
		      const char *target, struct cr_err *e)
{
	struct wire_msg m;
	if (!w->out)
		return 0;
	wire_entry_msg(&m, w->which, t, rel, size, exec, target);
	return wire_writer_msg(w->out, &m, e);
}

static int visit_file(struct walk_ctx *w, const struct dirwalk_entry *x, struct cr_err *e)
{
	struct blob_hasher bh;
	uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
	uint64_t left = (uint64_t)x->st.st_size;
	int exec = (x->st.st_mode & 0100) != 0;
	struct stat now;
	/* Never a blocking open: the entry may have been swapped for a FIFO
	 * since the walk's lstat. */
	int fd = cr_open_input_at(NULL, x->dir_fd, x->name, x->path, left, CR_IN_NOFOLLOW, &now, e);
	if (fd < 0)
		return -1;
	if (now.st_dev != x->st.st_dev || now.st_ino != x->st.st_ino || (uint64_t)now.st_size != left) {
		close(fd);
		return cr_fail(e, "%s: changed while it was being read", x->path);
	}
	if (send_entry(w, x->rel, WIRE_FILE, left, exec, NULL, e)) {
		close(fd);
		return -1;
	}
	blob_begin(&bh, left);
	while (left) {
		size_t n = left > WIRE_MAX_CHUNK ? WIRE_MAX_CHUNK : (size_t)left;
		if (cr_read_full(fd, w->buf, n) != (long)n) {
			close(fd);
			return cr_fail(e, "%s: changed while it was being read", x->path);
		}
		blob_update(&bh, w->buf, n);
		if (w->out && wire_writer_data(w->out, WIRE_DATA, w->buf, n, e)) {
			close(fd);
			return -1;
		}
		left -= n;
		w->st->bytes += n;
		if (w->progress)
			w->progress(w->pctx, w->st->bytes, w->total);
	}
	close(fd);
	blob_end(&bh, h1, h256);
	return tree_add(&w->tree, x->rel, exec ? GIT_MODE_EXEC : GIT_MODE_FILE, h1, h256, e);
}

static int visit(void *ctx, const struct dirwalk_entry *x, struct cr_err *e)
{
	struct walk_ctx *w = ctx;
	if (!strcmp(x->name, ".git"))
		return 1; /* not part of the checkout's tree */
	if (wire_check_path(x->rel, "source", e))
		return cr_err_wrap(e, "%s", x->path);
	if (!S_ISDIR(x->st.st_mode) && !S_ISREG(x->st.st_mode) && !S_ISLNK(x->st.st_mode))
		return cr_fail_code(e, CR_E_NOTREG, "%s is %s; sources may only hold files, directories and symlinks",
				    x->path, dirwalk_kind(x->st.st_mode));
	w->st->files++;
	if (w->measure_only) {
		if (S_ISREG(x->st.st_mode))
			w->st->bytes += (uint64_t)x->st.st_size;
		return 0;
	}
	if (S_ISDIR(x->st.st_mode))
		return send_entry(w, x->rel, WIRE_DIR, 0, 0, NULL, e);
	if (S_ISREG(x->st.st_mode))
		return visit_file(w, x, e);
	if (S_ISLNK(x->st.st_mode)) {
		char target[PATH_MAX];
		uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
		struct blob_hasher bh;
		ssize_t n = readlinkat(x->dir_fd, x->name, target, sizeof target - 1);
		if (n < 0)
			return cr_failp(e, "%s: readlink", x->path);
		target[n] = 0;
		if (send_entry(w, x->rel, WIRE_SYMLINK, 0, 0, target, e))
			return -1;
		blob_begin(&bh, (uint64_t)n);
		blob_update(&bh, target, (size_t)n);
		blob_end(&bh, h1, h256);
		return tree_add(&w->tree, x->rel, GIT_MODE_LINK, h1, h256, e);
	}
	return cr_fail(e, "internal: %s: unexpected type", x->path);
}

int src_stream_measure(const char *root, struct src_stats *out, struct cr_err *e)
{
	struct walk_ctx w;
	memset(&w, 0, sizeof w);
	memset(out, 0, sizeof *out);
	w.st = out;
	w.measure_only = 1;
	return dirwalk(root, visit, &w, e);
}

int src_stream_send(const char *root, enum wire_stream which, int sock, uint64_t total_bytes, src_progress_fn progress,
		    void *ctx, struct src_stats *out, struct cr_err *e)
{
	struct walk_ctx w;
	struct wire_writer ww;
	int rc;
	memset(&w, 0, sizeof w);
	memset(out, 0, sizeof *out);
	wire_writer_init(&ww, sock, SRC_STREAM_BATCH);
	w.out = sock >= 0 ? &ww : NULL;
	w.which = which;
	w.st = out;
	w.total = total_bytes;
	w.progress = progress;
	w.pctx = ctx;
	tree_hasher_init(&w.tree, 10000000);
	w.buf = malloc(WIRE_MAX_CHUNK);
	if (!w.buf) {
		wire_writer_free(&ww);
		return cr_fail(e, "out of memory");
	}
	rc = dirwalk(root, visit, &w, e);
	if (rc == 0)
		rc = tree_finish(&w.tree, out->tree_sha1, out->tree_sha256, e);
	if (rc == 0 && sock >= 0) {
		struct wire_msg m;
		memset(&m, 0, sizeof m);
		m.type = WIRE_END;
		m.u.end.stream = which;
		m.u.end.files = out->files;
		m.u.end.bytes = out->bytes;
		rc = wire_writer_msg(&ww, &m, e) || wire_writer_flush(&ww, e) ? -1 : 0;
	}
	wire_writer_free(&ww);
	free(w.buf);
	tree_hasher_free(&w.tree);
	return rc;
}

int src_stream_empty(struct src_stats *out, struct cr_err *e)
{
	struct tree_hasher t;
	int rc;
	memset(out, 0, sizeof *out);
	tree_hasher_init(&t, 1);
	rc = tree_finish(&t, out->tree_sha1, out->tree_sha256, e);
	tree_hasher_free(&t);
	return rc;
}
