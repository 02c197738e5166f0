/* One build, from request to result (build-agent mode). */
#ifndef CLEANROOM_AGENT_SESSION_H
#define CLEANROOM_AGENT_SESSION_H

#include <stdint.h>

#include "util.h"
#include "wire.h"

#define AGENT_ROOTFS "/rootfs"          /* the toolchain, read-only in the sandbox */
#define AGENT_WORKSPACE "/build"        /* a fresh tmpfs per build */
#define AGENT_UID 1000                  /* the build's unprivileged identity */
#define AGENT_GID 1000
#define AGENT_IDLE_TIMEOUT_S 120        /* a client silent this long is dropped */

/* The agent's own maxima: a request asking for more is refused. */
struct agent_caps {
	struct wire_limits max;
	uint64_t workspace_bytes; /* size of the workspace tmpfs */
};

struct agent {
	struct agent_caps caps;
	unsigned builds;
};

/* Read the machine's size and set the caps. */
int agent_init(struct agent *a, struct cr_err *e);
/* Serve one connection; never fails the agent. */
void agent_serve(struct agent *a, int sock);

#endif
