/* `--oci PATH[:TAG|@DIGEST]` end to end: split the argument, open the
 * source, select and check the image, and apply its layers into a fresh
 * private directory (oci_tmp.h) whose rootfs/ is then packed like --rootfs.
 * Disk use is the unpacked size; memory does not grow with the image. */
#ifndef CLEANROOM_OCI_UNPACK_H
#define CLEANROOM_OCI_UNPACK_H

#include "host-tool/eif/oci_layout.h"
#include "host-tool/eif/oci_tmp.h"

/* arch: "x86_64" or "aarch64". On success tmp holds rootfs/ (its path in
 * rootfs), img what the image says; the caller removes tmp (also on error:
 * oci_tmp_remove is safe to call on a failed or empty tmp). */
int oci_unpack(const char *arg, const char *arch, uint64_t max_unpacked, struct oci_tmp *tmp, struct oci_image *img,
	       char *rootfs, size_t rootfs_size, struct cr_err *e);

#endif
