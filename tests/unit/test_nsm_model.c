/* The host NSM model (host-tool/run/nsm_model.c, nsm_service.c, nsm_ca.c),
 * driven the way the guest shim drives it: the run service is started on a
 * Unix socket inside an event loop, and every request is one connection
 * carrying a 4-byte big-endian length + the raw CBOR request, answered with
 * 4-byte length + raw response (kernel-config/nsm-shim/README.md). Typed calls go through
 * nsm/nsm_client with that framing as its transport.
 *
 * Covers every operation, errors by name (InvalidIndex, ReadOnlyIndex,
 * InvalidOperation, InvalidArgument, InputTooLarge), ExtendPCR's math,
 * LockPCR/LockPCRs boundaries, attestation documents that att_verify()
 * accepts against the test root (PCRs, nonce, user_data, public_key, nulls),
 * oversize and malformed requests, stalled and excess connections, the
 * --nsm-ca directory rules, and that stop leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/bytes.h"
#include "nsm/attest_verify.h"
#include "tests/unit/check.h"
#include "host-tool/run/evloop.h"
#include "host-tool/run/nsm_ca.h"
#include "nsm/nsm_client.h"
#include "host-tool/run/nsm_model.h"
#include "base/pem.h"
#include "base/unix_sock.h"

static char tmp[256], sock_path[400];
static struct evloop loop;
static struct eif_pcrs pcrs;
static void *svc;
static struct att_verified ver; /* ~30 KiB */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pump(int ms)
{
	struct cr_err e;
	uint64_t until = now_ms() + (uint64_t)ms;
	do
		evloop_run_once(&loop, 5, &e);
	while (now_ms() < until);
}

/* Read from fd (non-blocking) while pumping the loop, until EOF or limit
 * bytes or timeout_ms. Returns the bytes read; *eof says whether the
 * service closed its end. */
static size_t drain(int fd, uint8_t *buf, size_t cap, int timeout_ms, int *eof)
{
	uint64_t until = now_ms() + (uint64_t)timeout_ms;
	size_t got = 0;
	struct cr_err e;
	*eof = 0;
	while (now_ms() < until) {
		ssize_t r = recv(fd, buf + got, cap - got, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			*eof = 1;
			break;
		}
		if (r > 0) {
			got += (size_t)r;
			if (got == cap)
				break;
			continue;
		}
		evloop_run_once(&loop, 5, &e);
	}
	return got;
}

static int connect_svc(void)
{
	struct cr_err e;
	return unix_sock_connect(sock_path, 1, &e);
}

/* One framed exchange: 0 with the response in resp/resp_len, -1 otherwise.
 * `announce` is the length put in the header (normally len). */
static int exchange(const uint8_t *req, size_t len, uint32_t announce, uint8_t *resp, size_t *resp_len)
{
	static uint8_t in[4 + NSM_RESPONSE_MAX + 16];
	uint8_t hdr[4];
	size_t got;
	uint32_t r;
	int eof, fd = connect_svc();
	if (fd < 0)
		return -1;
	cr_put_be32(hdr, announce);
	if (cr_write_all(fd, hdr, 4) || (len && cr_write_all(fd, req, len))) {
		close(fd);
		return -1;
	}
	got = drain(fd, in, sizeof in, 5000, &eof);
	close(fd);
	if (got < 4 || !eof)
		return -1;
	r = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	if (r > NSM_RESPONSE_MAX || got != 4 + r)
		return -1;
	memcpy(resp, in + 4, r);
	*resp_len = r;
	return 0;
}

static int transport(void *ctx, const uint8_t *req, size_t req_len, uint8_t *resp, size_t *resp_len, struct cr_err *e)
{
	(void)ctx;
	if (exchange(req, req_len, (uint32_t)req_len, resp, resp_len))
		return cr_fail(e, "framed exchange failed");
	return 0;
}

static struct nsm_client cl;

/* The error name a raw request gets ("" when it is no error response). */
static const char *raw_error(const uint8_t *req, size_t len, uint32_t announce)
{
	static uint8_t resp[NSM_RESPONSE_MAX];
	static struct nsm_response rs;
	struct cr_err e;
	size_t n;
	if (exchange(req, len, announce, resp, &n) || nsm_response_decode(resp, n, NSM_OP_DESCRIBE_NSM, &rs, &e))
		return "(no valid answer)";
	return rs.error == NSM_SUCCESS ? "" : rs.error_name;
}

/* raw_error() of a string literal, sent whole. */
#define RAW(lit) raw_error((const uint8_t *)(lit), sizeof(lit) - 1, sizeof(lit) - 1)

static const char *last_error(void)
{
	return nsm_error_name(cl.last_error);
}

static void sha384_cat(const uint8_t *a, size_t na, const uint8_t *b, size_t nb, uint8_t out[48])
{
	br_sha384_context h;
	br_sha384_init(&h);
	br_sha384_update(&h, a, na);
	br_sha384_update(&h, b, nb);
	br_sha384_out(&h, out);
}

