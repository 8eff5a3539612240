/**
 * hak_large.c - large blocks: one 1 MiB-aligned mapping each, a small reuse cache.
 */
#include "hak_large.h"
#include "hak_backend.h"
#include "hak_geometry.h"
#include "hak_lock.h"
#include "hak_options.h"
#include "hak_os.h"
#include "hak_registry.h"
#include "hak_block.h"
#include "hak_life.h"
#include "hak_report.h"
#include "hak_stats.h"
#include "hak_track.h"

#include <errno.h>

static hak_lock_t g_large_lock = HAK_LOCK_INITIALIZER;
static hak_large_hdr *g_large_cache[LARGE_CACHE_SLOTS];   /* large lock */
static unsigned g_large_ncached;                          /* large lock */

static size_t large_user_off(size_t align) {
    return hak_align_up(sizeof(hak_large_hdr), align < HAK_MIN_ALIGN ? HAK_MIN_ALIGN : align);
}

/* A cached mapping that fits need_len bytes, whose base has the alignment asked for
 * (mappings are only 1 MiB aligned), without wasting more than half of it; removed
 * from the cache.  Large lock held. */
static hak_large_hdr *cache_take(size_t need_len, size_t align) {
    for (unsigned i = 0; i < g_large_ncached; i++) {
        hak_large_hdr *h = g_large_cache[i];
        if (h->map_len >= need_len && h->map_len / 2 <= need_len &&
            ((uintptr_t)h & (align - 1)) == 0) {
            g_large_cache[i] = g_large_cache[--g_large_ncached];
            return h;
        }
    }
    return NULL;
}

void *hak_large_alloc(size_t n, size_t align, int *zeroed) {
    size_t off = large_user_off(align);
    if (n > (SIZE_MAX >> 1) - off - SS_SIZE) { errno = ENOMEM; return NULL; }
    size_t need = hak_align_up(off + n, HAK_PAGE_SIZE);
    hak_large_hdr *h = NULL;
    if (hak_option(HAK_OPT_LARGE_CACHE) > 0) {
        hak_lock(&g_large_lock);
        h = cache_take(need, align ? align : 1);
        if (h) h->state = HAK_BLK_ALLOC;
        hak_unlock(&g_large_lock);
    }
    if (h) {
        HAK_STAT_SLOW_ADD(large_cache_hits, 1);
        *zeroed = 0;
    } else {
        size_t map_align = align > SS_SIZE ? align : SS_SIZE;
        h = hak_os_map(need, map_align, HAK_OS_LARGE);
        if (!h && hak_reclaim()) h = hak_os_map(need, map_align, HAK_OS_LARGE);
        if (!h) return NULL;
        hak_track_defined(h, sizeof(*h));
        h->magic = LARGE_MAGIC;
        h->state = HAK_BLK_ALLOC;
        h->map_len = need;
        if (hak_registry_set((uintptr_t)h, need, h, HAK_REG_LARGE) != 0) {
            hak_os_unmap(h, need, HAK_OS_LARGE);
            return NULL;
        }
        *zeroed = 1;
    }
    h->user = (char *)h + off;
    h->usable = h->map_len - off;
    HAK_STAT_SLOW_ADD(large_allocs, 1);
    return h->user;
}

static void large_check(hak_large_hdr *h, const void *p, const char *api) {
    /* The registry marks whole 1 MiB chunks; the mapping may end inside its last
     * one, and whatever is mapped after it is not ours. */
    if (hak_unlikely((uintptr_t)p - (uintptr_t)h >= h->map_len))
        hak_fatal_ptr(api, "invalid pointer (not allocated by hakmem)", p);
    if (hak_unlikely(h->magic != LARGE_MAGIC || p != h->user))
        hak_bad_free(api, p, HAK_BLK_NEVER);
    if (hak_unlikely(__atomic_load_n(&h->state, __ATOMIC_RELAXED) != HAK_BLK_ALLOC))
        hak_bad_free(api, p, HAK_BLK_FREE);
}

size_t hak_large_usable(hak_large_hdr *h, const void *p, const char *api) {
    large_check(h, p, api);
    return h->usable;
}

void hak_large_free(hak_large_hdr *h, void *p, const char *api) {
    hak_lock(&g_large_lock);
    large_check(h, p, api);      /* under the lock: two racing frees cannot both pass */
    HAK_STAT_SLOW_ADD(large_frees, 1);
    if (h->map_len <= LARGE_CACHE_MAX_BYTES &&
        g_large_ncached < (unsigned)hak_option(HAK_OPT_LARGE_CACHE)) {
        h->state = HAK_BLK_FREE;
        g_large_cache[g_large_ncached++] = h;
        hak_unlock(&g_large_lock);
        return;
    }
    h->state = HAK_BLK_FREE;
    hak_unlock(&g_large_lock);
    size_t len = h->map_len;
    hak_registry_release((uintptr_t)h, len);
    hak_os_unmap(h, len, HAK_OS_LARGE);
}

/* Unmap every cached mapping (memory pressure); returns how many. */
static unsigned large_reclaim(void) {
    hak_large_hdr *victims[LARGE_CACHE_SLOTS];
    hak_lock(&g_large_lock);
    unsigned n = g_large_ncached;
    for (unsigned i = 0; i < n; i++) victims[i] = g_large_cache[i];
    g_large_ncached = 0;
    hak_unlock(&g_large_lock);
    for (unsigned i = 0; i < n; i++) {
        size_t len = victims[i]->map_len;
        hak_registry_release((uintptr_t)victims[i], len);
        hak_os_unmap(victims[i], len, HAK_OS_LARGE);
    }
    return n;
}

static void large_fork_prepare(void) { hak_lock(&g_large_lock); }
static void large_fork_release(void) { hak_unlock(&g_large_lock); }

const hak_layer hak_large_layer = {
    .name = "large",
    .reclaim = large_reclaim,
    .fork_prepare = large_fork_prepare,
    .fork_parent = large_fork_release,
    .fork_child = large_fork_release,
};
