/*
 * verify.c - `phieu verify`: checks an export folder with nothing but the folder and the
 * program: the Ed25519 signatures, every file's SHA-256 against the manifest, every ballot
 * record against its hash in the manifest, every image re-read with the recorded forms and
 * thresholds, the board's decisions applied, every total recomputed by the tally and
 * compared with results.json. Every discrepancy is listed; none stops the check.
 * Writing an export is export.c's job; the formats are in docs/report.md.
 */
#include "phieu/decisions.h"
#include "phieu/report.h"

#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "phieu/alloc.h"
#include "report/report_internal.h"

/* manifest.json, results.json and ballots.jsonl of the largest council (45 persons, a few
 * thousand ballots) are a few megabytes; 256 MiB refuses only what cannot be an export. */
#define VERIFY_TEXT_MAX_BYTES ((size_t)256 << 20)
#define VERIFY_PDF_MAX_BYTES ((size_t)256 << 20)

typedef struct verifier {
    const char *dir;
    phieu_verify_result *res;
    json_t *manifest;   /* parsed manifest.json */
    json_t *results;    /* parsed results.json */
    json_t *actual;     /* path -> actual sha256 of every file checked */
    phieu_report_data *d;
    phieu_layout layouts[PHIEU_SESSION_MAX_FORMS];
} verifier;

static void problem(verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(verifier *v, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    phieu_buf_puts(&v->res->problems, line);
    phieu_buf_puts(&v->res->problems, "\n");
    v->res->n_problems++;
}

static int read_in_dir(verifier *v, const char *name, size_t max, uint8_t **data, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", v->dir, name);
    phieu_error e = {0};
    int rc = phieu_read_file(path, max, data, len, &e);
    if (rc != 0)
        problem(v, "%s: %s", name, e.message);
    return rc;
}

static json_t *load_json(verifier *v, const char *name, uint8_t **bytes, size_t *len)
{
    uint8_t *data = NULL;
    size_t n = 0;
    if (read_in_dir(v, name, VERIFY_TEXT_MAX_BYTES, &data, &n) != 0)
        return NULL;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)data, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!j || !json_is_object(j)) {
        problem(v, "%s: not valid JSON (line %d: %s)", name, jerr.line, j ? "not an object" : jerr.text);
        json_decref(j);
        j = NULL;
    }
    if (bytes) {
        *bytes = data;
        *len = n;
    } else {
        phieu_free(data);
    }
    return j;
}

/* Where `prefix` first occurs in the PDF's bytes (its metadata is plain text), or NULL
 * when it is not there or fewer than `tail` bytes follow it. */
static const uint8_t *find_in_pdf(const uint8_t *pdf, size_t len, const char *prefix,
                                  size_t tail)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i + plen + tail <= len; i++)
        if (pdf[i] == (uint8_t)prefix[0] && memcmp(pdf + i, prefix, plen) == 0)
            return pdf + i + plen;
    return NULL;
}

/* ---- Signatures -------------------------------------------------------------------------- */

static void check_signatures(verifier *v, const phieu_key *trusted, const uint8_t *manifest,
                             size_t manifest_len)
{
    uint8_t *sig = NULL;
    size_t sig_len = 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.sig", v->dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        problem(v, "manifest.sig: missing: the export is not signed (write it with "
                   "'phieu report --key')");
        return;
    }
    if (read_in_dir(v, "manifest.sig", 4096, &sig, &sig_len) != 0)
        return;
    char header[64] = "", pub[80] = "", sig1[160] = "", sig2[160] = "";
    char k1[32] = "", k2[32] = "", k3[32] = "";
    int fields = sscanf((const char *)sig, "%63[^\n]\n%31s %79s\n%31s %159s\n%31s %159s", header,
                        k1, pub, k2, sig1, k3, sig2);
    phieu_free(sig);
    uint8_t pk[PHIEU_KEY_PUBLIC_BYTES], s1[PHIEU_KEY_SIGNATURE_BYTES],
        s2[PHIEU_KEY_SIGNATURE_BYTES];
    if (fields != 7 || strcmp(header, REPORT_SIG_HEADER) != 0 ||
        strcmp(k1, "public-key") != 0 || strcmp(k2, "manifest.json") != 0 ||
        strcmp(k3, "minutes.pdf") != 0 ||
        phieu_hex_decode(pub, strlen(pub), pk, sizeof pk, NULL) != 0 ||
        phieu_hex_decode(sig1, strlen(sig1), s1, sizeof s1, NULL) != 0 ||
        phieu_hex_decode(sig2, strlen(sig2), s2, sizeof s2, NULL) != 0) {
        problem(v, "manifest.sig: not a phieu signature file (see docs/report.md for its four "
                   "lines)");
        return;
    }
    const uint8_t *key = pk;
    if (trusted) {
        phieu_key_public_hex(trusted, v->res->signer);
        if (memcmp(trusted->public_key, pk, sizeof pk) != 0)
            problem(v, "manifest.sig: names public key %s, not the trusted key %s given with "
                       "--pubkey (the signature was replaced?)",
                    pub, v->res->signer);
        key = trusted->public_key;
    } else {
        phieu_hex(pk, sizeof pk, v->res->signer);
    }
    if (!phieu_key_check(key, manifest, manifest_len, s1))
        problem(v, "manifest.sig: the signature over manifest.json does not verify with key "
                   "%s (manifest.json was changed or the signature replaced)",
                v->res->signer);
    uint8_t *pdf = NULL;
    size_t pdf_len = 0;
    if (read_in_dir(v, "minutes.pdf", VERIFY_PDF_MAX_BYTES, &pdf, &pdf_len) != 0)
        return;
    if (!phieu_key_check(key, pdf, pdf_len, s2))
        problem(v, "manifest.sig: the signature over minutes.pdf does not verify with key %s "
                   "(minutes.pdf was changed or the signature replaced)",
                v->res->signer);
    const uint8_t *printed = find_in_pdf(pdf, pdf_len, REPORT_PDF_KEY_PREFIX, 64);
    if (!printed || memcmp(printed, pub, 64) != 0)
        problem(v, "minutes.pdf: was written for public key %.64s, but manifest.sig holds key "
                   "%s (the signature was replaced)",
                printed ? (const char *)printed : "(none: unsigned minutes)", pub);
    phieu_free(pdf);
}