/* The boot id the service is started with (a fixed one: the tests derive
 * the module id from it). */
static const uint8_t test_boot_id[RUN_BOOT_ID_LEN] = { 1, 2, 3 };

static int start_service(const char *ca_dir, struct cr_err *e)
{
	struct run_enclave enc = {
		.eif_path = "test.eif", .pcrs = &pcrs, .cid = 16, .nsm_ca_dir = ca_dir, .run_dir = tmp
	};
	memcpy(enc.boot_id, test_boot_id, sizeof enc.boot_id);
	return nsm_model_service.start(&loop, sock_path, &enc, &svc, e);
}

/* ------------------------------------------------------------ operations */

static void test_describe_nsm(void)
{
	struct nsm_description d;
	struct cr_err e;
	char want[NSM_MODEL_ID_LEN + 1];
	int shape = 1;

	T_OK(nsm_describe_nsm(&cl, &d, &e) == 0, "DescribeNSM answers");
	T_OK(d.version_major == 1 && d.version_minor == 0 && d.version_patch == 0, "DescribeNSM: version 1.0.0");
	T_OK(d.max_pcrs == 32 && !strcmp(d.digest, "SHA384"), "DescribeNSM: max_pcrs 32, digest SHA384");
	T_OK(d.n_locked == 16, "DescribeNSM: 16 PCRs locked at start");
	for (size_t i = 0; i < d.n_locked; i++)
		shape &= d.locked_pcrs[i] == i;
	T_OK(shape, "DescribeNSM: locked_pcrs = 0..15, sorted");
	nsm_model_module_id(&pcrs, 16, test_boot_id, want);
	T_STR(d.module_id, want, "DescribeNSM: module_id derived from the EIF, the CID and the boot id");
	shape = strlen(d.module_id) == 39 && !strncmp(d.module_id, "i-0", 3) && !strncmp(d.module_id + 19, "-enc", 4);
	for (int i = 3; i < 39; i++)
		if (i < 19 || i >= 23)
			shape &= strchr("0123456789abcdef", d.module_id[i]) != NULL && d.module_id[i];
	T_OK(shape, "module_id has the shape i-0<16 hex>-enc<16 hex> (%s)", d.module_id);
	{
		struct eif_pcrs other = pcrs;
		char a[NSM_MODEL_ID_LEN + 1], b[NSM_MODEL_ID_LEN + 1];
		other.pcr2[0] ^= 1;
		uint8_t boot2[RUN_BOOT_ID_LEN] = { 1, 2, 4 };
		char c[NSM_MODEL_ID_LEN + 1];
		nsm_model_module_id(&other, 16, test_boot_id, a);
		nsm_model_module_id(&pcrs, 17, test_boot_id, b);
		nsm_model_module_id(&pcrs, 16, boot2, c);
		T_OK(strcmp(a, want) && strcmp(b, want) && !strncmp(a, want, 19) && !strncmp(b, want, 19),
		     "module_id: another EIF or CID changes the enclave part, not the parent part");
		T_OK(strcmp(c, want) && !strncmp(c, want, 19),
		     "module_id: another boot of the same EIF on the same CID is another enclave (same parent)");
	}
}

static void test_describe_pcr(void)
{
	static const uint8_t zero[48];
	struct nsm_pcr p;
	struct cr_err e;
	uint8_t want4[48];
	char inst[32];

	T_OK(nsm_describe_pcr(&cl, 0, &p, &e) == 0 && p.locked && p.len == 48 && !memcmp(p.value, pcrs.pcr0, 48),
	     "DescribePCR 0 = the EIF's PCR0, locked");
	T_OK(nsm_describe_pcr(&cl, 1, &p, &e) == 0 && p.locked && !memcmp(p.value, pcrs.pcr1, 48),
	     "DescribePCR 1 = the EIF's PCR1, locked");
	T_OK(nsm_describe_pcr(&cl, 2, &p, &e) == 0 && p.locked && !memcmp(p.value, pcrs.pcr2, 48),
	     "DescribePCR 2 = the EIF's PCR2, locked");
	T_OK(nsm_describe_pcr(&cl, 8, &p, &e) == 0 && p.locked && !memcmp(p.value, pcrs.pcr8, 48),
	     "DescribePCR 8 = the EIF's PCR8 (signed image), locked");
	T_OK(nsm_describe_pcr(&cl, 3, &p, &e) == 0 && p.locked && !memcmp(p.value, zero, 48),
	     "DescribePCR 3 (no parent IAM role) is zero, locked");
	snprintf(inst, sizeof inst, "%.19s", nsm_service_model(svc)->module_id);
	sha384_cat(zero, 48, (const uint8_t *)inst, strlen(inst), want4);
	T_OK(nsm_describe_pcr(&cl, 4, &p, &e) == 0 && p.locked && !memcmp(p.value, want4, 48),
	     "DescribePCR 4 = SHA384(0^48 || \"%s\"), the parent instance id, as Nitro", inst);
	T_OK(nsm_describe_pcr(&cl, 15, &p, &e) == 0 && p.locked && !memcmp(p.value, zero, 48),
	     "DescribePCR 15: zero, locked");
	T_OK(nsm_describe_pcr(&cl, 16, &p, &e) == 0 && !p.locked && !memcmp(p.value, zero, 48),
	     "DescribePCR 16: zero, unlocked");
	T_OK(nsm_describe_pcr(&cl, 31, &p, &e) == 0 && !p.locked, "DescribePCR 31: the last PCR");
	T_OK(nsm_describe_pcr(&cl, 32, &p, &e) == -1, "DescribePCR 32 fails");
	T_STR(last_error(), "InvalidIndex", "DescribePCR 32: InvalidIndex");
	T_OK(nsm_describe_pcr(&cl, 65535, &p, &e) == -1 && cl.last_error == NSM_INVALID_INDEX,
	     "DescribePCR 65535: InvalidIndex");
}

