/*
 * sane.c - the SANE page source and device listing: opens a scanner through libsane, sets
 * its options by their well-known names, and turns each page (gray, RGB or three-pass;
 * depth 1, 8 or 16; padded lines; unknown height) into a phieu_image, or for the intake a
 * colour page into 8-bit RGB (its archive file keeps the colour), checking the bytes
 * received against those announced. Faults become bilingual PHIEU_EDEVICE messages
 * (source.c). It does not store pages (session) or talk to the operator (cli).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sane/sane.h>
#include <sane/saneopts.h>

#include "phieu/alloc.h"
#include "source/source_internal.h"

/* Bytes asked of sane_read at a time: 64 KiB, the buffer size scanimage uses (32 KiB) and
 * the test backend's largest read limit (65536) both fit. */
#define READ_CHUNK 65536
/* A backend that keeps answering GOOD with no data is stuck; after this many empty reads
 * in a row the page is abandoned (blocking backends never return many). */
#define MAX_EMPTY_READS 100000
/* Three-pass colour sends three frames. */
#define MAX_FRAMES 3

/* Source names, compared whole and case-insensitively (never by substring: "ADF Duplex"
 * contains "ADF", and paperwork #673 / pyinsane #5 picked the wrong source that way).
 * The names the fujitsu, canon_dr, kodak, test, pixma, Brother and epson backends use
 * (docs/scanning.md, "SANE facts"). */
static const char *const adf_names[] = {
    "ADF", "ADF Front", "Automatic Document Feeder", "Document Feeder", "ADF Simplex",
    "Feeder", "Automatic Document Feeder(left aligned)",
    "Automatic Document Feeder(centrally aligned)", "Auto Document Feeder", NULL};
static const char *const duplex_names[] = {
    "ADF Duplex", "Duplex", "Automatic Document Feeder Duplex", "ADF Duplex Feeder",
    "Automatic Document Feeder(left aligned,Duplex)",
    "Automatic Document Feeder(centrally aligned,Duplex)", "Duplex ADF", NULL};
static const char *const flatbed_names[] = {"Flatbed", "FlatBed", "Normal", "Document Table",
                                            NULL};
static const char *const gray_names[] = {SANE_VALUE_SCAN_MODE_GRAY, "Grey", "Grayscale",
                                         "Gray scale", "True Gray", "8bit Gray", NULL};
static const char *const color_names[] = {SANE_VALUE_SCAN_MODE_COLOR, "Colour", "RGB",
                                          "24bit Color", NULL};
static const char *const lineart_names[] = {SANE_VALUE_SCAN_MODE_LINEART, "Line Art",
                                            "Black & White", "Binary", "Monochrome", NULL};

typedef struct frame {
    SANE_Parameters p;
    uint8_t *data;
    size_t len;
} frame;

typedef struct sane_state {
    SANE_Handle h;
    char device[128];
    char backend[64];
    SANE_Int n_options;
    int cancel_between;
    int duplex;
    int first_sheet;
    int sheets_done;   /* whole sheets delivered */
    int next_side;
    int pages;
    int resolution;    /* read back, dpi; 0 unknown */
    char mode[64];
    char source[96];
    int in_page;       /* sane_start succeeded and the page is not finished */
    phieu_image_limits limits;
} sane_state;

static int name_in(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcasecmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static phieu_source_fault fault_of(SANE_Status st)
{
    switch (st) {
    case SANE_STATUS_JAMMED: return PHIEU_FAULT_JAM;
    case SANE_STATUS_NO_DOCS: return PHIEU_FAULT_EMPTY;
    case SANE_STATUS_COVER_OPEN: return PHIEU_FAULT_COVER_OPEN;
    case SANE_STATUS_IO_ERROR: return PHIEU_FAULT_IO;
    case SANE_STATUS_DEVICE_BUSY: return PHIEU_FAULT_BUSY;
    case SANE_STATUS_CANCELLED: return PHIEU_FAULT_CANCELLED;
    default: return PHIEU_FAULT_OTHER;
    }
}

/* ---- options ---------------------------------------------------------------------- */

static int reload_count(sane_state *st)
{
    const SANE_Option_Descriptor *d = sane_get_option_descriptor(st->h, 0);
    SANE_Int n = 0;
    if (!d || d->type != SANE_TYPE_INT ||
        sane_control_option(st->h, 0, SANE_ACTION_GET_VALUE, &n, NULL) != SANE_STATUS_GOOD)
        return -1;
    st->n_options = n;
    return 0;
}

static int find_option(sane_state *st, const char *name, const SANE_Option_Descriptor **out)
{
    for (SANE_Int i = 1; i < st->n_options; i++) {
        const SANE_Option_Descriptor *d = sane_get_option_descriptor(st->h, i);
        if (d && d->name && d->type != SANE_TYPE_GROUP && strcmp(d->name, name) == 0) {
            *out = d;
            return i;
        }
    }
    return -1;
}

static int usable(const SANE_Option_Descriptor *d)
{
    return SANE_OPTION_IS_ACTIVE(d->cap) && SANE_OPTION_IS_SETTABLE(d->cap);
}

/* Sets option `i` to value (already in the option's representation) and honours info:
 * RELOAD_OPTIONS re-reads the descriptors' count; INEXACT is read back by the caller. */
static int control_set(sane_state *st, int i, const char *name, void *value, SANE_Int *info,
                       phieu_error *err)
{
    SANE_Int inf = 0;
    SANE_Status s = sane_control_option(st->h, i, SANE_ACTION_SET_VALUE, value, &inf);
    if (s != SANE_STATUS_GOOD)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "scanner '%s' refused option '%s': %s; see 'phieu devices -v "
                               "--device %s' for its values",
                               st->device, name, sane_strstatus(s), st->device);
    if ((inf & SANE_INFO_RELOAD_OPTIONS) && reload_count(st) != 0)
        return phieu_error_set(err, PHIEU_EDEVICE, "scanner '%s' lost its options after '%s'",
                               st->device, name);
    if (info)
        *info = inf;
    return 0;
}

/* A number into an INT or FIXED option (every element of a vector option). Returns 1 when
 * set, 0 when the option is absent or inactive (and `required` is 0). */
