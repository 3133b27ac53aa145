/*
 * server.c - the review server's HTTP side: starting libmicrohttpd on the chosen address,
 * reading request bodies within limits, the router (static assets, /api/, /img/), the
 * login and CSRF gates, security headers, and stopping. What the API does with the session
 * lives in data.c; logins and throttling in auth.c; the compiled-in files in assets.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "review/review_internal.h"

/* Connections: a board of a few dozen supervisors, each browser opening up to 6. */
#define REVIEW_MAX_CONNECTIONS 256
#define REVIEW_MAX_CONNECTIONS_PER_IP 32
/* An idle connection is closed after this many seconds (slow senders cannot pin threads). */
#define REVIEW_CONNECTION_TIMEOUT 30
/* Scaled pages and crops kept in memory: ~300 exceptions x (page + thumb + rows). */
#define REVIEW_CACHE_BYTES ((size_t)64 << 20)

void phieu_review_options_default(phieu_review_options *o)
{
    memset(o, 0, sizeof *o);
    o->host = PHIEU_REVIEW_DEFAULT_HOST;
    o->port = PHIEU_REVIEW_DEFAULT_PORT;
    o->login_delay_ms = PHIEU_REVIEW_LOGIN_DELAY_MS;
    o->login_delay_max_ms = PHIEU_REVIEW_LOGIN_DELAY_MAX_MS;
    o->login_lock_after = PHIEU_REVIEW_LOGIN_LOCK_AFTER;
    o->login_lock_seconds = PHIEU_REVIEW_LOGIN_LOCK_SECONDS;
    o->idle_seconds = PHIEU_REVIEW_IDLE_SECONDS;
}

int phieu_review_parse_listen(const char *spec, char *host, size_t host_size, int *port,
                              phieu_error *err)
{
    if (!spec || !*spec || !host || host_size == 0 || !port)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "empty listen address; give HOST:PORT, "
                               "e.g. 127.0.0.1:8080");
    const char *h = spec, *h_end, *p = NULL;
    if (spec[0] == '[') {
        h = spec + 1;
        h_end = strchr(h, ']');
        if (!h_end || (h_end[1] != '\0' && h_end[1] != ':'))
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "bad listen address '%s'; write IPv6 as [::1]:8080", spec);
        if (h_end[1] == ':')
            p = h_end + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon && strchr(spec, ':') != colon)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "bad listen address '%s'; write IPv6 as [::1]:8080", spec);
        h_end = colon ? colon : spec + strlen(spec);
        if (colon)
            p = colon + 1;
    }
    size_t n = (size_t)(h_end - h);
    if (n == 0) {
        h = PHIEU_REVIEW_DEFAULT_HOST;
        n = strlen(h);
    }
    if (n >= host_size)
        return phieu_error_set(err, PHIEU_EINVAL, "listen address '%s' is too long", spec);
    memcpy(host, h, n);
    host[n] = '\0';
    if (p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (!*p || *end || v < 0 || v > 65535)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "bad port in '%s'; give a number from 1 to 65535", spec);
        *port = (int)v;
    }
    return 0;
}

