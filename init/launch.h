/* Start the customer's command and reap children, as AWS's init does:
 * the child unblocks every signal, becomes a session leader, searches only
 * the default PATH for argv[0], and runs with exactly the /env environment
 * (or just that PATH when /env is empty). PID 1 keeps every signal blocked
 * and reaps all children — orphans included — until the command exits. */
#ifndef CLEANROOM_INIT_LAUNCH_H
#define CLEANROOM_INIT_LAUNCH_H

#include <sys/types.h>

#include "base/util.h"

#define LAUNCH_DEFAULT_PATH "/sbin:/usr/sbin:/bin:/usr/bin"

/* argv/envp may be NULL (AWS defaults: "sh", PATH only). */
pid_t launch_command(char **argv, char **envp, struct cr_err *e);
/* Reap until pid exits. Returns its wait status; *orphans counts the other
 * children reaped meanwhile. */
int reap_until(pid_t pid, unsigned *orphans);
/* "exited with status N" or "killed by signal N (NAME)". */
void wait_status_text(int status, char *buf, size_t n);

#endif
