/* In-guest half of the qemu/vsock suite: /init of a test initramfs (static
 * musl). It plays an enclave application against the host half
 * (tests/qemu/vsock_host.py) through `cleanroom run` and our vsock bridge:
 *
 *  1. the Nitro heartbeat: connect to CID 3 port 9000, send 0xB7, expect it
 *     echoed (exactly what AWS's init does);
 *  2. serve an echo on vsock port 5000 (host connects with CONNECT 5000);
 *  3. connect to CID 3 port 9001 (the host's control socket), say READY;
 *  4. connect to CID 3 port 9999, where nobody listens: must fail cleanly;
 *  5. open GUEST_CONNS connections to CID 3 port 9002 at once (the host
 *     echoes), send each GUEST_BYTES of its own pattern and check the echo;
 *  6. report results on the control socket, wait for "POWEROFF", power off.
 *
 * Other behaviours for the tests of `cleanroom run`, chosen by the first
 * word of /rootfs/mode (cleanroom eif packs --rootfs under /rootfs):
 *   no-heartbeat   never send the heartbeat, idle;
 *   bad-heartbeat  send 0x42 instead of 0xB7, idle;
 *   idle           heartbeat, then idle (until the host stops the VM);
 *   poweroff       heartbeat, then power off at once.
 *
 * Console lines start with "guest: ". Modules listed in /rootfs/modules.list
 * (one absolute path per line) are loaded first, for kernels that have
 * vsock as modules. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/qemu/guest_util.h"
#include "base/util.h"
#include "vsock/vsock.h"

#define PORT_HEARTBEAT 9000
#define PORT_CONTROL 9001
#define PORT_GUEST_ECHO 9002
#define PORT_MISSING 9999
#define PORT_ECHO 5000
#define GUEST_CONNS 8
#define GUEST_BYTES (64 * 1024)
#define CONNECT_MS 10000

#define say guest_say

static int read_exact(int fd, void *p, size_t n)
{
	return cr_read_full(fd, p, n) == (long)n ? 0 : -1;
}

static int connect_parent(uint32_t port)
{
	struct cr_err e;
	int fd = vsock_connect(VSOCK_CID_PARENT, port, CONNECT_MS, &e);
	if (fd < 0)
		say("%s", e.msg);
	return fd;
}

static void load_modules(void)
{
	FILE *f = fopen("/rootfs/modules.list", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		int m = open(line, O_RDONLY | O_CLOEXEC);
		if (m < 0 || syscall(SYS_finit_module, m, "", 0) != 0)
			say("cannot load module %s: %s", line, strerror(errno));
		if (m >= 0)
			close(m);
	}
	if (f)
		fclose(f);
}

static int heartbeat(unsigned char b)
{
	int fd = connect_parent(PORT_HEARTBEAT);
	if (fd < 0)
		return -1;
	if (cr_write_all(fd, &b, 1) || b != 0xB7 || read_exact(fd, &b, 1) || b != 0xB7) {
		say("heartbeat: no 0xB7 echo");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Echo one connection until the peer ends its side, then end ours. */
static void echo_conn(int fd)
{
	static char buf[64 * 1024];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || cr_write_all(fd, buf, (size_t)r))
			break;
	}
	close(fd);
}

/* Listen on PORT_ECHO and fork an echo per connection. Returns at once. */
static int start_echo_server(void)
{
	struct cr_err e;
	int fd = vsock_listen(PORT_ECHO, 16, &e);
	if (fd < 0) {
		say("echo server: %s", e.msg);
		return -1;
	}
	if (fork() == 0) {
		for (;;) {
			int c = accept(fd, NULL, NULL);
			if (c < 0)
				continue;
			if (fork() == 0) {
				echo_conn(c);
				_exit(0);
			}
			close(c);
		}
	}
	close(fd);
	return 0;
}

/* One guest-initiated connection: send a pattern, expect it back. */
static int guest_conn(int i)
{
	static unsigned char out[GUEST_BYTES], in[GUEST_BYTES];
	int fd = connect_parent(PORT_GUEST_ECHO);
	if (fd < 0)
		return 10;
	for (int k = 0; k < GUEST_BYTES; k++)
		out[k] = (unsigned char)(k * 7 + i * 31 + (k >> 8));
	if (cr_write_all(fd, out, sizeof out))
		return 11;
	shutdown(fd, SHUT_WR);
	if (read_exact(fd, in, sizeof in))
		return 12;
	if (memcmp(in, out, sizeof in))
		return 13;
	if (read(fd, in, 1) != 0) /* the host ends the stream after the echo */
		return 14;
	close(fd);
	return 0;
}

static int concurrent_guest_conns(char *detail, size_t n)
{
	pid_t pids[GUEST_CONNS];
	int ok = 0;
	size_t used = 0;
	detail[0] = 0;
	for (int i = 0; i < GUEST_CONNS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(guest_conn(i));
	}
	for (int i = 0; i < GUEST_CONNS; i++) {
		int st = 0;
		if (pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else if (used < n)
			used += (size_t)snprintf(detail + used, n - used, " conn%d:status%d", i,
						 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return ok;
}

static void idle(void)
{
	say("idling");
	for (;;)
		pause();
}

int main(void)
{
	char line[256], detail[200], mode[32] = "test";
	int ctl, fd, ok;
	size_t len = 0;
	FILE *mf;

	guest_setup_console();
	load_modules();
	mf = fopen("/rootfs/mode", "r");
	if (mf && fscanf(mf, "%31s", mode) != 1)
		strcpy(mode, "test");
	if (mf)
		fclose(mf);
	say("started (mode %s)", mode);
	if (!strcmp(mode, "no-heartbeat"))
		idle();
	if (!strcmp(mode, "bad-heartbeat")) {
		heartbeat(0x42);
		idle();
	}
	if (heartbeat(0xB7))
		guest_power_off();
	say("heartbeat acknowledged");
	if (!strcmp(mode, "idle"))
		idle();
	if (!strcmp(mode, "poweroff"))
		guest_power_off();
	if (start_echo_server())
		guest_power_off();
	ctl = connect_parent(PORT_CONTROL);
	if (ctl < 0)
		guest_power_off();
	cr_write_all(ctl, "READY\n", 6);

	fd = vsock_connect(VSOCK_CID_PARENT, PORT_MISSING, CONNECT_MS, NULL);
	if (fd >= 0) {
		snprintf(line, sizeof line, "MISSING connected\n");
		close(fd);
	} else {
		snprintf(line, sizeof line, "MISSING %s\n", errno == ECONNRESET ? "ECONNRESET" : strerror(errno));
	}
	cr_write_all(ctl, line, strlen(line));

	ok = concurrent_guest_conns(detail, sizeof detail);
	snprintf(line, sizeof line, "CONCURRENT %d/%d%s\n", ok, GUEST_CONNS, detail);
	cr_write_all(ctl, line, strlen(line));
	say("reported; waiting for the host");

	/* Anything until "POWEROFF\n" or EOF. */
	while (len < sizeof line - 1) {
		ssize_t r = read(ctl, line + len, sizeof line - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		line[len] = 0;
		if (strstr(line, "POWEROFF\n"))
			break;
	}
	say("powering off");
	guest_power_off();
	return 0;
}
