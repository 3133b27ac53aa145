/*
 * omr_internal.h - what the files of the omr module share and nobody else sees:
 * registration (omr_register.c), box scoring (omr_score.c), the reading itself
 * (omr.c), and the strokes a rescan is told by (omr_similarity.c, omr_strokes_store.c).
 * The public contract is include/phieu/omr.h.
 */
#ifndef PHIEU_OMR_INTERNAL_H
#define PHIEU_OMR_INTERNAL_H

#include "phieu/omr.h"

/* Where a page's fiducials were found (image pixels, image corner order TL, TR, BR, BL). */
typedef struct omr_fiducial {
    double x, y;      /* sub-pixel centroid */
    double side;      /* side of the square in pixels, estimated from its dark area */
    double span;      /* its extent in pixels, the shorter of across and down (omr_register.c
                         refine: a mark with a part cut away is short on one of them) */
    double black;     /* mean gray of its dark pixels: the page's black reference */
    double paper;     /* paper white around it */
    int hole;         /* 1 when its centre is white (the bottom-right fiducial) */
} omr_fiducial;

/* Why a corner's fiducial was not used, when the page was registered from three. */
typedef enum {
    OMR_MISSING_NONE = 0,
    OMR_MISSING_CUT,     /* its place is (partly) outside the image: the frame cut it off */
    OMR_MISSING_INKED,   /* its place is dark but not a clean square: a seal or a stroke */
    OMR_MISSING_ABSENT,  /* its place, or a side of it, is light: torn or cut off, whited
                            out or not printed */
} omr_missing_why;

typedef struct omr_registration {
    int found;            /* number of image corners where a fiducial was found */
    int ok;               /* 1 when the fiducials were found and agree */
    int upside_down;
    omr_fiducial fid[4];  /* by image corner; fid[missing] is the predicted place */
    double h[9];          /* page mm -> image pixels */
    double black;         /* black reference for scoring (mean of the fiducials) */
    int missing;          /* image corner registered without its fiducial, or -1 */
    int missing_why;      /* omr_missing_why */
} omr_registration;

/* Scratch memory for one read, allocated once per call and sized from the layout. */
typedef struct omr_scratch {
    uint8_t *grid;   /* coarse fiducial search grid */
    int *stack;      /* flood-fill stack / labels */
    int grid_cap;
    uint8_t *win;    /* one box window, sampled in the box's own frame */
    uint8_t *mask;   /* ink mask of one box interior */
    int *labels;
    int win_cap;
} omr_scratch;

int omr_scratch_init(omr_scratch *s, const phieu_layout *layout, const phieu_image *page);
void omr_scratch_release(omr_scratch *s);

/* Finds the four fiducials of `layout` on the page; fills reg (reg->ok tells success).
 * When no four agree, three that agree register the page by an affine transform and
 * reg->missing names the fourth; the caller must confirm it (omr_confirm_missing). */
void omr_register(const phieu_layout *layout, const phieu_image *page, omr_scratch *s,
                  omr_registration *reg);

/* Solves the projective transform mapping src[i] to dst[i] (4 points); 0 or -1. */
/* The gray level below which share q of a histogram's n samples lie. */
int omr_hist_percentile(const long hist[256], long n, double q);
int omr_homography(const double src[4][2], const double dst[4][2], double h[9]);
void omr_apply(const double h[9], double x, double y, double *u, double *v);

/* Mean gray of a small square patch centred at (x, y) pixels, radius r (clipped). */
double omr_patch_mean(const phieu_image *page, double x, double y, int r);

/* Reads the 64 code bits through the transform; 0, or -1 when the contrast is too low. */
int omr_read_code(const phieu_layout *layout, const phieu_image *page, const double h[9],
                  uint8_t bits[PHIEU_FORM_CODE_BITS]);

/* Solves the affine transform mapping src[i] to dst[i] (3 points); 0 or -1 (collinear). */
int omr_affine(const double src[3][2], const double dst[3][2], double h[9]);

