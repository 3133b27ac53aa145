/*
 * test_form.c - the form module: parsing the shipped forms, every parse error with its
 * file:line:column, the layout (inside the page, nothing overlapping, boxes big enough,
 * deterministic), the fingerprint (stable under comments and spacing, changed by any
 * edit) and the form code (round trip, every single-bit error detected).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ft2build.h>
#include <jansson.h>
#include FT_FREETYPE_H

#include "form/form_internal.h"

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/util.h"

#include "test_support.h"

static const char *const shipped[] = {"district-rating", "province-rating", "confidence-vote"};

/* A small valid form; tests edit its text to make each error. */
static const char *const base_text = "# a comment\n"
                                     "id: test-form\n"
                                     "kind: rating\n"
                                     "council: HỘI ĐỒNG NHÂN DÂN XÃ THỬ\n"
                                     "session: Kỳ họp thứ Nhất\n"
                                     "title: PHIẾU LẤY PHIẾU TÍN NHIỆM\n"
                                     "instruction: Đánh dấu X vào một ô\n"
                                     "row:\n"
                                     "  name: Nguyễn Văn An\n"
                                     "  post: Chủ tịch HĐND xã\n"
                                     "row:\n"
                                     "  name: Trần Thị Bình\n"
                                     "  post: Phó Chủ tịch HĐND xã\n"
                                     "  post: Trưởng Ban Pháp chế\n";

