/*
 * form.h - ballot form definitions (forms/NAME.form), their fingerprint, the page layout,
 * and the machine-readable form code printed on every ballot.
 *
 * Contract:
 *  - phieu_form_parse never crashes on any input: it returns a form or PHIEU_EFORMAT with
 *    "file:line:column: what is wrong; how to fix it" in err.
 *  - A phieu_form is immutable after parsing; free it with phieu_form_destroy(&f).
 *  - The fingerprint is the SHA-256 of the form's canonical text (phieu_form_canonical):
 *    the same definition always gives the same fingerprint, any change to what is printed
 *    or read (id, kind, texts, labels, rows) changes it; comments and spacing do not.
 *  - phieu_layout_compute is deterministic and pure: the same form gives the same layout,
 *    bit for bit. All coordinates are millimetres from the top-left corner of an A4 page
 *    in its upright orientation; a rectangle is the outer edge of what is printed.
 *  - Thread safety: forms and layouts are read-only and may be shared between threads.
 */
#ifndef PHIEU_FORM_H
#define PHIEU_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/util.h"

#define PHIEU_FORM_MAX_ROWS 30   /* more does not fit one A4 page with 5 mm boxes */
/* The layout keeps every box inside its row with at least this much paper between the box
 * and the row's lines (and at least PHIEU_FORM_BOX_MIN_MM of box): room for the printed
 * row line, which stays 1 mm plus half its width clear of any box. */
#define PHIEU_FORM_BOX_ROW_MARGIN_MM 1.25
#define PHIEU_FORM_BOX_MIN_MM 5.0
#define PHIEU_FORM_MAX_CHOICES 3 /* rating: high, trust, low */
#define PHIEU_FORM_KEY_MAX 16
#define PHIEU_FORM_LABEL_MAX 64  /* bytes of UTF-8 */
/* Longest form id the parser accepts: it is printed beside the form code and must fit
 * a board decision "form:<id>" (PHIEU_CHOICE_MAX in decisions.h). */
#define PHIEU_FORM_ID_MAX 24

typedef enum {
    PHIEU_FORM_RATING = 0,     /* "lấy phiếu tín nhiệm": high / trust / low */
    PHIEU_FORM_CONFIDENCE = 1, /* "bỏ phiếu tín nhiệm": trust / distrust */
} phieu_form_kind;

typedef struct phieu_choice {
    char key[PHIEU_FORM_KEY_MAX];     /* "high", "trust", "low", "distrust" */
    char label[PHIEU_FORM_LABEL_MAX]; /* printed: "Tín nhiệm cao", ... */
} phieu_choice;

typedef struct phieu_form_row {
    int number;  /* STT as printed, 1..n in order */
    char *name;  /* full name, UTF-8 */
    char *post;  /* post(s), several joined with "; " */
} phieu_form_row;

typedef struct phieu_form {
    char *id;          /* [a-z0-9-]+, e.g. "district-rating" */
    phieu_form_kind kind;
    char *council;     /* "HỘI ĐỒNG NHÂN DÂN HUYỆN ..." */
    char *session;     /* "Kỳ họp thứ ..." */
    char *title;       /* "PHIẾU LẤY PHIẾU TÍN NHIỆM" */
    char *instruction; /* how to mark, printed under the title */
    char *name;        /* optional short display name ("Phiếu HĐND huyện"), or NULL; not
                        * printed, not in the fingerprint: what screens call the form */
    int n_choices;     /* 3 for rating, 2 for confidence */
    phieu_choice choices[PHIEU_FORM_MAX_CHOICES];
    int n_rows;        /* 1..PHIEU_FORM_MAX_ROWS */
    phieu_form_row rows[PHIEU_FORM_MAX_ROWS];
    uint8_t fingerprint[32];
    char fingerprint_hex[65];
    char *source;      /* the file's text as given (kept so a session can store it) */
} phieu_form;

/* Parses form text. `filename` is used in messages only. */
int phieu_form_parse(const char *text, size_t len, const char *filename, phieu_form **out,
                     phieu_error *err);
/* Reads and parses a file. */
int phieu_form_load(const char *path, phieu_form **out, phieu_error *err);
void phieu_form_destroy(phieu_form **form);

