/*
 * util.c - SHA-256 through libcrypto, durable file writes, and the text buffer.
 * Content-addressed archiving and export manifests are built on these; the archive's own
 * naming rules live in src/session/, the manifest's in src/report/.
 */
#include "phieu/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
/* libcrypto's low-level SHA-256 (SHA256_Init/Update/Final), deprecated in OpenSSL 3 in
 * favour of EVP, is used on purpose: it runs the same code (the CPU's SHA instructions)
 * without EVP's provider and configuration loading, which leaves 2 MB more of libcrypto
 * resident in every phieu process (a program hashing once: 5.1 MB against 3.1 MB), and an
 * import at 600 dpi has no such room under its memory bar (docs/intake.md). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "phieu/alloc.h"

int phieu_util_init(phieu_error *err)
{
    if (sodium_init() < 0)
        return phieu_error_set(err, PHIEU_EINVAL, "cannot initialise libsodium");
    return 0;
}

void phieu_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int phieu_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_len,
                     phieu_error *err)
{
    if (hex_len != 2 * out_len)
        return phieu_error_set(err, PHIEU_EFORMAT, "expected %zu hex digits, found %zu",
                               2 * out_len, hex_len);
    for (size_t i = 0; i < out_len; i++) {
        int hi = hex_value((unsigned char)hex[2 * i]);
        int lo = hex_value((unsigned char)hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return phieu_error_set(err, PHIEU_EFORMAT, "not a hex digit at position %zu",
                                   2 * i + (hi < 0 ? 1 : 2));
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* libcrypto's SHA-256 hashes the pages: it uses the CPU's SHA instructions, 7 times
 * libsodium's portable code on the development machine (354 against 50 MB/s on 2 MB
 * buffers, both cores busy), and hashing was 15 % of an import's CPU (docs/intake.md).
 * The context lives on the stack: nothing to allocate, nothing that fails. */
void phieu_sha256(const void *data, size_t len, uint8_t out[PHIEU_SHA256_BYTES])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void phieu_sha256_hex(const void *data, size_t len, char out[PHIEU_SHA256_HEX])
{
    uint8_t digest[PHIEU_SHA256_BYTES];
    phieu_sha256(data, len, digest);
    phieu_hex(digest, sizeof digest, out);
}

/* A streamed SHA-256 (see phieu_sha256). */
typedef struct hasher {
    SHA256_CTX c;
} hasher;

static void hasher_init(hasher *h)
{
    SHA256_Init(&h->c);
}

static void hasher_update(hasher *h, const void *data, size_t len)
{
    SHA256_Update(&h->c, data, len);
}

/* The digest as hex. */
static void hasher_final(hasher *h, char out[PHIEU_SHA256_HEX])
{
    uint8_t digest[PHIEU_SHA256_BYTES];
    SHA256_Final(digest, &h->c);
    phieu_hex(digest, sizeof digest, out);
}

/* Copy and hash in chunks of this size: large enough that the system calls cost nothing
 * beside the hash, small enough to stay in the L2 cache between read, hash and write. */
#define COPY_CHUNK (256 * 1024)

int phieu_sha256_file(const char *path, char out[PHIEU_SHA256_HEX], phieu_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return phieu_error_set(err, PHIEU_EIO, "cannot open '%s': %s", path, strerror(errno));
    hasher h;
    hasher_init(&h);
    unsigned char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        hasher_update(&h, chunk, n);
    int failed = ferror(f);
    fclose(f);
    hasher_final(&h, out);
    if (failed)
        return phieu_error_set(err, PHIEU_EIO, "cannot read '%s'", path);
    return 0;
}

/* What the user can do about a failed write, by its cause. */
static const char *what_to_do(int errnum);

/* Writes all of buf to fd; 0, or the errno of the failure. */
static int write_all(int fd, const uint8_t *p, size_t left)
{
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : ENOSPC;
        p += n;
        left -= (size_t)n;
    }
    return 0;
}

