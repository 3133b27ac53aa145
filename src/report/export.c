/*
 * export.c - writing an export folder: forms/, images/, ballots.jsonl, results.json,
 * results.csv, manifest.json, then minutes.pdf (which carries the manifest's hash), then
 * manifest.sig. Also the record formats both ways (ballot lines are parsed back by verify).
 * The PDF layout is in minutes.c; checking an export is verify.c's job.
 */
#include "phieu/decisions.h"
#include "phieu/report.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "phieu/alloc.h"
#include "report/report_internal.h"

/* Box scores are exported as integers in ten-thousandths: exact in JSON, and fine enough
 * that a reader of the file sees what the thresholds (two decimals) were compared with. */
#define SCORE_SCALE 10000

int report_score_units(float score)
{
    return (int)lrintf(score * SCORE_SCALE);
}

const char *report_value_name(const phieu_form *form, int value)
{
    switch (value) {
    case PHIEU_ROW_BLANK: return "blank";
    case PHIEU_ROW_OVERVOTE: return "overvote";
    case PHIEU_ROW_REVIEW: return "review";
    case PHIEU_ROW_DECIDED_INVALID: return "invalid";
    case PHIEU_ROW_PENDING: return "pending";
    default:
        if (form && value >= 0 && value < form->n_choices)
            return form->choices[value].key;
        return "?";
    }
}

int report_value_parse(const phieu_form *form, const char *name, int *value)
{
    static const struct {
        const char *name;
        int value;
    } fixed[] = {{"blank", PHIEU_ROW_BLANK},
                 {"overvote", PHIEU_ROW_OVERVOTE},
                 {"review", PHIEU_ROW_REVIEW},
                 {"invalid", PHIEU_ROW_DECIDED_INVALID},
                 {"pending", PHIEU_ROW_PENDING}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strcmp(name, fixed[i].name) == 0) {
            *value = fixed[i].value;
            return 0;
        }
    int c = form ? phieu_form_choice_index(form, name) : -1;
    if (c < 0)
        return -1;
    *value = c;
    return 0;
}

static const char *state_name(int state)
{
    return state == PHIEU_BALLOT_VALID     ? "valid"
           : state == PHIEU_BALLOT_INVALID ? "invalid"
                                           : "pending";
}

