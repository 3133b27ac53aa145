/*
 * test_image.c - the image module: every TIFF and PNG variant a scanner or a program may
 * write (generated here with libtiff and libpng into a temporary folder) decodes to the
 * gray values computed by hand from the samples written; resolution tags; round trips;
 * deterministic PNG bytes; limits; damaged, truncated and foreign files; out-of-memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/image.h"

static char tmpdir[256];
/* libtiff's printing handlers, silenced while the tests write files with libtiff and put
 * back when a test checks that the loaders print nothing by themselves. */
static TIFFErrorHandler tiff_default_error, tiff_default_warning;

static const char *tmp_path(const char *name)
{
    static char paths[8][512];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

/* ---- expected values, computed the way the header's contract states ---- */

/* Luma, except red and magenta ink, read as its red channel (the seal's dropout). */
static uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    if (r >= g + 60 && r >= b)
        return (uint8_t)r;
    return (uint8_t)((299 * r + 587 * g + 114 * b + 500) / 1000);
}

static uint8_t on_white(unsigned v, unsigned a)
{
    return (uint8_t)((v * a + 255 * (255 - a) + 127) / 255);
}

/* Content: different at every pixel and page, covering 0..255. */
static uint8_t pat(int x, int y, int page)
{
    return (uint8_t)(x * 7 + y * 13 + page * 50);
}

/* Smooth content for JPEG, which cannot keep sharp detail exactly. */
static uint8_t smooth(int x, int y)
{
    return (uint8_t)(40 + x * 2 + y);
}

static int bit_black(int x, int y)
{
    return ((x / 3 + y / 2) % 3) == 0;
}

/* ---- writing test TIFFs with libtiff ---- */

typedef struct {
    int w, h;
    uint16_t bps, spp, photometric, compression;
    int tiled;    /* 16x16 tiles */
    uint32_t rps; /* rows per strip (0: 5) */
    int extra;    /* EXTRASAMPLE_* for the last sample when spp is 2 or 4, or -1 */
    int planar_separate;
    float xres, yres; /* 0: no resolution tags */
    uint16_t resunit;
    int ycbcr;            /* JPEG with YCbCr */
    uint16_t orientation; /* ORIENTATION_*; 0: no tag */
} tspec;

static tspec tspec_default(void)
{
    tspec s = {.w = 37,
               .h = 29,
               .bps = 8,
               .spp = 1,
               .photometric = PHOTOMETRIC_MINISBLACK,
               .compression = COMPRESSION_NONE,
               .rps = 5,
               .extra = -1,
               .resunit = RESUNIT_INCH};
    return s;
}

/* The raw samples of pixel (x, y) of page `page` for spec s, chosen so that the expected
 * gray is easy to state; written into out (spp samples of bps bits, as unsigned). */
static void sample_of(const tspec *s, int x, int y, int page, unsigned out[4])
{
    unsigned v = pat(x, y, page);
    if (s->compression == COMPRESSION_JPEG)
        v = smooth(x, y);
    if (s->bps == 1) {
        int black = bit_black(x + page, y);
        out[0] = s->photometric == PHOTOMETRIC_MINISWHITE ? (unsigned)black : (unsigned)!black;
        return;
    }
    if (s->bps == 4) {
        out[0] = (unsigned)((x + y + page) & 15);
        return;
    }
    if (s->photometric == PHOTOMETRIC_PALETTE) {
        out[0] = (unsigned)((x * 3 + y) % (1 << s->bps));
        return;
    }
    if (s->bps == 16) {
        out[0] = (v << 8) | (unsigned)((x * 31) & 0xff); /* low byte must not matter */
        out[1] = (((v * 3) & 0xff) << 8) | 0x80;
        out[2] = (((v * 5) & 0xff) << 8) | 0x7f;
        out[3] = (unsigned)((x * 40) & 0xff) << 8;
        return;
    }
    out[0] = v;
    out[1] = s->compression == COMPRESSION_JPEG ? (unsigned)smooth(y, x) : (v * 3) & 0xff;
    out[2] = s->compression == COMPRESSION_JPEG ? (unsigned)(200 - x) : (v * 5) & 0xff;
    out[3] = (unsigned)((x * 40) & 0xff);
    if (s->extra == EXTRASAMPLE_ASSOCALPHA) { /* premultiplied: colour <= alpha */
        unsigned a = out[s->spp - 1];
        for (int i = 0; i < s->spp - 1; i++)
            out[i] = out[i] * a / 255;
    }
}

/* A palette of 2^bps colours. */
static void palette_of(int bps, uint16_t *r, uint16_t *g, uint16_t *b)
{
    for (int i = 0; i < (1 << bps); i++) {
        r[i] = (uint16_t)(((i * 37) & 0xff) * 257);
        g[i] = (uint16_t)(((i * 91 + 10) & 0xff) * 257);
        b[i] = (uint16_t)(((255 - i * 5) & 0xff) * 257);
    }
}

/* The gray the loader must give for pixel (x, y). */
static uint8_t expected_of(const tspec *s, int x, int y, int page)
{
    unsigned v[4];
    sample_of(s, x, y, page, v);
    int sh = s->bps == 16 ? 8 : 0;
    switch (s->photometric) {
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_MINISBLACK: {
        unsigned g;
        if (s->bps == 1)
            g = v[0] ? 255 : 0;
        else if (s->bps == 4)
            g = v[0] * 17;
        else
            g = v[0] >> sh;
        if (s->photometric == PHOTOMETRIC_MINISWHITE)
            g = 255 - g;
        if (s->spp == 2 && s->extra == EXTRASAMPLE_UNASSALPHA)
            g = on_white(g, v[1] >> sh);
        return (uint8_t)g;
    }
    case PHOTOMETRIC_PALETTE: {
        uint16_t r[256], g[256], b[256];
        palette_of(s->bps, r, g, b);
        return luma(r[v[0]] >> 8, g[v[0]] >> 8, b[v[0]] >> 8);
    }
    default: {
        uint8_t l = luma(v[0] >> sh, v[1] >> sh, v[2] >> sh);
        if (s->spp == 4 && s->extra == EXTRASAMPLE_UNASSALPHA)
            return on_white(l, v[3] >> sh);
        if (s->spp == 4 && s->extra == EXTRASAMPLE_ASSOCALPHA) {
            unsigned o = l + (255 - (v[3] >> sh));
            return (uint8_t)(o > 255 ? 255 : o);
        }
        return l;
    }
    }
}

static void pack_row(const tspec *s, int y, int page, int x0, int n, int plane, uint8_t *row)
{
    size_t bytes = ((size_t)n * s->bps * (s->planar_separate ? 1 : s->spp) + 7) / 8;
    memset(row, 0, bytes);
    int k = 0; /* sample index in the row */
    for (int x = x0; x < x0 + n; x++) {
        unsigned v[4];
        sample_of(s, x, y, page, v);
        for (int c = 0; c < s->spp; c++) {
            if (s->planar_separate && c != plane)
                continue;
            unsigned val = x < s->w && y < s->h ? v[c] : 0;
            if (s->bps == 16)
                ((uint16_t *)row)[k] = (uint16_t)val;
            else if (s->bps == 8)
                row[k] = (uint8_t)val;
            else
                row[k * s->bps / 8] |= (uint8_t)(val << (8 - s->bps - (k * s->bps) % 8));
            k++;
        }
    }
}

static void write_tiff_page(TIFF *tif, const tspec *s, int page)
{
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)s->w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)s->h);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, s->bps);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, s->spp);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG,
                 s->planar_separate ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, s->compression);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s->ycbcr ? PHOTOMETRIC_YCBCR : s->photometric);
    if (s->compression == COMPRESSION_JPEG) {
        TIFFSetField(tif, TIFFTAG_JPEGQUALITY, 95);
        if (s->ycbcr)
            TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    }
    if (s->extra >= 0) {
        uint16_t t = (uint16_t)s->extra;
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, &t);
    }
    if (s->photometric == PHOTOMETRIC_PALETTE) {
        uint16_t r[256], g[256], b[256];
        palette_of(s->bps, r, g, b);
        TIFFSetField(tif, TIFFTAG_COLORMAP, r, g, b);
    }
    if (s->xres > 0) {
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, s->xres);
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, s->yres);
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, s->resunit);
    }
    if (s->compression == COMPRESSION_CCITTFAX3)
        TIFFSetField(tif, TIFFTAG_GROUP3OPTIONS, GROUP3OPT_2DENCODING);
    if (s->orientation)
        TIFFSetField(tif, TIFFTAG_ORIENTATION, s->orientation);
    int planes = s->planar_separate ? s->spp : 1;
    uint8_t row[4096];
    if (s->tiled) {
        const int T = 16;
        TIFFSetField(tif, TIFFTAG_TILEWIDTH, T);
        TIFFSetField(tif, TIFFTAG_TILELENGTH, T);
        uint8_t *tile = calloc(1, (size_t)TIFFTileSize(tif));
        assert_non_null(tile);
        size_t rowbytes = (size_t)TIFFTileRowSize(tif);
        for (int p = 0; p < planes; p++)
            for (int y0 = 0; y0 < s->h; y0 += T)
                for (int x0 = 0; x0 < s->w; x0 += T) {
                    for (int y = 0; y < T; y++) {
                        pack_row(s, y0 + y, page, x0, T, p, row);
                        memcpy(tile + rowbytes * (size_t)y, row, rowbytes);
                    }
                    assert_true(
                        TIFFWriteTile(tif, tile, (uint32_t)x0, (uint32_t)y0, 0, (uint16_t)p) >= 0);
                }
        free(tile);
    } else {
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, s->rps ? s->rps : 5);
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < s->h; y++) {
                pack_row(s, y, page, 0, s->w, p, row);
                assert_true(TIFFWriteScanline(tif, row, (uint32_t)y, (uint16_t)p) >= 0);
            }
    }
    assert_true(TIFFWriteDirectory(tif));
}

static const char *write_tiff(const char *name, const tspec *specs, int pages)
{
    const char *path = tmp_path(name);
    TIFF *tif = TIFFOpen(path, "w");
    assert_non_null(tif);
    for (int p = 0; p < pages; p++)
        write_tiff_page(tif, &specs[p], p);
    TIFFClose(tif);
    return path;
}

