/* In-guest half of the qemu/nsm suite: /init of an EIF packed with
 * `cleanroom eif --nsm-ko local` (static musl). Like AWS's init it loads
 * /nsm.ko with finit_module and sends the heartbeat (CID 3 port 9000,
 * 0xB7, echoed); then it runs every NSM operation through the real
 * /dev/nsm ioctl (nsm/nsm_client.c) — the shim forwards each request over
 * vsock to the host NSM model of `cleanroom run` — and reports to the host
 * half (tests/qemu/nsm_host.py) on a control connection to CID 3 port 9001:
 *
 *   host -> guest  "NONCE <hex>\n"               the nonce to attest
 *   guest -> host  "ok - guest: …" / "not ok - guest: …: why"   checks made here
 *                  "DATA <key> <value>\n"         values the host checks
 *                  (pcr0..2 and pcr16 in hex, doc_full / doc_null documents
 *                  in hex, err_* error names, module_id, rtt_us timings)
 *                  "DONE\n"
 *   host -> guest  "POWEROFF\n"                  then the guest powers off.
 *
 * Console lines start with "guest: ". */
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tests/qemu/guest_util.h"
#include "nsm/nsm_client.h"
#include "base/util.h"
#include "vsock/vsock.h"

#define PORT_HEARTBEAT 9000
#define PORT_CONTROL 9001
#define CONNECT_MS 10000
#define RTT_ROUNDS 50
#define USER_DATA "cleanroom qemu/nsm user_data"
#define PUBLIC_KEY "cleanroom qemu/nsm public_key"

static int ctl = -1;
static int fails;

/* A line to the host (and the console). */
static void send_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void send_line(const char *fmt, ...)
{
	static char line[2 * NSM_RESPONSE_MAX + 256];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 1)
		n = (int)strlen(line);
	if (n < 200)
		guest_say("%s", line);
	line[n++] = '\n';
	if (ctl >= 0 && cr_write_all(ctl, line, (size_t)n))
		guest_say("control connection lost");
}

static void check(int ok, const char *name, const char *why)
{
	if (ok) {
		send_line("ok - guest: %s", name);
	} else {
		fails++;
		send_line("not ok - guest: %s: %s", name, why && *why ? why : "failed");
	}
}

