/*
 * omr_similarity.c - how alike the ink inside the boxes of two readings of one form is:
 * the session's test for the same paper sheet fed twice (a rescan). It compares the 8x8
 * ink grids of each box that holds ink on either page, cell by cell at the same place, and
 * weighs the boxes by how much they hold; for pages of little ink, the strokes at full
 * resolution in the boxes and in the paper around them (where a mark ends, a circled
 * box), and where they lie alike, their edges. It reads nothing but the two readings
 * (and, for the strokes, the page), decides nothing about marks, and keeps no state.
 * Measurements: docs/recognition.md, "Duplicates".
 */
#include <math.h>
#include <string.h>

#include "omr/omr_internal.h"
#include "phieu/alloc.h"

/* A box takes part when either page holds at least this much ink in it: the sum of its 64
 * cells (each 0-255) reaching 1 % of a fully dark interior. Below it lie paper specks and
 * noise, whose grids differ between two scans of one sheet as much as between sheets. */
#define SIM_MIN_BOX_INK (PHIEU_OMR_INK_CELLS * 255.0 * 0.01)
/* A box counts in full from this much ink (a short ballpoint stroke across the box is
 * 1000-2000 on the generated samples); a fainter box counts in proportion. A speck on one
 * page only still counts: leaving such boxes out raised the best score of two hands
 * marking the same pattern from 0.65 to 0.80, and no rescan of the bench lost by them. */
#define SIM_FULL_BOX_INK 1000.0
/* A cell at or above this (90 % of full darkness) on both pages is solid ink: a filled
 * box is mostly such cells, and two hands filling one box leave grids that differ only at
 * the fill's edges. A box counts for the share of its cells that are not solid on both:
 * a page of filled boxes alone has little evidence and is judged conservatively (two
 * hands filling the same two boxes of a vote of confidence scored 0.87 without this). */
#define SIM_SOLID_CELL 230
/* The boxes' agreements are averaged as a power mean with this exponent, which leans to
 * the worst boxes: one tick that happens to fall where another hand's did must not carry
 * a page whose other box disagrees (a vote of confidence by two hands scored 0.84 as a
 * plain mean of 0.97 and 0.71, 0.80 this way), while a rescan agrees in every box. */
#define SIM_MEAN_POWER (-4.0)
/* An agreement below this counts as this, to keep the power mean finite. */
#define SIM_MIN_AGREEMENT 1e-3
/* The evidence a page needs, in full-weight boxes compared, before its score may reach 1:
 * with less ink than three ordinary marks the score is scaled down, and the session
 * decides on the strokes at full resolution instead. One mark is not enough: two hands' X
 * in the same box of a one-mark vote of confidence scored 0.89 on an 8 x 8 grid, above the
 * duplicate threshold. Nor are two: two hands filling the same two boxes of a vote of
 * confidence scored 0.95-0.97 (bench seed 5001, 300 pages: 6 false alarms at 2). */
#define SIM_MIN_EVIDENCE PHIEU_OMR_INK_MIN_EVIDENCE
/* A page with too little ink for the 8x8 grids (one or two marks) whose grids still agree
 * this well with another's is compared again on its strokes at full resolution. Rescans
 * of such pages agree at 0.98-1.00 on their grids, two hands at up to 0.8 on the generated
 * samples (test_similarity): most pairs of other hands never cost the strokes. It also
 * keeps apart two hands whose only mark is one straight stroke through the box's core: at
 * 0.75 the strokes were compared for twice as many pairs, and two hands' ticks scored
 * 0.986 on them (grids 0.81; bench seed 5001 p00085, p00241). */
#define STROKE_PREFILTER 0.9

/* 1 - |x - y|^2 / (|x|^2 + |y|^2) of two grids at the same place, taken both for the ink
 * and for the paper left showing (255 - cell), and the lower of the two: 1 for the same
 * ink, 0 when the ink of one lies where the other has none (or one box is empty). The
 * paper term matters for a filled box, whose ink grids are nearly all dark for any hand:
 * what tells two fillings apart is where each left paper. The grids come from the
 * reader's own registration of each box against its printed outline, which puts a second
 * scan of one sheet within a fraction of a cell (a shift search found the best match at
 * no shift for 3124 of 3127 boxes rescanned), so no shift is searched: it would only help
 * two different hands line up. */
static double grid_agreement(const uint8_t *x, const uint8_t *y)
{
    double diff = 0, ink = 0, paper = 0;
    for (int k = 0; k < PHIEU_OMR_INK_CELLS; k++) {
        double d = (double)x[k] - y[k], px = 255.0 - x[k], py = 255.0 - y[k];
        diff += d * d;
        ink += (double)x[k] * x[k] + (double)y[k] * y[k];
        paper += px * px + py * py;
    }
    double a_ink = ink > 0 ? 1 - diff / ink : 1, a_paper = paper > 0 ? 1 - diff / paper : 1;
    if (ink <= 0 && paper <= 0)
        return 1;
    return fmin(a_ink, a_paper);
}