/* Loads every page of path and compares with the specs; tolerance for JPEG. */
static void check_tiff(const char *path, const tspec *specs, int pages, int tolerance)
{
    phieu_error err = {0};
    phieu_image_reader *r = NULL;
    assert_int_equal(phieu_image_reader_open(path, NULL, &r, &err), 0);
    for (int p = 0; p < pages; p++) {
        phieu_image *img = NULL;
        int rc = phieu_image_reader_next(r, &img, &err);
        if (rc != 1)
            fail_msg("%s page %d: rc %d: %s", path, p + 1, rc, err.message);
        assert_int_equal(img->width, specs[p].w);
        assert_int_equal(img->height, specs[p].h);
        long total = 0;
        for (int y = 0; y < img->height; y++)
            for (int x = 0; x < img->width; x++) {
                int got = img->pixels[(size_t)y * (size_t)img->stride + (size_t)x];
                int want = expected_of(&specs[p], x, y, p);
                int d = abs(got - want);
                total += d;
                if (d > tolerance)
                    fail_msg("%s page %d (%d,%d): got %d want %d", path, p + 1, x, y, got, want);
            }
        if (tolerance > 0) /* JPEG: small on average as well as at every pixel */
            assert_true(total <= 3L * img->width * img->height);
        phieu_image_destroy(&img);
        assert_null(img);
    }
    phieu_image *none = NULL;
    assert_int_equal(phieu_image_reader_next(r, &none, &err), 0);
    assert_null(none);
    phieu_image_reader_close(&r);
    assert_null(r);
}

static void check_one(const char *name, tspec s, int tolerance)
{
    check_tiff(write_tiff(name, &s, 1), &s, 1, tolerance);
}

/* ---- TIFF variants ---- */

static void test_tiff_gray8_compressions_strips_and_tiles(void **state)
{
    (void)state;
    const uint16_t comps[] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE,
                              COMPRESSION_PACKBITS};
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++)
        for (int tiled = 0; tiled <= 1; tiled++) {
            tspec s = tspec_default();
            s.compression = comps[i];
            s.tiled = tiled;
            char name[64];
            snprintf(name, sizeof name, "gray8-%u-%d.tif", comps[i], tiled);
            check_one(name, s, 0);
        }
    tspec whole = tspec_default();
    whole.rps = 1000; /* one strip for the whole page */
    check_one("gray8-onestrip.tif", whole, 0);
}

/* A strip above 1 MB decoded is read a row at a time (tiff_read.c, STRIP_BUFFER_MAX): the
 * same pixels as strips read whole, for the codecs scanners write one strip with; a page of
 * 3 strips, the first two large, gives back the strips before as it goes. A damaged large
 * strip is an error naming the row, never a crash. */
static void test_tiff_large_strips_row_by_row(void **state)
{
    (void)state;
    const uint16_t comps[] = {COMPRESSION_NONE, COMPRESSION_ADOBE_DEFLATE, COMPRESSION_LZW};
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++) {
        tspec s = tspec_default();
        s.w = 1100; /* 1100 x 1000 8-bit in one strip: 1.1 MB */
        s.h = 1000;
        s.rps = 1000;
        s.compression = comps[i];
        char name[64];
        snprintf(name, sizeof name, "gray8-large-strip-%u.tif", comps[i]);
        check_one(name, s, 0);
        s.rps = 400; /* 3 strips, 440 + 440 + 220 KB: whole strips, the other path */
        snprintf(name, sizeof name, "gray8-3-strips-%u.tif", comps[i]);
        check_one(name, s, 0);
    }
    tspec s = tspec_default();
    s.w = 2000; /* 16-bit, 2 strips of 1.6 MB and 0.8 MB */
    s.h = 600;
    s.rps = 400;
    s.bps = 16;
    s.compression = COMPRESSION_ADOBE_DEFLATE;
    check_one("gray16-large-strips.tif", s, 0);
    s = tspec_default();
    s.w = 4000; /* 1-bit Group 4 in one strip, 4000 x 2200: 1.1 MB decoded */
    s.h = 2200;
    s.rps = 2200;
    s.bps = 1;
    s.photometric = PHOTOMETRIC_MINISWHITE;
    s.compression = COMPRESSION_CCITTFAX4;
    check_one("bw-g4-large-strip.tif", s, 0);

    tspec d = tspec_default();
    d.w = 1100;
    d.h = 1000;
    d.rps = 1000;
    d.compression = COMPRESSION_ADOBE_DEFLATE;
    const char *path = write_tiff("gray8-large-strip-damaged.tif", &d, 1);
    TIFF *t = TIFFOpen(path, "r");
    assert_non_null(t);
    uint64_t at = TIFFGetStrileOffset(t, 0);
    TIFFClose(t);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, (long)at, SEEK_SET), 0);
    assert_int_equal(fwrite("not a zlib stream", 1, 17, fp), 17);
    fclose(fp);
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), PHIEU_EFORMAT);
    assert_null(img);
    assert_non_null(strstr(err.message, "row 1 of 1000 cannot be decoded"));
}

static void test_tiff_gray8_jpeg_within_tolerance(void **state)
{
    (void)state;
    for (int tiled = 0; tiled <= 1; tiled++) {
        tspec s = tspec_default();
        s.w = 48;
        s.h = 32;
        s.rps = 16; /* JPEG strips are multiples of 8 rows */
        s.compression = COMPRESSION_JPEG;
        s.tiled = tiled;
        check_one(tiled ? "gray-jpeg-tiles.tif" : "gray-jpeg.tif", s, 12);
    }
}

static void test_tiff_1bit_fax_and_plain_both_photometrics(void **state)
{
    (void)state;
    const uint16_t comps[] = {COMPRESSION_NONE, COMPRESSION_CCITTFAX3, COMPRESSION_CCITTFAX4,
                              COMPRESSION_PACKBITS, COMPRESSION_LZW};
    const uint16_t photos[] = {PHOTOMETRIC_MINISWHITE, PHOTOMETRIC_MINISBLACK};
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++)
        for (size_t p = 0; p < 2; p++) {
            tspec s = tspec_default();
            s.bps = 1;
            s.photometric = photos[p];
            s.compression = comps[i];
            s.rps = comps[i] == COMPRESSION_NONE ? 5 : 1000;
            char name[64];
            snprintf(name, sizeof name, "bw-%u-%u.tif", comps[i], photos[p]);
            check_one(name, s, 0);
        }
    tspec t = tspec_default();
    t.bps = 1;
    t.photometric = PHOTOMETRIC_MINISWHITE;
    t.compression = COMPRESSION_CCITTFAX4;
    t.tiled = 1;
    check_one("bw-g4-tiles.tif", t, 0);
}

static void test_tiff_4bit_and_16bit_gray(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.bps = 4;
    check_one("gray4.tif", s, 0);
    s = tspec_default();
    s.bps = 16;
    s.compression = COMPRESSION_ADOBE_DEFLATE;
    check_one("gray16.tif", s, 0);
    s.photometric = PHOTOMETRIC_MINISWHITE;
    s.tiled = 1;
    check_one("gray16-miniswhite-tiles.tif", s, 0);
    s = tspec_default();
    s.photometric = PHOTOMETRIC_MINISWHITE;
    check_one("gray8-miniswhite.tif", s, 0);
}

static void test_tiff_rgb_rgba_and_gray_alpha(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.spp = 3;
    s.photometric = PHOTOMETRIC_RGB;
    s.compression = COMPRESSION_LZW;
    check_one("rgb.tif", s, 0);
    s.tiled = 1;
    check_one("rgb-tiles.tif", s, 0);
    s.tiled = 0;
    s.spp = 4;
    s.extra = EXTRASAMPLE_UNASSALPHA;
    check_one("rgba.tif", s, 0);
    s.extra = EXTRASAMPLE_ASSOCALPHA;
    check_one("rgba-premultiplied.tif", s, 0);
    s = tspec_default();
    s.spp = 3;
    s.bps = 16;
    s.photometric = PHOTOMETRIC_RGB;
    check_one("rgb16.tif", s, 0);
    s = tspec_default();
    s.spp = 2;
    s.extra = EXTRASAMPLE_UNASSALPHA;
    s.compression = COMPRESSION_ADOBE_DEFLATE;
    check_one("gray-alpha.tif", s, 0);
    s = tspec_default(); /* planar RGB takes libtiff's RGBA path */
    s.spp = 3;
    s.photometric = PHOTOMETRIC_RGB;
    s.planar_separate = 1;
    check_one("rgb-planar.tif", s, 0);
}

static void test_tiff_rgb_jpeg_ycbcr(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.w = 48;
    s.h = 32;
    s.rps = 16;
    s.spp = 3;
    s.photometric = PHOTOMETRIC_RGB;
    s.compression = COMPRESSION_JPEG;
    s.ycbcr = 1;
    check_one("rgb-jpeg.tif", s, 12);
}

static void test_tiff_palette(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.photometric = PHOTOMETRIC_PALETTE;
    check_one("palette8.tif", s, 0);
    s.bps = 4;
    s.compression = COMPRESSION_PACKBITS;
    check_one("palette4.tif", s, 0);
}

static void test_tiff_three_pages_of_different_content(void **state)
{
    (void)state;
    tspec specs[3];
    specs[0] = tspec_default();
    specs[0].compression = COMPRESSION_LZW;
    specs[1] = tspec_default();
    specs[1].w = 61;
    specs[1].h = 17;
    specs[1].bps = 1;
    specs[1].photometric = PHOTOMETRIC_MINISWHITE;
    specs[1].compression = COMPRESSION_CCITTFAX4;
    specs[1].rps = 1000;
    specs[2] = tspec_default();
    specs[2].w = 20;
    specs[2].h = 40;
    specs[2].spp = 3;
    specs[2].photometric = PHOTOMETRIC_RGB;
    specs[2].compression = COMPRESSION_ADOBE_DEFLATE;
    specs[2].tiled = 1;
    const char *path = write_tiff("three.tif", specs, 3);
    check_tiff(path, specs, 3, 0);

    /* phieu_image_load picks one page; past the end is a clear error. */
    phieu_error err = {0};
    phieu_image *img = NULL;
    assert_int_equal(phieu_image_load(path, 2, NULL, &img, &err), 0);
    assert_int_equal(img->width, 20);
    assert_int_equal(img->pixels[5 * img->stride + 3], expected_of(&specs[2], 3, 5, 2));
    phieu_image_destroy(&img);
    assert_int_equal(phieu_image_load(path, 3, NULL, &img, &err), PHIEU_ENOTFOUND);
    assert_non_null(strstr(err.message, "page 4"));
    assert_null(img);
}

