/* The NSM model as a `cleanroom run` service (run_services.h): listens on
 * "<vsock>_9100", where the vsock bridge delivers the guest shim's
 * connections to CID 2 port 9100, and speaks the shim's framing
 * (kernel-config/nsm-shim/README.md): per connection one request, 4-byte big-endian
 * length L (<= 0x1000) + L bytes, answered with a 4-byte big-endian length
 * R (<= 0x3000) + R bytes, then the connection is closed.
 *
 * Everything runs in the run's event loop and never blocks it: sockets are
 * non-blocking, each connection buffers at most one request and one
 * response, at most NSM_SVC_MAX_CONNS connections are open (more are closed
 * at once), and a connection that has not completed within its time limit
 * (NSM_SVC_TIMEOUT_MS from accept) is closed by a periodic sweep. A length
 * over 0x1000 is answered with {"Error": "InputTooLarge"} without reading
 * the body, as the real NSM answers an oversized request. */
#include "host-tool/run/nsm_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "base/json.h"
#include "host-tool/run/nsm_ca.h"
#include "base/term.h"
#include "base/unix_sock.h"

#define NSM_SVC_MAX_CONNS 16
#define NSM_SVC_TIMEOUT_MS 10000
#define NSM_SVC_SWEEP_MS 250
#define NSM_SVC_LOG_MAX 20 /* lines about bad requests, then quiet */

struct nsm_service;

struct nsm_conn {
	struct nsm_service *svc;
	struct nsm_conn *next;
	int fd;
	struct evsrc src;
	uint64_t deadline_ms;
	size_t in_len;     /* header + request bytes received */
	uint32_t req_len;  /* from the header (in_len >= 4) */
	int writing;       /* the answer is in out */
	struct cr_buf out; /* 4-byte length + response */
	size_t out_off;
	uint8_t in[4 + NSM_REQUEST_MAX];
};

struct nsm_service {
	struct evloop *loop;
	char path[512];
	int listen_fd, tick_fd;
	struct evsrc listen_src, tick_src;
	struct nsm_conn *conns;
	unsigned n_conns, timeout_ms, logged;
	uint64_t refused, timed_out;
	struct nsm_model model;
	struct nsm_ca ca;
};

static void svc_log(struct nsm_service *s, const char *msg)
{
	if (s->logged < NSM_SVC_LOG_MAX)
		cr_tprintf(stderr, "cleanroom run: nsm: %s\n", cr_term_arg(msg));
	else if (s->logged == NSM_SVC_LOG_MAX)
		cr_tprintf(stderr, "cleanroom run: nsm: (further messages suppressed)\n");
	s->logged++;
}

static void conn_close(struct nsm_conn *c)
{
	struct nsm_service *s = c->svc;
	struct nsm_conn **pp;
	for (pp = &s->conns; *pp && *pp != c; pp = &(*pp)->next) {
	}
	if (*pp)
		*pp = c->next;
	s->n_conns--;
	evloop_del(s->loop, &c->src);
	close(c->fd);
	cr_buf_free(&c->out);
	free(c);
}

/* Errors worth a log line: the request itself was wrong or the model
 * failed. Locked or invalid PCR indices are ordinary NSM answers. */
static int worth_logging(enum nsm_error err)
{
	return err != NSM_SUCCESS && err != NSM_INVALID_INDEX && err != NSM_READ_ONLY_INDEX;
}

/* Put the 4-byte length in front of the response in c->out and switch the
 * connection to writing. -1 when the connection had to be closed. */
