/*
 * data.c - the review server's JSON API and images over the session: login against the
 * session's accounts, the queue, one exception with its reading, decisions (through
 * phieu_session_decide: audit log, two-person rule), the live totals, and scaled pages and
 * row crops by sheet id. The HTTP side (gates, limits, headers) is in server.c; the rules of
 * deciding and counting are the session's and the tally's, not ours.
 */
#include <jansson.h>
#include <microhttpd.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "phieu/accounts.h"
#include "phieu/alloc.h"
#include "phieu/decisions.h"
#include "phieu/image.h"
#include "phieu/pages.h"
#include "phieu/picture.h"
#include "phieu/session.h"
#include "phieu/tally.h"
#include "review/board_read.h"
#include "review/review_internal.h"

/* Image sizes served. A 300 dpi A4 page is 2480 x 3508 pixels: the page view needs about
 * a screen's height, the thumbnail a list line; row crops are served at the scan's own
 * resolution (up to 2000 pixels wide) so that a faint mark stays sharp. */
#define REVIEW_PAGE_MAX_W 1240
#define REVIEW_PAGE_MAX_H 1754
#define REVIEW_THUMB_MAX_W 120
#define REVIEW_THUMB_MAX_H 170
#define REVIEW_ROW_MAX_W 2000
#define REVIEW_ROW_MAX_H 400

/* Pages decoded at once for the screen's images: a browser asks for several images
 * together and each connection has its thread, while a 600 dpi colour page takes about
 * 105 MB decoded; decoding is CPU work, which more threads than cores do not speed up. */
#define REVIEW_MAX_DECODES 2

struct review_data {
    pthread_mutex_t lock; /* one session handle, used by one thread at a time */
    phieu_session *session;
    sem_t decodes; /* REVIEW_MAX_DECODES slots for decoding a page */
};

