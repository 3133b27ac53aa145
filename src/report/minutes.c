/*
 * minutes.c - the biên bản kiểm phiếu as an A4 PDF (cairo + pango, Liberation Serif or
 * DejaVu Serif, fonts embedded by cairo) in the presentation of Decree 30/2020/NĐ-CP:
 * two-column header, title and subject, opening and board, per form the counts, the
 * table and each consequence as a sentence, the closing kept on the page of the
 * signatures, then a last page "PHỤ LỤC: THÔNG TIN KIỂM TRA" with everything technical.
 * Every word comes from a wording (wording.c, forms/minutes/vi.minutes); every figure from
 * the tally. Page numbers at the
 * top centre from page 2; the evidence fingerprint and "Trang i/n" in small type at the
 * foot of every page. The document is laid out twice: once to count the pages.
 */
#include "phieu/report.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "report/report_internal.h"

/* A4 in PostScript points (ISO 216: 210 x 297 mm; 72 points per inch, 25.4 mm per inch). */
#define MM (72.0 / 25.4)
#define PAGE_W (210.0 * MM)
#define PAGE_H (297.0 * MM)
/* Margins of Decree 30/2020/NĐ-CP, annex I: top and bottom 20-25 mm, left 30-35 mm,
 * right 15-20 mm; the smallest of each leaves the most room for a 45-person table. */
#define MARGIN_LEFT (30.0 * MM)
#define MARGIN_RIGHT (15.0 * MM)
#define MARGIN_TOP (20.0 * MM)
#define MARGIN_BOTTOM (20.0 * MM)
#define CONTENT_W (PAGE_W - MARGIN_LEFT - MARGIN_RIGHT)
/* Type sizes (Decree 30: body 13-14 pt; quốc hiệu 12-13 pt; the table a little smaller so
 * that a 45-person list with three levels stays on portrait A4). */
#define BODY_PT 13.0
#define HEADER_PT 12.0
#define TITLE_PT 14.0
#define TABLE_PT 10.5
#define APPENDIX_PT 10.5
#define FOOTER_PT 7.0
#define CELL_PAD (1.2 * MM)
/* Times New Roman's metrics (Debian: fonts-liberation2); DejaVu Serif when it is missing. */
#define FONT_FAMILY "Liberation Serif,DejaVu Serif"

enum { ST_BOLD = 1, ST_ITALIC = 2, ST_UNDERLINE = 4 };

typedef struct doc {
    cairo_t *cr;
    const phieu_report_data *d;
    const phieu_tally *t;
    const phieu_wording *w;
    const minutes_texts *tx; /* &w->tx */
    const char *fingerprint;
    const char *public_key_hex;
    int draft;
    int page;     /* 1-based, the page being laid out */
    int n_pages;  /* 0 in the counting pass */
    double y;     /* the next free line, points from the top */
} doc;

static PangoLayout *make_layout(doc *m, const char *text, double size, int style, double width,
                                PangoAlignment align)
{
    PangoLayout *l = pango_cairo_create_layout(m->cr);
    PangoFontDescription *fd = pango_font_description_from_string(FONT_FAMILY);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_font_description_set_weight(fd, style & ST_BOLD ? PANGO_WEIGHT_BOLD
                                                          : PANGO_WEIGHT_NORMAL);
    pango_font_description_set_style(fd, style & ST_ITALIC ? PANGO_STYLE_ITALIC
                                                           : PANGO_STYLE_NORMAL);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, text, -1);
    /* No ligatures: "ff" in a hash must stay two letters for pdftotext and for people. */
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_font_features_new("liga=0,clig=0,dlig=0"));
    if (style & ST_UNDERLINE)
        pango_attr_list_insert(attrs, pango_attr_underline_new(PANGO_UNDERLINE_SINGLE));
    pango_layout_set_attributes(l, attrs);
    pango_attr_list_unref(attrs);
    return l;
}

static double text_height(doc *m, const char *text, double size, int style, double width)
{
    PangoLayout *l = make_layout(m, text, size, style, width, PANGO_ALIGN_LEFT);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
    return (double)h / PANGO_SCALE;
}

/* Draws text in the box of `width` at (x, y); returns its height. *ink_w (may be NULL)
 * receives the width of its longest line. */
static double draw_text_w(doc *m, double x, double y, double width, const char *text,
                          double size, int style, PangoAlignment align, double *ink_w)
{
    PangoLayout *l = make_layout(m, text, size, style, width, align);
    cairo_move_to(m->cr, x, y);
    pango_cairo_show_layout(m->cr, l);
    PangoRectangle logical;
    pango_layout_get_extents(l, NULL, &logical);
    if (ink_w)
        *ink_w = (double)logical.width / PANGO_SCALE;
    g_object_unref(l);
    return (double)logical.height / PANGO_SCALE;
}