static const char *form_id(const phieu_report_data *d, int index)
{
    return index >= 0 && index < d->n_forms ? d->forms[index]->id : NULL;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

void report_image_name(const phieu_report_ballot *b, char *out, size_t size)
{
    snprintf(out, size, "images/%s.%s", b->sha256,
             b->unreadable ? "bin" : b->image_tiff ? "tif" : "png");
}

static void append_json(phieu_buf *out, json_t *j, size_t flags)
{
    char *text = j ? json_dumps(j, flags) : NULL;
    if (!text) {
        out->failed = 1;
        return;
    }
    phieu_buf_puts(out, text);
    free(text);
}

void phieu_report_ballot_json(const phieu_report_data *d, const phieu_report_ballot *b,
                              phieu_buf *out)
{
    int shown = b->board_set ? b->board_form : b->read_form;
    const phieu_form *form = b->form_index >= 0 && b->form_index < d->n_forms
                                 ? d->forms[b->form_index]
                                 : (shown >= 0 && shown < d->n_forms ? d->forms[shown] : NULL);
    char image[128];
    report_image_name(b, image, sizeof image);
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(b->id));
    json_object_set_new(j, "form", str_or_null(form_id(d, b->form_index)));
    json_object_set_new(j, "state", json_string(state_name(b->state)));
    if (b->by_board)
        json_object_set_new(j, "counted_by", json_string("board"));
    json_object_set_new(j, "image", json_string(image));
    json_object_set_new(j, "sha256", json_string(b->sha256));
    json_object_set_new(j, "read", json_pack("{s:s, s:o}", "status",
                                             b->unreadable ? "unreadable"
                                                           : phieu_page_status_name(b->page_status),
                                             "form", str_or_null(form_id(d, b->read_form))));
    if (b->board_set)
        json_object_set_new(j, "read_as",
                            json_pack("{s:o, s:s}", "form", str_or_null(form_id(d, b->board_form)),
                                      "status", phieu_page_status_name(b->board_status)));
    if (b->page_decided)
        json_object_set_new(j, "board",
                            json_pack("{s:s, s:s, s:s}", "decision", b->page_decision, "reason",
                                      b->page_reason, "note", b->page_note));
    else if (b->page_open)
        json_object_set_new(j, "review", json_pack("{s:s}", "reason", b->page_reason));
    json_t *rows = json_array();
    for (int r = 0; r < b->n_rows; r++) {
        const phieu_report_row *row = &b->rows[r];
        json_t *scores = json_array();
        int n_choices = form ? form->n_choices : PHIEU_FORM_MAX_CHOICES;
        for (int c = 0; c < n_choices; c++)
            json_array_append_new(scores, json_integer(report_score_units(row->score[c])));
        json_t *jr = json_pack("{s:i, s:s, s:o}", "row", r + 1, "read",
                               report_value_name(form, row->machine), "scores", scores);
        if (row->decided && row->decision[0])
            json_object_set_new(jr, "board",
                                json_pack("{s:s, s:s, s:s}", "decision", row->decision,
                                          "reason", row->reason, "note", row->note));
        else if (row->open)
            json_object_set_new(jr, "review", json_pack("{s:s}", "reason", row->reason));
        if (b->by_board)
            json_object_set_new(jr, "board_read",
                                json_string(report_value_name(form, row->board_read)));
        json_object_set_new(jr, "value", json_string(report_value_name(form, row->value)));
        json_array_append_new(rows, jr);
    }
    json_object_set_new(j, "rows", rows);
    append_json(out, j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
}

static int form_by_id(const phieu_report_data *d, const char *id)
{
    for (int i = 0; id && i < d->n_forms; i++)
        if (strcmp(d->forms[i]->id, id) == 0)
            return i;
    return -1;
}

static void copy_json_text(char *dst, size_t size, json_t *v)
{
    snprintf(dst, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* The page status named `name`, or -1 when it names none. */
static int page_status_parse(const char *name)
{
    int found = -1;
    for (int s = PHIEU_PAGE_COUNTED; name && s <= PHIEU_PAGE_BLANK; s++)
        if (strcmp(name, phieu_page_status_name(s)) == 0)
            found = s;
    return found;
}

/* The record's "read_as": the reading as the form the board set, when it has one. */
static int parse_read_as(const phieu_report_data *d, json_t *j, const char *where,
                         phieu_report_ballot *b, phieu_error *err)
{
    json_t *read_as = json_object_get(j, "read_as");
    if (!read_as)
        return 0;
    b->board_set = 1;
    b->board_form = form_by_id(d, json_string_value(json_object_get(read_as, "form")));
    b->board_status = page_status_parse(json_string_value(json_object_get(read_as, "status")));
    if (!json_is_object(read_as) || b->board_form < 0 || b->board_status < 0)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: ballot %s: 'read_as' (the reading as the form the board "
                               "set) needs a form of the export and a page status",
                               where, b->id);
    return 0;
}

/* The board's decision on the page ("board"), or the exception still open ("review"). */
static void parse_page_board(json_t *j, phieu_report_ballot *b)
{
    json_t *board = json_object_get(j, "board");
    if (json_is_object(board)) {
        b->page_decided = 1;
        copy_json_text(b->page_decision, sizeof b->page_decision,
                       json_object_get(board, "decision"));
        copy_json_text(b->page_reason, sizeof b->page_reason, json_object_get(board, "reason"));
        copy_json_text(b->page_note, sizeof b->page_note, json_object_get(board, "note"));
    } else if (json_is_object(json_object_get(j, "review"))) {
        b->page_open = 1;
        copy_json_text(b->page_reason, sizeof b->page_reason,
                       json_object_get(json_object_get(j, "review"), "reason"));
    }
}

/* Row r of a ballot record: the machine's reading, the value, the scores, the board's
 * reading when the board counted the ballot, and the board's decision or open exception. */
static int parse_row(const phieu_form *form, json_t *jr, const char *where,
                     const phieu_report_ballot *b, int r, phieu_report_row *row, phieu_error *err)
{
    const char *machine = json_string_value(json_object_get(jr, "read"));
    const char *value = json_string_value(json_object_get(jr, "value"));
    json_t *scores = json_object_get(jr, "scores");
    if (!machine || !value || report_value_parse(form, machine, &row->machine) != 0 ||
        report_value_parse(form, value, &row->value) != 0 || !json_is_array(scores) ||
        json_array_size(scores) > PHIEU_FORM_MAX_CHOICES)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: ballot %s row %d: 'read' and 'value' must be a choice "
                               "of the form or blank/overvote/review/invalid/pending, "
                               "'scores' an array of at most %d integers",
                               where, b->id, r + 1, PHIEU_FORM_MAX_CHOICES);
    for (size_t c = 0; c < json_array_size(scores); c++)
        row->score[c] = (float)json_integer_value(json_array_get(scores, c)) / (float)SCORE_SCALE;
    const char *board_read = json_string_value(json_object_get(jr, "board_read"));
    if (b->by_board &&
        (!board_read || report_value_parse(form, board_read, &row->board_read) != 0 ||
         (row->board_read < 0 && row->board_read != PHIEU_ROW_BLANK &&
          row->board_read != PHIEU_ROW_OVERVOTE)))
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: ballot %s row %d: a ballot counted by the board needs "
                               "'board_read', a choice of the form, blank or overvote",
                               where, b->id, r + 1);
    json_t *rb = json_object_get(jr, "board");
    if (json_is_object(rb)) {
        row->decided = 1;
        copy_json_text(row->decision, sizeof row->decision, json_object_get(rb, "decision"));
        copy_json_text(row->reason, sizeof row->reason, json_object_get(rb, "reason"));
        copy_json_text(row->note, sizeof row->note, json_object_get(rb, "note"));
    } else if (json_is_object(json_object_get(jr, "review"))) {
        row->open = 1;
        copy_json_text(row->reason, sizeof row->reason,
                       json_object_get(json_object_get(jr, "review"), "reason"));
    }
    return 0;
}

/* The record's identity and page: id, sha256, image kind, who counted it, its state, the
 * machine's page status and the forms it names. */
static int parse_ballot_page(const phieu_report_data *d, json_t *j, const char *where,
                             phieu_report_ballot *b, phieu_error *err)
{
    const char *id = json_string_value(json_object_get(j, "id"));
    const char *sha = json_string_value(json_object_get(j, "sha256"));
    const char *state = json_string_value(json_object_get(j, "state"));
    json_t *read = json_object_get(j, "read");
    const char *status = json_string_value(json_object_get(read, "status"));
    json_t *rows = json_object_get(j, "rows");
    if (!id || strlen(id) != PHIEU_REPORT_ID_HEX - 1 || !sha ||
        strlen(sha) != PHIEU_SHA256_HEX - 1 || !state || !status || !json_is_array(rows) ||
        json_array_size(rows) > PHIEU_FORM_MAX_ROWS)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: a ballot record needs id (32 hex digits), sha256, state, "
                               "read.status and at most %d rows",
                               where, PHIEU_FORM_MAX_ROWS);
    memcpy(b->id, id, PHIEU_REPORT_ID_HEX);
    memcpy(b->sha256, sha, PHIEU_SHA256_HEX);
    /* The image's name says what it holds; verify finds it by that name. */
    const char *image = json_string_value(json_object_get(j, "image"));
    size_t image_len = image ? strlen(image) : 0;
    b->image_tiff = image_len > 4 && strcmp(image + image_len - 4, ".tif") == 0;
    const char *counted_by = json_string_value(json_object_get(j, "counted_by"));
    b->by_board = counted_by && strcmp(counted_by, "board") == 0;
    if (json_object_get(j, "counted_by") && !b->by_board)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: ballot %s: 'counted_by' is \"board\" or absent", where, id);
    b->state = strcmp(state, "valid") == 0     ? PHIEU_BALLOT_VALID
               : strcmp(state, "invalid") == 0 ? PHIEU_BALLOT_INVALID
                                               : PHIEU_BALLOT_PENDING;
    b->unreadable = strcmp(status, "unreadable") == 0;
    int page_status = page_status_parse(status);
    b->page_status = page_status >= 0 ? page_status : PHIEU_PAGE_REJECTED;
    json_t *jform = json_object_get(j, "form");
    b->form_index = form_by_id(d, json_string_value(jform));
    b->read_form = form_by_id(d, json_string_value(json_object_get(read, "form")));
    if ((json_is_string(jform) && b->form_index < 0))
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: ballot %s names form '%s', which is "
                               "not among the export's forms",
                               where, id, json_string_value(jform));
    return 0;
}

