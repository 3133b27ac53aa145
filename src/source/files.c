/*
 * files.c - the image-file page source: every page of each file (or of each image file
 * of a folder, in name order), decoded by the image module's readers. Duplex input
 * alternates front and back. It is the only lister of image files: it counts the pages
 * of every file when opened (TIFF directories), and hands single-page files over undecoded
 * through phieu_source_take so that the intake decodes them on its workers. It never
 * touches SANE (sane.c) and never prints.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <tiffio.h>

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

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    static const char *ext[] = {".png", ".tif", ".tiff"};
    if (!dot || name[0] == '.')
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return 1;
    return 0;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

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
    DIR *d = opendir(dir);
    if (!d)
        return phieu_error_set(err, PHIEU_EIO, "cannot open folder '%s': check the path", dir);
    size_t first = f->n;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!is_image_name(e->d_name))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = phieu_malloc(len);
        if (!p) {
            rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing '%s'", dir);
            break;
        }
        snprintf(p, len, "%s/%s", dir, e->d_name);
        rc = add_path(f, cap, p, err);
        phieu_free(p);
    }
    closedir(d);
    if (rc == 0 && f->n > first)
        qsort(f->paths + first, f->n - first, sizeof *f->paths, cmp_path);
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

/* Pages of one file: its TIFF directories, else 1 (a PNG, or a file that is not an image
 * and will be recorded as unreadable). */
static int count_pages(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 1;
    uint8_t head[8] = {0};
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    if (phieu_image_sniff(head, got) != PHIEU_IMAGE_TIFF)
        return 1;
    TIFFSetWarningHandler(NULL);
    TIFFSetErrorHandler(NULL);
    TIFF *t = TIFFOpen(path, "r");
    if (!t)
        return 1;
    int n = TIFFNumberOfDirectories(t);
    TIFFClose(t);
    return n > 0 ? n : 1;
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
        int rc = phieu_image_reader_next(f->reader, &item->image, &why);
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
        phieu_image *page = item->image;
        item->info.bytes_announced = item->info.bytes_received =
            (uint64_t)page->width * (uint64_t)page->height;
        item->info.dpi = page->dpi_y;
        item->info.length_mm = item->info.dpi > 0 ? page->height / item->info.dpi * 25.4 : 0;
        item->info.depth = 8;
        item->info.frames = 1;
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
        f->page_counts[i] = count_pages(f->paths[i]);
        f->total_pages += f->page_counts[i];
    }
    *out = s;
    return 0;
}