int review_data_open(const char *session_path, review_data **out, phieu_error *err)
{
    review_data *d = phieu_calloc(1, sizeof *d);
    if (!d)
        return phieu_error_set(err, PHIEU_ENOMEM, "review: out of memory");
    if (pthread_mutex_init(&d->lock, NULL) != 0) {
        phieu_free(d);
        return phieu_error_set(err, PHIEU_ENOMEM, "review: cannot create a lock");
    }
    if (sem_init(&d->decodes, 0, REVIEW_MAX_DECODES) != 0) {
        pthread_mutex_destroy(&d->lock);
        phieu_free(d);
        return phieu_error_set(err, PHIEU_ENOMEM, "review: cannot create a semaphore");
    }
    int rc = phieu_session_open(session_path, &d->session, err);
    if (rc != 0) {
        sem_destroy(&d->decodes);
        pthread_mutex_destroy(&d->lock);
        phieu_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void review_data_close(review_data **dp)
{
    if (!dp || !*dp)
        return;
    review_data *d = *dp;
    phieu_session_close(&d->session);
    sem_destroy(&d->decodes);
    pthread_mutex_destroy(&d->lock);
    phieu_free(d);
    *dp = NULL;
}

/* ---- helpers ---------------------------------------------------------------------------- */

static int status_of(int code)
{
    switch (code) {
    case PHIEU_EINVAL:
        return MHD_HTTP_BAD_REQUEST;
    case PHIEU_ENOTFOUND:
        return MHD_HTTP_NOT_FOUND;
    case PHIEU_ESTATE:
    case PHIEU_EEXIST:
        return MHD_HTTP_CONFLICT;
    case PHIEU_ELIMIT:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case PHIEU_ENOMEM:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    default:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

/* A failure of the session, in the screen's words: a Vietnamese sentence by kind, and the
 * library's exact words in English beside it. */
static void fail(review_response *res, const phieu_error *err)
{
    int status = status_of(err->code);
    const char *vi;
    switch (status) {
    case MHD_HTTP_BAD_REQUEST: vi = "Máy không nhận yêu cầu này"; break;
    case MHD_HTTP_NOT_FOUND: vi = "Không tìm thấy: có thể trường hợp này không còn nữa; hãy về hàng chờ"; break;
    case MHD_HTTP_CONFLICT: vi = "Không làm được lúc này"; break;
    case MHD_HTTP_SERVICE_UNAVAILABLE: vi = "Máy đang thiếu bộ nhớ; hãy thử lại sau ít phút"; break;
    default: vi = "Máy gặp lỗi khi đọc hoặc ghi kỳ họp; hãy báo người vận hành"; break;
    }
    char msg[sizeof err->message + 200];
    snprintf(msg, sizeof msg, "%s (%s)", vi, err->message);
    review_error_lang(res, status, phieu_error_code_name(err->code), msg, err->message);
}

/* The number of characters (UTF-8 code points) of text: a limit a person can follow. */
static size_t utf8_chars(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* The words of a phieu_decide_kind for the screen: code, Vietnamese, English. */
static const char *kind_code(int kind)
{
    switch (kind) {
    case PHIEU_DECIDE_OVERRIDE: return "override";
    case PHIEU_DECIDE_AGAIN: return "decided-already";
    case PHIEU_DECIDE_HEAD_ONLY: return "head-only";
    case PHIEU_DECIDE_SETTLED: return "settled";
    default: return "ok";
    }
}

static void kind_refused(review_response *res, int kind)
{
    switch (kind) {
    case PHIEU_DECIDE_AGAIN:
        review_error_lang(res, MHD_HTTP_CONFLICT, kind_code(kind),
                          "Bạn đã quyết định trường hợp này rồi. Theo quy tắc hai người, một "
                          "thành viên khác phải quyết định.",
                          "You have decided this case already. Under the two-person rule "
                          "another member must decide it.");
        break;
    case PHIEU_DECIDE_HEAD_ONLY:
        review_error_lang(res, MHD_HTTP_CONFLICT, kind_code(kind),
                          "Hai thành viên đã quyết định khác nhau: chỉ Trưởng ban quyết định "
                          "được trường hợp này.",
                          "Two members decided differently: only the head of the board can "
                          "decide this case.");
        break;
    default:
        review_error_lang(res, MHD_HTTP_CONFLICT, kind_code(kind),
                          "Trường hợp này đã xong. Chỉ Trưởng ban có thể thay đổi, kèm xác "
                          "nhận và ghi chú lý do.",
                          "This case is settled. Only the head of the board can change it, "
                          "with a confirmation and a note.");
        break;
    }
}

static void send_json(review_response *res, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    review_json_text(res, status, text);
}

/* What a person calls the form: its short display name, else its printed title. */
static const char *form_name(const phieu_form *f)
{
    return !f ? NULL : f->name ? f->name : f->title;
}

static const char *role_name(int role)
{
    return role == PHIEU_ROLE_HEAD ? "head" : "supervisor";
}

static const char *state_name(int state)
{
    switch (state) {
    case PHIEU_EXC_OPEN:
        return "open";
    case PHIEU_EXC_SECOND:
        return "second";
    case PHIEU_EXC_HEAD:
        return "head";
    default:
        return "resolved";
    }
}

/* An exception id from its decimal text; 0 when the text is not one. */
/* A positive decimal id, or 0 for anything else (empty, a non-digit, or too large for
 * int64_t: a 19-digit number can overflow, which would be undefined behaviour). */
static int64_t parse_id(const char *s, size_t len)
{
    if (len == 0 || len > 19)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        int digit = s[i] - '0';
        if (v > (INT64_MAX - digit) / 10)
            return 0;
        v = v * 10 + digit;
    }
    return v;
}

static int valid_sheet_id(const char *s, size_t len)
{
    if (len != PHIEU_SHEET_ID_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static json_t *body_json(const review_request *req, review_response *res)
{
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        review_error(res, MHD_HTTP_BAD_REQUEST, "json", "the request body is not a JSON object");
        return NULL;
    }
    return j;
}

/* Whether the user may see who decided what on this exception: the two-person rule
 * hides one supervisor's decision from the other until it is settled; the head sees
 * all when the decisions disagree. */
static int may_see_decisions(const phieu_session_info *info, const phieu_exception *e,
                             const review_login *l)
{
    if (!info->two_person_rule || e->state == PHIEU_EXC_RESOLVED)
        return 1;
    return e->state == PHIEU_EXC_HEAD && strcmp(l->role, "head") == 0;
}

/* The user's own latest decision on an exception into out ("" if none). */
static int my_decision(phieu_session *s, int64_t id, const char *user, char *out, size_t size,
                       phieu_error *err)
{
    out[0] = '\0';
    phieu_decision *d = NULL;
    size_t n = 0;
    int rc = phieu_session_decisions_list(s, id, &d, &n, err);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].user, user) == 0)
            snprintf(out, size, "%s", d[i].choice);
    phieu_free(d);
    return 0;
}

/* Whether this user can decide the exception now: open; waiting for a second person who
 * is not this user; waiting for the head and the user is the head, unless the head is one
 * of the board's readers of the page (a reader never breaks the tie on their own reading;
 * phieu_session_decide refuses it, so the queue must not offer it). */
static int needs_user(const phieu_exception *e, const review_login *l, const char *mine)
{
    switch (e->state) {
    case PHIEU_EXC_OPEN:
        return 1;
    case PHIEU_EXC_SECOND:
        return mine[0] == '\0';
    case PHIEU_EXC_HEAD:
        return strcmp(l->role, "head") == 0 &&
               strncmp(mine, PHIEU_CHOICE_READ_PREFIX, strlen(PHIEU_CHOICE_READ_PREFIX)) != 0;
    default:
        return 0;
    }
}

/* The sheet a possible-duplicate exception names as the earlier scan of the same paper
 * (the exception's duplicate_of), so that the board can compare the two; 0 when none. */
static int twin_of(const phieu_exception *e, char out[PHIEU_SHEET_ID_MAX])
{
    if (!e->duplicate_of[0])
        return 0;
    snprintf(out, PHIEU_SHEET_ID_MAX, "%s", e->duplicate_of);
    return 1;
}

/* ---- login ------------------------------------------------------------------------------ */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* Refuses a login to a locked name: 429 with Retry-After `seconds`, in both languages;
 * `more`: the name was locked before this try ("locked for N more minutes"). */
static void locked_reply(review_response *res, int seconds, int more)
{
    snprintf(res->retry_after, sizeof res->retry_after, "%d", seconds);
    char vi[300], en[300];
    snprintf(vi, sizeof vi,
             "Đăng nhập sai quá nhiều lần: tên này bị khóa %s%d phút. Trưởng ban có thể "
             "mở khóa bằng lệnh 'phieu user unlock'.",
             more ? "thêm " : "", (seconds + 59) / 60);
    snprintf(en, sizeof en,
             "too many failed logins: this name is locked for %d %sminute(s); the head "
             "of the board can lift it with 'phieu user unlock'",
             (seconds + 59) / 60, more ? "more " : "");
    review_error_lang(res, MHD_HTTP_TOO_MANY_REQUESTS, "locked", vi, en);
}

/* A login that failed with rc: counted against the name and the client, logged, slowed
 * down, and answered (wrong name or password, locked now, or the session's error). */
static void login_failed(review_request *req, review_response *res, const char *user, int rc,
                         const phieu_error *err)
{
    phieu_review_server *srv = req->srv;
    int locked = 0;
    int delay = review_auth_failed(&srv->auth, user, req->client, &locked);
    /* The name as typed goes to the log with control characters masked, so that a
     * name cannot forge log lines. */
    char shown[REVIEW_NAME_MAX];
    size_t k = 0;
    for (; user[k] && k < sizeof shown - 1; k++)
        shown[k] = (unsigned char)user[k] < 0x20 || user[k] == 0x7f ? '?' : user[k];
    shown[k] = '\0';
    review_log(srv, "failed login for '%s' from %s%s", shown, req->client,
               locked ? "; locked" : "");
    sleep_ms(delay);
    if (rc != PHIEU_ENOTFOUND && rc != PHIEU_EINVAL)
        fail(res, err);
    else if (locked)
        locked_reply(res, srv->auth.lock_seconds, 0);
    else
        review_error_lang(res, MHD_HTTP_UNAUTHORIZED, "login", "Sai tên hoặc mật khẩu.",
                          "wrong name or password");
}

void review_api_login(review_request *req, review_response *res)
{
    phieu_review_server *srv = req->srv;
    json_t *j = body_json(req, res);
    if (!j)
        return;
    const char *user = json_string_value(json_object_get(j, "user"));
    const char *password = json_string_value(json_object_get(j, "password"));
    if (!user || !password || !*user || strlen(user) >= REVIEW_NAME_MAX ||
        strlen(password) > 1024) {
        json_decref(j);
        review_error(res, MHD_HTTP_BAD_REQUEST, "login", "give a user name and a password");
        return;
    }
    char stamp[64] = "";
    phieu_error serr = {0};
    pthread_mutex_lock(&srv->data->lock);
    int src = phieu_session_user_unlock_stamp(srv->data->session, user, stamp, sizeof stamp, &serr);
    pthread_mutex_unlock(&srv->data->lock);
    int wait = review_auth_begin(&srv->auth, user, req->client, src == 0 ? stamp : NULL);
    if (wait > 0) {
        json_decref(j);
        locked_reply(res, wait, 1);
        return;
    }
    /* Only the lookup needs the shared session; the argon2id work runs outside its lock so
     * that one login does not stall every other supervisor's screen. */
    phieu_credentials cred;
    phieu_error err = {0};
    pthread_mutex_lock(&srv->data->lock);
    int rc = phieu_session_credentials(srv->data->session, user, &cred, &err);
    pthread_mutex_unlock(&srv->data->lock);
    if (rc == 0)
        rc = phieu_credentials_check(&cred, password, &err);
    phieu_user u = cred.user;
    sodium_memzero(&cred, sizeof cred);
    if (rc != 0) {
        login_failed(req, res, user, rc, &err);
        json_decref(j);
        return;
    }
    review_login l;
    if (review_auth_succeeded(&srv->auth, u.name, req->client, role_name(u.role), &l) != 0) {
        json_decref(j);
        review_error(res, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                     "too many people are logged in; ask one to log out");
        return;
    }
    json_decref(j);
    snprintf(res->set_cookie, sizeof res->set_cookie,
             REVIEW_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", l.token);
    review_log(srv, "login '%s' (%s) from %s", l.user, l.role, req->client);
    send_json(res, MHD_HTTP_OK,
              json_pack("{s:s, s:s, s:s}", "user", l.user, "role", l.role, "csrf", l.csrf));
}

static void api_logout(review_request *req, review_response *res)
{
    review_auth_logout(&req->srv->auth, req->login.token);
    snprintf(res->set_cookie, sizeof res->set_cookie,
             REVIEW_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    send_json(res, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1));
}

static void api_me(review_request *req, review_response *res)
{
    review_data *d = req->srv->data;
    pthread_mutex_lock(&d->lock);
    const phieu_session_info *info = phieu_session_get_info(d->session);
    json_t *forms = json_array();
    for (int i = 0; i < info->n_forms; i++)
        json_array_append_new(forms, json_pack("{s:s, s:s, s:s, s:s?}", "id", info->forms[i]->id,
                                               "title", info->forms[i]->title, "name",
                                               form_name(info->forms[i]), "council",
                                               info->forms[i]->council));
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:{s:s?, s:s?, s:s?, s:b, s:b, s:o}}", "user", req->login.user,
                  "role", req->login.role, "csrf", req->login.csrf, "session", "council",
                  info->council, "name", info->session_name, "date", info->date, "test", info->test,
                  "two_person_rule", info->two_person_rule, "forms", forms);
    pthread_mutex_unlock(&d->lock);
    send_json(res, MHD_HTTP_OK, j);
}

/* ---- queue ------------------------------------------------------------------------------ */

/* One item of the queue: the exception, where its paper is, its form and person, this
 * member's own choice (mine) and whether it awaits them. */
static json_t *queue_item_json(const phieu_session_info *info, const phieu_exception *e,
                               const char *mine, int awaits_me)
{
    const phieu_form *f =
        e->form_index >= 0 && e->form_index < info->n_forms ? info->forms[e->form_index] : NULL;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)e->id);
    const char *person =
        f && e->row >= 1 && e->row <= f->n_rows ? f->rows[e->row - 1].name : NULL;
    json_t *item =
        json_pack("{s:s, s:s, s:i, s:s?, s:s, s:s, s:s, s:s?, s:s?, s:I, s:i, s:s, "
                  "s:b, s:s?}",
                  "id", id, "sheet", e->sheet_id, "row", e->row, "person", person, "reason",
                  e->reason, "text", e->text, "state", state_name(e->state), "form",
                  f ? f->id : NULL, "form_title", f ? f->title : NULL, "batch",
                  (json_int_t)e->batch, "position", e->position, "mine", mine, "todo", awaits_me,
                  "resolution", e->state == PHIEU_EXC_RESOLVED ? e->resolution : NULL);
    json_object_set_new(item, "form_name", f ? json_string(form_name(f)) : json_null());
    return item;
}

