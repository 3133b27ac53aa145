/*
 * test_session.c - the session store: create/open/refuse, the page pipeline on rendered
 * and hand-marked ballots (duplicates, rescans, back sides, double feeds, unreadable
 * files), exceptions and the two-person rule, ballots after decisions, the reading blob,
 * and the audit log's tamper detection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/audit.h"
#include "phieu/decisions.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/tally.h"
#include "phieu/tally.h"
#include "phieu/util.h"
#include "session/session_internal.h"
#include "session_fixture.h"

/* A faint X (test_rescan_faint_mark): light gray, over part of the box. */
#define FAINT_LEVEL 238
#define FAINT_SIZE 0.45

/* fontconfig (under pango, used by phieu_render_raster for the test ballots) keeps its
 * caches for the life of the process; tell LeakSanitizer that this is not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\n";
}

typedef struct fixture {
    char dir[64];
    char path[128];
    phieu_form *form;
    phieu_layout layout;
    phieu_image *blank;
    phieu_session *s;
    int64_t batch;
} fixture;

static int make_session(fixture *f, int test, int two_person)
{
    phieu_error err = {0};
    const phieu_form *forms[1] = {f->form};
    phieu_session_params p = {0};
    p.council = "Hội đồng nhân dân xã Thử";
    p.session_name = "Kỳ họp thứ Nhất";
    p.date = "2026-11-28";
    p.place = "Hội trường";
    p.delegates = 30;
    p.test = test;
    p.two_person_rule = two_person;
    p.forms = forms;
    p.n_forms = 1;
    p.actor = "tester";
    int rc = phieu_session_create(f->path, &p, &f->s, &err);
    if (rc != 0)
        fail_msg("create: %s", err.message);
    phieu_batch b;
    if (phieu_session_batch_open(f->s, 0, &b, &err) != 0)
        fail_msg("batch: %s", err.message);
    f->batch = b.id;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    phieu_error err = {0};
    assert_int_equal(phieu_util_init(&err), 0);
    fixture_tmpdir(f->dir);
    snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    assert_int_equal(phieu_form_parse(fixture_rating_form, sizeof fixture_rating_form - 1,
                                      "test.form", &f->form, &err),
                     0);
    assert_int_equal(phieu_layout_compute(f->form, &f->layout, &err), 0);
    phieu_render_options opt = {0, 1};
    if (phieu_render_raster(f->form, &opt, FIXTURE_DPI, &f->blank, &err) != 0)
        fail_msg("render: %s", err.message);
    make_session(f, 0, -1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    phieu_session_close(&f->s);
    phieu_image_destroy(&f->blank);
    phieu_form_destroy(&f->form);
    fixture_rmdir(f->dir);
    free(f);
    return 0;
}

/* A ballot marked by hand `seed`: choices[r] per row (-1 leaves the row blank). */
static phieu_image *marked(fixture *f, const int choices[4], unsigned seed)
{
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_clone(f->blank, &img, &err), 0);
    for (int r = 0; r < 4; r++)
        if (choices[r] >= 0)
            fixture_mark(img, &f->layout, r, choices[r], seed, 1.0, 20);
    return img;
}

static void add(fixture *f, const phieu_image *img, phieu_page_result *res)
{
    phieu_error err = {0};
    phieu_page_meta meta = {f->batch, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
    if (phieu_session_add_page(f->s, img, &meta, res, &err) != 0)
        fail_msg("add_page: %s", err.message);
}

/* How many sheets have their strokes stored (table strokes, format 5). */
static int strokes_kept(fixture *f)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->s->db, "SELECT count(*) FROM strokes", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* ---- Create and open ---------------------------------------------------------------- */

static void test_create_open_roundtrip(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    phieu_board_counts c = {1, 28, 30, 29, 1};
    assert_int_equal(phieu_session_set_counts(f->s, -1, &c, "tester", &err), 0);
    const char *members[] = {"Lê Văn Một", "Phạm Thị Hai"};
    assert_int_equal(phieu_session_set_board(f->s, "Nguyễn Văn Trưởng", "Trần Thị Thư", members,
                                             2, "tester", &err),
                     0);
    phieu_session_close(&f->s);
    assert_null(f->s);
    assert_int_equal(phieu_session_open(f->path, &f->s, &err), 0);
    const phieu_session_info *info = phieu_session_get_info(f->s);
    assert_string_equal(info->council, "Hội đồng nhân dân xã Thử");
    assert_string_equal(info->date, "2026-11-28");
    assert_int_equal(info->delegates, 30);
    assert_string_equal(info->rules, "nq96");
    assert_int_equal(info->test, 0);
    assert_int_equal(info->two_person_rule, 1); /* official: on by default */
    assert_int_equal(info->n_forms, 1);
    assert_string_equal(info->forms[0]->fingerprint_hex, f->form->fingerprint_hex);
    assert_int_equal(info->counts[0].collected, 29);
    assert_int_equal(info->counts[0].spoiled, 1);
    assert_string_equal(info->board.head, "Nguyễn Văn Trưởng");
    assert_int_equal(info->board.n_members, 2);
    assert_string_equal(info->board.members[1], "Phạm Thị Hai");
    phieu_thresholds def;
    phieu_thresholds_default(&def);
    assert_true(info->thresholds.value[PHIEU_TH_MARKED] == def.value[PHIEU_TH_MARKED]);
    struct stat st;
    assert_int_equal(stat(info->archive_dir, &st), 0);
    assert_int_equal(phieu_session_check_integrity(f->s, &err), 0);

    /* Collected more than issued is refused; an existing file is not overwritten. */
    phieu_board_counts bad = {1, 28, 20, 29, 0};
    assert_int_equal(phieu_session_set_counts(f->s, 0, &bad, NULL, &err), PHIEU_EINVAL);
    phieu_session *other = NULL;
    const phieu_form *forms[1] = {f->form};
    phieu_session_params p = {"Hội đồng nhân dân xã Thử", "Kỳ họp thứ Nhất", "d", "p", 30,
                              NULL, 0, -1, 0, forms, 1, NULL, 0, NULL};
    assert_int_equal(phieu_session_create(f->path, &p, &other, &err), PHIEU_EEXIST);
    assert_null(other);
}

/* A form printed for another council or another session is refused, naming both texts and
 * what to do, and no session file is left behind; the same names in another case, spacing
 * or typing (decomposed letters) are the same council. */
static void test_refuses_form_of_other_council_or_session(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    char path[160];
    snprintf(path, sizeof path, "%s/other.db", f->dir);
    const phieu_form *forms[1] = {f->form};
    phieu_session *s = NULL;
    phieu_session_params p = {"Hội đồng nhân dân xã Thủ", "Kỳ họp thứ Nhất", "2026-11-28",
                              "Hội trường", 30, NULL, 0, -1, 0, forms, 1, NULL, 0, NULL};
    assert_int_equal(phieu_session_create(path, &p, &s, &err), PHIEU_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.message, "'HỘI ĐỒNG NHÂN DÂN XÃ THỬ'"));
    assert_non_null(strstr(err.message, "'Hội đồng nhân dân xã Thủ'"));
    assert_non_null(strstr(err.message, "--council"));
    struct stat st;
    assert_int_equal(stat(path, &st), -1);

    p.council = "HỘI ĐỒNG NHÂN DÂN XÃ THỬ";
    p.session_name = "Kỳ họp thứ Hai";
    assert_int_equal(phieu_session_create(path, &p, &s, &err), PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "'Kỳ họp thứ Nhất'"));
    assert_non_null(strstr(err.message, "'Kỳ họp thứ Hai'"));
    assert_non_null(strstr(err.message, "--session-name"));
    assert_int_equal(stat(path, &st), -1);

    /* "Thử" with its hook typed as a combining mark, odd spacing and case. */
    p.council = " hội  đồng nhân dân XÃ thu\xcc\x9b\xcc\x89 ";
    p.session_name = "KỲ HỌP THỨ NHẤT";
    assert_int_equal(phieu_session_create(path, &p, &s, &err), 0);
    phieu_session_close(&s);
}

/* The times of the count: not entered, empty; H:MM, HH:MM and 14h30 kept as HH:MM; a time
 * that is not one of a day refused with how to write it, the stored times unchanged; NULL
 * leaves a time, "" clears it. */
static void test_times_of_the_count(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    char o[PHIEU_SESSION_TIME_MAX], c[PHIEU_SESSION_TIME_MAX];
    assert_int_equal(phieu_session_times_get(f->s, o, c, &err), 0);
    assert_string_equal(o, "");
    assert_string_equal(c, "");
    assert_int_equal(phieu_session_set_times(f->s, "9:05", "16h45", "tester", &err), 0);
    assert_int_equal(phieu_session_times_get(f->s, o, c, &err), 0);
    assert_string_equal(o, "09:05");
    assert_string_equal(c, "16:45");
    const char *bad[] = {"24:00", "12:60", "12", "12:5", "1230", "12:30:00", "a:30", ":30"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(phieu_session_set_times(f->s, bad[i], NULL, "tester", &err),
                         PHIEU_EINVAL);
        assert_non_null(strstr(err.message, "e.g. 14:30"));
    }
    assert_int_equal(phieu_session_set_times(f->s, NULL, "", "tester", &err), 0);
    assert_int_equal(phieu_session_times_get(f->s, o, c, &err), 0);
    assert_string_equal(o, "09:05");
    assert_string_equal(c, "");
}

