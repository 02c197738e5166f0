/* In-guest half of the qemu/nitro-enclave suite: the /cmd of a bootstrap
 * EIF (static musl) run by cleanroom's init on QEMU's nitro-enclave machine.
 * It talks to the kernel's own NSM driver (/dev/nsm over virtio-nsm) and
 * prints, one console line each:
 *
 *   probe: module_id ID
 *   probe: describe pcrN HEX locked=L     DescribePCR, N in 0 1 2 8
 *   probe: doc alg A sig_zero=Z cert_zero=C
 *   probe: doc pcrN HEX                   the attestation document's pcrs
 *   probe: error WHAT                     anything that went wrong (exit 1)
 *
 * The suite compares the values with `cleanroom describe --json`. */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "nsm/attest_doc.h"
#include "nsm/cose.h"
#include "nsm/nsm_client.h"

static const unsigned pcrs[] = { 0, 1, 2, 8 };

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

static int zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static struct nsm_client c;
static uint8_t doc[NSM_RESPONSE_MAX];
static struct att_doc d;

int main(void)
{
	struct cr_err e;
	struct nsm_description desc;
	struct nsm_pcr p;
	struct cose_sign1 m;
	struct nsm_opt_bytes nonce = { .present = 1, .p = (const uint8_t *)"nitro-probe", .len = 11 };
	char h[2 * NSM_PCR_MAX_LEN + 1];
	size_t len;

	if (nsm_open(&c, NULL, &e) || nsm_describe_nsm(&c, &desc, &e)) {
		printf("probe: error %s\n", e.msg);
		return 1;
	}
	printf("probe: module_id %s\n", desc.module_id);
	for (size_t i = 0; i < sizeof pcrs / sizeof pcrs[0]; i++) {
		if (nsm_describe_pcr(&c, (uint16_t)pcrs[i], &p, &e)) {
			printf("probe: error DescribePCR %u: %s\n", pcrs[i], e.msg);
			return 1;
		}
		hex(p.value, p.len, h);
		printf("probe: describe pcr%u %s locked=%d\n", pcrs[i], h, p.locked);
	}
	if (nsm_attestation(&c, NULL, &nonce, NULL, doc, sizeof doc, &len, &e) || cose_sign1_parse(doc, len, &m, &e) ||
	    att_payload_decode(m.payload, m.payload_len, &d, &e)) {
		printf("probe: error Attestation: %s\n", e.msg);
		return 1;
	}
	printf("probe: doc alg %lld sig_zero=%d cert_zero=%d\n", (long long)m.alg, zero(m.signature, m.signature_len),
	       zero(d.certificate.p, d.certificate.len));
	for (size_t i = 0; i < sizeof pcrs / sizeof pcrs[0]; i++)
		for (size_t j = 0; j < d.n_pcrs; j++)
			if (d.pcrs[j].index == pcrs[i]) {
				hex(d.pcrs[j].value, d.pcrs[j].len, h);
				printf("probe: doc pcr%u %s\n", pcrs[i], h);
			}
	fflush(stdout);
	return 0;
}
