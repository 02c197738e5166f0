/* The report: statement JSON, DSSE, SPKI and the bundle (report.h). */
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

/* SHA-384 of PAE(payloadType, payload), streamed: the payload is not copied. */
static void pae_hash(const uint8_t *payload, size_t len, uint8_t out[CR_SHA384_LEN])
{
	br_sha384_context h;
	char head[96];
	int n = snprintf(head, sizeof head, "DSSEv1 %zu %s %zu ", strlen(REPORT_PAYLOAD_TYPE), REPORT_PAYLOAD_TYPE,
			 len);
	br_sha384_init(&h);
	br_sha384_update(&h, head, (size_t)n);
	br_sha384_update(&h, payload, len);
	br_sha384_out(&h, out);
}

int report_dsse_sign(const struct ec_key *key, const uint8_t *payload, size_t len, uint8_t sig[REPORT_SIG_MAX],
		     size_t *sig_len, struct cr_err *e)
{
	uint8_t hash[CR_SHA384_LEN];
	br_ec_private_key sk = ec_key_br(key);
	if (key->pub.curve != BR_EC_secp384r1)
		return cr_fail(e, "DSSE: the signing key must be P-384, not %s", ec_curve_name(key->pub.curve));
	pae_hash(payload, len, hash);
	*sig_len = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha384_vtable, hash, &sk, sig);
	if (!*sig_len)
		return cr_fail(e, "DSSE: signing failed");
	return 0;
}

int report_dsse_verify(const struct ec_pub *pub, const uint8_t *payload, size_t len, const uint8_t *sig, size_t sig_len,
		       struct cr_err *e)
{
	uint8_t hash[CR_SHA384_LEN];
	br_ec_public_key pk = ec_pub_br(pub);
	if (pub->curve != BR_EC_secp384r1)
		return cr_fail(e, "the key is %s, not P-384", ec_curve_name(pub->curve));
	pae_hash(payload, len, hash);
	if (!br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), hash, sizeof hash, &pk, sig, sig_len))
		return cr_fail(e, "the ECDSA P-384 signature over the statement does not verify");
	return 0;
}

/* ------------------------------------------------------------ SPKI */

/* SEQUENCE { SEQUENCE { id-ecPublicKey, secp384r1 }, BIT STRING (0 unused) }:
 * the fixed DER prefix of every P-384 SubjectPublicKeyInfo; the 97-byte
 * uncompressed point follows. */
static const uint8_t spki_p384_prefix[] = { 0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
					    0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00 };
#define P384_POINT 97

int report_spki_encode(const struct ec_pub *pub, uint8_t out[REPORT_SPKI_P384_LEN], struct cr_err *e)
{
	if (pub->curve != BR_EC_secp384r1 || pub->q_len != P384_POINT || pub->q[0] != 0x04)
		return cr_fail(e, "SubjectPublicKeyInfo: only uncompressed P-384 keys are encoded");
	memcpy(out, spki_p384_prefix, sizeof spki_p384_prefix);
	memcpy(out + sizeof spki_p384_prefix, pub->q, P384_POINT);
	return 0;
}

int report_spki_decode(const uint8_t *der, size_t len, struct ec_pub *pub, struct cr_err *e)
{
	if (len != REPORT_SPKI_P384_LEN || memcmp(der, spki_p384_prefix, sizeof spki_p384_prefix))
		return cr_fail(e, "public_key: not a DER SubjectPublicKeyInfo of an uncompressed P-384 key");
	return ec_pub_set(pub, BR_EC_secp384r1, der + sizeof spki_p384_prefix, P384_POINT, e);
}

/* ------------------------------------------------------------ bundle */

static void jw_kb64(struct json_w *w, const char *key, const uint8_t *p, size_t n, struct cr_buf *tmp)
{
	struct cr_err e;
	tmp->len = 0;
	if (base64_encode(p, n, tmp, &e)) {
		w->failed = 1;
		w->err = e;
		return;
	}
	jw_key(w, key);
	jw_strn(w, (const char *)tmp->p, tmp->len);
}

int report_bundle_encode(const uint8_t *statement, size_t statement_len, const uint8_t *sig, size_t sig_len,
			 const uint8_t *doc, size_t doc_len, struct cr_buf *out, struct cr_err *e)
{
	struct json_w w;
	struct cr_buf tmp;
	int rc;
	cr_buf_init(&tmp, REPORT_MAX_BUNDLE);
	out->len = 0;
	jw_init(&w, out, 1);
	jw_obj_begin(&w);
	jw_kb64(&w, "attestation", doc, doc_len, &tmp);
	jw_key(&w, "dsseEnvelope");
	jw_obj_begin(&w);
	jw_kb64(&w, "payload", statement, statement_len, &tmp);
	jw_kstr(&w, "payloadType", REPORT_PAYLOAD_TYPE);
	jw_key(&w, "signatures");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "keyid", "");
	jw_kb64(&w, "sig", sig, sig_len, &tmp);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_kstr(&w, "mediaType", REPORT_BUNDLE_MEDIA_TYPE);
	jw_obj_end(&w);
	rc = jw_finish(&w, e);
	cr_buf_free(&tmp);
	if (rc)
		return cr_err_wrap(e, "bundle");
	/* a text file ends with a newline */
	if (cr_buf_putc(out, '\n', e) || cr_buf_cstr(out, e))
		return -1;
	return 0;
}

