/* cleanroom run: boot an EIF locally in QEMU (microvm, TCG) with our vsock
 * bridge, act as nitro-cli's heartbeat listener, and tear everything down
 * on power-off, a signal or a timeout.
 *
 * One thread, one event loop: the vhost-user back-end, the heartbeat, the
 * host services (the NSM model), signals (SIGCHLD included) and a tick for
 * deadlines. Teardown order: QEMU (SIGTERM, then SIGKILL), services,
 * heartbeat, bridge, then the files of the private run directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/digest.h"
#include "host-tool/commands.h"
#include "host-tool/eif/datadir.h"
#include "host-tool/eif/eif.h"
#include "host-tool/eif/eif_sign.h"
#include "host-tool/run/evloop.h"
#include "base/json.h"
#include "host-tool/run/nsm_model.h"
#include "host-tool/run/run_heartbeat.h"
#include "host-tool/run/run_qemu.h"
#include "host-tool/run/run_services.h"
#include "base/term.h"
#include "base/unix_sock.h"
#include "host-tool/run/vsock_bridge.h"

#define RUN_TICK_MS 100
#define QEMU_GRACE_MS 3000
#define MIB (1024ull * 1024)

/* Services started next to the enclave (see run_services.h). */
static const struct run_service *const run_service_table[] = { &nsm_model_service };
#define RUN_SERVICES (sizeof run_service_table / sizeof run_service_table[0])

struct run_opts {
	const char *eif, *vsock_dir, *nsm_ca, *console, *qemu;
	enum run_machine machine;
	int machine_given; /* --machine was given (else: from the image's arch) */
	uint64_t cid;
	unsigned memory_mib, cpus;
	uint64_t timeout_s, hb_timeout_s;
	int json;
};

enum run_end {
	END_NONE,
	END_POWEROFF,   /* QEMU exited 0 after the heartbeat */
	END_SIGNAL,     /* SIGINT / SIGTERM / SIGHUP */
	END_TIMEOUT,    /* --timeout */
	END_HB_TIMEOUT, /* no heartbeat in time */
	END_HB_BAD,     /* wrong heartbeat */
	END_QEMU_EXIT,  /* QEMU ended otherwise */
};

static const char *const end_names[] = { "running",           "poweroff",          "signal",   "timeout",
					 "heartbeat-timeout", "heartbeat-invalid", "qemu-exit" };

