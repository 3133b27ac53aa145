/*
 * tally.c - results by the law's rules: the rule sets as data, percentages in integer
 * hundredths rounded half up, the threshold bands, and the totals per form and person
 * computed from ballots (readings with decisions applied, see decisions.h), what blocks a
 * final report, and the text table. The JSON of the tally is tally_json.c's. Nothing here
 * reads images or the database beyond the session's ballot list.
 */
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/tally.h"

/* NQ 96/2023/QH15 art. 19(3): percentages of the ballots collected; art. 13: more than
 * half low -> may resign, otherwise a vote of confidence; two thirds or more low -> the
 * nominating body proposes dismissal; art. 17: more than half distrust -> dismissal. */
static const phieu_rule_set rules_nq96 = {
    "nq96", "Nghị quyết số 96/2023/QH15", "Resolution 96/2023/QH15", PHIEU_BASE_COLLECTED,
    PHIEU_BAND_MAY_RESIGN_OR_VOTE, PHIEU_BAND_DISMISSAL, PHIEU_BAND_DISMISSAL,
};
/* NQ 85/2014/QH13 art. 12: base is all delegates; more than half low -> may resign; two
 * thirds or more low -> a vote of confidence; more than half distrust -> dismissal. */
static const phieu_rule_set rules_nq85 = {
    "nq85", "Nghị quyết số 85/2014/QH13", "Resolution 85/2014/QH13", PHIEU_BASE_DELEGATES,
    PHIEU_BAND_MAY_RESIGN, PHIEU_BAND_VOTE_OF_CONFIDENCE, PHIEU_BAND_DISMISSAL,
};

const phieu_rule_set *phieu_rules_find(const char *name)
{
    if (!name || strcmp(name, "nq96") == 0)
        return &rules_nq96;
    if (strcmp(name, "nq85") == 0)
        return &rules_nq85;
    return NULL;
}

int phieu_percent_hundredths(long long count, long long base)
{
    if (base <= 0 || count < 0)
        return -1;
    /* count * 10000 / base, rounded half up: (2 * count * 10000 + base) / (2 * base). */
    return (int)((2 * count * 10000 + base) / (2 * base));
}

void phieu_percent_text(int hundredths, char out[PHIEU_PERCENT_TEXT_MAX])
{
    if (hundredths < 0)
        snprintf(out, PHIEU_PERCENT_TEXT_MAX, "—");
    else
        snprintf(out, PHIEU_PERCENT_TEXT_MAX, "%d,%02d%%", hundredths / 100, hundredths % 100);
}

int phieu_tally_band(const phieu_rule_set *rules, phieu_form_kind kind, long long low,
                     long long base)
{
    if (!rules || base <= 0)
        return PHIEU_BAND_NONE;
    if (kind == PHIEU_FORM_CONFIDENCE)
        return 2 * low > base ? rules->confidence_band : PHIEU_BAND_NONE;
    if (3 * low >= 2 * base)
        return rules->two_thirds_band;
    if (2 * low > base)
        return rules->half_band;
    return PHIEU_BAND_NONE;
}

const char *phieu_band_text(int band, const char *lang)
{
    int vi = !lang || strcmp(lang, "en") != 0;
    switch (band) {
    case PHIEU_BAND_MAY_RESIGN_OR_VOTE:
        return vi ? "có thể xin từ chức; nếu không, Hội đồng bỏ phiếu tín nhiệm"
                  : "may resign, otherwise vote of confidence";
    case PHIEU_BAND_MAY_RESIGN:
        return vi ? "có thể xin từ chức" : "may resign";
    case PHIEU_BAND_DISMISSAL:
        return vi ? "cơ quan hoặc người có thẩm quyền giới thiệu phải trình miễn nhiệm"
                  : "nominating body must propose dismissal";
    case PHIEU_BAND_VOTE_OF_CONFIDENCE:
        return vi ? "cơ quan có thẩm quyền trình Hội đồng bỏ phiếu tín nhiệm"
                  : "competent body must propose a vote of confidence";
    default: return "";
    }
}

const char *phieu_band_name(int band)
{
    switch (band) {
    case PHIEU_BAND_MAY_RESIGN_OR_VOTE: return "may-resign-or-vote";
    case PHIEU_BAND_MAY_RESIGN: return "may-resign";
    case PHIEU_BAND_DISMISSAL: return "dismissal";
    case PHIEU_BAND_VOTE_OF_CONFIDENCE: return "vote-of-confidence";
    default: return "none";
    }
}

