/*
 * source_internal.h - what the two page sources (files.c, sane.c) share: the source object
 * with its operations, and the bilingual fault messages (source.c). Not installed.
 */
#ifndef PHIEU_SOURCE_INTERNAL_H
#define PHIEU_SOURCE_INTERNAL_H

#include "phieu/source.h"

typedef struct phieu_source_ops {
    int (*next)(phieu_source *s, phieu_image **page, phieu_page_info *info, phieu_error *err);
    void (*cancel)(phieu_source *s);
    void (*destroy)(phieu_source *s);
    /* NULL: take() wraps next() */
    int (*take)(phieu_source *s, phieu_source_item *item, phieu_error *err);
    int (*pages_expected)(const phieu_source *s); /* NULL: unknown */
} phieu_source_ops;

struct phieu_source {
    const phieu_source_ops *ops;
    phieu_source_fault fault; /* of the last PHIEU_EDEVICE */
    void *impl;               /* the implementation's state */
};

/* Fills err with PHIEU_EDEVICE and the English + Vietnamese words for `fault` at sheet
 * `sheet` of the batch (0: no sheet involved). `device` names the scanner and `detail`
 * (may be NULL) is the scanner's own words, e.g. sane_strstatus(). Returns PHIEU_EDEVICE. */
int phieu_source_fault_error(phieu_error *err, phieu_source_fault fault, const char *device,
                             int sheet, const char *detail);

#endif
