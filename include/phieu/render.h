/*
 * render.h - printable ballots: a PDF for the printer (cairo + pango, fonts embedded)
 * and 8-bit gray rasters of one blank ballot.
 *
 * Contract: rendering follows the layout exactly (a box's outer edge at its layout
 * rectangle), so what omr expects is what the printer prints. Output is deterministic
 * for the same form and options. Text is UTF-8 Vietnamese set with pango in DejaVu Sans.
 * Thread safety: pango's font map is per thread; call from one thread at a time.
 */
#ifndef PHIEU_RENDER_H
#define PHIEU_RENDER_H

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/image.h"

typedef struct phieu_render_options {
    int test_ballot; /* print the "PHIẾU THỬ / TEST BALLOT" band and the test flag */
    int copies;      /* PDF pages, one ballot each; >= 1 */
} phieu_render_options;

/* A PDF at A4, 100 % scale, one ballot per page. */
int phieu_render_pdf(const phieu_form *form, const phieu_render_options *opt,
                     const char *path, phieu_error *err);

/* One blank ballot as an 8-bit gray image at dpi (150..600), dpi_x/dpi_y set. */
int phieu_render_raster(const phieu_form *form, const phieu_render_options *opt, int dpi,
                        phieu_image **out, phieu_error *err);

#endif
