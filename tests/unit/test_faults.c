/*
 * test_faults.c - out-of-memory loops in the manner of SQLite's malloc tests: for
 * n = 0, 1, 2, ... the (n+1)-th phieu_malloc fails and the operation runs again, until it
 * completes. Every failure must be a clean PHIEU_ENOMEM with a message, no crash and (under
 * `make asan`) no leak; a session must stay consistent and still take the same page.
 * Covered: image loading (PNG, TIFF, PNG encoding), reading a page, adding a page to a
 * session (and opening one), the report's data and the whole export.
 * libpng, libtiff, SQLite and cairo allocate with their own allocators; only our
 * allocations are failed here (the I/O-error and crash tests are under tests/e2e/faults_*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/audit.h"
#include "phieu/decisions.h"
#include "phieu/omr.h"
#include "phieu/pages.h"
#include "phieu/render.h"
#include "phieu/report.h"
#include "phieu/session.h"
#include "phieu/util.h"
#include "session_fixture.h"

/* fontconfig (under pango: the test ballots and the minutes) keeps its caches for the life
 * of the process; tell LeakSanitizer that this is not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\n";
}

/* No operation here makes anywhere near this many of our allocations (the export of a few
 * ballots makes a few hundred); reaching it means the loop never completes. */
#define MAX_STEPS 20000

typedef struct world {
    char dir[64];
    phieu_form *form;
    phieu_layout layout;
    phieu_image *blank;
    phieu_image *ballot;   /* every row marked */
    phieu_image *overvote; /* two marks in row 2: an exception (confirm_overvotes) */
    char png[128], tif[128];
} world;

static world W;

static int group_setup(void **state)
{
    (void)state;
    phieu_error err = {0};
    if (phieu_util_init(&err) != 0)
        return -1;
    fixture_tmpdir(W.dir);
    if (phieu_form_parse(fixture_rating_form, sizeof fixture_rating_form - 1, "test.form",
                         &W.form, &err) != 0 ||
        phieu_layout_compute(W.form, &W.layout, &err) != 0)
        return -1;
    phieu_render_options opt = {0, 1};
    if (phieu_render_raster(W.form, &opt, FIXTURE_DPI, &W.blank, &err) != 0)
        return -1;
    if (phieu_image_clone(W.blank, &W.ballot, &err) != 0 ||
        phieu_image_clone(W.blank, &W.overvote, &err) != 0)
        return -1;
    for (int r = 0; r < 4; r++) {
        fixture_mark(W.ballot, &W.layout, r, r % 2, 11, 1.0, 20);
        fixture_mark(W.overvote, &W.layout, r, 0, 12, 1.0, 20);
    }
    fixture_mark(W.overvote, &W.layout, 1, 1, 12, 1.0, 20);
    fixture_noise(W.overvote, 5); /* scanner noise: a page unlike the first in every pixel */
    snprintf(W.png, sizeof W.png, "%s/ballot.png", W.dir);
    snprintf(W.tif, sizeof W.tif, "%s/ballot.tif", W.dir);
    if (phieu_image_save_png(W.ballot, W.png, &err) != 0 ||
        phieu_image_save_tiff(W.ballot, W.tif, &err) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    phieu_alloc_fail_after(-1);
    phieu_image_destroy(&W.blank);
    phieu_image_destroy(&W.ballot);
    phieu_image_destroy(&W.overvote);
    phieu_form_destroy(&W.form);
    fixture_rmdir(W.dir);
    return 0;
}

/* One failed step: the code is ENOMEM, the message says so, and an allocation did fail
 * (an operation that reports ENOMEM without one would be lying). */
static void expect_clean_oom(int rc, const phieu_error *err, long n, const char *what)
{
    long failures = phieu_alloc_failures();
    phieu_alloc_fail_after(-1);
    if (rc != PHIEU_ENOMEM)
        fail_msg("%s with allocation %ld failing: code %d (%s), expected out of memory", what,
                 n + 1, rc, err->message);
    if (failures < 1)
        fail_msg("%s reported out of memory with no failed allocation", what);
    if (err->message[0] == '\0')
        fail_msg("%s: out of memory without a message", what);
}

static int same_pixels(const phieu_image *a, const phieu_image *b)
{
    if (a->width != b->width || a->height != b->height)
        return 0;
    for (int y = 0; y < a->height; y++)
        if (memcmp(a->pixels + (size_t)y * a->stride, b->pixels + (size_t)y * b->stride,
                   (size_t)a->width) != 0)
            return 0;
    return 1;
}

/* ---- Images ----------------------------------------------------------------------- */

static long load_loop(const char *path)
{
    phieu_image_limits lim = phieu_image_default_limits();
    for (long n = 0; n < MAX_STEPS; n++) {
        phieu_image *img = NULL;
        phieu_error err = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_image_load(path, 0, &lim, &img, &err);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            assert_true(same_pixels(img, W.ballot));
            phieu_image_destroy(&img);
            return n;
        }
        expect_clean_oom(rc, &err, n, path);
        assert_null(img);
    }
    fail_msg("loading '%s' never completed", path);
    return -1;
}

