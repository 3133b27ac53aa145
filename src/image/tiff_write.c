/*
 * tiff_write.c - lossless TIFF output (libtiff): one 8-bit gray page, Deflate, resolution
 * in dots per inch when known. The file is built in memory through libtiff's client I/O
 * and then written with every result checked, so a full disk is reported plainly.
 * No multi-page writing; reading TIFF is in tiff_read.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tiffio.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

/* libtiff cannot choose zlib's run-length strategy (see png_write.c), so speed comes from
 * the level: on a noisy 300 dpi A4 page, level 1 without a predictor took 0.15 s for
 * 3.2 MB, level 6 about 1 s for 3.0 MB; the horizontal predictor made files larger (it
 * turns scanner noise into more entropy). */
#define TIFF_ZIP_LEVEL 1
#define TIFF_PREDICTOR PREDICTOR_NONE

typedef struct {
    uint8_t *data;
    uint64_t len, cap, pos;
    int oom;
    int failed;
    char msg[PHIEU_IMAGE_CODEC_MSG_MAX];
} mem_file;

static tmsize_t mf_read(thandle_t h, void *buf, tmsize_t size)
{
    mem_file *m = h;
    if (size <= 0 || m->pos >= m->len)
        return 0;
    uint64_t n = (uint64_t)size < m->len - m->pos ? (uint64_t)size : m->len - m->pos;
    memcpy(buf, m->data + m->pos, (size_t)n);
    m->pos += n;
    return (tmsize_t)n;
}

static tmsize_t mf_write(thandle_t h, void *buf, tmsize_t size)
{
    mem_file *m = h;
    if (size < 0)
        return -1;
    uint64_t end = m->pos + (uint64_t)size;
    if (end > m->cap) {
        uint64_t cap = m->cap ? m->cap : 65536;
        while (cap < end)
            cap *= 2;
        if (cap > SIZE_MAX)
            return -1;
        uint8_t *grown = phieu_realloc(m->data, (size_t)cap);
        if (!grown) {
            m->oom = 1;
            return -1;
        }
        m->data = grown;
        m->cap = cap;
    }
    if (m->pos > m->len)
        memset(m->data + m->len, 0, (size_t)(m->pos - m->len));
    memcpy(m->data + m->pos, buf, (size_t)size);
    m->pos = end;
    if (end > m->len)
        m->len = end;
    return size;
}

static toff_t mf_seek(thandle_t h, toff_t off, int whence)
{
    mem_file *m = h;
    uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;
    m->pos = base + off;
    return m->pos;
}

static int mf_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t mf_size(thandle_t h)
{
    return ((mem_file *)h)->len;
}

static int mf_map(thandle_t h, void **base, toff_t *size)
{
    (void)h;
    (void)base;
    (void)size;
    return 0;
}

static void mf_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h;
    (void)base;
    (void)size;
}

static int mf_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)module;
    mem_file *m = user;
    vsnprintf(m->msg, sizeof m->msg, fmt, ap);
    m->failed = 1;
    return 1;
}

static int mf_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

/* Builds the TIFF in m; returns 0 or -1 (with m->msg / m->oom saying why). */
static int build(const phieu_image *img, mem_file *m)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) {
        m->oom = 1;
        return -1;
    }
    TIFFOpenOptionsSetErrorHandlerExtR(opts, mf_error, m);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, mf_warning, m);
    TIFF *tif = TIFFClientOpenExt("(memory)", "w", (thandle_t)m, mf_read, mf_write, mf_seek,
                                  mf_close, mf_size, mf_map, mf_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (!tif)
        return -1;
    int ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width) &&
             TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height) &&
             TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8) &&
             TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1) &&
             TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) &&
             TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
             TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
             TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
             TIFFSetField(tif, TIFFTAG_ZIPQUALITY, TIFF_ZIP_LEVEL) &&
             TIFFSetField(tif, TIFFTAG_PREDICTOR, TIFF_PREDICTOR);
    if (ok && img->dpi_x > 0 && img->dpi_y > 0)
        ok = TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)img->dpi_x) &&
             TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)img->dpi_y) &&
             TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    uint32_t rps = ok ? TIFFDefaultStripSize(tif, 0) : 1;
    if (rps == 0 || rps > (uint32_t)img->height)
        rps = (uint32_t)img->height;
    ok = ok && TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rps);
    /* libtiff's codecs may work in place (the predictor does), so strips are copied out
     * of the image first. */
    uint8_t *strip = ok ? phieu_malloc((size_t)img->width * rps) : NULL;
    if (ok && !strip) {
        m->oom = 1;
        ok = 0;
    }
    for (uint32_t s = 0, y0 = 0; ok && y0 < (uint32_t)img->height; s++, y0 += rps) {
        uint32_t rows = (uint32_t)img->height - y0 < rps ? (uint32_t)img->height - y0 : rps;
        for (uint32_t y = 0; y < rows; y++)
            memcpy(strip + (size_t)y * (size_t)img->width,
                   img->pixels + (size_t)(y0 + y) * (size_t)img->stride, (size_t)img->width);
        if (TIFFWriteEncodedStrip(tif, s, strip, (tmsize_t)img->width * rows) < 0)
            ok = 0;
    }
    phieu_free(strip);
    if (ok && !TIFFFlush(tif))
        ok = 0;
    TIFFClose(tif);
    return ok && !m->failed && !m->oom ? 0 : -1;
}

int phieu_image_save_tiff(const phieu_image *img, const char *path, phieu_error *err)
{
    if (!img || !img->pixels || img->width <= 0 || img->height <= 0 || !path)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot save an empty image");
    mem_file m;
    memset(&m, 0, sizeof m);
    int rc = build(img, &m);
    if (rc != 0) {
        phieu_free(m.data);
        if (m.oom)
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory encoding '%s' as TIFF", path);
        return phieu_error_set(err, PHIEU_EFORMAT, "cannot encode '%s' as TIFF: %s", path,
                               m.msg[0] ? m.msg : "libtiff failed");
    }
    rc = phieu_image_write_bytes(path, m.data, (size_t)m.len, err);
    phieu_free(m.data);
    return rc;
}
