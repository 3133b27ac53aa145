/*
 * cli.h - what every `phieu` command file shares: the command table entry, exit codes,
 * and how errors reach the terminal. Commands hold no logic of their own beyond parsing
 * arguments, calling libphieu and printing.
 */
#ifndef PHIEU_CLI_H
#define PHIEU_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "phieu/error.h"
#include "phieu/source.h"

/* Exit codes, documented in docs/phieu.1 (EXIT STATUS). */
enum {
    PHIEU_EXIT_OK = 0,
    PHIEU_EXIT_ERROR = 1,       /* the command failed; the message says why */
    PHIEU_EXIT_USAGE = 2,       /* wrong arguments; see `phieu COMMAND -h` */
    PHIEU_EXIT_INPUT = 3,       /* an input file is invalid (form, image, session) */
    PHIEU_EXIT_BLOCKED = 4,     /* refused on purpose: open exceptions, failed verification */
    PHIEU_EXIT_SCANNER = 5,     /* the scanner stopped (jam, cover open, ...); run scan again */
    PHIEU_EXIT_INTERRUPTED = 6, /* stopped by the operator (Ctrl-C); run the command again */
    PHIEU_EXIT_NEEDS_REVIEW = 7, /* finished, but pages or rows await a supervisor */
    PHIEU_EXIT_UNVERIFIED = 8   /* verify: everything holds, but the signer is not known
                                   (no --pubkey): not an OK */
};

typedef struct phieu_command {
    const char *name;    /* the word after `phieu` */
    const char *summary; /* one line for `phieu help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} phieu_command;

/* Prints "phieu: <message>" to stderr and returns the exit code for err->code. */
int cli_fail(const phieu_error *err);
/* Prints "phieu <command>: <message>\nTry 'phieu <command> -h'." and returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The exit code that matches a PHIEU_E... code. */
int cli_exit_code(int phieu_code);
/* True when argv holds -h or --help. */
int cli_wants_help(int argc, char **argv);

/* ---- options (args.c) ----------------------------------------------------------------
 * Every command parses its options with getopt_long through cli_args, from a table of
 * cli_option ending in {0}. An entry with only an id (CLI_COMMON(CLI_JSON)) is one of the
 * options several commands share, spelled once in args.c. Options may come before or after
 * the operands; `--` ends them. -h and --help are looked for before (cli_wants_help). */

/* The shared options' ids; a command's own start at CLI_OWN. */
enum {
    CLI_JSON = 256,
    CLI_FORM,
    CLI_TEST,
    CLI_THRESHOLD,
    CLI_JOBS,
    CLI_USER,
    CLI_PASSWORD_STDIN,
    CLI_DEVICE,
    CLI_SOURCE,
    CLI_MODE,
    CLI_RESOLUTION,
    CLI_SET,
    CLI_OWN = 512
};

typedef struct cli_option {
    const char *name;  /* the long name, without "--"; NULL: a shared option, by id */
    char short_name;   /* a one-letter alias (-o), or 0 */
    int id;            /* what cli_args_next returns for it; 0 ends a table */
    const char *value; /* what its value is ("a folder"), for "--out needs a folder";
                          NULL: the option takes no value */
} cli_option;

#define CLI_COMMON(id) {NULL, 0, (id), NULL}
#define CLI_MAX_OPTIONS 40

typedef struct cli_args {
    const char *command; /* for messages: "phieu <command>: ..." */
    int argc;
    char **argv;         /* argv[0] is the command's own word; reordered as parsed */
    const char *value;   /* the value of the option just returned, or NULL */
    char option[40];     /* ... and its long name, "--present", for messages */
    char **rest;         /* after the last option: the operands, in their order */
    int n_rest;
    /* private */
    int started, n;
    const cli_option *opts[CLI_MAX_OPTIONS];
    struct option table[CLI_MAX_OPTIONS + 1];
    char shorts[24];
} cli_args;

/* Sets up a parse of argv against options; 0, or EXIT_USAGE for a bad table. */
int cli_args_init(cli_args *a, const char *command, int argc, char **argv,
                  const cli_option *options);
/* The next option's id (its value in a->value); 0 when none is left (the operands are
 * then a->rest); -1 after printing the usage error (an unknown option, a missing value,
 * a value given to a flag): the command returns PHIEU_EXIT_USAGE. */
int cli_args_next(cli_args *a);

/* The words of the shared --source and --mode options (adf, duplex, flatbed; gray, color,
 * lineart) as the scanner's values: 0, or the exit code of the usage error printed for
 * `command`. */
int cli_sane_source(const char *command, const char *word, phieu_sane_source *out);
int cli_sane_mode(const char *command, const char *word, phieu_sane_mode *out);

/* The commands, one file each (src/cli/cmd_<name>.c). */
#define PHIEU_COMMANDS(X)                                                                    \
    X(form, "check, lay out and print ballot forms")                                         \
    X(session, "create a counting session; enter the board and its counts")                  \
    X(import, "read ballot image files into a session")                                      \
    X(status, "progress of a session: pages, pending, reconciliation per form")              \
    X(tally, "live totals of a session by the law's rules")                                  \
    X(exceptions, "list a session's exception queue")                                        \
    X(log, "print and verify a session's audit log")                                         \
    X(devices, "list scanners and their options")                                            \
    X(scan, "scan batches of ballots from a scanner into a session")                         \
    X(read, "read ballot images without a session (debugging, audit)")                       \
    X(review, "web screen for supervisors: unclear ballots, decisions, live totals")         \
    X(user, "add or list the supervisors' accounts of a session")                            \
    X(key, "create the counting board's signing key pair")                                  \
    X(report, "write the certified minutes, exports, manifest and signature")                \
    X(verify, "check a report: signature, hashes, re-read every image, re-tally")            \
    X(decide, "record a supervisor's decision on an exception from the command line")

#define PHIEU_DECLARE_COMMAND(name, summary) int cmd_##name(int argc, char **argv);
PHIEU_COMMANDS(PHIEU_DECLARE_COMMAND)
#undef PHIEU_DECLARE_COMMAND

#endif
