/*
 * session.h - one counting session in one SQLite file: its forms, thresholds and rule set,
 * the board and its counts, every page (archived image, reading, exceptions), the board's
 * decisions, supervisors' accounts and the hash-chained audit log.
 *
 * Contract:
 *  - A session is the file SESSION.db and the archive folder SESSION.db.images/ beside it
 *    (content-addressed "<sha256>.png"). Copying the two is a complete backup. An archived
 *    PNG is phieu's own encoding of the page, or an imported PNG file as received when it
 *    carries nothing but the image (phieu_session_page_prepare).
 *  - Self-contained: the session keeps its own copy of each form text (re-parsed on open),
 *    the thresholds in force (stored by name), the rule set and the test flag.
 *  - Save first, then read: phieu_session_add_page writes the image durably before it
 *    reads it, then commits sheet, reading and exceptions in ONE transaction. A crash at
 *    any instant loses nothing and counts nothing twice (the image hash is UNIQUE).
 *  - Secrecy: sheet ids are random (libsodium), never sequential; batch and position are
 *    for the operator only (finding the paper) and must never be exported or logged;
 *    the audit log never holds a selection; listings meant for export (sheets, ballots)
 *    come in sheet-id order, which is unrelated to scan order. Nothing here stores the
 *    time a page was scanned.
 *  - Decisions override readings. An exception is resolved by its decisions: without the
 *    two-person rule, by the latest decision; with it (the default for official
 *    sessions), when two different users' latest decisions agree; when they disagree it
 *    waits for the head of the board, whose decision is then final.
 *  - Every function returns 0 or a negative PHIEU_E... code and fills err. A newer session
 *    file is refused (PHIEU_ESTATE, "made by a newer phieu"); a damaged or foreign file
 *    gives PHIEU_EFORMAT; a busy database waits PHIEU_SESSION_BUSY_MS, then PHIEU_EDB.
 *  - Ownership: phieu_session_* objects are freed with their _close/_free function; lists
 *    returned through `T **items` are one phieu_malloc block, freed with phieu_free.
 *  - Thread safety: one phieu_session per thread. Several processes (scanning stations)
 *    may open the same file at once: SQLite WAL with a busy timeout serialises writers.
 *
 * Owners: session engineer (this header, src/session/session.c, pages.c, store.c,
 * exceptions.c, log.c). The review engineer may add account/decision helpers in
 * src/session/decisions.c, declared in the "Decisions and users" section below.
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
#define PHIEU_SESSION_SCHEMA_VERSION 4
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

/* ---- Batches (scan and import group pages; operator-only) -------------------------- */

typedef struct phieu_batch {
    int64_t id;       /* 1, 2, ... per session: the operator's label */
    int placed;       /* sheets the operator put in the feeder; 0 if unknown */
    int pages;        /* pages recorded in it (front and back sides) */
    int sheets;       /* front sides */
    int closed;
    int next_position; /* the position the next page gets (1-based) */
} phieu_batch;

int phieu_session_batch_open(phieu_session *s, int placed, phieu_batch *out, phieu_error *err);
/* The most recent batch that is still open, PHIEU_ENOTFOUND when none (to continue it). */
int phieu_session_batch_last_open(phieu_session *s, phieu_batch *out, phieu_error *err);
int phieu_session_batch_get(phieu_session *s, int64_t id, phieu_batch *out, phieu_error *err);
/* Closes the batch and appends one log entry with its page counts (not their order). */
int phieu_session_batch_close(phieu_session *s, int64_t id, const char *actor,
                              phieu_batch *out, phieu_error *err);

/* ---- The page pipeline shared by import and scan ------------------------------------ */

typedef enum {
    PHIEU_SIDE_FRONT = 0, /* a ballot side */
    PHIEU_SIDE_BACK = 1,  /* the back of the sheet given in back_of (duplex) */
} phieu_side;

