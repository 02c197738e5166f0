/* epoll event loop (see evloop.h). */
#include "host-tool/run/evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

int evloop_init(struct evloop *l, struct cr_err *e)
{
	memset(l, 0, sizeof *l);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return cr_failp(e, "epoll_create1");
	return 0;
}

void evloop_free(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int evloop_add(struct evloop *l, struct evsrc *s, int fd, uint32_t events, evloop_cb cb, struct cr_err *e)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };
	s->fd = fd;
	s->cb = cb;
	s->events = events;
	s->resume_ms = 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return cr_failp(e, "epoll_ctl(ADD, fd %d)", fd);
	s->registered = 1;
	return 0;
}

int evloop_mod(struct evloop *l, struct evsrc *s, uint32_t events, struct cr_err *e)
{
	struct epoll_event ev = { .events = events, .data.ptr = s };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s->fd, &ev) != 0)
		return cr_failp(e, "epoll_ctl(MOD, fd %d)", s->fd);
	s->events = events;
	return 0;
}

static void unpause(struct evloop *l, struct evsrc *s)
{
	for (struct evsrc **p = &l->paused; *p; p = &(*p)->paused_next)
		if (*p == s) {
			*p = s->paused_next;
			break;
		}
	s->resume_ms = 0;
}

int evloop_accept(struct evloop *l, struct evsrc *s, int flags)
{
	struct epoll_event ev = { .events = 0, .data.ptr = s };
	int fd, err;
	do
		fd = accept4(s->fd, NULL, NULL, flags);
	while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd >= 0 || (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM))
		return fd;
	err = errno;
	if (!s->resume_ms) {
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s->fd, &ev) != 0)
			goto out; /* cannot pause it: the next event retries */
		s->paused_next = l->paused;
		l->paused = s;
	}
	s->resume_ms = cr_mono_ms() + EVLOOP_ACCEPT_PAUSE_MS;
out:
	errno = err;
	return -1;
}

/* Watch paused sources again once their time has come; the timeout to
 * wait at most for the next one (limit when none comes sooner). */
static int resume_paused(struct evloop *l, int limit)
{
	uint64_t now = cr_mono_ms();
	struct evsrc *s = l->paused, *next;
	for (; s; s = next) {
		next = s->paused_next;
		if (s->resume_ms <= now) {
			struct epoll_event ev = { .events = s->events, .data.ptr = s };
			unpause(l, s);
			epoll_ctl(l->epfd, EPOLL_CTL_MOD, s->fd, &ev);
		} else if (limit < 0 || s->resume_ms - now < (uint64_t)limit) {
			limit = (int)(s->resume_ms - now);
		}
	}
	return limit;
}

void evloop_del(struct evloop *l, struct evsrc *s)
{
	if (!s->registered)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->registered = 0;
	if (s->resume_ms)
		unpause(l, s);
	/* Events of this batch not yet dispatched must not reach a freed owner. */
	for (int i = l->cur + 1; i < l->n; i++)
		if (l->ev[i].data.ptr == s)
			l->ev[i].data.ptr = NULL;
}

int evloop_add_hook(struct evloop *l, void (*fn)(void *ctx), void *ctx, struct cr_err *e)
{
	if (l->nhooks >= EVLOOP_MAX_HOOKS)
		return cr_fail(e, "event loop: more than %d hooks", EVLOOP_MAX_HOOKS);
	l->hooks[l->nhooks++] = (struct evloop_hook){ fn, ctx };
	return 0;
}

void evloop_del_hook(struct evloop *l, void (*fn)(void *ctx), void *ctx)
{
	for (unsigned i = 0; i < l->nhooks; i++)
		if (l->hooks[i].fn == fn && l->hooks[i].ctx == ctx) {
			memmove(&l->hooks[i], &l->hooks[i + 1], (l->nhooks - i - 1) * sizeof l->hooks[0]);
			l->nhooks--;
			return;
		}
}

int evloop_run_once(struct evloop *l, int timeout_ms, struct cr_err *e)
{
	int n = epoll_wait(l->epfd, l->ev, EVLOOP_BATCH, l->paused ? resume_paused(l, timeout_ms) : timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			n = 0;
		else
			return cr_failp(e, "epoll_wait");
	}
	l->n = n;
	for (l->cur = 0; l->cur < l->n; l->cur++) {
		struct evsrc *s = l->ev[l->cur].data.ptr;
		if (s)
			s->cb(s, l->ev[l->cur].events);
	}
	l->n = l->cur = 0;
	for (unsigned i = 0; i < l->nhooks; i++)
		l->hooks[i].fn(l->hooks[i].ctx);
	return 0;
}

int evloop_add_signals(struct evloop *l, struct evsrc *s, const int *sigs, int n, evloop_cb cb, sigset_t *old,
		       struct cr_err *e)
{
	sigset_t set;
	int fd;
	sigemptyset(&set);
	for (int i = 0; i < n; i++)
		sigaddset(&set, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &set, old) != 0)
		return cr_failp(e, "sigprocmask");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return cr_failp(e, "signalfd");
	if (evloop_add(l, s, fd, EPOLLIN, cb, e)) {
		close(fd);
		return -1;
	}
	return 0;
}

int evloop_run(struct evloop *l, struct cr_err *e)
{
	l->stop = 0;
	while (!l->stop)
		if (evloop_run_once(l, -1, e))
			return -1;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	l->stop = 1;
}
