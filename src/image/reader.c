/*
 * reader.c - the page reader: opens a file (memory-mapped, read-only) or a caller's
 * buffer, checks the byte limit, tells TIFF from PNG by the first bytes (and says what
 * anything else looks like), and hands each page to the TIFF or PNG decoder.
 * Decoding itself is in tiff_read.c and png_read.c.
 *
 * Functions: phieu_image_reader_open, phieu_image_reader_open_memory,
 * phieu_image_reader_next, phieu_image_reader_next_reusing, phieu_image_reader_next_rgb,
 * phieu_image_reader_skip, phieu_image_reader_close, phieu_image_load,
 * phieu_rgb_image_load, phieu_image_load_as_stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_internal.h"
#include "phieu/alloc.h"

/* What a file that is neither TIFF nor PNG looks like, from its first bytes. */
static const char *describe_unknown(const uint8_t *d, size_t n)
{
    static const struct {
        const char *magic;
        size_t len;
        const char *what;
    } known[] = {
        {"%PDF", 4, "a PDF document"},
        {"\xff\xd8\xff", 3, "a JPEG photo"},
        {"GIF8", 4, "a GIF image"},
        {"BM", 2, "a BMP image"},
        {"PK\x03\x04", 4, "a ZIP archive (or an office document)"},
        {"\x00\x00\x00\x0cjP  ", 8, "a JPEG 2000 image"},
        {"%!PS", 4, "a PostScript document"},
        {"\x1f\x8b", 2, "a gzip archive"},
        {"P1", 2, "a PNM image"},
        {"P2", 2, "a PNM image"},
        {"P3", 2, "a PNM image"},
        {"P4", 2, "a PNM image"},
        {"P5", 2, "a PNM image"},
        {"P6", 2, "a PNM image"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (n >= known[i].len && memcmp(d, known[i].magic, known[i].len) == 0)
            return known[i].what;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return "a WebP image";
    if (n >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        return "a HEIF/HEIC or MP4 file";
    if (n >= 4 && memcmp(d, "\x89PNG", 4) == 0)
        return "a damaged PNG (its signature is incomplete)";
    size_t text = 0, look = n < 64 ? n : 64;
    for (size_t i = 0; i < look; i++)
        if ((d[i] >= 32 && d[i] < 127) || d[i] == '\n' || d[i] == '\r' || d[i] == '\t')
            text++;
    if (look > 0 && text == look)
        return "a text file";
    return "no known image format";
}

static int reader_alloc(const char *name, const phieu_image_limits *limits,
                        phieu_image_reader **out, phieu_error *err)
{
    phieu_image_reader *r = phieu_calloc(1, sizeof *r);
    if (r)
        r->name = phieu_strdup(name ? name : "(memory)");
    if (!r || !r->name) {
        phieu_free(r);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening '%s'",
                               name ? name : "(memory)");
    }
    r->limits = limits ? *limits : phieu_image_default_limits();
    *out = r;
    return 0;
}

/* Checks the bytes, finds the format and opens its decoder. Closes r on failure. */
static int reader_start(phieu_image_reader **rp, phieu_error *err)
{
    phieu_image_reader *r = *rp;
    int rc = 0;
    if (r->len == 0)
        rc = phieu_error_set(err, PHIEU_EFORMAT, "cannot read '%s': the file is empty", r->name);
    else if ((uint64_t)r->len > r->limits.max_bytes)
        rc = phieu_error_set(err, PHIEU_ELIMIT,
                             "cannot read '%s': it is %zu bytes, more than the limit of "
                             "%llu bytes for one image file",
                             r->name, r->len, (unsigned long long)r->limits.max_bytes);
    if (rc == 0) {
        r->format = phieu_image_sniff(r->data, r->len);
        if (r->format == PHIEU_IMAGE_TIFF)
            rc = phieu_image_tiff_open(r, err);
        else if (r->format == PHIEU_IMAGE_UNKNOWN)
            rc = phieu_error_set(err, PHIEU_EFORMAT,
                                 "cannot read '%s': it looks like %s, not an image phieu "
                                 "reads; phieu accepts TIFF and PNG files (scan or export "
                                 "the pages as TIFF or PNG)",
                                 r->name, describe_unknown(r->data, r->len));
    }
    if (rc != 0)
        phieu_image_reader_close(rp);
    return rc;
}

int phieu_image_reader_open_memory(const uint8_t *data, size_t len, const char *name,
                                   const phieu_image_limits *limits, phieu_image_reader **out,
                                   phieu_error *err)
{
    *out = NULL;
    if (!data && len > 0)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot read '%s': no data",
                               name ? name : "(memory)");
    int rc = reader_alloc(name, limits, out, err);
    if (rc != 0)
        return rc;
    (*out)->data = data;
    (*out)->len = len;
    return reader_start(out, err);
}

int phieu_image_reader_open(const char *path, const phieu_image_limits *limits,
                            phieu_image_reader **out, phieu_error *err)
{
    *out = NULL;
    if (!path)
        return phieu_error_set(err, PHIEU_EINVAL, "no image file named");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return phieu_error_set(err, errno == ENOENT ? PHIEU_ENOTFOUND : PHIEU_EIO,
                               "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return phieu_error_set(err, PHIEU_EIO, "cannot read '%s': not a regular file", path);
    }
    int rc = reader_alloc(path, limits, out, err);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    phieu_image_reader *r = *out;
    size_t size = (size_t)st.st_size;
    if ((uint64_t)st.st_size > r->limits.max_bytes || size == 0) {
        r->len = (uint64_t)st.st_size > SIZE_MAX ? SIZE_MAX : size; /* refused by start */
        r->data = (const uint8_t *)"";
        close(fd);
        return reader_start(out, err);
    }
    /* A mapping keeps a long multi-page TIFF out of the heap; a file system that cannot
     * map falls back to reading. */
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
        r->mapping = map;
        r->data = map;
    } else {
        r->owned = phieu_malloc(size);
        if (!r->owned) {
            close(fd);
            phieu_image_reader_close(out);
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s'", path);
        }
        size_t got = 0;
        while (got < size) {
            ssize_t n = read(fd, r->owned + got, size - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                int saved = n < 0 ? errno : 0;
                close(fd);
                phieu_image_reader_close(out);
                return phieu_error_set(err, PHIEU_EIO, "cannot read '%s': %s", path,
                                       saved ? strerror(saved) : "the file got shorter");
            }
            got += (size_t)n;
        }
        r->data = r->owned;
    }
    r->len = size;
    close(fd);
    return reader_start(out, err);
}