static double grid_ink(const uint8_t *x)
{
    double s = 0;
    for (int k = 0; k < PHIEU_OMR_INK_CELLS; k++)
        s += x[k];
    return s;
}

double phieu_omr_ink_similarity(const phieu_reading *a, const phieu_reading *b)
{
    double evidence = 0, s = phieu_omr_ink_agreement(a, b, &evidence);
    if (evidence < SIM_MIN_EVIDENCE)
        s *= evidence / SIM_MIN_EVIDENCE;
    return s;
}

/* The agreement of the boxes with ink of two readings, leaning to the worst, and the
 * evidence it rests on; marks_only: only the boxes that hold a mark, or may (marginal), on
 * either page, not those the reader left empty on both (a crease's shadow, a dot). */
static double agreement(const phieu_reading *a, const phieu_reading *b, int marks_only,
                        double *evidence)
{
    *evidence = 0;
    if (!a || !b || a->form_index < 0 || a->form_index != b->form_index || a->n_rows != b->n_rows ||
        a->n_rows <= 0 || a->n_rows > PHIEU_FORM_MAX_ROWS)
        return 0;
    double sum = 0, weight = 0;
    for (int r = 0; r < a->n_rows; r++)
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            const phieu_box_reading *ba = &a->rows[r].boxes[c], *bb = &b->rows[r].boxes[c];
            if (marks_only && ba->state == PHIEU_BOX_EMPTY && bb->state == PHIEU_BOX_EMPTY)
                continue;
            const uint8_t *x = ba->ink, *y = bb->ink;
            double ink = fmax(grid_ink(x), grid_ink(y));
            if (ink < SIM_MIN_BOX_INK)
                continue;
            int solid = 0;
            for (int k = 0; k < PHIEU_OMR_INK_CELLS; k++)
                solid += x[k] >= SIM_SOLID_CELL && y[k] >= SIM_SOLID_CELL;
            double w = fmin(1, ink / SIM_FULL_BOX_INK) * (1 - (double)solid / PHIEU_OMR_INK_CELLS);
            sum += w * pow(fmax(grid_agreement(x, y), SIM_MIN_AGREEMENT), SIM_MEAN_POWER);
            weight += w;
        }
    if (weight <= 0)
        return 0; /* no ink, or solid ink only: nothing tells two sheets apart */
    double s = pow(sum / weight, 1 / SIM_MEAN_POWER);
    *evidence = weight;
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

double phieu_omr_ink_agreement(const phieu_reading *a, const phieu_reading *b, double *evidence)
{
    return agreement(a, b, 0, evidence);
}

int phieu_omr_little_ink(const phieu_reading *r)
{
    double marks_evidence = 0;
    agreement(r, r, 1, &marks_evidence);
    return r && r->form_index >= 0 && marks_evidence < SIM_MIN_EVIDENCE;
}

int phieu_omr_strokes_decide(const phieu_reading *a, const phieu_reading *b)
{
    /* Boxes left empty on both pages are no marks, however much shadow they hold: a page
     * of one tick and a crease through a row of three empty boxes is a page of one mark. */
    double evidence = 0, marks_evidence = 0;
    double agree = agreement(a, b, 0, &evidence), marks = agreement(a, b, 1, &marks_evidence);
    if (marks_evidence >= SIM_MIN_EVIDENCE)
        return 0;
    return evidence <= 0 || agree >= STROKE_PREFILTER || phieu_omr_beside_match(a, b) ||
           (marks_evidence > 0 && marks >= STROKE_PREFILTER);
}

/* ---- Full resolution: normalised cross-correlation of the strokes -------------------- */

/* Samples every 0.1 mm: a ballpoint line (0.3-0.5 mm) is 3-5 samples wide, so the same
 * stroke scanned twice lines up and two hands' strokes a few tenths apart do not. */
#define STROKE_STEP_MM 0.1
/* The compared window starts this far inside the box's outer edge: the printed outline
 * (0.35 mm) plus the shift searched plus 0.65 mm of registration slack, so the outline, the
 * same on every ballot, never enters the comparison and makes two hands alike. */
#define STROKE_INSET_MM 1.5
/* Two scans of one sheet placed through each reading's page transform differ by a few
 * tenths of a millimetre in a box (paper stretch, lens); the best match is searched within
 * this much each way, in sampling steps. */
#define STROKE_SHIFT 3
/* A box's window with no more variance than this (gray levels squared, per sample) holds
 * no stroke: paper and sensor noise only. */