static int set_number(sane_state *st, const char *name, double value, int required,
                      double *actual, phieu_error *err)
{
    const SANE_Option_Descriptor *d = NULL;
    int i = find_option(st, name, &d);
    if (i < 0 || !usable(d)) {
        if (required)
            return phieu_error_set(err, PHIEU_EINVAL, "scanner '%s' has no settable option '%s'",
                                   st->device, name);
        return 0;
    }
    if (d->type != SANE_TYPE_INT && d->type != SANE_TYPE_FIXED)
        return phieu_error_set(err, PHIEU_EINVAL, "scanner '%s': option '%s' is not a number",
                               st->device, name);
    size_t n = d->size > 0 ? (size_t)d->size / sizeof(SANE_Word) : 1;
    SANE_Word *w = phieu_calloc(n ? n : 1, sizeof *w);
    if (!w)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory setting '%s'", name);
    SANE_Word v = d->type == SANE_TYPE_FIXED ? SANE_FIX(value) : (SANE_Word)lround(value);
    for (size_t k = 0; k < n; k++)
        w[k] = v;
    SANE_Int info = 0;
    int rc = control_set(st, i, name, w, &info, err);
    if (rc == 0 && actual) {
        /* INEXACT: the device rounded; read back what it uses. */
        *actual = value;
        if ((info & SANE_INFO_INEXACT) &&
            sane_control_option(st->h, i, SANE_ACTION_GET_VALUE, w, NULL) == SANE_STATUS_GOOD)
            *actual = d->type == SANE_TYPE_FIXED ? SANE_UNFIX(w[0]) : w[0];
    }
    phieu_free(w);
    return rc < 0 ? rc : 1;
}

static int get_number(sane_state *st, const char *name, double *out)
{
    const SANE_Option_Descriptor *d = NULL;
    int i = find_option(st, name, &d);
    if (i < 0 || !SANE_OPTION_IS_ACTIVE(d->cap) ||
        (d->type != SANE_TYPE_INT && d->type != SANE_TYPE_FIXED) || d->size < (int)sizeof(SANE_Word))
        return -1;
    SANE_Word *w = phieu_calloc((size_t)d->size / sizeof(SANE_Word), sizeof *w);
    if (!w)
        return -1;
    int rc = -1;
    if (sane_control_option(st->h, i, SANE_ACTION_GET_VALUE, w, NULL) == SANE_STATUS_GOOD) {
        *out = d->type == SANE_TYPE_FIXED ? SANE_UNFIX(w[0]) : w[0];
        rc = 0;
    }
    phieu_free(w);
    return rc;
}

static int get_string(sane_state *st, const char *name, char *out, size_t size)
{
    const SANE_Option_Descriptor *d = NULL;
    int i = find_option(st, name, &d);
    if (i < 0 || !SANE_OPTION_IS_ACTIVE(d->cap) || d->type != SANE_TYPE_STRING || d->size <= 0)
        return -1;
    char *buf = phieu_calloc(1, (size_t)d->size + 1);
    if (!buf)
        return -1;
    int rc = -1;
    if (sane_control_option(st->h, i, SANE_ACTION_GET_VALUE, buf, NULL) == SANE_STATUS_GOOD) {
        snprintf(out, size, "%s", buf);
        rc = 0;
    }
    phieu_free(buf);
    return rc;
}

/* The first value of a string option's list that is in `names` (exact, any case). */
static const char *pick_string(const SANE_Option_Descriptor *d, const char *const *names)
{
    if (d->type != SANE_TYPE_STRING || d->constraint_type != SANE_CONSTRAINT_STRING_LIST)
        return NULL;
    for (size_t k = 0; names[k]; k++)
        for (size_t i = 0; d->constraint.string_list[i]; i++)
            if (strcasecmp(d->constraint.string_list[i], names[k]) == 0)
                return d->constraint.string_list[i];
    return NULL;
}

static int set_string(sane_state *st, int i, const SANE_Option_Descriptor *d, const char *name,
                      const char *value, phieu_error *err)
{
    size_t size = d->size > 0 ? (size_t)d->size : strlen(value) + 1;
    if (strlen(value) + 1 > size)
        return phieu_error_set(err, PHIEU_EINVAL, "value '%s' is too long for option '%s'",
                               value, name);
    char *buf = phieu_calloc(1, size);
    if (!buf)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory setting '%s'", name);
    memcpy(buf, value, strlen(value) + 1);
    int rc = control_set(st, i, name, buf, NULL, err);
    phieu_free(buf);
    return rc;
}

static void list_strings(const SANE_Option_Descriptor *d, char *out, size_t size)
{
    out[0] = '\0';
    if (d->constraint_type != SANE_CONSTRAINT_STRING_LIST)
        return;
    size_t used = 0;
    for (size_t i = 0; d->constraint.string_list[i] && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "|" : "",
                                 d->constraint.string_list[i]);
}

static int set_source(sane_state *st, phieu_sane_source want, phieu_error *err)
{
    if (want == PHIEU_SANE_SOURCE_DEFAULT)
        return 0;
    const SANE_Option_Descriptor *d = NULL;
    int i = find_option(st, SANE_NAME_SCAN_SOURCE, &d);
    int has = i >= 0 && usable(d);
    char values[256] = "";
    if (has)
        list_strings(d, values, sizeof values);
    const char *pick = NULL;
    if (want == PHIEU_SANE_SOURCE_FLATBED) {
        pick = has ? pick_string(d, flatbed_names) : NULL;
        if (!pick)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "scanner '%s' has no flatbed (its sources: %s)", st->device,
                                   has ? values : "none");
        return set_string(st, i, d, SANE_NAME_SCAN_SOURCE, pick, err);
    }
    if (want == PHIEU_SANE_SOURCE_DUPLEX && has && (pick = pick_string(d, duplex_names)))
        return set_string(st, i, d, SANE_NAME_SCAN_SOURCE, pick, err);
    pick = has ? pick_string(d, adf_names) : NULL;
    if (has && !pick)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "scanner '%s' has no document feeder (its sources: %s); use "
                               "--source flatbed or another scanner",
                               st->device, values);
    if (pick) {
        int rc = set_string(st, i, d, SANE_NAME_SCAN_SOURCE, pick, err);
        if (rc < 0)
            return rc;
    }
    if (want != PHIEU_SANE_SOURCE_DUPLEX)
        return 0;
    /* Duplex through a separate option (pixma: adf-mode, others: adf_mode). */
    static const char *const mode_opts[] = {"adf-mode", "adf_mode", NULL};
    static const char *const duplex_value[] = {"Duplex", NULL};
    for (size_t k = 0; mode_opts[k]; k++) {
        const SANE_Option_Descriptor *m = NULL;
        int j = find_option(st, mode_opts[k], &m);
        const char *v = j >= 0 && usable(m) ? pick_string(m, duplex_value) : NULL;
        if (v)
            return set_string(st, j, m, mode_opts[k], v, err);
    }
    return phieu_error_set(err, PHIEU_EINVAL,
                           "scanner '%s' cannot scan both sides (its sources: %s); use --source "
                           "adf",
                           st->device, has ? values : "none");
}

