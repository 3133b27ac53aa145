/*
 * omr_score.c - scores one box: samples a window around it in the box's own frame (so
 * rotation does not matter), re-finds the printed outline there, and measures the ink
 * inside that is not print, against the paper white around the box. Specks, hesitation
 * dots and strokes that only touch the box edge are recognised here; what they mean for
 * a row (folds across several boxes) is decided in omr.c.
 */
#include <math.h>
#include <string.h>

#include "omr/omr_internal.h"
#include "phieu/alloc.h"

/* Sampling step in the box frame: one sample per pixel, but not finer than 0.15 mm (a
 * 1 mm pencil line still gets 6 samples across, a 0.3 mm ballpoint line 2; 300 and 600 dpi
 * pages cost what a 170 dpi one does, which is what keeps a page near 1 ms). */
#define BOX_MIN_STEP_MM 0.15
/* Local search for the printed outline, either way: the global transform from the four
 * corners leaves well under 1 mm of print misregistration and paper stretch mid-page
 * (0.5 % stretch over the 140 mm from a corner to the middle is 0.7 mm). */
#define BOX_SEARCH_MM 0.8
/* The ring outside the search zone where local paper white is measured. */
#define BOX_RING_MM 0.6
/* Interior inset past the outline's own width, for blur and residual misregistration. */
#define BOX_INSET_MARGIN_MM 0.35
/* Paper white: this percentile of the ring (robust to a stroke crossing it). */
#define BOX_PAPER_PERCENTILE 0.90
/* Paper noise (for the faint look, section 6) is measured on the ring's samples that lie
 * as far from print (darker than the print threshold) as the interior lies from the
 * outline, BOX_INSET_MARGIN_MM, so that print's blur and JPEG ringing enter it as they
 * enter the interior's margin, and print itself does not. Where fewer than this many are
 * left, a percentile of them is no measure and the whole ring's is taken (the ring holds
 * 176-192 samples at 150-200 dpi; on the province form at 200 dpi 88 are clear of print). */
#define BOX_NOISE_MIN_SAMPLES 40
/* An outline column/row must be dark over this share of the box side to be trusted. */
#define BOX_OUTLINE_MIN_SHARE 0.35
/* Each side of the printed outline must be found dark over this share of its length, or
 * the box is partly covered (blur and 1-bit scans leave a printed 0.35 mm line whole). */
#define BOX_OUTLINE_PRESENT 0.7
/* The least paper-to-black contrast assumed (gray levels): a very dark scan or a dark
 * shadow must not turn noise into ink by dividing by a tiny contrast. */
#define BOX_MIN_CONTRAST 40.0
/* Ink this dark (share of paper-to-black) or darker counts fully in the score; lighter
 * ink counts in proportion. Pencil at half the darkness of ballpoint is as much a vote;
 * a mark at a fifth of it is faint. */
#define BOX_FULL_DARKNESS 0.5
/* A box whose ink is on average lighter than this (share of paper-to-black) holds a faint
 * mark: at most marginal, however much of it there is. Measured on the generated samples:
 * the lightest ordinary pencil marks average 0.16 or more, faint pencil about 0.10. */
#define BOX_FAINT_DARKNESS 0.13
/* Faint marks (section 6): on quiet paper, ink this far below paper white (share of
 * contrast), or 4 sigma of the paper's own noise if that is more, is looked at again;
 * 5 % of the interior covered by it sends an otherwise empty box to review. Measured on
 * the committed samples: a faint pencil X 2-6 % below paper covers 8.5 %; JPEG ringing
 * in empty boxes of a quality-59 scan covers up to 3.3 %. */
#define BOX_FAINT_INK_MIN 0.015
#define BOX_FAINT_NOISE_K 4.0
#define BOX_FAINT_COVERAGE 0.05
/* ... or 3.5 % when its pieces that slant across the box (1 mm or more both ways) are
 * 2.2 mm long together: a small faint tick covers 4.3 % (deck seed 2026 p02193, read
 * blank). JPEG ringing makes long strokes too, but straight along the outline (128 empty
 * boxes of the same deck went to review until the slant was asked for). Together, not one
 * piece: pencil grain breaks a faint stroke, and a tick in three pieces, two slanting 1.65 and
 * 1.05 mm, read blank (deck seed 1212, p05160). Over the 16,984 empty boxes of that deck's
 * 476 pages with a faint look covering 3 % or more, adding the pieces up sent none more
 * to review. */
#define BOX_FAINT_STROKE_COVERAGE 0.035
#define BOX_FAINT_STROKE_MM 2.2
#define BOX_FAINT_STROKE_ACROSS_MM 1.0
/* On paper too noisy for that look (4 sigma at or past the ink threshold), the look along
 * strokes: each interior sample takes the darkest mean of BOX_STROKE_DIRS short segments
 * through it, BOX_STROKE_MM long, against the interior's median gray; the mean of n
 * samples carries sigma / sqrt(n) of the noise, and BOX_STROKE_NOISE_K of that is ink.
 * A faint pencil tick 10-13 levels below clean paper whose ring held the table's rules
 * (sigma measured 5.5: deck seed 1209 p02920 row 18, read blank) is ink at 7 levels; a
 * pencil line is at least 1.2 mm long in a tick, and 8 directions are 22.5 degrees
 * apart, so a 0.3 mm line stays within the segment along it. */
#define BOX_STROKE_MM 1.2
#define BOX_STROKE_DIRS 8
#define BOX_STROKE_NOISE_K 4.0

/* Ink blobs smaller than this across are paper flecks or scanner noise. */
#define BOX_SPECK_MM 0.4
/* Ink pieces this close belong to one stroke: a thin pen line in a 1-bit scan, or a
 * ballpoint that skips, breaks into dashes, each of them a speck or an edge graze on its
 * own (a clear tick at 200 dpi read empty, deck seed 2026 p06349 and p09872). The faint
 * second look keeps touching pixels only: at its low threshold noise lies that close. */
#define BOX_LINK_MM 0.3
/* A blob touching the interior edge that reaches no deeper than this from one side is a
 * stroke from outside that grazes the box. Before, "from the side nearest to each of its
 * points": a tick whose vertex rests on a 5 mm box's bottom line is cut there by the
 * interior into two arms, one along the bottom, one up the box's right part, each within
 * 0.8 mm of its nearest side, and both were set aside (deck seed 1212: 243 of 713 rows to
 * review held a tick in a box marginal with a score under 0.01, all but 6 on the province
 * form; p00852 alone 10). The long arm of its row 2 reaches 1.7 mm from the bottom and
 * 1 mm from the right; no stroke from outside does both. */
#define BOX_EDGE_DEPTH_MM 0.8
/* ... and a blob within this of the side nearest to each of its points hugs the edge, a
 * graze whatever its reach: a printed line's blur round the interior's corner is an L
 * along two sides. Without this, the first 6,500 pages of that deck (gray and colour) sent
 * 220 more rows to review (a hesitation dot joined by such an L spans a mark:
 * test_dot_at_low_resolution at 150 dpi); the arms above reach 0.5 mm from their
 * nearest side. The faint look keeps the nearest side (faint_coverage): at its low
 * threshold the blur round the corner reaches further, and 49 rows of a clear mark went
 * to review for a faint mark in an empty box beside it. */
#define BOX_EDGE_HUG_MM 0.4
/* A stroke drawn on the box's edge, along its printed line, in a 1-bit scan: there the
 * interior's margin holds no blur, so the stroke leaves only a few samples inside (deck
 * seed 1212, p00852 at 150 dpi, rows 12 and 15: a tick whose vertex sits in the box's
 * bottom-right corner and whose long arm runs up the right side, on the line and beside
 * it, read blank with 4 samples of edge ink each). Beside the interior the outline is
 * doubled there: its dark run across the side, from as far outside the printed line as
 * the interior lies inside it, is BOX_OUTLINE_DOUBLED_PX samples or more wider than the
 * line, over 1.2 and 1.3 mm of the right side. In 1-bit windows the printed line keeps its
 * width within a sample (resampled, turned, found a sample off): of that deck's 16,089
 * empty 1-bit boxes, 16,023 show no such place. A speck or a pen's end touching the line
 * doubles it over its own width, at most 0.5 mm, so 0.8 mm asks for a stroke along it. A
 * stroke from outside that ends on the line doubles it too (the deck's touching strokes:
 * up to 2.7 mm when they come in at a shallow slant) but leaves no ink inside: of the
 * 26,000 boxes of the deck's 704 1-bit pages, none read empty held edge ink but those two.
 * In gray scans the blur puts edge ink inside many boxes (911 of 8,519 empty ones at 150
 * dpi) and 5 of 233 touching strokes there pass both tests, so that width test is made in
 * 1-bit windows only. In gray windows the same 0.8 mm is asked of places where the margin
 * between the line and the interior is dark all across and the run across the side is
 * longer than the box's median run (outline_stroke_mm): the same tick drawn on a
 * gray page, blurred, read blank and measures 1.52 mm at 150 dpi, 1.20 at 200, 0.90 at
 * 300, a stroke ending on the edge 0.34 and 0.30. Over the 4,397 gray boxes of deck seed
 * 1212 holding edge ink it sent 21 more rows to review, all at 150 dpi (the margin alone,
 * 59; a run longer by 2, none, but the tick at 150 dpi measured 0.34 mm so). */
