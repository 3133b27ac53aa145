/*
 * test_review.c - the review server over real HTTP on loopback: login, queue, exception,
 * decisions with the two-person rule and the head, audit entries, totals, images; and its
 * security: no login, no CSRF token, throttled and locked logins, paths in image URLs,
 * oversized and malformed requests (the server must keep answering).
 *
 * The session is made here as a counting day makes it: blank ballots rendered from
 * forms/district-rating.form, marks drawn on them (clear X marks, and a faint one that the
 * reader must send to a person), pages added through phieu_session_add_page.
 *
 * `test_review --make-ballots DIR N [rescan]` only writes N such ballots as PNG files (the
 * first three with the faint marks of the tests below; with `rescan` also a second scan
 * of the third), for the e2e and browser tests to import with `phieu import`, and exits.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/audit.h"
#include "phieu/decisions.h"
#include "phieu/form.h"
#include "phieu/image.h"
#include "phieu/intake.h"
#include "phieu/omr.h"
#include "phieu/pages.h"
#include "phieu/render.h"
#include "phieu/review.h"
#include "phieu/session.h"
#include "phieu/source.h"
#include "phieu/tally.h"
#include "phieu/util.h"

/* fontconfig (under pango, used by phieu_render_raster for the test ballots) keeps its
 * caches for the life of the process; tell LeakSanitizer that this is not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\n";
}

#define DPI 200
#define MM(v) ((v)*DPI / 25.4)

/* ---- the session: rendered ballots with drawn marks ------------------------------------ */

static void fill(phieu_image *im, double x0, double y0, double x1, double y1, int gray)
{
    int a = (int)MM(x0), b = (int)MM(y0), c = (int)MM(x1), d = (int)MM(y1);
    for (int y = b; y < d; y++)
        for (int x = a; x < c; x++)
            if (x >= 0 && y >= 0 && x < im->width && y < im->height)
                im->pixels[(size_t)y * im->stride + x] = (uint8_t)gray;
}

/* An X of half-size `arm` mm and stroke `w` mm centred in a box. */
static void draw_x(phieu_image *im, phieu_rect box, double arm, double w, int gray)
{
    double cx = box.x + box.w / 2, cy = box.y + box.h / 2;
    for (double k = -arm; k <= arm; k += 0.05) {
        fill(im, cx + k - w / 2, cy + k - w / 2, cx + k + w / 2, cy + k + w / 2, gray);
        fill(im, cx + k - w / 2, cy - k - w / 2, cx + k + w / 2, cy - k + w / 2, gray);
    }
}

typedef struct fixture_page {
    int offset;        /* row r (0-based) is marked in choice (r + offset) % 3 */
    int faint_rows[2]; /* 1-based rows with only a faint mark instead, 0 = none */
} fixture_page;

/* Page 1: row 2 faint. Page 2: rows 3 and 5 faint. Page 3: every row clear. Each pair of
 * pages differs in every row, so none looks like a rescan of another. */
static const fixture_page pages[] = {{0, {2, 0}}, {1, {3, 5}}, {2, {0, 0}}};
#define N_PAGES (sizeof pages / sizeof pages[0])

/* How the reader sees one box of `page` with an X of half-size `arm` mm in ink of `gray`
 * drawn in it. */
static int box_state(const phieu_form *f, const phieu_layout *lay, const phieu_image *page, int row,
                     int choice, double arm, int gray, phieu_error *err)
{
    phieu_image *im = NULL;
    if (phieu_image_clone(page, &im, err) != 0)
        return -1;
    draw_x(im, lay->boxes[row][choice], arm, 0.3, gray);
    const phieu_form *forms[1] = {f};
    phieu_omr_config cfg = {forms, lay, 1, {{0}}, 0};
    phieu_thresholds_default(&cfg.thresholds);
    phieu_reading r;
    int rc = phieu_omr_read(&cfg, im, &r, err);
    phieu_image_destroy(&im);
    return rc != 0 ? -1 : r.rows[row].boxes[choice].state;
}

typedef struct faint_mark {
    double arm;
    int gray;
} faint_mark;

/* A faint X for one box that this build's reader calls marginal, found by reading so that
 * the fixture follows the reader's thresholds instead of copying them: first a light
 * pencil X across the box (the middle of the grays read as marginal), else a small dark
 * X (the middle of the sizes read as marginal). */
static int faint_mark_for(const phieu_form *f, const phieu_layout *lay, const phieu_image *page,
                          int row, int choice, faint_mark *out, phieu_error *err)
{
    for (int family = 0; family < 2; family++) {
        int n = family == 0 ? 28 : 53; /* grays 235..100 by 5; arms 0.4..3.0 by 0.05 */
        int lo = -1, hi = -1;
        faint_mark m[53];
        for (int k = 0; k < n; k++) {
            m[k].arm = family == 0 ? 2.0 : 0.4 + 0.05 * k;
            m[k].gray = family == 0 ? 235 - 5 * k : 100;
            int st = box_state(f, lay, page, row, choice, m[k].arm, m[k].gray, err);
            if (st < 0)
                return -1;
            if (st == PHIEU_BOX_MARGINAL) {
                if (lo < 0)
                    lo = k;
                hi = k;
            }
        }
        if (lo < 0)
            continue;
        *out = m[(lo + hi) / 2];
        if (box_state(f, lay, page, row, choice, out->arm, out->gray, err) != PHIEU_BOX_MARGINAL)
            *out = m[lo];
        return 0;
    }
    phieu_error_set(err, PHIEU_EINVAL, "no faint mark reads as marginal in row %d", row + 1);
    return -1;
}

/* Ballot `i` as scanned: the fixture pages above first, then (for the browser test's
 * larger pile) pages whose marks follow a fixed pseudo-random sequence, clear marks only.
 * The clear marks are drawn first, so that the faint ones are sized on the page as it
 * will be read. */
static int draw_ballot_faint(const phieu_form *f, const phieu_layout *lay,
                             const phieu_image *blank, size_t i, int extra_faint,
                             phieu_image **out, phieu_error *err);

static int draw_ballot(const phieu_form *f, const phieu_layout *lay, const phieu_image *blank,
                       size_t i, phieu_image **out, phieu_error *err)
{
    return draw_ballot_faint(f, lay, blank, i, 0, out, err);
}

/* As draw_ballot; extra_faint > 0: a ballot past the fixture's pages also gets one faint
 * mark, in row ((i - N_PAGES) % rows) + 1 (a deck of cases for the keyboard test). */
static int draw_ballot_faint(const phieu_form *f, const phieu_layout *lay,
                             const phieu_image *blank, size_t i, int extra_faint,
                             phieu_image **out, phieu_error *err)
{
    phieu_image *im = NULL;
    if (phieu_image_clone(blank, &im, err) != 0)
        return -1;
    uint32_t seed = 2463534242u + (uint32_t)i * 2654435761u;
    int choices[PHIEU_FORM_MAX_ROWS], faint[PHIEU_FORM_MAX_ROWS];
    for (int r = 0; r < f->n_rows; r++) {
        faint[r] = 0;
        if (i < N_PAGES) {
            choices[r] = (r + pages[i].offset) % f->n_choices;
            faint[r] = pages[i].faint_rows[0] == r + 1 || pages[i].faint_rows[1] == r + 1;
        } else {
            seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5; /* xorshift32 */
            choices[r] = (int)(seed % 7) < 4 ? 0 : (int)(seed % 7) < 6 ? 1 : 2;
            faint[r] = extra_faint && r == (int)((i - N_PAGES) % (size_t)f->n_rows);
        }
        if (!faint[r])
            draw_x(im, lay->boxes[r][choices[r]], 2.2, 0.6, 0);
    }
    for (int r = 0; r < f->n_rows; r++) {
        faint_mark m;
        if (!faint[r])
            continue;
        if (faint_mark_for(f, lay, im, r, choices[r], &m, err) != 0) {
            phieu_image_destroy(&im);
            return -1;
        }
        draw_x(im, lay->boxes[r][choices[r]], m.arm, 0.3, m.gray);
    }
    *out = im;
    return 0;
}

static int load_form(phieu_form **f, phieu_layout *lay, phieu_image **blank, phieu_error *err)
{
    char form_path[4096];
    const char *src = getenv("PHIEU_SOURCE_DIR");
    snprintf(form_path, sizeof form_path, "%s/forms/district-rating.form", src ? src : "..");
    if (phieu_form_load(form_path, f, err) != 0)
        return -1;
    phieu_render_options ro = {0, 1};
    if (phieu_layout_compute(*f, lay, err) != 0 ||
        phieu_render_raster(*f, &ro, DPI, blank, err) != 0) {
        phieu_form_destroy(f);
        return -1;
    }
    return 0;
}

/* The same paper fed a second time: the scan lands 3 pixels lower and to the right, so
 * the file differs but the ink is the same. */
static int rescan(const phieu_image *im, phieu_image **out, phieu_error *err)
{
    if (phieu_image_create(im->width, im->height, out, err) != 0)
        return -1;
    for (int y = 3; y < im->height; y++)
        memcpy((*out)->pixels + (size_t)y * (*out)->stride + 3,
               im->pixels + (size_t)(y - 3) * im->stride, (size_t)im->width - 3);
    return 0;
}

/* The page turned half a turn, as a sheet fed upside down. */
static void turn_over(phieu_image *im)
{
    for (int y = 0; y < (im->height + 1) / 2; y++) {
        uint8_t *a = im->pixels + (size_t)y * im->stride;
        uint8_t *b = im->pixels + (size_t)(im->height - 1 - y) * im->stride;
        for (int x = 0; x < im->width; x++) {
            if (a == b && x >= im->width - 1 - x)
                break;
            uint8_t t = a[x];
            a[x] = b[im->width - 1 - x];
            b[im->width - 1 - x] = t;
        }
    }
}

/* `--make-ballots DIR N [rescan] [upside] [faint]`: N scanned ballots as PNG files for
 * `phieu import`; with `rescan` a second scan of ballot 3 (ballot-03-again.png); with
 * `upside` ballot 1 fed upside down; with `faint` one faint mark on every ballot past the
 * third as well. */
static int make_ballots(const char *dir, int n, int with_rescan, int upside, int faint,
                        phieu_error *err)
{
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL;
    if (load_form(&f, &lay, &blank, err) != 0)
        return -1;
    int rc = phieu_mkdir_p(dir, err);
    for (int i = 0; rc == 0 && i < n; i++) {
        phieu_image *im = NULL;
        char path[4200];
        snprintf(path, sizeof path, "%s/ballot-%02d.png", dir, i + 1);
        rc = draw_ballot_faint(f, &lay, blank, (size_t)i, faint, &im, err);
        if (rc == 0 && i == 0 && upside)
            turn_over(im);
        if (rc == 0)
            rc = phieu_image_save_png(im, path, err);
        if (rc == 0 && i == 2 && with_rescan) {
            phieu_image *again = NULL;
            snprintf(path, sizeof path, "%s/ballot-03-again.png", dir);
            rc = rescan(im, &again, err);
            if (rc == 0)
                rc = phieu_image_save_png(again, path, err);
            phieu_image_destroy(&again);
        }
        phieu_image_destroy(&im);
    }
    phieu_image_destroy(&blank);
    phieu_form_destroy(&f);
    return rc;
}