static int set_mode(sane_state *st, phieu_sane_mode want, int *depth, phieu_error *err)
{
    if (want == PHIEU_SANE_MODE_DEFAULT)
        return 0;
    const SANE_Option_Descriptor *d = NULL;
    int i = find_option(st, SANE_NAME_SCAN_MODE, &d);
    if (i < 0 || !usable(d))
        return phieu_error_set(err, PHIEU_EINVAL, "scanner '%s' has no settable scan mode",
                               st->device);
    const char *const *names = want == PHIEU_SANE_MODE_COLOR     ? color_names
                               : want == PHIEU_SANE_MODE_LINEART ? lineart_names
                                                                 : gray_names;
    const char *pick = pick_string(d, names);
    if (!pick && want == PHIEU_SANE_MODE_LINEART) {
        /* No line-art mode (the test backend): gray at depth 1 is the same picture. */
        pick = pick_string(d, gray_names);
        if (pick && *depth == 0)
            *depth = 1;
    }
    if (!pick) {
        char values[256];
        list_strings(d, values, sizeof values);
        return phieu_error_set(err, PHIEU_EINVAL, "scanner '%s' has no such mode (its modes: %s)",
                               st->device, values);
    }
    return set_string(st, i, d, SANE_NAME_SCAN_MODE, pick, err);
}

/* Sets the scan area to the whole range the device offers. */
static int set_full_area(sane_state *st, phieu_error *err)
{
    static const char *const names[] = {SANE_NAME_SCAN_TL_X, SANE_NAME_SCAN_TL_Y,
                                        SANE_NAME_SCAN_BR_X, SANE_NAME_SCAN_BR_Y};
    for (int k = 0; k < 4; k++) {
        const SANE_Option_Descriptor *d = NULL;
        int i = find_option(st, names[k], &d);
        if (i < 0 || !usable(d))
            continue;
        double lo, hi;
        if (d->constraint_type == SANE_CONSTRAINT_RANGE) {
            lo = d->constraint.range->min;
            hi = d->constraint.range->max;
        } else if (d->constraint_type == SANE_CONSTRAINT_WORD_LIST &&
                   d->constraint.word_list[0] > 0) {
            lo = hi = d->constraint.word_list[1];
            for (SANE_Word j = 1; j <= d->constraint.word_list[0]; j++) {
                lo = fmin(lo, d->constraint.word_list[j]);
                hi = fmax(hi, d->constraint.word_list[j]);
            }
        } else {
            continue;
        }
        double v = k < 2 ? lo : hi;
        if (d->type == SANE_TYPE_FIXED)
            v = SANE_UNFIX((SANE_Word)v);
        int rc = set_number(st, names[k], v, 0, NULL, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int set_extra(sane_state *st, const char *spec, phieu_error *err)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec)
        return phieu_error_set(err, PHIEU_EINVAL, "option '%s' is not name=value", spec);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
    const char *value = eq + 1;
    const SANE_Option_Descriptor *d = NULL;
    int i = find_option(st, name, &d);
    if (i < 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "scanner '%s' has no option '%s'; see 'phieu devices -v'",
                               st->device, name);
    if (!usable(d))
        return phieu_error_set(err, PHIEU_EINVAL,
                               "option '%s' of scanner '%s' is inactive or read-only now", name,
                               st->device);
    switch (d->type) {
    case SANE_TYPE_BOOL: {
        SANE_Word b;
        if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1"))
            b = SANE_TRUE;
        else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") || !strcmp(value, "0"))
            b = SANE_FALSE;
        else
            return phieu_error_set(err, PHIEU_EINVAL, "option '%s' takes yes or no", name);
        return control_set(st, i, name, &b, NULL, err);
    }
    case SANE_TYPE_INT:
    case SANE_TYPE_FIXED: {
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end)
            return phieu_error_set(err, PHIEU_EINVAL, "option '%s' takes a number, not '%s'",
                                   name, value);
        int rc = set_number(st, name, v, 1, NULL, err);
        return rc < 0 ? rc : 0;
    }
    case SANE_TYPE_STRING: {
        /* A listed value is matched exactly, ignoring case, and sent as the device spells it. */
        const char *send = value;
        if (d->constraint_type == SANE_CONSTRAINT_STRING_LIST) {
            const char *one[] = {value, NULL};
            send = pick_string(d, one);
            if (!send) {
                char values[256];
                list_strings(d, values, sizeof values);
                return phieu_error_set(err, PHIEU_EINVAL, "option '%s' takes one of %s", name,
                                       values);
            }
        }
        return set_string(st, i, d, name, send, err);
    }
    case SANE_TYPE_BUTTON:
        return control_set(st, i, name, NULL, NULL, err);
    default:
        return phieu_error_set(err, PHIEU_EINVAL, "option '%s' cannot be set", name);
    }
}

