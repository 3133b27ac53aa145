/*
 * decisions.h - what the board decides and what it comes to: the exception queue, the
 * board's decisions under the two-person rule, the board's reading of a page the machine
 * could not count, and the ballots (readings with the decisions applied) with the
 * session's progress.
 *
 * Contract:
 *  - Decisions override readings. An exception is resolved by its decisions: without the
 *    two-person rule, by the latest decision; with it (the default for official
 *    sessions), when two different users' latest decisions agree; when they disagree it
 *    waits for the head of the board, whose decision is then final.
 *  - Every decision is audited (audit.h) by the exception, the user and a hash of the
 *    decision, never its choice: the log holds no selection.
 *  - phieu_ballot_resolve is the one place the rule of what a ballot counts as lives; the
 *    session and `phieu verify` both apply it.
 *  - Errors, ownership and threads as in session.h.
 *
 * Implemented in src/session/exceptions.c (the queue, recording and resolving decisions),
 * decisions.c (who may decide now, withdrawing, overrides), board_read.c (the board's
 * reading) and ballots.c (ballots and progress).
 */
#ifndef PHIEU_DECISIONS_H
#define PHIEU_DECISIONS_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/session.h"
#include "phieu/util.h"

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

/* ---- Decisions ---------------------------------------------------------------------- */


/* A decision's note: at most PHIEU_NOTE_CHARS characters (a board member's words, in
 * Vietnamese up to 4 bytes of UTF-8 each, counted as characters, not bytes). */
#define PHIEU_NOTE_CHARS 400
#define PHIEU_NOTE_MAX (4 * PHIEU_NOTE_CHARS + 1)

typedef struct phieu_decision {
    int64_t id;             /* increasing: later decisions have larger ids */
    int64_t exception_id;
    char user[PHIEU_NAME_MAX];
    int role;               /* PHIEU_ROLE_* (accounts.h) */
    char choice[PHIEU_CHOICE_MAX];
    char note[PHIEU_NOTE_MAX];
    char time[32];          /* UTC, ISO 8601 */
} phieu_decision;

/* Records a decision by `user` on an exception and updates its state (see the contract).
 * choice: see PHIEU_CHOICE_*; PHIEU_EINVAL when it does not fit the exception. A decision
 * on a resolved exception is refused (PHIEU_ESTATE) unless the user is the head (a head's
 * later decision replaces the result); on an exception waiting for the head, only the
 * head may decide. Appends a log entry naming the exception, the user and the decision's
 * hash (not the choice: the log holds no selections). A page resolved as "form:<id>" adds
 * an entry "form-set-by-board" naming the form and how many rows went to review (never a
 * mark). A "form:<id>" decision on a page that looks like an earlier sheet of that form is
 * refused (PHIEU_EEXIST, see phieu_session_decide_confirm). *after may be NULL. */
int phieu_session_decide(phieu_session *s, int64_t exception_id, const char *user,
                         const char *choice, const char *note, phieu_exception *after,
                         phieu_error *err);

/* The earlier sheet a page decided "form:<id>" looks like: the same paper fed again? */
typedef struct phieu_form_twin {
    char sheet_id[PHIEU_SHEET_ID_MAX]; /* "" when the page looks like no earlier sheet */
    int64_t batch;                     /* where that sheet's paper is (operator-only) */
    int position;
    double similarity;                 /* as for a possible duplicate, 0..1 */
} phieu_form_twin;

/* phieu_session_decide, with the board's answer to the rescan check of "form:<id>".
 * A page rejected for its form code (code-unreadable, wrong-form) was never compared with
 * the sheets already read, having no form; it may be a ballot already counted, fed again
 * (a rescan whose code happened not to read). So a "form:<id>" decision reads the page as
 * that form and compares it with the earlier front sheets of that form exactly as a new
 * page is (the ink grids, the strokes for a page of little ink; never with itself). If it
 * looks like one of them and not_duplicate is 0, nothing is recorded: PHIEU_EEXIST, the
 * message names that sheet by batch and position and says what to do, and *twin (may be
 * NULL) is filled. not_duplicate 1 is the member's word that both papers were found and
 * are two ballots: the decision is recorded, and its log entry says the member confirmed
 * the page is not a duplicate of that sheet (named by id and similarity, never a mark).
 * Under the two-person rule each member's "form:<id>" is checked and confirmed alone.
 * Other choices, and pages that look like no earlier sheet, ignore not_duplicate (*twin's
 * sheet_id is then ""). */
int phieu_session_decide_confirm(phieu_session *s, int64_t exception_id, const char *user,
                                 const char *choice, const char *note, int not_duplicate,
                                 phieu_form_twin *twin, phieu_exception *after,
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

#endif
