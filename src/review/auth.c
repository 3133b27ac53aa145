/*
 * auth.c - the review server's logins: random session tokens kept in memory, their CSRF
 * tokens, expiry after inactivity, and the throttle on failed logins (a growing delay,
 * then a lock of the name, and of the client address unless it is loopback). Passwords themselves
 * are checked against the session's argon2id hashes in data.c; accounts live in the session.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "phieu/accounts.h"
#include "phieu/session.h"
#include "review/review_internal.h"

/* One client address may fail this many times the per-name limit before it is locked:
 * several supervisors share one counting-room computer. */
#define REVIEW_ADDRESS_LOCK_FACTOR 4

int review_auth_init(review_auth *a, const phieu_review_options *o)
{
    memset(a, 0, sizeof *a);
    if (pthread_mutex_init(&a->lock, NULL) != 0)
        return PHIEU_ENOMEM;
    a->delay_ms = o->login_delay_ms > 0 ? o->login_delay_ms : 0;
    a->delay_max_ms = o->login_delay_max_ms > 0 ? o->login_delay_max_ms : a->delay_ms;
    a->lock_after = o->login_lock_after > 0 ? o->login_lock_after : PHIEU_REVIEW_LOGIN_LOCK_AFTER;
    a->lock_seconds =
        o->login_lock_seconds > 0 ? o->login_lock_seconds : PHIEU_REVIEW_LOGIN_LOCK_SECONDS;
    a->idle_seconds = o->idle_seconds > 0 ? o->idle_seconds : PHIEU_REVIEW_IDLE_SECONDS;
    return 0;
}

void review_auth_release(review_auth *a)
{
    sodium_memzero(a->logins, sizeof a->logins);
    pthread_mutex_destroy(&a->lock);
}

static void random_token(char out[REVIEW_TOKEN_HEX])
{
    unsigned char raw[REVIEW_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, REVIEW_TOKEN_HEX, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

/* The value of cookie `name` in a Cookie header, copied to out; 0 when absent. */
static int cookie_value(const char *header, const char *name, char *out, size_t size)
{
    size_t nl = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl >= size)
                return 0;
            memcpy(out, p + nl + 1, vl);
            out[vl] = '\0';
            return 1;
        }
        p = end;
    }
    return 0;
}

void review_auth_identify(review_auth *a, const char *cookie_header, review_login *out)
{
    memset(out, 0, sizeof *out);
    char token[REVIEW_TOKEN_HEX];
    if (!cookie_header || !cookie_value(cookie_header, REVIEW_COOKIE, token, sizeof token) ||
        strlen(token) != REVIEW_TOKEN_HEX - 1)
        return;
    double now = review_now();
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < REVIEW_MAX_LOGINS; i++) {
        review_login *l = &a->logins[i];
        if (!l->used)
            continue;
        if (now - l->last_seen > a->idle_seconds) {
            sodium_memzero(l, sizeof *l);
            continue;
        }
        if (sodium_memcmp(l->token, token, REVIEW_TOKEN_HEX - 1) == 0) {
            l->last_seen = now;
            *out = *l;
            break;
        }
    }
    pthread_mutex_unlock(&a->lock);
}

int review_auth_csrf_ok(const review_login *l, const char *header)
{
    if (!l->used || !header || strlen(header) != REVIEW_TOKEN_HEX - 1)
        return 0;
    return sodium_memcmp(l->csrf, header, REVIEW_TOKEN_HEX - 1) == 0;
}

/* The throttle entry for key, created when `create` is set (reusing the oldest). */
static review_throttle *throttle_find(review_auth *a, const char *key, int create)
{
    review_throttle *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < REVIEW_MAX_THROTTLE; i++) {
        review_throttle *t = &a->throttle[i];
        if (t->used && strcmp(t->key, key) == 0)
            return t;
        if (!t->used && !free_slot)
            free_slot = t;
        if (t->used && (!oldest || t->last < oldest->last))
            oldest = t;
    }
    if (!create)
        return NULL;
    review_throttle *t = free_slot ? free_slot : oldest;
    memset(t, 0, sizeof *t);
    t->used = 1;
    snprintf(t->key, sizeof t->key, "%s", key);
    return t;
}

/* The throttle's keys: the name compared case-insensitively ("Lan" is "lan"), and the
 * client's address, which on loopback every local user shares and so is not used ("" then:
 * one person's wrong tries must not lock the whole board out). */
static void keys(const char *user, const char *client, char *ku, char *ka, size_t size)
{
    char folded[REVIEW_NAME_MAX * 2];
    if (!user || phieu_user_name_fold(user, folded, sizeof folded) != 0)
        snprintf(folded, sizeof folded, "%s", user ? user : "");
    snprintf(ku, size, "u:%.*s", REVIEW_NAME_MAX - 1, folded);
    if (!client || phieu_review_host_is_loopback(client))
        ka[0] = '\0';
    else
        snprintf(ka, size, "a:%s", client);
}

/* Whether a throttle entry is locked now; a lock that ran out starts a fresh count. */
static int locked_now(review_throttle *t, double now)
{
    if (t->locked_until > now)
        return 1;
    if (t->locked_until > 0) {
        t->locked_until = 0;
        t->failures = 0;
    }
    return 0;
}

