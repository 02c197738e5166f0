/* Fuzz target: the build agent's source-tree receiver (init/agent_recv.h),
 * driven through rx_stream(), the loop the agent itself runs: the
 * input is the byte stream a client sends after its request — frames of
 * entry/data/end messages, first the src stream, then the deps stream —
 * read from a memfd through one wire_reader for both streams (reading ahead,
 * frames from a pool, as the agent's session reads them), into a fresh
 * directory per input.
 *
 * Besides the sanitizers, each input is checked for what the receiver
 * promises (agent_recv.h):
 *   - nothing is created, changed or removed outside the stream roots: the
 *     work directory holds exactly src/ and deps/, and a sibling directory
 *     with a sentinel file stays as it was;
 *   - no hard link is made (every file has one link), every symlink of an
 *     accepted stream resolves (realpath) inside its root or dangles, and
 *     nothing in the tree is a device, fifo or socket;
 *   - a refusal comes with a one-line message and a fault code, and an
 *     accepted stream's counts match what is on disk.
 * The tree is removed after every input. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "init/agent_recv.h"
#include "tests/fuzz/fuzz.h"

static char base[PATH_MAX], ws[PATH_MAX], outside[PATH_MAX];
static char root_real[2][PATH_MAX];
static uint64_t on_disk_files, on_disk_bytes;
static int memfd = -1;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if ((flag == FTW_DP ? rmdir(p) : unlink(p)) && errno != ENOENT)
		fz_die("cleanup: cannot remove %s: %s", p, strerror(errno));
	return 0;
}

static int unlock_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)f;
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		chmod(p, 0755);
	return 0;
}

static void rm_tree(const char *p)
{
	nftw(p, unlock_one, 16, FTW_PHYS);
	nftw(p, rm_one, 16, FTW_PHYS | FTW_DEPTH);
}

static void cleanup_base(void)
{
	if (base[0])
		rm_tree(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char victim[PATH_MAX + 16];
	(void)argc;
	(void)argv;
	fz_tmpdir(base, sizeof base, "recv");
	atexit(cleanup_base);
	snprintf(ws, sizeof ws, "%s/ws", base);
	snprintf(outside, sizeof outside, "%s/outside", base);
	snprintf(victim, sizeof victim, "%s/victim", outside);
	if (mkdir(outside, 0755))
		fz_die("mkdir %s: %s", outside, strerror(errno));
	fz_write(victim, (const uint8_t *)"sentinel\n", 9);
	memfd = memfd_create("fuzz-recv", MFD_CLOEXEC);
	if (memfd < 0)
		fz_die("memfd_create: %s", strerror(errno));
	return 0;
}

/* Names in a directory, sorted into a string "a,b,". */
static void list_dir(const char *dir, char *out, size_t n)
{
	struct dirent **v;
	int k = scandir(dir, &v, NULL, alphasort);
	out[0] = 0;
	if (k < 0)
		fz_die("scandir %s: %s", dir, strerror(errno));
	for (int i = 0; i < k; i++) {
		if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, ".."))
			snprintf(out + strlen(out), n - strlen(out), "%s,", v[i]->d_name);
		free(v[i]);
	}
	free(v);
}

static int stream_idx;
static int accepted_now;

static int check_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)f;
	if (flag == FTW_NS || flag == FTW_DNR)
		fz_die("%s: cannot stat or read", p);
	if (S_ISREG(st->st_mode)) {
		if (st->st_nlink != 1)
			fz_die("%s: a file with %lu links", p, (unsigned long)st->st_nlink);
		on_disk_files++;
		on_disk_bytes += (uint64_t)st->st_size;
	} else if (S_ISDIR(st->st_mode)) {
		if (f->level > 0)
			on_disk_files++;
	} else if (S_ISLNK(st->st_mode)) {
		char real[PATH_MAX];
		size_t rn = strlen(root_real[stream_idx]);
		on_disk_files++;
		if (accepted_now && realpath(p, real)) {
			if (strncmp(real, root_real[stream_idx], rn) || (real[rn] && real[rn] != '/'))
				fz_die("accepted symlink %s resolves outside its root, to %s", p, real);
		}
	} else {
		fz_die("%s: unexpected file type 0%o", p, (unsigned)(st->st_mode & S_IFMT));
	}
	return 0;
}

