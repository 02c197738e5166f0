/* libarchive, opened on first use instead of linked.
 *
 * Only `cleanroom eif --oci` reads archives, but a linked libarchive (with
 * libxml2, ICU and libstdc++ behind it) costs every command about 7 ms of
 * start-up, which `cleanroom verify`'s per-process time cannot afford. So
 * the OCI files include this header after <archive.h>: each libarchive call
 * they make goes through a pointer of the same type, filled by
 * archive_lazy_load() (which oci_unpack calls first). */
#ifndef CLEANROOM_ARCHIVE_LAZY_H
#define CLEANROOM_ARCHIVE_LAZY_H

#include <archive.h>
#include <archive_entry.h>

#include "base/util.h"

/* Every libarchive function the host tool calls. */
#define ARCHIVE_LAZY_FUNCS(X)        \
 X(archive_entry_filetype)           \
 X(archive_entry_hardlink)           \
 X(archive_entry_pathname)           \
 X(archive_entry_perm)               \
 X(archive_entry_size)               \
 X(archive_entry_symlink)            \
 X(archive_error_string)             \
 X(archive_filter_code)              \
 X(archive_filter_count)             \
 X(archive_filter_name)              \
 X(archive_read_data)                \
 X(archive_read_data_skip)           \
 X(archive_read_free)                \
 X(archive_read_new)                 \
 X(archive_read_next_header)         \
 X(archive_read_open)                \
 X(archive_read_open_fd)             \
 X(archive_read_support_filter_gzip) \
 X(archive_read_support_filter_zstd) \
 X(archive_read_support_format_raw)  \
 X(archive_read_support_format_tar)  \
 X(archive_set_error)

struct archive_lazy {
#define X(f) __typeof__(f) *f;
	ARCHIVE_LAZY_FUNCS(X)
#undef X
};
extern struct archive_lazy archive_lazy;

/* Open libarchive.so.13 and resolve every function, once. -1 with e (naming
 * the library or the missing function) if that fails. */
int archive_lazy_load(struct cr_err *e);

#ifndef ARCHIVE_LAZY_IMPL
# define archive_entry_filetype archive_lazy.archive_entry_filetype
# define archive_entry_hardlink archive_lazy.archive_entry_hardlink
# define archive_entry_pathname archive_lazy.archive_entry_pathname
# define archive_entry_perm archive_lazy.archive_entry_perm
# define archive_entry_size archive_lazy.archive_entry_size
# define archive_entry_symlink archive_lazy.archive_entry_symlink
# define archive_error_string archive_lazy.archive_error_string
# define archive_filter_code archive_lazy.archive_filter_code
# define archive_filter_count archive_lazy.archive_filter_count
# define archive_filter_name archive_lazy.archive_filter_name
# define archive_read_data archive_lazy.archive_read_data
# define archive_read_data_skip archive_lazy.archive_read_data_skip
# define archive_read_free archive_lazy.archive_read_free
# define archive_read_new archive_lazy.archive_read_new
# define archive_read_next_header archive_lazy.archive_read_next_header
# define archive_read_open archive_lazy.archive_read_open
# define archive_read_open_fd archive_lazy.archive_read_open_fd
# define archive_read_support_filter_gzip archive_lazy.archive_read_support_filter_gzip
# define archive_read_support_filter_zstd archive_lazy.archive_read_support_filter_zstd
# define archive_read_support_format_raw archive_lazy.archive_read_support_format_raw
# define archive_read_support_format_tar archive_lazy.archive_read_support_format_tar
# define archive_set_error archive_lazy.archive_set_error
#endif

#endif