#define STROKE_MIN_VARIANCE 4.0
/* A window weighs nothing up to this much variance in its centre (twice what paper and
 * sensor noise give), in full from STROKE_FULL_VARIANCE, and in proportion between: one
 * whose ink stands barely above the noise is compared mostly on noise, and a rescan's new
 * noise alone brought such windows to 0.00-0.91 (the faint shadow of a crease through a
 * row of empty boxes, variance 3-7: bench seed 7001 p00213; the flat middle of a dark
 * fill, 4: p00243; a faint colour-pencil fill, 4.6: p00133; a speck, 4.9: seed 9001
 * p00295), sinking pages whose marks agreed at 0.99. A pen or pencil stroke's window holds
 * 80-2200, a faint pencil tick's 43-66 (seed 5001 p00011, 6001 p00147). */
#define STROKE_NOISE_VARIANCE (2 * STROKE_MIN_VARIANCE)
#define STROKE_FULL_VARIANCE 50.0
/* A box's strokes are kept from this much grid ink (a sixteenth of SIM_MIN_BOX_INK), far
 * below what takes part, so that a small mark that takes part on one scan is still there
 * to compare on the other (a box missing from one page only scores 0 and sinks the page).
 * Not enough for bench seed 7001 p00233 (150 dpi): three hesitation dots held 170-190 on
 * the rescan and nothing on the first scan's grids, which then agree at 0.001. */
#define STROKE_KEEP_INK (SIM_MIN_BOX_INK / 16)
/* A box takes part in the comparison of strokes from this much grid ink on either page, a
 * quarter of what the grids ask (and four times what is kept): a faint pencil tick, sent
 * to review as a marginal mark, holds 110-130 on its grids and correlates at 0.995 with
 * its rescan (bench seed 5001 p00011, once the generator drew a hand per voter); with the
 * grids' 1 % it took no part, and a page with no other ink scored 0. */
#define STROKE_MIN_BOX_INK (SIM_MIN_BOX_INK / 4)

/* Around a box (a circle drawn round it, a mark made beside it, with no ink inside): the
 * window reaches this far left and right of the box's outer edge, like the reader's own
 * look beside a box (BESIDE_REACH_MM in omr_score.c: a circle drawn by hand passes 1.3-2.9
 * mm beside a 7 mm box, and the choice columns are 20 mm wide, so the column lines stay
 * 3 mm clear) ... */
#define RING_REACH_X_MM 3.5
/* ... and this far above and below it, less RING_CLEAR_MM from the row's printed edges
 * (a circle crosses 0.1-1.6 mm above and below the box, in the gap between rows). */
#define RING_REACH_Y_MM 2.0
#define RING_CLEAR_MM 0.8
/* The box itself and this much paper round its outer edge are left out (set to the
 * window's mean, which adds nothing to a correlation): the printed outline, the same on
 * every ballot, plus the shift searched plus 0.3 mm of registration slack and blur (the
 * reader's BESIDE_GAP_MM; at 0.9 mm the 0.3-0.7 mm end of a tick beyond the outline was
 * left out, and two hands' ticks stayed alike). */
#define RING_MASK_MM 0.6
/* A sample is ink when it is this much (gray levels, after the 3 x 3 mean) darker than the
 * window's median, the paper: about 0.2 of a scanner's paper-to-black, the reader's
 * BESIDE_INK, which no sensor noise reaches. */
#define RING_INK_LEVEL 45.0
/* A window counts in full from this many ink samples (3 mm^2, a 7 mm line of a 0.45 mm
 * pen; a circle's two sides alone hold about 6 mm^2) and takes part from RING_MIN_INK
 * (0.5 mm^2: specks and dust below it say nothing about a hand). */
#define RING_FULL_INK 300.0
#define RING_MIN_INK 50.0
/* Two windows whose strokes agree at least this well must agree this well in their fine
 * structure (window_agreement). Over the six 300-page decks of bench/duplicates.sh the
 * details of a window and its rescan's agree at 0.876 or better wherever they stand above
 * the noise (3658 windows; the lowest are 1-bit, JPEG and 150 dpi scans, whose edges move
 * by a pixel), and two hands' straight lines across one box at 0.52-0.66 (seed 8001
 * p00116's pencil line against p00249's pen line and p00135's line); the bar sits between,
 * nearer the hands, for a rescan missed is a vote counted twice and a false alarm only a
 * review. */
#define FINE_MIN 0.75

/* Gray at page point (x, y) mm through transform t, bilinear; paper outside the image. */
static double sample_mm(const phieu_image *img, const double t[9], double x, double y)
{
    double w = t[6] * x + t[7] * y + t[8];
    if (w == 0)
        return 255;
    double px = (t[0] * x + t[1] * y + t[2]) / w - 0.5, py = (t[3] * x + t[4] * y + t[5]) / w - 0.5;
    int ix = (int)floor(px), iy = (int)floor(py);
    double fx = px - ix, fy = py - iy, acc = 0;
    for (int k = 0; k < 4; k++) {
        int xx = ix + (k & 1), yy = iy + (k >> 1);
        double g = 255;
        if (xx >= 0 && yy >= 0 && xx < img->width && yy < img->height)
            g = img->pixels[(size_t)yy * img->stride + xx];
        acc += ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy) * g;
    }
    return acc;
}

