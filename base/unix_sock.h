/* Unix stream sockets by path: the listeners and connections of the vsock
 * bridge, the heartbeat listener of `cleanroom run` and the host side of
 * the CONNECT handshake. All sockets are close-on-exec. */
#ifndef CLEANROOM_UNIX_SOCK_H
#define CLEANROOM_UNIX_SOCK_H

#include <sys/un.h>

#include "base/util.h"

/* Fill sa for path; -1 (with e) if the path does not fit sun_path. */
int unix_sock_addr(struct sockaddr_un *sa, const char *path, struct cr_err *e);
/* A non-blocking listening socket at path (which must not exist) that only
 * its owner may connect to (mode 0700). Returns the fd or -1. */
int unix_sock_listen(const char *path, int backlog, struct cr_err *e);
/* A socket connected to path (non-blocking when nonblock is set; a full
 * listen backlog then fails with EAGAIN). Returns the fd or -1. */
int unix_sock_connect(const char *path, int nonblock, struct cr_err *e);

/* Remove path if it is a socket nobody listens on any more (left behind by
 * a process that was killed); anything else is left alone. */
void unix_sock_remove_stale(const char *path);

#endif
