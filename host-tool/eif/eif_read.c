/* Reading and validating EIF files. */
#include "host-tool/eif/eif.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "host-tool/eif/bulk_crc32.h"

/* Chunk size for streaming reads; the hasher gets whole chunks. */
#define READ_CHUNK (1u << 20)
#define READ_SLOTS 8

const char *eif_section_name(uint16_t type)
{
	switch (type) {
	case EIF_SEC_KERNEL: return "Kernel";
	case EIF_SEC_CMDLINE: return "Cmdline";
	case EIF_SEC_RAMDISK: return "Ramdisk";
	case EIF_SEC_SIGNATURE: return "Signature";
	case EIF_SEC_METADATA: return "Metadata";
	default: return "Invalid";
	}
}

unsigned eif_pcr_mask(uint16_t type, int ramdisk_index)
{
	switch (type) {
	case EIF_SEC_KERNEL:
	case EIF_SEC_CMDLINE: return PCR_MASK_0 | PCR_MASK_1;
	case EIF_SEC_RAMDISK: return ramdisk_index == 0 ? PCR_MASK_0 | PCR_MASK_1 : PCR_MASK_0 | PCR_MASK_2;
	default: return 0;
	}
}

static int pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* shorter than validated: truncated meanwhile */
			return -1;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int load_small(struct eif_image *img, int i, size_t limit, uint8_t **out, struct cr_err *e)
{
	const struct eif_section *s = &img->sec[i];
	uint8_t *buf;
	if (s->size > limit)
		return cr_fail(e, "section %d (%s): %llu bytes exceeds the limit of %zu", i, eif_section_name(s->type),
			       (unsigned long long)s->size, limit);
	buf = malloc((size_t)s->size + 1);
	if (!buf)
		return cr_fail(e, "out of memory");
	if (pread_full(img->fd, buf, (size_t)s->size, s->hdr_offset + EIF_SEC_HDR_SIZE)) {
		free(buf);
		return cr_failp(e, "section %d (%s): read", i, eif_section_name(s->type));
	}
	buf[s->size] = 0;
	*out = buf;
	return 0;
}

