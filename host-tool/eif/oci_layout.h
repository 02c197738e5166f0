/* Which image, and what it says: reads an OCI image layout (index.json,
 * nested indexes, the manifest, the config) or a `docker save` archive's
 * manifest.json, selects one image (by tag, by digest, the only one, or by
 * platform in a multi-arch index), checks every blob it reads against its
 * descriptor, and validates each JSON field it uses (type, size, media
 * type, schemaVersion 2); errors name the field ("manifest layers[2].digest").
 * Docker 25+ archives have both files; index.json is preferred. */
#ifndef CLEANROOM_OCI_LAYOUT_H
#define CLEANROOM_OCI_LAYOUT_H

#include "host-tool/eif/oci_blob.h"
#include "base/util.h"

#define OCI_MAX_LAYERS 256
#define OCI_NAME_MAX 255

enum oci_compression { OCI_TAR, OCI_TAR_GZIP, OCI_TAR_ZSTD };

struct oci_layer {
	char path[160];            /* file in the source: blobs/<alg>/<hex> or the archive's name */
	struct oci_digest digest;  /* of the blob; for a docker archive, the diff_id */
	struct oci_digest diff_id; /* the config's rootfs.diff_ids entry: of the uncompressed tar */
	int64_t size;              /* -1 when the format gives none (docker archive) */
	enum oci_compression compression;
};

struct oci_image {
	struct oci_layer layers[OCI_MAX_LAYERS];
	size_t n_layers;
	struct oci_digest config_digest;
	int has_manifest_digest; /* 0 for a docker (legacy) archive */
	struct oci_digest manifest_digest;
	char ref[OCI_NAME_MAX + 1]; /* the image's reference name ("app:1.2"), may be "" */
	char arch[32], os[32];
	/* From the config: the command (Cmd, else Entrypoint) and Env, one
	 * entry per line, each ending in '\n'. has_cmd 0: neither is set. */
	struct cr_buf cmd, env;
	int has_cmd;
	const char *cmd_field; /* "Cmd" or "Entrypoint" */
};

/* ref: NULL, a tag or name ("latest", "app:1.2"), or "@sha256:..." for a
 * manifest digest. goarch: "amd64" or "arm64". */
int oci_image_load(struct oci_src *s, const char *ref, const char *goarch, struct oci_image *img, struct cr_err *e);
void oci_image_free(struct oci_image *img);

#endif
