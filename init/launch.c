#include "init/launch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "init/log.h"

pid_t launch_command(char **argv, char **envp, struct cr_err *e)
{
	static char *default_argv[] = { "sh", NULL };
	static char *default_envp[] = { "PATH=" LAUNCH_DEFAULT_PATH, NULL };
	sigset_t all;
	pid_t pid;
	int err;
	if (!argv)
		argv = default_argv;
	if (!envp)
		envp = default_envp;
	pid = fork();
	if (pid < 0)
		return cr_failp(e, "fork");
	if (pid > 0)
		return pid;
	/* Child. */
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	setsid();
	/* execvpe searches the PATH of *this* process's environment: make it the
	 * default one, whatever /env says (AWS semantics). */
	setenv("PATH", LAUNCH_DEFAULT_PATH, 1);
	execvpe(argv[0], argv, envp);
	err = errno;
	init_log("launch: %s: %s", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

int reap_until(pid_t pid, unsigned *orphans)
{
	int status = 0;
	*orphans = 0;
	for (;;) {
		pid_t r = waitpid(-1, &status, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1; /* ECHILD: nothing left (cannot happen before pid) */
		}
		if (r == pid)
			return status;
		(*orphans)++;
	}
}

void wait_status_text(int status, char *buf, size_t n)
{
	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, n, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, n, "ended with wait status 0x%x", status);
}
