/*
 * cmd_import.c - `phieu import SESSION FILE|DIR...`: every page of PNG and TIFF files
 * (multi-page TIFF too) through the session's page pipeline, the same one `phieu scan`
 * uses. Shows a progress bar on a terminal and one line per page on a pipe; a line says
 * the outcome, never the selections. Running the same command again after a crash or a
 * full disk continues where it stopped: pages already recorded are recognised by hash.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <tiffio.h>
#include <unistd.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/image.h"
#include "phieu/session.h"
#include "phieu/util.h"

static const char usage[] =
    "usage: phieu import SESSION FILE|DIR...\n"
    "\n"
    "Reads ballot images (PNG, TIFF, multi-page TIFF) into the session, as a scanner would:\n"
    "each page is archived, read and recorded in one step. A folder stands for its image\n"
    "files in name order. A page already in the session is skipped (never counted twice);\n"
    "a page that looks like a second scan of a sheet goes to review. If the import stops\n"
    "(crash, full disk, Ctrl-C), run the same command again.\n"
    "\n"
    "Exit status: 0 all pages counted, 7 some pages or rows await a supervisor\n"
    "('phieu exceptions SESSION'), 6 interrupted, 1 error.\n";

/* Files larger than this are not ballot scans (image.h's byte limit). */
#define IMPORT_MAX_FILE_BYTES PHIEU_IMAGE_DEFAULT_MAX_BYTES
/* Redraw the progress bar at most this often (seconds) so the terminal is not flooded. */
#define PROGRESS_INTERVAL_S 0.1

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct file_list {
    char **paths;
    size_t n, cap;
} file_list;

static int list_add(file_list *l, const char *path)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **g = phieu_realloc(l->paths, cap * sizeof *g);
        if (!g)
            return -1;
        l->paths = g;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = phieu_strdup(path)))
        return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    return strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".tif") == 0 ||
           strcasecmp(dot, ".tiff") == 0;
}

/* Expands folders into their image files, sorted by name. */
static int collect(const char *path, file_list *l)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "phieu: cannot open '%s': no such file or folder\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return list_add(l, path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "phieu: cannot open folder '%s'\n", path);
        return -1;
    }
    size_t first = l->n;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !is_image_name(e->d_name))
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (list_add(l, full) != 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort(l->paths + first, l->n - first, sizeof *l->paths, cmp_str);
    return 0;
}

/* Pages of one file, for the progress total: TIFF directories, else 1. */
static int count_pages(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    uint8_t head[8] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (phieu_image_sniff(head, got) != PHIEU_IMAGE_TIFF)
        return 1;
    TIFFSetWarningHandler(NULL);
    TIFFSetErrorHandler(NULL);
    TIFF *t = TIFFOpen(path, "r");
    if (!t)
        return 1;
    int n = TIFFNumberOfDirectories(t);
    TIFFClose(t);
    return n > 0 ? n : 1;
}

typedef struct progress {
    int done, total;
    int fresh, counted, review, rejected, blank, already, rescans, unreadable, exceptions;
    double started;
    double drawn;
    int tty;
} progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void draw(progress *p, int final)
{
    double t = now_s();
    if (!final && t - p->drawn < PROGRESS_INTERVAL_S)
        return;
    p->drawn = t;
    double rate = t > p->started ? p->done / (t - p->started) : 0;
    int width = 30, fill = p->total ? p->done * width / p->total : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %d/%d pages  %.1f pages/s  %d exceptions%s", bar, p->done,
            p->total, rate, p->exceptions, final ? "\n" : "");
    fflush(stderr);
}

/* One line per page on a pipe: the outcome, never the selections. */
static void page_line(const progress *p, const char *origin, const phieu_page_result *r,
                      const char *form_id)
{
    if (r->outcome == PHIEU_ADD_DUPLICATE) {
        printf("page %d/%d %s: already in the session as sheet %s, skipped\n", p->done,
               p->total, origin, r->sheet_id);
        return;
    }
    const char *what = r->reading.status == PHIEU_PAGE_BLANK ? "blank"
                       : r->status == PHIEU_PAGE_COUNTED    ? "counted"
                       : r->status == PHIEU_PAGE_REVIEW     ? "to review"
                       : r->status == PHIEU_PAGE_REJECTED   ? "rejected"
                                                            : "blank";
    printf("page %d/%d %s: %s, form %s", p->done, p->total, origin, what,
           form_id ? form_id : "unknown");
    if (r->n_exceptions)
        printf(", %d exception%s", r->n_exceptions, r->n_exceptions > 1 ? "s" : "");
    if (r->possible_duplicate_of[0])
        printf(" (possible duplicate of sheet %s)", r->possible_duplicate_of);
    printf("\n");
}

static void account(progress *p, const phieu_page_result *r)
{
    if (r->outcome == PHIEU_ADD_DUPLICATE) {
        p->already++;
        return;
    }
    p->fresh++;
    p->exceptions += r->n_exceptions;
    if (r->possible_duplicate_of[0])
        p->rescans++;
    /* A blank page is stored as rejected (a person looks at it), but it is a blank. */
    int blank = r->status == PHIEU_PAGE_BLANK || r->reading.status == PHIEU_PAGE_BLANK;
    switch (blank ? PHIEU_PAGE_BLANK : r->status) {
    case PHIEU_PAGE_COUNTED: p->counted++; break;
    case PHIEU_PAGE_REVIEW: p->review++; break;
    case PHIEU_PAGE_BLANK: p->blank++; break;
    default: p->rejected++; break;
    }
}

