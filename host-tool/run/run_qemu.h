/* QEMU for `cleanroom run`: the command line (microvm, TCG, guest RAM
 * shared for the vhost-user vsock back-end), the unmeasured additions to
 * the kernel command line, and starting/stopping the process. */
#ifndef CLEANROOM_RUN_QEMU_H
#define CLEANROOM_RUN_QEMU_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/util.h"

#define RUN_QEMU_DEFAULT "qemu-system-x86_64"
#define RUN_QEMU_DEFAULT_AARCH64 "qemu-system-aarch64"
#define RUN_QEMU_MAX_ARGS 48
/* x86 COMMAND_LINE_SIZE is 2048 including the NUL. */
#define RUN_CMDLINE_MAX 2047

/* The QEMU machine `run` boots. */
enum run_machine {
	RUN_MACHINE_MICROVM, /* the EIF's parts as -kernel/-initrd; the mock NSM (nsm.ko) */
	RUN_MACHINE_NITRO,   /* upstream QEMU's nitro-enclave: -kernel FILE.eif; its own virtio-nsm */
	RUN_MACHINE_VIRT,    /* aarch64 images: QEMU's arm virt, otherwise as microvm */
};
#define RUN_MACHINE_NAMES "microvm | nitro-enclave | virt"
/* "microvm" / "nitro-enclave" -> 0 and *m; anything else -1. */
int run_machine_parse(const char *s, enum run_machine *m);
const char *run_machine_name(enum run_machine m);

/* A module id in AWS's form: "i-" 16 hex "-enc" 16 hex (random). */
#define RUN_MODULE_ID_LEN 41
int run_random_module_id(char out[RUN_MODULE_ID_LEN + 1], struct cr_err *e);

struct run_qemu_cfg {
	enum run_machine machine;
	const char *qemu;   /* binary (PATH is searched) */
	const char *kernel; /* microvm: files extracted from the EIF */
	const char *initrd;
	const char *eif;          /* nitro-enclave: the EIF itself */
	const char *module_id;    /* nitro-enclave: the machine's id= (DescribeNSM module_id) */
	const char *tmpdir;       /* nitro-enclave: QEMU's TMPDIR (where it unpacks the EIF) */
	const char *cmdline;      /* microvm, virt: EIF cmdline + run_cmdline_extra();
				   * nitro-enclave: run_cmdline_extra() only (-append, after the EIF's) */
	const char *vhost_socket; /* the vsock bridge's vhost-user socket */
	unsigned memory_mib, cpus;
};

/* argv for QEMU; strings live in `store`. NULL-terminated. */
struct run_qemu_argv {
	char *argv[RUN_QEMU_MAX_ARGS];
	int argc;
	char store[8192];
	size_t used;
	char tmpdir[4096]; /* "" or TMPDIR for QEMU's environment */
};

int run_qemu_build_argv(const struct run_qemu_cfg *c, struct run_qemu_argv *a, struct cr_err *e);

/* What `run` appends to the EIF's kernel command line, none of it measured
 * (as QEMU's nitro-enclave machine appends -append): tsc_early_khz=<host
 * TSC kHz> (microvm has no other early clock; under TCG a busy host can
 * otherwise stall early TSC calibration), console=ttyS0 when the EIF
 * names no console, and reboot=t when the EIF asks for another reboot
 * method (microvm has no keyboard controller for nitro-cli's reboot=k; the
 * last reboot= wins). tsc_khz 0 leaves it out. Writes "" when nothing is
 * needed. */
int run_cmdline_extra(const char *eif_cmdline, unsigned long tsc_khz, char *out, size_t n, struct cr_err *e);
/* The same for the virt machine (aarch64): console=ttyAMA0, virt's PL011
 * serial port, unless the EIF names that console already. nitro-cli's
 * console=ttyS0 stays (on Graviton it is the enclave's console); the last
 * console= is where /dev/console goes. */
int run_cmdline_extra_virt(const char *eif_cmdline, char *out, size_t n, struct cr_err *e);
/* The host TSC frequency in kHz, measured against CLOCK_MONOTONIC (the
 * guest TSC under TCG is the host's); 0 when it cannot be measured. */
unsigned long run_host_tsc_khz(void);

/* Fork and exec QEMU: stdin /dev/null, stdout = console_fd (the serial
 * console; -1 for /dev/null), stderr inherited; its own process group (a
 * terminal's Ctrl-C reaches only us; we stop QEMU); killed by the kernel if
 * we die (PR_SET_PDEATHSIG); signal mask `mask` restored. An exec failure
 * is reported here, not as an exit status. */
int run_qemu_spawn(const struct run_qemu_argv *a, int console_fd, const sigset_t *mask, pid_t *pid, struct cr_err *e);
/* SIGKILL and reap; returns the wait status. (A polite stop is SIGTERM
 * while the event loop keeps running: QEMU's shutdown talks to the vsock
 * back-end, which lives in that loop.) */
int run_qemu_kill(pid_t pid);

#endif