static int configure(sane_state *st, const phieu_sane_options *o, phieu_error *err)
{
    int rc;
    int depth = o->depth;
    if ((rc = set_source(st, o->source, err)) < 0 || (rc = set_mode(st, o->mode, &depth, err)) < 0)
        return rc;
    if (depth > 0 && (rc = set_number(st, SANE_NAME_BIT_DEPTH, depth, 1, NULL, err)) < 0)
        return rc;
    if (o->resolution > 0) {
        double actual = 0;
        rc = set_number(st, SANE_NAME_SCAN_RESOLUTION, o->resolution, 0, &actual, err);
        if (rc == 0) { /* no "resolution": x- and y-resolution */
            rc = set_number(st, SANE_NAME_SCAN_X_RESOLUTION, o->resolution, 1, &actual, err);
            if (rc > 0)
                rc = set_number(st, SANE_NAME_SCAN_Y_RESOLUTION, o->resolution, 0, NULL, err);
        }
        if (rc < 0)
            return rc;
    }
    if (o->page_width_mm > 0 &&
        (rc = set_number(st, SANE_NAME_PAGE_WIDTH, o->page_width_mm, 0, NULL, err)) < 0)
        return rc;
    if (o->page_height_mm > 0 &&
        (rc = set_number(st, SANE_NAME_PAGE_HEIGHT, o->page_height_mm, 0, NULL, err)) < 0)
        return rc;
    if (o->full_area && (rc = set_full_area(st, err)) < 0)
        return rc;
    for (size_t k = 0; k < o->n_extra; k++)
        if ((rc = set_extra(st, o->extra[k], err)) < 0)
            return rc;
    double res = 0;
    if (get_number(st, SANE_NAME_SCAN_RESOLUTION, &res) != 0)
        (void)get_number(st, SANE_NAME_SCAN_Y_RESOLUTION, &res);
    st->resolution = (int)lround(res);
    (void)get_string(st, SANE_NAME_SCAN_MODE, st->mode, sizeof st->mode);
    (void)get_string(st, SANE_NAME_SCAN_SOURCE, st->source, sizeof st->source);
    st->duplex = name_in(st->source, duplex_names);
    if (!st->duplex) {
        char m[64] = "";
        if (get_string(st, "adf-mode", m, sizeof m) == 0 || get_string(st, "adf_mode", m, sizeof m) == 0)
            st->duplex = strcasecmp(m, "Duplex") == 0;
    }
    return 0;
}

/* ---- pages ------------------------------------------------------------------------ */

static int check_params(const sane_state *st, const SANE_Parameters *p, phieu_error *err)
{
    int channels = p->format == SANE_FRAME_RGB ? 3 : 1;
    if (p->format > SANE_FRAME_BLUE)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "scanner '%s' sends frame format %d, which phieu does not read",
                               st->device, (int)p->format);
    if (p->depth != 1 && p->depth != 8 && p->depth != 16)
        return phieu_error_set(err, PHIEU_EFORMAT, "scanner '%s' sends %d-bit samples; use 1, 8 "
                               "or 16 (--mode gray)", st->device, p->depth);
    if (p->depth == 1 && channels == 3)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "scanner '%s' sends 1-bit colour; use --mode gray or lineart",
                               st->device);
    if (p->pixels_per_line <= 0 || p->bytes_per_line <= 0)
        return phieu_error_set(err, PHIEU_EFORMAT, "scanner '%s' announces an empty page "
                               "(%d pixels, %d bytes a line)", st->device, p->pixels_per_line,
                               p->bytes_per_line);
    uint64_t need = p->depth == 1 ? ((uint64_t)p->pixels_per_line + 7) / 8
                                  : (uint64_t)p->pixels_per_line * channels * (p->depth / 8);
    if ((uint64_t)p->bytes_per_line < need)
        return phieu_error_set(err, PHIEU_EFORMAT, "scanner '%s' announces %d bytes a line, less "
                               "than %d pixels need", st->device, p->bytes_per_line,
                               p->pixels_per_line);
    if (p->lines >= 0 && (uint64_t)p->pixels_per_line * (uint64_t)p->lines > st->limits.max_pixels)
        return phieu_error_set(err, PHIEU_ELIMIT, "scanner '%s' announces a %d x %d page, larger "
                               "than any ballot", st->device, p->pixels_per_line, p->lines);
    return 0;
}

/* Backends built on libsane's sanei_thread (the test backend among them) end a frame by
 * cancelling their reader thread asynchronously inside the sane_read that returns the
 * frame's last bytes. A thread cancelled while it is still exiting can die holding the
 * dynamic loader's lock, and the next thread the process creates (the next frame's reader,
 * three-pass) waits for it forever: on Debian 12, 1 three-pass scan in 150 hung so, and 1
 * in 8 under AddressSanitizer. So read_frame asks for all but the last byte, pauses, and
 * only then asks for the last one: by then the reader has written everything and exited.
 * 5 ms a frame is nothing beside a sheet's second of feeding. */
static void wait_for_reader_exit(void)
{
    struct timespec pause = {0, 5 * 1000 * 1000};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
}

/* Reads one frame until EOF. Returns 0, or a SANE status (> 0) for a device fault, or a
 * negative PHIEU code. */
static int read_frame(sane_state *st, frame *f, phieu_error *err)
{
    size_t expected = f->p.lines >= 0 ? (size_t)f->p.bytes_per_line * (size_t)f->p.lines : 0;
    /* Unknown height: at most a page of max_pixels, 16-bit RGB. */
    size_t cap_max = f->p.lines >= 0 ? expected + READ_CHUNK
                                     : (size_t)st->limits.max_pixels * 6 + READ_CHUNK;
    size_t cap = f->p.lines >= 0 ? expected + READ_CHUNK : (size_t)4 << 20;
    f->data = phieu_malloc(cap);
    if (!f->data)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory for a %zu-byte page", cap);
    f->len = 0;
    long empty = 0;
    bool waited_for_reader = false;
    for (;;) {
        /* The last byte is asked for alone, after a pause (wait_for_reader_exit). */
        size_t ask = READ_CHUNK;
        if (expected > 0 && f->len < expected) {
            size_t left = expected - f->len;
            if (left > 1 && left - 1 < ask)
                ask = left - 1;
            if (left == 1 && !waited_for_reader) {
                wait_for_reader_exit();
                waited_for_reader = true;
            }
        }
        if (cap - f->len < READ_CHUNK) {
            if (cap >= cap_max)
                return phieu_error_set(err, PHIEU_ELIMIT, "scanner '%s' sends more data than "
                                       "any ballot page holds", st->device);
            size_t grown = cap * 2 < cap_max ? cap * 2 : cap_max;
            uint8_t *p = phieu_realloc(f->data, grown);
            if (!p)
                return phieu_error_set(err, PHIEU_ENOMEM, "out of memory for a page");
            f->data = p;
            cap = grown;
        }
        SANE_Int got = 0;
        SANE_Status s = sane_read(st->h, f->data + f->len, (SANE_Int)ask, &got);
        if (s == SANE_STATUS_EOF)
            return 0;
        if (s != SANE_STATUS_GOOD)
            return (int)s;
        if (got < 0 || (size_t)got > ask)
            got = 0;
        f->len += (size_t)got;
        empty = got == 0 ? empty + 1 : 0;
        if (empty > MAX_EMPTY_READS)
            return (int)SANE_STATUS_IO_ERROR;
    }
}

