/*
 * pages.c - the page pipeline that import and scan share (archive, read, commit in one
 * transaction), batches, and the sheet listings. The session's own checks on a page
 * (duplicate image, same paper rescanned, double feed, back side, blank front) live here;
 * resolving the exceptions they open lives in exceptions.c.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "session/session_internal.h"

/* Exceptions a page can open: one for the page and one per row. */
#define PAGE_MAX_EXCEPTIONS (PHIEU_FORM_MAX_ROWS + 1)

/* Exception ids are random so that their order says nothing about scan order, and short
 * enough to type in `phieu decide`: 8 digits. */
#define EXCEPTION_ID_MIN 10000000LL
#define EXCEPTION_ID_SPAN 90000000LL

typedef struct new_exception {
    int row;
    char reason[32];
    char text[400];
    char duplicate_of[PHIEU_SHEET_ID_MAX]; /* the earlier sheet of a possible duplicate */
} new_exception;

typedef struct page_exceptions {
    int n;
    new_exception items[PAGE_MAX_EXCEPTIONS];
} page_exceptions;

/* ---- Batches ------------------------------------------------------------------------ */

static int batch_read(phieu_session *s, int64_t id, phieu_batch *out, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT b.placed, b.closed, b.next_position,"
                        " (SELECT count(*) FROM sheets WHERE batch = b.id),"
                        " (SELECT count(*) FROM sheets WHERE batch = b.id AND side = 0)"
                        " FROM batches b WHERE b.id = ?",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->id = id;
        out->placed = sqlite3_column_int(st, 0);
        out->closed = sqlite3_column_int(st, 1);
        out->next_position = sqlite3_column_int(st, 2);
        out->pages = sqlite3_column_int(st, 3);
        out->sheets = sqlite3_column_int(st, 4);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return phieu_error_set(err, PHIEU_ENOTFOUND, "no batch %lld in session '%s'",
                               (long long)id, s->path);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read a batch");
    return 0;
}

int phieu_session_batch_get(phieu_session *s, int64_t id, phieu_batch *out, phieu_error *err)
{
    return batch_read(s, id, out, err);
}

int phieu_session_batch_open(phieu_session *s, int placed, phieu_batch *out, phieu_error *err)
{
    if (placed < 0)
        return phieu_error_set(err, PHIEU_EINVAL, "sheets placed cannot be negative (%d)",
                               placed);
    if (session_begin(s, err) != 0)
        return err->code;
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT INTO batches(placed) VALUES (?)", &st, err) != 0)
        goto fail;
    sqlite3_bind_int(st, 1, placed);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        session_db_error(s, err, "cannot open a batch");
        goto fail;
    }
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (session_commit(s, err) != 0)
        goto fail;
    return batch_read(s, id, out, err);
fail:
    session_rollback(s);
    return err->code;
}

int phieu_session_batch_last_open(phieu_session *s, phieu_batch *out, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT id FROM batches WHERE closed = 0 ORDER BY id DESC LIMIT 1",
                        &st, err) != 0)
        return err->code;
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return phieu_error_set(err, PHIEU_ENOTFOUND, "no open batch in session '%s'", s->path);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read the batches");
    return batch_read(s, id, out, err);
}

int phieu_session_batch_close(phieu_session *s, int64_t id, const char *actor,
                              phieu_batch *out, phieu_error *err)
{
    phieu_batch b;
    if (session_begin(s, err) != 0)
        return err->code;
    if (batch_read(s, id, &b, err) != 0)
        goto fail;
    if (!b.closed) {
        sqlite3_stmt *st;
        if (session_prepare(s, "UPDATE batches SET closed = 1 WHERE id = ?", &st, err) != 0)
            goto fail;
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            session_db_error(s, err, "cannot close a batch");
            goto fail;
        }
        /* Counts only: which batch and in what order pages came stays out of the log. */
        char detail[200];
        if (b.placed > 0)
            snprintf(detail, sizeof detail, "%d sheets placed, %d pages recorded (%d fronts)",
                     b.placed, b.pages, b.sheets);
        else
            snprintf(detail, sizeof detail, "%d pages recorded (%d fronts)", b.pages,
                     b.sheets);
        if (session_log_append_txn(s, actor, "batch-closed", detail, err) != 0)
            goto fail;
        b.closed = 1;
    }
    if (session_commit(s, err) != 0)
        goto fail;
    if (out)
        *out = b;
    return 0;
fail:
    session_rollback(s);
    return err->code;
}

/* ---- Archive ------------------------------------------------------------------------ */

/* What an archive file holds, by its name's ending. */
enum { ARCHIVE_PNG = 0, ARCHIVE_BIN = 1, ARCHIVE_TIF = 2 };

static int archive_path(const char *archive, const char *sha256, int kind, char *out,
                        size_t out_size, phieu_error *err)
{
    static const char *const ending[] = {"png", "bin", "tif"};
    size_t n = strlen(sha256);
    if (n != PHIEU_SHA256_HEX - 1 || strspn(sha256, "0123456789abcdef") != n)
        return phieu_error_set(err, PHIEU_EINVAL, "'%s' is not an image hash", sha256);
    int w = snprintf(out, out_size, "%s/%s.%s", archive, sha256, ending[kind]);
    if (w < 0 || (size_t)w >= out_size)
        return phieu_error_set(err, PHIEU_EINVAL, "archive path too long in '%s'", archive);
    return 0;
}

/* The archived file of an image: ".bin" for an unreadable file; else ".png" unless only a
 * TIFF kept as received (".tif") is there. */
static int archive_resolve(const char *archive, const char *sha256, int unreadable, char *out,
                           size_t out_size, phieu_error *err)
{
    if (unreadable)
        return archive_path(archive, sha256, ARCHIVE_BIN, out, out_size, err);
    if (archive_path(archive, sha256, ARCHIVE_PNG, out, out_size, err) != 0)
        return err->code;
    char tif[4200];
    struct stat st;
    if (access(out, F_OK) != 0 &&
        archive_path(archive, sha256, ARCHIVE_TIF, tif, sizeof tif, err) == 0 &&
        stat(tif, &st) == 0)
        snprintf(out, out_size, "%s", tif);
    return 0;
}

/* Secrecy: an archived image's times must not give the scan order. Every image gets the
 * session's date (00:00 UTC) as its access and modification time; a date that is not
 * "YYYY-MM-DD" gives the epoch. (The inode change time cannot be set by a program.) */
