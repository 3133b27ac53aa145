/*
 * cmd_status.c - `phieu status SESSION`: pages, sheets, counted, pending exceptions, and
 * the reconciliation of sheets read against the ballots the board collected (the tally's
 * phieu_tally_reconcile, the same rule as the report's), with what to do when they differ.
 * Figures come from the session and tally modules.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/decisions.h"
#include "phieu/session.h"
#include "phieu/tally.h"

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
    phieu_tally *t = NULL;
    if (phieu_tally_from_session(s, &t, &err) != 0) {
        phieu_session_close(&s);
        return cli_fail(&err);
    }
    phieu_reconciliation rec;
    phieu_tally_reconcile(t, &rec);
    phieu_tally_destroy(&t);
    const phieu_session_info *info = phieu_session_get_info(s);
    int work_remains = 0;
    printf("%s session: %s, %s (%s, %s)\n", info->test ? "Test" : "Official", info->council,
           info->session_name, info->date, info->place);
    printf("pages archived: %d (%d ballot sides, %d back sides); set aside as not ballots: "
           "%d\n",
           pr.pages, pr.sheets, pr.backs, pr.discarded);
    printf("exceptions: %d open of %d\n", pr.exceptions_open, pr.exceptions_total);
    if (pr.unknown_form > 0) {
        printf("pages whose form is not known yet: %d\n", pr.unknown_form);
        work_remains = 1;
    }
    for (int i = 0; i < info->n_forms; i++) {
        const phieu_form_progress *f = &pr.forms[i];
        const phieu_board_counts *c = &info->counts[i];
        printf("\nform %s (%s): %d ballots read = %d valid + %d invalid as a whole + %d "
               "pending\n",
               info->forms[i]->id, info->forms[i]->title, f->sheets, f->counted, f->invalid,
               f->pending);
        const phieu_reconcile_form *rf = &rec.forms[i];
        if (!rf->entered) {
            printf("  the board's counts are not entered: run 'phieu session counts %s --form "
                   "%s --present N --issued N --collected N'\n",
                   argv[1], info->forms[i]->id);
            work_remains = 1;
        } else if (rf->difference == 0) {
            printf("  reconciled: %d read = %d collected (present %d, issued %d, spoiled %d)\n",
                   rf->read, rf->collected, c->present, c->issued, c->spoiled);
        } else if (rf->difference < 0) {
            printf("  %d collected but %d read: %d ballots are missing; scan or import "
                   "them, and check the feeder and the output tray\n",
                   rf->collected, rf->read, -rf->difference);
            work_remains = 1;
        } else {
            printf("  %d read but only %d collected: %d too many; look for ballots fed twice "
                   "('phieu exceptions %s'), decide them 'discard', or correct the count\n",
                   rf->read, rf->collected, rf->difference, argv[1]);
            work_remains = 1;
        }
        if (f->pending > 0) {
            printf("  %d ballots wait for a decision: 'phieu review %s' or 'phieu decide'\n",
                   f->pending, argv[1]);
            work_remains = 1;
        }
    }
    if (rec.unknown_form > 0) {
        printf("\n%d ballot(s) decided invalid as a whole name no form, so they count in no "
               "form's collected ballots: the head of the board decides each again as "
               "'invalid:FORM' (the form it was collected under) with 'phieu decide'\n",
               rec.unknown_form);
        work_remains = 1;
    }
    if (pr.exceptions_open > 0)
        work_remains = 1;
    phieu_session_close(&s);
    return work_remains ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
}