static void check_minutes_fingerprint(verifier *v)
{
    uint8_t *pdf = NULL;
    size_t len = 0;
    if (read_in_dir(v, "minutes.pdf", VERIFY_PDF_MAX_BYTES, &pdf, &len) != 0)
        return;
    const uint8_t *hit = find_in_pdf(pdf, len, REPORT_PDF_FINGERPRINT_PREFIX, 64);
    if (!hit)
        problem(v, "minutes.pdf: carries no evidence fingerprint (not minutes written by "
                   "phieu report)");
    else if (memcmp(hit, v->res->fingerprint, 64) != 0)
        problem(v, "minutes.pdf: carries fingerprint %.64s, but manifest.json's SHA-256 is %s "
                   "(the minutes belong to other evidence)",
                (const char *)hit, v->res->fingerprint);
    phieu_free(pdf);
}

/* ---- Files --------------------------------------------------------------------------- */

static int safe_name(const char *p)
{
    if (!p || !*p || strstr(p, "..") || p[0] == '/')
        return 0;
    const char *slash = strchr(p, '/');
    if (slash && (strchr(slash + 1, '/') ||
                  (strncmp(p, "forms/", 6) != 0 && strncmp(p, "images/", 7) != 0)))
        return 0;
    for (const char *c = p; *c; c++)
        if (!(*c == '/' || *c == '.' || *c == '-' || *c == '_' || (*c >= '0' && *c <= '9') ||
              (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
            return 0;
    return 1;
}

static void check_files(verifier *v)
{
    json_t *files = json_object_get(v->manifest, "files");
    if (!json_is_array(files)) {
        problem(v, "manifest.json: has no list of files");
        return;
    }
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "path"));
        const char *want = json_string_value(json_object_get(f, "sha256"));
        if (!safe_name(name) || !want) {
            problem(v, "manifest.json: file entry %zu has a bad path or no sha256", i + 1);
            continue;
        }
        char path[4096], hex[PHIEU_SHA256_HEX];
        snprintf(path, sizeof path, "%s/%s", v->dir, name);
        phieu_error e = {0};
        if (phieu_sha256_file(path, hex, &e) != 0) {
            problem(v, "%s: listed in the manifest but cannot be read (%s)", name, e.message);
            continue;
        }
        json_object_set_new(v->actual, name, json_string(hex));
        if (strcmp(hex, want) != 0)
            problem(v, "%s: SHA-256 is %s, the manifest says %s (the file was changed)", name,
                    hex, want);
        /* Images are named by their content: a swapped or replaced image shows here. */
        if (strncmp(name, "images/", 7) == 0 && strncmp(name + 7, hex, 64) != 0)
            problem(v, "%s: its content's SHA-256 is %s, not the hash in its name (images "
                       "swapped or replaced)",
                    name, hex);
    }
    /* Files nobody listed: the folder must hold the evidence and nothing else. */
    const char *subdirs[] = {"", "forms/", "images/"};
    for (int s = 0; s < 3; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", v->dir, subdirs[s]);
        DIR *dp = opendir(path);
        if (!dp)
            continue;
        struct dirent *e;
        while ((e = readdir(dp)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char name[600];
            snprintf(name, sizeof name, "%s%s", subdirs[s], e->d_name);
            if (s == 0 && (strcmp(name, "forms") == 0 || strcmp(name, "images") == 0 ||
                           strcmp(name, "minutes.pdf") == 0 ||
                           strcmp(name, "manifest.json") == 0 ||
                           strcmp(name, "manifest.sig") == 0))
                continue;
            if (!json_object_get(v->actual, name) &&
                !json_object_get(json_object_get(v->manifest, "files_index"), name))
                problem(v, "%s: not listed in the manifest (a file was added)", name);
        }
        closedir(dp);
    }
}

/* ---- Rebuilding the data ------------------------------------------------------------- */

static char *jstr(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return phieu_strdup(s ? s : "");
}

/* The manifest's rule set, test flag and thresholds. */
static int load_settings(verifier *v)
{
    phieu_report_data *d = v->d;
    json_t *m = v->manifest;
    d->rules = phieu_rules_find(json_string_value(json_object_get(m, "rule_set")));
    if (!d->rules) {
        problem(v, "manifest.json: unknown rule set '%s'",
                json_string_value(json_object_get(m, "rule_set")));
        return -1;
    }
    d->test = json_is_true(json_object_get(m, "test"));
    phieu_thresholds_default(&d->thresholds);
    json_t *th = json_object_get(m, "thresholds");
    for (int i = 0; i < PHIEU_TH_COUNT; i++) {
        json_t *val = json_object_get(th, phieu_threshold_name((phieu_threshold_id)i));
        if (!json_is_number(val)) {
            problem(v, "manifest.json: threshold '%s' is missing",
                    phieu_threshold_name((phieu_threshold_id)i));
            return -1;
        }
        d->thresholds.value[i] = json_number_value(val);
    }
    return 0;
}

/* The export's forms, as the manifest lists them, each checked against its fingerprint
 * and laid out. */
static int load_forms(verifier *v)
{
    phieu_report_data *d = v->d;
    json_t *forms = json_object_get(v->manifest, "forms");
    size_t i;
    json_t *f;
    json_array_foreach(forms, i, f)
    {
        if (d->n_forms >= PHIEU_SESSION_MAX_FORMS)
            break;
        const char *file = json_string_value(json_object_get(f, "file"));
        const char *fp = json_string_value(json_object_get(f, "fingerprint"));
        if (!safe_name(file) || !fp) {
            problem(v, "manifest.json: form entry %zu has a bad file name or no fingerprint",
                    i + 1);
            return -1;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", v->dir, file);
        phieu_error e = {0};
        phieu_form *form = NULL;
        if (phieu_form_load(path, &form, &e) != 0) {
            problem(v, "%s: %s", file, e.message);
            return -1;
        }
        if (strcmp(form->fingerprint_hex, fp) != 0)
            problem(v, "%s: its fingerprint is %s, the manifest says %s (the form was changed)",
                    file, form->fingerprint_hex, fp);
        if (phieu_layout_compute(form, &v->layouts[d->n_forms], &e) != 0) {
            problem(v, "%s: %s", file, e.message);
            phieu_form_destroy(&form);
            return -1;
        }
        d->forms[d->n_forms++] = form;
    }
    if (d->n_forms == 0) {
        problem(v, "manifest.json: lists no forms");
        return -1;
    }
    return 0;
}

/* The board's own counts of each form, from results.json. */
static void load_counts(verifier *v)
{
    phieu_report_data *d = v->d;
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(v->results, "forms"), i, f)
    {
        const char *id = json_string_value(json_object_get(f, "id"));
        for (int k = 0; id && k < d->n_forms; k++)
            if (strcmp(d->forms[k]->id, id) == 0) {
                json_t *c = json_object_get(f, "counts");
                d->counts[k].entered = json_is_true(json_object_get(c, "entered"));
                d->counts[k].present = (int)json_integer_value(json_object_get(c, "present"));
                d->counts[k].issued = (int)json_integer_value(json_object_get(c, "issued"));
                d->counts[k].collected = (int)json_integer_value(json_object_get(c, "collected"));
                d->counts[k].spoiled = (int)json_integer_value(json_object_get(c, "spoiled"));
            }
    }
}

/* The board's own entries (not recomputable) from results.json: the session, the board,
 * the exception counts, the log's head and the board's counts. */
static int load_board_entries(verifier *v)
{
    phieu_report_data *d = v->d;
    json_t *r = v->results;
    d->council = jstr(r, "council");
    d->session_name = jstr(r, "session");
    d->date = jstr(r, "date");
    d->place = jstr(r, "place");
    d->delegates = (int)json_integer_value(json_object_get(r, "delegates"));
    json_t *board = json_object_get(r, "board");
    d->board_head = jstr(board, "head");
    d->board_secretary = jstr(board, "secretary");
    json_t *members = json_object_get(board, "members");
    if (json_array_size(members) > 0) {
        d->board_members = phieu_calloc(json_array_size(members), sizeof(char *));
        if (!d->board_members)
            return -1;
        size_t i;
        json_t *f;
        json_array_foreach(members, i, f) d->board_members[d->n_members++] =
            phieu_strdup(json_string_value(f) ? json_string_value(f) : "");
    }
    json_t *exc = json_object_get(r, "exceptions");
    d->exceptions_total = (int)json_integer_value(json_object_get(exc, "total"));
    d->exceptions_resolved = (int)json_integer_value(json_object_get(exc, "decided"));
    d->exceptions_open = (int)json_integer_value(json_object_get(exc, "open"));
    snprintf(d->log_head, sizeof d->log_head, "%s",
             json_string_value(json_object_get(r, "audit_log_head"))
                 ? json_string_value(json_object_get(r, "audit_log_head"))
                 : "");
    load_counts(v);
    if (!d->council || !d->session_name || !d->date || !d->place || !d->board_head ||
        !d->board_secretary)
        return -1;
    return 0;
}

static int load_forms_and_settings(verifier *v)
{
    if (load_settings(v) != 0 || load_forms(v) != 0)
        return -1;
    return load_board_entries(v);
}

/* ---- Ballots ---------------------------------------------------------------------------- */

/* The ballots the signed manifest lists: id -> sha256 of the record. */
static json_t *manifest_ballots(verifier *v)
{
    json_t *listed = json_object();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(v->manifest, "ballots"), i, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *sha = json_string_value(json_object_get(e, "sha256"));
        if (id && sha)
            json_object_set_new(listed, id, json_string(sha));
    }
    return listed;
}

