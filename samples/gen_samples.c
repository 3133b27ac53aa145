/*
 * gen_samples.c - makes scanned ballots with ground truth for accuracy tests and benches.
 * The blank ballot comes from the project's renderer (phieu_render_raster); this program
 * draws marks on it like a person would (pens, pressure, mark shapes, hard cases), then
 * simulates the scan (skew, scale, offset, blur, noise, light, JPEG blocks, dpi, gray, RGB,
 * 1-bit). It never reads the result back: the truth is what was drawn. samples/README.md
 * documents the options and the truth.jsonl format.
 *
 *   gen_samples --count N --out DIR [--seed S] [--set committed] [--forms DIR]
 *               [--jobs J] [--split ID=DIR] [--few-marks] [--folds]
 */
#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tiffio.h>
#include <zlib.h>

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/render.h"
#include "phieu/util.h"

#include "sample_rng.h"

#define MAX_FORMS 16
#define DEFAULT_SEED 20230701u   /* NQ 96 came into force on 1 July 2023 */
#define COMMITTED_COUNT 54       /* pages of the committed set (samples/ballots/) */
#define COMMITTED_SEED 96u
#define PAGE_W_MM 210.0
#define PAGE_H_MM 297.0
#define MM_PER_INCH 25.4

/* Randomness: splitmix64 in sample_rng.h, one stream per page. */

/* ---- What a page is ------------------------------------------------------------------- */

typedef enum { MARK_X, MARK_TICK, MARK_FILL, MARK_LINE, MARK_SCRIBBLE, MARK_TYPES } mark_type;
static const char *const mark_names[MARK_TYPES] = {"x", "tick", "fill", "line", "scribble"};

typedef struct pen {
    const char *name;
    double r, g, b;           /* ink colour at full pressure */
    double w_min, w_max;      /* line width, mm */
    double p_min, p_max;      /* pressure: opacity of the ink */
    int grain;                /* pencil: ink broken by the paper's grain */
} pen;

/* Ballpoint 0.3-0.5 mm, felt pen about 1 mm, pencils with grain; pressure is darkness.
 * A light pencil at its lightest (0.65 x 0.62 = 0.40 of black before grain) stays 1.4
 * times darker than the faint pen at its darkest (0.58 x 0.50 = 0.29): below 0.6 the two
 * overlapped after grain, blur and JPEG, so an "ordinary" mark could be as faint as the
 * hard case and no reader could tell which of two identical marks the truth counts. */
static const pen pens[] = {
    {"ballpoint-black", 0.08, 0.08, 0.10, 0.30, 0.50, 0.80, 0.95, 0},
    {"ballpoint-blue", 0.10, 0.18, 0.55, 0.30, 0.50, 0.75, 0.95, 0},
    {"felt-pen", 0.05, 0.05, 0.08, 0.80, 1.20, 0.90, 1.00, 0},
    {"pencil-dark", 0.20, 0.20, 0.22, 0.45, 0.75, 0.65, 0.85, 1},
    {"pencil-light", 0.35, 0.35, 0.37, 0.45, 0.70, 0.62, 0.80, 1},
};
#define N_PENS (int)(sizeof pens / sizeof pens[0])
/* Faint: a light pencil barely pressed, meant to land near the marginal threshold. */
static const pen faint_pen = {"pencil-faint", 0.42, 0.42, 0.44, 0.35, 0.50, 0.35, 0.50, 1};
/* A faint mark stays this much (share of paper white) darker than the scanner's white
 * clip on average: about 10 gray levels, barely visible, as a faint pencil line is. */
#define FAINT_ABOVE_CLIP 0.04
/* The mean opacity of the pencil grain (uniform between GRAIN_LO and 1, grain_pattern). */
#define GRAIN_MEAN ((1.0 + 0.35) / 2)
/* An erasure's residue is at most this share as dark as the clear mark beside it. */
#define ERASURE_MAX_SHARE 0.4

typedef enum { KIND_BALLOT, KIND_BACK, KIND_OTHER_FORM, KIND_DUPLEX } page_kind;
typedef enum { OUT_GRAY_PNG, OUT_GRAY_TIFF, OUT_RGB_PNG, OUT_BW_TIFF } out_mode;
static const char *const out_names[] = {"gray", "gray", "rgb", "1-bit"};

/* HARD_RED_PEN is not drawn per row: a whole ballot marked in red pen and scanned in
 * colour, where the red dropout that removes the seal removes the marks too. It sits past
 * HARD_KINDS so that the rows' draws stay what they were. */
typedef enum {
    HARD_NONE, HARD_FAINT, HARD_ERASURE, HARD_COVERED, HARD_CIRCLED, HARD_KINDS,
    HARD_RED_PEN = HARD_KINDS
} hard_kind;
static const char *const hard_names[HARD_KINDS + 1] = {NULL,      "faint",   "erasure",
                                                       "covered", "circled", "red-pen"};

typedef struct scan_params {
    int dpi;
    double rot_deg, scale, off_x, off_y;
    int upside_down;
    int blur_passes;
    double noise;       /* sigma in gray levels */
    double light_amp;   /* uneven light: darkest corner loses this share */
    int light_axis;     /* 0: along x, 1: along y */
    int clip_white;     /* the scanner maps paper to 255 */
    int jpeg_quality;   /* 0: no JPEG blocks */
    int dark_background;
    double paper[3];    /* paper colour (tinted paper for some templates) */
    out_mode mode;
    int cut_corner;     /* printed corner (PHIEU_FID_*) the scanner's frame cuts, or -1 */
    double cut_mm;      /* how far into that corner mark, from its outer side: 2-8 mm */
} scan_params;

typedef struct page_plan {
    page_kind kind;
    int form;          /* index into the loaded forms */
    int test;
    int all_blank;     /* nobody marked anything */
    int marked_rows;   /* --few-marks: only the first 1 or 2 rows marked; 0: every row */
    int n_hard;        /* rows with a hard case */
    int seal;
    int seal_free;     /* stamped anywhere in the top-left 60 x 60 mm, not in its zone */
    int red_pen;       /* the voter marked in red pen (the seal's colour) */
    int low_dpi;       /* scanned at 150 dpi */
    double seal_x, seal_y; /* ... centred here (mm) */
    int fold;          /* draw a crease through a row */
    int stray_near_fiducial;
    int bleed;         /* back side: the front shows through */
    scan_params scan;
} page_plan;

typedef struct row_truth {
    char truth[PHIEU_FORM_KEY_MAX]; /* choice key, "blank" or "overvote" */
    hard_kind hard;
    char notes[160];                /* marks and distractors, for people */
} row_truth;

/* Resolutions the generator scans at (blank pages are cached per form and resolution):
 * 200, 300 and 600 dpi, and 150 for a scanner set to its lowest. */
#define N_DPIS 4

typedef struct gen {
    const char *out_dir;
    uint64_t seed;
    int committed;
    int few_marks; /* --few-marks: pages of one or two marks, for the rescan bench */
    int folds;     /* --folds: a crease through a row of every page, for fold regressions */
    int n_forms;
    phieu_form *forms[MAX_FORMS];
    phieu_form *edited[MAX_FORMS]; /* the same form with one name changed: "another form" */
    phieu_image *blank_cache[MAX_FORMS * 2][N_DPIS]; /* [form*2+edited][dpi index], test apart */
    phieu_image *test_cache[MAX_FORMS][N_DPIS];
    FILE *truth;
} gen;

static int dpi_index(int dpi)
{
    return dpi == 200 ? 0 : dpi == 300 ? 1 : dpi == 600 ? 2 : 3;
}

/* ---- Marks ------------------------------------------------------------------------------ */

typedef struct pt {
    double x, y;
} pt;

#define MAX_PTS 256

/* A grain mask for pencil and stamp ink: random opacity between lo and 1 per pixel. */
static cairo_pattern_t *grain_pattern(rng *r, double px_per_mm, double lo)
{
    enum { G = 61 }; /* a prime side so the repeat does not line up with anything */
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A8, G, G);
    unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    cairo_surface_flush(s);
    for (int y = 0; y < G; y++)
        for (int x = 0; x < G; x++) {
            double v = lo + (1 - lo) * rng_unit(r);
            d[y * stride + x] = (unsigned char)(255 * v);
        }
    cairo_surface_mark_dirty(s);
    cairo_pattern_t *p = cairo_pattern_create_for_surface(s);
    cairo_surface_destroy(s);
    cairo_pattern_set_extend(p, CAIRO_EXTEND_REPEAT);
    cairo_matrix_t m;
    cairo_matrix_init_scale(&m, px_per_mm, px_per_mm);
    cairo_pattern_set_matrix(p, &m);
    return p;
}

/* Starts drawing one piece of ink inside the box (x0, y0)-(x1, y1) in mm: a group
 * clipped to that box, so that compositing costs the size of the mark, not the page. */
static void ink_begin(cairo_t *cr, double x0, double y0, double x1, double y1)
{
    cairo_save(cr);
    cairo_new_path(cr);
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_clip(cr);
    cairo_push_group(cr);
}

/* Paints what was drawn since ink_begin as ink: multiplied onto the paper with the given
 * opacity, through a grain mask for pencils. */
static void ink_end(cairo_t *cr, rng *r, double px_per_mm, double opacity, int grain)
{
    cairo_pop_group_to_source(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_MULTIPLY);
    if (grain) {
        cairo_pattern_t *g = grain_pattern(r, px_per_mm, 0.35);
        cairo_push_group_with_content(cr, CAIRO_CONTENT_ALPHA);
        cairo_set_source_rgba(cr, 0, 0, 0, opacity);
        cairo_mask(cr, g);
        cairo_pattern_t *mask = cairo_pop_group(cr);
        cairo_mask(cr, mask);
        cairo_pattern_destroy(mask);
        cairo_pattern_destroy(g);
    } else {
        cairo_paint_with_alpha(cr, opacity);
    }
    cairo_restore(cr);
}

/* One pen stroke through pts with a width that swells and thins along the way. */
static void stroke_path(cairo_t *cr, const pen *p, rng *r, double px_per_mm, const pt *pts,
                        int n, double width, double pressure)
{
    double x0 = pts[0].x, y0 = pts[0].y, x1 = x0, y1 = y0;
    for (int i = 1; i < n; i++) {
        x0 = fmin(x0, pts[i].x), x1 = fmax(x1, pts[i].x);
        y0 = fmin(y0, pts[i].y), y1 = fmax(y1, pts[i].y);
    }
    ink_begin(cr, x0 - width - 1, y0 - width - 1, x1 + width + 1, y1 + width + 1);
    cairo_set_source_rgb(cr, p->r, p->g, p->b);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    double phase = rng_range(r, 0, 2 * M_PI), freq = rng_range(r, 0.5, 2.0);
    for (int i = 0; i + 1 < n; i++) {
        double t = (double)i / (n > 1 ? n - 1 : 1);
        double w = width * (0.85 + 0.15 * sin(phase + freq * 2 * M_PI * t));
        /* Strokes start and end a little thinner (the pen lands and lifts). */
        if (i == 0 || i + 2 == n)
            w *= 0.8;
        cairo_set_line_width(cr, w);
        cairo_move_to(cr, pts[i].x, pts[i].y);
        cairo_line_to(cr, pts[i + 1].x, pts[i + 1].y);
        cairo_stroke(cr);
    }
    ink_end(cr, r, px_per_mm, pressure, p->grain);
}

