/* Hashing received files on a second thread (build agent).
 *
 * Every byte of the sources is hashed twice — git's SHA-1 and SHA-256 blob
 * ids — and under an emulated CPU that costs more than receiving and writing
 * it. The enclave has two vCPUs, so the work is shared between the
 * receiving thread and this one:
 *   - the receiving thread writes each DATA message to its file and hands
 *     the message itself (no copy) to this thread, which hashes it, gives
 *     its buffer back, and adds each finished file to the tree hasher;
 *   - this thread computes the SHA-256 id of every file, and the SHA-1 id
 *     too unless the receiving thread takes it: the receiver computes a
 *     file's SHA-1 itself when, as the file begins, RX_HASH_HELP_AT jobs
 *     wait (this thread is behind). So whichever thread has time does the
 *     SHA-1 pass; the ids do not depend on who computed them.
 *   - an idle hasher is woken for a batch of jobs, not for each one.
 * A file that fits in one message is one job (its start, data and end).
 * The queue is bounded (RX_HASH_QUEUE jobs of at most one message each), so
 * memory stays bounded whatever the sender does.
 *
 * The tree ids are computed exactly as before (the same blob_* bytes and
 * tree_add calls in the same order); only the threads differ. If the thread
 * cannot be started, every job runs inline on the caller's thread. The
 * thread blocks every signal (they stay with PID 1's main thread) and is
 * joined before the stream's end is acknowledged. It is not the agent's only
 * thread: the session's deadline thread runs during the receive, and its
 * log pump while the build runs, which is why the sandbox starts the build
 * with a raw clone (sandbox_child.c), not a libc fork. */
#ifndef CLEANROOM_RX_HASHER_H
#define CLEANROOM_RX_HASHER_H

#include <pthread.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"
#include "vsock/tree_hash.h"
#include "vsock/wire.h"

#define RX_HASH_QUEUE 32
/* The receiver computes a file's SHA-1 id itself when, as the file begins,
 * this many jobs wait (the hasher is behind). Three quarters: measured
 * under TCG, half the queue left the receiver doing most SHA-1 passes and
 * the hasher idle. */
#define RX_HASH_HELP_AT (RX_HASH_QUEUE * 3 / 4)
/* An idle hasher is woken when this many jobs or bytes wait. */
#define RX_HASH_WAKE_JOBS 8
#define RX_HASH_WAKE_BYTES (1u << 20)

/* A step of one file: its start, one message of its data, its end, or the
 * three at once. */
struct rx_job {
	unsigned begin : 1, end : 1;
	unsigned caller_sha1 : 1; /* begin: the receiver computes the SHA-1 id */
	char *path;               /* begin: owned (NULL when out of memory: reported at the end) */
	unsigned mode;            /* begin: git mode */
	uint64_t size;            /* begin */
	uint8_t *frame;           /* the received message, owned, released after hashing; NULL: no data */
	struct cr_pool *pool;     /* frame's pool (wire_frame_release) */
	const uint8_t *p;         /* the file's bytes, inside frame */
	size_t n;
	uint8_t sha1[CR_SHA1_LEN]; /* end, with caller_sha1: the receiver's SHA-1 id */
};

struct rx_hasher {
	struct tree_hasher *tree;
	pthread_t th;
	int threaded;       /* 0: jobs run inline */
	pthread_mutex_t mu; /* the queue, failed/err, and the tree */
	pthread_cond_t not_empty, not_full;
	struct rx_job q[RX_HASH_QUEUE];
	unsigned head, count;
	int stop;
	unsigned help_at;    /* the receiver takes a file's SHA-1 when this many jobs wait */
	int idle;            /* the hasher waits for jobs */
	uint64_t idle_bytes; /* bytes queued since it went idle */
	/* The file being put together (the receiving thread only). */
	struct rx_job next;
	/* The file being hashed (the hashing thread only). */
	struct blob_hasher blob;
	char *path;
	unsigned mode;
	int caller_sha1;
	/* The first tree_add failure (set under mu). */
	int failed;
	struct cr_err err;
};

/* Start the thread (inline mode if it cannot start). */
void rx_hasher_start(struct rx_hasher *h, struct tree_hasher *tree);
/* A file begins. Returns 1 when the caller is to compute its SHA-1 id
 * (blob_begin_ids(..., BLOB_SHA1)) and pass it to rx_hasher_end, 0 when
 * this hasher computes both. */
int rx_hasher_begin(struct rx_hasher *h, const char *path, unsigned mode, uint64_t size);
/* One message of the file's data, not its last (the frame moves to the
 * hasher: m->frame is cleared). */
void rx_hasher_data(struct rx_hasher *h, struct wire_msg *m);
/* The file's end, with its last message (NULL for an empty file) and, when
 * rx_hasher_begin returned 1, the caller's SHA-1 id (else NULL). */
void rx_hasher_end(struct rx_hasher *h, struct wire_msg *last, const uint8_t *sha1);
/* A symlink, its target hashed by the caller: added to the tree now.
 * -1 with e if tree_add fails. */
int rx_hasher_add(struct rx_hasher *h, const char *path, unsigned mode, const uint8_t sha1[CR_SHA1_LEN],
		  const uint8_t sha256[CR_SHA256_LEN], struct cr_err *e);
/* 1 with *e set once a tree_add has failed (checked between files). */
int rx_hasher_failed(struct rx_hasher *h, struct cr_err *e);
/* Wait for every queued job, stop and join the thread; 0, or -1 with e
 * (the first tree_add failure). Safe to call twice; the hasher is then done. */
int rx_hasher_finish(struct rx_hasher *h, struct cr_err *e);

#endif