typedef struct phieu_page_meta {
    int64_t batch;      /* from phieu_session_batch_open; required */
    int position;       /* 1-based place in the batch; 0: the batch's next position */
    int side;           /* phieu_side */
    const char *back_of; /* the front's sheet id when side == BACK */
    int double_feed;    /* 1: the scanner or the page length suggests two sheets fed */
    const char *double_feed_why; /* words for the reviewer, may be NULL */
} phieu_page_meta;

typedef enum {
    PHIEU_ADD_NEW = 0,       /* a new sheet (counted, or with exceptions) */
    PHIEU_ADD_DUPLICATE = 1, /* the same image is already sheet `sheet_id`: nothing stored */
} phieu_add_outcome;

typedef struct phieu_page_result {
    int outcome;                           /* phieu_add_outcome */
    char sheet_id[PHIEU_SHEET_ID_MAX];     /* the new sheet, or the one it duplicates */
    char sha256[PHIEU_SHA256_HEX];         /* of the archived PNG */
    char possible_duplicate_of[PHIEU_SHEET_ID_MAX]; /* "" unless the ink matched a sheet */
    int status;            /* phieu_page_status after the session's own checks */
    int form_index;        /* -1 unknown */
    int n_exceptions;      /* exceptions opened for this page */
    phieu_reading reading; /* the machine's reading (the caller must not show selections
                              anywhere it could be tied to scan order) */
} phieu_page_result;

/* Archives, reads and commits one page (see the contract). A page whose image is already
 * in the session returns 0 with outcome PHIEU_ADD_DUPLICATE (it is never counted twice).
 * Disk full or an I/O error: PHIEU_EIO, nothing committed, the session stays consistent.
 * Notes:
 *  1. The PNG is encoded by phieu_image_encode_png (deterministic), hashed, and written
 *     with phieu_write_file_durable unless a file of that name is already there (a crash
 *     after the write and before the commit).
 *  2. Session checks after the reading: a page of a form identified but whose readings'
 *     ink matches an existing sheet of the same form goes to review "possible-duplicate";
 *     a double feed goes to review "double-feed"; a back side that is not blank goes to
 *     review "back-not-blank"; with confirm_overvotes, overvote rows become exceptions. */
int phieu_session_add_page(phieu_session *s, const phieu_image *page,
                           const phieu_page_meta *meta, phieu_page_result *out,
                           phieu_error *err);
/* A file that could not be decoded: its bytes are archived as "<sha256>.bin" and a
 * rejected sheet with an "unreadable-file" exception is recorded, so the paper is looked
 * at. `what` is the decoder's message. Same duplicate rule as add_page. */
int phieu_session_add_unreadable(phieu_session *s, const uint8_t *bytes, size_t len,
                                 const char *what, const phieu_page_meta *meta,
                                 phieu_page_result *out, phieu_error *err);

/* The archive path of an image ("<dir>/<sha256>.png" or ".bin") into out. */
int phieu_session_image_path(const phieu_session *s, const char *sha256, int unreadable,
                             char *out, size_t out_size, phieu_error *err);
/* Removes temporary files a killed writer left in the archive; returns how many. */
int phieu_session_archive_clean(phieu_session *s, int *removed, phieu_error *err);

/* add_page and add_unreadable in two halves, for the intake module (intake.h): _prepare
 * (encode, hash, read; pure, thread-safe, touches no session) on the intake's workers, then
 * _commit (duplicate check, durable archive write, the one transaction) on the session's
 * thread, in the order the pages were fed. Saving still precedes committing. */
typedef struct phieu_prepared_page {
    phieu_page_result result; /* sha256 and reading from _prepare; the rest from _commit */
    uint8_t *bytes;           /* what the archive will hold (owned; _release frees it) */
    size_t len;
    int unreadable;           /* an undecodable file, archived as "<sha256>.bin" */
    int stored;               /* _store wrote it: bytes may be freed before _commit */
    char what[PHIEU_ERROR_MESSAGE_MAX]; /* the decoder's words for an unreadable file */
    phieu_omr_strokes *strokes; /* a page of little ink: its strokes, for the rescan check */
} phieu_prepared_page;
/* config: phieu_session_omr_config of the session the page is for. received: NULL, or the
 * bytes of the file `page` was decoded from (taken over, also on error). A PNG file that
 * holds nothing but the image is archived as received (its bytes are the evidence, and its
 * hash names it); any other page is encoded as in add_page. */