#define BOX_OUTLINE_DOUBLED_MM 0.8
#define BOX_OUTLINE_DOUBLED_PX 2
/* All the ink within this extent: a hesitation dot or a fleck, never a mark (the smallest
 * tick or cross anyone draws spans half the box, 3 mm; a 0.8 mm dot with its soft edge
 * spans 1.2 mm at a low ink threshold). */
#define BOX_DOT_MM 1.5
/* ... or within that plus the scanner's blur, about a pixel of the scan on each side,
 * when its core (the ink at least half as dark as its darkest) is no wider than a dot: at
 * 150 dpi a 0.6 mm dot measured 1.52-1.69 mm with a core of 0.84 mm and read as a vote
 * (duplicates deck seed 7001, p00187 rows 5 and 28), while the smallest light ticks of
 * deck 1207 (200 dpi, p04008 row 5, p08301 row 20) measured 1.5 mm with cores of 1.2 and
 * 1.5 mm: they are marks, and stay marginal. */
#define BOX_DOT_BLUR_PX 2
#define BOX_DOT_CORE_MM 1.0
#define BOX_DOT_CORE_SHARE 0.5
/* Measured so, the extent leaves out ink lighter than this share of the darkest: the halo
 * a JPEG scan rings round a dark dot, joined to it, spanned 1.95 mm at 200 dpi, quality
 * 75, with the dot itself 0.75 mm at this share and at half (fold deck seed 1210 p00959
 * row 19: a hesitation dot read as a vote). A tick light enough for its arms to fall
 * under a quarter of its darkest point is a faint mark, which the faint look, beyond the
 * dot's halo, still sends to review. */
#define BOX_DOT_SPAN_SHARE 0.25
/* Around a dot, this much of its soft edge is left out of the look for faint marks. */
#define BOX_DOT_HALO_MM 0.5
/* A band across the whole interior (a fold or crease candidate: a thin core and a soft
 * shadow up to about 2 mm wide): at most this thick on average and this tall end to end.
 * Only when two or more boxes of a row carry one at the same height is it a fold. */
#define BOX_LINE_THICK_MM 2.2
#define BOX_LINE_TALL_MM 3.0
#define BOX_LINE_SPAN 0.9
/* A fold's band reaches this far above and below its widest blob: the crease's shadow
 * (1-2.2 mm wide, offset up to 1 mm from its core) blurred by the scan. */
#define BOX_BAND_MARGIN_MM 1.0
/* The faint look ignores a band across the whole interior whose rows are, on average, at
 * least this share of its ink threshold darker than paper in the ring on both sides
 * (1.4 mm outside the box, where no hand's mark inside the box reaches): a crease's
 * shadow, 0.04-0.08 of black, that the fold test of omr.c did not take as a thin line. */
#define BOX_FOLD_RING_SHARE 0.5
/* A fold's band carries about the same ink in every column; a column holding this many
 * samples of full-weight ink (0.3 mm of black at the 0.15 mm step) more than the band's
 * median column holds something else there: a dot or a hand's stroke on the fold. A
 * crease's shadow varies by about one such sample from column to column. */
#define BOX_BAND_COL_EXCESS 2.0
/* A band's own darkness is that of its darkest run this tall in each column (the median
 * column's): as tall as the patch omr.c measures the crease outside the box with, so a
 * crease reads alike inside and out, while a thin pen line on a wide shadow is judged by
 * its own darkness, not diluted by the shadow around it. */
#define BOX_BAND_PEAK_MM 0.3
/* Kept blobs whose extents are remembered for the dot rule beside a fold; a box with
 * more is not a dot anyway. */
#define BOX_MAX_BLOBS 32
/* A blob carrying less than this share of a box's ink is a trace (scanner noise on gray
 * paper, a fleck) and does not widen the extent the dot rule looks at: on noisy paper a
 * 0.6 mm noise blob 3 mm from a hesitation dot made the dot a vote (deck seed 2026
 * p03971 row 14; the dot carried 97 % of the ink). */
#define BOX_TRACE_SHARE 0.1

static int best_offset(const int *prof, int n, int a, int b, int lw, int search, int total,
                       int *found)
{
    int best = 0;
    long best_v = -1;
    for (int d = 0; d <= 2 * search; d++) {
        /* 0, -1, +1, -2, +2...: ties go to the smallest move. */
        int off = (d + 1) / 2 * (d % 2 ? -1 : 1);
        long v = 0;
        for (int k = 0; k < lw; k++) {
            int i = a + off + k, j = b - 1 + off - k;
            if (i >= 0 && i < n)
                v += prof[i];
            if (j >= 0 && j < n)
                v += prof[j];
        }
        if (v > best_v) {
            best_v = v;
            best = off;
        }
    }
    *found = total > 0 && (double)best_v / (2.0 * lw * total) >= BOX_OUTLINE_MIN_SHARE;
    return *found ? best : 0;
}

/* The least share of the four sides of the outline found dark, each side sampled along
 * its length (a side is dark at a point when any sample across its width is). */
static double outline_presence(const uint8_t *win, int nw, int nh, int Lb, int Rb, int Tb,
                               int Bb, int lw, int dark_t)
{
    double least = 1;
    for (int side = 0; side < 4; side++) {
        int vertical = side < 2;
        int a0 = (vertical ? Tb : Lb) + lw, a1 = (vertical ? Bb : Rb) - lw;
        int c0 = side == 0 ? Lb : side == 1 ? Rb - lw : side == 2 ? Tb : Bb - lw;
        int dark = 0, total = 0;
        for (int a = a0; a < a1; a++) {
            int hit = 0;
            for (int c = c0 - 1; c <= c0 + lw && !hit; c++) {
                int x = vertical ? c : a, y = vertical ? a : c;
                if (x >= 0 && y >= 0 && x < nw && y < nh)
                    hit = win[(size_t)y * nw + x] < dark_t;
            }
            dark += hit;
            total++;
        }
        if (total > 0 && (double)dark / total < least)
            least = (double)dark / total;
    }
    return least;
}

/* Mean darkness (share of contrast) of the window's ring columns, left and right of the
 * box, over window rows y0..y1: whether a band inside the box carries on outside it. */
static double ring_band(const uint8_t *win, int nw, int left_end, int right_start, int y0,
                        int y1, double paper, double contrast, double *right)
{
    double sl = 0, sr = 0;
    long nl = 0, nr = 0;
    for (int j = y0; j <= y1; j++) {
        const uint8_t *row = win + (size_t)j * nw;
        for (int i = 0; i < left_end; i++, nl++)
            sl += (paper - row[i]) / contrast;
        for (int i = right_start; i < nw; i++, nr++)
            sr += (paper - row[i]) / contrast;
    }
    *right = nr > 0 ? sr / nr : 0;
    return nl > 0 ? sl / nl : 0;
}

/* One connected piece of the interior's ink mask. */
typedef struct ink_blob {
    long cnt;               /* its samples */
    double sum, wsum;       /* their darkness, and their weight in the score */
    double sum2;            /* their darkness squared */
    int x0, y0, x1, y1;     /* its extent, interior samples */
    int depth;              /* its deepest sample's distance from the interior's edge */
    int touches;            /* 1 when it reaches the edge */
} ink_blob;

/* Floods the blob of s->mask that holds sample `start`, over samples up to `link` apart
 * (1: touching), and marks them in s->labels. */
static void flood_blob(omr_scratch *s, int iw, int ih, long start, int link, ink_blob *b)
{
    int sp = 0;
    *b = (ink_blob){.x0 = iw, .y0 = ih, .x1 = -1, .y1 = -1};
    s->stack[sp++] = (int)start;
    s->labels[start] = 1;
    while (sp > 0) {
        int k = s->stack[--sp], i = k % iw, j = k / iw;
        double st = s->mask[k] / 255.0;
        b->cnt++;
        b->sum += st;
        b->sum2 += st * st;
        b->wsum += st >= BOX_FULL_DARKNESS ? 1.0 : st / BOX_FULL_DARKNESS;
        b->x0 = i < b->x0 ? i : b->x0;
        b->x1 = i > b->x1 ? i : b->x1;
        b->y0 = j < b->y0 ? j : b->y0;
        b->y1 = j > b->y1 ? j : b->y1;
        int d = i;
        d = iw - 1 - i < d ? iw - 1 - i : d;
        d = j < d ? j : d;
        d = ih - 1 - j < d ? ih - 1 - j : d;
        b->touches |= d == 0;
        b->depth = d > b->depth ? d : b->depth;
        for (int yy = j - link; yy <= j + link; yy++)
            for (int xx = i - link; xx <= i + link; xx++) {
                if (xx < 0 || yy < 0 || xx >= iw || yy >= ih)
                    continue;
                int q = yy * iw + xx;
                if (s->mask[q] && !s->labels[q]) {
                    s->labels[q] = 1;
                    s->stack[sp++] = q;
                }
            }
    }
}

