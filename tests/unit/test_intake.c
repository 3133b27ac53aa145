/*
 * test_intake.c - the intake (intake.h) on real files, a real session and real threads:
 * the same folder imported with 1 and with 3 workers gives the same session (what is not
 * random by design: sheet and exception ids are, so rows are matched by image hash), the
 * same events in the same order; duplex pairs a back with its front; a stop stops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/intake.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/source.h"
#include "phieu/util.h"
#include "session_fixture.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\n";
}

typedef struct fixture {
    char dir[64];
    phieu_form *form;
    phieu_layout layout;
    phieu_image *blank;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    phieu_error err = {0};
    assert_int_equal(phieu_util_init(&err), 0);
    fixture_tmpdir(f->dir);
    assert_int_equal(phieu_form_parse(fixture_rating_form, sizeof fixture_rating_form - 1,
                                      "test.form", &f->form, &err),
                     0);
    assert_int_equal(phieu_layout_compute(f->form, &f->layout, &err), 0);
    phieu_render_options opt = {0, 1};
    if (phieu_render_raster(f->form, &opt, FIXTURE_DPI, &f->blank, &err) != 0)
        fail_msg("render: %s", err.message);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    phieu_image_destroy(&f->blank);
    phieu_form_destroy(&f->form);
    fixture_rmdir(f->dir);
    free(f);
    return 0;
}

static phieu_session *new_session(fixture *f, const char *name)
{
    phieu_error err = {0};
    const phieu_form *forms[1] = {f->form};
    phieu_session_params p = {0};
    p.council = "Hội đồng nhân dân xã Thử";
    p.session_name = "Kỳ họp thứ Nhất";
    p.date = "2026-11-28";
    p.place = "Hội trường";
    p.delegates = 30;
    p.two_person_rule = -1;
    p.forms = forms;
    p.n_forms = 1;
    p.actor = "tester";
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    phieu_session *s = NULL;
    if (phieu_session_create(path, &p, &s, &err) != 0)
        fail_msg("create: %s", err.message);
    return s;
}

/* Saves a ballot marked by hand `seed` (choices[r] per row, -1 blank), with noise `noise`
 * (0: none) as dir/name. */
static void save_ballot(fixture *f, const char *name, const int choices[4], unsigned seed,
                        unsigned noise)
{
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_clone(f->blank, &img, &err), 0);
    for (int r = 0; r < 4; r++)
        if (choices[r] >= 0)
            fixture_mark(img, &f->layout, r, choices[r], seed, 1.0, 20);
    if (noise)
        fixture_noise(img, noise);
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    assert_int_equal(phieu_image_save_png(img, path, &err), 0);
    phieu_image_destroy(&img);
}

/* Saves ballots marked by hand as the pages of one TIFF dir/name (8-bit, Deflate, one strip
 * a page); page `damaged` (from 1; 0: none) gets a strip that does not inflate. */
static void save_multipage(fixture *f, const char *name, const int marks[][4], int pages,
                           unsigned seed, int damaged)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    TIFF *t = TIFFOpen(path, "w");
    assert_non_null(t);
    for (int p = 0; p < pages; p++) {
        phieu_image *img = NULL;
        phieu_error err = {0};
        assert_int_equal(phieu_image_clone(f->blank, &img, &err), 0);
        for (int r = 0; r < 4; r++)
            if (marks[p][r] >= 0)
                fixture_mark(img, &f->layout, r, marks[p][r], seed + (unsigned)p, 1.0, 20);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t)img->height);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, (float)FIXTURE_DPI);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, (float)FIXTURE_DPI);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        for (int y = 0; y < img->height; y++)
            assert_int_equal(
                TIFFWriteScanline(t, img->pixels + (size_t)y * (size_t)img->stride, (uint32_t)y, 0),
                1);
        assert_int_equal(TIFFWriteDirectory(t), 1);
        phieu_image_destroy(&img);
    }
    TIFFClose(t);
    if (damaged < 1)
        return;
    t = TIFFOpen(path, "r");
    assert_non_null(t);
    assert_int_equal(TIFFSetDirectory(t, (tdir_t)(damaged - 1)), 1);
    uint64_t at = TIFFGetStrileOffset(t, 0);
    TIFFClose(t);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
    assert_int_equal(fwrite("not a zlib stream", 1, 17, fp), 17);
    fclose(fp);
}

