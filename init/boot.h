/* The boot sequence of PID 1: tables of named steps, run in order. A step
 * that fails ends the VM with "init: <step>: <reason>". */
#ifndef CLEANROOM_INIT_BOOT_H
#define CLEANROOM_INIT_BOOT_H

#include "init/config_file.h"

enum init_mode { MODE_BOOTSTRAP, MODE_AGENT };

struct boot {
	double started, heartbeat_sent; /* CLOCK_BOOTTIME seconds */
	double module_load;             /* seconds spent in finit_module */
	double connecting;              /* seconds spent connecting for the heartbeat */
	int module_loaded;
	int module_builtin; /* the kernel's own NSM driver owns /dev/nsm: nsm.ko not loaded */
	enum init_mode mode;
	const char *mode_reason;
	struct str_list cmd, env;
};

struct boot_step {
	const char *name;
	int (*run)(struct boot *b, struct cr_err *e);
};

_Noreturn void boot_main(double started);

#endif
