/*
 * image_internal.h - what the files of src/image share and nobody else sees: the reader
 * struct, the per-format page decoders, the gray conversions and the plain file write.
 * The public contract is include/phieu/image.h.
 */
#ifndef PHIEU_IMAGE_INTERNAL_H
#define PHIEU_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/image.h"

/* Room for one libtiff/libpng message kept for the error text. */
#define PHIEU_IMAGE_CODEC_MSG_MAX 200

struct phieu_image_reader {
    char *name; /* for messages; owned */
    phieu_image_limits limits;
    const uint8_t *data; /* the whole file (mapped, read or the caller's buffer) */
    size_t len;
    void *mapping;  /* non-NULL when data is an mmap of the file */
    size_t released; /* bytes at the start of the mapping given back (PNG reads once) */
    phieu_image *spare; /* a page to reuse for the next one (phieu_image_reader_next_reusing) */
    uint8_t *owned; /* non-NULL when data was read into the heap */
    phieu_image_format format;
    int pages_done; /* pages already returned (the next page is pages_done+1) */
    int at_end;
    /* TIFF state (tiff_read.c). */
    void *tif;                                 /* TIFF *, open while pages remain */
    uint64_t tiff_pos;                         /* the client I/O position */
    char codec_msg[PHIEU_IMAGE_CODEC_MSG_MAX]; /* the last libtiff error, "" if none */
};

/* A page of width x height for the reader's decoders: the reader's spare when its memory
 * is large enough (its pixels are then whatever they were), else a new raw image. */
phieu_image *phieu_image_reader_page(phieu_image_reader *r, int width, int height);

/* What a decoder is asked to make of a page: gray (recognition), colour (RGB), or as the
 * page is stored (colour when it holds colour, else gray: for showing it). */
typedef enum { PHIEU_OUT_GRAY, PHIEU_OUT_RGB, PHIEU_OUT_AS_STORED } phieu_image_out_want;

/* Where a decoder puts a page. The caller sets `want` (the rest zero); the decoder calls
 * phieu_image_out_alloc once it knows the size and whether the page holds colour, writes
 * each row through phieu_image_out_row (channels bytes a pixel), and on success leaves
 * exactly one of gray and rgb set, for the caller to take; on failure neither. */
typedef struct phieu_image_out {
    phieu_image_out_want want;
    int channels; /* 1 (gray) or 3 (rgb), once allocated */
    int width, height;
    int colour; /* the page holds colour samples */
    phieu_image *gray;
    phieu_rgb_image *rgb;
} phieu_image_out;

/* Allocates the page (uninitialised pixels): gray through phieu_image_reader_page when r is
 * given (its spare is reused), else new. Returns 0, or -1 when out of memory. */
int phieu_image_out_alloc(phieu_image_reader *r, phieu_image_out *o, int width, int height,
                          int colour);
void phieu_image_out_set_dpi(phieu_image_out *o, double dpi_x, double dpi_y);
/* Frees whatever page o holds (o can be allocated again). */
void phieu_image_out_free(phieu_image_out *o);

/* Row y of the page o holds. */
static inline uint8_t *phieu_image_out_row(const phieu_image_out *o, uint32_t y)
{
    if (o->channels == 1)
        return o->gray->pixels + (size_t)y * (size_t)o->gray->stride;
    return o->rgb->pixels + (size_t)y * (size_t)o->rgb->stride;
}

/* A new colour image of the size, uninitialised pixels; NULL when out of memory. */
phieu_rgb_image *phieu_rgb_image_alloc_raw(int width, int height);

/* A stream read front to back (PNG) is done with the file's first `upto` bytes: gives
 * back their mapped pages, so that a page's memory does not include its file (a noisy
 * 600 dpi RGB scan is a 72 MB PNG). Nothing happens for a file read into the heap. */
void phieu_image_reader_consumed(phieu_image_reader *r, size_t upto);

/* tiff_read.c: opening reads the first directory; next_page decodes the current one into
 * *o and advances. Both return 0 or a PHIEU_E code with the message set; at the end next
 * returns 0 with nothing in *o. */
