/*
 * phieu_backend.c - libsane-phieu.so.1: a simulated sheet-fed scanner for tests, demos and
 * rehearsals. It feeds the image files of a folder (PNG, TIFF, PNM) as the feeder's sheets
 * in name order (simplex or duplex; each page of a multi-page TIFF is one side), scales them to the requested resolution, and injects
 * faults on request (jam, cover open, I/O error, short page, double feed, busy, empty).
 * Single-threaded and deterministic. It does not link libphieu: it is loaded by libsane's
 * dll backend into any frontend. Configuration and fault syntax: docs/scanning.md.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <png.h>
#include <sane/sane.h>
#include <sane/saneopts.h>
#include <tiffio.h>

#include "phieu/source.h"

#define PUBLIC __attribute__((visibility("default")))

/* Version of this backend reported to sane_init (major must match SANE_CURRENT_MAJOR). */
#define BACKEND_BUILD 1
/* The one device this backend offers: "phieu:0" through the dll backend. */
#define DEVICE_NAME "0"
/* Files carrying no resolution are taken to be at 300 dpi, the resolution ballots are
 * scanned at (docs/scanning.md); `dpi N` in phieu.conf overrides it. */
#define DEFAULT_FILE_DPI 300.0
/* Geometry limits in mm: 216 mm is US Legal width (wider than A4's 210); 864 mm (34 in) is
 * the longest page of common sheet-fed scanners' long-paper mode, enough for a double feed
 * of two A4 sheets (594 mm). */
#define MAX_WIDTH_MM 216.0
#define MAX_LENGTH_MM 864.0
#define A4_WIDTH_MM 210.0
#define A4_LENGTH_MM 297.0
/* A page is refused when it would exceed this many bytes (a 600 dpi, 16-bit colour A3 page
 * is about 420 MB; anything bigger is a configuration mistake). */
#define MAX_FRAME_BYTES ((size_t)512 << 20)
/* Specks on a generated blank back: 16 pixels at 250 of 255, far below any mark. */
#define BLANK_SPECKS 16
#define BLANK_SPECK_GRAY 250
#define MAX_FAULTS 32
/* A page of a 150 sheets/minute scanner takes 400 ms; 10 s per page is slower than any. */
#define MAX_DELAY_MS 10000
#define MAX_FILES 100000
/* Pages read from one multi-page TIFF; a scanner's batch file holds a few hundred. */
#define MAX_TIFF_PAGES 10000
#define PATH_MAX_LEN 4096

enum fault_kind { F_JAM, F_COVER, F_IOERR, F_UNPLUG, F_SHORT, F_DOUBLE };

typedef struct fault {
    enum fault_kind kind;
    int page;     /* the page (side) count since open, from 1; for F_DOUBLE the sheet */
    long after;   /* bytes delivered before the fault */
    int fired;
} fault;

typedef struct config {
    char folder[PATH_MAX_LEN];
    char tray[PATH_MAX_LEN]; /* "" = sheets stay in the folder */
    int duplex;              /* consecutive files are front and back of one sheet */
    int busy;                /* sane_open answers DEVICE_BUSY */
    int empty;               /* the feeder is empty whatever the folder holds */
    int pad;                 /* extra bytes at the end of every line */
    int crop;                /* deliver the sheet alone (automatic size detection), not the
                              * scanner's full width with the sheet centred in it */
    int delay_ms;            /* time the feeder takes per page (a slow scanner) */
    double dpi;              /* resolution of files that carry none */
    fault faults[MAX_FAULTS];
    int n_faults;
} config;

enum {
    OPT_NUM = 0,
    OPT_MODE_GROUP,
    OPT_MODE,
    OPT_DEPTH,
    OPT_RESOLUTION,
    OPT_SOURCE,
    OPT_GEOMETRY_GROUP,
    OPT_TL_X,
    OPT_TL_Y,
    OPT_BR_X,
    OPT_BR_Y,
    OPT_PAGE_WIDTH,
    OPT_PAGE_HEIGHT,
    NUM_OPTIONS
};

static SANE_String_Const mode_list[] = {SANE_VALUE_SCAN_MODE_LINEART, SANE_VALUE_SCAN_MODE_GRAY,
                                        SANE_VALUE_SCAN_MODE_COLOR, NULL};
static SANE_String_Const source_list[] = {"ADF Front", "ADF Duplex", NULL};
static const SANE_Word depth_list[] = {2, 8, 16};
static const SANE_Word resolution_list[] = {9, 75, 100, 150, 200, 240, 300, 400, 600, 1200};
static const SANE_Range width_range = {0, SANE_FIX(MAX_WIDTH_MM), 0};
static const SANE_Range length_range = {0, SANE_FIX(MAX_LENGTH_MM), 0};

typedef struct raster {
    int w, h, channels; /* channels 1 (gray) or 3 (RGB), 8 bits a sample */
    double dpi_x, dpi_y;
    uint8_t *px;
} raster;

/* One side in the feeder: a file, or one page of a multi-page TIFF. */
typedef struct side_file {
    char *path;    /* shared by the pages of one file */
    int page;      /* 0-based TIFF directory; 0 for other files */
    int last_page; /* the file's last page: the file goes to the tray after it */
    int owns_path; /* the first of the file's pages in the feeder frees path */
} side_file;

typedef struct scanner {
    SANE_Option_Descriptor opt[NUM_OPTIONS];
    SANE_Word val[NUM_OPTIONS];
    char mode[16];
    char source[16];
    side_file *files;
    int n_files;
    int n_sheets;
    int next_sheet;   /* 0-based index of the sheet on top of the feeder */
    int next_side;    /* 0 = front, 1 = back (duplex) */
    int pages;        /* sides started since open (fault numbering) */
    int unplugged;
    /* the page in flight */
    int scanning;
    SANE_Parameters params;
    uint8_t *frame;
    size_t frame_len;
    size_t frame_pos;
    fault *pending;   /* the fault that fires in this page, or NULL */
    int sheet_in_flight;
    int sheets_in_flight; /* 2 for a double feed */
} scanner;

/* The backend's only state: SANE's C API gives a backend nowhere else to keep it. */
static struct {
    int initialised;
    config cfg;
    scanner *open;
    SANE_Device device;
    const SANE_Device *device_list[2];
} B;

/* ---- configuration ---------------------------------------------------------------- */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
}

static int yes(const char *v)
{
    return strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
           strcmp(v, "on") == 0;
}

