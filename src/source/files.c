/*
 * files.c - the image-file page source: every page of each file (or of each image file
 * of a folder, in name order), decoded by the image module's readers. Duplex input
 * alternates front and back. Folders are listed and pages counted by list.c, the only
 * lister of image files, when the source opens; through phieu_source_take no page is
 * decoded here: a single-page file is handed over unread, a page of a multi-page file as its
 * file and number (its directory read), and the intake decodes them on its workers. It
 * never touches SANE (sane.c) and never prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "source/source_internal.h"

typedef struct files_state {
    char **paths;
    int *page_counts; /* pages of each file, counted when opened */
    int total_pages;
    size_t n, next;
    int duplex;
    phieu_image_limits limits;
    phieu_image_reader *reader;
    size_t current;   /* index of the file the reader reads */
    int page_in_file; /* pages already read from it */
    int pages;        /* pages delivered */
} files_state;

static int add_path(files_state *f, size_t *cap, const char *path, phieu_error *err)
{
    if (f->n == *cap) {
        size_t grown = *cap ? *cap * 2 : 16;
        char **p = phieu_realloc(f->paths, grown * sizeof *p);
        if (!p)
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing image files");
        f->paths = p;
        *cap = grown;
    }
    if (!(f->paths[f->n] = phieu_strdup(path)))
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing image files");
    f->n++;
    return 0;
}

