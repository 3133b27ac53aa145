/*
 * omr_register.c - registration of a page: the four corner fiducials (or three that agree,
 * with an affine transform, when one is cut off or spoilt; omr.c confirms the fourth
 * against the table), which way up the page is, the transform page mm -> pixels, and the
 * form code bits.
 * It looks only at the four corner windows and the code cells (no whole-page pass).
 * Box scoring is in omr_score.c; what the bits mean is in src/form/.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "omr/omr_internal.h"
#include "phieu/alloc.h"

/* Search window around each expected fiducial centre, in mm either way. The contract asks
 * for +-15 mm offset, +-10 degrees rotation (a corner 170 mm from the page centre moves up
 * to 30 mm) and +-5 % scale (8 mm at the corners); 45 mm covers rotation and offset
 * together. A scan wider or taller than A4 widens the window by half the excess. */
#define FID_SEARCH_MM 45.0
/* Coarse grid: about this many samples across a fiducial side (enough to see a square,
 * few enough to keep the search near 5,000 samples a corner). */
#define FID_COARSE_PER_SIDE 6.0
/* Paper white is this percentile of the window; a fiducial's black the 1st. */
#define FID_PAPER_PERCENTILE 0.90
/* A window whose darkest cells are not this much below its paper holds no fiducial
 * (gray levels; printed black on white scans at 150-220 levels of contrast). */
#define FID_MIN_CONTRAST 60.0
/* Blob acceptance on the coarse grid, relative to the expected side: wide, because the
 * dpi estimate may be off by 20 % (padded scans without tags); the exact size is checked
 * against the registered scale afterwards. */
#define FID_SIZE_MIN 0.55
#define FID_SIZE_MAX 1.7
#define FID_ASPECT_MAX 1.43 /* a square rotated 10 degrees stays square; a bar does not */
#define FID_FILL_MIN 0.45   /* a solid square (even with its hole) vs. outlines and text */
#define FID_MAX_CANDIDATES 4
/* After registration: each fiducial's side within this factor of its printed size (the
 * brief's +-15 % plus blur), and all six mutual distances agree within 6 % (paper
 * stretch in a sheet feeder stays well under 3 %). */
#define FID_SIDE_TOLERANCE 0.20
#define FID_STRETCH_MAX 1.06
/* After registration: each fiducial's extent across and down (refine) at least this share
 * of its printed side at that scale. A whole square, turned up to 10 degrees, measures its
 * side times cos 10 (1.5 % short) give or take a pixel each end (5 % at 150 dpi) and the
 * paper's stretch one way (3 %); over 11,192 marks of a realistic deck the least was
 * 0.975. A mark with a part cut away (the sheet's corner clipped, white where it was) is
 * short on one axis: a tenth cut away moves its centre 0.35 mm, a third 1.2 mm. */
#define FID_SPAN_MIN 0.90

typedef struct cand {
    omr_fiducial f;
    double dist; /* from the expected position, pixels */
} cand;

static double rect_cx(const phieu_rect *r)
{
    return r->x + r->w / 2;
}

static double rect_cy(const phieu_rect *r)
{
    return r->y + r->h / 2;
}

void omr_apply(const double h[9], double x, double y, double *u, double *v)
{
    double w = h[6] * x + h[7] * y + h[8];
    if (fabs(w) < 1e-12)
        w = 1e-12;
    *u = (h[0] * x + h[1] * y + h[2]) / w;
    *v = (h[3] * x + h[4] * y + h[5]) / w;
}

int omr_homography(const double src[4][2], const double dst[4][2], double h[9])
{
    double a[8][9];
    for (int i = 0; i < 4; i++) {
        double x = src[i][0], y = src[i][1], u = dst[i][0], v = dst[i][1];
        double r0[9] = {x, y, 1, 0, 0, 0, -x * u, -y * u, u};
        double r1[9] = {0, 0, 0, x, y, 1, -x * v, -y * v, v};
        memcpy(a[2 * i], r0, sizeof r0);
        memcpy(a[2 * i + 1], r1, sizeof r1);
    }
    /* Gaussian elimination with partial pivoting. */
    for (int c = 0; c < 8; c++) {
        int p = c;
        for (int r = c + 1; r < 8; r++)
            if (fabs(a[r][c]) > fabs(a[p][c]))
                p = r;
        if (fabs(a[p][c]) < 1e-12)
            return -1;
        if (p != c)
            for (int k = 0; k < 9; k++) {
                double t = a[c][k];
                a[c][k] = a[p][k];
                a[p][k] = t;
            }
        for (int r = 0; r < 8; r++) {
            if (r == c)
                continue;
            double f = a[r][c] / a[c][c];
            if (f == 0)
                continue;
            for (int k = c; k < 9; k++)
                a[r][k] -= f * a[c][k];
        }
    }
    for (int i = 0; i < 8; i++)
        h[i] = a[i][8] / a[i][i];
    h[8] = 1;
    return 0;
}

