/*
 * intake.c - the page intake behind `phieu scan` and `phieu import`: the caller's thread
 * takes pages from the source into a ring of slots, N workers decode, read and encode
 * them, and one commit thread records them in feed order and reports each sheet. Batches,
 * duplex pairing, the double-feed rule and unreadable files are handled here; archiving
 * and the transaction are the session's (pages.c), the pages themselves the source's.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/intake.h"

/* Pages in flight beyond the workers: one page being taken from the source while every
 * worker is busy, and one queued for the next free worker. A page in flight may hold a
 * decoded image (tens of MB at 600 dpi). */
#define INTAKE_EXTRA_SLOTS 2
/* Pages done (read, archived, their image freed: a slot of 15 KB and, for a page of little
 * ink, its strokes) that wait for an earlier page to commit, per worker. Pages are committed
 * in feed order, and a 600 dpi page takes up to nine times a 200 dpi one: while one worker
 * decodes it, the others go on with the pages behind it instead of waiting for it (with
 * only N + 2 slots, a second worker stood idle behind every large page). */
#define INTAKE_BACKLOG_PER_JOB 8

enum { SLOT_FREE = 0, SLOT_QUEUED, SLOT_WORKING, SLOT_DONE };

typedef struct slot {
    int state;
    phieu_source_item item;
    int expects_back; /* a duplex front: its back is in the next slot */
    int double_feed;
    char why[400];
    phieu_prepared_page pp;
    int rc; /* of the worker's preparation */
    phieu_error err;
} slot;

/* What the commit thread keeps of a duplex front until its back is committed. */
typedef struct held_front {
    int pending, duplicate, double_feed, unreadable, to_review, sheet, page_in_file;
    char path[4096];
    phieu_page_result res;
} held_front;

struct phieu_intake {
    phieu_session *s;
    phieu_intake_options o;
    phieu_omr_config config;
    const char *archive_dir; /* the session's, read-only */
    phieu_intake_state st;
    double page_h_mm;
    int jobs;
    /* While run() works; counters are sequence numbers of pages, slot = seq % n_slots. */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    slot *slots;
    long n_slots, produced, taken, committed;
    long in_flight_max; /* jobs + INTAKE_EXTRA_SLOTS */
    long waiting;       /* pages done, not committed yet (they are not in flight) */
    int closed, failed;
    phieu_error fail_err;
    held_front front; /* the commit thread's */
};

int phieu_intake_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PHIEU_INTAKE_MAX_JOBS ? PHIEU_INTAKE_MAX_JOBS : (int)n;
}

int phieu_intake_create(phieu_session *s, const phieu_intake_options *options, phieu_intake **out,
                        phieu_error *err)
{
    if (!s || !options || !out)
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_intake_create: missing argument");
    *out = NULL;
    if (options->jobs < 0 || options->jobs > PHIEU_INTAKE_MAX_JOBS)
        return phieu_error_set(err, PHIEU_EINVAL, "the number of workers is 1 to %d (%d given)",
                               PHIEU_INTAKE_MAX_JOBS, options->jobs);
    phieu_intake *in = phieu_calloc(1, sizeof *in);
    if (!in)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory starting the intake");
    in->s = s;
    in->o = *options;
    in->jobs = options->jobs > 0 ? options->jobs : phieu_intake_default_jobs();
    phieu_session_omr_config(s, &in->config);
    const phieu_session_info *si = phieu_session_get_info(s);
    in->archive_dir = si->archive_dir;
    in->page_h_mm = si->n_forms > 0 && si->layouts[0].page_h > 0 ? si->layouts[0].page_h
                                                                 : PHIEU_SOURCE_A4_LENGTH_MM;
    int rc =
        options->new_batch ? PHIEU_ENOTFOUND : phieu_session_batch_last_open(s, &in->st.batch, err);
    in->st.continued = rc == 0;
    if (rc == PHIEU_ENOTFOUND)
        rc = phieu_session_batch_open(s, options->placed, &in->st.batch, err);
    if (rc < 0) {
        phieu_free(in);
        return rc;
    }
    in->st.placed = in->st.batch.placed > 0 ? in->st.batch.placed : options->placed;
    in->st.first_sheet = in->st.batch.sheets + 1;
    *out = in;
    return 0;
}

