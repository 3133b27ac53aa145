/*
 * layout.c - where everything goes on the A4 page of a ballot, in millimetres.
 * Pure arithmetic on the form (kind and row count): the same form always gives the same
 * layout. It does not draw (src/render/ does) and does not read scans (src/omr/ does).
 *
 * Functions: form_metrics_compute, form_text_width_mm, form_text_capacity_mm,
 *            phieu_layout_compute.
 */
#include <string.h>

#include "form/form_internal.h"

/* Corner fiducials: solid 7 mm squares whose outer edges are 8 mm from the page edges:
 * big enough to find at 150 dpi under a smudge, inside every printer's margin. The one at
 * the bottom right has a 3 mm white square hole so that a page turned 180 degrees is
 * recognised. */
#define FID_SIZE 7.0
#define FID_INSET 8.0
#define FID_HOLE 3.0

/* The council's seal: a round stamp of 30-36 mm struck over the council's name at the
 * top left. The zone starts 3 mm right of the top-left fiducial and ends 2 mm above the
 * table, so ink from the seal never reaches a fiducial, a box or the form code. */
#define SEAL_X 18.0
#define SEAL_Y 7.0
#define SEAL_W 40.0
#define SEAL_H 36.0

/* The table: full width between the fiducial columns; rows between TABLE_TOP + the header
 * row and TABLE_BOTTOM_MAX, 3 mm above the form code. */
#define TABLE_X 12.0
#define TABLE_W 186.0
#define TABLE_TOP 45.0
#define TABLE_HEADER_H 9.0      /* two lines of FORM_LABEL_PT plus padding */
#define TABLE_BOTTOM_MAX 280.0
/* Row pitch in tenths of mm: at most 12 mm (few rows look like a form, not a poster),
 * and (TABLE_BOTTOM_MAX - TABLE_TOP - TABLE_HEADER_H) / n otherwise: 7.5 mm at 30 rows. */
#define ROW_PITCH_MAX_T 120
/* Boxes: 7 mm when the pitch allows, 5 mm at 30 rows, with BOX_ROW_GAP of paper between
 * the boxes of adjacent rows: PHIEU_FORM_BOX_ROW_MARGIN_MM (1.25 mm) on each side of a
 * row line, more than the renderer keeps its rules from a box (1 mm plus half the rule),
 * so every row line is drawn whole and every box sits visibly inside its row. With 6 mm
 * boxes and 1.5 mm between them (before issue 13) the row lines broke around each box of
 * a 30-row ballot and the boxes seemed to cross them. A 5 mm box still takes a pen's X
 * (the generated marks are 55-110 % of the box; tests/e2e/read_samples.sh). */
#define BOX_MAX 7.0
#define BOX_ROW_GAP (2.0 * PHIEU_FORM_BOX_ROW_MARGIN_MM)
#define BOX_LINE 0.35 /* outline width: a 1 pt pen line, dark at 150 dpi */

/* Column widths (mm). Rating: STT | name | post | 3 x 20; confidence: 2 x 26. Each sums
 * to TABLE_W. 20 mm holds "Tín nhiệm thấp" at FORM_LABEL_PT on two lines; the post column
 * is the widest because one person may hold several posts. */
static const double rating_cols[6] = {10.0, 42.0, 74.0, 20.0, 20.0, 20.0};
static const double confidence_cols[5] = {10.0, 50.0, 74.0, 26.0, 26.0};

/* The form code along the bottom edge between the bottom fiducials, its centre line on
 * theirs: start bar, 1 mm gap, 64 cells of 2 x 5 mm, 1 mm gap, end bar; then the code
 * text (id, fingerprint prefix) on two lines before the bottom-right fiducial. */
#define CODE_X 18.0
#define CODE_H 5.0
#define CODE_BAR_W 2.0
#define CODE_GAP 1.0
#define CODE_CELL_W 2.0
#define CODE_TEXT_GAP 3.0

/* Header blocks. header_left: council (2 lines) and session; header_right: the national
 * motto. Title and instruction are centred on the page (105 mm) in the widest span that
 * stays right of the seal zone (58 mm): 58..152 mm. The test band runs from the seal zone
 * to the table's right edge, across the ballot. */
static const phieu_rect HEADER_LEFT = {18.0, 9.0, 80.0, 16.0};
static const phieu_rect HEADER_RIGHT = {102.0, 9.0, 90.0, 12.0};
static const phieu_rect TITLE = {58.0, 25.5, 94.0, 6.0};
static const phieu_rect INSTRUCTION = {58.0, 32.0, 94.0, 7.0};
static const phieu_rect TEST_BAND = {58.0, 39.5, 140.0, 4.5};

/* Line height as a multiple of the font size: DejaVu Sans ascent + descent is 1.164 em;
 * 1.2 leaves room. */
