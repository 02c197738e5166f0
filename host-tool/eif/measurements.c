#include "host-tool/eif/measurements.h"
#include "base/digest.h"

void jw_measurement_fields(struct json_w *w, const struct eif_pcrs *p)
{
	/* nitro-cli prints Rust's Debug of its hasher type here, literally. */
	jw_kstr(w, "HashAlgorithm", "Sha384 { ... }");
	jw_khex(w, "PCR0", p->pcr0, CR_PCR_LEN);
	jw_khex(w, "PCR1", p->pcr1, CR_PCR_LEN);
	jw_khex(w, "PCR2", p->pcr2, CR_PCR_LEN);
	if (p->has_pcr8)
		jw_khex(w, "PCR8", p->pcr8, CR_PCR_LEN);
}

int print_measurements(const struct eif_pcrs *p, struct cr_err *e)
{
	struct cr_buf b;
	struct json_w w;
	int rc;
	cr_buf_init(&b, 4096);
	jw_init(&w, &b, 1);
	jw_obj_begin(&w);
	jw_key(&w, "Measurements");
	jw_obj_begin(&w);
	jw_measurement_fields(&w, p);
	jw_obj_end(&w);
	jw_obj_end(&w);
	rc = jw_print(&w, e);
	cr_buf_free(&b);
	return rc;
}
