/* Threads, started one way everywhere.
 *
 * Every thread of this project starts with all signals blocked, so that
 * signals reach only the main thread: PID 1's one signal-and-reap loop, the
 * host tool's interrupt handling. A program that cannot start a thread says
 * what it does instead (runs the work inline, or fails); cr_task is the
 * common case of "run this beside me, then wait for it", which falls back
 * to running the work on the caller's thread. */
#ifndef CLEANROOM_THREAD_H
#define CLEANROOM_THREAD_H

#include <pthread.h>
#include <sched.h>

/* pthread_create with every signal blocked in the new thread (the caller's
 * mask is unchanged). 0, or the error number. */
int cr_thread_start(pthread_t *th, void *(*fn)(void *), void *arg);

/* One piece of work run beside the caller. fn must not touch what the
 * caller touches before cr_task_join, except read-only. */
struct cr_task {
	pthread_t th;
	int threaded; /* 0: fn already ran inline, in cr_task_start */
	void (*fn)(void *);
	void *arg;
	int placed;        /* started on another CPU than its creator's */
	cpu_set_t allowed; /* the CPUs the process may use */
};
/* Start fn(arg) on a new thread, on another CPU than the caller's when
 * there is one (with glibc: musl 1.2.3 cannot place a thread before it
 * starts); if no thread can be started, run fn(arg) now. */
void cr_task_start(struct cr_task *t, void (*fn)(void *), void *arg);
/* Wait until fn(arg) has returned. */
void cr_task_join(struct cr_task *t);

#endif
