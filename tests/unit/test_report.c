/*
 * test_report.c - the certified export end to end: key files, a session counted from
 * rendered and hand-marked ballots, the report and its refusal while exceptions are open,
 * `verify` on the untouched export and on every kind of tampering, ballot order and
 * secrecy, and the minutes' figures as pdftotext reads them back (187 low of 481 -> 38,88).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/pages.h"
#include "phieu/render.h"
#include "phieu/report.h"
#include "phieu/session.h"
#include "phieu/tally.h"

/* fontconfig (under pango: the test ballots and the minutes) keeps its caches for the life
 * of the process; tell LeakSanitizer that this is not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\n";
}

/* Ballots are rendered at 150 dpi: the lowest the reader supports, and the fastest. */
#define DPI 150

static char tmp_root[512];

static void run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (%d): %s", rc, cmd);
}

/* Not inlined: GCC 12 at -O3 takes the inlined out-parameter for a dangling pointer
 * (-Wdangling-pointer false positive in Release builds). */
__attribute__((noinline)) static char *slurp(const char *path, size_t *len)
{
    uint8_t *data = NULL;
    size_t n = 0;
    phieu_error err = {0};
    if (phieu_read_file(path, (size_t)1 << 30, &data, &n, &err) != 0)
        fail_msg("%s", err.message);
    if (len)
        *len = n;
    return (char *)data;
}

static void spit(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void setup_tmp(void)
{
    if (tmp_root[0])
        return;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/phieu-test-report-XXXXXX");
    assert_non_null(mkdtemp(tmp_root));
    phieu_error err = {0};
    assert_int_equal(phieu_util_init(&err), 0);
}

static char *source_path(const char *rel)
{
    static char buf[1024];
    const char *top = getenv("PHIEU_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/%s", top ? top : "..", rel);
    return buf;
}

/* ---- Keys --------------------------------------------------------------------------- */

static void test_key_files(void **state)
{
    (void)state;
    setup_tmp();
    char path[600], pub[640];
    snprintf(path, sizeof path, "%s/board.key", tmp_root);
    snprintf(pub, sizeof pub, "%s.pub", path);
    phieu_error err = {0};
    phieu_key made;
    assert_int_equal(phieu_key_generate(path, &made, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);

    phieu_key secret, public_only;
    assert_int_equal(phieu_key_load(path, &secret, &err), 0);
    assert_int_equal(secret.has_secret, 1);
    assert_int_equal(phieu_key_load(pub, &public_only, &err), 0);
    assert_int_equal(public_only.has_secret, 0);
    assert_memory_equal(secret.public_key, public_only.public_key, PHIEU_KEY_PUBLIC_BYTES);
    assert_memory_equal(made.public_key, public_only.public_key, PHIEU_KEY_PUBLIC_BYTES);

    uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES];
    const char msg[] = "187 of 481";
    assert_int_equal(phieu_key_sign(&secret, msg, sizeof msg, sig, &err), 0);
    assert_int_equal(phieu_key_check(public_only.public_key, msg, sizeof msg, sig), 1);
    assert_int_equal(phieu_key_check(public_only.public_key, "188 of 481", sizeof msg, sig), 0);
    assert_int_not_equal(phieu_key_sign(&public_only, msg, sizeof msg, sig, &err), 0);

    /* Never overwritten. */
    assert_int_equal(phieu_key_generate(path, NULL, &err), PHIEU_EEXIST);
    /* A damaged secret key is refused, not used. */
    size_t len;
    char *text = slurp(path, &len);
    char *hex = strchr(text, '\n') + 1;
    hex[5] = hex[5] == '0' ? '1' : '0';
    assert_int_equal(phieu_key_parse(text, len, "damaged", &secret, &err), PHIEU_EFORMAT);
    assert_non_null(strstr(err.message, "damaged"));
    assert_int_equal(phieu_key_parse("hello\n00\n", 9, "other", &secret, &err),
                     PHIEU_EFORMAT);
    phieu_free(text);
}

/* ---- A session counted from marked ballots ------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next_u64(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(rng *r)
{
    return (double)(next_u64(r) >> 11) / 9007199254740992.0;
}

static void ink_dot(phieu_image *img, int x, int y, int radius)
{
    for (int dy = -radius; dy <= radius; dy++)
        for (int dx = -radius; dx <= radius; dx++)
            if (x + dx >= 0 && y + dy >= 0 && x + dx < img->width && y + dy < img->height)
                img->pixels[(size_t)(y + dy) * (size_t)img->stride + (size_t)(x + dx)] = 40;
}

/* A pen X across the box, placed and slanted a little differently every time. */
static void mark_box(phieu_image *img, const phieu_rect *box, rng *r)
{
    double px = DPI / 25.4;
    double inset = box->w * (0.15 + 0.1 * uniform(r));
    double x0 = (box->x + inset) * px, x1 = (box->x + box->w - inset) * px;
    double y0 = (box->y + inset) * px, y1 = (box->y + box->h - inset) * px;
    double j = 0.08 * box->w * px;
    for (int stroke = 0; stroke < 2; stroke++) {
        double ax = x0 + j * uniform(r), ay = (stroke ? y1 : y0) + j * (uniform(r) - 0.5);
        double bx = x1 - j * uniform(r), by = (stroke ? y0 : y1) + j * (uniform(r) - 0.5);
        for (int s = 0; s <= 60; s++) {
            double t = s / 60.0;
            ink_dot(img, (int)(ax + t * (bx - ax)), (int)(ay + t * (by - ay)), 1);
        }
    }
}

/* Marks one ballot: want[r] a choice index, PHIEU_ROW_BLANK, or PHIEU_ROW_OVERVOTE (the
 * first two boxes). A few specks of dust off the boxes make every image distinct. */
static phieu_image *marked(const phieu_image *blank, const phieu_layout *lay, const int *want,
                           rng *r)
{
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_clone(blank, &img, &err), 0);
    for (int row = 0; row < lay->n_rows; row++) {
        if (want[row] >= 0)
            mark_box(img, &lay->boxes[row][want[row]], r);
        else if (want[row] == PHIEU_ROW_OVERVOTE) {
            mark_box(img, &lay->boxes[row][0], r);
            mark_box(img, &lay->boxes[row][1], r);
        }
    }
    double px = DPI / 25.4;
    for (int k = 0; k < 3; k++)
        img->pixels[(size_t)((60 + 150 * uniform(r)) * px) * (size_t)img->stride +
                    (size_t)((30 + 20 * uniform(r)) * px)] = 200;
    return img;
}

