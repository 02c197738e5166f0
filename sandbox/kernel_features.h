/* What the build sandbox needs from the kernel, probed at start.
 *
 * The sandbox uses system calls newer than some enclave kernels still in
 * use: the new mount API (open_tree/move_mount, Linux 5.2), pidfds (5.3),
 * openat2 (5.6), close_range (5.9) and mount_setattr (5.12), plus
 * namespaces and seccomp filters that a kernel configuration may leave out.
 * Rather than fail with an obscure ENOSYS in the middle of a build, the
 * build agent probes each one at boot, by calling it (not by reading the
 * version number: distributions backport, and a seccomp policy may refuse
 * a call the version says exists), and stops with one line naming the
 * first missing feature and the running kernel:
 *
 *   needs mount_setattr (Linux 5.12+); this kernel is 5.10.228
 *
 * Each probe is harmless: it either asks for nothing (a NULL or empty
 * argument the kernel rejects only after recognising the call) or opens
 * "/" or "." as an O_PATH descriptor and closes it again. Only ENOSYS
 * counts as missing for a call; for namespaces and seccomp, any error. */
#ifndef CLEANROOM_KERNEL_FEATURES_H
#define CLEANROOM_KERNEL_FEATURES_H

#include "base/util.h"

struct kernel_feature {
	const char *name;  /* as in the message: "mount_setattr" */
	const char *since; /* "Linux 5.12+", or the configuration option */
	/* 0 when present; otherwise the errno that says it is missing. */
	int (*probe)(void);
};

/* The table, in the order they are checked; *n gets its length. */
const struct kernel_feature *kernel_features(size_t *n);

/* Probe every feature. On the first missing one: -1 with code
 * CR_E_NOKERNEL, sys_errno the probe's errno, and the message above. */
int kernel_features_check(struct cr_err *e);

#endif
