/*
 * omr_strokes_store.c - a page's strokes as bytes, for the session to keep beside the
 * sheet's reading: a later page that may be the same paper fed again is then compared
 * with them, instead of decoding the earlier sheet's archived image once more (a 600 dpi
 * page is 35 MB of memory and a third of a second of CPU on the commit path).
 *
 * The bytes: "PST1", the payload's length (u32), then the payload compressed by zlib.
 * The payload, little-endian: form index (i32), rows, side, boxes, rings (u32 each); per
 * window, boxes first: row, choice (u8), width, height (u16), ink (u32); then every
 * window's samples in that order, a byte each. Samples are whole gray levels already
 * (phieu_omr_strokes_create rounds them), so nothing is lost: decoded strokes compare
 * exactly as the ones encoded. A window is mostly paper, which zlib makes small.
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "omr/omr_internal.h"
#include "phieu/alloc.h"

#define STORE_MAGIC "PST1"
#define STORE_HEAD 8 /* magic and payload length */
#define STORE_COUNTS 20
#define STORE_WINDOW 10
/* No window is this wide, and no page's strokes this long: a box's surroundings are about
 * 150 x 120 samples, and a 30-row rating form with all 90 boxes kept is under 2 MB. A
 * record claiming more is damaged, and refused before memory is sized from it. */
#define STORE_MAX_SIDE 400
#define STORE_MAX_PAYLOAD ((size_t)4 << 20)
/* zlib level 1: a window is mostly paper, which every level packs about as well, and the
 * commit path should not wait for the last few per cent. */
#define STORE_ZLIB_LEVEL 1

static void put_u16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static unsigned get_u16(const uint8_t *p)
{
    return p[0] | (unsigned)p[1] << 8;
}

static uint32_t get_u32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t window_samples(const stroke_box *b)
{
    return (size_t)b->w * (size_t)b->h;
}

/* The payload: counts, the windows' places, then their samples. */
static size_t payload_size(const phieu_omr_strokes *s)
{
    size_t n = STORE_COUNTS + STORE_WINDOW * (size_t)(s->n_boxes + s->n_rings);
    for (int i = 0; i < s->n_boxes; i++)
        n += window_samples(&s->boxes[i]);
    for (int i = 0; i < s->n_rings; i++)
        n += window_samples(&s->rings[i]);
    return n;
}

static uint8_t *put_window(uint8_t *p, const stroke_box *b)
{
    p[0] = (uint8_t)b->row, p[1] = (uint8_t)b->choice;
    put_u16(p + 2, (unsigned)b->w);
    put_u16(p + 4, (unsigned)b->h);
    put_u32(p + 6, (uint32_t)b->ink);
    return p + STORE_WINDOW;
}

static uint8_t *put_samples(uint8_t *p, const stroke_box *b)
{
    size_t n = window_samples(b);
    for (size_t k = 0; k < n; k++)
        p[k] = (uint8_t)b->v[k];
    return p + n;
}

static void fill_payload(const phieu_omr_strokes *s, uint8_t *p)
{
    put_u32(p, (uint32_t)s->form_index);
    put_u32(p + 4, (uint32_t)s->n_rows);
    put_u32(p + 8, (uint32_t)s->side);
    put_u32(p + 12, (uint32_t)s->n_boxes);
    put_u32(p + 16, (uint32_t)s->n_rings);
    p += STORE_COUNTS;
    for (int i = 0; i < s->n_boxes; i++)
        p = put_window(p, &s->boxes[i]);
    for (int i = 0; i < s->n_rings; i++)
        p = put_window(p, &s->rings[i]);
    for (int i = 0; i < s->n_boxes; i++)
        p = put_samples(p, &s->boxes[i]);
    for (int i = 0; i < s->n_rings; i++)
        p = put_samples(p, &s->rings[i]);
}

int phieu_omr_strokes_encode(const phieu_omr_strokes *s, uint8_t **data, size_t *len,
                             phieu_error *err)
{
    *data = NULL;
    *len = 0;
    if (!s)
        return phieu_error_set(err, PHIEU_EINVAL, "no strokes to store");
    size_t raw_len = payload_size(s);
    if (raw_len > STORE_MAX_PAYLOAD || s->side > STORE_MAX_SIDE)
        return phieu_error_set(err, PHIEU_ELIMIT, "a page's strokes are too large to store");
    for (int i = 0; i < s->n_rings; i++)
        if (s->rings[i].w > STORE_MAX_SIDE || s->rings[i].h > STORE_MAX_SIDE)
            return phieu_error_set(err, PHIEU_ELIMIT, "a page's strokes are too large to store");
    uLong bound = compressBound((uLong)raw_len);
    uint8_t *raw = phieu_malloc(raw_len);
    uint8_t *out = raw ? phieu_malloc(STORE_HEAD + bound) : NULL;
    if (!out) {
        phieu_free(raw);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory storing a page's strokes");
    }
    fill_payload(s, raw);
    memcpy(out, STORE_MAGIC, 4);
    put_u32(out + 4, (uint32_t)raw_len);
    uLongf packed = bound;
    int zrc = compress2(out + STORE_HEAD, &packed, raw, (uLong)raw_len, STORE_ZLIB_LEVEL);
    phieu_free(raw);
    if (zrc != Z_OK) {
        phieu_free(out);
        return phieu_error_set(err, zrc == Z_MEM_ERROR ? PHIEU_ENOMEM : PHIEU_EINVAL,
                               "cannot pack a page's strokes (zlib error %d)", zrc);
    }
    *data = out;
    *len = STORE_HEAD + packed;
    return 0;
}

