/*
 * minutes.c - the biên bản kiểm phiếu as an A4 PDF (cairo + pango, DejaVu Sans, fonts
 * embedded by cairo): header, board, counts, one table per form, rule set and thresholds,
 * decisions, signature lines; on every page the evidence fingerprint and "Trang i/n".
 * It lays out what it is given and computes nothing: figures come from the tally.
 * The document is laid out twice: once to count the pages, once to print "i/n".
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
#include "report/report_private.h"

/* A4 in PostScript points (ISO 216: 210 x 297 mm; 72 points per inch, 25.4 mm per inch). */
#define MM (72.0 / 25.4)
#define PAGE_W (210.0 * MM)
#define PAGE_H (297.0 * MM)
/* Margins: 15 mm at the sides leaves 180 mm for the widest table (12 columns); 25 mm at
 * the bottom holds the two footer lines above a printer's unprintable edge. */
#define MARGIN_X (15.0 * MM)
#define MARGIN_TOP (15.0 * MM)
#define MARGIN_BOTTOM (25.0 * MM)
#define CONTENT_W (PAGE_W - 2 * MARGIN_X)
/* Type sizes: body text as in printed minutes (about 10 pt), the table a little smaller
 * so that a 45-person list with three levels stays readable on portrait A4. */
#define BODY_PT 10.0
#define TABLE_PT 7.5
#define FOOTER_PT 7.0
#define TITLE_PT 15.0
#define CELL_PAD (1.2 * MM)
#define FONT_FAMILY "DejaVu Sans"

typedef struct doc {
    cairo_t *cr;
    const phieu_report_data *d;
    const phieu_tally *t;
    const char *fingerprint;
    int draft;
    int page;     /* 1-based, the page being laid out */
    int n_pages;  /* 0 in the counting pass */
    double y;     /* the next free line, points from the top */
} doc;