static void archive_set_times(const phieu_session *s, const char *path)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d;
    char tail;
    time_t t = 0;
    if (s->info.date && sscanf(s->info.date, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3) {
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        t = timegm(&tm);
        if (t == (time_t)-1)
            t = 0;
    }
    struct timespec times[2] = {{t, 0}, {t, 0}};
    (void)utimensat(AT_FDCWD, path, times, 0); /* best effort: the image itself is safe */
}

/* archive_set_times for the image of sha256 (at commit, on the session's thread: the
 * workers that store images do not have the session). */
static void archive_touch(const phieu_session *s, const char *sha256, int unreadable)
{
    char path[4200];
    phieu_error ignored = {0};
    if (archive_resolve(s->archive, sha256, unreadable, path, sizeof path, &ignored) == 0)
        archive_set_times(s, path);
}

int phieu_session_image_path(const phieu_session *s, const char *sha256, int unreadable,
                             char *out, size_t out_size, phieu_error *err)
{
    return archive_resolve(s->archive, sha256, unreadable, out, out_size, err);
}

/* Writes the archive file unless it is already there. A file of that name can only be
 * complete: phieu_write_file_durable renames a synced temporary file into place. */
static int archive_store(const char *archive, const char *sha, int kind, const void *data,
                         size_t len, phieu_error *err)
{
    char path[4200];
    if (archive_path(archive, sha, kind, path, sizeof path, err) != 0)
        return err->code;
    struct stat st;
    if (!(stat(path, &st) == 0 && (size_t)st.st_size == len) &&
        phieu_write_file_durable(path, data, len, err) != 0)
        return phieu_error_prefix(err, "cannot archive the page image: ");
    return 0;
}

/* Renames a received copy (complete and synced) into place as the archive file, unless
 * that is there already (another station, or an earlier run, stored the same bytes). */
static int archive_adopt(const char *archive, const char *sha, int kind, const char *copy,
                         phieu_error *err)
{
    char path[4200];
    if (archive_path(archive, sha, kind, path, sizeof path, err) != 0)
        return err->code;
    struct stat st, mine;
    if (stat(path, &st) == 0 && stat(copy, &mine) == 0 && st.st_size == mine.st_size) {
        unlink(copy);
        return 0;
    }
    if (phieu_rename_durable(copy, path, err) != 0)
        return phieu_error_prefix(err, "cannot archive the page image: ");
    return 0;
}

int phieu_session_archive_clean(phieu_session *s, int *removed, phieu_error *err)
{
    *removed = 0;
    DIR *d = opendir(s->archive);
    if (!d)
        return phieu_error_set(err, PHIEU_EIO, "cannot open the archive '%s': %s", s->archive,
                               strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *tmp = strstr(e->d_name, ".tmp.");
        if (!tmp)
            continue;
        /* A temporary file of a live process (another station writing now) stays. */
        long pid = strtol(tmp + 5, NULL, 10);
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", s->archive, e->d_name);
        if (unlink(path) == 0)
            (*removed)++;
    }
    closedir(d);
    return 0;
}

/* ---- Rescans (first the reading pattern, phieu_omr_decision_pattern, then the ink) -- */


/* An earlier sheet a page is compared with: its id, its reading and its archived image's
 * hash. */
typedef struct earlier_sheet {
    const char *id;
    const phieu_reading *r;
    const char *sha;
} earlier_sheet;

/* The strokes of an earlier sheet as the session stored them; *out stays NULL for a sheet
 * of a session made before they were stored. Read only for the few sheets compared on
 * strokes, not in session_find_rescan's walk over every sheet of the form. */
static int stored_strokes(phieu_session *s, const char *id, phieu_omr_strokes **out,
                          phieu_error *err)
{
    *out = NULL;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT blob FROM strokes WHERE sheet_id = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), result = 0;
    if (rc == SQLITE_ROW)
        result = phieu_omr_strokes_decode(sqlite3_column_blob(st, 0),
                                          (size_t)sqlite3_column_bytes(st, 0), out, err);
    else if (rc != SQLITE_DONE)
        result = session_db_error(s, err, "cannot read an earlier sheet's strokes");
    sqlite3_finalize(st);
    return result;
}

/* The strokes of an earlier sheet: those stored with its reading, or, for a sheet of a
 * session made before they were stored or whose record is damaged, made again from its
 * archived image (the evidence they were made from). */
static int sheet_strokes(phieu_session *s, const earlier_sheet *other, phieu_omr_strokes **out,
                         phieu_error *err)
{
    int rc = stored_strokes(s, other->id, out, err);
    if (rc == PHIEU_EFORMAT)
        phieu_error_clear(err);
    else if (rc != 0 || *out)
        return rc;
    char path[4200];
    if (phieu_session_image_path(s, other->sha, 0, path, sizeof path, err) != 0)
        return err->code;
    phieu_image_limits lim = phieu_image_default_limits();
    phieu_image *img = NULL;
    rc = phieu_image_load(path, 0, &lim, &img, err);
    if (rc == 0)
        rc = phieu_omr_strokes_create(&s->info.layouts[other->r->form_index], img, other->r, out,
                                      err);
    phieu_image_destroy(&img);
    return rc;
}

/* Whether the earlier sheet is this page (reading r, strokes mine: NULL when it has none)
 * scanned again, and how alike they are (*sim): the 8x8 ink grids, then, for a page with
 * little ink whose grids agree well enough, the strokes. 0, or the error. */
static int sheet_likeness(phieu_session *s, const phieu_reading *r, const phieu_omr_strokes *mine,
                          const earlier_sheet *other, double *sim, int *dup, phieu_error *err)
{
    *sim = phieu_omr_ink_similarity(r, other->r);
    *dup = *sim >= s->info.duplicate_similarity;
    if (*dup || !mine || !phieu_omr_strokes_decide(r, other->r))
        return 0;
    phieu_omr_strokes *theirs = NULL;
    if (sheet_strokes(s, other, &theirs, err) != 0)
        return err->code;
    *sim = phieu_omr_stroke_similarity(mine, theirs);
    phieu_omr_strokes_destroy(&theirs);
    /* A session that asks for more than the default (its "duplicate" setting above it)
     * asks it of the strokes too. */
    *dup = *sim >= fmax(PHIEU_SESSION_DEFAULT_STROKE_SIMILARITY, s->info.duplicate_similarity);
    return 0;
}

/* Reads the earlier sheet of the row `st` of session_find_rescan's query into *other when
 * its pattern is within PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF rows of `pattern` (*near 1);
 * a sheet whose form the board set is compared by its reading as that form, whose pattern
 * is not stored (the sheet's is the machine's rejected one). */
