/* vsock/wire.c: round trips, framing, and refusal of malformed messages. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/cbor_write.h"
#include "tests/unit/check.h"
#include "vsock/wire.h"

static int roundtrip(const struct wire_msg *in, struct wire_msg *out)
{
	struct cr_buf b;
	struct cr_err e;
	int rc;
	cr_buf_init(&b, WIRE_MAX_FRAME);
	rc = wire_encode(in, &b, &e) || wire_decode(b.p, b.len, out, &e);
	if (rc)
		printf("# %s\n", e.msg);
	/* out may point into b for DATA/LOG: keep b alive by leaking into out->frame. */
	out->frame = b.p;
	return rc ? -1 : 0;
}

/* Decode a hand-built body; returns the error text or "" on success. */
static const char *decode_err(void (*build)(struct cbor_w *), struct cr_err *e)
{
	struct cr_buf b;
	struct cbor_w w;
	struct wire_msg m;
	cr_buf_init(&b, 1 << 20);
	cw_init(&w, &b);
	build(&w);
	cw_finish(&w, e);
	memset(&m, 0, sizeof m);
	if (wire_decode(b.p, b.len, &m, e) == 0) {
		wire_msg_free(&m);
		e->msg[0] = 0;
	}
	cr_buf_free(&b);
	return e->msg;
}

static void vt(struct cbor_w *w, size_t extra, const char *t)
{
	cw_map(w, extra + 2);
	cw_text(w, "v");
	cw_uint(w, 1);
	cw_text(w, "t");
	cw_text(w, t);
}
static void b_unknown_key(struct cbor_w *w)
{
	vt(w, 2, "log");
	cw_text(w, "d");
	cw_bytes(w, "x", 1);
	cw_text(w, "zz");
	cw_uint(w, 1);
}
static void b_missing(struct cbor_w *w)
{
	vt(w, 0, "log");
}
static void b_wrong_type(struct cbor_w *w)
{
	vt(w, 1, "log");
	cw_text(w, "d");
	cw_text(w, "x");
}
static void b_version(struct cbor_w *w)
{
	cw_map(w, 2);
	cw_text(w, "v");
	cw_uint(w, 2);
	cw_text(w, "t");
	cw_text(w, "log");
}
static void b_bad_type(struct cbor_w *w)
{
	vt(w, 0, "shell");
}
static void b_not_map(struct cbor_w *w)
{
	cw_array(w, 0);
}
static void b_empty_data(struct cbor_w *w)
{
	vt(w, 1, "data");
	cw_text(w, "d");
	cw_bytes(w, "", 0);
}
static void entry(struct cbor_w *w, const char *path, const char *type, uint64_t size)
{
	vt(w, 5, "entry");
	cw_text(w, "stream");
	cw_text(w, "src");
	cw_text(w, "path");
	cw_text(w, path);
	cw_text(w, "type");
	cw_text(w, type);
	cw_text(w, "size");
	cw_uint(w, size);
	cw_text(w, "exec");
	cw_bool(w, 0);
}
static void b_dotdot(struct cbor_w *w)
{
	entry(w, "a/../../etc/passwd", "file", 1);
}
static void b_abs(struct cbor_w *w)
{
	entry(w, "/etc/passwd", "file", 1);
}
static void b_empty_comp(struct cbor_w *w)
{
	entry(w, "a//b", "file", 1);
}
static void b_git(struct cbor_w *w)
{
	entry(w, "x/.git/config", "file", 1);
}
static void b_trailing(struct cbor_w *w)
{
	entry(w, "a/", "dir", 0);
}
static void b_dir_size(struct cbor_w *w)
{
	entry(w, "a", "dir", 5);
}
static void b_fifo(struct cbor_w *w)
{
	entry(w, "a", "fifo", 0);
}
static void b_link_no_target(struct cbor_w *w)
{
	entry(w, "a", "symlink", 0);
}
/* A request whose argv[1] is not UTF-8 (the report records argv as JSON text). */
static void b_argv_latin1(struct cbor_w *w)
{
	vt(w, 5, "request");
	cw_text(w, "argv");
	cw_array(w, 2);
	cw_text(w, "echo");
	cw_textn(w, "caf\xe9", 4);
	cw_text(w, "outputs");
	cw_array(w, 1);
	cw_text(w, "x");
	cw_text(w, "sde");
	cw_uint(w, 0);
	cw_text(w, "nonce");
	cw_bytes(w, "", 0);
	cw_text(w, "limits");
	cw_map(w, 6);
	cw_text(w, "timeout_s");
	cw_uint(w, 0);
	cw_text(w, "memory_mb");
	cw_uint(w, 0);
	cw_text(w, "pids");
	cw_uint(w, 0);
	cw_text(w, "source_mb");
	cw_uint(w, 0);
	cw_text(w, "files");
	cw_uint(w, 0);
	cw_text(w, "output_mb");
	cw_uint(w, 0);
}
static void b_dropped_text(struct cbor_w *w)
{
	vt(w, 7, "result");
	cw_text(w, "status");
	cw_text(w, "ok");
	cw_text(w, "exit_code");
	cw_uint(w, 0);
	cw_text(w, "signal");
	cw_null(w);
	cw_text(w, "detail");
	cw_text(w, "x");
	cw_text(w, "wall_ms");
	cw_uint(w, 1);
	cw_text(w, "bundle");
	cw_null(w);
	cw_text(w, "log_dropped");
	cw_text(w, "lots");
}
static void b_nul(struct cbor_w *w)
{
	vt(w, 2, "error");
	cw_text(w, "code");
	cw_text(w, "protocol");
	cw_text(w, "message");
	cw_textn(w, "a\0b", 3);
}