static void test_extend(void)
{
	static const uint8_t zero[48];
	static const uint8_t d1[] = "first measurement", d2[] = { 0, 1, 2, 3 };
	uint8_t want[48], before[48];
	struct nsm_pcr p, q;
	struct cr_err e;

	sha384_cat(zero, 48, d1, sizeof d1 - 1, want);
	T_OK(nsm_extend_pcr(&cl, 16, d1, sizeof d1 - 1, &p, &e) == 0 && p.len == 48 && !memcmp(p.value, want, 48),
	     "ExtendPCR 16: SHA384(0^48 || data)");
	memcpy(before, want, 48);
	sha384_cat(before, 48, d2, sizeof d2, want);
	T_OK(nsm_extend_pcr(&cl, 16, d2, sizeof d2, &p, &e) == 0 && !memcmp(p.value, want, 48),
	     "ExtendPCR 16 again: SHA384(old || data)");
	T_OK(nsm_describe_pcr(&cl, 16, &q, &e) == 0 && !memcmp(q.value, want, 48) && !q.locked,
	     "DescribePCR 16 shows the extended value");
	memcpy(before, want, 48);
	sha384_cat(before, 48, NULL, 0, want);
	T_OK(nsm_extend_pcr(&cl, 16, NULL, 0, &p, &e) == 0 && !memcmp(p.value, want, 48),
	     "ExtendPCR with empty data: SHA384(old)");
	sha384_cat(zero, 48, d2, sizeof d2, want);
	T_OK(nsm_extend_pcr(&cl, 31, d2, sizeof d2, &p, &e) == 0 && !memcmp(p.value, want, 48), "ExtendPCR 31");

	T_OK(nsm_extend_pcr(&cl, 0, d1, 4, NULL, &e) == -1, "ExtendPCR 0 (locked) fails");
	T_STR(last_error(), "ReadOnlyIndex", "ExtendPCR 0: ReadOnlyIndex");
	T_OK(nsm_extend_pcr(&cl, 15, d1, 4, NULL, &e) == -1 && cl.last_error == NSM_READ_ONLY_INDEX,
	     "ExtendPCR 15: ReadOnlyIndex");
	T_OK(nsm_describe_pcr(&cl, 0, &q, &e) == 0 && !memcmp(q.value, pcrs.pcr0, 48),
	     "a refused extend leaves PCR0 unchanged");
	T_OK(nsm_extend_pcr(&cl, 32, d1, 4, NULL, &e) == -1, "ExtendPCR 32 fails");
	T_STR(last_error(), "InvalidIndex", "ExtendPCR 32: InvalidIndex");
}

static void test_lock(void)
{
	struct nsm_pcr p;
	struct cr_err e;

	T_OK(nsm_lock_pcr(&cl, 16, &e) == 0, "LockPCR 16");
	T_OK(nsm_describe_pcr(&cl, 16, &p, &e) == 0 && p.locked, "DescribePCR 16: now locked");
	T_OK(nsm_extend_pcr(&cl, 16, (const uint8_t *)"x", 1, NULL, &e) == -1, "ExtendPCR 16 after the lock fails");
	T_STR(last_error(), "ReadOnlyIndex", "ExtendPCR on a PCR locked by LockPCR: ReadOnlyIndex");
	T_OK(nsm_lock_pcr(&cl, 16, &e) == -1 && cl.last_error == NSM_READ_ONLY_INDEX,
	     "LockPCR 16 twice: ReadOnlyIndex");
	T_OK(nsm_lock_pcr(&cl, 5, &e) == -1, "LockPCR 5 (locked at start) fails");
	T_STR(last_error(), "ReadOnlyIndex", "LockPCR 5: ReadOnlyIndex");
	T_OK(nsm_lock_pcr(&cl, 32, &e) == -1, "LockPCR 32 fails");
	T_STR(last_error(), "InvalidIndex", "LockPCR 32: InvalidIndex");
}

