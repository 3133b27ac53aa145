/*
 * render.c - draws one ballot from its layout with cairo + pango, into a PDF (one page per
 * copy, A4 at 100 %) or into an 8-bit gray raster at a given dpi.
 * Everything is drawn in millimetres from the layout (src/form/ computes it); this file
 * decides only type styles and the table rules, never where a box or a fiducial goes.
 * Reading the printed marks back is omr's job (src/omr/).
 */
#include "phieu/render.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/util.h"

/* A4 in PostScript points: 210 x 297 mm at 72 pt per inch of 25.4 mm. */
#define MM_TO_PT (72.0 / 25.4)
#define A4_W_PT (210.0 * MM_TO_PT)
#define A4_H_PT (297.0 * MM_TO_PT)
#define PT_TO_MM (25.4 / 72.0)

/* The one type family, from Debian's fonts-dejavu-core; it covers Vietnamese. */
#define RENDER_FONT_FAMILY "DejaVu Sans"

/* Table rules stop this far from any box so that a reader sees the box outline alone
 * (omr re-finds each box against its outline; a rule joining it would confuse that). */
#define RULE_BOX_CLEARANCE_MM 1.0
#define RULE_WIDTH_MM 0.25       /* inner table rules: thin, like a printed form */
#define TABLE_FRAME_WIDTH_MM 0.4 /* the table's outer frame */
#define CELL_PAD_MM 1.2          /* text keeps this far from a cell's edges */
#define MIN_TEXT_MM 1.2          /* about 3.4 pt: the smallest text we shrink to */
#define TEST_BAND_GRAY 0.85      /* light enough never to look like ink in a box */
#define TEST_TEXT_GRAY 0.0       /* black, bold: a test ballot must be impossible to miss */
#define PDF_CREATE_DATE "2023-07-01T00:00:00Z" /* fixed (NQ 96 in force) for same bytes */

/* DPI range of the contract (render.h). */
#define RASTER_DPI_MIN 150
#define RASTER_DPI_MAX 600

/* Where drawing goes: a PDF page (opaque gray colours) or an A8 surface where the alpha
 * channel is the ink (1 - gray), painted with OPERATOR_SOURCE so that antialiased edges
 * blend exactly as opaque gray would on paper. */
typedef struct canvas {
    cairo_t *cr;
    PangoContext *pango;
    int alpha_only;
} canvas;

static void set_gray(canvas *c, double gray)
{
    if (c->alpha_only)
        cairo_set_source_rgba(c->cr, 0, 0, 0, 1.0 - gray);
    else
        cairo_set_source_rgb(c->cr, gray, gray, gray);
}

static void fill_rect(canvas *c, phieu_rect r, double gray)
{
    set_gray(c, gray);
    cairo_rectangle(c->cr, r.x, r.y, r.w, r.h);
    cairo_fill(c->cr);
}

/* A square outline whose outer edge is exactly r. */
static void stroke_rect_inside(canvas *c, phieu_rect r, double width, double gray)
{
    set_gray(c, gray);
    cairo_set_line_width(c->cr, width);
    cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_MITER);
    cairo_rectangle(c->cr, r.x + width / 2, r.y + width / 2, r.w - width, r.h - width);
    cairo_stroke(c->cr);
}

typedef enum { ALIGN_LEFT, ALIGN_CENTER } text_align;

typedef struct text_style {
    double size_mm; /* starting size; shrunk until the text fits */
    int bold;
    int italic;
    text_align align;
    int max_lines; /* 1 = no wrapping */
    double gray;
} text_style;

/* Lays out text in rect (padded by pad), shrinking the size until it fits within
 * max_lines and the rect; returns the layout (caller unrefs) or NULL when out of memory. */