static void copy_file(const char *from, const char *to)
{
    uint8_t *data = NULL;
    size_t len = 0;
    phieu_error err = {0};
    assert_int_equal(phieu_read_file(from, 1 << 26, &data, &len, &err), 0);
    FILE *fp = fopen(to, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
    phieu_free(data);
}

/* The events as text: one line per sheet with what a person would compare. */
typedef struct event_log {
    char text[16384];
    size_t len;
    int backs;
    int sheets[16];
    int n;
} event_log;

static void on_event(const phieu_intake_event *ev, void *user)
{
    event_log *l = user;
    const phieu_page_result *r = ev->front;
    const char *base = ev->path ? strrchr(ev->path, '/') : NULL;
    l->len += (size_t)snprintf(l->text + l->len, sizeof l->text - l->len,
                               "%d %s %.12s out=%d st=%d exc=%d form=%s unread=%d back=%d\n",
                               ev->counts->pages, base ? base + 1 : "-", r->sha256, r->outcome,
                               r->status, r->n_exceptions, ev->form_id ? ev->form_id : "-",
                               ev->unreadable, ev->back != NULL);
    l->backs += ev->back != NULL;
    if (l->n < 16)
        l->sheets[l->n++] = ev->sheet;
}

/* Whether the event line that starts with `start` holds `what`. */
static int line_has(const char *text, const char *start, const char *what)
{
    const char *line = strstr(text, start);
    if (!line)
        return 0;
    const char *end = strchr(line, '\n');
    const char *at = strstr(line, what);
    return at && (!end || at < end);
}

/* Rows of one query as text, one line per row, columns separated by '|'. */
static void query_text(phieu_session *s, const char *sql, char *out, size_t size)
{
    sqlite3 *db = NULL;
    assert_int_equal(
        sqlite3_open_v2(phieu_session_get_info(s)->path, &db, SQLITE_OPEN_READONLY, NULL),
        SQLITE_OK);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    size_t len = 0;
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW)
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *v = sqlite3_column_text(st, c);
            len += (size_t)snprintf(out + len, size - len, "%s%c", v ? (const char *)v : "NULL",
                                    c + 1 < sqlite3_column_count(st) ? '|' : '\n');
            assert_true(len < size);
        }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static phieu_session *import_with(fixture *f, const char *name, int jobs, event_log *events)
{
    phieu_session *s = new_session(f, name);
    phieu_error err = {0};
    phieu_source *src = NULL;
    char folder[128];
    snprintf(folder, sizeof folder, "%s/in", f->dir);
    const char *paths[] = {folder};
    assert_int_equal(phieu_source_open_files(paths, 1, 0, NULL, &src, &err), 0);
    phieu_intake_options o = {0};
    o.jobs = jobs;
    o.new_batch = 1;
    o.actor = "tester";
    o.on_event = on_event;
    o.user = events;
    phieu_intake *in = NULL;
    assert_int_equal(phieu_intake_create(s, &o, &in, &err), 0);
    if (phieu_intake_run(in, src, &err) != 0)
        fail_msg("run: %s", err.message);
    assert_int_equal(phieu_intake_finish(in, NULL, NULL, &err), 0);
    phieu_intake_destroy(&in);
    phieu_source_destroy(&src);
    return s;
}

/* What must be equal whatever the number of workers. Sheet and exception ids are random
 * (session.h, secrecy), so sheets are named by their image hash and listed by position. */
static const char *const same_queries[] = {
    "SELECT s.sha256, s.unreadable, s.batch, s.position, s.side, s.form_idx, s.status,"
    " s.pattern, hex(r.blob), coalesce(hex(k.blob), '') FROM sheets s LEFT JOIN readings r"
    " ON r.sheet_id = s.id LEFT JOIN strokes k ON k.sheet_id = s.id"
    " ORDER BY s.batch, s.position, s.side",
    "SELECT s.sha256, e.row, e.reason, coalesce(d.sha256, '') FROM exceptions e"
    " JOIN sheets s ON s.id = e.sheet_id LEFT JOIN sheets d ON d.id = e.duplicate_of"
    " ORDER BY s.position, e.row",
    "SELECT id, placed, closed, next_position FROM batches ORDER BY id",
    /* the log minus its times and the hashes that chain them */
    "SELECT seq, actor, action, detail FROM log ORDER BY seq",
};

