/*
 * report_private.h - what the files of src/report/ share and nobody else needs: the
 * value names of ballot records, the results tree (export.c builds it, verify.c compares
 * it), the signature file's header line.
 */
#ifndef PHIEU_REPORT_PRIVATE_H
#define PHIEU_REPORT_PRIVATE_H

#include <jansson.h>

#include "phieu/report.h"

/* The first line of manifest.sig (docs/report.md). */
#define REPORT_SIG_HEADER "phieu signature v1 ed25519"
/* The PDF's Keywords metadata carries the fingerprint after this prefix. */
#define REPORT_PDF_FINGERPRINT_PREFIX "phieu-manifest-sha256:"
/* ... and the public key it was signed with after this one (absent when unsigned). */
#define REPORT_PDF_KEY_PREFIX "phieu-public-key:"

/* The page decision of a ballot counted by the board's reading, in a ballot record. */
#define REPORT_DECISION_READ "read"

int report_score_units(float score);
const char *report_value_name(const phieu_form *form, int value);
int report_value_parse(const phieu_form *form, const char *name, int *value);
void report_image_name(const phieu_report_ballot *b, char *out, size_t size);
json_t *report_results_tree(const phieu_report_data *d, const phieu_tally *t, int draft);

#endif
