/*
 * cmd_status.c - `phieu status SESSION`: pages, sheets, counted, pending exceptions, the
 * reconciliation of sheets read against the ballots the board collected, and what still
 * blocks a final report with what to do about it. Figures come from the session and tally
 * modules; what blocks is the tally's phieu_tally_blockers, the rule `phieu report` applies.
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
    "entered with 'phieu session counts'), then what still blocks a final report ('phieu\n"
    "report' refuses one for the same reasons) and what to do about each.\n"
    "Exit status: 0 ready for the final report, 7 work remains.\n";

/* Form i's ballots read, and whether they reconcile with the board's counts (or how to
 * enter them). */
static void print_form(const char *session, const phieu_session_info *info, int i,
                       const phieu_form_progress *f, const phieu_reconcile_form *rf)
{
    const phieu_board_counts *c = &info->counts[i];
    printf("\nform %s (%s): %d ballots read = %d valid + %d invalid as a whole + %d "
           "pending\n",
           info->forms[i]->id, info->forms[i]->title, f->sheets, f->counted, f->invalid,
           f->pending);
    if (!rf->entered)
        printf("  the board's counts are not entered: run 'phieu session counts %s --form "
               "%s --present N --issued N --collected N'\n",
               session, info->forms[i]->id);
    else
        printf("  %s: %d read %s %d collected (present %d, issued %d, spoiled %d)\n",
               rf->difference == 0 ? "reconciled" : "not reconciled", rf->read,
               rf->difference == 0 ? "=" : "against", rf->collected, c->present, c->issued,
               c->spoiled);
}

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
    const phieu_session_info *info = phieu_session_get_info(s);
    printf("%s session: %s, %s (%s, %s)\n", info->test ? "Test" : "Official", info->council,
           info->session_name, info->date, info->place);
    printf("pages archived: %d (%d ballot sides, %d back sides); set aside as not ballots: "
           "%d\n",
           pr.pages, pr.sheets, pr.backs, pr.discarded);
    printf("exceptions: %d open of %d\n", pr.exceptions_open, pr.exceptions_total);
    if (pr.unknown_form > 0)
        printf("pages whose form is not known yet: %d\n", pr.unknown_form);
    for (int i = 0; i < info->n_forms; i++)
        print_form(argv[1], info, i, &pr.forms[i], &rec.forms[i]);
    phieu_buf list;
    phieu_buf_init(&list);
    int blockers = phieu_tally_blockers_list(t, pr.exceptions_open, &list);
    phieu_tally_destroy(&t);
    if (blockers > 0)
        printf("\nstill to do before the final report ('phieu report' refuses it until "
               "then):\n%s",
               list.data ? list.data : "");
    else
        printf("\nready for the final report: every form reconciles and nothing is pending\n");
    phieu_buf_release(&list);
    int work_remains = blockers > 0;
    phieu_session_close(&s);
    return work_remains ? PHIEU_EXIT_NEEDS_REVIEW : PHIEU_EXIT_OK;
}
