/*
 * score_duplicates.c - how well phieu_omr_ink_similarity tells a rescan of one paper sheet
 * from another sheet marked the same way. Reads every page of a deck and, for each page
 * that has a rescan (same file name, .png, in the rescan folder), scores the pair; scores
 * every pair of different pages of one form whose row decisions are equal (other hands,
 * same pattern), and every rescan against the other pages. Prints detection and false
 * alarm rates at the threshold and the score spread. Run by bench/duplicates.sh (not
 * named bench_* so that `make bench` does not run it without its folders); it does not
 * make the deck or the rescans, and fails only when it cannot read its input.
 * With --strokes it applies the session's whole rule: the grids, then for pages of little
 * ink the strokes at full resolution (phieu_omr_stroke_similarity). A rescan the reader
 * rejects for its form code is read as its own page's form, as the session compares it
 * once the board sets its form ("form:<id>").
 *   usage: score_duplicates --forms DIR --deck DIR --rescans DIR [--threshold T] [--strokes]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/omr.h"
#include "phieu/session.h"
#include "phieu/util.h"

#define MAX_FORMS 8
#define MAX_PAGES 4096
/* Pairs listed by name at the end of each section, for a person to look at. */
#define SHOW_WORST 5

typedef struct page {
    char name[256];
    phieu_reading rd;
    char pattern[PHIEU_FORM_MAX_ROWS + 1];
    int usable; /* registered, a form, not rejected, some ink */
    int has_rescan;
    phieu_reading rescan;
    char rescan_pattern[PHIEU_FORM_MAX_ROWS + 1];
    phieu_omr_strokes *strokes, *rescan_strokes; /* --strokes: full-resolution strokes */
} page;

/* The session's rule (src/session/pages.c, find_rescan): the 8x8 ink grids at or above
 * the threshold; with --strokes also, for a pair the grids cannot decide
 * (phieu_omr_strokes_decide), the strokes at full resolution at or above
 * PHIEU_SESSION_DEFAULT_STROKE_SIMILARITY. *dup says whether the pair is held; the score
 * returned is the one decided on (grid or strokes). */
static int use_strokes, strokes_consulted;
static double threshold = PHIEU_SESSION_DEFAULT_DUPLICATE_SIMILARITY;

static double score_pair(const phieu_reading *ra, const phieu_omr_strokes *sa,
                         const phieu_reading *rb, const phieu_omr_strokes *sb, int *dup)
{
    double g = phieu_omr_ink_similarity(ra, rb);
    *dup = g >= threshold;
    if (use_strokes && !*dup && phieu_omr_strokes_decide(ra, rb)) {
        strokes_consulted++;
        double st = phieu_omr_stroke_similarity(sa, sb);
        *dup = st >= PHIEU_SESSION_DEFAULT_STROKE_SIMILARITY;
        return st;
    }
    return g;
}

static double score(const page *p, int p_rescan, const page *q, int *dup)
{
    return score_pair(p_rescan ? &p->rescan : &p->rd, p_rescan ? p->rescan_strokes : p->strokes,
                      &q->rd, q->strokes, dup);
}

/* A rescan the reader rejected because its form code is unreadable or names no form given
 * is never compared when it is fed; the board then sets its form ("form:<id>") and the
 * session compares the page read as that form (phieu_session_decide_confirm). So is it
 * scored here: read again as its own page's form `form` (phieu_omr_read_as), counted in
 * *n. 0, or the reader's error. */
static int read_as_own_form(const phieu_omr_config *cfg, int form, const phieu_image *img,
                            phieu_reading *rd, int *n, phieu_error *err)
{
    int code = 0;
    for (int i = 0; i < rd->n_reasons; i++)
        code |= strcmp(rd->reasons[i].code, PHIEU_REASON_CODE_UNREADABLE) == 0 ||
                strcmp(rd->reasons[i].code, PHIEU_REASON_WRONG_FORM) == 0;
    if (rd->status != PHIEU_PAGE_REJECTED || form < 0 || !code)
        return 0;
    (*n)++;
    return phieu_omr_read_as(cfg, form, img, rd, err);
}