int phieu_review_host_is_loopback(const char *host)
{
    if (!host)
        return 0;
    if (strcasecmp(host, "localhost") == 0)
        return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

void review_log(phieu_review_server *s, const char *fmt, ...)
{
    if (!s->opt.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->opt.log(s->opt.log_ctx, line);
}

double review_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void review_json_text(review_response *res, int status, char *text)
{
    free(res->data);
    res->status = status;
    res->content_type = "application/json; charset=utf-8";
    res->data = (uint8_t *)text;
    res->len = text ? strlen(text) : 0;
    if (!text)
        res->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* What each error code means for a board member, in the screen's language. */
static const struct {
    const char *code, *vi;
} error_words_vi[] = {
    {"json", "Yêu cầu không đúng dạng; hãy tải lại trang rồi làm lại."},
    {"login", "Hãy đăng nhập (nhập tên và mật khẩu)."},
    {"busy", "Quá nhiều người đang đăng nhập; hãy nhờ một người đăng xuất."},
    {"memory", "Máy đang thiếu bộ nhớ; hãy thử lại sau ít phút."},
    {"choice", "Quyết định gửi lên không đúng dạng; hãy tải lại trang rồi làm lại."},
    {"not-found", "Không tìm thấy: có thể trường hợp này không còn nữa; hãy về hàng chờ."},
    {"method", "Cách gửi yêu cầu này không được dùng ở đây."},
    {"host", "Màn hình duyệt phiếu chỉ mở được bằng địa chỉ của chính máy này."},
    {"content-type", "Yêu cầu phải được gửi dạng JSON."},
    {"too-large", "Yêu cầu quá lớn."},
};

void review_error(review_response *res, int status, const char *code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < sizeof error_words_vi / sizeof error_words_vi[0]; i++)
        if (strcmp(code, error_words_vi[i].code) == 0) {
            review_error_lang(res, status, code, error_words_vi[i].vi, msg);
            return;
        }
    phieu_buf b;
    phieu_buf_init(&b);
    phieu_buf_printf(&b, "{\"error\":\"%s\",\"message\":", code);
    phieu_buf_json_string(&b, msg);
    phieu_buf_puts(&b, "}");
    if (b.failed)
        phieu_buf_release(&b);
    review_json_text(res, status, b.data);
}

void review_error_lang(review_response *res, int status, const char *code, const char *vi,
                       const char *en)
{
    json_t *j = json_pack("{s:s, s:s, s:s}", "error", code, "message", vi, "message_en", en);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    review_json_text(res, status, text);
}

const char *review_header(const review_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *review_query(const review_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* With a loopback listener, the Host header must name loopback too: a web page elsewhere
 * that re-points its own name at 127.0.0.1 (DNS rebinding) is refused. */
static int host_header_ok(const review_request *req)
{
    if (!req->srv->loopback)
        return 1;
    const char *h = review_header(req, MHD_HTTP_HEADER_HOST);
    if (!h)
        return 0;
    char name[128];
    size_t n;
    if (h[0] == '[') {
        const char *e = strchr(h, ']');
        if (!e)
            return 0;
        n = (size_t)(e - h - 1);
        h++;
    } else {
        const char *c = strchr(h, ':');
        n = c ? (size_t)(c - h) : strlen(h);
    }
    if (n == 0 || n >= sizeof name)
        return 0;
    memcpy(name, h, n);
    name[n] = '\0';
    return phieu_review_host_is_loopback(name);
}

/* A request that changes something must come from this screen: when the browser names
 * the page it comes from (Origin), that page must be this server (its Host), beside the
 * CSRF token. A client that sends no Origin (a command-line HTTP client, the tests) still
 * needs the token. */
static int origin_ok(const review_request *req)
{
    const char *origin = review_header(req, "Origin");
    if (!origin)
        return 1;
    const char *host = review_header(req, MHD_HTTP_HEADER_HOST);
    if (!host || strncasecmp(origin, "http://", 7) != 0)
        return 0;
    return strcasecmp(origin + 7, host) == 0;
}

static int is_json_request(const review_request *req)
{
    const char *ct = review_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    return ct && strncasecmp(ct, "application/json", 16) == 0;
}

/* An /api/ request: JSON bodies only; login open to all, everything else for a logged-in
 * member, each POST with the login's CSRF token. */
static void route_api(review_request *req, review_response *res, int is_post)
{
    if (is_post && !is_json_request(req)) {
        review_error(res, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "content-type",
                     "send the request body as application/json");
        return;
    }
    if (strcmp(req->url, "/api/login") == 0) {
        if (!is_post)
            review_error(res, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "log in with POST");
        else
            review_api_login(req, res);
        return;
    }
    review_auth_identify(&req->srv->auth, review_header(req, MHD_HTTP_HEADER_COOKIE), &req->login);
    if (!req->login.used) {
        review_error_lang(res, MHD_HTTP_UNAUTHORIZED, "login", "Hãy đăng nhập trước.",
                          "log in first");
        return;
    }
    if (is_post && !review_auth_csrf_ok(&req->login, review_header(req, "X-CSRF-Token"))) {
        review_error_lang(res, MHD_HTTP_FORBIDDEN, "csrf",
                          "Trang đã cũ: hãy tải lại trang rồi làm lại.",
                          "missing or wrong X-CSRF-Token; reload the page and try again");
        return;
    }
    review_api_route(req, res);
}

/* An /img/ request: read-only, for a logged-in member. */
static void route_image(review_request *req, review_response *res, int is_get)
{
    review_auth_identify(&req->srv->auth, review_header(req, MHD_HTTP_HEADER_COOKIE), &req->login);
    if (!req->login.used) {
        review_error(res, MHD_HTTP_UNAUTHORIZED, "login", "log in first");
        return;
    }
    if (!is_get) {
        review_error(res, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "images are read-only");
        return;
    }
    review_image_route(req, res);
}

static void route(review_request *req, review_response *res)
{
    int is_get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    int is_post = strcmp(req->method, "POST") == 0;
    if (!is_get && !is_post) {
        review_error(res, MHD_HTTP_METHOD_NOT_ALLOWED, "method", "only GET and POST are used here");
        return;
    }
    if (!host_header_ok(req)) {
        review_error(res, MHD_HTTP_MISDIRECTED_REQUEST, "host",
                     "this server answers only to its loopback address");
        return;
    }
    if (is_post && !origin_ok(req)) {
        review_error_lang(res, MHD_HTTP_FORBIDDEN, "origin",
                          "Yêu cầu này không đến từ màn hình duyệt phiếu nên bị từ chối.",
                          "this request does not come from the review screen's own page");
        return;
    }
    if (strncmp(req->url, "/api/", 5) == 0) {
        route_api(req, res, is_post);
        return;
    }
    if (strncmp(req->url, "/img/", 5) == 0) {
        route_image(req, res, is_get);
        return;
    }
    const uint8_t *data;
    size_t len;
    const char *type;
    if (is_get && review_asset_find(req->url, &data, &len, &type)) {
        res->status = MHD_HTTP_OK;
        res->static_data = data;
        res->len = len;
        res->content_type = type;
        return;
    }
    review_error(res, MHD_HTTP_NOT_FOUND, "not-found", "no such page");
}

/* The headers every answer carries: nothing from elsewhere may load, nothing may frame us,
 * and answers with session data are never stored by the browser. */
static void add_headers(struct MHD_Response *r, const review_response *res)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            res->content_type ? res->content_type : "text/plain");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self'; script-src 'self'; "
                            "style-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                            "form-action 'self'; base-uri 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            res->cacheable ? "private, max-age=3600" : "no-store");
    if (res->set_cookie[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, res->set_cookie);
    if (res->retry_after[0])
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, res->retry_after);
}

static enum MHD_Result send_response(struct MHD_Connection *c, review_response *res)
{
    struct MHD_Response *r;
    if (res->static_data)
        r = MHD_create_response_from_buffer(res->len, (void *)res->static_data,
                                            MHD_RESPMEM_PERSISTENT);
    else if (res->data) {
        r = MHD_create_response_from_buffer_with_free_callback(res->len, res->data, free);
        if (r)
            res->data = NULL;
    } else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    add_headers(r, res);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *code,
                                  const char *msg)
{
    review_response res = {0};
    review_error(&res, status, code, "%s", msg);
    enum MHD_Result ok = send_response(c, &res);
    free(res.data);
    return ok;
}

typedef struct conn_state {
    phieu_buf body;
    int too_large;
} conn_state;

static void client_address(struct MHD_Connection *c, char *out, size_t size)
{
    snprintf(out, size, "unknown");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    phieu_review_server *s = cls;
    conn_state *st = *con_cls;
    if (!st) {
        st = phieu_calloc(1, sizeof *st);
        if (!st)
            return MHD_NO;
        phieu_buf_init(&st->body);
        *con_cls = st;
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > PHIEU_REVIEW_MAX_BODY)
            return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
                              "the request body is too large");
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large && st->body.len + *upload_data_size > PHIEU_REVIEW_MAX_BODY) {
            st->too_large = 1;
            phieu_buf_release(&st->body);
        }
        if (!st->too_large)
            phieu_buf_append(&st->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large)
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too-large",
                          "the request body is too large");
    if (st->body.failed)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "memory", "out of memory");
    review_request req = {0};
    req.srv = s;
    req.conn = c;
    req.method = method;
    req.url = url;
    req.body = st->body.data ? st->body.data : "";
    req.body_len = st->body.len;
    client_address(c, req.client, sizeof req.client);
    review_response res = {0};
    res.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    route(&req, &res);
    enum MHD_Result ok = send_response(c, &res);
    free(res.data);
    if (st->body.data)
        sodium_memzero(st->body.data, st->body.len); /* the body may hold a password */
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_state *st = *con_cls;
    if (!st)
        return;
    if (st->body.data)
        sodium_memzero(st->body.data, st->body.len);
    phieu_buf_release(&st->body);
    phieu_free(st);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    phieu_review_server *s = cls;
    if (!s->opt.log)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    s->opt.log(s->opt.log_ctx, line);
}

