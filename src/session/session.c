/*
 * session.c - creating, opening and closing a session file: the schema and its
 * migrations, the settings (forms, thresholds, rule set, board and counts), the SQL
 * helpers shared by the other files of src/session/. Pages live in pages.c, exceptions
 * in exceptions.c, decisions in decisions.c, board readings in board_read.c, users and
 * passwords in accounts.c, ballots and progress in ballots.c, the log in log.c.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phieu/alloc.h"
#include "phieu/util.h"
#include "session/session_internal.h"

/* SQLite's application_id for phieu session files: "phie" in ASCII, so that `file`
 * and phieu itself can tell a session from any other SQLite database. */
#define SESSION_APPLICATION_ID 0x70686965

/* ---- SQL helpers -------------------------------------------------------------------- */

int session_db_error(phieu_session *s, phieu_error *err, const char *what)
{
    int code = sqlite3_extended_errcode(s->db);
    int primary = code & 0xff;
    if (primary == SQLITE_FULL)
        return phieu_error_set(err, PHIEU_EIO,
                               "%s: the disk holding '%s' is full; free some space and run "
                               "the command again (nothing was half-recorded)",
                               what, s->path);
    if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
        return phieu_error_set(err, PHIEU_EIO,
                               "%s: cannot write '%s': %s; check the disk (free space, "
                               "errors in the system log), then run the command again "
                               "(nothing was half-recorded)",
                               what, s->path, sqlite3_errmsg(s->db));
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "%s: '%s' is damaged or not a phieu session (%s); restore it "
                               "from a backup copy",
                               what, s->path, sqlite3_errmsg(s->db));
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return phieu_error_set(err, PHIEU_EDB,
                               "%s: '%s' is busy: another phieu command holds it for more "
                               "than %d s; wait for it to finish and try again",
                               what, s->path, PHIEU_SESSION_BUSY_MS / 1000);
    return phieu_error_set(err, PHIEU_EDB, "%s: session '%s': %s", what, s->path,
                           sqlite3_errmsg(s->db));
}

int session_exec(phieu_session *s, const char *sql, phieu_error *err)
{
    if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return session_db_error(s, err, "database");
    return 0;
}

int session_prepare(phieu_session *s, const char *sql, sqlite3_stmt **st, phieu_error *err)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return session_db_error(s, err, "database");
    }
    return 0;
}

int session_begin(phieu_session *s, phieu_error *err)
{
    return session_exec(s, "BEGIN IMMEDIATE", err);
}

int session_commit(phieu_session *s, phieu_error *err)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int rc = session_db_error(s, err, "cannot commit");
        session_rollback(s);
        return rc;
    }
    return 0;
}

