/*
 * board_read.c - the review API of the board's reading of a page: what the reading screen
 * needs (the page, the rows and choices of each form, whether to scan the sheet again
 * first, the caller's own entry; the differing entries only for a head who did not read
 * the page) and recording one member's reading. The readers stay blind to each other: no
 * answer carries another member's rows before the head is asked. The rules are the
 * session's (board_read.c there); the HTTP gates (login, CSRF) are server.c's.
 */
#include "review/board_read.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/pages.h"

/* Readers shown to the head: two disagreed, and a later entry by one of them replaces
 * their own; a few more leave room for a head's earlier entry on a resolved page. */
#define BOARD_READ_MAX_SHOWN 8

static void send_reply(review_response *res, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    review_json_text(res, status, text);
}

static int http_status(int code)
{
    return code == PHIEU_EINVAL      ? MHD_HTTP_BAD_REQUEST
           : code == PHIEU_ENOTFOUND ? MHD_HTTP_NOT_FOUND
           : code == PHIEU_ESTATE    ? MHD_HTTP_CONFLICT
                                     : MHD_HTTP_INTERNAL_SERVER_ERROR;
}

static const char *state_word(int state)
{
    return state == PHIEU_EXC_OPEN     ? "open"
           : state == PHIEU_EXC_SECOND ? "second"
           : state == PHIEU_EXC_HEAD   ? "head"
                                       : "resolved";
}

static const char *value_name(const phieu_form *f, int v)
{
    if (v == PHIEU_ROW_BLANK)
        return PHIEU_READ_BLANK;
    if (v == PHIEU_ROW_OVERVOTE)
        return PHIEU_READ_OVERVOTE;
    return v >= 0 && v < f->n_choices ? f->choices[v].key : NULL;
}

static json_t *entry_json(const phieu_session_info *info, const phieu_board_entry *e)
{
    const phieu_form *f = info->forms[e->form_index];
    json_t *rows = json_array();
    for (int r = 0; r < e->n_rows; r++)
        json_array_append_new(rows, json_string(value_name(f, e->value[r])));
    return json_pack("{s:s, s:o}", "form", f->id, "rows", rows);
}

/* Whether scanning the sheet again is likely to help, from the reason the page came to the
 * board. A corner mark not found (a folded or cut corner, a skewed feed), a form code not
 * read (a smudge, a fold over the code), a page fed face down or a file that could not be
 * decoded are usually fixed by feeding the paper again straight; a code naming another
 * form is not. */
static int rescan_likely(const char *reason)
{
    static const char *const likely[] = {"not-registered", "code-unreadable", "blank-page",
                                         "unreadable-file"};
    for (size_t i = 0; i < sizeof likely / sizeof likely[0]; i++)
        if (strcmp(reason, likely[i]) == 0)
            return 1;
    return 0;
}

/* The session's forms as the reading screen lays them out: id, title, choices, rows. */
static json_t *forms_json(const phieu_session_info *info)
{
    json_t *forms = json_array();
    for (int i = 0; i < info->n_forms; i++) {
        const phieu_form *f = info->forms[i];
        json_t *choices = json_array(), *rows = json_array();
        for (int c = 0; c < f->n_choices; c++)
            json_array_append_new(choices, json_pack("{s:s, s:s}", "key", f->choices[c].key,
                                                     "label", f->choices[c].label));
        for (int r = 0; r < f->n_rows; r++)
            json_array_append_new(rows, json_pack("{s:i, s:s, s:s}", "row", r + 1, "name",
                                                  f->rows[r].name, "post", f->rows[r].post));
        json_array_append_new(forms, json_pack("{s:s, s:s, s:o, s:o}", "id", f->id, "title",
                                               f->title, "choices", choices, "rows", rows));
    }
    return forms;
}