static double draw_text(doc *m, double x, double y, double width, const char *text,
                        double size, int style, PangoAlignment align)
{
    return draw_text_w(m, x, y, width, text, size, style, align, NULL);
}

/* A horizontal rule of `len` centred in the column [x, x + width). */
static void centred_rule(doc *m, double x, double width, double y, double len)
{
    cairo_set_source_rgb(m->cr, 0, 0, 0);
    cairo_set_line_width(m->cr, 0.6);
    cairo_move_to(m->cr, x + (width - len) / 2, y);
    cairo_line_to(m->cr, x + (width + len) / 2, y);
    cairo_stroke(m->cr);
}

/* "I", "II", ... for the forms' sections (at most PHIEU_SESSION_MAX_FORMS). */
static const char *roman(int i)
{
    static const char *const r[] = {"I",   "II",   "III", "IV", "V",   "VI",  "VII", "VIII",
                                    "IX",  "X",    "XI",  "XII", "XIII", "XIV", "XV", "XVI"};
    return i >= 0 && i < (int)(sizeof r / sizeof r[0]) ? r[i] : "";
}

/* What every page carries: the draft's marks (with each form's difference), the page
 * number at the top centre from page 2, and at the foot the evidence fingerprint and
 * "Trang i/n" (a missing page shows). */
