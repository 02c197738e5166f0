/* Reproducible cpio "newc" archives (the initramfs format).
 *
 * An archive is first planned — entries collected from a directory tree and
 * from memory, then sorted — and only then streamed, so its exact size is
 * known before the first byte is written (the EIF header needs it).
 *
 * Every byte is a function of the inputs:
 *  - entries sorted bytewise by name (a parent sorts before its children);
 *  - mtime = the caller's SOURCE_DATE_EPOCH, uid = gid = 0;
 *  - inode numbers 1, 2, 3... in archive order; no device numbers;
 *  - modes normalised: directories 0755, symlinks 0777, regular files 0755
 *    when any execute bit is set and 0644 otherwise (setuid, setgid and
 *    sticky bits are dropped; the execute bit is the tree's, so an --oci
 *    tree is unpacked with the umask cleared, see oci_unpack.c);
 *  - a hard-linked file is stored once: the first entry of a link group
 *    carries the data, later ones have size 0 and the same inode number
 *    (the kernel's initramfs unpacker turns them into links);
 *  - sockets, devices and FIFOs are refused, naming the path;
 *  - the archive ends with TRAILER!!! and is padded to 512 bytes. */
#ifndef CLEANROOM_CPIO_H
#define CLEANROOM_CPIO_H

#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

#define CPIO_MAX_ENTRIES 2000000
#define CPIO_MAX_NAME 4095

struct cpio_entry {
	char *name;    /* archive path, no leading '/' */
	uint32_t mode; /* normalised, with the S_IF* type bits */
	uint64_t size; /* bytes of data stored for this entry */
	uint32_t ino, nlink;
	char *src;           /* regular file on disk, or NULL */
	const uint8_t *data; /* in-memory data (symlink target, synthetic file) */
	dev_t src_dev;       /* identity at plan time, to detect changes */
	ino_t src_ino;
	uint64_t src_size;
	int link_follower; /* later member of a hard-link group: no data */
	int follow;        /* src named on the command line: a symlink is followed */
};

struct cpio_plan {
	struct cpio_entry *v;
	size_t n, alloc;
	uint32_t mtime;
	uint64_t size; /* total archive bytes, valid after cpio_plan_finish */
	int finished;
};

/* Where streamed bytes go. copy_fd appends exactly n bytes read from fd. */
struct cpio_sink {
	void *ctx;
	int (*put)(void *ctx, const void *p, size_t n, struct cr_err *e);
	int (*copy_fd)(void *ctx, int fd, uint64_t n, const char *path, struct cr_err *e);
};

void cpio_plan_init(struct cpio_plan *p, uint32_t mtime);
void cpio_plan_free(struct cpio_plan *p);
/* A directory entry (mode is normalised to 0755). */
int cpio_add_dir(struct cpio_plan *p, const char *name, struct cr_err *e);
/* A regular file with in-memory content; data must outlive the plan. */
int cpio_add_mem(struct cpio_plan *p, const char *name, int executable, const uint8_t *data, size_t n,
		 struct cr_err *e);
/* A regular file copied from path on disk (followed if a symlink). */
int cpio_add_file(struct cpio_plan *p, const char *name, const char *path, int executable, struct cr_err *e);
/* The tree under dir, each entry named prefix/relative-path (prefix may be
 * ""), plus the prefix directory itself when prefix is not empty. Symlinks
 * are stored as symlinks; hard links within the tree are grouped. */
int cpio_add_tree(struct cpio_plan *p, const char *prefix, const char *dir, struct cr_err *e);
/* Sort, merge identical directory entries, refuse other duplicates, assign
 * inodes and compute the archive size. */
int cpio_plan_finish(struct cpio_plan *p, struct cr_err *e);
/* Emit the archive. Fails if a source file changed since it was planned. */
int cpio_stream(const struct cpio_plan *p, const struct cpio_sink *sink, struct cr_err *e);

#endif
