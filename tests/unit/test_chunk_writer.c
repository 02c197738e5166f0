/* host-tool/eif/chunk_writer.c and bg_sync.c: chunks land at their offsets,
 * with O_DIRECT where the file system takes it; a write that O_DIRECT
 * refuses is made buffered; a failed write is reported by wait and finish,
 * and later jobs are skipped; a background fdatasync's error is not lost. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-tool/eif/chunk_writer.h"
#include "tests/unit/check.h"

#define CH (1u << 20)
#define N 8

static int file_is(const char *path, const uint8_t *want, size_t n)
{
	uint8_t *got = malloc(n);
	int fd = open(path, O_RDONLY), same = 0;
	struct stat st;
	if (got && fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size == n && cr_read_full(fd, got, n) == (long)n)
		same = memcmp(got, want, n) == 0;
	if (fd >= 0)
		close(fd);
	free(got);
	return same;
}

/* What this directory's file system does with O_DIRECT: 0 refuses it, 1
 * takes it and refuses unaligned memory (ext4, xfs), 2 takes it and takes
 * unaligned memory too (tmpfs since Linux 6.6, btrfs: they copy). */
static int direct_kind(const char *dir)
{
	char p[256];
	uint8_t *m = NULL;
	int fd, kind = 0;
	snprintf(p, sizeof p, "%s/probe", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_DIRECT, 0600);
	if (fd >= 0 && posix_memalign((void **)&m, 4096, 8192) == 0) {
		memset(m, 0, 8192);
		kind = pwrite(fd, m + 1, 4096, 0) == 4096 ? 2 : 1;
	}
	if (fd >= 0)
		close(fd);
	free(m);
	unlink(p);
	return kind;
}

/* Let bg_sync's thread take the request before stop would drop it. */
static void wait_taken(struct bg_sync *b)
{
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&b->mu);
		int taken = !b->pending;
		pthread_mutex_unlock(&b->mu);
		if (taken)
			return;
		usleep(1000);
	}
}