/* The level whose count decides the band: "low" on a rating ballot, "distrust" on a vote
 * of confidence; the last choice when the form names it otherwise. */
static int low_choice(const phieu_form *f)
{
    int i = phieu_form_choice_index(f, f->kind == PHIEU_FORM_CONFIDENCE ? "distrust" : "low");
    return i >= 0 ? i : f->n_choices - 1;
}

/* The tally's forms and their persons, in the forms' order, with no vote counted yet. */
static void tally_init_forms(phieu_tally *t, const phieu_tally_input *in)
{
    for (int i = 0; i < in->n_forms; i++) {
        phieu_tally_form *tf = &t->forms[i];
        const phieu_form *f = in->forms[i];
        tf->form = f;
        if (in->counts)
            tf->counts = in->counts[i];
        tf->n_persons = f->n_rows;
        for (int r = 0; r < f->n_rows; r++) {
            phieu_tally_person *p = &tf->persons[r];
            p->number = f->rows[r].number;
            p->name = f->rows[r].name;
            p->post = f->rows[r].post;
            p->low_choice = low_choice(f);
        }
    }
}

/* Counts one row's value v of a ballot in state `state` for person p. */
static void count_row(phieu_tally *t, const phieu_tally_form *tf, phieu_tally_person *p,
                      int state, int v)
{
    if (state == PHIEU_BALLOT_INVALID)
        p->invalid_ballot++;
    else if (state == PHIEU_BALLOT_PENDING)
        p->pending++;
    else if (v == PHIEU_ROW_PENDING) {
        p->pending++;
        t->pending_rows++;
    }
    else if (v >= 0 && v < tf->form->n_choices)
        p->count[v]++;
    else if (v == PHIEU_ROW_BLANK)
        p->blank++;
    else if (v == PHIEU_ROW_OVERVOTE)
        p->overvote++;
    else if (v == PHIEU_ROW_DECIDED_INVALID)
        p->decided_invalid++;
    else {
        p->pending++;
        t->pending_rows++;
    }
}

/* Counts ballot b: under its form, or as a sheet of unknown form. */
static void count_ballot(phieu_tally *t, const phieu_ballot *b)
{
    if (b->form_index < 0 || b->form_index >= t->n_forms) {
        if (b->state == PHIEU_BALLOT_INVALID)
            t->unknown_form_invalid++;
        else
            t->unknown_form_pending++;
        return;
    }
    phieu_tally_form *tf = &t->forms[b->form_index];
    tf->ballots++;
    if (b->state == PHIEU_BALLOT_INVALID)
        tf->invalid_ballots++;
    if (b->state == PHIEU_BALLOT_PENDING)
        tf->pending_ballots++;
    if (b->state == PHIEU_BALLOT_VALID && b->by_board)
        tf->board_read++;
    for (int r = 0; r < tf->n_persons; r++)
        count_row(t, tf, &tf->persons[r], b->state,
                  r < b->n_rows ? b->value[r] : PHIEU_ROW_PENDING);
}

/* The form's base under the rules, and each person's valid votes, percentages and band;
 * 1 when a person's count is still pending. */
static int tally_finish_form(const phieu_tally_input *in, phieu_tally_form *tf)
{
    int pending = 0;
    if (in->rules->base == PHIEU_BASE_DELEGATES) {
        tf->base = in->delegates;
    } else if (tf->counts.entered) {
        tf->base = tf->counts.collected;
    } else {
        tf->base = tf->ballots;
        tf->base_estimated = 1;
    }
    for (int r = 0; r < tf->n_persons; r++) {
        phieu_tally_person *p = &tf->persons[r];
        p->valid = 0;
        for (int c = 0; c < tf->form->n_choices; c++) {
            p->valid += p->count[c];
            p->percent[c] = phieu_percent_hundredths(p->count[c], tf->base);
        }
        for (int c = tf->form->n_choices; c < PHIEU_FORM_MAX_CHOICES; c++)
            p->percent[c] = -1;
        p->not_valid = p->blank + p->overvote + p->invalid_ballot + p->decided_invalid;
        p->band =
            phieu_tally_band(in->rules, tf->form->kind, p->count[p->low_choice], tf->base);
        if (p->pending)
            pending = 1;
    }
    return pending;
}

