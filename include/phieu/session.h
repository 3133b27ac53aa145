/*
 * session.h - one counting session in one SQLite file: creating, opening and closing it,
 * what it holds (its forms, thresholds and rule set), and the settings the board enters
 * (the board and its counts). The rest of the session's API is one header per concern:
 * pages.h (batches, the page pipeline, the archive, sheets), decisions.h (exceptions,
 * decisions, the board's reading of a page, ballots and progress), accounts.h (users and
 * passwords) and audit.h (the hash-chained log).
 *
 * Contract:
 *  - A session is the file SESSION.db and the archive folder SESSION.db.images/ beside it
 *    (pages.h). Copying the two is a complete backup.
 *  - Self-contained: the session keeps its own copy of each form text (re-parsed on open),
 *    the thresholds in force (stored by name), the rule set and the test flag.
 *  - Every change is audited (audit.h); no entry of the log holds a selection.
 *  - Every function returns 0 or a negative PHIEU_E... code and fills err. A newer session
 *    file is refused (PHIEU_ESTATE, "made by a newer phieu"); a damaged or foreign file
 *    gives PHIEU_EFORMAT; a busy database waits PHIEU_SESSION_BUSY_MS, then PHIEU_EDB.
 *  - Ownership: phieu_session_* objects are freed with their _close/_free function; lists
 *    returned through `T **items` are one phieu_malloc block, freed with phieu_free.
 *  - Thread safety: one phieu_session per thread. Several processes (scanning stations)
 *    may open the same file at once: SQLite WAL with a busy timeout serialises writers.
 *
 * Implemented in src/session/session.c (with the SQL helpers every file of src/session/
 * shares, declared in session_internal.h).
 */
#ifndef PHIEU_SESSION_H
#define PHIEU_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/util.h"

/* The schema this build writes; a file with a higher version is refused. */
#define PHIEU_SESSION_SCHEMA_VERSION 5
/* How long a writer waits for another station's transaction: a page commit takes a few
 * milliseconds, so 10 s covers any honest wait and still reports a stuck process. */
#define PHIEU_SESSION_BUSY_MS 10000
/* Two readings of the same form whose ink similarity (phieu_omr_ink_similarity) is at or
 * above this are a possible rescan of one paper sheet. Measured by bench/duplicates.sh
 * on two 200-page decks (docs/recognition.md, "Duplicates"): a rescan (new rotation,
 * offset, scale, noise, blur, exposure) scored 0.89-1.00 against its page, save three
 * votes of confidence holding one mark in all (0.67-0.81: too little evidence, judged
 * conservatively; such pages are decided on their strokes, below); two hands marking the
 * same pattern scored at most 0.80. A false alarm costs one supervisor's look; a missed
 * rescan is still caught by the reconciliation (more read than collected). A session
 * setting ("duplicate"); default: */
#define PHIEU_SESSION_DEFAULT_DUPLICATE_SIMILARITY 0.85
/* The same test on the strokes at full resolution (phieu_omr_stroke_similarity), which
 * tells a rescan of a one- or two-mark page from another hand where the grids cannot
 * (bench/duplicates.sh with STROKES=1; docs/recognition.md, "Duplicates"). */
#define PHIEU_SESSION_DEFAULT_STROKE_SIMILARITY 0.95
/* Row decisions that may differ between two scans of one sheet before the ink is compared
 * at all (a marginal mark can read differently each time). */
#define PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF 2

#define PHIEU_SHEET_ID_LEN 16 /* hex digits of 64 random bits */
#define PHIEU_SHEET_ID_MAX (PHIEU_SHEET_ID_LEN + 1)
#define PHIEU_NAME_MAX 256    /* user names, board names (bytes of UTF-8) */
/* Forms in one session: one template per group of posts; a provincial council uses a
 * handful. 16 leaves room and keeps the per-form arrays fixed-size. */
#define PHIEU_SESSION_MAX_FORMS 16

typedef struct phieu_session phieu_session;

/* ---- Creating and opening ----------------------------------------------------------- */

typedef struct phieu_session_params {
    const char *council;      /* "Hội đồng nhân dân huyện ..." */
    const char *session_name; /* "Kỳ họp thứ 7, khóa XX" */
    const char *date;         /* as printed in the minutes, e.g. "2026-11-28" */
    const char *place;
    int delegates;            /* total delegates of the council, > 0 */
    const char *rules;        /* "nq96" (default when NULL) or "nq85" */
    int test;                 /* 1: a test session (accepts only test ballots) */
    int two_person_rule;      /* 1 on, 0 off, -1 the default: on unless test */
    int confirm_overvotes;    /* 1: every overvote row goes to a person too */
    const phieu_form *const *forms; /* at least one; the session stores form->source */
    int n_forms;
    const phieu_thresholds *thresholds; /* NULL: phieu_thresholds_default */
    double duplicate_similarity;        /* 0: the default above */
    const char *actor;        /* who did it, for the log ("" or NULL: "operator") */
} phieu_session_params;

