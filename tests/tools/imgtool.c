/*
 * imgtool: the image edits the end-to-end tests need, written with the libraries phieu
 * already links (libpng, libtiff and phieu's own image module), so that a test runs on a
 * machine with nothing but what scripts/install-deps installs (no ImageMagick, no
 * libtiff-tools). Built with the tests, never installed.
 *
 *   imgtool size IN                      prints "WIDTH HEIGHT" of page 1
 *   imgtool depth IN OUT BITS            gray PNG of 16, 8, 4 or 2 bits (OUT *.png), or a
 *                                        16-bit LZW TIFF (OUT *.tif, BITS 16)
 *   imgtool scale IN OUT PERCENT         the page printed at PERCENT % on a sheet of the
 *                                        same size: shrunk, centred on white
 *   imgtool crop IN OUT X Y W H          the rectangle (pixels), as an 8-bit PNG
 *   imgtool noise OUT W H SEED           a gray photograph-like picture (smooth shading
 *                                        and grain), no ballot
 *   imgtool line IMG X0 Y0 X1 Y1 WIDTH   a black pen line drawn into IMG (8-bit PNG)
 *   imgtool multipage OUT IN...          page 1 of each IN as one page of a TIFF
 *   imgtool colour IN OUT [dated]        page 1 of IN in RGB with a red seal ring at the
 *                                        top left, as a PNG (OUT *.png) or Deflate TIFF
 *                                        (OUT *.tif; "dated": with a DateTime tag)
 *   imgtool rgb PNG [COLUMNS]            "rgb WIDTH HEIGHT RED SHA256" for an 8-bit RGB
 *                                        PNG: RED pixels red as seal ink is (red >= 150
 *                                        and at least 60 above green, not below blue),
 *                                        the hash of each row's first COLUMNS pixels (all
 *                                        by default); "not-rgb" for any other PNG
 *
 * Exit 0 on success, 2 on wrong use, 1 on any failure (with a message on stderr).
 */
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "phieu/image.h"
#include "phieu/util.h"

static int usage(void)
{
    fprintf(stderr, "usage: imgtool size|depth|scale|crop|noise|line|multipage|colour|rgb ... "
                    "(see the comment at the top of tests/tools/imgtool.c)\n");
    return 2;
}

static int failed(const char *what, const phieu_error *err)
{
    fprintf(stderr, "imgtool: %s: %s\n", what, err ? err->message : "failed");
    return 1;
}

static phieu_image *load(const char *path)
{
    phieu_image_limits limits = phieu_image_default_limits();
    phieu_error err = {0};
    phieu_image *img = NULL;
    if (phieu_image_load(path, 0, &limits, &img, &err) < 0) {
        failed(path, &err);
        return NULL;
    }
    return img;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* A gray PNG of `bits` per sample (16, 8, 4 or 2), each sample the 8-bit gray rescaled. */
static int write_png_depth(const phieu_image *img, const char *path, int bits)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    size_t row_bytes = ((size_t)img->width * (size_t)bits + 7) / 8;
    png_bytep row = calloc(1, row_bytes);
    if (!png || !info || !row || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        fclose(f);
        fprintf(stderr, "imgtool: cannot write '%s'\n", path);
        return 1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, bits,
                 PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int levels = (1 << bits) - 1;
    for (int y = 0; y < img->height; y++) {
        const uint8_t *src = img->pixels + (size_t)y * (size_t)img->stride;
        memset(row, 0, row_bytes);
        for (int x = 0; x < img->width; x++) {
            unsigned v = (src[x] * (unsigned)levels + 127) / 255;
            if (bits == 16) {
                row[2 * x] = (png_byte)(v >> 8);
                row[2 * x + 1] = (png_byte)(v & 0xff);
            } else if (bits == 8) {
                row[x] = (png_byte)v;
            } else {
                int per_byte = 8 / bits, shift = 8 - bits * (x % per_byte + 1);
                row[x / per_byte] |= (png_byte)(v << shift);
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    return fclose(f) == 0 ? 0 : 1;
}

/* Writes the current page's gray samples (8 or 16 bits) into an open TIFF directory. */
static int write_tiff_page(TIFF *tif, const phieu_image *img, int bits, uint16_t compression)
{
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, (uint16_t)bits);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, compression);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    if (img->dpi_x > 0) {
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)img->dpi_x);
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)(img->dpi_y > 0 ? img->dpi_y : img->dpi_x));
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    }
    uint8_t *row = malloc((size_t)img->width * 2);
    if (!row)
        return 1;
    int rc = 0;
    for (int y = 0; y < img->height && rc == 0; y++) {
        const uint8_t *src = img->pixels + (size_t)y * (size_t)img->stride;
        for (int x = 0; x < img->width; x++) {
            if (bits == 16) {
                uint16_t v = (uint16_t)(src[x] * 257u);
                memcpy(row + 2 * x, &v, 2); /* libtiff takes native byte order */
            } else {
                row[x] = src[x];
            }
        }
        if (TIFFWriteScanline(tif, row, (uint32_t)y, 0) < 0)
            rc = 1;
    }
    free(row);
    return rc == 0 && TIFFWriteDirectory(tif) ? 0 : 1;
}

