/**
 * hak_large.c - large blocks: one 1 MiB-aligned mapping each, a reuse cache bounded
 * by the live Large bytes, growth and realloc by mremap (hak_large.h).
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
static hak_large_hdr *g_large_cache[LARGE_CACHE_SLOTS];   /* large lock, oldest first */
static unsigned g_large_ncached;                          /* large lock */
static size_t g_large_cached_bytes;                       /* large lock */
static size_t g_large_live_bytes;                         /* large lock: mapped, in use */
static size_t g_large_slack_bytes;                        /* large lock: sum of h->slack */

static size_t large_user_off(size_t align) {
    return hak_align_up(sizeof(hak_large_hdr), align < HAK_MIN_ALIGN ? HAK_MIN_ALIGN : align);
}

/* Give a mapping (not live, not cached) back to the OS: tombstones, then unmap. */
static void large_unmap(hak_large_hdr *h) {
    size_t len = h->map_len;
    hak_registry_release((uintptr_t)h, len);
    hak_os_unmap(h, len, HAK_OS_LARGE);
}

/* Unmap the tail of a mapping beyond new_len (page multiple); the chunks that lie
 * wholly in the tail become tombstones.  Large lock held, or the block is ours. */
static void large_shrink(hak_large_hdr *h, size_t new_len) {
    uintptr_t base = (uintptr_t)h, end = base + h->map_len;
    uintptr_t keep_chunks = hak_align_up(base + new_len, SS_SIZE);
    if (keep_chunks < end) hak_registry_release(keep_chunks, end - keep_chunks);
    hak_os_unmap((void *)(base + new_len), h->map_len - new_len, HAK_OS_LARGE);
    h->map_len = new_len;
}

/* Grow a mapping to new_len, in place or moved (mremap).  Returns its header (maybe
 * at a new address) or NULL with the mapping unchanged.  The mapping is not in the
 * cache; no other thread may reach it legitimately. */
static hak_large_hdr *large_grow(hak_large_hdr *h, size_t new_len, size_t align) {
    size_t old_len = h->map_len;
    size_t map_align = align > SS_SIZE ? align : SS_SIZE;
    hak_large_hdr *q = hak_os_remap(h, old_len, new_len, map_align, 0, HAK_OS_LARGE);
    if (!q) {
        /* Moving unmaps the old range, which the next mmap of any thread may get and
         * register: its tombstones must be written before, not after. */
        hak_registry_release((uintptr_t)h, old_len);
        q = hak_os_remap(h, old_len, new_len, map_align, 1, HAK_OS_LARGE);
        if (!q) {
            (void)hak_registry_set((uintptr_t)h, old_len, h, HAK_REG_LARGE);  /* leaves exist */
            return NULL;
        }
    }
    if (hak_registry_set((uintptr_t)q, new_len, q, HAK_REG_LARGE) != 0) {
        /* No registry leaf for the new chunks: give the memory back, fail. */
        q->map_len = new_len;
        large_unmap(q);
        return NULL;
    }
    q->map_len = new_len;
    HAK_STAT_SLOW_ADD(large_remaps, 1);
    return q;
}

/* The cached mapping for a request of need_len bytes at alignment align: the
 * smallest that fits, else (to be grown) the largest; removed from the cache.
 * Large lock held. */
static hak_large_hdr *cache_take(size_t need_len, size_t align) {
    int best = -1, largest = -1;
    for (unsigned i = 0; i < g_large_ncached; i++) {
        hak_large_hdr *h = g_large_cache[i];
        if ((uintptr_t)h & (align - 1)) continue;
        if (h->map_len >= need_len && (best < 0 || h->map_len < g_large_cache[best]->map_len))
            best = (int)i;
        if (largest < 0 || h->map_len > g_large_cache[largest]->map_len) largest = (int)i;
    }
    int k = best >= 0 ? best : HAKMEM_VALGRIND ? -1 : largest;
    if (k < 0) return NULL;
    hak_large_hdr *h = g_large_cache[k];
    for (unsigned i = (unsigned)k; i + 1 < g_large_ncached; i++) g_large_cache[i] = g_large_cache[i + 1];
    g_large_ncached--;
    g_large_cached_bytes -= h->map_len;
    return h;
}

/* Cache budget for the bytes now live. */
static size_t cache_budget(void) {
    size_t b = g_large_live_bytes / LARGE_CACHE_LIVE_DIV;
    return b > LARGE_CACHE_MIN_BYTES ? b : LARGE_CACHE_MIN_BYTES;
}

