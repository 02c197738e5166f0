/* cleanroom diff: two builds' output directories compared, to find what
 * makes a build not reproducible. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"
#include "base/json.h"
#include "base/term.h"
#include "host-tool/commands.h"
#include "host-tool/verify/out_diff.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: cleanroom diff [--ignore PATH]... [--json] DIR_A DIR_B\n"
		"\n"
		"Compare two output directories of the same build (what `cleanroom build --out`\n"
		"writes, e.g. two builders' outputs, or the artifacts beside two bundles that\n"
		"`cleanroom verify --quorum` found in disagreement) file by file: every regular file\n"
		"under each, by relative path, except the top-level report files (" REPORT_FILE_BUNDLE ",\n"
		"" REPORT_FILE_DSSE ", " REPORT_FILE_SIGSTORE ", " REPORT_FILE_ATTESTATION ":\n"
		"each build's own report, which always differs). Lists the files that differ, with both sizes, the\n"
		"first differing offset and %d bytes of each side from %d bytes before it, as hex;\n"
		"and the files present on one side only. A symlink, FIFO, socket or device in either\n"
		"tree is an input error naming it (or leave it out with --ignore).\n"
		"\n"
		"options:\n"
		"  --ignore PATH      leave out this relative path on both sides (up to %d times),\n"
		"                     e.g. other per-build files beside the artifacts\n"
		"  --json             the result as JSON on stdout\n"
		"  -h, --help         this text\n"
		"\n"
		"Exit status: 0 identical; 1 they differ; 2 usage or input error.\n"
		"\n"
		"example:\n"
		"  cleanroom diff builder-a/out builder-b/out\n",
		OUT_DIFF_CONTEXT, OUT_DIFF_BEFORE, OUT_DIFF_MAX_IGNORE);
}

/* An --ignore path as the walk names entries: "sub/", "./sub" and
 * "sub//x" become "sub" and "sub/x" (in place); -1 for a path with a ".."
 * component or nothing left, which would never match. */
static int ignore_canonical(char *p)
{
	char *w = p;
	const char *r = p;
	while (*r) {
		size_t n = strcspn(r, "/");
		if (n == 2 && r[0] == '.' && r[1] == '.')
			return -1;
		if (n && !(n == 1 && r[0] == '.')) {
			if (w != p)
				*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
		r += *r == '/';
	}
	*w = 0;
	return w == p ? -1 : 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ignore", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ignore[OUT_DIFF_MAX_IGNORE];
	size_t nignore = 0;
	struct out_diff d;
	struct cr_err e;
	int c, json = 0, rc;
	char given[512];
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (nignore == OUT_DIFF_MAX_IGNORE) {
				cr_tprintf(stderr, "cleanroom diff: more than %d --ignore\n", OUT_DIFF_MAX_IGNORE);
				return 2;
			}
			snprintf(given, sizeof given, "%s", optarg);
			if (!optarg[0] || optarg[0] == '/' || ignore_canonical(optarg)) {
				cr_tprintf(stderr,
					   "cleanroom diff: --ignore '%s': want a path relative to the directories, "
					   "without '..'\n",
					   cr_term_arg(given));
				return 2;
			}
			ignore[nignore++] = optarg;
			break;
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2) {
		cr_tprintf(stderr, "cleanroom diff: want two directories, DIR_A and DIR_B (see --help)\n");
		return 2;
	}
	if (out_diff(argv[optind], argv[optind + 1], ignore, nignore, &d, &e)) {
		cr_tprintf(stderr, "cleanroom diff: %s\n", e.msg);
		out_diff_free(&d);
		return 2;
	}
	rc = d.n ? 1 : 0;
	if (json) {
		struct cr_buf out;
		struct json_w w;
		/* No cap of its own: OUT_DIFF_MAX_FILES entries bound it, and
		 * 65536 names within them pass any small cap. */
		cr_buf_init(&out, SIZE_MAX);
		jw_init(&w, &out, 1);
		jw_obj_begin(&w);
		jw_kstr(&w, "a", argv[optind]);
		jw_kstr(&w, "b", argv[optind + 1]);
		out_diff_write_json(&d, &w);
		jw_obj_end(&w);
		if (jw_print(&w, &e)) {
			cr_tprintf(stderr, "cleanroom diff: %s\n", e.msg);
			rc = 2;
		}
		cr_buf_free(&out);
	} else {
		out_diff_print_text(&d, stdout);
	}
	out_diff_free(&d);
	return rc;
}
