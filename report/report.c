/* The report: statement JSON, DSSE and SPKI (report.h); the bundle forms are
 * in report_bundle.c. */
#include "report/report.h"

#include <bearssl.h>
#include <string.h>

#include "base/digest.h"
#include "base/base64.h"

/* ------------------------------------------------------------ time */

/* Unix ms as RFC 3339 UTC with milliseconds, "2026-11-23T10:00:00.123Z". */
static void time_ms_format(int64_t ms, char out[40])
{
	char s[32];
	int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	cr_time_format(sec, s);
	s[strlen(s) - 1] = 0; /* drop the Z */
	snprintf(out, 40, "%s.%03dZ", s, (int)(ms - sec * 1000));
}

static int time_ms_parse(const char *s, int64_t *ms)
{
	int64_t sec;
	size_t n = strlen(s);
	/* exactly the shape time_ms_format() writes */
	if (n != 24 || s[19] != '.' || s[23] != 'Z' || s[20] < '0' || s[20] > '9' || s[21] < '0' || s[21] > '9' ||
	    s[22] < '0' || s[22] > '9' || cr_parse_time(s, &sec))
		return -1;
	*ms = sec * 1000 + (s[20] - '0') * 100 + (s[21] - '0') * 10 + (s[22] - '0');
	return 0;
}

/* ------------------------------------------------------------ statement */

/* Object keys are written in bytewise order by hand: canonical JSON. The
 * unit test re-checks the order on the parsed output. */
static void digest_obj(struct json_w *w, const char *alg, const uint8_t *d, size_t n)
{
	jw_key(w, "digest");
	jw_obj_begin(w);
	jw_khex(w, alg, d, n);
	jw_obj_end(w);
}

/* resolvedDependencies entry of a tree: digest (one or two ids), name, uri */
static void tree_dep(struct json_w *w, const char *name, const char *uri, const uint8_t *sha1, const uint8_t *sha256)
{
	jw_obj_begin(w);
	jw_key(w, "digest");
	jw_obj_begin(w);
	if (sha1)
		jw_khex(w, "gitTree", sha1, CR_SHA1_LEN);
	jw_khex(w, "gitTreeSha256", sha256, CR_SHA256_LEN);
	jw_obj_end(w);
	jw_kstr(w, "name", name);
	jw_kstr(w, "uri", uri);
	jw_obj_end(w);
}