const phieu_intake_state *phieu_intake_get_state(const phieu_intake *in)
{
    return &in->st;
}

void phieu_intake_destroy(phieu_intake **in)
{
    if (!in || !*in)
        return;
    phieu_free(*in);
    *in = NULL;
}

int phieu_intake_finish(phieu_intake *in, phieu_batch *out, int *count_differs, phieu_error *err)
{
    phieu_batch b;
    int rc = phieu_session_batch_close(in->s, in->st.batch.id, in->o.actor, &b, err);
    if (rc < 0)
        return rc;
    if (out)
        *out = b;
    if (count_differs)
        *count_differs = in->st.placed > 0 && in->st.placed != b.sheets;
    return 0;
}

/* ---- The workers: decode, read, encode --------------------------------------------- */

static void double_feed_check(const phieu_intake *in, slot *sl)
{
    const phieu_page_info *info = &sl->item.info;
    if (!in->o.double_feed_rule || info->side != PHIEU_SOURCE_FRONT ||
        info->length_mm <= in->page_h_mm + PHIEU_SOURCE_DOUBLE_FEED_MARGIN_MM)
        return;
    snprintf(sl->why, sizeof sl->why,
             "the page is %.0f mm long and the ballot %.0f mm: two sheets fed together? "
             "/ trang dài %.0f mm, phiếu dài %.0f mm: có thể hai tờ bị kéo cùng lúc",
             info->length_mm, in->page_h_mm, info->length_mm, in->page_h_mm);
    sl->double_feed = 1;
}

/* The image is the biggest thing in flight: once read (and encoded if it must be), its
 * memory decodes the worker's next page. */
static void recycle(phieu_source_item *item, phieu_image **spare)
{
    phieu_image_destroy(spare);
    *spare = item->image;
    item->image = NULL;
    phieu_source_item_release(item);
}

/* A single-page file: copied into the archive while it is hashed, decoded from that copy
 * (mapped, given back as it decodes), read; the copy stays as the archive file unless the
 * page must be re-encoded. The file is never held whole in memory. */
static int prepare_file(const phieu_intake *in, slot *sl, phieu_image **spare)
{
    phieu_source_item *item = &sl->item;
    if (phieu_session_page_receive(in->archive_dir, item->path, item->max_bytes, &sl->pp,
                                   &sl->err) < 0 ||
        phieu_source_item_decode_copy(item, sl->pp.received, NULL, spare, &sl->err) < 0)
        return sl->err.code;
    int rc = 0;
    if (item->unreadable) {
        phieu_session_received_unreadable(&sl->pp, item->what);
    } else {
        double_feed_check(in, sl);
        rc = phieu_session_received_prepare(&in->config, item->image, &sl->pp, &sl->err);
        recycle(item, spare);
    }
    return rc;
}

/* A page decoded already (a gray scanner frame), a page of a multi-page file (decoded here
 * from its file) or the bytes of a file that cannot be decoded: encoded (or kept as the
 * unreadable bytes) and read. A colour scan comes as RGB: _decode encodes it here, on the
 * worker, as the RGB PNG that is archived as received (the seal's colour is evidence), and
 * makes the gray that is read in the RGB's memory. */
static int prepare_decoded(const phieu_intake *in, slot *sl, phieu_image **spare)
{
    phieu_source_item *item = &sl->item;
    if (phieu_source_item_decode(item, NULL, spare, &sl->err) < 0)
        return sl->err.code;
    if (item->unreadable) {
        uint8_t *bytes = item->bytes;
        item->bytes = NULL;
        return phieu_session_unreadable_prepare(bytes, item->len, item->what, &sl->pp,
                                                &sl->err);
    }
    double_feed_check(in, sl);
    uint8_t *received = item->bytes; /* NULL unless the source read the file whole */
    size_t received_len = item->len;
    item->bytes = NULL;
    int rc = phieu_session_page_prepare(&in->config, item->image, received, received_len,
                                        &sl->pp, &sl->err);
    recycle(item, spare);
    return rc;
}

/* Everything about a page that needs no session, archive write included: off the commit
 * path, so that the archive's fsyncs overlap the other pages' work. */