static PangoLayout *fit_text(canvas *c, const char *text, phieu_rect r, double pad,
                             const text_style *st, double *out_h, double *out_size)
{
    PangoLayout *layout = pango_layout_new(c->pango);
    PangoFontDescription *desc = pango_font_description_new();
    if (!layout || !desc) {
        if (layout)
            g_object_unref(layout);
        if (desc)
            pango_font_description_free(desc);
        return NULL;
    }
    pango_font_description_set_family(desc, RENDER_FONT_FAMILY);
    pango_font_description_set_weight(desc, st->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_style(desc, st->italic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
    double avail_w = r.w - 2 * pad, avail_h = r.h - 2 * pad;
    if (avail_w < 1)
        avail_w = r.w;
    if (avail_h < 1)
        avail_h = r.h;
    pango_layout_set_text(layout, text, -1);
    pango_layout_set_alignment(layout,
                               st->align == ALIGN_CENTER ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
    if (st->max_lines > 1) {
        pango_layout_set_width(layout, (int)(avail_w * PANGO_SCALE));
        pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    } else {
        pango_layout_set_width(layout, -1);
    }
    double size = st->size_mm, w = 0, h = 0;
    for (;;) {
        pango_font_description_set_absolute_size(desc, size * PANGO_SCALE);
        pango_layout_set_font_description(layout, desc);
        PangoRectangle ink, logical;
        pango_layout_get_extents(layout, &ink, &logical);
        w = (double)logical.width / PANGO_SCALE;
        h = (double)logical.height / PANGO_SCALE;
        int lines = pango_layout_get_line_count(layout);
        int fits = w <= avail_w + 1e-6 && h <= avail_h + 1e-6 && lines <= st->max_lines;
        if (fits || size <= MIN_TEXT_MM)
            break;
        size *= 0.94;
        if (size < MIN_TEXT_MM)
            size = MIN_TEXT_MM;
    }
    pango_font_description_free(desc);
    *out_h = h;
    if (out_size)
        *out_size = size;
    return layout;
}

/* Draws text in rect, vertically centred. Returns 0 or PHIEU_ENOMEM. */
static int draw_text(canvas *c, const char *text, phieu_rect r, double pad, const text_style *st)
{
    if (!text || !*text)
        return 0;
    double h;
    PangoLayout *layout = fit_text(c, text, r, pad, st, &h, NULL);
    if (!layout)
        return PHIEU_ENOMEM;
    double avail_w = r.w - 2 * pad;
    if (avail_w < 1)
        avail_w = r.w, pad = 0;
    double x = r.x + pad, y = r.y + (r.h - h) / 2;
    if (st->max_lines <= 1 && st->align == ALIGN_CENTER) {
        PangoRectangle logical;
        pango_layout_get_extents(layout, NULL, &logical);
        x = r.x + (r.w - (double)logical.width / PANGO_SCALE) / 2;
    }
    set_gray(c, st->gray);
    cairo_move_to(c->cr, x, y);
    pango_cairo_show_layout(c->cr, layout);
    g_object_unref(layout);
    return 0;
}

/* ---- Table rules that keep clear of the boxes --------------------------------------- */

/* Draws the segment from a to b along one axis at fixed position `at`, leaving gaps where
 * it would pass within RULE_BOX_CLEARANCE_MM of a box. horizontal: y = at, x from a to b. */
static void draw_rule(canvas *c, const phieu_layout *L, int horizontal, double at, double a,
                      double b, double width)
{
    double gaps[PHIEU_FORM_MAX_ROWS * PHIEU_FORM_MAX_CHOICES][2];
    int n = 0;
    double clear = RULE_BOX_CLEARANCE_MM + width / 2;
    for (int r = 0; r < L->n_rows; r++)
        for (int k = 0; k < L->n_choices; k++) {
            phieu_rect bx = L->boxes[r][k];
            double lo_across = horizontal ? bx.y : bx.x, hi_across = lo_across + (horizontal ? bx.h : bx.w);
            if (at < lo_across - clear || at > hi_across + clear)
                continue;
            double lo = (horizontal ? bx.x : bx.y) - clear;
            double hi = (horizontal ? bx.x + bx.w : bx.y + bx.h) + clear;
            gaps[n][0] = lo;
            gaps[n][1] = hi;
            n++;
        }
    /* Sort gaps by start (few of them; insertion sort). */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && gaps[j][0] < gaps[j - 1][0]; j--) {
            double t0 = gaps[j][0], t1 = gaps[j][1];
            gaps[j][0] = gaps[j - 1][0], gaps[j][1] = gaps[j - 1][1];
            gaps[j - 1][0] = t0, gaps[j - 1][1] = t1;
        }
    set_gray(c, 0.0);
    cairo_set_line_width(c->cr, width);
    cairo_set_line_cap(c->cr, CAIRO_LINE_CAP_SQUARE);
    double pos = a;
    for (int i = 0; i <= n; i++) {
        double end = i < n ? gaps[i][0] : b;
        if (end > b)
            end = b;
        if (end - pos > 0.05) {
            if (horizontal) {
                cairo_move_to(c->cr, pos, at);
                cairo_line_to(c->cr, end, at);
            } else {
                cairo_move_to(c->cr, at, pos);
                cairo_line_to(c->cr, at, end);
            }
        }
        if (i < n && gaps[i][1] > pos)
            pos = gaps[i][1];
    }
    cairo_stroke(c->cr);
    cairo_set_line_cap(c->cr, CAIRO_LINE_CAP_BUTT);
}

static void draw_table_rules(canvas *c, const phieu_layout *L)
{
    phieu_rect t = L->table;
    double fw = TABLE_FRAME_WIDTH_MM, h2 = fw / 2;
    /* Frame: its outer edge is the table rectangle. */
    draw_rule(c, L, 1, t.y + h2, t.x + h2, t.x + t.w - h2, fw);
    draw_rule(c, L, 1, t.y + t.h - h2, t.x + h2, t.x + t.w - h2, fw);
    draw_rule(c, L, 0, t.x + h2, t.y + h2, t.y + t.h - h2, fw);
    draw_rule(c, L, 0, t.x + t.w - h2, t.y + h2, t.y + t.h - h2, fw);
    /* Under the column titles, and between rows. */
    draw_rule(c, L, 1, t.y + L->header_row_h, t.x, t.x + t.w, RULE_WIDTH_MM);
    for (int r = 1; r < L->n_rows; r++)
        draw_rule(c, L, 1, L->rows[r].y, t.x, t.x + t.w, RULE_WIDTH_MM);
    /* Between columns. */
    for (int k = 1; k < L->n_columns; k++)
        draw_rule(c, L, 0, L->column_x[k], t.y, t.y + t.h, RULE_WIDTH_MM);
}

/* ---- The ballot ---------------------------------------------------------------------- */

static const char *const column_titles[3] = {"STT", "Họ và tên", "Chức vụ"};
static const char *const motto_1 = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM";
static const char *const motto_2 = "Độc lập - Tự do - Hạnh phúc";
static const char *const test_text = "PHIẾU THỬ – KHÔNG CÓ GIÁ TRỊ";

static phieu_rect sub_rect(phieu_rect r, double y0_frac, double y1_frac)
{
    phieu_rect s = {r.x, r.y + r.h * y0_frac, r.w, r.h * (y1_frac - y0_frac)};
    return s;
}

static int draw_headers(canvas *c, const phieu_form *form, const phieu_layout *L)
{
    double body = L->font_pt * PT_TO_MM;
    int rc = 0;
    /* Council (bold, upper half) and session (lower half), centred under the seal. */
    text_style council = {body * 1.05, 1, 0, ALIGN_CENTER, 1, 0.0};
    text_style session = {body, 0, 0, ALIGN_CENTER, 2, 0.0};
    rc |= draw_text(c, form->council, sub_rect(L->header_left, 0, 0.6), 0.3, &council);
    rc |= draw_text(c, form->session, sub_rect(L->header_left, 0.6, 1), 0.3, &session);
    /* National motto: bold, the second line underlined with a rule under its text. */
    text_style m1 = {body * 1.05, 1, 0, ALIGN_CENTER, 1, 0.0};
    phieu_rect hr = L->header_right;
    rc |= draw_text(c, motto_1, sub_rect(hr, 0, 0.45), 0.3, &m1);
    phieu_rect r2 = sub_rect(hr, 0.45, 0.9);
    double h2;
    PangoLayout *lay = fit_text(c, motto_2, r2, 0.3, &m1, &h2, NULL);
    if (!lay)
        return PHIEU_ENOMEM;
    PangoRectangle logical;
    pango_layout_get_extents(lay, NULL, &logical);
    double w2 = (double)logical.width / PANGO_SCALE;
    double x2 = r2.x + (r2.w - w2) / 2, y2 = r2.y + (r2.h - h2) / 2;
    set_gray(c, 0.0);
    cairo_move_to(c->cr, x2, y2);
    pango_cairo_show_layout(c->cr, lay);
    g_object_unref(lay);
    cairo_set_line_width(c->cr, 0.3);
    cairo_move_to(c->cr, x2 + w2 * 0.1, y2 + h2 + 0.5);
    cairo_line_to(c->cr, x2 + w2 * 0.9, y2 + h2 + 0.5);
    cairo_stroke(c->cr);
    /* Title and instruction. */
    text_style title = {body * 1.9, 1, 0, ALIGN_CENTER, 2, 0.0};
    text_style instr = {body, 0, 1, ALIGN_CENTER, 3, 0.0};
    rc |= draw_text(c, form->title, L->title, 0.2, &title);
    rc |= draw_text(c, form->instruction, L->instruction, 0.2, &instr);
    return rc ? PHIEU_ENOMEM : 0;
}

static int draw_table(canvas *c, const phieu_form *form, const phieu_layout *L)
{
    double body = L->font_pt * PT_TO_MM;
    int rc = 0;
    draw_table_rules(c, L);
    /* Column titles. */
    text_style head = {body, 1, 0, ALIGN_CENTER, 2, 0.0};
    for (int k = 0; k < L->n_columns; k++) {
        phieu_rect cell = {L->column_x[k], L->table.y, L->column_x[k + 1] - L->column_x[k],
                           L->header_row_h};
        const char *t = k < 3 ? column_titles[k] : form->choices[k - 3].label;
        rc |= draw_text(c, t, cell, CELL_PAD_MM * 0.6, &head);
    }
    /* Rows: number, name (one line), post (up to two lines). Names share one size, and
     * posts another: the largest at which every one of them fits its cell. */
    text_style num = {body, 0, 0, ALIGN_CENTER, 1, 0.0};
    text_style name = {body, 1, 0, ALIGN_LEFT, 1, 0.0};
    text_style post = {body * 0.92, 0, 0, ALIGN_LEFT, 2, 0.0};
    for (int r = 0; r < L->n_rows && r < form->n_rows; r++) {
        phieu_rect row = L->rows[r];
        phieu_rect c1 = {L->column_x[1], row.y, L->column_x[2] - L->column_x[1], row.h};
        phieu_rect c2 = {L->column_x[2], row.y, L->column_x[3] - L->column_x[2], row.h};
        double h, size;
        PangoLayout *lay = fit_text(c, form->rows[r].name, c1, CELL_PAD_MM, &name, &h, &size);
        if (!lay)
            return PHIEU_ENOMEM;
        g_object_unref(lay);
        name.size_mm = size;
        if (form->rows[r].post && form->rows[r].post[0]) {
            lay = fit_text(c, form->rows[r].post, c2, CELL_PAD_MM * 0.6, &post, &h, &size);
            if (!lay)
                return PHIEU_ENOMEM;
            g_object_unref(lay);
            post.size_mm = size;
        }
    }
    for (int r = 0; r < L->n_rows && r < form->n_rows; r++) {
        phieu_rect row = L->rows[r];
        char nbuf[16];
        snprintf(nbuf, sizeof nbuf, "%d", form->rows[r].number);
        phieu_rect c0 = {L->column_x[0], row.y, L->column_x[1] - L->column_x[0], row.h};
        phieu_rect c1 = {L->column_x[1], row.y, L->column_x[2] - L->column_x[1], row.h};
        phieu_rect c2 = {L->column_x[2], row.y, L->column_x[3] - L->column_x[2], row.h};
        rc |= draw_text(c, nbuf, c0, CELL_PAD_MM * 0.5, &num);
        rc |= draw_text(c, form->rows[r].name, c1, CELL_PAD_MM, &name);
        rc |= draw_text(c, form->rows[r].post, c2, CELL_PAD_MM * 0.6, &post);
        for (int k = 0; k < L->n_choices; k++)
            stroke_rect_inside(c, L->boxes[r][k], L->box_line_mm, 0.0);
    }
    return rc ? PHIEU_ENOMEM : 0;
}

static int draw_code(canvas *c, const phieu_form *form, const phieu_layout *L, int test)
{
    uint8_t bits[PHIEU_FORM_CODE_BITS];
    phieu_form_code_bits(form, test, bits);
    fill_rect(c, L->code_start, 0.0);
    fill_rect(c, L->code_end, 0.0);
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
        if (bits[i])
            fill_rect(c, L->code_cells[i], 0.0);
    /* Beside the code, what voters may read: a short neutral code, the fingerprint prefix
     * a person can compare with `phieu form check` (no file id, nothing in English), and
     * "THỬ" on test ballots. */
    char text[64];
    snprintf(text, sizeof text, "Mã %.4s-%.4s%s", form->fingerprint_hex,
             form->fingerprint_hex + 4, test ? "\nTHỬ" : "");
    text_style st = {L->code_text.h * 0.38, 0, 0, ALIGN_LEFT, 2, 0.0};
    return draw_text(c, text, L->code_text, 0, &st);
}

static int draw_ballot(canvas *c, const phieu_form *form, const phieu_layout *L, int test)
{
    /* Paper. */
    cairo_save(c->cr);
    cairo_set_operator(c->cr, c->alpha_only ? CAIRO_OPERATOR_CLEAR : CAIRO_OPERATOR_SOURCE);
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    cairo_restore(c->cr);
    if (test) {
        fill_rect(c, L->test_band, TEST_BAND_GRAY);
        text_style st = {L->test_band.h * 0.8, 1, 0, ALIGN_CENTER, 1, TEST_TEXT_GRAY};
        if (draw_text(c, test_text, L->test_band, 0.5, &st))
            return PHIEU_ENOMEM;
    }
    for (int i = 0; i < 4; i++)
        fill_rect(c, L->fiducials[i], 0.0);
    fill_rect(c, L->fiducial_hole, 1.0);
    if (draw_headers(c, form, L) || draw_table(c, form, L) || draw_code(c, form, L, test))
        return PHIEU_ENOMEM;
    return 0;
}

/* Font options shared by PDF and raster so both set text at the same positions. */
static int canvas_init(canvas *c, cairo_t *cr, int alpha_only)
{
    c->cr = cr;
    c->alpha_only = alpha_only;
    c->pango = pango_cairo_create_context(cr);
    if (!c->pango)
        return PHIEU_ENOMEM;
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    pango_cairo_context_set_font_options(c->pango, fo);
    cairo_font_options_destroy(fo);
    pango_context_set_round_glyph_positions(c->pango, FALSE);
    if (alpha_only)
        cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    return 0;
}

static void canvas_release(canvas *c)
{
    if (c->pango)
        g_object_unref(c->pango);
    c->pango = NULL;
}

/* ---- PDF ------------------------------------------------------------------------------ */

static cairo_status_t write_to_buf(void *closure, const unsigned char *data, unsigned int len)
{
    phieu_buf *b = closure;
    phieu_buf_append(b, data, len);
    return b->failed ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

int phieu_render_pdf(const phieu_form *form, const phieu_render_options *opt, const char *path,
                     phieu_error *err)
{
    if (!form || !path)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot print a ballot: no form or no path");
    int copies = opt ? opt->copies : 1, test = opt ? opt->test_ballot : 0;
    if (copies < 1)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot print %d copies of '%s': give --copies 1 or more",
                               copies, form->id);
    phieu_layout L;
    int rc = phieu_layout_compute(form, &L, err);
    if (rc)
        return rc;
    phieu_buf buf;
    phieu_buf_init(&buf);
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_to_buf, &buf, A4_W_PT, A4_H_PT);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, PDF_CREATE_DATE);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, form->title ? form->title : "");
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "phieu");
    cairo_t *cr = cairo_create(s);
    canvas c = {0};
    if (canvas_init(&c, cr, 0))
        rc = PHIEU_ENOMEM;
    cairo_scale(cr, MM_TO_PT, MM_TO_PT);
    for (int i = 0; rc == 0 && i < copies; i++) {
        rc = draw_ballot(&c, form, &L, test);
        cairo_show_page(cr);
    }
    canvas_release(&c);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(s);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (rc == 0 && (st != CAIRO_STATUS_SUCCESS || buf.failed))
        rc = st == CAIRO_STATUS_NO_MEMORY || buf.failed ? PHIEU_ENOMEM : PHIEU_EIO;
    if (rc) {
        phieu_buf_release(&buf);
        return phieu_error_set(err, rc, "cannot draw the ballot of form '%s': %s", form->id,
                               rc == PHIEU_ENOMEM ? "out of memory"
                                                  : cairo_status_to_string(st));
    }
    rc = phieu_write_file_durable(path, buf.data, buf.len, err);
    phieu_buf_release(&buf);
    return rc;
}