/* A page stored sideways or mirrored with an Orientation tag is turned upright: for each
 * tag value, where the visual top-left, top-right and bottom-left pixels are in the stored
 * raster (TIFF 6.0, section 8), every pixel between following from those three. Both
 * decoding paths: direct (gray) and libtiff's RGBA fallback (planar RGB). */
static void test_tiff_orientation_turns_the_page_upright(void **state)
{
    (void)state;
    static const struct {
        uint16_t tag;
        int tl[2], tr[2], bl[2]; /* stored (x, y), with W = w - 1 and H = h - 1 as 1 */
    } cases[] = {
        {ORIENTATION_TOPLEFT, {0, 0}, {1, 0}, {0, 1}},
        {ORIENTATION_TOPRIGHT, {1, 0}, {0, 0}, {1, 1}},
        {ORIENTATION_BOTRIGHT, {1, 1}, {0, 1}, {1, 0}},
        {ORIENTATION_BOTLEFT, {0, 1}, {1, 1}, {0, 0}},
        {ORIENTATION_LEFTTOP, {0, 0}, {0, 1}, {1, 0}},
        {ORIENTATION_RIGHTTOP, {0, 1}, {0, 0}, {1, 1}},
        {ORIENTATION_RIGHTBOT, {1, 1}, {1, 0}, {0, 1}},
        {ORIENTATION_LEFTBOT, {1, 0}, {1, 1}, {0, 0}},
    };
    for (int planar = 0; planar <= 1; planar++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            tspec s = tspec_default();
            s.orientation = cases[c].tag;
            s.xres = 300;
            s.yres = 150;
            if (planar) {
                s.spp = 3;
                s.photometric = PHOTOMETRIC_RGB;
                s.planar_separate = 1;
            }
            phieu_error err = {0};
            phieu_image *img = NULL;
            assert_int_equal(
                phieu_image_load(write_tiff("oriented.tif", &s, 1), 0, NULL, &img, &err), 0);
            int sideways = cases[c].tag >= ORIENTATION_LEFTTOP;
            assert_int_equal(img->width, sideways ? s.h : s.w);
            assert_int_equal(img->height, sideways ? s.w : s.h);
            assert_true(img->dpi_x == (sideways ? 150 : 300));
            const int W = s.w - 1, H = s.h - 1, vw = img->width - 1, vh = img->height - 1;
            for (int vy = 0; vy <= vh; vy++)
                for (int vx = 0; vx <= vw; vx++) {
                    int sx = cases[c].tl[0] * W + (cases[c].tr[0] - cases[c].tl[0]) * W * vx / vw +
                             (cases[c].bl[0] - cases[c].tl[0]) * W * vy / vh;
                    int sy = cases[c].tl[1] * H + (cases[c].tr[1] - cases[c].tl[1]) * H * vx / vw +
                             (cases[c].bl[1] - cases[c].tl[1]) * H * vy / vh;
                    int got = img->pixels[(size_t)vy * (size_t)img->stride + (size_t)vx];
                    int want = expected_of(&s, sx, sy, 0);
                    if (got != want)
                        fail_msg("orientation %u%s: visual (%d,%d) is %d, stored (%d,%d) is %d",
                                 cases[c].tag, planar ? " planar" : "", vx, vy, got, sx, sy, want);
                }
            phieu_image_destroy(&img);
        }
}

/* Reading page after page into the memory of the page before (phieu read does, so that
 * the kernel does not zero a fresh buffer per page): the pages are right, the memory is
 * the same when it is large enough, and the caller keeps its page at the end of a file. */
static void test_reader_reuses_the_previous_page(void **state)
{
    (void)state;
    tspec specs[3];
    specs[0] = tspec_default(); /* 37 x 29 */
    specs[1] = tspec_default();
    specs[1].w = 20, specs[1].h = 10; /* smaller: fits */
    specs[2] = tspec_default();
    specs[2].w = 60, specs[2].h = 40; /* larger: a new buffer */
    const char *path = write_tiff("reuse.tif", specs, 3);
    phieu_error err = {0};
    phieu_image_reader *r = NULL;
    phieu_image *page = NULL;
    assert_int_equal(phieu_image_reader_open(path, NULL, &r, &err), 0);
    const uint8_t *first_memory = NULL;
    for (int p = 0; p < 3; p++) {
        assert_int_equal(phieu_image_reader_next_reusing(r, &page, &err), 1);
        assert_non_null(page);
        if (p == 0)
            first_memory = page->pixels;
        if (p == 1)
            assert_ptr_equal(page->pixels, first_memory);
        assert_int_equal(page->width, specs[p].w);
        assert_int_equal(page->height, specs[p].h);
        assert_int_equal(page->stride, specs[p].w);
        for (int y = 0; y < page->height; y++)
            for (int x = 0; x < page->width; x++)
                assert_int_equal(page->pixels[(size_t)y * page->stride + x],
                                 expected_of(&specs[p], x, y, p));
    }
    const phieu_image *last = page;
    assert_int_equal(phieu_image_reader_next_reusing(r, &page, &err), 0);
    assert_ptr_equal(page, last); /* the end leaves the caller's page */
    phieu_image_reader_close(&r);
    /* Into the next file: its first page takes the memory of this file's last. */
    const uint8_t *kept = page->pixels;
    assert_int_equal(phieu_image_reader_open(path, NULL, &r, &err), 0);
    assert_int_equal(phieu_image_reader_next_reusing(r, &page, &err), 1);
    assert_ptr_equal(page->pixels, kept);
    assert_int_equal(page->pixels[5 * page->stride + 3], expected_of(&specs[0], 3, 5, 0));
    phieu_image_reader_close(&r);
    phieu_image_destroy(&page);
}

static void test_tiff_resolution_inch_and_centimetre(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = NULL;
    tspec s = tspec_default();
    s.xres = 300;
    s.yres = 200;
    const char *path = write_tiff("res-inch.tif", &s, 1);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_true(img->dpi_x == 300.0 && img->dpi_y == 200.0);
    phieu_image_destroy(&img);

    s.xres = 118.11f; /* 300 dpi in pixels per centimetre */
    s.yres = 59.055f; /* 150 dpi */
    s.resunit = RESUNIT_CENTIMETER;
    path = write_tiff("res-cm.tif", &s, 1);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_true(img->dpi_x == 300.0 && img->dpi_y == 150.0);
    phieu_image_destroy(&img);

    s.xres = 72;
    s.yres = 72;
    s.resunit = RESUNIT_NONE; /* an aspect ratio only: no dpi */
    path = write_tiff("res-none.tif", &s, 1);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_true(img->dpi_x == 0.0 && img->dpi_y == 0.0);
    phieu_image_destroy(&img);

    s = tspec_default(); /* no tags at all */
    path = write_tiff("res-absent.tif", &s, 1);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_true(img->dpi_x == 0.0 && img->dpi_y == 0.0);
    phieu_image_destroy(&img);
}

/* ---- PNG variants ---- */

typedef struct {
    int w, h, depth, color, interlace;
    int trns; /* palette with transparency */
    int ppm;  /* pHYs pixels per metre, 0 for none */
} pspec;

static unsigned png_sample(const pspec *s, int x, int y, int c)
{
    unsigned v = pat(x, y, c);
    if (s->color == PNG_COLOR_TYPE_PALETTE)
        return (unsigned)((x * 3 + y) % (1 << s->depth));
    if (s->depth < 8)
        return (unsigned)((x + y * 2 + c) % (1 << s->depth));
    if (s->depth == 16)
        return (v << 8) | (unsigned)((x * 17) & 0xff);
    return v;
}

static int png_channels(int color)
{
    switch (color) {
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return 2;
    case PNG_COLOR_TYPE_RGB:
        return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA:
        return 4;
    default:
        return 1;
    }
}

static void png_palette_of(png_color *pal, png_byte *trns, int n)
{
    for (int i = 0; i < n; i++) {
        pal[i].red = (png_byte)(i * 37);
        pal[i].green = (png_byte)(i * 91 + 10);
        pal[i].blue = (png_byte)(255 - i * 5);
        trns[i] = (png_byte)(i * 29);
    }
}

static uint8_t png_expected(const pspec *s, int x, int y)
{
    unsigned v[4] = {0, 0, 0, 0};
    int n = png_channels(s->color);
    for (int c = 0; c < n; c++)
        v[c] = png_sample(s, x, y, c);
    if (s->color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        png_byte trns[256];
        png_palette_of(pal, trns, 256);
        uint8_t l = luma(pal[v[0]].red, pal[v[0]].green, pal[v[0]].blue);
        return s->trns ? on_white(l, trns[v[0]]) : l;
    }
    if (s->depth < 8) {
        unsigned maxv = (1u << s->depth) - 1;
        return (uint8_t)(v[0] * 255 / maxv);
    }
    int sh = s->depth == 16 ? 8 : 0;
    switch (s->color) {
    case PNG_COLOR_TYPE_GRAY:
        return (uint8_t)(v[0] >> sh);
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        return on_white(v[0] >> sh, v[1] >> sh);
    case PNG_COLOR_TYPE_RGB:
        return luma(v[0] >> sh, v[1] >> sh, v[2] >> sh);
    default:
        return on_white(luma(v[0] >> sh, v[1] >> sh, v[2] >> sh), v[3] >> sh);
    }
}

