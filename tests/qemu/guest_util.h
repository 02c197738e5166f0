/* Helpers for the in-guest test programs of tests/qemu/ (each one the /init
 * of a test EIF, static musl, linked with libcleanroom for cr_write_all,
 * cr_read_full and vsock/vsock.h). Header-only: each program is one file. */
#ifndef CLEANROOM_TEST_GUEST_UTIL_H
#define CLEANROOM_TEST_GUEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

/* One console line, "guest: ..." (the suites grep the console for these). */
__attribute__((format(printf, 1, 2), unused)) static void guest_say(const char *fmt, ...)
{
	va_list ap;
	printf("guest: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Power off (QEMU exits; `cleanroom run` ends). Never returns. */
__attribute__((noreturn, unused)) static void guest_power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* As PID 1 of an initramfs: devtmpfs on /dev, stdio on /dev/console. */
__attribute__((unused)) static void guest_setup_console(void)
{
	int fd;
	if (mount("dev", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, NULL) != 0 && errno != EBUSY)
		guest_power_off();
	fd = open("/dev/console", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* Read fd until `word` (e.g. "POWEROFF\n") has arrived, or EOF, or 255
 * bytes without it: the host's go-ahead at the end of a test. */
__attribute__((unused)) static void guest_wait_for(int fd, const char *word)
{
	char buf[256];
	size_t n = 0;
	while (n < sizeof buf - 1) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		n += (size_t)r;
		buf[n] = 0;
		if (strstr(buf, word))
			return;
	}
}

#endif