static int make_session(const char *path, phieu_error *err)
{
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL;
    if (load_form(&f, &lay, &blank, err) != 0)
        return -1;
    const phieu_form *forms[1] = {f};
    phieu_session_params p = {0};
    p.council = "Hội đồng nhân dân huyện An Thạnh";
    p.session_name = "Kỳ họp thứ Mười Một, khóa XII";
    p.date = "2026-11-28";
    p.place = "Hội trường UBND huyện";
    p.delegates = 30;
    p.two_person_rule = -1;
    p.forms = forms;
    p.n_forms = 1;
    p.actor = "test";
    phieu_session *s = NULL;
    int rc = phieu_session_create(path, &p, &s, err);
    if (rc == 0)
        rc = phieu_session_user_add(s, "an", PHIEU_ROLE_SUPERVISOR, "mat-khau-an", "test", err);
    if (rc == 0)
        rc = phieu_session_user_add(s, "binh", PHIEU_ROLE_SUPERVISOR, "mat-khau-binh", "test", err);
    if (rc == 0)
        rc = phieu_session_user_add(s, "truong", PHIEU_ROLE_HEAD, "mat-khau-truong", "test", err);
    phieu_batch batch;
    if (rc == 0)
        rc = phieu_session_batch_open(s, (int)N_PAGES, &batch, err);
    for (size_t i = 0; rc == 0 && i < N_PAGES; i++) {
        phieu_image *im = NULL;
        rc = draw_ballot(f, &lay, blank, i, &im, err);
        phieu_page_meta meta = {0};
        meta.batch = batch.id;
        phieu_page_result res;
        if (rc == 0)
            rc = phieu_session_add_page(s, im, &meta, &res, err);
        phieu_image_destroy(&im);
    }
    /* Position 4: a ballot of another form (a vote of confidence), marked: the machine
     * rejects the page and the board decides what it is. */
    char other_path[4096];
    const char *src = getenv("PHIEU_SOURCE_DIR");
    snprintf(other_path, sizeof other_path, "%s/forms/confidence-vote.form", src ? src : "..");
    phieu_form *other = NULL;
    phieu_layout olay;
    if (rc == 0)
        rc = phieu_form_load(other_path, &other, err);
    if (rc == 0)
        rc = phieu_layout_compute(other, &olay, err);
    if (rc == 0) {
        phieu_render_options ro = {0, 1};
        phieu_image *im = NULL;
        rc = phieu_render_raster(other, &ro, DPI, &im, err);
        for (int r = 0; rc == 0 && r < other->n_rows; r++)
            draw_x(im, olay.boxes[r][0], 2.2, 0.6, 0);
        phieu_page_meta meta = {0};
        meta.batch = batch.id;
        phieu_page_result res;
        if (rc == 0)
            rc = phieu_session_add_page(s, im, &meta, &res, err);
        phieu_image_destroy(&im);
    }
    phieu_form_destroy(&other);
    /* Position 5: ballot 3 fed a second time (the scan lands 3 pixels lower and to the
     * right, so the file differs but the ink is the same): a possible rescan. Position 6:
     * one more ballot, counted without any question. */
    for (int k = 0; rc == 0 && k < 2; k++) {
        phieu_image *im = NULL, *moved = NULL;
        rc = draw_ballot(f, &lay, blank, k == 0 ? 2 : N_PAGES, &im, err);
        if (rc == 0 && k == 0) {
            rc = rescan(im, &moved, err);
            phieu_image_destroy(&im);
            im = moved;
        }
        phieu_page_meta meta = {0};
        meta.batch = batch.id;
        phieu_page_result res;
        if (rc == 0)
            rc = phieu_session_add_page(s, im, &meta, &res, err);
        phieu_image_destroy(&im);
    }
    phieu_session_close(&s);
    phieu_image_destroy(&blank);
    phieu_form_destroy(&f);
    return rc;
}

/* ---- a tiny HTTP client over a plain socket -------------------------------------------- */

typedef struct http_res {
    int status;
    char head[16384];
    char *body;
    size_t len;
    json_t *json;
} http_res;

static void http_free(http_res *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* Sends raw bytes, reads the answer until the server closes. Returns 0, or -1 when the
 * connection failed (the server is down). */
static int http_raw(int port, const char *req, size_t len, http_res *out)
{
    memset(out, 0, sizeof *out);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer and close before reading everything */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t cap = 65536, got = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (got + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + got, cap - got - 1, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    if (sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
        free(buf);
        return got ? 0 : -1;
    }
    char *end = strstr(buf, "\r\n\r\n");
    size_t hl = end ? (size_t)(end - buf) : got;
    if (hl >= sizeof out->head)
        hl = sizeof out->head - 1;
    memcpy(out->head, buf, hl);
    out->head[hl] = '\0';
    if (end) {
        out->len = got - (size_t)(end + 4 - buf);
        out->body = malloc(out->len + 1);
        memcpy(out->body, end + 4, out->len);
        out->body[out->len] = '\0';
        out->json = json_loadb(out->body, out->len, 0, NULL);
    }
    free(buf);
    return 0;
}

typedef struct client {
    int port;
    char cookie[128];
    char csrf[80];
} client;

static int http(const client *c, const char *method, const char *path, const char *body,
                int with_csrf, http_res *out)
{
    phieu_buf req;
    phieu_buf_init(&req);
    phieu_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method,
                     path, c->port);
    if (c->cookie[0])
        phieu_buf_printf(&req, "Cookie: phieu_session=%s\r\n", c->cookie);
    if (with_csrf)
        phieu_buf_printf(&req, "X-CSRF-Token: %s\r\n", c->csrf);
    if (body)
        phieu_buf_printf(&req, "Content-Type: application/json\r\n");
    phieu_buf_printf(&req, "Content-Length: %zu\r\n\r\n%s", body ? strlen(body) : 0,
                     body ? body : "");
    int rc = http_raw(c->port, req.data, req.len, out);
    phieu_buf_release(&req);
    return rc;
}

static const char *header(const http_res *r, const char *name)
{
    static char value[1024];
    const char *p = r->head;
    size_t nl = strlen(name);
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            if (vl >= sizeof value)
                vl = sizeof value - 1;
            memcpy(value, v, vl);
            value[vl] = '\0';
            return value;
        }
    }
    return NULL;
}

/* Logs in; returns the HTTP status, and on 200 fills the client's cookie and CSRF. */
static int login(client *c, const char *user, const char *password)
{
    char body[256];
    snprintf(body, sizeof body, "{\"user\":\"%s\",\"password\":\"%s\"}", user, password);
    client anon = {c->port, "", ""};
    http_res r;
    assert_int_equal(http(&anon, "POST", "/api/login", body, 0, &r), 0);
    int status = r.status;
    if (status == 200) {
        const char *sc = header(&r, "Set-Cookie");
        assert_non_null(sc);
        assert_non_null(strstr(sc, "HttpOnly"));
        assert_non_null(strstr(sc, "SameSite=Strict"));
        assert_int_equal(strncmp(sc, "phieu_session=", 14), 0);
        size_t tl = strcspn(sc + 14, ";");
        assert_int_equal(tl, 64);
        memcpy(c->cookie, sc + 14, tl);
        c->cookie[tl] = '\0';
        const char *csrf = json_string_value(json_object_get(r.json, "csrf"));
        assert_non_null(csrf);
        snprintf(c->csrf, sizeof c->csrf, "%s", csrf);
    }
    http_free(&r);
    return status;
}

/* ---- the server under test -------------------------------------------------------------- */

/* The session is made once (rendering and three argon2id hashes take a while) and each
 * test gets its own copy. */
static char template_dir[256];