int report_statement_encode(const struct report_statement *s, struct cr_buf *out, struct cr_err *e)
{
	struct json_w w;
	char t[40];
	int v1 = s->build_type == REPORT_BT_V1;
	if (!v1 && s->build_type != REPORT_BT_URN_V1)
		return cr_fail(e, "statement: unknown build type %d", (int)s->build_type);
	out->len = 0;
	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_kstr(&w, "_type", REPORT_STATEMENT_TYPE);
	jw_key(&w, "predicate");
	jw_obj_begin(&w);
	{
		jw_key(&w, "buildDefinition");
		jw_obj_begin(&w);
		jw_kstr(&w, "buildType", v1 ? REPORT_BUILD_TYPE : REPORT_BUILD_TYPE_URN);
		jw_key(&w, "externalParameters");
		jw_obj_begin(&w);
		jw_key(&w, "command");
		jw_arr_begin(&w);
		for (size_t i = 0; i < s->argc; i++)
			jw_str(&w, s->argv[i]);
		jw_arr_end(&w);
		jw_key(&w, "deps");
		jw_obj_begin(&w);
		jw_ku64(&w, "files", s->deps_files);
		jw_khex(&w, "gitTreeSha256", s->deps_tree_sha256, CR_SHA256_LEN);
		jw_obj_end(&w);
		jw_key(&w, "source");
		jw_obj_begin(&w);
		jw_ku64(&w, "files", s->src_files);
		jw_khex(&w, "gitTree", s->src_tree_sha1, CR_SHA1_LEN);
		jw_khex(&w, "gitTreeSha256", s->src_tree_sha256, CR_SHA256_LEN);
		jw_obj_end(&w);
		jw_ku64(&w, "sourceDateEpoch", s->sde);
		jw_obj_end(&w);
		jw_key(&w, "internalParameters");
		jw_obj_begin(&w);
		jw_key(&w, "limits");
		jw_obj_begin(&w);
		jw_ku64(&w, "files", s->limits.files);
		if (s->limits.log_bytes)
			jw_ku64(&w, "logBytes", s->limits.log_bytes);
		jw_ku64(&w, "memoryMiB", s->limits.memory_mb);
		jw_ku64(&w, "outputMiB", s->limits.output_mb);
		jw_ku64(&w, "pids", s->limits.pids);
		jw_ku64(&w, "sourceMiB", s->limits.source_mb);
		jw_ku64(&w, "timeoutSeconds", s->limits.timeout_s);
		jw_obj_end(&w);
		jw_obj_end(&w);
		jw_key(&w, "resolvedDependencies");
		jw_arr_begin(&w);
		for (int i = 0; i < REPORT_PCRS; i++) {
			char name[8];
			snprintf(name, sizeof name, "pcr%d", i);
			jw_obj_begin(&w);
			digest_obj(&w, "sha384", s->pcr[i], CR_PCR_LEN);
			jw_kstr(&w, "name", name);
			jw_obj_end(&w);
		}
		if (v1) {
			tree_dep(&w, "source", REPORT_SOURCE_URI, s->src_tree_sha1, s->src_tree_sha256);
			if (s->deps_files)
				tree_dep(&w, "deps", REPORT_DEPS_URI, NULL, s->deps_tree_sha256);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
	}
	{
		jw_key(&w, "runDetails");
		jw_obj_begin(&w);
		jw_key(&w, "builder");
		jw_obj_begin(&w);
		jw_kstr(&w, "id", v1 ? REPORT_BUILDER_ID : REPORT_BUILDER_ID_URN);
		jw_key(&w, "version");
		jw_obj_begin(&w);
		jw_kstr(&w, "cleanroom-init", s->init_version ? s->init_version : "");
		jw_obj_end(&w);
		jw_obj_end(&w);
		jw_key(&w, "byproducts");
		jw_arr_begin(&w);
		jw_obj_begin(&w);
		jw_key(&w, "annotations");
		jw_obj_begin(&w);
		jw_ku64(&w, "bytes", s->log_bytes);
		if (s->log_dropped) {
			jw_ku64(&w, "droppedBytes", s->log_dropped);
			jw_kbool(&w, "truncated", 1);
		}
		jw_obj_end(&w);
		digest_obj(&w, "sha256", s->log_sha256, CR_SHA256_LEN);
		jw_kstr(&w, "name", "build.log");
		jw_obj_end(&w);
		jw_arr_end(&w);
		jw_key(&w, "metadata");
		jw_obj_begin(&w);
		time_ms_format(s->finished_ms, t);
		jw_kstr(&w, "finishedOn", t);
		jw_khex(&w, "invocationId", s->nonce, s->nonce_len);
		time_ms_format(s->started_ms, t);
		jw_kstr(&w, "startedOn", t);
		jw_obj_end(&w);
		jw_obj_end(&w);
	}
	jw_obj_end(&w);
	jw_kstr(&w, "predicateType", REPORT_PREDICATE_TYPE);
	jw_key(&w, "subject");
	jw_arr_begin(&w);
	for (size_t i = 0; i < s->nsubjects; i++) {
		jw_obj_begin(&w);
		jw_key(&w, "digest");
		jw_obj_begin(&w);
		jw_khex(&w, "sha256", s->subjects[i].sha256, CR_SHA256_LEN);
		jw_khex(&w, "sha384", s->subjects[i].sha384, CR_SHA384_LEN);
		jw_obj_end(&w);
		jw_kstr(&w, "name", s->subjects[i].name);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	if (jw_finish(&w, e))
		return cr_err_wrap(e, "statement");
	return 0;
}

/* --- parsing: every member is looked up by a dotted path for the errors */

static const struct json_val *member(const struct json_val *obj, const char *path, const char *key, enum json_type type,
				     struct cr_err *e)
{
	const struct json_val *v = json_get(obj, key);
	if (!v || v->type != type) {
		cr_fail(e, "statement: %s%s%s: %s", path, *path ? "." : "", key, v ? "wrong type" : "missing");
		return NULL;
	}
	return v;
}

static int member_u64(const struct json_val *obj, const char *path, const char *key, uint64_t *out, struct cr_err *e)
{
	const struct json_val *v = member(obj, path, key, JSON_NUMBER, e);
	if (!v)
		return -1;
	if (!v->is_int || v->i < 0)
		return cr_fail(e, "statement: %s.%s: not a non-negative integer", path, key);
	*out = (uint64_t)v->i;
	return 0;
}

static int member_hex(const struct json_val *obj, const char *path, const char *key, uint8_t *out, size_t n,
		      struct cr_err *e)
{
	const struct json_val *v = member(obj, path, key, JSON_STRING, e);
	if (!v)
		return -1;
	if (v->len != 2 * n || cr_unhex(v->str, out, n))
		return cr_fail(e, "statement: %s.%s: not %zu bytes of hex", path, key, n);
	return 0;
}

static int member_str(const struct json_val *obj, const char *path, const char *key, const char *want, const char **out,
		      struct cr_err *e)
{
	const struct json_val *v = member(obj, path, key, JSON_STRING, e);
	if (!v)
		return -1;
	if (want && strcmp(v->str, want))
		return cr_fail(e, "statement: %s%s%s: \"%s\", expected \"%s\"", path, *path ? "." : "", key, v->str,
			       want);
	if (out)
		*out = v->str;
	return 0;
}

static int member_time(const struct json_val *obj, const char *path, const char *key, int64_t *ms, struct cr_err *e)
{
	const char *s;
	if (member_str(obj, path, key, NULL, &s, e))
		return -1;
	if (time_ms_parse(s, ms))
		return cr_fail(e, "statement: %s.%s: not a time of the form YYYY-MM-DDTHH:MM:SS.mmmZ", path, key);
	return 0;
}

static int parse_subjects(const struct json_val *arr, struct report_statement *s, struct cr_err *e)
{
	if (arr->n == 0 || arr->n > WIRE_MAX_OUTPUTS)
		return cr_fail(e, "statement: subject: %zu entries (1 to %d allowed)", arr->n, WIRE_MAX_OUTPUTS);
	for (size_t i = 0; i < arr->n; i++) {
		const struct json_val *sub = arr->kids[i], *d;
		char path[32];
		snprintf(path, sizeof path, "subject[%zu]", i);
		if (sub->type != JSON_OBJECT)
			return cr_fail(e, "statement: %s: not an object", path);
		if (member_str(sub, path, "name", NULL, &s->subjects[i].name, e) ||
		    !(d = member(sub, path, "digest", JSON_OBJECT, e)))
			return -1;
		strcat(path, ".digest");
		if (member_hex(d, path, "sha256", s->subjects[i].sha256, CR_SHA256_LEN, e) ||
		    member_hex(d, path, "sha384", s->subjects[i].sha384, CR_SHA384_LEN, e))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->subjects[j].name, s->subjects[i].name))
				return cr_fail(e, "statement: subject: \"%s\" appears twice", s->subjects[i].name);
	}
	s->nsubjects = arr->n;
	return 0;
}