int phieu_report_ballot_parse(const phieu_report_data *d, const char *line, size_t len,
                              const char *where, phieu_report_ballot *b, phieu_error *err)
{
    memset(b, 0, sizeof *b);
    json_error_t jerr;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return phieu_error_set(err, PHIEU_EFORMAT, "%s: not a JSON ballot record (%s)", where,
                               j ? "not an object" : jerr.text);
    }
    int rc = parse_ballot_page(d, j, where, b, err);
    if (rc == 0)
        rc = parse_read_as(d, j, where, b, err);
    if (rc == 0) {
        parse_page_board(j, b);
        const phieu_form *form = b->form_index >= 0  ? d->forms[b->form_index]
                                 : b->board_set      ? d->forms[b->board_form]
                                 : b->read_form >= 0 ? d->forms[b->read_form]
                                                     : NULL;
        json_t *rows = json_object_get(j, "rows");
        b->n_rows = (int)json_array_size(rows);
        for (int r = 0; rc == 0 && r < b->n_rows; r++)
            rc = parse_row(form, json_array_get(rows, (size_t)r), where, b, r, &b->rows[r], err);
    }
    json_decref(j);
    return rc;
}

/* ---- results.json and results.csv ---------------------------------------------------- */

static json_t *thresholds_json(const phieu_thresholds *t)
{
    json_t *j = json_object();
    for (int i = 0; i < PHIEU_TH_COUNT; i++)
        json_object_set_new(j, phieu_threshold_name((phieu_threshold_id)i),
                            json_real(t->value[i]));
    return j;
}

