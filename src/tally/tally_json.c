/*
 * tally_json.c - the tally as JSON (jansson): the one place its figures get names for
 * programs. Two documents carry them: the `tally --json` object, which the review screen's
 * totals serve too, and the figures of a report's results.json. Their keys are contracts
 * (docs/session.md, docs/results-schema.md; tests/e2e/json_contracts.sh guards them), so
 * each keeps its own shape; a person's levels are the same in both and written once. The
 * text table is tally.c's; the report's own fields (council, board, log) are report's.
 */
#include <jansson.h>
#include <stdio.h>

#include "phieu/tally.h"

/* A form's text as a JSON string; "" for none (a form's text is checked UTF-8, which
 * json_string needs). */
static json_t *text(const char *s)
{
    return json_string(s ? s : "");
}

static const char *kind_name(const phieu_form *f)
{
    return f->kind == PHIEU_FORM_CONFIDENCE ? "confidence" : "rating";
}

/* Each choice of a person's row: key, label, count, percent in hundredths and as text. */
static json_t *levels_json(const phieu_form *f, const phieu_tally_person *p)
{
    json_t *levels = json_array();
    for (int c = 0; c < f->n_choices; c++) {
        char pct[PHIEU_PERCENT_TEXT_MAX];
        phieu_percent_text(p->percent[c], pct);
        json_array_append_new(levels, json_pack("{s:o, s:o, s:i, s:i, s:s}", "key",
                                                text(f->choices[c].key), "label",
                                                text(f->choices[c].label), "count",
                                                p->count[c], "percent_hundredths",
                                                p->percent[c], "percent", pct));
    }
    return levels;
}

static int valid_ballots(const phieu_tally_form *tf)
{
    return tf->ballots - tf->invalid_ballots - tf->pending_ballots;
}

/* ---- `phieu tally --json` -------------------------------------------------------------- */

static json_t *person_json(const phieu_form *f, const phieu_tally_person *p)
{
    return json_pack("{s:i, s:o, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:o, s:s, s:s, s:s}",
                     "number", p->number, "name", text(p->name), "post", text(p->post),
                     "valid", p->valid, "not_valid", p->not_valid, "blank", p->blank,
                     "overvote", p->overvote, "invalid_ballot", p->invalid_ballot,
                     "decided_invalid", p->decided_invalid, "pending", p->pending, "levels",
                     levels_json(f, p), "band", phieu_band_name(p->band), "band_vi",
                     phieu_band_text(p->band, "vi"), "band_en", phieu_band_text(p->band, "en"));
}

static json_t *form_json(const phieu_tally_form *tf)
{
    const phieu_form *f = tf->form;
    json_t *counts = tf->counts.entered
                         ? json_pack("{s:i, s:i, s:i, s:i}", "present", tf->counts.present,
                                     "issued", tf->counts.issued, "collected",
                                     tf->counts.collected, "spoiled", tf->counts.spoiled)
                         : json_null();
    json_t *persons = json_array();
    for (int r = 0; r < tf->n_persons; r++)
        json_array_append_new(persons, person_json(f, &tf->persons[r]));
    return json_pack("{s:o, s:s, s:o, s:i, s:b, s:i, s:i, s:i, s:i, s:i, s:o}", "form",
                     text(f->id), "kind", kind_name(f), "counts", counts, "base", tf->base,
                     "base_estimated", tf->base_estimated, "ballots", tf->ballots,
                     "valid_ballots", valid_ballots(tf), "invalid_ballots", tf->invalid_ballots,
                     "pending_ballots", tf->pending_ballots, "board_read_ballots",
                     tf->board_read, "persons", persons);
}

json_t *phieu_tally_json(const phieu_tally *t)
{
    json_t *forms = json_array();
    for (int i = 0; i < t->n_forms; i++)
        json_array_append_new(forms, form_json(&t->forms[i]));
    return json_pack("{s:s, s:s, s:i, s:b, s:i, s:i, s:o}", "rules", t->rules->name, "base",
                     t->rules->base == PHIEU_BASE_DELEGATES ? "delegates" : "collected",
                     "delegates", t->delegates, "provisional", t->provisional,
                     "unknown_form_pending", t->unknown_form_pending, "unknown_form_invalid",
                     t->unknown_form_invalid, "forms", forms);
}

/* ---- results.json ---------------------------------------------------------------------- */

static json_t *result_person_json(const phieu_form *f, const phieu_tally_person *p)
{
    return json_pack("{s:i, s:o, s:o, s:i, s:i, s:{s:i, s:i, s:i, s:i}, s:i, s:o, s:s, s:s}",
                     "stt", p->number, "name", text(p->name), "post", text(p->post), "valid",
                     p->valid, "not_valid", p->not_valid, "not_valid_detail", "blank", p->blank,
                     "overvote", p->overvote, "invalid_ballot", p->invalid_ballot,
                     "decided_invalid", p->decided_invalid, "pending", p->pending, "levels",
                     levels_json(f, p), "band", phieu_band_name(p->band), "band_text",
                     phieu_band_text(p->band, "vi"));
}

static json_t *result_form_json(const phieu_tally_form *tf)
{
    const phieu_form *f = tf->form;
    char file[128];
    snprintf(file, sizeof file, "forms/%s.form", f->id);
    json_t *persons = json_array();
    for (int p = 0; p < tf->n_persons; p++)
        json_array_append_new(persons, result_person_json(f, &tf->persons[p]));
    return json_pack("{s:o, s:s, s:o, s:s, s:s, s:{s:b, s:i, s:i, s:i, s:i}, "
                     "s:{s:i, s:i, s:i, s:i}, s:i, s:b, s:o}",
                     "id", text(f->id), "kind", kind_name(f), "title", text(f->title), "file",
                     file, "fingerprint", f->fingerprint_hex, "counts", "entered",
                     tf->counts.entered, "present", tf->counts.present, "issued",
                     tf->counts.issued, "collected", tf->counts.collected, "spoiled",
                     tf->counts.spoiled, "ballots", "read", tf->ballots, "valid",
                     valid_ballots(tf), "invalid", tf->invalid_ballots, "pending",
                     tf->pending_ballots, "percent_base", tf->base, "percent_base_estimated",
                     tf->base_estimated, "persons", persons);
}

json_t *phieu_tally_results_json(const phieu_tally *t)
{
    json_t *forms = json_array();
    for (int i = 0; i < t->n_forms; i++)
        json_array_append_new(forms, result_form_json(&t->forms[i]));
    return json_pack("{s:{s:i, s:i}, s:b, s:o}", "unknown_form", "pending",
                     t->unknown_form_pending, "invalid", t->unknown_form_invalid, "provisional",
                     t->provisional, "forms", forms);
}