/* One line: "folder /x", "duplex yes", "jam 3 1000", "double-feed 2", ... */
static void config_line(config *c, char *line)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    trim(line);
    if (!line[0])
        return;
    char key[32] = "", arg[PATH_MAX_LEN] = "";
    char *sp = line;
    while (*sp && !isspace((unsigned char)*sp))
        sp++;
    size_t klen = (size_t)(sp - line) < sizeof key - 1 ? (size_t)(sp - line) : sizeof key - 1;
    memcpy(key, line, klen);
    key[klen] = '\0';
    snprintf(arg, sizeof arg, "%s", sp);
    trim(arg);
    if (strcmp(key, "folder") == 0)
        snprintf(c->folder, sizeof c->folder, "%s", arg);
    else if (strcmp(key, "tray") == 0)
        snprintf(c->tray, sizeof c->tray, "%s", arg);
    else if (strcmp(key, "duplex") == 0)
        c->duplex = yes(arg);
    else if (strcmp(key, "busy") == 0)
        c->busy = yes(arg);
    else if (strcmp(key, "empty") == 0)
        c->empty = yes(arg);
    else if (strcmp(key, "crop") == 0)
        c->crop = yes(arg);
    else if (strcmp(key, "pad") == 0)
        c->pad = atoi(arg) > 0 && atoi(arg) < 4096 ? atoi(arg) : 0;
    else if (strcmp(key, "delay") == 0)
        c->delay_ms = atoi(arg) > 0 && atoi(arg) <= MAX_DELAY_MS ? atoi(arg) : 0;
    else if (strcmp(key, "dpi") == 0)
        c->dpi = atof(arg) > 0 ? atof(arg) : DEFAULT_FILE_DPI;
    else if (c->n_faults < MAX_FAULTS) {
        static const struct {
            const char *name;
            enum fault_kind kind;
        } kinds[] = {{"jam", F_JAM},       {"cover-open", F_COVER}, {"io-error", F_IOERR},
                     {"unplug", F_UNPLUG}, {"short", F_SHORT},      {"double-feed", F_DOUBLE}};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            if (strcmp(key, kinds[i].name) != 0)
                continue;
            fault *f = &c->faults[c->n_faults];
            long page = 0, after = 0;
            if (sscanf(arg, "%ld %ld", &page, &after) < 1 || page < 1 || after < 0)
                return;
            f->kind = kinds[i].kind;
            f->page = (int)page;
            f->after = after;
            f->fired = 0;
            c->n_faults++;
        }
    }
}

static void config_read_file(config *c)
{
    const char *dirs = getenv("SANE_CONFIG_DIR");
    char list[PATH_MAX_LEN];
    snprintf(list, sizeof list, "%s", dirs && *dirs ? dirs : "/etc/sane.d");
    char *save = NULL;
    for (char *d = strtok_r(list, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        char path[PATH_MAX_LEN + 16];
        snprintf(path, sizeof path, "%s/phieu.conf", d);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char line[PATH_MAX_LEN + 64];
        while (fgets(line, sizeof line, f))
            config_line(c, line);
        fclose(f);
        return;
    }
}

/* Environment variables override the file: PHIEU_SANE_FOLDER, PHIEU_SANE_TRAY,
 * PHIEU_SANE_DUPLEX, PHIEU_SANE_FAULTS (config lines separated by ';'). */
static void config_read_env(config *c)
{
    char line[PATH_MAX_LEN + 16];
    const char *v;
    if ((v = getenv("PHIEU_SANE_FOLDER")) && *v) {
        snprintf(line, sizeof line, "folder %s", v);
        config_line(c, line);
    }
    if ((v = getenv("PHIEU_SANE_TRAY")) && *v) {
        snprintf(line, sizeof line, "tray %s", v);
        config_line(c, line);
    }
    if ((v = getenv("PHIEU_SANE_DUPLEX")) && *v) {
        snprintf(line, sizeof line, "duplex %s", v);
        config_line(c, line);
    }
    if ((v = getenv("PHIEU_SANE_FAULTS")) && *v) {
        char all[PATH_MAX_LEN];
        snprintf(all, sizeof all, "%s", v);
        char *save = NULL;
        for (char *l = strtok_r(all, ";", &save); l; l = strtok_r(NULL, ";", &save)) {
            snprintf(line, sizeof line, "%s", l);
            config_line(c, line);
        }
    }
}

/* ---- image files ------------------------------------------------------------------ */

static void free_files(scanner *h)
{
    for (int i = 0; i < h->n_files; i++)
        if (h->files[i].owns_path)
            free(h->files[i].path);
    free(h->files);
    h->files = NULL;
    h->n_files = 0;
}

/* The tray's note of how many pages of a multi-page TIFF have left the feeder, for a file
 * still in the folder: "<tray>/<name>.pages-fed". Its pages cannot leave one by one as
 * sheets do, so the note stands in for them; 0 when there is none. */
static void fed_note_path(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    snprintf(out, size, "%s/%s.pages-fed", B.cfg.tray, base ? base + 1 : path);
}

static int pages_fed(const char *path)
{
    if (!B.cfg.tray[0])
        return 0;
    char note[PATH_MAX_LEN * 2];
    fed_note_path(path, note, sizeof note);
    FILE *f = fopen(note, "r");
    int n = 0;
    if (f) {
        if (fscanf(f, "%d", &n) != 1 || n < 0)
            n = 0;
        fclose(f);
    }
    return n;
}

/* Lists the folder's image files in name order (phieu's one lister, list.c), a multi-page
 * TIFF as one side per page (less the pages the tray's note says have left); 0, or -1
 * when the folder is unreadable. */
static int list_files(scanner *h, const char *folder)
{
    char **names = NULL;
    size_t n_names = 0;
    phieu_error err = {0};
    if (phieu_source_list_folder(folder, 1, &names, &n_names, &err) != 0)
        return -1;
    if (n_names > MAX_FILES)
        n_names = MAX_FILES; /* the rest stay in the folder, as in an overfull tray */
    for (size_t i = 0; i < n_names; i++) {
        int pages = phieu_source_file_pages(names[i]);
        if (pages > MAX_TIFF_PAGES)
            pages = MAX_TIFF_PAGES;
        int first = pages_fed(names[i]);
        if (first >= pages)
            first = 0; /* a stale note: the file was put back whole */
        side_file *grown =
            realloc(h->files, (size_t)(h->n_files + pages - first) * sizeof *grown);
        if (!grown)
            break;
        h->files = grown;
        for (int k = first; k < pages; k++)
            h->files[h->n_files++] = (side_file){names[i], k, k == pages - 1, k == first};
        names[i] = NULL; /* owned by the side list now (owns_path on its first side) */
    }
    phieu_source_list_free(&names, n_names);
    return 0;
}

static int raster_alloc(raster *r, int w, int h, int channels)
{
    if (w <= 0 || h <= 0 || (uint64_t)w * (uint64_t)h * (uint64_t)channels > MAX_FRAME_BYTES)
        return -1;
    r->w = w;
    r->h = h;
    r->channels = channels;
    r->px = malloc((size_t)w * (size_t)h * (size_t)channels);
    return r->px ? 0 : -1;
}

/* pHYs of a PNG file (the simplified libpng API does not expose it). */
static double png_file_dpi(FILE *f)
{
    uint8_t head[8];
    double dpi = 0;
    if (fseek(f, 8, SEEK_SET) != 0)
        return 0;
    while (fread(head, 1, 8, f) == 8) {
        uint32_t len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
                       (uint32_t)head[2] << 8 | head[3];
        if (memcmp(head + 4, "pHYs", 4) == 0 && len == 9) {
            uint8_t b[9];
            if (fread(b, 1, 9, f) == 9 && b[8] == 1) {
                uint32_t ppm = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
                               (uint32_t)b[2] << 8 | b[3];
                dpi = ppm * 0.0254;
            }
            break;
        }
        if (memcmp(head + 4, "IDAT", 4) == 0 || fseek(f, (long)len + 4, SEEK_CUR) != 0)
            break;
    }
    return dpi;
}

static int load_png(const char *path, raster *r)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        return -1;
    int color = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
    img.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (raster_alloc(r, (int)img.width, (int)img.height, color ? 3 : 1) != 0) {
        png_image_free(&img);
        return -1;
    }
    if (!png_image_finish_read(&img, NULL, r->px, 0, NULL)) {
        png_image_free(&img);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (f) {
        r->dpi_x = r->dpi_y = png_file_dpi(f);
        fclose(f);
    }
    return 0;
}

static void tiff_quiet(const char *m, const char *fmt, va_list ap)
{
    (void)m;
    (void)fmt;
    (void)ap;
}

static int load_tiff(const char *path, int page, raster *r)
{
    TIFFSetWarningHandler(tiff_quiet);
    TIFFSetErrorHandler(tiff_quiet);
    TIFF *t = TIFFOpen(path, "r");
    if (!t)
        return -1;
    if (page > 0 && !TIFFSetDirectory(t, (tdir_t)page)) {
        TIFFClose(t);
        return -1;
    }
    uint32_t w = 0, h = 0;
    uint16_t spp = 1, unit = RESUNIT_INCH;
    float xr = 0, yr = 0;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    if (TIFFGetField(t, TIFFTAG_XRESOLUTION, &xr) && TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr)) {
        double k = unit == RESUNIT_CENTIMETER ? 2.54 : 1.0;
        r->dpi_x = xr * k;
        r->dpi_y = yr * k;
    }
    int channels = spp >= 3 ? 3 : 1;
    uint32_t *rgba = NULL;
    if (w == 0 || h == 0 || (uint64_t)w * h * 4 > MAX_FRAME_BYTES ||
        !(rgba = malloc((size_t)w * h * 4)) ||
        !TIFFReadRGBAImageOriented(t, w, h, rgba, ORIENTATION_TOPLEFT, 0) ||
        raster_alloc(r, (int)w, (int)h, channels) != 0) {
        free(rgba);
        TIFFClose(t);
        return -1;
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        uint32_t p = rgba[i];
        if (channels == 3) {
            r->px[3 * i] = (uint8_t)TIFFGetR(p);
            r->px[3 * i + 1] = (uint8_t)TIFFGetG(p);
            r->px[3 * i + 2] = (uint8_t)TIFFGetB(p);
        } else {
            r->px[i] = (uint8_t)TIFFGetR(p);
        }
    }
    free(rgba);
    TIFFClose(t);
    return 0;
}

