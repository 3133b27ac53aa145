/*
 * test_source.c - the file page source (pages in name order from a folder, several files,
 * duplex sides and sheet numbers, a damaged file in the middle, out of memory) and the
 * operator's fault messages (English and Vietnamese, the sheet named), and a colour scan's
 * item decoded into its RGB archive PNG and its gray. The SANE source is tested through
 * libsane by tests/e2e/sane_*.sh, one process per scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/image.h"
#include "phieu/source.h"
#include "source/source_internal.h"

static char dir[256];

/* A w x h PNG whose every pixel is `level` (so a page tells which file it came from). */
static void write_png(const char *name, int w, int h, uint8_t level)
{
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_create(w, h, &img, &err), 0);
    for (int y = 0; y < h; y++)
        memset(img->pixels + (size_t)y * img->stride, level, (size_t)w);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(phieu_image_save_png(img, path, &err), 0);
    phieu_image_destroy(&img);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_source.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    /* Written out of order: the source sorts by name. */
    write_png("c.png", 30, 20, 30);
    write_png("a.png", 10, 20, 10);
    write_png("b.png", 20, 20, 20);
    write_png("d.png", 40, 20, 40);
    char path[512];
    snprintf(path, sizeof path, "%s/notes.txt", dir); /* not an image: skipped */
    FILE *f = fopen(path, "w");
    fputs("x", f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Reads every page; returns how many, with each page's level and side/sheet. */
static int drain(phieu_source *s, int *levels, int *sides, int *sheets, int max)
{
    int n = 0;
    phieu_error err = {0};
    for (;;) {
        phieu_image *img = NULL;
        phieu_page_info info;
        int rc = phieu_source_next(s, &img, &info, &err);
        if (rc == 0)
            return n;
        assert_int_equal(rc, 1);
        assert_true(n < max);
        levels[n] = img->pixels[0];
        sides[n] = info.side;
        sheets[n] = info.sheet;
        assert_int_equal(info.page, n + 1);
        assert_int_equal(info.bytes_received, (uint64_t)img->width * img->height);
        n++;
        phieu_image_destroy(&img);
    }
}

static void folder_in_name_order(void **state)
{
    (void)state;
    const char *paths[] = {dir};
    phieu_source *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_source_open_files(paths, 1, 0, NULL, &s, &err), 0);
    int levels[8], sides[8], sheets[8];
    assert_int_equal(drain(s, levels, sides, sheets, 8), 4);
    int want[] = {10, 20, 30, 40};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(levels[i], want[i]);
        assert_int_equal(sides[i], PHIEU_SOURCE_FRONT);
        assert_int_equal(sheets[i], i + 1);
    }
    phieu_source_destroy(&s);
    assert_null(s);
}

/* The one lister: image names in byte order, hidden files and other names skipped, the
 * PNM family only when asked (the rehearsal scanner feeds it); page counts by content. */
static void lister_names_and_pages(void **state)
{
    (void)state;
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/lister", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    const char *names[] = {"b.TIF", "a.png", ".hidden.png", "c.pnm", "notes.txt", "Z.tiff"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("not an image", f);
        fclose(f);
    }
    char **list = NULL;
    size_t n = 0;
    phieu_error err = {0};
    assert_int_equal(phieu_source_list_folder(sub, 0, &list, &n, &err), 0);
    assert_int_equal(n, 3);
    const char *want[] = {"Z.tiff", "a.png", "b.TIF"};
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, want[i]);
        assert_string_equal(list[i], path);
        /* A file that only looks like an image by name is one page (found unreadable when
         * fed), never dropped. */
        assert_int_equal(phieu_source_file_pages(list[i]), 1);
    }
    phieu_source_list_free(&list, n);
    assert_null(list);
    assert_int_equal(phieu_source_list_folder(sub, 1, &list, &n, &err), 0);
    assert_int_equal(n, 4);
    snprintf(path, sizeof path, "%s/c.pnm", sub);
    assert_string_equal(list[3], path);
    phieu_source_list_free(&list, n);

    /* A three-page TIFF counts its directories. */
    snprintf(path, sizeof path, "%s/three.tif", sub);
    TIFF *t = TIFFOpen(path, "w");
    assert_non_null(t);
    for (int page = 0; page < 3; page++) {
        uint8_t px[4] = {255, 255, 255, 255};
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 4);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 1);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 1);
        assert_int_equal(TIFFWriteScanline(t, px, 0, 0), 1);
        assert_int_equal(TIFFWriteDirectory(t), 1);
    }
    TIFFClose(t);
    assert_int_equal(phieu_source_file_pages(path), 3);

    snprintf(path, sizeof path, "%s/missing", sub);
    assert_int_equal(phieu_source_list_folder(path, 0, &list, &n, &err), PHIEU_EIO);
    assert_non_null(strstr(err.message, "missing"));
}

