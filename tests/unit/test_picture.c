/*
 * test_picture.c - phieu/picture.h, the picture a person decides from: a page scanned in
 * colour is shown in colour (a box filled in red pen, which the reader's red dropout
 * takes to near white, is red on the page and in its row's picture), a gray page stays
 * gray, a row's picture is that row's choice boxes with the margin asked for, and a row
 * that cannot be shown (a page never placed, or cut short by the scan) is PHIEU_ENOTFOUND
 * with words that say why.
 */
#include <stdlib.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/picture.h"
#include "phieu/util.h"

#include "test_support.h"

#define DPI 150.0
#define PX(mm) ((mm) * DPI / 25.4)
#define RED_ROW 2 /* 1-based */

typedef struct world {
    reader r;
    char dir[64];
    char colour_path[128], gray_path[128], cut_path[128];
    phieu_rect red; /* the box filled in red pen, mm */
    phieu_reading reading;
} world;

/* An RGB copy of a gray page with the box `box` (mm) filled in red pen. */
static phieu_rgb_image *colour_copy(const phieu_image *g, const phieu_rect *box)
{
    phieu_rgb_image *c = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_rgb_image_create(g->width, g->height, &c, &err), 0);
    c->dpi_x = c->dpi_y = g->dpi_x;
    for (int y = 0; y < g->height; y++)
        for (int x = 0; x < g->width; x++) {
            uint8_t v = g->pixels[(size_t)y * g->stride + x], *p = c->pixels + (size_t)y * c->stride + 3 * x;
            int in = x >= PX(box->x + 1) && x < PX(box->x + box->w - 1) && y >= PX(box->y + 1) &&
                     y < PX(box->y + box->h - 1);
            p[0] = in ? 200 : v;
            p[1] = in ? 40 : v;
            p[2] = in ? 40 : v;
        }
    return c;
}

static void save_png(const char *path, uint8_t *png, size_t len)
{
    phieu_error err = {0};
    assert_int_equal(phieu_write_file_durable(path, png, len, &err), 0);
    phieu_free(png);
}

