/*
 * parse.c - reads a ballot form definition (forms/NAME.form, see docs/forms.md), checks it
 * line by line with "file:line:column: what; how to fix" messages, and computes its
 * canonical text and fingerprint. It never prints and never crashes on any input.
 * Page geometry is layout.c; the bits of the form code are code.c.
 *
 * Functions: phieu_form_parse, phieu_form_load, phieu_form_destroy, phieu_form_canonical,
 *            phieu_form_choice_index.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "form/form_internal.h"
#include "phieu/alloc.h"
#include "phieu/util.h"

/* A form is a page of text; a megabyte is far beyond any real one. */
#define FORM_FILE_MAX_BYTES (1u << 20)
/* A form's display name is read in lists and table headings beside the council: about
 * the length of "Phiếu HĐND huyện An Thạnh, kỳ họp 11" with room to spare. */
#define FORM_NAME_MAX_CHARS 60
/* Longest quote of the user's text inside an error message (bytes). */
#define QUOTE_MAX 60

enum { K_ID, K_KIND, K_COUNCIL, K_SESSION, K_TITLE, K_INSTRUCTION, K_HEADER_COUNT };
static const char *const header_keys[K_HEADER_COUNT] = {"id",      "kind",  "council",
                                                        "session", "title", "instruction"};
static const char *const header_examples[K_HEADER_COUNT] = {
    "id: district-rating", "kind: rating", "council: HỘI ĐỒNG NHÂN DÂN HUYỆN ...",
    "session: Kỳ họp thứ ...", "title: PHIẾU LẤY PHIẾU TÍN NHIỆM",
    "instruction: Đánh dấu X vào một ô ở mỗi dòng"};

/* The default choices of each kind (NQ 96/2023/QH15, art. 12 and 17). */
static const phieu_choice rating_choices[3] = {
    {"high", "Tín nhiệm cao"}, {"trust", "Tín nhiệm"}, {"low", "Tín nhiệm thấp"}};
static const phieu_choice confidence_choices[2] = {{"trust", "Tín nhiệm"},
                                                   {"distrust", "Không tín nhiệm"}};
#define MAX_OVERRIDES 8

typedef struct pos {
    int line, col;
} pos;

typedef struct row_info {
    pos row, name, post;
} row_info;

typedef struct parser {
    const char *file;
    phieu_error *err;
    phieu_form *form;
    int have[K_HEADER_COUNT];
    pos header_pos[K_HEADER_COUNT];
    int n_over;
    char over_key[MAX_OVERRIDES][PHIEU_FORM_KEY_MAX];
    char *over_label[MAX_OVERRIDES];
    pos over_pos[MAX_OVERRIDES];
    int in_row;
    row_info rows[PHIEU_FORM_MAX_ROWS];
    phieu_buf post; /* the current row's posts joined with "; " */
    int any_line;   /* a line that is not blank or a comment was seen */
} parser;

/* Copies at most QUOTE_MAX bytes of s into out, cut at a character boundary, "..." added
 * when cut. */
static const char *quote(const char *s, char out[QUOTE_MAX + 4])
{
    size_t n = strlen(s);
    if (n <= QUOTE_MAX) {
        memcpy(out, s, n + 1);
        return out;
    }
    n = QUOTE_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
    return out;
}

