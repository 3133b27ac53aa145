/*
 * omr.c - reading one page: registration (omr_register.c), the form code, every box
 * scored (omr_score.c), rows and the page decided, reasons written; also the thresholds,
 * the stable names and the JSON of a reading. The debug overlay is in omr_overlay.c,
 * the ink similarity of two readings in omr_similarity.c. Nothing here prints or keeps state.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "omr/omr_internal.h"
#include "phieu/alloc.h"

/* Defaults, measured on the generated samples (docs/recognition.md, "Thresholds"):
 * a box's score is the darkness-weighted share of its interior covered by new ink. */
#define TH_DEFAULT_MARKED 0.025
#define TH_DEFAULT_MARGINAL 0.010
#define TH_DEFAULT_INK 0.06

/* A blank page: sampled every 2 mm, fewer than 0.2 % of samples darker than paper by a
 * quarter of the gray range (show-through of a printed front stays lighter than that),
 * on paper that is at least mid-gray. */
#define BLANK_SAMPLE_MM 2.0
#define BLANK_DARK_LEVELS 64
#define BLANK_MAX_DARK_SHARE 0.002
#define BLANK_MIN_PAPER 128
/* A band across a box that carries on over the paper on both sides is a fold or crease,
 * not a hand's mark. It is looked for this far outside the box, over this much height
 * either way. Found in one box of a row only, it must also be lighter than this (a
 * generated crease is at most 0.3 of black; ballpoint and felt pen are 0.6 and more). */
#define FOLD_GAP_MM 4.5
#define FOLD_PROFILE_MM 1.2
#define FOLD_ALONE_MAX_DARKNESS 0.45
/* A hand's line drawn along a crease can be taken out with it: a vote of confidence with
 * a pen line across each box, along a fold, read as one choice, the fold having taken the
 * line in one box (deck seed 1209 p02924: 0.19 taken out, 0.186 left in the other box). A
 * box emptied so whose band carried a mark's worth and at least this share of what a box
 * of the row that counts holds may hold a like line, not just the crease: it goes to a
 * person. A crease alone carries far less than a pen line; a crease with a hesitation dot
 * on it carried 0.59 of a pen line drawn along the same crease in another box
 * (test_dot_on_fold), and that row is the pen line's vote. */
#define FOLD_LIKE_LINE 0.7
/* "Dark" out there is the mean of a patch this wide and tall (page mm), sampled every
 * FOLD_STEP_MM: one pixel's noise must not pass for a crease (on paper with sigma 4 the
 * darkest of 50 single pixels is 2.5 sigma, over the ink threshold), while a crease's
 * 0.15-0.3 mm core with its shadow still darkens a 0.3 mm tall patch by more than ink. */
#define FOLD_PATCH_W_MM 0.6
#define FOLD_PATCH_H_MM 0.3
#define FOLD_STEP_MM 0.1
/* A crease holds about as much ink per mm of its length inside a box as outside it; a
 * pencil line drawn along or just beside it holds several times more, however light it
 * is. Measured over the 1097 fold pages of deck seed 2026: creases alone 0.5-3.4 times
 * the crease outside (median column, so a dot on the crease does not count), hand lines
 * 3.6-19 (those from 5 up were taken for creases and lost: p01252 row 13, p08202 row 2).
 * The outside is the mean of FOLD_INK_COLUMNS columns. */
#define FOLD_INK_MAX_RATIO 4.5
#define FOLD_INK_COLUMNS 5
/* A fold's band inside a box is about as dark as the crease outside (its mean ink over
 * the darkest patch outside: 0.5-1.5 on the generated creases); a pen line along it is
 * 3 or more times darker. */
#define FOLD_INSIDE_MAX_RATIO 2.5
/* A crease's band is as dark inside a box as the crease is outside: its own darkness (the
 * darkest 0.3 mm of its median column, omr_score.c) against the darkest patch outside.
 * The band's mean darkness cannot tell: a thin pen line on a wide shadow is averaged with
 * the shadow (a 0.5 mm line at gray 60 along test_omr's crease: mean 1.5 times the crease
 * outside, its own darkness 4.4 times; it vanished with the crease). Measured over 1678
 * crease-only boxes (deck seed 1209 and a deck with a fold on every page): creases
 * 0.38-1.95, hand lines drawn along a fold 2.1-4.3. */
#define FOLD_PEAK_MAX_RATIO 2.2
/* A crease's band has its darkest point at one height in every column (their distances
 * from the median height: median 0.15 mm or less, the sampling step, in 1674 of 1678
 * crease-only boxes of decks seed 1209 and the fold deck, see docs/recognition.md "Folds");
 * a line slanting across the box climbs through the band (0.45 mm for one rising 1.6 mm
 * across a 7 mm box's interior; ticks across a crease up to 0.9), and is a hand's stroke
 * that crosses the crease, not the crease. The 4 creases that strayed more (0.3-0.6) were
 * lighter inside than outside: noise moves the darkest point of a faint core, so a band
 * counts as slanting only when its darkest points are darker than the crease outside. */
#define FOLD_SPREAD_MAX_MM 0.25
/* In a row with one clearly dominant mark, another box marked with a score under both
 * this and this share of the dominant one is more likely spill-over (a stroke's tail,
 * a smudge) than a second vote: the row goes to a person instead of an overvote.
 * Two marks of one voter score alike; an X scores 0.07 and more, the dominant marks
 * 0.15-0.97 (docs/recognition.md, "Thresholds"). The score share alone, without the
 * floor, would also send a tick beside a filled box (a real overvote: score share down
 * to 0.1, 5 % of ordinary overvotes under 0.32) to review. */
#define ROW_WEAK_MAX_SCORE 0.06
#define ROW_WEAK_MAX_SHARE 0.35
/* ... or, whatever its score, whose strokes are under this share as dark as the darkest
 * mark's: the residue of an erasure beside the mark that replaced it (issue 12: residues
 * scoring 0.063-0.08 escaped the floor above and read as confident overvotes). A stroke's
 * darkness is its core's, the darkness-weighted mean of its ink (omr_score.c): the plain
 * mean of a thin pencil tick is pulled down by its soft edges, while a rubbed-out residue
 * is wide and evenly light, so the plain mean let two residues beside light ticks read as
 * overvotes (deck seed 1212, p07253 and p09875: shares 0.60 and 0.65; cores 0.55, 0.54).
 * Measured on that deck (docs/recognition.md, "Weak second marks"): residues 0.16-0.55
 * of the mark beside them (70 rows), ordinary overvotes 0.56-1.0 (5594 rows, p1 0.76);
 * 22 of them, a tick or an X beside a fill or a scribble, go to review at 0.7. */