static const char *write_png(const char *name, const pspec *s)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_non_null(info);
    if (setjmp(png_jmpbuf(png)))
        fail_msg("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->color, s->interlace,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    if (s->color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        png_byte trns[256];
        png_palette_of(pal, trns, 256);
        png_set_PLTE(png, info, pal, 1 << s->depth);
        if (s->trns)
            png_set_tRNS(png, info, trns, 1 << s->depth, NULL);
    }
    if (s->ppm)
        png_set_pHYs(png, info, (png_uint_32)s->ppm, (png_uint_32)s->ppm, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    if (s->depth == 16)
        png_set_swap(png); /* our rows hold native 16-bit values */
    int passes = png_set_interlace_handling(png);
    int n = png_channels(s->color);
    size_t rowbytes = ((size_t)s->w * (size_t)n * (size_t)s->depth + 7) / 8;
    uint8_t *rows = calloc((size_t)s->h, rowbytes);
    assert_non_null(rows);
    for (int y = 0; y < s->h; y++) {
        uint8_t *row = rows + rowbytes * (size_t)y;
        for (int x = 0; x < s->w; x++)
            for (int c = 0; c < n; c++) {
                unsigned v = png_sample(s, x, y, c);
                int k = x * n + c;
                if (s->depth == 16)
                    ((uint16_t *)row)[k] = (uint16_t)v;
                else if (s->depth == 8)
                    row[k] = (uint8_t)v;
                else
                    row[k * s->depth / 8] |= (uint8_t)(v << (8 - s->depth - (k * s->depth) % 8));
            }
    }
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < s->h; y++)
            png_write_row(png, rows + rowbytes * (size_t)y);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    fclose(f);
    return path;
}

static void check_png(const char *name, pspec s)
{
    const char *path = write_png(name, &s);
    phieu_error err = {0};
    phieu_image *img = NULL;
    int rc = phieu_image_load(path, 0, NULL, &img, &err);
    if (rc != 0)
        fail_msg("%s: %s", path, err.message);
    assert_int_equal(img->width, s.w);
    assert_int_equal(img->height, s.h);
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++) {
            int got = img->pixels[(size_t)y * (size_t)img->stride + (size_t)x];
            int want = png_expected(&s, x, y);
            if (got != want)
                fail_msg("%s (%d,%d): got %d want %d", path, x, y, got, want);
        }
    phieu_image_destroy(&img);
}

static void test_png_every_colour_type_and_depth(void **state)
{
    (void)state;
    const struct {
        int color, depth;
    } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, 1},        {PNG_COLOR_TYPE_GRAY, 2},
        {PNG_COLOR_TYPE_GRAY, 4},        {PNG_COLOR_TYPE_GRAY, 8},
        {PNG_COLOR_TYPE_GRAY, 16},       {PNG_COLOR_TYPE_GRAY_ALPHA, 8},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 16}, {PNG_COLOR_TYPE_RGB, 8},
        {PNG_COLOR_TYPE_RGB, 16},        {PNG_COLOR_TYPE_RGB_ALPHA, 8},
        {PNG_COLOR_TYPE_RGB_ALPHA, 16},  {PNG_COLOR_TYPE_PALETTE, 1},
        {PNG_COLOR_TYPE_PALETTE, 4},     {PNG_COLOR_TYPE_PALETTE, 8},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        for (int interlace = 0; interlace <= 1; interlace++) {
            pspec s = {37,
                       29,
                       kinds[i].depth,
                       kinds[i].color,
                       interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                       0,
                       0};
            char name[64];
            snprintf(name, sizeof name, "c%d-d%d-i%d.png", s.color, s.depth, interlace);
            check_png(name, s);
        }
    pspec t = {37, 29, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, 1, 0};
    check_png("palette-trns.png", t);
}

static void test_png_phys_to_dpi(void **state)
{
    (void)state;
    pspec s = {10, 10, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, 0, 11811}; /* 300 dpi */
    const char *path = write_png("phys.png", &s);
    phieu_error err = {0};
    phieu_image *img = NULL;
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_true(img->dpi_x == 300.0 && img->dpi_y == 300.0);
    phieu_image_destroy(&img);
    assert_int_equal(phieu_image_load(path, 1, NULL, &img, &err), PHIEU_ENOTFOUND);
    assert_non_null(strstr(err.message, "no page 2 (it has 1)"));
    assert_null(img);
    s.ppm = 0;
    path = write_png("nophys.png", &s);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_true(img->dpi_x == 0.0 && img->dpi_y == 0.0);
    phieu_image_destroy(&img);
}

/* ---- round trips and writers ---- */

static phieu_image *pattern_image(int w, int h, int page)
{
    phieu_image *img = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_image_create(w, h, &img, &err), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            img->pixels[(size_t)y * (size_t)img->stride + (size_t)x] = pat(x, y, page);
    return img;
}

static void assert_same_pixels(const phieu_image *a, const phieu_image *b)
{
    assert_int_equal(a->width, b->width);
    assert_int_equal(a->height, b->height);
    for (int y = 0; y < a->height; y++)
        assert_memory_equal(a->pixels + (size_t)y * (size_t)a->stride,
                            b->pixels + (size_t)y * (size_t)b->stride, (size_t)a->width);
}

static void test_round_trip_png_and_tiff(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = pattern_image(203, 117, 3);
    img->dpi_x = 300;
    img->dpi_y = 150;
    const char *png = tmp_path("rt.png");
    const char *tif = tmp_path("rt.tif");
    assert_int_equal(phieu_image_save_png(img, png, &err), 0);
    assert_int_equal(phieu_image_save_tiff(img, tif, &err), 0);
    for (int i = 0; i < 2; i++) {
        phieu_image *back = NULL;
        assert_int_equal(phieu_image_load(i ? tif : png, 0, NULL, &back, &err), 0);
        assert_same_pixels(img, back);
        assert_true(back->dpi_x == 300.0 && back->dpi_y == 150.0);
        phieu_image_destroy(&back);
    }
    phieu_image_destroy(&img);
}

static void test_encode_png_is_deterministic_and_matches_file(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = pattern_image(64, 48, 1);
    img->dpi_x = img->dpi_y = 200;
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    assert_int_equal(phieu_image_encode_png(img, &a, &alen, &err), 0);
    assert_int_equal(phieu_image_encode_png(img, &b, &blen, &err), 0);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);

    /* The file saved holds the same bytes, and they decode to the same pixels. */
    const char *path = tmp_path("det.png");
    assert_int_equal(phieu_image_save_png(img, path, &err), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *file = malloc(alen + 1);
    assert_int_equal(fread(file, 1, alen + 1, f), alen);
    fclose(f);
    assert_memory_equal(file, a, alen);
    free(file);
    phieu_image_reader *r = NULL;
    phieu_image *back = NULL;
    assert_int_equal(phieu_image_reader_open_memory(a, alen, "det", NULL, &r, &err), 0);
    assert_int_equal(phieu_image_reader_next(r, &back, &err), 1);
    assert_same_pixels(img, back);
    phieu_image_destroy(&back);
    phieu_image_reader_close(&r);

    /* A different pixel gives different bytes. */
    img->pixels[100] ^= 1;
    phieu_free(b);
    assert_int_equal(phieu_image_encode_png(img, &b, &blen, &err), 0);
    assert_false(alen == blen && memcmp(a, b, alen) == 0);
    phieu_free(a);
    phieu_free(b);
    phieu_image_destroy(&img);
}

static void test_rgb_save_png(void **state)
{
    (void)state;
    phieu_error err = {0};
    uint8_t rgb[4 * 3 * 3];
    for (int i = 0; i < 12; i++) {
        rgb[i * 3] = (uint8_t)(i * 20);
        rgb[i * 3 + 1] = (uint8_t)(255 - i * 20);
        rgb[i * 3 + 2] = (uint8_t)(i * 7);
    }
    const char *path = tmp_path("rgb.png");
    assert_int_equal(phieu_rgb_save_png(rgb, 4, 3, path, &err), 0);
    phieu_image *img = NULL;
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_int_equal(img->width, 4);
    for (int i = 0; i < 12; i++)
        assert_int_equal(img->pixels[(i / 4) * img->stride + i % 4],
                         luma(rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]));
    phieu_image_destroy(&img);
}

/* Colour scans: the council's red seal drops out to paper, every ink that counts keeps
 * its darkness (issue 12). What a person sees: the seal gone, the pen marks and print
 * there, as dark as in a gray scan. */
static void test_red_dropout(void **state)
{
    (void)state;
    static const struct {
        uint8_t rgb[3];
        int min, max; /* the gray it must read as */
        const char *what;
    } px[] = {
        {{209, 31, 31}, 200, 215, "red seal ink"},
        {{230, 120, 120}, 225, 235, "light red seal ink (60 % opacity)"},
        {{204, 26, 153}, 195, 210, "magenta stamp ink"},
        {{20, 20, 25}, 15, 25, "black print"},
        {{25, 46, 140}, 35, 60, "blue ballpoint"},
        {{110, 30, 150}, 55, 75, "purple pen"},
        {{20, 4, 4}, 5, 15, "red seal over black print"},
        {{245, 209, 245}, 215, 230, "pink paper"},
        {{240, 240, 238}, 235, 245, "paper"},
    };
    int n = (int)(sizeof px / sizeof px[0]);
    uint8_t rgb[3 * 16];
    for (int i = 0; i < n; i++)
        memcpy(rgb + 3 * i, px[i].rgb, 3);
    phieu_error err = {0};
    const char *path = tmp_path("dropout.png");
    assert_int_equal(phieu_rgb_save_png(rgb, n, 1, path, &err), 0);
    phieu_image *img = NULL;
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    for (int i = 0; i < n; i++) {
        int got = img->pixels[i];
        if (got < px[i].min || got > px[i].max)
            fail_msg("%s reads %d, expected %d-%d", px[i].what, got, px[i].min, px[i].max);
        assert_int_equal(phieu_image_gray_of_rgb(px[i].rgb[0], px[i].rgb[1], px[i].rgb[2]), got);
    }
    phieu_image_destroy(&img);
}

/* A colour scan archived as RGB PNG (issue 12): the PNG keeps every channel, and the gray
 * made in the RGB's own memory is exactly what decoding that PNG gives, so the page reads
 * the same at scan time and from the archive. Out of memory leaves nothing behind. */
