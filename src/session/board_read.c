/*
 * board_read.c - the board's reading of a page the machine could not count: parsing an
 * entry, checking it fits the page, storing each reader's rows beside their decision, the
 * keyed digest that lets equal entries agree without showing one reader's rows to another,
 * and finding the reading a resolved page counts by. Recording the decision and the
 * two-person rule are exceptions.c's; turning the reading into a ballot is ballots.c's.
 *
 *   phieu_session_board_entry_parse       "[FORM:]ROW=CHOICE,..." into an entry
 *   phieu_session_read_by_board           one reader's entry, as a decision
 *   phieu_session_board_entry_own         the caller's own entry (blind to others)
 *   phieu_session_board_entries_for_head  the disagreeing entries, for the head only
 *   phieu_session_sheet_board_entry       the reading a resolved page counts by
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "session/session_internal.h"

/* Hex digits of the digest in a "read:" choice: 64 bits, so two different entries of one
 * page agree by chance with probability 2^-64; "read:" + 16 fits PHIEU_CHOICE_MAX. */
#define READ_DIGEST_HEX 16
_Static_assert(sizeof PHIEU_CHOICE_READ_PREFIX - 1 + READ_DIGEST_HEX < PHIEU_CHOICE_MAX,
               "a \"read:<digest>\" choice must fit PHIEU_CHOICE_MAX");

static const char *entry_value_name(const phieu_form *f, int v)
{
    if (v == PHIEU_ROW_BLANK)
        return PHIEU_READ_BLANK;
    if (v == PHIEU_ROW_OVERVOTE)
        return PHIEU_READ_OVERVOTE;
    return v >= 0 && v < f->n_choices ? f->choices[v].key : "?";
}

static int entry_value_parse(const phieu_form *f, const char *word, int *v)
{
    if (strcmp(word, PHIEU_READ_BLANK) == 0)
        *v = PHIEU_ROW_BLANK;
    else if (strcmp(word, PHIEU_READ_OVERVOTE) == 0)
        *v = PHIEU_ROW_OVERVOTE;
    else if ((*v = phieu_form_choice_index(f, word)) < 0)
        return -1;
    return 0;
}

static void choices_list(const phieu_form *f, phieu_buf *b)
{
    for (int i = 0; i < f->n_choices; i++)
        phieu_buf_printf(b, "%s, ", f->choices[i].key);
    phieu_buf_printf(b, "%s or %s", PHIEU_READ_BLANK, PHIEU_READ_OVERVOTE);
}

/* The rows as stored: one value name per row, comma-separated, in row order. */
static void entry_rows_text(const phieu_session *s, const phieu_board_entry *e, phieu_buf *b)
{
    const phieu_form *f = s->forms[e->form_index];
    for (int r = 0; r < e->n_rows; r++)
        phieu_buf_printf(b, "%s%s", r ? "," : "", entry_value_name(f, e->value[r]));
}

