/*
 * tiff_read.c - decodes the pages (directories) of a TIFF held in memory into 8-bit gray
 * (or RGB, for showing a page) through libtiff's client I/O: 1/2/4/8/16-bit gray, palette,
 * gray+alpha, RGB/RGBA (8 and 16 bit), JPEG YCbCr, strips and tiles, every compression
 * this libtiff was built with. Anything else goes through TIFFRGBAImage as a fallback.
 * libtiff's messages are captured per file (TIFFOpenOptions), never printed. Writing TIFF
 * is in tiff_write.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tiffio.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

/* The largest single allocation libtiff may make for one page: a whole 16-bit RGBA page
 * (8 bytes a pixel) as one strip, plus 1 MiB for tables. */
#define TIFF_BYTES_PER_PIXEL_MAX 8
#define TIFF_TABLE_SLACK ((uint64_t)1 << 20)

/* A strip larger than this is decoded a row at a time into a one-row buffer instead of
 * whole: a 600 dpi 1-bit page stored as one Group 4 strip (as scanners and gen_samples
 * write it) needed a 4.5 MB buffer beside its 35 MB page; an 8-bit page in one strip would
 * need a second copy of the page. Strips of 64 rows (300 KB at 600 dpi) stay whole. */
#define STRIP_BUFFER_MAX ((uint64_t)1 << 20)

/* Rows decoded at a time by the TIFFRGBAImage fallback (bounds its buffer). */
#define RGBA_BAND_ROWS 64

/* One centimetre is 1/2.54 inch. */
#define CM_PER_INCH 2.54

/* ---- client I/O over the reader's bytes ---- */

static tmsize_t io_read(thandle_t h, void *buf, tmsize_t size)
{
    phieu_image_reader *r = h;
    if (size <= 0 || r->tiff_pos >= r->len)
        return 0;
    uint64_t n = (uint64_t)size;
    if (n > r->len - r->tiff_pos)
        n = r->len - r->tiff_pos;
    memcpy(buf, r->data + r->tiff_pos, (size_t)n);
    r->tiff_pos += n;
    return (tmsize_t)n;
}

static tmsize_t io_write(thandle_t h, void *buf, tmsize_t size)
{
    (void)h;
    (void)buf;
    (void)size;
    return 0; /* read-only */
}

static toff_t io_seek(thandle_t h, toff_t off, int whence)
{
    phieu_image_reader *r = h;
    uint64_t base = whence == SEEK_CUR ? r->tiff_pos : whence == SEEK_END ? r->len : 0;
    if (off > UINT64_MAX - base)
        return (toff_t)-1;
    r->tiff_pos = base + off;
    return r->tiff_pos;
}

static int io_close(thandle_t h)
{
    (void)h;
    return 0;
}

static toff_t io_size(thandle_t h)
{
    return ((phieu_image_reader *)h)->len;
}

static int io_map(thandle_t h, void **base, toff_t *size)
{
    phieu_image_reader *r = h;
    *base = (void *)(uintptr_t)r->data; /* libtiff only reads a mapping opened "r" */
    *size = r->len;
    return 1;
}

static void io_unmap(thandle_t h, void *base, toff_t size)
{
    (void)h;
    (void)base;
    (void)size;
}

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    phieu_image_reader *r = user;
    size_t used = 0;
    if (module && *module) {
        int n = snprintf(r->codec_msg, sizeof r->codec_msg, "%.60s: ", module);
        used = n > 0 ? (size_t)n : 0;
    }
    vsnprintf(r->codec_msg + used, sizeof r->codec_msg - used, fmt, ap);
    return 1; /* handled: libtiff must not print */
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1; /* a warning does not stop the page; nothing is printed */
}

static const char *codec_msg(const phieu_image_reader *r)
{
    return r->codec_msg[0] ? r->codec_msg : "no detail from libtiff";
}

static int format_error(phieu_image_reader *r, phieu_error *err, const char *problem)
{
    return phieu_error_set(err, PHIEU_EFORMAT, "cannot read '%s' page %d: %s (%s)", r->name,
                           r->pages_done + 1, problem, codec_msg(r));
}

