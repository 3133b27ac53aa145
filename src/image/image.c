/*
 * image.c - the gray image itself: create, destroy, clone, crop, box-filter scaling,
 * format sniffing, and the small helpers the codecs share (limits, dpi, file write).
 * Decoding lives in tiff_read.c and png_read.c, the reader in reader.c, encoding in
 * png_write.c and tiff_write.c.
 *
 * Functions: phieu_image_default_limits, phieu_image_create, phieu_image_destroy,
 * phieu_image_clone, phieu_image_crop, phieu_image_scale_to_fit, phieu_image_sniff,
 * phieu_image_gray_of_rgb, phieu_image_of_rgb; for the colour image too (rgb.c):
 * phieu_image_clip, phieu_image_fit_plan, phieu_image_box_scale.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

uint8_t phieu_image_gray_of_rgb(unsigned r, unsigned g, unsigned b)
{
    return phieu_image_rgb_gray(r, g, b);
}

int phieu_image_of_rgb(uint8_t **rgb, int width, int height, double dpi, phieu_image **out,
                       phieu_error *err)
{
    *out = NULL;
    uint8_t *px = rgb ? *rgb : NULL;
    if (rgb)
        *rgb = NULL;
    if (!px || width <= 0 || height <= 0 || (uint64_t)width * (uint64_t)height > SIZE_MAX / 3) {
        phieu_free(px);
        return phieu_error_set(err, PHIEU_EINVAL, "no colour page given");
    }
    phieu_image *img = phieu_calloc(1, sizeof *img);
    if (!img) {
        phieu_free(px);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory for a %dx%d page", width, height);
    }
    size_t n = (size_t)width * (size_t)height;
    for (size_t i = 0; i < n; i++) /* pixel i is written at i, read from 3i >= i */
        px[i] = phieu_image_rgb_gray(px[3 * i], px[3 * i + 1], px[3 * i + 2]);
    uint8_t *shrunk = phieu_realloc(px, n); /* large blocks shrink in place (mremap) */
    img->pixels = shrunk ? shrunk : px;
    img->capacity = shrunk ? n : 3 * n;
    img->width = img->stride = width;
    img->height = height;
    img->dpi_x = img->dpi_y = dpi;
    *out = img;
    return 0;
}

phieu_image_limits phieu_image_default_limits(void)
{
    phieu_image_limits l = {PHIEU_IMAGE_DEFAULT_MAX_PIXELS, PHIEU_IMAGE_DEFAULT_MAX_BYTES};
    return l;
}

phieu_image *phieu_image_alloc_raw(int width, int height)
{
    if (width <= 0 || height <= 0 || (uint64_t)width * (uint64_t)height > SIZE_MAX / 2)
        return NULL;
    phieu_image *img = phieu_calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->pixels = phieu_malloc((size_t)width * (size_t)height);
    img->capacity = (size_t)width * (size_t)height;
    if (!img->pixels) {
        phieu_free(img);
        return NULL;
    }
    img->width = width;
    img->height = height;
    img->stride = width;
    return img;
}

int phieu_image_create(int width, int height, phieu_image **out, phieu_error *err)
{
    *out = NULL;
    if (width <= 0 || height <= 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot create a %dx%d image: both sides "
                               "must be at least one pixel",
                               width, height);
    phieu_image *img = phieu_image_alloc_raw(width, height);
    if (!img)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory creating a %dx%d image", width,
                               height);
    memset(img->pixels, 255, (size_t)width * (size_t)height);
    *out = img;
    return 0;
}

void phieu_image_destroy(phieu_image **img)
{
    if (!img || !*img)
        return;
    phieu_free((*img)->pixels);
    phieu_free(*img);
    *img = NULL;
}

/* Copies the w x h rectangle at (x, y) of src, which the caller has clipped. */
static int copy_rect(const phieu_image *src, int x, int y, int w, int h, phieu_image **out,
                     phieu_error *err)
{
    phieu_image *img = phieu_image_alloc_raw(w, h);
    if (!img)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory copying a %dx%d image", w, h);
    for (int row = 0; row < h; row++)
        memcpy(img->pixels + (size_t)row * (size_t)img->stride,
               src->pixels + (size_t)(y + row) * (size_t)src->stride + (size_t)x, (size_t)w);
    img->dpi_x = src->dpi_x;
    img->dpi_y = src->dpi_y;
    *out = img;
    return 0;
}

int phieu_image_clone(const phieu_image *src, phieu_image **out, phieu_error *err)
{
    *out = NULL;
    if (!src || !src->pixels || src->width <= 0 || src->height <= 0)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot copy an empty image");
    return copy_rect(src, 0, 0, src->width, src->height, out, err);
}

int phieu_image_clip(int width, int height, int x, int y, int w, int h, int rect[4],
                     phieu_error *err)
{
    int64_t x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int64_t x1 = (int64_t)x + w, y1 = (int64_t)y + h;
    if (x1 > width)
        x1 = width;
    if (y1 > height)
        y1 = height;
    if (w <= 0 || h <= 0 || x1 <= x0 || y1 <= y0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot crop %dx%d at (%d, %d): the rectangle lies outside "
                               "the %dx%d image",
                               w, h, x, y, width, height);
    rect[0] = (int)x0;
    rect[1] = (int)y0;
    rect[2] = (int)(x1 - x0);
    rect[3] = (int)(y1 - y0);
    return 0;
}

