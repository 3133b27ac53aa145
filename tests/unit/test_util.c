/*
 * test_util.c - phieu_buf_json_string, the program's one JSON string escaper: the bytes it
 * writes for each kind of character (checked by hand against RFC 8259), that jansson reads
 * back exactly the string given, and that running out of memory marks the buffer failed;
 * phieu_text_same, by which a session's council is compared with a form's;
 * phieu_hex_decode: the inverse of phieu_hex, and PHIEU_EFORMAT for what is not hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "phieu/alloc.h"
#include "phieu/util.h"

static void expect_json(const char *in, const char *want)
{
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_json_string(&b, in);
    assert_false(b.failed);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    phieu_buf_release(&b);
}

/* Each rule of the escaper, one byte class at a time. */
static void test_escapes(void **state)
{
    (void)state;
    expect_json("", "\"\"");
    expect_json(NULL, "\"\"");
    expect_json("abc 123", "\"abc 123\"");
    expect_json("say \"hi\"", "\"say \\\"hi\\\"\"");
    expect_json("C:\\scans", "\"C:\\\\scans\"");
    expect_json("a\nb\tc\rd", "\"a\\u000ab\\u0009c\\u000dd\"");
    expect_json("\x01\x1f", "\"\\u0001\\u001f\"");
    /* 0x7f and the slash need no escape; UTF-8 passes as it is. */
    expect_json("/\x7f", "\"/\x7f\"");
    expect_json("Nguyễn Thị Hà", "\"Nguyễn Thị Hà\"");
}

/* Appending after other text keeps that text, and jansson reads back what went in. */
static void test_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"Trần Văn \"Khải\"", "tab\there", "back\\slash\n", "Ủy viên"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        phieu_buf b;
        phieu_buf_init(&b);
        phieu_buf_puts(&b, "{\"name\":");
        phieu_buf_json_string(&b, names[i]);
        phieu_buf_puts(&b, "}");
        assert_false(b.failed);
        json_error_t jerr;
        json_t *doc = json_loads(b.data, 0, &jerr);
        assert_non_null(doc);
        assert_string_equal(json_string_value(json_object_get(doc, "name")), names[i]);
        json_decref(doc);
        phieu_buf_release(&b);
    }
}

/* Out of memory: the buffer says so, and nothing half-written is presented as done. */
static void test_out_of_memory(void **state)
{
    (void)state;
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_alloc_fail_after(0);
    phieu_buf_json_string(&b, "x");
    phieu_alloc_fail_after(-1);
    assert_true(b.failed);
    phieu_buf_release(&b);
}

static int same(const char *a, const char *b)
{
    phieu_error err = {0};
    int same = -1;
    assert_int_equal(phieu_text_same(a, b, &same, &err), 0);
    return same;
}

/* A council typed by the board matches the one printed on the form whatever the case,
 * the spacing and the way the letters were typed (precomposed or base + marks, marks in
 * either order); another name, or an abbreviation, does not. */
static void test_text_same(void **state)
{
    (void)state;
    assert_true(same("HỘI ĐỒNG NHÂN DÂN HUYỆN AN THẠNH", "Hội đồng nhân dân huyện An Thạnh"));
    assert_true(same("Kỳ họp thứ Mười Một, khóa XII", "  KỲ HỌP   THỨ\tMƯỜI MỘT, KHÓA XII "));
    /* "Thạnh" and "Một" typed decomposed; "ậ" as a + dot below + circumflex and as
     * a + circumflex + dot below. */
    assert_true(same("AN THẠNH", "an tha\xcc\xa3nh"));
    assert_true(same("Mười Một", "Mu\xcc\x9bo\xcc\x9b\xcc\x80i Mo\xcc\x82\xcc\xa3t"));
    assert_true(same("Mo\xcc\xa3\xcc\x82t", "Mo\xcc\x82\xcc\xa3t"));
    assert_true(same("ĐÔNG", "đông"));
    assert_false(same("HỘI ĐỒNG NHÂN DÂN HUYỆN AN THẠNH", "HĐND huyện An Thạnh"));
    assert_false(same("HỘI ĐỒNG NHÂN DÂN TỈNH SƠN ĐÔNG", "Hội đồng nhân dân huyện An Thạnh"));
    assert_false(same("Kỳ họp thứ Mười Một", "Kỳ họp thứ Mười Hai"));
    assert_false(same("Thạnh", "Thanh"));  /* a tone is part of the name */
    assert_false(same("Mười", "Muoi"));
    char *f = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_text_fold(" A\xc3", &f, &err), PHIEU_EINVAL);
    assert_null(f);
    assert_int_equal(phieu_text_fold("  Ư  Ơ ", &f, &err), 0);
    assert_string_equal(f, "u\xcc\x9b o\xcc\x9b");
    phieu_free(f);
}

/* Decoding gives back what phieu_hex wrote, either case; a wrong length or a character
 * that is not a hex digit is PHIEU_EFORMAT with the place named. */
static void test_hex_decode(void **state)
{
    (void)state;
    const uint8_t bytes[4] = {0x00, 0x9f, 0xa0, 0xff};
    char hex[9];
    phieu_hex(bytes, sizeof bytes, hex);
    assert_string_equal(hex, "009fa0ff");
    uint8_t back[4] = {0};
    phieu_error err = {0};
    assert_int_equal(phieu_hex_decode(hex, 8, back, sizeof back, &err), 0);
    assert_memory_equal(back, bytes, sizeof bytes);
    memset(back, 0, sizeof back);
    assert_int_equal(phieu_hex_decode("009FA0FF", 8, back, sizeof back, NULL), 0);
    assert_memory_equal(back, bytes, sizeof bytes);

    assert_int_equal(phieu_hex_decode("009fa0f", 7, back, sizeof back, &err), PHIEU_EFORMAT);
    assert_int_equal(err.code, PHIEU_EFORMAT);
    assert_string_equal(err.message, "expected 8 hex digits, found 7");
    assert_int_equal(phieu_hex_decode("009fa0ff00", 10, back, sizeof back, &err),
                     PHIEU_EFORMAT);
    assert_int_equal(phieu_hex_decode("009g a0ff", 8, back, sizeof back, &err), PHIEU_EFORMAT);
    assert_string_equal(err.message, "not a hex digit at position 4");
    assert_int_equal(phieu_hex_decode("0x9fa0ff", 8, back, sizeof back, &err), PHIEU_EFORMAT);
    assert_string_equal(err.message, "not a hex digit at position 2");
    assert_int_equal(phieu_hex_decode("", 0, back, 0, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_text_same),
        cmocka_unit_test(test_hex_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
