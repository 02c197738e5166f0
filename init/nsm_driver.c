#include "init/nsm_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init/log.h"

int nsm_driver_load(struct cr_err *e)
{
	int fd = open(NSM_DRIVER_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return cr_failp(e, "open %s", NSM_DRIVER_PATH);
	}
	/* musl has no finit_module() wrapper. */
	if (syscall(SYS_finit_module, fd, "", 0) < 0) {
		int err = errno;
		struct stat st;
		/* The kernel's own driver (CONFIG_NSM) bound a virtio-nsm device
		 * (QEMU's nitro-enclave machine, Nitro hardware): the shim's
		 * misc_register finds /dev/nsm taken and the load fails with
		 * EEXIST. Only that case, with the node really there, goes on. */
		if (err == EEXIST && stat(NSM_DEV_PATH, &st) == 0 && S_ISCHR(st.st_mode)) {
			close(fd);
			init_log("nsm.ko: not loaded: the kernel's own NSM driver is present (%s exists); using it",
				 NSM_DEV_PATH);
			if (unlink(NSM_DRIVER_PATH) < 0)
				init_log("nsm.ko: unlink: the file stays (errno %d)", errno);
			return 2;
		}
		errno = err;
		cr_failp(e, "finit_module %s", NSM_DRIVER_PATH);
		close(fd);
		return -1;
	}
	close(fd);
	if (unlink(NSM_DRIVER_PATH) < 0)
		init_log("nsm.ko: unlink: loaded, but the file stays (errno %d)", errno);
	return 0;
}