int phieu_image_tiff_open(phieu_image_reader *r, phieu_error *err)
{
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening '%s'", r->name);
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, r);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, r);
    uint64_t max_alloc = r->limits.max_pixels * TIFF_BYTES_PER_PIXEL_MAX + TIFF_TABLE_SLACK;
    if (max_alloc > (uint64_t)INT64_MAX / 2)
        max_alloc = (uint64_t)INT64_MAX / 2;
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)max_alloc);
    r->tiff_pos = 0;
    r->codec_msg[0] = '\0';
    r->tif = TIFFClientOpenExt(r->name, "r", (thandle_t)r, io_read, io_write, io_seek, io_close,
                               io_size, io_map, io_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (!r->tif)
        return format_error(r, err, "the TIFF header or first directory is damaged");
    return 0;
}

void phieu_image_tiff_close(phieu_image_reader *r)
{
    if (r->tif) {
        TIFFClose(r->tif);
        r->tif = NULL;
    }
}

/* ---- sample conversion ---- */

typedef enum {
    CONV_GRAY_LOW, /* 1, 2 or 4 bits through levels[] */
    CONV_GRAY8,    /* 8 bits through levels[] (identity or inverse) */
    CONV_GRAY16,   /* 16 bits, high byte through levels[] */
    CONV_RGB,      /* 3 or more samples: R, G, B, maybe alpha; 8 or 16 bits */
    CONV_GRAYA,    /* gray then alpha; 8 or 16 bits */
} conv_kind;

typedef enum { ALPHA_NONE, ALPHA_STRAIGHT, ALPHA_PREMUL } alpha_kind;

typedef struct {
    conv_kind kind;
    int bps, spp;
    alpha_kind alpha;
    int palette;           /* levels[] came from a colormap */
    int colour;            /* the page holds colour (RGB, or a colormap with a colour) */
    uint8_t levels[256];   /* sample value (high byte for 16 bit) -> gray */
    uint8_t bits1[256][8]; /* 1-bit: a byte of 8 pixels -> 8 gray values */
    uint8_t rgb[256][3];   /* for a colour page: what levels[] gives -> R, G, B
                              (conv_for_rgb) */
} conv;

static void conv_set_levels_gray(conv *c, int min_is_white)
{
    int maxv = c->bps >= 8 ? 255 : (1 << c->bps) - 1;
    for (int v = 0; v <= maxv; v++) {
        int g = (v * 255 + maxv / 2) / maxv;
        c->levels[v] = (uint8_t)(min_is_white ? 255 - g : g);
    }
}

static void conv_set_bits1(conv *c)
{
    for (int b = 0; b < 256; b++)
        for (int i = 0; i < 8; i++)
            c->bits1[b][i] = c->levels[(b >> (7 - i)) & 1];
}

static inline unsigned sample(const uint8_t *p, int bps, int i)
{
    return bps == 16 ? (unsigned)(((const uint16_t *)(const void *)p)[i] >> 8) : p[i];
}

static inline uint8_t with_alpha(uint8_t g, unsigned a, alpha_kind alpha)
{
    if (alpha == ALPHA_STRAIGHT)
        return phieu_image_on_white(g, a);
    if (alpha == ALPHA_PREMUL)
        return phieu_image_on_white_premul(g, a);
    return g;
}

