/*
 * cmd_exceptions.c - `phieu exceptions SESSION [--all]`: the exception queue, in the
 * order the operator finds the paper (batch, position). Deciding is `phieu decide` or
 * the review screen.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/session.h"

static const char usage[] =
    "usage: phieu exceptions SESSION [--all]\n"
    "\n"
    "Lists the exceptions that await a decision (with --all, decided ones too): its number\n"
    "(for 'phieu decide'), its state, where the paper is (batch/position), the form, the\n"
    "row (or 'page') and the reason. Exit status 7 when some are open.\n";

static const char *state_word(int state)
{
    switch (state) {
    case PHIEU_EXC_OPEN: return "open";
    case PHIEU_EXC_SECOND: return "1 of 2";
    case PHIEU_EXC_HEAD: return "to head";
    default: return "resolved";
    }
}

int cmd_exceptions(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    const char *path = NULL;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0)
            all = 1;
        else if (argv[i][0] == '-')
            return cli_usage_error("exceptions", "unknown option '%s'", argv[i]);
        else if (!path)
            path = argv[i];
        else
            return cli_usage_error("exceptions", "unexpected argument '%s'", argv[i]);
    }
    if (!path)
        return cli_usage_error("exceptions", "give the session file");
    phieu_error err = {0};
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
        char where[32], row[8];
        snprintf(where, sizeof where, "%lld/%d", (long long)e->batch, e->position);
        if (e->row)
            snprintf(row, sizeof row, "%d", e->row);
        else
            snprintf(row, sizeof row, "page");
        printf("%-9lld %-9s %-11s %-18s %-5s %-18s %s", (long long)e->id, state_word(e->state),
               where, e->form_index >= 0 ? info->forms[e->form_index]->id : "?", row, e->reason,
               e->text);
        if (e->state == PHIEU_EXC_RESOLVED)
            printf(" [decided: %s]",
                   strncmp(e->resolution, PHIEU_CHOICE_READ_PREFIX,
                           strlen(PHIEU_CHOICE_READ_PREFIX)) == 0
                       ? "the board's reading" /* the choice is a digest, meaningless here */
                       : e->resolution);
        printf("\n");
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
