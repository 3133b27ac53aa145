/*
 * accounts.h - the board members who decide: user names, roles, and passwords stored as
 * argon2id hashes (libsodium crypto_pwhash_str), and the review screen's lock on a name.
 *
 * Contract:
 *  - A name is compared case-insensitively ("Lan" is "lan"), in the session and at login.
 *  - Checking a password costs the same whether the name exists or not, and fails with
 *    the same words, so that neither the time nor the message tells which names exist.
 *  - Adding a user and unlocking a name are audited (audit.h); a password never is.
 *  - Errors, ownership and threads as in session.h; phieu_credentials_check needs no
 *    session and is safe from any thread.
 *
 * Implemented in src/session/accounts.c.
 */
#ifndef PHIEU_ACCOUNTS_H
#define PHIEU_ACCOUNTS_H

#include <stddef.h>

#include "phieu/error.h"
#include "phieu/session.h"

enum { PHIEU_ROLE_SUPERVISOR = 0, PHIEU_ROLE_HEAD = 1 };

typedef struct phieu_user {
    char name[PHIEU_NAME_MAX];
    int role; /* PHIEU_ROLE_* */
} phieu_user;

/* A user with a password stored as argon2id (crypto_pwhash_str). PHIEU_EEXIST if taken. */
int phieu_session_user_add(phieu_session *s, const char *name, int role, const char *password,
                           const char *actor, phieu_error *err);
/* 0 and the user when the password matches; PHIEU_ENOTFOUND / PHIEU_EINVAL otherwise
 * (the same message for both, so a caller does not reveal which names exist).
 * It is phieu_session_credentials followed by phieu_credentials_check. */
int phieu_session_user_verify(phieu_session *s, const char *name, const char *password,
                              phieu_user *out, phieu_error *err);

/* What a password is checked against: the user and the stored argon2id hash, or for an
 * unknown name (known == 0) a hash nobody's password matches, so that checking costs the
 * same for both. Split from phieu_session_user_verify so that a server sharing one
 * session between threads holds its lock only for the quick lookup, not for the argon2id
 * work (about 0.1 s). */
typedef struct phieu_credentials {
    phieu_user user;
    int known;
    char hash[128]; /* crypto_pwhash_STRBYTES */
} phieu_credentials;

/* Looks up `name`. 0 with *out filled, known or not; a negative code on a database error. */
int phieu_session_credentials(phieu_session *s, const char *name, phieu_credentials *out,
                              phieu_error *err);
/* 0 when `password` matches known credentials; PHIEU_ENOTFOUND (unknown name) or
 * PHIEU_EINVAL (wrong password) with the same message otherwise. Needs no session and is
 * safe from any thread. */
int phieu_credentials_check(const phieu_credentials *c, const char *password, phieu_error *err);
int phieu_session_users_list(phieu_session *s, phieu_user **items, size_t *n,
                             phieu_error *err);

/* User names: letters (Vietnamese included), digits, '.', '-', '_', under this many bytes;
 * compared case-insensitively ("Lan" is "lan"). */
#define PHIEU_USER_NAME_MAX 64
/* 0 when `name` is allowed as a new user's name; PHIEU_EINVAL saying why not. */
int phieu_user_name_check(const char *name, phieu_error *err);
/* The lower-case form two names are compared by; -1 when it does not fit or is not UTF-8. */
int phieu_user_name_fold(const char *name, char *out, size_t size);
/* The user of that name (compared case-insensitively); PHIEU_ENOTFOUND when none. */
int phieu_session_user_get(phieu_session *s, const char *name, phieu_user *out,
                           phieu_error *err);
/* Lifts the review screen's lock on a name (`phieu user unlock`): stored in the session,
 * where a running review server sees it at the name's next login; logged "user-unlocked". */
int phieu_session_user_unlock(phieu_session *s, const char *name, const char *actor,
                              phieu_error *err);
/* What the last unlock of a name left in the session ("" when never unlocked). */
int phieu_session_user_unlock_stamp(phieu_session *s, const char *name, char *out, size_t size,
                                    phieu_error *err);

#endif
