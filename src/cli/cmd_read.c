/*
 * cmd_read.c - `phieu read --form FORM... IMAGE...`: reads every page of every image file
 * without a session (debugging, audit) and prints one reading per page, as a table or as
 * one JSON object per line. Arguments and output only: the reading is src/omr/.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/util.h"

static const char read_usage[] =
    "usage: phieu read --form FORM [--form FORM2...] [options] IMAGE...\n"
    "\n"
    "Reads every page of every IMAGE (PNG, TIFF; multi-page TIFF is one page per ballot\n"
    "side) against the given forms and prints, for each page, its status (counted,\n"
    "review, rejected, blank), the form, the reasons, and each row's decision with the\n"
    "score and state of every box.\n"
    "\n"
    "  --form FORM            a form the pages may be (repeat for several)\n"
    "  --json                 one JSON object per page per line (keys: file, page, status,\n"
    "                         form, reasons, notes, rows, thresholds)\n"
    "  --debug-dir DIR        write an overlay PNG per page into DIR (fiducials, boxes\n"
    "                         coloured by state, score bars, row decisions)\n"
    "  --test                 a test session: accept test ballots, refuse official ones\n"
    "  --threshold NAME=VALUE set a threshold (marked, marginal, ink; 0..1)\n"
    "\n"
    "A file that cannot be read gives a 'rejected' line with reason 'unreadable-file' and\n"
    "a message on stderr; the other files are still read.\n"
    "Exit status: 0 every page counted or blank; 7 some page needs a person (review or\n"
    "rejected); 3 some file could not be read; 2 wrong arguments.\n";

/* More forms than one election ever has in one batch. */
#define READ_MAX_FORMS 8

typedef struct read_opts {
    phieu_form *forms[READ_MAX_FORMS];
    phieu_layout layouts[READ_MAX_FORMS];
    int n_forms;
    int json;
    int test;
    const char *debug_dir;
    phieu_thresholds th;
} read_opts;

static void put_json_string(FILE *out, const char *s)
{
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_json_string(&b, s);
    /* Out of memory: still a JSON string, so the line stays parseable. */
    if (b.failed)
        fputs("\"\"", out);
    else
        fwrite(b.data, 1, b.len, out);
    phieu_buf_release(&b);
}

static void put_thresholds_json(FILE *out, const phieu_thresholds *th)
{
    fputs("\"thresholds\":{", out);
    for (int i = 0; i < PHIEU_TH_COUNT; i++)
        fprintf(out, "%s\"%s\":%.4f", i ? "," : "", phieu_threshold_name(i), th->value[i]);
    fputs("}", out);
}

static void print_unreadable(const read_opts *o, const char *file, int page, const char *msg)
{
    fprintf(stderr, "phieu read: %s\n", msg);
    if (o->json) {
        fputs("{\"file\":", stdout);
        put_json_string(stdout, file);
        fprintf(stdout, ",\"page\":%d,\"status\":\"rejected\",\"form\":null,\"reasons\":"
                        "[\"unreadable-file\"],\"notes\":[{\"code\":\"unreadable-file\","
                        "\"row\":0,\"text\":",
                page);
        put_json_string(stdout, msg);
        fputs("}],\"rows\":[],", stdout);
        put_thresholds_json(stdout, &o->th);
        fputs("}\n", stdout);
    } else {
        printf("%s page %d: rejected (unreadable-file)\n", file, page);
    }
}

static void print_table(const phieu_reading *r, const phieu_form *form, const char *file,
                        int page)
{
    printf("%s page %d: %s", file, page, phieu_page_status_name(r->status));
    if (form)
        printf(", form %s%s", form->id, r->test_ballot ? " (test ballot)" : "");
    if (r->upside_down)
        printf(", upside down");
    printf("\n");
    for (int i = 0; i < r->n_reasons; i++)
        printf("  %s: %s\n", r->reasons[i].code, r->reasons[i].text);
    for (int i = 0; i < r->n_rows && form; i++) {
        const phieu_row_reading *row = &r->rows[i];
        printf("  row %2d  %-9s", row->row, phieu_row_decision_name(form, row->decision));
        for (int c = 0; c < form->n_choices; c++)
            printf("  %s %.4f %-8s", form->choices[c].key, (double)row->boxes[c].score,
                   phieu_box_state_name(row->boxes[c].state));
        printf("\n");
    }
}

/* Reads all pages of one file; returns the worst outcome: 0 fine, 1 needs a person,
 * 2 unreadable. *img is the last page read, kept so that the next page (of this file or
 * the next) reuses its memory; the caller frees it at the end. */
