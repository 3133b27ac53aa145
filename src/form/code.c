/*
 * code.c - the machine-readable form code printed along the bottom of every ballot:
 * 40 bits of the form's fingerprint, 8 bits of flags, a CRC-16 over both.
 * Only bits here; where the cells are printed is layout.c, reading them is src/omr/.
 *
 * Functions: phieu_form_code_bits, phieu_form_code_decode, phieu_form_code_matches.
 */
#include <string.h>

#include "phieu/form.h"

/* CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final
 * xor (check value 0x29B1 for "123456789"). It detects every error of 1-3 bits and every
 * burst up to 16 bits in a 48-bit message. */
#define CRC_POLY 0x1021
#define CRC_INIT 0xFFFF
#define CODE_DATA_BYTES 6 /* 5 fingerprint bytes and the flags byte */

static uint16_t crc16_ccitt_false(const uint8_t *data, size_t len)
{
    uint16_t crc = CRC_INIT;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(data[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ CRC_POLY) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* Where bit i sits in its byte. The fingerprint and the CRC are written most significant
 * bit first; the flags byte least significant bit first, so that flag 0x01 (test ballot)
 * is bit 40, the first cell after the fingerprint, as form.h specifies. */
static int bit_shift(int i)
{
    return i / 8 == 5 ? i % 8 : 7 - i % 8;
}

void phieu_form_code_bits(const phieu_form *form, int test_ballot,
                          uint8_t bits[PHIEU_FORM_CODE_BITS])
{
    uint8_t bytes[CODE_DATA_BYTES + 2];
    memcpy(bytes, form->fingerprint, 5);
    bytes[5] = test_ballot ? PHIEU_FORM_CODE_FLAG_TEST : 0;
    uint16_t crc = crc16_ccitt_false(bytes, CODE_DATA_BYTES);
    bytes[6] = (uint8_t)(crc >> 8);
    bytes[7] = (uint8_t)(crc & 0xFF);
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++)
        bits[i] = (uint8_t)((bytes[i / 8] >> bit_shift(i)) & 1);
}

int phieu_form_code_decode(const uint8_t bits[PHIEU_FORM_CODE_BITS], phieu_form_code *out,
                           phieu_error *err)
{
    uint8_t bytes[CODE_DATA_BYTES + 2] = {0};
    for (int i = 0; i < PHIEU_FORM_CODE_BITS; i++) {
        if (bits[i] > 1)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "form code bit %d is %d; bits must be 0 or 1", i, bits[i]);
        bytes[i / 8] = (uint8_t)(bytes[i / 8] | (bits[i] << bit_shift(i)));
    }
    uint16_t crc = crc16_ccitt_false(bytes, CODE_DATA_BYTES);
    uint16_t stored = (uint16_t)((bytes[6] << 8) | bytes[7]);
    if (crc != stored)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "form code checksum mismatch (read %04x, expected %04x); the "
                               "code is damaged or misread: check the bottom edge of the page",
                               stored, crc);
    if (bytes[5] & ~PHIEU_FORM_CODE_FLAG_TEST)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "form code has unknown flags %02x; the ballot was printed by "
                               "another version of phieu or is not a phieu ballot",
                               bytes[5]);
    if (out) {
        memcpy(out->fingerprint_prefix, bytes, 5);
        out->flags = bytes[5];
    }
    return 0;
}

int phieu_form_code_matches(const phieu_form_code *code, const phieu_form *form)
{
    if (!code || !form)
        return 0;
    return memcmp(code->fingerprint_prefix, form->fingerprint, 5) == 0;
}
