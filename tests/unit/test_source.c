/*
 * test_source.c - the file page source (pages in name order from a folder, several files,
 * duplex sides and sheet numbers, a damaged file in the middle, out of memory) and the
 * operator's fault messages (English and Vietnamese, the sheet named). The SANE source is
 * tested through libsane by tests/e2e/sane_*.sh, one process per scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
        cmocka_unit_test(duplex_pairs_sides),
        cmocka_unit_test(files_in_given_order_and_damage),
        cmocka_unit_test(missing_folder_is_an_error),
        cmocka_unit_test(out_of_memory_is_clean),
        cmocka_unit_test(fault_messages_name_the_sheet),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