int omr_affine(const double src[3][2], const double dst[3][2], double h[9])
{
    double x0 = src[0][0], y0 = src[0][1];
    double a1 = src[1][0] - x0, b1 = src[1][1] - y0, a2 = src[2][0] - x0, b2 = src[2][1] - y0;
    double det = a1 * b2 - a2 * b1;
    if (fabs(det) < 1e-9)
        return -1;
    for (int k = 0; k < 2; k++) {
        double d1 = dst[1][k] - dst[0][k], d2 = dst[2][k] - dst[0][k];
        double p = (d1 * b2 - d2 * b1) / det, q = (a1 * d2 - a2 * d1) / det;
        h[3 * k] = p;
        h[3 * k + 1] = q;
        h[3 * k + 2] = dst[0][k] - p * x0 - q * y0;
    }
    h[6] = h[7] = 0;
    h[8] = 1;
    return 0;
}

double omr_patch_mean(const phieu_image *page, double x, double y, int r)
{
    int cx = (int)floor(x + 0.5), cy = (int)floor(y + 0.5);
    int x0 = cx - r, x1 = cx + r, y0 = cy - r, y1 = cy + r;
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 >= page->width)
        x1 = page->width - 1;
    if (y1 >= page->height)
        y1 = page->height - 1;
    if (x0 > x1 || y0 > y1)
        return 255.0;
    long sum = 0, n = 0;
    for (int yy = y0; yy <= y1; yy++) {
        const uint8_t *row = page->pixels + (size_t)yy * page->stride;
        for (int xx = x0; xx <= x1; xx++)
            sum += row[xx];
        n += x1 - x0 + 1;
    }
    return (double)sum / (double)n;
}

/* The gray level below which share q of a histogram's n samples lie. Fiducial windows
 * and boxes both judge paper white and ink from it. */
int omr_hist_percentile(const long hist[256], long n, double q)
{
    long want = (long)(q * (double)n);
    long acc = 0;
    for (int i = 0; i < 256; i++) {
        acc += hist[i];
        if (acc > want)
            return i;
    }
    return 255;
}

/* The extent of a mark along one axis (prof[i]: its dark pixels in column or row i, n
 * of them): from the first to the last line holding at least half a side of dark. */
static double profile_span(const int *prof, int n, double side)
{
    int first = -1, last = -1;
    for (int i = 0; i < n; i++)
        if (prof[i] >= 0.5 * side) {
            if (first < 0)
                first = i;
            last = i;
        }
    return first < 0 ? 0 : last - first + 1;
}

/* Refines a coarse blob at full resolution: darkness-weighted centroid, area, hole, and
 * the extent across and down (prof: scratch for the window's width plus height). */
static void refine(const phieu_image *page, int x0, int y0, int x1, int y1, double paper,
                   double black, double hole_px, int *prof, int prof_cap, omr_fiducial *f)
{
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > page->width)
        x1 = page->width;
    if (y1 > page->height)
        y1 = page->height;
    memset(f, 0, sizeof *f);
    if (x1 <= x0 || y1 <= y0 || (x1 - x0) + (y1 - y0) > prof_cap)
        return;
    int *cols = prof, *rows = prof + (x1 - x0);
    memset(cols, 0, sizeof *cols * (size_t)(x1 - x0));
    double range = paper - black;
    double sw = 0, sx = 0, sy = 0, sb = 0, nb = 0;
    double half = paper - 0.5 * range; /* darker than halfway: counted in the extent */
    for (int y = y0; y < y1; y++) {
        const uint8_t *row = page->pixels + (size_t)y * page->stride;
        int in_row = 0;
        for (int x = x0; x < x1; x++) {
            int dark = row[x] <= half;
            cols[x - x0] += dark;
            in_row += dark;
            double w = (paper - row[x]) / range;
            if (w < 0.2)
                continue;
            if (w > 1)
                w = 1;
            sw += w;
            sx += w * x;
            sy += w * y;
            if (w >= 0.8) {
                sb += row[x];
                nb += 1;
            }
        }
        rows[y - y0] = in_row;
    }
    if (sw <= 0)
        return;
    f->x = sx / sw + 0.5; /* pixel centres are at +0.5 in page coordinates */
    f->y = sy / sw + 0.5;
    f->black = nb > 0 ? sb / nb : black;
    f->paper = paper;
    int r = (int)(hole_px * 0.3);
    if (r < 1)
        r = 1;
    double centre = omr_patch_mean(page, f->x - 0.5, f->y - 0.5, r);
    f->hole = centre > (paper + f->black) / 2;
    f->side = sqrt(sw + (f->hole ? hole_px * hole_px : 0));
    f->span = fmin(profile_span(cols, x1 - x0, f->side), profile_span(rows, y1 - y0, f->side));
}

