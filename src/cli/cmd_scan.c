/*
 * cmd_scan.c - `phieu scan SESSION`: scans one batch from a scanner's feeder into a
 * session. The main thread drives SANE (source module); a second thread takes each sheet
 * from a bounded queue through phieu_session_add_page (archive, read, commit), so reading
 * never holds up the feeder. Faults are told to the operator in Vietnamese and English;
 * on a terminal the batch waits for Enter, otherwise the command exits with
 * PHIEU_EXIT_SCANNER and `phieu scan` continues the same batch. docs/scanning.md.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/session.h"
#include "phieu/source.h"

/* Sheets waiting between the scanner and the session: 8 sheets of A4 at 300 dpi gray are
 * 8 x 8.7 MB (x2 in duplex), and give the reader ~3 s of slack at 150 sheets a minute. */
#define QUEUE_SHEETS 8
#define MAX_SET 32

static const char usage[] =
    "usage: phieu scan SESSION [--device NAME] [--source adf|duplex|flatbed]\n"
    "                  [--resolution DPI] [--mode gray|color|lineart] [--sheets N]\n"
    "                  [--set OPTION=VALUE]... [--new-batch]\n"
    "\n"
    "Scans the sheets in the scanner's feeder into SESSION until the feeder is empty. Each\n"
    "page is archived, read and committed exactly as by 'phieu import'. With --source\n"
    "duplex the back of each sheet is recorded with its front (a back that is not blank\n"
    "goes to review). A page much longer than the ballot goes to review as a possible\n"
    "double feed. --sheets N is how many sheets you put in the feeder: at the end the\n"
    "batch is checked against it. Defaults: the first scanner, adf, 300 dpi, gray.\n"
    "\n"
    "When the scanner stops (jam, cover open, ...) the page in flight is discarded, every\n"
    "page before it stays recorded, and the message says which sheet to put back. On a\n"
    "terminal press Enter to go on or q to stop; otherwise the command exits with status\n"
    "5 and running it again continues the same batch. Ctrl-C finishes the sheet in flight\n"
    "and stops (status 6); run the command again to go on.\n"
    "\n"
    "Exit status: 0 done; 7 done but pages await review or the sheet count differs;\n"
    "5 the scanner stopped; 6 stopped by Ctrl-C; 1-4 as for every command.\n"
    "\n"
    "Quét các tờ phiếu trong khay nạp vào phiên kiểm phiếu SESSION cho đến khi khay trống.\n"
    "Khi máy quét dừng (kẹt giấy, mở nắp...), thông báo cho biết tờ nào cần đặt lại.\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ---- the queue between the scanner and the session ------------------------------- */

typedef struct job {
    phieu_image *front, *back;
    phieu_page_info front_info, back_info;
} job;

typedef struct pipeline {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    job jobs[QUEUE_SHEETS];
    int head, count, closed;
    /* the worker's side */
    phieu_session *session;
    int64_t batch;
    double page_h_mm;
    int failed;
    phieu_error err;
    int failed_sheet; /* the first sheet not recorded after a failure */
    int recorded, duplicates, review, backs, double_feeds;
} pipeline;

static void job_free(job *j)
{
    phieu_image_destroy(&j->front);
    phieu_image_destroy(&j->back);
}

