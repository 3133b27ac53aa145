/*
 * png_read.c - decodes the one page of a PNG (libpng) from memory into 8-bit gray, or
 * into RGB for showing it: every colour type and depth, interlaced or not, alpha
 * composited on white, pHYs to dpi.
 * libpng allocates through phieu_malloc (so out-of-memory tests reach it) and reports
 * through our handlers (so nothing prints). Writing PNG is in png_write.c.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

/* PNG allows sides up to 2^31 - 1; libpng's default user limit (1,000,000) would refuse a
 * large page as corrupt, so we lift it and apply phieu's own limit after the header. */
#define PNG_SIDE_MAX 0x7fffffff

/* One metre is 39.37 inches: pHYs counts pixels per metre. */
#define INCHES_PER_METRE (1.0 / 0.0254)

typedef struct {
    phieu_image_reader *r;
    size_t pos;
    int oom;         /* an allocation failed (libpng then reports "out of memory") */
    uint8_t *buffer; /* the row, or the whole interlaced image */
    png_bytep *rows; /* row pointers into buffer for interlaced images */
    phieu_image_out *out;
} png_ctx;

static png_voidp ctx_malloc(png_structp png, png_alloc_size_t size)
{
    png_ctx *c = png_get_mem_ptr(png);
    void *p = phieu_malloc(size);
    if (!p && c)
        c->oom = 1;
    return p;
}

static void ctx_free(png_structp png, png_voidp p)
{
    (void)png;
    phieu_free(p);
}

static void ctx_error(png_structp png, png_const_charp msg)
{
    png_ctx *c = png_get_error_ptr(png);
    snprintf(c->r->codec_msg, sizeof c->r->codec_msg, "%s", msg);
    png_longjmp(png, 1);
}

static void ctx_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* a warning does not stop the page; nothing is printed */
}

static void ctx_read(png_structp png, png_bytep out, size_t len)
{
    png_ctx *c = png_get_io_ptr(png);
    if (len > c->r->len - c->pos)
        png_error(png, "the file ends early");
    memcpy(out, c->r->data + c->pos, len);
    c->pos += len;
    phieu_image_reader_consumed(c->r, c->pos);
}

static void convert_gray(const uint8_t *in, int channels, int width, uint8_t *out)
{
    switch (channels) {
    case 1:
        memcpy(out, in, (size_t)width);
        break;
    case 2:
        for (int x = 0; x < width; x++, in += 2)
            out[x] = phieu_image_on_white(in[0], in[1]);
        break;
    case 3:
        for (int x = 0; x < width; x++, in += 3)
            out[x] = phieu_image_rgb_gray(in[0], in[1], in[2]);
        break;
    default:
        for (int x = 0; x < width; x++, in += 4)
            out[x] = phieu_image_on_white(phieu_image_rgb_gray(in[0], in[1], in[2]), in[3]);
        break;
    }
}

/* The same for a colour page: gray as R = G = B, each channel composited on white. */
static void convert_rgb(const uint8_t *in, int channels, int width, uint8_t *out)
{
    switch (channels) {
    case 1:
        for (int x = 0; x < width; x++, out += 3)
            out[0] = out[1] = out[2] = in[x];
        break;
    case 2:
        for (int x = 0; x < width; x++, in += 2, out += 3)
            out[0] = out[1] = out[2] = phieu_image_on_white(in[0], in[1]);
        break;
    case 3:
        memcpy(out, in, (size_t)width * 3);
        break;
    default:
        for (int x = 0; x < width; x++, in += 4, out += 3)
            for (int k = 0; k < 3; k++)
                out[k] = phieu_image_on_white(in[k], in[3]);
        break;
    }
}

/* Converts decoded row y into the page. */
static void convert_row(const png_ctx *c, const uint8_t *in, int channels, png_uint_32 y)
{
    uint8_t *row = phieu_image_out_row(c->out, y);
    if (c->out->channels == 1)
        convert_gray(in, channels, c->out->width, row);
    else
        convert_rgb(in, channels, c->out->width, row);
}

/* Whether the page holds colour: an RGB colour type, or a palette with a colour entry. */
static int is_colour(png_structp png, png_infop info, int color)
{
    if (!(color & PNG_COLOR_MASK_COLOR))
        return 0;
    png_colorp pal = NULL;
    int n = 0;
    if (color != PNG_COLOR_TYPE_PALETTE || !png_get_PLTE(png, info, &pal, &n) || !pal)
        return 1;
    for (int i = 0; i < n; i++)
        if (pal[i].red != pal[i].green || pal[i].green != pal[i].blue)
            return 1;
    return 0;
}