#define ROW_WEAK_CORE_SHARE 0.7
/* A row with no box marked goes to review when pen ink lies beside one of its boxes, or a
 * light line on both sides of it, over this share of the box's height: a circled box, or a
 * mark made next to it. A stroke from
 * outside that ends on a box rises little on its way (the generator's, at most 2 mm over
 * the 5 mm looked at; none of the 10,000-page deck's sent a row to review). */
#define ROW_BESIDE_MIN_SHARE 0.5

static const char *const th_names[PHIEU_TH_COUNT] = {"marked", "marginal", "ink"};
static const char *const th_words[PHIEU_TH_COUNT] = {
    "box score (darkness-weighted share of the interior covered by new ink) at or above "
    "which a box is marked",
    "box score at or above which (and below marked) a box is marginal and its row goes to "
    "review",
    "darkness below local paper white, as a share of the paper-to-black contrast, from "
    "which a pixel counts as ink",
};

void phieu_thresholds_default(phieu_thresholds *t)
{
    t->value[PHIEU_TH_MARKED] = TH_DEFAULT_MARKED;
    t->value[PHIEU_TH_MARGINAL] = TH_DEFAULT_MARGINAL;
    t->value[PHIEU_TH_INK] = TH_DEFAULT_INK;
}

const char *phieu_threshold_name(phieu_threshold_id id)
{
    return (int)id >= 0 && id < PHIEU_TH_COUNT ? th_names[id] : "unknown";
}

const char *phieu_threshold_description(phieu_threshold_id id)
{
    return (int)id >= 0 && id < PHIEU_TH_COUNT ? th_words[id] : "unknown threshold";
}

int phieu_thresholds_set(phieu_thresholds *t, const char *name, double value, phieu_error *err)
{
    if (!t || !name)
        return phieu_error_set(err, PHIEU_EINVAL, "no threshold given");
    int id = -1;
    for (int i = 0; i < PHIEU_TH_COUNT; i++)
        if (strcmp(name, th_names[i]) == 0)
            id = i;
    if (id < 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "unknown threshold '%s'; use marked, marginal or ink", name);
    if (!(value >= 0 && value <= 1))
        return phieu_error_set(err, PHIEU_EINVAL,
                               "threshold '%s' must be between 0 and 1, not %g", name, value);
    phieu_thresholds n = *t;
    n.value[id] = value;
    if (n.value[PHIEU_TH_MARGINAL] >= n.value[PHIEU_TH_MARKED])
        return phieu_error_set(err, PHIEU_EINVAL,
                               "threshold '%s' = %g would make marginal (%g) not less than "
                               "marked (%g); keep marginal below marked",
                               name, value, n.value[PHIEU_TH_MARGINAL],
                               n.value[PHIEU_TH_MARKED]);
    *t = n;
    return 0;
}

const char *phieu_page_status_name(int status)
{
    switch (status) {
    case PHIEU_PAGE_COUNTED: return "counted";
    case PHIEU_PAGE_REVIEW: return "review";
    case PHIEU_PAGE_REJECTED: return "rejected";
    case PHIEU_PAGE_BLANK: return "blank";
    default: return "unknown";
    }
}

const char *phieu_box_state_name(int state)
{
    switch (state) {
    case PHIEU_BOX_EMPTY: return "empty";
    case PHIEU_BOX_MARGINAL: return "marginal";
    case PHIEU_BOX_MARKED: return "marked";
    default: return "unknown";
    }
}

const char *phieu_row_decision_name(const phieu_form *form, int decision)
{
    if (decision >= 0)
        return form && decision < form->n_choices ? form->choices[decision].key : "unknown";
    switch (decision) {
    case PHIEU_ROW_BLANK: return "blank";
    case PHIEU_ROW_OVERVOTE: return "overvote";
    case PHIEU_ROW_REVIEW: return "review";
    default: return "unknown";
    }
}

/* ---- Scratch ----------------------------------------------------------------------- */

/* The coarse fiducial grid: a 110 mm window at a sixth of the 7 mm side is 95 x 95 cells;
 * scans wider than A4 widen it, and a coarser step keeps it within this cap. */
#define GRID_CAP (200 * 200)
#define BOX_STEP_MM 0.125
#define BOX_WINDOW_MARGIN_MM 2.0

int omr_scratch_init(omr_scratch *s, const phieu_layout *layout, const phieu_image *page)
{
    (void)page;
    memset(s, 0, sizeof *s);
    double mw = 0, mh = 0;
    for (int r = 0; r < layout->n_rows; r++)
        for (int c = 0; c < layout->n_choices; c++) {
            if (layout->boxes[r][c].w > mw)
                mw = layout->boxes[r][c].w;
            if (layout->boxes[r][c].h > mh)
                mh = layout->boxes[r][c].h;
        }
    if (mw > 30)
        mw = 30;
    if (mh > 30)
        mh = 30;
    long win = (long)(ceil((mw + 2 * BOX_WINDOW_MARGIN_MM) / BOX_STEP_MM) + 1) *
               (long)(ceil((mh + 2 * BOX_WINDOW_MARGIN_MM) / BOX_STEP_MM) + 1);
    s->grid_cap = GRID_CAP;
    s->win_cap = (int)win;
    long stack = win > GRID_CAP ? win : GRID_CAP;
    s->grid = phieu_malloc(GRID_CAP);
    s->stack = phieu_malloc(sizeof(int) * (size_t)stack);
    s->win = phieu_malloc((size_t)win);
    s->mask = phieu_malloc((size_t)win);
    s->labels = phieu_malloc(sizeof(int) * (size_t)win);
    if (!s->grid || !s->stack || !s->win || !s->mask || !s->labels) {
        omr_scratch_release(s);
        return PHIEU_ENOMEM;
    }
    return 0;
}

void omr_scratch_release(omr_scratch *s)
{
    phieu_free(s->grid);
    phieu_free(s->stack);
    phieu_free(s->win);
    phieu_free(s->mask);
    phieu_free(s->labels);
    memset(s, 0, sizeof *s);
}