/* Blocks while the queue is full; returns -1 (and frees the job) once the worker failed. */
static int enqueue(pipeline *p, job *j)
{
    pthread_mutex_lock(&p->lock);
    while (p->count == QUEUE_SHEETS && !p->failed)
        pthread_cond_wait(&p->changed, &p->lock);
    int failed = p->failed;
    if (!failed) {
        p->jobs[(p->head + p->count) % QUEUE_SHEETS] = *j;
        p->count++;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    if (failed)
        job_free(j);
    return failed ? -1 : 0;
}

static int worker_failed(pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    int f = p->failed;
    pthread_mutex_unlock(&p->lock);
    return f;
}

static void double_feed_check(const pipeline *p, const phieu_page_info *info,
                              phieu_page_meta *meta, char *why, size_t why_size)
{
    if (info->length_mm > p->page_h_mm + PHIEU_SOURCE_DOUBLE_FEED_MARGIN_MM) {
        snprintf(why, why_size,
                 "the page is %.0f mm long and the ballot %.0f mm: two sheets fed together? "
                 "/ trang dài %.0f mm, phiếu dài %.0f mm: có thể hai tờ bị kéo cùng lúc",
                 info->length_mm, p->page_h_mm, info->length_mm, p->page_h_mm);
        meta->double_feed = 1;
        meta->double_feed_why = why;
    }
}

/* Records one sheet (front, then its back). Returns 0 or a PHIEU_E... code. */
static int record(pipeline *p, job *j)
{
    phieu_page_meta meta = {0};
    char why[400];
    meta.batch = p->batch;
    meta.side = PHIEU_SIDE_FRONT;
    double_feed_check(p, &j->front_info, &meta, why, sizeof why);
    phieu_page_result *res = phieu_malloc(sizeof *res);
    if (!res)
        return phieu_error_set(&p->err, PHIEU_ENOMEM, "out of memory recording a page");
    int rc = phieu_session_add_page(p->session, j->front, &meta, res, &p->err);
    if (rc < 0)
        goto out;
    int sheet = j->front_info.sheet;
    if (res->outcome == PHIEU_ADD_DUPLICATE) {
        /* A re-fed sheet already counted: nothing stored, its back neither. */
        p->duplicates++;
        printf("sheet %d: already recorded, not counted again / tờ %d: đã có trong phiên, "
               "không đếm lại\n", sheet, sheet);
        goto out;
    }
    p->recorded++;
    p->double_feeds += meta.double_feed;
    int review = res->n_exceptions > 0 || res->status != 0;
    char front_id[PHIEU_SHEET_ID_MAX];
    snprintf(front_id, sizeof front_id, "%s", res->sheet_id);
    if (j->back) {
        phieu_page_meta bm = {0};
        bm.batch = p->batch;
        bm.side = PHIEU_SIDE_BACK;
        bm.back_of = front_id;
        rc = phieu_session_add_page(p->session, j->back, &bm, res, &p->err);
        if (rc < 0)
            goto out;
        p->backs += res->outcome == PHIEU_ADD_NEW;
        review |= res->outcome == PHIEU_ADD_NEW && res->n_exceptions > 0;
    }
    p->review += review;
    printf("sheet %d: %s%s\n", sheet,
           meta.double_feed ? "to review: possible double feed / cần xem xét: có thể kéo hai tờ"
           : review         ? "recorded, to review / đã ghi, cần xem xét"
                            : "recorded / đã ghi",
           j->back ? " (front and back / hai mặt)" : "");
out:
    fflush(stdout);
    phieu_free(res);
    return rc;
}

static void *worker(void *arg)
{
    pipeline *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (p->count == 0 && !p->closed)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->count == 0) {
            pthread_mutex_unlock(&p->lock);
            return NULL;
        }
        job j = p->jobs[p->head];
        pthread_mutex_unlock(&p->lock);
        int rc = p->failed ? 0 : record(p, &j);
        pthread_mutex_lock(&p->lock);
        p->head = (p->head + 1) % QUEUE_SHEETS;
        p->count--;
        if (rc < 0 && !p->failed) {
            p->failed = 1;
            p->failed_sheet = j.front_info.sheet;
        }
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        job_free(&j);
    }
}

/* ---- the operator ------------------------------------------------------------------ */

/* The session could not be opened or given a batch: nothing was scanned. */
static int not_started(const phieu_error *err, const char *session)
{
    int code = cli_fail(err);
    fprintf(stderr, "nothing was scanned: fix the problem and run 'phieu scan %s' again / "
            "chưa quét tờ nào: khắc phục rồi chạy lại 'phieu scan %s'\n", session, session);
    return code;
}