/* The next page into *o (whose `want` the caller set): 1 with the page in *o, 0 at the
 * end, or a negative code (the reader is then at its end). */
static int reader_next_out(phieu_image_reader *r, phieu_image_out *o, phieu_error *err)
{
    if (!r)
        return phieu_error_set(err, PHIEU_EINVAL, "no image reader");
    if (r->at_end)
        return 0;
    int rc;
    if (r->format == PHIEU_IMAGE_TIFF) {
        rc = phieu_image_tiff_next(r, o, err);
    } else {
        rc = phieu_image_png_read(r, o, err);
        r->at_end = 1; /* a PNG has one page */
    }
    if (rc < 0) {
        r->at_end = 1;
        phieu_image_tiff_close(r);
        return rc;
    }
    int got = o->gray || o->rgb;
    if (got)
        r->pages_done++;
    return got;
}

int phieu_image_reader_next(phieu_image_reader *r, phieu_image **page, phieu_error *err)
{
    phieu_image_out o = {.want = PHIEU_OUT_GRAY};
    int rc = reader_next_out(r, &o, err);
    *page = o.gray;
    return rc;
}

int phieu_image_reader_next_rgb(phieu_image_reader *r, phieu_rgb_image **page, phieu_error *err)
{
    phieu_image_out o = {.want = PHIEU_OUT_RGB};
    int rc = reader_next_out(r, &o, err);
    *page = o.rgb;
    return rc;
}

int phieu_image_reader_next_reusing(phieu_image_reader *r, phieu_image **page,
                                    phieu_error *err)
{
    if (!r)
        return phieu_error_set(err, PHIEU_EINVAL, "no image reader");
    r->spare = *page;
    phieu_image *got = NULL;
    int rc = phieu_image_reader_next(r, &got, err);
    if (rc == 1) {
        *page = got; /* the spare was taken, or freed for being too small */
    } else {
        /* At the end the spare is untouched; a decode that took or freed it and then
         * failed leaves NULL. */
        *page = r->spare;
    }
    r->spare = NULL;
    return rc;
}

