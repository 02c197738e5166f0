/* Load nsm.ko from the initramfs root, as AWS's init does: absent means the
 * kernel has the driver built in (CONFIG_NSM); present means finit_module,
 * then unlink so the module file does not linger in RAM. */
#ifndef CLEANROOM_INIT_NSM_DRIVER_H
#define CLEANROOM_INIT_NSM_DRIVER_H

#include "base/util.h"

#define NSM_DRIVER_PATH "/nsm.ko"

/* 0 loaded, 1 absent, -1 failed (e says why). */
int nsm_driver_load(struct cr_err *e);

#endif