/* Every ballot the manifest lists was seen in ballots.jsonl. */
static void check_none_dropped(verifier *v, json_t *listed, json_t *seen)
{
    const char *id;
    json_t *e;
    json_object_foreach(listed, id, e)
    {
        if (!json_object_get(seen, id))
            problem(v, "ballots.jsonl: ballot %s is in the manifest but missing from the file "
                       "(a record was dropped)",
                    id);
    }
}

static void check_ballot_records(verifier *v, const uint8_t *text, size_t len)
{
    phieu_report_data *d = v->d;
    json_t *listed = manifest_ballots(v);
    json_t *seen = json_object();
    size_t n_lines = 0;
    for (size_t k = 0; k < len; k++)
        n_lines += text[k] == '\n';
    d->ballots = phieu_calloc(n_lines + 1, sizeof *d->ballots);
    if (!d->ballots) {
        problem(v, "ballots.jsonl: out of memory for %zu records", n_lines);
        goto done;
    }
    size_t line_no = 0;
    char prev_id[PHIEU_REPORT_ID_HEX] = "";
    for (size_t start = 0; start < len;) {
        const uint8_t *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        line_no++;
        char where[64];
        snprintf(where, sizeof where, "ballots.jsonl:%zu", line_no);
        phieu_report_ballot *b = &d->ballots[d->n_ballots];
        phieu_error err = {0};
        if (phieu_report_ballot_parse(d, (const char *)text + start, end - start, where, b,
                                      &err) != 0) {
            problem(v, "%s", err.message);
        } else {
            char hex[PHIEU_SHA256_HEX];
            phieu_sha256_hex(text + start, end - start, hex);
            const char *want = json_string_value(json_object_get(listed, b->id));
            if (json_object_get(seen, b->id))
                problem(v, "%s: ballot %s appears twice (a record was added)", where, b->id);
            else if (!want)
                problem(v, "%s: ballot %s is not in the signed manifest (a record was added)",
                        where, b->id);
            else if (strcmp(want, hex) != 0)
                problem(v, "%s: ballot %s differs from the record the manifest lists (the "
                           "record was changed)",
                        where, b->id);
            if (strcmp(b->id, prev_id) <= 0 && prev_id[0])
                problem(v, "%s: ballot %s is out of id order (ballots must be in random-id "
                           "order, unrelated to scan order)",
                        where, b->id);
            snprintf(prev_id, sizeof prev_id, "%s", b->id);
            json_object_set_new(seen, b->id, json_true());
            d->n_ballots++;
        }
        start = end + 1;
    }
    check_none_dropped(v, listed, seen);
done:
    json_decref(listed);
    json_decref(seen);
}

