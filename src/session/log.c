/*
 * log.c - the session's hash-chained audit log: append (inside a transaction or on its
 * own), list, verify, head. Each entry's hash covers the previous entry's hash and its
 * own fields, and the settings keep the last hash and the count, so a changed, removed or
 * truncated entry is found. What an entry says is decided by its caller; none of them
 * holds a selection or a page's place in a batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phieu/alloc.h"
#include "session/session_internal.h"

/* The hash of an entry: SHA-256 over its fields joined by newlines (a field never holds a
 * NUL, and the seq pins each entry to its place). Returns PHIEU_ENOMEM when the text
 * cannot be built: the caller must not write (or judge) an entry without its true hash. */
static int entry_hash(const char *prev, long long seq, const char *time, const char *actor,
                      const char *action, const char *detail, char out[PHIEU_SHA256_HEX])
{
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "%s\n%lld\n%s\n%s\n%s\n", prev, seq, time, actor, action);
    phieu_buf_puts(&b, detail);
    int rc = b.failed ? PHIEU_ENOMEM : 0;
    if (rc == 0)
        phieu_sha256_hex(b.data, b.len, out);
    phieu_buf_release(&b);
    return rc;
}

static int last_entry(phieu_session *s, long long *seq, char hash[PHIEU_SHA256_HEX],
                      phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1", &st, err) !=
        0)
        return err->code;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *seq = sqlite3_column_int64(st, 0);
        snprintf(hash, PHIEU_SHA256_HEX, "%s", (const char *)sqlite3_column_text(st, 1));
    } else {
        *seq = 0;
        memset(hash, '0', PHIEU_SHA256_HEX - 1);
        hash[PHIEU_SHA256_HEX - 1] = '\0';
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the log");
    return 0;
}

int session_log_append_txn(phieu_session *s, const char *actor, const char *action,
                           const char *detail, phieu_error *err)
{
    long long seq;
    char prev[PHIEU_SHA256_HEX], hash[PHIEU_SHA256_HEX], now[32];
    if (last_entry(s, &seq, prev, err) != 0)
        return err->code;
    seq++;
    session_now(now);
    actor = session_actor(actor);
    detail = detail ? detail : "";
    if (entry_hash(prev, seq, now, actor, action, detail, hash) != 0)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory writing the audit log");
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "INSERT INTO log(seq, time, actor, action, detail, prev_hash, hash) "
                        "VALUES (?,?,?,?,?,?,?)",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot append to the log");
    char count[32];
    snprintf(count, sizeof count, "%lld", seq);
    if (session_prepare(s,
                        "INSERT OR REPLACE INTO settings(key, value) VALUES ('log_head', ?), "
                        "('log_count', ?)",
                        &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, count, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot append to the log");
    return 0;
}

int phieu_session_log_append(phieu_session *s, const char *actor, const char *action,
                             const char *detail, phieu_error *err)
{
    if (!action || !action[0])
        return phieu_error_set(err, PHIEU_EINVAL, "a log entry needs an action");
    if (session_begin(s, err) != 0)
        return err->code;
    if (session_log_append_txn(s, actor, action, detail, err) != 0) {
        session_rollback(s);
        return err->code;
    }
    return session_commit(s, err);
}

void phieu_session_log_free(phieu_log_entry *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++)
        phieu_free(items[i].detail);
    phieu_free(items);
}

int phieu_session_log_list(phieu_session *s, phieu_log_entry **items, size_t *n,
                           phieu_error *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT seq, time, actor, action, detail, prev_hash, hash FROM log "
                        "ORDER BY seq",
                        &st, err) != 0)
        return err->code;
    phieu_log_entry *list = NULL;
    size_t count = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            phieu_log_entry *grown = phieu_realloc(list, ncap * sizeof *list);
            if (!grown)
                goto nomem;
            list = grown;
            cap = ncap;
        }
        phieu_log_entry *e = &list[count];
        memset(e, 0, sizeof *e);
        e->seq = sqlite3_column_int64(st, 0);
        snprintf(e->time, sizeof e->time, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(e->actor, sizeof e->actor, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(e->action, sizeof e->action, "%s", (const char *)sqlite3_column_text(st, 3));
        e->detail = phieu_strdup((const char *)sqlite3_column_text(st, 4));
        if (!e->detail)
            goto nomem;
        snprintf(e->prev_hash, sizeof e->prev_hash, "%s",
                 (const char *)sqlite3_column_text(st, 5));
        snprintf(e->hash, sizeof e->hash, "%s", (const char *)sqlite3_column_text(st, 6));
        count++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        phieu_session_log_free(list, count);
        return session_db_error(s, err, "cannot read the log");
    }
    *items = list;
    *n = count;
    return 0;
nomem:
    sqlite3_finalize(st);
    phieu_session_log_free(list, count);
    return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading the log");
}

