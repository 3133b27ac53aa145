/*
 * wording.c - the words of the minutes as data: reads a wording file (forms/minutes/
 * vi.minutes is the program's own, built in; a province may give its own with
 * `phieu report --wording FILE`) into the texts minutes.c lays out. A text's {name}
 * placeholders become the positional printf conversions of the arguments minutes.c
 * passes for that key, so a province may reorder or repeat them. The layout (minutes.c)
 * holds no text; the file format is described at the top of vi.minutes.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "report/report_internal.h"

/* The built-in wording: forms/minutes/vi.minutes, embedded by cmake/embed.cmake. */
#include "minutes_wording.h"

/* One text of the file: where it goes, and the arguments minutes.c passes with it, in
 * order, as "name:conversion" ("hour:s", "count:d", "number:zu"). No arguments: the text
 * is used as it is, never as a format, so a '%' in it is an ordinary character. */
typedef struct key_spec {
    const char *section, *key;
    size_t offset; /* of the const char * in phieu_wording */
    const char *args;
} key_spec;

/* clang-format off */
#define TX(k, a) {"minutes", #k, offsetof(phieu_wording, tx.k), a}
#define KIND(s, k, a) {#s, #k, offsetof(phieu_wording, s.k), a}
#define BAND(k, i) {"bands", #k, offsetof(phieu_wording, bands[i]), ""}
static const key_spec specs[] = {
    TX(nation, ""), TX(motto, ""), TX(issuer, ""), TX(number, ""),
    TX(date_line, "place:s day:s month:s year:s"), TX(title, ""),
    TX(subject_mixed, "council:s"), TX(blank, ""),
    TX(opening, "hour:s minute:s day:s month:s year:s place:s session:s council:s"),
    TX(board_line, "number:d name:s role:s"), TX(role_head, ""), TX(role_secretary, ""),
    TX(role_member, ""), TX(not_entered, ""), TX(after_board, "rules:s"),
    TX(delegates, "delegates:d present:s"), TX(issued, "issued:s collected:s"),
    TX(valid, "valid:d invalid:d"), TX(spoiled, "spoiled:d"), TX(pending, "pending:d"),
    TX(board_read, "count:d"), TX(difference, "collected:d read:d"),
    TX(results_intro, "base:s"), TX(col_number, ""), TX(col_name, ""), TX(col_post, ""),
    TX(col_valid, ""), TX(col_level, "label:s"), TX(col_pending, "pending:d"),
    TX(consequences_intro, ""),
    TX(person_band, "name:s post:s count:d low_words:s percent:s base:s"),
    TX(base_collected, ""), TX(base_delegates, ""), TX(exceptions, "decided:d"),
    TX(complaints, ""), TX(copies, ""), TX(closed, "hour:s minute:s"), TX(closed_blank, ""),
    TX(sign_for, ""), TX(sign_head, ""), TX(sign_secretary, ""), TX(sign_member, ""),
    TX(sign_hint, ""), TX(draft_mark, ""), TX(draft_line, ""),
    TX(draft_difference, "form:s collected:d read:d"), TX(test_session, ""),
    TX(appendix_title, ""), TX(appendix_intro, ""), TX(fingerprint, "fingerprint:s"),
    TX(public_key, "key:s"), {"minutes", "unsigned", offsetof(phieu_wording, tx.unsigned_), ""},
    TX(rules, "rules:s base:s"), TX(form_line, "title:s id:s fingerprint:s"),
    TX(thresholds, "marked:s marginal:s ink:s"),
    TX(exceptions_detail, "total:d decided:d open:d"), TX(overrides_title, ""),
    TX(override_line,
       "number:zu case:lld reason:s where:s user:s earlier:s time:s note:s"),
    TX(override_row, "row:d"), TX(override_page, ""), TX(program, "version:s"),
    TX(how_to_verify, ""), TX(page_footer, "fingerprint:s"), TX(page_count, "page:d pages:d"),
    KIND(rating, subject, "council:s"), KIND(rating, low_words, ""), KIND(rating, none, ""),
    KIND(confidence, subject, "council:s"), KIND(confidence, low_words, ""),
    KIND(confidence, none, ""),
    BAND(may_resign_or_vote, PHIEU_BAND_MAY_RESIGN_OR_VOTE),
    BAND(may_resign, PHIEU_BAND_MAY_RESIGN), BAND(dismissal, PHIEU_BAND_DISMISSAL),
    BAND(vote_of_confidence, PHIEU_BAND_VOTE_OF_CONFIDENCE),
};
/* clang-format on */
#define N_SPECS (sizeof specs / sizeof specs[0])
#define WORDING_MAX_BYTES (1 << 20)
#define MAX_ARGS 10

