/*
 * ballots.c - readings with the board's decisions applied: the rule of what a ballot counts
 * as, row by row (phieu_ballot_resolve, which `phieu verify` applies to an export too), the
 * session's ballots (the tally's and the report's input) and the progress of `status`.
 * The arithmetic of results is the tally module's; resolving decisions is exceptions.c's.
 */
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "session/session_internal.h"

/* note 5: the board's reading of the paper counts, whatever the machine read (pending
 * when the session holds no reading by the board). */
static int resolve_board_read(const phieu_form *form, const phieu_ballot_source *src,
                              phieu_ballot *b)
{
    int ok = src->by_board && form != NULL;
    b->state = ok ? PHIEU_BALLOT_VALID : PHIEU_BALLOT_PENDING;
    b->by_board = ok;
    for (int i = 0; i < b->n_rows; i++) {
        int v = ok ? src->by_board_value[i] : PHIEU_ROW_PENDING;
        if (v != PHIEU_ROW_BLANK && v != PHIEU_ROW_OVERVOTE && (v < 0 || v >= form->n_choices))
            v = PHIEU_ROW_PENDING;
        b->value[i] = v;
        b->decided[i] = ok;
    }
    return 1;
}

/* The state of the ballot as a whole from its page exception (notes 1, 2 and 5), for a
 * page neither discarded nor read by the board. */
static int page_state(const phieu_form *form, const phieu_ballot_source *src)
{
    const phieu_ballot_exception *page = src->page.present ? &src->page : NULL;
    int page_decided = page && !page->open;
    size_t prefix = strlen(PHIEU_CHOICE_FORM_PREFIX);
    int board_set = page_decided &&
                    strncmp(page->resolution, PHIEU_CHOICE_FORM_PREFIX, prefix) == 0;
    size_t inv_prefix = strlen(PHIEU_CHOICE_INVALID_FORM_PREFIX);
    int invalid_named = page_decided && strncmp(page->resolution,
                                                PHIEU_CHOICE_INVALID_FORM_PREFIX, inv_prefix) == 0;
    if (invalid_named)
        /* note 5: invalid, collected under the form it names (the caller files it there) */
        return form && strcmp(page->resolution + inv_prefix, form->id) == 0
                   ? PHIEU_BALLOT_INVALID
                   : PHIEU_BALLOT_PENDING;
    if (page && (page->open || (strcmp(page->resolution, PHIEU_CHOICE_INVALID) != 0 &&
                                strcmp(page->resolution, PHIEU_CHOICE_ACCEPT) != 0 &&
                                !board_set)))
        return PHIEU_BALLOT_PENDING; /* note 1 */
    if (page_decided && strcmp(page->resolution, PHIEU_CHOICE_INVALID) == 0)
        return PHIEU_BALLOT_INVALID;
    if (board_set &&
        (!form || !src->has_reading || src->board_form < 0 ||
         src->board_form != src->form_index || src->read_form != src->form_index ||
         strcmp(page->resolution + prefix, form->id) != 0))
        return PHIEU_BALLOT_PENDING; /* note 1: the reading as that form is missing */
    if (!form || !src->has_reading || src->read_form != src->form_index)
        return page_decided ? PHIEU_BALLOT_INVALID : PHIEU_BALLOT_PENDING; /* note 2 */
    return PHIEU_BALLOT_VALID;
}

/* A valid ballot's rows: the machine's reading, or the board's decision on the row's
 * exception (note 4: anything that is no vote the board can take stays pending). */