static int setup(void **state)
{
    world *w = calloc(1, sizeof *w);
    phieu_error err = {0};
    assert_int_equal(phieu_util_init(&err), 0);
    snprintf(w->dir, sizeof w->dir, "/tmp/phieu-picture-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    reader_init(&w->r, "district-rating", NULL, 0);
    phieu_image *page = render_blank(w->r.forms[0], (int)DPI, 0);
    w->red = w->r.layouts[0].boxes[RED_ROW - 1][0];
    phieu_rgb_image *c = colour_copy(page, &w->red);
    uint8_t *png = NULL;
    size_t len = 0;
    snprintf(w->colour_path, sizeof w->colour_path, "%s/colour.png", w->dir);
    assert_int_equal(phieu_rgb_image_encode_png(c, &png, &len, &err), 0);
    save_png(w->colour_path, png, len);
    snprintf(w->gray_path, sizeof w->gray_path, "%s/gray.png", w->dir);
    assert_int_equal(phieu_image_encode_png(page, &png, &len, &err), 0);
    save_png(w->gray_path, png, len);
    /* The same page cut short by the scan: its lower half is missing. */
    phieu_image *top = NULL;
    assert_int_equal(phieu_image_crop(page, 0, 0, page->width, page->height / 2, &top, &err), 0);
    snprintf(w->cut_path, sizeof w->cut_path, "%s/cut.png", w->dir);
    assert_int_equal(phieu_image_encode_png(top, &png, &len, &err), 0);
    save_png(w->cut_path, png, len);
    /* The reader reads the colour file's gray: the red box drops out, the page is placed. */
    phieu_image *gray = NULL;
    phieu_image_limits lim = phieu_image_default_limits();
    assert_int_equal(phieu_image_load(w->colour_path, 0, &lim, &gray, &err), 0);
    w->reading = read_page(&w->r, gray);
    assert_true(phieu_picture_placed(&w->reading));
    phieu_image_destroy(&gray);
    phieu_image_destroy(&top);
    phieu_image_destroy(&page);
    phieu_rgb_image_destroy(&c);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    unlink(w->colour_path);
    unlink(w->gray_path);
    unlink(w->cut_path);
    rmdir(w->dir);
    reader_release(&w->r);
    free(w);
    return 0;
}

/* The picture as ask says, decoded again as stored (rgb set for a colour PNG, gray else). */
static int picture(const world *w, const char *path, const phieu_picture_ask *ask,
                   phieu_image **gray, phieu_rgb_image **rgb, phieu_error *err)
{
    phieu_picture *p = NULL;
    int size[2] = {0, 0};
    assert_int_equal(phieu_picture_load(path, &p, size, err), 0);
    assert_true(size[0] > 1000 && size[1] > 1000);
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = phieu_picture_png(p, &w->r.layouts[0], &w->reading, ask, &png, &len, err);
    phieu_picture_destroy(&p);
    if (rc != 0)
        return rc;
    char out[160];
    snprintf(out, sizeof out, "%s/out.png", w->dir);
    save_png(out, png, len);
    phieu_image_limits lim = phieu_image_default_limits();
    assert_int_equal(phieu_image_load_as_stored(out, 0, &lim, gray, rgb, err), 0);
    unlink(out);
    return 0;
}

static void expect_red(const phieu_rgb_image *im, double x, double y)
{
    const uint8_t *p = im->pixels + (size_t)lround(y) * im->stride + 3 * (size_t)lround(x);
    print_message("at (%.0f, %.0f): %d %d %d\n", x, y, p[0], p[1], p[2]);
    assert_true(p[0] >= 180 && p[1] <= 80 && p[2] <= 80);
}

static void test_colour_page_and_row(void **state)
{
    world *w = *state;
    phieu_error err = {0};
    phieu_image *gray = NULL;
    phieu_rgb_image *rgb = NULL;
    double cx = w->red.x + w->red.w / 2, cy = w->red.y + w->red.h / 2;

    phieu_picture_ask page = {0, 0, 0};
    assert_int_equal(picture(w, w->colour_path, &page, &gray, &rgb, &err), 0);
    assert_null(gray);
    assert_non_null(rgb);
    expect_red(rgb, PX(cx), PX(cy));
    phieu_rgb_image_destroy(&rgb);

    /* The row: its choice boxes edge to edge of their columns, the margin above and below. */
    const phieu_layout *L = &w->r.layouts[0];
    phieu_picture_ask row = {RED_ROW, 0, 0};
    assert_int_equal(picture(w, w->colour_path, &row, &gray, &rgb, &err), 0);
    assert_non_null(rgb);
    double want_w = PX(L->column_x[3 + L->n_choices] - L->column_x[3]);
    double want_h = PX(L->rows[RED_ROW - 1].h + 2 * PHIEU_PICTURE_ROW_MARGIN_MM);
    print_message("row picture %dx%d, expected about %.0fx%.0f\n", rgb->width, rgb->height,
                  want_w, want_h);
    assert_true(fabs(rgb->width - want_w) <= 3 && fabs(rgb->height - want_h) <= 3);
    expect_red(rgb, PX(cx - L->column_x[3]),
               PX(cy - (L->rows[RED_ROW - 1].y - PHIEU_PICTURE_ROW_MARGIN_MM)));
    phieu_rgb_image_destroy(&rgb);

    /* Scaled to fit, as the review screen asks. */
    phieu_picture_ask thumb = {0, 120, 170};
    assert_int_equal(picture(w, w->colour_path, &thumb, &gray, &rgb, &err), 0);
    assert_true(rgb->width <= 120 && rgb->height <= 170);
    phieu_rgb_image_destroy(&rgb);
}

static void test_gray_page_stays_gray(void **state)
{
    world *w = *state;
    phieu_error err = {0};
    phieu_image *gray = NULL;
    phieu_rgb_image *rgb = NULL;
    phieu_picture_ask row = {RED_ROW, 0, 0};
    assert_int_equal(picture(w, w->gray_path, &row, &gray, &rgb, &err), 0);
    assert_null(rgb);
    assert_non_null(gray);
    phieu_image_destroy(&gray);
}

static void test_rows_that_cannot_be_shown(void **state)
{
    world *w = *state;
    phieu_error err = {0};
    phieu_picture *p = NULL;
    uint8_t *png = NULL;
    size_t len = 0;
    /* A page the reader never placed (a rejected page has no transform). */
    phieu_reading unplaced = w->reading;
    unplaced.form_index = -1;
    memset(unplaced.transform, 0, sizeof unplaced.transform);
    assert_false(phieu_picture_placed(&unplaced));
    assert_int_equal(phieu_picture_load(w->colour_path, &p, NULL, &err), 0);
    phieu_picture_ask row = {RED_ROW, 0, 0};
    assert_int_equal(phieu_picture_png(p, &w->r.layouts[0], &unplaced, &row, &png, &len, &err),
                     PHIEU_ENOTFOUND);
    assert_null(png);
    assert_non_null(strstr(err.message, "not placed"));
    /* ... and its whole page is still shown. */
    phieu_picture_ask whole = {0, 0, 0};
    assert_int_equal(phieu_picture_png(p, NULL, NULL, &whole, &png, &len, &err), 0);
    assert_true(len > 0);
    phieu_free(png);
    phieu_picture_destroy(&p);

    /* A scan cut short: the last row lies below what was scanned. */
    assert_int_equal(phieu_picture_load(w->cut_path, &p, NULL, &err), 0);
    phieu_picture_ask last = {w->r.layouts[0].n_rows, 0, 0};
    assert_int_equal(phieu_picture_png(p, &w->r.layouts[0], &w->reading, &last, &png, &len, &err),
                     PHIEU_ENOTFOUND);
    assert_non_null(strstr(err.message, "outside the scanned image"));
    phieu_picture_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_colour_page_and_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gray_page_stays_gray, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rows_that_cannot_be_shown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
