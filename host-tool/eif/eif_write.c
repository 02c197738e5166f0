#include "host-tool/eif/eif_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "host-tool/eif/bulk_crc32.h"

#define CHUNK (1u << 20)
#define SLOTS 16
/* Start the disk writeback of every this many bytes as soon as they are
 * written, so the final fsync finds little left to do and the disk works
 * while the CPUs hash. */
#define WRITEBACK_STEP (32u << 20)

/* Sections are streamed through a ring of chunks shared with the hasher. */
struct stream {
	int fd;
	const char *path;
	uint64_t off; /* file offset of the next byte */
	uLong crc;    /* CRC of everything after the header */
	uint64_t crc_len;
	unsigned mask; /* PCRs fed by the current section */
	uint8_t *ring;
	int slot;
	size_t fill;
	uint64_t tickets[SLOTS];
	uint64_t synced; /* file offset up to which writeback was started */
	struct pcr_hasher h;
	struct eif_write_stats st;
};

/* Start writing [s->synced, s->off) to disk once a step has accumulated.
 * Advisory: a failure here shows again, and is reported, at fsync. */
static void start_writeback(struct stream *s, int all)
{
	if (s->off - s->synced < WRITEBACK_STEP && !(all && s->off > s->synced))
		return;
	(void)sync_file_range(s->fd, (off_t)s->synced, (off_t)(s->off - s->synced), SYNC_FILE_RANGE_WRITE);
	s->synced = s->off;
}

static int flush(struct stream *s, struct cr_err *e)
{
	uint8_t *buf = s->ring + (size_t)s->slot * CHUNK;
	size_t n = s->fill;
	ssize_t w;
	uint64_t t0 = cr_mono_ns(), t1, t2;
	if (!n)
		return 0;
	/* pwrite of a page-cache file rarely writes short; loop anyway. */
	for (size_t done = 0; done < n; done += (size_t)w) {
		w = pwrite(s->fd, buf + done, n - done, (off_t)(s->off + done));
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0)
			return cr_failp(e, "%s: write", s->path);
	}
	s->off += n;
	start_writeback(s, 0);
	t1 = cr_mono_ns();
	s->crc = bulk_crc32(s->crc, buf, n);
	s->crc_len += n;
	t2 = cr_mono_ns();
	s->tickets[s->slot] = pcr_hasher_submit(&s->h, s->mask, buf, n);
	s->slot = (s->slot + 1) % SLOTS;
	s->fill = 0;
	/* The next chunk may still be in use by the hasher. */
	pcr_hasher_wait(&s->h, s->tickets[s->slot]);
	s->st.write_ns += t1 - t0;
	s->st.crc_ns += t2 - t1;
	s->st.stall_ns += cr_mono_ns() - t2;
	return 0;
}

static int stream_put(void *ctx, const void *p, size_t n, struct cr_err *e)
{
	struct stream *s = ctx;
	const uint8_t *src = p;
	while (n) {
		size_t k = CHUNK - s->fill;
		if (k > n)
			k = n;
		memcpy(s->ring + (size_t)s->slot * CHUNK + s->fill, src, k);
		s->fill += k;
		src += k;
		n -= k;
		if (s->fill == CHUNK && flush(s, e))
			return -1;
	}
	return 0;
}

/* Read n bytes of fd straight into the chunks (no intermediate copy). */
static int stream_copy_fd(void *ctx, int fd, uint64_t n, const char *path, struct cr_err *e)
{
	struct stream *s = ctx;
	while (n) {
		size_t k = CHUNK - s->fill;
		ssize_t r;
		uint64_t t0 = cr_mono_ns();
		if (k > n)
			k = (size_t)n;
		r = read(fd, s->ring + (size_t)s->slot * CHUNK + s->fill, k);
		s->st.read_ns += cr_mono_ns() - t0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cr_failp(e, "%s: read", path);
		if (r == 0)
			return cr_fail(e, "%s: shrank while the image was being packed", path);
		s->fill += (size_t)r;
		n -= (uint64_t)r;
		if (s->fill == CHUNK && flush(s, e))
			return -1;
	}
	return 0;
}