static void page_decorations(doc *m)
{
    cairo_t *cr = m->cr;
    const minutes_texts *tx = m->tx;
    char line[512];
    if (m->draft) {
        cairo_save(cr);
        cairo_set_source_rgb(cr, 0.85, 0.85, 0.85);
        cairo_translate(cr, PAGE_W / 2, PAGE_H / 2);
        cairo_rotate(cr, -0.9);
        PangoLayout *l = make_layout(m, tx->draft_mark, 54, ST_BOLD, PAGE_H, PANGO_ALIGN_CENTER);
        int w, h;
        pango_layout_get_size(l, &w, &h);
        cairo_move_to(cr, -PAGE_H / 2, -(double)h / PANGO_SCALE / 2);
        pango_cairo_show_layout(cr, l);
        g_object_unref(l);
        cairo_restore(cr);
        cairo_set_source_rgb(cr, 0.75, 0, 0);
        phieu_buf b;
        phieu_buf_init(&b);
        phieu_buf_puts(&b, tx->draft_line);
        phieu_reconciliation rec;
        phieu_tally_reconcile(m->t, &rec);
        for (int i = 0; i < rec.n_forms; i++)
            if (rec.forms[i].entered && rec.forms[i].difference != 0) {
                char section[300];
                snprintf(section, sizeof section, "%s%s%s", rec.n_forms > 1 ? roman(i) : "",
                         rec.n_forms > 1 ? ". " : "", m->t->forms[i].form->title);
                snprintf(line, sizeof line, tx->draft_difference, section,
                         rec.forms[i].collected, rec.forms[i].read);
                phieu_buf_printf(&b, "\n%s", line);
            }
        draw_text(m, MARGIN_LEFT, 5 * MM, CONTENT_W, b.data ? b.data : tx->draft_line,
                  FOOTER_PT + 1, ST_BOLD, PANGO_ALIGN_CENTER);
        phieu_buf_release(&b);
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    if (m->page >= 2) {
        snprintf(line, sizeof line, "%d", m->page);
        draw_text(m, MARGIN_LEFT, MARGIN_TOP - 9 * MM, CONTENT_W, line, BODY_PT, 0,
                  PANGO_ALIGN_CENTER);
    }
    char page[64];
    snprintf(line, sizeof line, tx->page_footer, m->fingerprint);
    snprintf(page, sizeof page, tx->page_count, m->page, m->n_pages > 0 ? m->n_pages : 99);
    double y = PAGE_H - MARGIN_BOTTOM + 8 * MM;
    draw_text(m, MARGIN_LEFT, y, CONTENT_W - 25 * MM, line, FOOTER_PT, 0, PANGO_ALIGN_LEFT);
    draw_text(m, PAGE_W - MARGIN_RIGHT - 25 * MM, y, 25 * MM, page, FOOTER_PT, 0,
              PANGO_ALIGN_RIGHT);
}

static void new_page(doc *m)
{
    cairo_show_page(m->cr);
    m->page++;
    m->y = MARGIN_TOP;
    page_decorations(m);
}

static void need(doc *m, double h)
{
    if (m->y + h > PAGE_H - MARGIN_BOTTOM)
        new_page(m);
}

/* A paragraph of the body; indent is the first line's (Decree 30: 1-1.27 cm). */
static void para_x(doc *m, const char *text, double size, int style, PangoAlignment align,
                   double indent, double space_after)
{
    double h = text_height(m, text, size, style, CONTENT_W - indent);
    need(m, h);
    m->y += draw_text(m, MARGIN_LEFT + indent, m->y, CONTENT_W - indent, text, size, style,
                      align) +
            space_after;
}

static void para(doc *m, const char *text, double size, int style, PangoAlignment align,
                 double space_after)
{
    para_x(m, text, size, style, align, 0, space_after);
}

/* ---- The table of one form ----------------------------------------------------------- */

#define MAX_COLS (4 + PHIEU_FORM_MAX_CHOICES)
#define CELL_MAX 200

typedef struct table {
    int n;
    double w[MAX_COLS];
} table;

static double row_height(doc *m, const table *tb, char cells[][CELL_MAX], int style)
{
    double h = 0;
    for (int c = 0; c < tb->n; c++) {
        double ch = text_height(m, cells[c], TABLE_PT, style, tb->w[c] - 2 * CELL_PAD);
        if (ch > h)
            h = ch;
    }
    return h + 2 * CELL_PAD;
}

static void draw_row(doc *m, const table *tb, char cells[][CELL_MAX], int style, double h,
                     int header)
{
    double x = MARGIN_LEFT;
    cairo_set_line_width(m->cr, 0.6);
    for (int c = 0; c < tb->n; c++) {
        cairo_set_source_rgb(m->cr, 0, 0, 0);
        cairo_rectangle(m->cr, x, m->y, tb->w[c], h);
        cairo_stroke(m->cr);
        PangoAlignment align = (c == 1 || c == 2) && !header ? PANGO_ALIGN_LEFT
                                                             : PANGO_ALIGN_CENTER;
        draw_text(m, x + CELL_PAD, m->y + CELL_PAD, tb->w[c] - 2 * CELL_PAD, cells[c], TABLE_PT,
                  style, align);
        x += tb->w[c];
    }
    m->y += h;
}

static void form_table(doc *m, const phieu_tally_form *f)
{
    const minutes_texts *tx = m->tx;
    const phieu_form *form = f->form;
    table tb = {0};
    /* Column widths in mm; the post takes what is left of the 165 mm between margins. */
    double level_w = form->n_choices >= 3 ? 21 : 25;
    double fixed[] = {12, 38, 0, 17};
    for (int i = 0; i < 4; i++)
        tb.w[tb.n++] = fixed[i] * MM;
    for (int c = 0; c < form->n_choices; c++)
        tb.w[tb.n++] = level_w * MM;
    double used = 0;
    for (int i = 0; i < tb.n; i++)
        used += tb.w[i];
    tb.w[2] = CONTENT_W - used;

    char head[MAX_COLS][CELL_MAX];
    int k = 0;
    snprintf(head[k++], CELL_MAX, "%s", tx->col_number);
    snprintf(head[k++], CELL_MAX, "%s", tx->col_name);
    snprintf(head[k++], CELL_MAX, "%s", tx->col_post);
    snprintf(head[k++], CELL_MAX, "%s", tx->col_valid);
    for (int c = 0; c < form->n_choices; c++)
        snprintf(head[k++], CELL_MAX, tx->col_level, form->choices[c].label);
    double hh = row_height(m, &tb, head, ST_BOLD);

    for (int p = 0; p < f->n_persons; p++) {
        const phieu_tally_person *tp = &f->persons[p];
        char cells[MAX_COLS][CELL_MAX];
        k = 0;
        snprintf(cells[k++], CELL_MAX, "%d", tp->number);
        snprintf(cells[k++], CELL_MAX, "%s", tp->name);
        snprintf(cells[k++], CELL_MAX, "%s", tp->post);
        if (tp->pending > 0) {
            char pend[64];
            snprintf(pend, sizeof pend, tx->col_pending, tp->pending);
            snprintf(cells[k++], CELL_MAX, "%d\n%s", tp->valid, pend);
        } else {
            snprintf(cells[k++], CELL_MAX, "%d", tp->valid);
        }
        for (int c = 0; c < form->n_choices; c++) {
            char pct[PHIEU_PERCENT_TEXT_MAX];
            phieu_percent_text(tp->percent[c], pct);
            snprintf(cells[k++], CELL_MAX, "%d\n%s", tp->count[c], pct);
        }
        double h = row_height(m, &tb, cells, 0);
        if (p == 0 || m->y + h > PAGE_H - MARGIN_BOTTOM) {
            need(m, hh + h);
            draw_row(m, &tb, head, ST_BOLD, hh, 1);
        }
        draw_row(m, &tb, cells, 0, h, 0);
    }
    m->y += 3 * MM;
}

/* ---- The document ---------------------------------------------------------------------- */

/* "2026-11-28" -> day "28", month "11", year "2026", as Decree 30 writes them: a day
 * below 10 and the months 1 and 2 with a leading zero. 0 when the date is not ISO. */
static int date_parts(const char *date, char day[8], char month[8], char year[8])
{
    int y, mo, da;
    char tail;
    if (sscanf(date, "%4d-%2d-%2d%c", &y, &mo, &da, &tail) != 3 || mo < 1 || mo > 12 ||
        da < 1 || da > 31)
        return 0;
    snprintf(day, 8, "%02d", da);
    snprintf(month, 8, mo < 3 ? "%02d" : "%d", mo);
    snprintf(year, 8, "%04d", y);
    return 1;
}

/* A threshold as printed: up to four decimals (as many as it was set with, at least two),
 * with a decimal comma: 0.04 -> "0,04", 0.035 -> "0,035". */
static void decimal_comma(double v, char *out, size_t size)
{
    snprintf(out, size, "%.4f", v);
    char *dot = strchr(out, '.');
    if (!dot)
        return;
    *dot = ',';
    size_t len = strlen(out);
    while (len > (size_t)(dot - out) + 3 && out[len - 1] == '0')
        out[--len] = '\0';
}

/* The size (HEADER_PT at most) at which `text`, bold, fits `width` on one line. */
static double one_line_pt(doc *m, const char *text, double width)
{
    PangoLayout *l = make_layout(m, text, HEADER_PT, ST_BOLD, -1, PANGO_ALIGN_LEFT);
    pango_layout_set_width(l, -1);
    int nw, nh;
    pango_layout_get_size(l, &nw, &nh);
    g_object_unref(l);
    if ((double)nw / PANGO_SCALE > width)
        return HEADER_PT * width / ((double)nw / PANGO_SCALE);
    return HEADER_PT;
}

static void header(doc *m)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    /* Left: the council (uppercase), the board (bold), a short rule. Right: quốc hiệu
     * (bold), tiêu ngữ (bold, underlined). Decree 30, annex I, items 1-2. */
    double left_w = 68 * MM, right_x = MARGIN_LEFT + left_w, right_w = CONTENT_W - left_w;
    char *council = g_utf8_strup(d->council, -1);
    double y = m->y, issuer_w = 0;
    y += draw_text(m, MARGIN_LEFT, y, left_w, council ? council : d->council, HEADER_PT, 0,
                   PANGO_ALIGN_CENTER);
    g_free(council);
    y += draw_text_w(m, MARGIN_LEFT, y, left_w, tx->issuer, HEADER_PT, ST_BOLD,
                     PANGO_ALIGN_CENTER, &issuer_w);
    centred_rule(m, MARGIN_LEFT, left_w, y + 1, issuer_w * 0.6);
    double left_h = y + 2 - m->y;
    double yr = m->y;
    /* Quốc hiệu on one line: with a wider fallback face than Times, a smaller size. */
    double nation_pt = one_line_pt(m, tx->nation, right_w - 2);
    yr += draw_text(m, right_x, yr, right_w, tx->nation, nation_pt, ST_BOLD, PANGO_ALIGN_CENTER);
    double motto_w = 0;
    yr += draw_text_w(m, right_x, yr, right_w, tx->motto, BODY_PT, ST_BOLD, PANGO_ALIGN_CENTER,
                      &motto_w);
    centred_rule(m, right_x, right_w, yr + 1, motto_w);
    double right_h = yr + 2 - m->y;
    m->y += (left_h > right_h ? left_h : right_h) + 3 * MM;
    /* "Số: …" under the left column, "<place>, ngày … tháng … năm …" under the right. */
    char day[8], month[8], year[8], line[1024];
    if (!date_parts(d->date, day, month, year)) {
        snprintf(day, sizeof day, "%s", tx->blank);
        snprintf(month, sizeof month, "%s", tx->blank);
        snprintf(year, sizeof year, "%s", tx->blank);
    }
    snprintf(line, sizeof line, tx->date_line, d->place, day, month, year);
    double h1 = draw_text(m, MARGIN_LEFT, m->y, left_w, tx->number, BODY_PT, 0,
                          PANGO_ALIGN_CENTER);
    double h2 = draw_text(m, right_x, m->y, right_w, line, BODY_PT, ST_ITALIC,
                          PANGO_ALIGN_CENTER);
    m->y += (h1 > h2 ? h1 : h2) + 8 * MM;

    para(m, tx->title, TITLE_PT, ST_BOLD, PANGO_ALIGN_CENTER, 1 * MM);
    int rating = 0, confidence = 0;
    for (int i = 0; i < d->n_forms; i++)
        *(d->forms[i]->kind == PHIEU_FORM_RATING ? &rating : &confidence) += 1;
    snprintf(line, sizeof line,
             rating && confidence ? tx->subject_mixed
             : rating             ? m->w->rating.subject
                                  : m->w->confidence.subject,
             d->council);
    para(m, line, BODY_PT, ST_BOLD, PANGO_ALIGN_CENTER, 1 * MM);
    if (m->draft) {
        cairo_set_source_rgb(m->cr, 0.75, 0, 0);
        para(m, tx->draft_mark, BODY_PT, ST_BOLD, PANGO_ALIGN_CENTER, 0);
        cairo_set_source_rgb(m->cr, 0, 0, 0);
    }
    if (d->test)
        para(m, tx->test_session, BODY_PT, ST_BOLD, PANGO_ALIGN_CENTER, 0);
    m->y += 5 * MM;
}