/* Keeps c among the nearest FID_MAX_CANDIDATES of out (*count of them), sorted by
 * distance (ties keep scan order). */
static void keep_nearest(cand *out, int *count, const cand *c)
{
    int pos = *count;
    while (pos > 0 && out[pos - 1].dist > c->dist)
        pos--;
    if (pos >= FID_MAX_CANDIDATES)
        return;
    int last = *count < FID_MAX_CANDIDATES ? *count : FID_MAX_CANDIDATES - 1;
    for (int k = last; k > pos; k--)
        out[k] = out[k - 1];
    out[pos] = *c;
    if (*count < FID_MAX_CANDIDATES)
        (*count)++;
}

/* Grid cell flags beside "dark" (1) and "visited" (2): the solid core of a blob. */
#define CELL_CORE 4
#define CELL_CORE_SEEN 8

/* A dark blob of the coarse grid (bounding box bx0..bx1, by0..by1 in cells) that failed
 * the shape tests may be the corner mark with something touching it: a seal's ring or
 * lettering, a pen stroke, lighter or thinner than the 7 mm square. Its solid core (the
 * cells whose 3 x 3 neighbourhood is all dark: an erosion, which takes lines up to two
 * cells, 2.4 mm, wide away) is split into parts; a part that grown back by one cell (the
 * dilation) is a square of the right size is refined at full resolution, looking only at
 * the square's own place (1.3 sides across), so the touching ink does not move it. */
static void core_candidates(const phieu_image *page, omr_scratch *s, int gw, int gh, int bx0,
                            int by0, int bx1, int by1, int x0, int y0, int step, double a,
                            double side_px, double paper, double dark, double hole_px, double ex,
                            double ey, cand *out, int *count)
{
    uint8_t *g = s->grid;
    for (int j = by0; j <= by1; j++)
        for (int i = bx0; i <= bx1; i++) {
            int core = g[j * gw + i] & 3;
            for (int dj = -1; dj <= 1 && core; dj++)
                for (int di = -1; di <= 1 && core; di++) {
                    int x = i + di, y = j + dj;
                    core = x >= 0 && y >= 0 && x < gw && y < gh && (g[y * gw + x] & 3);
                }
            if (core)
                g[j * gw + i] |= CELL_CORE;
        }
    for (int j = by0; j <= by1; j++)
        for (int i = bx0; i <= bx1; i++) {
            if ((g[j * gw + i] & (CELL_CORE | CELL_CORE_SEEN)) != CELL_CORE)
                continue;
            int sp = 0, cx0 = i, cx1 = i, cy0 = j, cy1 = j;
            s->stack[sp++] = j * gw + i;
            g[j * gw + i] |= CELL_CORE_SEEN;
            while (sp > 0) {
                int c = s->stack[--sp], cx = c % gw, cy = c / gw;
                cx0 = cx < cx0 ? cx : cx0, cx1 = cx > cx1 ? cx : cx1;
                cy0 = cy < cy0 ? cy : cy0, cy1 = cy > cy1 ? cy : cy1;
                for (int d = 0; d < 4; d++) {
                    int nx = cx + (d == 0) - (d == 1), ny = cy + (d == 2) - (d == 3);
                    if (nx < bx0 || ny < by0 || nx > bx1 || ny > by1)
                        continue;
                    int k = ny * gw + nx;
                    if ((g[k] & (CELL_CORE | CELL_CORE_SEEN)) == CELL_CORE) {
                        g[k] |= CELL_CORE_SEEN;
                        s->stack[sp++] = k;
                    }
                }
            }
            double w = cx1 - cx0 + 3, h = cy1 - cy0 + 3; /* grown back by one cell */
            if (w < FID_SIZE_MIN * a || h < FID_SIZE_MIN * a || w > FID_SIZE_MAX * a ||
                h > FID_SIZE_MAX * a || w / h > FID_ASPECT_MAX || h / w > FID_ASPECT_MAX)
                continue;
            double px = x0 + ((cx0 + cx1) / 2.0 + 0.5) * step;
            double py = y0 + ((cy0 + cy1) / 2.0 + 0.5) * step;
            int r = (int)ceil(0.65 * side_px);
            cand c;
            refine(page, (int)px - r, (int)py - r, (int)px + r + 1, (int)py + r + 1, paper, dark,
                   hole_px, s->stack, s->grid_cap, &c.f);
            if (c.f.side <= 0)
                continue;
            c.dist = hypot(c.f.x - ex, c.f.y - ey);
            keep_nearest(out, count, &c);
        }
    for (int j = by0; j <= by1; j++)
        for (int i = bx0; i <= bx1; i++)
            g[j * gw + i] &= 3;
}

