/*
 * rescan.c - simulates feeding the same paper sheet through the scanner again: from one
 * scanned page it makes another scan of the same ink, with a new small rotation, offset
 * and scale, new sensor noise and optics blur and a slightly different exposure, all
 * drawn from a seed (the same seed gives the same file). Writes gray PNG. It does not
 * redraw marks (that would be another hand) and it is not a test by itself.
 *   usage: rescan [--seed S] [--page N] [--turn] IN OUT.png
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/error.h"
#include "phieu/image.h"

#include "sample_rng.h"

/* A feeder places a sheet within about ±2 degrees and ±3 mm, and a flatbed or feeder's
 * scale varies by about half a percent between passes (the ranges the issue names). */
#define RESCAN_MAX_ROT_DEG 2.0
#define RESCAN_MAX_OFFSET_MM 3.0
#define RESCAN_MAX_SCALE 0.005
/* Sensor noise of a new pass: 1-4 gray levels standard deviation (gen_samples' light to
 * medium range); exposure: gain within ±3 % and an offset within ±5 levels. */
#define RESCAN_NOISE_MIN 1.0
#define RESCAN_NOISE_MAX 4.0
#define RESCAN_MAX_GAIN 0.03
#define RESCAN_MAX_LEVEL 5.0
/* A file without a resolution tag: the scanners' most common setting. */
#define RESCAN_DEFAULT_DPI 200.0
#define MM_PER_INCH 25.4

/* Randomness: splitmix64 in sample_rng.h, one stream per page. */

/* ---- The new pass -------------------------------------------------------------------- */

typedef struct pass {
    double rot_deg, off_x_mm, off_y_mm, scale, noise, gain, level;
    int blur, turn;
} pass;

static int is_bilevel(const phieu_image *img)
{
    for (int y = 0; y < img->height; y++) {
        const uint8_t *row = img->pixels + (size_t)y * img->stride;
        for (int x = 0; x < img->width; x++)
            if (row[x] != 0 && row[x] != 255)
                return 0;
    }
    return 1;
}

static double sample(const phieu_image *img, double fx, double fy)
{
    /* Outside the old scan: its nearest edge (the lid or the paper's margin). */
    if (fx < 0)
        fx = 0;
    if (fy < 0)
        fy = 0;
    if (fx > img->width - 1)
        fx = img->width - 1;
    if (fy > img->height - 1)
        fy = img->height - 1;
    int x0 = (int)fx, y0 = (int)fy;
    int x1 = x0 + 1 < img->width ? x0 + 1 : x0, y1 = y0 + 1 < img->height ? y0 + 1 : y0;
    double ax = fx - x0, ay = fy - y0;
    const uint8_t *r0 = img->pixels + (size_t)y0 * img->stride;
    const uint8_t *r1 = img->pixels + (size_t)y1 * img->stride;
    return (1 - ay) * ((1 - ax) * r0[x0] + ax * r0[x1]) + ay * ((1 - ax) * r1[x0] + ax * r1[x1]);
}

/* [1 2 1]/4 in both directions: the optics of the new pass. */
static void blur121(phieu_image *img, uint8_t *tmp)
{
    int w = img->width, h = img->height;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = img->pixels + (size_t)y * img->stride;
        for (int x = 0; x < w; x++)
            tmp[(size_t)y * w + x] =
                (uint8_t)((row[x > 0 ? x - 1 : x] + 2 * row[x] + row[x + 1 < w ? x + 1 : x] + 2) /
                          4);
    }
    for (int y = 0; y < h; y++) {
        const uint8_t *u = tmp + (size_t)(y > 0 ? y - 1 : y) * w, *m = tmp + (size_t)y * w,
                      *d = tmp + (size_t)(y + 1 < h ? y + 1 : y) * w;
        uint8_t *row = img->pixels + (size_t)y * img->stride;
        for (int x = 0; x < w; x++)
            row[x] = (uint8_t)((u[x] + 2 * m[x] + d[x] + 2) / 4);
    }
}