static void api_queue(review_request *req, review_response *res)
{
    review_data *d = req->srv->data;
    const char *filter = review_query(req, "reason");
    if (filter && !*filter)
        filter = NULL;
    phieu_error err = {0};
    phieu_exception *items = NULL;
    size_t n = 0;
    pthread_mutex_lock(&d->lock);
    const phieu_session_info *info = phieu_session_get_info(d->session);
    int rc = phieu_session_exceptions_list(d->session, PHIEU_EXC_LIST_ALL, &items, &n, &err);
    if (rc != 0) {
        pthread_mutex_unlock(&d->lock);
        fail(res, &err);
        return;
    }
    json_t *list = json_array(), *reasons = json_object();
    int open = 0, decided = 0, second = 0, head = 0, awaiting_me = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        phieu_exception *e = &items[i];
        char mine[PHIEU_CHOICE_MAX];
        rc = my_decision(d->session, e->id, req->login.user, mine, sizeof mine, &err);
        if (rc != 0)
            break;
        int awaits_me = needs_user(e, &req->login, mine);
        if (e->state == PHIEU_EXC_RESOLVED)
            decided++;
        else
            open++;
        second += e->state == PHIEU_EXC_SECOND;
        head += e->state == PHIEU_EXC_HEAD;
        awaiting_me += awaits_me;
        if (e->state != PHIEU_EXC_RESOLVED) {
            json_t *c = json_object_get(reasons, e->reason);
            json_object_set_new(reasons, e->reason,
                                json_integer(c ? json_integer_value(c) + 1 : 1));
        }
        if (filter && strcmp(filter, e->reason) != 0)
            continue;
        json_array_append_new(list, queue_item_json(info, e, mine, awaits_me));
    }
    pthread_mutex_unlock(&d->lock);
    phieu_free(items);
    if (rc != 0) {
        json_decref(list);
        json_decref(reasons);
        fail(res, &err);
        return;
    }
    send_json(res, MHD_HTTP_OK,
              json_pack("{s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:o, s:o}", "counts", "open", open,
                        "decided", decided, "second", second, "head", head, "todo", awaiting_me,
                        "total", (int)n, "reasons", reasons, "items", list));
}

/* ---- one exception --------------------------------------------------------------------- */

/* The archive path of a sheet's image; PHIEU_ENOTFOUND for an unreadable file. */
static int sheet_image_path(phieu_session *s, const phieu_sheet *sh, char *path, size_t size,
                            phieu_error *err)
{
    if (sh->unreadable)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "sheet '%s' has no image: its file could not be decoded", sh->id);
    return phieu_session_image_path(s, sh->sha256, 0, path, size, err);
}

static int load_image(const char *path, phieu_image **img, phieu_error *err)
{
    phieu_image_limits lim = phieu_image_default_limits();
    return phieu_image_load(path, 0, &lim, img, err);
}

static int load_sheet_image(phieu_session *s, const phieu_sheet *sh, phieu_image **img,
                            phieu_error *err)
{
    char path[4096];
    int rc = sheet_image_path(s, sh, path, sizeof path, err);
    return rc != 0 ? rc : load_image(path, img, err);
}

/* The size of a sheet's image, to place the outlines: remembered in the cache, since
 * decoding a 300 dpi page takes longer than everything else in a request. Called with the
 * session's lock held (the first time it decodes the image). */
