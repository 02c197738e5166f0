#include "host-tool/eif/oci_layout.h"

#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/term.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define ANN_REF "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"
#define MAX_INDEX_ENTRIES 1024
#define MAX_NESTING 4
#define MAX_CMD_ARGS 4096
#define MAX_ENV 4096

static const struct json_limits json_lim = { OCI_JSON_MAX, 32, 1u << 20 };

/* A parsed JSON file, with the name errors use for it. */
struct jfile {
	const char *what; /* "index.json", "manifest", "config" */
	uint8_t *text;
	size_t len;
	struct json_doc doc;
};

static void jfile_free(struct jfile *f)
{
	free(f->text);
	json_free(&f->doc);
	memset(f, 0, sizeof *f);
}

static int fold_cmp(const void *a, const void *b)
{
	return json_key_fold_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* The objects Go decodes into a map (exact keys: "a" and "A" are two
 * labels there too), not a struct: annotations, and the config's Labels,
 * ExposedPorts and Volumes. */
static int go_map_key(const char *k)
{
	return !strcmp(k, "annotations") || !strcmp(k, "Labels") || !strcmp(k, "ExposedPorts") || !strcmp(k, "Volumes");
}

/* Go's encoding/json, which Docker, containerd, skopeo and umoci decode
 * these files with, takes keys that differ only in case (or by U+017F for
 * 's', U+212A for 'k') for the same struct field, the last one winning: an
 * object with two such keys reads differently there and here. Refused in
 * every object of the file that Go reads as a struct (is_map: v is one it
 * reads as a map; path: where v is, "" for the top level). */
static int fold_walk(const char *what, const struct json_val *v, int is_map, char *path, size_t len, size_t cap,
		     struct cr_err *e)
{
	const char **k;
	if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
		return 0;
	if (v->type == JSON_OBJECT && v->n > 1 && !is_map) {
		if (!(k = malloc(v->n * sizeof *k)))
			return cr_fail(e, "out of memory");
		memcpy(k, v->keys, v->n * sizeof *k);
		qsort(k, v->n, sizeof *k, fold_cmp);
		for (size_t i = 1; i < v->n; i++)
			if (!json_key_fold_cmp(k[i - 1], k[i])) {
				cr_fail(e,
					"%s%s%s%s: keys '%s' and '%s' differ only in case (Go's JSON decoders read "
					"them as one key)",
					what, len ? " object '" : "", len ? cr_term_arg(path) : "", len ? "'" : "",
					cr_term_arg(k[i - 1]), cr_term_arg(k[i]));
				free(k);
				return -1;
			}
		free(k);
	}
	for (size_t i = 0; i < v->n; i++) {
		int w = v->type == JSON_ARRAY ? snprintf(path + len, cap - len, "[%zu]", i)
					      : snprintf(path + len, cap - len, "%s%s", len ? "." : "", v->keys[i]);
		size_t nlen = w < 0 || (size_t)w >= cap - len ? cap - 1 : len + (size_t)w;
		if (fold_walk(what, v->kids[i], v->type == JSON_OBJECT && !is_map && go_map_key(v->keys[i]), path, nlen,
			      cap, e))
			return -1;
		path[len] = 0;
	}
	return 0;
}

static int jfile_load(struct oci_src *s, const char *what, const char *name, int64_t size, const struct oci_digest *d,
		      struct jfile *f, struct cr_err *e)
{
	memset(f, 0, sizeof *f);
	f->what = what;
	if (oci_read_small(s, name, size, d, &f->text, &f->len, e))
		return cr_err_wrap(e, "%s", what);
	if (json_parse((char *)f->text, f->len, &json_lim, &f->doc, e)) {
		free(f->text);
		f->text = NULL;
		return cr_err_wrap(e, "--oci %s: %s (%s)", s->label, what, name);
	}
	char path[256] = "";
	if (fold_walk(what, f->doc.root, 0, path, 0, sizeof path, e)) {
		jfile_free(f);
		return -1;
	}
	return 0;
}

/* --- field checks: each names the field in its message. */

static const struct json_val *field(const struct json_val *obj, const char *key, enum json_type t, int required,
				    const char *ctx, struct cr_err *e)
{
	static const char *const names[] = { "null", "false", "true", "a number", "a string", "an array", "an object" };
	const struct json_val *v = NULL;
	/* Another spelling Go's decoders take for this key (see fold_walk). */
	for (size_t i = 0; obj->type == JSON_OBJECT && i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			v = obj->kids[i];
		else if (!json_key_fold_cmp(obj->keys[i], key)) {
			cr_fail(e, "%s%s: spelled '%s' (Go's JSON decoders read that as %s; cleanroom reads only '%s')",
				ctx, key, cr_term_arg(obj->keys[i]), key, key);
			return NULL;
		}
	if (!v || (v->type == JSON_NULL && !required)) {
		if (required)
			cr_fail(e, "%s%s: missing", ctx, key);
		else
			e->code = 0;
		return NULL;
	}
	if (v->type != t && !(t == JSON_TRUE && v->type == JSON_FALSE)) {
		cr_fail(e, "%s%s: is %s, expected %s", ctx, key, names[v->type], names[t]);
		return NULL;
	}
	return v;
}

/* A string field of at most max bytes, printable ASCII. */
static const char *str_field(const struct json_val *obj, const char *key, size_t max, int required, const char *ctx,
			     struct cr_err *e)
{
	const struct json_val *v = field(obj, key, JSON_STRING, required, ctx, e);
	if (!v)
		return NULL;
	if (v->len > max) {
		cr_fail(e, "%s%s: %zu bytes, at most %zu allowed", ctx, key, v->len, max);
		return NULL;
	}
	return v->str;
}

struct desc {
	const char *media_type;
	struct oci_digest digest;
	int64_t size;
	const struct json_val *obj;
};

/* A descriptor {mediaType, digest, size}. */
static int parse_desc(const struct json_val *v, const char *ctx, struct desc *d, struct cr_err *e)
{
	const struct json_val *size;
	const char *dg;
	memset(d, 0, sizeof *d);
	d->obj = v;
	if (v->type != JSON_OBJECT)
		return cr_fail(e, "%s: expected an object", ctx);
	e->code = 0;
	char c[96];
	snprintf(c, sizeof c, "%s.", ctx);
	d->media_type = str_field(v, "mediaType", 255, 1, c, e);
	if (!d->media_type)
		return -1;
	dg = str_field(v, "digest", OCI_DIGEST_TEXT_MAX, 1, c, e);
	if (!dg)
		return -1;
	if (oci_digest_parse(dg, &d->digest))
		return cr_fail(e, "%sdigest: '%s' is not sha256:<64 hex> or sha512:<128 hex>", c, dg);
	size = field(v, "size", JSON_NUMBER, 1, c, e);
	if (!size)
		return -1;
	if (!size->is_int || size->i < 0)
		return cr_fail(e, "%ssize: must be a non-negative integer", c);
	d->size = size->i;
	return 0;
}

static void blob_path(const struct oci_digest *d, char *out, size_t n)
{
	snprintf(out, n, "blobs/sha%d/%s", d->alg, d->text + 7);
}

static int check_schema(const struct json_val *root, const char *ctx, const char *want_mt, const char *alt_mt,
			struct cr_err *e)
{
	const struct json_val *sv;
	const char *mt;
	if (root->type != JSON_OBJECT)
		return cr_fail(e, "%s: expected a JSON object", ctx);
	char c[64];
	snprintf(c, sizeof c, "%s ", ctx);
	sv = field(root, "schemaVersion", JSON_NUMBER, 1, c, e);
	if (!sv)
		return -1;
	if (!sv->is_int || sv->i != 2)
		return cr_fail(e, "%s schemaVersion: %s, expected 2", ctx, sv->str);
	e->code = 0;
	mt = str_field(root, "mediaType", 255, 0, c, e);
	if (!mt && e->code)
		return -1;
	if (mt && strcmp(mt, want_mt) && (!alt_mt || strcmp(mt, alt_mt)))
		return cr_fail(e, "%s mediaType: '%s', expected %s", ctx, mt, want_mt);
	return 0;
}

static int is_index_mt(const char *mt)
{
	return !strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST);
}

static int is_manifest_mt(const char *mt)
{
	return !strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST);
}