static void test_refuses_newer_and_foreign_files(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    phieu_session_close(&f->s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(phieu_session_open(f->path, &f->s, &err), PHIEU_ESTATE);
    assert_non_null(strstr(err.message, "newer phieu"));

    char other[160];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(phieu_session_open(other, &f->s, &err), PHIEU_EFORMAT);
    assert_non_null(strstr(err.message, "not a phieu session"));

    char junk[160];
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    FILE *fp = fopen(junk, "wb");
    for (int i = 0; i < 4096; i++)
        fputc(i * 7 & 0xff, fp);
    fclose(fp);
    assert_int_equal(phieu_session_open(junk, &f->s, &err), PHIEU_EFORMAT);
    assert_non_null(strstr(err.message, "damaged or not a phieu session"));
    assert_null(f->s);
    assert_int_equal(phieu_session_open("/nonexistent/x.db", &f->s, &err), PHIEU_ENOTFOUND);
}

/* ---- Pages -------------------------------------------------------------------------- */

static void test_page_counted_and_duplicate_image(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    const int choices[4] = {0, 2, 1, -1};
    phieu_image *img = marked(f, choices, 1);
    phieu_page_result res, again;
    add(f, img, &res);
    assert_int_equal(res.outcome, PHIEU_ADD_NEW);
    assert_int_equal(res.status, PHIEU_PAGE_COUNTED);
    assert_int_equal(res.n_exceptions, 0);
    assert_int_equal((int)strlen(res.sheet_id), PHIEU_SHEET_ID_LEN);

    /* The archive holds the PNG under its own hash. */
    char path[4200], sha[PHIEU_SHA256_HEX];
    assert_int_equal(phieu_session_image_path(f->s, res.sha256, 0, path, sizeof path, &err), 0);
    assert_int_equal(phieu_sha256_file(path, sha, &err), 0);
    assert_string_equal(sha, res.sha256);

    add(f, img, &again);
    assert_int_equal(again.outcome, PHIEU_ADD_DUPLICATE);
    assert_string_equal(again.sheet_id, res.sheet_id);

    phieu_ballot *ballots;
    size_t n;
    assert_int_equal(phieu_session_ballots(f->s, &ballots, &n, &err), 0);
    assert_int_equal((int)n, 1);
    assert_int_equal(ballots[0].state, PHIEU_BALLOT_VALID);
    assert_int_equal(ballots[0].value[0], 0);
    assert_int_equal(ballots[0].value[1], 2);
    assert_int_equal(ballots[0].value[2], 1);
    assert_int_equal(ballots[0].value[3], PHIEU_ROW_BLANK);
    phieu_free(ballots);

    /* The stored reading decodes to what the reader said. */
    phieu_sheet sh;
    phieu_reading *r = phieu_malloc(sizeof *r);
    assert_int_equal(phieu_session_sheet_get(f->s, res.sheet_id, &sh, r, &err), 0);
    assert_int_equal(memcmp(r->rows, res.reading.rows, sizeof r->rows), 0);
    assert_int_equal(sh.batch, f->batch);
    assert_int_equal(sh.position, 1);
    phieu_free(r);
    phieu_image_destroy(&img);
}

/* Two different hands marking the same boxes are two ballots; the same paper scanned
 * again (new scanner noise, so a different image) is a possible duplicate. */
static void test_rescan_and_same_pattern(void **state)
{
    fixture *f = *state;
    const int choices[4] = {2, 2, 0, 1};
    phieu_image *a = marked(f, choices, 11), *b = marked(f, choices, 12);
    phieu_page_result ra, rb, rc;
    add(f, a, &ra);
    add(f, b, &rb);
    assert_int_equal(ra.status, PHIEU_PAGE_COUNTED);
    assert_int_equal(rb.status, PHIEU_PAGE_COUNTED);
    assert_string_equal(rb.possible_duplicate_of, "");
    fixture_noise(a, 5);
    add(f, a, &rc);
    assert_int_equal(rc.outcome, PHIEU_ADD_NEW);
    assert_int_equal(rc.status, PHIEU_PAGE_REVIEW);
    assert_string_equal(rc.possible_duplicate_of, ra.sheet_id);

    phieu_exception *list;
    size_t n;
    phieu_error err = {0};
    assert_int_equal(phieu_session_exceptions_list(f->s, PHIEU_EXC_LIST_UNRESOLVED, &list, &n,
                                                   &err),
                     0);
    assert_int_equal((int)n, 1);
    assert_string_equal(list[0].reason, "possible-duplicate");
    assert_int_equal(list[0].row, 0);
    assert_non_null(strstr(list[0].text, ra.sheet_id));
    assert_string_equal(list[0].duplicate_of, ra.sheet_id);
    phieu_free(list);

    /* A file of format 1 (no duplicate_of column, no board readings) gets the earlier sheet
     * from the words. */
    phieu_session_close(&f->s);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE exceptions DROP COLUMN duplicate_of;"
                                  "DROP TABLE board_readings;"
                                  "DROP TABLE board_entries;"
                                  "DROP TABLE strokes;"
                                  "DELETE FROM settings WHERE key = 'board_entry_key';"
                                  "PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(phieu_session_open(f->path, &f->s, &err), 0);
    assert_int_equal(phieu_session_exceptions_list(f->s, PHIEU_EXC_LIST_ALL, &list, &n, &err),
                     0);
    assert_int_equal((int)n, 1);
    assert_string_equal(list[0].duplicate_of, ra.sheet_id);
    phieu_free(list);
    /* ... the table of strokes (format 5), empty: its sheets are compared from their
     * images ... */
    sqlite3_stmt *st;
    assert_int_equal(strokes_kept(f), 0);
    /* ... and the table and key of the board's readings (format 4). */
    assert_int_equal(sqlite3_prepare_v2(f->s->db,
                                        "SELECT length(value), (SELECT count(*) FROM"
                                        " board_entries) FROM settings WHERE key ="
                                        " 'board_entry_key'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 64);
    sqlite3_finalize(st);
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
}

/* A page of one mark is told from another hand's by its strokes, which the session keeps
 * with each such sheet: a rescan is held even when the earlier sheet's image is gone from
 * the archive (the strokes are not made from it again), and a sheet of an older session,
 * without stored strokes, or whose record is damaged, is compared from its image. */
static void test_rescan_of_one_mark_from_stored_strokes(void **state)
{
    fixture *f = *state;
    const int choices[4] = {1, -1, -1, -1};
    phieu_image *a = marked(f, choices, 21), *b = marked(f, choices, 22);
    phieu_page_result ra, rb, rc, rd;
    add(f, a, &ra);
    add(f, b, &rb);
    assert_int_equal(rb.outcome, PHIEU_ADD_NEW);
    assert_string_equal(rb.possible_duplicate_of, "");
    assert_int_equal(strokes_kept(f), 2);

    char path[4200];
    phieu_error err = {0};
    assert_int_equal(phieu_session_image_path(f->s, ra.sha256, 0, path, sizeof path, &err), 0);
    assert_int_equal(unlink(path), 0);
    fixture_noise(a, 5);
    add(f, a, &rc);
    assert_int_equal(rc.outcome, PHIEU_ADD_NEW);
    assert_int_equal(rc.status, PHIEU_PAGE_REVIEW);
    assert_string_equal(rc.possible_duplicate_of, ra.sheet_id);

    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM strokes WHERE sheet_id = '%s'", rb.sheet_id);
    assert_int_equal(sqlite3_exec(f->s->db, sql, NULL, NULL, NULL), SQLITE_OK);
    fixture_noise(b, 6);
    add(f, b, &rd);
    assert_int_equal(rd.status, PHIEU_PAGE_REVIEW);
    assert_string_equal(rd.possible_duplicate_of, rb.sheet_id);

    /* A damaged record (the file altered or broken) is not trusted: the image decides. */
    phieu_image *c = marked(f, choices, 23);
    phieu_page_result rc1, rc2;
    add(f, c, &rc1);
    assert_string_equal(rc1.possible_duplicate_of, "");
    snprintf(sql, sizeof sql, "UPDATE strokes SET blob = x'5053543100' WHERE sheet_id = '%s'",
             rc1.sheet_id);
    assert_int_equal(sqlite3_exec(f->s->db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(f->s->db), 1);
    fixture_noise(c, 7);
    add(f, c, &rc2);
    assert_int_equal(rc2.status, PHIEU_PAGE_REVIEW);
    assert_string_equal(rc2.possible_duplicate_of, rc1.sheet_id);
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
    phieu_image_destroy(&c);
}

/* A crease across the page through row `row`: a soft shadow about 1.6 mm wide of gray
 * `shade` with a thin core of gray `core` along its top. How dark a fold prints depends on
 * how the sheet lies on the glass, so one sheet's two scans differ in it. */
static void creased(fixture *f, phieu_image *img, int row, uint8_t shade, uint8_t core)
{
    const phieu_rect *b = &f->layout.boxes[row][0];
    double y = fixture_px(b->y + b->h / 2);
    fixture_line(img, 0, y + 4, img->width - 1, y + 4, 5, shade);
    fixture_line(img, 0, y, img->width - 1, y, 0, core);
}

/* A page of one mark with a crease through a row of empty boxes, deeper on the first scan
 * than on the second: the shadow gives the 8x8 grids ink enough to look like evidence,
 * but it is no mark, so the page keeps its strokes and its rescan is held on them; another
 * hand's mark on a page creased the same way is not (bench seed 6001 p00294: counted
 * twice). */
static void test_rescan_creased(void **state)
{
    fixture *f = *state;
    const int choices[4] = {1, -1, -1, -1};
    phieu_image *a = marked(f, choices, 31), *again = marked(f, choices, 31);
    phieu_image *b = marked(f, choices, 32);
    creased(f, a, 2, 215, 170);
    creased(f, again, 2, 244, 214);
    creased(f, b, 2, 215, 170);
    fixture_noise(again, 11);
    phieu_page_result ra, rb, rc;
    add(f, a, &ra);
    add(f, b, &rb);
    assert_int_equal(ra.reading.rows[2].decision, PHIEU_ROW_BLANK);
    assert_string_equal(rb.possible_duplicate_of, "");
    assert_int_equal(strokes_kept(f), 2);
    add(f, again, &rc);
    assert_int_equal(rc.reading.rows[2].decision, PHIEU_ROW_BLANK);
    assert_int_equal(rc.status, PHIEU_PAGE_REVIEW);
    assert_string_equal(rc.possible_duplicate_of, ra.sheet_id);
    phieu_image_destroy(&a);
    phieu_image_destroy(&again);
    phieu_image_destroy(&b);
}

/* A page whose only mark is faint: too light for the 8x8 grids (no box takes part, so
 * they have no say) and sent to review as a marginal mark. Its rescan is held as a
 * possible duplicate on its strokes, and another hand's faint X in the same box is not
 * (bench/duplicates.sh seed 5001 p00011: such a rescan was counted). */
static void test_rescan_faint_mark(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    phieu_image *a = NULL, *b = NULL;
    assert_int_equal(phieu_image_clone(f->blank, &a, &err), 0);
    assert_int_equal(phieu_image_clone(f->blank, &b, &err), 0);
    fixture_mark(a, &f->layout, 1, 2, 41, FAINT_SIZE, FAINT_LEVEL);
    fixture_mark(b, &f->layout, 1, 2, 42, FAINT_SIZE, FAINT_LEVEL);
    phieu_page_result ra, rb, rc;
    add(f, a, &ra);
    add(f, b, &rb);
    double evidence = -1;
    phieu_omr_ink_agreement(&ra.reading, &ra.reading, &evidence);
    print_message("faint: status %d, evidence %.3f\n", ra.status, evidence);
    assert_int_equal(ra.status, PHIEU_PAGE_REVIEW);
    assert_true(evidence == 0);
    assert_string_equal(rb.possible_duplicate_of, "");
    fixture_noise(a, 9);
    add(f, a, &rc);
    assert_int_equal(rc.outcome, PHIEU_ADD_NEW);
    assert_string_equal(rc.possible_duplicate_of, ra.sheet_id);
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
}

static void test_back_side_double_feed_unreadable(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    const int choices[4] = {1, 1, 1, 1};
    phieu_image *front = marked(f, choices, 3), *back = NULL;
    assert_int_equal(phieu_image_create(f->blank->width, f->blank->height, &back, &err), 0);
    phieu_page_result rf, rb, rd, ru;
    add(f, front, &rf);
    phieu_page_meta meta = {f->batch, 0, PHIEU_SIDE_BACK, rf.sheet_id, 0, NULL};
    assert_int_equal(phieu_session_add_page(f->s, back, &meta, &rb, &err), 0);
    assert_int_equal(rb.status, PHIEU_PAGE_BLANK);
    assert_int_equal(rb.n_exceptions, 0);
    phieu_sheet sh;
    assert_int_equal(phieu_session_sheet_get(f->s, rb.sheet_id, &sh, NULL, &err), 0);
    assert_string_equal(sh.back_of, rf.sheet_id);

    const int other[4] = {0, 1, 2, 0};
    phieu_image *two = marked(f, other, 4);
    phieu_page_meta dmeta = {f->batch, 0, PHIEU_SIDE_FRONT, NULL, 1, "the page is 40 mm long"};
    assert_int_equal(phieu_session_add_page(f->s, two, &dmeta, &rd, &err), 0);
    assert_int_equal(rd.status, PHIEU_PAGE_REVIEW);
    assert_int_equal(rd.n_exceptions, 1);

    const uint8_t junk[] = "not an image";
    phieu_page_meta umeta = {f->batch, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
    assert_int_equal(phieu_session_add_unreadable(f->s, junk, sizeof junk, "bad header",
                                                  &umeta, &ru, &err),
                     0);
    assert_int_equal(ru.status, PHIEU_PAGE_REJECTED);

    phieu_session_progress pr;
    assert_int_equal(phieu_session_progress_get(f->s, &pr, &err), 0);
    assert_int_equal(pr.pages, 4);
    assert_int_equal(pr.sheets, 3);
    assert_int_equal(pr.backs, 1);
    assert_int_equal(pr.forms[0].counted, 1);
    assert_int_equal(pr.forms[0].pending, 1);
    assert_int_equal(pr.unknown_form, 1);
    assert_int_equal(pr.exceptions_open, 2);

    /* The unreadable file cannot be "accepted": it is invalid or not a ballot. */
    phieu_exception *list;
    size_t n;
    assert_int_equal(phieu_session_exceptions_list(f->s, PHIEU_EXC_LIST_ALL, &list, &n, &err), 0);
    assert_int_equal((int)n, 2);
    int64_t unreadable = strcmp(list[0].reason, "unreadable-file") == 0 ? list[0].id : list[1].id;
    int64_t dfeed = strcmp(list[0].reason, "double-feed") == 0 ? list[0].id : list[1].id;
    phieu_free(list);
    assert_int_equal(phieu_session_user_add(f->s, "truong", PHIEU_ROLE_HEAD, "head-password",
                                            NULL, &err),
                     0);
    assert_int_equal(phieu_session_decide(f->s, unreadable, "truong", "accept", NULL, NULL, &err),
                     PHIEU_EINVAL);
    phieu_image_destroy(&front);
    phieu_image_destroy(&back);
    phieu_image_destroy(&two);
    (void)dfeed;
}

/* ---- Decisions ---------------------------------------------------------------------- */

/* How this session's reader sees box (row, choice) of `page` with a mark of hand `seed`
 * (size, level) drawn in it. */
static int mark_state(fixture *f, const phieu_image *page, int row, int choice, unsigned seed,
                      double size, int level)
{
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_clone(page, &img, &err), 0);
    fixture_mark(img, &f->layout, row, choice, seed, size, (uint8_t)level);
    phieu_omr_config cfg;
    phieu_session_omr_config(f->s, &cfg);
    phieu_reading *r = phieu_malloc(sizeof *r);
    assert_non_null(r);
    if (phieu_omr_read(&cfg, img, r, &err) != 0)
        fail_msg("read: %s", err.message);
    int st = r->rows[row].boxes[choice].state;
    phieu_free(r);
    phieu_image_destroy(&img);
    return st;
}

/* A faint mark in row 2, box "low", that this build's reader calls marginal, so its row
 * goes to review. The mark is found by reading, so the fixture follows the thresholds in
 * force instead of copying them: first a very light pencil X across the box (the middle
 * of the grays that read marginal), else a short dark stroke (the middle of the sizes). */
static phieu_image *with_marginal(fixture *f, unsigned seed)
{
    const int choices[4] = {0, -1, 1, 1};
    phieu_image *img = marked(f, choices, seed);
    for (int family = 0; family < 2; family++) {
        int n = family == 0 ? 31 : 30; /* grays 250..100 by 5; sizes 0.05..0.92 by 0.03 */
        int lo = -1, hi = -1;
        for (int k = 0; k < n; k++) {
            double size = family == 0 ? 1.0 : 0.05 + 0.03 * k;
            int level = family == 0 ? 250 - 5 * k : 60;
            if (mark_state(f, img, 1, 2, seed, size, level) == PHIEU_BOX_MARGINAL) {
                if (lo < 0)
                    lo = k;
                hi = k;
            }
        }
        if (lo < 0)
            continue;
        int k = (lo + hi) / 2;
        double size = family == 0 ? 1.0 : 0.05 + 0.03 * k;
        int level = family == 0 ? 250 - 5 * k : 60;
        if (mark_state(f, img, 1, 2, seed, size, level) != PHIEU_BOX_MARGINAL) {
            size = family == 0 ? 1.0 : 0.05 + 0.03 * lo;
            level = family == 0 ? 250 - 5 * lo : 60;
        }
        fixture_mark(img, &f->layout, 1, 2, seed, size, (uint8_t)level);
        return img;
    }
    fail_msg("no faint mark reads as marginal in row 2 with this reader's thresholds");
    return img;
}

/* The exception of `sheet` at `row` (0: the page), 0 when there is none. */
static int64_t exception_at(fixture *f, const char *sheet, int row)
{
    phieu_exception *list;
    size_t n;
    phieu_error err = {0};
    assert_int_equal(phieu_session_exceptions_list(f->s, PHIEU_EXC_LIST_ALL, &list, &n, &err), 0);
    int64_t id = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].sheet_id, sheet) == 0 && list[i].row == row)
            id = list[i].id;
    phieu_free(list);
    return id;
}

static int64_t row_exception(fixture *f, const char *sheet)
{
    int64_t id = exception_at(f, sheet, 2);
    assert_true(id > 0);
    return id;
}

/* The session's ballot of `sheet`, copied to *out: 0 when there is one, -1 when not. */
static int find_ballot(fixture *f, const char *sheet, phieu_ballot *out)
{
    phieu_ballot *ballots;
    size_t n;
    phieu_error err = {0};
    assert_int_equal(phieu_session_ballots(f->s, &ballots, &n, &err), 0);
    int found = -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ballots[i].sheet_id, sheet) == 0) {
            *out = ballots[i];
            found = 0;
        }
    phieu_free(ballots);
    return found;
}

