#include "host-tool/eif/measurements.h"

void jw_measurement_fields(struct json_w *w, const struct eif_pcrs *p)
{
	/* nitro-cli prints Rust's Debug of its hasher type here, literally. */
	jw_kstr(w, "HashAlgorithm", "Sha384 { ... }");
	jw_khex(w, "PCR0", p->pcr0, PCR_LEN);
	jw_khex(w, "PCR1", p->pcr1, PCR_LEN);
	jw_khex(w, "PCR2", p->pcr2, PCR_LEN);
	if (p->has_pcr8)
		jw_khex(w, "PCR8", p->pcr8, PCR_LEN);
}

int print_measurements(FILE *out, const struct eif_pcrs *p, struct cr_err *e)
{
	struct cr_buf b;
	struct json_w w;
	cr_buf_init(&b, 4096);
	jw_init(&w, &b, 1);
	jw_obj_begin(&w);
	jw_key(&w, "Measurements");
	jw_obj_begin(&w);
	jw_measurement_fields(&w, p);
	jw_obj_end(&w);
	jw_obj_end(&w);
	if (jw_finish(&w, e)) {
		cr_buf_free(&b);
		return -1;
	}
	fprintf(out, "%s\n", (char *)b.p);
	cr_buf_free(&b);
	return fflush(out) ? cr_failp(e, "stdout") : 0;
}
