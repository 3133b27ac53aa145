/*
 * tally.h - the law's arithmetic: rule sets (NQ 96 default, NQ 85) as data, results per
 * form and per person, percentages and the threshold band reached.
 *
 * Contract:
 *  - Integer arithmetic only. A percentage is an integer in hundredths of a percent,
 *    rounded half up (18750/481 -> 3888 = "38,88%"); every band is decided by integer
 *    comparisons (2L > T, 3L >= 2T), never by a floating-point percentage.
 *  - phieu_tally_compute is a pure function of its input: the report and `phieu verify`
 *    feed it ballots rebuilt from an export and get the same figures as the session.
 *  - Pending ballots and rows (open exceptions) are counted apart, never silently counted
 *    or dropped; while anything is pending the result is provisional.
 *  - A phieu_tally is one heap block (phieu_tally_destroy); it points into the forms of
 *    its input, which must outlive it. Thread safety: pure functions, reentrant.
 */
#ifndef PHIEU_TALLY_H
#define PHIEU_TALLY_H

#include <stddef.h>

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/decisions.h"
#include "phieu/session.h"
#include "phieu/util.h"

typedef enum {
    PHIEU_BASE_COLLECTED = 0, /* NQ 96 art. 19(3): ballots collected */
    PHIEU_BASE_DELEGATES = 1, /* NQ 85: all delegates of the council */
} phieu_tally_base;

typedef enum {
    PHIEU_BAND_NONE = 0,
    PHIEU_BAND_MAY_RESIGN_OR_VOTE = 1, /* rating, NQ 96: 2L > T and 3L < 2T */
    PHIEU_BAND_MAY_RESIGN = 2,         /* rating, NQ 85: 2L > T and 3L < 2T */
    PHIEU_BAND_DISMISSAL = 3,          /* rating NQ 96: 3L >= 2T; confidence: 2L > T */
    PHIEU_BAND_VOTE_OF_CONFIDENCE = 4, /* rating NQ 85: 3L >= 2T */
} phieu_band;

typedef struct phieu_rule_set {
    const char *name;     /* "nq96", "nq85" */
    const char *title_vi; /* "Nghị quyết số 96/2023/QH15" */
    const char *title_en;
    int base;             /* phieu_tally_base: percentages and thresholds */
    int half_band;        /* rating: more than half, less than two thirds low */
    int two_thirds_band;  /* rating: two thirds or more low */
    int confidence_band;  /* vote of confidence: more than half distrust */
} phieu_rule_set;

/* "nq96" or "nq85" (NULL: nq96); NULL for an unknown name. */
const phieu_rule_set *phieu_rules_find(const char *name);

/* count / base in hundredths of a percent, rounded half up; -1 when base <= 0. */
int phieu_percent_hundredths(long long count, long long base);
#define PHIEU_PERCENT_TEXT_MAX 16
/* "38,88%" (decimal comma, two decimals); "—" for -1. */
void phieu_percent_text(int hundredths, char out[PHIEU_PERCENT_TEXT_MAX]);
/* The band a person reaches with `low` low (or distrust) marks against base T. */
int phieu_tally_band(const phieu_rule_set *rules, phieu_form_kind kind, long long low,
                     long long base);
/* The band's consequence in words; lang "vi" or "en". "" for PHIEU_BAND_NONE. */
const char *phieu_band_text(int band, const char *lang);
/* A stable name for JSON: "none", "may-resign-or-vote", "may-resign", "dismissal",
 * "vote-of-confidence". */
const char *phieu_band_name(int band);

typedef struct phieu_tally_input {
    const phieu_rule_set *rules;
    int delegates;
    int n_forms;
    const phieu_form *const *forms;
    const phieu_board_counts *counts; /* counts[i] of forms[i] */
    const phieu_ballot *ballots;
    size_t n_ballots;
} phieu_tally_input;

typedef struct phieu_tally_person {
    int number;       /* STT */
    const char *name; /* into the form */
    const char *post;
    int valid;        /* rows with exactly one choice (read or decided) */
    int not_valid;    /* blank + overvote + invalid_ballot + decided_invalid */
    int blank, overvote, invalid_ballot, decided_invalid;
    int pending;      /* rows or whole ballots awaiting a decision */
    int count[PHIEU_FORM_MAX_CHOICES];
    int percent[PHIEU_FORM_MAX_CHOICES]; /* hundredths of the base, -1 when no base */
    int low_choice;   /* the index of "low" / "distrust" */
    int band;         /* phieu_band */
} phieu_tally_person;

typedef struct phieu_tally_form {
    const phieu_form *form;
    phieu_board_counts counts; /* the board's counts as entered */
    int base;          /* the figure percentages are taken of */
    int base_estimated; /* 1: NQ 96 but collected not entered, ballots read used instead */
    int ballots;       /* ballots of this form in the session */
    int invalid_ballots;
    int pending_ballots;
    int board_read;    /* ballots counted by the board's reading of the paper (by_board) */
    int n_persons;
    phieu_tally_person persons[PHIEU_FORM_MAX_ROWS];
} phieu_tally_form;

typedef struct phieu_tally {
    const phieu_rule_set *rules;
    int delegates;
    int n_forms;
    phieu_tally_form forms[PHIEU_SESSION_MAX_FORMS];
    int unknown_form_pending; /* pages whose form is not known yet */
    int unknown_form_invalid; /* pages decided whole-ballot invalid without a form */
    int pending_rows;         /* rows of valid ballots that await a decision */
    int provisional;          /* 1 while anything is pending */
} phieu_tally;