static int add_folder(files_state *f, size_t *cap, const char *dir, phieu_error *err)
{
    char **listed = NULL;
    size_t n = 0;
    int rc = phieu_source_list_folder(dir, 0, &listed, &n, err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = add_path(f, cap, listed[i], err);
    phieu_source_list_free(&listed, n);
    return rc;
}

static void files_destroy(phieu_source *s)
{
    files_state *f = s->impl;
    if (!f)
        return;
    phieu_image_reader_close(&f->reader);
    for (size_t i = 0; i < f->n; i++)
        phieu_free(f->paths[i]);
    phieu_free(f->paths);
    phieu_free(f->page_counts);
    phieu_free(f);
    s->impl = NULL;
}

static int files_next(phieu_source *s, phieu_image **page, phieu_page_info *info,
                      phieu_error *err)
{
    files_state *f = s->impl;
    for (;;) {
        if (!f->reader) {
            if (f->next >= f->n)
                return 0;
            f->current = f->next++;
            f->page_in_file = 0;
            int rc = phieu_image_reader_open(f->paths[f->current], &f->limits, &f->reader, err);
            if (rc < 0)
                return rc;
        }
        int rc = phieu_image_reader_next(f->reader, page, err);
        if (rc == 0) {
            phieu_image_reader_close(&f->reader);
            continue;
        }
        if (rc < 0) {
            phieu_image_reader_close(&f->reader);
            return rc;
        }
        f->page_in_file++;
        f->pages++;
        memset(info, 0, sizeof *info);
        info->page = f->pages;
        info->side = f->duplex && f->pages % 2 == 0 ? PHIEU_SOURCE_BACK : PHIEU_SOURCE_FRONT;
        info->sheet = f->duplex ? (f->pages + 1) / 2 : f->pages;
        info->bytes_announced = info->bytes_received =
            (uint64_t)(*page)->width * (uint64_t)(*page)->height;
        info->dpi = (*page)->dpi_y;
        info->length_mm = info->dpi > 0 ? (*page)->height / info->dpi * 25.4 : 0;
        info->sane_format = -1;
        info->depth = 8;
        info->frames = 1;
        snprintf(info->origin, sizeof info->origin, "%s page %d", f->paths[f->current],
                 f->page_in_file);
        return 1;
    }
}

static int files_pages_expected(const phieu_source *s)
{
    const files_state *f = s->impl;
    return f->total_pages;
}

/* The whole file, for a single-page file decoded elsewhere or a file that cannot be
 * decoded (its bytes are kept as the evidence). */
static int take_bytes(files_state *f, phieu_source_item *item, phieu_error *err)
{
    int rc = phieu_read_file(item->path, f->limits.max_bytes, &item->bytes, &item->len, err);
    if (rc < 0)
        phieu_error_prefix(err, "'%s': ", item->path);
    return rc;
}

static void take_info(files_state *f, phieu_source_item *item)
{
    f->pages++;
    item->info.page = f->pages;
    item->info.side = f->duplex && f->pages % 2 == 0 ? PHIEU_SOURCE_BACK : PHIEU_SOURCE_FRONT;
    item->info.sheet = f->duplex ? (f->pages + 1) / 2 : f->pages;
    item->info.sane_format = -1;
    snprintf(item->info.origin, sizeof item->info.origin, "%s page %d", f->paths[f->current],
             item->page_in_file);
}

static int files_take(phieu_source *s, phieu_source_item *item, phieu_error *err)
{
    files_state *f = s->impl;
    for (;;) {
        if (!f->reader) {
            if (f->next >= f->n)
                return 0;
            f->current = f->next++;
            f->page_in_file = 0;
            snprintf(item->path, sizeof item->path, "%s", f->paths[f->current]);
            if (f->page_counts[f->current] <= 1) {
                /* Read and decoded by the caller's workers: only their files are in memory. */
                item->page_in_file = 1;
                item->max_bytes = f->limits.max_bytes;
                take_info(f, item);
                return 1;
            }
            phieu_error why = {0};
            int rc = phieu_image_reader_open(item->path, &f->limits, &f->reader, &why);
            if (rc == PHIEU_ENOMEM) {
                *err = why;
                return rc;
            }
            if (rc < 0) {
                item->page_in_file = 1;
                item->unreadable = 1;
                snprintf(item->what, sizeof item->what, "%s", why.message);
                take_info(f, item);
                return take_bytes(f, item, err) < 0 ? err->code : 1;
            }
        }
        snprintf(item->path, sizeof item->path, "%s", f->paths[f->current]);
        phieu_error why = {0};
        /* The page's directory is read here, so that a damaged one ends the file in feed
         * order; its pixels are decoded by the caller's workers (phieu_source_item_decode). */
        int rc = phieu_image_reader_skip(f->reader, &why);
        if (rc == 0) {
            phieu_image_reader_close(&f->reader);
            continue;
        }
        item->page_in_file = ++f->page_in_file;
        take_info(f, item);
        if (rc == PHIEU_ENOMEM) {
            *err = why;
            return rc;
        }
        if (rc < 0) {
            /* The pages before stay; the whole file is kept as the unreadable page. */
            phieu_image_reader_close(&f->reader);
            item->unreadable = 1;
            snprintf(item->what, sizeof item->what, "%s", why.message);
            return take_bytes(f, item, err) < 0 ? err->code : 1;
        }
        item->page_pending = 1;
        item->limits = f->limits;
        return 1;
    }
}

static void files_cancel(phieu_source *s)
{
    (void)s;
}

static const phieu_source_ops files_ops = {files_next, files_cancel, files_destroy, files_take,
                                           files_pages_expected};

int phieu_source_open_files(const char *const *paths, size_t n_paths, int duplex,
                            const phieu_image_limits *limits, phieu_source **out,
                            phieu_error *err)
{
    if (!out || (!paths && n_paths))
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_source_open_files: missing argument");
    *out = NULL;
    phieu_source *s = phieu_calloc(1, sizeof *s);
    files_state *f = phieu_calloc(1, sizeof *f);
    if (!s || !f) {
        phieu_free(s);
        phieu_free(f);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening image files");
    }
    s->ops = &files_ops;
    s->impl = f;
    f->duplex = duplex != 0;
    f->limits = limits ? *limits : phieu_image_default_limits();
    size_t cap = 0;
    for (size_t i = 0; i < n_paths; i++) {
        struct stat st;
        int rc;
        if (stat(paths[i], &st) != 0)
            rc = phieu_error_set(err, PHIEU_ENOTFOUND,
                                 "cannot open '%s': no such file or folder", paths[i]);
        else if (S_ISDIR(st.st_mode))
            rc = add_folder(f, &cap, paths[i], err);
        else
            rc = add_path(f, &cap, paths[i], err);
        if (rc < 0) {
            phieu_source_destroy(&s);
            return rc;
        }
    }
    f->page_counts = phieu_calloc(f->n ? f->n : 1, sizeof *f->page_counts);
    if (!f->page_counts) {
        phieu_source_destroy(&s);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening image files");
    }
    for (size_t i = 0; i < f->n; i++) {
        f->page_counts[i] = phieu_source_file_pages(f->paths[i]);
        f->total_pages += f->page_counts[i];
    }
    *out = s;
    return 0;
}