int phieu_tally_compute(const phieu_tally_input *in, phieu_tally **out, phieu_error *err)
{
    *out = NULL;
    if (!in || !in->rules || in->n_forms < 0 || in->n_forms > PHIEU_SESSION_MAX_FORMS ||
        (in->n_ballots > 0 && !in->ballots))
        return phieu_error_set(err, PHIEU_EINVAL, "tally: incomplete input");
    phieu_tally *t = phieu_calloc(1, sizeof *t);
    if (!t)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory computing the tally");
    t->rules = in->rules;
    t->delegates = in->delegates;
    t->n_forms = in->n_forms;
    tally_init_forms(t, in);
    for (size_t k = 0; k < in->n_ballots; k++)
        count_ballot(t, &in->ballots[k]);
    int provisional = t->unknown_form_pending > 0;
    for (int i = 0; i < t->n_forms; i++)
        if (tally_finish_form(in, &t->forms[i]))
            provisional = 1;
    t->provisional = provisional;
    *out = t;
    return 0;
}

int phieu_tally_from_session(phieu_session *s, phieu_tally **out, phieu_error *err)
{
    *out = NULL;
    const phieu_session_info *info = phieu_session_get_info(s);
    const phieu_rule_set *rules = phieu_rules_find(info->rules);
    if (!rules)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "session '%s' names an unknown rule set '%s'", info->path,
                               info->rules);
    /* The counts are read now, not when the handle was opened: the board may enter them
     * from another process while a review screen keeps its handle open. */
    phieu_board_counts counts[PHIEU_SESSION_MAX_FORMS];
    if (phieu_session_counts_get(s, counts, err) != 0)
        return err->code;
    phieu_ballot *ballots;
    size_t n;
    if (phieu_session_ballots(s, &ballots, &n, err) != 0)
        return err->code;
    phieu_tally_input in = {rules, info->delegates, info->n_forms, info->forms, counts,
                            ballots, n};
    int rc = phieu_tally_compute(&in, out, err);
    phieu_free(ballots);
    return rc;
}

void phieu_tally_reconcile(const phieu_tally *t, phieu_reconciliation *out)
{
    memset(out, 0, sizeof *out);
    out->n_forms = t->n_forms;
    out->unknown_form = t->unknown_form_invalid;
    out->all_entered = 1;
    out->read_total = t->unknown_form_invalid;
    int differs = t->unknown_form_invalid > 0;
    for (int i = 0; i < t->n_forms; i++) {
        const phieu_tally_form *tf = &t->forms[i];
        phieu_reconcile_form *rf = &out->forms[i];
        rf->entered = tf->counts.entered;
        rf->read = tf->ballots;
        out->read_total += tf->ballots;
        if (!rf->entered) {
            out->all_entered = 0;
            continue;
        }
        rf->collected = tf->counts.collected;
        rf->difference = rf->read - rf->collected;
        out->collected_total += rf->collected;
        rf->checked = 1;
        if (rf->difference != 0)
            differs = 1;
    }
    out->reconciled = out->all_entered && !differs;
}

/* ---- Readiness ---------------------------------------------------------------------- */

int phieu_tally_blockers(const phieu_tally *t, int exceptions_open,
                         phieu_blocker out[PHIEU_TALLY_MAX_BLOCKERS])
{
    int n = 0;
#define BLOCK(k, f, c, r, col)                                                               \
    do {                                                                                     \
        if (out)                                                                             \
            out[n] = (phieu_blocker){.kind = (k), .form = (f), .count = (c), .read = (r),    \
                                     .collected = (col)};                                    \
        n++;                                                                                 \
    } while (0)
    if (exceptions_open > 0)
        BLOCK(PHIEU_BLOCK_EXCEPTIONS_OPEN, -1, exceptions_open, 0, 0);
    if (t->pending_rows > 0)
        BLOCK(PHIEU_BLOCK_PENDING_ROWS, -1, t->pending_rows, 0, 0);
    if (t->unknown_form_pending > 0)
        BLOCK(PHIEU_BLOCK_UNKNOWN_FORM, -1, t->unknown_form_pending, 0, 0);
    phieu_reconciliation rec;
    phieu_tally_reconcile(t, &rec);
    for (int i = 0; i < t->n_forms; i++) {
        const phieu_reconcile_form *rf = &rec.forms[i];
        if (t->forms[i].pending_ballots > 0)
            BLOCK(PHIEU_BLOCK_PENDING_BALLOTS, i, t->forms[i].pending_ballots, 0, 0);
        if (!rf->entered)
            BLOCK(PHIEU_BLOCK_COUNTS_MISSING, i, 0, 0, 0);
        else if (rf->difference < 0)
            BLOCK(PHIEU_BLOCK_SHEETS_MISSING, i, -rf->difference, rf->read, rf->collected);
        else if (rf->difference > 0)
            BLOCK(PHIEU_BLOCK_SHEETS_EXTRA, i, rf->difference, rf->read, rf->collected);
    }
    if (rec.unknown_form > 0)
        BLOCK(PHIEU_BLOCK_INVALID_NO_FORM, -1, rec.unknown_form, 0, 0);
#undef BLOCK
    return n;
}