static int b64_member(const struct json_val *obj, const char *path, const char *key, struct cr_buf *out, size_t max,
		      struct cr_err *e)
{
	const struct json_val *v = json_get(obj, key);
	char what[64];
	snprintf(what, sizeof what, "bundle: %s%s", path, key);
	if (!v || v->type != JSON_STRING)
		return cr_fail(e, "%s: %s", what, v ? "not a string" : "missing");
	cr_buf_init(out, max);
	return base64_decode(v->str, v->len, out, what, e);
}

/* signatures[i]: an object with "sig" (base64) and an optional "keyid"
 * (a string); other members are left alone, as DSSE readers do. */
static int parse_sig(const struct json_val *sig, size_t i, struct report_sig *out, struct cr_err *e)
{
	const struct json_val *k;
	char path[64];
	snprintf(path, sizeof path, "dsseEnvelope.signatures[%zu].", i);
	if (sig->type != JSON_OBJECT)
		return cr_fail(e, "bundle: dsseEnvelope.signatures[%zu]: not an object", i);
	if ((k = json_get(sig, "keyid"))) {
		if (k->type != JSON_STRING)
			return cr_fail(e, "bundle: %skeyid: not a string", path);
		if (k->len > REPORT_KEYID_MAX || memchr(k->str, 0, k->len))
			return cr_fail(e, "bundle: %skeyid: longer than %d bytes or contains a NUL", path,
				       REPORT_KEYID_MAX);
		memcpy(out->keyid, k->str, k->len);
		out->keyid[k->len] = 0;
	}
	return b64_member(sig, path, "sig", &out->sig, REPORT_ENV_SIG_MAX, e);
}

int report_bundle_parse(const uint8_t *buf, size_t len, struct report_bundle *out, struct cr_err *e)
{
	/* nodes: room to count more signatures than are accepted, so that a
	 * long list is refused with its count */
	static const struct json_limits lim = { REPORT_MAX_BUNDLE, 8, 512 };
	struct json_doc doc;
	const struct json_val *root, *env, *sigs;
	const char *s;
	int rc = -1;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < REPORT_MAX_SIGS; i++)
		cr_buf_init(&out->sigs[i].sig, REPORT_ENV_SIG_MAX);
	if (json_parse((const char *)buf, len, &lim, &doc, e))
		return cr_err_wrap(e, "bundle");
	root = doc.root;
	if (root->type != JSON_OBJECT) {
		cr_fail(e, "bundle: not a JSON object");
		goto done;
	}
	if (!(s = json_get_str(root, "mediaType")) || strcmp(s, REPORT_BUNDLE_MEDIA_TYPE)) {
		cr_fail(e, "bundle: mediaType: %s%s%s, expected \"%s\"", s ? "\"" : "", s ? s : "missing",
			s ? "\"" : "", REPORT_BUNDLE_MEDIA_TYPE);
		goto done;
	}
	if (!(env = json_get(root, "dsseEnvelope")) || env->type != JSON_OBJECT) {
		cr_fail(e, "bundle: dsseEnvelope: missing or not an object");
		goto done;
	}
	if (!(s = json_get_str(env, "payloadType")) || strcmp(s, REPORT_PAYLOAD_TYPE)) {
		cr_fail(e, "bundle: dsseEnvelope.payloadType: %s%s%s, expected \"%s\"", s ? "\"" : "",
			s ? s : "missing", s ? "\"" : "", REPORT_PAYLOAD_TYPE);
		goto done;
	}
	if (!(sigs = json_get(env, "signatures")) || sigs->type != JSON_ARRAY) {
		cr_fail(e, "bundle: dsseEnvelope.signatures: %s, expected an array of signature objects",
			sigs ? "not an array" : "missing");
		goto done;
	}
	if (sigs->n == 0 || sigs->n > REPORT_MAX_SIGS) {
		cr_fail(e, "bundle: dsseEnvelope.signatures: %zu signatures; 1 to %d are accepted", sigs->n,
			REPORT_MAX_SIGS);
		goto done;
	}
	for (size_t i = 0; i < sigs->n; i++)
		if (parse_sig(sigs->kids[i], i, &out->sigs[i], e))
			goto done;
	out->nsigs = sigs->n;
	if (b64_member(env, "dsseEnvelope.", "payload", &out->statement, REPORT_MAX_STATEMENT, e) ||
	    b64_member(root, "", "attestation", &out->attestation, ATT_DOC_MAX, e))
		goto done;
	rc = 0;
done:
	json_free(&doc);
	if (rc)
		report_bundle_free(out);
	return rc;
}

void report_bundle_free(struct report_bundle *b)
{
	cr_buf_free(&b->statement);
	for (size_t i = 0; i < REPORT_MAX_SIGS; i++)
		cr_buf_free(&b->sigs[i].sig);
	b->nsigs = 0;
	cr_buf_free(&b->attestation);
}