static PangoLayout *make_layout(doc *m, const char *text, double size, int bold, double width,
                                PangoAlignment align)
{
    PangoLayout *l = pango_cairo_create_layout(m->cr);
    PangoFontDescription *fd = pango_font_description_from_string(FONT_FAMILY);
    pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
    pango_font_description_set_weight(fd, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    pango_layout_set_width(l, (int)(width * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(l, align);
    pango_layout_set_text(l, text, -1);
    /* No ligatures: "ff" in a hash must stay two letters for pdftotext and for people. */
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_font_features_new("liga=0,clig=0,dlig=0"));
    pango_layout_set_attributes(l, attrs);
    pango_attr_list_unref(attrs);
    return l;
}

static double text_height(doc *m, const char *text, double size, int bold, double width)
{
    PangoLayout *l = make_layout(m, text, size, bold, width, PANGO_ALIGN_LEFT);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
    return (double)h / PANGO_SCALE;
}

static double draw_text(doc *m, double x, double y, double width, const char *text,
                        double size, int bold, PangoAlignment align)
{
    PangoLayout *l = make_layout(m, text, size, bold, width, align);
    cairo_move_to(m->cr, x, y);
    pango_cairo_show_layout(m->cr, l);
    int w, h;
    pango_layout_get_size(l, &w, &h);
    g_object_unref(l);
    return (double)h / PANGO_SCALE;
}

static void page_decorations(doc *m)
{
    cairo_t *cr = m->cr;
    if (m->draft) {
        cairo_save(cr);
        cairo_set_source_rgb(cr, 0.82, 0.82, 0.82);
        cairo_translate(cr, PAGE_W / 2, PAGE_H / 2);
        cairo_rotate(cr, -0.9);
        PangoLayout *l = make_layout(m, "BẢN NHÁP / DRAFT", 54, 1, PAGE_H, PANGO_ALIGN_CENTER);
        int w, h;
        pango_layout_get_size(l, &w, &h);
        cairo_move_to(cr, -PAGE_H / 2, -(double)h / PANGO_SCALE / 2);
        pango_cairo_show_layout(cr, l);
        g_object_unref(l);
        cairo_restore(cr);
        cairo_set_source_rgb(cr, 0.75, 0, 0);
        draw_text(m, MARGIN_X, 6 * MM, CONTENT_W, "BẢN NHÁP / DRAFT — chưa phải kết quả chính thức",
                  FOOTER_PT + 1, 1, PANGO_ALIGN_CENTER);
        cairo_set_source_rgb(cr, 0, 0, 0);
    }
    char line[256], page[64];
    snprintf(line, sizeof line, "Dấu vân tay bằng chứng (SHA-256 của manifest.json): %s",
             m->fingerprint);
    if (m->n_pages > 0)
        snprintf(page, sizeof page, "Trang %d/%d", m->page, m->n_pages);
    else
        snprintf(page, sizeof page, "Trang %d/%d", m->page, 99);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 0.5);
    cairo_move_to(cr, MARGIN_X, PAGE_H - MARGIN_BOTTOM + 4 * MM);
    cairo_line_to(cr, PAGE_W - MARGIN_X, PAGE_H - MARGIN_BOTTOM + 4 * MM);
    cairo_stroke(cr);
    double y = PAGE_H - MARGIN_BOTTOM + 5.5 * MM;
    draw_text(m, MARGIN_X, y, CONTENT_W - 25 * MM, line, FOOTER_PT, 0, PANGO_ALIGN_LEFT);
    draw_text(m, PAGE_W - MARGIN_X - 25 * MM, y, 25 * MM, page, FOOTER_PT + 1, 1,
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

static void para(doc *m, const char *text, double size, int bold, PangoAlignment align,
                 double space_after)
{
    double h = text_height(m, text, size, bold, CONTENT_W);
    need(m, h);
    m->y += draw_text(m, MARGIN_X, m->y, CONTENT_W, text, size, bold, align) + space_after;
}

/* ---- The table of one form ----------------------------------------------------------- */

#define MAX_COLS (6 + PHIEU_FORM_MAX_CHOICES)

typedef struct table {
    int n;
    double w[MAX_COLS];
} table;

static double row_height(doc *m, const table *tb, char cells[][160], int bold)
{
    double h = 0;
    for (int c = 0; c < tb->n; c++) {
        double ch = text_height(m, cells[c], TABLE_PT, bold, tb->w[c] - 2 * CELL_PAD);
        if (ch > h)
            h = ch;
    }
    return h + 2 * CELL_PAD;
}

static void draw_row(doc *m, const table *tb, char cells[][160], int bold, double h, int header)
{
    double x = MARGIN_X;
    cairo_set_line_width(m->cr, 0.6);
    for (int c = 0; c < tb->n; c++) {
        if (header) {
            cairo_set_source_rgb(m->cr, 0.9, 0.9, 0.9);
            cairo_rectangle(m->cr, x, m->y, tb->w[c], h);
            cairo_fill(m->cr);
        }
        cairo_set_source_rgb(m->cr, 0, 0, 0);
        cairo_rectangle(m->cr, x, m->y, tb->w[c], h);
        cairo_stroke(m->cr);
        PangoAlignment align = (c == 1 || c == 2 || c == tb->n - 1) && !header
                                   ? PANGO_ALIGN_LEFT
                                   : PANGO_ALIGN_CENTER;
        draw_text(m, x + CELL_PAD, m->y + CELL_PAD, tb->w[c] - 2 * CELL_PAD, cells[c], TABLE_PT,
                  bold, align);
        x += tb->w[c];
    }
    m->y += h;
}

static void form_table(doc *m, const phieu_tally_form *f)
{
    const phieu_form *form = f->form;
    table tb = {0};
    /* Column widths in mm; they add up to the 180 mm between the margins. */
    double fixed[] = {9, 34, 36, 13, 15};
    double level_w = form->n_choices == 3 ? 17 : 22;
    for (int i = 0; i < 5; i++)
        tb.w[tb.n++] = fixed[i] * MM;
    for (int c = 0; c < form->n_choices; c++)
        tb.w[tb.n++] = level_w * MM;
    double used = 0;
    for (int i = 0; i < tb.n; i++)
        used += tb.w[i];
    tb.w[tb.n++] = CONTENT_W - used;

    char head[MAX_COLS][160];
    int k = 0;
    snprintf(head[k++], 160, "STT");
    snprintf(head[k++], 160, "Họ và tên");
    snprintf(head[k++], 160, "Chức vụ");
    snprintf(head[k++], 160, "Phiếu hợp lệ");
    snprintf(head[k++], 160, "Không hợp lệ");
    for (int c = 0; c < form->n_choices; c++)
        snprintf(head[k++], 160, "%s\n(số phiếu, tỷ lệ)", form->choices[c].label);
    snprintf(head[k++], 160, "Kết quả theo ngưỡng");
    double hh = row_height(m, &tb, head, 1);

    for (int p = 0; p < f->n_persons; p++) {
        const phieu_tally_person *tp = &f->persons[p];
        char cells[MAX_COLS][160];
        k = 0;
        snprintf(cells[k++], 160, "%d", tp->number);
        snprintf(cells[k++], 160, "%s", tp->name);
        snprintf(cells[k++], 160, "%s", tp->post);
        snprintf(cells[k++], 160, "%d", tp->valid);
        if (tp->pending > 0)
            snprintf(cells[k++], 160, "%d\n(chờ: %d)", tp->not_valid, tp->pending);
        else
            snprintf(cells[k++], 160, "%d", tp->not_valid);
        for (int c = 0; c < form->n_choices; c++) {
            char pct[PHIEU_PERCENT_TEXT_MAX];
            phieu_percent_text(tp->percent[c], pct);
            snprintf(cells[k++], 160, "%d\n%s", tp->count[c], pct);
        }
        const char *band = phieu_band_text(tp->band, "vi");
        snprintf(cells[k++], 160, "%s", band && *band ? band : "Không thuộc ngưỡng nào");
        double h = row_height(m, &tb, cells, 0);
        if (p == 0 || m->y + h > PAGE_H - MARGIN_BOTTOM) {
            need(m, hh + h);
            draw_row(m, &tb, head, 1, hh, 1);
        }
        draw_row(m, &tb, cells, 0, h, 0);
    }
    m->y += 4 * MM;
}

/* ---- The document ---------------------------------------------------------------------- */

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

static void header(doc *m)
{
    const phieu_report_data *d = m->d;
    double half = CONTENT_W / 2;
    char left[600];
    snprintf(left, sizeof left, "%s\n%s", d->council, d->session_name);
    double h1 = draw_text(m, MARGIN_X, m->y, half - 4 * MM, left, BODY_PT, 1, PANGO_ALIGN_CENTER);
    double h2 = draw_text(m, MARGIN_X + half, m->y, half,
                          "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc",
                          BODY_PT, 1, PANGO_ALIGN_CENTER);
    m->y += (h1 > h2 ? h1 : h2) + 6 * MM;
    para(m, "BIÊN BẢN KIỂM PHIẾU", TITLE_PT, 1, PANGO_ALIGN_CENTER, 1 * MM);
    int rating = 0, confidence = 0;
    for (int i = 0; i < d->n_forms; i++)
        *(d->forms[i]->kind == PHIEU_FORM_RATING ? &rating : &confidence) += 1;
    para(m,
         rating && confidence ? "Kết quả lấy phiếu tín nhiệm và bỏ phiếu tín nhiệm"
         : rating             ? "Kết quả lấy phiếu tín nhiệm"
                              : "Kết quả bỏ phiếu tín nhiệm",
         BODY_PT + 1, 1, PANGO_ALIGN_CENTER, 1 * MM);
    if (m->draft) {
        cairo_set_source_rgb(m->cr, 0.75, 0, 0);
        para(m, "BẢN NHÁP / DRAFT", BODY_PT + 2, 1, PANGO_ALIGN_CENTER, 0);
        cairo_set_source_rgb(m->cr, 0, 0, 0);
    }
    if (d->test)
        para(m, "PHIÊN THỬ / TEST SESSION — không có giá trị pháp lý", BODY_PT, 1,
             PANGO_ALIGN_CENTER, 0);
    m->y += 4 * MM;
}

static void body(doc *m)
{
    const phieu_report_data *d = m->d;
    const phieu_tally *t = m->t;
    char line[2048];
    snprintf(line, sizeof line, "Hội đồng: %s\nKỳ họp: %s\nNgày: %s\nĐịa điểm: %s", d->council,
             d->session_name, d->date, d->place);
    para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 3 * MM);

    para(m, "Ban kiểm phiếu gồm:", BODY_PT, 1, PANGO_ALIGN_LEFT, 1 * MM);
    snprintf(line, sizeof line, "  1. %s — Trưởng ban\n  2. %s — Thư ký",
             *d->board_head ? d->board_head : "(chưa nhập)",
             *d->board_secretary ? d->board_secretary : "(chưa nhập)");
    size_t len = strlen(line);
    for (int i = 0; i < d->n_members && len < sizeof line - 300; i++)
        len += (size_t)snprintf(line + len, sizeof line - len, "\n  %d. %s — Ủy viên", i + 3,
                                d->board_members[i]);
    para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 3 * MM);

    int present = 0;
    for (int i = 0; i < d->n_forms; i++)
        if (d->counts[i].entered && d->counts[i].present > present)
            present = d->counts[i].present;
    snprintf(line, sizeof line, "Tổng số đại biểu: %d. Số đại biểu có mặt: %d.", d->delegates,
             present);
    para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 1 * MM);
    snprintf(line, sizeof line,
             "Căn cứ: %s. Tỷ lệ phần trăm tính trên %s; làm tròn hai chữ số thập phân.",
             d->rules->title_vi,
             d->rules->base == PHIEU_BASE_COLLECTED ? "tổng số phiếu thu về"
                                                    : "tổng số đại biểu");
    para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 4 * MM);

    for (int i = 0; i < t->n_forms; i++) {
        const phieu_tally_form *f = &t->forms[i];
        int valid = f->ballots - f->invalid_ballots - f->pending_ballots;
        snprintf(line, sizeof line, "%d. %s (mẫu phiếu \"%s\")", i + 1, f->form->title,
                 f->form->id);
        need(m, 40 * MM);
        para(m, line, BODY_PT + 1, 1, PANGO_ALIGN_LEFT, 1 * MM);
        snprintf(line, sizeof line,
                 "Số phiếu phát ra: %d. Số phiếu thu về: %d. Số phiếu hỏng đã đổi: %d.\n"
                 "Số phiếu hợp lệ: %d. Số phiếu không hợp lệ: %d.%s",
                 f->counts.issued, f->counts.collected, f->counts.spoiled, valid,
                 f->invalid_ballots + (t->n_forms == 1 ? t->unknown_form_invalid : 0),
                 f->pending_ballots ? " (còn phiếu chờ Ban kiểm phiếu quyết định)" : "");
        para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
        if (f->board_read > 0) {
            snprintf(line, sizeof line,
                     "Trong đó có %d phiếu máy không đọc được, do Ban kiểm phiếu đọc trực tiếp "
                     "trên phiếu giấy và kiểm đếm.",
                     f->board_read);
            para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 2 * MM);
        }
        form_table(m, f);
    }

    char marked[32], marginal[32], ink[32];
    decimal_comma(d->thresholds.value[PHIEU_TH_MARKED], marked, sizeof marked);
    decimal_comma(d->thresholds.value[PHIEU_TH_MARGINAL], marginal, sizeof marginal);
    decimal_comma(d->thresholds.value[PHIEU_TH_INK], ink, sizeof ink);
    snprintf(line, sizeof line,
             "Ngưỡng đọc phiếu áp dụng: ô được coi là đã đánh dấu khi điểm ≥ %s; ô có điểm từ "
             "%s đến dưới %s do Ban kiểm phiếu quyết định; mực tính từ độ đậm ≥ %s.",
             marked, marginal, marked, ink);
    para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 1 * MM);
    snprintf(line, sizeof line,
             "Số trường hợp máy không tự quyết định và Ban kiểm phiếu đã quyết định: %d "
             "(trên tổng số %d; còn chờ: %d).",
             d->exceptions_resolved, d->exceptions_total, d->exceptions_open);
    para(m, line, BODY_PT, 0, PANGO_ALIGN_LEFT, 1 * MM);
    para(m, "Khiếu nại (nếu có): ....................................................................",
         BODY_PT, 0, PANGO_ALIGN_LEFT, 3 * MM);
}

