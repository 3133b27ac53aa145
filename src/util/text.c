/*
 * text.c - comparing names as a person reads them: Vietnamese case folding, runs of white
 * space as one, and precomposed and decomposed letters alike. Used where a typed name is
 * checked against a printed one (a session's council and session against a form's).
 * Printing and measuring text live in src/render/ and src/form/.
 */
#include <stdint.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/util.h"

long phieu_utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    long c;
    int extra;
    if (s[0] < 0x80) {
        *p = s + 1;
        return s[0];
    }
    if ((s[0] & 0xe0) == 0xc0) {
        c = s[0] & 0x1f;
        extra = 1;
    } else if ((s[0] & 0xf0) == 0xe0) {
        c = s[0] & 0x0f;
        extra = 2;
    } else if ((s[0] & 0xf8) == 0xf0) {
        c = s[0] & 0x07;
        extra = 3;
    } else
        return -1;
    for (int i = 1; i <= extra; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (s[i] & 0x3f);
    }
    static const long min[4] = {0, 0x80, 0x800, 0x10000};
    if (c < min[extra] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *p = s + 1 + extra;
    return c;
}

long phieu_latin_lower(long c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xc0 && c <= 0xde && c != 0xd7)
        return c + 32;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177) || (c >= 0x1e00 && c <= 0x1eff))
        return c | 1; /* pairs: upper even, lower odd */
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
        return (c & 1) ? c + 1 : c; /* pairs: upper odd, lower even */
    if (c == 0x1a0 || c == 0x1af)   /* Ơ, Ư */
        return c + 1;
    return c;
}

/* The canonical decomposition (Unicode NFD) of every lower-case Vietnamese vowel that has
 * one: the twelve vowels a ă â e ê i o ô ơ u ư y, each alone and with the five tones.
 * Generated with Python's unicodedata.normalize('NFD', ...); sorted by code point. đ has
 * no decomposition. */
static const struct {
    uint16_t cp;
    const char *nfd;
} vi_nfd[] = {
    /* clang-format off */
    {0x00e0, "a" "\xcc\x80"}, {0x00e1, "a" "\xcc\x81"},
    {0x00e2, "a" "\xcc\x82"}, {0x00e3, "a" "\xcc\x83"},
    {0x00e8, "e" "\xcc\x80"}, {0x00e9, "e" "\xcc\x81"},
    {0x00ea, "e" "\xcc\x82"}, {0x00ec, "i" "\xcc\x80"},
    {0x00ed, "i" "\xcc\x81"}, {0x00f2, "o" "\xcc\x80"},
    {0x00f3, "o" "\xcc\x81"}, {0x00f4, "o" "\xcc\x82"},
    {0x00f5, "o" "\xcc\x83"}, {0x00f9, "u" "\xcc\x80"},
    {0x00fa, "u" "\xcc\x81"}, {0x00fd, "y" "\xcc\x81"},
    {0x0103, "a" "\xcc\x86"}, {0x0129, "i" "\xcc\x83"},
    {0x0169, "u" "\xcc\x83"}, {0x01a1, "o" "\xcc\x9b"},
    {0x01b0, "u" "\xcc\x9b"}, {0x1ea1, "a" "\xcc\xa3"},
    {0x1ea3, "a" "\xcc\x89"}, {0x1ea5, "a" "\xcc\x82\xcc\x81"},
    {0x1ea7, "a" "\xcc\x82\xcc\x80"}, {0x1ea9, "a" "\xcc\x82\xcc\x89"},
    {0x1eab, "a" "\xcc\x82\xcc\x83"}, {0x1ead, "a" "\xcc\xa3\xcc\x82"},
    {0x1eaf, "a" "\xcc\x86\xcc\x81"}, {0x1eb1, "a" "\xcc\x86\xcc\x80"},
    {0x1eb3, "a" "\xcc\x86\xcc\x89"}, {0x1eb5, "a" "\xcc\x86\xcc\x83"},
    {0x1eb7, "a" "\xcc\xa3\xcc\x86"}, {0x1eb9, "e" "\xcc\xa3"},
    {0x1ebb, "e" "\xcc\x89"}, {0x1ebd, "e" "\xcc\x83"},
    {0x1ebf, "e" "\xcc\x82\xcc\x81"}, {0x1ec1, "e" "\xcc\x82\xcc\x80"},
    {0x1ec3, "e" "\xcc\x82\xcc\x89"}, {0x1ec5, "e" "\xcc\x82\xcc\x83"},
    {0x1ec7, "e" "\xcc\xa3\xcc\x82"}, {0x1ec9, "i" "\xcc\x89"},
    {0x1ecb, "i" "\xcc\xa3"}, {0x1ecd, "o" "\xcc\xa3"},
    {0x1ecf, "o" "\xcc\x89"}, {0x1ed1, "o" "\xcc\x82\xcc\x81"},
    {0x1ed3, "o" "\xcc\x82\xcc\x80"}, {0x1ed5, "o" "\xcc\x82\xcc\x89"},
    {0x1ed7, "o" "\xcc\x82\xcc\x83"}, {0x1ed9, "o" "\xcc\xa3\xcc\x82"},
    {0x1edb, "o" "\xcc\x9b\xcc\x81"}, {0x1edd, "o" "\xcc\x9b\xcc\x80"},
    {0x1edf, "o" "\xcc\x9b\xcc\x89"}, {0x1ee1, "o" "\xcc\x9b\xcc\x83"},
    {0x1ee3, "o" "\xcc\x9b\xcc\xa3"}, {0x1ee5, "u" "\xcc\xa3"},
    {0x1ee7, "u" "\xcc\x89"}, {0x1ee9, "u" "\xcc\x9b\xcc\x81"},
    {0x1eeb, "u" "\xcc\x9b\xcc\x80"}, {0x1eed, "u" "\xcc\x9b\xcc\x89"},
    {0x1eef, "u" "\xcc\x9b\xcc\x83"}, {0x1ef1, "u" "\xcc\x9b\xcc\xa3"},
    {0x1ef3, "y" "\xcc\x80"}, {0x1ef5, "y" "\xcc\xa3"},
    {0x1ef7, "y" "\xcc\x89"}, {0x1ef9, "y" "\xcc\x83"},
    /* clang-format on */
};

