/*
 * args.c - the one option parser of the commands: getopt_long over a command's table of
 * options, the options several commands take spelled once in a common table, and the
 * usage errors worded alike everywhere. What an option means is up to each command
 * (src/cli/cmd_*.c); the words around the errors are in main.c (cli_usage_error).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* The options more than one command takes: one spelling, one description of the value. */
static const cli_option common[] = {
    {"json", 0, CLI_JSON, NULL},
    {"form", 0, CLI_FORM, "a form file"},
    {"test", 0, CLI_TEST, NULL},
    {"threshold", 0, CLI_THRESHOLD, "NAME=VALUE"},
    {"jobs", 0, CLI_JOBS, "a number of workers"},
    {"user", 0, CLI_USER, "a user name"},
    {"password-stdin", 0, CLI_PASSWORD_STDIN, NULL},
    {"device", 0, CLI_DEVICE, "a scanner name"},
    {"source", 0, CLI_SOURCE, "adf, duplex or flatbed"},
    {"mode", 0, CLI_MODE, "gray, color or lineart"},
    {"resolution", 0, CLI_RESOLUTION, "a resolution in dpi"},
    {"set", 0, CLI_SET, "OPTION=VALUE"},
};

static const cli_option *common_option(int id)
{
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (common[i].id == id)
            return &common[i];
    return NULL;
}

int cli_args_init(cli_args *a, const char *command, int argc, char **argv,
                  const cli_option *options)
{
    memset(a, 0, sizeof *a);
    a->command = command;
    a->argc = argc;
    a->argv = argv;
    /* ':' first: a missing value is told apart from an unknown option. */
    size_t ns = 0;
    a->shorts[ns++] = ':';
    for (const cli_option *o = options; o->id; o++) {
        const cli_option *full = o->name ? o : common_option(o->id);
        if (!full || a->n == CLI_MAX_OPTIONS || ns + 3 > sizeof a->shorts)
            return cli_usage_error(command, "internal error: bad option table");
        a->opts[a->n] = full;
        a->table[a->n] = (struct option){full->name, full->value ? required_argument : no_argument,
                                         NULL, full->id};
        a->n++;
        if (full->short_name) {
            a->shorts[ns++] = full->short_name;
            if (full->value)
                a->shorts[ns++] = ':';
        }
    }
    a->shorts[ns] = '\0';
    return 0;
}

static const cli_option *find(const cli_args *a, int id)
{
    for (int i = 0; i < a->n; i++)
        if (a->opts[i]->id == id || (a->opts[i]->short_name && a->opts[i]->short_name == id))
            return a->opts[i];
    return NULL;
}

int cli_args_next(cli_args *a)
{
    if (!a->started) {
        optind = 0; /* glibc: start over, whatever an earlier parse left */
        opterr = 0; /* the messages are ours */
        a->started = 1;
    }
    a->value = NULL;
    int c = getopt_long(a->argc, a->argv, a->shorts, a->table, NULL);
    if (c == -1) {
        a->rest = a->argv + optind;
        a->n_rest = a->argc - optind;
        return 0;
    }
    const char *arg = a->argv[optind - 1];
    if (c == ':') {
        const cli_option *o = find(a, optopt);
        if (o)
            return cli_usage_error(a->command, "--%s needs %s", o->name, o->value), -1;
        return cli_usage_error(a->command, "'%s' needs a value", arg), -1;
    }
    if (c == '?') {
        const cli_option *o = optopt ? find(a, optopt) : NULL;
        if (o && !o->value)
            return cli_usage_error(a->command, "--%s takes no value", o->name), -1;
        if (optopt && optopt < 128 && !o)
            return cli_usage_error(a->command, "unknown option '-%c'", optopt), -1;
        return cli_usage_error(a->command, "unknown option '%s'", arg), -1;
    }
    const cli_option *o = find(a, c);
    a->value = optarg;
    snprintf(a->option, sizeof a->option, "--%s", o ? o->name : "");
    return o ? o->id : c;
}

int cli_sane_source(const char *command, const char *word, phieu_sane_source *out)
{
    if (!strcmp(word, "adf"))
        *out = PHIEU_SANE_SOURCE_ADF;
    else if (!strcmp(word, "duplex"))
        *out = PHIEU_SANE_SOURCE_DUPLEX;
    else if (!strcmp(word, "flatbed"))
        *out = PHIEU_SANE_SOURCE_FLATBED;
    else
        return cli_usage_error(command, "--source takes adf, duplex or flatbed");
    return 0;
}

int cli_sane_mode(const char *command, const char *word, phieu_sane_mode *out)
{
    if (!strcmp(word, "gray"))
        *out = PHIEU_SANE_MODE_GRAY;
    else if (!strcmp(word, "color"))
        *out = PHIEU_SANE_MODE_COLOR;
    else if (!strcmp(word, "lineart"))
        *out = PHIEU_SANE_MODE_LINEART;
    else
        return cli_usage_error(command, "--mode takes gray, color or lineart");
    return 0;
}
