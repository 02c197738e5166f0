/* QEMU command line and process for `cleanroom run` (see run_qemu.h). */
#include "host-tool/run/run_qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
# include <x86intrin.h>
#endif

static int add(struct run_qemu_argv *a, struct cr_err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add(struct run_qemu_argv *a, struct cr_err *e, const char *fmt, ...)
{
	va_list ap;
	int n;
	if (a->argc + 1 >= RUN_QEMU_MAX_ARGS)
		return cr_fail(e, "QEMU command line: too many arguments");
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, sizeof a->store - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof a->store - a->used)
		return cr_fail(e, "QEMU command line: too long");
	a->argv[a->argc++] = a->store + a->used;
	a->argv[a->argc] = NULL;
	a->used += (size_t)n + 1;
	return 0;
}

/* QEMU option values end at a comma; a literal comma is written twice. */
static int opt_escape(const char *in, char *out, size_t n, struct cr_err *e)
{
	size_t j = 0;
	for (size_t i = 0; in[i]; i++) {
		if (j + 3 > n)
			return cr_fail(e, "a socket path of %zu bytes is too long for a QEMU option", strlen(in));
		out[j++] = in[i];
		if (in[i] == ',')
			out[j++] = ',';
	}
	out[j] = 0;
	return 0;
}

int run_machine_parse(const char *s, enum run_machine *m)
{
	if (!strcmp(s, "microvm"))
		*m = RUN_MACHINE_MICROVM;
	else if (!strcmp(s, "nitro-enclave"))
		*m = RUN_MACHINE_NITRO;
	else if (!strcmp(s, "virt"))
		*m = RUN_MACHINE_VIRT;
	else
		return -1;
	return 0;
}

const char *run_machine_name(enum run_machine m)
{
	return m == RUN_MACHINE_NITRO ? "nitro-enclave" : m == RUN_MACHINE_VIRT ? "virt" : "microvm";
}

int run_random_module_id(char out[RUN_MODULE_ID_LEN + 1], struct cr_err *e)
{
	uint8_t r[16];
	char h[33];
	if (cr_random(r, sizeof r, e))
		return cr_err_wrap(e, "module id");
	cr_hex(r, sizeof r, h);
	snprintf(out, RUN_MODULE_ID_LEN + 1, "i-%.16s-enc%.16s", h, h + 16);
	return 0;
}

/* upstream QEMU's nitro-enclave machine (qemu-nitro/README.md): it makes
 * the vhost-user-vsock device from vsock= and the shared guest RAM itself,
 * reads the EIF given as -kernel (CRC, PCRs, kernel and ramdisks unpacked
 * to $TMPDIR), and appends -append after the EIF's own cmdline. No
 * -initrd: it would be measured into PCR0/2.
 *
 * ioeventfd=off: Linux's NSM driver puts a request and its response buffer
 * in the ring one after the other, and QEMU's virtio-nsm takes a request
 * seen without its response buffer as a device error: the device is broken
 * for the rest of the boot and every NSM call waits out the driver's 120 s.
 * With ioeventfd, QEMU kicks each queue itself when the driver sets
 * DRIVER_OK, and that kick is handled in QEMU's main loop, whenever it gets
 * to it: between the two buffers of the hwrng thread's or a process's next
 * request in a few cold boots in a hundred here. Without it a queue is handled
 * only in the vCPU's own notify write, after both buffers are in (the
 * driver holds its lock across the pair). vhost-user-vsock's kicks do not
 * go through QEMU either way. */
static int build_nitro(const struct run_qemu_cfg *c, const char *sock, struct run_qemu_argv *a, struct cr_err *e)
{
	char id[128];
	if (opt_escape(c->module_id, id, sizeof id, e))
		return -1;
	if (!c->tmpdir || strlen(c->tmpdir) >= sizeof a->tmpdir)
		return cr_fail(e, "QEMU's TMPDIR: missing or too long");
	snprintf(a->tmpdir, sizeof a->tmpdir, "%s", c->tmpdir);
	if (add(a, e, "%s", c->qemu) || add(a, e, "-M") || add(a, e, "nitro-enclave,vsock=vsock,id=%s", id) ||
	    add(a, e, "-accel") || add(a, e, "tcg") || add(a, e, "-cpu") || add(a, e, "max") || add(a, e, "-m") ||
	    add(a, e, "%uM", c->memory_mib) || add(a, e, "-smp") || add(a, e, "%u", c->cpus) || add(a, e, "-chardev") ||
	    add(a, e, "socket,id=vsock,path=%s", sock) || add(a, e, "-global") ||
	    add(a, e, "virtio-mmio.force-legacy=false") || add(a, e, "-global") ||
	    add(a, e, "virtio-mmio.ioeventfd=off") || add(a, e, "-nodefaults") || add(a, e, "-no-user-config") ||
	    add(a, e, "-display") || add(a, e, "none") || add(a, e, "-serial") || add(a, e, "stdio") ||
	    add(a, e, "-no-reboot") || add(a, e, "-kernel") || add(a, e, "%s", c->eif))
		return -1;
	if (c->cmdline[0] && (add(a, e, "-append") || add(a, e, "%s", c->cmdline)))
		return -1;
	return 0;
}

