/* host-tool/client/staging.c: outputs reach --out together or not at all,
 * and a destination that is not a regular file (a FIFO, a symlink, a
 * directory, a device) is refused before anything is moved, left as it
 * was; a regular file there is replaced. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host-tool/client/staging.h"
#include "tests/unit/check.h"

/* Stage files "a" and "b" (contents "A", "B") in a fresh staging of out. */
static int stage_two(struct staging *st, const char *out, struct cr_err *e)
{
	char p[PATH_MAX];
	int fa, fb;
	if (staging_open(st, out, e))
		return -1;
	fa = staging_create(st, "a", 0644, p, sizeof p, e);
	fb = fa < 0 ? -1 : staging_create(st, "b", 0644, p, sizeof p, e);
	if (fa < 0 || fb < 0 || write(fa, "A", 1) != 1 || write(fb, "B", 1) != 1)
		return -1;
	close(fa);
	close(fb);
	return 0;
}

static int file_holds(const char *path, char c)
{
	char got = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	int ok = fd >= 0 && read(fd, &got, 1) == 1 && got == c;
	if (fd >= 0)
		close(fd);
	return ok;
}

int main(void)
{
	char out[] = "/tmp/cr-staging-XXXXXX", a[128], b[128];
	struct staging st;
	struct cr_err e;
	struct stat sb;
	static const char *const what[3] = { "a FIFO", "a symlink", "a directory" };

	if (!mkdtemp(out))
		return 1;
	snprintf(a, sizeof a, "%s/a", out);
	snprintf(b, sizeof b, "%s/b", out);
	for (int k = 0; k < 3; k++) {
		int made = k == 0 ? mkfifo(b, 0600) : k == 1 ? symlink("elsewhere", b) : mkdir(b, 0700);
		T_OK(made == 0 && stage_two(&st, out, &e) == 0, "staged a and b (b in --out is %s)", what[k]);
		e.code = 0;
		T_OK(staging_commit(&st, &e) == -1 && e.code == CR_E_NOTREG && strstr(e.msg, what[k]) &&
			     strstr(e.msg, "not replaced"),
		     "commit refuses to replace %s (CR_E_NOTREG): %s", what[k], e.msg);
		T_OK(lstat(a, &sb) == -1, "... before moving anything: a is not in --out");
		T_OK(lstat(b, &sb) == 0 && !S_ISREG(sb.st_mode), "... and b is as it was");
		staging_abort(&st);
		k == 2 ? rmdir(b) : unlink(b);
	}
	T_OK(stage_two(&st, out, &e) == 0 && open(b, O_WRONLY | O_CREAT, 0644) >= 0, "an old regular b in --out");
	T_OK(staging_commit(&st, &e) == 0 && file_holds(a, 'A') && file_holds(b, 'B'),
	     "commit moves both, replacing a regular file");
	unlink(a);
	unlink(b);

	{
		/* A directory on the way from --out that is a symlink (it would
		 * carry the file elsewhere) or a file: refused before any move. */
		char sub[160], p[PATH_MAX], elsewhere[] = "/tmp/cr-staging-else-XXXXXX";
		int fd = -1, ok;
		T_OK(mkdtemp(elsewhere) != NULL, "a directory outside --out");
		snprintf(sub, sizeof sub, "%s/sub", out);
		for (int k = 0; k < 2; k++) {
			int made = k == 0                                            ? symlink(elsewhere, sub)
				   : (fd = open(sub, O_WRONLY | O_CREAT, 0644)) >= 0 ? close(fd)
										     : -1;
			fd = -1;
			ok = made == 0 && stage_two(&st, out, &e) == 0 &&
			     (fd = staging_create(&st, "sub/c", 0644, p, sizeof p, &e)) >= 0;
			if (fd >= 0)
				close(fd);
			e.code = 0;
			ok = ok && staging_commit(&st, &e) == -1 && e.code == CR_E_NOTREG &&
			     strstr(e.msg, k == 0 ? "is a symlink, not a directory" : "not a directory");
			T_OK(ok, "commit refuses --out's sub when it is %s: %s", k == 0 ? "a symlink" : "a file",
			     e.msg);
			T_OK(lstat(a, &sb) == -1 && lstat(b, &sb) == -1, "... before moving anything");
			snprintf(p, sizeof p, "%s/c", elsewhere);
			T_OK(lstat(p, &sb) == -1, "... and nothing landed where the symlink points");
			staging_abort(&st);
			unlink(sub);
		}
		rmdir(elsewhere);
	}
	{
		/* A move failing part way (the third file's staged copy is gone)
		 * is undone: the moved files go back, the old file they replaced
		 * is restored, the directories made for them are removed. */
		char p[PATH_MAX], c[160], d1[160];
		int fd, ok;
		fd = open(a, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ok = fd >= 0 && write(fd, "O", 1) == 1;
		if (fd >= 0)
			close(fd);
		ok = ok && staging_open(&st, out, &e) == 0;
		fd = ok ? staging_create(&st, "a", 0644, p, sizeof p, &e) : -1;
		ok = fd >= 0 && write(fd, "A", 1) == 1;
		if (fd >= 0)
			close(fd);
		fd = ok ? staging_create(&st, "d1/d2/c", 0644, p, sizeof p, &e) : -1;
		ok = fd >= 0;
		if (fd >= 0)
			close(fd);
		fd = ok ? staging_create(&st, "b", 0644, p, sizeof p, &e) : -1;
		ok = fd >= 0 && unlink(p) == 0;
		if (fd >= 0)
			close(fd);
		T_OK(ok, "staged a (an old a in --out), d1/d2/c and b, b's copy then removed");
		T_OK(staging_commit(&st, &e) == -1 && strstr(e.msg, "nothing of this build was left"),
		     "the commit fails at b: %s", e.msg);
		snprintf(c, sizeof c, "%s/d1/d2/c", out);
		snprintf(d1, sizeof d1, "%s/d1", out);
		T_OK(file_holds(a, 'O'), "... the old a is back in --out");
		T_OK(lstat(c, &sb) == -1 && lstat(d1, &sb) == -1 && lstat(b, &sb) == -1,
		     "... d1/d2/c went back, d1 and d1/d2 are removed, no b");
		staging_abort(&st);
		unlink(a);
	}
	{
		/* --out made with its parents: removed with them on abort. */
		char deep[200], top[160];
		snprintf(top, sizeof top, "%s/x", out);
		snprintf(deep, sizeof deep, "%s/x/y/z", out);
		T_OK(staging_open(&st, deep, &e) == 0, "--out x/y/z made with its parents");
		staging_abort(&st);
		T_OK(lstat(top, &sb) == -1, "... abort removes x/y/z, x/y and x");
	}
	T_OK(rmdir(out) == 0, "nothing else is left in --out");
	return t_done();
}