static uint8_t sample8(const uint8_t *row, int x, int depth, int channel, int channels)
{
    if (depth == 1)
        return (row[x / 8] >> (7 - x % 8)) & 1 ? 0 : 255; /* 1 = black */
    if (depth == 8)
        return row[(size_t)x * channels + channel];
    uint16_t v;
    memcpy(&v, row + ((size_t)x * channels + channel) * 2, 2); /* host order */
    return (uint8_t)((v * 255u + 32767u) / 65535u);
}

/* A gray or 1-bit frame as the gray page. */
static int frame_to_gray(const sane_state *st, const frame *f, int lines, phieu_image **out,
                         phieu_error *err)
{
    int w = f->p.pixels_per_line;
    int rc = phieu_image_create(w, lines, out, err);
    if (rc < 0)
        return rc;
    phieu_image *img = *out;
    img->dpi_x = img->dpi_y = st->resolution;
    for (int y = 0; y < lines; y++) {
        const uint8_t *row = f->data + (size_t)y * f->p.bytes_per_line;
        uint8_t *o = img->pixels + (size_t)y * img->stride;
        if (f->p.depth == 8)
            memcpy(o, row, (size_t)w);
        else
            for (int x = 0; x < w; x++)
                o[x] = sample8(row, x, f->p.depth, 0, 1);
    }
    return 0;
}

/* Colour frames (one RGB frame, or the RED, GREEN and BLUE of three-pass) as 8-bit RGB,
 * rows packed. An RGB frame is packed in its own buffer, which it then hands over (each
 * sample is written at or before where it was read: 8 or 16 bits, padded lines), so the
 * scanner's thread never holds a colour page twice; three planes are interleaved into a
 * new one. */
static int frames_to_rgb(const sane_state *st, frame *fr, int n, int lines, uint8_t **out,
                         phieu_error *err)
{
    int w = fr[0].p.pixels_per_line;
    size_t row_bytes = (size_t)w * 3;
    uint8_t *rgb;
    if (n == 1) {
        frame *f = &fr[0];
        rgb = f->data;
        for (int y = 0; y < lines; y++) {
            const uint8_t *row = f->data + (size_t)y * f->p.bytes_per_line;
            uint8_t *o = rgb + (size_t)y * row_bytes;
            if (f->p.depth == 8)
                memmove(o, row, row_bytes);
            else
                for (int x = 0; x < w * 3; x++)
                    o[x] = sample8(row, x, 16, 0, 1);
        }
        f->data = NULL;
        uint8_t *shrunk = phieu_realloc(rgb, row_bytes * (size_t)lines);
        *out = shrunk ? shrunk : rgb;
        return 0;
    }
    rgb = phieu_malloc(row_bytes * (size_t)lines);
    if (!rgb)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory for a %d x %d colour page "
                               "from '%s'", w, lines, st->device);
    const frame *plane[3] = {NULL, NULL, NULL};
    for (int k = 0; k < n; k++)
        plane[fr[k].p.format - SANE_FRAME_RED] = &fr[k];
    for (int y = 0; y < lines; y++) {
        uint8_t *o = rgb + (size_t)y * row_bytes;
        for (int c = 0; c < 3; c++) {
            const uint8_t *row = plane[c]->data + (size_t)y * plane[c]->p.bytes_per_line;
            for (int x = 0; x < w; x++)
                o[3 * x + c] = sample8(row, x, plane[c]->p.depth, 0, 1);
        }
    }
    *out = rgb;
    return 0;
}

/* The page of whole frames: gray in *page; or colour as RGB in item->rgb when an item is
 * given (the intake's, whose worker makes the gray), else its gray in *page. */
static int frames_to_page(const sane_state *st, frame *fr, int n, phieu_image **page,
                          phieu_source_item *item, phieu_error *err)
{
    int w = fr[0].p.pixels_per_line, lines = fr[0].p.lines;
    if (n == 1 && fr[0].p.format == SANE_FRAME_GRAY)
        return frame_to_gray(st, &fr[0], lines, page, err);
    uint8_t *rgb = NULL;
    int rc = frames_to_rgb(st, fr, n, lines, &rgb, err);
    if (rc < 0 || !item)
        return rc < 0 ? rc : phieu_image_of_rgb(&rgb, w, lines, st->resolution, page, err);
    item->rgb = rgb;
    item->rgb_width = w;
    item->rgb_height = lines;
    return 0;
}

static void end_page(sane_state *st, int always)
{
    if (st->in_page && (always || st->cancel_between))
        sane_cancel(st->h);
    st->in_page = 0;
}

/* A device fault in the page in flight: cancel, reset the sheet's sides, fill err. */
static int page_fault(phieu_source *s, sane_state *st, phieu_source_fault fault,
                      const char *detail, phieu_error *err)
{
    sane_cancel(st->h); /* required after an error, even when sane_start failed */
    st->in_page = 0;
    st->next_side = PHIEU_SOURCE_FRONT; /* the whole sheet is fed again */
    s->fault = fault;
    return phieu_source_fault_error(err, fault, st->device, st->first_sheet + st->sheets_done,
                                    detail);
}

