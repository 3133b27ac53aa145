/*
 * png_write.c - PNG output (libpng): 8-bit gray pages and RGB pictures (debug overlays,
 * colour scans for the archive), to memory
 * or to a file, with pHYs when the dpi is known. The bytes are deterministic: fixed zlib
 * level and filter, no time or text chunks, so the same pixels always give the same file
 * (the session archive hashes them). Files are written plainly; durable writes are the
 * session's job. Reading PNG is in png_read.c.
 */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

/* zlib's own default level. With the run-length strategy below the level hardly matters. */
#define PNG_ZLIB_LEVEL 6
/* One filter for every row (not libpng's adaptive choice) and zlib's run-length strategy.
 * Measured on a 300 dpi A4 page (2480 x 3508) with scanner noise of a few levels: no
 * filter + Z_RLE was both the smallest (2.9 MB against 3.3-3.8 MB) and the fastest (about
 * 0.25 s against 3-5 s for the default strategy, whose match search drowns in the noise);
 * on a clean page it was also the smallest. Filters turn the noise into more entropy. */
#define PNG_ROW_FILTER PNG_FILTER_NONE
#define PNG_ZLIB_STRATEGY Z_RLE
/* pHYs counts pixels per metre; one inch is 0.0254 m. */
#define METRES_PER_INCH 0.0254
/* The first size of the output buffer; it doubles as needed. */
#define PNG_OUT_INITIAL ((size_t)64 * 1024)

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int oom;
    char msg[PHIEU_IMAGE_CODEC_MSG_MAX];
} out_buf;

static png_voidp ob_malloc(png_structp png, png_alloc_size_t size)
{
    out_buf *o = png_get_mem_ptr(png);
    void *p = phieu_malloc(size);
    if (!p && o)
        o->oom = 1;
    return p;
}

static void ob_free(png_structp png, png_voidp p)
{
    (void)png;
    phieu_free(p);
}

static void ob_error(png_structp png, png_const_charp msg)
{
    out_buf *o = png_get_error_ptr(png);
    snprintf(o->msg, sizeof o->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void ob_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void ob_write(png_structp png, png_bytep data, size_t len)
{
    out_buf *o = png_get_io_ptr(png);
    if (len > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : PNG_OUT_INITIAL;
        while (cap - o->len < len) {
            if (cap > SIZE_MAX / 2)
                png_error(png, "the image is too large to encode");
            cap *= 2;
        }
        uint8_t *grown = phieu_realloc(o->data, cap);
        if (!grown) {
            o->oom = 1;
            png_error(png, "out of memory");
        }
        o->data = grown;
        o->cap = cap;
    }
    memcpy(o->data + o->len, data, len);
    o->len += len;
}

static void ob_flush(png_structp png)
{
    (void)png;
}

static png_uint_32 dpi_to_ppm(double dpi)
{
    double ppm = floor(dpi / METRES_PER_INCH + 0.5);
    return ppm > 0 && ppm < 0x7fffffff ? (png_uint_32)ppm : 0;
}

/* The libpng part, which may leave by longjmp; all it allocates is in o or png. */
static int encode(png_structp png, png_infop info, out_buf *o, const uint8_t *pixels, int width,
                  int height, size_t stride, int channels, double dpi_x, double dpi_y)
{
    if (setjmp(png_jmpbuf(png)))
        return -1;
    png_set_write_fn(png, o, ob_write, ob_flush);
    png_set_compression_level(png, PNG_ZLIB_LEVEL);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ROW_FILTER);
    png_set_compression_strategy(png, PNG_ZLIB_STRATEGY);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8,
                 channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    png_uint_32 px = dpi_to_ppm(dpi_x), py = dpi_to_ppm(dpi_y);
    if (px && py)
        png_set_pHYs(png, info, px, py, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, pixels + (size_t)y * stride);
    png_write_end(png, NULL);
    return 0;
}

int phieu_image_png_encode(const uint8_t *pixels, int width, int height, size_t stride,
                           int channels, double dpi_x, double dpi_y, const char *what,
                           uint8_t **data, size_t *len, phieu_error *err)
{
    *data = NULL;
    *len = 0;
    if (!pixels || width <= 0 || height <= 0 || stride < (size_t)width * (size_t)channels)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot encode '%s': the image is empty "
                               "or malformed",
                               what);
    out_buf o;
    memset(&o, 0, sizeof o);
    png_structp png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &o, ob_error, ob_warning, &o,
                                                ob_malloc, ob_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc = -1;
    if (png && info)
        rc = encode(png, info, &o, pixels, width, height, stride, channels, dpi_x, dpi_y);
    if (png)
        png_destroy_write_struct(&png, info ? &info : NULL);
    if (rc == 0) {
        *data = o.data;
        *len = o.len;
        return 0;
    }
    phieu_free(o.data);
    if (!png || !info || o.oom)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory encoding '%s' as PNG", what);
    return phieu_error_set(err, PHIEU_EFORMAT, "cannot encode '%s' as PNG: %s", what, o.msg);
}

int phieu_image_encode_png(const phieu_image *img, uint8_t **data, size_t *len, phieu_error *err)
{
    if (!img)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot encode an empty image");
    return phieu_image_png_encode(img->pixels, img->width, img->height,
                                  img->stride > 0 ? (size_t)img->stride : 0, 1, img->dpi_x,
                                  img->dpi_y, "(image)", data, len, err);
}

int phieu_image_save_png(const phieu_image *img, const char *path, phieu_error *err)
{
    if (!img || !path)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot save an empty image");
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = phieu_image_png_encode(img->pixels, img->width, img->height,
                                    img->stride > 0 ? (size_t)img->stride : 0, 1, img->dpi_x,
                                    img->dpi_y, path, &data, &len, err);
    if (rc == 0)
        rc = phieu_image_write_bytes(path, data, len, err);
    phieu_free(data);
    return rc;
}

int phieu_rgb_save_png(const uint8_t *rgb, int width, int height, const char *path,
                       phieu_error *err)
{
    if (!path || width <= 0 || (size_t)width > SIZE_MAX / 3)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot save an empty picture");
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = phieu_image_png_encode(rgb, width, height, (size_t)width * 3, 3, 0, 0, path, &data,
                                    &len, err);
    if (rc == 0)
        rc = phieu_image_write_bytes(path, data, len, err);
    phieu_free(data);
    return rc;
}

int phieu_rgb_encode_png(const uint8_t *rgb, int width, int height, double dpi, uint8_t **data,
                         size_t *len, phieu_error *err)
{
    if (width <= 0 || (size_t)width > SIZE_MAX / 3)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot encode an empty picture");
    return phieu_image_png_encode(rgb, width, height, (size_t)width * 3, 3, dpi, dpi,
                                  "(colour page)", data, len, err);
}
