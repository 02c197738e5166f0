#include "init/agent_session.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/thread.h"
#include "init/agent_recv.h"
#include "vsock/vsock.h"
#include "init/log.h"
#include "sandbox/sandbox.h"

#define MIB (1024ull * 1024)

/* Memory the builds can have: MemAvailable when the agent starts, so the
 * image's own files (the root file system lives in RAM, a toolchain is
 * hundreds of MiB) are not counted as free. */
static uint64_t mem_available_bytes(void)
{
	struct cr_err e;
	uint64_t kib;
	return cr_read_proc_u64("/proc/meminfo", "MemAvailable:", UINT64_MAX / 1024, &kib, &e) ? 0 : kib * 1024;
}

/* A timeout from the kernel command line (init's environment), or dflt. */
static int timeout_param(const char *name, unsigned dflt, unsigned *out, struct cr_err *e)
{
	const char *v = getenv(name);
	uint64_t n;
	*out = dflt;
	if (!v)
		return 0;
	if (cr_parse_u64(v, 86400, &n) || n == 0)
		return cr_fail(e, "%s='%s' on the kernel cmdline: expected seconds, 1 to 86400", name, v);
	*out = (unsigned)n;
	return 0;
}

/* A number from a /proc/sys file; 0 when it cannot be read. */
static uint64_t proc_u64(const char *path)
{
	struct cr_err e;
	uint64_t v;
	return cr_read_proc_u64(path, "", UINT32_MAX, &v, &e) ? 0 : v;
}

/* The most processes a build may have: below every limit of the kernel
 * that would refuse a fork before the build's own cgroup pids.max does —
 * otherwise a fork bomb fills the machine-wide table, every fork fails
 * (the agent's too) and the build is not even told it hit its limit:
 *   kernel.pid_max     pids of the whole machine, kernel threads included
 *                      (6.12 keeps one global pid_max; PID_MAX_DEFAULT is
 *                      32768 with up to 32 CPUs);
 *   kernel.threads-max tasks of the whole machine (sized from RAM at boot:
 *                      about 4000 in a 512 MiB enclave);
 *   RLIMIT_NPROC       tasks of one uid, inherited by the build from us
 *                      (threads-max / 2 at boot); the build's uid runs
 *                      nothing else, so it counts the build's tasks only
 *                      (the maximum stays one below it).
 * The two machine-wide limits keep AGENT_PIDS_RESERVE for the rest. */
static uint64_t pids_ceiling(char *why, size_t cap)
{
	static const struct {
		const char *path, *name;
	} global[] = {
		{ "/proc/sys/kernel/pid_max", "kernel.pid_max" },
		{ "/proc/sys/kernel/threads-max", "kernel.threads-max" },
	};
	uint64_t best = AGENT_MAX_PIDS;
	struct rlimit rl;
	snprintf(why, cap, "the agent's cap of %u", AGENT_MAX_PIDS);
	for (size_t i = 0; i < sizeof global / sizeof global[0]; i++) {
		uint64_t v = proc_u64(global[i].path);
		uint64_t left = v > AGENT_PIDS_RESERVE ? v - AGENT_PIDS_RESERVE : 0;
		if (v && left < best) {
			best = left;
			snprintf(why, cap, "%s %llu less %u kept for the kernel and the agent", global[i].name,
				 (unsigned long long)v, AGENT_PIDS_RESERVE);
		}
	}
	/* The kernel checks RLIMIT_NPROC before pids.max in fork; every task
	 * of the build's uid is in the build's cgroup, so a pids.max below
	 * the rlimit is reached first. */
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (rl.rlim_cur ? rl.rlim_cur - 1 : 0) < best) {
		best = rl.rlim_cur ? rl.rlim_cur - 1 : 0;
		snprintf(why, cap, "RLIMIT_NPROC %llu of the build's uid", (unsigned long long)rl.rlim_cur);
	}
	return best;
}