/* Points from a to b, bowed sideways by `bow` mm, with a tremor of `jit` mm. */
static int line_pts(rng *r, pt a, pt b, double bow, double jit, pt *out, int n)
{
    double dx = b.x - a.x, dy = b.y - a.y, len = hypot(dx, dy);
    double nx = len > 0 ? -dy / len : 0, ny = len > 0 ? dx / len : 0;
    for (int i = 0; i < n; i++) {
        double t = (double)i / (n - 1);
        double off = bow * sin(M_PI * t) + jit * rng_gauss(r) * (i > 0 && i < n - 1);
        out[i].x = a.x + dx * t + nx * off;
        out[i].y = a.y + dy * t + ny * off;
    }
    return n;
}

/* ---- A voter's hand --------------------------------------------------------------------- */

/* How one voter marks. People differ in what they draw and in how they draw it: a tick's
 * arms, their angles and curve, the slant of the whole mark, its size and where in the box
 * it sits, the pen's pressure; and each person repeats their own habit from row to row
 * with a little wander. Every ballot gets a hand of its own (make_hand), and every mark of
 * the ballot is drawn from it (draw_mark), so that two ballots are two people: before,
 * every voter drew one tick shape with a few tenths of a millimetre of wander, and two
 * voters' ticks in one box could be told apart by nothing a real pair of hands leaves
 * (bench/duplicates.sh counted them as one sheet fed twice). */
typedef struct hand {
    mark_type style;          /* what this voter draws, most of the time */
    double size;              /* share of the half box a mark spans (its larger half-extent) */
    double off_x, off_y;      /* where the mark sits: its centre, in half boxes from the box's */
    double slant;             /* the whole mark turned, radians (+: clockwise on the page) */
    double wander;            /* how far a mark strays from the habit (scales every jitter) */
    double pressure;          /* the usual opacity, inside the pen's range */
    double bow1, bow2;        /* curve of the first and second stroke, mm */
    double tick_short;        /* a tick's short arm over its long arm: 0.25-0.7 */
    double tick_down;         /* the short arm's angle from vertical, radians: 0.35-1.2 */
    double tick_rise;         /* the long arm's rise from horizontal, radians: 0.55-1.25 */
    double x_aspect;          /* an X's width over its height: 0.7-1.35 */
    double x_ends[4];         /* where an X's four ends stray from the corners, half boxes */
    int fill_vertical;        /* fills with up-and-down strokes */
    double fill_step;         /* spacing of a fill's strokes, times the pen width */
    double fill_margin;       /* paper a fill leaves at the box's sides, mm */
    double line_angle;        /* one stroke across: its angle, radians */
    double line_reach;        /* ... and how far it goes past the box's sides, mm */
    double scr_fa, scr_fb, scr_turns; /* a scribble's wobble, loop breathing and turns */
} hand;

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* A new voter. Ranges: a tick's long arm 1.4-4 times its short one, rising 30-70 degrees;
 * a whole mark slanted up to about 15 degrees either way; marks from 0.6 to 1.05 of the
 * half box, centred or drawn toward a side by up to a fifth of the box. All of them stay
 * the clear mark in one box that they were: the size and the box's margins (draw_mark)
 * keep the ink where a person would read it. */
static void make_hand(rng *r, const pen *p, hand *h)
{
    memset(h, 0, sizeof *h);
    h->style = (mark_type)rng_int(r, MARK_TYPES);
    /* X and tick are what most people do. */
    if (rng_chance(r, 0.5))
        h->style = rng_chance(r, 0.6) ? MARK_X : MARK_TICK;
    h->size = rng_range(r, 0.6, 1.05);
    h->off_x = clampd(rng_gauss(r) * 0.1, -0.2, 0.2);
    h->off_y = clampd(rng_gauss(r) * 0.1, -0.2, 0.2);
    h->slant = clampd(rng_gauss(r) * 0.12, -0.26, 0.26);
    h->wander = rng_range(r, 0.5, 1.5);
    h->pressure = rng_range(r, p->p_min, p->p_max);
    h->bow1 = rng_range(r, -0.3, 0.3);
    h->bow2 = rng_range(r, -0.6, 0.3);
    h->tick_short = rng_range(r, 0.25, 0.7);
    h->tick_down = rng_range(r, 0.35, 1.2);
    h->tick_rise = rng_range(r, 0.55, 1.25);
    h->x_aspect = rng_range(r, 0.7, 1.35);
    for (int k = 0; k < 4; k++)
        h->x_ends[k] = clampd(rng_gauss(r) * 0.12, -0.25, 0.25);
    h->fill_vertical = rng_chance(r, 0.3);
    h->fill_step = rng_range(r, 0.7, 1.3);
    h->fill_margin = rng_range(r, 0.2, 0.7);
    h->line_angle = rng_chance(r, 0.5) ? rng_range(r, -0.15, 0.15) : rng_range(r, -0.8, 0.8);
    h->line_reach = rng_range(r, 0.3, 1.5);
    h->scr_fa = rng_range(r, 2.5, 4.5);
    h->scr_fb = rng_range(r, 0.4, 1.0);
    h->scr_turns = rng_range(r, 3, 6);
}

/* One of the hand's numbers as this mark draws it: v with a wander of sd (times the
 * hand's own wander). */
static double stray(rng *r, const hand *h, double v, double sd)
{
    return v + rng_gauss(r) * sd * h->wander;
}

/* The size of this voter's next mark (share of the half box). */
static double hand_size(rng *r, const hand *h)
{
    return clampd(stray(r, h, h->size, 0.05), 0.55, 1.1);
}

/* The opacity of this voter's next mark. */
static double hand_pressure(rng *r, const hand *h, const pen *p)
{
    return clampd(stray(r, h, h->pressure, 0.03), p->p_min, p->p_max);
}

typedef struct mark_ctx {
    cairo_t *cr;
    rng *r;
    double px_per_mm;
    const pen *p;
    double width, pressure;
    const hand *h;
} mark_ctx;

static void draw_line(mark_ctx *m, pt a, pt b, double bow)
{
    pt pts[24];
    int n = line_pts(m->r, a, b, bow, 0.04, pts, 24);
    stroke_path(m->cr, m->p, m->r, m->px_per_mm, pts, n, m->width, m->pressure);
}

/* A mark's reach from its box's centre, mm: 1.12 half boxes, and at most 0.5 mm past the
 * box's side. The old marks (size up to 1.1, centre wander 6 % of the box) reached about
 * as far; a mark kept inside this stays the mark of its own box on every form (the
 * province rating's 5 mm boxes have 2.5 mm of paper to the next row's). */
#define MARK_REACH_SHARE 1.12
#define MARK_REACH_PAST_MM 0.5

/* Places a mark's key points k[n], drawn in units of the half box around any origin, in
 * box b: turned by the hand's slant, scaled so that its larger half-extent is `size` half
 * boxes, centred where the hand puts marks, then pulled in (smaller, then moved) so that
 * no point lies past the reach above. */
static void place_mark(rng *r, const hand *h, phieu_rect b, double size, pt *k, int n)
{
    double a = stray(r, h, h->slant, 0.05), ca = cos(a), sa = sin(a);
    double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
    for (int i = 0; i < n; i++) {
        pt q = {k[i].x * ca - k[i].y * sa, k[i].x * sa + k[i].y * ca};
        k[i] = q;
        x0 = fmin(x0, q.x), x1 = fmax(x1, q.x), y0 = fmin(y0, q.y), y1 = fmax(y1, q.y);
    }
    double hw = b.w / 2, hh = b.h / 2;
    double ex = (x1 - x0) / 2, ey = (y1 - y0) / 2, mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
    double big = fmax(ex, ey) > 0 ? fmax(ex, ey) : 1;
    double lx = fmin(hw * MARK_REACH_SHARE, hw + MARK_REACH_PAST_MM);
    double ly = fmin(hh * MARK_REACH_SHARE, hh + MARK_REACH_PAST_MM);
    double sc = size / big;
    /* Half-extents in mm; smaller when they would not fit the reach at all. */
    double sx = fmin(sc * hw, ex > 0 ? lx / ex : 1e9), sy = fmin(sc * hh, ey > 0 ? ly / ey : 1e9);
    double s_mm = fmin(sx / hw, sy / hh);
    double wx = s_mm * hw * ex, wy = s_mm * hh * ey;
    double cx = hw * stray(r, h, h->off_x, 0.06), cy = hh * stray(r, h, h->off_y, 0.06);
    cx = clampd(cx, -(lx - wx), lx - wx);
    cy = clampd(cy, -(ly - wy), ly - wy);
    for (int i = 0; i < n; i++) {
        k[i].x = b.x + hw + cx + (k[i].x - mx) * s_mm * hw;
        k[i].y = b.y + hh + cy + (k[i].y - my) * s_mm * hh;
    }
}

/* A mark of the given type in box b, in the hand of m->h: size is the share of the half
 * box its larger half-extent spans. */
static void draw_mark(mark_ctx *m, phieu_rect b, mark_type type, double size)
{
    rng *r = m->r;
    const hand *h = m->h;
    /* The centre of a line or a scribble (an X and a tick are placed by place_mark). */
    double cx = b.x + b.w / 2 * (1 + clampd(stray(r, h, h->off_x / 2, 0.08), -0.15, 0.15));
    double cy = b.y + b.h / 2 * (1 + clampd(stray(r, h, h->off_y / 2, 0.08), -0.15, 0.15));
    double hw = b.w / 2 * size, hh = b.h / 2 * size;
    pt pts[MAX_PTS];
    switch (type) {
    case MARK_X: {
        /* Two strokes corner to corner, each end strayed from its corner as this hand does. */
        double w = clampd(stray(r, h, h->x_aspect, 0.06), 0.6, 1.45);
        pt k[4] = {{-w + stray(r, h, h->x_ends[0], 0.04), -1},
                   {w + stray(r, h, h->x_ends[1], 0.04), 1},
                   {w + stray(r, h, h->x_ends[2], 0.04), -1 + stray(r, h, h->x_ends[3], 0.04)},
                   {-w - stray(r, h, h->x_ends[3], 0.04), 1 + stray(r, h, h->x_ends[0], 0.04)}};
        place_mark(r, h, b, size, k, 4);
        draw_line(m, k[0], k[1], stray(r, h, h->bow1, 0.05));
        draw_line(m, k[2], k[3], stray(r, h, h->bow2 / 2, 0.05));
        break;
    }
    case MARK_TICK: {
        /* The short arm down to the vertex, the long arm up and to the right. */
        double sh = clampd(stray(r, h, h->tick_short, 0.04), 0.2, 0.75);
        double down = stray(r, h, h->tick_down, 0.06), rise = stray(r, h, h->tick_rise, 0.06);
        pt k[3] = {{-sh * sin(down), -sh * cos(down)}, {0, 0}, {cos(rise), -sin(rise)}};
        place_mark(r, h, b, size, k, 3);
        int n1 = line_pts(r, k[0], k[1], stray(r, h, h->bow1 / 3, 0.03), 0.03, pts, 8);
        int n2 = line_pts(r, k[1], k[2], stray(r, h, h->bow2, 0.06), 0.03, pts + n1 - 1, 16);
        stroke_path(m->cr, m->p, r, m->px_per_mm, pts, n1 + n2 - 1, m->width, m->pressure);
        break;
    }
    case MARK_FILL: {
        /* Back-and-forth strokes over most of the box, as a person fills it: across or up
         * and down, as densely as this hand does. */
        double step = fmax(m->width * clampd(stray(r, h, h->fill_step, 0.05), 0.6, 1.4), 0.35);
        double mg = clampd(stray(r, h, h->fill_margin, 0.08), 0.15, 0.8);
        int vert = h->fill_vertical;
        double bu = vert ? b.y : b.x, bv = vert ? b.x : b.y, lu = vert ? b.h : b.w;
        double lv = vert ? b.w : b.h;
        double u0 = bu + mg + rng_range(r, -0.2, 0.2), u1 = bu + lu - mg + rng_range(r, -0.2, 0.2);
        double v = bv + 0.5 + rng_range(r, 0, 0.3), v1 = bv + lv - 0.5 - rng_range(r, 0, 0.5);
        int n = 0, dir = 0;
        while (v < v1 && n < MAX_PTS - 1) {
            double u = (dir ? u1 : u0) + rng_gauss(r) * 0.15;
            pts[n++] = vert ? (pt){v, u} : (pt){u, v};
            dir = !dir;
            v += step * rng_range(r, 0.7, 1.2);
        }
        stroke_path(m->cr, m->p, r, m->px_per_mm, pts, n, fmax(m->width, 0.6), m->pressure);
        break;
    }
    case MARK_LINE: {
        /* One stroke across, level or slanted as this hand draws it, a little beyond the box. */
        double ang = stray(r, h, h->line_angle, 0.06);
        double reach = b.w / 2 + clampd(stray(r, h, h->line_reach, 0.15), 0.3, 1.5);
        pt a = {cx - reach * cos(ang), cy - reach * sin(ang)};
        pt e = {cx + reach * cos(ang), cy + reach * sin(ang)};
        double keep = m->width;
        m->width = fmax(m->width * 1.3, 0.5);
        draw_line(m, a, e, stray(r, h, h->bow1 / 2, 0.05));
        m->width = keep;
        break;
    }
    case MARK_SCRIBBLE: {
        /* Loops going round and round over the box, as a person scratches it out. */
        int n = 40 + rng_int(r, 40);
        double fa = stray(r, h, h->scr_fa, 0.2), fb = clampd(stray(r, h, h->scr_fb, 0.05), 0.3, 1.1);
        double ph = rng_range(r, 0, 6.3), turns = clampd(stray(r, h, h->scr_turns, 0.3), 2.5, 6.5);
        for (int i = 0; i < n; i++) {
            double t = turns * 2 * M_PI * i / (n - 1);
            double rad = 0.55 + 0.45 * sin(fb * t + ph);
            pts[i].x = cx + hw * rad * cos(t) + rng_gauss(r) * 0.08;
            pts[i].y = cy + hh * (0.8 * rad * sin(t) + 0.2 * sin(fa * t)) + rng_gauss(r) * 0.08;
        }
        stroke_path(m->cr, m->p, r, m->px_per_mm, pts, n, m->width, m->pressure);
        break;
    }
    default:
        break;
    }
}