/* w x h samples of ink (255 - gray) every STROKE_STEP_MM from page point (x0, y0) mm
 * through transform t into v, then a 3 x 3 mean (0.3 mm: sensor noise and resampling
 * differ between two scans; a stroke is wider than that); tmp is scratch of w x h. */
static void sample_window(const phieu_image *page, const double t[9], double x0, double y0, int w,
                          int h, float *v, float *tmp)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            v[y * w + x] = (float)(255.0 - sample_mm(page, t, x0 + (x + 0.5) * STROKE_STEP_MM,
                                                     y0 + (y + 0.5) * STROKE_STEP_MM));
    memcpy(tmp, v, sizeof(float) * (size_t)w * (size_t)h);
    for (int y = 1; y + 1 < h; y++)
        for (int x = 1; x + 1 < w; x++) {
            float acc = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                    acc += tmp[(y + dy) * w + x + dx];
            v[y * w + x] = acc / 9.0f;
        }
}

/* The window around box (r, c): its origin in page mm, its size in samples (shift margin
 * included) and the box grown by RING_MASK_MM, in samples from the origin. */
typedef struct ring_geom {
    double x0, y0;
    int w, h;
    int mx0, my0, mx1, my1; /* masked: mx0 <= x < mx1, my0 <= y < my1 */
} ring_geom;

static ring_geom ring_window(const phieu_layout *L, int r, int c)
{
    const phieu_rect *b = &L->boxes[r][c], *row = &L->rows[r];
    double left = b->x - L->column_x[3 + c], right = L->column_x[4 + c] - (b->x + b->w);
    double rx = fmin(RING_REACH_X_MM, fmin(left, right) - RING_CLEAR_MM);
    double up = b->y - row->y, down = row->y + row->h - (b->y + b->h);
    double ry = fmin(RING_REACH_Y_MM, fmin(up, down) - RING_CLEAR_MM);
    rx = fmax(rx, RING_MASK_MM), ry = fmax(ry, RING_MASK_MM);
    ring_geom g;
    g.x0 = b->x - rx - STROKE_SHIFT * STROKE_STEP_MM;
    g.y0 = b->y - ry - STROKE_SHIFT * STROKE_STEP_MM;
    g.w = (int)((b->w + 2 * rx) / STROKE_STEP_MM) + 2 * STROKE_SHIFT;
    g.h = (int)((b->h + 2 * ry) / STROKE_STEP_MM) + 2 * STROKE_SHIFT;
    g.mx0 = (int)floor((b->x - RING_MASK_MM - g.x0) / STROKE_STEP_MM);
    g.my0 = (int)floor((b->y - RING_MASK_MM - g.y0) / STROKE_STEP_MM);
    g.mx1 = (int)ceil((b->x + b->w + RING_MASK_MM - g.x0) / STROKE_STEP_MM);
    g.my1 = (int)ceil((b->y + b->h + RING_MASK_MM - g.y0) / STROKE_STEP_MM);
    return g;
}

/* The ink around a box, in samples of its window (shift margin left out) at least
 * RING_INK_LEVEL darker than the paper (the median); the box and its outline (the mask)
 * are set to the mean of the rest, so that they add nothing to a correlation. */
static double ring_ink(const ring_geom *g, float *v)
{
    int hist[256] = {0}, n = 0;
    double sum = 0;
    for (int y = STROKE_SHIFT; y < g->h - STROKE_SHIFT; y++)
        for (int x = STROKE_SHIFT; x < g->w - STROKE_SHIFT; x++) {
            if (x >= g->mx0 && x < g->mx1 && y >= g->my0 && y < g->my1)
                continue;
            float u = v[y * g->w + x];
            hist[u <= 0 ? 0 : u >= 255 ? 255 : (int)u]++;
            sum += u, n++;
        }
    if (n == 0)
        return 0;
    int median = 0;
    for (int k = 0, seen = 0; k < 256; k++)
        if ((seen += hist[k]) * 2 >= n) {
            median = k;
            break;
        }
    double ink = 0;
    for (int k = 0; k < 256; k++)
        ink += k >= median + RING_INK_LEVEL ? hist[k] : 0;
    float mean = (float)(sum / n);
    for (int y = g->my0 < 0 ? 0 : g->my0; y < g->my1 && y < g->h; y++)
        for (int x = g->mx0 < 0 ? 0 : g->mx0; x < g->mx1 && x < g->w; x++)
            v[y * g->w + x] = mean;
    return ink;
}