/* Compares the page as re-read (rd, and as: the reading as the board's form, or NULL)
 * with ballot b's record; returns the reading whose rows count (freeing the other). */
static phieu_reading *compare_page(verifier *v, const phieu_report_ballot *b, const char *name,
                                   phieu_reading *rd, phieu_reading *as)
{
    phieu_report_data *d = v->d;
    if (rd->status != b->page_status)
        problem(v, "ballot %s: %s reads as a '%s' page, the record says '%s'", b->id, name,
                phieu_page_status_name(rd->status), phieu_page_status_name(b->page_status));
    if (rd->form_index != b->read_form)
        problem(v, "ballot %s: %s reads as form '%s', the record says '%s'", b->id, name,
                rd->form_index >= 0 ? d->forms[rd->form_index]->id : "none",
                b->read_form >= 0 ? d->forms[b->read_form]->id : "none");
    if (!as)
        return rd;
    if (as->status != b->board_status)
        problem(v, "ballot %s: %s read as form '%s' is a '%s' page, the record says '%s'",
                b->id, name, d->forms[b->board_form]->id, phieu_page_status_name(as->status),
                phieu_page_status_name(b->board_status));
    phieu_free(rd);
    return as; /* the rows are those of the reading as the board's form */
}

/* Compares the rows re-read with ballot b's: each row's reading (the image is the
 * evidence: the record takes it) and each box's score, to 1/10000. */
static void compare_rows(verifier *v, phieu_report_ballot *b, const char *name,
                         const phieu_reading *rd)
{
    phieu_report_data *d = v->d;
    const phieu_form *form = rd->form_index >= 0 ? d->forms[rd->form_index] : NULL;
    if (rd->status != PHIEU_PAGE_REJECTED && rd->status != PHIEU_PAGE_BLANK &&
        rd->n_rows != b->n_rows)
        problem(v, "ballot %s: %s has %d rows, the record %d", b->id, name, rd->n_rows,
                b->n_rows);
    for (int r = 0; r < b->n_rows && r < rd->n_rows; r++) {
        phieu_report_row *row = &b->rows[r];
        const phieu_row_reading *rr = &rd->rows[r];
        if (rr->decision != row->machine) {
            problem(v, "ballot %s row %d: %s reads '%s', the record says '%s'", b->id, r + 1,
                    name, report_value_name(form, rr->decision),
                    report_value_name(form, row->machine));
            row->machine = rr->decision; /* the image is the evidence */
        }
        for (int c = 0; form && c < form->n_choices; c++) {
            int got = report_score_units(rr->boxes[c].score);
            int want = report_score_units(row->score[c]);
            if (got != want)
                problem(v, "ballot %s row %d box '%s': %s scores %d/10000, the record %d/10000",
                        b->id, r + 1, form->choices[c].key, name, got, want);
        }
    }
}

