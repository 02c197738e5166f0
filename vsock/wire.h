/* The build wire protocol (vsock/README.md): framed CBOR messages between a
 * client (`cleanroom build`) and the build agent in the enclave. One encoder
 * and one decoder serve both ends; every length and count is bounded, and a
 * decoded message has been checked field by field. */
#ifndef CLEANROOM_WIRE_H
#define CLEANROOM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/pool.h"
#include "base/util.h"

#define WIRE_VERSION 1
#define WIRE_PORT 5000
#define WIRE_MAX_FRAME (1u << 20)
#define WIRE_MAX_CHUNK 262144u
#define WIRE_MAX_LOG_CHUNK 65536u
#define WIRE_MAX_PATH 4096
#define WIRE_MAX_ARGS 256
#define WIRE_MAX_ARG 4096
#define WIRE_MAX_ARGV_BYTES 65536
#define WIRE_MAX_OUTPUTS 64
#define WIRE_MAX_NONCE 64
#define WIRE_MAX_BUNDLE (WIRE_MAX_FRAME - 4096)
#define WIRE_MAX_MESSAGE 1024
/* The build's limits (request message, "limits"): for each, the range the
 * wire carries (a request outside it does not decode), the smallest value
 * an agent accepts, and the client's default. 0 asks the agent for its
 * maximum (which it may set lower than WIRE_MAX_*). */
#define WIRE_DEFAULT_TIMEOUT_S 3600
#define WIRE_MIN_TIMEOUT_S 1
#define WIRE_MAX_TIMEOUT_S 86400
#define WIRE_MIN_MEMORY_MB 16
#define WIRE_MAX_MEMORY_MB UINT32_MAX
#define WIRE_MIN_PIDS 8
#define WIRE_MAX_PIDS UINT32_MAX
#define WIRE_MIN_SOURCE_MB 1
#define WIRE_MAX_SOURCE_MB UINT32_MAX
#define WIRE_MIN_FILES 1
#define WIRE_MAX_FILES UINT32_MAX
#define WIRE_MIN_OUTPUT_MB 1
#define WIRE_MAX_OUTPUT_MB UINT32_MAX
/* The build log the agent passes on, at most (limits.log_bytes; absent on
 * the wire when 0). */
#define WIRE_MIN_LOG_BYTES 1024
#define WIRE_MAX_LOG_BYTES (64ull << 20)
/* SOURCE_DATE_EPOCH, at most */
#define WIRE_MAX_SDE UINT32_MAX

enum wire_type {
	WIRE_REQUEST,
	WIRE_ENTRY,
	WIRE_DATA,
	WIRE_END,
	WIRE_ACCEPTED,
	WIRE_LOG,
	WIRE_ARTIFACT,
	WIRE_RESULT,
	WIRE_ERROR,
};

enum wire_stream { WIRE_SRC, WIRE_DEPS };
enum wire_entry_type { WIRE_FILE, WIRE_DIR, WIRE_SYMLINK };

/* The outcome of a build that ran (result message, field "status"). */
enum wire_status {
	WIRE_ST_OK,             /* "ok": exit 0, every output a regular file */
	WIRE_ST_FAILED,         /* "failed": non-zero exit or a signal */
	WIRE_ST_TIMEOUT,        /* "timeout" */
	WIRE_ST_LIMIT,          /* "limit": the memory or process limit hit */
	WIRE_ST_MISSING_OUTPUT, /* "missing-output": a declared output was not produced */
	WIRE_ST_BAD_OUTPUT,     /* "bad-output": a declared output is not a regular file */
};

/* Why the agent ended a session without a result (error message, "code"). */
enum wire_err_code {
	WIRE_ERR_PROTOCOL, /* "protocol": a malformed or unexpected message */
	WIRE_ERR_REFUSED,  /* "refused": an input broke a rule (path, type, symlink) */
	WIRE_ERR_LIMIT,    /* "limit": an input or the session exceeded a limit */
	WIRE_ERR_BUSY,     /* "busy" */
	WIRE_ERR_INTERNAL, /* "internal" */
};

struct wire_limits {
	uint64_t timeout_s, memory_mb, pids, source_mb, files, output_mb;
	uint64_t log_bytes; /* optional on the wire: sent only when not 0 */
};

struct wire_request {
	char *argv[WIRE_MAX_ARGS + 1]; /* NULL-terminated */
	size_t argc;
	char *outputs[WIRE_MAX_OUTPUTS];
	size_t noutputs;
	uint64_t sde;
	uint8_t nonce[WIRE_MAX_NONCE];
	size_t nonce_len;
	struct wire_limits limits;
};

struct wire_entry {
	enum wire_stream stream;
	enum wire_entry_type type;
	char path[WIRE_MAX_PATH + 1];
	uint64_t size;
	int exec;
	char target[WIRE_MAX_PATH + 1];
};

struct wire_end {
	enum wire_stream stream;
	uint64_t files, bytes;
};

struct wire_accepted {
	enum wire_stream stream;
	uint64_t files, bytes;
	uint8_t tree_sha1[CR_SHA1_LEN], tree_sha256[CR_SHA256_LEN];
};

struct wire_artifact {
	char path[WIRE_MAX_PATH + 1];
	uint64_t size;
	int exec;
};

