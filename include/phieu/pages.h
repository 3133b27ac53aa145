/*
 * pages.h - the pages of a session: batches, the page pipeline that import and scan share
 * (archive the image, read it, commit), the archive folder, and the sheets recorded.
 *
 * Contract:
 *  - Save first, then read: phieu_session_add_page writes the image durably before it
 *    reads it, then commits sheet, reading and exceptions in ONE transaction. A crash at
 *    any instant loses nothing and counts nothing twice (the image hash is UNIQUE).
 *  - The archive is the folder SESSION.db.images/ beside the session file, content-
 *    addressed ("<sha256>.png", "<sha256>.bin" for a file that could not be decoded). An
 *    archived PNG is phieu's own encoding of the page, or an imported PNG file as received
 *    when it carries nothing but the image (phieu_session_page_prepare).
 *  - Secrecy: sheet ids are random (libsodium), never sequential; batch and position are
 *    for the operator only (finding the paper) and must never be exported or logged;
 *    listings meant for export come in sheet-id order, which is unrelated to scan order.
 *    Nothing here stores the time a page was scanned.
 *  - Errors, ownership and threads as in session.h; _prepare and _store touch no session
 *    and are safe on any thread.
 *
 * Implemented in src/session/pages.c.
 */
#ifndef PHIEU_PAGES_H
#define PHIEU_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "phieu/error.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/session.h"
#include "phieu/util.h"

/* ---- Batches (scan and import group pages; operator-only) -------------------------- */

typedef struct phieu_batch {
    int64_t id;       /* 1, 2, ... per session: the operator's label */
    int placed;       /* sheets the operator put in the feeder; 0 if unknown */
    int pages;        /* pages recorded in it (front and back sides) */
    int sheets;       /* front sides */
    int closed;
    int next_position; /* the position the next page gets (1-based) */
} phieu_batch;

int phieu_session_batch_open(phieu_session *s, int placed, phieu_batch *out, phieu_error *err);
/* The most recent batch that is still open, PHIEU_ENOTFOUND when none (to continue it). */
int phieu_session_batch_last_open(phieu_session *s, phieu_batch *out, phieu_error *err);
int phieu_session_batch_get(phieu_session *s, int64_t id, phieu_batch *out, phieu_error *err);
/* Closes the batch and appends one log entry with its page counts (not their order). */
int phieu_session_batch_close(phieu_session *s, int64_t id, const char *actor,
                              phieu_batch *out, phieu_error *err);

/* ---- The page pipeline shared by import and scan ------------------------------------ */

typedef enum {
    PHIEU_SIDE_FRONT = 0, /* a ballot side */
    PHIEU_SIDE_BACK = 1,  /* the back of the sheet given in back_of (duplex) */
} phieu_side;

typedef struct phieu_page_meta {
    int64_t batch;      /* from phieu_session_batch_open; required */
    int position;       /* 1-based place in the batch; 0: the batch's next position */
    int side;           /* phieu_side */
    const char *back_of; /* the front's sheet id when side == BACK */
    int double_feed;    /* 1: the scanner or the page length suggests two sheets fed */
    const char *double_feed_why; /* words for the reviewer, may be NULL */
} phieu_page_meta;

typedef enum {
    PHIEU_ADD_NEW = 0,       /* a new sheet (counted, or with exceptions) */
    PHIEU_ADD_DUPLICATE = 1, /* the same image is already sheet `sheet_id`: nothing stored */
} phieu_add_outcome;

typedef struct phieu_page_result {
    int outcome;                           /* phieu_add_outcome */
    char sheet_id[PHIEU_SHEET_ID_MAX];     /* the new sheet, or the one it duplicates */
    char sha256[PHIEU_SHA256_HEX];         /* of the archived file */
    char possible_duplicate_of[PHIEU_SHEET_ID_MAX]; /* "" unless the ink matched a sheet */
    int status;            /* phieu_page_status after the session's own checks */
    int form_index;        /* -1 unknown */
    int n_exceptions;      /* exceptions opened for this page */
    phieu_reading reading; /* the machine's reading (the caller must not show selections
                              anywhere it could be tied to scan order) */
} phieu_page_result;

/* Archives, reads and commits one page (see the contract). A page whose image is already
 * in the session returns 0 with outcome PHIEU_ADD_DUPLICATE (it is never counted twice).
 * Disk full or an I/O error: PHIEU_EIO, nothing committed, the session stays consistent.
 * Notes:
 *  1. The PNG is encoded by phieu_image_encode_png (deterministic), hashed, and written
 *     with phieu_write_file_durable unless a file of that name is already there (a crash
 *     after the write and before the commit).
 *  2. Session checks after the reading: a page of a form identified but whose readings'
 *     ink matches an existing sheet of the same form goes to review "possible-duplicate";
 *     a double feed goes to review "double-feed"; a back side that is not blank goes to
 *     review "back-not-blank"; with confirm_overvotes, overvote rows become exceptions. */
int phieu_session_add_page(phieu_session *s, const phieu_image *page,
                           const phieu_page_meta *meta, phieu_page_result *out,
                           phieu_error *err);
/* A file that could not be decoded: its bytes are archived as "<sha256>.bin" and a
 * rejected sheet with an "unreadable-file" exception is recorded, so the paper is looked
 * at. `what` is the decoder's message. Same duplicate rule as add_page. */
int phieu_session_add_unreadable(phieu_session *s, const uint8_t *bytes, size_t len,
                                 const char *what, const phieu_page_meta *meta,
                                 phieu_page_result *out, phieu_error *err);

