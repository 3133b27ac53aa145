/*
 * cmd_form.c - `phieu form check|layout|print FORM`: validate a ballot form, print its
 * geometry (as text, or the JSON other tools rely on), print ballots as PDF or a raster.
 * Arguments and output only: parsing, layout and its JSON are src/form/, drawing is src/render/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/render.h"
#include "phieu/util.h"

static const char form_usage[] =
    "usage: phieu form check FORM\n"
    "       phieu form layout FORM [--json]\n"
    "       phieu form print FORM -o OUT [--copies N] [--test] [--format pdf|png|tiff]\n"
    "                        [--dpi DPI]\n"
    "\n"
    "Define and print ballot forms (the format is described in docs/forms.md).\n"
    "\n"
    "  check    validate FORM and print its id, kind, choices, rows and fingerprint\n"
    "  layout   print where everything goes on the A4 page, in mm (--json: machine form)\n"
    "  print    write ballots: a PDF to print at 100 % on A4, or one blank ballot as an\n"
    "           8-bit gray PNG or TIFF raster\n"
    "\n"
    "Run 'phieu form SUBCOMMAND -h' for a subcommand's options.\n";

static const char check_usage[] =
    "usage: phieu form check FORM\n"
    "\n"
    "Validates FORM. On success prints a summary (id, kind, choices, rows, fingerprint) and\n"
    "exits 0; otherwise prints 'FILE:LINE:COLUMN: what is wrong; how to fix it' and exits 3.\n";

static const char layout_usage[] =
    "usage: phieu form layout FORM [--json]\n"
    "\n"
    "Prints the page geometry of FORM in millimetres from the top-left corner of the A4\n"
    "page. With --json the output is one JSON object with the keys form, fingerprint,\n"
    "kind, page, choices, fiducials, rows (each with its boxes), seal, code and table.\n";

static const char print_usage[] =
    "usage: phieu form print FORM -o OUT [options]\n"
    "\n"
    "  -o, --output OUT     the file to write\n"
    "  --format FMT         pdf (default), png or tiff; png and tiff hold one blank ballot\n"
    "  --copies N           PDF pages, one ballot each (default 1)\n"
    "  --dpi DPI            raster resolution, 150..600 (default 300)\n"
    "  --test               test ballots: a 'PHIẾU THỬ – KHÔNG CÓ GIÁ TRỊ' band and the test flag\n"
    "                       in the form code (an official session refuses them)\n"
    "\n"
    "Print the PDF at 100 % (no 'fit to page') on A4 paper.\n";

/* Upper bounds of the options, where they come from: a council of 500 delegates with
 * spare ballots for exchanges fits in 10 000 copies; dpi range from render.h. */
#define COPIES_MAX 10000
#define DPI_MIN 150
#define DPI_MAX 600
#define DPI_DEFAULT 300

static const char *kind_name(phieu_form_kind kind)
{
    return kind == PHIEU_FORM_CONFIDENCE ? "confidence" : "rating";
}

static int load(const char *path, phieu_form **form)
{
    phieu_error err = {0};
    if (phieu_form_load(path, form, &err) != 0)
        return cli_fail(&err);
    return PHIEU_EXIT_OK;
}

