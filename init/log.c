#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/reboot.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

void init_log(const char *fmt, ...)
{
	va_list ap;
	fputs("init: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

double init_uptime(void)
{
	struct timespec t;
	clock_gettime(CLOCK_BOOTTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static _Noreturn void end_vm(int how)
{
	if (getpid() != 1)
		exit(how == RB_AUTOBOOT ? 0 : 1);
	/* The serial console is slow: let our last lines reach it before the
	 * VM goes away. */
	fflush(NULL);
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	sync();
	reboot(how);
	/* Should not return; if it does, try the other way, then wait forever
	 * rather than exit (an exiting PID 1 panics the kernel). */
	reboot(how == RB_AUTOBOOT ? RB_POWER_OFF : RB_AUTOBOOT);
	for (;;)
		pause();
}

_Noreturn void init_reboot(void)
{
	end_vm(RB_AUTOBOOT);
}

_Noreturn void init_power_off(void)
{
	end_vm(RB_POWER_OFF);
}

_Noreturn void init_fatal(const char *step, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "init: %s: ", step);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs("init: powering off\n", stderr);
	fflush(stderr);
	init_power_off();
}