/* Docker's familiar form of a name: "docker.io/library/app:1" is "app:1". */
static const char *familiar(const char *name)
{
	static const char *const prefixes[] = { "docker.io/library/", "docker.io/" };
	for (size_t i = 0; i < 2; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return name + strlen(prefixes[i]);
	return name;
}

static int name_matches(const char *name, const char *ref)
{
	return name && (!strcmp(name, ref) || !strcmp(familiar(name), ref));
}

/* An index entry's annotations (a map: its keys are exact), NULL when
 * none or on error (e->code set). ctx: "index.json manifests[0]". */
static const struct json_val *annotations(const struct json_val *entry, const char *ctx, struct cr_err *e)
{
	char c[96];
	snprintf(c, sizeof c, "%s.", ctx);
	e->code = 0;
	return field(entry, "annotations", JSON_OBJECT, 0, c, e);
}

/* The names an index entry answers to: 1 yes, 0 no, -1 error. */
static int entry_matches(const struct json_val *entry, const char *ref, const char *ctx, struct cr_err *e)
{
	const struct json_val *ann = annotations(entry, ctx, e);
	if (!ann && e->code)
		return -1;
	return name_matches(json_get_str(ann, ANN_REF), ref) ||
	       name_matches(json_get_str(ann, ANN_CONTAINERD_NAME), ref);
}

static void set_ref(struct oci_image *img, const char *name)
{
	if (name && strlen(familiar(name)) <= OCI_NAME_MAX)
		snprintf(img->ref, sizeof img->ref, "%s", familiar(name));
}

/* 1 when the entry's platform is linux/goarch, 0 when another or none
 * (*has_platform tells), -1 on error. */
static int platform_matches(const struct json_val *entry, const char *goarch, const char *ctx, int *has_platform,
			    struct cr_err *e)
{
	const struct json_val *p;
	const char *a, *os;
	char c[96];
	snprintf(c, sizeof c, "%s.", ctx);
	e->code = 0;
	p = field(entry, "platform", JSON_OBJECT, 0, c, e);
	*has_platform = p != NULL;
	if (!p)
		return e->code ? -1 : 0;
	snprintf(c, sizeof c, "%s.platform.", ctx);
	if (!(a = str_field(p, "architecture", 31, 1, c, e)) || !(os = str_field(p, "os", 31, 1, c, e)))
		return -1;
	return !strcmp(a, goarch) && !strcmp(os, "linux");
}

static int load_manifest(struct oci_src *s, const struct desc *d, const char *goarch, struct oci_image *img,
			 struct cr_err *e);

/* Choose one entry of an index: by ref (top level only), by platform, or
 * the only one; then load it (an index again, or a manifest). */
static int from_index(struct oci_src *s, struct jfile *f, const char *ref, const char *goarch, int depth,
		      struct oci_image *img, struct cr_err *e)
{
	const struct json_val *ms;
	struct desc d;
	long chosen = -1;
	size_t n_platform = 0;
	char ctx[64];
	if (check_schema(f->doc.root, f->what, MT_OCI_INDEX, MT_DOCKER_LIST, e))
		return -1;
	snprintf(ctx, sizeof ctx, "%s ", f->what);
	if (!(ms = field(f->doc.root, "manifests", JSON_ARRAY, 1, ctx, e)))
		return -1;
	if (ms->n > MAX_INDEX_ENTRIES)
		return cr_fail(e, "%s manifests: %zu entries, at most %d", f->what, ms->n, MAX_INDEX_ENTRIES);
	for (size_t i = 0; i < ms->n; i++) {
		int pm, hp;
		snprintf(ctx, sizeof ctx, "%s manifests[%zu]", f->what, i);
		if (parse_desc(ms->kids[i], ctx, &d, e))
			return -1;
		if (!is_index_mt(d.media_type) && !is_manifest_mt(d.media_type))
			return cr_fail(e, "%s.mediaType: '%s' is not an image index or manifest", ctx, d.media_type);
		if (ref && ref[0] == '@') {
			if (!strcmp(d.digest.text, ref + 1))
				chosen = (long)i;
			continue;
		}
		if (ref) {
			if ((pm = entry_matches(ms->kids[i], ref, ctx, e)) < 0)
				return -1;
			if (pm) {
				if (chosen >= 0)
					return cr_fail(e, "%s: two manifests are named '%s'", f->what, ref);
				chosen = (long)i;
			}
			continue;
		}
		if ((pm = platform_matches(ms->kids[i], goarch, ctx, &hp, e)) < 0)
			return -1;
		n_platform += (size_t)hp;
		if (pm && chosen < 0)
			chosen = (long)i;
	}
	if (chosen < 0 && !ref && ms->n == 1 && n_platform == 0)
		chosen = 0;
	if (chosen < 0) {
		if (ref)
			return cr_fail(e, "--oci %s: no image named '%s' in %s", s->label, ref, f->what);
		if (n_platform)
			return cr_fail(e, "--oci %s: %s has no image for linux/%s (see --arch)", s->label, f->what,
				       goarch);
		return cr_fail(e, "--oci %s: %s lists %zu images; choose one with PATH:TAG or PATH@DIGEST", s->label,
			       f->what, ms->n);
	}
	snprintf(ctx, sizeof ctx, "%s manifests[%ld]", f->what, chosen);
	if (parse_desc(ms->kids[chosen], ctx, &d, e))
		return -1;
	if (!img->ref[0]) {
		const struct json_val *ann = annotations(ms->kids[chosen], ctx, e);
		const char *nm;
		if (!ann && e->code)
			return -1;
		nm = json_get_str(ann, ANN_CONTAINERD_NAME);
		set_ref(img, nm ? nm : json_get_str(ann, ANN_REF));
	}
	if (is_index_mt(d.media_type)) {
		struct jfile sub;
		char path[160];
		int rc;
		if (depth >= MAX_NESTING)
			return cr_fail(e, "%s: image indexes nested more than %d deep", ctx, MAX_NESTING);
		blob_path(&d.digest, path, sizeof path);
		if (jfile_load(s, "image index", path, d.size, &d.digest, &sub, e))
			return -1;
		rc = from_index(s, &sub, NULL, goarch, depth + 1, img, e);
		jfile_free(&sub);
		return rc;
	}
	return load_manifest(s, &d, goarch, img, e);
}

/* One list of strings (Cmd, Entrypoint, Env) into lines. */
static int string_lines(const struct json_val *arr, const char *ctx, size_t max_n, int is_env, struct cr_buf *out,
			struct cr_err *e)
{
	if (arr->n > max_n)
		return cr_fail(e, "%s: %zu entries, at most %zu", ctx, arr->n, max_n);
	for (size_t i = 0; i < arr->n; i++) {
		const struct json_val *v = arr->kids[i];
		if (v->type != JSON_STRING)
			return cr_fail(e, "%s[%zu]: expected a string", ctx, i);
		if (memchr(v->str, '\n', v->len))
			return cr_fail(e, "%s[%zu]: contains a newline (the cmd and env files are one entry per line)",
				       ctx, i);
		if (is_env && (v->len == 0 || v->str[0] == '=' || !memchr(v->str, '=', v->len)))
			return cr_fail(e, "%s[%zu]: expected KEY=VALUE", ctx, i);
		if (cr_buf_put(out, v->str, v->len, e) || cr_buf_putc(out, '\n', e))
			return cr_err_wrap(e, "%s", ctx);
	}
	return 0;
}

/* The config: platform, then Cmd (else Entrypoint, as nitro-cli) and Env. */
static int parse_config(const struct json_val *root, const char *goarch, struct oci_image *img, struct cr_err *e)
{
	const struct json_val *cfg, *cmd, *ep, *env;
	const char *a, *os;
	if (root->type != JSON_OBJECT)
		return cr_fail(e, "config: expected a JSON object");
	if (!(a = str_field(root, "architecture", 31, 1, "config ", e)) ||
	    !(os = str_field(root, "os", 31, 1, "config ", e)))
		return -1;
	snprintf(img->arch, sizeof img->arch, "%s", a);
	snprintf(img->os, sizeof img->os, "%s", os);
	if (strcmp(os, "linux"))
		return cr_fail(e, "config os: '%s', expected linux", os);
	if (strcmp(a, goarch))
		return cr_fail(e, "config architecture: '%s', but the EIF is for %s (see --arch)", a, goarch);
	e->code = 0;
	cfg = field(root, "config", JSON_OBJECT, 0, "config ", e);
	if (!cfg) {
		if (e->code)
			return -1;
		return 0;
	}
	cmd = field(cfg, "Cmd", JSON_ARRAY, 0, "config config.", e);
	if (!cmd && e->code)
		return -1;
	ep = field(cfg, "Entrypoint", JSON_ARRAY, 0, "config config.", e);
	if (!ep && e->code)
		return -1;
	env = field(cfg, "Env", JSON_ARRAY, 0, "config config.", e);
	if (!env && e->code)
		return -1;
	if (cmd || ep) {
		const struct json_val *use = cmd ? cmd : ep;
		img->cmd_field = cmd ? "Cmd" : "Entrypoint";
		if (use->n == 0)
			return cr_fail(e, "config config.%s: empty (give --cmd)", img->cmd_field);
		if (string_lines(use, cmd ? "config config.Cmd" : "config config.Entrypoint", MAX_CMD_ARGS, 0,
				 &img->cmd, e))
			return -1;
		img->has_cmd = 1;
	}
	if (env && string_lines(env, "config config.Env", MAX_ENV, 1, &img->env, e))
		return -1;
	return 0;
}

static int layer_compression(const char *mt, enum oci_compression *c)
{
	static const struct {
		const char *mt;
		enum oci_compression c;
	} known[] = {
		{ "application/vnd.oci.image.layer.v1.tar", OCI_TAR },
		{ "application/vnd.oci.image.layer.v1.tar+gzip", OCI_TAR_GZIP },
		{ "application/vnd.oci.image.layer.v1.tar+zstd", OCI_TAR_ZSTD },
		{ "application/vnd.docker.image.rootfs.diff.tar", OCI_TAR },
		{ "application/vnd.docker.image.rootfs.diff.tar.gzip", OCI_TAR_GZIP },
		{ "application/vnd.docker.image.rootfs.diff.tar.zstd", OCI_TAR_ZSTD },
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(mt, known[i].mt)) {
			*c = known[i].c;
			return 0;
		}
	return -1;
}

/* The config's rootfs.diff_ids, one per layer (layers_ctx names the
 * manifest's list): the digests of the layers' uncompressed tar streams,
 * which umoci and Docker check and the image Id (the config digest) stands
 * for; oci_apply checks them as it reads the layers. */
static int read_diff_ids(const struct json_val *cfg, size_t n_layers, const char *layers_ctx, struct oci_image *img,
			 struct cr_err *e)
{
	const struct json_val *rootfs, *diff;
	if (!(rootfs = field(cfg, "rootfs", JSON_OBJECT, 1, "config ", e)) ||
	    !(diff = field(rootfs, "diff_ids", JSON_ARRAY, 1, "config rootfs.", e)))
		return -1;
	if (diff->n != n_layers)
		return cr_fail(e, "%s: %zu layers, the config's rootfs.diff_ids has %zu", layers_ctx, n_layers,
			       diff->n);
	for (size_t i = 0; i < n_layers; i++) {
		const struct json_val *dv = diff->kids[i];
		if (dv->type != JSON_STRING || oci_digest_parse(dv->str, &img->layers[i].diff_id))
			return cr_fail(e, "config rootfs.diff_ids[%zu]: expected sha256:<64 hex>", i);
	}
	return 0;
}

static int load_config(struct oci_src *s, const char *path, int64_t size, const struct oci_digest *d,
		       const char *goarch, struct oci_image *img, struct jfile *f, struct cr_err *e)
{
	if (jfile_load(s, "config", path, size, d, f, e))
		return -1;
	img->config_digest = *d;
	return parse_config(f->doc.root, goarch, img, e);
}

static int load_manifest(struct oci_src *s, const struct desc *md, const char *goarch, struct oci_image *img,
			 struct cr_err *e)
{
	struct jfile m, c;
	struct desc cd;
	const struct json_val *layers, *cv;
	char path[160], ctx[64];
	int rc = -1;
	memset(&c, 0, sizeof c);
	blob_path(&md->digest, path, sizeof path);
	if (jfile_load(s, "manifest", path, md->size, &md->digest, &m, e))
		return -1;
	img->manifest_digest = md->digest;
	img->has_manifest_digest = 1;
	if (check_schema(m.doc.root, "manifest", md->media_type, NULL, e))
		goto out;
	if (!(cv = field(m.doc.root, "config", JSON_OBJECT, 1, "manifest ", e)) ||
	    parse_desc(cv, "manifest config", &cd, e))
		goto out;
	if (strcmp(cd.media_type, MT_OCI_CONFIG) && strcmp(cd.media_type, MT_DOCKER_CONFIG)) {
		cr_fail(e, "manifest config.mediaType: '%s' is not an image config", cd.media_type);
		goto out;
	}
	if (!(layers = field(m.doc.root, "layers", JSON_ARRAY, 1, "manifest ", e)))
		goto out;
	if (layers->n > OCI_MAX_LAYERS) {
		cr_fail(e, "manifest layers: %zu layers, at most %d", layers->n, OCI_MAX_LAYERS);
		goto out;
	}
	for (size_t i = 0; i < layers->n; i++) {
		struct desc ld;
		struct oci_layer *l = &img->layers[i];
		snprintf(ctx, sizeof ctx, "manifest layers[%zu]", i);
		if (parse_desc(layers->kids[i], ctx, &ld, e))
			goto out;
		if (layer_compression(ld.media_type, &l->compression)) {
			cr_fail(e, "%s.mediaType: '%s' is not a tar, tar+gzip or tar+zstd layer", ctx, ld.media_type);
			goto out;
		}
		l->digest = ld.digest;
		l->size = ld.size;
		blob_path(&ld.digest, l->path, sizeof l->path);
	}
	img->n_layers = layers->n;
	blob_path(&cd.digest, path, sizeof path);
	if (load_config(s, path, cd.size, &cd.digest, goarch, img, &c, e) ||
	    read_diff_ids(c.doc.root, layers->n, "manifest layers", img, e))
		goto out;
	rc = 0;
out:
	jfile_free(&m);
	jfile_free(&c);
	return rc;
}

/* A relative file name inside a docker archive: no '..', no absolute path. */
static int archive_name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len >= 160 || n[0] == '/' || strstr(n, ".."))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (n[i] < 0x21 || n[i] > 0x7e)
			return 0;
	return 1;
}