static int group_setup(void **state)
{
    (void)state;
    snprintf(template_dir, sizeof template_dir, "/tmp/phieu-test-review-XXXXXX");
    if (!mkdtemp(template_dir))
        return -1;
    char path[300];
    snprintf(path, sizeof path, "%s/day.db", template_dir);
    phieu_error err = {0};
    if (make_session(path, &err) != 0) {
        fprintf(stderr, "cannot make the test session: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", template_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* One request whose reply must carry `status`; the reply is freed. */
static void expect_status(const client *c, const char *method, const char *path, const char *body,
                          int with_csrf, int status)
{
    http_res r;
    assert_int_equal(http(c, method, path, body, with_csrf, &r), 0);
    assert_int_equal(r.status, status);
    http_free(&r);
}

typedef struct world {
    char dir[256];
    char session[300];
    phieu_review_server *srv;
    int port;
    pthread_mutex_t log_lock;
    int failed_logins; /* "failed login" lines the server logged: passwords it checked */
    char last_log[512];
} world;

static void world_log(void *ctx, const char *line)
{
    world *w = ctx;
    pthread_mutex_lock(&w->log_lock);
    w->failed_logins += strncmp(line, "failed login", 12) == 0;
    snprintf(w->last_log, sizeof w->last_log, "%s", line);
    pthread_mutex_unlock(&w->log_lock);
}

static int make_world(void **state, int lock_after)
{
    world *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/phieu-test-review-XXXXXX");
    if (!mkdtemp(w->dir))
        return -1;
    snprintf(w->session, sizeof w->session, "%s/day.db", w->dir);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "cp -R '%s'/. '%s'/", template_dir, w->dir);
    if (system(cmd) != 0)
        return -1;
    phieu_error err = {0};
    phieu_review_options o;
    phieu_review_options_default(&o);
    o.session_path = w->session;
    o.port = 0;
    o.login_delay_ms = 300;
    o.login_delay_max_ms = 1200;
    o.login_lock_after = lock_after;
    o.login_lock_seconds = 60;
    pthread_mutex_init(&w->log_lock, NULL);
    o.log = world_log;
    o.log_ctx = w;
    if (phieu_review_start(&o, &w->srv, &err) != 0) {
        fprintf(stderr, "cannot start the server: %s\n", err.message);
        return -1;
    }
    w->port = phieu_review_port(w->srv);
    *state = w;
    return 0;
}

static int setup(void **state)
{
    return make_world(state, 5);
}
static int setup_strict(void **state)
{
    return make_world(state, 3);
}

static int teardown(void **state)
{
    world *w = *state;
    phieu_review_stop(&w->srv);
    assert_null(w->srv);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    if (system(cmd) != 0)
        return -1;
    pthread_mutex_destroy(&w->log_lock);
    free(w);
    return 0;
}

/* The queue's items as the server lists them for this client. */
static json_t *queue(const client *c)
{
    http_res r;
    assert_int_equal(http(c, "GET", "/api/queue", NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

static const char *item_id(json_t *q, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(q, "items"), i), "id"));
}

/* POSTs a JSON body to /api/exception/ID/WHAT; returns the status, the answer in *answer. */
static int post_exception(const client *c, const char *id, const char *what, const char *body,
                          json_t **answer)
{
    char path[128];
    snprintf(path, sizeof path, "/api/exception/%s/%s", id, what);
    http_res r;
    assert_int_equal(http(c, "POST", path, body, 1, &r), 0);
    int status = r.status;
    if (answer)
        *answer = json_incref(r.json);
    http_free(&r);
    return status;
}

static int decide(const client *c, const char *id, const char *choice, json_t **answer)
{
    char body[256];
    snprintf(body, sizeof body, "{\"choice\":\"%s\",\"note\":\"checked the paper\"}", choice);
    return post_exception(c, id, "decide", body, answer);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_listen_addresses(void **state)
{
    (void)state;
    char host[128];
    int port = 8080;
    phieu_error err = {0};
    assert_int_equal(phieu_review_parse_listen("127.0.0.1:9000", host, sizeof host, &port, &err),
                     0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9000);
    assert_int_equal(phieu_review_parse_listen("[::1]:81", host, sizeof host, &port, &err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 81);
    assert_int_equal(phieu_review_parse_listen(":7000", host, sizeof host, &port, &err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 7000);
    assert_int_equal(phieu_review_parse_listen("1.2.3.4:99999", host, sizeof host, &port, &err),
                     PHIEU_EINVAL);
    assert_int_equal(phieu_review_parse_listen("::1:80", host, sizeof host, &port, &err),
                     PHIEU_EINVAL);
    assert_true(phieu_review_host_is_loopback("127.0.0.1"));
    assert_true(phieu_review_host_is_loopback("127.8.9.10"));
    assert_true(phieu_review_host_is_loopback("::1"));
    assert_true(phieu_review_host_is_loopback("localhost"));
    assert_false(phieu_review_host_is_loopback("0.0.0.0"));
    assert_false(phieu_review_host_is_loopback("192.168.1.5"));
    assert_false(phieu_review_host_is_loopback("::"));

    /* Anything but loopback needs allow_remote: refused before the session is opened. */
    phieu_review_options o;
    phieu_review_options_default(&o);
    o.session_path = "/nonexistent/day.db";
    o.host = "0.0.0.0";
    phieu_review_server *srv = NULL;
    assert_int_equal(phieu_review_start(&o, &srv, &err), PHIEU_EINVAL);
    assert_null(srv);
    assert_non_null(strstr(err.message, "--allow-remote"));
}

static void test_every_endpoint_needs_login(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    /* A sheet id that exists, so that a refusal is the login's and not a 404. */
    client an = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    json_t *q = queue(&an);
    const char *sheet =
        json_string_value(json_object_get(json_array_get(json_object_get(q, "items"), 0), "sheet"));
    const char *id = item_id(q, 0);
    assert_non_null(sheet);
    char paths[6][128];
    snprintf(paths[0], 128, "/api/me");
    snprintf(paths[1], 128, "/api/queue");
    snprintf(paths[2], 128, "/api/totals");
    snprintf(paths[3], 128, "/api/exception/%s", id);
    snprintf(paths[4], 128, "/img/%s/page.png", sheet);
    snprintf(paths[5], 128, "/img/%s/row/2.png", sheet);
    for (int i = 0; i < 6; i++) {
        http_res r;
        assert_int_equal(http(&c, "GET", paths[i], NULL, 0, &r), 0);
        assert_int_equal(r.status, 401);
        assert_null(strstr(r.body, "Trần")); /* no ballot content in the refusal */
        http_free(&r);
    }
    /* A made-up cookie is no login either. */
    client forged = {w->port, "", ""};
    memset(forged.cookie, 'a', 64);
    http_res r;
    expect_status(&forged, "GET", "/api/queue", NULL, 0, 401);
    char path[128];
    snprintf(path, sizeof path, "/api/exception/%s/decide", id);
    assert_int_equal(http(&c, "POST", path, "{\"choice\":\"high\"}", 0, &r), 0);
    assert_int_equal(r.status, 401);
    http_free(&r);
    /* The login page itself is served, with the headers that keep other sites out. */
    assert_int_equal(http(&c, "GET", "/", NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/app.js"));
    const char *csp = header(&r, "Content-Security-Policy");
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_string_equal(header(&r, "X-Frame-Options"), "DENY");
    http_free(&r);
    /* Logging out ends the login. */
    expect_status(&an, "POST", "/api/logout", "{}", 1, 200);
    expect_status(&an, "GET", "/api/queue", NULL, 0, 401);
    json_decref(q);
}

static void test_login_and_queue(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "wrong password"), 401);
    assert_int_equal(login(&c, "nobody", "mat-khau-an"), 401);
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);

    http_res r;
    assert_int_equal(http(&c, "GET", "/api/me", NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "user")), "an");
    assert_string_equal(json_string_value(json_object_get(r.json, "role")), "supervisor");
    assert_string_equal(json_string_value(json_object_get(r.json, "csrf")), c.csrf);
    assert_true(
        json_is_true(json_object_get(json_object_get(r.json, "session"), "two_person_rule")));
    http_free(&r);

    /* Three faint marks on two pages, a page of another form and a rescan: three open
     * row exceptions and two page exceptions, with the batch and position that find the
     * paper, in the order of the paper. */
    json_t *q = queue(&c);
    json_t *counts = json_object_get(q, "counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "open")), 5);
    assert_int_equal(json_integer_value(json_object_get(counts, "decided")), 0);
    assert_int_equal(json_integer_value(json_object_get(counts, "todo")), 5);
    json_t *items = json_object_get(q, "items");
    assert_int_equal(json_array_size(items), 5);
    json_t *page = json_array_get(items, 3);
    assert_int_equal(json_integer_value(json_object_get(page, "position")), 4);
    assert_int_equal(json_integer_value(json_object_get(page, "row")), 0);
    assert_string_not_equal(json_string_value(json_object_get(page, "reason")), "marginal-mark");
    json_t *rescan = json_array_get(items, 4);
    assert_int_equal(json_integer_value(json_object_get(rescan, "position")), 5);
    assert_string_equal(json_string_value(json_object_get(rescan, "reason")), "possible-duplicate");
    int rows_seen = 0;
    for (size_t i = 0; i < 3; i++) {
        json_t *it = json_array_get(items, i);
        assert_string_equal(json_string_value(json_object_get(it, "reason")), "marginal-mark");
        assert_string_equal(json_string_value(json_object_get(it, "form")), "district-rating");
        assert_int_equal(json_integer_value(json_object_get(it, "batch")), 1);
        int pos = (int)json_integer_value(json_object_get(it, "position"));
        int row = (int)json_integer_value(json_object_get(it, "row"));
        assert_true((pos == 1 && row == 2) || (pos == 2 && (row == 3 || row == 5)));
        rows_seen |= 1 << row;
    }
    assert_int_equal(rows_seen, (1 << 2) | (1 << 3) | (1 << 5));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(q, "reasons"), "marginal-mark")), 3);

    /* The filter by reason. */
    assert_int_equal(http(&c, "GET", "/api/queue?reason=double-feed", NULL, 0, &r), 0);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    http_free(&r);

    /* One exception: the person, the box scores, the outline inside the page, the choices. */
    char path[128];
    snprintf(path, sizeof path, "/api/exception/%s", item_id(q, 0));
    assert_int_equal(http(&c, "GET", path, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *row = json_array_get(json_object_get(r.json, "rows"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "name")), "Lê Thị Thu Hà");
    assert_string_equal(json_string_value(json_object_get(row, "reading")), "review");
    json_t *boxes = json_object_get(row, "boxes");
    assert_int_equal(json_array_size(boxes), 3);
    /* page 1, row 2 has its faint mark in choice (1 + 0) % 3 = 1: "trust" */
    assert_string_equal(json_string_value(json_object_get(json_array_get(boxes, 1), "state")),
                        "marginal");
    assert_string_equal(json_string_value(json_object_get(json_array_get(boxes, 0), "state")),
                        "empty");
    json_t *rect = json_object_get(row, "rect");
    double x = json_real_value(json_object_get(rect, "x"));
    double y = json_real_value(json_object_get(rect, "y"));
    double rw = json_real_value(json_object_get(rect, "w"));
    assert_true(x > 0 && x < 0.2 && y > 0.2 && y < 0.9 && rw > 0.6 && rw < 1.0);
    json_t *choices = json_object_get(r.json, "choices");
    assert_int_equal(json_array_size(choices), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 0), "choice")),
                        "high");
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 3), "choice")),
                        "invalid");
    assert_string_equal(json_string_value(json_object_get(r.json, "state")), "open");
    assert_non_null(json_string_value(json_object_get(r.json, "next")));
    http_free(&r);

    /* Unknown and malformed exception ids. */
    expect_status(&c, "GET", "/api/exception/123456789", NULL, 0, 404);
    expect_status(&c, "GET", "/api/exception/1%20OR%201=1", NULL, 0, 404);
    json_decref(q);
}

static void test_csrf_required(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
    json_t *q = queue(&c);
    char path[128];
    snprintf(path, sizeof path, "/api/exception/%s/decide", item_id(q, 0));
    http_res r;
    assert_int_equal(http(&c, "POST", path, "{\"choice\":\"high\"}", 0, &r), 0);
    assert_int_equal(r.status, 403);
    assert_string_equal(json_string_value(json_object_get(r.json, "error")), "csrf");
    http_free(&r);
    client wrong = c;
    memset(wrong.csrf, '0', 64);
    assert_int_equal(http(&wrong, "POST", path, "{\"choice\":\"high\"}", 1, &r), 0);
    assert_int_equal(r.status, 403);
    http_free(&r);
    /* Another user's CSRF token does not fit this login. */
    client b = {w->port, "", ""};
    assert_int_equal(login(&b, "binh", "mat-khau-binh"), 200);
    client mixed = c;
    memcpy(mixed.csrf, b.csrf, sizeof mixed.csrf);
    assert_int_equal(http(&mixed, "POST", path, "{\"choice\":\"high\"}", 1, &r), 0);
    assert_int_equal(r.status, 403);
    http_free(&r);
    /* A form post (what another site could make a browser send) is refused. */
    char raw[1024];
    int n =
        snprintf(raw, sizeof raw,
                 "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                 "Cookie: phieu_session=%s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 "Content-Length: 11\r\n\r\nchoice=high",
                 path, c.cookie);
    assert_int_equal(http_raw(w->port, raw, (size_t)n, &r), 0);
    assert_int_equal(r.status, 415);
    http_free(&r);
    /* Nothing was recorded. */
    json_t *q2 = queue(&c);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(q2, "counts"), "todo")), 5);
    json_decref(q);
    json_decref(q2);
}

