/*
 * cmd_report.c - `phieu report SESSION --out DIR [--key KEYFILE] [--draft] [--wording FILE]`:
 * the certified
 * totals (minutes, exports, manifest, signature). Refuses while something blocks a final
 * report, and lists what. Arguments and output only; the work is src/report/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/audit.h"
#include "phieu/report.h"
#include "phieu/session.h"

static const char report_usage[] =
    "usage: phieu report SESSION --out DIR [--key KEYFILE] [--draft] [--wording FILE]\n"
    "\n"
    "Writes the certified results of SESSION into DIR (a new or empty folder):\n"
    "  minutes.pdf     the biên bản kiểm phiếu, A4, to print and sign\n"
    "  results.json    the same figures for machines (docs/results-schema.md)\n"
    "  results.csv     one line per person\n"
    "  ballots.jsonl   one record per ballot, in random order, with no times\n"
    "  images/ forms/  the archived images and the form definitions\n"
    "  manifest.json   SHA-256 of every file; manifest.sig its Ed25519 signature\n"
    "\n"
    "  --out DIR       the folder to write\n"
    "  --key KEYFILE   the board's secret key (from 'phieu key new') to sign with;\n"
    "                  required for a final report\n"
    "  --draft         write even while exceptions are open or the counts do not\n"
    "                  reconcile; every page then says 'BẢN NHÁP / DRAFT'\n"
    "  --wording FILE  word the minutes with FILE, a province's own copy of\n"
    "                  forms/minutes/vi.minutes (the wording built in)\n"
    "\n"
    "Without --draft the report is refused (exit 4) while exceptions are open, ballots or\n"
    "rows are pending, the board's counts are missing, or the sheets read differ from the\n"
    "ballots collected; the message lists each. Check the result with 'phieu verify DIR'.\n";

/* What blocks a final report, one line each, as `phieu status` lists them. */
static void print_blockers(const phieu_report_data *d)
{
    phieu_error err = {0};
    phieu_tally *t = NULL;
    if (phieu_report_tally(d, &t, &err) != 0) {
        cli_fail(&err);
        return;
    }
    phieu_buf list;
    phieu_buf_init(&list);
    phieu_tally_blockers_list(t, d->exceptions_open, &list);
    phieu_tally_destroy(&t);
    if (list.data)
        fputs(list.data, stderr);
    phieu_buf_release(&list);
}

/* What `phieu report` was asked for. */
typedef struct report_args {
    const char *session, *out, *keyfile, *wording_file;
    int draft;
} report_args;

/* Reads report's options into `ra`; PHIEU_EXIT_OK or the usage error's exit code (the
 * message printed). */
static int parse_report_args(int argc, char **argv, report_args *ra)
{
    enum { OPT_OUT = CLI_OWN, OPT_KEY, OPT_DRAFT, OPT_WORDING };
    static const cli_option options[] = {{"out", 'o', OPT_OUT, "a folder"},
                                         {"key", 0, OPT_KEY, "a key file"},
                                         {"draft", 0, OPT_DRAFT, NULL},
                                         {"wording", 0, OPT_WORDING, "a wording file"},
                                         {0}};
    int id;
    cli_args a;
    cli_args_init(&a, "report", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        if (id == OPT_OUT)
            ra->out = a.value;
        else if (id == OPT_KEY)
            ra->keyfile = a.value;
        else if (id == OPT_WORDING)
            ra->wording_file = a.value;
        else if (id == OPT_DRAFT)
            ra->draft = 1;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("report", "one session only ('%s' is extra)", a.rest[1]);
    ra->session = a.n_rest ? a.rest[0] : NULL;
    if (!ra->session || !ra->out)
        return cli_usage_error("report", "expected SESSION and --out DIR");
    if (!ra->draft && !ra->keyfile) {
        fprintf(stderr, "phieu report: a final report must be signed with the board's key: "
                        "give --key KEYFILE (make the key once with 'phieu key new board.key'), "
                        "or write a draft with --draft\n");
        return PHIEU_EXIT_USAGE;
    }
    return PHIEU_EXIT_OK;
}

/* Loads the board's secret key from `keyfile` into `key`; PHIEU_EXIT_OK, or the exit code
 * of the error printed (a public key is refused). */
static int load_signing_key(const char *keyfile, phieu_key *key)
{
    phieu_error err = {0};
    if (phieu_key_load(keyfile, key, &err) != 0)
        return cli_fail(&err);
    if (!key->has_secret) {
        phieu_key_wipe(key);
        fprintf(stderr, "phieu: '%s' is a public key; sign with the secret key file "
                        "(without .pub)\n",
                keyfile);
        return PHIEU_EXIT_USAGE;
    }
    return PHIEU_EXIT_OK;
}

/* What was written, and how to check it. */
static void print_summary(const report_args *ra, const phieu_report_summary *sum)
{
    printf("%s report written to %s\n", ra->draft ? "Draft" : "Final", ra->out);
    printf("  minutes.pdf   %d page(s)\n  ballots       %zu\n  fingerprint   %s\n",
           sum->pages, sum->ballots, sum->fingerprint);
    if (sum->signed_)
        printf("  signed        manifest.sig\n");
    else
        printf("  not signed    (a draft; give --key KEYFILE to sign)\n");
    if (ra->draft && sum->blockers > 0)
        printf("  draft: %d thing(s) still block a final report\n", sum->blockers);
    printf("Check it with: phieu verify %s%s\n", ra->out,
           ra->keyfile ? " --pubkey KEYFILE.pub" : "");
}

int cmd_report(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(report_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    report_args ra = {0};
    int code = parse_report_args(argc, argv, &ra);
    if (code != PHIEU_EXIT_OK)
        return code;
    phieu_error err = {0};
    phieu_wording *wording = NULL;
    if (ra.wording_file && phieu_wording_load(ra.wording_file, &wording, &err) != 0)
        return cli_fail(&err);
    phieu_key key;
    memset(&key, 0, sizeof key);
    if (ra.keyfile && (code = load_signing_key(ra.keyfile, &key)) != PHIEU_EXIT_OK) {
        phieu_wording_destroy(&wording);
        return code;
    }
    phieu_session *s = NULL;
    phieu_report_data *d = NULL;
    if (phieu_session_open(ra.session, &s, &err) != 0 ||
        phieu_report_data_from_session(s, &d, &err) != 0) {
        code = cli_fail(&err);
        goto done;
    }
    d->wording = wording;
    phieu_report_options opt = {.key = ra.keyfile ? &key : NULL, .draft = ra.draft};
    phieu_report_summary sum;
    if (phieu_report_write(d, ra.out, &opt, &sum, &err) != 0) {
        code = cli_fail(&err);
        if (err.code == PHIEU_ESTATE && sum.blockers > 0)
            print_blockers(d);
        goto done;
    }
    char detail[256];
    snprintf(detail, sizeof detail, "%s report, manifest %s, %zu ballots",
             ra.draft ? "draft" : "final", sum.fingerprint, sum.ballots);
    if (phieu_session_log_append(s, NULL, "report-issued", detail, &err) != 0)
        fprintf(stderr, "phieu: warning: the report was written but not logged: %s\n",
                err.message);
    print_summary(&ra, &sum);
done:
    phieu_key_wipe(&key);
    phieu_report_data_destroy(&d);
    phieu_wording_destroy(&wording);
    phieu_session_close(&s);
    return code;
}
