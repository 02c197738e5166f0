/* The command of qemu/init-boot's stopped-console cases (static musl, in a
 * busybox root): prints a line, leaves the console's output stopped, and
 * exits. PID 1 must still end the VM (it used to wait in tcdrain for good).
 *   tty_stop tcooff   tcflow(1, TCOOFF)
 *   tty_stop xoff     a ^S typed on the console's input (TIOCSTI; IXON is on)
 *   tty_stop orphan   as tcooff, and a child left behind that stops output
 *                     again every 10 ms for 60 s: init's drain meets its
 *                     deadline (its last lines may be lost; the VM ends)
 * Exit status 0 when output was seen stopped (a line stays queued: TIOCOUTQ
 * above 0), 1 when it was not (the case then proves nothing), 2 on misuse. */
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

int main(int argc, char **argv)
{
	static const char line[] = "tty_stop: this line is queued while the console is stopped\n";
	int queued = 0;
	if (argc != 2)
		return 2;
	(void)!write(1, "tty_stop: stopping the console's output\n", 40);
	sleep_ms(200); /* that line leaves before the stop */
	if (!strcmp(argv[1], "xoff")) {
		char c = 0x13;
		if (ioctl(0, TIOCSTI, &c))
			return 1;
	} else if (!strcmp(argv[1], "tcooff") || !strcmp(argv[1], "orphan")) {
		tcflow(1, TCOOFF);
	} else {
		return 2;
	}
	if (!strcmp(argv[1], "orphan") && fork() == 0) {
		for (int i = 0; i < 6000; i++) {
			tcflow(1, TCOOFF);
			sleep_ms(10);
		}
		_exit(0);
	}
	(void)!write(1, line, sizeof line - 1);
	sleep_ms(100);
	return ioctl(1, TIOCOUTQ, &queued) == 0 && queued > 0 ? 0 : 1;
}