/* The count of `choice` for the person in `row` of the first form, from /api/totals. */
static int total_count(const client *c, int row, int choice, int *pending)
{
    http_res r;
    assert_int_equal(http(c, "GET", "/api/totals", NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *person = json_array_get(
        json_object_get(json_array_get(json_object_get(r.json, "forms"), 0), "persons"),
        (size_t)row - 1);
    int n = (int)json_integer_value(json_object_get(
        json_array_get(json_object_get(person, "levels"), (size_t)choice), "count"));
    if (pending)
        *pending = (int)json_integer_value(json_object_get(person, "pending"));
    http_free(&r);
    return n;
}

static json_t *exception_json(const client *c, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/exception/%s", id);
    http_res r;
    assert_int_equal(http(c, "GET", path, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

static const char *find_row(json_t *q, int row)
{
    json_t *items = json_object_get(q, "items");
    for (size_t i = 0; i < json_array_size(items); i++)
        if (json_integer_value(json_object_get(json_array_get(items, i), "row")) == row)
            return json_string_value(json_object_get(json_array_get(items, i), "id"));
    fail_msg("no exception on row %d", row);
    return NULL;
}

static void test_two_person_rule(void **state)
{
    world *w = *state;
    client an = {w->port, "", ""}, binh = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&binh, "binh", "mat-khau-binh"), 200);
    json_t *q = queue(&an);
    const char *id = find_row(q, 2); /* Lê Thị Thu Hà, faint mark in "trust" */
    /* Row 2 waits on this exception and on the possible rescan of position 5. */
    int pending = 0;
    int before = total_count(&an, 2, 1, &pending);
    assert_int_equal(pending, 2);

    json_t *a = NULL;
    assert_int_equal(decide(&an, id, "trust", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "second");
    json_decref(a);
    /* One decision changes nothing in the totals yet. */
    assert_int_equal(total_count(&an, 2, 1, &pending), before);
    assert_int_equal(pending, 2);

    /* An sees its own decision and cannot decide again as the second person... */
    json_t *e = exception_json(&an, id);
    assert_string_equal(json_string_value(json_object_get(e, "mine")), "trust");
    assert_false(json_is_true(json_object_get(e, "todo")));
    json_decref(e);
    /* ...Bình does not see An's decision (decided independently). */
    e = exception_json(&binh, id);
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 0);
    assert_true(json_is_null(json_object_get(e, "mine")));
    assert_true(json_is_true(json_object_get(e, "todo")));
    assert_string_equal(json_string_value(json_object_get(e, "state")), "second");
    json_decref(e);

    assert_int_equal(decide(&binh, id, "trust", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "resolved");
    assert_string_equal(json_string_value(json_object_get(a, "resolution")), "trust");
    json_decref(a);
    assert_int_equal(total_count(&an, 2, 1, &pending), before + 1);
    assert_int_equal(pending, 1);

    /* Settled: both decisions visible now; a supervisor cannot change it. */
    e = exception_json(&an, id);
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 2);
    json_decref(e);
    assert_int_equal(decide(&an, id, "high", NULL), 409);

    /* The audit log: one entry per decision naming who, never what. */
    phieu_session *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_log_entry *log = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_log_list(s, &log, &n, &err), 0);
    int by_an = 0, by_binh = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(log[i].action, "decision") != 0)
            continue;
        assert_null(strstr(log[i].detail, "trust"));
        by_an += strcmp(log[i].actor, "an") == 0;
        by_binh += strcmp(log[i].actor, "binh") == 0;
    }
    assert_int_equal(by_an, 1);
    assert_int_equal(by_binh, 1);
    assert_int_equal(phieu_session_log_verify(s, &err), 0);
    phieu_session_log_free(log, n);
    phieu_decision *d = NULL;
    assert_int_equal(phieu_session_decisions_list(s, strtoll(id, NULL, 10), &d, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].user, "an");
    assert_string_equal(d[1].user, "binh");
    assert_string_equal(d[1].note, "checked the paper");
    phieu_free(d);
    phieu_session_close(&s);
    json_decref(q);
}

static void test_disagreement_goes_to_head(void **state)
{
    world *w = *state;
    client an = {w->port, "", ""}, binh = {w->port, "", ""}, head = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&binh, "binh", "mat-khau-binh"), 200);
    assert_int_equal(login(&head, "truong", "mat-khau-truong"), 200);
    json_t *q = queue(&an);
    const char *id = find_row(q, 3); /* page 2, row 3: faint mark in choice (2+1)%3 = 0 */
    int before_high = total_count(&an, 3, 0, NULL);

    assert_int_equal(decide(&an, id, "high", NULL), 200);
    json_t *a = NULL;
    assert_int_equal(decide(&binh, id, "invalid", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "head");
    json_decref(a);

    /* Only the head may decide now; the head sees both decisions, a supervisor neither. */
    assert_int_equal(decide(&binh, id, "high", NULL), 409);
    json_t *e = exception_json(&binh, id);
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 1);
    json_decref(e);
    e = exception_json(&head, id);
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 2);
    assert_true(json_is_true(json_object_get(e, "todo")));
    json_decref(e);
    json_t *hq = queue(&head);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(hq, "counts"), "head")), 1);
    json_decref(hq);

    assert_int_equal(decide(&head, id, "high", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "resolved");
    assert_string_equal(json_string_value(json_object_get(a, "resolution")), "high");
    json_decref(a);
    assert_int_equal(total_count(&an, 3, 0, NULL), before_high + 1);
    json_decref(q);

    /* Bad choices are refused with a 400 and change nothing. */
    json_t *q2 = queue(&an);
    const char *other = find_row(q2, 5);
    assert_int_equal(decide(&an, other, "maybe", NULL), 400);
    http_res r;
    char path[128];
    snprintf(path, sizeof path, "/api/exception/%s/decide", other);
    assert_int_equal(http(&an, "POST", path, "{\"choice\": 3}", 1, &r), 0);
    assert_int_equal(r.status, 400);
    http_free(&r);
    expect_status(&an, "POST", path, "not json", 1, 400);
    e = exception_json(&an, other);
    assert_string_equal(json_string_value(json_object_get(e, "state")), "open");
    json_decref(e);
    json_decref(q2);
}

static void test_rejected_page(void **state)
{
    world *w = *state;
    client an = {w->port, "", ""}, binh = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&binh, "binh", "mat-khau-binh"), 200);
    json_t *q = queue(&an);
    const char *id = find_row(q, 0);
    json_t *e = exception_json(&an, id);
    /* No form, so no rows and no "count as read": whole ballot invalid, or not a ballot. */
    assert_true(json_is_null(json_object_get(e, "form")));
    assert_string_equal(json_string_value(json_object_get(e, "page_status")), "rejected");
    assert_int_equal(json_array_size(json_object_get(e, "rows")), 0);
    assert_true(json_is_true(json_object_get(e, "has_image")));
    /* A foreign form code: "count as form" for the session's one form, then invalid and
     * discard. */
    assert_string_equal(json_string_value(json_object_get(e, "reason")), "wrong-form");
    json_t *choices = json_object_get(e, "choices");
    assert_int_equal(json_array_size(choices), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 0), "choice")),
                        "form:district-rating");
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 0), "kind")),
                        "form");
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 1), "choice")),
                        "invalid");
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 2), "choice")),
                        "discard");
    json_decref(e);
    /* The page image is shown; a row of it is not (it has no rows). */
    char path[128];
    snprintf(path, sizeof path, "/img/%s/page.png",
             json_string_value(
                 json_object_get(json_array_get(json_object_get(q, "items"), 3), "sheet")));
    http_res r;
    expect_status(&an, "GET", path, NULL, 0, 200);
    strcpy(strrchr(path, '/'), "/row/1.png");
    expect_status(&an, "GET", path, NULL, 0, 404);

    assert_int_equal(decide(&an, id, "accept", NULL), 400); /* it was not read as a ballot */
    assert_int_equal(decide(&an, id, "invalid", NULL), 200);
    json_t *a = NULL;
    assert_int_equal(decide(&binh, id, "invalid", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "resolved");
    json_decref(a);
    assert_int_equal(http(&an, "GET", "/api/totals", NULL, 0, &r), 0);
    /* With one form, a sheet of no known form decided invalid counts as that form's
     * (issue 13: collected = valid + invalid for every form). */
    assert_int_equal(json_integer_value(json_object_get(r.json, "unknown_form_invalid")), 0);
    assert_int_equal(json_integer_value(json_object_get(r.json, "unknown_form_pending")), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(r.json, "forms"), 0), "invalid_ballots")),
                     1);
    http_free(&r);
    json_decref(q);
}

/* Adds page 1's marks again with the code strip covered (white paper over it), beside the
 * running server as a scanning station would: the machine rejects it as code-unreadable. */
static void add_code_covered_page(const world *w, phieu_page_result *res)
{
    phieu_error err = {0};
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL, *im = NULL;
    assert_int_equal(load_form(&f, &lay, &blank, &err), 0);
    assert_int_equal(draw_ballot(f, &lay, blank, 0, &im, &err), 0);
    fill(im, lay.code_start.x - 1, lay.code_start.y - 1, lay.code_end.x + lay.code_end.w + 1,
         lay.code_start.y + lay.code_start.h + 1, 255);
    phieu_session *s = NULL;
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_batch batch;
    assert_int_equal(phieu_session_batch_open(s, 1, &batch, &err), 0);
    phieu_page_meta meta = {0};
    meta.batch = batch.id;
    assert_int_equal(phieu_session_add_page(s, im, &meta, res, &err), 0);
    assert_int_equal(res->status, PHIEU_PAGE_REJECTED);
    phieu_session_close(&s);
    phieu_image_destroy(&im);
    phieu_image_destroy(&blank);
    phieu_form_destroy(&f);
}

/* POSTs a board reading of every row of the district form (16 rows): `first` in row 1,
 * "trust" in the others; returns the HTTP status. */