struct run {
	struct run_opts o;
	struct evloop loop;
	struct evsrc sig_src, tick_src;
	int tick_fd, console_fd;
	/* --console -: QEMU's serial output comes through a pipe and goes to
	 * stdout sanitised (term.h); a --console FILE gets it raw. */
	int console_rd;
	struct evsrc console_src;
	struct cr_term_file console_term;
	sigset_t old_mask;
	struct eif_image img;
	int img_open;
	struct eif_scan scan;
	char dir[256], kernel[300], initrd[300], vhost[300], vsock[512], hb_path[560];
	char qtmp[300];                        /* nitro-enclave: QEMU's TMPDIR, where it unpacks the EIF */
	char qemu_path[4096];                  /* nitro-enclave's default QEMU, when found */
	char module_id[RUN_MODULE_ID_LEN + 1]; /* nitro-enclave: this boot's NSM module id */
	int made_dir, made_qtmp;
	struct vsock_bridge *br;
	struct run_heartbeat hb;
	void *svc_state[RUN_SERVICES];
	char svc_path[RUN_SERVICES][560];
	pid_t qemu;
	int qemu_status;
	uint64_t t0_ms, hb_ms, hb_deadline_ms, deadline_ms;
	enum run_end end;
	int end_signal;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cleanroom run FILE.eif [--machine microvm|nitro-enclave|virt] [--cid N] [--memory MiB]\n"
		"                     [--cpus N] [--vsock-dir DIR] [--nsm-ca DIR] [--console FILE|-] [--timeout S]\n"
		"                     [--heartbeat-timeout S] [--qemu PATH] [--json]\n"
		"\n"
		"Boot an enclave image locally, without Nitro hardware: the EIF's kernel, cmdline and\n"
		"ramdisks (the measured bytes) run in QEMU (TCG): x86_64 images on microvm, aarch64\n"
		"images (EIF flags bit 0, as nitro-cli writes for arm64) on virt. The guest's vsock reaches the\n"
		"host through cleanroom's vhost-user bridge, Firecracker style:\n"
		"  - guest -> host: a connection to CID 3 (the parent) or 2, port P, reaches the Unix\n"
		"    socket DIR/vsock_P (no listener there: the guest gets a reset);\n"
		"  - host -> guest: connect to DIR/vsock, write \"CONNECT <port>\\n\", read\n"
		"    \"OK <hostport>\\n\", then the socket is the stream.\n"
		"Like nitro-cli, run listens on port 9000 before boot and expects the byte 0xB7 from\n"
		"the enclave (AWS's init and cleanroom's init send it), which it echoes.\n"
		"Ctrl-C, SIGTERM, --timeout or the guest powering off (or rebooting) ends the run;\n"
		"QEMU is stopped and every socket and temporary file removed.\n"
		"\n"
		"Not measured: run appends to the EIF's kernel cmdline what QEMU needs,\n"
		"tsc_early_khz=<host TSC kHz> (microvm has no other early clock), console=ttyS0\n"
		"when the EIF names no console, and reboot=t unless the EIF has it (the init ends\n"
		"every run with a reboot; microvm has no keyboard controller for reboot=k, and a\n"
		"triple fault ends the run at once). On virt (aarch64) it appends only console=ttyAMA0\n"
		"(virt's serial port) unless the EIF names it. The PCRs of the image are unchanged by this.\n"
		"\n"
		"Machines (--machine):\n"
		"  microvm        (default) QEMU's microvm boots the EIF's kernel, cmdline and ramdisks;\n"
		"                 /dev/nsm is the image's nsm.ko shim, answered by run's mock NSM, whose\n"
		"                 attestation documents are signed by a test CA (--nsm-ca)\n"
		"  nitro-enclave  upstream QEMU's nitro-enclave machine ('make qemu-nitro') loads the EIF\n"
		"                 itself (checks its CRC, measures PCR0/1/2/8) and has its own virtio-nsm:\n"
		"                 /dev/nsm is the kernel's driver; no mock NSM is served; its attestation\n"
		"                 documents are UNSIGNED (alg -1), so they prove nothing about where the\n"
		"                 code ran. Each boot gets a random module id (i-<16 hex>-enc<16 hex>).\n"
		"                 An image carrying the nsm.ko shim boots too (the init notices the\n"
		"                 kernel's driver); --nsm-ca does not apply.\n"
		"  virt           (the default, and the only machine, for aarch64 images) QEMU's arm virt\n"
		"                 machine with a Neoverse-N1 CPU (Graviton2's core), GICv3, virtio-mmio,\n"
		"                 PSCI power-off; otherwise as microvm: the nsm.ko shim and the mock NSM\n"
		"\n"
		"options:\n"
		"  --machine M          microvm (default for x86_64 images), nitro-enclave, or virt\n"
		"                       (default for aarch64 images) (see above)\n"
		"  --cid N              guest CID (default %d; 4..4294967294)\n"
		"  --memory MiB         guest RAM (default: 512, or 4x the EIF size if larger;\n"
		"                       less than 4x the EIF size is refused, as nitro-cli does)\n"
		"  --cpus N             vCPUs (default 2; 1..64)\n"
		"  --vsock-dir DIR      existing directory for the host sockets vsock and vsock_<port>\n"
		"                       (default: the private run directory, printed at start)\n"
		"  --nsm-ca DIR         the test CA that signs the mock NSM's attestation documents:\n"
		"                       DIR/root.pem, intermediate.pem (one or more CA certificates,\n"
		"                       the root's child first), leaf.pem and leaf.key (P-384); when\n"
		"                       DIR holds none of them, a new chain is made there and kept.\n"
		"                       Default: a new chain in the private run directory, removed at\n"
		"                       the end. Either way run prints the root's path (nsm_root in\n"
		"                       the ready event): cleanroom attestation verify DOC --root PATH\n"
		"  --console FILE|-     the serial console: a file (raw), or - for stdout, with every\n"
		"                       control character shown escaped (\\x1b...; \\r\\n ends a line)\n"
		"                       (default: -, or discarded with --json)\n"
		"  --timeout S          stop the enclave after S seconds (default: never)\n"
		"  --heartbeat-timeout S  give up when no heartbeat came within S seconds (default: as\n"
		"                       nitro-cli, 90 s per started 6 GiB of EIF + 90 s per started\n"
		"                       100 GiB of memory, so at least 180 s)\n"
		"  --qemu PATH          QEMU binary (default: %s from PATH; %s for virt;\n"
		"                       with nitro-enclave, the one 'make qemu-nitro' built:\n"
		"                       qemu-nitro/qemu-system-x86_64 next to this program's build tree,\n"
		"                       or under lib/cleanroom/ when installed)\n"
		"  --json               JSON lines on stdout: {\"event\":\"ready\",...} at the heartbeat\n"
		"                       (vsock path, cid, machine, pcr0/1/2, boot_to_heartbeat_ms, nsm:\n"
		"                       \"mock\" or \"qemu-nitro-enclave\" (unsigned documents), nsm_module_id,\n"
		"                       and nsm_root for the mock) and\n"
		"                       {\"event\":\"exit\",...} at the end (result, exit_code, times)\n"
		"\n"
		"Exit status: 0 the enclave ended (rebooted or powered off) after its heartbeat;\n"
		"1 anything else (no or bad heartbeat, QEMU failed, stopped by a signal or --timeout;\n"
		"one line on stderr says which); 2 usage error.\n"
		"\n"
		"examples:\n"
		"  cleanroom run app.eif --console boot.log\n"
		"  cleanroom run app.eif --vsock-dir /run/enc --json &   # then CONNECT via /run/enc/vsock\n",
		VSOCK_DEFAULT_GUEST_CID, RUN_QEMU_DEFAULT, RUN_QEMU_DEFAULT_AARCH64);
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{ "cid", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'p' },
		{ "vsock-dir", required_argument, NULL, 'd' },
		{ "nsm-ca", required_argument, NULL, 'n' },
		{ "console", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "heartbeat-timeout", required_argument, NULL, 'b' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "machine", required_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct run_opts){ .cid = VSOCK_DEFAULT_GUEST_CID, .cpus = 2 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (cr_parse_u64(optarg, UINT32_MAX - 1, &v) || v < 4)
				goto bad;
			o->cid = v;
			break;
		case 'm':
			if (cr_parse_u64(optarg, 1u << 20, &v) || v < 64)
				goto bad;
			o->memory_mib = (unsigned)v;
			break;
		case 'p':
			if (cr_parse_u64(optarg, 64, &v) || v < 1)
				goto bad;
			o->cpus = (unsigned)v;
			break;
		case 't':
		case 'b':
			if (cr_parse_u64(optarg, 86400 * 365, &v) || v < 1)
				goto bad;
			*(c == 't' ? &o->timeout_s : &o->hb_timeout_s) = v;
			break;
		case 'd': o->vsock_dir = optarg; break;
		case 'n': o->nsm_ca = optarg; break;
		case 'o': o->console = optarg; break;
		case 'q': o->qemu = optarg; break;
		case 'M':
			o->machine_given = 1;
			if (run_machine_parse(optarg, &o->machine)) {
				cr_tprintf(stderr, "cleanroom run: --machine '%s': expected %s\n", optarg,
					   RUN_MACHINE_NAMES);
				return -1;
			}
			break;
		case 'j': o->json = 1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc - 1) {
		cr_tprintf(stderr, "cleanroom run: expected one EIF file (see --help)\n");
		return -1;
	}
	o->eif = argv[optind];
	if (o->machine == RUN_MACHINE_NITRO && o->nsm_ca) {
		cr_tprintf(stderr, "cleanroom run: --nsm-ca: the nitro-enclave machine has its own NSM (no mock NSM, "
				   "no test CA)\n");
		return -1;
	}
	return 0;