/* The coarse grid of one corner's search window (in s->grid): cell (i, j) is the mean of
 * the pixel at (x0 + i * step, y0 + j * step), its right and its lower neighbours (so that
 * one noisy pixel does not make a cell), then 1 when darker than halfway from paper to the
 * darkest ink. */
typedef struct corner_grid {
    int x0, y0, step, gw, gh;
    double paper, dark; /* the window's paper white and darkest ink, gray levels */
} corner_grid;

/* Fills s->grid and gr for the window of `radius` around (ex, ey); -1 when the window
 * holds no contrast to find a mark by. */
static int make_grid(const phieu_image *page, double ex, double ey, double radius,
                     double side_px, omr_scratch *s, corner_grid *gr)
{
    int step = (int)floor(side_px / FID_COARSE_PER_SIDE);
    if (step < 1)
        step = 1;
    int x0 = (int)floor(ex - radius), y0 = (int)floor(ey - radius);
    int x1 = (int)ceil(ex + radius), y1 = (int)ceil(ey + radius);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > page->width ? page->width : x1;
    y1 = y1 > page->height ? page->height : y1;
    int gw, gh;
    for (;;) {
        gw = (x1 - x0) / step;
        gh = (y1 - y0) / step;
        if ((long)gw * gh <= s->grid_cap)
            break;
        step++;
    }
    *gr = (corner_grid){x0, y0, step, gw, gh, 0, 0};
    if (gw < 3 || gh < 3)
        return -1;
    long hist[256] = {0};
    int two = step >= 2;
    for (int j = 0; j < gh; j++) {
        int y = y0 + j * step;
        const uint8_t *r0 = page->pixels + (size_t)y * page->stride;
        const uint8_t *r1 = two && y + 1 < page->height ? r0 + page->stride : r0;
        for (int i = 0; i < gw; i++) {
            int x = x0 + i * step;
            int xn = two && x + 1 < page->width ? x + 1 : x;
            int v = (r0[x] + r0[xn] + r1[x] + r1[xn] + 2) >> 2;
            s->grid[j * gw + i] = (uint8_t)v;
            hist[v]++;
        }
    }
    long n = (long)gw * gh;
    gr->paper = omr_hist_percentile(hist, n, FID_PAPER_PERCENTILE);
    gr->dark = omr_hist_percentile(hist, n, 0.001);
    if (gr->paper - gr->dark < FID_MIN_CONTRAST)
        return -1;
    double t = gr->paper - 0.5 * (gr->paper - gr->dark);
    /* Binary: 1 dark, 0 light; components marked 2 once visited. */
    for (long i = 0; i < n; i++)
        s->grid[i] = s->grid[i] < t;
    return 0;
}

/* Floods the dark component of the grid that holds cell `start` (8-connected), marking
 * its cells 2; its cell count, and its extent in bb (x0, y0, x1, y1). */
static int flood_cells(omr_scratch *s, int gw, int gh, long start, int bb[4])
{
    int sp = 0, cells = 0;
    bb[0] = gw, bb[1] = gh, bb[2] = -1, bb[3] = -1;
    s->stack[sp++] = (int)start;
    s->grid[start] = 2;
    while (sp > 0) {
        int c = s->stack[--sp];
        int cx = c % gw, cy = c / gw;
        cells++;
        bb[0] = cx < bb[0] ? cx : bb[0];
        bb[2] = cx > bb[2] ? cx : bb[2];
        bb[1] = cy < bb[1] ? cy : bb[1];
        bb[3] = cy > bb[3] ? cy : bb[3];
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int nx = cx + dx, ny = cy + dy;
                if (nx < 0 || ny < 0 || nx >= gw || ny >= gh)
                    continue;
                int k = ny * gw + nx;
                if (s->grid[k] == 1 && sp < s->grid_cap) {
                    s->grid[k] = 2;
                    s->stack[sp++] = k;
                }
            }
    }
    return cells;
}