static void same_session_for_any_jobs(void **state)
{
    fixture *f = *state;
    char in[128], path[256], from[256];
    snprintf(in, sizeof in, "%s/in", f->dir);
    assert_int_equal(mkdir(in, 0755), 0);
    static const int marks[6][4] = {{0, 1, 2, 0}, {1, 1, 1, 1}, {2, 0, -1, 1},
                                    {0, 0, 0, 0}, {2, 2, 1, 0}, {1, 0, 2, 2}};
    for (int i = 0; i < 6; i++) {
        char name[64];
        snprintf(name, sizeof name, "in/b%d.png", i);
        save_ballot(f, name, marks[i], 100 + (unsigned)i, 0);
    }
    /* the same file twice (skipped), the same paper rescanned (to review, and which of the
     * two is the rescan depends on the order), a file that is not an image */
    snprintf(from, sizeof from, "%s/in/b1.png", f->dir);
    snprintf(path, sizeof path, "%s/in/b1-copy.png", f->dir);
    copy_file(from, path);
    save_ballot(f, "in/b3-rescan.png", marks[3], 103, 7);
    snprintf(path, sizeof path, "%s/in/junk.png", f->dir);
    FILE *fp = fopen(path, "w");
    fputs("not a picture", fp);
    fclose(fp);
    /* A multi-page TIFF, its pages decoded on the workers: its second page does not
     * decode (the file is the unreadable page), its third is read all the same. */
    static const int pages[3][4] = {{2, 1, 0, 2}, {0, 2, 2, 1}, {1, 2, 0, 0}};
    save_multipage(f, "in/m-multi.tif", pages, 3, 200, 2);

    event_log *e1 = calloc(1, sizeof *e1);
    phieu_session *s1 = import_with(f, "one.db", 1, e1);
    /* A person would check: nine pages, the copy skipped, the rescan and the junk file to
     * review, in name order; then the TIFF's three pages, the second unreadable. */
    assert_non_null(strstr(e1->text, "9 junk.png"));
    assert_true(line_has(e1->text, "10 m-multi.tif", "unread=0"));
    assert_true(line_has(e1->text, "11 m-multi.tif", "unread=1"));
    assert_true(line_has(e1->text, "12 m-multi.tif", "unread=0"));
    assert_false(line_has(e1->text, "12 m-multi.tif", "form=-"));
    char *a = malloc(1 << 20), *b = malloc(1 << 20);
    static const int other_jobs[] = {2, 3};
    for (size_t j = 0; j < sizeof other_jobs / sizeof other_jobs[0]; j++) {
        char name[32];
        snprintf(name, sizeof name, "jobs%d.db", other_jobs[j]);
        event_log *en = calloc(1, sizeof *en);
        phieu_session *sn = import_with(f, name, other_jobs[j], en);
        assert_string_equal(e1->text, en->text);
        for (size_t q = 0; q < sizeof same_queries / sizeof same_queries[0]; q++) {
            query_text(s1, same_queries[q], a, 1 << 20);
            query_text(sn, same_queries[q], b, 1 << 20);
            assert_true(strlen(a) > 0);
            assert_string_equal(a, b);
        }
        free(en);
        phieu_session_close(&sn);
    }
    /* The rescan names the earlier sheet, by hash the same in both sessions. */
    query_text(s1, same_queries[1], a, 1 << 20);
    assert_non_null(strstr(a, "possible-duplicate"));
    assert_non_null(strstr(a, "unreadable-file"));
    free(a);
    free(b);
    free(e1);
    phieu_session_close(&s1);
}

