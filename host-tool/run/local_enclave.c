#include "host-tool/run/local_enclave.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/json.h"
#include "base/term.h"

/* The console file has no size limit (the guest writes it): only its
 * last LOCAL_CONSOLE_TAIL bytes are read, so a long console cannot hide
 * its last lines. */
#define LOCAL_CONSOLE_TAIL (64u << 10)

void local_enclave_console_tail(const struct local_enclave *l, char *out, size_t cap, int lines)
{
	uint8_t *data;
	size_t len = 0, start, kept;
	struct stat st;
	off_t off;
	int fd;
	out[0] = 0;
	if (!l->console[0] || (fd = open(l->console, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return;
	if (!(data = malloc(LOCAL_CONSOLE_TAIL))) {
		close(fd);
		return;
	}
	off = fstat(fd, &st) == 0 && st.st_size > (off_t)LOCAL_CONSOLE_TAIL ? st.st_size - (off_t)LOCAL_CONSOLE_TAIL
									    : 0;
	while (len < LOCAL_CONSOLE_TAIL) {
		ssize_t r = pread(fd, data + len, LOCAL_CONSOLE_TAIL - len, off + (off_t)len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	start = len;
	while (start > 0 && data[start - 1] == '\n')
		start--;
	for (int n = 0; start > 0; start--)
		if (data[start - 1] == '\n' && ++n == lines)
			break;
	/* the guest's words: escaped (term.h), its \r\n line ends as \n */
	kept = cr_term_str((const char *)data + start, len - start, CR_TERM_MULTILINE | CR_TERM_CRLF, out, cap);
	while (kept > 0 && out[kept - 1] == '\n')
		out[--kept] = 0;
	free(data);
}

/* Add the console's last line to e, stop the run, return -1. */
static int give_up(struct local_enclave *l, struct cr_err *e)
{
	char tail[256];
	local_enclave_console_tail(l, tail, sizeof tail, 1);
	if (tail[0]) {
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, " (console: ");
		n = strlen(e->msg);
		/* the guest's words: one line, escaped (term.h) */
		n += cr_term_str(tail, strlen(tail), 0, e->msg + n, sizeof e->msg - n);
		snprintf(e->msg + n, sizeof e->msg - n, ")");
	}
	local_enclave_stop(l);
	return -1;
}

/* One JSON line from run: "ready" fills vsock, nsm_root and the PCRs; "exit" is a failure. */
static int handle_line(struct local_enclave *l, const char *line, int *ready, struct cr_err *e)
{
	struct json_doc d;
	const char *ev;
	if (json_parse(line, strlen(line), NULL, &d, e))
		return cr_err_wrap(e, "cleanroom run printed an unexpected line");
	ev = json_get_str(d.root, "event");
	if (ev && !strcmp(ev, "ready") && json_get_str(d.root, "vsock")) {
		const char *root = json_get_str(d.root, "nsm_root");
		snprintf(l->vsock, sizeof l->vsock, "%s", json_get_str(d.root, "vsock"));
		snprintf(l->nsm_root, sizeof l->nsm_root, "%s", root ? root : "");
		l->have_pcrs = 1;
		for (int i = 0; i < 3; i++) {
			static const char *const keys[3] = { "pcr0", "pcr1", "pcr2" };
			const char *hex = json_get_str(d.root, keys[i]);
			if (!hex || strlen(hex) != 2 * CR_PCR_LEN || cr_unhex(hex, l->pcr[i], CR_PCR_LEN))
				l->have_pcrs = 0;
		}
		*ready = 1;
	} else if (ev && !strcmp(ev, "exit")) {
		const char *msg = json_get_str(d.root, "message");
		cr_fail(e, "the enclave ended before it was ready: %s", msg ? msg : "(no message)");
		json_free(&d);
		return -1;
	}
	json_free(&d);
	return 0;
}

int local_enclave_start(struct local_enclave *l, const char *eif, const char *machine, unsigned memory_mib,
			const char *nsm_ca, int boot_timeout_s, struct cr_err *e)
{
	char self[4096], mem[16], line[8192];
	size_t used = 0;
	int pipefd[2], ready = 0;
	long long deadline = (long long)cr_mono_ms() + (long long)boot_timeout_s * 1000;
	ssize_t n;

	memset(l, 0, sizeof *l);
	l->pid = -1;
	l->out_fd = -1;
	snprintf(l->dir, sizeof l->dir, "/tmp/cleanroom-build.XXXXXX");
	if (!mkdtemp(l->dir))
		return cr_failp(e, "mkdtemp");
	snprintf(l->console, sizeof l->console, "%s/console.log", l->dir);
	snprintf(l->runlog, sizeof l->runlog, "%s/run.log", l->dir);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0) {
		local_enclave_stop(l);
		return cr_failp(e, "/proc/self/exe");
	}
	self[n] = 0;
	snprintf(mem, sizeof mem, "%u", memory_mib);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		local_enclave_stop(l);
		return cr_failp(e, "pipe");
	}
	l->pid = fork();
	if (l->pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		local_enclave_stop(l);
		return cr_failp(e, "fork");
	}
	if (l->pid == 0) {
		char *argv[14];
		int k = 0;
		int log = open(l->runlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		dup2(pipefd[1], STDOUT_FILENO);
		/* run's own messages go to a file: shown when something fails. */
		if (log >= 0)
			dup2(log, STDERR_FILENO);
		argv[k++] = self;
		argv[k++] = "run";
		argv[k++] = (char *)eif;
		argv[k++] = "--json";
		argv[k++] = "--console";
		argv[k++] = l->console;
		if (machine) {
			argv[k++] = "--machine";
			argv[k++] = (char *)machine;
		}
		if (memory_mib) {
			argv[k++] = "--memory";
			argv[k++] = mem;
		}
		if (nsm_ca) {
			argv[k++] = "--nsm-ca";
			argv[k++] = (char *)nsm_ca;
		}
		argv[k] = NULL;
		execv(self, argv);
		_exit(127);
	}
	close(pipefd[1]);
	l->out_fd = pipefd[0];
	while (!ready) {
		struct pollfd p = { l->out_fd, POLLIN, 0 };
		long long left = deadline - (long long)cr_mono_ms();
		int r;
		if (left <= 0) {
			cr_fail(e, "the enclave was not ready within %d s", boot_timeout_s);
			return give_up(l, e);
		}
		r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		n = read(l->out_fd, line + used, sizeof line - 1 - used);
		if (n <= 0) {
			int status = 0;
			waitpid(l->pid, &status, 0);
			l->pid = -1;
			cr_fail(e, "cleanroom run ended (status %d) before the enclave was ready", WEXITSTATUS(status));
			return give_up(l, e);
		}
		used += (size_t)n;
		line[used] = 0;
		for (char *nl; (nl = strchr(line, '\n'));) {
			*nl = 0;
			if (handle_line(l, line, &ready, e))
				return give_up(l, e);
			memmove(line, nl + 1, used - (size_t)(nl + 1 - line) + 1);
			used -= (size_t)(nl + 1 - line);
		}
		if (used == sizeof line - 1) {
			cr_fail(e, "cleanroom run printed a line longer than %zu bytes", sizeof line);
			return give_up(l, e);
		}
	}
	return 0;
}

void local_enclave_stop(struct local_enclave *l)
{
	if (l->pid > 0) {
		int status;
		kill(l->pid, SIGTERM);
		waitpid(l->pid, &status, 0);
		l->pid = -1;
	}
	if (l->out_fd >= 0) {
		close(l->out_fd);
		l->out_fd = -1;
	}
	if (l->dir[0]) {
		unlink(l->console);
		unlink(l->runlog);
		rmdir(l->dir);
		l->dir[0] = 0;
	}
}
