#define ARCHIVE_LAZY_IMPL
#include "host-tool/eif/archive_lazy.h"

#include <dlfcn.h>
#include <string.h>

struct archive_lazy archive_lazy;

int archive_lazy_load(struct cr_err *e)
{
	static int loaded;
	void *lib, *sym;
	if (loaded)
		return 0;
	lib = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return cr_fail(e, "libarchive cannot be loaded (install libarchive13): %s", dlerror());
		/* memcpy: a data pointer from dlsym into a function pointer (POSIX). */
#define X(f)                                                                  \
 if (!(sym = dlsym(lib, #f)))                                                 \
  return cr_fail(e, "libarchive.so.13 has no %s (too old a libarchive)", #f); \
 memcpy(&archive_lazy.f, &sym, sizeof sym);
	ARCHIVE_LAZY_FUNCS(X)
#undef X
	loaded = 1;
	return 0;
}
