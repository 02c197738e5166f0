#include "init/agent_recv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "base/digest.h"

int open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how;
	memset(&how, 0, sizeof how);
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* The process's umask, from /proc/self/status ("Umask:\t0022"): reading it
 * with umask() would set it for a moment in every thread. A file's mode
 * needs no fchmod when the umask takes nothing from it; when the umask
 * cannot be read, every file gets one (0777). */
static mode_t process_umask(void)
{
	uint64_t digits, m = 0, place = 1;
	struct cr_err ignored;
	if (cr_read_proc_u64("/proc/self/status", "Umask:", 7777, &digits, &ignored))
		return 0777;
	/* read as decimal: its digits are the octal ones */
	for (; digits; digits /= 10, place *= 8) {
		if (digits % 10 > 7)
			return 0777;
		m += digits % 10 * place;
	}
	return (mode_t)m;
}

void rx_init(struct stream_rx *rx, enum wire_stream s, int root_fd, uid_t uid, gid_t gid, int writable,
	     struct rx_budget *budget)
{
	memset(rx, 0, sizeof *rx);
	rx->stream = s;
	rx->root_fd = root_fd;
	rx->uid = uid;
	rx->gid = gid;
	rx->writable = writable;
	rx->budget = budget;
	rx->parent_fd = -1;
	rx->umask = process_umask();
	tree_hasher_init(&rx->tree, budget->max_files);
	rx_hasher_start(&rx->hash, &rx->tree);
}

void rx_free(struct stream_rx *rx)
{
	struct cr_err ignored;
	/* The hashing thread first: it may still be adding to the tree. */
	rx_hasher_finish(&rx->hash, &ignored);
	tree_hasher_free(&rx->tree);
	if (rx->parent_fd >= 0)
		close(rx->parent_fd);
	rx->parent_fd = -1;
	for (size_t i = 0; i < rx->nlinks; i++)
		free(rx->links[i]);
	free(rx->links);
	rx->links = NULL;
	rx->nlinks = 0;
}

static int fault(struct stream_rx *rx, enum rx_fault f)
{
	rx->fault = f;
	return -1;
}

/* Creating path failed with errno: the client's doing (a name sent twice,
 * a name longer than the file system takes), the workspace full, or ours.
 * Returns -1. */
static int create_failed(struct stream_rx *rx, const char *path, struct cr_err *e)
{
	int err = errno;
	if (err == EEXIST)
		cr_fail(e, "'%s': sent twice", path);
	else
		cr_failp(e, "'%s'", path);
	return fault(rx, err == EEXIST || err == ENAMETOOLONG ? RX_REFUSED
			 : err == ENOSPC || err == EDQUOT     ? RX_LIMIT
							      : RX_INTERNAL);
}

/* Split "a/b/c" into the parent "a/b" (or ".") and the name "c". */
static const char *split(const char *path, char *parent, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(parent, n, ".");
		return path;
	}
	snprintf(parent, n, "%.*s", (int)(slash - path), path);
	return slash + 1;
}

/* A symlink target must be relative and, read component by component from
 * the link's directory, never climb above the stream's root. (Symlinks are
 * checked again by the kernel at the end of the stream: rx_end.) */
static int target_stays_inside(const char *link, const char *target)
{
	int depth = 0;
	const char *c;
	if (target[0] == '/')
		return 0;
	for (c = link; *c; c++)
		depth += *c == '/';
	for (c = target; *c;) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return 0;
		} else if (len && !(len == 1 && c[0] == '.')) {
			depth++;
		}
		if (!slash)
			break;
		c = slash + 1;
	}
	return 1;
}

static int count_entry(struct stream_rx *rx, const struct wire_entry *x, struct cr_err *e)
{
	/* paths are at most WIRE_MAX_PATH bytes, targets too: no overflow */
	uint64_t meta = RX_META_ENTRY + strlen(x->path) * (x->type == WIRE_SYMLINK ? 2 : 1) +
			(x->type == WIRE_SYMLINK ? strlen(x->target) : 0);
	if (rx->budget->files >= rx->budget->max_files) {
		cr_fail(e, "'%s': more than %llu files and directories (limit)", x->path,
			(unsigned long long)rx->budget->max_files);
		return fault(rx, RX_LIMIT);
	}
	if (meta > rx->budget->max_meta - rx->budget->meta) {
		cr_fail(e,
			"'%s': the paths and link targets sent need more than the %llu bytes of the enclave's "
			"memory they may take (limit)",
			x->path, (unsigned long long)rx->budget->max_meta);
		return fault(rx, RX_LIMIT);
	}
	rx->budget->meta += meta;
	rx->budget->files++;
	rx->files++;
	return 0;
}