const char *phieu_blocker_name(int kind)
{
    switch (kind) {
    case PHIEU_BLOCK_EXCEPTIONS_OPEN: return "exceptions-open";
    case PHIEU_BLOCK_PENDING_ROWS: return "pending-rows";
    case PHIEU_BLOCK_UNKNOWN_FORM: return "unknown-form";
    case PHIEU_BLOCK_PENDING_BALLOTS: return "pending-ballots";
    case PHIEU_BLOCK_COUNTS_MISSING: return "counts-missing";
    case PHIEU_BLOCK_SHEETS_MISSING: return "sheets-missing";
    case PHIEU_BLOCK_SHEETS_EXTRA: return "sheets-extra";
    case PHIEU_BLOCK_INVALID_NO_FORM: return "invalid-no-form";
    default: return "unknown";
    }
}

void phieu_tally_blocker_text(const phieu_tally *t, const phieu_blocker *b, phieu_buf *out)
{
    const phieu_form *f = b->form >= 0 && b->form < t->n_forms ? t->forms[b->form].form : NULL;
    const char *id = f ? f->id : "?", *title = f ? f->title : "?";
    switch (b->kind) {
    case PHIEU_BLOCK_EXCEPTIONS_OPEN:
        phieu_buf_printf(out, "%d exception(s) still open: resolve them with 'phieu review' "
                              "or 'phieu decide'",
                         b->count);
        break;
    case PHIEU_BLOCK_PENDING_ROWS:
        phieu_buf_printf(out, "%d row(s) of counted ballots still await the board's decision",
                         b->count);
        break;
    case PHIEU_BLOCK_UNKNOWN_FORM:
        phieu_buf_printf(out, "%d page(s) whose form is not known await the board's decision",
                         b->count);
        break;
    case PHIEU_BLOCK_PENDING_BALLOTS:
        phieu_buf_printf(out, "form '%s': %d ballot(s) still pending", id, b->count);
        break;
    case PHIEU_BLOCK_COUNTS_MISSING:
        phieu_buf_printf(out, "form '%s': the board's counts (present, issued, collected) are "
                              "not entered: run 'phieu session counts'",
                         id);
        break;
    case PHIEU_BLOCK_SHEETS_MISSING:
        phieu_buf_printf(out, "form '%s' (%s): %d sheet(s) read but the board counted %d "
                              "collected: find the %d missing sheet(s) and scan them, or "
                              "correct the collected count with 'phieu session counts'",
                         id, title, b->read, b->collected, b->count);
        break;
    case PHIEU_BLOCK_SHEETS_EXTRA:
        phieu_buf_printf(out, "form '%s' (%s): %d sheet(s) read but the board counted %d "
                              "collected: find the %d extra sheet(s) (fed twice, or of another "
                              "form: 'phieu exceptions'), or correct the collected count with "
                              "'phieu session counts'",
                         id, title, b->read, b->collected, b->count);
        break;
    case PHIEU_BLOCK_INVALID_NO_FORM:
        phieu_buf_printf(out, "%d sheet(s) decided invalid as a whole name no form, so they "
                              "count in no form: the head of the board decides each again as "
                              "'invalid:FORM' (the form it was collected under)",
                         b->count);
        break;
    }
}

int phieu_tally_blockers_list(const phieu_tally *t, int exceptions_open, phieu_buf *list)
{
    phieu_blocker b[PHIEU_TALLY_MAX_BLOCKERS];
    int n = phieu_tally_blockers(t, exceptions_open, b);
    for (int i = 0; list && i < n; i++) {
        phieu_buf_puts(list, "  - ");
        phieu_tally_blocker_text(t, &b[i], list);
        phieu_buf_puts(list, "\n");
    }
    return n;
}

void phieu_tally_destroy(phieu_tally **t)
{
    if (!t || !*t)
        return;
    phieu_free(*t);
    *t = NULL;
}

/* ---- Output ------------------------------------------------------------------------- */

/* Appends s padded with spaces to `width` characters (UTF-8 code points, not bytes, so
 * Vietnamese names line up); a longer s is written whole. */
static void pad(phieu_buf *b, const char *s, int width)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80)
            chars++;
    phieu_buf_puts(b, s);
    for (; chars < width; chars++)
        phieu_buf_puts(b, " ");
}

