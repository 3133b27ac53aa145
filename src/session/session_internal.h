/*
 * session_internal.h - what the files of src/session/ share: the session struct, SQL
 * helpers that turn SQLite failures into phieu errors, transactions, the reading blob,
 * and the log append used inside a transaction. Not part of the public API.
 */
#ifndef PHIEU_SESSION_INTERNAL_H
#define PHIEU_SESSION_INTERNAL_H

#include <sqlite3.h>

#include "phieu/accounts.h"
#include "phieu/audit.h"
#include "phieu/decisions.h"
#include "phieu/pages.h"
#include "phieu/session.h"

struct phieu_session {
    sqlite3 *db;
    char *path;
    char *archive;
    phieu_session_info info;
    phieu_form *forms[PHIEU_SESSION_MAX_FORMS];
    phieu_layout layouts[PHIEU_SESSION_MAX_FORMS];
    /* owned strings behind info */
    char *council, *session_name, *date, *place, *rules;
};

/* A PHIEU_EDB (or PHIEU_EIO for disk full / I/O errors) with SQLite's words. */
int session_db_error(phieu_session *s, phieu_error *err, const char *what);
/* Runs SQL without results. */
int session_exec(phieu_session *s, const char *sql, phieu_error *err);
int session_prepare(phieu_session *s, const char *sql, sqlite3_stmt **st, phieu_error *err);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback never fails loudly). */
int session_begin(phieu_session *s, phieu_error *err);
int session_commit(phieu_session *s, phieu_error *err);
void session_rollback(phieu_session *s);

/* The current time, UTC, ISO 8601, into out[32]. */
void session_now(char out[32]);
/* 64 random bits as 16 hex digits. */
void session_random_id(char out[PHIEU_SHEET_ID_MAX]);

/* Appends a log entry inside the caller's transaction. */
int session_log_append_txn(phieu_session *s, const char *actor, const char *action,
                           const char *detail, phieu_error *err);
/* The actor to record: the given one or "operator". */
const char *session_actor(const char *actor);

/* The SHA-256 the audit log names a decision by (its row's fields, one a line), never its
 * choice in the clear; decisions.c, for recording a decision and for taking one back. */
int session_decision_hash(int64_t id, int64_t exception_id, const char *user, int role,
                          const char *choice, const char *note, const char *time,
                          char hash[PHIEU_SHA256_HEX], phieu_error *err);

/* The machine's reading as a compact, versioned, little-endian blob (caller frees). */
int session_reading_encode(const phieu_reading *r, uint8_t **blob, size_t *len,
                           phieu_error *err);
int session_reading_decode(const uint8_t *blob, size_t len, phieu_reading *r,
                           phieu_error *err);

/* ---- Rescans (pages.c) ---- */

/* An earlier front sheet of form r->form_index that a page read as r may be a second scan
 * of (the check every new page gets, and a page the board sets the form of), among the
 * sheets read as that form by the machine or by the board's "form:<id>": the 8x8 ink
 * grids at or above the session's threshold, or, for a page with little ink, the strokes
 * at full resolution at or above PHIEU_SESSION_DEFAULT_STROKE_SIMILARITY. pattern: r's
 * phieu_omr_decision_pattern; mine: the page's strokes, NULL when it has none (no stroke
 * comparison); exclude: a sheet id never to name (the page itself), or NULL. found gets
 * the most alike such sheet's id ("" none), *similarity its likeness. */
int session_find_rescan(phieu_session *s, const phieu_reading *r, const phieu_omr_strokes *mine,
                        const char *pattern, const char *exclude, char found[PHIEU_SHEET_ID_MAX],
                        double *similarity, phieu_error *err);
/* For a page of little ink, too little for the 8x8 grids to tell a rescan from another
 * hand, its strokes (else *out stays NULL; freed with phieu_omr_strokes_destroy):
 * session_find_rescan compares them with the earlier sheets', and the session keeps them
 * for the later pages. */
int session_page_strokes(const phieu_omr_config *config, const phieu_image *page,
                         const phieu_reading *r, phieu_omr_strokes **out, phieu_error *err);

/* Reloads info->counts and info->board from the database. */
int session_load_board(phieu_session *s, phieu_error *err);

/* Opens the usual row exceptions (marginal marks, overvotes to confirm) of a sheet's
 * board-directed reading, inside the caller's transaction; *opened gets how many. */
int session_board_row_exceptions(phieu_session *s, const char *sheet_id,
                                 const phieu_reading *r, int *opened, phieu_error *err);

/* What a decision carries besides its choice and note (session_decide). */
typedef struct decide_extra {
    const phieu_board_entry *entry; /* a board reading's rows ("read:"), NULL otherwise */
    int not_duplicate;              /* phieu_session_decide_confirm's confirmation */
    phieu_form_twin *twin;          /* out, may be NULL: the sheet a "form:<id>" page is like */
} decide_extra;

/* phieu_session_decide_confirm; for a board reading (a "read:" choice) with the reader's
 * entry, stored beside the decision. board_read.c has the rest. x may be NULL (nothing
 * extra). */
int session_decide(phieu_session *s, int64_t exception_id, const char *user, const char *choice,
                   const char *note, const decide_extra *x, phieu_exception *after,
                   phieu_error *err);
/* Whether a board reading `entry` fits exception e (a whole front page the machine could
 * not count, every row of a form of the session). */
int session_board_entry_check(phieu_session *s, const phieu_exception *e,
                              const phieu_board_entry *entry, phieu_error *err);
/* Stores the rows of an entry beside decision decision_id (in the caller's transaction). */
int session_board_entry_store(phieu_session *s, int64_t decision_id,
                              const phieu_board_entry *entry, phieu_error *err);
/* The third-person rule: on a page the board reads whose readings differ, PHIEU_ESTATE when
 * `user` decided it already. reading: the decision to come is itself a board reading. */
int session_board_third_person(phieu_session *s, const phieu_exception *e, const char *user,
                               int reading, phieu_error *err);

/* The state an exception's decisions (oldest first) put it in (exceptions.c). */
void session_resolve(int two_person, const phieu_decision *d, size_t n, int *state,
                     char resolution[PHIEU_CHOICE_MAX]);
/* The phieu_decide_kind of `user` deciding after decisions d[0..n) (decisions.c). */
int session_decision_kind(int two_person, const phieu_decision *d, size_t n, const char *user,
                          int role);
/* "#12 lan, #13 minh": the decisions d[0..n) by id and user, into out. */
int session_decisions_named(const phieu_decision *d, size_t n, char *out, size_t size);
/* The stored spelling of a user name compared case-insensitively; PHIEU_ENOTFOUND. */
int session_user_find(phieu_session *s, const char *name, char *canonical, size_t size,
                      phieu_error *err);

/* *closed = 1 when exception id is a row whose sheet's page exception was resolved as
 * "discard" or "invalid" (decisions.c). */
int session_row_closed_with_page(phieu_session *s, int64_t id, int *closed, phieu_error *err);
/* After a page exception changed: refreshes the row exceptions of its sheet, which close
 * and reopen with it (nothing for a row exception). */
int session_page_rows_refresh(phieu_session *s, int64_t id, phieu_error *err);

/* Recomputes an exception's state and resolution from its decisions (in a transaction). */
int session_exception_refresh(phieu_session *s, int64_t id, phieu_error *err);

#endif
