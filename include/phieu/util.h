/*
 * util.h - small shared helpers: SHA-256 (libsodium), durable file writes, text buffers.
 *
 * Contract: functions follow the house rules (0 or PHIEU_E..., caller-owned error).
 * phieu_util_init() must be called once before hashing (it initialises libsodium; calling
 * it again is harmless). Thread safety: all functions are reentrant.
 */
#ifndef PHIEU_UTIL_H
#define PHIEU_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"

#define PHIEU_SHA256_BYTES 32
#define PHIEU_SHA256_HEX 65 /* 64 hex digits and the NUL */

int phieu_util_init(phieu_error *err);

/* SHA-256 of data, as bytes and as lowercase hex. */
void phieu_sha256(const void *data, size_t len, uint8_t out[PHIEU_SHA256_BYTES]);
void phieu_sha256_hex(const void *data, size_t len, char out[PHIEU_SHA256_HEX]);
void phieu_hex(const uint8_t *bytes, size_t len, char *out /* 2*len+1 */);
/* The inverse of phieu_hex: exactly 2*out_len hex digits (either case) into out. 0, or
 * PHIEU_EFORMAT saying what is wrong (err may be NULL); out is then partly written. */
int phieu_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len,
                     phieu_error *err);

/* SHA-256 of a whole file, streamed. */
int phieu_sha256_file(const char *path, char out[PHIEU_SHA256_HEX], phieu_error *err);

/* Copies the regular file src to dst (created or truncated, mode 0644) in chunks, hashing
 * the bytes as they pass (SHA-256, hex into sha_hex), then fsyncs dst. The file is never
 * held whole in memory: a 76 MB scan costs one chunk. Refuses a file larger than max_bytes
 * (PHIEU_ELIMIT) and a source that cannot be read (PHIEU_EIO, naming src); on any error
 * dst is removed. *len (may be NULL) gets the bytes copied. */
int phieu_copy_file_hashed(const char *src, const char *dst, uint64_t max_bytes,
                           char sha_hex[PHIEU_SHA256_HEX], uint64_t *len, phieu_error *err);

/* Renames a complete, synced file into place and fsyncs the folder: after success the
 * name survives a crash. On failure `from` is removed. */
int phieu_rename_durable(const char *from, const char *to, phieu_error *err);

/* Reads a whole file into a new NUL-terminated buffer (caller frees with phieu_free).
 * Refuses files larger than max_bytes with PHIEU_ELIMIT. */
int phieu_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                    phieu_error *err);

/* Writes data to path durably: a temporary file beside it, fsync, rename over path, fsync
 * of the folder. After success the file survives a crash; after failure path is untouched
 * and no temporary file is left. */
int phieu_write_file_durable(const char *path, const void *data, size_t len, phieu_error *err);

/* mkdir -p with mode 0755; an existing folder is fine. */
int phieu_mkdir_p(const char *path, phieu_error *err);

/* A growable byte buffer for building text (JSON, CSV, HTML). */
typedef struct phieu_buf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    int failed; /* set once an append ran out of memory; later appends do nothing */
} phieu_buf;

void phieu_buf_init(phieu_buf *b);
void phieu_buf_release(phieu_buf *b);
void phieu_buf_append(phieu_buf *b, const void *data, size_t len);
void phieu_buf_puts(phieu_buf *b, const char *s);
void phieu_buf_printf(phieu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s as a JSON string, quotes included: '"' and '\\' take a backslash, bytes below
 * 0x20 become \u00XX, every other byte (UTF-8 included) is copied as it is. NULL is
 * written as "". The one escaper of the program: every JSON phieu writes without jansson
 * goes through it. */
void phieu_buf_json_string(phieu_buf *b, const char *s);

/* ---- Text as a person reads it (src/util/text.c) ---- */

/* The code point at *p, advancing *p past it; -1 (and *p unchanged) on invalid UTF-8
 * (overlong forms, surrogates and values past U+10FFFF included). */
long phieu_utf8_next(const unsigned char **p);
/* The lower case of a Latin letter, Vietnamese included (A-Z, Latin-1, Latin Extended-A,
 * Ơ, Ư and U+1E00..U+1EFF); any other code point unchanged. */
long phieu_latin_lower(long c);
/* The form two names are compared by when a person typed one and another printed the
 * other: lower case (Vietnamese letters included), Vietnamese vowels decomposed (Unicode
 * NFD) with their marks in canonical order, so that precomposed and decomposed typing
 * agree, runs of white space (space, tab, line ends, no-break space) as one space and none
 * at either end. "HỘI ĐỒNG  NHÂN DÂN" and "Hội đồng nhân dân" fold alike. Abbreviations
 * are not expanded ("HĐND" stays "hđnd"). *out is a new string (phieu_free). PHIEU_EINVAL
 * when s is not UTF-8, PHIEU_ENOMEM. */
int phieu_text_fold(const char *s, char **out, phieu_error *err);
/* *same = 1 when a and b fold alike (phieu_text_fold), else 0. */
int phieu_text_same(const char *a, const char *b, int *same, phieu_error *err);

#endif
