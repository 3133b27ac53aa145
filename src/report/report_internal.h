/*
 * report_internal.h - what the files of src/report/ share and nobody else needs: the
 * value names of ballot records, the results tree (export.c builds it, verify.c compares
 * it), the signature file's header line.
 */
#ifndef PHIEU_REPORT_INTERNAL_H
#define PHIEU_REPORT_INTERNAL_H

#include <jansson.h>

#include "phieu/report.h"

/* The first line of manifest.sig (docs/report.md). */
#define REPORT_SIG_HEADER "phieu signature v1 ed25519"
/* The PDF's Keywords metadata carries the fingerprint after this prefix. */
#define REPORT_PDF_FINGERPRINT_PREFIX "phieu-manifest-sha256:"
/* ... and the public key it was signed with after this one (absent when unsigned). */
#define REPORT_PDF_KEY_PREFIX "phieu-public-key:"

/* The page decision of a ballot counted by the board's reading, in a ballot record. */
#define REPORT_DECISION_READ "read"

int report_score_units(float score);
const char *report_value_name(const phieu_form *form, int value);
int report_value_parse(const phieu_form *form, const char *name, int *value);
void report_image_name(const phieu_report_ballot *b, char *out, size_t size);
json_t *report_results_tree(const phieu_report_data *d, const phieu_tally *t, int draft);

/* ---- The words of the minutes (wording.c reads them; minutes.c lays them out) -------- */

/* Fixed texts, from a wording file (forms/minutes/vi.minutes). A text with arguments is a
 * printf format of positional conversions ("%2$s"), which minutes.c fills with the
 * arguments its comment gives, in that order (wording.c's key table says the same). */
typedef struct minutes_texts {
    const char *nation, *motto;  /* quốc hiệu and tiêu ngữ */
    const char *issuer;          /* under the council, bold: "BAN KIỂM PHIẾU" */
    const char *number;          /* "Số: ..../BB-BKP" */
    const char *date_line;       /* place, day, month, year */
    const char *title;
    const char *subject_mixed;   /* both kinds in one session: council */
    const char *blank;           /* a blank to fill by hand */
    const char *opening;         /* hour, minute, day, month, year, place, session,
                                    council; ends with the board's introduction */
    const char *board_line;      /* number, name, role */
    const char *role_head, *role_secretary, *role_member, *not_entered;
    const char *after_board;     /* the rule set's title */
    const char *delegates;       /* delegates (%d), present (%s) */
    const char *issued;          /* issued (%s), collected (%s) */
    const char *valid;           /* valid, invalid (whole ballots) */
    const char *spoiled, *pending;
    const char *board_read;      /* ballots counted by the board's reading of the paper */
    const char *difference;      /* collected, read */
    const char *results_intro;   /* the percentages' base words */
    const char *col_number, *col_name, *col_post, *col_valid;
    const char *col_level;       /* the level's label */
    const char *col_pending;
    const char *consequences_intro;
    const char *person_band;     /* name, post, count, low words, percent, base words */
    const char *base_collected, *base_delegates;
    const char *exceptions;      /* decided exceptions */
    const char *complaints, *copies;
    const char *closed;          /* hour, minute the minutes were closed */
    const char *closed_blank;    /* the blank for each when not entered */
    const char *sign_for, *sign_head, *sign_secretary, *sign_member, *sign_hint;
    const char *draft_mark, *draft_line;
    const char *draft_difference; /* form title, collected, read */
    const char *test_session;
    const char *appendix_title, *appendix_intro;
    const char *fingerprint, *public_key, *unsigned_;
    const char *rules;           /* rule set title, base words */
    const char *form_line;       /* title, id, fingerprint */
    const char *thresholds;      /* marked, marginal, ink */
    const char *exceptions_detail; /* total, decided, open */
    const char *overrides_title;
    const char *override_line;   /* n, case, reason, where, user, earlier, time, note */
    const char *override_row, *override_page; /* "where": row number, whole page */
    const char *program;         /* version */
    const char *how_to_verify;
    const char *page_footer;     /* fingerprint */
    const char *page_count;      /* page, pages */
} minutes_texts;

/* The template of one ballot kind. */
typedef struct minutes_kind_texts {
    const char *subject;   /* the council */
    const char *low_words; /* what the low level's marks are called in a sentence */
    const char *none;      /* the sentence when nobody reaches a band */
} minutes_kind_texts;

/* A wording: the texts, one template per ballot kind and the consequence of each band as a
 * full sentence (bands[PHIEU_BAND_NONE] is ""). Every text points into storage. */
struct phieu_wording {
    minutes_texts tx;
    minutes_kind_texts rating, confidence;
    const char *bands[PHIEU_BAND_VOTE_OF_CONFIDENCE + 1];
    char *storage;
};

#endif