/* On a terminal: waits for Enter (1: go on) or q / end of input / Ctrl-C (0: stop). */
static int ask_continue(void)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
        return 0;
    fprintf(stderr, "Press Enter when ready to continue, or q then Enter to stop.\n"
                    "Nhấn Enter khi sẵn sàng để tiếp tục, hoặc q rồi Enter để dừng.\n> ");
    char line[64];
    if (!fgets(line, sizeof line, stdin) || interrupted)
        return 0;
    return line[0] != 'q' && line[0] != 'Q';
}

static int parse_args(int argc, char **argv, phieu_sane_options *o, const char **session,
                      int *sheets, int *new_batch, const char **set, size_t *n_set)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            if (*session)
                return cli_usage_error("scan", "one session only ('%s' is extra)", a);
            *session = a;
            continue;
        }
        if (!strcmp(a, "--new-batch")) {
            *new_batch = 1;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage_error("scan", "'%s' is not an option or needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--device")) {
            o->device = v;
        } else if (!strcmp(a, "--source")) {
            if (!strcmp(v, "adf"))
                o->source = PHIEU_SANE_SOURCE_ADF;
            else if (!strcmp(v, "duplex"))
                o->source = PHIEU_SANE_SOURCE_DUPLEX;
            else if (!strcmp(v, "flatbed"))
                o->source = PHIEU_SANE_SOURCE_FLATBED;
            else
                return cli_usage_error("scan", "--source takes adf, duplex or flatbed");
        } else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "gray"))
                o->mode = PHIEU_SANE_MODE_GRAY;
            else if (!strcmp(v, "color"))
                o->mode = PHIEU_SANE_MODE_COLOR;
            else if (!strcmp(v, "lineart"))
                o->mode = PHIEU_SANE_MODE_LINEART;
            else
                return cli_usage_error("scan", "--mode takes gray, color or lineart");
        } else if (!strcmp(a, "--resolution")) {
            o->resolution = atoi(v);
            if (o->resolution < 50 || o->resolution > 1200)
                return cli_usage_error("scan", "--resolution takes 50..1200 dpi");
        } else if (!strcmp(a, "--sheets")) {
            *sheets = atoi(v);
            if (*sheets <= 0)
                return cli_usage_error("scan", "--sheets takes the number of sheets placed");
        } else if (!strcmp(a, "--set")) {
            if (*n_set == MAX_SET)
                return cli_usage_error("scan", "at most %d --set options", MAX_SET);
            set[(*n_set)++] = v;
        } else {
            return cli_usage_error("scan", "unknown option '%s'", a);
        }
    }
    if (!*session)
        return cli_usage_error("scan", "which session? (phieu scan SESSION)");
    return 0;
}