static void reread_ballot(verifier *v, const phieu_omr_config *cfg, phieu_report_ballot *b)
{
    phieu_report_data *d = v->d;
    char name[128], path[4096];
    report_image_name(b, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", v->dir, name);
    const char *actual = json_string_value(json_object_get(v->actual, name));
    if (!actual)
        problem(v, "ballot %s: its image %s is not in the manifest", b->id, name);
    if (b->by_board) {
        /* Counted by the board's reading of the paper: the image is the evidence the board
         * read, checked by its hash, not read again (the machine could not count it). */
        if (actual && strcmp(actual, b->sha256) != 0)
            problem(v, "ballot %s: %s has SHA-256 %s, the record says %s", b->id, name, actual,
                    b->sha256);
        return;
    }
    if (b->unreadable) {
        if (b->state == PHIEU_BALLOT_VALID)
            problem(v, "ballot %s: an unreadable file cannot be a counted ballot", b->id);
        return;
    }
    phieu_image_limits limits = phieu_image_default_limits();
    phieu_image *img = NULL;
    phieu_error e = {0};
    if (phieu_image_load(path, 0, &limits, &img, &e) != 0) {
        problem(v, "ballot %s: cannot re-read %s: %s", b->id, name, e.message);
        return;
    }
    phieu_reading *rd = phieu_malloc(sizeof *rd);
    if (!rd || phieu_omr_read(cfg, img, rd, &e) != 0) {
        problem(v, "ballot %s: cannot re-read %s: %s", b->id, name,
                rd ? e.message : "out of memory");
        phieu_free(rd);
        phieu_image_destroy(&img);
        return;
    }
    /* The form the board set: the rows are those of the page read as that form. */
    phieu_reading *as = NULL;
    if (b->board_set) {
        as = phieu_malloc(sizeof *as);
        if (!as || phieu_omr_read_as(cfg, b->board_form, img, as, &e) != 0) {
            problem(v, "ballot %s: cannot re-read %s as form '%s': %s", b->id, name,
                    d->forms[b->board_form]->id, as ? e.message : "out of memory");
            phieu_free(as);
            phieu_free(rd);
            phieu_image_destroy(&img);
            return;
        }
    }
    phieu_image_destroy(&img);
    v->res->images_reread++;
    rd = compare_page(v, b, name, rd, as);
    compare_rows(v, b, name, rd);
    phieu_free(rd);
}

static const char *state_word(int state)
{
    return state == PHIEU_BALLOT_VALID     ? "valid"
           : state == PHIEU_BALLOT_INVALID ? "invalid"
                                           : "pending";
}

/* The ballot source the session's rule takes (phieu_ballot_resolve), from the record: its
 * reading and its page exception. Returns the form the page counts as (-1: none). */
static int ballot_source(const phieu_report_data *d, const phieu_report_ballot *b,
                         phieu_ballot_source *src)
{
    /* A page whose form the board set counts by its reading as that form; one the board
     * read counts as the form it read. */
    int counted_as = b->by_board ? b->form_index : b->board_set ? b->board_form : b->read_form;
    /* A page of no known form decided invalid counts for the form it was collected under. */
    if (counted_as < 0 && b->page_decided)
        counted_as = phieu_ballot_collected_form(
            b->page_decision, (const phieu_form *const *)d->forms, d->n_forms);
    src->form_index = counted_as;
    src->has_reading = !b->unreadable;
    src->read_form = counted_as;
    src->board_form = b->board_set ? b->board_form : -1;
    src->n_rows = b->n_rows;
    for (int r = 0; r < b->n_rows; r++)
        src->machine[r] = b->rows[r].machine;
    src->page.present = b->page_decided || b->page_open;
    src->page.open = !b->page_decided;
    snprintf(src->page.reason, sizeof src->page.reason, "%s", b->page_reason);
    snprintf(src->page.resolution, sizeof src->page.resolution, "%s", b->page_decision);
    return counted_as;
}

/* The board's page decision must be one a ballot can carry and agree with the record
 * (read by the board, form set by the board); a page the reader cannot count must have
 * come to the board. A page the board read is given to the rule as its reading. */
static void check_page_decision(verifier *v, const phieu_report_ballot *b,
                                phieu_ballot_source *src)
{
    phieu_report_data *d = v->d;
    char board_choice[PHIEU_CHOICE_MAX + 64] = "";
    if (b->board_set)
        snprintf(board_choice, sizeof board_choice, "%s%s", PHIEU_CHOICE_FORM_PREFIX,
                 d->forms[b->board_form]->id);
    int says_form = strncmp(b->page_decision, PHIEU_CHOICE_FORM_PREFIX,
                            strlen(PHIEU_CHOICE_FORM_PREFIX)) == 0;
    int says_read = b->page_decided && strcmp(b->page_decision, REPORT_DECISION_READ) == 0;
    int says_invalid_form = strncmp(b->page_decision, PHIEU_CHOICE_INVALID_FORM_PREFIX,
                                    strlen(PHIEU_CHOICE_INVALID_FORM_PREFIX)) == 0;
    if (b->page_decided && strcmp(b->page_decision, PHIEU_CHOICE_INVALID) != 0 &&
        strcmp(b->page_decision, PHIEU_CHOICE_ACCEPT) != 0 && !says_form && !says_read &&
        !says_invalid_form)
        problem(v, "ballot %s: the board's page decision '%s' is not one a ballot can carry "
                   "(accept, invalid, invalid:<id>, form:<id> or read)",
                b->id, b->page_decision);
    if (says_read != b->by_board)
        problem(v, "ballot %s: %s", b->id,
                says_read ? "the board's page decision is 'read' but the record is not "
                            "counted_by the board (no rows the board read)"
                          : "counted_by the board, but the board's page decision is not 'read'");
    if (says_read) {
        /* The rule's own word for a page resolved as the board's reading. */
        snprintf(src->page.resolution, sizeof src->page.resolution, "%s",
                 PHIEU_CHOICE_READ_PREFIX);
        src->by_board = b->by_board;
        for (int r = 0; r < b->n_rows && r < PHIEU_FORM_MAX_ROWS; r++)
            src->by_board_value[r] = b->rows[r].board_read;
    }
    if (b->board_set && (!b->page_decided || strcmp(b->page_decision, board_choice) != 0))
        problem(v, "ballot %s: read again as form '%s', but the board's page decision is '%s', "
                   "not '%s'",
                b->id, d->forms[b->board_form]->id,
                b->page_decided ? b->page_decision : "none", board_choice);
    else if (says_form && b->page_decided && !b->board_set)
        problem(v, "ballot %s: the board set the form ('%s') but the record holds no reading "
                   "as that form",
                b->id, b->page_decision);
    if (b->board_set && strcmp(b->page_reason, PHIEU_REASON_CODE_UNREADABLE) != 0 &&
        strcmp(b->page_reason, PHIEU_REASON_WRONG_FORM) != 0)
        problem(v, "ballot %s: the board set the form of a page that came to it for '%s'; "
                   "only a page whose form code was unreadable or foreign can be",
                b->id, b->page_reason);
    if (!src->page.present && (b->unreadable || b->page_status == PHIEU_PAGE_REJECTED ||
                               b->page_status == PHIEU_PAGE_BLANK))
        problem(v, "ballot %s: the page reads as '%s' but its record names no exception (a "
                   "page the reader cannot count always goes to the board)",
                b->id, b->unreadable ? "unreadable" : phieu_page_status_name(b->page_status));
}

/* Each row's exception for the rule; a board's decision on a row must be a choice of the
 * form or 'invalid'. */
static void row_exceptions(verifier *v, const phieu_report_ballot *b, const phieu_form *read_form,
                           phieu_ballot_source *src)
{
    for (int r = 0; r < b->n_rows && r < PHIEU_FORM_MAX_ROWS; r++) {
        const phieu_report_row *row = &b->rows[r];
        phieu_ballot_exception *e = &src->row[r];
        e->present = row->decided || row->open;
        e->open = !row->decided;
        snprintf(e->reason, sizeof e->reason, "%s", row->reason);
        snprintf(e->resolution, sizeof e->resolution, "%s", row->decision);
        int value;
        if (b->by_board)
            continue; /* every row is the board's reading, checked by the rule below */
        if (row->decided && read_form &&
            (report_value_parse(read_form, row->decision, &value) != 0 ||
             (value < 0 && value != PHIEU_ROW_DECIDED_INVALID)))
            problem(v, "ballot %s row %d: the board's decision '%s' is not a choice of form "
                       "'%s' nor 'invalid'",
                    b->id, r + 1, row->decision, read_form->id);
    }
}

/* What the rule makes of the ballot (want) against what the record says: state, form and
 * every row's value. A difference is a problem, and the record is corrected so that the
 * totals are recomputed from what the rule says. */
static void compare_resolved(verifier *v, phieu_report_ballot *b, const phieu_ballot *want,
                             const phieu_form *form)
{
    phieu_report_data *d = v->d;
    if (want->state != b->state) {
        problem(v, "ballot %s: state should be '%s' (read '%s', board '%s'), the record says "
                   "'%s'",
                b->id, state_word(want->state),
                b->unreadable ? "unreadable" : phieu_page_status_name(b->page_status),
                b->page_decided ? b->page_decision
                : b->page_open  ? "open"
                                : "no exception",
                state_word(b->state));
        b->state = want->state;
    }
    if (want->form_index != b->form_index) {
        problem(v, "ballot %s: counted for form '%s' but reads as form '%s'", b->id,
                b->form_index >= 0 ? d->forms[b->form_index]->id : "none",
                want->form_index >= 0 ? d->forms[want->form_index]->id : "none");
        b->form_index = want->form_index;
    }
    if (b->state == PHIEU_BALLOT_PENDING)
        v->res->pending++;
    for (int r = 0; r < b->n_rows && r < want->n_rows; r++) {
        phieu_report_row *row = &b->rows[r];
        if (want->value[r] != row->value) {
            problem(v, "ballot %s row %d: value should be '%s' (read '%s'%s%s%s), the record "
                       "says '%s'",
                    b->id, r + 1, report_value_name(form, want->value[r]),
                    report_value_name(form, row->machine), row->decided ? ", board " : "",
                    row->decided ? row->decision : "", row->open ? ", awaiting the board" : "",
                    report_value_name(form, row->value));
            row->value = want->value[r];
        }
        if (row->value == PHIEU_ROW_PENDING && b->state == PHIEU_BALLOT_VALID)
            v->res->pending++;
    }
    if (want->n_rows != b->n_rows)
        problem(v, "ballot %s: the record has %d rows, its form '%s' %d", b->id, b->n_rows,
                form ? form->id : "none", want->n_rows);
}

/* The record's reading (corrected from the image), its exceptions and the board's
 * decisions, through the session's own rule (phieu_ballot_resolve): state, form and every
 * row's value must be what the record says. */
static void apply_decisions(verifier *v, phieu_report_ballot *b)
{
    phieu_ballot_source *src = phieu_calloc(1, sizeof *src);
    if (!src) {
        problem(v, "ballot %s: out of memory applying the decisions", b->id);
        return;
    }
    int counted_as = ballot_source(v->d, b, src);
    check_page_decision(v, b, src);
    const phieu_form *read_form = counted_as >= 0 ? v->d->forms[counted_as] : NULL;
    row_exceptions(v, b, read_form, src);
    phieu_ballot want;
    memset(&want, 0, sizeof want);
    if (!phieu_ballot_resolve(read_form, src, &want)) {
        problem(v, "ballot %s: the board discarded this page (not a ballot), yet the export "
                   "lists it",
                b->id);
        want.state = PHIEU_BALLOT_INVALID; /* counted for nobody */
        want.form_index = -1;
        want.n_rows = 0;
    }
    phieu_free(src);
    compare_resolved(v, b, &want, read_form);
}

/* ---- Comparing the totals ------------------------------------------------------------ */

static void element_label(json_t *e, size_t i, char *out, size_t size)
{
    const char *id = json_string_value(json_object_get(e, "id"));
    const char *key = json_string_value(json_object_get(e, "key"));
    const char *name = json_string_value(json_object_get(e, "name"));
    if (id)
        snprintf(out, size, "[%s]", id);
    else if (key)
        snprintf(out, size, "[%s]", key);
    else if (name)
        snprintf(out, size, "[%lld %s]", (long long)json_integer_value(json_object_get(e, "stt")),
                 name);
    else
        snprintf(out, size, "[%zu]", i);
}

static void diff(verifier *v, json_t *want, json_t *got, const char *path)
{
    if (json_is_object(want) && json_is_object(got)) {
        const char *key;
        json_t *w;
        json_object_foreach(want, key, w)
        {
            char sub[512];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            diff(v, w, json_object_get(got, key), sub);
        }
        json_object_foreach(got, key, w)
        {
            if (!json_object_get(want, key))
                problem(v, "results.json: %s.%s: unexpected figure", path, key);
        }
        return;
    }
    if (json_is_array(want) && json_is_array(got)) {
        if (json_array_size(want) != json_array_size(got))
            problem(v, "results.json: %s: %zu entries, the ballots give %zu", path,
                    json_array_size(got), json_array_size(want));
        for (size_t i = 0; i < json_array_size(want) && i < json_array_size(got); i++) {
            char sub[512], label[200];
            element_label(json_array_get(want, i), i, label, sizeof label);
            snprintf(sub, sizeof sub, "%s%s", path, label);
            diff(v, json_array_get(want, i), json_array_get(got, i), sub);
        }
        return;
    }
    if (!json_equal(want, got)) {
        char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
        char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        problem(v, "results.json: %s: the file says %s, the ballots give %s", path,
                g ? g : "nothing", w ? w : "?");
        free(w);
        free(g);
    }
}

/* The length of the CSV field at p (RFC 4180: a quoted field may hold commas). */
static size_t csv_field_len(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && *q == '"') {
        for (q++; q < end; q++)
            if (*q == '"') {
                if (q + 1 < end && q[1] == '"')
                    q++;
                else {
                    q++;
                    break;
                }
            }
        return (size_t)(q - p);
    }
    while (q < end && *q != ',' && *q != '\r' && *q != '\n')
        q++;
    return (size_t)(q - p);
}

