/* The agent's receive path (init/agent_recv.c) with its hashing thread
 * (init/rx_hasher.c): the tree ids it computes must be the sender's, however
 * the data is cut into messages (256 KiB chunks from the host tool, or 1-byte
 * and odd-sized ones from a hostile sender, around the reader's read-ahead
 * size), read with or without reading ahead, whichever thread computes the
 * SHA-1 ids (the receiver for every file, or for none), for a few large files
 * and for many small ones (the hasher woken in batches); and a stream cut or
 * overrun inside a large file must fail cleanly, the thread joined and every
 * pooled frame given back (ASan reports any leak or use after free). */
#include "init/agent_recv.c"
#include "init/rx_hasher.c"

#include <ftw.h>
#include <sys/mman.h>

#include "host-tool/client/src_stream.h"
#include "tests/unit/check.h"

static const uint64_t sizes[] = { 0,      1,       100,     RX_READ_AHEAD - 1, RX_READ_AHEAD, RX_READ_AHEAD + 1,
				  300000, 1000000, 3u << 20 };
#define NFILES (sizeof sizes / sizeof sizes[0])

static uint8_t pattern(uint64_t i, size_t f)
{
	return (uint8_t)(i * 31 + f * 7 + (i >> 9));
}

static void make_tree(const char *root)
{
	char p[256];
	static uint8_t buf[3u << 20];
	snprintf(p, sizeof p, "%s/d", root);
	mkdir(p, 0755);
	for (size_t f = 0; f < NFILES; f++) {
		int fd;
		for (uint64_t i = 0; i < sizes[f]; i++)
			buf[i] = pattern(i, f);
		snprintf(p, sizeof p, "%s/%sf%zu", root, f & 1 ? "d/" : "", f);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, f % 3 ? 0644 : 0755);
		if (fd < 0 || cr_write_all(fd, buf, sizes[f]) || close(fd))
			abort();
	}
	snprintf(p, sizeof p, "%s/link", root);
	if (symlink("d/f1", p))
		abort();
}

static void send_entry(int fd, enum wire_entry_type type, const char *path, uint64_t size, int exec, const char *target)
{
	struct wire_msg m;
	struct cr_err e;
	memset(&m, 0, sizeof m);
	m.type = WIRE_ENTRY;
	m.u.entry.stream = WIRE_SRC;
	m.u.entry.type = type;
	snprintf(m.u.entry.path, sizeof m.u.entry.path, "%s", path);
	m.u.entry.size = size;
	m.u.entry.exec = exec;
	if (target)
		snprintf(m.u.entry.target, sizeof m.u.entry.target, "%s", target);
	if (wire_send(fd, &m, &e))
		abort();
}

/* The tree of make_tree as a hostile sender would cut it: data messages of
 * 1 byte, of odd sizes, and of the whole chunk, in turn. how: 0 whole
 * stream, 1 cut inside the largest file, 2 one byte more than the entry said. */