static int pnm_int(FILE *f)
{
    int c = fgetc(f), v = 0, any = 0;
    while (c == '#' || isspace(c)) {
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
        c = fgetc(f);
    }
    while (c >= '0' && c <= '9' && v < 1000000) {
        v = v * 10 + (c - '0');
        any = 1;
        c = fgetc(f);
    }
    return any ? v : -1;
}

/* Binary PNM: P4 (1 = black), P5 and P6 with maxval up to 255. */
static int load_pnm(const char *path, raster *r)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = -1;
    char magic[3] = {0};
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || magic[1] < '4' || magic[1] > '6')
        goto out;
    int w = pnm_int(f), h = pnm_int(f);
    int maxval = magic[1] == '4' ? 1 : pnm_int(f);
    if (w <= 0 || h <= 0 || maxval <= 0 || maxval > 255)
        goto out;
    if (raster_alloc(r, w, h, magic[1] == '6' ? 3 : 1) != 0)
        goto out;
    if (magic[1] == '4') {
        size_t bpl = ((size_t)w + 7) / 8;
        uint8_t *line = malloc(bpl);
        if (!line)
            goto out;
        for (int y = 0; y < h; y++) {
            if (fread(line, 1, bpl, f) != bpl) {
                free(line);
                goto out;
            }
            for (int x = 0; x < w; x++)
                r->px[(size_t)y * w + x] = (line[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255;
        }
        free(line);
    } else {
        size_t n = (size_t)w * h * r->channels;
        if (fread(r->px, 1, n, f) != n)
            goto out;
        if (maxval != 255)
            for (size_t i = 0; i < n; i++)
                r->px[i] = (uint8_t)(r->px[i] * 255 / maxval);
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

static int load_file(const side_file *file, double default_dpi, raster *r)
{
    const char *path = file->path;
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t head[4] = {0};
    size_t got = fread(head, 1, 4, f);
    fclose(f);
    int rc = -1;
    if (got >= 4 && memcmp(head, "\x89PNG", 4) == 0)
        rc = load_png(path, r);
    else if (got >= 4 && (memcmp(head, "II*\0", 4) == 0 || memcmp(head, "MM\0*", 4) == 0))
        rc = load_tiff(path, file->page, r);
    else if (got >= 2 && head[0] == 'P')
        rc = load_pnm(path, r);
    if (rc != 0) {
        free(r->px);
        r->px = NULL;
        return -1;
    }
    if (r->dpi_x <= 1 || r->dpi_y <= 1)
        r->dpi_x = r->dpi_y = default_dpi;
    return 0;
}

/* Two sheets fed together: b below a, as one long page. Frees a and b. */
static int stack_rasters(raster *a, raster *b, raster *out)
{
    int w = a->w > b->w ? a->w : b->w;
    int ch = a->channels > b->channels ? a->channels : b->channels;
    memset(out, 0, sizeof *out);
    int rc = raster_alloc(out, w, a->h + b->h, ch);
    if (rc == 0) {
        memset(out->px, 255, (size_t)w * out->h * ch);
        raster *parts[2] = {a, b};
        int y0 = 0;
        for (int p = 0; p < 2; p++) {
            raster *s = parts[p];
            for (int y = 0; y < s->h; y++)
                for (int x = 0; x < s->w; x++)
                    for (int c = 0; c < ch; c++)
                        out->px[((size_t)(y0 + y) * w + x) * ch + c] =
                            s->px[((size_t)y * s->w + x) * s->channels +
                                  (s->channels == 3 ? c : 0)];
            y0 += s->h;
        }
        out->dpi_x = a->dpi_x;
        out->dpi_y = a->dpi_y;
    }
    free(a->px);
    free(b->px);
    a->px = b->px = NULL;
    return rc;
}

/* ---- options ---------------------------------------------------------------------- */

/* The scan mode group: mode, depth, resolution and source, with their defaults (gray,
 * 8 bits, 300 dpi, the feeder's front). */
static void init_mode_options(scanner *h)
{
    SANE_Option_Descriptor *o = h->opt;
    o[OPT_MODE_GROUP].name = "";
    o[OPT_MODE_GROUP].title = SANE_I18N("Scan Mode");
    o[OPT_MODE_GROUP].type = SANE_TYPE_GROUP;
    o[OPT_MODE_GROUP].cap = 0;
    o[OPT_MODE_GROUP].size = 0;

    o[OPT_MODE].name = SANE_NAME_SCAN_MODE;
    o[OPT_MODE].title = SANE_TITLE_SCAN_MODE;
    o[OPT_MODE].desc = SANE_DESC_SCAN_MODE;
    o[OPT_MODE].type = SANE_TYPE_STRING;
    o[OPT_MODE].size = sizeof h->mode;
    o[OPT_MODE].constraint_type = SANE_CONSTRAINT_STRING_LIST;
    o[OPT_MODE].constraint.string_list = mode_list;
    snprintf(h->mode, sizeof h->mode, "%s", SANE_VALUE_SCAN_MODE_GRAY);

    o[OPT_DEPTH].name = SANE_NAME_BIT_DEPTH;
    o[OPT_DEPTH].title = SANE_TITLE_BIT_DEPTH;
    o[OPT_DEPTH].desc = SANE_DESC_BIT_DEPTH;
    o[OPT_DEPTH].type = SANE_TYPE_INT;
    o[OPT_DEPTH].unit = SANE_UNIT_BIT;
    o[OPT_DEPTH].constraint_type = SANE_CONSTRAINT_WORD_LIST;
    o[OPT_DEPTH].constraint.word_list = depth_list;
    h->val[OPT_DEPTH] = 8;

    o[OPT_RESOLUTION].name = SANE_NAME_SCAN_RESOLUTION;
    o[OPT_RESOLUTION].title = SANE_TITLE_SCAN_RESOLUTION;
    o[OPT_RESOLUTION].desc = SANE_DESC_SCAN_RESOLUTION;
    o[OPT_RESOLUTION].type = SANE_TYPE_INT;
    o[OPT_RESOLUTION].unit = SANE_UNIT_DPI;
    o[OPT_RESOLUTION].constraint_type = SANE_CONSTRAINT_WORD_LIST;
    o[OPT_RESOLUTION].constraint.word_list = resolution_list;
    h->val[OPT_RESOLUTION] = 300;

    o[OPT_SOURCE].name = SANE_NAME_SCAN_SOURCE;
    o[OPT_SOURCE].title = SANE_TITLE_SCAN_SOURCE;
    o[OPT_SOURCE].desc = SANE_DESC_SCAN_SOURCE;
    o[OPT_SOURCE].type = SANE_TYPE_STRING;
    o[OPT_SOURCE].size = sizeof h->source;
    o[OPT_SOURCE].constraint_type = SANE_CONSTRAINT_STRING_LIST;
    o[OPT_SOURCE].constraint.string_list = source_list;
    snprintf(h->source, sizeof h->source, "%s", "ADF Front");
}

/* The geometry group: the scan window and the page's size, in mm. */
static void init_geometry_options(scanner *h)
{
    SANE_Option_Descriptor *o = h->opt;
    o[OPT_GEOMETRY_GROUP].name = "";
    o[OPT_GEOMETRY_GROUP].title = SANE_I18N("Geometry");
    o[OPT_GEOMETRY_GROUP].type = SANE_TYPE_GROUP;
    o[OPT_GEOMETRY_GROUP].cap = 0;
    o[OPT_GEOMETRY_GROUP].size = 0;

    static const struct {
        int index;
        const char *name, *title, *desc;
        const SANE_Range *range;
        double value;
    } geo[] = {
        {OPT_TL_X, SANE_NAME_SCAN_TL_X, SANE_TITLE_SCAN_TL_X, SANE_DESC_SCAN_TL_X, &width_range, 0},
        {OPT_TL_Y, SANE_NAME_SCAN_TL_Y, SANE_TITLE_SCAN_TL_Y, SANE_DESC_SCAN_TL_Y, &length_range, 0},
        {OPT_BR_X, SANE_NAME_SCAN_BR_X, SANE_TITLE_SCAN_BR_X, SANE_DESC_SCAN_BR_X, &width_range,
         MAX_WIDTH_MM},
        {OPT_BR_Y, SANE_NAME_SCAN_BR_Y, SANE_TITLE_SCAN_BR_Y, SANE_DESC_SCAN_BR_Y, &length_range,
         MAX_LENGTH_MM},
        {OPT_PAGE_WIDTH, SANE_NAME_PAGE_WIDTH, SANE_TITLE_PAGE_WIDTH, SANE_DESC_PAGE_WIDTH,
         &width_range, A4_WIDTH_MM},
        {OPT_PAGE_HEIGHT, SANE_NAME_PAGE_HEIGHT, SANE_TITLE_PAGE_HEIGHT, SANE_DESC_PAGE_HEIGHT,
         &length_range, A4_LENGTH_MM},
    };
    for (size_t i = 0; i < sizeof geo / sizeof geo[0]; i++) {
        SANE_Option_Descriptor *d = &o[geo[i].index];
        d->name = geo[i].name;
        d->title = geo[i].title;
        d->desc = geo[i].desc;
        d->type = SANE_TYPE_FIXED;
        d->unit = SANE_UNIT_MM;
        d->constraint_type = SANE_CONSTRAINT_RANGE;
        d->constraint.range = geo[i].range;
        h->val[geo[i].index] = SANE_FIX(geo[i].value);
    }
}

static void init_options(scanner *h)
{
    SANE_Option_Descriptor *o = h->opt;
    memset(o, 0, sizeof h->opt);
    for (int i = 0; i < NUM_OPTIONS; i++) {
        o[i].size = sizeof(SANE_Word);
        o[i].cap = SANE_CAP_SOFT_SELECT | SANE_CAP_SOFT_DETECT;
    }
    o[OPT_NUM] = (SANE_Option_Descriptor){SANE_NAME_NUM_OPTIONS, SANE_TITLE_NUM_OPTIONS,
                                          SANE_DESC_NUM_OPTIONS, SANE_TYPE_INT, SANE_UNIT_NONE,
                                          sizeof(SANE_Word), SANE_CAP_SOFT_DETECT,
                                          SANE_CONSTRAINT_NONE, {NULL}};
    h->val[OPT_NUM] = NUM_OPTIONS;
    init_mode_options(h);
    init_geometry_options(h);
}

static void update_caps(scanner *h)
{
    if (strcmp(h->mode, SANE_VALUE_SCAN_MODE_LINEART) == 0)
        h->opt[OPT_DEPTH].cap |= SANE_CAP_INACTIVE;
    else
        h->opt[OPT_DEPTH].cap &= ~SANE_CAP_INACTIVE;
}

static int current_depth(const scanner *h)
{
    return strcmp(h->mode, SANE_VALUE_SCAN_MODE_LINEART) == 0 ? 1 : h->val[OPT_DEPTH];
}

static int duplex_source(const scanner *h)
{
    return strcmp(h->source, "ADF Duplex") == 0;
}

/* ---- SANE entry points ------------------------------------------------------------ */

PUBLIC SANE_Status sane_phieu_init(SANE_Int *version_code, SANE_Auth_Callback authorize)
{
    (void)authorize;
    if (version_code)
        *version_code = SANE_VERSION_CODE(SANE_CURRENT_MAJOR, 0, BACKEND_BUILD);
    memset(&B, 0, sizeof B);
    B.cfg.dpi = DEFAULT_FILE_DPI;
    config_read_file(&B.cfg);
    config_read_env(&B.cfg);
    B.device.name = DEVICE_NAME;
    B.device.vendor = "phieu";
    B.device.model = "image-file sheet-fed scanner";
    B.device.type = "sheetfed scanner";
    B.device_list[0] = &B.device;
    B.device_list[1] = NULL;
    B.initialised = 1;
    return SANE_STATUS_GOOD;
}

PUBLIC void sane_phieu_close(SANE_Handle handle);

PUBLIC void sane_phieu_exit(void)
{
    if (B.open)
        sane_phieu_close(B.open);
    B.initialised = 0;
}

PUBLIC SANE_Status sane_phieu_get_devices(const SANE_Device ***device_list, SANE_Bool local_only)
{
    (void)local_only;
    if (!B.initialised)
        return SANE_STATUS_INVAL;
    *device_list = B.device_list;
    return SANE_STATUS_GOOD;
}

PUBLIC SANE_Status sane_phieu_open(SANE_String_Const name, SANE_Handle *out)
{
    if (!B.initialised || !out)
        return SANE_STATUS_INVAL;
    if (name && name[0] && strcmp(name, DEVICE_NAME) != 0)
        return SANE_STATUS_INVAL;
    if (B.open || B.cfg.busy)
        return SANE_STATUS_DEVICE_BUSY;
    scanner *h = calloc(1, sizeof *h);
    if (!h)
        return SANE_STATUS_NO_MEM;
    init_options(h);
    update_caps(h);
    if (B.cfg.folder[0] && list_files(h, B.cfg.folder) != 0) {
        free(h);
        return SANE_STATUS_IO_ERROR;
    }
    h->n_sheets = B.cfg.duplex ? (h->n_files + 1) / 2 : h->n_files;
    for (int i = 0; i < B.cfg.n_faults; i++)
        B.cfg.faults[i].fired = 0;
    B.open = h;
    *out = h;
    return SANE_STATUS_GOOD;
}

PUBLIC void sane_phieu_cancel(SANE_Handle handle);

PUBLIC void sane_phieu_close(SANE_Handle handle)
{
    scanner *h = handle;
    if (!h || h != B.open)
        return;
    sane_phieu_cancel(h);
    free_files(h);
    free(h);
    B.open = NULL;
}

PUBLIC const SANE_Option_Descriptor *sane_phieu_get_option_descriptor(SANE_Handle handle,
                                                                     SANE_Int option)
{
    scanner *h = handle;
    if (!h || option < 0 || option >= NUM_OPTIONS)
        return NULL;
    return &h->opt[option];
}

static SANE_Word nearest_word(const SANE_Word *list, SANE_Word v)
{
    SANE_Word best = list[1];
    for (SANE_Word i = 1; i <= list[0]; i++)
        if (labs((long)list[i] - v) < labs((long)best - v))
            best = list[i];
    return best;
}

PUBLIC SANE_Status sane_phieu_control_option(SANE_Handle handle, SANE_Int option,
                                             SANE_Action action, void *value, SANE_Int *info)
{
    scanner *h = handle;
    if (info)
        *info = 0;
    if (!h || option < 0 || option >= NUM_OPTIONS || !value)
        return SANE_STATUS_INVAL;
    SANE_Option_Descriptor *d = &h->opt[option];
    if (d->type == SANE_TYPE_GROUP)
        return SANE_STATUS_INVAL;
    if (action == SANE_ACTION_GET_VALUE) {
        if (option == OPT_MODE)
            strcpy(value, h->mode);
        else if (option == OPT_SOURCE)
            strcpy(value, h->source);
        else
            *(SANE_Word *)value = h->val[option];
        return SANE_STATUS_GOOD;
    }
    if (action != SANE_ACTION_SET_VALUE)
        return SANE_STATUS_UNSUPPORTED;
    if (!SANE_OPTION_IS_SETTABLE(d->cap) || !SANE_OPTION_IS_ACTIVE(d->cap))
        return SANE_STATUS_INVAL;
    if (h->scanning)
        return SANE_STATUS_DEVICE_BUSY;
    SANE_Int inf = 0;
    if (d->type == SANE_TYPE_STRING) {
        const SANE_String_Const *list = d->constraint.string_list;
        int found = -1;
        for (int i = 0; list[i]; i++)
            if (strcmp(list[i], value) == 0)
                found = i;
        if (found < 0)
            return SANE_STATUS_INVAL;
        char *dst = option == OPT_MODE ? h->mode : h->source;
        if (strcmp(dst, list[found]) != 0) {
            strcpy(dst, list[found]);
            inf |= SANE_INFO_RELOAD_PARAMS;
            if (option == OPT_MODE)
                inf |= SANE_INFO_RELOAD_OPTIONS;
        }
        update_caps(h);
    } else {
        SANE_Word v = *(SANE_Word *)value, set = v;
        if (d->constraint_type == SANE_CONSTRAINT_WORD_LIST)
            set = nearest_word(d->constraint.word_list, v);
        else if (d->constraint_type == SANE_CONSTRAINT_RANGE) {
            const SANE_Range *r = d->constraint.range;
            set = v < r->min ? r->min : v > r->max ? r->max : v;
        }
        if (set != v)
            inf |= SANE_INFO_INEXACT;
        h->val[option] = set;
        inf |= SANE_INFO_RELOAD_PARAMS;
    }
    if (info)
        *info = inf;
    return SANE_STATUS_GOOD;
}

/* The scan window in device pixels at the current resolution. A window reaching the
 * scanner's right edge (br-x at its maximum) ends at full_w, the frame's full width: a
 * sheet wider than MAX_WIDTH_MM (a generated scan whose bed was widened for an offset
 * page) is never cut. The page-width option does not narrow the frame: a sheet-fed
 * scanner delivers its whole width (216 mm) with the sheet in it; before, the A4 page
 * width cut the samples' offset corner marks off (issue 12). */
static void window_px(const scanner *h, int full_w, int *x0, int *y0, int *x1, int *y1)
{
    double res = h->val[OPT_RESOLUTION];
    double tlx = SANE_UNFIX(h->val[OPT_TL_X]), tly = SANE_UNFIX(h->val[OPT_TL_Y]);
    double brx = SANE_UNFIX(h->val[OPT_BR_X]), bry = SANE_UNFIX(h->val[OPT_BR_Y]);
    *x0 = (int)lround(tlx * res / 25.4);
    *y0 = (int)lround(tly * res / 25.4);
    *x1 = brx >= MAX_WIDTH_MM - 0.01 ? full_w : (int)lround(brx * res / 25.4);
    *y1 = (int)lround(bry * res / 25.4);
}

static void fill_params(const scanner *h, int width, int lines, SANE_Parameters *p)
{
    int color = strcmp(h->mode, SANE_VALUE_SCAN_MODE_COLOR) == 0;
    int depth = current_depth(h);
    p->format = color ? SANE_FRAME_RGB : SANE_FRAME_GRAY;
    p->last_frame = SANE_TRUE;
    p->depth = depth;
    p->pixels_per_line = width;
    p->lines = lines;
    if (depth == 1)
        p->bytes_per_line = (width + 7) / 8;
    else
        p->bytes_per_line = width * (color ? 3 : 1) * (depth / 8);
    p->bytes_per_line += B.cfg.pad;
}

PUBLIC SANE_Status sane_phieu_get_parameters(SANE_Handle handle, SANE_Parameters *params)
{
    scanner *h = handle;
    if (!h || !params)
        return SANE_STATUS_INVAL;
    if (h->scanning) {
        *params = h->params;
        return SANE_STATUS_GOOD;
    }
    /* An estimate before sane_start: the window clipped to the nominal page. */
    int x0, y0, x1, y1;
    window_px(h, (int)lround(MAX_WIDTH_MM * h->val[OPT_RESOLUTION] / 25.4), &x0, &y0, &x1, &y1);
    double ph = SANE_UNFIX(h->val[OPT_PAGE_HEIGHT]) * h->val[OPT_RESOLUTION] / 25.4;
    if (y1 > (int)ph)
        y1 = (int)ph;
    fill_params(h, x1 > x0 ? x1 - x0 : 0, y1 > y0 ? y1 - y0 : 0, params);
    return SANE_STATUS_GOOD;
}

static uint8_t luma(const uint8_t *p)
{
    return (uint8_t)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000);
}

/* Where the frame lies on the sheet at the scan resolution (see render_frame). */
typedef struct frame_geom {
    int x0, y0;    /* the window's first column and line in the scanner's frame */
    int w, lines;  /* the window's size in pixels */
    int off;       /* frame column of the sheet's first column */
    int page_w;    /* the sheet's width at the resolution */
    double kx, ky; /* file pixels per frame pixel */
} frame_geom;

/* Places the sheet in the scanner's width and clips the window to it; INVAL when the
 * window holds no pixel. */
static SANE_Status frame_geometry(const scanner *h, const raster *src, frame_geom *g)
{
    double res = h->val[OPT_RESOLUTION];
    int page_w = (int)lround(src->w * res / src->dpi_x);
    int page_h = (int)lround(src->h * res / src->dpi_y);
    int full_w = page_w;
    if (!B.cfg.crop && lround(MAX_WIDTH_MM * res / 25.4) > page_w)
        full_w = (int)lround(MAX_WIDTH_MM * res / 25.4);
    int x0, y0, x1, y1;
    window_px(h, full_w, &x0, &y0, &x1, &y1);
    if (x1 > full_w)
        x1 = full_w;
    if (y1 > page_h)
        y1 = page_h;
    *g = (frame_geom){.x0 = x0,
                      .y0 = y0,
                      .w = x1 - x0,
                      .lines = y1 - y0,
                      .off = (full_w - page_w) / 2,
                      .page_w = page_w,
                      .kx = src->dpi_x / res,
                      .ky = src->dpi_y / res};
    return g->w <= 0 || g->lines <= 0 ? SANE_STATUS_INVAL : SANE_STATUS_GOOD;
}

/* The file is at the requested resolution, gray, for an 8-bit gray frame: the window's
 * rows as they are, white beside the sheet. */
static void copy_rows(scanner *h, const raster *src, const frame_geom *g)
{
    size_t bpl = (size_t)h->params.bytes_per_line;
    int x1 = g->x0 + g->w;
    int a = g->x0 - g->off < 0 ? g->off - g->x0 : 0;               /* first column of sheet */
    int b = x1 - g->off > src->w ? src->w + g->off - g->x0 : g->w; /* past its last one */
    for (int y = 0; y < g->lines; y++) {
        uint8_t *out = h->frame + (size_t)y * bpl;
        if (g->y0 + y >= src->h)
            break;
        memset(out, 255, (size_t)g->w);
        if (b > a)
            memcpy(out + a, src->px + (size_t)(g->y0 + y) * src->w + (g->x0 + a - g->off),
                   (size_t)(b - a));
    }
}

/* For each frame column, the file's columns [sx[2x], sx[2x+1]) it averages; -1 beside the
 * sheet (the lid, white). */
static void column_spans(const raster *src, const frame_geom *g, int *sx)
{
    for (int x = 0; x < g->w; x++) {
        int fx = g->x0 + x - g->off; /* the sheet's column at the resolution */
        if (fx < 0 || fx >= g->page_w) {
            sx[2 * x] = sx[2 * x + 1] = -1;
            continue;
        }
        int a = (int)floor(fx * g->kx), b = (int)floor((fx + 1) * g->kx);
        if (b <= a)
            b = a + 1;
        sx[2 * x] = a < src->w ? a : src->w - 1;
        sx[2 * x + 1] = b < src->w ? b : src->w;
        if (sx[2 * x + 1] <= sx[2 * x])
            sx[2 * x + 1] = sx[2 * x] + 1;
    }
}

/* Gray file to a gray 8-bit frame row, the common case: one channel to sum, no luma. */
static void average_gray(const raster *src, const int *sx, int w, int ya, int yb, uint8_t *out)
{
    for (int x = 0; x < w; x++) {
        unsigned sum = 0, n = 0;
        if (sx[2 * x] < 0) {
            out[x] = 255;
            continue;
        }
        for (int yy = ya; yy < yb; yy++) {
            const uint8_t *p = src->px + (size_t)yy * src->w;
            for (int xx = sx[2 * x]; xx < sx[2 * x + 1]; xx++, n++)
                sum += p[xx];
        }
        out[x] = (uint8_t)((sum + n / 2) / n);
    }
}

/* Any file to one RGB row (3 bytes a pixel), gray files repeated in the three channels. */
static void average_rgb(const raster *src, const int *sx, int w, int ya, int yb, uint8_t *row)
{
    for (int x = 0; x < w; x++) {
        unsigned sum[3] = {0, 0, 0}, n = 0;
        if (sx[2 * x] < 0) {
            memset(row + 3 * x, 255, 3);
            continue;
        }
        for (int yy = ya; yy < yb; yy++) {
            const uint8_t *p = src->px + ((size_t)yy * src->w + sx[2 * x]) * src->channels;
            for (int xx = sx[2 * x]; xx < sx[2 * x + 1]; xx++, p += src->channels, n++)
                for (int c = 0; c < 3; c++)
                    sum[c] += p[src->channels == 3 ? c : 0];
        }
        for (int c = 0; c < 3; c++)
            row[3 * x + c] = (uint8_t)((sum[c] + n / 2) / n);
    }
}

/* An RGB row to the frame's mode and depth: 1-bit lineart (dark below 128), 8 or 16 bits,
 * gray or colour. */
static void pack_row(const uint8_t *row, int w, int color, int depth, uint8_t *out)
{
    for (int x = 0; x < w; x++) {
        const uint8_t *p = row + 3 * x;
        if (depth == 1) {
            if (luma(p) < 128)
                out[x / 8] |= (uint8_t)(0x80 >> (x % 8));
        } else if (depth == 8) {
            if (color)
                memcpy(out + 3 * x, p, 3);
            else
                out[x] = luma(p);
        } else {
            uint16_t *o16 = (uint16_t *)(void *)out;
            if (color)
                for (int c = 0; c < 3; c++)
                    o16[3 * x + c] = (uint16_t)(p[c] * 257);
            else
                o16[x] = (uint16_t)(luma(p) * 257);
        }
    }
}

/* Scales the sheet into the frame: each frame pixel averages the file pixels it covers
 * (box filter down, nearest up), then takes the frame's mode and depth. */
static void scale_rows(scanner *h, const raster *src, const frame_geom *g, int *sx, uint8_t *row)
{
    size_t bpl = (size_t)h->params.bytes_per_line;
    int color = h->params.format == SANE_FRAME_RGB;
    int depth = h->params.depth;
    column_spans(src, g, sx);
    for (int y = 0; y < g->lines; y++) {
        int ya = (int)floor((g->y0 + y) * g->ky), yb = (int)floor((g->y0 + y + 1) * g->ky);
        if (ya >= src->h)
            ya = src->h - 1;
        if (yb <= ya)
            yb = ya + 1;
        if (yb > src->h)
            yb = src->h;
        uint8_t *out = h->frame + (size_t)y * bpl;
        if (src->channels == 1 && !color && depth == 8) {
            average_gray(src, sx, g->w, ya, yb, out);
            continue;
        }
        average_rgb(src, sx, g->w, ya, yb, row);
        pack_row(row, g->w, color, depth, out);
    }
}

/* Renders the sheet image into the frame: scaled to the resolution (box filter down,
 * nearest up), centred in the scanner's width (MAX_WIDTH_MM, or the sheet's when wider;
 * white beside it, the lid) unless `crop yes`, cropped to the window, converted to the
 * mode and depth. */
static SANE_Status render_frame(scanner *h, const raster *src)
{
    frame_geom g;
    SANE_Status st = frame_geometry(h, src, &g);
    if (st != SANE_STATUS_GOOD)
        return st;
    fill_params(h, g.w, g.lines, &h->params);
    size_t bpl = (size_t)h->params.bytes_per_line;
    if ((uint64_t)bpl * g.lines > MAX_FRAME_BYTES)
        return SANE_STATUS_NO_MEM;
    h->frame = calloc((size_t)g.lines, bpl);
    int *sx = malloc(sizeof(int) * 2 * ((size_t)g.w + 1));
    uint8_t *row = malloc((size_t)g.w * 3);
    if (!h->frame || !sx || !row) {
        free(sx);
        free(row);
        return SANE_STATUS_NO_MEM;
    }
    if (g.kx == 1.0 && g.ky == 1.0 && src->channels == 1 && h->params.format != SANE_FRAME_RGB &&
        h->params.depth == 8)
        copy_rows(h, src, &g);
    else
        scale_rows(h, src, &g, sx, row);
    free(sx);
    free(row);
    h->frame_len = bpl * (size_t)g.lines;
    h->frame_pos = 0;
    return SANE_STATUS_GOOD;
}

static fault *find_fault(int kind_double, int number)
{
    for (int i = 0; i < B.cfg.n_faults; i++) {
        fault *f = &B.cfg.faults[i];
        if (f->fired || f->page != number || (f->kind == F_DOUBLE) != kind_double)
            continue;
        return f;
    }
    return NULL;
}

/* The file of sheet `sheet`, side `side`; NULL for the blank back of a simplex sheet. */
static const side_file *sheet_file(const scanner *h, int sheet, int side)
{
    if (B.cfg.duplex) {
        int i = 2 * sheet + side;
        return i < h->n_files ? &h->files[i] : NULL;
    }
    return side == 0 ? &h->files[sheet] : NULL;
}

static SANE_Status load_side(scanner *h, int sheet, int side, raster *r)
{
    const side_file *file = sheet_file(h, sheet, side);
    if (file)
        return load_file(file, B.cfg.dpi, r) == 0 ? SANE_STATUS_GOOD : SANE_STATUS_IO_ERROR;
    /* The blank back of a one-sided sheet: white, the size of its front. */
    raster front;
    if (load_file(sheet_file(h, sheet, 0), B.cfg.dpi, &front) != 0)
        return SANE_STATUS_IO_ERROR;
    memset(r, 0, sizeof *r);
    int rc = raster_alloc(r, front.w, front.h, 1);
    if (rc == 0) {
        memset(r->px, 255, (size_t)front.w * front.h);
        /* Paper is never perfectly white: a few faint specks placed by the sheet's index
         * make each blank back a different image (as on a real scanner) while the same
         * sheet fed again gives the same one. */
        uint32_t x = 2166136261u ^ (uint32_t)sheet;
        for (int k = 0; k < BLANK_SPECKS; k++) {
            x = x * 1103515245u + 12345u;
            r->px[(x >> 8) % ((size_t)front.w * front.h)] = BLANK_SPECK_GRAY;
        }
        r->dpi_x = front.dpi_x;
        r->dpi_y = front.dpi_y;
    }
    free(front.px);
    return rc == 0 ? SANE_STATUS_GOOD : SANE_STATUS_NO_MEM;
}

PUBLIC SANE_Status sane_phieu_start(SANE_Handle handle)
{
    scanner *h = handle;
    if (!h)
        return SANE_STATUS_INVAL;
    if (h->unplugged)
        return SANE_STATUS_IO_ERROR;
    if (h->scanning) /* a new page without cancel: the previous one is finished or dropped */
        sane_phieu_cancel(h);
    if (B.cfg.empty || h->next_sheet >= h->n_sheets)
        return SANE_STATUS_NO_DOCS;
    if (B.cfg.delay_ms > 0) {
        struct timespec t = {B.cfg.delay_ms / 1000, (long)(B.cfg.delay_ms % 1000) * 1000000L};
        while (nanosleep(&t, &t) != 0 && errno == EINTR)
            ;
    }
    int side = duplex_source(h) ? h->next_side : 0;
    int sheet = h->next_sheet;
    raster img;
    SANE_Status st;
    int sheets = 1;
    fault *dbl = find_fault(1, sheet + 1);
    if (dbl && sheet + 1 < h->n_sheets) {
        raster a, b;
        st = load_side(h, sheet, side, &a);
        if (st == SANE_STATUS_GOOD) {
            st = load_side(h, sheet + 1, side, &b);
            if (st != SANE_STATUS_GOOD)
                free(a.px);
            else if (stack_rasters(&a, &b, &img) != 0)
                st = SANE_STATUS_NO_MEM;
        }
        sheets = 2;
    } else {
        st = load_side(h, sheet, side, &img);
    }
    if (st != SANE_STATUS_GOOD)
        return st;
    st = render_frame(h, &img);
    free(img.px);
    if (st != SANE_STATUS_GOOD) {
        free(h->frame);
        h->frame = NULL;
        return st;
    }
    h->pages++;
    h->pending = find_fault(0, h->pages);
    h->sheet_in_flight = sheet;
    h->sheets_in_flight = sheets;
    if (dbl && side == (duplex_source(h) ? 1 : 0))
        dbl->fired = 1;
    h->scanning = 1;
    return SANE_STATUS_GOOD;
}

/* The sheet left the feeder whole: advance, and move its files to the tray if one is set. */
static void sheet_done(scanner *h)
{
    if (duplex_source(h) && h->next_side == 0) {
        h->next_side = 1;
        return;
    }
    h->next_side = 0;
    for (int s = h->sheet_in_flight; s < h->sheet_in_flight + h->sheets_in_flight; s++) {
        for (int side = 0; side < (B.cfg.duplex ? 2 : 1) && B.cfg.tray[0]; side++) {
            const side_file *file = sheet_file(h, s, side);
            if (!file)
                continue;
            char note[PATH_MAX_LEN * 2];
            fed_note_path(file->path, note, sizeof note);
            if (!file->last_page) { /* a page of a multi-page TIFF: note it as gone */
                FILE *f = fopen(note, "w");
                if (f) {
                    fprintf(f, "%d\n", file->page + 1);
                    fclose(f);
                }
                continue;
            }
            const char *base = strrchr(file->path, '/');
            char dst[PATH_MAX_LEN * 2];
            snprintf(dst, sizeof dst, "%s/%s", B.cfg.tray, base ? base + 1 : file->path);
            (void)rename(file->path, dst);
            (void)remove(note);
        }
    }
    h->next_sheet = h->sheet_in_flight + h->sheets_in_flight;
}

static SANE_Status fault_status(enum fault_kind k)
{
    switch (k) {
    case F_JAM: return SANE_STATUS_JAMMED;
    case F_COVER: return SANE_STATUS_COVER_OPEN;
    default: return SANE_STATUS_IO_ERROR;
    }
}

PUBLIC SANE_Status sane_phieu_read(SANE_Handle handle, SANE_Byte *data, SANE_Int max_length,
                                   SANE_Int *length)
{
    scanner *h = handle;
    if (length)
        *length = 0;
    if (!h || !data || !length || max_length < 0)
        return SANE_STATUS_INVAL;
    if (h->unplugged)
        return SANE_STATUS_IO_ERROR;
    if (!h->scanning)
        return SANE_STATUS_CANCELLED;
    size_t end = h->frame_len;
    fault *f = h->pending;
    if (f && f->kind == F_SHORT && (size_t)f->after >= h->frame_len)
        f = NULL; /* a "short" page longer than the page is a whole page */
    if (f && (size_t)f->after < end)
        end = (size_t)f->after;
    if (h->frame_pos >= end) {
        h->pending = NULL;
        free(h->frame);
        h->frame = NULL;
        h->scanning = 0;
        if (f)
            f->fired = 1;
        if (f && f->kind != F_SHORT) {
            /* The fault fires: the sheet stays in the feeder for the operator to re-feed;
             * in duplex its front is scanned again too. */
            h->next_side = 0;
            h->next_sheet = h->sheet_in_flight;
            if (f->kind == F_UNPLUG)
                h->unplugged = 1;
            return fault_status(f->kind);
        }
        /* The end of the page, or of a short page that the device ends early. */
        sheet_done(h);
        return SANE_STATUS_EOF;
    }
    size_t n = end - h->frame_pos;
    if (n > (size_t)max_length)
        n = (size_t)max_length;
    memcpy(data, h->frame + h->frame_pos, n);
    h->frame_pos += n;
    *length = (SANE_Int)n;
    return SANE_STATUS_GOOD;
}

PUBLIC void sane_phieu_cancel(SANE_Handle handle)
{
    scanner *h = handle;
    if (!h || !h->scanning)
        return;
    /* Cancelled mid-page: the sheet is ejected unscanned; the operator re-feeds it. */
    free(h->frame);
    h->frame = NULL;
    h->pending = NULL;
    h->scanning = 0;
    h->next_side = 0;
    h->next_sheet = h->sheet_in_flight + h->sheets_in_flight;
}

PUBLIC SANE_Status sane_phieu_set_io_mode(SANE_Handle handle, SANE_Bool non_blocking)
{
    (void)handle;
    return non_blocking ? SANE_STATUS_UNSUPPORTED : SANE_STATUS_GOOD;
}

PUBLIC SANE_Status sane_phieu_get_select_fd(SANE_Handle handle, SANE_Int *fd)
{
    (void)handle;
    (void)fd;
    return SANE_STATUS_UNSUPPORTED;
}