static int row_value(fixture *f, const char *sheet, int row)
{
    phieu_ballot b;
    return find_ballot(f, sheet, &b) == 0 ? b.value[row] : 99;
}

/* The board: supervisors lan and minh, and truong the head. */
static void add_board_users(fixture *f)
{
    phieu_error err = {0};
    assert_int_equal(phieu_session_user_add(f->s, "lan", PHIEU_ROLE_SUPERVISOR, "password-lan",
                                            NULL, &err),
                     0);
    assert_int_equal(phieu_session_user_add(f->s, "minh", PHIEU_ROLE_SUPERVISOR, "password-minh",
                                            NULL, &err),
                     0);
    assert_int_equal(phieu_session_user_add(f->s, "truong", PHIEU_ROLE_HEAD, "password-head",
                                            NULL, &err),
                     0);
}

static void test_two_person_rule(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    assert_int_equal(phieu_session_user_add(f->s, "lan", PHIEU_ROLE_HEAD, "password-x", NULL,
                                            &err),
                     PHIEU_EEXIST);
    phieu_user u;
    assert_int_equal(phieu_session_user_verify(f->s, "lan", "password-lan", &u, &err), 0);
    assert_int_equal(u.role, PHIEU_ROLE_SUPERVISOR);
    assert_true(phieu_session_user_verify(f->s, "lan", "wrong-pass", &u, &err) < 0);

    phieu_image *a = with_marginal(f, 21), *b = with_marginal(f, 22);
    phieu_page_result ra, rb;
    add(f, a, &ra);
    add(f, b, &rb);
    if (ra.status != PHIEU_PAGE_REVIEW || ra.reading.rows[1].decision != PHIEU_ROW_REVIEW)
        fail_msg("the light stroke did not read as marginal (status %d, row 2 decision %d, "
                 "score %.3f)",
                 ra.status, ra.reading.rows[1].decision, ra.reading.rows[1].boxes[2].score);
    int64_t ea = row_exception(f, ra.sheet_id), eb = row_exception(f, rb.sheet_id);
    assert_int_equal(row_value(f, ra.sheet_id, 1), PHIEU_ROW_PENDING);

    /* Agreement: two supervisors say "low". */
    phieu_exception e;
    assert_int_equal(phieu_session_decide(f->s, ea, "lan", "low", "light X", &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_SECOND);
    assert_int_equal(row_value(f, ra.sheet_id, 1), PHIEU_ROW_PENDING);
    /* The same person again does not make two: refused, whatever the case (or name). */
    assert_int_equal(phieu_session_decide(f->s, ea, "Lan", "low", NULL, &e, &err), PHIEU_ESTATE);
    assert_int_equal(phieu_session_exception_get(f->s, ea, &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_SECOND);
    assert_int_equal(e.n_decisions, 1);
    assert_int_equal(phieu_session_decide(f->s, ea, "minh", "low", NULL, &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_RESOLVED);
    assert_string_equal(e.resolution, "low");
    assert_int_equal(row_value(f, ra.sheet_id, 1), 2);
    assert_int_equal(phieu_session_decide(f->s, ea, "minh", "trust", NULL, &e, &err),
                     PHIEU_ESTATE);

    /* Disagreement goes to the head, whose decision is final. */
    assert_int_equal(phieu_session_decide(f->s, eb, "lan", "low", NULL, &e, &err), 0);
    assert_int_equal(phieu_session_decide(f->s, eb, "minh", "invalid", NULL, &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_HEAD);
    assert_int_equal(phieu_session_decide(f->s, eb, "lan", "invalid", NULL, &e, &err),
                     PHIEU_ESTATE);
    assert_int_equal(row_value(f, rb.sheet_id, 1), PHIEU_ROW_PENDING);
    assert_int_equal(phieu_session_decide(f->s, eb, "truong", "invalid", "blurred", &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_RESOLVED);
    assert_int_equal(row_value(f, rb.sheet_id, 1), PHIEU_ROW_DECIDED_INVALID);
    assert_int_equal(phieu_session_decide(f->s, eb, "truong", "bogus", NULL, &e, &err),
                     PHIEU_EINVAL);
    assert_int_equal(phieu_session_decide(f->s, eb, "nobody", "low", NULL, &e, &err),
                     PHIEU_ENOTFOUND);

    phieu_decision *d;
    size_t n;
    assert_int_equal(phieu_session_decisions_list(f->s, eb, &d, &n, &err), 0);
    assert_int_equal((int)n, 3);
    assert_string_equal(d[2].user, "truong");
    assert_string_equal(d[2].note, "blurred");
    phieu_free(d);

    /* The tally: person 2 has one "low" and one decided invalid. */
    phieu_tally *t;
    assert_int_equal(phieu_tally_from_session(f->s, &t, &err), 0);
    assert_int_equal(t->forms[0].persons[1].count[2], 1);
    assert_int_equal(t->forms[0].persons[1].decided_invalid, 1);
    assert_int_equal(t->forms[0].persons[0].count[0], 2);
    assert_int_equal(t->provisional, 0);
    phieu_tally_destroy(&t);

    /* The log names decisions but never their choice. */
    phieu_log_entry *log;
    assert_int_equal(phieu_session_log_list(f->s, &log, &n, &err), 0);
    int decisions = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(log[i].action, "decision") == 0) {
            decisions++;
            assert_null(strstr(log[i].detail, "low"));
            assert_null(strstr(log[i].detail, "invalid"));
        }
    assert_int_equal(decisions, 5);
    phieu_session_log_free(log, n);
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
}

static void test_without_two_person_rule_latest_wins(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    phieu_session_close(&f->s);
    unlink(f->path);
    fixture_rmdir(f->dir);
    fixture_tmpdir(f->dir);
    snprintf(f->path, sizeof f->path, "%s/s.db", f->dir);
    make_session(f, 0, 0);
    assert_int_equal(phieu_session_get_info(f->s)->two_person_rule, 0);
    assert_int_equal(phieu_session_user_add(f->s, "lan", PHIEU_ROLE_SUPERVISOR, "password-lan",
                                            NULL, &err),
                     0);
    phieu_image *a = with_marginal(f, 21);
    phieu_page_result ra;
    add(f, a, &ra);
    int64_t ea = row_exception(f, ra.sheet_id);
    phieu_exception e;
    assert_int_equal(phieu_session_decide(f->s, ea, "lan", "high", NULL, &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_RESOLVED);
    assert_int_equal(row_value(f, ra.sheet_id, 1), 0);
    /* Settled: the same member cannot decide again; the head overrides, with a note. */
    assert_int_equal(phieu_session_decide(f->s, ea, "lan", "trust", NULL, &e, &err),
                     PHIEU_ESTATE);
    assert_int_equal(phieu_session_user_add(f->s, "truong", PHIEU_ROLE_HEAD, "password-head",
                                            NULL, &err),
                     0);
    assert_int_equal(phieu_session_decide(f->s, ea, "truong", "trust", NULL, &e, &err),
                     PHIEU_EINVAL);
    assert_int_equal(phieu_session_decide(f->s, ea, "truong", "trust", "paper shows trust", &e,
                                          &err),
                     0);
    assert_int_equal(row_value(f, ra.sheet_id, 1), 1);
    phieu_image_destroy(&a);
}

/* ---- "Count as form X" on a rejected page ------------------------------------------ */

static int ballot_state(fixture *f, const char *sheet)
{
    phieu_ballot b;
    return find_ballot(f, sheet, &b) == 0 ? b.state : -1;
}

/* Covers the form code of a ballot with white paper: the reader rejects it as
 * "code-unreadable". */
static void cover_code(fixture *f, phieu_image *img)
{
    const phieu_layout *L = &f->layout;
    double x0 = L->code_start.x - 1, x1 = L->code_end.x + L->code_end.w + 1;
    double y0 = L->code_start.y - 1, y1 = L->code_start.y + L->code_start.h + 1;
    for (int y = (int)fixture_px(y0); y < (int)fixture_px(y1); y++)
        for (int x = (int)fixture_px(x0); x < (int)fixture_px(x1); x++)
            img->pixels[(size_t)y * img->stride + x] = 255;
}

static void test_board_sets_form_of_rejected_page(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    /* Rows: high, (faint low), trust, trust; then the form code covered with white paper. */
    phieu_image *img = with_marginal(f, 31);
    cover_code(f, img);
    phieu_page_result res;
    add(f, img, &res);
    assert_int_equal(res.status, PHIEU_PAGE_REJECTED);
    int64_t page = exception_at(f, res.sheet_id, 0);
    assert_true(page > 0);
    phieu_exception e;
    assert_int_equal(phieu_session_exception_get(f->s, page, &e, &err), 0);
    assert_string_equal(e.reason, "code-unreadable");
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_PENDING);

    /* Only a form of the session; "accept" still cannot count a page that was not read. */
    assert_int_equal(phieu_session_decide(f->s, page, "lan", "form:no-such-form", NULL, &e, &err),
                     PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "form:test-rating"));
    assert_int_equal(phieu_session_decide(f->s, page, "lan", "accept", NULL, &e, &err),
                     PHIEU_EINVAL);

    /* Two supervisors agree: the page is read again as that form. */
    assert_int_equal(phieu_session_decide(f->s, page, "lan", "form:test-rating", NULL, &e, &err),
                     0);
    assert_int_equal(e.state, PHIEU_EXC_SECOND);
    assert_int_equal(phieu_session_sheet_board_reading(f->s, res.sheet_id, NULL, NULL, &err),
                     PHIEU_ENOTFOUND);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_PENDING);
    assert_int_equal(phieu_session_decide(f->s, page, "minh", "form:test-rating", "the code is "
                                          "covered by tape", &e, &err),
                     0);
    assert_int_equal(e.state, PHIEU_EXC_RESOLVED);
    assert_string_equal(e.resolution, "form:test-rating");
    assert_int_equal(e.form_index, 0);
    int bf = -1;
    phieu_reading *r = phieu_malloc(sizeof *r);
    assert_int_equal(phieu_session_sheet_board_reading(f->s, res.sheet_id, &bf, r, &err), 0);
    assert_int_equal(bf, 0);
    assert_int_equal(r->form_index, 0);
    assert_int_equal(r->rows[0].decision, 0);
    assert_int_equal(r->rows[1].decision, PHIEU_ROW_REVIEW);
    /* The machine's own reading stays as it was. */
    phieu_sheet sh;
    assert_int_equal(phieu_session_sheet_get(f->s, res.sheet_id, &sh, r, &err), 0);
    assert_int_equal(sh.form_index, 0);
    assert_int_equal(sh.status, PHIEU_PAGE_REJECTED);
    assert_int_equal(r->status, PHIEU_PAGE_REJECTED);
    assert_int_equal(r->form_index, -1);
    phieu_free(r);

    /* Its decided rows count, its faint row went to the queue as usual. */
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_VALID);
    assert_int_equal(row_value(f, res.sheet_id, 0), 0);
    assert_int_equal(row_value(f, res.sheet_id, 1), PHIEU_ROW_PENDING);
    assert_int_equal(row_value(f, res.sheet_id, 2), 1);
    assert_int_equal(row_value(f, res.sheet_id, 3), 1);
    int64_t row2 = exception_at(f, res.sheet_id, 2);
    assert_true(row2 > 0);
    assert_int_equal(phieu_session_exception_get(f->s, row2, &e, &err), 0);
    assert_string_equal(e.reason, "marginal-mark");
    assert_int_equal(exception_at(f, res.sheet_id, 1), 0);

    /* The head may take the form back while no row of it is decided... */
    assert_int_equal(phieu_session_decide(f->s, page, "truong", "invalid", "not ours", &e, &err),
                     0);
    assert_int_equal(phieu_session_sheet_board_reading(f->s, res.sheet_id, NULL, NULL, &err),
                     PHIEU_ENOTFOUND);
    assert_int_equal(exception_at(f, res.sheet_id, 2), 0);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_INVALID);
    assert_int_equal(phieu_session_decide(f->s, page, "truong", "form:test-rating", "ours after all",
                                          &e, &err),
                     0);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_VALID);
    row2 = exception_at(f, res.sheet_id, 2);
    assert_true(row2 > 0);
    /* ... a row exception is decided like any other ... */
    assert_int_equal(phieu_session_decide(f->s, row2, "lan", "form:test-rating", NULL, &e, &err),
                     PHIEU_EINVAL);
    assert_int_equal(phieu_session_decide(f->s, row2, "lan", "low", NULL, &e, &err), 0);
    assert_int_equal(phieu_session_decide(f->s, row2, "minh", "low", NULL, &e, &err), 0);
    assert_int_equal(row_value(f, res.sheet_id, 1), 2);
    /* ... and once one is, the form stays. */
    assert_int_equal(phieu_session_decide(f->s, page, "truong", "invalid", "no", &e, &err),
                     PHIEU_ESTATE);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_VALID);

    phieu_tally *t;
    assert_int_equal(phieu_tally_from_session(f->s, &t, &err), 0);
    assert_int_equal(t->forms[0].persons[0].count[0], 1);
    assert_int_equal(t->forms[0].persons[1].count[2], 1);
    assert_int_equal(t->forms[0].persons[2].count[1], 1);
    phieu_tally_destroy(&t);

    /* The log says the board set the form, never a mark. */
    phieu_log_entry *log;
    size_t n;
    assert_int_equal(phieu_session_log_list(f->s, &log, &n, &err), 0);
    int set = 0, withdrawn = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(log[i].action, "form-set-by-board") == 0) {
            set++;
            assert_non_null(strstr(log[i].detail, "test-rating"));
        }
        withdrawn += strcmp(log[i].action, "board-form-withdrawn") == 0;
        if (strcmp(log[i].action, "form-set-by-board") == 0 ||
            strcmp(log[i].action, "board-form-withdrawn") == 0 ||
            strcmp(log[i].action, "decision") == 0) {
            assert_null(strstr(log[i].detail, "low"));
            assert_null(strstr(log[i].detail, "trust"));
            assert_null(strstr(log[i].detail, "high"));
        }
    }
    assert_int_equal(set, 2);
    assert_int_equal(withdrawn, 1);
    phieu_session_log_free(log, n);
    assert_int_equal(phieu_session_log_verify(f->s, &err), 0);
    phieu_image_destroy(&img);
}