static int cmd_size(int argc, char **argv)
{
    if (argc != 1)
        return usage();
    phieu_image *img = load(argv[0]);
    if (!img)
        return 1;
    printf("%d %d\n", img->width, img->height);
    phieu_image_destroy(&img);
    return 0;
}

static int cmd_depth(int argc, char **argv)
{
    if (argc != 3)
        return usage();
    int bits = atoi(argv[2]);
    int to_tiff = ends_with(argv[1], ".tif") || ends_with(argv[1], ".tiff");
    if (to_tiff ? bits != 16 : (bits != 16 && bits != 8 && bits != 4 && bits != 2))
        return usage();
    phieu_image *img = load(argv[0]);
    if (!img)
        return 1;
    int rc;
    if (to_tiff) {
        TIFF *tif = TIFFOpen(argv[1], "w");
        rc = tif ? write_tiff_page(tif, img, 16, COMPRESSION_LZW) : 1;
        if (tif)
            TIFFClose(tif);
    } else {
        rc = write_png_depth(img, argv[1], bits);
    }
    phieu_image_destroy(&img);
    return rc;
}

static int save(const phieu_image *img, const char *path)
{
    phieu_error err = {0};
    return phieu_image_save_png(img, path, &err) < 0 ? failed(path, &err) : 0;
}

static int cmd_scale(int argc, char **argv)
{
    if (argc != 3)
        return usage();
    double percent = atof(argv[2]);
    if (percent <= 0 || percent > 100)
        return usage();
    phieu_image *img = load(argv[0]), *small = NULL, *sheet = NULL;
    if (!img)
        return 1;
    phieu_error err = {0};
    int w = (int)lround(img->width * percent / 100.0), h = (int)lround(img->height * percent / 100.0);
    int rc = 1;
    if (phieu_image_scale_to_fit(img, w, h, &small, &err) < 0 ||
        phieu_image_create(img->width, img->height, &sheet, &err) < 0) {
        rc = failed(argv[0], &err);
    } else {
        int x0 = (sheet->width - small->width) / 2, y0 = (sheet->height - small->height) / 2;
        for (int y = 0; y < small->height; y++)
            memcpy(sheet->pixels + (size_t)(y0 + y) * (size_t)sheet->stride + x0,
                   small->pixels + (size_t)y * (size_t)small->stride, (size_t)small->width);
        sheet->dpi_x = img->dpi_x;
        sheet->dpi_y = img->dpi_y;
        rc = save(sheet, argv[1]);
    }
    phieu_image_destroy(&img);
    phieu_image_destroy(&small);
    phieu_image_destroy(&sheet);
    return rc;
}

static int cmd_crop(int argc, char **argv)
{
    if (argc != 6)
        return usage();
    phieu_image *img = load(argv[0]), *part = NULL;
    if (!img)
        return 1;
    phieu_error err = {0};
    int rc = phieu_image_crop(img, atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
                              &part, &err) < 0
                 ? failed(argv[0], &err)
                 : save(part, argv[1]);
    phieu_image_destroy(&img);
    phieu_image_destroy(&part);
    return rc;
}

