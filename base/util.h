/* Small helpers shared by init and the host tool: error messages, growable
 * byte buffers with a hard cap, hex, bounded file reads, atomic writes.
 *
 * Conventions used across the code base:
 *  - functions return 0 on success and -1 on failure, after writing one
 *    human-readable line (naming the field or path at fault) into a
 *    struct cr_err supplied by the caller;
 *  - every buffer that grows from outside input has an explicit cap. */
#ifndef CLEANROOM_UTIL_H
#define CLEANROOM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

struct cr_err {
	char msg[512];
	int code;      /* enum cr_err_code: what kind of failure */
	int sys_errno; /* errno of the failing system call, 0 when none */
};

/* Codes callers may decide on (never on the message text). cr_fail() and
 * cr_failp() set CR_E_FAIL; cr_err_wrap() keeps the code and errno. */
enum cr_err_code {
	CR_E_FAIL = 1, /* any other failure */
	CR_E_NOTREG,   /* a named input is not a regular file (FIFO, device, socket, directory) */
	CR_E_TOOBIG,   /* an input is larger than its limit */
	CR_E_NOTDIR,   /* a named tree root is not a directory */
	CR_E_TIMEOUT,  /* a read from a peer timed out (SO_RCVTIMEO) */
	CR_E_SEND,     /* a write to a peer failed (sys_errno says how: EPIPE, ECONNRESET...) */
	CR_E_UNSIGNED, /* an attestation document is unsigned (QEMU's emulated NSM: alg -1) */
	CR_E_NOKERNEL, /* the running kernel lacks a feature (sys_errno: the probe's errno) */
};