/* ---- Raster --------------------------------------------------------------------------- */

int phieu_render_raster(const phieu_form *form, const phieu_render_options *opt, int dpi,
                        phieu_image **out, phieu_error *err)
{
    if (!form || !out)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot render a ballot: no form or no output");
    *out = NULL;
    if (dpi < RASTER_DPI_MIN || dpi > RASTER_DPI_MAX)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot render at %d dpi: choose a resolution from %d to %d dpi",
                               dpi, RASTER_DPI_MIN, RASTER_DPI_MAX);
    int test = opt ? opt->test_ballot : 0;
    phieu_layout L;
    int rc = phieu_layout_compute(form, &L, err);
    if (rc)
        return rc;
    double px_per_mm = dpi / 25.4;
    int w = (int)lround(L.page_w * px_per_mm), h = (int)lround(L.page_h * px_per_mm);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A8, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return phieu_error_set(err, PHIEU_ENOMEM,
                               "cannot render '%s' at %d dpi: out of memory for %dx%d pixels",
                               form->id, dpi, w, h);
    }
    cairo_t *cr = cairo_create(s);
    canvas c = {0};
    if (canvas_init(&c, cr, 1))
        rc = PHIEU_ENOMEM;
    cairo_scale(cr, px_per_mm, px_per_mm);
    if (rc == 0)
        rc = draw_ballot(&c, form, &L, test);
    canvas_release(&c);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    phieu_image *img = NULL;
    if (rc == 0 && st == CAIRO_STATUS_SUCCESS)
        rc = phieu_image_create(w, h, &img, err);
    else if (rc == 0)
        rc = phieu_error_set(err, PHIEU_ENOMEM, "cannot render '%s': %s", form->id,
                             cairo_status_to_string(st));
    else
        phieu_error_set(err, rc, "cannot render '%s': out of memory", form->id);
    if (rc == 0) {
        const unsigned char *src = cairo_image_surface_get_data(s);
        int sstride = cairo_image_surface_get_stride(s);
        for (int y = 0; y < h; y++) {
            const unsigned char *sp = src + (size_t)y * sstride;
            uint8_t *dp = img->pixels + (size_t)y * img->stride;
            for (int x = 0; x < w; x++)
                dp[x] = (uint8_t)(255 - sp[x]);
        }
        img->dpi_x = img->dpi_y = dpi;
        *out = img;
    }
    cairo_surface_destroy(s);
    return rc;
}