/* The hour and minute of an "HH:MM" the board entered, as the minutes write them ("9",
 * "05": "vào hồi 9 giờ 05 phút"), or `blank` twice when it entered none. */
static void time_parts(const char *hhmm, const char *blank, char hour[16], char minute[16])
{
    if (strlen(hhmm) == 5 && hhmm[2] == ':') {
        snprintf(hour, 16, "%d", (hhmm[0] - '0') * 10 + (hhmm[1] - '0'));
        snprintf(minute, 16, "%.2s", hhmm + 3);
    } else {
        snprintf(hour, 16, "%s", blank);
        snprintf(minute, 16, "%s", blank);
    }
}

static void opening(doc *m)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    char day[8], month[8], year[8], line[2048];
    if (!date_parts(d->date, day, month, year)) {
        snprintf(day, sizeof day, "%s", tx->blank);
        snprintf(month, sizeof month, "%s", tx->blank);
        snprintf(year, sizeof year, "%s", tx->blank);
    }
    /* The time the count began as the board entered it, else a blank to fill by hand. */
    char hour[16], minute[16];
    time_parts(d->opened, tx->blank, hour, minute);
    snprintf(line, sizeof line, tx->opening, hour, minute, day, month, year, d->place,
             d->session_name, d->council);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 1 * MM);
    int n = 1;
    snprintf(line, sizeof line, tx->board_line, n++,
             *d->board_head ? d->board_head : tx->not_entered, tx->role_head);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    snprintf(line, sizeof line, tx->board_line, n++,
             *d->board_secretary ? d->board_secretary : tx->not_entered, tx->role_secretary);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    for (int i = 0; i < d->n_members; i++) {
        snprintf(line, sizeof line, tx->board_line, n++, d->board_members[i], tx->role_member);
        para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    }
    snprintf(line, sizeof line, tx->after_board, d->rules->title_vi);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 3 * MM);
}