/* The candidates of one image corner, nearest to the expected position first: every dark
 * component of the coarse grid of a corner mark's size and shape, refined at full
 * resolution; one of another shape may hide a mark under the ink touching it
 * (core_candidates). */
static int search_corner(const phieu_image *page, double ex, double ey, double radius,
                         double side_px, double hole_px, omr_scratch *s, cand *out)
{
    corner_grid gr;
    if (make_grid(page, ex, ey, radius, side_px, s, &gr) != 0)
        return 0;
    int x0 = gr.x0, y0 = gr.y0, step = gr.step, gw = gr.gw, gh = gr.gh;
    double paper = gr.paper, dark = gr.dark;
    long n = (long)gw * gh;
    double a = side_px / step;
    int count = 0;
    for (long start = 0; start < n; start++) {
        if (s->grid[start] != 1)
            continue;
        int bb[4];
        int cells = flood_cells(s, gw, gh, start, bb);
        int bx0 = bb[0], by0 = bb[1], bx1 = bb[2], by1 = bb[3];
        double w = bx1 - bx0 + 1, h = by1 - by0 + 1;
        if (w < FID_SIZE_MIN * a || h < FID_SIZE_MIN * a)
            continue;
        if (w > FID_SIZE_MAX * a || h > FID_SIZE_MAX * a || w / h > FID_ASPECT_MAX ||
            h / w > FID_ASPECT_MAX || cells / (w * h) < FID_FILL_MIN) {
            core_candidates(page, s, gw, gh, bx0, by0, bx1, by1, x0, y0, step, a, side_px, paper,
                            dark, hole_px, ex, ey, out, &count);
            continue;
        }
        cand c;
        refine(page, x0 + (bx0 - 1) * step, y0 + (by0 - 1) * step, x0 + (bx1 + 2) * step,
               y0 + (by1 + 2) * step, paper, dark, hole_px, s->stack, s->grid_cap, &c.f);
        if (c.f.side <= 0)
            continue;
        c.dist = hypot(c.f.x - ex, c.f.y - ey);
        keep_nearest(out, &count, &c);
    }
    return count;
}

/* Cost of a combination, or a negative value when its geometry is not a page. */
static double combo_cost(const phieu_layout *L, const omr_fiducial *f[4], int o, double *scale)
{
    double P[4][2], Q[4][2];
    for (int k = 0; k < 4; k++) {
        const phieu_rect *r = &L->fiducials[(k + 2 * o) % 4];
        P[k][0] = rect_cx(r);
        P[k][1] = rect_cy(r);
        Q[k][0] = f[k]->x;
        Q[k][1] = f[k]->y;
    }
    double sc[6], lo = 1e300, hi = 0, sum = 0;
    int n = 0;
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++) {
            double dp = hypot(P[a][0] - P[b][0], P[a][1] - P[b][1]);
            double dq = hypot(Q[a][0] - Q[b][0], Q[a][1] - Q[b][1]);
            if (dp <= 0)
                return -1;
            sc[n] = dq / dp;
            if (sc[n] < lo)
                lo = sc[n];
            if (sc[n] > hi)
                hi = sc[n];
            sum += sc[n];
            n++;
        }
    if (lo <= 0 || hi / lo > FID_STRETCH_MAX)
        return -1;
    double mean = sum / n;
    double side_mm = (L->fiducials[0].w + L->fiducials[0].h) / 2;
    double cost = 0;
    for (int k = 0; k < 4; k++) {
        double rel = f[k]->side / (side_mm * mean);
        if (rel < 1 - FID_SIDE_TOLERANCE || rel > 1 + FID_SIDE_TOLERANCE ||
            f[k]->span < FID_SPAN_MIN * side_mm * mean)
            return -1;
        cost += fabs(log(rel));
    }
    for (int i = 0; i < n; i++)
        cost += fabs(log(sc[i] / mean));
    /* The two orientations must be told apart by an inverted quadrilateral too: the
     * image corner order is clockwise, and so is the page order after a half turn. */
    *scale = mean;
    return cost;
}

/* Cost of three fiducials at image corners other than `skip`, or a negative value when
 * their geometry is not a page's: the three mutual distances agree in scale, each side
 * is the printed size at that scale, and the triangle turns the same way as on the page
 * (a mirror image is no page). */