typedef struct fixture {
    char dir[600];
    char db[700];
    phieu_session *s;
    phieu_form *form;
    phieu_layout layout;
    int n;                 /* ballots */
    char (*scan)[PHIEU_SHA256_HEX]; /* image hashes in scan order */
    int truth[PHIEU_FORM_MAX_ROWS][PHIEU_FORM_MAX_CHOICES]; /* counts drawn */
} fixture;

/* A session of n ballots of `form_file`; every `overvote_every`-th ballot has an overvote
 * in row 1, which (confirm_overvotes) becomes an exception. Counts: collected = n. */
static void make_session(fixture *fx, const char *name, const char *form_file, int n,
                         int overvote_every, uint64_t seed)
{
    setup_tmp();
    memset(fx, 0, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "%s/%s", tmp_root, name);
    assert_int_equal(mkdir(fx->dir, 0755), 0);
    snprintf(fx->db, sizeof fx->db, "%s/session.db", fx->dir);
    phieu_error err = {0};
    assert_int_equal(phieu_form_load(source_path(form_file), &fx->form, &err), 0);
    assert_int_equal(phieu_layout_compute(fx->form, &fx->layout, &err), 0);
    const phieu_form *forms[1] = {fx->form};
    phieu_session_params p = {
        .council = "Hội đồng nhân dân huyện An Thạnh",
        .session_name = "Kỳ họp thứ Mười Một, khóa XII",
        .date = "2026-11-28",
        .place = "Hội trường UBND huyện",
        .delegates = n + 10,
        .rules = "nq96",
        .two_person_rule = 0,
        .confirm_overvotes = 1,
        .forms = forms,
        .n_forms = 1,
        /* Hand-drawn test marks are alike; only identical ink is a rescan here. */
        .duplicate_similarity = 0.9999,
    };
    if (phieu_session_create(fx->db, &p, &fx->s, &err) != 0)
        fail_msg("%s", err.message);
    const char *members[] = {"Lê Văn Một", "Phạm Thị Hai"};
    assert_int_equal(phieu_session_set_board(fx->s, "Nguyễn Văn Trưởng", "Trần Thị Thư",
                                             members, 2, "test", &err),
                     0);
    assert_int_equal(phieu_session_user_add(fx->s, "truong", PHIEU_ROLE_HEAD,
                                            "mat-khau-dai-du-manh", "test", &err),
                     0);
    phieu_board_counts c = {.entered = 1, .present = n + 5, .issued = n + 2, .collected = n,
                            .spoiled = 2};
    assert_int_equal(phieu_session_set_counts(fx->s, -1, &c, "test", &err), 0);

    phieu_render_options ro = {.test_ballot = 0, .copies = 1};
    phieu_image *blank = NULL;
    assert_int_equal(phieu_render_raster(fx->form, &ro, DPI, &blank, &err), 0);
    phieu_batch batch;
    assert_int_equal(phieu_session_batch_open(fx->s, n, &batch, &err), 0);
    fx->n = n;
    fx->scan = calloc((size_t)n, sizeof *fx->scan);
    rng r = {seed};
    for (int i = 0; i < n; i++) {
        int want[PHIEU_FORM_MAX_ROWS];
        for (int row = 0; row < fx->form->n_rows; row++) {
            int pick = (int)(next_u64(&r) % (uint64_t)(fx->form->n_choices + 1));
            want[row] = pick == fx->form->n_choices ? PHIEU_ROW_BLANK : pick;
            if (row == 0 && overvote_every > 0 && i % overvote_every == overvote_every - 1)
                want[row] = PHIEU_ROW_OVERVOTE;
            if (want[row] >= 0)
                fx->truth[row][want[row]]++;
        }
        phieu_image *img = marked(blank, &fx->layout, want, &r);
        phieu_page_meta meta = {.batch = batch.id, .side = PHIEU_SIDE_FRONT};
        phieu_page_result res;
        if (phieu_session_add_page(fx->s, img, &meta, &res, &err) != 0)
            fail_msg("page %d: %s", i + 1, err.message);
        assert_int_equal(res.outcome, PHIEU_ADD_NEW);
        if (res.reading.status == PHIEU_PAGE_REJECTED)
            fail_msg("page %d rejected: %s", i + 1, res.reading.reasons[0].text);
        for (int row = 0; row < fx->form->n_rows; row++)
            if (want[row] != PHIEU_ROW_OVERVOTE && res.reading.rows[row].decision != want[row])
                fail_msg("page %d row %d: drew %d, read %d", i + 1, row + 1, want[row],
                         res.reading.rows[row].decision);
        memcpy(fx->scan[i], res.sha256, PHIEU_SHA256_HEX);
        phieu_image_destroy(&img);
    }
    assert_int_equal(phieu_session_batch_close(fx->s, batch.id, "test", NULL, &err), 0);
    phieu_image_destroy(&blank);
}