static int earlier_near(sqlite3_stmt *st, const char *pattern, phieu_reading *other, int *near,
                        phieu_error *err)
{
    int board = sqlite3_column_int(st, 4);
    const char *p = (const char *)sqlite3_column_text(st, 1);
    *near = board || phieu_omr_pattern_distance(pattern, p) <= PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF;
    if (!*near)
        return 0;
    if (session_reading_decode(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                               other, err) != 0)
        return err->code;
    if (board) {
        char bp[PHIEU_FORM_MAX_ROWS + 1];
        phieu_omr_decision_pattern(other, bp);
        *near = phieu_omr_pattern_distance(pattern, bp) <= PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF;
    }
    return 0;
}

/* An earlier sheet this page may be a second scan of (session_internal.h). */
int session_find_rescan(phieu_session *s, const phieu_reading *r, const phieu_omr_strokes *mine,
                        const char *pattern, const char *exclude, char found[PHIEU_SHEET_ID_MAX],
                        double *similarity, phieu_error *err)
{
    found[0] = '\0';
    *similarity = 0;
    if (!phieu_omr_pattern_has_ink(pattern))
        return 0;
    sqlite3_stmt *st;
    /* The sheets read as the form: by the machine, or by the board's "form:<id>" (a page
     * rejected for its code, its reading as that form in board_readings). */
    if (session_prepare(s,
                        "SELECT s.id, s.pattern, coalesce(b.blob, r.blob), s.sha256, "
                        "b.sheet_id IS NOT NULL FROM sheets s JOIN readings r ON r.sheet_id = "
                        "s.id LEFT JOIN board_readings b ON b.sheet_id = s.id WHERE s.form_idx "
                        "= ? AND s.side = 0 AND (s.status != ? OR b.sheet_id IS NOT NULL) AND "
                        "s.id != ?",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int(st, 1, r->form_index);
    sqlite3_bind_int(st, 2, PHIEU_PAGE_REJECTED);
    sqlite3_bind_text(st, 3, exclude ? exclude : "", -1, SQLITE_STATIC);
    phieu_reading *other = phieu_malloc(sizeof *other);
    if (!other) {
        sqlite3_finalize(st);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory comparing pages");
    }
    int rc, failed = 0;
    while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int near = 0;
        earlier_sheet es = {(const char *)sqlite3_column_text(st, 0), other,
                            (const char *)sqlite3_column_text(st, 3)};
        double sim;
        int dup;
        failed = earlier_near(st, pattern, other, &near, err) != 0;
        if (failed || !near)
            continue;
        failed = sheet_likeness(s, r, mine, &es, &sim, &dup, err) != 0;
        if (!failed && dup && sim > *similarity) {
            *similarity = sim;
            snprintf(found, PHIEU_SHEET_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
        }
    }
    sqlite3_finalize(st);
    phieu_free(other);
    if (failed)
        return err->code;
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot compare with the sheets already read");
    return 0;
}

/* ---- Exceptions a page opens -------------------------------------------------------- */

static new_exception *exception_for(page_exceptions *pe, int row)
{
    for (int i = 0; i < pe->n; i++)
        if (pe->items[i].row == row)
            return &pe->items[i];
    if (pe->n >= PAGE_MAX_EXCEPTIONS)
        return NULL;
    new_exception *e = &pe->items[pe->n++];
    memset(e, 0, sizeof *e);
    e->row = row;
    return e;
}

/* Adds a reason to the page's (row 0) or a row's exception: the first reason names it,
 * later ones add their words. */
static void add_reason(page_exceptions *pe, int row, const char *code, const char *text)
{
    new_exception *e = exception_for(pe, row);
    if (!e)
        return;
    if (!e->reason[0]) {
        snprintf(e->reason, sizeof e->reason, "%s", code);
        snprintf(e->text, sizeof e->text, "%s", text);
    } else {
        size_t n = strlen(e->text);
        snprintf(e->text + n, sizeof e->text - n, "; %s", text);
    }
}

static void reading_exceptions(const phieu_reading *r, page_exceptions *pe)
{
    if (r->status == PHIEU_PAGE_REJECTED || r->status == PHIEU_PAGE_REVIEW) {
        for (int i = 0; i < r->n_reasons; i++)
            if (r->reasons[i].row == 0 || r->status == PHIEU_PAGE_REJECTED)
                add_reason(pe, 0, r->reasons[i].code, r->reasons[i].text);
        if (r->status == PHIEU_PAGE_REJECTED && pe->n == 0)
            add_reason(pe, 0, "rejected", "the page could not be read as a ballot");
    }
    if (r->status == PHIEU_PAGE_REJECTED)
        return;
    for (int i = 0; i < r->n_rows; i++) {
        const phieu_row_reading *row = &r->rows[i];
        if (row->decision != PHIEU_ROW_REVIEW)
            continue;
        int found = 0;
        for (int k = 0; k < r->n_reasons; k++)
            if (r->reasons[k].row == row->row) {
                add_reason(pe, row->row, r->reasons[k].code, r->reasons[k].text);
                found = 1;
            }
        if (!found) {
            char text[120];
            snprintf(text, sizeof text, "row %d: a mark the machine could not decide",
                     row->row);
            add_reason(pe, row->row, "marginal-mark", text);
        }
    }
}

/* ---- Committing a page -------------------------------------------------------------- */

static int sheet_by_hash(phieu_session *s, const char *sha, char id[PHIEU_SHEET_ID_MAX],
                         phieu_error *err)
{
    sqlite3_stmt *st;
    id[0] = '\0';
    if (session_prepare(s, "SELECT id FROM sheets WHERE sha256 = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(id, PHIEU_SHEET_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot look up the page");
    return 0;
}

static int exists(phieu_session *s, const char *sql, const char *text, int64_t num, int *yes,
                  phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, sql, &st, err) != 0)
        return err->code;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot look up an id");
    *yes = rc == SQLITE_ROW;
    return 0;
}

static int new_sheet_id(phieu_session *s, char id[PHIEU_SHEET_ID_MAX], phieu_error *err)
{
    for (;;) {
        session_random_id(id);
        int taken = 0;
        if (exists(s, "SELECT 1 FROM sheets WHERE id = ?", id, 0, &taken, err) != 0)
            return err->code;
        if (!taken)
            return 0;
    }
}

static int insert_exceptions(phieu_session *s, const char *sheet_id, const page_exceptions *pe,
                             phieu_error *err)
{
    sqlite3_stmt *st;
    if (pe->n == 0)
        return 0;
    if (session_prepare(s,
                        "INSERT INTO exceptions(id, sheet_id, row, reason, text, "
                        "duplicate_of) VALUES (?,?,?,?,?,?)",
                        &st, err) != 0)
        return err->code;
    for (int i = 0; i < pe->n; i++) {
        int64_t id;
        for (;;) {
            uint64_t r;
            randombytes_buf(&r, sizeof r);
            id = EXCEPTION_ID_MIN + (int64_t)(r % (uint64_t)EXCEPTION_ID_SPAN);
            int taken = 0;
            if (exists(s, "SELECT 1 FROM exceptions WHERE id = ?", NULL, id, &taken, err) !=
                0) {
                sqlite3_finalize(st);
                return err->code;
            }
            if (!taken)
                break;
        }
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, sheet_id, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, pe->items[i].row);
        sqlite3_bind_text(st, 4, pe->items[i].reason, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, pe->items[i].text, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, pe->items[i].duplicate_of, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return session_db_error(s, err, "cannot record an exception");
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int session_board_row_exceptions(phieu_session *s, const char *sheet_id,
                                 const phieu_reading *r, int *opened, phieu_error *err)
{
    *opened = 0;
    page_exceptions *pe = phieu_calloc(1, sizeof *pe);
    if (!pe)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening row exceptions");
    phieu_reading rows = *r;
    rows.n_reasons = 0; /* the page's own reasons (form-set-by-board) are the board's */
    for (int i = 0; i < r->n_reasons; i++)
        if (r->reasons[i].row > 0)
            rows.reasons[rows.n_reasons++] = r->reasons[i];
    rows.status = PHIEU_PAGE_COUNTED;
    reading_exceptions(&rows, pe);
    for (int i = 0; s->info.confirm_overvotes && i < r->n_rows; i++)
        if (r->rows[i].decision == PHIEU_ROW_OVERVOTE) {
            char text[120];
            snprintf(text, sizeof text, "row %d: two or more boxes marked; confirm the overvote",
                     r->rows[i].row);
            add_reason(pe, r->rows[i].row, "overvote-confirm", text);
        }
    int rc = insert_exceptions(s, sheet_id, pe, err);
    if (rc == 0)
        *opened = pe->n;
    phieu_free(pe);
    return rc;
}

typedef struct page_commit {
    const char *sha;
    int unreadable;
    const phieu_page_meta *meta;
    const phieu_reading *reading; /* NULL for an unreadable file */
    const char *what;             /* words for an unreadable file */
    const phieu_omr_strokes *strokes; /* a page of little ink: its strokes; NULL if none */
} page_commit;

/* The batch the page goes to (it must be open) and the page's position in it: the one
 * given, else the next; a back takes its front's. In the transaction. */
static int page_position(phieu_session *s, const phieu_page_meta *meta, phieu_batch *batch,
                         int *position, phieu_error *err)
{
    if (batch_read(s, meta->batch, batch, err) != 0)
        return err->code;
    if (batch->closed)
        return phieu_error_set(err, PHIEU_ESTATE, "batch %lld is closed; open a new batch",
                               (long long)meta->batch);
    *position = meta->position > 0 ? meta->position : batch->next_position;
    if (meta->side != PHIEU_SIDE_BACK)
        return 0;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT position FROM sheets WHERE id = ? AND side = 0", &st, err) !=
        0)
        return err->code;
    sqlite3_bind_text(st, 1, meta->back_of, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && meta->position <= 0)
        *position = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "the front '%s' of this back side is not in the session",
                               meta->back_of);
    return 0;
}

/* A possible second scan of a sheet already read (same form, same ink): to review, with
 * the earlier sheet named. */
static int rescan_check(phieu_session *s, const page_commit *pc, const char *pattern,
                        int *status, page_exceptions *pe, phieu_page_result *out,
                        phieu_error *err)
{
    char twin[PHIEU_SHEET_ID_MAX];
    double sim;
    if (session_find_rescan(s, pc->reading, pc->strokes, pattern, NULL, twin, &sim, err) != 0)
        return err->code;
    if (!twin[0])
        return 0;
    char text[200];
    snprintf(text, sizeof text,
             "possible duplicate of sheet %s: the same ink (similarity %.2f); the same paper "
             "may have been fed twice",
             twin, sim);
    add_reason(pe, 0, "possible-duplicate", text);
    new_exception *pd = exception_for(pe, 0);
    if (pd)
        snprintf(pd->duplicate_of, sizeof pd->duplicate_of, "%s", twin);
    snprintf(out->possible_duplicate_of, sizeof out->possible_duplicate_of, "%s", twin);
    *status = PHIEU_PAGE_REVIEW;
    return 0;
}

/* The session's own checks on a front: the reader's reasons, a blank page, a rescan, the
 * overvotes the session asks a person to confirm. */
static int front_checks(phieu_session *s, const page_commit *pc, const char *pattern,
                        int form_index, int *status, page_exceptions *pe,
                        phieu_page_result *out, phieu_error *err)
{
    const phieu_reading *r = pc->reading;
    reading_exceptions(r, pe);
    if (*status == PHIEU_PAGE_BLANK) {
        add_reason(pe, 0, "blank-page", "an empty page: a blank sheet or a ballot fed face down");
        *status = PHIEU_PAGE_REJECTED;
    }
    if (*status != PHIEU_PAGE_REJECTED && form_index >= 0 &&
        rescan_check(s, pc, pattern, status, pe, out, err) != 0)
        return err->code;
    if (*status == PHIEU_PAGE_REJECTED || !s->info.confirm_overvotes)
        return 0;
    for (int i = 0; i < r->n_rows; i++)
        if (r->rows[i].decision == PHIEU_ROW_OVERVOTE) {
            char text[120];
            snprintf(text, sizeof text, "row %d: two or more boxes marked; confirm the overvote",
                     r->rows[i].row);
            add_reason(pe, r->rows[i].row, "overvote-confirm", text);
            *status = PHIEU_PAGE_REVIEW;
        }
    return 0;
}

/* Every check on a page, by its kind (unreadable file, back, front), then the double feed;
 * a counted page with any exception goes to review. */
static int page_checks(phieu_session *s, const page_commit *pc, const char *pattern,
                       int form_index, int *status, page_exceptions *pe, phieu_page_result *out,
                       phieu_error *err)
{
    const phieu_page_meta *meta = pc->meta;
    if (!pc->reading) {
        add_reason(pe, 0, "unreadable-file", pc->what ? pc->what : "the file cannot be read");
    } else if (meta->side == PHIEU_SIDE_BACK) {
        if (*status != PHIEU_PAGE_BLANK) {
            add_reason(pe, 0, "back-not-blank",
                       "the back of a sheet is not blank: look at both sides of the paper");
            *status = PHIEU_PAGE_REVIEW;
        }
    } else if (front_checks(s, pc, pattern, form_index, status, pe, out, err) != 0) {
        return err->code;
    }
    if (meta->double_feed) {
        char text[300];
        snprintf(text, sizeof text, "possible double feed (two sheets at once)%s%s",
                 meta->double_feed_why ? ": " : "",
                 meta->double_feed_why ? meta->double_feed_why : "");
        add_reason(pe, 0, "double-feed", text);
        if (*status != PHIEU_PAGE_REJECTED)
            *status = PHIEU_PAGE_REVIEW;
    }
    if (*status == PHIEU_PAGE_COUNTED && pe->n > 0)
        *status = PHIEU_PAGE_REVIEW;
    return 0;
}

/* The sheet's row. A position taken in the batch is PHIEU_EEXIST. */
static int insert_sheet(phieu_session *s, const page_commit *pc, const char *id, int position,
                        int form_index, int status, const char *pattern, phieu_error *err)
{
    const phieu_page_meta *meta = pc->meta;
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "INSERT INTO sheets(id, sha256, unreadable, batch, position, side,"
                        " back_of, form_idx, status, pattern) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pc->sha, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, pc->unreadable);
    sqlite3_bind_int64(st, 4, meta->batch);
    sqlite3_bind_int(st, 5, position);
    sqlite3_bind_int(st, 6, meta->side);
    if (meta->side == PHIEU_SIDE_BACK)
        sqlite3_bind_text(st, 7, meta->back_of, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 7);
    if (form_index >= 0)
        sqlite3_bind_int(st, 8, form_index);
    else
        sqlite3_bind_null(st, 8);
    sqlite3_bind_int(st, 9, status);
    sqlite3_bind_text(st, 10, pattern, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
        return phieu_error_set(err, PHIEU_EEXIST,
                               "batch %lld already holds a page at position %d; give another "
                               "position",
                               (long long)meta->batch, position);
    return session_db_error(s, err, "cannot record the page");
}

/* Records a blob of the sheet id (its reading, or its strokes kept for a later page that
 * may be this paper fed again) with `sql`, an INSERT of (sheet_id, blob); `what` names it
 * in the error. */
static int insert_blob(phieu_session *s, const char *sql, const char *id, const uint8_t *blob,
                       size_t blob_len, const char *what, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, sql, &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, blob, (int)blob_len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : session_db_error(s, err, what);
}

static int advance_position(phieu_session *s, int64_t batch, int next, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "UPDATE batches SET next_position = ? WHERE id = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_int(st, 1, next);
    sqlite3_bind_int64(st, 2, batch);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : session_db_error(s, err, "cannot record the page");
}

/* What a page stores beside its sheet row, encoded before the transaction: the reading
 * (NULL for an unreadable file) and the strokes of a page of little ink (NULL if none). */
typedef struct page_blobs {
    uint8_t *reading, *strokes;
    size_t reading_len, strokes_len;
} page_blobs;

static int page_blobs_encode(const page_commit *pc, page_blobs *b, phieu_error *err)
{
    memset(b, 0, sizeof *b);
    if (pc->reading && session_reading_encode(pc->reading, &b->reading, &b->reading_len, err) != 0)
        return err->code;
    if (pc->strokes &&
        phieu_omr_strokes_encode(pc->strokes, &b->strokes, &b->strokes_len, err) != 0) {
        /* Strokes too large to keep are made again from the image when needed. */
        if (err->code != PHIEU_ELIMIT)
            return err->code;
        phieu_error_clear(err);
    }
    return 0;
}

static void page_blobs_free(page_blobs *b)
{
    phieu_free(b->reading);
    phieu_free(b->strokes);
    memset(b, 0, sizeof *b);
}

/* The sheet, its reading and strokes, its exceptions, and the batch's next position. */
static int insert_page(phieu_session *s, const page_commit *pc, const char *id, int position,
                       const phieu_batch *batch, int form_index, int status,
                       const char *pattern, const page_blobs *blobs,
                       const page_exceptions *pe, phieu_error *err)
{
    if (insert_sheet(s, pc, id, position, form_index, status, pattern, err) != 0)
        return err->code;
    if (blobs->reading &&
        insert_blob(s, "INSERT INTO readings(sheet_id, blob) VALUES (?, ?)", id, blobs->reading,
                    blobs->reading_len, "cannot record the reading", err) != 0)
        return err->code;
    if (blobs->strokes &&
        insert_blob(s, "INSERT INTO strokes(sheet_id, blob) VALUES (?, ?)", id, blobs->strokes,
                    blobs->strokes_len, "cannot record the page's strokes", err) != 0)
        return err->code;
    if (insert_exceptions(s, id, pe, err) != 0)
        return err->code;
    if (position >= batch->next_position &&
        advance_position(s, pc->meta->batch, position + 1, err) != 0)
        return err->code;
    return 0;
}

/* Everything about one page in one transaction: the duplicate check (another station may
 * have committed the same image since the caller looked), the position, the session's
 * checks, the rows. */
static int commit_page(phieu_session *s, const page_commit *pc, phieu_page_result *out,
                       phieu_error *err)
{
    archive_touch(s, pc->sha, pc->unreadable);
    page_blobs blobs;
    page_exceptions *pe = phieu_calloc(1, sizeof *pe);
    if (!pe)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory recording a page");
    if (page_blobs_encode(pc, &blobs, err) != 0) {
        page_blobs_free(&blobs);
        phieu_free(pe);
        return err->code;
    }
    char pattern[PHIEU_FORM_MAX_ROWS + 1] = "", dup[PHIEU_SHEET_ID_MAX], id[PHIEU_SHEET_ID_MAX];
    int status = PHIEU_PAGE_REJECTED, form_index = -1, position = 0;
    phieu_batch batch;
    if (pc->reading) {
        status = pc->reading->status;
        form_index = pc->reading->form_index;
        if (form_index < -1 || form_index >= s->info.n_forms)
            form_index = -1;
        phieu_omr_decision_pattern(pc->reading, pattern);
    }
    if (session_begin(s, err) != 0 || sheet_by_hash(s, pc->sha, dup, err) != 0)
        goto fail;
    if (dup[0]) {
        session_rollback(s);
        out->outcome = PHIEU_ADD_DUPLICATE;
        snprintf(out->sheet_id, sizeof out->sheet_id, "%s", dup);
        goto done;
    }
    if (page_position(s, pc->meta, &batch, &position, err) != 0 ||
        page_checks(s, pc, pattern, form_index, &status, pe, out, err) != 0 ||
        new_sheet_id(s, id, err) != 0 ||
        insert_page(s, pc, id, position, &batch, form_index, status, pattern, &blobs, pe,
                    err) != 0 ||
        session_commit(s, err) != 0)
        goto fail;
    out->outcome = PHIEU_ADD_NEW;
    snprintf(out->sheet_id, sizeof out->sheet_id, "%s", id);
    out->status = status;
    out->form_index = form_index;
    out->n_exceptions = pe->n;
done:
    page_blobs_free(&blobs);
    phieu_free(pe);
    return 0;
fail:
    session_rollback(s);
    page_blobs_free(&blobs);
    phieu_free(pe);
    return err->code;
}

static int check_meta(phieu_session *s, const phieu_page_meta *meta, phieu_error *err)
{
    (void)s;
    if (!meta || meta->batch <= 0)
        return phieu_error_set(err, PHIEU_EINVAL, "a page needs a batch (open one first)");
    if (meta->side != PHIEU_SIDE_FRONT && meta->side != PHIEU_SIDE_BACK)
        return phieu_error_set(err, PHIEU_EINVAL, "a page side is front or back");
    if (meta->side == PHIEU_SIDE_BACK && (!meta->back_of || !meta->back_of[0]))
        return phieu_error_set(err, PHIEU_EINVAL, "a back side needs the sheet id of its front");
    return 0;
}

/* A page's strokes when it has little ink (session_internal.h). */
int session_page_strokes(const phieu_omr_config *config, const phieu_image *page,
                         const phieu_reading *r, phieu_omr_strokes **out, phieu_error *err)
{
    *out = NULL;
    if (r->form_index < 0 || r->form_index >= config->n_forms)
        return 0;
    if (!phieu_omr_little_ink(r))
        return 0;
    return phieu_omr_strokes_create(&config->layouts[r->form_index], page, r, out, err);
}

int phieu_session_add_page(phieu_session *s, const phieu_image *page,
                           const phieu_page_meta *meta, phieu_page_result *out,
                           phieu_error *err)
{
    memset(out, 0, sizeof *out);
    out->form_index = -1;
    if (!page)
        return phieu_error_set(err, PHIEU_EINVAL, "no page given");
    if (check_meta(s, meta, err) != 0)
        return err->code;
    uint8_t *png = NULL;
    size_t png_len = 0;
    if (phieu_image_encode_png(page, &png, &png_len, err) != 0)
        return err->code;
    phieu_sha256_hex(png, png_len, out->sha256);
    if (sheet_by_hash(s, out->sha256, out->sheet_id, err) != 0) {
        phieu_free(png);
        return err->code;
    }
    if (out->sheet_id[0]) {
        phieu_free(png);
        out->outcome = PHIEU_ADD_DUPLICATE;
        return 0;
    }
    /* Save first, then read. */
    int rc = archive_store(s->archive, out->sha256, ARCHIVE_PNG, png, png_len, err);
    phieu_free(png);
    if (rc != 0)
        return rc;
    phieu_omr_config config;
    phieu_session_omr_config(s, &config);
    phieu_omr_strokes *strokes = NULL;
    if (phieu_omr_read(&config, page, &out->reading, err) != 0 ||
        session_page_strokes(&config, page, &out->reading, &strokes, err) != 0)
        return err->code;
    page_commit pc = {out->sha256, 0, meta, &out->reading, NULL, strokes};
    rc = commit_page(s, &pc, out, err);
    phieu_omr_strokes_destroy(&strokes);
    return rc;
}

int phieu_session_add_unreadable(phieu_session *s, const uint8_t *bytes, size_t len,
                                 const char *what, const phieu_page_meta *meta,
                                 phieu_page_result *out, phieu_error *err)
{
    memset(out, 0, sizeof *out);
    out->form_index = -1;
    if (!bytes && len > 0)
        return phieu_error_set(err, PHIEU_EINVAL, "no file content given");
    if (check_meta(s, meta, err) != 0)
        return err->code;
    phieu_sha256_hex(bytes ? (const void *)bytes : "", len, out->sha256);
    if (sheet_by_hash(s, out->sha256, out->sheet_id, err) != 0)
        return err->code;
    if (out->sheet_id[0]) {
        out->outcome = PHIEU_ADD_DUPLICATE;
        return 0;
    }
    if (archive_store(s->archive, out->sha256, ARCHIVE_BIN, bytes ? (const void *)bytes : "", len,
                      err) != 0)
        return err->code;
    out->reading.status = PHIEU_PAGE_REJECTED;
    out->reading.form_index = -1;
    page_commit pc = {out->sha256, 1, meta, NULL, what, NULL};
    return commit_page(s, &pc, out, err);
}

/* ---- The same in two halves, for the intake's worker threads ------------------------ */

/* Drops a received copy that was not adopted (the page was re-encoded, or failed). */
static void prepared_release_copy(phieu_prepared_page *pp)
{
    if (pp->received) {
        unlink(pp->received);
        phieu_free(pp->received);
        pp->received = NULL;
    }
}

void phieu_session_prepared_release(phieu_prepared_page *pp)
{
    if (!pp)
        return;
    phieu_free(pp->bytes);
    pp->bytes = NULL;
    pp->len = 0;
    phieu_omr_strokes_destroy(&pp->strokes);
    prepared_release_copy(pp); /* not adopted: the copy is no one's */
}

/* Chunks that say how to show a PNG's pixels; anything else (text, time, Exif, ICC
 * profiles, private chunks) could say when or in what order a page was scanned, so a file
 * with any of them is re-encoded rather than archived as received (the contract: secrecy). */
static int png_chunk_allowed(const uint8_t type[4])
{
    static const char *const allowed[] = {"IHDR", "PLTE", "IDAT", "IEND", "pHYs",
                                          "sBIT", "gAMA", "cHRM", "sRGB", "tRNS", "bKGD"};
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
        if (memcmp(type, allowed[k], 4) == 0)
            return 1;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A PNG file that carries the image and nothing else: IHDR first, IEND last, and between
 * them only png_chunk_allowed. Reads the chunk headers only (pread), not the pixels. */
static int png_file_image_only(int fd, uint64_t len)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t head[8];
    if (len < 8 || pread(fd, head, 8, 0) != 8 || memcmp(head, sig, 8) != 0)
        return 0;
    uint64_t i = 8;
    for (int first = 1; len - i >= 12; first = 0) {
        if (pread(fd, head, 8, (off_t)i) != 8)
            return 0;
        uint32_t n = be32(head);
        if (n > len - i - 12 || (first && memcmp(head + 4, "IHDR", 4) != 0) ||
            !png_chunk_allowed(head + 4))
            return 0;
        i += 12 + (uint64_t)n;
        if (memcmp(head + 4, "IEND", 4) == 0)
            return i == len;
    }
    return 0;
}

/* png_file_image_only for a file in memory. */
static int png_image_only(const uint8_t *b, size_t len)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < 8 || memcmp(b, sig, 8) != 0)
        return 0;
    size_t i = 8;
    for (int first = 1; len - i >= 12; first = 0) {
        uint32_t n = be32(b + i);
        const uint8_t *type = b + i + 4;
        if (n > len - i - 12 || (first && memcmp(type, "IHDR", 4) != 0) ||
            !png_chunk_allowed(type))
            return 0;
        i += 12 + (size_t)n;
        if (memcmp(type, "IEND", 4) == 0)
            return i == len;
    }
    return 0;
}