static void draw_dot(cairo_t *cr, rng *r, double px_per_mm, double x, double y, double radius,
                     double rr, double gg, double bb, double opacity)
{
    ink_begin(cr, x - radius - 1, y - radius - 1, x + radius + 1, y + radius + 1);
    cairo_set_source_rgb(cr, rr, gg, bb);
    cairo_arc(cr, x, y, radius, 0, 2 * M_PI);
    cairo_fill(cr);
    ink_end(cr, r, px_per_mm, opacity, 0);
}

/* The council's round seal in red stamp ink, over the zone the layout keeps for it. */
static void draw_seal(cairo_t *cr, rng *r, double px_per_mm, phieu_rect zone)
{
    double radius = fmin(zone.w, zone.h) / 2 * rng_range(r, 0.85, 0.97);
    double cx = zone.x + zone.w / 2 + rng_range(r, -2, 2);
    double cy = zone.y + zone.h / 2 + rng_range(r, -1.5, 1.5);
    if (cx - radius < zone.x)
        cx = zone.x + radius;
    if (cy - radius < zone.y)
        cy = zone.y + radius;
    ink_begin(cr, cx - radius - 2, cy - radius - 2, cx + radius + 2, cy + radius + 2);
    cairo_set_source_rgb(cr, 0.82, 0.12, 0.12);
    cairo_set_line_width(cr, rng_range(r, 0.9, 1.3));
    cairo_arc(cr, cx, cy, radius - 0.6, 0, 2 * M_PI);
    cairo_stroke(cr);
    cairo_set_line_width(cr, 0.4);
    cairo_arc(cr, cx, cy, radius - 3.2, 0, 2 * M_PI);
    cairo_stroke(cr);
    /* Lettering around the ring: short dashes standing in for glyphs. */
    cairo_set_line_width(cr, 0.45);
    for (double a = 0; a < 2 * M_PI; a += rng_range(r, 0.09, 0.14)) {
        double r0 = radius - 2.7, r1 = radius - 1.4;
        cairo_move_to(cr, cx + r0 * cos(a), cy + r0 * sin(a));
        cairo_line_to(cr, cx + r1 * cos(a + 0.03), cy + r1 * sin(a + 0.03));
    }
    cairo_stroke(cr);
    /* The star in the middle. */
    double s = radius * 0.3, rot = -M_PI / 2;
    for (int i = 0; i < 10; i++) {
        double rad = i % 2 ? s * 0.4 : s, a = rot + i * M_PI / 5;
        if (i == 0)
            cairo_move_to(cr, cx + rad * cos(a), cy + rad * sin(a));
        else
            cairo_line_to(cr, cx + rad * cos(a), cy + rad * sin(a));
    }
    cairo_close_path(cr);
    cairo_fill(cr);
    ink_end(cr, r, px_per_mm * 0.5, rng_range(r, 0.6, 0.9), 1);
}

/* A crease across the page through y: a soft shadow and a thin dark core. */
static void draw_fold(cairo_t *cr, rng *r, double px_per_mm, double y)
{
    double slope = rng_range(r, -0.004, 0.004);
    ink_begin(cr, -5, y - 4, PAGE_W_MM + 5, y + 5);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, rng_range(r, 1.0, 2.2));
    cairo_move_to(cr, -5, y + 1.0 - 5 * slope);
    cairo_line_to(cr, PAGE_W_MM + 5, y + 1.0 + (PAGE_W_MM + 5) * slope);
    cairo_stroke(cr);
    ink_end(cr, r, px_per_mm, rng_range(r, 0.04, 0.08), 0);
    ink_begin(cr, -5, y - 4, PAGE_W_MM + 5, y + 4);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, rng_range(r, 0.15, 0.3));
    cairo_move_to(cr, -5, y - 5 * slope);
    cairo_line_to(cr, PAGE_W_MM + 5, y + (PAGE_W_MM + 5) * slope);
    cairo_stroke(cr);
    ink_end(cr, r, px_per_mm, rng_range(r, 0.15, 0.3), 0);
}

/* A piece of paper stuck over part of box b (about 35-65 % of its area). It overhangs
 * the box by 3 mm, but above and below only as far as the gap to the next row's box
 * leaves room (room_up, room_down mm, with its 0.2 mm shadow): a scrap reaching into
 * another row's box would make that row a covered one too, which its truth does not say. */
static void draw_cover(cairo_t *cr, rng *r, phieu_rect b, double room_up, double room_down)
{
    double fx = rng_range(r, 0.45, 0.75), fy = rng_range(r, 0.6, 1.0);
    int corner = rng_int(r, 4);
    double up = fmax(0, fmin(3, room_up - 0.5)), down = fmax(0, fmin(3, room_down - 0.7));
    double w = b.w * fx + 3, h = b.h * fy + (corner & 2 ? down : up);
    double x = corner & 1 ? b.x + b.w * (1 - fx) : b.x - 3;
    double y = corner & 2 ? b.y + b.h * (1 - fy) : b.y - up;
    double g = rng_range(r, 0.93, 0.98);
    cairo_set_source_rgb(cr, 0.55, 0.55, 0.55);
    cairo_rectangle(cr, x + 0.2, y + 0.2, w, h);
    cairo_fill(cr);
    cairo_set_source_rgb(cr, g, g, g * 0.97);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill(cr);
}

/* The box circled instead of marked: one loop by hand, a little more than a turn, around
 * the box in the paper beside it; above and below it stays in the gap between rows
 * (room_up, room_down: mm of paper there), so the box of the next row holds no ink. */
static void draw_circle(mark_ctx *m, phieu_rect b, double room_up, double room_down)
{
    rng *r = m->r;
    double pad = m->width / 2 + 0.25;
    double up = fmax(0.2, fmin(1.2, room_up - pad)), down = fmax(0.2, fmin(1.2, room_down - pad));
    double ry = b.h / 2 + fmin(up, down) * rng_range(r, 0.6, 1.0);
    double rx = b.w / 2 + rng_range(r, 1.3, 2.5);
    double cx = b.x + b.w / 2 + rng_range(r, -0.3, 0.3), cy = b.y + b.h / 2;
    double start = rng_range(r, 0, 2 * M_PI), turn = rng_range(r, 1.05, 1.15) * 2 * M_PI;
    pt pts[MAX_PTS];
    int n = 48;
    for (int i = 0; i < n; i++) {
        double t = start + turn * i / (n - 1);
        double wob = 1 + 0.03 * rng_gauss(r);
        pts[i].x = cx + rx * wob * cos(t);
        pts[i].y = cy + ry * wob * sin(t);
    }
    stroke_path(m->cr, m->p, r, m->px_per_mm, pts, n, m->width, m->pressure);
}

/* A pencil X rubbed out: most of it goes, a residue stays; the printed outline stays.
 * clear is the mean darkness (share of black) of the mark the voter made instead. */
static void draw_erasure(mark_ctx *m, phieu_rect b, double clear)
{
    const pen *keep = m->p;
    double kw = m->width, kp = m->pressure;
    m->p = &pens[3];
    m->width = rng_range(m->r, 0.45, 0.7);
    m->pressure = rng_range(m->r, 0.65, 0.85);
    draw_mark(m, b, rng_chance(m->r, 0.5) ? MARK_X : MARK_TICK, rng_range(m->r, 0.6, 0.9));
    cairo_t *cr = m->cr;
    double lw = 0.4;
    cairo_save(cr);
    cairo_rectangle(cr, b.x + lw, b.y + lw, b.w - 2 * lw, b.h - 2 * lw);
    cairo_clip(cr);
    /* The residue: its darkness (share of black) is 0.08-0.3, a pencil X rubbed until
     * faint but still covering most of the box (issue 12: 0.1-0.25 seen on real decks). */
    double dark = rng_range(m->r, 0.08, 0.3);
    /* ... and under ERASURE_MAX_SHARE of the mark beside it: that is what makes it a
     * residue beside a clear mark; as dark as the mark, nobody could tell which one was
     * rubbed out (a light pencil mark reads about 0.19-0.3). */
    dark = fmin(dark, ERASURE_MAX_SHARE * clear);
    /* The eraser's smear lies over the residue and darkens it by its own opacity. */
    double smear = fmin(rng_range(m->r, 0.03, 0.06), dark / 2);
    double left = fmin(1.0, (dark - smear) / (m->pressure * (1 - m->p->r) * GRAIN_MEAN));
    cairo_set_source_rgba(cr, 1, 1, 1, 1 - left);
    cairo_paint(cr);
    /* The smear the eraser leaves. */
    ink_begin(cr, b.x, b.y, b.x + b.w, b.y + b.h);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_save(cr);
    cairo_translate(cr, b.x + b.w / 2, b.y + b.h / 2);
    cairo_scale(cr, b.w * 0.45, b.h * 0.35);
    cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
    cairo_restore(cr);
    cairo_fill(cr);
    ink_end(cr, m->r, m->px_per_mm, smear, 0);
    cairo_restore(cr);
    m->p = keep;
    m->width = kw;
    m->pressure = kp;
}

static int pick_choice(rng *r, const phieu_form *f)
{
    double u = rng_unit(r);
    if (f->n_choices == 3)
        return u < 0.5 ? 0 : u < 0.85 ? 1 : 2;
    return u < 0.75 ? 0 : 1;
}

