#include "host-tool/eif/bg_sync.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/thread.h"
#include "base/util.h"

static void *bg_sync_main(void *arg)
{
	struct bg_sync *b = arg;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->pending && !b->stop)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->pending)
			break;
		b->pending = 0;
		pthread_mutex_unlock(&b->mu);
		uint64_t t0 = cr_mono_ns();
		int rc = fdatasync(b->fd), err = rc ? errno : 0;
		pthread_mutex_lock(&b->mu);
		b->busy_ns += cr_mono_ns() - t0;
		b->syncs++;
		if (err && !b->err)
			b->err = err;
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

void bg_sync_start(struct bg_sync *b, int fd)
{
	memset(b, 0, sizeof *b);
	b->fd = fd;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	b->started = cr_thread_start(&b->th, bg_sync_main, b) == 0;
}

void bg_sync_progress(struct bg_sync *b, uint64_t written)
{
	if (!b->started || written - b->asked < BG_SYNC_STEP)
		return;
	b->asked = written;
	pthread_mutex_lock(&b->mu);
	b->pending = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

int bg_sync_stop(struct bg_sync *b)
{
	int err;
	if (b->started) {
		pthread_mutex_lock(&b->mu);
		b->stop = 1;
		b->pending = 0; /* the final fsync covers what is left */
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
		pthread_join(b->th, NULL);
		b->started = 0;
	}
	err = b->err;
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	return err;
}