/* Converts n pixels of one decoded row (starting at bit 0 of in) to gray. */
static void convert_row(const conv *c, const uint8_t *in, int n, uint8_t *out)
{
    switch (c->kind) {
    case CONV_GRAY_LOW:
        if (c->bps == 1) {
            int x = 0;
            for (; x + 8 <= n; x += 8)
                memcpy(out + x, c->bits1[in[x >> 3]], 8);
            for (; x < n; x++)
                out[x] = c->bits1[in[x >> 3]][x & 7];
        } else {
            int per = 8 / c->bps, mask = (1 << c->bps) - 1;
            for (int x = 0; x < n; x++) {
                int shift = 8 - c->bps * (x % per + 1);
                out[x] = c->levels[(in[x / per] >> shift) & mask];
            }
        }
        break;
    case CONV_GRAY8:
        for (int x = 0; x < n; x++)
            out[x] = c->levels[in[x]];
        break;
    case CONV_GRAY16: {
        const uint16_t *s = (const uint16_t *)(const void *)in;
        for (int x = 0; x < n; x++)
            out[x] = c->levels[s[x] >> 8];
        break;
    }
    case CONV_GRAYA:
        for (int x = 0; x < n; x++) {
            int i = x * c->spp;
            out[x] =
                with_alpha(c->levels[sample(in, c->bps, i)], sample(in, c->bps, i + 1), c->alpha);
        }
        break;
    case CONV_RGB:
        for (int x = 0; x < n; x++) {
            int i = x * c->spp;
            uint8_t g = phieu_image_rgb_gray(sample(in, c->bps, i), sample(in, c->bps, i + 1),
                                         sample(in, c->bps, i + 2));
            out[x] =
                c->alpha == ALPHA_NONE ? g : with_alpha(g, sample(in, c->bps, i + 3), c->alpha);
        }
        break;
    }
}

/* Converts n pixels of one decoded row to R, G, B (conv_for_rgb has set c up): RGB samples
 * directly, anything else through convert_row into the last n bytes of `out`, then each
 * value through rgb[] from the front (pixel x is read at 2n + x before its three bytes at
 * 3x..3x+2 <= 2n + x are written). */
static void convert_row_rgb(const conv *c, const uint8_t *in, int n, uint8_t *out)
{
    if (c->kind != CONV_RGB) {
        uint8_t *idx = out + 2 * (size_t)n;
        convert_row(c, in, n, idx);
        for (int x = 0; x < n; x++)
            memcpy(out + 3 * (size_t)x, c->rgb[idx[x]], 3);
        return;
    }
    for (int x = 0; x < n; x++, out += 3) {
        int i = x * c->spp;
        unsigned a = c->alpha == ALPHA_NONE ? 255 : sample(in, c->bps, i + 3);
        for (int k = 0; k < 3; k++) {
            unsigned v = sample(in, c->bps, i + k);
            out[k] = c->alpha == ALPHA_NONE ? (uint8_t)v : with_alpha((uint8_t)v, a, c->alpha);
        }
    }
}

/* Sets c up for colour rows: a colormap's indexes become levels[] (identity) and its
 * entries rgb[]; any other gray value v becomes (v, v, v). */
static void conv_for_rgb(conv *c)
{
    for (int v = 0; v < 256; v++) {
        if (c->palette) {
            c->levels[v] = (uint8_t)v; /* rgb[] holds the colormap */
        } else {
            c->rgb[v][0] = c->rgb[v][1] = c->rgb[v][2] = (uint8_t)v;
        }
    }
    if (c->palette && c->bps == 1)
        conv_set_bits1(c);
}

/* Converts row y of the page (from column x0, n pixels) from decoded samples. */
static inline void emit_row(const conv *c, const phieu_image_out *o, const uint8_t *in, uint32_t y,
                            uint32_t x0, int n)
{
    uint8_t *row = phieu_image_out_row(o, y) + (size_t)x0 * (size_t)o->channels;
    if (o->channels == 1)
        convert_row(c, in, n, row);
    else
        convert_row_rgb(c, in, n, row);
}

/* The alpha kind of the first extra sample, if any. */
static alpha_kind extra_alpha(TIFF *tif, int extra)
{
    uint16_t count = 0;
    uint16_t *types = NULL;
    if (extra <= 0 || !TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &count, &types) || count < 1 ||
        !types)
        return ALPHA_NONE;
    if (types[0] == EXTRASAMPLE_ASSOCALPHA)
        return ALPHA_PREMUL;
    if (types[0] == EXTRASAMPLE_UNASSALPHA)
        return ALPHA_STRAIGHT;
    return ALPHA_NONE; /* an unspecified extra sample is not transparency */
}

/* Sets up c for a palette image, whose colormap becomes c's gray levels; returns 0 when
 * the direct path can read it, 1 when the TIFFRGBAImage fallback must. */
