/* PID 1: early steps shared by both modes, then bootstrap mode (AWS's init,
 * step for step) or build-agent mode. */
#include "init/boot.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <stdio.h>
#include <unistd.h>

#include "init/agent.h"
#include "init/cgroup_mounts.h"
#include "init/console.h"
#include "sandbox/kernel_features.h"
#include "init/heartbeat.h"
#include "init/launch.h"
#include "init/log.h"
#include "init/mount_table.h"
#include "init/nsm_driver.h"

#define FLAGS_NNN (MS_NODEV | MS_NOSUID | MS_NOEXEC)

/* Inside the customer's root, after the switch: AWS's table. Its last line,
 * the tmpfs on /sys/fs/cgroup, and the cgroup hierarchies are the next
 * step's (cgroup_mounts.h): v1 as AWS's init where the kernel has it, else
 * the v2 unified hierarchy. */
static const struct mount_step rootfs_mounts[] = {
	{ OP_MOUNT, "proc", "/proc", "proc", FLAGS_NNN, NULL, 0 },
	{ OP_SYMLINK, "/proc/self/fd", "/dev/fd", NULL, 0, NULL, 0 },
	{ OP_SYMLINK, "/proc/self/fd/0", "/dev/stdin", NULL, 0, NULL, 0 },
	{ OP_SYMLINK, "/proc/self/fd/1", "/dev/stdout", NULL, 0, NULL, 0 },
	{ OP_SYMLINK, "/proc/self/fd/2", "/dev/stderr", NULL, 0, NULL, 0 },
	{ OP_MOUNT, "tmpfs", "/run", "tmpfs", FLAGS_NNN, "mode=0755", 0 },
	{ OP_MOUNT, "tmpfs", "/tmp", "tmpfs", FLAGS_NNN, NULL, 0 },
	{ OP_MKDIR, NULL, "/dev/shm", NULL, 0, NULL, 0755 },
	{ OP_MOUNT, "shm", "/dev/shm", "tmpfs", FLAGS_NNN, NULL, 0 },
	{ OP_MKDIR, NULL, "/dev/pts", NULL, 0, NULL, 0755 },
	{ OP_MOUNT, "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, NULL, 0 },
	{ OP_MOUNT, "sysfs", "/sys", "sysfs", FLAGS_NNN, NULL, 0 },
};

/* ---------------------------------------------------------------- steps */

static int step_block_signals(struct boot *b, struct cr_err *e)
{
	sigset_t all;
	(void)b;
	/* PID 1 handles nothing asynchronously: SIGCHLD still wakes wait(). */
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, NULL) < 0)
		return cr_failp(e, "sigprocmask");
	return 0;
}

static int step_devtmpfs(struct boot *b, struct cr_err *e)
{
	(void)b;
	return mount_devtmpfs("/dev", e);
}

/* As AWS's init freopen()s it: three descriptions, fd 0 read-only, 1 and 2
 * write-only (init/console.h). */
static int step_console(struct boot *b, struct cr_err *e)
{
	(void)b;
	return console_attach("/dev/console", e);
}

/* Nothing is printed before the heartbeat: a console line costs a few ms
 * under emulation. The heartbeat line reports the module load. */
static int step_nsm_driver(struct boot *b, struct cr_err *e)
{
	double t0 = init_uptime();
	int r = nsm_driver_load(e);
	b->module_load = init_uptime() - t0;
	b->module_loaded = r == 0;
	b->module_builtin = r == 2;
	return r < 0 ? -1 : 0;
}

/* The time to the heartbeat, split into the kernel's module load, the
 * connection to the host, and the rest (init's own work). */
static int step_heartbeat(struct boot *b, struct cr_err *e)
{
	double total;
	char module[64] = "no nsm.ko";
	if (heartbeat(&b->heartbeat_sent, &b->connecting, e))
		return -1;
	total = b->heartbeat_sent - b->started;
	if (b->module_loaded)
		snprintf(module, sizeof module, "nsm.ko loaded in %.3f ms", b->module_load * 1000);
	else if (b->module_builtin)
		snprintf(module, sizeof module, "the kernel's NSM driver, nsm.ko not loaded");
	init_log("heartbeat: sent at %.6f s of uptime, %.3f ms after init started (%s, connecting %.3f ms, "
		 "init's own work %.3f ms)",
		 b->heartbeat_sent, total * 1000, module, b->connecting * 1000,
		 (total - b->module_load - b->connecting) * 1000);
	return 0;
}

/* The kernel hands unknown name=value cmdline parameters to init's
 * environment, so cleanroom_mode= (measured, like the whole cmdline) picks
 * the mode; without it, a /cmd file means bootstrap mode. */
