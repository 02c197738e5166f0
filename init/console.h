/* The console of PID 1: the command's stdin, stdout and stderr, PID 1's own
 * descriptor for its lines, and how it is let go at the end.
 *
 * Nothing here may block PID 1 for good: the command can stop the console's
 * output (tcflow TCOOFF, or a ^S on its input with IXON) and exit, leaving
 * a blocking write or tcdrain waiting forever, and the VM would never end. */
#ifndef CLEANROOM_INIT_CONSOLE_H
#define CLEANROOM_INIT_CONSOLE_H

#include <stddef.h>

#include "base/util.h"

/* How long one of PID 1's lines may wait for room on the console, and how
 * long the end waits for the console to empty. */
#define CONSOLE_WRITE_WAIT_MS 1000
#define CONSOLE_DRAIN_MS 2000

/* Open path (/dev/console) as AWS's init freopen()s it: fd 0 O_RDONLY, fds
 * 1 and 2 O_WRONLY, three open file descriptions (so O_NONBLOCK set by the
 * command on one does not reach the others), none close-on-exec, whatever
 * fds 0-2 were before. A fourth, O_NONBLOCK and close-on-exec, is PID 1's
 * own for its lines (console_write). O_NOCTTY throughout. */
int console_attach(const char *path, struct cr_err *e);
/* Write one line to PID 1's console descriptor (fd 2 before
 * console_attach): waits at most CONSOLE_WRITE_WAIT_MS for room, and not at
 * all once a line has timed out (until console_resume). */
void console_write(const char *p, size_t n);
/* Restart output the command may have stopped: IXON cleared (which undoes a
 * ^S and ignores further ones) and tcflow(TCOON) (which undoes a TCOOFF).
 * Only on the console of console_attach; nothing before it. */
void console_resume(void);
/* Wait until the console has sent everything (TIOCOUTQ 0, then the UART's
 * transmitter empty), at most ms. 0 when it has, -1 on the deadline. */
int console_drain(unsigned ms);

#endif