/* The frames of one page as read: how many, and the bytes announced and received. */
typedef struct page_frames {
    frame fr[MAX_FRAMES];
    int n;
    int hand; /* a hand scanner's page: its height known only at its end */
    uint64_t announced, received;
} page_frames;

/* A frame read whole is as long as announced (or, of unknown height, whole lines): 0, or
 * the short-page fault. */
static int check_frame_length(phieu_source *s, sane_state *st, frame *f, page_frames *pf,
                              phieu_error *err)
{
    char detail[160];
    uint64_t bpl = (uint64_t)f->p.bytes_per_line;
    if (f->p.lines < 0) {
        pf->hand = 1;
        if (f->len == 0 || f->len % bpl != 0) {
            snprintf(detail, sizeof detail, "%zu bytes, not whole lines of %llu", f->len,
                     (unsigned long long)bpl);
            return page_fault(s, st, PHIEU_FAULT_SHORT_PAGE, detail, err);
        }
        f->p.lines = (SANE_Int)(f->len / bpl);
    } else if (f->len != bpl * (uint64_t)f->p.lines || f->p.lines == 0) {
        snprintf(detail, sizeof detail, "%zu of %llu bytes announced", f->len,
                 (unsigned long long)(bpl * (uint64_t)f->p.lines));
        return page_fault(s, st, PHIEU_FAULT_SHORT_PAGE, detail, err);
    }
    pf->announced += bpl * (uint64_t)f->p.lines;
    pf->received += f->len;
    return 0;
}

/* Reads the frames of a page already started (status: sane_start's): one gray or RGB
 * frame, or the three of a three-pass page. 0, or the fault or error. */
static int read_frames(phieu_source *s, sane_state *st, SANE_Status status, page_frames *pf,
                       phieu_error *err)
{
    char detail[160];
    while (pf->n < MAX_FRAMES) {
        if (status != SANE_STATUS_GOOD) {
            snprintf(detail, sizeof detail, "sane_start: %s", sane_strstatus(status));
            return page_fault(s, st, fault_of(status), detail, err);
        }
        st->in_page = 1;
        frame *f = &pf->fr[pf->n];
        if (sane_get_parameters(st->h, &f->p) != SANE_STATUS_GOOD)
            return page_fault(s, st, PHIEU_FAULT_OTHER, "sane_get_parameters failed", err);
        int rc = check_params(st, &f->p, err);
        if (rc < 0) {
            end_page(st, 1);
            return rc;
        }
        pf->n++;
        int r = read_frame(st, f, err);
        if (r < 0) {
            end_page(st, 1);
            return r;
        }
        if (r > 0) {
            snprintf(detail, sizeof detail, "sane_read after %zu bytes: %s", f->len,
                     sane_strstatus((SANE_Status)r));
            return page_fault(s, st, fault_of((SANE_Status)r), detail, err);
        }
        if ((rc = check_frame_length(s, st, f, pf, err)) != 0)
            return rc;
        if (f->p.last_frame || f->p.format == SANE_FRAME_GRAY || f->p.format == SANE_FRAME_RGB)
            return 0;
        status = sane_start(st->h); /* the next colour of a three-pass page */
    }
    return 0;
}

/* A page of separate colour frames has exactly one red, one green and one blue, all of
 * one size: 0, or PHIEU_EFORMAT. */
static int check_three_pass(sane_state *st, const page_frames *pf, phieu_error *err)
{
    const frame *fr = pf->fr;
    if (pf->n <= 1 && fr[0].p.format < SANE_FRAME_RED)
        return 0;
    int seen[3] = {0, 0, 0};
    for (int k = 0; k < pf->n; k++)
        if (fr[k].p.format >= SANE_FRAME_RED)
            seen[fr[k].p.format - SANE_FRAME_RED]++;
    int same = 1;
    for (int k = 1; k < pf->n; k++)
        same &= fr[k].p.pixels_per_line == fr[0].p.pixels_per_line && fr[k].p.lines == fr[0].p.lines;
    if (pf->n == 3 && seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && same)
        return 0;
    end_page(st, 1);
    return phieu_error_set(err, PHIEU_EFORMAT, "scanner '%s' sent an incomplete three-pass "
                           "page (%d frames of different colours or sizes)",
                           st->device, pf->n);
}

/* The page's description for the caller, and the feeder moved on to the next side. */
static void page_done(sane_state *st, const page_frames *pf, phieu_page_info *info)
{
    const frame *fr = pf->fr;
    st->pages++;
    memset(info, 0, sizeof *info);
    info->side = st->duplex ? st->next_side : PHIEU_SOURCE_FRONT;
    info->sheet = st->first_sheet + st->sheets_done;
    info->page = st->pages;
    info->bytes_announced = pf->announced;
    info->bytes_received = pf->received;
    info->dpi = st->resolution;
    info->length_mm = st->resolution > 0 ? fr[0].p.lines * 25.4 / st->resolution : 0;
    info->sane_format = fr[0].p.format;
    info->depth = fr[0].p.depth;
    info->frames = pf->n;
    info->hand_scanner = pf->hand;
    snprintf(info->origin, sizeof info->origin, "%s page %d", st->device, st->pages);
    if (info->side == PHIEU_SOURCE_FRONT && st->duplex) {
        st->next_side = PHIEU_SOURCE_BACK;
    } else {
        st->next_side = PHIEU_SOURCE_FRONT;
        st->sheets_done++;
    }
}

/* One page: a gray page in *page, or, when `item` is given and the page is in colour, its
 * 8-bit RGB pixels in item->rgb (the gray is made on another thread,
 * phieu_source_item_decode). 1 for a page, 0 when the feeder is empty after a batch, or
 * the fault or error. */