static void test_colour_page_archive_and_gray_agree(void **state)
{
    (void)state;
    enum { W = 37, H = 11 };
    uint8_t *rgb = phieu_malloc(3 * W * H);
    assert_non_null(rgb);
    for (int i = 0; i < W * H; i++) {
        int seal = i % 5 == 0; /* red seal ink among print and paper */
        rgb[3 * i] = seal ? 209 : (uint8_t)(i * 7);
        rgb[3 * i + 1] = seal ? 31 : (uint8_t)(i * 13);
        rgb[3 * i + 2] = seal ? 31 : (uint8_t)(255 - i);
    }
    phieu_error err = {0};
    uint8_t *png = NULL;
    size_t len = 0;
    assert_int_equal(phieu_rgb_encode_png(rgb, W, H, 300, &png, &len, &err), 0);
    uint8_t want[W * H];
    for (int i = 0; i < W * H; i++)
        want[i] = phieu_image_gray_of_rgb(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
    uint8_t *kept = rgb;
    phieu_image *gray = NULL;
    assert_int_equal(phieu_image_of_rgb(&kept, W, H, 300, &gray, &err), 0);
    assert_null(kept);
    assert_int_equal(gray->width, W);
    assert_int_equal(gray->height, H);
    assert_true(gray->dpi_x == 300 && gray->dpi_y == 300);
    assert_memory_equal(gray->pixels, want, sizeof want);
    /* The archive file: RGB (colour type 2 in IHDR), decoding to the same gray and dpi. */
    assert_true(len > 26);
    assert_int_equal(png[25], 2);
    phieu_image_reader *r = NULL;
    phieu_image *back = NULL;
    assert_int_equal(phieu_image_reader_open_memory(png, len, "colour", NULL, &r, &err), 0);
    assert_int_equal(phieu_image_reader_next(r, &back, &err), 1);
    phieu_image_reader_close(&r);
    assert_int_equal(back->width, W);
    assert_true(back->dpi_x == 300);
    for (int y = 0; y < H; y++)
        assert_memory_equal(back->pixels + (size_t)y * back->stride, want + y * W, W);
    phieu_image_destroy(&back);
    phieu_image_destroy(&gray);
    phieu_free(png);
    /* Out of memory: a clean error, the RGB taken and freed (the leak checkers see it). */
    for (long n = 0; n < 10; n++) {
        uint8_t *px = phieu_calloc(3 * W * H, 1);
        assert_non_null(px);
        phieu_alloc_fail_after(n);
        int rc = phieu_image_of_rgb(&px, W, H, 0, &gray, &err);
        phieu_alloc_fail_after(-1);
        assert_null(px);
        if (rc == 0) {
            assert_int_equal(gray->pixels[0], 0);
            phieu_image_destroy(&gray);
            break;
        }
        assert_int_equal(rc, PHIEU_ENOMEM);
        assert_null(gray);
    }
}

static void test_writers_report_a_full_disk(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    phieu_error err = {0};
    phieu_image *img = pattern_image(300, 300, 0);
    assert_int_equal(phieu_image_save_png(img, "/dev/full", &err), PHIEU_EIO);
    assert_non_null(strstr(err.message, "disk is full"));
    assert_non_null(strstr(err.message, "/dev/full"));
    phieu_error_clear(&err);
    assert_int_equal(phieu_image_save_tiff(img, "/dev/full", &err), PHIEU_EIO);
    assert_non_null(strstr(err.message, "disk is full"));
    assert_int_equal(phieu_image_save_png(img, tmp_path("no/such/dir.png"), &err), PHIEU_EIO);
    assert_non_null(strstr(err.message, "no/such/dir.png"));
    phieu_image_destroy(&img);
}

/* ---- create, clone, crop, scale, sniff ---- */

static void test_create_clone_crop(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = NULL;
    assert_int_equal(phieu_image_create(5, 4, &img, &err), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(img->pixels[i], 255); /* white */
    phieu_image_destroy(&img);
    assert_int_equal(phieu_image_create(0, 4, &img, &err), PHIEU_EINVAL);
    assert_null(img);

    phieu_image *src = pattern_image(10, 8, 0);
    src->dpi_x = src->dpi_y = 300;
    phieu_image *copy = NULL;
    assert_int_equal(phieu_image_clone(src, &copy, &err), 0);
    assert_same_pixels(src, copy);
    assert_true(copy->pixels != src->pixels && copy->dpi_x == 300.0);
    phieu_image_destroy(&copy);

    phieu_image *part = NULL;
    assert_int_equal(phieu_image_crop(src, 2, 3, 4, 2, &part, &err), 0);
    assert_int_equal(part->width, 4);
    assert_int_equal(part->height, 2);
    assert_int_equal(part->pixels[0], pat(2, 3, 0));
    assert_int_equal(part->pixels[part->stride + 3], pat(5, 4, 0));
    phieu_image_destroy(&part);
    /* Clipped to the image. */
    assert_int_equal(phieu_image_crop(src, -2, 6, 5, 10, &part, &err), 0);
    assert_int_equal(part->width, 3);
    assert_int_equal(part->height, 2);
    assert_int_equal(part->pixels[0], pat(0, 6, 0));
    phieu_image_destroy(&part);
    assert_int_equal(phieu_image_crop(src, 20, 0, 5, 5, &part, &err), PHIEU_EINVAL);
    assert_null(part);
    phieu_image_destroy(&src);
}

static void test_scale_to_fit_averages_boxes(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *src = NULL;
    assert_int_equal(phieu_image_create(4, 2, &src, &err), 0);
    const uint8_t v[8] = {0, 100, 200, 40, 10, 20, 30, 255};
    memcpy(src->pixels, v, 8);
    src->dpi_x = src->dpi_y = 300;
    phieu_image *out = NULL;
    /* Halving: each output pixel is the mean of a 2x2 block, rounded. */
    assert_int_equal(phieu_image_scale_to_fit(src, 2, 1, &out, &err), 0);
    assert_int_equal(out->width, 2);
    assert_int_equal(out->height, 1);
    assert_int_equal(out->pixels[0], (0 + 100 + 10 + 20 + 2) / 4);
    assert_int_equal(out->pixels[1], (200 + 40 + 30 + 255 + 2) / 4);
    assert_true(out->dpi_x == 150.0);
    phieu_image_destroy(&out);

    /* 3 columns into 2: the middle column is split half and half. */
    phieu_image *row = NULL;
    assert_int_equal(phieu_image_create(3, 1, &row, &err), 0);
    row->pixels[0] = 0;
    row->pixels[1] = 90;
    row->pixels[2] = 180;
    assert_int_equal(phieu_image_scale_to_fit(row, 2, 10, &out, &err), 0);
    assert_int_equal(out->width, 2);
    assert_int_equal(out->height, 1);
    assert_int_equal(out->pixels[0], (0 * 2 + 90 * 1 + 1) / 3);   /* 30 */
    assert_int_equal(out->pixels[1], (90 * 1 + 180 * 2 + 1) / 3); /* 150 */
    phieu_image_destroy(&out);
    phieu_image_destroy(&row);

    /* Already fits: a copy. A big page keeps its aspect. */
    assert_int_equal(phieu_image_scale_to_fit(src, 100, 100, &out, &err), 0);
    assert_same_pixels(src, out);
    phieu_image_destroy(&out);
    phieu_image *page = pattern_image(2480, 3508, 0);
    assert_int_equal(phieu_image_scale_to_fit(page, 800, 800, &out, &err), 0);
    assert_int_equal(out->height, 800);
    assert_int_equal(out->width, (2480 * 800 + 3508 / 2) / 3508); /* 566 */
    phieu_image_destroy(&out);
    phieu_image_destroy(&page);
    assert_int_equal(phieu_image_scale_to_fit(src, 0, 10, &out, &err), PHIEU_EINVAL);
    phieu_image_destroy(&src);
}

static void test_sniff(void **state)
{
    (void)state;
    const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_int_equal(phieu_image_sniff(png, 8), PHIEU_IMAGE_PNG);
    assert_int_equal(phieu_image_sniff(png, 7), PHIEU_IMAGE_UNKNOWN);
    assert_int_equal(phieu_image_sniff((const uint8_t *)"II*\0", 4), PHIEU_IMAGE_TIFF);
    assert_int_equal(phieu_image_sniff((const uint8_t *)"MM\0*", 4), PHIEU_IMAGE_TIFF);
    assert_int_equal(phieu_image_sniff((const uint8_t *)"II+\0", 4), PHIEU_IMAGE_TIFF);
    assert_int_equal(phieu_image_sniff((const uint8_t *)"%PDF-1.7", 8), PHIEU_IMAGE_UNKNOWN);
    assert_int_equal(phieu_image_sniff(NULL, 0), PHIEU_IMAGE_UNKNOWN);
}

/* ---- limits, damage, foreign files ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)n + 1);
    assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return d;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_limits_pixels_and_bytes(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = pattern_image(100, 80, 0);
    const char *png = tmp_path("limit.png");
    const char *tif = tmp_path("limit.tif");
    assert_int_equal(phieu_image_save_png(img, png, &err), 0);
    assert_int_equal(phieu_image_save_tiff(img, tif, &err), 0);
    phieu_image_destroy(&img);
    for (int i = 0; i < 2; i++) {
        const char *path = i ? tif : png;
        phieu_image_limits lim = {100 * 80 - 1, 1 << 20};
        phieu_image *out = NULL;
        assert_int_equal(phieu_image_load(path, 0, &lim, &out, &err), PHIEU_ELIMIT);
        assert_null(out);
        assert_non_null(strstr(err.message, path));
        assert_non_null(strstr(err.message, "page 1"));
        assert_non_null(strstr(err.message, "100x80"));
        assert_non_null(strstr(err.message, "7999"));
        lim.max_pixels = 100 * 80; /* exactly at the limit is fine */
        assert_int_equal(phieu_image_load(path, 0, &lim, &out, &err), 0);
        phieu_image_destroy(&out);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        lim.max_bytes = (uint64_t)st.st_size - 1;
        assert_int_equal(phieu_image_load(path, 0, &lim, &out, &err), PHIEU_ELIMIT);
        assert_non_null(strstr(err.message, path));
        /* The memory reader applies the same byte limit. */
        size_t len = 0;
        uint8_t *bytes = slurp(path, &len);
        phieu_image_reader *r = NULL;
        assert_int_equal(phieu_image_reader_open_memory(bytes, len, "mem.img", &lim, &r, &err),
                         PHIEU_ELIMIT);
        assert_null(r);
        assert_non_null(strstr(err.message, "mem.img"));
        free(bytes);
    }
    phieu_image_limits def = phieu_image_default_limits();
    assert_true(def.max_pixels == (uint64_t)7016 * 9921);
}

