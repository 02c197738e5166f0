/* Syscall numbers from 424 on (the same on every architecture) that older
 * libc headers lack: musl 1.2.3 stops before some of them. Used by the
 * sandbox and its seccomp filter. */
#ifndef CLEANROOM_SYSCALL_NR_H
#define CLEANROOM_SYSCALL_NR_H

#include <sys/syscall.h>

#ifndef __NR_pidfd_send_signal
# define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_io_uring_setup
# define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
# define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
# define __NR_io_uring_register 427
#endif
#ifndef __NR_open_tree
# define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
# define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
# define __NR_fsopen 430
#endif
#ifndef __NR_fsconfig
# define __NR_fsconfig 431
#endif
#ifndef __NR_fsmount
# define __NR_fsmount 432
#endif
#ifndef __NR_fspick
# define __NR_fspick 433
#endif
#ifndef __NR_clone3
# define __NR_clone3 435
#endif
#ifndef __NR_close_range
# define __NR_close_range 436
#endif
#ifndef __NR_pidfd_getfd
# define __NR_pidfd_getfd 438
#endif
#ifndef __NR_process_madvise
# define __NR_process_madvise 440
#endif
#ifndef __NR_mount_setattr
# define __NR_mount_setattr 442
#endif
#ifndef __NR_quotactl_fd
# define __NR_quotactl_fd 443
#endif

#endif