/* Whether a blob is a stroke from outside grazing the box: it touches the interior's edge
 * and lies within depth_min samples of one side, as a stroke coming in across that side
 * does; or within hug samples of the side nearest to each of its points, hugging the
 * edge (a printed line's blur, an L round the interior's corner). A blob near two sides
 * that reaches further from both is drawn inside the box: a tick cut at its vertex. */
static int edge_graze(const ink_blob *o, int iw, int ih, int depth_min, int hug)
{
    int reach = o->x1;                                       /* from the left side */
    reach = iw - 1 - o->x0 < reach ? iw - 1 - o->x0 : reach; /* from the right */
    reach = o->y1 < reach ? o->y1 : reach;                   /* from the top */
    reach = ih - 1 - o->y0 < reach ? ih - 1 - o->y0 : reach; /* from the bottom */
    return o->touches && (reach < depth_min || o->depth < hug);
}

/* Where the faint look is: the window, its ring columns, and the interior's place in it;
 * a band across the interior that goes on into the ring on both sides is a crease's
 * shadow, not a faint mark (a hand's X or tick stays inside the box). */
typedef struct faint_ctx {
    const uint8_t *win;
    int nw, left_end, right_start, iy0;
    double paper, contrast, t_low;
} faint_ctx;

/* Share of the interior (mask set in s->mask) in blobs that are neither specks nor edge
 * grazes nor a crease's band, the larger side of their union's extent, and the length of
 * those that slant across the box, added up, in samples. */
static double faint_coverage(omr_scratch *s, int iw, int ih, double g, const faint_ctx *fc,
                             int *extent, int *slanting)
{
    *slanting = 0;
    long n = (long)iw * ih, kept = 0;
    int speck = (int)ceil(BOX_SPECK_MM / g), depth_min = (int)ceil(BOX_EDGE_DEPTH_MM / g);
    int ux0 = iw, uy0 = ih, ux1 = -1, uy1 = -1;
    for (long k = 0; k < n; k++)
        s->labels[k] = 0;
    for (long start = 0; start < n; start++) {
        if (!s->mask[start] || s->labels[start])
            continue;
        ink_blob o;
        flood_blob(s, iw, ih, start, 1, &o);
        int bw = o.x1 - o.x0 + 1, bh = o.y1 - o.y0 + 1;
        if ((bw < speck && bh < speck) || (o.touches && o.depth < depth_min))
            continue;
        if (bw >= BOX_LINE_SPAN * iw && bh * g <= BOX_LINE_TALL_MM) {
            double right, left = ring_band(fc->win, fc->nw, fc->left_end, fc->right_start,
                                           fc->iy0 + o.y0, fc->iy0 + o.y1, fc->paper,
                                           fc->contrast, &right);
            if (left >= BOX_FOLD_RING_SHARE * fc->t_low && right >= BOX_FOLD_RING_SHARE * fc->t_low)
                continue;
        }
        kept += o.cnt;
        /* A stroke across the box, not along its edges: JPEG ringing runs beside the
         * outline in long, thin, straight lines. */
        int span = bw > bh ? bw : bh;
        if ((bw < bh ? bw : bh) * g >= BOX_FAINT_STROKE_ACROSS_MM)
            *slanting += span;
        ux0 = o.x0 < ux0 ? o.x0 : ux0;
        ux1 = o.x1 > ux1 ? o.x1 : ux1;
        uy0 = o.y0 < uy0 ? o.y0 : uy0;
        uy1 = o.y1 > uy1 ? o.y1 : uy1;
    }
    *extent = kept > 0 ? (ux1 - ux0 > uy1 - uy0 ? ux1 - ux0 : uy1 - uy0) + 1 : 0;
    return n > 0 ? (double)kept / n : 0;
}

/* The median of v[0..n-1], n >= 1; sorts v (insertion sort: a few dozen columns). */
static double median_in_place(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int k = i - 1;
        for (; k >= 0 && v[k] > x; k--)
            v[k + 1] = v[k];
        v[k + 1] = x;
    }
    return v[n / 2];
}

/* Beside a fold's band (window rows j0..j1 of the interior): is everything that is not the
 * band's even ink within one dot? That is the blobs reaching outside the band, and the
 * band's columns holding clearly more than its median column (a dot on the crease itself,
 * joined to its line). Also the band's median column ink as a share of the score, and the
 * mean darkness of its ink outside the excess columns (the crease's own), so that
 * omr.c can tell a hand's line along the fold (more ink in every column than the crease
 * leaves in the other boxes) from the crease alone. */
static void band_dot(const omr_scratch *s, int iw, int ih, double g, int j0, int j1,
                     const int blob_box[][4], int nblobs, int line_blob, omr_box_extra *extra)
{
    double colw[512], sorted[512], dark[512];
    if (iw > 512)
        return;
    for (int i = 0; i < iw; i++) {
        double w = 0, d = 0;
        for (int j = j0; j <= j1; j++) {
            double st = s->mask[(size_t)j * iw + i] / 255.0;
            w += st >= BOX_FULL_DARKNESS ? 1.0 : st / BOX_FULL_DARKNESS;
            d += st;
        }
        colw[i] = sorted[i] = w;
        dark[i] = d;
    }
    double med = median_in_place(sorted, iw);
    /* The band's ink per mm as its median column holds it: a dot on a crease adds to a
     * few columns, not to the median. */
    extra->line_ink_mm = median_in_place(dark, iw) * g;
    extra->band_base = med * iw / ((double)iw * ih);
    double even_sum = 0;
    long even_n = 0;
    for (int i = 0; i < iw; i++)
        if (colw[i] <= med + BOX_BAND_COL_EXCESS)
            for (int j = j0; j <= j1; j++) {
                double st = s->mask[(size_t)j * iw + i] / 255.0;
                even_sum += st;
                even_n += st > 0;
            }
    extra->band_even_dark = even_n > 0 ? even_sum / even_n : 0;
    int ux0 = iw, uy0 = ih, ux1 = -1, uy1 = -1;
    for (int i = 0; i < iw; i++)
        if (colw[i] > med + BOX_BAND_COL_EXCESS) {
            ux0 = i < ux0 ? i : ux0;
            ux1 = i > ux1 ? i : ux1;
            uy0 = j0 < uy0 ? j0 : uy0;
            uy1 = j0 > uy1 ? j0 : uy1; /* the band's height is the fold's, not the dot's */
        }
    for (int b = 0; b < nblobs; b++) {
        const int *bb = blob_box[b];
        if (b == line_blob || (bb[1] >= j0 && bb[3] <= j1))
            continue;
        ux0 = bb[0] < ux0 ? bb[0] : ux0;
        uy0 = bb[1] < uy0 ? bb[1] : uy0;
        ux1 = bb[2] > ux1 ? bb[2] : ux1;
        uy1 = bb[3] > uy1 ? bb[3] : uy1;
    }
    int ext = ux1 < 0 ? 0 : (ux1 - ux0 > uy1 - uy0 ? ux1 - ux0 : uy1 - uy0) + 1;
    extra->fold_dot = ext * g < BOX_DOT_MM;
}

/* A band's profile across its height (window rows j0..j1 of the interior): in each column
 * the darkest run of BOX_BAND_PEAK_MM, and where it lies. extra->band_peak is the median
 * column's darkness there: a crease's core with its shadow, or a hand's line drawn along
 * it, judged by its own darkness. extra->band_spread_mm is how far those runs stray from
 * their median height (the median of the distances): a crease's lie at one height, a line
 * slanting across the box climbs through the band. Medians, so that a dot on or beside the
 * crease (under half of the columns) moves neither. */
static void band_profile(const omr_scratch *s, int iw, double g, int j0, int j1,
                         omr_box_extra *extra)
{
    double peak[512], at[512];
    if (iw > 512)
        return;
    int k = (int)lround(BOX_BAND_PEAK_MM / g);
    k = k < 1 ? 1 : k > j1 - j0 + 1 ? j1 - j0 + 1 : k;
    for (int i = 0; i < iw; i++) {
        double run = 0, best = -1;
        for (int j = j0; j <= j1; j++) {
            run += s->mask[(size_t)j * iw + i];
            if (j - k >= j0)
                run -= s->mask[(size_t)(j - k) * iw + i];
            if (j - j0 + 1 >= k && run > best) {
                best = run;
                at[i] = j;
            }
        }
        peak[i] = best / (255.0 * k);
    }
    extra->band_peak = median_in_place(peak, iw);
    for (int i = 0; i < iw; i++)
        peak[i] = at[i];
    double mid = median_in_place(peak, iw);
    for (int i = 0; i < iw; i++)
        at[i] = fabs(at[i] - mid);
    extra->band_spread_mm = median_in_place(at, iw) * g;
}