static int conn_answer(struct nsm_conn *c)
{
	struct nsm_service *s = c->svc;
	struct cr_buf resp;
	struct cr_err e = { 0 };
	enum nsm_error err;
	uint8_t hdr[4];

	cr_buf_init(&resp, NSM_RESPONSE_MAX);
	if (c->req_len > NSM_REQUEST_MAX) {
		/* The body stays unread: the model sees only the length. */
		struct nsm_response rs = { .error = NSM_INPUT_TOO_LARGE };
		err = NSM_INPUT_TOO_LARGE;
		s->model.requests++;
		s->model.errors++;
		cr_fail(&e, "request of %u bytes, more than %u (InputTooLarge)", c->req_len, NSM_REQUEST_MAX);
		nsm_response_encode(&rs, &resp, NULL);
	} else {
		err = nsm_model_handle(&s->model, c->in + 4, c->req_len, &resp, &e);
	}
	if (worth_logging(err))
		svc_log(s, e.msg);
	cr_put_be32(hdr, (uint32_t)resp.len);
	c->out.len = 0;
	if (cr_buf_put(&c->out, hdr, 4, NULL) || cr_buf_put(&c->out, resp.p, resp.len, NULL) ||
	    evloop_mod(s->loop, &c->src, EPOLLOUT, NULL)) {
		cr_buf_free(&resp);
		conn_close(c);
		return -1;
	}
	cr_buf_free(&resp);
	c->writing = 1;
	return 0;
}

/* Send what is left; 1 when the connection is finished (and closed). */
static int conn_write(struct nsm_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0)
			break;
		c->out_off += (size_t)w;
	}
	conn_close(c); /* answered (or the peer went away) */
	return 1;
}

static void conn_cb(struct evsrc *src, uint32_t events)
{
	struct nsm_conn *c = EVLOOP_OWNER(src, struct nsm_conn, src);
	(void)events;
	if (c->writing) {
		conn_write(c);
		return;
	}
	for (;;) {
		size_t need = c->in_len < 4 ? 4 - c->in_len : 4 + c->req_len - c->in_len;
		ssize_t r;
		if (!need)
			break;
		r = recv(c->fd, c->in + c->in_len, need, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0) { /* hung up (or reset) before a whole request */
			conn_close(c);
			return;
		}
		c->in_len += (size_t)r;
		if (c->in_len == 4) {
			c->req_len = cr_be32(c->in);
			if (c->req_len > NSM_REQUEST_MAX)
				break;
		}
	}
	if (conn_answer(c) == 0)
		conn_write(c); /* at once: the socket is usually writable */
}