/* ---- Reading ----------------------------------------------------------------------- */

static void add_reason(phieu_reading *r, const char *code, int row, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_reason(phieu_reading *r, const char *code, int row, const char *fmt, ...)
{
    if (r->n_reasons >= PHIEU_OMR_MAX_REASONS)
        return;
    phieu_reason *x = &r->reasons[r->n_reasons++];
    snprintf(x->code, sizeof x->code, "%s", code);
    x->row = row;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->text, sizeof x->text, fmt, ap);
    va_end(ap);
}

static int page_is_blank(const phieu_image *page, double page_w_mm)
{
    double spx = page->width / page_w_mm;
    int step = (int)(BLANK_SAMPLE_MM * spx);
    if (step < 1)
        step = 1;
    long hist[256] = {0}, n = 0;
    for (int y = step / 2; y < page->height; y += step) {
        const uint8_t *row = page->pixels + (size_t)y * page->stride;
        for (int x = step / 2; x < page->width; x += step) {
            hist[row[x]]++;
            n++;
        }
    }
    if (n == 0)
        return 1;
    long want = (long)(0.9 * (double)n), acc = 0;
    int paper = 255;
    for (int i = 0; i < 256; i++) {
        acc += hist[i];
        if (acc > want) {
            paper = i;
            break;
        }
    }
    if (paper < BLANK_MIN_PAPER)
        return 0;
    long dark = 0;
    for (int i = 0; i < paper - BLANK_DARK_LEVELS && i < 256; i++)
        dark += hist[i];
    return (double)dark / (double)n < BLANK_MAX_DARK_SHARE;
}

static int same_furniture(const phieu_layout *a, const phieu_layout *b)
{
    return memcmp(a->fiducials, b->fiducials, sizeof a->fiducials) == 0 &&
           memcmp(&a->fiducial_hole, &b->fiducial_hole, sizeof a->fiducial_hole) == 0 &&
           memcmp(a->code_cells, b->code_cells, sizeof a->code_cells) == 0;
}

/* A thin line through two or more boxes of the row at one height is a fold: its ink is
 * taken out of those boxes' scores (what else is in them still counts). */
/* True when the page is dark at page point (x, y mm) give or take FOLD_PROFILE_MM up or
 * down: the darkest pixel of that short vertical run, against the box's paper white. */
static double dark_near(const phieu_image *page, const double h[9], double x, double y,
                        const omr_box_extra *e, double ink)
{
    double best = 0;
    int nx = (int)lround(FOLD_PATCH_W_MM / FOLD_STEP_MM), ny = (int)lround(FOLD_PATCH_H_MM / FOLD_STEP_MM);
    for (double d = -FOLD_PROFILE_MM; d <= FOLD_PROFILE_MM + 1e-9; d += FOLD_STEP_MM / 2) {
        double sum = 0;
        int cnt = 0;
        for (int j = 0; j <= ny; j++)
            for (int i = 0; i <= nx; i++) {
                double u, v;
                omr_apply(h, x + (i - nx / 2.0) * FOLD_STEP_MM,
                          y + d + (j - ny / 2.0) * FOLD_STEP_MM, &u, &v);
                int px = (int)floor(u), py = (int)floor(v);
                if (px < 0 || py < 0 || px >= page->width || py >= page->height)
                    continue;
                sum += page->pixels[(size_t)py * page->stride + px];
                cnt++;
            }
        double dk = cnt > 0 ? (e->paper - sum / cnt) / e->contrast : 0;
        if (dk >= ink && dk > best)
            best = dk;
    }
    return best;
}

/* A crease's ink per mm of its length at page point (x, y mm): the darkness of the ink
 * (samples at or past `ink`) summed over FOLD_PROFILE_MM up and down, times the step, as
 * the mean of FOLD_INK_COLUMNS columns FOLD_STEP_MM apart. Comparable with
 * omr_box_extra.line_ink_mm of a band inside a box. */
static double crease_ink(const phieu_image *page, const double h[9], double x, double y,
                         const omr_box_extra *e, double ink)
{
    double total = 0;
    for (int k = 0; k < FOLD_INK_COLUMNS; k++) {
        double cx = x + (k - (FOLD_INK_COLUMNS - 1) / 2.0) * FOLD_STEP_MM;
        for (double d = -FOLD_PROFILE_MM; d <= FOLD_PROFILE_MM + 1e-9; d += FOLD_STEP_MM) {
            double u, v;
            omr_apply(h, cx, y + d, &u, &v);
            int px = (int)floor(u), py = (int)floor(v);
            if (px < 0 || py < 0 || px >= page->width || py >= page->height)
                continue;
            double dk = (e->paper - page->pixels[(size_t)py * page->stride + px]) / e->contrast;
            if (dk >= ink)
                total += (dk > 1 ? 1 : dk) * FOLD_STEP_MM;
        }
    }
    return total / FOLD_INK_COLUMNS;
}

/* How dark a box's band is (mean darkness of its ink): when all else in the box is
 * within one dot, the band's even part only, so that a dot on a crease does not make the
 * crease look like a pen line. */
static double band_darkness(const omr_box_extra *e)
{
    if (e->fold_dot)
        return e->band_even_dark;
    return e->line_n > 0 ? e->line_dark / e->line_n : 0;
}

/* 1 when the thin band e found in box a is a crease's: it carries on over the paper on
 * both sides of the box, and is no darker inside the box than out there. Notes in
 * e->band_hand whether the band also holds a hand's line: one darker than the crease
 * outside, or slanting across the band. */
static int on_crease(const phieu_rect *a, const phieu_image *page, const omr_registration *reg,
                     omr_box_extra *e, const phieu_thresholds *th)
{
    /* Its band carries on over the paper 3 mm out on both sides of the box. */
    double y = e->line_y_mm, ink = th->value[PHIEU_TH_INK];
    double left = dark_near(page, reg->h, a->x - FOLD_GAP_MM, y, e, ink);
    double right = dark_near(page, reg->h, a->x + a->w + FOLD_GAP_MM, y, e, ink);
    double outside = left < right ? left : right;
    /* The band in the box is no darker than the crease outside it: a hand's line
     * drawn beside a fold is much darker than the crease and stays a mark. */
    double inside = band_darkness(e);
    double out_ink = fmin(crease_ink(page, reg->h, a->x - FOLD_GAP_MM, y, e, ink),
                          crease_ink(page, reg->h, a->x + a->w + FOLD_GAP_MM, y, e, ink));
    e->band_hand = e->band_peak > FOLD_PEAK_MAX_RATIO * outside ||
                   (e->band_spread_mm > FOLD_SPREAD_MAX_MM && e->band_peak > outside);
    return outside > 0 && inside <= FOLD_INSIDE_MAX_RATIO * outside &&
           e->line_ink_mm <= FOLD_INK_MAX_RATIO * out_ink;
}