static int prepare(const phieu_intake *in, slot *sl, phieu_image **spare)
{
    const phieu_source_item *item = &sl->item;
    int file = item->max_bytes > 0 && !item->image && !item->bytes && !item->unreadable;
    int rc = file ? prepare_file(in, sl, spare) : prepare_decoded(in, sl, spare);
    if (rc == 0)
        rc = phieu_session_prepared_store(in->archive_dir, &sl->pp, &sl->err);
    if (rc == 0) { /* on disk now: the commit needs only the hash and the reading */
        phieu_free(sl->pp.bytes);
        sl->pp.bytes = NULL;
    }
    return rc;
}

static void *worker(void *arg)
{
    phieu_intake *in = arg;
    phieu_image *spare = NULL; /* the last page's memory, for the next */
    pthread_mutex_lock(&in->lock);
    for (;;) {
        while (in->taken == in->produced && !in->closed)
            pthread_cond_wait(&in->changed, &in->lock);
        if (in->taken == in->produced)
            break;
        slot *sl = &in->slots[in->taken++ % in->n_slots];
        sl->state = SLOT_WORKING;
        int skip = in->failed;
        pthread_mutex_unlock(&in->lock);
        sl->rc = skip ? PHIEU_ECANCELLED : prepare(in, sl, &spare);
        pthread_mutex_lock(&in->lock);
        sl->state = SLOT_DONE;
        in->waiting++;
        pthread_cond_broadcast(&in->changed);
    }
    pthread_mutex_unlock(&in->lock);
    phieu_image_destroy(&spare);
    return NULL;
}

/* ---- The commit thread: record in feed order, report ------------------------------- */

static void account_front(phieu_intake_counts *c, const phieu_page_result *r, int unreadable)
{
    if (r->outcome == PHIEU_ADD_DUPLICATE) {
        c->already++;
        return;
    }
    c->fresh++;
    c->sheets++;
    c->unreadable += unreadable;
    c->exceptions += r->n_exceptions;
    c->rescans += r->possible_duplicate_of[0] != '\0';
    /* A blank page is stored as rejected (a person looks at it), but it is a blank. */
    int blank = r->status == PHIEU_PAGE_BLANK || r->reading.status == PHIEU_PAGE_BLANK;
    switch (blank ? PHIEU_PAGE_BLANK : r->status) {
    case PHIEU_PAGE_COUNTED:
        c->counted++;
        break;
    case PHIEU_PAGE_REVIEW:
        c->review++;
        break;
    case PHIEU_PAGE_BLANK:
        c->blank++;
        break;
    default:
        c->rejected++;
        break;
    }
}

static void emit(phieu_intake *in, const held_front *f, const phieu_page_result *back)
{
    in->st.counts.sheets_to_review += f->to_review;
    if (!in->o.on_event)
        return;
    const phieu_session_info *si = phieu_session_get_info(in->s);
    phieu_intake_event ev = {0};
    ev.kind = PHIEU_INTAKE_SHEET;
    ev.counts = &in->st.counts;
    ev.sheet = f->sheet;
    ev.path = f->path[0] ? f->path : NULL;
    ev.page_in_file = f->page_in_file;
    ev.front = &f->res;
    ev.back = back;
    ev.form_id = f->res.form_index >= 0 && f->res.form_index < si->n_forms
                     ? si->forms[f->res.form_index]->id
                     : NULL;
    ev.unreadable = f->unreadable;
    ev.double_feed = f->double_feed;
    ev.to_review = f->to_review;
    in->o.on_event(&ev, in->o.user);
}