void session_rollback(phieu_session *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void session_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void session_random_id(char out[PHIEU_SHEET_ID_MAX])
{
    uint8_t bytes[PHIEU_SHEET_ID_LEN / 2];
    randombytes_buf(bytes, sizeof bytes);
    phieu_hex(bytes, sizeof bytes, out);
}

const char *session_actor(const char *actor)
{
    return actor && actor[0] ? actor : "operator";
}

/* ---- Schema ------------------------------------------------------------------------- */

/* Migration i takes a file from user_version i to i + 1. Never edit a shipped entry:
 * add a new one and raise PHIEU_SESSION_SCHEMA_VERSION. Each entry is in parentheses: it
 * is several statements in one string, not several entries missing their commas. */
static const char *const migrations[PHIEU_SESSION_SCHEMA_VERSION] = {
    /* 0 -> 1: the first schema. */
    ("CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE forms(idx INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    "  fingerprint TEXT NOT NULL, source TEXT NOT NULL);"
    "CREATE TABLE thresholds(name TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE counts(form_idx INTEGER PRIMARY KEY REFERENCES forms(idx),"
    "  present INTEGER NOT NULL, issued INTEGER NOT NULL, collected INTEGER NOT NULL,"
    "  spoiled INTEGER NOT NULL);"
    "CREATE TABLE board(seq INTEGER PRIMARY KEY,"
    "  role TEXT NOT NULL CHECK(role IN ('head','secretary','member')), name TEXT NOT NULL);"
    "CREATE TABLE batches(id INTEGER PRIMARY KEY, placed INTEGER NOT NULL,"
    "  closed INTEGER NOT NULL DEFAULT 0, next_position INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE sheets(id TEXT PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE,"
    "  unreadable INTEGER NOT NULL, batch INTEGER NOT NULL REFERENCES batches(id),"
    "  position INTEGER NOT NULL, side INTEGER NOT NULL, back_of TEXT REFERENCES sheets(id),"
    "  form_idx INTEGER REFERENCES forms(idx), status INTEGER NOT NULL,"
    "  pattern TEXT NOT NULL, UNIQUE(batch, position, side)) WITHOUT ROWID;"
    "CREATE INDEX sheets_form ON sheets(form_idx, side);"
    "CREATE TABLE readings(sheet_id TEXT PRIMARY KEY REFERENCES sheets(id),"
    "  blob BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE exceptions(id INTEGER PRIMARY KEY, sheet_id TEXT NOT NULL"
    "  REFERENCES sheets(id), row INTEGER NOT NULL, reason TEXT NOT NULL,"
    "  text TEXT NOT NULL, state INTEGER NOT NULL DEFAULT 0,"
    "  resolution TEXT NOT NULL DEFAULT '', UNIQUE(sheet_id, row));"
    "CREATE INDEX exceptions_state ON exceptions(state);"
    "CREATE TABLE users(name TEXT PRIMARY KEY, role INTEGER NOT NULL,"
    "  pwhash TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE decisions(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  exception_id INTEGER NOT NULL REFERENCES exceptions(id),"
    "  user TEXT NOT NULL REFERENCES users(name), role INTEGER NOT NULL,"
    "  choice TEXT NOT NULL, note TEXT NOT NULL, time TEXT NOT NULL);"
    "CREATE INDEX decisions_exception ON decisions(exception_id, id);"
    "CREATE TABLE log(seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL,"
    "  action TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"),
    /* 1 -> 2: the earlier sheet a possible duplicate names, as a field of its own; files
     * of format 1 held it only in the words, from which it is taken here. */
    ("ALTER TABLE exceptions ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';"
    "UPDATE exceptions SET duplicate_of = substr(text,"
    "  instr(text, 'possible duplicate of sheet ') + 28, 16)"
    "  WHERE instr(text, 'possible duplicate of sheet ') > 0;"),
    /* 2 -> 3: the board-directed reading of a sheet whose form the board set
     * ("form:<id>" on a rejected page), beside the machine's own in readings. */
    ("CREATE TABLE board_readings(sheet_id TEXT PRIMARY KEY REFERENCES sheets(id),"
    "  form_idx INTEGER NOT NULL REFERENCES forms(idx), blob BLOB NOT NULL) WITHOUT ROWID;"),
    /* 3 -> 4: the board's reading of a page: each reader's rows beside their decision,
     * and the secret the decisions' digests of those rows are keyed with (exceptions.c). */
    ("CREATE TABLE board_entries(decision_id INTEGER PRIMARY KEY REFERENCES decisions(id),"
    "  form_idx INTEGER NOT NULL REFERENCES forms(idx), rows TEXT NOT NULL);"
    "INSERT OR IGNORE INTO settings(key, value)"
    "  VALUES ('board_entry_key', lower(hex(randomblob(32))));"),
    /* 4 -> 5: the strokes of each sheet of little ink (omr_strokes_store.c), so that a
     * rescan is compared with them instead of the earlier sheet's image decoded again;
     * sheets of older files have none and are compared from their images. */
    ("CREATE TABLE strokes(sheet_id TEXT PRIMARY KEY REFERENCES sheets(id),"
    "  blob BLOB NOT NULL) WITHOUT ROWID;"),
};

static int pragma_int(phieu_session *s, const char *sql, int *out, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, sql, &st, err) != 0)
        return err ? err->code : PHIEU_EDB;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return session_db_error(s, err, "cannot read the session header");
    }
    *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int session_migrate(phieu_session *s, int creating, phieu_error *err)
{
    int version = 0, app = 0;
    if (pragma_int(s, "PRAGMA user_version", &version, err) != 0 ||
        pragma_int(s, "PRAGMA application_id", &app, err) != 0)
        return err->code;
    if (!creating && app != SESSION_APPLICATION_ID)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s' is not a phieu session file (a different SQLite "
                               "database); give the file made by 'phieu session new'",
                               s->path);
    if (version > PHIEU_SESSION_SCHEMA_VERSION)
        return phieu_error_set(err, PHIEU_ESTATE,
                               "'%s' was made by a newer phieu (session format %d, this "
                               "program knows up to %d); use that version or a newer one",
                               s->path, version, PHIEU_SESSION_SCHEMA_VERSION);
    if (version == PHIEU_SESSION_SCHEMA_VERSION)
        return 0;
    if (session_begin(s, err) != 0)
        return err->code;
    for (int v = version; v < PHIEU_SESSION_SCHEMA_VERSION; v++) {
        if (session_exec(s, migrations[v], err) != 0) {
            session_rollback(s);
            return phieu_error_prefix(err, "cannot upgrade the session to format %d: ", v + 1);
        }
    }
    char sql[96];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d;",
             PHIEU_SESSION_SCHEMA_VERSION, SESSION_APPLICATION_ID);
    if (session_exec(s, sql, err) != 0) {
        session_rollback(s);
        return err->code;
    }
    return session_commit(s, err);
}