static void board_get(review_request *req, review_response *res, int64_t id, phieu_session *s)
{
    phieu_error err = {0};
    phieu_exception e;
    phieu_sheet sh;
    if (phieu_session_exception_get(s, id, &e, &err) != 0 ||
        phieu_session_sheet_get(s, e.sheet_id, &sh, NULL, &err) != 0) {
        review_error(res, http_status(err.code), phieu_error_code_name(err.code), "%s",
                     err.message);
        return;
    }
    const phieu_session_info *info = phieu_session_get_info(s);
    json_t *forms = forms_json(info);
    const char *form = sh.form_index >= 0   ? info->forms[sh.form_index]->id
                       : info->n_forms == 1 ? info->forms[0]->id
                                            : NULL;
    phieu_board_entry mine;
    json_t *jmine = json_null();
    if (phieu_session_board_entry_own(s, id, req->login.user, &mine, &err) == 0)
        jmine = entry_json(info, &mine);
    /* The head deciding a disagreement sees the entries; nobody else does. */
    json_t *readings = json_null();
    phieu_board_entry shown[BOARD_READ_MAX_SHOWN];
    char names[BOARD_READ_MAX_SHOWN][PHIEU_NAME_MAX];
    int n_shown = 0;
    if (phieu_session_board_entries_for_head(s, id, req->login.user, shown, names,
                                             BOARD_READ_MAX_SHOWN, &n_shown, &err) == 0) {
        readings = json_array();
        for (int i = 0; i < n_shown; i++) {
            json_t *j = entry_json(info, &shown[i]);
            json_object_set_new(j, "user", json_string(names[i]));
            json_array_append_new(readings, j);
        }
    }
    /* Whether the caller may read now: the rules are the session's, this only spares a
     * refused entry (a second entry of one's own replaces the first). */
    int head = strcmp(req->login.role, "head") == 0;
    int may_read = e.row == 0 && (!info->two_person_rule || e.state == PHIEU_EXC_OPEN ||
                                  e.state == PHIEU_EXC_SECOND ||
                                  (head && (e.state != PHIEU_EXC_HEAD || json_is_array(readings))));
    int by_board = e.state == PHIEU_EXC_RESOLVED && strncmp(e.resolution, PHIEU_CHOICE_READ_PREFIX,
                                                            strlen(PHIEU_CHOICE_READ_PREFIX)) == 0;
    json_t *j = json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:b, s:I, s:i, s:b, s:s?, s:o, s:o, s:o, "
        "s:b, s:b, s:b}",
        "id", (json_int_t)e.id, "sheet", e.sheet_id, "reason", e.reason, "text", e.text, "state",
        state_word(e.state), "has_image", !sh.unreadable, "batch", (json_int_t)sh.batch, "position",
        sh.position, "rescan", rescan_likely(e.reason), "form", form, "forms", forms, "mine", jmine,
        "readings", readings, "may_read", may_read, "by_board", by_board, "page", e.row == 0);
    send_reply(res, MHD_HTTP_OK, j);
}

static void board_post(review_request *req, review_response *res, int64_t id, phieu_session *s)
{
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *form = json_string_value(json_object_get(j, "form"));
    json_t *rows = json_object_get(j, "rows");
    json_t *nj = json_object_get(j, "note");
    const char *note = json_string_value(nj);
    if (!json_is_object(j) || !form || !json_is_array(rows) ||
        json_array_size(rows) > PHIEU_FORM_MAX_ROWS || (nj && !json_is_null(nj) && !note)) {
        json_decref(j);
        review_error(res, MHD_HTTP_BAD_REQUEST, "reading",
                     "give the reading as {\"form\": \"ID\", \"rows\": [\"high\", \"blank\", "
                     "...], \"note\": \"...\"}");
        return;
    }
    /* The same text the command line takes, so both go through one parser. */
    phieu_buf text;
    phieu_buf_init(&text);
    phieu_buf_printf(&text, "%s%s:", PHIEU_CHOICE_READ_PREFIX, form);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const char *v = json_string_value(json_array_get(rows, i));
        phieu_buf_printf(&text, "%s%zu=%s", i ? "," : "", i + 1, v && !strpbrk(v, ",=:") ? v : "?");
    }
    phieu_error err = {0};
    phieu_board_entry entry;
    phieu_exception after;
    int rc = text.failed ? phieu_error_set(&err, PHIEU_ENOMEM, "out of memory")
                         : phieu_session_board_entry_parse(s, id, text.data, &entry, &err);
    if (rc == 0)
        rc = phieu_session_read_by_board(s, id, req->login.user, &entry, note ? note : "", &after,
                                         &err);
    phieu_buf_release(&text);
    json_decref(j);
    if (rc != 0) {
        review_error(res, http_status(rc), phieu_error_code_name(rc), "%s", err.message);
        return;
    }
    /* The log names who and which page, never a row. */
    review_log(req->srv, "board reading by '%s' on exception %lld: now %s", req->login.user,
               (long long)id, state_word(after.state));
    send_reply(res, MHD_HTTP_OK,
               json_pack("{s:s, s:b}", "state", state_word(after.state), "by_board",
                         after.state == PHIEU_EXC_RESOLVED &&
                             strncmp(after.resolution, PHIEU_CHOICE_READ_PREFIX,
                                     strlen(PHIEU_CHOICE_READ_PREFIX)) == 0));
}

void review_board_read(review_request *req, review_response *res, int64_t id, pthread_mutex_t *lock,
                       phieu_session *s)
{
    int post = strcmp(req->method, "POST") == 0;
    pthread_mutex_lock(lock);
    if (post)
        board_post(req, res, id, s);
    else
        board_get(req, res, id, s);
    pthread_mutex_unlock(lock);
}