/* One box being scored: where its window lies on the page and in what step it is
 * sampled, and what the phases have measured so far. The phases run in order, each
 * filling its part: box_frame, sample_window, paper_white, find_outline, ink_mask. */
typedef struct box_ctx {
    const phieu_rect *box;
    double cx, cy;           /* the box's centre on the page, mm */
    double ox, oy;           /* ... in image pixels */
    double ax, ay, bx, by;   /* pixels per mm along the page's x, and along its y */
    double g;                /* sampling step, mm */
    double px_mm;            /* a pixel of the scan, mm */
    double M;                /* the window's margin around the box, mm */
    int nw, nh;              /* the window, in samples */
    int L0, R0, T0, B0;      /* where the outline is expected in the window */
    int lw, S;               /* the outline's width and the search either way, samples */
    double paper, sigma;     /* local paper white and, for an empty box, its noise (gray) */
    double contrast;         /* paper to black, at least BOX_MIN_CONTRAST */
    int dark_t;              /* gray below which a sample is print */
    int Lb, Rb, Tb, Bb;      /* where the outline was found */
    int ix0, iy0, iw, ih;    /* the interior, inside the outline and its blur */
} box_ctx;

/* 1. The box's frame: the transform's local axes at its centre give the pixel size, and
 * the sampling step follows from it (never finer than BOX_MIN_STEP_MM, coarser still when
 * the window would not fit the scratch, sized for the largest box at the page's scale). */
static void box_frame(const phieu_layout *L, const phieu_rect *box, const omr_registration *reg,
                      long win_cap, box_ctx *b)
{
    b->box = box;
    b->cx = box->x + box->w / 2, b->cy = box->y + box->h / 2;
    double ux, uy, vx, vy;
    omr_apply(reg->h, b->cx, b->cy, &b->ox, &b->oy);
    omr_apply(reg->h, b->cx + 1, b->cy, &ux, &uy);
    omr_apply(reg->h, b->cx, b->cy + 1, &vx, &vy);
    b->ax = ux - b->ox, b->ay = uy - b->oy;
    b->bx = vx - b->ox, b->by = vy - b->oy;
    double spx = sqrt(fabs(b->ax * b->by - b->ay * b->bx));
    double g = spx > 0 ? 1.0 / spx : BOX_MIN_STEP_MM;
    b->px_mm = g;
    if (g < BOX_MIN_STEP_MM)
        g = BOX_MIN_STEP_MM;
    double M = BOX_SEARCH_MM + BOX_RING_MM;
    int nw = (int)ceil((box->w + 2 * M) / g), nh = (int)ceil((box->h + 2 * M) / g);
    while ((long)nw * nh > win_cap) {
        g *= 1.25;
        nw = (int)ceil((box->w + 2 * M) / g);
        nh = (int)ceil((box->h + 2 * M) / g);
    }
    b->g = g, b->M = M, b->nw = nw, b->nh = nh;
    b->L0 = (int)lround(M / g), b->R0 = (int)lround((M + box->w) / g);
    b->T0 = b->L0, b->B0 = (int)lround((M + box->h) / g);
    b->lw = (int)lround(L->box_line_mm / g);
    if (b->lw < 1)
        b->lw = 1;
    b->S = (int)lround(BOX_SEARCH_MM / g);
}

/* 2. The window in the box's frame (nearest pixel; off the page is white), so that the
 * phases after it see an upright box whatever the page's rotation. */
static void sample_window(const phieu_image *page, const box_ctx *b, uint8_t *win)
{
    double g = b->g, sx = b->ax * g, sy = b->ay * g;
    for (int j = 0; j < b->nh; j++) {
        double my = b->box->y - b->M + (j + 0.5) * g - b->cy;
        double mx0 = b->box->x - b->M + 0.5 * g - b->cx;
        double px = b->ox + b->bx * my + b->ax * mx0, py = b->oy + b->by * my + b->ay * mx0;
        double ex = px + sx * (b->nw - 1), ey = py + sy * (b->nw - 1);
        uint8_t *row = win + (size_t)j * b->nw;
        if (fmin(px, ex) >= 0 && fmin(py, ey) >= 0 && fmax(px, ex) < page->width - 1 &&
            fmax(py, ey) < page->height - 1) {
            /* The whole row is on the page: step in 16.16 fixed point. */
            int32_t fx = (int32_t)lround(px * 65536), fy = (int32_t)lround(py * 65536);
            int32_t dfx = (int32_t)lround(sx * 65536), dfy = (int32_t)lround(sy * 65536);
            for (int i = 0; i < b->nw; i++, fx += dfx, fy += dfy)
                row[i] = page->pixels[(size_t)(fy >> 16) * page->stride + (fx >> 16)];
        } else {
            for (int i = 0; i < b->nw; i++, px += sx, py += sy) {
                int xi = (int)floor(px), yi = (int)floor(py);
                uint8_t v = 255;
                if (xi >= 0 && yi >= 0 && xi < page->width && yi < page->height)
                    v = page->pixels[(size_t)yi * page->stride + xi];
                row[i] = v;
            }
        }
    }
}

/* Whether every sample of the window is black or white (a 1-bit scan: no blur, no gray). */
static int window_bilevel(const uint8_t *win, long n)
{
    for (long k = 0; k < n; k++)
        if (win[k] != 0 && win[k] != 255)
            return 0;
    return 1;
}

/* Marks in out[i], for columns from..to - 1 of one window row, whether the row holds
 * print (darker than print_t) within `near` samples of column i. */
static void reach_span(const uint8_t *row, int nw, int from, int to, int print_t, int near,
                       int *out)
{
    int last = -near - 1; /* the last print column seen, from the left */
    for (int i = from - near < 0 ? 0 : from - near; i < to; i++) {
        if (row[i] < print_t)
            last = i;
        if (i >= from)
            out[i] = i - last <= near;
    }
    last = nw + near; /* ... and from the right */
    for (int i = to + near > nw ? nw - 1 : to + near - 1; i >= from; i--) {
        if (row[i] < print_t)
            last = i;
        if (i < to)
            out[i] |= last - i <= near;
    }
}

/* Marks in reach[j * nw + i] whether row j of the window holds print (darker than
 * print_t) within `near` samples of column i, where near_print will ask: the rows' share
 * of a square neighbourhood test, made once per window so that each ring sample asks
 * 2 near + 1 rows, not (2 near + 1)^2 samples, and only round the ring (a whole window's
 * test cost a sixth of a page's reading). */
static void print_reach(const uint8_t *win, const box_ctx *b, int print_t, int near, int *reach)
{
    int top = b->T0 - b->S + near, bottom = b->B0 + b->S - near; /* rows reaching a band */
    int left = b->L0 - b->S, right = b->R0 + b->S;               /* the ring's columns */
    for (int j = 0; j < b->nh; j++) {
        const uint8_t *row = win + (size_t)j * b->nw;
        int *out = reach + (size_t)j * b->nw;
        if (j < top || j >= bottom) {
            reach_span(row, b->nw, 0, b->nw, print_t, near, out);
        } else {
            reach_span(row, b->nw, 0, left, print_t, near, out);
            reach_span(row, b->nw, right, b->nw, print_t, near, out);
        }
    }
}

/* Whether window sample (i, j) lies within `near` samples of print (print_reach). */
static int near_print(const int *reach, const box_ctx *b, int i, int j, int near)
{
    int y1 = j + near < b->nh ? j + near : b->nh - 1;
    for (int y = j - near < 0 ? 0 : j - near; y <= y1; y++)
        if (reach[(size_t)y * b->nw + i])
            return 1;
    return 0;
}

/* Counts in h the ring outside the search zone, which the outline never enters (every
 * other sample of every other row is plenty for a percentile), leaving out the samples
 * near_print (reach NULL: none). Returns how many were counted. */
static long ring_hist(const uint8_t *win, const box_ctx *b, long h[256], const int *reach,
                      int near)
{
    long n = 0;
    for (int j = 0; j < b->nh; j += 2) {
        const uint8_t *row = win + (size_t)j * b->nw;
        int band = j < b->T0 - b->S || j >= b->B0 + b->S;
        for (int i = 0; i < b->nw; i += 2) {
            if (!band && i >= b->L0 - b->S && i < b->R0 + b->S)
                continue;
            if (reach && near_print(reach, b, i, j, near))
                continue;
            h[row[i]]++;
            n++;
        }
    }
    return n;
}

