/*
 * image.h - the one gray image type of phieu, and reading/writing it as TIFF and PNG.
 *
 * Contract:
 *  - A phieu_image is 8-bit gray, 0 = black, 255 = white, rows top to bottom, `stride`
 *    bytes apart (stride >= width). Every loader converts to this: 1-bit (TIFF
 *    min-is-white or min-is-black, PNG), 8/16-bit gray, RGB/RGBA (luma with red
 *    dropout, phieu_image_gray_of_rgb), palette, alpha composited on white.
 *  - Images are created by phieu_image_create or a loader and freed with
 *    phieu_image_destroy(&img), which NULLs the caller's pointer. Functions never modify
 *    an image they take as const.
 *  - Loaders enforce phieu_image_limits (pixels and bytes) before allocating, so a hostile
 *    file cannot exhaust memory. A corrupt, truncated or unsupported file gives
 *    PHIEU_EFORMAT with a message naming the file, the page and the problem. No loader
 *    prints (libtiff/libpng warnings are captured, not written to stderr).
 *  - A phieu_rgb_image is the same page kept in colour, for showing it to a person (the
 *    review screen): 3 bytes a pixel (R, G, B), alpha composited on white, gray and 1-bit
 *    pages as R = G = B. The same readers decode it under the same limits and messages;
 *    created by phieu_rgb_image_create or a loader, freed with phieu_rgb_image_destroy.
 *    Recognition never reads it: it reads the gray phieu_image.
 *  - Thread safety: distinct images and readers may be used from distinct threads.
 */
#ifndef PHIEU_IMAGE_H
#define PHIEU_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"

typedef struct phieu_image {
    int width;
    int height;
    int stride;      /* bytes from one row to the next */
    uint8_t *pixels; /* width x height gray samples, owned by the image */
    double dpi_x;    /* from the file's resolution tags; 0 when the file has none */
    double dpi_y;
    size_t capacity; /* bytes allocated behind pixels (0: not known, never reused) */
} phieu_image;

/* Where limits come from: an A3 sheet (297 x 420 mm) at 600 dpi is 7016 x 9921 pixels;
 * a bigger page is not a ballot. Bytes: a 1 GiB file is far beyond any page we read. */
#define PHIEU_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)7016 * 9921)
#define PHIEU_IMAGE_DEFAULT_MAX_BYTES ((uint64_t)1 << 30)

typedef struct phieu_image_limits {
    uint64_t max_pixels; /* width * height of one page */
    uint64_t max_bytes;  /* size of the file (or memory buffer) */
} phieu_image_limits;

/* The defaults above. */
phieu_image_limits phieu_image_default_limits(void);

/* A new white image. */
int phieu_image_create(int width, int height, phieu_image **out, phieu_error *err);
void phieu_image_destroy(phieu_image **img);
/* A deep copy. */
int phieu_image_clone(const phieu_image *src, phieu_image **out, phieu_error *err);

/* The format of a file by its first bytes (not its name). */
typedef enum { PHIEU_IMAGE_UNKNOWN = 0, PHIEU_IMAGE_TIFF, PHIEU_IMAGE_PNG } phieu_image_format;
phieu_image_format phieu_image_sniff(const uint8_t *head, size_t len);

/*
 * A reader yields the pages of one file in order (a PNG has one page, a TIFF one per
 * directory). `name` is used in messages (the path, or a label for memory buffers).
 * The memory variant does not copy `data`: it must outlive the reader.
 */
typedef struct phieu_image_reader phieu_image_reader;
int phieu_image_reader_open(const char *path, const phieu_image_limits *limits,
                            phieu_image_reader **out, phieu_error *err);
int phieu_image_reader_open_memory(const uint8_t *data, size_t len, const char *name,
                                   const phieu_image_limits *limits, phieu_image_reader **out,
                                   phieu_error *err);
/* Returns 1 and a new image in *page, 0 at the end, or a negative code. After an error the
 * reader is at its end. Pages are numbered from 1 in messages. */
int phieu_image_reader_next(phieu_image_reader *r, phieu_image **page, phieu_error *err);
/* Like phieu_image_reader_next, for a caller reading many pages one after another: *page
 * may hold a page it is done with (or NULL). When a page is returned (1), its memory is
 * the old page's if that was large enough, and the old page is gone either way. At the
 * end (0) *page is left as it was given, still the caller's; on an error it is that page
 * or NULL (when the failed decode had taken its memory, or freed it as too small). A fresh
 * buffer of tens of megabytes for every page costs the kernel's zero-filling (about a
 * tenth of `phieu read`'s time). */
int phieu_image_reader_next_reusing(phieu_image_reader *r, phieu_image **page,
                                    phieu_error *err);
/* Passes over the next page without decoding its pixels (a TIFF directory is read, the one
 * PNG page only counted): 1 when there was one, 0 at the end, or a negative code (the
 * reader is then at its end). A caller that hands pages to other threads finds them
 * with this and has each decoded there (phieu_image_load or a reader of its own). */
int phieu_image_reader_skip(phieu_image_reader *r, phieu_error *err);
void phieu_image_reader_close(phieu_image_reader **r);

/* Convenience: page `page_index` (0-based) of a file. */
int phieu_image_load(const char *path, int page_index, const phieu_image_limits *limits,
                     phieu_image **out, phieu_error *err);

