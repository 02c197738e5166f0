#include "host-tool/eif/eif_write.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "host-tool/eif/bulk_crc32.h"
#include "host-tool/eif/chunk_writer.h"

/* The ring is the image itself, in file order: chunk k of the stream holds
 * the file's bytes [k * CHUNK, (k + 1) * CHUNK) and is written whole at that
 * offset, which is what lets chunks go to the disk with O_DIRECT (see
 * chunk_writer.h). A slot is reused once both the hashers and the writer are
 * done with it. */
#define CHUNK (1u << 20)
#define SLOTS 32

struct stream {
	int fd;
	const char *path;
	uint64_t base; /* file offset of the current chunk's first byte */
	size_t fill;   /* bytes in the current chunk */
	uLong crc;     /* CRC of everything after the header */
	uint64_t crc_len;
	unsigned mask;    /* PCRs fed by the bytes being put now */
	size_t hash_from; /* start, in the current chunk, of bytes not yet queued for hashing */
	int hashing;      /* the hasher runs: queue and wait */
	int writing;      /* the chunk writer runs */
	uint8_t *ring;
	int slot;
	uint64_t tickets[SLOTS];  /* per slot: the last hash job reading it */
	uint64_t wtickets[SLOTS]; /* per slot: its write job */
	struct chunk_writer w;
	struct pcr_hasher h;
	struct eif_write_stats st;
};

static uint8_t *cur(struct stream *s)
{
	return s->ring + (size_t)s->slot * CHUNK;
}

static uint64_t pos(const struct stream *s)
{
	return s->base + s->fill;
}

/* Queue the current chunk's bytes put since the last call for the PCRs of
 * s->mask. The chunk stays in use until its ticket is done. */
static void queue_hash(struct stream *s)
{
	if (s->hashing && s->mask && s->fill > s->hash_from) {
		s->tickets[s->slot] = pcr_hasher_submit(&s->h, s->mask, cur(s) + s->hash_from, s->fill - s->hash_from);
	}
	s->hash_from = s->fill;
}

static void set_mask(struct stream *s, unsigned mask)
{
	queue_hash(s);
	s->mask = mask;
}

static void crc_chunk(struct stream *s, size_t to)
{
	uint64_t t0 = cr_mono_ns();
	size_t from = s->base ? 0 : EIF_HDR_SIZE; /* the CRC covers what follows the header */
	if (to > from) {
		s->crc = bulk_crc32(s->crc, cur(s) + from, to - from);
		s->crc_len += to - from;
	}
	s->st.crc_ns += cr_mono_ns() - t0;
}

/* The current chunk is full: queue its hashing and its writing, move on to
 * the next slot once the hashers and the writer are done with that one. */
static int next_chunk(struct stream *s, struct cr_err *e)
{
	uint64_t t0, t1;
	queue_hash(s);
	crc_chunk(s, CHUNK);
	s->wtickets[s->slot] = chunk_writer_submit(&s->w, cur(s), CHUNK, s->base);
	s->slot = (s->slot + 1) % SLOTS;
	s->base += CHUNK;
	s->fill = 0;
	s->hash_from = 0;
	t0 = cr_mono_ns();
	if (s->hashing)
		pcr_hasher_wait(&s->h, s->tickets[s->slot]);
	t1 = cr_mono_ns();
	if (chunk_writer_wait(&s->w, s->wtickets[s->slot], e))
		return -1;
	s->st.stall_ns += t1 - t0;
	s->st.disk_wait_ns += cr_mono_ns() - t1;
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
		memcpy(cur(s) + s->fill, src, k);
		s->fill += k;
		src += k;
		n -= k;
		if (s->fill == CHUNK && next_chunk(s, e))
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
		r = read(fd, cur(s) + s->fill, k);
		s->st.read_ns += cr_mono_ns() - t0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cr_failp(e, "%s: read", path);
		if (r == 0)
			return cr_fail(e, "%s: shrank while the image was being packed", path);
		s->fill += (size_t)r;
		n -= (uint64_t)r;
		if (s->fill == CHUNK && next_chunk(s, e))
			return -1;
	}
	return 0;
}

/* Section header: CRC'd and written, never measured. */
static int begin_section(struct stream *s, uint16_t type, unsigned mask, uint64_t size, uint64_t *hdr_off,
			 struct cr_err *e)
{
	uint8_t sh[EIF_SEC_HDR_SIZE];
	*hdr_off = pos(s);
	cr_put_be16(sh, type);
	cr_put_be16(sh + 2, 0);
	cr_put_be64(sh + 4, size);
	set_mask(s, 0);
	if (stream_put(s, sh, sizeof sh, e))
		return -1;
	set_mask(s, mask);
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
	set_mask(s, 0);
	*nsec = n;
	return 0;
}

/* Appended to the stream after hashing (the signature covers the PCRs). */
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
	sec->hdr_off = pos(s);
	cr_put_be16(sh, EIF_SEC_SIGNATURE);
	cr_put_be16(sh + 2, 0);
	cr_put_be64(sh + 4, sig.len);
	rc = stream_put(s, sh, sizeof sh, e) || stream_put(s, sig.p, sig.len, e) ? -1 : 0;
out:
	cr_buf_free(&sig);
	return rc;
}