/* Opens the SQLite connection with the house settings. */
static int session_connect(phieu_session *s, int flags, phieu_error *err)
{
    if (sqlite3_open_v2(s->path, &s->db, flags, NULL) != SQLITE_OK) {
        int rc = phieu_error_set(err, PHIEU_EIO, "cannot open session '%s': %s", s->path,
                                 s->db ? sqlite3_errmsg(s->db) : "out of memory");
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, PHIEU_SESSION_BUSY_MS);
    /* journal_mode returns a row; a damaged file fails here with SQLITE_NOTADB. */
    if (session_exec(s, "PRAGMA journal_mode=WAL", err) != 0 ||
        session_exec(s, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", err) != 0)
        return err->code;
    return 0;
}

/* ---- Loading what the session holds -------------------------------------------------- */

static int get_setting(phieu_session *s, const char *key, char **out, phieu_error *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    if (session_prepare(s, "SELECT value FROM settings WHERE key = ?", &st, err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = phieu_strdup((const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        return *out ? 0 : phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the settings");
    return phieu_error_set(err, PHIEU_EFORMAT,
                           "session '%s' lacks its setting '%s'; it is damaged, restore it "
                           "from a backup copy",
                           s->path, key);
}

static int put_setting(phieu_session *s, const char *key, const char *value, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", &st,
                        err) != 0)
        return err->code;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot store a setting");
    return 0;
}

static int put_setting_int(phieu_session *s, const char *key, long long v, phieu_error *err)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", v);
    return put_setting(s, key, text, err);
}

static void board_release(phieu_board *b)
{
    phieu_free(b->head);
    phieu_free(b->secretary);
    for (int i = 0; i < b->n_members; i++)
        phieu_free(b->members[i]);
    phieu_free(b->members);
    memset(b, 0, sizeof *b);
}

int phieu_session_counts_get(phieu_session *s, phieu_board_counts out[PHIEU_SESSION_MAX_FORMS],
                             phieu_error *err)
{
    phieu_session_info *info = &s->info;
    phieu_board_counts counts[PHIEU_SESSION_MAX_FORMS];
    memset(counts, 0, sizeof counts);
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "SELECT form_idx, present, issued, collected, spoiled FROM counts",
                        &st, err) != 0)
        return err->code;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = sqlite3_column_int(st, 0);
        if (i < 0 || i >= info->n_forms)
            continue;
        phieu_board_counts *c = &counts[i];
        c->entered = 1;
        c->present = sqlite3_column_int(st, 1);
        c->issued = sqlite3_column_int(st, 2);
        c->collected = sqlite3_column_int(st, 3);
        c->spoiled = sqlite3_column_int(st, 4);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the board's counts");
    memcpy(info->counts, counts, sizeof counts);
    if (out)
        memcpy(out, counts, sizeof counts);
    return 0;
}

int session_load_board(phieu_session *s, phieu_error *err)
{
    phieu_session_info *info = &s->info;
    int rc = phieu_session_counts_get(s, NULL, err);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st;

    board_release(&info->board);
    if (session_prepare(s, "SELECT role, name FROM board ORDER BY seq", &st, err) != 0)
        return err->code;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *role = (const char *)sqlite3_column_text(st, 0);
        char *name = phieu_strdup((const char *)sqlite3_column_text(st, 1));
        if (!name)
            break;
        if (strcmp(role, "head") == 0) {
            phieu_free(info->board.head);
            info->board.head = name;
        } else if (strcmp(role, "secretary") == 0) {
            phieu_free(info->board.secretary);
            info->board.secretary = name;
        } else {
            char **grown = phieu_realloc(info->board.members,
                                         sizeof(char *) * (size_t)(info->board.n_members + 1));
            if (!grown) {
                phieu_free(name);
                break;
            }
            info->board.members = grown;
            info->board.members[info->board.n_members++] = name;
        }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading the board");
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the board");
    return 0;
}

static int load_forms(phieu_session *s, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT idx, id, fingerprint, source FROM forms ORDER BY idx", &st,
                        err) != 0)
        return err->code;
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n >= PHIEU_SESSION_MAX_FORMS || sqlite3_column_int(st, 0) != n) {
            sqlite3_finalize(st);
            return phieu_error_set(err, PHIEU_EFORMAT,
                                   "session '%s' has a damaged form list; restore it from a "
                                   "backup copy",
                                   s->path);
        }
        const char *id = (const char *)sqlite3_column_text(st, 1);
        const char *fp = (const char *)sqlite3_column_text(st, 2);
        const char *src = (const char *)sqlite3_column_text(st, 3);
        int len = sqlite3_column_bytes(st, 3);
        char label[300];
        snprintf(label, sizeof label, "%s (form '%s' stored in the session)", s->path, id);
        if (phieu_form_parse(src, (size_t)len, label, &s->forms[n], err) != 0) {
            sqlite3_finalize(st);
            return err->code;
        }
        if (strcmp(s->forms[n]->fingerprint_hex, fp) != 0) {
            sqlite3_finalize(st);
            return phieu_error_set(err, PHIEU_EINTEGRITY,
                                   "form '%s' in session '%s' no longer matches its recorded "
                                   "fingerprint %.16s...; the session was altered",
                                   id, s->path, fp);
        }
        if (phieu_layout_compute(s->forms[n], &s->layouts[n], err) != 0) {
            sqlite3_finalize(st);
            return err->code;
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the forms");
    if (n == 0)
        return phieu_error_set(err, PHIEU_EFORMAT, "session '%s' holds no form; it is damaged",
                               s->path);
    s->info.n_forms = n;
    s->info.forms = (const phieu_form *const *)s->forms;
    s->info.layouts = s->layouts;
    return 0;
}