struct wire_result {
	enum wire_status status;
	int has_exit_code, has_signal;
	uint64_t exit_code, signal;
	char detail[WIRE_MAX_MESSAGE];
	uint64_t wall_ms;
	uint64_t log_dropped;  /* log bytes cut at the log limit; on the wire only when not 0 */
	const uint8_t *bundle; /* NULL when absent */
	size_t bundle_len;
};

struct wire_error {
	enum wire_err_code code;
	char message[WIRE_MAX_MESSAGE];
};

struct wire_msg {
	enum wire_type type;
	union {
		struct wire_request request;
		struct wire_entry entry;
		struct wire_end end;
		struct wire_accepted accepted;
		struct wire_artifact artifact;
		struct wire_result result;
		struct wire_error error;
		struct {
			const uint8_t *p; /* DATA and LOG: points into the frame */
			size_t n;
		} data;
	} u;
	uint8_t *frame;             /* owned: the received frame body */
	struct cr_pool *frame_pool; /* where frame goes back (NULL: it is freed) */
};

const char *wire_type_name(enum wire_type t);
const char *wire_stream_name(enum wire_stream s);
/* The wire words: "ok", "missing-output"...; "protocol", "refused"... */
const char *wire_status_name(enum wire_status s);
const char *wire_err_code_name(enum wire_err_code c);

/* Encode a message body (CBOR). */
int wire_encode(const struct wire_msg *m, struct cr_buf *out, struct cr_err *e);
/* Decode and validate a body; m points into body for DATA/LOG/bundle, so
 * body must outlive m (wire_recv arranges that). */
int wire_decode(const uint8_t *body, size_t len, struct wire_msg *m, struct cr_err *e);
void wire_msg_free(struct wire_msg *m);

/* Write one frame. */
int wire_send(int fd, const struct wire_msg *m, struct cr_err *e);
/* DATA or LOG from a buffer, without building a message. */
int wire_send_data(int fd, enum wire_type t, const void *p, size_t n, struct cr_err *e);
/* A writer of frames that batches them: frames collect in one buffer and
 * go out in one write() once batch bytes are queued, or at
 * wire_writer_flush. Under an emulated CPU each packet the bridge hands the
 * guest costs the guest's kernel an interrupt and a socket buffer, and a
 * small file is two frames: written one by one they reach the guest as
 * several packets each, batched they fill its 4 KiB receive buffers.
 * Payloads of WIRE_WRITER_COPY_MAX bytes or more are not copied: they go out
 * at once, after what is queued, from the caller's buffer. batch 0: every
 * frame goes out at once, in one system call. A failed send drops what was
 * queued (the connection is lost anyway). */
#define WIRE_WRITER_COPY_MAX 16384u
struct wire_writer {
	int fd;
	size_t batch;
	struct cr_buf out; /* queued frames */
	struct cr_buf msg; /* the message being encoded */
};
void wire_writer_init(struct wire_writer *w, int fd, size_t batch);
int wire_writer_msg(struct wire_writer *w, const struct wire_msg *m, struct cr_err *e);
int wire_writer_data(struct wire_writer *w, enum wire_type t, const void *p, size_t n, struct cr_err *e);
int wire_writer_flush(struct wire_writer *w, struct cr_err *e);
/* Drops what is still queued. */
void wire_writer_free(struct wire_writer *w);
/* Fill m with an entry message (target: a symlink's, or NULL). */
void wire_entry_msg(struct wire_msg *m, enum wire_stream s, enum wire_entry_type t, const char *path, uint64_t size,
		    int exec, const char *target);
int wire_send_error(int fd, enum wire_err_code code, const char *message, struct cr_err *e);
/* Read and decode one frame. Returns 0, 1 on a clean end of stream before
 * the first byte of a frame, or -1 with e (a socket timeout set by the caller
 * with SO_RCVTIMEO reads as "timed out", code CR_E_TIMEOUT). Send functions
 * fail with CR_E_SEND (and sys_errno) when the write fails. */
int wire_recv(int fd, struct wire_msg *m, struct cr_err *e);

/* A reader of frames that reads ahead: one read() takes every frame already
 * queued on the socket instead of two reads a frame (under an emulated CPU
 * each system call costs tens of microseconds, and a small file is two
 * frames). Every frame of the connection must then go through the reader,
 * which holds what it read ahead. Frames that fit come from pool. */
struct wire_reader {
	int fd;
	struct cr_pool *pool; /* NULL: frames are malloc'd */
	uint8_t *buf;         /* cap bytes, the caller's; NULL, 0: no reading ahead */
	size_t cap, off, len; /* buf[off .. off + len) is read ahead */
};
void wire_reader_init(struct wire_reader *r, int fd, struct cr_pool *pool, uint8_t *buf, size_t cap);
/* wire_recv through the reader; a frame in a buffer of its pool has
 * m->frame_pool set (wire_msg_free or wire_frame_release gives it back). */
int wire_read(struct wire_reader *r, struct wire_msg *m, struct cr_err *e);
/* Free a received frame, or give it back to its pool (pool non-NULL). */
void wire_frame_release(uint8_t *frame, struct cr_pool *pool);

/* A relative path as the protocol allows it (see vsock/README.md). */
int wire_check_path(const char *path, const char *what, struct cr_err *e);

#endif
