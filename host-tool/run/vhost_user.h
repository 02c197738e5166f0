/* vhost-user back-end, control plane (QEMU docs/interop/vhost-user.rst).
 *
 * We listen on a Unix socket; QEMU (the front-end) connects and sends
 * requests. Exactly the requests QEMU sends to a vhost-user-vsock-device are
 * served:
 *   GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER,
 *   GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM,
 *   SET_MEM_TABLE, SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE,
 *   GET_VRING_BASE, SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR,
 *   SET_VRING_ENABLE, GET_CONFIG;
 * with protocol features MQ, REPLY_ACK and CONFIG (the vsock device
 * requires CONFIG: it reads the guest CID with GET_CONFIG). Requests that
 * are gated by features we do not offer (logging, postcopy, inflight
 * tracking, memory slots, in-band notifications, status...) are refused:
 * NACKed when QEMU asked for an acknowledgement, and an unknown request
 * type drops the connection, since its reply format cannot be guessed.
 *
 * A queue runs when it has memory, a size, addresses, a kick fd, and has
 * been enabled; the device is told (queue_state) each time a queue starts
 * or stops, and must scan a starting queue at once: the guest may have
 * kicked before the queue was enabled. GET_VRING_BASE stops a queue. */
#ifndef CLEANROOM_VHOST_USER_H
#define CLEANROOM_VHOST_USER_H

#include <stdint.h>

#include "host-tool/run/evloop.h"
#include "host-tool/run/guest_mem.h"
#include "base/util.h"
#include "host-tool/run/virtq.h"

#define VU_MAX_QUEUES 2
#define VU_MAX_CONFIG 256

/* Virtio feature bits used here (VIRTIO 1.x §6, vhost-user.rst). */
#define VU_F_VERSION_1 32
#define VU_F_PROTOCOL_FEATURES 30

struct vu_ops {
	uint64_t device_features; /* device-specific feature bits offered */
	unsigned nqueues;         /* queues the back-end serves, <= VU_MAX_QUEUES */
	/* Fill [off, off+len) of the device config space; -1 if out of range. */
	int (*get_config)(void *ctx, uint32_t off, uint8_t *buf, uint32_t len);
	/* Queue idx started (1: scan it now) or stopped (0). */
	void (*queue_state)(void *ctx, unsigned idx, int running);
	/* The guest kicked queue idx. */
	void (*queue_kick)(void *ctx, unsigned idx);
	/* QEMU closed the connection (all queues were stopped before). */
	void (*disconnected)(void *ctx);
	/* One line for the operator (warnings). */
	void (*log)(void *ctx, const char *msg);
};

struct vu_dev;

struct vu_vring {
	struct vu_dev *dev;
	unsigned idx;
	struct virtq vq;
	unsigned num;
	uint64_t desc, avail, used; /* QEMU addresses */
	int have_addr;
	uint16_t base;       /* next available slot while stopped */
	int kick_fd, err_fd; /* the call fd lives in vq.call_fd */
	int started;         /* a kick fd arrived and no GET_VRING_BASE since */
	int enabled;
	int err_signalled;
	struct evsrc kick_src;
};

struct vu_dev {
	struct evloop *loop;
	const struct vu_ops *ops;
	void *ctx;
	int listen_fd;
	struct evsrc listen_src;
	int fd; /* the connection with QEMU, -1 when none */
	struct evsrc src;
	uint64_t features, protocol_features;
	struct guest_mem mem;
	struct vu_vring vr[VU_MAX_QUEUES];
	unsigned long requests; /* served, for tests and logs */
};

/* Prepare d (no sockets yet). */
void vu_dev_init(struct vu_dev *d, struct evloop *loop, const struct vu_ops *ops, void *ctx);
/* Listen on the Unix socket path (created here, owner only) and serve one
 * QEMU connection at a time. */
int vu_dev_listen(struct vu_dev *d, const char *path, struct cr_err *e);
/* Serve an already connected socket (tests, socketpair). */
int vu_dev_attach(struct vu_dev *d, int fd, struct cr_err *e);
/* Drop the connection: stop every queue, unmap memory, close fds. */
void vu_dev_disconnect(struct vu_dev *d);
/* Disconnect and close the listening socket (the path is not unlinked). */
void vu_dev_free(struct vu_dev *d);

/* The queue if it is running, else NULL. */
struct virtq *vu_queue(struct vu_dev *d, unsigned idx);
/* Tell QEMU (SET_VRING_ERR fd) that the guest broke queue idx; once. */
void vu_queue_error(struct vu_dev *d, unsigned idx);

#endif