/* TIFF tags that describe the pixels and where they are; anything else (DateTime,
 * Software, ImageDescription, PageNumber, Exif, XMP, ICC, private tags) could carry a scan
 * time or a sequence number, so such a file is re-encoded (secrecy, as for PNG). */
static int tiff_tag_allowed(unsigned tag)
{
    static const unsigned short allowed[] = {
        254, 256, 257, 258, 259, 262, 266, 273, 274, 277, 278, 279, 282, 283,
        284, 292, 293, 296, 317, 320, 322, 323, 324, 325, 338, 339};
    for (size_t k = 0; k < sizeof allowed / sizeof allowed[0]; k++)
        if (allowed[k] == tag)
            return 1;
    return 0;
}

static uint64_t tiff_uint(const uint8_t *p, int bytes, int little)
{
    uint64_t v = 0;
    for (int k = 0; k < bytes; k++)
        v |= (uint64_t)p[little ? k : bytes - 1 - k] << (8 * k);
    return v;
}

/* A TIFF file (classic or BigTIFF) of one directory whose tags are all tiff_tag_allowed.
 * Reads the directory only (pread). */
static int tiff_file_image_only(int fd)
{
    uint8_t h[16];
    if (pread(fd, h, 16, 0) < 8 || !(h[0] == h[1] && (h[0] == 'I' || h[0] == 'M')))
        return 0;
    int le = h[0] == 'I', big = tiff_uint(h + 2, 2, le) == 43;
    if (!big && tiff_uint(h + 2, 2, le) != 42)
        return 0;
    int osz = big ? 8 : 4, csz = big ? 8 : 2, esz = big ? 20 : 12;
    uint64_t ifd = tiff_uint(h + (big ? 8 : 4), osz, le);
    uint8_t c[8];
    if (pread(fd, c, (size_t)csz, (off_t)ifd) != csz)
        return 0;
    uint64_t n = tiff_uint(c, csz, le);
    if (n == 0 || n > 4096)
        return 0;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t e[2];
        if (pread(fd, e, 2, (off_t)(ifd + (uint64_t)csz + i * (uint64_t)esz)) != 2 ||
            !tiff_tag_allowed((unsigned)tiff_uint(e, 2, le)))
            return 0;
    }
    uint8_t next[8];
    if (pread(fd, next, (size_t)osz, (off_t)(ifd + (uint64_t)csz + n * (uint64_t)esz)) != osz)
        return 0;
    return tiff_uint(next, osz, le) == 0;
}

