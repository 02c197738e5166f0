/* Enclave Image Format (EIF) v4, as written by nitro-cli and read by the
 * Nitro hypervisor and QEMU (see nitro-facts §1):
 *
 *   header (548 bytes, big-endian) | section header (12) + data | ...
 *
 * Sections are packed back to back with no padding; the header's offset
 * table points at each 12-byte section header. The CRC32 (zlib) covers the
 * header minus its last 4 bytes, then every section header and data. */
#ifndef CLEANROOM_EIF_H
#define CLEANROOM_EIF_H

#include <stdint.h>

#include "host-tool/eif/pcr.h"
#include "base/bytes.h"
#include "base/util.h"

#define EIF_MAGIC "\x2e\x65\x69\x66" /* ".eif" */
#define EIF_VERSION 4
#define EIF_HDR_SIZE 548
#define EIF_SEC_HDR_SIZE 12
#define EIF_MAX_SECTIONS 32
#define EIF_FLAG_ARM64 1u
#define EIF_SIGNATURE_MAX 32768
#define EIF_METADATA_MAX (1u << 20)
#define EIF_CMDLINE_MAX 65536
/* Largest files read: a whole image (enclaves are at most a few GiB; nitro-cli
 * wants 4x the EIF size as enclave memory) and a kernel. */
#define EIF_FILE_MAX (64ull << 30)
#define EIF_KERNEL_MAX (512u << 20)

enum eif_section_type {
	EIF_SEC_INVALID = 0,
	EIF_SEC_KERNEL = 1,
	EIF_SEC_CMDLINE = 2,
	EIF_SEC_RAMDISK = 3,
	EIF_SEC_SIGNATURE = 4,
	EIF_SEC_METADATA = 5,
};

const char *eif_section_name(uint16_t type);
/* Which PCRs a section feeds (PCR_MASK_*); ramdisk_index counts ramdisks in
 * file order and is ignored for other types. */
unsigned eif_pcr_mask(uint16_t type, int ramdisk_index);

struct eif_section {
	uint16_t type;
	uint64_t hdr_offset; /* file offset of the 12-byte section header */
	uint64_t size;       /* data bytes; data starts at hdr_offset + 12 */
	int ramdisk_index;   /* -1 unless a ramdisk */
};

/* An EIF opened for reading. Opening validates the structure only; large
 * sections stay on disk and are read on demand. Small sections (cmdline,
 * metadata, signature) are loaded. */
struct eif_image {
	int fd;
	uint64_t file_size;
	uint16_t version, flags;
	uint64_t default_mem, default_cpus;
	uint16_t num_sections;
	struct eif_section sec[EIF_MAX_SECTIONS];
	int kernel, cmdline, metadata, signature; /* section index or -1 */
	int num_ramdisks;
	uint32_t crc_stored;
	uint8_t header[EIF_HDR_SIZE];
	uint8_t *cmdline_data, *metadata_data, *signature_data; /* NUL-terminated copies */
	char path[4096];
};

/* Open and validate: magic, version (2..4), flags, section count, each
 * section header against the table, types, cardinalities (one kernel, one
 * cmdline, >= 1 ramdisk after the kernel, <= 1 signature, metadata from v4),
 * contiguity from byte 548 to EOF, size limits. No CRC or hashing yet. */
int eif_open(const char *path, struct eif_image *img, struct cr_err *e);
void eif_close(struct eif_image *img);

/* Read every section once: compare the CRC and compute PCR0/1/2 (and PCR8
 * when a signing certificate DER is given). */
struct eif_scan {
	uint32_t crc_computed;
	int crc_ok;
	struct eif_pcrs pcrs;
};
int eif_scan(struct eif_image *img, struct eif_scan *out, struct cr_err *e);
/* The same pass, also writing the kernel's data to kernel_fd and every
 * ramdisk's, in file order, to ramdisk_fd (-1: not copied): the copies are
 * the bytes measured, whatever happens to the file meanwhile. Each section
 * header, and each loaded section (cmdline, metadata, signature), must read
 * as it did at eif_open, or the scan fails: what was measured is what the
 * caller uses. */
int eif_scan_copy(struct eif_image *img, struct eif_scan *out, int kernel_fd, int ramdisk_fd, struct cr_err *e);

#endif