int agent_init(struct agent *a, struct cr_err *e)
{
	uint64_t mem = mem_available_bytes();
	uint64_t pids;
	memset(a, 0, sizeof *a);
	if (timeout_param("cleanroom_idle_timeout_s", AGENT_IDLE_TIMEOUT_S, &a->caps.idle_timeout_s, e) ||
	    timeout_param("cleanroom_transfer_timeout_s", AGENT_TRANSFER_TIMEOUT_S, &a->caps.transfer_timeout_s, e))
		return -1;
	if (mem < 64 * MIB)
		return cr_fail(e, "only %llu MiB of memory available", (unsigned long long)(mem / MIB));
	/* The workspace (sources, deps, objects, outputs) and the build's
	 * processes share the enclave's RAM; leave room for the kernel and us. */
	pids = pids_ceiling(a->caps.pids_why, sizeof a->caps.pids_why);
	if (pids < AGENT_MIN_PIDS_CAP)
		return cr_fail(e, "only %llu processes available to a build (%s); at least %d needed",
			       (unsigned long long)pids, a->caps.pids_why, AGENT_MIN_PIDS_CAP);
	a->caps.workspace_bytes = mem / 2;
	/* What the agent itself keeps of the entries' names: an eighth, so
	 * that with the tree's buffers at the end it stays under a quarter. */
	a->caps.meta_bytes = mem / 8;
	a->caps.max = (struct wire_limits){
		.timeout_s = WIRE_MAX_TIMEOUT_S,
		.memory_mb = (mem - 32 * MIB) / MIB,
		.pids = pids,
		.source_mb = a->caps.workspace_bytes / MIB,
		.files = 500000,
		.output_mb = a->caps.workspace_bytes / MIB,
		.log_bytes = WIRE_MAX_LOG_BYTES,
	};
	return 0;
}

/* ---------------------------------------------------------------- session */

struct session {
	struct agent *a;
	int sock;
	struct wire_reader rd; /* every frame from sock goes through it */
	struct cr_pool frames; /* its buffers for received frames */
	uint8_t rd_buf[RX_READ_AHEAD];
	struct wire_request req;
	int have_req;
	int ws_mounted;
	int src_fd, deps_fd;
	struct rx_budget budget;
	struct wire_accepted src, deps;
	struct build_facts facts;
	struct sandbox_limits limits;        /* of this build: made once the request is checked */
	enum wire_err_code code;             /* of a failure: the error message's */
	char exec_failure[WIRE_MAX_MESSAGE]; /* the command could not be started */
	struct cr_err err;
};

/* A failure whose message is already in s->err. */
static int fail(struct session *s, enum wire_err_code code)
{
	s->code = code;
	return -1;
}

/* A failure: its message into s->err, with ": strerror(errno)" when
 * with_errno. */