static void resolve_rows(const phieu_form *form, const phieu_ballot_source *src,
                         phieu_ballot *b)
{
    for (int i = 0; i < b->n_rows; i++) {
        int value = i < src->n_rows ? src->machine[i] : PHIEU_ROW_REVIEW;
        const phieu_ballot_exception *e = &src->row[i];
        if (e->present) {
            b->decided[i] = !e->open;
            if (e->open)
                value = PHIEU_ROW_PENDING;
            else if (strcmp(e->resolution, PHIEU_CHOICE_INVALID) == 0)
                value = PHIEU_ROW_DECIDED_INVALID;
            else
                value = phieu_form_choice_index(form, e->resolution);
            if (!e->open && value < 0 && value != PHIEU_ROW_DECIDED_INVALID)
                value = PHIEU_ROW_PENDING; /* note 4: not a decision the board can take */
        }
        if (value == PHIEU_ROW_REVIEW || value >= form->n_choices ||
            (value < 0 && value != PHIEU_ROW_BLANK && value != PHIEU_ROW_OVERVOTE &&
             value != PHIEU_ROW_DECIDED_INVALID))
            value = PHIEU_ROW_PENDING; /* note 4 */
        b->value[i] = value;
    }
}

int phieu_ballot_resolve(const phieu_form *form, const phieu_ballot_source *src,
                         phieu_ballot *b)
{
    b->form_index = src->form_index;
    b->n_rows = form ? form->n_rows : 0;
    b->by_board = 0;
    memset(b->value, 0, sizeof b->value);
    memset(b->decided, 0, sizeof b->decided);
    const phieu_ballot_exception *page = src->page.present ? &src->page : NULL;
    int page_decided = page && !page->open;
    if (page_decided && strcmp(page->resolution, PHIEU_CHOICE_DISCARD) == 0)
        return 0;
    if (page_decided && strncmp(page->resolution, PHIEU_CHOICE_READ_PREFIX,
                                strlen(PHIEU_CHOICE_READ_PREFIX)) == 0)
        return resolve_board_read(form, src, b);
    int state = page_state(form, src);
    b->state = state;
    if (state != PHIEU_BALLOT_VALID) {
        for (int i = 0; i < b->n_rows; i++) {
            b->value[i] = state == PHIEU_BALLOT_INVALID ? PHIEU_ROW_DECIDED_INVALID
                                                        : PHIEU_ROW_PENDING;
            b->decided[i] = state == PHIEU_BALLOT_INVALID;
        }
        return 1;
    }
    resolve_rows(form, src, b);
    return 1;
}

int phieu_ballot_collected_form(const char *resolution, const phieu_form *const *forms,
                                int n_forms)
{
    size_t prefix = strlen(PHIEU_CHOICE_INVALID_FORM_PREFIX);
    if (strcmp(resolution, PHIEU_CHOICE_INVALID) == 0)
        return n_forms == 1 ? 0 : -1;
    if (strncmp(resolution, PHIEU_CHOICE_INVALID_FORM_PREFIX, prefix) != 0)
        return -1;
    for (int i = 0; i < n_forms; i++)
        if (strcmp(forms[i]->id, resolution + prefix) == 0)
            return i;
    return -1;
}

/* Loads one sheet's exceptions into src (page and rows). */
static int load_exceptions(phieu_session *s, sqlite3_stmt *st, const char *sheet_id,
                           phieu_ballot_source *src, phieu_error *err)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, sheet_id, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int row = sqlite3_column_int(st, 0);
        if (row < 0 || row > PHIEU_FORM_MAX_ROWS)
            continue;
        phieu_ballot_exception *e = row == 0 ? &src->page : &src->row[row - 1];
        e->present = 1;
        e->open = sqlite3_column_int(st, 1) != PHIEU_EXC_RESOLVED;
        snprintf(e->resolution, sizeof e->resolution, "%s",
                 (const char *)sqlite3_column_text(st, 2));
        snprintf(e->reason, sizeof e->reason, "%s", (const char *)sqlite3_column_text(st, 3));
    }
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the exceptions");
    return 0;
}

/* Fills b from a sheet's reading and exceptions through phieu_ballot_resolve. Returns 1
 * when the sheet is a ballot, 0 when it was discarded (not a ballot). */