static phieu_form *parse_ok(const char *text)
{
    phieu_error err = {0};
    phieu_form *f = NULL;
    int rc = phieu_form_parse(text, strlen(text), "t.form", &f, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s\n--- text:\n%s", err.message, text);
    return f;
}

/* Parses text that must fail; checks the message starts with `where` and holds each of
 * the words given (NULL-terminated). */
static void parse_fails(const char *text, size_t len, const char *where, ...)
{
    phieu_error err = {0};
    phieu_form *f = NULL;
    int rc = phieu_form_parse(text, len, "t.form", &f, &err);
    if (rc == 0)
        fail_msg("parsed but should fail at %s\n--- text:\n%s", where, text);
    assert_int_equal(rc, PHIEU_EFORMAT);
    assert_null(f);
    if (strncmp(err.message, where, strlen(where)) != 0)
        fail_msg("message '%s' does not start with '%s'", err.message, where);
    va_list ap;
    va_start(ap, where);
    const char *word;
    while ((word = va_arg(ap, const char *)) != NULL)
        if (!strstr(err.message, word))
            fail_msg("message '%s' lacks '%s'", err.message, word);
    va_end(ap);
}

/* base_text with the first occurrence of `from` replaced by `to`. */
static char *edit(const char *from, const char *to)
{
    const char *at = strstr(base_text, from);
    assert_non_null(at);
    size_t n = strlen(base_text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    size_t pre = (size_t)(at - base_text);
    memcpy(out, base_text, pre);
    strcpy(out + pre, to);
    strcat(out, at + strlen(from));
    return out;
}

static void edit_fails(const char *from, const char *to, const char *where, const char *w1,
                       const char *w2)
{
    char *t = edit(from, to);
    parse_fails(t, strlen(t), where, w1, w2, NULL);
    free(t);
}

/* ---- parsing ------------------------------------------------------------------------ */

static void test_shipped_forms_parse(void **state)
{
    (void)state;
    phieu_form *d = load_shipped_form("district-rating");
    assert_string_equal(d->id, "district-rating");
    assert_string_equal(d->name, "Phiếu tín nhiệm HĐND huyện"); /* before the rows */
    assert_string_equal(d->rows[0].name, "Trần Văn Khải");
    assert_int_equal(d->kind, PHIEU_FORM_RATING);
    assert_int_equal(d->n_choices, 3);
    assert_string_equal(d->choices[0].key, "high");
    assert_string_equal(d->choices[0].label, "Tín nhiệm cao");
    assert_string_equal(d->choices[1].key, "trust");
    assert_string_equal(d->choices[1].label, "Tín nhiệm");
    assert_string_equal(d->choices[2].key, "low");
    assert_string_equal(d->choices[2].label, "Tín nhiệm thấp");
    assert_int_equal(d->n_rows, 16);
    assert_string_equal(d->rows[0].name, "Trần Văn Khải");
    assert_int_equal(d->rows[1].number, 2);
    assert_string_equal(d->rows[1].post,
                        "Phó Chủ tịch HĐND huyện; Trưởng Ban Kinh tế - Xã hội");
    assert_int_equal(strlen(d->fingerprint_hex), 64);
    phieu_form_destroy(&d);
    assert_null(d);

    phieu_form *p = load_shipped_form("province-rating");
    assert_int_equal(p->n_rows, 30);
    assert_int_equal(p->rows[29].number, 30);
    phieu_form_destroy(&p);

    phieu_form *c = load_shipped_form("confidence-vote");
    assert_int_equal(c->kind, PHIEU_FORM_CONFIDENCE);
    assert_int_equal(c->n_choices, 2);
    assert_string_equal(c->choices[0].key, "trust");
    assert_string_equal(c->choices[1].key, "distrust");
    assert_string_equal(c->choices[1].label, "Không tín nhiệm");
    assert_int_equal(phieu_form_choice_index(c, "distrust"), 1);
    assert_int_equal(phieu_form_choice_index(c, "high"), -1);
    assert_int_equal(c->n_rows, 2);
    phieu_form_destroy(&c);
}

static void test_base_parses_with_source(void **state)
{
    (void)state;
    phieu_form *f = parse_ok(base_text);
    assert_int_equal(f->n_rows, 2);
    assert_string_equal(f->rows[1].post, "Phó Chủ tịch HĐND xã; Trưởng Ban Pháp chế");
    assert_string_equal(f->source, base_text);
    assert_string_equal(f->instruction, "Đánh dấu X vào một ô");
    phieu_form_destroy(&f);
}

static void test_choice_override(void **state)
{
    (void)state;
    char *t = edit("row:\n  name: Nguyễn", "choice low: Thấp\nrow:\n  name: Nguyễn");
    phieu_form *f = parse_ok(t);
    assert_string_equal(f->choices[2].label, "Thấp");
    assert_string_equal(f->choices[0].label, "Tín nhiệm cao");
    phieu_form_destroy(&f);
    free(t);
}


/* ---- every parse error: where and what ------------------------------------------------ */

static void test_error_unknown_key(void **state)
{
    (void)state;
    edit_fails("title:", "titel:", "t.form:6:1: ", "unknown key 'titel'", "instruction");
    edit_fails("title:", "Title:", "t.form:6:1: ", "unknown key 'Title'", "write 'title:'");
    edit_fails("  post: Chủ tịch", "  pots: Chủ tịch", "t.form:10:3: ", "unknown key 'pots'",
               "post");
    edit_fails("row:\n  name: Trần", "row:\nchoice: x\n  name: Trần", "t.form:12:1: ",
               "'choice' needs a key", "high");
    edit_fails("row:\n  name: Trần", "row:\nthis line has no colon\n  name: Trần",
               "t.form:12:1: ", "no ':'", "comment");
}

static void test_error_missing_required(void **state)
{
    (void)state;
    edit_fails("session: Kỳ họp thứ Nhất\n", "", "t.form:1:1: ", "missing required key 'session'",
               "add a line");
    edit_fails("id: test-form\n", "", "t.form:1:1: ", "missing required key 'id'", "id:");
    edit_fails("instruction: Đánh dấu X vào một ô\n", "", "t.form:1:1: ",
               "missing required key 'instruction'", "add");
    edit_fails("council: HỘI", "council:   \ncouncil2: HỘI", "t.form:4:12: ",
               "missing value after 'council:'", "same line");
}

static void test_error_empty(void **state)
{
    (void)state;
    parse_fails("", 0, "t.form:1:1: ", "empty", "row:", NULL);
    parse_fails("# only a comment\n\n   \n", 21, "t.form:1:1: ", "empty", NULL);
    const char *no_rows = "id: x\nkind: rating\ncouncil: C\nsession: S\ntitle: T\ninstruction: I\n";
    parse_fails(no_rows, strlen(no_rows), "t.form:1:1: ", "no rows", "row:", NULL);
}

static void test_error_missing_name_and_post(void **state)
{
    (void)state;
    edit_fails("  name: Nguyễn Văn An\n", "", "t.form:8:1: ", "row 1 has no name", "name:");
    edit_fails("name: Nguyễn Văn An", "name:   ", "t.form:9:11: ", "missing name", "full name");
    edit_fails("  post: Chủ tịch HĐND xã\n", "", "t.form:8:1: ", "row 1 ('Nguyễn Văn An') has no post",
               "post:");
    edit_fails("  post: Trưởng Ban Pháp chế\n", "  post:\n", "t.form:14:8: ", "missing post",
               "post:");
    edit_fails("  name: Trần Thị Bình\n", "  name: Trần Thị Bình\n  name: Lê Văn Cường\n",
               "t.form:13:3: ", "row 2 already has a name (line 12)", "row:");
    /* Before the first row, 'name:' is the form's own short name: once. */
    edit_fails("row:\n  name: Nguyễn", "name: Phiếu xã\nname: Phiếu khác\nrow:\n  name: Nguyễn",
               "t.form:9:1: ", "duplicate form name", "before its rows");
    edit_fails("row:\n  name: Nguyễn", "post: Gì Đó\nrow:\n  name: Nguyễn", "t.form:8:1: ",
               "'post:' outside a row", "row:");
}

static void test_error_duplicate_row(void **state)
{
    (void)state;
    edit_fails("Trần Thị Bình", "Nguyễn Văn An", "t.form:12:9: ",
               "duplicate row: 'Nguyễn Văn An' is already row 1 (line 8)", "one row");
    edit_fails("row:\n  name: Trần", "row: 1\n  name: Trần", "t.form:11:6: ",
               "duplicate row number 1 (already used at line 8)", "in order");
    edit_fails("row:\n  name: Nguyễn", "row: 2\n  name: Nguyễn", "t.form:8:6: ",
               "row number 2 is out of order", "row 1");
    edit_fails("row:\n  name: Nguyễn", "row: một\n  name: Nguyễn", "t.form:8:6: ",
               "is not a number", "row: 1");
}

static void test_error_header_values(void **state)
{
    (void)state;
    edit_fails("kind: rating", "kind: vote", "t.form:3:7: ", "unknown kind 'vote'", "confidence");
    edit_fails("id: test-form", "id: Test_Form", "t.form:2:5: ", "id 'Test_Form'", "a-z");
    edit_fails("id: test-form", "id: a-very-long-form-identifier-name", "t.form:2:5: ",
               "more than 24", "shorten");
    edit_fails("title: PHIẾU", "title: A\ntitle: PHIẾU", "t.form:7:1: ",
               "duplicate key 'title' (first at line 6)", "keep one");
}

static void test_error_choices(void **state)
{
    (void)state;
    edit_fails("row:\n  name: Nguyễn", "choice medium: Trung bình\nrow:\n  name: Nguyễn",
               "t.form:8:1: ", "unknown choice 'medium'", "high, trust, low");
    edit_fails("row:\n  name: Nguyễn", "choice distrust: Không\nrow:\n  name: Nguyễn",
               "t.form:8:18: ", "choice 'distrust' is not one of a rating form's choices",
               "kind:");
    edit_fails("row:\n  name: Nguyễn", "choice high: A\nchoice high: B\nrow:\n  name: Nguyễn",
               "t.form:9:1: ", "duplicate label for choice 'high' (first at line 8)", "keep one");
    edit_fails("row:\n  name: Nguyễn", "choice low:\nrow:\n  name: Nguyễn", "t.form:8:12: ",
               "missing label", "choice low");
    edit_fails("row:\n  name: Nguyễn",
               "choice low: Tín nhiệm thấp tín nhiệm thấp tín nhiệm thấp tín nhiệm\n"
               "row:\n  name: Nguyễn",
               "t.form:8:13: ", "more than 63", "shorten");
    edit_fails("row:\n  name: Nguyễn", "choice low: ABCDEFGHIJKLMNOPQRSTUVWXYZ ABCDEFGHIJKL\n"
               "row:\n  name: Nguyễn",
               "t.form:8:13: ", "choice label", "too long to fit");
}

static void test_error_bytes(void **state)
{
    (void)state;
    /* "  name: Tr" is 10 bytes: the bad byte is at byte column 11. */
    edit_fails("Trần", "Tr\xC3(n", "t.form:12:11: ", "invalid UTF-8", "0xC3");
    edit_fails("Trần", "Tr\xC0\x80n", "t.form:12:11: ", "invalid UTF-8 (byte 0xC0", "UTF-8");
    edit_fails("Trần", "Tr\xED\xA0\x80n", "t.form:12:11: ", "invalid UTF-8", "0xED");
    edit_fails("Trần", "Tr\xF5\x80\x80\x80n", "t.form:12:11: ", "invalid UTF-8", "0xF5");
    /* Byte column counts bytes even after multi-byte letters: "  name: Trầ" is 13 bytes. */
    edit_fails("Trần", "Trầ\xFFn", "t.form:12:14: ", "byte column 14", "UTF-8");
    /* A truncated sequence at the very end of the file. */
    char *t = edit("Trưởng Ban Pháp chế\n", "Trưởng Ban Pháp ch\xE1\xBB");
    parse_fails(t, strlen(t), "t.form:14:31: ", "byte column 31", NULL);
    free(t);
    /* Control characters are reported at their character column. */
    edit_fails("title: PHIẾU", "title: PH\x01IẾU", "t.form:6:10: ", "control character U+0001",
               "delete");
    /* A decomposed letter: "a" + U+0300 (combining grave) after "  name: Tr" (char 11). */
    edit_fails("Trần", "Tra\xCC\x80n", "t.form:12:12: ", "combining mark U+0300", "NFC");
    /* A NUL byte inside the text. */
    t = edit("title: PHIẾU", "title: PH@IẾU");
    *strchr(t, '@') = '\0';
    parse_fails(t, strlen(base_text), "t.form:6:10: ", "control character U+0000", NULL);
    free(t);
}

static void test_error_too_long(void **state)
{
    (void)state;
    edit_fails("Trần Thị Bình",
               "Trần Thị Bình Trần Thị Bình Trần Thị Bình Trần Thị Bình Trần Thị Bình",
               "t.form:12:9: ", "name 'Trần Thị Bình", "too long to fit");
    edit_fails("Trưởng Ban Pháp chế",
               "Trưởng Ban Pháp chế, Trưởng Ban Kinh tế - Xã hội, Trưởng Ban Văn hóa - Xã hội "
               "của Hội đồng nhân dân xã",
               "t.form:13:9: ", "post 'Phó Chủ tịch HĐND xã; Trưởng", "mm");
    edit_fails("title: PHIẾU LẤY PHIẾU TÍN NHIỆM",
               "title: PHIẾU LẤY PHIẾU TÍN NHIỆM CÁC CHỨC DANH DO HỘI ĐỒNG BẦU",
               "t.form:6:8: ", "title", "1 line of 94 mm");
    edit_fails("council: HỘI ĐỒNG NHÂN DÂN XÃ THỬ",
               "council: HỘI ĐỒNG NHÂN DÂN XÃ THỬ HỘI ĐỒNG NHÂN DÂN XÃ THỬ HỘI ĐỒNG NHÂN DÂN",
               "t.form:4:10: ", "council", "2 lines");
}

static void test_error_too_many_rows(void **state)
{
    (void)state;
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_puts(&b, "id: x\nkind: rating\ncouncil: C\nsession: S\ntitle: T\ninstruction: I\n");
    for (int i = 1; i <= 31; i++)
        phieu_buf_printf(&b, "row:\nname: Người %d\npost: Ủy viên\n", i);
    /* Row 31 starts on line 6 + 30 * 3 + 1 = 97. */
    parse_fails(b.data, b.len, "t.form:97:1: ", "too many rows", "at most 30",
                "split the list into several forms", NULL);
    /* Exactly 30 rows is fine. */
    char *cut = strstr(b.data, "row:\nname: Người 31");
    assert_non_null(cut);
    *cut = '\0';
    phieu_form *f = parse_ok(b.data);
    assert_int_equal(f->n_rows, 30);
    phieu_form_destroy(&f);
    phieu_buf_release(&b);
}

static void test_tolerated_spacing(void **state)
{
    (void)state;
    /* CRLF line ends, a byte-order mark, tabs, blank lines and spaces around ':'. */
    const char *t = "\xEF\xBB\xBF" "id :  x\r\n\tkind:rating\r\n\r\ncouncil: C\nsession: S\n"
                    "title: T\ninstruction:  Đánh   dấu\t X\nrow:\n\tname:  An  Bình \npost: P";
    phieu_form *f = parse_ok(t);
    assert_string_equal(f->id, "x");
    assert_string_equal(f->instruction, "Đánh dấu X");
    assert_string_equal(f->rows[0].name, "An Bình");
    assert_string_equal(f->rows[0].post, "P");
    phieu_form_destroy(&f);
}

static void test_out_of_memory_paths(void **state)
{
    (void)state;
    /* Fail the 1st, 2nd, ... allocation until parsing succeeds: every failure must be a
     * clean PHIEU_ENOMEM with nothing leaked (AddressSanitizer checks the leaks). */
    int succeeded = 0;
    for (long n = 0; n < 1000 && !succeeded; n++) {
        phieu_error err = {0};
        phieu_form *f = NULL;
        phieu_alloc_fail_after(n);
        int rc = phieu_form_parse(base_text, strlen(base_text), "t.form", &f, &err);
        phieu_alloc_fail_after(-1);
        if (rc == 0) {
            succeeded = 1;
            phieu_form_destroy(&f);
        } else {
            assert_int_equal(rc, PHIEU_ENOMEM);
            assert_null(f);
            assert_non_null(strstr(err.message, "out of memory"));
        }
    }
    assert_true(succeeded);
}

/* ---- fingerprint -------------------------------------------------------------------- */

static void fingerprint_of(const char *text, char hex[65])
{
    phieu_form *f = parse_ok(text);
    memcpy(hex, f->fingerprint_hex, 65);
    uint8_t again[32];
    char *canon = NULL;
    assert_int_equal(phieu_form_canonical(f, &canon, NULL), 0);
    phieu_sha256(canon, strlen(canon), again);
    assert_memory_equal(again, f->fingerprint, 32);
    phieu_free(canon);
    phieu_form_destroy(&f);
}

static void test_fingerprint_ignores_comments_and_spacing(void **state)
{
    (void)state;
    char a[65], b[65];
    fingerprint_of(base_text, a);
    const char *pairs[][2] = {
        {"# a comment\n", ""},
        {"# a comment\n", "# another comment\n\n\n"},
        {"kind: rating", "kind:   rating   "},
        {"  name: Nguyễn Văn An", "name:Nguyễn   Văn An"},
        {"row:\n  name: Trần", "row: 2\n  name: Trần"},
        {"  post: Trưởng", "\t\tpost:   Trưởng"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *t = edit(pairs[i][0], pairs[i][1]);
        fingerprint_of(t, b);
        if (strcmp(a, b) != 0)
            fail_msg("fingerprint changed by '%s' -> '%s'", pairs[i][0], pairs[i][1]);
        free(t);
    }
    /* Header keys in another order describe the same form. */
    char *t = edit("id: test-form\nkind: rating\n", "kind: rating\nid: test-form\n");
    fingerprint_of(t, b);
    assert_string_equal(a, b);
    free(t);
}

static void test_fingerprint_changes_with_any_edit(void **state)
{
    (void)state;
    char a[65], b[65];
    fingerprint_of(base_text, a);
    const char *pairs[][2] = {
        {"id: test-form", "id: test-form2"},
        {"council: HỘI ĐỒNG NHÂN DÂN XÃ THỬ", "council: HỘI ĐỒNG NHÂN DÂN XÃ THỦ"},
        {"session: Kỳ họp thứ Nhất", "session: Kỳ họp thứ Hai"},
        {"title: PHIẾU LẤY", "title: PHIẾU  BỎ"},
        {"instruction: Đánh dấu X vào một ô", "instruction: Đánh dấu X vào một ô."},
        {"Nguyễn Văn An", "Nguyễn Văn Án"},
        {"post: Chủ tịch HĐND xã", "post: Chủ tịch HĐND phường"},
        {"  post: Trưởng Ban Pháp chế\n", ""},
        {"row:\n  name: Nguyễn", "choice high: Rất cao\nrow:\n  name: Nguyễn"},
        /* Row order: swap the two people. */
        {"  name: Nguyễn Văn An\n  post: Chủ tịch HĐND xã\nrow:\n  name: Trần Thị Bình\n"
         "  post: Phó Chủ tịch HĐND xã\n  post: Trưởng Ban Pháp chế\n",
         "  name: Trần Thị Bình\n  post: Phó Chủ tịch HĐND xã\n  post: Trưởng Ban Pháp chế\n"
         "row:\n  name: Nguyễn Văn An\n  post: Chủ tịch HĐND xã\n"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        char *t = edit(pairs[i][0], pairs[i][1]);
        fingerprint_of(t, b);
        if (strcmp(a, b) == 0)
            fail_msg("fingerprint unchanged by '%s' -> '%s'", pairs[i][0], pairs[i][1]);
        free(t);
    }
    /* Kind: the same rows as a confidence vote. */
    char *t = edit("kind: rating", "kind: confidence");
    fingerprint_of(t, b);
    assert_string_not_equal(a, b);
    free(t);
}

/* ---- the text width estimate --------------------------------------------------------- */

/* The printed width of text in DejaVu Sans at pt points, in mm: the sum of the glyph
 * advances from the font file itself (kerning only makes printed text narrower). */
#define DEJAVU_DIR "/usr/share/fonts/truetype/dejavu/"

static double measured_mm(FT_Face face, const char *text, double pt)
{
    const unsigned char *p = (const unsigned char *)text;
    double units = 0;
    while (*p) {
        unsigned cp = *p;
        int n = cp >= 0xF0 ? 4 : cp >= 0xE0 ? 3 : cp >= 0xC0 ? 2 : 1;
        cp = n == 1 ? cp : cp & (0x3Fu >> (n - 1));
        for (int i = 1; i < n; i++)
            cp = (cp << 6) | (p[i] & 0x3Fu);
        p += n;
        FT_UInt glyph = FT_Get_Char_Index(face, cp);
        assert_int_not_equal(glyph, 0); /* DejaVu covers Vietnamese */
        assert_int_equal(FT_Load_Glyph(face, glyph, FT_LOAD_NO_SCALE), 0);
        units += face->glyph->advance.x;
    }
    return units / face->units_per_EM * pt * 25.4 / 72.0;
}

static void test_width_estimate_is_conservative(void **state)
{
    (void)state;
    /* The fit check must never pass text that the printed font makes wider than its
     * estimate: compare with the font's own advances on every text of the shipped forms and on capitals. */
    FT_Library ft;
    FT_Face faces[2];
    assert_int_equal(FT_Init_FreeType(&ft), 0);
    assert_int_equal(FT_New_Face(ft, DEJAVU_DIR "DejaVuSans.ttf", 0, &faces[0]), 0);
    assert_int_equal(FT_New_Face(ft, DEJAVU_DIR "DejaVuSans-Bold.ttf", 0, &faces[1]), 0);
    const char *extra[] = {"HỘI ĐỒNG NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH", "CỘNG HÒA XÃ HỘI",
                           "Nguyễn Thị Thanh Hương", "Tín nhiệm thấp", "Không tín nhiệm",
                           "ĐỖ MẠNH HÙNG", "Ủy viên UBND tỉnh, Giám đốc Sở Tài nguyên và Môi trường"};
    int checked = 0;
    for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; k++) {
        phieu_form *f = load_shipped_form(shipped[k]);
        const char *texts[2 * PHIEU_FORM_MAX_ROWS + 8];
        int n = 0;
        texts[n++] = f->council, texts[n++] = f->session, texts[n++] = f->title;
        texts[n++] = f->instruction;
        for (int c = 0; c < f->n_choices; c++)
            texts[n++] = f->choices[c].label;
        for (int r = 0; r < f->n_rows; r++)
            texts[n++] = f->rows[r].name, texts[n++] = f->rows[r].post;
        for (int i = 0; i < n; i++)
            for (int bold = 0; bold <= 1; bold++) {
                double est = form_text_width_mm(texts[i], 10.0, bold);
                double real = measured_mm(faces[bold], texts[i], 10.0);
                if (est < real)
                    fail_msg("'%s' estimated %.1f mm, printed %.1f mm", texts[i], est, real);
                checked++;
            }
        phieu_form_destroy(&f);
    }
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        for (int bold = 0; bold <= 1; bold++) {
            double est = form_text_width_mm(extra[i], 9.0, bold);
            double real = measured_mm(faces[bold], extra[i], 9.0);
            if (est < real)
                fail_msg("'%s' estimated %.1f mm, printed %.1f mm", extra[i], est, real);
            /* ... but not absurdly wide either: within 35 %. */
            assert_true(est < real * 1.35);
        }
    assert_true(checked > 100);
    FT_Done_Face(faces[0]);
    FT_Done_Face(faces[1]);
    FT_Done_FreeType(ft);
}

/* ---- layout ------------------------------------------------------------------------- */

static int overlaps(phieu_rect a, phieu_rect b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static void check_layout(const phieu_form *f)
{
    phieu_layout l;
    phieu_error err = {0};
    assert_int_equal(phieu_layout_compute(f, &l, &err), 0);
    assert_true(l.page_w == 210.0 && l.page_h == 297.0);
    assert_int_equal(l.n_rows, f->n_rows);
    assert_int_equal(l.n_choices, f->n_choices);
    assert_int_equal(l.n_columns, 3 + f->n_choices);

    /* Every printed thing, for the margin and overlap checks. */
    phieu_rect all[4 + 2 + PHIEU_FORM_CODE_BITS + 8 + PHIEU_FORM_MAX_ROWS * PHIEU_FORM_MAX_CHOICES];
    const char *what[sizeof all / sizeof all[0]];
    int n = 0;
    for (int i = 0; i < 4; i++)
        all[n] = l.fiducials[i], what[n++] = "fiducial";
    all[n] = l.code_start, what[n++] = "code start";
    all[n] = l.code_end, what[n++] = "code end";
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
        all[n] = l.code_cells[i], what[n++] = "code cell";
    all[n] = l.code_text, what[n++] = "code text";
    all[n] = l.seal, what[n++] = "seal";
    all[n] = l.header_left, what[n++] = "header left";
    all[n] = l.header_right, what[n++] = "header right";
    all[n] = l.title, what[n++] = "title";
    all[n] = l.instruction, what[n++] = "instruction";
    all[n] = l.test_band, what[n++] = "test band";
    all[n] = l.table, what[n++] = "table";
    int first_box = n;
    for (int r = 0; r < l.n_rows; r++)
        for (int c = 0; c < l.n_choices; c++)
            all[n] = l.boxes[r][c], what[n++] = "box";

    for (int i = 0; i < n; i++) {
        if (all[i].w <= 0 || all[i].h <= 0)
            fail_msg("%s %d is empty", what[i], i);
        if (all[i].x < 5.0 || all[i].y < 5.0 || all[i].x + all[i].w > 205.0 ||
            all[i].y + all[i].h > 292.0)
            fail_msg("%s %d (%.2f,%.2f %.2fx%.2f) is outside the 5 mm margin", what[i], i,
                     all[i].x, all[i].y, all[i].w, all[i].h);
    }
    for (int i = 0; i < first_box; i++) {
        for (int j = i + 1; j < n; j++) {
            int seal_on_header = strcmp(what[i], "seal") == 0 && strcmp(what[j], "header left") == 0;
            int box_in_table = strcmp(what[i], "table") == 0 && j >= first_box;
            if (seal_on_header || box_in_table)
                continue;
            if (overlaps(all[i], all[j]))
                fail_msg("%s %d overlaps %s %d", what[i], i, what[j], j);
        }
    }
    /* Boxes: inside the table, at least 5 mm, centred in their cell, apart. */
    for (int r = 0; r < l.n_rows; r++) {
        phieu_rect row = l.rows[r];
        assert_true(row.y >= l.table.y + l.header_row_h - 1e-9);
        assert_true(row.y + row.h <= l.table.y + l.table.h + 1e-9);
        for (int c = 0; c < l.n_choices; c++) {
            phieu_rect b = l.boxes[r][c];
            assert_true(b.w >= PHIEU_FORM_BOX_MIN_MM - 1e-9 && b.h >= PHIEU_FORM_BOX_MIN_MM - 1e-9);
            assert_true(fabs(b.w - b.h) < 1e-9);
            double cx = (l.column_x[3 + c] + l.column_x[4 + c]) / 2.0;
            assert_true(fabs(b.x + b.w / 2.0 - cx) < 1e-6);
            assert_true(fabs(b.y + b.h / 2.0 - (row.y + row.h / 2.0)) < 1e-6);
            assert_true(b.x >= l.column_x[3 + c] && b.x + b.w <= l.column_x[4 + c]);
            /* Inside its row, with room between the box and each of the row's lines for
             * the line itself: the renderer keeps a rule 1 mm plus half its 0.25 mm width
             * from any box, and breaks it where it cannot (issue 13: on the 30-row
             * ballot the row lines broke and the boxes seemed to cross them). */
            const double rule_room = 1.0 + 0.25 / 2;
            if (b.y - row.y < PHIEU_FORM_BOX_ROW_MARGIN_MM - 1e-9 ||
                row.y + row.h - (b.y + b.h) < PHIEU_FORM_BOX_ROW_MARGIN_MM - 1e-9)
                fail_msg("%d rows: box %d,%d (y %.2f..%.2f) is not inside row %d (y %.2f..%.2f) "
                         "with %.2f mm to spare", l.n_rows, r + 1, c + 1, b.y, b.y + b.h, r + 1,
                         row.y, row.y + row.h, PHIEU_FORM_BOX_ROW_MARGIN_MM);
            assert_true(PHIEU_FORM_BOX_ROW_MARGIN_MM > rule_room);
            if (r + 1 < l.n_rows)
                assert_true(l.boxes[r + 1][c].y - (b.y + b.h) >=
                            2 * PHIEU_FORM_BOX_ROW_MARGIN_MM - 1e-9);
        }
    }
    for (int i = 0; i < first_box; i++)
        for (int j = first_box; j < n; j++)
            if (i != first_box - 1 && overlaps(all[i], all[j]))
                fail_msg("%s %d overlaps a box", what[i], i);
    for (int i = first_box; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (overlaps(all[i], all[j]))
                fail_msg("box %d overlaps box %d", i - first_box, j - first_box);
    /* Row bands follow each other without gaps or overlap and end with the table. */
    for (int r = 0; r + 1 < l.n_rows; r++)
        assert_true(fabs(l.rows[r + 1].y - (l.rows[r].y + l.rows[r].h)) < 1e-9);
    assert_true(fabs(l.rows[l.n_rows - 1].y + l.rows[l.n_rows - 1].h - (l.table.y + l.table.h)) <
                1e-9);
    /* Columns increase and end at the table's right edge. */
    for (int c = 0; c < l.n_columns; c++)
        assert_true(l.column_x[c + 1] > l.column_x[c]);
    assert_true(fabs(l.column_x[0] - l.table.x) < 1e-9);
    assert_true(fabs(l.column_x[l.n_columns] - (l.table.x + l.table.w)) < 1e-9);
    /* The hole is inside the bottom-right fiducial, centred, and only there. */
    phieu_rect br = l.fiducials[PHIEU_FID_BR], h = l.fiducial_hole;
    assert_true(h.x > br.x && h.y > br.y && h.x + h.w < br.x + br.w && h.y + h.h < br.y + br.h);
    assert_true(fabs((h.x + h.w / 2) - (br.x + br.w / 2)) < 1e-9);
    /* Fiducials at the corners, clockwise from the top left. */
    assert_true(l.fiducials[PHIEU_FID_TL].x < 20 && l.fiducials[PHIEU_FID_TL].y < 20);
    assert_true(l.fiducials[PHIEU_FID_TR].x > 190 && l.fiducials[PHIEU_FID_TR].y < 20);
    assert_true(l.fiducials[PHIEU_FID_BR].x > 190 && l.fiducials[PHIEU_FID_BR].y > 277);
    assert_true(l.fiducials[PHIEU_FID_BL].x < 20 && l.fiducials[PHIEU_FID_BL].y > 277);
    /* The code lies between the bottom fiducials. */
    assert_true(l.code_start.x > l.fiducials[PHIEU_FID_BL].x + l.fiducials[PHIEU_FID_BL].w);
    assert_true(l.code_text.x + l.code_text.w < l.fiducials[PHIEU_FID_BR].x);
    for (int i = 1; i < PHIEU_FORM_CODE_BITS; i++)
        assert_true(l.code_cells[i].x > l.code_cells[i - 1].x);
    assert_true(l.font_pt >= 8.0 && l.font_pt <= 12.0);
    assert_true(l.box_line_mm > 0.0 && l.box_line_mm < 1.0);
}

static void test_layout_shipped(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        phieu_form *f = load_shipped_form(shipped[i]);
        check_layout(f);
        phieu_form_destroy(&f);
    }
}

static void test_layout_every_row_count(void **state)
{
    (void)state;
    /* Both kinds, 1 to 30 rows (the 1- and 30-row extremes included): every layout passes
     * the same checks, box inside its row included, and boxes only shrink (never below
     * 5 mm) as rows are added. */
    for (int kind = 0; kind <= 1; kind++) {
        double last_box = 100.0;
        for (int n = 1; n <= PHIEU_FORM_MAX_ROWS; n++) {
            phieu_buf b;
            phieu_buf_init(&b);
            phieu_buf_printf(&b, "id: n%d\nkind: %s\ncouncil: C\nsession: S\ntitle: T\n"
                                 "instruction: I\n",
                             n, kind ? "confidence" : "rating");
            for (int i = 1; i <= n; i++)
                phieu_buf_printf(&b, "row:\nname: Người Thứ %d\npost: Ủy viên\n", i);
            phieu_form *f = parse_ok(b.data);
            check_layout(f);
            phieu_layout l;
            assert_int_equal(phieu_layout_compute(f, &l, NULL), 0);
            assert_true(l.boxes[0][0].w <= last_box);
            last_box = l.boxes[0][0].w;
            phieu_form_destroy(&f);
            phieu_buf_release(&b);
        }
        assert_true(fabs(last_box - PHIEU_FORM_BOX_MIN_MM) < 1e-9); /* 30 rows: 5 mm */
    }
}

static void test_layout_refuses_impossible_forms(void **state)
{
    (void)state;
    phieu_form *f = parse_ok(base_text);
    phieu_layout l;
    phieu_error err = {0};
    assert_int_equal(phieu_layout_compute(NULL, &l, &err), PHIEU_EINVAL);
    /* A form built by hand with too many rows is refused, not laid out off the page. */
    f->n_rows = PHIEU_FORM_MAX_ROWS + 1;
    assert_int_equal(phieu_layout_compute(f, &l, &err), PHIEU_EINVAL);
    assert_non_null(strstr(err.message, "1-30 rows"));
    f->n_rows = 2;
    phieu_form_destroy(&f);
}

static void test_layout_few_rows_capped(void **state)
{
    (void)state;
    phieu_form *c = load_shipped_form("confidence-vote");
    phieu_layout l;
    assert_int_equal(phieu_layout_compute(c, &l, NULL), 0);
    assert_true(l.rows[0].h <= 12.0 + 1e-9);
    assert_true(fabs(l.boxes[0][0].w - 7.0) < 1e-9);
    phieu_form_destroy(&c);
    phieu_form *p = load_shipped_form("province-rating");
    assert_int_equal(phieu_layout_compute(p, &l, NULL), 0);
    assert_true(fabs(l.boxes[29][2].w - PHIEU_FORM_BOX_MIN_MM) < 1e-9);
    phieu_form_destroy(&p);
}

static void test_layout_deterministic(void **state)
{
    (void)state;
    phieu_form *a = load_shipped_form("province-rating");
    phieu_form *b = load_shipped_form("province-rating");
    phieu_layout la, lb;
    memset(&la, 0xAA, sizeof la);
    memset(&lb, 0x55, sizeof lb);
    assert_int_equal(phieu_layout_compute(a, &la, NULL), 0);
    assert_int_equal(phieu_layout_compute(b, &lb, NULL), 0);
    assert_memory_equal(&la, &lb, sizeof la);
    assert_memory_equal(a->fingerprint, b->fingerprint, 32);
    assert_string_equal(a->fingerprint_hex, b->fingerprint_hex);
    phieu_form_destroy(&a);
    phieu_form_destroy(&b);
}

/* The layout JSON holds the layout's own figures, to 1/1000 mm, and the form's texts; a
 * buffer that cannot grow gives PHIEU_ENOMEM, not a cut-off document. */
static void test_layout_json(void **state)
{
    (void)state;
    phieu_form *f = load_shipped_form("district-rating");
    phieu_layout l;
    assert_int_equal(phieu_layout_compute(f, &l, NULL), 0);
    phieu_buf b;
    phieu_buf_init(&b);
    assert_int_equal(phieu_layout_json(f, &l, &b, NULL), 0);
    json_error_t jerr;
    json_t *doc = json_loads(b.data, 0, &jerr);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "form")), "district-rating");
    assert_string_equal(json_string_value(json_object_get(doc, "fingerprint")),
                        f->fingerprint_hex);
    assert_string_equal(json_string_value(json_object_get(doc, "kind")), "rating");
    json_t *page = json_object_get(doc, "page");
    assert_int_equal(json_integer_value(json_object_get(page, "width_mm")), 210);
    assert_int_equal(json_integer_value(json_object_get(page, "height_mm")), 297);
    json_t *rows = json_object_get(doc, "rows");
    assert_int_equal(json_array_size(rows), (size_t)f->n_rows);
    json_t *last = json_array_get(rows, json_array_size(rows) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "name")),
                        f->rows[f->n_rows - 1].name);
    json_t *box = json_array_get(json_object_get(last, "boxes"), 2);
    assert_string_equal(json_string_value(json_object_get(box, "choice")), "low");
    assert_true(fabs(json_number_value(json_object_get(box, "y_mm")) -
                     l.boxes[f->n_rows - 1][2].y) <= 0.0005);
    json_decref(doc);
    phieu_buf_release(&b);

    phieu_buf_init(&b);
    phieu_error err = {0};
    phieu_alloc_fail_after(0);
    int rc = phieu_layout_json(f, &l, &b, &err);
    phieu_alloc_fail_after(-1);
    assert_int_equal(rc, PHIEU_ENOMEM);
    assert_non_null(strstr(err.message, "district-rating"));
    phieu_buf_release(&b);
    phieu_form_destroy(&f);
}