static void note(row_truth *t, const char *fmt, const char *a, const char *b)
{
    size_t len = strlen(t->notes);
    snprintf(t->notes + len, sizeof t->notes - len, fmt, len ? " " : "", a, b);
}

/* Marks every row of one ballot; fills the truth. */
static void mark_ballot(cairo_t *cr, rng *r, double px_per_mm, const phieu_form *f,
                        const phieu_layout *L, const page_plan *plan, row_truth *truth)
{
    const pen *p = &pens[rng_int(r, N_PENS)];
    /* A 1-bit scan drops light pencil altogether (it is lighter than the scanner's 50 %
     * threshold): a board scanning in black and white has ballots marked in pen. */
    int bilevel = plan->scan.mode == OUT_BW_TIFF;
    /* Black pens only: a blue ballpoint line 0.3 mm wide is about 40 % gray, which the
     * 50 % threshold (after the optics' blur) drops in long stretches, leaving a row that
     * has nothing left to read although the truth says it is marked. */
    if (bilevel)
        p = &pens[rng_chance(r, 0.5) ? 0 : 2];
    /* A red ballpoint: in gray and 1-bit scans as dark as blue (luma about 0.3); in a colour
     * scan the red dropout takes it out with the seal, and the reader must not call such a
     * row blank (review, or right). */
    pen red;
    int red_dropped = 0;
    if (plan->red_pen && !bilevel) {
        red = pens[0];
        red.name = "ballpoint-red", red.r = 0.80, red.g = 0.10, red.b = 0.12;
        p = &red;
        red_dropped = plan->scan.mode == OUT_RGB_PNG;
    }
    hand h;
    make_hand(r, p, &h);
    mark_type style = h.style;
    mark_ctx m = {cr, r, px_per_mm, p, rng_range(r, p->w_min, p->w_max), 0, &h};
    /* Which rows get a hard case. */
    int hard_row[PHIEU_FORM_MAX_ROWS] = {0};
    for (int i = 0; i < plan->n_hard; i++)
        hard_row[rng_int(r, f->n_rows)] = 1 + rng_int(r, HARD_KINDS - 1);
    for (int row = 0; row < f->n_rows; row++) {
        row_truth *t = &truth[row];
        memset(t, 0, sizeof *t);
        int marked[PHIEU_FORM_MAX_CHOICES] = {0};
        double u = rng_unit(r);
        int n_marks = plan->all_blank ? 0 : u < 0.06 ? 0 : u < 0.10 ? 2 : 1;
        hard_kind hard = plan->all_blank ? HARD_NONE : (hard_kind)hard_row[row];
        if (plan->marked_rows && row >= plan->marked_rows)
            n_marks = 0, hard = HARD_NONE;
        if (bilevel && hard == HARD_FAINT)
            hard = HARD_COVERED; /* a faint mark does not survive 1 bit */
        if (hard != HARD_NONE)
            n_marks = 1;
        int first = -1;
        double clear = 0; /* the darkness of the row's mark, for an erasure beside it */
        for (int k = 0; k < n_marks; k++) {
            int c = pick_choice(r, f);
            while (marked[c])
                c = (c + 1) % f->n_choices;
            marked[c] = 1;
            if (first < 0)
                first = c;
        }
        t->hard = hard;
        if (red_dropped && n_marks > 0 && hard == HARD_NONE)
            t->hard = HARD_RED_PEN;
        if (n_marks == 0)
            snprintf(t->truth, sizeof t->truth, "blank");
        else if (n_marks >= 2)
            snprintf(t->truth, sizeof t->truth, "overvote");
        else
            snprintf(t->truth, sizeof t->truth, "%s", f->choices[first].key);
        for (int c = 0; c < f->n_choices; c++) {
            if (!marked[c])
                continue;
            mark_type type = rng_chance(r, 0.85) ? style : (mark_type)rng_int(r, MARK_TYPES);
            m.pressure = hand_pressure(r, &h, p);
            clear = m.pressure * (1 - p->r) * (p->grain ? GRAIN_MEAN : 1);
            if (hard == HARD_FAINT) {
                mark_ctx fm = m;
                fm.p = &faint_pen;
                fm.width = rng_range(r, faint_pen.w_min, faint_pen.w_max);
                fm.pressure = rng_range(r, faint_pen.p_min, faint_pen.p_max);
                /* A faint mark a person sees on the paper must not vanish in the scan:
                 * the white point (scan_page) clips this share below the brightest paper
                 * (uneven light plus 3.5 sigma of noise), and at its lightest the faint
                 * pen was below it, so the scan held pure white where the mark was (seed 8
                 * p00038, seed 12 p00487 and p00488). Keep its mean darkness (pressure x
                 * colour x the grain's mean opacity) FAINT_ABOVE_CLIP above the clip. */
                if (plan->scan.clip_white) {
                    const scan_params *sp = &plan->scan;
                    double top = fmax(sp->paper[0], fmax(sp->paper[1], sp->paper[2]));
                    double clip = sp->light_amp + 3.5 * sp->noise / 255 / top;
                    double least = (clip + FAINT_ABOVE_CLIP) / ((1 - faint_pen.g) * GRAIN_MEAN);
                    if (fm.pressure < least)
                        fm.pressure = fmin(1.0, least);
                }
                type = rng_chance(r, 0.5) ? MARK_TICK : MARK_X;
                draw_mark(&fm, L->boxes[row][c], type, rng_range(r, 0.45, 0.75));
                note(t, "%s%s-%s", "faint", mark_names[type]);
                continue;
            }
            if (hard == HARD_CIRCLED) {
                phieu_rect b = L->boxes[row][c];
                double up = row > 0 ? b.y - (L->boxes[row - 1][c].y + L->boxes[row - 1][c].h) : 3;
                double down = row + 1 < f->n_rows ? L->boxes[row + 1][c].y - (b.y + b.h) : 3;
                draw_circle(&m, b, up, down);
                note(t, "%s%s:%s", f->choices[c].key, "circled");
                continue;
            }
            draw_mark(&m, L->boxes[row][c], type, hand_size(r, &h));
            note(t, "%s%s:%s", f->choices[c].key, mark_names[type]);
        }
        /* Distractors in empty boxes: they must read empty. */
        for (int c = 0; c < f->n_choices; c++) {
            if (marked[c])
                continue;
            phieu_rect b = L->boxes[row][c];
            if (rng_chance(r, 0.03)) {
                draw_dot(cr, r, px_per_mm, b.x + b.w * rng_range(r, 0.3, 0.7),
                         b.y + b.h * rng_range(r, 0.3, 0.7), rng_range(r, 0.25, 0.4), p->r, p->g,
                         p->b, rng_range(r, p->p_min, p->p_max));
                note(t, "%s%s:%s", f->choices[c].key, "hesitation-dot");
            } else if (rng_chance(r, 0.025)) {
                /* A stroke from the left or from above that ends on the outline. From
                 * above it starts in the gap between this box and the one above (a
                 * stroke starting inside that box is ink in that box, not a distractor
                 * of this one), so it comes in at a slant. */
                double depth = rng_range(r, -0.1, 0.3);
                double gap = row > 0 ? b.y - (L->boxes[row - 1][c].y + L->boxes[row - 1][c].h)
                                     : 4.0;
                pt end, start;
                if (rng_chance(r, 0.5) || gap < 1.2) {
                    end = (pt){b.x + depth, b.y + b.h * rng_range(r, 0.3, 0.7)};
                    start = (pt){end.x - rng_range(r, 3, 6), end.y + rng_range(r, -2, 2)};
                } else {
                    /* 0.5 mm clear of the box above, for the pen width and the bow. */
                    double rise = rng_range(r, 0.6, fmin(4.0, gap - 0.5));
                    double side = rng_range(r, 2, 4);
                    end = (pt){b.x + b.w * rng_range(r, 0.3, 0.7), b.y + depth};
                    start = (pt){end.x + (rng_chance(r, 0.5) ? side : -side), end.y - rise};
                }
                m.pressure = rng_range(r, p->p_min, p->p_max);
                double kw = m.width;
                m.width = fmin(m.width, 0.5);
                draw_line(&m, start, end, rng_range(r, -0.3, 0.3));
                m.width = kw;
                note(t, "%s%s:%s", f->choices[c].key, "touching-stroke");
            } else if (rng_chance(r, 0.03)) {
                draw_dot(cr, r, px_per_mm, b.x + b.w * rng_range(r, 0.2, 0.8),
                         b.y + b.h * rng_range(r, 0.2, 0.8), rng_range(r, 0.06, 0.14), 0.2, 0.2,
                         0.2, rng_range(r, 0.4, 0.8));
                note(t, "%s%s:%s", f->choices[c].key, "speck");
            }
        }
        if (hard == HARD_ERASURE) {
            int c = (first + 1 + rng_int(r, f->n_choices - 1)) % f->n_choices;
            draw_erasure(&m, L->boxes[row][c], clear);
            note(t, "%s%s:%s", f->choices[c].key, "erased");
        } else if (hard == HARD_COVERED) {
            int c = rng_int(r, f->n_choices);
            phieu_rect b = L->boxes[row][c];
            double room_up = row > 0 ? b.y - (L->boxes[row - 1][c].y + L->boxes[row - 1][c].h) : 3;
            double room_down = row + 1 < f->n_rows ? L->boxes[row + 1][c].y - (b.y + b.h) : 3;
            draw_cover(cr, r, b, room_up, room_down);
            note(t, "%s%s:%s", f->choices[c].key, "covered");
        }
    }
    /* Paper specks anywhere on the page. */
    int specks = rng_int(r, 8);
    for (int i = 0; i < specks; i++)
        draw_dot(cr, r, px_per_mm, rng_range(r, 5, PAGE_W_MM - 5), rng_range(r, 5, PAGE_H_MM - 5),
                 rng_range(r, 0.05, 0.15), 0.15, 0.15, 0.15, rng_range(r, 0.3, 0.8));
    if (plan->fold) {
        int row = rng_int(r, f->n_rows);
        phieu_rect b = L->boxes[row][0];
        draw_fold(cr, r, px_per_mm, b.y + b.h / 2 + rng_range(r, -1.5, 1.5));
        note(&truth[row], "%s%s%s", "fold", "");
    }
    if (plan->stray_near_fiducial) {
        /* A pen line passing 2-4 mm beside a fiducial: registration must not mind it. */
        int fi = rng_int(r, 4);
        phieu_rect fr = L->fiducials[fi];
        double gap = rng_range(r, 2, 4);
        pt a = {fr.x + fr.w + gap, fr.y - 3}, e = {fr.x + fr.w + gap + 1, fr.y + fr.h + 4};
        m.pressure = p->p_max;
        draw_line(&m, a, e, 0.5);
    }
}

/* ---- Page image in page coordinates ------------------------------------------------------ */

/* A cairo RGB24 surface holding the gray blank, scaled so that user units are mm. */
static cairo_surface_t *surface_from_gray(const phieu_image *img)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img->width, img->height);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
        return s;
    cairo_surface_flush(s);
    unsigned char *d = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < img->height; y++) {
        uint32_t *row = (uint32_t *)(void *)(d + (size_t)y * stride);
        const uint8_t *src = img->pixels + (size_t)y * img->stride;
        for (int x = 0; x < img->width; x++)
            row[x] = 0xFF000000u | ((uint32_t)src[x] << 16) | ((uint32_t)src[x] << 8) | src[x];
    }
    cairo_surface_mark_dirty(s);
    return s;
}

/* ---- The scan ---------------------------------------------------------------------------- */