static int make_ballot(phieu_session *s, const phieu_sheet *sh, const phieu_reading *r,
                       int board_form, phieu_ballot_source *src, phieu_ballot *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->sheet_id, sizeof b->sheet_id, "%s", sh->id);
    snprintf(b->sha256, sizeof b->sha256, "%s", sh->sha256);
    src->form_index = sh->form_index;
    src->has_reading = r != NULL;
    src->read_form = r ? r->form_index : -1;
    src->board_form = board_form;
    src->n_rows = 0;
    for (int i = 0; i < PHIEU_FORM_MAX_ROWS; i++)
        src->machine[i] = PHIEU_ROW_REVIEW;
    for (int k = 0; r && k < r->n_rows; k++) {
        int row = r->rows[k].row;
        if (row >= 1 && row <= PHIEU_FORM_MAX_ROWS) {
            src->machine[row - 1] = r->rows[k].decision;
            if (row > src->n_rows)
                src->n_rows = row;
        }
    }
    /* A sheet of no known form decided invalid counts for the form it was collected under. */
    if (src->form_index < 0 && src->page.present && !src->page.open)
        src->form_index = phieu_ballot_collected_form(
            src->page.resolution, (const phieu_form *const *)s->forms, s->info.n_forms);
    const phieu_form *f = src->form_index >= 0 ? s->forms[src->form_index] : NULL;
    return phieu_ballot_resolve(f, src, b);
}

/* Loads into src the board's reading a page resolved as one counts by (note 5). */
static int load_board_entry(phieu_session *s, const char *sheet_id, phieu_ballot_source *src,
                            phieu_sheet *sh, phieu_error *err)
{
    const phieu_ballot_exception *page = &src->page;
    if (!page->present || page->open ||
        strncmp(page->resolution, PHIEU_CHOICE_READ_PREFIX,
                strlen(PHIEU_CHOICE_READ_PREFIX)) != 0)
        return 0;
    phieu_board_entry entry;
    phieu_error nf = {0};
    int rc = phieu_session_sheet_board_entry(s, sheet_id, &entry, &nf);
    if (rc == PHIEU_ENOTFOUND)
        return 0; /* pending: the rule says so */
    if (rc != 0) {
        *err = nf;
        return rc;
    }
    src->by_board = 1;
    sh->form_index = entry.form_index;
    memcpy(src->by_board_value, entry.value, sizeof src->by_board_value);
    return 0;
}

/* The sheet of the current row of phieu_session_ballots' query (its id, hash and form)
 * into sh; returns the form the board set, or -1. */
static int sheet_columns(phieu_session *s, sqlite3_stmt *sheets, phieu_sheet *sh)
{
    memset(sh, 0, sizeof *sh);
    snprintf(sh->id, sizeof sh->id, "%s", (const char *)sqlite3_column_text(sheets, 0));
    snprintf(sh->sha256, sizeof sh->sha256, "%s", (const char *)sqlite3_column_text(sheets, 1));
    sh->form_index = sqlite3_column_int(sheets, 7);
    if (sh->form_index >= s->info.n_forms)
        sh->form_index = -1;
    /* A sheet whose form the board set counts by its reading as that form. */
    int board_form =
        sqlite3_column_type(sheets, 11) != SQLITE_NULL ? sqlite3_column_int(sheets, 10) : -1;
    if (board_form >= s->info.n_forms)
        board_form = -1;
    return board_form;
}

/* Doubles the room of the ballot list (256 at first). */
static int grow(phieu_ballot **list, size_t *cap, phieu_error *err)
{
    size_t ncap = *cap ? *cap * 2 : 256;
    phieu_ballot *g = phieu_realloc(*list, ncap * sizeof **list);
    if (!g)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory building ballots");
    *list = g;
    *cap = ncap;
    return 0;
}

