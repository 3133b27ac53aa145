/*
 * omr_similarity.c - how alike the ink inside the boxes of two readings of one form is:
 * the session's test for the same paper sheet fed twice (a rescan). It compares the 8x8
 * ink grids of each box that holds ink on either page, cell by cell at the same place, and
 * weighs the boxes by how much they hold. It reads nothing but the two readings, decides
 * nothing about marks, and keeps no state. Measurements: docs/recognition.md, "Duplicates".
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
 * with less ink than two ordinary marks the score is scaled down. One mark is not enough:
 * two hands' X in the same box of a one-mark vote of confidence scored 0.89 on an 8 x 8
 * grid, above the duplicate threshold. A rescan of a one-mark page is therefore left to
 * the reconciliation against ballots collected (one sheet too many). */
#define SIM_MIN_EVIDENCE PHIEU_OMR_INK_MIN_EVIDENCE

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

double phieu_omr_ink_agreement(const phieu_reading *a, const phieu_reading *b, double *evidence)
{
    *evidence = 0;
    if (!a || !b || a->form_index < 0 || a->form_index != b->form_index || a->n_rows != b->n_rows ||
        a->n_rows <= 0 || a->n_rows > PHIEU_FORM_MAX_ROWS)
        return 0;
    double sum = 0, weight = 0;
    for (int r = 0; r < a->n_rows; r++)
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            const uint8_t *x = a->rows[r].boxes[c].ink, *y = b->rows[r].boxes[c].ink;
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

typedef struct stroke_box {
    int row, choice;
    double ink;   /* the reading's 8x8 ink sum, the box's weight */
    float *v;     /* side x side samples of ink (255 - gray) */
} stroke_box;

struct phieu_omr_strokes {
    int form_index;
    int n_rows;
    int side;     /* samples across a box's window including the shift margin */
    int n_boxes;
    stroke_box boxes[PHIEU_FORM_MAX_ROWS * PHIEU_FORM_MAX_CHOICES];
    int index[PHIEU_FORM_MAX_ROWS][PHIEU_FORM_MAX_CHOICES]; /* into boxes, -1 none */
    float data[];
};

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

int phieu_omr_strokes_create(const phieu_layout *layout, const phieu_image *page,
                             const phieu_reading *r, phieu_omr_strokes **out, phieu_error *err)
{
    *out = NULL;
    if (!layout || !page || !r || r->n_rows < 0 || r->n_rows > PHIEU_FORM_MAX_ROWS ||
        r->n_rows > layout->n_rows)
        return phieu_error_set(err, PHIEU_EINVAL, "strokes: no page, reading or layout");
    double box = layout->n_rows > 0 ? layout->boxes[0][0].w : 0;
    int core = (int)((box - 2 * STROKE_INSET_MM) / STROKE_STEP_MM);
    if (core < 4)
        core = 4;
    int side = core + 2 * STROKE_SHIFT;
    int n = 0;
    int usable = r->form_index >= 0 && r->transform[8] != 0;
    for (int i = 0; usable && i < r->n_rows; i++)
        for (int c = 0; c < layout->n_choices && c < PHIEU_FORM_MAX_CHOICES; c++)
            n += grid_ink(r->rows[i].boxes[c].ink) >= SIM_MIN_BOX_INK / 4;
    phieu_omr_strokes *s =
        phieu_malloc(sizeof *s + sizeof(float) * (size_t)n * (size_t)side * (size_t)side);
    if (!s)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory comparing strokes");
    s->form_index = usable ? r->form_index : -1;
    s->n_rows = r->n_rows;
    s->side = side;
    s->n_boxes = 0;
    memset(s->index, -1, sizeof s->index);
    for (int i = 0; usable && i < r->n_rows; i++)
        for (int c = 0; c < layout->n_choices && c < PHIEU_FORM_MAX_CHOICES; c++) {
            double ink = grid_ink(r->rows[i].boxes[c].ink);
            if (ink < SIM_MIN_BOX_INK / 4)
                continue;
            stroke_box *b = &s->boxes[s->n_boxes];
            b->row = i, b->choice = c, b->ink = ink;
            b->v = s->data + (size_t)s->n_boxes * (size_t)side * (size_t)side;
            const phieu_rect *bx = &layout->boxes[i][c];
            double x0 = bx->x + STROKE_INSET_MM - STROKE_SHIFT * STROKE_STEP_MM;
            double y0 = bx->y + STROKE_INSET_MM - STROKE_SHIFT * STROKE_STEP_MM;
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                    b->v[y * side + x] = (float)(255.0 - sample_mm(page, r->transform,
                                                                   x0 + (x + 0.5) * STROKE_STEP_MM,
                                                                   y0 + (y + 0.5) * STROKE_STEP_MM));
            /* A 3 x 3 mean (0.3 mm): sensor noise and resampling differ between two
             * scans; a stroke is wider than that. */
            float *tmp = phieu_malloc(sizeof(float) * (size_t)side * (size_t)side);
            if (tmp) {
                memcpy(tmp, b->v, sizeof(float) * (size_t)side * (size_t)side);
                for (int y = 1; y + 1 < side; y++)
                    for (int x = 1; x + 1 < side; x++) {
                        float acc = 0;
                        for (int dy = -1; dy <= 1; dy++)
                            for (int dx = -1; dx <= 1; dx++)
                                acc += tmp[(y + dy) * side + x + dx];
                        b->v[y * side + x] = acc / 9.0f;
                    }
                phieu_free(tmp);
            }
            s->index[i][c] = s->n_boxes++;
        }
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
 * up to STROKE_SHIFT samples each way; -2 when a's window holds no stroke. */
static double best_ncc(const float *a, const float *b, int side)
{
    int core = side - 2 * STROKE_SHIFT, n = core * core;
    double sa = 0, saa = 0;
    for (int y = 0; y < core; y++)
        for (int x = 0; x < core; x++) {
            double v = a[(y + STROKE_SHIFT) * side + x + STROKE_SHIFT];
            sa += v, saa += v * v;
        }
    double va = saa - sa * sa / n;
    if (va <= STROKE_MIN_VARIANCE * n)
        return -2;
    double best = -1;
    for (int dy = -STROKE_SHIFT; dy <= STROKE_SHIFT; dy++)
        for (int dx = -STROKE_SHIFT; dx <= STROKE_SHIFT; dx++) {
            double sb = 0, sbb = 0, sab = 0;
            for (int y = 0; y < core; y++) {
                const float *ra = a + (y + STROKE_SHIFT) * side + STROKE_SHIFT;
                const float *rb = b + (y + STROKE_SHIFT + dy) * side + STROKE_SHIFT + dx;
                for (int x = 0; x < core; x++) {
                    double u = ra[x], w = rb[x];
                    sb += w, sbb += w * w, sab += u * w;
                }
            }
            double vb = sbb - sb * sb / n;
            if (vb <= STROKE_MIN_VARIANCE * n)
                continue;
            double ncc = (sab - sa * sb / n) / sqrt(va * vb);
            if (ncc > best)
                best = ncc;
        }
    return best;
}

double phieu_omr_stroke_similarity(const phieu_omr_strokes *a, const phieu_omr_strokes *b)
{
    if (!a || !b || a->form_index < 0 || a->form_index != b->form_index ||
        a->n_rows != b->n_rows || a->side != b->side)
        return 0;
    double sum = 0, weight = 0;
    for (int r = 0; r < a->n_rows; r++)
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            int ia = a->index[r][c], ib = b->index[r][c];
            double ink = fmax(ia >= 0 ? a->boxes[ia].ink : 0, ib >= 0 ? b->boxes[ib].ink : 0);
            if (ink < SIM_MIN_BOX_INK)
                continue;
            double agree = 0;
            if (ia >= 0 && ib >= 0) {
                /* Both ways round, so that which page came first does not matter. */
                double x = best_ncc(a->boxes[ia].v, b->boxes[ib].v, a->side);
                double y = best_ncc(b->boxes[ib].v, a->boxes[ia].v, a->side);
                agree = fmax(0, fmax(x, y));
                if (x == -2 && y == -2)
                    continue; /* noise on both: nothing to compare */
            }
            double w = fmin(1, ink / SIM_FULL_BOX_INK);
            sum += w * pow(fmax(agree, SIM_MIN_AGREEMENT), SIM_MEAN_POWER);
            weight += w;
        }
    if (weight <= 0)
        return 0;
    double s = pow(sum / weight, 1 / SIM_MEAN_POWER);
    return s < 0 ? 0 : s > 1 ? 1 : s;
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