/* A first look for ink around a box, cheap because it runs on every box of the rows
 * without a choice of every page of little ink (27 boxes on a district rating of one
 * mark): every RING_SCREEN_STEP-th sample of the window, not smoothed, counted as
 * ring_ink counts them and scaled up. A pen line (0.3 mm or more) is not missed between
 * samples 0.3 mm apart; the full count is made only where this finds some. */
#define RING_SCREEN_STEP 3

static double ring_screen(const phieu_image *page, const double t[9], const ring_geom *g)
{
    int hist[256] = {0}, n = 0;
    for (int y = STROKE_SHIFT; y < g->h - STROKE_SHIFT; y += RING_SCREEN_STEP)
        for (int x = STROKE_SHIFT; x < g->w - STROKE_SHIFT; x += RING_SCREEN_STEP) {
            if (x >= g->mx0 && x < g->mx1 && y >= g->my0 && y < g->my1)
                continue;
            double u = 255.0 - sample_mm(page, t, g->x0 + (x + 0.5) * STROKE_STEP_MM,
                                         g->y0 + (y + 0.5) * STROKE_STEP_MM);
            hist[u <= 0 ? 0 : u >= 255 ? 255 : (int)u]++;
            n++;
        }
    int median = 0;
    for (int k = 0, seen = 0; k < 256 && n > 0; k++)
        if ((seen += hist[k]) * 2 >= n) {
            median = k;
            break;
        }
    double ink = 0;
    for (int k = median + (int)RING_INK_LEVEL; k < 256; k++)
        ink += hist[k];
    return ink * RING_SCREEN_STEP * RING_SCREEN_STEP;
}

/* The surroundings of every box are compared where ink lies there (a circled box), and
 * those of a box with ink inside always: where a tick or an X ends beyond the outline
 * tells two hands apart when the box's centre does not (two generated ticks in one box
 * scored 0.976 on the centre alone, 0.002 with the ends; bench seed 5001 p00187 and
 * p00219). Which boxes does not depend on the row's decision, which may differ between
 * two scans (a dot read as a mark on one: bench seed 7001 p00187 lost a circle's
 * surroundings on one page only and scored 0.002). */

/* What one page's strokes will hold: the side of a box's window, which surroundings are
 * kept, and how many samples everything takes. */
typedef struct strokes_plan {
    int usable;    /* the page is registered to a form */
    int n_choices;
    int side;      /* a box's window, samples a side (the core and the shift search) */
    int n_boxes;   /* boxes with ink inside */
    int kept[PHIEU_FORM_MAX_ROWS][PHIEU_FORM_MAX_CHOICES]; /* surroundings kept */
    size_t ring_total; /* samples of all kept surroundings */
    size_t most;       /* samples of the largest window: the scratch's size */
} strokes_plan;

static void plan_strokes(const phieu_layout *layout, const phieu_image *page,
                         const phieu_reading *r, strokes_plan *p)
{
    double box = layout->n_rows > 0 ? layout->boxes[0][0].w : 0;
    int core = (int)((box - 2 * STROKE_INSET_MM) / STROKE_STEP_MM);
    if (core < 4)
        core = 4;
    memset(p, 0, sizeof *p);
    p->side = core + 2 * STROKE_SHIFT;
    p->usable = r->form_index >= 0 && r->transform[8] != 0;
    p->n_choices =
        layout->n_choices < PHIEU_FORM_MAX_CHOICES ? layout->n_choices : PHIEU_FORM_MAX_CHOICES;
    p->most = (size_t)p->side * (size_t)p->side;
    for (int i = 0; p->usable && i < r->n_rows; i++)
        for (int c = 0; c < p->n_choices; c++) {
            int inked = grid_ink(r->rows[i].boxes[c].ink) >= STROKE_KEEP_INK;
            ring_geom g = ring_window(layout, i, c);
            size_t area = (size_t)g.w * (size_t)g.h;
            p->most = area > p->most ? area : p->most;
            p->n_boxes += inked;
            p->kept[i][c] = inked || ring_screen(page, r->transform, &g) >= RING_MIN_INK / 4;
            if (p->kept[i][c])
                p->ring_total += area;
        }
}

