/*
 * report.h - the certified totals: the board's key pair, the export folder (minutes.pdf,
 * results.json/csv, ballots.jsonl, images/, forms/, manifest.json, manifest.sig) and
 * `verify`, which re-reads and re-tallies an export with nothing but the folder.
 *
 * Contract:
 *  - phieu_report_data is everything an export holds, in memory. It is built from a
 *    session (phieu_report_data_from_session) or from an export folder (verify), and is
 *    freed with phieu_report_data_destroy(&d). It owns every string and array in it; its
 *    forms are owned too (copies re-parsed from the form texts).
 *  - Secrecy: ballots carry fresh random ids (libsodium) and are written sorted by them,
 *    so the order in ballots.jsonl is unrelated to scan order; no record holds a time,
 *    a batch, a position, a sheet id of the session or a user name.
 *  - What the manifest covers (docs/report.md): manifest.json lists the SHA-256 of every
 *    file of the export except minutes.pdf, manifest.json and manifest.sig, plus the hash
 *    of every ballot record. The fingerprint printed on every page of the minutes is the
 *    SHA-256 of manifest.json. manifest.sig holds two detached Ed25519 signatures: one over
 *    the bytes of manifest.json, one over the bytes of minutes.pdf (which carries the
 *    fingerprint in its metadata), so the minutes are bound to the evidence.
 *  - Verification never stops at the first problem: it lists every discrepancy found,
 *    each naming the file, the ballot and the figure.
 *  - The library never prints. Thread safety: pango's font map is per thread; the rest is
 *    reentrant.
 */
#ifndef PHIEU_REPORT_H
#define PHIEU_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/omr.h"
#include "phieu/decisions.h"
#include "phieu/session.h"
#include "phieu/tally.h"
#include "phieu/util.h"

/* ---- The board's key pair (Ed25519, libsodium) ------------------------------------- */

#define PHIEU_KEY_PUBLIC_BYTES 32
#define PHIEU_KEY_SECRET_BYTES 64 /* libsodium's form: seed || public key */
#define PHIEU_KEY_SIGNATURE_BYTES 64
#define PHIEU_KEY_PUBLIC_HEX (2 * PHIEU_KEY_PUBLIC_BYTES + 1)

typedef struct phieu_key {
    uint8_t public_key[PHIEU_KEY_PUBLIC_BYTES];
    uint8_t secret_key[PHIEU_KEY_SECRET_BYTES]; /* zero when has_secret is 0 */
    int has_secret;
} phieu_key;

/* Creates a new key pair: the secret key in `path` (mode 0600) and the public key in
 * "<path>.pub" (0644). Never overwrites: PHIEU_EEXIST when either exists. *out may be NULL;
 * wipe it with phieu_key_wipe. */
int phieu_key_generate(const char *path, phieu_key *out, phieu_error *err);
/* Reads a secret or a public key file (told apart by their header line). */
int phieu_key_load(const char *path, phieu_key *out, phieu_error *err);
int phieu_key_parse(const char *text, size_t len, const char *name, phieu_key *out,
                    phieu_error *err);
void phieu_key_wipe(phieu_key *key);
void phieu_key_public_hex(const phieu_key *key, char out[PHIEU_KEY_PUBLIC_HEX]);
/* A detached signature over data; PHIEU_EINVAL without a secret key. */
int phieu_key_sign(const phieu_key *key, const void *data, size_t len,
                   uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES], phieu_error *err);
/* 1 when sig is public_key's signature over data, else 0. */
int phieu_key_check(const uint8_t public_key[PHIEU_KEY_PUBLIC_BYTES], const void *data,
                    size_t len, const uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES]);

/* ---- What an export holds ---------------------------------------------------------- */

#define PHIEU_REPORT_ID_HEX 33 /* 32 hex digits of 128 random bits, and the NUL */
#define PHIEU_REPORT_NOTE_MAX PHIEU_NOTE_MAX /* a decision's whole note (400 characters) */