int cmd_import(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    if (argc < 3)
        return cli_usage_error("import", "give the session and at least one file or folder");
    file_list files = {0};
    int rc = PHIEU_EXIT_OK;
    for (int i = 2; i < argc; i++)
        if (collect(argv[i], &files) != 0) {
            rc = PHIEU_EXIT_INPUT;
            goto free_files;
        }
    if (files.n == 0) {
        fprintf(stderr, "phieu: no PNG or TIFF files in the given folders\n");
        rc = PHIEU_EXIT_INPUT;
        goto free_files;
    }

    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(argv[1], &s, &err) != 0) {
        rc = cli_fail(&err);
        goto free_files;
    }
    int cleaned = 0;
    if (phieu_session_archive_clean(s, &cleaned, &err) != 0) {
        rc = cli_fail(&err);
        goto close;
    }
    progress p = {0};
    p.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    for (size_t i = 0; i < files.n; i++)
        p.total += count_pages(files.paths[i]);
    phieu_batch batch;
    if (phieu_session_batch_open(s, 0, &batch, &err) != 0) {
        rc = cli_fail(&err);
        goto close;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    p.started = now_s();
    const phieu_session_info *info = phieu_session_get_info(s);
    phieu_image_limits limits = phieu_image_default_limits();
    phieu_page_result *res = phieu_malloc(sizeof *res);
    if (!res) {
        fprintf(stderr, "phieu: out of memory\n");
        rc = PHIEU_EXIT_ERROR;
        goto close;
    }
    for (size_t i = 0; i < files.n && rc == PHIEU_EXIT_OK && !interrupted; i++) {
        const char *path = files.paths[i];
        phieu_image_reader *reader = NULL;
        int pageno = 0;
        int opened = phieu_image_reader_open(path, &limits, &reader, &err);
        for (;;) {
            phieu_image *page = NULL;
            int got = opened == 0 ? phieu_image_reader_next(reader, &page, &err) : opened;
            if (got == 0)
                break;
            pageno++;
            char origin[4200];
            snprintf(origin, sizeof origin, pageno > 1 ? "'%s' page %d" : "'%s'", path, pageno);
            phieu_page_meta meta = {batch.id, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
            int add;
            if (got < 0) {
                if (got == PHIEU_ENOMEM) {
                    rc = cli_fail(&err);
                    break;
                }
                /* The file cannot be decoded: keep its bytes so the paper is looked at. */
                uint8_t *bytes = NULL;
                size_t len = 0;
                phieu_error why = err;
                add = phieu_read_file(path, IMPORT_MAX_FILE_BYTES, &bytes, &len, &err);
                if (add == 0)
                    add = phieu_session_add_unreadable(s, bytes, len, why.message, &meta, res,
                                                       &err);
                phieu_free(bytes);
                if (add == 0 && res->outcome == PHIEU_ADD_NEW)
                    p.unreadable++;
            } else {
                add = phieu_session_add_page(s, page, &meta, res, &err);
                phieu_image_destroy(&page);
            }
            if (add != 0) {
                if (p.tty)
                    fputc('\n', stderr);
                phieu_error_prefix(&err, "%s: ", origin);
                rc = cli_fail(&err);
                break;
            }
            p.done++;
            account(&p, res);
            if (p.tty)
                draw(&p, 0);
            else
                page_line(&p, origin, res,
                          res->form_index >= 0 ? info->forms[res->form_index]->id : NULL);
            if (got < 0 || interrupted)
                break;
        }
        phieu_image_reader_close(&reader);
    }
    phieu_free(res);
    if (p.tty)
        draw(&p, 1);
    fflush(stdout);
    if (rc == PHIEU_EXIT_OK && !interrupted) {
        if (phieu_session_batch_close(s, batch.id, getenv("USER"), NULL, &err) != 0)
            rc = cli_fail(&err);
    }
    double secs = now_s() - p.started;
    fprintf(stderr,
            "%s: %d pages in %.1f s; %d new (%d counted, %d to review, %d rejected, %d blank), "
            "%d already in the session, %d possible rescans, %d unreadable files; %d "
            "exceptions opened\n",
            rc == PHIEU_EXIT_OK && !interrupted ? "imported" : "stopped", p.done, secs, p.fresh,
            p.counted, p.review, p.rejected, p.blank, p.already, p.rescans, p.unreadable,
            p.exceptions);
    if (rc != PHIEU_EXIT_OK || interrupted) {
        fprintf(stderr, "every page listed above is safely recorded; run the same command "
                        "again to continue\n");
        if (rc == PHIEU_EXIT_OK)
            rc = PHIEU_EXIT_INTERRUPTED;
        goto close;
    }
    phieu_session_progress pr;
    if (phieu_session_progress_get(s, &pr, &err) == 0 && pr.exceptions_open > 0) {
        fprintf(stderr, "%d exceptions await a supervisor: 'phieu exceptions %s' lists them\n",
                pr.exceptions_open, argv[1]);
        rc = PHIEU_EXIT_NEEDS_REVIEW;
    }
close:
    phieu_session_close(&s);
free_files:
    for (size_t i = 0; i < files.n; i++)
        phieu_free(files.paths[i]);
    phieu_free(files.paths);
    return rc;
}
