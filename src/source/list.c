/*
 * list.c - the one lister of image files: a folder's image files in name order, and how
 * many pages (sides) each holds. The file source (files.c) lists with it, and so does the
 * SANE backend, which compiles this file in (it links nothing else of phieu), so that a
 * folder imported and the same folder fed through the rehearsal scanner are the same
 * pages in the same order. It never prints and holds no state.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <tiffio.h>

#include "phieu/alloc.h"
#include "phieu/source.h"

/* A hostile TIFF can chain directories without end; no scan holds this many sides. */
#define LIST_MAX_TIFF_PAGES 10000

int phieu_source_is_image_name(const char *name, int with_pnm)
{
    const char *dot = strrchr(name, '.');
    static const char *const ext[] = {".png", ".tif", ".tiff", ".pgm", ".ppm", ".pbm", ".pnm"};
    size_t n_ext = with_pnm ? sizeof ext / sizeof ext[0] : 3;
    if (!dot || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n_ext; i++)
        if (strcasecmp(dot, ext[i]) == 0)
            return 1;
    return 0;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void phieu_source_list_free(char ***paths, size_t n)
{
    if (!*paths)
        return;
    for (size_t i = 0; i < n; i++)
        phieu_free((*paths)[i]);
    phieu_free(*paths);
    *paths = NULL;
}

/* Appends dir/name to the list, growing it. */
static int append(char ***paths, size_t *n, size_t *cap, const char *dir, const char *name)
{
    if (*n == *cap) {
        size_t grown = *cap ? *cap * 2 : 64;
        char **p = phieu_realloc(*paths, grown * sizeof *p);
        if (!p)
            return PHIEU_ENOMEM;
        *paths = p;
        *cap = grown;
    }
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = phieu_malloc(len);
    if (!path)
        return PHIEU_ENOMEM;
    snprintf(path, len, "%s/%s", dir, name);
    (*paths)[(*n)++] = path;
    return 0;
}

int phieu_source_list_folder(const char *dir, int with_pnm, char ***paths, size_t *n,
                             phieu_error *err)
{
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return phieu_error_set(err, PHIEU_EIO, "cannot open folder '%s': check the path", dir);
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL)
        if (phieu_source_is_image_name(e->d_name, with_pnm))
            rc = append(paths, n, &cap, dir, e->d_name);
    closedir(d);
    if (rc != 0) {
        phieu_source_list_free(paths, *n);
        *n = 0;
        return phieu_error_set(err, rc, "out of memory listing '%s'", dir);
    }
    if (*n > 1)
        qsort(*paths, *n, sizeof **paths, cmp_path);
    return 0;
}

static void tiff_quiet(const char *module, const char *fmt, va_list ap)
{
    (void)module, (void)fmt, (void)ap;
}

int phieu_source_file_pages(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 1;
    unsigned char head[4] = {0};
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    /* TIFF by its first bytes, not its name: II*\0, MM\0*, and BigTIFF's II+\0, MM\0+. */
    int tiff = got == 4 && ((head[0] == 'I' && head[1] == 'I' && (head[2] == 42 || head[2] == 43) &&
                             head[3] == 0) ||
                            (head[0] == 'M' && head[1] == 'M' && head[2] == 0 &&
                             (head[3] == 42 || head[3] == 43)));
    if (!tiff)
        return 1;
    TIFFSetWarningHandler(tiff_quiet);
    TIFFSetErrorHandler(tiff_quiet);
    TIFF *t = TIFFOpen(path, "r");
    if (!t)
        return 1;
    int pages = 1;
    while (pages < LIST_MAX_TIFF_PAGES && TIFFReadDirectory(t))
        pages++;
    TIFFClose(t);
    return pages;
}
