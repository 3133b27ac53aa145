/*
 * fuzz_review.c - libFuzzer target for the review server's request handling: each input is
 * the raw bytes of one HTTP request (request line, headers, cookies, body: form or JSON),
 * sent over loopback to a real server (phieu_review_start on port 0) serving a small
 * session with an exception, a supervisor and a login. The server parses what
 * libmicrohttpd hands it exactly as in use, so no entry point beside the socket is needed.
 * Placeholders in the input are replaced before sending, so that the fuzzer reaches the
 * logged-in routes: @COOKIE@ (a live login's cookie value), @CSRF@ (its token), @EXC@ (an
 * exception number), @SHEET@ (a sheet id). Every input must get an HTTP answer (or a
 * closed connection) within 5 s and leave the server answering; a hang or crash aborts.
 * The same bytes also go through the parsers that need no socket (listen address, cookie,
 * CSRF check).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/session_fixture.h"
#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/pages.h"
#include "phieu/render.h"
#include "phieu/review.h"
#include "phieu/session.h"
#include "review/review_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fontconfig (under pango, rendering the ballot of the fuzz session) keeps its caches for
 * the life of the process; tell LeakSanitizer that this is not a leak of ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig\n";
}

/* An answer slower than this is a hang: every route answers a small session in
 * milliseconds, and a failed login waits nothing here (delay set to 0). */
#define ANSWER_TIMEOUT_MS 5000
#define PASSWORD "mat-khau-lan-1"

typedef struct world {
    char dir[64];
    phieu_review_server *srv;
    int port;
    char cookie[REVIEW_TOKEN_HEX];
    char csrf[REVIEW_TOKEN_HEX];
    char exc[32];
    char sheet[PHIEU_SHEET_ID_MAX];
} world;

static world W;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_review: %s: %s\n", what, detail ? detail : "");
    abort();
}

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends req, half-closes, reads the answer into out (up to cap bytes; the rest is read and
 * dropped). Returns the answer's length, or -1 when the server could not be reached. */
static long exchange(const char *req, size_t len, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)W.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may close early on a bad request: that is an answer */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    int64_t deadline = ms_now() + ANSWER_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - ms_now();
        if (left <= 0)
            die("no answer within 5 s (a hang)", NULL);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        if (got < cap) {
            size_t k = (size_t)n < cap - got ? (size_t)n : cap - got;
            memcpy(out + got, buf, k);
            got += k;
        }
    }
    close(fd);
    if (got < cap)
        out[got] = '\0';
    return (long)got;
}

/* Text between `key` and the next `end` in s, into out. */
static int find_value(const char *s, const char *key, char end, char *out, size_t size)
{
    const char *p = strstr(s, key);
    if (!p)
        return 0;
    p += strlen(key);
    size_t n = 0;
    while (p[n] && p[n] != end && n + 1 < size)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
    return n > 0;
}

static void teardown(void)
{
    phieu_review_stop(&W.srv);
    fixture_rmdir(W.dir);
}

