/* Load nsm.ko from the initramfs root, as AWS's init does: absent means the
 * kernel has the driver built in (CONFIG_NSM); present means finit_module,
 * then unlink so the module file does not linger in RAM. On a machine whose
 * kernel driver already made /dev/nsm (QEMU's nitro-enclave, Nitro), the
 * mock-NSM shim's load fails with EEXIST: that one case is tolerated. */
#ifndef CLEANROOM_INIT_NSM_DRIVER_H
#define CLEANROOM_INIT_NSM_DRIVER_H

#include "base/util.h"

#define NSM_DRIVER_PATH "/nsm.ko"
#define NSM_DEV_PATH "/dev/nsm"

/* 0 loaded, 1 absent, 2 present but not loaded because the kernel's own
 * driver already owns /dev/nsm (finit_module failed with EEXIST and
 * /dev/nsm is a character device: one line is logged), -1 failed (e says
 * why; any other finit_module error, or EEXIST without /dev/nsm). */
int nsm_driver_load(struct cr_err *e);

#endif
