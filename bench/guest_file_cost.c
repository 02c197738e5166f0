/* bench/guest-file-cost: /init of a bare initramfs booted on the enclave
 * kernel in QEMU (TCG). It times, per 4 KiB source file, each piece of work
 * the build agent does for it, with the agent's own code where there is
 * some (init/agent_recv.c's steps, in isolation):
 *   decode  wire_decode of the file's two frames (entry, data)
 *   hash    the git blob ids, SHA-1 and SHA-256 (vsock/tree_hash.h)
 *   files   openat(O_CREAT|O_EXCL), write 4 KiB, close, in a tmpfs
 *   copy    4 KiB through a Unix socket pair (a copy into the kernel and
 *           one out: what receiving the bytes costs the guest besides)
 * and prints one "cost <name> <microseconds>" line each, then powers off.
 * Every call is checked: a failed one ends the run with "error ...". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vsock/tree_hash.h"
#include "vsock/wire.h"

#define FILES 2048
#define FILE_SIZE 4096

static uint8_t content[FILE_SIZE];

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int fail(const char *what)
{
	printf("error %s: %s\n", what, strerror(errno));
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 1;
}

/* The two frames of one file, as the host tool sends them, in mem. */
static size_t frames(uint8_t *mem, size_t cap, size_t *entry_len)
{
	struct wire_writer w;
	struct wire_msg m;
	struct cr_err e;
	int fd = memfd_create("frames", 0);
	ssize_t n;
	if (fd < 0)
		return 0;
	wire_writer_init(&w, fd, 0);
	wire_entry_msg(&m, WIRE_SRC, WIRE_FILE, "src/module/file-0001.c", FILE_SIZE, 0, NULL);
	if (wire_writer_msg(&w, &m, &e)) {
		wire_writer_free(&w);
		close(fd);
		return 0;
	}
	*entry_len = (size_t)lseek(fd, 0, SEEK_CUR);
	if (wire_writer_data(&w, WIRE_DATA, content, FILE_SIZE, &e)) {
		wire_writer_free(&w);
		close(fd);
		return 0;
	}
	wire_writer_free(&w);
	n = pread(fd, mem, cap, 0);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static int cost_decode(double *us)
{
	static uint8_t mem[2 * FILE_SIZE];
	size_t entry_len, len = frames(mem, sizeof mem, &entry_len);
	struct wire_msg m;
	struct cr_err e;
	double t0;
	if (!len)
		return fail("encoding the frames");
	t0 = now_us();
	for (int i = 0; i < FILES; i++) {
		/* each frame's body follows its 4-byte length */
		memset(&m, 0, sizeof m);
		if (wire_decode(mem + 4, entry_len - 4, &m, &e) || m.type != WIRE_ENTRY)
			return fail("decoding the entry");
		wire_msg_free(&m);
		memset(&m, 0, sizeof m);
		if (wire_decode(mem + entry_len + 4, len - entry_len - 4, &m, &e) || m.type != WIRE_DATA)
			return fail("decoding the data");
		wire_msg_free(&m);
	}
	*us = (now_us() - t0) / FILES;
	return 0;
}

static int cost_hash(double *us)
{
	uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
	double t0 = now_us();
	for (int i = 0; i < FILES; i++) {
		struct blob_hasher b;
		blob_begin(&b, FILE_SIZE);
		blob_update(&b, content, FILE_SIZE);
		blob_end(&b, h1, h256);
	}
	*us = (now_us() - t0) / FILES;
	return 0;
}

static int cost_files(double *us)
{
	int dfd;
	double t0;
	if (mkdir("/t/files", 0755) || (dfd = open("/t/files", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return fail("/t/files");
	t0 = now_us();
	for (int i = 0; i < FILES; i++) {
		char name[32];
		int fd;
		snprintf(name, sizeof name, "f%d", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return fail("openat");
		if (write(fd, content, FILE_SIZE) != FILE_SIZE)
			return fail("write");
		if (close(fd))
			return fail("close");
	}
	*us = (now_us() - t0) / FILES;
	close(dfd);
	return 0;
}

static int cost_copy(double *us)
{
	static uint8_t back[FILE_SIZE];
	int sv[2];
	double t0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return fail("socketpair");
	t0 = now_us();
	for (int i = 0; i < FILES; i++)
		if (write(sv[0], content, FILE_SIZE) != FILE_SIZE || read(sv[1], back, FILE_SIZE) != FILE_SIZE)
			return fail("socket copy");
	*us = (now_us() - t0) / FILES;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

int main(void)
{
	double decode = 0, hash = 0, files = 0, copy = 0;
	int fd;
	/* A bare initramfs: the console may not be open yet. */
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if ((fd = open("/dev/console", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (mkdir("/t", 0755) && errno != EEXIST)
		return fail("/t");
	if (mount("tmpfs", "/t", "tmpfs", 0, "mode=0755"))
		return fail("mounting a tmpfs");
	for (size_t i = 0; i < sizeof content; i++)
		content[i] = (uint8_t)(i * 131 + 7);
	if (cost_decode(&decode) || cost_hash(&hash) || cost_files(&files) || cost_copy(&copy))
		return 1;
	printf("cost decode %.1f\ncost hash %.1f\ncost files %.1f\ncost copy %.1f\n", decode, hash, files, copy);
	printf("guest-file-cost done\n");
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 0;
}
