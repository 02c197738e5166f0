#include "base/pool.h"

#include <stdlib.h>

int cr_pool_init(struct cr_pool *p, size_t size, unsigned keep)
{
	p->size = size;
	p->n = 0;
	p->keep = keep;
	p->free = calloc(keep ? keep : 1, sizeof *p->free);
	if (!p->free)
		p->keep = 0;
	pthread_mutex_init(&p->mu, NULL);
	return p->free ? 0 : -1;
}

void *cr_pool_get(struct cr_pool *p)
{
	void *b = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->n)
		b = p->free[--p->n];
	pthread_mutex_unlock(&p->mu);
	return b ? b : malloc(p->size);
}

void cr_pool_put(struct cr_pool *p, void *buf)
{
	if (!buf)
		return;
	pthread_mutex_lock(&p->mu);
	if (p->n < p->keep) {
		p->free[p->n++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	free(buf);
}

void cr_pool_destroy(struct cr_pool *p)
{
	while (p->n)
		free(p->free[--p->n]);
	free(p->free);
	p->free = NULL;
	p->keep = 0;
	pthread_mutex_destroy(&p->mu);
}