/* Section header: CRC'd and written, never measured. */
static int begin_section(struct stream *s, uint16_t type, unsigned mask, uint64_t size, uint64_t *hdr_off,
			 struct cr_err *e)
{
	uint8_t sh[EIF_SEC_HDR_SIZE];
	if (flush(s, e))
		return -1;
	*hdr_off = s->off;
	eif_put_be16(sh, type);
	eif_put_be16(sh + 2, 0);
	eif_put_be64(sh + 4, size);
	s->mask = 0;
	if (stream_put(s, sh, sizeof sh, e) || flush(s, e))
		return -1;
	s->mask = mask;
	return 0;
}

struct planned {
	uint16_t type;
	uint64_t size, hdr_off;
};

static int write_all_sections(struct stream *s, const struct eif_write_input *in, struct planned *sec, int *nsec,
			      struct cr_err *e)
{
	struct stat st;
	int kfd, n = 0, rc;
	struct cpio_sink sink = { s, stream_put, stream_copy_fd };

	kfd = cr_open_input("--kernel", in->kernel_path, EIF_KERNEL_MAX, 0, &st, e);
	if (kfd < 0)
		return -1;
	if (st.st_size == 0) {
		close(kfd);
		return cr_fail(e, "--kernel: %s is empty", in->kernel_path);
	}
	sec[n] = (struct planned){ EIF_SEC_KERNEL, (uint64_t)st.st_size, 0 };
	rc = begin_section(s, EIF_SEC_KERNEL, eif_pcr_mask(EIF_SEC_KERNEL, 0), sec[n].size, &sec[n].hdr_off, e) ||
	     stream_copy_fd(s, kfd, sec[n].size, in->kernel_path, e);
	close(kfd);
	if (rc)
		return -1;
	n++;

	sec[n] = (struct planned){ EIF_SEC_CMDLINE, in->cmdline_len, 0 };
	if (begin_section(s, EIF_SEC_CMDLINE, eif_pcr_mask(EIF_SEC_CMDLINE, 0), sec[n].size, &sec[n].hdr_off, e) ||
	    stream_put(s, in->cmdline, in->cmdline_len, e))
		return -1;
	n++;

	sec[n] = (struct planned){ EIF_SEC_METADATA, in->metadata_len, 0 };
	if (begin_section(s, EIF_SEC_METADATA, 0, sec[n].size, &sec[n].hdr_off, e) ||
	    stream_put(s, in->metadata, in->metadata_len, e))
		return -1;
	n++;

	for (int i = 0; i < in->num_ramdisks; i++) {
		const struct cpio_plan *p = in->ramdisks[i];
		sec[n] = (struct planned){ EIF_SEC_RAMDISK, p->size, 0 };
		if (begin_section(s, EIF_SEC_RAMDISK, eif_pcr_mask(EIF_SEC_RAMDISK, i), p->size, &sec[n].hdr_off, e) ||
		    cpio_stream(p, &sink, e))
			return -1;
		n++;
	}
	if (flush(s, e))
		return -1;
	*nsec = n;
	return 0;
}

static int write_signature(struct stream *s, const struct eif_write_input *in, struct eif_pcrs *pcrs,
			   struct planned *sec, struct cr_err *e)
{
	struct cr_buf sig;
	uint8_t sh[EIF_SEC_HDR_SIZE];
	int rc = -1;
	cr_buf_init(&sig, EIF_SIGNATURE_MAX);
	if (in->sign(in->sign_ctx, pcrs, &sig, e))
		goto out;
	sec->type = EIF_SEC_SIGNATURE;
	sec->size = sig.len;
	sec->hdr_off = s->off;
	eif_put_be16(sh, EIF_SEC_SIGNATURE);
	eif_put_be16(sh + 2, 0);
	eif_put_be64(sh + 4, sig.len);
	if (pwrite(s->fd, sh, sizeof sh, (off_t)s->off) != (ssize_t)sizeof sh ||
	    pwrite(s->fd, sig.p, sig.len, (off_t)(s->off + sizeof sh)) != (ssize_t)sig.len) {
		cr_failp(e, "%s: write", s->path);
		goto out;
	}
	s->crc = crc32(s->crc, sh, sizeof sh);
	s->crc = crc32(s->crc, sig.p, (uInt)sig.len);
	s->crc_len += sizeof sh + sig.len;
	s->off += sizeof sh + sig.len;
	rc = 0;
out:
	cr_buf_free(&sig);
	return rc;
}

