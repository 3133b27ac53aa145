/*
 * exceptions.c - the exception queue and the board's decisions on it: listing, recording
 * a decision and resolving an exception under the two-person rule, and the board's
 * "form:<id>" (with its rescan check, whose comparison is pages.c's). Who may decide now is
 * decisions.c's, the users deciding are accounts.c's; the web screens and the `decide`
 * command are the review module's; turning resolved exceptions into ballots is ballots.c's.
 */
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "session/session_internal.h"

static const char *state_name(int state)
{
    switch (state) {
    case PHIEU_EXC_OPEN: return "open";
    case PHIEU_EXC_SECOND: return "waiting for a second person";
    case PHIEU_EXC_HEAD: return "waiting for the head of the board";
    case PHIEU_EXC_RESOLVED: return "resolved";
    default: return "?";
    }
}

/* ---- Listing ------------------------------------------------------------------------ */

#define EXC_SELECT                                                                             \
    "SELECT e.id, e.sheet_id, e.row, e.reason, e.text, e.state, e.resolution,"                 \
    " (SELECT count(*) FROM decisions d WHERE d.exception_id = e.id),"                         \
    " coalesce(s.form_idx, -1), s.batch, s.position, e.duplicate_of FROM exceptions e"         \
    " JOIN sheets s ON s.id = e.sheet_id "

static void exception_from_row(sqlite3_stmt *st, phieu_exception *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    snprintf(e->sheet_id, sizeof e->sheet_id, "%s", (const char *)sqlite3_column_text(st, 1));
    e->row = sqlite3_column_int(st, 2);
    snprintf(e->reason, sizeof e->reason, "%s", (const char *)sqlite3_column_text(st, 3));
    snprintf(e->text, sizeof e->text, "%s", (const char *)sqlite3_column_text(st, 4));
    e->state = sqlite3_column_int(st, 5);
    snprintf(e->resolution, sizeof e->resolution, "%s",
             (const char *)sqlite3_column_text(st, 6));
    e->n_decisions = sqlite3_column_int(st, 7);
    e->form_index = sqlite3_column_int(st, 8);
    e->batch = sqlite3_column_int64(st, 9);
    e->position = sqlite3_column_int(st, 10);
    snprintf(e->duplicate_of, sizeof e->duplicate_of, "%s",
             (const char *)sqlite3_column_text(st, 11));
}

int phieu_session_exceptions_list(phieu_session *s, int which, phieu_exception **items,
                                  size_t *n, phieu_error *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    const char *sql = which == PHIEU_EXC_LIST_ALL
                          ? EXC_SELECT "ORDER BY s.batch, s.position, s.side, e.row"
                          : EXC_SELECT "WHERE e.state != 3 ORDER BY s.batch, s.position, "
                                       "s.side, e.row";
    if (session_prepare(s, sql, &st, err) != 0)
        return err->code;
    phieu_exception *list = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            phieu_exception *g = phieu_realloc(list, ncap * sizeof *list);
            if (!g) {
                sqlite3_finalize(st);
                phieu_free(list);
                return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing exceptions");
            }
            list = g;
            cap = ncap;
        }
        exception_from_row(st, &list[count++]);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        phieu_free(list);
        return session_db_error(s, err, "cannot list the exceptions");
    }
    *items = list;
    *n = count;
    return 0;
}

int phieu_session_exception_get(phieu_session *s, int64_t id, phieu_exception *out,
                                phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, EXC_SELECT "WHERE e.id = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        exception_from_row(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "no exception %lld in this session; 'phieu exceptions' lists "
                               "them",
                               (long long)id);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read an exception");
    return 0;
}

/* ---- Decisions ---------------------------------------------------------------------- */

