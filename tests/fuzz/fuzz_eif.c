/* Fuzz target: the EIF reader (host-tool/eif/eif_read.c) behind
 * `cleanroom describe`: eif_open's structure checks, eif_scan (CRC and
 * PCRs), the metadata JSON, the signature section (CBOR + COSE + X.509).
 *
 * Input: one flag byte (FZ_EIF_* in fuzz.h), then the file. With
 * FZ_EIF_FIX_CRC the harness writes the correct CRC into the header first,
 * so that mutations reach the metadata and signature checks instead of all
 * stopping at the CRC. The file is then described (text or --json) through
 * cmd_describe() itself, and opened once more through the library to check
 * that what eif_open() accepts is what it promises (eif.h): sections
 * contiguous from byte 548 to the end, one kernel and one cmdline, at least
 * one ramdisk, at most one signature. */
#include <limits.h>
#include <zlib.h>

#include "host-tool/commands.h"
#include "host-tool/eif/eif.h"
#include "tests/fuzz/fuzz.h"

static char tmp[PATH_MAX], path[PATH_MAX + 16];

static void cleanup(void)
{
	unlink(path);
	rmdir(tmp);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet_stdout();
	fz_tmpdir(tmp, sizeof tmp, "eif");
	snprintf(path, sizeof path, "%s/image.eif", tmp);
	atexit(cleanup);
	return 0;
}

static void check_image(void)
{
	struct eif_image img;
	struct cr_err e;
	uint64_t expect = EIF_HDR_SIZE;
	int kernels = 0, cmdlines = 0, ramdisks = 0, sigs = 0;
	memset(&img, 0, sizeof img);
	img.fd = -1;
	if (eif_open(path, &img, &e)) {
		fz_check_err(&e, "eif_open");
		eif_close(&img);
		return;
	}
	for (int i = 0; i < img.num_sections; i++) {
		const struct eif_section *s = &img.sec[i];
		if (s->hdr_offset != expect)
			fz_die("section %d at %llu, expected %llu", i, (unsigned long long)s->hdr_offset,
			       (unsigned long long)expect);
		expect = s->hdr_offset + EIF_SEC_HDR_SIZE + s->size;
		kernels += s->type == EIF_SEC_KERNEL;
		cmdlines += s->type == EIF_SEC_CMDLINE;
		ramdisks += s->type == EIF_SEC_RAMDISK;
		sigs += s->type == EIF_SEC_SIGNATURE;
	}
	if (expect != img.file_size)
		fz_die("sections end at %llu, the file at %llu", (unsigned long long)expect,
		       (unsigned long long)img.file_size);
	if (kernels != 1 || cmdlines != 1 || ramdisks < 1 || sigs > 1 || img.num_ramdisks != ramdisks)
		fz_die("accepted %d kernels, %d cmdlines, %d ramdisks, %d signatures", kernels, cmdlines, ramdisks,
		       sigs);
	eif_close(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text[] = { "describe", path, NULL };
	char *json[] = { "describe", path, "--json", NULL };
	int flags, rc;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	fz_write(path, data, size);
	if ((flags & FZ_EIF_FIX_CRC) && size >= EIF_HDR_SIZE) {
		/* The CRC covers the header minus its last 4 bytes, then the rest. */
		uLong crc = crc32(0, Z_NULL, 0);
		uint8_t stored[4];
		int fd;
		crc = crc32(crc, data, EIF_HDR_SIZE - 4);
		crc = crc32(crc, data + EIF_HDR_SIZE, (uInt)(size - EIF_HDR_SIZE));
		cr_put_be32(stored, (uint32_t)crc);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || pwrite(fd, stored, 4, EIF_HDR_SIZE - 4) != 4 || close(fd))
			fz_die("patch the CRC of %s", path);
	}
	rc = (flags & FZ_EIF_JSON) ? cmd_describe(3, json) : cmd_describe(2, text);
	if (rc != 0 && rc != 1)
		fz_die("describe exited %d", rc);
	check_image();
	return 0;
}