/* 3. Paper white: a high percentile of the ring round the box. Ink is measured against
 * it, so a gray or shadowed stretch of paper does not read as ink. */
static void paper_white(const uint8_t *win, double black, box_ctx *b)
{
    long rh[256] = {0};
    long rn = ring_hist(win, b, rh, NULL, 0);
    b->paper = rn > 0 ? omr_hist_percentile(rh, rn, BOX_PAPER_PERCENTILE) : 255;
    b->contrast = b->paper - black < BOX_MIN_CONTRAST ? BOX_MIN_CONTRAST : b->paper - black;
    b->dark_t = (int)(b->paper - 0.4 * b->contrast);
}

/* 4. The printed outline, re-found by projecting its darkness on the window's columns and
 * rows: the global transform leaves up to BOX_SEARCH_MM of misregistration, which would
 * count the outline as ink. Then whether it is printed all round: where a side is missing,
 * something white covers the box (a scrap of paper, correction fluid) and a person must
 * look. */
static void find_outline(const uint8_t *win, box_ctx *b, omr_box_extra *extra)
{
    int prof_c[1024], prof_r[1024];
    int nw = b->nw, nh = b->nh, S = b->S, lw = b->lw;
    int pc = nw < 1024 ? nw : 1024, pr = nh < 1024 ? nh : 1024;
    memset(prof_c, 0, sizeof(int) * (size_t)pc);
    int ry0 = b->T0 + S + lw, ry1 = b->B0 - S - lw, rx0 = b->L0 + S + lw, rx1 = b->R0 - S - lw;
    if (rx1 > pc)
        rx1 = pc;
    for (int j = ry0 < 0 ? 0 : ry0; j < ry1 && j < pr; j++) {
        const uint8_t *row = win + (size_t)j * nw;
        for (int i = 0; i < pc; i++)
            prof_c[i] += row[i] < b->dark_t;
    }
    for (int j = 0; j < pr; j++) {
        const uint8_t *row = win + (size_t)j * nw;
        int n = 0;
        for (int i = rx0 < 0 ? 0 : rx0; i < rx1; i++)
            n += row[i] < b->dark_t;
        prof_r[j] = n;
    }
    int fx, fy;
    int dx = best_offset(prof_c, pc, b->L0, b->R0, lw, S, ry1 - ry0, &fx);
    int dy = best_offset(prof_r, pr, b->T0, b->B0, lw, S, rx1 - rx0, &fy);
    b->Lb = b->L0 + dx, b->Rb = b->R0 + dx, b->Tb = b->T0 + dy, b->Bb = b->B0 + dy;
    extra->found_dx_mm = dx * b->g;
    extra->found_dy_mm = dy * b->g;
    extra->outline = outline_presence(win, nw, nh, b->Lb, b->Rb, b->Tb, b->Bb, lw, b->dark_t);
    extra->covered = extra->outline < BOX_OUTLINE_PRESENT;
}

/* The dark samples across a side at place a along it, from c0 to c1 (exclusive) across:
 * columns for the left and right sides (vertical), rows for the top and bottom. */
static int dark_across(const uint8_t *win, const box_ctx *b, int vertical, int a, int c0, int c1)
{
    int dark = 0;
    for (int c = c0; c < c1; c++) {
        int x = vertical ? c : a, y = vertical ? a : c;
        if (x >= 0 && y >= 0 && x < b->nw && y < b->nh)
            dark += win[(size_t)y * b->nw + x] < b->dark_t;
    }
    return dark;
}

/* The usual dark run across the outline (from as far outside the printed line as the
 * interior lies inside it, up to the interior): the median over every place along the
 * four sides, the printed line as this scan blurs it. */
static int outline_usual_run(const uint8_t *win, const box_ctx *b, const int across[4][2])
{
    long hist[64] = {0}, places = 0;
    for (int side = 0; side < 4; side++) {
        int vertical = side < 2;
        int a0 = vertical ? b->iy0 : b->ix0, a1 = vertical ? b->iy0 + b->ih : b->ix0 + b->iw;
        for (int a = a0; a < a1; a++, places++) {
            int d = dark_across(win, b, vertical, a, across[side][0], across[side][1]);
            hist[d < 63 ? d : 63]++;
        }
    }
    long seen = 0;
    for (int d = 0; d < 64; d++)
        if ((seen += hist[d]) > places / 2)
            return d;
    return 63;
}

/* How much of one side of the outline a stroke thickens, mm (the most of the four sides):
 * the places along the side, beside the interior, where the dark run across it, from as
 * far outside the printed line as the interior lies inside it up to the interior, is at
 * least run_min samples, and the margin between the line and the interior holds at least
 * margin_min dark samples. Counted, not consecutive: a stroke that crosses the line at a
 * slant shows on both sides of it, with a gap where it is on the line. */
static double outline_thickened_mm(const uint8_t *win, const box_ctx *b, int run_min,
                                   int margin_min)
{
    int k = b->ix0 - b->Lb - b->lw; /* the margin inside the line, samples */
    int x1 = b->ix0 + b->iw, y1 = b->iy0 + b->ih;
    /* Across each side (left, right, top, bottom), and the margin of each: from, to. */
    const int across[4][2] = {
        {b->Lb - k, b->ix0}, {x1, b->Rb + k}, {b->Tb - k, b->iy0}, {y1, b->Bb + k}};
    const int margin[4][2] = {
        {b->Lb + b->lw, b->ix0}, {x1, b->Rb - b->lw}, {b->Tb + b->lw, b->iy0}, {y1, b->Bb - b->lw}};
    if (run_min < 0)
        run_min = outline_usual_run(win, b, across) + 1;
    int most = 0;
    for (int side = 0; side < 4; side++) {
        int vertical = side < 2, hits = 0;
        int a0 = vertical ? b->iy0 : b->ix0, a1 = vertical ? y1 : x1;
        for (int a = a0; a < a1; a++)
            hits += (margin_min == 0 ||
                     dark_across(win, b, vertical, a, margin[side][0], margin[side][1]) >=
                         margin_min) &&
                    dark_across(win, b, vertical, a, across[side][0], across[side][1]) >= run_min;
        most = hits > most ? hits : most;
    }
    return most * b->g;
}

/* How much of the outline a stroke drawn along it thickens, mm (outline_thickened_mm).
 * In a 1-bit window the printed line is as wide as printed, so a run
 * BOX_OUTLINE_DOUBLED_PX longer than the line is a stroke. In a gray window blur widens
 * the line by an amount no fixed width foresees: a stroke there fills the whole margin
 * between the line and the interior and makes the run longer than the box's usual one.
 * Both: the line's blur, found a sample off, moves dark into the margin without
 * lengthening the run. */
static double outline_stroke_mm(const uint8_t *win, const box_ctx *b)
{
    if (window_bilevel(win, (long)b->nw * b->nh))
        return outline_thickened_mm(win, b, b->lw + BOX_OUTLINE_DOUBLED_PX, 0);
    int k = b->ix0 - b->Lb - b->lw;
    return k < 1 ? 0 : outline_thickened_mm(win, b, -1, k);
}

/* The mean ink of each of the interior's 8 x 8 cells, 0..255: where in the box the ink
 * lies, for the review screen and the overlay. */
static void ink_cells(const double cell_sum[PHIEU_OMR_INK_CELLS], int iw, int ih,
                      phieu_box_reading *out)
{
    int cols[8] = {0}, rows[8] = {0};
    for (int i = 0; i < iw; i++)
        cols[i * 8 / iw]++;
    for (int j = 0; j < ih; j++)
        rows[j * 8 / ih]++;
    for (int c = 0; c < PHIEU_OMR_INK_CELLS; c++) {
        double area = (double)cols[c % 8] * rows[c / 8];
        double v = area > 0 ? cell_sum[c] / area * 255.0 : 0;
        out->ink[c] = (uint8_t)(v > 255 ? 255 : lround(v));
    }
}

/* 5. The interior, inset past the outline and its blur, and its ink: s->mask holds each
 * sample's darkness (share of paper-to-black, 1..255) where it reaches the ink threshold,
 * else 0. Returns -1 when the interior is too small to hold anything. */
