/*
 * key.c - the counting board's Ed25519 key pair (libsodium): creating it, reading the key
 * files, signing and checking detached signatures.
 * It knows nothing of manifests or reports: export.c decides what is signed, verify.c what
 * is checked. Key files are two-line text files, documented in docs/report.md.
 */
#include "phieu/report.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phieu/alloc.h"

/* The first line of each key file: says what the file is, so that a public key is never
 * mistaken for a secret one, and a later format can be told apart. */
static const char SECRET_HEADER[] = "phieu ed25519 secret key v1";
static const char PUBLIC_HEADER[] = "phieu ed25519 public key v1";

/* A key file is a header line and a hex line; anything above this is not a key file. */
#define KEY_FILE_MAX_BYTES 4096

static int write_new_file(const char *path, const char *text, mode_t mode, phieu_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return phieu_error_set(err, PHIEU_EEXIST,
                                   "'%s' already exists; choose another name or remove it "
                                   "first (a key is never overwritten)",
                                   path);
        return phieu_error_set(err, PHIEU_EIO, "cannot create '%s': %s", path,
                               strerror(errno));
    }
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = n < 0 ? errno : ENOSPC;
            close(fd);
            unlink(path);
            return phieu_error_set(err, PHIEU_EIO, "cannot write '%s': %s", path,
                                   strerror(saved));
        }
        done += (size_t)n;
    }
    /* The umask may have narrowed the mode; a secret key must be exactly 0600. */
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        unlink(path);
        return phieu_error_set(err, PHIEU_EIO, "cannot finish '%s': %s", path,
                               strerror(saved));
    }
    if (close(fd) != 0) {
        unlink(path);
        return phieu_error_set(err, PHIEU_EIO, "cannot close '%s': %s", path, strerror(errno));
    }
    return 0;
}

int phieu_key_generate(const char *path, phieu_key *out, phieu_error *err)
{
    if (!path || !*path)
        return phieu_error_set(err, PHIEU_EINVAL, "no key file name given");
    char pub_path[4096];
    if (snprintf(pub_path, sizeof pub_path, "%s.pub", path) >= (int)sizeof pub_path)
        return phieu_error_set(err, PHIEU_EINVAL, "key file name too long: '%s'", path);
    if (access(pub_path, F_OK) == 0)
        return phieu_error_set(err, PHIEU_EEXIST,
                               "'%s' already exists; choose another name or remove it first",
                               pub_path);
    phieu_key key;
    memset(&key, 0, sizeof key);
    crypto_sign_keypair(key.public_key, key.secret_key);
    key.has_secret = 1;

    char secret_hex[2 * PHIEU_KEY_SECRET_BYTES + 1];
    char public_hex[2 * PHIEU_KEY_PUBLIC_BYTES + 1];
    phieu_hex(key.secret_key, PHIEU_KEY_SECRET_BYTES, secret_hex);
    phieu_hex(key.public_key, PHIEU_KEY_PUBLIC_BYTES, public_hex);
    char text[512];
    snprintf(text, sizeof text, "%s\n%s\n", SECRET_HEADER, secret_hex);
    int rc = write_new_file(path, text, 0600, err);
    sodium_memzero(text, sizeof text);
    sodium_memzero(secret_hex, sizeof secret_hex);
    if (rc == 0) {
        snprintf(text, sizeof text, "%s\n%s\n", PUBLIC_HEADER, public_hex);
        rc = write_new_file(pub_path, text, 0644, err);
        if (rc != 0)
            unlink(path);
    }
    if (rc == 0 && out)
        *out = key;
    sodium_memzero(&key, sizeof key);
    return rc;
}

/* The secret key on line 2 (hex), checked against the public key it holds: a damaged
 * file is caught here, not by a signature nobody can check. */
