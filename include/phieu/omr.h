/*
 * omr.h - reading one ballot page: register it, identify its form, score every box,
 * decide every row and the page.
 *
 * Contract:
 *  - phieu_omr_read is a pure function of (config, image): the same input gives the same
 *    reading, byte for byte, on every run and machine (no clocks, no randomness, no
 *    state). It never modifies the image and allocates nothing in its hot path beyond
 *    what the config's scratch needs.
 *  - The machine never guesses: anything uncertain is PHIEU_PAGE_REVIEW / PHIEU_ROW_REVIEW
 *    or PHIEU_PAGE_REJECTED, with reasons (stable codes plus words).
 *  - A phieu_reading is a plain fixed-size struct: copy it, store it, no cleanup.
 *  - Thread safety: concurrent calls with distinct readings are safe.
 */
#ifndef PHIEU_OMR_H
#define PHIEU_OMR_H

#include <stdint.h>

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/util.h"

/* ---- Thresholds: data, named, defaulted, overridable, reported ---------------------- */

typedef enum {
    PHIEU_TH_MARKED = 0,   /* box score at or above: marked */
    PHIEU_TH_MARGINAL,     /* box score at or above (and below MARKED): marginal -> review */
    PHIEU_TH_INK,          /* darkness, as a share of paper-to-black contrast, that is ink */
    PHIEU_TH_COUNT
} phieu_threshold_id;

typedef struct phieu_thresholds {
    double value[PHIEU_TH_COUNT];
} phieu_thresholds;

void phieu_thresholds_default(phieu_thresholds *t);
/* The stable name of a threshold ("marked", "marginal", "ink") and its meaning in words. */
const char *phieu_threshold_name(phieu_threshold_id id);
const char *phieu_threshold_description(phieu_threshold_id id);
/* Sets a threshold by name; PHIEU_EINVAL for an unknown name or a value out of [0, 1]
 * or one that would make marginal >= marked. */
int phieu_thresholds_set(phieu_thresholds *t, const char *name, double value, phieu_error *err);

/* ---- The reading -------------------------------------------------------------------- */

typedef enum { PHIEU_BOX_EMPTY = 0, PHIEU_BOX_MARGINAL = 1, PHIEU_BOX_MARKED = 2 } phieu_box_state;

/* A row's decision is a choice index (0..n_choices-1) or one of these. */
#define PHIEU_ROW_BLANK (-1)
#define PHIEU_ROW_OVERVOTE (-2)
#define PHIEU_ROW_REVIEW (-3)

typedef enum {
    PHIEU_PAGE_COUNTED = 0,  /* every row decided */
    PHIEU_PAGE_REVIEW = 1,   /* the form is known, some rows need a person */
    PHIEU_PAGE_REJECTED = 2, /* not registered, unknown/wrong form, test vs official... */
    PHIEU_PAGE_BLANK = 3,    /* an unprinted back side or an empty sheet */
} phieu_page_status;

#define PHIEU_OMR_MAX_REASONS 8
#define PHIEU_OMR_INK_CELLS 64 /* 8 x 8 grid of ink per box, for duplicate detection */

typedef struct phieu_reason {
    char code[32];  /* stable: "marginal-mark", "not-registered", "wrong-form", ... */
    char text[320]; /* words for a person, English */
    int row;        /* the row it concerns (1-based), 0 for the page, or -1 for a note that
                     * asks nothing of anyone ("three-corners": how the page was registered) */
} phieu_reason;

typedef struct phieu_box_reading {
    float score;    /* 0..1: the value compared with the thresholds */
    float coverage; /* share of the box interior that is new ink */
    float darkness; /* mean ink darkness relative to local paper white, 0..1 */
    uint8_t state;  /* phieu_box_state */
    uint8_t ink[PHIEU_OMR_INK_CELLS]; /* registered ink, 0..255 per cell */
} phieu_box_reading;

typedef struct phieu_row_reading {
    int row;      /* 1-based row number */
    int decision; /* choice index or PHIEU_ROW_* */
    phieu_box_reading boxes[PHIEU_FORM_MAX_CHOICES];
} phieu_row_reading;

typedef struct phieu_reading {
    int status;          /* phieu_page_status */
    int form_index;      /* index into config->forms, or -1 when no form was identified */
    int test_ballot;     /* the form code's test flag */
    int upside_down;     /* the page was fed turned 180 degrees */
    double transform[9]; /* page mm -> image pixels, row-major 3x3 projective */
    int n_rows;
    phieu_row_reading rows[PHIEU_FORM_MAX_ROWS];
    int n_reasons;
    phieu_reason reasons[PHIEU_OMR_MAX_REASONS];
} phieu_reading;

typedef struct phieu_omr_config {
    const phieu_form *const *forms; /* the forms this page may be; at least one */
    const phieu_layout *layouts;    /* layouts[i] of forms[i] */
    int n_forms;
    phieu_thresholds thresholds;
    int test_session; /* 1: accept only test ballots; 0: refuse them */
} phieu_omr_config;

/* Reads one page. Returns 0 with a reading for every page that could be examined (even a
 * rejected one); a negative code only for a broken call (NULL, no forms) or no memory. */
int phieu_omr_read(const phieu_omr_config *config, const phieu_image *page,
                   phieu_reading *out, phieu_error *err);

/* Reads the page as config->forms[form_index] whatever its form code says: for a page the
 * counting board has identified ("count as form X") when its code could not be read or
 * named no form of the session. The page must still register (its corner marks found),
 * and a page whose code says test ballot is still refused in an official session. The
 * reading carries the reason "form-set-by-board". Pure, like phieu_omr_read. */
int phieu_omr_read_as(const phieu_omr_config *config, int form_index, const phieu_image *page,
                      phieu_reading *out, phieu_error *err);