json_t *report_results_tree(const phieu_report_data *d, const phieu_tally *t, int draft)
{
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string("phieu-results/1"));
    json_object_set_new(j, "draft", json_boolean(draft));
    json_object_set_new(j, "test", json_boolean(d->test));
    json_object_set_new(j, "council", json_string(d->council));
    json_object_set_new(j, "session", json_string(d->session_name));
    json_object_set_new(j, "date", json_string(d->date));
    json_object_set_new(j, "place", json_string(d->place));
    json_object_set_new(j, "delegates", json_integer(d->delegates));
    json_t *members = json_array();
    for (int i = 0; i < d->n_members; i++)
        json_array_append_new(members, json_string(d->board_members[i]));
    json_object_set_new(j, "board",
                        json_pack("{s:s, s:s, s:o}", "head", d->board_head, "secretary",
                                  d->board_secretary, "members", members));
    json_object_set_new(j, "rule_set",
                        json_pack("{s:s, s:s, s:s}", "name", d->rules->name, "title",
                                  d->rules->title_vi, "percent_base",
                                  d->rules->base == PHIEU_BASE_COLLECTED ? "collected"
                                                                         : "delegates"));
    json_object_set_new(j, "thresholds", thresholds_json(&d->thresholds));
    json_object_set_new(j, "exceptions",
                        json_pack("{s:i, s:i, s:i}", "total", d->exceptions_total, "decided",
                                  d->exceptions_resolved, "open", d->exceptions_open));
    json_object_set_new(j, "ballots_exported", json_integer((json_int_t)d->n_ballots));
    /* The figures are the tally's to name (unknown_form, provisional, forms). */
    json_t *figures = phieu_tally_results_json(t);
    if (!figures || json_object_update(j, figures) != 0) {
        json_decref(figures);
        json_decref(j);
        return NULL;
    }
    json_decref(figures);
    json_object_set_new(j, "audit_log_head", json_string(d->log_head));
    return j;
}

