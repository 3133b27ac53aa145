/*
 * blob.c - the machine's reading stored as a compact, versioned, little-endian blob: the
 * page status and transform, every row's decision and every box's scores and ink cells,
 * and the reasons. Decoding gives back the same phieu_reading byte for byte in every
 * field that was encoded, so the report and verify see exactly what was read.
 */
#include <string.h>

#include "phieu/alloc.h"
#include "session/session_internal.h"

#define BLOB_MAGIC "PHR1"

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int failed;
} wbuf;

static void put(wbuf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *g = phieu_realloc(b->p, cap);
        if (!g) {
            b->failed = 1;
            return;
        }
        b->p = g;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(wbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(wbuf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}

static void put_f64(wbuf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}

static void put_str(wbuf *b, const char *s, size_t max)
{
    size_t n = strnlen(s, max - 1);
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}

int session_reading_encode(const phieu_reading *r, uint8_t **blob, size_t *len,
                           phieu_error *err)
{
    wbuf b = {0};
    put(&b, BLOB_MAGIC, 4);
    put_u32(&b, (uint32_t)r->status);
    put_u32(&b, (uint32_t)r->form_index);
    put_u32(&b, (uint32_t)r->test_ballot);
    put_u32(&b, (uint32_t)r->upside_down);
    for (int i = 0; i < 9; i++)
        put_f64(&b, r->transform[i]);
    put_u32(&b, (uint32_t)r->n_rows);
    for (int i = 0; i < r->n_rows && i < PHIEU_FORM_MAX_ROWS; i++) {
        const phieu_row_reading *row = &r->rows[i];
        put_u32(&b, (uint32_t)row->row);
        put_u32(&b, (uint32_t)row->decision);
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            const phieu_box_reading *box = &row->boxes[c];
            put_f32(&b, box->score);
            put_f32(&b, box->coverage);
            put_f32(&b, box->darkness);
            put(&b, &box->state, 1);
            put(&b, box->ink, PHIEU_OMR_INK_CELLS);
        }
    }
    put_u32(&b, (uint32_t)r->n_reasons);
    for (int i = 0; i < r->n_reasons && i < PHIEU_OMR_MAX_REASONS; i++) {
        put_str(&b, r->reasons[i].code, sizeof r->reasons[i].code);
        put_str(&b, r->reasons[i].text, sizeof r->reasons[i].text);
        put_u32(&b, (uint32_t)r->reasons[i].row);
    }
    if (b.failed) {
        phieu_free(b.p);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory storing a reading");
    }
    *blob = b.p;
    *len = b.len;
    return 0;
}

typedef struct {
    const uint8_t *p;
    size_t len, at;
    int failed;
} rbuf;

static void get(rbuf *b, void *out, size_t n)
{
    if (b->failed || b->len - b->at < n) {
        b->failed = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, b->p + b->at, n);
    b->at += n;
}

static uint32_t get_u32(rbuf *b)
{
    uint8_t x[4];
    get(b, x, 4);
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

static int32_t get_i32(rbuf *b)
{
    uint32_t u = get_u32(b);
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

static float get_f32(rbuf *b)
{
    uint32_t v = get_u32(b);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static double get_f64(rbuf *b)
{
    uint64_t lo = get_u32(b), hi = get_u32(b);
    uint64_t v = lo | hi << 32;
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static void get_str(rbuf *b, char *out, size_t max)
{
    uint32_t n = get_u32(b);
    if (n >= max) {
        b->failed = 1;
        out[0] = '\0';
        return;
    }
    get(b, out, n);
    out[b->failed ? 0 : n] = '\0';
}

int session_reading_decode(const uint8_t *blob, size_t len, phieu_reading *r,
                           phieu_error *err)
{
    rbuf b = {blob, len, 0, 0};
    memset(r, 0, sizeof *r);
    char magic[4];
    get(&b, magic, 4);
    if (b.failed || memcmp(magic, BLOB_MAGIC, 4) != 0)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "a stored reading is damaged (bad header); restore the session "
                               "from a backup copy");
    r->status = get_i32(&b);
    r->form_index = get_i32(&b);
    r->test_ballot = get_i32(&b);
    r->upside_down = get_i32(&b);
    for (int i = 0; i < 9; i++)
        r->transform[i] = get_f64(&b);
    r->n_rows = get_i32(&b);
    if (r->n_rows < 0 || r->n_rows > PHIEU_FORM_MAX_ROWS)
        b.failed = 1;
    for (int i = 0; !b.failed && i < r->n_rows; i++) {
        phieu_row_reading *row = &r->rows[i];
        row->row = get_i32(&b);
        row->decision = get_i32(&b);
        for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
            phieu_box_reading *box = &row->boxes[c];
            box->score = get_f32(&b);
            box->coverage = get_f32(&b);
            box->darkness = get_f32(&b);
            get(&b, &box->state, 1);
            get(&b, box->ink, PHIEU_OMR_INK_CELLS);
        }
    }
    r->n_reasons = get_i32(&b);
    if (r->n_reasons < 0 || r->n_reasons > PHIEU_OMR_MAX_REASONS)
        b.failed = 1;
    for (int i = 0; !b.failed && i < r->n_reasons; i++) {
        get_str(&b, r->reasons[i].code, sizeof r->reasons[i].code);
        get_str(&b, r->reasons[i].text, sizeof r->reasons[i].text);
        r->reasons[i].row = get_i32(&b);
    }
    if (b.failed || b.at != b.len)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "a stored reading is damaged (%zu bytes, cut or padded); "
                               "restore the session from a backup copy",
                               len);
    return 0;
}