static void free_fixture(fixture *fx)
{
    phieu_session_close(&fx->s);
    phieu_form_destroy(&fx->form);
    free(fx->scan);
}

/* Decides every open exception: overvotes in row 1 become the form's last choice. */
static int decide_all(fixture *fx)
{
    phieu_error err = {0};
    phieu_exception *items = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_exceptions_list(fx->s, PHIEU_EXC_LIST_UNRESOLVED, &items, &n,
                                                   &err),
                     0);
    const char *last = fx->form->choices[fx->form->n_choices - 1].key;
    for (size_t i = 0; i < n; i++) {
        if (phieu_session_decide(fx->s, items[i].id, "truong", items[i].row ? last : "accept",
                                 "hai dấu, đại biểu gạch một ô", NULL, &err) != 0)
            fail_msg("decide: %s", err.message);
        if (items[i].row == 1)
            fx->truth[0][fx->form->n_choices - 1]++;
    }
    phieu_free(items);
    return (int)n;
}

static void report_into(fixture *fx, const char *sub, const phieu_key *key, int draft,
                        char *out, size_t size, phieu_report_summary *sum)
{
    snprintf(out, size, "%s/%s", fx->dir, sub);
    phieu_report_data *d = NULL;
    phieu_error err = {0};
    if (phieu_report_data_from_session(fx->s, &d, &err) != 0)
        fail_msg("%s", err.message);
    phieu_report_options opt = {.key = key, .draft = draft};
    if (phieu_report_write(d, out, &opt, sum, &err) != 0)
        fail_msg("%s", err.message);
    phieu_report_data_destroy(&d);
}

static int verify_dir(const char *dir, const phieu_key *trusted, char **problems)
{
    phieu_verify_result res;
    phieu_error err = {0};
    if (phieu_verify(dir, trusted, &res, &err) != 0)
        fail_msg("verify: %s", err.message);
    *problems = strdup(res.problems.data ? res.problems.data : "");
    int ok = res.ok;
    phieu_verify_result_release(&res);
    return ok;
}

static phieu_key board_key(void)
{
    static phieu_key key;
    static int made;
    if (!made) {
        char path[4096];
        snprintf(path, sizeof path, "%s/signing.key", tmp_root);
        phieu_error err = {0};
        assert_int_equal(phieu_key_generate(path, &key, &err), 0);
        made = 1;
    }
    return key;
}

/* ---- Refusal, then a final report that verifies --------------------------------------- */

static fixture small;
static char final_dir[800];

static void test_report_refused_while_exceptions_open(void **state)
{
    (void)state;
    make_session(&small, "small", "forms/district-rating.form", 12, 4, 7);
    phieu_report_data *d = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_report_data_from_session(small.s, &d, &err), 0);
    assert_int_equal(d->exceptions_open, 3);
    char out[800];
    snprintf(out, sizeof out, "%s/refused", small.dir);
    phieu_report_options opt = {0};
    assert_int_equal(phieu_report_write(d, out, &opt, NULL, &err), PHIEU_ESTATE);
    assert_non_null(strstr(err.message, "3 exception(s) still open"));
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0); /* nothing written */
    /* A draft is written, and says so on every page. */
    phieu_key key = board_key();
    opt.key = &key;
    opt.draft = 1;
    snprintf(out, sizeof out, "%s/draft", small.dir);
    phieu_report_summary sum;
    assert_int_equal(phieu_report_write(d, out, &opt, &sum, &err), 0);
    assert_true(sum.blockers >= 1);
    phieu_report_data_destroy(&d);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "test $(pdftotext %s/minutes.pdf - | grep -c 'BẢN NHÁP / DRAFT') -ge %d", out,
             sum.pages);
    run(cmd);
    char *problems;
    int ok = verify_dir(out, &key, &problems);
    if (!ok)
        fail_msg("draft does not verify:\n%s", problems);
    free(problems);
}

static void test_final_report_verifies(void **state)
{
    (void)state;
    assert_int_equal(decide_all(&small), 3);
    /* Nothing blocks it any more, but an unsigned final report is still refused. */
    {
        phieu_report_data *d = NULL;
        phieu_error err = {0};
        assert_int_equal(phieu_report_data_from_session(small.s, &d, &err), 0);
        phieu_report_options unsigned_final = {.key = NULL, .draft = 0};
        char out[800];
        snprintf(out, sizeof out, "%s/unsigned", small.dir);
        assert_int_equal(phieu_report_write(d, out, &unsigned_final, NULL, &err), PHIEU_EINVAL);
        assert_non_null(strstr(err.message, "phieu key new"));
        struct stat st;
        assert_int_not_equal(stat(out, &st), 0);
        phieu_report_data_destroy(&d);
    }
    phieu_key key = board_key();
    phieu_report_summary sum;
    report_into(&small, "final", &key, 0, final_dir, sizeof final_dir, &sum);
    assert_int_equal(sum.signed_, 1);
    assert_int_equal((int)sum.ballots, 12);
    char *problems;
    int ok = verify_dir(final_dir, &key, &problems);
    if (!ok)
        fail_msg("final report does not verify:\n%s", problems);
    free(problems);

    /* results.json holds what was drawn, person by person. */
    char path[4096];
    snprintf(path, sizeof path, "%s/results.json", final_dir);
    json_error_t jerr;
    json_t *r = json_load_file(path, 0, &jerr);
    assert_non_null(r);
    json_t *persons = json_object_get(json_array_get(json_object_get(r, "forms"), 0), "persons");
    assert_int_equal(json_array_size(persons), small.form->n_rows);
    for (int row = 0; row < small.form->n_rows; row++) {
        json_t *levels = json_object_get(json_array_get(persons, (size_t)row), "levels");
        for (int c = 0; c < small.form->n_choices; c++)
            assert_int_equal(json_integer_value(json_object_get(
                                 json_array_get(levels, (size_t)c), "count")),
                             small.truth[row][c]);
    }
    json_decref(r);

    /* The PDF: fonts embedded, names and figures readable, fingerprint on every page. */
    snprintf(path, sizeof path, "pdffonts %s/minutes.pdf | tail -n +3 | awk '{print $(NF-4)}' "
             "| grep -qv yes && exit 1 || exit 0", final_dir);
    run(path);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "pdftotext %s/minutes.pdf %s/final-minutes.txt", final_dir,
             small.dir);
    run(cmd);
    snprintf(path, sizeof path, "%s/final-minutes.txt", small.dir);
    char *text = slurp(path, NULL);
    assert_non_null(strstr(text, "BIÊN BẢN KIỂM PHIẾU"));
    assert_non_null(strstr(text, "Huỳnh Thị Ngọc Ánh"));
    assert_non_null(strstr(text, "Nguyễn Văn Trưởng"));
    assert_null(strstr(text, "BẢN NHÁP"));
    char fp_line[200];
    snprintf(fp_line, sizeof fp_line, "%s", sum.fingerprint);
    int pages_with_fp = 0;
    for (const char *p = text; (p = strstr(p, fp_line)) != NULL; p++)
        pages_with_fp++;
    assert_int_equal(pages_with_fp, sum.pages + 1); /* every footer, and the appendix */
    char trang[32];
    snprintf(trang, sizeof trang, "Trang %d/%d", sum.pages, sum.pages);
    assert_non_null(strstr(text, trang));
    phieu_free(text);
}