static int conv_setup_palette(TIFF *tif, conv *c, uint16_t bps, uint16_t spp)
{
    uint16_t *rm = NULL, *gm = NULL, *bm = NULL;
    if (spp != 1 || bps > 8 || (bps != 1 && bps != 2 && bps != 4 && bps != 8) ||
        !TIFFGetField(tif, TIFFTAG_COLORMAP, &rm, &gm, &bm) || !rm || !gm || !bm)
        return 1;
    int n = 1 << bps, shift = 0;
    for (int i = 0; i < n; i++) /* some old writers store 8-bit colormaps */
        if (rm[i] >= 256 || gm[i] >= 256 || bm[i] >= 256)
            shift = 8;
    for (int i = 0; i < n; i++) {
        unsigned cr = rm[i] >> shift, cg = gm[i] >> shift, cb = bm[i] >> shift;
        c->levels[i] = phieu_image_rgb_gray(cr, cg, cb);
        c->rgb[i][0] = (uint8_t)cr;
        c->rgb[i][1] = (uint8_t)cg;
        c->rgb[i][2] = (uint8_t)cb;
        c->colour |= cr != cg || cg != cb;
    }
    c->palette = 1;
    c->kind = bps == 8 ? CONV_GRAY8 : CONV_GRAY_LOW;
    if (bps == 1)
        conv_set_bits1(c);
    return 0;
}

/* Sets up c for the directory's sample layout; returns 0 when the direct path can read it,
 * 1 when the TIFFRGBAImage fallback must. */
static int conv_setup(TIFF *tif, conv *c)
{
    uint16_t bps = 1, spp = 1, photometric = 0, planar = PLANARCONFIG_CONTIG, comp = 1;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
        photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    memset(c, 0, sizeof *c);
    c->bps = bps;
    c->spp = spp;
    /* Beyond RGBA there is nothing phieu needs, and a bound on samples bounds the strip
     * buffer (TIFF_BYTES_PER_PIXEL_MAX). */
    if ((planar != PLANARCONFIG_CONTIG && spp > 1) || spp > 4)
        return 1;
    if (photometric == PHOTOMETRIC_YCBCR && comp == COMPRESSION_JPEG) {
        /* libjpeg converts to RGB for us. */
        if (!TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB))
            return 1;
        photometric = PHOTOMETRIC_RGB;
    }
    int extra = spp;
    if (photometric == PHOTOMETRIC_MINISWHITE || photometric == PHOTOMETRIC_MINISBLACK) {
        if (bps != 1 && bps != 2 && bps != 4 && bps != 8 && bps != 16)
            return 1;
        int min_is_white = photometric == PHOTOMETRIC_MINISWHITE;
        c->bps = bps >= 8 ? 8 : bps; /* levels[] is indexed by 8-bit values for 16 bit */
        conv_set_levels_gray(c, min_is_white);
        c->bps = bps;
        if (spp == 1) {
            c->kind = bps < 8 ? CONV_GRAY_LOW : bps == 8 ? CONV_GRAY8 : CONV_GRAY16;
            if (bps == 1)
                conv_set_bits1(c);
            return 0;
        }
        if (bps < 8)
            return 1;
        c->kind = CONV_GRAYA;
        extra = spp - 1;
    } else if (photometric == PHOTOMETRIC_PALETTE) {
        return conv_setup_palette(tif, c, bps, spp);
    } else if (photometric == PHOTOMETRIC_RGB) {
        if ((bps != 8 && bps != 16) || spp < 3)
            return 1;
        c->kind = CONV_RGB;
        c->colour = 1;
        extra = spp - 3;
    } else {
        return 1;
    }
    c->alpha = extra_alpha(tif, extra);
    if (c->kind == CONV_GRAYA)
        for (int v = 0; v < 256; v++) /* alpha needs 8-bit levels */
            c->levels[v] = photometric == PHOTOMETRIC_MINISWHITE ? (uint8_t)(255 - v) : (uint8_t)v;
    return 0;
}

/* ---- page decoding ---- */

/* The strip path of read_strips for strips larger than STRIP_BUFFER_MAX: libtiff decodes
 * one row at a time (every codec but JPEG decodes rows; JPEG keeps whole strips), into a
 * buffer of one row. The same pixels as a whole strip, without the strip's buffer. */
