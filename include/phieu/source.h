/*
 * source.h - page sources behind one interface: image files, and SANE scanners.
 *
 * Contract:
 *  - A phieu_source yields pages in feed order: phieu_source_next returns 1 and a new
 *    8-bit gray phieu_image (caller destroys it) with its metadata, 0 when the source is
 *    exhausted (the feeder is empty), or a negative code. The source stays usable after
 *    PHIEU_EDEVICE (the operator clears the fault, then next() feeds again) and after
 *    PHIEU_EFORMAT from a file source (the next file follows).
 *  - A page is returned only whole: for SANE, the bytes received must equal the bytes
 *    announced by sane_get_parameters (taken after sane_start); a short, long or
 *    interrupted page is an error and its data are dropped.
 *  - Device errors are PHIEU_EDEVICE with a message in English and Vietnamese that says
 *    what happened, which sheet of the batch to take out and re-feed, and how to go on;
 *    phieu_source_fault says which fault it was.
 *  - SANE: phieu_source_open_sane and phieu_sane_list call sane_init, and destroying the
 *    source (or the end of the listing) calls sane_exit. libsane keeps process-wide state
 *    (SANE_CONFIG_DIR is read once per process), so at most one SANE source is open at a
 *    time, no listing runs while one is open, and all SANE calls happen on one thread.
 *  - Thread safety: a source belongs to one thread. File sources are independent.
 *  - Ownership: phieu_source_destroy(&s) frees a source and NULLs the pointer.
 */
#ifndef PHIEU_SOURCE_H
#define PHIEU_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/image.h"

/* Sides, numbered like phieu_side in session.h. */
#define PHIEU_SOURCE_FRONT 0
#define PHIEU_SOURCE_BACK 1

/* A4 is 297 mm long; a page longer than this many mm beyond the expected length is
 * probably two sheets fed together. A single sheet fed skewed is longer too: at the 10
 * degrees of skew the reader accepts, its bounding box is 297 cos 10 + 210 sin 10 = 329 mm,
 * 32 mm more. 45 mm is above that plus a few mm of overscan, and far below the half sheet
 * or more that two sheets fed together add. */
#define PHIEU_SOURCE_DOUBLE_FEED_MARGIN_MM 45.0
#define PHIEU_SOURCE_A4_LENGTH_MM 297.0

typedef struct phieu_page_info {
    int side;             /* PHIEU_SOURCE_FRONT or _BACK */
    int sheet;            /* the sheet's position in the batch, from 1 (first_sheet) */
    int page;             /* pages (sides) delivered by this source, from 1 */
    uint64_t bytes_announced; /* bytes_per_line * lines; for lines = -1 the bytes read */
    uint64_t bytes_received;
    double dpi;           /* resolution of the image, 0 when unknown */
    double length_mm;     /* height / dpi in mm, 0 when dpi is unknown */
    int sane_format;      /* SANE_Frame of the first frame (GRAY 0, RGB 1, RED 2...), -1 files */
    int depth;            /* bits per sample delivered (1, 8, 16) */
    int frames;           /* 1, or 3 for three-pass colour */
    int hand_scanner;     /* 1 when lines were announced as -1 */
    char origin[512];     /* "file.tif page 2" or "test:0 page 3" */
} phieu_page_info;

typedef enum {
    PHIEU_FAULT_NONE = 0,
    PHIEU_FAULT_EMPTY,      /* no paper in the feeder at the start */
    PHIEU_FAULT_JAM,
    PHIEU_FAULT_COVER_OPEN,
    PHIEU_FAULT_IO,         /* I/O error, unplugged */
    PHIEU_FAULT_BUSY,       /* another program uses the scanner */
    PHIEU_FAULT_SHORT_PAGE, /* fewer (or more) bytes than announced */
    PHIEU_FAULT_CANCELLED,
    PHIEU_FAULT_OTHER,
} phieu_source_fault;

typedef struct phieu_source phieu_source;

int phieu_source_next(phieu_source *s, phieu_image **page, phieu_page_info *info,
                      phieu_error *err);
/* The fault of the last PHIEU_EDEVICE from this source (NONE otherwise). */
phieu_source_fault phieu_source_last_fault(const phieu_source *s);
/* Stops the page in flight (SANE: sane_cancel). next() may be called again afterwards. */
void phieu_source_cancel(phieu_source *s);
void phieu_source_destroy(phieu_source **s);

/* ---- Pages for several threads (the intake module) ---------------------------------- */

