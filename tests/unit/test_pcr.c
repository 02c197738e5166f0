/* host-tool/eif/pcr.c: the PCR formula and the two-thread hasher. */
#include <bearssl.h>

#include "base/digest.h"
#include "tests/unit/check.h"
#include "host-tool/eif/pcr.h"

static void hex(const uint8_t *d, char *out)
{
	cr_hex(d, CR_PCR_LEN, out);
}

int main(void)
{
	static const uint8_t zero[CR_PCR_LEN];
	uint8_t got[CR_PCR_LEN];
	char h[2 * CR_PCR_LEN + 1];
	br_sha384_context c;

	pcr_of_bytes("", 0, got);
	hex(got, h);
	T_STR(h, "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a",
	      "PCR of empty content is H(Z || H(\"\")) (nitro-facts 2.1)");
	br_sha384_init(&c);
	br_sha384_update(&c, zero, sizeof zero);
	br_sha384_out(&c, got);
	hex(got, h);
	T_STR(h, "8f0d145c0368ad6b70be22e41c400eea91b971d96ba220fec9fae25a58dffdaaf72dbe8f6783d55128c9df4efaf6f8a7",
	      "H(Z) anchor (nitro-facts 2.1)");

	/* The threaded hasher, fed in uneven pieces with every mask, gives the
	 * same PCRs as one-shot hashing of each PCR's content. */
	{
		enum { N = 3 << 20 };
		uint8_t *data = malloc(N);
		struct pcr_hasher hs;
		struct eif_pcrs p;
		struct cr_err e;
		uint8_t w0[CR_PCR_LEN], w1[CR_PCR_LEN], w2[CR_PCR_LEN];
		br_sha384_context c0, c1, c2;
		size_t off = 0, step = 1;
		uint32_t x = 12345;
		for (size_t i = 0; i < N; i++) {
			x = x * 1103515245 + 12345;
			data[i] = (uint8_t)(x >> 16);
		}
		br_sha384_init(&c0);
		br_sha384_init(&c1);
		br_sha384_init(&c2);
		T_OK(pcr_hasher_start(&hs, &e) == 0, "hasher starts");
		while (off < N) {
			size_t n = step > N - off ? N - off : step;
			unsigned mask = (unsigned)(off / 100000) % 4 == 0 ? 0
					: (off / 100000) % 2              ? PCR_MASK_0 | PCR_MASK_1
									  : PCR_MASK_0 | PCR_MASK_2;
			pcr_hasher_submit(&hs, mask, data + off, n);
			if (mask & PCR_MASK_0)
				br_sha384_update(&c0, data + off, n);
			if (mask & PCR_MASK_1)
				br_sha384_update(&c1, data + off, n);
			if (mask & PCR_MASK_2)
				br_sha384_update(&c2, data + off, n);
			off += n;
			step = step * 3 + 1 > 200000 ? 1 : step * 3 + 1;
		}
		T_OK(pcr_hasher_finish(&hs, &p, &e) == 0, "hasher finishes");
		br_sha384_out(&c0, w0);
		br_sha384_out(&c1, w1);
		br_sha384_out(&c2, w2);
		pcr_from_digest(w0, w0);
		pcr_from_digest(w1, w1);
		pcr_from_digest(w2, w2);
		T_MEM(p.pcr0, w0, CR_PCR_LEN, "threaded PCR0 equals one-shot hashing");
		T_MEM(p.pcr1, w1, CR_PCR_LEN, "threaded PCR1 equals one-shot hashing");
		T_MEM(p.pcr2, w2, CR_PCR_LEN, "threaded PCR2 equals one-shot hashing");
		free(data);
	}
	return t_done();
}