static int load_info(phieu_session *s, phieu_error *err)
{
    phieu_session_info *info = &s->info;
    info->path = s->path;
    info->archive_dir = s->archive;
    char *v = NULL;
    if (get_setting(s, "council", &s->council, err) != 0 ||
        get_setting(s, "session_name", &s->session_name, err) != 0 ||
        get_setting(s, "date", &s->date, err) != 0 ||
        get_setting(s, "place", &s->place, err) != 0 ||
        get_setting(s, "rules", &s->rules, err) != 0)
        return err->code;
    info->council = s->council;
    info->session_name = s->session_name;
    info->date = s->date;
    info->place = s->place;
    info->rules = s->rules;
    static const char *const ints[] = {"delegates", "test", "two_person_rule",
                                       "confirm_overvotes"};
    int *targets[] = {&info->delegates, &info->test, &info->two_person_rule,
                      &info->confirm_overvotes};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (get_setting(s, ints[i], &v, err) != 0)
            return err->code;
        *targets[i] = atoi(v);
        phieu_free(v);
    }
    if (get_setting(s, "duplicate_similarity", &v, err) != 0)
        return err->code;
    info->duplicate_similarity = strtod(v, NULL);
    phieu_free(v);

    phieu_thresholds_default(&info->thresholds);
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT name, value FROM thresholds", &st, err) != 0)
        return err->code;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (int t = 0; t < PHIEU_TH_COUNT; t++)
            if (strcmp(name, phieu_threshold_name((phieu_threshold_id)t)) == 0)
                info->thresholds.value[t] = sqlite3_column_double(st, 1);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot read the thresholds");
    if (load_forms(s, err) != 0)
        return err->code;
    return session_load_board(s, err);
}

/* ---- Create / open / close ---------------------------------------------------------- */

static int session_alloc(const char *path, phieu_session **out, phieu_error *err)
{
    phieu_session *s = phieu_calloc(1, sizeof *s);
    if (!s)
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening '%s'", path);
    size_t n = strlen(path);
    s->path = phieu_strdup(path);
    s->archive = phieu_malloc(n + sizeof ".images");
    if (!s->path || !s->archive) {
        phieu_session_close(&s);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory opening '%s'", path);
    }
    memcpy(s->archive, path, n);
    memcpy(s->archive + n, ".images", sizeof ".images");
    *out = s;
    return 0;
}

