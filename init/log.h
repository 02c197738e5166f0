/* Console messages of PID 1, and how it ends.
 *
 * Every message is one line "init: ..." on the console. A fatal error
 * prints "init: <step>: <reason>" and powers the VM off cleanly: PID 1 never
 * exits (that would panic the kernel) and never leaves the VM hanging. */
#ifndef CLEANROOM_INIT_LOG_H
#define CLEANROOM_INIT_LOG_H

void init_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Seconds since boot (CLOCK_BOOTTIME), for the timing stamps. */
double init_uptime(void);
/* Print "init: <step>: <reason>", then power off. Outside PID 1 (tests on
 * the host) it exits with status 1 instead. */
_Noreturn void init_fatal(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* End the VM: sync, then reboot(RB_AUTOBOOT) — with reboot=k on the kernel
 * cmdline this ends the enclave, as AWS's init does. */
_Noreturn void init_reboot(void);
/* End the VM after a failure: sync, then reboot(RB_POWER_OFF). */
_Noreturn void init_power_off(void);

#endif
