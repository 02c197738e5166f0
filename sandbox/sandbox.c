/* The sandbox, supervising side: check the request, plan the child's steps,
 * make the cgroup, clone into new namespaces, stream the log, enforce the
 * timeout, collect the result, check that nothing survived. The child's
 * side is sandbox_child.c; the design is in docs/sandbox.md. */
#include "sandbox/sandbox_priv.h"
#include "sandbox/syscall_nr.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
# define CLONE_PIDFD 0x00001000
#endif

/* How long to wait for the log to close once pid 1 is gone (it closes at
 * once: the kernel has killed and reaped the whole namespace by then). */
#define DRAIN_MS 5000
#define CANCEL_POLL_MS 100

void sandbox_limits_default(struct sandbox_limits *l)
{
	memset(l, 0, sizeof *l);
	l->timeout_ms = 3600u * 1000;
	l->pids = 4096;
	l->nofile = 4096;
	l->fsize_bytes = 16ull << 30;
	l->tmp_bytes = 1ull << 30;
	l->log_bytes = 64u << 20;
}

void sandbox_env(uint64_t sde, char buf[SANDBOX_ENV_BUF], char *envp[SANDBOX_ENV_MAX])
{
	static const char *const fixed[] = {
		"PATH=" SANDBOX_PATH,
		"HOME=" SANDBOX_HOME,
		"TZ=UTC",
		"LC_ALL=C",
	};
	size_t off = 0, n = 0;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		envp[n++] = buf + off;
		off += (size_t)snprintf(buf + off, SANDBOX_ENV_BUF - off, "%s", fixed[i]) + 1;
	}
	envp[n++] = buf + off;
	snprintf(buf + off, SANDBOX_ENV_BUF - off, "SOURCE_DATE_EPOCH=%llu", (unsigned long long)sde);
	envp[n] = NULL;
}

int sb_reserved_name(const char *name)
{
	static const char *const reserved[] = { "dev", "proc", "sys", "tmp", "run", SANDBOX_WORKDIR + 1 };
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (!strcmp(name, reserved[i]))
			return 1;
	return 0;
}

/* ------------------------------------------------------------ the plan */

static int check_limits(const struct sandbox_limits *l, struct cr_err *e)
{
	if (l->timeout_ms > 7ull * 24 * 3600 * 1000)
		return cr_fail(e, "sandbox: timeout %llu ms is more than 7 days", (unsigned long long)l->timeout_ms);
	if (l->memory_bytes && l->memory_bytes < (16u << 20))
		return cr_fail(e, "sandbox: memory limit %llu bytes is below 16 MiB",
			       (unsigned long long)l->memory_bytes);
	if (l->pids && l->pids < 4)
		return cr_fail(e, "sandbox: pids limit %llu is below 4", (unsigned long long)l->pids);
	if (l->nofile < 16 || l->nofile > (1u << 20))
		return cr_fail(e, "sandbox: nofile limit %llu is outside 16..1048576", (unsigned long long)l->nofile);
	return 0;
}

static int check_argv(char *const *argv, struct cr_err *e)
{
	size_t n = 0, bytes = 0;
	if (!argv || !argv[0] || !argv[0][0])
		return cr_fail(e, "sandbox: no command given");
	for (; argv[n]; n++) {
		if (n >= SANDBOX_MAX_ARGS)
			return cr_fail(e, "sandbox: more than %d arguments", SANDBOX_MAX_ARGS);
		bytes += strlen(argv[n]) + 1;
		if (bytes > SANDBOX_MAX_ARG_BYTES)
			return cr_fail(e, "sandbox: arguments longer than %u bytes in total", SANDBOX_MAX_ARG_BYTES);
	}
	return 0;
}

/* The working directory: relative, inside the workspace, no "..". */
static int check_cwd(const char *cwd, char out[PATH_MAX], struct cr_err *e)
{
	if (!cwd || !*cwd) {
		snprintf(out, PATH_MAX, "%s", SANDBOX_WORKDIR);
		return 0;
	}
	if (cwd[0] == '/')
		return cr_fail(e, "sandbox: working directory '%s' must be relative to the workspace", cwd);
	if (strlen(cwd) > 1024)
		return cr_fail(e, "sandbox: working directory longer than 1024 bytes");
	for (const char *c = cwd; *c;) {
		size_t l = strcspn(c, "/");
		if (l == 2 && c[0] == '.' && c[1] == '.')
			return cr_fail(e, "sandbox: working directory '%s' leaves the workspace (..)", cwd);
		c += l + (c[l] == '/');
	}
	snprintf(out, PATH_MAX, "%s/%s", SANDBOX_WORKDIR, cwd);
	return 0;
}