int phieu_session_decisions_list(phieu_session *s, int64_t exception_id,
                                 phieu_decision **items, size_t *n, phieu_error *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT id, exception_id, user, role, choice, note, time FROM "
                        "decisions WHERE exception_id = ? ORDER BY id",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, exception_id);
    phieu_decision *list = NULL;
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        phieu_decision *g = phieu_realloc(list, (count + 1) * sizeof *list);
        if (!g) {
            sqlite3_finalize(st);
            phieu_free(list);
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing decisions");
        }
        list = g;
        phieu_decision *d = &list[count++];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(st, 0);
        d->exception_id = sqlite3_column_int64(st, 1);
        snprintf(d->user, sizeof d->user, "%s", (const char *)sqlite3_column_text(st, 2));
        d->role = sqlite3_column_int(st, 3);
        snprintf(d->choice, sizeof d->choice, "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(d->note, sizeof d->note, "%s", (const char *)sqlite3_column_text(st, 5));
        snprintf(d->time, sizeof d->time, "%s", (const char *)sqlite3_column_text(st, 6));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        phieu_free(list);
        return session_db_error(s, err, "cannot list the decisions");
    }
    *items = list;
    *n = count;
    return 0;
}

/* The state an exception's decisions (oldest first) put it in.
 * Notes:
 *  1. Without the two-person rule the latest decision resolves it.
 *  2. With it, each user's latest decision counts once; two different users agreeing
 *     resolve it; users disagreeing send it to the head; once it waits for the head (or
 *     after it was resolved), only a head's decision changes it, and that one is final. */
void session_resolve(int two_person, const phieu_decision *d, size_t n, int *state,
                     char resolution[PHIEU_CHOICE_MAX])
{
    *state = PHIEU_EXC_OPEN;
    resolution[0] = '\0';
    if (n == 0)
        return;
    if (!two_person) {
        *state = PHIEU_EXC_RESOLVED;
        snprintf(resolution, PHIEU_CHOICE_MAX, "%s", d[n - 1].choice);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (*state == PHIEU_EXC_HEAD || *state == PHIEU_EXC_RESOLVED) {
            if (d[i].role == PHIEU_ROLE_HEAD) {
                *state = PHIEU_EXC_RESOLVED;
                snprintf(resolution, PHIEU_CHOICE_MAX, "%s", d[i].choice);
            }
            continue;
        }
        /* Each user's latest decision up to i. */
        int users = 0, agree = 0;
        for (size_t j = 0; j <= i; j++) {
            int later = 0;
            for (size_t k = j + 1; k <= i; k++)
                if (strcmp(d[k].user, d[j].user) == 0)
                    later = 1;
            if (later)
                continue;
            users++;
            if (j != i && strcmp(d[j].user, d[i].user) != 0 &&
                strcmp(d[j].choice, d[i].choice) == 0)
                agree = 1;
        }
        if (agree) {
            *state = PHIEU_EXC_RESOLVED;
            snprintf(resolution, PHIEU_CHOICE_MAX, "%s", d[i].choice);
        } else if (users >= 2) {
            *state = PHIEU_EXC_HEAD;
        } else {
            *state = PHIEU_EXC_SECOND;
        }
    }
}