int phieu_session_page_prepare(const phieu_omr_config *config, const phieu_image *page,
                               uint8_t *received, size_t received_len,
                               phieu_prepared_page *out, phieu_error *err);
/* Takes over `bytes` (phieu_malloc'd), also on error. */
int phieu_session_unreadable_prepare(uint8_t *bytes, size_t len, const char *what,
                                     phieu_prepared_page *out, phieu_error *err);
/* Thread-safe: writes the archive file durably (write, fsync, rename), unless it is there
 * already, so that _commit finds it there. archive_dir: the session info's archive_dir. A
 * crash between the two leaves a file no sheet names, as between add_page's two steps. */
int phieu_session_prepared_store(const char *archive_dir, phieu_prepared_page *pp,
                                 phieu_error *err);
/* Same outcomes as phieu_session_add_page; the result is in pp->result. */
int phieu_session_page_commit(phieu_session *s, const phieu_page_meta *meta,
                              phieu_prepared_page *pp, phieu_error *err);
void phieu_session_prepared_release(phieu_prepared_page *pp);

/* ---- Sheets ------------------------------------------------------------------------- */

typedef struct phieu_sheet {
    char id[PHIEU_SHEET_ID_MAX];
    char sha256[PHIEU_SHA256_HEX];
    int unreadable;   /* the archived file is the raw bytes (.bin), there is no reading */
    int64_t batch;    /* operator-only */
    int position;     /* operator-only */
    int side;         /* phieu_side */
    char back_of[PHIEU_SHEET_ID_MAX]; /* "" for a front */
    int form_index;   /* the form it is filed under: the reader's, or the one the board set
                         ("form:<id>" on a rejected page); -1 unknown */
    int status;       /* phieu_page_status as stored (after the session's checks; the
                         machine's, also when the board set the form) */
} phieu_sheet;

int phieu_session_sheet_get(phieu_session *s, const char *sheet_id, phieu_sheet *sheet,
                            phieu_reading *reading /* may be NULL */, phieu_error *err);
/* The board-directed reading of a sheet: the page read again with phieu_omr_read_as as the
 * form the board set ("form:<id>" resolved on its page exception). The machine's own
 * reading stays what phieu_session_sheet_get returns; the audit needs both. *form_index
 * (may be NULL) gets the form. PHIEU_ENOTFOUND when the board set no form for this sheet. */
int phieu_session_sheet_board_reading(phieu_session *s, const char *sheet_id, int *form_index,
                                      phieu_reading *reading, phieu_error *err);
/* All sheets, ordered by their random id (never scan order). */
int phieu_session_sheets_list(phieu_session *s, phieu_sheet **items, size_t *n,
                              phieu_error *err);

/* ---- Exceptions --------------------------------------------------------------------- */

typedef enum {
    PHIEU_EXC_OPEN = 0,     /* nobody decided yet */
    PHIEU_EXC_SECOND = 1,   /* two-person rule: one decision, waiting for another person */
    PHIEU_EXC_HEAD = 2,     /* two-person rule: the decisions disagree, the head decides */
    PHIEU_EXC_RESOLVED = 3,
} phieu_exception_state;

/* Choices a decision can carry, besides a choice key of the form ("high", "low", ...):
 *   row exception:  a choice key, or "invalid" (not valid for this person)
 *   page exception: "accept" (count the page as read: not a duplicate, not a double feed),
 *                   "invalid" (whole ballot invalid: collected, valid for nobody),
 *                   "discard" (not a ballot / a true duplicate: not counted at all),
 *                   "form:<id>" (count as form <id>: only on a front page rejected because
 *                   its form code is unreadable ("code-unreadable") or names no form of
 *                   the session ("wrong-form"), and only for a form of the session).
 * When "form:<id>" resolves the page, the page is read again from its archived image with
 * phieu_omr_read_as; that reading is stored as the sheet's board-directed reading (the
 * machine's stays), the sheet is filed under that form, its marginal rows open the usual
 * row exceptions and its decided rows count. A later decision that takes the form back
 * (the head's) removes that reading and its undecided row exceptions; it is refused once
 * a row of it was decided (PHIEU_ESTATE). */