/* Where the server listens: a numeric IPv4 or IPv6 address ("localhost" is 127.0.0.1). */
typedef struct listen_addr {
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    const struct sockaddr *sa; /* a4 or a6 */
    unsigned flags;            /* libmicrohttpd's, with MHD_USE_IPv6 for an IPv6 address */
} listen_addr;

/* Parses `host` and `port` into la; a host name other than localhost is refused. */
static int listen_address(const char *host, int port, listen_addr *la, phieu_error *err)
{
    memset(la, 0, sizeof *la);
    la->flags =
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    const char *numeric = strcasecmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    if (inet_pton(AF_INET, numeric, &la->a4.sin_addr) == 1) {
        la->a4.sin_family = AF_INET;
        la->a4.sin_port = htons((uint16_t)port);
        la->sa = (const struct sockaddr *)&la->a4;
    } else if (inet_pton(AF_INET6, numeric, &la->a6.sin6_addr) == 1) {
        la->a6.sin6_family = AF_INET6;
        la->a6.sin6_port = htons((uint16_t)port);
        la->sa = (const struct sockaddr *)&la->a6;
        la->flags |= MHD_USE_IPv6;
    } else
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot listen on '%s': give a numeric address such as "
                               "127.0.0.1 or 0.0.0.0, or localhost",
                               host);
    return 0;
}