/* The archive path of an image into out: "<dir>/<sha256>.bin" for an unreadable file,
 * else ".png", or ".tif" for a TIFF archived as received (the name that exists). */
int phieu_session_image_path(const phieu_session *s, const char *sha256, int unreadable,
                             char *out, size_t out_size, phieu_error *err);
/* Removes temporary files a killed writer left in the archive; returns how many. */
int phieu_session_archive_clean(phieu_session *s, int *removed, phieu_error *err);

/* add_page and add_unreadable in two halves, for the intake module (intake.h): _prepare
 * (encode, hash, read; pure, thread-safe, touches no session) on the intake's workers, then
 * _commit (duplicate check, durable archive write, the one transaction) on the session's
 * thread, in the order the pages were fed. Saving still precedes committing. */
typedef struct phieu_prepared_page {
    phieu_page_result result; /* sha256 and reading from _prepare; the rest from _commit */
    uint8_t *bytes;           /* what the archive will hold (owned; _release frees it) */
    size_t len;
    int unreadable;           /* an undecodable file, archived as "<sha256>.bin" */
    int stored;               /* _store wrote it: bytes may be freed before _commit */
    char what[PHIEU_ERROR_MESSAGE_MAX]; /* the decoder's words for an unreadable file */
    phieu_omr_strokes *strokes; /* a page of little ink: its strokes, for the rescan check */
    char *received; /* _receive: the file's copy under a temporary name in the archive */
    int tiff;       /* the archive file is a TIFF as received ("<sha256>.tif") */
} phieu_prepared_page;
/* config: phieu_session_omr_config of the session the page is for. received: NULL, or the
 * bytes of the file `page` was decoded from (taken over, also on error). A PNG file that
 * holds nothing but the image is archived as received (its bytes are the evidence, and its
 * hash names it); any other page is encoded as in add_page. */
int phieu_session_page_prepare(const phieu_omr_config *config, const phieu_image *page,
                               uint8_t *received, size_t received_len,
                               phieu_prepared_page *out, phieu_error *err);
/* The streaming path for a single-page image file, on the intake's workers: _receive
 * copies `path` into the archive under a temporary name while hashing it (the file is never
 * held whole; PHIEU_ELIMIT over max_bytes, PHIEU_EIO if it cannot be read); the caller
 * decodes the page from out->received and hands it to _received_prepare (reads it; the
 * copy becomes the archive file when it holds nothing but the image, PNG or TIFF, else the
 * page is encoded as PNG and the copy dropped), or calls _received_unreadable when it does
 * not decode (the copy becomes "<sha256>.bin"). _store renames the copy into place. */
int phieu_session_page_receive(const char *archive_dir, const char *path, uint64_t max_bytes,
                               phieu_prepared_page *out, phieu_error *err);
int phieu_session_received_prepare(const phieu_omr_config *config, const phieu_image *page,
                                   phieu_prepared_page *pp, phieu_error *err);
void phieu_session_received_unreadable(phieu_prepared_page *pp, const char *what);
/* Takes over `bytes` (phieu_malloc'd), also on error. */
int phieu_session_unreadable_prepare(uint8_t *bytes, size_t len, const char *what,
                                     phieu_prepared_page *out, phieu_error *err);
/* Thread-safe: writes the archive file durably (write, fsync, rename), unless it is there
 * already, so that _commit finds it there. archive_dir: the session info's archive_dir. A
 * crash between the two leaves a file no sheet names, as between add_page's two steps. */
int phieu_session_prepared_store(const char *archive_dir, phieu_prepared_page *pp,
                                 phieu_error *err);
/* Same outcomes as phieu_session_add_page; the result is in pp->result. */
int phieu_session_page_commit(phieu_session *s, const phieu_page_meta *meta,
                              phieu_prepared_page *pp, phieu_error *err);
void phieu_session_prepared_release(phieu_prepared_page *pp);

/* ---- Sheets ------------------------------------------------------------------------- */

typedef struct phieu_sheet {
    char id[PHIEU_SHEET_ID_MAX];
    char sha256[PHIEU_SHA256_HEX];
    int unreadable;   /* the archived file is the raw bytes (.bin), there is no reading */
    int64_t batch;    /* operator-only */
    int position;     /* operator-only */
    int side;         /* phieu_side */
    char back_of[PHIEU_SHEET_ID_MAX]; /* "" for a front */
    int form_index;   /* the form it is filed under: the reader's, or the one the board set
                         ("form:<id>" on a rejected page); -1 unknown */
    int status;       /* phieu_page_status as stored (after the session's checks; the
                         machine's, also when the board set the form) */
} phieu_sheet;

int phieu_session_sheet_get(phieu_session *s, const char *sheet_id, phieu_sheet *sheet,
                            phieu_reading *reading /* may be NULL */, phieu_error *err);
/* The board-directed reading of a sheet: the page read again with phieu_omr_read_as as the
 * form the board set ("form:<id>" resolved on its page exception). The machine's own
 * reading stays what phieu_session_sheet_get returns; the audit needs both. *form_index
 * (may be NULL) gets the form. PHIEU_ENOTFOUND when the board set no form for this sheet. */
int phieu_session_sheet_board_reading(phieu_session *s, const char *sheet_id, int *form_index,
                                      phieu_reading *reading, phieu_error *err);
/* All sheets, ordered by their random id (never scan order). */
int phieu_session_sheets_list(phieu_session *s, phieu_sheet **items, size_t *n,
                              phieu_error *err);

#endif