#define PHIEU_CHOICE_INVALID "invalid"
#define PHIEU_CHOICE_ACCEPT "accept"
#define PHIEU_CHOICE_DISCARD "discard"
#define PHIEU_CHOICE_FORM_PREFIX "form:"
/* "invalid:<id>": whole ballot invalid, collected under form <id>. The decision on a front
 * page whose form is not known (its code unreadable or foreign, an unreadable file) when
 * the session has several forms: every sheet collected belongs to one form's count. With
 * one form a plain "invalid" is that form's. */
#define PHIEU_CHOICE_INVALID_FORM_PREFIX "invalid:"
/* Page exception reasons a "form:<id>" decision may answer. */
#define PHIEU_REASON_CODE_UNREADABLE "code-unreadable"
#define PHIEU_REASON_WRONG_FORM "wrong-form"
/* The resolution of a row exception whose page was resolved "discard" or "invalid": the
 * row closes with its page (and opens again if the page's decision changes). */
#define PHIEU_RESOLUTION_WITH_PAGE "with-page"
#define PHIEU_CHOICE_MAX 32
_Static_assert(sizeof PHIEU_CHOICE_FORM_PREFIX - 1 + PHIEU_FORM_ID_MAX < PHIEU_CHOICE_MAX,
               "a \"form:<id>\" decision must fit PHIEU_CHOICE_MAX with its terminator");

typedef struct phieu_exception {
    int64_t id;            /* random, > 0 */
    char sheet_id[PHIEU_SHEET_ID_MAX];
    int row;               /* 1-based row, 0 for the whole page */
    char reason[32];       /* stable code: "marginal-mark", "possible-duplicate", ... */
    char text[400];        /* words for a person */
    int state;             /* phieu_exception_state */
    char resolution[PHIEU_CHOICE_MAX]; /* the resolved choice, "" until RESOLVED */
    /* A page exception whose ink matched an earlier sheet ("possible-duplicate", alone or
     * beside other reasons): that sheet's id, so the board can compare the two; "" else. */
    char duplicate_of[PHIEU_SHEET_ID_MAX];
    int n_decisions;
    int form_index;        /* of the sheet, -1 unknown */
    int64_t batch;         /* operator-only, to find the paper */
    int position;
} phieu_exception;

enum { PHIEU_EXC_LIST_UNRESOLVED = 0, PHIEU_EXC_LIST_ALL = 1 };
/* Ordered by batch, position, row (the operator walks the paper in order). */
int phieu_session_exceptions_list(phieu_session *s, int which, phieu_exception **items,
                                  size_t *n, phieu_error *err);
int phieu_session_exception_get(phieu_session *s, int64_t id, phieu_exception *out,
                                phieu_error *err);

/* ---- Decisions and users ------------------------------------------------------------ */

enum { PHIEU_ROLE_SUPERVISOR = 0, PHIEU_ROLE_HEAD = 1 };

typedef struct phieu_user {
    char name[PHIEU_NAME_MAX];
    int role; /* PHIEU_ROLE_* */
} phieu_user;

/* A decision's note: at most PHIEU_NOTE_CHARS characters (a board member's words, in
 * Vietnamese up to 4 bytes of UTF-8 each, counted as characters, not bytes). */
#define PHIEU_NOTE_CHARS 400
#define PHIEU_NOTE_MAX (4 * PHIEU_NOTE_CHARS + 1)

typedef struct phieu_decision {
    int64_t id;             /* increasing: later decisions have larger ids */
    int64_t exception_id;
    char user[PHIEU_NAME_MAX];
    int role;
    char choice[PHIEU_CHOICE_MAX];
    char note[PHIEU_NOTE_MAX];
    char time[32];          /* UTC, ISO 8601 */
} phieu_decision;

