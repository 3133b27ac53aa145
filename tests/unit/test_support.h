/*
 * test_support.h - fixtures the unit tests share: loading a form shipped in forms/, a
 * reader set up for one or two of them, rendering a blank ballot, reading a page, and a
 * pen stroke drawn the way a hand draws one. Each tests/unit/test_*.c is built alone, so
 * everything here is static inline; a helper a test file does not use costs nothing.
 */
#ifndef PHIEU_TEST_SUPPORT_H
#define PHIEU_TEST_SUPPORT_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/render.h"

/* The shipped form `id` (forms/<id>.form below PHIEU_SOURCE_DIR, or ".." when ctest did
 * not set it); the test fails with the loader's message if it does not load. */
static inline phieu_form *load_shipped_form(const char *id)
{
    const char *src = getenv("PHIEU_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/forms/%s.form", src ? src : "..", id);
    phieu_error err = {0};
    phieu_form *f = NULL;
    if (phieu_form_load(path, &f, &err) != 0)
        fail_msg("%s", err.message);
    return f;
}

/* ---- A reader set up for one or two shipped forms ------------------------------------ */

typedef struct reader {
    phieu_form *forms[2];
    phieu_layout layouts[2];
    phieu_omr_config cfg;
} reader;

/* Loads id1 (and id2 unless NULL), computes their layouts, default thresholds. */
static inline void reader_init(reader *r, const char *id1, const char *id2, int test_session)
{
    memset(r, 0, sizeof *r);
    phieu_error err = {0};
    const char *ids[2] = {id1, id2};
    for (int i = 0; i < 2 && ids[i]; i++) {
        r->forms[i] = load_shipped_form(ids[i]);
        assert_int_equal(phieu_layout_compute(r->forms[i], &r->layouts[i], &err), 0);
        r->cfg.n_forms = i + 1;
    }
    r->cfg.forms = (const phieu_form *const *)r->forms;
    r->cfg.layouts = r->layouts;
    phieu_thresholds_default(&r->cfg.thresholds);
    r->cfg.test_session = test_session;
}

static inline void reader_release(reader *r)
{
    phieu_form_destroy(&r->forms[0]);
    phieu_form_destroy(&r->forms[1]);
}

/* One copy of form f rendered blank at dpi; test_ballot marks it a test ballot. */
static inline phieu_image *render_blank(const phieu_form *f, int dpi, int test_ballot)
{
    phieu_render_options opt = {.test_ballot = test_ballot, .copies = 1};
    phieu_image *img = NULL;
    phieu_error err = {0};
    if (phieu_render_raster(f, &opt, dpi, &img, &err) != 0)
        fail_msg("%s", err.message);
    return img;
}

/* The reader's reading of img; the test fails if phieu_omr_read returns an error. */
static inline phieu_reading read_page(const reader *r, const phieu_image *img)
{
    phieu_reading rd;
    phieu_error err = {0};
    assert_int_equal(phieu_omr_read(&r->cfg, img, &rd, &err), 0);
    return rd;
}

/* A pen stroke from (x0,y0) to (x1,y1) mm, `width` mm wide, of gray `ink`, with a soft
 * edge one pixel wide (what a scanner's optics make of a pen line); it only darkens. */
static inline void stroke(phieu_image *img, double x0, double y0, double x1, double y1,
                          double width, int ink)
{
    double s = img->dpi_x / 25.4;
    double ax = x0 * s, ay = y0 * s, bx = x1 * s, by = y1 * s, hw = width * s / 2;
    int ix0 = (int)floor(fmin(ax, bx) - hw - 2), ix1 = (int)ceil(fmax(ax, bx) + hw + 2);
    int iy0 = (int)floor(fmin(ay, by) - hw - 2), iy1 = (int)ceil(fmax(ay, by) + hw + 2);
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    for (int y = iy0 < 0 ? 0 : iy0; y <= iy1 && y < img->height; y++)
        for (int x = ix0 < 0 ? 0 : ix0; x <= ix1 && x < img->width; x++) {
            double px = x + 0.5 - ax, py = y + 0.5 - ay;
            double t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double a = hw + 0.5 - hypot(px - t * dx, py - t * dy);
            if (a <= 0)
                continue;
            if (a > 1)
                a = 1;
            uint8_t *p = &img->pixels[(size_t)y * img->stride + x];
            double v = *p * (1 - a) + ink * a;
            if (v < *p)
                *p = (uint8_t)lround(v);
        }
}

#endif
