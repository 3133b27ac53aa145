/*
 * test_render.c - the printed ballot is what the reader expects: in rasters at 150, 300
 * and 600 dpi every box outline and fiducial of the layout is dark and every box inside
 * is white; the PDF (rasterised by poppler's pdftoppm) matches the direct raster; the
 * PDF's text gives back the Vietnamese names; fonts are embedded; test ballots carry
 * their band and flag. Uses the forms shipped in forms/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/render.h"

/* Gray levels a person would call "dark" and "white" on the page. */
#define DARK_MAX 110
#define WHITE_MIN 235
/* Two renderings of one pixel agree when within a third of the gray range: poppler
 * draws a 1.5 px rule as 2 px of black where cairo gives two pixels of gray 55-80. */
#define PIXEL_TOLERANCE 80

static const char *const form_names[] = {"district-rating", "province-rating",
                                         "confidence-vote"};
#define N_FORMS (sizeof form_names / sizeof form_names[0])

static phieu_form *load_form(const char *name)
{
    const char *src = getenv("PHIEU_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/forms/%s.form", src ? src : "..", name);
    phieu_form *f = NULL;
    phieu_error err = {0};
    int rc = phieu_form_load(path, &f, &err);
    if (rc)
        fail_msg("cannot load %s: %s", path, err.message);
    return f;
}

static int px(const phieu_image *img, double x_mm, double y_mm, double dpi)
{
    int x = (int)(x_mm * dpi / 25.4), y = (int)(y_mm * dpi / 25.4);
    assert_true(x >= 0 && x < img->width && y >= 0 && y < img->height);
    return img->pixels[(size_t)y * img->stride + x];
}

/* Every pixel whose centre lies in r (mm) passes the check; returns how many failed. */
static int count_rect(const phieu_image *img, phieu_rect r, double dpi, int want_dark)
{
    double s = dpi / 25.4;
    int x0 = (int)(r.x * s + 0.5), x1 = (int)((r.x + r.w) * s - 0.5);
    int y0 = (int)(r.y * s + 0.5), y1 = (int)((r.y + r.h) * s - 0.5);
    int bad = 0;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            int v = img->pixels[(size_t)y * img->stride + x];
            if (want_dark ? v > DARK_MAX : v < WHITE_MIN)
                bad++;
        }
    return bad;
}

static phieu_rect inset(phieu_rect r, double d)
{
    phieu_rect o = {r.x + d, r.y + d, r.w - 2 * d, r.h - 2 * d};
    return o;
}

/* Checks one raster against the layout: fiducials, the BR hole, every box outline and
 * interior, and a clear ring around each box (no rule or text touches it). */
static void check_raster(const phieu_form *f, const phieu_image *img, int dpi)
{
    phieu_layout L;
    phieu_error err = {0};
    assert_int_equal(phieu_layout_compute(f, &L, &err), 0);
    assert_int_equal(img->width, (int)(210.0 * dpi / 25.4 + 0.5));
    assert_int_equal(img->height, (int)(297.0 * dpi / 25.4 + 0.5));
    assert_true(img->dpi_x == dpi && img->dpi_y == dpi);
    double pxmm = 25.4 / dpi;
    for (int i = 0; i < 4; i++) {
        phieu_rect fid = L.fiducials[i];
        if (i == PHIEU_FID_BR) {
            /* The solid ring around the hole is dark, the hole white. */
            phieu_rect h = L.fiducial_hole;
            phieu_rect top = {fid.x, fid.y, fid.w, h.y - fid.y};
            phieu_rect left = {fid.x, fid.y, h.x - fid.x, fid.h};
            assert_int_equal(count_rect(img, inset(top, pxmm), dpi, 1), 0);
            assert_int_equal(count_rect(img, inset(left, pxmm), dpi, 1), 0);
            assert_int_equal(count_rect(img, inset(h, pxmm), dpi, 0), 0);
        } else {
            assert_int_equal(count_rect(img, inset(fid, pxmm), dpi, 1), 0);
        }
    }
    double lw = L.box_line_mm;
    for (int r = 0; r < L.n_rows; r++)
        for (int k = 0; k < L.n_choices; k++) {
            phieu_rect b = L.boxes[r][k];
            /* Along the centre line of each side, every 0.1 mm. */
            for (double t = lw; t <= b.w - lw; t += 0.1) {
                assert_in_range(px(img, b.x + t, b.y + lw / 2, dpi), 0, DARK_MAX);
                assert_in_range(px(img, b.x + t, b.y + b.h - lw / 2, dpi), 0, DARK_MAX);
                assert_in_range(px(img, b.x + lw / 2, b.y + t, dpi), 0, DARK_MAX);
                assert_in_range(px(img, b.x + b.w - lw / 2, b.y + t, dpi), 0, DARK_MAX);
            }
            /* Inside, 1 mm in from the outer edge: paper. */
            assert_int_equal(count_rect(img, inset(b, 1.0), dpi, 0), 0);
            /* A ring from 0.4 to 0.8 mm outside the box: paper too (rules keep clear). */
            phieu_rect ring_out = inset(b, -0.8);
            phieu_rect sides[4] = {
                {ring_out.x, ring_out.y, ring_out.w, 0.4},
                {ring_out.x, b.y + b.h + 0.4, ring_out.w, 0.4},
                {ring_out.x, ring_out.y, 0.4, ring_out.h},
                {b.x + b.w + 0.4, ring_out.y, 0.4, ring_out.h},
            };
            for (int s = 0; s < 4; s++)
                assert_int_equal(count_rect(img, sides[s], dpi, 0), 0);
        }
    /* Every line between two rows is drawn whole, across the box columns too: each box
     * sits inside its row, clear of the lines (issue 13: on the 30-row ballot the lines
     * broke around the boxes, which seemed to cross them). Sampled every 0.5 mm. */
    for (int r = 1; r < L.n_rows; r++)
        for (double x = L.table.x + 0.5; x < L.table.x + L.table.w - 0.5; x += 0.5)
            if (px(img, x, L.rows[r].y, dpi) > DARK_MAX)
                fail_msg("%s at %d dpi: the line above row %d is broken at x = %.1f mm",
                         f->id, dpi, r + 1, x);
    /* The form code's start and end bars are solid. */
    assert_int_equal(count_rect(img, inset(L.code_start, pxmm), dpi, 1), 0);
    assert_int_equal(count_rect(img, inset(L.code_end, pxmm), dpi, 1), 0);
}