static int read_rows(phieu_image_reader *r, TIFF *tif, const conv *c, const phieu_image_out *o,
                     uint64_t rowsize, phieu_error *err)
{
    uint8_t *buf = phieu_malloc((size_t)rowsize);
    if (!buf)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s' page %d", r->name,
                               r->pages_done + 1);
    int rc = 0;
    uint32_t strip = 0;
    for (uint32_t y = 0; y < (uint32_t)o->height; y++) {
        if (TIFFReadScanline(tif, buf, y, 0) < 0) {
            char what[96];
            snprintf(what, sizeof what,
                     "row %u of %d cannot be decoded; the file is damaged or truncated", y + 1,
                     o->height);
            rc = format_error(r, err, what);
            break;
        }
        emit_row(c, o, buf, y, 0, o->width);
        uint32_t now = TIFFComputeStrip(tif, y, 0);
        if (now != strip) { /* the strips before are done with, as in read_strips */
            phieu_image_reader_consumed(r, (size_t)(TIFFGetStrileOffset(tif, strip) +
                                                    TIFFGetStrileByteCount(tif, strip)));
            strip = now;
        }
    }
    phieu_free(buf);
    return rc;
}

static int read_strips(phieu_image_reader *r, TIFF *tif, const conv *c, const phieu_image_out *o,
                       phieu_error *err)
{
    uint32_t rps = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps == 0 || rps > (uint32_t)o->height)
        rps = (uint32_t)o->height;
    uint64_t rowsize = (uint64_t)TIFFScanlineSize64(tif);
    uint64_t want = ((uint64_t)o->width * (uint64_t)c->bps * (uint64_t)c->spp + 7) / 8;
    if (rowsize != want)
        return format_error(r, err, "its rows are not the size the header implies");
    uint64_t bufsize = rowsize * rps;
    uint16_t comp = COMPRESSION_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    if (bufsize > STRIP_BUFFER_MAX && comp != COMPRESSION_JPEG && comp != COMPRESSION_OJPEG)
        return read_rows(r, tif, c, o, rowsize, err);
    uint8_t *buf = phieu_malloc((size_t)bufsize);
    if (!buf)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s' page %d", r->name,
                               r->pages_done + 1);
    int rc = 0;
    uint32_t nstrips = (uint32_t)(((uint64_t)o->height + rps - 1) / rps);
    for (uint32_t s = 0; s < nstrips && rc == 0; s++) {
        uint32_t y0 = s * rps;
        uint32_t rows = (uint32_t)o->height - y0 < rps ? (uint32_t)o->height - y0 : rps;
        tmsize_t expect = (tmsize_t)(rowsize * rows);
        tmsize_t got = TIFFReadEncodedStrip(tif, s, buf, expect);
        if (got < expect) {
            char what[96];
            snprintf(what, sizeof what,
                     "strip %u of %u cannot be decoded; the file is "
                     "damaged or truncated",
                     s + 1, nstrips);
            rc = format_error(r, err, what);
            break;
        }
        for (uint32_t y = 0; y < rows; y++)
            emit_row(c, o, buf + rowsize * y, y0 + y, 0, o->width);
        /* The mapped file up to this strip is not needed again (strips are written in
         * order; should anything look back, the pages are read again from the file): a
         * 20 MB file no longer stays resident beside its 35 MB page. */
        phieu_image_reader_consumed(r, (size_t)(TIFFGetStrileOffset(tif, s) +
                                                TIFFGetStrileByteCount(tif, s)));
    }
    phieu_free(buf);
    return rc;
}