int main(void)
{
	char dir[512], path[600];
	const char *tmp = getenv("TMPDIR");
	uint8_t *buf = NULL, *want = malloc((size_t)CH * N + 100);
	struct chunk_writer w;
	struct cr_err e;
	int fd, direct;
	uint64_t t = 0;

	snprintf(dir, sizeof dir, "%s/cleanroom-cw.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || !want || posix_memalign((void **)&buf, 4096, (size_t)CH * N + 4096))
		return 1;
	for (size_t i = 0; i < (size_t)CH * N + 4096; i++)
		buf[i] = t_random_byte();
	direct = direct_kind(dir);
	printf("# %s: %s\n", dir,
	       direct == 0   ? "no O_DIRECT"
	       : direct == 1 ? "O_DIRECT, unaligned memory refused"
			     : "O_DIRECT, unaligned memory taken (copied)");
	snprintf(path, sizeof path, "%s/out", dir);

	/* Whole aligned chunks, queued out of order, then a buffered tail. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	chunk_writer_start(&w, fd, path);
	for (int i = N - 1; i >= 0; i--)
		t = chunk_writer_submit(&w, buf + (size_t)i * CH, CH, (uint64_t)i * CH);
	T_OK(chunk_writer_wait(&w, t, &e) == 0, "aligned chunks are written");
	T_OK(chunk_writer_finish(&w, &e) == 0, "finish: no error");
	T_OK(w.direct_bytes == (direct ? (uint64_t)CH * N : 0),
	     "direct bytes: %llu (all when the file system takes it)", (unsigned long long)w.direct_bytes);
	T_OK((fcntl(fd, F_GETFL) & O_DIRECT) == 0, "finish turns O_DIRECT off");
	T_OK(pwrite(fd, buf + (size_t)CH * N, 100, (off_t)CH * N) == 100, "an unaligned write after finish");
	close(fd);
	T_OK(file_is(path, buf, (size_t)CH * N + 100), "the file holds every chunk at its offset, then the tail");

	/* Memory O_DIRECT cannot take (off by one byte): written buffered, and
	 * the chunks after it too. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	chunk_writer_start(&w, fd, path);
	chunk_writer_submit(&w, buf, CH, 0);
	chunk_writer_submit(&w, buf + CH + 1, CH, CH);
	t = chunk_writer_submit(&w, buf + 2 * (size_t)CH, CH, 2 * (uint64_t)CH);
	T_OK(chunk_writer_wait(&w, t, &e) == 0, "an unaligned chunk is written all the same");
	T_OK(chunk_writer_finish(&w, &e) == 0, "... finish: no error");
	T_OK(w.direct_bytes == (direct == 0   ? 0
				: direct == 1 ? (uint64_t)CH
					      : 3 * (uint64_t)CH),
	     "... O_DIRECT for the first chunk only where unaligned memory is refused (%llu bytes)",
	     (unsigned long long)w.direct_bytes);
	close(fd);
	memcpy(want, buf, CH);
	memcpy(want + CH, buf + CH + 1, CH);
	memcpy(want + 2 * (size_t)CH, buf + 2 * (size_t)CH, CH);
	T_OK(file_is(path, want, 3 * (size_t)CH), "... with the right bytes");

	/* A file that cannot be written: the error, by wait and by finish. */
	fd = open(path, O_RDONLY);
	chunk_writer_start(&w, fd, path);
	chunk_writer_submit(&w, buf, CH, 0);
	t = chunk_writer_submit(&w, buf + CH, CH, CH);
	T_OK(chunk_writer_wait(&w, t, &e) == -1 && e.sys_errno == EBADF && strstr(e.msg, ": write"),
	     "a failed write is reported by wait: %s", e.msg);
	T_OK(chunk_writer_finish(&w, &e) == -1 && e.sys_errno == EBADF, "... and by finish");
	close(fd);

	/* bg_sync: a step of progress asks for one fdatasync; its error is kept. */
	{
		struct bg_sync b;
		fd = open(path, O_WRONLY);
		bg_sync_start(&b, fd);
		bg_sync_progress(&b, BG_SYNC_STEP - 1);
		wait_taken(&b);
		T_OK(b.syncs == 0, "bg_sync: no sync before a step has been written");
		bg_sync_progress(&b, BG_SYNC_STEP);
		wait_taken(&b);
		int rc = bg_sync_stop(&b);
		T_OK(rc == 0 && b.syncs == 1, "bg_sync: one sync after a step (%u)", b.syncs);
		close(fd);
		bg_sync_start(&b, -1);
		bg_sync_progress(&b, BG_SYNC_STEP);
		wait_taken(&b);
		T_OK(bg_sync_stop(&b) == EBADF, "bg_sync: a failed background fdatasync is returned by stop");
	}

	/* No thread to be had (RLIMIT_NPROC below the user's processes, as an
	 * unprivileged user: root is exempt): chunk_writer writes in submit,
	 * bg_sync makes no early syncs, and the file is whole all the same. In
	 * a child, which reports by its exit status. */
	{
		pid_t pid;
		int st = 0;
		if (chmod(dir, 0777))
			abort();
		pid = fork();
		if (pid == 0) {
			struct rlimit one = { 1, 1 };
			struct chunk_writer cw;
			struct bg_sync b;
			int cfd, code = 0;
			if ((getuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534))) ||
			    setrlimit(RLIMIT_NPROC, &one))
				_exit(64);
			char own[700];
			snprintf(own, sizeof own, "%s/nothread", dir);
			cfd = open(own, O_WRONLY | O_CREAT | O_EXCL, 0600);
			chunk_writer_start(&cw, cfd, own);
			if (cw.threaded)
				_exit(65); /* the limit did not take */
			for (int i = 0; i < 3; i++)
				t = chunk_writer_submit(&cw, buf + (size_t)i * CH, CH, (uint64_t)i * CH);
			if (chunk_writer_wait(&cw, t, &e) || chunk_writer_finish(&cw, &e))
				code |= 1;
			close(cfd);
			if (!file_is(own, buf, 3 * (size_t)CH))
				code |= 2;
			bg_sync_start(&b, -1);
			bg_sync_progress(&b, BG_SYNC_STEP);
			if (b.started || bg_sync_stop(&b) != 0 || b.syncs)
				code |= 4;
			unlink(own);
			_exit(code);
		}
		T_OK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st), "the child without threads ran");
		T_OK(WEXITSTATUS(st) != 64 && WEXITSTATUS(st) != 65,
		     "... under a process limit that stops threads (%d)", WEXITSTATUS(st));
		T_OK(WEXITSTATUS(st) == 0 || WEXITSTATUS(st) >= 64,
		     "without a thread: chunks written in submit, the file whole, no early syncs (%d)",
		     WEXITSTATUS(st));
	}

	unlink(path);
	rmdir(dir);
	free(buf);
	free(want);
	return t_done();
}