int phieu_image_crop(const phieu_image *src, int x, int y, int w, int h, phieu_image **out,
                     phieu_error *err)
{
    *out = NULL;
    if (!src || !src->pixels)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot crop an empty image");
    int rect[4];
    int rc = phieu_image_clip(src->width, src->height, x, y, w, h, rect, err);
    return rc != 0 ? rc : copy_rect(src, rect[0], rect[1], rect[2], rect[3], out, err);
}

int phieu_image_fit_plan(const void *pixels, int64_t w, int64_t h, int max_w, int max_h,
                         int64_t *nw_out, int64_t *nh_out, phieu_error *err)
{
    if (!pixels || w <= 0 || h <= 0)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot scale an empty image");
    if (max_w <= 0 || max_h <= 0)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot scale an image to fit in %dx%d", max_w,
                               max_h);
    if (w <= max_w && h <= max_h)
        return 1;
    int64_t nw, nh;
    if (w * max_h >= h * max_w) { /* width is the tighter side */
        nw = max_w;
        nh = (h * max_w + w / 2) / w;
    } else {
        nh = max_h;
        nw = (w * max_h + h / 2) / h;
    }
    if (nw < 1)
        nw = 1;
    if (nh < 1)
        nh = 1;
    if (nw > max_w)
        nw = max_w;
    if (nh > max_h)
        nh = max_h;
    *nw_out = nw;
    *nh_out = nh;
    return 0;
}

/* The box filter across one source row of w pixels of ch channels (Note 2 below):
 * rowsum[ox * ch + k], for each of the nw output pixels and each channel k, is the sum of
 * the source samples it overlaps, each weighted by the overlap length; the weights sum to
 * w. */
static inline void box_row(const uint8_t *row, int64_t w, int64_t nw, int ch, uint64_t *rowsum)
{
    for (int64_t ox = 0; ox < nw; ox++) {
        int64_t xlo = ox * w, xhi = (ox + 1) * w;
        uint64_t s[3] = {0, 0, 0};
        for (int64_t sx = xlo / nw; sx < w && sx * nw < xhi; sx++) {
            int64_t c = sx * nw > xlo ? sx * nw : xlo;
            int64_t d = (sx + 1) * nw < xhi ? (sx + 1) * nw : xhi;
            for (int k = 0; k < ch; k++)
                s[k] += (uint64_t)row[sx * ch + k] * (uint64_t)(d - c);
        }
        for (int k = 0; k < ch; k++)
            rowsum[ox * ch + k] = s[k];
    }
}

/* The box filter of ch (1 or 3) channels; box_row is inlined for each, so gray keeps its
 * loop of one sample. */
static inline void box_scale(const uint8_t *src, size_t src_stride, int64_t w, int64_t h, int ch,
                             uint8_t *dst, size_t dst_stride, int64_t nw, int64_t nh,
                             uint64_t *rowsum, uint64_t *acc)
{
    const uint64_t denom = (uint64_t)w * (uint64_t)h;
    const size_t n = (size_t)nw * (size_t)ch;
    for (int64_t oy = 0; oy < nh; oy++) {
        memset(acc, 0, n * sizeof *acc);
        int64_t ylo = oy * h, yhi = (oy + 1) * h; /* in units of 1/nh source row */
        for (int64_t sy = ylo / nh; sy < h && sy * nh < yhi; sy++) {
            int64_t a = sy * nh > ylo ? sy * nh : ylo;
            int64_t b = (sy + 1) * nh < yhi ? (sy + 1) * nh : yhi;
            uint64_t wy = (uint64_t)(b - a);
            box_row(src + (size_t)sy * src_stride, w, nw, ch, rowsum);
            for (size_t i = 0; i < n; i++)
                acc[i] += rowsum[i] * wy;
        }
        uint8_t *drow = dst + (size_t)oy * dst_stride;
        for (size_t i = 0; i < n; i++)
            drow[i] = (uint8_t)((acc[i] + denom / 2) / denom);
    }
}

/*
 * Notes (phieu_image_box_scale, phieu_image_scale_to_fit):
 *  1. The output size keeps the aspect: scale = min(max_w / w, max_h / h), each side
 *     rounded and at least 1. An image that already fits is copied unchanged (no upscaling).
 *  2. Box filter in exact integer arithmetic: on a grid where a source pixel is `nw` units
 *     wide and an output pixel `w` units, output pixel x averages the source pixels it
 *     overlaps, each weighted by the overlap length (an integer); the weights of one output
 *     pixel sum to w. The same in y, so a pixel is sum(v * ox * oy) / (w * h), rounded.
 *     The sums fit in 64 bits: 255 * w * h < 2^63 for any image we can allocate. A colour
 *     pixel is three such sums, one per channel.
 */