/* One form's table: a line a person, the valid, invalid and pending counts, each
 * choice's count and percentage, and the person's band. */
static void form_table_text(const phieu_tally_form *tf, const char *lang, int vi, phieu_buf *b)
{
    const phieu_form *f = tf->form;
    phieu_buf_puts(b, "STT  ");
    pad(b, vi ? "Họ và tên" : "Name", 28);
    phieu_buf_printf(b, " %6s %6s %5s", vi ? "HL" : "valid", vi ? "KHL" : "inval",
                     vi ? "chờ" : "pend");
    for (int c = 0; c < f->n_choices; c++) {
        phieu_buf_puts(b, "  ");
        pad(b, vi ? f->choices[c].label : f->choices[c].key, 17);
    }
    phieu_buf_puts(b, "\n");
    for (int r = 0; r < tf->n_persons; r++) {
        const phieu_tally_person *p = &tf->persons[r];
        phieu_buf_printf(b, "%-4d ", p->number);
        pad(b, p->name, 28);
        phieu_buf_printf(b, " %6d %6d %5d", p->valid, p->not_valid, p->pending);
        for (int c = 0; c < f->n_choices; c++) {
            char pct[PHIEU_PERCENT_TEXT_MAX];
            phieu_percent_text(p->percent[c], pct);
            phieu_buf_printf(b, "  %5d %-11s", p->count[c], pct);
        }
        if (p->band != PHIEU_BAND_NONE)
            phieu_buf_printf(b, "  → %s", phieu_band_text(p->band, lang));
        phieu_buf_puts(b, "\n");
    }
}

void phieu_tally_text(const phieu_tally *t, const char *lang, phieu_buf *b)
{
    int vi = !lang || strcmp(lang, "en") != 0;
    phieu_buf_printf(b, "%s: %s (%s)\n", vi ? "Quy định" : "Rules",
                     vi ? t->rules->title_vi : t->rules->title_en,
                     t->rules->base == PHIEU_BASE_DELEGATES
                         ? (vi ? "tỷ lệ trên tổng số đại biểu" : "percent of all delegates")
                         : (vi ? "tỷ lệ trên số phiếu thu về" : "percent of ballots collected"));
    if (t->provisional)
        phieu_buf_puts(b, vi ? "KẾT QUẢ TẠM THỜI: còn phiếu chờ xem xét\n"
                             : "PROVISIONAL: some ballots await a decision\n");
    if (t->unknown_form_pending)
        phieu_buf_printf(b, vi ? "%d trang chưa xác định mẫu phiếu (chờ xem xét)\n"
                               : "%d pages of unknown form (pending)\n",
                         t->unknown_form_pending);
    for (int i = 0; i < t->n_forms; i++) {
        const phieu_tally_form *tf = &t->forms[i];
        const phieu_form *f = tf->form;
        phieu_buf_printf(b, "\n%s %s — %s\n", vi ? "Mẫu" : "Form", f->id, f->title);
        int valid = tf->ballots - tf->invalid_ballots - tf->pending_ballots;
        if (tf->counts.entered)
            phieu_buf_printf(b,
                             vi ? "Có mặt %d, phát ra %d, thu về %d, hỏng/đổi %d\n"
                                : "Present %d, issued %d, collected %d, spoiled %d\n",
                             tf->counts.present, tf->counts.issued, tf->counts.collected,
                             tf->counts.spoiled);
        else
            phieu_buf_puts(b, vi ? "Ban kiểm phiếu chưa nhập số phiếu\n"
                                 : "The board has not entered its counts\n");
        phieu_buf_printf(b,
                         vi ? "Đã đọc %d phiếu = %d hợp lệ + %d không hợp lệ + %d chờ\n"
                            : "%d ballots read = %d valid + %d invalid + %d pending\n",
                         tf->ballots, valid, tf->invalid_ballots, tf->pending_ballots);
        if (tf->counts.entered && tf->counts.collected != tf->ballots)
            phieu_buf_printf(b,
                             vi ? "CHÊNH LỆCH: thu về %d nhưng đã đọc %d phiếu\n"
                                : "DIFFERENCE: %d collected but %d ballots read\n",
                             tf->counts.collected, tf->ballots);
        if (tf->base_estimated)
            phieu_buf_puts(b, vi ? "(tỷ lệ tạm tính trên số phiếu đã đọc)\n"
                                 : "(percentages taken of the ballots read until the board "
                                   "enters the collected count)\n");
        form_table_text(tf, lang, vi, b);
    }
}