/* After a crease was taken out of the boxes `members` of a row of n: a box left without a
 * mark whose band carried a mark's worth, and FOLD_LIKE_LINE of what a box of the row that
 * counts holds, is marginal (fold_line). */
static void like_lines(phieu_row_reading *row, int n, omr_box_extra *ex, const int *members,
                       int m, const phieu_thresholds *th)
{
    /* What a box that counts holds: its band, crease included, when the crease crossed
     * it too (its score is what is left of it), else its score. */
    double counted = 0;
    for (int c = 0; c < n; c++) {
        int member = 0;
        for (int k = 0; k < m; k++)
            member |= members[k] == c;
        if (row->boxes[c].state == PHIEU_BOX_MARKED)
            counted = fmax(counted, member ? ex[c].line_score : row->boxes[c].score);
    }
    for (int k = 0; counted > 0 && k < m; k++) {
        int c = members[k];
        if (row->boxes[c].state != PHIEU_BOX_MARKED &&
            ex[c].line_score >= th->value[PHIEU_TH_MARKED] &&
            ex[c].line_score >= FOLD_LIKE_LINE * counted) {
            row->boxes[c].state = PHIEU_BOX_MARGINAL;
            ex[c].fold_line = 1;
        }
    }
}

/* What the crease alone leaves in each box it crosses: the band of *least, and base, the
 * least ink per column of a band, both among the members whose band holds no hand's line.
 * 0 when every band holds one: then nothing is known to be the crease's alone, and a line
 * is not taken out as the least band (a vote of confidence with a pen line along the
 * crease in one box and one across it in the other read blank so). */
static int crease_share(const omr_box_extra *ex, const int *members, int m, int *least,
                        double *base)
{
    *least = -1;
    for (int k = 0; k < m; k++) {
        const omr_box_extra *e = &ex[members[k]];
        if (e->band_hand)
            continue;
        if (*least < 0 || e->band_base < *base)
            *base = e->band_base;
        if (*least < 0 || e->line_score < ex[*least].line_score)
            *least = members[k];
    }
    return *least >= 0;
}

static void remove_fold(const phieu_layout *L, int r, const phieu_image *page,
                        const omr_registration *reg, phieu_row_reading *row, omr_box_extra *ex,
                        int n, const phieu_thresholds *th)
{
    /* Boxes whose thin band carries on over the paper 3 mm out on both sides, where no
     * hand's stroke across one box reaches and no printed line lies. */
    int members[PHIEU_FORM_MAX_CHOICES], m = 0;
    for (int c = 0; c < n; c++) {
        if (ex[c].thin_line && on_crease(&L->boxes[r][c], page, reg, &ex[c], th))
            members[m++] = c;
    }
    if (m < 1)
        return;
    /* One box alone: only a light line is a crease; a dark one may be a hand's long stroke
     * across the box, which must not vanish, and so may one holding a hand's line. */
    if (m == 1 &&
        (ex[members[0]].band_hand ||
         (ex[members[0]].line_n > 0 && band_darkness(&ex[members[0]]) >= FOLD_ALONE_MAX_DARKNESS)))
        return;
    /* The fold leaves about the same ink in every box it crosses; take that much (the
     * least of the bands that are the crease's alone) out of each, so a hand's line along
     * the fold still counts. */
    int least;
    double base = 0;
    if (!crease_share(ex, members, m, &least, &base))
        return;
    for (int k = 0; k < m; k++) {
        int c = members[k];
        phieu_box_reading *b = &row->boxes[c];
        ex[c].faint = 0; /* the faint ink was the fold's shadow */
        double score = b->score - ex[least].line_score;
        double cov = b->coverage - ex[least].line_cov;
        long left = ex[c].ink_n - ex[least].line_n;
        double dark = ex[c].dark_sum - ex[least].line_dark;
        b->score = (float)(score > 0 ? score : 0);
        b->coverage = (float)(cov > 0 ? cov : 0);
        b->darkness = left > 0 && dark > 0 ? (float)(dark / left) : 0.0f;
        /* The dot rule holds across a fold: with the fold's even ink set aside, what is
         * left within one dot (a hesitation dot beside or on the crease, whose band also
         * took part of it) is no mark, unless the band itself carries a hand's line: a
         * mark's worth more ink in every column than the crease leaves in the least box (a
         * 0.5 mm pen line adds 0.08; a dot beside the crease widens the band by up to 0.012
         * in the test of test_dot_on_fold, which is noise of the crease's shadow). */
        if (!ex[c].band_hand && ex[c].fold_dot &&
            ex[c].band_base - base < th->value[PHIEU_TH_MARKED])
            ex[c].dot_only = 1;
        omr_classify(b, &ex[c], th);
    }
    like_lines(row, n, ex, members, m, th);
}

/* The reason a marginal box sends its row to review, in words a supervisor can check on
 * the paper: a faint mark, a covered outline, faint ink, or a score between thresholds. */
