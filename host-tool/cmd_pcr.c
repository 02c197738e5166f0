/* cleanroom pcr: the PCR value a file would give, as `nitro-cli pcr` does. */
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/digest.h"
#include "host-tool/commands.h"
#include "nsm/x509_cert.h"
#include "host-tool/eif/eif.h"
#include "base/json.h"
#include "host-tool/eif/pcr.h"
#include "base/pem.h"
#include "base/term.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: cleanroom pcr --input FILE\n"
		     "       cleanroom pcr --signing-certificate CERT.pem\n"
		     "\n"
		     "Print the value a zeroed PCR register takes when extended once with the SHA-384 of\n"
		     "the input: SHA384(48 zero bytes || SHA384(content)), as `nitro-cli pcr` does.\n"
		     "  --input FILE                   content = the file's bytes; prints {\"PCR\": hex}\n"
		     "  --signing-certificate CERT.pem content = the certificate's DER (the PEM is\n"
		     "                                 decoded first); prints {\"PCR8\": hex}, the PCR8\n"
		     "                                 of an EIF signed with that certificate\n"
		     "  -h, --help                     this text\n"
		     "Exit status: 0 printed, 1 unreadable input, 2 usage error.\n");
}

/* The largest --input: an enclave image. */
#define PCR_INPUT_MAX EIF_FILE_MAX

static int pcr_of_file(const char *path, uint8_t out[CR_PCR_LEN], struct cr_err *e)
{
	br_sha384_context c;
	uint8_t buf[1 << 16], d[CR_PCR_LEN];
	struct stat st;
	uint64_t left;
	ssize_t n;
	/* A regular file of at most PCR_INPUT_MAX bytes, read up to the size it
	 * had when opened: never a FIFO or /dev/zero, never an endless read. */
	int fd = cr_open_input("--input", path, PCR_INPUT_MAX, 0, &st, e);
	if (fd < 0)
		return -1;
	left = (uint64_t)st.st_size;
	br_sha384_init(&c);
	while (left) {
		n = read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			close(fd);
			return cr_failp(e, "--input: %s: read (did it shrink while being read?)", path);
		}
		br_sha384_update(&c, buf, (size_t)n);
		left -= (uint64_t)n;
	}
	close(fd);
	br_sha384_out(&c, d);
	pcr_from_digest(d, out);
	return 0;
}

static int pcr_of_cert(const char *path, uint8_t out[CR_PCR_LEN], struct cr_err *e)
{
	struct pem_list l;
	const struct pem_object *cert;
	struct x509_cert x;
	if (pem_read_cert(path, &l, &cert, e))
		return cr_err_wrap(e, "--signing-certificate");
	/* A PCR8 only of a certificate (as nitro-cli, which parses it): any
	 * base64 between the markers would otherwise be measured. */
	if (x509_cert_parse(cert->der, cert->len, &x, e)) {
		pem_free(&l);
		return cr_err_wrap(e, "--signing-certificate %s", cr_term_arg(path));
	}
	pcr_of_bytes(cert->der, cert->len, out);
	pem_free(&l);
	return 0;
}

int cmd_pcr(int argc, char **argv)
{
	static const struct option longopts[] = { { "input", required_argument, NULL, 'i' },
						  { "signing-certificate", required_argument, NULL, 's' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	const char *input = NULL, *cert = NULL;
	uint8_t pcr[CR_PCR_LEN];
	struct cr_err e;
	struct cr_buf b;
	struct json_w w;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': input = optarg; break;
		case 's': cert = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		cr_tprintf(stderr, "cleanroom pcr: unexpected argument '%s' (see --help)\n", cr_term_arg(argv[optind]));
		return 2;
	}
	if (!!input == !!cert) {
		cr_tprintf(stderr,
			   "cleanroom pcr: give exactly one of --input or --signing-certificate (see --help)\n");
		return 2;
	}
	if (input ? pcr_of_file(input, pcr, &e) : pcr_of_cert(cert, pcr, &e)) {
		cr_tprintf(stderr, "cleanroom pcr: %s\n", e.msg);
		return 1;
	}
	cr_buf_init(&b, 1024);
	jw_init(&w, &b, 1);
	jw_obj_begin(&w);
	jw_khex(&w, input ? "PCR" : "PCR8", pcr, CR_PCR_LEN);
	jw_obj_end(&w);
	if (jw_print(&w, &e)) {
		cr_tprintf(stderr, "cleanroom pcr: %s\n", e.msg);
		cr_buf_free(&b);
		return 1;
	}
	cr_buf_free(&b);
	return 0;
}