static void send_hex(const char *key, const uint8_t *p, size_t n)
{
	static char hex[2 * NSM_RESPONSE_MAX + 1];
	if (n > NSM_RESPONSE_MAX)
		n = NSM_RESPONSE_MAX;
	cr_hex(p, n, hex);
	send_line("DATA %s %s", key, hex);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ boot */

static char load_msg[160];
static uint64_t load_us;

static void setup(void)
{
	int m;
	guest_setup_console();
	/* As AWS's init: finit_module of /nsm.ko from the bootstrap ramdisk. */
	uint64_t t0 = now_us();
	m = open("/nsm.ko", O_RDONLY | O_CLOEXEC);
	if (m < 0)
		snprintf(load_msg, sizeof load_msg, "open /nsm.ko: %s", strerror(errno));
	else if (syscall(SYS_finit_module, m, "", 0) != 0)
		snprintf(load_msg, sizeof load_msg, "finit_module /nsm.ko: %s", strerror(errno));
	load_us = now_us() - t0;
	if (m >= 0)
		close(m);
}

static int heartbeat(void)
{
	unsigned char b = 0xB7;
	struct cr_err e;
	int fd = vsock_connect(VSOCK_CID_PARENT, PORT_HEARTBEAT, CONNECT_MS, &e);
	if (fd < 0) {
		guest_say("heartbeat: %s", e.msg);
		return -1;
	}
	if (cr_write_all(fd, &b, 1) || cr_read_full(fd, &b, 1) != 1 || b != 0xB7) {
		guest_say("heartbeat: no 0xB7 echo");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* "NONCE <hex>\n" from the host. */
static int read_nonce(uint8_t *nonce, size_t cap, size_t *len)
{
	char line[256];
	size_t n = 0;
	while (n < sizeof line - 1) {
		if (read(ctl, line + n, 1) != 1)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	if (strncmp(line, "NONCE ", 6) || cr_unhex_var(line + 6, nonce, cap, len))
		return -1;
	return 0;
}

/* ------------------------------------------------------------ NSM */

static struct nsm_client c;

static const char *err_name(void)
{
	return nsm_error_name(c.last_error);
}

/* The error an operation failed with, sent to the host by name. */
static void send_err(const char *key, int rc)
{
	send_line("DATA %s %s", key, rc == 0 ? "Success" : err_name());
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void describe_nsm(void)
{
	struct nsm_description d;
	struct cr_err e = { 0 };
	uint64_t t[RTT_ROUNDS];
	int locked_ok = 1, rc = 0;

	rc = nsm_describe_nsm(&c, &d, &e);
	check(rc == 0, "DescribeNSM through /dev/nsm", e.msg);
	if (rc)
		return;
	check(d.version_major == 1 && d.version_minor == 0 && d.version_patch == 0 && d.max_pcrs == 32 &&
		      !strcmp(d.digest, "SHA384"),
	      "DescribeNSM: version 1.0.0, max_pcrs 32, digest SHA384", "other values");
	for (size_t i = 0; i < d.n_locked; i++)
		locked_ok &= d.locked_pcrs[i] == i;
	check(locked_ok && d.n_locked == 16, "DescribeNSM: PCRs 0..15 locked at boot", "other locked set");
	send_line("DATA module_id %s", d.module_id);
	for (int i = 0; i < RTT_ROUNDS; i++) {
		uint64_t t0 = now_us();
		rc |= nsm_describe_nsm(&c, &d, &e);
		t[i] = now_us() - t0;
	}
	check(rc == 0, "DescribeNSM 50 times in a row", e.msg);
	qsort(t, RTT_ROUNDS, sizeof t[0], cmp_u64);
	send_line("DATA rtt_us %llu %llu %llu", (unsigned long long)t[0], (unsigned long long)t[RTT_ROUNDS / 2],
		  (unsigned long long)t[RTT_ROUNDS - 1]);
}

static void pcrs(void)
{
	static const uint8_t zero[48];
	static const char data[] = "cleanroom qemu/nsm measurement";
	struct nsm_pcr p;
	struct cr_err e = { 0 };
	uint8_t want[48];
	br_sha384_context h;
	char key[16];
	int rc;

	for (unsigned i = 0; i < 3; i++) {
		rc = nsm_describe_pcr(&c, (uint16_t)i, &p, &e);
		snprintf(key, sizeof key, "pcr%u", i);
		check(rc == 0 && p.locked && p.len == 48,
		      i == 0   ? "DescribePCR 0: 48 bytes, locked"
		      : i == 1 ? "DescribePCR 1: 48 bytes, locked"
			       : "DescribePCR 2: 48 bytes, locked",
		      e.msg);
		if (rc == 0)
			send_hex(key, p.value, p.len);
	}
	send_err("err_describe_pcr_32", nsm_describe_pcr(&c, 32, &p, &e));

	br_sha384_init(&h);
	br_sha384_update(&h, zero, 48);
	br_sha384_update(&h, data, sizeof data - 1);
	br_sha384_out(&h, want);
	rc = nsm_extend_pcr(&c, 16, (const uint8_t *)data, sizeof data - 1, &p, &e);
	check(rc == 0 && p.len == 48 && !memcmp(p.value, want, 48), "ExtendPCR 16 = SHA384(0^48 || data)", e.msg);
	if (rc == 0)
		send_hex("pcr16", p.value, p.len);
	send_err("err_extend_pcr_0", nsm_extend_pcr(&c, 0, (const uint8_t *)"x", 1, NULL, &e));
	send_err("err_extend_pcr_32", nsm_extend_pcr(&c, 32, (const uint8_t *)"x", 1, NULL, &e));
	rc = nsm_lock_pcr(&c, 16, &e);
	check(rc == 0, "LockPCR 16", e.msg);
	send_err("err_extend_locked_16", nsm_extend_pcr(&c, 16, (const uint8_t *)"x", 1, NULL, &e));
	send_err("err_lock_pcr_16_again", nsm_lock_pcr(&c, 16, &e));
	send_err("err_lock_pcr_32", nsm_lock_pcr(&c, 32, &e));
}

static void attestation(const uint8_t *nonce, size_t nonce_len)
{
	static uint8_t doc[NSM_RESPONSE_MAX], big[1025];
	struct nsm_opt_bytes ud = { 1, (const uint8_t *)USER_DATA, sizeof USER_DATA - 1 }, no = { 1, nonce, nonce_len },
			     pk = { 1, (const uint8_t *)PUBLIC_KEY, sizeof PUBLIC_KEY - 1 },
			     too = { 1, big, sizeof big };
	struct cr_err e = { 0 };
	size_t len = 0;
	int rc;

	uint64_t t0 = now_us();
	rc = nsm_attestation(&c, &ud, &no, &pk, doc, sizeof doc, &len, &e);
	send_line("DATA att_us %llu", (unsigned long long)(now_us() - t0));
	check(rc == 0, "Attestation with user_data, nonce and public_key", e.msg);
	if (rc == 0)
		send_hex("doc_full", doc, len);
	rc = nsm_attestation(&c, NULL, NULL, NULL, doc, sizeof doc, &len, &e);
	check(rc == 0, "Attestation without optional fields", e.msg);
	if (rc == 0)
		send_hex("doc_null", doc, len);
	memset(big, 0x5a, sizeof big);
	send_err("err_attest_nonce_1025", nsm_attestation(&c, NULL, &too, NULL, doc, sizeof doc, &len, &e));
}

static void random_and_ranges(void)
{
	uint8_t a[512], b[512];
	size_t na = 0, nb = 0;
	struct nsm_description d;
	struct cr_err e = { 0 };
	int rc;

	rc = nsm_get_random(&c, a, sizeof a, &na, &e) | nsm_get_random(&c, b, sizeof b, &nb, &e);
	check(rc == 0 && na == 256 && nb == 256 && memcmp(a, b, 256), "GetRandom: 256 bytes, different each time",
	      e.msg);
	send_err("err_lock_pcrs_33", nsm_lock_pcrs(&c, 33, &e));
	rc = nsm_lock_pcrs(&c, 32, &e);
	check(rc == 0, "LockPCRs 32 (max_pcrs)", e.msg);
	rc = nsm_describe_nsm(&c, &d, &e);
	check(rc == 0 && d.n_locked == 32, "DescribeNSM: all 32 PCRs locked after LockPCRs 32", e.msg);
}

/* Send a raw request through the ioctl; report the error name it got. */
static void send_raw_err(const char *key, const uint8_t *req, size_t len)
{
	static uint8_t resp[NSM_RESPONSE_MAX];
	static struct nsm_response rs;
	struct cr_err e;
	size_t n = sizeof resp;
	int ok = c.transport(c.ctx, req, len, resp, &n, &e) == 0 &&
		 nsm_response_decode(resp, n, NSM_OP_DESCRIBE_NSM, &rs, &e) == 0;
	send_line("DATA %s %s", key, ok ? rs.error_name : "(no-answer)");
}

/* Raw requests the client library would never build, through the ioctl. */
static void malformed(void)
{
	static const uint8_t unknown[] = "\x63"
					 "Foo";
	static const uint8_t bad_arg[] = "\xa1\x6b"
					 "DescribePCR"
					 "\xa1\x65"
					 "index"
					 "\x61"
					 "x";
	static uint8_t resp[NSM_RESPONSE_MAX], big[NSM_REQUEST_MAX + 1];
	struct cr_err e = { 0 };
	size_t n;

	send_raw_err("err_unknown_op", unknown, sizeof unknown - 1);
	send_raw_err("err_bad_argument", bad_arg, sizeof bad_arg - 1);
	n = sizeof resp;
	errno = 0;
	check(c.transport(c.ctx, big, sizeof big, resp, &n, &e) == -1 && errno == EMSGSIZE,
	      "a 0x1001-byte request: the ioctl fails with EMSGSIZE, as the real driver", e.msg);
}

int main(void)
{
	uint8_t nonce[64];
	size_t nonce_len = 0;
	struct stat st;
	struct cr_err e = { 0 };
	char why[64];

	setup();
	guest_say("started");
	if (heartbeat())
		guest_power_off();
	guest_say("heartbeat acknowledged");
	ctl = vsock_connect(VSOCK_CID_PARENT, PORT_CONTROL, CONNECT_MS, &e);
	if (ctl < 0) {
		guest_say("control: %s", e.msg);
		guest_power_off();
	}
	check(!load_msg[0], "nsm.ko loaded with finit_module, as AWS's init", load_msg);
	send_line("DATA load_us %llu", (unsigned long long)load_us);
	snprintf(why, sizeof why, "mode %o", stat("/dev/nsm", &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0u);
	check(stat("/dev/nsm", &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 0777) == 0666,
	      "/dev/nsm is a character device, mode 0666", why);
	if (read_nonce(nonce, sizeof nonce, &nonce_len)) {
		check(0, "the host sends a nonce", "no NONCE line");
	} else if (nsm_open(&c, NULL, &e)) {
		check(0, "open /dev/nsm", e.msg);
	} else {
		describe_nsm();
		pcrs();
		attestation(nonce, nonce_len);
		malformed();
		random_and_ranges();
		nsm_close(&c);
	}
	send_line("DONE %d", fails);
	guest_wait_for(ctl, "POWEROFF\n");
	guest_say("powering off");
	guest_power_off();
	return 0;
}
