/*
 * rgb.c - the colour page that is shown to people (phieu_rgb_image): create, destroy,
 * crop, box-filter scaling and PNG encoding, and the page sink (phieu_image_out) through
 * which the decoders write a gray or a colour page. The filter and the clipping are the
 * gray image's own (image.c); decoding is in png_read.c and tiff_read.c, loading in
 * reader.c.
 *
 * Functions: phieu_rgb_image_create, phieu_rgb_image_destroy, phieu_rgb_image_crop,
 * phieu_rgb_image_scale_to_fit, phieu_rgb_image_encode_png; internal:
 * phieu_rgb_image_alloc_raw, phieu_image_out_alloc, phieu_image_out_set_dpi,
 * phieu_image_out_free.
 */
#include <string.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

/* Bytes a colour pixel takes. */
#define RGB_CHANNELS 3

phieu_rgb_image *phieu_rgb_image_alloc_raw(int width, int height)
{
    if (width <= 0 || height <= 0 || width > INT32_MAX / RGB_CHANNELS ||
        (uint64_t)width * (uint64_t)height > SIZE_MAX / 2 / RGB_CHANNELS)
        return NULL;
    phieu_rgb_image *img = phieu_calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->pixels = phieu_malloc((size_t)width * (size_t)height * RGB_CHANNELS);
    if (!img->pixels) {
        phieu_free(img);
        return NULL;
    }
    img->width = width;
    img->height = height;
    img->stride = width * RGB_CHANNELS;
    img->colour = 1;
    return img;
}

int phieu_rgb_image_create(int width, int height, phieu_rgb_image **out, phieu_error *err)
{
    *out = NULL;
    if (width <= 0 || height <= 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot create a %dx%d image: both sides must be at least one "
                               "pixel",
                               width, height);
    phieu_rgb_image *img = phieu_rgb_image_alloc_raw(width, height);
    if (!img)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory creating a %dx%d colour image",
                               width, height);
    memset(img->pixels, 255, (size_t)img->stride * (size_t)height);
    *out = img;
    return 0;
}

void phieu_rgb_image_destroy(phieu_rgb_image **img)
{
    if (!img || !*img)
        return;
    phieu_free((*img)->pixels);
    phieu_free(*img);
    *img = NULL;
}

/* A new image of the w x h rectangle at (x, y) of src, which lies inside it. */
static int copy_rect(const phieu_rgb_image *src, int x, int y, int w, int h, phieu_rgb_image **out,
                     phieu_error *err)
{
    phieu_rgb_image *img = phieu_rgb_image_alloc_raw(w, h);
    if (!img)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory copying a %dx%d colour image", w,
                               h);
    for (int row = 0; row < h; row++)
        memcpy(img->pixels + (size_t)row * (size_t)img->stride,
               src->pixels + (size_t)(y + row) * (size_t)src->stride + (size_t)x * RGB_CHANNELS,
               (size_t)w * RGB_CHANNELS);
    img->dpi_x = src->dpi_x;
    img->dpi_y = src->dpi_y;
    img->colour = src->colour;
    *out = img;
    return 0;
}

int phieu_rgb_image_crop(const phieu_rgb_image *src, int x, int y, int w, int h,
                         phieu_rgb_image **out, phieu_error *err)
{
    *out = NULL;
    if (!src || !src->pixels)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot crop an empty image");
    int rect[4];
    int rc = phieu_image_clip(src->width, src->height, x, y, w, h, rect, err);
    return rc != 0 ? rc : copy_rect(src, rect[0], rect[1], rect[2], rect[3], out, err);
}

int phieu_rgb_image_scale_to_fit(const phieu_rgb_image *src, int max_w, int max_h,
                                 phieu_rgb_image **out, phieu_error *err)
{
    *out = NULL;
    int64_t w = src ? src->width : 0, h = src ? src->height : 0, nw, nh;
    int rc = phieu_image_fit_plan(src ? src->pixels : NULL, w, h, max_w, max_h, &nw, &nh, err);
    if (rc != 0)
        return rc < 0 ? rc : copy_rect(src, 0, 0, src->width, src->height, out, err);
    phieu_rgb_image *dst = phieu_rgb_image_alloc_raw((int)nw, (int)nh);
    if (!dst || phieu_image_box_scale(src->pixels, (size_t)src->stride, w, h, RGB_CHANNELS,
                                      dst->pixels, (size_t)dst->stride, nw, nh) != 0) {
        phieu_rgb_image_destroy(&dst);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory scaling a %dx%d colour image",
                               src->width, src->height);
    }
    dst->dpi_x = src->dpi_x * (double)nw / (double)w;
    dst->dpi_y = src->dpi_y * (double)nh / (double)h;
    dst->colour = src->colour;
    *out = dst;
    return 0;
}

int phieu_rgb_image_encode_png(const phieu_rgb_image *img, uint8_t **data, size_t *len,
                               phieu_error *err)
{
    if (!img || !img->pixels)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot encode an empty image");
    return phieu_image_png_encode(img->pixels, img->width, img->height, (size_t)img->stride,
                                  RGB_CHANNELS, img->dpi_x, img->dpi_y, "(colour image)", data, len,
                                  err);
}

/* ---- the decoders' page sink ---- */

int phieu_image_out_alloc(phieu_image_reader *r, phieu_image_out *o, int width, int height,
                          int colour)
{
    int rgb = o->want == PHIEU_OUT_RGB || (o->want == PHIEU_OUT_AS_STORED && colour);
    phieu_image_out_free(o);
    if (rgb) {
        o->rgb = phieu_rgb_image_alloc_raw(width, height);
        if (o->rgb)
            o->rgb->colour = colour;
    } else {
        o->gray =
            r ? phieu_image_reader_page(r, width, height) : phieu_image_alloc_raw(width, height);
    }
    if (!o->rgb && !o->gray)
        return -1;
    o->channels = rgb ? RGB_CHANNELS : 1;
    o->width = width;
    o->height = height;
    o->colour = colour;
    return 0;
}

void phieu_image_out_set_dpi(phieu_image_out *o, double dpi_x, double dpi_y)
{
    if (o->gray) {
        o->gray->dpi_x = dpi_x;
        o->gray->dpi_y = dpi_y;
    }
    if (o->rgb) {
        o->rgb->dpi_x = dpi_x;
        o->rgb->dpi_y = dpi_y;
    }
}

void phieu_image_out_free(phieu_image_out *o)
{
    phieu_image_destroy(&o->gray);
    phieu_rgb_image_destroy(&o->rgb);
    o->channels = 0;
}
