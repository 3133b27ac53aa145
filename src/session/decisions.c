/*
 * decisions.c - the rules around a board member's decision that protect against accidents
 * and against one person settling a case alone: who may decide a case now (never twice,
 * the head's change of a settled case is an override), taking back one's own decision
 * before a second member decides, and the overrides for the minutes. Recording a decision
 * and the two-person rule's states are in exceptions.c; user names and accounts in
 * accounts.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "session/session_internal.h"

/* ---- Who may decide now --------------------------------------------------------------- */

int session_decision_kind(int two_person, const phieu_decision *d, size_t n, const char *user,
                          int role)
{
    int state;
    char resolution[PHIEU_CHOICE_MAX];
    session_resolve(two_person, d, n, &state, resolution);
    int mine = 0;
    for (size_t i = 0; i < n; i++)
        mine |= strcmp(d[i].user, user) == 0;
    switch (state) {
    case PHIEU_EXC_OPEN:
        return PHIEU_DECIDE_OK;
    case PHIEU_EXC_SECOND:
        return mine ? PHIEU_DECIDE_AGAIN : PHIEU_DECIDE_OK;
    case PHIEU_EXC_HEAD:
        if (role != PHIEU_ROLE_HEAD)
            return PHIEU_DECIDE_HEAD_ONLY;
        return mine ? PHIEU_DECIDE_OVERRIDE : PHIEU_DECIDE_OK;
    default:
        return role == PHIEU_ROLE_HEAD ? PHIEU_DECIDE_OVERRIDE : PHIEU_DECIDE_SETTLED;
    }
}

int phieu_session_decision_check(phieu_session *s, int64_t exception_id, const char *user,
                                 int *kind, phieu_error *err)
{
    *kind = PHIEU_DECIDE_OK;
    phieu_user u;
    phieu_exception e;
    if (phieu_session_user_get(s, user, &u, err) != 0 ||
        phieu_session_exception_get(s, exception_id, &e, err) != 0)
        return err->code;
    phieu_decision *d = NULL;
    size_t n = 0;
    if (phieu_session_decisions_list(s, exception_id, &d, &n, err) != 0)
        return err->code;
    *kind = session_decision_kind(s->info.two_person_rule, d, n, u.name, u.role);
    phieu_free(d);
    return 0;
}

int session_decision_hash(int64_t id, int64_t exception_id, const char *user, int role,
                          const char *choice, const char *note, const char *time,
                          char hash[PHIEU_SHA256_HEX], phieu_error *err)
{
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "%lld\n%lld\n%s\n%d\n%s\n%s\n%s", (long long)id, (long long)exception_id,
                     user, role, choice, note, time);
    if (b.failed) { /* a hash of nothing would name no decision */
        phieu_buf_release(&b);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory naming a decision");
    }
    phieu_sha256_hex(b.data, b.len, hash);
    phieu_buf_release(&b);
    return 0;
}

int session_decisions_named(const phieu_decision *d, size_t n, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int k = snprintf(out + used, size - used, "%s#%lld %s", i ? ", " : "", (long long)d[i].id,
                         d[i].user);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return 0;
}

/* ---- Taking back one's own decision -------------------------------------------------- */

/* Whether `name` may take back their decision on e (d: its n decisions): they made one
 * (its index into *last) and no one decided it since. */
static int withdrawable(const phieu_exception *e, const phieu_decision *d, size_t n,
                        const char *name, size_t *last, phieu_error *err)
{
    int others = 0;
    *last = n;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].user, name) == 0)
            *last = i;
        else
            others = 1;
    }
    if (*last == n)
        return phieu_error_set(err, PHIEU_ESTATE,
                               "exception %lld: %s has no decision on it to take back",
                               (long long)e->id, name);
    /* Once another member decided, the decision is part of what they agreed or disagreed
     * with; a page counted as another form has read the page again: both stay. */
    if (others || e->state == PHIEU_EXC_HEAD ||
        (e->state == PHIEU_EXC_RESOLVED &&
         strncmp(e->resolution, PHIEU_CHOICE_FORM_PREFIX, strlen(PHIEU_CHOICE_FORM_PREFIX)) == 0))
        return phieu_error_set(err, PHIEU_ESTATE,
                               "exception %lld: another member has decided it since, so the "
                               "decision can no longer be taken back",
                               (long long)e->id);
    return 0;
}

/* Deletes decision `id`; a board reading keeps its rows beside the decision
 * (board_read.c): they go with it. */
static int decision_delete(phieu_session *s, int64_t id, phieu_error *err)
{
    static const char *const removals[] = {"DELETE FROM board_entries WHERE decision_id = ?",
                                           "DELETE FROM decisions WHERE id = ?"};
    for (size_t k = 0; k < sizeof removals / sizeof removals[0]; k++) {
        sqlite3_stmt *st;
        if (session_prepare(s, removals[k], &st, err) != 0)
            return err->code;
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return session_db_error(s, err, "cannot take back the decision");
    }
    return 0;
}