int phieu_image_tiff_open(phieu_image_reader *r, phieu_error *err);
int phieu_image_tiff_next(phieu_image_reader *r, phieu_image_out *o, phieu_error *err);
/* Finds the next page without decoding it: 1 when there is one, 0 at the end, or an error;
 * the caller counts it as done. */
int phieu_image_tiff_skip(phieu_image_reader *r, phieu_error *err);
void phieu_image_tiff_close(phieu_image_reader *r);

/* png_read.c: decodes the one page into *o. */
int phieu_image_png_read(phieu_image_reader *r, phieu_image_out *o, phieu_error *err);

/* png_write.c: PNG of 8-bit samples (1 = gray, 3 = RGB channels) into a new buffer. */
int phieu_image_png_encode(const uint8_t *pixels, int width, int height, size_t stride,
                           int channels, double dpi_x, double dpi_y, const char *what,
                           uint8_t **data, size_t *len, phieu_error *err);

/* Writes len bytes to path (plain fopen/fwrite/fclose, every result checked). */
int phieu_image_write_bytes(const char *path, const uint8_t *data, size_t len, phieu_error *err);

/* The limit check every loader makes before allocating a page. */
int phieu_image_check_size(const phieu_image_reader *r, uint64_t width, uint64_t height,
                           phieu_error *err);

/* A new image of the size, uninitialised pixels; NULL when out of memory. */
phieu_image *phieu_image_alloc_raw(int width, int height);

/* Clips the rectangle w x h at (x, y) to a width x height image into rect (x, y, w, h);
 * PHIEU_EINVAL with the message set when nothing of it lies inside. */
int phieu_image_clip(int width, int height, int x, int y, int w, int h, int rect[4],
                     phieu_error *err);
/* What scale-to-fit makes of a w x h image (pixels: its samples) for max_w x max_h, for
 * the gray and the colour type alike: 1 when it fits already (the caller copies it), 0
 * with the scaled size in *nw x *nh (aspect kept), or PHIEU_EINVAL with the message set
 * for an empty image or box. */
int phieu_image_fit_plan(const void *pixels, int64_t w, int64_t h, int max_w, int max_h,
                         int64_t *nw, int64_t *nh, phieu_error *err);
/* The box filter of phieu_image_scale_to_fit over pixels of `ch` interleaved 8-bit
 * channels, each channel alike: w x h at src into nw x nh at dst. Returns 0, or -1 when
 * its two rows of scratch cannot be allocated. */
int phieu_image_box_scale(const uint8_t *src, size_t src_stride, int64_t w, int64_t h, int ch,
                          uint8_t *dst, size_t dst_stride, int64_t nw, int64_t nh);

/* A resolution in dots per inch snapped to a whole number when it is within the rounding
 * of the file's units of one (300 dpi stored as 11811 px/m reads back as 300). */
double phieu_image_snap_dpi(double dpi);

/* Luma of 8-bit RGB, ITU-R BT.601 weights 0.299/0.587/0.114 in thousandths, rounded. */
static inline uint8_t phieu_image_luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}

/* The gray a colour pixel is read as: luma, but red and magenta ink as its red channel
 * (phieu_image_gray_of_rgb in image.h says why). */
static inline uint8_t phieu_image_rgb_gray(unsigned r, unsigned g, unsigned b)
{
    if (r >= g + PHIEU_IMAGE_DROPOUT_MIN && r >= b)
        return (uint8_t)r;
    return phieu_image_luma(r, g, b);
}

/* A gray value with straight (unassociated) alpha composited on white paper. */
static inline uint8_t phieu_image_on_white(unsigned v, unsigned a)
{
    return (uint8_t)((v * a + 255u * (255u - a) + 127u) / 255u);
}

/* A gray value with premultiplied (associated) alpha composited on white paper. */
static inline uint8_t phieu_image_on_white_premul(unsigned v, unsigned a)
{
    unsigned out = v + (255u - a);
    return (uint8_t)(out > 255u ? 255u : out);
}

#endif