/* How alike the ink inside the boxes of two readings of the same form is, 0..1. Two scans
 * of one paper sheet score close to 1; two sheets marked the same way by different hands
 * score clearly lower. */
double phieu_omr_ink_similarity(const phieu_reading *a, const phieu_reading *b);
/* The same agreement before it is scaled down for little evidence, and the evidence (in
 * full-weight boxes compared; below PHIEU_OMR_INK_MIN_EVIDENCE, three ordinary marks, the
 * grids alone cannot tell a rescan from another hand, and phieu_omr_stroke_similarity
 * should decide). */
#define PHIEU_OMR_INK_MIN_EVIDENCE 3.0
double phieu_omr_ink_agreement(const phieu_reading *a, const phieu_reading *b, double *evidence);

/* The strokes inside the boxes of one page at full resolution, for telling a rescan of
 * one paper sheet from another hand marking the same boxes, which the 8 x 8 grids above
 * cannot do for a page of one or two marks. Made from the page and its reading (whose
 * transform places each box); holds only the boxes with ink, and the paper around each
 * box with ink (where a mark ends beyond the outline) and around any box where ink lies
 * there (a box circled: no ink inside for the grids). One
 * heap block, freed with phieu_omr_strokes_destroy; the image and reading are not kept. */
typedef struct phieu_omr_strokes phieu_omr_strokes;
int phieu_omr_strokes_create(const phieu_layout *layout, const phieu_image *page,
                             const phieu_reading *r, phieu_omr_strokes **out, phieu_error *err);
void phieu_omr_strokes_destroy(phieu_omr_strokes **s);
/* The strokes as bytes (*data phieu_malloc'd), for the session to keep with a sheet's
 * reading, and back: decoding what was encoded gives strokes that compare exactly as the
 * original. Decoding checks every count and place (PHIEU_EFORMAT for a damaged record);
 * encoding strokes larger than any form's is PHIEU_ELIMIT. */
int phieu_omr_strokes_encode(const phieu_omr_strokes *s, uint8_t **data, size_t *len,
                             phieu_error *err);
int phieu_omr_strokes_decode(const uint8_t *data, size_t len, phieu_omr_strokes **out,
                             phieu_error *err);
/* How alike the strokes of two pages of one form are, 0..1: per box with ink, the best
 * normalised cross-correlation over a small shift, and where two windows agree, the same
 * of their details (what is left once the strokes' place is taken out: their edges, so
 * their width) at the place found; boxes weighed by their ink and averaged leaning to the
 * worst. The same strokes scanned twice score near 1, two hands' ticks in the same box
 * clearly lower. 0 for pages of different forms or without ink. */
double phieu_omr_stroke_similarity(const phieu_omr_strokes *a, const phieu_omr_strokes *b);
/* 1 when both readings send the same rows, at least one, to review for pen ink beside a
 * box (reason "mark-beside-box": a box circled) or for a marginal mark (reason
 * "marginal-mark": a faint mark). Such pages may have no ink inside any box that the grids
 * weigh, or ink whose grids change with the scan's exposure, so this, not the grids'
 * agreement, says when their strokes are worth comparing. */
int phieu_omr_beside_match(const phieu_reading *a, const phieu_reading *b);
/* 1 when the grids cannot decide whether b is a second scan of a, and the pair is worth
 * comparing on its strokes (phieu_omr_stroke_similarity). The grids cannot decide when
 * the boxes that hold a mark, or may (marginal), on either page weigh less than
 * PHIEU_OMR_INK_MIN_EVIDENCE: boxes the reader left empty on both (a crease's shadow,
 * whose ink changes with the scan, a dot) are no marks. Worth comparing: neither page has
 * a box the grids weigh; or their grids agree at 0.9 or better, over all boxes with ink
 * or over those that hold a mark; or phieu_omr_beside_match. The session's rule and the
 * bench's. */
int phieu_omr_strokes_decide(const phieu_reading *a, const phieu_reading *b);
/* 1 when the page's marks (its boxes marked or marginal) weigh less than
 * PHIEU_OMR_INK_MIN_EVIDENCE on its grids: its strokes are what tells its rescan from
 * another hand, and the session makes and keeps them. */
int phieu_omr_little_ink(const phieu_reading *r);

/* The reading's row decisions as a string, one character a row: the choice's index
 * '0'..'9', 'o' overvote, 'r' review, 'b' blank. The cheap first test for a rescan. */
void phieu_omr_decision_pattern(const phieu_reading *r, char out[PHIEU_FORM_MAX_ROWS + 1]);
/* Rows whose decisions differ between two patterns (a row under review may be either);
 * more than PHIEU_FORM_MAX_ROWS when their lengths differ. */
int phieu_omr_pattern_distance(const char *a, const char *b);
/* 1 when some row of the pattern is not blank. */
int phieu_omr_pattern_has_ink(const char *p);

/* Stable names for JSON and the database. */
const char *phieu_page_status_name(int status);   /* "counted", "review", ... */
const char *phieu_box_state_name(int state);      /* "marked", "empty", "marginal" */
/* "blank", "overvote", "review", or the form's choice key. */
const char *phieu_row_decision_name(const phieu_form *form, int decision);

/* Appends the reading as one JSON object (the `phieu read --json` contract, without the
 * "file" and "page" keys, which the caller adds). form may be NULL when form_index < 0. */
void phieu_omr_reading_json(const phieu_reading *r, const phieu_form *form, phieu_buf *out);

/* An RGB overlay of the page for people: fiducials found, box outlines coloured by state,
 * scores, row decisions. Written as PNG to path. */
int phieu_omr_debug_overlay(const phieu_omr_config *config, const phieu_image *page,
                            const phieu_reading *r, const char *path, phieu_error *err);

#endif
