/*
 * accounts.c - the board members' accounts: user names (allowed characters, compared
 * case-insensitively), adding a user with an argon2id password, looking one up, checking
 * a password at the same cost for a known and an unknown name, and the review screen's
 * lock on a name. Who may decide what is decisions.c's; the login screen is review's.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "session/session_internal.h"

/* Shortest password accepted for a supervisor's account: NIST SP 800-63B's minimum for
 * user-chosen secrets is 8 characters. */
#define PASSWORD_MIN_LEN 8

/* ---- User names ---------------------------------------------------------------------- */

/* Whether code point c is a letter of a Latin script (Vietnamese included) or one of the
 * combining accents a decomposed Vietnamese letter carries. */
static int latin_letter(long c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= 0xc0 && c <= 0x24f && c != 0xd7 && c != 0xf7) || /* Latin-1, Extended-A/B */
           (c >= 0x300 && c <= 0x36f) ||                          /* combining accents */
           (c >= 0x1e00 && c <= 0x1eff);                          /* Vietnamese tones */
}

int phieu_user_name_check(const char *name, phieu_error *err)
{
    if (!name || !name[0] || strlen(name) >= PHIEU_USER_NAME_MAX)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "a user name has 1 to %d bytes; choose a shorter one",
                               PHIEU_USER_NAME_MAX - 1);
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        long c = phieu_utf8_next(&p);
        if (c < 0)
            return phieu_error_set(err, PHIEU_EINVAL, "user name '%s' is not valid UTF-8 text",
                                   name);
        if (!latin_letter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-' && c != '_')
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "user name '%s': use only letters (Vietnamese included), "
                                   "digits, '.', '-' and '_'",
                                   name);
    }
    return 0;
}

int phieu_user_name_fold(const char *name, char *out, size_t size)
{
    size_t used = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        const unsigned char *start = p;
        long c = phieu_utf8_next(&p);
        if (c < 0)
            return -1;
        c = phieu_latin_lower(c);
        char enc[4];
        size_t k;
        if (c < 0x80) {
            enc[0] = (char)c;
            k = 1;
        } else if (c < 0x800) {
            enc[0] = (char)(0xc0 | (c >> 6));
            enc[1] = (char)(0x80 | (c & 0x3f));
            k = 2;
        } else if (c < 0x10000) {
            enc[0] = (char)(0xe0 | (c >> 12));
            enc[1] = (char)(0x80 | ((c >> 6) & 0x3f));
            enc[2] = (char)(0x80 | (c & 0x3f));
            k = 3;
        } else {
            k = (size_t)(p - start);
            memcpy(enc, start, k);
        }
        if (used + k >= size)
            return -1;
        memcpy(out + used, enc, k);
        used += k;
    }
    out[used] = '\0';
    return 0;
}

int session_user_find(phieu_session *s, const char *name, char *canonical, size_t size,
                      phieu_error *err)
{
    char want[PHIEU_NAME_MAX * 2];
    if (phieu_user_name_fold(name, want, sizeof want) != 0)
        return PHIEU_ENOTFOUND;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT name FROM users", &st, err) != 0)
        return err->code;
    int rc, found = 0;
    while (!found && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *have = (const char *)sqlite3_column_text(st, 0);
        char folded[PHIEU_NAME_MAX * 2];
        if (have && phieu_user_name_fold(have, folded, sizeof folded) == 0 &&
            strcmp(folded, want) == 0) {
            snprintf(canonical, size, "%s", have);
            found = 1;
        }
    }
    sqlite3_finalize(st);
    if (found)
        return 0;
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the users");
    return PHIEU_ENOTFOUND;
}

/* ---- Unlocking a name ---------------------------------------------------------------- */

/* The settings key that holds when a name was last unlocked. */
static void unlock_key(const char *name, char *out, size_t size)
{
    char folded[PHIEU_NAME_MAX * 2];
    if (phieu_user_name_fold(name, folded, sizeof folded) != 0)
        snprintf(folded, sizeof folded, "%s", name);
    snprintf(out, size, "user-unlocked:%s", folded);
}

/* Ends a transaction of this file: on success (rc 0), the log entry `action` with
 * `detail`, then the commit; if anything failed, the rollback. 0 or the error's code. */
