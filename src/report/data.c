/*
 * data.c - the export's content in memory (phieu_report_data): built from a session,
 * shuffled under fresh random ids, tallied, and checked for what blocks a final report.
 * Writing files is export.c's job, the minutes minutes.c's, reading an export verify.c's.
 */
#include "phieu/audit.h"
#include "phieu/decisions.h"
#include "phieu/pages.h"
#include "phieu/report.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "report/report_internal.h"

static char *dup_or_empty(const char *s)
{
    return phieu_strdup(s ? s : "");
}

void phieu_report_data_destroy(phieu_report_data **dp)
{
    if (!dp || !*dp)
        return;
    phieu_report_data *d = *dp;
    phieu_free(d->council);
    phieu_free(d->session_name);
    phieu_free(d->date);
    phieu_free(d->place);
    for (int i = 0; i < d->n_forms; i++)
        phieu_form_destroy(&d->forms[i]);
    phieu_free(d->board_head);
    phieu_free(d->board_secretary);
    for (int i = 0; i < d->n_members; i++)
        phieu_free(d->board_members[i]);
    phieu_free(d->board_members);
    for (size_t i = 0; i < d->n_ballots; i++)
        phieu_free(d->ballots[i].image_path);
    phieu_free(d->ballots);
    phieu_free(d->overrides);
    phieu_free(d);
    *dp = NULL;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(((const phieu_report_ballot *)a)->id, ((const phieu_report_ballot *)b)->id);
}

void phieu_report_shuffle(phieu_report_data *d)
{
    for (size_t i = 0; i < d->n_ballots; i++) {
        uint8_t raw[16];
        randombytes_buf(raw, sizeof raw);
        phieu_hex(raw, sizeof raw, d->ballots[i].id);
    }
    if (d->n_ballots > 1)
        qsort(d->ballots, d->n_ballots, sizeof d->ballots[0], compare_ids);
}

int phieu_report_tally(const phieu_report_data *d, phieu_tally **out, phieu_error *err)
{
    *out = NULL;
    phieu_ballot *ballots = phieu_calloc(d->n_ballots ? d->n_ballots : 1, sizeof *ballots);
    if (!ballots)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory tallying %zu ballots",
                               d->n_ballots);
    for (size_t i = 0; i < d->n_ballots; i++) {
        const phieu_report_ballot *b = &d->ballots[i];
        phieu_ballot *t = &ballots[i];
        snprintf(t->sheet_id, sizeof t->sheet_id, "%.16s", b->id);
        memcpy(t->sha256, b->sha256, sizeof t->sha256);
        t->form_index = b->form_index;
        t->state = b->state;
        t->n_rows = b->n_rows;
        for (int r = 0; r < b->n_rows; r++) {
            t->value[r] = b->rows[r].value;
            t->decided[r] = b->rows[r].decided;
        }
        t->by_board = b->by_board;
    }
    phieu_board_counts counts[PHIEU_SESSION_MAX_FORMS];
    memcpy(counts, d->counts, sizeof counts);
    const phieu_form *forms[PHIEU_SESSION_MAX_FORMS];
    for (int i = 0; i < d->n_forms; i++)
        forms[i] = d->forms[i];
    phieu_tally_input in = {
        .rules = d->rules,
        .delegates = d->delegates,
        .n_forms = d->n_forms,
        .forms = forms,
        .counts = counts,
        .ballots = ballots,
        .n_ballots = d->n_ballots,
    };
    int rc = phieu_tally_compute(&in, out, err);
    phieu_free(ballots);
    return rc;
}

/* ---- From a session ------------------------------------------------------------------ */

static void copy_text(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* The board's decision on one exception: its resolution and the deciding note. */
static int decision_note(phieu_session *s, const phieu_exception *e, char *note, size_t size,
                         phieu_error *err)
{
    note[0] = '\0';
    phieu_decision *items = NULL;
    size_t n = 0;
    int rc = phieu_session_decisions_list(s, e->id, &items, &n, err);
    if (rc != 0)
        return rc;
    /* Every note given with the resolved choice, oldest first: with the two-person rule
     * the first decider's note must not be lost to a second decision without one. The
     * same note twice is kept once; no user name is kept (secrecy). */
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(items[i].choice, e->resolution) != 0 || !items[i].note[0] ||
            strstr(note, items[i].note))
            continue;
        int w = snprintf(note + len, size - len, "%s%s", len ? "; " : "", items[i].note);
        if (w < 0 || (size_t)w >= size - len) {
            note[len] = '\0'; /* a note that does not fit whole is left out, never cut */
            break;
        }
        len += (size_t)w;
    }
    phieu_free(items);
    return 0;
}

