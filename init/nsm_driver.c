#include "init/nsm_driver.h"

#include <errno.h>
#include <fcntl.h>
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
		cr_failp(e, "finit_module %s", NSM_DRIVER_PATH);
		close(fd);
		return -1;
	}
	close(fd);
	if (unlink(NSM_DRIVER_PATH) < 0)
		init_log("nsm.ko: unlink: loaded, but the file stays (errno %d)", errno);
	return 0;
}