static int ink_mask(const phieu_layout *L, const phieu_thresholds *th, omr_scratch *s,
                    box_ctx *b, phieu_box_reading *out)
{
    int inset = (int)lround((L->box_line_mm + BOX_INSET_MARGIN_MM) / b->g);
    int ix0 = b->Lb + inset, ix1 = b->Rb - inset, iy0 = b->Tb + inset, iy1 = b->Bb - inset;
    ix0 = ix0 < 0 ? 0 : ix0;
    iy0 = iy0 < 0 ? 0 : iy0;
    ix1 = ix1 > b->nw ? b->nw : ix1;
    iy1 = iy1 > b->nh ? b->nh : iy1;
    int iw = ix1 - ix0, ih = iy1 - iy0;
    b->ix0 = ix0, b->iy0 = iy0, b->iw = iw, b->ih = ih;
    if (iw < 2 || ih < 2)
        return -1;
    double ink_t = th->value[PHIEU_TH_INK];
    double cell_sum[PHIEU_OMR_INK_CELLS] = {0};
    for (int j = 0; j < ih; j++) {
        const uint8_t *row = s->win + (size_t)(iy0 + j) * b->nw + ix0;
        uint8_t *m = s->mask + (size_t)j * iw;
        for (int i = 0; i < iw; i++) {
            double st = (b->paper - row[i]) / b->contrast;
            if (st > 1)
                st = 1;
            if (st >= ink_t && st > 0) {
                int q = (int)lround(st * 255);
                m[i] = (uint8_t)(q < 1 ? 1 : q);
                cell_sum[(j * 8 / ih) * 8 + i * 8 / iw] += st;
            } else {
                m[i] = 0;
            }
        }
    }
    ink_cells(cell_sum, iw, ih, out);
    return 0;
}

/* The blobs of a box's ink that count, what they add up to, and the thin line among them. */
typedef struct blob_set {
    int box[BOX_MAX_BLOBS][4]; /* extents of the first BOX_MAX_BLOBS kept blobs */
    double w[BOX_MAX_BLOBS];   /* ... and their weights */
    int n, over;               /* how many are remembered; 1 when more were kept */
    int line;                  /* the thin line's blob among them, or -1 */
    int line_y0, line_y1;      /* the thin line's rows, when extra->thin_line */
    long kept_n;               /* samples, darkness and weight of all kept blobs */
    double kept_sum, kept_w, kept_sum2;
    int ux0, uy0, ux1, uy1;    /* the extent of the kept ink */
} blob_set;

/* 6. Connected blobs: specks are dropped, strokes that only graze the edge from outside
 * are set aside as edge_score (a mark drawn off the box), and the widest thin line across
 * the whole interior is noted (a fold candidate, judged per row in omr.c). Strokes are
 * linked across gaps of BOX_LINK_MM so a skipping pen is one stroke, not specks. */
static void ink_blobs(omr_scratch *s, const box_ctx *b, omr_box_extra *extra, blob_set *bs)
{
    int iw = b->iw, ih = b->ih;
    double g = b->g;
    long n = (long)iw * ih;
    for (long k = 0; k < n; k++)
        s->labels[k] = 0;
    *bs = (blob_set){.line = -1, .line_y1 = -1, .ux0 = iw, .uy0 = ih, .ux1 = -1, .uy1 = -1};
    int speck = (int)ceil(BOX_SPECK_MM / g), depth_min = (int)ceil(BOX_EDGE_DEPTH_MM / g);
    int hug = (int)ceil(BOX_EDGE_HUG_MM / g);
    int link = (int)lround(BOX_LINK_MM / g);
    if (link < 1)
        link = 1;
    for (long start = 0; start < n; start++) {
        if (!s->mask[start] || s->labels[start])
            continue;
        ink_blob o;
        flood_blob(s, iw, ih, start, link, &o);
        int ew = o.x1 - o.x0 + 1, eh = o.y1 - o.y0 + 1;
        if (ew < speck && eh < speck)
            continue;
        if (edge_graze(&o, iw, ih, depth_min, hug)) {
            extra->edge_score += o.wsum / n;
            continue;
        }
        if (ew >= BOX_LINE_SPAN * iw && (double)o.cnt / ew * g <= BOX_LINE_THICK_MM &&
            eh * g <= BOX_LINE_TALL_MM && o.wsum / n > extra->line_score) {
            extra->thin_line = 1;
            extra->line_y_mm = b->box->y - b->M + ((b->iy0 + (o.y0 + o.y1) / 2.0) + 0.5) * g;
            extra->line_score = o.wsum / n;
            bs->line_y0 = o.y0;
            bs->line_y1 = o.y1;
            bs->line = bs->n < BOX_MAX_BLOBS ? bs->n : -1;
        }
        if (bs->n < BOX_MAX_BLOBS) {
            int *bb = bs->box[bs->n];
            bb[0] = o.x0, bb[1] = o.y0, bb[2] = o.x1, bb[3] = o.y1;
            bs->w[bs->n++] = o.wsum;
        } else {
            bs->over = 1;
        }
        bs->kept_sum += o.sum;
        bs->kept_sum2 += o.sum2;
        bs->kept_w += o.wsum;
        bs->kept_n += o.cnt;
        bs->ux0 = o.x0 < bs->ux0 ? o.x0 : bs->ux0;
        bs->uy0 = o.y0 < bs->uy0 ? o.y0 : bs->uy0;
        bs->ux1 = o.x1 > bs->ux1 ? o.x1 : bs->ux1;
        bs->uy1 = o.y1 > bs->uy1 ? o.y1 : bs->uy1;
    }
}

/* 7. A fold's band: all the ink at the thin line's height, not only the line's own blob.
 * A crease's soft shadow sits near the ink threshold, so noise breaks it into many small
 * blobs beside the core; taking the fold out (omr.c) must take them too. */
static void fold_band(const omr_scratch *s, const box_ctx *b, const blob_set *bs,
                      omr_box_extra *extra)
{
    int iw = b->iw, ih = b->ih;
    double g = b->g;
    long n = (long)iw * ih;
    int m0 = (int)lround(BOX_BAND_MARGIN_MM / g);
    int j0 = bs->line_y0 - m0 < 0 ? 0 : bs->line_y0 - m0;
    int j1 = bs->line_y1 + m0 >= ih ? ih - 1 : bs->line_y1 + m0;
    double bsum = 0, bw = 0;
    long bn = 0;
    for (int j = j0; j <= j1; j++)
        for (int i = 0; i < iw; i++) {
            double st = s->mask[(size_t)j * iw + i] / 255.0;
            if (st <= 0)
                continue;
            bn++;
            bsum += st;
            bw += st >= BOX_FULL_DARKNESS ? 1.0 : st / BOX_FULL_DARKNESS;
        }
    extra->line_score = bw / n;
    extra->line_cov = (double)bn / n;
    extra->line_dark = bsum;
    extra->line_n = bn;
    extra->line_ink_mm = bsum * g / iw;
    band_profile(s, iw, g, j0, j1, extra);
    if (!bs->over && bs->line >= 0)
        band_dot(s, iw, ih, g, j0, j1, (const int(*)[4])bs->box, bs->n, bs->line, extra);
}

/* 8. Whether all the ink lies within one dot (a hesitation dot, not a vote). Its extent
 * leaves out traces too light to matter, so that a noise blob across the box does not
 * turn a hesitation dot into a vote; bs's extent becomes the dot's, for the faint look. */
/* The extent (mm) of the ink within bs's extent that is at least `share` as dark as its
 * darkest sample. */
static double ink_extent_mm(const omr_scratch *s, const blob_set *bs, const box_ctx *b,
                            double share)
{
    int peak = 0;
    for (int j = bs->uy0; j <= bs->uy1; j++)
        for (int i = bs->ux0; i <= bs->ux1; i++)
            peak = s->mask[(size_t)j * b->iw + i] > peak ? s->mask[(size_t)j * b->iw + i] : peak;
    int x0 = b->iw, x1 = -1, y0 = b->ih, y1 = -1;
    for (int j = bs->uy0; j <= bs->uy1; j++)
        for (int i = bs->ux0; i <= bs->ux1; i++)
            if (peak > 0 && s->mask[(size_t)j * b->iw + i] >= share * peak) {
                x0 = i < x0 ? i : x0, x1 = i > x1 ? i : x1;
                y0 = j < y0 ? j : y0, y1 = j > y1 ? j : y1;
            }
    if (x1 < 0)
        return 0;
    return ((x1 - x0 > y1 - y0 ? x1 - x0 : y1 - y0) + 1) * b->g;
}

static void dot_extent(const omr_scratch *s, blob_set *bs, const box_ctx *b,
                       omr_box_extra *extra)
{
    if (bs->kept_n <= 0)
        return;
    if (!bs->over) {
        bs->ux0 = b->iw, bs->uy0 = b->ih, bs->ux1 = -1, bs->uy1 = -1;
        for (int k = 0; k < bs->n; k++) {
            const int *bb = bs->box[k];
            if (bs->w[k] < BOX_TRACE_SHARE * bs->kept_w)
                continue;
            bs->ux0 = bb[0] < bs->ux0 ? bb[0] : bs->ux0;
            bs->uy0 = bb[1] < bs->uy0 ? bb[1] : bs->uy0;
            bs->ux1 = bb[2] > bs->ux1 ? bb[2] : bs->ux1;
            bs->uy1 = bb[3] > bs->uy1 ? bb[3] : bs->uy1;
        }
    }
    int ew = bs->ux1 - bs->ux0 + 1, eh = bs->uy1 - bs->uy0 + 1;
    double ext = (ew > eh ? ew : eh) * b->g;
    extra->dot_only =
        ext < BOX_DOT_MM ||
        (ink_extent_mm(s, bs, b, BOX_DOT_SPAN_SHARE) < BOX_DOT_MM + BOX_DOT_BLUR_PX * b->px_mm &&
         ink_extent_mm(s, bs, b, BOX_DOT_CORE_SHARE) <= BOX_DOT_CORE_MM);
}

