/*
 * main.c - `phieu <command>`: finds the command in the table and runs it.
 * The commands themselves live one per file (cmd_<name>.c); their table is the
 * PHIEU_COMMANDS list in cli.h.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/util.h"

/* Blocks this large or larger are mapped on their own (see main): a page image, never
 * the small objects of a reading. */
#define LARGE_BLOCK_BYTES (256 * 1024)

#define PHIEU_TABLE_ENTRY(name, summary) {#name, summary, cmd_##name},
static const phieu_command commands[] = {PHIEU_COMMANDS(PHIEU_TABLE_ENTRY)};
#undef PHIEU_TABLE_ENTRY

static void print_help(FILE *out)
{
    fprintf(out, "usage: phieu <command> [options]\n\n"
                 "phieu counts Vietnamese confidence ballots by optical mark recognition.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'phieu <command> -h' for a command's options; 'man phieu' for the guide.\n");
}

int cli_exit_code(int phieu_code)
{
    switch (phieu_code) {
    case PHIEU_OK: return PHIEU_EXIT_OK;
    case PHIEU_EINVAL: return PHIEU_EXIT_USAGE;
    case PHIEU_EFORMAT:
    case PHIEU_ELIMIT: return PHIEU_EXIT_INPUT;
    case PHIEU_ESTATE:
    case PHIEU_EINTEGRITY: return PHIEU_EXIT_BLOCKED;
    case PHIEU_EDEVICE: return PHIEU_EXIT_SCANNER;
    case PHIEU_ECANCELLED: return PHIEU_EXIT_INTERRUPTED;
    default: return PHIEU_EXIT_ERROR;
    }
}

int cli_fail(const phieu_error *err)
{
    fprintf(stderr, "phieu: %s\n", err->message[0] ? err->message : "unknown error");
    return cli_exit_code(err->code);
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "phieu %s: ", command);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'phieu %s -h'.\n", command);
    return PHIEU_EXIT_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "--help") == 0) {
        print_help(stdout);
        return argc < 2 ? PHIEU_EXIT_USAGE : PHIEU_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("phieu %s\n", PHIEU_VERSION);
        return PHIEU_EXIT_OK;
    }
    /* Page images are megabytes each. glibc raises its mmap threshold to the size of the
     * largest block freed so far, after which smaller pages come from the heap and leave
     * it fragmented: `phieu read` over 1200 pages of mixed resolution peaked at 68 MB,
     * 11 MB above its largest page. A fixed threshold maps every page buffer on its own
     * and gives it back when freed (57 MB, the largest page). */
    mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES);
    phieu_error err = {0};
    if (phieu_util_init(&err) != 0)
        return cli_fail(&err);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "phieu: '%s' is not a phieu command; run 'phieu help' for the list\n",
            argv[1]);
    return PHIEU_EXIT_USAGE;
}