static void marginal_reason(const phieu_form *form, const phieu_row_reading *row, int c,
                            const omr_box_extra *e, const phieu_thresholds *th, phieu_reading *r)
{
    const phieu_box_reading *b = &row->boxes[c];
    if (e->fold_line)
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': a line along a crease was set aside as the crease, but "
                   "a like line in another box of the row counts as a mark; look at the paper",
                   row->row, form->choices[c].key);
    else if (e->faint)
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': a faint mark (lighter than the ink threshold) "
                   "covers part of the box",
                   row->row, form->choices[c].key);
    else if (omr_edge_mark(b, e, th) && e->edge_score < th->value[PHIEU_TH_MARKED])
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': a stroke runs along its printed outline, on the line "
                   "or beside it, and reaches inside it at its edge (the line, and in a gray "
                   "scan its blur, hide the rest); the mark may be drawn on the edge",
                   row->row, form->choices[c].key);
    else if (omr_edge_mark(b, e, th))
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': ink runs along the inside of its outline (a mark's "
                   "worth, score %.4f, left out as a stroke grazing the edge); the mark may "
                   "be drawn on the edge",
                   row->row, form->choices[c].key, e->edge_score);
    else if (e->covered)
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': part of its printed outline is missing (the box "
                   "may be covered or whited out)",
                   row->row, form->choices[c].key);
    else if (b->score >= th->value[PHIEU_TH_MARKED])
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': score %.4f, but its ink is faint (mean darkness "
                   "%.2f of black)",
                   row->row, form->choices[c].key, b->score, b->darkness);
    else
        add_reason(r, "marginal-mark", row->row,
                   "row %d, box '%s': score %.4f is between marginal %.4f and marked "
                   "%.4f (a faint or unclear mark)",
                   row->row, form->choices[c].key, b->score, th->value[PHIEU_TH_MARGINAL],
                   th->value[PHIEU_TH_MARKED]);
}

/* In a row with two or more marked boxes, a weak one beside a clearly dominant one (spill
 * over, a smudge, an erasure's residue) goes to a person rather than making an overvote:
 * the weak box with the reason written, or -1. */
static int weak_second(const phieu_form *form, const phieu_row_reading *row,
                       const omr_box_extra *ex, int n, phieu_reading *r)
{
    int top = -1, darkest = -1, strong = -1, weak = -1;
    for (int c = 0; c < n; c++)
        if (row->boxes[c].state == PHIEU_BOX_MARKED) {
            if (top < 0 || row->boxes[c].score > row->boxes[top].score)
                top = c;
            if (darkest < 0 || ex[c].core_darkness > ex[darkest].core_darkness)
                darkest = c;
        }
    for (int c = 0; c < n && weak < 0; c++) {
        const phieu_box_reading *b = &row->boxes[c];
        if (b->state != PHIEU_BOX_MARKED)
            continue;
        if (ex[c].core_darkness < ROW_WEAK_CORE_SHARE * ex[darkest].core_darkness)
            weak = c, strong = darkest;
        else if (b->score < ROW_WEAK_MAX_SCORE &&
                 b->score < ROW_WEAK_MAX_SHARE * row->boxes[top].score)
            weak = c, strong = top;
    }
    if (weak >= 0)
        add_reason(r, "weak-second-mark", row->row,
                   "row %d: box '%s' (score %.4f, strokes %.2f of black) is much lighter "
                   "than box '%s' (score %.4f, strokes %.2f of black): an erased mark, a "
                   "smudge or a second vote",
                   row->row, form->choices[weak].key, row->boxes[weak].score,
                   ex[weak].core_darkness, form->choices[strong].key,
                   row->boxes[strong].score, ex[strong].core_darkness);
    return weak;
}

/* The row's decision from its boxes' states: one choice, blank, overvote, or review when
 * any box is marginal or a second mark is weak. */
static void decide_row(const phieu_form *form, phieu_row_reading *row, const omr_box_extra *ex,
                       int n, const phieu_thresholds *th, phieu_reading *r)
{
    int marked = 0, marginal = 0, which = -1;
    for (int c = 0; c < n; c++) {
        if (row->boxes[c].state == PHIEU_BOX_MARKED) {
            marked++;
            which = c;
        } else if (row->boxes[c].state == PHIEU_BOX_MARGINAL) {
            marginal++;
            marginal_reason(form, row, c, &ex[c], th, r);
        }
    }
    int weak = marginal == 0 && marked >= 2 ? weak_second(form, row, ex, n, r) : -1;
    if (marginal > 0 || weak >= 0)
        row->decision = PHIEU_ROW_REVIEW;
    else if (marked == 1)
        row->decision = which;
    else if (marked == 0)
        row->decision = PHIEU_ROW_BLANK;
    else
        row->decision = PHIEU_ROW_OVERVOTE;
}

/* A page registered from three corner marks is read only when the printed table confirms
 * the transform where the fourth should be: the box outlines of the two rows nearest the
 * missing corner are re-found (omr_score_box's local search, +-0.8 mm) within this
 * distance of where the affine transform puts them. Three right fiducials put them within
 * about 0.2 mm (the page's own stretch and the scan's); three that only look right (a
 * stamp's blob taken for a corner mark) miss by more than the search. */
#define CONFIRM_MAX_OFFSET_MM 0.6
#define CONFIRM_ROWS 2

static const char *const corner_names[4] = {"top-left", "top-right", "bottom-right",
                                            "bottom-left"};

/* How many of the boxes nearest the missing corner are found where the transform says
 * (*checked: how many were looked at). */
static int confirm_missing(const phieu_layout *L, const phieu_image *page,
                           const omr_registration *reg, const phieu_thresholds *th,
                           omr_scratch *s, int *checked)
{
    int corner = (reg->missing + 2 * reg->upside_down) % 4; /* on the printed page */
    int top = corner == PHIEU_FID_TL || corner == PHIEU_FID_TR;
    int ok = 0;
    *checked = 0;
    for (int i = 0; i < CONFIRM_ROWS && i < L->n_rows; i++) {
        int r = top ? i : L->n_rows - 1 - i;
        for (int c = 0; c < L->n_choices; c++) {
            phieu_box_reading b;
            omr_box_extra e;
            omr_score_box(L, &L->boxes[r][c], page, reg, th, s, &b, &e);
            (*checked)++;
            if (!e.covered && fabs(e.found_dx_mm) <= CONFIRM_MAX_OFFSET_MM &&
                fabs(e.found_dy_mm) <= CONFIRM_MAX_OFFSET_MM)
                ok++;
        }
    }
    return ok;
}

/* The table's frame near the missing corner: at CONFIRM_FRAME_POINTS points along each of
 * its two sides there, from CONFIRM_FRAME_FROM_MM out of the corner every
 * CONFIRM_FRAME_STEP_MM, a profile of +-CONFIRM_FRAME_REACH_MM across the side holds
 * ink where the transform puts the frame's line (within CONFIRM_MAX_OFFSET_MM). A point
 * whose profile holds no ink a third as dark as the corner marks (under a seal, a cut, a
 * tear) says nothing; a point where an inner rule crosses the profile is not used. */