static int commit_slot(phieu_intake *in, slot *sl, phieu_error *err)
{
    const phieu_source_item *item = &sl->item;
    held_front *f = &in->front;
    if (sl->rc < 0) {
        *err = sl->err;
        goto fail;
    }
    phieu_page_meta meta = {in->st.batch.id, 0,
                            item->info.side, NULL,
                            sl->double_feed, sl->double_feed ? sl->why : NULL};
    if (item->info.side == PHIEU_SOURCE_BACK) {
        in->st.counts.pages++;
        if (!f->pending)
            return 0;
        f->pending = 0;
        if (f->duplicate) { /* a re-fed sheet already counted: its back is not stored */
            emit(in, f, NULL);
            return 0;
        }
        meta.back_of = f->res.sheet_id;
        if (phieu_session_page_commit(in->s, &meta, &sl->pp, err) < 0)
            goto fail;
        const phieu_page_result *b = &sl->pp.result;
        in->st.counts.backs += b->outcome == PHIEU_ADD_NEW;
        f->to_review |= b->outcome == PHIEU_ADD_NEW && b->n_exceptions > 0;
        emit(in, f, b);
        return 0;
    }
    if (phieu_session_page_commit(in->s, &meta, &sl->pp, err) < 0)
        goto fail;
    const phieu_page_result *r = &sl->pp.result;
    in->st.counts.pages++;
    account_front(&in->st.counts, r, sl->pp.unreadable);
    f->res = *r;
    f->duplicate = r->outcome == PHIEU_ADD_DUPLICATE;
    f->double_feed = sl->double_feed && !f->duplicate;
    in->st.counts.double_feeds += f->double_feed;
    f->unreadable = sl->pp.unreadable;
    f->to_review = !f->duplicate && (r->n_exceptions > 0 || r->status != PHIEU_PAGE_COUNTED);
    f->sheet = item->info.sheet;
    f->page_in_file = item->page_in_file;
    snprintf(f->path, sizeof f->path, "%s", item->path);
    f->pending = sl->expects_back;
    if (!f->pending)
        emit(in, f, NULL);
    return 0;
fail:
    if (item->path[0]) {
        if (item->page_in_file > 1)
            phieu_error_prefix(err, "'%s' page %d: ", item->path, item->page_in_file);
        else
            phieu_error_prefix(err, "'%s': ", item->path);
    }
    return err->code;
}

static void *committer(void *arg)
{
    phieu_intake *in = arg;
    pthread_mutex_lock(&in->lock);
    for (;;) {
        slot *sl = &in->slots[in->committed % in->n_slots];
        while (!(in->committed < in->produced && sl->state == SLOT_DONE) &&
               !(in->closed && in->committed == in->produced))
            pthread_cond_wait(&in->changed, &in->lock);
        if (in->committed == in->produced)
            break;
        int skip = in->failed;
        pthread_mutex_unlock(&in->lock);
        phieu_error err = {0};
        int rc = skip ? 0 : commit_slot(in, sl, &err);
        phieu_source_item_release(&sl->item);
        phieu_session_prepared_release(&sl->pp);
        pthread_mutex_lock(&in->lock);
        if (rc < 0 && !in->failed) {
            in->failed = 1;
            in->fail_err = err;
            in->st.failed_sheet = sl->item.info.sheet;
        }
        sl->state = SLOT_FREE;
        in->committed++;
        in->waiting--;
        pthread_cond_broadcast(&in->changed);
    }
    pthread_mutex_unlock(&in->lock);
    return NULL;
}

/* ---- The caller's thread: take pages from the source ------------------------------- */

/* Whether k more pages may be taken: the ring has room, and at most in_flight_max pages
 * would be in flight (taken and not done yet). With the lock held. */
static int has_room(const phieu_intake *in, long k)
{
    long uncommitted = in->produced + k - in->committed;
    return uncommitted <= in->n_slots && uncommitted - in->waiting <= in->in_flight_max;
}

/* Waits until `k` more pages may be taken; 0, or -1 once a commit failed. */
static int wait_room(phieu_intake *in, long k)
{
    pthread_mutex_lock(&in->lock);
    while (!has_room(in, k) && !in->failed)
        pthread_cond_wait(&in->changed, &in->lock);
    int failed = in->failed;
    pthread_mutex_unlock(&in->lock);
    return failed ? -1 : 0;
}

static void publish(phieu_intake *in, long k)
{
    pthread_mutex_lock(&in->lock);
    for (long i = 0; i < k; i++)
        in->slots[(in->produced + i) % in->n_slots].state = SLOT_QUEUED;
    in->produced += k;
    pthread_cond_broadcast(&in->changed);
    pthread_mutex_unlock(&in->lock);
}

static int stop_asked(const phieu_intake *in)
{
    return in->o.stop && *in->o.stop;
}

/* Takes pages until the source ends (0), a fault or error (< 0), a stop (ECANCELLED) or a
 * failed commit (0: run() reports the commit's error). */
