/* cleanroom describe: what is inside an EIF (ours or nitro-cli's). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/digest.h"
#include "host-tool/commands.h"
#include "host-tool/eif/eif.h"
#include "host-tool/eif/eif_sign.h"
#include "base/json.h"
#include "host-tool/eif/measurements.h"
#include "base/term.h"
#include "nsm/x509_cert.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: cleanroom describe FILE.eif [--json]\n"
		     "\n"
		     "Validate an enclave image file and show what is inside: version, architecture,\n"
		     "measurements (PCR0/1/2, and PCR8 when signed), whether the CRC and the signature\n"
		     "check, the image name/version and build metadata, the kernel command line and the\n"
		     "section list. Works on images from nitro-cli as well as from 'cleanroom eif'.\n"
		     "\n"
		     "Every byte is read: the CRC and the PCRs are computed, never copied from the file.\n"
		     "A malformed file — bad magic, bad CRC, truncated, sizes past the end, gaps between\n"
		     "sections, more than 32 sections, a second kernel, a signature that does not match\n"
		     "PCR0 — gets one line on stderr naming the problem and exit status 1.\n"
		     "\n"
		     "options:\n"
		     "  --json      nitro-cli's describe-eif JSON (EifVersion, Measurements, IsSigned,\n"
		     "              [SigningCertificate,] CheckCRC, [SignatureCheck,] ImageName,\n"
		     "              ImageVersion, Metadata) plus Arch, Cmdline and Sections\n"
		     "  -h, --help  this text\n"
		     "Exit status: 0 valid, 1 invalid or unreadable, 2 usage error.\n");
}

struct described {
	struct eif_image img;
	struct eif_scan scan;
	struct eif_sig_check sig;
	struct json_doc meta;
};

/* The metadata's limits: 1 MiB of JSON, 32 levels, 200,000 values. */
#define META_DEPTH 32
#define META_NODES 200000
/* The most --json can print: every metadata or command-line byte escaped
 * (at most 6 bytes: \u00NN), each value on its own line indented by its
 * depth (the metadata sits two levels down), and 1 MiB for the rest. */
#define DESCRIBE_JSON_MAX \
 (6u * EIF_METADATA_MAX + META_NODES * (2u * (META_DEPTH + 2) + 8u) + 6u * EIF_CMDLINE_MAX + (1u << 20))

/* Metadata fields in nitro-cli's flattened form: the five BuildMetadata
 * fields nitro-cli describes (never other members: a "DockerInfo" there
 * would shadow the real one), DockerInfo, then the custom keys. A custom
 * key that is one of those six names or starts with "Custom." is written
 * with "Custom." before it: a one-to-one mapping, so no two keys of the
 * output are equal and none is cut. */
static const char *const build_fields[] = { "BuildTime", "BuildTool", "BuildToolVersion", "OperatingSystem",
					    "KernelVersion" };

static int custom_key_clashes(const char *k)
{
	if (!strcmp(k, "DockerInfo") || !strncmp(k, "Custom.", 7))
		return 1;
	for (size_t i = 0; i < sizeof build_fields / sizeof *build_fields; i++)
		if (!strcmp(k, build_fields[i]))
			return 1;
	return 0;
}