void phieu_report_results_json(const phieu_report_data *d, const phieu_tally *t, int draft,
                               phieu_buf *out)
{
    json_t *j = report_results_tree(d, t, draft);
    append_json(out, j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    phieu_buf_puts(out, "\n");
    json_decref(j);
}

/* A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_field(phieu_buf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        phieu_buf_puts(out, s);
        return;
    }
    phieu_buf_puts(out, "\"");
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            phieu_buf_puts(out, "\"");
        phieu_buf_append(out, p, 1);
    }
    phieu_buf_puts(out, "\"");
}

void phieu_report_results_csv(const phieu_report_data *d, const phieu_tally *t, phieu_buf *out)
{
    (void)d;
    phieu_buf_puts(out, "form,stt,name,post,issued,collected,percent_base,valid,not_valid,"
                        "pending");
    for (int c = 1; c <= PHIEU_FORM_MAX_CHOICES; c++)
        phieu_buf_printf(out, ",level%d,level%d_count,level%d_percent", c, c, c);
    phieu_buf_puts(out, ",band,band_text\r\n");
    for (int i = 0; i < t->n_forms; i++) {
        const phieu_tally_form *f = &t->forms[i];
        for (int p = 0; p < f->n_persons; p++) {
            const phieu_tally_person *tp = &f->persons[p];
            csv_field(out, f->form->id);
            phieu_buf_printf(out, ",%d,", tp->number);
            csv_field(out, tp->name);
            phieu_buf_puts(out, ",");
            csv_field(out, tp->post);
            phieu_buf_printf(out, ",%d,%d,%d,%d,%d,%d", f->counts.issued, f->counts.collected,
                             f->base, tp->valid, tp->not_valid, tp->pending);
            for (int c = 0; c < PHIEU_FORM_MAX_CHOICES; c++) {
                if (c >= f->form->n_choices) {
                    phieu_buf_puts(out, ",,,");
                    continue;
                }
                char pct[PHIEU_PERCENT_TEXT_MAX];
                phieu_percent_text(tp->percent[c], pct);
                phieu_buf_printf(out, ",%s,%d,", f->form->choices[c].key, tp->count[c]);
                csv_field(out, pct);
            }
            phieu_buf_printf(out, ",%s,", phieu_band_name(tp->band));
            csv_field(out, phieu_band_text(tp->band, "vi"));
            phieu_buf_puts(out, "\r\n");
        }
    }
}

/* ---- Writing the folder ---------------------------------------------------------------- */

static int write_buf(const char *dir, const char *name, const phieu_buf *b, phieu_error *err)
{
    if (b->failed)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory building '%s'", name);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return phieu_write_file_durable(path, b->data ? b->data : "", b->len, err);
}

static int copy_file(const char *from, const char *to, phieu_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = phieu_read_file(from, (size_t)PHIEU_IMAGE_DEFAULT_MAX_BYTES, &data, &len, err);
    if (rc == 0)
        rc = phieu_write_file_durable(to, data, len, err);
    phieu_free(data);
    return rc;
}

/* Adds {path, sha256, bytes} of dir/name to the manifest's file list. */
static int manifest_add(json_t *files, const char *dir, const char *name, phieu_error *err)
{
    char path[4096], hex[PHIEU_SHA256_HEX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    if (stat(path, &st) != 0)
        return phieu_error_set(err, PHIEU_EIO, "cannot stat '%s': %s", path, strerror(errno));
    int rc = phieu_sha256_file(path, hex, err);
    if (rc != 0)
        return rc;
    json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "path", name, "sha256", hex,
                                           "bytes", (json_int_t)st.st_size));
    return 0;
}

