/* host-tool/cpio.c: planning, exact sizes, ordering, refusals. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "host-tool/eif/cpio_newc.h"

struct mem_sink {
	struct cr_buf b;
};

static int put(void *ctx, const void *p, size_t n, struct cr_err *e)
{
	return cr_buf_put(&((struct mem_sink *)ctx)->b, p, n, e);
}

static int copy_fd(void *ctx, int fd, uint64_t n, const char *path, struct cr_err *e)
{
	uint8_t buf[4096];
	while (n) {
		ssize_t r = read(fd, buf, n > sizeof buf ? sizeof buf : (size_t)n);
		if (r <= 0)
			return cr_fail(e, "%s: short read", path);
		if (put(ctx, buf, (size_t)r, e))
			return -1;
		n -= (uint64_t)r;
	}
	return 0;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		close(fd);
	}
}

int main(void)
{
	char dir[] = "/tmp/cr-cpio-XXXXXX", p[256], q[256];
	struct cpio_plan plan;
	struct mem_sink s;
	struct cpio_sink sink = { &s, put, copy_fd };
	struct cr_err e;

	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof p, "%s/b", dir);
	write_file(p, "bbbb");
	snprintf(p, sizeof p, "%s/a", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof p, "%s/a/x", dir);
	write_file(p, "x");
	snprintf(q, sizeof q, "%s/a/y", dir);
	T_OK(link(p, q) == 0, "hard link created");

	cpio_plan_init(&plan, 7);
	T_OK(cpio_add_tree(&plan, "root", dir, &e) == 0, "tree planned");
	T_OK(cpio_add_mem(&plan, "cmd", 0, (const uint8_t *)"sh\n", 3, &e) == 0, "memory file planned");
	T_OK(cpio_add_dir(&plan, "root/a", &e) == 0, "a directory given twice is allowed");
	T_OK(cpio_plan_finish(&plan, &e) == 0, "plan finishes");
	T_OK(plan.n == 6, "duplicate directories merge (6 entries, got %zu)", plan.n);
	T_OK(plan.n == 6 && !strcmp(plan.v[0].name, "cmd") && !strcmp(plan.v[1].name, "root") &&
		     !strcmp(plan.v[2].name, "root/a") && !strcmp(plan.v[3].name, "root/a/x") &&
		     !strcmp(plan.v[4].name, "root/a/y") && !strcmp(plan.v[5].name, "root/b"),
	     "entries sorted bytewise, parents first");
	T_OK(plan.n == 6 && plan.v[3].nlink == 2 && plan.v[4].nlink == 2 && plan.v[4].size == 0 &&
		     plan.v[3].size == 1 && plan.v[3].ino == plan.v[4].ino,
	     "hard link group: data stored once, same inode, nlink 2");
	T_OK(plan.n == 6 && plan.v[0].ino == 1 && plan.v[1].ino == 2 && plan.v[5].ino == 5,
	     "inodes sequential in archive order");
	T_OK(plan.size % 512 == 0, "archive padded to 512 bytes");
	cr_buf_init(&s.b, 1 << 20);
	T_OK(cpio_stream(&plan, &sink, &e) == 0, "archive streams");
	T_OK(s.b.len == plan.size, "streamed size equals the planned size (%zu vs %llu)", s.b.len,
	     (unsigned long long)plan.size);
	T_OK(s.b.len > 110 && !memcmp(s.b.p, "070701", 6), "newc magic");
	T_OK(memmem(s.b.p, s.b.len, "TRAILER!!!", 10) != NULL, "trailer present");
	{
		/* mtime field (6th) of the first header is SOURCE_DATE_EPOCH = 7. */
		char mtime[9];
		memcpy(mtime, s.b.p + 6 + 5 * 8, 8);
		mtime[8] = 0;
		T_STR(mtime, "00000007", "mtime is the given epoch");
	}
	cr_buf_free(&s.b);

	/* A file that grows after planning is caught, not silently packed. */
	snprintf(p, sizeof p, "%s/b", dir);
	write_file(p, "bbbbbbbb");
	cr_buf_init(&s.b, 1 << 20);
	T_OK(cpio_stream(&plan, &sink, &e) == -1 && strstr(e.msg, "changed while"), "a changed file is refused: %s",
	     e.msg);
	cr_buf_free(&s.b);
	cpio_plan_free(&plan);

	/* A directory of the tree swapped for a symlink to another directory
	 * after planning: its files there are not the planned ones, refused
	 * before they are opened (a FIFO, or a secret). */
	for (int kind = 0; kind < 2; kind++) {
		char out[] = "/tmp/cr-cpio-out-XXXXXX", moved[300];
		T_OK(mkdtemp(out) != NULL, "outside directory");
		snprintf(p, sizeof p, "%s/x", out);
		if (kind == 0)
			write_file(p, "SECRET");
		else
			mkfifo(p, 0600);
		cpio_plan_init(&plan, 0);
		T_OK(cpio_add_tree(&plan, "root", dir, &e) == 0 && cpio_plan_finish(&plan, &e) == 0, "tree planned");
		snprintf(p, sizeof p, "%s/a", dir);
		snprintf(moved, sizeof moved, "%s/a.moved", dir);
		T_OK(rename(p, moved) == 0 && symlink(out, p) == 0, "a swapped for a symlink");
		cr_buf_init(&s.b, 1 << 20);
		e.code = 0;
		T_OK(cpio_stream(&plan, &sink, &e) == -1 && e.code == CR_E_FAIL &&
			     strstr(e.msg, "/a/x changed since it was read") && !memmem(s.b.p, s.b.len, "SECRET", 6),
		     "%s outside the tree is refused, nothing of it packed: %s", kind ? "a FIFO" : "a file", e.msg);
		cr_buf_free(&s.b);
		cpio_plan_free(&plan);
		T_OK(unlink(p) == 0 && rename(moved, p) == 0, "a put back");
		snprintf(p, sizeof p, "%s/x", out);
		unlink(p);
		rmdir(out);
	}

	cpio_plan_init(&plan, 0);
	T_OK(cpio_add_mem(&plan, "f", 0, (const uint8_t *)"", 0, &e) == 0 &&
		     cpio_add_mem(&plan, "f", 0, (const uint8_t *)"", 0, &e) == 0 &&
		     cpio_plan_finish(&plan, &e) == -1 && strstr(e.msg, "'f' given twice"),
	     "a file name given twice is refused");
	cpio_plan_free(&plan);

	cpio_plan_init(&plan, 0);
	T_OK(cpio_add_dir(&plan, "/abs", &e) == -1 && strstr(e.msg, "must be relative"), "absolute names are refused");
	snprintf(p, sizeof p, "%s/fifo", dir);
	mkfifo(p, 0600);
	T_OK(cpio_add_tree(&plan, "", dir, &e) == -1 && e.code == CR_E_NOTREG && strstr(e.msg, "/fifo is a FIFO"),
	     "FIFO refused by name (CR_E_NOTREG): %s", e.msg);
	cpio_plan_free(&plan);

	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup failed\n");
	}
	return t_done();
}