static int receive_data(struct stream_rx *rx, const struct wire_entry *x, int fd, struct wire_reader *rd,
			struct cr_err *e)
{
	uint64_t left = x->size;
	unsigned mode = x->exec ? GIT_MODE_EXEC : GIT_MODE_FILE;
	struct blob_hasher sha1; /* when this thread computes the SHA-1 id */
	uint8_t h1[CR_SHA1_LEN];
	int own_sha1;
	if (x->size > rx->budget->max_bytes - rx->budget->bytes) {
		cr_fail(e, "'%s': %llu bytes would exceed the limit of %llu bytes of sources and deps", x->path,
			(unsigned long long)x->size, (unsigned long long)rx->budget->max_bytes);
		return fault(rx, RX_LIMIT);
	}
	own_sha1 = rx_hasher_begin(&rx->hash, x->path, mode, x->size);
	if (own_sha1)
		blob_begin_ids(&sha1, x->size, BLOB_SHA1);
	if (!left) {
		if (own_sha1)
			blob_end(&sha1, h1, NULL);
		rx_hasher_end(&rx->hash, NULL, own_sha1 ? h1 : NULL);
	}
	while (left) {
		struct wire_msg m;
		int r = wire_read(rd, &m, e);
		if (r != 0) {
			if (r == 1)
				cr_fail(e, "connection closed");
			cr_err_wrap(e, "'%s': receiving %llu more bytes", x->path, (unsigned long long)left);
			return fault(rx, RX_PROTOCOL);
		}
		if (m.type != WIRE_DATA) {
			cr_fail(e, "'%s': %s message while %llu bytes of the file were still due", x->path,
				wire_type_name(m.type), (unsigned long long)left);
			wire_msg_free(&m);
			return fault(rx, RX_PROTOCOL);
		}
		if (m.u.data.n > left) {
			cr_fail(e, "'%s': %zu bytes of data where %llu were due (the entry said %llu bytes)", x->path,
				m.u.data.n, (unsigned long long)left, (unsigned long long)x->size);
			wire_msg_free(&m);
			return fault(rx, RX_PROTOCOL);
		}
		if (cr_write_all(fd, m.u.data.p, m.u.data.n)) {
			cr_failp(e, "'%s': write", x->path);
			wire_msg_free(&m);
			return fault(rx, errno == ENOSPC ? RX_LIMIT : RX_INTERNAL);
		}
		left -= m.u.data.n;
		if (own_sha1)
			blob_update(&sha1, m.u.data.p, m.u.data.n);
		if (left) {
			rx_hasher_data(&rx->hash, &m); /* the hasher frees the frame */
		} else {
			if (own_sha1)
				blob_end(&sha1, h1, NULL);
			rx_hasher_end(&rx->hash, &m, own_sha1 ? h1 : NULL);
		}
	}
	rx->budget->bytes += x->size;
	rx->bytes += x->size;
	if (rx_hasher_failed(&rx->hash, e))
		return fault(rx, RX_LIMIT);
	return 0;
}

/* The directory fd of parent, opened beneath the root. Entries come
 * directory by directory, so the last one is kept open for the next entry:
 * entries are only ever added (a name sent twice fails with EEXIST), so a
 * directory opened once stays that directory, beneath the root. */
