/* Hashing received files on a second thread (build agent).
 *
 * Every byte of the sources is hashed twice — git's SHA-1 and SHA-256 blob
 * ids — and under an emulated CPU that costs more than receiving and writing
 * it. The enclave has two vCPUs, so the receiving thread writes each DATA
 * message to its file and hands the message itself (no copy) to this thread,
 * which hashes it, frees it, and adds each finished file to the tree hasher.
 * The queue is bounded (RX_HASH_QUEUE messages of at most WIRE_MAX_CHUNK
 * bytes each), so memory stays bounded whatever the sender does.
 *
 * The tree ids are computed exactly as before (same blob_* and tree_add calls
 * in the same order); only the thread differs. If the thread cannot be
 * started, everything runs inline on the caller's thread. The thread blocks
 * every signal (they stay with PID 1's main thread) and is joined before the
 * stream's end is acknowledged. It is not the agent's only thread: the
 * session's deadline thread runs during the receive, and its log pump while
 * the build runs, which is why the sandbox starts the build with a raw
 * clone (sandbox_child.c), not a libc fork. */
#ifndef CLEANROOM_RX_HASHER_H
#define CLEANROOM_RX_HASHER_H

#include <pthread.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/util.h"
#include "vsock/tree_hash.h"
#include "vsock/wire.h"

#define RX_HASH_QUEUE 16
/* Files up to this size are hashed by the receiving thread itself: handing
 * them over would cost more (thread wake-ups between vCPUs) than hashing. */
#define RX_HASH_INLINE_MAX (64u << 10)

enum rx_job_kind { RX_JOB_BEGIN, RX_JOB_DATA, RX_JOB_END };

struct rx_job {
	enum rx_job_kind kind;
	char *path;       /* BEGIN: owned */
	unsigned mode;    /* BEGIN: git mode */
	uint64_t size;    /* BEGIN */
	uint8_t *frame;   /* DATA: the received frame, owned, freed after hashing */
	const uint8_t *p; /* DATA: the file's bytes, inside frame */
	size_t n;
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
	/* The file being hashed (touched by the hashing thread only). */
	struct blob_hasher blob;
	char *path;
	unsigned mode;
	/* The first tree_add failure (set under mu). */
	int failed;
	struct cr_err err;
};

/* Start the thread (inline mode if it cannot start). */
void rx_hasher_start(struct rx_hasher *h, struct tree_hasher *tree);
/* A file: BEGIN, its DATA messages (the frame moves to the hasher: m->frame
 * is cleared), END. */
void rx_hasher_begin(struct rx_hasher *h, const char *path, unsigned mode, uint64_t size);
void rx_hasher_data(struct rx_hasher *h, struct wire_msg *m);
void rx_hasher_end(struct rx_hasher *h);
/* A small file or a symlink, hashed by the caller: added to the tree now.
 * -1 with e if tree_add fails. */
int rx_hasher_add(struct rx_hasher *h, const char *path, unsigned mode, const uint8_t sha1[CR_SHA1_LEN],
		  const uint8_t sha256[CR_SHA256_LEN], struct cr_err *e);
/* 1 with *e set once a tree_add has failed (checked between files). */
int rx_hasher_failed(struct rx_hasher *h, struct cr_err *e);
/* Wait for every queued job, stop and join the thread; 0, or -1 with e
 * (the first tree_add failure). Safe to call twice; the hasher is then done. */
int rx_hasher_finish(struct rx_hasher *h, struct cr_err *e);

#endif
