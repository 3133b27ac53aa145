/*
 * cmd_devices.c - `phieu devices [-v] [--device NAME]`: the scanners libsane finds and,
 * with -v, their options. `--scan-test` (for the test scripts and for checking a scanner
 * before the counting day) scans through the source module without a session and prints
 * one line per page with its size and checksum. Scanning into a session is cmd_scan.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/source.h"
#include "phieu/util.h"

/* Options a scan test may pass through with --set (the test backend needs several). */
#define MAX_SET 32

static const char usage[] =
    "usage: phieu devices [-v] [--device NAME]\n"
    "       phieu devices --scan-test NAME [--source adf|duplex|flatbed] [--mode gray|color|lineart]\n"
    "                     [--resolution DPI] [--depth 1|8|16] [--set OPTION=VALUE]... [--pages N]\n"
    "                     [--continue] [--full-area] [--region WxH]\n"
    "\n"
    "Lists the scanners SANE finds (like scanimage -L); -v also lists each one's options\n"
    "(name, type, value, allowed values; '-' marks an inactive option).\n"
    "--scan-test scans pages without a session and prints, per page: its number, side,\n"
    "sheet, size, SANE frame format, depth, frames, bytes announced and received, mean gray\n"
    "and the SHA-256 of its 8-bit gray pixels. --continue goes on after a scanner fault\n"
    "(as if the operator re-fed the sheet); --region also hashes the top-left WxH pixels.\n"
    "Exit status: 0, or 5 when the scanner failed.\n"
    "\n"
    "Liệt kê các máy quét SANE tìm thấy; -v hiện thêm các tùy chọn của từng máy.\n";

static void print_devices(const phieu_sane_device_info *d, size_t n, int verbose)
{
    if (n == 0)
        printf("no scanners found (không tìm thấy máy quét)\n");
    for (size_t i = 0; i < n; i++) {
        if (d[i].vendor[0] || d[i].model[0])
            printf("%s\t%s %s (%s)\n", d[i].name, d[i].vendor, d[i].model, d[i].type);
        else
            printf("%s\n", d[i].name);
        if (!verbose)
            continue;
        if (d[i].open_status < 0) {
            printf("  cannot open: %s\n", phieu_error_code_name(d[i].open_status));
            continue;
        }
        for (size_t k = 0; k < d[i].n_options; k++) {
            const phieu_sane_option_info *o = &d[i].options[k];
            if (!strcmp(o->type, "group")) {
                printf("  %s:\n", o->title);
                continue;
            }
            printf("  %c %-24s %-6s %-14s %s%s%s\n", o->active ? ' ' : '-', o->name, o->type,
                   o->value[0] ? o->value : "-", o->constraint, o->unit[0] ? " " : "",
                   o->unit);
        }
    }
}

/* SHA-256 and mean of the top-left w x h pixels (clipped to the image). */
static void digest(const phieu_image *img, int w, int h, char hex[PHIEU_SHA256_HEX], double *mean)
{
    w = w > 0 && w < img->width ? w : img->width;
    h = h > 0 && h < img->height ? h : img->height;
    uint8_t *packed = phieu_malloc((size_t)w * (size_t)h + 1);
    uint64_t sum = 0;
    snprintf(hex, PHIEU_SHA256_HEX, "-");
    *mean = 0;
    if (!packed)
        return;
    for (int y = 0; y < h; y++)
        memcpy(packed + (size_t)y * w, img->pixels + (size_t)y * img->stride, (size_t)w);
    for (size_t i = 0; i < (size_t)w * h; i++)
        sum += packed[i];
    phieu_sha256_hex(packed, (size_t)w * h, hex);
    *mean = w && h ? (double)sum / ((double)w * h) : 0;
    phieu_free(packed);
}

static void print_page(const phieu_image *img, const phieu_page_info *info, int region_w,
                       int region_h)
{
    char hex[PHIEU_SHA256_HEX], region[PHIEU_SHA256_HEX];
    double mean, region_mean;
    digest(img, 0, 0, hex, &mean);
    digest(img, region_w, region_h, region, &region_mean);
    printf("page %d side %s sheet %d size %dx%d format %d depth %d frames %d announced %llu "
           "received %llu hand %d dpi %.0f length %.1f mean %.2f sha256 %s\n",
           info->page, info->side == PHIEU_SOURCE_BACK ? "back" : "front", info->sheet,
           img->width, img->height, info->sane_format, info->depth, info->frames,
           (unsigned long long)info->bytes_announced, (unsigned long long)info->bytes_received,
           info->hand_scanner, info->dpi, info->length_mm, mean, hex);
    if (region_w > 0 || region_h > 0)
        printf("region %dx%d mean %.2f sha256 %s\n", region_w, region_h, region_mean, region);
}

static const char *fault_name(phieu_source_fault f)
{
    static const char *names[] = {"none", "empty", "jam", "cover-open", "io",
                                  "busy", "short-page", "cancelled", "other"};
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "other";
}

/* What `devices` was asked: the scanner's options for --scan-test and how to run it. */
typedef struct devices_args {
    phieu_sane_options o;
    const char *set[MAX_SET]; /* --set NAME=VALUE, passed to the backend */
    size_t n_set;
    const char *device;
    int verbose, test, max_pages, keep_going, region_w, region_h;
} devices_args;

/* `devices --scan-test`: scans up to --pages pages (all with 0), printing each page's
 * facts and each fault; with --continue, goes on after a device fault. */