/* Reads the page and, for a page of little ink, makes its strokes (session_page_strokes). */
static int prepared_read(const phieu_omr_config *config, const phieu_image *page,
                         phieu_prepared_page *out, phieu_error *err)
{
    if (phieu_omr_read(config, page, &out->result.reading, err) != 0)
        return err->code;
    return session_page_strokes(config, page, &out->result.reading, &out->strokes, err);
}

int phieu_session_page_prepare(const phieu_omr_config *config, const phieu_image *page,
                               uint8_t *received, size_t received_len, phieu_prepared_page *out,
                               phieu_error *err)
{
    memset(out, 0, sizeof *out);
    out->result.form_index = -1;
    if (!config || !page) {
        phieu_free(received);
        return phieu_error_set(err, PHIEU_EINVAL, "no page given");
    }
    if (received && png_image_only(received, received_len)) {
        out->bytes = received;
        out->len = received_len;
    } else {
        phieu_free(received);
        if (phieu_image_encode_png(page, &out->bytes, &out->len, err) != 0)
            return err->code;
    }
    phieu_sha256_hex(out->bytes, out->len, out->result.sha256);
    if (prepared_read(config, page, out, err) != 0) {
        phieu_session_prepared_release(out);
        return err->code;
    }
    return 0;
}

int phieu_session_page_receive(const char *archive_dir, const char *path, uint64_t max_bytes,
                               phieu_prepared_page *out, phieu_error *err)
{
    memset(out, 0, sizeof *out);
    out->result.form_index = -1;
    char copy[4200];
    /* ".tmp.<pid>" as phieu_write_file_durable's: archive cleaning keeps a live process's
     * copies and removes a killed one's. The thread's id: workers receive at once. */
    if (snprintf(copy, sizeof copy, "%s/received.tmp.%ld.%ld", archive_dir, (long)getpid(),
                 (long)syscall(SYS_gettid)) >= (int)sizeof copy)
        return phieu_error_set(err, PHIEU_EINVAL, "archive path too long in '%s'", archive_dir);
    uint64_t len = 0;
    if (phieu_copy_file_hashed(path, copy, max_bytes, out->result.sha256, &len, err) != 0)
        return phieu_error_prefix(err, "'%s': ", path);
    out->received = phieu_strdup(copy);
    if (!out->received) {
        unlink(copy);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory archiving '%s'", path);
    }
    out->len = (size_t)len;
    return 0;
}