static int feed(phieu_intake *in, phieu_source *src, phieu_error *err)
{
    int held = 0; /* a duplex front waits in the next slot for its back */
    for (;;) {
        if (!held && stop_asked(in))
            return PHIEU_ECANCELLED;
        if (wait_room(in, held + 1) < 0)
            return 0;
        slot *sl = &in->slots[(in->produced + held) % in->n_slots];
        memset(sl, 0, sizeof *sl); /* free: nothing of the page it last held may stay */
        int rc = phieu_source_take(src, &sl->item, err);
        if (rc == 1 && in->o.duplex && sl->item.info.side == PHIEU_SOURCE_FRONT) {
            if (held) { /* a front without its back cannot happen; drop it safely */
                slot *old = &in->slots[in->produced % in->n_slots];
                phieu_source_item_release(&old->item);
                *old = *sl;
                memset(sl, 0, sizeof *sl);
            }
            held = 1;
            continue; /* a stop waits for the back: the sheet in flight is finished */
        }
        if (rc == 1) {
            if (sl->item.info.side == PHIEU_SOURCE_BACK && !held) {
                phieu_source_item_release(&sl->item);
                continue;
            }
            in->slots[in->produced % in->n_slots].expects_back = held;
            publish(in, held + 1);
            held = 0;
            continue;
        }
        slot *front = &in->slots[in->produced % in->n_slots];
        if (rc == 0) {
            /* A duplex scanner always sends the back; should one end the feed after a
             * front, the front is still recorded rather than lost. */
            if (held)
                publish(in, 1);
            return 0;
        }
        phieu_source_item_release(&sl->item);
        if (held) {
            in->st.dropped_front = front->item.info.sheet;
            phieu_source_item_release(&front->item);
        }
        return rc;
    }
}

/* Starts count threads running fn with every signal blocked (Ctrl-C reaches the caller's
 * thread only, never a disk write or a commit). Returns how many started. */
static int start_threads(pthread_t *t, int count, void *(*fn)(void *), phieu_intake *in)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int n = 0;
    while (n < count && pthread_create(&t[n], NULL, fn, in) == 0)
        n++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n;
}

int phieu_intake_run(phieu_intake *in, phieu_source *src, phieu_error *err)
{
    if (!in || !src)
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_intake_run: missing argument");
    in->st.counts.pages_expected = phieu_source_pages_expected(src);
    in->st.dropped_front = 0;
    in->in_flight_max = in->jobs + INTAKE_EXTRA_SLOTS;
    in->n_slots = in->in_flight_max + (long)in->jobs * INTAKE_BACKLOG_PER_JOB;
    in->slots = phieu_calloc((size_t)in->n_slots, sizeof *in->slots);
    pthread_t *threads = phieu_calloc((size_t)in->jobs + 1, sizeof *threads);
    if (!in->slots || !threads) {
        phieu_free(in->slots);
        phieu_free(threads);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory starting the intake");
    }
    in->produced = in->taken = in->committed = in->waiting = 0;
    in->closed = in->failed = 0;
    memset(&in->front, 0, sizeof in->front);
    pthread_mutex_init(&in->lock, NULL);
    pthread_cond_init(&in->changed, NULL);
    int started = start_threads(threads, 1, committer, in);
    if (started == 1)
        started += start_threads(threads + 1, in->jobs, worker, in);
    int rc = started == in->jobs + 1
                 ? feed(in, src, err)
                 : phieu_error_set(err, PHIEU_ENOMEM,
                                   "cannot start the reading threads: %s; close other "
                                   "programs or give fewer --jobs",
                                   strerror(errno));
    pthread_mutex_lock(&in->lock);
    in->closed = 1;
    pthread_cond_broadcast(&in->changed);
    pthread_mutex_unlock(&in->lock);
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_cond_destroy(&in->changed);
    pthread_mutex_destroy(&in->lock);
    for (long i = 0; i < in->n_slots; i++) { /* what a failure left unprocessed */
        phieu_source_item_release(&in->slots[i].item);
        phieu_session_prepared_release(&in->slots[i].pp);
    }
    phieu_free(in->slots);
    in->slots = NULL;
    phieu_free(threads);
    if (in->failed) {
        *err = in->fail_err;
        return err->code;
    }
    in->st.first_sheet = in->st.batch.sheets + in->st.counts.sheets + 1;
    return rc;
}