static void duplex_pairs_sides(void **state)
{
    (void)state;
    const char *paths[] = {dir};
    phieu_source *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_source_open_files(paths, 1, 1, NULL, &s, &err), 0);
    int levels[8], sides[8], sheets[8];
    assert_int_equal(drain(s, levels, sides, sheets, 8), 4);
    int want_side[] = {PHIEU_SOURCE_FRONT, PHIEU_SOURCE_BACK, PHIEU_SOURCE_FRONT,
                       PHIEU_SOURCE_BACK};
    int want_sheet[] = {1, 1, 2, 2};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sides[i], want_side[i]);
        assert_int_equal(sheets[i], want_sheet[i]);
    }
    phieu_source_destroy(&s);
}

static void files_in_given_order_and_damage(void **state)
{
    (void)state;
    char d[512], broken[512], b[512];
    snprintf(d, sizeof d, "%s/d.png", dir);
    snprintf(b, sizeof b, "%s/b.png", dir);
    snprintf(broken, sizeof broken, "%s/broken.png", dir);
    FILE *f = fopen(broken, "wb");
    fputs("\x89PNG\r\n\x1a\n-not-a-png", f);
    fclose(f);
    const char *paths[] = {d, broken, b};
    phieu_source *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_source_open_files(paths, 3, 0, NULL, &s, &err), 0);
    phieu_image *img = NULL;
    phieu_page_info info;
    assert_int_equal(phieu_source_next(s, &img, &info, &err), 1);
    assert_int_equal(img->pixels[0], 40);
    assert_non_null(strstr(info.origin, "d.png page 1"));
    phieu_image_destroy(&img);
    /* The damaged file is an error naming it; the next file still follows. */
    assert_int_equal(phieu_source_next(s, &img, &info, &err), PHIEU_EFORMAT);
    assert_null(img);
    assert_non_null(strstr(err.message, "broken.png"));
    assert_int_equal(phieu_source_next(s, &img, &info, &err), 1);
    assert_int_equal(img->pixels[0], 20);
    phieu_image_destroy(&img);
    assert_int_equal(phieu_source_next(s, &img, &info, &err), 0);
    phieu_source_destroy(&s);
    unlink(broken);
}

static void missing_folder_is_an_error(void **state)
{
    (void)state;
    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope/", dir);
    const char *paths[] = {missing};
    phieu_source *s = NULL;
    phieu_error err = {0};
    /* A path that does not exist is refused when the files are listed, naming it. */
    assert_int_equal(phieu_source_open_files(paths, 1, 0, NULL, &s, &err), PHIEU_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err.message, "nope"));
    phieu_source_destroy(&s);
}

static void out_of_memory_is_clean(void **state)
{
    (void)state;
    const char *paths[] = {dir};
    int failures_seen = 0;
    for (long n = 0; n < 200; n++) {
        phieu_source *s = NULL;
        phieu_error err = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_source_open_files(paths, 1, 0, NULL, &s, &err);
        int pages = 0;
        while (rc == 0) {
            phieu_image *img = NULL;
            phieu_page_info info;
            int r = phieu_source_next(s, &img, &info, &err);
            if (r <= 0) {
                rc = r;
                break;
            }
            pages++;
            phieu_image_destroy(&img);
        }
        long failed = phieu_alloc_failures();
        phieu_alloc_fail_after(-1);
        phieu_source_destroy(&s);
        if (failed == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(pages, 4);
            break;
        }
        failures_seen++;
        assert_true(rc < 0 || pages <= 4);
        if (rc < 0)
            assert_true(err.message[0] != '\0');
    }
    assert_true(failures_seen > 0);
}

/* A colour scanner page handed over as RGB (issue 12): decoding it on the worker gives
 * the archive's RGB PNG in `bytes` and the reader's gray (red seal dropped out) in `image`,
 * the gray the PNG itself decodes to; the RGB and the worker's spare are gone. Out of
 * memory is a clean error that release() cleans up. */