int session_exception_refresh(phieu_session *s, int64_t id, phieu_error *err)
{
    phieu_decision *list;
    size_t n;
    if (phieu_session_decisions_list(s, id, &list, &n, err) != 0)
        return err->code;
    int state;
    char resolution[PHIEU_CHOICE_MAX];
    session_resolve(s->info.two_person_rule, list, n, &state, resolution);
    phieu_free(list);
    /* A row of a page set aside (not counted, or whole ballot invalid) closes with it. */
    int closed = 0;
    if (session_row_closed_with_page(s, id, &closed, err) != 0)
        return err->code;
    if (closed) {
        state = PHIEU_EXC_RESOLVED;
        snprintf(resolution, sizeof resolution, "%s", PHIEU_RESOLUTION_WITH_PAGE);
    }
    sqlite3_stmt *st;
    if (session_prepare(s, "UPDATE exceptions SET state = ?, resolution = ? WHERE id = ?", &st,
                        err) != 0)
        return err->code;
    sqlite3_bind_int(st, 1, state);
    sqlite3_bind_text(st, 2, resolution, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot update the exception");
    return session_page_rows_refresh(s, id, err);
}

/* ---- "Count as form X" ------------------------------------------------------------- */

/* The form a "form:<id>" choice names; -1 when the choice is not of that kind, -2 when it
 * names no form of the session. */
static int choice_form(const phieu_session *s, const char *choice)
{
    size_t prefix = strlen(PHIEU_CHOICE_FORM_PREFIX);
    if (strncmp(choice, PHIEU_CHOICE_FORM_PREFIX, prefix) != 0)
        return -1;
    int f = phieu_session_form_index(s, choice + prefix);
    return f >= 0 ? f : -2;
}

/* A "form:<id>" choice being checked and applied: the page read as that form. */
typedef struct form_choice {
    phieu_reading *board;       /* the reading as that form (a heap block) */
    int form;                   /* its form, -1 until read */
    phieu_omr_strokes *strokes; /* for a page of little ink, its strokes (rescan check) */
} form_choice;

/* Reads the sheet's archived image again as form f (phieu_omr_read_as), and, when strokes
 * is not NULL, makes the strokes of a page of little ink from the same image (for the
 * rescan check; *strokes stays NULL otherwise). A page that still cannot be read as that
 * form (its corner marks not found, a test ballot in an official session) is PHIEU_EINVAL
 * with the reader's words. */
static int board_read(phieu_session *s, const phieu_sheet *sheet, int f, phieu_reading *r,
                      phieu_omr_strokes **strokes, phieu_error *err)
{
    char path[4096];
    if (phieu_session_image_path(s, sheet->sha256, 0, path, sizeof path, err) != 0)
        return err->code;
    phieu_image_limits limits = phieu_image_default_limits();
    phieu_image *img = NULL;
    if (phieu_image_load(path, 0, &limits, &img, err) != 0)
        return phieu_error_prefix(err, "cannot read sheet %s again as form '%s': ", sheet->id,
                                  s->forms[f]->id);
    phieu_omr_config cfg;
    phieu_session_omr_config(s, &cfg);
    int rc = phieu_omr_read_as(&cfg, f, img, r, err);
    if (rc == 0 && strokes)
        rc = session_page_strokes(&cfg, img, r, strokes, err);
    phieu_image_destroy(&img);
    if (rc != 0)
        return rc;
    if (r->status == PHIEU_PAGE_REJECTED || r->status == PHIEU_PAGE_BLANK) {
        const char *why = "the page cannot be read";
        for (int i = 0; i < r->n_reasons; i++)
            if (strcmp(r->reasons[i].code, "form-set-by-board") != 0) {
                why = r->reasons[i].text;
                break;
            }
        return phieu_error_set(err, PHIEU_EINVAL,
                               "sheet %s cannot be counted as form '%s': %s; decide '%s' "
                               "(whole ballot invalid) or '%s' (not a ballot)",
                               sheet->id, s->forms[f]->id, why, PHIEU_CHOICE_INVALID,
                               PHIEU_CHOICE_DISCARD);
    }
    return 0;
}

/* Whether a "form:<id>" choice fits the page exception e: a front page rejected because
 * its form code could not be read or names no form of the session, and a form of the
 * session the page can be read as (read into fc, with its strokes). */
static int check_form_choice(phieu_session *s, const phieu_exception *e,
                             const phieu_sheet *sheet, const char *choice, form_choice *fc,
                             phieu_error *err)
{
    if (e->row > 0 || sheet->side != PHIEU_SIDE_FRONT || sheet->unreadable ||
        (strcmp(e->reason, PHIEU_REASON_CODE_UNREADABLE) != 0 &&
         strcmp(e->reason, PHIEU_REASON_WRONG_FORM) != 0))
        return phieu_error_set(err, PHIEU_EINVAL,
                               "'%s': the board sets the form only of a rejected page whose "
                               "form code could not be read (%s) or names no form of this "
                               "session (%s); exception %lld is '%s'",
                               choice, PHIEU_REASON_CODE_UNREADABLE, PHIEU_REASON_WRONG_FORM,
                               (long long)e->id, e->reason);
    int f = choice_form(s, choice);
    if (f < 0) {
        phieu_buf ids;
        phieu_buf_init(&ids);
        for (int i = 0; i < s->info.n_forms; i++)
            phieu_buf_printf(&ids, "%s%s%s", i ? ", " : "", PHIEU_CHOICE_FORM_PREFIX,
                             s->forms[i]->id);
        int rc = phieu_error_set(err, PHIEU_EINVAL,
                                 "'%s' names no form of this session; use one of: %s", choice,
                                 ids.data ? ids.data : "");
        phieu_buf_release(&ids);
        return rc;
    }
    fc->form = f;
    return board_read(s, sheet, f, fc->board, &fc->strokes, err);
}

/* Takes back the board's earlier form `have` for e's sheet: its row exceptions, its
 * reading and the sheet's filing, unless a row of it was decided already. */
static int board_form_withdraw(phieu_session *s, const phieu_exception *e, const char *actor,
                               int have, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT count(*) FROM decisions d JOIN exceptions x ON x.id ="
                        " d.exception_id WHERE x.sheet_id = ? AND x.row > 0",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, e->sheet_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int decided = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read the decisions");
    if (decided > 0)
        return phieu_error_set(err, PHIEU_ESTATE,
                               "sheet %s is counted as form '%s' and rows of it were "
                               "decided already; its form cannot be changed now",
                               e->sheet_id, s->forms[have]->id);
    const char *const undo[] = {"DELETE FROM exceptions WHERE sheet_id = ?1 AND row > 0",
                                "DELETE FROM board_readings WHERE sheet_id = ?1",
                                "UPDATE sheets SET form_idx = NULL WHERE id = ?1"};
    for (size_t i = 0; i < sizeof undo / sizeof undo[0]; i++) {
        if (session_prepare(s, undo[i], &st, err) != 0)
            return err->code;
        sqlite3_bind_text(st, 1, e->sheet_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return session_db_error(s, err, "cannot take back the board's form");
    }
    char detail[300];
    snprintf(detail, sizeof detail,
             "sheet %s (exception %lld): no longer counted as form '%s'; its row "
             "exceptions as that form removed",
             e->sheet_id, (long long)e->id, s->forms[have]->id);
    return session_log_append_txn(s, actor, "board-form-withdrawn", detail, err);
}

/* Stores the page's reading as form `form` and files the sheet under that form. */
static int board_reading_store(phieu_session *s, const char *sheet_id, int form,
                               const phieu_reading *board, phieu_error *err)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    if (session_reading_encode(board, &blob, &len, err) != 0)
        return err->code;
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT INTO board_readings(sheet_id, form_idx, blob) VALUES (?,?,?)",
                        &st, err) != 0) {
        phieu_free(blob);
        return err->code;
    }
    sqlite3_bind_text(st, 1, sheet_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, form);
    sqlite3_bind_blob(st, 3, blob, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    phieu_free(blob);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot record the reading as the board's form");
    if (session_prepare(s, "UPDATE sheets SET form_idx = ? WHERE id = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_int(st, 1, form);
    sqlite3_bind_text(st, 2, sheet_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot file the sheet under the board's form");
    return 0;
}

/* Keeps the sheet's board-directed reading in line with its page exception e (just
 * refreshed): resolved as "form:<id>", the page read as that form is stored, the sheet is
 * filed under it and its marginal rows open row exceptions; otherwise any earlier such
 * reading is taken back with its row exceptions, unless a row of it was decided.
 * fc: a reading already made for that form (fc->form -1: none). */
static int board_form_apply(phieu_session *s, const phieu_exception *e, const char *actor,
                            form_choice *fc, phieu_error *err)
{
    int want = e->state == PHIEU_EXC_RESOLVED ? choice_form(s, e->resolution) : -1;
    if (want < 0)
        want = -1;
    int have = -1;
    phieu_error nf = {0};
    int rc = phieu_session_sheet_board_reading(s, e->sheet_id, &have, NULL, &nf);
    if (rc != 0 && rc != PHIEU_ENOTFOUND) {
        *err = nf;
        return rc;
    }
    if (rc == PHIEU_ENOTFOUND)
        have = -1;
    if (want == have)
        return 0;
    if (have >= 0 && board_form_withdraw(s, e, actor, have, err) != 0)
        return err->code;
    if (want < 0)
        return 0;
    phieu_sheet sheet;
    if (phieu_session_sheet_get(s, e->sheet_id, &sheet, NULL, err) != 0)
        return err->code;
    if (fc->form != want && board_read(s, &sheet, want, fc->board, NULL, err) != 0)
        return err->code;
    if (board_reading_store(s, e->sheet_id, want, fc->board, err) != 0)
        return err->code;
    int opened = 0;
    if (session_board_row_exceptions(s, e->sheet_id, fc->board, &opened, err) != 0)
        return err->code;
    char detail[300];
    snprintf(detail, sizeof detail,
             "sheet %s (exception %lld): form set by the board to '%s'; read again as that "
             "form, %d row(s) to review",
             e->sheet_id, (long long)e->id, s->forms[want]->id, opened);
    return session_log_append_txn(s, actor, "form-set-by-board", detail, err);
}

/* Whether `choice` decides a row exception: a choice of the sheet's form, or invalid. */
static int check_row_choice(phieu_session *s, const phieu_exception *e, const phieu_sheet *sheet,
                            const char *choice, phieu_error *err)
{
    const phieu_form *f = sheet->form_index >= 0 ? s->forms[sheet->form_index] : NULL;
    if (strcmp(choice, PHIEU_CHOICE_INVALID) == 0 || (f && phieu_form_choice_index(f, choice) >= 0))
        return 0;
    phieu_buf keys;
    phieu_buf_init(&keys);
    for (int i = 0; f && i < f->n_choices; i++)
        phieu_buf_printf(&keys, "%s, ", f->choices[i].key);
    int rc =
        phieu_error_set(err, PHIEU_EINVAL, "'%s' is not a decision for row %d; use one of: %s%s",
                        choice, e->row, keys.data ? keys.data : "", PHIEU_CHOICE_INVALID);
    phieu_buf_release(&keys);
    return rc;
}

/* Whether a page can be decided invalid as a whole ("invalid", or "invalid:<form>" for a
 * page of unknown form, naming the form it was collected under). */
static int check_invalid_choice(phieu_session *s, const phieu_sheet *sheet, const char *choice,
                                int invalid_named, phieu_error *err)
{
    if (sheet->side == PHIEU_SIDE_BACK)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "a back side is not a ballot; decide '%s' or '%s'",
                               PHIEU_CHOICE_ACCEPT, PHIEU_CHOICE_DISCARD);
    if (invalid_named && sheet->form_index >= 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "'%s': this page is already filed under form '%s'; "
                               "decide '%s'",
                               choice, s->forms[sheet->form_index]->id, PHIEU_CHOICE_INVALID);
    /* Every sheet collected counts in one form's invalid sheets: with several forms
     * the board names the form the sheet was collected under. */
    if (sheet->form_index < 0 &&
        phieu_ballot_collected_form(choice, (const phieu_form *const *)s->forms, s->info.n_forms) <
            0) {
        phieu_buf ids;
        phieu_buf_init(&ids);
        for (int i = 0; i < s->info.n_forms; i++)
            phieu_buf_printf(&ids, "%s%s%s (%s)", i ? ", " : "", PHIEU_CHOICE_INVALID_FORM_PREFIX,
                             s->forms[i]->id, s->forms[i]->title);
        int rc = phieu_error_set(err, PHIEU_EINVAL,
                                 "'%s': the form of this page is not known; say under which "
                                 "form it was collected, so that it counts in that form's "
                                 "invalid ballots: %s",
                                 choice, ids.data ? ids.data : "");
        phieu_buf_release(&ids);
        return rc;
    }
    return 0;
}

/* Whether `choice` is a decision this exception can take. A "form:<id>" choice is read
 * into fc. */
static int check_choice(phieu_session *s, const phieu_exception *e, const char *choice,
                        const phieu_board_entry *entry, form_choice *fc, phieu_error *err)
{
    if (strncmp(choice, PHIEU_CHOICE_READ_PREFIX, strlen(PHIEU_CHOICE_READ_PREFIX)) == 0) {
        if (!entry)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "a board reading gives the choice of every row: "
                                   "read:1=CHOICE,2=CHOICE,... ('phieu decide -h')");
        return session_board_entry_check(s, e, entry, err);
    }
    phieu_sheet sheet;
    phieu_reading *r = phieu_malloc(sizeof *r);
    if (!r)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    int rc = phieu_session_sheet_get(s, e->sheet_id, &sheet, r, err);
    int machine_status = r->status;
    phieu_free(r);
    if (rc != 0)
        return rc;
    if (choice_form(s, choice) != -1)
        return check_form_choice(s, e, &sheet, choice, fc, err);
    if (e->row > 0)
        return check_row_choice(s, e, &sheet, choice, err);
    if (strcmp(choice, PHIEU_CHOICE_DISCARD) == 0)
        return 0;
    size_t inv_prefix = strlen(PHIEU_CHOICE_INVALID_FORM_PREFIX);
    int invalid_named = strncmp(choice, PHIEU_CHOICE_INVALID_FORM_PREFIX, inv_prefix) == 0;
    if (strcmp(choice, PHIEU_CHOICE_INVALID) == 0 || invalid_named)
        return check_invalid_choice(s, &sheet, choice, invalid_named, err);
    if (strcmp(choice, PHIEU_CHOICE_ACCEPT) == 0) {
        if (sheet.side == PHIEU_SIDE_BACK)
            return 0;
        if (sheet.unreadable || sheet.form_index < 0 || machine_status == PHIEU_PAGE_REJECTED ||
            machine_status == PHIEU_PAGE_BLANK)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "this page was not read as a ballot, so it cannot be "
                                   "counted as read; decide '%s' (whole ballot invalid) or "
                                   "'%s' (not a ballot)",
                                   PHIEU_CHOICE_INVALID, PHIEU_CHOICE_DISCARD);
        return 0;
    }
    return phieu_error_set(err, PHIEU_EINVAL,
                           "'%s' is not a decision for a page; use %s, %s or %s (or "
                           "%s<id> or %s<id> for a page whose form code could not be read)",
                           choice, PHIEU_CHOICE_ACCEPT, PHIEU_CHOICE_INVALID,
                           PHIEU_CHOICE_DISCARD, PHIEU_CHOICE_FORM_PREFIX,
                           PHIEU_CHOICE_INVALID_FORM_PREFIX);
}