/* Samples the planned windows of the page into s (its data sized by the plan). */
static void fill_strokes(const phieu_layout *layout, const phieu_image *page,
                         const phieu_reading *r, const strokes_plan *p, float *scratch,
                         phieu_omr_strokes *s)
{
    int side = p->side;
    float *next = s->data;
    for (int i = 0; p->usable && i < r->n_rows; i++)
        for (int c = 0; c < p->n_choices; c++) {
            double ink = grid_ink(r->rows[i].boxes[c].ink);
            if (ink >= STROKE_KEEP_INK) {
                stroke_box *b = &s->boxes[s->n_boxes];
                b->row = i, b->choice = c, b->ink = ink, b->w = b->h = side;
                b->v = next;
                next += (size_t)side * (size_t)side;
                const phieu_rect *bx = &layout->boxes[i][c];
                sample_window(page, r->transform,
                              bx->x + STROKE_INSET_MM - STROKE_SHIFT * STROKE_STEP_MM,
                              bx->y + STROKE_INSET_MM - STROKE_SHIFT * STROKE_STEP_MM, side, side,
                              b->v, scratch);
                s->index[i][c] = s->n_boxes++;
            }
            if (p->kept[i][c]) {
                ring_geom g = ring_window(layout, i, c);
                stroke_box *b = &s->rings[s->n_rings];
                b->row = i, b->choice = c, b->w = g.w, b->h = g.h;
                b->v = next;
                next += (size_t)g.w * (size_t)g.h;
                sample_window(page, r->transform, g.x0, g.y0, g.w, g.h, b->v, scratch);
                b->ink = ring_ink(&g, b->v);
                s->ring[i][c] = s->n_rings++;
            }
        }
}

int phieu_omr_strokes_create(const phieu_layout *layout, const phieu_image *page,
                             const phieu_reading *r, phieu_omr_strokes **out, phieu_error *err)
{
    *out = NULL;
    if (!layout || !page || !r || r->n_rows < 0 || r->n_rows > PHIEU_FORM_MAX_ROWS ||
        r->n_rows > layout->n_rows)
        return phieu_error_set(err, PHIEU_EINVAL, "strokes: no page, reading or layout");
    strokes_plan p;
    plan_strokes(layout, page, r, &p);
    float *scratch = phieu_malloc(sizeof(float) * p.most);
    size_t samples = (size_t)p.n_boxes * (size_t)p.side * (size_t)p.side + p.ring_total;
    phieu_omr_strokes *s = scratch ? phieu_malloc(sizeof *s + sizeof(float) * samples) : NULL;
    if (!s) {
        phieu_free(scratch);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory comparing strokes");
    }
    s->form_index = p.usable ? r->form_index : -1;
    s->n_rows = r->n_rows;
    s->side = p.side;
    s->n_boxes = s->n_rings = 0;
    memset(s->index, -1, sizeof s->index);
    memset(s->ring, -1, sizeof s->ring);
    fill_strokes(layout, page, r, &p, scratch, s);
    phieu_free(scratch);
    /* Whole gray levels, as the session stores them (omr_strokes_store.c). */
    for (size_t k = 0; k < samples; k++)
        s->data[k] = rintf(s->data[k]);
    *out = s;
    return 0;
}

void phieu_omr_strokes_destroy(phieu_omr_strokes **s)
{
    if (s && *s) {
        phieu_free(*s);
        *s = NULL;
    }
}

/* The best normalised cross-correlation of a's centre window with b's window shifted by
 * up to STROKE_SHIFT samples each way (both w x h samples, the shift margin included),
 * and that shift in *dx_best, *dy_best; -2 when a's window holds no stroke. */
static double best_ncc(const float *a, const float *b, int w, int h, int *dx_best, int *dy_best)
{
    int cw = w - 2 * STROKE_SHIFT, ch = h - 2 * STROKE_SHIFT, n = cw * ch;
    if (cw <= 0 || ch <= 0)
        return -2;
    double sa = 0, saa = 0;
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            double v = a[(y + STROKE_SHIFT) * w + x + STROKE_SHIFT];
            sa += v, saa += v * v;
        }
    double va = saa - sa * sa / n;
    if (va <= STROKE_MIN_VARIANCE * n)
        return -2;
    double best = -1;
    for (int dy = -STROKE_SHIFT; dy <= STROKE_SHIFT; dy++)
        for (int dx = -STROKE_SHIFT; dx <= STROKE_SHIFT; dx++) {
            double sb = 0, sbb = 0, sab = 0;
            for (int y = 0; y < ch; y++) {
                const float *ra = a + (y + STROKE_SHIFT) * w + STROKE_SHIFT;
                const float *rb = b + (y + STROKE_SHIFT + dy) * w + STROKE_SHIFT + dx;
                for (int x = 0; x < cw; x++) {
                    double u = ra[x], v = rb[x];
                    sb += v, sbb += v * v, sab += u * v;
                }
            }
            double vb = sbb - sb * sb / n;
            if (vb <= STROKE_MIN_VARIANCE * n)
                continue;
            double ncc = (sab - sa * sb / n) / sqrt(va * vb);
            if (ncc > best)
                best = ncc, *dx_best = dx, *dy_best = dy;
        }
    return best;
}