static int entry_from_rows_text(const phieu_session *s, int form_index, const char *text,
                                phieu_board_entry *out)
{
    memset(out, 0, sizeof *out);
    if (form_index < 0 || form_index >= s->info.n_forms)
        return -1;
    const phieu_form *f = s->forms[form_index];
    out->form_index = form_index;
    out->n_rows = f->n_rows;
    const char *p = text;
    for (int r = 0; r < f->n_rows; r++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char word[PHIEU_CHOICE_MAX];
        if (len >= sizeof word)
            return -1;
        memcpy(word, p, len);
        word[len] = '\0';
        if (entry_value_parse(f, word, &out->value[r]) != 0)
            return -1;
        if (!end && r + 1 < f->n_rows)
            return -1;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

/* The sheet of exception e with its machine status (PHIEU_PAGE_REJECTED for a file that
 * could not be decoded). */
static int exception_sheet(phieu_session *s, const phieu_exception *e, phieu_sheet *sheet,
                           int *status, phieu_error *err)
{
    phieu_reading *r = phieu_malloc(sizeof *r);
    if (!r)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    int rc = phieu_session_sheet_get(s, e->sheet_id, sheet, r, err);
    *status = sheet->unreadable ? PHIEU_PAGE_REJECTED : r->status;
    phieu_free(r);
    return rc;
}

/* The form an entry is read as: "FORM:" first when the text before the first ':' holds no
 * '=' (*text moves past it), else the sheet's form, else the session's only form. The
 * form's index, or a negative PHIEU_E… code with err filled. */
static int entry_form(phieu_session *s, const phieu_exception *e, const phieu_sheet *sheet,
                      const char **text, phieu_error *err)
{
    const char *colon = strchr(*text, ':');
    const char *eq = strchr(*text, '=');
    if (colon && (!eq || colon < eq)) {
        char id[PHIEU_FORM_ID_MAX + 1];
        size_t len = (size_t)(colon - *text);
        snprintf(id, sizeof id, "%.*s", (int)(len < sizeof id ? len : sizeof id - 1), *text);
        int f = len < sizeof id ? phieu_session_form_index(s, id) : -1;
        if (f < 0)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "'%.*s' is not a form of this session; 'phieu status' "
                                   "lists them",
                                   (int)len, *text);
        *text = colon + 1;
        return f;
    }
    if (sheet->form_index >= 0)
        return sheet->form_index;
    if (s->info.n_forms == 1)
        return 0;
    return phieu_error_set(err, PHIEU_EINVAL,
                           "the form of sheet %s is not known and the session has %d "
                           "forms: write the form first, read:FORM:1=CHOICE,...",
                           e->sheet_id, s->info.n_forms);
}

/* The rows of an entry, "ROW=CHOICE,..." (every row once), into out->value. */
static int entry_rows(const phieu_form *form, const char *text, phieu_board_entry *out,
                      phieu_error *err)
{
    int seen[PHIEU_FORM_MAX_ROWS] = {0};
    phieu_buf keys;
    phieu_buf_init(&keys);
    choices_list(form, &keys);
    const char *p = text;
    int rc = 0;
    while (*p && rc == 0) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[64];
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        char *sep = strchr(item, '=');
        char *stop = NULL;
        long row = sep ? strtol(item, &stop, 10) : 0;
        int value;
        if (!sep || stop != sep || row < 1 || row > form->n_rows)
            rc = phieu_error_set(err, PHIEU_EINVAL,
                                 "'%s' is not ROW=CHOICE with ROW 1 to %d of form '%s'", item,
                                 form->n_rows, form->id);
        else if (seen[row - 1])
            rc = phieu_error_set(err, PHIEU_EINVAL, "row %ld is given twice; give each row once",
                                 row);
        else if (entry_value_parse(form, sep + 1, &value) != 0)
            rc = phieu_error_set(err, PHIEU_EINVAL, "row %ld: '%s' is not %s", row, sep + 1,
                                 keys.data ? keys.data : "");
        else {
            seen[row - 1] = 1;
            out->value[row - 1] = value;
        }
        p = end ? end + 1 : p + len;
    }
    for (int r = 0; rc == 0 && r < form->n_rows; r++)
        if (!seen[r])
            rc = phieu_error_set(err, PHIEU_EINVAL,
                                 "row %d is missing: the board reads every row of the paper "
                                 "(%s; %s when no box is marked)",
                                 r + 1, keys.data ? keys.data : "", PHIEU_READ_BLANK);
    phieu_buf_release(&keys);
    return rc;
}

int phieu_session_board_entry_parse(phieu_session *s, int64_t exception_id, const char *text,
                                    phieu_board_entry *out, phieu_error *err)
{
    memset(out, 0, sizeof *out);
    phieu_exception e;
    phieu_sheet sheet;
    int status;
    if (phieu_session_exception_get(s, exception_id, &e, err) != 0 ||
        exception_sheet(s, &e, &sheet, &status, err) != 0)
        return err->code;
    const char *prefix = PHIEU_CHOICE_READ_PREFIX;
    if (strncmp(text, prefix, strlen(prefix)) == 0)
        text += strlen(prefix);
    int f = entry_form(s, &e, &sheet, &text, err);
    if (f < 0)
        return f;
    const phieu_form *form = s->forms[f];
    out->form_index = f;
    out->n_rows = form->n_rows;
    return entry_rows(form, text, out, err);
}

/* The "read:<digest>" choice of an entry: BLAKE2b of the form id and rows, keyed with the
 * session's board_entry_key, so equal entries give equal choices and the choice cannot be
 * matched against guessed entries without the file's secret. */