bad:
	cr_tprintf(stderr, "cleanroom run: --%s %s: out of range (see --help)\n",
		   c == 'c'   ? "cid"
		   : c == 'm' ? "memory"
		   : c == 'p' ? "cpus"
		   : c == 't' ? "timeout"
			      : "heartbeat-timeout",
		   optarg);
	return -1;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------ setup */

static int open_image(struct run *r, struct cr_err *e)
{
	uint64_t size_gib6, mem_gib100;
	if (eif_open(r->o.eif, &r->img, e))
		return -1;
	r->img_open = 1;
	if (r->img.flags & EIF_FLAG_ARM64) {
		if (!r->o.machine_given)
			r->o.machine = RUN_MACHINE_VIRT;
		else if (r->o.machine != RUN_MACHINE_VIRT)
			return cr_fail(
				e, "%s: an aarch64 image; --machine %s boots x86_64 images (aarch64 ones boot on virt)",
				r->o.eif, run_machine_name(r->o.machine));
	} else if (r->o.machine == RUN_MACHINE_VIRT) {
		return cr_fail(e,
			       "%s: an x86_64 image; --machine virt boots aarch64 images (x86_64 ones boot on microvm)",
			       r->o.eif);
	}
	{
		/* nitro-cli's rule (ENCLAVE_MEMORY_EIF_SIZE_RATIO = 4): with less,
		 * the kernel cannot unpack the whole initramfs and boots on with
		 * files missing ("Initramfs unpacking failed"). */
		uint64_t four = (4 * r->img.file_size + MIB - 1) / MIB;
		if (!r->o.memory_mib)
			r->o.memory_mib = four > 512 ? (unsigned)(four > (1u << 20) ? 1u << 20 : four) : 512;
		else if (r->o.memory_mib < four)
			return cr_fail(e,
				       "--memory %u: too little for %s; at least %llu MiB (4x the EIF size, as "
				       "nitro-cli requires)",
				       r->o.memory_mib, r->o.eif, (unsigned long long)four);
	}
	if (!r->o.hb_timeout_s) { /* nitro-cli's rule */
		size_gib6 = (r->img.file_size + (6ull << 30) - 1) / (6ull << 30);
		mem_gib100 = ((uint64_t)r->o.memory_mib * MIB + (100ull << 30) - 1) / (100ull << 30);
		r->o.hb_timeout_s = 90 * (size_gib6 ? size_gib6 : 1) + 90 * (mem_gib100 ? mem_gib100 : 1);
	}
	return 0;
}