static void test_oom_image_load(void **state)
{
    (void)state;
    long png = load_loop(W.png), tif = load_loop(W.tif);
    print_message("image load: PNG after %ld failing allocations, TIFF after %ld\n", png, tif);
    assert_true(png >= 1 && tif >= 1); /* both allocate at least the image */
}

static void test_oom_image_encode_and_reader(void **state)
{
    (void)state;
    long n;
    for (n = 0; n < MAX_STEPS; n++) {
        uint8_t *data = NULL;
        size_t len = 0;
        phieu_error err = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_image_encode_png(W.ballot, &data, &len, &err);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            /* The bytes decode back to the same picture. */
            phieu_image_reader *r = NULL;
            phieu_image *img = NULL;
            phieu_image_limits lim = phieu_image_default_limits();
            assert_int_equal(phieu_image_reader_open_memory(data, len, "encoded", &lim, &r, &err),
                             0);
            assert_int_equal(phieu_image_reader_next(r, &img, &err), 1);
            assert_true(same_pixels(img, W.ballot));
            phieu_image_destroy(&img);
            phieu_image_reader_close(&r);
            phieu_free(data);
            break;
        }
        expect_clean_oom(rc, &err, n, "encode png");
        assert_null(data);
    }
    assert_true(n < MAX_STEPS);
    /* The reader on memory: open and next both under failures. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    phieu_error err = {0};
    assert_int_equal(phieu_read_file(W.tif, 1 << 26, &bytes, &len, &err), 0);
    for (n = 0; n < MAX_STEPS; n++) {
        phieu_image_reader *r = NULL;
        phieu_image *img = NULL;
        phieu_image_limits lim = phieu_image_default_limits();
        phieu_error e = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_image_reader_open_memory(bytes, len, "mem.tif", &lim, &r, &e);
        if (rc == 0) {
            rc = phieu_image_reader_next(r, &img, &e);
            if (rc == 1) {
                phieu_image *none = NULL;
                rc = phieu_image_reader_next(r, &none, &e) == 0 && !none ? 1 : -99;
            }
            phieu_image_reader_close(&r);
        }
        if (rc == 1) {
            phieu_alloc_fail_after(-1);
            assert_true(same_pixels(img, W.ballot));
            phieu_image_destroy(&img);
            break;
        }
        phieu_image_destroy(&img);
        expect_clean_oom(rc, &e, n, "tiff reader");
    }
    assert_true(n < MAX_STEPS);
    phieu_free(bytes);
}

/* ---- Reading a page ----------------------------------------------------------------- */

static void test_oom_omr_read(void **state)
{
    (void)state;
    const phieu_form *forms[1] = {W.form};
    phieu_omr_config cfg = {forms, &W.layout, 1, {{0}}, 0};
    phieu_thresholds_default(&cfg.thresholds);
    phieu_error err = {0};
    phieu_reading ref;
    assert_int_equal(phieu_omr_read(&cfg, W.ballot, &ref, &err), 0);
    assert_int_equal(ref.status, PHIEU_PAGE_COUNTED);
    long n;
    for (n = 0; n < MAX_STEPS; n++) {
        phieu_reading r;
        phieu_error e = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_omr_read(&cfg, W.ballot, &r, &e);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            /* Pure: the reading after failures equals the first one, byte for byte. */
            assert_memory_equal(&r, &ref, sizeof r);
            break;
        }
        expect_clean_oom(rc, &e, n, "omr read");
    }
    assert_true(n < MAX_STEPS);
    /* The contract allows scratch buffers only: a handful, not one per row or box. */
    print_message("omr read: %ld allocations per page (scratch)\n", n);
    assert_true(n <= 8);
}

/* ---- A session ----------------------------------------------------------------------- */

