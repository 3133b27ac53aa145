/*
 * cmd_import.c - `phieu import SESSION FILE|DIR...`: every page of PNG and TIFF files
 * (multi-page TIFF too) into the session through the intake (intake.h), the same one
 * `phieu scan` uses. Shows a progress bar on a terminal and one line per page on a pipe; a
 * line says the outcome, never the selections. Running the same command again after a
 * crash or a full disk continues where it stopped: pages already recorded are recognised
 * by hash.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/intake.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/source.h"

static const char usage[] =
    "usage: phieu import SESSION FILE|DIR... [--jobs N]\n"
    "\n"
    "Reads ballot images (PNG, TIFF, multi-page TIFF) into the session, as a scanner would:\n"
    "each page is archived, read and recorded in one step. A folder stands for its image\n"
    "files in name order. A page already in the session is skipped (never counted twice);\n"
    "a page that looks like a second scan of a sheet goes to review. If the import stops\n"
    "(crash, full disk, Ctrl-C), run the same command again.\n"
    "\n"
    "--jobs N reads N pages at once (default: the number of cores); the pages are recorded\n"
    "in the same order and with the same results whatever N is.\n"
    "\n"
    "Exit status: 0 all pages counted, 7 some pages or rows await a supervisor\n"
    "('phieu exceptions SESSION'), 6 interrupted, 1 error.\n";

/* Redraw the progress bar at most this often (seconds) so the terminal is not flooded. */
#define PROGRESS_INTERVAL_S 0.1

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct progress {
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

static void draw(progress *p, const phieu_intake_counts *c, int final)
{
    double t = now_s();
    if (!final && t - p->drawn < PROGRESS_INTERVAL_S)
        return;
    p->drawn = t;
    double rate = t > p->started ? c->pages / (t - p->started) : 0;
    int width = 30, fill = c->pages_expected ? c->pages * width / c->pages_expected : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %d/%d pages  %.1f pages/s  %d exceptions%s", bar, c->pages,
            c->pages_expected, rate, c->exceptions, final ? "\n" : "");
    fflush(stderr);
}

/* One line per page on a pipe: the outcome, never the selections. */
static void page_line(const phieu_intake_event *ev)
{
    const phieu_intake_counts *c = ev->counts;
    const phieu_page_result *r = ev->front;
    char origin[4200];
    snprintf(origin, sizeof origin, ev->page_in_file > 1 ? "'%s' page %d" : "'%s'", ev->path,
             ev->page_in_file);
    if (r->outcome == PHIEU_ADD_DUPLICATE) {
        printf("page %d/%d %s: already in the session as sheet %s, skipped\n", c->pages,
               c->pages_expected, origin, r->sheet_id);
        return;
    }
    /* A blank page is stored as rejected (a person looks at it), but it is a blank. */
    const char *what = r->reading.status == PHIEU_PAGE_BLANK ? "blank"
                       : r->status == PHIEU_PAGE_COUNTED    ? "counted"
                       : r->status == PHIEU_PAGE_REVIEW     ? "to review"
                       : r->status == PHIEU_PAGE_REJECTED   ? "rejected"
                                                            : "blank";
    printf("page %d/%d %s: %s, form %s", c->pages, c->pages_expected, origin, what,
           ev->form_id ? ev->form_id : "unknown");
    if (r->n_exceptions)
        printf(", %d exception%s", r->n_exceptions, r->n_exceptions > 1 ? "s" : "");
    if (r->possible_duplicate_of[0])
        printf(" (possible duplicate of sheet %s)", r->possible_duplicate_of);
    printf("\n");
}

static void on_event(const phieu_intake_event *ev, void *user)
{
    progress *p = user;
    if (p->tty)
        draw(p, ev->counts, 0);
    else
        page_line(ev);
}