#define LINE_EM 1.2
#define MM_PER_PT (25.4 / 72.0)

void form_metrics_compute(phieu_form_kind kind, int n_rows, form_metrics *m)
{
    memset(m, 0, sizeof *m);
    if (n_rows < 1)
        n_rows = 1;
    int avail_t = (int)((TABLE_BOTTOM_MAX - TABLE_TOP - TABLE_HEADER_H) * 10.0 + 0.5);
    int pitch_t = avail_t / n_rows;
    if (pitch_t > ROW_PITCH_MAX_T)
        pitch_t = ROW_PITCH_MAX_T;
    m->row_pitch = pitch_t / 10.0;
    /* Box side in tenths of mm so that the value is exact and the same everywhere. */
    int box_t = pitch_t - (int)(BOX_ROW_GAP * 10.0 + 0.5);
    if (box_t > (int)(BOX_MAX * 10.0 + 0.5))
        box_t = (int)(BOX_MAX * 10.0 + 0.5);
    m->box = box_t / 10.0;
    /* Row text: the largest of 10..8 pt whose two lines fit the pitch less 0.6 mm. */
    m->font_pt = 8.0;
    for (int pt = 10; pt >= 8; pt--) {
        if (2.0 * LINE_EM * pt * MM_PER_PT <= m->row_pitch - 0.6) {
            m->font_pt = pt;
            break;
        }
    }
    const double *cols = kind == PHIEU_FORM_CONFIDENCE ? confidence_cols : rating_cols;
    int n_cols = kind == PHIEU_FORM_CONFIDENCE ? 5 : 6;
    for (int i = 0; i < n_cols; i++)
        m->col_w[i] = cols[i];
    m->name_w = cols[1] - 2 * FORM_CELL_PAD;
    m->post_w = cols[2] - 2 * FORM_CELL_PAD;
    m->label_w = cols[3] - 2 * FORM_CELL_PAD;
    m->council_w = HEADER_LEFT.w;
    m->session_w = HEADER_LEFT.w;
    m->title_w = TITLE.w;
    m->instruction_w = INSTRUCTION.w;
}

/* Notes:
 *  1. Average advances of DejaVu Sans in em, rounded up: lowercase Latin (with or
 *     without Vietnamese marks) 0.61 (a 0.613, n 0.634, m 0.974, i 0.278 ...) -> 0.62;
 *     capitals 0.72 (M 0.863, I 0.295) -> 0.80; the space 0.318 -> 0.32. Combining marks
 *     take no room. DejaVu Sans Bold is 10-14 % wider (a 0.675, n 0.712, o 0.687 em):
 *     x BOLD_FACTOR. test_form checks these against the font files on every shipped text.
 *  2. Vietnamese capitals: ASCII A-Z, Latin-1 U+00C0..U+00DE, and the even code points of
 *     the Latin Extended blocks used by Vietnamese (Ă U+0102, Đ U+0110, Ĩ U+0128,
 *     Ũ U+0168, Ơ U+01A0, Ư U+01AF and U+1EA0..U+1EF9 in pairs). */
#define BOLD_FACTOR 1.17

static int is_capital(unsigned cp)
{
    if (cp >= 'A' && cp <= 'Z')
        return 1;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return 1;
    if (cp == 0x102 || cp == 0x110 || cp == 0x128 || cp == 0x168 || cp == 0x1A0 ||
        cp == 0x1AF)
        return 1;
    if (cp >= 0x1EA0 && cp <= 0x1EF9 && cp % 2 == 0)
        return 1;
    return 0;
}

double form_text_width_mm(const char *s, double pt, int bold)
{
    const unsigned char *p = (const unsigned char *)s;
    double em = 0.0;
    while (*p) {
        unsigned cp = *p;
        int n = 1;
        if (cp >= 0xF0) {
            cp &= 0x07;
            n = 4;
        } else if (cp >= 0xE0) {
            cp &= 0x0F;
            n = 3;
        } else if (cp >= 0xC0) {
            cp &= 0x1F;
            n = 2;
        }
        for (int i = 1; i < n && (p[i] & 0xC0) == 0x80; i++)
            cp = (cp << 6) | (p[i] & 0x3F);
        for (int i = 0; i < n && *p; i++)
            p++;
        if (cp >= 0x300 && cp <= 0x36F)
            continue;
        em += cp == ' ' ? 0.32 : is_capital(cp) ? 0.80 : 0.62;
    }
    return em * pt * MM_PER_PT * (bold ? BOLD_FACTOR : 1.0);
}

double form_text_capacity_mm(double w, int lines)
{
    /* A wrapped line can end early by up to one word: count 80 % of each further line. */
    return lines <= 1 ? w : w + (lines - 1) * 0.8 * w;
}

