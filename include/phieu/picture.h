/*
 * picture.h - what a person decides from: a sheet's archived page as it was stored (a
 * colour scan in colour, so that a mark in red pen is seen red, not as the faint gray the
 * reader's dropout leaves), whole or cut to one row's choice boxes, as PNG. The review
 * screen and `phieu exceptions --png` both show these pictures, so the board sees the same
 * thing wherever it looks.
 *
 * Contract: phieu_picture_load reads only the file at `path`; a picture is read-only
 * once loaded, so several threads may make PNGs of it; nothing is kept between pictures. Errors are the image loader's (PHIEU_EFORMAT, PHIEU_ELIMIT, PHIEU_EIO,
 * naming the file) or PHIEU_ENOTFOUND for a row that cannot be placed.
 */
#ifndef PHIEU_PICTURE_H
#define PHIEU_PICTURE_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/form.h"
#include "phieu/omr.h"

/* A row's picture keeps this much paper above and below the row's band, in mm: it shows
 * a mark that strays out of its box (a 6-7 mm box leaves about 2 mm of band around it). */
#define PHIEU_PICTURE_ROW_MARGIN_MM 1.5

typedef struct phieu_picture_ask {
    int row;          /* 0: the whole page; 1..n_rows: that row's choice boxes */
    int max_w, max_h; /* > 0: scaled down (box filter, aspect kept) to fit; 0: full size */
} phieu_picture_ask;

/* 1 when the reading places its page on its form (a rejected page has no transform). */
int phieu_picture_placed(const phieu_reading *r);

/* The pixel box (x0, y0, x1, y1) of a page rectangle in mm, grown by margin mm on every
 * side, through the reading's page transform. */
void phieu_picture_box(const double transform[9], phieu_rect rect, double margin,
                       double box[4]);

/* A page decoded as it was stored, colour or gray, for one or more pictures: a page of
 * 600 dpi in colour is about 105 MB while it is held. page_size, when not NULL, gets its
 * width and height. */
typedef struct phieu_picture phieu_picture;
int phieu_picture_load(const char *path, phieu_picture **out, int page_size[2],
                       phieu_error *err);
void phieu_picture_destroy(phieu_picture **p);

/* The PNG (*png phieu_malloc'd) of the page as `ask` says. A row is its choice boxes edge
 * to edge of their columns, placed by layout and r's transform (both may be NULL for the
 * whole page). */
int phieu_picture_png(const phieu_picture *p, const phieu_layout *layout, const phieu_reading *r,
                      const phieu_picture_ask *ask, uint8_t **png, size_t *len, phieu_error *err);

#endif
