/*
 * cmd_scan.c - `phieu scan SESSION`: scans one batch from a scanner's feeder into a
 * session. The main thread drives SANE (source module); the intake (intake.h) reads and
 * records the sheets on its own threads, so reading never holds up the feeder. Faults are
 * told to the operator in Vietnamese and English; on a terminal the batch waits for Enter,
 * otherwise the command exits with PHIEU_EXIT_SCANNER and `phieu scan` continues the same
 * batch. docs/scanning.md.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/intake.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/source.h"

#define MAX_SET 32

static const char usage[] =
    "usage: phieu scan SESSION [--device NAME] [--source adf|duplex|flatbed]\n"
    "                  [--resolution DPI] [--mode gray|color|lineart] [--sheets N]\n"
    "                  [--set OPTION=VALUE]... [--new-batch] [--jobs N]\n"
    "\n"
    "Scans the sheets in the scanner's feeder into SESSION until the feeder is empty. Each\n"
    "page is archived, read and committed exactly as by 'phieu import'. With --source\n"
    "duplex the back of each sheet is recorded with its front (a back that is not blank\n"
    "goes to review). A page much longer than the ballot goes to review as a possible\n"
    "double feed. --sheets N is how many sheets you put in the feeder: at the end the\n"
    "batch is checked against it. --jobs N reads N pages at once (default: the number of\n"
    "cores). Defaults: the first scanner, adf, 300 dpi, gray.\n"
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

/* ---- what the operator sees --------------------------------------------------------- */

