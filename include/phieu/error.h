/*
 * error.h - the status codes and the caller-owned error every public function fills.
 *
 * Contract: every public function of libphieu returns 0 on success or a negative
 * PHIEU_E... code, and, when it fails and `err` is not NULL, writes into `err` a message
 * a user can act on: what failed, where (file, page, line), and what to do about it.
 * Messages are lowercase, error first, subjects quoted: "cannot open 'x.tif': ...".
 * The library never prints and never exits. A phieu_error is a plain struct owned by the
 * caller; it needs no cleanup. Thread safety: none needed, nothing here is shared.
 */
#ifndef PHIEU_ERROR_H
#define PHIEU_ERROR_H

#include <stddef.h>

enum {
    PHIEU_OK = 0,
    PHIEU_EINVAL = -1,     /* a bad argument or option from the caller */
    PHIEU_ENOMEM = -2,     /* out of memory */
    PHIEU_EIO = -3,        /* a read, write or fsync failed (disk full, permissions) */
    PHIEU_EFORMAT = -4,    /* a file's content is corrupt, truncated or unsupported */
    PHIEU_ELIMIT = -5,     /* input larger than a configured limit */
    PHIEU_ENOTFOUND = -6,  /* a named thing does not exist */
    PHIEU_EEXIST = -7,     /* already there (a page already in the session, a file) */
    PHIEU_ESTATE = -8,     /* not allowed now (open exceptions block the report, ...) */
    PHIEU_EDEVICE = -9,    /* the scanner failed (jam, cover open, busy, unplugged) */
    PHIEU_EINTEGRITY = -10, /* a hash, chain or signature does not match */
    PHIEU_ECANCELLED = -11, /* the operator stopped the operation */
    PHIEU_EDB = -12,       /* the session database failed */
};

#define PHIEU_ERROR_MESSAGE_MAX 512

typedef struct phieu_error {
    int code;                              /* the last PHIEU_E... code, 0 if none */
    char message[PHIEU_ERROR_MESSAGE_MAX]; /* NUL-terminated, "" if none */
} phieu_error;

/* Sets err (if not NULL) to code and a printf-style message; returns code, so that a
 * failing function can `return phieu_error_set(err, PHIEU_EIO, "cannot ...", ...);`. */
int phieu_error_set(phieu_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with more context ("page 3: " + old message).
 * Returns err->code (or PHIEU_EINVAL when err is NULL). */
int phieu_error_prefix(phieu_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Resets err to no error. */
void phieu_error_clear(phieu_error *err);

/* A stable short name for a code ("io", "format", ...), for logs and JSON. */
const char *phieu_error_code_name(int code);

#endif