static int write_header(struct stream *s, const struct eif_write_input *in, const struct planned *sec, int nsec,
			struct cr_err *e)
{
	uint8_t h[EIF_HDR_SIZE];
	uLong crc;
	memset(h, 0, sizeof h);
	memcpy(h, EIF_MAGIC, 4);
	eif_put_be16(h + 4, EIF_VERSION);
	eif_put_be16(h + 6, in->flags);
	eif_put_be64(h + 8, 1ull << 30); /* default_mem: what nitro-cli writes; unused */
	eif_put_be64(h + 16, 2);         /* default_cpus: likewise */
	eif_put_be16(h + 26, (uint16_t)nsec);
	for (int i = 0; i < nsec; i++) {
		eif_put_be64(h + 28 + 8 * i, sec[i].hdr_off);
		eif_put_be64(h + 284 + 8 * i, sec[i].size);
	}
	crc = crc32(0L, h, EIF_HDR_SIZE - 4);
	crc = crc32_combine(crc, s->crc, (z_off_t)s->crc_len);
	eif_put_be32(h + 544, (uint32_t)crc);
	if (pwrite(s->fd, h, sizeof h, 0) != (ssize_t)sizeof h)
		return cr_failp(e, "%s: write header", s->path);
	return 0;
}

int eif_write(const char *out_path, const struct eif_write_input *in, struct eif_pcrs *pcrs, struct cr_err *e)
{
	struct stream s;
	struct planned sec[EIF_MAX_SECTIONS];
	struct cr_tmpfile tf;
	int nsec = 0, rc = -1, hashing = 0;
	uint64_t t0 = cr_mono_ns(), t1;

	if (in->num_ramdisks < 1 || in->num_ramdisks > EIF_MAX_RAMDISKS)
		return cr_fail(e, "internal: %d ramdisks", in->num_ramdisks);
	memset(&s, 0, sizeof s);
	memset(pcrs, 0, sizeof *pcrs);
	if (cr_tmpfile_create(&tf, out_path, e))
		return -1;
	s.fd = tf.fd;
	s.path = out_path;
	s.off = EIF_HDR_SIZE;
	s.crc = crc32(0L, Z_NULL, 0);
	s.ring = malloc((size_t)CHUNK * SLOTS);
	if (!s.ring) {
		cr_fail(e, "out of memory");
		goto out;
	}
	if (pcr_hasher_start(&s.h, e))
		goto out;
	hashing = 1;
	if (write_all_sections(&s, in, sec, &nsec, e))
		goto out;
	start_writeback(&s, 1);
	hashing = 0;
	if (pcr_hasher_finish(&s.h, pcrs, e))
		goto out;
	if (in->sign) {
		if (write_signature(&s, in, pcrs, &sec[nsec], e))
			goto out;
		nsec++;
	}
	if (write_header(&s, in, sec, nsec, e))
		goto out;
	t1 = cr_mono_ns();
	rc = cr_tmpfile_commit(&tf, 0644, e);
	if (rc == 0 && in->stats) {
		s.st.commit_ns = cr_mono_ns() - t1;
		s.st.total_ns = cr_mono_ns() - t0;
		s.st.bytes = s.off;
		s.st.sha384_impl = s.h.impl;
		for (int i = 0; i < 2; i++) {
			s.st.hash_busy_ns[i] = s.h.busy_ns[i];
			s.st.hash_cpu_ns[i] = s.h.cpu_ns[i];
		}
		*in->stats = s.st;
	}
out:
	if (hashing) {
		struct eif_pcrs discard;
		struct cr_err ignored;
		pcr_hasher_finish(&s.h, &discard, &ignored);
	}
	if (rc)
		cr_tmpfile_abort(&tf);
	free(s.ring);
	return rc;
}