/* Canonical combining class of U+0300..U+036F (unicodedata.combining): decomposed marks
 * are put in this order so that "ậ" typed as a + ̂ + ̣ equals a + ̣ + ̂. */
static const uint8_t ccc_0300[112] = {
    /* clang-format off */
    230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230,
    230, 230, 230, 230, 230, 232, 220, 220, 220, 220, 232, 216, 220, 220, 220, 220,
    220, 202, 202, 220, 220, 220, 220, 202, 202, 220, 220, 220, 220, 220, 220, 220,
    220, 220, 220, 220, 1, 1, 1, 1, 1, 220, 220, 220, 220, 230, 230, 230,
    230, 230, 230, 230, 230, 240, 230, 220, 220, 220, 230, 230, 230, 220, 220, 0,
    230, 230, 230, 220, 220, 220, 220, 230, 232, 220, 220, 230, 233, 234, 234, 233,
    234, 234, 233, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230,
    /* clang-format on */
};

static int ccc(long c)
{
    return c >= 0x300 && c <= 0x36f ? ccc_0300[c - 0x300] : 0;
}

static const char *vi_decompose(long c)
{
    size_t lo = 0, hi = sizeof vi_nfd / sizeof vi_nfd[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (vi_nfd[mid].cp == c)
            return vi_nfd[mid].nfd;
        if (vi_nfd[mid].cp < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static size_t utf8_put(long c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

static int is_space(long c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xa0;
}

/* The combining mark (U+0300..U+036F, two bytes in UTF-8, class > 0) that ends out[0..len),
 * or 0 when the text does not end in one. */
static long mark_before(const char *out, size_t len)
{
    if (len < 2)
        return 0;
    const unsigned char *q = (const unsigned char *)out + len - 2;
    if (q[0] != 0xcc && q[0] != 0xcd)
        return 0;
    long c = phieu_utf8_next(&q);
    return c > 0 && ccc(c) > 0 ? c : 0;
}

/* Moves the mark that ends out[0..len) back past the marks before it of a higher
 * combining class: an insertion step that keeps the marks after each letter in canonical
 * order (stable: equal classes keep the order they were typed in). */
static void order_last_mark(char *out, size_t len)
{
    size_t j = len - 2;
    long c = mark_before(out, len), before;
    while ((before = mark_before(out, j)) != 0 && ccc(before) > ccc(c)) {
        char t[2] = {out[j - 2], out[j - 1]};
        out[j - 2] = out[j], out[j - 1] = out[j + 1];
        out[j] = t[0], out[j + 1] = t[1];
        j -= 2;
    }
}

int phieu_text_fold(const char *s, char **out, phieu_error *err)
{
    *out = NULL;
    size_t n = strlen(s);
    /* A two-byte letter decomposes into at most five bytes (base and two marks). */
    char *buf = phieu_malloc(3 * n + 1);
    if (!buf)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    size_t len = 0;
    int space = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        long c = phieu_utf8_next(&p);
        if (c < 0) {
            phieu_free(buf);
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "'%s' is not UTF-8 text; type it again as UTF-8", s);
        }
        if (is_space(c)) {
            space = len > 0;
            continue;
        }
        if (space)
            buf[len++] = ' ';
        space = 0;
        c = phieu_latin_lower(c);
        const char *nfd = vi_decompose(c);
        if (nfd) {
            size_t k = strlen(nfd);
            memcpy(buf + len, nfd, k);
            len += k;
        } else {
            len += utf8_put(c, buf + len);
        }
        if (ccc(c) != 0)
            order_last_mark(buf, len);
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

int phieu_text_same(const char *a, const char *b, int *same, phieu_error *err)
{
    char *fa = NULL, *fb = NULL;
    if (phieu_text_fold(a, &fa, err) != 0 || phieu_text_fold(b, &fb, err) != 0) {
        phieu_free(fa);
        return err->code;
    }
    *same = strcmp(fa, fb) == 0;
    phieu_free(fa);
    phieu_free(fb);
    return 0;
}