static int jw_metadata(struct json_w *w, const struct json_val *m, struct cr_err *e)
{
	const struct json_val *bm = json_get(m, "BuildMetadata"), *custom = json_get(m, "CustomMetadata");
	jw_obj_begin(w);
	if (bm && bm->type == JSON_OBJECT)
		for (size_t i = 0; i < sizeof build_fields / sizeof *build_fields; i++) {
			const struct json_val *v = json_get(bm, build_fields[i]);
			if (v) {
				jw_key(w, build_fields[i]);
				jw_value(w, v);
			}
		}
	jw_key(w, "DockerInfo");
	if (json_get(m, "DockerInfo"))
		jw_value(w, json_get(m, "DockerInfo"));
	else
		jw_null(w);
	if (custom && custom->type == JSON_OBJECT)
		for (size_t i = 0; i < custom->n; i++) {
			if (custom_key_clashes(custom->keys[i])) {
				size_t n = strlen(custom->keys[i]);
				char *key = malloc(n + 8);
				if (!key)
					return cr_fail(e, "out of memory");
				memcpy(key, "Custom.", 7);
				memcpy(key + 7, custom->keys[i], n + 1);
				jw_key(w, key);
				free(key);
			} else {
				jw_key(w, custom->keys[i]);
			}
			jw_value(w, custom->kids[i]);
		}
	jw_obj_end(w);
	return 0;
}

/* SigningCertificate as nitro-cli's describe-eif gives it (its
 * SignCertificateInfo): IssuerName a map of the issuer's attributes by
 * OpenSSL long name, sorted, a repeated name's last value winning (a
 * BTreeMap); the dates as OpenSSL prints them; Signature the certificate's
 * signature bytes as "AB:CD:...". Subject is ours, an extra. */
struct issuer_attr {
	const char *name;
	const uint8_t *v;
	size_t n, order;
};

struct issuer_attrs {
	struct issuer_attr *a;
	size_t n, cap;
	int oom;
};

static void collect_attr(void *ctx, const char *long_name, const uint8_t *v, size_t n)
{
	struct issuer_attrs *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		struct issuer_attr *a = realloc(l->a, cap * sizeof *a);
		if (!a) {
			l->oom = 1;
			return;
		}
		l->a = a;
		l->cap = cap;
	}
	/* long_name may be a caller's buffer (a dotted OID): keep a copy */
	l->a[l->n] = (struct issuer_attr){ strdup(long_name), v, n, l->n };
	if (!l->a[l->n].name)
		l->oom = 1;
	else
		l->n++;
}

static int attr_cmp(const void *x, const void *y)
{
	const struct issuer_attr *a = x, *b = y;
	int c = strcmp(a->name, b->name);
	return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* "Dec  5 17:12:14 2026 GMT", as OpenSSL's ASN1_TIME_print. */
static void openssl_time(int64_t t, char out[40])
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, 40, "?");
		return;
	}
	snprintf(out, 40, "%s %2d %02d:%02d:%02d %lld GMT", mon[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, (long long)tm.tm_year + 1900);
}

static int jw_signing_certificate(struct json_w *w, const struct eif_sig_check *sig, struct cr_err *e)
{
	struct x509_cert cert;
	struct issuer_attrs l = { 0 };
	char t[40], *hex = NULL;
	int rc = -1;
	if (x509_cert_parse(sig->cert_der, sig->cert_der_len, &cert, e) ||
	    x509_name_attrs(&cert.issuer, collect_attr, &l, e))
		goto out;
	if (l.oom || !(hex = malloc(3 * cert.sig_value.len + 1))) {
		cr_fail(e, "out of memory");
		goto out;
	}
	qsort(l.a, l.n, sizeof *l.a, attr_cmp);
	jw_obj_begin(w);
	jw_kstr(w, "Subject", sig->subject);
	jw_key(w, "IssuerName");
	jw_obj_begin(w);
	for (size_t i = 0; i < l.n; i++)
		if (i + 1 == l.n || strcmp(l.a[i].name, l.a[i + 1].name)) {
			jw_key(w, l.a[i].name);
			jw_strn(w, (const char *)l.a[i].v, l.a[i].n);
		}
	jw_obj_end(w);
	jw_kstr(w, "Algorithm", sig->algorithm);
	openssl_time(cert.not_before, t);
	jw_kstr(w, "NotBefore", t);
	openssl_time(cert.not_after, t);
	jw_kstr(w, "NotAfter", t);
	hex[0] = 0;
	for (size_t i = 0, o = 0; i < cert.sig_value.len; i++)
		o += (size_t)snprintf(hex + o, 4, "%s%02X", i ? ":" : "", cert.sig_value.p[i]);
	jw_kstr(w, "Signature", hex);
	jw_obj_end(w);
	rc = 0;
out:
	for (size_t i = 0; i < l.n; i++)
		free((char *)l.a[i].name);
	free(l.a);
	free(hex);
	return rc ? cr_err_wrap(e, "signing certificate") : 0;
}