/* The thresholds' rows (inside the caller's transaction). */
static int store_thresholds(phieu_session *s, const phieu_thresholds *th, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT INTO thresholds(name, value) VALUES (?, ?)", &st, err) != 0)
        return err->code;
    for (int t = 0; t < PHIEU_TH_COUNT; t++) {
        sqlite3_bind_text(st, 1, phieu_threshold_name((phieu_threshold_id)t), -1,
                          SQLITE_STATIC);
        sqlite3_bind_double(st, 2, th->value[t]);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return session_db_error(s, err, "cannot store the thresholds");
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* The session's own copy of each form (inside the caller's transaction); a form given
 * twice is refused. */
static int store_forms(phieu_session *s, const phieu_session_params *p, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "INSERT INTO forms(idx, id, fingerprint, source) VALUES (?,?,?,?)",
                        &st, err) != 0)
        return err->code;
    for (int i = 0; i < p->n_forms; i++) {
        const phieu_form *f = p->forms[i];
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_text(st, 2, f->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, f->fingerprint_hex, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, f->source, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            if ((sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CONSTRAINT)
                return phieu_error_set(err, PHIEU_EINVAL,
                                       "form '%s' is given twice; give each form once", f->id);
            return session_db_error(s, err, "cannot store the forms");
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* Logs the session's creation (inside the caller's transaction): what it is, its forms
 * by fingerprint, its thresholds. */
static int log_created(phieu_session *s, const phieu_session_params *p, const char *rules,
                       int two, const phieu_thresholds *th, phieu_error *err)
{
    double dup = p->duplicate_similarity > 0 ? p->duplicate_similarity
                                             : PHIEU_SESSION_DEFAULT_DUPLICATE_SIMILARITY;
    phieu_buf detail;
    phieu_buf_init(&detail);
    phieu_buf_printf(&detail, "%s session for %s, %s, %s, %s; %d delegates; rules %s; "
                              "two-person rule %s; forms:",
                     p->test ? "test" : "official", p->council, p->session_name, p->date,
                     p->place, p->delegates, rules, two ? "on" : "off");
    for (int i = 0; i < p->n_forms; i++)
        phieu_buf_printf(&detail, " %s (%.16s)", p->forms[i]->id,
                         p->forms[i]->fingerprint_hex);
    phieu_buf_puts(&detail, "; thresholds:");
    for (int t = 0; t < PHIEU_TH_COUNT; t++)
        phieu_buf_printf(&detail, " %s=%.3f", phieu_threshold_name((phieu_threshold_id)t),
                         th->value[t]);
    phieu_buf_printf(&detail, " duplicate=%.3f", dup);
    if (detail.failed) {
        phieu_buf_release(&detail);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
    }
    int rc = session_log_append_txn(s, p->actor, "session-created", detail.data, err);
    phieu_buf_release(&detail);
    return rc;
}

static int store_new(phieu_session *s, const phieu_session_params *p, phieu_error *err)
{
    const char *rules = p->rules ? p->rules : "nq96";
    int two = p->two_person_rule < 0 ? !p->test : p->two_person_rule != 0;
    double dup = p->duplicate_similarity > 0 ? p->duplicate_similarity
                                             : PHIEU_SESSION_DEFAULT_DUPLICATE_SIMILARITY;
    char dup_text[32];
    snprintf(dup_text, sizeof dup_text, "%.6f", dup);
    if (session_begin(s, err) != 0)
        return err->code;
    if (put_setting(s, "council", p->council, err) != 0 ||
        put_setting(s, "session_name", p->session_name, err) != 0 ||
        put_setting(s, "date", p->date, err) != 0 || put_setting(s, "place", p->place, err) ||
        put_setting(s, "rules", rules, err) != 0 ||
        put_setting_int(s, "delegates", p->delegates, err) != 0 ||
        put_setting_int(s, "test", p->test != 0, err) != 0 ||
        put_setting_int(s, "two_person_rule", two, err) != 0 ||
        put_setting_int(s, "confirm_overvotes", p->confirm_overvotes != 0, err) != 0 ||
        put_setting(s, "duplicate_similarity", dup_text, err) != 0)
        goto fail;
    phieu_thresholds th;
    if (p->thresholds)
        th = *p->thresholds;
    else
        phieu_thresholds_default(&th);
    if (store_thresholds(s, &th, err) != 0 || store_forms(s, p, err) != 0 ||
        log_created(s, p, rules, two, &th, err) != 0)
        goto fail;
    return session_commit(s, err);
fail:
    session_rollback(s);
    return err->code;
}

/* Whether every form was printed for this council and session (docs/session.md): a ballot
 * of another council or session shows under the wrong heading in the minutes. Compared as
 * a person reads them (phieu_text_same): the form prints upper case, the board types
 * ordinary case. */
static int check_form_headings(const phieu_session_params *p, phieu_error *err)
{
    for (int i = 0; i < p->n_forms; i++) {
        const phieu_form *f = p->forms[i];
        int council = 0, session = 0;
        if (phieu_text_same(f->council, p->council, &council, err) != 0 ||
            phieu_text_same(f->session, p->session_name, &session, err) != 0)
            return err->code;
        if (!council)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "form '%s' is printed for council '%s', but this session "
                                   "is of '%s'; give the form file of this council's "
                                   "ballots, or correct the session's council (--council)",
                                   f->id, f->council, p->council);
        if (!session)
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "form '%s' is printed for session '%s', but this session "
                                   "is '%s'; give the form file of this session's ballots, "
                                   "or correct the session's name (--session-name)",
                                   f->id, f->session, p->session_name);
    }
    return 0;
}