/* The ballot's page as read: its hash, the reader's status and form, the board's form
 * and its reading if the board set one, and each row's value, machine reading and
 * scores. The sheet into *sheet. */
static int fill_reading(phieu_session *s, const phieu_ballot *sb, phieu_report_ballot *b,
                        phieu_sheet *sheet, phieu_error *err)
{
    phieu_reading *reading = phieu_malloc(sizeof *reading);
    if (!reading)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading the ballots");
    int rc = phieu_session_sheet_get(s, sb->sheet_id, sheet, reading, err);
    if (rc != 0) {
        phieu_free(reading);
        return rc;
    }
    memcpy(b->sha256, sb->sha256, sizeof b->sha256);
    b->unreadable = sheet->unreadable;
    b->page_status = sheet->unreadable ? PHIEU_PAGE_REJECTED : reading->status;
    b->read_form = sheet->unreadable ? -1 : reading->form_index;
    /* A page whose form the board set counts by its reading as that form. */
    int board_form = -1;
    rc = phieu_session_sheet_board_reading(s, sb->sheet_id, &board_form, reading, err);
    if (rc == 0) {
        b->board_set = 1;
        b->board_form = board_form;
        b->board_status = reading->status;
    } else if (rc != PHIEU_ENOTFOUND) {
        phieu_free(reading);
        return rc;
    }
    b->state = sb->state;
    b->form_index = sb->form_index;
    b->n_rows = sb->n_rows;
    for (int r = 0; r < b->n_rows; r++) {
        phieu_report_row *row = &b->rows[r];
        row->value = sb->value[r];
        row->machine = PHIEU_ROW_REVIEW;
        if (!sheet->unreadable && r < reading->n_rows) {
            row->machine = reading->rows[r].decision;
            for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++)
                row->score[c] = reading->rows[r].boxes[c].score;
        }
    }
    phieu_free(reading);
    return 0;
}

/* The ballot's exceptions: an open one named (so verify applies the same rule), a
 * resolved one with the board's decision and its note. */