/* Creates SESSION.db and SESSION.db.images/. PHIEU_EEXIST if the file exists. PHIEU_EINVAL,
 * naming both texts, when a form's printed council or session is not the session's
 * (compared by phieu_text_same: case, spacing and precomposed or decomposed letters do not
 * matter; abbreviations do). Forms are given only here: a session never takes more later. */
int phieu_session_create(const char *path, const phieu_session_params *params,
                         phieu_session **out, phieu_error *err);
/* Opens an existing session (migrating an older schema, refusing a newer one). */
int phieu_session_open(const char *path, phieu_session **out, phieu_error *err);
void phieu_session_close(phieu_session **s);

/* PRAGMA integrity_check and foreign_key_check; PHIEU_EINTEGRITY naming the first problem. */
int phieu_session_check_integrity(phieu_session *s, phieu_error *err);

/* ---- What the session holds (read-only views, valid until the next call that changes
 * the session through this handle, or until close) ------------------------------------- */

typedef struct phieu_board {
    char *head;
    char *secretary;
    int n_members;
    char **members;
} phieu_board;

typedef struct phieu_board_counts {
    int entered;  /* 0 until the board entered them for this form */
    int present;  /* delegates present */
    int issued;   /* ballots issued (phát ra) */
    int collected; /* ballots collected (thu về) */
    int spoiled;  /* spoiled ballots exchanged, kept apart */
} phieu_board_counts;

typedef struct phieu_session_info {
    const char *path;         /* the .db file */
    const char *archive_dir;  /* "<path>.images" */
    const char *council, *session_name, *date, *place;
    int delegates;
    const char *rules;        /* "nq96" | "nq85" */
    int test;
    int two_person_rule;
    int confirm_overvotes;
    double duplicate_similarity;
    phieu_thresholds thresholds;
    int n_forms;
    const phieu_form *const *forms; /* in the order given at creation */
    const phieu_layout *layouts;    /* layouts[i] of forms[i] */
    phieu_board_counts counts[PHIEU_SESSION_MAX_FORMS]; /* counts[i] of forms[i] */
    phieu_board board;
} phieu_session_info;

const phieu_session_info *phieu_session_get_info(const phieu_session *s);
/* The form with this id, its index in info->forms, or -1. */
int phieu_session_form_index(const phieu_session *s, const char *form_id);
/* An omr configuration over the session's forms, thresholds and test flag. Points into
 * the session; valid while it is open. */
void phieu_session_omr_config(const phieu_session *s, phieu_omr_config *out);

/* ---- Settings entered by the board (each is audited) -------------------------------- */

/* The board's counts as the file holds them now (another process, e.g. 'phieu session
 * counts' beside a running review screen, may have entered them since this handle was
 * opened); info->counts is refreshed too. out may be NULL. */
int phieu_session_counts_get(phieu_session *s, phieu_board_counts out[PHIEU_SESSION_MAX_FORMS],
                             phieu_error *err);

/* form_index -1: the same counts for every form. */
int phieu_session_set_counts(phieu_session *s, int form_index, const phieu_board_counts *c,
                             const char *actor, phieu_error *err);
int phieu_session_set_board(phieu_session *s, const char *head, const char *secretary,
                            const char *const *members, int n_members, const char *actor,
                            phieu_error *err);
/* The times of the count as the board enters them, each "HH:MM" (a day's hours and
 * minutes): opened, when the count began (the minutes' opening "Hôm nay, vào hồi 14 giờ 30
 * phút, ngày ..."), and closed, when the minutes were closed ("Biên bản kết thúc vào hồi
 * ..."). What the board types may be H:MM, HH:MM or 14h30; "" clears a time (the minutes
 * then keep a blank to fill by hand); NULL leaves it as it is. PHIEU_EINVAL, saying how to
 * write it, for anything else. Logged "times". */
#define PHIEU_SESSION_TIME_MAX 6
int phieu_session_set_times(phieu_session *s, const char *opened, const char *closed,
                            const char *actor, phieu_error *err);
/* The times entered, "HH:MM" or "" when not entered. */
int phieu_session_times_get(phieu_session *s, char opened[PHIEU_SESSION_TIME_MAX],
                            char closed[PHIEU_SESSION_TIME_MAX], phieu_error *err);
/* A threshold by name: "marked", "marginal", "ink" (omr.h) or "duplicate". Refused once a
 * page has been read with the old values (PHIEU_ESTATE): readings must stay reproducible. */
int phieu_session_set_threshold(phieu_session *s, const char *name, double value,
                                const char *actor, phieu_error *err);

#endif