static int step_choose_mode(struct boot *b, struct cr_err *e)
{
	const char *m = getenv("cleanroom_mode");
	if (m) {
		if (!strcmp(m, "bootstrap"))
			b->mode = MODE_BOOTSTRAP;
		else if (!strcmp(m, "agent"))
			b->mode = MODE_AGENT;
		else
			return cr_fail(e, "cleanroom_mode='%s' on the kernel cmdline: expected bootstrap or agent", m);
		b->mode_reason = "cleanroom_mode on the kernel cmdline";
	} else if (access("/cmd", F_OK) == 0) {
		b->mode = MODE_BOOTSTRAP;
		b->mode_reason = "/cmd is present";
	} else {
		b->mode = MODE_AGENT;
		b->mode_reason = "no /cmd";
	}
	init_log("mode: %s (%s)", b->mode == MODE_BOOTSTRAP ? "bootstrap" : "build agent", b->mode_reason);
	return 0;
}

/* /cmd or /env of the initramfs root, then unlinked. AWS's init crashes
 * (fclose(NULL), so the kernel panics) when either is missing; here that is
 * a clear failure. An empty file means the defaults, as for AWS. */
static int read_list(const char *path, int is_env, struct str_list *out, const char *missing, struct cr_err *e)
{
	int r = config_read(path, is_env, out, e);
	if (r < 0)
		return -1;
	if (r == 1)
		return cr_fail(e, "%s is missing: %s", path, missing);
	unlink(path);
	return 0;
}

static int step_read_cmd(struct boot *b, struct cr_err *e)
{
	return read_list("/cmd", 0, &b->cmd,
			 "bootstrap mode runs the command it lists, one argument per line (an empty /cmd runs sh)", e);
}

static int step_read_env(struct boot *b, struct cr_err *e)
{
	return read_list("/env", 1, &b->env,
			 "it goes with /cmd, one KEY=VALUE per line (an empty /env gives the command just PATH)", e);
}

static int step_switch_root(struct boot *b, struct cr_err *e)
{
	(void)b;
	return switch_root("/rootfs", e);
}

static int step_rootfs_mounts(struct boot *b, struct cr_err *e)
{
	(void)b;
	return mount_steps_run(rootfs_mounts, sizeof rootfs_mounts / sizeof rootfs_mounts[0], e);
}

static int step_cgroups(struct boot *b, struct cr_err *e)
{
	struct cgroup_layout l;
	(void)b;
	if (cgroup_mount_like_aws(&l, e))
		return -1;
	if (l.v2)
		init_log("cgroups: v2 on /sys/fs/cgroup (%s)", l.why);
	else
		init_log("cgroups: v1, %zu controllers under /sys/fs/cgroup, as AWS's init", l.n);
	return 0;
}

static const struct boot_step early_steps[] = {
	{ "signals", step_block_signals }, { "devtmpfs", step_devtmpfs },   { "console", step_console },
	{ "nsm.ko", step_nsm_driver },     { "heartbeat", step_heartbeat }, { "mode", step_choose_mode },
};

static const struct boot_step bootstrap_steps[] = {
	{ "cmd", step_read_cmd },      { "env", step_read_env },         { "switch-root", step_switch_root },
	{ "devtmpfs", step_devtmpfs }, { "mounts", step_rootfs_mounts }, { "cgroups", step_cgroups },
};

/* ---------------------------------------------------------------- flow */

/* VmHWM of /proc/self/status (after the switch, /proc is mounted). */
static long peak_rss_kib(void)
{
	struct cr_err e;
	uint64_t kib;
	return cr_read_proc_u64("/proc/self/status", "VmHWM:", LONG_MAX, &kib, &e) ? -1 : (long)kib;
}

static void run_steps(struct boot *b, const struct boot_step *steps, size_t n)
{
	struct cr_err e;
	for (size_t i = 0; i < n; i++)
		if (steps[i].run(b, &e))
			init_fatal(steps[i].name, "%s", e.msg);
}

static _Noreturn void bootstrap(struct boot *b)
{
	struct cr_err e;
	char what[128];
	unsigned orphans;
	pid_t pid;
	int status;

	run_steps(b, bootstrap_steps, sizeof bootstrap_steps / sizeof bootstrap_steps[0]);
	pid = launch_command(b->cmd.v, b->env.v, &e);
	if (pid < 0)
		init_fatal("launch", "%s", e.msg);
	init_log("launch: %s (pid %d)", b->cmd.v ? b->cmd.v[0] : "sh", (int)pid);
	status = reap_until(pid, &orphans);
	/* Before our last lines: the command may have left output stopped. */
	console_resume();
	wait_status_text(status, what, sizeof what);
	init_log("%s %s; %u other process%s reaped; init peak RSS %ld KiB", b->cmd.v ? b->cmd.v[0] : "sh", what,
		 orphans, orphans == 1 ? "" : "es", peak_rss_kib());
	init_log("ending the enclave (reboot)");
	init_end_vm();
}

_Noreturn void boot_main(double started)
{
	struct boot b;
	struct cr_err e;
	memset(&b, 0, sizeof b);
	b.started = started;
	run_steps(&b, early_steps, sizeof early_steps / sizeof early_steps[0]);
	if (b.mode == MODE_BOOTSTRAP)
		bootstrap(&b);
	/* Before anything listens: a kernel the sandbox cannot run on ends the
	 * enclave with one line naming what is missing. */
	if (kernel_features_check(&e))
		init_fatal("agent", "%s", e.msg);
	agent_main();
}