static int read_tiles(phieu_image_reader *r, TIFF *tif, const conv *c, const phieu_image_out *o,
                      phieu_error *err)
{
    uint32_t tw = 0, th = 0;
    if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &th) ||
        tw == 0 || th == 0)
        return format_error(r, err, "its tile size is missing");
    if ((uint64_t)tw * th > r->limits.max_pixels)
        return phieu_error_set(err, PHIEU_ELIMIT,
                               "cannot read '%s' page %d: its tiles are %ux%u pixels, more "
                               "than the limit of %llu pixels",
                               r->name, r->pages_done + 1, tw, th,
                               (unsigned long long)r->limits.max_pixels);
    uint64_t rowsize = (uint64_t)TIFFTileRowSize64(tif);
    uint64_t want = ((uint64_t)tw * (uint64_t)c->bps * (uint64_t)c->spp + 7) / 8;
    if (rowsize != want)
        return format_error(r, err, "its tile rows are not the size the header implies");
    uint64_t bufsize = rowsize * th;
    uint8_t *buf = phieu_malloc((size_t)bufsize);
    if (!buf)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s' page %d", r->name,
                               r->pages_done + 1);
    int rc = 0;
    for (uint32_t y0 = 0; y0 < (uint32_t)o->height && rc == 0; y0 += th) {
        uint32_t rows = (uint32_t)o->height - y0 < th ? (uint32_t)o->height - y0 : th;
        for (uint32_t x0 = 0; x0 < (uint32_t)o->width; x0 += tw) {
            uint32_t cols = (uint32_t)o->width - x0 < tw ? (uint32_t)o->width - x0 : tw;
            uint32_t t = TIFFComputeTile(tif, x0, y0, 0, 0);
            if (TIFFReadEncodedTile(tif, t, buf, (tmsize_t)bufsize) < (tmsize_t)bufsize) {
                char what[112];
                snprintf(what, sizeof what,
                         "the tile at (%u, %u) cannot be decoded; the "
                         "file is damaged or truncated",
                         x0, y0);
                rc = format_error(r, err, what);
                break;
            }
            for (uint32_t y = 0; y < rows; y++)
                emit_row(c, o, buf + rowsize * y, y0 + y, x0, (int)cols);
        }
    }
    phieu_free(buf);
    return rc;
}

/* Converts a row of TIFFRGBAImage's premultiplied pixels to row y of the page. */
static void rgba_row(const uint32_t *in, const phieu_image_out *o, uint32_t y)
{
    uint8_t *out = phieu_image_out_row(o, y);
    for (int x = 0; x < o->width; x++) {
        uint32_t p = in[x];
        unsigned a = TIFFGetA(p);
        if (o->channels == 1) {
            uint8_t g = phieu_image_rgb_gray(TIFFGetR(p), TIFFGetG(p), TIFFGetB(p));
            out[x] = phieu_image_on_white_premul(g, a);
        } else {
            out[3 * x] = phieu_image_on_white_premul(TIFFGetR(p), a);
            out[3 * x + 1] = phieu_image_on_white_premul(TIFFGetG(p), a);
            out[3 * x + 2] = phieu_image_on_white_premul(TIFFGetB(p), a);
        }
    }
}

/* The fallback for layouts the direct path does not handle (planar RGB, CMYK, YCbCr
 * without JPEG, old JPEG, ...): libtiff's RGBA conversion, a band of rows at a time. */
static int read_rgba(phieu_image_reader *r, TIFF *tif, const phieu_image_out *o, phieu_error *err)
{
    char emsg[1024] = "";
    if (!TIFFRGBAImageOK(tif, emsg)) {
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "cannot read '%s' page %d: this kind of TIFF is not "
                               "supported (%.200s); save it as gray or RGB",
                               r->name, r->pages_done + 1, emsg);
    }
    TIFFRGBAImage rgba;
    if (!TIFFRGBAImageBegin(&rgba, tif, 1, emsg))
        return format_error(r, err, "the image cannot be decoded");
    /* Rows as stored, like the direct path: apply_orientation turns the page afterwards
     * (libtiff's own turning does only flips, not the sideways orientations). */
    rgba.req_orientation = rgba.orientation;
    size_t band = RGBA_BAND_ROWS;
    uint32_t *buf = phieu_malloc((size_t)o->width * band * sizeof *buf);
    int rc = 0;
    if (!buf)
        rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s' page %d", r->name,
                             r->pages_done + 1);
    for (int y0 = 0; rc == 0 && y0 < o->height; y0 += (int)band) {
        int rows = o->height - y0 < (int)band ? o->height - y0 : (int)band;
        rgba.row_offset = y0;
        rgba.col_offset = 0;
        if (!TIFFRGBAImageGet(&rgba, buf, (uint32_t)o->width, (uint32_t)rows)) {
            rc = format_error(r, err,
                              "the image data cannot be decoded; the file is "
                              "damaged or truncated");
            break;
        }
        for (int y = 0; y < rows; y++)
            rgba_row(buf + (size_t)y * (size_t)o->width, o, (uint32_t)(y0 + y));
    }
    phieu_free(buf);
    TIFFRGBAImageEnd(&rgba);
    return rc;
}