/* Whether the received copy can be the archive file: a PNG or TIFF holding nothing but the
 * image. Sets pp->tiff for a TIFF. */
static int received_keep(phieu_prepared_page *pp)
{
    int fd = open(pp->received, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int keep = png_file_image_only(fd, pp->len);
    if (!keep && tiff_file_image_only(fd))
        keep = pp->tiff = 1;
    close(fd);
    return keep;
}

int phieu_session_received_prepare(const phieu_omr_config *config, const phieu_image *page,
                                   phieu_prepared_page *pp, phieu_error *err)
{
    if (!config || !page || !pp->received)
        return phieu_error_set(err, PHIEU_EINVAL, "no received page given");
    if (!received_keep(pp)) { /* the copy goes at _store; the encoding is archived */
        if (phieu_image_encode_png(page, &pp->bytes, &pp->len, err) != 0)
            return err->code;
        phieu_sha256_hex(pp->bytes, pp->len, pp->result.sha256);
    }
    return prepared_read(config, page, pp, err);
}

void phieu_session_received_unreadable(phieu_prepared_page *pp, const char *what)
{
    pp->unreadable = 1;
    snprintf(pp->what, sizeof pp->what, "%s", what ? what : "the file cannot be read");
    pp->result.reading.status = PHIEU_PAGE_REJECTED;
    pp->result.reading.form_index = -1;
}

int phieu_session_unreadable_prepare(uint8_t *bytes, size_t len, const char *what,
                                     phieu_prepared_page *out, phieu_error *err)
{
    memset(out, 0, sizeof *out);
    out->result.form_index = -1;
    if (!bytes && len > 0)
        return phieu_error_set(err, PHIEU_EINVAL, "no file content given");
    out->bytes = bytes;
    out->len = len;
    out->unreadable = 1;
    snprintf(out->what, sizeof out->what, "%s", what ? what : "the file cannot be read");
    phieu_sha256_hex(bytes ? (const void *)bytes : "", len, out->result.sha256);
    out->result.reading.status = PHIEU_PAGE_REJECTED;
    out->result.reading.form_index = -1;
    return 0;
}

int phieu_session_prepared_store(const char *archive_dir, phieu_prepared_page *pp,
                                 phieu_error *err)
{
    int kind = pp->unreadable ? ARCHIVE_BIN : pp->tiff ? ARCHIVE_TIF : ARCHIVE_PNG;
    int rc;
    if (pp->received && !pp->bytes) { /* the copy is the evidence */
        rc = archive_adopt(archive_dir, pp->result.sha256, kind, pp->received, err);
        phieu_free(pp->received); /* renamed or removed either way */
        pp->received = NULL;
    } else {
        rc = archive_store(archive_dir, pp->result.sha256, kind,
                           pp->bytes ? (const void *)pp->bytes : "", pp->len, err);
        prepared_release_copy(pp);
    }
    pp->stored = rc == 0;
    return rc;
}

int phieu_session_page_commit(phieu_session *s, const phieu_page_meta *meta,
                              phieu_prepared_page *pp, phieu_error *err)
{
    phieu_page_result *out = &pp->result;
    if (check_meta(s, meta, err) != 0)
        return err->code;
    if (sheet_by_hash(s, out->sha256, out->sheet_id, err) != 0)
        return err->code;
    if (out->sheet_id[0]) {
        out->outcome = PHIEU_ADD_DUPLICATE;
        return 0;
    }
    if (!pp->stored && phieu_session_prepared_store(s->archive, pp, err) != 0)
        return err->code;
    page_commit pc = {out->sha256, pp->unreadable, meta, pp->unreadable ? NULL : &out->reading,
                      pp->unreadable ? pp->what : NULL, pp->strokes};
    return commit_page(s, &pc, out, err);
}

/* ---- Sheets ------------------------------------------------------------------------- */

#define SHEET_COLUMNS                                                                          \
    "id, sha256, unreadable, batch, position, side, coalesce(back_of, ''),"                    \
    " coalesce(form_idx, -1), status"

static void sheet_from_row(sqlite3_stmt *st, phieu_sheet *sh)
{
    memset(sh, 0, sizeof *sh);
    snprintf(sh->id, sizeof sh->id, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(sh->sha256, sizeof sh->sha256, "%s", (const char *)sqlite3_column_text(st, 1));
    sh->unreadable = sqlite3_column_int(st, 2);
    sh->batch = sqlite3_column_int64(st, 3);
    sh->position = sqlite3_column_int(st, 4);
    sh->side = sqlite3_column_int(st, 5);
    snprintf(sh->back_of, sizeof sh->back_of, "%s", (const char *)sqlite3_column_text(st, 6));
    sh->form_index = sqlite3_column_int(st, 7);
    sh->status = sqlite3_column_int(st, 8);
}

int phieu_session_sheet_get(phieu_session *s, const char *sheet_id, phieu_sheet *sheet,
                            phieu_reading *reading, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT " SHEET_COLUMNS " FROM sheets WHERE id = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, sheet_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        sheet_from_row(st, sheet);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return phieu_error_set(err, PHIEU_ENOTFOUND, "no sheet '%s' in session '%s'", sheet_id,
                               s->path);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read a sheet");
    if (!reading)
        return 0;
    memset(reading, 0, sizeof *reading);
    reading->status = PHIEU_PAGE_REJECTED;
    reading->form_index = -1;
    if (session_prepare(s, "SELECT blob FROM readings WHERE sheet_id = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, sheet_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int r = 0;
    if (rc == SQLITE_ROW)
        r = session_reading_decode(sqlite3_column_blob(st, 0),
                                   (size_t)sqlite3_column_bytes(st, 0), reading, err);
    else if (rc != SQLITE_DONE)
        r = session_db_error(s, err, "cannot read a reading");
    sqlite3_finalize(st);
    return r;
}

int phieu_session_sheet_board_reading(phieu_session *s, const char *sheet_id, int *form_index,
                                      phieu_reading *reading, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT form_idx, blob FROM board_readings WHERE sheet_id = ?", &st,
                        err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, sheet_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        if (form_index)
            *form_index = sqlite3_column_int(st, 0);
        if (reading)
            r = session_reading_decode(sqlite3_column_blob(st, 1),
                                       (size_t)sqlite3_column_bytes(st, 1), reading, err);
    } else if (rc == SQLITE_DONE) {
        r = phieu_error_set(err, PHIEU_ENOTFOUND, "the board set no form for sheet '%s'",
                            sheet_id);
    } else {
        r = session_db_error(s, err, "cannot read a board-directed reading");
    }
    sqlite3_finalize(st);
    return r;
}

int phieu_session_sheets_list(phieu_session *s, phieu_sheet **items, size_t *n,
                              phieu_error *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT " SHEET_COLUMNS " FROM sheets ORDER BY id", &st, err) != 0)
        return err->code;
    phieu_sheet *list = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 256;
            phieu_sheet *g = phieu_realloc(list, ncap * sizeof *list);
            if (!g) {
                sqlite3_finalize(st);
                phieu_free(list);
                return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing sheets");
            }
            list = g;
            cap = ncap;
        }
        sheet_from_row(st, &list[count++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        phieu_free(list);
        return session_db_error(s, err, "cannot list the sheets");
    }
    *items = list;
    *n = count;
    return 0;
}