static int board_read(const client *c, const char *id, const char *first)
{
    char path[128], body[512];
    snprintf(path, sizeof path, "/api/exception/%s/board-read", id);
    int n = snprintf(body, sizeof body, "{\"form\":\"district-rating\",\"rows\":[\"%s\"", first);
    for (int r = 2; r <= 16; r++)
        n += snprintf(body + n, sizeof body - (size_t)n, ",\"trust\"");
    snprintf(body + n, sizeof body - (size_t)n, "]}");
    http_res r;
    assert_int_equal(http(c, "POST", path, body, 1, &r), 0);
    int status = r.status;
    http_free(&r);
    return status;
}

/* The queue id of the sheet's exception as client c's queue lists it (the last one
 * listed for that sheet); with `reason`, each of the sheet's items must be for it. */
static void sheet_queue_id(const client *c, const char *sheet_id, const char *reason,
                           char id[24])
{
    json_t *q = queue(c);
    id[0] = '\0';
    json_t *items = json_object_get(q, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (strcmp(json_string_value(json_object_get(it, "sheet")), sheet_id) != 0)
            continue;
        if (reason)
            assert_string_equal(json_string_value(json_object_get(it, "reason")), reason);
        snprintf(id, 24, "%s", item_id(q, i));
    }
    json_decref(q);
    assert_true(id[0]);
}

/* A head who read a page with the board cannot break the tie on it (the session refuses),
 * so the queue must not offer it to them as theirs to decide: "todo" is false for that
 * head, and the tie-break they try is refused (409). */
static void test_reader_head_not_offered_tie(void **state)
{
    world *w = *state;
    phieu_page_result res;
    add_code_covered_page(w, &res);

    client an = {w->port, "", ""}, truong = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&truong, "truong", "mat-khau-truong"), 200);
    char id[24];
    sheet_queue_id(&an, res.sheet_id, NULL, id);

    /* The head reads "high" in row 1, a supervisor "low": the readings differ. */
    assert_int_equal(board_read(&truong, id, "high"), 200);
    assert_int_equal(board_read(&an, id, "low"), 200);
    json_t *e = exception_json(&truong, id);
    assert_string_equal(json_string_value(json_object_get(e, "state")), "head");
    assert_false(json_is_true(json_object_get(e, "todo")));
    json_decref(e);
    /* The head's own tie-break is refused by the session, as the queue said. */
    assert_int_equal(board_read(&truong, id, "low"), 409);
}

/* A ballot of the session's form whose code strip is covered (white paper over it) reaches
 * the board as code-unreadable; the screen offers "count as form" for each form; two
 * supervisors choose it; the page is read again as that form: its clear rows count, its
 * faint row comes to the queue with its boxes like any other. */
static void test_count_as_form(void **state)
{
    world *w = *state;
    phieu_page_result res;
    add_code_covered_page(w, &res);

    client an = {w->port, "", ""}, binh = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&binh, "binh", "mat-khau-binh"), 200);
    char id[24];
    sheet_queue_id(&an, res.sheet_id, "code-unreadable", id);
    json_t *e = exception_json(&an, id);
    json_t *choices = json_object_get(e, "choices");
    assert_int_equal(json_array_size(choices), 3);
    json_t *c0 = json_array_get(choices, 0);
    assert_string_equal(json_string_value(json_object_get(c0, "choice")), "form:district-rating");
    assert_string_equal(json_string_value(json_object_get(c0, "kind")), "form");
    assert_string_equal(json_string_value(json_object_get(c0, "form")), "district-rating");
    assert_string_equal(json_string_value(json_object_get(json_array_get(choices, 1), "choice")),
                        "invalid");
    json_decref(e);

    int high1 = total_count(&an, 1, 0, NULL), trust2 = total_count(&an, 2, 1, NULL);
    json_t *a = NULL;
    assert_int_equal(decide(&an, id, "form:nowhere", NULL), 400);
    /* The page is ballot 0 (batch 1, position 1) with its code covered: read as that form it
     * looks like that sheet fed again, and the member is asked to confirm. */
    assert_int_equal(decide(&an, id, "form:district-rating", &a), 409);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "duplicate-confirm");
    const char *vi = json_string_value(json_object_get(a, "message"));
    assert_non_null(strstr(vi, "Lô 1, tờ thứ 1 "));
    assert_non_null(strstr(json_string_value(json_object_get(a, "message_en")),
                           "batch 1, position 1 fed again"));
    json_t *dup = json_object_get(a, "duplicate");
    assert_int_equal(json_integer_value(json_object_get(dup, "batch")), 1);
    assert_int_equal(json_integer_value(json_object_get(dup, "position")), 1);
    assert_true(json_real_value(json_object_get(dup, "similarity")) > 0.9);
    json_decref(a);
    e = exception_json(&an, id);
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 0);
    json_decref(e);
    const char *confirmed = "{\"choice\":\"form:district-rating\",\"note\":\"two papers\","
                            "\"not_duplicate\":true}";
    assert_int_equal(post_exception(&an, id, "decide", confirmed, &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "second");
    json_decref(a);
    assert_int_equal(total_count(&an, 1, 0, NULL), high1);
    /* Each member confirms for themselves. */
    assert_int_equal(decide(&binh, id, "form:district-rating", NULL), 409);
    assert_int_equal(post_exception(&binh, id, "decide", confirmed, &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "resolved");
    assert_string_equal(json_string_value(json_object_get(a, "resolution")),
                        "form:district-rating");
    json_decref(a);
    /* Row 1 (clear "high") counts now; the page shows its reading as that form. */
    assert_int_equal(total_count(&an, 1, 0, NULL), high1 + 1);
    e = exception_json(&an, id);
    assert_string_equal(json_string_value(json_object_get(e, "form")), "district-rating");
    assert_int_equal(json_array_size(json_object_get(e, "rows")), 16);
    json_decref(e);

    /* The faint row came to the queue as a row exception of that sheet. */
    json_t *q = queue(&an);
    char row_id[24] = "";
    json_t *items = json_object_get(q, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (strcmp(json_string_value(json_object_get(it, "sheet")), res.sheet_id) == 0 &&
            json_integer_value(json_object_get(it, "row")) > 0) {
            assert_int_equal(json_integer_value(json_object_get(it, "row")), 2);
            assert_string_equal(json_string_value(json_object_get(it, "reason")), "marginal-mark");
            assert_string_equal(json_string_value(json_object_get(it, "form")), "district-rating");
            snprintf(row_id, sizeof row_id, "%s", item_id(q, i));
        }
    }
    json_decref(q);
    assert_true(row_id[0]);
    e = exception_json(&an, row_id);
    json_t *row = json_array_get(json_object_get(e, "rows"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "reading")), "review");
    assert_int_equal(json_array_size(json_object_get(row, "boxes")), 3);
    json_decref(e);
    assert_int_equal(decide(&an, row_id, "form:district-rating", NULL), 400);
    assert_int_equal(decide(&an, row_id, "trust", NULL), 200);
    assert_int_equal(decide(&binh, row_id, "trust", NULL), 200);
    assert_int_equal(total_count(&an, 2, 1, NULL), trust2 + 1);
}

/* 1 when /api/totals lists a blocker of this kind (phieu_blocker_name). */
static int has_blocker(json_t *totals, const char *kind)
{
    json_t *list = json_object_get(totals, "blockers");
    assert_true(json_is_array(list));
    for (size_t i = 0; i < json_array_size(list); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(list, i), "kind")), kind) ==
            0)
            return 1;
    return 0;
}

static void test_totals_follow_board_counts(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
    http_res r;
    assert_int_equal(http(&c, "GET", "/api/totals", NULL, 0, &r), 0);
    json_t *form = json_array_get(json_object_get(r.json, "forms"), 0);
    assert_true(json_is_true(json_object_get(form, "base_estimated")));
    /* What blocks the final report is the rule of `phieu status`: counts not entered. */
    assert_true(has_blocker(r.json, "counts-missing"));
    http_free(&r);
    /* The board enters its counts at another station while the screen runs. */
    phieu_session *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_board_counts bc = {1, 30, 30, 29, 1};
    assert_int_equal(phieu_session_set_counts(s, -1, &bc, "test", &err), 0);
    phieu_session_close(&s);
    assert_int_equal(http(&c, "GET", "/api/totals", NULL, 0, &r), 0);
    form = json_array_get(json_object_get(r.json, "forms"), 0);
    assert_false(json_is_true(json_object_get(form, "base_estimated")));
    assert_int_equal(json_integer_value(json_object_get(form, "base")), 29);
    assert_false(has_blocker(r.json, "counts-missing"));
    http_free(&r);
}

static int is_png(const http_res *r)
{
    return r->status == 200 && r->len > 8 && memcmp(r->body, "\x89PNG", 4) == 0;
}

