/* The EIF metadata section: nitro-cli's EifIdentityInfo as compact JSON,
 * keys in nitro-cli's order. Not measured, but covered by the CRC, so every
 * byte comes from the inputs: BuildTime is SOURCE_DATE_EPOCH, never "now". */
#ifndef CLEANROOM_EIF_META_H
#define CLEANROOM_EIF_META_H

#include <stdint.h>

#include "base/json.h"
#include "base/util.h"

#define EIF_CUSTOM_METADATA_MAX 4096 /* nitro-cli's limit for --metadata */

/* What DockerInfo records of an image packed with --oci (nitro-cli puts
 * docker-inspect JSON there): the keys are docker inspect's. */
struct eif_image_info {
	const char *id;              /* config digest, "sha256:..." */
	const char *ref;             /* reference name, or "" */
	const char *manifest_digest; /* "sha256:...", or NULL (docker archive) */
	const char *arch, *os;
};

struct eif_meta_input {
	const char *image_name;
	const char *image_version;
	uint64_t build_time;                /* seconds since the epoch (SOURCE_DATE_EPOCH) */
	const char *kernel_version;         /* e.g. "6.12.57", or "unknown" */
	const char *arch;                   /* "x86_64" or "aarch64" */
	const struct json_val *custom;      /* CustomMetadata object, or NULL */
	const struct eif_image_info *image; /* DockerInfo, or NULL (null) */
};

int eif_meta_build(const struct eif_meta_input *in, struct cr_buf *out, struct cr_err *e);

/* RFC 3339 UTC as chrono's to_rfc3339() prints it: 1970-01-01T00:00:00+00:00 */
void eif_rfc3339(uint64_t t, char out[32]);

/* The kernel release ("6.12.57"): from an x86 bzImage's setup header, or
 * from the "Linux version" banner of an arm64 Image (uncompressed, as
 * nitro-cli's aarch64 blob is); "unknown" for anything else. */
void eif_kernel_version(const char *path, char *out, size_t n);

/* Parse SOURCE_DATE_EPOCH (unset → 0). It must be a decimal that fits the
 * 32-bit cpio mtime; anything else is an error naming the variable. */
int eif_source_date_epoch(uint64_t *out, struct cr_err *e);

#endif
