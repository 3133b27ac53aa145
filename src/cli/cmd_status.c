/*
 * cmd_status.c - `phieu status SESSION`: pages, sheets, counted, pending exceptions, and
 * the reconciliation of sheets read against the ballots the board collected, per form,
 * with what to do when they differ. Figures come from the session module.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/session.h"

static const char usage[] =
    "usage: phieu status SESSION\n"
    "\n"
    "Shows the progress of the count: pages archived, ballots read, counted and pending,\n"
    "open exceptions, and per form the ballots read against the ballots collected (as\n"
    "entered with 'phieu session counts'), with what to do when they differ.\n"
    "Exit status: 0 everything reconciles and nothing is pending, 7 work remains.\n";

int cmd_status(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    if (argc != 2)
        return cli_usage_error("status", "give one session file");
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(argv[1], &s, &err) != 0)
        return cli_fail(&err);
    phieu_session_progress pr;
    if (phieu_session_progress_get(s, &pr, &err) != 0) {
        phieu_session_close(&s);
        return cli_fail(&err);
    }
    const phieu_session_info *info = phieu_session_get_info(s);
    int todo = 0;
    printf("%s session: %s, %s (%s, %s)\n", info->test ? "Test" : "Official", info->council,
           info->session_name, info->date, info->place);
    printf("pages archived: %d (%d ballot sides, %d back sides); set aside as not ballots: "
           "%d\n",
           pr.pages, pr.sheets, pr.backs, pr.discarded);
    printf("exceptions: %d open of %d\n", pr.exceptions_open, pr.exceptions_total);
    if (pr.unknown_form > 0) {
        printf("pages whose form is not known yet: %d\n", pr.unknown_form);
        todo = 1;
    }
    for (int i = 0; i < info->n_forms; i++) {
        const phieu_form_progress *f = &pr.forms[i];
        const phieu_board_counts *c = &info->counts[i];
        printf("\nform %s: %d ballots read: %d counted, %d pending, %d invalid as a whole\n",
               info->forms[i]->id, f->sheets, f->counted, f->pending, f->invalid);
        if (!c->entered) {
            printf("  the board's counts are not entered: run 'phieu session counts %s --form "
                   "%s --present N --issued N --collected N'\n",
                   argv[1], info->forms[i]->id);
            todo = 1;
        } else if (f->sheets == c->collected) {
            printf("  reconciled: %d read = %d collected (issued %d, spoiled %d)\n", f->sheets,
                   c->collected, c->issued, c->spoiled);
        } else if (f->sheets < c->collected) {
            printf("  %d collected but %d read: %d ballots are missing; scan or import "
                   "them, and check the feeder and the output tray\n",
                   c->collected, f->sheets, c->collected - f->sheets);
            todo = 1;
        } else {
            printf("  %d read but only %d collected: %d too many; look for ballots fed twice "
                   "('phieu exceptions %s'), decide them 'discard', or correct the count\n",
                   f->sheets, c->collected, f->sheets - c->collected, argv[1]);
            todo = 1;
        }
        if (f->pending > 0) {
            printf("  %d ballots wait for a decision: 'phieu review %s' or 'phieu decide'\n",
                   f->pending, argv[1]);
            todo = 1;
        }
    }
    if (pr.exceptions_open > 0)
        todo = 1;
    phieu_session_close(&s);
    return todo ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
}