/* Once the whole chunks are written: the last, partial chunk, buffered (its
 * length is not a multiple of the disk's block; nothing hashes it now). */
static int write_tail(struct stream *s, struct cr_err *e)
{
	int rc;
	s->writing = 0;
	rc = chunk_writer_finish(&s->w, e);
	s->st.write_ns = s->w.busy_ns;
	s->st.direct_bytes = s->w.direct_bytes;
	s->st.sync_ns = s->w.sync.busy_ns;
	if (rc)
		return -1;
	crc_chunk(s, s->fill);
	if (lseek(s->fd, (off_t)s->base, SEEK_SET) < 0)
		return cr_failp(e, "%s: lseek", s->path);
	if (cr_write_all(s->fd, cur(s), s->fill))
		return cr_failp(e, "%s: write", s->path);
	return 0;
}

static int write_header(struct stream *s, const struct eif_write_input *in, const struct planned *sec, int nsec,
			struct cr_err *e)
{
	uint8_t h[EIF_HDR_SIZE];
	uLong crc;
	memset(h, 0, sizeof h);
	memcpy(h, EIF_MAGIC, 4);
	cr_put_be16(h + 4, EIF_VERSION);
	cr_put_be16(h + 6, in->flags);
	cr_put_be64(h + 8, 1ull << 30); /* default_mem: what nitro-cli writes; unused */
	cr_put_be64(h + 16, 2);         /* default_cpus: likewise */
	cr_put_be16(h + 26, (uint16_t)nsec);
	for (int i = 0; i < nsec; i++) {
		cr_put_be64(h + 28 + 8 * i, sec[i].hdr_off);
		cr_put_be64(h + 284 + 8 * i, sec[i].size);
	}
	crc = crc32(0L, h, EIF_HDR_SIZE - 4);
	crc = crc32_combine(crc, s->crc, (z_off_t)s->crc_len);
	cr_put_be32(h + 544, (uint32_t)crc);
	ssize_t w = pwrite(s->fd, h, sizeof h, 0);
	if (w != (ssize_t)sizeof h) {
		if (w >= 0)
			errno = EIO; /* short */
		return cr_failp(e, "%s: write header", s->path);
	}
	return 0;
}

int eif_write(const char *out_path, const struct eif_write_input *in, struct eif_pcrs *pcrs, struct cr_err *e)
{
	struct stream s;
	struct planned sec[EIF_MAX_SECTIONS];
	struct cr_tmpfile tf;
	int nsec = 0, rc = -1;
	uint64_t t0 = cr_mono_ns(), t1;

	if (in->num_ramdisks < 1 || in->num_ramdisks > EIF_MAX_RAMDISKS)
		return cr_fail(e, "internal: %d ramdisks", in->num_ramdisks);
	memset(&s, 0, sizeof s);
	memset(pcrs, 0, sizeof *pcrs);
	if (cr_tmpfile_create(&tf, out_path, e))
		return -1;
	s.fd = tf.fd;
	s.path = out_path;
	s.crc = crc32(0L, Z_NULL, 0);
	/* Aligned for O_DIRECT (the strictest disks ask for 4 KiB), and on
	 * huge pages where the kernel gives them: fewer TLB misses for the
	 * hashers, fewer pages for each direct write to pin. */
	if (posix_memalign((void **)&s.ring, 2u << 20, (size_t)CHUNK * SLOTS)) {
		s.ring = NULL;
		cr_fail(e, "out of memory");
		goto out;
	}
	(void)madvise(s.ring, (size_t)CHUNK * SLOTS, MADV_HUGEPAGE);
	/* The header's place, filled in last (write_header). */
	memset(s.ring, 0, EIF_HDR_SIZE);
	s.fill = s.hash_from = EIF_HDR_SIZE;
	chunk_writer_start(&s.w, s.fd, out_path);
	s.writing = 1;
	if (pcr_hasher_start(&s.h, e))
		goto out;
	s.hashing = 1;
	if (write_all_sections(&s, in, sec, &nsec, e))
		goto out;
	s.hashing = 0;
	if (pcr_hasher_finish(&s.h, pcrs, e))
		goto out;
	if (in->sign) {
		if (write_signature(&s, in, pcrs, &sec[nsec], e))
			goto out;
		nsec++;
	}
	if (write_tail(&s, e) || write_header(&s, in, sec, nsec, e))
		goto out;

	t1 = cr_mono_ns();
	rc = cr_tmpfile_commit(&tf, 0644, e);
	if (rc == 0 && in->stats) {
		s.st.commit_ns = cr_mono_ns() - t1;
		s.st.total_ns = cr_mono_ns() - t0;
		s.st.bytes = pos(&s);
		s.st.sha384_impl = s.h.impl;
		for (int i = 0; i < 2; i++) {
			s.st.hash_busy_ns[i] = s.h.busy_ns[i];
			s.st.hash_cpu_ns[i] = s.h.cpu_ns[i];
		}
		*in->stats = s.st;
	}
out:
	if (s.hashing) {
		struct eif_pcrs discard;
		struct cr_err ignored;
		pcr_hasher_finish(&s.h, &discard, &ignored);
	}
	if (s.writing) {
		struct cr_err ignored;
		chunk_writer_finish(&s.w, &ignored);
	}
	if (rc)
		cr_tmpfile_abort(&tf);
	free(s.ring);
	return rc;
}
