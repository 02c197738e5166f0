#include "host-tool/eif/dl_syms.h"

#include <dlfcn.h>
#include <string.h>

int dl_syms(const char *soname, const char *const names[], void *const slots[], size_t n, struct cr_err *e)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL), *sym;
	if (!lib)
		return cr_fail(e, "%s cannot be loaded: %s", soname, dlerror());
	for (size_t i = 0; i < n; i++) {
		if (!(sym = dlsym(lib, names[i]))) {
			/* Nothing half-resolved stays behind, and the library goes. */
			for (size_t j = 0; j < i; j++)
				memset(slots[j], 0, sizeof sym);
			dlclose(lib);
			return cr_fail(e, "%s has no %s", soname, names[i]);
		}
		/* memcpy: a data pointer from dlsym into a function pointer
		 * (POSIX); storing through a void ** would alias it. */
		memcpy(slots[i], &sym, sizeof sym);
	}
	return 0;
}
