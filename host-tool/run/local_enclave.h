/* An enclave image booted locally for one job: `cleanroom run FILE.eif
 * --json` as a child process (so the build client and the runner stay two
 * programs with one interface), its ready event read for the vsock path and the mock NSM's root,
 * and stopped with SIGTERM afterwards. The serial console goes to a file
 * whose tail explains a failed boot. */
#ifndef CLEANROOM_LOCAL_ENCLAVE_H
#define CLEANROOM_LOCAL_ENCLAVE_H

#include <stdint.h>
#include <sys/types.h>

#include "base/digest.h"
#include "base/util.h"

struct local_enclave {
	pid_t pid;
	int out_fd;     /* run's stdout (JSON lines) */
	char dir[4096]; /* private directory: console log */
	char console[4096];
	char runlog[4096];   /* run's stderr */
	char vsock[4096];    /* host socket of the guest's vsock */
	char nsm_root[4096]; /* the mock NSM's root certificate (PEM): what its documents chain to */
	int have_pcrs;
	uint8_t pcr[3][CR_PCR_LEN]; /* PCR0/1/2 of the EIF, as run measured it before booting it */
};

/* machine NULL: run's default (microvm), else run's --machine (validated
 * by run); memory_mib 0: run's default; nsm_ca NULL: a CA made for this run only
 * (else run's --nsm-ca DIR, kept for later verification). Waits up to boot_timeout_s for the ready
 * event; on failure the run is stopped and e names why (with the console's
 * last line when there is one). */
int local_enclave_start(struct local_enclave *l, const char *eif, const char *machine, unsigned memory_mib,
			const char *nsm_ca, int boot_timeout_s, struct cr_err *e);
/* Stop the run (if still going), remove the private directory. */
void local_enclave_stop(struct local_enclave *l);
/* The console's last n lines, for error reports (empty if none), escaped
 * (term.h; its \r\n line ends as \n). */
void local_enclave_console_tail(const struct local_enclave *l, char *out, size_t cap, int lines);

#endif