static void raster_at(int dpi)
{
    for (size_t i = 0; i < N_FORMS; i++) {
        phieu_form *f = load_form(form_names[i]);
        phieu_image *img = NULL;
        phieu_error err = {0};
        phieu_render_options opt = {0, 1};
        assert_int_equal(phieu_render_raster(f, &opt, dpi, &img, &err), 0);
        check_raster(f, img, dpi);
        phieu_image_destroy(&img);
        phieu_form_destroy(&f);
    }
}

static void test_raster_150(void **state)
{
    (void)state;
    raster_at(150);
}

static void test_raster_300(void **state)
{
    (void)state;
    raster_at(300);
}

static void test_raster_600(void **state)
{
    (void)state;
    raster_at(600);
}

/* Reads the code cells of a raster: a cell is a 1 when its centre is dark. */
static void read_code(const phieu_layout *L, const phieu_image *img, int dpi,
                      uint8_t bits[PHIEU_FORM_CODE_BITS])
{
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++) {
        phieu_rect c = L->code_cells[i];
        bits[i] = px(img, c.x + c.w / 2, c.y + c.h / 2, dpi) < 128;
    }
}

static double mean_rect(const phieu_image *img, phieu_rect r, int dpi)
{
    double s = dpi / 25.4, sum = 0;
    int n = 0;
    for (int y = (int)(r.y * s); y < (int)((r.y + r.h) * s); y++)
        for (int x = (int)(r.x * s); x < (int)((r.x + r.w) * s); x++, n++)
            sum += img->pixels[(size_t)y * img->stride + x];
    return n ? sum / n : 0;
}

static void test_test_ballot(void **state)
{
    (void)state;
    phieu_form *f = load_form("district-rating");
    phieu_layout L;
    phieu_error err = {0};
    assert_int_equal(phieu_layout_compute(f, &L, &err), 0);
    for (int test = 0; test <= 1; test++) {
        phieu_image *img = NULL;
        phieu_render_options opt = {test, 1};
        assert_int_equal(phieu_render_raster(f, &opt, 200, &img, &err), 0);
        check_raster(f, img, 200);
        uint8_t want[PHIEU_FORM_CODE_BITS], got[PHIEU_FORM_CODE_BITS];
        phieu_form_code_bits(f, test, want);
        read_code(&L, img, 200, got);
        assert_memory_equal(want, got, sizeof want);
        phieu_form_code code;
        assert_int_equal(phieu_form_code_decode(got, &code, &err), 0);
        assert_int_equal(code.flags & PHIEU_FORM_CODE_FLAG_TEST, test ? PHIEU_FORM_CODE_FLAG_TEST : 0);
        assert_true(phieu_form_code_matches(&code, f));
        /* The band: light gray with darker text on a test ballot, plain paper otherwise. */
        double m = mean_rect(img, L.test_band, 200);
        if (test) {
            assert_in_range((int)m, 150, 230);
            /* Its left end (before the centred text) is the band's own gray. */
            phieu_rect edge = {L.test_band.x + 1, L.test_band.y + 1, 3, L.test_band.h - 2};
            assert_in_range((int)mean_rect(img, edge, 200), 205, 228);
        } else {
            assert_true(m > 250);
        }
        phieu_image_destroy(&img);
    }
    phieu_form_destroy(&f);
}

