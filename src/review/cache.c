/*
 * cache.c - the review server's memory cache of encoded PNGs (scaled pages, thumbnails,
 * row crops), keyed by a short string, bounded in bytes, least recently used out first.
 * It knows nothing of sheets or images; data.c decides what to put in it.
 */
#include <pthread.h>
#include <string.h>

#include "phieu/alloc.h"
#include "review/review_internal.h"

typedef struct cache_entry {
    char key[64];
    uint8_t *data;
    size_t len;
    unsigned long stamp; /* larger = used more recently */
    struct cache_entry *next;
} cache_entry;

struct review_cache {
    pthread_mutex_t lock;
    cache_entry *head;
    size_t bytes, max_bytes;
    unsigned long clock;
};

int review_cache_create(size_t max_bytes, review_cache **out)
{
    review_cache *c = phieu_calloc(1, sizeof *c);
    if (!c)
        return PHIEU_ENOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        phieu_free(c);
        return PHIEU_ENOMEM;
    }
    c->max_bytes = max_bytes;
    *out = c;
    return 0;
}

void review_cache_destroy(review_cache **cp)
{
    if (!cp || !*cp)
        return;
    review_cache *c = *cp;
    for (cache_entry *e = c->head, *n; e; e = n) {
        n = e->next;
        phieu_free(e->data);
        phieu_free(e);
    }
    pthread_mutex_destroy(&c->lock);
    phieu_free(c);
    *cp = NULL;
}

int review_cache_get(review_cache *c, const char *key, uint8_t **data, size_t *len)
{
    int found = 0;
    pthread_mutex_lock(&c->lock);
    for (cache_entry *e = c->head; e; e = e->next) {
        if (strcmp(e->key, key) != 0)
            continue;
        uint8_t *copy = phieu_malloc(e->len);
        if (copy) {
            memcpy(copy, e->data, e->len);
            *data = copy;
            *len = e->len;
            e->stamp = ++c->clock;
            found = 1;
        }
        break;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

static void evict_one(review_cache *c)
{
    cache_entry **victim = NULL;
    for (cache_entry **p = &c->head; *p; p = &(*p)->next)
        if (!victim || (*p)->stamp < (*victim)->stamp)
            victim = p;
    if (!victim)
        return;
    cache_entry *e = *victim;
    *victim = e->next;
    c->bytes -= e->len;
    phieu_free(e->data);
    phieu_free(e);
}

void review_cache_put(review_cache *c, const char *key, const uint8_t *data, size_t len)
{
    if (len > c->max_bytes || strlen(key) >= sizeof(((cache_entry *)0)->key))
        return;
    cache_entry *e = phieu_calloc(1, sizeof *e);
    uint8_t *copy = phieu_malloc(len ? len : 1);
    if (!e || !copy) {
        phieu_free(e);
        phieu_free(copy);
        return;
    }
    memcpy(copy, data, len);
    strcpy(e->key, key);
    e->data = copy;
    e->len = len;
    pthread_mutex_lock(&c->lock);
    for (cache_entry *x = c->head; x; x = x->next)
        if (strcmp(x->key, key) == 0) { /* another thread made it meanwhile */
            pthread_mutex_unlock(&c->lock);
            phieu_free(copy);
            phieu_free(e);
            return;
        }
    while (c->head && c->bytes + len > c->max_bytes)
        evict_one(c);
    e->stamp = ++c->clock;
    e->next = c->head;
    c->head = e;
    c->bytes += len;
    pthread_mutex_unlock(&c->lock);
}
