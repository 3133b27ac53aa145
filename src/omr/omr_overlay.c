/*
 * omr_overlay.c - the debug picture of one reading: the page in gray, the fiducials found,
 * every box outline coloured by its state with a bar for its score, a square per row
 * coloured by the decision, and a frame coloured by the page status. For people; nothing
 * reads it back. The reading itself is made in omr.c.
 */
#include <math.h>
#include <string.h>

#include "omr/omr_internal.h"
#include "phieu/alloc.h"

typedef struct canvas {
    uint8_t *rgb;
    int w, h;
    int pen; /* line thickness in pixels */
} canvas;

static const uint8_t C_MARKED[3] = {0, 170, 0};
static const uint8_t C_MARGINAL[3] = {255, 140, 0};
static const uint8_t C_EMPTY[3] = {40, 110, 255};
static const uint8_t C_OVERVOTE[3] = {220, 0, 0};
static const uint8_t C_BLANK[3] = {150, 150, 150};
static const uint8_t C_FIDUCIAL[3] = {230, 0, 230};

static void dot(canvas *c, int x, int y, const uint8_t col[3])
{
    for (int j = y - c->pen / 2; j <= y + c->pen / 2; j++)
        for (int i = x - c->pen / 2; i <= x + c->pen / 2; i++)
            if (i >= 0 && j >= 0 && i < c->w && j < c->h)
                memcpy(c->rgb + ((size_t)j * c->w + i) * 3, col, 3);
}

static void line(canvas *c, double x0, double y0, double x1, double y1, const uint8_t col[3])
{
    double len = hypot(x1 - x0, y1 - y0);
    int n = (int)ceil(len) + 1;
    if (n > 100000)
        n = 100000;
    for (int k = 0; k <= n; k++) {
        double t = (double)k / n;
        dot(c, (int)lround(x0 + t * (x1 - x0)), (int)lround(y0 + t * (y1 - y0)), col);
    }
}

/* A page rectangle (mm) through the transform. */
static void rect(canvas *c, const double h[9], double x, double y, double w, double hh,
                 const uint8_t col[3])
{
    double p[4][2];
    omr_apply(h, x, y, &p[0][0], &p[0][1]);
    omr_apply(h, x + w, y, &p[1][0], &p[1][1]);
    omr_apply(h, x + w, y + hh, &p[2][0], &p[2][1]);
    omr_apply(h, x, y + hh, &p[3][0], &p[3][1]);
    for (int k = 0; k < 4; k++)
        line(c, p[k][0], p[k][1], p[(k + 1) % 4][0], p[(k + 1) % 4][1], col);
}

static void fill(canvas *c, const double h[9], double x, double y, double w, double hh,
                 const uint8_t col[3])
{
    for (double t = 0; t <= hh; t += 0.2) {
        double u0, v0, u1, v1;
        omr_apply(h, x, y + t, &u0, &v0);
        omr_apply(h, x + w, y + t, &u1, &v1);
        line(c, u0, v0, u1, v1, col);
    }
}

/* One row of the reading: each box outlined in its state's colour with its score as a
 * bar, and a square beside the row in its decision's colour. */
static void draw_row(canvas *c, const double h[9], const phieu_layout *L,
                     const phieu_row_reading *rd, int row, double marked)
{
    for (int k = 0; k < L->n_choices; k++) {
        const phieu_rect *b = &L->boxes[row][k];
        const phieu_box_reading *br = &rd->boxes[k];
        const uint8_t *col = br->state == PHIEU_BOX_MARKED     ? C_MARKED
                             : br->state == PHIEU_BOX_MARGINAL ? C_MARGINAL
                                                               : C_EMPTY;
        rect(c, h, b->x - 0.5, b->y - 0.5, b->w + 1, b->h + 1, col);
        /* The score as a bar under the box: full width at twice "marked". */
        double share = marked > 0 ? br->score / (2 * marked) : 0;
        if (share > 1)
            share = 1;
        if (share > 0)
            fill(c, h, b->x, b->y + b->h + 0.6, b->w * share, 0.6, col);
    }
    int d = rd->decision;
    const uint8_t *col = d >= 0                  ? C_MARKED
                         : d == PHIEU_ROW_BLANK  ? C_BLANK
                         : d == PHIEU_ROW_REVIEW ? C_MARGINAL
                                                 : C_OVERVOTE;
    const phieu_rect *rr = &L->rows[row];
    fill(c, h, rr->x + rr->w + 1.0, rr->y + rr->h / 2 - 1.5, 3, 3, col);
}

int phieu_omr_debug_overlay(const phieu_omr_config *config, const phieu_image *page,
                            const phieu_reading *r, const char *path, phieu_error *err)
{
    if (!config || !page || !r || !path || !page->pixels)
        return phieu_error_set(err, PHIEU_EINVAL, "debug overlay: nothing to draw");
    canvas c = {0};
    c.w = page->width;
    c.h = page->height;
    c.pen = page->width / 1000 + 1;
    c.rgb = phieu_malloc((size_t)c.w * c.h * 3);
    if (!c.rgb)
        return phieu_error_set(err, PHIEU_ENOMEM,
                               "debug overlay: out of memory for %dx%d pixels", c.w, c.h);
    for (int y = 0; y < c.h; y++)
        for (int x = 0; x < c.w; x++)
            memset(c.rgb + ((size_t)y * c.w + x) * 3,
                   page->pixels[(size_t)y * page->stride + x], 3);
    const double *h = r->transform;
    int registered = h[0] != 0 || h[1] != 0 || h[3] != 0 || h[4] != 0;
    const phieu_layout *L = r->form_index >= 0 && r->form_index < config->n_forms
                                ? &config->layouts[r->form_index]
                                : &config->layouts[0];
    if (registered)
        for (int k = 0; k < 4; k++) {
            const phieu_rect *f = &L->fiducials[k];
            rect(&c, h, f->x - 1, f->y - 1, f->w + 2, f->h + 2, C_FIDUCIAL);
        }
    if (registered && r->form_index >= 0) {
        double marked = config->thresholds.value[PHIEU_TH_MARKED];
        for (int row = 0; row < r->n_rows && row < L->n_rows; row++)
            draw_row(&c, h, L, &r->rows[row], row, marked);
    }
    const uint8_t *frame = r->status == PHIEU_PAGE_COUNTED  ? C_MARKED
                           : r->status == PHIEU_PAGE_REVIEW ? C_MARGINAL
                           : r->status == PHIEU_PAGE_BLANK  ? C_BLANK
                                                            : C_OVERVOTE;
    int pen = c.pen;
    c.pen = 3 * pen;
    line(&c, 0, 0, c.w - 1, 0, frame);
    line(&c, c.w - 1, 0, c.w - 1, c.h - 1, frame);
    line(&c, c.w - 1, c.h - 1, 0, c.h - 1, frame);
    line(&c, 0, c.h - 1, 0, 0, frame);
    int rc = phieu_rgb_save_png(c.rgb, c.w, c.h, path, err);
    phieu_free(c.rgb);
    return rc;
}