static void image_size(phieu_review_server *srv, phieu_session *s, const phieu_sheet *sh, int *w,
                       int *h)
{
    char key[64];
    snprintf(key, sizeof key, "%s/size", sh->id);
    uint8_t *data;
    size_t len;
    int size[2] = {0, 0};
    if (review_cache_get(srv->cache, key, &data, &len)) {
        if (len == sizeof size)
            memcpy(size, data, sizeof size);
        phieu_free(data);
    } else {
        phieu_image *img = NULL;
        phieu_error err = {0};
        if (load_sheet_image(s, sh, &img, &err) == 0) {
            size[0] = img->width;
            size[1] = img->height;
            review_cache_put(srv->cache, key, (const uint8_t *)size, sizeof size);
        }
        phieu_image_destroy(&img);
    }
    *w = size[0];
    *h = size[1];
}

static json_t *choices_for(const phieu_session_info *info, const phieu_exception *e,
                           const phieu_sheet *sh)
{
    json_t *c = json_array();
    const phieu_form *f =
        e->form_index >= 0 && e->form_index < info->n_forms ? info->forms[e->form_index] : NULL;
    if (e->row > 0 && f) {
        for (int i = 0; i < f->n_choices; i++)
            json_array_append_new(c, json_pack("{s:s, s:s, s:s}", "choice", f->choices[i].key,
                                               "kind", "choice", "label", f->choices[i].label));
        json_array_append_new(
            c, json_pack("{s:s, s:s}", "choice", PHIEU_CHOICE_INVALID, "kind", "row-invalid"));
        return c;
    }
    /* A page rejected for its form code: "count as form X", one per form of the session. */
    if (e->row == 0 && sh->side == PHIEU_SIDE_FRONT && !sh->unreadable &&
        (strcmp(e->reason, PHIEU_REASON_CODE_UNREADABLE) == 0 ||
         strcmp(e->reason, PHIEU_REASON_WRONG_FORM) == 0))
        for (int i = 0; i < info->n_forms; i++) {
            char choice[PHIEU_CHOICE_MAX];
            int len = snprintf(choice, sizeof choice, "%s%s", PHIEU_CHOICE_FORM_PREFIX,
                               info->forms[i]->id);
            if (len > 0 && (size_t)len < sizeof choice)
                json_array_append_new(c, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?}", "choice",
                                                   choice, "kind", "form", "form",
                                                   info->forms[i]->id, "title",
                                                   info->forms[i]->title, "name",
                                                   form_name(info->forms[i]), "council",
                                                   info->forms[i]->council));
        }
    if (f && sh->status != PHIEU_PAGE_REJECTED)
        json_array_append_new(
            c, json_pack("{s:s, s:s}", "choice", PHIEU_CHOICE_ACCEPT, "kind", "accept"));
    if (f || info->n_forms == 1 || sh->side != PHIEU_SIDE_FRONT)
        json_array_append_new(
            c, json_pack("{s:s, s:s}", "choice", PHIEU_CHOICE_INVALID, "kind", "ballot-invalid"));
    else /* no known form: invalid "under form X", so it counts in that form's collected */
        for (int i = 0; i < info->n_forms; i++) {
            char choice[PHIEU_CHOICE_MAX];
            int len = snprintf(choice, sizeof choice, "%s%s", PHIEU_CHOICE_INVALID_FORM_PREFIX,
                               info->forms[i]->id);
            if (len > 0 && (size_t)len < sizeof choice)
                json_array_append_new(c, json_pack("{s:s, s:s, s:s, s:s}", "choice", choice,
                                                   "kind", "ballot-invalid", "form",
                                                   info->forms[i]->id, "title",
                                                   info->forms[i]->title));
        }
    json_array_append_new(
        c, json_pack("{s:s, s:s}", "choice", PHIEU_CHOICE_DISCARD, "kind", "discard"));
    return c;
}

static json_t *row_json(const phieu_session_info *info, const phieu_reading *r, const phieu_form *f,
                        const phieu_layout *lay, int row, int img_w, int img_h)
{
    const phieu_row_reading *rr = NULL;
    for (int i = 0; i < r->n_rows; i++)
        if (r->rows[i].row == row)
            rr = &r->rows[i];
    const phieu_form_row *fr = row >= 1 && row <= f->n_rows ? &f->rows[row - 1] : NULL;
    json_t *boxes = json_array();
    for (int c = 0; rr && c < f->n_choices; c++) {
        const phieu_box_reading *b = &rr->boxes[c];
        json_array_append_new(boxes, json_pack("{s:s, s:s, s:f, s:f, s:f, s:s}", "choice",
                                               f->choices[c].key, "label", f->choices[c].label,
                                               "score", (double)b->score, "coverage",
                                               (double)b->coverage, "darkness", (double)b->darkness,
                                               "state", phieu_box_state_name(b->state)));
    }
    json_t *rect = json_null();
    if (phieu_picture_placed(r) && row >= 1 && row <= lay->n_rows && img_w > 0 && img_h > 0) {
        double box[4];
        phieu_picture_box(r->transform, lay->rows[row - 1], 0, box);
        rect = json_pack("{s:f, s:f, s:f, s:f}", "x", box[0] / img_w, "y", box[1] / img_h, "w",
                         (box[2] - box[0]) / img_w, "h", (box[3] - box[1]) / img_h);
    }
    (void)info;
    return json_pack("{s:i, s:s?, s:s?, s:s, s:o, s:o}", "row", row, "name", fr ? fr->name : NULL,
                     "post", fr ? fr->post : NULL, "reading",
                     rr ? phieu_row_decision_name(f, rr->decision) : "none", "boxes", boxes, "rect",
                     rect);
}

/* The next exception this user can decide after `after` (in queue order, wrapping). */
static int next_for_user(phieu_session *s, const review_login *l, int64_t after, char *out,
                         size_t size, phieu_error *err)
{
    out[0] = '\0';
    phieu_exception *items = NULL;
    size_t n = 0;
    int rc = phieu_session_exceptions_list(s, PHIEU_EXC_LIST_UNRESOLVED, &items, &n, err);
    if (rc != 0)
        return rc;
    size_t start = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].id == after)
            start = i + 1;
    for (size_t k = 0; k < n && rc == 0; k++) {
        phieu_exception *e = &items[(start + k) % n];
        if (e->id == after)
            continue;
        char mine[PHIEU_CHOICE_MAX];
        rc = my_decision(s, e->id, l->user, mine, sizeof mine, err);
        if (rc == 0 && needs_user(e, l, mine)) {
            snprintf(out, size, "%lld", (long long)e->id);
            break;
        }
    }
    phieu_free(items);
    return rc;
}

/* The rows the board sees with exception e: its row, or for a page exception the whole
 * reading, so the board sees what would count (f: the exception's form, or NULL). */
