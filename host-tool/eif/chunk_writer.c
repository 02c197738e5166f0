#include "host-tool/eif/chunk_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/thread.h"

static int set_direct(struct chunk_writer *w, int on)
{
	int fl = fcntl(w->fd, F_GETFL);
	if (fl < 0 || fcntl(w->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0)
		return -1;
	w->direct = on;
	return 0;
}

/* One job, on the writing thread (or in submit without one). 0 or errno. */
static int write_job(struct chunk_writer *w, const struct chunk_job *j)
{
	size_t done = 0;
	int direct = w->direct;
	uint64_t t0 = cr_mono_ns();
	while (done < j->n) {
		ssize_t r = pwrite(w->fd, j->p + done, j->n - done, (off_t)(j->off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && w->direct) {
			if (set_direct(w, 0)) {
				w->err_call = "fcntl";
				return errno;
			}
			direct = 0;
			continue;
		}
		if (r < 0)
			return errno;
		if (r == 0)
			return EIO;
		done += (size_t)r;
	}
	w->busy_ns += cr_mono_ns() - t0;
	if (direct)
		w->direct_bytes += j->n;
	bg_sync_progress(&w->sync, j->off + j->n);
	return 0;
}

static void *writer_main(void *arg)
{
	struct chunk_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct chunk_job j;
		int err = 0;
		while (w->done == w->submitted && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->done == w->submitted)
			break;
		j = w->q[w->done % CHUNK_WRITER_QUEUE];
		if (!w->err) {
			pthread_mutex_unlock(&w->mu);
			err = write_job(w, &j);
			pthread_mutex_lock(&w->mu);
		}
		if (err && !w->err)
			w->err = err;
		w->done++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void chunk_writer_start(struct chunk_writer *w, int fd, const char *path)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->err_call = "write";
	w->path = path;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	/* Not every file system takes O_DIRECT: those get buffered writes. */
	(void)set_direct(w, 1);
	bg_sync_start(&w->sync, fd);
	w->threaded = cr_thread_start(&w->th, writer_main, w) == 0;
}

uint64_t chunk_writer_submit(struct chunk_writer *w, const void *p, size_t n, uint64_t off)
{
	struct chunk_job j = { p, n, off };
	uint64_t ticket;
	if (!w->threaded) {
		if (!w->err)
			w->err = write_job(w, &j);
		w->done++;
		return ++w->submitted;
	}
	pthread_mutex_lock(&w->mu);
	while (w->submitted - w->done >= CHUNK_WRITER_QUEUE)
		pthread_cond_wait(&w->cv, &w->mu);
	w->q[w->submitted % CHUNK_WRITER_QUEUE] = j;
	ticket = ++w->submitted;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return ticket;
}

static int failed(struct chunk_writer *w, int err, const char *what, struct cr_err *e)
{
	errno = err;
	return cr_failp(e, "%s: %s", w->path, what);
}

int chunk_writer_wait(struct chunk_writer *w, uint64_t ticket, struct cr_err *e)
{
	int err;
	pthread_mutex_lock(&w->mu);
	while (w->done < ticket)
		pthread_cond_wait(&w->cv, &w->mu);
	err = w->err;
	pthread_mutex_unlock(&w->mu);
	return err ? failed(w, err, w->err_call, e) : 0;
}

int chunk_writer_finish(struct chunk_writer *w, struct cr_err *e)
{
	int err, sync_err;
	if (w->threaded) {
		pthread_mutex_lock(&w->mu);
		w->stop = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
		w->threaded = 0;
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	err = w->err;
	sync_err = bg_sync_stop(&w->sync);
	if (w->direct && set_direct(w, 0) && !err)
		return cr_failp(e, "%s: fcntl", w->path);
	if (err)
		return failed(w, err, w->err_call, e);
	if (sync_err)
		return failed(w, sync_err, "fdatasync", e);
	return 0;
}
