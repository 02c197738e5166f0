#include "base/thread.h"

#include <sched.h>
#include <signal.h>

/* pthread_create with every signal blocked in the new thread: it inherits
 * the creator's mask at creation, which is then restored. */
static int create_blocked(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int r;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(th, attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

int cr_thread_start(pthread_t *th, void *(*fn)(void *), void *arg)
{
	return create_blocked(th, NULL, fn, arg);
}

static void *task_main(void *p)
{
	struct cr_task *t = p;
	/* Free to move again (cr_task_start placed it). */
	if (t->placed)
		sched_setaffinity(0, sizeof t->allowed, &t->allowed);
	t->fn(t->arg);
	return NULL;
}

void cr_task_start(struct cr_task *t, void (*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t other;
	int here = sched_getcpu();
	t->fn = fn;
	t->arg = arg;
	t->placed = 0;
	if (pthread_attr_init(&attr)) {
		t->threaded = 0;
		fn(arg);
		return;
	}
	/* Linux first queues a new thread on its creator's CPU and moves it
	 * only at the next balancing, milliseconds later: for work of a few
	 * milliseconds the two would take turns on one CPU. So the task starts
	 * on any other CPU this process may use (then may move anywhere). */
#ifdef __GLIBC__ /* musl 1.2.3 has no pthread_attr_setaffinity_np: there it starts unplaced */
	if (here >= 0 && sched_getaffinity(0, sizeof t->allowed, &t->allowed) == 0) {
		other = t->allowed;
		CPU_CLR(here, &other);
		if (CPU_COUNT(&other) > 0 && pthread_attr_setaffinity_np(&attr, sizeof other, &other) == 0)
			t->placed = 1;
	}
#else
	(void)here;
	(void)other;
#endif
	t->threaded = create_blocked(&t->th, &attr, task_main, t) == 0;
	pthread_attr_destroy(&attr);
	if (!t->threaded)
		fn(arg);
}

void cr_task_join(struct cr_task *t)
{
	if (t->threaded)
		pthread_join(t->th, NULL);
	t->threaded = 0;
}