static phieu_session *new_session(const char *path)
{
    phieu_error err = {0};
    const phieu_form *forms[1] = {W.form};
    phieu_session_params p = {0};
    p.council = "Hội đồng nhân dân xã Thử";
    p.session_name = "Kỳ họp thứ Nhất";
    p.date = "2026-11-28";
    p.place = "Hội trường";
    p.delegates = 30;
    p.two_person_rule = 0;
    p.confirm_overvotes = 1; /* the overvote row becomes an exception for the board */
    p.forms = forms;
    p.n_forms = 1;
    p.actor = "tester";
    phieu_session *s = NULL;
    if (phieu_session_create(path, &p, &s, &err) != 0)
        fail_msg("create: %s", err.message);
    return s;
}

static int count_files(const char *dir, const char *containing)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strstr(e->d_name, containing))
            n++;
    closedir(d);
    return n;
}

static void expect_consistent(phieu_session *s, int pages)
{
    phieu_error err = {0};
    if (phieu_session_check_integrity(s, &err) != 0)
        fail_msg("integrity: %s", err.message);
    if (phieu_session_log_verify(s, &err) != 0)
        fail_msg("log: %s", err.message);
    phieu_session_progress pr;
    assert_int_equal(phieu_session_progress_get(s, &pr, &err), 0);
    assert_int_equal(pr.pages, pages);
}

/* Adds `page` under failing allocations until it goes in; returns the failures survived. */
static long add_loop(phieu_session *s, int64_t batch, const phieu_image *page, int pages_before,
                     phieu_page_result *out)
{
    const phieu_session_info *info = phieu_session_get_info(s);
    for (long n = 0; n < MAX_STEPS; n++) {
        phieu_error err = {0};
        phieu_page_meta meta = {batch, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
        phieu_alloc_fail_after(n);
        int rc = phieu_session_add_page(s, page, &meta, out, &err);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            assert_int_equal(out->outcome, PHIEU_ADD_NEW);
            expect_consistent(s, pages_before + 1);
            return n;
        }
        expect_clean_oom(rc, &err, n, "add page");
        /* Nothing committed, nothing half-written left in the archive. */
        expect_consistent(s, pages_before);
        assert_int_equal(count_files(info->archive_dir, ".tmp"), 0);
    }
    fail_msg("adding the page never completed");
    return -1;
}

static void test_oom_session_add_page(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/add.db", W.dir);
    phieu_session *s = new_session(path);
    phieu_error err = {0};
    phieu_batch b;
    assert_int_equal(phieu_session_batch_open(s, 0, &b, &err), 0);

    phieu_page_result res;
    long n1 = add_loop(s, b.id, W.ballot, 0, &res);
    assert_int_equal(res.status, PHIEU_PAGE_COUNTED);
    assert_int_equal(res.n_exceptions, 0);
    long n2 = add_loop(s, b.id, W.overvote, 1, &res);
    if (res.status != PHIEU_PAGE_REVIEW)
        fail_msg("the overvote page read as %s", phieu_page_status_name(res.status));
    assert_true(res.n_exceptions >= 1);
    print_message("add page: %ld and %ld failing allocations survived\n", n1, n2);

    /* The same page once more is the same sheet, not a second ballot. */
    phieu_page_meta meta = {b.id, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
    phieu_page_result again;
    assert_int_equal(phieu_session_add_page(s, W.ballot, &meta, &again, &err), 0);
    assert_int_equal(again.outcome, PHIEU_ADD_DUPLICATE);
    expect_consistent(s, 2);
    phieu_ballot *ballots = NULL;
    size_t nb = 0;
    assert_int_equal(phieu_session_ballots(s, &ballots, &nb, &err), 0);
    assert_int_equal(nb, 2);
    phieu_free(ballots);
    phieu_session_close(&s);

    /* Opening the session under failures: clean errors, then the same two pages. */
    long n;
    for (n = 0; n < MAX_STEPS; n++) {
        phieu_error e = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_session_open(path, &s, &e);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            expect_consistent(s, 2);
            break;
        }
        expect_clean_oom(rc, &e, n, "session open");
        assert_null(s);
    }
    assert_true(n < MAX_STEPS);
    print_message("session open: %ld failing allocations survived\n", n);
    phieu_session_close(&s);
}

/* ---- The report ---------------------------------------------------------------------- */

