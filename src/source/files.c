/*
 * files.c - the image-file page source: every page of each file (or of each image file
 * of a folder, in name order), decoded by the image module's readers. Duplex input
 * alternates front and back. It never touches SANE (sane.c) and never prints.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "phieu/alloc.h"
#include "source/source_private.h"

typedef struct files_state {
    char **paths;
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

static void files_cancel(phieu_source *s)
{
    (void)s;
}

static const phieu_source_ops files_ops = {files_next, files_cancel, files_destroy};

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
        if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = add_folder(f, &cap, paths[i], err);
        else
            rc = add_path(f, &cap, paths[i], err);
        if (rc < 0) {
            phieu_source_destroy(&s);
            return rc;
        }
    }
    *out = s;
    return 0;
}
