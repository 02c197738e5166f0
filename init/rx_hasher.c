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
	switch (j->kind) {
	case RX_JOB_BEGIN:
		blob_begin(&h->blob, j->size);
		free(h->path);
		h->path = j->path;
		h->mode = j->mode;
		j->path = NULL;
		break;
	case RX_JOB_DATA:
		blob_update(&h->blob, j->p, j->n);
		free(j->frame);
		break;
	case RX_JOB_END: {
		uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
		blob_end(&h->blob, h1, h256);
		lock(h);
		if (h->path && tree_add(h->tree, h->path, h->mode, h1, h256, &e))
			set_failed(h, &e);
		unlock(h);
		free(h->path);
		h->path = NULL;
		break;
	}
	}
}

static void *hash_thread(void *arg)
{
	struct rx_hasher *h = arg;
	for (;;) {
		struct rx_job j;
		pthread_mutex_lock(&h->mu);
		while (!h->count && !h->stop)
			pthread_cond_wait(&h->not_empty, &h->mu);
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
	if (h->count++ == 0) /* the hasher may be asleep */
		pthread_cond_signal(&h->not_empty);
	pthread_mutex_unlock(&h->mu);
}

void rx_hasher_begin(struct rx_hasher *h, const char *path, unsigned mode, uint64_t size)
{
	struct rx_job j;
	memset(&j, 0, sizeof j);
	j.kind = RX_JOB_BEGIN;
	j.path = strdup(path); /* NULL when out of memory: reported at END */
	j.mode = mode;
	j.size = size;
	if (!j.path) {
		struct cr_err e;
		cr_fail(&e, "'%s': out of memory", path);
		lock(h);
		set_failed(h, &e);
		unlock(h);
	}
	submit(h, &j);
}

void rx_hasher_data(struct rx_hasher *h, struct wire_msg *m)
{
	struct rx_job j;
	memset(&j, 0, sizeof j);
	j.kind = RX_JOB_DATA;
	j.frame = m->frame;
	j.p = m->u.data.p;
	j.n = m->u.data.n;
	m->frame = NULL; /* the job owns the frame now */
	submit(h, &j);
}

void rx_hasher_end(struct rx_hasher *h)
{
	struct rx_job j;
	memset(&j, 0, sizeof j);
	j.kind = RX_JOB_END;
	submit(h, &j);
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
	if (h->failed) {
		*e = h->err;
		return -1;
	}
	return 0;
}