/* Counts the interior's samples in h (zeroed by the caller); returns how many. */
static long interior_hist(const uint8_t *win, const box_ctx *b, long h[256])
{
    for (int j = 0; j < b->ih; j++) {
        const uint8_t *row = win + (size_t)(b->iy0 + j) * b->nw + b->ix0;
        for (int i = 0; i < b->iw; i++)
            h[row[i]]++;
    }
    return (long)b->iw * b->ih;
}

/* The interior's median gray: the box's own paper when little of it is marked. */
static int interior_median(const uint8_t *win, const box_ctx *b)
{
    long h[256] = {0};
    return omr_hist_percentile(h, interior_hist(win, b, h), 0.5);
}

/* The ring's paper noise: how far its paper reaches below its median, (p50 - p5) / 1.645,
 * away from print (BOX_NOISE_MIN_SAMPLES); where print leaves too little paper,
 * (p90 - p50) / 1.28 of the whole ring.
 * Notes:
 *   1. The look thresholds at 4 sigma, so the tail is what counts: JPEG ringing beside
 *      print lies there. With (p50 - p10) / 1.28 the 10,000-page deck sent 545 ordinary
 *      rows to review, 462 before, most of the new ones on JPEG pages of quality 51-65;
 *      with p5, 457 (deck 1313: 141 and 116, 130 before).
 *   2. Why away from print: at 150 dpi on the province form (rows 7.5 mm apart) the
 *      table's rules and the outline's blur fill over half the ring, and (p90 - p50)
 *      of the whole ring measured print: sigma 15-27 on paper clipped to 255 with no
 *      noise at all (deck seed 1313 p01186, ring p25 130, p50 220, p75-p98 255), which
 *      switched both faint looks off and read a faint tick blank (row 20).
 *   3. Why below the median: a scanner's white clip hides the upper side of the paper's
 *      noise, not the lower, which is the side a faint look must not take for ink. */
static double ring_noise(const uint8_t *win, const box_ctx *b, int *reach)
{
    long h[256] = {0};
    int near = (int)lround(BOX_INSET_MARGIN_MM / b->g);
    print_reach(win, b, b->dark_t, near, reach);
    long n = ring_hist(win, b, h, reach, near);
    if (n >= BOX_NOISE_MIN_SAMPLES)
        return (omr_hist_percentile(h, n, 0.5) - omr_hist_percentile(h, n, 0.05)) / 1.6449;
    long all[256] = {0};
    n = ring_hist(win, b, all, NULL, 0);
    return n > 0 ? (b->paper - omr_hist_percentile(all, n, 0.5)) / 1.2816 : 0;
}

/* The paper's noise where the faint look looks, for an otherwise empty box (nothing else
 * needs it): the larger of the ring's (ring_noise) and the interior's lower side,
 * (p50 - p25) / 0.674.
 * Notes:
 *   1. JPEG smooths flat paper to one gray and rings beside print: on a quality-53 scan
 *      at 200 dpi (deck seed 1313 p00941, paper 239) the ring's paper read sigma 0-0.8,
 *      and ringing 3-4 levels deep beside the outline inside the box covered 5-8 % of
 *      it: review. The interior's quartile sees that ringing where it is dense (deck
 *      1313, with the ring's p10: 277 ordinary rows to review with the ring alone, 141
 *      with both, 130 before).
 *   2. A faint mark raises it too: it fills part of the interior. A faint X over a
 *      quarter of it measured sigma 3 (p02280 row 6); a deeper percentile (p15, tried)
 *      read test_deck_findings' faint X (row 5) blank.
 * Uses s->labels (window-sized, free between the blob passes) for print_reach. */
static double paper_noise(omr_scratch *s, const box_ctx *b)
{
    long h[256] = {0}, n = interior_hist(s->win, b, h);
    double lower = (omr_hist_percentile(h, n, 0.5) - omr_hist_percentile(h, n, 0.25)) / 0.6745;
    return fmax(ring_noise(s->win, b, s->labels), lower);
}

/* The look along strokes, its segments: offsets of the BOX_STROKE_DIRS directions, and
 * the least darkness sum (gray levels) that is a stroke for each count of samples. */
typedef struct stroke_seg {
    int h, n; /* samples either side of the centre; 2h + 1 */
    int dx[BOX_STROKE_DIRS][17], dy[BOX_STROKE_DIRS][17];
    double need[18];  /* by samples on the interior: K sigma sqrt(count) */
    int med, floor_v; /* the interior's median gray; the darkest counted */
} stroke_seg;

/* Whether interior sample (i, j) lies on a stroke: along some direction, the samples of
 * its segment that fall in the interior (at least h + 1 of them: a segment is cut at the
 * interior's edge, so that a band across the box reaches both edges, as a crease's does)
 * are darker than the median by need[count]. A sample darker than ink counts as ink
 * only: a fleck or a dot was judged already, and must not make its neighbours a stroke. */
static int stroke_hit(const uint8_t *in, int nw, int iw, int ih, int i, int j, const stroke_seg *sg)
{
    for (int d = 0; d < BOX_STROKE_DIRS; d++) {
        long sum = 0;
        int cnt = 0;
        for (int k = 0; k < sg->n; k++) {
            int x = i + sg->dx[d][k], y = j + sg->dy[d][k];
            if (x < 0 || y < 0 || x >= iw || y >= ih)
                continue;
            int v = in[(size_t)y * nw + x];
            sum += sg->med - (v < sg->floor_v ? sg->floor_v : v);
            cnt++;
        }
        if (cnt > sg->h && sum >= sg->need[cnt])
            return 1;
    }
    return 0;
}

/* Fills s->mask with the look along strokes (BOX_STROKE_*), leaving out the dot's halo
 * (x0, y0, x1, y1). */
static void stroke_mask(omr_scratch *s, const box_ctx *b, double ink_t, const int halo[4])
{
    stroke_seg sg;
    sg.h = (int)lround(BOX_STROKE_MM / 2 / b->g);
    sg.h = sg.h < 1 ? 1 : sg.h > 8 ? 8 : sg.h;
    sg.n = 2 * sg.h + 1;
    for (int d = 0; d < BOX_STROKE_DIRS; d++)
        for (int k = -sg.h; k <= sg.h; k++) {
            sg.dx[d][k + sg.h] = (int)lround(k * cos(d * M_PI / BOX_STROKE_DIRS));
            sg.dy[d][k + sg.h] = (int)lround(k * sin(d * M_PI / BOX_STROKE_DIRS));
        }
    for (int c = 0; c <= sg.n; c++)
        sg.need[c] = BOX_STROKE_NOISE_K * b->sigma * sqrt(c);
    sg.med = interior_median(s->win, b);
    sg.floor_v = (int)ceil(sg.med - ink_t * b->contrast);
    const uint8_t *in = s->win + (size_t)b->iy0 * b->nw + b->ix0;
    for (int j = 0; j < b->ih; j++)
        for (int i = 0; i < b->iw; i++)
            s->mask[(size_t)j * b->iw + i] =
                !(i >= halo[0] && i <= halo[2] && j >= halo[1] && j <= halo[3]) &&
                stroke_hit(in, b->nw, b->iw, b->ih, i, j, &sg);
}

/* 9. Faint marks: on quiet paper, look again at ink far lighter than the threshold.
 * Enough of it, in blobs larger than a dot, makes an otherwise empty box marginal. A dot
 * does not hide a faint mark elsewhere in the box: the dot is often the darkest part of
 * the faint mark itself, or a fleck on it. The dot and its soft edge are left out of this
 * look, so that a hesitation dot alone stays empty. Where the paper is too noisy for it,
 * the look is along strokes (stroke_mask), whose means carry less of the noise; only
 * boxes otherwise empty pay for it. */