/* What microvm and virt share: modern virtio-mmio (virtio 1.x) carrying
 * the vhost-user vsock device, no default devices, the serial console on
 * stdout, -no-reboot (a guest reboot, AWS's init ends that way, ends the run
 * like a power-off), and the EIF's kernel, initramfs and cmdline. */
static int add_mmio_boot(const struct run_qemu_cfg *c, const char *sock, struct run_qemu_argv *a, struct cr_err *e)
{
	if (add(a, e, "-global") || add(a, e, "virtio-mmio.force-legacy=false") || add(a, e, "-chardev") ||
	    add(a, e, "socket,id=vsock,path=%s", sock) || add(a, e, "-device") ||
	    add(a, e, "vhost-user-vsock-device,chardev=vsock") || add(a, e, "-nodefaults") ||
	    add(a, e, "-no-user-config") || add(a, e, "-display") || add(a, e, "none") || add(a, e, "-serial") ||
	    add(a, e, "stdio") || add(a, e, "-no-reboot") || add(a, e, "-kernel") || add(a, e, "%s", c->kernel) ||
	    add(a, e, "-initrd") || add(a, e, "%s", c->initrd) || add(a, e, "-append") || add(a, e, "%s", c->cmdline))
		return -1;
	return 0;
}

/* aarch64: QEMU's arm virt machine, TCG. Like microvm it has virtio-mmio
 * and no PCI device of ours; the device tree describes the mmio slots, PSCI
 * powers off. GICv3 takes more than GICv2's limit of 8 vCPUs. The CPU is
 * Graviton2's core (Neoverse-N1). Guest RAM is a shared memfd for the vsock
 * back-end, as on microvm, given as the machine's RAM. */
static int build_virt(const struct run_qemu_cfg *c, const char *sock, struct run_qemu_argv *a, struct cr_err *e)
{
	if (add(a, e, "%s", c->qemu) || add(a, e, "-M") || add(a, e, "virt,gic-version=3,memory-backend=mem") ||
	    add(a, e, "-accel") || add(a, e, "tcg") || add(a, e, "-cpu") || add(a, e, "neoverse-n1") ||
	    add(a, e, "-m") || add(a, e, "%uM", c->memory_mib) || add(a, e, "-smp") || add(a, e, "%u", c->cpus) ||
	    add(a, e, "-object") || add(a, e, "memory-backend-memfd,id=mem,size=%uM,share=on", c->memory_mib))
		return -1;
	return add_mmio_boot(c, sock, a, e);
}

int run_qemu_build_argv(const struct run_qemu_cfg *c, struct run_qemu_argv *a, struct cr_err *e)
{
	char sock[1024];
	a->argc = 0;
	a->used = 0;
	a->argv[0] = NULL;
	a->tmpdir[0] = 0;
	if (opt_escape(c->vhost_socket, sock, sizeof sock, e))
		return -1;
	if (c->machine == RUN_MACHINE_NITRO)
		return build_nitro(c, sock, a, e);
	if (c->machine == RUN_MACHINE_VIRT)
		return build_virt(c, sock, a, e);
	/* microvm: virtio-mmio only and no PCI, like Nitro; its ACPI tables are
	 * how the guest finds the devices and how power-off stops QEMU.
	 * Guest RAM is a shared memfd so the vsock back-end can map it. */
	if (add(a, e, "%s", c->qemu) || add(a, e, "-M") || add(a, e, "microvm") || add(a, e, "-accel") ||
	    add(a, e, "tcg") || add(a, e, "-cpu") || add(a, e, "max") || add(a, e, "-m") ||
	    add(a, e, "%uM", c->memory_mib) || add(a, e, "-smp") || add(a, e, "%u", c->cpus) || add(a, e, "-object") ||
	    add(a, e, "memory-backend-memfd,id=mem,size=%uM,share=on", c->memory_mib) || add(a, e, "-numa") ||
	    add(a, e, "node,memdev=mem"))
		return -1;
	return add_mmio_boot(c, sock, a, e);
}