/* resolvedDependencies[i] of a tree: name and uri exactly, and digests equal
 * to the ids externalParameters gives (sha1 NULL: deps, gitTreeSha256 only) */
static int parse_tree_dep(const struct json_val *dep, int i, const char *name, const char *uri, const uint8_t *sha1,
			  const uint8_t *sha256, struct cr_err *e)
{
	const struct json_val *d;
	uint8_t h1[CR_SHA1_LEN], h256[CR_SHA256_LEN];
	char path[48];
	snprintf(path, sizeof path, "resolvedDependencies[%d]", i);
	if (dep->type != JSON_OBJECT)
		return cr_fail(e, "statement: %s: not an object", path);
	if (member_str(dep, path, "name", name, NULL, e) || member_str(dep, path, "uri", uri, NULL, e) ||
	    !(d = member(dep, path, "digest", JSON_OBJECT, e)))
		return -1;
	strcat(path, ".digest");
	if (sha1) {
		if (member_hex(d, path, "gitTree", h1, CR_SHA1_LEN, e))
			return -1;
		if (memcmp(h1, sha1, CR_SHA1_LEN))
			return cr_fail(e, "statement: %s.gitTree: differs from externalParameters.%s.gitTree", path,
				       name);
	}
	if (member_hex(d, path, "gitTreeSha256", h256, CR_SHA256_LEN, e))
		return -1;
	if (memcmp(h256, sha256, CR_SHA256_LEN))
		return cr_fail(e, "statement: %s.gitTreeSha256: differs from externalParameters.%s.gitTreeSha256", path,
			       name);
	return 0;
}

