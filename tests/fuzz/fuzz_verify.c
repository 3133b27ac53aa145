/*
 * fuzz_verify.c - libFuzzer target for everything `phieu verify` reads from an export a
 * stranger hands over: the input is split at lines "--8<--" into manifest.json,
 * manifest.sig, results.json, ballots.jsonl and forms/confidence-vote.form, written to a
 * scratch folder and verified. Any bytes must end in a completed check (ok or a list of
 * problems), never a crash; the same bytes also go through the key and ballot parsers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phieu/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const parts[] = {"manifest.json", "manifest.sig", "results.json",
                                    "ballots.jsonl", "forms/confidence-vote.form"};
#define N_PARTS (sizeof parts / sizeof parts[0])
static const char SEPARATOR[] = "\n--8<--\n";

static void put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (n && fwrite(p, 1, n, f) != n)
        abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    phieu_error err = {0};
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/phieu-fuzz-verify-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        char forms[96];
        snprintf(forms, sizeof forms, "%s/forms", dir);
        mkdir(forms, 0755);
        if (phieu_util_init(&err) != 0)
            abort();
    }
    /* Split the input into the export's text files; missing parts are empty files. */
    const uint8_t *p = data, *end = data + size;
    size_t sep = strlen(SEPARATOR);
    for (size_t i = 0; i < N_PARTS; i++) {
        const uint8_t *next = NULL;
        for (const uint8_t *q = p; q + sep <= end; q++)
            if (memcmp(q, SEPARATOR, sep) == 0) {
                next = q;
                break;
            }
        size_t n = (size_t)((next ? next : end) - p);
        put(dir, parts[i], p, n);
        p = next ? next + sep : end;
    }
    phieu_verify_result res;
    int rc = phieu_verify(dir, NULL, &res, &err);
    if (rc != 0 && rc != PHIEU_ENOMEM)
        abort();
    if (rc == 0 && res.ok != (res.n_problems == 0))
        abort();
    /* Hostile input always has something wrong: no images, no minutes. */
    if (rc == 0 && res.ok)
        abort();
    phieu_verify_result_release(&res);

    phieu_key key;
    if (phieu_key_parse((const char *)data, size, "fuzz.key", &key, &err) == 0 &&
        key.has_secret) {
        uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES];
        if (phieu_key_sign(&key, data, size, sig, &err) != 0 ||
            !phieu_key_check(key.public_key, data, size, sig))
            abort();
    }
    phieu_key_wipe(&key);
    return 0;
}
