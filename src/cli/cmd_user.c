/*
 * cmd_user.c - `phieu user add|list|unlock SESSION`: the accounts of the board's supervisors and
 * head, kept in the session (argon2id hashes, see phieu_session_user_add). The password is
 * read from the terminal without echo, or from standard input for scripts.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/password.h"
#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/session.h"

static const char usage[] =
    "usage: phieu user add SESSION NAME --role head|supervisor [--password-stdin]\n"
    "       phieu user list SESSION\n"
    "       phieu user unlock SESSION NAME\n"
    "\n"
    "Accounts for the review screen ('phieu review') and 'phieu decide'. Each member of\n"
    "the counting board who decides unclear ballots gets one; the head of the board\n"
    "(Trưởng ban) gets the role 'head' and settles disagreements.\n"
    "\n"
    "  --role R          head or supervisor (required for add)\n"
    "  --password-stdin  read the password as one line of standard input (for scripts);\n"
    "                    this is also what happens when standard input is not a terminal.\n"
    "                    Otherwise the password is asked twice, without echo.\n"
    "  -h, --help        this help\n"
    "\n"
    "Names use letters (Vietnamese included), digits, '.', '-' and '_', and are compared\n"
    "without regard to case: 'Lan' and 'lan' are one name.\n"
    "Passwords have at least 8 characters and are stored only as argon2id hashes.\n"
    "\n"
    "'unlock' lifts the lock the review screen puts on a name after 5 wrong passwords,\n"
    "at once, without restarting 'phieu review'; it is written to the audit log.\n";

static int user_add(int argc, char **argv)
{
    enum { OPT_ROLE = CLI_OWN };
    static const cli_option options[] = {
        {"role", 0, OPT_ROLE, "head or supervisor"}, CLI_COMMON(CLI_PASSWORD_STDIN), {0}};
    const char *role = NULL;
    int from_stdin = 0, id;
    cli_args a;
    cli_args_init(&a, "user", argc - 1, argv + 1, options);
    while ((id = cli_args_next(&a)) > 0) {
        if (id == OPT_ROLE)
            role = a.value;
        else if (id == CLI_PASSWORD_STDIN)
            from_stdin = 1;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 2)
        return cli_usage_error("user", "unexpected argument '%s'", a.rest[2]);
    if (a.n_rest < 2)
        return cli_usage_error("user", "give the session file and the user's name");
    const char *session = a.rest[0], *name = a.rest[1];
    if (!role)
        return cli_usage_error("user", "give --role head or --role supervisor");
    int r;
    if (strcmp(role, "head") == 0)
        r = PHIEU_ROLE_HEAD;
    else if (strcmp(role, "supervisor") == 0)
        r = PHIEU_ROLE_SUPERVISOR;
    else
        return cli_usage_error("user", "unknown role '%s'; use head or supervisor", role);

    phieu_error err = {0};
    if (phieu_user_name_check(name, &err) != 0)
        return cli_fail(&err);
    phieu_session *s = NULL;
    if (phieu_session_open(session, &s, &err) != 0)
        return cli_fail(&err);
    char password[CLI_PASSWORD_MAX + 2];
    char prompt[PHIEU_NAME_MAX + 64];
    snprintf(prompt, sizeof prompt, "Mật khẩu cho / Password for '%s': ", name);
    if (cli_read_password(prompt, 1, from_stdin, password, sizeof password) != 0) {
        phieu_session_close(&s);
        return PHIEU_EXIT_USAGE;
    }
    if (strlen(password) < CLI_PASSWORD_MIN) {
        sodium_memzero(password, sizeof password);
        phieu_session_close(&s);
        fprintf(stderr, "phieu: the password is too short: use at least %d characters\n",
                CLI_PASSWORD_MIN);
        return PHIEU_EXIT_USAGE;
    }
    int rc = phieu_session_user_add(s, name, r, password, "operator", &err);
    sodium_memzero(password, sizeof password);
    phieu_session_close(&s);
    if (rc != 0)
        return cli_fail(&err);
    printf("user '%s' added (%s)\n", name, role);
    return PHIEU_EXIT_OK;
}

static int user_list(int argc, char **argv)
{
    if (argc != 3)
        return cli_usage_error("user", "usage: phieu user list SESSION");
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(argv[2], &s, &err) != 0)
        return cli_fail(&err);
    phieu_user *users = NULL;
    size_t n = 0;
    int rc = phieu_session_users_list(s, &users, &n, &err);
    phieu_session_close(&s);
    if (rc != 0)
        return cli_fail(&err);
    for (size_t i = 0; i < n; i++)
        printf("%-12s %s\n", users[i].role == PHIEU_ROLE_HEAD ? "head" : "supervisor",
               users[i].name);
    phieu_free(users);
    return PHIEU_EXIT_OK;
}

static int user_unlock(int argc, char **argv)
{
    if (argc != 4)
        return cli_usage_error("user", "usage: phieu user unlock SESSION NAME");
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(argv[2], &s, &err) != 0)
        return cli_fail(&err);
    int rc = phieu_session_user_unlock(s, argv[3], "operator", &err);
    phieu_session_close(&s);
    if (rc != 0)
        return cli_fail(&err);
    printf("user '%s' unlocked: the review screen takes their password again\n", argv[3]);
    return PHIEU_EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return user_add(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return user_list(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "unlock") == 0)
        return user_unlock(argc, argv);
    return cli_usage_error("user", "say 'add', 'list' or 'unlock'");
}
