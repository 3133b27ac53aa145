/*
 * cmd_session.c - `phieu session new|counts|board|times`: create a counting session, enter
 * the board's counts, name the board, enter the times of the count. The session module does the work; this file parses
 * arguments and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/alloc.h"
#include "phieu/session.h"

static const char usage[] =
    "usage: phieu session new SESSION.db --council TEXT --session-name TEXT --date TEXT\n"
    "                         --place TEXT --delegates N --form FORM [--form FORM...]\n"
    "                         [--rules nq96|nq85] [--test] [--threshold NAME=VALUE...]\n"
    "                         [--two-person on|off] [--confirm-overvotes]\n"
    "       phieu session counts SESSION [--form ID] --present N --issued N --collected N\n"
    "                         [--spoiled N]\n"
    "       phieu session board SESSION --head NAME --secretary NAME [--member NAME...]\n"
    "       phieu session times SESSION [--opened HH:MM] [--closed HH:MM]\n"
    "\n"
    "new      creates SESSION.db and its image archive SESSION.db.images/. The session keeps\n"
    "         its own copy of each form, the thresholds and the rule set.\n"
    "         --rules      nq96 (default: percentages of ballots collected) or nq85\n"
    "                      (percentages of all delegates)\n"
    "         --test       a test session: accepts only test ballots\n"
    "         --threshold  marked, marginal, ink (see 'phieu read -h') or duplicate (ink\n"
    "                      similarity from which a page is a possible rescan)\n"
    "         --two-person on by default for official sessions: a decision needs two\n"
    "                      supervisors who agree, or the head of the board\n"
    "         --confirm-overvotes  every overvoted row also goes to a supervisor\n"
    "counts   the counting board's own counts (for one form with --form, else every form):\n"
    "         delegates present, ballots issued, collected and spoiled (exchanged)\n"
    "board    the counting board, printed and signed in the minutes\n"
    "times    when the count began (--opened) and when the minutes were closed (--closed),\n"
    "         printed in the minutes (\"vào hồi 14 giờ 30 phút\"); without them the minutes\n"
    "         keep a blank to fill by hand. \"\" clears a time.\n";

static int parse_int(const char *cmd, const char *opt, const char *v, int *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < 0 || n > 1000000)
        return cli_usage_error(cmd, "%s needs a whole number, not '%s'", opt, v);
    *out = (int)n;
    return 0;
}

/* What `session new` was given: the session's parameters, and the forms and thresholds
 * still to load and check. */
typedef struct new_args {
    const char *path;
    phieu_session_params p;
    const char *form_paths[PHIEU_SESSION_MAX_FORMS];
    int n_forms;
    const char *thresholds[16];
    int n_thresholds;
} new_args;

/* The options of `session new` (see usage). */
enum { OPT_CONFIRM_OVERVOTES = CLI_OWN, OPT_COUNCIL, OPT_SESSION_NAME, OPT_DATE, OPT_PLACE,
       OPT_RULES, OPT_DELEGATES, OPT_TWO_PERSON };
static const cli_option new_options[] = {
    CLI_COMMON(CLI_TEST),
    {"confirm-overvotes", 0, OPT_CONFIRM_OVERVOTES, NULL},
    {"council", 0, OPT_COUNCIL, "the council's name"},
    {"session-name", 0, OPT_SESSION_NAME, "the session's name"},
    {"date", 0, OPT_DATE, "a date"},
    {"place", 0, OPT_PLACE, "a place"},
    {"rules", 0, OPT_RULES, "nq96 or nq85"},
    {"delegates", 0, OPT_DELEGATES, "a number of delegates"},
    CLI_COMMON(CLI_FORM),
    CLI_COMMON(CLI_THRESHOLD),
    {"two-person", 0, OPT_TWO_PERSON, "on or off"},
    {0}};

/* Reads `session new`'s options into `a`; PHIEU_EXIT_OK, or the usage error's exit code
 * (the message printed). */
