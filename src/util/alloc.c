/*
 * alloc.c - libc allocation behind a counter that tests can make fail.
 * The counter is the one piece of global mutable state in libphieu; it is a test hook
 * (see alloc.h) and is off unless a test turns it on.
 */
#include "phieu/alloc.h"

#include <stdlib.h>
#include <string.h>

static long fail_countdown = -1; /* < 0: never fail */
static long failures;

static int should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0) {
        failures++;
        return 1;
    }
    fail_countdown--;
    return 0;
}

void phieu_alloc_fail_after(long n)
{
    fail_countdown = n;
    failures = 0;
}

long phieu_alloc_failures(void)
{
    return failures;
}

void *phieu_malloc(size_t size)
{
    return should_fail() ? NULL : malloc(size ? size : 1);
}

void *phieu_calloc(size_t count, size_t size)
{
    return should_fail() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *phieu_realloc(void *ptr, size_t size)
{
    return should_fail() ? NULL : realloc(ptr, size ? size : 1);
}

char *phieu_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = phieu_malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

void phieu_free(void *ptr)
{
    free(ptr);
}
