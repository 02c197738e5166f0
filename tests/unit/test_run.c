/* host-tool/run/run_qemu.c, run_heartbeat.c: the pieces of `cleanroom run`
 * that do not need QEMU (tests/qemu/run-vsock.sh boots real guests). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check.h"
#include "host-tool/run/evloop.h"
#include "host-tool/run/local_enclave.h"
#include "host-tool/run/run_heartbeat.h"
#include "host-tool/run/run_qemu.h"
#include "base/unix_sock.h"

static int argv_has(const struct run_qemu_argv *a, const char *opt, const char *val)
{
	for (int i = 0; i + 1 < a->argc; i++)
		if (!strcmp(a->argv[i], opt) && !strcmp(a->argv[i + 1], val))
			return 1;
	return 0;
}

/* How many times the word s is in argv. */
static int argv_count(const struct run_qemu_argv *a, const char *s)
{
	int n = 0;
	for (int i = 0; i < a->argc; i++)
		n += !strcmp(a->argv[i], s);
	return n;
}

static void test_argv(void)
{
	struct run_qemu_cfg c = { .qemu = "qemu-system-x86_64",
				  .kernel = "/r/kernel",
				  .initrd = "/r/initrd",
				  .cmdline = "console=ttyS0 quiet",
				  .vhost_socket = "/tmp/a,b/vhost.sock",
				  .memory_mib = 768,
				  .cpus = 3 };
	struct run_qemu_argv a;
	struct cr_err e;

	T_OK(run_qemu_build_argv(&c, &a, &e) == 0 && a.argv[a.argc] == NULL && !strcmp(a.argv[0], "qemu-system-x86_64"),
	     "argv: built and NULL-terminated");
	T_OK(argv_has(&a, "-M", "microvm") && argv_has(&a, "-accel", "tcg"), "argv: microvm under TCG");
	T_OK(argv_has(&a, "-m", "768M") && argv_has(&a, "-smp", "3"), "argv: memory and vCPUs");
	T_OK(argv_has(&a, "-object", "memory-backend-memfd,id=mem,size=768M,share=on") &&
		     argv_has(&a, "-numa", "node,memdev=mem"),
	     "argv: guest RAM is a shared memfd of the same size");
	T_OK(argv_has(&a, "-global", "virtio-mmio.force-legacy=false"), "argv: modern virtio-mmio");
	T_OK(argv_has(&a, "-chardev", "socket,id=vsock,path=/tmp/a,,b/vhost.sock") &&
		     argv_has(&a, "-device", "vhost-user-vsock-device,chardev=vsock"),
	     "argv: the vhost-user vsock device, commas in the path doubled");
	T_OK(argv_has(&a, "-kernel", "/r/kernel") && argv_has(&a, "-initrd", "/r/initrd") &&
		     argv_has(&a, "-append", "console=ttyS0 quiet"),
	     "argv: kernel, initrd and cmdline as given");
	T_OK(argv_has(&a, "-serial", "stdio") && argv_has(&a, "-display", "none"),
	     "argv: serial console on stdout, no display");
	T_OK(argv_count(&a, "-no-reboot") == 1 && argv_count(&a, "-nodefaults") == 1,
	     "argv: -no-reboot (a guest reboot ends the run) and -nodefaults");
	{
		static char longpath[1200];
		memset(longpath, ',', sizeof longpath - 1);
		c.vhost_socket = longpath;
		T_OK(run_qemu_build_argv(&c, &a, &e) == -1 && strstr(e.msg, "too long"),
		     "argv: an overlong path is refused");
	}
}

/* upstream QEMU's nitro-enclave machine: the EIF itself, and no ioeventfd
 * (run_qemu.c: its virtio-nsm breaks when a kick of its own is handled
 * between the two buffers of a request). */