static double combo3_cost(const phieu_layout *L, const omr_fiducial *f[4], int skip, int o,
                          double *scale)
{
    double P[3][2], Q[3][2];
    int m = 0;
    for (int k = 0; k < 4; k++) {
        if (k == skip)
            continue;
        const phieu_rect *r = &L->fiducials[(k + 2 * o) % 4];
        P[m][0] = rect_cx(r);
        P[m][1] = rect_cy(r);
        Q[m][0] = f[k]->x;
        Q[m][1] = f[k]->y;
        m++;
    }
    double sc[3], lo = 1e300, hi = 0, sum = 0;
    for (int a = 0; a < 3; a++) {
        int b = (a + 1) % 3;
        double dp = hypot(P[a][0] - P[b][0], P[a][1] - P[b][1]);
        double dq = hypot(Q[a][0] - Q[b][0], Q[a][1] - Q[b][1]);
        if (dp <= 0)
            return -1;
        sc[a] = dq / dp;
        lo = fmin(lo, sc[a]);
        hi = fmax(hi, sc[a]);
        sum += sc[a];
    }
    if (lo <= 0 || hi / lo > FID_STRETCH_MAX)
        return -1;
    double cp =
        (P[1][0] - P[0][0]) * (P[2][1] - P[0][1]) - (P[1][1] - P[0][1]) * (P[2][0] - P[0][0]);
    double cq =
        (Q[1][0] - Q[0][0]) * (Q[2][1] - Q[0][1]) - (Q[1][1] - Q[0][1]) * (Q[2][0] - Q[0][0]);
    if (cp * cq <= 0)
        return -1;
    double mean = sum / 3;
    double side_mm = (L->fiducials[0].w + L->fiducials[0].h) / 2;
    double cost = 0;
    for (int k = 0; k < 4; k++) {
        if (k == skip)
            continue;
        double rel = f[k]->side / (side_mm * mean);
        if (rel < 1 - FID_SIDE_TOLERANCE || rel > 1 + FID_SIDE_TOLERANCE ||
            f[k]->span < FID_SPAN_MIN * side_mm * mean)
            return -1;
        cost += fabs(log(rel));
    }
    for (int i = 0; i < 3; i++)
        cost += fabs(log(sc[i] / mean));
    *scale = mean;
    return cost;
}

/* Why the fiducial at image corner k (page fiducial pk), predicted at (x, y) pixels with
 * side px, was not found: cut off by the image's edge or the sheet's, covered by ink, or
 * not there. The paper between the mark and the page's corner (4 mm from both edges) tells
 * a cut sheet: it is off the image, or the scanner's dark lid shows there. A place dark in
 * its middle is ink over the mark unless one side of the square (0.35 sides out from its
 * centre, clear of the hole) is paper: then a part of the mark is not there (a clipped or
 * torn corner on white). */