static void signatures(doc *m, const char *public_key_hex)
{
    const phieu_report_data *d = m->d;
    char line[400];
    if (public_key_hex)
        snprintf(line, sizeof line,
                 "Khóa công khai (Ed25519) của Ban kiểm phiếu: %s\nKiểm tra: phieu verify "
                 "THƯ_MỤC --pubkey TỆP_KHÓA.pub",
                 public_key_hex);
    else
        snprintf(line, sizeof line, "Bản này không có chữ ký số (không dùng khóa của Ban).");
    para(m, line, FOOTER_PT + 1, 0, PANGO_ALIGN_LEFT, 5 * MM);

    need(m, 45 * MM);
    double col = CONTENT_W / 3;
    const char *titles[3] = {"TRƯỞNG BAN", "THƯ KÝ", "CÁC ỦY VIÊN"};
    char members[1024] = "";
    size_t len = 0;
    for (int i = 0; i < d->n_members && len < sizeof members - 260; i++)
        len += (size_t)snprintf(members + len, sizeof members - len, "%s%s", i ? "\n\n" : "",
                                d->board_members[i]);
    const char *names[3] = {d->board_head, d->board_secretary, members};
    double h = 0;
    for (int c = 0; c < 3; c++) {
        double x = MARGIN_X + c * col;
        double y = m->y;
        y += draw_text(m, x, y, col, titles[c], BODY_PT, 1, PANGO_ALIGN_CENTER);
        y += draw_text(m, x, y, col, "(Ký, ghi rõ họ tên)", FOOTER_PT + 1, 0,
                       PANGO_ALIGN_CENTER);
        y += 18 * MM;
        y += draw_text(m, x, y, col, names[c], BODY_PT, 0, PANGO_ALIGN_CENTER);
        if (y - m->y > h)
            h = y - m->y;
    }
    m->y += h;
}