typedef struct raster {
    int w, h, ch; /* ch: 1 gray or 3 RGB */
    double dpi;
    uint8_t *px;
} raster;

static void raster_free(raster *r)
{
    phieu_free(r->px);
    r->px = NULL;
}

/* Whether page point (x, y) mm is in the strip the frame cuts off: along the side of the
 * cut corner, over the 60 mm nearest that corner, reaching cut_mm into the corner mark
 * (the marks' outer sides are 8 mm from the page's edges). A sheet fed askew against the
 * side of a tight frame loses such a strip. */
static int in_cut(const scan_params *sp, double x, double y)
{
    int left = sp->cut_corner == 0 || sp->cut_corner == 3, top = sp->cut_corner < 2;
    if (top ? y > 60 : y < PAGE_H_MM - 60)
        return 0;
    return left ? x < 8 + sp->cut_mm : x > PAGE_W_MM - 8 - sp->cut_mm;
}

/* Maps the marked page through the scanner: rotation, scale, offset, 180-degree feed,
 * paper colour, uneven light, noise, white point. Bilinear sampling. */
static int scan_page(cairo_surface_t *page, const scan_params *sp, rng *r, raster *out)
{
    int pw = cairo_image_surface_get_width(page), ph = cairo_image_surface_get_height(page);
    int stride = cairo_image_surface_get_stride(page);
    cairo_surface_flush(page);
    const unsigned char *pd = cairo_image_surface_get_data(page);
    double ppm = sp->dpi / MM_PER_INCH, th = sp->rot_deg * M_PI / 180, c = cos(th), s = sin(th);
    double cx = PAGE_W_MM / 2, cy = PAGE_H_MM / 2;
    /* The scan area covers the A4 bed and every fiducial corner of the moved page. */
    double minx = 0, miny = 0, maxx = PAGE_W_MM, maxy = PAGE_H_MM;
    const double fid_in = 4.0; /* fiducials sit 8-15 mm in; keep 4 mm of paper around them */
    for (int i = 0; i < 4; i++) {
        double px = i & 1 ? PAGE_W_MM - fid_in : fid_in, py = i & 2 ? PAGE_H_MM - fid_in : fid_in;
        double dx = (px - cx) * sp->scale, dy = (py - cy) * sp->scale;
        double qx = cx + sp->off_x + c * dx - s * dy, qy = cy + sp->off_y + s * dx + c * dy;
        minx = fmin(minx, qx - 2), maxx = fmax(maxx, qx + 2);
        miny = fmin(miny, qy - 2), maxy = fmax(maxy, qy + 2);
    }
    out->w = (int)ceil((maxx - minx) * ppm);
    out->h = (int)ceil((maxy - miny) * ppm);
    out->ch = sp->mode == OUT_RGB_PNG ? 3 : 1;
    out->dpi = sp->dpi;
    out->px = phieu_malloc((size_t)out->w * out->h * out->ch);
    if (!out->px)
        return PHIEU_ENOMEM;
    /* The scanner's lid: white (brighter than paper) or a black backing. */
    double bg = sp->dark_background ? 0.12 : 1.0;
    /* Sensor noise from a table of normal deviates, four 12-bit indices per draw. */
    enum { NOISE_TABLE = 4096 };
    float *noise = phieu_malloc(NOISE_TABLE * sizeof *noise);
    if (!noise) {
        phieu_free(out->px);
        out->px = NULL;
        return PHIEU_ENOMEM;
    }
    for (int i = 0; i < NOISE_TABLE; i++)
        noise[i] = (float)(sp->noise * rng_gauss(r));
    uint64_t bits = 0;
    int nbits = 0;
    /* The scanner's white point: paper maps to 255 (clipping its noise) or not. */
    double white = sp->clip_white ? fmax(sp->paper[0], fmax(sp->paper[1], sp->paper[2])) *
                                        (1 - sp->light_amp) - 3.5 * sp->noise / 255
                                  : 1.0;
    /* ... and its black point likewise clips the darkest ink to 0 when it clips paper. */
    double black = sp->clip_white ? fmin(0.08, 3.5 * sp->noise / 255) : 0.0;
    double gain = 255 / (white - black);
    /* Scan mm -> page pixels is affine: each output pixel steps the source point by a fixed
     * (dx, dy), so the inner loop adds instead of dividing (the generator's cost is here). */
    double inv = 1 / (ppm * sp->scale), flip = sp->upside_down ? -1 : 1;
    double step_x = flip * c * inv * ppm, step_y = flip * -s * inv * ppm;
    double k_ch[3] = {sp->paper[0] / 255.0, sp->paper[1] / 255.0, sp->paper[2] / 255.0};
    uint32_t bg_pix = (uint32_t)(bg * 255) * 0x010101u;
    for (int oy = 0; oy < out->h; oy++) {
        uint8_t *dst = out->px + (size_t)oy * out->w * out->ch;
        double qy = miny + (oy + 0.5) / ppm - cy - sp->off_y;
        double qx0 = minx + 0.5 / ppm - cx - sp->off_x;
        /* Inverse rotation and scale of the row's first pixel: scan mm -> page mm. */
        double px = cx + (c * qx0 + s * qy) / sp->scale;
        double py = cy + (-s * qx0 + c * qy) / sp->scale;
        if (sp->upside_down)
            px = PAGE_W_MM - px, py = PAGE_H_MM - py;
        double fx = px * ppm - 0.5, fy = py * ppm - 0.5;
        double light_row = sp->light_axis ? (double)oy / out->h : 0;
        for (int ox = 0; ox < out->w; ox++, fx += step_x, fy += step_y) {
            double v[3];
            if (sp->cut_corner >= 0 && in_cut(sp, (fx + 0.5) / ppm, (fy + 0.5) / ppm)) {
                v[0] = v[1] = v[2] = bg;
            } else if (fx < -1 || fy < -1 || fx >= pw || fy >= ph) {
                v[0] = v[1] = v[2] = bg;
            } else {
                int x0 = (int)floor(fx), y0 = (int)floor(fy);
                double ax = fx - x0, ay = fy - y0;
                uint32_t pix[4];
                if (x0 >= 0 && y0 >= 0 && x0 + 1 < pw && y0 + 1 < ph) {
                    const uint32_t *r0 = (const uint32_t *)(const void *)(pd + (size_t)y0 * stride);
                    const uint32_t *r1 = (const uint32_t *)(const void *)(pd + (size_t)(y0 + 1) * stride);
                    pix[0] = r0[x0], pix[1] = r0[x0 + 1], pix[2] = r1[x0], pix[3] = r1[x0 + 1];
                } else {
                    for (int j = 0; j < 4; j++) {
                        int xx = x0 + (j & 1), yy = y0 + (j >> 1);
                        pix[j] = xx < 0 || yy < 0 || xx >= pw || yy >= ph
                                     ? bg_pix
                                     : ((const uint32_t *)(const void *)(pd + (size_t)yy * stride))[xx];
                    }
                }
                double w4[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
                double a0 = 0, a1 = 0, a2 = 0;
                for (int j = 0; j < 4; j++) {
                    a0 += w4[j] * ((pix[j] >> 16) & 255);
                    a1 += w4[j] * ((pix[j] >> 8) & 255);
                    a2 += w4[j] * (pix[j] & 255);
                }
                v[0] = a0 * k_ch[0], v[1] = a1 * k_ch[1], v[2] = a2 * k_ch[2];
            }
            double t = sp->light_axis ? light_row : (double)ox / out->w;
            double light = 1 - sp->light_amp * t * t;
            if (nbits == 0)
                bits = rng_u64(r), nbits = 4;
            double n = noise[bits & (NOISE_TABLE - 1)];
            bits >>= 16, nbits--;
            if (out->ch == 1) {
                double g = 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
                double o = (g * light + n / 255 - black) * gain;
                dst[ox] = (uint8_t)(o < 0 ? 0 : o > 255 ? 255 : o + 0.5);
            } else {
                for (int k = 0; k < 3; k++) {
                    double o = (v[k] * light + n / 255 - black) * gain;
                    dst[ox * 3 + k] = (uint8_t)(o < 0 ? 0 : o > 255 ? 255 : o + 0.5);
                }
            }
        }
    }
    phieu_free(noise);
    return 0;
}

/* A [1 2 1]/4 blur in both directions, `passes` times: the scanner's optics. */
static int blur(raster *ras, int passes)
{
    size_t n = (size_t)ras->w * ras->h * ras->ch;
    uint8_t *tmp = phieu_malloc(n);
    if (!tmp)
        return PHIEU_ENOMEM;
    int ch = ras->ch, w = ras->w, h = ras->h;
    for (int p = 0; p < passes; p++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < ch; k++) {
                    const uint8_t *row = ras->px + (size_t)y * w * ch;
                    int l = row[(x > 0 ? x - 1 : x) * ch + k], m = row[x * ch + k],
                        rr = row[(x + 1 < w ? x + 1 : x) * ch + k];
                    tmp[((size_t)y * w + x) * ch + k] = (uint8_t)((l + 2 * m + rr + 2) / 4);
                }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < ch; k++) {
                    int u = tmp[((size_t)(y > 0 ? y - 1 : y) * w + x) * ch + k];
                    int m = tmp[((size_t)y * w + x) * ch + k];
                    int d = tmp[((size_t)(y + 1 < h ? y + 1 : y) * w + x) * ch + k];
                    ras->px[((size_t)y * w + x) * ch + k] = (uint8_t)((u + 2 * m + d + 2) / 4);
                }
    }
    phieu_free(tmp);
    return 0;
}

/* JPEG's artefacts without libjpeg: each 8x8 block goes through the DCT, is quantised
 * with the standard luminance table (ITU-T T.81 Annex K) scaled for the quality as the
 * IJG library scales it, and comes back. Chroma subsampling is not emulated. */
static void jpeg_blocks(raster *ras, int quality)
{
    static const int luma_q[64] = {
        16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
        14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
        18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
    int scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    double q[64], cosv[8][8];
    for (int i = 0; i < 64; i++) {
        int v = (luma_q[i] * scale + 50) / 100;
        q[i] = v < 1 ? 1 : v > 255 ? 255 : v;
    }
    for (int x = 0; x < 8; x++)
        for (int u = 0; u < 8; u++)
            cosv[x][u] = cos((2 * x + 1) * u * M_PI / 16) * (u == 0 ? sqrt(0.125) : 0.5);
    for (int k = 0; k < ras->ch; k++)
        for (int by = 0; by + 8 <= ras->h; by += 8)
            for (int bx = 0; bx + 8 <= ras->w; bx += 8) {
                double blk[8][8], tmp[8][8], coef[8][8];
                int flat = 1;
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++) {
                        blk[y][x] = ras->px[((size_t)(by + y) * ras->w + bx + x) * ras->ch + k] - 128.0;
                        flat &= blk[y][x] == blk[0][0];
                    }
                if (flat)
                    continue; /* a flat block survives JPEG unchanged */
                for (int y = 0; y < 8; y++)
                    for (int u = 0; u < 8; u++) {
                        double sum = 0;
                        for (int x = 0; x < 8; x++)
                            sum += blk[y][x] * cosv[x][u];
                        tmp[y][u] = sum;
                    }
                for (int v = 0; v < 8; v++)
                    for (int u = 0; u < 8; u++) {
                        double sum = 0;
                        for (int y = 0; y < 8; y++)
                            sum += tmp[y][u] * cosv[y][v];
                        coef[v][u] = round(sum / q[v * 8 + u]) * q[v * 8 + u];
                    }
                for (int v = 0; v < 8; v++)
                    for (int x = 0; x < 8; x++) {
                        double sum = 0;
                        for (int u = 0; u < 8; u++)
                            sum += coef[v][u] * cosv[x][u];
                        tmp[v][x] = sum;
                    }
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++) {
                        double sum = 128;
                        for (int v = 0; v < 8; v++)
                            sum += tmp[v][x] * cosv[y][v];
                        ras->px[((size_t)(by + y) * ras->w + bx + x) * ras->ch + k] =
                            (uint8_t)(sum < 0 ? 0 : sum > 255 ? 255 : sum + 0.5);
                    }
            }
}