/* The canonical text whose SHA-256 is the fingerprint (caller frees with phieu_free). */
int phieu_form_canonical(const phieu_form *form, char **text, phieu_error *err);

/* The index of the choice with this key, or -1. */
int phieu_form_choice_index(const phieu_form *form, const char *key);

/* ---- Layout ------------------------------------------------------------------------ */

typedef struct phieu_rect {
    double x, y, w, h; /* mm; (x, y) is the top-left corner */
} phieu_rect;

/* Fiducial order: clockwise from top-left. The bottom-right one differs in shape so that
 * a page turned 180 degrees is recognised: it has a white square hole at its centre. */
enum { PHIEU_FID_TL = 0, PHIEU_FID_TR = 1, PHIEU_FID_BR = 2, PHIEU_FID_BL = 3 };

/* The form code: PHIEU_FORM_CODE_BITS cells in one row between a start bar and an end
 * bar; a black cell is a 1. Bits 0..39: the first 5 bytes of the fingerprint (most
 * significant bit first); bits 40..47: flags (bit 40 = test ballot, others 0);
 * bits 48..63: CRC-16/CCITT-FALSE over the 6 bytes before it. */
#define PHIEU_FORM_CODE_BITS 64
#define PHIEU_FORM_CODE_FLAG_TEST 0x01

typedef struct phieu_layout {
    double page_w, page_h;       /* 210 x 297 */
    phieu_rect fiducials[4];     /* solid black squares, see PHIEU_FID_* */
    phieu_rect fiducial_hole;    /* the white hole inside fiducials[PHIEU_FID_BR] */
    phieu_rect seal;             /* kept clear for the council's seal (top-left) */
    phieu_rect code_start;       /* solid bar before the first cell */
    phieu_rect code_end;         /* solid bar after the last cell */
    phieu_rect code_cells[PHIEU_FORM_CODE_BITS];
    phieu_rect code_text;        /* the form id (and fingerprint prefix) in plain text */
    phieu_rect header_left;      /* council and session, under the seal */
    phieu_rect header_right;     /* national motto */
    phieu_rect title;
    phieu_rect instruction;
    phieu_rect test_band;        /* where "PHIẾU THỬ / TEST BALLOT" goes on test ballots */
    phieu_rect table;            /* outer edge of the table */
    double header_row_h;         /* the column-title row at the top of the table */
    int n_columns;               /* 3 + n_choices: STT | Họ và tên | Chức vụ | choices */
    double column_x[3 + PHIEU_FORM_MAX_CHOICES + 1]; /* left edges, and the right edge */
    int n_rows;
    phieu_rect rows[PHIEU_FORM_MAX_ROWS];   /* each row's band across the table */
    int n_choices;
    phieu_rect boxes[PHIEU_FORM_MAX_ROWS][PHIEU_FORM_MAX_CHOICES]; /* outer edges */
    double box_line_mm;          /* printed outline width of a box */
    double font_pt;              /* body text size chosen for the rows */
} phieu_layout;

int phieu_layout_compute(const phieu_form *form, phieu_layout *out, phieu_error *err);

/* Appends the layout as the JSON object `phieu form layout --json` prints (docs/forms.md):
 * indented by one space, millimetres rounded to 1/1000 mm, no final newline. PHIEU_ENOMEM
 * when memory runs out (out may then hold part of it: release it). */
int phieu_layout_json(const phieu_form *form, const phieu_layout *l, phieu_buf *out,
                      phieu_error *err);

/* ---- Form code --------------------------------------------------------------------- */

typedef struct phieu_form_code {
    uint8_t fingerprint_prefix[5];
    uint8_t flags;
} phieu_form_code;

/* The bits to print for this form (bits[i] is 0 or 1). */
void phieu_form_code_bits(const phieu_form *form, int test_ballot,
                          uint8_t bits[PHIEU_FORM_CODE_BITS]);
/* Decodes read bits; PHIEU_EFORMAT when the checksum fails. */
int phieu_form_code_decode(const uint8_t bits[PHIEU_FORM_CODE_BITS], phieu_form_code *out,
                           phieu_error *err);
/* 1 when the code names this form (its fingerprint prefix), else 0. */
int phieu_form_code_matches(const phieu_form_code *code, const phieu_form *form);

#endif