/* ---- Tampering: each kind of change is found and named ------------------------------- */

static char *copy_export(const char *name)
{
    static char dir[900];
    snprintf(dir, sizeof dir, "%s/%s", small.dir, name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -a %s %s", dir, final_dir, dir);
    run(cmd);
    return dir;
}

static void expect_problem(const char *dir, const char *needle1, const char *needle2)
{
    phieu_key key = board_key();
    char *problems;
    int ok = verify_dir(dir, &key, &problems);
    if (ok)
        fail_msg("verify of %s passed, it should have found %s", dir, needle1);
    if (!strstr(problems, needle1) || (needle2 && !strstr(problems, needle2)))
        fail_msg("verify of %s did not name '%s'%s%s; it said:\n%s", dir, needle1,
                 needle2 ? " and " : "", needle2 ? needle2 : "", problems);
    free(problems);
}

/* The n-th line of ballots.jsonl (0-based) and the whole text. */
static char *ballot_line(const char *dir, int n, char **whole, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ballots.jsonl", dir);
    *whole = slurp(path, len);
    char *p = *whole;
    for (int i = 0; i < n; i++)
        p = strchr(p, '\n') + 1;
    return p;
}

static void test_tamper_image_byte(void **state)
{
    (void)state;
    char *dir = copy_export("t-image");
    char *whole;
    size_t len;
    char *line = ballot_line(dir, 2, &whole, &len);
    char sha[65];
    memcpy(sha, strstr(line, "\"sha256\":\"") + 10, 64);
    sha[64] = '\0';
    char path[4096];
    snprintf(path, sizeof path, "%s/images/%s.png", dir, sha);
    size_t n;
    char *img = slurp(path, &n);
    img[n / 2] ^= 0x01;
    spit(path, img, n);
    phieu_free(img);
    phieu_free(whole);
    char name[100];
    snprintf(name, sizeof name, "images/%s.png: SHA-256", sha);
    expect_problem(dir, name, NULL);
}

static void test_tamper_decision(void **state)
{
    (void)state;
    char *dir = copy_export("t-decision");
    char *whole;
    size_t len;
    char *line = ballot_line(dir, 0, &whole, &len);
    /* The first record with a board decision. */
    char *hit = strstr(whole, "\"board\":{\"decision\":\"low\"");
    assert_non_null(hit);
    char *start = hit;
    while (start > whole && start[-1] != '\n')
        start--;
    char id[33];
    memcpy(id, start + 7, 32);
    id[32] = '\0';
    memcpy(hit + strlen("\"board\":{\"decision\":\""), "own", 3); /* "low" -> "own" */
    (void)line;
    char path[4096];
    snprintf(path, sizeof path, "%s/ballots.jsonl", dir);
    spit(path, whole, len);
    phieu_free(whole);
    char want[100];
    snprintf(want, sizeof want, "ballot %s", id);
    expect_problem(dir, want, "ballots.jsonl: SHA-256");
}

static void test_tamper_added_record(void **state)
{
    (void)state;
    char *dir = copy_export("t-added");
    char *whole;
    size_t len;
    char *line = ballot_line(dir, 3, &whole, &len);
    size_t line_len = (size_t)(strchr(line, '\n') + 1 - line);
    char *more = malloc(len + line_len);
    memcpy(more, whole, len);
    memcpy(more + len, line, line_len);
    memcpy(more + len + 7, "ffffffffffffffffffffffffffffffff", 32); /* a new id, last */
    char path[4096];
    snprintf(path, sizeof path, "%s/ballots.jsonl", dir);
    spit(path, more, len + line_len);
    free(more);
    phieu_free(whole);
    expect_problem(dir, "ballot ffffffffffffffffffffffffffffffff is not in the signed manifest",
                   "also used by ballot");
}

static void test_tamper_dropped_record(void **state)
{
    (void)state;
    char *dir = copy_export("t-dropped");
    char *whole;
    size_t len;
    char *line = ballot_line(dir, 5, &whole, &len);
    char id[33];
    memcpy(id, line + 7, 32);
    id[32] = '\0';
    char *end = strchr(line, '\n') + 1;
    memmove(line, end, len - (size_t)(end - whole));
    len -= (size_t)(end - line);
    char path[4096];
    snprintf(path, sizeof path, "%s/ballots.jsonl", dir);
    spit(path, whole, len);
    phieu_free(whole);
    char want[160];
    snprintf(want, sizeof want, "ballot %s is in the manifest but missing", id);
    expect_problem(dir, want, "no ballot record uses this image");
}

static void test_tamper_total(void **state)
{
    (void)state;
    char *dir = copy_export("t-total");
    char path[4096];
    snprintf(path, sizeof path, "%s/results.json", dir);
    json_error_t jerr;
    json_t *r = json_load_file(path, JSON_PRESERVE_ORDER, &jerr);
    json_t *p0 = json_array_get(json_object_get(json_array_get(json_object_get(r, "forms"), 0),
                                                "persons"),
                                0);
    json_t *low = json_array_get(json_object_get(p0, "levels"), 2);
    json_object_set_new(low, "count", json_integer(json_integer_value(json_object_get(low, "count")) + 1));
    assert_int_equal(json_dump_file(r, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(r);
    expect_problem(dir, "[1 Trần Văn Khải].levels[low].count", "results.json: SHA-256");
}

/* results.csv is recomputed too, figure by figure, not only hashed. */
static void test_tamper_csv(void **state)
{
    (void)state;
    char *dir = copy_export("t-csv");
    char path[4096];
    snprintf(path, sizeof path, "%s/results.csv", dir);
    size_t len;
    char *csv = slurp(path, &len);
    char *line2 = strchr(csv, '\n') + 1;
    char *low = strstr(line2, ",low,");
    assert_non_null(low);
    low += 5;
    char *end;
    long count = strtol(low, &end, 10);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "%.*s%ld%s", (int)(low - csv), csv, count + 1, end);
    fclose(f);
    phieu_free(csv);
    char needle[128];
    snprintf(needle, sizeof needle, "column 18 (level3_count): the file says '%ld', the ballots "
             "give '%ld'", count + 1, count);
    expect_problem(dir, "results.csv:2: ", needle);
}

static void test_tamper_swap_images(void **state)
{
    (void)state;
    char *dir = copy_export("t-swap");
    char *whole;
    size_t len;
    ballot_line(dir, 0, &whole, &len);
    char a[65], b[65];
    char *l2 = strchr(whole, '\n') + 1;
    memcpy(a, strstr(whole, "\"sha256\":\"") + 10, 64);
    memcpy(b, strstr(l2, "\"sha256\":\"") + 10, 64);
    a[64] = b[64] = '\0';
    phieu_free(whole);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s/images && mv %s.png x && mv %s.png %s.png && mv x %s.png",
             dir, a, b, a, b);
    run(cmd);
    char want[120];
    snprintf(want, sizeof want, "images/%s.png: its content's SHA-256", a);
    expect_problem(dir, want, "images swapped");
}

static void test_tamper_signature(void **state)
{
    (void)state;
    char *dir = copy_export("t-signature");
    /* Someone re-signs a changed manifest with their own key. */
    phieu_key other;
    char path[4096];
    snprintf(path, sizeof path, "%s/other.key", small.dir);
    phieu_error err = {0};
    assert_int_equal(phieu_key_generate(path, &other, &err), 0);
    /* First only the key line: the old signatures do not verify with the new key. */
    snprintf(path, sizeof path, "%s/manifest.sig", dir);
    size_t len;
    char *old = slurp(path, &len);
    char hex[PHIEU_KEY_PUBLIC_HEX];
    phieu_key_public_hex(&other, hex);
    memcpy(strstr(old, "public-key ") + 11, hex, 64);
    spit(path, old, len);
    phieu_free(old);
    char *problems;
    assert_int_equal(verify_dir(dir, NULL, &problems), 0);
    assert_non_null(strstr(problems, "signature over manifest.json does not verify"));
    free(problems);
    /* Then new signatures over both files. */
    char s1[2 * PHIEU_KEY_SIGNATURE_BYTES + 1], s2[2 * PHIEU_KEY_SIGNATURE_BYTES + 1];
    uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    char *data = slurp(path, &len);
    assert_int_equal(phieu_key_sign(&other, data, len, sig, &err), 0);
    phieu_hex(sig, sizeof sig, s1);
    phieu_free(data);
    snprintf(path, sizeof path, "%s/minutes.pdf", dir);
    data = slurp(path, &len);
    assert_int_equal(phieu_key_sign(&other, data, len, sig, &err), 0);
    phieu_hex(sig, sizeof sig, s2);
    phieu_free(data);
    char text[1000];
    int n = snprintf(text, sizeof text,
                     "phieu signature v1 ed25519\npublic-key %s\nmanifest.json %s\n"
                     "minutes.pdf %s\n",
                     hex, s1, s2);
    snprintf(path, sizeof path, "%s/manifest.sig", dir);
    spit(path, text, (size_t)n);
    expect_problem(dir, "not the trusted key", "signature over manifest.json does not verify");
    /* Without --pubkey the new signatures hold, but the key is not the one the minutes
     * were written for. */
    assert_int_equal(verify_dir(dir, NULL, &problems), 0);
    assert_non_null(strstr(problems, "minutes.pdf: was written for public key"));
    free(problems);
}

/* ---- Secrecy: ballot order and no times --------------------------------------------- */

static void test_order_unrelated_to_scan(void **state)
{
    (void)state;
    fixture fx;
    const int n = 300;
    make_session(&fx, "order", "forms/confidence-vote.form", n, 0, 96);
    char out[800];
    phieu_report_summary sum;
    phieu_key key = board_key();
    report_into(&fx, "report", &key, 0, out, sizeof out, &sum);
    char path[4096];
    snprintf(path, sizeof path, "%s/ballots.jsonl", out);
    size_t len;
    char *text = slurp(path, &len);
    /* Position in the export of each scan position. */
    double sum_d2 = 0;
    int lines = 0;
    for (char *line = text; *line; line = strchr(line, '\n') + 1, lines++) {
        char *sha = strstr(line, "\"sha256\":\"") + 10;
        int scan = -1;
        for (int i = 0; i < n; i++)
            if (strncmp(fx.scan[i], sha, 64) == 0)
                scan = i;
        assert_true(scan >= 0);
        double d = (double)(scan - lines);
        sum_d2 += d * d;
        /* No time in any record: no date, no clock, no key that names one. */
        char *nl = strchr(line, '\n');
        *nl = '\0';
        assert_null(strstr(line, "time"));
        assert_null(strstr(line, "date"));
        assert_null(strstr(line, "batch"));
        assert_null(strstr(line, "position"));
        for (char *c = line; c[0] && c[1] && c[2]; c++)
            assert_false(c[0] >= '0' && c[0] <= '9' && c[1] == ':' && c[2] >= '0' &&
                         c[2] <= '9');
        *nl = '\n';
    }
    assert_int_equal(lines, n);
    double rho = 1.0 - 6.0 * sum_d2 / ((double)n * ((double)n * n - 1));
    print_message("Spearman rank correlation, scan order vs ballots.jsonl: %.3f\n", rho);
    assert_true(fabs(rho) < 0.2);
    phieu_free(text);

    char *problems;
    int ok = verify_dir(out, &key, &problems);
    if (!ok)
        fail_msg("the export does not verify:\n%s", problems);
    free(problems);
    /* The signature taken away: everything else checks, the missing signature is named. */
    snprintf(path, sizeof path, "%s/manifest.sig", out);
    assert_int_equal(unlink(path), 0);
    ok = verify_dir(out, &key, &problems);
    assert_false(ok);
    assert_non_null(strstr(problems, "manifest.sig: missing"));
    assert_null(strstr(problems, "ballot "));
    free(problems);
    free_fixture(&fx);
}

/* ---- The board's notes ----------------------------------------------------------------- */

/* A first decider's note survives a later decision of the same choice without one. */
static void test_first_note_kept(void **state)
{
    (void)state;
    fixture fx;
    make_session(&fx, "notes", "forms/confidence-vote.form", 4, 2, 41);
    phieu_error err = {0};
    assert_int_equal(phieu_session_user_add(fx.s, "lan", PHIEU_ROLE_SUPERVISOR,
                                            "mat-khau-dai-du-manh", "test", &err),
                     0);
    phieu_exception *items = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_exceptions_list(fx.s, PHIEU_EXC_LIST_UNRESOLVED, &items, &n,
                                                   &err),
                     0);
    assert_true(n >= 1);
    const char *last = fx.form->choices[fx.form->n_choices - 1].key;
    assert_int_equal(phieu_session_decide(fx.s, items[0].id, "lan", last,
                                          "hai dấu, đại biểu gạch một ô", NULL, &err),
                     0);
    /* The head's confirmation of a settled case is an override, which needs its own note. */
    assert_int_equal(phieu_session_decide(fx.s, items[0].id, "truong", last, "Trưởng ban xác nhận",
                                          NULL, &err),
                     0);
    int row = items[0].row;
    phieu_free(items);
    phieu_report_data *d = NULL;
    assert_int_equal(phieu_report_data_from_session(fx.s, &d, &err), 0);
    int found = 0;
    for (size_t i = 0; i < d->n_ballots; i++)
        for (int r = 0; r < d->ballots[i].n_rows; r++)
            if (d->ballots[i].rows[r].decided && r + 1 == row &&
                strstr(d->ballots[i].rows[r].note, "hai dấu, đại biểu gạch một ô") != NULL)
                found++;
    assert_int_equal(found, 1);
    phieu_report_data_destroy(&d);
    free_fixture(&fx);
}