/* ---- Writing ---------------------------------------------------------------------------- */

static void silent_tiff(const char *module, const char *fmt, va_list ap)
{
    (void)module, (void)fmt, (void)ap;
}

/* Writes one or more gray pages as a multi-page TIFF: 8-bit Deflate, or 1-bit CCITT G4
 * (threshold 50 % like a scanner's black-and-white mode). */
static int write_tiff(const char *path, raster *pages, int n, int bilevel)
{
    TIFFSetErrorHandler(silent_tiff);
    TIFFSetWarningHandler(silent_tiff);
    TIFF *t = TIFFOpen(path, "w");
    if (!t)
        return PHIEU_EIO;
    int rc = 0;
    for (int p = 0; p < n && rc == 0; p++) {
        raster *ras = &pages[p];
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)ras->w);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)ras->h);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bilevel ? 1 : 8);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, bilevel ? PHOTOMETRIC_MINISWHITE : PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_COMPRESSION, bilevel ? COMPRESSION_CCITTFAX4 : COMPRESSION_ADOBE_DEFLATE);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, bilevel ? (uint32_t)ras->h : 64u);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)ras->dpi);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)ras->dpi);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        if (n > 1) {
            TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
            TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)p, (uint16_t)n);
        }
        uint8_t *line = phieu_malloc((size_t)ras->w);
        if (!line) {
            rc = PHIEU_ENOMEM;
            break;
        }
        for (int y = 0; y < ras->h && rc == 0; y++) {
            const uint8_t *src = ras->px + (size_t)y * ras->w;
            if (bilevel) {
                memset(line, 0, (size_t)(ras->w + 7) / 8);
                for (int x = 0; x < ras->w; x++)
                    if (src[x] < 128)
                        line[x / 8] |= (uint8_t)(0x80 >> (x % 8));
                if (TIFFWriteScanline(t, line, (uint32_t)y, 0) < 0)
                    rc = PHIEU_EIO;
            } else if (TIFFWriteScanline(t, (void *)src, (uint32_t)y, 0) < 0) {
                rc = PHIEU_EIO;
            }
        }
        phieu_free(line);
        if (rc == 0 && !TIFFWriteDirectory(t))
            rc = PHIEU_EIO;
    }
    TIFFClose(t);
    return rc;
}

/* Gray or RGB as PNG with its resolution. `small`: zlib's default strategy and adaptive
 * filters, slower but about half the size of phieu_image_save_png's fast run-length
 * choice on clean, text-heavy pages; used for the committed set. */
