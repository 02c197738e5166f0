/* The /cmd and /env reader of bootstrap mode (init/config_file.c): "absent"
 * (1) only for a file that is not there; a directory, a FIFO or a file over
 * the limit is a failure naming what it is, whatever errno was before the
 * call. In PID 1 errno is often a stale ENOENT by then (nsm.ko's absent
 * open, the /proc/self/fd reopen before /proc is mounted), and the refusals
 * of size and type set none. */
#include "init/config_file.c"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/check.h"

static int read_stale(const char *path, struct str_list *l, struct cr_err *e)
{
	memset(e, 0, sizeof *e);
	errno = ENOENT;
	return config_read(path, 1, l, e);
}

int main(void)
{
	char dir[] = "/tmp/test_init_config.XXXXXX", p[256];
	struct str_list l;
	struct cr_err e;
	int r, fd;
	if (!mkdtemp(dir)) {
		T_OK(0, "mkdtemp");
		return t_done();
	}

	snprintf(p, sizeof p, "%s/missing", dir);
	r = read_stale(p, &l, &e);
	T_OK(r == 1 && l.v == NULL && l.n == 0, "a missing file is absent (1)");
	memset(&e, 0, sizeof e);
	errno = 0;
	T_OK(config_read(p, 1, &l, &e) == 1, "a missing file is absent (1), errno 0 before the call");

	snprintf(p, sizeof p, "%s/dir", dir);
	mkdir(p, 0755);
	r = read_stale(p, &l, &e);
	T_OK(r == -1 && e.code == CR_E_NOTREG && strstr(e.msg, "is a directory, not a regular file"),
	     "a directory: a failure naming it, not 'missing' (%d: %s)", r, e.msg);

	snprintf(p, sizeof p, "%s/fifo", dir);
	mkfifo(p, 0644);
	r = read_stale(p, &l, &e);
	T_OK(r == -1 && e.code == CR_E_NOTREG && strstr(e.msg, "is a FIFO, not a regular file"),
	     "a FIFO: a failure naming it, not 'missing', and no blocking open (%d: %s)", r, e.msg);

	snprintf(p, sizeof p, "%s/big", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_OK(fd >= 0 && ftruncate(fd, CONFIG_MAX_BYTES + 1) == 0, "a file of 1 MiB + 1 byte");
	if (fd >= 0)
		close(fd);
	r = read_stale(p, &l, &e);
	T_OK(r == -1 && e.code == CR_E_TOOBIG && strstr(e.msg, "larger than the limit of 1048576 bytes"),
	     "over the 1 MiB limit: a failure naming the limit, not 'missing' (%d: %s)", r, e.msg);

	snprintf(p, sizeof p, "%s/env", dir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	T_OK(fd >= 0 && write(fd, "A=1\nB=2\n", 8) == 8, "a good /env");
	if (fd >= 0)
		close(fd);
	r = read_stale(p, &l, &e);
	T_OK(r == 0 && l.n == 2 && !strcmp(l.v[0], "A=1") && !strcmp(l.v[1], "B=2") && !l.v[2],
	     "a good /env is read whatever errno was (%d: %s)", r, r ? e.msg : "");
	if (r == 0)
		config_free(&l);

	unlink(p);
	snprintf(p, sizeof p, "%s/big", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/fifo", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/dir", dir);
	rmdir(p);
	rmdir(dir);
	return t_done();
}