static void listen_cb(struct evsrc *src, uint32_t events)
{
	struct nsm_service *s = EVLOOP_OWNER(src, struct nsm_service, listen_src);
	(void)events;
	for (;;) {
		int fd = evloop_accept(s->loop, &s->listen_src, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct nsm_conn *c;
		if (fd < 0)
			return; /* EAGAIN; out of descriptors: evloop_accept paused the listener */
		if (s->n_conns >= NSM_SVC_MAX_CONNS || !(c = calloc(1, sizeof *c))) {
			char msg[96];
			snprintf(msg, sizeof msg, "more than %d connections at once: one refused", NSM_SVC_MAX_CONNS);
			svc_log(s, msg);
			s->refused++;
			close(fd);
			continue;
		}
		c->svc = s;
		c->fd = fd;
		c->deadline_ms = cr_mono_ms() + s->timeout_ms;
		cr_buf_init(&c->out, 4 + NSM_RESPONSE_MAX);
		if (evloop_add(s->loop, &c->src, fd, EPOLLIN | EPOLLRDHUP, conn_cb, NULL)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		s->conns = c;
		s->n_conns++;
	}
}

/* Close connections past their time limit (half-open or stalled peers). */
static void tick_cb(struct evsrc *src, uint32_t events)
{
	struct nsm_service *s = EVLOOP_OWNER(src, struct nsm_service, tick_src);
	uint64_t n, now = cr_mono_ms();
	struct nsm_conn *c, *next;
	(void)events;
	if (read(s->tick_fd, &n, sizeof n) < 0) {
		/* spurious wake-up */
	}
	for (c = s->conns; c; c = next) {
		next = c->next;
		if (now >= c->deadline_ms) {
			char msg[128];
			snprintf(msg, sizeof msg, "connection closed: no complete request/answer within %u ms",
				 s->timeout_ms);
			svc_log(s, msg);
			s->timed_out++;
			conn_close(c);
		}
	}
}

static void svc_stop(void *state)
{
	struct nsm_service *s = state;
	if (!s)
		return;
	while (s->conns)
		conn_close(s->conns);
	if (s->listen_fd >= 0) {
		evloop_del(s->loop, &s->listen_src);
		close(s->listen_fd);
		unlink(s->path);
	}
	if (s->tick_fd >= 0) {
		evloop_del(s->loop, &s->tick_src);
		close(s->tick_fd);
	}
	nsm_ca_free(&s->ca);
	free(s);
}

static int svc_start(struct evloop *loop, const char *listen_path, const struct run_enclave *enc, void **state,
		     struct cr_err *e)
{
	struct itimerspec its = { .it_interval = { .tv_nsec = NSM_SVC_SWEEP_MS * 1000000L },
				  .it_value = { .tv_nsec = NSM_SVC_SWEEP_MS * 1000000L } };
	struct nsm_service *s = calloc(1, sizeof *s);
	char id[NSM_MODEL_ID_LEN + 1];

	*state = NULL;
	if (!s)
		return cr_fail(e, "out of memory");
	s->loop = loop;
	s->listen_fd = s->tick_fd = -1;
	s->timeout_ms = NSM_SVC_TIMEOUT_MS;
	if ((size_t)snprintf(s->path, sizeof s->path, "%s", listen_path) >= sizeof s->path) {
		free(s);
		return cr_fail(e, "%s: path too long", listen_path);
	}
	if (!enc->nsm_ca_dir && !enc->run_dir) {
		free(s);
		return cr_fail(e, "no --nsm-ca directory and no run directory for a test CA");
	}
	nsm_model_module_id(enc->pcrs, enc->cid, enc->boot_id, id);
	if (nsm_ca_open(&s->ca, enc->nsm_ca_dir, enc->run_dir, id, e)) {
		free(s);
		return -1;
	}
	nsm_model_init(&s->model, enc->pcrs, enc->cid, enc->boot_id, &s->ca);
	unix_sock_remove_stale(listen_path); /* left by a run that was killed */
	s->listen_fd = unix_sock_listen(listen_path, 16, e);
	if (s->listen_fd < 0 || evloop_add(loop, &s->listen_src, s->listen_fd, EPOLLIN, listen_cb, e))
		goto fail;
	s->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->tick_fd < 0 || timerfd_settime(s->tick_fd, 0, &its, NULL)) {
		cr_failp(e, "timerfd");
		goto fail;
	}
	if (evloop_add(loop, &s->tick_src, s->tick_fd, EPOLLIN, tick_cb, e))
		goto fail;
	*state = s;
	return 0;
fail:
	svc_stop(s);
	return -1;
}

static void svc_ready(void *state, struct json_w *w)
{
	struct nsm_service *s = state;
	if (w) {
		jw_kstr(w, "nsm_module_id", s->model.module_id);
		jw_kstr(w, "nsm_root", s->ca.root_path);
		return;
	}
	fprintf(stderr,
		"cleanroom run: NSM model on vsock port %d (module_id %s); test root CA %s%s\n"
		"cleanroom run: check its attestation documents with: cleanroom attestation verify DOC --root %s\n",
		NSM_MODEL_PORT, s->model.module_id, s->ca.root_path,
		s->ca.remove_on_free ? " (removed when the run ends; --nsm-ca DIR keeps one)" : "", s->ca.root_path);
}

const struct run_service nsm_model_service = {
	.name = "NSM model",
	.port = NSM_MODEL_PORT,
	.start = svc_start,
	.stop = svc_stop,
	.ready = svc_ready,
};

struct nsm_model *nsm_service_model(void *state)
{
	return &((struct nsm_service *)state)->model;
}

const char *nsm_service_root(void *state)
{
	return ((struct nsm_service *)state)->ca.root_path;
}

void nsm_service_set_timeout(void *state, unsigned ms)
{
	((struct nsm_service *)state)->timeout_ms = ms;
}

unsigned nsm_service_connections(void *state)
{
	return ((struct nsm_service *)state)->n_conns;
}