/* A result and an error as the encoder wrote them when status and code were
 * text: the words on the wire are the same. */
static void result_words(struct cbor_w *w, const char *status)
{
	vt(w, 6, "result");
	cw_text(w, "status");
	cw_text(w, status);
	cw_text(w, "exit_code");
	cw_null(w);
	cw_text(w, "signal");
	cw_null(w);
	cw_text(w, "detail");
	cw_text(w, "d");
	cw_text(w, "wall_ms");
	cw_uint(w, 5);
	cw_text(w, "bundle");
	cw_null(w);
}
static void error_words(struct cbor_w *w, const char *code)
{
	vt(w, 2, "error");
	cw_text(w, "code");
	cw_text(w, code);
	cw_text(w, "message");
	cw_text(w, "m");
}
static void b_status_unknown(struct cbor_w *w)
{
	result_words(w, "done");
}
static void b_status_case(struct cbor_w *w)
{
	result_words(w, "OK");
}
static void b_code_unknown(struct cbor_w *w)
{
	error_words(w, "oops");
}

/* Encoding m gives exactly the bytes of build(word), and they decode back. */
static int same_bytes(const struct wire_msg *m, void (*build)(struct cbor_w *, const char *), const char *word,
		      struct wire_msg *back)
{
	struct cr_buf a, b;
	struct cbor_w w;
	struct cr_err e;
	int same;
	cr_buf_init(&a, WIRE_MAX_FRAME);
	cr_buf_init(&b, WIRE_MAX_FRAME);
	cw_init(&w, &b);
	build(&w, word);
	same = wire_encode(m, &a, &e) == 0 && cw_finish(&w, &e) == 0 && a.len == b.len && !memcmp(a.p, b.p, a.len);
	memset(back, 0, sizeof *back);
	same = same && wire_decode(a.p, a.len, back, &e) == 0;
	cr_buf_free(&a);
	cr_buf_free(&b);
	return same;
}