static void faint_look(omr_scratch *s, const box_ctx *b, const blob_set *bs,
                       const phieu_thresholds *th, phieu_box_reading *out, omr_box_extra *extra)
{
    int iw = b->iw, ih = b->ih;
    double g = b->g, paper = b->paper, contrast = b->contrast, ink = th->value[PHIEU_TH_INK];
    double t_low = fmax(BOX_FAINT_INK_MIN, BOX_FAINT_NOISE_K * b->sigma / contrast);
    /* On noisy paper, the look along strokes: a whole segment's threshold as a share of
     * contrast (stroke_mask's need[n] / n), for the skip and the crease's ring test. */
    int h = (int)lround(BOX_STROKE_MM / 2 / g), n = 2 * (h < 1 ? 1 : h) + 1;
    double t_stroke = BOX_STROKE_NOISE_K * b->sigma / sqrt(n) / contrast;
    if (out->state != PHIEU_BOX_EMPTY || (t_low >= ink && t_stroke >= ink))
        return;
    int halo[4] = {iw, ih, -1, -1};
    if (extra->dot_only) {
        int hw = (int)lround(BOX_DOT_HALO_MM / g);
        halo[0] = bs->ux0 - hw, halo[1] = bs->uy0 - hw, halo[2] = bs->ux1 + hw,
        halo[3] = bs->uy1 + hw;
    }
    if (t_low >= ink) {
        stroke_mask(s, b, ink, halo);
        t_low = t_stroke;
    } else {
        for (int j = 0; j < ih; j++) {
            const uint8_t *row = s->win + (size_t)(b->iy0 + j) * b->nw + b->ix0;
            uint8_t *m = s->mask + (size_t)j * iw;
            for (int i = 0; i < iw; i++)
                m[i] = (paper - row[i]) / contrast >= t_low &&
                       !(i >= halo[0] && i <= halo[2] && j >= halo[1] && j <= halo[3]);
        }
    }
    int ext = 0, slanting = 0;
    faint_ctx fc = {s->win, b->nw, b->L0 - b->S, b->R0 + b->S, b->iy0, paper, contrast, t_low};
    double cov = faint_coverage(s, iw, ih, g, &fc, &ext, &slanting);
    if ((cov >= BOX_FAINT_COVERAGE && ext * g >= BOX_DOT_MM) ||
        (cov >= BOX_FAINT_STROKE_COVERAGE && slanting * g >= BOX_FAINT_STROKE_MM)) {
        extra->faint = 1;
        out->state = PHIEU_BOX_MARGINAL;
    }
}

void omr_score_box(const phieu_layout *L, const phieu_rect *box, const phieu_image *page,
                   const omr_registration *reg, const phieu_thresholds *th, omr_scratch *s,
                   phieu_box_reading *out, omr_box_extra *extra)
{
    memset(out, 0, sizeof *out);
    memset(extra, 0, sizeof *extra);
    box_ctx b;
    box_frame(L, box, reg, s->win_cap, &b);
    sample_window(page, &b, s->win);
    paper_white(s->win, reg->black, &b);
    find_outline(s->win, &b, extra);
    if (ink_mask(L, th, s, &b, out) != 0)
        return;
    blob_set bs;
    ink_blobs(s, &b, extra, &bs);
    if (extra->edge_score > 0)
        extra->outline_doubled_mm = outline_stroke_mm(s->win, &b);
    if (extra->thin_line)
        fold_band(s, &b, &bs, extra);
    long n = (long)b.iw * b.ih;
    out->coverage = (float)((double)bs.kept_n / n);
    out->darkness = bs.kept_n > 0 ? (float)(bs.kept_sum / bs.kept_n) : 0.0f;
    out->score = (float)(bs.kept_w / n);
    extra->dark_sum = bs.kept_sum;
    extra->core_darkness = bs.kept_sum > 0 ? bs.kept_sum2 / bs.kept_sum : 0;
    extra->paper = b.paper;
    extra->contrast = b.contrast;
    extra->ink_n = bs.kept_n;
    dot_extent(s, &bs, &b, extra);
    omr_classify(out, extra, th);
    b.sigma = out->state == PHIEU_BOX_EMPTY ? paper_noise(s, &b) : 0;
    faint_look(s, &b, &bs, th, out, extra);
}

/* Beside a box: the strip of paper from BESIDE_GAP_MM to BESIDE_REACH_MM out from the
 * outline's outer edge, on the left and on the right, over the box's height less
 * BESIDE_END_MM at each end (where a stroke from above or below comes in). The gap clears
 * the 0.35 mm outline and its blur; the reach stays 3 mm clear of the table's column lines
 * (a choice column is 20 mm wide for a box of at most 7 mm). */
#define BESIDE_GAP_MM 0.6
#define BESIDE_REACH_MM 3.5
#define BESIDE_END_MM 0.5
#define BESIDE_STEP_MM 0.15
/* Pen ink, not paper: a share of paper-to-black that no scanner noise reaches (sigma 4
 * on a contrast of 200 is 0.02) and any pen or dark pencil line does. */
#define BESIDE_INK 0.2
/* A light pencil line: four times that noise. A circle drawn so lightly sat at 0.06-0.2 of
 * black beside the box (deck 1207, p00944 and p05849, read blank before); asked of both
 * sides at once, it flagged none of 925 blank rows of that deck (docs/recognition.md). */
#define BESIDE_LIGHT_INK 0.08

/* The share of the strip's lines [from, to] x [y0, y1] (mm) holding ink of at least
 * `pen` (out[0]) and of at least BESIDE_LIGHT_INK (out[1]) of black. */
static void beside_strip(const phieu_image *page, const omr_registration *reg,
                         const omr_box_extra *e, double from, double to, double y0, double y1,
                         double out[2])
{
    int lines = 0, pen = 0, light = 0;
    for (double y = y0; y <= y1; y += BESIDE_STEP_MM, lines++) {
        double darkest = 0;
        for (double x = from; x <= to && darkest < BESIDE_INK; x += BESIDE_STEP_MM) {
            double u, v;
            omr_apply(reg->h, x, y, &u, &v);
            int px = (int)floor(u), py = (int)floor(v);
            if (px < 0 || py < 0 || px >= page->width || py >= page->height)
                continue;
            double dark = (e->paper - page->pixels[(size_t)py * page->stride + px]) / e->contrast;
            darkest = dark > darkest ? dark : darkest;
        }
        pen += darkest >= BESIDE_INK;
        light += darkest >= BESIDE_LIGHT_INK;
    }
    out[0] = lines > 0 ? (double)pen / lines : 0;
    out[1] = lines > 0 ? (double)light / lines : 0;
}

omr_beside omr_beside_box(const phieu_image *page, const omr_registration *reg,
                          const phieu_rect *box, const omr_box_extra *e)
{
    omr_beside r = {0, 0};
    if (e->contrast <= 0)
        return r;
    double x0 = box->x + e->found_dx_mm, x1 = x0 + box->w;
    double y0 = box->y + e->found_dy_mm + BESIDE_END_MM, y1 = y0 + box->h - 2 * BESIDE_END_MM;
    double left[2], right[2];
    beside_strip(page, reg, e, x0 - BESIDE_REACH_MM, x0 - BESIDE_GAP_MM, y0, y1, left);
    beside_strip(page, reg, e, x1 + BESIDE_GAP_MM, x1 + BESIDE_REACH_MM, y0, y1, right);
    r.pen = fmax(left[0], right[0]);
    r.ring = fmin(left[1], right[1]);
    return r;
}

/* Whether a stroke runs along the box's printed outline (on it or beside it) and reaches
 * inside it at its edge: a mark drawn on the edge, whose ink the line (and in a gray scan
 * its blur) hides, even when less than a mark's worth shows inside. */
static int on_outline(const omr_box_extra *e)
{
    return e->edge_score > 0 && e->outline_doubled_mm >= BOX_OUTLINE_DOUBLED_MM;
}

int omr_edge_mark(const phieu_box_reading *b, const omr_box_extra *e, const phieu_thresholds *th)
{
    return (e->edge_score >= th->value[PHIEU_TH_MARKED] || on_outline(e)) &&
           (e->dot_only || b->score < th->value[PHIEU_TH_MARGINAL]);
}

void omr_classify(phieu_box_reading *b, const omr_box_extra *e, const phieu_thresholds *th)
{
    double sc = b->score;
    if (e->covered || e->faint) {
        b->state = PHIEU_BOX_MARGINAL;
        return;
    }
    /* Much ink hugging the edge: a mark drawn on the box's edge, its stroke taken for a
     * graze. Also when what is left inside is a dot: a small tick along the outline (deck
     * 1207: three ticks read blank so, edge 0.040-0.069; the 723 dots of an 850-page sample
     * of that deck, at most 0.003). */
    if (omr_edge_mark(b, e, th))
        b->state = PHIEU_BOX_MARGINAL;
    else if (e->dot_only)
        b->state = PHIEU_BOX_EMPTY;
    else if (sc >= th->value[PHIEU_TH_MARKED])
        b->state = b->darkness < BOX_FAINT_DARKNESS ? PHIEU_BOX_MARGINAL : PHIEU_BOX_MARKED;
    else if (sc >= th->value[PHIEU_TH_MARGINAL])
        b->state = PHIEU_BOX_MARGINAL;
    else
        b->state = PHIEU_BOX_EMPTY;
}
