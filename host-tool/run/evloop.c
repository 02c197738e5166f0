/* epoll event loop (see evloop.h). */
#include "host-tool/run/evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/signalfd.h>
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
	return 0;
}

void evloop_del(struct evloop *l, struct evsrc *s)
{
	if (!s->registered)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	s->registered = 0;
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
	int n = epoll_wait(l->epfd, l->ev, EVLOOP_BATCH, timeout_ms);
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
