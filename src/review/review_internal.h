/*
 * review_internal.h - what the files of the review server share: the server struct, the
 * request and response the router passes around, logins and their throttling, the
 * compiled-in assets and the image cache. Not a public API.
 */
#ifndef PHIEU_REVIEW_INTERNAL_H
#define PHIEU_REVIEW_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "phieu/review.h"

struct MHD_Daemon;
struct MHD_Connection;

#define REVIEW_TOKEN_BYTES 32 /* 256 random bits, as for any bearer secret */
#define REVIEW_TOKEN_HEX (2 * REVIEW_TOKEN_BYTES + 1)
#define REVIEW_NAME_MAX 64
#define REVIEW_MAX_LOGINS 256   /* a board has at most a few dozen members */
#define REVIEW_MAX_THROTTLE 512 /* names and addresses remembered for failed logins */
#define REVIEW_COOKIE "phieu_session"

typedef struct review_login {
    char token[REVIEW_TOKEN_HEX]; /* the cookie value */
    char csrf[REVIEW_TOKEN_HEX];  /* must come back in X-CSRF-Token on every change */
    char user[REVIEW_NAME_MAX];
    char role[16]; /* "head" or "supervisor" */
    double last_seen;
    int used;
} review_login;

typedef struct review_throttle {
    char key[REVIEW_NAME_MAX + 8]; /* "u:NAME" or "a:ADDRESS" */
    int failures;                  /* in a row */
    double locked_until;
    double last;
    char unlock_stamp[64]; /* the session's last `phieu user unlock` of the name seen */
    int used;
} review_throttle;

typedef struct review_auth {
    pthread_mutex_t lock;
    review_login logins[REVIEW_MAX_LOGINS];
    review_throttle throttle[REVIEW_MAX_THROTTLE];
    int delay_ms, delay_max_ms, lock_after, lock_seconds, idle_seconds;
} review_auth;

typedef struct review_cache review_cache;
typedef struct review_data review_data;

struct phieu_review_server {
    phieu_review_options opt;
    char host[128];
    int port;
    int loopback;
    struct MHD_Daemon *daemon;
    review_auth auth;
    review_data *data;
    review_cache *cache;
};

/* One request as the router sees it. */
typedef struct review_request {
    phieu_review_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    char client[64];    /* the client's address, for throttling and the log */
    review_login login; /* a copy; login.used == 0 when not logged in */
} review_request;

typedef struct review_response {
    int status;
    const char *content_type;
    uint8_t *data; /* owned (phieu_malloc/malloc heap) ... */
    size_t len;
    const uint8_t *static_data; /* ... or static (compiled-in assets) */
    char set_cookie[256];
    char retry_after[16];
    int cacheable; /* 1: private cache for a while (images of a sheet never change) */
} review_response;

/* ---- server.c ---- */
void review_log(phieu_review_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double review_now(void);
/* Sets a JSON body {"error": code, "message": message}. */
void review_error(review_response *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with the message in Vietnamese (the screen's language) and in English:
 * {"error": code, "message": vi, "message_en": en}. */
void review_error_lang(review_response *res, int status, const char *code, const char *vi,
                       const char *en);
/* Takes ownership of text (malloc heap). */
void review_json_text(review_response *res, int status, char *text);
/* A request header or NULL. */
const char *review_header(const review_request *req, const char *name);
const char *review_query(const review_request *req, const char *name);

/* ---- auth.c ---- */
int review_auth_init(review_auth *a, const phieu_review_options *o);
void review_auth_release(review_auth *a);
/* Fills req->login from the cookie when it names a live login. */
void review_auth_identify(review_auth *a, const char *cookie_header, review_login *out);
/* Before checking a password: 0 to go ahead (the try is counted as failed in advance,
 * atomically), or seconds to wait (locked) > 0. unlock_stamp: what the session holds of the
 * name's last unlock (a change lifts the lock), or NULL. */
int review_auth_begin(review_auth *a, const char *user, const char *client,
                      const char *unlock_stamp);
/* After a failed check: locks at the limit and returns the delay in ms to apply before
 * answering. */
int review_auth_failed(review_auth *a, const char *user, const char *client, int *now_locked);
/* After a good password: clears the throttle and creates a login (copied to out). */
int review_auth_succeeded(review_auth *a, const char *user, const char *client, const char *role,
                          review_login *out);
void review_auth_logout(review_auth *a, const char *token);
/* 1 when the header's token equals the login's CSRF token (constant time). */
int review_auth_csrf_ok(const review_login *l, const char *header);

/* ---- assets.c ---- */
/* The compiled-in file for a URL path ("/", "/app.js", ...), or 0 when there is none. */
int review_asset_find(const char *path, const uint8_t **data, size_t *len,
                      const char **content_type);

/* ---- data.c: everything that reads or changes the session ---- */
int review_data_open(const char *session_path, review_data **out, phieu_error *err);
void review_data_close(review_data **d);
/* The API: each handler fills res. */
void review_api_login(review_request *req, review_response *res);
void review_api_route(review_request *req, review_response *res);
void review_image_route(review_request *req, review_response *res);

/* ---- cache.c: the cache of scaled pages and crops ---- */
int review_cache_create(size_t max_bytes, review_cache **out);
void review_cache_destroy(review_cache **c);
/* A copy of a cached PNG (caller frees), or 0 when absent. */
int review_cache_get(review_cache *c, const char *key, uint8_t **data, size_t *len);
void review_cache_put(review_cache *c, const char *key, const uint8_t *data, size_t len);

#endif
