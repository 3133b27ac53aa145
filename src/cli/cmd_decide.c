/*
 * cmd_decide.c - `phieu decide SESSION EXCEPTION CHOICE --user NAME`: one supervisor's
 * decision on one exception, from the command line, with the same password check, audit
 * log and two-person rule as the review screen (phieu_session_decide does the work).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "cli/password.h"
#include "phieu/decisions.h"
#include "phieu/session.h"

static const char usage[] =
    "usage: phieu decide SESSION EXCEPTION CHOICE --user NAME [--note TEXT]\n"
    "                    [--not-duplicate] [--password-stdin]\n"
    "\n"
    "Records NAME's decision on one exception (numbers as listed by 'phieu exceptions').\n"
    "CHOICE is, for a row: a choice of the form (high, trust, low, distrust) or 'invalid'\n"
    "(not valid for this person); for a whole page: 'accept' (count it as read),\n"
    "'invalid' (whole ballot invalid) or 'discard' (not a ballot, or a second scan); for a\n"
    "page rejected because its form code is unreadable or names no form of the session:\n"
    "'form:ID' (count it as form ID of the session: the page is read again as that form,\n"
    "its unclear rows come to the board as usual) or, when the session has several forms,\n"
    "'invalid:ID' (whole ballot invalid, collected under form ID: it counts in that form's\n"
    "invalid ballots).\n"
    "A page given a form is compared with the sheets of that form already read, as a new\n"
    "page is: if it looks like one of them (the same paper fed again, its code unreadable\n"
    "the second time), nothing is recorded and the command exits 4 naming that sheet's\n"
    "batch and position. Find both papers: the same paper, decide 'discard'; two different\n"
    "ballots, decide 'form:ID' again with --not-duplicate.\n"
    "A page the machine could not count (not registered, form code unreadable, wrong form,\n"
    "unreadable file) can be read by the board from the paper: CHOICE is then\n"
    "'read:ROW=CHOICE,ROW=CHOICE,...' with every row of the form, each a choice of the form,\n"
    "'blank' (no box marked) or 'overvote' (two or more marked); write 'read:FORM:1=...'\n"
    "when the page's form is not known and the session has several. Each supervisor reads\n"
    "the paper alone; the same reading twice counts the page as the board read it.\n"
    "With the two-person rule a second supervisor must decide the same; if they differ,\n"
    "the head of the board decides.\n"
    "\n"
    "  --user NAME       the account deciding (see 'phieu user add')\n"
    "  --note TEXT       an optional note kept with the decision\n"
    "  --not-duplicate   with form:ID: you found both papers and they are two different\n"
    "                    ballots; the audit log records that you confirmed it\n"
    "  --password-stdin  read NAME's password as one line of standard input; this is also\n"
    "                    what happens when standard input is not a terminal\n"
    "  -h, --help        this help\n";

static const char *state_words(int state)
{
    switch (state) {
    case PHIEU_EXC_OPEN:
        return "open";
    case PHIEU_EXC_SECOND:
        return "waiting for a second supervisor";
    case PHIEU_EXC_HEAD:
        return "the decisions differ: waiting for the head of the board";
    default:
        return "resolved";
    }
}

/* The options of `decide` (see usage). */
enum { OPT_NOTE = CLI_OWN, OPT_NOT_DUPLICATE };
static const cli_option options[] = {CLI_COMMON(CLI_USER), CLI_COMMON(CLI_PASSWORD_STDIN),
                                     {"note", 0, OPT_NOTE, "a note"},
                                     {"not-duplicate", 0, OPT_NOT_DUPLICATE, NULL}, {0}};

/* What `decide` was given. */
typedef struct decide_args {
    const char *session, *choice, *user, *note;
    long long id; /* the exception */
    int from_stdin;
    int not_duplicate; /* --not-duplicate */
} decide_args;

/* Reads decide's options and SESSION EXCEPTION CHOICE into `da`; PHIEU_EXIT_OK or the
 * usage error's exit code (the message printed). */