/* Measure the image (CRC, PCRs for the mock NSM) and, for QEMU to boot,
 * copy its kernel and ramdisks in the same pass: what boots is what was
 * measured, even if the file changes meanwhile. -1: no copies (QEMU's
 * nitro-enclave machine reads the EIF itself and measures it itself). */
static int measure_image(struct run *r, int kernel_fd, int ramdisk_fd, struct cr_err *e)
{
	if (eif_scan_copy(&r->img, &r->scan, kernel_fd, ramdisk_fd, e))
		return -1;
	if (!r->scan.crc_ok)
		return cr_fail(e, "%s: CRC32 mismatch (stored 0x%08x, computed 0x%08x): the file is damaged", r->o.eif,
			       r->img.crc_stored, r->scan.crc_computed);
	/* A signed image: PCR8 from its certificate, for the mock NSM and the
	 * ready event, as Nitro sets it; a signature that does not verify is
	 * refused, as describe refuses it. */
	if (eif_scan_signature(&r->img, &r->scan, NULL, e))
		return cr_err_wrap(e, "%s", r->o.eif);
	return 0;
}

/* The private run directory with the kernel and initramfs QEMU boots. */
static int extract_image(struct run *r, struct cr_err *e)
{
	const char *tmp = getenv("TMPDIR");
	int kfd, rfd, rc;

	if (!tmp || !*tmp || !is_dir(tmp))
		tmp = "/tmp";
	if ((size_t)snprintf(r->dir, sizeof r->dir, "%s/cleanroom-run.XXXXXX", tmp) >= sizeof r->dir)
		return cr_fail(e, "TMPDIR is too long");
	if (!mkdtemp(r->dir))
		return cr_failp(e, "%s: mkdtemp", r->dir);
	r->made_dir = 1;
	snprintf(r->kernel, sizeof r->kernel, "%s/kernel", r->dir);
	snprintf(r->initrd, sizeof r->initrd, "%s/initrd", r->dir);
	snprintf(r->vhost, sizeof r->vhost, "%s/vhost.sock", r->dir);
	if (r->o.machine == RUN_MACHINE_NITRO) {
		/* QEMU reads the EIF itself and unpacks its parts here */
		snprintf(r->qtmp, sizeof r->qtmp, "%s/qemu-tmp", r->dir);
		if (mkdir(r->qtmp, 0700))
			return cr_failp(e, "%s", r->qtmp);
		r->made_qtmp = 1;
		return measure_image(r, -1, -1, e);
	}
	kfd = open(r->kernel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (kfd < 0)
		return cr_failp(e, "%s", r->kernel);
	rfd = open(r->initrd, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (rfd < 0) {
		close(kfd);
		return cr_failp(e, "%s", r->initrd);
	}
	rc = measure_image(r, kfd, rfd, e);
	close(kfd);
	close(rfd);
	return rc;
}

static void on_signal(struct evsrc *s, uint32_t events)
{
	struct run *r = EVLOOP_OWNER(s, struct run, sig_src);
	struct signalfd_siginfo si;
	(void)events;
	while (read(s->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			int st;
			if (r->qemu > 0 && waitpid(r->qemu, &st, WNOHANG) == r->qemu) {
				r->qemu = 0;
				r->qemu_status = st;
				if (r->end == END_NONE)
					r->end = r->hb.done && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? END_POWEROFF
												     : END_QEMU_EXIT;
			}
		} else if (r->end == END_NONE) {
			r->end = END_SIGNAL;
			r->end_signal = (int)si.ssi_signo;
		}
	}
	if (r->end != END_NONE)
		evloop_stop(&r->loop);
}

static void print_ready(struct run *r)
{
	if (!r->o.json) {
		cr_tprintf(stderr,
			   "cleanroom run: heartbeat after %.2f s: the enclave is ready (CID %llu, host socket %s)\n",
			   (double)(r->hb_ms - r->t0_ms) / 1000.0, (unsigned long long)r->o.cid, r->vsock);
		if (r->o.machine == RUN_MACHINE_NITRO)
			cr_tprintf(stderr,
				   "cleanroom run: NSM: QEMU's nitro-enclave virtio-nsm (module_id %s), no mock NSM; "
				   "its attestation documents are UNSIGNED\n",
				   r->module_id);
		for (size_t i = 0; i < RUN_SERVICES; i++)
			if (r->svc_state[i] && run_service_table[i]->ready)
				run_service_table[i]->ready(r->svc_state[i], NULL);
		return;
	}
	struct cr_buf b;
	struct json_w w;
	struct cr_err e;
	cr_buf_init(&b, 4096);
	jw_init(&w, &b, 0);
	jw_obj_begin(&w);
	jw_kstr(&w, "event", "ready");
	jw_kstr(&w, "eif", r->o.eif);
	jw_kstr(&w, "vsock", r->vsock);
	jw_ku64(&w, "cid", r->o.cid);
	jw_kstr(&w, "machine", run_machine_name(r->o.machine));
	jw_kstr(&w, "nsm", r->o.machine == RUN_MACHINE_NITRO ? "qemu-nitro-enclave" : "mock");
	if (r->o.machine == RUN_MACHINE_NITRO) {
		jw_kstr(&w, "nsm_module_id", r->module_id);
		jw_kbool(&w, "nsm_signs", 0);
	}
	jw_khex(&w, "pcr0", r->scan.pcrs.pcr0, CR_PCR_LEN);
	jw_khex(&w, "pcr1", r->scan.pcrs.pcr1, CR_PCR_LEN);
	jw_khex(&w, "pcr2", r->scan.pcrs.pcr2, CR_PCR_LEN);
	if (r->scan.pcrs.has_pcr8)
		jw_khex(&w, "pcr8", r->scan.pcrs.pcr8, CR_PCR_LEN);
	jw_ku64(&w, "boot_to_heartbeat_ms", r->hb_ms - r->t0_ms);
	for (size_t i = 0; i < RUN_SERVICES; i++)
		if (r->svc_state[i] && run_service_table[i]->ready)
			run_service_table[i]->ready(r->svc_state[i], &w);
	jw_obj_end(&w);
	jw_print(&w, &e);
	cr_buf_free(&b);
}

static void on_tick(struct evsrc *s, uint32_t events)
{
	struct run *r = EVLOOP_OWNER(s, struct run, tick_src);
	uint64_t n, now = cr_mono_ms();
	(void)events;
	if (read(r->tick_fd, &n, sizeof n) < 0) {
		/* spurious */
	}
	if (r->end != END_NONE)
		return;
	if (!r->hb.done && !r->hb.failed && now >= r->hb_deadline_ms)
		r->end = END_HB_TIMEOUT;
	else if (r->deadline_ms && now >= r->deadline_ms)
		r->end = END_TIMEOUT;
	if (r->end != END_NONE)
		evloop_stop(&r->loop);
}

/* After every batch: heartbeat progress. */
static void after_batch(void *ctx)
{
	struct run *r = ctx;
	if (r->hb.done && !r->hb_ms) {
		r->hb_ms = cr_mono_ms();
		print_ready(r);
	}
	if (r->hb.failed && r->end == END_NONE) {
		r->end = END_HB_BAD;
		evloop_stop(&r->loop);
	}
}

static void bridge_log(void *ctx, const char *msg)
{
	(void)ctx;
	cr_tprintf(stderr, "cleanroom run: vsock: %s\n", cr_term_arg(msg));
}

static int start_services(struct run *r, struct cr_err *e)
{
	struct run_enclave enc = { .eif_path = r->o.eif,
				   .pcrs = &r->scan.pcrs,
				   .cid = r->o.cid,
				   .nsm_ca_dir = r->o.nsm_ca,
				   .run_dir = r->dir };
	if (cr_random(enc.boot_id, sizeof enc.boot_id, e))
		return cr_err_wrap(e, "boot id");
	for (size_t i = 0; i < RUN_SERVICES; i++) {
		const struct run_service *s = run_service_table[i];
		/* nitro-enclave has its own NSM: the mock is not served */
		if (!s || r->o.machine == RUN_MACHINE_NITRO)
			continue;
		snprintf(r->svc_path[i], sizeof r->svc_path[i], "%s_%u", r->vsock, s->port);
		if (s->start(&r->loop, r->svc_path[i], &enc, &r->svc_state[i], e))
			return cr_err_wrap(e, "%s service", s->name);
	}
	return 0;
}

/* The guest console, on its way to stdout: every control character of it
 * shown escaped, so a guest cannot drive the terminal. */
static void console_drain(struct run *r)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(r->console_rd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) { /* QEMU is gone (or the pipe broke) */
				evloop_del(&r->loop, &r->console_src);
				close(r->console_rd);
				r->console_rd = -1;
			}
			break;
		}
		cr_term_feed(&r->console_term.t, buf, (size_t)n);
	}
	fflush(stdout);
}