/* Canonical path of an existing directory. */
static int canonical_dir(const char *what, const char *path, char out[PATH_MAX], struct stat *st, struct cr_err *e)
{
	if (!path || path[0] != '/')
		return cr_fail(e, "sandbox: %s '%s' is not an absolute path", what, path ? path : "");
	if (!realpath(path, out))
		return cr_failp(e, "sandbox: %s %s", what, path);
	if (stat(out, st))
		return cr_failp(e, "sandbox: %s %s", what, out);
	if (!S_ISDIR(st->st_mode))
		return cr_fail(e, "sandbox: %s %s is not a directory", what, out);
	return 0;
}

/* Is a equal to b or below it? (both canonical) */
static int path_within(const char *a, const char *b)
{
	size_t bl = strlen(b);
	if (!strcmp(b, "/"))
		return 1;
	return !strncmp(a, b, bl) && (a[bl] == 0 || a[bl] == '/');
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct sb_entry *)a)->name, ((const struct sb_entry *)b)->name);
}

/* The root's top-level entries: directories and files become read-only bind
 * mounts, symlinks are recreated; special files are left out. Sorted, so
 * the mount table inside does not depend on directory order. */
static int list_root(struct sb_plan *p, struct cr_err *e)
{
	DIR *d = opendir(p->rootfs);
	struct dirent *de;
	if (!d)
		return cr_failp(e, "sandbox: rootfs %s", p->rootfs);
	p->n_entries = 0;
	while ((errno = 0, de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || sb_reserved_name(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			cr_failp(e, "sandbox: rootfs %s/%s", p->rootfs, de->d_name);
			goto fail;
		}
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			continue;
		if (p->n_entries == SANDBOX_MAX_ROOT_ENTRIES) {
			cr_fail(e, "sandbox: rootfs %s has more than %d entries at its top", p->rootfs,
				SANDBOX_MAX_ROOT_ENTRIES);
			goto fail;
		}
		struct sb_entry *en = &p->entries[p->n_entries++];
		snprintf(en->name, sizeof en->name, "%s", de->d_name);
		en->kind = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : 'l';
		if (en->kind == 'l') {
			ssize_t n = readlinkat(dirfd(d), de->d_name, en->target, sizeof en->target);
			if (n < 0 || (size_t)n >= sizeof en->target) {
				cr_fail(e, "sandbox: rootfs %s/%s: unreadable or too long symlink", p->rootfs,
					de->d_name);
				goto fail;
			}
			en->target[n] = 0;
		}
	}
	if (errno) {
		cr_failp(e, "sandbox: reading rootfs %s", p->rootfs);
		goto fail;
	}
	closedir(d);
	qsort(p->entries, p->n_entries, sizeof p->entries[0], cmp_entry);
	return 0;
fail:
	closedir(d);
	return -1;
}

/* What needs no file system: the command, limits, working directory and
 * ids (cwd_out: the working directory inside the sandbox). */
static int check_options(const struct sandbox_config *c, char cwd_out[PATH_MAX], struct cr_err *e)
{
	if (check_argv(c->argv, e) || check_limits(&c->limits, e) || check_cwd(c->cwd, cwd_out, e))
		return -1;
	if (c->uid == 0 || c->gid == 0 || c->uid == (uid_t)-1 || c->gid == (gid_t)-1)
		return cr_fail(e, "sandbox: uid %u / gid %u: must be neither 0 (root) nor -1", (unsigned)c->uid,
			       (unsigned)c->gid);
	return 0;
}

int sandbox_check_options(const struct sandbox_config *c, struct cr_err *e)
{
	char cwd[PATH_MAX];
	return check_options(c, cwd, e);
}

static int make_plan(const struct sandbox_config *c, struct sb_plan *p, struct cr_err *e)
{
	struct stat rs, ws;
	if (check_options(c, p->cwd, e))
		return -1;
	if (canonical_dir("rootfs", c->rootfs, p->rootfs, &rs, e) ||
	    canonical_dir("workspace", c->workspace, p->workspace, &ws, e))
		return -1;
	if (!strcmp(p->workspace, "/"))
		return cr_fail(e, "sandbox: workspace must not be /");
	if (path_within(p->rootfs, p->workspace))
		return cr_fail(e, "sandbox: rootfs %s is inside the workspace %s (it would be writable)", p->rootfs,
			       p->workspace);
	if (!(ws.st_uid == c->uid || (ws.st_mode & S_IWOTH) || (ws.st_gid == c->gid && (ws.st_mode & S_IWGRP))))
		return cr_fail(e, "sandbox: workspace %s is not writable by uid %u (owner %u, mode %04o)", p->workspace,
			       (unsigned)c->uid, (unsigned)ws.st_uid, (unsigned)(ws.st_mode & 07777));
	if (list_root(p, e))
		return -1;
	p->argv = c->argv;
	p->uid = c->uid;
	p->gid = c->gid;
	p->limits = c->limits;
	sandbox_env(c->source_date_epoch, p->env_buf, p->envp);
	if (c->limits.tmp_bytes)
		snprintf(p->tmpfs_opts, sizeof p->tmpfs_opts, "mode=1777,size=%llu",
			 (unsigned long long)c->limits.tmp_bytes);
	else
		snprintf(p->tmpfs_opts, sizeof p->tmpfs_opts, "mode=1777");
	return seccomp_build(&p->prog, e);
}

/* ------------------------------------------------------------ running */

/* Supervision state of one run. */
struct sb_run {
	pid_t pid;
	int pidfd;
	int go_wr, report_rd, log_rd;
	int log_fd;
	uint64_t log_limit;
	const volatile sig_atomic_t *cancel;
	struct sandbox_result *r;
	/* Log read from the build, not yet taken by log_fd. While some is
	 * pending no more is read, so a slow reader slows the build's writes
	 * (a full pipe), never the supervisor: it writes only what log_fd can
	 * take now and keeps the deadline and the cancel flag. */
	char pend[65536];
	size_t pend_off, pend_len;
};

/* Read what the log pipe has into pend (only when pend is empty). 0 at
 * EOF, 1 otherwise. */
static int read_log(struct sb_run *s)
{
	ssize_t n = read(s->log_rd, s->pend, sizeof s->pend);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	uint64_t room =
		s->log_limit ? (s->r->log_bytes < s->log_limit ? s->log_limit - s->r->log_bytes : 0) : (uint64_t)n;
	size_t pass = (uint64_t)n < room ? (size_t)n : (size_t)room;
	if (pass < (size_t)n)
		s->r->log_truncated = 1;
	s->r->log_bytes += (uint64_t)n;
	s->pend_off = 0;
	s->pend_len = s->log_fd >= 0 ? pass : 0;
	return 1;
}

/* Pass pending log on to log_fd, which poll said can take some: at most
 * PIPE_BUF bytes, which a pipe with room takes without blocking (and a
 * non-blocking fd takes what it can). A reader that is gone never stops
 * the build: the log is dropped from then on. */
static void write_log(struct sb_run *s)
{
	size_t n = s->pend_len < PIPE_BUF ? s->pend_len : PIPE_BUF;
	ssize_t w = write(s->log_fd, s->pend + s->pend_off, n);
	if (w < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		s->log_fd = -1;
		s->pend_len = 0;
		return;
	}
	s->pend_off += (size_t)w;
	s->pend_len -= (size_t)w;
}

/* One round of log forwarding: poll pidfd (when watch_pid), the log pipe
 * (when nothing is pending) and log_fd (when something is). Returns
 * poll's result; *pid_done when pid 1 ended. */
static int log_round(struct sb_run *s, int *log_open, int watch_pid, int wait_ms, int *pid_done)
{
	struct pollfd pf[3] = { { watch_pid ? s->pidfd : -1, POLLIN, 0 },
				{ *log_open && !s->pend_len ? s->log_rd : -1, POLLIN, 0 },
				{ s->pend_len ? s->log_fd : -1, POLLOUT, 0 } };
	int n = poll(pf, 3, wait_ms);
	if (n <= 0)
		return n;
	if (pf[2].revents & (POLLOUT | POLLERR | POLLHUP))
		write_log(s);
	if (pf[1].revents & (POLLIN | POLLHUP | POLLERR))
		*log_open = read_log(s);
	if (pf[0].revents & POLLIN)
		*pid_done = 1;
	return n;
}

static void kill_sandbox(struct sb_run *s)
{
	if (syscall(__NR_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0) != 0)
		kill(s->pid, SIGKILL);
}

/* Stream the log until pid 1 ends (killing it at the deadline), then
 * drain the log. Returns pid 1's wait status, -1 if it could not be had. */
static int supervise(struct sb_run *s, uint64_t start, uint64_t timeout_ms)
{
	int log_open = 1, st = 0, done = 0;
	for (;;) {
		int wait_ms = -1;
		if (s->cancel && *s->cancel && !s->r->cancelled) {
			s->r->cancelled = 1;
			kill_sandbox(s);
		}
		if (timeout_ms && !s->r->timed_out && !s->r->cancelled) {
			uint64_t t = cr_mono_ms() - start;
			if (t >= timeout_ms) {
				s->r->timed_out = 1;
				kill_sandbox(s);
				continue;
			}
			wait_ms = (int)(timeout_ms - t > 60000 ? 60000 : timeout_ms - t);
		}
		/* A cancel flag may be set from a signal handler (poll returns
		 * EINTR) or from another thread (seen within CANCEL_POLL_MS). */
		if (s->cancel && !s->r->cancelled && (wait_ms < 0 || wait_ms > CANCEL_POLL_MS))
			wait_ms = CANCEL_POLL_MS;
		if (log_round(s, &log_open, 1, wait_ms, &done) < 0 && errno != EINTR) {
			kill_sandbox(s); /* cannot supervise: do not leave it running */
			break;
		}
		if (done)
			break;
	}
	for (;;) {
		if (waitpid(s->pid, &st, 0) == s->pid)
			break;
		if (errno != EINTR) {
			st = -1; /* someone else reaped it (see sandbox.h) */
			break;
		}
	}
	/* The rest of the log, for at most DRAIN_MS: what log_fd has not
	 * taken by then is dropped. */
	uint64_t until = cr_mono_ms() + DRAIN_MS;
	while (log_open || s->pend_len) {
		uint64_t t = cr_mono_ms();
		if (t >= until) {
			if (s->pend_len)
				s->r->log_truncated = 1;
			break;
		}
		int n = log_round(s, &log_open, 0, (int)(until - t), &done);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	return st;
}

/* Read the child's reports; fill r from the command's status. 0 when the
 * command ran (a status came), -1 with e on a setup or exec failure. */
static int read_reports(struct sb_run *s, int init_status, struct cr_err *e)
{
	struct sb_msg m;
	int have_status = 0, failed = 0;
	long n;
	while ((n = cr_read_full(s->report_rd, &m, sizeof m)) == (long)sizeof m) {
		m.text[sizeof m.text - 1] = 0;
		if (m.kind == SB_MSG_STATUS && !have_status && !failed) {
			have_status = 1;
			if (WIFEXITED(m.status)) {
				s->r->exited = 1;
				s->r->exit_code = WEXITSTATUS(m.status);
			} else if (WIFSIGNALED(m.status))
				s->r->signal = WTERMSIG(m.status);
		} else if ((m.kind == SB_MSG_SETUP || m.kind == SB_MSG_EXEC) && !failed) {
			failed = 1;
			if (m.kind == SB_MSG_EXEC) {
				cr_fail(e, "sandbox: cannot run %s: %s", m.text, strerror(m.err));
				s->r->exec_errno = m.err ? m.err : ENOENT;
			} else if (m.err)
				cr_fail(e, "sandbox setup: %s: %s", m.text, strerror(m.err));
			else
				cr_fail(e, "sandbox setup: %s failed", m.text);
		}
	}
	if (failed)
		return -1;
	if (have_status)
		return 0;
	if (init_status == -1)
		return cr_fail(e, "sandbox: its pid 1 was reaped by someone else (a waitpid(-1) in the caller?)");
	/* No status: pid 1 itself was killed (timeout, or an OOM kill of the
	 * whole group), which ended the command with it. */
	if (WIFSIGNALED(init_status)) {
		s->r->signal = WTERMSIG(init_status);
		return 0;
	}
	return cr_fail(e, "sandbox: its pid 1 exited with status %d without a report",
		       WIFEXITED(init_status) ? WEXITSTATUS(init_status) : -1);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Clone pid 1 of the sandbox with a pidfd. A raw clone with no new stack
 * behaves like fork() and works the same under glibc and musl; the child
 * then only makes system calls (see sandbox_priv.h). The argument order
 * (flags, stack, parent_tid, ...) is the same on x86_64 and aarch64. */
static pid_t clone_sandbox(int *pidfd)
{
	unsigned long flags =
		CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD;
	return (pid_t)syscall(SYS_clone, flags, NULL, pidfd, NULL, NULL);
}

int sandbox_run(const struct sandbox_config *c, struct sandbox_result *r, struct cr_err *e)
{
	static unsigned serial;
	struct sb_plan *p;
	struct cg_ctx cg;
	struct cg_usage u;
	struct cr_err ce;
	struct cg_limits cl = { c->limits.memory_bytes, c->limits.pids };
	struct sb_run s = { .pid = -1,
			    .pidfd = -1,
			    .go_wr = -1,
			    .report_rd = -1,
			    .log_rd = -1,
			    .log_fd = c->log_fd,
			    .log_limit = c->limits.log_bytes,
			    .cancel = c->cancel,
			    .r = r };
	int go[2] = { -1, -1 }, report[2] = { -1, -1 }, logp[2] = { -1, -1 };
	char name[64];
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (!(p = calloc(1, sizeof *p)))
		return cr_fail(e, "sandbox: out of memory");
	if (make_plan(c, p, e))
		goto out_plan;
	snprintf(name, sizeof name, "cleanroom-sandbox-%ld-%u", (long)getpid(), serial++);
	if (cg_create(&cg, &cl, name, e)) {
		cr_err_wrap(e, "sandbox");
		goto out_plan;
	}
	r->cgroup = cg.mode;
	if (pipe2(go, O_CLOEXEC) || pipe2(report, O_CLOEXEC) || pipe2(logp, O_CLOEXEC)) {
		cr_failp(e, "sandbox: pipe");
		goto out_pipes;
	}
	p->go_rd = go[0];
	p->report_wr = report[1];
	p->log_wr = logp[1];

	uint64_t start = cr_mono_ms();
	s.pid = clone_sandbox(&s.pidfd);
	if (s.pid < 0) {
		cr_failp(e, "sandbox: clone into new namespaces");
		goto out_pipes;
	}
	if (s.pid == 0)
		sb_child_main(p);

	s.go_wr = go[1];
	s.report_rd = report[0];
	s.log_rd = logp[0];
	go[1] = report[0] = logp[0] = -1;
	close_fd(&go[0]);
	close_fd(&report[1]);
	close_fd(&logp[1]);

	/* Into the cgroup before it runs anything; then let it go. */
	int started = cg_enter(&cg, s.pid, e) == 0;
	if (!started)
		cr_err_wrap(e, "sandbox");
	else if (cr_write_all(s.go_wr, "g", 1) != 0) {
		cr_failp(e, "sandbox: start the child");
		started = 0;
	}
	if (!started) {
		kill_sandbox(&s);
		while (waitpid(s.pid, NULL, 0) < 0 && errno == EINTR) {
		}
		goto out_pipes;
	}
	close_fd(&s.go_wr);

	int init_status = supervise(&s, start, c->limits.timeout_ms);
	r->wall_ms = cr_mono_ms() - start;
	rc = read_reports(&s, init_status, e);

	if (cg_read_usage(&cg, &u, &ce) == 0) {
		r->oom_killed = u.oom_kills > 0;
		r->pids_limit_hit = u.pids_max_hit > 0;
		r->memory_peak = u.memory_peak;
	}
out_pipes:
	close_fd(&go[0]);
	close_fd(&go[1]);
	close_fd(&report[0]);
	close_fd(&report[1]);
	close_fd(&logp[0]);
	close_fd(&logp[1]);
	close_fd(&s.go_wr);
	close_fd(&s.report_rd);
	close_fd(&s.log_rd);
	close_fd(&s.pidfd);
	/* The promise: nothing the build started outlives it. */
	if (cg_destroy(&cg, &ce) && rc == 0)
		rc = cr_fail(e, "sandbox: %s", ce.msg);
out_plan:
	free(p);
	return rc;
}

int sandbox_exit_status(const struct sandbox_result *r)
{
	return r->exited ? r->exit_code : 128 + r->signal;
}

void sandbox_describe(const struct sandbox_result *r, const struct sandbox_limits *l, char *out, size_t cap)
{
	if (r->cancelled)
		snprintf(out, cap, "cancelled by the caller; everything it started was killed");
	else if (r->timed_out)
		snprintf(out, cap, "timed out after %llu ms (limit %llu ms); everything it started was killed",
			 (unsigned long long)r->wall_ms, (unsigned long long)l->timeout_ms);
	else if (r->oom_killed)
		snprintf(out, cap, "hit the memory limit of %llu bytes (the OOM killer ran); %s %d",
			 (unsigned long long)l->memory_bytes, r->exited ? "exited with status" : "killed by signal",
			 r->exited ? r->exit_code : r->signal);
	else {
		char pids[96] = "";
		if (r->pids_limit_hit)
			snprintf(pids, sizeof pids, " (the pids limit refused a fork: at most %llu processes)",
				 (unsigned long long)l->pids);
		if (r->exited)
			snprintf(out, cap, "exited with status %d%s", r->exit_code, pids);
		else
			snprintf(out, cap, "killed by signal %d (%s)%s", r->signal, strsignal(r->signal), pids);
	}
}
