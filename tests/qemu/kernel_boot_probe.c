/* In-guest checks of the NSM shim (kernel-config/nsm-shim/nsm.c) for the kernel-boot suite.
 *
 *   kernel_boot_probe seccomp     a seccomp BPF filter can be installed and
 *                                 makes a denied syscall fail with its errno
 *   kernel_boot_probe finit FILE PARAMS
 *                                 load a module with finit_module(2), as the
 *                                 Nitro init loads nsm.ko
 *   kernel_boot_probe errors      shim loaded with defaults and no host model:
 *                                 /dev/nsm mode and the errno of every fault
 *   kernel_boot_probe loopback P  shim loaded with cid=1 port=P: a fake host
 *                                 model on the guest's own vsock loopback
 *                                 answers, so the wire protocol, truncation
 *                                 and transport errors are exercised
 *
 * It prints "ok - ..." / "not ok - ...: why" lines on stdout (the console);
 * the host side of the test collects them. Exit status: 0 when all passed.
 * The ioctl ABI is spelled out here on purpose, from nitro-facts §5.2, so the
 * test checks the numbers independently of the module's headers. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/vm_sockets.h>

#include "base/util.h"

struct nsm_iovec {
	uint64_t addr, len;
};
struct nsm_raw {
	struct nsm_iovec request, response;
};
#define NSM_IOCTL_RAW _IOWR(0x0A, 0, struct nsm_raw)
#define NSM_REQ_MAX 0x1000
#define NSM_RESP_MAX 0x3000

static int failures;

static void check(int cond, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int cond, const char *name, const char *fmt, ...)
{
	if (cond) {
		printf("ok - %s\n", name);
	} else {
		va_list ap;
		printf("not ok - %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		failures++;
	}
	fflush(stdout);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One ioctl; returns 0 or the errno. */
static int nsm_call(int fd, const void *req, uint64_t req_len, void *resp, uint64_t *resp_len)
{
	struct nsm_raw raw = {
		.request = { (uintptr_t)req, req_len },
		.response = { (uintptr_t)resp, *resp_len },
	};
	if (ioctl(fd, NSM_IOCTL_RAW, &raw) != 0)
		return errno;
	*resp_len = raw.response.len;
	return 0;
}

static int open_nsm(void)
{
	int fd = open("/dev/nsm", O_RDWR | O_CLOEXEC);
	check(fd >= 0, "open /dev/nsm read-write", "%s", strerror(errno));
	return fd;
}

static int probe_errors(void)
{
	static uint8_t req[NSM_REQ_MAX + 1], resp[NSM_RESP_MAX];
	struct stat st;
	uint64_t n;
	double t0;
	int fd, rc;

	check(NSM_IOCTL_RAW == 0xC0200A00u, "NSM_IOCTL_RAW is 0xC0200A00", "got 0x%lx", (unsigned long)NSM_IOCTL_RAW);
	if (stat("/dev/nsm", &st) != 0) {
		check(0, "/dev/nsm exists", "%s", strerror(errno));
		return 1;
	}
	check(S_ISCHR(st.st_mode), "/dev/nsm is a character device", "mode 0%o", st.st_mode);
	check((st.st_mode & 07777) == 0666, "/dev/nsm mode 0666", "mode 0%o", st.st_mode & 07777);
	check(major(st.st_rdev) == 10, "/dev/nsm is a misc device (major 10)", "major %u", major(st.st_rdev));
	if ((fd = open_nsm()) < 0)
		return 1;

	rc = ioctl(fd, _IOWR(0x0A, 1, struct nsm_raw), NULL) ? errno : 0;
	check(rc == EINVAL, "other ioctl cmd -> EINVAL", "got %s", strerror(rc));
	rc = ioctl(fd, NSM_IOCTL_RAW, (void *)8) ? errno : 0;
	check(rc == EFAULT, "bad nsm_raw pointer -> EFAULT", "got %s", strerror(rc));
	n = sizeof(resp);
	rc = nsm_call(fd, req, NSM_REQ_MAX + 1, resp, &n);
	check(rc == EMSGSIZE, "request.len 0x1001 -> EMSGSIZE", "got %s", strerror(rc));
	n = sizeof(resp);
	rc = nsm_call(fd, (void *)8, 16, resp, &n);
	check(rc == EFAULT, "bad request.addr -> EFAULT", "got %s", strerror(rc));

	/* Nobody answers on the host: the transport error must come back
	 * quickly as EIO, not after the 120 s timeout. */
	n = sizeof(resp);
	t0 = now_s();
	rc = nsm_call(fd, "\xa0", 1, resp, &n);
	check(rc == EIO, "no host model -> EIO", "got %s", strerror(rc));
	check(now_s() - t0 < 10.0, "no host model fails fast", "took %.1f s", now_s() - t0);
	close(fd);
	return failures != 0;
}

static int probe_finit(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : (int)syscall(SYS_finit_module, fd, params, 0);

	check(rc == 0, "finit_module nsm.ko", "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return failures != 0;
}

/* The build sandbox relies on seccomp filters: install one that fails
 * getppid() with errno 77 and allows everything else, in a child. */
static int probe_seccomp(void)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 77),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0)
			_exit(1);
		_exit(syscall(SYS_getppid) == -1 && errno == 77 ? 0 : 2);
	}
	waitpid(pid, &status, 0);
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "seccomp filter denies a syscall",
	      "child status 0x%x (1: filter not installed, 2: syscall not denied)", status);
	return failures != 0;
}