static void on_console(struct evsrc *s, uint32_t events)
{
	(void)events;
	console_drain(EVLOOP_OWNER(s, struct run, console_src));
}

/* At teardown, once QEMU is gone: the rest of what it wrote, then the end
 * of the stream (an incomplete UTF-8 sequence is shown as bytes). */
static void console_close(struct run *r)
{
	if (r->console_rd < 0)
		return;
	console_drain(r);
	if (r->console_rd >= 0) {
		evloop_del(&r->loop, &r->console_src);
		close(r->console_rd);
		r->console_rd = -1;
	}
	cr_term_end(&r->console_term.t);
	fflush(stdout);
}

static int open_console(struct run *r, struct cr_err *e)
{
	const char *c = r->o.console;
	struct stat st;
	r->console_fd = -1;
	if (!c)
		c = r->o.json ? NULL : "-";
	if (!c)
		return 0;
	if (!strcmp(c, "-")) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return cr_failp(e, "console pipe");
		r->console_rd = p[0];
		r->console_fd = p[1];
		cr_term_file_init(&r->console_term, stdout, CR_TERM_MULTILINE | CR_TERM_CRLF);
		if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
			return cr_failp(e, "console pipe");
		return 0;
	}
	/* A file, a terminal, /dev/null, a pipe (--console >(tee log)): never
	 * blocking on a FIFO nobody reads (ENXIO), never a disk's raw device. */
	r->console_fd = open(c, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0644);
	if (r->console_fd < 0) {
		int err = errno;
		if (err == ENXIO && stat(c, &st) == 0 && S_ISFIFO(st.st_mode))
			return cr_fail(e, "--console %s: a FIFO that nothing reads", c);
		errno = err;
		return cr_failp(e, "--console %s", c);
	}
	if (fstat(r->console_fd, &st) < 0 || fcntl(r->console_fd, F_SETFL, 0) < 0)
		return cr_failp(e, "--console %s", c);
	if (S_ISBLK(st.st_mode))
		return cr_fail_code(e, CR_E_NOTREG, "--console %s is a block device, not a file or a terminal", c);
	return 0;
}