/* The detail of window v (w x h) at sample (x, y): its value less the mean of the
 * (2 FINE_RADIUS + 1)^2 samples round it (those inside the window). What is left of a
 * stroke once its place is taken out: its two edges, so its width, and how it thins,
 * swells and wobbles along its length, a pencil's grain. */
#define FINE_RADIUS 2

static double detail_at(const float *v, int w, int h, int x, int y)
{
    double sum = 0;
    int n = 0;
    for (int yy = y - FINE_RADIUS; yy <= y + FINE_RADIUS; yy++)
        for (int xx = x - FINE_RADIUS; xx <= x + FINE_RADIUS; xx++)
            if (yy >= 0 && xx >= 0 && yy < h && xx < w)
                sum += v[yy * w + xx], n++;
    return v[y * w + x] - sum / n;
}

/* The normalised cross-correlation of the detail of a's centre window with that of b's
 * shifted by (dx, dy), the place where their strokes agree best; -2 when either detail is
 * within twice the noise's variance (STROKE_NOISE_VARIANCE per sample): a faint stroke's
 * edges are lost in the noise, and two scans of it agree there by chance (as low as 0.48
 * on the rescans of the bench whose details hold under 2 gray levels squared). */
static double fine_ncc(const float *a, const float *b, int w, int h, int dx, int dy)
{
    int cw = w - 2 * STROKE_SHIFT, ch = h - 2 * STROKE_SHIFT, n = cw * ch;
    if (cw <= 0 || ch <= 0)
        return -2;
    double sa = 0, saa = 0, sb = 0, sbb = 0, sab = 0;
    for (int y = STROKE_SHIFT; y < ch + STROKE_SHIFT; y++)
        for (int x = STROKE_SHIFT; x < cw + STROKE_SHIFT; x++) {
            double u = detail_at(a, w, h, x, y), v = detail_at(b, w, h, x + dx, y + dy);
            sa += u, saa += u * u, sb += v, sbb += v * v, sab += u * v;
        }
    double va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    if (va <= STROKE_NOISE_VARIANCE * n || vb <= STROKE_NOISE_VARIANCE * n)
        return -2;
    return (sab - sa * sb / n) / sqrt(va * vb);
}

/* The agreement of two windows (w x h each) whose strokes lie in the same place. The
 * correlation of the smoothed windows says where the ink is, not what it is: one straight
 * line correlates highly with another hand's line at the same place and angle, wider or
 * narrower (bench seed 8001, vote of confidence p00116 and p00249: a grainy pencil line
 * about 1 mm wide and a pen line half as wide across the same box at the same height
 * scored 0.962 and were held as one sheet). Two scans of one sheet draw the same stroke,
 * edges and all, so where the windows agree at FINE_MIN or better, their details are
 * compared too, at the place found, and a window whose details agree less scores that. */
static double window_agreement(const float *a, const float *b, int w, int h)
{
    int xdx = 0, xdy = 0, ydx = 0, ydy = 0;
    /* Both ways round, so that which page came first does not matter. */
    double x = best_ncc(a, b, w, h, &xdx, &xdy), y = best_ncc(b, a, w, h, &ydx, &ydy);
    if (x == -2 && y == -2)
        return -2; /* noise on both: nothing to compare */
    double agree = fmax(0, fmax(x, y));
    if (agree < FINE_MIN)
        return agree;
    /* The details the way round that agreed best (the same whichever page came first). */
    double fine = x >= y ? fine_ncc(a, b, w, h, xdx, xdy) : fine_ncc(b, a, w, h, ydx, ydy);
    return fine == -2 || fine >= FINE_MIN ? agree : fmax(0, fine);
}

/* The variance (gray levels squared, per sample) of a window's centre, the shift margin
 * left out: how far its strokes stand above paper and sensor noise. */
static double centre_variance(const stroke_box *k)
{
    int cw = k->w - 2 * STROKE_SHIFT, ch = k->h - 2 * STROKE_SHIFT, n = cw * ch;
    if (n <= 0)
        return 0;
    double sa = 0, saa = 0;
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            double v = k->v[(y + STROKE_SHIFT) * k->w + x + STROKE_SHIFT];
            sa += v, saa += v * v;
        }
    return (saa - sa * sa / n) / n;
}

/* Adds to *sum and *weight the agreement of one window (box or surroundings) of the two
 * pages, ia and ib indices into a's and b's list (-1: not kept, too little ink there),
 * weighed by the larger ink over `full`; nothing when neither holds `least`. */
