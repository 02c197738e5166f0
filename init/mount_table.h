/* Mounts as data: a table of steps run in order (the AWS init's style), so
 * the whole filesystem setup of a mode reads at a glance. */
#ifndef CLEANROOM_INIT_MOUNT_TABLE_H
#define CLEANROOM_INIT_MOUNT_TABLE_H

#include <stddef.h>
#include <sys/types.h>

#include "base/util.h"

enum mount_op { OP_MOUNT, OP_MKDIR, OP_SYMLINK };

struct mount_step {
	enum mount_op op;
	const char *source; /* MOUNT: source; SYMLINK: target of the link */
	const char *path;   /* MOUNT: mount point; MKDIR/SYMLINK: the path made */
	const char *fstype;
	unsigned long flags;
	const char *data;
	mode_t mode; /* MKDIR */
};

/* Run steps in order; MKDIR and SYMLINK tolerate EEXIST, a failed mount is an
 * error naming the step. */
int mount_steps_run(const struct mount_step *steps, size_t n, struct cr_err *e);
/* devtmpfs on dir; EBUSY (already mounted by CONFIG_DEVTMPFS_MOUNT) is fine. */
int mount_devtmpfs(const char *dir, struct cr_err *e);
/* Make dir the root without pivot_root (the initramfs cannot be pivoted):
 * bind dir onto itself, move it over /, chroot, as AWS's init does. */
int switch_root(const char *dir, struct cr_err *e);

#endif