int cmd_scan(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    phieu_sane_options o;
    memset(&o, 0, sizeof o);
    o.source = PHIEU_SANE_SOURCE_ADF;
    o.mode = PHIEU_SANE_MODE_GRAY;
    o.resolution = 300;
    o.full_area = 1;
    o.cancel_between_pages = -1;
    const char *session_path = NULL, *set[MAX_SET];
    size_t n_set = 0;
    int sheets = 0, new_batch = 0;
    int rc = parse_args(argc, argv, &o, &session_path, &sheets, &new_batch, set, &n_set);
    if (rc != 0)
        return rc;
    o.extra = set;
    o.n_extra = n_set;

    phieu_error err = {0};
    pipeline p;
    memset(&p, 0, sizeof p);
    if (phieu_session_open(session_path, &p.session, &err) < 0)
        return not_started(&err, session_path);
    const phieu_session_info *si = phieu_session_get_info(p.session);
    p.page_h_mm = si->n_forms > 0 && si->layouts[0].page_h > 0 ? si->layouts[0].page_h
                                                              : PHIEU_SOURCE_A4_LENGTH_MM;
    /* Continue the open batch (after a fault), or start one. */
    phieu_batch batch;
    rc = new_batch ? PHIEU_ENOTFOUND : phieu_session_batch_last_open(p.session, &batch, &err);
    int continued = rc == 0;
    if (rc == PHIEU_ENOTFOUND)
        rc = phieu_session_batch_open(p.session, sheets, &batch, &err);
    if (rc < 0) {
        phieu_session_close(&p.session);
        return not_started(&err, session_path);
    }
    int placed = batch.placed > 0 ? batch.placed : sheets;
    p.batch = batch.id;
    o.first_sheet = batch.sheets + 1;
    if (continued)
        printf("continuing batch %lld: %d sheets already recorded / tiếp tục đợt %lld: đã ghi "
               "%d tờ\n", (long long)batch.id, batch.sheets, (long long)batch.id, batch.sheets);
    else
        printf("batch %lld / đợt quét %lld\n", (long long)batch.id, (long long)batch.id);

    phieu_source *src = NULL;
    for (;;) {
        rc = phieu_source_open_sane(&o, &src, &err);
        if (rc >= 0)
            break;
        fprintf(stderr, "phieu: %s\n", err.message);
        if (rc != PHIEU_EDEVICE || !ask_continue()) {
            phieu_session_close(&p.session);
            if (rc == PHIEU_EDEVICE)
                fprintf(stderr, "run 'phieu scan %s' again to continue batch %lld / chạy lại "
                        "'phieu scan %s' để tiếp tục đợt %lld\n", session_path,
                        (long long)batch.id, session_path, (long long)batch.id);
            return cli_exit_code(rc);
        }
    }
    int res = 0;
    char mode[64] = "", source[96] = "";
    phieu_source_sane_settings(src, &res, mode, sizeof mode, source, sizeof source);
    printf("scanning: %s, %d dpi, %s / đang quét\n", source[0] ? source : "default source", res,
           mode);
    fflush(stdout);

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C ends the program at once (nothing is
                                   lost: every commit is one transaction) */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);

    pthread_t thread;
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.changed, NULL);
    /* Ctrl-C must reach the scanning thread only: the reader thread starts with SIGINT
     * blocked, so its disk writes and commits are never interrupted. */
    sigset_t block, old_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    int started = pthread_create(&thread, NULL, worker, &p);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (started != 0) {
        phieu_source_destroy(&src);
        phieu_session_close(&p.session);
        fprintf(stderr, "phieu: cannot start the reading thread\n");
        return PHIEU_EXIT_ERROR;
    }

    int exit_code = PHIEU_EXIT_OK, done = 0;
    job held = {0};
    while (!done) {
        if (interrupted) {
            exit_code = PHIEU_EXIT_INTERRUPTED;
            break;
        }
        if (worker_failed(&p))
            break;
        phieu_image *img = NULL;
        phieu_page_info info;
        rc = phieu_source_next(src, &img, &info, &err);
        if (rc == 1 && info.side == PHIEU_SOURCE_FRONT && o.source == PHIEU_SANE_SOURCE_DUPLEX) {
            job_free(&held); /* a front without its back cannot happen; drop it safely */
            held.front = img;
            held.front_info = info;
            continue; /* Ctrl-C waits for the back: the sheet in flight is finished */
        }
        if (rc == 1) {
            job j = {0};
            if (info.side == PHIEU_SOURCE_BACK) {
                if (!held.front) {
                    phieu_image_destroy(&img);
                    continue;
                }
                j = held;
                memset(&held, 0, sizeof held);
                j.back = img;
                j.back_info = info;
            } else {
                j.front = img;
                j.front_info = info;
            }
            if (enqueue(&p, &j) < 0)
                break;
            continue;
        }
        /* The feeder is empty, or a fault: the sheet in flight (a held front too) is
         * dropped; everything queued is still recorded. */
        if (rc == 0) {
            /* A duplex scanner always sends the back; should one end the feed after a
             * front, the front is still recorded rather than lost. */
            if (held.front) {
                job j = held;
                memset(&held, 0, sizeof held);
                if (enqueue(&p, &j) < 0)
                    break;
            }
            done = 1;
            break;
        }
        int held_sheet = held.front ? held.front_info.sheet : 0;
        job_free(&held);
        memset(&held, 0, sizeof held);
        fprintf(stderr, "phieu: %s\n", err.message);
        if (held_sheet)
            fprintf(stderr, "(the front of sheet %d was scanned but is dropped with it / mặt "
                    "trước của tờ %d cũng bị bỏ, sẽ quét lại)\n", held_sheet, held_sheet);
        if (rc == PHIEU_EDEVICE && ask_continue())
            continue;
        exit_code = interrupted            ? PHIEU_EXIT_INTERRUPTED
                    : rc == PHIEU_EDEVICE ? PHIEU_EXIT_SCANNER
                                          : cli_exit_code(rc);
        break;
    }
    job_free(&held);
    phieu_source_destroy(&src);
    pthread_mutex_lock(&p.lock);
    p.closed = 1;
    pthread_cond_broadcast(&p.changed);
    pthread_mutex_unlock(&p.lock);
    pthread_join(thread, NULL);
    pthread_cond_destroy(&p.changed);
    pthread_mutex_destroy(&p.lock);
    sigaction(SIGINT, &old_sa, NULL);

    if (p.failed) {
        fprintf(stderr, "phieu: %s\n", p.err.message);
        fprintf(stderr, "sheets from %d on were not recorded: take them from the output tray "
                "and scan them again after fixing the problem / các tờ từ tờ thứ %d trở đi chưa "
                "được ghi: lấy chúng từ khay giấy ra và quét lại sau khi khắc phục\n",
                p.failed_sheet, p.failed_sheet);
        phieu_session_close(&p.session);
        return cli_exit_code(p.err.code);
    }
    printf("%d sheets recorded, %d already in the session, %d backs, %d to review / đã ghi %d "
           "tờ, %d tờ trùng, %d mặt sau, %d tờ cần xem xét\n",
           p.recorded, p.duplicates, p.backs, p.review, p.recorded, p.duplicates, p.backs,
           p.review);
    if (!done) {
        if (exit_code == PHIEU_EXIT_INTERRUPTED)
            fprintf(stderr, "stopped; run 'phieu scan %s' to continue batch %lld / đã dừng; "
                    "chạy lại 'phieu scan %s' để tiếp tục đợt %lld\n", session_path,
                    (long long)batch.id, session_path, (long long)batch.id);
        else if (exit_code == PHIEU_EXIT_SCANNER)
            fprintf(stderr, "run 'phieu scan %s' again to continue batch %lld / chạy lại "
                    "'phieu scan %s' để tiếp tục đợt %lld\n", session_path,
                    (long long)batch.id, session_path, (long long)batch.id);
        phieu_session_close(&p.session);
        return exit_code;
    }
    rc = phieu_session_batch_close(p.session, batch.id, "operator", &batch, &err);
    phieu_session_close(&p.session);
    if (rc < 0) {
        int code = cli_fail(&err);
        fprintf(stderr, "every sheet is recorded, but batch %lld is still open: fix the problem "
                "and run 'phieu scan %s' again with the next sheets / mọi tờ đã được ghi nhưng "
                "đợt %lld chưa đóng: khắc phục rồi chạy lại 'phieu scan %s' với các tờ tiếp theo\n",
                (long long)batch.id, session_path, (long long)batch.id, session_path);
        return code;
    }
    printf("batch %lld closed: %d sheets / đợt %lld đã đóng: %d tờ\n", (long long)batch.id,
           batch.sheets, (long long)batch.id, batch.sheets);
    if (placed > 0 && placed != batch.sheets) {
        printf("%d placed, %d scanned: look in the feeder and the output tray / đã đặt %d tờ, "
               "quét được %d tờ: kiểm tra khay nạp và khay giấy ra\n",
               placed, batch.sheets, placed, batch.sheets);
        return PHIEU_EXIT_NEEDS_REVIEW;
    }
    return p.review > 0 ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
}