static void test_lock_range(void)
{
	struct nsm_description d;
	struct nsm_pcr p;
	struct cr_err e;
	int all = 1;

	T_OK(nsm_lock_pcrs(&cl, 33, &e) == -1, "LockPCRs 33 (max_pcrs + 1) fails");
	T_STR(last_error(), "InvalidIndex", "LockPCRs 33: InvalidIndex");
	T_OK(nsm_describe_pcr(&cl, 17, &p, &e) == 0 && !p.locked, "a refused LockPCRs locks nothing");
	T_OK(nsm_lock_pcrs(&cl, 0, &e) == 0 && nsm_describe_pcr(&cl, 17, &p, &e) == 0 && !p.locked,
	     "LockPCRs 0: nothing to lock, succeeds");
	T_OK(nsm_lock_pcrs(&cl, 18, &e) == 0 && nsm_describe_pcr(&cl, 17, &p, &e) == 0 && p.locked &&
		     nsm_describe_pcr(&cl, 18, &p, &e) == 0 && !p.locked,
	     "LockPCRs 18 locks [0, 18), locked ones included without error");
	T_OK(nsm_lock_pcrs(&cl, 32, &e) == 0, "LockPCRs 32 (max_pcrs) succeeds");
	T_OK(nsm_describe_nsm(&cl, &d, &e) == 0 && d.n_locked == 32, "DescribeNSM: all 32 locked");
	for (size_t i = 0; i < d.n_locked; i++)
		all &= d.locked_pcrs[i] == i;
	T_OK(all, "DescribeNSM: locked_pcrs = 0..31, sorted");
	T_OK(nsm_extend_pcr(&cl, 31, (const uint8_t *)"x", 1, NULL, &e) == -1 && cl.last_error == NSM_READ_ONLY_INDEX,
	     "ExtendPCR 31 after LockPCRs 32: ReadOnlyIndex");
}

static void test_random(void)
{
	uint8_t a[512], b[512];
	size_t na = 0, nb = 0;
	struct cr_err e;
	int ok = nsm_get_random(&cl, a, sizeof a, &na, &e) == 0;
	T_OK(ok && na == 256, "GetRandom: 256 bytes (%zu)", na);
	T_OK(nsm_get_random(&cl, b, sizeof b, &nb, &e) == 0 && nb == 256 && memcmp(a, b, 256),
	     "GetRandom: two calls differ");
}

/* ------------------------------------------------------------ attestation */

static struct pem_list root_pem, int_pem;

static void policy_init(struct att_policy *pol)
{
	memset(pol, 0, sizeof *pol);
	pol->root_der = root_pem.obj[0].der;
	pol->root_len = root_pem.obj[0].len;
}

static void expect_pcr(struct att_policy *pol, unsigned i, const uint8_t *v)
{
	pol->pcrs[pol->n_pcrs].index = i;
	memcpy(pol->pcrs[pol->n_pcrs].value, v, 48);
	pol->pcrs[pol->n_pcrs++].len = 48;
}