/* The log entries of one action whose detail holds `words`. */
static int log_count(fixture *f, const char *action, const char *words)
{
    phieu_error err = {0};
    phieu_log_entry *log;
    size_t n;
    int found = 0;
    assert_int_equal(phieu_session_log_list(f->s, &log, &n, &err), 0);
    for (size_t i = 0; i < n; i++)
        found += strcmp(log[i].action, action) == 0 && strstr(log[i].detail, words) != NULL;
    phieu_session_log_free(log, n);
    return found;
}

/* A ballot counted, then its rescan rejected for its form code: when the board sets the
 * page's form, the page read as that form is compared with the sheets already read, and
 * "form:<id>" is refused, naming where the earlier paper is, until each member confirms
 * the two papers are two ballots (bench seed 6001 p00274: counted twice, nobody told). */
static void test_board_form_of_a_rescan(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    const int choices[4] = {2, 2, 0, 1};
    phieu_image *a = marked(f, choices, 61);
    phieu_page_result ra, rb;
    add(f, a, &ra);
    assert_int_equal(ra.status, PHIEU_PAGE_COUNTED);
    fixture_noise(a, 8);
    cover_code(f, a);
    add(f, a, &rb);
    assert_int_equal(rb.status, PHIEU_PAGE_REJECTED);
    int64_t page = exception_at(f, rb.sheet_id, 0);
    phieu_exception e;
    assert_int_equal(phieu_session_exception_get(f->s, page, &e, &err), 0);
    assert_string_equal(e.reason, "code-unreadable");

    /* Refused, with the earlier paper named by where it is, and nothing recorded. */
    assert_int_equal(phieu_session_decide(f->s, page, "lan", "form:test-rating", NULL, &e, &err),
                     PHIEU_EEXIST);
    print_message("%s\n", err.message);
    assert_non_null(strstr(err.message, "batch 1, position 1 fed again"));
    assert_non_null(strstr(err.message, "'discard'"));
    assert_non_null(strstr(err.message, "--not-duplicate"));
    assert_null(strstr(err.message, ra.sheet_id));
    phieu_form_twin twin;
    assert_int_equal(phieu_session_decide_confirm(f->s, page, "lan", "form:test-rating", NULL, 0,
                                                  &twin, &e, &err),
                     PHIEU_EEXIST);
    assert_string_equal(twin.sheet_id, ra.sheet_id);
    assert_int_equal(twin.batch, f->batch);
    assert_int_equal(twin.position, 1);
    assert_true(twin.similarity >= phieu_session_get_info(f->s)->duplicate_similarity);
    assert_int_equal(phieu_session_exception_get(f->s, page, &e, &err), 0);
    assert_int_equal(e.n_decisions, 0);
    assert_int_equal(ballot_state(f, rb.sheet_id), PHIEU_BALLOT_PENDING);

    /* Each member confirms alone; then the page counts as that form. */
    assert_int_equal(phieu_session_decide_confirm(f->s, page, "lan", "form:test-rating", NULL, 1,
                                                  &twin, &e, &err),
                     0);
    assert_int_equal(e.state, PHIEU_EXC_SECOND);
    assert_int_equal(phieu_session_decide(f->s, page, "minh", "form:test-rating", NULL, &e, &err),
                     PHIEU_EEXIST);
    assert_int_equal(phieu_session_decide_confirm(f->s, page, "minh", "form:test-rating",
                                                  "two papers, same marks", 1, NULL, &e, &err),
                     0);
    assert_int_equal(e.state, PHIEU_EXC_RESOLVED);
    assert_int_equal(ballot_state(f, rb.sheet_id), PHIEU_BALLOT_VALID);
    phieu_tally *t;
    assert_int_equal(phieu_tally_from_session(f->s, &t, &err), 0);
    assert_int_equal(t->forms[0].persons[0].count[2], 2);
    phieu_tally_destroy(&t);
    /* The log says who confirmed it was not that sheet, never a mark. */
    assert_int_equal(log_count(f, "decision", "confirmed it is not a duplicate"), 2);
    assert_int_equal(log_count(f, "decision", ra.sheet_id), 2);
    assert_int_equal(log_count(f, "decision", "low"), 0);
    assert_int_equal(log_count(f, "decision", "trust"), 0);
    assert_int_equal(phieu_session_log_verify(f->s, &err), 0);

    /* Another hand's ballot, the same boxes marked, its code unreadable: no warning. */
    phieu_image *c = marked(f, choices, 62);
    cover_code(f, c);
    phieu_page_result rc;
    add(f, c, &rc);
    assert_int_equal(rc.status, PHIEU_PAGE_REJECTED);
    page = exception_at(f, rc.sheet_id, 0);
    assert_int_equal(phieu_session_decide_confirm(f->s, page, "lan", "form:test-rating", NULL, 0,
                                                  &twin, &e, &err),
                     0);
    assert_string_equal(twin.sheet_id, "");
    /* A confirmation given where none was asked changes nothing. */
    assert_int_equal(phieu_session_decide_confirm(f->s, page, "minh", "form:test-rating", NULL, 1,
                                                  &twin, &e, &err),
                     0);
    assert_string_equal(twin.sheet_id, "");
    assert_int_equal(ballot_state(f, rc.sheet_id), PHIEU_BALLOT_VALID);
    assert_int_equal(log_count(f, "decision", "confirmed it is not a duplicate"), 2);
    phieu_image_destroy(&a);
    phieu_image_destroy(&c);
}