/* Technical appendix: each change the head made to a case already decided (an override),
 * with its note and the decisions it replaced, so that the board sees every one when it
 * signs. Never a choice (the log holds none either); listed by random exception number. */
static void overrides_appendix(doc *m)
{
    const phieu_report_data *d = m->d;
    if (d->n_overrides == 0)
        return;
    need(m, 25 * MM);
    para(m, "Phụ lục kỹ thuật: các quyết định thay thế của Trưởng ban", BODY_PT, 1,
         PANGO_ALIGN_LEFT, 1 * MM);
    for (size_t i = 0; i < d->n_overrides; i++) {
        const phieu_override *o = &d->overrides[i];
        char line[PHIEU_NOTE_MAX + 1024], where[32];
        if (o->row > 0)
            snprintf(where, sizeof where, "dòng %d", o->row);
        else
            snprintf(where, sizeof where, "cả tờ phiếu");
        snprintf(line, sizeof line,
                 "%zu. Trường hợp %lld (%s, %s): %s thay thế các quyết định %s lúc %s. Lý do: "
                 "%s",
                 i + 1, (long long)o->exception_id, o->reason, where, o->user, o->earlier,
                 o->time, o->note);
        para(m, line, FOOTER_PT + 1, 0, PANGO_ALIGN_LEFT, 1 * MM);
    }
}

