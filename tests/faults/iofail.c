/*
 * iofail.c - an LD_PRELOAD shim that makes file writes, fsync and rename fail on cue, so
 * the end-to-end tests can show what phieu does on a full disk or a failing disk without
 * root or a real device. Only regular files whose path contains IOFAIL_MATCH are touched
 * (all regular files when unset); terminals and pipes never fail, so messages get out.
 * Not part of phieu: built by tests/e2e/faults_*.sh with `cc -shared -fPIC`.
 *
 *   IOFAIL_ERRNO=ENOSPC|EIO   the error to give (default ENOSPC: a full disk)
 *   IOFAIL_MATCH=TEXT         only files whose path contains TEXT
 *   IOFAIL_AFTER_BYTES=N      a full disk: writes succeed up to N bytes in all, then fail
 *                             (a write crossing the limit is short), and keep failing
 *   IOFAIL_WRITE_CALL=N       the N-th write call (1-based) fails, once
 *   IOFAIL_FSYNC_CALL=N       the N-th fsync/fdatasync fails, once
 *   IOFAIL_RENAME_CALL=N      the N-th rename onto a matching path fails, once
 *   IOFAIL_LOG=FILE           appends one line per injected fault (so a test knows it fired)
 *
 * write, pwrite, pwrite64, writev and fwrite are covered (cairo writes PDFs with fwrite;
 * SQLite uses pwrite64 and fdatasync). Counters are atomic: phieu scan writes from two
 * threads.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : -1;
}

static int fault_errno(void)
{
    const char *v = getenv("IOFAIL_ERRNO");
    return v && strcmp(v, "EIO") == 0 ? EIO : ENOSPC;
}

static void note(const char *what, const char *path)
{
    const char *log = getenv("IOFAIL_LOG");
    if (!log || !*log)
        return;
    char line[PATH_MAX + 64];
    int n = snprintf(line, sizeof line, "%d %s %s\n", (int)getpid(), what, path);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t (*real_write)(int, const void *, size_t) =
        (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (real_write && n > 0)
        (void)real_write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    close(fd);
}

static int path_matches(const char *path)
{
    const char *m = getenv("IOFAIL_MATCH");
    return !m || !*m || (path && strstr(path, m) != NULL);
}

/* 1 when fd is a regular file whose path matches; its path goes to out. */
static int fd_matches(int fd, char *out, size_t size)
{
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, out, size - 1);
    if (n < 0)
        return 0;
    out[n] = '\0';
    return path_matches(out);
}

static long bytes_written;
static long write_calls, fsync_calls, rename_calls;

/* How many of `len` bytes may be written now: len, fewer (a full disk), or -1 to fail. */
static ssize_t allowance(int fd, size_t len)
{
    char path[PATH_MAX];
    if (!fd_matches(fd, path, sizeof path))
        return (ssize_t)len;
    long call = __atomic_add_fetch(&write_calls, 1, __ATOMIC_SEQ_CST);
    if (call == env_long("IOFAIL_WRITE_CALL")) {
        note("write-call", path);
        return -1;
    }
    long limit = env_long("IOFAIL_AFTER_BYTES");
    if (limit < 0)
        return (ssize_t)len;
    long before = __atomic_fetch_add(&bytes_written, (long)len, __ATOMIC_SEQ_CST);
    if (before >= limit) {
        note("full", path);
        return -1;
    }
    if (before + (long)len > limit) {
        note("full-short", path);
        return (ssize_t)(limit - before);
    }
    return (ssize_t)len;
}

#define REAL(ret, name, ...)                                                                   \
    static ret (*real)(__VA_ARGS__);                                                         \
    if (!real)                                                                               \
        real = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t len)
{
    REAL(ssize_t, "write", int, const void *, size_t);
    ssize_t ok = allowance(fd, len);
    if (ok < 0 || (ok == 0 && len > 0)) {
        errno = fault_errno();
        return -1;
    }
    return real(fd, buf, (size_t)ok);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    REAL(ssize_t, "pwrite", int, const void *, size_t, off_t);
    ssize_t ok = allowance(fd, len);
    if (ok < 0 || (ok == 0 && len > 0)) {
        errno = fault_errno();
        return -1;
    }
    return real(fd, buf, (size_t)ok, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    REAL(ssize_t, "pwrite64", int, const void *, size_t, off_t);
    ssize_t ok = allowance(fd, len);
    if (ok < 0 || (ok == 0 && len > 0)) {
        errno = fault_errno();
        return -1;
    }
    return real(fd, buf, (size_t)ok, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL(ssize_t, "writev", int, const struct iovec *, int);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += iov[i].iov_len;
    ssize_t ok = allowance(fd, len);
    if (ok < 0 || (ok == 0 && len > 0) || (size_t)ok < len) {
        errno = fault_errno();
        return -1;
    }
    return real(fd, iov, n);
}

size_t fwrite(const void *buf, size_t size, size_t count, FILE *f)
{
    REAL(size_t, "fwrite", const void *, size_t, size_t, FILE *);
    if (size == 0 || count == 0)
        return real(buf, size, count, f);
    ssize_t ok = allowance(fileno(f), size * count);
    if (ok < 0) {
        errno = fault_errno();
        return 0;
    }
    size_t items = (size_t)ok / size;
    size_t done = items ? real(buf, size, items, f) : 0;
    if (done < count)
        errno = fault_errno();
    return done;
}

static int sync_fault(int fd)
{
    char path[PATH_MAX];
    struct stat st;
    /* fsync of a folder (after a rename) counts too: it is how the rename is made durable. */
    if (fd < 0 || fstat(fd, &st) != 0)
        return 0;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return 0;
    path[n] = '\0';
    if (!path_matches(path))
        return 0;
    long call = __atomic_add_fetch(&fsync_calls, 1, __ATOMIC_SEQ_CST);
    if (call == env_long("IOFAIL_FSYNC_CALL")) {
        note("fsync", path);
        return 1;
    }
    /* A full disk also fails the sync that would flush what no longer fits. */
    long limit = env_long("IOFAIL_AFTER_BYTES");
    if (limit >= 0 && S_ISREG(st.st_mode) &&
        __atomic_load_n(&bytes_written, __ATOMIC_SEQ_CST) > limit) {
        note("fsync-full", path);
        return 1;
    }
    return 0;
}

int fsync(int fd)
{
    REAL(int, "fsync", int);
    if (sync_fault(fd)) {
        errno = fault_errno();
        return -1;
    }
    return real(fd);
}

int fdatasync(int fd)
{
    REAL(int, "fdatasync", int);
    if (sync_fault(fd)) {
        errno = fault_errno();
        return -1;
    }
    return real(fd);
}

int rename(const char *from, const char *to)
{
    REAL(int, "rename", const char *, const char *);
    if (path_matches(to)) {
        long call = __atomic_add_fetch(&rename_calls, 1, __ATOMIC_SEQ_CST);
        if (call == env_long("IOFAIL_RENAME_CALL")) {
            note("rename", to);
            errno = fault_errno();
            return -1;
        }
    }
    return real(from, to);
}