/* A whole word of the command line starts with prefix. */
static int has_param(const char *cmdline, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = cmdline; (p = strstr(p, prefix)); p += n)
		if (p == cmdline || p[-1] == ' ')
			return 1;
	return 0;
}

int run_cmdline_extra(const char *eif_cmdline, unsigned long tsc_khz, char *out, size_t n, struct cr_err *e)
{
	char tsc[40] = "";
	const char *add[3];
	size_t k = 0, used = 0;
	if (tsc_khz && !has_param(eif_cmdline, "tsc_early_khz=")) {
		snprintf(tsc, sizeof tsc, "tsc_early_khz=%lu", tsc_khz);
		add[k++] = tsc;
	}
	if (!has_param(eif_cmdline, "console="))
		add[k++] = "console=ttyS0";
	/* Our init ends every run with a reboot (as AWS's does). nitro-cli's
	 * reboot=k resets through the keyboard controller, which microvm
	 * lacks: the kernel then spends seconds polling it and falls back to a
	 * real-mode BIOS restart that now and then hangs the guest; without a
	 * reboot= the kernel's default tries ACPI first. A triple fault resets
	 * at once, which ends the run (-no-reboot), so it is always asked for. */
	if (!has_param(eif_cmdline, "reboot=t"))
		add[k++] = "reboot=t";
	out[0] = 0;
	for (size_t i = 0; i < k; i++) {
		int w = snprintf(out + used, n - used, "%s%s", used ? " " : "", add[i]);
		if (w < 0 || (size_t)w >= n - used)
			return cr_fail(e, "kernel command line: no room");
		used += (size_t)w;
	}
	return 0;
}

int run_cmdline_extra_virt(const char *eif_cmdline, char *out, size_t n, struct cr_err *e)
{
	const char *add = has_param(eif_cmdline, "console=ttyAMA0") ? "" : "console=ttyAMA0";
	if ((size_t)snprintf(out, n, "%s", add) >= n)
		return cr_fail(e, "kernel command line: no room");
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

unsigned long run_host_tsc_khz(void)
{
#if !defined(__x86_64__) && !defined(__i386__)
	return 0; /* no TSC: nothing to tell the guest */
#else
	/* 20 ms against the raw monotonic clock: ~0.01% error, plenty for the
	 * kernel's early calibration (it refines the value later). */
	uint64_t t0 = mono_ns(), c0 = __rdtsc(), t1, c1;
	struct timespec d = { .tv_nsec = 20 * 1000 * 1000 };
	while (nanosleep(&d, &d) && errno == EINTR) {
	}
	t1 = mono_ns();
	c1 = __rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return 0;
	return (unsigned long)((c1 - c0) * 1000000u / (t1 - t0));
#endif
}

int run_qemu_spawn(const struct run_qemu_argv *a, int console_fd, const sigset_t *mask, pid_t *pid, struct cr_err *e)
{
	int p[2], err = 0;
	pid_t parent = getpid(), child;
	ssize_t r;

	if (pipe2(p, O_CLOEXEC))
		return cr_failp(e, "pipe");
	child = fork();
	if (child < 0) {
		close(p[0]);
		close(p[1]);
		return cr_failp(e, "fork");
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);
		close(p[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		setpgid(0, 0);
		if (null < 0 || dup2(null, 0) < 0 || dup2(console_fd >= 0 ? console_fd : null, 1) < 0)
			goto fail;
		sigprocmask(SIG_SETMASK, mask, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (a->tmpdir[0] && setenv("TMPDIR", a->tmpdir, 1))
			goto fail;
		execvp(a->argv[0], a->argv);
	fail:
		err = errno;
		if (write(p[1], &err, sizeof err) < 0) {
		}
		_exit(127);
	}
	close(p[1]);
	do
		r = read(p[0], &err, sizeof err);
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r == (ssize_t)sizeof err) {
		waitpid(child, NULL, 0);
		errno = err;
		return cr_failp(e, "cannot run %s", a->argv[0]);
	}
	*pid = child;
	return 0;
}

int run_qemu_kill(pid_t pid)
{
	int st = 0;
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return st;
}