static int validate(struct eif_image *img, struct cr_err *e)
{
	const uint8_t *h = img->header;
	uint64_t expect = EIF_HDR_SIZE;
	int kernels = 0, cmdlines = 0;

	if (memcmp(h, EIF_MAGIC, 4))
		return cr_fail(e, "header: bad magic %02x%02x%02x%02x (an EIF starts with \".eif\")", h[0], h[1], h[2],
			       h[3]);
	img->version = cr_be16(h + 4);
	if (img->version < 2 || img->version > EIF_VERSION)
		return cr_fail(e, "header: unsupported version %u (supported: 2 to %d)", img->version, EIF_VERSION);
	img->flags = cr_be16(h + 6);
	if (img->flags & ~EIF_FLAG_ARM64)
		return cr_fail(e, "header: reserved flag bits set (flags 0x%04x)", img->flags);
	img->default_mem = cr_be64(h + 8);
	img->default_cpus = cr_be64(h + 16);
	img->num_sections = cr_be16(h + 26);
	if (img->num_sections < 3 || img->num_sections > EIF_MAX_SECTIONS)
		return cr_fail(e, "header: num_sections %u out of range (3 to %d)", img->num_sections,
			       EIF_MAX_SECTIONS);
	for (int i = img->num_sections; i < EIF_MAX_SECTIONS; i++)
		if (cr_be64(h + 28 + 8 * i) || cr_be64(h + 284 + 8 * i))
			return cr_fail(e, "header: unused section slot %d is not zero", i);
	img->crc_stored = cr_be32(h + 544);

	for (int i = 0; i < img->num_sections; i++) {
		struct eif_section *s = &img->sec[i];
		uint8_t sh[EIF_SEC_HDR_SIZE];
		uint64_t off = cr_be64(h + 28 + 8 * i), size = cr_be64(h + 284 + 8 * i);
		if (off != expect)
			return cr_fail(e,
				       "section %d: header at offset %llu, expected %llu (sections must follow each "
				       "other without gaps or overlap)",
				       i, (unsigned long long)off, (unsigned long long)expect);
		if (off > img->file_size || img->file_size - off < EIF_SEC_HDR_SIZE)
			return cr_fail(e, "section %d: header at offset %llu is past the end of the file (%llu bytes)",
				       i, (unsigned long long)off, (unsigned long long)img->file_size);
		if (size > img->file_size - off - EIF_SEC_HDR_SIZE)
			return cr_fail(e,
				       "section %d: %llu bytes of data at offset %llu run past the end of the file "
				       "(%llu bytes)",
				       i, (unsigned long long)size, (unsigned long long)(off + EIF_SEC_HDR_SIZE),
				       (unsigned long long)img->file_size);
		if (pread_full(img->fd, sh, sizeof sh, off))
			return cr_failp(e, "section %d: read header", i);
		s->type = cr_be16(sh);
		s->hdr_offset = off;
		s->size = size;
		s->ramdisk_index = -1;
		if (cr_be16(sh + 2))
			return cr_fail(e, "section %d: flags 0x%04x must be 0", i, cr_be16(sh + 2));
		if (cr_be64(sh + 4) != size)
			return cr_fail(e, "section %d: size %llu in its header differs from %llu in the EIF header", i,
				       (unsigned long long)cr_be64(sh + 4), (unsigned long long)size);
		switch (s->type) {
		case EIF_SEC_KERNEL:
			if (kernels++)
				return cr_fail(e, "section %d: a second kernel section", i);
			img->kernel = i;
			break;
		case EIF_SEC_CMDLINE:
			if (cmdlines++)
				return cr_fail(e, "section %d: a second cmdline section", i);
			img->cmdline = i;
			break;
		case EIF_SEC_RAMDISK:
			if (img->kernel < 0)
				return cr_fail(e, "section %d: ramdisk before the kernel section", i);
			s->ramdisk_index = img->num_ramdisks++;
			break;
		case EIF_SEC_SIGNATURE:
			if (img->version < 3)
				return cr_fail(e, "section %d: signature section in a version %u file", i,
					       img->version);
			if (img->signature >= 0)
				return cr_fail(e, "section %d: a second signature section", i);
			img->signature = i;
			break;
		case EIF_SEC_METADATA:
			if (img->version < 4)
				return cr_fail(e, "section %d: metadata section in a version %u file", i, img->version);
			if (img->metadata >= 0)
				return cr_fail(e, "section %d: a second metadata section", i);
			img->metadata = i;
			break;
		default: return cr_fail(e, "section %d: invalid section type %u", i, s->type);
		}
		expect = off + EIF_SEC_HDR_SIZE + size;
	}
	if (expect != img->file_size)
		return cr_fail(e, "file: %llu bytes after the last section (not covered by the CRC)",
			       (unsigned long long)(img->file_size - expect));
	if (!kernels)
		return cr_fail(e, "sections: no kernel section");
	if (!cmdlines)
		return cr_fail(e, "sections: no cmdline section");
	if (!img->num_ramdisks)
		return cr_fail(e, "sections: no ramdisk section");
	if (img->version >= 4 && img->metadata < 0)
		return cr_fail(e, "sections: no metadata section (required from version 4)");

	if (load_small(img, img->cmdline, EIF_CMDLINE_MAX, &img->cmdline_data, e))
		return -1;
	if (memchr(img->cmdline_data, 0, (size_t)img->sec[img->cmdline].size))
		return cr_fail(e, "section %d (Cmdline): contains a NUL byte", img->cmdline);
	if (img->metadata >= 0 && load_small(img, img->metadata, EIF_METADATA_MAX, &img->metadata_data, e))
		return -1;
	if (img->signature >= 0 && load_small(img, img->signature, EIF_SIGNATURE_MAX, &img->signature_data, e))
		return -1;
	return 0;
}

int eif_open(const char *path, struct eif_image *img, struct cr_err *e)
{
	struct stat st;
	memset(img, 0, sizeof *img);
	img->kernel = img->cmdline = img->metadata = img->signature = -1;
	snprintf(img->path, sizeof img->path, "%s", path);
	/* Never a blocking open (a FIFO), never a device: a regular file of at
	 * most EIF_FILE_MAX bytes; every read below is bounded by the header. */
	img->fd = cr_open_input(NULL, path, EIF_FILE_MAX, 0, &st, e);
	if (img->fd < 0)
		return -1;
	img->file_size = (uint64_t)st.st_size;
	if (img->file_size < EIF_HDR_SIZE) {
		cr_fail(e, "%s: header: file is %llu bytes, shorter than the %d-byte EIF header", path,
			(unsigned long long)img->file_size, EIF_HDR_SIZE);
		goto fail;
	}
	if (pread_full(img->fd, img->header, EIF_HDR_SIZE, 0)) {
		cr_failp(e, "%s: read header", path);
		goto fail;
	}
	if (validate(img, e)) {
		cr_err_wrap(e, "%s", path);
		goto fail;
	}
	return 0;
fail:
	eif_close(img);
	return -1;
}