/* ---- form code ---------------------------------------------------------------------- */

static void test_code_round_trip(void **state)
{
    (void)state;
    phieu_form *f = load_shipped_form("district-rating");
    phieu_form *g = load_shipped_form("province-rating");
    for (int test = 0; test <= 1; test++) {
        uint8_t bits[PHIEU_FORM_CODE_BITS];
        phieu_form_code_bits(f, test, bits);
        /* The first 40 bits are the fingerprint's first 5 bytes, MSB first. */
        for (int i = 0; i < 40; i++)
            assert_int_equal(bits[i], (f->fingerprint[i / 8] >> (7 - i % 8)) & 1);
        /* Bit 40 is the test flag (form.h); bits 41..47 are 0. */
        assert_int_equal(bits[40], test);
        for (int i = 41; i < 48; i++)
            assert_int_equal(bits[i], 0);
        phieu_form_code code;
        phieu_error err = {0};
        assert_int_equal(phieu_form_code_decode(bits, &code, &err), 0);
        assert_int_equal(code.flags, test ? PHIEU_FORM_CODE_FLAG_TEST : 0);
        assert_memory_equal(code.fingerprint_prefix, f->fingerprint, 5);
        assert_int_equal(phieu_form_code_matches(&code, f), 1);
        assert_int_equal(phieu_form_code_matches(&code, g), 0);
        for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++) {
            bits[i] ^= 1;
            assert_int_equal(phieu_form_code_decode(bits, &code, &err), PHIEU_EFORMAT);
            bits[i] ^= 1;
        }
    }
    phieu_form_destroy(&f);
    phieu_form_destroy(&g);
}