static int rescan(const phieu_image *in, const pass *p, rng *r, phieu_image **out, phieu_error *err)
{
    if (phieu_image_create(in->width, in->height, out, err) != 0)
        return err->code;
    phieu_image *o = *out;
    double dpi = in->dpi_x > 0 ? in->dpi_x : RESCAN_DEFAULT_DPI;
    o->dpi_x = o->dpi_y = dpi;
    double ppm = dpi / MM_PER_INCH, th = p->rot_deg * M_PI / 180, c = cos(th), s = sin(th);
    double cx = (in->width - 1) / 2.0, cy = (in->height - 1) / 2.0;
    double ox = p->off_x_mm * ppm, oy = p->off_y_mm * ppm;
    int bilevel = is_bilevel(in);
    for (int y = 0; y < o->height; y++) {
        uint8_t *row = o->pixels + (size_t)y * o->stride;
        for (int x = 0; x < o->width; x++) {
            /* New scan pixel -> the old scan: undo offset, rotation and scale. */
            double qx = x - cx - ox, qy = y - cy - oy;
            double fx = cx + (c * qx + s * qy) / p->scale, fy = cy + (-s * qx + c * qy) / p->scale;
            if (p->turn)
                fx = 2 * cx - fx, fy = 2 * cy - fy;
            double v = sample(in, fx, fy) * p->gain + p->level + p->noise * rng_gauss(r);
            if (bilevel)
                v = v < 128 ? 0 : 255;
            row[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
        }
    }
    if (p->blur && !bilevel) {
        uint8_t *tmp = phieu_malloc((size_t)o->width * o->height);
        if (!tmp) {
            phieu_image_destroy(out);
            return phieu_error_set(err, PHIEU_ENOMEM, "rescan: out of memory for the blur");
        }
        for (int k = 0; k < p->blur; k++)
            blur121(o, tmp);
        phieu_free(tmp);
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: rescan [--seed S] [--page N] [--turn] IN OUT.png\n"
            "  makes OUT.png, another scan of the paper scanned in IN (page N, from 1):\n"
            "  rotation within ±%.1f°, offset within ±%.0f mm, scale within ±%.1f %%,\n"
            "  new noise and blur, exposure ±%.0f %%; --turn feeds it upside down.\n",
            RESCAN_MAX_ROT_DEG, RESCAN_MAX_OFFSET_MM, RESCAN_MAX_SCALE * 100,
            RESCAN_MAX_GAIN * 100);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1;
    int page = 1, turn = 0;
    const char *files[2] = {NULL, NULL};
    int nf = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--seed") == 0 && v) {
            seed = strtoull(v, NULL, 10), i++;
        } else if (strcmp(a, "--page") == 0 && v) {
            page = atoi(v), i++;
        } else if (strcmp(a, "--turn") == 0) {
            turn = 1;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (a[0] != '-' && nf < 2) {
            files[nf++] = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (nf != 2 || page < 1) {
        usage(stderr);
        return 2;
    }
    rng r = {seed * 0x100000001B3ull + 0x2545F4914F6CDD1Dull};
    pass p;
    p.rot_deg = rng_range(&r, -RESCAN_MAX_ROT_DEG, RESCAN_MAX_ROT_DEG);
    p.off_x_mm = rng_range(&r, -RESCAN_MAX_OFFSET_MM, RESCAN_MAX_OFFSET_MM);
    p.off_y_mm = rng_range(&r, -RESCAN_MAX_OFFSET_MM, RESCAN_MAX_OFFSET_MM);
    p.scale = 1 + rng_range(&r, -RESCAN_MAX_SCALE, RESCAN_MAX_SCALE);
    p.noise = rng_range(&r, RESCAN_NOISE_MIN, RESCAN_NOISE_MAX);
    p.gain = 1 + rng_range(&r, -RESCAN_MAX_GAIN, RESCAN_MAX_GAIN);
    p.level = rng_range(&r, -RESCAN_MAX_LEVEL, RESCAN_MAX_LEVEL);
    p.blur = (int)(rng_u64(&r) % 2);
    p.turn = turn;
    phieu_error err = {0};
    phieu_image *in = NULL, *out = NULL;
    if (phieu_image_load(files[0], page - 1, NULL, &in, &err) != 0) {
        fprintf(stderr, "rescan: %s\n", err.message);
        return 1;
    }
    int rc = rescan(in, &p, &r, &out, &err);
    phieu_image_destroy(&in);
    if (rc == 0)
        rc = phieu_image_save_png(out, files[1], &err);
    phieu_image_destroy(&out);
    if (rc != 0) {
        fprintf(stderr, "rescan: %s\n", err.message);
        return 1;
    }
    printf("%s: rotation %.2f°, offset %.1f %.1f mm, scale %.4f, noise %.1f, gain %.3f, "
           "level %+.1f, blur %d%s\n",
           files[1], p.rot_deg, p.off_x_mm, p.off_y_mm, p.scale, p.noise, p.gain, p.level, p.blur,
           p.turn ? ", turned" : "");
    return 0;
}