/* The length of the line at p, without its line break. */
static size_t csv_line_len(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && *q != '\n' && *q != '\r') {
        q += csv_field_len(q, end);
        if (q < end && *q == ',')
            q++;
    }
    return (size_t)(q - p);
}

static const char *csv_next_line(const char *p, const char *end)
{
    if (p < end && *p == '\r')
        p++;
    if (p < end && *p == '\n')
        p++;
    return p;
}

/* results.csv recomputed from the ballots and compared line by line, field by field:
 * a changed figure is named by its line, its column's name and both values. */
static void check_csv(verifier *v, const phieu_tally *t)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_in_dir(v, "results.csv", VERIFY_TEXT_MAX_BYTES, &data, &len) != 0)
        return;
    phieu_buf want;
    phieu_buf_init(&want);
    phieu_report_results_csv(v->d, t, &want);
    const char *w = want.data ? want.data : "", *g = (const char *)data;
    const char *w_end = w + want.len, *g_end = g + len;
    const char *header = w, *header_end = w + csv_line_len(w, w_end);
    for (int line = 1; (w < w_end || g < g_end) && line <= 1000000; line++) {
        size_t wl = csv_line_len(w, w_end), gl = csv_line_len(g, g_end);
        if (g >= g_end) {
            problem(v, "results.csv:%d: missing; the ballots give '%.*s'", line, (int)wl, w);
        } else if (w >= w_end) {
            problem(v, "results.csv:%d: '%.*s' is extra; the ballots give no such line", line,
                    (int)gl, g);
        } else if (wl != gl || memcmp(w, g, wl) != 0) {
            const char *wp = w, *gp = g, *hp = header;
            const char *wle = w + wl, *gle = g + gl;
            for (int col = 1;; col++) {
                size_t wf = csv_field_len(wp, wle), gf = csv_field_len(gp, gle);
                size_t hf = hp < header_end ? csv_field_len(hp, header_end) : 0;
                if (wf != gf || memcmp(wp, gp, wf) != 0 || wp + wf >= wle || gp + gf >= gle) {
                    problem(v, "results.csv:%d: column %d (%.*s): the file says '%.*s', the "
                               "ballots give '%.*s'",
                            line, col, (int)hf, hp, (int)gf, gp, (int)wf, wp);
                    break;
                }
                wp += wf + 1;
                gp += gf + 1;
                hp = hp + hf < header_end ? hp + hf + 1 : header_end;
            }
        }
        w = csv_next_line(w + wl, w_end);
        g = csv_next_line(g + gl, g_end);
    }
    phieu_buf_release(&want);
    phieu_free(data);
}