/* The columns (mm) between which dark pixels lie in r: the ink's extent across. */
static void ink_extent(const phieu_image *img, phieu_rect r, double dpi, double *x0, double *x1)
{
    double s = dpi / 25.4;
    int a = img->width, b = -1;
    for (int y = (int)(r.y * s); y < (int)((r.y + r.h) * s); y++)
        for (int x = (int)(r.x * s); x < (int)((r.x + r.w) * s); x++)
            if (img->pixels[(size_t)y * img->stride + x] < 128) {
                a = x < a ? x : a;
                b = x > b ? x : b;
            }
    assert_true(b >= a);
    *x0 = a / s;
    *x1 = (b + 1) / s;
}

/* What a person sees on the printed ballot: the title centred on the page, and on a test
 * ballot "PHIẾU THỬ – KHÔNG CÓ GIÁ TRỊ" in black letters across it. */
static void test_title_and_test_band(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_FORMS; i++) {
        phieu_form *f = load_form(form_names[i]);
        phieu_layout L;
        phieu_error err = {0};
        assert_int_equal(phieu_layout_compute(f, &L, &err), 0);
        phieu_image *img = NULL;
        phieu_render_options opt = {1, 1};
        assert_int_equal(phieu_render_raster(f, &opt, 150, &img, &err), 0);
        double x0, x1;
        ink_extent(img, L.title, 150, &x0, &x1);
        /* Centred on the A4 page (105 mm) within a pixel or two, and clear of the seal. */
        assert_true(fabs((x0 + x1) / 2 - 105.0) < 1.0);
        assert_true(x0 > L.seal.x + L.seal.w);
        /* The band's letters are black, and span a good part of the page. */
        int black = 0;
        double s = 150 / 25.4;
        for (int y = (int)(L.test_band.y * s); y < (int)((L.test_band.y + L.test_band.h) * s); y++)
            for (int x = (int)(L.test_band.x * s); x < (int)((L.test_band.x + L.test_band.w) * s); x++)
                black += img->pixels[(size_t)y * img->stride + x] < 60;
        assert_true(black > 300);
        ink_extent(img, (phieu_rect){L.test_band.x, L.test_band.y + 0.5, L.test_band.w,
                                     L.test_band.h - 1}, 150, &x0, &x1);
        assert_true(x1 - x0 > 50.0);
        phieu_image_destroy(&img);
        phieu_form_destroy(&f);
    }
}

static void test_deterministic(void **state)
{
    (void)state;
    phieu_form *f = load_form("confidence-vote");
    phieu_image *a = NULL, *b = NULL;
    phieu_error err = {0};
    phieu_render_options opt = {1, 1};
    assert_int_equal(phieu_render_raster(f, &opt, 150, &a, &err), 0);
    assert_int_equal(phieu_render_raster(f, &opt, 150, &b, &err), 0);
    assert_int_equal(a->width, b->width);
    for (int y = 0; y < a->height; y++)
        assert_memory_equal(a->pixels + (size_t)y * a->stride, b->pixels + (size_t)y * b->stride,
                            (size_t)a->width);
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
    phieu_form_destroy(&f);
}

static void test_bad_options(void **state)
{
    (void)state;
    phieu_form *f = load_form("confidence-vote");
    phieu_image *img = NULL;
    phieu_error err = {0};
    phieu_render_options opt = {0, 1};
    assert_int_equal(phieu_render_raster(f, &opt, 100, &img, &err), PHIEU_EINVAL);
    assert_null(img);
    assert_non_null(strstr(err.message, "150"));
    assert_int_equal(phieu_render_raster(f, &opt, 601, &img, &err), PHIEU_EINVAL);
    opt.copies = 0;
    assert_int_equal(phieu_render_pdf(f, &opt, "/nonexistent/x.pdf", &err), PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "copies"));
    opt.copies = 1;
    assert_true(phieu_render_pdf(f, &opt, "/nonexistent-dir/x.pdf", &err) < 0);
    assert_non_null(strstr(err.message, "/nonexistent-dir/x.pdf"));
    phieu_form_destroy(&f);
}