/* A hand-made little-endian TIFF whose one directory claims width x height 8-bit pixels
 * in a strip of 16 bytes. */
static const char *handmade_tiff(const char *name, uint32_t width, uint32_t height)
{
    uint8_t t[256];
    memset(t, 0, sizeof t);
    memcpy(t, "II*\0", 4);
    t[4] = 8; /* first directory at 8 */
    const struct {
        uint16_t tag, type;
        uint32_t count, value;
    } e[] = {
        {256, 4, 1, width},  /* ImageWidth */
        {257, 4, 1, height}, /* ImageLength */
        {258, 3, 1, 8},      /* BitsPerSample */
        {259, 3, 1, 1},      /* Compression: none */
        {262, 3, 1, 1},      /* Photometric: min-is-black */
        {273, 4, 1, 200},    /* StripOffsets */
        {277, 3, 1, 1},      /* SamplesPerPixel */
        {278, 4, 1, 100000}, /* RowsPerStrip */
        {279, 4, 1, 16},     /* StripByteCounts */
    };
    int n = (int)(sizeof e / sizeof e[0]);
    uint8_t *p = t + 8;
    p[0] = (uint8_t)n;
    p += 2;
    for (int i = 0; i < n; i++, p += 12) {
        p[0] = (uint8_t)e[i].tag;
        p[1] = (uint8_t)(e[i].tag >> 8);
        p[2] = (uint8_t)e[i].type;
        p[4] = (uint8_t)e[i].count;
        uint32_t v = e[i].value;
        if (e[i].type == 3) {
            p[8] = (uint8_t)v;
            p[9] = (uint8_t)(v >> 8);
        } else {
            for (int k = 0; k < 4; k++)
                p[8 + k] = (uint8_t)(v >> (8 * k));
        }
    }
    const char *path = tmp_path(name);
    spit(path, t, sizeof t);
    return path;
}

/* 100000 x 100000 must be refused from the header alone, before any page allocation. */
static void test_huge_claimed_tiff_refused(void **state)
{
    (void)state;
    const char *path = handmade_tiff("huge.tif", 100000, 100000);
    phieu_error err = {0};
    phieu_image *img = NULL;
    phieu_alloc_fail_after(3); /* the reader itself needs 2; a page would need more */
    int rc = phieu_image_load(path, 0, NULL, &img, &err);
    phieu_alloc_fail_after(-1);
    assert_int_equal(rc, PHIEU_ELIMIT);
    assert_null(img);
    assert_non_null(strstr(err.message, "100000x100000"));
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "page 1"));
}

static void test_zero_sized_tiff_refused(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = NULL;
    const char *path = handmade_tiff("zero.tif", 0, 40);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), PHIEU_EFORMAT);
    assert_null(img);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "page 1"));
    /* The same file with a real size reads (16 bytes of strip data, all zero: black). */
    path = handmade_tiff("small.tif", 4, 4);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), 0);
    assert_int_equal(img->width, 4);
    assert_int_equal(img->pixels[0], 0);
    phieu_image_destroy(&img);
}

static void test_foreign_and_empty_files_refused(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = NULL;
    const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
    const char *path = tmp_path("ballot.tif");
    spit(path, pdf, sizeof pdf - 1);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), PHIEU_EFORMAT);
    assert_null(img);
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "PDF"));
    assert_non_null(strstr(err.message, "TIFF and PNG"));

    const uint8_t jpeg[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F'};
    path = tmp_path("photo.png");
    spit(path, jpeg, sizeof jpeg);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), PHIEU_EFORMAT);
    assert_non_null(strstr(err.message, "JPEG"));

    path = tmp_path("empty.tif");
    spit(path, "", 0);
    assert_int_equal(phieu_image_load(path, 0, NULL, &img, &err), PHIEU_EFORMAT);
    assert_non_null(strstr(err.message, "empty"));

    assert_int_equal(phieu_image_load(tmp_path("missing.tif"), 0, NULL, &img, &err),
                     PHIEU_ENOTFOUND);
    assert_non_null(strstr(err.message, "missing.tif"));
}

/* Reads every page of bytes; returns the last code (0 at a clean end). */
static int read_all(const uint8_t *d, size_t len, const char *name, int *pages, phieu_error *err)
{
    phieu_image_limits lim = {4u << 20, 1u << 24};
    phieu_image_reader *r = NULL;
    *pages = 0;
    int rc = phieu_image_reader_open_memory(d, len, name, &lim, &r, err);
    while (rc == 0) {
        phieu_image *img = NULL;
        rc = phieu_image_reader_next(r, &img, err);
        if (rc == 1) {
            (*pages)++;
            phieu_image_destroy(&img);
            rc = 0;
        } else {
            assert_null(img);
            break;
        }
    }
    phieu_image_reader_close(&r);
    return rc;
}

static void check_damage(const uint8_t *good, size_t len, const char *name, int pages)
{
    phieu_error err = {0};
    int got_pages = 0;
    assert_int_equal(read_all(good, len, name, &got_pages, &err), 0);
    assert_int_equal(got_pages, pages);
    uint8_t *copy = malloc(len);
    int refused = 0, tried = 0;
    /* Cut at many lengths: never a crash; a refusal names the file and the page. */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 7, tried++) {
        phieu_error_clear(&err);
        int rc = read_all(good, cut, name, &got_pages, &err);
        assert_true(rc == 0 || rc == PHIEU_EFORMAT);
        if (rc == PHIEU_EFORMAT) {
            refused++;
            assert_non_null(strstr(err.message, name));
            if (cut > 16)
                assert_non_null(strstr(err.message, "page"));
        }
        if (cut < len / 2) /* the pixels of the last page are missing */
            assert_int_equal(rc, PHIEU_EFORMAT);
    }
    assert_true(refused * 10 >= tried * 9);
    /* Flip bytes: an error or pages, never a crash. */
    for (size_t at = 0; at < len; at += 1 + at / 11) {
        memcpy(copy, good, len);
        copy[at] ^= 0xff;
        if (at + 1 < len)
            copy[at + 1] ^= 0x55;
        phieu_error_clear(&err);
        int rc = read_all(copy, len, name, &got_pages, &err);
        assert_true(rc == 0 || rc == PHIEU_EFORMAT || rc == PHIEU_ELIMIT);
        if (rc != 0)
            assert_non_null(strstr(err.message, name));
    }
    free(copy);
}

static void test_truncated_and_corrupt_files_give_format_errors(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = pattern_image(60, 40, 0);
    const char *png = tmp_path("dmg.png");
    assert_int_equal(phieu_image_save_png(img, png, &err), 0);
    phieu_image_destroy(&img);
    size_t len = 0;
    uint8_t *bytes = slurp(png, &len);
    check_damage(bytes, len, "dmg.png", 1);
    free(bytes);

    tspec specs[2];
    specs[0] = tspec_default();
    specs[0].compression = COMPRESSION_LZW;
    specs[1] = tspec_default();
    specs[1].bps = 1;
    specs[1].photometric = PHOTOMETRIC_MINISWHITE;
    specs[1].compression = COMPRESSION_CCITTFAX4;
    specs[1].rps = 1000;
    const char *tif = write_tiff("dmg.tif", specs, 2);
    bytes = slurp(tif, &len);
    check_damage(bytes, len, "dmg.tif", 2);
    free(bytes);
}