int phieu_session_create(const char *path, const phieu_session_params *p, phieu_session **out,
                         phieu_error *err)
{
    *out = NULL;
    if (!path || !p || !p->forms || p->n_forms < 1)
        return phieu_error_set(err, PHIEU_EINVAL, "a session needs a file name and a form");
    if (p->n_forms > PHIEU_SESSION_MAX_FORMS)
        return phieu_error_set(err, PHIEU_ELIMIT, "%d forms given; a session holds at most %d",
                               p->n_forms, PHIEU_SESSION_MAX_FORMS);
    if (!p->council || !p->session_name || !p->date || !p->place || !p->council[0] ||
        !p->session_name[0] || !p->date[0] || !p->place[0])
        return phieu_error_set(err, PHIEU_EINVAL,
                               "the council, session name, date and place are all needed "
                               "(they are printed in the minutes)");
    if (p->delegates <= 0)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "the number of delegates must be positive, not %d",
                               p->delegates);
    if (p->rules && strcmp(p->rules, "nq96") != 0 && strcmp(p->rules, "nq85") != 0)
        return phieu_error_set(err, PHIEU_EINVAL, "unknown rule set '%s'; use nq96 or nq85",
                               p->rules);
    for (int i = 0; i < p->n_forms; i++)
        if (!p->forms[i] || !p->forms[i]->source)
            return phieu_error_set(err, PHIEU_EINVAL, "form %d has no source text", i + 1);
    if (check_form_headings(p, err) != 0)
        return err->code;
    if (phieu_util_init(err) != 0)
        return err->code;
    struct stat sb;
    if (stat(path, &sb) == 0)
        return phieu_error_set(err, PHIEU_EEXIST,
                               "'%s' already exists; choose another name or open it", path);
    phieu_session *s;
    if (session_alloc(path, &s, err) != 0)
        return err->code;
    if (phieu_mkdir_p(s->archive, err) != 0 ||
        session_connect(s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err) != 0 ||
        session_migrate(s, 1, err) != 0 || store_new(s, p, err) != 0 || load_info(s, err) != 0) {
        phieu_session_close(&s);
        unlink(path);
        char side[4200];
        snprintf(side, sizeof side, "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", path);
        unlink(side);
        return err->code;
    }
    *out = s;
    return 0;
}

int phieu_session_open(const char *path, phieu_session **out, phieu_error *err)
{
    *out = NULL;
    if (!path)
        return phieu_error_set(err, PHIEU_EINVAL, "no session file given");
    if (phieu_util_init(err) != 0)
        return err->code;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return phieu_error_set(err, PHIEU_ENOTFOUND,
                               "session '%s' does not exist; create it with 'phieu session "
                               "new'",
                               path);
    phieu_session *s;
    if (session_alloc(path, &s, err) != 0)
        return err->code;
    if (session_connect(s, SQLITE_OPEN_READWRITE, err) != 0 || session_migrate(s, 0, err) != 0 ||
        load_info(s, err) != 0 || phieu_mkdir_p(s->archive, err) != 0) {
        phieu_session_close(&s);
        return err->code;
    }
    *out = s;
    return 0;
}

void phieu_session_close(phieu_session **sp)
{
    if (!sp || !*sp)
        return;
    phieu_session *s = *sp;
    if (s->db)
        sqlite3_close_v2(s->db);
    for (int i = 0; i < PHIEU_SESSION_MAX_FORMS; i++)
        phieu_form_destroy(&s->forms[i]);
    board_release(&s->info.board);
    phieu_free(s->council);
    phieu_free(s->session_name);
    phieu_free(s->date);
    phieu_free(s->place);
    phieu_free(s->rules);
    phieu_free(s->path);
    phieu_free(s->archive);
    phieu_free(s);
    *sp = NULL;
}

int phieu_session_check_integrity(phieu_session *s, phieu_error *err)
{
    sqlite3_stmt *st;
    if (session_prepare(s, "PRAGMA integrity_check", &st, err) != 0)
        return err->code;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return session_db_error(s, err, "cannot check the session");
    }
    const char *first = (const char *)sqlite3_column_text(st, 0);
    if (!first || strcmp(first, "ok") != 0) {
        int r = phieu_error_set(err, PHIEU_EINTEGRITY,
                                "session '%s' is damaged: %s; restore it from a backup copy",
                                s->path, first ? first : "?");
        sqlite3_finalize(st);
        return r;
    }
    sqlite3_finalize(st);
    if (session_prepare(s, "PRAGMA foreign_key_check", &st, err) != 0)
        return err->code;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int r = phieu_error_set(err, PHIEU_EINTEGRITY,
                                "session '%s': a row of table '%s' refers to a missing '%s'",
                                s->path, (const char *)sqlite3_column_text(st, 0),
                                (const char *)sqlite3_column_text(st, 2));
        sqlite3_finalize(st);
        return r;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return session_db_error(s, err, "cannot check the session");
    return 0;
}

/* ---- Info and settings -------------------------------------------------------------- */

const phieu_session_info *phieu_session_get_info(const phieu_session *s)
{
    return &s->info;
}

int phieu_session_form_index(const phieu_session *s, const char *form_id)
{
    for (int i = 0; i < s->info.n_forms; i++)
        if (strcmp(s->forms[i]->id, form_id) == 0)
            return i;
    return -1;
}

