/* Console messages of PID 1, and how it ends.
 *
 * Every message is one line "init: ..." on the console. A fatal error
 * prints "init: <step>: <reason>" and ends the VM: PID 1 never exits (that
 * would panic the kernel) and never leaves the VM running or halted. */
#ifndef CLEANROOM_INIT_LOG_H
#define CLEANROOM_INIT_LOG_H

void init_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Seconds since boot (CLOCK_BOOTTIME), for the timing stamps. */
double init_uptime(void);
/* Print "init: <step>: <reason>" and "init: ending the enclave (reboot)",
 * then end the VM. Outside PID 1 (tests on the host) it exits with status 1
 * instead. */
_Noreturn void init_fatal(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* End the VM, the one way for every path and machine: restart console
 * output the command may have stopped, wait for the console to empty (at
 * most CONSOLE_DRAIN_MS), then reboot(RB_AUTOBOOT) — Nitro ends the enclave
 * on a reboot (reboot=k), and `cleanroom run` runs QEMU with -no-reboot.
 * Outside PID 1 it exits 0 instead of rebooting. */
_Noreturn void init_end_vm(void);

#endif