static int scan_test(devices_args *da)
{
    phieu_sane_options *o = &da->o;
    int max_pages = da->max_pages, keep_going = da->keep_going;
    phieu_error err = {0};
    phieu_source *src = NULL;
    int rc = phieu_source_open_sane(o, &src, &err);
    if (rc < 0) {
        printf("open-error %s\n", phieu_error_code_name(rc));
        return cli_fail(&err);
    }
    int res = 0;
    char mode[64], source[96];
    phieu_source_sane_settings(src, &res, mode, sizeof mode, source, sizeof source);
    printf("device %s resolution %d mode %s source %s\n", o->device, res, mode,
           source[0] ? source : "-");
    int pages = 0, status = PHIEU_EXIT_OK, faults = 0;
    while (max_pages <= 0 || pages < max_pages) {
        phieu_image *img = NULL;
        phieu_page_info info;
        rc = phieu_source_next(src, &img, &info, &err);
        if (rc == 0)
            break;
        if (rc < 0) {
            phieu_source_fault f = phieu_source_last_fault(src);
            printf("fault %s code %s\n", fault_name(f), phieu_error_code_name(rc));
            fprintf(stderr, "phieu: %s\n", err.message);
            status = cli_exit_code(rc);
            /* A bounded number of faults in a row: a dead device must not loop forever. */
            if (!keep_going || rc != PHIEU_EDEVICE || f == PHIEU_FAULT_EMPTY || ++faults > 16)
                break;
            continue;
        }
        faults = 0;
        pages++;
        print_page(img, &info, da->region_w, da->region_h);
        phieu_image_destroy(&img);
    }
    printf("pages %d\n", pages);
    phieu_source_destroy(&src);
    return status;
}

/* The options of `devices` (see usage). */
enum { OPT_VERBOSE = CLI_OWN, OPT_CONTINUE, OPT_FULL_AREA, OPT_SCAN_TEST, OPT_DEPTH,
       OPT_PAGES, OPT_REGION };
static const cli_option options[] = {
    {"verbose", 'v', OPT_VERBOSE, NULL},
    {"continue", 0, OPT_CONTINUE, NULL},
    {"full-area", 0, OPT_FULL_AREA, NULL},
    {"scan-test", 0, OPT_SCAN_TEST, "a scanner name"},
    {"depth", 0, OPT_DEPTH, "a bit depth"},
    {"pages", 0, OPT_PAGES, "a number of pages"},
    {"region", 0, OPT_REGION, "WxH"},
    CLI_COMMON(CLI_DEVICE), CLI_COMMON(CLI_SOURCE), CLI_COMMON(CLI_MODE),
    CLI_COMMON(CLI_RESOLUTION), CLI_COMMON(CLI_SET), {0}};

/* Reads `devices`' options into `da`; PHIEU_EXIT_OK or the usage error's exit code (the
 * message printed). */
static int parse_devices_args(int argc, char **argv, devices_args *da)
{
    int id;
    cli_args a;
    cli_args_init(&a, "devices", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        const char *v = a.value;
        if (id == OPT_VERBOSE) {
            da->verbose = 1;
        } else if (id == OPT_CONTINUE) {
            da->keep_going = 1;
        } else if (id == OPT_FULL_AREA) {
            da->o.full_area = 1;
        } else if (id == CLI_DEVICE) {
            da->device = v;
        } else if (id == OPT_SCAN_TEST) {
            da->device = v;
            da->test = 1;
        } else if (id == CLI_SOURCE) {
            int rc = cli_sane_source("devices", v, &da->o.source);
            if (rc != 0)
                return rc;
        } else if (id == CLI_MODE) {
            int rc = cli_sane_mode("devices", v, &da->o.mode);
            if (rc != 0)
                return rc;
        } else if (id == CLI_RESOLUTION) {
            da->o.resolution = atoi(v);
        } else if (id == OPT_DEPTH) {
            da->o.depth = atoi(v);
        } else if (id == OPT_PAGES) {
            da->max_pages = atoi(v);
        } else if (id == OPT_REGION) {
            if (sscanf(v, "%dx%d", &da->region_w, &da->region_h) != 2)
                return cli_usage_error("devices", "--region takes WxH, e.g. 300x200");
        } else if (id == CLI_SET) {
            if (da->n_set == MAX_SET)
                return cli_usage_error("devices", "at most %d --set options", MAX_SET);
            da->set[da->n_set++] = v;
        }
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 0)
        return cli_usage_error("devices", "unexpected argument '%s'", a.rest[0]);
    return PHIEU_EXIT_OK;
}

int cmd_devices(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    devices_args da;
    memset(&da, 0, sizeof da);
    da.o.cancel_between_pages = -1;
    int code = parse_devices_args(argc, argv, &da);
    if (code != PHIEU_EXIT_OK)
        return code;
    if (da.test) {
        da.o.device = da.device;
        da.o.extra = da.set;
        da.o.n_extra = da.n_set;
        return scan_test(&da);
    }
    phieu_error err = {0};
    phieu_sane_device_info *list = NULL;
    size_t n = 0;
    if (phieu_sane_list(da.device, da.verbose, &list, &n, &err) < 0)
        return cli_fail(&err);
    print_devices(list, n, da.verbose);
    phieu_sane_devices_free(&list, n);
    return PHIEU_EXIT_OK;
}