int main(void)
{
	struct wire_msg in, out;
	struct cr_err e;

	memset(&in, 0, sizeof in);
	in.type = WIRE_REQUEST;
	in.u.request.argc = 2;
	in.u.request.argv[0] = "make";
	in.u.request.argv[1] = "-j2";
	in.u.request.noutputs = 1;
	in.u.request.outputs[0] = "out/hello";
	in.u.request.sde = 1700000000;
	in.u.request.nonce_len = 3;
	memcpy(in.u.request.nonce, "\x01\x02\x03", 3);
	in.u.request.limits = (struct wire_limits){ 600, 1024, 256, 100, 1000, 50, 0 };
	memset(&out, 0, sizeof out);
	T_OK(roundtrip(&in, &out) == 0 && out.type == WIRE_REQUEST && out.u.request.argc == 2 &&
		     !strcmp(out.u.request.argv[1], "-j2") && out.u.request.argv[2] == NULL &&
		     !strcmp(out.u.request.outputs[0], "out/hello") && out.u.request.sde == 1700000000 &&
		     out.u.request.nonce_len == 3 && out.u.request.limits.pids == 256 &&
		     out.u.request.limits.output_mb == 50,
	     "request round trip");
	wire_msg_free(&out);

	/* The log limit and the dropped count: optional keys,
	 * sent only when not 0, so peers of before them still understand a
	 * request without a log limit and a result of a whole log. */
	{
		struct cr_buf b;
		in.u.request.limits.log_bytes = 0;
		cr_buf_init(&b, WIRE_MAX_FRAME);
		T_OK(wire_encode(&in, &b, &e) == 0 && !memmem(b.p, b.len, "log_bytes", 9),
		     "a request without a log limit has no log_bytes key (as before)");
		cr_buf_free(&b);
		in.u.request.limits.log_bytes = 100000;
		memset(&out, 0, sizeof out);
		T_OK(roundtrip(&in, &out) == 0 && out.u.request.limits.log_bytes == 100000,
		     "request round trip with limits.log_bytes");
		wire_msg_free(&out);
	}

	memset(&in, 0, sizeof in);
	in.type = WIRE_RESULT;
	in.u.result.status = WIRE_ST_OK;
	in.u.result.has_exit_code = 1;
	{
		struct cr_buf b;
		cr_buf_init(&b, WIRE_MAX_FRAME);
		T_OK(wire_encode(&in, &b, &e) == 0 && !memmem(b.p, b.len, "log_dropped", 11),
		     "a result of a whole log has no log_dropped key (as before)");
		cr_buf_free(&b);
	}
	in.u.result.log_dropped = 1234;
	memset(&out, 0, sizeof out);
	T_OK(roundtrip(&in, &out) == 0 && out.u.result.log_dropped == 1234, "result round trip with log_dropped");
	wire_msg_free(&out);
	T_STR(decode_err(b_dropped_text, &e), "result message: field 'log_dropped' must be an unsigned integer",
	      "log_dropped of the wrong type is refused");
	T_STR(decode_err(b_argv_latin1, &e), "request message: argv[1] is not valid UTF-8",
	      "a command argument that is not UTF-8 is refused");

	memset(&in, 0, sizeof in);
	in.type = WIRE_ENTRY;
	in.u.entry = (struct wire_entry){ WIRE_DEPS, WIRE_SYMLINK, "lib/x", 0, 0, "../y" };
	memset(&out, 0, sizeof out);
	T_OK(roundtrip(&in, &out) == 0 && out.type == WIRE_ENTRY && out.u.entry.stream == WIRE_DEPS &&
		     out.u.entry.type == WIRE_SYMLINK && !strcmp(out.u.entry.target, "../y"),
	     "symlink entry round trip");
	wire_msg_free(&out);

	memset(&in, 0, sizeof in);
	in.type = WIRE_RESULT;
	in.u.result.status = WIRE_ST_FAILED;
	in.u.result.has_exit_code = 1;
	in.u.result.exit_code = 2;
	snprintf(in.u.result.detail, sizeof in.u.result.detail, "make exited with status 2");
	in.u.result.wall_ms = 1234;
	memset(&out, 0, sizeof out);
	T_OK(roundtrip(&in, &out) == 0 && out.u.result.has_exit_code && out.u.result.exit_code == 2 &&
		     !out.u.result.has_signal && out.u.result.bundle == NULL && out.u.result.wall_ms == 1234,
	     "result round trip with nulls");
	wire_msg_free(&out);

	memset(&in, 0, sizeof in);
	in.type = WIRE_ACCEPTED;
	in.u.accepted.files = 7;
	memset(in.u.accepted.tree_sha1, 0xab, 20);
	memset(&out, 0, sizeof out);
	T_OK(roundtrip(&in, &out) == 0 && out.u.accepted.files == 7 && out.u.accepted.tree_sha1[19] == 0xab,
	     "accepted round trip");
	wire_msg_free(&out);

	T_STR(decode_err(b_unknown_key, &e), "log message: unknown field 'zz'", "unknown keys are refused");
	T_STR(decode_err(b_missing, &e), "log message: field 'd' missing", "missing fields are named");
	T_STR(decode_err(b_wrong_type, &e), "log message: field 'd' must be a byte string", "wrong types are named");
	T_STR(decode_err(b_version, &e), "message: protocol version 2, this side speaks 1",
	      "other versions are refused");
	T_STR(decode_err(b_bad_type, &e), "message: unknown type 'shell'", "unknown message types are refused");
	T_STR(decode_err(b_not_map, &e), "message: not a CBOR map", "a body that is not a map is refused");
	T_OK(strstr(decode_err(b_empty_data, &e), "field 'd' has 0 bytes") != NULL, "empty data chunks are refused");
	T_STR(decode_err(b_dotdot, &e), "entry 'a/../../etc/passwd': '.' and '..' components are refused",
	      "'..' refused");
	T_STR(decode_err(b_abs, &e), "entry '/etc/passwd': absolute paths are refused", "absolute paths refused");
	T_STR(decode_err(b_empty_comp, &e), "entry 'a//b': empty path component", "empty components refused");
	T_OK(strstr(decode_err(b_git, &e), "'.git' components are refused") != NULL, ".git refused");
	T_STR(decode_err(b_trailing, &e), "entry 'a/': trailing '/'", "trailing slash refused");
	T_STR(decode_err(b_dir_size, &e), "entry message: dir 'a' must have size 0 and exec false",
	      "dir with a size refused");
	T_OK(strstr(decode_err(b_fifo, &e), "field 'type' must be") != NULL, "unknown entry types (fifo) refused");
	T_STR(decode_err(b_link_no_target, &e), "entry message: field 'target' missing",
	      "symlink without target refused");
	T_STR(decode_err(b_nul, &e), "error message: field 'message' contains a NUL byte", "NUL in text refused");

	/* Frames over a socket pair. */
	{
		int sv[2];
		uint8_t big[WIRE_MAX_CHUNK];
		memset(big, 7, sizeof big);
		T_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
		if (fork() == 0) {
			close(sv[0]);
			wire_send_data(sv[1], WIRE_DATA, big, 100, &e);
			wire_send_error(sv[1], WIRE_ERR_REFUSED, "entry 'x': no", &e);
			/* A frame whose declared length exceeds the limit. */
			if (write(sv[1], "\x00\x20\x00\x00", 4) != 4)
				_exit(1);
			_exit(0);
		}
		close(sv[1]);
		memset(&out, 0, sizeof out);
		T_OK(wire_recv(sv[0], &out, &e) == 0 && out.type == WIRE_DATA && out.u.data.n == 100 &&
			     out.u.data.p[99] == 7,
		     "data frame sent without copying arrives intact");
		wire_msg_free(&out);
		T_OK(wire_recv(sv[0], &out, &e) == 0 && out.type == WIRE_ERROR && out.u.error.code == WIRE_ERR_REFUSED,
		     "error frame");
		wire_msg_free(&out);
		T_OK(wire_recv(sv[0], &out, &e) == -1 && strstr(e.msg, "frame length 2097152 outside 1..1048576"),
		     "oversize frame refused before reading it: %s", e.msg);
		T_OK(wire_recv(sv[0], &out, &e) == 1, "clean end of stream");
		close(sv[0]);
	}
	{
		int sv[2];
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		if (write(sv[1], "\x00\x00\x00\x10\xa2", 5) != 5)
			return 1;
		close(sv[1]);
		T_OK(wire_recv(sv[0], &out, &e) == -1 && strstr(e.msg, "connection closed inside a 16-byte frame"),
		     "truncated frame reported: %s", e.msg);
		close(sv[0]);
	}
	T_OK(wire_send_data(-1, WIRE_DATA, "x", 0, &e) == -1, "empty chunks are never sent");

	/* The reader that reads ahead: frames cut anywhere by its buffer (sizes
	 * 1..9 and 64 KiB, around frame headers and bodies), frames from a pool
	 * and not, the same frames as frame by frame; a stream that ends inside
	 * a header or body, and a timeout, fail as wire_recv's do. */
	{
		static const size_t caps[] = { 1, 2, 3, 4, 5, 7, 9, 65536 };
		static uint8_t chunk[WIRE_MAX_CHUNK], ahead[65536];
		int all = 1;
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = (uint8_t)(i * 13 + 5);
		for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
			int fd = memfd_create("frames", 0);
			struct wire_reader rd;
			struct cr_pool pool;
			int ok = 1, r;
			/* data of 1..300 bytes, an error, data of a whole chunk (larger
			 * than the pool's 4 KiB buffers: malloc'd), a request of 40
			 * arguments (about 1.5 KB: pooled when there is a pool) */
			for (size_t n = 1; n <= 300; n += 23)
				wire_send_data(fd, WIRE_DATA, chunk, n, &e);
			wire_send_error(fd, WIRE_ERR_REFUSED, "entry 'x': no", &e);
			wire_send_data(fd, WIRE_DATA, chunk, sizeof chunk, &e);
			memset(&in, 0, sizeof in);
			in.type = WIRE_REQUEST;
			for (in.u.request.argc = 0; in.u.request.argc < 40; in.u.request.argc++)
				in.u.request.argv[in.u.request.argc] = "an argument of some length, repeated";
			in.u.request.outputs[0] = "out";
			in.u.request.noutputs = 1;
			wire_send(fd, &in, &e);
			lseek(fd, 0, SEEK_SET);
			cr_pool_init(&pool, 4096, 2);
			wire_reader_init(&rd, fd, c % 2 ? &pool : NULL, ahead, caps[c]);
			for (size_t n = 1; n <= 300; n += 23) {
				ok &= wire_read(&rd, &out, &e) == 0 && out.type == WIRE_DATA && out.u.data.n == n &&
				      !memcmp(out.u.data.p, chunk, n) && (out.frame_pool != NULL) == (c % 2 == 1);
				wire_msg_free(&out);
			}
			ok &= wire_read(&rd, &out, &e) == 0 && out.type == WIRE_ERROR &&
			      !strcmp(out.u.error.message, "entry 'x': no");
			wire_msg_free(&out);
			ok &= wire_read(&rd, &out, &e) == 0 && out.type == WIRE_DATA && out.u.data.n == sizeof chunk &&
			      !memcmp(out.u.data.p, chunk, sizeof chunk) && out.frame_pool == NULL;
			wire_msg_free(&out);
			ok &= wire_read(&rd, &out, &e) == 0 && out.type == WIRE_REQUEST && out.u.request.argc == 40;
			wire_msg_free(&out);
			r = wire_read(&rd, &out, &e);
			ok &= r == 1;
			cr_pool_destroy(&pool);
			close(fd);
			if (!ok)
				printf("# read-ahead of %zu bytes: wrong frames (last: %d, %s)\n", caps[c], r, e.msg);
			all &= ok;
		}
		T_OK(all, "reading ahead by 1..9 bytes or 64 KiB gives the same frames, from a pool or not");
		for (size_t cut = 1; cut < 20; cut++) {
			int fd = memfd_create("cut", 0);
			struct wire_reader rd;
			uint8_t frame[64];
			struct cr_buf b;
			int r;
			memset(&in, 0, sizeof in);
			in.type = WIRE_ERROR;
			in.u.error.code = WIRE_ERR_BUSY;
			snprintf(in.u.error.message, sizeof in.u.error.message, "busy");
			cr_buf_init(&b, 64);
			if (wire_encode(&in, &b, &e) || b.len + 4 > sizeof frame || b.len + 4 <= cut)
				abort();
			frame[0] = frame[1] = frame[2] = 0;
			frame[3] = (uint8_t)b.len;
			memcpy(frame + 4, b.p, b.len);
			cr_buf_free(&b);
			if (write(fd, frame, cut) != (ssize_t)cut)
				abort();
			lseek(fd, 0, SEEK_SET);
			wire_reader_init(&rd, fd, NULL, ahead, sizeof ahead);
			errno = EAGAIN; /* a stale errno must not turn the end into a timeout */
			r = wire_read(&rd, &out, &e);
			all &= r == -1 && e.code == CR_E_FAIL &&
			       strstr(e.msg, cut < 4 ? "connection closed inside a frame header"
						     : "connection closed inside a ");
			close(fd);
		}
		T_OK(all,
		     "a stream cut inside a header, right after it or inside a body fails as closed, not timed out: %s",
		     e.msg);
		{
			int sv[2];
			struct timeval tv = { 0, 100000 };
			struct wire_reader rd;
			socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
			setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			wire_reader_init(&rd, sv[0], NULL, ahead, sizeof ahead);
			T_OK(wire_read(&rd, &out, &e) == -1 && e.code == CR_E_TIMEOUT,
			     "a read-ahead that times out: %s", e.msg);
			if (write(sv[1], "\x00\x00\x00\x10\xa2", 5) != 5)
				return 1;
			T_OK(wire_read(&rd, &out, &e) == -1 && e.code == CR_E_TIMEOUT,
			     "a timeout inside a frame read ahead: %s", e.msg);
			close(sv[0]);
			close(sv[1]);
		}
	}

	/* Status and error codes: enums inside, the same words on the wire;
	 * a word outside the set does not decode. */
	{
		static const char *const statuses[] = { "ok",    "failed",         "timeout",
							"limit", "missing-output", "bad-output" };
		static const char *const codes[] = { "protocol", "refused", "limit", "busy", "internal" };
		int all = 1;
		for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
			memset(&in, 0, sizeof in);
			in.type = WIRE_RESULT;
			in.u.result.status = (enum wire_status)i;
			snprintf(in.u.result.detail, sizeof in.u.result.detail, "d");
			in.u.result.wall_ms = 5;
			all &= same_bytes(&in, result_words, statuses[i], &out) &&
			       out.u.result.status == (enum wire_status)i &&
			       !strcmp(wire_status_name((enum wire_status)i), statuses[i]);
			wire_msg_free(&out);
		}
		T_OK(all, "each result status is encoded as its word, byte for byte, and decodes back");
		all = 1;
		for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
			memset(&in, 0, sizeof in);
			in.type = WIRE_ERROR;
			in.u.error.code = (enum wire_err_code)i;
			snprintf(in.u.error.message, sizeof in.u.error.message, "m");
			all &= same_bytes(&in, error_words, codes[i], &out) &&
			       out.u.error.code == (enum wire_err_code)i &&
			       !strcmp(wire_err_code_name((enum wire_err_code)i), codes[i]);
			wire_msg_free(&out);
		}
		T_OK(all, "each error code is encoded as its word, byte for byte, and decodes back");
		T_STR(decode_err(b_status_unknown, &e),
		      "result message: field 'status' must be \"ok\", \"failed\", \"timeout\", \"limit\", "
		      "\"missing-output\" or \"bad-output\"",
		      "an unknown result status is refused at decoding");
		T_OK(decode_err(b_status_case, &e)[0] != 0, "status words are case-sensitive");
		T_STR(decode_err(b_code_unknown, &e),
		      "error message: field 'code' must be \"protocol\", \"refused\", \"limit\", \"busy\" or "
		      "\"internal\"",
		      "an unknown error code is refused at decoding");
	}

	/* Failures carry a code and the errno: callers decide on those. */
	{
		int sv[2];
		struct timeval tv = { 0, 100000 };
		socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		T_OK(wire_recv(sv[0], &out, &e) == -1 && e.code == CR_E_TIMEOUT && !strcmp(e.msg, "receive: timed out"),
		     "a receive timeout has code CR_E_TIMEOUT: %s", e.msg);
		if (write(sv[1], "\x00\x00\x00\x10\xa2", 5) != 5)
			return 1;
		T_OK(wire_recv(sv[0], &out, &e) == -1 && e.code == CR_E_TIMEOUT, "a timeout inside a frame too: %s",
		     e.msg);
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		T_OK(wire_send_error(sv[1], WIRE_ERR_INTERNAL, "x", &e) == -1 && e.code == CR_E_SEND &&
			     e.sys_errno == EPIPE && !strncmp(e.msg, "send: ", 6),
		     "a send to a closed peer has code CR_E_SEND and errno EPIPE: %s", e.msg);
		T_OK(wire_send_data(sv[1], WIRE_LOG, "x", 1, &e) == -1 && e.code == CR_E_SEND && e.sys_errno == EPIPE,
		     "so has a data send: %s", e.msg);
		close(sv[1]);
		cr_fail(&e, "plain");
		T_OK(e.code == CR_E_FAIL && e.sys_errno == 0, "cr_fail clears the errno");
		errno = ENOENT;
		cr_failp(&e, "p");
		T_OK(e.code == CR_E_FAIL && e.sys_errno == ENOENT && errno == ENOENT, "cr_failp keeps the errno: %s",
		     e.msg);
	}
	/* The batching writer: the same bytes as frame-by-frame sends; nothing
	 * written before a batch is full; payloads of WIRE_WRITER_COPY_MAX or
	 * more go out at once, after what was queued; a message over the frame
	 * limit is refused and leaves the queue as it was; a failed send has
	 * CR_E_SEND and drops the queue. */
	{
		static uint8_t chunk[WIRE_MAX_CHUNK];
		int one = memfd_create("one", 0), batched = memfd_create("batched", 0), sv[2];
		struct wire_writer w;
		struct wire_msg ent;
		int ok = 1;
		off_t before_flush;
		for (size_t i = 0; i < sizeof chunk; i++)
			chunk[i] = (uint8_t)(i * 7 + 1);
		wire_writer_init(&w, batched, 65536);
		for (size_t n = 1; n <= 40000; n = n * 3 + 1) {
			char path[32];
			snprintf(path, sizeof path, "f%zu", n);
			wire_entry_msg(&ent, WIRE_SRC, WIRE_FILE, path, n, 0, NULL);
			ok &= wire_send(one, &ent, &e) == 0 && wire_send_data(one, WIRE_DATA, chunk, n, &e) == 0;
			ok &= wire_writer_msg(&w, &ent, &e) == 0 && wire_writer_data(&w, WIRE_DATA, chunk, n, &e) == 0;
			if (n == 1)
				T_OK(lseek(batched, 0, SEEK_END) == 0 && w.out.len > 0,
				     "small frames wait in the writer's queue (%zu bytes)", w.out.len);
		}
		/* 1, 4, 13, ..., 29524: the 29524-byte payload went out at once,
		 * with everything queued before it; what follows is queued. */
		T_OK(w.out.len == 0 && lseek(batched, 0, SEEK_END) == lseek(one, 0, SEEK_END),
		     "a payload of WIRE_WRITER_COPY_MAX bytes or more takes the queue with it");
		for (int i = 0; i < 20; i++)
			ok &= wire_send_data(one, WIRE_DATA, chunk, 4096, &e) == 0 &&
			      wire_writer_data(&w, WIRE_DATA, chunk, 4096, &e) == 0;
		before_flush = lseek(batched, 0, SEEK_END);
		T_OK(before_flush > 0 && before_flush >= 65536 && w.out.len < 65536,
		     "a full batch goes out in one write (%lld bytes written, %zu queued)", (long long)before_flush,
		     w.out.len);
		memset(&in, 0, sizeof in);
		in.type = WIRE_REQUEST;
		in.u.request.argc = 1;
		{
			static char huge[WIRE_MAX_FRAME + 16];
			size_t queued = w.out.len;
			memset(huge, 'a', sizeof huge - 1);
			in.u.request.argv[0] = huge;
			in.u.request.outputs[0] = "out";
			in.u.request.noutputs = 1;
			T_OK(wire_writer_msg(&w, &in, &e) == -1 && strstr(e.msg, "exceeds the limit") &&
				     w.out.len == queued,
			     "a message over the frame limit is refused, the queue unchanged: %s", e.msg);
		}
		ok &= wire_writer_flush(&w, &e) == 0;
		T_OK(ok && w.out.len == 0, "the writer sent everything after flush");
		{
			off_t n1 = lseek(one, 0, SEEK_END), n2 = lseek(batched, 0, SEEK_END);
			uint8_t *a = malloc((size_t)n1), *b = malloc((size_t)n2);
			T_OK(n1 == n2 && a && b && pread(one, a, (size_t)n1, 0) == n1 &&
				     pread(batched, b, (size_t)n2, 0) == n2 && !memcmp(a, b, (size_t)n1),
			     "batched frames are byte for byte the frames sent one by one (%lld bytes)", (long long)n1);
			free(a);
			free(b);
		}
		wire_writer_free(&w);
		close(one);
		close(batched);

		signal(SIGPIPE, SIG_IGN);
		T_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
		close(sv[0]);
		wire_writer_init(&w, sv[1], 65536);
		T_OK(wire_writer_data(&w, WIRE_DATA, chunk, 100, &e) == 0, "queued without a write");
		T_OK(wire_writer_flush(&w, &e) == -1 && e.code == CR_E_SEND && e.sys_errno == EPIPE && w.out.len == 0,
		     "a failed flush has CR_E_SEND and drops the queue: %s", e.msg);
		T_OK(wire_writer_data(&w, WIRE_DATA, chunk, 20000, &e) == -1 && e.code == CR_E_SEND,
		     "so has a payload sent at once: %s", e.msg);
		T_OK(wire_writer_data(&w, WIRE_DATA, chunk, 0, &e) == -1 && strstr(e.msg, "chunk of 0 bytes"),
		     "empty chunks are refused by the writer too");
		wire_writer_free(&w);
		close(sv[1]);
	}
	return t_done();
}
