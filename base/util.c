#include "base/util.h"

#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/term.h"

/* Messages quote what they refuse (paths, names, text from the other side),
 * so control characters are shown escaped (term.h): an error stays one line,
 * and hostile input can neither forge further log lines nor send terminal
 * escapes. */
static void one_line(char *s)
{
	char copy[sizeof((struct cr_err *)0)->msg];
	size_t n = strlen(s);
	memcpy(copy, s, n);
	cr_term_str(copy, n, 0, s, sizeof copy);
}

int cr_vfail(struct cr_err *e, int code, int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	if (!e)
		return -1;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	if (with_errno) {
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	}
	one_line(e->msg);
	e->code = code;
	e->sys_errno = with_errno ? saved : 0;
	errno = saved;
	return -1;
}

int cr_fail(struct cr_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(e, CR_E_FAIL, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int cr_fail_code(struct cr_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(e, code, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int cr_failp(struct cr_err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(e, CR_E_FAIL, 1, fmt, ap);
	va_end(ap);
	return -1;
}

int cr_failp_code(struct cr_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cr_vfail(e, code, 1, fmt, ap);
	va_end(ap);
	return -1;
}

int cr_err_wrap(struct cr_err *e, const char *fmt, ...)
{
	char prefix[256], old[sizeof e->msg];
	va_list ap;
	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	snprintf(e->msg, sizeof e->msg, "%s: %s", prefix, old);
	one_line(e->msg);
	return -1;
}

void cr_buf_init(struct cr_buf *b, size_t limit)
{
	b->p = NULL;
	b->len = b->alloc = 0;
	b->limit = limit;
}

void cr_buf_free(struct cr_buf *b)
{
	free(b->p);
	cr_buf_init(b, b->limit);
}

static int buf_reserve(struct cr_buf *b, size_t extra, struct cr_err *e)
{
	size_t need, n;
	uint8_t *p;
	if (extra > b->limit || b->len > b->limit - extra)
		return cr_fail(e, "data exceeds the limit of %zu bytes", b->limit);
	need = b->len + extra + 1; /* room for cr_buf_cstr's NUL */
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 256;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = realloc(b->p, n);
	if (!p)
		return cr_fail(e, "out of memory (%zu bytes)", n);
	b->p = p;
	b->alloc = n;
	return 0;
}

int cr_buf_put(struct cr_buf *b, const void *data, size_t n, struct cr_err *e)
{
	if (buf_reserve(b, n, e))
		return -1;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

int cr_buf_putc(struct cr_buf *b, uint8_t c, struct cr_err *e)
{
	return cr_buf_put(b, &c, 1, e);
}

int cr_buf_printf(struct cr_buf *b, struct cr_err *e, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return cr_fail(e, "format error");
	if (buf_reserve(b, (size_t)n, e))
		return -1;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int cr_buf_cstr(struct cr_buf *b, struct cr_err *e)
{
	if (buf_reserve(b, 0, e))
		return -1;
	b->p[b->len] = 0;
	return 0;
}

void cr_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

void cr_sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	br_sha256_context h;
	uint8_t d[32];
	br_sha256_init(&h);
	br_sha256_update(&h, p, n);
	br_sha256_out(&h, d);
	cr_hex(d, sizeof d, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cr_unhex_var(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t len = strlen(s);
	if (len % 2 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return 0;
}

int cr_unhex(const char *s, uint8_t *out, size_t n)
{
	size_t got;
	if (strlen(s) != 2 * n)
		return -1;
	return cr_unhex_var(s, out, n, &got);
}

const char *cr_file_kind(unsigned mode)
{
	mode_t m = (mode_t)mode;
	if (S_ISREG(m))
		return "a regular file";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISLNK(m))
		return "a symlink";
	return "of an unknown type";
}

int cr_check_replaceable(const char *path, const char *why, struct cr_err *e)
{
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return cr_fail_code(e, CR_E_NOTREG, "%s is %s, not a regular file: not replaced (%s)", path,
				    cr_file_kind(st.st_mode), why);
	return 0;
}

/* Open for reading the file the O_PATH descriptor pfd holds: through
 * /proc/self/fd, which names that very inode, so a path swapped since
 * (a parent directory for a symlink, the file for a device) is not looked
 * up again and no other file's open routine runs. Without /proc, the path
 * once more, non-blocking (the caller then checks it is the same file). */
static int reopen_checked(int pfd, int dirfd, const char *name, int nofollow)
{
	char self[40];
	int fd;
	snprintf(self, sizeof self, "/proc/self/fd/%d", pfd);
	fd = open(self, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	return openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | nofollow);
}

int cr_open_input(const char *what, const char *path, uint64_t max, int flags, struct stat *st, struct cr_err *e)
{
	return cr_open_input_at(what, AT_FDCWD, path, path, max, flags, st, e);
}

int cr_open_input_at(const char *what, int dirfd, const char *name, const char *path, uint64_t max, int flags,
		     struct stat *st, struct cr_err *e)
{
	const char *sep = what ? ": " : "";
	int nofollow = flags & CR_IN_NOFOLLOW ? O_NOFOLLOW : 0;
	struct stat a, b;
	int fd, pfd;
	if (!what)
		what = "";
	/* O_PATH opens nothing: no FIFO rendezvous, no device driver. */
	pfd = openat(dirfd, name, O_PATH | O_CLOEXEC | nofollow);
	if (pfd < 0)
		return cr_failp(e, "%s%s%s", what, sep, path);
	if (fstat(pfd, &a)) {
		cr_failp(e, "%s%s%s", what, sep, path);
		close(pfd);
		return -1;
	}
	/* Not the file a walk found: nothing more is told of it, or opened. */
	if ((flags & CR_IN_SAME) && (a.st_dev != st->st_dev || a.st_ino != st->st_ino)) {
		close(pfd);
		return cr_fail(e, "%s%s%s changed since it was read", what, sep, path);
	}
	if (!S_ISREG(a.st_mode)) {
		close(pfd);
		return cr_fail_code(e, CR_E_NOTREG, "%s%s%s is %s, not a regular file", what, sep, path,
				    cr_file_kind(a.st_mode));
	}
	if ((uint64_t)a.st_size > max) {
		close(pfd);
		return cr_fail_code(e, CR_E_TOOBIG, "%s%s%s is %llu bytes, larger than the limit of %llu bytes", what,
				    sep, path, (unsigned long long)a.st_size, (unsigned long long)max);
	}
	fd = reopen_checked(pfd, dirfd, name, nofollow);
	close(pfd);
	if (fd < 0)
		return cr_failp(e, "%s%s%s", what, sep, path);
	if (fstat(fd, &b)) {
		cr_failp(e, "%s%s%s", what, sep, path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(b.st_mode) || b.st_dev != a.st_dev || b.st_ino != a.st_ino) {
		close(fd);
		return cr_fail_code(e, CR_E_NOTREG, "%s%s%s is %s, not a regular file (it changed while being opened)",
				    what, sep, path, cr_file_kind(b.st_mode));
	}
	if ((uint64_t)b.st_size > max) {
		close(fd);
		return cr_fail_code(e, CR_E_TOOBIG, "%s%s%s is %llu bytes, larger than the limit of %llu bytes", what,
				    sep, path, (unsigned long long)b.st_size, (unsigned long long)max);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)) {
		cr_failp(e, "%s%s%s", what, sep, path);
		close(fd);
		return -1;
	}
	if (st)
		*st = b;
	return fd;
}

int cr_read_input(const char *what, const char *path, size_t max, uint8_t **data, size_t *len, struct cr_err *e)
{
	const char *sep = what ? ": " : "";
	struct cr_buf b;
	uint8_t chunk[65536];
	int fd = cr_open_input(what, path, max, 0, NULL, e);
	if (fd < 0)
		return -1;
	if (!what)
		what = "";
	/* st_size is only a hint (files of /proc and /sys say 0): the read
	 * itself is bounded by max. */
	cr_buf_init(&b, max);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cr_failp(e, "%s%s%s: read", what, sep, path);
			goto fail;
		}
		if (n == 0)
			break;
		if (cr_buf_put(&b, chunk, (size_t)n, e)) {
			cr_fail_code(e, CR_E_TOOBIG, "%s%s%s: larger than the limit of %zu bytes", what, sep, path,
				     max);
			goto fail;
		}
	}
	if (cr_buf_cstr(&b, e))
		goto fail;
	close(fd);
	*data = b.p;
	*len = b.len;
	return 0;
fail:
	close(fd);
	cr_buf_free(&b);
	return -1;
}

int cr_read_file(const char *path, size_t limit, uint8_t **data, size_t *len, struct cr_err *e)
{
	return cr_read_input(NULL, path, limit, data, len, e);
}

int cr_write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

long cr_read_full(int fd, void *data, size_t len)
{
	uint8_t *p = data;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)n;
	}
	return (long)got;
}

/* Open temporary files, for the signal handler. Slots hold pointers into
 * the callers' structs; a NULL slot is free. */
#define TMPFILE_SLOTS 64
static struct cr_tmpfile *volatile open_tmpfiles[TMPFILE_SLOTS];

static void tmp_register(struct cr_tmpfile *t, int on)
{
	for (int i = 0; i < TMPFILE_SLOTS; i++) {
		if (on && !open_tmpfiles[i]) {
			open_tmpfiles[i] = t;
			return;
		}
		if (!on && open_tmpfiles[i] == t) {
			open_tmpfiles[i] = NULL;
			return;
		}
	}
}

static void tmp_signal(int sig)
{
	for (int i = 0; i < TMPFILE_SLOTS; i++)
		if (open_tmpfiles[i])
			unlinkat(open_tmpfiles[i]->dir, open_tmpfiles[i]->tmp, 0);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cr_on_stop_signals(void (*handler)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void cr_tmpfile_cleanup_on_signals(void)
{
	cr_on_stop_signals(tmp_signal);
}

/* Open a new file named "<base>.tmp.XXXXXX" in t->dir (X: random letters),
 * as mkostemp does in a path. */
static int tmp_open_in_dir(struct cr_tmpfile *t, const char *base)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	for (int tries = 0; tries < 100; tries++) {
		unsigned char r[6];
		size_t n;
		if (cr_random(r, sizeof r, NULL))
			return -1;
		n = (size_t)snprintf(t->tmp, sizeof t->tmp, "%s.tmp.", base);
		if (n + sizeof r >= sizeof t->tmp) {
			errno = ENAMETOOLONG;
			return -1;
		}
		for (size_t k = 0; k < sizeof r; k++)
			t->tmp[n + k] = abc[r[k] % (sizeof abc - 1)];
		t->tmp[n + sizeof r] = 0;
		int fd = openat(t->dir, t->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static void tmp_close(struct cr_tmpfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->dir >= 0)
		close(t->dir);
	t->fd = t->dir = -1;
	t->tmp[0] = 0;
}

int cr_path_names_dir(const char *path)
{
	const char *slash = strrchr(path, '/'), *last = slash ? slash + 1 : path;
	return !*last || !strcmp(last, ".") || !strcmp(last, "..");
}

int cr_tmpfile_create(struct cr_tmpfile *t, const char *dst, struct cr_err *e)
{
	char dir[4096];
	const char *slash = strrchr(dst, '/');
	t->fd = t->dir = -1;
	t->tmp[0] = 0;
	if ((size_t)snprintf(t->dst, sizeof t->dst, "%s", dst) >= sizeof t->dst)
		return cr_fail(e, "%s: path too long", dst);
	t->dst_name = slash ? (size_t)(slash + 1 - dst) : 0;
	if (!*dst)
		return cr_fail_code(e, CR_E_NOTREG, "an empty path names no file");
	if (cr_path_names_dir(dst))
		return cr_fail_code(e, CR_E_NOTREG, "%s: names a directory, not a file", dst);
	/* As root, "-o /dev/null" would put a regular file in place of the
	 * device. */
	if (cr_check_replaceable(dst, "name a new or regular file", e))
		return -1;
	snprintf(dir, sizeof dir, "%.*s", slash == dst ? 1 : (int)(slash ? (size_t)(slash - dst) : 0), dst);
	t->dir = open(slash ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->dir < 0 || (t->fd = tmp_open_in_dir(t, dst + t->dst_name)) < 0) {
		cr_failp(e, "%s: cannot create a temporary file beside it", dst);
		tmp_close(t);
		return -1;
	}
	tmp_register(t, 1);
	return 0;
}

void cr_tmpfile_abort(struct cr_tmpfile *t)
{
	if (t->dir >= 0 && t->tmp[0])
		unlinkat(t->dir, t->tmp, 0);
	tmp_register(t, 0);
	tmp_close(t);
}

int cr_tmpfile_commit(struct cr_tmpfile *t, int mode, struct cr_err *e)
{
	if (fchmod(t->fd, (mode_t)mode) || fsync(t->fd)) {
		cr_failp(e, "%s: write", t->dst);
		cr_tmpfile_abort(t);
		return -1;
	}
	if (close(t->fd)) {
		t->fd = -1;
		cr_failp(e, "%s: close", t->dst);
		cr_tmpfile_abort(t);
		return -1;
	}
	t->fd = -1;
	if (renameat(t->dir, t->tmp, t->dir, t->dst + t->dst_name)) {
		cr_failp(e, "%s: rename", t->dst);
		cr_tmpfile_abort(t);
		return -1;
	}
	tmp_register(t, 0);
	tmp_close(t);
	return 0;
}

int cr_write_file_atomic(const char *path, const void *data, size_t len, int mode, struct cr_err *e)
{
	struct cr_tmpfile t;
	if (cr_tmpfile_create(&t, path, e))
		return -1;
	if (cr_write_all(t.fd, data, len)) {
		cr_failp(e, "%s: write", path);
		cr_tmpfile_abort(&t);
		return -1;
	}
	return cr_tmpfile_commit(&t, mode, e);
}

int cr_random(void *p, size_t n, struct cr_err *e)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom((uint8_t *)p + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return cr_failp(e, "getrandom");
		got += (size_t)r;
	}
	return 0;
}

int cr_read_proc_u64(const char *path, const char *key, uint64_t max, uint64_t *out, struct cr_err *e)
{
	size_t klen = strlen(key), len, n;
	uint8_t *data;
	char num[24];
	const char *line, *p;
	int rc = -1;
	if (cr_read_file(path, 65536, &data, &len, e))
		return -1;
	for (line = (const char *)data; line; line = (p = strchr(line, '\n')) ? p + 1 : NULL)
		if (!strncmp(line, key, klen))
			break;
	if (!line) {
		cr_fail(e, "%s: no line '%s'", path, key);
		goto out;
	}
	line += klen;
	line += strspn(line, " \t");
	n = strspn(line, "0123456789");
	if (n == 0 || n >= sizeof num) {
		cr_fail(e, "%s: %s%sexpected a decimal number", path, key, klen ? " " : "");
		goto out;
	}
	memcpy(num, line, n);
	num[n] = 0;
	if (cr_parse_u64(num, max, out)) {
		cr_fail(e, "%s: %s%s%s is above %llu", path, key, klen ? " " : "", num, (unsigned long long)max);
		goto out;
	}
	rc = 0;
out:
	free(data);
	return rc;
}

int cr_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int cr_parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = s ? strlen(s) : 0;
	unsigned shift = 0;
	if (n == 0 || n >= sizeof num)
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'K':
	case 'k': shift = 10; break;
	case 'M':
	case 'm': shift = 20; break;
	case 'G':
	case 'g': shift = 30; break;
	}
	if (shift)
		num[n - 1] = 0;
	if (cr_parse_u64(num, UINT64_MAX >> shift, out))
		return -1;
	*out <<= shift;
	return 0;
}

int64_t cr_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	/* Shift the year to start in March so the leap day is last. */
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (int64_t)(month > 2 ? month - 3 : month + 9) + 2) / 5 + (int64_t)day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int cr_date_valid(int64_t year, unsigned month, unsigned day)
{
	static const unsigned mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1])
		return 0;
	return !(month == 2 && day == 29 && !leap);
}

