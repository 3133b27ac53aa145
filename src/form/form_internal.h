/*
 * form_internal.h - what the form parser and the layout engine share: the page geometry
 * constants, the per-row-count metrics (row pitch, font sizes, text widths), and the
 * conservative text-width estimate used to refuse text that would not fit its column.
 * Private to src/form/; the public API is include/phieu/form.h.
 */
#ifndef PHIEU_FORM_INTERNAL_H
#define PHIEU_FORM_INTERNAL_H

#include "phieu/form.h"

/* A4 in millimetres (ISO 216). */
#define FORM_PAGE_W 210.0
#define FORM_PAGE_H 297.0
/* Nothing is printed closer than this to an edge: most office laser printers cannot
 * print the outer 4-5 mm. */
#define FORM_MARGIN 5.0

/* Longest id accepted: it must fit, with the fingerprint prefix, in the code text box
 * beside the form code at FORM_CODE_TEXT_PT (see layout.c). */
#define FORM_ID_MAX PHIEU_FORM_ID_MAX

/* Text sizes (points) the renderer is expected to use; the fit check below assumes them.
 * Row text (name, post) uses phieu_layout.font_pt, chosen by row count (8..10 pt). */
#define FORM_COUNCIL_PT 9.0     /* bold, up to 2 lines in header_left */
#define FORM_SESSION_PT 9.0     /* 1 line under the council */
#define FORM_TITLE_PT 12.0      /* bold, 1 line, in the 94 mm centred span (the width
                                   estimate is wide: 12 pt estimated is ~13 pt printed) */
#define FORM_INSTRUCTION_PT 8.0 /* italic, up to 2 lines */
#define FORM_LABEL_PT 8.0       /* bold choice labels in the table's header row, 2 lines */
#define FORM_CODE_TEXT_PT 6.0   /* the id and fingerprint prefix beside the code, 2 lines */
#define FORM_CELL_PAD 1.5       /* mm of padding left and right of text in a cell */

/* Metrics that depend only on the kind and the number of rows. Widths are the usable
 * text widths in mm (cell width minus padding). */
typedef struct form_metrics {
    double row_pitch;   /* mm from one row's top to the next */
    double box;         /* box side in mm */
    double font_pt;     /* row text size */
    double col_w[3 + PHIEU_FORM_MAX_CHOICES]; /* column widths */
    double name_w, post_w, label_w;
    double council_w, session_w, title_w, instruction_w;
} form_metrics;

void form_metrics_compute(phieu_form_kind kind, int n_rows, form_metrics *m);

/* A conservative (wide) estimate of the printed width of UTF-8 text in DejaVu Sans at
 * `pt` points, in mm. Uses per-character average advances; see layout.c. */
double form_text_width_mm(const char *s, double pt, int bold);

/* How much text fits in `lines` lines of width `w` mm once words wrap: the first line in
 * full, each further line with a margin for the word that did not fit. */
double form_text_capacity_mm(double w, int lines);

#endif