static void test_attestation(void)
{
	static uint8_t doc[NSM_RESPONSE_MAX], ud[1025], nonce[1025], pk[1025];
	struct nsm_opt_bytes o_ud, o_nonce, o_pk;
	struct att_policy pol;
	struct nsm_pcr p16;
	struct cr_err e;
	size_t len = 0;
	uint64_t t0, t1;
	struct timespec ts;
	int ok;

	if (pem_read_file(nsm_service_root(svc), &root_pem, &e)) {
		T_OK(0, "read the test root: %s", e.msg);
		return;
	}
	{
		char p[600];
		snprintf(p, sizeof p, "%s/nsm-ca/intermediate.pem", tmp);
		T_OK(pem_read_file(p, &int_pem, &e) == 0 && int_pem.n == 1, "the run's CA has one intermediate");
	}
	nsm_describe_pcr(&cl, 16, &p16, &e);
	for (size_t i = 0; i < sizeof ud; i++) {
		ud[i] = (uint8_t)i;
		nonce[i] = (uint8_t)(i * 3);
		pk[i] = (uint8_t)(i * 7);
	}
	o_ud = (struct nsm_opt_bytes){ 1, ud, 40 };
	o_nonce = (struct nsm_opt_bytes){ 1, nonce, 32 };
	o_pk = (struct nsm_opt_bytes){ 1, pk, 97 };
	clock_gettime(CLOCK_REALTIME, &ts);
	t0 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	ok = nsm_attestation(&cl, &o_ud, &o_nonce, &o_pk, doc, sizeof doc, &len, &e) == 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	t1 = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	T_OK(ok, "Attestation with user_data, nonce and public_key (%zu bytes)", len);
	T_OK(len > 4 && !memcmp(doc, "\x84\x44\xa1\x01\x38\x22\xa0", 7),
	     "the document is an untagged COSE_Sign1, protected {1: -35}, unprotected {}");
	policy_init(&pol);
	expect_pcr(&pol, 0, pcrs.pcr0);
	expect_pcr(&pol, 1, pcrs.pcr1);
	expect_pcr(&pol, 2, pcrs.pcr2);
	expect_pcr(&pol, 8, pcrs.pcr8);
	expect_pcr(&pol, 16, p16.value);
	pol.user_data = (struct att_expect_bytes){ 1, ud, 40 };
	pol.nonce = (struct att_expect_bytes){ 1, nonce, 32 };
	pol.public_key = (struct att_expect_bytes){ 1, pk, 97 };
	ok = att_verify(doc, len, &pol, &ver, &e) == 0;
	T_OK(ok, "att_verify accepts it against the test root, with PCR0/1/2/8/16, user_data, nonce, public_key%s%s",
	     ok ? "" : ": ", ok ? "" : e.msg);
	if (ok) {
		const struct att_doc *d = &ver.d.doc;
		int order = 1;
		T_OK(d->n_pcrs == 17, "pcrs: the 17 locked PCRs (0..15 and 16), not the unlocked ones (%zu)",
		     d->n_pcrs);
		for (size_t i = 0; i < d->n_pcrs; i++)
			order &= d->pcrs[i].index == i && d->pcrs[i].len == 48;
		T_OK(order, "pcrs: in index order, 48 bytes each");
		T_STR(d->module_id, nsm_service_model(svc)->module_id, "module_id as DescribeNSM");
		T_STR(d->digest, "SHA384", "digest SHA384");
		T_OK(d->timestamp_ms >= t0 && d->timestamp_ms <= t1, "timestamp: now, in ms");
		T_OK(d->n_cabundle == 2 && d->cabundle[0].len == root_pem.obj[0].len &&
			     !memcmp(d->cabundle[0].p, root_pem.obj[0].der, d->cabundle[0].len) && int_pem.n == 1 &&
			     d->cabundle[1].len == int_pem.obj[0].len &&
			     !memcmp(d->cabundle[1].p, int_pem.obj[0].der, int_pem.obj[0].len),
		     "cabundle = [root, intermediate], root first");
		T_OK(ver.chain.n == 3 && ver.chain.cert[0].key.curve == BR_EC_secp384r1,
		     "certificate: a P-384 leaf under the intermediate");
	}
	{
		struct att_policy aws;
		memset(&aws, 0, sizeof aws);
		T_OK(att_verify(doc, len, &aws, &ver, &e) == -1 && !strcmp(ver.check, "chain"),
		     "the same document fails against the AWS root (chain)");
	}
	pol.nonce.p = nonce + 1;
	T_OK(att_verify(doc, len, &pol, &ver, &e) == -1 && !strcmp(ver.check, "nonce"), "a different nonce fails");

	/* Everything absent: nulls. */
	ok = nsm_attestation(&cl, NULL, NULL, NULL, doc, sizeof doc, &len, &e) == 0;
	T_OK(ok, "Attestation without user_data, nonce, public_key");
	policy_init(&pol);
	expect_pcr(&pol, 0, pcrs.pcr0);
	ok = ok && att_verify(doc, len, &pol, &ver, &e) == 0;
	T_OK(ok && ver.d.doc.user_data.state == ATT_NULL && ver.d.doc.nonce.state == ATT_NULL &&
		     ver.d.doc.public_key.state == ATT_NULL,
	     "absent fields are null in the document, which verifies%s%s", ok ? "" : ": ", ok ? "" : e.msg);

	/* Empty but present fields stay present. */
	o_ud = (struct nsm_opt_bytes){ 1, ud, 0 };
	ok = nsm_attestation(&cl, &o_ud, NULL, NULL, doc, sizeof doc, &len, &e) == 0 &&
	     att_verify(doc, len, &pol, &ver, &e) == 0;
	T_OK(ok && ver.d.doc.user_data.state == ATT_SET && ver.d.doc.user_data.len == 0,
	     "empty user_data is an empty byte string, not null");

	/* The limits: 1024 bytes each is fine (real NSM), 1025 is not. */
	o_ud = (struct nsm_opt_bytes){ 1, ud, 1024 };
	o_nonce = (struct nsm_opt_bytes){ 1, nonce, 1024 };
	o_pk = (struct nsm_opt_bytes){ 1, pk, 1024 };
	policy_init(&pol);
	pol.user_data = (struct att_expect_bytes){ 1, ud, 1024 };
	pol.public_key = (struct att_expect_bytes){ 1, pk, 1024 };
	ok = nsm_attestation(&cl, &o_ud, &o_nonce, &o_pk, doc, sizeof doc, &len, &e) == 0 &&
	     att_verify(doc, len, &pol, &ver, &e) == 0;
	T_OK(ok, "Attestation with 1024-byte user_data, nonce and public_key verifies (%zu bytes)", len);
	o_nonce.len = 1025;
	o_pk.len = 10;
	o_ud.len = 10;
	T_OK(nsm_attestation(&cl, &o_ud, &o_nonce, &o_pk, doc, sizeof doc, &len, &e) == -1, "a 1025-byte nonce fails");
	T_STR(last_error(), "InputTooLarge", "1025-byte nonce: InputTooLarge");
	o_nonce.len = 10;
	o_ud.len = 1025;
	T_OK(nsm_attestation(&cl, &o_ud, &o_nonce, &o_pk, doc, sizeof doc, &len, &e) == -1 &&
		     cl.last_error == NSM_INPUT_TOO_LARGE,
	     "a 1025-byte user_data: InputTooLarge");
}