static int start(struct run *r, struct cr_err *e)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	struct itimerspec its = { .it_interval = { .tv_nsec = RUN_TICK_MS * 1000000L },
				  .it_value = { .tv_nsec = RUN_TICK_MS * 1000000L } };
	struct vsock_bridge_cfg bcfg = { .guest_cid = r->o.cid, .log = bridge_log };
	struct run_qemu_cfg q = { .machine = r->o.machine, .qemu = r->o.qemu, .cpus = r->o.cpus };
	struct run_qemu_argv *argv;
	char extra[128], *cmdline;
	size_t n, total;
	int rc;

	/* The image first: an aarch64 one chooses the machine (and its QEMU). */
	if (open_image(r, e))
		return -1;
	q.machine = r->o.machine;
	if (!q.qemu) {
		if (r->o.machine == RUN_MACHINE_NITRO) {
			if (cr_data_qemu_nitro(r->qemu_path, sizeof r->qemu_path, e))
				return cr_err_wrap(e, "--machine nitro-enclave");
			q.qemu = r->qemu_path;
		} else {
			q.qemu = r->o.machine == RUN_MACHINE_VIRT ? RUN_QEMU_DEFAULT_AARCH64 : RUN_QEMU_DEFAULT;
		}
	}
	if (r->o.machine == RUN_MACHINE_NITRO && run_random_module_id(r->module_id, e))
		return -1;
	if (extract_image(r, e) || open_console(r, e))
		return -1;
	if ((size_t)snprintf(r->vsock, sizeof r->vsock, "%s/vsock", r->o.vsock_dir ? r->o.vsock_dir : r->dir) >=
	    sizeof r->vsock)
		return cr_fail(e, "--vsock-dir: path too long");
	snprintf(r->hb_path, sizeof r->hb_path, "%s_%d", r->vsock, RUN_HEARTBEAT_PORT);
	/* Sockets left by a run that was killed outright would block this one. */
	unix_sock_remove_stale(r->vsock);
	unix_sock_remove_stale(r->hb_path);
	if (evloop_init(&r->loop, e) ||
	    evloop_add_signals(&r->loop, &r->sig_src, sigs, (int)(sizeof sigs / sizeof sigs[0]), on_signal,
			       &r->old_mask, e))
		return -1;
	r->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (r->tick_fd < 0 || timerfd_settime(r->tick_fd, 0, &its, NULL))
		return cr_failp(e, "timerfd");
	if (evloop_add(&r->loop, &r->tick_src, r->tick_fd, EPOLLIN, on_tick, e) ||
	    evloop_add_hook(&r->loop, after_batch, r, e))
		return -1;
	if (r->console_rd >= 0 && evloop_add(&r->loop, &r->console_src, r->console_rd, EPOLLIN, on_console, e))
		return -1;
	bcfg.uds_path = r->vsock;
	bcfg.vhost_path = r->vhost;
	/* Listeners first: the guest may dial port 9000 early in boot. */
	if (vsock_bridge_start(&r->br, &r->loop, &bcfg, e) || run_heartbeat_listen(&r->hb, &r->loop, r->hb_path, e) ||
	    start_services(r, e))
		return -1;

	if (r->o.machine == RUN_MACHINE_VIRT
		    ? run_cmdline_extra_virt((const char *)r->img.cmdline_data, extra, sizeof extra, e)
		    : run_cmdline_extra((const char *)r->img.cmdline_data, run_host_tsc_khz(), extra, sizeof extra, e))
		return -1;
	total = strlen((const char *)r->img.cmdline_data) + (extra[0] ? 1 + strlen(extra) : 0);
	if (total > RUN_CMDLINE_MAX)
		return cr_fail(e, "kernel cmdline: %zu bytes with run's additions (\"%s\"); the kernel takes %d", total,
			       extra, RUN_CMDLINE_MAX);
	n = total + 1;
	cmdline = malloc(n);
	argv = malloc(sizeof *argv);
	if (!cmdline || !argv) {
		free(cmdline);
		free(argv);
		return cr_fail(e, "out of memory");
	}
	if (r->o.machine == RUN_MACHINE_NITRO) /* QEMU appends -append to the EIF's own */
		snprintf(cmdline, n, "%s", extra);
	else
		snprintf(cmdline, n, "%s%s%s", (const char *)r->img.cmdline_data, extra[0] ? " " : "", extra);
	q.memory_mib = r->o.memory_mib; /* known once the image is open */
	q.kernel = r->kernel;
	q.initrd = r->initrd;
	q.cmdline = cmdline;
	q.vhost_socket = r->vhost;
	q.eif = r->o.eif;
	q.module_id = r->module_id;
	q.tmpdir = r->qtmp;
	rc = run_qemu_build_argv(&q, argv, e);
	if (!rc) {
		r->t0_ms = cr_mono_ms();
		rc = run_qemu_spawn(argv, r->console_fd, &r->old_mask, &r->qemu, e);
	}
	if (r->console_rd >= 0 && r->console_fd >= 0) {
		/* only QEMU writes the pipe: its end is the console's EOF */
		close(r->console_fd);
		r->console_fd = -1;
	}
	free(cmdline);
	free(argv);
	if (rc)
		return -1;
	r->hb_deadline_ms = r->t0_ms + r->o.hb_timeout_s * 1000;
	r->deadline_ms = r->o.timeout_s ? r->t0_ms + r->o.timeout_s * 1000 : 0;
	if (!r->o.json)
		cr_tprintf(stderr,
			   "cleanroom run: booting %s (%s, CID %llu, %u MiB, %u vCPUs, QEMU pid %d); host socket %s\n",
			   r->o.eif, run_machine_name(r->o.machine), (unsigned long long)r->o.cid, r->o.memory_mib,
			   r->o.cpus, (int)r->qemu, r->vsock);
	return 0;
}