static void check_totals(verifier *v)
{
    phieu_tally *t = NULL;
    phieu_error e = {0};
    if (phieu_report_tally(v->d, &t, &e) != 0) {
        problem(v, "cannot recompute the totals: %s", e.message);
        return;
    }
    json_t *want = report_results_tree(v->d, t, v->res->draft);
    if (want)
        diff(v, want, v->results, "");
    else
        problem(v, "out of memory recomputing results.json");
    check_csv(v, t);
    if (!v->res->draft) {
        int blockers = phieu_tally_blockers(t, v->d->exceptions_open, NULL);
        if (blockers > 0)
            problem(v, "results.json: a final report, but %d thing(s) should have blocked it "
                       "(pending ballots or rows, reconciliation)",
                    blockers);
    }
    json_decref(want);
    phieu_tally_destroy(&t);
}

/* Re-reads every ballot's image and applies its decisions; an image used by two records
 * or by none is a problem. */
static void reread_ballots(verifier *v)
{
    const phieu_form *forms[PHIEU_SESSION_MAX_FORMS];
    for (int i = 0; i < v->d->n_forms; i++)
        forms[i] = v->d->forms[i];
    phieu_omr_config cfg = {.forms = forms,
                            .layouts = v->layouts,
                            .n_forms = v->d->n_forms,
                            .thresholds = v->d->thresholds,
                            .test_session = v->d->test};
    json_t *images_used = json_object();
    for (size_t i = 0; i < v->d->n_ballots; i++) {
        phieu_report_ballot *b = &v->d->ballots[i];
        if (json_object_get(images_used, b->sha256))
            problem(v, "ballot %s: its image %s is also used by ballot %s (one page counted "
                        "twice)",
                    b->id, b->sha256,
                    json_string_value(json_object_get(images_used, b->sha256)));
        json_object_set_new(images_used, b->sha256, json_string(b->id));
        reread_ballot(v, &cfg, b);
        apply_decisions(v, b);
    }
    const char *name;
    json_t *val;
    json_object_foreach(v->actual, name, val)
    {
        if (strncmp(name, "images/", 7) == 0 && strlen(name) >= 71) {
            char sha[PHIEU_SHA256_HEX];
            snprintf(sha, sizeof sha, "%.64s", name + 7);
            if (!json_object_get(images_used, sha))
                problem(v, "%s: no ballot record uses this image (a record was dropped?)",
                        name);
        }
    }
    json_decref(images_used);
}