static int parse_build_definition(const struct json_val *bd, struct report_statement *s, struct cr_err *e)
{
	static const char *P = "predicate.buildDefinition";
	const struct json_val *ext, *cmd, *src, *deps, *in, *lim, *rd;
	const char *bt;
	if (member_str(bd, P, "buildType", NULL, &bt, e))
		return -1;
	if (!strcmp(bt, REPORT_BUILD_TYPE))
		s->build_type = REPORT_BT_V1;
	else if (!strcmp(bt, REPORT_BUILD_TYPE_URN))
		s->build_type = REPORT_BT_URN_V1;
	else
		return cr_fail(e,
			       "statement: %s.buildType: \"%s\" is not a known build type (expected \"%s\", or \"%s\" "
			       "in older reports)",
			       P, bt, REPORT_BUILD_TYPE, REPORT_BUILD_TYPE_URN);
	if (!(ext = member(bd, P, "externalParameters", JSON_OBJECT, e)) ||
	    !(cmd = member(ext, "externalParameters", "command", JSON_ARRAY, e)))
		return -1;
	if (cmd->n == 0 || cmd->n > WIRE_MAX_ARGS)
		return cr_fail(e, "statement: externalParameters.command: %zu arguments (1 to %d allowed)", cmd->n,
			       WIRE_MAX_ARGS);
	for (size_t i = 0; i < cmd->n; i++) {
		if (cmd->kids[i]->type != JSON_STRING)
			return cr_fail(e, "statement: externalParameters.command[%zu]: not a string", i);
		s->argv[i] = cmd->kids[i]->str;
	}
	s->argc = cmd->n;
	if (!(deps = member(ext, "externalParameters", "deps", JSON_OBJECT, e)) ||
	    member_u64(deps, "externalParameters.deps", "files", &s->deps_files, e) ||
	    member_hex(deps, "externalParameters.deps", "gitTreeSha256", s->deps_tree_sha256, CR_SHA256_LEN, e) ||
	    !(src = member(ext, "externalParameters", "source", JSON_OBJECT, e)) ||
	    member_u64(src, "externalParameters.source", "files", &s->src_files, e) ||
	    member_hex(src, "externalParameters.source", "gitTree", s->src_tree_sha1, CR_SHA1_LEN, e) ||
	    member_hex(src, "externalParameters.source", "gitTreeSha256", s->src_tree_sha256, CR_SHA256_LEN, e) ||
	    member_u64(ext, "externalParameters", "sourceDateEpoch", &s->sde, e))
		return -1;
	if (!(in = member(bd, P, "internalParameters", JSON_OBJECT, e)) ||
	    !(lim = member(in, "internalParameters", "limits", JSON_OBJECT, e)) ||
	    member_u64(lim, "internalParameters.limits", "files", &s->limits.files, e) ||
	    (json_get(lim, "logBytes") &&
	     member_u64(lim, "internalParameters.limits", "logBytes", &s->limits.log_bytes, e)) ||
	    member_u64(lim, "internalParameters.limits", "memoryMiB", &s->limits.memory_mb, e) ||
	    member_u64(lim, "internalParameters.limits", "outputMiB", &s->limits.output_mb, e) ||
	    member_u64(lim, "internalParameters.limits", "pids", &s->limits.pids, e) ||
	    member_u64(lim, "internalParameters.limits", "sourceMiB", &s->limits.source_mb, e) ||
	    member_u64(lim, "internalParameters.limits", "timeoutSeconds", &s->limits.timeout_s, e))
		return -1;
	if (!(rd = member(bd, P, "resolvedDependencies", JSON_ARRAY, e)))
		return -1;
	if (s->build_type == REPORT_BT_URN_V1 && rd->n != REPORT_PCRS)
		return cr_fail(e, "statement: resolvedDependencies: %zu entries, expected pcr0, pcr1, pcr2", rd->n);
	if (s->build_type == REPORT_BT_V1 && rd->n != REPORT_PCRS + 1 + (s->deps_files != 0))
		return cr_fail(e, "statement: resolvedDependencies: %zu entries, expected pcr0, pcr1, pcr2, source%s",
			       rd->n, s->deps_files ? ", deps (deps.files is not 0)" : " (no deps: deps.files is 0)");
	for (int i = 0; i < REPORT_PCRS; i++) {
		const struct json_val *dep = rd->kids[i], *d;
		char name[8], path[40];
		snprintf(name, sizeof name, "pcr%d", i);
		snprintf(path, sizeof path, "resolvedDependencies[%d]", i);
		if (dep->type != JSON_OBJECT)
			return cr_fail(e, "statement: %s: not an object", path);
		if (member_str(dep, path, "name", name, NULL, e) || !(d = member(dep, path, "digest", JSON_OBJECT, e)))
			return -1;
		strcat(path, ".digest");
		if (member_hex(d, path, "sha384", s->pcr[i], CR_PCR_LEN, e))
			return -1;
	}
	if (s->build_type == REPORT_BT_V1 &&
	    (parse_tree_dep(rd->kids[REPORT_PCRS], REPORT_PCRS, "source", REPORT_SOURCE_URI, s->src_tree_sha1,
			    s->src_tree_sha256, e) ||
	     (s->deps_files && parse_tree_dep(rd->kids[REPORT_PCRS + 1], REPORT_PCRS + 1, "deps", REPORT_DEPS_URI, NULL,
					      s->deps_tree_sha256, e))))
		return -1;
	return 0;
}