static int missing_why(const phieu_layout *L, const phieu_image *page, const double h[9], int pk,
                       double x, double y, double side, double paper, double black)
{
    double half = side / 2, mid = paper - 0.5 * (paper - black);
    if (x - half < 0 || y - half < 0 || x + half > page->width || y + half > page->height)
        return OMR_MISSING_CUT;
    double mx = pk == PHIEU_FID_TL || pk == PHIEU_FID_BL ? 4 : L->page_w - 4;
    double my = pk == PHIEU_FID_TL || pk == PHIEU_FID_TR ? 4 : L->page_h - 4;
    double u, v;
    omr_apply(h, mx, my, &u, &v);
    int r = (int)(side / 6);
    if (u < 0 || v < 0 || u >= page->width || v >= page->height ||
        omr_patch_mean(page, u - 0.5, v - 0.5, r < 1 ? 1 : r) < mid)
        return OMR_MISSING_CUT;
    r = (int)(side / 3);
    if (omr_patch_mean(page, x - 0.5, y - 0.5, r < 1 ? 1 : r) >= mid)
        return OMR_MISSING_ABSENT;
    static const double out[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    const phieu_rect *f = &L->fiducials[pk];
    double d = 0.35 * f->w;
    r = (int)(side / 10);
    for (int k = 0; k < 4; k++) {
        omr_apply(h, rect_cx(f) + d * out[k][0], rect_cy(f) + d * out[k][1], &u, &v);
        if (omr_patch_mean(page, u - 0.5, v - 0.5, r < 1 ? 1 : r) >= mid)
            return OMR_MISSING_ABSENT;
    }
    return OMR_MISSING_INKED;
}

/* The cheapest choice of one candidate per image corner (none at corner `skip`, or all
 * four when skip is -1) over both orientations: its cost, or a negative value when no
 * combination is a page; the candidates in bi, the orientation in *bo. Combinations are
 * visited in rank order and the first of equal costs is kept, so the choice is the same on
 * every machine. */
static double cheapest_combination(const phieu_layout *L, cand cands[4][FID_MAX_CANDIDATES],
                                   const int nc[4], int skip, int bi[4], int *bo)
{
    int lim[4];
    for (int k = 0; k < 4; k++)
        lim[k] = k == skip ? 1 : nc[k];
    int total = lim[0] * lim[1] * lim[2] * lim[3];
    double best = -1;
    for (int o = 0; o < 2; o++) {
        int holed = o == 0 ? 2 : 0; /* the image corner whose fiducial has the hole */
        for (int n = 0; n < total; n++) {
            int idx[4], rest = n, okh = 1, rank = 0;
            for (int k = 3; k >= 0; k--) { /* corner 3 varies fastest */
                idx[k] = rest % lim[k];
                rest /= lim[k];
            }
            const omr_fiducial *f[4] = {NULL, NULL, NULL, NULL};
            for (int k = 0; k < 4; k++) {
                if (k == skip)
                    continue;
                f[k] = &cands[k][idx[k]].f;
                okh &= f[k]->hole == (k == holed);
                rank += idx[k];
            }
            if (!okh)
                continue;
            double scale;
            double c = skip < 0 ? combo_cost(L, f, o, &scale) : combo3_cost(L, f, skip, o, &scale);
            if (c < 0)
                continue;
            c += 0.05 * rank;
            if (best < 0 || c < best) {
                best = c;
                *bo = o;
                memcpy(bi, idx, sizeof idx);
            }
        }
    }
    return best;
}

/* Three fiducials that agree, the fourth missing or spoilt: the cheapest combination over
 * every corner left out, both orientations and the candidates; an affine transform from
 * the three. Returns 1 when found. */
static int register_three(const phieu_layout *L, const phieu_image *page,
                          cand cands[4][FID_MAX_CANDIDATES], const int nc[4], double side_px,
                          omr_registration *reg)
{
    double best = -1;
    int bi[4] = {0, 0, 0, 0}, bo = 0, bskip = -1;
    for (int skip = 0; skip < 4; skip++) {
        int i[4] = {0, 0, 0, 0}, o = 0;
        double c = cheapest_combination(L, cands, nc, skip, i, &o);
        if (c >= 0 && (best < 0 || c < best)) {
            best = c;
            bo = o;
            bskip = skip;
            memcpy(bi, i, sizeof bi);
        }
    }
    if (best < 0)
        return 0;
    double P[3][2], Q[3][2], black = 0, paper = 0;
    int m = 0;
    for (int k = 0; k < 4; k++) {
        if (k == bskip)
            continue;
        reg->fid[k] = cands[k][bi[k]].f;
        const phieu_rect *r = &L->fiducials[(k + 2 * bo) % 4];
        P[m][0] = rect_cx(r);
        P[m][1] = rect_cy(r);
        Q[m][0] = reg->fid[k].x;
        Q[m][1] = reg->fid[k].y;
        black += reg->fid[k].black;
        paper += reg->fid[k].paper;
        m++;
    }
    if (omr_affine(P, Q, reg->h) != 0)
        return 0;
    reg->black = black / 3;
    const phieu_rect *mr = &L->fiducials[(bskip + 2 * bo) % 4];
    omr_fiducial *mf = &reg->fid[bskip];
    memset(mf, 0, sizeof *mf);
    omr_apply(reg->h, rect_cx(mr), rect_cy(mr), &mf->x, &mf->y);
    mf->side = side_px;
    mf->black = reg->black;
    mf->paper = paper / 3;
    reg->missing = bskip;
    reg->missing_why = missing_why(L, page, reg->h, (bskip + 2 * bo) % 4, mf->x, mf->y, side_px,
                                   mf->paper, reg->black);
    reg->upside_down = bo;
    reg->ok = 1;
    return 1;
}

/* Pixels per mm of the page: its width over the form's, or its dpi tag when the two
 * agree. */
static double page_scale(const phieu_layout *L, const phieu_image *page)
{
    double s_geom = page->width / L->page_w;
    double spx = s_geom;
    if (page->dpi_x > 0) {
        double st = page->dpi_x / 25.4;
        /* Honour the tag when it agrees with the geometry (a scan wider than A4); a tag
         * far off (72 dpi written by some software) is ignored. */
        if (st / s_geom > 0.8 && st / s_geom < 1.25)
            spx = st;
    }
    return spx;
}

void omr_register(const phieu_layout *L, const phieu_image *page, omr_scratch *s,
                  omr_registration *reg)
{
    memset(reg, 0, sizeof *reg);
    reg->missing = -1;
    double spx = page_scale(L, page);
    double side_mm = (L->fiducials[0].w + L->fiducials[0].h) / 2;
    double side_px = side_mm * spx;
    double hole_px = (L->fiducial_hole.w + L->fiducial_hole.h) / 2 * spx;
    cand cands[4][FID_MAX_CANDIDATES];
    int nc[4];
    for (int k = 0; k < 4; k++) {
        /* Expected position of what sits at image corner k, upright and upside down,
         * measured from that image corner (a scan may be wider than the page). */
        const phieu_rect *up = &L->fiducials[k];
        const phieu_rect *down = &L->fiducials[(k + 2) % 4];
        double mx0 = rect_cx(up), my0 = rect_cy(up);
        double mx1 = L->page_w - rect_cx(down), my1 = L->page_h - rect_cy(down);
        double mx = (mx0 + mx1) / 2, my = (my0 + my1) / 2;
        /* The page is assumed centred on the scan (exact when the scan is A4). */
        double ex = page->width / 2.0 + (mx - L->page_w / 2) * spx;
        double ey = page->height / 2.0 + (my - L->page_h / 2) * spx;
        double excess = fmax(fabs(page->width / spx - L->page_w),
                             fabs(page->height / spx - L->page_h)) / 2;
        double radius = (FID_SEARCH_MM + side_mm + excess) * spx +
                        hypot(mx1 - mx0, my1 - my0) / 2 * spx;
        nc[k] = search_corner(page, ex, ey, radius, side_px, hole_px, s, cands[k]);
        if (nc[k] > 0)
            reg->found++;
    }
    if (reg->found < 3)
        return;
    int bi[4] = {0, 0, 0, 0}, bo = 0;
    double best = cheapest_combination(L, cands, nc, -1, bi, &bo);
    if (best < 0) {
        register_three(L, page, cands, nc, side_px, reg);
        return;
    }
    double P[4][2], Q[4][2];
    double black = 0;
    for (int k = 0; k < 4; k++) {
        reg->fid[k] = cands[k][bi[k]].f;
        const phieu_rect *r = &L->fiducials[(k + 2 * bo) % 4];
        P[k][0] = rect_cx(r);
        P[k][1] = rect_cy(r);
        Q[k][0] = reg->fid[k].x;
        Q[k][1] = reg->fid[k].y;
        black += reg->fid[k].black;
    }
    if (omr_homography(P, Q, reg->h) != 0)
        return;
    reg->black = black / 4;
    reg->upside_down = bo;
    reg->ok = 1;
}

/* Pixels per mm of the transform near page point (x, y). */
static double local_scale(const double h[9], double x, double y)
{
    double u0, v0, u1, v1;
    omr_apply(h, x, y, &u0, &v0);
    omr_apply(h, x + 1, y, &u1, &v1);
    return hypot(u1 - u0, v1 - v0);
}

/* Code cells are read at their centre, over a patch half the cell's size: enough pixels to
 * average noise away, far enough from the neighbours to survive blur and 0.5 mm of error. */
#define CODE_PATCH_SHARE 0.25
/* A code whose black and white differ by less than this (gray levels) is not read. */
#define CODE_MIN_CONTRAST 50.0

int omr_read_code(const phieu_layout *L, const phieu_image *page, const double h[9],
                  uint8_t bits[PHIEU_FORM_CODE_BITS])
{
    double v[PHIEU_FORM_CODE_BITS], white = 0;
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++) {
        const phieu_rect *c = &L->code_cells[i];
        double x, y;
        omr_apply(h, rect_cx(c), rect_cy(c), &x, &y);
        double sc = local_scale(h, rect_cx(c), rect_cy(c));
        int r = (int)(CODE_PATCH_SHARE * fmin(c->w, c->h) * sc);
        v[i] = omr_patch_mean(page, x - 0.5, y - 0.5, r);
        if (v[i] > white)
            white = v[i];
    }
    double black = 0;
    const phieu_rect *bars[2] = {&L->code_start, &L->code_end};
    for (int b = 0; b < 2; b++) {
        double x, y;
        omr_apply(h, rect_cx(bars[b]), rect_cy(bars[b]), &x, &y);
        double sc = local_scale(h, rect_cx(bars[b]), rect_cy(bars[b]));
        int r = (int)(CODE_PATCH_SHARE * fmin(bars[b]->w, bars[b]->h) * sc);
        black += omr_patch_mean(page, x - 0.5, y - 0.5, r) / 2;
    }
    if (white - black < CODE_MIN_CONTRAST)
        return -1;
    double t = (white + black) / 2;
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
        bits[i] = v[i] < t;
    return 0;
}