static void test_images(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
    json_t *q = queue(&c);
    const char *sheet =
        json_string_value(json_object_get(json_array_get(json_object_get(q, "items"), 0), "sheet"));
    int row = (int)json_integer_value(
        json_object_get(json_array_get(json_object_get(q, "items"), 0), "row"));
    char path[256];
    http_res r;
    snprintf(path, sizeof path, "/img/%s/page.png", sheet);
    assert_int_equal(http(&c, "GET", path, NULL, 0, &r), 0);
    assert_true(is_png(&r));
    assert_string_equal(header(&r, "Content-Type"), "image/png");
    phieu_image_reader *rd = NULL;
    phieu_image *im = NULL;
    phieu_image_limits lim = phieu_image_default_limits();
    phieu_error err = {0};
    assert_int_equal(
        phieu_image_reader_open_memory((uint8_t *)r.body, r.len, "page", &lim, &rd, &err), 0);
    assert_int_equal(phieu_image_reader_next(rd, &im, &err), 1);
    /* Scaled down from 1654 x 2339 (A4 at 200 dpi) to fit the page view. */
    assert_true(im->width <= 1240 && im->height <= 1754 && im->height > 1000);
    phieu_image_destroy(&im);
    phieu_image_reader_close(&rd);
    http_free(&r);
    /* A second request comes from the cache and is the same. */
    assert_int_equal(http(&c, "GET", path, NULL, 0, &r), 0);
    assert_true(is_png(&r));
    http_free(&r);

    snprintf(path, sizeof path, "/img/%s/thumb.png", sheet);
    assert_int_equal(http(&c, "GET", path, NULL, 0, &r), 0);
    assert_true(is_png(&r));
    http_free(&r);
    snprintf(path, sizeof path, "/img/%s/row/%d.png", sheet, row);
    assert_int_equal(http(&c, "GET", path, NULL, 0, &r), 0);
    assert_true(is_png(&r));
    assert_int_equal(
        phieu_image_reader_open_memory((uint8_t *)r.body, r.len, "row", &lim, &rd, &err), 0);
    assert_int_equal(phieu_image_reader_next(rd, &im, &err), 1);
    /* The row's choice boxes at the scan's own resolution: as wide as their columns, as
     * high as the row's band and 1.5 mm above and below. */
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL;
    assert_int_equal(load_form(&f, &lay, &blank, &err), 0);
    phieu_image_destroy(&blank);
    double want_w = MM(lay.column_x[3 + lay.n_choices] - lay.column_x[3]);
    double want_h = MM(lay.rows[row - 1].h + 3.0);
    phieu_form_destroy(&f);
    assert_true(abs(im->width - (int)want_w) <= 4);
    assert_true(abs(im->height - (int)want_h) <= 4);
    phieu_image_destroy(&im);
    phieu_image_reader_close(&rd);
    http_free(&r);

    /* Paths, other ids and tricks are refused. */
    char bad[][128] = {
        "/img/../day.db",
        "/img/..%2f..%2fetc%2fpasswd/page.png",
        "/img/%2e%2e/page.png",
        "/img/0123456789abcdef/page.png", /* well-formed, no such sheet */
        "/img/0123456789ABCDEF/page.png",
        "/img/0123456789abcde/page.png",
        "/img/0123456789abcdef0/page.png",
        "/img/0123456789abcdef/../../day.db",
        "/img//etc/passwd",
        "/img/x/page.png",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(http(&c, "GET", bad[i], NULL, 0, &r), 0);
        if (r.status != 404 && r.status != 400)
            fail_msg("'%s' answered %d", bad[i], r.status);
        assert_false(r.len > 4 && memcmp(r.body, "\x89PNG", 4) == 0);
        http_free(&r);
    }
    snprintf(path, sizeof path, "/img/%s/../page.png", sheet);
    expect_status(&c, "GET", path, NULL, 0, 404);
    snprintf(path, sizeof path, "/img/%s/row/0.png", sheet);
    expect_status(&c, "GET", path, NULL, 0, 404);
    snprintf(path, sizeof path, "/img/%s/row/99.png", sheet);
    expect_status(&c, "GET", path, NULL, 0, 404);

    /* The rescan names the earlier scan (position 3), whose image is shown beside it for
     * comparison; position 6 has no exception: its image is not shown to anyone. */
    const char *rescan =
        json_string_value(json_object_get(json_array_get(json_object_get(q, "items"), 4), "id"));
    json_t *e = exception_json(&c, rescan);
    json_t *twin = json_object_get(e, "twin");
    assert_int_equal(json_integer_value(json_object_get(twin, "position")), 3);
    snprintf(path, sizeof path, "/img/%s/page.png",
             json_string_value(json_object_get(twin, "sheet")));
    assert_int_equal(http(&c, "GET", path, NULL, 0, &r), 0);
    assert_true(is_png(&r));
    http_free(&r);
    json_decref(e);
    phieu_session *s = NULL;
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_sheet *sheets = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_sheets_list(s, &sheets, &n, &err), 0);
    assert_int_equal(n, 6);
    int checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (sheets[i].position != 6)
            continue;
        snprintf(path, sizeof path, "/img/%s/page.png", sheets[i].id);
        expect_status(&c, "GET", path, NULL, 0, 404);
        checked = 1;
    }
    assert_true(checked);
    phieu_free(sheets);
    phieu_session_close(&s);
    json_decref(q);
}

/* ---- colour scans on the screen ---- */

/* A red ballpoint (gen_samples' red pen: 0.80, 0.10, 0.12), which the reader's red dropout
 * reads near paper white. */
static const uint8_t red_pen[3] = {204, 26, 31};

/* The choice of row `row` (0-based) that holds no ink on the gray page: the box with the
 * fewest dark pixels. */
static int empty_choice(const phieu_image *im, const phieu_layout *lay, int row)
{
    int best = 0;
    long best_dark = -1;
    for (int c = 0; c < lay->n_choices; c++) {
        phieu_rect b = lay->boxes[row][c];
        long dark = 0;
        for (int y = (int)MM(b.y) + 3; y < (int)MM(b.y + b.h) - 3; y++)
            for (int x = (int)MM(b.x) + 3; x < (int)MM(b.x + b.w) - 3; x++)
                dark += im->pixels[(size_t)y * im->stride + x] < 128;
        if (best_dark < 0 || dark < best_dark)
            best = c, best_dark = dark;
    }
    return best;
}

/* Imports, beside the running server as a scanning station would, a ballot scanned in
 * colour: an RGB PNG (archived as received) with a faint gray mark in row 2 (so that the
 * sheet has a case in the queue) and an empty box of row `red_row` (1-based) filled in red
 * pen. Its box is returned in *red_box (mm). */
static void import_colour_ballot(const world *w, int red_row, phieu_rect *red_box)
{
    phieu_error err = {0};
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL, *im = NULL;
    assert_int_equal(load_form(&f, &lay, &blank, &err), 0);
    assert_int_equal(draw_ballot_faint(f, &lay, blank, N_PAGES + 1, 1, &im, &err), 0);
    *red_box = lay.boxes[red_row - 1][empty_choice(im, &lay, red_row - 1)];
    size_t n = (size_t)im->width * (size_t)im->height;
    uint8_t *rgb = malloc(3 * n);
    assert_non_null(rgb);
    for (int y = 0; y < im->height; y++)
        for (int x = 0; x < im->width; x++)
            memset(rgb + 3 * ((size_t)y * im->width + x), im->pixels[(size_t)y * im->stride + x],
                   3);
    for (int y = (int)MM(red_box->y); y < (int)MM(red_box->y + red_box->h); y++)
        for (int x = (int)MM(red_box->x); x < (int)MM(red_box->x + red_box->w); x++)
            memcpy(rgb + 3 * ((size_t)y * im->width + x), red_pen, 3);
    uint8_t *png = NULL;
    size_t len = 0;
    assert_int_equal(phieu_rgb_encode_png(rgb, im->width, im->height, DPI, &png, &len, &err), 0);
    free(rgb);
    char folder[400], file[450];
    snprintf(folder, sizeof folder, "%s/colour-in", w->dir);
    snprintf(file, sizeof file, "%s/red.png", folder);
    assert_int_equal(phieu_mkdir_p(folder, &err), 0);
    assert_int_equal(phieu_write_file_durable(file, png, len, &err), 0);
    phieu_free(png);
    phieu_session *s = NULL;
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_source *src = NULL;
    const char *paths[] = {folder};
    assert_int_equal(phieu_source_open_files(paths, 1, 0, NULL, &src, &err), 0);
    phieu_intake_options o = {0};
    o.jobs = 1;
    o.new_batch = 1;
    o.actor = "test";
    phieu_intake *in = NULL;
    assert_int_equal(phieu_intake_create(s, &o, &in, &err), 0);
    if (phieu_intake_run(in, src, &err) != 0)
        fail_msg("import: %s", err.message);
    assert_int_equal(phieu_intake_finish(in, NULL, NULL, &err), 0);
    phieu_intake_destroy(&in);
    phieu_source_destroy(&src);
    phieu_session_close(&s);
    phieu_image_destroy(&im);
    phieu_image_destroy(&blank);
    phieu_form_destroy(&f);
}

/* GETs an image of the screen and decodes it in colour; *colour_type: the PNG's own
 * (byte 25 of the file: 0 gray, 2 RGB). */
static phieu_rgb_image *get_image(const client *c, const char *path, int *colour_type)
{
    http_res r;
    assert_int_equal(http(c, "GET", path, NULL, 0, &r), 0);
    if (!is_png(&r))
        fail_msg("%s: answered %d, not a PNG", path, r.status);
    *colour_type = r.len > 25 ? (uint8_t)r.body[25] : -1;
    phieu_image_reader *rd = NULL;
    phieu_rgb_image *im = NULL;
    phieu_image_limits lim = phieu_image_default_limits();
    phieu_error err = {0};
    assert_int_equal(
        phieu_image_reader_open_memory((uint8_t *)r.body, r.len, path, &lim, &rd, &err), 0);
    assert_int_equal(phieu_image_reader_next_rgb(rd, &im, &err), 1);
    phieu_image_reader_close(&rd);
    http_free(&r);
    return im;
}

/* The pixel at (x, y) is the red pen's: red high, green and blue low. */
static void expect_red(const phieu_rgb_image *im, double x, double y, const char *what)
{
    assert_true(x >= 0 && y >= 0 && x < im->width && y < im->height);
    const uint8_t *p = im->pixels + (size_t)y * (size_t)im->stride + 3 * (size_t)x;
    if (p[0] < 180 || p[1] > 80 || p[2] > 80)
        fail_msg("%s at (%.0f, %.0f) is %d,%d,%d, not red", what, x, y, p[0], p[1], p[2]);
}

/* The sheet of the queue's first row case in batch `batch` (a page placed on its form). */
static const char *sheet_of_batch(json_t *q, int batch)
{
    json_t *items = json_object_get(q, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (json_integer_value(json_object_get(it, "batch")) == batch &&
            json_integer_value(json_object_get(it, "row")) > 0)
            return json_string_value(json_object_get(it, "sheet"));
    }
    fail_msg("no case of batch %d in the queue", batch);
    return NULL;
}

/* A page scanned in colour is shown in colour: a box filled in red pen, which the reader's
 * gray (red dropout) takes to near white, is red in the page, its thumbnail and its row's
 * zoom; a page scanned in gray is still served as a gray PNG. */