/* The same for a page of one mark, which only its strokes tell from another hand's: they are
 * made from the rejected page's archived image, read as the form the board names. */
static void test_board_form_of_a_rescan_one_mark(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    const int choices[4] = {1, -1, -1, -1};
    phieu_image *a = marked(f, choices, 71), *b = marked(f, choices, 72);
    phieu_page_result ra, rb, rc;
    add(f, a, &ra);
    add(f, b, &rb);
    assert_string_equal(rb.possible_duplicate_of, "");
    fixture_noise(b, 3);
    cover_code(f, b);
    add(f, b, &rc);
    assert_int_equal(rc.status, PHIEU_PAGE_REJECTED);
    int64_t page = exception_at(f, rc.sheet_id, 0);
    phieu_form_twin twin;
    phieu_exception e;
    assert_int_equal(phieu_session_decide_confirm(f->s, page, "lan", "form:test-rating", NULL, 0,
                                                  &twin, &e, &err),
                     PHIEU_EEXIST);
    assert_string_equal(twin.sheet_id, rb.sheet_id);
    assert_int_equal(twin.position, 2);
    assert_non_null(strstr(err.message, "batch 1, position 2 fed again"));
    phieu_image_destroy(&a);
    phieu_image_destroy(&b);
}

/* A copy of img with scanner noise `seed` (a new pass of the same paper), its code covered
 * when `covered`. */