static void test_code_crc_known_value(void **state)
{
    (void)state;
    /* The CRC bits equal CRC-16/CCITT-FALSE computed here bit-serially from its
     * definition (register 0xFFFF, polynomial 0x1021, message bits MSB first). */
    uint16_t crc = 0xFFFF;
    const uint8_t data[6] = {0x12, 0x34, 0x56, 0x78, 0x9A, 0x01};
    for (int i = 0; i < 6; i++) {
        for (int b = 7; b >= 0; b--) {
            int top = (crc >> 15) & 1;
            int bit = (data[i] >> b) & 1;
            crc = (uint16_t)(crc << 1);
            if (top ^ bit)
                crc ^= 0x1021;
        }
    }
    phieu_form f;
    memset(&f, 0, sizeof f);
    memcpy(f.fingerprint, data, 5);
    uint8_t bits[PHIEU_FORM_CODE_BITS];
    phieu_form_code_bits(&f, 1, bits);
    assert_int_equal(bits[40], 1);
    uint16_t got = 0;
    for (int i = 48; i < 64; i++)
        got = (uint16_t)((got << 1) | bits[i]);
    assert_int_equal(got, crc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_forms_parse),
        cmocka_unit_test(test_base_parses_with_source),
        cmocka_unit_test(test_choice_override),
        cmocka_unit_test(test_error_unknown_key),
        cmocka_unit_test(test_error_missing_required),
        cmocka_unit_test(test_error_empty),
        cmocka_unit_test(test_error_missing_name_and_post),
        cmocka_unit_test(test_error_duplicate_row),
        cmocka_unit_test(test_error_header_values),
        cmocka_unit_test(test_error_choices),
        cmocka_unit_test(test_error_bytes),
        cmocka_unit_test(test_error_too_long),
        cmocka_unit_test(test_error_too_many_rows),
        cmocka_unit_test(test_tolerated_spacing),
        cmocka_unit_test(test_out_of_memory_paths),
        cmocka_unit_test(test_fingerprint_ignores_comments_and_spacing),
        cmocka_unit_test(test_fingerprint_changes_with_any_edit),
        cmocka_unit_test(test_width_estimate_is_conservative),
        cmocka_unit_test(test_layout_shipped),
        cmocka_unit_test(test_layout_every_row_count),
        cmocka_unit_test(test_layout_refuses_impossible_forms),
        cmocka_unit_test(test_layout_few_rows_capped),
        cmocka_unit_test(test_layout_deterministic),
        cmocka_unit_test(test_layout_json),
        cmocka_unit_test(test_code_round_trip),
        cmocka_unit_test(test_code_crc_known_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