static int write_png(const char *path, const raster *ras, int small)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return PHIEU_EIO;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        return PHIEU_EIO;
    }
    png_init_io(png, fp);
    if (small) {
        png_set_compression_level(png, 9);
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
    } else {
        png_set_compression_level(png, 6);
        png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
        png_set_compression_strategy(png, Z_RLE);
    }
    png_set_IHDR(png, info, (png_uint_32)ras->w, (png_uint_32)ras->h, 8,
                 ras->ch == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_uint_32 ppm = (png_uint_32)(ras->dpi / 0.0254 + 0.5);
    png_set_pHYs(png, info, ppm, ppm, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    for (int y = 0; y < ras->h; y++)
        png_write_row(png, ras->px + (size_t)y * ras->w * ras->ch);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return fclose(fp) == 0 ? 0 : PHIEU_EIO;
}

static int write_gray_png(const char *path, const raster *ras, phieu_error *err)
{
    phieu_image img = {ras->w, ras->h, ras->w, ras->px, ras->dpi, ras->dpi, 0};
    return phieu_image_save_png(&img, path, err);
}

/* ---- One page, from plan to file ------------------------------------------------------- */

static void random_scan(rng *r, scan_params *sp, int committed)
{
    double u = rng_unit(r);
    sp->dpi = u < 0.55 ? 200 : u < (committed ? 0.99 : 0.95) ? 300 : 600;
    sp->rot_deg = rng_chance(r, 0.05) ? rng_range(r, -10, 10) : fmax(-10, fmin(10, rng_gauss(r)));
    sp->scale = rng_chance(r, 0.05) ? rng_range(r, 0.95, 1.05)
                                    : fmax(0.95, fmin(1.05, 1 + 0.008 * rng_gauss(r)));
    double o = rng_chance(r, 0.05) ? 15 : 3;
    sp->off_x = fmax(-15, fmin(15, o * rng_gauss(r)));
    sp->off_y = fmax(-15, fmin(15, o * rng_gauss(r)));
    sp->upside_down = rng_chance(r, 0.08);
    if (committed) /* keep the committed set small: mostly 200 dpi */
        sp->dpi = u < 0.9 ? 200 : 300;
    u = rng_unit(r);
    sp->blur_passes = u < 0.3 ? 0 : u < 0.8 ? 1 : 2;
    if (committed) /* blur widens every edge: the committed set keeps it light */
        sp->blur_passes = u < 0.6 ? 0 : 1;
    sp->noise = committed ? rng_range(r, 0.5, 1.2) : rng_range(r, 1.0, 4.0);
    sp->light_amp = rng_chance(r, 0.3) ? rng_range(r, 0.03, 0.15) : rng_range(r, 0, 0.03);
    sp->light_axis = rng_int(r, 2);
    sp->clip_white = committed || rng_chance(r, 0.8);
    sp->jpeg_quality = rng_chance(r, committed ? 0.1 : 0.25) ? 50 + rng_int(r, 40) : 0;
    sp->dark_background = rng_chance(r, 0.05);
    double tone = rng_range(r, 0.93, 0.99);
    sp->paper[0] = sp->paper[1] = sp->paper[2] = tone;
    if (!committed && rng_chance(r, 0.1)) { /* coloured paper for one template: yellow, pink or blue */
        int c = rng_int(r, 3);
        sp->paper[c == 0 ? 2 : c == 1 ? 1 : 0] *= rng_range(r, 0.8, 0.9);
    }
    u = rng_unit(r);
    sp->mode = u < 0.8 ? OUT_GRAY_PNG : u < 0.86 ? OUT_GRAY_TIFF : u < 0.93 ? OUT_RGB_PNG : OUT_BW_TIFF;
    if (committed && sp->mode == OUT_RGB_PNG)
        sp->dpi = 200;
    if (committed && u > 0.8 && u < 0.86) /* and more of it is 1-bit, which is small */
        sp->mode = OUT_BW_TIFF;
    if (sp->mode == OUT_BW_TIFF) {
        sp->jpeg_quality = 0;
        /* A scanner's black-and-white mode thresholds its sharp sensor signal: two passes
         * of blur before a 50 % threshold would erase a 0.3 mm ballpoint line at 200 dpi,
         * which no scanner sold for documents does. */
        if (sp->blur_passes > 1)
            sp->blur_passes = 1;
    }
}

static void random_plan(rng *r, const gen *g, page_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    double u = rng_unit(r);
    plan->kind = u < 0.04 ? KIND_BACK : u < 0.07 ? KIND_OTHER_FORM : KIND_BALLOT;
    plan->form = rng_int(r, g->n_forms);
    /* The committed set leans on the small two-row vote (its pages are a quarter of the
     * size of a 16- or 30-row ballot's) to stay under 20 MB with 54 pages. */
    if (g->committed && rng_chance(r, 0.3))
        for (int i = 0; i < g->n_forms; i++)
            if (g->forms[i]->kind == PHIEU_FORM_CONFIDENCE)
                plan->form = i;
    plan->test = plan->kind == KIND_BALLOT && rng_chance(r, 0.03);
    plan->all_blank = rng_chance(r, 0.02);
    plan->n_hard = rng_chance(r, 0.10) ? 1 + rng_chance(r, 0.3) : 0;
    plan->seal = rng_chance(r, 0.9);
    /* Drawn with --folds too, so that the pages' other draws stay those of the seed. */
    plan->fold = rng_chance(r, 0.12) || g->folds;
    plan->stray_near_fiducial = rng_chance(r, 0.04);
    plan->bleed = rng_chance(r, 0.5);
    random_scan(r, &plan->scan, g->committed);
}

/* Issue 12's cases. A seal stamped anywhere in the top-left 60 x 60 mm (its centre 8-52 mm
 * from both edges, so it often lies over or touches the corner mark): 15 % of sealed
 * pages. A corner mark cut 2-8 mm by the scanner's frame: 3 % of pages. */
static void extra_cases(rng *r, page_plan *plan)
{
    plan->seal_free = plan->seal && rng_chance(r, 0.15);
    plan->seal_x = rng_range(r, 8, 52);
    plan->seal_y = rng_range(r, 8, 52);
    plan->scan.cut_corner = rng_chance(r, 0.03) ? rng_int(r, 4) : -1;
    plan->scan.cut_mm = rng_range(r, 2, 8);
    plan->red_pen = rng_chance(r, 0.02);
    /* A fast office scanner set to its lowest resolution: 150 dpi, where a 0.3 mm
     * ballpoint line is under two pixels wide. */
    plan->low_dpi = rng_chance(r, 0.04);
}

/* The committed set shows every case at least once in its first pages; the rest is drawn
 * at random like a deck. */
static void committed_override(int index, const gen *g, page_plan *p)
{
    scan_params *s = &p->scan;
    switch (index) {
    case 0: p->kind = KIND_BALLOT; s->upside_down = 1; s->mode = OUT_GRAY_PNG; break;
    case 1: p->kind = KIND_BALLOT; s->mode = OUT_BW_TIFF; s->dpi = 300; break;
    case 2: p->kind = KIND_BALLOT; s->mode = OUT_RGB_PNG; s->dpi = 200; break;
    case 3: p->kind = KIND_BALLOT; s->dpi = 600; s->mode = OUT_GRAY_PNG; s->blur_passes = 2; break;
    case 4: p->kind = KIND_BACK; p->bleed = 1; break;
    case 5: p->kind = KIND_OTHER_FORM; p->test = 0; break;
    case 6: p->kind = KIND_BALLOT; p->test = 1; break;
    case 7: p->kind = KIND_BALLOT; p->n_hard = 3; p->test = 0; break;
    case 8: p->kind = KIND_BALLOT; p->n_hard = 3; p->test = 0; s->dpi = 300; break;
    case 9: s->rot_deg = 9.5; break;
    case 10: s->rot_deg = -10; s->upside_down = 1; break;
    case 11: s->scale = 0.95; break;
    case 12: s->scale = 1.05; s->off_x = -4; break;
    case 13: s->off_x = 15; s->off_y = -15; break;
    case 14: s->off_x = -15; s->off_y = 15; s->rot_deg = 3; break;
    case 15: p->all_blank = 1; p->kind = KIND_BALLOT; p->test = 0; break;
    case 16: p->fold = 1; break;
    case 17: p->fold = 1; s->mode = OUT_GRAY_TIFF; break;
    case 18: s->jpeg_quality = 55; s->mode = OUT_GRAY_PNG; break;
    case 19: s->noise = 3.5; s->clip_white = 0; s->light_amp = 0.15; s->dpi = 200;
             s->mode = OUT_GRAY_PNG; break;
    case 20: p->stray_near_fiducial = 1; p->seal = 1; break;
    case 21: p->kind = KIND_DUPLEX; p->test = 0; s->dpi = 200; s->mode = OUT_GRAY_TIFF; break;
    case 22: s->dark_background = 1; break;
    case 23: s->mode = OUT_BW_TIFF; s->dpi = 200; s->upside_down = 1; s->jpeg_quality = 0; break;
    case 24: /* the seal over the top-left corner mark: gray, 1-bit, colour */
        p->kind = KIND_BALLOT, p->test = 0, p->seal = p->seal_free = 1;
        p->seal_x = 12, p->seal_y = 14, s->mode = OUT_GRAY_PNG;
        break;
    case 25:
        p->kind = KIND_BALLOT, p->test = 0, p->seal = p->seal_free = 1;
        p->seal_x = 20, p->seal_y = 10, s->mode = OUT_BW_TIFF, s->jpeg_quality = 0;
        break;
    case 26:
        p->kind = KIND_BALLOT, p->test = 0, p->seal = p->seal_free = 1;
        p->seal_x = 10, p->seal_y = 22, s->mode = OUT_RGB_PNG, s->dpi = 200;
        break;
    case 27: /* a corner mark cut by the frame, upright and upside down */
        p->kind = KIND_BALLOT, p->test = 0, s->cut_corner = 1, s->cut_mm = 6;
        break;
    case 28:
        p->kind = KIND_BALLOT, p->test = 0, s->cut_corner = 3, s->cut_mm = 8, s->upside_down = 1;
        break;
    default: return;
    }
    if (index < 29)
        p->form = index % g->n_forms;
    /* Whole-page noise, RGB and big rotations cost the most bytes: show them on the
     * two-row vote. */
    if (index == 2 || index == 10 || index == 17 || index == 19)
        for (int i = 0; i < g->n_forms; i++)
            if (g->forms[i]->kind == PHIEU_FORM_CONFIDENCE)
                p->form = i;
    if (p->kind != KIND_BALLOT && p->kind != KIND_DUPLEX)
        p->test = 0;
    if (s->mode == OUT_BW_TIFF)
        s->jpeg_quality = 0;
}

static int get_blank(gen *g, int form, int edited, int test, int dpi, phieu_image **out,
                     phieu_error *err)
{
    phieu_image **slot = test ? &g->test_cache[form][dpi_index(dpi)]
                              : &g->blank_cache[form * 2 + edited][dpi_index(dpi)];
    if (!*slot) {
        phieu_render_options opt = {test, 1};
        int rc = phieu_render_raster(edited ? g->edited[form] : g->forms[form], &opt, dpi, slot, err);
        if (rc)
            return rc;
    }
    *out = *slot;
    return 0;
}

static void json_truth(gen *g, const char *file, int page, const char *form, const char *status,
                       const page_plan *plan, const scan_params *sp, const char *extra,
                       const row_truth *rows, int n_rows)
{
    FILE *t = g->truth;
    fprintf(t, "{\"file\": \"%s\", \"page\": %d, \"form\": ", file, page);
    if (form)
        fprintf(t, "\"%s\"", form);
    else
        fprintf(t, "null");
    fprintf(t, ", \"expect_status\": \"%s\", \"test\": %s, \"dpi\": %d, \"mode\": \"%s\", "
               "\"rotation_deg\": %.2f, \"scale\": %.4f, \"offset_mm\": [%.1f, %.1f], "
               "\"upside_down\": %s, \"jpeg_quality\": %d, \"seal\": %s, \"cut_corner_mm\": ",
            status, plan->test ? "true" : "false", sp->dpi, out_names[sp->mode], sp->rot_deg,
            sp->scale, sp->off_x, sp->off_y, sp->upside_down ? "true" : "false",
            sp->jpeg_quality, !plan->seal ? "null" : plan->seal_free ? "\"top-left\"" : "\"zone\"");
    if (sp->cut_corner >= 0)
        fprintf(t, "{\"corner\": %d, \"mm\": %.1f}", sp->cut_corner, sp->cut_mm);
    else
        fprintf(t, "null");
    fprintf(t, "%s, \"rows\": [", extra);
    for (int i = 0; i < n_rows; i++) {
        fprintf(t, "%s{\"row\": %d, \"truth\": \"%s\", \"hard\": ", i ? ", " : "", i + 1,
                rows[i].truth);
        if (rows[i].hard)
            fprintf(t, "\"%s\"", hard_names[rows[i].hard]);
        else
            fprintf(t, "null");
        fprintf(t, ", \"notes\": \"%s\"}", rows[i].notes);
    }
    fprintf(t, "]}\n");
}

/* Draws the marked front (or a back side) of one sheet and scans it into ras. */
static int make_side(gen *g, rng *r, const page_plan *plan, int back, raster *ras,
                     row_truth *truth, phieu_error *err)
{
    const scan_params *sp = &plan->scan;
    double ppm = sp->dpi / MM_PER_INCH;
    phieu_image *blank = NULL;
    int edited = plan->kind == KIND_OTHER_FORM;
    int rc = get_blank(g, plan->form, edited, plan->test, sp->dpi, &blank, err);
    if (rc)
        return rc;
    cairo_surface_t *page = surface_from_gray(blank);
    if (cairo_surface_status(page) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(page);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory for a page at %d dpi", sp->dpi);
    }
    cairo_t *cr = cairo_create(page);
    cairo_scale(cr, ppm, ppm);
    phieu_layout L;
    rc = phieu_layout_compute(g->forms[plan->form], &L, err);
    if (rc == 0) {
        if (plan->seal && plan->seal_free) {
            /* Stamped by hand "at the top left", anywhere: over the council's name, the
             * corner mark or the margin; a zone of the seal's size centred there. */
            double half = fmin(L.seal.w, L.seal.h) / 2;
            phieu_rect z = {plan->seal_x - half, plan->seal_y - half, 2 * half, 2 * half};
            draw_seal(cr, r, ppm, z);
        } else if (plan->seal) {
            draw_seal(cr, r, ppm, L.seal);
        }
        mark_ballot(cr, r, ppm, g->forms[plan->form], &L, plan, truth);
    }
    if (back) {
        /* The back: plain paper, the front showing through faintly, mirrored. */
        cairo_surface_t *front = page;
        cairo_surface_flush(front);
        page = cairo_image_surface_create(CAIRO_FORMAT_RGB24, blank->width, blank->height);
        cairo_t *bc = cairo_create(page);
        cairo_set_source_rgb(bc, 1, 1, 1);
        cairo_paint(bc);
        if (plan->bleed) {
            cairo_translate(bc, blank->width, 0);
            cairo_scale(bc, -1, 1);
            cairo_set_source_surface(bc, front, 0, 0);
            cairo_set_operator(bc, CAIRO_OPERATOR_MULTIPLY);
            cairo_paint_with_alpha(bc, rng_range(r, 0.03, 0.06));
        }
        cairo_destroy(bc);
        cairo_destroy(cr);
        cr = NULL;
        cairo_surface_destroy(front);
    }
    if (cr)
        cairo_destroy(cr);
    if (rc == 0)
        rc = scan_page(page, sp, r, ras);
    cairo_surface_destroy(page);
    if (rc == 0 && sp->blur_passes)
        rc = blur(ras, sp->blur_passes);
    if (rc == 0 && sp->jpeg_quality)
        jpeg_blocks(ras, sp->jpeg_quality);
    if (rc == PHIEU_ENOMEM)
        phieu_error_set(err, rc, "out of memory scanning a page at %d dpi", sp->dpi);
    return rc;
}

static const char *status_of(const page_plan *plan, const row_truth *rows, int n)
{
    if (plan->kind == KIND_BACK)
        return "blank";
    if (plan->kind == KIND_OTHER_FORM || plan->test)
        return "rejected";
    for (int i = 0; i < n; i++)
        if (rows[i].hard)
            return "review";
    return "counted";
}

static int make_page(gen *g, int index, phieu_error *err)
{
    /* Each page's stream starts at a hash of (seed, index). Starting it at seed*K + index*G
     * made page i+1's stream page i's shifted by one draw (splitmix64 steps by G too), so
     * some pages repeated another page's strokes exactly: false "rescans" in a deck. */
    rng seeder = {g->seed * 0x100000001B3ull ^ ((uint64_t)index << 1)};
    rng r = {rng_u64(&seeder)};
    rng_u64(&r);
    page_plan plan;
    /* The cases added for issue 12 draw from a stream of their own, so that the pages
     * without them stay what they were. */
    rng r12 = {rng_u64(&seeder)};
    random_plan(&r, g, &plan);
    /* Odd pages one marked row, even pages two: the pages a rescan is hardest to tell on
     * (bench/duplicates.sh). Drawn from nothing, so the marks of those rows do not change. */
    plan.marked_rows = g->few_marks ? 1 + index % 2 : 0;
    extra_cases(&r12, &plan);
    if (g->committed) {
        committed_override(index, g, &plan);
        plan.red_pen = 0; /* the bundled set stays as it was made before these two */
    } else if (plan.low_dpi) {
        plan.scan.dpi = 150;
        /* Black and white at 150 dpi thresholds the sensor's sharp signal too (random_scan):
         * after a pass of blur a 0.3 mm line, under two pixels, would not survive it. */
        if (plan.scan.mode == OUT_BW_TIFF)
            plan.scan.blur_passes = 0;
    }
    const scan_params *sp = &plan.scan;
    const char *ext = sp->mode == OUT_GRAY_TIFF || sp->mode == OUT_BW_TIFF || plan.kind == KIND_DUPLEX
                          ? "tif"
                          : "png";
    char name[64], path[4096];
    snprintf(name, sizeof name, "p%05d.%s", index + 1, ext);
    snprintf(path, sizeof path, "%s/%s", g->out_dir, name);
    row_truth rows[PHIEU_FORM_MAX_ROWS];
    const phieu_form *f = g->forms[plan.form];
    raster ras[2] = {{0}, {0}};
    int rc = make_side(g, &r, &plan, plan.kind == KIND_BACK, &ras[0], rows, err);
    if (rc == 0 && plan.kind == KIND_DUPLEX) {
        row_truth scratch[PHIEU_FORM_MAX_ROWS];
        rc = make_side(g, &r, &plan, 1, &ras[1], scratch, err);
    }
    if (rc == 0) {
        if (plan.kind == KIND_DUPLEX)
            rc = write_tiff(path, ras, 2, 0);
        else if (sp->mode == OUT_GRAY_TIFF || sp->mode == OUT_BW_TIFF)
            rc = write_tiff(path, ras, 1, sp->mode == OUT_BW_TIFF);
        else if (sp->mode == OUT_RGB_PNG || g->committed)
            rc = write_png(path, &ras[0], g->committed);
        else
            rc = write_gray_png(path, &ras[0], err);
        if (rc && !err->message[0])
            phieu_error_set(err, rc, "cannot write '%s'", path);
    }
    raster_free(&ras[0]);
    raster_free(&ras[1]);
    if (rc)
        return rc;
    char extra[128];
    snprintf(extra, sizeof extra, ", \"printed_form\": \"%s%s\"", f->id,
             plan.kind == KIND_OTHER_FORM ? " (edited: another fingerprint)" : "");
    if (plan.kind == KIND_BACK) {
        json_truth(g, name, 1, NULL, "blank", &plan, sp, ", \"printed_form\": null", NULL, 0);
    } else {
        int known = plan.kind != KIND_OTHER_FORM;
        json_truth(g, name, 1, known ? f->id : NULL, status_of(&plan, rows, f->n_rows), &plan, sp,
                   extra, known ? rows : NULL, known ? f->n_rows : 0);
        if (plan.kind == KIND_DUPLEX)
            json_truth(g, name, 2, NULL, "blank", &plan, sp, ", \"printed_form\": null", NULL, 0);
    }
    return 0;
}

/* ---- Forms ------------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The same form with the first row's name changed: what a ballot of an edited (or
 * another session's) form looks like. Same id, another fingerprint. */
static int make_edited(const phieu_form *f, phieu_form **out, phieu_error *err)
{
    const char *name = f->rows[0].name;
    const char *at = strstr(f->source, name);
    if (!at)
        return phieu_error_set(err, PHIEU_EFORMAT, "cannot find '%s' in form '%s'", name, f->id);
    static const char *const added = " Minh";
    size_t len = strlen(f->source), pre = (size_t)(at - f->source) + strlen(name);
    char *text = phieu_malloc(len + strlen(added) + 1);
    if (!text)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    memcpy(text, f->source, pre);
    memcpy(text + pre, added, strlen(added));
    memcpy(text + pre + strlen(added), f->source + pre, len - pre + 1);
    int rc = phieu_form_parse(text, strlen(text), "(edited)", out, err);
    phieu_free(text);
    return rc;
}

static int load_forms(gen *g, const char *dir, phieu_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return phieu_error_set(err, PHIEU_EIO, "cannot open folder '%s': %s; give --forms DIR",
                               dir, strerror(errno));
    char *names[MAX_FORMS];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_FORMS) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".form") == 0)
            names[n++] = phieu_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    int rc = n ? 0 : phieu_error_set(err, PHIEU_ENOTFOUND, "no *.form files in '%s'", dir);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == 0)
            rc = phieu_form_load(path, &g->forms[g->n_forms], err);
        if (rc == 0)
            rc = make_edited(g->forms[g->n_forms], &g->edited[g->n_forms], err);
        if (rc == 0)
            g->n_forms++;
        phieu_free(names[i]);
    }
    return rc;
}