static phieu_image *fed_again(fixture *f, const phieu_image *img, unsigned seed, int covered)
{
    phieu_error err = {0};
    phieu_image *copy = NULL;
    assert_int_equal(phieu_image_clone(img, &copy, &err), 0);
    fixture_noise(copy, seed);
    if (covered)
        cover_code(f, copy);
    return copy;
}

/* The other way round: a paper whose code could not be read the first time, counted as the
 * form the board set, is an earlier sheet of that form like any other: its rescan is held
 * as a possible duplicate, and another rejected rescan of it is refused "form:<id>". */
static void test_rescan_of_a_page_the_board_set(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    const int choices[4] = {1, 0, 2, 2};
    phieu_image *a = marked(f, choices, 81);
    phieu_image *a1 = fed_again(f, a, 1, 1), *a2 = fed_again(f, a, 2, 1);
    phieu_image *a3 = fed_again(f, a, 3, 0);
    phieu_page_result r1, r2, r3;
    phieu_exception e;
    add(f, a1, &r1);
    assert_int_equal(r1.status, PHIEU_PAGE_REJECTED);
    int64_t page = exception_at(f, r1.sheet_id, 0);
    assert_int_equal(phieu_session_decide(f->s, page, "lan", "form:test-rating", NULL, &e, &err),
                     0);
    assert_int_equal(phieu_session_decide(f->s, page, "minh", "form:test-rating", NULL, &e, &err),
                     0);
    assert_int_equal(ballot_state(f, r1.sheet_id), PHIEU_BALLOT_VALID);

    add(f, a2, &r2);
    assert_int_equal(r2.status, PHIEU_PAGE_REJECTED);
    phieu_form_twin twin;
    assert_int_equal(phieu_session_decide_confirm(f->s, exception_at(f, r2.sheet_id, 0), "lan",
                                                  "form:test-rating", NULL, 0, &twin, &e, &err),
                     PHIEU_EEXIST);
    assert_string_equal(twin.sheet_id, r1.sheet_id);

    add(f, a3, &r3);
    assert_int_equal(r3.status, PHIEU_PAGE_REVIEW);
    assert_string_equal(r3.possible_duplicate_of, r1.sheet_id);
    phieu_image_destroy(&a);
    phieu_image_destroy(&a1);
    phieu_image_destroy(&a2);
    phieu_image_destroy(&a3);
}

/* ---- Reading blob ------------------------------------------------------------------- */

static void test_reading_blob_roundtrip(void **state)
{
    (void)state;
    phieu_reading *r = phieu_calloc(1, sizeof *r), *back = phieu_calloc(1, sizeof *back);
    r->status = PHIEU_PAGE_REVIEW;
    r->form_index = 1;
    r->test_ballot = 1;
    r->upside_down = 1;
    for (int i = 0; i < 9; i++)
        r->transform[i] = 1.0 / (i + 3);
    r->n_rows = 3;
    for (int i = 0; i < 3; i++) {
        r->rows[i].row = i + 1;
        r->rows[i].decision = i == 1 ? PHIEU_ROW_REVIEW : i;
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            r->rows[i].boxes[c].score = 0.01f * (float)(i * 3 + c);
            r->rows[i].boxes[c].coverage = 0.5f;
            r->rows[i].boxes[c].darkness = 0.25f;
            r->rows[i].boxes[c].state = (uint8_t)c;
            for (int k = 0; k < PHIEU_OMR_INK_CELLS; k++)
                r->rows[i].boxes[c].ink[k] = (uint8_t)(k * 4 + c);
        }
    }
    r->n_reasons = 1;
    snprintf(r->reasons[0].code, sizeof r->reasons[0].code, "marginal-mark");
    snprintf(r->reasons[0].text, sizeof r->reasons[0].text, "row 2: a light mark");
    r->reasons[0].row = 2;
    uint8_t *blob;
    size_t len;
    phieu_error err = {0};
    assert_int_equal(session_reading_encode(r, &blob, &len, &err), 0);
    assert_int_equal(session_reading_decode(blob, len, back, &err), 0);
    assert_int_equal(memcmp(r, back, sizeof *r), 0);
    /* Cut by one byte or with a wrong header: refused, never misread. */
    assert_int_equal(session_reading_decode(blob, len - 1, back, &err), PHIEU_EFORMAT);
    blob[0] = 'X';
    assert_int_equal(session_reading_decode(blob, len, back, &err), PHIEU_EFORMAT);
    phieu_free(blob);
    phieu_free(r);
    phieu_free(back);
}

/* ---- Audit log ---------------------------------------------------------------------- */