/* ---- fake host model, on vsock loopback ---------------------------------
 * The request selects the answer: "echo..." echoes the request, "max" sends
 * 0x3000 pattern bytes, "big" announces 0x3001 bytes, "close" hangs up. */

static uint8_t pattern_byte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static void model_answer(int c)
{
	static uint8_t req[NSM_REQ_MAX], out[NSM_RESP_MAX];
	uint8_t hdr[4];
	uint32_t len, rlen = 0;

	if (cr_read_full(c, hdr, 4) != 4)
		return;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len > sizeof(req) || (len && cr_read_full(c, req, len) != (long)len))
		return;
	if (len >= 5 && !memcmp(req, "close", 5)) {
		return;
	} else if (len >= 3 && !memcmp(req, "big", 3)) {
		rlen = NSM_RESP_MAX + 1;
		memset(out, 0, 4);
	} else if (len >= 3 && !memcmp(req, "max", 3)) {
		rlen = NSM_RESP_MAX;
		for (size_t i = 0; i < rlen; i++)
			out[i] = pattern_byte(i);
	} else {
		rlen = len;
		memcpy(out, req, len);
	}
	hdr[0] = (uint8_t)(rlen >> 24), hdr[1] = (uint8_t)(rlen >> 16);
	hdr[2] = (uint8_t)(rlen >> 8), hdr[3] = (uint8_t)rlen;
	if (cr_write_all(c, hdr, 4) != 0)
		return;
	cr_write_all(c, out, rlen > sizeof(out) ? 4 : rlen);
}

static void model_serve(int ls)
{
	/* The shim hangs up as soon as it sees a bad length ("big"); a write
	 * after that must not kill the model. */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		model_answer(c);
		close(c);
	}
}

static int probe_loopback(unsigned port)
{
	static uint8_t req[NSM_REQ_MAX], resp[NSM_RESP_MAX];
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	uint64_t n;
	pid_t pid;
	int ls, fd, rc, ok;

	ls = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 4) != 0) {
		check(0, "fake model listens on vsock loopback", "%s", strerror(errno));
		return 1;
	}
	pid = fork();
	if (pid == 0)
		model_serve(ls);
	close(ls);
	if ((fd = open_nsm()) < 0)
		goto out;

	n = sizeof(resp);
	rc = nsm_call(fd, "echo hello", 10, resp, &n);
	check(rc == 0 && n == 10 && !memcmp(resp, "echo hello", 10), "round trip through the model", "rc %s, len %llu",
	      strerror(rc), (unsigned long long)n);

	memset(resp, 0xEE, sizeof(resp));
	n = 4;
	rc = nsm_call(fd, "echo truncated", 14, resp, &n);
	check(rc == 0 && n == 4 && !memcmp(resp, "echo", 4) && resp[4] == 0xEE,
	      "short response buffer: silent truncation", "rc %s, len %llu", strerror(rc), (unsigned long long)n);

	memset(req, 'x', sizeof(req));
	memcpy(req, "echo", 4);
	n = sizeof(resp);
	rc = nsm_call(fd, req, NSM_REQ_MAX, resp, &n);
	check(rc == 0 && n == NSM_REQ_MAX && !memcmp(resp, req, NSM_REQ_MAX), "request of 0x1000 bytes accepted",
	      "rc %s, len %llu", strerror(rc), (unsigned long long)n);

	n = sizeof(resp);
	rc = nsm_call(fd, "max", 3, resp, &n);
	ok = rc == 0 && n == NSM_RESP_MAX;
	for (size_t i = 0; ok && i < NSM_RESP_MAX; i++)
		ok = resp[i] == pattern_byte(i);
	check(ok, "response of 0x3000 bytes", "rc %s, len %llu", strerror(rc), (unsigned long long)n);

	n = sizeof(resp);
	rc = nsm_call(fd, "big", 3, resp, &n);
	check(rc == EIO, "model announces 0x3001 bytes -> EIO", "got %s", strerror(rc));
	n = sizeof(resp);
	rc = nsm_call(fd, "close", 5, resp, &n);
	check(rc == EIO, "model hangs up without answering -> EIO", "got %s", strerror(rc));
	n = sizeof(resp);
	rc = nsm_call(fd, "echo again", 10, resp, &n);
	check(rc == 0 && n == 10, "next request after errors works", "rc %s", strerror(rc));
	close(fd);
out:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return failures != 0;
}

int main(int argc, char **argv)
{
	uint64_t port;

	if (argc == 4 && !strcmp(argv[1], "finit"))
		return probe_finit(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "seccomp"))
		return probe_seccomp();
	if (argc == 2 && !strcmp(argv[1], "errors"))
		return probe_errors();
	if (argc == 3 && !strcmp(argv[1], "loopback") && cr_parse_u64(argv[2], 0xFFFFFFFEu, &port) == 0)
		return probe_loopback((unsigned)port);
	fprintf(stderr, "usage: kernel_boot_probe finit FILE PARAMS | seccomp | errors | loopback PORT\n");
	return 2;
}