/* Damaged files with libtiff's printing handlers in place: nothing reaches stderr. */
static void test_loaders_print_nothing(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.compression = COMPRESSION_LZW;
    size_t tlen = 0, plen = 0;
    uint8_t *tif = slurp(write_tiff("quiet.tif", &s, 1), &tlen);
    pspec ps = {20, 10, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, 0, 0};
    uint8_t *png = slurp(write_png("quiet.png", &ps), &plen);

    const char *log = tmp_path("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    FILE *sink = fopen(log, "w");
    assert_non_null(sink);
    dup2(fileno(sink), 2);
    TIFFSetErrorHandler(tiff_default_error);
    TIFFSetWarningHandler(tiff_default_warning);
    int refused = 0;
    for (int k = 0; k < 2; k++) {
        uint8_t *d = k ? png : tif;
        size_t len = k ? plen : tlen;
        for (size_t at = 8; at < len; at += 3) {
            uint8_t keep = d[at];
            d[at] ^= 0x5a;
            phieu_error err = {0};
            int pages = 0;
            refused += read_all(d, len, "quiet", &pages, &err) != 0;
            d[at] = keep;
            refused += read_all(d, at, "quiet", &pages, &err) != 0; /* cut */
        }
    }
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(sink);
    struct stat st;
    assert_int_equal(stat(log, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_true(refused > 0); /* the loop did reach the error paths */
    free(tif);
    free(png);
}

/* ---- out of memory ---- */

static void check_oom(const char *path)
{
    phieu_error err = {0};
    int rc = -1;
    long n;
    for (n = 0; n < 1000; n++) {
        phieu_image *img = NULL;
        phieu_error_clear(&err);
        phieu_alloc_fail_after(n);
        rc = phieu_image_load(path, 0, NULL, &img, &err);
        long failures = phieu_alloc_failures();
        phieu_alloc_fail_after(-1);
        if (rc == 0) {
            assert_int_equal(failures, 0);
            assert_non_null(img);
            phieu_image_destroy(&img);
            break;
        }
        assert_int_equal(rc, PHIEU_ENOMEM);
        assert_null(img);
        assert_true(failures > 0);
        assert_non_null(strstr(err.message, "out of memory"));
    }
    assert_int_equal(rc, 0);
    assert_true(n > 2); /* the loop did fail some allocations */
}

static void test_out_of_memory_is_a_clean_error(void **state)
{
    (void)state;
    phieu_error err = {0};
    phieu_image *img = pattern_image(50, 30, 0);
    const char *png = tmp_path("oom.png");
    const char *tif = tmp_path("oom.tif");
    assert_int_equal(phieu_image_save_png(img, png, &err), 0);
    assert_int_equal(phieu_image_save_tiff(img, tif, &err), 0);
    check_oom(png);
    check_oom(tif);
    /* The writers too. */
    for (long n = 0; n < 1000; n++) {
        uint8_t *data = NULL;
        size_t len = 0;
        phieu_alloc_fail_after(n);
        int rc = phieu_image_encode_png(img, &data, &len, &err);
        phieu_alloc_fail_after(-1);
        if (rc == 0) {
            phieu_free(data);
            break;
        }
        assert_int_equal(rc, PHIEU_ENOMEM);
        assert_null(data);
    }
    phieu_image_destroy(&img);
}

/* ---- the colour page (phieu_rgb_image): what the review screen shows ---- */

/* The colour the colour loader must give for pixel (x, y) of a TIFF of spec s: RGB
 * samples (high byte of 16 bits), alpha composited on white per channel; a colormap's
 * entry; a gray page's gray as R = G = B. */
static void expected_rgb_of(const tspec *s, int x, int y, int page, uint8_t out[3])
{
    unsigned v[4];
    sample_of(s, x, y, page, v);
    int sh = s->bps == 16 ? 8 : 0;
    if (s->photometric == PHOTOMETRIC_PALETTE) {
        uint16_t r[256], g[256], b[256];
        palette_of(s->bps, r, g, b);
        out[0] = (uint8_t)(r[v[0]] >> 8);
        out[1] = (uint8_t)(g[v[0]] >> 8);
        out[2] = (uint8_t)(b[v[0]] >> 8);
    } else if (s->photometric == PHOTOMETRIC_RGB) {
        unsigned a = v[3] >> sh;
        for (int k = 0; k < 3; k++) {
            unsigned c = v[k] >> sh, o = c + (255 - a);
            if (s->spp == 4 && s->extra == EXTRASAMPLE_UNASSALPHA)
                c = on_white(c, a);
            else if (s->spp == 4 && s->extra == EXTRASAMPLE_ASSOCALPHA)
                c = o > 255 ? 255 : o;
            out[k] = (uint8_t)c;
        }
    } else {
        out[0] = out[1] = out[2] = expected_of(s, x, y, page);
    }
}

/* Loads a TIFF of spec s in colour and compares every pixel; `colour`: the flag wanted. */
static void check_rgb_tiff(const char *name, tspec s, int colour)
{
    const char *path = write_tiff(name, &s, 1);
    phieu_error err = {0};
    phieu_rgb_image *img = NULL;
    if (phieu_rgb_image_load(path, 0, NULL, &img, &err) != 0)
        fail_msg("%s: %s", path, err.message);
    assert_int_equal(img->width, s.w);
    assert_int_equal(img->height, s.h);
    assert_int_equal(img->colour, colour);
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++) {
            const uint8_t *got = img->pixels + (size_t)y * (size_t)img->stride + 3 * (size_t)x;
            uint8_t want[3];
            expected_rgb_of(&s, x, y, 0, want);
            if (memcmp(got, want, 3) != 0)
                fail_msg("%s (%d,%d): got %d,%d,%d want %d,%d,%d", path, x, y, got[0], got[1],
                         got[2], want[0], want[1], want[2]);
        }
    phieu_rgb_image_destroy(&img);
    assert_null(img);
}

static void test_rgb_tiff_decodes_colour(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.spp = 3;
    s.photometric = PHOTOMETRIC_RGB;
    s.compression = COMPRESSION_LZW;
    check_rgb_tiff("c-rgb.tif", s, 1);
    s.tiled = 1;
    check_rgb_tiff("c-rgb-tiles.tif", s, 1);
    s.tiled = 0;
    s.rps = 1000; /* one strip beyond the strip buffer's size: read row by row */
    s.w = 1200;
    s.h = 300;
    check_rgb_tiff("c-rgb-rows.tif", s, 1);
    s = tspec_default();
    s.spp = 4;
    s.photometric = PHOTOMETRIC_RGB;
    s.extra = EXTRASAMPLE_UNASSALPHA;
    check_rgb_tiff("c-rgba.tif", s, 1);
    s.extra = EXTRASAMPLE_ASSOCALPHA;
    check_rgb_tiff("c-rgba-premultiplied.tif", s, 1);
    s = tspec_default();
    s.spp = 3;
    s.bps = 16;
    s.photometric = PHOTOMETRIC_RGB;
    check_rgb_tiff("c-rgb16.tif", s, 1);
    s.bps = 8;
    s.planar_separate = 1; /* libtiff's RGBA fallback */
    check_rgb_tiff("c-rgb-planar.tif", s, 1);
    s = tspec_default();
    s.photometric = PHOTOMETRIC_PALETTE;
    check_rgb_tiff("c-palette8.tif", s, 1);
    s.bps = 4;
    s.compression = COMPRESSION_PACKBITS;
    check_rgb_tiff("c-palette4.tif", s, 1);
}

/* Gray pages of every kind decode to R = G = B, each the gray phieu_image_load gives, and
 * say they are gray. */
static void test_rgb_gray_tiff_is_r_eq_g_eq_b(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.compression = COMPRESSION_ADOBE_DEFLATE;
    check_rgb_tiff("c-gray8.tif", s, 0);
    s.bps = 16;
    check_rgb_tiff("c-gray16.tif", s, 0);
    s = tspec_default();
    s.bps = 4;
    check_rgb_tiff("c-gray4.tif", s, 0);
    s = tspec_default();
    s.bps = 1;
    s.photometric = PHOTOMETRIC_MINISWHITE;
    s.compression = COMPRESSION_CCITTFAX4;
    s.rps = 1000;
    check_rgb_tiff("c-g4.tif", s, 0);
    s = tspec_default();
    s.spp = 2;
    s.extra = EXTRASAMPLE_UNASSALPHA;
    check_rgb_tiff("c-gray-alpha.tif", s, 0);
}

/* A sideways colour page is turned upright as the gray one is. */
static void test_rgb_tiff_orientation(void **state)
{
    (void)state;
    tspec s = tspec_default();
    s.spp = 3;
    s.photometric = PHOTOMETRIC_RGB;
    s.orientation = ORIENTATION_RIGHTTOP; /* stored (x, y) seen at (H-1-y, x) */
    s.xres = 300;
    s.yres = 150;
    phieu_error err = {0};
    phieu_rgb_image *img = NULL;
    assert_int_equal(phieu_rgb_image_load(write_tiff("c-turned.tif", &s, 1), 0, NULL, &img, &err),
                     0);
    assert_int_equal(img->width, s.h);
    assert_int_equal(img->height, s.w);
    assert_true(img->dpi_x == 150 && img->dpi_y == 300);
    for (int sy = 0; sy < s.h; sy++)
        for (int sx = 0; sx < s.w; sx++) {
            uint8_t want[3];
            expected_rgb_of(&s, sx, sy, 0, want);
            const uint8_t *got =
                img->pixels + (size_t)sx * (size_t)img->stride + 3 * (size_t)(s.h - 1 - sy);
            assert_memory_equal(got, want, 3);
        }
    phieu_rgb_image_destroy(&img);
}

/* The colour a PNG of spec s must give at (x, y). */
static void png_expected_rgb(const pspec *s, int x, int y, uint8_t out[3])
{
    int sh = s->depth == 16 ? 8 : 0;
    if (s->color == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        png_byte trns[256];
        png_palette_of(pal, trns, 256);
        unsigned i = png_sample(s, x, y, 0), a = s->trns ? trns[i] : 255;
        out[0] = on_white(pal[i].red, a);
        out[1] = on_white(pal[i].green, a);
        out[2] = on_white(pal[i].blue, a);
    } else if (s->color == PNG_COLOR_TYPE_RGB || s->color == PNG_COLOR_TYPE_RGB_ALPHA) {
        unsigned a = s->color == PNG_COLOR_TYPE_RGB ? 255 : png_sample(s, x, y, 3) >> sh;
        for (int k = 0; k < 3; k++)
            out[k] = on_white(png_sample(s, x, y, k) >> sh, a);
    } else {
        out[0] = out[1] = out[2] = png_expected(s, x, y);
    }
}

static void test_rgb_png_every_colour_type(void **state)
{
    (void)state;
    const int kinds[][2] = {
        {PNG_COLOR_TYPE_GRAY, 1},       {PNG_COLOR_TYPE_GRAY, 8},    {PNG_COLOR_TYPE_GRAY, 16},
        {PNG_COLOR_TYPE_GRAY_ALPHA, 8}, {PNG_COLOR_TYPE_RGB, 8},     {PNG_COLOR_TYPE_RGB, 16},
        {PNG_COLOR_TYPE_RGB_ALPHA, 8},  {PNG_COLOR_TYPE_PALETTE, 4}, {PNG_COLOR_TYPE_PALETTE, 8},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        for (int interlace = 0; interlace <= 1; interlace++) {
            pspec s = {37,
                       29,
                       kinds[i][1],
                       kinds[i][0],
                       interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                       0,
                       11811};
            char name[64];
            snprintf(name, sizeof name, "rgb-c%d-d%d-i%d.png", s.color, s.depth, interlace);
            const char *path = write_png(name, &s);
            phieu_error err = {0};
            phieu_rgb_image *img = NULL;
            if (phieu_rgb_image_load(path, 0, NULL, &img, &err) != 0)
                fail_msg("%s: %s", path, err.message);
            assert_int_equal(img->colour, (s.color & PNG_COLOR_MASK_COLOR) != 0);
            assert_true(img->dpi_x == 300 && img->dpi_y == 300);
            for (int y = 0; y < s.h; y++)
                for (int x = 0; x < s.w; x++) {
                    uint8_t want[3];
                    png_expected_rgb(&s, x, y, want);
                    const uint8_t *got = img->pixels + (size_t)y * img->stride + 3 * (size_t)x;
                    if (memcmp(got, want, 3) != 0)
                        fail_msg("%s (%d,%d): got %d,%d,%d want %d,%d,%d", path, x, y, got[0],
                                 got[1], got[2], want[0], want[1], want[2]);
                }
            phieu_rgb_image_destroy(&img);
        }
}

/* A red pen mark stays red in colour (the gray read drops it to near white), and the
 * page "as stored" is colour for an RGB file, gray (the gray loader's pixels) for a gray
 * one. */
static void test_rgb_red_mark_and_as_stored(void **state)
{
    (void)state;
    enum { W = 40, H = 30 };
    uint8_t rgb[W * H * 3];
    memset(rgb, 250, sizeof rgb);
    for (int y = 10; y < 20; y++)
        for (int x = 10; x < 30; x++)
            memcpy(rgb + 3 * (y * W + x), "\xd2\x28\x32", 3); /* red ballpoint */
    const char *path = tmp_path("red.png");
    phieu_error err = {0};
    assert_int_equal(phieu_rgb_save_png(rgb, W, H, path, &err), 0);
    phieu_image *gray = NULL;
    phieu_rgb_image *col = NULL;
    assert_int_equal(phieu_image_load_as_stored(path, 0, NULL, &gray, &col, &err), 0);
    assert_null(gray);
    assert_non_null(col);
    assert_int_equal(col->colour, 1);
    assert_memory_equal(col->pixels, rgb, sizeof rgb);
    phieu_rgb_image_destroy(&col);
    assert_int_equal(phieu_image_load(path, 0, NULL, &gray, &err), 0);
    assert_int_equal(gray->pixels[15 * W + 15], 0xd2); /* the dropout: its red channel */
    const char *gpath = tmp_path("gray-as-stored.png");
    assert_int_equal(phieu_image_save_png(gray, gpath, &err), 0);
    phieu_image_destroy(&gray);
    assert_int_equal(phieu_image_load_as_stored(gpath, 0, NULL, &gray, &col, &err), 0);
    assert_null(col);
    assert_non_null(gray);
    assert_int_equal(gray->pixels[15 * W + 15], 0xd2);
    phieu_image_destroy(&gray);
}

/* The colour loader keeps the gray loader's limits and messages: too many pixels is
 * PHIEU_ELIMIT naming the file and page; a truncated file PHIEU_EFORMAT naming it. */
static void test_rgb_limits_and_truncated_files(void **state)
{
    (void)state;
    enum { W = 100, H = 80 };
    uint8_t *rgb = malloc(W * H * 3);
    assert_non_null(rgb);
    for (int i = 0; i < W * H * 3; i++)
        rgb[i] = (uint8_t)(i * 7 + i / 300);
    phieu_error err = {0};
    const char *png = tmp_path("c-limit.png");
    assert_int_equal(phieu_rgb_save_png(rgb, W, H, png, &err), 0);
    free(rgb);
    tspec s = tspec_default();
    s.w = W;
    s.h = H;
    s.spp = 3;
    s.photometric = PHOTOMETRIC_RGB;
    s.compression = COMPRESSION_ADOBE_DEFLATE;
    const char *tif = write_tiff("c-limit.tif", &s, 1);
    for (int i = 0; i < 2; i++) {
        const char *path = i ? tif : png;
        phieu_image_limits lim = {W * H - 1, 1 << 20};
        phieu_rgb_image *out = NULL;
        assert_int_equal(phieu_rgb_image_load(path, 0, &lim, &out, &err), PHIEU_ELIMIT);
        assert_null(out);
        assert_non_null(strstr(err.message, path));
        assert_non_null(strstr(err.message, "page 1"));
        assert_non_null(strstr(err.message, "100x80"));
        lim.max_pixels = W * H;
        assert_int_equal(phieu_rgb_image_load(path, 0, &lim, &out, &err), 0);
        phieu_rgb_image_destroy(&out);
        size_t len = 0;
        uint8_t *bytes = slurp(path, &len);
        const char *cut = tmp_path(i ? "c-cut.tif" : "c-cut.png");
        spit(cut, bytes, len * 2 / 3);
        free(bytes);
        assert_int_equal(phieu_rgb_image_load(cut, 0, NULL, &out, &err), PHIEU_EFORMAT);
        assert_null(out);
        assert_non_null(strstr(err.message, cut));
    }
}

/* Crop and scale work on each channel as the gray image's do on its one: a colour image
 * whose channels are three gray images gives, channel by channel, their crops and scales;
 * the PNG decodes back to the same pixels. */
static void test_rgb_crop_scale_encode(void **state)
{
    (void)state;
    phieu_image *ch[3];
    for (int k = 0; k < 3; k++) {
        ch[k] = pattern_image(203, 151, k);
        ch[k]->dpi_x = ch[k]->dpi_y = 300;
    }
    phieu_error err = {0};
    phieu_rgb_image *img = NULL;
    assert_int_equal(phieu_rgb_image_create(203, 151, &img, &err), 0);
    for (int y = 0; y < 151; y++)
        for (int x = 0; x < 203; x++)
            for (int k = 0; k < 3; k++)
                img->pixels[(size_t)y * img->stride + 3 * (size_t)x + (size_t)k] =
                    ch[k]->pixels[(size_t)y * ch[k]->stride + (size_t)x];
    img->dpi_x = ch[0]->dpi_x;
    img->dpi_y = ch[0]->dpi_y;
    phieu_rgb_image *crop = NULL, *small = NULL;
    assert_int_equal(phieu_rgb_image_crop(img, 190, -5, 40, 30, &crop, &err), 0);
    assert_int_equal(crop->width, 13);
    assert_int_equal(crop->height, 25);
    assert_int_equal(phieu_rgb_image_crop(img, 300, 0, 5, 5, &small, &err), PHIEU_EINVAL);
    assert_int_equal(phieu_rgb_image_scale_to_fit(img, 50, 50, &small, &err), 0);
    for (int k = 0; k < 3; k++) {
        phieu_image *gc = NULL, *gs = NULL;
        assert_int_equal(phieu_image_crop(ch[k], 190, -5, 40, 30, &gc, &err), 0);
        assert_int_equal(phieu_image_scale_to_fit(ch[k], 50, 50, &gs, &err), 0);
        assert_int_equal(small->width, gs->width);
        assert_int_equal(small->height, gs->height);
        assert_true(small->dpi_x == gs->dpi_x);
        for (int y = 0; y < gc->height; y++)
            for (int x = 0; x < gc->width; x++)
                assert_int_equal(crop->pixels[(size_t)y * crop->stride + 3 * (size_t)x + k],
                                 gc->pixels[(size_t)y * gc->stride + (size_t)x]);
        for (int y = 0; y < gs->height; y++)
            for (int x = 0; x < gs->width; x++)
                assert_int_equal(small->pixels[(size_t)y * small->stride + 3 * (size_t)x + k],
                                 gs->pixels[(size_t)y * gs->stride + (size_t)x]);
        phieu_image_destroy(&gc);
        phieu_image_destroy(&gs);
        phieu_image_destroy(&ch[k]);
    }
    uint8_t *png = NULL;
    size_t len = 0;
    assert_int_equal(phieu_rgb_image_encode_png(small, &png, &len, &err), 0);
    const char *path = tmp_path("c-encoded.png");
    spit(path, png, len);
    phieu_free(png);
    phieu_rgb_image *back = NULL;
    assert_int_equal(phieu_rgb_image_load(path, 0, NULL, &back, &err), 0);
    assert_int_equal(back->width, small->width);
    for (int y = 0; y < small->height; y++)
        assert_memory_equal(back->pixels + (size_t)y * back->stride,
                            small->pixels + (size_t)y * small->stride, 3 * (size_t)small->width);
    phieu_rgb_image_destroy(&back);
    phieu_rgb_image_destroy(&small);
    phieu_rgb_image_destroy(&crop);
    phieu_rgb_image_destroy(&img);
}

/* ---- setup ---- */

static int group_setup(void **state)
{
    (void)state;
    tiff_default_error = TIFFSetErrorHandler(NULL); /* the generators' own messages */
    tiff_default_warning = TIFFSetWarningHandler(NULL);
    snprintf(tmpdir, sizeof tmpdir, "%s/phieu-image-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiff_gray8_compressions_strips_and_tiles),
        cmocka_unit_test(test_tiff_large_strips_row_by_row),
        cmocka_unit_test(test_tiff_gray8_jpeg_within_tolerance),
        cmocka_unit_test(test_tiff_1bit_fax_and_plain_both_photometrics),
        cmocka_unit_test(test_tiff_4bit_and_16bit_gray),
        cmocka_unit_test(test_tiff_rgb_rgba_and_gray_alpha),
        cmocka_unit_test(test_tiff_rgb_jpeg_ycbcr),
        cmocka_unit_test(test_tiff_palette),
        cmocka_unit_test(test_tiff_three_pages_of_different_content),
        cmocka_unit_test(test_tiff_orientation_turns_the_page_upright),
        cmocka_unit_test(test_reader_reuses_the_previous_page),
        cmocka_unit_test(test_tiff_resolution_inch_and_centimetre),
        cmocka_unit_test(test_png_every_colour_type_and_depth),
        cmocka_unit_test(test_png_phys_to_dpi),
        cmocka_unit_test(test_round_trip_png_and_tiff),
        cmocka_unit_test(test_encode_png_is_deterministic_and_matches_file),
        cmocka_unit_test(test_rgb_save_png),
        cmocka_unit_test(test_writers_report_a_full_disk),
        cmocka_unit_test(test_create_clone_crop),
        cmocka_unit_test(test_scale_to_fit_averages_boxes),
        cmocka_unit_test(test_sniff),
        cmocka_unit_test(test_red_dropout),
        cmocka_unit_test(test_colour_page_archive_and_gray_agree),
        cmocka_unit_test(test_limits_pixels_and_bytes),
        cmocka_unit_test(test_huge_claimed_tiff_refused),
        cmocka_unit_test(test_zero_sized_tiff_refused),
        cmocka_unit_test(test_foreign_and_empty_files_refused),
        cmocka_unit_test(test_truncated_and_corrupt_files_give_format_errors),
        cmocka_unit_test(test_loaders_print_nothing),
        cmocka_unit_test(test_out_of_memory_is_a_clean_error),
        cmocka_unit_test(test_rgb_tiff_decodes_colour),
        cmocka_unit_test(test_rgb_gray_tiff_is_r_eq_g_eq_b),
        cmocka_unit_test(test_rgb_tiff_orientation),
        cmocka_unit_test(test_rgb_png_every_colour_type),
        cmocka_unit_test(test_rgb_red_mark_and_as_stored),
        cmocka_unit_test(test_rgb_limits_and_truncated_files),
        cmocka_unit_test(test_rgb_crop_scale_encode),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