/* One row of one ballot side. */
typedef struct phieu_report_row {
    int machine;   /* the reader's decision: a choice index or PHIEU_ROW_BLANK/OVERVOTE/REVIEW */
    float score[PHIEU_FORM_MAX_CHOICES]; /* box scores as read */
    int value;     /* after the board's decisions: as phieu_ballot.value */
    int decided;   /* 1 when the board decided this row */
    int open;      /* 1 when this row's exception still awaits the board */
    char decision[PHIEU_CHOICE_MAX]; /* the board's choice: a choice key or "invalid" */
    char reason[32];                 /* why it came to the board: the exception's code,
                                        decided or open ("" when it did not) */
    char note[PHIEU_REPORT_NOTE_MAX]; /* the deciding supervisor's note, may be "" */
    int board_read; /* by_board: the board's reading of this row (a choice index,
                       PHIEU_ROW_BLANK or PHIEU_ROW_OVERVOTE) */
} phieu_report_row;

/* One ballot side. */
typedef struct phieu_report_ballot {
    char id[PHIEU_REPORT_ID_HEX];   /* random, fresh for every export */
    char sha256[PHIEU_SHA256_HEX];  /* of the archived image file */
    int unreadable;                 /* the image is raw bytes (".bin"): no reading */
    int image_tiff;                 /* the image is a TIFF kept as received (".tif") */
    int page_status;                /* the reader's page status (phieu_page_status) */
    int read_form;                  /* the form the reader identified, -1 none */
    int state;                      /* phieu_ballot_state after the board's decisions */
    int form_index;                 /* the form it counts for, -1 none */
    int page_decided;               /* the board decided the page */
    int page_open;                  /* the page's exception still awaits the board */
    char page_decision[PHIEU_CHOICE_MAX]; /* "accept", "invalid" or "form:<id>" */
    /* The board set the form ("form:<id>" on a page whose code was unreadable or foreign):
     * the page was read again as board_form, and rows[].machine and .score hold that
     * reading (board_status its page status); page_status and read_form stay the
     * machine's own reading. */
    int board_set;
    int board_form;
    int board_status;
    char page_reason[32];
    char page_note[PHIEU_REPORT_NOTE_MAX];
    /* Counted by the board's reading of the paper (page decision "read"), not the machine's:
     * rows[].board_read hold it; the image is not read again by verify. */
    int by_board;
    int n_rows;
    phieu_report_row rows[PHIEU_FORM_MAX_ROWS];
    char *image_path;               /* where to copy the image from (owned), may be NULL */
} phieu_report_ballot;

/* The words of the minutes (docs/report.md, "Wording"): every text that is not a figure or
 * a name, read from a wording file such as forms/minutes/vi.minutes, the program's own,
 * which is built in. Opaque; immutable once read, so several reports may share one. */
typedef struct phieu_wording phieu_wording;

/* Reads the wording file at path; NULL: the built-in wording. PHIEU_EIO when the file
 * cannot be read, PHIEU_EFORMAT naming the file, the line and what to do when a key is
 * missing, unknown or repeated, or a text uses a {name} its key does not have. */
int phieu_wording_load(const char *path, phieu_wording **out, phieu_error *err);
/* The same from text in memory; `file` names it in messages. */
int phieu_wording_parse(const char *data, size_t len, const char *file, phieu_wording **out,
                        phieu_error *err);
void phieu_wording_destroy(phieu_wording **w);

typedef struct phieu_report_data {
    char *council, *session_name, *date, *place;
    /* When the count began and the minutes were closed, "HH:MM" as the board entered them
     * (phieu_session_set_times), "" when not: the minutes then keep a blank to fill. */
    char opened[PHIEU_SESSION_TIME_MAX], closed[PHIEU_SESSION_TIME_MAX];
    int delegates;
    int test;
    const phieu_rule_set *rules;
    phieu_thresholds thresholds;
    int n_forms;
    phieu_form *forms[PHIEU_SESSION_MAX_FORMS];    /* owned */
    phieu_board_counts counts[PHIEU_SESSION_MAX_FORMS];
    char *board_head, *board_secretary;
    int n_members;
    char **board_members;
    int exceptions_total, exceptions_resolved, exceptions_open;
    char log_head[PHIEU_SHA256_HEX]; /* the session's audit log head, "" if unknown */
    size_t n_ballots;
    phieu_report_ballot *ballots;    /* sorted by id */
    size_t n_overrides;              /* the head's overrides, for the minutes' appendix */
    phieu_override *overrides;       /* phieu_session_overrides_list; owned */
    /* How the minutes are worded; not owned, not exported. NULL: the built-in wording. */
    const phieu_wording *wording;
} phieu_report_data;