static int crafted_stream(int how)
{
	int fd = memfd_create("stream", 0);
	static uint8_t buf[WIRE_MAX_CHUNK];
	uint64_t bytes = 0, files = 0;
	struct wire_msg m;
	struct cr_err e;
	send_entry(fd, WIRE_DIR, "d", 0, 0, NULL);
	files++;
	for (size_t f = 0; f < NFILES; f++) {
		char path[32];
		uint64_t at = 0;
		unsigned k = 0;
		snprintf(path, sizeof path, "%sf%zu", f & 1 ? "d/" : "", f);
		send_entry(fd, WIRE_FILE, path, sizes[f], f % 3 == 0, NULL);
		files++;
		bytes += sizes[f];
		while (at < sizes[f]) {
			static const size_t cuts[] = { 1, 4093, WIRE_MAX_CHUNK, 1, 1, 77777 };
			size_t n = cuts[k++ % (sizeof cuts / sizeof cuts[0])];
			if (n > sizes[f] - at)
				n = (size_t)(sizes[f] - at);
			if (how == 1 && f == NFILES - 1 && at > sizes[f] / 2)
				return fd; /* the sender goes away mid-file */
			if (how == 2 && f == NFILES - 1 && at + n == sizes[f])
				n++;
			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(at + i, f);
			if (wire_send_data(fd, WIRE_DATA, buf, n, &e))
				abort();
			at += n;
		}
	}
	send_entry(fd, WIRE_SYMLINK, "link", 0, 0, "d/f1");
	files++;
	memset(&m, 0, sizeof m);
	m.type = WIRE_END;
	m.u.end.stream = WIRE_SRC;
	m.u.end.files = files;
	m.u.end.bytes = bytes;
	if (wire_send(fd, &m, &e))
		abort();
	return fd;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* How receive() reads: with or without reading ahead; the receiver computes
 * every file's SHA-1 id, or the hasher every one. */
static int read_ahead = 1;
static unsigned help_at = RX_HASH_HELP_AT;
static uint64_t max_meta = 64u << 20;

/* Receive the stream in fd into a fresh directory; 0 and *acc, or -1. */
static int receive(int fd, const char *dir, struct wire_accepted *acc, enum rx_fault *fault, struct cr_err *e)
{
	struct rx_budget budget = { .max_files = 1000, .max_bytes = 1ull << 30, .max_meta = max_meta };
	static uint8_t ahead[RX_READ_AHEAD];
	struct stream_rx rx;
	struct wire_reader rd;
	struct cr_pool pool;
	int root, rc;
	nftw(dir, rm_one, 16, FTW_PHYS | FTW_DEPTH);
	if (mkdir(dir, 0755) || (root = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	lseek(fd, 0, SEEK_SET);
	cr_pool_init(&pool, RX_FRAME_SIZE, RX_FRAME_POOL);
	wire_reader_init(&rd, fd, &pool, read_ahead ? ahead : NULL, sizeof ahead);
	rx_init(&rx, WIRE_SRC, root, getuid(), getgid(), 1, &budget);
	rx.hash.help_at = help_at;
	rc = rx_stream(&rx, &rd, acc, e);
	*fault = rx.fault;
	rx_free(&rx);
	cr_pool_destroy(&pool);
	close(root);
	return rc;
}

/* Many small files (the hasher woken in batches), in a few directories. */
static void make_small_tree(const char *root, size_t n)
{
	char p[256];
	uint8_t buf[600];
	for (int d = 0; d < 3; d++) {
		snprintf(p, sizeof p, "%s/s%d", root, d);
		mkdir(p, 0755);
	}
	for (size_t f = 0; f < n; f++) {
		size_t len = (f * 37) % sizeof buf;
		int fd;
		for (size_t i = 0; i < len; i++)
			buf[i] = pattern(i, f);
		snprintf(p, sizeof p, "%s/s%zu/f%zu", root, f % 3, f);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || cr_write_all(fd, buf, len) || close(fd))
			abort();
	}
}

int main(void)
{
	char src[] = "/tmp/cr-rx-XXXXXX", dst[64];
	struct src_stats sent;
	struct wire_accepted acc;
	enum rx_fault fault;
	struct cr_err e;
	int fd;

	if (!mkdtemp(src))
		abort();
	snprintf(dst, sizeof dst, "%s.out", src);
	make_tree(src);

	/* The host tool's own stream of the tree: its ids are the reference. */
	fd = memfd_create("host", 0);
	T_OK(src_stream_send(src, WIRE_SRC, fd, 0, NULL, NULL, &sent, &e) == 0, "the host tool streams the tree");
	for (int mode = 0; mode < 4; mode++) {
		const char *how = mode == 0   ? "reading ahead, SHA-1 shared by the threads"
				  : mode == 1 ? "reading ahead, every SHA-1 on the receiver"
				  : mode == 2 ? "reading ahead, every SHA-1 on the hasher"
					      : "frame by frame, SHA-1 shared";
		read_ahead = mode != 3;
		help_at = mode == 1 ? 0 : mode == 2 ? RX_HASH_QUEUE + 1 : RX_HASH_HELP_AT;
		memset(&acc, 0, sizeof acc);
		T_OK(receive(fd, dst, &acc, &fault, &e) == 0, "the agent receives the host tool's stream (%s)", how);
		T_OK(!memcmp(acc.tree_sha1, sent.tree_sha1, CR_SHA1_LEN) &&
			     !memcmp(acc.tree_sha256, sent.tree_sha256, CR_SHA256_LEN),
		     "its SHA-1 and SHA-256 tree ids are the sender's (%s)", how);
		T_OK(acc.files == NFILES + 2 && acc.bytes == sent.bytes, "files and bytes counted (%llu, %llu)",
		     (unsigned long long)acc.files, (unsigned long long)acc.bytes);
	}
	close(fd);

	for (int mode = 0; mode < 3; mode++) {
		const char *how = mode == 0   ? "SHA-1 shared"
				  : mode == 1 ? "every SHA-1 on the receiver"
					      : "every SHA-1 on the hasher";
		read_ahead = mode != 2;
		help_at = mode == 1 ? 0 : mode == 2 ? RX_HASH_QUEUE + 1 : RX_HASH_HELP_AT;
		fd = crafted_stream(0);
		memset(&acc, 0, sizeof acc);
		T_OK(receive(fd, dst, &acc, &fault, &e) == 0,
		     "a stream of 1-byte and odd-sized data messages is received (%s)", how);
		T_OK(!memcmp(acc.tree_sha1, sent.tree_sha1, CR_SHA1_LEN) &&
			     !memcmp(acc.tree_sha256, sent.tree_sha256, CR_SHA256_LEN),
		     "... with the same tree ids (%s)", how);
		close(fd);
	}
	read_ahead = 1;
	help_at = RX_HASH_HELP_AT;

	{
		char small[] = "/tmp/cr-rx-small-XXXXXX", sdst[64];
		struct src_stats ssent;
		int rc;
		if (!mkdtemp(small))
			abort();
		snprintf(sdst, sizeof sdst, "%s.out", small);
		make_small_tree(small, 600);
		fd = memfd_create("small", 0);
		T_OK(src_stream_send(small, WIRE_SRC, fd, 0, NULL, NULL, &ssent, &e) == 0,
		     "the host tool streams 600 small files");
		memset(&acc, 0, sizeof acc);
		rc = receive(fd, sdst, &acc, &fault, &e);
		T_OK(rc == 0 && acc.files == 603 && !memcmp(acc.tree_sha1, ssent.tree_sha1, CR_SHA1_LEN) &&
			     !memcmp(acc.tree_sha256, ssent.tree_sha256, CR_SHA256_LEN),
		     "600 small files arrive with the sender's tree ids (%llu entries)", (unsigned long long)acc.files);
		close(fd);
		nftw(sdst, rm_one, 16, FTW_PHYS | FTW_DEPTH);
		nftw(small, rm_one, 16, FTW_PHYS | FTW_DEPTH);
	}

	/* Cut and overrun, with each thread computing the SHA-1 passes: the
	 * hasher is stopped with a file half-hashed, every frame given back. */
	for (int mode = 0; mode < 3; mode++) {
		const char *how = mode == 0   ? "SHA-1 shared"
				  : mode == 1 ? "every SHA-1 on the receiver"
					      : "every SHA-1 on the hasher";
		help_at = mode == 1 ? 0 : mode == 2 ? RX_HASH_QUEUE + 1 : RX_HASH_HELP_AT;
		fd = crafted_stream(1);
		T_OK(receive(fd, dst, &acc, &fault, &e) == -1 && fault == RX_PROTOCOL && strstr(e.msg, "'f8'"),
		     "a stream that ends inside a large file fails, naming it (%s): %s", how, e.msg);
		close(fd);
		fd = crafted_stream(2);
		T_OK(receive(fd, dst, &acc, &fault, &e) == -1 && fault == RX_PROTOCOL && strstr(e.msg, "where"),
		     "a data message longer than the file's rest fails (%s): %s", how, e.msg);
		close(fd);
	}
	help_at = RX_HASH_HELP_AT;

	/* A umask that takes bits from the modes: fchmod puts them back. */
	{
		mode_t old = umask(077);
		struct stat st1, st0;
		int rc;
		char p1[128], p0[128];
		fd = memfd_create("host", 0);
		if (src_stream_send(src, WIRE_SRC, fd, 0, NULL, NULL, &sent, &e))
			abort();
		memset(&acc, 0, sizeof acc);
		T_OK(receive(fd, dst, &acc, &fault, &e) == 0, "received under umask 077");
		snprintf(p1, sizeof p1, "%s/d/f1", dst);
		snprintf(p0, sizeof p0, "%s/f0", dst);
		memset(&st1, 0, sizeof st1);
		memset(&st0, 0, sizeof st0);
		rc = lstat(p1, &st1) | lstat(p0, &st0);
		T_OK(rc == 0 && (st1.st_mode & 07777) == 0644 && (st0.st_mode & 07777) == 0755,
		     "files keep 0644 and 0755 under umask 077 (%o, %o)", (unsigned)(st1.st_mode & 07777),
		     (unsigned)(st0.st_mode & 07777));
		close(fd);
		umask(old);
	}

	/* Names only, long ones, no data: what the agent keeps of them is
	 * bounded (max_meta), refused with RX_LIMIT, not left to fill RAM. */
	{
		char name[300], pad[201];
		uint64_t charge = RX_META_ENTRY + 2 * (2 + 200 + 4) + 1;
		int n = 0;
		memset(pad, 'n', 200);
		pad[200] = 0;
		fd = memfd_create("names", 0);
		send_entry(fd, WIRE_DIR, "d", 0, 0, NULL);
		for (int i = 0; i < 40; i++) {
			snprintf(name, sizeof name, "d/%s%04d", pad, i);
			send_entry(fd, WIRE_SYMLINK, name, 0, 0, "x");
		}
		max_meta = RX_META_ENTRY + 1 + 20 * charge; /* the dir, then 20 links */
		T_OK(receive(fd, dst, &acc, &fault, &e) == -1 && fault == RX_LIMIT &&
			     strstr(e.msg, "paths and link targets") && strstr(e.msg, "0020'"),
		     "the 21st long-named symlink passes the names' budget: refused as a limit: %s", e.msg);
		close(fd);
		fd = memfd_create("names", 0);
		send_entry(fd, WIRE_DIR, "d", 0, 0, NULL);
		for (n = 0; n < 20; n++) {
			snprintf(name, sizeof name, "d/%s%04d", pad, n);
			send_entry(fd, WIRE_SYMLINK, name, 0, 0, "x");
		}
		{
			struct wire_msg m;
			memset(&m, 0, sizeof m);
			m.type = WIRE_END;
			m.u.end.stream = WIRE_SRC;
			m.u.end.files = (uint64_t)n + 1;
			if (wire_send(fd, &m, &e))
				abort();
		}
		T_OK(receive(fd, dst, &acc, &fault, &e) == 0 && acc.files == 21,
		     "exactly the budget's worth is received (%llu entries)", (unsigned long long)acc.files);
		close(fd);
		max_meta = 64u << 20;
	}

	nftw(dst, rm_one, 16, FTW_PHYS | FTW_DEPTH);
	nftw(src, rm_one, 16, FTW_PHYS | FTW_DEPTH);
	return t_done();
}