static int parse_new_args(int argc, char **argv, new_args *a)
{
    phieu_session_params *p = &a->p;
    cli_args args;
    int id;
    cli_args_init(&args, "session", argc - 1, argv + 1, new_options);
    while ((id = cli_args_next(&args)) > 0) {
        const char *v = args.value;
        if (id == CLI_TEST) {
            p->test = 1;
        } else if (id == OPT_CONFIRM_OVERVOTES) {
            p->confirm_overvotes = 1;
        } else if (id == OPT_COUNCIL) {
            p->council = v;
        } else if (id == OPT_SESSION_NAME) {
            p->session_name = v;
        } else if (id == OPT_DATE) {
            p->date = v;
        } else if (id == OPT_PLACE) {
            p->place = v;
        } else if (id == OPT_RULES) {
            p->rules = v;
        } else if (id == OPT_DELEGATES) {
            if (parse_int("session", "--delegates", v, &p->delegates) != 0)
                return PHIEU_EXIT_USAGE;
        } else if (id == CLI_FORM) {
            if (a->n_forms == PHIEU_SESSION_MAX_FORMS)
                return cli_usage_error("session", "at most %d forms", PHIEU_SESSION_MAX_FORMS);
            a->form_paths[a->n_forms++] = v;
        } else if (id == CLI_THRESHOLD) {
            if (a->n_thresholds == 16)
                return cli_usage_error("session", "too many --threshold options");
            a->thresholds[a->n_thresholds++] = v;
        } else if (id == OPT_TWO_PERSON) {
            if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
                return cli_usage_error("session", "--two-person is on or off, not '%s'", v);
            p->two_person_rule = strcmp(v, "on") == 0;
        }
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (args.n_rest > 1)
        return cli_usage_error("session", "unexpected argument '%s'", args.rest[1]);
    if (args.n_rest < 1)
        return cli_usage_error("session", "give the new session's file name");
    a->path = args.rest[0];
    return PHIEU_EXIT_OK;
}

/* Applies the --threshold NAME=VALUE options to `th` (and "duplicate" to the session's
 * parameters); PHIEU_EXIT_OK or the exit code of the error printed. */
static int apply_thresholds(new_args *a, phieu_thresholds *th, phieu_error *err)
{
    for (int i = 0; i < a->n_thresholds; i++) {
        const char *t = a->thresholds[i];
        char name[64];
        const char *eq = strchr(t, '=');
        if (!eq || eq == t || (size_t)(eq - t) >= sizeof name)
            return cli_usage_error("session", "--threshold is NAME=VALUE, not '%s'", t);
        memcpy(name, t, (size_t)(eq - t));
        name[eq - t] = '\0';
        char *end;
        double value = strtod(eq + 1, &end);
        if (*end || end == eq + 1)
            return cli_usage_error("session", "'%s' is not a number", eq + 1);
        if (strcmp(name, "duplicate") == 0) {
            if (!(value > 0 && value <= 1))
                return cli_usage_error("session", "duplicate must be in (0, 1]");
            a->p.duplicate_similarity = value;
        } else if (phieu_thresholds_set(th, name, value, err) != 0) {
            return cli_fail(err);
        }
    }
    return PHIEU_EXIT_OK;
}

/* Loads the forms, creates the session and says what was made. */
static int create_session(new_args *a, phieu_error *err)
{
    phieu_session_params *p = &a->p;
    phieu_form *forms[PHIEU_SESSION_MAX_FORMS] = {0};
    int rc = PHIEU_EXIT_OK;
    for (int i = 0; i < a->n_forms; i++)
        if (phieu_form_load(a->form_paths[i], &forms[i], err) != 0) {
            rc = cli_fail(err);
            goto done;
        }
    p->forms = (const phieu_form *const *)forms;
    p->n_forms = a->n_forms;
    p->actor = getenv("USER");
    phieu_session *s = NULL;
    if (phieu_session_create(a->path, p, &s, err) != 0) {
        rc = cli_fail(err);
        goto done;
    }
    const phieu_session_info *info = phieu_session_get_info(s);
    printf("created %s session '%s' with %d form%s (rules %s, two-person rule %s)\n",
           info->test ? "test" : "official", a->path, info->n_forms, info->n_forms > 1 ? "s" : "",
           info->rules, info->two_person_rule ? "on" : "off");
    printf("images are archived in '%s'\n", info->archive_dir);
    printf("next: 'phieu session board %s ...' and 'phieu session counts %s ...'\n", a->path,
           a->path);
    phieu_session_close(&s);
done:
    for (int i = 0; i < a->n_forms; i++)
        phieu_form_destroy(&forms[i]);
    return rc;
}

static int session_new(int argc, char **argv)
{
    new_args a = {.p = {.two_person_rule = -1, .delegates = -1}};
    int rc = parse_new_args(argc, argv, &a);
    if (rc != PHIEU_EXIT_OK)
        return rc;
    if (a.n_forms == 0)
        return cli_usage_error("session", "give at least one --form FORM");
    if (!a.p.council || !a.p.session_name || !a.p.date || !a.p.place || a.p.delegates < 0)
        return cli_usage_error("session", "--council, --session-name, --date, --place and "
                                          "--delegates are all needed (they go in the minutes)");
    phieu_error err = {0};
    phieu_thresholds th;
    phieu_thresholds_default(&th);
    rc = apply_thresholds(&a, &th, &err);
    if (rc != PHIEU_EXIT_OK)
        return rc;
    a.p.thresholds = &th;
    return create_session(&a, &err);
}

static int session_counts(int argc, char **argv)
{
    const char *path = NULL, *form = NULL;
    phieu_board_counts c = {1, -1, -1, -1, 0};
    enum { OPT_PRESENT = CLI_OWN, OPT_ISSUED, OPT_COLLECTED, OPT_SPOILED };
    static const cli_option options[] = {{"present", 0, OPT_PRESENT, "a number"},
                                         {"issued", 0, OPT_ISSUED, "a number"},
                                         {"collected", 0, OPT_COLLECTED, "a number"},
                                         {"spoiled", 0, OPT_SPOILED, "a number"},
                                         CLI_COMMON(CLI_FORM),
                                         {0}};
    cli_args args;
    int id;
    cli_args_init(&args, "session", argc - 1, argv + 1, options);
    while ((id = cli_args_next(&args)) > 0) {
        int *target = id == OPT_PRESENT     ? &c.present
                      : id == OPT_ISSUED    ? &c.issued
                      : id == OPT_COLLECTED ? &c.collected
                      : id == OPT_SPOILED   ? &c.spoiled
                                            : NULL;
        if (id == CLI_FORM)
            form = args.value;
        else if (target && parse_int("session", args.option, args.value, target) != 0)
            return PHIEU_EXIT_USAGE;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (args.n_rest > 1)
        return cli_usage_error("session", "unexpected argument '%s'", args.rest[1]);
    if (args.n_rest < 1)
        return cli_usage_error("session", "give the session file");
    path = args.rest[0];
    if (c.present < 0 || c.issued < 0 || c.collected < 0)
        return cli_usage_error("session", "--present, --issued and --collected are needed");
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(path, &s, &err) != 0)
        return cli_fail(&err);
    int index = -1;
    if (form && (index = phieu_session_form_index(s, form)) < 0) {
        phieu_session_close(&s);
        return cli_usage_error("session", "the session has no form '%s'", form);
    }
    int rc = phieu_session_set_counts(s, index, &c, getenv("USER"), &err);
    phieu_session_close(&s);
    if (rc != 0)
        return cli_fail(&err);
    printf("counts recorded%s%s: %d present, %d issued, %d collected, %d spoiled\n",
           form ? " for form " : "", form ? form : "", c.present, c.issued, c.collected,
           c.spoiled);
    return PHIEU_EXIT_OK;
}

static int session_board(int argc, char **argv)
{
    const char *path = NULL, *head = NULL, *secretary = NULL;
    const char **members = phieu_calloc((size_t)argc, sizeof *members);
    if (!members)
        return PHIEU_EXIT_ERROR;
    int n = 0, rc = PHIEU_EXIT_OK;
    enum { OPT_HEAD = CLI_OWN, OPT_SECRETARY, OPT_MEMBER };
    static const cli_option options[] = {{"head", 0, OPT_HEAD, "a name"},
                                         {"secretary", 0, OPT_SECRETARY, "a name"},
                                         {"member", 0, OPT_MEMBER, "a name"},
                                         {0}};
    cli_args args;
    int id;
    cli_args_init(&args, "session", argc - 1, argv + 1, options);
    while ((id = cli_args_next(&args)) > 0) {
        if (id == OPT_HEAD)
            head = args.value;
        else if (id == OPT_SECRETARY)
            secretary = args.value;
        else if (id == OPT_MEMBER)
            members[n++] = args.value;
    }
    if (id < 0) {
        rc = PHIEU_EXIT_USAGE;
        goto done;
    }
    if (args.n_rest > 1) {
        rc = cli_usage_error("session", "unexpected argument '%s'", args.rest[1]);
        goto done;
    }
    path = args.n_rest ? args.rest[0] : NULL;
    if (!path || !head || !secretary) {
        rc = cli_usage_error("session", "give the session, --head and --secretary");
        goto done;
    }
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(path, &s, &err) != 0) {
        rc = cli_fail(&err);
        goto done;
    }
    if (phieu_session_set_board(s, head, secretary, members, n, getenv("USER"), &err) != 0)
        rc = cli_fail(&err);
    else
        printf("board recorded: head %s, secretary %s, %d other member%s\n", head, secretary, n,
               n == 1 ? "" : "s");
    phieu_session_close(&s);
done:
    phieu_free(members);
    return rc;
}