/* ---- Decoding: every count and place checked before memory is sized from it ---------- */

static int damaged(phieu_error *err, const char *what)
{
    return phieu_error_set(err, PHIEU_EFORMAT, "a sheet's stored strokes are damaged (%s)",
                           what);
}

/* The payload's windows into s (their samples not yet): each in range, one per box. */
static int read_windows(const uint8_t *p, phieu_omr_strokes *s, size_t *samples,
                        phieu_error *err)
{
    *samples = 0;
    for (int i = 0; i < s->n_boxes + s->n_rings; i++, p += STORE_WINDOW) {
        int ring = i >= s->n_boxes;
        stroke_box *b = ring ? &s->rings[i - s->n_boxes] : &s->boxes[i];
        b->row = p[0], b->choice = p[1];
        b->w = (int)get_u16(p + 2), b->h = (int)get_u16(p + 4);
        b->ink = get_u32(p + 6);
        if (b->row >= s->n_rows || b->choice >= PHIEU_FORM_MAX_CHOICES)
            return damaged(err, "a box outside the form");
        if (b->w < 1 || b->h < 1 || b->w > STORE_MAX_SIDE || b->h > STORE_MAX_SIDE ||
            (!ring && (b->w != s->side || b->h != s->side)))
            return damaged(err, "a window of an impossible size");
        int *slot = ring ? &s->ring[b->row][b->choice] : &s->index[b->row][b->choice];
        if (*slot >= 0)
            return damaged(err, "a box twice");
        *slot = ring ? i - s->n_boxes : i;
        *samples += window_samples(b);
    }
    return 0;
}

/* The strokes the payload describes, checked; samples are attached by the caller. */
static int read_counts(const uint8_t *raw, size_t raw_len, phieu_omr_strokes *head,
                       size_t *samples, phieu_error *err)
{
    memset(head, 0, sizeof *head);
    memset(head->index, -1, sizeof head->index);
    memset(head->ring, -1, sizeof head->ring);
    if (raw_len < STORE_COUNTS)
        return damaged(err, "too short");
    head->form_index = (int32_t)get_u32(raw);
    uint32_t rows = get_u32(raw + 4), side = get_u32(raw + 8);
    uint32_t boxes = get_u32(raw + 12), rings = get_u32(raw + 16);
    uint32_t most = PHIEU_FORM_MAX_ROWS * PHIEU_FORM_MAX_CHOICES;
    if (head->form_index < -1 || rows > PHIEU_FORM_MAX_ROWS || side < 1 ||
        side > STORE_MAX_SIDE || boxes > most || rings > most)
        return damaged(err, "impossible counts");
    head->n_rows = (int)rows, head->side = (int)side;
    head->n_boxes = (int)boxes, head->n_rings = (int)rings;
    size_t places = STORE_COUNTS + STORE_WINDOW * (size_t)(boxes + rings);
    if (raw_len < places)
        return damaged(err, "too short");
    if (read_windows(raw + STORE_COUNTS, head, samples, err) != 0)
        return err->code;
    if (raw_len != places + *samples)
        return damaged(err, "its length does not match its windows");
    return 0;
}

/* The strokes of a checked payload in one heap block, as phieu_omr_strokes_create makes. */
static int build_strokes(const uint8_t *raw, size_t raw_len, phieu_omr_strokes **out,
                         phieu_error *err)
{
    phieu_omr_strokes *head = phieu_malloc(sizeof *head);
    if (!head)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading a page's strokes");
    size_t samples = 0;
    if (read_counts(raw, raw_len, head, &samples, err) != 0) {
        phieu_free(head);
        return err->code;
    }
    phieu_omr_strokes *s = phieu_malloc(sizeof *s + sizeof(float) * samples);
    if (!s) {
        phieu_free(head);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading a page's strokes");
    }
    memcpy(s, head, sizeof *head);
    phieu_free(head);
    const uint8_t *p = raw + raw_len - samples;
    float *next = s->data;
    for (int i = 0; i < s->n_boxes + s->n_rings; i++) {
        stroke_box *b = i < s->n_boxes ? &s->boxes[i] : &s->rings[i - s->n_boxes];
        b->v = next;
        for (size_t k = 0, n = window_samples(b); k < n; k++)
            *next++ = *p++;
    }
    *out = s;
    return 0;
}

int phieu_omr_strokes_decode(const uint8_t *data, size_t len, phieu_omr_strokes **out,
                             phieu_error *err)
{
    *out = NULL;
    if (!data || len < STORE_HEAD || memcmp(data, STORE_MAGIC, 4) != 0)
        return damaged(err, "not a strokes record");
    size_t raw_len = get_u32(data + 4);
    if (raw_len > STORE_MAX_PAYLOAD)
        return damaged(err, "impossible length");
    uint8_t *raw = phieu_malloc(raw_len ? raw_len : 1);
    if (!raw)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading a page's strokes");
    uLongf got = (uLongf)raw_len;
    int zrc = uncompress(raw, &got, data + STORE_HEAD, (uLong)(len - STORE_HEAD));
    int rc = zrc != Z_OK || got != raw_len ? damaged(err, "it does not unpack")
                                           : build_strokes(raw, raw_len, out, err);
    phieu_free(raw);
    return rc;
}