/* A log cut at its limit says so: "truncated": true with "droppedBytes" >= 1.
 * Reports of a whole log (and older ones) have neither. */
static int parse_log_truncation(const struct json_val *ann, struct report_statement *s, struct cr_err *e)
{
	static const char *P = "byproducts[0].annotations";
	const struct json_val *t = json_get(ann, "truncated"), *d = json_get(ann, "droppedBytes");
	s->log_dropped = 0;
	if (!t && !d)
		return 0;
	if (!t || t->type != JSON_TRUE)
		return cr_fail(e, "statement: %s.truncated: %s", P, t ? "not true" : "missing beside droppedBytes");
	if (!d)
		return cr_fail(e, "statement: %s.droppedBytes: missing beside truncated", P);
	if (member_u64(ann, P, "droppedBytes", &s->log_dropped, e))
		return -1;
	if (!s->log_dropped)
		return cr_fail(e, "statement: %s.droppedBytes: 0 with truncated true", P);
	return 0;
}

static int parse_run_details(const struct json_val *rd, struct report_statement *s, struct cr_err *e)
{
	static const char *P = "predicate.runDetails";
	const struct json_val *b, *ver, *bp, *log, *ann, *d, *md, *inv;
	if (!(b = member(rd, P, "builder", JSON_OBJECT, e)) ||
	    member_str(b, "builder", "id", s->build_type == REPORT_BT_V1 ? REPORT_BUILDER_ID : REPORT_BUILDER_ID_URN,
		       NULL, e) ||
	    !(ver = member(b, "builder", "version", JSON_OBJECT, e)) ||
	    member_str(ver, "builder.version", "cleanroom-init", NULL, &s->init_version, e))
		return -1;
	if (!(bp = member(rd, P, "byproducts", JSON_ARRAY, e)))
		return -1;
	if (bp->n != 1 || (log = bp->kids[0])->type != JSON_OBJECT)
		return cr_fail(e, "statement: byproducts: expected one object, the build log");
	if (member_str(log, "byproducts[0]", "name", "build.log", NULL, e) ||
	    !(ann = member(log, "byproducts[0]", "annotations", JSON_OBJECT, e)) ||
	    member_u64(ann, "byproducts[0].annotations", "bytes", &s->log_bytes, e) ||
	    parse_log_truncation(ann, s, e) || !(d = member(log, "byproducts[0]", "digest", JSON_OBJECT, e)) ||
	    member_hex(d, "byproducts[0].digest", "sha256", s->log_sha256, CR_SHA256_LEN, e))
		return -1;
	if (!(md = member(rd, P, "metadata", JSON_OBJECT, e)) ||
	    member_time(md, "metadata", "startedOn", &s->started_ms, e) ||
	    member_time(md, "metadata", "finishedOn", &s->finished_ms, e) ||
	    !(inv = member(md, "metadata", "invocationId", JSON_STRING, e)))
		return -1;
	if (cr_unhex_var(inv->str, s->nonce, sizeof s->nonce, &s->nonce_len) || s->nonce_len * 2 != inv->len)
		return cr_fail(e, "statement: metadata.invocationId: not hex of at most %d bytes", WIRE_MAX_NONCE);
	return 0;
}

