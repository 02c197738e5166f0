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
	T_OK(rmdir(out) == 0, "nothing else is left in --out");
	return t_done();
}