/* The marks a page's pattern shows: one per row with a choice or under review, two per
 * overvoted row. */
static int pattern_marks(const char *p)
{
    int n = 0;
    for (; *p; p++)
        n += *p == 'o' ? 2 : *p != 'b';
    return n;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int ends_with(const char *s, const char *e)
{
    size_t n = strlen(s), m = strlen(e);
    return n >= m && strcmp(s + n - m, e) == 0;
}

typedef struct worst {
    double score;
    int a, b;
} worst;

/* Keeps the SHOW_WORST pairs with the highest (high=1) or lowest scores. */
static void keep(worst *w, int *n, double score, int a, int b, int high)
{
    int k;
    if (*n < SHOW_WORST)
        k = (*n)++;
    else if (high ? score > w[SHOW_WORST - 1].score : score < w[SHOW_WORST - 1].score)
        k = SHOW_WORST - 1;
    else
        return;
    w[k] = (worst){score, a, b};
    for (; k > 0 && (high ? w[k].score > w[k - 1].score : w[k].score < w[k - 1].score); k--) {
        worst t = w[k];
        w[k] = w[k - 1];
        w[k - 1] = t;
    }
}

/* A growing list of scores. */
typedef struct scores {
    double *v;
    long n, cap;
} scores;

static void push(scores *s, double x)
{
    if (s->n == s->cap) {
        long cap = s->cap ? 2 * s->cap : 1024;
        double *v = phieu_realloc(s->v, sizeof(double) * (size_t)cap);
        if (!v) {
            fprintf(stderr, "score_duplicates: out of memory\n");
            exit(1);
        }
        s->v = v, s->cap = cap;
    }
    s->v[s->n++] = x;
}

static void spread(const char *what, double *v, long n)
{
    if (n == 0) {
        printf("  %s: none\n", what);
        return;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    printf("  %s: min %.3f  5%% %.3f  median %.3f  95%% %.3f  max %.3f\n", what, v[0],
           v[n * 5 / 100], v[n / 2], v[n * 95 / 100], v[n - 1]);
}

int main(int argc, char **argv)
{
    const char *forms_dir = NULL, *deck = NULL, *rescans = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--strokes") == 0) {
            use_strokes = 1;
            memmove(&argv[i], &argv[i + 1], sizeof *argv * (size_t)(argc - i));
            argc--;
            break;
        }
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--forms") == 0)
            forms_dir = argv[i + 1];
        else if (strcmp(argv[i], "--deck") == 0)
            deck = argv[i + 1];
        else if (strcmp(argv[i], "--rescans") == 0)
            rescans = argv[i + 1];
        else if (strcmp(argv[i], "--threshold") == 0)
            threshold = atof(argv[i + 1]);
    }
    if (!forms_dir || !deck || !rescans) {
        fprintf(stderr, "usage: score_duplicates --forms DIR --deck DIR --rescans DIR "
                        "[--threshold T] [--strokes]\n");
        return 2;
    }
    phieu_error err = {0};
    if (phieu_util_init(&err) != 0) {
        fprintf(stderr, "score_duplicates: %s\n", err.message);
        return 1;
    }
    /* The forms. */
    phieu_form *forms[MAX_FORMS];
    phieu_layout layouts[MAX_FORMS];
    int n_forms = 0;
    DIR *d = opendir(forms_dir);
    if (!d) {
        fprintf(stderr, "score_duplicates: cannot open %s\n", forms_dir);
        return 1;
    }
    char *names[MAX_PAGES];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < MAX_PAGES)
        if (ends_with(e->d_name, ".form"))
            names[nn++] = phieu_strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, cmp_name);
    for (int i = 0; i < nn && n_forms < MAX_FORMS; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", forms_dir, names[i]);
        if (phieu_form_load(path, &forms[n_forms], &err) != 0 ||
            phieu_layout_compute(forms[n_forms], &layouts[n_forms], &err) != 0) {
            fprintf(stderr, "score_duplicates: %s\n", err.message);
            return 1;
        }
        n_forms++;
        phieu_free(names[i]);
    }
    phieu_omr_config cfg = {
        .forms = (const phieu_form *const *)forms, .layouts = layouts, .n_forms = n_forms};
    phieu_thresholds_default(&cfg.thresholds);
    /* The deck's pages and their rescans. */
    if (!(d = opendir(deck))) {
        fprintf(stderr, "score_duplicates: cannot open %s\n", deck);
        return 1;
    }
    nn = 0;
    while ((e = readdir(d)) && nn < MAX_PAGES)
        if (ends_with(e->d_name, ".png") || ends_with(e->d_name, ".tif") ||
            ends_with(e->d_name, ".tiff"))
            names[nn++] = phieu_strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, cmp_name);
    page *pages = phieu_calloc((size_t)nn + 1, sizeof *pages);
    if (!pages)
        return 1;
    int n_usable = 0, n_rescans = 0, n_read_as = 0;
    for (int i = 0; i < nn; i++) {
        page *p = &pages[i];
        snprintf(p->name, sizeof p->name, "%s", names[i]);
        char path[1024];
        for (int k = 0; k < 2; k++) {
            if (k == 0) {
                snprintf(path, sizeof path, "%s/%s", deck, names[i]);
            } else {
                char stem[256];
                snprintf(stem, sizeof stem, "%s", names[i]);
                char *dot = strrchr(stem, '.');
                if (dot)
                    *dot = '\0';
                snprintf(path, sizeof path, "%s/%s.png", rescans, stem);
                FILE *f = fopen(path, "rb");
                if (!f)
                    break;
                fclose(f);
            }
            phieu_image *img = NULL;
            phieu_reading *rd = k ? &p->rescan : &p->rd;
            if (phieu_image_load(path, 0, NULL, &img, &err) != 0 ||
                phieu_omr_read(&cfg, img, rd, &err) != 0 ||
                (k && read_as_own_form(&cfg, p->rd.form_index, img, rd, &n_read_as, &err) != 0)) {
                fprintf(stderr, "score_duplicates: %s: %s\n", path, err.message);
                return 1;
            }
            if (use_strokes && rd->form_index >= 0 &&
                phieu_omr_strokes_create(&layouts[rd->form_index], img, rd,
                                         k ? &p->rescan_strokes : &p->strokes, &err) != 0) {
                fprintf(stderr, "score_duplicates: %s: %s\n", path, err.message);
                return 1;
            }
            phieu_image_destroy(&img);
            phieu_omr_decision_pattern(rd, k ? p->rescan_pattern : p->pattern);
            if (k)
                p->has_rescan = 1;
        }
        p->usable = p->rd.form_index >= 0 && p->rd.status != PHIEU_PAGE_REJECTED &&
                    p->rd.status != PHIEU_PAGE_BLANK && phieu_omr_pattern_has_ink(p->pattern);
        n_usable += p->usable;
        n_rescans += p->usable && p->has_rescan;
        phieu_free(names[i]);
    }
    printf("deck %s: %d pages, %d with a form and ink, %d of them rescanned; %s, threshold "
           "%.3f\n",
           deck, nn, n_usable, n_rescans,
           use_strokes ? "8x8 ink grids, then strokes for pages of little ink" : "8x8 ink grids",
           threshold);
    printf("rescans rejected for their form code, read as their page's form (as the board's "
           "form:<id>): %d\n",
           n_read_as);
    /* 1. Rescans: each must reach the threshold against its own page. */
    scores sc = {0};
    long detected = 0, not_compared = 0;
    /* By the marks on the page: 1, 2, 3 or more (the hardest are the fewest). */
    long by_marks[3] = {0}, by_marks_detected[3] = {0};
    worst w[SHOW_WORST];
    int nw = 0;
    long pairs = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < nn; i++) {
        page *p = &pages[i];
        if (!p->usable || !p->has_rescan)
            continue;
        int dup;
        double s = score_pair(&p->rd, p->strokes, &p->rescan, p->rescan_strokes, &dup);
        pairs++;
        int compared =
            phieu_omr_pattern_distance(p->pattern, p->rescan_pattern) <=
            PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF;
        not_compared += !compared;
        detected += compared && dup;
        int k = pattern_marks(p->pattern);
        k = k < 1 ? 0 : k > 3 ? 2 : k - 1;
        by_marks[k]++;
        by_marks_detected[k] += compared && dup;
        if (!(compared && dup)) /* named for a person to look at */
            printf("  missed: %s %.3f%s\n", p->name, s, compared ? "" : " (not compared)");
        push(&sc, s);
        keep(w, &nw, s, i, i, 0);
    }
    printf("rescans: %ld of %d detected (%.1f %%)", detected, n_rescans,
           n_rescans ? 100.0 * detected / n_rescans : 0);
    if (not_compared)
        printf(", %ld not compared (decisions differ in more than %d rows)", not_compared,
               PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF);
    printf("\n");
    for (int k = 0; k < 3; k++)
        if (by_marks[k])
            printf("  pages of %s: %ld of %ld rescans detected (%.1f %%)\n",
                   k == 0 ? "one mark" : k == 1 ? "two marks" : "three marks or more",
                   by_marks_detected[k], by_marks[k], 100.0 * by_marks_detected[k] / by_marks[k]);
    spread("rescan scores", sc.v, sc.n);
    for (int k = 0; k < nw; k++)
        printf("    lowest: %s %.3f\n", pages[w[k].a].name, w[k].score);
    /* 2. Other hands, same pattern: different pages, equal decisions. Also pages whose
     * decisions differ in 1-2 rows (the session compares them too). */
    for (int set = 0; set < 3; set++) {
        sc.n = 0, nw = 0;
        long alarms = 0;
        for (int i = 0; i < nn; i++) {
            if (!pages[i].usable)
                continue;
            for (int j = set == 2 ? 0 : i + 1; j < nn; j++) {
                if (j == i || !pages[j].usable || pages[i].rd.form_index != pages[j].rd.form_index)
                    continue;
                if (set == 2 && !pages[i].has_rescan)
                    continue;
                const char *pa = set == 2 ? pages[i].rescan_pattern : pages[i].pattern;
                int dist = phieu_omr_pattern_distance(pa, pages[j].pattern);
                if (set == 0   ? dist != 0 || strcmp(pa, pages[j].pattern) != 0
                    : set == 1 ? dist == 0 || dist > PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF
                               : dist > PHIEU_SESSION_DUPLICATE_MAX_ROW_DIFF)
                    continue;
                int dup;
                double s = score(&pages[i], set == 2, &pages[j], &dup);
                pairs++;
                push(&sc, s);
                alarms += dup;
                keep(w, &nw, s, i, j, 1);
            }
        }
        static const char *const what[] = {
            "same pattern, different sheets", "1-2 rows differ, different sheets",
            "a rescan against the other sheets (compared by the session)"};
        printf("%s: %ld pairs, %ld false alarms (%.2f %%)\n", what[set], sc.n, alarms,
               sc.n ? 100.0 * alarms / sc.n : 0);
        spread("scores", sc.v, sc.n);
        for (int k = 0; k < nw; k++)
            printf("    highest: %s%s %s %.3f\n", pages[w[k].a].name, set == 2 ? " (rescan)" : "",
                   pages[w[k].b].name, w[k].score);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
    printf("time: %.2f us per pair (%ld pairs)", pairs ? us / pairs : 0, pairs);
    if (use_strokes)
        printf("; strokes compared for %d pairs (threshold %.2f)", strokes_consulted,
               PHIEU_SESSION_DEFAULT_STROKE_SIMILARITY);
    printf("\n");
    phieu_free(sc.v);
    for (int i = 0; i < nn; i++) {
        phieu_omr_strokes_destroy(&pages[i].strokes);
        phieu_omr_strokes_destroy(&pages[i].rescan_strokes);
    }
    phieu_free(pages);
    for (int i = 0; i < n_forms; i++)
        phieu_form_destroy(&forms[i]);
    return 0;
}