static int session_times(int argc, char **argv)
{
    const char *path = NULL, *opened = NULL, *closed = NULL;
    enum { OPT_OPENED = CLI_OWN, OPT_CLOSED };
    static const cli_option options[] = {{"opened", 0, OPT_OPENED, "a time (HH:MM)"},
                                         {"closed", 0, OPT_CLOSED, "a time (HH:MM)"},
                                         {0}};
    cli_args args;
    int id;
    cli_args_init(&args, "session", argc - 1, argv + 1, options);
    while ((id = cli_args_next(&args)) > 0) {
        if (id == OPT_OPENED)
            opened = args.value;
        else if (id == OPT_CLOSED)
            closed = args.value;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (args.n_rest > 1)
        return cli_usage_error("session", "unexpected argument '%s'", args.rest[1]);
    path = args.n_rest ? args.rest[0] : NULL;
    if (!path || (!opened && !closed))
        return cli_usage_error("session", "give the session and --opened HH:MM, --closed HH:MM "
                                          "or both");
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(path, &s, &err) != 0)
        return cli_fail(&err);
    char o[PHIEU_SESSION_TIME_MAX], c[PHIEU_SESSION_TIME_MAX];
    int rc = PHIEU_EXIT_OK;
    if (phieu_session_set_times(s, opened, closed, getenv("USER"), &err) != 0 ||
        phieu_session_times_get(s, o, c, &err) != 0)
        rc = cli_fail(&err);
    else
        printf("times recorded: opened %s, minutes closed %s\n", o[0] ? o : "(blank to fill)",
               c[0] ? c : "(blank to fill)");
    phieu_session_close(&s);
    return rc;
}

int cmd_session(int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? PHIEU_EXIT_USAGE : PHIEU_EXIT_OK;
    }
    if (strcmp(argv[1], "new") == 0)
        return session_new(argc, argv);
    if (strcmp(argv[1], "counts") == 0)
        return session_counts(argc, argv);
    if (strcmp(argv[1], "board") == 0)
        return session_board(argc, argv);
    if (strcmp(argv[1], "times") == 0)
        return session_times(argc, argv);
    return cli_usage_error("session", "'%s' is not new, counts, board or times", argv[1]);
}