static void add_window(const stroke_box *la, int ia, const stroke_box *lb, int ib, double least,
                       double full, double *sum, double *weight)
{
    double ink = fmax(ia >= 0 ? la[ia].ink : 0, ib >= 0 ? lb[ib].ink : 0);
    if (ink < least)
        return;
    double contrast = fmax(ia >= 0 ? centre_variance(&la[ia]) : 0,
                           ib >= 0 ? centre_variance(&lb[ib]) : 0);
    double agree = 0;
    if (ia >= 0 && ib >= 0 && la[ia].w == lb[ib].w && la[ia].h == lb[ib].h) {
        agree = window_agreement(la[ia].v, lb[ib].v, la[ia].w, la[ia].h);
        if (agree == -2)
            return; /* noise on both: nothing to compare */
    } else if (ia >= 0 || ib >= 0) {
        /* Kept on one page only: nothing to compare when it holds no stroke there either
         * (a 150 dpi rescan's paper, a little darker, put 85-110 of grid ink in every box
         * of a district rating, bench seed 6001 p00297, where its first scan had 0-20). */
        if (contrast <= STROKE_MIN_VARIANCE)
            return;
    }
    double w = fmin(1, ink / full) * fmin(1, fmax(0, contrast - STROKE_NOISE_VARIANCE) /
                                             (STROKE_FULL_VARIANCE - STROKE_NOISE_VARIANCE));
    *sum += w * pow(fmax(agree, SIM_MIN_AGREEMENT), SIM_MEAN_POWER);
    *weight += w;
}

double phieu_omr_stroke_similarity(const phieu_omr_strokes *a, const phieu_omr_strokes *b)
{
    if (!a || !b || a->form_index < 0 || a->form_index != b->form_index ||
        a->n_rows != b->n_rows || a->side != b->side)
        return 0;
    double sum = 0, weight = 0;
    for (int r = 0; r < a->n_rows; r++)
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            /* Below the grids' bar a box takes part only where both pages keep it: how much
             * faint ink a scan shows there varies with its exposure (the shadow of a crease
             * held 59-98 on one scan and nothing on its rescan, bench seed 7001 p00253). */
            int ia = a->index[r][c], ib = b->index[r][c];
            double most = fmax(ia >= 0 ? a->boxes[ia].ink : 0, ib >= 0 ? b->boxes[ib].ink : 0);
            if ((ia >= 0 && ib >= 0) || most >= SIM_MIN_BOX_INK)
                add_window(a->boxes, ia, b->boxes, ib, STROKE_MIN_BOX_INK, SIM_FULL_BOX_INK,
                           &sum, &weight);
            add_window(a->rings, a->ring[r][c], b->rings, b->ring[r][c], RING_MIN_INK,
                       RING_FULL_INK, &sum, &weight);
        }
    if (weight <= 0)
        return 0;
    double s = pow(sum / weight, 1 / SIM_MEAN_POWER);
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

int phieu_omr_beside_match(const phieu_reading *a, const phieu_reading *b)
{
    if (!a || !b || a->form_index < 0 || a->form_index != b->form_index || a->n_rows != b->n_rows ||
        a->n_rows <= 0 || a->n_rows > PHIEU_FORM_MAX_ROWS)
        return 0;
    char rows[2][PHIEU_FORM_MAX_ROWS + 1];
    memset(rows, 0, sizeof rows);
    const phieu_reading *r[2] = {a, b};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < r[k]->n_reasons && i < PHIEU_OMR_MAX_REASONS; i++) {
            const phieu_reason *why = &r[k]->reasons[i];
            if ((strcmp(why->code, "mark-beside-box") == 0 ||
                 strcmp(why->code, "marginal-mark") == 0) &&
                why->row >= 1 && why->row <= a->n_rows)
                rows[k][why->row] = 1;
        }
    int any = 0;
    for (int i = 1; i <= a->n_rows; i++) {
        if (rows[0][i] != rows[1][i])
            return 0;
        any |= rows[0][i];
    }
    return any;
}

void phieu_omr_decision_pattern(const phieu_reading *r, char out[PHIEU_FORM_MAX_ROWS + 1])
{
    int n = r->n_rows;
    if (n < 0 || n > PHIEU_FORM_MAX_ROWS)
        n = 0;
    for (int i = 0; i < n; i++) {
        int d = r->rows[i].decision;
        out[i] = d >= 0 && d <= 9          ? (char)('0' + d)
                 : d == PHIEU_ROW_OVERVOTE ? 'o'
                 : d == PHIEU_ROW_REVIEW   ? 'r'
                                           : 'b';
    }
    out[n] = '\0';
}

int phieu_omr_pattern_distance(const char *a, const char *b)
{
    if (strlen(a) != strlen(b))
        return PHIEU_FORM_MAX_ROWS + 1;
    int d = 0;
    for (; *a; a++, b++)
        if (*a != *b && *a != 'r' && *b != 'r')
            d++;
    return d;
}

int phieu_omr_pattern_has_ink(const char *p)
{
    for (; *p; p++)
        if (*p != 'b')
            return 1;
    return 0;
}