/* A page as phieu_source_take hands it over: decoded (gray scanner frames), the RGB pixels
 * of a colour scan, a single-page file not read yet, or a page of a multi-page file named
 * by its file and number, each to be decoded by phieu_source_item_decode on another
 * thread. */
typedef struct phieu_source_item {
    phieu_image *image;  /* the decoded page, or NULL */
    uint8_t *rgb;        /* NULL, or a colour scan (RGB or three-pass frames) as 8-bit RGB,
                            3 bytes a pixel, rows packed, rgb_width x rgb_height at info.dpi
                            (phieu_malloc'd); _decode makes it `bytes` and `image` */
    int rgb_width, rgb_height;
    uint8_t *bytes;      /* NULL, or the whole file (phieu_malloc'd): a single-page file not
                            decoded yet, or a file that cannot be decoded */
    size_t len;
    uint64_t max_bytes;  /* > 0: a single-page file not read yet: _decode reads `path` */
    int page_pending;    /* 1: page page_in_file of the multi-page file `path`, found but not
                            decoded yet: _decode decodes it within `limits` */
    phieu_image_limits limits; /* of a pending page */
    int unreadable;      /* 1: the file cannot be decoded; `what` says why, `bytes` holds it */
    char what[PHIEU_ERROR_MESSAGE_MAX];
    char path[4096];     /* the file; "" for a scanner */
    int page_in_file;    /* from 1 */
    phieu_page_info info; /* filled once the page is decoded */
} phieu_source_item;

/* Like phieu_source_next, but leaves the decoding of single-page files to the caller and
 * turns a file that cannot be decoded into an item with unreadable = 1 (not an error).
 * Returns 1 and an item (release it), 0 at the end, or a negative code: PHIEU_EDEVICE from
 * a scanner (as next()), a file that cannot be read at all, or no memory. */
int phieu_source_take(phieu_source *s, phieu_source_item *item, phieu_error *err);
/* Decodes item->bytes into item->image when it has no image yet (reading the file first
 * when the source left that to the caller: max_bytes > 0), or a pending page of a
 * multi-page file from its file (mapped, its directories before it passed over); a file
 * that is not an image, or a page of a multi-page file that does not decode, becomes
 * unreadable = 1 (the latter with the whole file in `bytes`, the evidence) and 0 is
 * returned. A colour scan (item->rgb) becomes what a PNG
 * file of it read whole would be: `bytes` its RGB PNG (the archive's evidence of the red
 * seal), `image` its gray with the seal dropped out (phieu_image_of_rgb, made in the RGB's
 * memory; rgb is NULL afterwards, and the spare is freed). Only no memory, or a file that
 * cannot be read at all (PHIEU_EIO, naming it), is an error. Thread-safe
 * (touches only the item). limits NULL: the defaults. spare (may be NULL) holds an image
 * the caller is done with, or NULL: its memory is reused for the page (a fresh buffer of
 * tens of MB costs the kernel's zero-filling, image.h); *spare is NULL afterwards unless
 * the decoding failed, when it is the spare given back. */
int phieu_source_item_decode(phieu_source_item *item, const phieu_image_limits *limits,
                             phieu_image **spare, phieu_error *err);
/* Like _decode, for a single-page file not read yet (max_bytes > 0) of which the caller
 * made a copy (the archive's, phieu_session_page_receive): decodes `copy` through the image
 * module's mapped reader, which gives the file's memory back as it decodes, so the file is
 * never held whole. A copy that does not decode makes the item unreadable (0 returned;
 * `what` says why, naming item->path; bytes stays NULL: the copy is the evidence). */
int phieu_source_item_decode_copy(phieu_source_item *item, const char *copy,
                                  const phieu_image_limits *limits, phieu_image **spare,
                                  phieu_error *err);
/* Frees the item's image, RGB pixels and bytes; the item can be reused. */
void phieu_source_item_release(phieu_source_item *item);
/* Pages the source will give, known before reading (image files: one per file, one per
 * directory of a TIFF); 0 when unknown (a scanner). */
int phieu_source_pages_expected(const phieu_source *s);

/* ---- Image files -------------------------------------------------------------------- */

/* The one lister of image files (list.c; the SANE backend compiles it in too).
 * A folder's image files as "dir/name" paths in name (byte) order, hidden files skipped:
 * .png .tif .tiff in any case, and with_pnm the PNM family too (which the backend feeds).
 * Free with phieu_source_list_free. PHIEU_EIO naming the folder when it cannot be read. */
