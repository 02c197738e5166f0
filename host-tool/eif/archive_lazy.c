#define ARCHIVE_LAZY_IMPL
#include "host-tool/eif/archive_lazy.h"

#include "host-tool/eif/dl_syms.h"

struct archive_lazy archive_lazy;

int archive_lazy_load(struct cr_err *e)
{
	static int loaded;
#define NAME(f) #f,
#define SLOT(f) &archive_lazy.f,
	static const char *const names[] = { ARCHIVE_LAZY_FUNCS(NAME) };
	void *const slots[] = { ARCHIVE_LAZY_FUNCS(SLOT) };
#undef NAME
#undef SLOT
	if (loaded)
		return 0;
	if (dl_syms("libarchive.so.13", names, slots, sizeof names / sizeof names[0], e))
		return cr_err_wrap(e, "eif --oci needs libarchive (Debian's libarchive13)");
	loaded = 1;
	return 0;
}