static int dir_is_empty_or_absent(const char *dir, phieu_error *err)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        if (errno == ENOENT)
            return 0;
        return phieu_error_set(err, PHIEU_EIO, "cannot open folder '%s': %s", dir,
                               strerror(errno));
    }
    struct dirent *e;
    int empty = 1;
    while ((e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(dp);
    if (!empty)
        return phieu_error_set(err, PHIEU_EEXIST,
                               "'%s' is not empty; give a new folder for the report (an "
                               "export is never written over another)",
                               dir);
    return 0;
}

static int compare_paths(const void *a, const void *b)
{
    const char *pa = json_string_value(json_object_get(*(json_t *const *)a, "path"));
    const char *pb = json_string_value(json_object_get(*(json_t *const *)b, "path"));
    return strcmp(pa, pb);
}

/* forms/ID.form: each form's own text, as the session holds it, so that verify reads the
 * images against exactly these forms. Each is listed in files and described in forms. */
static int write_forms(const phieu_report_data *d, const char *dir, json_t *files,
                       json_t *forms, phieu_error *err)
{
    phieu_buf b;
    phieu_buf_init(&b);
    int rc = 0;
    for (int i = 0; i < d->n_forms && rc == 0; i++) {
        char name[128];
        snprintf(name, sizeof name, "forms/%s.form", d->forms[i]->id);
        phieu_buf_release(&b);
        phieu_buf_puts(&b, d->forms[i]->source);
        rc = write_buf(dir, name, &b, err);
        if (rc == 0)
            rc = manifest_add(files, dir, name, err);
        json_array_append_new(forms, json_pack("{s:s, s:s, s:s}", "id", d->forms[i]->id,
                                               "file", name, "fingerprint",
                                               d->forms[i]->fingerprint_hex));
    }
    phieu_buf_release(&b);
    return rc;
}

/* ballots.jsonl and every ballot's image, with each record's hash in records so verify
 * can name the one that changed. */
static int write_ballots(const phieu_report_data *d, const char *dir, json_t *files,
                         json_t *records, phieu_error *err)
{
    char path[4096];
    phieu_buf b;
    phieu_buf_init(&b);
    int rc = 0;
    for (size_t i = 0; i < d->n_ballots && rc == 0; i++) {
        const phieu_report_ballot *bl = &d->ballots[i];
        size_t start = b.len;
        phieu_report_ballot_json(d, bl, &b);
        if (b.failed)
            break;
        char hex[PHIEU_SHA256_HEX];
        phieu_sha256_hex(b.data + start, b.len - start, hex);
        json_array_append_new(records, json_pack("{s:s, s:s}", "id", bl->id, "sha256", hex));
        phieu_buf_puts(&b, "\n");
        char name[128];
        report_image_name(bl, name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (!bl->image_path) {
            rc = phieu_error_set(err, PHIEU_ENOTFOUND,
                                 "ballot %s: the session does not say where its image is", bl->id);
            break;
        }
        rc = copy_file(bl->image_path, path, err);
        if (rc == 0)
            rc = manifest_add(files, dir, name, err);
    }
    if (rc == 0)
        rc = write_buf(dir, "ballots.jsonl", &b, err);
    if (rc == 0)
        rc = manifest_add(files, dir, "ballots.jsonl", err);
    phieu_buf_release(&b);
    return rc;
}

/* results.json and results.csv. */
static int write_results(const phieu_report_data *d, const phieu_tally *t, const char *dir,
                         const phieu_report_options *opt, json_t *files, phieu_error *err)
{
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_report_results_json(d, t, opt->draft, &b);
    int rc = write_buf(dir, "results.json", &b, err);
    if (rc == 0)
        rc = manifest_add(files, dir, "results.json", err);
    phieu_buf_release(&b);
    phieu_report_results_csv(d, t, &b);
    if (rc == 0)
        rc = write_buf(dir, "results.csv", &b, err);
    if (rc == 0)
        rc = manifest_add(files, dir, "results.csv", err);
    phieu_buf_release(&b);
    return rc;
}

/* The manifest lists files by path, so that it does not depend on the order they were
 * written in. */
static int sort_files(json_t *files, phieu_error *err)
{
    size_t n_files = json_array_size(files);
    json_t **sorted = phieu_malloc((n_files ? n_files : 1) * sizeof *sorted);
    if (!sorted)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_files; i++)
        sorted[i] = json_incref(json_array_get(files, i));
    qsort(sorted, n_files, sizeof *sorted, compare_paths);
    json_array_clear(files);
    for (size_t i = 0; i < n_files; i++)
        json_array_append_new(files, sorted[i]);
    phieu_free(sorted);
    return 0;
}

static json_t *manifest_json(const phieu_report_data *d, const phieu_report_options *opt,
                             json_t *forms, json_t *files, json_t *records)
{
    json_t *manifest = json_object();
    json_object_set_new(manifest, "format", json_string("phieu-manifest/1"));
    json_object_set_new(manifest, "program", json_string("phieu " PHIEU_VERSION));
    json_object_set_new(manifest, "covers",
                        json_string("every file of this folder except minutes.pdf, "
                                    "manifest.json and manifest.sig; the minutes carry this "
                                    "file's SHA-256 and are signed in manifest.sig"));
    json_object_set_new(manifest, "draft", json_boolean(opt->draft));
    json_object_set_new(manifest, "test", json_boolean(d->test));
    json_object_set_new(manifest, "rule_set", json_string(d->rules->name));
    json_object_set_new(manifest, "thresholds", thresholds_json(&d->thresholds));
    json_object_set_new(manifest, "forms", json_incref(forms));
    json_object_set_new(manifest, "files", json_incref(files));
    json_object_set_new(manifest, "ballots", json_incref(records));
    return manifest;
}

/* manifest.sig: the board's signatures over manifest.json (signed already, in
 * manifest_sig) and over minutes.pdf, which carries the manifest's hash. */
static int write_signatures(const phieu_key *key, const char *dir, const char *minutes,
                            const uint8_t manifest_sig[PHIEU_KEY_SIGNATURE_BYTES],
                            phieu_error *err)
{
    uint8_t *pdf = NULL;
    size_t pdf_len = 0;
    int rc;
    if ((rc = phieu_read_file(minutes, (size_t)1 << 30, &pdf, &pdf_len, err)) != 0)
        return rc;
    uint8_t pdf_sig[PHIEU_KEY_SIGNATURE_BYTES];
    rc = phieu_key_sign(key, pdf, pdf_len, pdf_sig, err);
    phieu_free(pdf);
    if (rc != 0)
        return rc;
    char pub_hex[PHIEU_KEY_PUBLIC_HEX];
    phieu_key_public_hex(key, pub_hex);
    char sig1[2 * PHIEU_KEY_SIGNATURE_BYTES + 1], sig2[2 * PHIEU_KEY_SIGNATURE_BYTES + 1];
    phieu_hex(manifest_sig, PHIEU_KEY_SIGNATURE_BYTES, sig1);
    phieu_hex(pdf_sig, sizeof pdf_sig, sig2);
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "%s\npublic-key %s\nmanifest.json %s\nminutes.pdf %s\n",
                     REPORT_SIG_HEADER, pub_hex, sig1, sig2);
    rc = write_buf(dir, "manifest.sig", &b, err);
    phieu_buf_release(&b);
    return rc;
}