/* Every allocation failure ends in PHIEU_ENOMEM, nothing half-made is returned. */
static void test_out_of_memory(void **state)
{
    (void)state;
    phieu_form *f = load_form("confidence-vote");
    phieu_render_options opt = {0, 1};
    int done = 0;
    for (long n = 0; n < 1000 && !done; n++) {
        phieu_image *img = NULL;
        phieu_error err = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_render_raster(f, &opt, 150, &img, &err);
        long failed = phieu_alloc_failures();
        phieu_alloc_fail_after(-1);
        if (failed == 0) {
            assert_int_equal(rc, 0);
            done = 1;
        } else {
            assert_int_equal(rc, PHIEU_ENOMEM);
            assert_null(img);
            assert_true(err.message[0] != '\0');
        }
        phieu_image_destroy(&img);
    }
    assert_true(done);
    phieu_form_destroy(&f);
}

/* ---- The PDF, checked with poppler's tools ----------------------------------------- */

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/phieu-test-render-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs a command and returns its standard output (caller frees). */
static char *run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t got;
    while ((got = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 2) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[len] = '\0';
    assert_int_equal(pclose(p), 0);
    return out;
}

static char *print_pdf(const char *form_name, int copies, int test, phieu_form **fout)
{
    phieu_form *f = load_form(form_name);
    static char path[512];
    snprintf(path, sizeof path, "%s/%s-%d-%d.pdf", tmpdir, form_name, copies, test);
    phieu_error err = {0};
    phieu_render_options opt = {test, copies};
    assert_int_equal(phieu_render_pdf(f, &opt, path, &err), 0);
    if (fout)
        *fout = f;
    else
        phieu_form_destroy(&f);
    return path;
}

static void test_pdf_text_and_fonts(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_FORMS; i++) {
        phieu_form *f = NULL;
        const char *path = print_pdf(form_names[i], 1, 0, &f);
        char *text = run("pdftotext -enc UTF-8 '%s' -", path);
        for (int r = 0; r < f->n_rows; r++)
            if (!strstr(text, f->rows[r].name))
                fail_msg("name '%s' of %s not in the PDF's text", f->rows[r].name, f->id);
        /* Column titles wrap inside their cell and pdftotext may give the lines of
         * neighbouring cells in any order: look for each word of each label. */
        for (int k = 0; k < f->n_choices; k++) {
            char label[PHIEU_FORM_LABEL_MAX];
            snprintf(label, sizeof label, "%s", f->choices[k].label);
            for (char *save = NULL, *w = strtok_r(label, " ", &save); w;
                 w = strtok_r(NULL, " ", &save))
                if (!strstr(text, w))
                    fail_msg("word '%s' of label '%s' not in the PDF's text", w,
                             f->choices[k].label);
        }
        assert_non_null(strstr(text, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert_null(strstr(text, "PHIẾU THỬ"));
        /* The code line voters see: a short neutral code, not the form's file id. */
        char code[32];
        snprintf(code, sizeof code, "Mã %.4s-%.4s", f->fingerprint_hex, f->fingerprint_hex + 4);
        assert_non_null(strstr(text, code));
        assert_null(strstr(text, f->id));
        free(text);
        char *fonts = run("pdffonts '%s'", path);
        assert_non_null(strstr(fonts, "DejaVuSans"));
        /* Every font line says "yes" in the emb column: no line ends up "no" there. */
        for (char *line = strchr(fonts, '\n'); line; line = strchr(line + 1, '\n'))
            if (strstr(line, "DejaVu"))
                assert_non_null(strstr(line, " yes "));
        free(fonts);
        phieu_form_destroy(&f);
    }
}

static void test_pdf_copies_and_test_band(void **state)
{
    (void)state;
    const char *path = print_pdf("district-rating", 3, 1, NULL);
    char *info = run("pdfinfo '%s'", path);
    assert_non_null(strstr(info, "Pages:           3"));
    assert_non_null(strstr(info, "595.276 x 841.89 pts (A4)"));
    free(info);
    char *text = run("pdftotext -enc UTF-8 '%s' -", path);
    int bands = 0;
    for (char *p = text; (p = strstr(p, "PHIẾU THỬ – KHÔNG CÓ GIÁ TRỊ")); p++)
        bands++;
    assert_int_equal(bands, 3);
    free(text);
    /* The same form and options give the same bytes. */
    char copy[600];
    snprintf(copy, sizeof copy, "%s.first", path);
    assert_int_equal(rename(path, copy), 0);
    print_pdf("district-rating", 3, 1, NULL);
    char *cmp = run("cmp '%s' '%s' && echo same", copy, path);
    assert_non_null(strstr(cmp, "same"));
    free(cmp);
}

/* Reads a binary PGM (P5, maxval 255) as written by pdftoppm -gray. */
static phieu_image *read_pgm(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    int w, h, maxval;
    assert_int_equal(fscanf(fp, "P5 %d %d %d", &w, &h, &maxval), 3);
    assert_int_equal(maxval, 255);
    fgetc(fp);
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_create(w, h, &img, &err), 0);
    for (int y = 0; y < h; y++)
        assert_int_equal(fread(img->pixels + (size_t)y * img->stride, 1, (size_t)w, fp), (size_t)w);
    fclose(fp);
    return img;
}