static int read_file_pages(const read_opts *o, const phieu_omr_config *cfg, const char *file,
                           phieu_image **img)
{
    phieu_error err = {0};
    phieu_image_reader *rd = NULL;
    phieu_image_limits limits = phieu_image_default_limits();
    if (phieu_image_reader_open(file, &limits, &rd, &err) != 0) {
        print_unreadable(o, file, 1, err.message);
        return 2;
    }
    int worst = 0;
    for (int page = 1;; page++) {
        int got = phieu_image_reader_next_reusing(rd, img, &err);
        if (got == 0)
            break;
        if (got < 0) {
            print_unreadable(o, file, page, err.message);
            worst = 2;
            break;
        }
        phieu_reading r;
        if (phieu_omr_read(cfg, *img, &r, &err) != 0) {
            print_unreadable(o, file, page, err.message);
            worst = 2;
            break;
        }
        const phieu_form *form = r.form_index >= 0 ? o->forms[r.form_index] : NULL;
        if (o->json) {
            phieu_buf b;
            phieu_buf_init(&b);
            phieu_omr_reading_json(&r, form, &b);
            fputs("{\"file\":", stdout);
            put_json_string(stdout, file);
            fprintf(stdout, ",\"page\":%d,", page);
            /* The reading's own object, without its opening brace and closing brace. */
            if (!b.failed && b.len > 2)
                fwrite(b.data + 1, 1, b.len - 2, stdout);
            fputs(",", stdout);
            put_thresholds_json(stdout, &o->th);
            fputs("}\n", stdout);
            phieu_buf_release(&b);
        } else {
            print_table(&r, form, file, page);
        }
        if (o->debug_dir) {
            char *copy = phieu_strdup(file);
            char path[4096];
            snprintf(path, sizeof path, "%s/%s-p%d.png", o->debug_dir,
                     copy ? basename(copy) : "page", page);
            phieu_free(copy);
            if (phieu_omr_debug_overlay(cfg, *img, &r, path, &err) != 0)
                fprintf(stderr, "phieu read: %s\n", err.message);
        }
        if ((r.status == PHIEU_PAGE_REVIEW || r.status == PHIEU_PAGE_REJECTED) && worst < 1)
            worst = 1;
    }
    phieu_image_reader_close(&rd);
    return worst;
}

/* One --form: loaded and laid out into o. 0, or the exit code with the message printed. */
static int add_form(read_opts *o, const char *path)
{
    phieu_error err = {0};
    if (o->n_forms >= READ_MAX_FORMS)
        return cli_usage_error("read", "at most %d forms", READ_MAX_FORMS);
    if (phieu_form_load(path, &o->forms[o->n_forms], &err) != 0 ||
        phieu_layout_compute(o->forms[o->n_forms], &o->layouts[o->n_forms], &err) != 0)
        return cli_fail(&err);
    o->n_forms++;
    return 0;
}

/* One --threshold NAME=VALUE into o->th. 0, or the exit code with the message printed. */
static int set_threshold(read_opts *o, const char *v)
{
    phieu_error err = {0};
    const char *eq = strchr(v, '=');
    char name[32];
    char *end = NULL;
    double value = eq ? strtod(eq + 1, &end) : 0;
    if (!eq || (size_t)(eq - v) >= sizeof name || end == eq + 1 || *end)
        return cli_usage_error("read", "--threshold takes NAME=VALUE, not '%s'", v);
    memcpy(name, v, (size_t)(eq - v));
    name[eq - v] = '\0';
    if (phieu_thresholds_set(&o->th, name, value, &err) != 0)
        return cli_usage_error("read", "%s", err.message);
    return 0;
}

/* The options into o (the forms loaded); the images are then a->rest. 0, or the exit
 * code with the message printed. */
static int parse_args(int argc, char **argv, read_opts *o, cli_args *a)
{
    enum { OPT_DEBUG_DIR = CLI_OWN };
    static const cli_option options[] = {
        CLI_COMMON(CLI_FORM), CLI_COMMON(CLI_JSON),      CLI_COMMON(CLI_TEST),
        CLI_COMMON(CLI_THRESHOLD), {"debug-dir", 0, OPT_DEBUG_DIR, "a folder"}, {0}};
    int id = 0, rc = 0;
    cli_args_init(a, "read", argc, argv, options);
    while (rc == 0 && (id = cli_args_next(a)) > 0) {
        if (id == CLI_JSON)
            o->json = 1;
        else if (id == CLI_TEST)
            o->test = 1;
        else if (id == OPT_DEBUG_DIR)
            o->debug_dir = a->value;
        else if (id == CLI_FORM)
            rc = add_form(o, a->value);
        else if (id == CLI_THRESHOLD)
            rc = set_threshold(o, a->value);
    }
    if (rc != 0)
        return rc;
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (o->n_forms == 0)
        return cli_usage_error("read", "no form given; add --form FORM");
    if (a->n_rest == 0)
        return cli_usage_error("read", "no image given");
    return 0;
}

int cmd_read(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(read_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    read_opts o;
    memset(&o, 0, sizeof o);
    phieu_thresholds_default(&o.th);
    phieu_error err = {0};
    cli_args a;
    int rc = parse_args(argc, argv, &o, &a);
    if (rc != 0)
        goto done;
    char **images = a.rest;
    int n_images = a.n_rest;
    if (o.debug_dir && phieu_mkdir_p(o.debug_dir, &err) != 0) {
        rc = cli_fail(&err);
        goto done;
    }
    phieu_omr_config cfg = {
        .forms = (const phieu_form *const *)o.forms,
        .layouts = o.layouts,
        .n_forms = o.n_forms,
        .thresholds = o.th,
        .test_session = o.test,
    };
    if (!o.json)
        printf("thresholds: marked %.4f, marginal %.4f, ink %.4f\n",
               o.th.value[PHIEU_TH_MARKED], o.th.value[PHIEU_TH_MARGINAL],
               o.th.value[PHIEU_TH_INK]);
    int worst = 0;
    phieu_image *page = NULL; /* the last page, whose memory the next one reuses */
    for (int i = 0; i < n_images; i++) {
        int w = read_file_pages(&o, &cfg, images[i], &page);
        if (w > worst)
            worst = w;
    }
    phieu_image_destroy(&page);
    fflush(stdout);
    rc = worst == 2 ? PHIEU_EXIT_INPUT : worst == 1 ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
done:
    for (int i = 0; i < o.n_forms; i++)
        phieu_form_destroy(&o.forms[i]);
    return rc;
}