static void test_colour_page_shown_in_colour(void **state)
{
    world *w = *state;
    const int red_row = 5;
    phieu_rect box;
    import_colour_ballot(w, red_row, &box);
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
    json_t *q = queue(&c);
    const char *sheet = sheet_of_batch(q, 2);              /* the import's own batch */
    double cx = box.x + box.w / 2, cy = box.y + box.h / 2; /* mm */
    char path[256];
    int type = -1;
    snprintf(path, sizeof path, "/img/%s/page.png", sheet);
    phieu_rgb_image *im = get_image(&c, path, &type);
    assert_int_equal(type, 2);
    double scale = im->width / MM(210.0); /* the page view of an A4 page */
    expect_red(im, MM(cx) * scale, MM(cy) * scale, "page.png");
    phieu_rgb_image_destroy(&im);
    snprintf(path, sizeof path, "/img/%s/thumb.png", sheet);
    im = get_image(&c, path, &type);
    assert_int_equal(type, 2);
    scale = im->width / MM(210.0);
    expect_red(im, MM(cx) * scale, MM(cy) * scale, "thumb.png");
    phieu_rgb_image_destroy(&im);
    /* The zoom starts at the first choice column, 1.5 mm above the row's band. */
    phieu_error err = {0};
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL;
    assert_int_equal(load_form(&f, &lay, &blank, &err), 0);
    snprintf(path, sizeof path, "/img/%s/row/%d.png", sheet, red_row);
    im = get_image(&c, path, &type);
    assert_int_equal(type, 2);
    expect_red(im, MM(cx - lay.column_x[3]), MM(cy - (lay.rows[red_row - 1].y - 1.5)), "row zoom");
    phieu_rgb_image_destroy(&im);
    phieu_image_destroy(&blank);
    phieu_form_destroy(&f);

    /* The fixture's pages were scanned in gray: gray PNGs, as before. */
    const char *gray_sheet = sheet_of_batch(q, 1);
    const char *what[] = {"page.png", "thumb.png", "row/2.png"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "/img/%s/%s", gray_sheet, what[i]);
        im = get_image(&c, path, &type);
        assert_int_equal(type, 0);
        assert_int_equal(im->colour, 0);
        phieu_rgb_image_destroy(&im);
    }
    json_decref(q);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_failed_logins_slowed_then_locked(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    /* The delay grows with each failure: 300 ms, then 600 ms. Timed with a name that does
     * not exist, whose answer costs no password hashing, so that the machine's load
     * hardly changes the times; an unknown name is throttled like a known one. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(login(&c, "khong-co", "sai-1"), 401);
    double first = seconds_since(&t0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(login(&c, "khong-co", "sai-2"), 401);
    double second = seconds_since(&t0);
    /* Lower bounds only: a loaded machine makes answers slower, never faster. With the
     * configured 300 ms, a second answer of 600 ms or more shows the delay doubled. */
    assert_true(first >= 0.3);
    assert_true(second >= 0.6);

    /* The third failure in a row locks the name: even the right password is refused... */
    assert_int_equal(login(&c, "binh", "sai-1"), 401);
    assert_int_equal(login(&c, "binh", "sai-2"), 401);
    assert_int_equal(login(&c, "binh", "sai-3"), 429);
    assert_int_equal(login(&c, "binh", "mat-khau-binh"), 429);
    client anon = {w->port, "", ""};
    http_res r;
    assert_int_equal(http(&anon, "POST", "/api/login",
                          "{\"user\":\"binh\",\"password\":\"mat-khau-binh\"}", 0, &r),
                     0);
    assert_int_equal(r.status, 429);
    assert_non_null(header(&r, "Retry-After"));
    assert_true(atoi(header(&r, "Retry-After")) > 0);
    http_free(&r);
    /* ...while another supervisor still logs in. */
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
}

static void test_bad_requests_keep_server_alive(void **state)
{
    world *w = *state;
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
    http_res r;
    /* A body over the limit. */
    size_t big = PHIEU_REVIEW_MAX_BODY + 100;
    char *body = malloc(big + 1);
    memset(body, 'x', big);
    body[big] = '\0';
    body[0] = '"';
    expect_status(&c, "POST", "/api/login", body, 0, 413);
    free(body);
    /* Chunked, over the limit (no Content-Length to refuse early). */
    phieu_buf raw;
    phieu_buf_init(&raw);
    phieu_buf_printf(&raw, "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 40; i++) {
        phieu_buf_printf(&raw, "400\r\n");
        for (int k = 0; k < 0x400; k++)
            phieu_buf_append(&raw, "y", 1);
        phieu_buf_printf(&raw, "\r\n");
    }
    phieu_buf_printf(&raw, "0\r\n\r\n");
    assert_int_equal(http_raw(w->port, raw.data, raw.len, &r), 0);
    assert_int_equal(r.status, 413);
    http_free(&r);
    phieu_buf_release(&raw);
    /* A header larger than a connection may hold. */
    phieu_buf_init(&raw);
    phieu_buf_printf(&raw, "GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ");
    for (int i = 0; i < PHIEU_REVIEW_CONNECTION_MEMORY + 1000; i++)
        phieu_buf_append(&raw, "z", 1);
    phieu_buf_printf(&raw, "\r\nConnection: close\r\n\r\n");
    assert_int_equal(http_raw(w->port, raw.data, raw.len, &r), 0);
    assert_true(r.status >= 400 && r.status < 500);
    http_free(&r);
    phieu_buf_release(&raw);
    /* Malformed requests. */
    const char *junk[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\nConnection: "
        "close\r\n\r\n",
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 5\r\nConnection: close\r\n\r\n{\"a\":",
        "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\nConnection: close\r\n\r\n[]",
        "DELETE /api/queue HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        int rc = http_raw(w->port, junk[i], strlen(junk[i]), &r);
        /* An answer in 4xx, or the connection closed without one; never a crash. */
        int ok = r.status == 0 || (r.status >= 400 && r.status < 500) ||
                 (i == 1 && r.status == 505); /* "HTTP version not supported" is right */
        if (rc == 0 && !ok)
            fail_msg("request %zu answered %d", i, r.status);
        http_free(&r);
    }
    /* A login with wrong types. */
    assert_int_equal(http(&c, "POST", "/api/login", "{\"user\": 5, \"password\": []}", 0, &r), 0);
    assert_int_equal(r.status, 400);
    http_free(&r);
    /* The server still answers. */
    expect_status(&c, "GET", "/api/me", NULL, 0, 200);
}


/* ---- no accidental decisions; the head's power -------------------------------------------- */

static int log_actions(const char *session, const char *action, const char *needle)
{
    phieu_session *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_session_open(session, &s, &err), 0);
    phieu_log_entry *log = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_log_list(s, &log, &n, &err), 0);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found += strcmp(log[i].action, action) == 0 && (!needle || strstr(log[i].detail, needle));
    assert_int_equal(phieu_session_log_verify(s, &err), 0);
    phieu_session_log_free(log, n);
    phieu_session_close(&s);
    return found;
}

static void test_same_member_refused_then_undo(void **state)
{
    world *w = *state;
    client an = {w->port, "", ""}, binh = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&binh, "binh", "mat-khau-binh"), 200);
    json_t *q = queue(&an);
    const char *id = find_row(q, 2);
    assert_int_equal(decide(&an, id, "trust", NULL), 200);
    /* The same member again: 409 with the reason in Vietnamese; still one decision. */
    json_t *a = NULL;
    assert_int_equal(decide(&an, id, "trust", &a), 409);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "decided-already");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")),
                           "Bạn đã quyết định trường hợp này rồi"));
    json_decref(a);
    json_t *e = exception_json(&an, id);
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 1);
    assert_string_equal(json_string_value(json_object_get(e, "decide")), "decided-already");
    json_decref(e);

    /* Undo before a second member decided: the case is open again, and logged. */
    assert_int_equal(post_exception(&an, id, "undo", "{}", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "open");
    json_decref(a);
    e = exception_json(&binh, id);
    assert_string_equal(json_string_value(json_object_get(e, "state")), "open");
    json_decref(e);
    assert_int_equal(log_actions(w->session, "decision-withdrawn", "taken back by an"), 1);
    /* Bình cannot undo what is not his. */
    assert_int_equal(post_exception(&binh, id, "undo", "{}", NULL), 409);

    /* Decided again, then Bình decides: too late to undo. */
    assert_int_equal(decide(&an, id, "high", NULL), 200);
    assert_int_equal(decide(&binh, id, "high", NULL), 200);
    assert_int_equal(post_exception(&an, id, "undo", "{}", &a), 409);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "undo-too-late");
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "Không hoàn tác"));
    json_decref(a);
    e = exception_json(&an, id);
    assert_string_equal(json_string_value(json_object_get(e, "resolution")), "high");
    assert_int_equal(json_array_size(json_object_get(e, "decisions")), 2);
    json_decref(e);
    json_decref(q);
}

static void test_head_override_needs_confirmation_and_note(void **state)
{
    world *w = *state;
    client an = {w->port, "", ""}, binh = {w->port, "", ""}, head = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    assert_int_equal(login(&binh, "binh", "mat-khau-binh"), 200);
    assert_int_equal(login(&head, "truong", "mat-khau-truong"), 200);
    json_t *q = queue(&an);
    const char *id = find_row(q, 2), *other = find_row(q, 3);
    assert_int_equal(decide(&an, id, "trust", NULL), 200);
    assert_int_equal(decide(&binh, id, "trust", NULL), 200);

    /* The head changes a settled case: refused without a confirmation, then without a
     * note; the case stays as it was. */
    json_t *e = exception_json(&head, id);
    assert_string_equal(json_string_value(json_object_get(e, "decide")), "override");
    json_decref(e);
    json_t *a = NULL;
    assert_int_equal(post_exception(&head, id, "decide", "{\"choice\":\"high\",\"note\":\"\"}", &a),
                     409);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "override-confirm");
    json_decref(a);
    assert_int_equal(post_exception(&head, id, "decide",
                                    "{\"choice\":\"high\",\"note\":\"  \",\"override\":true}", &a),
                     400);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "override-note");
    json_decref(a);
    e = exception_json(&head, id);
    assert_string_equal(json_string_value(json_object_get(e, "resolution")), "trust");
    json_decref(e);
    assert_int_equal(post_exception(&head, id, "decide",
                                    "{\"choice\":\"high\",\"note\":\"tờ giấy: dấu X ở ô cao\","
                                    "\"override\":true}",
                                    &a),
                     200);
    assert_string_equal(json_string_value(json_object_get(a, "resolution")), "high");
    json_decref(a);
    /* Logged as an override naming the earlier decisions, never the choice. */
    assert_int_equal(log_actions(w->session, "override", "overrides decisions #"), 1);
    assert_int_equal(log_actions(w->session, "override", "high"), 0);

    /* The head as second member, disagreeing: settling it again is an override too. */
    assert_int_equal(decide(&an, other, "high", NULL), 200);
    assert_int_equal(decide(&head, other, "invalid", &a), 200);
    assert_string_equal(json_string_value(json_object_get(a, "state")), "head");
    json_decref(a);
    assert_int_equal(decide(&head, other, "invalid", &a), 409);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "override-confirm");
    json_decref(a);
    /* Bình, who has not decided it, is a supervisor: only the head settles it. */
    assert_int_equal(decide(&binh, other, "invalid", &a), 409);
    assert_string_equal(json_string_value(json_object_get(a, "error")), "head-only");
    json_decref(a);
    assert_int_equal(post_exception(&head, other, "decide",
                                    "{\"choice\":\"invalid\",\"note\":\"hai dấu\","
                                    "\"override\":true}",
                                    NULL),
                     200);

    /* The session lists both overrides for the minutes, with their notes. */
    phieu_session *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_override *o = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_overrides_list(s, &o, &n, &err), 0);
    assert_int_equal((int)n, 2);
    int seen_note = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(o[i].user, "truong");
        seen_note += strcmp(o[i].note, "tờ giấy: dấu X ở ô cao") == 0;
        assert_non_null(strstr(o[i].earlier, " an"));
    }
    assert_int_equal(seen_note, 1);
    phieu_free(o);
    phieu_session_close(&s);
    json_decref(q);
}