static phieu_rect rect(double x, double y, double w, double h)
{
    phieu_rect r = {x, y, w, h};
    return r;
}

/* The form code, centred vertically on the bottom fiducials: start bar, cells, end bar,
 * and the printed text up to the right fiducial (right, bottom: its corner). */
static void layout_code(phieu_layout *out, double right, double bottom)
{
    double code_y = bottom + (FID_SIZE - CODE_H) / 2.0;
    out->code_start = rect(CODE_X, code_y, CODE_BAR_W, CODE_H);
    double x = CODE_X + CODE_BAR_W + CODE_GAP;
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
        out->code_cells[i] = rect(x + i * CODE_CELL_W, code_y, CODE_CELL_W, CODE_H);
    x += PHIEU_FORM_CODE_BITS * CODE_CELL_W + CODE_GAP;
    out->code_end = rect(x, code_y, CODE_BAR_W, CODE_H);
    x += CODE_BAR_W + CODE_TEXT_GAP;
    out->code_text = rect(x, code_y, right - CODE_TEXT_GAP - x, CODE_H);
}

/* The table: its columns, rows and each row's boxes, centred in their cells. */
static void layout_table(const phieu_form *form, const form_metrics *m, phieu_layout *out)
{
    out->n_columns = 3 + form->n_choices;
    out->column_x[0] = TABLE_X;
    for (int c = 0; c < out->n_columns; c++)
        out->column_x[c + 1] = out->column_x[c] + m->col_w[c];
    out->header_row_h = TABLE_HEADER_H;
    out->n_rows = form->n_rows;
    out->n_choices = form->n_choices;
    out->box_line_mm = BOX_LINE;
    out->font_pt = m->font_pt;
    double y0 = TABLE_TOP + TABLE_HEADER_H;
    for (int r = 0; r < form->n_rows; r++) {
        double ry = y0 + r * m->row_pitch;
        out->rows[r] = rect(TABLE_X, ry, TABLE_W, m->row_pitch);
        for (int c = 0; c < form->n_choices; c++) {
            double cx = out->column_x[3 + c];
            double cw = out->column_x[4 + c] - cx;
            out->boxes[r][c] = rect(cx + (cw - m->box) / 2.0, ry + (m->row_pitch - m->box) / 2.0,
                                    m->box, m->box);
        }
    }
    out->table = rect(TABLE_X, TABLE_TOP, TABLE_W, TABLE_HEADER_H + form->n_rows * m->row_pitch);
}

int phieu_layout_compute(const phieu_form *form, phieu_layout *out, phieu_error *err)
{
    if (!form || !out)
        return phieu_error_set(err, PHIEU_EINVAL, "layout: no form given");
    if (form->n_rows < 1 || form->n_rows > PHIEU_FORM_MAX_ROWS || form->n_choices < 2 ||
        form->n_choices > PHIEU_FORM_MAX_CHOICES)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "layout: form '%s' has %d rows and %d choices; a page holds "
                               "1-%d rows and 2-%d choices",
                               form->id ? form->id : "?", form->n_rows, form->n_choices,
                               PHIEU_FORM_MAX_ROWS, PHIEU_FORM_MAX_CHOICES);
    form_metrics m;
    form_metrics_compute(form->kind, form->n_rows, &m);
    memset(out, 0, sizeof *out);
    out->page_w = FORM_PAGE_W;
    out->page_h = FORM_PAGE_H;

    double right = FORM_PAGE_W - FID_INSET - FID_SIZE;
    double bottom = FORM_PAGE_H - FID_INSET - FID_SIZE;
    out->fiducials[PHIEU_FID_TL] = rect(FID_INSET, FID_INSET, FID_SIZE, FID_SIZE);
    out->fiducials[PHIEU_FID_TR] = rect(right, FID_INSET, FID_SIZE, FID_SIZE);
    out->fiducials[PHIEU_FID_BR] = rect(right, bottom, FID_SIZE, FID_SIZE);
    out->fiducials[PHIEU_FID_BL] = rect(FID_INSET, bottom, FID_SIZE, FID_SIZE);
    double hole_off = (FID_SIZE - FID_HOLE) / 2.0;
    out->fiducial_hole = rect(right + hole_off, bottom + hole_off, FID_HOLE, FID_HOLE);

    out->seal = rect(SEAL_X, SEAL_Y, SEAL_W, SEAL_H);
    out->header_left = HEADER_LEFT;
    out->header_right = HEADER_RIGHT;
    out->title = TITLE;
    out->instruction = INSTRUCTION;
    out->test_band = TEST_BAND;

    layout_code(out, right, bottom);
    layout_table(form, &m, out);
    return 0;
}