#define CONFIRM_FRAME_POINTS 5
#define CONFIRM_FRAME_FROM_MM 3.0
#define CONFIRM_FRAME_STEP_MM 4.0
#define CONFIRM_FRAME_REACH_MM 1.5
#define CONFIRM_FRAME_MIN_DARK 0.35
#define CONFIRM_FRAME_RULE_CLEAR_MM 1.0

/* Whether position p (mm) lies within CONFIRM_FRAME_RULE_CLEAR_MM of any of n rules. */
static int near_rule(double p, const double *rules, int n)
{
    for (int k = 0; k < n; k++)
        if (fabs(p - rules[k]) < CONFIRM_FRAME_RULE_CLEAR_MM)
            return 1;
    return 0;
}

/* One point of the frame: the line expected at `at` (y for a horizontal side, x for a
 * vertical one) seen from `along`. 1 when ink a third as dark as the corner marks lies
 * within CONFIRM_MAX_OFFSET_MM of it, 0 when such ink lies only farther off (text of the
 * header can), -1 when the profile holds none. */
static int frame_point(const phieu_image *page, const omr_registration *reg, int horizontal,
                       double at, double along)
{
    double g[128], paper = 0;
    int n = 0;
    for (double d = -CONFIRM_FRAME_REACH_MM; d <= CONFIRM_FRAME_REACH_MM + 1e-9 && n < 128;
         d += 0.05, n++) {
        double u, v, sum = 0;
        int cnt = 0;
        for (int k = -1; k <= 1; k++) { /* three samples 0.2 mm apart along the line */
            double x = horizontal ? along + 0.2 * k : at + d;
            double y = horizontal ? at + d : along + 0.2 * k;
            omr_apply(reg->h, x, y, &u, &v);
            int px = (int)floor(u), py = (int)floor(v);
            if (px < 0 || py < 0 || px >= page->width || py >= page->height)
                continue;
            sum += page->pixels[(size_t)py * page->stride + px];
            cnt++;
        }
        if (cnt == 0)
            return -1;
        g[n] = sum / cnt;
        paper = g[n] > paper ? g[n] : paper;
    }
    if (paper - reg->black <= 0)
        return -1;
    double nearest = -1;
    for (int i = 0; i < n; i++) {
        double d = fabs(-CONFIRM_FRAME_REACH_MM + 0.05 * i);
        if (paper - g[i] >= CONFIRM_FRAME_MIN_DARK * (paper - reg->black) &&
            (nearest < 0 || d < nearest))
            nearest = d;
    }
    if (nearest < 0)
        return -1;
    return nearest <= CONFIRM_MAX_OFFSET_MM;
}

/* How many frame points near the printed corner `corner` are seen (*seen) and in place. */
static int confirm_frame(const phieu_layout *L, const phieu_image *page,
                         const omr_registration *reg, int corner, int *seen)
{
    const phieu_rect *t = &L->table;
    double half = 0.2; /* half the frame's width: its outer edge is the table's */
    int top = corner == PHIEU_FID_TL || corner == PHIEU_FID_TR;
    int left = corner == PHIEU_FID_TL || corner == PHIEU_FID_BL;
    double hy = top ? t->y + half : t->y + t->h - half;
    double vx = left ? t->x + half : t->x + t->w - half;
    double row_rules[PHIEU_FORM_MAX_ROWS + 1];
    int n_row_rules = 0;
    row_rules[n_row_rules++] = t->y + L->header_row_h;
    for (int r = 0; r < L->n_rows; r++)
        row_rules[n_row_rules++] = L->rows[r].y;
    int ok = 0;
    *seen = 0;
    for (int k = 0; k < CONFIRM_FRAME_POINTS; k++) {
        double d = CONFIRM_FRAME_FROM_MM + k * CONFIRM_FRAME_STEP_MM;
        double x = left ? t->x + d : t->x + t->w - d;
        double y = top ? t->y + d : t->y + t->h - d;
        int found;
        if (!near_rule(x, L->column_x, L->n_columns + 1) &&
            (found = frame_point(page, reg, 1, hy, x)) >= 0)
            (*seen)++, ok += found;
        if (!near_rule(y, row_rules, n_row_rules) && (found = frame_point(page, reg, 0, vx, y)) >= 0)
            (*seen)++, ok += found;
    }
    return ok;
}

/* 0 when config and page can be read, else the error (the caller's mistake, not the
 * page's). */
static int check_config(const phieu_omr_config *config, const phieu_image *page,
                        const phieu_reading *out, phieu_error *err)
{
    if (!config || !page || !out || !page->pixels || page->width <= 0 || page->height <= 0)
        return phieu_error_set(err, PHIEU_EINVAL, "omr: no page or no configuration given");
    if (config->n_forms < 1 || !config->forms || !config->layouts)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "omr: no form given; name at least one form to read against");
    for (int i = 0; i < config->n_forms; i++)
        if (!config->forms[i])
            return phieu_error_set(err, PHIEU_EINVAL, "omr: form %d of %d is missing", i + 1,
                                   config->n_forms);
    return 0;
}

/* Scratch for the largest box of any form: the page may be any of them. */
static int scratch_for_forms(const phieu_omr_config *config, const phieu_image *page,
                             omr_scratch *s)
{
    int big = 0;
    for (int i = 1; i < config->n_forms; i++)
        if (config->layouts[i].boxes[0][0].w * config->layouts[i].boxes[0][0].h >
            config->layouts[big].boxes[0][0].w * config->layouts[big].boxes[0][0].h)
            big = i;
    return omr_scratch_init(s, &config->layouts[big], page);
}

/* Why a page that could not be registered is not read: blank, or not (recognisably) one
 * of our ballots. */
static void not_registered(const phieu_image *page, const phieu_layout *L,
                           const omr_registration *reg, phieu_reading *out)
{
    if (reg->found == 0 && page_is_blank(page, L->page_w)) {
        out->status = PHIEU_PAGE_BLANK;
        add_reason(out, "blank-page", 0, "the page has no print and no marks (a blank "
                                         "back side or an empty sheet)");
        return;
    }
    add_reason(out, "not-registered", 0,
               "found %d of the 4 corner marks with the right shape; the page may "
               "be another document, badly skewed, cut off, or its corner marks "
               "damaged",
               reg->found);
}