void cr_time_format(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "@%lld", (long long)t);
}

/* n decimal digits at *p; advances *p. */
static int take_digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int take_char(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -1;
	(*p)++;
	return 0;
}

int cr_parse_time(const char *s, int64_t *out)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0;
	int sign = 0;
	uint64_t u;
	const char *p = s;
	if (cr_parse_u64(s, INT64_MAX, &u) == 0) {
		*out = (int64_t)u;
		return 0;
	}
	if (take_digits(&p, 4, &y) || take_char(&p, "-") || take_digits(&p, 2, &mo) || take_char(&p, "-") ||
	    take_digits(&p, 2, &d) || take_char(&p, "Tt ") || take_digits(&p, 2, &h) || take_char(&p, ":") ||
	    take_digits(&p, 2, &mi) || take_char(&p, ":") || take_digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else {
		sign = *p == '+' ? 1 : *p == '-' ? -1 : 0;
		if (!sign)
			return -1;
		p++;
		if (take_digits(&p, 2, &oh) || take_char(&p, ":") || take_digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	}
	if (*p || !cr_date_valid(y, mo, d) || h > 23 || mi > 59 || sec > 60)
		return -1;
	*out = cr_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - sign * (int64_t)(oh * 3600 + om * 60);
	return 0;
}

uint64_t cr_mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

uint64_t cr_mono_ms(void)
{
	return cr_mono_ns() / 1000000;
}
