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
#include "phieu/picture.h"
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

static const char *state_word(int state)
{
    switch (state) {
    case PHIEU_EXC_OPEN: return "open";
    case PHIEU_EXC_SECOND: return "1 of 2";
    case PHIEU_EXC_HEAD: return "to head";
    default: return "resolved";
    }
}

/* Writes one picture of the sheet's page (phieu/picture.h) to DIR/NUMBER-<name>.png and
 * says so. */
static int write_picture(const phieu_picture *p, const phieu_layout *lay, const phieu_reading *r,
                         const phieu_picture_ask *ask, const char *dir, const phieu_exception *e,
                         const char *name, phieu_error *err)
{
    uint8_t *png = NULL;
    size_t len = 0;
    char out[4096];
    snprintf(out, sizeof out, "%s/%lld-%s.png", dir, (long long)e->id, name);
    int rc = phieu_picture_png(p, lay, r, ask, &png, &len, err);
    if (rc == 0)
        rc = phieu_write_file_durable(out, png, len, err);
    phieu_free(png);
    if (rc == 0)
        printf("  wrote %s\n", out);
    return rc;
}

/* Writes DIR/NUMBER-page.png (the page as scanned, in colour if it was) and, for a row
 * exception whose page was placed, the row's boxes full size as DIR/NUMBER-row-N.png. */
static int write_images(phieu_session *s, const phieu_exception *e, const char *dir,
                        phieu_error *err)
{
    phieu_sheet sh;
    phieu_reading *r = phieu_calloc(1, sizeof *r);
    if (!r)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    char path[4096];
    int rc = phieu_session_sheet_get(s, e->sheet_id, &sh, r, err);
    if (rc == 0 && sh.unreadable) {
        printf("  (exception %lld: the file could not be decoded; there is no image)\n",
               (long long)e->id);
        phieu_free(r);
        return 0;
    }
    if (rc == 0)
        rc = phieu_session_image_path(s, sh.sha256, 0, path, sizeof path, err);
    phieu_picture *page = NULL;
    if (rc == 0)
        rc = phieu_picture_load(path, &page, NULL, err);
    phieu_picture_ask whole = {0, 0, 0};
    if (rc == 0)
        rc = write_picture(page, NULL, NULL, &whole, dir, e, "page", err);
    const phieu_session_info *info = phieu_session_get_info(s);
    if (rc == 0 && e->row > 0 && phieu_picture_placed(r) && r->form_index < info->n_forms &&
        e->row <= info->layouts[r->form_index].n_rows) {
        phieu_picture_ask row = {e->row, 0, 0};
        char name[32];
        snprintf(name, sizeof name, "row-%d", e->row);
        rc = write_picture(page, &info->layouts[r->form_index], r, &row, dir, e, name, err);
        if (rc == PHIEU_ENOTFOUND) { /* the page is written: the row is on it, or not */
            printf("  (exception %lld: %s)\n", (long long)e->id, err->message);
            phieu_error_clear(err);
            rc = 0;
        }
    }
    phieu_picture_destroy(&page);
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
