/* wire_client: a scripted, misbehaving client of the build agent, for the
 * fault tests (tests/qemu/faults.sh). Messages are encoded by vsock/wire.c
 * (so the CBOR is the real thing); what is sent, in what order, how fast
 * and when the connection ends is up to the steps:
 *
 *   wire_client SOCKET STEP...     SOCKET: the vsock socket of `cleanroom run`
 *
 *   request[:CMD]       a request: sh -c CMD (default: true), output "out"
 *   loglimit:N          the requests that follow ask for limits.log_bytes N
 *   dir:PATH            a directory entry (src stream)
 *   file:PATH:SIZE      a file entry and SIZE bytes of data
 *   entry:PATH:SIZE     only the file entry
 *   data:N              one data message of N bytes
 *   symlink:PATH:TARGET a symlink entry
 *   end:STREAM[:FILES:BYTES]  end of src/deps (default: the counts sent)
 *   header:N            a frame header announcing N bytes, and nothing more
 *   garbage:N           a frame of N bytes that are not CBOR
 *   trickle:MS          from now on, send one byte every MS milliseconds
 *   sleep:MS            wait
 *   expect:TYPE         read one message; fail unless it is TYPE
 *   drain               read and print messages until the agent closes
 *   slowread:MS         read 1 KiB every MS milliseconds until the agent closes
 *   close               close the connection now
 *
 * Every message received is printed as one line ("recv error refused: ...",
 * "recv result failed: ...", "eof after N ms", "receive failed after N ms:
 * ..."). Exit 0 when the steps ran, 1 when an expect failed or a send
 * failed ("send failed after N ms: ..."), 2 on usage errors. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host-tool/client/vsock_client.h"
#include "vsock/wire.h"

static int sock = -1;
static long trickle_ms;
static uint64_t counted_files[2], counted_bytes[2];
static struct timespec t0;
static uint64_t log_limit;

static long elapsed_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* A frame from its body: all at once, or one byte at a time. */
static int send_raw(const uint8_t *p, size_t n)
{
	if (!trickle_ms)
		return cr_write_all(sock, p, n);
	for (size_t i = 0; i < n; i++) {
		if (cr_write_all(sock, p + i, 1))
			return -1;
		pause_ms(trickle_ms);
	}
	return 0;
}