/* splitmix64: a fixed sequence for a seed, the same on every machine. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmd_noise(int argc, char **argv)
{
    if (argc != 4)
        return usage();
    int w = atoi(argv[1]), h = atoi(argv[2]);
    uint64_t state = strtoull(argv[3], NULL, 10);
    phieu_image *img = NULL;
    phieu_error err = {0};
    if (w <= 0 || h <= 0 || phieu_image_create(w, h, &img, &err) < 0)
        return failed(argv[0], &err);
    /* Shading: a few broad waves of random phase (hills and sky), then grain. */
    double phase[6];
    for (int i = 0; i < 6; i++)
        phase[i] = (double)(next_random(&state) % 6283) / 1000.0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double u = (double)x / w, v = (double)y / h;
            double shade = 128 + 45 * sin(6.1 * u + phase[0]) * cos(4.3 * v + phase[1]) +
                           30 * sin(17.0 * (u + v) + phase[2]) + 20 * cos(29.0 * u * v + phase[3]);
            double grain = (double)(next_random(&state) % 81) - 40.0;
            double g = shade + grain;
            img->pixels[(size_t)y * (size_t)img->stride + x] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
        }
    }
    int rc = save(img, argv[0]);
    phieu_image_destroy(&img);
    return rc;
}

static int cmd_line(int argc, char **argv)
{
    if (argc != 6)
        return usage();
    double x0 = atof(argv[1]), y0 = atof(argv[2]), x1 = atof(argv[3]), y1 = atof(argv[4]);
    double half = atof(argv[5]) / 2.0;
    phieu_image *img = load(argv[0]);
    if (!img)
        return 1;
    /* Every pixel whose centre lies within half the width of the segment turns black. */
    double dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    int xa = (int)floor(fmin(x0, x1) - half), xb = (int)ceil(fmax(x0, x1) + half);
    int ya = (int)floor(fmin(y0, y1) - half), yb = (int)ceil(fmax(y0, y1) + half);
    for (int y = ya < 0 ? 0 : ya; y <= yb && y < img->height; y++) {
        for (int x = xa < 0 ? 0 : xa; x <= xb && x < img->width; x++) {
            double t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = x0 + t * dx - x, ey = y0 + t * dy - y;
            if (ex * ex + ey * ey <= half * half)
                img->pixels[(size_t)y * (size_t)img->stride + x] = 0;
        }
    }
    int rc = save(img, argv[0]);
    phieu_image_destroy(&img);
    return rc;
}

static int cmd_multipage(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    TIFF *tif = TIFFOpen(argv[0], "w");
    if (!tif) {
        fprintf(stderr, "imgtool: cannot write '%s'\n", argv[0]);
        return 1;
    }
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        phieu_image *img = load(argv[i]);
        rc = img ? write_tiff_page(tif, img, 8, COMPRESSION_ADOBE_DEFLATE) : 1;
        phieu_image_destroy(&img);
    }
    TIFFClose(tif);
    return rc;
}

/* Row y of img as RGB, with the red ring (a seal: 4 mm wide band at 20 mm from the top
 * left, at the image's dpi or 200) drawn over it. */
static void colour_row(const phieu_image *img, int y, uint8_t *rgb)
{
    double dpmm = (img->dpi_x > 0 ? img->dpi_x : 200) / 25.4;
    double cx = 35 * dpmm, cy = 35 * dpmm, r = 17 * dpmm;
    for (int x = 0; x < img->width; x++) {
        uint8_t g = img->pixels[(size_t)y * (size_t)img->stride + (size_t)x];
        double d = hypot(x - cx, y - cy);
        int seal = fabs(d - r) < 2 * dpmm;
        rgb[3 * x] = seal ? 200 : g;
        rgb[3 * x + 1] = seal ? (uint8_t)(g * 0.25) : g;
        rgb[3 * x + 2] = seal ? (uint8_t)(g * 0.3) : g;
    }
}