/* Concatenates truth.jsonl.part0..part(jobs-1) into truth.jsonl in page order (each line
 * starts with its file name, p%05d..., so sorting the lines sorts the pages) and removes
 * the parts. */
static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int merge_truth_parts(const char *tpath, int jobs, phieu_error *err)
{
    phieu_buf all;
    phieu_buf_init(&all);
    for (int k = 0; k < jobs; k++) {
        char part[4200];
        snprintf(part, sizeof part, "%s.part%d", tpath, k);
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = phieu_read_file(part, (size_t)1 << 30, &data, &len, err);
        if (rc) {
            phieu_buf_release(&all);
            return rc;
        }
        phieu_buf_append(&all, data, len);
        phieu_free(data);
        unlink(part);
    }
    size_t n = 0;
    for (size_t i = 0; i < all.len; i++)
        n += all.data[i] == '\n';
    char **lines = phieu_calloc(n + 1, sizeof *lines);
    if (all.failed || !lines) {
        phieu_free(lines);
        phieu_buf_release(&all);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory merging the truth files");
    }
    size_t k = 0;
    for (char *line = all.data, *nl; all.len && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        lines[k++] = line;
    }
    qsort(lines, k, sizeof *lines, cmp_lines);
    FILE *f = fopen(tpath, "w");
    int rc = 0;
    if (!f)
        rc = phieu_error_set(err, PHIEU_EIO, "cannot create '%s': %s", tpath, strerror(errno));
    for (size_t i = 0; f && i < k; i++)
        fprintf(f, "%s\n", lines[i]);
    if (f && fclose(f) != 0)
        rc = phieu_error_set(err, PHIEU_EIO, "cannot write '%s'", tpath);
    phieu_free(lines);
    phieu_buf_release(&all);
    return rc;
}

/* Moves the pages of one form to a folder of their own, with their truth lines in its own
 * truth.jsonl (--split ID=DIR): a session holds the forms of one council and session, so
 * the ballots of another council's form are a set apart. A page goes when it is a ballot
 * of form ID as it is ("printed_form" is ID); every line of a file goes where the file
 * goes (a two-sided TIFF's blank back with its front). A ballot of an edited form ("ID
 * (edited: ...)") stays: it is a sheet of no form of any session, rejected wherever it is
 * fed, the case the board's "another form" decision is for; a lone blank back stays too.
 * The lines of truth.jsonl are in page order, and stay so on both sides. */
static int split_form(const char *tpath, const char *out_dir, const char *id, const char *dir,
                      phieu_error *err)
{
    int rc = phieu_mkdir_p(dir, err);
    uint8_t *data = NULL;
    size_t len = 0;
    if (rc == 0)
        rc = phieu_read_file(tpath, (size_t)1 << 30, &data, &len, err);
    if (rc)
        return rc;
    char want[128], moved[64] = "";
    snprintf(want, sizeof want, "\"printed_form\": \"%s", id);
    char spath[4200];
    snprintf(spath, sizeof spath, "%s/truth.jsonl", dir);
    phieu_buf keep;
    phieu_buf_init(&keep);
    FILE *f = fopen(spath, "w");
    if (!f)
        rc = phieu_error_set(err, PHIEU_EIO, "cannot create '%s': %s", spath, strerror(errno));
    for (char *line = (char *)data, *nl; rc == 0 && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        char file[64] = "";
        sscanf(line, "{\"file\": \"%63[^\"]\"", file);
        const char *at = strstr(line, want);
        int mine = at && at[strlen(want)] == '"';
        if (mine && file[0]) {
            char from[4200], to[4200];
            snprintf(from, sizeof from, "%s/%s", out_dir, file);
            snprintf(to, sizeof to, "%s/%s", dir, file);
            if (rename(from, to) != 0)
                rc = phieu_error_set(err, PHIEU_EIO, "cannot move '%s' to '%s': %s", from, to,
                                     strerror(errno));
            snprintf(moved, sizeof moved, "%s", file);
        }
        if (mine || (moved[0] && strcmp(file, moved) == 0))
            fprintf(f, "%s\n", line);
        else
            phieu_buf_printf(&keep, "%s\n", line);
    }
    if (f && fclose(f) != 0 && rc == 0)
        rc = phieu_error_set(err, PHIEU_EIO, "cannot write '%s'", spath);
    if (rc == 0 && keep.failed)
        rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory splitting the truth file");
    if (rc == 0)
        rc = phieu_write_file_durable(tpath, keep.data ? keep.data : "", keep.len, err);
    phieu_buf_release(&keep);
    phieu_free(data);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gen_samples --count N --out DIR [--seed S] [--set committed] [--forms DIR]\n"
               "                   [--jobs J] [--split ID=DIR] [--few-marks] [--folds]\n"
               "Makes N scanned ballots with ground truth (DIR/truth.jsonl) from the forms in\n"
               "DIR (default: forms). --set committed makes the set kept in samples/ballots/\n"
               "(every case in its first pages; count %d and seed %u unless given).\n"
               "--jobs J makes the pages in J processes (page i is the same whatever J is).\n"
               "--split ID=DIR moves the pages printed from form ID (of another council or\n"
               "session than the others) to DIR, with their truth in DIR/truth.jsonl.\n"
               "--few-marks marks only the first row (odd pages) or two rows (even pages).\n"
               "--folds puts a crease through a row of every page (else 12 %% of pages).\n",
            COMMITTED_COUNT, COMMITTED_SEED);
}

int main(int argc, char **argv)
{
    gen g;
    memset(&g, 0, sizeof g);
    g.seed = DEFAULT_SEED;
    int count = -1, seed_given = 0, jobs = 1;
    const char *forms_dir = "forms";
    const char *split = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--count") == 0 && v) {
            count = atoi(v), i++;
        } else if (strcmp(a, "--out") == 0 && v) {
            g.out_dir = v, i++;
        } else if (strcmp(a, "--seed") == 0 && v) {
            g.seed = strtoull(v, NULL, 10), seed_given = 1, i++;
        } else if (strcmp(a, "--jobs") == 0 && v) {
            jobs = atoi(v), i++;
        } else if (strcmp(a, "--forms") == 0 && v) {
            forms_dir = v, i++;
        } else if (strcmp(a, "--few-marks") == 0) {
            g.few_marks = 1;
        } else if (strcmp(a, "--folds") == 0) {
            g.folds = 1;
        } else if (strcmp(a, "--split") == 0 && v && strchr(v, '=') && v[0] != '=') {
            split = v, i++;
        } else if (strcmp(a, "--set") == 0 && v && strcmp(v, "committed") == 0) {
            g.committed = 1, i++;
        } else {
            fprintf(stderr, "gen_samples: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (g.committed && count < 0)
        count = COMMITTED_COUNT;
    if (g.committed && !seed_given)
        g.seed = COMMITTED_SEED;
    if (count < 1 || !g.out_dir || jobs < 1 || jobs > 64) {
        usage(stderr);
        return 2;
    }
    phieu_error err = {0};
    int rc = phieu_util_init(&err);
    if (rc == 0)
        rc = phieu_mkdir_p(g.out_dir, &err);
    if (rc == 0)
        rc = load_forms(&g, forms_dir, &err);
    char tpath[4096];
    snprintf(tpath, sizeof tpath, "%s/truth.jsonl", g.out_dir);
    /* Job k makes pages k, k + jobs, ... into its own truth part; the parts are merged in
     * page order at the end, so the deck is the same whatever the number of jobs. */
    int job = 0;
    for (int k = 1; rc == 0 && k < jobs; k++) {
        pid_t pid = fork();
        if (pid < 0)
            rc = phieu_error_set(&err, PHIEU_EIO, "cannot start job %d: %s", k, strerror(errno));
        if (pid == 0) {
            job = k;
            break;
        }
    }
    char part[4200];
    snprintf(part, sizeof part, "%s.part%d", tpath, job);
    if (rc == 0 && !(g.truth = fopen(part, "w")))
        rc = phieu_error_set(&err, PHIEU_EIO, "cannot create '%s': %s", part, strerror(errno));
    for (int i = job; rc == 0 && i < count; i += jobs) {
        rc = make_page(&g, i, &err);
        if (rc == 0 && job == 0 && (i / jobs + 1) % 100 == 0)
            fprintf(stderr, "gen_samples: about %d of %d pages\n", i + 1, count);
    }
    if (g.truth && fclose(g.truth) != 0 && rc == 0)
        rc = phieu_error_set(&err, PHIEU_EIO, "cannot write '%s'", part);
    if (job != 0) {
        if (rc)
            fprintf(stderr, "gen_samples: job %d: %s\n", job, err.message);
        _exit(rc ? 1 : 0);
    }
    for (int k = 1; k < jobs; k++) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            if (rc == 0)
                rc = phieu_error_set(&err, PHIEU_EIO, "a generator job failed");
    }
    if (rc == 0)
        rc = merge_truth_parts(tpath, jobs, &err);
    if (rc == 0 && split) {
        char id[64];
        snprintf(id, sizeof id, "%.*s", (int)(strchr(split, '=') - split), split);
        rc = split_form(tpath, g.out_dir, id, strchr(split, '=') + 1, &err);
    }
    for (int i = 0; i < g.n_forms; i++) {
        for (int k = 0; k < N_DPIS; k++) {
            phieu_image_destroy(&g.blank_cache[i * 2][k]);
            phieu_image_destroy(&g.blank_cache[i * 2 + 1][k]);
            phieu_image_destroy(&g.test_cache[i][k]);
        }
        phieu_form_destroy(&g.forms[i]);
        phieu_form_destroy(&g.edited[i]);
    }
    if (rc) {
        fprintf(stderr, "gen_samples: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "gen_samples: wrote %d pages and %s\n", count, tpath);
    return 0;
}