int phieu_source_list_folder(const char *dir, int with_pnm, char ***paths, size_t *n,
                             phieu_error *err);
void phieu_source_list_free(char ***paths, size_t n);
/* Whether a file name is listed as an image (by its extension; a hidden file never is). */
int phieu_source_is_image_name(const char *name, int with_pnm);
/* Pages of one file: a TIFF's directories (by its first bytes, not its name), else 1 (a
 * PNG, or a file that is no image: it is fed and found unreadable then, never dropped). */
int phieu_source_file_pages(const char *path);

/* Every page of each file in order (a multi-page TIFF gives several). A path that is a
 * folder stands for its image files (.png .tif .tiff) in name order; hidden files are
 * skipped. A path that does not exist is PHIEU_ENOTFOUND. This is the only lister of image
 * files in phieu. duplex: the pages alternate front, back. limits NULL: the defaults. */
int phieu_source_open_files(const char *const *paths, size_t n_paths, int duplex,
                            const phieu_image_limits *limits, phieu_source **out,
                            phieu_error *err);

/* ---- SANE --------------------------------------------------------------------------- */

typedef enum {
    PHIEU_SANE_SOURCE_DEFAULT = 0, /* leave the device's choice */
    PHIEU_SANE_SOURCE_ADF,         /* feeder, one side */
    PHIEU_SANE_SOURCE_DUPLEX,      /* feeder, both sides */
    PHIEU_SANE_SOURCE_FLATBED,
} phieu_sane_source;

typedef enum {
    PHIEU_SANE_MODE_DEFAULT = 0,
    PHIEU_SANE_MODE_GRAY,
    PHIEU_SANE_MODE_COLOR,
    PHIEU_SANE_MODE_LINEART,
} phieu_sane_mode;

typedef struct phieu_sane_options {
    const char *device;       /* "test:0", "phieu:0"; NULL or "": the first device */
    phieu_sane_source source;
    phieu_sane_mode mode;
    int resolution;           /* dpi; 0 leaves the device's */
    int depth;                /* 0 leaves the device's */
    int full_area;            /* 1: tl-x/tl-y at their minimum, br-x/br-y at their maximum */
    double page_width_mm;     /* 0 leaves page-width alone */
    double page_height_mm;    /* 0 leaves page-height alone */
    /* Any other option by name, "name=value" (value parsed by the option's type:
     * bool yes/no, int, fixed as a decimal, string); refused if unknown or inactive. */
    const char *const *extra;
    size_t n_extra;
    int first_sheet;          /* position of the first sheet in the batch (>= 1; 0 = 1) */
    /* sane_cancel between pages: -1 by backend (pnm needs it; others, like scanimage,
     * only cancel at the end), 0 never, 1 always. */
    int cancel_between_pages;
} phieu_sane_options;

/* Opens the device and sets its options. Device errors (busy, not found) are
 * PHIEU_EDEVICE / PHIEU_ENOTFOUND with bilingual messages. */
int phieu_source_open_sane(const phieu_sane_options *opts, phieu_source **out,
                           phieu_error *err);
/* The resolution, mode and source the device actually uses (read back after setting). */
int phieu_source_sane_settings(const phieu_source *s, int *resolution, char *mode,
                               size_t mode_size, char *source, size_t source_size);

/* One option of a device as `phieu devices -v` shows it. */
typedef struct phieu_sane_option_info {
    char name[64];
    char title[128];
    char type[8];          /* "bool" "int" "fixed" "string" "button" "group" */
    char unit[8];          /* "", "px", "bit", "mm", "dpi", "%", "us" */
    char value[128];       /* "" when inactive or not readable */
    char constraint[256];  /* "75|150|300", "0..215.9 mm", ... */
    int active;
    int settable;
} phieu_sane_option_info;

typedef struct phieu_sane_device_info {
    char name[128];
    char vendor[64];
    char model[128];
    char type[64];
    phieu_sane_option_info *options; /* with options only; phieu_malloc'd */
    size_t n_options;
    int open_status;       /* with options: 0, or the PHIEU_E... of sane_open */
} phieu_sane_device_info;

/* The devices libsane finds (only_device: just that one, opened directly). With
 * with_options, each device is opened and its options listed. Free with
 * phieu_sane_devices_free. */
int phieu_sane_list(const char *only_device, int with_options, phieu_sane_device_info **out,
                    size_t *n, phieu_error *err);
void phieu_sane_devices_free(phieu_sane_device_info **list, size_t n);

#endif