/* ------------------------------------------------------------ wire level */

static void test_malformed(void)
{
	static uint8_t big[NSM_REQUEST_MAX + 8];
	static uint8_t resp[NSM_RESPONSE_MAX];
	size_t n = 0;

	/* The exact bytes NSM sends for an error (nitro-facts §5.4). */
	{
		static const uint8_t req[] = "\xa1\x6b"
					     "DescribePCR"
					     "\xa1\x65"
					     "index"
					     "\x18\x20";
		static const uint8_t want[] = "\xa1\x65"
					      "Error"
					      "\x6c"
					      "InvalidIndex";
		T_OK(exchange(req, sizeof req - 1, sizeof req - 1, resp, &n) == 0 && n == sizeof want - 1 &&
			     !memcmp(resp, want, n),
		     "an error is {\"Error\": \"InvalidIndex\"}, byte for byte");
	}
	T_STR(RAW("\x63"
		  "Foo"),
	      "InvalidOperation", "unknown operation \"Foo\": InvalidOperation");
	T_STR(RAW("\xa1\x63"
		  "Foo"
		  "\xa0"),
	      "InvalidOperation", "{\"Foo\": {}}: InvalidOperation");
	T_STR(RAW("\x05"), "InvalidOperation", "an integer: InvalidOperation");
	T_STR(RAW("\xff\xff"), "InvalidOperation", "not CBOR: InvalidOperation");
	T_STR(raw_error(NULL, 0, 0), "InvalidOperation", "an empty request: InvalidOperation");
	T_STR(RAW("\x6b"
		  "DescribeNSM"
		  "\x00"),
	      "InvalidOperation", "trailing bytes: InvalidOperation");
	T_STR(RAW("\xa1\x6b"
		  "DescribeNSM"
		  "\xa0"),
	      "InvalidOperation", "DescribeNSM as a map: InvalidOperation");
	T_STR(RAW("\xa1\x6b"
		  "DescribePCR"
		  "\xa1\x65"
		  "index"
		  "\x61"
		  "x"),
	      "InvalidArgument", "DescribePCR with a text index: InvalidArgument");
	T_STR(RAW("\xa1\x6b"
		  "DescribePCR"
		  "\xa0"),
	      "InvalidArgument", "DescribePCR without index: InvalidArgument");
	T_STR(RAW("\xa1\x67"
		  "LockPCR"
		  "\xa1\x65"
		  "index"
		  "\x1a\x00\x01\x00\x00"),
	      "InvalidArgument", "LockPCR with index 65536 (not a u16): InvalidArgument");
	T_STR(RAW("\xa1\x69"
		  "ExtendPCR"
		  "\xa1\x65"
		  "index"
		  "\x10"),
	      "InvalidArgument", "ExtendPCR without data: InvalidArgument");

	/* Oversize: the body is never read, the answer is InputTooLarge. */
	T_STR(raw_error(NULL, 0, NSM_REQUEST_MAX + 1), "InputTooLarge",
	      "a length of 0x1001 (body not sent): InputTooLarge");
	T_STR(raw_error(NULL, 0, 0xffffffffu), "InputTooLarge", "a length of 0xffffffff: InputTooLarge");
	memset(big, 0x41, sizeof big);
	T_STR(raw_error(big, NSM_REQUEST_MAX + 8, NSM_REQUEST_MAX + 8), "InputTooLarge",
	      "a 0x1008-byte request sent whole: InputTooLarge");
	{
		/* ExtendPCR{index:20, data: bstr} of exactly 0x1000 bytes. */
		static const uint8_t head[] = "\xa1\x69"
					      "ExtendPCR"
					      "\xa2\x65"
					      "index"
					      "\x14\x64"
					      "data"
					      "\x59";
		size_t hl = sizeof head - 1, dl = NSM_REQUEST_MAX - hl - 2;
		memcpy(big, head, hl);
		big[hl] = (uint8_t)(dl >> 8);
		big[hl + 1] = (uint8_t)dl;
		static const uint8_t zero[48];
		struct nsm_response rs;
		struct cr_err e;
		uint8_t want[48];
		sha384_cat(zero, 48, big + hl + 2, dl, want);
		T_OK(exchange(big, NSM_REQUEST_MAX, NSM_REQUEST_MAX, resp, &n) == 0 &&
			     nsm_response_decode(resp, n, NSM_OP_EXTEND_PCR, &rs, &e) == 0 && rs.error == NSM_SUCCESS &&
			     rs.data.len == 48 && !memcmp(rs.data.p, want, 48),
		     "a request of exactly 0x1000 bytes (ExtendPCR 20, %zu bytes of data) is served", dl);
	}
}