/* Reads an interlaced image whole (libpng needs every row to combine the passes), then
 * converts it to gray. Failures leave by png_error; the buffers hang off c. */
static void read_interlaced(png_structp png, png_ctx *c, png_uint_32 h, size_t rowbytes,
                            int channels)
{
    c->buffer = phieu_malloc(rowbytes * h);
    c->rows = phieu_malloc(sizeof *c->rows * h);
    if (!c->buffer || !c->rows) {
        c->oom = 1;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < h; y++)
        c->rows[y] = c->buffer + rowbytes * y;
    png_read_image(png, c->rows);
    for (png_uint_32 y = 0; y < h; y++)
        convert_row(c, c->rows[y], channels, y);
}

/* Reads a non-interlaced image one row at a time through a one-row buffer, so a page
 * costs one row beyond its pixels. Failures leave by png_error. */
static void read_rows(png_structp png, png_ctx *c, png_uint_32 h, size_t rowbytes, int channels)
{
    c->buffer = phieu_malloc(rowbytes);
    if (!c->buffer) {
        c->oom = 1;
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < h; y++) {
        png_read_row(png, c->buffer, NULL);
        convert_row(c, c->buffer, channels, y);
    }
}

/* The part that libpng may leave by longjmp; everything it allocates hangs off c.
 * Returns 0, a PHIEU_E code with the message set, or LIBPNG_FAILED. */
#define LIBPNG_FAILED 1
static int decode(png_structp png, png_infop info, png_ctx *c, phieu_error *err)
{
    if (setjmp(png_jmpbuf(png)))
        return LIBPNG_FAILED;

    png_set_user_limits(png, PNG_SIDE_MAX, PNG_SIDE_MAX);
    png_set_read_fn(png, c, ctx_read);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int depth = 0, color = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    int rc = phieu_image_check_size(c->r, w, h, err);
    if (rc != 0)
        return rc;

    double dpi_x = 0, dpi_y = 0;
    png_uint_32 px = 0, py = 0;
    int unit = 0;
    if (png_get_pHYs(png, info, &px, &py, &unit) && unit == PNG_RESOLUTION_METER) {
        dpi_x = phieu_image_snap_dpi(px / INCHES_PER_METRE);
        dpi_y = phieu_image_snap_dpi(py / INCHES_PER_METRE);
    }

    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if ((color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16)
        png_set_strip_16(png); /* keeps the high byte: v >> 8 */
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || png_get_bit_depth(png, info) != 8 ||
        rowbytes != (size_t)w * (size_t)channels)
        png_error(png, "unsupported sample layout");

    if (phieu_image_out_alloc(c->r, c->out, (int)w, (int)h, is_colour(png, info, color)) != 0) {
        c->oom = 1;
        png_error(png, "out of memory");
    }
    if (passes > 1)
        read_interlaced(png, c, h, rowbytes, channels);
    else
        read_rows(png, c, h, rowbytes, channels);
    png_read_end(png, NULL); /* checks the end of the image data and the trailing CRCs */
    phieu_image_out_set_dpi(c->out, dpi_x, dpi_y);
    return 0;
}

int phieu_image_png_read(phieu_image_reader *r, phieu_image_out *o, phieu_error *err)
{
    png_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    c.out = o;
    r->codec_msg[0] = '\0';
    png_structp png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &c, ctx_error, ctx_warning,
                                               &c, ctx_malloc, ctx_free);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int rc;
    if (!png || !info)
        rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s'", r->name);
    else
        rc = decode(png, info, &c, err);
    if (png)
        png_destroy_read_struct(&png, info ? &info : NULL, NULL);
    phieu_free(c.rows);
    phieu_free(c.buffer);
    if (rc == LIBPNG_FAILED && c.oom)
        rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s' page 1", r->name);
    else if (rc == LIBPNG_FAILED)
        rc = phieu_error_set(err, PHIEU_EFORMAT,
                             "cannot read '%s' page 1: the PNG is damaged or truncated (%s)",
                             r->name, r->codec_msg[0] ? r->codec_msg : "unknown error");
    if (rc != 0)
        phieu_image_out_free(o);
    return rc;
}
