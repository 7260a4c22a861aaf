/*
 * Secure allocator behind struct chsm_secbuf.
 *
 * Small secrets are carved from 64 KiB arenas that are mmap'd, mlock'd and
 * marked MADV_DONTDUMP once, with power-of-two size classes and per-class
 * free lists. Giving every 32-byte key its own page would cost 4 KiB per key
 * (40 MiB at 10,000 objects); the arena keeps the locking and dump exclusion
 * without that overhead. Large secrets get their own mapping. Every block is
 * wiped before it returns to a free list or is unmapped.
 */
#define _GNU_SOURCE
#include "common/secbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"

#define ARENA_SIZE (64u * 1024u)
#define MIN_CLASS_SHIFT 4  /* 16 bytes */
#define MAX_CLASS_SHIFT 12 /* 4096 bytes */
#define NUM_CLASSES (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1)

struct free_block {
    struct free_block *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct free_block *free_lists[NUM_CLASSES];
static uint8_t *arena_cur;
static size_t arena_left;
static int warned_lock;

void chsm_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        explicit_bzero(p, len);
}

static void protect_region(void *p, size_t len)
{
    if (mlock(p, len) != 0 && !warned_lock) {
        warned_lock = 1;
        chsm_log(CHSM_LOG_WARN, "secure memory: mlock failed (RLIMIT_MEMLOCK too low?); "
                                "secrets stay excluded from core dumps but may be swapped");
    }
#ifdef MADV_DONTDUMP
    (void)madvise(p, len, MADV_DONTDUMP);
#endif
}

static void *map_region(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    protect_region(p, len);
    return p;
}

static int class_of(size_t len)
{
    int shift = MIN_CLASS_SHIFT;
    while (((size_t)1 << shift) < len)
        shift++;
    return shift - MIN_CLASS_SHIFT;
}

void *chsm_secure_malloc(size_t len)
{
    if (len == 0)
        len = 1;
    if (len > ((size_t)1 << MAX_CLASS_SHIFT)) {
        size_t page = 4096;
        size_t maplen = (len + page - 1) & ~(page - 1);
        return map_region(maplen); /* anonymous pages are zero */
    }
    int cls = class_of(len);
    size_t bsize = (size_t)1 << (cls + MIN_CLASS_SHIFT);
    void *p = NULL;
    pthread_mutex_lock(&pool_lock);
    if (free_lists[cls] != NULL) {
        struct free_block *fb = free_lists[cls];
        free_lists[cls] = fb->next;
        p = fb;
    } else {
        if (arena_left < bsize) {
            /* The tail of the old arena is abandoned: at most 4 KiB of 64 KiB. */
            uint8_t *a = map_region(ARENA_SIZE);
            if (a != NULL) {
                arena_cur = a;
                arena_left = ARENA_SIZE;
            }
        }
        if (arena_left >= bsize) {
            p = arena_cur;
            arena_cur += bsize;
            arena_left -= bsize;
        }
    }
    pthread_mutex_unlock(&pool_lock);
    if (p != NULL)
        memset(p, 0, bsize);
    return p;
}

void chsm_secure_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    if (len == 0)
        len = 1;
    if (len > ((size_t)1 << MAX_CLASS_SHIFT)) {
        size_t page = 4096;
        size_t maplen = (len + page - 1) & ~(page - 1);
        explicit_bzero(p, maplen);
        munmap(p, maplen);
        return;
    }
    int cls = class_of(len);
    size_t bsize = (size_t)1 << (cls + MIN_CLASS_SHIFT);
    explicit_bzero(p, bsize);
    pthread_mutex_lock(&pool_lock);
    struct free_block *fb = p;
    fb->next = free_lists[cls];
    free_lists[cls] = fb;
    pthread_mutex_unlock(&pool_lock);
}

CK_RV chsm_secbuf_alloc(struct chsm_secbuf *b, size_t len)
{
    b->data = chsm_secure_malloc(len);
    b->len = 0;
    b->cap = 0;
    if (b->data == NULL)
        return CHSM_ERR(CKR_HOST_MEMORY, "common", "secure allocation of %zu bytes failed", len);
    b->len = len;
    b->cap = len;
    return CKR_OK;
}

CK_RV chsm_secbuf_copy(struct chsm_secbuf *b, const void *src, size_t len)
{
    CK_RV rv = chsm_secbuf_alloc(b, len);
    if (rv == CKR_OK && len > 0)
        memcpy(b->data, src, len);
    return rv;
}

void chsm_secbuf_truncate(struct chsm_secbuf *b, size_t new_len)
{
    if (new_len < b->len) {
        explicit_bzero(b->data + new_len, b->len - new_len);
        b->len = new_len; /* cap keeps the allocation's size for free */
    }
}

void chsm_secbuf_free(struct chsm_secbuf *b)
{
    if (b == NULL || b->data == NULL)
        return;
    chsm_secure_free(b->data, b->cap);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void chsm_secbuf_move(struct chsm_secbuf *dst, struct chsm_secbuf *src)
{
    chsm_secbuf_free(dst);
    *dst = *src;
    src->data = NULL;
    src->len = 0;
    src->cap = 0;
}
