/* Shared by the libFuzzer harnesses of tests/fuzz (see build.mk there).
 *
 * A harness crashes (abort) when the code under test breaks one of its own
 * documented promises — a decoded message that does not re-encode, a
 * failure without a message, a file written outside the receiver's root —
 * so that libFuzzer records the input like any sanitizer report. */
#ifndef CLEANROOM_FUZZ_H
#define CLEANROOM_FUZZ_H

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host-tool/run/nsm_ca.h"
#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Flag bytes that some harnesses read first (the seed generator writes them). */
enum {
	FZ_ATT_TEST_ROOT = 1,  /* attest: trust the test CA's root (CR_FUZZ_CA) instead of AWS's */
	FZ_ATT_FIXED_TIME = 2, /* attest: verify at a fixed time instead of the document's */
	FZ_ATT_EXPECT = 4,     /* attest: expect PCR 0, a nonce and user_data */
	FZ_ATT_CLI = 8,        /* attest: also `cleanroom attestation show/verify --json` */
	FZ_EIF_FIX_CRC = 1,    /* eif: patch the stored CRC so the deeper checks run */
	FZ_EIF_JSON = 2,       /* eif: `describe --json` instead of the text form */
	FZ_NSM_REQUEST = 7,    /* nsm: byte % 8 == 7: a request (decoder and host model);
	                          0..6: the response to that operation */
};

/* The sanitizer runtime's report channel, which survives libFuzzer's
 * -close_fd_mask (the harness's own stderr does not). */
void __sanitizer_report_error_summary(const char *summary) __attribute__((weak));

__attribute__((noreturn, format(printf, 1, 2))) static inline void fz_die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	snprintf(msg, sizeof msg, "fuzz: property violated: ");
	vsnprintf(msg + strlen(msg), sizeof msg - strlen(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	if (__sanitizer_report_error_summary)
		__sanitizer_report_error_summary(msg);
	abort();
}

/* A failure must come with a one-line message. */
static inline void fz_check_err(const struct cr_err *e, const char *what)
{
	size_t n = strnlen(e->msg, sizeof e->msg);
	if (n == 0 || n == sizeof e->msg)
		fz_die("%s failed without a message", what);
	if (memchr(e->msg, '\n', n))
		fz_die("%s: message of more than one line: %s", what, e->msg);
}

/* The commands print their results; the harnesses only want them to run. */
static inline void fz_quiet_stdout(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		fflush(stdout);
		dup2(fd, 1);
		close(fd);
	}
}

/* A private directory for the harness's files: under /dev/shm when it is
 * there (tmpfs, no disk writes), else $TMPDIR or /tmp. */
static inline void fz_tmpdir(char *out, size_t n, const char *name)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(out, n, "%s/cr-fuzz-%s.XXXXXX", base, name);
	if (!mkdtemp(out)) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
}

/* The test CA of the generated seeds ($CR_FUZZ_CA, made by seedgen): 1 when
 * loaded, 0 when the variable is unset; exits when it does not load. */
static inline int fz_load_ca(struct nsm_ca *ca, const char *who)
{
	const char *dir = getenv("CR_FUZZ_CA");
	struct cr_err e;
	if (!dir || !*dir) {
		fprintf(stderr, "%s: CR_FUZZ_CA is not set: no test CA\n", who);
		return 0;
	}
	if (nsm_ca_load(ca, dir, &e)) {
		fprintf(stderr, "%s: CR_FUZZ_CA=%s: %s\n", who, dir, e.msg);
		exit(1);
	}
	return 1;
}

/* Write data to path, replacing it. */
static inline void fz_write(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || cr_write_all(fd, data, size) || close(fd)) {
		perror(path);
		exit(1);
	}
}

#endif
