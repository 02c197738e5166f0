#include "init/mount_table.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int mount_devtmpfs(const char *dir, struct cr_err *e)
{
	if (mount("dev", dir, "devtmpfs", MS_NOSUID | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
		return cr_failp(e, "mount devtmpfs on %s", dir);
	return 0;
}

int mount_steps_run(const struct mount_step *steps, size_t n, struct cr_err *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct mount_step *s = &steps[i];
		switch (s->op) {
		case OP_MOUNT:
			if (mount(s->source, s->path, s->fstype, s->flags, s->data) < 0)
				return cr_failp(e, "mount %s (%s) on %s", s->source, s->fstype, s->path);
			break;
		case OP_MKDIR:
			if (mkdir(s->path, s->mode) < 0 && errno != EEXIST)
				return cr_failp(e, "mkdir %s", s->path);
			break;
		case OP_SYMLINK:
			if (symlink(s->source, s->path) < 0 && errno != EEXIST)
				return cr_failp(e, "symlink %s -> %s", s->path, s->source);
			break;
		}
	}
	return 0;
}

int switch_root(const char *dir, struct cr_err *e)
{
	if (mount(dir, dir, NULL, MS_BIND, NULL) < 0)
		return cr_failp(e, "bind %s", dir);
	if (chdir(dir) < 0)
		return cr_failp(e, "chdir %s", dir);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return cr_failp(e, "move %s to /", dir);
	if (chroot(".") < 0)
		return cr_failp(e, "chroot %s", dir);
	if (chdir("/") < 0)
		return cr_failp(e, "chdir /");
	return 0;
}
