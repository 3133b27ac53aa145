/*
 * bench_scan.c - end-to-end pages per second through SANE at 300 dpi gray: libsane's dll
 * backend loads phieu's scanner backend (a private SANE_CONFIG_DIR), which feeds A4 pages,
 * and the source module turns each into a checked phieu_image. With a session file and
 * ballot images it also times archive + read + commit (phieu_session_add_page), the work
 * `phieu scan` does on its reader thread. Prints figures; never fails on speed.
 *
 *   bench_scan [PAGES]      (env: PHIEU_SANE_LIB_DIR, PHIEU_SOURCE_DIR as set by make bench)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/source.h"
#include "phieu/util.h"

/* A4 at 300 dpi: 210 x 297 mm = 2480 x 3508 pixels. */
#define PAGE_W 2480
#define PAGE_H 3508
#define DEFAULT_PAGES 40
/* The bar from the issue: at least 10 pages a second on one core (150 sheets a minute,
 * duplex, is 5 pages a second). */
#define TARGET_PAGES_PER_S 10.0

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int write_pages(const char *dir, int n)
{
    uint8_t *px = malloc((size_t)PAGE_W * PAGE_H);
    if (!px)
        return -1;
    for (int k = 0; k < n; k++) {
        /* White paper with dark rules, different on every page. */
        for (int y = 0; y < PAGE_H; y++)
            memset(px + (size_t)y * PAGE_W, (y + k) % 97 < 3 ? 30 : 245, PAGE_W);
        char path[4400];
        if (snprintf(path, sizeof path, "%s/page-%04d.pgm", dir, k) >= (int)sizeof path) {
            free(px);
            return -1;
        }
        FILE *f = fopen(path, "wb");
        if (!f) {
            free(px);
            return -1;
        }
        fprintf(f, "P5\n%d %d\n255\n", PAGE_W, PAGE_H);
        fwrite(px, 1, (size_t)PAGE_W * PAGE_H, f);
        fclose(f);
    }
    free(px);
    return 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* archive + read + commit of the sample ballots into a new session. */
static void bench_commit(const char *top, const char *dir)
{
    char forms_dir[4200], ballots[4200], db[4200];
    snprintf(forms_dir, sizeof forms_dir, "%s/forms", top);
    snprintf(ballots, sizeof ballots, "%s/samples/ballots", top);
    snprintf(db, sizeof db, "%s/bench.db", dir);
    if (access(ballots, R_OK) != 0) {
        printf("read+commit: skipped (no %s)\n", ballots);
        return;
    }
    /* samples/ballots/ is the district council's: its session holds its two forms. */
    const char *names[] = {"district-rating.form", "confidence-vote.form"};
    phieu_form *forms[2];
    int n_forms = 0;
    phieu_error err = {0};
    for (int i = 0; i < 2; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", forms_dir, names[i]);
        if (phieu_form_load(path, &forms[n_forms], &err) == 0)
            n_forms++;
    }
    phieu_session_params p = {0};
    p.council = "Hội đồng nhân dân huyện An Thạnh";
    p.session_name = "Kỳ họp thứ Mười Một, khóa XII";
    p.date = "2026-11-28";
    p.place = "bench";
    p.delegates = 100;
    p.forms = (const phieu_form *const *)forms;
    p.n_forms = n_forms;
    p.two_person_rule = 0;
    phieu_session *s = NULL;
    phieu_source *src = NULL;
    const char *paths[] = {ballots};
    phieu_batch batch;
    if (n_forms == 0 || phieu_session_create(db, &p, &s, &err) < 0 ||
        phieu_session_batch_open(s, 0, &batch, &err) < 0 ||
        phieu_source_open_files(paths, 1, 0, NULL, &src, &err) < 0) {
        printf("read+commit: skipped (%s)\n", err.message);
        goto out;
    }
    /* Decode first, so that only the session's work is timed. */
    phieu_image *pages[64];
    int n = 0;
    phieu_page_info info;
    while (n < 64 && phieu_source_next(src, &pages[n], &info, &err) == 1)
        n++;
    double t0 = now(), c0 = cpu();
    int ok = 0;
    phieu_page_result *res = phieu_malloc(sizeof *res);
    for (int i = 0; i < n && res; i++) {
        phieu_page_meta meta = {0};
        meta.batch = batch.id;
        meta.side = PHIEU_SIDE_FRONT;
        ok += phieu_session_add_page(s, pages[i], &meta, res, &err) == 0;
    }
    double t = now() - t0, c = cpu() - c0;
    phieu_free(res);
    for (int i = 0; i < n; i++)
        phieu_image_destroy(&pages[i]);
    printf("read+commit (archive PNG, fsync, read, one transaction): %d pages in %.2f s: "
           "%.1f pages/s wall, %.1f pages/s per core\n",
           ok, t, ok / t, c > 0 ? ok / c : 0);
out:
    phieu_source_destroy(&src);
    phieu_session_close(&s);
    for (int i = 0; i < n_forms; i++)
        phieu_form_destroy(&forms[i]);
}

int main(int argc, char **argv)
{
    int pages = argc > 1 ? atoi(argv[1]) : DEFAULT_PAGES;
    const char *lib = getenv("PHIEU_SANE_LIB_DIR");
    const char *top = getenv("PHIEU_SOURCE_DIR");
    if (!lib) {
        fprintf(stderr, "bench_scan: set PHIEU_SANE_LIB_DIR to the folder of libsane-phieu.so.1\n");
        return 1;
    }
    phieu_error err = {0};
    phieu_util_init(&err);
    char dir[] = "/tmp/bench_scan.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char cfg[4200], feed[4200], path[4400], text[4400], cmd[4300];
    snprintf(cfg, sizeof cfg, "%s/sane.d", dir);
    snprintf(feed, sizeof feed, "%s/feed", dir);
    snprintf(path, sizeof path, "%s/dll.d", cfg);
    if (phieu_mkdir_p(path, &err) < 0 || phieu_mkdir_p(feed, &err) < 0 ||
        write_pages(feed, pages) < 0)
        return 1;
    snprintf(path, sizeof path, "%s/dll.conf", cfg);
    write_text(path, "phieu\n");
    snprintf(path, sizeof path, "%s/phieu.conf", cfg);
    snprintf(text, sizeof text, "folder %s\ndpi 300\n", feed);
    write_text(path, text);
    setenv("SANE_CONFIG_DIR", cfg, 1);
    const char *old = getenv("LD_LIBRARY_PATH");
    snprintf(text, sizeof text, "%s%s%s", lib, old ? ":" : "", old ? old : "");
    setenv("LD_LIBRARY_PATH", text, 1); /* the dll backend searches it when loading */

    phieu_sane_options o = {0};
    o.device = "phieu:0";
    o.source = PHIEU_SANE_SOURCE_ADF;
    o.mode = PHIEU_SANE_MODE_GRAY;
    o.resolution = 300;
    o.cancel_between_pages = -1;
    phieu_source *src = NULL;
    if (phieu_source_open_sane(&o, &src, &err) < 0) {
        fprintf(stderr, "bench_scan: %s\n", err.message);
        return 1;
    }
    double t0 = now(), c0 = cpu();
    int n = 0;
    uint64_t bytes = 0;
    for (;;) {
        phieu_image *img = NULL;
        phieu_page_info info;
        int rc = phieu_source_next(src, &img, &info, &err);
        if (rc <= 0)
            break;
        bytes += info.bytes_received;
        n++;
        phieu_image_destroy(&img);
    }
    double t = now() - t0, c = cpu() - c0;
    phieu_source_destroy(&src);
    printf("SANE end to end (libsane -> phieu backend -> source -> image), A4 300 dpi gray:\n"
           "  %d pages, %.0f MB in %.2f s: %.1f pages/s wall, %.1f pages/s per core "
           "(target >= %.0f)\n",
           n, bytes / 1e6, t, n / t, c > 0 ? n / c : 0, TARGET_PAGES_PER_S);
    if (top)
        bench_commit(top, dir);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_scan: could not remove %s\n", dir);
    return 0;
}