static void test_argv_nitro(void)
{
	struct run_qemu_cfg c = { .machine = RUN_MACHINE_NITRO,
				  .qemu = "qemu-nitro",
				  .eif = "/r/app.eif",
				  .module_id = "i-0123456789abcdef-enc0123456789abcdef",
				  .tmpdir = "/tmp/r",
				  .cmdline = "tsc_early_khz=1000",
				  .vhost_socket = "/tmp/v/vhost.sock",
				  .memory_mib = 512,
				  .cpus = 2 };
	struct run_qemu_argv a;
	struct cr_err e;

	T_OK(run_qemu_build_argv(&c, &a, &e) == 0 && a.argv[a.argc] == NULL && !strcmp(a.argv[0], "qemu-nitro"),
	     "nitro argv: built and NULL-terminated");
	T_OK(argv_has(&a, "-M", "nitro-enclave,vsock=vsock,id=i-0123456789abcdef-enc0123456789abcdef") &&
		     argv_has(&a, "-kernel", "/r/app.eif") && argv_has(&a, "-append", "tsc_early_khz=1000") &&
		     !strcmp(a.tmpdir, "/tmp/r"),
	     "nitro argv: the machine with its module id, the EIF as -kernel, only run's additions as -append");
	T_OK(argv_has(&a, "-global", "virtio-mmio.force-legacy=false") &&
		     argv_has(&a, "-global", "virtio-mmio.ioeventfd=off"),
	     "nitro argv: modern virtio-mmio, queues handled in the vCPU's notify (ioeventfd off)");
	T_OK(argv_count(&a, "-initrd") == 0, "nitro argv: no -initrd (QEMU would measure it)");
}

/* aarch64 images: the virt machine, otherwise the same devices as microvm. */
static void test_argv_virt(void)
{
	struct run_qemu_cfg c = { .machine = RUN_MACHINE_VIRT,
				  .qemu = "qemu-system-aarch64",
				  .kernel = "/r/kernel",
				  .initrd = "/r/initrd",
				  .cmdline = "console=ttyS0 console=ttyAMA0",
				  .vhost_socket = "/tmp/v/vhost.sock",
				  .memory_mib = 1024,
				  .cpus = 16 };
	struct run_qemu_argv a;
	struct cr_err e;
	enum run_machine m = RUN_MACHINE_MICROVM;

	T_OK(run_machine_parse("virt", &m) == 0 && m == RUN_MACHINE_VIRT && !strcmp(run_machine_name(m), "virt"),
	     "virt: --machine virt parses, and is named back");
	T_OK(run_qemu_build_argv(&c, &a, &e) == 0 && a.argv[a.argc] == NULL &&
		     !strcmp(a.argv[0], "qemu-system-aarch64"),
	     "virt argv: built and NULL-terminated");
	T_OK(argv_has(&a, "-M", "virt,gic-version=3,memory-backend=mem") && argv_has(&a, "-accel", "tcg") &&
		     argv_has(&a, "-cpu", "neoverse-n1"),
	     "virt argv: arm virt with GICv3 (more than 8 vCPUs), Neoverse-N1, TCG");
	T_OK(argv_has(&a, "-m", "1024M") && argv_has(&a, "-smp", "16") &&
		     argv_has(&a, "-object", "memory-backend-memfd,id=mem,size=1024M,share=on"),
	     "virt argv: guest RAM is a shared memfd of the size asked for");
	T_OK(argv_has(&a, "-global", "virtio-mmio.force-legacy=false") &&
		     argv_has(&a, "-chardev", "socket,id=vsock,path=/tmp/v/vhost.sock") &&
		     argv_has(&a, "-device", "vhost-user-vsock-device,chardev=vsock"),
	     "virt argv: the vhost-user vsock device on modern virtio-mmio");
	T_OK(argv_has(&a, "-kernel", "/r/kernel") && argv_has(&a, "-initrd", "/r/initrd") &&
		     argv_has(&a, "-append", "console=ttyS0 console=ttyAMA0") && argv_has(&a, "-serial", "stdio"),
	     "virt argv: kernel, initrd, cmdline, serial console on stdout");
	T_OK(argv_count(&a, "-no-reboot") == 1 && argv_count(&a, "-nodefaults") == 1 && argv_count(&a, "-numa") == 0,
	     "virt argv: -no-reboot and -nodefaults; RAM as the machine's backend, no -numa");
}

