/* /sys/fs/cgroup in bootstrap mode: what AWS's init mounts, where the
 * kernel can.
 *
 * AWS's init mounts a tmpfs on /sys/fs/cgroup ("cgroup_root", mode=0755)
 * and then, for every controller /proc/cgroups lists as enabled, in that
 * file's order, mkdir /sys/fs/cgroup/NAME (0755) and a cgroup v1 hierarchy
 * of that one controller on it (source NAME, options NAME; nodev, nosuid,
 * noexec). On AWS's enclave kernels every controller has v1, so an
 * application (a JVM reading its memory limit) finds the v1 files.
 *
 * Kernels since 6.11 can leave v1 out for a controller (CONFIG_MEMCG_V1,
 * CONFIG_CPUSETS_V1), and AWS's init then dies on the first such mount.
 * We do the same mounts, and when one fails undo them all and mount the
 * cgroup v2 unified hierarchy on /sys/fs/cgroup instead: v1 exactly as AWS
 * where the kernel has it, v2 where it does not. */
#ifndef CLEANROOM_INIT_CGROUP_MOUNTS_H
#define CLEANROOM_INIT_CGROUP_MOUNTS_H

#include <stddef.h>

#include "base/util.h"

#define CGROUP_MAX_CONTROLLERS 64
#define CGROUP_NAME_MAX 64 /* AWS's init reads names with %64s */

struct cgroup_layout {
	int v2;        /* 1: the unified hierarchy; 0: v1 as AWS */
	size_t n;      /* v1: controllers mounted */
	char why[160]; /* v2: which v1 mount failed and why */
};

/* Parse /proc/cgroups text into the names of the enabled controllers, in
 * order. Bounded: at most CGROUP_MAX_CONTROLLERS lines, names of 1..64
 * characters from [a-z0-9_]; anything else is an error naming the line. */
int cgroup_parse_enabled(const char *text, char names[][CGROUP_NAME_MAX + 1], size_t *n, struct cr_err *e);

/* Mount /sys/fs/cgroup as described above; out says which way it went. */
int cgroup_mount_like_aws(struct cgroup_layout *out, struct cr_err *e);

#endif