/* One form's counts in the law's words: delegates present, ballots issued and
 * collected, valid and invalid, spoiled, pending, read by the board, and a difference
 * between collected and read. */
static void form_counts(doc *m, int i, const phieu_tally_form *f)
{
    const minutes_texts *tx = m->tx;
    phieu_reconciliation rec;
    phieu_tally_reconcile(m->t, &rec);
    char line[2048], a[32], b[32];
    const phieu_board_counts *c = &f->counts;
    if (c->entered)
        snprintf(a, sizeof a, "%d", c->present);
    else
        snprintf(a, sizeof a, "%s", tx->blank);
    snprintf(line, sizeof line, tx->delegates, m->d->delegates, a);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    if (c->entered) {
        snprintf(a, sizeof a, "%d", c->issued);
        snprintf(b, sizeof b, "%d", c->collected);
    } else {
        snprintf(a, sizeof a, "%s", tx->blank);
        snprintf(b, sizeof b, "%s", tx->blank);
    }
    snprintf(line, sizeof line, tx->issued, a, b);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    int valid = f->ballots - f->invalid_ballots - f->pending_ballots;
    snprintf(line, sizeof line, tx->valid, valid, f->invalid_ballots);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    if (c->entered && c->spoiled > 0) {
        snprintf(line, sizeof line, tx->spoiled, c->spoiled);
        para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    }
    if (f->pending_ballots > 0) {
        snprintf(line, sizeof line, tx->pending, f->pending_ballots);
        para_x(m, line, BODY_PT, ST_BOLD, PANGO_ALIGN_LEFT, 10 * MM, 0);
    }
    if (f->board_read > 0) {
        snprintf(line, sizeof line, tx->board_read, f->board_read);
        para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 0);
    }
    if (rec.forms[i].entered && rec.forms[i].difference != 0) {
        snprintf(line, sizeof line, tx->difference, rec.forms[i].collected, rec.forms[i].read);
        para_x(m, line, BODY_PT, ST_BOLD, PANGO_ALIGN_LEFT, 10 * MM, 0);
    }
}

/* Each person's consequence under the law as a sentence, or the form's "none". */
static void form_consequences(doc *m, const phieu_tally_form *f)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    const minutes_kind_texts *kt =
        f->form->kind == PHIEU_FORM_CONFIDENCE ? &m->w->confidence : &m->w->rating;
    char line[2048];
    para_x(m, tx->consequences_intro, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 1 * MM);
    int any = 0;
    for (int p = 0; p < f->n_persons; p++) {
        const phieu_tally_person *tp = &f->persons[p];
        if (tp->band == PHIEU_BAND_NONE)
            continue;
        char pct[PHIEU_PERCENT_TEXT_MAX];
        phieu_percent_text(tp->percent[tp->low_choice], pct);
        int n = snprintf(line, sizeof line, tx->person_band, tp->name, tp->post,
                         tp->count[tp->low_choice], kt->low_words, pct,
                         d->rules->base == PHIEU_BASE_COLLECTED ? tx->base_collected
                                                                : tx->base_delegates);
        if (n > 0 && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, " %s",
                     m->w->bands[tp->band]);
        para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 1 * MM);
        any = 1;
    }
    if (!any)
        para_x(m, kt->none, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 1 * MM);
}