static int sane_page(phieu_source *s, phieu_image **page, phieu_source_item *item,
                     phieu_page_info *info, phieu_error *err)
{
    sane_state *st = s->impl;
    SANE_Status status = sane_start(st->h);
    if (status == SANE_STATUS_NO_DOCS) {
        sane_cancel(st->h);
        st->in_page = 0;
        if (st->pages > 0 || st->next_side == PHIEU_SOURCE_BACK)
            return 0; /* the feeder is empty: the batch is done */
        s->fault = PHIEU_FAULT_EMPTY;
        return phieu_source_fault_error(err, PHIEU_FAULT_EMPTY, st->device, 0, NULL);
    }
    page_frames pf;
    memset(&pf, 0, sizeof pf);
    int rc = read_frames(s, st, status, &pf, err);
    if (rc == 0)
        rc = check_three_pass(st, &pf, err);
    if (rc == 0) {
        rc = frames_to_page(st, pf.fr, pf.n, page, item, err);
        end_page(st, 0);
        if (rc >= 0) {
            page_done(st, &pf, info);
            rc = 1;
        }
    }
    for (int k = 0; k < MAX_FRAMES; k++)
        phieu_free(pf.fr[k].data);
    return rc;
}

static int sane_next(phieu_source *s, phieu_image **page, phieu_page_info *info,
                     phieu_error *err)
{
    return sane_page(s, page, NULL, info, err);
}

/* For the intake: a colour page travels as RGB, so that its archive file keeps the colour
 * (the red seal is evidence); the workers encode it and make its gray. */
static int sane_take(phieu_source *s, phieu_source_item *item, phieu_error *err)
{
    return sane_page(s, &item->image, item, &item->info, err);
}

static void sane_src_cancel(phieu_source *s)
{
    sane_state *st = s->impl;
    if (st && st->h) {
        sane_cancel(st->h);
        st->in_page = 0;
        st->next_side = PHIEU_SOURCE_FRONT;
    }
}

static void sane_destroy(phieu_source *s)
{
    sane_state *st = s->impl;
    if (!st)
        return;
    if (st->h) {
        sane_cancel(st->h);
        sane_close(st->h);
    }
    sane_exit();
    phieu_free(st);
    s->impl = NULL;
}

static const phieu_source_ops sane_ops = {sane_next, sane_src_cancel, sane_destroy, sane_take,
                                          NULL};

/* Opens `name` (after sane_init); fills err with a bilingual message on failure. */
static int open_device(const char *name, SANE_Handle *h, phieu_source_fault *fault,
                       phieu_error *err)
{
    SANE_Status s = sane_open(name, h);
    if (s == SANE_STATUS_GOOD)
        return 0;
    *h = NULL;
    if (s == SANE_STATUS_INVAL)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "no scanner '%s': run 'phieu devices' to list the scanners, "
                               "check the cable and power / Không tìm thấy máy quét '%s': chạy "
                               "'phieu devices' để xem danh sách, kiểm tra cáp và nguồn điện",
                               name, name);
    *fault = fault_of(s);
    return phieu_source_fault_error(err, *fault == PHIEU_FAULT_OTHER ? PHIEU_FAULT_IO : *fault,
                                    name, 0, sane_strstatus(s));
}

int phieu_source_open_sane(const phieu_sane_options *opts, phieu_source **out,
                           phieu_error *err)
{
    if (!opts || !out)
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_source_open_sane: missing argument");
    *out = NULL;
    SANE_Int version = 0;
    SANE_Status s = sane_init(&version, NULL);
    if (s != SANE_STATUS_GOOD)
        return phieu_error_set(err, PHIEU_EDEVICE, "cannot start SANE: %s", sane_strstatus(s));
    phieu_source *src = phieu_calloc(1, sizeof *src);
    sane_state *st = phieu_calloc(1, sizeof *st);
    if (!src || !st) {
        phieu_free(src);
        phieu_free(st);
        sane_exit();
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening a scanner");
    }
    src->ops = &sane_ops;
    src->impl = st;
    st->limits = phieu_image_default_limits();
    st->first_sheet = opts->first_sheet > 0 ? opts->first_sheet : 1;
    const char *name = opts->device ? opts->device : "";
    if (!*name) {
        const SANE_Device **list = NULL;
        if (sane_get_devices(&list, SANE_TRUE) != SANE_STATUS_GOOD || !list || !list[0]) {
            phieu_source_destroy(&src);
            return phieu_error_set(err, PHIEU_ENOTFOUND,
                                   "no scanner found: check the cable and power, then run "
                                   "'phieu devices' / Không tìm thấy máy quét: kiểm tra cáp và "
                                   "nguồn điện rồi chạy 'phieu devices'");
        }
        snprintf(st->device, sizeof st->device, "%s", list[0]->name);
    } else {
        snprintf(st->device, sizeof st->device, "%s", name);
    }
    snprintf(st->backend, sizeof st->backend, "%.*s", (int)strcspn(st->device, ":"), st->device);
    /* pnm gives one page per sane_start and EOF after it unless cancelled between pages
     * (docs/scanning.md, "SANE facts"); others are driven as scanimage drives them. */
    st->cancel_between = opts->cancel_between_pages >= 0 ? opts->cancel_between_pages
                                                          : strcmp(st->backend, "pnm") == 0;
    int rc = open_device(st->device, &st->h, &src->fault, err);
    if (rc == 0 && reload_count(st) != 0)
        rc = phieu_error_set(err, PHIEU_EDEVICE, "scanner '%s' gives no option list",
                             st->device);
    if (rc == 0)
        rc = configure(st, opts, err);
    if (rc < 0) {
        phieu_source_destroy(&src);
        return rc;
    }
    *out = src;
    return 0;
}

int phieu_source_sane_settings(const phieu_source *s, int *resolution, char *mode,
                               size_t mode_size, char *source, size_t source_size)
{
    if (!s || s->ops != &sane_ops)
        return PHIEU_EINVAL;
    const sane_state *st = s->impl;
    if (resolution)
        *resolution = st->resolution;
    if (mode && mode_size)
        snprintf(mode, mode_size, "%s", st->mode);
    if (source && source_size)
        snprintf(source, source_size, "%s", st->source);
    return 0;
}

/* ---- listing ---------------------------------------------------------------------- */

