/*
 * test_omr.c - the reader on ballots rendered by phieu_render_raster, marked here the way
 * a hand would (pen strokes with soft edges), and moved the way a scanner moves them
 * (rotation, scale, offset, resolution, upside down). Each test checks what a person
 * would check by looking at the ballot: which box is marked, and what the page is.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/render.h"
#include "phieu/util.h"

#include "test_support.h"

#define PI 3.14159265358979323846

/* ---- Drawing marks like a hand, in page millimetres on an upright page --------------- */

typedef enum {
    M_X,
    M_TICK,
    M_FILL,
    M_ACROSS,
    M_SCRIBBLE,
    M_DOT,
    M_GRAZE,
    M_FAINT,
    M_CIRCLE,
    M_BESIDE,
    M_LIGHT_CIRCLE,
    M_CREASE_BESIDE,
    M_EDGE_TICK
} mark_kind;

/* A mark of `kind` in box (r, c) of the layout, with ballpoint ink (gray 40). */
static void mark(phieu_image *img, const phieu_layout *L, int r, int c, mark_kind kind)
{
    const phieu_rect *b = &L->boxes[r][c];
    double x0 = b->x, y0 = b->y, w = b->w, h = b->h, cx = x0 + w / 2, cy = y0 + h / 2;
    switch (kind) {
    case M_X:
        stroke(img, x0 + 0.8, y0 + 0.9, x0 + w - 0.7, y0 + h - 1.0, 0.5, 40);
        stroke(img, x0 + w - 0.9, y0 + 0.8, x0 + 1.0, y0 + h - 0.8, 0.5, 40);
        break;
    case M_TICK:
        stroke(img, x0 + 1.2, cy, cx - 0.3, y0 + h - 1.2, 0.5, 40);
        stroke(img, cx - 0.3, y0 + h - 1.2, x0 + w - 0.8, y0 + 0.9, 0.5, 40);
        break;
    case M_FILL:
        for (double y = y0 + 0.9; y < y0 + h - 0.8; y += 0.5)
            stroke(img, x0 + 0.8, y, x0 + w - 0.8, y + 0.2, 0.7, 50);
        break;
    case M_ACROSS:
        stroke(img, x0 - 0.5, cy + 0.3, x0 + w + 0.4, cy - 0.2, 0.6, 40);
        break;
    case M_SCRIBBLE:
        for (int k = 0; k < 6; k++)
            stroke(img, x0 + 1.0 + k * 0.7, y0 + 1.0, x0 + 1.3 + k * 0.7, y0 + h - 1.0, 0.45,
                   45);
        break;
    case M_DOT:
        stroke(img, cx + 0.4, cy - 0.3, cx + 0.5, cy - 0.2, 0.7, 30);
        break;
    case M_GRAZE: /* a stroke from the left that ends on the box's left edge */
        stroke(img, x0 - 6.0, cy + 1.0, x0 + 0.45, cy + 0.6, 0.5, 40);
        break;
    case M_FAINT: /* a faint pencil X, barely there: a tenth of the way to black */
        stroke(img, x0 + 1.6, y0 + 1.6, x0 + w - 1.6, y0 + h - 1.6, 0.35, 228);
        stroke(img, x0 + w - 1.6, y0 + 1.6, x0 + 1.6, y0 + h - 1.6, 0.35, 228);
        break;
    case M_CIRCLE: /* the box circled, nothing in it: an ellipse 1.3 mm out at the sides */
        for (int k = 0; k < 36; k++) {
            double a0 = 2 * PI * k / 36, a1 = 2 * PI * (k + 1) / 36;
            stroke(img, cx + (w / 2 + 1.3) * cos(a0), cy + (h / 2 + 0.5) * sin(a0),
                   cx + (w / 2 + 1.3) * cos(a1), cy + (h / 2 + 0.5) * sin(a1), 0.5, 40);
        }
        break;
    case M_LIGHT_CIRCLE: /* circled in light pencil: 0.35 mm at a tenth of black */
        for (int k = 0; k < 36; k++) {
            double a0 = 2 * PI * k / 36, a1 = 2 * PI * (k + 1) / 36;
            stroke(img, cx + (w / 2 + 1.5) * cos(a0), cy + (h / 2 + 0.8) * sin(a0),
                   cx + (w / 2 + 1.5) * cos(a1), cy + (h / 2 + 0.8) * sin(a1), 0.35, 228);
        }
        break;
    case M_CREASE_BESIDE: /* a crease down the cell 1.5 mm left of the box, as light */
        stroke(img, x0 - 1.5, y0 - 2.0, x0 - 1.4, y0 + h + 2.0, 0.35, 228);
        break;
    case M_EDGE_TICK: /* a small tick pressed into the bottom-left corner, its long arm
                         along the bottom edge: little but a dot reaches into the box */
        stroke(img, x0 + 0.5, y0 + h - 2.2, x0 + 1.1, y0 + h - 0.55, 0.45, 40);
        stroke(img, x0 + 1.1, y0 + h - 0.55, x0 + w - 0.5, y0 + h - 0.7, 0.45, 40);
        break;
    case M_BESIDE: /* an X made next to the box, 1 mm right of it */
        stroke(img, x0 + w + 1.0, y0 + 1.0, x0 + w + 5.0, y0 + h - 1.0, 0.5, 40);
        stroke(img, x0 + w + 5.0, y0 + 1.0, x0 + w + 1.0, y0 + h - 1.0, 0.5, 40);
        break;
    }
}

/* A crease across the whole page at height y mm: a soft shadow 1.6 mm wide, a few
 * percent dark, with a thin gray core along its top. */
static void fold(phieu_image *img, double y)
{
    stroke(img, 2.0, y + 0.9, 208.0, y + 1.3, 1.6, 238);
    stroke(img, 2.0, y, 208.0, y + 0.4, 0.25, 190);
}

/* ---- Moving the page like a scanner ---------------------------------------------------- */

/* A new image of canvas_w x canvas_h mm at the page's dpi: the page turned by deg degrees
 * about its centre, scaled, and moved by (ox, oy) mm, centred on the canvas; bilinear.
 * The four neighbours are summed in a fixed order and rounded half away from zero (as
 * lround does, for the non-negative sums here), without a call or a branch per neighbour
 * where all four lie on the page: half of this test's time went here. */
static phieu_image *warp(const phieu_image *src, double canvas_w, double canvas_h, double deg,
                         double scale, double ox, double oy)
{
    double s = src->dpi_x / 25.4;
    int w = (int)lround(canvas_w * s), h = (int)lround(canvas_h * s);
    phieu_image *dst = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_create(w, h, &dst, &err), 0);
    dst->dpi_x = dst->dpi_y = src->dpi_x;
    double co = cos(deg * PI / 180), si = sin(deg * PI / 180);
    double pcx = src->width / 2.0, pcy = src->height / 2.0;
    double ccx = w / 2.0 + ox * s, ccy = h / 2.0 + oy * s;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = x + 0.5 - ccx, v = y + 0.5 - ccy;
            double sx = (co * u + si * v) / scale + pcx - 0.5;
            double sy = (-si * u + co * v) / scale + pcy - 0.5;
            int ix = (int)floor(sx), iy = (int)floor(sy);
            double fx = sx - ix, fy = sy - iy;
            int v8[4];
            if (ix >= 0 && iy >= 0 && ix + 1 < src->width && iy + 1 < src->height) {
                const uint8_t *p = src->pixels + (size_t)iy * src->stride + ix;
                v8[0] = p[0], v8[1] = p[1], v8[2] = p[src->stride], v8[3] = p[src->stride + 1];
            } else
                for (int k = 0; k < 4; k++) {
                    int xx = ix + (k & 1), yy = iy + (k >> 1);
                    v8[k] = xx >= 0 && yy >= 0 && xx < src->width && yy < src->height
                                ? src->pixels[(size_t)yy * src->stride + xx]
                                : 255;
                }
            double acc = 0;
            acc += (1 - fx) * (1 - fy) * v8[0];
            acc += fx * (1 - fy) * v8[1];
            acc += (1 - fx) * fy * v8[2];
            acc += fx * fy * v8[3];
            int r = (int)acc;
            dst->pixels[(size_t)y * dst->stride + x] = (uint8_t)(acc - r >= 0.5 ? r + 1 : r);
        }
    return dst;
}

/* A new image of canvas_w x canvas_h mm at the page's dpi: the page turned by deg degrees
 * about its centre, scaled, and moved by (ox, oy) mm, centred on the canvas; bilinear. */
/* Paints the page rectangle (x0, y0)-(x1, y1) mm white. */
static void white_out(phieu_image *img, double x0, double y0, double x1, double y1)
{
    double s = img->dpi_x / 25.4;
    for (int y = (int)fmax(0, y0 * s); y < img->height && y < (int)(y1 * s); y++)
        for (int x = (int)fmax(0, x0 * s); x < img->width && x < (int)(x1 * s); x++)
            img->pixels[(size_t)y * img->stride + x] = 255;
}

static phieu_image *turn_180(const phieu_image *src)
{
    phieu_image *dst = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_clone(src, &dst, &err), 0);
    for (int y = 0; y < src->height; y++)
        for (int x = 0; x < src->width; x++)
            dst->pixels[(size_t)(src->height - 1 - y) * dst->stride + (src->width - 1 - x)] =
                src->pixels[(size_t)y * src->stride + x];
    return dst;
}

/* The page as fed: *img itself, or turned upside down in its place when `turned`. */
static void feed_turned(phieu_image **img, int turned)
{
    if (!turned)
        return;
    phieu_image *t = turn_180(*img);
    phieu_image_destroy(img);
    *img = t;
}

/* ---- The marked ballot most tests use --------------------------------------------------- */

/* Rows 1-8 of district-rating: X high, tick trust, fill low, across high, scribble trust,
 * overvote (X high + X low), blank, X low. */
static const int expected_decisions[] = {0, 1, 2, 0, 1, PHIEU_ROW_OVERVOTE, PHIEU_ROW_BLANK, 2};