/* One form: its title as printed, the counts in the law's words (collected = valid +
 * invalid), the table, and each consequence as a sentence. */
static void form_section(doc *m, int i)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    const phieu_tally_form *f = &m->t->forms[i];
    char line[2048];
    need(m, 45 * MM);
    if (m->t->n_forms > 1)
        snprintf(line, sizeof line, "%s. %s", roman(i), f->form->title);
    else
        snprintf(line, sizeof line, "%s", f->form->title);
    para(m, line, BODY_PT, ST_BOLD, PANGO_ALIGN_LEFT, 1 * MM);
    form_counts(m, i, f);
    snprintf(line, sizeof line, tx->results_intro,
             d->rules->base == PHIEU_BASE_COLLECTED ? tx->base_collected : tx->base_delegates);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 2 * MM);
    form_table(m, f);
    form_consequences(m, f);
    m->y += 4 * MM;
}

/* Facts of the count after the forms, one sentence each. A new count (e.g. pages read by
 * the board) is one more line here. */
static void count_facts(doc *m)
{
    char line[600];
    snprintf(line, sizeof line, m->tx->exceptions, m->d->exceptions_resolved);
    para_x(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 10 * MM, 1 * MM);
}

/* The other members' signatures, two a line, from y down (drawn when draw, else only
 * measured); returns the y below them. */
static double member_signatures(doc *m, double y, int draw)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    double col = CONTENT_W / 2;
    for (int i = 0; i < d->n_members; i += 2) {
        double block = 0;
        for (int c = 0; c < 2 && i + c < d->n_members; c++) {
            double x = MARGIN_LEFT + c * col, yy = y;
            yy += draw ? draw_text(m, x, yy, col, tx->sign_member, BODY_PT, ST_BOLD,
                                   PANGO_ALIGN_CENTER)
                       : text_height(m, tx->sign_member, BODY_PT, ST_BOLD, col);
            yy += draw ? draw_text(m, x, yy, col, tx->sign_hint, BODY_PT, ST_ITALIC,
                                   PANGO_ALIGN_CENTER)
                       : text_height(m, tx->sign_hint, BODY_PT, ST_ITALIC, col);
            yy += 20 * MM;
            yy += draw ? draw_text(m, x, yy, col, d->board_members[i + c], BODY_PT, ST_BOLD,
                                   PANGO_ALIGN_CENTER)
                       : text_height(m, d->board_members[i + c], BODY_PT, ST_BOLD, col);
            if (yy - y > block)
                block = yy - y;
        }
        y += block + 6 * MM;
    }
    return y;
}

/* The closing and the signatures, drawn at m->y when draw, else only measured; returns
 * the height. Decree 30: "TM. BAN KIỂM PHIẾU / TRƯỞNG BAN" on the right, the secretary on
 * the left, then the members, each with "(Ký, ghi rõ họ tên)" and the printed name. */
static double closing(doc *m, int draw)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    char hour[16], minute[16], closed[512];
    time_parts(d->closed, tx->closed_blank, hour, minute);
    snprintf(closed, sizeof closed, tx->closed, hour, minute);
    const char *lines[3] = {tx->complaints, tx->copies, closed};
    double y = m->y;
    for (int i = 0; i < 3; i++) {
        double h = draw ? draw_text(m, MARGIN_LEFT + 10 * MM, y, CONTENT_W - 10 * MM, lines[i],
                                    BODY_PT, 0, PANGO_ALIGN_LEFT)
                        : text_height(m, lines[i], BODY_PT, 0, CONTENT_W - 10 * MM);
        y += h + 1 * MM;
    }
    y += 4 * MM;
    double col = CONTENT_W / 2;
    char right[256], hint_name[PHIEU_NAME_MAX * 2];
    snprintf(right, sizeof right, "%s\n%s", tx->sign_for, tx->sign_head);
    const char *titles[2] = {tx->sign_secretary, right};
    const char *names[2] = {d->board_secretary, d->board_head};
    double block = 0, heads = 0;
    snprintf(hint_name, sizeof hint_name, "%s", tx->sign_hint);
    for (int c = 0; c < 2; c++) {
        double h = text_height(m, titles[c], BODY_PT, ST_BOLD, col) +
                   text_height(m, hint_name, BODY_PT, ST_ITALIC, col);
        if (h > heads)
            heads = h;
    }
    for (int c = 0; c < 2; c++) {
        double x = MARGIN_LEFT + c * col, yy = y;
        if (draw) {
            yy += draw_text(m, x, yy, col, titles[c], BODY_PT, ST_BOLD, PANGO_ALIGN_CENTER);
            draw_text(m, x, yy, col, hint_name, BODY_PT, ST_ITALIC, PANGO_ALIGN_CENTER);
        }
        yy = y + heads + 22 * MM; /* the printed names on one line */
        yy += draw ? draw_text(m, x, yy, col, names[c], BODY_PT, ST_BOLD, PANGO_ALIGN_CENTER)
                   : text_height(m, names[c], BODY_PT, ST_BOLD, col);
        if (yy - y > block)
            block = yy - y;
    }
    y += block + 6 * MM;
    y = member_signatures(m, y, draw);
    return y - m->y;
}

