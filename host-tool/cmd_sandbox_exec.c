/* cleanroom sandbox-exec: run one command in the enclave's build sandbox,
 * natively on this machine (sandbox/sandbox.h; design in docs/sandbox.md). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host-tool/commands.h"
#include "sandbox/kernel_features.h"
#include "sandbox/sandbox.h"
#include "base/json.h"
#include "base/term.h"
#include "base/util.h"

static const char usage_text[] =
	"usage: cleanroom sandbox-exec --root DIR --work DIR [options] -- CMD [ARG...]\n"
	"\n"
	"Run CMD in the build sandbox the enclave uses, natively on this machine (as root):\n"
	"new mount, pid, network (loopback only), ipc, uts and cgroup namespaces; DIR of\n"
	"--root read-only as /; the --work directory read-write at " SANDBOX_WORKDIR " (the working\n"
	"directory unless --cwd); a private /tmp; a minimal /dev; the given uid/gid with\n"
	"no supplementary groups and no capabilities; no_new_privs; a seccomp filter (no\n"
	"sockets but AF_UNIX, no ptrace, mount, namespaces, modules, bpf, kexec, ...);\n"
	"rlimits; cgroup memory and pids limits; a wall-clock timeout that kills\n"
	"everything CMD started. The environment is fixed: PATH=" SANDBOX_PATH ",\n"
	"HOME=" SANDBOX_HOME ", TZ=UTC, LC_ALL=C, SOURCE_DATE_EPOCH; umask 022.\n"
	"\n"
	"options:\n"
	"  --root DIR               root file system, e.g. / for this machine's own\n"
	"  --work DIR               workspace; must be writable by --uid\n"
	"  --cwd DIR                working directory, relative to the workspace\n"
	"  --timeout S              wall-clock limit in seconds (default 3600; 0 = none)\n"
	"  --memory BYTES           memory limit, suffix K, M or G allowed (default none)\n"
	"  --pids N                 limit on processes and threads (default 4096; 0 = none)\n"
	"  --uid N, --gid N         identity inside the sandbox (default 1000, 1000)\n"
	"  --tmp-size BYTES         size of /tmp and of /dev/shm, each (default 1G; 0: the\n"
	"                           kernel's default, half of RAM)\n"
	"  --log-limit BYTES        pass on at most this much output; the rest is counted\n"
	"                           and dropped (default 64M; 0 = no limit)\n"
	"  --source-date-epoch N    SOURCE_DATE_EPOCH inside (default 0)\n"
	"  --json                   print the result as one JSON object on stdout (the\n"
	"                           command's output then goes to stderr)\n"
	"  -h, --help               this text\n"
	"\n"
	"The command's stdout and stderr are combined and passed through live.\n"
	"Memory and pids limits use cgroup v2 when it offers the memory and pids\n"
	"controllers, else the cgroup v1 memory and pids hierarchies; when neither is\n"
	"mounted, asking for a limit fails (--pids 0 and no --memory need no cgroup).\n"
	"\n"
	"exit status:\n"
	"  the command's own exit status, or 128+N when signal N killed it;\n"
	"  124 when the timeout killed it (like timeout(1));\n"
	"  128+N when this command got signal N (SIGINT, SIGTERM, SIGHUP): the sandbox and\n"
	"      everything in it are killed and cleaned up first;\n"
	"  1   the sandbox could not be set up or CMD could not be started (one line on\n"
	"      stderr says which step failed and why);\n"
	"  2   usage error.\n"
	"\n"
	"examples:\n"
	"  cleanroom sandbox-exec --root / --work /tmp/w -- sh -c 'cc -o hello hello.c'\n"
	"  cleanroom sandbox-exec --root /srv/rootfs --work src --timeout 600 \\\n"
	"      --memory 2G --json -- make -j2\n";

/* One line on stderr (its newlines escaped too: it is one line), exit 2. */
__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cr_tprintf(stderr, "cleanroom sandbox-exec: %s (see 'cleanroom sandbox-exec --help')\n", cr_term_arg(msg));
	return 2;
}

static int print_json(const struct sandbox_result *r, const char *error)
{
	struct cr_buf b;
	struct json_w w;
	struct cr_err e;
	cr_buf_init(&b, 1 << 16);
	jw_init(&w, &b, 0);
	jw_obj_begin(&w);
	if (error) {
		jw_kstr(&w, "error", error);
	} else {
		jw_key(&w, "exit_code");
		if (r->exited)
			jw_u64(&w, (uint64_t)r->exit_code);
		else
			jw_null(&w);
		jw_key(&w, "signal");
		if (r->exited)
			jw_null(&w);
		else
			jw_u64(&w, (uint64_t)r->signal);
		jw_ku64(&w, "status", (uint64_t)sandbox_exit_status(r));
		jw_kbool(&w, "timed_out", r->timed_out);
		jw_kbool(&w, "cancelled", r->cancelled);
		jw_kbool(&w, "oom_killed", r->oom_killed);
		jw_kbool(&w, "pids_limit_hit", r->pids_limit_hit);
		jw_ku64(&w, "wall_ms", r->wall_ms);
		jw_ku64(&w, "log_bytes", r->log_bytes);
		jw_kbool(&w, "log_truncated", r->log_truncated);
		jw_ku64(&w, "memory_peak", r->memory_peak);
		jw_kstr(&w, "cgroup", cg_mode_name(r->cgroup));
	}
	jw_obj_end(&w);
	if (jw_print(&w, &e)) {
		cr_tprintf(stderr, "cleanroom sandbox-exec: %s\n", e.msg);
		cr_buf_free(&b);
		return -1;
	}
	cr_buf_free(&b);
	return 0;
}