static void set_transform(phieu_reading *out, const omr_registration *reg)
{
    memcpy(out->transform, reg->h, sizeof out->transform);
    out->upside_down = reg->upside_down;
}

/* The page's form: config->forms[forced] when forced >= 0 (the board has said which form
 * it is), else the one its code names. Returns its index, or -1 with the reason in out.
 * *L and *reg are those of the first form, against which the page was registered; they
 * become the form's, and the page is registered again when the form's corner marks lie
 * elsewhere. */
static int identify_form(const phieu_omr_config *config, int forced, const phieu_image *page,
                         omr_scratch *s, const phieu_layout **L, omr_registration *reg,
                         phieu_reading *out)
{
    uint8_t bits[PHIEU_FORM_CODE_BITS];
    phieu_form_code code;
    phieu_error derr = {0};
    int code_ok = omr_read_code(*L, page, reg->h, bits) == 0 &&
                  phieu_form_code_decode(bits, &code, &derr) == 0;
    set_transform(out, reg);
    if (forced >= 0) {
        /* The code only keeps its test flag: a test ballot is never counted in an
         * official session, whatever the board says. */
        out->test_ballot = code_ok ? (code.flags & PHIEU_FORM_CODE_FLAG_TEST) != 0
                                   : config->test_session != 0;
        add_reason(out, "form-set-by-board", 0,
                   "read as form '%s' by decision of the counting board",
                   config->forms[forced]->id);
        return forced;
    }
    if (!code_ok) {
        add_reason(out, "code-unreadable", 0,
                   "the form code at the bottom of the page cannot be read (damaged, covered or "
                   "not a phieu ballot)");
        return -1;
    }
    out->test_ballot = (code.flags & PHIEU_FORM_CODE_FLAG_TEST) != 0;
    int idx = -1;
    for (int i = 0; i < config->n_forms && idx < 0; i++)
        if (phieu_form_code_matches(&code, config->forms[i]))
            idx = i;
    if (idx < 0) {
        char hex[11];
        phieu_hex(code.fingerprint_prefix, 5, hex);
        add_reason(out, "wrong-form", 0,
                   "the form code names form %s..., which is not among the forms given "
                   "(a ballot of another election or council)",
                   hex);
        return -1;
    }
    if (idx != 0 && !same_furniture(*L, &config->layouts[idx])) {
        omr_registration again;
        omr_register(&config->layouts[idx], page, s, &again);
        if (!again.ok) {
            add_reason(out, "not-registered", 0,
                       "the corner marks do not match the layout of form '%s'",
                       config->forms[idx]->id);
            return -1;
        }
        *reg = again;
        set_transform(out, reg);
    }
    *L = &config->layouts[idx];
    return idx;
}

/* A test ballot never counts in an official session, nor an official ballot in a test
 * session: 0, or -1 with the reason in out. */
static int check_test_flag(const phieu_omr_config *config, phieu_reading *out)
{
    if (out->test_ballot && !config->test_session) {
        add_reason(out, "test-ballot", 0,
                   "this is a test ballot (PHIẾU THỬ); it is never counted in an official "
                   "session");
        return -1;
    }
    if (!out->test_ballot && config->test_session) {
        add_reason(out, "official-ballot-in-test-session", 0,
                   "this is an official ballot in a test session; keep official ballots "
                   "out of tests");
        return -1;
    }
    return 0;
}

/* A page registered from three corner marks is read only when the table confirms the
 * transform near the fourth (confirm_missing: its boxes; confirm_frame: its frame, when
 * seen): 0 with a note saying so, or -1 with the reason, the page then being no form's. */
static int confirm_three_corners(const phieu_layout *L, const phieu_image *page,
                                 const omr_registration *reg, const phieu_thresholds *th,
                                 omr_scratch *s, phieu_reading *out)
{
    static const char *const why[] = {
        "", "the edge of the scan or of the sheet cut it off",
        "ink over or touching it spoils its square",
        "it is not there (cut or torn off, covered with paper, or not printed)"};
    int checked, ok = confirm_missing(L, page, reg, th, s, &checked);
    int corner = (reg->missing + 2 * reg->upside_down) % 4;
    int seen, in_place = confirm_frame(L, page, reg, corner, &seen);
    /* The frame vetoes only when enough of it is seen and most of that is elsewhere: a
     * seal or a cut may hide it, which says nothing. */
    int frame_disagrees = seen >= 3 && 2 * in_place < seen;
    if (ok < 2 || 2 * ok < checked || frame_disagrees) {
        out->form_index = -1;
        add_reason(out, "not-registered", 0,
                   "found 3 of the 4 corner marks, but the %s one is missing (%s) and the "
                   "table is not where they put it (%d of %d boxes, %d of %d points of the "
                   "table's frame); scan the sheet again",
                   corner_names[corner], why[reg->missing_why], ok, checked, in_place, seen);
        return -1;
    }
    add_reason(out, "three-corners", -1,
               "registered from 3 corner marks: the %s one is missing (%s); %d of %d box "
               "outlines and %d of %d points of the table's frame near it confirm the place",
               corner_names[corner], why[reg->missing_why], ok, checked, in_place, seen);
    return 0;
}

/* A blank row goes to review when ink runs beside one of its boxes (a box circled, or a
 * mark made next to it): the voter meant something the boxes do not show. */
static void check_beside(const phieu_form *form, const phieu_layout *L, int r,
                         const phieu_image *page, const omr_registration *reg,
                         const omr_box_extra *ex, phieu_row_reading *row, phieu_reading *out)
{
    for (int c = 0; c < L->n_choices; c++) {
        omr_beside b = omr_beside_box(page, reg, &L->boxes[r][c], &ex[c]);
        if (b.pen >= ROW_BESIDE_MIN_SHARE) {
            row->decision = PHIEU_ROW_REVIEW;
            add_reason(out, "mark-beside-box", row->row,
                       "row %d: no box is marked, but pen ink runs beside box '%s' over "
                       "%.0f%% of its height (the box circled, or a mark made next to it)",
                       row->row, form->choices[c].key, 100 * b.pen);
            return;
        }
        if (b.ring >= ROW_BESIDE_MIN_SHARE) {
            row->decision = PHIEU_ROW_REVIEW;
            add_reason(out, "mark-beside-box", row->row,
                       "row %d: no box is marked, but a light line runs on both sides of "
                       "box '%s' over %.0f%% of its height (the box circled, perhaps in "
                       "light pencil)",
                       row->row, form->choices[c].key, 100 * b.ring);
            return;
        }
    }
}

