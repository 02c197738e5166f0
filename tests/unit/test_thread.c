/* base/thread: threads start with every signal blocked, the creator's mask
 * unchanged; a task runs once, beside the caller, and join waits for it; a
 * task starts on another CPU than its creator's when the process may use
 * more than one, and may then move to any of them. */
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "base/thread.h"
#include "tests/unit/check.h"

struct probe {
	int runs;
	int all_blocked;
	int done;
	cpu_set_t affinity;
};

static int mask_blocks_all(void)
{
	sigset_t m;
	static const int sigs[] = { SIGINT, SIGTERM, SIGCHLD, SIGHUP, SIGUSR1, SIGPIPE, SIGALRM };
	pthread_sigmask(SIG_SETMASK, NULL, &m);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!sigismember(&m, sigs[i]))
			return 0;
	return 1;
}

static void probe_task(void *p)
{
	struct probe *pr = p;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	pr->runs++;
	pr->all_blocked = mask_blocks_all();
	sched_getaffinity(0, sizeof pr->affinity, &pr->affinity);
	nanosleep(&ts, NULL); /* join must wait for this */
	pr->done = 1;
}

static void *probe_thread(void *p)
{
	probe_task(p);
	return NULL;
}

int main(void)
{
	sigset_t before, after;
	cpu_set_t mine;
	struct probe pr;
	struct cr_task t;
	pthread_t th;

	sigemptyset(&before);
	sigaddset(&before, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &before, NULL);

	memset(&pr, 0, sizeof pr);
	T_OK(cr_thread_start(&th, probe_thread, &pr) == 0, "cr_thread_start starts a thread");
	pthread_join(th, NULL);
	T_OK(pr.runs == 1 && pr.done, "the thread ran its function once");
	T_OK(pr.all_blocked, "a started thread has every signal blocked");
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	T_OK(sigismember(&after, SIGUSR2) && !sigismember(&after, SIGINT), "the creator's mask is unchanged");

	memset(&pr, 0, sizeof pr);
	cr_task_start(&t, probe_task, &pr);
	T_OK(t.threaded, "a task runs on a thread of its own");
	cr_task_join(&t);
	T_OK(pr.runs == 1 && pr.done, "cr_task_join returns after the task has finished");
	T_OK(pr.all_blocked, "a task runs with every signal blocked");
	pthread_sigmask(SIG_SETMASK, NULL, &after);
	T_OK(sigismember(&after, SIGUSR2) && !sigismember(&after, SIGINT), "the creator's mask is unchanged by a task");
	cr_task_join(&t);
	T_OK(pr.runs == 1, "a second join is harmless");

	sched_getaffinity(0, sizeof mine, &mine);
	T_OK(t.placed == (CPU_COUNT(&mine) > 1), "a task is placed on another CPU when there are %d", CPU_COUNT(&mine));
	T_OK(CPU_EQUAL(&pr.affinity, &mine), "the task may then move to any CPU of the process (%d of %d)",
	     CPU_COUNT(&pr.affinity), CPU_COUNT(&mine));

	/* One CPU only: no placement, the task still runs. */
	{
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		sched_setaffinity(0, sizeof one, &one);
		memset(&pr, 0, sizeof pr);
		cr_task_start(&t, probe_task, &pr);
		cr_task_join(&t);
		T_OK(!t.placed && pr.runs == 1 && pr.done, "on one CPU the task runs unplaced");
		T_OK(CPU_EQUAL(&pr.affinity, &one), "and keeps the process's single CPU");
		sched_setaffinity(0, sizeof mine, &mine);
	}
	return t_done();
}