static void colour_item_decodes_to_rgb_png_and_gray(void **state)
{
    (void)state;
    enum { W = 23, H = 9 };
    static const uint8_t seal[3] = {209, 31, 31}, pen[3] = {25, 46, 140};
    for (long fail_after = -1; fail_after < 64; fail_after++) {
        phieu_source_item item;
        memset(&item, 0, sizeof item);
        item.rgb = phieu_malloc(3 * W * H);
        assert_non_null(item.rgb);
        for (int i = 0; i < W * H; i++)
            memcpy(item.rgb + 3 * i, i % 3 ? seal : pen, 3);
        item.rgb_width = W;
        item.rgb_height = H;
        item.info.dpi = 200;
        phieu_error err = {0};
        phieu_image *spare = NULL;
        assert_int_equal(phieu_image_create(50, 50, &spare, &err), 0);
        phieu_alloc_fail_after(fail_after);
        int rc = phieu_source_item_decode(&item, NULL, &spare, &err);
        phieu_alloc_fail_after(-1);
        assert_null(spare);
        if (rc < 0) {
            assert_int_equal(rc, PHIEU_ENOMEM);
            phieu_source_item_release(&item);
            assert_null(item.rgb);
            continue;
        }
        assert_null(item.rgb);
        assert_false(item.unreadable);
        assert_non_null(item.image);
        assert_int_equal(item.image->width, W);
        assert_true(item.image->dpi_x == 200);
        uint8_t g_seal = phieu_image_gray_of_rgb(seal[0], seal[1], seal[2]);
        uint8_t g_pen = phieu_image_gray_of_rgb(pen[0], pen[1], pen[2]);
        assert_true(g_seal > 200 && g_pen < 60); /* the seal drops out, the pen stays */
        assert_true(item.len > 26 && item.bytes[25] == 2); /* IHDR colour type: RGB */
        phieu_image *back = NULL;
        phieu_image_reader *r = NULL;
        assert_int_equal(phieu_image_reader_open_memory(item.bytes, item.len, "x", NULL, &r, &err),
                         0);
        assert_int_equal(phieu_image_reader_next(r, &back, &err), 1);
        phieu_image_reader_close(&r);
        for (int i = 0; i < W * H; i++) {
            uint8_t want = i % 3 ? g_seal : g_pen;
            assert_int_equal(item.image->pixels[(i / W) * item.image->stride + i % W], want);
            assert_int_equal(back->pixels[(i / W) * back->stride + i % W], want);
        }
        assert_true(back->dpi_x == 200);
        phieu_image_destroy(&back);
        phieu_source_item_release(&item);
        assert_null(item.image);
        assert_null(item.bytes);
        if (fail_after >= 0)
            break; /* every allocation from here on succeeds */
    }
}

static void fault_messages_name_the_sheet(void **state)
{
    (void)state;
    static const struct {
        phieu_source_fault fault;
        const char *en, *vi;
    } cases[] = {
        {PHIEU_FAULT_JAM, "paper jam", "Kẹt giấy ở tờ thứ 7"},
        {PHIEU_FAULT_COVER_OPEN, "cover", "Nắp máy quét đang mở ở tờ thứ 7"},
        {PHIEU_FAULT_IO, "failed at sheet 7", "Lỗi máy quét ở tờ thứ 7"},
        {PHIEU_FAULT_SHORT_PAGE, "incomplete page", "tờ thứ 7 bị thiếu dữ liệu"},
        {PHIEU_FAULT_CANCELLED, "stopped", "Đã dừng quét ở tờ thứ 7"},
        {PHIEU_FAULT_OTHER, "failed at sheet 7", "tờ thứ 7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        phieu_error err = {0};
        assert_int_equal(phieu_source_fault_error(&err, cases[i].fault, "x:0", 7, "why"),
                         PHIEU_EDEVICE);
        assert_int_equal(err.code, PHIEU_EDEVICE);
        assert_non_null(strstr(err.message, cases[i].en));
        assert_non_null(strstr(err.message, "sheet 7"));
        assert_non_null(strstr(err.message, cases[i].vi));
        assert_non_null(strstr(err.message, "khay nạp"));
        /* The whole message fits: nothing cut off at the end. */
        assert_true(strlen(err.message) < PHIEU_ERROR_MESSAGE_MAX - 1);
    }
    phieu_error err = {0};
    phieu_source_fault_error(&err, PHIEU_FAULT_EMPTY, "x:0", 0, NULL);
    assert_non_null(strstr(err.message, "no paper"));
    assert_non_null(strstr(err.message, "Khay nạp giấy trống"));
    phieu_source_fault_error(&err, PHIEU_FAULT_BUSY, "x:0", 0, "Device busy");
    assert_non_null(strstr(err.message, "busy"));
    assert_non_null(strstr(err.message, "Máy quét đang bận"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(folder_in_name_order),
        cmocka_unit_test(lister_names_and_pages),
        cmocka_unit_test(duplex_pairs_sides),
        cmocka_unit_test(files_in_given_order_and_damage),
        cmocka_unit_test(missing_folder_is_an_error),
        cmocka_unit_test(out_of_memory_is_clean),
        cmocka_unit_test(colour_item_decodes_to_rgb_png_and_gray),
        cmocka_unit_test(fault_messages_name_the_sheet),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