static json_t *exception_rows_json(const phieu_session_info *info, const phieu_exception *e,
                                   const phieu_form *f, const phieu_reading *r, int img_w,
                                   int img_h)
{
    json_t *rows = json_array();
    if (f && r->form_index >= 0) {
        if (e->row > 0)
            json_array_append_new(
                rows, row_json(info, r, f, &info->layouts[e->form_index], e->row, img_w, img_h));
        else
            for (int i = 1; i <= f->n_rows; i++)
                json_array_append_new(
                    rows, row_json(info, r, f, &info->layouts[e->form_index], i, img_w, img_h));
    }
    return rows;
}

/* The decisions made on e that login l may see (its own always); its own choice into mine
 * (PHIEU_CHOICE_MAX bytes, "" when it has not decided). */
static json_t *decisions_json(const phieu_session_info *info, const phieu_exception *e,
                              const review_login *l, const phieu_decision *dec, size_t n_dec,
                              char *mine)
{
    json_t *decisions = json_array();
    int see = may_see_decisions(info, e, l);
    for (size_t i = 0; i < n_dec; i++) {
        if (strcmp(dec[i].user, l->user) == 0)
            snprintf(mine, PHIEU_CHOICE_MAX, "%s", dec[i].choice);
        if (see || strcmp(dec[i].user, l->user) == 0)
            json_array_append_new(decisions,
                                  json_pack("{s:s, s:s, s:s, s:s, s:s}", "user", dec[i].user,
                                            "role", role_name(dec[i].role), "choice", dec[i].choice,
                                            "note", dec[i].note, "time", dec[i].time));
    }
    return decisions;
}

/* The reader's reasons for the page: code, text and row. */
static json_t *reasons_json(const phieu_reading *r)
{
    json_t *reasons = json_array();
    for (int i = 0; i < r->n_reasons; i++)
        json_array_append_new(reasons,
                              json_pack("{s:s, s:s, s:i}", "code", r->reasons[i].code, "text",
                                        r->reasons[i].text, "row", r->reasons[i].row));
    return reasons;
}

/* The other sheet a possible rescan or double feed names, or null when there is none or it
 * cannot be read. */
static json_t *twin_json(phieu_session *s, const phieu_exception *e)
{
    json_t *twin = json_null();
    char twin_id[PHIEU_SHEET_ID_MAX];
    phieu_sheet tw;
    phieu_error terr = {0};
    phieu_reading *tr = phieu_calloc(1, sizeof *tr);
    if (tr && twin_of(e, twin_id) && phieu_session_sheet_get(s, twin_id, &tw, tr, &terr) == 0)
        twin = json_pack("{s:s, s:I, s:i, s:b, s:b}", "sheet", tw.id, "batch", (json_int_t)tw.batch,
                         "position", tw.position, "has_image", !tw.unreadable, "upside_down",
                         tr->upside_down);
    phieu_free(tr);
    return twin;
}

/* Exception id, its sheet and the page's reading (as the form the board set, when it
 * set one) into e, sh and r. */
static int exception_reading(phieu_session *s, int64_t id, phieu_exception *e, phieu_sheet *sh,
                             phieu_reading *r, phieu_error *err)
{
    int rc = phieu_session_exception_get(s, id, e, err);
    if (rc == 0)
        rc = phieu_session_sheet_get(s, e->sheet_id, sh, r, err);
    if (rc == 0) {
        /* A page whose form the board set shows its reading as that form. */
        rc = phieu_session_sheet_board_reading(s, e->sheet_id, NULL, r, err);
        if (rc == PHIEU_ENOTFOUND) /* r still holds the machine's reading */
            rc = 0;
    }
    return rc;
}

/* What `user` may do with exception id (PHIEU_DECIDE_…); settled when the user is gone:
 * nothing to decide. */
static int decide_kind(phieu_session *s, int64_t id, const char *user)
{
    int kind = PHIEU_DECIDE_OK;
    phieu_error kerr = {0};
    if (phieu_session_decision_check(s, id, user, &kind, &kerr) != 0)
        kind = PHIEU_DECIDE_SETTLED;
    return kind;
}

/* The exception's fields beside the packed ones: what deciding means for this user, the
 * form's printed name and council, the note's limit. */
static void exception_extras(json_t *j, int kind, const phieu_form *f)
{
    json_object_set_new(j, "decide", json_string(kind_code(kind)));
    json_object_set_new(j, "form_name", f ? json_string(form_name(f)) : json_null());
    json_object_set_new(j, "form_council", f && f->council ? json_string(f->council) : json_null());
    json_object_set_new(j, "note_max", json_integer(PHIEU_NOTE_CHARS));
}

static void api_exception(review_request *req, review_response *res, int64_t id)
{
    review_data *d = req->srv->data;
    phieu_error err = {0};
    phieu_exception e;
    phieu_sheet sh;
    phieu_reading *r = phieu_calloc(1, sizeof *r);
    phieu_decision *dec = NULL;
    size_t n_dec = 0;
    if (!r) {
        review_error(res, MHD_HTTP_SERVICE_UNAVAILABLE, "memory", "out of memory");
        return;
    }
    pthread_mutex_lock(&d->lock);
    const phieu_session_info *info = phieu_session_get_info(d->session);
    int rc = exception_reading(d->session, id, &e, &sh, r, &err);
    if (rc == 0)
        rc = phieu_session_decisions_list(d->session, id, &dec, &n_dec, &err);
    char next[24] = "";
    if (rc == 0)
        rc = next_for_user(d->session, &req->login, id, next, sizeof next, &err);
    if (rc != 0) {
        pthread_mutex_unlock(&d->lock);
        phieu_free(r);
        phieu_free(dec);
        fail(res, &err);
        return;
    }
    int img_w = 0, img_h = 0;
    if (phieu_picture_placed(r))
        image_size(req->srv, d->session, &sh, &img_w, &img_h);
    const phieu_form *f =
        e.form_index >= 0 && e.form_index < info->n_forms ? info->forms[e.form_index] : NULL;
    json_t *rows = exception_rows_json(info, &e, f, r, img_w, img_h);
    char mine[PHIEU_CHOICE_MAX] = "";
    json_t *decisions = decisions_json(info, &e, &req->login, dec, n_dec, mine);
    json_t *reasons = reasons_json(r);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)e.id);
    int kind = decide_kind(d->session, e.id, req->login.user);
    json_t *twin = twin_json(d->session, &e);
    json_t *j = json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:s, s:s?, s:I, s:i, s:s, s:s?, s:s?, s:s?, s:b, s:b, "
        "s:o, s:o, s:o, s:o, s:s?, s:b, s:o}",
        "id", ids, "sheet", e.sheet_id, "row", e.row, "reason", e.reason, "text", e.text, "state",
        state_name(e.state), "resolution", e.state == PHIEU_EXC_RESOLVED ? e.resolution : NULL,
        "batch", (json_int_t)e.batch, "position", e.position, "page_status",
        phieu_page_status_name(sh.status), "form", f ? f->id : NULL, "form_title",
        f ? f->title : NULL, "mine", mine[0] ? mine : NULL, "todo",
        needs_user(&e, &req->login, mine), "has_image", !sh.unreadable, "choices",
        choices_for(info, &e, &sh), "rows", rows, "decisions", decisions, "reasons", reasons,
        "next", next[0] ? next : NULL, "upside_down", r->upside_down, "twin", twin);
    exception_extras(j, kind, f);
    pthread_mutex_unlock(&d->lock);
    phieu_free(r);
    phieu_free(dec);
    send_json(res, MHD_HTTP_OK, j);
}