/* A user with a password stored as argon2id (crypto_pwhash_str). PHIEU_EEXIST if taken. */
int phieu_session_user_add(phieu_session *s, const char *name, int role, const char *password,
                           const char *actor, phieu_error *err);
/* 0 and the user when the password matches; PHIEU_ENOTFOUND / PHIEU_EINVAL otherwise
 * (the same message for both, so a caller does not reveal which names exist).
 * It is phieu_session_credentials followed by phieu_credentials_check. */
int phieu_session_user_verify(phieu_session *s, const char *name, const char *password,
                              phieu_user *out, phieu_error *err);

/* What a password is checked against: the user and the stored argon2id hash, or for an
 * unknown name (known == 0) a hash nobody's password matches, so that checking costs the
 * same for both. Split from phieu_session_user_verify so that a server sharing one
 * session between threads holds its lock only for the quick lookup, not for the argon2id
 * work (about 0.1 s). */
typedef struct phieu_credentials {
    phieu_user user;
    int known;
    char hash[128]; /* crypto_pwhash_STRBYTES */
} phieu_credentials;

/* Looks up `name`. 0 with *out filled, known or not; a negative code on a database error. */
int phieu_session_credentials(phieu_session *s, const char *name, phieu_credentials *out,
                              phieu_error *err);
/* 0 when `password` matches known credentials; PHIEU_ENOTFOUND (unknown name) or
 * PHIEU_EINVAL (wrong password) with the same message otherwise. Needs no session and is
 * safe from any thread. */
int phieu_credentials_check(const phieu_credentials *c, const char *password, phieu_error *err);
int phieu_session_users_list(phieu_session *s, phieu_user **items, size_t *n,
                             phieu_error *err);

/* Records a decision by `user` on an exception and updates its state (see the contract).
 * choice: see PHIEU_CHOICE_*; PHIEU_EINVAL when it does not fit the exception. A decision
 * on a resolved exception is refused (PHIEU_ESTATE) unless the user is the head (a head's
 * later decision replaces the result); on an exception waiting for the head, only the
 * head may decide. Appends a log entry naming the exception, the user and the decision's
 * hash (not the choice: the log holds no selections). A page resolved as "form:<id>" adds
 * an entry "form-set-by-board" naming the form and how many rows went to review (never a
 * mark). *after may be NULL. */
int phieu_session_decide(phieu_session *s, int64_t exception_id, const char *user,
                         const char *choice, const char *note, phieu_exception *after,
                         phieu_error *err);
/* The decisions on one exception, oldest first. */
int phieu_session_decisions_list(phieu_session *s, int64_t exception_id,
                                 phieu_decision **items, size_t *n, phieu_error *err);

/* ---- The board's reading of a page ------------------------------------------------- */

/* A page the machine could not count (rejected: not registered, form code unreadable,
 * wrong form; blank; an unreadable file) can be read by the board from the paper: each
 * reader enters the choice of every row of the form, blind to the others' entries. An
 * entry is a decision on the page exception whose choice is "read:" and a digest of the
 * entry keyed with a secret of the session file (so that equal entries agree under the
 * two-person rule, and a choice shown to a second reader tells nothing of the first's
 * rows); the rows themselves are kept beside the decision. Two readers agreeing resolve
 * the page as a board reading; readers disagreeing (or one reading, one "invalid") send it
 * to the head, who must be a third person: a head who entered a reading of this page
 * cannot decide the disagreement (PHIEU_ESTATE). A member never enters twice (PHIEU_ESTATE,
 * as for any decision); phieu_session_decision_withdraw takes an entry back. */
#define PHIEU_CHOICE_READ_PREFIX "read:"
/* The words of an entry besides a form's choice keys: no box marked, two or more marked. */
#define PHIEU_READ_BLANK "blank"
#define PHIEU_READ_OVERVOTE "overvote"

typedef struct phieu_board_entry {
    int form_index;                  /* the form the paper is (of the session) */
    int n_rows;                      /* that form's rows */
    int value[PHIEU_FORM_MAX_ROWS];  /* a choice index, PHIEU_ROW_BLANK or PHIEU_ROW_OVERVOTE */
} phieu_board_entry;

