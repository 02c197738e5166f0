/* Writing EIF files in one streaming pass.
 *
 * Layout, as nitro-cli writes it: header, kernel, cmdline, metadata,
 * ramdisks..., then the signature when signed. The image is streamed, in
 * file order, through a ring of 1 MiB chunks: the measured bytes of each
 * chunk are handed to the PCR hasher threads, and the chunk is CRC'd and
 * written whole at its offset, with O_DIRECT where the file system takes it
 * (no copy into the page cache, nothing left for the final fsync); the last,
 * partial chunk is written buffered. The header goes last (it needs every size, and the
 * signature's size is only known once PCR0 is); zlib's crc32_combine() puts
 * its CRC in front of the sections' CRC without a second pass.
 *
 * The output appears atomically: a temporary file beside it is renamed into
 * place only when complete, and removed on any failure. */
#ifndef CLEANROOM_EIF_WRITE_H
#define CLEANROOM_EIF_WRITE_H

#include "host-tool/eif/cpio_newc.h"
#include "host-tool/eif/eif.h"

#define EIF_MAX_RAMDISKS 8

/* Where the time of one eif_write went, for `cleanroom eif --timings` and
 * bench/eif-pack. Wall nanoseconds unless said. */
struct eif_write_stats {
	uint64_t bytes;                           /* the image's size */
	uint64_t read_ns, crc_ns;                 /* reading thread: tree reads, CRC */
	uint64_t write_ns;                        /* chunk writer thread: writing */
	uint64_t direct_bytes;                    /* of bytes, those written with O_DIRECT */
	uint64_t stall_ns;                        /* reader waiting for the hashers to free a chunk */
	uint64_t disk_wait_ns;                    /* reader waiting for the chunk writer to free one */
	uint64_t hash_busy_ns[2], hash_cpu_ns[2]; /* hasher 0 (PCR0), 1 (PCR1+PCR2): hashing, CPU */
	uint64_t sync_ns;                         /* background fdatasync while writing (bg_sync) */
	uint64_t commit_ns;                       /* fsync + rename */
	uint64_t total_ns;
	const char *sha384_impl; /* "libcrypto" or "BearSSL" */
};

struct eif_write_input {
	const char *kernel_path;
	const uint8_t *cmdline;
	size_t cmdline_len;
	const uint8_t *metadata;
	size_t metadata_len;
	const struct cpio_plan *ramdisks[EIF_MAX_RAMDISKS];
	int num_ramdisks;
	uint16_t flags; /* EIF_FLAG_ARM64 or 0 */
	/* Optional: produce the signature section from the measurements
	 * (pcrs->pcr0 is final). It may set pcrs->pcr8. */
	int (*sign)(void *ctx, struct eif_pcrs *pcrs, struct cr_buf *section, struct cr_err *e);
	void *sign_ctx;
	struct eif_write_stats *stats; /* optional: filled on success */
};

int eif_write(const char *out_path, const struct eif_write_input *in, struct eif_pcrs *pcrs, struct cr_err *e);

#endif
