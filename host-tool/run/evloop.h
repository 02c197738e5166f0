/* One epoll event loop for everything `cleanroom run` does in one thread:
 * the vhost-user control socket, virtqueue kicks, host Unix sockets, the
 * heartbeat, signals and timers.
 *
 * A source is a struct evsrc embedded in its owner; the callback gets the
 * source back (use container_of-style arithmetic to reach the owner).
 * evloop_del() may be called from inside any callback, also for sources
 * that still have events waiting in the current batch: those events are
 * dropped, so the owner may free the source right after deleting it.
 * After each batch the registered "after" hooks run (deferred work such as
 * pumping a queue once for many events).
 *
 * Listeners accept with evloop_accept(): out of descriptors, a
 * level-triggered listener with a connection pending would wake the loop
 * at once, forever; evloop_accept stops watching it for
 * EVLOOP_ACCEPT_PAUSE_MS instead. */
#ifndef CLEANROOM_EVLOOP_H
#define CLEANROOM_EVLOOP_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "base/util.h"

#define EVLOOP_BATCH 64
#define EVLOOP_MAX_HOOKS 8
#define EVLOOP_ACCEPT_PAUSE_MS 100

struct evsrc;
typedef void (*evloop_cb)(struct evsrc *src, uint32_t events);

struct evsrc {
	int fd;
	evloop_cb cb;
	int registered;
	uint32_t events;    /* as registered */
	uint64_t resume_ms; /* paused by evloop_accept until then; 0: not paused */
	struct evsrc *paused_next;
};

struct evloop_hook {
	void (*fn)(void *ctx);
	void *ctx;
};

struct evloop {
	int epfd;
	int stop;
	struct epoll_event ev[EVLOOP_BATCH];
	int n, cur; /* the batch being dispatched */
	struct evloop_hook hooks[EVLOOP_MAX_HOOKS];
	unsigned nhooks;
	struct evsrc *paused; /* sources evloop_accept paused */
};

#define EVLOOP_OWNER(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

int evloop_init(struct evloop *l, struct cr_err *e);
void evloop_free(struct evloop *l);
/* Watch fd for events (EPOLLIN, EPOLLOUT, EPOLLET...); cb runs on each. */
int evloop_add(struct evloop *l, struct evsrc *s, int fd, uint32_t events, evloop_cb cb, struct cr_err *e);
int evloop_mod(struct evloop *l, struct evsrc *s, uint32_t events, struct cr_err *e);
/* Stop watching (the fd is not closed). Safe on an unregistered source. */
void evloop_del(struct evloop *l, struct evsrc *s);
/* accept4(s->fd, NULL, NULL, flags), retried on EINTR and ECONNABORTED.
 * On EMFILE, ENFILE, ENOBUFS or ENOMEM s is not watched for
 * EVLOOP_ACCEPT_PAUSE_MS (then again, by evloop_run_once). -1 with errno
 * when nothing was accepted. */
int evloop_accept(struct evloop *l, struct evsrc *s, int flags);
/* Run fn(ctx) after every batch of events. */
int evloop_add_hook(struct evloop *l, void (*fn)(void *ctx), void *ctx, struct cr_err *e);
void evloop_del_hook(struct evloop *l, void (*fn)(void *ctx), void *ctx);
/* Wait up to timeout_ms (-1: forever) and dispatch one batch; then the
 * hooks. Returns 0, or -1 with e on an epoll failure. */
int evloop_run_once(struct evloop *l, int timeout_ms, struct cr_err *e);
/* Block the n signals in sigs and deliver them through a signalfd watched
 * as s (read struct signalfd_siginfo from s->fd in cb). The previous mask
 * goes to *old when old is non-NULL, for child processes to restore. */
int evloop_add_signals(struct evloop *l, struct evsrc *s, const int *sigs, int n, evloop_cb cb, sigset_t *old,
		       struct cr_err *e);
/* Dispatch until evloop_stop() is called. */
int evloop_run(struct evloop *l, struct cr_err *e);
void evloop_stop(struct evloop *l);

#endif
