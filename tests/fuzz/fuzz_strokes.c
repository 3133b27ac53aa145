/*
 * fuzz_strokes.c - libFuzzer target for the strokes a session file stores with each sheet
 * of little ink (phieu_omr_strokes_decode): a session file may be damaged or altered, and
 * a later page is compared with what it holds. The first byte chooses how the rest is
 * used: as the stored record itself, or (odd) as the record's unpacked payload, which is
 * then packed as phieu stores it, so that the checks behind zlib's are reached too. Any
 * bytes must decode to strokes or give an error, never crash; strokes that decode compare
 * with themselves, and encode again to a record that decodes to the same comparison.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "phieu/alloc.h"
#include "phieu/omr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "PST1", the payload's length (u32 little-endian), the payload packed. */
static uint8_t *pack(const uint8_t *payload, size_t n, size_t *len)
{
    uLong bound = compressBound((uLong)n);
    uint8_t *out = malloc(8 + bound);
    if (!out)
        abort();
    memcpy(out, "PST1", 4);
    for (int k = 0; k < 4; k++)
        out[4 + k] = (uint8_t)(n >> (8 * k));
    uLongf packed = bound;
    if (compress2(out + 8, &packed, payload, (uLong)n, 1) != Z_OK)
        abort();
    *len = 8 + packed;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    uint8_t *record = NULL;
    const uint8_t *bytes = data + 1;
    if (data[0] & 1) {
        record = pack(data + 1, size - 1, &len);
        bytes = record;
    }
    phieu_error err = {0};
    phieu_omr_strokes *s = NULL, *again = NULL;
    if (phieu_omr_strokes_decode(bytes, len, &s, &err) == 0) {
        double self = phieu_omr_stroke_similarity(s, s);
        uint8_t *enc = NULL;
        size_t enc_len = 0;
        if (phieu_omr_strokes_encode(s, &enc, &enc_len, &err) != 0 ||
            phieu_omr_strokes_decode(enc, enc_len, &again, &err) != 0)
            abort(); /* what was read must be storable and readable again */
        if (phieu_omr_stroke_similarity(again, again) != self ||
            phieu_omr_stroke_similarity(s, again) != self)
            abort();
        phieu_free(enc);
    } else if (s) {
        abort(); /* an error leaves nothing behind */
    }
    phieu_omr_strokes_destroy(&s);
    phieu_omr_strokes_destroy(&again);
    free(record);
    return 0;
}
