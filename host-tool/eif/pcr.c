#include "host-tool/eif/pcr.h"

#include <bearssl.h>
#include <string.h>
#include <time.h>

#include "base/digest.h"
#include "base/thread.h"

void pcr_from_digest(const uint8_t digest[CR_PCR_LEN], uint8_t out[CR_PCR_LEN])
{
	static const uint8_t zero[CR_PCR_LEN];
	br_sha384_context c;
	br_sha384_init(&c);
	br_sha384_update(&c, zero, sizeof zero);
	br_sha384_update(&c, digest, CR_PCR_LEN);
	br_sha384_out(&c, out);
}

void pcr_of_bytes(const void *data, size_t n, uint8_t out[CR_PCR_LEN])
{
	uint8_t d[CR_PCR_LEN];
	br_sha384_context c;
	br_sha384_init(&c);
	br_sha384_update(&c, data, n);
	br_sha384_out(&c, d);
	pcr_from_digest(d, out);
}

/* Worker 0 hashes PCR0; worker 1 hashes PCR1 and PCR2 (disjoint inputs). */
static void *worker(void *arg)
{
	struct pcr_hasher *h = ((struct pcr_worker_arg *)arg)->h;
	int id = ((struct pcr_worker_arg *)arg)->id;
	uint64_t next = 0, busy = 0, t0;
	struct timespec cpu;
	for (;;) {
		struct pcr_job job;
		pthread_mutex_lock(&h->mu);
		while (next == h->submitted && !h->stop)
			pthread_cond_wait(&h->cv, &h->mu);
		if (next == h->submitted) { /* stop requested and queue drained */
			h->busy_ns[id] = busy;
			if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
				h->cpu_ns[id] = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		job = h->q[next % PCR_QUEUE];
		pthread_mutex_unlock(&h->mu);

		t0 = cr_mono_ns();
		if (id == 0) {
			if (job.mask & PCR_MASK_0)
				bulk_sha384_update(&h->ctx0, job.p, job.n);
		} else {
			if (job.mask & PCR_MASK_1)
				bulk_sha384_update(&h->ctx1, job.p, job.n);
			if (job.mask & PCR_MASK_2)
				bulk_sha384_update(&h->ctx2, job.p, job.n);
		}
		busy += cr_mono_ns() - t0;

		pthread_mutex_lock(&h->mu);
		h->done[id] = ++next;
		pthread_cond_broadcast(&h->cv);
		pthread_mutex_unlock(&h->mu);
	}
}

int pcr_hasher_start(struct pcr_hasher *h, struct cr_err *e)
{
	memset(h, 0, sizeof *h);
	bulk_sha384_init(&h->ctx0);
	bulk_sha384_init(&h->ctx1);
	bulk_sha384_init(&h->ctx2);
	h->impl = bulk_sha384_impl(&h->ctx0);
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	for (int i = 0; i < 2; i++) {
		h->arg[i].h = h;
		h->arg[i].id = i;
		if (cr_thread_start(&h->th[i], worker, &h->arg[i])) {
			/* Stop the one already running. */
			if (i == 1) {
				pthread_mutex_lock(&h->mu);
				h->stop = 1;
				pthread_cond_broadcast(&h->cv);
				pthread_mutex_unlock(&h->mu);
				pthread_join(h->th[0], NULL);
			}
			bulk_sha384_free(&h->ctx0);
			bulk_sha384_free(&h->ctx1);
			bulk_sha384_free(&h->ctx2);
			return cr_fail(e, "cannot start the hashing threads");
		}
	}
	h->started = 1;
	return 0;
}

uint64_t pcr_hasher_submit(struct pcr_hasher *h, unsigned mask, const void *p, size_t n)
{
	uint64_t ticket;
	pthread_mutex_lock(&h->mu);
	while (h->submitted - (h->done[0] < h->done[1] ? h->done[0] : h->done[1]) >= PCR_QUEUE)
		pthread_cond_wait(&h->cv, &h->mu);
	h->q[h->submitted % PCR_QUEUE] = (struct pcr_job){ p, n, mask };
	ticket = ++h->submitted;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	return ticket;
}

void pcr_hasher_wait(struct pcr_hasher *h, uint64_t ticket)
{
	pthread_mutex_lock(&h->mu);
	while (h->done[0] < ticket || h->done[1] < ticket)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

int pcr_hasher_finish(struct pcr_hasher *h, struct eif_pcrs *out, struct cr_err *e)
{
	uint8_t d0[CR_PCR_LEN], d1[CR_PCR_LEN], d2[CR_PCR_LEN];
	int bad;
	pthread_mutex_lock(&h->mu);
	h->stop = 1;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->started)
		for (int i = 0; i < 2; i++)
			pthread_join(h->th[i], NULL);
	h->started = 0;
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	/* Each out() releases its context, so call all three. */
	bad = bulk_sha384_out(&h->ctx0, d0);
	bad |= bulk_sha384_out(&h->ctx1, d1);
	bad |= bulk_sha384_out(&h->ctx2, d2);
	if (bad)
		return cr_fail(e, "SHA-384 of the image failed (libcrypto)");
	pcr_from_digest(d0, out->pcr0);
	pcr_from_digest(d1, out->pcr1);
	pcr_from_digest(d2, out->pcr2);
	return 0;
}
