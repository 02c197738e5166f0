/* Files that ship with the tool (kernel, init, the local NSM shim), found
 * relative to the running executable so that both the build tree and an
 * installed copy work without compiled-in paths:
 *   <exe dir>/kernel/NAME, <exe dir>/../kernel/NAME   (build tree: build/…)
 *   <exe dir>/NAME, <exe dir>/../NAME
 *   <exe dir>/../lib/cleanroom/NAME                    (make install) */
#ifndef CLEANROOM_DATADIR_H
#define CLEANROOM_DATADIR_H

#include <stddef.h>

#include "base/util.h"

int cr_data_file(const char *name, char *out, size_t n, struct cr_err *e);

#endif
