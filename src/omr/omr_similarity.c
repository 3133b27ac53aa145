/*
 * omr_similarity.c - how alike the ink inside the boxes of two readings of one form is:
 * the session's test for the same paper sheet fed twice (a rescan). It compares the 8x8
 * ink grids of each box that holds ink on either page, cell by cell at the same place, and
 * weighs the boxes by how much they hold. It reads nothing but the two readings, decides
 * nothing about marks, and keeps no state. Measurements: docs/recognition.md, "Duplicates".
 */
#include <math.h>
#include <string.h>

#include "omr/omr_private.h"

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
#define SIM_MIN_EVIDENCE 2.0

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
    if (weight < SIM_MIN_EVIDENCE)
        s *= weight / SIM_MIN_EVIDENCE;
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