/* Parses an entry "[FORM:]ROW=CHOICE,ROW=CHOICE,..." for the page of exception_id: every
 * row of the form exactly once, CHOICE a choice key, "blank" or "overvote". FORM may be
 * left out when the page's form is known or the session has one form. PHIEU_EINVAL, saying
 * which row is missing or wrong and what to write, otherwise. */
int phieu_session_board_entry_parse(phieu_session *s, int64_t exception_id, const char *text,
                                    phieu_board_entry *out, phieu_error *err);
/* Records `user`'s reading of the page of exception_id (a decision, see above), with the
 * same rules, log entry (a hash, never the rows) and results as phieu_session_decide. */
int phieu_session_read_by_board(phieu_session *s, int64_t exception_id, const char *user,
                                const phieu_board_entry *entry, const char *note,
                                phieu_exception *after, phieu_error *err);
/* `user`'s own latest entry on exception_id (never another reader's: the readers are
 * blind to each other). PHIEU_ENOTFOUND when that user entered none. */
int phieu_session_board_entry_own(phieu_session *s, int64_t exception_id, const char *user,
                                  phieu_board_entry *out, phieu_error *err);
/* For the head deciding a disagreement: the latest entries of the readers (up to `max`,
 * oldest first) with their user names. PHIEU_ESTATE unless the exception waits for the
 * head and `user` is a head who did not read it. */
int phieu_session_board_entries_for_head(phieu_session *s, int64_t exception_id,
                                         const char *user, phieu_board_entry *entries,
                                         char (*names)[PHIEU_NAME_MAX], int max, int *n,
                                         phieu_error *err);
/* The board's reading a sheet is counted by (its page exception resolved as one), or
 * PHIEU_ENOTFOUND. */
int phieu_session_sheet_board_entry(phieu_session *s, const char *sheet_id,
                                    phieu_board_entry *out, phieu_error *err);

/* ---- Decisions: who may decide now, taking one back, overrides (decisions.c) ---------- */

/* What a decision by a user on an exception would be now. A member never decides a case
 * twice; a disagreement needs the head, who has not decided it yet; the head changing a
 * settled case, or deciding again a disagreement they were part of, is an override: it
 * needs a note and is logged as "override" with the earlier decisions named. */
typedef enum {
    PHIEU_DECIDE_OK = 0,        /* an ordinary decision */
    PHIEU_DECIDE_OVERRIDE = 1,  /* the head's override: allowed with a note */
    PHIEU_DECIDE_AGAIN = 2,     /* refused: this member decided it already */
    PHIEU_DECIDE_HEAD_ONLY = 3, /* refused: the decisions disagree; only the head decides */
    PHIEU_DECIDE_SETTLED = 4,   /* refused: settled; only the head can change it */
} phieu_decide_kind;

/* *kind for `user` deciding the exception now (0, or a negative code: unknown user or
 * exception, database). phieu_session_decide applies the same rules (PHIEU_ESTATE). */
int phieu_session_decision_check(phieu_session *s, int64_t exception_id, const char *user,
                                 int *kind, phieu_error *err);
/* Takes back `user`'s decision on an exception while no other member has decided it (the
 * undo of the review screen): the decision is removed, the state recomputed and the log
 * gets "decision-withdrawn" naming the decision's hash. PHIEU_ESTATE once someone else
 * decided, or when the user has no decision on it. *after may be NULL. */
int phieu_session_decision_withdraw(phieu_session *s, int64_t exception_id, const char *user,
                                    phieu_exception *after, phieu_error *err);

/* One override by the head, for the minutes' technical appendix: which case, who, when,
 * the note, and the earlier decisions it replaced ("#12 lan, #13 minh"). Never a choice. */
typedef struct phieu_override {
    int64_t exception_id;
    int64_t decision_id;
    int row; /* 0 for a whole page */
    char reason[32];
    char user[PHIEU_NAME_MAX];
    char time[32];
    char note[PHIEU_NOTE_MAX];
    char earlier[512];
} phieu_override;

