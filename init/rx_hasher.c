#include "init/rx_hasher.h"

#include <stdlib.h>
#include <string.h>

#include "base/thread.h"

static void lock(struct rx_hasher *h)
{
	if (h->threaded)
		pthread_mutex_lock(&h->mu);
}

static void unlock(struct rx_hasher *h)
{
	if (h->threaded)
		pthread_mutex_unlock(&h->mu);
}

/* Under the lock. */
static void set_failed(struct rx_hasher *h, const struct cr_err *e)
{
	if (!h->failed) {
		h->failed = 1;
		h->err = *e;
	}
}

/* One job, on whichever thread hashes. Frees what the job owns. */
static void run_job(struct rx_hasher *h, struct rx_job *j)
{
	struct cr_err e;
	if (j->begin) {
		h->caller_sha1 = j->caller_sha1;
		blob_begin_ids(&h->blob, j->size, h->caller_sha1 ? BLOB_SHA256 : BLOB_SHA1 | BLOB_SHA256);
		free(h->path);
		h->path = j->path;
		h->mode = j->mode;
		j->path = NULL;
	}
	if (j->frame) {
		blob_update(&h->blob, j->p, j->n);
		wire_frame_release(j->frame, j->pool);
		j->frame = NULL;
	}
	if (j->end) {
		uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
		blob_end(&h->blob, h1, h256);
		if (h->caller_sha1)
			memcpy(h1, j->sha1, sizeof h1);
		lock(h);
		if (h->path && tree_add(h->tree, h->path, h->mode, h1, h256, &e))
			set_failed(h, &e);
		unlock(h);
		free(h->path);
		h->path = NULL;
	}
}