static void test_oom_report(void **state)
{
    (void)state;
    char path[128], out[160];
    snprintf(path, sizeof path, "%s/report.db", W.dir);
    phieu_session *s = new_session(path);
    phieu_error err = {0};
    phieu_batch b;
    assert_int_equal(phieu_session_batch_open(s, 0, &b, &err), 0);
    phieu_page_meta meta = {b.id, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
    phieu_page_result res;
    assert_int_equal(phieu_session_add_page(s, W.ballot, &meta, &res, &err), 0);
    assert_int_equal(phieu_session_add_page(s, W.overvote, &meta, &res, &err), 0);
    phieu_board_counts c = {1, 2, 2, 2, 0};
    assert_int_equal(phieu_session_set_counts(s, -1, &c, "tester", &err), 0);

    /* The board decides the overvote row, under failures too. */
    assert_int_equal(phieu_session_user_add(s, "tester", PHIEU_ROLE_SUPERVISOR,
                                            "correct horse battery", "tester", &err),
                     0);
    phieu_exception *exc = NULL;
    size_t n_exc = 0;
    assert_int_equal(phieu_session_exceptions_list(s, PHIEU_EXC_LIST_UNRESOLVED, &exc, &n_exc,
                                                   &err),
                     0);
    assert_true(n_exc >= 1);
    long n;
    for (size_t i = 0; i < n_exc; i++) {
        for (n = 0; n < MAX_STEPS; n++) {
            phieu_error e = {0};
            phieu_exception after;
            phieu_alloc_fail_after(n);
            int rc = phieu_session_decide(s, exc[i].id, "tester", W.form->choices[1].key,
                                          "ghi chú", &after, &e);
            if (rc == 0) {
                phieu_alloc_fail_after(-1);
                assert_int_equal(after.state, PHIEU_EXC_RESOLVED);
                break;
            }
            expect_clean_oom(rc, &e, n, "decide");
            phieu_decision *dec = NULL;
            size_t n_dec = 0;
            assert_int_equal(phieu_session_decisions_list(s, exc[i].id, &dec, &n_dec, &err), 0);
            assert_int_equal(n_dec, 0); /* a failed decision is not half-recorded */
            phieu_free(dec);
            expect_consistent(s, 2);
        }
        assert_true(n < MAX_STEPS);
    }
    phieu_free(exc);

    /* The data from the session. */
    phieu_report_data *d = NULL;
    for (n = 0; n < MAX_STEPS; n++) {
        phieu_error e = {0};
        phieu_alloc_fail_after(n);
        int rc = phieu_report_data_from_session(s, &d, &e);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            break;
        }
        expect_clean_oom(rc, &e, n, "report data");
        assert_null(d);
        expect_consistent(s, 2);
    }
    assert_true(n < MAX_STEPS);
    assert_int_equal(d->n_ballots, 2);
    long n_data = n;

    /* The draft export: each failure leaves the folder to be removed and written again. */
    phieu_key key;
    char keypath[128];
    snprintf(keypath, sizeof keypath, "%s/board.key", W.dir);
    assert_int_equal(phieu_key_generate(keypath, &key, &err), 0);
    phieu_report_options opt = {&key, 1};
    phieu_report_summary sum;
    for (n = 0; n < MAX_STEPS; n++) {
        phieu_error e = {0};
        snprintf(out, sizeof out, "%s/export", W.dir);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
        if (system(cmd) != 0)
            fail_msg("cannot remove %s", out);
        phieu_alloc_fail_after(n);
        int rc = phieu_report_write(d, out, &opt, &sum, &e);
        if (rc == 0) {
            phieu_alloc_fail_after(-1);
            break;
        }
        expect_clean_oom(rc, &e, n, "report write");
    }
    assert_true(n < MAX_STEPS);
    print_message("report: data after %ld failing allocations, export after %ld\n", n_data, n);
    assert_int_equal(sum.ballots, 2);
    assert_int_equal(sum.signed_, 1);
    phieu_report_data_destroy(&d);
    phieu_key_wipe(&key);
    expect_consistent(s, 2);
    phieu_session_close(&s);

    /* The export written after all those failures verifies. */
    phieu_verify_result vr;
    assert_int_equal(phieu_verify(out, NULL, &vr, &err), 0);
    if (!vr.ok)
        fail_msg("verify: %s", vr.problems.data ? vr.problems.data : "");
    assert_int_equal(vr.ballots, 2);
    phieu_verify_result_release(&vr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom_image_load),
        cmocka_unit_test(test_oom_image_encode_and_reader),
        cmocka_unit_test(test_oom_omr_read),
        cmocka_unit_test(test_oom_session_add_page),
        cmocka_unit_test(test_oom_report),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