static int emit_json(const struct described *d, struct cr_buf *out, struct cr_err *e)
{
	const struct eif_image *img = &d->img;
	const struct json_val *m = d->meta.root;
	struct json_w w;
	jw_init(&w, out, 1);
	jw_obj_begin(&w);
	jw_ku64(&w, "EifVersion", img->version);
	jw_key(&w, "Measurements");
	jw_obj_begin(&w);
	jw_measurement_fields(&w, &d->scan.pcrs);
	jw_obj_end(&w);
	jw_kbool(&w, "IsSigned", img->signature >= 0);
	if (img->signature >= 0) {
		jw_key(&w, "SigningCertificate");
		if (jw_signing_certificate(&w, &d->sig, e))
			return -1;
	}
	jw_kbool(&w, "CheckCRC", d->scan.crc_ok);
	if (img->signature >= 0)
		jw_kbool(&w, "SignatureCheck", d->sig.sig_ok);
	if (m) {
		const char *name = json_get_str(m, "ImageName"), *ver = json_get_str(m, "ImageVersion");
		jw_key(&w, "ImageName");
		name ? jw_str(&w, name) : jw_null(&w);
		jw_key(&w, "ImageVersion");
		ver ? jw_str(&w, ver) : jw_null(&w);
		jw_key(&w, "Metadata");
		if (jw_metadata(&w, m, e))
			return -1;
	}
	jw_kstr(&w, "Arch", img->flags & EIF_FLAG_ARM64 ? "aarch64" : "x86_64");
	jw_key(&w, "Cmdline");
	jw_strn(&w, (const char *)img->cmdline_data, (size_t)img->sec[img->cmdline].size);
	jw_key(&w, "Sections");
	jw_arr_begin(&w);
	for (int i = 0; i < img->num_sections; i++) {
		jw_obj_begin(&w);
		jw_ku64(&w, "Index", (uint64_t)i);
		jw_kstr(&w, "Type", eif_section_name(img->sec[i].type));
		jw_ku64(&w, "Offset", img->sec[i].hdr_offset);
		jw_ku64(&w, "Size", img->sec[i].size);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	return jw_finish(&w, e);
}

/* A metadata string as one line, escaped (term.h); "?" when absent. */
static const char *or_q(const char *s)
{
	return cr_term_arg(s);
}

static void print_text(const struct described *d)
{
	const struct eif_image *img = &d->img;
	const struct json_val *m = d->meta.root, *bm = json_get(m, "BuildMetadata");
	char hex[2 * CR_PCR_LEN + 1];
	cr_tprintf(stdout, "EIF version %u, %s, %llu bytes, CRC 0x%08x ok\n", img->version,
		   img->flags & EIF_FLAG_ARM64 ? "aarch64" : "x86_64", (unsigned long long)img->file_size,
		   d->scan.crc_computed);
	if (m) {
		const char *name = json_get_str(m, "ImageName"), *ver = json_get_str(m, "ImageVersion");
		cr_tprintf(stdout, "image     %s %s\n", or_q(name), or_q(ver));
		if (bm)
			cr_tprintf(stdout, "built     %s by %s %s, kernel %s %s\n", or_q(json_get_str(bm, "BuildTime")),
				   or_q(json_get_str(bm, "BuildTool")), or_q(json_get_str(bm, "BuildToolVersion")),
				   or_q(json_get_str(bm, "OperatingSystem")), or_q(json_get_str(bm, "KernelVersion")));
	}
	cr_hex(d->scan.pcrs.pcr0, CR_PCR_LEN, hex);
	cr_tprintf(stdout, "PCR0      %s\n", hex);
	cr_hex(d->scan.pcrs.pcr1, CR_PCR_LEN, hex);
	cr_tprintf(stdout, "PCR1      %s\n", hex);
	cr_hex(d->scan.pcrs.pcr2, CR_PCR_LEN, hex);
	cr_tprintf(stdout, "PCR2      %s\n", hex);
	if (img->signature >= 0) {
		cr_hex(d->sig.pcr8, CR_PCR_LEN, hex);
		cr_tprintf(stdout, "PCR8      %s\n", hex);
		cr_tprintf(stdout,
			   "signed    yes, signature matches PCR0; certificate %s, issued by %s, valid %s to %s\n",
			   cr_term_arg(d->sig.subject), cr_term_arg(d->sig.issuer), cr_term_arg(d->sig.not_before),
			   cr_term_arg(d->sig.not_after));
	} else {
		cr_tprintf(stdout, "signed    no\n");
	}
	{
		char line[CR_TERM_ARG_MAX];
		cr_term_str((const char *)img->cmdline_data,
			    strnlen((const char *)img->cmdline_data, img->sec[img->cmdline].size), 0, line,
			    sizeof line);
		cr_tprintf(stdout, "cmdline   %s\n", line);
	}
	cr_tprintf(stdout, "sections  #  type       header offset  data bytes\n");
	for (int i = 0; i < img->num_sections; i++)
		cr_tprintf(stdout, "          %-2d %-10s %13llu  %10llu\n", i, eif_section_name(img->sec[i].type),
			   (unsigned long long)img->sec[i].hdr_offset, (unsigned long long)img->sec[i].size);
}

static int describe(const char *path, struct described *d, struct cr_err *e)
{
	struct eif_image *img = &d->img;
	if (eif_open(path, img, e))
		return -1;
	if (eif_scan(img, &d->scan, e))
		return -1;
	if (!d->scan.crc_ok)
		return cr_fail(e, "%s: crc: stored 0x%08x, computed 0x%08x (the file is corrupt)", path,
			       img->crc_stored, d->scan.crc_computed);
	if (img->metadata >= 0) {
		struct json_limits lim = { EIF_METADATA_MAX, META_DEPTH, META_NODES };
		if (json_parse((const char *)img->metadata_data, (size_t)img->sec[img->metadata].size, &lim, &d->meta,
			       e))
			return cr_err_wrap(e, "%s: metadata", path);
		if (d->meta.root->type != JSON_OBJECT)
			return cr_fail(e, "%s: metadata: not a JSON object", path);
	}
	if (eif_scan_signature(img, &d->scan, &d->sig, e))
		return cr_err_wrap(e, "%s", path);
	return 0;
}

int cmd_describe(int argc, char **argv)
{
	static const struct option longopts[] = { { "json", no_argument, NULL, 'j' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	struct described d;
	struct cr_err e;
	struct cr_buf out;
	int c, json = 0, rc = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 1) {
		cr_tprintf(stderr, "cleanroom describe: expected one EIF file (see --help)\n");
		return 2;
	}
	memset(&d, 0, sizeof d);
	d.img.fd = -1;
	cr_buf_init(&out, DESCRIBE_JSON_MAX);
	if (describe(argv[optind], &d, &e) == 0) {
		if (!json) {
			print_text(&d);
			rc = 0;
		} else if (emit_json(&d, &out, &e) == 0) {
			cr_tprintf(stdout, "%s\n", (char *)out.p);
			rc = 0;
		}
	}
	if (rc)
		cr_tprintf(stderr, "cleanroom describe: %s\n", e.msg);
	cr_buf_free(&out);
	json_free(&d.meta);
	eif_close(&d.img);
	return rc;
}
