/*
 * bench_omr.c - how fast a page is read: the median time of phieu_omr_read on a decoded
 * 300 dpi gray page, pages per second for decode + read over a deck of PNG files (what
 * `phieu read` does), and the peak memory. Prints figures; it is not a pass/fail test.
 * usage: bench_omr [--form FORM] [--reads N] [--pages N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/render.h"
#include "phieu/util.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* An X in box (r, c): two 0.5 mm strokes of ballpoint gray. */
static void mark_x(phieu_image *img, const phieu_rect *b)
{
    double s = img->dpi_x / 25.4;
    for (int k = 0; k < 2; k++)
        for (double t = 0; t <= 1; t += 0.002) {
            double x = b->x + 0.9 + t * (b->w - 1.8);
            double y = k ? b->y + 0.9 + t * (b->h - 1.8) : b->y + b->h - 0.9 - t * (b->h - 1.8);
            int px = (int)(x * s), py = (int)(y * s), r = (int)(0.25 * s);
            for (int yy = py - r; yy <= py + r; yy++)
                for (int xx = px - r; xx <= px + r; xx++)
                    img->pixels[(size_t)yy * img->stride + xx] = 40;
        }
}

int main(int argc, char **argv)
{
    const char *form_path = NULL;
    int reads = 300, pages = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--form") == 0)
            form_path = argv[i + 1];
        else if (strcmp(argv[i], "--reads") == 0)
            reads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--pages") == 0)
            pages = atoi(argv[i + 1]);
    }
    if (reads < 1 || pages < 1) {
        fprintf(stderr, "usage: bench_omr [--form FORM] [--reads N] [--pages N]\n");
        return 2;
    }
    char def[4096];
    if (!form_path) {
        const char *src = getenv("PHIEU_SOURCE_DIR");
        snprintf(def, sizeof def, "%s/forms/province-rating.form", src ? src : ".");
        form_path = def;
    }
    phieu_error err = {0};
    phieu_form *form = NULL;
    phieu_layout layout;
    phieu_image *page = NULL;
    if (phieu_util_init(&err) || phieu_form_load(form_path, &form, &err) ||
        phieu_layout_compute(form, &layout, &err) ||
        phieu_render_raster(form, &(phieu_render_options){0, 1}, 300, &page, &err)) {
        fprintf(stderr, "bench_omr: %s\n", err.message);
        return 1;
    }
    for (int r = 0; r < layout.n_rows; r++)
        mark_x(page, &layout.boxes[r][r % layout.n_choices]);
    const phieu_form *forms[1] = {form};
    phieu_omr_config cfg = {.forms = forms, .layouts = &layout, .n_forms = 1};
    phieu_thresholds_default(&cfg.thresholds);
    phieu_reading rd;

    /* 1. Reading a decoded page. */
    double *t = malloc(sizeof(double) * (size_t)reads);
    if (!t)
        return 1;
    for (int i = 0; i < reads; i++) {
        double t0 = now_ms();
        if (phieu_omr_read(&cfg, page, &rd, &err) != 0) {
            fprintf(stderr, "bench_omr: %s\n", err.message);
            return 1;
        }
        t[i] = now_ms() - t0;
    }
    if (rd.status != PHIEU_PAGE_COUNTED)
        fprintf(stderr, "bench_omr: warning: the bench page read as %s\n",
                phieu_page_status_name(rd.status));
    qsort(t, (size_t)reads, sizeof *t, cmp_double);
    printf("form %s: %d rows x %d boxes, page %dx%d (300 dpi)\n", form->id, layout.n_rows,
           layout.n_choices, page->width, page->height);
    printf("read a decoded page: median %.3f ms, p90 %.3f ms, min %.3f ms (%d reads)\n",
           t[reads / 2], t[reads * 9 / 10], t[0], reads);
    free(t);

    /* 2. A deck of PNG files: decode + read, as `phieu read` does. */
    char dir[] = "/tmp/bench_omr_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_omr: cannot make a temporary folder\n");
        return 1;
    }
    int files = pages < 8 ? pages : 8; /* distinct files, read round-robin */
    char path[8][4200];
    for (int i = 0; i < files; i++) {
        snprintf(path[i], sizeof path[i], "%s/p%d.png", dir, i);
        mark_x(page, &layout.boxes[i % layout.n_rows][(i + 1) % layout.n_choices]);
        if (phieu_image_save_png(page, path[i], &err) != 0) {
            fprintf(stderr, "bench_omr: %s\n", err.message);
            return 1;
        }
    }
    double t0 = now_ms(), decode = 0;
    for (int i = 0; i < pages; i++) {
        phieu_image *img = NULL;
        double d0 = now_ms();
        if (phieu_image_load(path[i % files], 0, NULL, &img, &err) != 0) {
            fprintf(stderr, "bench_omr: %s\n", err.message);
            return 1;
        }
        decode += now_ms() - d0;
        phieu_omr_read(&cfg, img, &rd, &err);
        phieu_image_destroy(&img);
    }
    double total = now_ms() - t0;
    printf("PNG deck, decode + read: %.1f pages/s (%.2f ms a page, of which decoding %.2f ms; "
           "%d pages)\n",
           pages * 1000.0 / total, total / pages, decode / pages, pages);
    for (int i = 0; i < files; i++)
        unlink(path[i]);
    rmdir(dir);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak memory (RSS): %.1f MB\n", ru.ru_maxrss / 1024.0);
    phieu_image_destroy(&page);
    phieu_form_destroy(&form);
    return 0;
}