void eif_close(struct eif_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->cmdline_data);
	free(img->metadata_data);
	free(img->signature_data);
	img->cmdline_data = img->metadata_data = img->signature_data = NULL;
	img->fd = -1;
}

/* What section i's data was when the image was opened, if it was loaded
 * (NULL for the kernel and the ramdisks, which stay on disk). */
static const uint8_t *loaded_data(const struct eif_image *img, int i)
{
	return i == img->cmdline     ? img->cmdline_data
	       : i == img->metadata  ? img->metadata_data
	       : i == img->signature ? img->signature_data
				     : NULL;
}

/* One chunk of section i as the scan read it: the section header must be
 * the one eif_open validated, and a loaded section's bytes the loaded ones,
 * so that what was measured is what is used. at: the chunk's offset in the
 * section (header included). */
static int check_unchanged(const struct eif_image *img, int i, const uint8_t *buf, size_t n, uint64_t at,
			   struct cr_err *e)
{
	const struct eif_section *s = &img->sec[i];
	const uint8_t *mem = loaded_data(img, i);
	size_t skip = 0;
	if (at == 0) {
		if (cr_be16(buf) != s->type || cr_be16(buf + 2) || cr_be64(buf + 4) != s->size)
			return cr_fail(e, "%s: section %d: its header changed while the image was being read",
				       img->path, i);
		skip = EIF_SEC_HDR_SIZE;
	}
	if (mem && n > skip && memcmp(buf + skip, mem + (at + skip - EIF_SEC_HDR_SIZE), n - skip))
		return cr_fail(e, "%s: section %d (%s): changed while the image was being read", img->path, i,
			       eif_section_name(s->type));
	return 0;
}

int eif_scan_copy(struct eif_image *img, struct eif_scan *out, int kernel_fd, int ramdisk_fd, struct cr_err *e)
{
	struct pcr_hasher h;
	uint8_t *ring;
	uint64_t tickets[READ_SLOTS] = { 0 };
	uLong crc;
	int slot = 0, rc = 0;

	memset(out, 0, sizeof *out);
	ring = malloc((size_t)READ_CHUNK * READ_SLOTS);
	if (!ring)
		return cr_fail(e, "out of memory");
	if (pcr_hasher_start(&h, e)) {
		free(ring);
		return -1;
	}
	crc = crc32(0L, img->header, EIF_HDR_SIZE - 4);
	for (int i = 0; i < img->num_sections && !rc; i++) {
		const struct eif_section *s = &img->sec[i];
		unsigned mask = eif_pcr_mask(s->type, s->ramdisk_index);
		uint64_t off = s->hdr_offset, left = EIF_SEC_HDR_SIZE + s->size, at = 0;
		int copy_fd = s->type == EIF_SEC_KERNEL ? kernel_fd : s->type == EIF_SEC_RAMDISK ? ramdisk_fd : -1;
		while (left) {
			uint8_t *buf = ring + (size_t)slot * READ_CHUNK;
			size_t n = left > READ_CHUNK ? READ_CHUNK : (size_t)left;
			/* The 12-byte section header is covered by the CRC but never measured. */
			size_t skip = at == 0 ? EIF_SEC_HDR_SIZE : 0;
			pcr_hasher_wait(&h, tickets[slot]);
			if (pread_full(img->fd, buf, n, off)) {
				rc = cr_failp(e, "%s: section %d: read", img->path, i);
				break;
			}
			if (check_unchanged(img, i, buf, n, at, e)) {
				rc = -1;
				break;
			}
			crc = bulk_crc32(crc, buf, n);
			tickets[slot] = pcr_hasher_submit(&h, mask, buf + skip, n - skip);
			/* Copied from the bytes just measured: what boots is what the
			 * PCRs say, whatever happens to the file meanwhile. */
			if (copy_fd >= 0 && cr_write_all(copy_fd, buf + skip, n - skip)) {
				rc = cr_failp(e, "section %d (%s): write", i, eif_section_name(s->type));
				break;
			}
			slot = (slot + 1) % READ_SLOTS;
			off += n;
			at += n;
			left -= n;
		}
	}
	{
		struct cr_err fe;
		/* Always finish (it stops the threads); a read error wins. */
		if (pcr_hasher_finish(&h, &out->pcrs, &fe) && !rc) {
			*e = fe;
			rc = -1;
		}
	}
	free(ring);
	if (rc)
		return -1;
	out->crc_computed = (uint32_t)crc;
	out->crc_ok = out->crc_computed == img->crc_stored;
	return 0;
}

int eif_scan(struct eif_image *img, struct eif_scan *out, struct cr_err *e)
{
	return eif_scan_copy(img, out, -1, -1, e);
}