static int fail(parser *p, pos at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *p, pos at, const char *fmt, ...)
{
    char msg[PHIEU_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return phieu_error_set(p->err, PHIEU_EFORMAT, "%s:%d:%d: %s", p->file, at.line, at.col, msg);
}

static int oom(parser *p)
{
    return phieu_error_set(p->err, PHIEU_ENOMEM, "%s: out of memory while reading the form",
                           p->file);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is invalid
 * (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* 1-based character column of byte offset `off` in a line already checked as UTF-8. */
static int char_col(const char *line, size_t off)
{
    int col = 1;
    for (size_t i = 0; i < off; i++)
        if (((unsigned char)line[i] & 0xC0) != 0x80)
            col++;
    return col;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* A value: trimmed, runs of spaces and tabs collapsed to one space. */
static char *clean_value(const char *s, size_t n)
{
    char *out = phieu_malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_space(s[i])) {
            if (o > 0 && !is_space(s[i - 1]))
                out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
    return out;
}

static int valid_id(const char *id)
{
    if (!id[0] || id[0] == '-')
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return 0;
    return 1;
}

static const phieu_choice *kind_choices(phieu_form_kind kind, int *n)
{
    *n = kind == PHIEU_FORM_CONFIDENCE ? 2 : 3;
    return kind == PHIEU_FORM_CONFIDENCE ? confidence_choices : rating_choices;
}

static int known_choice_key(const char *key)
{
    return strcmp(key, "high") == 0 || strcmp(key, "trust") == 0 || strcmp(key, "low") == 0 ||
           strcmp(key, "distrust") == 0;
}

/* Ends the row being read: it needs a name and a post. */
static int close_row(parser *p)
{
    if (!p->in_row)
        return 0;
    p->in_row = 0;
    int r = p->form->n_rows - 1;
    phieu_form_row *row = &p->form->rows[r];
    if (!row->name)
        return fail(p, p->rows[r].row,
                    "row %d has no name; add a line 'name: <full name>' under 'row:'",
                    row->number);
    if (p->post.len == 0)
        return fail(p, p->rows[r].row,
                    "row %d ('%s') has no post; add a line 'post: <post>' under the name "
                    "(one 'post:' line per post)",
                    row->number, row->name);
    if (p->post.failed)
        return oom(p);
    row->post = p->post.data;
    phieu_buf_init(&p->post);
    return 0;
}

static int on_row(parser *p, const char *value, pos vpos, pos kpos)
{
    int rc = close_row(p);
    if (rc)
        return rc;
    phieu_form *f = p->form;
    if (f->n_rows == PHIEU_FORM_MAX_ROWS)
        return fail(p, kpos,
                    "too many rows: one ballot page holds at most %d; split the list into "
                    "several forms, one per group of posts (e.g. council posts and people's "
                    "committee posts), each with its own id",
                    PHIEU_FORM_MAX_ROWS);
    int expected = f->n_rows + 1;
    if (value[0]) {
        int number = 0;
        for (const char *c = value; *c; c++) {
            if (*c < '0' || *c > '9' || number > 1000)
                return fail(p, vpos,
                            "row number '%.20s' is not a number; write 'row: %d' or just "
                            "'row:' to number rows in order",
                            value, expected);
            number = number * 10 + (*c - '0');
        }
        for (int r = 0; r < f->n_rows; r++)
            if (f->rows[r].number == number)
                return fail(p, vpos,
                            "duplicate row number %d (already used at line %d); number rows "
                            "1, 2, 3... in order, or write just 'row:'",
                            number, p->rows[r].row.line);
        if (number != expected)
            return fail(p, vpos,
                        "row number %d is out of order: this is row %d; number rows 1, 2, "
                        "3... in the order they are printed, or write just 'row:'",
                        number, expected);
    }
    f->rows[f->n_rows].number = expected;
    p->rows[f->n_rows].row = kpos;
    f->n_rows++;
    p->in_row = 1;
    phieu_buf_release(&p->post);
    return 0;
}

/* The form's short display name (before the first row), e.g. "Phiếu HĐND huyện": what the
 * review screen and the minutes call the form. Not printed on the ballot. */
static int on_form_name(parser *p, char *value, pos vpos, pos kpos)
{
    phieu_form *f = p->form;
    if (f->name)
        return fail(p, kpos, "duplicate form name: a form has one 'name:' before its rows");
    if (!value[0])
        return fail(p, vpos,
                    "missing value after 'name:'; write the form's short name, e.g. 'name: "
                    "Phiếu HĐND huyện'");
    size_t chars = 0;
    for (const unsigned char *c = (const unsigned char *)value; *c; c++)
        chars += (*c & 0xc0) != 0x80;
    if (chars > FORM_NAME_MAX_CHARS)
        return fail(p, vpos,
                    "the form's name has %zu characters, more than %d: it is a short name "
                    "for screens and lists; shorten it",
                    chars, FORM_NAME_MAX_CHARS);
    f->name = phieu_strdup(value);
    return f->name ? 0 : oom(p);
}

static int on_name(parser *p, char *value, pos vpos, pos kpos)
{
    char q[QUOTE_MAX + 4];
    phieu_form *f = p->form;
    if (!p->in_row && f->n_rows == 0)
        return on_form_name(p, value, vpos, kpos);
    if (!p->in_row)
        return fail(p, kpos,
                    "'name:' outside a row; start each person with a line 'row:' (the form's "
                    "own short name goes before the first row)");
    int r = f->n_rows - 1;
    if (f->rows[r].name)
        return fail(p, kpos,
                    "row %d already has a name (line %d); a row is one person: start the "
                    "next person with 'row:'",
                    f->rows[r].number, p->rows[r].name.line);
    if (!value[0])
        return fail(p, vpos, "missing name after 'name:'; write the person's full name");
    for (int i = 0; i < r; i++)
        if (strcmp(f->rows[i].name, value) == 0)
            return fail(p, vpos,
                        "duplicate row: '%s' is already row %d (line %d); a person appears "
                        "in one row: put all their posts under that row, one 'post:' line "
                        "each",
                        quote(value, q), f->rows[i].number, p->rows[i].row.line);
    f->rows[r].name = phieu_strdup(value);
    if (!f->rows[r].name)
        return oom(p);
    p->rows[r].name = vpos;
    return 0;
}

static int on_post(parser *p, const char *value, pos vpos, pos kpos)
{
    if (!p->in_row)
        return fail(p, kpos, "'post:' outside a row; start each person with a line 'row:'");
    if (!value[0])
        return fail(p, vpos, "missing post after 'post:'; write the post, e.g. 'post: Chủ "
                             "tịch Hội đồng nhân dân'");
    int r = p->form->n_rows - 1;
    if (p->post.len == 0)
        p->rows[r].post = vpos;
    else
        phieu_buf_puts(&p->post, "; ");
    phieu_buf_puts(&p->post, value);
    return p->post.failed ? oom(p) : 0;
}

static int on_header(parser *p, int k, char *value, pos vpos, pos kpos)
{
    phieu_form *f = p->form;
    if (p->have[k])
        return fail(p, kpos, "duplicate key '%s' (first at line %d); keep one of them",
                    header_keys[k], p->header_pos[k].line);
    if (!value[0])
        return fail(p, vpos, "missing value after '%s:'; write it on the same line, e.g. '%s'",
                    header_keys[k], header_examples[k]);
    p->have[k] = 1;
    p->header_pos[k] = vpos;
    char **slot = NULL;
    switch (k) {
    case K_ID:
        if (!valid_id(value))
            return fail(p, vpos,
                        "id '%.40s' may use only a-z, 0-9 and '-' (not first); e.g. "
                        "'id: district-rating'",
                        value);
        if (strlen(value) > FORM_ID_MAX)
            return fail(p, vpos,
                        "id is %zu characters, more than %d (it is printed beside the form "
                        "code); shorten it",
                        strlen(value), FORM_ID_MAX);
        slot = &f->id;
        break;
    case K_KIND:
        if (strcmp(value, "rating") == 0)
            f->kind = PHIEU_FORM_RATING;
        else if (strcmp(value, "confidence") == 0)
            f->kind = PHIEU_FORM_CONFIDENCE;
        else
            return fail(p, vpos,
                        "unknown kind '%.40s'; write 'kind: rating' (lấy phiếu tín nhiệm, "
                        "three levels) or 'kind: confidence' (bỏ phiếu tín nhiệm, two)",
                        value);
        return 0;
    case K_COUNCIL: slot = &f->council; break;
    case K_SESSION: slot = &f->session; break;
    case K_TITLE: slot = &f->title; break;
    default: slot = &f->instruction; break;
    }
    *slot = phieu_strdup(value);
    return *slot ? 0 : oom(p);
}

static int on_choice(parser *p, const char *key, size_t key_len, char *value, pos vpos,
                     pos kpos)
{
    char k[PHIEU_FORM_KEY_MAX];
    if (key_len == 0 || key_len >= sizeof k)
        return fail(p, kpos,
                    "'choice' needs a key: write e.g. 'choice high: Tín nhiệm cao' (keys: "
                    "high, trust, low; distrust for a confidence vote)");
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    if (!known_choice_key(k))
        return fail(p, kpos,
                    "unknown choice '%s'; the choices are high, trust, low (rating) and "
                    "trust, distrust (confidence)",
                    k);
    for (int i = 0; i < p->n_over; i++)
        if (strcmp(p->over_key[i], k) == 0)
            return fail(p, kpos, "duplicate label for choice '%s' (first at line %d); keep one",
                        k, p->over_pos[i].line);
    if (!value[0])
        return fail(p, vpos, "missing label after 'choice %s:'; write the text to print", k);
    if (strlen(value) >= PHIEU_FORM_LABEL_MAX)
        return fail(p, vpos, "label of choice '%s' is %zu bytes, more than %d; shorten it", k,
                    strlen(value), PHIEU_FORM_LABEL_MAX - 1);
    char *label = phieu_strdup(value);
    if (!label)
        return oom(p);
    memcpy(p->over_key[p->n_over], k, key_len + 1);
    p->over_label[p->n_over] = label;
    p->over_pos[p->n_over] = vpos;
    p->n_over++;
    return 0;
}

/* Refuses an unknown key: one that is known but for its case is told to be lower
 * case. */
static int unknown_key(parser *p, const char *key, size_t klen, pos kpos)
{
    char q[QUOTE_MAX + 4], kbuf[QUOTE_MAX + 1], lower[QUOTE_MAX + 1];
    size_t m = klen < QUOTE_MAX ? klen : QUOTE_MAX;
    memcpy(kbuf, key, m);
    kbuf[m] = '\0';
    for (size_t i = 0; i <= m; i++)
        lower[i] = (kbuf[i] >= 'A' && kbuf[i] <= 'Z') ? (char)(kbuf[i] + 32) : kbuf[i];
    int known = strcmp(lower, "row") == 0 || strcmp(lower, "name") == 0 ||
                strcmp(lower, "post") == 0 || strncmp(lower, "choice", 6) == 0;
    for (int h = 0; h < K_HEADER_COUNT; h++)
        known |= strcmp(lower, header_keys[h]) == 0;
    if (known && strcmp(lower, kbuf) != 0)
        return fail(p, kpos, "unknown key '%s'; keys are lower case: write '%s:'",
                    quote(kbuf, q), lower);
    return fail(p, kpos,
                "unknown key '%s'; the keys are id, kind, council, session, title, "
                "instruction, choice <key>, row, name and post (see docs/forms.md)",
                quote(kbuf, q));
}

/* One line that is not blank and not a comment. `line` is the whole line (checked UTF-8,
 * no control characters), `n` its length. */
static int parse_line(parser *p, const char *line, size_t n, int lineno)
{
    size_t ks = 0;
    while (ks < n && is_space(line[ks]))
        ks++;
    const char *colon = memchr(line + ks, ':', n - ks);
    pos kpos = {lineno, char_col(line, ks)};
    if (!colon)
        return fail(p, kpos,
                    "expected 'key: value' but this line has no ':'; write e.g. 'name: "
                    "Nguyễn Văn An', or start a comment with '#'");
    size_t ke = (size_t)(colon - line);
    while (ke > ks && is_space(line[ke - 1]))
        ke--;
    size_t vs = (size_t)(colon - line) + 1;
    while (vs < n && is_space(line[vs]))
        vs++;
    pos vpos = {lineno, char_col(line, vs)};
    char *value = clean_value(line + vs, n - vs);
    if (!value)
        return oom(p);
    const char *key = line + ks;
    size_t klen = ke - ks;
    int rc;
    if (klen >= 6 && memcmp(key, "choice", 6) == 0 && (klen == 6 || is_space(key[6]))) {
        size_t cs = 6;
        while (cs < klen && is_space(key[cs]))
            cs++;
        rc = on_choice(p, key + cs, klen - cs, value, vpos, kpos);
    } else if (klen == 3 && memcmp(key, "row", 3) == 0) {
        rc = on_row(p, value, vpos, kpos);
    } else if (klen == 4 && memcmp(key, "name", 4) == 0) {
        rc = on_name(p, value, vpos, kpos);
    } else if (klen == 4 && memcmp(key, "post", 4) == 0) {
        rc = on_post(p, value, vpos, kpos);
    } else {
        int k = 0;
        while (k < K_HEADER_COUNT &&
               !(strlen(header_keys[k]) == klen && memcmp(header_keys[k], key, klen) == 0))
            k++;
        if (k < K_HEADER_COUNT) {
            rc = on_header(p, k, value, vpos, kpos);
        } else {
            rc = unknown_key(p, key, klen, kpos);
        }
    }
    phieu_free(value);
    return rc;
}

/* Checks a line's bytes: UTF-8 (byte column on error) and no control characters. */
static int check_bytes(parser *p, const char *line, size_t n, int lineno)
{
    const unsigned char *u = (const unsigned char *)line;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_len(u + i, n - i);
        if (len == 0) {
            pos at = {lineno, (int)i + 1};
            return fail(p, at,
                        "invalid UTF-8 (byte 0x%02X at byte column %zu); save the file as "
                        "UTF-8 (in most editors: Save As, encoding UTF-8)",
                        u[i], i + 1);
        }
        if (len == 1 && ((u[i] < 0x20 && u[i] != '\t') || u[i] == 0x7F)) {
            pos at = {lineno, char_col(line, i)};
            return fail(p, at, "control character U+%04X in the text; delete it", u[i]);
        }
        /* Combining diacritics U+0300..U+036F (UTF-8 CC 80..CD AF): a decomposed letter.
         * Every Vietnamese letter has a precomposed form; requiring it keeps one spelling
         * per name, so duplicates are found and the fingerprint is stable. */
        if (len == 2 && (u[i] == 0xCC || (u[i] == 0xCD && u[i + 1] <= 0xAF))) {
            unsigned cp = ((u[i] & 0x1Fu) << 6) | (u[i + 1] & 0x3Fu);
            pos at = {lineno, char_col(line, i)};
            return fail(p, at,
                        "combining mark U+%04X: the letter before it is typed decomposed; "
                        "retype it or save the text precomposed (Unicode NFC, e.g. Unikey "
                        "with the 'Unicode dựng sẵn' table)",
                        cp);
        }
        i += len;
    }
    return 0;
}

/* The form's choices: its kind's, with the labels the form gives them instead. */
static int apply_choice_labels(parser *p)
{
    phieu_form *f = p->form;
    int n;
    const phieu_choice *defaults = kind_choices(f->kind, &n);
    f->n_choices = n;
    memcpy(f->choices, defaults, sizeof(phieu_choice) * (size_t)n);
    for (int i = 0; i < p->n_over; i++) {
        int c = phieu_form_choice_index(f, p->over_key[i]);
        if (c < 0)
            return fail(p, p->over_pos[i],
                        "choice '%s' is not one of a %s form's choices (%s); remove the line "
                        "or change 'kind:'",
                        p->over_key[i], f->kind == PHIEU_FORM_RATING ? "rating" : "confidence",
                        f->kind == PHIEU_FORM_RATING ? "high, trust, low" : "trust, distrust");
        memcpy(f->choices[c].label, p->over_label[i], strlen(p->over_label[i]) + 1);
    }
    return 0;
}

/* Whether every text fits its place on the page: each one's width estimated in its font
 * against the room the layout gives it. */
static int check_text_fits(parser *p)
{
    phieu_form *f = p->form;
    char q[QUOTE_MAX + 4];
    form_metrics m;
    form_metrics_compute(f->kind, f->n_rows, &m);
    struct {
        const char *what, *text;
        pos at;
        double pt, width;
        int lines, bold;
    } fits[K_HEADER_COUNT + 2 * PHIEU_FORM_MAX_ROWS + PHIEU_FORM_MAX_CHOICES];
    int nf = 0;
#define FIT(w_, t_, at_, pt_, width_, lines_, bold_)                                          \
    do {                                                                                     \
        fits[nf].what = w_, fits[nf].text = t_, fits[nf].at = at_, fits[nf].pt = pt_;        \
        fits[nf].width = width_, fits[nf].lines = lines_, fits[nf].bold = bold_, nf++;       \
    } while (0)
    FIT("council", f->council, p->header_pos[K_COUNCIL], FORM_COUNCIL_PT, m.council_w, 2, 1);
    FIT("session", f->session, p->header_pos[K_SESSION], FORM_SESSION_PT, m.session_w, 1, 0);
    FIT("title", f->title, p->header_pos[K_TITLE], FORM_TITLE_PT, m.title_w, 1, 1);
    FIT("instruction", f->instruction, p->header_pos[K_INSTRUCTION], FORM_INSTRUCTION_PT,
        m.instruction_w, 2, 0);
    for (int i = 0; i < p->n_over; i++) {
        int c = phieu_form_choice_index(f, p->over_key[i]);
        FIT("choice label", f->choices[c].label, p->over_pos[i], FORM_LABEL_PT, m.label_w, 2,
            1);
    }
    for (int r = 0; r < f->n_rows; r++) {
        /* Names are printed bold (src/render/): estimate them bold. */
        FIT("name", f->rows[r].name, p->rows[r].name, m.font_pt, m.name_w, 2, 1);
        FIT("post", f->rows[r].post, p->rows[r].post, m.font_pt, m.post_w, 2, 0);
    }
#undef FIT
    for (int i = 0; i < nf; i++) {
        double need = form_text_width_mm(fits[i].text, fits[i].pt, fits[i].bold);
        double room = form_text_capacity_mm(fits[i].width, fits[i].lines);
        if (need > room)
            return fail(p, fits[i].at,
                        "%s '%s' is too long to fit its place: about %.0f mm of text at %.0f "
                        "pt, room for %.0f mm (%d line%s of %.0f mm)%s; shorten it or "
                        "abbreviate",
                        fits[i].what, quote(fits[i].text, q), need, fits[i].pt, room,
                        fits[i].lines, fits[i].lines > 1 ? "s" : "", fits[i].width,
                        (strcmp(fits[i].what, "name") == 0 || strcmp(fits[i].what, "post") == 0)
                            ? " with this many rows"
                            : "");
    }
    return 0;
}

static int finish(parser *p)
{
    phieu_form *f = p->form;
    pos top = {1, 1};
    if (!p->any_line)
        return fail(p, top,
                    "the form is empty; write the keys id, kind, council, session, title, "
                    "instruction and one 'row:' block per person (see docs/forms.md)");
    for (int k = 0; k < K_HEADER_COUNT; k++)
        if (!p->have[k])
            return fail(p, top, "missing required key '%s'; add a line like '%s'",
                        header_keys[k], header_examples[k]);
    if (f->n_rows == 0)
        return fail(p, top,
                    "the form has no rows; add one block per person: 'row:', 'name: ...', "
                    "'post: ...'");
    int rc = apply_choice_labels(p);
    return rc != 0 ? rc : check_text_fits(p);
}

static void release_parser(parser *p)
{
    for (int i = 0; i < p->n_over; i++)
        phieu_free(p->over_label[i]);
    phieu_buf_release(&p->post);
}

/* Parses the text line by line (after a byte-order mark some editors write), skipping
 * blank lines and comments. */
static int parse_lines(parser *p, const char *text, size_t len)
{
    size_t i = 0;
    int lineno = 0, rc = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (rc == 0 && i < len) {
        lineno++;
        const char *line = text + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t n = nl ? (size_t)(nl - line) : len - i;
        i += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        rc = check_bytes(p, line, n, lineno);
        if (rc)
            break;
        size_t s = 0;
        while (s < n && is_space(line[s]))
            s++;
        if (s == n || line[s] == '#')
            continue;
        p->any_line = 1;
        rc = parse_line(p, line, n, lineno);
    }
    return rc;
}

/* The form's fingerprint: the SHA-256 of its canonical text. */
static int fingerprint(phieu_form *f, phieu_error *err)
{
    char *canon = NULL;
    int rc = phieu_form_canonical(f, &canon, err);
    if (rc == 0) {
        phieu_sha256(canon, strlen(canon), f->fingerprint);
        phieu_hex(f->fingerprint, sizeof f->fingerprint, f->fingerprint_hex);
        phieu_free(canon);
    }
    return rc;
}

int phieu_form_parse(const char *text, size_t len, const char *filename, phieu_form **out,
                     phieu_error *err)
{
    if (out)
        *out = NULL;
    if (!out || (!text && len > 0))
        return phieu_error_set(err, PHIEU_EINVAL, "form parse: no text or no output given");
    int rc = phieu_util_init(err);
    if (rc)
        return rc;
    parser p;
    memset(&p, 0, sizeof p);
    p.file = filename && filename[0] ? filename : "<form>";
    p.err = err;
    phieu_buf_init(&p.post);
    p.form = phieu_calloc(1, sizeof *p.form);
    if (!p.form)
        return oom(&p);
    p.form->source = phieu_malloc(len + 1);
    if (!p.form->source) {
        phieu_form_destroy(&p.form);
        return oom(&p);
    }
    if (len)
        memcpy(p.form->source, text, len);
    p.form->source[len] = '\0';

    rc = parse_lines(&p, text, len);
    if (rc == 0)
        rc = close_row(&p);
    if (rc == 0)
        rc = finish(&p);
    if (rc == 0)
        rc = fingerprint(p.form, err);
    release_parser(&p);
    if (rc) {
        phieu_form_destroy(&p.form);
        return rc;
    }
    *out = p.form;
    return 0;
}

int phieu_form_load(const char *path, phieu_form **out, phieu_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return phieu_error_set(err, PHIEU_EINVAL, "form load: no path or no output given");
    /* A device, a folder or a pipe is there but is no form: invalid input, like an empty
     * file, not an I/O failure. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s' is not a form file (not a regular file); give the path "
                               "of a .form text file (see docs/forms.md)",
                               path);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = phieu_read_file(path, FORM_FILE_MAX_BYTES, &data, &len, err);
    if (rc)
        return rc;
    rc = phieu_form_parse((const char *)data, len, path, out, err);
    phieu_free(data);
    return rc;
}

void phieu_form_destroy(phieu_form **form)
{
    if (!form || !*form)
        return;
    phieu_form *f = *form;
    phieu_free(f->id);
    phieu_free(f->council);
    phieu_free(f->session);
    phieu_free(f->title);
    phieu_free(f->instruction);
    phieu_free(f->name);
    for (int r = 0; r < PHIEU_FORM_MAX_ROWS; r++) {
        phieu_free(f->rows[r].name);
        phieu_free(f->rows[r].post);
    }
    phieu_free(f->source);
    phieu_free(f);
    *form = NULL;
}

/* Notes:
 *  1. One field per line, "key <byte length>:<value>", so that no value can be confused
 *     with the next field whatever characters it holds; the first line names the version
 *     of this serialization, so that a future change cannot collide with it.
 *  2. What is printed or read is in it (id, kind, texts, every choice's key and label,
 *     rows in order with number, name and posts); comments and spacing are not. */
int phieu_form_canonical(const phieu_form *form, char **text, phieu_error *err)
{
    if (!form || !text)
        return phieu_error_set(err, PHIEU_EINVAL, "form canonical: no form given");
    *text = NULL;
    phieu_buf b;
    phieu_buf_init(&b);
#define FIELD(k, v)                                                                          \
    do {                                                                                     \
        const char *v_ = (v) ? (v) : "";                                                     \
        phieu_buf_printf(&b, "%s %zu:", k, strlen(v_));                                      \
        phieu_buf_puts(&b, v_);                                                              \
        phieu_buf_puts(&b, "\n");                                                            \
    } while (0)
    phieu_buf_puts(&b, "phieu-form 1\n");
    FIELD("id", form->id);
    FIELD("kind", form->kind == PHIEU_FORM_CONFIDENCE ? "confidence" : "rating");
    FIELD("council", form->council);
    FIELD("session", form->session);
    FIELD("title", form->title);
    FIELD("instruction", form->instruction);
    for (int c = 0; c < form->n_choices && c < PHIEU_FORM_MAX_CHOICES; c++) {
        FIELD("choice", form->choices[c].key);
        FIELD("label", form->choices[c].label);
    }
    for (int r = 0; r < form->n_rows && r < PHIEU_FORM_MAX_ROWS; r++) {
        phieu_buf_printf(&b, "row %d\n", form->rows[r].number);
        FIELD("name", form->rows[r].name);
        FIELD("post", form->rows[r].post);
    }
#undef FIELD
    if (b.failed || !b.data) {
        phieu_buf_release(&b);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory writing the canonical form");
    }
    *text = b.data;
    return 0;
}

int phieu_form_choice_index(const phieu_form *form, const char *key)
{
    if (!form || !key)
        return -1;
    for (int c = 0; c < form->n_choices && c < PHIEU_FORM_MAX_CHOICES; c++)
        if (strcmp(form->choices[c].key, key) == 0)
            return c;
    return -1;
}