/* Splits argv (after the session, argv[1]) into the paths and --jobs. */
static int parse_args(int argc, char **argv, const char **paths, size_t *n_paths, int *jobs)
{
    static const cli_option options[] = {CLI_COMMON(CLI_JOBS), {0}};
    cli_args a;
    int id;
    cli_args_init(&a, "import", argc - 1, argv + 1, options);
    while ((id = cli_args_next(&a)) > 0) {
        char *end = NULL;
        long n = strtol(a.value, &end, 10);
        if (!end || *end || n < 1 || n > PHIEU_INTAKE_MAX_JOBS)
            return cli_usage_error("import", "--jobs takes a number of workers, 1 to %d",
                                   PHIEU_INTAKE_MAX_JOBS);
        *jobs = (int)n;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    for (int i = 0; i < a.n_rest; i++)
        paths[(*n_paths)++] = a.rest[i];
    if (*n_paths == 0)
        return cli_usage_error("import", "give the session and at least one file or folder");
    return 0;
}

/* The source could not be listed: a missing file or folder is the input's fault. */
static int not_listed(const phieu_error *err)
{
    cli_fail(err);
    return err->code == PHIEU_ENOMEM ? PHIEU_EXIT_ERROR : PHIEU_EXIT_INPUT;
}

/* Lists the files given and opens the session, its archive cleaned of files a killed run
 * left: PHIEU_EXIT_OK, or the exit code after saying what is wrong. */
static int open_inputs(const char *session_path, const char **paths, size_t n_paths,
                       phieu_source **src, phieu_session **s)
{
    phieu_error err = {0};
    if (phieu_source_open_files(paths, n_paths, 0, NULL, src, &err) != 0)
        return not_listed(&err);
    if (phieu_source_pages_expected(*src) == 0) {
        fprintf(stderr, "phieu: no PNG or TIFF files in the given folders\n");
        return PHIEU_EXIT_INPUT;
    }
    if (phieu_session_open(session_path, s, &err) != 0)
        return cli_fail(&err);
    int cleaned = 0;
    if (phieu_session_archive_clean(*s, &cleaned, &err) != 0)
        return cli_fail(&err);
    return PHIEU_EXIT_OK;
}

/* The line that ends every import, whole or stopped. */
static void print_summary(const progress *p, const phieu_intake_counts *c, int stopped)
{
    fprintf(stderr,
            "%s: %d pages in %.1f s; %d new (%d counted, %d to review, %d rejected, %d blank), "
            "%d already in the session, %d possible rescans, %d unreadable files; %d "
            "exceptions opened\n",
            stopped ? "stopped" : "imported", c->pages, now_s() - p->started, c->fresh,
            c->counted, c->review, c->rejected, c->blank, c->already, c->rescans,
            c->unreadable, c->exceptions);
}

/* Runs the intake over src into s with its progress on the terminal: the exit code. */
static int run_import(phieu_session *s, phieu_source *src, phieu_intake_options *o,
                      const char *session_path)
{
    phieu_error err = {0};
    phieu_intake *in = NULL;
    progress p = {0};
    p.tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    o->new_batch = 1;
    o->actor = getenv("USER");
    o->stop = &interrupted;
    o->on_event = on_event;
    o->user = &p;
    if (phieu_intake_create(s, o, &in, &err) != 0)
        return cli_fail(&err);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    p.started = now_s();
    int rc = PHIEU_EXIT_OK, run = phieu_intake_run(in, src, &err);
    const phieu_intake_counts *c = &phieu_intake_get_state(in)->counts;
    if (run < 0 && run != PHIEU_ECANCELLED) {
        if (p.tty)
            fputc('\n', stderr);
        rc = cli_fail(&err);
    }
    if (p.tty)
        draw(&p, c, 1);
    fflush(stdout);
    if (run == 0 && phieu_intake_finish(in, NULL, NULL, &err) != 0)
        rc = cli_fail(&err);
    int stopped = rc != PHIEU_EXIT_OK || run != 0;
    print_summary(&p, c, stopped);
    phieu_intake_destroy(&in);
    if (stopped) {
        fprintf(stderr, "every page listed above is safely recorded; run the same command "
                        "again to continue\n");
        return rc == PHIEU_EXIT_OK ? PHIEU_EXIT_INTERRUPTED : rc;
    }
    phieu_session_progress pr;
    if (phieu_session_progress_get(s, &pr, &err) == 0 && pr.exceptions_open > 0) {
        fprintf(stderr, "%d exceptions await a supervisor: 'phieu exceptions %s' lists them\n",
                pr.exceptions_open, session_path);
        return PHIEU_EXIT_NEEDS_REVIEW;
    }
    return PHIEU_EXIT_OK;
}

int cmd_import(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    if (argc < 3)
        return cli_usage_error("import", "give the session and at least one file or folder");
    const char **paths = phieu_calloc((size_t)argc, sizeof *paths);
    if (!paths) {
        fprintf(stderr, "phieu: out of memory\n");
        return PHIEU_EXIT_ERROR;
    }
    size_t n_paths = 0;
    phieu_intake_options o = {0};
    phieu_source *src = NULL;
    phieu_session *s = NULL;
    int rc = parse_args(argc, argv, paths, &n_paths, &o.jobs);
    if (rc == 0)
        rc = open_inputs(argv[1], paths, n_paths, &src, &s);
    if (rc == 0)
        rc = run_import(s, src, &o, argv[1]);
    phieu_session_close(&s);
    phieu_source_destroy(&src);
    phieu_free(paths);
    return rc;
}