/* `docker save` before version 25: manifest.json = [{Config, RepoTags,
 * Layers}]. The config is named by its sha256; the layers are checked
 * against the config's rootfs.diff_ids. */
static int from_docker_manifest(struct oci_src *s, const char *ref, const char *goarch, struct oci_image *img,
				struct cr_err *e)
{
	struct jfile f, c;
	const struct json_val *root, *entry = NULL, *layers, *tags;
	const char *cfg;
	char ctx[64];
	uint8_t h[CR_SHA256_LEN];
	char hex[CR_HEX_SIZE(CR_SHA256_LEN)];
	struct oci_digest cd;
	int rc = -1;
	memset(&c, 0, sizeof c);
	if (jfile_load(s, "manifest.json", "manifest.json", -1, NULL, &f, e))
		return -1;
	root = f.doc.root;
	if (root->type != JSON_ARRAY || root->n == 0 || root->n > MAX_INDEX_ENTRIES) {
		cr_fail(e, "manifest.json: expected an array of 1 to %d images", MAX_INDEX_ENTRIES);
		goto out;
	}
	for (size_t i = 0; i < root->n; i++) {
		snprintf(ctx, sizeof ctx, "manifest.json[%zu]", i);
		if (root->kids[i]->type != JSON_OBJECT) {
			cr_fail(e, "%s: expected an object", ctx);
			goto out;
		}
		snprintf(ctx, sizeof ctx, "manifest.json[%zu].", i);
		e->code = 0;
		tags = field(root->kids[i], "RepoTags", JSON_ARRAY, 0, ctx, e);
		if (!tags && e->code)
			goto out;
		if (ref && tags && tags->type == JSON_ARRAY)
			for (size_t t = 0; t < tags->n; t++)
				if (tags->kids[t]->type == JSON_STRING && name_matches(tags->kids[t]->str, ref))
					entry = root->kids[i];
	}
	if (!ref && root->n == 1)
		entry = root->kids[0];
	if (!entry) {
		if (ref)
			cr_fail(e, "--oci %s: no image tagged '%s' in manifest.json", s->label, ref);
		else
			cr_fail(e, "--oci %s: manifest.json lists %zu images; choose one with PATH:TAG", s->label,
				root->n);
		goto out;
	}
	e->code = 0;
	tags = field(entry, "RepoTags", JSON_ARRAY, 0, "manifest.json ", e);
	if (!tags && e->code)
		goto out;
	set_ref(img, ref ? ref : tags && tags->n && tags->kids[0]->type == JSON_STRING ? tags->kids[0]->str : NULL);
	if (!(cfg = str_field(entry, "Config", 159, 1, "manifest.json ", e)) ||
	    !(layers = field(entry, "Layers", JSON_ARRAY, 1, "manifest.json ", e)))
		goto out;
	if (!archive_name_ok(cfg)) {
		cr_fail(e, "manifest.json Config: '%s' is not a plain relative name", cfg);
		goto out;
	}
	if (jfile_load(s, "config", cfg, -1, NULL, &c, e))
		goto out;
	/* The config's name is its digest: <hex>.json or blobs/sha256/<hex>. */
	oci_sha256(c.text, c.len, h);
	cr_hex(h, sizeof h, hex);
	{
		const char *base = strrchr(cfg, '/') ? strrchr(cfg, '/') + 1 : cfg;
		if (strncmp(base, hex, 64) || (base[64] && strcmp(base + 64, ".json"))) {
			cr_fail(e, "manifest.json Config: '%s' does not match its content's sha256:%.12s...", cfg, hex);
			goto out;
		}
	}
	{
		char text[OCI_DIGEST_TEXT_MAX + 1];
		snprintf(text, sizeof text, "sha256:%s", hex);
		if (oci_digest_parse(text, &cd)) {
			cr_fail(e, "config: digest");
			goto out;
		}
	}
	img->config_digest = cd;
	if (parse_config(c.doc.root, goarch, img, e))
		goto out;
	if (layers->n > OCI_MAX_LAYERS) {
		cr_fail(e, "manifest.json Layers: %zu layers, at most %d", layers->n, OCI_MAX_LAYERS);
		goto out;
	}
	if (read_diff_ids(c.doc.root, layers->n, "manifest.json Layers", img, e))
		goto out;
	for (size_t i = 0; i < layers->n; i++) {
		struct oci_layer *l = &img->layers[i];
		const struct json_val *ln = layers->kids[i];
		if (ln->type != JSON_STRING || !archive_name_ok(ln->str)) {
			cr_fail(e, "manifest.json Layers[%zu]: expected a plain relative file name", i);
			goto out;
		}
		/* The layer is its uncompressed tar: its digest is the diff_id. */
		l->digest = l->diff_id;
		snprintf(l->path, sizeof l->path, "%s", ln->str);
		l->size = -1;
		l->compression = OCI_TAR;
	}
	img->n_layers = layers->n;
	rc = 0;
out:
	jfile_free(&f);
	jfile_free(&c);
	return rc;
}