static void test_pdf_matches_raster(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_FORMS; i++) {
        phieu_form *f = NULL;
        const char *path = print_pdf(form_names[i], 1, 1, &f);
        char prefix[600], pgm[640];
        snprintf(prefix, sizeof prefix, "%s/%s", tmpdir, form_names[i]);
        free(run("pdftoppm -r 150 -gray -singlefile '%s' '%s'", path, prefix));
        snprintf(pgm, sizeof pgm, "%s.pgm", prefix);
        phieu_image *pdf = read_pgm(pgm);
        phieu_image *ras = NULL;
        phieu_error err = {0};
        phieu_render_options opt = {1, 1};
        assert_int_equal(phieu_render_raster(f, &opt, 150, &ras, &err), 0);
        /* poppler rounds the page size (1240.16 x 1754.0 px) up, we round to nearest. */
        assert_in_range(pdf->width - ras->width, 0, 1);
        assert_in_range(pdf->height - ras->height, 0, 1);
        /* The poppler raster passes the same geometric checks as ours. */
        pdf->width = ras->width;
        pdf->height = ras->height;
        pdf->dpi_x = pdf->dpi_y = 150;
        check_raster(f, pdf, 150);
        /* Pixel by pixel. poppler snaps thin rules and box sides to whole pixels (stroke
         * adjustment) where cairo antialiases them, and sets text its own way, so an edge
         * may move by a pixel and a gray edge pixel may be black or white in the other.
         * A pixel differs only when its value lies outside the range of the other
         * raster's 3x3 neighbourhood (widened by a tolerance), both ways round. */
        long off = 0, total = (long)ras->width * ras->height;
        for (int y = 1; y + 1 < ras->height; y++)
            for (int x = 1; x + 1 < ras->width; x++) {
                int a = pdf->pixels[(size_t)y * pdf->stride + x];
                int b = ras->pixels[(size_t)y * ras->stride + x];
                if (abs(a - b) <= PIXEL_TOLERANCE)
                    continue;
                int a_lo = 255, a_hi = 0, b_lo = 255, b_hi = 0;
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int a2 = pdf->pixels[(size_t)(y + dy) * pdf->stride + x + dx];
                        int b2 = ras->pixels[(size_t)(y + dy) * ras->stride + x + dx];
                        a_lo = a2 < a_lo ? a2 : a_lo, a_hi = a2 > a_hi ? a2 : a_hi;
                        b_lo = b2 < b_lo ? b2 : b_lo, b_hi = b2 > b_hi ? b2 : b_hi;
                    }
                off += a < b_lo - PIXEL_TOLERANCE || a > b_hi + PIXEL_TOLERANCE ||
                       b < a_lo - PIXEL_TOLERANCE || b > a_hi + PIXEL_TOLERANCE;
            }
        /* 1 in 5000 pixels: a few hundred, the size of a misplaced word or box side. */
        if (off * 5000 > total)
            fail_msg("%s: %ld of %ld pixels of the PDF differ from the raster", f->id, off, total);
        phieu_image_destroy(&pdf);
        phieu_image_destroy(&ras);
        phieu_form_destroy(&f);
    }
}

int main(void)
{
    const struct CMUnitTest raster[] = {
        cmocka_unit_test(test_raster_150),   cmocka_unit_test(test_raster_300),
        cmocka_unit_test(test_raster_600),   cmocka_unit_test(test_test_ballot),
        cmocka_unit_test(test_deterministic), cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_out_of_memory), cmocka_unit_test(test_title_and_test_band),
    };
    const struct CMUnitTest pdf[] = {
        cmocka_unit_test(test_pdf_text_and_fonts),
        cmocka_unit_test(test_pdf_copies_and_test_band),
        cmocka_unit_test(test_pdf_matches_raster),
    };
    int failed = cmocka_run_group_tests_name("raster", raster, NULL, NULL);
    failed += cmocka_run_group_tests_name("pdf", pdf, setup_tmp, teardown_tmp);
    return failed;
}
