/*
 * audit.h - the session's hash-chained audit log.
 *
 * Contract:
 *  - Every change to a session appends one entry in the transaction that makes it; each
 *    entry's hash covers the previous entry's hash and its own fields, so an entry changed,
 *    removed or cut off is found by phieu_session_log_verify.
 *  - An entry never holds a selection, nor a page's batch or position.
 *  - Errors and threads as in session.h; a list is freed with phieu_session_log_free.
 *
 * Implemented in src/session/log.c.
 */
#ifndef PHIEU_AUDIT_H
#define PHIEU_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/session.h"
#include "phieu/util.h"

/* ---- Audit log ---------------------------------------------------------------------- */

typedef struct phieu_log_entry {
    int64_t seq;     /* 1, 2, ... */
    char time[32];   /* UTC, ISO 8601 */
    char actor[PHIEU_NAME_MAX];
    char action[64]; /* "session-created", "counts", "batch-closed", "decision", ... */
    char *detail;    /* words; never a selection, never a batch position */
    char prev_hash[PHIEU_SHA256_HEX];
    char hash[PHIEU_SHA256_HEX]; /* SHA-256 over prev_hash, seq, time, actor, action, detail */
} phieu_log_entry;

/* Appends an entry (its own transaction). For modules' actions such as "report-issued". */
int phieu_session_log_append(phieu_session *s, const char *actor, const char *action,
                             const char *detail, phieu_error *err);
/* The whole log, oldest first; free with phieu_session_log_free. */
int phieu_session_log_list(phieu_session *s, phieu_log_entry **items, size_t *n,
                           phieu_error *err);
void phieu_session_log_free(phieu_log_entry *items, size_t n);
/* Recomputes the chain; PHIEU_EINTEGRITY naming the first entry changed or removed. */
int phieu_session_log_verify(phieu_session *s, phieu_error *err);
/* The hash of the last entry (for the report's manifest). */
int phieu_session_log_head(phieu_session *s, char out[PHIEU_SHA256_HEX], phieu_error *err);

#endif