static int read_setting(phieu_session *s, const char *key, char *out, size_t size)
{
    sqlite3_stmt *st;
    out[0] = '\0';
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM settings WHERE key = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return found ? 0 : -1;
}

int phieu_session_log_verify(phieu_session *s, phieu_error *err)
{
    phieu_log_entry *list;
    size_t n;
    if (phieu_session_log_list(s, &list, &n, err) != 0)
        return err->code;
    char prev[PHIEU_SHA256_HEX];
    memset(prev, '0', PHIEU_SHA256_HEX - 1);
    prev[PHIEU_SHA256_HEX - 1] = '\0';
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const phieu_log_entry *e = &list[i];
        long long expected = (long long)i + 1;
        char hash[PHIEU_SHA256_HEX];
        if (entry_hash(e->prev_hash, e->seq, e->time, e->actor, e->action, e->detail, hash) != 0)
            rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory checking the audit log");
        else if (e->seq != expected)
            rc = phieu_error_set(err, PHIEU_EINTEGRITY,
                                 "audit log: entry %lld is missing (removed); the log jumps "
                                 "from %lld to %lld",
                                 expected, expected - 1, (long long)e->seq);
        else if (strcmp(e->prev_hash, prev) != 0)
            rc = phieu_error_set(err, PHIEU_EINTEGRITY,
                                 "audit log: entry %lld does not follow entry %lld (an entry "
                                 "was changed or removed)",
                                 (long long)e->seq, expected - 1);
        else if (strcmp(hash, e->hash) != 0)
            rc = phieu_error_set(err, PHIEU_EINTEGRITY,
                                 "audit log: entry %lld (%s, %s) was changed after it was "
                                 "written",
                                 (long long)e->seq, e->action, e->time);
        memcpy(prev, e->hash, PHIEU_SHA256_HEX);
    }
    if (rc == 0) {
        char head[PHIEU_SHA256_HEX + 8], count[32];
        if (read_setting(s, "log_head", head, sizeof head) != 0 ||
            read_setting(s, "log_count", count, sizeof count) != 0)
            rc = phieu_error_set(err, PHIEU_EINTEGRITY,
                                 "audit log: the record of its last entry is missing");
        else if (strtoll(count, NULL, 10) != (long long)n)
            rc = phieu_error_set(err, PHIEU_EINTEGRITY,
                                 "audit log: %lld entries were written but %zu remain; the "
                                 "last entries were removed",
                                 strtoll(count, NULL, 10), n);
        else if (strcmp(head, prev) != 0)
            rc = phieu_error_set(err, PHIEU_EINTEGRITY,
                                 "audit log: the last entry (%zu) is not the one written", n);
    }
    phieu_session_log_free(list, n);
    return rc;
}

int phieu_session_log_head(phieu_session *s, char out[PHIEU_SHA256_HEX], phieu_error *err)
{
    long long seq;
    return last_entry(s, &seq, out, err);
}