static void duplex_pairs_backs_with_fronts(void **state)
{
    fixture *f = *state;
    static const int marks[2][4] = {{0, 1, 2, 0}, {1, 0, 2, 2}};
    save_ballot(f, "f1.png", marks[0], 1, 0);
    save_ballot(f, "f2.png", marks[1], 2, 0);
    /* a blank back is just white paper: the back side of the fixture's page */
    phieu_image *white = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_create(f->blank->width, f->blank->height, &white, &err), 0);
    char p[4][256];
    const char *names[4] = {"f1.png", "k1.png", "f2.png", "k2.png"};
    for (int i = 0; i < 4; i++)
        snprintf(p[i], sizeof p[i], "%s/%s", f->dir, names[i]);
    fixture_noise(white, 5);
    assert_int_equal(phieu_image_save_png(white, p[1], &err), 0);
    fixture_noise(white, 6);
    assert_int_equal(phieu_image_save_png(white, p[3], &err), 0);
    phieu_image_destroy(&white);

    phieu_session *s = new_session(f, "duplex.db");
    const char *paths[] = {p[0], p[1], p[2], p[3]};
    phieu_source *src = NULL;
    assert_int_equal(phieu_source_open_files(paths, 4, 1, NULL, &src, &err), 0);
    event_log *ev = calloc(1, sizeof *ev);
    phieu_intake_options o = {0};
    o.jobs = 2;
    o.duplex = 1;
    o.placed = 3;
    o.on_event = on_event;
    o.user = ev;
    phieu_intake *in = NULL;
    assert_int_equal(phieu_intake_create(s, &o, &in, &err), 0);
    assert_int_equal(phieu_intake_run(in, src, &err), 0);
    const phieu_intake_state *st = phieu_intake_get_state(in);
    assert_int_equal(ev->n, 2); /* one event per sheet */
    assert_int_equal(ev->sheets[0], 1);
    assert_int_equal(ev->sheets[1], 2);
    assert_int_equal(ev->backs, 2);
    assert_int_equal(st->counts.sheets, 2);
    assert_int_equal(st->counts.backs, 2);
    assert_int_equal(st->counts.pages, 4);
    phieu_batch batch;
    int differs = 0;
    assert_int_equal(phieu_intake_finish(in, &batch, &differs, &err), 0);
    assert_int_equal(batch.sheets, 2);
    assert_int_equal(batch.pages, 4);
    assert_int_equal(differs, 1); /* 3 placed, 2 scanned */
    char text[4096];
    query_text(s,
               "SELECT b.position, f.position, b.status FROM sheets b JOIN sheets f"
               " ON f.id = b.back_of WHERE b.side = 1 ORDER BY b.position",
               text, sizeof text);
    char want[64];
    snprintf(want, sizeof want, "1|1|%d\n2|2|%d\n", PHIEU_PAGE_BLANK, PHIEU_PAGE_BLANK);
    assert_string_equal(text, want);
    phieu_intake_destroy(&in);
    phieu_source_destroy(&src);
    phieu_session_close(&s);
    free(ev);
}

static void a_stop_stops_before_the_next_page(void **state)
{
    fixture *f = *state;
    static const int marks[4] = {0, 1, 2, 0};
    save_ballot(f, "s.png", marks, 9, 0);
    phieu_session *s = new_session(f, "stop.db");
    char path[256];
    snprintf(path, sizeof path, "%s/s.png", f->dir);
    const char *paths[] = {path};
    phieu_source *src = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_source_open_files(paths, 1, 0, NULL, &src, &err), 0);
    static volatile sig_atomic_t stop = 1;
    phieu_intake_options o = {0};
    o.stop = &stop;
    phieu_intake *in = NULL;
    assert_int_equal(phieu_intake_create(s, &o, &in, &err), 0);
    assert_int_equal(phieu_intake_run(in, src, &err), PHIEU_ECANCELLED);
    assert_int_equal(phieu_intake_get_state(in)->counts.pages, 0);
    /* The batch stays open: the next run continues it. */
    phieu_intake_destroy(&in);
    stop = 0;
    assert_int_equal(phieu_intake_create(s, &o, &in, &err), 0);
    assert_int_equal(phieu_intake_get_state(in)->continued, 1);
    assert_int_equal(phieu_intake_run(in, src, &err), 0);
    assert_int_equal(phieu_intake_get_state(in)->counts.sheets, 1);
    phieu_intake_destroy(&in);
    phieu_source_destroy(&src);
    phieu_session_close(&s);
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static int contains(const uint8_t *p, size_t n, const char *what)
{
    size_t k = strlen(what);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(p + i, what, k) == 0)
            return 1;
    return 0;
}

/* Writes `png` with one more chunk after its IHDR: `chunk` is its type and data. */
static void write_with_chunk(const uint8_t *png, size_t len, const char *chunk, size_t n,
                             const char *path)
{
    uint8_t c[128];
    assert_true(n + 8 <= sizeof c);
    size_t body = n - 4;
    c[0] = 0, c[1] = 0, c[2] = 0, c[3] = (uint8_t)body;
    memcpy(c + 4, chunk, n);
    uint32_t crc = crc32_of(c + 4, n);
    c[4 + n] = (uint8_t)(crc >> 24), c[5 + n] = (uint8_t)(crc >> 16);
    c[6 + n] = (uint8_t)(crc >> 8), c[7 + n] = (uint8_t)crc;
    size_t ihdr_end = 8 + 12 + 13;
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(png, 1, ihdr_end, fp), ihdr_end);
    assert_int_equal(fwrite(c, 1, n + 8, fp), n + 8);
    assert_int_equal(fwrite(png + ihdr_end, 1, len - ihdr_end, fp), len - ihdr_end);
    fclose(fp);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    uint8_t *bytes = NULL;
    phieu_error err = {0};
    if (phieu_read_file(path, 1 << 26, &bytes, len, &err) != 0)
        fail_msg("%s", err.message);
    return bytes;
}