/* Every override, by exception id (random: unrelated to the order of scanning); one
 * phieu_malloc block, freed with phieu_free. */
int phieu_session_overrides_list(phieu_session *s, phieu_override **items, size_t *n,
                                 phieu_error *err);

/* User names: letters (Vietnamese included), digits, '.', '-', '_', under this many bytes;
 * compared case-insensitively ("Lan" is "lan"). */
#define PHIEU_USER_NAME_MAX 64
/* 0 when `name` is allowed as a new user's name; PHIEU_EINVAL saying why not. */
int phieu_user_name_check(const char *name, phieu_error *err);
/* The lower-case form two names are compared by; -1 when it does not fit or is not UTF-8. */
int phieu_user_name_fold(const char *name, char *out, size_t size);
/* The user of that name (compared case-insensitively); PHIEU_ENOTFOUND when none. */
int phieu_session_user_get(phieu_session *s, const char *name, phieu_user *out,
                           phieu_error *err);
/* Lifts the review screen's lock on a name (`phieu user unlock`): stored in the session,
 * where a running review server sees it at the name's next login; logged "user-unlocked". */
int phieu_session_user_unlock(phieu_session *s, const char *name, const char *actor,
                              phieu_error *err);
/* What the last unlock of a name left in the session ("" when never unlocked). */
int phieu_session_user_unlock_stamp(phieu_session *s, const char *name, char *out, size_t size,
                                    phieu_error *err);

/* ---- Ballots: readings with the decisions applied (the tally's and report's input) ---- */

/* A row's value in a ballot: a choice index (>= 0), PHIEU_ROW_BLANK, PHIEU_ROW_OVERVOTE,
 * or one of these. */
#define PHIEU_ROW_DECIDED_INVALID (-4) /* the board decided: not valid for this person */
#define PHIEU_ROW_PENDING (-5)         /* an unresolved exception */

typedef enum {
    PHIEU_BALLOT_VALID = 0,   /* a ballot; rows hold their values */
    PHIEU_BALLOT_INVALID = 1, /* whole ballot invalid: collected, valid for nobody */
    PHIEU_BALLOT_PENDING = 2, /* the page itself awaits a decision */
} phieu_ballot_state;

typedef struct phieu_ballot {
    char sheet_id[PHIEU_SHEET_ID_MAX];
    char sha256[PHIEU_SHA256_HEX];
    int form_index; /* -1: a page whose form is not known (pending or invalid) */
    int state;      /* phieu_ballot_state */
    int n_rows;
    int value[PHIEU_FORM_MAX_ROWS];   /* see above */
    int decided[PHIEU_FORM_MAX_ROWS]; /* 1 when the value comes from a board decision */
    int by_board;   /* 1: counted by the board's reading of the paper, not the machine's */
} phieu_ballot;

/* What decides a ballot: the sheet's reading, its exceptions and the board's decisions on
 * them. The session builds it from its tables, `phieu verify` from an export's records;
 * both pass it to phieu_ballot_resolve, the one place the rule lives, so the session's
 * totals and an auditor's recomputation cannot disagree on what is pending. */
typedef struct phieu_ballot_exception {
    int present;   /* 1: this page (or row) went to the board */
    int open;      /* 1: not resolved yet (open, waiting for a second person or the head) */
    char reason[32]; /* the exception's code: "marginal-mark", "possible-duplicate", ... */
    char resolution[PHIEU_CHOICE_MAX]; /* the board's choice once resolved */
} phieu_ballot_exception;

typedef struct phieu_ballot_source {
    int form_index;  /* the form the sheet is filed under, -1 unknown */
    int has_reading; /* 0: an unreadable file (no reading) */
    int read_form;   /* the form the reading identified, -1 none */
    int board_form;  /* the form the board set ("form:<id>"), -1 none; machine[] and
                        read_form are then those of the reading as that form */
    int by_board;    /* 1: the page was resolved as the board's reading ("read:"), whose
                        form is form_index and whose rows are by_board_value[] */
    int by_board_value[PHIEU_FORM_MAX_ROWS];
    int n_rows;      /* rows in machine[] */
    int machine[PHIEU_FORM_MAX_ROWS]; /* the reader's decision for row i + 1 */
    phieu_ballot_exception page;      /* the page-level exception (row 0) */
    phieu_ballot_exception row[PHIEU_FORM_MAX_ROWS]; /* row[i]: the exception of row i + 1 */
} phieu_ballot_source;

