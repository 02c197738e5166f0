/* Writing a large file's chunks from a thread of their own.
 *
 * The EIF writer reads the tree into a ring of chunks that two threads hash;
 * writing a chunk to the disk takes about as long as hashing it, so it too
 * runs beside them: the reading thread queues each chunk here and goes on.
 *
 * Chunks go to the disk with O_DIRECT where the file system takes it: no
 * copy into the page cache (about 1 s of CPU per GB on these machines), and
 * with bg_sync flushing the disk as the file grows, nothing is left for the
 * final fsync. O_DIRECT needs the memory, offset and length aligned to the
 * disk's block: callers queue whole chunks of 1 MiB at multiples of 1 MiB
 * from 4 KiB-aligned memory. A file system that refuses a direct write
 * (EINVAL) gets it, and every later one, buffered.
 *
 * Like pcr_hasher, jobs reference caller memory: it must stay unchanged
 * until chunk_writer_wait() has returned for the job's ticket. */
#ifndef CLEANROOM_CHUNK_WRITER_H
#define CLEANROOM_CHUNK_WRITER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"
#include "host-tool/eif/bg_sync.h"

#define CHUNK_WRITER_QUEUE 64

struct chunk_writer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	const char *path;
	int direct; /* O_DIRECT is on */
	struct chunk_job {
		const uint8_t *p;
		size_t n;
		uint64_t off;
	} q[CHUNK_WRITER_QUEUE];
	uint64_t submitted, done;
	int stop;
	int err;              /* first failed write's errno; later jobs are skipped */
	const char *err_call; /* the call that failed: "write" or "fcntl" */
	int threaded;         /* 0: no thread could start, jobs are written in submit */
	pthread_t th;
	struct bg_sync sync;
	uint64_t busy_ns;      /* writing */
	uint64_t direct_bytes; /* written with O_DIRECT */
};

/* Start writing to fd (opened for writing; path names it in errors). */
void chunk_writer_start(struct chunk_writer *w, int fd, const char *path);
/* Queue n bytes at p for offset off; returns the job's ticket (>= 1).
 * Blocks while the queue is full. */
uint64_t chunk_writer_submit(struct chunk_writer *w, const void *p, size_t n, uint64_t off);
/* Wait until every job up to ticket is written. -1 with e if a write has
 * failed (the file is then incomplete). */
int chunk_writer_wait(struct chunk_writer *w, uint64_t ticket, struct cr_err *e);
/* Write what is queued, stop the thread and the background syncs, and turn
 * O_DIRECT off (later writes by the caller are ordinary pwrites). -1 with e
 * if a write or a background sync failed. Call once per start, also on error
 * paths. */
int chunk_writer_finish(struct chunk_writer *w, struct cr_err *e);

#endif
