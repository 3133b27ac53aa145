/*
 * cmd_key.c - `phieu key new KEYFILE`: the counting board's Ed25519 key pair for signing
 * reports. Arguments and output only; the key files are src/report/key.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/report.h"

static const char key_usage[] =
    "usage: phieu key new KEYFILE\n"
    "\n"
    "Creates the counting board's signing key pair (Ed25519): the secret key in KEYFILE\n"
    "(readable only by you, mode 0600) and the public key in KEYFILE.pub. Sign a report with\n"
    "'phieu report SESSION --out DIR --key KEYFILE'; anyone checks it with\n"
    "'phieu verify DIR --pubkey KEYFILE.pub'. The public key is printed in the minutes.\n"
    "Keep the secret key off the network and make a backup copy; an existing file is never\n"
    "overwritten.\n";

int cmd_key(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(key_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "new") != 0)
        return cli_usage_error("key", "expected 'new KEYFILE'");
    phieu_error err = {0};
    phieu_key key;
    if (phieu_key_generate(argv[2], &key, &err) != 0)
        return cli_fail(&err);
    char hex[PHIEU_KEY_PUBLIC_HEX];
    phieu_key_public_hex(&key, hex);
    phieu_key_wipe(&key);
    printf("secret key: %s (keep it private)\npublic key: %s.pub\n  %s\n", argv[2], argv[2],
           hex);
    return PHIEU_EXIT_OK;
}