/* Every row of a registered page of a known form: its boxes scored, a fold taken out, the
 * row decided; the page goes to review when any row does. */
static void read_rows(const phieu_form *form, const phieu_layout *L, const phieu_image *page,
                      const omr_registration *reg, const phieu_thresholds *th, omr_scratch *s,
                      phieu_reading *out)
{
    int n = L->n_choices;
    out->n_rows = L->n_rows;
    out->status = PHIEU_PAGE_COUNTED;
    for (int r = 0; r < L->n_rows; r++) {
        phieu_row_reading *row = &out->rows[r];
        omr_box_extra ex[PHIEU_FORM_MAX_CHOICES];
        row->row = r + 1;
        for (int c = 0; c < n; c++)
            omr_score_box(L, &L->boxes[r][c], page, reg, th, s, &row->boxes[c], &ex[c]);
        remove_fold(L, r, page, reg, row, ex, n, th);
        decide_row(form, row, ex, n, th, out);
        if (row->decision == PHIEU_ROW_BLANK)
            check_beside(form, L, r, page, reg, ex, row, out);
        if (row->decision == PHIEU_ROW_REVIEW)
            out->status = PHIEU_PAGE_REVIEW;
    }
}

/* The reading, with the scratch set up: register, identify the form, check the test flag
 * and a missing corner, then the rows. A page stopped on the way keeps the status set
 * before (rejected, or blank) and the reason why. */
static void read_registered(const phieu_omr_config *config, int forced, const phieu_image *page,
                            omr_scratch *s, phieu_reading *out)
{
    const phieu_layout *L = &config->layouts[forced >= 0 ? forced : 0];
    omr_registration reg;
    omr_register(L, page, s, &reg);
    if (!reg.ok) {
        not_registered(page, L, &reg, out);
        return;
    }
    int idx = identify_form(config, forced, page, s, &L, &reg, out);
    if (idx < 0)
        return;
    out->form_index = idx;
    if (check_test_flag(config, out) != 0)
        return;
    if (reg.missing >= 0 &&
        confirm_three_corners(L, page, &reg, &config->thresholds, s, out) != 0)
        return;
    read_rows(config->forms[idx], L, page, &reg, &config->thresholds, s, out);
}

/* Reads the page; forced < 0 identifies the form by its code, forced >= 0 reads it as
 * config->forms[forced] whatever its code says (a board decision, see phieu_omr_read_as). */
static int read_page(const phieu_omr_config *config, int forced, const phieu_image *page,
                     phieu_reading *out, phieu_error *err)
{
    int rc = check_config(config, page, out, err);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof *out);
    out->form_index = -1;
    out->status = PHIEU_PAGE_REJECTED;
    omr_scratch s;
    if (scratch_for_forms(config, page, &s) != 0)
        return phieu_error_set(err, PHIEU_ENOMEM, "omr: out of memory reading a page");
    read_registered(config, forced, page, &s, out);
    omr_scratch_release(&s);
    return 0;
}

int phieu_omr_read(const phieu_omr_config *config, const phieu_image *page, phieu_reading *out,
                   phieu_error *err)
{
    return read_page(config, -1, page, out, err);
}

int phieu_omr_read_as(const phieu_omr_config *config, int form_index, const phieu_image *page,
                      phieu_reading *out, phieu_error *err)
{
    if (config && (form_index < 0 || form_index >= config->n_forms))
        return phieu_error_set(err, PHIEU_EINVAL, "omr: form %d does not exist (%d forms)",
                               form_index + 1, config->n_forms);
    return read_page(config, form_index, page, out, err);
}

/* ---- JSON ------------------------------------------------------------------------- */

void phieu_omr_reading_json(const phieu_reading *r, const phieu_form *form, phieu_buf *out)
{
    phieu_buf_printf(out, "{\"status\":\"%s\",\"form\":", phieu_page_status_name(r->status));
    if (form && r->form_index >= 0)
        phieu_buf_json_string(out, form->id);
    else
        phieu_buf_puts(out, "null");
    phieu_buf_printf(out, ",\"test_ballot\":%s,\"upside_down\":%s,\"reasons\":[",
                     r->test_ballot ? "true" : "false", r->upside_down ? "true" : "false");
    for (int i = 0, first = 1; i < r->n_reasons; i++) {
        if (r->reasons[i].row < 0) /* a note, not a reason (how the page was registered) */
            continue;
        if (!first)
            phieu_buf_puts(out, ",");
        phieu_buf_json_string(out, r->reasons[i].code);
        first = 0;
    }
    phieu_buf_puts(out, "],\"notes\":[");
    for (int i = 0; i < r->n_reasons; i++) {
        phieu_buf_printf(out, "%s{\"code\":", i ? "," : "");
        phieu_buf_json_string(out, r->reasons[i].code);
        phieu_buf_printf(out, ",\"row\":%d,\"text\":", r->reasons[i].row);
        phieu_buf_json_string(out, r->reasons[i].text);
        phieu_buf_puts(out, "}");
    }
    phieu_buf_puts(out, "],\"rows\":[");
    int n = form ? form->n_choices : 0;
    for (int i = 0; i < r->n_rows && form; i++) {
        const phieu_row_reading *row = &r->rows[i];
        phieu_buf_printf(out, "%s{\"row\":%d,\"decision\":", i ? "," : "", row->row);
        phieu_buf_json_string(out, phieu_row_decision_name(form, row->decision));
        phieu_buf_puts(out, ",\"boxes\":[");
        for (int c = 0; c < n; c++) {
            const phieu_box_reading *b = &row->boxes[c];
            phieu_buf_printf(out, "%s{\"choice\":", c ? "," : "");
            phieu_buf_json_string(out, form->choices[c].key);
            phieu_buf_printf(out,
                             ",\"score\":%.4f,\"coverage\":%.4f,\"darkness\":%.4f,"
                             "\"state\":\"%s\"}",
                             (double)b->score, (double)b->coverage, (double)b->darkness,
                             phieu_box_state_name(b->state));
        }
        phieu_buf_puts(out, "]}");
    }
    phieu_buf_puts(out, "]}");
}