/* Refuses a note longer than the screen allows (PHIEU_NOTE_CHARS characters); 1 when
 * refused (the answer in res). */
static int note_refused(review_response *res, const char *note)
{
    size_t note_chars = note ? utf8_chars(note) : 0;
    if (!note || (note_chars <= PHIEU_NOTE_CHARS && strlen(note) < PHIEU_NOTE_MAX))
        return 0;
    char vi[160], en[160];
    snprintf(vi, sizeof vi, "Ghi chú quá dài: tối đa %d ký tự (ghi chú này có %zu).",
             PHIEU_NOTE_CHARS, note_chars);
    snprintf(en, sizeof en, "The note is too long: at most %d characters (this one has %zu).",
             PHIEU_NOTE_CHARS, note_chars);
    review_error_lang(res, MHD_HTTP_BAD_REQUEST, "note", vi, en);
    return 1;
}

/* Whether the note holds anything but spaces. */
static int has_text(const char *note)
{
    int has = 0;
    for (const char *p = note ? note : ""; *p && !has; p++)
        has = *p != ' ' && *p != '\n' && *p != '\t' && *p != '\r';
    return has;
}

/* Refuses the head's override that was not confirmed (409) or says not why (400). */
static void override_refused(review_response *res, int confirmed)
{
    review_error_lang(res, confirmed ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_CONFLICT,
                      confirmed ? "override-note" : "override-confirm",
                      "Thay đổi một trường hợp đã có quyết định là quyết định thay thế của "
                      "Trưởng ban: cần xác nhận và ghi rõ lý do trong ô ghi chú.",
                      "Changing a case already decided is the head's override: it needs a "
                      "confirmation and a note that says why.");
}

/* What a decision's body says: {choice, note, override, not_duplicate}. */
typedef struct decide_body {
    const char *choice, *note; /* json_t's strings: valid while its object lives */
    int override;              /* the head confirmed an override */
    int not_duplicate;         /* the member confirmed a "form:<id>" page is no rescan */
} decide_body;

/* Reads the body into b; 0, or -1 with the 400 answer set. */
static int decide_body_read(review_response *res, json_t *j, decide_body *b)
{
    b->choice = json_string_value(json_object_get(j, "choice"));
    json_t *nj = json_object_get(j, "note");
    b->note = json_string_value(nj);
    b->override = json_is_true(json_object_get(j, "override"));
    b->not_duplicate = json_is_true(json_object_get(j, "not_duplicate"));
    if (!b->choice || strlen(b->choice) >= PHIEU_CHOICE_MAX ||
        (nj && !json_is_null(nj) && !b->note)) {
        review_error(res, MHD_HTTP_BAD_REQUEST, "choice",
                     "give the decision as {\"choice\": \"...\", \"note\": \"...\"}");
        return -1;
    }
    if (note_refused(res, b->note))
        return -1;
    if (!b->note)
        b->note = "";
    return 0;
}

/* A "form:<id>" page that, read as that form, looks like a sheet already read: 409
 * "duplicate-confirm" with where the earlier paper is, so that the screen asks the member
 * to find both papers; the same decision with "not_duplicate": true records it. */
static void duplicate_refused(review_data *d, review_response *res, const char *choice,
                              const phieu_form_twin *t)
{
    const phieu_session_info *info = phieu_session_get_info(d->session);
    int f = phieu_session_form_index(d->session, choice + strlen(PHIEU_CHOICE_FORM_PREFIX));
    const char *name = f >= 0 ? form_name(info->forms[f]) : "";
    char sim[16], vi[1024], en[700];
    snprintf(sim, sizeof sim, "%.2f", t->similarity);
    char *dot = strchr(sim, '.');
    if (dot)
        *dot = ','; /* Vietnamese writes a decimal comma */
    snprintf(vi, sizeof vi,
             "Tờ này, đọc theo mẫu %s, giống tờ ở Lô %lld, tờ thứ %d (độ giống %s): có thể "
             "cùng một tờ phiếu đã được quét hai lần. Quyết định chưa được ghi. Hãy tìm cả hai "
             "tờ giấy: nếu là cùng một tờ, chọn Không tính; nếu là hai phiếu khác nhau, xác "
             "nhận để tính.",
             name, (long long)t->batch, t->position, sim);
    snprintf(en, sizeof en,
             "This page, read as form %s, looks like the sheet of batch %lld, position %d fed "
             "again (similarity %.2f). Nothing was recorded. Find both papers: if it is the "
             "same paper, decide Do not count; if they are two different ballots, confirm to "
             "count it.",
             name, (long long)t->batch, t->position, t->similarity);
    send_json(res, MHD_HTTP_CONFLICT,
              json_pack("{s:s, s:s, s:s, s:{s:I, s:i, s:f}}", "error", "duplicate-confirm",
                        "message", vi, "message_en", en, "duplicate", "batch",
                        (json_int_t)t->batch, "position", t->position, "similarity",
                        t->similarity));
}

/* Refuses what the rules of decisions.c refuse before trying (decided already, head only,
 * settled; an override not confirmed or without a note): 1 with the answer set. */
static int decide_refused(review_response *res, int kind, const decide_body *b)
{
    if (kind >= PHIEU_DECIDE_AGAIN) {
        kind_refused(res, kind);
        return 1;
    }
    /* An override is said out loud: the screen asked for a confirmation and a note. */
    if (kind == PHIEU_DECIDE_OVERRIDE && (!b->override || !has_text(b->note))) {
        override_refused(res, b->override);
        return 1;
    }
    return 0;
}