static int parse_secret(const char *hex, size_t hex_len, const char *name, phieu_key *out,
                        phieu_error *err)
{
    if (phieu_hex_decode(hex, hex_len, out->secret_key, PHIEU_KEY_SECRET_BYTES, NULL) !=
        0) {
        sodium_memzero(out, sizeof *out);
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s': the secret key must be %d hex digits on line 2",
                               name, 2 * PHIEU_KEY_SECRET_BYTES);
    }
    /* An Ed25519 secret key in libsodium is seed || public key: derive and compare,
     * so a damaged file is caught here and not by a signature nobody can check. */
    crypto_sign_ed25519_sk_to_pk(out->public_key, out->secret_key);
    if (sodium_memcmp(out->public_key, out->secret_key + 32, 32) != 0) {
        sodium_memzero(out, sizeof *out);
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s': the secret key is damaged (its two halves do not "
                               "match); use the board's backup copy",
                               name);
    }
    uint8_t seed[32], pk[32], sk[64];
    crypto_sign_ed25519_sk_to_seed(seed, out->secret_key);
    crypto_sign_seed_keypair(pk, sk, seed);
    int same = sodium_memcmp(pk, out->public_key, 32) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk, sizeof sk);
    if (!same) {
        sodium_memzero(out, sizeof *out);
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s': the secret key is damaged (its public half does not "
                               "belong to it); use the board's backup copy",
                               name);
    }
    out->has_secret = 1;
    return 0;
}

int phieu_key_parse(const char *text, size_t len, const char *name, phieu_key *out,
                    phieu_error *err)
{
    memset(out, 0, sizeof *out);
    const char *nl = memchr(text, '\n', len);
    if (!nl)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s' is not a phieu key file (no header line); create one "
                               "with 'phieu key new'",
                               name);
    size_t head_len = (size_t)(nl - text);
    const char *hex = nl + 1;
    size_t hex_len = len - head_len - 1;
    while (hex_len > 0 && (hex[hex_len - 1] == '\n' || hex[hex_len - 1] == '\r' ||
                           hex[hex_len - 1] == ' '))
        hex_len--;
    int secret;
    if (head_len == strlen(SECRET_HEADER) && memcmp(text, SECRET_HEADER, head_len) == 0)
        secret = 1;
    else if (head_len == strlen(PUBLIC_HEADER) && memcmp(text, PUBLIC_HEADER, head_len) == 0)
        secret = 0;
    else
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s' is not a phieu key file (its first line should be '%s' "
                               "or '%s')",
                               name, SECRET_HEADER, PUBLIC_HEADER);
    if (secret)
        return parse_secret(hex, hex_len, name, out, err);
    if (phieu_hex_decode(hex, hex_len, out->public_key, PHIEU_KEY_PUBLIC_BYTES, NULL) != 0)
        return phieu_error_set(err, PHIEU_EFORMAT,
                               "'%s': the public key must be %d hex digits on line 2", name,
                               2 * PHIEU_KEY_PUBLIC_BYTES);
    return 0;
}

int phieu_key_load(const char *path, phieu_key *out, phieu_error *err)
{
    uint8_t *data = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    int rc = phieu_read_file(path, KEY_FILE_MAX_BYTES, &data, &len, err);
    if (rc == PHIEU_ELIMIT)
        return phieu_error_set(err, PHIEU_EFORMAT, "'%s' is too large to be a phieu key file",
                               path);
    if (rc != 0)
        return rc;
    rc = phieu_key_parse((const char *)data, len, path, out, err);
    sodium_memzero(data, len);
    phieu_free(data);
    return rc;
}

void phieu_key_wipe(phieu_key *key)
{
    if (key)
        sodium_memzero(key, sizeof *key);
}

void phieu_key_public_hex(const phieu_key *key, char out[2 * PHIEU_KEY_PUBLIC_BYTES + 1])
{
    phieu_hex(key->public_key, PHIEU_KEY_PUBLIC_BYTES, out);
}

int phieu_key_sign(const phieu_key *key, const void *data, size_t len,
                   uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES], phieu_error *err)
{
    if (!key || !key->has_secret)
        return phieu_error_set(err, PHIEU_EINVAL,
                               "cannot sign with a public key; give the secret key file "
                               "(not the .pub one)");
    crypto_sign_detached(sig, NULL, data, len, key->secret_key);
    return 0;
}

int phieu_key_check(const uint8_t public_key[PHIEU_KEY_PUBLIC_BYTES], const void *data,
                    size_t len, const uint8_t sig[PHIEU_KEY_SIGNATURE_BYTES])
{
    return crypto_sign_verify_detached(sig, data, len, public_key) == 0;
}