int phieu_session_decision_withdraw(phieu_session *s, int64_t exception_id, const char *user,
                                    phieu_exception *after, phieu_error *err)
{
    if (session_begin(s, err) != 0)
        return err->code;
    phieu_user u;
    phieu_exception e;
    phieu_decision *d = NULL;
    size_t n = 0;
    if (phieu_session_user_get(s, user, &u, err) != 0 ||
        phieu_session_exception_get(s, exception_id, &e, err) != 0 ||
        phieu_session_decisions_list(s, exception_id, &d, &n, err) != 0)
        goto fail;
    size_t last;
    if (withdrawable(&e, d, n, u.name, &last, err) != 0)
        goto fail;
    char hash[PHIEU_SHA256_HEX];
    const phieu_decision *t = &d[last];
    if (session_decision_hash(t->id, t->exception_id, t->user, t->role, t->choice, t->note,
                              t->time, hash, err) != 0)
        goto fail;
    if (decision_delete(s, d[last].id, err) != 0)
        goto fail;
    char detail[1024];
    snprintf(detail, sizeof detail,
             "exception %lld (%s, sheet %s): decision %lld taken back by %s before a second "
             "member decided; decision sha256 %s",
             (long long)exception_id, e.reason, e.sheet_id, (long long)d[last].id, u.name, hash);
    if (session_exception_refresh(s, exception_id, err) != 0 ||
        session_log_append_txn(s, u.name, "decision-withdrawn", detail, err) != 0 ||
        phieu_session_exception_get(s, exception_id, &e, err) != 0 || session_commit(s, err) != 0)
        goto fail;
    phieu_free(d);
    if (after)
        *after = e;
    return 0;
fail:
    session_rollback(s);
    phieu_free(d);
    return err->code;
}

/* ---- Rows closed with their page ---------------------------------------------------- */

int session_row_closed_with_page(phieu_session *s, int64_t id, int *closed, phieu_error *err)
{
    *closed = 0;
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT count(*) FROM exceptions r JOIN exceptions p ON p.sheet_id ="
                        " r.sheet_id AND p.row = 0 WHERE r.id = ? AND r.row > 0 AND p.state = ?"
                        " AND p.resolution IN (?, ?)",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, PHIEU_EXC_RESOLVED);
    sqlite3_bind_text(st, 3, PHIEU_CHOICE_DISCARD, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, PHIEU_CHOICE_INVALID, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *closed = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read the exceptions");
    return 0;
}

int session_page_rows_refresh(phieu_session *s, int64_t id, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT r.id FROM exceptions r JOIN exceptions p ON p.sheet_id ="
                        " r.sheet_id WHERE p.id = ? AND p.row = 0 AND r.row > 0",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, id);
    int64_t rows[PHIEU_FORM_MAX_ROWS];
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < PHIEU_FORM_MAX_ROWS)
        rows[n++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read the exceptions");
    for (int i = 0; i < n; i++)
        if (session_exception_refresh(s, rows[i], err) != 0)
            return err->code;
    return 0;
}

/* ---- Overrides, for the minutes ------------------------------------------------------ */

static int override_cmp(const void *a, const void *b)
{
    const phieu_override *x = a, *y = b;
    if (x->exception_id != y->exception_id)
        return x->exception_id < y->exception_id ? -1 : 1;
    return x->decision_id < y->decision_id ? -1 : x->decision_id > y->decision_id;
}

int phieu_session_overrides_list(phieu_session *s, phieu_override **items, size_t *n,
                                 phieu_error *err)
{
    *items = NULL;
    *n = 0;
    phieu_exception *ex = NULL;
    size_t n_ex = 0;
    if (phieu_session_exceptions_list(s, PHIEU_EXC_LIST_ALL, &ex, &n_ex, err) != 0)
        return err->code;
    phieu_override *list = NULL;
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; i < n_ex && rc == 0; i++) {
        if (ex[i].n_decisions < 2)
            continue;
        phieu_decision *d = NULL;
        size_t nd = 0;
        rc = phieu_session_decisions_list(s, ex[i].id, &d, &nd, err);
        for (size_t k = 1; rc == 0 && k < nd; k++) {
            if (session_decision_kind(s->info.two_person_rule, d, k, d[k].user, d[k].role) !=
                PHIEU_DECIDE_OVERRIDE)
                continue;
            phieu_override *g = phieu_realloc(list, (count + 1) * sizeof *list);
            if (!g) {
                rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing overrides");
                break;
            }
            list = g;
            phieu_override *o = &list[count++];
            memset(o, 0, sizeof *o);
            o->exception_id = ex[i].id;
            o->decision_id = d[k].id;
            o->row = ex[i].row;
            snprintf(o->reason, sizeof o->reason, "%s", ex[i].reason);
            snprintf(o->user, sizeof o->user, "%s", d[k].user);
            snprintf(o->time, sizeof o->time, "%s", d[k].time);
            snprintf(o->note, sizeof o->note, "%s", d[k].note);
            session_decisions_named(d, k, o->earlier, sizeof o->earlier);
        }
        phieu_free(d);
    }
    phieu_free(ex);
    if (rc != 0) {
        phieu_free(list);
        return rc;
    }
    /* By exception id, which is random: the list keeps nothing of the order of scanning. */
    if (count > 1)
        qsort(list, count, sizeof *list, override_cmp);
    *items = list;
    *n = count;
    return 0;
}
