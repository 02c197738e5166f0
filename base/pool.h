/* A pool of equal-sized buffers, kept for reuse, safe across threads.
 *
 * Why: the build agent receives sources in messages of up to 256 KiB and
 * frees each one on its hashing thread. A fresh buffer that large is an
 * mmap, its first touch a page fault per page, and its free a munmap whose
 * TLB flush interrupts the other vCPU; under an emulated CPU those cost
 * more than the copying. Buffers returned here are handed out again
 * instead, their pages already mapped. */
#ifndef CLEANROOM_POOL_H
#define CLEANROOM_POOL_H

#include <pthread.h>
#include <stddef.h>

struct cr_pool {
	pthread_mutex_t mu;
	size_t size;   /* of every buffer */
	unsigned keep; /* buffers kept at most; more are freed */
	unsigned n;    /* kept now, in free[] */
	void **free;
};

/* 0, or -1 when out of memory (the pool then keeps nothing, and works). */
int cr_pool_init(struct cr_pool *p, size_t size, unsigned keep);
/* A buffer of p->size bytes (contents undefined), or NULL when out of memory. */
void *cr_pool_get(struct cr_pool *p);
/* Give back a buffer from cr_pool_get (NULL is ignored). */
void cr_pool_put(struct cr_pool *p, void *buf);
/* Free the kept buffers; every buffer must have been given back. */
void cr_pool_destroy(struct cr_pool *p);

#endif