/* SIGINT, SIGTERM, SIGHUP: stop the build (and everything it started),
 * clean up, then exit 128 + the signal. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* The library wants absolute paths; the command line may give relative ones. */
static int absolute(const char *opt, const char **path, char buf[PATH_MAX])
{
	if ((*path)[0] == '/')
		return 0;
	if (!realpath(*path, buf)) {
		cr_tprintf(stderr, "cleanroom sandbox-exec: %s %s: %s\n", opt, *path, strerror(errno));
		return -1;
	}
	*path = buf;
	return 0;
}

int cmd_sandbox_exec(int argc, char **argv)
{
	char root_buf[PATH_MAX], work_buf[PATH_MAX];
	struct sandbox_config c;
	struct sandbox_result r;
	struct cr_err e;
	int json = 0, i;
	uint64_t v;

	memset(&c, 0, sizeof c);
	sandbox_limits_default(&c.limits);
	c.uid = 1000;
	c.gid = 1000;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (!strcmp(o, "--json")) {
			json = 1;
			continue;
		}
		if (o[0] != '-')
			return usage_error("'%s': put the command after --", o);
		if (!val)
			return usage_error("%s needs a value", o);
		i++;
		if (!strcmp(o, "--root"))
			c.rootfs = val;
		else if (!strcmp(o, "--work"))
			c.workspace = val;
		else if (!strcmp(o, "--cwd"))
			c.cwd = val;
		else if (!strcmp(o, "--timeout")) {
			if (cr_parse_u64(val, 7 * 24 * 3600, &v))
				return usage_error("--timeout: '%s' is not a number of seconds up to 604800", val);
			c.limits.timeout_ms = v * 1000;
		} else if (!strcmp(o, "--memory")) {
			if (cr_parse_size(val, &c.limits.memory_bytes))
				return usage_error("--memory: '%s' is not a size in bytes (K, M, G suffix allowed)",
						   val);
		} else if (!strcmp(o, "--tmp-size") || !strcmp(o, "--log-limit")) {
			if (cr_parse_size(val, o[2] == 't' ? &c.limits.tmp_bytes : &c.limits.log_bytes))
				return usage_error("%s: '%s' is not a size in bytes (K, M, G suffix allowed)", o, val);
		} else if (!strcmp(o, "--pids")) {
			if (cr_parse_u64(val, 1u << 22, &c.limits.pids))
				return usage_error("--pids: '%s' is not a number up to 4194304", val);
		} else if (!strcmp(o, "--uid") || !strcmp(o, "--gid")) {
			if (cr_parse_u64(val, 0xfffffffeu, &v))
				return usage_error("%s: '%s' is not a number up to 4294967294", o, val);
			if (o[2] == 'u')
				c.uid = (uid_t)v;
			else
				c.gid = (gid_t)v;
		} else if (!strcmp(o, "--source-date-epoch")) {
			if (cr_parse_u64(val, UINT64_MAX, &c.source_date_epoch))
				return usage_error("--source-date-epoch: '%s' is not a number", val);
		} else
			return usage_error("unknown option '%s'", o);
	}
	if (!c.rootfs || !c.workspace)
		return usage_error("%s", "--root and --work are required");
	if (i >= argc)
		return usage_error("%s", "no command: give it after --");
	c.argv = argv + i;
	/* --cwd, --uid/--gid, --memory and the command are usage errors (2)
	 * before anything is looked at or set up. */
	if (sandbox_check_options(&c, &e))
		return usage_error("%s", e.msg);
	if (absolute("--root", &c.rootfs, root_buf) || absolute("--work", &c.workspace, work_buf))
		return 1;
	c.log_fd = json ? STDERR_FILENO : STDOUT_FILENO;

	if (geteuid() != 0) {
		cr_tprintf(stderr,
			   "cleanroom sandbox-exec: must run as root (it makes namespaces, mounts and cgroups)\n");
		return 1;
	}
	if (kernel_features_check(&e)) {
		cr_tprintf(stderr, "cleanroom sandbox-exec: %s\n", e.msg);
		return 1;
	}
	/* The command's output is ours to pass on; a closed reader must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	cr_on_stop_signals(on_stop); /* poll returns EINTR */
	c.cancel = &stop_signal;
	fflush(stdout);
	if (sandbox_run(&c, &r, &e)) {
		cr_tprintf(stderr, "cleanroom sandbox-exec: %s\n", e.msg);
		if (json)
			print_json(&r, e.msg);
		return 1;
	}
	if (json && print_json(&r, NULL))
		return 1;
	if (r.log_truncated)
		cr_tprintf(stderr, "cleanroom sandbox-exec: output cut at %llu of %llu bytes (--log-limit)\n",
			   (unsigned long long)c.limits.log_bytes, (unsigned long long)r.log_bytes);
	if (r.cancelled) {
		cr_tprintf(stderr,
			   "cleanroom sandbox-exec: stopped by signal %d; everything the command started was killed\n",
			   (int)stop_signal);
		return 128 + (int)stop_signal;
	}
	if (r.timed_out || r.oom_killed || r.pids_limit_hit) {
		char what[256];
		sandbox_describe(&r, &c.limits, what, sizeof what);
		cr_tprintf(stderr, "cleanroom sandbox-exec: %s\n", what);
	}
	return r.timed_out ? 124 : sandbox_exit_status(&r);
}