int phieu_session_ballots(phieu_session *s, phieu_ballot **items, size_t *n, phieu_error *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *sheets = NULL, *excs = NULL;
    phieu_ballot *list = NULL;
    phieu_reading *r = phieu_malloc(sizeof *r);
    phieu_ballot_source *src = phieu_malloc(sizeof *src);
    if (!r || !src) {
        phieu_error_set(err, PHIEU_ENOMEM, "out of memory building ballots");
        goto fail;
    }
    if (session_prepare(s,
                        "SELECT s.id, s.sha256, s.unreadable, s.batch, s.position, s.side, '',"
                        " coalesce(s.form_idx, -1), s.status, r.blob, coalesce(b.form_idx, -1),"
                        " b.blob FROM sheets s LEFT JOIN readings r ON r.sheet_id = s.id"
                        " LEFT JOIN board_readings b ON b.sheet_id = s.id WHERE s.side = 0"
                        " ORDER BY s.id",
                        &sheets, err) != 0 ||
        session_prepare(s, "SELECT row, state, resolution, reason FROM exceptions WHERE sheet_id = ?",
                        &excs, err) != 0)
        goto fail;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(sheets)) == SQLITE_ROW) {
        phieu_sheet sh;
        int board_form = sheet_columns(s, sheets, &sh);
        int col = board_form >= 0 ? 11 : 9;
        int has_reading = sqlite3_column_type(sheets, col) != SQLITE_NULL;
        if (has_reading &&
            session_reading_decode(sqlite3_column_blob(sheets, col),
                                   (size_t)sqlite3_column_bytes(sheets, col), r, err) != 0)
            goto fail;
        memset(src, 0, sizeof *src);
        if (load_exceptions(s, excs, sh.id, src, err) != 0 ||
            load_board_entry(s, sh.id, src, &sh, err) != 0)
            goto fail;
        if (count == cap && grow(&list, &cap, err) != 0)
            goto fail;
        if (make_ballot(s, &sh, has_reading ? r : NULL, board_form, src, &list[count]))
            count++;
    }
    if (rc != SQLITE_DONE) {
        session_db_error(s, err, "cannot read the sheets");
        goto fail;
    }
    sqlite3_finalize(sheets);
    sqlite3_finalize(excs);
    phieu_free(r);
    phieu_free(src);
    *items = list;
    *n = count;
    return 0;
fail:
    sqlite3_finalize(sheets);
    sqlite3_finalize(excs);
    phieu_free(r);
    phieu_free(src);
    phieu_free(list);
    return err->code;
}

static int count_query(phieu_session *s, const char *sql, int *out, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, sql, &st, err) != 0)
        return err->code;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot count");
    return 0;
}

int phieu_session_progress_get(phieu_session *s, phieu_session_progress *out, phieu_error *err)
{
    memset(out, 0, sizeof *out);
    if (count_query(s, "SELECT count(*) FROM sheets", &out->pages, err) != 0 ||
        count_query(s, "SELECT count(*) FROM sheets WHERE side = 0", &out->sheets, err) != 0 ||
        count_query(s, "SELECT count(*) FROM sheets WHERE side = 1", &out->backs, err) != 0 ||
        count_query(s, "SELECT count(*) FROM exceptions WHERE state != 3",
                    &out->exceptions_open, err) != 0 ||
        count_query(s, "SELECT count(*) FROM exceptions", &out->exceptions_total, err) != 0)
        return err->code;
    phieu_ballot *ballots;
    size_t n;
    if (phieu_session_ballots(s, &ballots, &n, err) != 0)
        return err->code;
    out->discarded = out->sheets - (int)n;
    for (size_t i = 0; i < n; i++) {
        const phieu_ballot *b = &ballots[i];
        if (b->form_index < 0) {
            if (b->state == PHIEU_BALLOT_PENDING)
                out->unknown_form++;
            continue;
        }
        phieu_form_progress *f = &out->forms[b->form_index];
        f->sheets++;
        if (b->state == PHIEU_BALLOT_INVALID) {
            f->invalid++;
            continue;
        }
        int pending = b->state == PHIEU_BALLOT_PENDING;
        for (int k = 0; k < b->n_rows; k++)
            if (b->value[k] == PHIEU_ROW_PENDING)
                pending = 1;
        if (pending)
            f->pending++;
        else
            f->counted++;
    }
    phieu_free(ballots);
    return 0;
}