int phieu_tally_compute(const phieu_tally_input *in, phieu_tally **out, phieu_error *err);
/* The session's ballots, counts and rule set through phieu_tally_compute. */
int phieu_tally_from_session(phieu_session *s, phieu_tally **out, phieu_error *err);
void phieu_tally_destroy(phieu_tally **t);

/* Reconciliation: sheets read against the ballots the board counted as collected. The
 * one rule `phieu status`, `phieu report` and `verify` share:
 *  - a form's ballots read are its ballots in the session (counted, pending or invalid as
 *    a whole, including sheets of no known form the board decided invalid under that
 *    form); pages the board discarded are not read;
 *  - each form is compared alone: read must equal collected. Totals over all forms are
 *    never enough (two foreign sheets must not make up for two missing ones);
 *  - a whole ballot invalid that names no form (a decision made before "invalid:<id>"
 *    existed, several forms) belongs to no form's count: it fails the reconciliation
 *    until the head decides it again naming the form. */
typedef struct phieu_reconcile_form {
    int entered;    /* the board entered its counts for this form */
    int read;       /* ballots read */
    int collected;  /* as the board counted them, 0 when not entered */
    int difference; /* read - collected; 0 when not entered */
    int checked;    /* 1: this form's difference is a finding (counts entered) */
} phieu_reconcile_form;

typedef struct phieu_reconciliation {
    int n_forms;
    phieu_reconcile_form forms[PHIEU_SESSION_MAX_FORMS];
    int unknown_form;     /* whole ballots invalid that name no form */
    int all_entered;
    int read_total;       /* every form's ballots read plus unknown_form */
    int collected_total;  /* the board's collected counts, over every form */
    int reconciled;       /* 1: every count entered, no difference, no unknown_form */
} phieu_reconciliation;

void phieu_tally_reconcile(const phieu_tally *t, phieu_reconciliation *out);

/* Readiness: what still stands between the count and a final report. The one rule that
 * `phieu status` (its exit status and its list), `phieu report` (which refuses a final
 * report while anything is listed), `phieu verify` and the review screen's totals share:
 *  - an exception not resolved; a row of a counted ballot that awaits a decision; a page
 *    whose form is not known;
 *  - per form: ballots pending; the board's counts not entered; ballots read that differ
 *    from ballots collected (phieu_tally_reconcile);
 *  - whole ballots invalid that name no form. */
typedef enum {
    PHIEU_BLOCK_EXCEPTIONS_OPEN = 0, /* count: exceptions not resolved */
    PHIEU_BLOCK_PENDING_ROWS = 1,    /* count: rows of counted ballots awaiting a decision */
    PHIEU_BLOCK_UNKNOWN_FORM = 2,    /* count: pages whose form is not known yet */
    PHIEU_BLOCK_PENDING_BALLOTS = 3, /* form, count: ballots pending */
    PHIEU_BLOCK_COUNTS_MISSING = 4,  /* form: the board's counts are not entered */
    PHIEU_BLOCK_SHEETS_MISSING = 5,  /* form, read < collected */
    PHIEU_BLOCK_SHEETS_EXTRA = 6,    /* form, read > collected */
    PHIEU_BLOCK_INVALID_NO_FORM = 7, /* count: whole ballots invalid that name no form */
} phieu_blocker_kind;

typedef struct phieu_blocker {
    int kind;      /* phieu_blocker_kind */
    int form;      /* index into t->forms, -1 for the session as a whole */
    int count;
    int read;      /* SHEETS_MISSING, SHEETS_EXTRA: ballots read and collected */
    int collected;
} phieu_blocker;

/* At most three for the session, two per form, one for ballots of no form. */
#define PHIEU_TALLY_MAX_BLOCKERS (4 + 2 * PHIEU_SESSION_MAX_FORMS)

/* Fills out[] (may be NULL) with what blocks a final report, the session's first, then
 * form by form; returns how many (0: ready). exceptions_open: the session's (or the
 * export's) exceptions not resolved. */
int phieu_tally_blockers(const phieu_tally *t, int exceptions_open,
                         phieu_blocker out[PHIEU_TALLY_MAX_BLOCKERS]);
/* A stable name for JSON: "exceptions-open", "pending-rows", "unknown-form",
 * "pending-ballots", "counts-missing", "sheets-missing", "sheets-extra", "invalid-no-form". */
const char *phieu_blocker_name(int kind);
/* One blocker in words for the board: what is wrong and what to do about it. */
void phieu_tally_blocker_text(const phieu_tally *t, const phieu_blocker *b, phieu_buf *out);
/* phieu_tally_blockers as a list, one "  - <text>" line each, appended to list (may be
 * NULL); returns how many. */
int phieu_tally_blockers_list(const phieu_tally *t, int exceptions_open, phieu_buf *list);

/* The tally as JSON (jansson), the one serialiser of its figures (src/tally/tally_json.c).
 * Each returns a new reference (json_decref), NULL when out of memory. */
struct json_t;
/* The `phieu tally --json` object (docs/session.md), which the review screen's totals
 * serve too: rules, base, delegates, provisional, unknown_form_pending/_invalid, forms. */
struct json_t *phieu_tally_json(const phieu_tally *t);
/* The tally's part of a report's results.json (docs/results-schema.md): an object with
 * "unknown_form", "provisional" and "forms", in that order, for the report to add to its
 * own fields. */
struct json_t *phieu_tally_results_json(const phieu_tally *t);
/* The result as a text table for the terminal, lang "vi" or "en". */
void phieu_tally_text(const phieu_tally *t, const char *lang, phieu_buf *out);

#endif