/* Copies in to out through buf, hashing; 0, or a PHIEU_E code with err set. */
static int copy_hashing(int in, int out, const char *src, const char *dst, uint64_t max_bytes,
                        uint8_t *buf, hasher *h, uint64_t *total, phieu_error *err)
{
    *total = 0;
    for (;;) {
        ssize_t n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return phieu_error_set(err, PHIEU_EIO, "cannot read '%s': %s", src,
                                   strerror(errno));
        if (n == 0)
            return 0;
        *total += (uint64_t)n;
        if (*total > max_bytes) /* the file grew after fstat */
            return phieu_error_set(err, PHIEU_ELIMIT,
                                   "'%s' is more than the limit of %llu bytes", src,
                                   (unsigned long long)max_bytes);
        hasher_update(h, buf, (size_t)n);
        int e = write_all(out, buf, (size_t)n);
        if (e != 0)
            return phieu_error_set(err, PHIEU_EIO, "cannot write '%s': %s; %s", dst,
                                   strerror(e), what_to_do(e));
    }
}

/* Opens src for copying: a regular file within max_bytes; -1 with err set otherwise. */
static int open_source(const char *src, uint64_t max_bytes, phieu_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        phieu_error_set(err, PHIEU_EIO, "cannot open '%s': %s", src, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(in);
        phieu_error_set(err, PHIEU_EIO, "cannot read '%s': not a regular file", src);
        return -1;
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(in);
        phieu_error_set(err, PHIEU_ELIMIT, "'%s' is %lld bytes, more than the limit of %llu bytes",
                        src, (long long)st.st_size, (unsigned long long)max_bytes);
        return -1;
    }
    (void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    return in;
}

int phieu_copy_file_hashed(const char *src, const char *dst, uint64_t max_bytes,
                           char sha_hex[PHIEU_SHA256_HEX], uint64_t *len, phieu_error *err)
{
    int in = open_source(src, max_bytes, err);
    if (in < 0)
        return err->code;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    uint8_t *buf = phieu_malloc(COPY_CHUNK);
    if (out < 0 || !buf) {
        int rc = out < 0 ? phieu_error_set(err, PHIEU_EIO, "cannot create '%s': %s; %s", dst,
                                           strerror(errno), what_to_do(errno))
                         : phieu_error_set(err, PHIEU_ENOMEM, "out of memory copying '%s'", src);
        if (out >= 0) {
            close(out);
            unlink(dst);
        }
        close(in);
        phieu_free(buf);
        return rc;
    }
    hasher h;
    hasher_init(&h);
    uint64_t total = 0;
    int rc = copy_hashing(in, out, src, dst, max_bytes, buf, &h, &total, err);
    hasher_final(&h, sha_hex);
    phieu_free(buf);
    close(in);
    if (rc == 0 && fsync(out) != 0)
        rc = phieu_error_set(err, PHIEU_EIO, "cannot sync '%s': %s; %s", dst, strerror(errno),
                             what_to_do(errno));
    if (close(out) != 0 && rc == 0)
        rc = phieu_error_set(err, PHIEU_EIO, "cannot close '%s': %s; %s", dst, strerror(errno),
                             what_to_do(errno));
    if (rc != 0)
        unlink(dst);
    else if (len)
        *len = total;
    return rc;
}

int phieu_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len,
                    phieu_error *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return phieu_error_set(err, PHIEU_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return phieu_error_set(err, PHIEU_EIO, "cannot read '%s': not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max_bytes) {
        fclose(f);
        return phieu_error_set(err, PHIEU_ELIMIT,
                               "'%s' is %lld bytes, more than the limit of %zu bytes", path,
                               (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *buf = phieu_malloc(size + 1);
    if (!buf) {
        fclose(f);
        return phieu_error_set(err, PHIEU_ENOMEM, "out of memory reading '%s'", path);
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        phieu_free(buf);
        return phieu_error_set(err, PHIEU_EIO, "cannot read '%s': short read", path);
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return 0;
}

static int fsync_dir_of(const char *path, phieu_error *err)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return phieu_error_set(err, PHIEU_EIO, "cannot open folder '%s': %s", dir,
                               strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0)
        return phieu_error_set(err, PHIEU_EIO, "cannot sync folder '%s': %s", dir,
                               strerror(saved));
    return 0;
}

/* What the user can do about a failed write, by its cause. */
static const char *what_to_do(int errnum)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        return "free some disk space and run the command again";
    case EACCES:
    case EPERM:
    case EROFS:
        return "check that the folder is writable (not read-only, your permissions) and run "
               "the command again";
    default:
        return "the disk or its connection may be failing: check it (or copy the session to "
               "another disk) and run the command again";
    }
}

int phieu_write_file_durable(const char *path, const void *data, size_t len, phieu_error *err)
{
    char tmp[4096];
    /* The process id first (archive cleaning keeps the files of live processes), then the
     * thread's: the intake's workers may write the same page at once. */
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%ld", path, (long)getpid(),
                 (long)syscall(SYS_gettid)) >= (int)sizeof tmp)
        return phieu_error_set(err, PHIEU_EINVAL, "path too long: '%s'", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return phieu_error_set(err, PHIEU_EIO, "cannot create '%s': %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : ENOSPC;
            close(fd);
            unlink(tmp);
            return phieu_error_set(err, PHIEU_EIO, "cannot write '%s': %s; %s", path,
                                   strerror(saved), what_to_do(saved));
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        return phieu_error_set(err, PHIEU_EIO, "cannot sync '%s': %s; %s", path,
                               strerror(saved), what_to_do(saved));
    }
    if (close(fd) != 0) {
        int saved = errno;
        unlink(tmp);
        return phieu_error_set(err, PHIEU_EIO, "cannot close '%s': %s; %s", path,
                               strerror(saved), what_to_do(saved));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return phieu_error_set(err, PHIEU_EIO, "cannot rename '%s' to '%s': %s; %s", tmp, path,
                               strerror(saved), what_to_do(saved));
    }
    return fsync_dir_of(path, err);
}

int phieu_mkdir_p(const char *path, phieu_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return phieu_error_set(err, PHIEU_EINVAL, "path too long: '%s'", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return phieu_error_set(err, PHIEU_EIO, "cannot create folder '%s': %s", buf,
                                   strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return phieu_error_set(err, PHIEU_EIO, "cannot create folder '%s': %s", buf,
                               strerror(errno));
    return 0;
}

void phieu_buf_init(phieu_buf *b)
{
    memset(b, 0, sizeof *b);
}

void phieu_buf_release(phieu_buf *b)
{
    phieu_free(b->data);
    memset(b, 0, sizeof *b);
}

void phieu_buf_append(phieu_buf *b, const void *data, size_t len)
{
    if (b->failed)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = phieu_realloc(b->data, cap);
        if (!grown) {
            b->failed = 1;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void phieu_buf_puts(phieu_buf *b, const char *s)
{
    phieu_buf_append(b, s, strlen(s));
}

void phieu_buf_printf(phieu_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        phieu_buf_append(b, small, (size_t)n);
        return;
    }
    char *big = phieu_malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    phieu_buf_append(b, big, (size_t)n);
    phieu_free(big);
}

void phieu_buf_json_string(phieu_buf *b, const char *s)
{
    phieu_buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            phieu_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            phieu_buf_printf(b, "\\u%04x", *p);
        else
            phieu_buf_append(b, p, 1);
    }
    phieu_buf_append(b, "\"", 1);
}

int phieu_rename_durable(const char *from, const char *to, phieu_error *err)
{
    if (rename(from, to) != 0) {
        int saved = errno;
        unlink(from);
        return phieu_error_set(err, PHIEU_EIO, "cannot rename '%s' to '%s': %s; %s", from, to,
                               strerror(saved), what_to_do(saved));
    }
    return fsync_dir_of(to, err);
}