/* Everything of a report into the empty folder dir, in this order: forms, ballots and
 * images, results, the manifest over them, the minutes carrying the manifest's hash, and
 * the signatures over both. */
static int write_all(const phieu_report_data *d, const phieu_tally *t, const char *dir,
                     const phieu_report_options *opt, phieu_report_summary *sum,
                     phieu_error *err)
{
    char path[4096];
    int rc;
    snprintf(path, sizeof path, "%s/forms", dir);
    if ((rc = phieu_mkdir_p(path, err)) != 0)
        return rc;
    snprintf(path, sizeof path, "%s/images", dir);
    if ((rc = phieu_mkdir_p(path, err)) != 0)
        return rc;

    json_t *files = json_array();
    json_t *records = json_array();
    json_t *forms = json_array();
    json_t *manifest = NULL;
    phieu_buf b;
    phieu_buf_init(&b);
    rc = write_forms(d, dir, files, forms, err);
    if (rc == 0)
        rc = write_ballots(d, dir, files, records, err);
    if (rc == 0)
        rc = write_results(d, t, dir, opt, files, err);
    if (rc == 0)
        rc = sort_files(files, err);
    if (rc != 0)
        goto done;
    manifest = manifest_json(d, opt, forms, files, records);
    append_json(&b, manifest, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    phieu_buf_puts(&b, "\n");
    if ((rc = write_buf(dir, "manifest.json", &b, err)) != 0)
        goto done;
    phieu_sha256_hex(b.data, b.len, sum->fingerprint);
    uint8_t manifest_sig[PHIEU_KEY_SIGNATURE_BYTES];
    if (opt->key && (rc = phieu_key_sign(opt->key, b.data, b.len, manifest_sig, err)) != 0)
        goto done;

    char pub_hex[PHIEU_KEY_PUBLIC_HEX];
    if (opt->key)
        phieu_key_public_hex(opt->key, pub_hex);
    snprintf(path, sizeof path, "%s/minutes.pdf", dir);
    rc = phieu_report_minutes_pdf(d, t, sum->fingerprint, opt->key ? pub_hex : NULL,
                                  opt->draft, path, &sum->pages, err);
    if (rc != 0 || !opt->key)
        goto done;
    rc = write_signatures(opt->key, dir, path, manifest_sig, err);
    sum->signed_ = rc == 0;
done:
    phieu_buf_release(&b);
    json_decref(files);
    json_decref(records);
    json_decref(forms);
    json_decref(manifest);
    return rc;
}

/* Removes what a failed export wrote: the folder was empty or absent before, so all of
 * it is ours, and a half-written export must not be taken for one (nor block a rerun). */
static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[4096];
            if ((size_t)snprintf(child, sizeof child, "%s/%s", path, e->d_name) < sizeof child)
                remove_tree(child);
        }
        closedir(dir);
    }
    remove(path);
}