static int entry_choice(phieu_session *s, const phieu_board_entry *e, char out[PHIEU_CHOICE_MAX],
                        phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT value FROM settings WHERE key = 'board_entry_key'", &st, err) !=
        0)
        return err->code;
    uint8_t key[crypto_generichash_KEYBYTES];
    size_t key_len = 0;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *hex = (const char *)sqlite3_column_text(st, 0);
        if (hex && phieu_hex_decode(hex, strlen(hex), key, sizeof key, NULL) == 0)
            key_len = sizeof key;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the session's settings");
    if (key_len != sizeof key)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "the session file has no key for the board's readings; it is "
                               "damaged: restore it from the backup");
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "%s\n", s->forms[e->form_index]->id);
    entry_rows_text(s, e, &b);
    if (b.failed) {
        phieu_buf_release(&b);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    }
    uint8_t digest[READ_DIGEST_HEX / 2];
    crypto_generichash(digest, sizeof digest, (const uint8_t *)b.data, b.len, key, sizeof key);
    sodium_memzero(key, sizeof key);
    phieu_buf_release(&b);
    char hex[READ_DIGEST_HEX + 1];
    phieu_hex(digest, sizeof digest, hex);
    snprintf(out, PHIEU_CHOICE_MAX, "%s%s", PHIEU_CHOICE_READ_PREFIX, hex);
    return 0;
}

int session_board_entry_check(phieu_session *s, const phieu_exception *e,
                              const phieu_board_entry *entry, phieu_error *err)
{
    phieu_sheet sheet;
    int status;
    if (exception_sheet(s, e, &sheet, &status, err) != 0)
        return err->code;
    if (e->row != 0 || sheet.side != PHIEU_SIDE_FRONT ||
        (status != PHIEU_PAGE_REJECTED && status != PHIEU_PAGE_BLANK))
        return phieu_error_set(err, PHIEU_EINVAL,
                               "exception %lld: the board reads a whole front page the machine "
                               "could not count (not registered, form code unreadable, wrong "
                               "form, unreadable file); this one is '%s'%s",
                               (long long)e->id, e->reason,
                               e->row ? ", a row: decide the row instead" : "");
    if (!entry || entry->form_index < 0 || entry->form_index >= s->info.n_forms ||
        entry->n_rows != s->forms[entry->form_index]->n_rows)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "a board reading gives every row of a form of the session: "
                               "read:ROW=CHOICE,...");
    const phieu_form *f = s->forms[entry->form_index];
    for (int r = 0; r < entry->n_rows; r++) {
        int v = entry->value[r];
        if (v != PHIEU_ROW_BLANK && v != PHIEU_ROW_OVERVOTE && (v < 0 || v >= f->n_choices))
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "row %d of the board's reading holds no choice of form '%s'",
                                   r + 1, f->id);
    }
    return 0;
}

int session_board_entry_store(phieu_session *s, int64_t decision_id, const phieu_board_entry *entry,
                              phieu_error *err)
{
    phieu_buf b;
    phieu_buf_init(&b);
    entry_rows_text(s, entry, &b);
    if (b.failed) {
        phieu_buf_release(&b);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    }
    sqlite3_stmt *st;
    int rc = session_prepare(s,
                             "INSERT INTO board_entries(decision_id, form_idx, rows) VALUES "
                             "(?,?,?)",
                             &st, err);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, decision_id);
        sqlite3_bind_int(st, 2, entry->form_index);
        sqlite3_bind_text(st, 3, b.data ? b.data : "", -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE
                 ? 0
                 : session_db_error(s, err, "cannot record the board's reading");
        sqlite3_finalize(st);
    }
    phieu_buf_release(&b);
    return rc;
}

/* Whether `user` has a decision on exception id: *read is 1 when it is a board reading. */
static int user_decided(phieu_session *s, int64_t id, const char *user, int *decided,
                        phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT count(*) FROM decisions WHERE exception_id = ? AND user = ?",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *decided = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : session_db_error(s, err, "cannot read the decisions");
}

static int has_board_reading(phieu_session *s, int64_t id, int *has, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT count(*) FROM decisions d JOIN board_entries b ON"
                        " b.decision_id = d.id WHERE d.exception_id = ?",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *has = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : session_db_error(s, err, "cannot read the decisions");
}

int session_board_third_person(phieu_session *s, const phieu_exception *e, const char *user,
                               int reading, phieu_error *err)
{
    if (e->state != PHIEU_EXC_HEAD)
        return 0;
    int has = reading, decided = 0;
    if ((!has && has_board_reading(s, e->id, &has, err) != 0) ||
        (has && user_decided(s, e->id, user, &decided, err) != 0))
        return err->code;
    if (has && decided)
        return phieu_error_set(err, PHIEU_ESTATE,
                               "exception %lld: the readings of this page differ and %s read "
                               "it already; a head of the board who has not read it decides "
                               "(add one with 'phieu user add --head' if needed)",
                               (long long)e->id, user);
    return 0;
}