/* Applies the rule to one sheet. form is the form of src->form_index, or NULL. Fills out's
 * form_index, state, n_rows, value[] and decided[] (not sheet_id, sha256). Returns 1 for a
 * ballot, 0 for a page the board discarded (not a ballot, not counted at all).
 * Notes (the rule):
 *  1. A page exception (rejected page, possible duplicate or rescan, double feed, back not
 *     blank, unreadable file, not registered, ...) that is still open makes the whole
 *     ballot pending: every row PHIEU_ROW_PENDING. Decided, the board's choice applies:
 *     "discard" -> not a ballot, "invalid" -> whole ballot invalid, "accept" -> counted as
 *     read, "form:<id>" -> counted as read as form <id> when src holds that reading
 *     (board_form == form_index == read_form, form->id == <id>), pending otherwise. A
 *     page resolved with any other word stays pending.
 *  2. A ballot with no form, no reading, or a reading of another form than it is filed
 *     under is invalid when the board accepted the page, pending when nobody decided.
 *  3. Otherwise each row holds the reader's decision, except a row with its own exception
 *     (a marginal mark in row N, an overvote to confirm): PHIEU_ROW_PENDING while open,
 *     the board's choice once decided ("invalid" -> PHIEU_ROW_DECIDED_INVALID). Only that
 *     row waits; the page's other rows count as read.
 *  4. A row read as review with no exception, or decided with a word that is neither a
 *     choice of the form nor "invalid", is PHIEU_ROW_PENDING: the machine never guesses.
 *  5. A page resolved as the board's reading ("read:...") is a valid ballot of that
 *     reading's form (src->by_board, form_index) whatever the machine read: every row
 *     holds the board's value (a choice, blank or overvote) and counts as decided, and
 *     out->by_board is 1. Without the reading in src it is pending.
 *  6. A page decided "invalid:<id>" is whole ballot invalid when form is form <id> (the
 *     caller files it under phieu_ballot_collected_form), pending otherwise. */
int phieu_ballot_resolve(const phieu_form *form, const phieu_ballot_source *src,
                         phieu_ballot *out);

/* The form a ballot of no known form was collected under, by the board's page decision
 * `resolution`: the form "invalid:<id>" names, or the only form for a plain "invalid";
 * -1 otherwise (not an invalid decision, or several forms and none named). The session
 * and `phieu verify` file such a ballot under that form with this one rule. */
int phieu_ballot_collected_form(const char *resolution, const phieu_form *const *forms,
                                int n_forms);

/* Every ballot (front sides not discarded), ordered by sheet id (not scan order). */
int phieu_session_ballots(phieu_session *s, phieu_ballot **items, size_t *n, phieu_error *err);

/* ---- Progress ----------------------------------------------------------------------- */

typedef struct phieu_form_progress {
    int sheets;   /* ballots of this form (fronts, not discarded) */
    int counted;  /* ballots with every row settled */
    int invalid;  /* whole ballots invalid */
    int pending;  /* ballots waiting on an exception */
} phieu_form_progress;

typedef struct phieu_session_progress {
    int pages;            /* every archived page: fronts, backs, unreadable files */
    int sheets;           /* front sides */
    int backs;
    int discarded;        /* decided "discard" (duplicates, not ballots) */
    int unknown_form;     /* fronts whose form is not known and not decided */
    int exceptions_open;  /* not resolved */
    int exceptions_total;
    phieu_form_progress forms[PHIEU_SESSION_MAX_FORMS]; /* forms[i] of info->forms[i] */
} phieu_session_progress;

int phieu_session_progress_get(phieu_session *s, phieu_session_progress *out,
                               phieu_error *err);

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
