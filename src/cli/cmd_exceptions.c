/*
 * cmd_exceptions.c - `phieu exceptions SESSION [--all] [--png DIR]`: the exception queue,
 * in the order the operator finds the paper (batch, position), with the images a board
 * without a browser needs (--png: the page and the row's boxes). Deciding is
 * `phieu decide` or the review screen.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/image.h"
#include "phieu/pages.h"
#include "phieu/session.h"
#include "phieu/util.h"

static const char usage[] =
    "usage: phieu exceptions SESSION [--all] [--png DIR]\n"
    "\n"
    "Lists the exceptions that await a decision (with --all, decided ones too): its number\n"
    "(for 'phieu decide'), its state, where the paper is (batch/position), the form, the\n"
    "row (or 'page') and the reason. A possible duplicate names the batch and position of\n"
    "the sheet it looks like, so both papers can be taken out and compared.\n"
    "\n"
    "  --all       decided exceptions too\n"
    "  --png DIR   write the images to look at: DIR/NUMBER-page.png (the page as scanned)\n"
    "              and, for a row, DIR/NUMBER-row-N.png (that row's boxes, full size)\n"
    "\n"
    "Exit status 7 when some are open.\n";

/* Margin above and below a row's band in its crop, in mm: shows a mark that strays out of
 * the row (the review screen uses the same). */
#define ROW_CROP_MARGIN_MM 2.0

static const char *state_word(int state)
{
    switch (state) {
    case PHIEU_EXC_OPEN: return "open";
    case PHIEU_EXC_SECOND: return "1 of 2";
    case PHIEU_EXC_HEAD: return "to head";
    default: return "resolved";
    }
}

/* The pixel box of a page rectangle (mm) through a reading's transform. */
static void map_rect(const double t[9], phieu_rect r, double box[4])
{
    box[0] = box[1] = 1e300;
    box[2] = box[3] = -1e300;
    double xs[2] = {r.x, r.x + r.w}, ys[2] = {r.y, r.y + r.h};
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            double w = t[6] * xs[i] + t[7] * ys[k] + t[8];
            w = w == 0 ? 1e-12 : w;
            double px = (t[0] * xs[i] + t[1] * ys[k] + t[2]) / w;
            double py = (t[3] * xs[i] + t[4] * ys[k] + t[5]) / w;
            box[0] = px < box[0] ? px : box[0];
            box[1] = py < box[1] ? py : box[1];
            box[2] = px > box[2] ? px : box[2];
            box[3] = py > box[3] ? py : box[3];
        }
}

static int write_png(const phieu_image *img, const char *path, phieu_error *err)
{
    uint8_t *png = NULL;
    size_t len = 0;
    int rc = phieu_image_encode_png(img, &png, &len, err);
    if (rc == 0)
        rc = phieu_write_file_durable(path, png, len, err);
    phieu_free(png);
    return rc;
}

/* Writes DIR/NUMBER-page.png and, for a row exception whose page was placed, the row's
 * boxes as DIR/NUMBER-row-N.png. Prints the files written. */
static int write_images(phieu_session *s, const phieu_exception *e, const char *dir,
                        phieu_error *err)
{
    phieu_sheet sh;
    phieu_reading *r = phieu_calloc(1, sizeof *r);
    if (!r)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    phieu_image *img = NULL, *crop = NULL;
    char path[4096], out[4096];
    int rc = phieu_session_sheet_get(s, e->sheet_id, &sh, r, err);
    if (rc == 0 && sh.unreadable) {
        printf("  (exception %lld: the file could not be decoded; there is no image)\n",
               (long long)e->id);
        goto done;
    }
    if (rc == 0)
        rc = phieu_session_image_path(s, sh.sha256, 0, path, sizeof path, err);
    if (rc == 0) {
        phieu_image_limits lim = phieu_image_default_limits();
        rc = phieu_image_load(path, 0, &lim, &img, err);
    }
    if (rc == 0) {
        snprintf(out, sizeof out, "%s/%lld-page.png", dir, (long long)e->id);
        rc = write_png(img, out, err);
        if (rc == 0)
            printf("  wrote %s\n", out);
    }
    const phieu_session_info *info = phieu_session_get_info(s);
    if (rc == 0 && e->row > 0 && r->form_index >= 0 && r->form_index < info->n_forms &&
        r->transform[8] != 0) {
        const phieu_layout *lay = &info->layouts[r->form_index];
        if (e->row <= lay->n_rows) {
            phieu_rect band = lay->rows[e->row - 1];
            phieu_rect boxes = {lay->column_x[3], band.y - ROW_CROP_MARGIN_MM,
                                lay->column_x[3 + lay->n_choices] - lay->column_x[3],
                                band.h + 2 * ROW_CROP_MARGIN_MM};
            double b[4];
            map_rect(r->transform, boxes, b);
            int x0 = b[0] < 0 ? 0 : (int)b[0], y0 = b[1] < 0 ? 0 : (int)b[1];
            int x1 = b[2] >= img->width ? img->width - 1 : (int)b[2];
            int y1 = b[3] >= img->height ? img->height - 1 : (int)b[3];
            if (x1 > x0 && y1 > y0) {
                rc = phieu_image_crop(img, x0, y0, x1 - x0 + 1, y1 - y0 + 1, &crop, err);
                snprintf(out, sizeof out, "%s/%lld-row-%d.png", dir, (long long)e->id, e->row);
                if (rc == 0)
                    rc = write_png(crop, out, err);
                if (rc == 0)
                    printf("  wrote %s\n", out);
            }
        }
    }
done:
    phieu_image_destroy(&img);
    phieu_image_destroy(&crop);
    phieu_free(r);
    return rc;
}