void *hak_large_alloc(size_t n, size_t align, int *zeroed) {
    size_t off = large_user_off(align);
    if (n > (SIZE_MAX >> 1) - off - SS_SIZE) { errno = ENOMEM; return NULL; }
    size_t need = hak_align_up(off + n, HAK_PAGE_SIZE);
    hak_large_hdr *h = NULL;
    if (hak_option(HAK_OPT_LARGE_CACHE) > 0) {
        hak_lock(&g_large_lock);
        h = cache_take(need, align ? align : 1);
        hak_unlock(&g_large_lock);
    }
    *zeroed = 0;
    size_t slack = 0;
    if (h && h->map_len < need) {                        /* grow the largest */
        hak_large_hdr *g = large_grow(h, need, align);
        if (!g) large_unmap(h);
        h = g;
    } else if (h && h->map_len - need > need / 4) {     /* roomy: keep, or trim */
        slack = h->map_len - need;
        hak_lock(&g_large_lock);
        if (g_large_cached_bytes + g_large_slack_bytes + slack <= cache_budget())
            g_large_slack_bytes += slack;
        else
            slack = 0;
        hak_unlock(&g_large_lock);
        if (!slack) large_shrink(h, need);
    }
    if (h) {
        HAK_STAT_SLOW_ADD(large_cache_hits, 1);
    } else {
        size_t map_align = align > SS_SIZE ? align : SS_SIZE;
        h = hak_os_map(need, map_align, HAK_OS_LARGE);
        if (!h && hak_reclaim()) h = hak_os_map(need, map_align, HAK_OS_LARGE);
        if (!h) return NULL;
        hak_track_defined(h, sizeof(*h));
        h->magic = LARGE_MAGIC;
        h->map_len = need;
        if (hak_registry_set((uintptr_t)h, need, h, HAK_REG_LARGE) != 0) {
            hak_os_unmap(h, need, HAK_OS_LARGE);
            return NULL;
        }
        *zeroed = 1;
    }
    h->user = (char *)h + off;
    h->usable = h->map_len - off;
    h->slack = slack;
    hak_lock(&g_large_lock);
    h->state = HAK_BLK_ALLOC;
    g_large_live_bytes += h->map_len;
    hak_unlock(&g_large_lock);
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
    hak_large_hdr *victims[LARGE_CACHE_SLOTS + 1];
    unsigned nv = 0;
    hak_lock(&g_large_lock);
    large_check(h, p, api);      /* under the lock: two racing frees cannot both pass */
    HAK_STAT_SLOW_ADD(large_frees, 1);
    h->state = HAK_BLK_FREE;
    g_large_live_bytes -= h->map_len;
    g_large_slack_bytes -= h->slack;
    h->slack = 0;
    size_t budget = cache_budget();
    unsigned max = (unsigned)hak_option(HAK_OPT_LARGE_CACHE);
    if (max > 0 && g_large_slack_bytes + h->map_len <= budget) {
        /* Make room, oldest first, then cache it. */
        while (g_large_ncached && (g_large_ncached >= max ||
                                   g_large_slack_bytes + g_large_cached_bytes + h->map_len > budget)) {
            hak_large_hdr *v = g_large_cache[0];
            for (unsigned i = 0; i + 1 < g_large_ncached; i++) g_large_cache[i] = g_large_cache[i + 1];
            g_large_ncached--;
            g_large_cached_bytes -= v->map_len;
            victims[nv++] = v;
        }
        g_large_cache[g_large_ncached++] = h;
        g_large_cached_bytes += h->map_len;
    } else {
        victims[nv++] = h;
    }
    /* Live bytes fell: the budget may have too.  Oldest first. */
    while (g_large_ncached && g_large_slack_bytes + g_large_cached_bytes > budget &&
           nv < LARGE_CACHE_SLOTS + 1) {
        hak_large_hdr *v = g_large_cache[0];
        for (unsigned i = 0; i + 1 < g_large_ncached; i++) g_large_cache[i] = g_large_cache[i + 1];
        g_large_ncached--;
        g_large_cached_bytes -= v->map_len;
        victims[nv++] = v;
    }
    hak_unlock(&g_large_lock);
    for (unsigned i = 0; i < nv; i++) large_unmap(victims[i]);
}

void *hak_large_realloc(hak_large_hdr *h, void *p, size_t n, const char *api) {
    if (HAKMEM_VALGRIND) { errno = ENOMEM; return NULL; }
    large_check(h, p, api);
    size_t off = (size_t)((char *)p - (char *)h);
    if (n > (SIZE_MAX >> 1) - off - SS_SIZE) { errno = ENOMEM; return NULL; }
    size_t need = hak_align_up(off + n, HAK_PAGE_SIZE);
    size_t old = h->map_len;
    if (need <= old) {
        if (old - need > need / 4) large_shrink(h, need);          /* give the tail back */
    } else {
        hak_large_hdr *q = large_grow(h, need, SS_SIZE);
        if (!q) { errno = ENOMEM; return NULL; }
        h = q;
    }
    h->user = (char *)h + off;
    h->usable = h->map_len - off;
    hak_lock(&g_large_lock);
    g_large_live_bytes += h->map_len;
    g_large_live_bytes -= old;
    g_large_slack_bytes -= h->slack;            /* the block is sized to the request */
    h->slack = 0;
    hak_unlock(&g_large_lock);
    return h->user;
}

/* Unmap every cached mapping (memory pressure); returns how many. */
static unsigned large_reclaim(void) {
    hak_large_hdr *victims[LARGE_CACHE_SLOTS];
    hak_lock(&g_large_lock);
    unsigned n = g_large_ncached;
    for (unsigned i = 0; i < n; i++) victims[i] = g_large_cache[i];
    g_large_ncached = 0;
    g_large_cached_bytes = 0;
    hak_unlock(&g_large_lock);
    for (unsigned i = 0; i < n; i++) large_unmap(victims[i]);
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