static void mark_standard(phieu_image *img, const phieu_layout *L)
{
    mark(img, L, 0, 0, M_X);
    mark(img, L, 1, 1, M_TICK);
    mark(img, L, 2, 2, M_FILL);
    mark(img, L, 3, 0, M_ACROSS);
    mark(img, L, 4, 1, M_SCRIBBLE);
    mark(img, L, 5, 0, M_X);
    mark(img, L, 5, 2, M_X);
    mark(img, L, 7, 2, M_X);
}

static void assert_standard(const phieu_reading *rd, const char *what)
{
    if (rd->status != PHIEU_PAGE_COUNTED)
        fail_msg("%s: page %s (%s: %s)", what, phieu_page_status_name(rd->status),
                 rd->n_reasons ? rd->reasons[0].code : "-",
                 rd->n_reasons ? rd->reasons[0].text : "-");
    for (int r = 0; r < 8; r++)
        if (rd->rows[r].decision != expected_decisions[r])
            fail_msg("%s: row %d decided %d, expected %d (scores %.4f %.4f %.4f)", what, r + 1,
                     rd->rows[r].decision, expected_decisions[r], rd->rows[r].boxes[0].score,
                     rd->rows[r].boxes[1].score, rd->rows[r].boxes[2].score);
    for (int r = 8; r < rd->n_rows; r++)
        if (rd->rows[r].decision != PHIEU_ROW_BLANK)
            fail_msg("%s: unmarked row %d decided %d", what, r + 1, rd->rows[r].decision);
}

/* ---- Tests -------------------------------------------------------------------------------- */

static void test_thresholds(void **state)
{
    (void)state;
    phieu_thresholds t;
    phieu_thresholds_default(&t);
    assert_true(t.value[PHIEU_TH_MARGINAL] < t.value[PHIEU_TH_MARKED]);
    assert_string_equal(phieu_threshold_name(PHIEU_TH_MARKED), "marked");
    assert_string_equal(phieu_threshold_name(PHIEU_TH_MARGINAL), "marginal");
    assert_string_equal(phieu_threshold_name(PHIEU_TH_INK), "ink");
    phieu_error err = {0};
    assert_int_equal(phieu_thresholds_set(&t, "marked", 0.1, &err), 0);
    assert_true(fabs(t.value[PHIEU_TH_MARKED] - 0.1) < 1e-12);
    assert_int_equal(phieu_thresholds_set(&t, "darkness", 0.1, &err), PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "darkness"));
    assert_int_equal(phieu_thresholds_set(&t, "ink", 1.5, &err), PHIEU_EINVAL);
    assert_int_equal(phieu_thresholds_set(&t, "marginal", 0.2, &err), PHIEU_EINVAL);
    assert_true(fabs(t.value[PHIEU_TH_MARKED] - 0.1) < 1e-12); /* unchanged on error */
    assert_true(t.value[PHIEU_TH_MARGINAL] < 0.1);
}

static void test_each_mark_type(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 300, 0);
    mark_standard(img, &r.layouts[0]);
    phieu_reading rd = read_page(&r, img);
    assert_standard(&rd, "300 dpi upright");
    assert_int_equal(rd.form_index, 0);
    assert_int_equal(rd.upside_down, 0);
    /* The clear marks are well above the marked threshold, the empty boxes far below. */
    double marked = r.cfg.thresholds.value[PHIEU_TH_MARKED];
    double marginal = r.cfg.thresholds.value[PHIEU_TH_MARGINAL];
    assert_true(rd.rows[0].boxes[0].score > 2 * marked);
    assert_true(rd.rows[2].boxes[2].score > 0.5);
    for (int row = 8; row < rd.n_rows; row++)
        for (int c = 0; c < 3; c++)
            assert_true(rd.rows[row].boxes[c].score < marginal / 2);
    phieu_image_destroy(&img);
    reader_release(&r);
}

static void test_not_marks(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 300, 0);
    const phieu_layout *L = &r.layouts[0];
    mark(img, L, 0, 1, M_DOT);   /* a hesitation dot */
    mark(img, L, 1, 2, M_GRAZE); /* a stroke from outside touching the edge */
    mark(img, L, 2, 0, M_DOT);
    mark(img, L, 2, 2, M_X); /* a dot beside a real mark does not make an overvote */
    /* A fold through the boxes of row 4, and one through row 5 which holds a tick. */
    fold(img, L->boxes[3][0].y + L->boxes[3][0].h / 2);
    mark(img, L, 4, 1, M_TICK);
    fold(img, L->boxes[4][0].y + L->boxes[4][0].h / 2 - 0.8);
    /* Two strokes across two boxes at one height are a hand's overvote, not a fold. */
    mark(img, L, 5, 0, M_ACROSS);
    mark(img, L, 5, 2, M_ACROSS);
    phieu_reading rd = read_page(&r, img);
    assert_int_equal(rd.status, PHIEU_PAGE_COUNTED);
    assert_int_equal(rd.rows[0].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rd.rows[1].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rd.rows[2].decision, 2);
    assert_int_equal(rd.rows[3].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rd.rows[4].decision, 1);
    assert_int_equal(rd.rows[5].decision, PHIEU_ROW_OVERVOTE);
    phieu_image_destroy(&img);
    reader_release(&r);
}

/* The scanner's blur: each pixel the mean of the 3 x 3 around it. */
static void blur3(phieu_image *img)
{
    size_t n = (size_t)img->stride * img->height;
    uint8_t *src = malloc(n);
    assert_non_null(src);
    memcpy(src, img->pixels, n);
    for (int y = 1; y + 1 < img->height; y++)
        for (int x = 1; x + 1 < img->width; x++) {
            int sum = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    sum += src[(size_t)(y + dy) * img->stride + x + dx];
            img->pixels[(size_t)y * img->stride + x] = (uint8_t)((sum + 4) / 9);
        }
    free(src);
}

/* A 1-bit scan of the page: each pixel black or white at half way. */
static void to_bilevel(phieu_image *img)
{
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            uint8_t *p = &img->pixels[(size_t)y * img->stride + x];
            *p = *p < 128 ? 0 : 255;
        }
}

/* A small light pencil tick in box t, 1.5 mm across: a mark, never a dot. */
static void small_light_tick(phieu_image *img, const phieu_rect *t)
{
    double tx = t->x + 1.6, ty = t->y + 2.2;
    stroke(img, tx, ty, tx + 0.45, ty + 0.7, 0.3, 185);
    stroke(img, tx + 0.45, ty + 0.7, tx + 1.3, ty - 0.6, 0.3, 185);
}

/* At 150 dpi the scanner's blur (here twice a 3 x 3 mean) widens a 0.8 mm hesitation dot
 * by a pixel or more on each side, past the 1.5 mm a dot may span: it must still read as a dot (duplicates deck seed 7001
 * p00187 read two such dots as votes), while a tick still counts and a small light one
 * is never taken for a dot (deck 1207 p04008, p08301). */