static int fill_exceptions(phieu_session *s, const char *sheet_id, const phieu_exception *exc,
                           size_t n_exc, phieu_report_ballot *b, phieu_error *err)
{
    for (size_t i = 0; i < n_exc; i++) {
        const phieu_exception *e = &exc[i];
        int rc = 0;
        if (strcmp(e->sheet_id, sheet_id) != 0)
            continue;
        if (e->state != PHIEU_EXC_RESOLVED) {
            if (e->row == 0) {
                b->page_open = 1;
                copy_text(b->page_reason, sizeof b->page_reason, e->reason);
            } else if (e->row >= 1 && e->row <= b->n_rows) {
                b->rows[e->row - 1].open = 1;
                copy_text(b->rows[e->row - 1].reason, sizeof b->rows[e->row - 1].reason,
                          e->reason);
            }
            continue;
        }
        if (e->row == 0) {
            b->page_decided = 1;
            copy_text(b->page_decision, sizeof b->page_decision, e->resolution);
            copy_text(b->page_reason, sizeof b->page_reason, e->reason);
            rc = decision_note(s, e, b->page_note, sizeof b->page_note, err);
        } else if (e->row >= 1 && e->row <= b->n_rows) {
            phieu_report_row *row = &b->rows[e->row - 1];
            row->decided = 1;
            copy_text(row->decision, sizeof row->decision, e->resolution);
            copy_text(row->reason, sizeof row->reason, e->reason);
            rc = decision_note(s, e, row->note, sizeof row->note, err);
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int fill_ballot(phieu_session *s, const phieu_ballot *sb, const phieu_exception *exc,
                       size_t n_exc, phieu_report_ballot *b, phieu_error *err)
{
    phieu_sheet sheet;
    int rc = fill_reading(s, sb, b, &sheet, err);
    if (rc != 0)
        return rc;
    char path[4096];
    rc = phieu_session_image_path(s, sb->sha256, sheet.unreadable, path, sizeof path, err);
    if (rc != 0)
        return rc;
    b->image_path = phieu_strdup(path);
    if (!b->image_path)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    size_t path_len = strlen(path);
    b->image_tiff = path_len > 4 && strcmp(path + path_len - 4, ".tif") == 0;
    rc = fill_exceptions(s, sb->sheet_id, exc, n_exc, b, err);
    if (rc != 0)
        return rc;
    if (sb->by_board) {
        /* The decision's digest means nothing outside the session: the record says "read"
         * and carries the rows the board read. */
        b->by_board = 1;
        copy_text(b->page_decision, sizeof b->page_decision, REPORT_DECISION_READ);
        for (int r = 0; r < b->n_rows; r++)
            b->rows[r].board_read = sb->value[r];
    }
    return 0;
}

/* The session's own entries: council, session, date, place, board, rules, thresholds, the
 * count's times, the forms (parsed again from their source) and the log's head. */
static int fill_session(phieu_session *s, phieu_report_data *d, phieu_error *err)
{
    const phieu_session_info *info = phieu_session_get_info(s);
    d->council = dup_or_empty(info->council);
    d->session_name = dup_or_empty(info->session_name);
    d->date = dup_or_empty(info->date);
    d->place = dup_or_empty(info->place);
    d->board_head = dup_or_empty(info->board.head);
    d->board_secretary = dup_or_empty(info->board.secretary);
    d->delegates = info->delegates;
    d->test = info->test;
    d->rules = phieu_rules_find(info->rules);
    d->thresholds = info->thresholds;
    if (!d->council || !d->session_name || !d->date || !d->place || !d->board_head ||
        !d->board_secretary)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    int rc = phieu_session_times_get(s, d->opened, d->closed, err);
    if (rc != 0)
        return rc;
    if (!d->rules)
        return phieu_error_set(err, PHIEU_EFORMAT, "the session names an unknown rule set '%s'",
                               info->rules ? info->rules : "");
    if (info->board.n_members > 0) {
        d->board_members = phieu_calloc((size_t)info->board.n_members, sizeof(char *));
        if (!d->board_members)
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
        for (int i = 0; i < info->board.n_members; i++) {
            d->board_members[i] = dup_or_empty(info->board.members[i]);
            d->n_members++;
            if (!d->board_members[i])
                return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
        }
    }
    for (int i = 0; i < info->n_forms && i < PHIEU_SESSION_MAX_FORMS; i++) {
        const phieu_form *f = info->forms[i];
        rc = phieu_form_parse(f->source, strlen(f->source), f->id, &d->forms[i], err);
        if (rc != 0)
            return rc;
        d->n_forms++;
        d->counts[i] = info->counts[i];
    }
    return phieu_session_log_head(s, d->log_head, err);
}

/* The exceptions' counts and every ballot's record. */
static int fill_ballots(phieu_session *s, phieu_report_data *d, phieu_error *err)
{
    phieu_exception *exc = NULL;
    size_t n_exc = 0;
    int rc = phieu_session_exceptions_list(s, PHIEU_EXC_LIST_ALL, &exc, &n_exc, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n_exc; i++) {
        d->exceptions_total++;
        if (exc[i].state == PHIEU_EXC_RESOLVED)
            d->exceptions_resolved++;
        else
            d->exceptions_open++;
    }
    phieu_ballot *ballots = NULL;
    size_t n = 0;
    rc = phieu_session_ballots(s, &ballots, &n, err);
    if (rc != 0) {
        phieu_free(exc);
        return rc;
    }
    d->ballots = phieu_calloc(n ? n : 1, sizeof *d->ballots);
    if (!d->ballots) {
        phieu_free(exc);
        phieu_free(ballots);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory for %zu ballots", n);
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = fill_ballot(s, &ballots[i], exc, n_exc, &d->ballots[i], err);
        d->n_ballots = i + 1;
    }
    phieu_free(exc);
    phieu_free(ballots);
    return rc;
}

int phieu_report_data_from_session(phieu_session *s, phieu_report_data **out,
                                   phieu_error *err)
{
    *out = NULL;
    phieu_report_data *d = phieu_calloc(1, sizeof *d);
    if (!d)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    int rc = fill_session(s, d, err);
    if (rc == 0)
        rc = fill_ballots(s, d, err);
    if (rc == 0) /* the head's overrides, listed in the minutes' appendix */
        rc = phieu_session_overrides_list(s, &d->overrides, &d->n_overrides, err);
    if (rc != 0) {
        phieu_report_data_destroy(&d);
        return rc;
    }
    phieu_report_shuffle(d);
    *out = d;
    return 0;
}