static int write_colour_png(const phieu_image *img, const char *path, uint8_t *rgb)
{
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!f || !info || setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        if (f)
            fclose(f);
        return 1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (img->dpi_x > 0) /* as a scan is: the SANE backend scales by it */
        png_set_pHYs(png, info, (png_uint_32)lround(img->dpi_x / 0.0254),
                     (png_uint_32)lround(img->dpi_y / 0.0254), PNG_RESOLUTION_METER);
    png_write_info(png, info);
    for (int y = 0; y < img->height; y++) {
        colour_row(img, y, rgb);
        png_write_row(png, rgb);
    }
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return fclose(f) == 0 ? 0 : 1;
}

static int write_colour_tiff(const phieu_image *img, const char *path, int dated, uint8_t *rgb)
{
    TIFF *tif = TIFFOpen(path, "w");
    if (!tif)
        return 1;
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)img->width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)img->height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 3);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 64u);
    if (img->dpi_x > 0) {
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, (float)img->dpi_x);
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, (float)img->dpi_y);
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
    }
    if (dated) /* what a scanner's driver writes: the time of the scan */
        TIFFSetField(tif, TIFFTAG_DATETIME, "2026:11:28 09:41:07");
    int rc = 0;
    for (int y = 0; y < img->height && rc == 0; y++) {
        colour_row(img, y, rgb);
        rc = TIFFWriteScanline(tif, rgb, (uint32_t)y, 0) == 1 ? 0 : 1;
    }
    rc = rc == 0 && TIFFWriteDirectory(tif) ? 0 : 1;
    TIFFClose(tif);
    return rc;
}

static int cmd_colour(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "dated") != 0))
        return usage();
    phieu_image *img = load(argv[0]);
    uint8_t *rgb = img ? malloc((size_t)img->width * 3) : NULL;
    int rc = 1;
    if (rgb)
        rc = ends_with(argv[1], ".png") ? write_colour_png(img, argv[1], rgb)
                                        : write_colour_tiff(img, argv[1], argc == 3, rgb);
    if (rc != 0)
        fprintf(stderr, "imgtool: cannot write '%s'\n", argv[1]);
    free(rgb);
    phieu_image_destroy(&img);
    return rc;
}

/* The pixels of a PNG as it is, not as phieu reads it (gray): what the archive keeps. */
static int cmd_rgb(int argc, char **argv)
{
    if (argc < 1 || argc > 2)
        return usage();
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, argv[0])) {
        fprintf(stderr, "imgtool: %s: %s\n", argv[0], im.message);
        return 1;
    }
    if (im.format != PNG_FORMAT_RGB) { /* gray, alpha, palette or 16-bit */
        png_image_free(&im);
        printf("not-rgb\n");
        return 0;
    }
    size_t w = im.width, h = im.height;
    size_t cols = argc == 2 ? (size_t)strtoul(argv[1], NULL, 10) : w;
    uint8_t *px = malloc(w * h * 3), *rows = malloc(cols * h * 3);
    if (!px || !rows || cols > w || !png_image_finish_read(&im, NULL, px, 0, NULL)) {
        png_image_free(&im);
        free(px);
        free(rows);
        fprintf(stderr, "imgtool: %s: cannot read its pixels\n", argv[0]);
        return 1;
    }
    size_t red = 0;
    for (size_t i = 0; i < w * h; i++) {
        unsigned r = px[3 * i], g = px[3 * i + 1], b = px[3 * i + 2];
        red += r >= 150 && r >= g + 60 && r >= b;
    }
    for (size_t y = 0; y < h; y++)
        memcpy(rows + y * cols * 3, px + y * w * 3, cols * 3);
    char hex[PHIEU_SHA256_HEX];
    phieu_sha256_hex(rows, cols * h * 3, hex);
    printf("rgb %zu %zu %zu %s\n", w, h, red, hex);
    free(px);
    free(rows);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {
        {"size", cmd_size},   {"depth", cmd_depth}, {"scale", cmd_scale},         {"crop", cmd_crop},
        {"noise", cmd_noise}, {"line", cmd_line},   {"multipage", cmd_multipage},
        {"colour", cmd_colour}, {"rgb", cmd_rgb},
    };
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    return usage();
}