/* The last page: everything a board does not read aloud but an auditor needs. */
/* Each change the head made to a case already decided (an override), with its note and
 * the decisions it replaced, so that the board sees every one when it signs. Never a
 * choice (the log holds none either); listed by random exception number. */
static void overrides(doc *m)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    if (d->n_overrides == 0)
        return;
    para(m, tx->overrides_title, APPENDIX_PT, ST_BOLD, PANGO_ALIGN_LEFT, 1 * MM);
    for (size_t i = 0; i < d->n_overrides; i++) {
        const phieu_override *o = &d->overrides[i];
        char line[PHIEU_NOTE_MAX + 1024], where[32];
        if (o->row > 0)
            snprintf(where, sizeof where, tx->override_row, o->row);
        else
            snprintf(where, sizeof where, "%s", tx->override_page);
        snprintf(line, sizeof line, tx->override_line, i + 1, (long long)o->exception_id,
                 o->reason, where, o->user, o->earlier, o->time, o->note);
        para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 1 * MM);
    }
    m->y += 1 * MM;
}

static void appendix(doc *m)
{
    const phieu_report_data *d = m->d;
    const minutes_texts *tx = m->tx;
    new_page(m);
    char line[2048];
    para(m, tx->appendix_title, TITLE_PT, ST_BOLD, PANGO_ALIGN_CENTER, 3 * MM);
    para(m, tx->appendix_intro, APPENDIX_PT, ST_ITALIC, PANGO_ALIGN_LEFT, 3 * MM);
    snprintf(line, sizeof line, tx->fingerprint, m->fingerprint);
    para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
    if (m->public_key_hex)
        snprintf(line, sizeof line, tx->public_key, m->public_key_hex);
    else
        snprintf(line, sizeof line, "%s", tx->unsigned_);
    para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
    snprintf(line, sizeof line, tx->rules, d->rules->title_vi,
             d->rules->base == PHIEU_BASE_COLLECTED ? tx->base_collected : tx->base_delegates);
    para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
    for (int i = 0; i < d->n_forms; i++) {
        snprintf(line, sizeof line, tx->form_line, d->forms[i]->title, d->forms[i]->id,
                 d->forms[i]->fingerprint_hex);
        para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 1 * MM);
    }
    m->y += 1 * MM;
    char marked[32], marginal[32], ink[32];
    decimal_comma(d->thresholds.value[PHIEU_TH_MARKED], marked, sizeof marked);
    decimal_comma(d->thresholds.value[PHIEU_TH_MARGINAL], marginal, sizeof marginal);
    decimal_comma(d->thresholds.value[PHIEU_TH_INK], ink, sizeof ink);
    snprintf(line, sizeof line, tx->thresholds, marked, marginal, ink);
    para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
    snprintf(line, sizeof line, tx->exceptions_detail, d->exceptions_total,
             d->exceptions_resolved, d->exceptions_open);
    para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
    overrides(m);
    snprintf(line, sizeof line, tx->program, PHIEU_VERSION);
    para(m, line, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
    para(m, tx->how_to_verify, APPENDIX_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
}

static void lay_out(doc *m)
{
    m->page = 1;
    m->y = MARGIN_TOP;
    page_decorations(m);
    header(m);
    opening(m);
    for (int i = 0; i < m->t->n_forms; i++)
        form_section(m, i);
    count_facts(m);
    /* The closing lines stay on the page of the signatures. */
    need(m, closing(m, 0));
    m->y += closing(m, 1);
    appendix(m);
    cairo_show_page(m->cr);
}

static cairo_status_t discard(void *closure, const unsigned char *data, unsigned int length)
{
    (void)closure;
    (void)data;
    (void)length;
    return CAIRO_STATUS_SUCCESS;
}

/* The PDF goes through our own stream so that a failed write is seen (cairo's file
 * stream let one short fwrite pass: the export was signed over a broken PDF) and the file
 * is synced before it is signed. errno_seen keeps the first error. */
typedef struct pdf_file {
    FILE *f;
    int errno_seen;
} pdf_file;

static cairo_status_t pdf_write(void *closure, const unsigned char *data, unsigned int length)
{
    pdf_file *pf = closure;
    if (pf->errno_seen)
        return CAIRO_STATUS_WRITE_ERROR;
    if (length && fwrite(data, 1, length, pf->f) != length) {
        pf->errno_seen = errno ? errno : EIO;
        return CAIRO_STATUS_WRITE_ERROR;
    }
    return CAIRO_STATUS_SUCCESS;
}

/* "2026-11-28" -> "2026-11-28T00:00:00" for the PDF's creation date, so that the same
 * session always gives the same PDF; anything else leaves cairo's default. */
static int iso_date(const char *date, char *out, size_t size)
{
    int y, mo, da;
    char tail;
    if (sscanf(date, "%4d-%2d-%2d%c", &y, &mo, &da, &tail) != 3)
        return 0;
    snprintf(out, size, "%04d-%02d-%02dT00:00:00", y, mo, da);
    return 1;
}

/* Pass 1 of the minutes: lays them out on a surface that keeps nothing, to count the
 * pages ("Trang i/n" needs n). */
static int count_pages(doc *m, int *n, phieu_error *err)
{
    cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(discard, NULL, PAGE_W, PAGE_H);
    m->cr = cairo_create(surf);
    lay_out(m);
    *n = m->page;
    cairo_destroy(m->cr);
    cairo_surface_finish(surf);
    cairo_status_t st = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS)
        return phieu_error_set(err, PHIEU_ENOMEM, "cannot lay out the minutes: %s",
                               cairo_status_to_string(st));
    return 0;
}

