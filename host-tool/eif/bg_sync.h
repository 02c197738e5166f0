/* Making a large file durable while it is still being written.
 *
 * A file written at disk speed leaves the disk's cache to flush at the end:
 * here about 0.6 s of fsync for a 1.2 GB image. bg_sync asks for an
 * fdatasync from its own thread every time BG_SYNC_STEP more bytes have
 * been written, so the disk flushes while the CPUs hash, and the final
 * fsync finds little left to do.
 *
 * Errors: fsync reports a write-back error to one caller only, so an error
 * seen by the background thread is kept and returned by bg_sync_stop; the
 * caller must fail the file then, as if its own fsync had. */
#ifndef CLEANROOM_BG_SYNC_H
#define CLEANROOM_BG_SYNC_H

#include <pthread.h>
#include <stdint.h>

#define BG_SYNC_STEP (128u << 20)

struct bg_sync {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	uint64_t asked; /* the file's size when a sync was last asked for */
	int pending, stop;
	int err; /* first errno of a background fdatasync, or 0 */
	int started;
	pthread_t th;
	uint64_t busy_ns; /* time spent in fdatasync */
	unsigned syncs;   /* fdatasync calls made */
};

/* Start the thread for fd. If no thread can start, the syncs are simply not
 * made early (the final fsync makes the file durable all the same). */
void bg_sync_start(struct bg_sync *b, int fd);
/* The file now has `written` bytes: ask for a sync when a step has passed
 * since the last one. Never blocks on the disk. */
void bg_sync_progress(struct bg_sync *b, uint64_t written);
/* Wait for a sync in progress and stop the thread. 0, or the errno of the
 * first background fdatasync that failed. */
int bg_sync_stop(struct bg_sync *b);

#endif