int phieu_session_read_by_board(phieu_session *s, int64_t exception_id, const char *user,
                                const phieu_board_entry *entry, const char *note,
                                phieu_exception *after, phieu_error *err)
{
    phieu_exception e;
    char choice[PHIEU_CHOICE_MAX];
    if (phieu_session_exception_get(s, exception_id, &e, err) != 0 ||
        session_board_entry_check(s, &e, entry, err) != 0 ||
        entry_choice(s, entry, choice, err) != 0)
        return err->code;
    decide_extra x = {.entry = entry};
    return session_decide(s, exception_id, user, choice, note, &x, after, err);
}

/* The latest entry of each reader of exception id, oldest first (names may be NULL). */
static int latest_entries(phieu_session *s, int64_t id, const char *only_user,
                          phieu_board_entry *entries, char (*names)[PHIEU_NAME_MAX], int max,
                          int *n, phieu_error *err)
{
    *n = 0;
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT d.user, b.form_idx, b.rows FROM decisions d JOIN board_entries"
                        " b ON b.decision_id = d.id WHERE d.exception_id = ?1 AND d.id ="
                        " (SELECT max(id) FROM decisions WHERE exception_id = ?1 AND user ="
                        " d.user) AND (?2 IS NULL OR d.user = ?2) ORDER BY d.id",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    if (only_user)
        sqlite3_bind_text(st, 2, only_user, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
        if (entry_from_rows_text(s, sqlite3_column_int(st, 1),
                                 (const char *)sqlite3_column_text(st, 2), &entries[*n]) != 0) {
            sqlite3_finalize(st);
            return phieu_error_set(err, PHIEU_EFORMAT,
                                   "a board reading of exception %lld is damaged in the "
                                   "session file; restore it from the backup",
                                   (long long)id);
        }
        if (names)
            snprintf(names[*n], PHIEU_NAME_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
        (*n)++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the board's readings");
    return 0;
}

int phieu_session_board_entry_own(phieu_session *s, int64_t exception_id, const char *user,
                                  phieu_board_entry *out, phieu_error *err)
{
    int n = 0;
    if (latest_entries(s, exception_id, user ? user : "", out, NULL, 1, &n, err) != 0)
        return err->code;
    if (n == 0)
        return phieu_error_set(err, PHIEU_ENOTFOUND, "%s has not read exception %lld",
                               user ? user : "nobody", (long long)exception_id);
    return 0;
}

int phieu_session_board_entries_for_head(phieu_session *s, int64_t exception_id, const char *user,
                                         phieu_board_entry *entries, char (*names)[PHIEU_NAME_MAX],
                                         int max, int *n, phieu_error *err)
{
    *n = 0;
    phieu_exception e;
    sqlite3_stmt *st;
    if (phieu_session_exception_get(s, exception_id, &e, err) != 0 ||
        session_prepare(s, "SELECT role FROM users WHERE name = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, user ? user : "", -1, SQLITE_STATIC);
    int head = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == PHIEU_ROLE_HEAD;
    sqlite3_finalize(st);
    int decided = 0;
    if (user_decided(s, exception_id, user ? user : "", &decided, err) != 0)
        return err->code;
    if (e.state != PHIEU_EXC_HEAD || !head || decided)
        return phieu_error_set(err, PHIEU_ESTATE,
                               "the readings of exception %lld are shown only to a head of "
                               "the board who has not read it, once the readings differ",
                               (long long)exception_id);
    return latest_entries(s, exception_id, NULL, entries, names, max, n, err);
}

int phieu_session_sheet_board_entry(phieu_session *s, const char *sheet_id, phieu_board_entry *out,
                                    phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT b.form_idx, b.rows FROM exceptions x JOIN decisions d ON"
                        " d.exception_id = x.id AND d.choice = x.resolution JOIN board_entries"
                        " b ON b.decision_id = d.id WHERE x.sheet_id = ? AND x.row = 0 AND"
                        " x.state = 3 ORDER BY d.id DESC LIMIT 1",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, sheet_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int bad = rc == SQLITE_ROW &&
              entry_from_rows_text(s, sqlite3_column_int(st, 0),
                                   (const char *)sqlite3_column_text(st, 1), out) != 0;
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "sheet %s is not counted by the board's reading", sheet_id);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read the board's readings");
    if (bad)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "the board's reading of sheet %s is damaged in the session "
                               "file; restore it from the backup",
                               sheet_id);
    return 0;
}