static void read_resolution(TIFF *tif, phieu_image_out *o)
{
    float xres = 0, yres = 0;
    uint16_t unit = RESUNIT_INCH;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
    int has_x = TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres);
    int has_y = TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres);
    if (unit != RESUNIT_INCH && unit != RESUNIT_CENTIMETER)
        return; /* RESUNIT_NONE: only an aspect ratio, no size */
    double scale = unit == RESUNIT_CENTIMETER ? CM_PER_INCH : 1.0;
    double dpi_x = has_x ? phieu_image_snap_dpi(xres * scale) : 0;
    double dpi_y = has_y ? phieu_image_snap_dpi(yres * scale) : 0;
    if (!has_y)
        dpi_y = dpi_x;
    if (!has_x)
        dpi_x = dpi_y;
    phieu_image_out_set_dpi(o, dpi_x, dpi_y);
}

/* Where the pixel seen at (vx, vy) of a W x H raster turned by orientation o is stored
 * (Notes of apply_orientation). */
static inline void oriented_source(uint16_t o, int W, int H, int vx, int vy, int *sx, int *sy)
{
    switch (o) {
    case ORIENTATION_TOPRIGHT:
        *sx = W - 1 - vx, *sy = vy;
        break;
    case ORIENTATION_BOTRIGHT:
        *sx = W - 1 - vx, *sy = H - 1 - vy;
        break;
    case ORIENTATION_BOTLEFT:
        *sx = vx, *sy = H - 1 - vy;
        break;
    case ORIENTATION_LEFTTOP:
        *sx = vy, *sy = vx;
        break;
    case ORIENTATION_RIGHTTOP:
        *sx = vy, *sy = H - 1 - vx;
        break;
    case ORIENTATION_RIGHTBOT:
        *sx = W - 1 - vy, *sy = H - 1 - vx;
        break;
    default: /* ORIENTATION_LEFTBOT */
        *sx = W - 1 - vy, *sy = vx;
        break;
    }
}

/* Turns a decoded page the way its Orientation tag says it is viewed (some scanners and
 * cameras store the raster sideways or upside down and set the tag). Replaces the page in
 * *o on success; on failure *o is left as it was.
 * Notes:
 *   1. Tag values 1..8 name where the stored first row and first column are seen: 1 top
 *      and left (nothing to do), 2 top-right, 3 bottom-right, 4 bottom-left, 5 left-top,
 *      6 right-top, 7 right-bottom, 8 left-bottom. 5..8 swap width and height (and the
 *      two resolutions).
 *   2. Any other value is treated as 1, as libtiff's own readers do. */
static int apply_orientation(phieu_image_reader *r, TIFF *tif, phieu_image_out *o, phieu_error *err)
{
    uint16_t orient = ORIENTATION_TOPLEFT;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orient);
    if (orient <= ORIENTATION_TOPLEFT || orient > ORIENTATION_LEFTBOT)
        return 0;
    int W = o->width, H = o->height, swap = orient >= ORIENTATION_LEFTTOP;
    size_t ch = (size_t)o->channels;
    phieu_image_out turned = {.want = ch == 1 ? PHIEU_OUT_GRAY : PHIEU_OUT_RGB};
    if (phieu_image_out_alloc(NULL, &turned, swap ? H : W, swap ? W : H, o->colour) != 0)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory turning '%s' page %d upright",
                               r->name, r->pages_done + 1);
    for (int vy = 0; vy < turned.height; vy++) {
        uint8_t *row = phieu_image_out_row(&turned, (uint32_t)vy);
        for (int vx = 0; vx < turned.width; vx++) {
            int sx, sy;
            oriented_source(orient, W, H, vx, vy, &sx, &sy);
            const uint8_t *from = phieu_image_out_row(o, (uint32_t)sy) + (size_t)sx * ch;
            if (ch == 1)
                row[vx] = *from;
            else
                memcpy(row + (size_t)vx * ch, from, ch);
        }
    }
    double dpi_x = o->gray ? o->gray->dpi_x : o->rgb->dpi_x;
    double dpi_y = o->gray ? o->gray->dpi_y : o->rgb->dpi_y;
    phieu_image_out_set_dpi(&turned, swap ? dpi_y : dpi_x, swap ? dpi_x : dpi_y);
    phieu_image_out_free(o);
    *o = turned;
    return 0;
}