static int parse_decide_args(int argc, char **argv, decide_args *da)
{
    int opt;
    cli_args a;
    cli_args_init(&a, "decide", argc, argv, options);
    while ((opt = cli_args_next(&a)) > 0) {
        if (opt == CLI_USER)
            da->user = a.value;
        else if (opt == OPT_NOTE)
            da->note = a.value;
        else if (opt == CLI_PASSWORD_STDIN)
            da->from_stdin = 1;
        else if (opt == OPT_NOT_DUPLICATE)
            da->not_duplicate = 1;
    }
    if (opt < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 3)
        return cli_usage_error("decide", "unexpected argument '%s'", a.rest[3]);
    if (a.n_rest != 3)
        return cli_usage_error("decide", "give SESSION EXCEPTION CHOICE");
    char **pos = a.rest;
    if (!da->user)
        return cli_usage_error("decide", "say who decides with --user NAME");
    char *end;
    da->id = strtoll(pos[1], &end, 10);
    if (*end || da->id <= 0)
        return cli_usage_error("decide", "'%s' is not an exception number", pos[1]);
    da->session = pos[0];
    da->choice = pos[2];
    return PHIEU_EXIT_OK;
}

/* Where the exception stands after the decision. A board reading's resolution is a keyed
 * digest: it says nothing to a person. */
static void print_outcome(long long id, const phieu_exception *after)
{
    int by_board = after->state == PHIEU_EXC_RESOLVED &&
                   strncmp(after->resolution, PHIEU_CHOICE_READ_PREFIX,
                           strlen(PHIEU_CHOICE_READ_PREFIX)) == 0;
    printf("exception %lld: %s%s%s\n", id, state_words(after->state),
           after->state == PHIEU_EXC_RESOLVED ? " as " : "",
           by_board ? "the board's reading"
           : after->state == PHIEU_EXC_RESOLVED ? after->resolution
                                                : "");
}

int cmd_decide(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    decide_args da = {.note = ""};
    int code = parse_decide_args(argc, argv, &da);
    if (code != PHIEU_EXIT_OK)
        return code;
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(da.session, &s, &err) != 0)
        return cli_fail(&err);
    char password[CLI_PASSWORD_MAX + 2];
    char prompt[PHIEU_NAME_MAX + 64];
    snprintf(prompt, sizeof prompt, "Mật khẩu của / Password of '%s': ", da.user);
    if (cli_read_password(prompt, 0, da.from_stdin, password, sizeof password) != 0) {
        phieu_session_close(&s);
        return PHIEU_EXIT_USAGE;
    }
    phieu_user u;
    int rc = phieu_session_user_verify(s, da.user, password, &u, &err);
    sodium_memzero(password, sizeof password);
    if (rc == PHIEU_ENOTFOUND || rc == PHIEU_EINVAL) {
        /* a refused login, not a usage error: exit 1 as for any failure */
        phieu_session_close(&s);
        fprintf(stderr, "phieu: %s\n", err.message);
        return PHIEU_EXIT_ERROR;
    }
    /* A member's second decision on a case is refused by the session ("you decided it
     * already; another member must decide it"), so nobody thinks the case is settled. */
    phieu_exception after;
    int reading =
        strncmp(da.choice, PHIEU_CHOICE_READ_PREFIX, strlen(PHIEU_CHOICE_READ_PREFIX)) == 0;
    phieu_board_entry entry;
    phieu_form_twin twin = {0};
    if (rc == 0 && reading)
        rc = phieu_session_board_entry_parse(s, da.id, da.choice, &entry, &err);
    if (rc == 0 && reading)
        rc = phieu_session_read_by_board(s, da.id, u.name, &entry, da.note, &after, &err);
    else if (rc == 0)
        rc = phieu_session_decide_confirm(s, da.id, u.name, da.choice, da.note,
                                          da.not_duplicate, &twin, &after, &err);
    phieu_session_close(&s);
    /* A page that may be a ballot counted already is refused on purpose, not failed. */
    if (rc == PHIEU_EEXIST && twin.sheet_id[0]) {
        fprintf(stderr, "phieu: %s\n", err.message);
        return PHIEU_EXIT_BLOCKED;
    }
    if (rc != 0)
        return cli_fail(&err);
    if (twin.sheet_id[0])
        printf("exception %lld: you confirmed it is not the sheet of batch %lld, position %d "
               "fed again (similarity %.2f)\n",
               da.id, (long long)twin.batch, twin.position, twin.similarity);
    print_outcome(da.id, &after);
    return PHIEU_EXIT_OK;
}