int report_statement_parse(const uint8_t *json, size_t len, struct report_parsed *out, struct cr_err *e)
{
	static const struct json_limits lim = { REPORT_MAX_STATEMENT, 16, 4096 };
	const struct json_val *root, *pred, *bd, *rd, *subj;
	memset(out, 0, sizeof *out);
	if (json_parse((const char *)json, len, &lim, &out->doc, e))
		return cr_err_wrap(e, "statement");
	root = out->doc.root;
	if (root->type != JSON_OBJECT)
		return cr_fail(e, "statement: not a JSON object");
	if (member_str(root, "", "_type", REPORT_STATEMENT_TYPE, NULL, e) ||
	    member_str(root, "", "predicateType", REPORT_PREDICATE_TYPE, NULL, e) ||
	    !(subj = member(root, "", "subject", JSON_ARRAY, e)) || parse_subjects(subj, &out->st, e) ||
	    !(pred = member(root, "", "predicate", JSON_OBJECT, e)) ||
	    !(bd = member(pred, "predicate", "buildDefinition", JSON_OBJECT, e)) ||
	    parse_build_definition(bd, &out->st, e) ||
	    !(rd = member(pred, "predicate", "runDetails", JSON_OBJECT, e)) || parse_run_details(rd, &out->st, e))
		return -1;
	return 0;
}

void report_statement_free(struct report_parsed *p)
{
	json_free(&p->doc);
	memset(&p->st, 0, sizeof p->st);
}

/* ------------------------------------------------------------ DSSE */

/* The hash that goes with a signing curve: P-256 with SHA-256 (what the
 * enclave signs with now), P-384 with SHA-384 (older reports). NULL for
 * any other curve. */
static const br_hash_class *dsse_hash(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1: return &br_sha256_vtable;
	case BR_EC_secp384r1: return &br_sha384_vtable;
	default: return NULL;
	}
}

const char *report_dsse_alg(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1: return "ECDSA P-256/SHA-256";
	case BR_EC_secp384r1: return "ECDSA P-384/SHA-384";
	default: return "none (not P-256 or P-384)";
	}
}

/* hash(PAE(payloadType, payload)), streamed: the payload is not copied.
 * Returns the digest length. */