static void test_dot_at_low_resolution(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int dpi = 150; dpi <= 300; dpi += 50) {
        phieu_image *img = render_blank(r.forms[0], dpi, 0);
        for (int row = 0; row < 3; row++) {
            const phieu_rect *b = &L->boxes[row][row];
            double cx = b->x + b->w * (0.35 + 0.1 * row), cy = b->y + b->h * 0.45;
            stroke(img, cx, cy, cx + 0.05, cy + 0.05, 0.8, 40);
        }
        mark(img, L, 3, 1, M_TICK);
        small_light_tick(img, &L->boxes[4][2]);
        blur3(img);
        blur3(img);
        phieu_reading rd = read_page(&r, img);
        for (int row = 0; row < 3; row++)
            if (rd.rows[row].decision != PHIEU_ROW_BLANK)
                fail_msg("%d dpi: the dot in row %d read as %d (score %.4f)", dpi, row + 1,
                         rd.rows[row].decision, rd.rows[row].boxes[row].score);
        assert_int_equal(rd.rows[3].decision, 1);
        if (rd.rows[4].decision == PHIEU_ROW_BLANK)
            fail_msg("%d dpi: the small tick in row 5 read blank (score %.4f)", dpi,
                     rd.rows[4].boxes[2].score);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A hesitation dot with a light halo joined to it, as a JPEG scan rings one round a dark
 * dot: the halo is ink, under a quarter as dark as the dot, and must not make the dot
 * span a mark (fold deck seed 1210 p00959 row 19, quality 75 at 200 dpi: 1.95 mm with the
 * halo, 0.75 mm without; read as a vote). A small light tick beside it is still a mark. */
static void test_dot_jpeg_halo(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int dpi = 150; dpi <= 300; dpi += 50) {
        phieu_image *img = render_blank(r.forms[0], dpi, 0);
        const phieu_rect *b = &L->boxes[0][2];
        double cx = b->x + b->w * 0.55, cy = b->y + b->h * 0.6;
        stroke(img, cx, cy, cx + 0.05, cy + 0.05, 1.9, 205);
        stroke(img, cx, cy, cx + 0.05, cy + 0.05, 0.6, 40);
        small_light_tick(img, &L->boxes[1][0]);
        blur3(img);
        phieu_reading rd = read_page(&r, img);
        if (rd.rows[0].decision != PHIEU_ROW_BLANK)
            fail_msg("%d dpi: the dot with its halo read as %d (score %.4f)", dpi,
                     rd.rows[0].decision, rd.rows[0].boxes[2].score);
        if (rd.rows[1].decision == PHIEU_ROW_BLANK)
            fail_msg("%d dpi: the small tick read blank", dpi);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A hesitation dot stays a dot when a fold crosses its box: the fold's band takes part of
 * the dot with it, and what the fold leaves behind must not add up to a vote (seed 12
 * p00378 row 7 read a dot above a crease as a choice). */
static void test_dot_on_fold(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    for (int dpi = 200; dpi <= 300; dpi += 100) {
        phieu_image *img = render_blank(r.forms[0], dpi, 0);
        const phieu_layout *L = &r.layouts[0];
        const phieu_rect *b;
        /* Row 1: a large dot in the first box, 0.8 mm above a crease's core. */
        b = &L->boxes[0][0];
        fold(img, b->y + b->h / 2 + 0.5);
        stroke(img, b->x + 2.2, b->y + b->h / 2 - 0.3, b->x + 2.3, b->y + b->h / 2 - 0.3, 1.0, 30);
        /* Row 2: the dot sits on the crease's core and joins its line. */
        b = &L->boxes[1][1];
        fold(img, b->y + b->h / 2);
        stroke(img, b->x + 3.0, b->y + b->h / 2, b->x + 3.1, b->y + b->h / 2, 1.0, 30);
        /* Row 3: a dot in the shadow below the core, in the last box. */
        b = &L->boxes[2][2];
        fold(img, b->y + b->h / 2 - 1.0);
        stroke(img, b->x + 2.6, b->y + b->h / 2 + 0.2, b->x + 2.7, b->y + b->h / 2 + 0.3, 1.0, 30);
        /* Row 4: a dot by a fold beside a tick: the tick is still the vote. */
        b = &L->boxes[3][0];
        fold(img, b->y + b->h / 2 + 0.5);
        stroke(img, b->x + 2.2, b->y + b->h / 2 - 0.3, b->x + 2.3, b->y + b->h / 2 - 0.3, 1.0, 30);
        mark(img, L, 3, 1, M_TICK);
        /* Row 5: a dot by a fold, and a pen line drawn along the fold in another box: the
         * line is a mark (the dot rule must not swallow it). */
        b = &L->boxes[4][0];
        fold(img, b->y + b->h / 2 + 0.5);
        stroke(img, b->x + 2.2, b->y + b->h / 2 - 0.3, b->x + 2.3, b->y + b->h / 2 - 0.3, 1.0, 30);
        b = &L->boxes[4][2];
        stroke(img, b->x - 0.3, b->y + b->h / 2 + 0.6, b->x + b->w + 0.3, b->y + b->h / 2 + 0.6,
               0.6, 40);
        phieu_reading rd = read_page(&r, img);
        for (int row = 0; row < 3; row++) {
            int d = rd.rows[row].decision;
            assert_true(d == PHIEU_ROW_BLANK || d == PHIEU_ROW_REVIEW);
        }
        assert_int_equal(rd.rows[3].decision, 1);
        assert_int_equal(rd.rows[4].decision, 2);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A hand's line drawn along a crease, or across it at a slant, is a mark and must not be
 * taken out with the crease: in a vote of confidence, a 0.5 mm pen line at gray 60 along
 * the crease in one box and one slanting across it in the other were both taken for the
 * crease and the row read blank (the band's mean darkness, diluted by the wide shadow,
 * was no darker than the crease's). Row 1 is neither blank nor one choice; in row 2 the
 * slanted line alone is the vote, the crease in the other box taken out. */
static void test_line_on_fold(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "confidence-vote", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int dpi = 200; dpi <= 300; dpi += 100) {
        phieu_image *img = render_blank(r.forms[0], dpi, 0);
        const phieu_rect *a = &L->boxes[0][0], *b = &L->boxes[0][1];
        double y = a->y + a->h / 2;
        fold(img, y);
        stroke(img, a->x - 0.3, y + 0.2, a->x + a->w + 0.3, y + 0.2, 0.5, 60);
        stroke(img, b->x - 0.3, y + 1.6, b->x + b->w + 0.3, y - 0.6, 0.5, 60);
        b = &L->boxes[1][1];
        y = b->y + b->h / 2;
        fold(img, y);
        stroke(img, b->x - 0.3, y + 1.6, b->x + b->w + 0.3, y - 0.6, 0.5, 60);
        phieu_reading rd = read_page(&r, img);
        int d = rd.rows[0].decision;
        if (d != PHIEU_ROW_OVERVOTE && d != PHIEU_ROW_REVIEW)
            fail_msg("%d dpi: two lines on a crease read as %d (scores %.4f %.4f)", dpi, d,
                     rd.rows[0].boxes[0].score, rd.rows[0].boxes[1].score);
        if (rd.rows[1].decision != 1)
            fail_msg("%d dpi: a slanted line across a crease read as %d (scores %.4f %.4f)", dpi,
                     rd.rows[1].decision, rd.rows[1].boxes[0].score, rd.rows[1].boxes[1].score);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* What the 10,000-page deck (seed 2026) read wrong, drawn again at 200 dpi: each row
 * says what a person sees in it. */
static void test_deck_findings(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    phieu_image *img = render_blank(r.forms[0], 200, 0);
    const phieu_rect *b;
    /* The marks were measured in the deck's 6 mm boxes; k scales a position in such a box
     * to this layout's (5 mm since issue 13). */
    const double k = L->boxes[0][0].w / 6.0;
    /* Row 1: a thin tick broken into dashes, as a 1-bit scan leaves it (p06349): a vote. */
    b = &L->boxes[0][0];
    for (double t = 0; t < 1.0; t += 0.2) /* dashes 0.45 mm apart, each under 0.4 mm */
        stroke(img, b->x + k * (1.2 + t * 1.6), b->y + k * (3.2 + t * 1.6),
               b->x + k * (1.2 + t * 1.6), b->y + k * (3.2 + t * 1.6), 0.15, 0);
    for (double t = 0; t < 1.0; t += 0.1)
        stroke(img, b->x + k * (2.9 + t * 2.6), b->y + k * (4.8 - t * 3.8),
               b->x + k * (2.9 + t * 2.6), b->y + k * (4.8 - t * 3.8), 0.15, 0);
    /* Row 2: a hesitation dot, and 3 mm from it a little noise blob (p03971): blank. */
    mark(img, L, 1, 1, M_DOT);
    b = &L->boxes[1][1];
    stroke(img, b->x + 1.2, b->y + b->h - 1.4, b->x + 1.6, b->y + b->h - 1.3, 0.3, 225);
    /* Row 3: a light pencil line along a crease, in one box only (p08202): a vote. */
    b = &L->boxes[2][1];
    /* The crease is seen beside this box only, as where a fill hides it in the others. */
    stroke(img, b->x - 8.0, b->y + b->h / 2 + 0.9, b->x + b->w + 8.0, b->y + b->h / 2 + 1.3, 1.6,
           244);
    stroke(img, b->x - 8.0, b->y + b->h / 2, b->x + b->w + 8.0, b->y + b->h / 2 + 0.4, 0.25, 190);
    stroke(img, b->x + 0.5, b->y + b->h / 2 + 0.2, b->x + b->w - 0.5, b->y + b->h / 2 + 0.1, 0.9,
           160);
    /* Row 4: an erased pencil X (light residue) beside the tick that replaced it (p06078):
     * neither one vote nor two, a person decides. */
    b = &L->boxes[3][0];
    stroke(img, b->x + 1.0, b->y + 1.0, b->x + b->w - 1.0, b->y + b->h - 1.0, 0.2, 205);
    stroke(img, b->x + b->w - 1.0, b->y + 1.0, b->x + 1.0, b->y + b->h - 1.0, 0.2, 205);
    b = &L->boxes[3][2]; /* a small tick with a fine pen: it scores under three residues */
    stroke(img, b->x + k * 1.8, b->y + k * 3.4, b->x + k * 2.6, b->y + k * 4.4, 0.3, 40);
    stroke(img, b->x + k * 2.6, b->y + k * 4.4, b->x + k * 4.2, b->y + k * 1.8, 0.3, 40);
    /* Row 5: a faint X with a dark fleck where its strokes cross (p00035): review. */
    b = &L->boxes[4][2];
    stroke(img, b->x + 1.2, b->y + 1.2, b->x + b->w - 1.2, b->y + b->h - 1.2, 0.4, 243);
    stroke(img, b->x + b->w - 1.2, b->y + 1.2, b->x + 1.2, b->y + b->h - 1.2, 0.4, 243);
    stroke(img, b->x + b->w / 2, b->y + b->h / 2, b->x + b->w / 2 + 0.05, b->y + b->h / 2, 0.5, 60);
    /* Row 6: a small faint tick, a thin pencil line under the ink threshold (p02193): it
     * covers under 5 % of the box, but it is a stroke across it: review. */
    b = &L->boxes[5][1];
    stroke(img, b->x + k * 2.0, b->y + k * 3.0, b->x + k * 2.7, b->y + k * 3.7, 0.16, 241);
    stroke(img, b->x + k * 2.7, b->y + k * 3.7, b->x + k * 4.5, b->y + k * 1.3, 0.16, 241);
    phieu_reading rd = read_page(&r, img);
    assert_int_equal(rd.rows[0].decision, 0);
    assert_int_equal(rd.rows[1].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rd.rows[2].decision, 1);
    assert_int_equal(rd.rows[3].decision, PHIEU_ROW_REVIEW);
    assert_int_equal(rd.rows[4].decision, PHIEU_ROW_REVIEW);
    assert_int_equal(rd.rows[5].decision, PHIEU_ROW_REVIEW);
    phieu_image_destroy(&img);
    reader_release(&r);
}

/* A faint pencil tick that the grain broke into three pieces, none of them 2.2 mm long
 * (deck seed 1212, p05160, read blank): two pieces slant across the box, and together
 * they are a stroke across it: review. */
static void test_faint_tick_in_pieces(void **state)
{
    (void)state;
    /* A 0.2 mm line 6 % below paper: its faint look covers 4.7 % of the interior, under
     * the 5 % asked of ink that is not a stroke across the box. */
    const int gray = 241;
    const double w = 0.2;
    reader r;
    reader_init(&r, "confidence-vote", NULL, 0);
    const phieu_rect *b = &r.layouts[0].boxes[0][0];
    phieu_image *img = render_blank(r.forms[0], 200, 0);
    /* The short arm, down to the vertex; the long arm's lower part, its top end. */
    stroke(img, b->x + 1.3, b->y + 3.6, b->x + 2.6, b->y + 4.9, w, gray);
    stroke(img, b->x + 3.3, b->y + 4.6, b->x + 4.2, b->y + 3.5, w, gray);
    stroke(img, b->x + 4.7, b->y + 2.8, b->x + 5.3, b->y + 1.9, w, gray);
    phieu_reading rd = read_page(&r, img);
    assert_int_equal(rd.rows[0].boxes[0].state, PHIEU_BOX_MARGINAL);
    assert_int_equal(rd.rows[0].decision, PHIEU_ROW_REVIEW);
    phieu_image_destroy(&img);
    reader_release(&r);
}

/* The page as a scanner without a white clip sees it: paper at 230, a normal deviate of
 * sigma gray levels added to every pixel. Box-Muller on splitmix64, so every run draws
 * the same page (xorshift32 left a lattice in the samples the reader takes). */
static void add_noise(phieu_image *img, double sigma, uint64_t seed)
{
    uint64_t x = seed;
    for (int y = 0; y < img->height; y++)
        for (int i = 0; i < img->width; i++) {
            double u[2];
            for (int k = 0; k < 2; k++) {
                uint64_t z = (x += 0x9E3779B97F4A7C15ull);
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
                u[k] = ((z ^ (z >> 31)) >> 11) * 0x1.0p-53 + 0x1.0p-54;
            }
            uint8_t *p = &img->pixels[(size_t)y * img->stride + i];
            double v = 0.9 * *p + sigma * sqrt(-2 * log(u[0])) * cos(2 * PI * u[1]);
            *p = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
        }
}

/* A faint pencil tick where the paper's noise is measured high (deck seed 1209 p02920
 * row 18, read blank): a small thin tick low in the left of its box, 12 gray levels below
 * clean paper, on the province form at 200 dpi, whose rows lie 7.5 mm apart so that the
 * table's rules cross the ring where paper noise is measured. Blurred twice, the rules'
 * gray there reads as sigma 5.5 in row 10 (as on p02920), 4 sigma passes the ink
 * threshold and the look sample by sample is off; the look along strokes sees the tick:
 * review. On paper really that noisy (sigma 4.5, no white clip) nothing is seen where
 * there is nothing, and a hesitation dot stays empty. */
static void test_faint_tick_on_noisy_paper(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int noisy = 0; noisy <= 1; noisy++) {
        phieu_image *img = render_blank(r.forms[0], 200, 0);
        const phieu_rect *b = &L->boxes[9][0];
        if (!noisy) {
            stroke(img, b->x + 0.9, b->y + 3.3, b->x + 1.4, b->y + 3.7, 0.3, 238);
            stroke(img, b->x + 1.4, b->y + 3.7, b->x + 3.4, b->y + 1.1, 0.3, 238);
        }
        mark(img, L, 10, 1, M_DOT);
        blur3(img);
        blur3(img);
        if (noisy)
            add_noise(img, 4.5, 1209);
        phieu_reading rd = read_page(&r, img);
        for (int row = 0; row < L->n_rows; row++) {
            int want = !noisy && row == 9 ? PHIEU_ROW_REVIEW : PHIEU_ROW_BLANK;
            if (rd.rows[row].decision != want)
                fail_msg("%s: row %d decided %d, expected %d", noisy ? "noisy" : "clean", row + 1,
                         rd.rows[row].decision, want);
        }
        if (!noisy) {
            assert_int_equal(rd.rows[9].boxes[0].state, PHIEU_BOX_MARGINAL);
            assert_int_equal(rd.n_reasons, 1);
            assert_non_null(strstr(rd.reasons[0].text, "faint"));
        }
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A faint pencil tick on clean paper clipped to white, at 150 dpi on the province form
 * (deck seed 1313 p01186 row 20, read blank): there the table's rules and the outline's
 * blur fill over a quarter of the ring where paper noise is measured, and the old
 * (p90 - p50) / 1.28 read sigma 15-27 on paper with no noise at all, which switched both
 * faint looks off. The tick, 12 gray levels below paper before the blur, goes to review.
 * On noisy paper whose noise the scanner clips at white (sigma 4.5 round 250, so the
 * ring's upper side reads little of it), a hesitation dot and empty boxes stay blank. */
static void test_faint_tick_clipped_paper_150dpi(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int noisy = 0; noisy <= 1; noisy++) {
        phieu_image *img = render_blank(r.forms[0], 150, 0);
        const phieu_rect *b = &L->boxes[14][0];
        if (!noisy) {
            stroke(img, b->x + 1.0, b->y + 2.6, b->x + 1.6, b->y + 3.4, 0.3, 243);
            stroke(img, b->x + 1.6, b->y + 3.4, b->x + 3.8, b->y + 1.2, 0.3, 243);
        }
        mark(img, L, 16, 1, M_DOT);
        blur3(img);
        if (noisy) {
            add_noise(img, 4.5, 1313);
            for (size_t k = 0; k < (size_t)img->stride * img->height; k++)
                img->pixels[k] = (uint8_t)(img->pixels[k] > 235 ? 255 : img->pixels[k] + 20);
        }
        phieu_reading rd = read_page(&r, img);
        for (int row = 0; row < L->n_rows; row++) {
            int want = !noisy && row == 14 ? PHIEU_ROW_REVIEW : PHIEU_ROW_BLANK;
            if (rd.rows[row].decision != want)
                fail_msg("%s: row %d decided %d, expected %d", noisy ? "noisy" : "clean", row + 1,
                         rd.rows[row].decision, want);
        }
        if (!noisy)
            assert_int_equal(rd.rows[14].boxes[0].state, PHIEU_BOX_MARGINAL);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* Two marks in a row: an overvote only when they are of comparable strength. A light X
 * (an erasure's residue, a smudge) beside a clear one goes to a person whatever its score
 * (issue 12: residues scoring 0.063-0.08 read as confident overvotes); two marks of one
 * hand, one pressed lighter, or a tick beside a filled box, stay an overvote. */
static void test_weak_second_mark(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    /* The second X's darkness as a share of the first's (gray 40 on paper 255). */
    static const double share[] = {0.2, 0.3, 0.45, 0.8, 1.0};
    const int n = (int)(sizeof share / sizeof share[0]);
    for (int dpi = 200; dpi <= 300; dpi += 100) {
        phieu_image *img = render_blank(r.forms[0], dpi, 0);
        for (int i = 0; i < n; i++) {
            mark(img, L, i, 0, M_X);
            const phieu_rect *b = &L->boxes[i][2];
            int gray = (int)lround(255 - share[i] * (255 - 40));
            /* A wide stroke: a rubbed-out X covers most of the box, scoring above 0.06. */
            stroke(img, b->x + 0.9, b->y + 0.9, b->x + b->w - 0.9, b->y + b->h - 0.9, 1.0, gray);
            stroke(img, b->x + b->w - 0.9, b->y + 0.9, b->x + 0.9, b->y + b->h - 0.9, 1.0, gray);
        }
        mark(img, L, n, 1, M_FILL); /* a real overvote of unequal marks */
        mark(img, L, n, 2, M_TICK);
        phieu_reading rd = read_page(&r, img);
        for (int i = 0; i < n; i++) {
            int want = share[i] < 0.5 ? PHIEU_ROW_REVIEW : PHIEU_ROW_OVERVOTE;
            if (rd.rows[i].decision != want)
                fail_msg("%d dpi, share %.2f: row decided %d, expected %d (darkness %.3f, %.3f; "
                         "scores %.4f, %.4f)",
                         dpi, share[i], rd.rows[i].decision, want, rd.rows[i].boxes[0].darkness,
                         rd.rows[i].boxes[2].darkness, rd.rows[i].boxes[0].score,
                         rd.rows[i].boxes[2].score);
            assert_int_equal(rd.rows[i].boxes[2].state, PHIEU_BOX_MARKED);
        }
        assert_true(rd.rows[0].boxes[2].score > 0.06); /* the old floor would not see it */
        assert_int_equal(rd.rows[n].decision, PHIEU_ROW_OVERVOTE);
        /* The reasons: one per light row, naming both boxes and both figures. */
        int seen = 0;
        for (int k = 0; k < rd.n_reasons; k++) {
            if (strcmp(rd.reasons[k].code, "weak-second-mark") != 0)
                continue;
            const phieu_row_reading *row = &rd.rows[rd.reasons[k].row - 1];
            char fig[32];
            assert_non_null(strstr(rd.reasons[k].text, "'high'"));
            assert_non_null(strstr(rd.reasons[k].text, "'low'"));
            snprintf(fig, sizeof fig, "%.4f", row->boxes[0].score);
            assert_non_null(strstr(rd.reasons[k].text, fig));
            snprintf(fig, sizeof fig, "%.4f", row->boxes[2].score);
            assert_non_null(strstr(rd.reasons[k].text, fig));
            seen++;
        }
        assert_int_equal(seen, 3);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A thin tick, 0.3 mm wide, drawn in gray. */
static void thin_tick(phieu_image *img, const phieu_rect *t, int gray)
{
    double cy = t->y + t->h / 2, mx = t->x + t->w / 2 - 0.3;
    stroke(img, t->x + 1.2, cy, mx, t->y + t->h - 1.2, 0.3, gray);
    stroke(img, mx, t->y + t->h - 1.2, t->x + t->w - 0.8, t->y + 0.9, 0.3, gray);
}

/* A rubbed-out pencil X beside a light pencil tick (deck seed 1212, p07253 and p09875):
 * the residue is wide and evenly light, the tick thin with soft edges, so by plain mean
 * darkness the residue is over 0.6 as dark as the tick and the row read as a confident
 * overvote, voiding the vote. By the darkness of their strokes' cores it is a light mark
 * beside a clear one: review. Two such ticks in one row stay an overvote. */
static void test_erasure_beside_light_tick(void **state)
{
    (void)state;
    /* Ink of 0.9 of black for the tick, 0.36 for the residue: a residue within the 0.4 of
     * the mark beside it that rubbing leaves (docs/recognition.md, "Weak second marks"). */
    const int tick_gray = 60, residue_gray = 185;
    reader r;
    reader_init(&r, "confidence-vote", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int dpi = 200; dpi <= 300; dpi += 100) {
        phieu_image *img = render_blank(r.forms[0], dpi, 0);
        for (int row = 0; row < 2; row++) {
            const phieu_rect *t = &L->boxes[row][0], *e = &L->boxes[row][1];
            thin_tick(img, t, tick_gray);
            if (row == 1) { /* a second tick like the first: an overvote */
                thin_tick(img, e, tick_gray);
                continue;
            }
            stroke(img, e->x + 1.0, e->y + 1.0, e->x + e->w - 1.0, e->y + e->h - 1.0, 1.1,
                   residue_gray);
            stroke(img, e->x + e->w - 1.0, e->y + 1.0, e->x + 1.0, e->y + e->h - 1.0, 1.1,
                   residue_gray);
        }
        blur3(img);
        blur3(img);
        phieu_reading rd = read_page(&r, img);
        const phieu_box_reading *b = rd.rows[0].boxes;
        assert_int_equal(b[1].state, PHIEU_BOX_MARKED);
        /* The plain mean's rule (under 0.6 as dark) would not see it. */
        assert_true(b[1].darkness >= 0.6 * b[0].darkness);
        if (rd.rows[0].decision != PHIEU_ROW_REVIEW)
            fail_msg("%d dpi: row decided %d, expected review (darkness %.3f, %.3f)", dpi,
                     rd.rows[0].decision, b[0].darkness, b[1].darkness);
        assert_int_equal(rd.rows[1].decision, PHIEU_ROW_OVERVOTE);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

static void test_faint_mark_goes_to_review(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 300, 0);
    mark(img, &r.layouts[0], 2, 1, M_FAINT);
    mark(img, &r.layouts[0], 0, 0, M_X);
    phieu_reading rd = read_page(&r, img);
    assert_int_equal(rd.status, PHIEU_PAGE_REVIEW);
    assert_int_equal(rd.rows[0].decision, 0);
    assert_int_equal(rd.rows[2].decision, PHIEU_ROW_REVIEW);
    assert_int_equal(rd.rows[2].boxes[1].state, PHIEU_BOX_MARGINAL);
    assert_true(rd.n_reasons >= 1);
    assert_string_equal(rd.reasons[0].code, "marginal-mark");
    assert_int_equal(rd.reasons[0].row, 3);
    assert_non_null(strstr(rd.reasons[0].text, "faint"));
    assert_non_null(strstr(rd.reasons[0].text, "trust"));
    phieu_image_destroy(&img);
    reader_release(&r);
}

/* A row where no box is marked but the voter circled a box, or made the mark next to it,
 * is not blank: a person decides (the ink is plainly meant). A row with a real mark keeps
 * its mark whatever is beside its other boxes. */
static void test_mark_beside_box_goes_to_review(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int turned = 0; turned <= 1; turned++) {
        phieu_image *img = render_blank(r.forms[0], 200, 0);
        mark(img, L, 0, 1, M_CIRCLE);
        mark(img, L, 1, 0, M_BESIDE);
        mark(img, L, 2, 2, M_CIRCLE);
        mark(img, L, 2, 0, M_TICK);
        mark(img, L, 3, 1, M_GRAZE); /* ends on the edge: still nothing */
        feed_turned(&img, turned);
        phieu_reading rd = read_page(&r, img);
        assert_int_equal(rd.status, PHIEU_PAGE_REVIEW);
        assert_int_equal(rd.rows[0].decision, PHIEU_ROW_REVIEW);
        assert_int_equal(rd.rows[1].decision, PHIEU_ROW_REVIEW);
        assert_int_equal(rd.rows[2].decision, 0);
        assert_int_equal(rd.rows[3].decision, PHIEU_ROW_BLANK);
        assert_int_equal(rd.rows[4].decision, PHIEU_ROW_BLANK);
        assert_int_equal(rd.n_reasons, 2);
        assert_string_equal(rd.reasons[0].code, "mark-beside-box");
        assert_int_equal(rd.reasons[0].row, 1);
        assert_non_null(strstr(rd.reasons[0].text, "'trust'"));
        assert_string_equal(rd.reasons[1].code, "mark-beside-box");
        assert_int_equal(rd.reasons[1].row, 2);
        assert_non_null(strstr(rd.reasons[1].text, "'high'"));
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A box circled in light pencil is seen on both sides of the box and goes to review; a
 * crease as light on one side only does not. A small tick along the box's edge, of which
 * the part inside is no bigger than a dot, is not taken for a graze and a dot: review. */
static void test_light_circle_and_edge_tick_go_to_review(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int turned = 0; turned <= 1; turned++) {
        phieu_image *img = render_blank(r.forms[0], 200, 0);
        mark(img, L, 0, 1, M_LIGHT_CIRCLE);
        mark(img, L, 1, 0, M_CREASE_BESIDE);
        mark(img, L, 2, 2, M_EDGE_TICK);
        mark(img, L, 3, 0, M_DOT);
        feed_turned(&img, turned);
        phieu_reading rd = read_page(&r, img);
        assert_int_equal(rd.status, PHIEU_PAGE_REVIEW);
        assert_int_equal(rd.rows[0].decision, PHIEU_ROW_REVIEW);
        assert_int_equal(rd.rows[1].decision, PHIEU_ROW_BLANK);
        assert_int_equal(rd.rows[2].decision, PHIEU_ROW_REVIEW);
        assert_int_equal(rd.rows[3].decision, PHIEU_ROW_BLANK);
        assert_int_equal(rd.n_reasons, 2);
        assert_string_equal(rd.reasons[0].code, "mark-beside-box");
        assert_non_null(strstr(rd.reasons[0].text, "light line"));
        assert_non_null(strstr(rd.reasons[0].text, "'trust'"));
        assert_string_equal(rd.reasons[1].code, "marginal-mark");
        assert_int_equal(rd.reasons[1].row, 3);
        assert_non_null(strstr(rd.reasons[1].text, "along the inside of its outline"));
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

/* A tick drawn on the box's edge (deck seed 1212 p00852 rows 12 and 15, 150 dpi 1-bit,
 * read blank): its vertex under the bottom-right corner, its long arm up along the right
 * side, inside the line below and outside it above, so that the line hides it and only a
 * few samples reach the interior. Box 1 of row 0 holds it; row 1 a stroke from outside
 * that ends on the edge, row 2 nothing, row 3 a tick in box 2. */
static phieu_image *edge_tick_page(const reader *r, int dpi)
{
    const phieu_layout *L = &r->layouts[0];
    phieu_image *img = render_blank(r->forms[0], dpi, 0);
    const phieu_rect *b = &L->boxes[0][1];
    double vx = b->x + b->w - 0.95, vy = b->y + b->h + 0.15;
    stroke(img, b->x + b->w - 2.2, b->y + b->h - 0.3, vx, vy, 0.35, 40);
    stroke(img, vx, vy, b->x + b->w + 0.3, b->y + 0.2, 0.35, 40);
    mark(img, L, 1, 0, M_GRAZE);
    mark(img, L, 3, 2, M_TICK);
    return img;
}

/* The tick on the edge goes to review with the reason that names it; the stroke ending on
 * the edge and the empty row read blank. */
static void check_edge_tick_page(const phieu_reading *rd)
{
    assert_int_equal(rd->rows[0].decision, PHIEU_ROW_REVIEW);
    assert_int_equal(rd->rows[0].boxes[1].state, PHIEU_BOX_MARGINAL);
    assert_string_equal(rd->reasons[0].code, "marginal-mark");
    assert_non_null(strstr(rd->reasons[0].text, "along its printed outline"));
    assert_int_equal(rd->rows[1].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rd->rows[2].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rd->rows[3].decision, 2);
    assert_int_equal(rd->n_reasons, 1);
}

/* In a 1-bit scan, and in a gray scan blurred as a scanner does (read blank before: the
 * line and its blur hide the tick there too), at 150 and 200 dpi. */
static void test_edge_tick_on_outline(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    static const int dpis[] = {150, 200};
    for (int bilevel = 0; bilevel <= 1; bilevel++)
        for (size_t i = 0; i < sizeof dpis / sizeof dpis[0]; i++) {
            phieu_image *img = edge_tick_page(&r, dpis[i]);
            if (bilevel)
                to_bilevel(img);
            else
                blur3(img);
            phieu_reading rd = read_page(&r, img);
            check_edge_tick_page(&rd);
            phieu_image_destroy(&img);
        }
    reader_release(&r);
}

/* A tick whose vertex rests on the bottom line of a 5 mm province box (deck seed 1212
 * p00852 rows 2, 13, 19, 21, 26 and 28, and the ticks of p02180, p03350, p03837, p09501,
 * 150 dpi 1-bit): the interior, inset from the line, cuts it at the vertex into two arms,
 * the short one along the bottom, the long one up the box's right part. Each arm lies
 * within 0.8 mm of the edge nearest to each of its points, and both were set aside as
 * grazes: the row went to review for ink along the inside of the outline. The long arm
 * reaches deep from the bottom and from the right, as no graze from outside does: the
 * tick counts, in gray and in 1-bit, at 150, 200 and 300 dpi. */
static void test_tick_cut_at_its_vertex(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    for (int dpi = 150; dpi <= 300; dpi += 50)
        for (int bilevel = 0; bilevel <= 1; bilevel++) {
            phieu_image *img = render_blank(r.forms[0], dpi, 0);
            for (int row = 0; row < 3; row++) {
                const phieu_rect *b = &L->boxes[row][row];
                double vx = b->x + b->w * 0.62, vy = b->y + b->h - 0.4;
                stroke(img, b->x + 0.6, b->y + b->h - 1.6, vx, vy, 0.35, 40);
                stroke(img, vx, vy, b->x + b->w - 0.5, b->y + 0.9 + 0.3 * row, 0.35, 40);
            }
            if (bilevel)
                to_bilevel(img);
            else
                blur3(img);
            phieu_reading rd = read_page(&r, img);
            for (int row = 0; row < 3; row++)
                if (rd.rows[row].decision != row)
                    fail_msg("%d dpi %s: the tick in row %d read as %d", dpi,
                             bilevel ? "1-bit" : "gray", row + 1, rd.rows[row].decision);
            phieu_image_destroy(&img);
        }
    reader_release(&r);
}

static void test_rotation_scale_offset(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 200, 0);
    mark_standard(img, &r.layouts[0]);
    /* Rotation and offset on a canvas wider than A4 (as a scanner's area is). */
    static const struct {
        double deg, scale, ox, oy;
    } moves[] = {
        {10, 1, 0, 0},     {-10, 1, 0, 0},   {0, 0.95, 0, 0},   {0, 1.05, 0, 0},
        {0, 1, 15, 15},    {0, 1, -15, -15}, {3, 0.97, -8, 12}, {-6, 1.03, 10, -10},
    };
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        phieu_image *m = warp(img, 250, 340, moves[i].deg, moves[i].scale, moves[i].ox,
                              moves[i].oy);
        phieu_reading rd = read_page(&r, m);
        char what[128];
        snprintf(what, sizeof what, "rotated %g, scaled %g, moved %g,%g mm", moves[i].deg,
                 moves[i].scale, moves[i].ox, moves[i].oy);
        assert_standard(&rd, what);
        phieu_image_destroy(&m);
    }
    phieu_image_destroy(&img);
    reader_release(&r);
}

static void test_resolutions_and_upside_down(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    static const int dpis[] = {150, 200};
    for (size_t i = 0; i < sizeof dpis / sizeof dpis[0]; i++) {
        phieu_image *img = render_blank(r.forms[0], dpis[i], 0);
        mark_standard(img, &r.layouts[0]);
        char what[64];
        snprintf(what, sizeof what, "%d dpi", dpis[i]);
        phieu_reading rd = read_page(&r, img);
        assert_standard(&rd, what);
        assert_int_equal(rd.upside_down, 0);
        phieu_image *turned = turn_180(img);
        snprintf(what, sizeof what, "%d dpi upside down", dpis[i]);
        rd = read_page(&r, turned);
        assert_standard(&rd, what);
        assert_int_equal(rd.upside_down, 1);
        phieu_image_destroy(&turned);
        phieu_image_destroy(&img);
    }
    reader_release(&r);
}

static void test_wrong_form_and_several_forms(void **state)
{
    (void)state;
    reader one, two;
    reader_init(&one, "district-rating", NULL, 0);
    reader_init(&two, "district-rating", "confidence-vote", 0);
    phieu_image *other = render_blank(two.forms[1], 200, 0);
    mark(other, &two.layouts[1], 0, 1, M_X);
    phieu_reading rd = read_page(&one, other);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_int_equal(rd.form_index, -1);
    assert_string_equal(rd.reasons[0].code, "wrong-form");
    /* Given both forms, the same page reads as the second. */
    rd = read_page(&two, other);
    assert_int_equal(rd.status, PHIEU_PAGE_COUNTED);
    assert_int_equal(rd.form_index, 1);
    assert_int_equal(rd.n_rows, two.layouts[1].n_rows);
    assert_int_equal(rd.rows[0].decision, 1);
    assert_string_equal(phieu_row_decision_name(two.forms[1], rd.rows[0].decision),
                        two.forms[1]->choices[1].key);
    phieu_image_destroy(&other);
    reader_release(&one);
    reader_release(&two);
}

/* A page whose form code is covered (a smear, tape) is rejected, never guessed; when the
 * counting board says which form it is, phieu_omr_read_as reads its marks as that form. */
static void test_read_as_board_form(void **state)
{
    (void)state;
    reader two;
    reader_init(&two, "district-rating", "confidence-vote", 0);
    phieu_image *img = render_blank(two.forms[0], 200, 0);
    mark_standard(img, &two.layouts[0]);
    /* White out every code cell and the bars: the code is gone. */
    const phieu_layout *L = &two.layouts[0];
    double mm = 200 / 25.4;
    int x0 = (int)(L->code_start.x * mm) - 2, y0 = (int)(L->code_start.y * mm) - 2;
    int x1 = (int)((L->code_end.x + L->code_end.w) * mm) + 2;
    int y1 = (int)((L->code_start.y + L->code_start.h) * mm) + 2;
    for (int y = y0; y < y1; y++)
        memset(img->pixels + (size_t)y * img->stride + x0, 255, (size_t)(x1 - x0));
    phieu_reading rd = read_page(&two, img);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_int_equal(rd.form_index, -1);
    assert_string_equal(rd.reasons[0].code, "code-unreadable");

    phieu_error err = {0};
    assert_int_equal(phieu_omr_read_as(&two.cfg, 0, img, &rd, &err), 0);
    assert_int_equal(rd.form_index, 0);
    assert_string_equal(rd.reasons[0].code, "form-set-by-board");
    assert_standard(&rd, "read as district-rating");
    /* An index that names no form is the caller's mistake. */
    assert_int_equal(phieu_omr_read_as(&two.cfg, 2, img, &rd, &err), PHIEU_EINVAL);

    /* A test ballot stays refused in an official session whatever the board says. */
    phieu_image *tb = render_blank(two.forms[0], 200, 1);
    assert_int_equal(phieu_omr_read_as(&two.cfg, 0, tb, &rd, &err), 0);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_int_equal(rd.test_ballot, 1);
    phieu_image_destroy(&tb);
    phieu_image_destroy(&img);
    reader_release(&two);
}

static void test_test_ballots(void **state)
{
    (void)state;
    reader official, testing;
    reader_init(&official, "district-rating", NULL, 0);
    reader_init(&testing, "district-rating", NULL, 1);
    phieu_image *tb = render_blank(official.forms[0], 200, 1);
    phieu_image *ob = render_blank(official.forms[0], 200, 0);
    mark(tb, &official.layouts[0], 0, 0, M_X);
    mark(ob, &official.layouts[0], 0, 0, M_X);
    phieu_reading rd = read_page(&official, tb);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_int_equal(rd.test_ballot, 1);
    assert_string_equal(rd.reasons[0].code, "test-ballot");
    rd = read_page(&testing, ob);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_int_equal(rd.test_ballot, 0);
    assert_string_equal(rd.reasons[0].code, "official-ballot-in-test-session");
    rd = read_page(&testing, tb);
    assert_int_equal(rd.status, PHIEU_PAGE_COUNTED);
    assert_int_equal(rd.rows[0].decision, 0);
    phieu_image_destroy(&tb);
    phieu_image_destroy(&ob);
    reader_release(&official);
    reader_release(&testing);
}

static void test_blank_and_unregistered(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_error err = {0};
    phieu_image *white = NULL;
    assert_int_equal(phieu_image_create(1654, 2339, &white, &err), 0); /* A4, 200 dpi */
    for (int y = 0; y < white->height; y++) /* paper is never perfectly white */
        for (int x = 0; x < white->width; x++)
            white->pixels[(size_t)y * white->stride + x] = (uint8_t)(236 + (x * 7 + y * 13) % 9);
    phieu_reading rd = read_page(&r, white);
    assert_int_equal(rd.status, PHIEU_PAGE_BLANK);
    assert_int_equal(rd.form_index, -1);
    /* A ballot whose two bottom corner marks were cut off: content, not registered. */
    phieu_image *img = render_blank(r.forms[0], 200, 0);
    const phieu_rect *br = &r.layouts[0].fiducials[PHIEU_FID_BR];
    double s = 200 / 25.4;
    white_out(img, 0, br->y - 1, 210, 297);
    rd = read_page(&r, img);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_string_equal(rd.reasons[0].code, "not-registered");
    assert_non_null(strstr(rd.reasons[0].text, "found 2 of the 4"));
    phieu_image_destroy(&img);
    (void)s;
    phieu_image_destroy(&white);
    reader_release(&r);
}

/* The reading carries the note `three-corners` (a note, row -1) naming the missing corner
 * and why, and the table near that corner confirms the place: every box outline looked at
 * found, and every point of the frame seen (3 or more) in place. */
static void assert_three_corners_note(const phieu_reading *rd, const char *what,
                                      const char *corner, const char *why)
{
    for (int k = 0; k < rd->n_reasons; k++) {
        const phieu_reason *n = &rd->reasons[k];
        if (strcmp(n->code, "three-corners") != 0)
            continue;
        assert_int_equal(n->row, -1);
        if (!strstr(n->text, corner) || !strstr(n->text, why))
            fail_msg("%s: note '%s'", what, n->text);
        int boxes = -1, looked = -1, in_place = -1, seen = -1;
        const char *at = strstr(n->text, "); ");
        if (!at || sscanf(at, "); %d of %d box outlines and %d of %d points", &boxes, &looked,
                          &in_place, &seen) != 4 ||
            looked < 2 || boxes != looked || seen < 3 || in_place != seen)
            fail_msg("%s: the table near the corner in note '%s'", what, n->text);
        return;
    }
    fail_msg("%s: no three-corners note", what);
}

/* One corner mark missing, spoilt or cut off: three that agree register the page, the
 * table near the fourth confirms it, and the note says which corner and why. Every corner,
 * upright and upside down, at 200 and 300 dpi. */
static void test_three_corners(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    static const char *const names[4] = {"top-left", "top-right", "bottom-right", "bottom-left"};
    static const char *const why[3] = {"not there", "spoils its square", "cut it off"};
    for (int dpi = 200; dpi <= 300; dpi += 100)
        for (int corner = 0; corner < 4; corner++)
            for (int turned = 0; turned <= 1; turned++)
                for (int how = 0; how < 3; how++) {
                    phieu_image *img = render_blank(r.forms[0], dpi, 0);
                    mark_standard(img, L);
                    const phieu_rect *f = &L->fiducials[corner];
                    if (how == 0) /* whited out */
                        white_out(img, f->x - 1, f->y - 1, f->x + f->w + 1, f->y + f->h + 1);
                    else if (how == 1) /* a blot of ink over it, wider than the square */
                        for (double y = f->y - 2; y < f->y + f->h + 3; y += 0.4)
                            stroke(img, f->x - 1.5, y, f->x + f->w + 4, y + 0.3, 0.6, 70);
                    phieu_image *page = img;
                    if (how == 2) {
                        /* The sheet fed 2.5 degrees askew and to one side: the frame's
                         * edge cuts 5 mm off this corner mark, the other corner on that
                         * side stays 7 mm inside (a frame cuts a straight strip). */
                        int left = corner == PHIEU_FID_TL || corner == PHIEU_FID_BL;
                        int upper = corner == PHIEU_FID_TL || corner == PHIEU_FID_TR;
                        double deg = (left == upper) ? -2.5 : 2.5;
                        double x = f->x + f->w / 2 - 105, y = f->y + f->h / 2 - 148.5;
                        double co = cos(deg * PI / 180), si = sin(deg * PI / 180);
                        double u = co * x - si * y, half = f->w / 2;
                        double ox = left ? -5 + half - 105 - u : 210 + 5 - half - 105 - u;
                        page = warp(img, 210, 297, deg, 1.0, ox, 0);
                    }
                    if (turned) {
                        phieu_image *t = turn_180(page);
                        if (page != img)
                            phieu_image_destroy(&page);
                        page = t;
                    }
                    char what[80];
                    snprintf(what, sizeof what, "%d dpi, %s corner, %s, %s", dpi, names[corner],
                             why[how], turned ? "upside down" : "upright");
                    phieu_reading rd = read_page(&r, page);
                    assert_standard(&rd, what);
                    assert_int_equal(rd.upside_down, turned);
                    assert_three_corners_note(&rd, what, names[corner], why[how]);
                    if (page != img)
                        phieu_image_destroy(&page);
                    phieu_image_destroy(&img);
                }
    /* Three corner marks, but the table near the fourth is gone (the corner torn off with
     * the rows beside it): nothing confirms the transform there, so no reading. */
    phieu_image *img = render_blank(r.forms[0], 200, 0);
    mark_standard(img, L);
    const phieu_rect *tr = &L->fiducials[PHIEU_FID_TR];
    white_out(img, 0, 0, tr->x - 1, L->boxes[1][0].y + L->boxes[1][0].h + 1.5);
    phieu_reading rd = read_page(&r, img);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_string_equal(rd.reasons[0].code, "not-registered");
    assert_non_null(strstr(rd.reasons[0].text, "top-left"));
    phieu_image_destroy(&img);
    /* Three corner marks and the boxes where they say, but the table's frame near the
     * missing one printed 1.2 mm off (another print of the form, or paper pasted over):
     * the local evidence disagrees, so no reading. */
    img = render_blank(r.forms[0], 200, 0);
    mark_standard(img, L);
    const phieu_rect *tl = &L->fiducials[PHIEU_FID_TL], *t = &L->table;
    white_out(img, tl->x - 1, tl->y - 1, tl->x + tl->w + 1, tl->y + tl->h + 1);
    white_out(img, t->x - 0.3, t->y - 0.3, t->x + 25, t->y + 0.7);
    white_out(img, t->x - 0.3, t->y - 0.3, t->x + 0.7, t->y + 25);
    stroke(img, t->x - 1.2, t->y - 1.0, t->x + 25, t->y - 1.0, 0.4, 0);
    stroke(img, t->x - 1.0, t->y - 1.2, t->x - 1.0, t->y + 25, 0.4, 0);
    rd = read_page(&r, img);
    assert_int_equal(rd.status, PHIEU_PAGE_REJECTED);
    assert_string_equal(rd.reasons[0].code, "not-registered");
    if (!strstr(rd.reasons[0].text, "points of the table's frame"))
        fail_msg("frame off: %s", rd.reasons[0].text);
    phieu_image_destroy(&img);
    reader_release(&r);
}

/* A corner mark with its outer part cut away, white where it was (the sheet's corner
 * clipped, or torn, on white paper), away from the image's edge: what is left is no longer
 * the printed square, and its centre is not the square's (a third cut away moves it
 * 1.2 mm, enough to sample the form code off). It must not be taken as the corner mark:
 * the page registers on the other three, the note says so, the table near that corner
 * confirms the place and the code reads. A quarter, a third and a half cut off the outer
 * side, then off the outer edge above or below; every corner, upright and upside down,
 * 150 and 300 dpi. Before, 35 of the 64 pages with a quarter or a third cut away took
 * what was left for the mark (no note), and 5 of them lost their form code. */
static void test_clipped_corner_mark(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    static const char *const names[4] = {"top-left", "top-right", "bottom-right", "bottom-left"};
    for (int dpi = 150; dpi <= 300; dpi += 150)
        for (int corner = 0; corner < 4; corner++)
            for (int cut = 0; cut < 6; cut++) /* a quarter, a third, a half; across, down */
                for (int turned = 0; turned <= 1; turned++) {
                    phieu_image *page = render_blank(r.forms[0], dpi, 0);
                    mark_standard(page, L);
                    const phieu_rect *f = &L->fiducials[corner];
                    int left = corner == PHIEU_FID_TL || corner == PHIEU_FID_BL;
                    int upper = corner == PHIEU_FID_TL || corner == PHIEU_FID_TR;
                    static const double shares[3] = {0.25, 1.0 / 3, 0.5};
                    static const char *const share_names[3] = {"a quarter", "a third", "a half"};
                    double share = shares[cut % 3], x0 = f->x - 1, y0 = f->y - 1;
                    double x1 = f->x + f->w + 1, y1 = f->y + f->h + 1;
                    if (cut < 3 && left)
                        x1 = f->x + share * f->w;
                    else if (cut < 3)
                        x0 = f->x + (1 - share) * f->w;
                    else if (upper)
                        y1 = f->y + share * f->h;
                    else
                        y0 = f->y + (1 - share) * f->h;
                    white_out(page, x0, y0, x1, y1);
                    feed_turned(&page, turned);
                    char what[96];
                    snprintf(what, sizeof what, "%d dpi, %s corner, %s cut off %s, %s", dpi,
                             names[corner], share_names[cut % 3],
                             cut < 3 ? "its side" : "its top or bottom",
                             turned ? "upside down" : "upright");
                    phieu_reading rd = read_page(&r, page);
                    assert_standard(&rd, what);
                    assert_int_equal(rd.form_index, 0);
                    assert_int_equal(rd.upside_down, turned);
                    assert_three_corners_note(&rd, what, names[corner], "not there");
                    phieu_image_destroy(&page);
                }
    reader_release(&r);
}

/* The council's seal as a stamp leaves it: a ring 1.1 mm wide of radius R, a thin inner
 * ring, lettering dashes between them, a filled star in the middle; gray `ink`, centred
 * at (cx, cy) mm. */
static void draw_seal(phieu_image *img, double cx, double cy, double R, int ink)
{
    for (int k = 0; k < 72; k++) {
        double a0 = 2 * PI * k / 72, a1 = 2 * PI * (k + 1) / 72;
        stroke(img, cx + R * cos(a0), cy + R * sin(a0), cx + R * cos(a1), cy + R * sin(a1), 1.1,
               ink);
        stroke(img, cx + (R - 3.2) * cos(a0), cy + (R - 3.2) * sin(a0),
               cx + (R - 3.2) * cos(a1), cy + (R - 3.2) * sin(a1), 0.4, ink);
        stroke(img, cx + (R - 2.6) * cos(a0), cy + (R - 2.6) * sin(a0),
               cx + (R - 1.4) * cos(a0 + 0.03), cy + (R - 1.4) * sin(a0 + 0.03), 0.45, ink);
    }
    for (double rr = 0; rr < R * 0.3; rr += 0.3) /* the star, as a filled disc */
        for (int k = 0; k < 5; k++) {
            double a = -PI / 2 + 2 * PI * k / 5;
            stroke(img, cx, cy, cx + rr * cos(a), cy + rr * sin(a), 1.6, ink);
        }
}

/* The seal stamped over or touching the top-left corner mark, in a gray scan (red ink is
 * mid-gray), a 1-bit scan (black) and a colour scan (red, dropped out when loaded): the
 * corner mark is still found as the square it is (no three-corner note), and the page
 * reads. Also: the zone the layout keeps for the seal is clear of every box. */
static void test_seal_over_corner(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    const phieu_rect *f = &L->fiducials[PHIEU_FID_TL];
    double fx = f->x + f->w / 2, fy = f->y + f->h / 2, R = 16;
    /* Seal centres: the ring across the mark, touching its right side, over its corner,
     * and the mark under the star. */
    const double at[4][2] = {{fx + R, fy + 2}, {fx + 3.5 + 0.55 + R, fy + 6},
                             {fx + 3.5 + R * 0.7, fy + 3.5 + R * 0.7}, {fx + 1, fy + 1}};
    for (int mode = 0; mode < 3; mode++) /* gray, 1-bit, RGB */
        for (int k = 0; k < 4; k++)
            for (int turned = 0; turned <= 1; turned++) {
                phieu_image *img = render_blank(r.forms[0], 200, 0);
                mark_standard(img, L);
                phieu_image *page = NULL;
                char what[80];
                snprintf(what, sizeof what, "%s, seal %d, %s",
                         mode == 0 ? "gray" : mode == 1 ? "1-bit" : "colour", k,
                         turned ? "upside down" : "upright");
                if (mode < 2) {
                    draw_seal(img, at[k][0], at[k][1], R, mode == 0 ? 120 : 0);
                    if (mode == 1)
                        to_bilevel(img);
                    page = img;
                    img = NULL;
                } else {
                    /* Red stamp ink multiplied over the page, saved as an RGB PNG. */
                    phieu_image *seal = NULL;
                    phieu_error err = {0};
                    assert_int_equal(phieu_image_create(img->width, img->height, &seal, &err), 0);
                    seal->dpi_x = seal->dpi_y = img->dpi_x;
                    draw_seal(seal, at[k][0], at[k][1], R, 0);
                    size_t np = (size_t)img->width * img->height;
                    uint8_t *rgb = malloc(np * 3);
                    assert_non_null(rgb);
                    static const double ink[3] = {0.82, 0.12, 0.12};
                    for (int y = 0; y < img->height; y++)
                        for (int x = 0; x < img->width; x++) {
                            double cov = (255 - seal->pixels[(size_t)y * seal->stride + x]) / 255.0;
                            double g = img->pixels[(size_t)y * img->stride + x];
                            for (int c = 0; c < 3; c++)
                                rgb[((size_t)y * img->width + x) * 3 + c] =
                                    (uint8_t)lround(g * (1 - 0.85 * cov * (1 - ink[c])));
                        }
                    char path[] = "/tmp/phieu-seal-XXXXXX";
                    int fd = mkstemp(path);
                    assert_true(fd >= 0);
                    close(fd);
                    assert_int_equal(phieu_rgb_save_png(rgb, img->width, img->height, path, &err),
                                     0);
                    assert_int_equal(phieu_image_load(path, 0, NULL, &page, &err), 0);
                    page->dpi_x = page->dpi_y = img->dpi_x;
                    unlink(path);
                    free(rgb);
                    phieu_image_destroy(&seal);
                }
                feed_turned(&page, turned);
                phieu_reading rd = read_page(&r, page);
                assert_standard(&rd, what);
                for (int i = 0; i < rd.n_reasons; i++)
                    if (strcmp(rd.reasons[i].code, "three-corners") == 0)
                        fail_msg("%s: the corner mark under the seal was not found: %s", what,
                                 rd.reasons[i].text);
                phieu_image_destroy(&page);
                phieu_image_destroy(&img);
            }
    /* The seal's zone is clear of every box of every shipped form, by 2 mm or more. */
    static const char *const ids[] = {"district-rating", "province-rating", "confidence-vote"};
    for (int i = 0; i < 3; i++) {
        phieu_form *form = load_shipped_form(ids[i]);
        phieu_layout lay;
        phieu_error err = {0};
        assert_int_equal(phieu_layout_compute(form, &lay, &err), 0);
        const phieu_rect *z = &lay.seal;
        for (int row = 0; row < lay.n_rows; row++)
            for (int c = 0; c < lay.n_choices; c++) {
                const phieu_rect *b = &lay.boxes[row][c];
                int apart = b->x > z->x + z->w + 2 || b->x + b->w < z->x - 2 ||
                            b->y > z->y + z->h + 2 || b->y + b->h < z->y - 2;
                if (!apart)
                    fail_msg("%s: box %d/%d within 2 mm of the seal's zone", ids[i], row + 1,
                             c + 1);
            }
        phieu_form_destroy(&form);
    }
    reader_release(&r);
}

static void test_deterministic_json(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 200, 0);
    mark_standard(img, &r.layouts[0]);
    mark(img, &r.layouts[0], 8, 1, M_FAINT);
    phieu_buf a, b;
    phieu_buf_init(&a);
    phieu_buf_init(&b);
    phieu_reading r1 = read_page(&r, img), r2 = read_page(&r, img);
    phieu_omr_reading_json(&r1, r.forms[0], &a);
    phieu_omr_reading_json(&r2, r.forms[0], &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_non_null(strstr(a.data, "\"status\":\"review\""));
    assert_non_null(strstr(a.data, "\"form\":\"district-rating\""));
    assert_non_null(strstr(a.data, "\"reasons\":[\"marginal-mark\"]"));
    assert_non_null(strstr(a.data, "\"row\":9,\"text\":\"row 9, box 'trust'"));
    assert_non_null(strstr(a.data, "{\"row\":1,\"decision\":\"high\",\"boxes\":[{\"choice\":"
                                   "\"high\",\"score\":"));
    assert_non_null(strstr(a.data, "{\"row\":6,\"decision\":\"overvote\""));
    assert_non_null(strstr(a.data, "{\"row\":7,\"decision\":\"blank\""));
    assert_non_null(strstr(a.data, "{\"row\":9,\"decision\":\"review\""));
    phieu_buf_release(&a);
    phieu_buf_release(&b);
    phieu_image_destroy(&img);
    reader_release(&r);
}

static void test_no_position_bias(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "province-rating", NULL, 0);
    const phieu_layout *L = &r.layouts[0];
    phieu_image *img = render_blank(r.forms[0], 300, 0);
    for (int row = 0; row < L->n_rows; row++)
        for (int c = 0; c < L->n_choices; c++)
            mark(img, L, row, c, M_X);
    phieu_reading rd = read_page(&r, img);
    assert_int_equal(rd.status, PHIEU_PAGE_COUNTED);
    double lo = 1, hi = 0;
    for (int row = 0; row < L->n_rows; row++) {
        assert_int_equal(rd.rows[row].decision, PHIEU_ROW_OVERVOTE);
        for (int c = 0; c < L->n_choices; c++) {
            double sc = rd.rows[row].boxes[c].score;
            assert_int_equal(rd.rows[row].boxes[c].state, PHIEU_BOX_MARKED);
            lo = fmin(lo, sc);
            hi = fmax(hi, sc);
        }
    }
    /* The same mark scores the same everywhere, within sampling of the pixel grid. */
    assert_true(hi - lo < 0.1 * hi);
    phieu_image_destroy(&img);
    reader_release(&r);
}

static void test_ink_similarity(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *a = render_blank(r.forms[0], 200, 0);
    phieu_image *b = render_blank(r.forms[0], 200, 0);
    mark_standard(a, &r.layouts[0]);
    /* The same choices by another hand: ticks where a has crosses, and the other way. */
    const phieu_layout *L = &r.layouts[0];
    mark(b, L, 0, 0, M_TICK);
    mark(b, L, 1, 1, M_X);
    mark(b, L, 2, 2, M_X);
    mark(b, L, 3, 0, M_TICK);
    mark(b, L, 4, 1, M_X);
    mark(b, L, 5, 0, M_TICK);
    mark(b, L, 5, 2, M_TICK);
    mark(b, L, 7, 2, M_TICK);
    phieu_image *rescan = warp(a, 210, 297, 0.7, 1.0, 0.4, -0.3);
    phieu_reading ra = read_page(&r, a), rb = read_page(&r, b), rs = read_page(&r, rescan);
    double same = phieu_omr_ink_similarity(&ra, &rs);
    double other = phieu_omr_ink_similarity(&ra, &rb);
    assert_true(same > 0.9);
    assert_true(other < same - 0.2);
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
    phieu_image_destroy(&rescan);
    reader_release(&r);
}

static void test_debug_overlay(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 150, 0);
    mark_standard(img, &r.layouts[0]);
    phieu_reading rd = read_page(&r, img);
    char path[] = "/tmp/test_omr_overlay_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    phieu_error err = {0};
    assert_int_equal(phieu_omr_debug_overlay(&r.cfg, img, &rd, path, &err), 0);
    phieu_image *back = NULL;
    assert_int_equal(phieu_image_load(path, 0, NULL, &back, &err), 0);
    assert_int_equal(back->width, img->width);
    assert_int_equal(back->height, img->height);
    phieu_image_destroy(&back);
    unlink(path);
    phieu_image_destroy(&img);
    reader_release(&r);
}

static void test_out_of_memory(void **state)
{
    (void)state;
    reader r;
    reader_init(&r, "district-rating", NULL, 0);
    phieu_image *img = render_blank(r.forms[0], 150, 0);
    phieu_reading rd;
    phieu_error err = {0};
    int failures_seen = 0;
    for (long n = 0; n < 20; n++) {
        phieu_alloc_fail_after(n);
        int rc = phieu_omr_read(&r.cfg, img, &rd, &err);
        long failed = phieu_alloc_failures();
        phieu_alloc_fail_after(-1);
        if (failed == 0) {
            assert_int_equal(rc, 0);
            break;
        }
        failures_seen = 1;
        assert_int_equal(rc, PHIEU_ENOMEM);
        assert_non_null(strstr(err.message, "memory"));
    }
    assert_true(failures_seen);
    assert_int_equal(phieu_omr_read(NULL, img, &rd, &err), PHIEU_EINVAL);
    phieu_image_destroy(&img);
    reader_release(&r);
}

int main(void)
{
    phieu_error err = {0};
    if (phieu_util_init(&err) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_each_mark_type),
        cmocka_unit_test(test_not_marks),
        cmocka_unit_test(test_dot_on_fold),
        cmocka_unit_test(test_line_on_fold),
        cmocka_unit_test(test_deck_findings),
        cmocka_unit_test(test_faint_tick_on_noisy_paper),
        cmocka_unit_test(test_faint_tick_clipped_paper_150dpi),
        cmocka_unit_test(test_faint_tick_in_pieces),
        cmocka_unit_test(test_weak_second_mark),
        cmocka_unit_test(test_erasure_beside_light_tick),
        cmocka_unit_test(test_faint_mark_goes_to_review),
        cmocka_unit_test(test_mark_beside_box_goes_to_review),
        cmocka_unit_test(test_light_circle_and_edge_tick_go_to_review),
        cmocka_unit_test(test_edge_tick_on_outline),
        cmocka_unit_test(test_tick_cut_at_its_vertex),
        cmocka_unit_test(test_dot_at_low_resolution),
        cmocka_unit_test(test_dot_jpeg_halo),
        cmocka_unit_test(test_rotation_scale_offset),
        cmocka_unit_test(test_resolutions_and_upside_down),
        cmocka_unit_test(test_wrong_form_and_several_forms),
        cmocka_unit_test(test_read_as_board_form),
        cmocka_unit_test(test_test_ballots),
        cmocka_unit_test(test_blank_and_unregistered),
        cmocka_unit_test(test_three_corners),
        cmocka_unit_test(test_clipped_corner_mark),
        cmocka_unit_test(test_seal_over_corner),
        cmocka_unit_test(test_deterministic_json),
        cmocka_unit_test(test_no_position_bias),
        cmocka_unit_test(test_ink_similarity),
        cmocka_unit_test(test_debug_overlay),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