static void api_decide(review_request *req, review_response *res, int64_t id)
{
    review_data *d = req->srv->data;
    json_t *j = body_json(req, res);
    decide_body b;
    if (!j || decide_body_read(res, j, &b) != 0) {
        json_decref(j);
        return;
    }
    phieu_error err = {0};
    phieu_exception after;
    phieu_form_twin twin = {0};
    char next[24] = "";
    int kind = PHIEU_DECIDE_OK, refused = 0;
    pthread_mutex_lock(&d->lock);
    int rc = phieu_session_decision_check(d->session, id, req->login.user, &kind, &err);
    if (rc == 0 && !(refused = decide_refused(res, kind, &b)))
        rc = phieu_session_decide_confirm(d->session, id, req->login.user, b.choice, b.note,
                                          b.not_duplicate, &twin, &after, &err);
    if (rc == PHIEU_EEXIST && twin.sheet_id[0]) {
        duplicate_refused(d, res, b.choice, &twin);
        refused = 1;
    }
    if (rc == 0 && !refused)
        rc = next_for_user(d->session, &req->login, id, next, sizeof next, &err);
    pthread_mutex_unlock(&d->lock);
    json_decref(j);
    if (refused)
        return;
    if (rc != 0) {
        fail(res, &err);
        return;
    }
    /* The log line names who and which exception, never the choice: logs hold no
     * selections. */
    review_log(req->srv, "%s by '%s' on exception %lld: now %s%s",
               kind == PHIEU_DECIDE_OVERRIDE ? "override" : "decision", req->login.user,
               (long long)id, state_name(after.state),
               twin.sheet_id[0] ? " (confirmed: not a second scan of an earlier sheet)" : "");
    send_json(res, MHD_HTTP_OK,
              json_pack("{s:s, s:s?, s:s?}", "state", state_name(after.state), "resolution",
                        after.state == PHIEU_EXC_RESOLVED ? after.resolution : NULL, "next",
                        next[0] ? next : NULL));
}

/* POST /api/exception/ID/undo: takes back this user's decision while no second member has
 * decided (the screen's "hoàn tác"). */
static void api_undo(review_request *req, review_response *res, int64_t id)
{
    review_data *d = req->srv->data;
    phieu_error err = {0};
    phieu_exception after;
    pthread_mutex_lock(&d->lock);
    int rc = phieu_session_decision_withdraw(d->session, id, req->login.user, &after, &err);
    pthread_mutex_unlock(&d->lock);
    if (rc == PHIEU_ESTATE) {
        review_error_lang(res, MHD_HTTP_CONFLICT, "undo-too-late",
                          "Không hoàn tác được: một thành viên khác đã quyết định trường hợp "
                          "này, hoặc bạn chưa quyết định nó.",
                          "Cannot undo: another member has decided this case since, or you "
                          "have not decided it.");
        return;
    }
    if (rc != 0) {
        fail(res, &err);
        return;
    }
    review_log(req->srv, "decision taken back by '%s' on exception %lld: now %s",
               req->login.user, (long long)id, state_name(after.state));
    send_json(res, MHD_HTTP_OK, json_pack("{s:s}", "state", state_name(after.state)));
}

/* ---- totals ----------------------------------------------------------------------------- */

static void api_totals(review_request *req, review_response *res)
{
    review_data *d = req->srv->data;
    phieu_error err = {0};
    phieu_tally *t = NULL;
    phieu_session_progress p;
    pthread_mutex_lock(&d->lock);
    int rc = phieu_tally_from_session(d->session, &t, &err);
    if (rc == 0)
        rc = phieu_session_progress_get(d->session, &p, &err);
    pthread_mutex_unlock(&d->lock);
    if (rc != 0) {
        phieu_tally_destroy(&t);
        fail(res, &err);
        return;
    }
    /* The tally's own document (phieu_tally_json, as `phieu tally --json`), and beside it
     * what the screen shows more: each form's title and council, the session's progress. */
    json_t *j = phieu_tally_json(t);
    json_t *forms = json_object_get(j, "forms");
    for (int i = 0; i < t->n_forms; i++) {
        const phieu_form *f = t->forms[i].form;
        json_t *jf = json_array_get(forms, (size_t)i);
        json_object_set_new(jf, "title", json_string(form_name(f)));
        json_object_set_new(jf, "council", f->council ? json_string(f->council) : json_null());
    }
    /* What still blocks a final report: the rule `phieu status` and `phieu report` apply,
     * in figures, for the screen to word in the board's language. */
    phieu_blocker bl[PHIEU_TALLY_MAX_BLOCKERS];
    int n_bl = phieu_tally_blockers(t, p.exceptions_open, bl);
    json_t *blockers = json_array();
    for (int i = 0; i < n_bl; i++)
        json_array_append_new(
            blockers, json_pack("{s:s, s:o, s:i, s:i, s:i}", "kind", phieu_blocker_name(bl[i].kind),
                                "form",
                                bl[i].form >= 0 ? json_string(t->forms[bl[i].form].form->id)
                                                : json_null(),
                                "count", bl[i].count, "read", bl[i].read, "collected",
                                bl[i].collected));
    json_object_set_new(j, "sheets", json_integer(p.sheets));
    json_object_set_new(j, "exceptions_open", json_integer(p.exceptions_open));
    json_object_set_new(j, "exceptions_total", json_integer(p.exceptions_total));
    json_object_set_new(j, "blockers", blockers);
    phieu_tally_destroy(&t);
    send_json(res, MHD_HTTP_OK, j);
}

/* ---- router ----------------------------------------------------------------------------- */

void review_api_route(review_request *req, review_response *res)
{
    const char *u = req->url + 4; /* after "/api" */
    int post = strcmp(req->method, "POST") == 0;
    if (strcmp(u, "/me") == 0 && !post)
        return api_me(req, res);
    if (strcmp(u, "/logout") == 0 && post)
        return api_logout(req, res);
    if (strcmp(u, "/queue") == 0 && !post)
        return api_queue(req, res);
    if (strcmp(u, "/totals") == 0 && !post)
        return api_totals(req, res);
    if (strncmp(u, "/exception/", 11) == 0) {
        const char *idp = u + 11;
        const char *slash = strchr(idp, '/');
        size_t idlen = slash ? (size_t)(slash - idp) : strlen(idp);
        int64_t id = parse_id(idp, idlen);
        if (id <= 0) {
            review_error(res, MHD_HTTP_NOT_FOUND, "not-found",
                         "an exception is named by its number");
            return;
        }
        if (!slash && !post)
            return api_exception(req, res, id);
        if (slash && strcmp(slash, "/decide") == 0 && post)
            return api_decide(req, res, id);
        if (slash && strcmp(slash, "/board-read") == 0) /* board_read.c */
            return review_board_read(req, res, id, &req->srv->data->lock,
                                     req->srv->data->session);
        if (slash && strcmp(slash, "/undo") == 0 && post)
            return api_undo(req, res, id);
    }
    review_error(res, MHD_HTTP_NOT_FOUND, "not-found", "no such API call");
}

/* ---- images ----------------------------------------------------------------------------- */

/* Whether the sheet has an exception, or is the earlier scan a possible duplicate names:
 * only those pages are shown to supervisors. */