int phieu_image_box_scale(const uint8_t *src, size_t src_stride, int64_t w, int64_t h, int ch,
                          uint8_t *dst, size_t dst_stride, int64_t nw, int64_t nh)
{
    uint64_t *rowsum = phieu_malloc((size_t)nw * (size_t)ch * sizeof *rowsum);
    uint64_t *acc = phieu_malloc((size_t)nw * (size_t)ch * sizeof *acc);
    int ok = rowsum && acc;
    if (ok && ch == 1)
        box_scale(src, src_stride, w, h, 1, dst, dst_stride, nw, nh, rowsum, acc);
    else if (ok)
        box_scale(src, src_stride, w, h, 3, dst, dst_stride, nw, nh, rowsum, acc);
    phieu_free(rowsum);
    phieu_free(acc);
    return ok ? 0 : -1;
}

int phieu_image_scale_to_fit(const phieu_image *src, int max_w, int max_h, phieu_image **out,
                             phieu_error *err)
{
    *out = NULL;
    int64_t w = src ? src->width : 0, h = src ? src->height : 0, nw, nh;
    int rc = phieu_image_fit_plan(src ? src->pixels : NULL, w, h, max_w, max_h, &nw, &nh, err);
    if (rc != 0)
        return rc < 0 ? rc : phieu_image_clone(src, out, err);
    phieu_image *dst = phieu_image_alloc_raw((int)nw, (int)nh);
    if (!dst || phieu_image_box_scale(src->pixels, (size_t)src->stride, w, h, 1, dst->pixels,
                                      (size_t)dst->stride, nw, nh) != 0) {
        phieu_image_destroy(&dst);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory scaling a %dx%d image", src->width,
                               src->height);
    }
    dst->dpi_x = src->dpi_x * (double)nw / (double)w;
    dst->dpi_y = src->dpi_y * (double)nh / (double)h;
    *out = dst;
    return 0;
}

phieu_image_format phieu_image_sniff(const uint8_t *head, size_t len)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!head)
        return PHIEU_IMAGE_UNKNOWN;
    if (len >= 8 && memcmp(head, png_sig, 8) == 0)
        return PHIEU_IMAGE_PNG;
    /* Classic TIFF (version 42) and BigTIFF (43), both byte orders. */
    if (len >= 4 &&
        ((head[0] == 'I' && head[1] == 'I' && head[3] == 0 && (head[2] == 42 || head[2] == 43)) ||
         (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && (head[3] == 42 || head[3] == 43))))
        return PHIEU_IMAGE_TIFF;
    return PHIEU_IMAGE_UNKNOWN;
}

int phieu_image_check_size(const phieu_image_reader *r, uint64_t width, uint64_t height,
                           phieu_error *err)
{
    int page = r->pages_done + 1;
    if (width == 0 || height == 0)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "cannot read '%s' page %d: the image is %llux%llu pixels "
                               "(empty); the file is damaged",
                               r->name, page, (unsigned long long)width,
                               (unsigned long long)height);
    /* An int side keeps every index computation in range; no page comes near it. */
    if (width > INT32_MAX / 4 || height > INT32_MAX / 4 || width * height > r->limits.max_pixels)
        return phieu_error_set(err, PHIEU_ELIMIT,
                               "cannot read '%s' page %d: the image is %llux%llu pixels, "
                               "more than the limit of %llu pixels (an A3 page at 600 dpi "
                               "is about 70 million); scan at a lower resolution",
                               r->name, page, (unsigned long long)width, (unsigned long long)height,
                               (unsigned long long)r->limits.max_pixels);
    return 0;
}

/* How close to a whole number a dpi must be to be snapped: half the step of the units
 * files store (PNG: 1 pixel per metre = 0.0254 dpi; TIFF in centimetres, usually written
 * to two decimals: 0.01 pixel per cm = 0.0254 dpi). Closer than that, the difference is
 * the file's rounding, not the scanner's resolution. */
#define DPI_SNAP_TOLERANCE (0.0254 / 2)

double phieu_image_snap_dpi(double dpi)
{
    if (!isfinite(dpi) || dpi <= 0.0 || dpi > 1e6)
        return 0.0;
    double whole = floor(dpi + 0.5);
    return fabs(dpi - whole) < DPI_SNAP_TOLERANCE ? whole : dpi;
}

int phieu_image_write_bytes(const char *path, const uint8_t *data, size_t len, phieu_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return phieu_error_set(err, PHIEU_EIO, "cannot create '%s': %s", path, strerror(errno));
    struct stat st;
    int regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    int saved = 0;
    errno = 0;
    if (len > 0 && fwrite(data, 1, len, f) != len)
        saved = errno ? errno : EIO;
    if (!saved && fflush(f) != 0)
        saved = errno ? errno : EIO;
    if (fclose(f) != 0 && !saved)
        saved = errno ? errno : EIO;
    if (!saved)
        return 0;
    if (regular)
        remove(path); /* leave no half-written image behind */
    if (saved == ENOSPC || saved == EDQUOT)
        return phieu_error_set(err, PHIEU_EIO,
                               "cannot write '%s': the disk is full; free "
                               "some space and try again",
                               path);
    return phieu_error_set(err, PHIEU_EIO, "cannot write '%s': %s", path, strerror(saved));
}