int phieu_session_decide(phieu_session *s, int64_t exception_id, const char *user,
                         const char *choice, const char *note, phieu_exception *after,
                         phieu_error *err)
{
    return session_decide(s, exception_id, user, choice, note, NULL, after, err);
}

int phieu_session_decide_confirm(phieu_session *s, int64_t exception_id, const char *user,
                                 const char *choice, const char *note, int not_duplicate,
                                 phieu_form_twin *twin, phieu_exception *after,
                                 phieu_error *err)
{
    if (twin)
        memset(twin, 0, sizeof *twin);
    decide_extra x = {.not_duplicate = not_duplicate, .twin = twin};
    return session_decide(s, exception_id, user, choice, note, &x, after, err);
}

/* A decision being recorded by session_decide: who decides what, and what the rules of
 * decisions.c make of it. */
typedef struct new_decision {
    int64_t exception_id;
    const phieu_user *u;
    const char *choice, *note;
    int kind;           /* PHIEU_DECIDE_…, from the decisions already made */
    char replaced[512]; /* those decisions, named, for an override's log entry */
    /* a "form:<id>" page the member confirmed is not this earlier sheet ("" none) */
    char not_twin[PHIEU_SHEET_ID_MAX];
    double not_twin_similarity;
    char now[32];
    long long id; /* the decision's row, once inserted */
} new_decision;