/* ------------------------------------------------------------ teardown */

/* SIGTERM to QEMU while the loop keeps serving the vhost-user socket (QEMU
 * stops the vsock device on its way out and waits for our answers); the
 * SIGCHLD handler reaps it. SIGKILL if it is still there after the grace. */
static void stop_qemu(struct run *r)
{
	uint64_t until = cr_mono_ms() + QEMU_GRACE_MS;
	struct cr_err e;
	if (r->qemu <= 0)
		return;
	kill(r->qemu, SIGTERM);
	while (r->qemu > 0 && r->loop.epfd >= 0 && cr_mono_ms() < until)
		if (evloop_run_once(&r->loop, 50, &e))
			break;
	if (r->qemu > 0) {
		r->qemu_status = run_qemu_kill(r->qemu);
		r->qemu = 0;
	}
}

/* What QEMU left in its TMPDIR (it deletes the unpacked EIF parts once
 * loaded; a QEMU killed early may not have). Plain files only. */
static void remove_qtmp(struct run *r)
{
	DIR *d = opendir(r->qtmp);
	struct dirent *de;
	char p[600];
	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
				snprintf(p, sizeof p, "%s/%s", r->qtmp, de->d_name);
				unlink(p);
			}
		closedir(d);
	}
	if (rmdir(r->qtmp) != 0)
		cr_tprintf(stderr, "cleanroom run: warning: %s: %s (left in place)\n", r->qtmp, strerror(errno));
}