static size_t pae_hash(const br_hash_class *hc, const uint8_t *payload, size_t len, uint8_t out[CR_SHA384_LEN])
{
	br_hash_compat_context h;
	char head[96];
	int n = snprintf(head, sizeof head, "DSSEv1 %zu %s %zu ", strlen(REPORT_PAYLOAD_TYPE), REPORT_PAYLOAD_TYPE,
			 len);
	hc->init(&h.vtable);
	hc->update(&h.vtable, head, (size_t)n);
	hc->update(&h.vtable, payload, len);
	hc->out(&h.vtable, out);
	return (hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

int report_dsse_sign(const struct ec_key *key, const uint8_t *payload, size_t len, uint8_t sig[REPORT_SIG_MAX],
		     size_t *sig_len, struct cr_err *e)
{
	uint8_t hash[CR_SHA384_LEN];
	br_ec_private_key sk = ec_key_br(key);
	const br_hash_class *hc = dsse_hash(key->pub.curve);
	if (!hc)
		return cr_fail(e, "DSSE: the signing key must be P-256 or P-384, not %s",
			       ec_curve_name(key->pub.curve));
	pae_hash(hc, payload, len, hash);
	*sig_len = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), hc, hash, &sk, sig);
	if (!*sig_len)
		return cr_fail(e, "DSSE: signing failed");
	return 0;
}

int report_dsse_verify(const struct ec_pub *pub, const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
		       struct cr_err *e)
{
	uint8_t hash[CR_SHA384_LEN];
	br_ec_public_key pk = ec_pub_br(pub);
	const br_hash_class *hc = dsse_hash(pub->curve);
	size_t n;
	if (!hc)
		return cr_fail(e, "the key is %s, not P-256 or P-384", ec_curve_name(pub->curve));
	n = pae_hash(hc, payload, len, hash);
	if (!br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), hash, n, &pk, sig, sig_len))
		return cr_fail(e, "the %s signature over the statement does not verify", report_dsse_alg(pub->curve));
	return 0;
}

/* ------------------------------------------------------------ SPKI */

/* SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING (0 unused) }:
 * the fixed DER prefix of every SubjectPublicKeyInfo of a curve; the
 * uncompressed point follows. */
static const uint8_t spki_p256_prefix[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
					    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
					    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00 };
static const uint8_t spki_p384_prefix[] = { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
					    0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00 };

static const struct spki_shape {
	int curve;
	const uint8_t *prefix;
	size_t prefix_len, point_len;
} spki_shapes[] = {
	{ BR_EC_secp256r1, spki_p256_prefix, sizeof spki_p256_prefix, 65 },
	{ BR_EC_secp384r1, spki_p384_prefix, sizeof spki_p384_prefix, 97 },
};

int report_spki_encode(const struct ec_pub *pub, uint8_t out[REPORT_SPKI_MAX], size_t *out_len, struct cr_err *e)
{
	for (size_t i = 0; i < sizeof spki_shapes / sizeof *spki_shapes; i++) {
		const struct spki_shape *s = &spki_shapes[i];
		if (pub->curve != s->curve)
			continue;
		if (pub->q_len != s->point_len || pub->q[0] != 0x04)
			break;
		memcpy(out, s->prefix, s->prefix_len);
		memcpy(out + s->prefix_len, pub->q, s->point_len);
		*out_len = s->prefix_len + s->point_len;
		return 0;
	}
	return cr_fail(e, "SubjectPublicKeyInfo: only uncompressed P-256 and P-384 keys are encoded");
}

int report_spki_decode(const uint8_t *der, size_t len, struct ec_pub *pub, struct cr_err *e)
{
	for (size_t i = 0; i < sizeof spki_shapes / sizeof *spki_shapes; i++) {
		const struct spki_shape *s = &spki_shapes[i];
		if (len == s->prefix_len + s->point_len && !memcmp(der, s->prefix, s->prefix_len))
			return ec_pub_set(pub, s->curve, der + s->prefix_len, s->point_len, e);
	}
	return cr_fail(e, "public_key: not a DER SubjectPublicKeyInfo of an uncompressed P-256 or P-384 key");
}

void report_key_id(const uint8_t *spki, size_t len, char out[REPORT_KEY_ID_LEN + 1])
{
	cr_sha256_hex(spki, len, out);
}