/* ---- The whole check --------------------------------------------------------------------- */

int phieu_verify(const char *dir, const phieu_key *trusted, phieu_verify_result *res,
                 phieu_error *err)
{
    memset(res, 0, sizeof *res);
    phieu_buf_init(&res->problems);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "'%s' is not a folder; give the folder 'phieu report' wrote",
                               dir);
    verifier v = {.dir = dir, .res = res};
    v.actual = json_object();
    v.d = phieu_calloc(1, sizeof *v.d);
    if (!v.actual || !v.d) {
        json_decref(v.actual);
        phieu_free(v.d);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    }
    uint8_t *manifest = NULL, *ballots = NULL;
    size_t manifest_len = 0, ballots_len = 0;
    v.manifest = load_json(&v, "manifest.json", &manifest, &manifest_len);
    if (manifest)
        phieu_sha256_hex(manifest, manifest_len, res->fingerprint);
    if (manifest)
        check_signatures(&v, trusted, manifest, manifest_len);
    if (manifest)
        check_minutes_fingerprint(&v);
    if (!v.manifest)
        goto done;
    check_files(&v);
    v.results = load_json(&v, "results.json", NULL, NULL);
    if (!v.results)
        goto done;
    res->draft = json_is_true(json_object_get(v.results, "draft"));
    if (json_is_true(json_object_get(v.manifest, "draft")) != res->draft)
        problem(&v, "results.json: says draft=%s, the manifest says the opposite",
                res->draft ? "true" : "false");
    if (load_forms_and_settings(&v) != 0)
        goto done;
    if (read_in_dir(&v, "ballots.jsonl", VERIFY_TEXT_MAX_BYTES, &ballots, &ballots_len) != 0)
        goto done;
    check_ballot_records(&v, ballots, ballots_len);
    res->ballots = v.d->n_ballots;

    reread_ballots(&v);
    if (res->pending > 0 && !res->draft)
        problem(&v, "ballots.jsonl: %d ballot(s) or row(s) pending in a report that is not a "
                    "draft",
                res->pending);
    check_totals(&v);
done:
    res->ok = res->n_problems == 0;
    phieu_free(manifest);
    phieu_free(ballots);
    json_decref(v.manifest);
    json_decref(v.results);
    json_decref(v.actual);
    phieu_report_data_destroy(&v.d);
    if (res->problems.failed)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing the problems");
    return 0;
}

void phieu_verify_result_release(phieu_verify_result *res)
{
    if (res)
        phieu_buf_release(&res->problems);
}