void phieu_session_omr_config(const phieu_session *s, phieu_omr_config *out)
{
    memset(out, 0, sizeof *out);
    out->forms = (const phieu_form *const *)s->forms;
    out->layouts = s->layouts;
    out->n_forms = s->info.n_forms;
    out->thresholds = s->info.thresholds;
    out->test_session = s->info.test;
}

int phieu_session_set_counts(phieu_session *s, int form_index, const phieu_board_counts *c,
                             const char *actor, phieu_error *err)
{
    if (form_index < -1 || form_index >= s->info.n_forms)
        return phieu_error_set(err, PHIEU_EINVAL, "no form number %d in this session",
                               form_index + 1);
    if (c->present < 0 || c->issued < 0 || c->collected < 0 || c->spoiled < 0)
        return phieu_error_set(err, PHIEU_EINVAL, "counts cannot be negative");
    if (c->present > s->info.delegates)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "%d delegates present, but the council has only %d",
                               c->present, s->info.delegates);
    if (c->collected > c->issued)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "%d ballots collected but only %d issued; check both counts",
                               c->collected, c->issued);
    if (session_begin(s, err) != 0)
        return err->code;
    sqlite3_stmt *st;
    if (session_prepare(s,
                        "INSERT OR REPLACE INTO counts(form_idx, present, issued, collected, "
                        "spoiled) VALUES (?,?,?,?,?)",
                        &st, err) != 0)
        goto fail;
    phieu_buf detail;
    phieu_buf_init(&detail);
    for (int i = 0; i < s->info.n_forms; i++) {
        if (form_index >= 0 && i != form_index)
            continue;
        sqlite3_bind_int(st, 1, i);
        sqlite3_bind_int(st, 2, c->present);
        sqlite3_bind_int(st, 3, c->issued);
        sqlite3_bind_int(st, 4, c->collected);
        sqlite3_bind_int(st, 5, c->spoiled);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            phieu_buf_release(&detail);
            session_db_error(s, err, "cannot store the counts");
            goto fail;
        }
        phieu_buf_printf(&detail, "%sform %s: present %d, issued %d, collected %d, spoiled %d",
                         detail.len ? "; " : "", s->forms[i]->id, c->present, c->issued,
                         c->collected, c->spoiled);
    }
    sqlite3_finalize(st);
    /* Out of memory for the words: no entry without them (the log would lose the figures). */
    int rc = detail.failed ? phieu_error_set(err, PHIEU_ENOMEM, "out of memory")
                           : session_log_append_txn(s, actor, "counts", detail.data, err);
    phieu_buf_release(&detail);
    if (rc != 0 || session_commit(s, err) != 0)
        goto fail;
    return session_load_board(s, err);
fail:
    session_rollback(s);
    return err->code;
}

int phieu_session_set_board(phieu_session *s, const char *head, const char *secretary,
                            const char *const *members, int n_members, const char *actor,
                            phieu_error *err)
{
    if (!head || !head[0] || !secretary || !secretary[0])
        return phieu_error_set(err, PHIEU_EINVAL,
                               "the board needs its head and its secretary (both sign the "
                               "minutes)");
    if (session_begin(s, err) != 0)
        return err->code;
    sqlite3_stmt *st = NULL;
    phieu_buf detail;
    phieu_buf_init(&detail);
    if (session_exec(s, "DELETE FROM board", err) != 0 ||
        session_prepare(s, "INSERT INTO board(role, name) VALUES (?, ?)", &st, err) != 0)
        goto fail;
    for (int i = -2; i < n_members; i++) {
        const char *role = i == -2 ? "head" : i == -1 ? "secretary" : "member";
        const char *name = i == -2 ? head : i == -1 ? secretary : members[i];
        if (!name || !name[0]) {
            phieu_error_set(err, PHIEU_EINVAL, "a board member's name is empty");
            goto fail;
        }
        sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            session_db_error(s, err, "cannot store the board");
            goto fail;
        }
        phieu_buf_printf(&detail, "%s%s: %s", i == -2 ? "" : "; ", role, name);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (detail.failed) {
        phieu_error_set(err, PHIEU_ENOMEM, "out of memory");
        goto fail;
    }
    if (session_log_append_txn(s, actor, "board", detail.data, err) != 0 ||
        session_commit(s, err) != 0)
        goto fail;
    phieu_buf_release(&detail);
    return session_load_board(s, err);
fail:
    sqlite3_finalize(st);
    phieu_buf_release(&detail);
    session_rollback(s);
    return err->code;
}

/* ---- The times of the count (entered by the board, printed in the minutes) ---------- */

/* "HH:MM" of a day from what the board typed: H:MM or HH:MM, the separator ':' or 'h'
 * ("14h30", as Vietnamese often writes it); "" stays "" (not entered). */
