/* virtio-vsock packets (VIRTIO 1.2 §5.10.6): the 44-byte little-endian
 * header, read from and written to virtqueue chains with every length
 * checked against what the guest actually provided. */
#ifndef CLEANROOM_VSOCK_PKT_H
#define CLEANROOM_VSOCK_PKT_H

#include <linux/virtio_vsock.h>
#include <stdint.h>

#include "base/util.h"
#include "host-tool/run/virtq.h"
#include "vsock/vsock.h" /* VSOCK_CID_HOST, VSOCK_CID_PARENT */

#define VSOCK_HDR_SIZE 44
/* Largest payload one packet may carry (Linux VIRTIO_VSOCK_MAX_PKT_BUF_SIZE). */
#define VSOCK_MAX_PAYLOAD (64u * 1024)

/* The header in host byte order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
};

/* Read and check the header of a guest TX chain: the chain must hold the
 * header and `len` payload bytes, len <= VSOCK_MAX_PAYLOAD. */
int vsock_pkt_parse(const struct virtq_elem *el, struct vsock_hdr *h, struct cr_err *e);
/* Write h into the writable part of an RX chain; -1 if it is too small. */
int vsock_pkt_put_hdr(const struct virtq_elem *el, const struct vsock_hdr *h);
/* Name of an op for messages ("RW", "RST", ..., "op 9"). */
const char *vsock_op_name(uint16_t op, char *buf, size_t n);

#endif