int oci_image_load(struct oci_src *s, const char *ref, const char *goarch, struct oci_image *img, struct cr_err *e)
{
	int has;
	memset(img, 0, sizeof *img);
	cr_buf_init(&img->cmd, 1u << 20);
	cr_buf_init(&img->env, 1u << 20);
	if ((has = oci_src_has(s, "index.json", e)) < 0)
		return -1;
	if (has) {
		struct jfile f;
		int rc;
		if (ref && ref[0] != '@')
			set_ref(img, ref);
		if (jfile_load(s, "index.json", "index.json", -1, NULL, &f, e))
			return -1;
		rc = from_index(s, &f, ref, goarch, 0, img, e);
		jfile_free(&f);
		return rc;
	}
	if ((has = oci_src_has(s, "manifest.json", e)) < 0)
		return -1;
	if (!has)
		return cr_fail(e, "--oci %s: neither index.json (OCI layout) nor manifest.json (docker save) found",
			       s->label);
	if (ref && ref[0] == '@')
		return cr_fail(e, "--oci %s: a docker archive has no manifest digests; select by tag", s->label);
	return from_docker_manifest(s, ref, goarch, img, e);
}

void oci_image_free(struct oci_image *img)
{
	cr_buf_free(&img->cmd);
	cr_buf_free(&img->env);
}
