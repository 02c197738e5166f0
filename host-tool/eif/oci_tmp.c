#include "host-tool/eif/oci_tmp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* getdents64's record; glibc has no wrapper before 2.30's getdents64(). */
struct oci_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int rm_depth(int dirfd, const char *name, int depth);

static int rm_contents_depth(int fd, int depth)
{
	char buf[2048];
	for (;;) {
		int removed = 0;
		long n;
		if (lseek(fd, 0, SEEK_SET) < 0)
			return -1;
		/* Remove what one read returns, then read again from the start:
		 * removing while iterating a directory may skip entries. */
		n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct oci_dirent64 *d = (struct oci_dirent64 *)(void *)(buf + off);
			off += d->reclen;
			if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
				continue;
			if (rm_depth(fd, d->name, depth + 1))
				return -1;
			removed++;
		}
		if (!removed)
			return 0;
	}
}

static int rm_depth(int dirfd, const char *name, int depth)
{
	int fd, rc;
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	if (depth > 4096) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = rm_contents_depth(fd, depth);
	close(fd);
	if (rc)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT ? 0 : -1;
}

int oci_rm_at(int dirfd, const char *name)
{
	return rm_depth(dirfd, name, 0);
}

int oci_rm_contents(int dirfd)
{
	return rm_contents_depth(dirfd, 0);
}

/* The armed directory, for the signal handler. */
static char armed_path[4096];
static volatile sig_atomic_t armed;

static void on_stop_signal(int sig)
{
	if (armed)
		oci_rm_at(AT_FDCWD, armed_path);
	/* Then the handler for temporary files (the EIF being written): it
	 * runs when this one returns, and dies of the signal. */
	cr_tmpfile_cleanup_on_signals();
	raise(sig);
}

int oci_tmp_create(struct oci_tmp *t, struct cr_err *e)
{
	const char *base = getenv("TMPDIR");
	int n;
	t->fd = -1;
	t->path[0] = 0;
	if (!base || !*base)
		base = "/tmp";
	n = snprintf(t->path, sizeof t->path, "%s/cleanroom-oci.XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof t->path) {
		t->path[0] = 0;
		return cr_fail(e, "TMPDIR: path too long");
	}
	/* Signals wait while the directory is made and armed, so none can
	 * come between the two and leave it behind. */
	cr_on_stop_signals(on_stop_signal);
	{
		sigset_t all, old;
		int err;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, &old);
		if (mkdtemp(t->path)) {
			memcpy(armed_path, t->path, (size_t)n + 1);
			armed = 1;
		}
		err = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (!armed) {
			t->path[0] = 0;
			errno = err;
			return cr_failp(e, "TMPDIR: cannot create a private directory under %s", base);
		}
	}
	t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (t->fd < 0) {
		cr_failp(e, "%s", t->path);
		oci_tmp_remove(t);
		return -1;
	}
	return 0;
}

void oci_tmp_remove(struct oci_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path[0])
		oci_rm_at(AT_FDCWD, t->path);
	t->path[0] = 0;
	armed = 0;
	cr_tmpfile_cleanup_on_signals();
}