/* The checks before a page's pixels are decoded: its size within the limits and a codec
 * this libtiff has. Returns 0 or a PHIEU_E code with the message set. */
static int check_page(phieu_image_reader *r, TIFF *tif, uint32_t *w, uint32_t *h, phieu_error *err)
{
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, h))
        return format_error(r, err, "the image size is missing");
    int rc = phieu_image_check_size(r, *w, *h, err);
    if (rc != 0)
        return rc;
    uint16_t comp = COMPRESSION_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &comp);
    if (!TIFFIsCODECConfigured(comp)) {
        const TIFFCodec *codec = TIFFFindCODEC(comp);
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "cannot read '%s' page %d: it uses the compression %s (%u), "
                               "which phieu cannot decode; save it uncompressed or with "
                               "LZW, Deflate, PackBits, JPEG or Group 4",
                               r->name, r->pages_done + 1, codec ? codec->name : "unknown", comp);
    }
    return 0;
}

/* Whether a page the direct path cannot read (read_rgba's) holds colour: anything but a
 * gray photometric. */
static int fallback_colour(TIFF *tif)
{
    uint16_t photometric = PHOTOMETRIC_RGB;
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric);
    return photometric != PHOTOMETRIC_MINISWHITE && photometric != PHOTOMETRIC_MINISBLACK;
}

static int decode_page(phieu_image_reader *r, phieu_image_out *o, phieu_error *err)
{
    TIFF *tif = r->tif;
    uint32_t w = 0, h = 0;
    int rc = check_page(r, tif, &w, &h, err);
    if (rc != 0)
        return rc;
    conv *c = phieu_malloc(sizeof *c);
    r->codec_msg[0] = '\0';
    int direct = c && conv_setup(tif, c) == 0;
    if (!c || phieu_image_out_alloc(r, o, (int)w, (int)h,
                                    direct ? c->colour : fallback_colour(tif)) != 0) {
        phieu_free(c);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s' page %d", r->name,
                               r->pages_done + 1);
    }
    if (direct && o->channels == 3)
        conv_for_rgb(c);
    if (!direct)
        rc = read_rgba(r, tif, o, err);
    else if (TIFFIsTiled(tif))
        rc = read_tiles(r, tif, c, o, err);
    else
        rc = read_strips(r, tif, c, o, err);
    phieu_free(c);
    if (rc == 0) {
        read_resolution(tif, o);
        rc = apply_orientation(r, tif, o, err);
    }
    if (rc != 0)
        phieu_image_out_free(o);
    return rc;
}

/* Moves to the directory of the next page (none to move for the first): 1 when there
 * is one, 0 at the end, or an error. */
static int advance(phieu_image_reader *r, phieu_error *err)
{
    if (!r->tif)
        return 0;
    if (r->pages_done == 0)
        return 1;
    if (TIFFLastDirectory(r->tif)) {
        phieu_image_tiff_close(r);
        r->at_end = 1;
        return 0;
    }
    r->codec_msg[0] = '\0';
    if (!TIFFReadDirectory(r->tif))
        return format_error(r, err, "its directory is damaged");
    return 1;
}

int phieu_image_tiff_next(phieu_image_reader *r, phieu_image_out *o, phieu_error *err)
{
    int rc = advance(r, err);
    return rc == 1 ? decode_page(r, o, err) : rc;
}

int phieu_image_tiff_skip(phieu_image_reader *r, phieu_error *err)
{
    return advance(r, err);
}