phieu_image *phieu_image_reader_page(phieu_image_reader *r, int width, int height)
{
    phieu_image *img = r->spare;
    if (!img || img->capacity < (size_t)width * (size_t)height) {
        /* Too small: freed first, so that the two never take memory together. */
        phieu_image_destroy(&r->spare);
        return phieu_image_alloc_raw(width, height);
    }
    r->spare = NULL;
    img->width = width;
    img->height = height;
    img->stride = width;
    img->dpi_x = img->dpi_y = 0;
    return img;
}

void phieu_image_reader_close(phieu_image_reader **rp)
{
    if (!rp || !*rp)
        return;
    phieu_image_reader *r = *rp;
    phieu_image_tiff_close(r);
    if (r->mapping)
        munmap(r->mapping, r->len);
    phieu_free(r->owned);
    phieu_free(r->name);
    phieu_free(r);
    *rp = NULL;
}

int phieu_image_reader_skip(phieu_image_reader *r, phieu_error *err)
{
    if (!r)
        return phieu_error_set(err, PHIEU_EINVAL, "no image reader");
    if (r->at_end)
        return 0;
    int rc = 1;
    if (r->format == PHIEU_IMAGE_TIFF)
        rc = phieu_image_tiff_skip(r, err);
    else
        r->at_end = 1;
    if (rc < 0) {
        r->at_end = 1;
        phieu_image_tiff_close(r);
    } else if (rc == 1) {
        r->pages_done++;
    }
    return rc;
}

/* Page `page_index` (0-based) of a file into *o (whose `want` the caller set). */
static int load_page(const char *path, int page_index, const phieu_image_limits *limits,
                     phieu_image_out *o, phieu_error *err)
{
    if (page_index < 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot read page %d of '%s': pages are "
                               "counted from 1",
                               page_index + 1, path ? path : "");
    phieu_image_reader *r = NULL;
    int rc = phieu_image_reader_open(path, limits, &r, err);
    if (rc != 0)
        return rc;
    for (int i = 0; i < page_index && rc >= 0; i++) {
        rc = phieu_image_reader_skip(r, err);
        if (rc == 0)
            rc = phieu_error_set(err, PHIEU_ENOTFOUND, "'%s' has no page %d (it has %d)", path,
                                 page_index + 1, i);
    }
    if (rc >= 0) {
        rc = reader_next_out(r, o, err);
        if (rc == 0)
            rc = phieu_error_set(err, PHIEU_ENOTFOUND, "'%s' has no page %d (it has %d)", path,
                                 page_index + 1, page_index);
        else if (rc == 1)
            rc = 0;
    }
    phieu_image_reader_close(&r);
    return rc;
}

int phieu_image_load(const char *path, int page_index, const phieu_image_limits *limits,
                     phieu_image **out, phieu_error *err)
{
    phieu_image_out o = {.want = PHIEU_OUT_GRAY};
    int rc = load_page(path, page_index, limits, &o, err);
    *out = o.gray;
    return rc;
}

int phieu_rgb_image_load(const char *path, int page_index, const phieu_image_limits *limits,
                         phieu_rgb_image **out, phieu_error *err)
{
    phieu_image_out o = {.want = PHIEU_OUT_RGB};
    int rc = load_page(path, page_index, limits, &o, err);
    *out = o.rgb;
    return rc;
}

int phieu_image_load_as_stored(const char *path, int page_index, const phieu_image_limits *limits,
                               phieu_image **gray, phieu_rgb_image **rgb, phieu_error *err)
{
    phieu_image_out o = {.want = PHIEU_OUT_AS_STORED};
    int rc = load_page(path, page_index, limits, &o, err);
    *gray = o.gray;
    *rgb = o.rgb;
    return rc;
}

/* Release in steps of this many bytes: one madvise call per 256 KB read. The step is what
 * of the file stays resident at most while a page decodes (4 MB before: 3-4 MB of a large
 * PNG beside its page, which put `phieu import` of 600 dpi pages above its 64 MB bar); a
 * madvise a step costs nothing measurable (about 50 calls for a 12 MB file). */
#define RELEASE_STEP ((size_t)256 << 10)

void phieu_image_reader_consumed(phieu_image_reader *r, size_t upto)
{
    if (!r->mapping)
        return;
    long page = sysconf(_SC_PAGESIZE);
    size_t step = page > 0 ? (size_t)page : 4096;
    size_t end = upto / step * step;
    if (end < r->released + RELEASE_STEP)
        return;
    /* Clean pages of a private read-only file mapping: dropped now, read again from the
     * file if anything looked back. */
    (void)madvise((uint8_t *)r->mapping + r->released, end - r->released, MADV_DONTNEED);
    r->released = end;
}