/* A PNG with only image chunks is archived byte for byte; one that carries a scan time
 * (a tEXt chunk) is re-encoded without it. phieu's own encoding of the pixels drops any
 * extra chunk, so a gAMA chunk (allowed) tells the two paths apart. */
static void archive_keeps_a_plain_png_as_received(void **state)
{
    fixture *f = *state;
    static const int marks[2][4] = {{2, 1, 0, 1}, {0, 2, 2, 1}};
    char in[128], tmp[256], plain[256], texted[256];
    snprintf(in, sizeof in, "%s/in", f->dir);
    assert_int_equal(mkdir(in, 0755), 0);
    snprintf(plain, sizeof plain, "%s/in/a-plain.png", f->dir);
    snprintf(texted, sizeof texted, "%s/in/b-texted.png", f->dir);
    static const char gama[] = "gAMA\x00\x00\xb1\x8f";
    static const char text[] = "tEXtCreation Time\0002026-11-28 09:14:03";
    for (int i = 0; i < 2; i++) {
        save_ballot(f, "t.png", marks[i], 11 + (unsigned)i, 3);
        snprintf(tmp, sizeof tmp, "%s/t.png", f->dir);
        size_t len = 0;
        uint8_t *png = read_all(tmp, &len);
        if (i == 0)
            write_with_chunk(png, len, gama, sizeof gama - 1, plain);
        else
            write_with_chunk(png, len, text, sizeof text - 1, texted);
        phieu_free(png);
    }
    event_log *ev = calloc(1, sizeof *ev);
    phieu_session *s = import_with(f, "kept.db", 2, ev);
    char rows[4096];
    query_text(s, "SELECT sha256 FROM sheets ORDER BY position", rows, sizeof rows);
    char sha[2][PHIEU_SHA256_HEX];
    if (sscanf(rows, "%64s\n%64s", sha[0], sha[1]) != 2)
        fail_msg("sheets: %s; events: %s", rows, ev->text);
    const char *db = phieu_session_get_info(s)->path;
    char archived[512];
    size_t len = 0, kept_len = 0;
    /* The plain file: the archive holds its very bytes, named by their hash. */
    uint8_t *bytes = read_all(plain, &len);
    char want[PHIEU_SHA256_HEX];
    phieu_sha256_hex(bytes, len, want);
    assert_string_equal(sha[0], want);
    snprintf(archived, sizeof archived, "%s.images/%s.png", db, sha[0]);
    uint8_t *kept = read_all(archived, &kept_len);
    assert_int_equal(kept_len, len);
    assert_memory_equal(kept, bytes, len);
    phieu_free(kept);
    phieu_free(bytes);
    /* The file with a scan time: re-encoded, the time is not in the archive. */
    bytes = read_all(texted, &len);
    assert_true(contains(bytes, len, "2026-11-28"));
    phieu_sha256_hex(bytes, len, want);
    assert_string_not_equal(sha[1], want);
    snprintf(archived, sizeof archived, "%s.images/%s.png", db, sha[1]);
    kept = read_all(archived, &kept_len);
    assert_false(contains(kept, kept_len, "2026-11-28"));
    assert_false(contains(kept, kept_len, "tEXt"));
    phieu_free(kept);
    phieu_free(bytes);
    /* Both were read as ballots of the form. */
    assert_non_null(strstr(ev->text, "a-plain.png"));
    assert_int_equal(ev->n, 2);
    assert_null(strstr(ev->text, "form=-"));
    free(ev);
    phieu_session_close(&s);
}

/* A page much longer than the ballot goes to review as a double feed; the pages after it,
 * which reuse its slot, do not. */
