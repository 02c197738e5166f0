// SPDX-License-Identifier: GPL-2.0
/*
 * Guest NSM shim for local enclaves (cleanroom).
 *
 * On Nitro hardware the Nitro Secure Module is a virtio device and the
 * in-tree driver (drivers/misc/nsm.c) exposes it as /dev/nsm. QEMU here has
 * no such device, so this module offers the same /dev/nsm ABI and forwards
 * each raw request to a host-side NSM model over AF_VSOCK:
 *
 *   connect to cid:port (default 2:9100), one connection per request;
 *   send    u32 big-endian length, then the request bytes (<= 0x1000);
 *   receive u32 big-endian length (<= 0x3000), then the response bytes;
 *   close.
 *
 * The ioctl behaves like the real driver's: NSM_IOCTL_RAW only (else
 * -EINVAL), request longer than 0x1000 -> -EMSGSIZE, bad user pointer ->
 * -EFAULT, transport failure -> -EIO, no answer within 120 s -> -ETIMEDOUT,
 * one request at a time, and a response longer than the caller's buffer is
 * truncated silently (response.len says how much was copied).
 * NSM-level errors are a successful ioctl with a CBOR {"Error": ...} body,
 * produced by the host model, not here.
 */
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vm_sockets.h>
#include <net/af_vsock.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <uapi/linux/nsm.h>

/* Same budget as the real driver's virtqueue wait. */
#define NSM_SHIM_TIMEOUT_MS 120000

static unsigned int cid = VMADDR_CID_HOST;
module_param(cid, uint, 0444);
MODULE_PARM_DESC(cid, "vsock CID of the host NSM model (default 2, the host)");

static unsigned int port = 9100;
module_param(port, uint, 0444);
MODULE_PARM_DESC(port, "vsock port of the host NSM model (default 9100)");

/*
 * One request in flight at a time (as in the real driver), so one set of
 * buffers, guarded by nsm_lock.
 */
static DEFINE_MUTEX(nsm_lock);
static u8 nsm_req[NSM_REQUEST_MAX_SIZE];
static u8 nsm_resp[NSM_RESPONSE_MAX_SIZE];

/* Jiffies left until @deadline, or 0 when it has passed. */
static long time_left(unsigned long deadline)
{
	long left = (long)(deadline - jiffies);

	return left > 0 ? left : 0;
}

/*
 * Send or receive exactly @len bytes before @deadline.
 * Returns 0, -ETIMEDOUT, -EINTR (signal) or -EIO (anything else, including
 * the peer closing early).
 */
static int nsm_xfer(struct socket *sock, void *buf, size_t len, bool send,
		    unsigned long deadline)
{
	while (len) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
		struct kvec iov = { .iov_base = buf, .iov_len = len };
		long left = time_left(deadline);
		int n;

		if (!left)
			return -ETIMEDOUT;
		if (send) {
			sock->sk->sk_sndtimeo = left;
			n = kernel_sendmsg(sock, &msg, &iov, 1, len);
		} else {
			sock->sk->sk_rcvtimeo = left;
			n = kernel_recvmsg(sock, &msg, &iov, 1, len, 0);
		}
		if (n == -EAGAIN || n == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (n == -EINTR || n == -ERESTARTSYS)
			return -EINTR;
		if (n <= 0)
			return -EIO;
		buf = (u8 *)buf + n;
		len -= n;
	}
	return 0;
}

/*
 * One exchange with the host model: nsm_req[0..req_len) out, the answer into
 * nsm_resp. Stores the response length in *resp_len. Caller holds nsm_lock.
 */
static int nsm_exchange(u32 req_len, u32 *resp_len)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(NSM_SHIM_TIMEOUT_MS);
	struct sockaddr_vm addr = {
		.svm_family = AF_VSOCK,
		.svm_cid = cid,
		.svm_port = port,
	};
	struct socket *sock;
	__be32 hdr;
	u32 len;
	int rc;

	rc = sock_create_kern(&init_net, AF_VSOCK, SOCK_STREAM, 0, &sock);
	if (rc)
		return -EIO;

	vsock_sk(sock->sk)->connect_timeout = time_left(deadline);
	rc = kernel_connect(sock, (struct sockaddr *)&addr, sizeof(addr), 0);
	if (rc) {
		pr_debug("nsm: connect to %u:%u failed: %d\n", cid, port, rc);
		rc = rc == -ETIMEDOUT ? -ETIMEDOUT : rc == -EINTR ? -EINTR : -EIO;
		goto out;
	}

	hdr = cpu_to_be32(req_len);
	rc = nsm_xfer(sock, &hdr, sizeof(hdr), true, deadline);
	if (!rc)
		rc = nsm_xfer(sock, nsm_req, req_len, true, deadline);
	if (!rc)
		rc = nsm_xfer(sock, &hdr, sizeof(hdr), false, deadline);
	if (rc)
		goto out;

	len = be32_to_cpu(hdr);
	if (len > sizeof(nsm_resp)) {
		pr_warn_ratelimited("nsm: host model answered %u bytes (limit %zu)\n",
				    len, sizeof(nsm_resp));
		rc = -EIO;
		goto out;
	}
	rc = nsm_xfer(sock, nsm_resp, len, false, deadline);
	if (!rc)
		*resp_len = len;
out:
	sock_release(sock);
	return rc;
}

static long nsm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = u64_to_user_ptr((u64)arg);
	struct nsm_raw raw;
	u32 resp_len = 0;
	long rc;

	if (cmd != NSM_IOCTL_RAW)
		return -EINVAL;
	if (copy_from_user(&raw, argp, sizeof(raw)))
		return -EFAULT;

	mutex_lock(&nsm_lock);
	rc = -EMSGSIZE;
	if (raw.request.len > sizeof(nsm_req))
		goto out;
	rc = -EFAULT;
	if (copy_from_user(nsm_req, u64_to_user_ptr(raw.request.addr),
			   raw.request.len))
		goto out;

	rc = nsm_exchange(raw.request.len, &resp_len);
	if (rc)
		goto out;

	/* Silent truncation, as the real driver does. */
	raw.response.len = min_t(u64, raw.response.len, resp_len);
	rc = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(raw.response.addr), nsm_resp,
			 raw.response.len))
		goto out;
	if (copy_to_user(argp, &raw, sizeof(raw)))
		goto out;
	rc = 0;
out:
	mutex_unlock(&nsm_lock);
	return rc;
}

static const struct file_operations nsm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = nsm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice nsm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nsm",
	.fops = &nsm_fops,
	.mode = 0666,
};

static int __init nsm_shim_init(void)
{
	int rc = misc_register(&nsm_misc);

	if (rc)
		return rc;
	pr_info("nsm: local shim, requests go to vsock %u:%u\n", cid, port);
	return 0;
}

static void __exit nsm_shim_exit(void)
{
	misc_deregister(&nsm_misc);
}

module_init(nsm_shim_init);
module_exit(nsm_shim_exit);

MODULE_DESCRIPTION("NSM /dev/nsm shim forwarding to a host model over vsock (local enclaves)");
MODULE_LICENSE("GPL");
