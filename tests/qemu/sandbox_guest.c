/* /init of the qemu/sandbox suite: boots on the enclave kernel from an
 * initramfs, as the real init will, and runs the sandbox the way the build
 * agent does. This covers what the native suite cannot: the caller's root is
 * the initramfs itself (which pivot_root refuses; the sandbox's MS_MOVE +
 * chroot must work there), limits go through cgroup v2 (memory and pids
 * controllers of the enclave kernel), and AF_VSOCK exists in this kernel.
 *
 * The initramfs holds /bin/busybox, /probe (tests/cli/sandbox_probe.c,
 * static), /usr, and /ws (the workspace). Every check prints one ok/not ok
 * line on the console; then the guest powers off. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

#define WS "/ws"

static int failures;

__attribute__((format(printf, 2, 3))) static void check(int ok, const char *fmt, ...)
{
	va_list ap;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	failures += !ok;
}

/* Run argv in the sandbox with limits l; the log lands in log (NUL-ended). */
static int run(char *const *argv, const struct sandbox_limits *l, struct sandbox_result *r, char *log, size_t cap,
	       struct cr_err *e)
{
	struct sandbox_config c;
	memset(&c, 0, sizeof c);
	c.rootfs = "/";
	c.workspace = WS;
	c.argv = argv;
	c.uid = 1000;
	c.gid = 1000;
	c.source_date_epoch = 7;
	c.limits = *l;
	c.log_fd = open("/tmp/log", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = sandbox_run(&c, r, e);
	ssize_t n = pread(c.log_fd, log, cap - 1, 0);
	log[n > 0 ? n : 0] = 0;
	close(c.log_fd);
	return rc;
}

static void mount_or_say(const char *src, const char *dst, const char *type)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, 0, NULL) && errno != EBUSY)
		printf("not ok - mount %s on %s: %s\n", type, dst, strerror(errno));
}

int main(void)
{
	struct sandbox_limits l;
	struct sandbox_result r;
	struct cr_err e;
	char log[4096];

	mount_or_say("proc", "/proc", "proc");
	mount_or_say("dev", "/dev", "devtmpfs");
	mount_or_say("tmp", "/tmp", "tmpfs");
	mount_or_say("sys", "/sys", "sysfs");
	mount_or_say("cgroup2", "/sys/fs/cgroup", "cgroup2");
	int con = open("/dev/console", O_RDWR);
	if (con >= 0) {
		dup2(con, 1);
		dup2(con, 2);
	}
	printf("SANDBOX-GUEST started\n");
	mkdir(WS, 0755);
	if (chown(WS, 1000, 1000))
		printf("not ok - chown %s: %s\n", WS, strerror(errno));

	/* 1. It runs, from the initramfs root, with cgroup v2. */
	sandbox_limits_default(&l);
	l.memory_bytes = 64u << 20;
	char *const hello[] = {
		"/bin/busybox", "sh", "-c",
		"echo $(busybox id -u) $(busybox hostname) $SOURCE_DATE_EPOCH $(busybox pwd);"
		"busybox grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status | busybox tr -s '\\t\\n' '  ';"
		"echo hi >/work/out",
		NULL
	};
	int rc = run(hello, &l, &r, log, sizeof log, &e);
	check(rc == 0 && r.exited && r.exit_code == 0, "sandbox runs busybox on the initramfs root (%s)",
	      rc ? e.msg : "ran");
	check(strstr(log, "1000 cleanroom 7 /work") != NULL, "identity, host name, SOURCE_DATE_EPOCH, cwd: %.100s",
	      log);
	check(strstr(log, "NoNewPrivs: 1 Seccomp: 2") != NULL, "no_new_privs and the seccomp filter");
	check(r.cgroup == CG_V2, "limits enforced through cgroup v2 (got %s)", cg_mode_name(r.cgroup));
	struct stat st;
	check(stat(WS "/out", &st) == 0 && st.st_uid == 1000, "the build wrote its workspace as uid 1000");

	/* 2. Hostile actions. */
	static const char *const probes[][2] = {
		{ "tcp", NULL },         { "udp", NULL },       { "netlink", NULL },     { "vsock", "3" },
		{ "vsock", "2" },        { "mount", NULL },     { "ptrace", NULL },      { "unshare", NULL },
		{ "init_module", NULL }, { "reboot", NULL },    { "settime", NULL },     { "write", "/usr/x" },
		{ "write", "/init" },    { "dev", "/dev/nsm" }, { "dev", "/dev/vsock" }, { "dev", "/dev/console" },
	};
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		char *const argv[] = { "/probe", (char *)probes[i][0], (char *)probes[i][1], NULL };
		rc = run(argv, &l, &r, log, sizeof log, &e);
		/* The probe exits 1 when everything it tried was refused. */
		char *res = strstr(log, ": result: ");
		char *nl = res ? strchr(res, '\n') : NULL;
		if (nl)
			*nl = 0;
		check(rc == 0 && r.exited && r.exit_code == 1 && res && strstr(res, "result: blocked"),
		      "probe %s %s: %s", probes[i][0], probes[i][1] ? probes[i][1] : "",
		      rc    ? e.msg
		      : res ? res + 2
			    : log);
	}

	/* 3. Limits through cgroup v2. */
	char *const membomb[] = { "/probe", "membomb", NULL };
	l.memory_bytes = 32u << 20;
	rc = run(membomb, &l, &r, log, sizeof log, &e);
	check(rc == 0 && r.oom_killed && r.signal == 9, "memory bomb: OOM-killed under memory.max (rc %d, signal %d)",
	      rc, r.signal);
	char *const forkbomb[] = { "/probe", "forkbomb", NULL };
	l.memory_bytes = 64u << 20;
	l.pids = 16;
	rc = run(forkbomb, &l, &r, log, sizeof log, &e);
	check(rc == 0 && r.pids_limit_hit, "fork bomb: stopped by pids.max: %.80s", log);
	l.pids = 4096;
	char *const forever[] = { "/bin/busybox", "sh", "-c", "/probe escape; busybox sleep 1000", NULL };
	l.timeout_ms = 1500;
	rc = run(forever, &l, &r, log, sizeof log, &e);
	check(rc == 0 && r.timed_out && r.wall_ms < 5000,
	      "timeout: killed after %llu ms, and no process outlived it (%s)", (unsigned long long)r.wall_ms,
	      rc ? e.msg : "cgroup empty");
	l.timeout_ms = 60000;

	/* 4. PID 1 keeps serving. */
	char *const again[] = { "/bin/busybox", "sh", "-c", "exit 3", NULL };
	rc = run(again, &l, &r, log, sizeof log, &e);
	check(rc == 0 && r.exited && r.exit_code == 3, "after all that, the next build runs (exit 3)");

	printf("SANDBOX-GUEST done (%d failed)\n", failures);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
