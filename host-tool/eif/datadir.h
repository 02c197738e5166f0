/* Files that ship with the tool — the enclave kernel, the init and the
 * mock-NSM shim, one set per architecture — found relative to the running
 * executable, so that an installed copy (also under DESTDIR, or moved
 * elsewhere whole) and the build tree both work without compiled-in paths.
 * With D the executable's directory and P its parent, NAME is looked for at:
 *   P/lib/cleanroom/ARCH/NAME          installed by 'make install'
 *   D/KDIR/NAME, P/KDIR/NAME           a build tree (build/cleanroom,
 *                                      build/asan/cleanroom) for the kernel's
 *                                      files: KDIR is kernel/ for x86_64 (make
 *                                      kernel), kernel-aarch64/ for aarch64
 *   D/init, P/init                     a build tree's init (x86_64 only)
 * The first regular file found wins. */
#ifndef CLEANROOM_DATADIR_H
#define CLEANROOM_DATADIR_H

#include <stddef.h>

#include "base/util.h"

/* The kernel image's file name for ARCH: bzImage (x86_64), Image (aarch64). */
const char *cr_data_kernel_name(const char *arch);

/* Find NAME ("bzImage", "Image", "init", "nsm.ko") for ARCH ("x86_64" or
 * "aarch64") into out. When it is nowhere, fails with one line naming every
 * place looked and how to get the file there. */
int cr_data_file(const char *arch, const char *name, char *out, size_t n, struct cr_err *e);

/* QEMU with the nitro-enclave machine (`make qemu-nitro`): looked for at
 * P/lib/cleanroom/qemu-nitro/qemu-system-x86_64 (an installed tree),
 * D/qemu-nitro/qemu-system-x86_64 and P/qemu-nitro/qemu-system-x86_64 (a
 * build tree: build/cleanroom, build/asan/cleanroom). When it is nowhere,
 * fails with one line naming every place looked and 'make qemu-nitro'. */
int cr_data_qemu_nitro(char *out, size_t n, struct cr_err *e);

#endif