static void test_cmdline_virt(void)
{
	char out[64];
	struct cr_err e;
	T_OK(run_cmdline_extra_virt(
		     "reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on root=/dev/ram0", out,
		     sizeof out, &e) == 0 &&
		     !strcmp(out, "console=ttyAMA0"),
	     "virt cmdline: nitro-cli's aarch64 cmdline gets console=ttyAMA0 (virt's PL011), nothing else");
	T_OK(run_cmdline_extra_virt("a console=ttyAMA0,115200", out, sizeof out, &e) == 0 && !strcmp(out, ""),
	     "virt cmdline: nothing when the image names ttyAMA0 already");
	T_OK(run_cmdline_extra_virt("xconsole=ttyAMA0", out, sizeof out, &e) == 0 && !strcmp(out, "console=ttyAMA0"),
	     "virt cmdline: only whole parameters count");
	T_OK(run_cmdline_extra_virt("", out, 8, &e) == -1, "virt cmdline: a short buffer fails cleanly");
}

static void test_cmdline(void)
{
	char out[128];
	struct cr_err e;
	T_OK(run_cmdline_extra("reboot=t console=ttyS0", 2596096, out, sizeof out, &e) == 0 &&
		     !strcmp(out, "tsc_early_khz=2596096"),
	     "cmdline: tsc_early_khz is appended");
	T_OK(run_cmdline_extra("reboot=k", 1000000, out, sizeof out, &e) == 0 &&
		     !strcmp(out, "tsc_early_khz=1000000 console=ttyS0 reboot=t"),
	     "cmdline: console=ttyS0 only when the image names no console; reboot=k becomes reboot=t");
	T_OK(run_cmdline_extra("a tsc_early_khz=5 console=hvc0 reboot=t", 7, out, sizeof out, &e) == 0 &&
		     !strcmp(out, ""),
	     "cmdline: nothing when the image sets all three");
	T_OK(run_cmdline_extra("a tsc_early_khz=5 console=hvc0", 7, out, sizeof out, &e) == 0 &&
		     !strcmp(out, "reboot=t"),
	     "cmdline: reboot=t also when the image names no reboot method (every end is a reboot)");
	T_OK(run_cmdline_extra("panic=30 reboot=k,w console=ttyS0", 0, out, sizeof out, &e) == 0 &&
		     !strcmp(out, "reboot=t"),
	     "cmdline: any reboot method but t is overridden (the last reboot= wins)");
	T_OK(run_cmdline_extra("xconsole=1", 0, out, sizeof out, &e) == 0 && !strcmp(out, "console=ttyS0 reboot=t"),
	     "cmdline: only whole parameters count; tsc 0 is left out");
	T_OK(run_cmdline_extra("", 2596096, out, 10, &e) == -1, "cmdline: a short buffer fails cleanly");
	unsigned long khz = run_host_tsc_khz();
	T_OK(khz > 100000 && khz < 10000000, "cmdline: the host TSC measures %lu kHz (plausible)", khz);
}

static void test_spawn(void)
{
	struct run_qemu_argv a = { .argc = 0 };
	sigset_t mask;
	struct cr_err e;
	pid_t pid = 0;
	int st;
	char path[] = "/tmp/cr-run-XXXXXX";
	int fd = mkstemp(path);

	sigprocmask(SIG_SETMASK, NULL, &mask);
	a.argv[0] = "/nonexistent/qemu";
	a.argv[1] = NULL;
	T_OK(run_qemu_spawn(&a, -1, &mask, &pid, &e) == -1 && strstr(e.msg, "cannot run /nonexistent/qemu") &&
		     strstr(e.msg, "No such file"),
	     "spawn: a missing binary is an error, not an exit status");
	a.argv[0] = "/bin/sh";
	a.argv[1] = "-c";
	a.argv[2] = "echo console; read x; echo \"stdin:$x\"";
	a.argv[3] = NULL;
	T_OK(run_qemu_spawn(&a, fd, &mask, &pid, &e) == 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st),
	     "spawn: the child runs");
	{
		char buf[64] = { 0 };
		T_OK(pread(fd, buf, sizeof buf - 1, 0) > 0 && !strcmp(buf, "console\nstdin:\n"),
		     "spawn: stdout is the console fd, stdin is /dev/null");
	}
	a.argv[2] = "sleep 30";
	T_OK(run_qemu_spawn(&a, -1, &mask, &pid, &e) == 0, "spawn: a long-running child");
	T_OK(getpgid(pid) == pid, "spawn: the child leads its own process group (Ctrl-C reaches only run)");
	st = run_qemu_kill(pid);
	T_OK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && waitpid(pid, NULL, WNOHANG) == -1,
	     "kill: the child is killed and reaped");
	close(fd);
	unlink(path);
}

