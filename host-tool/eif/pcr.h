/* PCR measurement of enclave images, as Nitro computes it:
 *
 *     PCRx = SHA384(48 zero bytes || SHA384(content_x))
 *     content_PCR0 = kernel || cmdline || ramdisk0 || ... || ramdiskN
 *     content_PCR1 = kernel || cmdline || ramdisk0
 *     content_PCR2 = ramdisk1 || ... || ramdiskN
 *     content_PCR8 = DER of the signing certificate
 *
 * The big customer ramdisk feeds both PCR0 and PCR2, so it must be hashed
 * twice. pcr_hasher runs two worker threads — one for PCR0, one for PCR1 and
 * PCR2, whose inputs are disjoint — so each byte is hashed once per thread
 * and the two hashes run in parallel with the caller's I/O. They hash with
 * bulk_sha384 (libcrypto's assembly when present, see bulk_sha384.h).
 *
 * Jobs reference caller memory without copying: the memory of a job must stay
 * unchanged until pcr_hasher_wait() has returned for its ticket (or until
 * pcr_hasher_finish()). */
#ifndef CLEANROOM_PCR_H
#define CLEANROOM_PCR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"
#include "host-tool/eif/bulk_sha384.h"

#define PCR_MASK_0 1u
#define PCR_MASK_1 2u
#define PCR_MASK_2 4u

struct eif_pcrs {
	uint8_t pcr0[CR_PCR_LEN], pcr1[CR_PCR_LEN], pcr2[CR_PCR_LEN], pcr8[CR_PCR_LEN];
	int has_pcr8;
};

#define PCR_QUEUE 64

struct pcr_job {
	const uint8_t *p;
	size_t n;
	unsigned mask;
};

struct pcr_hasher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pcr_job q[PCR_QUEUE];
	uint64_t submitted; /* jobs ever submitted */
	uint64_t done[2];   /* jobs completed by worker 0 (PCR0) and 1 (PCR1/2) */
	int stop;
	pthread_t th[2];
	struct pcr_worker_arg {
		struct pcr_hasher *h;
		int id;
	} arg[2];
	int started;
	struct bulk_sha384 ctx0, ctx1, ctx2;
	/* Per worker: time spent hashing (wall) and the thread's CPU time. */
	uint64_t busy_ns[2], cpu_ns[2];
	const char *impl; /* the SHA-384 in use (bulk_sha384_impl) */
};

/* Start the workers. -1 with e if threads cannot be created. */
int pcr_hasher_start(struct pcr_hasher *h, struct cr_err *e);
/* Queue n bytes at p for the PCRs in mask; returns the job's ticket (>= 1).
 * Blocks while the queue is full. A zero mask or n is allowed (no-op job). */
uint64_t pcr_hasher_submit(struct pcr_hasher *h, unsigned mask, const void *p, size_t n);
/* Wait until every job up to and including ticket is hashed by all workers. */
void pcr_hasher_wait(struct pcr_hasher *h, uint64_t ticket);
/* Drain, stop the workers and produce PCR0/1/2 (pcr8 untouched). -1 with e
 * if the hash library failed (out is then unset). Call it once per start,
 * also on error paths (it releases the contexts). */
int pcr_hasher_finish(struct pcr_hasher *h, struct eif_pcrs *out, struct cr_err *e);

/* SHA384(48 zero bytes || SHA384(data)): one extend of a zeroed register. */
void pcr_of_bytes(const void *data, size_t n, uint8_t out[CR_PCR_LEN]);
/* Same, from a content digest already computed. */
void pcr_from_digest(const uint8_t digest[CR_PCR_LEN], uint8_t out[CR_PCR_LEN]);

#endif
