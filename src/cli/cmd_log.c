/*
 * cmd_log.c - `phieu log SESSION [--verify]`: prints the session's audit log and, with
 * --verify, checks its hash chain, naming the first entry changed or removed.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/audit.h"
#include "phieu/session.h"

static const char usage[] =
    "usage: phieu log SESSION [--verify]\n"
    "\n"
    "Prints every entry of the session's audit log (session created, counts, batches,\n"
    "decisions, reports), oldest first. Each entry holds the SHA-256 of the one before.\n"
    "  --verify  check the chain; exit status 4 and the entry named when one was changed\n"
    "            or removed\n";

int cmd_log(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    enum { OPT_VERIFY = CLI_OWN };
    static const cli_option options[] = {{"verify", 0, OPT_VERIFY, NULL}, {0}};
    int verify = 0, id;
    cli_args a;
    cli_args_init(&a, "log", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0)
        verify |= id == OPT_VERIFY;
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("log", "unexpected argument '%s'", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("log", "give the session file");
    const char *path = a.rest[0];
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(path, &s, &err) != 0)
        return cli_fail(&err);
    phieu_log_entry *list = NULL;
    size_t n = 0;
    if (phieu_session_log_list(s, &list, &n, &err) != 0) {
        phieu_session_close(&s);
        return cli_fail(&err);
    }
    if (!verify)
        for (size_t i = 0; i < n; i++)
            printf("%4lld %s %-12s %-16s %s\n", (long long)list[i].seq, list[i].time,
                   list[i].actor, list[i].action, list[i].detail);
    int rc = PHIEU_EXIT_OK;
    if (verify) {
        if (phieu_session_log_verify(s, &err) != 0)
            rc = cli_fail(&err);
        else
            printf("audit log verified: %zu entries, last %s\n", n,
                   n ? list[n - 1].hash : "(none)");
    }
    phieu_session_log_free(list, n);
    phieu_session_close(&s);
    return rc;
}