static void *hash_thread(void *arg)
{
	struct rx_hasher *h = arg;
	for (;;) {
		struct rx_job j;
		pthread_mutex_lock(&h->mu);
		while (!h->count && !h->stop) {
			h->idle = 1;
			h->idle_bytes = 0;
			pthread_cond_wait(&h->not_empty, &h->mu);
		}
		h->idle = 0;
		if (!h->count) { /* stopped and drained */
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		j = h->q[h->head];
		pthread_mutex_unlock(&h->mu);
		run_job(h, &j);
		pthread_mutex_lock(&h->mu);
		/* The slot is released only now: the queue bounds what is in
		 * flight. Wake the receiver only if it waits for room. */
		h->head = (h->head + 1) % RX_HASH_QUEUE;
		if (h->count-- == RX_HASH_QUEUE)
			pthread_cond_signal(&h->not_full);
		pthread_mutex_unlock(&h->mu);
	}
}

void rx_hasher_start(struct rx_hasher *h, struct tree_hasher *tree)
{
	memset(h, 0, sizeof *h);
	h->tree = tree;
	h->help_at = RX_HASH_HELP_AT;
	if (pthread_mutex_init(&h->mu, NULL))
		return;
	if (pthread_cond_init(&h->not_empty, NULL)) {
		pthread_mutex_destroy(&h->mu);
		return;
	}
	if (pthread_cond_init(&h->not_full, NULL)) {
		pthread_cond_destroy(&h->not_empty);
		pthread_mutex_destroy(&h->mu);
		return;
	}
	/* Signals stay with PID 1's own thread (cr_thread_start). */
	h->threaded = cr_thread_start(&h->th, hash_thread, h) == 0;
	if (!h->threaded) {
		pthread_cond_destroy(&h->not_full);
		pthread_cond_destroy(&h->not_empty);
		pthread_mutex_destroy(&h->mu);
	}
}

_Static_assert(RX_HASH_WAKE_JOBS <= RX_HASH_QUEUE, "an idle hasher must be woken before the queue is full");

static void submit(struct rx_hasher *h, struct rx_job *j)
{
	if (!h->threaded) {
		run_job(h, j);
		return;
	}
	pthread_mutex_lock(&h->mu);
	while (h->count == RX_HASH_QUEUE)
		pthread_cond_wait(&h->not_full, &h->mu);
	h->q[(h->head + h->count) % RX_HASH_QUEUE] = *j;
	h->count++;
	/* An idle hasher is woken for a batch, not for each small file: a
	 * wake-up is a system call here and an interrupt on the other vCPU,
	 * which costs more than hashing a small file. Waiting for the batch
	 * cannot stall: the hasher goes idle only with the queue empty, so the
	 * batch's wake-up comes before the queue can fill (RX_HASH_WAKE_JOBS
	 * <= RX_HASH_QUEUE, asserted below), and rx_hasher_finish wakes it
	 * for the rest. */
	h->idle_bytes += j->n;
	if (h->idle && (h->count >= RX_HASH_WAKE_JOBS || h->idle_bytes >= RX_HASH_WAKE_BYTES)) {
		h->idle = 0;
		h->idle_bytes = 0;
		pthread_cond_signal(&h->not_empty);
	}
	pthread_mutex_unlock(&h->mu);
}

int rx_hasher_begin(struct rx_hasher *h, const char *path, unsigned mode, uint64_t size)
{
	struct rx_job *j = &h->next;
	memset(j, 0, sizeof *j);
	j->begin = 1;
	j->path = strdup(path); /* NULL when out of memory: reported at the end */
	j->mode = mode;
	j->size = size;
	if (!j->path) {
		struct cr_err e;
		cr_fail(&e, "'%s': out of memory", path);
		lock(h);
		set_failed(h, &e);
		unlock(h);
	}
	if (h->threaded) {
		/* The hasher is behind: this file's SHA-1 is the caller's. */
		pthread_mutex_lock(&h->mu);
		j->caller_sha1 = h->count >= h->help_at;
		pthread_mutex_unlock(&h->mu);
	}
	return j->caller_sha1;
}

/* Move the frame of m (if any) into the job being put together. */
static void take_frame(struct rx_job *j, struct wire_msg *m)
{
	if (!m)
		return;
	j->frame = m->frame;
	j->pool = m->frame_pool;
	j->p = m->u.data.p;
	j->n = m->u.data.n;
	m->frame = NULL; /* the job owns the frame now */
	m->frame_pool = NULL;
}

void rx_hasher_data(struct rx_hasher *h, struct wire_msg *m)
{
	take_frame(&h->next, m);
	submit(h, &h->next);
	memset(&h->next, 0, sizeof h->next);
}

void rx_hasher_end(struct rx_hasher *h, struct wire_msg *last, const uint8_t *sha1)
{
	struct rx_job *j = &h->next;
	take_frame(j, last);
	j->end = 1;
	if (sha1)
		memcpy(j->sha1, sha1, sizeof j->sha1);
	submit(h, j);
	memset(j, 0, sizeof *j);
}

int rx_hasher_add(struct rx_hasher *h, const char *path, unsigned mode, const uint8_t sha1[CR_SHA1_LEN],
		  const uint8_t sha256[CR_SHA256_LEN], struct cr_err *e)
{
	int rc;
	lock(h);
	rc = tree_add(h->tree, path, mode, sha1, sha256, e);
	unlock(h);
	return rc;
}

int rx_hasher_failed(struct rx_hasher *h, struct cr_err *e)
{
	int f;
	lock(h);
	f = h->failed;
	if (f)
		*e = h->err;
	unlock(h);
	return f;
}

int rx_hasher_finish(struct rx_hasher *h, struct cr_err *e)
{
	if (h->threaded) {
		pthread_mutex_lock(&h->mu);
		h->stop = 1;
		pthread_cond_signal(&h->not_empty);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->th, NULL);
		pthread_cond_destroy(&h->not_full);
		pthread_cond_destroy(&h->not_empty);
		pthread_mutex_destroy(&h->mu);
		h->threaded = 0;
	}
	free(h->path);
	h->path = NULL;
	free(h->next.path);
	wire_frame_release(h->next.frame, h->next.pool);
	memset(&h->next, 0, sizeof h->next);
	if (h->failed) {
		*e = h->err;
		return -1;
	}
	return 0;
}
