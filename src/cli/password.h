/*
 * password.h - reading a password for `phieu user` and `phieu decide`: from the terminal
 * without echo, or one line from standard input when it is not a terminal (scripts,
 * tests) or when --password-stdin is given. The password is checked by the session.
 */
#ifndef PHIEU_CLI_PASSWORD_H
#define PHIEU_CLI_PASSWORD_H

#include <stddef.h>

/* A board member's password: at least this many characters (NIST SP 800-63B's minimum). */
#define CLI_PASSWORD_MIN 8
#define CLI_PASSWORD_MAX 1024

/* Reads a password into out (NUL-terminated). With `confirm`, a terminal asks twice and
 * the two must match. Returns 0, or -1 after printing why to stderr. */
int cli_read_password(const char *prompt, int confirm, int from_stdin, char *out, size_t size);

#endif