/* Lossless writers. TIFF is 8-bit gray with Deflate; both store dpi when it is set. */
int phieu_image_save_png(const phieu_image *img, const char *path, phieu_error *err);
int phieu_image_save_tiff(const phieu_image *img, const char *path, phieu_error *err);
/* PNG into memory (caller frees *data with phieu_free); for the review server. */
int phieu_image_encode_png(const phieu_image *img, uint8_t **data, size_t *len,
                           phieu_error *err);

/* The gray a colour pixel is read as (every loader and the scanner source use it): luma
 * (BT.601), except red and magenta ink (red at least PHIEU_IMAGE_DROPOUT_MIN levels above
 * green, and not below blue) which is read as its red channel: the council's red seal
 * drops out to near paper white, as in a scanner's red dropout, while black print, black,
 * blue and purple pen keep their darkness (their red channel is dark too). A mark in red
 * pen drops out with the seal in a colour scan. */
#define PHIEU_IMAGE_DROPOUT_MIN 60
uint8_t phieu_image_gray_of_rgb(unsigned r, unsigned g, unsigned b);

/* An RGB picture (3 bytes a pixel, rows packed) as PNG; for debug overlays. */
int phieu_rgb_save_png(const uint8_t *rgb, int width, int height, const char *path,
                       phieu_error *err);
/* An RGB picture (3 bytes a pixel, rows packed) as PNG in memory (caller frees *data with
 * phieu_free), pHYs set when dpi > 0; deterministic, as every PNG phieu writes. A colour
 * scan is archived so: decoding the PNG gives the page's gray as phieu_image_of_rgb. */
int phieu_rgb_encode_png(const uint8_t *rgb, int width, int height, double dpi, uint8_t **data,
                         size_t *len, phieu_error *err);
/* The gray page of an RGB picture (3 bytes a pixel, rows packed, phieu_malloc'd), made in
 * its own memory: takes *rgb (NULL afterwards, on error too), converts each pixel with
 * phieu_image_gray_of_rgb into the first width x height bytes and gives the rest back, so
 * the RGB and the gray never exist side by side. The result is the gray a PNG or TIFF of
 * the same pixels decodes to. */
int phieu_image_of_rgb(uint8_t **rgb, int width, int height, double dpi, phieu_image **out,
                       phieu_error *err);

/* ---- the colour page (for people; recognition reads the gray phieu_image) ---- */

typedef struct phieu_rgb_image {
    int width;
    int height;
    int stride;      /* bytes from one row to the next (stride >= 3 * width) */
    uint8_t *pixels; /* width x height R, G, B triples, owned by the image */
    double dpi_x;    /* from the file's resolution tags; 0 when the file has none */
    double dpi_y;
    int colour; /* 1: the page is stored in colour (RGB, or a palette with a colour);
                   0: it is gray (every pixel has R = G = B) */
} phieu_rgb_image;

/* A new white colour image (colour set to 1). */
int phieu_rgb_image_create(int width, int height, phieu_rgb_image **out, phieu_error *err);
void phieu_rgb_image_destroy(phieu_rgb_image **img);

/* Like phieu_image_reader_next, the page in colour: 1 and a new image in *page, 0 at the
 * end, or a negative code (the same limits, checks and messages as the gray page). */
int phieu_image_reader_next_rgb(phieu_image_reader *r, phieu_rgb_image **page, phieu_error *err);
/* Page `page_index` (0-based) of a file in colour. */
int phieu_rgb_image_load(const char *path, int page_index, const phieu_image_limits *limits,
                         phieu_rgb_image **out, phieu_error *err);
/* Page `page_index` of a file as it is stored, for showing it: a colour page in *rgb, a
 * gray one in *gray (the pixels phieu_image_load gives); exactly one is set on success.
 * A gray page costs what phieu_image_load costs, not three bytes a pixel. */
int phieu_image_load_as_stored(const char *path, int page_index, const phieu_image_limits *limits,
                               phieu_image **gray, phieu_rgb_image **rgb, phieu_error *err);

/* A new colour image scaled by the box filter to fit in max_w x max_h, as
 * phieu_image_scale_to_fit does for gray (the same size, each channel the same filter). */
int phieu_rgb_image_scale_to_fit(const phieu_rgb_image *src, int max_w, int max_h,
                                 phieu_rgb_image **out, phieu_error *err);
/* A new colour image of the rectangle (clipped to the image), as phieu_image_crop. */
int phieu_rgb_image_crop(const phieu_rgb_image *src, int x, int y, int w, int h,
                         phieu_rgb_image **out, phieu_error *err);
/* The image as an RGB PNG in memory (caller frees *data with phieu_free), pHYs from its
 * dpi. */
int phieu_rgb_image_encode_png(const phieu_rgb_image *img, uint8_t **data, size_t *len,
                               phieu_error *err);

/* A new image scaled by the box filter so that it fits in max_w x max_h (aspect kept). */
int phieu_image_scale_to_fit(const phieu_image *src, int max_w, int max_h, phieu_image **out,
                             phieu_error *err);
/* A new image of the rectangle (clipped to the image). */
int phieu_image_crop(const phieu_image *src, int x, int y, int w, int h, phieu_image **out,
                     phieu_error *err);

#endif
