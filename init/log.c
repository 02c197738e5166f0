#include "init/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

#include "init/console.h"

/* One write per line: PID 1 and the command it launched share the console,
 * and a line written piecemeal (stderr is unbuffered) interleaves with
 * theirs. Longer lines are cut, ending in "...". The write is bounded
 * (console_write): a console the command stopped never holds PID 1. */
static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "init: %s", prefix);
	int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof line - 2) {
		len = sizeof line - 2;
		memcpy(line + len - 3, "...", 3);
	}
	line[len++] = '\n';
	fflush(stderr);
	console_write(line, len);
}

void init_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

double init_uptime(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Every path that ends the VM ends it with reboot(RB_AUTOBOOT), as AWS's
 * init does: Nitro ends the enclave when its kernel reboots (nitro-cli's
 * cmdline has reboot=k), and `cleanroom run` starts QEMU with -no-reboot,
 * so a reboot ends the run on microvm and on the nitro-enclave machine
 * alike. Power-off is not used: on a machine without ACPI (QEMU's
 * nitro-enclave) the kernel turns RB_POWER_OFF into a halt that never
 * returns, and the VM would stay up, halted, for good. */
_Noreturn void init_end_vm(void)
{
	/* The serial console is slow: let our last lines reach it before the
	 * VM goes away, but for CONSOLE_DRAIN_MS at most (tcdrain would wait
	 * for good on output the command stopped). No sync(): every file
	 * system is in RAM (initramfs, tmpfs), there is nothing to write back.
	 * No fflush(NULL) either: PID 1 writes nothing through stdio, and a
	 * flush would be a blocking write on fd 1. */
	console_resume();
	console_drain(CONSOLE_DRAIN_MS);
	if (getpid() != 1)
		exit(0);
	reboot(RB_AUTOBOOT);
	/* reboot() returns only when refused (no CAP_SYS_BOOT): try powering
	 * off, then wait forever rather than exit (an exiting PID 1 panics the
	 * kernel). */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

_Noreturn void init_fatal(const char *step, const char *fmt, ...)
{
	char prefix[128];
	va_list ap;
	console_resume(); /* so that the lines below are not lost to a stopped console */
	snprintf(prefix, sizeof prefix, "%s: ", step);
	va_start(ap, fmt);
	log_line(prefix, fmt, ap);
	va_end(ap);
	init_log("ending the enclave (reboot)");
	if (getpid() != 1)
		exit(1);
	init_end_vm();
}
