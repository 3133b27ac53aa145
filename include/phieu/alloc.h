/*
 * alloc.h - the allocator every module uses, with a fault-injection hook for tests.
 *
 * Contract: phieu_malloc/calloc/realloc/strdup behave like their libc namesakes and
 * return NULL on failure; free with phieu_free (or free: they are the same heap).
 * phieu_alloc_fail_after(n) makes the (n+1)-th allocation from now on fail (n = 0 fails
 * the next one), and every one after it until it is reset with n < 0. It exists only so
 * that tests can prove each out-of-memory path ends in a clean error; it is process-wide
 * state and not thread-safe, so only single-threaded tests may use it.
 */
#ifndef PHIEU_ALLOC_H
#define PHIEU_ALLOC_H

#include <stddef.h>

void *phieu_malloc(size_t size);
void *phieu_calloc(size_t count, size_t size);
void *phieu_realloc(void *ptr, size_t size);
char *phieu_strdup(const char *s);
void phieu_free(void *ptr);

/* Test hook: fail allocations after n more succeed; n < 0 turns failures off. */
void phieu_alloc_fail_after(long n);
/* Test hook: how many allocations failed since the hook was last set. */
long phieu_alloc_failures(void);

#endif
