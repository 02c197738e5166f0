#include "host-tool/eif/eif_meta.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host-tool/eif/eif.h"
#include "base/version.h"

void eif_rfc3339(uint64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

static void image_info(struct json_w *w, const struct eif_image_info *im)
{
	jw_obj_begin(w);
	jw_kstr(w, "Id", im->id);
	jw_key(w, "RepoTags");
	jw_arr_begin(w);
	if (im->ref[0])
		jw_str(w, im->ref);
	jw_arr_end(w);
	jw_key(w, "RepoDigests");
	jw_arr_begin(w);
	if (im->manifest_digest && im->ref[0]) {
		/* docker's form: the name without its tag, '@', the digest. */
		char rd[512];
		const char *colon = strrchr(im->ref, ':'), *slash = strrchr(im->ref, '/');
		size_t n = colon && (!slash || colon > slash) ? (size_t)(colon - im->ref) : strlen(im->ref);
		snprintf(rd, sizeof rd, "%.*s@%s", (int)n, im->ref, im->manifest_digest);
		jw_str(w, rd);
	}
	jw_arr_end(w);
	jw_kstr(w, "Architecture", im->arch);
	jw_kstr(w, "Os", im->os);
	jw_obj_end(w);
}

int eif_meta_build(const struct eif_meta_input *in, struct cr_buf *out, struct cr_err *e)
{
	struct json_w w;
	char when[32];
	eif_rfc3339(in->build_time, when);
	jw_init(&w, out, 0);
	jw_obj_begin(&w);
	jw_kstr(&w, "ImageName", in->image_name);
	jw_kstr(&w, "ImageVersion", in->image_version);
	jw_key(&w, "BuildMetadata");
	jw_obj_begin(&w);
	jw_kstr(&w, "BuildTime", when);
	jw_kstr(&w, "BuildTool", "cleanroom");
	jw_kstr(&w, "BuildToolVersion", CLEANROOM_VERSION);
	jw_kstr(&w, "OperatingSystem", "Linux");
	jw_kstr(&w, "KernelVersion", in->kernel_version);
	jw_obj_end(&w);
	jw_key(&w, "DockerInfo");
	if (in->image)
		image_info(&w, in->image);
	else
		jw_null(&w);
	jw_key(&w, "CustomMetadata");
	if (in->custom)
		jw_value(&w, in->custom);
	else
		jw_null(&w);
	jw_obj_end(&w);
	if (jw_finish(&w, e))
		return cr_err_wrap(e, "metadata");
	return 0;
}

/* The first word of s (at most max bytes), printable characters only, into
 * out when it fits; out is left alone otherwise. */
static void first_word(const char *s, size_t max, char *out, size_t n)
{
	size_t len = 0;
	while (len < max && s[len] > ' ' && s[len] < 0x7f)
		len++;
	if (len > 0 && len < n) {
		memcpy(out, s, len);
		out[len] = 0;
	}
}

/* arm64 Image (magic "ARM\x64" at 0x38, uncompressed): the release follows
 * the "Linux version " banner linux_banner puts in its read-only data. Read
 * in chunks that overlap by the banner's length plus a release's. */
static void arm64_image_version(int fd, char *out, size_t n)
{
	static const char tag[] = "Linux version ";
	enum { CHUNK = 1 << 16, KEEP = sizeof tag + 64 };
	char *buf = malloc(CHUNK + KEEP + 1);
	size_t have = 0;
	off_t pos = 0;
	ssize_t r;
	if (!buf)
		return;
	while ((r = pread(fd, buf + have, CHUNK, pos)) > 0) {
		char *hit;
		have += (size_t)r;
		pos += r;
		buf[have] = 0;
		hit = memmem(buf, have, tag, sizeof tag - 1);
		if (hit && (size_t)(hit - buf) + KEEP <= have) {
			first_word(hit + sizeof tag - 1, KEEP - sizeof tag, out, n);
			break;
		}
		if (have > KEEP) { /* keep the tail: a banner may straddle chunks */
			memmove(buf, buf + have - KEEP, KEEP);
			have = KEEP;
		}
	}
	free(buf);
}

void eif_kernel_version(const char *path, char *out, size_t n)
{
	/* x86 boot protocol: "HdrS" at 0x202; the 16-bit field at 0x20E points
	 * (plus 0x200) to a NUL-terminated "release (builder) #n ..." string. */
	uint8_t hdr[0x210];
	char ver[256];
	int fd = cr_open_input(NULL, path, EIF_KERNEL_MAX, 0, NULL, NULL);
	snprintf(out, n, "unknown");
	if (fd < 0)
		return;
	if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) {
		/* too short for either header */
	} else if (!memcmp(hdr + 0x202, "HdrS", 4)) {
		unsigned off = (unsigned)(hdr[0x20E] | hdr[0x20F] << 8) + 0x200u;
		ssize_t r = pread(fd, ver, sizeof ver - 1, off);
		if (r > 0) {
			ver[r] = 0;
			first_word(ver, (size_t)r, out, n);
		}
	} else if (!memcmp(hdr + 0x38, "ARM\x64", 4)) {
		arm64_image_version(fd, out, n);
	}
	close(fd);
}

int eif_source_date_epoch(uint64_t *out, struct cr_err *e)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	*out = 0;
	if (!s)
		return 0;
	if (cr_parse_u64(s, UINT32_MAX, out))
		return cr_fail(e, "SOURCE_DATE_EPOCH='%s': must be a decimal number of seconds from 0 to %u", s,
			       UINT32_MAX);
	return 0;
}
