/*
 * password.c - reads a password from the terminal with echo turned off (restored on every
 * path), or a line from standard input for scripts. Used by `phieu user` and `phieu decide`.
 */
#include "cli/password.h"

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

static int read_line(FILE *in, char *out, size_t size)
{
    if (!fgets(out, (int)size, in))
        return -1;
    size_t n = strlen(out);
    if (n == size - 1 && out[n - 1] != '\n') {
        int c;
        while ((c = fgetc(in)) != EOF && c != '\n')
            ;
        return -2;
    }
    while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return 0;
}

static int read_hidden(const char *prompt, char *out, size_t size)
{
    struct termios old, quiet;
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    int rc = read_line(stdin, out, size);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
    return rc;
}

int cli_read_password(const char *prompt, int confirm, int from_stdin, char *out, size_t size)
{
    int tty = isatty(STDIN_FILENO);
    int rc;
    if (from_stdin || !tty)
        rc = read_line(stdin, out, size);
    else
        rc = read_hidden(prompt, out, size);
    if (rc == -2) {
        fprintf(stderr, "phieu: the password is too long (at most %zu characters)\n", size - 2);
        return -1;
    }
    if (rc != 0) {
        fprintf(stderr, "phieu: no password given%s\n", tty ? "" : " on standard input (one line)");
        return -1;
    }
    if (confirm && tty && !from_stdin) {
        char again[CLI_PASSWORD_MAX + 2];
        rc = read_hidden("Nhập lại / Repeat: ", again, sizeof again);
        int same = rc == 0 && strcmp(again, out) == 0;
        sodium_memzero(again, sizeof again);
        if (!same) {
            fprintf(stderr, "phieu: the two passwords differ; nothing was changed\n");
            return -1;
        }
    }
    return 0;
}