static int parent_dir(struct stream_rx *rx, const char *parent)
{
	int fd;
	if (rx->parent_fd >= 0 && strcmp(rx->parent, parent) == 0)
		return rx->parent_fd;
	fd = open_beneath(rx->root_fd, parent, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -1;
	if (rx->parent_fd >= 0)
		close(rx->parent_fd);
	rx->parent_fd = fd;
	snprintf(rx->parent, sizeof rx->parent, "%s", parent);
	return fd;
}

int rx_entry(struct stream_rx *rx, const struct wire_entry *x, struct wire_reader *rd, struct cr_err *e)
{
	char parent[WIRE_MAX_PATH + 1];
	const char *name;
	int pfd, fd, rc = -1;
	mode_t dmode = rx->writable ? 0755 : 0555;

	if (x->stream != rx->stream) {
		cr_fail(e, "'%s': entry for the %s stream while receiving %s", x->path, wire_stream_name(x->stream),
			wire_stream_name(rx->stream));
		return fault(rx, RX_PROTOCOL);
	}
	if (count_entry(rx, x, e))
		return -1;
	name = split(x->path, parent, sizeof parent);
	pfd = parent_dir(rx, parent);
	if (pfd < 0) {
		cr_fail(e, "'%s': its parent directory '%s' was not sent before it%s", x->path, parent,
			errno == ELOOP     ? " (it is a symlink)"
			: errno == ENOTDIR ? " (it is not a directory)"
					   : "");
		return fault(rx, RX_REFUSED);
	}
	switch (x->type) {
	case WIRE_DIR:
		/* Created writable for now: entries go inside. */
		if (mkdirat(pfd, name, 0755) < 0) {
			create_failed(rx, x->path, e);
			break;
		}
		if (fchownat(pfd, name, rx->uid, rx->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    (dmode != 0755 && fchmodat(pfd, name, dmode, 0) < 0)) {
			cr_failp(e, "'%s': chown", x->path);
			fault(rx, RX_INTERNAL);
			break;
		}
		rc = 0;
		break;
	case WIRE_SYMLINK: {
		uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
		struct blob_hasher bh;
		char **nl;
		if (!target_stays_inside(x->path, x->target)) {
			cr_fail(e, "'%s': symlink target '%s' leaves the tree", x->path, x->target);
			fault(rx, RX_REFUSED);
			break;
		}
		if (symlinkat(x->target, pfd, name) < 0) {
			create_failed(rx, x->path, e);
			break;
		}
		if (fchownat(pfd, name, rx->uid, rx->gid, AT_SYMLINK_NOFOLLOW) < 0) {
			cr_failp(e, "'%s': chown", x->path);
			fault(rx, RX_INTERNAL);
			break;
		}
		nl = realloc(rx->links, (rx->nlinks + 1) * sizeof *nl);
		if (!nl || !(nl[rx->nlinks] = strdup(x->path))) {
			if (nl)
				rx->links = nl;
			cr_fail(e, "out of memory");
			fault(rx, RX_INTERNAL);
			break;
		}
		rx->links = nl;
		rx->nlinks++;
		blob_begin(&bh, strlen(x->target));
		blob_update(&bh, x->target, strlen(x->target));
		blob_end(&bh, h1, h256);
		if (rx_hasher_add(&rx->hash, x->path, GIT_MODE_LINK, h1, h256, e)) {
			fault(rx, RX_LIMIT);
			break;
		}
		rc = 0;
		break;
	}
	case WIRE_FILE: {
		mode_t mode = (x->exec ? 0755 : 0644) & (rx->writable ? 0777 : 0555);
		fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0) {
			create_failed(rx, x->path, e);
			break;
		}
		if (fchown(fd, rx->uid, rx->gid) < 0 || ((mode & rx->umask) && fchmod(fd, mode) < 0)) {
			cr_failp(e, "'%s': chown", x->path);
			fault(rx, RX_INTERNAL);
		} else {
			rc = receive_data(rx, x, fd, rd, e);
		}
		close(fd);
		break;
	}
	}
	return rc;
}

int rx_end(struct stream_rx *rx, const struct wire_end *x, struct wire_accepted *out, struct cr_err *e)
{
	if (x->stream != rx->stream) {
		cr_fail(e, "end of the %s stream while receiving %s", wire_stream_name(x->stream),
			wire_stream_name(rx->stream));
		return fault(rx, RX_PROTOCOL);
	}
	if (x->files != rx->files || x->bytes != rx->bytes) {
		cr_fail(e, "%s stream: the client counted %llu entries and %llu bytes, %llu and %llu arrived",
			wire_stream_name(rx->stream), (unsigned long long)x->files, (unsigned long long)x->bytes,
			(unsigned long long)rx->files, (unsigned long long)rx->bytes);
		return fault(rx, RX_PROTOCOL);
	}
	/* Now that the whole tree exists, let the kernel resolve every symlink:
	 * RESOLVE_BENEATH fails with EXDEV when a resolution (through other
	 * links and their '..') would leave the root. Dangling links are fine. */
	for (size_t i = 0; i < rx->nlinks; i++) {
		struct open_how how;
		int fd;
		memset(&how, 0, sizeof how);
		how.flags = O_PATH | O_CLOEXEC;
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, rx->root_fd, rx->links[i], &how, sizeof how);
		if (fd >= 0) {
			close(fd);
		} else if (errno == EXDEV || errno == ELOOP) {
			cr_fail(e, "'%s': symlink resolves outside the tree%s", rx->links[i],
				errno == ELOOP ? " (or loops)" : "");
			return fault(rx, RX_REFUSED);
		}
	}
	/* Every file hashed and in the tree, the thread gone. */
	if (rx_hasher_finish(&rx->hash, e))
		return fault(rx, RX_LIMIT);
	memset(out, 0, sizeof *out);
	out->stream = rx->stream;
	out->files = rx->files;
	out->bytes = rx->bytes;
	if (tree_finish(&rx->tree, out->tree_sha1, out->tree_sha256, e))
		return fault(rx, RX_REFUSED);
	return 0;
}

int rx_stream(struct stream_rx *rx, struct wire_reader *rd, struct wire_accepted *out, struct cr_err *e)
{
	for (;;) {
		struct wire_msg m;
		int r = wire_read(rd, &m, e);
		if (r != 0) {
			if (r == 1)
				cr_fail(e, "the client closed the connection during the %s stream",
					wire_stream_name(rx->stream));
			rx->fault = RX_PROTOCOL;
			return -1;
		}
		if (m.type == WIRE_ENTRY) {
			r = rx_entry(rx, &m.u.entry, rd, e);
		} else if (m.type == WIRE_END) {
			r = rx_end(rx, &m.u.end, out, e);
			wire_msg_free(&m);
			return r;
		} else {
			cr_fail(e, "%s message during the %s stream", wire_type_name(m.type),
				wire_stream_name(rx->stream));
			rx->fault = RX_PROTOCOL;
			r = -1;
		}
		wire_msg_free(&m);
		if (r)
			return -1;
	}
}