/* ---- The wording of the minutes: data, not code ------------------------------------- */

/* text with the first line that starts with `start` replaced by `line` (a new string). */
static char *replace_line(const char *text, const char *start, const char *line)
{
    const char *at = strstr(text, start);
    assert_non_null(at);
    const char *end = strchr(at, '\n');
    assert_non_null(end);
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_append(&b, text, (size_t)(at - text));
    phieu_buf_puts(&b, line);
    phieu_buf_puts(&b, end);
    return b.data;
}

/* A wording file refused says which file and line, and what is wrong; the built-in
 * file reads. */
static void expect_wording_error(const char *text, const char *want)
{
    phieu_wording *w = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_wording_parse(text, strlen(text), "p.minutes", &w, &err),
                     PHIEU_EFORMAT);
    assert_null(w);
    if (!strstr(err.message, want))
        fail_msg("expected '%s' in: %s", want, err.message);
}

static void test_wording_errors(void **state)
{
    (void)state;
    char *base = slurp(source_path("forms/minutes/vi.minutes"), NULL);
    phieu_wording *w = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_wording_parse(base, strlen(base), "vi.minutes", &w, &err), 0);
    phieu_wording_destroy(&w);
    assert_null(w);
    char *t = replace_line(base, "complaints = ", "complaints_x = Khiếu nại:");
    expect_wording_error(t, "p.minutes:");
    expect_wording_error(t, "unknown key 'complaints_x' in [minutes]");
    phieu_free(t);
    t = replace_line(base, "complaints = ", "# complaints removed");
    expect_wording_error(t, "p.minutes: [minutes] has no 'complaints'; copy it from "
                            "forms/minutes/vi.minutes");
    phieu_free(t);
    t = replace_line(base, "date_line = ", "date_line = {place}, ngày {day} {hour}");
    expect_wording_error(t, "'date_line' cannot use '{hour}'; its names are: place:s day:s");
    phieu_free(t);
    t = replace_line(base, "valid = ", "valid = Số phiếu hợp lệ: {valid}.");
    expect_wording_error(t, "'valid' must say {invalid}");
    phieu_free(t);
    t = replace_line(base, "title = ", "title = A\ntitle = B");
    expect_wording_error(t, "'title' is already given on line");
    phieu_free(t);
    expect_wording_error("  continued\n", "p.minutes:1: an indented line continues a text");
    expect_wording_error("[minutes]\nnation\n", "p.minutes:2: expected 'key = text'");
    assert_int_equal(phieu_wording_load("/nonexistent/vi.minutes", &w, &err), PHIEU_EIO);
    assert_non_null(strstr(err.message, "/nonexistent/vi.minutes"));
    phieu_free(base);
}

