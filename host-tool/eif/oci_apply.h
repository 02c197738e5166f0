/* Applying image layers to a directory, securely (libarchive reads the
 * tar; this file decides what each entry may do).
 *
 * Each layer is read twice. Pass 1 checks names, types and sizes against
 * the limits, collects the whiteouts and verifies the blob's digest and
 * size, and the decompressed stream's diff_id (hashed as it is read: one
 * decompression per pass); only then are the whiteouts applied (to the
 * lower layers: nothing of this layer exists yet). Pass 2 extracts,
 * hashing the blob again, so a blob that changes between the passes is
 * refused too. The decompressed stream is bounded in both passes (file
 * data, --max-unpacked, plus a fixed allowance per entry and per layer),
 * and a layer may be compressed once only, as its media type says.
 *
 * Every path is walked from the root one component at a time with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a symlink in the middle
 * of a name, planted by an earlier entry or layer, is refused, never
 * followed; absolute names, '..'
 * components, hard links to missing or outside targets, devices, FIFOs and
 * sockets are refused, naming the entry and the layer. Everything is
 * bounded: unpacked bytes (--max-unpacked), entry count, name length,
 * depth. Regular files keep only their execute bit (0755/0644), directories
 * are 0755 (oci_unpack clears the umask while the layers are applied, so
 * these are the modes on disk); owners and times are not kept (the packer
 * normalises them). */
#ifndef CLEANROOM_OCI_APPLY_H
#define CLEANROOM_OCI_APPLY_H

#include <stdint.h>

#include "host-tool/eif/oci_layout.h"
#include "base/util.h"

#define OCI_MAX_ENTRIES 1000000
#define OCI_MAX_DEPTH 200
#define OCI_DEFAULT_MAX_UNPACKED (4ull << 30)

struct oci_budget {
	uint64_t max_bytes, bytes; /* file data, all layers */
	uint64_t entries;          /* all layers */
	uint64_t stream;           /* decompressed tar bytes, all layers (pass 1) */
};

/* Apply layer number idx of img from src onto the directory rootfd. */
int oci_apply_layer(struct oci_src *src, const struct oci_image *img, size_t idx, int rootfd, struct oci_budget *b,
		    struct cr_err *e);

#endif