static const char **slot(phieu_wording *w, const key_spec *k)
{
    return (const char **)((char *)w + k->offset);
}

/* The index (1-based) of placeholder `name` (len bytes) among a key's arguments, its
 * conversion in conv; 0 when the key has no such argument. */
static int arg_index(const char *args, const char *name, size_t len, char conv[8])
{
    int i = 0;
    for (const char *p = args; *p;) {
        const char *colon = strchr(p, ':'), *end = strchr(p, ' ');
        if (!end)
            end = p + strlen(p);
        i++;
        if ((size_t)(colon - p) == len && strncmp(p, name, len) == 0) {
            snprintf(conv, 8, "%.*s", (int)(end - colon - 1), colon + 1);
            return i;
        }
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* Writes the text of key k, as the file gives it, into out as minutes.c will use it: for
 * a key with arguments a printf format whose conversions are positional ("%3$s"), '%' as
 * "%%"; "\n" as a line break in every text. */
static int translate(const key_spec *k, const char *text, const char *file, int line,
                     phieu_buf *out, phieu_error *err)
{
    if (out->failed)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s'", file);
    int has_args = k->args[0] != '\0', used[MAX_ARGS + 1] = {0};
    for (const char *p = text; *p; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            phieu_buf_puts(out, "\n");
            p++;
        } else if (*p == '%' && has_args) {
            phieu_buf_puts(out, "%%");
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            char conv[8];
            int i = close ? arg_index(k->args, p + 1, (size_t)(close - p - 1), conv) : 0;
            if (!i)
                return phieu_error_set(err, PHIEU_EFORMAT,
                                       "%s:%d: '%s' cannot use '%.*s'; its names are: %s", file,
                                       line, k->key, close ? (int)(close - p + 1) : 1, p,
                                       has_args ? k->args : "(none)");
            phieu_buf_printf(out, "%%%d$%s", i, conv);
            used[i] = 1;
            p = close;
        } else {
            phieu_buf_append(out, p, 1);
        }
    }
    /* Every argument must be consumed (positional printf leaves no gaps): a text name
     * left out is printed with no width; a number cannot be, so it must be there. */
    int i = 0;
    for (const char *p = k->args; *p;) {
        const char *colon = strchr(p, ':'), *end = strchr(p, ' ');
        if (!end)
            end = p + strlen(p);
        i++;
        if (!used[i]) {
            if (strncmp(colon + 1, "s", (size_t)(end - colon - 1)) != 0)
                return phieu_error_set(err, PHIEU_EFORMAT,
                                       "%s:%d: '%s' must say {%.*s} (a number the minutes "
                                       "print there)",
                                       file, line, k->key, (int)(colon - p), p);
            phieu_buf_printf(out, "%%%d$.0s", i);
        }
        p = *end ? end + 1 : end;
    }
    phieu_buf_append(out, "", 1); /* each text ends in its own NUL */
    return 0;
}

/* The value of "key = value" lines and their continuations, as found while reading. */
typedef struct found {
    int line; /* 0: not seen */
    phieu_buf text;
} found;

/* The spec of key `key` (len bytes) in [section], or -1. */
static int find_key(const char *section, const char *key, size_t len)
{
    int match = -1;
    for (size_t i = 0; i < N_SPECS; i++)
        if (strcmp(specs[i].section, section) == 0 && strlen(specs[i].key) == len &&
            strncmp(specs[i].key, key, len) == 0)
            match = (int)i;
    return match;
}

/* Every key was given, and read whole. */
static int check_all_found(const found *seen, const char *file, phieu_error *err)
{
    for (size_t i = 0; i < N_SPECS; i++)
        if (seen[i].text.failed)
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s'", file);
    for (size_t i = 0; i < N_SPECS; i++)
        if (!seen[i].line)
            return phieu_error_set(err, PHIEU_EFORMAT,
                                   "%s: [%s] has no '%s'; copy it from forms/minutes/vi.minutes",
                                   file, specs[i].section, specs[i].key);
    return 0;
}

static int parse(const char *data, size_t len, const char *file, found *seen, phieu_error *err)
{
    char section[32] = "";
    int current = -1, line = 0;
    for (size_t at = 0; at < len;) {
        const char *s = data + at, *nl = memchr(s, '\n', len - at);
        size_t n = nl ? (size_t)(nl - s) : len - at;
        at += n + 1;
        line++;
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (s[0] == ' ' || s[0] == '\t') { /* continues the text above */
            while (n && (*s == ' ' || *s == '\t'))
                s++, n--;
            if (current < 0)
                return phieu_error_set(err, PHIEU_EFORMAT,
                                       "%s:%d: an indented line continues a text, but no "
                                       "text comes before it",
                                       file, line);
            phieu_buf_puts(&seen[current].text, " ");
            phieu_buf_append(&seen[current].text, s, n);
            continue;
        }
        if (s[0] == '[') {
            if (s[n - 1] != ']' || n - 2 >= sizeof section)
                return phieu_error_set(err, PHIEU_EFORMAT,
                                       "%s:%d: a section is a name in brackets, e.g. [minutes]",
                                       file, line);
            snprintf(section, sizeof section, "%.*s", (int)(n - 2), s + 1);
            current = -1;
            continue;
        }
        const char *eq = memchr(s, '=', n);
        if (!eq)
            return phieu_error_set(err, PHIEU_EFORMAT,
                                   "%s:%d: expected 'key = text', a [section] or a comment", file,
                                   line);
        const char *kend = eq;
        while (kend > s && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        const char *v = eq + 1;
        while (v < s + n && (*v == ' ' || *v == '\t'))
            v++;
        current = find_key(section, s, (size_t)(kend - s));
        if (current < 0)
            return phieu_error_set(err, PHIEU_EFORMAT,
                                   "%s:%d: unknown key '%.*s' in [%s]; the keys are those of "
                                   "forms/minutes/vi.minutes",
                                   file, line, (int)(kend - s), s, section);
        if (seen[current].line)
            return phieu_error_set(err, PHIEU_EFORMAT,
                                   "%s:%d: '%s' is already given on line %d; keep one", file, line,
                                   specs[current].key, seen[current].line);
        seen[current].line = line;
        phieu_buf_append(&seen[current].text, v, (size_t)(s + n - v));
    }
    return check_all_found(seen, file, err);
}

int phieu_wording_parse(const char *data, size_t len, const char *file, phieu_wording **out,
                        phieu_error *err)
{
    *out = NULL;
    found seen[N_SPECS];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < N_SPECS; i++)
        phieu_buf_init(&seen[i].text);
    phieu_buf all;
    phieu_buf_init(&all);
    size_t starts[N_SPECS];
    int rc = parse(data, len, file, seen, err);
    for (size_t i = 0; rc == 0 && i < N_SPECS; i++) {
        starts[i] = all.len;
        rc = translate(&specs[i], seen[i].text.data ? seen[i].text.data : "", file, seen[i].line,
                       &all, err);
    }
    phieu_wording *w = NULL;
    if (rc == 0 && (all.failed || !(w = phieu_calloc(1, sizeof *w))))
        rc = phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s'", file);
    if (rc == 0) {
        w->storage = all.data; /* the texts, each NUL-terminated, one after another */
        all.data = NULL;
        w->bands[PHIEU_BAND_NONE] = "";
        for (size_t i = 0; i < N_SPECS; i++)
            *slot(w, &specs[i]) = w->storage + starts[i];
        *out = w;
    }
    for (size_t i = 0; i < N_SPECS; i++)
        phieu_buf_release(&seen[i].text);
    phieu_buf_release(&all);
    return rc;
}

int phieu_wording_load(const char *path, phieu_wording **out, phieu_error *err)
{
    *out = NULL;
    if (!path)
        return phieu_wording_parse((const char *)minutes_wording, sizeof minutes_wording - 1,
                                   "forms/minutes/vi.minutes (built in)", out, err);
    uint8_t *data = NULL;
    size_t len = 0;
    if (phieu_read_file(path, WORDING_MAX_BYTES, &data, &len, err) != 0)
        return err->code;
    int rc = phieu_wording_parse((const char *)data, len, path, out, err);
    phieu_free(data);
    return rc;
}

void phieu_wording_destroy(phieu_wording **w)
{
    if (!w || !*w)
        return;
    phieu_free((*w)->storage);
    phieu_free(*w);
    *w = NULL;
}
