/*
 * cmd_review.c - `phieu review SESSION`: runs the supervisors' web screen (src/review/)
 * until Ctrl-C, printing where to open it and one line per login and decision. The
 * server, its security and its screens are in src/review/; this file only parses options.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "phieu/review.h"

static const char usage[] =
    "usage: phieu review SESSION [--listen HOST:PORT] [--allow-remote]\n"
    "\n"
    "Runs the review screen for the counting board: the queue of pages and rows the\n"
    "machine could not decide, the decisions, and the live totals. Open the address it\n"
    "prints in a browser; log in with an account made by 'phieu user add'.\n"
    "\n"
    "  --listen HOST:PORT  where to listen (default 127.0.0.1:8080; port 0: any free port)\n"
    "  --allow-remote      allow an address other than this computer (127.0.0.1, ::1):\n"
    "                      other computers on the network can then reach the screen\n"
    "  -h, --help          this help\n"
    "\n"
    "Stop it with Ctrl-C. See docs/review.md.\n";

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    fprintf(stderr, "%s %s\n", when, line);
}

/* The options of `review` (see usage). */
enum { OPT_LISTEN = CLI_OWN, OPT_ALLOW_REMOTE };
static const cli_option options[] = {{"listen", 0, OPT_LISTEN, "HOST:PORT"},
                                     {"allow-remote", 0, OPT_ALLOW_REMOTE, NULL},
                                     {0}};

/* Says, when listening beyond this computer, who can reach the screen and how. */
static void warn_remote(const char *host)
{
    fprintf(stderr,
            "phieu review: WARNING: listening on %s: any computer that can reach this one "
            "can open the login page, and the connection is not encrypted. Use it only "
            "on the counting room's own network; every supervisor needs a strong "
            "password.\n",
            host);
}

/* The address to open in a browser (an IPv6 host in brackets; "every address" as the
 * words to replace), and how to stop. */
static void print_address(const char *host, int port)
{
    const char *shown =
        strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ? "THIS-COMPUTER'S-ADDRESS" : host;
    int v6 = strchr(shown, ':') != NULL;
    printf("Mở màn hình duyệt phiếu trong trình duyệt / Open the review screen in a browser:\n"
           "  http://%s%s%s:%d/\n"
           "Dừng: Ctrl-C / Stop: Ctrl-C\n",
           v6 ? "[" : "", shown, v6 ? "]" : "", port);
    fflush(stdout);
}

int cmd_review(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    phieu_review_options o;
    phieu_review_options_default(&o);
    char host[128];
    snprintf(host, sizeof host, "%s", PHIEU_REVIEW_DEFAULT_HOST);
    phieu_error err = {0};
    int id;
    cli_args a;
    cli_args_init(&a, "review", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        if (id == OPT_LISTEN &&
            phieu_review_parse_listen(a.value, host, sizeof host, &o.port, &err) != 0)
            return cli_usage_error("review", "%s", err.message);
        if (id == OPT_ALLOW_REMOTE)
            o.allow_remote = 1;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("review", "one session at a time ('%s')", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("review", "name the session file");
    const char *session = a.rest[0];
    o.session_path = session;
    o.host = host;
    o.log = log_line;
    int loopback = phieu_review_host_is_loopback(host);
    if (!loopback && !o.allow_remote)
        return cli_usage_error("review",
                               "'%s' is not this computer's own address; add --allow-remote "
                               "if other computers must reach the review screen",
                               host);

    /* Block the stop signals before the server's threads start, then wait for one. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    phieu_review_server *srv = NULL;
    if (phieu_review_start(&o, &srv, &err) != 0)
        return cli_fail(&err);
    if (!loopback)
        warn_remote(host);
    print_address(host, phieu_review_port(srv));
    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "phieu review: stopping\n");
    phieu_review_stop(&srv);
    return PHIEU_EXIT_OK;
}