static void only_the_long_page_is_a_double_feed(void **state)
{
    fixture *f = *state;
    static const int marks[4] = {0, 1, 2, 0};
    phieu_error err = {0};
    phieu_image *longer = NULL;
    int h = f->blank->height * 3 / 2;
    assert_int_equal(phieu_image_create(f->blank->width, h, &longer, &err), 0);
    for (int y = 0; y < f->blank->height; y++)
        memcpy(longer->pixels + (size_t)y * longer->stride,
               f->blank->pixels + (size_t)y * f->blank->stride, (size_t)f->blank->width);
    longer->dpi_x = longer->dpi_y = FIXTURE_DPI;
    char in[128], path[256];
    snprintf(in, sizeof in, "%s/in", f->dir);
    assert_int_equal(mkdir(in, 0755), 0);
    snprintf(path, sizeof path, "%s/in/a-long.png", f->dir);
    assert_int_equal(phieu_image_save_png(longer, path, &err), 0);
    phieu_image_destroy(&longer);
    for (int i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof name, "in/b%d.png", i);
        save_ballot(f, name, marks, 40 + (unsigned)i, 1 + (unsigned)i);
    }
    phieu_session *s = new_session(f, "feed.db");
    const char *paths[] = {in};
    phieu_source *src = NULL;
    assert_int_equal(phieu_source_open_files(paths, 1, 0, NULL, &src, &err), 0);
    event_log *ev = calloc(1, sizeof *ev);
    phieu_intake_options o = {0};
    o.jobs = 1; /* three slots: the long page's slot is used again by the fourth page */
    o.double_feed_rule = 1;
    o.on_event = on_event;
    o.user = ev;
    phieu_intake *intake = NULL;
    assert_int_equal(phieu_intake_create(s, &o, &intake, &err), 0);
    assert_int_equal(phieu_intake_run(intake, src, &err), 0);
    assert_int_equal(phieu_intake_get_state(intake)->counts.double_feeds, 1);
    assert_int_equal(phieu_intake_get_state(intake)->counts.pages, 6);
    char rows[4096];
    query_text(s,
               "SELECT s.position FROM exceptions e JOIN sheets s ON s.id = e.sheet_id"
               " WHERE e.reason = 'double-feed' OR e.text LIKE '%double feed%'",
               rows, sizeof rows);
    assert_string_equal(rows, "1\n");
    phieu_intake_destroy(&intake);
    phieu_source_destroy(&src);
    phieu_session_close(&s);
    free(ev);
}

/* The archive's names are SHA-256 whichever library computes it (util.c): the standard's
 * test vector, and a page-sized buffer against libsodium's own. */
static void page_hashes_are_sha256(void **state)
{
    (void)state;
    char hex[PHIEU_SHA256_HEX];
    phieu_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    size_t n = 3u << 20;
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 2654435761u >> 13);
    uint8_t ours[PHIEU_SHA256_BYTES], sodium[crypto_hash_sha256_BYTES];
    phieu_sha256(b, n, ours);
    crypto_hash_sha256(sodium, b, n);
    assert_memory_equal(ours, sodium, sizeof ours);
    free(b);
}

/* A file copied into the archive is hashed on the way (one pass): the digest is the
 * whole file's, the copy is byte for byte the file, and a file over the limit leaves no
 * copy behind. */
static void a_copy_is_hashed_as_it_is_written(void **state)
{
    fixture *f = *state;
    size_t n = (5u << 20) + 12345; /* several chunks and a part of one */
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 2654435761u >> 11);
    char from[256], to[256], want[PHIEU_SHA256_HEX], got[PHIEU_SHA256_HEX];
    snprintf(from, sizeof from, "%s/big.bin", f->dir);
    snprintf(to, sizeof to, "%s/copy.bin", f->dir);
    FILE *fp = fopen(from, "wb");
    assert_int_equal(fwrite(b, 1, n, fp), n);
    fclose(fp);
    phieu_sha256_hex(b, n, want);
    phieu_error err = {0};
    uint64_t len = 0;
    assert_int_equal(phieu_copy_file_hashed(from, to, n, got, &len, &err), 0);
    assert_string_equal(got, want);
    assert_int_equal(len, n);
    assert_int_equal(phieu_sha256_file(to, got, &err), 0);
    assert_string_equal(got, want);
    assert_int_equal(unlink(to), 0);
    assert_int_equal(phieu_copy_file_hashed(from, to, n - 1, got, NULL, &err), PHIEU_ELIMIT);
    struct stat st;
    assert_int_not_equal(stat(to, &st), 0);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(same_session_for_any_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(duplex_pairs_backs_with_fronts, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_stops_before_the_next_page, setup, teardown),
        cmocka_unit_test_setup_teardown(archive_keeps_a_plain_png_as_received, setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_long_page_is_a_double_feed, setup, teardown),
        cmocka_unit_test(page_hashes_are_sha256),
        cmocka_unit_test_setup_teardown(a_copy_is_hashed_as_it_is_written, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