static int fail_msg(struct session *s, enum wire_err_code code, int with_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail_msg(struct session *s, enum wire_err_code code, int with_errno, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(&s->err, CR_E_FAIL, with_errno, fmt, ap);
	va_end(ap);
	return fail(s, code);
}

static enum wire_err_code fault_code(enum rx_fault f)
{
	switch (f) {
	case RX_REFUSED: return WIRE_ERR_REFUSED;
	case RX_LIMIT: return WIRE_ERR_LIMIT;
	case RX_PROTOCOL: return WIRE_ERR_PROTOCOL;
	default: return WIRE_ERR_INTERNAL;
	}
}

/* 0 asks for the maximum. */
static int check_limit(struct session *s, const char *name, uint64_t *asked_p, uint64_t max, uint64_t min,
		       const char *why)
{
	uint64_t asked = *asked_p ? *asked_p : (*asked_p = max);
	if (asked > max)
		return cr_fail(&s->err, "limits.%s %llu exceeds this enclave's maximum of %llu%s%s%s", name,
			       (unsigned long long)asked, (unsigned long long)max, why ? " (" : "", why ? why : "",
			       why ? ")" : "");
	if (asked < min)
		return cr_fail(&s->err, "limits.%s %llu is below the minimum of %llu", name, (unsigned long long)asked,
			       (unsigned long long)min);
	return 0;
}

static int read_request(struct session *s)
{
	struct wire_msg m;
	struct wire_limits *l;
	const struct wire_limits *max = &s->a->caps.max;
	int r = wire_read(&s->rd, &m, &s->err);
	if (r == 1)
		return fail_msg(s, WIRE_ERR_PROTOCOL, 0, "the client closed the connection before its request");
	if (r < 0)
		return fail(s, WIRE_ERR_PROTOCOL);
	if (m.type != WIRE_REQUEST) {
		cr_fail(&s->err, "expected a request message first, got %s", wire_type_name(m.type));
		wire_msg_free(&m);
		return fail(s, WIRE_ERR_PROTOCOL);
	}
	s->req = m.u.request;
	s->have_req = 1;
	/* The strings now belong to s->req; free only the frame. */
	wire_frame_release(m.frame, m.frame_pool);
	l = &s->req.limits;
	if (check_limit(s, "timeout_s", &l->timeout_s, max->timeout_s, WIRE_MIN_TIMEOUT_S, NULL) ||
	    check_limit(s, "memory_mb", &l->memory_mb, max->memory_mb, WIRE_MIN_MEMORY_MB, NULL) ||
	    check_limit(s, "pids", &l->pids, max->pids, WIRE_MIN_PIDS, s->a->caps.pids_why) ||
	    check_limit(s, "source_mb", &l->source_mb, max->source_mb, WIRE_MIN_SOURCE_MB, NULL) ||
	    check_limit(s, "files", &l->files, max->files, WIRE_MIN_FILES, NULL) ||
	    check_limit(s, "output_mb", &l->output_mb, max->output_mb, WIRE_MIN_OUTPUT_MB, NULL) ||
	    check_limit(s, "log_bytes", &l->log_bytes, max->log_bytes, WIRE_MIN_LOG_BYTES, NULL))
		return fail(s, WIRE_ERR_LIMIT);
	/* The sandbox's limits of this build: to run it, and to describe how
	 * it ended. */
	sandbox_limits_default(&s->limits);
	s->limits.timeout_ms = l->timeout_s * 1000;
	s->limits.memory_bytes = l->memory_mb * MIB;
	s->limits.pids = l->pids;
	s->limits.log_bytes = l->log_bytes;
	return 0;
}

static int make_workspace(struct session *s)
{
	char opts[64];
	snprintf(opts, sizeof opts, "mode=0755,size=%llu", (unsigned long long)s->a->caps.workspace_bytes);
	if (mount("workspace", AGENT_WORKSPACE, "tmpfs", MS_NODEV | MS_NOSUID, opts) < 0)
		return fail_msg(s, WIRE_ERR_INTERNAL, 1, "mount the workspace tmpfs");
	s->ws_mounted = 1;
	/* The build owns the workspace and src (the sandbox insists on it);
	 * deps are root's and read-only to it. What a build does to its own
	 * inputs changes nothing of what was measured on arrival. */
	if (chown(AGENT_WORKSPACE, AGENT_UID, AGENT_GID) < 0 || mkdir(AGENT_WORKSPACE "/src", 0755) < 0 ||
	    chown(AGENT_WORKSPACE "/src", AGENT_UID, AGENT_GID) < 0 || mkdir(AGENT_WORKSPACE "/deps", 0755) < 0)
		return fail_msg(s, WIRE_ERR_INTERNAL, 1, "prepare the workspace");
	s->src_fd = open(AGENT_WORKSPACE "/src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->deps_fd = open(AGENT_WORKSPACE "/deps", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->src_fd < 0 || s->deps_fd < 0)
		return fail_msg(s, WIRE_ERR_INTERNAL, 1, "open the workspace");
	s->budget.max_files = s->req.limits.files;
	s->budget.max_bytes = s->req.limits.source_mb * MIB;
	s->budget.max_meta = s->a->caps.meta_bytes;
	return 0;
}

/* Entries of one stream until its end message; then "accepted". */
static int receive_stream(struct session *s, enum wire_stream which, struct wire_accepted *acc)
{
	struct stream_rx rx;
	int rc = -1;
	if (which == WIRE_SRC)
		rx_init(&rx, which, s->src_fd, AGENT_UID, AGENT_GID, 1, &s->budget);
	else
		rx_init(&rx, which, s->deps_fd, 0, 0, 0, &s->budget);
	if (rx_stream(&rx, &s->rd, acc, &s->err))
		fail(s, fault_code(rx.fault));
	else
		rc = 0;
	rx_free(&rx);
	if (rc == 0) {
		struct wire_msg out;
		memset(&out, 0, sizeof out);
		out.type = WIRE_ACCEPTED;
		out.u.accepted = *acc;
		if (wire_send(s->sock, &out, &s->err))
			return fail(s, WIRE_ERR_PROTOCOL);
	}
	return rc;
}

/* ---------------------------------------------------------------- deadline */

/* A client that stalls is caught by the socket timeouts (idle); one that
 * trickles a byte now and then is not: each read returns in time. The
 * deadline of a phase is kept by a thread that, when it passes, shuts the
 * connection down (SHUT_RD while receiving, so the error can still be
 * sent; both ways while sending), which ends every blocked read or write. */
struct deadline {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct timespec until; /* CLOCK_MONOTONIC */
	int sock, how, done, running;
	int fired; /* read after the thread was joined */
};

static void *deadline_thread(void *arg)
{
	struct deadline *d = arg;
	pthread_mutex_lock(&d->mu);
	while (!d->done) {
		if (pthread_cond_timedwait(&d->cv, &d->mu, &d->until) == ETIMEDOUT && !d->done) {
			d->fired = 1;
			shutdown(d->sock, d->how);
			break;
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Start a deadline seconds from now; without a thread there is none (and
 * the idle timeout still holds). */
static void deadline_start(struct deadline *d, int sock, int how, unsigned seconds)
{
	pthread_condattr_t ca;
	memset(d, 0, sizeof *d);
	d->sock = sock;
	d->how = how;
	clock_gettime(CLOCK_MONOTONIC, &d->until);
	d->until.tv_sec += seconds;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	d->running = cr_thread_start(&d->th, deadline_thread, d) == 0;
	if (!d->running)
		init_log("agent: cannot start the deadline thread; only the idle timeout applies");
}

/* Stop it; returns whether it had fired. */
static int deadline_stop(struct deadline *d)
{
	if (d->running) {
		pthread_mutex_lock(&d->mu);
		d->done = 1;
		pthread_cond_signal(&d->cv);
		pthread_mutex_unlock(&d->mu);
		pthread_join(d->th, NULL);
	}
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	return d->fired;
}

/* ---------------------------------------------------------------- build */

static int64_t now_unix_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Forwards the sandbox's log to the client as it comes, and watches the
 * connection: a client that hangs up (or whose connection is reset) cannot
 * receive a result, so its build is cancelled instead of running on to its
 * timeout while the next client waits. */
struct log_pump {
	int rd, sock;
	int send_failed;
	volatile sig_atomic_t client_gone; /* the sandbox's cancel flag */
	pthread_t th;
	br_sha256_context hash; /* of the log as sent: a byproduct in the report */
	uint64_t bytes;
};

static void *pump(void *arg)
{
	struct log_pump *p = arg;
	uint8_t buf[WIRE_MAX_LOG_CHUNK];
	struct cr_err e;
	/* Only the end of the client's stream is watched (POLLRDHUP, and hang-up
	 * and error, always reported): bytes a client sends during the build are
	 * not read. A client must keep its connection open until the result
	 * (vsock/README.md); it cannot be told from a closed one anyway when a
	 * bridge (cleanroom run's) passes a close on as SHUTDOWN(SEND). */
	struct pollfd pf[2] = { { p->rd, POLLIN, 0 }, { p->sock, POLLRDHUP, 0 } };
	for (;;) {
		ssize_t n;
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			pf[1].fd = -1; /* cannot watch: just pump */
		}
		if (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			p->client_gone = 1;
			pf[1].fd = -1;
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && pf[1].fd >= 0)
			continue;
		n = read(p->rd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		br_sha256_update(&p->hash, buf, (size_t)n);
		p->bytes += (uint64_t)n;
		/* A client that stopped reading loses its log, not the build; one
		 * that is gone loses the build. */
		if (!p->send_failed && wire_send_data(p->sock, WIRE_LOG, buf, (size_t)n, &e)) {
			p->send_failed = 1;
			if (e.sys_errno == EPIPE || e.sys_errno == ECONNRESET || e.sys_errno == ENOTCONN) {
				p->client_gone = 1;
				pf[1].fd = -1;
			}
		}
	}
	return NULL;
}

static int run_build(struct session *s, struct sandbox_result *r)
{
	struct sandbox_config c;
	struct log_pump p;
	int pipefd[2], rc;
	memset(&c, 0, sizeof c);
	c.rootfs = AGENT_ROOTFS;
	c.workspace = AGENT_WORKSPACE;
	c.cwd = "src";
	c.argv = s->req.argv;
	c.uid = AGENT_UID;
	c.gid = AGENT_GID;
	c.source_date_epoch = s->req.sde;
	c.limits = s->limits;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return fail_msg(s, WIRE_ERR_INTERNAL, 1, "pipe");
	c.log_fd = pipefd[1];
	p = (struct log_pump){ pipefd[0], s->sock, 0, 0, 0, { 0 }, 0 };
	c.cancel = &p.client_gone;
	br_sha256_init(&p.hash);
	if (cr_thread_start(&p.th, pump, &p)) {
		close(pipefd[0]);
		close(pipefd[1]);
		return fail_msg(s, WIRE_ERR_INTERNAL, 0, "cannot start the log thread");
	}
	memset(r, 0, sizeof *r);
	s->facts.started_ms = now_unix_ms();
	rc = sandbox_run(&c, r, &s->err);
	s->facts.finished_ms = now_unix_ms();
	close(pipefd[1]);
	/* The log thread ends at the end of the pipe, unless it is stuck
	 * sending to a client that reads slowly: that one gets the transfer
	 * deadline, as it would for the outputs. */
	{
		struct deadline d;
		deadline_start(&d, s->sock, SHUT_RDWR, s->a->caps.transfer_timeout_s);
		pthread_join(p.th, NULL);
		if (deadline_stop(&d))
			p.send_failed = 1;
	}
	close(pipefd[0]);
	br_sha256_out(&p.hash, s->facts.log_sha256);
	s->facts.log_bytes = p.bytes;
	/* The sandbox cut the log at the limit: the client and the report say
	 * how much was kept (hashed above) and how much was dropped. */
	s->facts.log_dropped = r->log_truncated && r->log_bytes > p.bytes ? r->log_bytes - p.bytes : 0;
	if (rc && r->exec_errno) {
		/* The command does not exist in the image: a failed build, with
		 * the shell's status for it. */
		r->exited = 1;
		r->exit_code = r->exec_errno == ENOENT ? 127 : 126;
		snprintf(s->exec_failure, sizeof s->exec_failure, "%s", s->err.msg);
		return 0;
	}
	if (rc)
		return fail(s, WIRE_ERR_INTERNAL);
	if (r->cancelled)
		return fail_msg(s, WIRE_ERR_PROTOCOL, 0,
				"the client hung up during the build; it was cancelled after %llu ms",
				(unsigned long long)r->wall_ms);
	if (p.send_failed) {
		/* A send failed (or timed out) part way through a log frame:
		 * CR_E_SEND, so no error message follows the half frame. */
		cr_fail_code(&s->err, CR_E_SEND, "the client stopped reading the build log");
		return fail(s, WIRE_ERR_PROTOCOL);
	}
	return 0;
}

/* What a declared output is, judged without following a symlink and
 * without opening it for reading: an O_PATH descriptor has no side effect
 * on any kind of file (opening a FIFO for reading blocks until a writer
 * comes; a device's open runs its driver). NULL when it is a regular file;
 * else the reason, for "output 'P' <reason>". */
static const char *output_problem(int src_fd, const char *path, char *buf, size_t cap)
{
	struct stat st;
	int fd = open_beneath(src_fd, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0) {
		int err = errno;
		switch (err) {
		case ENOENT: return "was not produced";
		case ENOTDIR: return "was not produced (a component of its path is not a directory)";
		case ELOOP: return "is reached through a symlink (outputs are read without following symlinks)";
		case EXDEV: return "resolves outside the workspace";
		default: snprintf(buf, cap, "cannot be opened: %s", strerror(err)); return buf;
		}
	}
	if (fstat(fd, &st) < 0) {
		snprintf(buf, cap, "cannot be examined: %s", strerror(errno));
		close(fd);
		return buf;
	}
	close(fd);
	switch (st.st_mode & S_IFMT) {
	case S_IFREG: return NULL;
	case S_IFIFO: return "is a FIFO, not a regular file";
	case S_IFSOCK: return "is a socket, not a regular file";
	case S_IFLNK: return "is a symlink, not a regular file (symlinks are not followed)";
	case S_IFDIR: return "is a directory, not a regular file";
	case S_IFCHR: return "is a character device, not a regular file";
	case S_IFBLK: return "is a block device, not a regular file";
	default: return "is not a regular file";
	}
}

/* Check every declared output before any is sent. 0 when all are regular
 * files; else 1 with the reasons in detail ("output 'o' is a FIFO, not a
 * regular file; ...") and *absent set when every problem is an output that
 * was not produced at all. */
static int check_outputs(struct session *s, char *detail, size_t cap, int *absent)
{
	size_t used = 0;
	int bad = 0;
	*absent = 1;
	detail[0] = 0;
	for (size_t i = 0; i < s->req.noutputs; i++) {
		char buf[160];
		const char *why = output_problem(s->src_fd, s->req.outputs[i], buf, sizeof buf);
		if (!why)
			continue;
		if (strncmp(why, "was not produced", 16))
			*absent = 0;
		if (used < cap) {
			int n = snprintf(detail + used, cap - used, "%soutput '%s' %s", bad ? "; " : "",
					 s->req.outputs[i], why);
			used = n < 0 ? cap : used + (size_t)n;
		}
		bad++;
	}
	return bad != 0;
}

/* One declared output (checked by check_outputs) back to the client. It is
 * opened again for reading, non-blocking and without following a symlink,
 * and must still be a regular file: nothing the build started is alive any
 * more, so it cannot have changed, but a read never waits on a build's
 * object whatever happens. */
static int send_output(struct session *s, const char *path, uint64_t *budget)
{
	struct build_artifact *art = &s->facts.art[s->facts.nart];
	br_sha256_context h256;
	br_sha384_context h384;
	struct wire_msg m;
	struct stat st;
	uint8_t *buf;
	uint64_t left;
	int fd = open_beneath(s->src_fd, path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return fail_msg(s, WIRE_ERR_INTERNAL, 0,
				"output '%s' changed after the build ended (no longer a regular file)", path);
	}
	if ((uint64_t)st.st_size > *budget) {
		close(fd);
		return fail_msg(s, WIRE_ERR_LIMIT, 0,
				"output '%s': %lld bytes exceeds the remaining output limit of %llu bytes", path,
				(long long)st.st_size, (unsigned long long)*budget);
	}
	*budget -= (uint64_t)st.st_size;
	memset(&m, 0, sizeof m);
	m.type = WIRE_ARTIFACT;
	snprintf(m.u.artifact.path, sizeof m.u.artifact.path, "%s", path);
	m.u.artifact.size = (uint64_t)st.st_size;
	m.u.artifact.exec = (st.st_mode & 0111) != 0;
	buf = malloc(WIRE_MAX_CHUNK);
	if (!buf) {
		close(fd);
		return fail_msg(s, WIRE_ERR_INTERNAL, 0, "out of memory");
	}
	if (wire_send(s->sock, &m, &s->err)) {
		free(buf);
		close(fd);
		return fail(s, WIRE_ERR_PROTOCOL);
	}
	br_sha256_init(&h256);
	br_sha384_init(&h384);
	for (left = (uint64_t)st.st_size; left;) {
		size_t n = left > WIRE_MAX_CHUNK ? WIRE_MAX_CHUNK : (size_t)left;
		if (cr_read_full(fd, buf, n) != (long)n) {
			free(buf);
			close(fd);
			return fail_msg(s, WIRE_ERR_INTERNAL, 0, "output '%s' changed while it was being sent", path);
		}
		br_sha256_update(&h256, buf, n);
		br_sha384_update(&h384, buf, n);
		if (wire_send_data(s->sock, WIRE_DATA, buf, n, &s->err)) {
			free(buf);
			close(fd);
			return fail(s, WIRE_ERR_PROTOCOL);
		}
		left -= n;
	}
	free(buf);
	close(fd);
	/* The digests of exactly the bytes sent: the report's subjects. */
	snprintf(art->path, sizeof art->path, "%s", path);
	art->size = (uint64_t)st.st_size;
	br_sha256_out(&h256, art->sha256);
	br_sha384_out(&h384, art->sha384);
	s->facts.nart++;
	return 0;
}

static int finish(struct session *s, const struct sandbox_result *r)
{
	struct wire_msg m;
	struct wire_result *res = &m.u.result;
	uint64_t budget = s->req.limits.output_mb * MIB;
	struct cr_buf bundle;
	memset(&m, 0, sizeof m);
	m.type = WIRE_RESULT;
	res->wall_ms = r->wall_ms;
	res->log_dropped = s->facts.log_dropped;
	res->has_exit_code = r->exited;
	res->exit_code = r->exited ? (uint64_t)r->exit_code : 0;
	res->has_signal = !r->exited && r->signal;
	res->signal = (uint64_t)r->signal;
	sandbox_describe(r, &s->limits, res->detail, sizeof res->detail);
	if (s->exec_failure[0])
		snprintf(res->detail, sizeof res->detail, "%s", s->exec_failure);
	if (r->timed_out)
		res->status = WIRE_ST_TIMEOUT;
	else if (r->oom_killed || r->pids_limit_hit)
		res->status = WIRE_ST_LIMIT;
	else if (!r->exited || r->exit_code != 0)
		res->status = WIRE_ST_FAILED;
	else {
		/* Every output is judged before any is sent: one that is not a
		 * regular file fails the build, and no artifact goes out. */
		int absent;
		if (check_outputs(s, res->detail, sizeof res->detail, &absent))
			res->status = absent ? WIRE_ST_MISSING_OUTPUT : WIRE_ST_BAD_OUTPUT;
		else {
			for (size_t i = 0; i < s->req.noutputs; i++)
				if (send_output(s, s->req.outputs[i], &budget))
					return -1;
			res->status = WIRE_ST_OK;
		}
	}
	cr_buf_init(&bundle, WIRE_MAX_BUNDLE);
	if (res->status == WIRE_ST_OK) {
		struct cr_err why;
		s->facts.req = &s->req;
		s->facts.src = &s->src;
		s->facts.deps = &s->deps;
		s->facts.exit_code = res->exit_code;
		if (agent_report(&s->facts, &bundle, &why) == 0) {
			res->bundle = bundle.p;
			res->bundle_len = bundle.len;
		} else {
			/* Built, but unprovable: say so; the client will not accept it. */
			init_log("agent: build %u: no report: %s", s->a->builds, why.msg);
			snprintf(res->detail, sizeof res->detail, "built, but the signed report could not be made: %s",
				 why.msg);
		}
	}
	if (wire_send(s->sock, &m, &s->err)) {
		cr_buf_free(&bundle);
		return fail(s, WIRE_ERR_PROTOCOL);
	}
	cr_buf_free(&bundle);
	init_log("agent: build %u: %s (%s), %llu ms", s->a->builds, wire_status_name(res->status), res->detail,
		 (unsigned long long)r->wall_ms);
	return 0;
}

static void cleanup(struct session *s)
{
	if (s->src_fd >= 0)
		close(s->src_fd);
	if (s->deps_fd >= 0)
		close(s->deps_fd);
	/* The sandbox left no process behind (it checks), so the workspace
	 * unmounts; MNT_DETACH anyway, so a stuck reference cannot block the
	 * next build, which gets a fresh tmpfs. */
	if (s->ws_mounted && umount2(AGENT_WORKSPACE, MNT_DETACH) < 0)
		init_log("agent: unmount the workspace: %s", strerror(errno));
	if (s->have_req) {
		for (size_t i = 0; i < s->req.argc; i++)
			free(s->req.argv[i]);
		for (size_t i = 0; i < s->req.noutputs; i++)
			free(s->req.outputs[i]);
	}
	cr_pool_destroy(&s->frames);
}

/* The connection's vsock receive window: what the client may send ahead
 * of what the agent has read. vsock's default, 256 KiB, is one DATA message
 * of the host tool's: the client would wait for each to be read before
 * sending the next. So the sources come through a larger window, set on
 * this connection only (not on the listener: connections waiting in its
 * backlog keep the default) and only while they arrive. Its cost is the
 * enclave kernel memory a client can fill: credit counts payload bytes,
 * and a packet of a few hundred bytes holds a 4 KiB buffer. */
static void set_window(int sock, uint64_t bytes)
{
	struct cr_err e;
	if (vsock_set_buffer(sock, bytes, &e))
		init_log("agent: %s (the window stays as it was: only the speed differs)", e.msg);
}

void agent_serve(struct agent *a, int sock)
{
	struct session s;
	struct sandbox_result r;
	struct deadline d;
	struct timeval tv = { (time_t)a->caps.idle_timeout_s, 0 };
	unsigned limit = a->caps.transfer_timeout_s;
	int ok, reply = 1; /* reply: an error message can still reach the client */
	memset(&s, 0, sizeof s);
	s.a = a;
	s.sock = sock;
	s.src_fd = s.deps_fd = -1;
	cr_pool_init(&s.frames, RX_FRAME_SIZE, RX_FRAME_POOL);
	wire_reader_init(&s.rd, sock, &s.frames, s.rd_buf, sizeof s.rd_buf);
	a->builds++;
	/* A client that stalls or trickles gets dropped, never the agent. */
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	deadline_start(&d, sock, SHUT_RD, limit);
	ok = read_request(&s) == 0 && make_workspace(&s) == 0;
	/* The larger window only for an accepted request's streams: a request
	 * refused (a limit) while the client keeps sending closes with no
	 * more of its data queued than before. Then the client sends nothing
	 * more: while the build runs, vsock's default again. */
	if (ok) {
		set_window(sock, AGENT_VSOCK_BUFFER);
		ok = receive_stream(&s, WIRE_SRC, &s.src) == 0 && receive_stream(&s, WIRE_DEPS, &s.deps) == 0;
		set_window(sock, VSOCK_DEFAULT_BUFFER);
	}
	if (deadline_stop(&d) && !ok)
		fail_msg(&s, WIRE_ERR_LIMIT, 0,
			 "the request and sources took longer than %u s to arrive (cleanroom_transfer_timeout_s)",
			 limit);
	else if (!ok && s.err.code == CR_E_TIMEOUT)
		fail_msg(&s, WIRE_ERR_LIMIT, 0, "the client sent nothing for %u s (cleanroom_idle_timeout_s)",
			 a->caps.idle_timeout_s);
	if (ok && run_build(&s, &r) == 0) {
		int stalled;
		deadline_start(&d, sock, SHUT_RDWR, limit);
		ok = finish(&s, &r) == 0;
		/* SO_SNDTIMEO */
		stalled =
			!ok && s.err.code == CR_E_SEND && (s.err.sys_errno == EAGAIN || s.err.sys_errno == EWOULDBLOCK);
		/* Neither client would read an error message either: a stalled
		 * one would hold the agent for another idle timeout. */
		if (deadline_stop(&d) && !ok) {
			fail_msg(&s, WIRE_ERR_LIMIT, 0,
				 "the client took longer than %u s to take the outputs (cleanroom_transfer_timeout_s)",
				 limit);
			reply = 0;
		} else if (stalled) {
			fail_msg(&s, WIRE_ERR_LIMIT, 0,
				 "the client took nothing for %u s of the outputs (cleanroom_idle_timeout_s)",
				 a->caps.idle_timeout_s);
			reply = 0;
		}
		if (ok) {
			cleanup(&s);
			return;
		}
	}
	init_log("agent: build %u: %s: %s", a->builds, wire_err_code_name(s.code), s.err.msg);
	/* No error message on a connection that failed a send. */
	if (reply && !(s.code == WIRE_ERR_PROTOCOL && s.err.code == CR_E_SEND)) {
		struct cr_err ignored;
		wire_send_error(sock, s.code, s.err.msg, &ignored);
	}
	cleanup(&s);
}
