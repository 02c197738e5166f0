/* init: PID 1 of a cleanroom enclave.
 *
 * `init --version` prints the version and the SHA-384 of this binary, which
 * is how a user checks that the /init inside an EIF is the one they built.
 * As PID 1 it runs the boot sequence of boot.c and never returns. */
#include <bearssl.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "init/boot.h"
#include "init/log.h"
#include "base/util.h"
#include "base/version.h"

static int self_sha384(char hex[2 * br_sha384_SIZE + 1])
{
	br_sha384_context ctx;
	uint8_t buf[65536], digest[br_sha384_SIZE];
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return -1;
	br_sha384_init(&ctx);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		br_sha384_update(&ctx, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return -1;
	br_sha384_out(&ctx, digest);
	cr_hex(digest, sizeof digest, hex);
	return 0;
}

int main(int argc, char **argv)
{
	double started = init_uptime();
	char hex[2 * br_sha384_SIZE + 1];
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		if (self_sha384(hex)) {
			perror("init: --version: /proc/self/exe");
			return 1;
		}
		printf("cleanroom init %s\nsha384 %s\n", CLEANROOM_VERSION, hex);
		return 0;
	}
	if (getpid() != 1) {
		fprintf(stderr, "init: this is the enclave's PID 1 and only runs as such; "
				"'init --version' prints its version and hash\n");
		return 2;
	}
	boot_main(started);
}