int phieu_report_write(const phieu_report_data *d, const char *out_dir,
                       const phieu_report_options *opt, phieu_report_summary *summary,
                       phieu_error *err)
{
    phieu_report_summary local;
    phieu_report_summary *sum = summary ? summary : &local;
    memset(sum, 0, sizeof *sum);
    phieu_report_options none = {0};
    if (!opt)
        opt = &none;
    phieu_tally *t = NULL;
    int rc = phieu_report_tally(d, &t, err);
    if (rc != 0)
        return rc;
    /* The message names the first blocker and how many more: the whole list
     * (phieu_tally_blockers_list) can be longer than an error message holds, and a list cut
     * short would hide what blocks. */
    phieu_blocker blockers[PHIEU_TALLY_MAX_BLOCKERS];
    sum->blockers = phieu_tally_blockers(t, d->exceptions_open, blockers);
    sum->ballots = d->n_ballots;
    if (sum->blockers > 0 && !opt->draft) {
        phieu_buf first;
        phieu_buf_init(&first);
        phieu_tally_blocker_text(t, &blockers[0], &first);
        const char *what = first.data ? first.data : "";
        if (sum->blockers == 1)
            rc = phieu_error_set(err, PHIEU_ESTATE,
                                 "the report cannot be certified yet: %s; resolve it, or "
                                 "write a draft with --draft",
                                 what);
        else
            rc = phieu_error_set(err, PHIEU_ESTATE,
                                 "the report cannot be certified yet: %s; and %d more "
                                 "thing(s) ('phieu status' lists them all); resolve them, or "
                                 "write a draft with --draft",
                                 what, sum->blockers - 1);
        phieu_buf_release(&first);
        goto done;
    }
    if (!opt->draft && !opt->key) {
        rc = phieu_error_set(err, PHIEU_EINVAL,
                             "a final report must be signed with the board's key (make it "
                             "once with 'phieu key new board.key', then give --key)");
        goto done;
    }
    if ((rc = dir_is_empty_or_absent(out_dir, err)) != 0)
        goto done;
    if ((rc = phieu_mkdir_p(out_dir, err)) != 0)
        goto done;
    rc = write_all(d, t, out_dir, opt, sum, err);
    if (rc != 0) {
        remove_tree(out_dir);
        phieu_error_prefix(err, "nothing was exported (the incomplete folder '%s' was "
                                "removed; run the command again): ",
                           out_dir);
    }
done:
    phieu_tally_destroy(&t);
    return rc;
}