static void teardown(struct run *r)
{
	stop_qemu(r);
	console_close(r);
	for (size_t i = 0; i < RUN_SERVICES; i++)
		if (run_service_table[i] && r->svc_state[i])
			run_service_table[i]->stop(r->svc_state[i]);
	run_heartbeat_close(&r->hb);
	vsock_bridge_stop(r->br);
	r->br = NULL;
	if (r->tick_fd >= 0)
		close(r->tick_fd);
	if (r->sig_src.registered)
		close(r->sig_src.fd);
	evloop_free(&r->loop);
	sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	if (r->console_fd >= 0)
		close(r->console_fd);
	if (r->made_dir) {
		unlink(r->kernel);
		unlink(r->initrd);
		if (r->made_qtmp)
			remove_qtmp(r);
		unlink(r->vhost);
		if (!r->o.vsock_dir)
			unlink(r->vsock);
		if (rmdir(r->dir) != 0)
			cr_tprintf(stderr, "cleanroom run: warning: %s: %s (left in place)\n", r->dir, strerror(errno));
	}
	if (r->img_open)
		eif_close(&r->img);
}

static int report_end(struct run *r)
{
	uint64_t t = cr_mono_ms() - r->t0_ms;
	int code = r->end == END_POWEROFF ? 0 : 1, st = r->qemu_status;
	char why[512] = "";

	switch (r->end) {
	case END_POWEROFF:
		snprintf(why, sizeof why, "the enclave ended (rebooted or powered off) after %.2f s",
			 (double)t / 1000.0);
		break;
	case END_SIGNAL:
		snprintf(why, sizeof why, "stopped by %s; the enclave was shut down", strsignal(r->end_signal));
		break;
	case END_TIMEOUT:
		snprintf(why, sizeof why, "--timeout %llu s reached; the enclave was shut down",
			 (unsigned long long)r->o.timeout_s);
		break;
	case END_HB_TIMEOUT:
		snprintf(why, sizeof why,
			 "no heartbeat within %llu s: the enclave must connect to CID 3 port %d and send 0x%02X "
			 "(its init does this once booted; see the console); the enclave was shut down",
			 (unsigned long long)r->o.hb_timeout_s, RUN_HEARTBEAT_PORT, RUN_HEARTBEAT_BYTE);
		break;
	case END_HB_BAD: snprintf(why, sizeof why, "%s; the enclave was shut down", r->hb.err.msg); break;
	case END_QEMU_EXIT:
	case END_NONE:
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			snprintf(why, sizeof why,
				 "the enclave ended (rebooted or powered off) before its heartbeat (after %.2f s)",
				 (double)t / 1000.0);
		else if (WIFEXITED(st))
			snprintf(why, sizeof why, "QEMU exited with status %d%s (its message is above)",
				 WEXITSTATUS(st), r->hb.done ? "" : " before the heartbeat");
		else
			snprintf(why, sizeof why, "QEMU was killed by %s", strsignal(WTERMSIG(st)));
		break;
	}
	if (r->o.json) {
		struct cr_buf b;
		struct json_w w;
		struct cr_err e;
		cr_buf_init(&b, 4096);
		jw_init(&w, &b, 0);
		jw_obj_begin(&w);
		jw_kstr(&w, "event", "exit");
		jw_kstr(&w, "result", end_names[r->end]);
		jw_ku64(&w, "exit_code", (uint64_t)code);
		jw_kstr(&w, "message", why);
		jw_kbool(&w, "heartbeat", r->hb.done);
		if (r->hb_ms) {
			jw_key(&w, "boot_to_heartbeat_ms");
			jw_u64(&w, r->hb_ms - r->t0_ms);
		}
		jw_ku64(&w, "runtime_ms", t);
		jw_obj_end(&w);
		jw_print(&w, &e);
		cr_buf_free(&b);
	}
	if (code || !r->o.json)
		cr_tprintf(stderr, "cleanroom run: %s\n", why);
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct run r;
	struct cr_err e = { 0 };
	int rc;

	memset(&r, 0, sizeof r);
	r.tick_fd = r.console_fd = r.console_rd = -1;
	r.loop.epfd = -1;
	sigprocmask(SIG_SETMASK, NULL, &r.old_mask);
	rc = parse_opts(argc, argv, &r.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (r.o.vsock_dir && !is_dir(r.o.vsock_dir)) {
		cr_tprintf(stderr, "cleanroom run: --vsock-dir %s: not an existing directory\n", r.o.vsock_dir);
		return 2;
	}
	if (r.o.nsm_ca && !is_dir(r.o.nsm_ca)) {
		cr_tprintf(stderr, "cleanroom run: --nsm-ca %s: not an existing directory\n", r.o.nsm_ca);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (start(&r, &e)) {
		cr_tprintf(stderr, "cleanroom run: %s\n", e.msg);
		teardown(&r);
		return 1;
	}
	if (evloop_run(&r.loop, &e)) {
		cr_tprintf(stderr, "cleanroom run: %s\n", e.msg);
		r.end = END_QEMU_EXIT;
	}
	teardown(&r);
	return report_end(&r);
}
