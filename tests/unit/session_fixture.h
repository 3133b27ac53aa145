/*
 * session_fixture.h - ballots for session tests: a small rating form, rendered blank by
 * phieu_render_raster and marked by a simulated hand (an X whose strokes vary with a
 * seed, as two people's crosses do), plus a temporary folder per test.
 */
#ifndef PHIEU_SESSION_FIXTURE_H
#define PHIEU_SESSION_FIXTURE_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/render.h"

/* 150 dpi keeps tests fast; the form code's 2 mm cells read from 150 dpi up. */
#define FIXTURE_DPI 150

static const char fixture_rating_form[] = "id: test-rating\n"
                                          "kind: rating\n"
                                          "council: HỘI ĐỒNG NHÂN DÂN XÃ THỬ\n"
                                          "session: Kỳ họp thứ Nhất\n"
                                          "title: PHIẾU LẤY PHIẾU TÍN NHIỆM\n"
                                          "instruction: Đánh dấu X vào một ô ở mỗi dòng.\n"
                                          "row:\n  name: Nguyễn Văn An\n  post: Chủ tịch\n"
                                          "row:\n  name: Trần Thị Bình\n  post: Phó Chủ tịch\n"
                                          "row:\n  name: Lê Văn Cường\n  post: Ủy viên\n"
                                          "row:\n  name: Phạm Thị Dung\n  post: Ủy viên\n";

static double fixture_px(double mm)
{
    return mm * FIXTURE_DPI / 25.4;
}

/* A small deterministic generator so a "hand" is reproducible from its seed. */
static unsigned fixture_rand(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 16) & 0x7fff;
}

static void fixture_dot(phieu_image *img, int x, int y, int radius, uint8_t level)
{
    for (int dy = -radius; dy <= radius; dy++)
        for (int dx = -radius; dx <= radius; dx++) {
            int px = x + dx, py = y + dy;
            if (px >= 0 && py >= 0 && px < img->width && py < img->height &&
                img->pixels[(size_t)py * img->stride + px] > level)
                img->pixels[(size_t)py * img->stride + px] = level;
        }
}

static void fixture_line(phieu_image *img, double x0, double y0, double x1, double y1,
                         int radius, uint8_t level)
{
    int steps = (int)(fabs(x1 - x0) + fabs(y1 - y0)) * 2 + 1;
    for (int i = 0; i <= steps; i++) {
        double t = (double)i / steps;
        fixture_dot(img, (int)(x0 + (x1 - x0) * t + 0.5), (int)(y0 + (y1 - y0) * t + 0.5),
                    radius, level);
    }
}

/* An X in box (row, choice), 0-based, drawn by hand `seed`. `size` is the share of the
 * box the strokes span (1 = corner to corner of the interior); small sizes make marginal
 * marks. */
static void fixture_mark(phieu_image *img, const phieu_layout *L, int row, int choice,
                         unsigned seed, double size, uint8_t level)
{
    const phieu_rect *b = &L->boxes[row][choice];
    unsigned st = seed * 7919u + (unsigned)row * 31u + (unsigned)choice;
    double cx = fixture_px(b->x + b->w / 2), cy = fixture_px(b->y + b->h / 2);
    double half = fixture_px(b->w / 2 - L->box_line_mm - 0.6) * size;
    double j = half * 0.35;
#define JIT() ((double)(fixture_rand(&st) % 1000) / 1000.0 * 2 * j - j)
    fixture_line(img, cx - half + JIT(), cy - half + JIT(), cx + half + JIT(),
                 cy + half + JIT(), 1, level);
    fixture_line(img, cx + half + JIT(), cy - half + JIT(), cx - half + JIT(),
                 cy + half + JIT(), 1, level);
#undef JIT
}

/* Adds light, deterministic scanner noise (a rescan of the same paper). */
static void fixture_noise(phieu_image *img, unsigned seed)
{
    unsigned st = seed;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++) {
            int v = img->pixels[(size_t)y * img->stride + x] + (int)(fixture_rand(&st) % 7) - 3;
            img->pixels[(size_t)y * img->stride + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

/* A temporary folder for one test ("/tmp/phieu-test-XXXXXX"). */
static void fixture_tmpdir(char out[64])
{
    snprintf(out, 64, "/tmp/phieu-test-XXXXXX");
    if (!mkdtemp(out))
        abort();
}

static void fixture_rmdir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        abort();
}

#endif