/* Format the message into e (if non-NULL) and return -1. */
int cr_fail(struct cr_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with a code other than CR_E_FAIL. */
int cr_fail_code(struct cr_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, appending ": <strerror(errno)>"; sys_errno gets errno (kept). */
int cr_failp(struct cr_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* cr_failp with a code other than CR_E_FAIL. */
int cr_failp_code(struct cr_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The one behind them: code, and with_errno appends ": <strerror(errno)>"
 * and keeps errno in sys_errno (else 0). errno is preserved. Returns -1. */
int cr_vfail(struct cr_err *e, int code, int with_errno, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* Prepend "<prefix>: " to the message already in e; returns -1. */
int cr_err_wrap(struct cr_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Growable buffer. cap_limit bounds len; appending past it fails. */
struct cr_buf {
	uint8_t *p;
	size_t len, alloc, limit;
};
void cr_buf_init(struct cr_buf *b, size_t limit);
void cr_buf_free(struct cr_buf *b);
int cr_buf_put(struct cr_buf *b, const void *data, size_t n, struct cr_err *e);
int cr_buf_putc(struct cr_buf *b, uint8_t c, struct cr_err *e);
int cr_buf_printf(struct cr_buf *b, struct cr_err *e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* NUL-terminate without counting the NUL in len (for text). */
int cr_buf_cstr(struct cr_buf *b, struct cr_err *e);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void cr_hex(const uint8_t *in, size_t n, char *out);
/* Lowercase hex of SHA-256(p) into out (65 bytes with the NUL). */
void cr_sha256_hex(const uint8_t *p, size_t n, char out[65]);
/* Parse exactly n bytes of hex (either case, no separators). -1 if not. */
int cr_unhex(const char *s, uint8_t *out, size_t n);
/* Parse hex of any even length up to max bytes; *n gets the length. */
int cr_unhex_var(const char *s, uint8_t *out, size_t max, size_t *n);

/* Inputs named by the user (command-line files, entries of walked trees).
 * Opening one never blocks and never opens anything but a regular file: the
 * path is opened with O_PATH (no open of a FIFO or a device happens), its
 * type checked with fstat, and only a regular file is then opened for
 * reading (non-blocking, and checked to be the same file). Anything else
 * fails with CR_E_NOTREG: "<what>: <path> is a FIFO, not a regular file"; a
 * file larger than max fails with CR_E_TOOBIG. Symlinks are followed (the
 * type checked is the target's: a link to /dev/zero is a character device)
 * unless CR_IN_NOFOLLOW. what names the option ("--eif") or is NULL. */
#define CR_IN_NOFOLLOW 1
/* *st holds the dev and ino the file must have (a walk's lstat): checked
 * on the O_PATH descriptor, before the file is opened or its type or size
 * is told; another file fails with "<path> changed since it was read". */
#define CR_IN_SAME 2
/* "a FIFO", "a character device", "a directory", ... */
const char *cr_file_kind(unsigned mode);
/* Whether an output may be put at path by a rename, which replaces whatever
 * the name holds (as root, a device): 0 when nothing or a regular file is
 * there; otherwise -1 with e (CR_E_NOTREG), "PATH is a KIND, not a regular
 * file: not replaced (WHY)". */
int cr_check_replaceable(const char *path, const char *why, struct cr_err *e);
/* Open for reading (O_RDONLY, blocking mode restored); *st (may be NULL)
 * gets the file's fstat. Returns the fd, or -1 with e. */
int cr_open_input(const char *what, const char *path, uint64_t max, int flags, struct stat *st, struct cr_err *e);
/* The same for name relative to the directory dirfd (AT_FDCWD: the
 * current one); errors say path. */
int cr_open_input_at(const char *what, int dirfd, const char *name, const char *path, uint64_t max, int flags,
		     struct stat *st, struct cr_err *e);
/* Read a whole input of at most max bytes; more fails with CR_E_TOOBIG,
 * so a growing file cannot make it read forever. st_size is not trusted
 * (files of /proc and /sys say 0). The buffer is NUL-terminated (not
 * counted in *len). Caller frees. */
int cr_read_input(const char *what, const char *path, size_t max, uint8_t **data, size_t *len, struct cr_err *e);
/* cr_read_input(NULL, ...). */
int cr_read_file(const char *path, size_t limit, uint8_t **data, size_t *len, struct cr_err *e);
/* A number from a kernel pseudo-file (at most 64 KiB): with key "", the
 * file's one line ("/proc/sys/kernel/pid_max"); else the first number on
 * the line that starts with key ("MemAvailable:" in /proc/meminfo, the
 * unit after it ignored). Fails when the file cannot be read, the line is
 * missing, or the number is not decimal or above max. */
int cr_read_proc_u64(const char *path, const char *key, uint64_t max, uint64_t *out, struct cr_err *e);

/* A file that appears at dst only when complete: written under a temporary
 * name in the same directory, then fsync'd and renamed. abort() removes it.
 * While open, it is registered so that cr_tmpfile_cleanup_on_signals() can
 * remove it if the process is killed by SIGINT, SIGTERM or SIGHUP.
 * create() refuses (CR_E_NOTREG) a dst that exists and is not a regular
 * file: the rename would put a file in place of a device, FIFO, socket,
 * symlink or directory.
 * The directory is held open from create() on, and the temporary file is
 * created, renamed and removed relative to it: a directory renamed while the
 * file is written still gets it (or loses it on failure), never a leftover. */
struct cr_tmpfile {
	int fd;
	int dir;        /* dst's directory (O_PATH), -1 when closed */
	char tmp[4096]; /* the temporary file's name in dir; "" when none */
	char dst[4096];
	size_t dst_name; /* offset of dst's last component in dst */
};
int cr_tmpfile_create(struct cr_tmpfile *t, const char *dst, struct cr_err *e);
/* 1 when path can name no file to write, by its text alone: empty, ending
 * in '/', or its last component "." or "..". create() refuses such a dst
 * (CR_E_NOTREG); a command may refuse it as a usage error first. */
int cr_path_names_dir(const char *path);
/* fchmod(mode) (so the umask never shows), fsync, close, rename. On failure
 * the temporary file is removed. */
int cr_tmpfile_commit(struct cr_tmpfile *t, int mode, struct cr_err *e);
void cr_tmpfile_abort(struct cr_tmpfile *t);
/* Install handlers that unlink open temporary files, then die of the signal. */
void cr_tmpfile_cleanup_on_signals(void);
/* Install handler for the signals that ask a program to stop: SIGINT,
 * SIGTERM, SIGHUP (no SA_RESTART, so blocking calls return EINTR). */
void cr_on_stop_signals(void (*handler)(int));

/* Write data to path atomically (a cr_tmpfile). Nothing is left behind on
 * failure. */
int cr_write_file_atomic(const char *path, const void *data, size_t len, int mode, struct cr_err *e);

/* write() all of it, retrying on EINTR and short writes. */
int cr_write_all(int fd, const void *data, size_t len);
/* read() exactly len bytes; returns len, 0 on clean EOF before any byte,
 * -1 on error or EOF in the middle (errno = EPIPE then). */
long cr_read_full(int fd, void *data, size_t len);

/* n bytes from the kernel's random source (getrandom), retried on EINTR
 * and short reads. */
int cr_random(void *p, size_t n, struct cr_err *e);

/* Parse an unsigned decimal with no sign, spaces or trailing junk, <= max. */
int cr_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Bytes: a decimal, optionally with a binary suffix K, M or G (either case). */
int cr_parse_size(const char *s, uint64_t *out);

/* CLOCK_MONOTONIC in milliseconds (for intervals and deadlines). */
uint64_t cr_mono_ms(void);
/* The same in nanoseconds (for timing short stages). */
uint64_t cr_mono_ns(void);

/* Time. Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t cr_days_from_civil(int64_t year, unsigned month, unsigned day);
/* 1 when year-month-day is a real date (leap years included). */
int cr_date_valid(int64_t year, unsigned month, unsigned day);
/* Unix seconds as RFC 3339 UTC, e.g. "2023-05-18T00:21:51Z" (out: 32 bytes). */
void cr_time_format(int64_t t, char out[32]);
/* Parse a time given on a command line: decimal Unix seconds, or RFC 3339
 * "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (fractions are dropped). */
int cr_parse_time(const char *s, int64_t *out);

#endif