/* Per-box facts the row logic needs beyond phieu_box_reading. */
typedef struct omr_box_extra {
    int thin_line;     /* a thin line spanning the whole interior width */
    double line_y_mm;  /* its height on the page (mm), when thin_line */
    double line_score; /* the share of the score it carries */
    double line_cov;
    double line_dark;  /* sum of its ink darkness */
    long line_n;       /* its ink samples */
    double line_ink_mm; /* its ink per mm of the box's width: darkness x mm of height */
    double paper, contrast; /* local paper white and paper-to-black, gray levels */
    double dark_sum;   /* sum of the darkness of all counted ink */
    double core_darkness; /* its strokes' darkness: the darkness-weighted mean of the
                             counted ink, which a thin line's soft edges do not dilute */
    long ink_n;        /* counted ink samples */
    double outline;    /* least share of an outline side found printed (1: whole) */
    int covered;       /* too little of the outline: the box is partly covered */
    double edge_score; /* score of the ink left out because it only grazes the edge */
    double outline_doubled_mm; /* with edge ink: how much of a side a stroke along it doubles
                                  (1-bit) or thickens beside the interior (gray), mm */
    int dot_only;      /* all ink is one small blob (a hesitation dot or a speck) */
    int faint;         /* an empty box holding a faint mark: marginal */
    int fold_dot;      /* with a thin band across: besides the band's even ink, at most a dot */
    int fold_line;     /* its line was set aside with a crease while a like one counts */
    double band_base;  /* the band's typical ink per column, as a share of the score */
    double band_even_dark; /* mean darkness of the band's ink outside its excess columns */
    double band_peak;      /* darkness of the darkest 0.3 mm of its median column */
    double band_spread_mm; /* how far its columns' darkest points stray from one height */
    int band_hand;         /* a crease's band that also holds a hand's line (omr.c) */
    double found_dx_mm, found_dy_mm; /* where the outline was found, from where expected */
} omr_box_extra;

/* Scores one box: local re-registration against its outline, then ink inside. */
void omr_score_box(const phieu_layout *layout, const phieu_rect *box, const phieu_image *page,
                   const omr_registration *reg, const phieu_thresholds *th, omr_scratch *s,
                   phieu_box_reading *out, omr_box_extra *extra);

/* How much of the box's height has ink beside it, in the paper of its cell left and
 * right of the printed outline, 0..1 each. A mark made next to its box leaves pen ink over
 * most of the height on one side; a box circled leaves a line on both sides, often a light
 * pencil one. A stroke from outside, a fold or a speck crosses only a little of a side, and
 * a fold never both. */
typedef struct omr_beside {
    double pen;  /* pen ink: the larger share of the two sides */
    double ring; /* ink as light as a pencil's: the smaller share of the two sides */
} omr_beside;

omr_beside omr_beside_box(const phieu_image *page, const omr_registration *reg,
                          const phieu_rect *box, const omr_box_extra *e);

/* Whether a mark's worth of ink hugs the box's edge (left out of the score as a graze), or
 * a stroke runs along its printed outline and reaches inside at the edge (less than a
 * mark's worth then: the line and its blur hide the rest), while what is left inside is
 * too little or a dot: a mark drawn on the edge, to review. */
int omr_edge_mark(const phieu_box_reading *b, const omr_box_extra *e, const phieu_thresholds *th);

/* The box's state from its score: marked, marginal or empty; all ink within one small dot
 * is empty (a hesitation dot is not a vote); a partly covered box is marginal. */
void omr_classify(phieu_box_reading *b, const omr_box_extra *e, const phieu_thresholds *th);

/* One page's strokes (omr_similarity.c makes and compares them, omr_strokes_store.c turns
 * them into bytes and back). Samples are whole gray levels of ink (255 - gray), so that
 * strokes read back from the session compare exactly as the ones made from the page. */
typedef struct stroke_box {
    int row, choice;
    int w, h;   /* samples across and down, including the shift margin */
    double ink; /* weight: the reading's 8x8 ink sum (a box), ink samples (around one) */
    float *v;   /* w x h samples of ink (255 - gray), whole numbers */
} stroke_box;

struct phieu_omr_strokes {
    int form_index;
    int n_rows;
    int side;     /* samples across a box's window including the shift margin */
    int n_boxes, n_rings;
    stroke_box boxes[PHIEU_FORM_MAX_ROWS * PHIEU_FORM_MAX_CHOICES];
    stroke_box rings[PHIEU_FORM_MAX_ROWS * PHIEU_FORM_MAX_CHOICES];
    int index[PHIEU_FORM_MAX_ROWS][PHIEU_FORM_MAX_CHOICES]; /* into boxes, -1 none */
    int ring[PHIEU_FORM_MAX_ROWS][PHIEU_FORM_MAX_CHOICES];  /* into rings, -1 none */
    float data[];
};

#endif