static void setup(void)
{
    phieu_error err = {0};
    signal(SIGPIPE, SIG_IGN);
    if (phieu_util_init(&err) != 0)
        die("init", err.message);
    fixture_tmpdir(W.dir);
    char path[128];
    snprintf(path, sizeof path, "%s/s.db", W.dir);
    phieu_form *form = NULL;
    phieu_layout layout;
    phieu_image *page = NULL;
    if (phieu_form_parse(fixture_rating_form, sizeof fixture_rating_form - 1, "test.form", &form,
                         &err) != 0 ||
        phieu_layout_compute(form, &layout, &err) != 0)
        die("form", err.message);
    phieu_render_options ro = {0, 1};
    if (phieu_render_raster(form, &ro, FIXTURE_DPI, &page, &err) != 0)
        die("render", err.message);
    /* An overvote in row 2, which the session sends to the board. */
    for (int r = 0; r < 4; r++)
        fixture_mark(page, &layout, r, 0, 3, 1.0, 20);
    fixture_mark(page, &layout, 1, 2, 3, 1.0, 20);
    fixture_noise(page, 9); /* a scanned look */
    const phieu_form *forms[1] = {form};
    phieu_session_params p = {0};
    p.council = "Hội đồng nhân dân xã Thử";
    p.session_name = "Kỳ họp thứ Nhất";
    p.date = "2026-11-28";
    p.place = "Hội trường";
    p.delegates = 30;
    p.two_person_rule = 1;
    p.confirm_overvotes = 1;
    p.forms = forms;
    p.n_forms = 1;
    phieu_session *s = NULL;
    phieu_batch b;
    phieu_page_result res;
    if (phieu_session_create(path, &p, &s, &err) != 0 ||
        phieu_session_batch_open(s, 0, &b, &err) != 0)
        die("session", err.message);
    phieu_page_meta meta = {b.id, 0, PHIEU_SIDE_FRONT, NULL, 0, NULL};
    if (phieu_session_add_page(s, page, &meta, &res, &err) != 0 ||
        phieu_session_user_add(s, "lan", PHIEU_ROLE_SUPERVISOR, PASSWORD, "fuzz", &err) != 0 ||
        phieu_session_user_add(s, "truong", PHIEU_ROLE_HEAD, PASSWORD, "fuzz", &err) != 0)
        die("session", err.message);
    snprintf(W.sheet, sizeof W.sheet, "%s", res.sheet_id);
    phieu_exception *exc = NULL;
    size_t n = 0;
    if (phieu_session_exceptions_list(s, PHIEU_EXC_LIST_ALL, &exc, &n, &err) != 0 || n == 0)
        die("no exception in the fuzz session", err.message);
    snprintf(W.exc, sizeof W.exc, "%lld", (long long)exc[0].id);
    phieu_free(exc);
    phieu_session_close(&s);
    phieu_image_destroy(&page);
    phieu_form_destroy(&form);

    phieu_review_options o;
    phieu_review_options_default(&o);
    o.session_path = path;
    o.port = 0;
    o.login_delay_ms = 0;
    o.login_delay_max_ms = 0;
    o.login_lock_after = 1 << 20; /* the fuzzer guesses passwords: never lock "lan" out */
    o.login_lock_seconds = 0;
    if (phieu_review_start(&o, &W.srv, &err) != 0)
        die("server", err.message);
    W.port = phieu_review_port(W.srv);
    atexit(teardown);

    static char answer[1 << 16];
    const char body[] = "{\"user\":\"lan\",\"password\":\"" PASSWORD "\"}";
    char req[512];
    int len = snprintf(req, sizeof req,
                       "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                       "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                       sizeof body - 1, body);
    if (exchange(req, (size_t)len, answer, sizeof answer - 1) <= 0 ||
        !find_value(answer, REVIEW_COOKIE "=", ';', W.cookie, sizeof W.cookie) ||
        !(find_value(answer, "\"csrf\":\"", '"', W.csrf, sizeof W.csrf) ||
          find_value(answer, "\"csrf\": \"", '"', W.csrf, sizeof W.csrf)))
        die("login", answer);
}

/* The input with its placeholders replaced. */
static char *expand(const uint8_t *data, size_t size, size_t *out_len)
{
    static const char *const names[] = {"@COOKIE@", "@CSRF@", "@EXC@", "@SHEET@"};
    const char *values[] = {W.cookie, W.csrf, W.exc, W.sheet};
    size_t cap = size * 11 + 1; /* a value is at most 64/6 times its placeholder (@CSRF@) */
    char *out = malloc(cap);
    if (!out)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < size;) {
        int hit = 0;
        for (int k = 0; k < 4 && !hit; k++) {
            size_t n = strlen(names[k]);
            if (i + n <= size && memcmp(data + i, names[k], n) == 0) {
                size_t v = strlen(values[k]);
                memcpy(out + o, values[k], v);
                o += v;
                i += n;
                hit = 1;
            }
        }
        if (!hit)
            out[o++] = (char)data[i++];
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!W.srv)
        setup();
    if (size > 1 << 16)
        return 0; /* the server refuses big requests early; nothing more to learn */
    size_t len;
    char *req = expand(data, size, &len);

    /* The parsers that need no socket, on the same bytes as text. */
    char host[128];
    int port;
    phieu_review_parse_listen(req, host, sizeof host, &port, NULL);
    phieu_review_host_is_loopback(req);
    review_login who;
    review_auth_identify(&W.srv->auth, req, &who);
    if (who.used)
        review_auth_csrf_ok(&who, req);

    static char answer[1 << 16];
    long got = exchange(req, len, answer, sizeof answer - 1);
    free(req);
    if (got < 0)
        die("the server stopped answering", NULL);
    if (getenv("FUZZ_REVIEW_VERBOSE")) /* the status line and the start of the body */
        fprintf(stderr, "%.*s\n", (int)(got < 400 ? got : 400), answer);
    if (got > 0 && strncmp(answer, "HTTP/1.", 7) != 0)
        die("an answer that is not HTTP", answer);
    /* 500 means a handler of ours failed on input it should have refused (libmicrohttpd
     * itself answers 501/505 to methods and versions it does not speak: fine). */
    if (got > 12 && strncmp(answer + 9, "500", 3) == 0)
        die("a server error", answer);
    return 0;
}