static void tamper(fixture *f, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_log_detects_tampering(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(phieu_session_log_append(f->s, "tester", "note", "an entry", &err), 0);
    assert_int_equal(phieu_session_log_verify(f->s, &err), 0);
    phieu_session_close(&f->s);

    tamper(f, "UPDATE log SET detail = 'an entry, changed' WHERE seq = 3");
    assert_int_equal(phieu_session_open(f->path, &f->s, &err), 0);
    assert_int_equal(phieu_session_log_verify(f->s, &err), PHIEU_EINTEGRITY);
    assert_non_null(strstr(err.message, "entry 3"));
    assert_non_null(strstr(err.message, "changed"));
    phieu_session_close(&f->s);

    tamper(f, "UPDATE log SET detail = 'an entry' WHERE seq = 3; DELETE FROM log WHERE seq = 2");
    assert_int_equal(phieu_session_open(f->path, &f->s, &err), 0);
    assert_int_equal(phieu_session_log_verify(f->s, &err), PHIEU_EINTEGRITY);
    assert_non_null(strstr(err.message, "entry 2 is missing"));
    phieu_session_close(&f->s);
}

static void test_log_detects_truncation(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    assert_int_equal(phieu_session_log_append(f->s, "tester", "note", "last", &err), 0);
    char head[PHIEU_SHA256_HEX];
    assert_int_equal(phieu_session_log_head(f->s, head, &err), 0);
    phieu_session_close(&f->s);
    tamper(f, "DELETE FROM log WHERE seq = (SELECT max(seq) FROM log)");
    assert_int_equal(phieu_session_open(f->path, &f->s, &err), 0);
    assert_int_equal(phieu_session_log_verify(f->s, &err), PHIEU_EINTEGRITY);
    assert_non_null(strstr(err.message, "removed"));
}

static void test_threshold_change_audited_then_frozen(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    assert_int_equal(phieu_session_set_threshold(f->s, "marked", 0.05, "tester", &err), 0);
    assert_true(phieu_session_get_info(f->s)->thresholds.value[PHIEU_TH_MARKED] == 0.05);
    assert_int_equal(phieu_session_set_threshold(f->s, "nonsense", 0.05, "tester", &err),
                     PHIEU_EINVAL);
    const int choices[4] = {0, 0, 0, 0};
    phieu_image *img = marked(f, choices, 41);
    phieu_page_result r;
    add(f, img, &r);
    assert_int_equal(phieu_session_set_threshold(f->s, "marked", 0.06, "tester", &err),
                     PHIEU_ESTATE);
    phieu_image_destroy(&img);
}

/* Counts the board enters through another handle (another process: 'phieu session counts'
 * beside a running review screen) are the base of the next tally of an open handle. */
static void test_tally_reads_counts_fresh(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    const int choices[4] = {0, 1, 2, 0};
    phieu_image *img = marked(f, choices, 31);
    phieu_page_result r;
    add(f, img, &r);
    phieu_image_destroy(&img);
    phieu_tally *t = NULL;
    assert_int_equal(phieu_tally_from_session(f->s, &t, &err), 0);
    assert_int_equal(t->forms[0].base_estimated, 1);
    assert_int_equal(t->forms[0].base, 1);
    phieu_tally_destroy(&t);

    phieu_session *other = NULL;
    assert_int_equal(phieu_session_open(f->path, &other, &err), 0);
    phieu_board_counts bc = {1, 9, 9, 8, 1};
    assert_int_equal(phieu_session_set_counts(other, -1, &bc, "test", &err), 0);
    phieu_session_close(&other);

    assert_int_equal(phieu_tally_from_session(f->s, &t, &err), 0);
    assert_int_equal(t->forms[0].base_estimated, 0);
    assert_int_equal(t->forms[0].base, 8);
    assert_int_equal(t->forms[0].counts.collected, 8);
    phieu_tally_destroy(&t);
    assert_int_equal(phieu_session_get_info(f->s)->counts[0].collected, 8);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A wrong name must cost the same argon2id work as a wrong password, or the time a login
 * takes tells which names exist. Measured as the best of three tries each: an unknown name
 * taking less than a third of a wrong password's time is the lookup returning at once. */
/* The review server looks credentials up under its lock and checks the password after
 * releasing it: the two halves give what phieu_session_user_verify gives. */
static void test_credentials_lookup_then_check(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    assert_int_equal(phieu_session_user_add(f->s, "lan", PHIEU_ROLE_HEAD, "password-lan", NULL,
                                            &err),
                     0);
    phieu_credentials lan, nobody;
    assert_int_equal(phieu_session_credentials(f->s, "lan", &lan, &err), 0);
    assert_int_equal(phieu_session_credentials(f->s, "nobody", &nobody, &err), 0);
    assert_true(lan.known);
    assert_string_equal(lan.user.name, "lan");
    assert_int_equal(lan.user.role, PHIEU_ROLE_HEAD);
    assert_false(nobody.known);
    assert_string_equal(nobody.user.name, "");
    assert_true(strncmp(lan.hash, "$argon2id$", 10) == 0);
    assert_true(strncmp(nobody.hash, "$argon2id$", 10) == 0);

    assert_int_equal(phieu_credentials_check(&lan, "password-lan", &err), 0);
    assert_int_equal(phieu_credentials_check(&lan, "password-la", &err), PHIEU_EINVAL);
    char wrong_password[sizeof err.message];
    snprintf(wrong_password, sizeof wrong_password, "%s", err.message);
    /* No password opens an unknown name, not even the empty one. */
    assert_int_equal(phieu_credentials_check(&nobody, "", &err), PHIEU_ENOTFOUND);
    assert_string_equal(err.message, wrong_password);
}

static void test_unknown_user_costs_the_same(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    assert_int_equal(phieu_session_user_add(f->s, "lan", PHIEU_ROLE_SUPERVISOR, "password-lan",
                                            NULL, &err),
                     0);
    double known = 1e9, unknown = 1e9;
    char known_msg[sizeof err.message], unknown_msg[sizeof err.message];
    phieu_user u;
    for (int i = 0; i < 3; i++) {
        double t0 = seconds_now();
        assert_true(phieu_session_user_verify(f->s, "lan", "wrong-pass", &u, &err) < 0);
        double t1 = seconds_now();
        snprintf(known_msg, sizeof known_msg, "%s", err.message);
        assert_int_equal(phieu_session_user_verify(f->s, "nobody", "wrong-pass", &u, &err),
                         PHIEU_ENOTFOUND);
        double t2 = seconds_now();
        snprintf(unknown_msg, sizeof unknown_msg, "%s", err.message);
        if (t1 - t0 < known)
            known = t1 - t0;
        if (t2 - t1 < unknown)
            unknown = t2 - t1;
    }
    assert_string_equal(known_msg, unknown_msg);
    if (unknown * 3 < known)
        fail_msg("an unknown name took %.4f s, a wrong password %.4f s", unknown, known);
}

/* ---- The board's reading of a page ---------------------------------------------------- */

/* A marked ballot whose four corner marks and form code are covered with white paper: the
 * machine cannot register it (not-registered). add_unregistered marks high, low, trust,
 * blank. */
static phieu_image *unregistered(fixture *f, const int choices[4], unsigned seed)
{
    phieu_image *img = marked(f, choices, seed);
    for (int k = 0; k < 4; k++) {
        const phieu_rect *r = &f->layout.fiducials[k];
        for (int y = (int)fixture_px(r->y - 1); y < (int)fixture_px(r->y + r->h + 1); y++)
            for (int x = (int)fixture_px(r->x - 1); x < (int)fixture_px(r->x + r->w + 1); x++)
                if (y >= 0 && x >= 0 && y < img->height && x < img->width)
                    img->pixels[(size_t)y * img->stride + x] = 255;
    }
    /* and its form code too, so that no reader can register it from what is left */
    const phieu_layout *L = &f->layout;
    for (int y = (int)fixture_px(L->code_start.y - 1);
         y < (int)fixture_px(L->code_start.y + L->code_start.h + 1); y++)
        for (int x = (int)fixture_px(L->code_start.x - 1);
             x < (int)fixture_px(L->code_end.x + L->code_end.w + 1); x++)
            img->pixels[(size_t)y * img->stride + x] = 255;
    return img;
}

static void add_unregistered(fixture *f, unsigned seed, phieu_page_result *res)
{
    const int choices[4] = {0, 2, 1, -1};
    phieu_image *img = unregistered(f, choices, seed);
    add(f, img, res);
    phieu_image_destroy(&img);
    assert_int_equal(res->status, PHIEU_PAGE_REJECTED);
}

static void entry_of(fixture *f, int64_t exc, const char *text, phieu_board_entry *out)
{
    phieu_error err = {0};
    if (phieu_session_board_entry_parse(f->s, exc, text, out, &err) != 0)
        fail_msg("parse '%s': %s", text, err.message);
}

static void test_board_reads_page(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    phieu_page_result res;
    add_unregistered(f, 41, &res);
    int64_t page = exception_at(f, res.sheet_id, 0);
    assert_true(page > 0);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_PENDING);

    /* Every row once, each a choice, blank or overvote; the words say what is wrong. */
    phieu_board_entry e1, e2;
    assert_int_equal(phieu_session_board_entry_parse(f->s, page, "read:1=high,2=low,3=trust",
                                                     &e1, &err),
                     PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "row 4 is missing"));
    assert_int_equal(phieu_session_board_entry_parse(f->s, page,
                                                     "read:1=high,2=low,3=maybe,4=blank", &e1,
                                                     &err),
                     PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "row 3: 'maybe'"));
    assert_int_equal(phieu_session_board_entry_parse(f->s, page,
                                                     "read:1=high,1=low,3=trust,4=blank", &e1,
                                                     &err),
                     PHIEU_EINVAL);
    /* A digest typed by hand is not a reading. */
    phieu_exception x;
    assert_int_equal(phieu_session_decide(f->s, page, "lan", "read:0011223344556677", NULL, &x,
                                          &err),
                     PHIEU_EINVAL);

    entry_of(f, page, "read:1=high,2=low,3=trust,4=blank", &e1);
    assert_int_equal(e1.form_index, 0);
    assert_int_equal(e1.value[0], 0);
    assert_int_equal(e1.value[1], 2);
    assert_int_equal(e1.value[3], PHIEU_ROW_BLANK);
    assert_int_equal(phieu_session_read_by_board(f->s, page, "lan", &e1, NULL, &x, &err), 0);
    assert_int_equal(x.state, PHIEU_EXC_SECOND);

    /* Blind: minh sees no entry of his own, and lan's choice tells nothing of her rows. */
    phieu_board_entry seen;
    assert_int_equal(phieu_session_board_entry_own(f->s, page, "minh", &seen, &err),
                     PHIEU_ENOTFOUND);
    assert_int_equal(phieu_session_board_entry_own(f->s, page, "lan", &seen, &err), 0);
    assert_memory_equal(seen.value, e1.value, sizeof e1.value);
    phieu_decision *d;
    size_t n;
    assert_int_equal(phieu_session_decisions_list(f->s, page, &d, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_null(strstr(d[0].choice, "high"));
    assert_null(strstr(d[0].choice, "low"));
    char lan_choice[PHIEU_CHOICE_MAX];
    snprintf(lan_choice, sizeof lan_choice, "%s", d[0].choice);
    phieu_free(d);
    /* ... and the head sees the entries only once they differ. */
    phieu_board_entry both[4];
    char names[4][PHIEU_NAME_MAX];
    int nb = 0;
    assert_int_equal(phieu_session_board_entries_for_head(f->s, page, "truong", both, names, 4,
                                                          &nb, &err),
                     PHIEU_ESTATE);

    /* The same member reading twice is refused (a member never decides a case twice; the
     * review screen's undo takes a reading back): still one reader. */
    assert_int_equal(phieu_session_read_by_board(f->s, page, "lan", &e1, NULL, &x, &err),
                     PHIEU_ESTATE);
    /* Taking it back (the screen's correction) removes the entry with its rows; reading
     * again is then lan's one reading. */
    assert_int_equal(phieu_session_decision_withdraw(f->s, page, "lan", &x, &err), 0);
    assert_int_equal(phieu_session_board_entry_own(f->s, page, "lan", &e2, &err),
                     PHIEU_ENOTFOUND);
    assert_int_equal(phieu_session_read_by_board(f->s, page, "lan", &e1, NULL, &x, &err), 0);
    assert_int_equal(x.state, PHIEU_EXC_SECOND);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_PENDING);

    /* A second supervisor reading the same: counted as the board read it. */
    entry_of(f, page, "4=blank,3=trust,2=low,1=high", &e2);
    assert_int_equal(phieu_session_read_by_board(f->s, page, "minh", &e2, "giấy bị cắt góc",
                                                 &x, &err),
                     0);
    assert_int_equal(x.state, PHIEU_EXC_RESOLVED);
    phieu_ballot b;
    assert_int_equal(find_ballot(f, res.sheet_id, &b), 0);
    assert_int_equal(b.state, PHIEU_BALLOT_VALID);
    assert_int_equal(b.by_board, 1);
    assert_int_equal(b.form_index, 0);
    assert_int_equal(b.value[0], 0);
    assert_int_equal(b.value[1], 2);
    assert_int_equal(b.value[2], 1);
    assert_int_equal(b.value[3], PHIEU_ROW_BLANK);
    assert_int_equal(b.decided[0], 1);
    phieu_board_entry counted;
    assert_int_equal(phieu_session_sheet_board_entry(f->s, res.sheet_id, &counted, &err), 0);
    assert_memory_equal(counted.value, e1.value, sizeof e1.value);
    /* The log names the decisions by hash, never a row's choice. */
    phieu_log_entry *log;
    size_t nl;
    assert_int_equal(phieu_session_log_list(f->s, &log, &nl, &err), 0);
    for (size_t i = 0; i < nl; i++)
        assert_null(strstr(log[i].detail, "high"));
    phieu_session_log_free(log, nl);

    /* The digest is keyed with the file's own secret: the same rows in another session
     * give another choice, so it cannot be looked up in a table of guesses. */
    fixture other = *f;
    snprintf(other.path, sizeof other.path, "%s/other.db", f->dir);
    make_session(&other, 0, -1);
    add_board_users(&other);
    phieu_page_result ro;
    add_unregistered(&other, 41, &ro);
    int64_t opage = exception_at(&other, ro.sheet_id, 0);
    entry_of(&other, opage, "read:1=high,2=low,3=trust,4=blank", &e2);
    assert_int_equal(phieu_session_read_by_board(other.s, opage, "lan", &e2, NULL, &x, &err), 0);
    assert_int_equal(phieu_session_decisions_list(other.s, opage, &d, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_not_equal(d[0].choice, lan_choice);
    phieu_free(d);
    phieu_session_close(&other.s);
}

static void test_board_readings_differ_head_decides(void **state)
{
    fixture *f = *state;
    phieu_error err = {0};
    add_board_users(f);
    assert_int_equal(phieu_session_user_add(f->s, "ha", PHIEU_ROLE_HEAD, "password-ha", NULL,
                                            &err),
                     0);
    phieu_page_result res;
    add_unregistered(f, 42, &res);
    int64_t page = exception_at(f, res.sheet_id, 0);
    phieu_board_entry a, b, h;
    entry_of(f, page, "1=high,2=low,3=trust,4=blank", &a);
    entry_of(f, page, "1=high,2=trust,3=trust,4=blank", &b);
    entry_of(f, page, "1=high,2=low,3=trust,4=overvote", &h);
    phieu_exception x;
    /* The head truong reads first, a supervisor reads otherwise. */
    assert_int_equal(phieu_session_read_by_board(f->s, page, "truong", &a, NULL, &x, &err), 0);
    assert_int_equal(phieu_session_read_by_board(f->s, page, "minh", &b, NULL, &x, &err), 0);
    assert_int_equal(x.state, PHIEU_EXC_HEAD);
    assert_int_equal(ballot_state(f, res.sheet_id), PHIEU_BALLOT_PENDING);
    /* A third supervisor cannot, and truong, who read it, cannot break the tie. */
    assert_int_equal(phieu_session_read_by_board(f->s, page, "lan", &a, NULL, &x, &err),
                     PHIEU_ESTATE);
    assert_int_equal(phieu_session_read_by_board(f->s, page, "truong", &a, NULL, &x, &err),
                     PHIEU_ESTATE);
    assert_non_null(strstr(err.message, "has not read it"));
    assert_int_equal(phieu_session_decide(f->s, page, "truong", "invalid", NULL, &x, &err),
                     PHIEU_ESTATE);
    phieu_board_entry both[4];
    char names[4][PHIEU_NAME_MAX];
    int nb = 0;
    assert_int_equal(phieu_session_board_entries_for_head(f->s, page, "truong", both, names, 4,
                                                          &nb, &err),
                     PHIEU_ESTATE);
    /* The other head, ha, sees both readings and reads the paper herself. */
    assert_int_equal(phieu_session_board_entries_for_head(f->s, page, "ha", both, names, 4, &nb,
                                                          &err),
                     0);
    assert_int_equal(nb, 2);
    assert_string_equal(names[0], "truong");
    assert_string_equal(names[1], "minh");
    assert_int_equal(both[0].value[1], 2);
    assert_int_equal(both[1].value[1], 1);
    assert_int_equal(phieu_session_read_by_board(f->s, page, "ha", &h, NULL, &x, &err), 0);
    assert_int_equal(x.state, PHIEU_EXC_RESOLVED);
    phieu_ballot bal;
    assert_int_equal(find_ballot(f, res.sheet_id, &bal), 0);
    assert_int_equal(bal.state, PHIEU_BALLOT_VALID);
    assert_int_equal(bal.by_board, 1);
    assert_int_equal(bal.value[1], 2);
    assert_int_equal(bal.value[3], PHIEU_ROW_OVERVOTE);

    /* The tally counts the board's reading like any ballot. */
    phieu_tally *t = NULL;
    assert_int_equal(phieu_tally_from_session(f->s, &t, &err), 0);
    assert_int_equal(t->forms[0].ballots, 1);
    assert_int_equal(t->forms[0].persons[0].count[0], 1);
    assert_int_equal(t->forms[0].persons[1].count[2], 1);
    assert_int_equal(t->forms[0].persons[3].overvote, 1);
    phieu_tally_destroy(&t);

    /* A counted page of the machine cannot be read by the board instead. */
    const int choices[4] = {0, 0, 0, 0};
    phieu_image *img = marked(f, choices, 43);
    phieu_page_result ok;
    add(f, img, &ok);
    phieu_image_destroy(&img);
    assert_int_equal(ok.status, PHIEU_PAGE_COUNTED);
}

/* `test_session --make-board-pages DIR`: for the e2e and browser tests of the board's
 * reading, the fixture's form (DIR/test-rating.form), one ballot the machine counts
 * (DIR/a-counted.png: high, trust, low, low) and two it cannot register, their corner marks
 * covered (DIR/b-cut.png: high, low, trust, blank; DIR/c-cut.png: low, low, high, trust). */
static int make_board_pages(const char *dir)
{
    void *state = NULL;
    setup(&state);
    fixture *f = state;
    phieu_error err = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/test-rating.form", dir);
    int rc = phieu_mkdir_p(dir, &err);
    if (rc == 0)
        rc = phieu_write_file_durable(path, (const uint8_t *)fixture_rating_form,
                                      sizeof fixture_rating_form - 1, &err);
    static const struct {
        const char *name;
        int cut;
        int choices[4];
    } pages[] = {{"a-counted", 0, {0, 1, 2, 2}}, {"b-cut", 1, {0, 2, 1, -1}},
                 {"c-cut", 1, {2, 2, 0, 1}}};
    for (size_t i = 0; rc == 0 && i < sizeof pages / sizeof pages[0]; i++) {
        phieu_image *img = pages[i].cut ? unregistered(f, pages[i].choices, 50 + (unsigned)i)
                                        : marked(f, pages[i].choices, 50 + (unsigned)i);
        snprintf(path, sizeof path, "%s/%s.png", dir, pages[i].name);
        rc = phieu_image_save_png(img, path, &err);
        phieu_image_destroy(&img);
    }
    teardown(&state);
    if (rc != 0)
        fprintf(stderr, "test_session: %s\n", err.message);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--make-board-pages") == 0)
        return make_board_pages(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_open_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_form_of_other_council_or_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_times_of_the_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_and_foreign_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_counted_and_duplicate_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rescan_and_same_pattern, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rescan_of_one_mark_from_stored_strokes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rescan_creased, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rescan_faint_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_back_side_double_feed_unreadable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_person_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_two_person_rule_latest_wins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_board_sets_form_of_rejected_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_board_form_of_a_rescan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_board_form_of_a_rescan_one_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rescan_of_a_page_the_board_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_board_reads_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_board_readings_differ_head_decides, setup,
                                        teardown),
        cmocka_unit_test(test_reading_blob_roundtrip),
        cmocka_unit_test_setup_teardown(test_credentials_lookup_then_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user_costs_the_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tally_reads_counts_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_detects_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_detects_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_change_audited_then_frozen, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