static int hb_exchange(const char *path, uint8_t send_byte, int close_early, struct run_heartbeat *h, struct evloop *l,
		       uint8_t *echo)
{
	struct cr_err e;
	int fd = unix_sock_connect(path, 0, &e), got = 0;
	if (fd < 0)
		return -1;
	if (!close_early && send(fd, &send_byte, 1, 0) != 1)
		return -1;
	if (close_early)
		shutdown(fd, SHUT_WR);
	for (int i = 0; i < 100 && !h->done && !h->failed; i++)
		evloop_run_once(l, 10, &e);
	if (echo && recv(fd, echo, 1, MSG_DONTWAIT) == 1)
		got = 1;
	close(fd);
	return got;
}

static void test_heartbeat(void)
{
	struct evloop l;
	struct run_heartbeat h;
	struct cr_err e;
	struct stat st;
	char dir[] = "/tmp/cr-hb-XXXXXX", path[64];
	uint8_t echo = 0;

	if (!mkdtemp(dir) || evloop_init(&l, &e))
		return;
	snprintf(path, sizeof path, "%s/vsock_9000", dir);
	T_OK(run_heartbeat_listen(&h, &l, path, &e) == 0 && stat(path, &st) == 0 && (st.st_mode & 077) == 0,
	     "heartbeat: listening on <vsock>_9000, owner-only");
	T_OK(hb_exchange(path, 0xB7, 0, &h, &l, &echo) == 1 && echo == 0xB7 && h.done && !h.failed,
	     "heartbeat: 0xB7 is echoed and the enclave is ready");
	T_OK(stat(path, &st) != 0, "heartbeat: the listener is gone after one heartbeat (as nitro-cli)");
	run_heartbeat_close(&h);

	run_heartbeat_listen(&h, &l, path, &e);
	T_OK(hb_exchange(path, 0x42, 0, &h, &l, &echo) == 0 && h.failed && !h.done && strstr(h.err.msg, "sent 0x42"),
	     "heartbeat: a wrong byte fails, is not echoed, and is named");
	run_heartbeat_close(&h);
	run_heartbeat_listen(&h, &l, path, &e);
	T_OK(hb_exchange(path, 0, 1, &h, &l, NULL) == 0 && h.failed && strstr(h.err.msg, "closed port 9000"),
	     "heartbeat: hanging up without a byte fails");
	run_heartbeat_close(&h);
	run_heartbeat_close(&h);
	T_OK(stat(path, &st) != 0, "heartbeat: close removes the socket (and is idempotent)");
	T_OK(run_heartbeat_listen(&h, &l, "/nonexistent/dir/vsock_9000", &e) == -1 && strstr(e.msg, "bind"),
	     "heartbeat: an unusable path is an error");
	evloop_free(&l);
	rmdir(dir);
}

/* A console larger than anything read whole still gives its last line. */
static void test_console_tail(void)
{
	static struct local_enclave l;
	static char block[1 << 20];
	char tail[256];
	FILE *f;
	snprintf(l.console, sizeof l.console, "/tmp/cr-console-%d.log", (int)getpid());
	f = fopen(l.console, "w");
	memset(block, 'x', sizeof block);
	for (int i = 0; f && i < 17; i++)
		fwrite(block, 1, sizeof block, f);
	if (f) {
		fputs("\nsecond to last\r\nkernel panic: the end\r\n", f);
		fclose(f);
	}
	local_enclave_console_tail(&l, tail, sizeof tail, 2);
	T_OK(!strcmp(tail, "second to last\nkernel panic: the end"),
	     "console tail: the last lines of a 17 MiB console (got \"%.40s\")", tail);
	unlink(l.console);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_argv();
	test_cmdline();
	test_argv_nitro();
	test_argv_virt();
	test_cmdline_virt();
	test_spawn();
	test_heartbeat();
	test_console_tail();
	return t_done();
}