static void check_tree(int idx, const char *root, int accepted, const struct wire_accepted *acc)
{
	stream_idx = idx;
	accepted_now = accepted;
	on_disk_files = on_disk_bytes = 0;
	if (nftw(root, check_one, 16, FTW_PHYS))
		fz_die("walk %s failed", root);
	if (accepted && (on_disk_files != acc->files || on_disk_bytes != acc->bytes))
		fz_die("%s stream accepted with %llu entries / %llu bytes, %llu / %llu on disk", idx ? "deps" : "src",
		       (unsigned long long)acc->files, (unsigned long long)acc->bytes,
		       (unsigned long long)on_disk_files, (unsigned long long)on_disk_bytes);
}

/* One stream, as receive_stream() does it. 0 accepted, -1 refused. */
static int receive(struct wire_reader *rd, enum wire_stream which, int root_fd, struct rx_budget *budget,
		   struct wire_accepted *acc)
{
	struct stream_rx rx;
	struct cr_err e;
	int rc = -1, r;
	if (which == WIRE_SRC)
		rx_init(&rx, which, root_fd, getuid() ? getuid() : 1000, getgid() ? getgid() : 1000, 1, budget);
	else
		rx_init(&rx, which, root_fd, getuid(), getgid(), 0, budget);
	r = rx_stream(&rx, rd, acc, &e);
	if (r) {
		fz_check_err(&e, "rx_stream");
		if (rx.fault == RX_OK)
			fz_die("rx_stream failed with fault RX_OK: %s", e.msg);
	} else {
		rc = 0;
	}
	rx_free(&rx);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[2] = { "src", "deps" };
	struct rx_budget budget = { .max_files = 64, .max_bytes = 256 * 1024 };
	struct wire_accepted acc[2];
	char listing[256], path[PATH_MAX + 8];
	int fds[2], ok[2] = { 0, 0 };
	struct stat st;
	static uint8_t ahead[RX_READ_AHEAD];
	struct wire_reader rd;
	struct cr_pool pool;

	if (ftruncate(memfd, 0) || lseek(memfd, 0, SEEK_SET) || cr_write_all(memfd, data, size) ||
	    lseek(memfd, 0, SEEK_SET))
		fz_die("memfd: %s", strerror(errno));
	if (mkdir(ws, 0755))
		fz_die("mkdir %s: %s", ws, strerror(errno));
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", ws, names[i]);
		if (mkdir(path, 0755) || !realpath(path, root_real[i]))
			fz_die("mkdir %s: %s", path, strerror(errno));
		fds[i] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[i] < 0)
			fz_die("open %s: %s", path, strerror(errno));
	}

	cr_pool_init(&pool, RX_FRAME_SIZE, RX_FRAME_POOL);
	wire_reader_init(&rd, memfd, &pool, ahead, sizeof ahead);
	ok[0] = receive(&rd, WIRE_SRC, fds[0], &budget, &acc[0]) == 0;
	if (ok[0])
		ok[1] = receive(&rd, WIRE_DEPS, fds[1], &budget, &acc[1]) == 0;
	cr_pool_destroy(&pool);

	/* Nothing outside the roots. */
	list_dir(base, listing, sizeof listing);
	if (strcmp(listing, "outside,ws,"))
		fz_die("the work directory holds '%s', expected 'outside,ws,'", listing);
	list_dir(outside, listing, sizeof listing);
	snprintf(path, sizeof path, "%s/victim", outside);
	if (strcmp(listing, "victim,") || lstat(path, &st) || !S_ISREG(st.st_mode) || st.st_size != 9)
		fz_die("the sentinel directory changed: '%s'", listing);
	list_dir(ws, listing, sizeof listing);
	if (strcmp(listing, "deps,src,"))
		fz_die("the workspace holds '%s', expected 'deps,src,'", listing);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/%s", ws, names[i]);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			fz_die("%s is no longer a directory", path);
		check_tree(i, path, ok[i], &acc[i]);
		close(fds[i]);
	}
	if (budget.files > budget.max_files || budget.bytes > budget.max_bytes)
		fz_die("budget exceeded: %llu files, %llu bytes", (unsigned long long)budget.files,
		       (unsigned long long)budget.bytes);
	rm_tree(ws);
	return 0;
}
