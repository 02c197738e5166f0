/* host-tool/eif/eif_read.c: eif_scan_copy measures and copies in one pass.
 * The kernel and ramdisk copies are the bytes measured, even when the file
 * changes after eif_open; a changed section header or loaded section (the
 * cmdline) fails the scan, naming it; a failed copy names the section. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "host-tool/eif/eif.h"
#include "host-tool/eif/pcr.h"
#include "tests/unit/check.h"

#define NSEC 4
static const uint16_t types[NSEC] = { EIF_SEC_KERNEL, EIF_SEC_CMDLINE, EIF_SEC_RAMDISK, EIF_SEC_RAMDISK };
/* The second ramdisk crosses the reader's 1 MiB chunks twice. */
static const size_t sizes[NSEC] = { 3001, 13, 5000, (2u << 20) + 7 };
static uint8_t *data[NSEC];
static uint64_t hdr_off[NSEC];

/* A version 3 EIF (no metadata section needed) with a correct CRC. */
static void write_eif(const char *path)
{
	uint8_t h[EIF_HDR_SIZE], sh[EIF_SEC_HDR_SIZE];
	uint64_t off = EIF_HDR_SIZE;
	uLong crc;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(h, 0, sizeof h);
	memcpy(h, EIF_MAGIC, 4);
	cr_put_be16(h + 4, 3);
	cr_put_be16(h + 26, NSEC);
	for (int i = 0; i < NSEC; i++) {
		hdr_off[i] = off;
		cr_put_be64(h + 28 + 8 * i, off);
		cr_put_be64(h + 284 + 8 * i, sizes[i]);
		off += EIF_SEC_HDR_SIZE + sizes[i];
	}
	crc = crc32(0L, h, EIF_HDR_SIZE - 4);
	for (int i = 0; i < NSEC; i++) {
		cr_put_be16(sh, types[i]);
		cr_put_be16(sh + 2, 0);
		cr_put_be64(sh + 4, sizes[i]);
		crc = crc32(crc, sh, sizeof sh);
		crc = crc32(crc, data[i], (uInt)sizes[i]);
	}
	cr_put_be32(h + 544, (uint32_t)crc);
	if (fd < 0 || cr_write_all(fd, h, sizeof h))
		abort();
	for (int i = 0; i < NSEC; i++) {
		cr_put_be16(sh, types[i]);
		cr_put_be16(sh + 2, 0);
		cr_put_be64(sh + 4, sizes[i]);
		if (cr_write_all(fd, sh, sizeof sh) || cr_write_all(fd, data[i], sizes[i]))
			abort();
	}
	close(fd);
}

/* The whole content of fd (a memfd), or NULL. */
static uint8_t *slurp(int fd, size_t *n)
{
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t *p = end > 0 ? malloc((size_t)end) : malloc(1);
	*n = end > 0 ? (size_t)end : 0;
	if (!p || end < 0 || (end > 0 && pread(fd, p, (size_t)end, 0) != end)) {
		free(p);
		return NULL;
	}
	return p;
}

static void poke(const char *path, uint64_t off, uint8_t byte)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, &byte, 1, (off_t)off) != 1)
		abort();
	close(fd);
}