/* The rules of decisions.c: never twice, a disagreement to a head who has not decided
 * it, the head's change of a settled case an override with a note. Sets d->kind and
 * d->replaced. */
static int decision_allowed(phieu_session *s, const phieu_exception *e, new_decision *d,
                            phieu_error *err)
{
    phieu_decision *earlier = NULL;
    size_t n_earlier = 0;
    if (phieu_session_decisions_list(s, d->exception_id, &earlier, &n_earlier, err) != 0)
        return err->code;
    d->kind =
        session_decision_kind(s->info.two_person_rule, earlier, n_earlier, d->u->name, d->u->role);
    session_decisions_named(earlier, n_earlier, d->replaced, sizeof d->replaced);
    phieu_free(earlier);
    if (e->state == PHIEU_EXC_RESOLVED && strcmp(e->resolution, PHIEU_RESOLUTION_WITH_PAGE) == 0)
        return phieu_error_set(err, PHIEU_ESTATE,
                               "exception %lld: its page was set aside (not counted, or whole "
                               "ballot invalid), so the row closed with it; decide the page "
                               "instead",
                               (long long)d->exception_id);
    if (d->kind == PHIEU_DECIDE_AGAIN || d->kind == PHIEU_DECIDE_HEAD_ONLY ||
        d->kind == PHIEU_DECIDE_SETTLED)
        return phieu_error_set(
            err, PHIEU_ESTATE, "exception %lld: %s", (long long)d->exception_id,
            d->kind == PHIEU_DECIDE_AGAIN ? "you decided it already; another member must decide it"
            : d->kind == PHIEU_DECIDE_HEAD_ONLY
                ? "the decisions disagree; only the head of the board can decide it now"
                : "it is already resolved; only the head of the board can change it");
    if (d->kind == PHIEU_DECIDE_OVERRIDE && !d->note[0])
        return phieu_error_set(err, PHIEU_EINVAL,
                               "exception %lld: changing decisions already made (%s) is an "
                               "override; give a note that says why",
                               (long long)d->exception_id, d->replaced);
    return 0;
}

