/*
 * cmd_verify.c - `phieu verify DIR [--pubkey KEY]`: independent check of an export folder
 * (signatures, hashes, re-reading every image, re-tallying). Prints OK or every
 * discrepancy and exits 4. Arguments and output only; the check is src/report/verify.c.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "phieu/report.h"

static const char verify_usage[] =
    "usage: phieu verify DIR [--pubkey KEY.pub]\n"
    "\n"
    "Checks a folder written by 'phieu report' with nothing but the folder:\n"
    "  - the Ed25519 signatures in manifest.sig over manifest.json and minutes.pdf, with\n"
    "    KEY.pub when given (compare it with the key printed in the minutes otherwise);\n"
    "  - the SHA-256 of every file and every ballot record against the manifest;\n"
    "  - every image re-read with the recorded forms and thresholds, the board's decisions\n"
    "    applied, every total recomputed and compared with results.json.\n"
    "  - results.csv recomputed, figure by figure.\n"
    "Prints OK, or one line per discrepancy (file, ballot, figure) and exits 4. Without\n"
    "--pubkey nobody vouches for the signer: it prints NOT VERIFIED with the key found and\n"
    "exits 8; compare that key with the one printed in the minutes' appendix.\n";

/* What verify found: OK, consistent but NOT VERIFIED without the board's key, or each
 * discrepancy; returns the exit code. */
static int print_result(const phieu_verify_result *res, const char *dir, int trusted)
{
    int code = PHIEU_EXIT_OK;
    if (res->ok && !trusted) {
        /* The folder agrees with itself, but anyone can sign a folder: without the board's
         * key this is no verification. */
        printf("NOT VERIFIED: signer unknown — compare the key %s with the one printed in the "
               "minutes (PHỤ LỤC: THÔNG TIN KIỂM TRA), then run again with --pubkey "
               "KEY.pub\n",
               res->signer);
        printf("  the folder itself is consistent: %zu ballot(s), %zu image(s) re-read, every "
               "total matches%s\n",
               res->ballots, res->images_reread, res->draft ? " (a DRAFT report)" : "");
        printf("  fingerprint %s\n", res->fingerprint);
        code = PHIEU_EXIT_UNVERIFIED;
    } else if (res->ok) {
        printf("OK: %zu ballot(s), %zu image(s) re-read, every total matches%s\n", res->ballots,
               res->images_reread, res->draft ? " (a DRAFT report)" : "");
        printf("  fingerprint %s\n  signed by   %s (the key given)\n", res->fingerprint,
               res->signer);
        if (res->pending > 0)
            printf("  draft: %d ballot(s) or row(s) still pending\n", res->pending);
    } else {
        fputs(res->problems.data ? res->problems.data : "", stdout);
        printf("FAILED: %d discrepanc%s in %s\n", res->n_problems,
               res->n_problems == 1 ? "y" : "ies", dir);
        code = PHIEU_EXIT_BLOCKED;
    }
    return code;
}

int cmd_verify(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(verify_usage, stdout);
        return PHIEU_EXIT_OK;
    }
    enum { OPT_PUBKEY = CLI_OWN };
    static const cli_option options[] = {{"pubkey", 0, OPT_PUBKEY, "a key file"}, {0}};
    const char *pubkey = NULL;
    int id;
    cli_args a;
    cli_args_init(&a, "verify", argc, argv, options);
    while ((id = cli_args_next(&a)) > 0)
        if (id == OPT_PUBKEY)
            pubkey = a.value;
    if (id < 0)
        return PHIEU_EXIT_USAGE;
    if (a.n_rest > 1)
        return cli_usage_error("verify", "one folder only ('%s' is extra)", a.rest[1]);
    if (a.n_rest < 1)
        return cli_usage_error("verify", "expected the report folder");
    const char *dir = a.rest[0];
    phieu_error err = {0};
    phieu_key key;
    memset(&key, 0, sizeof key);
    if (pubkey && phieu_key_load(pubkey, &key, &err) != 0)
        return cli_fail(&err);
    phieu_verify_result res;
    int rc = phieu_verify(dir, pubkey ? &key : NULL, &res, &err);
    phieu_key_wipe(&key);
    if (rc != 0) {
        phieu_verify_result_release(&res);
        return cli_fail(&err);
    }
    int code = print_result(&res, dir, pubkey != NULL);
    phieu_verify_result_release(&res);
    return code;
}