int main(void)
{
	char path[] = "/tmp/cr-eif-read-XXXXXX";
	struct eif_image img;
	struct eif_scan plain, sc;
	struct cr_err e;
	uint8_t pcr2[CR_PCR_LEN], *k, *r, *rd;
	size_t kn, rn;
	int kfd, rfd, tmp = mkstemp(path);

	if (tmp < 0)
		return 1;
	close(tmp);
	for (int i = 0; i < NSEC; i++) {
		data[i] = malloc(sizes[i]);
		for (size_t j = 0; j < sizes[i]; j++)
			data[i][j] = i == 1 ? (uint8_t)('a' + j % 26) : t_random_byte();
	}
	rd = malloc(sizes[2] + sizes[3]);
	memcpy(rd, data[2], sizes[2]);
	memcpy(rd + sizes[2], data[3], sizes[3]);
	write_eif(path);

	/* Intact: the copies are the sections, the PCRs eif_scan's. */
	T_OK(eif_open(path, &img, &e) == 0 && eif_scan(&img, &plain, &e) == 0 && plain.crc_ok, "eif_scan: CRC ok");
	eif_close(&img);
	kfd = memfd_create("k", 0);
	rfd = memfd_create("r", 0);
	T_OK(eif_open(path, &img, &e) == 0 && eif_scan_copy(&img, &sc, kfd, rfd, &e) == 0 && sc.crc_ok,
	     "eif_scan_copy: CRC ok");
	eif_close(&img);
	k = slurp(kfd, &kn);
	r = slurp(rfd, &rn);
	T_OK(k && kn == sizes[0] && !memcmp(k, data[0], kn), "the kernel copy is the kernel section's data");
	T_OK(r && rn == sizes[2] + sizes[3] && !memcmp(r, rd, rn), "the ramdisk copy is both ramdisks, in file order");
	T_OK(!memcmp(&sc.pcrs, &plain.pcrs, sizeof sc.pcrs), "PCR0/1/2 are eif_scan's");
	pcr_of_bytes(data[3], sizes[3], pcr2);
	T_OK(!memcmp(sc.pcrs.pcr2, pcr2, CR_PCR_LEN), "PCR2 is the PCR of the ramdisks after the first");
	free(k);
	free(r);
	close(kfd);
	close(rfd);

	/* A ramdisk byte changed after eif_open: the copy and the PCR are of
	 * the changed bytes (and the CRC says the file is damaged). */
	T_OK(eif_open(path, &img, &e) == 0, "open");
	poke(path, hdr_off[3] + EIF_SEC_HDR_SIZE + (1u << 20) + 5, (uint8_t)(rd[sizes[2] + (1u << 20) + 5] ^ 0xff));
	rd[sizes[2] + (1u << 20) + 5] ^= 0xff;
	kfd = memfd_create("k", 0);
	rfd = memfd_create("r", 0);
	T_OK(eif_scan_copy(&img, &sc, kfd, rfd, &e) == 0 && !sc.crc_ok, "a ramdisk changed after open: CRC mismatch");
	eif_close(&img);
	r = slurp(rfd, &rn);
	if (r && rn == sizes[2] + sizes[3])
		pcr_of_bytes(r + sizes[2], sizes[3], pcr2);
	T_OK(r && rn == sizes[2] + sizes[3] && !memcmp(r, rd, rn) && !memcmp(sc.pcrs.pcr2, pcr2, CR_PCR_LEN),
	     "... the copy holds the changed bytes, and PCR2 is theirs");
	free(r);
	close(kfd);
	close(rfd);
	rd[sizes[2] + (1u << 20) + 5] ^= 0xff;
	write_eif(path);

	/* The cmdline (loaded at open) or a section header changed after
	 * eif_open: the scan fails, naming the section. */
	T_OK(eif_open(path, &img, &e) == 0, "open");
	poke(path, hdr_off[1] + EIF_SEC_HDR_SIZE + 3, 'Z');
	T_OK(eif_scan_copy(&img, &sc, -1, -1, &e) == -1 && strstr(e.msg, "section 1 (Cmdline): changed while"),
	     "a cmdline changed after open fails the scan: %s", e.msg);
	eif_close(&img);
	write_eif(path);
	T_OK(eif_open(path, &img, &e) == 0, "open");
	poke(path, hdr_off[2] + 11, 0x99); /* the size's low byte */
	T_OK(eif_scan_copy(&img, &sc, -1, -1, &e) == -1 && strstr(e.msg, "section 2: its header changed"),
	     "a section header changed after open fails the scan: %s", e.msg);
	eif_close(&img);
	write_eif(path);

	/* A copy that cannot be written. */
	kfd = open(path, O_RDONLY);
	T_OK(eif_open(path, &img, &e) == 0 && eif_scan_copy(&img, &sc, kfd, -1, &e) == -1 &&
		     strstr(e.msg, "section 0 (Kernel): write"),
	     "a failed copy names the section: %s", e.msg);
	eif_close(&img);
	close(kfd);

	unlink(path);
	for (int i = 0; i < NSEC; i++)
		free(data[i]);
	free(rd);
	return t_done();
}