static int send_frame(const uint8_t *body, size_t n)
{
	uint8_t hdr[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
	return send_raw(hdr, 4) || send_raw(body, n) ? -1 : 0;
}

static int send_msg(const struct wire_msg *m)
{
	struct cr_buf b;
	struct cr_err e;
	int rc;
	cr_buf_init(&b, WIRE_MAX_FRAME);
	if (wire_encode(m, &b, &e)) {
		fprintf(stderr, "wire_client: encode: %s\n", e.msg);
		exit(2);
	}
	rc = send_frame(b.p, b.len);
	cr_buf_free(&b);
	return rc;
}

static int send_data(size_t n)
{
	static uint8_t chunk[WIRE_MAX_CHUNK];
	struct wire_msg m;
	memset(chunk, 'x', sizeof chunk);
	while (n) {
		size_t k = n > sizeof chunk ? sizeof chunk : n;
		memset(&m, 0, sizeof m);
		m.type = WIRE_DATA;
		m.u.data.p = chunk;
		m.u.data.n = k;
		if (send_msg(&m))
			return -1;
		n -= k;
	}
	return 0;
}

static int send_entry(enum wire_entry_type type, const char *path, uint64_t size, const char *target)
{
	struct wire_msg m;
	wire_entry_msg(&m, WIRE_SRC, type, path, size, 0, target);
	counted_files[WIRE_SRC]++;
	counted_bytes[WIRE_SRC] += size;
	return send_msg(&m);
}

/* Print one received message; returns its type, or -1 at the end. */
static int receive_one(void)
{
	struct wire_msg m;
	struct cr_err e;
	int r = wire_recv(sock, &m, &e), t;
	if (r == 1) {
		printf("eof after %ld ms\n", elapsed_ms());
		return -1;
	}
	if (r < 0) {
		printf("receive failed after %ld ms: %s\n", elapsed_ms(), e.msg);
		return -1;
	}
	t = (int)m.type;
	switch (m.type) {
	case WIRE_ACCEPTED:
		printf("recv accepted %s files=%llu bytes=%llu\n", wire_stream_name(m.u.accepted.stream),
		       (unsigned long long)m.u.accepted.files, (unsigned long long)m.u.accepted.bytes);
		break;
	case WIRE_ERROR:
		printf("recv error %s: %s (after %ld ms)\n", wire_err_code_name(m.u.error.code), m.u.error.message,
		       elapsed_ms());
		break;
	case WIRE_RESULT: printf("recv result %s: %s\n", wire_status_name(m.u.result.status), m.u.result.detail); break;
	case WIRE_LOG:
		printf("recv log %.*s\n",
		       (int)(m.u.data.n && m.u.data.p[m.u.data.n - 1] == '\n' ? m.u.data.n - 1 : m.u.data.n),
		       (const char *)m.u.data.p);
		break;
	case WIRE_ARTIFACT:
		printf("recv artifact %s %llu\n", m.u.artifact.path, (unsigned long long)m.u.artifact.size);
		break;
	default: printf("recv %s\n", wire_type_name(m.type)); break;
	}
	fflush(stdout);
	wire_msg_free(&m);
	return t;
}

/* The agent stopped reading: show what it said before it closed. */
static int send_failed(const char *step)
{
	printf("send failed after %ld ms at '%s': %s\n", elapsed_ms(), step, strerror(errno));
	while (receive_one() >= 0) {
	}
	return 1;
}

static int step(const char *s)
{
	char buf[4200], *a, *b;
	snprintf(buf, sizeof buf, "%s", s);
	a = strchr(buf, ':');
	if (a)
		*a++ = 0;
	b = a ? strchr(a, ':') : NULL;
	if (!strcmp(buf, "request")) {
		struct wire_msg m;
		char *argv[] = { "sh", "-c", a ? a : "true" };
		memset(&m, 0, sizeof m);
		m.type = WIRE_REQUEST;
		m.u.request.argc = 3;
		for (int i = 0; i < 3; i++)
			m.u.request.argv[i] = argv[i];
		m.u.request.noutputs = 1;
		m.u.request.outputs[0] = "out";
		m.u.request.limits.log_bytes = log_limit;
		return send_msg(&m) ? send_failed(s) : 0;
	}
	if (!strcmp(buf, "loglimit") && a) {
		log_limit = strtoull(a, NULL, 10);
		return 0;
	}
	if (!strcmp(buf, "dir") && a)
		return send_entry(WIRE_DIR, a, 0, NULL) ? send_failed(s) : 0;
	if ((!strcmp(buf, "file") || !strcmp(buf, "entry")) && b) {
		*b++ = 0;
		uint64_t size = strtoull(b, NULL, 10);
		if (send_entry(WIRE_FILE, a, size, NULL) || (!strcmp(buf, "file") && send_data(size)))
			return send_failed(s);
		return 0;
	}
	if (!strcmp(buf, "data") && a)
		return send_data(strtoull(a, NULL, 10)) ? send_failed(s) : 0;
	if (!strcmp(buf, "symlink") && b) {
		*b++ = 0;
		return send_entry(WIRE_SYMLINK, a, 0, b) ? send_failed(s) : 0;
	}
	if (!strcmp(buf, "end") && a) {
		struct wire_msg m;
		enum wire_stream st = strncmp(a, "src", 3) ? WIRE_DEPS : WIRE_SRC;
		memset(&m, 0, sizeof m);
		m.type = WIRE_END;
		m.u.end.stream = st;
		m.u.end.files = counted_files[st];
		m.u.end.bytes = counted_bytes[st];
		if (b) {
			char *c = strchr(b + 1, ':');
			m.u.end.files = strtoull(b + 1, NULL, 10);
			m.u.end.bytes = c ? strtoull(c + 1, NULL, 10) : 0;
		}
		return send_msg(&m) ? send_failed(s) : 0;
	}
	if (!strcmp(buf, "header") && a) {
		uint32_t n = (uint32_t)strtoul(a, NULL, 10);
		uint8_t hdr[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
		return send_raw(hdr, 4) ? send_failed(s) : 0;
	}
	if (!strcmp(buf, "garbage") && a) {
		size_t n = strtoul(a, NULL, 10);
		uint8_t *g = malloc(n ? n : 1);
		if (!g)
			return 2;
		memset(g, 0xff, n); /* 0xff: a CBOR "break" outside any indefinite item */
		int rc = send_frame(g, n);
		free(g);
		return rc ? send_failed(s) : 0;
	}
	if (!strcmp(buf, "trickle") && a) {
		trickle_ms = strtol(a, NULL, 10);
		return 0;
	}
	if (!strcmp(buf, "sleep") && a) {
		pause_ms(strtol(a, NULL, 10));
		return 0;
	}
	if (!strcmp(buf, "expect") && a) {
		int t = receive_one();
		if (t < 0 || strcmp(wire_type_name((enum wire_type)t), a)) {
			printf("expected %s\n", a);
			return 1;
		}
		return 0;
	}
	if (!strcmp(buf, "drain")) {
		while (receive_one() >= 0) {
		}
		return 0;
	}
	if (!strcmp(buf, "slowread") && a) {
		/* A reader that takes 1 KiB every MS ms, raw, until the end. */
		char chunk[1024];
		unsigned long long total = 0;
		ssize_t n;
		while ((n = read(sock, chunk, sizeof chunk)) > 0) {
			total += (unsigned long long)n;
			pause_ms(strtol(a, NULL, 10));
		}
		printf("slowread: %llu bytes, then %s after %ld ms\n", total, n == 0 ? "eof" : strerror(errno),
		       elapsed_ms());
		return 0;
	}
	if (!strcmp(buf, "close")) {
		close(sock);
		sock = -1;
		return 0;
	}
	fprintf(stderr, "wire_client: unknown step '%s'\n", s);
	return 2;
}

int main(int argc, char **argv)
{
	struct cr_err e;
	if (argc < 3) {
		fprintf(stderr, "usage: wire_client SOCKET STEP...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	sock = vsock_client_connect(argv[1], WIRE_PORT, 30000, NULL, &e);
	if (sock < 0) {
		fprintf(stderr, "wire_client: %s\n", e.msg);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 2; i < argc; i++) {
		int rc = step(argv[i]);
		if (rc)
			return rc;
		if (sock < 0)
			break;
	}
	if (sock >= 0)
		close(sock);
	return 0;
}