static void test_note_counts_characters(void **state)
{
    world *w = *state;
    client an = {w->port, "", ""};
    assert_int_equal(login(&an, "an", "mat-khau-an"), 200);
    json_t *q = queue(&an);
    const char *id = find_row(q, 2);
    /* 390 Vietnamese characters ("ế" is 3 bytes): 1170 bytes, accepted. */
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "{\"choice\":\"trust\",\"note\":\"");
    for (int i = 0; i < 390; i++)
        phieu_buf_printf(&b, "ế");
    phieu_buf_printf(&b, "\"}");
    phieu_buf_append(&b, "", 1);
    assert_int_equal(post_exception(&an, id, "decide", b.data, NULL), 200);
    phieu_buf_release(&b);
    /* 401 characters: refused, saying so in characters. */
    const char *other = find_row(q, 3);
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "{\"choice\":\"high\",\"note\":\"");
    for (int i = 0; i < 401; i++)
        phieu_buf_printf(&b, "a");
    phieu_buf_printf(&b, "\"}");
    phieu_buf_append(&b, "", 1);
    json_t *a = NULL;
    assert_int_equal(post_exception(&an, other, "decide", b.data, &a), 400);
    assert_non_null(strstr(json_string_value(json_object_get(a, "message")), "400 ký tự"));
    json_decref(a);
    phieu_buf_release(&b);
    json_decref(q);
}

/* ---- login ------------------------------------------------------------------------------- */

typedef struct login_try {
    int port;
    int status;
} login_try;

static void *wrong_login(void *arg)
{
    login_try *t = arg;
    client anon = {t->port, "", ""};
    http_res r;
    if (http(&anon, "POST", "/api/login", "{\"user\":\"an\",\"password\":\"sai-mat-khau\"}", 0,
             &r) == 0)
        t->status = r.status;
    http_free(&r);
    return NULL;
}

static void test_concurrent_wrong_logins_limited(void **state)
{
    world *w = *state;
    enum { TRIES = 12 };
    pthread_t th[TRIES];
    login_try tries[TRIES];
    for (int i = 0; i < TRIES; i++) {
        tries[i].port = w->port;
        tries[i].status = 0;
        assert_int_equal(pthread_create(&th[i], NULL, wrong_login, &tries[i]), 0);
    }
    int unauthorized = 0, locked = 0;
    for (int i = 0; i < TRIES; i++) {
        pthread_join(th[i], NULL);
        unauthorized += tries[i].status == 401;
        locked += tries[i].status == 429;
    }
    assert_int_equal(unauthorized + locked, TRIES);
    /* Five passwords checked (the limit), no more; the rest refused unchecked. */
    pthread_mutex_lock(&w->log_lock);
    int checked = w->failed_logins;
    pthread_mutex_unlock(&w->log_lock);
    assert_int_equal(checked, 5);
    assert_true(unauthorized <= 5);
    assert_true(locked >= TRIES - 5);
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "an", "mat-khau-an"), 429);
}

static void test_loopback_locks_per_account_and_unlock(void **state)
{
    world *w = *state; /* locks after 3 failures */
    client c = {w->port, "", ""};
    /* 15 failures from 127.0.0.1 over five names: beyond the address limit (12), yet on
     * loopback, which every local user shares, only the names are locked. */
    const char *names[5] = {"x1", "x2", "x3", "x4", "x5"};
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 3; i++)
            login(&c, names[k], "sai");
    assert_int_equal(login(&c, "an", "mat-khau-an"), 200);
    /* Bình's name is locked, whatever its case... */
    client b = {w->port, "", ""};
    for (int i = 0; i < 3; i++)
        login(&b, i ? "binh" : "Binh", "sai");
    assert_int_equal(login(&b, "BINH", "mat-khau-binh"), 429);
    /* ... until `phieu user unlock` (here its library call) lifts it, server running. */
    phieu_session *s = NULL;
    phieu_error err = {0};
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    assert_int_equal(phieu_session_user_unlock(s, "Binh", "operator", &err), 0);
    phieu_session_close(&s);
    assert_int_equal(login(&b, "binh", "mat-khau-binh"), 200);
    assert_int_equal(log_actions(w->session, "user-unlocked", "binh"), 1);
}

static void test_origin_checked(void **state)
{
    world *w = *state;
    char req[512];
    const char *body = "{\"user\":\"an\",\"password\":\"mat-khau-an\"}";
    const char *origins[2] = {"http://evil.example", NULL};
    for (int k = 0; k < 2; k++) {
        char origin[128];
        if (origins[k])
            snprintf(origin, sizeof origin, "%s", origins[k]);
        else
            snprintf(origin, sizeof origin, "http://127.0.0.1:%d", w->port);
        int len = snprintf(req, sizeof req,
                           "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nOrigin: %s\r\n"
                           "Connection: close\r\nContent-Type: application/json\r\n"
                           "Content-Length: %zu\r\n\r\n%s",
                           w->port, origin, strlen(body), body);
        http_res r;
        assert_int_equal(http_raw(w->port, req, (size_t)len, &r), 0);
        assert_int_equal(r.status, origins[k] ? 403 : 200);
        http_free(&r);
    }
}

static void test_user_names(void **state)
{
    world *w = *state;
    phieu_error err = {0};
    assert_int_equal(phieu_user_name_check("Nguyễn.Thị_Lan-2", &err), 0);
    assert_int_equal(phieu_user_name_check("lan<script>", &err), PHIEU_EINVAL);
    assert_int_equal(phieu_user_name_check("lan an", &err), PHIEU_EINVAL);
    assert_int_equal(phieu_user_name_check("", &err), PHIEU_EINVAL);
    phieu_session *s = NULL;
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    /* "AN" is "an"; "Đức" is "đức". */
    assert_int_equal(phieu_session_user_add(s, "AN", PHIEU_ROLE_SUPERVISOR, "mat-khau-AN", NULL,
                                            &err),
                     PHIEU_EEXIST);
    assert_int_equal(phieu_session_user_add(s, "Đức", PHIEU_ROLE_SUPERVISOR, "mat-khau-duc", NULL,
                                            &err),
                     0);
    assert_int_equal(phieu_session_user_add(s, "đức", PHIEU_ROLE_SUPERVISOR, "mat-khau-duc", NULL,
                                            &err),
                     PHIEU_EEXIST);
    phieu_session_close(&s);
    client c = {w->port, "", ""};
    assert_int_equal(login(&c, "ĐỨC", "mat-khau-duc"), 200);
}


/* A rescan of ballot 1 (its faint row 2 too): set aside as a rescan, its row case closes
 * with its page, and opens again when the head counts the page after all. */
static void test_row_cases_close_with_their_page(void **state)
{
    world *w = *state;
    phieu_error err = {0};
    phieu_form *f = NULL;
    phieu_layout lay;
    phieu_image *blank = NULL, *im = NULL, *again = NULL;
    assert_int_equal(load_form(&f, &lay, &blank, &err), 0);
    assert_int_equal(draw_ballot(f, &lay, blank, 0, &im, &err), 0);
    assert_int_equal(rescan(im, &again, &err), 0);
    phieu_session *s = NULL;
    assert_int_equal(phieu_session_open(w->session, &s, &err), 0);
    phieu_batch batch;
    assert_int_equal(phieu_session_batch_open(s, 1, &batch, &err), 0);
    phieu_page_meta meta = {0};
    meta.batch = batch.id;
    phieu_page_result res;
    assert_int_equal(phieu_session_add_page(s, again, &meta, &res, &err), 0);
    phieu_exception *ex = NULL;
    size_t n = 0;
    assert_int_equal(phieu_session_exceptions_list(s, PHIEU_EXC_LIST_ALL, &ex, &n, &err), 0);
    int64_t page = 0, row = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(ex[i].sheet_id, res.sheet_id) == 0) {
            if (ex[i].row == 0)
                page = ex[i].id;
            else
                row = ex[i].id;
        }
    phieu_free(ex);
    assert_true(page > 0 && row > 0);
    phieu_session_progress p0, p1;
    assert_int_equal(phieu_session_progress_get(s, &p0, &err), 0);

    phieu_exception e;
    assert_int_equal(phieu_session_decide(s, page, "an", "discard", "", &e, &err), 0);
    assert_int_equal(phieu_session_decide(s, page, "binh", "discard", "", &e, &err), 0);
    assert_int_equal(phieu_session_exception_get(s, row, &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_RESOLVED);
    assert_string_equal(e.resolution, PHIEU_RESOLUTION_WITH_PAGE);
    assert_int_equal(phieu_session_progress_get(s, &p1, &err), 0);
    assert_int_equal(p1.exceptions_open, p0.exceptions_open - 2); /* the page and its row */
    assert_int_equal(phieu_session_decide(s, row, "an", "trust", "", &e, &err), PHIEU_ESTATE);
    assert_non_null(strstr(err.message, "set aside"));

    /* The head counts the page after all: the row case is open again. */
    assert_int_equal(phieu_session_decide(s, page, "truong", "accept", "not the same paper", &e,
                                          &err),
                     0);
    assert_int_equal(phieu_session_exception_get(s, row, &e, &err), 0);
    assert_int_equal(e.state, PHIEU_EXC_OPEN);
    phieu_session_close(&s);
    phieu_image_destroy(&im);
    phieu_image_destroy(&again);
    phieu_image_destroy(&blank);
    phieu_form_destroy(&f);
}

int main(int argc, char **argv)
{
    phieu_error err = {0};
    if (phieu_util_init(&err) != 0)
        return 1;
    if (argc >= 4 && argc <= 7 && strcmp(argv[1], "--make-ballots") == 0) {
        int with_rescan = 0, upside = 0, faint = 0;
        for (int i = 4; i < argc; i++) {
            with_rescan |= strcmp(argv[i], "rescan") == 0;
            upside |= strcmp(argv[i], "upside") == 0;
            faint |= strcmp(argv[i], "faint") == 0;
        }
        if (make_ballots(argv[2], atoi(argv[3]), with_rescan, upside, faint, &err) != 0) {
            fprintf(stderr, "test_review: %s\n", err.message);
            return 1;
        }
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_addresses),
        cmocka_unit_test_setup_teardown(test_every_endpoint_needs_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_and_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_person_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disagreement_goes_to_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_as_form, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_head_not_offered_tie, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totals_follow_board_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_images, setup, teardown),
        cmocka_unit_test_setup_teardown(test_colour_page_shown_in_colour, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_logins_slowed_then_locked, setup_strict,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_keep_server_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_member_refused_then_undo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_override_needs_confirmation_and_note, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_note_counts_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_wrong_logins_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_locks_per_account_and_unlock, setup_strict,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_origin_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_cases_close_with_their_page, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