int review_auth_begin(review_auth *a, const char *user, const char *client,
                      const char *unlock_stamp)
{
    char ku[REVIEW_NAME_MAX + 8], ka[REVIEW_NAME_MAX + 8];
    keys(user, client, ku, ka, sizeof ku);
    double now = review_now();
    double wait = 0;
    pthread_mutex_lock(&a->lock);
    review_throttle *tu = throttle_find(a, ku, 1);
    review_throttle *ta = ka[0] ? throttle_find(a, ka, 1) : NULL;
    /* `phieu user unlock` since the lock: the name starts afresh. */
    if (unlock_stamp && strcmp(tu->unlock_stamp, unlock_stamp) != 0) {
        if (tu->locked_until > now || tu->failures)
            tu->locked_until = tu->failures = 0;
        snprintf(tu->unlock_stamp, sizeof tu->unlock_stamp, "%s", unlock_stamp);
    }
    review_throttle *t[2] = {tu, ta};
    int limit[2] = {a->lock_after, a->lock_after * REVIEW_ADDRESS_LOCK_FACTOR};
    for (int i = 0; i < 2; i++) {
        if (!t[i])
            continue;
        t[i]->last = now;
        if (!locked_now(t[i], now) && t[i]->failures >= limit[i])
            t[i]->locked_until = now + a->lock_seconds; /* tries in flight used them up */
        if (t[i]->locked_until > now && t[i]->locked_until - now > wait)
            wait = t[i]->locked_until - now;
    }
    /* Counted as failed before the password is checked, so that tries sent at once cannot
     * all pass the check above; a good password takes it back. */
    if (wait <= 0)
        for (int i = 0; i < 2; i++)
            if (t[i])
                t[i]->failures++;
    pthread_mutex_unlock(&a->lock);
    return wait > 0 ? (int)wait + 1 : 0;
}

int review_auth_failed(review_auth *a, const char *user, const char *client, int *now_locked)
{
    char ku[REVIEW_NAME_MAX + 8], ka[REVIEW_NAME_MAX + 8];
    keys(user, client, ku, ka, sizeof ku);
    double now = review_now();
    *now_locked = 0;
    pthread_mutex_lock(&a->lock);
    review_throttle *tu = throttle_find(a, ku, 1);
    tu->last = now;
    if (tu->failures >= a->lock_after && tu->locked_until <= now) {
        tu->locked_until = now + a->lock_seconds;
        *now_locked = 1;
    }
    int failures = tu->failures < a->lock_after ? tu->failures : a->lock_after;
    review_throttle *ta = ka[0] ? throttle_find(a, ka, 1) : NULL;
    if (ta) {
        ta->last = now;
        if (ta->failures >= a->lock_after * REVIEW_ADDRESS_LOCK_FACTOR && ta->locked_until <= now) {
            ta->locked_until = now + a->lock_seconds;
            *now_locked = 1;
        }
    }
    pthread_mutex_unlock(&a->lock);
    long delay = a->delay_ms;
    for (int i = 1; i < failures && delay < a->delay_max_ms; i++)
        delay *= 2;
    return (int)(delay < a->delay_max_ms ? delay : a->delay_max_ms);
}

int review_auth_succeeded(review_auth *a, const char *user, const char *client, const char *role,
                          review_login *out)
{
    char ku[REVIEW_NAME_MAX + 8], ka[REVIEW_NAME_MAX + 8];
    keys(user, client, ku, ka, sizeof ku);
    double now = review_now();
    int rc = PHIEU_ELIMIT;
    pthread_mutex_lock(&a->lock);
    review_throttle *t = throttle_find(a, ku, 0);
    if (t) { /* the good password takes back the failure counted in advance */
        t->failures = 0;
        t->locked_until = 0;
    }
    review_throttle *ta = ka[0] ? throttle_find(a, ka, 0) : NULL;
    if (ta && ta->failures > 0)
        ta->failures--;
    review_login *slot = NULL;
    for (int i = 0; i < REVIEW_MAX_LOGINS && !slot; i++) {
        review_login *l = &a->logins[i];
        if (l->used && now - l->last_seen > a->idle_seconds)
            sodium_memzero(l, sizeof *l);
        if (!l->used)
            slot = l;
    }
    if (slot) {
        memset(slot, 0, sizeof *slot);
        random_token(slot->token);
        random_token(slot->csrf);
        snprintf(slot->user, sizeof slot->user, "%s", user);
        snprintf(slot->role, sizeof slot->role, "%s", role);
        slot->last_seen = now;
        slot->used = 1;
        *out = *slot;
        rc = 0;
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void review_auth_logout(review_auth *a, const char *token)
{
    pthread_mutex_lock(&a->lock);
    for (int i = 0; i < REVIEW_MAX_LOGINS; i++) {
        review_login *l = &a->logins[i];
        if (l->used && sodium_memcmp(l->token, token, REVIEW_TOKEN_HEX - 1) == 0)
            sodium_memzero(l, sizeof *l);
    }
    pthread_mutex_unlock(&a->lock);
}