/* The form column: the form the machine found; for a page it could not place, the form
 * the board named when it decided (its reading, "form:<id>" or "invalid:<id>"), so that a
 * settled page never shows as of no form; "?" while nobody has said. */
static const char *form_label(phieu_session *s, const phieu_session_info *info,
                              const phieu_exception *e, char *out, size_t size)
{
    if (e->form_index >= 0)
        return info->forms[e->form_index]->id;
    if (e->state != PHIEU_EXC_RESOLVED)
        return "?";
    const char *r = e->resolution;
    if (strncmp(r, PHIEU_CHOICE_READ_PREFIX, strlen(PHIEU_CHOICE_READ_PREFIX)) == 0) {
        phieu_board_entry entry;
        phieu_error err = {0};
        if (phieu_session_sheet_board_entry(s, e->sheet_id, &entry, &err) == 0 &&
            entry.form_index >= 0 && entry.form_index < info->n_forms) {
            snprintf(out, size, "%s", info->forms[entry.form_index]->id);
            return out;
        }
        return "?";
    }
    const char *colon = strchr(r, ':');
    if (colon && (strncmp(r, "form:", 5) == 0 || strncmp(r, "invalid:", 8) == 0)) {
        snprintf(out, size, "%s", colon + 1);
        return out;
    }
    return "?";
}

/* The exception's words, with a possible duplicate's twin named by where its paper is
 * (batch and position) instead of an internal sheet id. */
static void details(phieu_session *s, const phieu_exception *e, char *out, size_t size)
{
    snprintf(out, size, "%s", e->text);
    if (!e->duplicate_of[0])
        return;
    phieu_sheet twin;
    phieu_error err = {0};
    if (phieu_session_sheet_get(s, e->duplicate_of, &twin, NULL, &err) != 0)
        return;
    char where[96];
    snprintf(where, sizeof where, "the sheet at batch %lld, position %d", (long long)twin.batch,
             twin.position);
    char id[PHIEU_SHEET_ID_MAX + 8];
    snprintf(id, sizeof id, "sheet %s", e->duplicate_of);
    char *at = strstr(out, id);
    if (at) {
        char tail[512];
        snprintf(tail, sizeof tail, "%s", at + strlen(id));
        snprintf(at, size - (size_t)(at - out), "%s%s", where, tail);
    } else {
        size_t len = strlen(out);
        snprintf(out + len, size - len, " (like %s)", where);
    }
}

/* One line of the list: number, state, where its paper is, form, row, reason, details,
 * and the decision if there is one. */
static void print_exception(phieu_session *s, const phieu_session_info *info,
                            const phieu_exception *e)
{
    char where[32], row[8];
    snprintf(where, sizeof where, "%lld/%d", (long long)e->batch, e->position);
    if (e->row)
        snprintf(row, sizeof row, "%d", e->row);
    else
        snprintf(row, sizeof row, "page");
    char text[1024], form[PHIEU_FORM_ID_MAX + 16];
    details(s, e, text, sizeof text);
    printf("%-9lld %-9s %-11s %-18s %-5s %-18s %s", (long long)e->id, state_word(e->state),
           where, form_label(s, info, e, form, sizeof form), row, e->reason, text);
    if (e->state == PHIEU_EXC_RESOLVED)
        printf(" [decided: %s]",
               strncmp(e->resolution, PHIEU_CHOICE_READ_PREFIX,
                       strlen(PHIEU_CHOICE_READ_PREFIX)) == 0
                   ? "the board's reading" /* the choice is a digest, meaningless here */
                   : e->resolution);
    printf("\n");
}

/* The options of `exceptions` (see usage). */
enum { OPT_ALL = CLI_OWN, OPT_PNG };
static const cli_option options[] = {
    {"all", 0, OPT_ALL, NULL}, {"png", 0, OPT_PNG, "a folder"}, {0}};

int cmd_exceptions(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    const char *png_dir = NULL;
    int all = 0, id;
    cli_args a;
    cli_args_init(&a, "exceptions", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        if (id == OPT_ALL)
            all = 1;
        else if (id == OPT_PNG)
            png_dir = a.value;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("exceptions", "unexpected argument '%s'", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("exceptions", "give the session file");
    const char *path = a.rest[0];
    phieu_error err = {0};
    if (png_dir && phieu_mkdir_p(png_dir, &err) != 0)
        return cli_fail(&err);
    phieu_session *s = NULL;
    if (phieu_session_open(path, &s, &err) != 0)
        return cli_fail(&err);
    phieu_exception *list = NULL;
    size_t n = 0;
    int rc = phieu_session_exceptions_list(
        s, all ? PHIEU_EXC_LIST_ALL : PHIEU_EXC_LIST_UNRESOLVED, &list, &n, &err);
    if (rc != 0) {
        phieu_session_close(&s);
        return cli_fail(&err);
    }
    const phieu_session_info *info = phieu_session_get_info(s);
    int open = 0;
    if (n > 0)
        printf("%-9s %-9s %-11s %-18s %-5s %-18s %s\n", "number", "state", "batch/pos",
               "form", "row", "reason", "details");
    for (size_t i = 0; i < n; i++) {
        const phieu_exception *e = &list[i];
        print_exception(s, info, e);
        if (png_dir && write_images(s, e, png_dir, &err) != 0) {
            phieu_free(list);
            phieu_session_close(&s);
            return cli_fail(&err);
        }
        if (e->state != PHIEU_EXC_RESOLVED)
            open++;
    }
    if (n == 0)
        printf("no %sexceptions\n", all ? "" : "open ");
    else
        printf("%d open, %zu listed\n", open, n);
    phieu_free(list);
    phieu_session_close(&s);
    return open ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
}
