/* Fuzz target: the build wire protocol's message decoder (vsock/wire.h).
 *
 * Input: one frame body. wire_decode() must never crash, and must fail
 * with a one-line message or return a message that is valid by its own
 * rules: it re-encodes, the encoding decodes again, and encoding that gives
 * the same bytes (decode and encode agree on every field). Paths accepted
 * by the decoder are checked once more with wire_check_path(). */
#include "tests/fuzz/fuzz.h"
#include "vsock/wire.h"

static void check_paths(const struct wire_msg *m)
{
	struct cr_err e;
	switch (m->type) {
	case WIRE_ENTRY:
		if (wire_check_path(m->u.entry.path, "entry", &e))
			fz_die("decoded entry path '%s' fails wire_check_path: %s", m->u.entry.path, e.msg);
		break;
	case WIRE_ARTIFACT:
		if (wire_check_path(m->u.artifact.path, "artifact", &e))
			fz_die("decoded artifact path fails wire_check_path: %s", e.msg);
		break;
	case WIRE_REQUEST:
		for (size_t i = 0; i < m->u.request.noutputs; i++)
			if (wire_check_path(m->u.request.outputs[i], "output", &e))
				fz_die("decoded output path fails wire_check_path: %s", e.msg);
		if (m->u.request.argc < 1 || m->u.request.argc > WIRE_MAX_ARGS || m->u.request.argv[m->u.request.argc])
			fz_die("decoded argv of %zu elements is not NULL-terminated in bounds", m->u.request.argc);
		break;
	default: break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_msg m, m2;
	struct cr_buf b1, b2;
	struct cr_err e;
	char path[WIRE_MAX_PATH + 2];

	memset(&m, 0, sizeof m);
	if (wire_decode(data, size, &m, &e)) {
		fz_check_err(&e, "wire_decode");
		wire_msg_free(&m);
	} else {
		check_paths(&m);
		cr_buf_init(&b1, 2 * WIRE_MAX_FRAME);
		cr_buf_init(&b2, 2 * WIRE_MAX_FRAME);
		if (wire_encode(&m, &b1, &e))
			fz_die("a decoded %s message does not encode: %s", wire_type_name(m.type), e.msg);
		memset(&m2, 0, sizeof m2);
		if (wire_decode(b1.p, b1.len, &m2, &e))
			fz_die("the encoding of a decoded %s message does not decode: %s", wire_type_name(m.type),
			       e.msg);
		if (m2.type != m.type)
			fz_die("type changed from %s to %s", wire_type_name(m.type), wire_type_name(m2.type));
		if (wire_encode(&m2, &b2, &e))
			fz_die("second encode of a %s message failed: %s", wire_type_name(m.type), e.msg);
		if (b1.len != b2.len || memcmp(b1.p, b2.p, b1.len))
			fz_die("%s message: decode and encode disagree (%zu vs %zu bytes)", wire_type_name(m.type),
			       b1.len, b2.len);
		wire_msg_free(&m2);
		wire_msg_free(&m);
		cr_buf_free(&b1);
		cr_buf_free(&b2);
	}

	/* The same bytes as a path: accepted paths are relative and clean. */
	if (size < sizeof path) {
		memcpy(path, data, size);
		path[size] = 0;
		if (wire_check_path(path, "path", &e) == 0) {
			size_t n = strlen(path);
			if (n == 0 || path[0] == '/' || path[n - 1] == '/' || strstr(path, "//") ||
			    !strcmp(path, "..") || !strncmp(path, "../", 3) || strstr(path, "/../") ||
			    (n >= 3 && !strcmp(path + n - 3, "/..")))
				fz_die("wire_check_path accepted '%s'", path);
		} else {
			fz_check_err(&e, "wire_check_path");
		}
	}
	return 0;
}