static void test_connections(void)
{
	int a, b, fds[17], eof, n_open = 0;
	uint8_t buf[64], resp[NSM_RESPONSE_MAX];
	size_t n;
	struct nsm_description d;
	struct cr_err e;

	/* A stalled connection does not hold up another. */
	a = connect_svc();
	T_OK(a >= 0 && write(a, "\x00\x00", 2) == 2, "a client stalls after 2 bytes of the length");
	pump(20);
	T_OK(nsm_describe_nsm(&cl, &d, &e) == 0, "another client is served meanwhile");
	b = connect_svc();
	T_OK(b >= 0 && write(b, "\x00\x00\x00\x20", 4) == 4, "a client stalls after the length");
	T_OK(nsm_describe_nsm(&cl, &d, &e) == 0 && nsm_service_connections(svc) == 2,
	     "served again, with both stalled connections open");
	/* A peer that hangs up mid-request is dropped. */
	close(b);
	pump(30);
	T_OK(nsm_service_connections(svc) == 1, "a client hanging up mid-request is dropped");
	/* The sweep closes the stalled one after the time limit. */
	close(a);
	pump(30);
	nsm_service_set_timeout(svc, 300);
	a = connect_svc();
	T_OK(a >= 0 && write(a, "\x00", 1) == 1, "a half-open client (1 byte, then nothing)");
	{
		uint64_t t0 = now_ms();
		size_t got = drain(a, buf, sizeof buf, 3000, &eof);
		uint64_t el = now_ms() - t0;
		T_OK(eof && got == 0 && el >= 250 && el < 2000,
		     "it is closed after the time limit (%llu ms), no answer", (unsigned long long)el);
	}
	close(a);
	T_OK(nsm_service_connections(svc) == 0, "no connection left open");
	nsm_service_set_timeout(svc, 10000);

	/* More than 16 at once: the extra one is closed at once. */
	for (int i = 0; i < 17; i++) {
		fds[i] = connect_svc();
		pump(5);
	}
	pump(30);
	n_open = (int)nsm_service_connections(svc);
	T_OK(n_open == 16, "16 idle connections are held (%d)", n_open);
	n = drain(fds[16], buf, sizeof buf, 500, &eof);
	T_OK(fds[16] >= 0 && eof && n == 0, "the 17th is closed at once");
	for (int i = 0; i < 17; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pump(30);
	T_OK(nsm_service_connections(svc) == 0 && exchange((const uint8_t *)"\x69"
									    "GetRandom",
							   10, 10, resp, &n) == 0,
	     "after they go, requests are served again");
}

/* ------------------------------------------------------------ CA dirs */

static int file_exists(const char *dir, const char *name)
{
	char p[600];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

static void test_ca_dirs(void)
{
	char dir[400], p[600], q[600];
	struct nsm_ca ca, ca2;
	struct cr_err e;
	uint8_t *d1 = NULL;
	size_t l1 = 0;

	snprintf(dir, sizeof dir, "%s/userca", tmp);
	mkdir(dir, 0700);
	T_OK(nsm_ca_open(&ca, dir, tmp, "i-0-enc0", &e) == 0 && ca.generated && !ca.remove_on_free,
	     "--nsm-ca with an empty directory: a new CA is made there");
	nsm_ca_free(&ca);
	T_OK(file_exists(dir, "root.pem") && file_exists(dir, "intermediate.pem") && file_exists(dir, "leaf.pem") &&
		     file_exists(dir, "leaf.key") && file_exists(dir, "root.key") && !file_exists(dir, "ca.cnf"),
	     "it is kept (root, intermediate, leaf, keys; no config file)");
	snprintf(p, sizeof p, "%s/root.pem", dir);
	T_OK(nsm_ca_open(&ca2, dir, tmp, "ignored", &e) == 0 && !ca2.generated && !strcmp(ca2.root_path, p),
	     "the next run loads the same directory");
	cr_read_file(p, 1 << 16, &d1, &l1, &e);
	T_OK(d1 && ca2.bundle[0].len > 0 && ca2.n_bundle == 2, "loaded: root and one intermediate");
	nsm_ca_free(&ca2);
	free(d1);

	snprintf(p, sizeof p, "%s/leaf.key", dir);
	snprintf(q, sizeof q, "%s/leaf.key.away", dir);
	rename(p, q);
	T_OK(nsm_ca_open(&ca, dir, tmp, "x", &e) == -1 && strstr(e.msg, "leaf.key is missing"),
	     "a directory without leaf.key: refused, naming it");
	snprintf(q, sizeof q, "%s/root.key", dir);
	link(q, p);
	T_OK(nsm_ca_open(&ca, dir, tmp, "x", &e) == -1 && strstr(e.msg, "leaf.key is not the key of leaf.pem"),
	     "a leaf.key that does not match leaf.pem: refused");
	snprintf(q, sizeof q, "%s/intermediate.pem", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/leaf.key.away", dir);
	{
		char k[600];
		snprintf(k, sizeof k, "%s/leaf.key", dir);
		rename(p, k);
	}
	snprintf(p, sizeof p, "%s/root.pem", dir);
	rename(p, q); /* intermediate.pem := root: the chain is broken */
	snprintf(p, sizeof p, "%s/root.pem", dir);
	{
		char r[600];
		snprintf(r, sizeof r, "%s/leaf.pem", dir);
		link(r, p); /* root.pem := leaf */
	}
	T_OK(nsm_ca_open(&ca, dir, tmp, "x", &e) == -1 && strstr(e.msg, "chain"),
	     "a broken chain is refused at start (%s)", e.msg);
	T_OK(nsm_ca_generate(dir, "x", &e) == -1 && strstr(e.msg, "exists already"), "no new CA over existing files");
	snprintf(p, sizeof p, "%s/fresh", tmp);
	mkdir(p, 0700);
	T_OK(nsm_ca_generate(p, "bad/name", &e) == -1 && !file_exists(p, "root.pem"),
	     "a leaf name openssl would misread is refused, nothing written");
}

/* ------------------------------------------------------------ main */

static void rm_rf(const char *path)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	struct cr_err e;
	char ca_dir[600];

	if (system("openssl version >/dev/null 2>&1") != 0) {
		t_skip("openssl is not installed", "the NSM model (its test CA is made with openssl)");
		return 0;
	}
	snprintf(tmp, sizeof tmp, "%s/nsm-model.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmp) || evloop_init(&loop, &e)) {
		T_OK(0, "set up a temporary directory and an event loop");
		return t_done();
	}
	snprintf(sock_path, sizeof sock_path, "%s/vsock_9100", tmp);
	for (int i = 0; i < 48; i++) {
		pcrs.pcr0[i] = (uint8_t)(0x10 + i);
		pcrs.pcr1[i] = (uint8_t)(0x20 + i);
		pcrs.pcr2[i] = (uint8_t)(0x30 + i);
		pcrs.pcr8[i] = (uint8_t)(0x80 + i);
	}
	pcrs.has_pcr8 = 1;

	if (start_service(NULL, &e)) {
		T_OK(0, "the service starts with a CA made in the run directory: %s", e.msg);
		return t_done();
	}
	T_OK(1, "the service starts with a CA made in the run directory");
	snprintf(ca_dir, sizeof ca_dir, "%s/nsm-ca/root.pem", tmp);
	T_STR(nsm_service_root(svc), ca_dir, "the test root is <run dir>/nsm-ca/root.pem");
	T_OK(!file_exists(tmp, "nsm-ca/ca.cnf"), "the openssl config is gone after generation");
	nsm_client_init(&cl, transport, NULL);

	test_describe_nsm();
	test_describe_pcr();
	test_extend();
	test_lock();
	test_attestation();
	test_malformed();
	test_lock_range();
	test_random();
	test_connections();
	{
		struct nsm_model *m = nsm_service_model(svc);
		T_OK(m->requests > 50 && m->errors > 10, "the model counted %llu requests, %llu errors",
		     (unsigned long long)m->requests, (unsigned long long)m->errors);
	}
	nsm_model_service.stop(svc);
	svc = NULL;
	T_OK(!file_exists(tmp, "vsock_9100") && !file_exists(tmp, "nsm-ca"),
	     "stop removes the socket and the generated CA");

	test_ca_dirs();
	{
		char dir[400];
		snprintf(dir, sizeof dir, "%s/userca2", tmp);
		mkdir(dir, 0700);
		T_OK(start_service(dir, &e) == 0 && !strncmp(nsm_service_root(svc), dir, strlen(dir)),
		     "--nsm-ca DIR: the root printed is DIR/root.pem");
		if (svc) {
			struct nsm_description d;
			T_OK(nsm_describe_nsm(&cl, &d, &e) == 0, "the service with --nsm-ca answers");
			nsm_model_service.stop(svc);
		}
		T_OK(file_exists(dir, "root.pem") && file_exists(dir, "leaf.key"), "stop keeps an --nsm-ca directory");
	}
	pem_free(&root_pem);
	pem_free(&int_pem);
	evloop_free(&loop);
	rm_rf(tmp);
	return t_done();
}