/* The PDF's metadata: title, creator, the session's date, and in the keywords the
 * evidence fingerprint and the signing key, which verify finds there. */
static void set_metadata(cairo_surface_t *surf, const doc *m)
{
    char keywords[256], date[32];
    int kw = snprintf(keywords, sizeof keywords, "%s%s", REPORT_PDF_FINGERPRINT_PREFIX,
                      m->fingerprint);
    if (m->public_key_hex)
        snprintf(keywords + kw, sizeof keywords - (size_t)kw, " %s%s", REPORT_PDF_KEY_PREFIX,
                 m->public_key_hex);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, "Biên bản kiểm phiếu");
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_KEYWORDS, keywords);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "phieu " PHIEU_VERSION);
    if (iso_date(m->d->date, date, sizeof date)) {
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATE_DATE, date);
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_MOD_DATE, date);
    }
}

/* Writes the minutes m describes to `path` in two passes (count, then draw) and syncs
 * the file; the number of pages into *pages. */
static int minutes_pdf(doc *m, const char *path, int *pages, phieu_error *err)
{
    int n;
    if (count_pages(m, &n, err) != 0)
        return err->code;
    /* Pass 2: the real thing, "Trang i/n". */
    pdf_file pf = {fopen(path, "wb"), 0};
    if (!pf.f)
        return phieu_error_set(err, PHIEU_EIO, "cannot write the minutes '%s': %s", path,
                               strerror(errno));
    cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(pdf_write, &pf, PAGE_W, PAGE_H);
    /* PDF 1.4: no object streams, so the metadata stays readable to verify's byte search. */
    cairo_pdf_surface_restrict_to_version(surf, CAIRO_PDF_VERSION_1_4);
    set_metadata(surf, m);
    m->cr = cairo_create(surf);
    m->n_pages = n;
    lay_out(m);
    cairo_destroy(m->cr);
    cairo_surface_finish(surf);
    cairo_status_t st = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (!pf.errno_seen && (fflush(pf.f) != 0 || fsync(fileno(pf.f)) != 0))
        pf.errno_seen = errno ? errno : EIO;
    if (fclose(pf.f) != 0 && !pf.errno_seen)
        pf.errno_seen = errno ? errno : EIO;
    if (pf.errno_seen)
        return phieu_error_set(err, PHIEU_EIO, "cannot write the minutes '%s': %s", path,
                               strerror(pf.errno_seen));
    if (st != CAIRO_STATUS_SUCCESS)
        return phieu_error_set(err, PHIEU_EIO, "cannot write the minutes '%s': %s", path,
                               cairo_status_to_string(st));
    if (pages)
        *pages = n;
    return 0;
}

int phieu_report_minutes_pdf(const phieu_report_data *d, const phieu_tally *t,
                             const char *fingerprint, const char *public_key_hex, int draft,
                             const char *path, int *pages, phieu_error *err)
{
    phieu_wording *own = NULL;
    if (!d->wording && phieu_wording_load(NULL, &own, err) != 0)
        return err->code;
    const phieu_wording *w = d->wording ? d->wording : own;
    doc m = {.d = d,
             .t = t,
             .w = w,
             .tx = &w->tx,
             .fingerprint = fingerprint,
             .public_key_hex = public_key_hex,
             .draft = draft};
    int rc = minutes_pdf(&m, path, pages, err);
    phieu_wording_destroy(&own);
    return rc;
}
