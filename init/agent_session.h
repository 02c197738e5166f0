/* One build, from request to result (build-agent mode). */
#ifndef CLEANROOM_AGENT_SESSION_H
#define CLEANROOM_AGENT_SESSION_H

#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"
#include "vsock/wire.h"

#define AGENT_ROOTFS "/rootfs"   /* the toolchain, read-only in the sandbox */
#define AGENT_WORKSPACE "/build" /* a fresh tmpfs per build */
#define AGENT_UID 1000           /* the build's unprivileged identity */
#define AGENT_GID 1000
/* How long the agent waits on a client, in seconds. Each can be set on the
 * kernel command line (measured in PCR0, like the rest of it), which the
 * kernel hands to init's environment: cleanroom_idle_timeout_s=N,
 * cleanroom_transfer_timeout_s=N (1..86400). */
#define AGENT_IDLE_TIMEOUT_S 120      /* a client silent this long is dropped */
#define AGENT_TRANSFER_TIMEOUT_S 3600 /* request + sources + deps; outputs: each at most this long */
/* The vsock receive window while sources arrive: what a client may send
 * ahead of the agent (agent_session.c, set_window). */
#define AGENT_VSOCK_BUFFER (1u << 20)

/* Processes of a build (limits.pids): the maximum is derived at start from
 * the kernel's machine-wide limits (kernel.pid_max, kernel.threads-max)
 * less AGENT_PIDS_RESERVE, and the build's RLIMIT_NPROC, capped at
 * AGENT_MAX_PIDS; a request with pids 0 (cleanroom build's default) gets it.
 * The reserve keeps the kernel's first 300 pids (never handed out again
 * once pids wrap), its threads (tens, a few per CPU) and the agent's
 * threads clear of a build that uses all of its limit, with room to spare. */
#define AGENT_MAX_PIDS 65536
#define AGENT_PIDS_RESERVE 1024
#define AGENT_MIN_PIDS_CAP 64 /* fewer left for builds: the agent refuses to start */

/* The agent's own maxima: a request asking for more is refused. */
struct agent_caps {
	struct wire_limits max;
	char pids_why[128];          /* which kernel limit set max.pids */
	uint64_t workspace_bytes;    /* size of the workspace tmpfs */
	uint64_t meta_bytes;         /* the agent's memory for entries' names (rx_budget) */
	unsigned idle_timeout_s;     /* no byte from the client for this long: dropped */
	unsigned transfer_timeout_s; /* a client that trickles: dropped after this long */
};

struct agent {
	struct agent_caps caps;
	unsigned builds;
};

/* What the signed report says about one successful build (init/agent_report.c). */
struct build_artifact {
	char path[WIRE_MAX_PATH + 1];
	uint64_t size;
	uint8_t sha256[CR_SHA256_LEN], sha384[CR_SHA384_LEN];
};

struct build_facts {
	const struct wire_request *req;   /* command, outputs, SOURCE_DATE_EPOCH, nonce, limits (resolved) */
	const struct wire_accepted *src;  /* source tree ids */
	const struct wire_accepted *deps; /* deps tree ids */
	struct build_artifact art[WIRE_MAX_OUTPUTS];
	size_t nart;                       /* in the order of req->outputs */
	uint8_t log_sha256[CR_SHA256_LEN]; /* the build log as the client received it */
	uint64_t log_bytes;
	uint64_t log_dropped;            /* bytes past limits.log_bytes, not sent */
	int64_t started_ms, finished_ms; /* Unix time of the sandbox run */
	uint64_t exit_code;
};

/* Make the signed report (a bundle: DSSE envelope + NSM attestation) for a
 * successful build into bundle. -1 with e when it cannot be made: the build
 * is then reported without one and the client refuses it. */
int agent_report(const struct build_facts *f, struct cr_buf *bundle, struct cr_err *e);

/* Read the machine's size and the timeouts of the kernel command line, and
 * set the caps; -1 with e for a malformed timeout. */
int agent_init(struct agent *a, struct cr_err *e);
/* Serve one connection; never fails the agent. */
void agent_serve(struct agent *a, int sock);

#endif