static int parse_time(const char *what, const char *in, char out[PHIEU_SESSION_TIME_MAX],
                      phieu_error *err)
{
    if (!in[0]) {
        out[0] = '\0';
        return 0;
    }
    const char *p = in;
    int h = 0, m = 0, digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 2; p++, digits++)
        h = h * 10 + (*p - '0');
    int ok = digits >= 1 && (*p == ':' || *p == 'h');
    for (digits = 0, p += ok; ok && *p >= '0' && *p <= '9' && digits < 2; p++, digits++)
        m = m * 10 + (*p - '0');
    if (!ok || digits != 2 || *p || h > 23 || m > 59)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "the %s time '%s' is not a time of day; write it as hours and "
                               "minutes, e.g. 14:30",
                               what, in);
    /* Digit by digit: h and m are checked above, and no format can overflow. */
    out[0] = (char)('0' + h / 10), out[1] = (char)('0' + h % 10), out[2] = ':';
    out[3] = (char)('0' + m / 10), out[4] = (char)('0' + m % 10), out[5] = '\0';
    return 0;
}

int phieu_session_set_times(phieu_session *s, const char *opened, const char *closed,
                            const char *actor, phieu_error *err)
{
    char o[PHIEU_SESSION_TIME_MAX], c[PHIEU_SESSION_TIME_MAX];
    if ((opened && parse_time("opening", opened, o, err) != 0) ||
        (closed && parse_time("closing", closed, c, err) != 0))
        return err->code;
    if (!opened && !closed)
        return 0;
    if (session_begin(s, err) != 0)
        return err->code;
    char detail[64];
    snprintf(detail, sizeof detail, "%s%s%s%s%s", opened ? "opened " : "",
             opened ? (o[0] ? o : "-") : "", opened && closed ? "; " : "",
             closed ? "closed " : "", closed ? (c[0] ? c : "-") : "");
    if ((opened && put_setting(s, "opened", o, err) != 0) ||
        (closed && put_setting(s, "closed", c, err) != 0) ||
        session_log_append_txn(s, actor, "times", detail, err) != 0 ||
        session_commit(s, err) != 0) {
        session_rollback(s);
        return err->code;
    }
    return 0;
}

int phieu_session_times_get(phieu_session *s, char opened[PHIEU_SESSION_TIME_MAX],
                            char closed[PHIEU_SESSION_TIME_MAX], phieu_error *err)
{
    opened[0] = closed[0] = '\0';
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT key, value FROM settings WHERE key IN ('opened', 'closed')",
                        &st, err) != 0)
        return err->code;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        const char *value = (const char *)sqlite3_column_text(st, 1);
        snprintf(strcmp(key, "opened") == 0 ? opened : closed, PHIEU_SESSION_TIME_MAX, "%s",
                 value ? value : "");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : session_db_error(s, err, "cannot read the session's times");
}

int phieu_session_set_threshold(phieu_session *s, const char *name, double value,
                                const char *actor, phieu_error *err)
{
    phieu_thresholds th = s->info.thresholds;
    int duplicate = strcmp(name, "duplicate") == 0;
    if (duplicate) {
        if (!(value > 0 && value <= 1))
            return phieu_error_set(err, PHIEU_EINVAL,
                                   "threshold 'duplicate' must be in (0, 1], not %g", value);
    } else if (phieu_thresholds_set(&th, name, value, err) != 0) {
        return err->code;
    }
    if (session_begin(s, err) != 0)
        return err->code;
    sqlite3_stmt *st;
    if (session_prepare(s, "SELECT count(*) FROM readings", &st, err) != 0)
        goto fail;
    int rc = sqlite3_step(st);
    int read = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (read != 0) {
        if (read < 0)
            session_db_error(s, err, "cannot count the readings");
        else
            phieu_error_set(err, PHIEU_ESTATE,
                            "%d pages were already read with the thresholds in force; a "
                            "threshold cannot change in the middle of a count",
                            read);
        goto fail;
    }
    char text[32], detail[160];
    snprintf(text, sizeof text, "%.6f", value);
    snprintf(detail, sizeof detail, "threshold %s set to %.3f", name, value);
    if (duplicate) {
        if (put_setting(s, "duplicate_similarity", text, err) != 0)
            goto fail;
    } else {
        if (session_prepare(s, "INSERT OR REPLACE INTO thresholds(name, value) VALUES (?, ?)",
                            &st, err) != 0)
            goto fail;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 2, value);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            session_db_error(s, err, "cannot store the threshold");
            goto fail;
        }
    }
    if (session_log_append_txn(s, actor, "threshold", detail, err) != 0 ||
        session_commit(s, err) != 0)
        goto fail;
    if (duplicate)
        s->info.duplicate_similarity = value;
    else
        s->info.thresholds = th;
    return 0;
fail:
    session_rollback(s);
    return err->code;
}
