/* Build-agent mode of PID 1: serve builds over vsock, one at a time.
 *
 * For each connection (vsock/README.md): read the request, receive the
 * sources and deps into a fresh tmpfs workspace (agent_recv.c), run the
 * command in the sandbox (sandbox/sandbox.h) while its log streams back, send
 * the declared outputs and a result. Whatever happens to one build — a bad
 * request, a refused path, a client that vanishes — is answered with an
 * error message when possible, cleaned up, and the agent is ready for the
 * next. Only a failure of the agent's own setup ends the VM. */
#include "init/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init/agent_recv.h"
#include "init/agent_session.h"
#include "init/log.h"
#include "init/mount_table.h"
#include "sandbox/sandbox.h"
#include "vsock/vsock.h"
#include "vsock/wire.h"

#define FLAGS_NNN (MS_NODEV | MS_NOSUID | MS_NOEXEC)

/* The agent stays in the initramfs root: the toolchain is /rootfs (the
 * image's customer ramdisk), mounted read-only into each sandbox. */
static const struct mount_step agent_mounts[] = {
	{ OP_MKDIR, NULL, "/proc", NULL, 0, NULL, 0555 },
	{ OP_MOUNT, "proc", "/proc", "proc", FLAGS_NNN, NULL, 0 },
	{ OP_MKDIR, NULL, "/sys", NULL, 0, NULL, 0555 },
	{ OP_MOUNT, "sysfs", "/sys", "sysfs", FLAGS_NNN, NULL, 0 },
	{ OP_MOUNT, "cgroup2", "/sys/fs/cgroup", "cgroup2", FLAGS_NNN, NULL, 0 },
	{ OP_MKDIR, NULL, "/tmp", NULL, 0, NULL, 01777 },
	{ OP_MOUNT, "tmpfs", "/tmp", "tmpfs", FLAGS_NNN, "mode=1777", 0 },
	{ OP_MKDIR, NULL, AGENT_WORKSPACE, NULL, 0, NULL, 0755 },
};

static int accept_one(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0 || (errno != EINTR && errno != ECONNABORTED))
			return fd;
	}
}

_Noreturn void agent_main(void)
{
	struct agent a;
	struct cr_err e;
	int lfd;

	if (mount_steps_run(agent_mounts, sizeof agent_mounts / sizeof agent_mounts[0], &e))
		init_fatal("agent: mounts", "%s", e.msg);
	if (access(AGENT_ROOTFS, F_OK) < 0)
		init_fatal("agent: rootfs", "%s: the image has no build root file system", AGENT_ROOTFS);
	/* A client that disappears must not kill PID 1 with SIGPIPE (blocked
	 * signals are still delivered... as pending; ignore it for good). */
	signal(SIGPIPE, SIG_IGN);
	if (agent_init(&a, &e))
		init_fatal("agent: setup", "%s", e.msg);
	lfd = vsock_listen(WIRE_PORT, 4, &e);
	if (lfd < 0)
		init_fatal("agent: listen", "%s", e.msg);
	init_log("agent: ready for builds on vsock port %d (a client is dropped after %u s of silence, or when its "
		 "request and sources take over %u s)",
		 WIRE_PORT, a.caps.idle_timeout_s, a.caps.transfer_timeout_s);
	init_log("agent: a build may have at most %llu processes, its default (%s)",
		 (unsigned long long)a.caps.max.pids, a.caps.pids_why);
	for (;;) {
		int fd = accept_one(lfd);
		if (fd < 0) {
			init_log("agent: accept: %s", strerror(errno));
			sleep(1);
			continue;
		}
		agent_serve(&a, fd);
		close(fd);
		/* Nothing of the sandbox can be left; reap anything that is. */
		while (waitpid(-1, NULL, WNOHANG) > 0) {
		}
	}
}