/* Starts libmicrohttpd for server s on la, within the server's connection limits; NULL
 * when it cannot listen. */
static struct MHD_Daemon *start_daemon(phieu_review_server *s, const listen_addr *la, int port)
{
    return MHD_start_daemon(
        la->flags, (uint16_t)port, NULL, NULL, on_request, s,
        /* The logger comes first: libmicrohttpd logs what it finds wrong in the options
         * after it, and complains when it is not the first. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_SOCK_ADDR, la->sa,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)PHIEU_REVIEW_CONNECTION_MEMORY,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)REVIEW_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)REVIEW_MAX_CONNECTIONS_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)REVIEW_CONNECTION_TIMEOUT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
}

int phieu_review_start(const phieu_review_options *o, phieu_review_server **out, phieu_error *err)
{
    if (!o || !out || !o->session_path)
        return phieu_error_set(err, PHIEU_EINVAL, "review: no session file given");
    *out = NULL;
    const char *host = o->host ? o->host : PHIEU_REVIEW_DEFAULT_HOST;
    int loopback = phieu_review_host_is_loopback(host);
    if (!loopback && !o->allow_remote)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "refusing to listen on '%s': it is not a loopback address; "
                               "add --allow-remote if the board's computers must reach it",
                               host);
    if (o->port < 0 || o->port > 65535)
        return phieu_error_set(err, PHIEU_EINVAL, "bad port %d", o->port);

    listen_addr la;
    if (listen_address(host, o->port, &la, err) != 0)
        return err->code;

    phieu_review_server *s = phieu_calloc(1, sizeof *s);
    if (!s)
        return phieu_error_set(err, PHIEU_ENOMEM, "review: out of memory");
    s->opt = *o;
    snprintf(s->host, sizeof s->host, "%s", host);
    s->opt.host = s->host;
    s->opt.session_path = NULL; /* the caller's string need not outlive the call */
    s->loopback = loopback;
    int rc = review_auth_init(&s->auth, o);
    if (rc != 0) {
        phieu_free(s);
        return phieu_error_set(err, rc, "review: cannot set up logins");
    }
    rc = review_data_open(o->session_path, &s->data, err);
    if (rc == 0 && review_cache_create(REVIEW_CACHE_BYTES, &s->cache) != 0)
        rc = phieu_error_set(err, PHIEU_ENOMEM, "review: out of memory");
    if (rc != 0) {
        phieu_review_stop(&s);
        return rc;
    }
    s->daemon = start_daemon(s, &la, o->port);
    if (!s->daemon) {
        phieu_review_stop(&s);
        return phieu_error_set(err, PHIEU_EIO,
                               "cannot listen on %s port %d: the port may be in use; choose "
                               "another with --listen HOST:PORT",
                               host, o->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    review_log(s, "review server listening on %s port %d", host, s->port);
    *out = s;
    return 0;
}

int phieu_review_port(const phieu_review_server *s)
{
    return s ? s->port : 0;
}

void phieu_review_stop(phieu_review_server **sp)
{
    if (!sp || !*sp)
        return;
    phieu_review_server *s = *sp;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    review_data_close(&s->data);
    review_cache_destroy(&s->cache);
    review_auth_release(&s->auth);
    phieu_free(s);
    *sp = NULL;
}
