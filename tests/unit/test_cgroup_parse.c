/* The /proc/cgroups reader of bootstrap mode (init/cgroup_mounts.c): the
 * enabled controllers in order, and precise refusals of anything else. The
 * mounts themselves are tested in QEMU (qemu/init-boot, qemu/aws-kernel). */
#include "init/cgroup_mounts.c"

#include "tests/unit/check.h"

static char names[CGROUP_MAX_CONTROLLERS][CGROUP_NAME_MAX + 1];

static int parse(const char *text, size_t *n, struct cr_err *e)
{
	memset(e, 0, sizeof *e);
	return cgroup_parse_enabled(text, names, n, e);
}

int main(void)
{
	struct cr_err e;
	size_t n = 99;
	static char big[16384];
	const char *aws66 = "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
			    "cpuset\t0\t1\t1\ncpu\t0\t1\t1\ncpuacct\t0\t1\t1\nblkio\t0\t1\t1\nmemory\t0\t1\t1\n"
			    "devices\t0\t1\t1\nfreezer\t0\t1\t1\nnet_cls\t0\t1\t1\nperf_event\t0\t1\t1\n"
			    "net_prio\t0\t1\t1\nhugetlb\t0\t1\t1\npids\t0\t1\t1\n";

	T_OK(parse(aws66, &n, &e) == 0 && n == 12, "AWS 6.6 kernel: 12 enabled %s", e.msg);
	T_OK(n == 12 && !strcmp(names[0], "cpuset") && !strcmp(names[4], "memory") && !strcmp(names[11], "pids"),
	     "in the file's order");
	T_OK(parse("#h\nmemory 0 1 0\npids 0 1 1\n", &n, &e) == 0 && n == 1 && !strcmp(names[0], "pids"),
	     "disabled controllers are skipped");
	T_OK(parse("#h\n", &n, &e) == 0 && n == 0, "none enabled");
	T_OK(parse("#h\npids 0 1 1", &n, &e) == 0 && n == 1, "no final newline");
	T_OK(parse("", &n, &e) < 0 && strstr(e.msg, "no header"), "empty: %s", e.msg);
	T_OK(parse("#h\npids 0 1\n", &n, &e) < 0 && strstr(e.msg, "line 2"), "three fields: %s", e.msg);
	T_OK(parse("#h\npids 0 1 1 x\n", &n, &e) < 0 && strstr(e.msg, "line 2"), "trailing field: %s", e.msg);
	T_OK(parse("#h\nmemory 0 1 1\n../x 0 1 1\n", &n, &e) < 0 && strstr(e.msg, "line 3"), "name with '/': %s",
	     e.msg);
	T_OK(parse("#h\npids 0 1 2\n", &n, &e) < 0, "enabled other than 0/1: %s", e.msg);
	memset(big, 0, sizeof big);
	strcpy(big, "#h\n");
	for (int i = 0; i < 70; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), "c%d 0 1 1\n", i);
	T_OK(parse(big, &n, &e) < 0 && strstr(e.msg, "more than 64"), "70 controllers: %s", e.msg);
	memset(big, 'a', 200);
	memcpy(big, "#h\n", 3);
	big[200] = 0;
	T_OK(parse(big, &n, &e) < 0 && strstr(e.msg, "longer than"), "a 197-byte line: %s", e.msg);
	char longname[80];
	memset(longname, 0, sizeof longname);
	snprintf(longname, sizeof longname, "#h\n%065d 0 1 1\n", 0);
	T_OK(parse(longname, &n, &e) < 0, "a 65-character name: %s", e.msg);
	return t_done();
}