static void describe_option(SANE_Handle h, int i, const SANE_Option_Descriptor *d,
                            phieu_sane_option_info *o)
{
    static const char *types[] = {"bool", "int", "fixed", "string", "button", "group"};
    static const char *units[] = {"", "px", "bit", "mm", "dpi", "%", "us"};
    snprintf(o->name, sizeof o->name, "%s", d->name ? d->name : "");
    snprintf(o->title, sizeof o->title, "%s", d->title ? d->title : "");
    snprintf(o->type, sizeof o->type, "%s", d->type <= SANE_TYPE_GROUP ? types[d->type] : "?");
    snprintf(o->unit, sizeof o->unit, "%s", d->unit <= SANE_UNIT_MICROSECOND ? units[d->unit] : "");
    o->active = SANE_OPTION_IS_ACTIVE(d->cap) != 0;
    o->settable = SANE_OPTION_IS_SETTABLE(d->cap) != 0;
    int fixed = d->type == SANE_TYPE_FIXED;
    if (d->constraint_type == SANE_CONSTRAINT_RANGE) {
        const SANE_Range *r = d->constraint.range;
        if (fixed)
            snprintf(o->constraint, sizeof o->constraint, "%g..%g", SANE_UNFIX(r->min),
                     SANE_UNFIX(r->max));
        else
            snprintf(o->constraint, sizeof o->constraint, "%d..%d", r->min, r->max);
    } else if (d->constraint_type == SANE_CONSTRAINT_WORD_LIST) {
        size_t used = 0;
        for (SANE_Word k = 1; k <= d->constraint.word_list[0] && used < sizeof o->constraint; k++)
            used += (size_t)snprintf(o->constraint + used, sizeof o->constraint - used,
                                     fixed ? "%s%g" : "%s%.0f", k > 1 ? "|" : "",
                                     fixed ? SANE_UNFIX(d->constraint.word_list[k])
                                           : (double)d->constraint.word_list[k]);
    } else if (d->constraint_type == SANE_CONSTRAINT_STRING_LIST) {
        list_strings(d, o->constraint, sizeof o->constraint);
    }
    if (!o->active || !(d->cap & SANE_CAP_SOFT_DETECT) || d->type == SANE_TYPE_GROUP ||
        d->type == SANE_TYPE_BUTTON || d->size <= 0)
        return;
    void *v = phieu_calloc(1, (size_t)d->size + 1);
    if (!v)
        return;
    if (sane_control_option(h, i, SANE_ACTION_GET_VALUE, v, NULL) == SANE_STATUS_GOOD) {
        SANE_Word w = *(SANE_Word *)v;
        if (d->type == SANE_TYPE_STRING)
            snprintf(o->value, sizeof o->value, "%s", (char *)v);
        else if (d->type == SANE_TYPE_BOOL)
            snprintf(o->value, sizeof o->value, "%s", w ? "yes" : "no");
        else if (fixed)
            snprintf(o->value, sizeof o->value, "%g", SANE_UNFIX(w));
        else
            snprintf(o->value, sizeof o->value, "%d", w);
    }
    phieu_free(v);
}

static int list_options(const char *name, phieu_sane_device_info *dev, phieu_error *err)
{
    SANE_Handle h = NULL;
    phieu_source_fault fault;
    phieu_error open_err = {0};
    int rc = open_device(name, &h, &fault, &open_err);
    if (rc < 0) {
        dev->open_status = rc;
        return 0;
    }
    SANE_Int n = 0;
    const SANE_Option_Descriptor *d0 = sane_get_option_descriptor(h, 0);
    if (d0 && sane_control_option(h, 0, SANE_ACTION_GET_VALUE, &n, NULL) == SANE_STATUS_GOOD &&
        n > 1) {
        dev->options = phieu_calloc((size_t)n, sizeof *dev->options);
        if (!dev->options) {
            sane_close(h);
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing options");
        }
        for (SANE_Int i = 1; i < n; i++) {
            const SANE_Option_Descriptor *d = sane_get_option_descriptor(h, i);
            if (d)
                describe_option(h, i, d, &dev->options[dev->n_options++]);
        }
    }
    sane_close(h);
    return 0;
}

int phieu_sane_list(const char *only_device, int with_options, phieu_sane_device_info **out,
                    size_t *n, phieu_error *err)
{
    if (!out || !n)
        return phieu_error_set(err, PHIEU_EINVAL, "phieu_sane_list: missing argument");
    *out = NULL;
    *n = 0;
    SANE_Int version = 0;
    SANE_Status s = sane_init(&version, NULL);
    if (s != SANE_STATUS_GOOD)
        return phieu_error_set(err, PHIEU_EDEVICE, "cannot start SANE: %s", sane_strstatus(s));
    int rc = 0;
    const SANE_Device **list = NULL;
    size_t count = 0;
    if (only_device && *only_device) {
        count = 1;
    } else {
        if ((s = sane_get_devices(&list, SANE_TRUE)) != SANE_STATUS_GOOD) {
            sane_exit();
            return phieu_error_set(err, PHIEU_EDEVICE, "cannot list scanners: %s",
                                   sane_strstatus(s));
        }
        while (list && list[count])
            count++;
    }
    phieu_sane_device_info *devs = count ? phieu_calloc(count, sizeof *devs) : NULL;
    if (count && !devs) {
        sane_exit();
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing scanners");
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        phieu_sane_device_info *d = &devs[i];
        if (list) {
            snprintf(d->name, sizeof d->name, "%s", list[i]->name);
            snprintf(d->vendor, sizeof d->vendor, "%s", list[i]->vendor ? list[i]->vendor : "");
            snprintf(d->model, sizeof d->model, "%s", list[i]->model ? list[i]->model : "");
            snprintf(d->type, sizeof d->type, "%s", list[i]->type ? list[i]->type : "");
        } else {
            snprintf(d->name, sizeof d->name, "%s", only_device);
        }
        if (with_options || !list)
            rc = list_options(d->name, d, err);
    }
    sane_exit();
    if (rc < 0) {
        phieu_sane_devices_free(&devs, count);
        return rc;
    }
    *out = devs;
    *n = count;
    return 0;
}

void phieu_sane_devices_free(phieu_sane_device_info **list, size_t n)
{
    if (!list || !*list)
        return;
    for (size_t i = 0; i < n; i++)
        phieu_free((*list)[i].options);
    phieu_free(*list);
    *list = NULL;
}
