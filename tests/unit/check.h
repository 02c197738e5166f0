/* Minimal unit-test helpers. Each check prints one line that tests/run.sh
 * counts: "ok - <name>" or "not ok - <name>: <file>:<line>: <detail>".
 * A test program returns t_done(), non-zero when any check failed. */
#ifndef CLEANROOM_TEST_CHECK_H
#define CLEANROOM_TEST_CHECK_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failed;

__attribute__((format(printf, 5, 6), unused)) static int t_check(int ok, const char *file, int line, const char *detail,
								 const char *fmt, ...)
{
	va_list ap;
	printf("%s - ", ok ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok) {
		printf(": %s:%d: %s", file, line, detail);
		t_failed++;
	}
	printf("\n");
	fflush(stdout);
	return ok;
}

/* Reproducible test data: xorshift32 bytes, the same sequence every run. */
static uint32_t t_rng = 2463534242u;
__attribute__((unused)) static uint8_t t_random_byte(void)
{
	t_rng ^= t_rng << 13;
	t_rng ^= t_rng >> 17;
	t_rng ^= t_rng << 5;
	return (uint8_t)t_rng;
}

/* T_OK(cond, "name fmt", ...) */
#define T_OK(cond, ...) t_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* T_STR(got, want, "name"): string equality, shows both on failure. */
#define T_STR(got, want, ...)                                                          \
 do {                                                                                  \
  const char *t_g_ = (got), *t_w_ = (want);                                            \
  int t_ok_ = t_g_ && t_w_ && strcmp(t_g_, t_w_) == 0;                                 \
  if (!t_ok_)                                                                          \
   printf("# got:  %s\n# want: %s\n", t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)"); \
  t_check(t_ok_, __FILE__, __LINE__, "strings differ", __VA_ARGS__);                   \
 } while (0)

/* T_MEM(got, want, len, "name"): byte equality, shows the first difference. */
#define T_MEM(got, want, len, ...)                                                                 \
 do {                                                                                              \
  const unsigned char *t_g_ = (const unsigned char *)(got), *t_w_ = (const unsigned char *)(want); \
  size_t t_i_, t_n_ = (len);                                                                       \
  for (t_i_ = 0; t_i_ < t_n_ && t_g_[t_i_] == t_w_[t_i_]; t_i_++) {                                \
  }                                                                                                \
  if (t_i_ < t_n_)                                                                                 \
   printf("# first difference at byte %zu: got %02x want %02x\n", t_i_, t_g_[t_i_], t_w_[t_i_]);   \
  t_check(t_i_ == t_n_, __FILE__, __LINE__, "bytes differ", __VA_ARGS__);                          \
 } while (0)

__attribute__((format(printf, 2, 3), unused)) static void t_skip(const char *why, const char *fmt, ...)
{
	va_list ap;
	printf("skip - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %s\n", why);
	fflush(stdout);
}

/* Path under $SHARED (the steering repo's shared/ folder), or NULL when the
 * variable is unset; tests then skip with a message. */
__attribute__((unused)) static const char *t_shared(const char *rel, char *buf, size_t n)
{
	const char *s = getenv("SHARED");
	if (!s || !*s)
		return NULL;
	snprintf(buf, n, "%s/%s", s, rel);
	return buf;
}

/* Whole file into a malloc'd buffer (test inputs only). */
__attribute__((unused)) static unsigned char *t_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long n;
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf)
			*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

__attribute__((unused)) static int t_done(void)
{
	return t_failed ? 1 : 0;
}

#endif