/* Builds the data from a session: ballots, their readings, the board's decisions, fresh
 * random ids. */
int phieu_report_data_from_session(phieu_session *s, phieu_report_data **out,
                                   phieu_error *err);
void phieu_report_data_destroy(phieu_report_data **d);
/* Gives every ballot a fresh random id and sorts the ballots by it. */
void phieu_report_shuffle(phieu_report_data *d);
/* The ballots in the form phieu_tally_compute takes (caller frees with phieu_free), and
 * the tally of the data. */
int phieu_report_tally(const phieu_report_data *d, phieu_tally **out, phieu_error *err);

/* ---- Writing an export --------------------------------------------------------------- */

typedef struct phieu_report_options {
    const phieu_key *key; /* the board's secret key; NULL: no manifest.sig */
    int draft;            /* "BẢN NHÁP / DRAFT" on every page; blockers (phieu_tally_blockers)
                             do not stop it */
} phieu_report_options;

typedef struct phieu_report_summary {
    char fingerprint[PHIEU_SHA256_HEX]; /* SHA-256 of manifest.json */
    int pages;                          /* of minutes.pdf */
    size_t ballots;
    int blockers;
    int signed_;                        /* 1 when manifest.sig was written */
} phieu_report_summary;

/* Writes the export into out_dir (created; must be empty or absent). Without draft, any
 * blocker (phieu_tally_blockers) refuses with PHIEU_ESTATE, the count in err and in
 * summary->blockers; phieu_tally_blockers_list words them. */
int phieu_report_write(const phieu_report_data *d, const char *out_dir,
                       const phieu_report_options *opt, phieu_report_summary *summary,
                       phieu_error *err);

/* The minutes alone: A4 PDF in Vietnamese from the data and its tally; `fingerprint` is
 * printed on every page and stored in the PDF's metadata; public_key_hex may be NULL
 * (unsigned). *pages receives the page count (may be NULL). */
int phieu_report_minutes_pdf(const phieu_report_data *d, const phieu_tally *t,
                             const char *fingerprint, const char *public_key_hex, int draft,
                             const char *path, int *pages, phieu_error *err);

/* results.json, results.csv and one ballots.jsonl line (no newline) into out. */
void phieu_report_results_json(const phieu_report_data *d, const phieu_tally *t, int draft,
                               phieu_buf *out);
void phieu_report_results_csv(const phieu_report_data *d, const phieu_tally *t,
                              phieu_buf *out);
void phieu_report_ballot_json(const phieu_report_data *d, const phieu_report_ballot *b,
                              phieu_buf *out);
/* Parses one ballots.jsonl line (inverse of phieu_report_ballot_json); `where` is used in
 * messages ("ballots.jsonl:12"). */
int phieu_report_ballot_parse(const phieu_report_data *d, const char *line, size_t len,
                              const char *where, phieu_report_ballot *out, phieu_error *err);

/* ---- Verification -------------------------------------------------------------------- */

typedef struct phieu_verify_result {
    int ok;                /* 1 when nothing was found wrong */
    int n_problems;
    phieu_buf problems;    /* one line per discrepancy: "file: ballot ...: figure ..." */
    size_t ballots;        /* ballot records checked */
    size_t images_reread;
    int draft;             /* the export says it is a draft */
    int pending;           /* rows or ballots still pending in a draft */
    char fingerprint[PHIEU_SHA256_HEX];
    char signer[PHIEU_KEY_PUBLIC_HEX]; /* the public key the signatures were checked with */
} phieu_verify_result;

/* Verifies an export folder: signatures (with `trusted` when given, else the key recorded
 * in manifest.sig), every hash, every image re-read with the recorded forms and
 * thresholds, the board's decisions applied, every total recomputed and compared with
 * results.json. Returns 0 after a completed check (look at result->ok), or a negative code
 * when the check itself could not run (no such folder, out of memory). Release the
 * result with phieu_verify_result_release. */
int phieu_verify(const char *dir, const phieu_key *trusted, phieu_verify_result *result,
                 phieu_error *err);
void phieu_verify_result_release(phieu_verify_result *result);

#endif
