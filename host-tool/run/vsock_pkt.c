/* virtio-vsock packet headers (see vsock_pkt.h). */
#include "host-tool/run/vsock_pkt.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_SIZE, "virtio_vsock_hdr is 44 bytes");

int vsock_pkt_parse(const struct virtq_elem *el, struct vsock_hdr *h, struct cr_err *e)
{
	struct virtio_vsock_hdr w;

	if (el->n_in)
		return cr_fail(e, "TX chain %u has writable buffers", el->head);
	if (virtq_elem_read(el, 0, &w, sizeof w) != sizeof w)
		return cr_fail(e, "TX chain %u holds %zu bytes, less than a packet header", el->head, el->out_len);
	h->src_cid = le64toh(w.src_cid);
	h->dst_cid = le64toh(w.dst_cid);
	h->src_port = le32toh(w.src_port);
	h->dst_port = le32toh(w.dst_port);
	h->len = le32toh(w.len);
	h->type = le16toh(w.type);
	h->op = le16toh(w.op);
	h->flags = le32toh(w.flags);
	h->buf_alloc = le32toh(w.buf_alloc);
	h->fwd_cnt = le32toh(w.fwd_cnt);
	if (h->len > VSOCK_MAX_PAYLOAD)
		return cr_fail(e, "packet from port %u: payload length %u exceeds %u", h->src_port, h->len,
			       VSOCK_MAX_PAYLOAD);
	if (h->len > el->out_len - VSOCK_HDR_SIZE)
		return cr_fail(e, "packet from port %u: payload length %u but the chain carries %zu bytes", h->src_port,
			       h->len, el->out_len - VSOCK_HDR_SIZE);
	if (h->op != VIRTIO_VSOCK_OP_RW && h->len != 0)
		return cr_fail(e, "packet from port %u: op %u carries %u payload bytes", h->src_port, h->op, h->len);
	return 0;
}

int vsock_pkt_put_hdr(const struct virtq_elem *el, const struct vsock_hdr *h)
{
	struct virtio_vsock_hdr w = {
		.src_cid = htole64(h->src_cid),
		.dst_cid = htole64(h->dst_cid),
		.src_port = htole32(h->src_port),
		.dst_port = htole32(h->dst_port),
		.len = htole32(h->len),
		.type = htole16(h->type),
		.op = htole16(h->op),
		.flags = htole32(h->flags),
		.buf_alloc = htole32(h->buf_alloc),
		.fwd_cnt = htole32(h->fwd_cnt),
	};
	return virtq_elem_write(el, 0, &w, sizeof w) == sizeof w ? 0 : -1;
}

const char *vsock_op_name(uint16_t op, char *buf, size_t n)
{
	static const char *const names[] = { "INVALID",  "REQUEST", "RESPONSE",      "RST",
					     "SHUTDOWN", "RW",      "CREDIT_UPDATE", "CREDIT_REQUEST" };
	if (op < sizeof names / sizeof names[0])
		return names[op];
	snprintf(buf, n, "op %u", op);
	return buf;
}