static int end_txn(phieu_session *s, int rc, const char *actor, const char *action,
                   const char *detail, phieu_error *err)
{
    if (rc == 0 && session_log_append_txn(s, actor, action, detail, err) == 0 &&
        session_commit(s, err) == 0)
        return 0;
    session_rollback(s);
    return err->code;
}

/* Stamps the unlock of user `name` in the settings (inside the caller's transaction). */
static int record_unlock(phieu_session *s, const char *name, phieu_error *err)
{
    char key[PHIEU_NAME_MAX * 2 + 32], now[32];
    unlock_key(name, key, sizeof key);
    session_now(now);
    /* The time alone could repeat within a second: a random suffix makes each unlock new. */
    char stamp[64], rnd[PHIEU_SHEET_ID_MAX];
    session_random_id(rnd);
    snprintf(stamp, sizeof stamp, "%s %s", now, rnd);
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", &st, err) !=
        0)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, stamp, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot record the unlock");
    return 0;
}

int phieu_session_user_unlock(phieu_session *s, const char *name, const char *actor,
                              phieu_error *err)
{
    phieu_user u;
    if (phieu_session_user_get(s, name, &u, err) != 0)
        return err->code;
    if (session_begin(s, err) != 0)
        return err->code;
    int rc = record_unlock(s, u.name, err);
    char detail[PHIEU_NAME_MAX + 64];
    snprintf(detail, sizeof detail, "user %s unlocked for the review screen", u.name);
    return end_txn(s, rc, actor, "user-unlocked", detail, err);
}

int phieu_session_user_unlock_stamp(phieu_session *s, const char *name, char *out, size_t size,
                                    phieu_error *err)
{
    out[0] = '\0';
    char key[PHIEU_NAME_MAX * 2 + 32];
    unlock_key(name, key, sizeof key);
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT value FROM settings WHERE key = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the settings");
    return 0;
}

/* ---- Users -------------------------------------------------------------------------- */

/* Adds the user's row (inside the caller's transaction), unless the name is taken,
 * compared without regard to case. */
static int insert_user(phieu_session *s, const char *name, int role, const char *hash,
                       phieu_error *err)
{
    char taken[PHIEU_NAME_MAX];
    int found = session_user_find(s, name, taken, sizeof taken, err);
    if (found == 0)
        return phieu_error_set(err, PHIEU_EEXIST,
                               "user '%s' already exists (as '%s': names are compared without "
                               "regard to case)",
                               name, taken);
    if (found != PHIEU_ENOTFOUND)
        return err->code;
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT INTO users(name, role, pwhash) VALUES (?, ?, ?)", &st,
                        err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, role);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
        return phieu_error_set(err, PHIEU_EEXIST, "user '%s' already exists", name);
    return session_db_error(s, err, "cannot add the user");
}

int phieu_session_user_add(phieu_session *s, const char *name, int role, const char *password,
                           const char *actor, phieu_error *err)
{
    if (phieu_user_name_check(name, err) != 0)
        return err->code;
    if (role != PHIEU_ROLE_HEAD && role != PHIEU_ROLE_SUPERVISOR)
        return phieu_error_set(err, PHIEU_EINVAL, "a user's role is head or supervisor");
    if (!password || strlen(password) < PASSWORD_MIN_LEN)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "the password must have at least %d characters",
                               PASSWORD_MIN_LEN);
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return phieu_error_set(err, PHIEU_ENOMEM,
                               "out of memory hashing the password (argon2id needs %zu MiB)",
                               (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE >> 20);
    if (session_begin(s, err) != 0)
        return err->code;
    int rc = insert_user(s, name, role, hash, err);
    char detail[PHIEU_NAME_MAX + 64];
    snprintf(detail, sizeof detail, "user %s added as %s", name,
             role == PHIEU_ROLE_HEAD ? "head" : "supervisor");
    return end_txn(s, rc, actor, "user-added", detail, err);
}

