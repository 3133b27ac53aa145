/*
 * error.c - filling the caller-owned phieu_error.
 * Only formats messages; deciding what to tell the user is the caller's job, and
 * printing it is the CLI's.
 */
#include "phieu/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int phieu_error_set(phieu_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

int phieu_error_prefix(phieu_error *err, const char *fmt, ...)
{
    if (!err)
        return PHIEU_EINVAL;
    char prefix[PHIEU_ERROR_MESSAGE_MAX];
    char old[PHIEU_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    /* Copied by hand: snprintf("%s%s") of two full buffers trips -Wformat-truncation. */
    size_t n = strlen(prefix), m = strlen(old);
    if (m > sizeof err->message - 1 - n)
        m = sizeof err->message - 1 - n;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, old, m);
    err->message[n + m] = '\0';
    return err->code;
}

void phieu_error_clear(phieu_error *err)
{
    if (err) {
        err->code = 0;
        err->message[0] = '\0';
    }
}

const char *phieu_error_code_name(int code)
{
    switch (code) {
    case PHIEU_OK: return "ok";
    case PHIEU_EINVAL: return "invalid";
    case PHIEU_ENOMEM: return "no-memory";
    case PHIEU_EIO: return "io";
    case PHIEU_EFORMAT: return "format";
    case PHIEU_ELIMIT: return "limit";
    case PHIEU_ENOTFOUND: return "not-found";
    case PHIEU_EEXIST: return "exists";
    case PHIEU_ESTATE: return "state";
    case PHIEU_EDEVICE: return "device";
    case PHIEU_EINTEGRITY: return "integrity";
    case PHIEU_ECANCELLED: return "cancelled";
    case PHIEU_EDB: return "database";
    default: return "unknown";
    }
}