/* Inserts the decision's row, stamped now; sets d->now and d->id. */
static int decision_insert(phieu_session *s, new_decision *d, phieu_error *err)
{
    session_now(d->now);
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "INSERT INTO decisions(exception_id, user, role, choice, note, time) "
                        "VALUES (?,?,?,?,?,?)",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, d->exception_id);
    sqlite3_bind_text(st, 2, d->u->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, d->u->role);
    sqlite3_bind_text(st, 4, d->choice, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, d->note, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, d->now, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot record the decision");
    d->id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* Appends the decision to the audit log, which names it by a hash of its row, never by
 * its choice; `e` is the exception as the decision left it. */
static int decision_log(phieu_session *s, const phieu_exception *e, const new_decision *d,
                        phieu_error *err)
{
    char hash[PHIEU_SHA256_HEX];
    if (session_decision_hash(d->id, d->exception_id, d->u->name, d->u->role, d->choice, d->note,
                              d->now, hash, err) != 0)
        return err->code;
    char detail[1200];
    int used =
        snprintf(detail, sizeof detail,
                 "exception %lld (%s, sheet %s, %s%d): decision %lld by %s (%s), now %s; "
                 "decision sha256 %s",
                 (long long)d->exception_id, e->reason, e->sheet_id, e->row ? "row " : "page ",
                 e->row ? e->row : 0, d->id, d->u->name,
                 d->u->role == PHIEU_ROLE_HEAD ? "head" : "supervisor", state_name(e->state), hash);
    if (d->kind == PHIEU_DECIDE_OVERRIDE && used > 0 && (size_t)used < sizeof detail)
        used += snprintf(detail + used, sizeof detail - (size_t)used,
                         "; overrides decisions %s", d->replaced);
    if (d->not_twin[0] && used > 0 && (size_t)used < sizeof detail)
        snprintf(detail + used, sizeof detail - (size_t)used,
                 "; the page, read as the form decided, looked like sheet %s (similarity "
                 "%.2f): %s confirmed it is not a duplicate of that sheet",
                 d->not_twin, d->not_twin_similarity, d->u->name);
    return session_log_append_txn(
        s, d->u->name, d->kind == PHIEU_DECIDE_OVERRIDE ? "override" : "decision", detail, err);
}

static void form_choice_release(form_choice *fc)
{
    phieu_free(fc->board);
    phieu_omr_strokes_destroy(&fc->strokes);
}

/* The rescan check of a "form:<id>" decision (phieu_session_decide_confirm): the page read
 * as that form (fc) against the earlier front sheets of the form, as a new page is
 * compared (session_find_rescan). When it looks like one: refused (PHIEU_EEXIST) unless
 * the member confirmed it is not a duplicate; confirmed, d->not_twin names the sheet for
 * the log. x may be NULL (no confirmation, no twin wanted). */
static int form_rescan_check(phieu_session *s, const phieu_exception *e, const form_choice *fc,
                             const decide_extra *x, new_decision *d, phieu_error *err)
{
    char pattern[PHIEU_FORM_MAX_ROWS + 1], found[PHIEU_SHEET_ID_MAX];
    double sim = 0;
    phieu_omr_decision_pattern(fc->board, pattern);
    if (session_find_rescan(s, fc->board, fc->strokes, pattern, e->sheet_id, found, &sim, err) !=
        0)
        return err->code;
    if (!found[0])
        return 0;
    phieu_sheet twin;
    if (phieu_session_sheet_get(s, found, &twin, NULL, err) != 0)
        return err->code;
    if (x && x->twin) {
        snprintf(x->twin->sheet_id, sizeof x->twin->sheet_id, "%s", found);
        x->twin->batch = twin.batch;
        x->twin->position = twin.position;
        x->twin->similarity = sim;
    }
    if (x && x->not_duplicate) {
        snprintf(d->not_twin, sizeof d->not_twin, "%s", found);
        d->not_twin_similarity = sim;
        return 0;
    }
    return phieu_error_set(err, PHIEU_EEXIST,
                           "exception %lld: this page, read as form '%s', looks like the sheet "
                           "of batch %lld, position %d fed again (similarity %.2f); nothing was "
                           "recorded. Find both papers: if it is the same paper, decide '%s'; "
                           "if they are two different ballots, decide '%s' again confirming "
                           "it is not a duplicate (phieu decide --not-duplicate)",
                           (long long)e->id, s->forms[fc->form]->id, (long long)twin.batch,
                           twin.position, sim, PHIEU_CHOICE_DISCARD, d->choice);
}

int session_decide(phieu_session *s, int64_t exception_id, const char *user, const char *choice,
                   const char *note, const decide_extra *x, phieu_exception *after,
                   phieu_error *err)
{
    if (!user || !choice || !choice[0] || strlen(choice) >= PHIEU_CHOICE_MAX)
        return phieu_error_set(err, PHIEU_EINVAL, "a decision needs a user and a choice");
    note = note ? note : "";
    if (strlen(note) >= sizeof((phieu_decision *)0)->note)
        return phieu_error_set(err, PHIEU_EINVAL, "the note is too long (at most %zu bytes)",
                               sizeof((phieu_decision *)0)->note - 1);
    const phieu_board_entry *entry = x ? x->entry : NULL;
    form_choice fc = {phieu_malloc(sizeof *fc.board), -1, NULL};
    if (!fc.board)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory recording a decision");
    if (session_begin(s, err) != 0) {
        phieu_free(fc.board);
        return err->code;
    }
    phieu_user u;
    phieu_exception e;
    new_decision d = {.exception_id = exception_id, .u = &u, .choice = choice, .note = note};
    if (phieu_session_user_get(s, user, &u, err) != 0 ||
        phieu_session_exception_get(s, exception_id, &e, err) != 0 ||
        check_choice(s, &e, choice, entry, &fc, err) != 0)
        goto fail;
    if (s->info.two_person_rule && u.role == PHIEU_ROLE_HEAD &&
        session_board_third_person(s, &e, u.name, entry != NULL, err) != 0)
        goto fail;
    if (decision_allowed(s, &e, &d, err) != 0 ||
        (fc.form >= 0 && form_rescan_check(s, &e, &fc, x, &d, err) != 0) ||
        decision_insert(s, &d, err) != 0)
        goto fail;
    if (entry && session_board_entry_store(s, d.id, entry, err) != 0)
        goto fail;
    if (session_exception_refresh(s, exception_id, err) != 0 ||
        phieu_session_exception_get(s, exception_id, &e, err) != 0)
        goto fail;
    if (decision_log(s, &e, &d, err) != 0 ||
        (e.row == 0 && (board_form_apply(s, &e, u.name, &fc, err) != 0 ||
                        phieu_session_exception_get(s, exception_id, &e, err) != 0)) ||
        session_commit(s, err) != 0)
        goto fail;
    form_choice_release(&fc);
    if (after)
        *after = e;
    return 0;
fail:
    session_rollback(s);
    form_choice_release(&fc);
    return err->code;
}
