/*
 * intake.h - pages from a source (image files, a scanner) into a session: one batch, the
 * pages decoded, read and encoded on worker threads, committed in the order they were fed.
 *
 * Contract:
 *  - An intake owns one batch of one session: phieu_intake_create opens it (or continues the
 *    session's last open batch), phieu_intake_run feeds a source's pages into it,
 *    phieu_intake_finish closes it and checks the sheet count against the sheets placed.
 *  - Order: pages are committed in the order the source gives them, whatever the number of
 *    workers, so the session, its audit log and every export are the same for any `jobs`
 *    (sheet and exception ids are random by design, pages.h and decisions.h).
 *  - Memory: at most jobs + 2 pages are in flight (taken from the source and not yet read
 *    and archived; such a page may hold a decoded image). Pages done wait for their turn to
 *    commit holding only their reading, up to 8 per worker, so that a worker need not
 *    wait behind a large page another is decoding. A single-page file is never held whole.
 *  - Duplex (options.duplex): the source alternates front and back; a sheet is recorded
 *    front first, then its back; the back of a front already in the session is not stored.
 *    A front whose back never comes (a fault) is dropped with it and fed again.
 *  - Double feed (options.double_feed_rule): a page longer than the ballot (the session's
 *    first form) by PHIEU_SOURCE_DOUBLE_FEED_MARGIN_MM goes to review.
 *  - A file that cannot be decoded is recorded as an unreadable page (its bytes archived,
 *    an exception opened), never dropped.
 *  - Events: the callback is called once per sheet (per page without duplex) after it is
 *    committed or found already in the session, on the intake's commit thread, one call at
 *    a time, in feed order. It must not call back into the intake or use the session.
 *  - Secrecy: events carry the sheet's position in the batch and its reading, for the
 *    operator's screen only; nothing here is stored or logged beyond what the session does.
 *  - Threads: run() starts jobs worker threads and a commit thread and joins them before it
 *    returns; the workers block every signal. The source is used on the caller's thread
 *    only, the session on the commit thread only while run() works.
 *  - Ownership: phieu_intake_destroy(&in) frees the intake (not the session or source).
 */
#ifndef PHIEU_INTAKE_H
#define PHIEU_INTAKE_H

#include <signal.h>

#include "phieu/error.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/source.h"

/* Workers beyond the machine's cores only add memory; 64 bounds a mistyped --jobs. */
#define PHIEU_INTAKE_MAX_JOBS 64

typedef struct phieu_intake phieu_intake;

/* Running totals since the intake was created. */
typedef struct phieu_intake_counts {
    int pages;                            /* pages taken and committed or skipped */
    int pages_expected;                   /* known ahead (files), 0 for a scanner */
    int fresh;                            /* pages recorded */
    int counted, review, rejected, blank; /* fresh pages by status */
    int already;                          /* pages already in the session, not counted again */
    int rescans;                          /* pages whose ink matched a sheet: possible rescans */
    int unreadable;                       /* files recorded as unreadable */
    int exceptions;                       /* exceptions opened */
    int sheets;                           /* sheets recorded (a front and its back are one) */
    int backs;                            /* backs recorded */
    int sheets_to_review;                 /* recorded sheets with an exception or not counted */
    int double_feeds;
} phieu_intake_counts;

typedef enum {
    PHIEU_INTAKE_SHEET = 1, /* a sheet (a page without duplex) is committed or skipped */
} phieu_intake_event_kind;

typedef struct phieu_intake_event {
    phieu_intake_event_kind kind;
    const phieu_intake_counts *counts; /* totals, this sheet included */
    int sheet;                         /* its position in the batch (the operator's label) */
    const char *path;                  /* the file it came from; NULL for a scanner */
    int page_in_file;                  /* from 1 */
    const phieu_page_result *front;    /* outcome PHIEU_ADD_DUPLICATE: skipped */
    const phieu_page_result *back;     /* NULL without duplex or when not stored */
    const char *form_id;               /* the front's form, NULL when unknown */
    int unreadable;                    /* the file could not be decoded */
    int double_feed;
    int to_review; /* recorded with an exception or not counted */
} phieu_intake_event;

typedef void (*phieu_intake_event_fn)(const phieu_intake_event *ev, void *user);

typedef struct phieu_intake_options {
    int jobs;             /* worker threads; 0: the number of cores */
    int duplex;           /* the source alternates front and back */
    int double_feed_rule; /* apply the page-length rule (scanners) */
    int placed;           /* sheets the operator placed, 0 unknown (a new batch only) */
    int new_batch;        /* 1: always open a new batch; 0: continue the last open one */
    const char *actor;    /* who closes the batch, for the log (pages.h: NULL default) */
    const volatile sig_atomic_t *stop; /* set (by a signal handler): stop feeding, commit
                                          the pages in flight, run() returns ECANCELLED */
    phieu_intake_event_fn on_event;    /* may be NULL */
    void *user;
} phieu_intake_options;

typedef struct phieu_intake_state {
    phieu_batch batch; /* as created: opened or continued */
    int continued;     /* 1: the batch was open already */
    int placed;        /* the batch's sheets placed (0 unknown) */
    int first_sheet;   /* the position the next sheet of the batch gets */
    int failed_sheet;  /* after run() failed: the first sheet not recorded */
    int dropped_front; /* after a fault with duplex: the sheet whose front was dropped */
    phieu_intake_counts counts;
} phieu_intake_state;

/* Opens a new batch (or continues the last open one, unless options->new_batch). */
int phieu_intake_create(phieu_session *s, const phieu_intake_options *options, phieu_intake **out,
                        phieu_error *err);
const phieu_intake_state *phieu_intake_get_state(const phieu_intake *in);
/* Feeds every page of src into the batch. Returns 0 when the source is exhausted;
 * PHIEU_ECANCELLED when options->stop was set; PHIEU_EDEVICE on a scanner fault (err says
 * which sheet to put back; the pages before are committed; run() may be called again with
 * the same source once the operator has cleared the fault); another negative code when a
 * page could not be recorded (err names the file; state->failed_sheet says from which
 * sheet on nothing was recorded). Every page whose event was sent is committed. */
int phieu_intake_run(phieu_intake *in, phieu_source *src, phieu_error *err);
/* Closes the batch (one log entry). count_differs: 1 when sheets were placed and a
 * different number was recorded. out may be NULL. */
int phieu_intake_finish(phieu_intake *in, phieu_batch *out, int *count_differs, phieu_error *err);
void phieu_intake_destroy(phieu_intake **in);

/* The default number of workers: the cores this process may use. */
int phieu_intake_default_jobs(void);

#endif