static int form_check(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(check_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    if (argc != 2)
        return cli_usage_error("form check", "expected one FORM file");
    phieu_form *form = NULL;
    int rc = load(argv[1], &form);
    if (rc)
        return rc;
    printf("%s: ok\n", argv[1]);
    printf("  id:          %s\n", form->id);
    printf("  kind:        %s\n", kind_name(form->kind));
    printf("  council:     %s\n", form->council);
    printf("  session:     %s\n", form->session);
    printf("  title:       %s\n", form->title);
    printf("  choices:    ");
    for (int c = 0; c < form->n_choices; c++)
        printf(" %s \"%s\"%s", form->choices[c].key, form->choices[c].label,
               c + 1 < form->n_choices ? "," : "\n");
    printf("  rows:        %d\n", form->n_rows);
    for (int r = 0; r < form->n_rows; r++)
        printf("    %2d. %s (%s)\n", form->rows[r].number, form->rows[r].name,
               form->rows[r].post);
    printf("  fingerprint: %s\n", form->fingerprint_hex);
    phieu_form_destroy(&form);
    return PHIEU_EXIT_OK;
}

/* ---- layout ------------------------------------------------------------------------ */

/* Prints s padded with spaces to `width` characters (not bytes: names are UTF-8). */
static void print_padded(const char *s, int width)
{
    int chars = 0;
    for (const char *c = s; *c; c++)
        chars += ((unsigned char)*c & 0xC0) != 0x80;
    fputs(s, stdout);
    for (; chars < width; chars++)
        putchar(' ');
}

static void print_rect(const char *what, phieu_rect r)
{
    printf("  %-14s x %7.2f  y %7.2f  w %6.2f  h %6.2f\n", what, r.x, r.y, r.w, r.h);
}

/* The layout as text: every place in mm from the top-left corner, each row's boxes. */
static void print_layout(const phieu_form *form, const phieu_layout *l)
{
    printf("%s (%s), A4 %.0f x %.0f mm, mm from the top-left corner:\n", form->id,
           kind_name(form->kind), l->page_w, l->page_h);
    static const char *const corner[4] = {"fiducial TL", "fiducial TR", "fiducial BR",
                                          "fiducial BL"};
    for (int i = 0; i < 4; i++)
        print_rect(corner[i], l->fiducials[i]);
    print_rect("  BR hole", l->fiducial_hole);
    print_rect("seal", l->seal);
    print_rect("header left", l->header_left);
    print_rect("header right", l->header_right);
    print_rect("title", l->title);
    print_rect("instruction", l->instruction);
    print_rect("test band", l->test_band);
    print_rect("table", l->table);
    print_rect("code start", l->code_start);
    print_rect("code end", l->code_end);
    print_rect("code text", l->code_text);
    printf("  rows: %d, pitch %.2f mm, boxes %.2f mm, text %.0f pt\n", l->n_rows,
           l->rows[0].h, l->boxes[0][0].w, l->font_pt);
    for (int r = 0; r < l->n_rows; r++) {
        printf("  %2d ", form->rows[r].number);
        print_padded(form->rows[r].name, 24);
        for (int c = 0; c < l->n_choices; c++)
            printf("  %s (%.2f, %.2f)", form->choices[c].key, l->boxes[r][c].x,
                   l->boxes[r][c].y);
        printf("\n");
    }
    printf("  fingerprint %s\n", form->fingerprint_hex);
}

static int form_layout(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(layout_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    static const cli_option options[] = {CLI_COMMON(CLI_JSON), {0}};
    int json = 0, id;
    cli_args a;
    cli_args_init(&a, "form layout", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0)
        json |= id == CLI_JSON;
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("form layout", "expected one FORM file, got '%s' too",
                               a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("form layout", "expected a FORM file");
    const char *path = a.rest[0];
    phieu_form *form = NULL;
    int rc = load(path, &form);
    if (rc)
        return rc;
    phieu_layout l;
    phieu_error err = {0};
    if (phieu_layout_compute(form, &l, &err) != 0) {
        phieu_form_destroy(&form);
        return cli_fail(&err);
    }
    if (json) {
        phieu_buf text;
        phieu_buf_init(&text);
        if (phieu_layout_json(form, &l, &text, &err) != 0) {
            phieu_form_destroy(&form);
            return cli_fail(&err);
        }
        printf("%s\n", text.data);
        phieu_buf_release(&text);
    } else {
        print_layout(form, &l);
    }
    phieu_form_destroy(&form);
    return PHIEU_EXIT_OK;
}

/* ---- print ------------------------------------------------------------------------- */

/* A whole decimal number in [lo, hi], or -1. */
static long parse_number(const char *s, long lo, long hi)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!s[0] || !end || *end || v < lo || v > hi)
        return -1;
    return v;
}

/* What `form print` was asked for. */
typedef struct print_args {
    const char *path, *out, *format;
    long copies, dpi;
    int test;
} print_args;

/* The options of `form print` into p, checked against each other. 0, or the exit code
 * with the message printed. */
static int parse_print_args(int argc, char **argv, print_args *p)
{
    enum { OPT_OUTPUT = CLI_OWN, OPT_FORMAT, OPT_COPIES, OPT_DPI };
    static const cli_option options[] = {CLI_COMMON(CLI_TEST),
                                         {"output", 'o', OPT_OUTPUT, "a file name"},
                                         {"format", 0, OPT_FORMAT, "pdf, png or tiff"},
                                         {"copies", 0, OPT_COPIES, "a number of copies"},
                                         {"dpi", 0, OPT_DPI, "a resolution in dpi"},
                                         {0}};
    *p = (print_args){.format = "pdf", .copies = 1, .dpi = DPI_DEFAULT};
    int dpi_given = 0, copies_given = 0, id;
    cli_args a;
    cli_args_init(&a, "form print", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        const char *v = a.value;
        if (id == CLI_TEST) {
            p->test = 1;
        } else if (id == OPT_OUTPUT) {
            p->out = v;
        } else if (id == OPT_FORMAT) {
            p->format = v;
            if (strcmp(v, "pdf") != 0 && strcmp(v, "png") != 0 && strcmp(v, "tiff") != 0)
                return cli_usage_error("form print", "unknown format '%s'; use pdf, png or tiff",
                                       v);
        } else if (id == OPT_COPIES) {
            if ((p->copies = parse_number(v, 1, COPIES_MAX)) < 0)
                return cli_usage_error("form print", "'--copies' needs a number from 1 to %d",
                                       COPIES_MAX);
            copies_given = 1;
        } else if (id == OPT_DPI) {
            if ((p->dpi = parse_number(v, DPI_MIN, DPI_MAX)) < 0)
                return cli_usage_error("form print", "'--dpi' needs a number from %d to %d",
                                       DPI_MIN, DPI_MAX);
            dpi_given = 1;
        }
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("form print", "expected one FORM file, got '%s' too", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("form print", "expected a FORM file");
    p->path = a.rest[0];
    if (!p->out)
        return cli_usage_error("form print", "say where to write the ballots with -o FILE");
    int pdf = strcmp(p->format, "pdf") == 0;
    if (pdf && dpi_given)
        return cli_usage_error("form print", "'--dpi' is for --format png or tiff; a PDF is "
                                             "resolution-independent");
    if (!pdf && copies_given)
        return cli_usage_error("form print", "'--copies' is for PDF output; a raster holds "
                                             "one ballot");
    return 0;
}

static int form_print(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(print_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    print_args p;
    int prc = parse_print_args(argc, argv, &p);
    if (prc != 0)
        return prc;
    const char *path = p.path, *out = p.out, *format = p.format;
    long copies = p.copies, dpi = p.dpi;
    int test = p.test, pdf = strcmp(format, "pdf") == 0;

    phieu_form *form = NULL;
    int rc = load(path, &form);
    if (rc)
        return rc;
    phieu_error err = {0};
    phieu_render_options opt = {.test_ballot = test, .copies = (int)copies};
    if (pdf) {
        rc = phieu_render_pdf(form, &opt, out, &err);
    } else {
        phieu_image *img = NULL;
        rc = phieu_render_raster(form, &opt, (int)dpi, &img, &err);
        if (rc == 0)
            rc = strcmp(format, "png") == 0 ? phieu_image_save_png(img, out, &err)
                                            : phieu_image_save_tiff(img, out, &err);
        phieu_image_destroy(&img);
    }
    if (rc) {
        phieu_form_destroy(&form);
        return cli_fail(&err);
    }
    if (pdf)
        printf("wrote %s: %ld %s%s ballot%s of '%s' (A4, print at 100 %%)\n", out, copies,
               test ? "TEST " : "", kind_name(form->kind), copies > 1 ? "s" : "", form->id);
    else
        printf("wrote %s: one blank %s%s ballot of '%s' at %ld dpi\n", out, test ? "TEST " : "",
               kind_name(form->kind), form->id, dpi);
    phieu_form_destroy(&form);
    return PHIEU_EXIT_OK;
}

int cmd_form(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(form_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? PHIEU_EXIT_USAGE : PHIEU_EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return form_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "layout") == 0)
        return form_layout(argc - 1, argv + 1);
    if (strcmp(argv[1], "print") == 0)
        return form_print(argc - 1, argv + 1);
    return cli_usage_error("form", "unknown subcommand '%s'; use check, layout or print",
                           argv[1]);
}
