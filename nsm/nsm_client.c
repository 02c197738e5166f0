#include "nsm/nsm_client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* include/uapi/linux/nsm.h, declared here because the build machines'
 * kernel headers predate it (mainline since 6.8). */
struct nsm_iovec {
	uint64_t addr;
	uint64_t len;
};

struct nsm_raw {
	struct nsm_iovec request;
	struct nsm_iovec response;
};

#define NSM_IOCTL_RAW _IOWR(0x0A, 0, struct nsm_raw)
_Static_assert(sizeof(struct nsm_raw) == 32, "struct nsm_raw is 32 bytes");
_Static_assert(NSM_IOCTL_RAW == 0xC0200A00u, "NSM_IOCTL_RAW is 0xC0200A00");

/* glibc declares ioctl(int, unsigned long, ...), musl ioctl(int, int, ...). */
#ifdef __GLIBC__
typedef unsigned long ioctl_req;
#else
typedef int ioctl_req;
#endif

static int dev_transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len,
			 struct cr_err *e)
{
	int fd = (int)(intptr_t)ctx, rc;
	struct nsm_raw raw = {
		.request = { .addr = (uintptr_t)req, .len = req_len },
		.response = { .addr = (uintptr_t)resp, .len = *resp_len },
	};
	do
		rc = ioctl(fd, (ioctl_req)NSM_IOCTL_RAW, &raw);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return cr_failp(e, "NSM: ioctl NSM_IOCTL_RAW");
	if (raw.response.len > *resp_len)
		return cr_fail(e, "NSM: the driver reports a %llu-byte response for a %zu-byte buffer",
			       (unsigned long long)raw.response.len, *resp_len);
	*resp_len = (size_t)raw.response.len;
	return 0;
}

void nsm_client_init(struct nsm_client *c, nsm_transport_fn transport, void *ctx)
{
	c->transport = transport;
	c->ctx = ctx;
	c->fd = -1;
	c->last_error = NSM_SUCCESS;
	c->resp_len = 0;
}

int nsm_open(struct nsm_client *c, const char *path, struct cr_err *e)
{
	int fd = open(path ? path : NSM_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cr_failp(e, "%s", path ? path : NSM_DEVICE);
	nsm_client_init(c, dev_transport, (void *)(intptr_t)fd);
	c->fd = fd;
	return 0;
}

void nsm_close(struct nsm_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int nsm_call(struct nsm_client *c, const struct nsm_request *req, struct nsm_response *resp, struct cr_err *e)
{
	struct cr_buf buf;
	const char *op = nsm_op_name(req->op);
	int rc;
	cr_buf_init(&buf, 2 * NSM_REQUEST_MAX);
	if (nsm_request_encode(req, &buf, e)) {
		cr_buf_free(&buf);
		c->last_error = NSM_INPUT_TOO_LARGE;
		return -1;
	}
	c->resp_len = sizeof c->resp;
	rc = c->transport(c->ctx, buf.p, buf.len, c->resp, &c->resp_len, e);
	cr_buf_free(&buf);
	if (rc) {
		c->last_error = NSM_INTERNAL_ERROR;
		return cr_err_wrap(e, "NSM %s", op);
	}
	if (nsm_response_decode(c->resp, c->resp_len, req->op, resp, e)) {
		c->last_error = NSM_INVALID_RESPONSE;
		return -1;
	}
	c->last_error = resp->error;
	if (resp->error != NSM_SUCCESS)
		return cr_fail(e, "NSM %s: %s", op, resp->error_name);
	return 0;
}

static int copy_out(struct nsm_client *c, const char *op, const struct nsm_bytes *b, uint8_t *dst, size_t cap,
		    size_t *len, struct cr_err *e)
{
	if (b->len > cap) {
		c->last_error = NSM_BUFFER_TOO_SMALL;
		return cr_fail(e, "NSM %s: %zu-byte answer for a %zu-byte buffer", op, b->len, cap);
	}
	memcpy(dst, b->p, b->len);
	*len = b->len;
	return 0;
}

int nsm_describe_nsm(struct nsm_client *c, struct nsm_description *out, struct cr_err *e)
{
	struct nsm_request req = { .op = NSM_OP_DESCRIBE_NSM };
	struct nsm_response resp;
	if (nsm_call(c, &req, &resp, e))
		return -1;
	*out = resp.describe;
	return 0;
}

int nsm_describe_pcr(struct nsm_client *c, uint16_t index, struct nsm_pcr *out, struct cr_err *e)
{
	struct nsm_request req = { .op = NSM_OP_DESCRIBE_PCR, .index = index };
	struct nsm_response resp;
	if (nsm_call(c, &req, &resp, e))
		return -1;
	out->locked = resp.lock;
	return copy_out(c, "DescribePCR", &resp.data, out->value, sizeof out->value, &out->len, e);
}

int nsm_extend_pcr(struct nsm_client *c, uint16_t index, const uint8_t *data, size_t len, struct nsm_pcr *out,
		   struct cr_err *e)
{
	struct nsm_request req = { .op = NSM_OP_EXTEND_PCR, .index = index, .data = { data, len } };
	struct nsm_response resp;
	if (nsm_call(c, &req, &resp, e))
		return -1;
	if (!out)
		return 0;
	out->locked = 0;
	return copy_out(c, "ExtendPCR", &resp.data, out->value, sizeof out->value, &out->len, e);
}

int nsm_lock_pcr(struct nsm_client *c, uint16_t index, struct cr_err *e)
{
	struct nsm_request req = { .op = NSM_OP_LOCK_PCR, .index = index };
	struct nsm_response resp;
	return nsm_call(c, &req, &resp, e);
}

int nsm_lock_pcrs(struct nsm_client *c, uint16_t range, struct cr_err *e)
{
	struct nsm_request req = { .op = NSM_OP_LOCK_PCRS, .range = range };
	struct nsm_response resp;
	return nsm_call(c, &req, &resp, e);
}

int nsm_get_random(struct nsm_client *c, uint8_t *buf, size_t cap, size_t *len, struct cr_err *e)
{
	struct nsm_request req = { .op = NSM_OP_GET_RANDOM };
	struct nsm_response resp;
	if (nsm_call(c, &req, &resp, e))
		return -1;
	/* Fewer bytes than asked for is fine; more are cut, not an error. */
	if (resp.random.len > cap)
		resp.random.len = cap;
	return copy_out(c, "GetRandom", &resp.random, buf, cap, len, e);
}

int nsm_attestation(struct nsm_client *c, const struct nsm_opt_bytes *user_data, const struct nsm_opt_bytes *nonce,
		    const struct nsm_opt_bytes *public_key, uint8_t *doc, size_t cap, size_t *len, struct cr_err *e)
{
	static const struct nsm_opt_bytes none;
	struct nsm_request req = {
		.op = NSM_OP_ATTESTATION,
		.user_data = user_data ? *user_data : none,
		.nonce = nonce ? *nonce : none,
		.public_key = public_key ? *public_key : none,
	};
	struct nsm_response resp;
	if (nsm_call(c, &req, &resp, e))
		return -1;
	return copy_out(c, "Attestation", &resp.document, doc, cap, len, e);
}