static void on_sheet(const phieu_intake_event *ev, void *user)
{
    (void)user;
    int sheet = ev->sheet;
    if (ev->front->outcome == PHIEU_ADD_DUPLICATE)
        printf("sheet %d: already recorded, not counted again / tờ %d: đã có trong phiên, "
               "không đếm lại\n", sheet, sheet);
    else
        printf("sheet %d: %s%s\n", sheet,
               ev->double_feed ? "to review: possible double feed / cần xem xét: có thể kéo "
                                 "hai tờ"
               : ev->to_review ? "recorded, to review / đã ghi, cần xem xét"
                               : "recorded / đã ghi",
               ev->back ? " (front and back / hai mặt)" : "");
    fflush(stdout);
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

/* The options that set up the scanner (--device, --source, --mode, --resolution, told
 * apart by id) into o; returns 0, or the exit code of the usage error it printed. */
static int parse_sane_option(int id, const char *v, phieu_sane_options *o)
{
    if (id == CLI_DEVICE) {
        o->device = v;
    } else if (id == CLI_SOURCE) {
        return cli_sane_source("scan", v, &o->source);
    } else if (id == CLI_MODE) {
        return cli_sane_mode("scan", v, &o->mode);
    } else {
        o->resolution = atoi(v);
        if (o->resolution < 50 || o->resolution > 1200)
            return cli_usage_error("scan", "--resolution takes 50..1200 dpi");
    }
    return 0;
}

static int parse_args(int argc, char **argv, phieu_sane_options *o, const char **session,
                      phieu_intake_options *io, const char **set, size_t *n_set)
{
    enum { OPT_NEW_BATCH = CLI_OWN, OPT_SHEETS };
    static const cli_option options[] = {
        {"new-batch", 0, OPT_NEW_BATCH, NULL},
        {"sheets", 0, OPT_SHEETS, "the number of sheets placed"},
        CLI_COMMON(CLI_DEVICE), CLI_COMMON(CLI_SOURCE), CLI_COMMON(CLI_MODE),
        CLI_COMMON(CLI_RESOLUTION), CLI_COMMON(CLI_JOBS), CLI_COMMON(CLI_SET), {0}};
    int id;
    cli_args a;
    cli_args_init(&a, "scan", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        const char *v = a.value;
        if (id == OPT_NEW_BATCH) {
            io->new_batch = 1;
        } else if (id == CLI_DEVICE || id == CLI_SOURCE || id == CLI_MODE || id == CLI_RESOLUTION) {
            int rc = parse_sane_option(id, v, o);
            if (rc != 0)
                return rc;
        } else if (id == OPT_SHEETS) {
            io->placed = atoi(v);
            if (io->placed <= 0)
                return cli_usage_error("scan", "--sheets takes the number of sheets placed");
        } else if (id == CLI_JOBS) {
            io->jobs = atoi(v);
            if (io->jobs < 1 || io->jobs > PHIEU_INTAKE_MAX_JOBS)
                return cli_usage_error("scan", "--jobs takes a number of workers, 1 to %d",
                                       PHIEU_INTAKE_MAX_JOBS);
        } else if (id == CLI_SET) {
            if (*n_set == MAX_SET)
                return cli_usage_error("scan", "at most %d --set options", MAX_SET);
            set[(*n_set)++] = v;
        }
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("scan", "one session only ('%s' is extra)", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("scan", "which session? (phieu scan SESSION)");
    *session = a.rest[0];
    return 0;
}

/* The scan a bare `phieu scan SESSION` makes: the first scanner's feeder, 300 dpi gray,
 * its whole area (the sheet may lie anywhere across a sheet-fed scanner's width). */
static void sane_defaults(phieu_sane_options *o)
{
    memset(o, 0, sizeof *o);
    o->source = PHIEU_SANE_SOURCE_ADF;
    o->mode = PHIEU_SANE_MODE_GRAY;
    o->resolution = 300;
    o->full_area = 1;
    o->cancel_between_pages = -1;
}

static void say_run_again(const char *session_path, long long batch)
{
    fprintf(stderr, "run 'phieu scan %s' again to continue batch %lld / chạy lại "
            "'phieu scan %s' để tiếp tục đợt %lld\n", session_path, batch, session_path, batch);
}

/* Opens the scanner; on a device fault at a terminal, again once the operator has cleared
 * it. 0, or the PHIEU_E code with the message printed. */
static int open_scanner(const phieu_sane_options *o, phieu_source **src)
{
    phieu_error err = {0};
    for (;;) {
        int rc = phieu_source_open_sane(o, src, &err);
        if (rc >= 0)
            return 0;
        fprintf(stderr, "phieu: %s\n", err.message);
        if (rc != PHIEU_EDEVICE || !ask_continue())
            return rc;
    }
}

static void say_settings(phieu_source *src)
{
    int res = 0;
    char mode[64] = "", source[96] = "";
    phieu_source_sane_settings(src, &res, mode, sizeof mode, source, sizeof source);
    printf("scanning: %s, %d dpi, %s / đang quét\n", source[0] ? source : "default source", res,
           mode);
    fflush(stdout);
}

/* Ctrl-C finishes the sheet in flight (the intake watches `interrupted`); a second one
 * ends the program at once, which loses nothing: every commit is one transaction. */
static void catch_sigint(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, old);
}

/* How a run of the feeder ended. */
enum { FEED_DONE, FEED_STOPPED, FEED_FAILED };

/* Feeds the scanner's pages into the intake until the feeder is empty, the operator stops
 * after a fault, Ctrl-C, or a sheet cannot be recorded (FEED_FAILED, err says why). A
 * fault on a terminal waits for the operator and goes on. *exit_code: when stopped. */
static int feed(phieu_intake *in, phieu_source *src, phieu_error *err, int *exit_code)
{
    const phieu_intake_state *st = phieu_intake_get_state(in);
    for (;;) {
        int rc = phieu_intake_run(in, src, err);
        if (rc == 0)
            return FEED_DONE;
        if (rc == PHIEU_ECANCELLED) {
            *exit_code = PHIEU_EXIT_INTERRUPTED;
            return FEED_STOPPED;
        }
        if (st->failed_sheet)
            return FEED_FAILED;
        fprintf(stderr, "phieu: %s\n", err->message);
        if (rc != PHIEU_EDEVICE) {
            *exit_code = cli_exit_code(rc);
            return FEED_STOPPED;
        }
        /* A fault: every sheet before it is recorded, the one in flight is dropped. */
        if (st->dropped_front)
            fprintf(stderr, "(the front of sheet %d was scanned but is dropped with it / mặt "
                    "trước của tờ %d cũng bị bỏ, sẽ quét lại)\n", st->dropped_front,
                    st->dropped_front);
        if (ask_continue())
            continue;
        *exit_code = interrupted ? PHIEU_EXIT_INTERRUPTED : PHIEU_EXIT_SCANNER;
        return FEED_STOPPED;
    }
}

/* A sheet could not be recorded: the operator must rescan it and every one after it. */
static int say_failed(const phieu_error *err, int failed_sheet)
{
    fprintf(stderr, "phieu: %s\n", err->message);
    fprintf(stderr, "sheets from %d on were not recorded: take them from the output "
                "tray and scan them again after fixing the problem / các tờ từ tờ thứ %d "
                "trở đi chưa được ghi: lấy chúng từ khay giấy ra và quét lại sau khi khắc "
                "phục\n", failed_sheet, failed_sheet);
    return cli_exit_code(err->code);
}

static void say_counts(const phieu_intake_counts *c)
{
    printf("%d sheets recorded, %d already in the session, %d backs, %d to review / đã ghi %d "
           "tờ, %d tờ trùng, %d mặt sau, %d tờ cần xem xét\n",
           c->sheets, c->already, c->backs, c->sheets_to_review, c->sheets, c->already,
           c->backs, c->sheets_to_review);
}

/* The feeder is empty: the batch is closed and its sheets checked against those placed. */
static int close_batch(phieu_intake *in, const char *session_path)
{
    const phieu_intake_state *st = phieu_intake_get_state(in);
    phieu_batch batch = st->batch;
    phieu_error err = {0};
    int differs = 0;
    if (phieu_intake_finish(in, &batch, &differs, &err) < 0) {
        int code = cli_fail(&err);
        fprintf(stderr, "every sheet is recorded, but batch %lld is still open: fix the problem "
                "and run 'phieu scan %s' again with the next sheets / mọi tờ đã được ghi nhưng "
                "đợt %lld chưa đóng: khắc phục rồi chạy lại 'phieu scan %s' với các tờ tiếp theo\n",
                (long long)batch.id, session_path, (long long)batch.id, session_path);
        return code;
    }
    printf("batch %lld closed: %d sheets / đợt %lld đã đóng: %d tờ\n", (long long)batch.id,
           batch.sheets, (long long)batch.id, batch.sheets);
    if (differs) {
        printf("%d placed, %d scanned: look in the feeder and the output tray / đã đặt %d tờ, "
               "quét được %d tờ: kiểm tra khay nạp và khay giấy ra\n",
               st->placed, batch.sheets, st->placed, batch.sheets);
        return PHIEU_EXIT_NEEDS_REVIEW;
    }
    return st->counts.sheets_to_review > 0 ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
}

/* One batch through the scanner, into the intake's session: the exit code. */
static int scan_batch(phieu_intake *in, phieu_sane_options *o, const char *session_path)
{
    const phieu_intake_state *st = phieu_intake_get_state(in);
    long long batch = st->batch.id;
    o->first_sheet = st->first_sheet;
    if (st->continued)
        printf("continuing batch %lld: %d sheets already recorded / tiếp tục đợt %lld: đã ghi "
               "%d tờ\n", batch, st->batch.sheets, batch, st->batch.sheets);
    else
        printf("batch %lld / đợt quét %lld\n", batch, batch);
    phieu_source *src = NULL;
    int rc = open_scanner(o, &src);
    if (rc < 0) {
        if (rc == PHIEU_EDEVICE)
            say_run_again(session_path, batch);
        return cli_exit_code(rc);
    }
    say_settings(src);
    struct sigaction old_sa;
    catch_sigint(&old_sa);
    phieu_error err = {0};
    int exit_code = PHIEU_EXIT_OK;
    int how = feed(in, src, &err, &exit_code);
    phieu_source_destroy(&src);
    sigaction(SIGINT, &old_sa, NULL);
    if (how == FEED_FAILED)
        return say_failed(&err, st->failed_sheet);
    say_counts(&st->counts);
    if (how == FEED_DONE)
        return close_batch(in, session_path);
    if (exit_code == PHIEU_EXIT_INTERRUPTED)
        fprintf(stderr, "stopped; run 'phieu scan %s' to continue batch %lld / đã dừng; "
                "chạy lại 'phieu scan %s' để tiếp tục đợt %lld\n", session_path, batch,
                session_path, batch);
    else if (exit_code == PHIEU_EXIT_SCANNER)
        say_run_again(session_path, batch);
    return exit_code;
}

int cmd_scan(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    phieu_sane_options o;
    sane_defaults(&o);
    const char *session_path = NULL, *set[MAX_SET];
    size_t n_set = 0;
    phieu_intake_options io = {0};
    int rc = parse_args(argc, argv, &o, &session_path, &io, set, &n_set);
    if (rc != 0)
        return rc;
    o.extra = set;
    o.n_extra = n_set;
    io.duplex = o.source == PHIEU_SANE_SOURCE_DUPLEX;
    io.double_feed_rule = 1;
    io.actor = "operator";
    io.stop = &interrupted;
    io.on_event = on_sheet;

    phieu_error err = {0};
    phieu_session *session = NULL;
    phieu_intake *in = NULL;
    if (phieu_session_open(session_path, &session, &err) < 0)
        return not_started(&err, session_path);
    /* Continue the open batch (after a fault), or start one. */
    if (phieu_intake_create(session, &io, &in, &err) < 0) {
        phieu_session_close(&session);
        return not_started(&err, session_path);
    }
    int code = scan_batch(in, &o, session_path);
    phieu_intake_destroy(&in);
    phieu_session_close(&session);
    return code;
}
