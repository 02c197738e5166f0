/* Measurements printed the way nitro-cli prints them (pretty JSON):
 *   {"Measurements": {"HashAlgorithm": "Sha384 { ... }", "PCR0": hex, ...}} */
#ifndef CLEANROOM_MEASUREMENTS_H
#define CLEANROOM_MEASUREMENTS_H

#include <stdio.h>

#include "base/json.h"
#include "host-tool/eif/pcr.h"

/* The members of a Measurements object, into an open object. */
void jw_measurement_fields(struct json_w *w, const struct eif_pcrs *p);
/* The whole {"Measurements": {...}} document, pretty, to out. */
int print_measurements(const struct eif_pcrs *p, struct cr_err *e);

#endif