/* ---- A published result: 187 low of 481 collected prints 38,88 % -------------------- */

static void test_published_result_38_88(void **state)
{
    (void)state;
    setup_tmp();
    phieu_error err = {0};
    phieu_report_data *d = phieu_calloc(1, sizeof *d);
    d->council = phieu_strdup("Hội đồng nhân dân tỉnh Bình Minh");
    d->session_name = phieu_strdup("Kỳ họp thứ Chín, khóa X");
    d->date = phieu_strdup("2026-12-01");
    d->place = phieu_strdup("Hội trường tỉnh");
    d->board_head = phieu_strdup("Nguyễn Văn Trưởng");
    d->board_secretary = phieu_strdup("Trần Thị Thư");
    d->delegates = 500;
    d->rules = phieu_rules_find("nq96");
    phieu_thresholds_default(&d->thresholds);
    assert_int_equal(phieu_form_load(source_path("forms/province-rating.form"), &d->forms[0],
                                     &err),
                     0);
    d->n_forms = 1;
    d->counts[0] = (phieu_board_counts){.entered = 1, .present = 485, .issued = 485,
                                        .collected = 481, .spoiled = 0};
    const int n = 481, low = 187, blank = 2;
    d->n_ballots = (size_t)n;
    d->ballots = phieu_calloc((size_t)n, sizeof *d->ballots);
    int rows = d->forms[0]->n_rows;
    for (int i = 0; i < n; i++) {
        phieu_report_ballot *b = &d->ballots[i];
        b->form_index = b->read_form = 0;
        b->state = PHIEU_BALLOT_VALID;
        b->n_rows = rows;
        for (int r = 0; r < rows; r++)
            b->rows[r].value = b->rows[r].machine = 0;
        /* Row 1: 187 low, 2 blank, the rest high. */
        b->rows[0].value = b->rows[0].machine = i < low ? 2 : i < low + blank ? PHIEU_ROW_BLANK : 0;
    }
    phieu_tally *t = NULL;
    assert_int_equal(phieu_report_tally(d, &t, &err), 0);
    assert_int_equal(t->forms[0].persons[0].count[2], 187);
    assert_int_equal(t->forms[0].persons[0].valid, 479);
    char path[700];
    snprintf(path, sizeof path, "%s/published.pdf", tmp_root);
    int pages = 0;
    assert_int_equal(phieu_report_minutes_pdf(d, t, "0123456789abcdef0123456789abcdef"
                                                    "0123456789abcdef0123456789abcdef",
                                              NULL, 0, path, &pages, &err),
                     0);
    assert_true(pages >= 2); /* 30 rows do not fit on the first page */
    char cmd[2000];
    snprintf(cmd, sizeof cmd, "pdftotext -layout %s %s.txt", path, path);
    run(cmd);
    snprintf(cmd, sizeof cmd, "%s.txt", path);
    char *text = slurp(cmd, NULL);
    assert_non_null(strstr(text, "38,88%"));
    assert_non_null(strstr(text, "60,71%")); /* 292 high of 481 */
    assert_non_null(strstr(text, "479"));   /* valid for row 1 */
    assert_non_null(strstr(text, "số phiếu thu vào: 481"));
    const char *first_name = d->forms[0]->rows[0].name;
    assert_non_null(strstr(text, first_name));
    char trang[32];
    snprintf(trang, sizeof trang, "Trang %d/%d", pages, pages);
    assert_non_null(strstr(text, trang));
    /* The texts of an official biên bản: the council uppercase, the date in words, the
     * counts in the law's words adding up (481 = 481 + 0), and everything technical (form
     * id, reading thresholds) only in the appendix after the signatures. */
    assert_non_null(strstr(text, "HỘI ĐỒNG NHÂN DÂN")); /* the column wraps the name */
    assert_non_null(strstr(text, "BÌNH MINH"));
    assert_non_null(strstr(text, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
    assert_non_null(strstr(text, "Hội trường tỉnh, ngày 01 tháng 12 năm 2026"));
    assert_non_null(strstr(text, "Số phiếu hợp lệ: 481; số phiếu không hợp lệ: 0."));
    assert_non_null(strstr(text, "số đại biểu có mặt: 485"));
    assert_null(strstr(text, "2026-12-01"));
    const char *appendix = strstr(text, "PHỤ LỤC: THÔNG TIN KIỂM TRA");
    const char *signed_by = strstr(text, "TM. BAN KIỂM PHIẾU");
    assert_non_null(appendix);
    assert_non_null(signed_by);
    assert_true(signed_by < appendix);
    const char *form_id = strstr(text, "province-rating");
    assert_true(form_id > appendix);
    const char *threshold = strstr(text, "Ngưỡng");
    assert_true(threshold > appendix);
    phieu_free(text);

    /* A province's own wording, in a file: a changed text, placeholders in another order
     * and repeated, a sentence of the rating template. The minutes say it; no code. */
    char *base = slurp(source_path("forms/minutes/vi.minutes"), NULL);
    char *t1 = replace_line(base, "complaints = ",
                            "complaints = Ý kiến của đại biểu: không có (0 %).");
    char *t2 = replace_line(t1, "date_line = ",
                            "date_line = Ngày {day}/{month}/{year} ({day}, 100 %), tại {place}");
    char *t3 = replace_line(t2, "none = ", "none = Không ai quá nửa số phiếu tín nhiệm thấp.");
    snprintf(cmd, sizeof cmd, "%s/own.minutes", tmp_root);
    spit(cmd, t3, strlen(t3));
    phieu_wording *own = NULL;
    assert_int_equal(phieu_wording_load(cmd, &own, &err), 0);
    d->wording = own;
    assert_int_equal(phieu_report_minutes_pdf(d, t, "0123456789abcdef0123456789abcdef"
                                                    "0123456789abcdef0123456789abcdef",
                                              NULL, 0, path, &pages, &err),
                     0);
    d->wording = NULL;
    phieu_wording_destroy(&own);
    snprintf(cmd, sizeof cmd, "pdftotext %s %s.txt", path, path);
    run(cmd);
    snprintf(cmd, sizeof cmd, "%s.txt", path);
    text = slurp(cmd, NULL);
    assert_non_null(strstr(text, "Ý kiến của đại biểu: không có (0 %)."));
    assert_null(strstr(text, "Khiếu nại, tố cáo"));
    assert_non_null(strstr(text, "Ngày 01/12/2026 (01, 100 %), tại Hội trường tỉnh"));
    assert_non_null(strstr(text, "Không ai quá nửa số phiếu tín nhiệm thấp."));
    assert_non_null(strstr(text, "38,88%")); /* the figures stay */
    phieu_free(text);
    phieu_free(t3);
    phieu_free(t2);
    phieu_free(t1);
    phieu_free(base);

    /* Reconciliation: the board counted 2 more than the sheets read; the final report is
     * refused, naming the form, both numbers and what to do. */
    phieu_buf list;
    phieu_buf_init(&list);
    d->counts[0].collected = 483;
    phieu_tally_destroy(&t);
    assert_int_equal(phieu_report_tally(d, &t, &err), 0);
    assert_int_equal(phieu_tally_blockers_list(t, d->exceptions_open, &list), 1);
    assert_non_null(strstr(list.data, "481 sheet(s) read but the board counted 483 collected"));
    assert_non_null(strstr(list.data, "find the 2 missing sheet(s) and scan them, or correct"));
    assert_non_null(strstr(list.data, d->forms[0]->title));
    phieu_buf_release(&list);
    /* A sheet invalid of no known form counts in no form: refused even when the board's
     * count matches all sheets. Named under the form, it reconciles. */
    d->counts[0].collected = 481;
    d->ballots[0].form_index = -1;
    d->ballots[0].state = PHIEU_BALLOT_INVALID;
    phieu_tally_destroy(&t);
    assert_int_equal(phieu_report_tally(d, &t, &err), 0);
    phieu_buf_init(&list);
    assert_int_equal(phieu_tally_blockers_list(t, d->exceptions_open, &list), 2);
    assert_non_null(strstr(list.data, "1 sheet(s) decided invalid as a whole name no form"));
    phieu_buf_release(&list);
    d->ballots[0].form_index = 0;
    phieu_tally_destroy(&t);
    assert_int_equal(phieu_report_tally(d, &t, &err), 0);
    assert_int_equal(phieu_tally_blockers(t, d->exceptions_open, NULL), 0);
    assert_int_equal(t->forms[0].invalid_ballots, 1);
    assert_int_equal(t->forms[0].persons[0].invalid_ballot, 1);
    d->ballots[0].state = PHIEU_BALLOT_VALID;
    phieu_tally_destroy(&t);
    assert_int_equal(phieu_report_tally(d, &t, &err), 0);
    /* The CSV says the same. */
    phieu_buf csv;
    phieu_buf_init(&csv);
    phieu_report_results_csv(d, t, &csv);
    assert_non_null(strstr(csv.data, ",low,187,38,88%") ? csv.data : strstr(csv.data, ",low,187,\"38,88%\""));
    phieu_buf_release(&csv);
    phieu_tally_destroy(&t);
    phieu_report_data_destroy(&d);
}

static int teardown_all(void **state)
{
    (void)state;
    free_fixture(&small);
    if (tmp_root[0] && !getenv("PHIEU_KEEP_TMP")) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_root);
        return system(cmd) == 0 ? 0 : -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_report_refused_while_exceptions_open),
        cmocka_unit_test(test_final_report_verifies),
        cmocka_unit_test(test_tamper_image_byte),
        cmocka_unit_test(test_tamper_decision),
        cmocka_unit_test(test_tamper_added_record),
        cmocka_unit_test(test_tamper_dropped_record),
        cmocka_unit_test(test_tamper_total),
        cmocka_unit_test(test_tamper_csv),
        cmocka_unit_test(test_first_note_kept),
        cmocka_unit_test(test_tamper_swap_images),
        cmocka_unit_test(test_tamper_signature),
        cmocka_unit_test(test_order_unrelated_to_scan),
        cmocka_unit_test(test_published_result_38_88),
        cmocka_unit_test(test_wording_errors),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