static void lay_out(doc *m, const char *public_key_hex)
{
    m->page = 1;
    m->y = MARGIN_TOP;
    page_decorations(m);
    header(m);
    body(m);
    signatures(m, public_key_hex);
    overrides_appendix(m);
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

int phieu_report_minutes_pdf(const phieu_report_data *d, const phieu_tally *t,
                             const char *fingerprint, const char *public_key_hex, int draft,
                             const char *path, int *pages, phieu_error *err)
{
    doc m = {.d = d, .t = t, .fingerprint = fingerprint, .draft = draft};
    /* Pass 1: count the pages. */
    cairo_surface_t *surf = cairo_pdf_surface_create_for_stream(discard, NULL, PAGE_W, PAGE_H);
    m.cr = cairo_create(surf);
    lay_out(&m, public_key_hex);
    int n = m.page;
    cairo_destroy(m.cr);
    cairo_surface_finish(surf);
    cairo_status_t st = cairo_surface_status(surf);
    cairo_surface_destroy(surf);
    if (st != CAIRO_STATUS_SUCCESS)
        return phieu_error_set(err, PHIEU_ENOMEM, "cannot lay out the minutes: %s",
                               cairo_status_to_string(st));

    /* Pass 2: the real thing, "Trang i/n". */
    pdf_file pf = {fopen(path, "wb"), 0};
    if (!pf.f)
        return phieu_error_set(err, PHIEU_EIO, "cannot write the minutes '%s': %s", path,
                               strerror(errno));
    surf = cairo_pdf_surface_create_for_stream(pdf_write, &pf, PAGE_W, PAGE_H);
    /* PDF 1.4: no object streams, so the metadata stays readable to verify's byte search. */
    cairo_pdf_surface_restrict_to_version(surf, CAIRO_PDF_VERSION_1_4);
    char keywords[256], date[32];
    int kw = snprintf(keywords, sizeof keywords, "%s%s", REPORT_PDF_FINGERPRINT_PREFIX,
                      fingerprint);
    if (public_key_hex)
        snprintf(keywords + kw, sizeof keywords - (size_t)kw, " %s%s", REPORT_PDF_KEY_PREFIX,
                 public_key_hex);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE, "Biên bản kiểm phiếu");
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_KEYWORDS, keywords);
    cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "phieu " PHIEU_VERSION);
    if (iso_date(d->date, date, sizeof date)) {
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATE_DATE, date);
        cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_MOD_DATE, date);
    }
    m.cr = cairo_create(surf);
    m.n_pages = n;
    lay_out(&m, public_key_hex);
    cairo_destroy(m.cr);
    cairo_surface_finish(surf);
    st = cairo_surface_status(surf);
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
