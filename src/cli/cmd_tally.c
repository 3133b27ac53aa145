/*
 * cmd_tally.c - `phieu tally SESSION [--json] [--lang vi|en]`: the live totals under the
 * session's rule set, counted and pending apart. The arithmetic is the tally module's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/tally.h"

static const char usage[] =
    "usage: phieu tally SESSION [--json] [--lang vi|en]\n"
    "\n"
    "Prints per form and per person: valid and not valid ballots, pending ones (open\n"
    "exceptions), each level's count and percentage (of ballots collected under NQ 96, of\n"
    "all delegates under NQ 85, two decimals rounded half up) and the threshold reached.\n"
    "  --json       machine-readable (documented in docs/session.md)\n"
    "  --lang LANG  vi (default) or en for the text table\n";

/* The tally as one line of JSON (`tally --json`) into out; out->failed when out of
 * memory. */
static void tally_json_text(const phieu_tally *t, phieu_buf *out)
{
    json_t *j = phieu_tally_json(t);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text) {
        phieu_buf_puts(out, text);
        phieu_buf_puts(out, "\n");
    } else
        out->failed = 1;
    free(text);
}

int cmd_tally(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return PHIEU_EXIT_OK;
    }
    enum { OPT_LANG = CLI_OWN };
    static const cli_option options[] = {
        CLI_COMMON(CLI_JSON), {"lang", 0, OPT_LANG, "vi or en"}, {0}};
    const char *lang = "vi";
    int json = 0, id;
    cli_args a;
    cli_args_init(&a, "tally", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0) {
        if (id == CLI_JSON)
            json = 1;
        else if (id == OPT_LANG)
            lang = a.value;
    }
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("tally", "unexpected argument '%s'", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("tally", "give the session file");
    const char *path = a.rest[0];
    if (strcmp(lang, "vi") != 0 && strcmp(lang, "en") != 0)
        return cli_usage_error("tally", "--lang is vi or en");
    phieu_error err = {0};
    phieu_session *s = NULL;
    if (phieu_session_open(path, &s, &err) != 0)
        return cli_fail(&err);
    phieu_tally *t = NULL;
    /* The tally points into the session's forms: close the session after printing. */
    if (phieu_tally_from_session(s, &t, &err) != 0) {
        phieu_session_close(&s);
        return cli_fail(&err);
    }
    phieu_buf out;
    phieu_buf_init(&out);
    if (json)
        tally_json_text(t, &out);
    else
        phieu_tally_text(t, lang, &out);
    phieu_tally_destroy(&t);
    phieu_session_close(&s);
    if (out.failed) {
        phieu_buf_release(&out);
        fprintf(stderr, "phieu: out of memory\n");
        return PHIEU_EXIT_ERROR;
    }
    fwrite(out.data, 1, out.len, stdout);
    phieu_buf_release(&out);
    return PHIEU_EXIT_OK;
}