static int sheet_has_exception(phieu_session *s, const char *sheet, phieu_error *err)
{
    phieu_exception *items = NULL;
    size_t n = 0;
    if (phieu_session_exceptions_list(s, PHIEU_EXC_LIST_ALL, &items, &n, err) != 0)
        return -1;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        char twin[PHIEU_SHEET_ID_MAX];
        found = strcmp(items[i].sheet_id, sheet) == 0 ||
                (twin_of(&items[i], twin) && strcmp(twin, sheet) == 0);
    }
    phieu_free(items);
    return found;
}

static void send_png(review_response *res, uint8_t *data, size_t len)
{
    res->status = MHD_HTTP_OK;
    res->content_type = "image/png";
    res->data = data;
    res->len = len;
    res->cacheable = 1;
}

/* What an image address asks for: a sheet, and its page, thumbnail or the zoom of a row. */
typedef struct image_ask {
    char sheet[PHIEU_SHEET_ID_MAX];
    int kind; /* 0 page, 1 thumb, 2 row */
    int row;  /* 1.., for a row's zoom */
} image_ask;

/* Reads /img/SHEET/page.png, /img/SHEET/thumb.png or /img/SHEET/row/N.png into `a`; -1
 * with a 404 in `res` when the address is none of them. */
static int parse_image_url(const char *url, image_ask *a, review_response *res)
{
    const char *p = url + 5;
    const char *slash = strchr(p, '/');
    if (!slash || !valid_sheet_id(p, (size_t)(slash - p))) {
        review_error(res, MHD_HTTP_NOT_FOUND, "not-found",
                     "images are named /img/SHEET-ID/page.png (a 16-digit sheet id)");
        return -1;
    }
    memcpy(a->sheet, p, PHIEU_SHEET_ID_LEN);
    a->sheet[PHIEU_SHEET_ID_LEN] = '\0';
    const char *what = slash + 1;
    a->row = 0;
    if (strcmp(what, "page.png") == 0)
        a->kind = 0;
    else if (strcmp(what, "thumb.png") == 0)
        a->kind = 1;
    else if (strncmp(what, "row/", 4) == 0) {
        const char *dot = strchr(what + 4, '.');
        int64_t v =
            dot && strcmp(dot, ".png") == 0 ? parse_id(what + 4, (size_t)(dot - what - 4)) : 0;
        if (v < 1 || v > PHIEU_FORM_MAX_ROWS) {
            review_error(res, MHD_HTTP_NOT_FOUND, "not-found", "no such row");
            return -1;
        }
        a->row = (int)v;
        a->kind = 2;
    } else {
        review_error(res, MHD_HTTP_NOT_FOUND, "not-found", "no such image");
        return -1;
    }
    return 0;
}

/* Where a sheet's image comes from and how its rows are placed, read under the session's
 * lock; decoding happens outside it. */
typedef struct image_source {
    char path[4096];
    phieu_layout lay;
    int have_layout;
} image_source;

/* The PNG `a` asks for, decoded from the archived image at src->path (r: the sheet's
 * reading, phieu/picture.h). Notes the image's size in the cache on the way, for the
 * screen's boxes. */
static int shown_png(review_request *req, const image_ask *a, const phieu_reading *r,
                     const image_source *src, uint8_t **png, size_t *len, phieu_error *err)
{
    static const int max[3][2] = {{REVIEW_PAGE_MAX_W, REVIEW_PAGE_MAX_H},
                                  {REVIEW_THUMB_MAX_W, REVIEW_THUMB_MAX_H},
                                  {REVIEW_ROW_MAX_W, REVIEW_ROW_MAX_H}};
    phieu_picture_ask ask = {a->kind == 2 ? a->row : 0, max[a->kind][0], max[a->kind][1]};
    int size[2] = {0, 0};
    phieu_picture *page = NULL;
    int rc = phieu_picture_load(src->path, &page, size, err);
    if (rc != 0)
        return rc;
    char skey[64];
    snprintf(skey, sizeof skey, "%s/size", a->sheet);
    review_cache_put(req->srv->cache, skey, (const uint8_t *)size, sizeof size);
    rc = phieu_picture_png(page, src->have_layout ? &src->lay : NULL, r, &ask, png, len, err);
    phieu_picture_destroy(&page);
    return rc;
}

/* Makes the PNG `a` asks for from the sheet's archived image (r: room for its reading),
 * in colour when the archive is (shown_page), at most REVIEW_MAX_DECODES at a time. */
static int image_png(review_request *req, const image_ask *a, phieu_reading *r, uint8_t **png,
                     size_t *len, phieu_error *err)
{
    review_data *d = req->srv->data;
    phieu_sheet sh;
    image_source *src = phieu_calloc(1, sizeof *src);
    if (!src)
        return phieu_error_set(err, PHIEU_ENOMEM, "review: out of memory");
    pthread_mutex_lock(&d->lock);
    int rc = phieu_session_sheet_get(d->session, a->sheet, &sh, r, err);
    if (rc == 0)
        rc = sheet_image_path(d->session, &sh, src->path, sizeof src->path, err);
    const phieu_session_info *info = phieu_session_get_info(d->session);
    src->have_layout = rc == 0 && phieu_picture_placed(r) && r->form_index < info->n_forms;
    if (src->have_layout)
        src->lay = info->layouts[r->form_index];
    pthread_mutex_unlock(&d->lock);
    if (rc == 0) {
        while (sem_wait(&d->decodes) != 0) /* only a signal interrupts it: wait again */
            ;
        rc = shown_png(req, a, r, src, png, len, err);
        sem_post(&d->decodes);
    }
    phieu_free(src);
    return rc;
}

/* /img/SHEET/page.png, /img/SHEET/thumb.png, /img/SHEET/row/N.png */
void review_image_route(review_request *req, review_response *res)
{
    review_data *d = req->srv->data;
    image_ask a;
    if (parse_image_url(req->url, &a, res) != 0)
        return;
    char key[64];
    snprintf(key, sizeof key, "%s/%d/%d", a.sheet, a.kind, a.row);
    phieu_error err = {0};
    pthread_mutex_lock(&d->lock);
    int has = sheet_has_exception(d->session, a.sheet, &err);
    pthread_mutex_unlock(&d->lock);
    if (has <= 0) {
        if (has < 0)
            fail(res, &err);
        else
            review_error(res, MHD_HTTP_NOT_FOUND, "not-found", "no exception on this sheet");
        return;
    }
    uint8_t *png;
    size_t len;
    if (review_cache_get(req->srv->cache, key, &png, &len)) {
        send_png(res, png, len);
        return;
    }
    phieu_reading *r = phieu_calloc(1, sizeof *r);
    if (!r) {
        review_error(res, MHD_HTTP_SERVICE_UNAVAILABLE, "memory", "out of memory");
        return;
    }
    int rc = image_png(req, &a, r, &png, &len, &err);
    phieu_free(r);
    if (rc != 0) {
        fail(res, &err);
        return;
    }
    review_cache_put(req->srv->cache, key, png, len);
    send_png(res, png, len);
}
