/* Host services `cleanroom run` starts next to a local enclave: each one
 * listens on the Unix socket "<vsock>_<port>", i.e. on vsock port <port> of
 * the parent (CID 3) and the host (CID 2) as the guest sees it, inside the
 * run's event loop, before QEMU starts; it is stopped after QEMU is gone.
 *
 * The one service is the host NSM model (host-tool/run/nsm_model.h,
 * nsm_service.c): the guest shim nsm.ko (kernel-config/nsm-shim/README.md) connects to
 * port 9100 once per /dev/nsm ioctl and sends a 4-byte big-endian length +
 * raw CBOR request; the model answers with a 4-byte big-endian length + raw
 * CBOR response. Its PCR0/1/2 start as the EIF's measurements
 * (run_enclave.pcrs), PCRs 0..15 are locked, and it signs attestation
 * documents with the test CA in run_enclave.nsm_ca_dir (or one made at
 * start in run_enclave.run_dir when NULL). */
#ifndef CLEANROOM_RUN_SERVICES_H
#define CLEANROOM_RUN_SERVICES_H

#include <stdint.h>

#include "host-tool/run/evloop.h"
#include "base/json.h"
#include "host-tool/eif/pcr.h"
#include "base/util.h"

#define RUN_BOOT_ID_LEN 16 /* bytes of a boot id (struct run_enclave) */

/* What a service may know about the enclave it serves. */
struct run_enclave {
	const char *eif_path;
	const struct eif_pcrs *pcrs; /* PCR0/1/2 (and PCR8 when signed) of the EIF */
	uint64_t cid;                /* the guest's CID */
	const char *nsm_ca_dir;      /* --nsm-ca DIR, or NULL */
	const char *run_dir;         /* the run's private directory (removed at the end) */
	/* Random for each boot, so that every boot is its own enclave (its own
	 * module id), as on Nitro: the same image on the same CID twice is two
	 * enclaves, not one. */
	uint8_t boot_id[RUN_BOOT_ID_LEN];
};

struct run_service {
	const char *name;
	uint32_t port;
	/* Listen on listen_path (it does not exist yet) and serve from loop.
	 * *state is passed back to stop. -1 with e aborts the run. */
	int (*start)(struct evloop *loop, const char *listen_path, const struct run_enclave *enc, void **state,
		     struct cr_err *e);
	/* Close every socket, remove listen_path (and anything the service put
	 * in run_dir), free state. */
	void (*stop)(void *state);
	/* Optional: what the user should know once the enclave is ready: keys
	 * added to the {"event":"ready"} line (--json), or, with w == NULL,
	 * lines printed on stderr. */
	void (*ready)(void *state, struct json_w *w);
};

#endif