/* The user named `name`, compared case-insensitively. */
static int user_lookup(phieu_session *s, const char *name, phieu_user *out, char *hash,
                       size_t hash_size, phieu_error *err)
{
    char canonical[PHIEU_NAME_MAX];
    int found = session_user_find(s, name, canonical, sizeof canonical, err);
    if (found != 0 && found != PHIEU_ENOTFOUND)
        return found;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT name, role, pwhash FROM users WHERE name = ?", &st, err) !=
        0)
        return err->code;
    sqlite3_bind_text(st, 1, found == 0 ? canonical : name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 0));
        out->role = sqlite3_column_int(st, 1);
        if (hash)
            snprintf(hash, hash_size, "%s", (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "no user '%s' in this session; add one with 'phieu user add'",
                               name);
    if (rc != SQLITE_ROW)
        return session_db_error(s, err, "cannot read the users");
    return 0;
}

int phieu_session_user_get(phieu_session *s, const char *name, phieu_user *out,
                           phieu_error *err)
{
    return user_lookup(s, name ? name : "", out, NULL, 0, err);
}

/* What an unknown name's password is checked against, so that a wrong name costs the same
 * argon2id work as a wrong password and the time taken does not tell which names exist.
 * Made once with crypto_pwhash_str over a phrase nobody types, with the parameters
 * phieu_session_user_add uses (OPSLIMIT_INTERACTIVE, MEMLIMIT_INTERACTIVE: t=2, 64 MiB). */
static const char dummy_pwhash[] =
    "$argon2id$v=19$m=65536,t=2,p=1$tp2z/ouQ95Pi57HrXW/6Sg$"
    "oGQVXsMPXUmMGRiduMo4DqHmb4XSeGHvqxUoqjP4/dg";

_Static_assert(sizeof(((phieu_credentials *)0)->hash) == crypto_pwhash_STRBYTES,
               "phieu_credentials.hash holds one argon2id hash string");

int phieu_session_credentials(phieu_session *s, const char *name, phieu_credentials *out,
                              phieu_error *err)
{
    memset(out, 0, sizeof *out);
    phieu_error lookup = {0};
    int rc = user_lookup(s, name ? name : "", &out->user, out->hash, sizeof out->hash, &lookup);
    if (rc != 0 && rc != PHIEU_ENOTFOUND) {
        if (err)
            *err = lookup;
        return rc;
    }
    out->known = rc == 0;
    if (!out->known) {
        memset(&out->user, 0, sizeof out->user);
        snprintf(out->hash, sizeof out->hash, "%s", dummy_pwhash);
    }
    return 0;
}

int phieu_credentials_check(const phieu_credentials *c, const char *password, phieu_error *err)
{
    const char *given = password ? password : "";
    int match = crypto_pwhash_str_verify(c->hash, given, strlen(given)) == 0;
    if (!c->known || !password || !match)
        return phieu_error_set(err, !c->known ? PHIEU_ENOTFOUND : PHIEU_EINVAL,
                               "wrong user name or password");
    return 0;
}

int phieu_session_user_verify(phieu_session *s, const char *name, const char *password,
                              phieu_user *out, phieu_error *err)
{
    phieu_credentials c;
    int rc = phieu_session_credentials(s, name, &c, err);
    if (rc == 0)
        rc = phieu_credentials_check(&c, password, err);
    if (rc == 0 && out)
        *out = c.user;
    sodium_memzero(&c, sizeof c);
    return rc;
}

int phieu_session_users_list(phieu_session *s, phieu_user **items, size_t *n, phieu_error *err)
{
    *items = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT name, role FROM users ORDER BY name", &st, err) != 0)
        return err->code;
    phieu_user *list = NULL;
    size_t count = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        phieu_user *g = phieu_realloc(list, (count + 1) * sizeof *list);
        if (!g) {
            sqlite3_finalize(st);
            phieu_free(list);
            return phieu_error_set(err, PHIEU_ENOMEM, "out of memory listing users");
        }
        list = g;
        snprintf(list[count].name, sizeof list[count].name, "%s",
                 (const char *)sqlite3_column_text(st, 0));
        list[count].role = sqlite3_column_int(st, 1);
        count++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        phieu_free(list);
        return session_db_error(s, err, "cannot list the users");
    }
    *items = list;
    *n = count;
    return 0;
}
