/*
 * review.h - the supervisors' review server: an embedded web server (libmicrohttpd) that
 * shows the exception queue of one session, takes the board's decisions and shows the
 * live totals, with login, CSRF protection and throttled logins.
 *
 * Contract:
 *  - The server listens on loopback unless allow_remote is set; phieu_review_start refuses
 *    any other address without it (PHIEU_EINVAL), so a typo cannot expose the ballots.
 *  - Every API call and every image needs a logged-in user (HTTP 401 otherwise); every
 *    request that changes something also needs the session's CSRF token in the
 *    X-CSRF-Token header (HTTP 403 otherwise). Only the login page's HTML, script and style
 *    are served without a login: they hold no data of the session.
 *  - Images are addressed by sheet id (a decimal number), never by path.
 *  - Decisions go through the session API (phieu/decisions.h): audit-logged, two-person
 *    rule, head resolves disagreements. The server holds no counting logic of its own.
 *  - Malformed or oversized requests get a 4xx answer; the server keeps running.
 *  - The library never prints: `log` (if set) receives one line per notable event (start,
 *    login, failed login, lock, decision) without any ballot content, and is called from
 *    the server's threads (it must be thread-safe).
 *  - Thread safety: one server per session file; phieu_review_stop may be called from
 *    any one thread once. Returned strings and objects are owned as stated below.
 */
#ifndef PHIEU_REVIEW_H
#define PHIEU_REVIEW_H

#include <stddef.h>

#include "phieu/error.h"

/* Defaults, and where the numbers come from. */
#define PHIEU_REVIEW_DEFAULT_HOST "127.0.0.1"
#define PHIEU_REVIEW_DEFAULT_PORT 8080 /* the usual unprivileged HTTP port */
/* Failed logins: each failure delays the answer (base doubling, capped at 4 s); after
 * LOCK_AFTER failures in a row a name (or a client address, at 4x that) is locked for
 * LOCK_SECONDS. 5 tries is what a person mistyping needs; 15 minutes is the usual
 * lockout of banking sites; 4 s caps what a supervisor waits after a typo. */
#define PHIEU_REVIEW_LOGIN_DELAY_MS 250
#define PHIEU_REVIEW_LOGIN_DELAY_MAX_MS 4000
#define PHIEU_REVIEW_LOGIN_LOCK_AFTER 5
#define PHIEU_REVIEW_LOGIN_LOCK_SECONDS 900
/* A login lasts this long without activity: a counting day's break is shorter. */
#define PHIEU_REVIEW_IDLE_SECONDS (2 * 3600)
/* Request limits: the biggest legitimate body is a decision with a note (< 2 KiB); 16 KiB
 * leaves room. Headers and URL must fit in the per-connection memory (64 KiB). */
#define PHIEU_REVIEW_MAX_BODY 16384
#define PHIEU_REVIEW_CONNECTION_MEMORY 65536

typedef void (*phieu_review_log_fn)(void *ctx, const char *line);

typedef struct phieu_review_options {
    const char *session_path; /* the session file (phieu/session.h) */
    const char *host;         /* numeric IPv4/IPv6 address or "localhost" */
    int port;                 /* 0: any free port (tests); see phieu_review_port */
    int allow_remote;         /* 1: allow a non-loopback host */
    int login_delay_ms;       /* failed-login delay base */
    int login_delay_max_ms;
    int login_lock_after; /* failures in a row before a lock */
    int login_lock_seconds;
    int idle_seconds;        /* logins expire after this much inactivity */
    phieu_review_log_fn log; /* may be NULL */
    void *log_ctx;
} phieu_review_options;

/* Fills o with the defaults above (session_path NULL). */
void phieu_review_options_default(phieu_review_options *o);

/* Parses "HOST:PORT", "HOST", ":PORT" or "[IPv6]:PORT" into host (a copy, NUL-terminated,
 * at most host_size bytes) and port. Returns PHIEU_EINVAL with a message for anything
 * else. */
int phieu_review_parse_listen(const char *spec, char *host, size_t host_size, int *port,
                              phieu_error *err);

/* 1 when host is a loopback address (127.0.0.0/8, ::1, "localhost"), else 0. */
int phieu_review_host_is_loopback(const char *host);

typedef struct phieu_review_server phieu_review_server;

/* Opens the session and starts serving in background threads. On success *out is a
 * running server; stop it with phieu_review_stop. Errors: PHIEU_EINVAL (bad options,
 * remote without allow_remote), PHIEU_EIO (the address is in use or cannot be bound), the
 * session's own errors when its file cannot be opened. */
int phieu_review_start(const phieu_review_options *o, phieu_review_server **out, phieu_error *err);

/* The port actually bound (useful with port 0). */
int phieu_review_port(const phieu_review_server *s);

/* Stops the server, waits for its threads, closes the session, frees everything, and sets
 * *s to NULL. NULL or *s == NULL is fine. */
void phieu_review_stop(phieu_review_server **s);

#endif
