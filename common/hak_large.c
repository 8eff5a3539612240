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
#include <string.h>
#include <time.h>

static hak_lock_t g_large_lock = HAK_LOCK_INITIALIZER;
/* Free ranges, oldest first (large lock); one slot over the limit for a free's push
 * before cache_trim. */
static hak_large_hdr *g_large_cache[LARGE_CACHE_SLOTS + 1];
static unsigned g_large_ncached;                          /* large lock */
static size_t g_large_cached_bytes;                       /* large lock */
static size_t g_large_live_bytes;                         /* large lock: mapped, in use */

static size_t large_user_off(size_t align) {
    return hak_align_up(sizeof(hak_large_hdr), align < HAK_MIN_ALIGN ? HAK_MIN_ALIGN : align);
}

/* The end of the last chunk a range covers: where the next range may start. */
static uintptr_t range_chunk_end(const hak_large_hdr *h) {
    return hak_align_up((uintptr_t)h + h->map_len, SS_SIZE);
}

/* Give a mapping (not live, not cached) back to the OS: tombstones, then unmap. */
static void large_unmap(hak_large_hdr *h) {
    size_t len = h->map_len;
    hak_registry_release((uintptr_t)h, len);
    hak_os_unmap(h, len, HAK_OS_LARGE);
}

/* Unmap the tail of a mapping beyond new_len (page multiple); the chunks that lie
 * wholly in the tail become tombstones.  Large lock held, or the range is ours. */
static void large_shrink(hak_large_hdr *h, size_t new_len) {
    uintptr_t base = (uintptr_t)h, end = base + h->map_len;
    uintptr_t keep_chunks = hak_align_up(base + new_len, SS_SIZE);
    if (keep_chunks < end) hak_registry_release(keep_chunks, end - keep_chunks);
    hak_os_unmap((void *)(base + new_len), h->map_len - new_len, HAK_OS_LARGE);
    h->map_len = new_len;
}

/* ---- the cache: free ranges, oldest first (large lock) ------------------------ */

static int cache_index(const hak_large_hdr *h) {
    for (unsigned i = 0; i < g_large_ncached; i++)
        if (g_large_cache[i] == h) return (int)i;
    return -1;
}

static hak_large_hdr *cache_remove(unsigned k) {
    hak_large_hdr *h = g_large_cache[k];
    memmove(&g_large_cache[k], &g_large_cache[k + 1],
            (g_large_ncached - k - 1) * sizeof g_large_cache[0]);
    g_large_ncached--;
    g_large_cached_bytes -= h->map_len;
    return h;
}

static void cache_push(hak_large_hdr *h) {
    g_large_cache[g_large_ncached++] = h;
    g_large_cached_bytes += h->map_len;
}

/* DEBUG builds: every cached range is free and registered to itself, the lengths
 * add up, and no cached range ends right where another starts (they merge). */
static inline int large_cache_ok(void) {
    size_t sum = 0;
    for (unsigned i = 0; i < g_large_ncached; i++) {
        hak_large_hdr *h = g_large_cache[i];
        if (h->magic != LARGE_MAGIC || h->state != HAK_BLK_FREE || !h->map_len) return 0;
        uintptr_t e = hak_registry_lookup((char *)h + h->map_len - 1);
        if (hak_reg_kind(e) != HAK_REG_LARGE || hak_reg_header(e) != h) return 0;
        uintptr_t end = (uintptr_t)h + h->map_len;
        if (end == range_chunk_end(h) && cache_index((hak_large_hdr *)end) >= 0) return 0;
        sum += h->map_len;
    }
    return sum == g_large_cached_bytes;
}

/* Make [h + map_len, upto) ours too (the free address space at the end of h's last
 * chunk), so that h reaches upto.  0, or -1 when another mapping sits there. */
static int range_fill_to(hak_large_hdr *h, uintptr_t upto) {
    uintptr_t end = (uintptr_t)h + h->map_len;
    if (end < upto && !hak_os_map_at((void *)end, upto - end, HAK_OS_LARGE)) return -1;
    h->map_len = upto - (uintptr_t)h;
    return 0;
}

/* Split h (a range just taken out of the cache, or a live block that just took one
 * in) at s bytes, a chunk multiple below map_len: the rest becomes a free range of
 * its own, cached, as old and as purged as the range it came from (from).  Large
 * lock held; the slot the taken range left is free, so the push cannot overflow. */
static void range_split(hak_large_hdr *h, size_t s, const hak_large_hdr *from) {
    hak_large_hdr *r = (hak_large_hdr *)((char *)h + s);
    hak_track_defined(r, sizeof(*r));
    r->magic = LARGE_MAGIC;
    r->state = HAK_BLK_FREE;
    r->map_len = h->map_len - s;
    r->user = NULL;
    r->usable = 0;
    r->cached_ms = from->cached_ms;
    r->purged = from->purged;
    (void)hak_registry_set((uintptr_t)r, r->map_len, r, HAK_REG_LARGE);  /* leaves exist */
    h->map_len = s;
    cache_push(r);
    HAK_STAT_SLOW_ADD(large_splits, 1);
}

/* Merge the free range h with the cached ranges right after and right before it
 * (address order), taking them out of the cache.  Returns the merged range (its
 * header is the lowest one).  Large lock held; h is in no cache slot. */
static hak_large_hdr *range_coalesce(hak_large_hdr *h) {
    uintptr_t next = range_chunk_end(h);
    uintptr_t e = hak_registry_lookup((void *)next);
    int k;
    if (hak_reg_kind(e) == HAK_REG_LARGE && hak_reg_header(e) == (void *)next &&
        (k = cache_index((hak_large_hdr *)next)) >= 0 && range_fill_to(h, next) == 0) {
        hak_large_hdr *n = cache_remove((unsigned)k);
        (void)hak_registry_set(next, n->map_len, h, HAK_REG_LARGE);      /* leaves exist */
        h->map_len += n->map_len;
        HAK_STAT_SLOW_ADD(large_merges, 1);
    }
    if ((uintptr_t)h < SS_SIZE) return h;
    e = hak_registry_lookup((char *)h - SS_SIZE);
    hak_large_hdr *pv = hak_reg_header(e);
    if (hak_reg_kind(e) == HAK_REG_LARGE && (k = cache_index(pv)) >= 0 &&
        range_chunk_end(pv) == (uintptr_t)h) {
        (void)cache_remove((unsigned)k);          /* before its length changes */
        if (range_fill_to(pv, (uintptr_t)h) != 0) {
            cache_push(pv);
            return h;
        }
        (void)hak_registry_set((uintptr_t)h, h->map_len, pv, HAK_REG_LARGE);
        pv->map_len += h->map_len;
        h = pv;
        HAK_STAT_SLOW_ADD(large_merges, 1);
    }
    return h;
}

/* Grow a mapping to new_len where it lies: upwards (the free address space after
 * it mapped, which works whatever VMAs a merged range is made of - mremap refuses a
 * range of several), or for a free range (keep == 0: its bytes do not matter)
 * downwards, the header moving to the new start.  A live block (keep) that cannot
 * grow in place moves (mremap: page tables, not bytes; only a range that is one
 * VMA can); a free range never moves: on the virtual machine we measure on,
 * growing by moving cost more than mapping afresh (CURRENT_TASK, fourteenth
 * session).  Returns its header (maybe at a new address) or NULL with the mapping
 * unchanged.  The mapping is not in the cache; no other thread may reach it
 * legitimately. */
static hak_large_hdr *large_grow(hak_large_hdr *h, size_t new_len, size_t align, int keep) {
    size_t old_len = h->map_len;
    size_t map_align = align > SS_SIZE ? align : SS_SIZE;
    uintptr_t base = (uintptr_t)h;
    if (hak_os_map_at((void *)(base + old_len), new_len - old_len, HAK_OS_LARGE)) {
        if (hak_registry_set(base, new_len, h, HAK_REG_LARGE) == 0) {
            h->map_len = new_len;
            HAK_STAT_SLOW_ADD(large_remaps, 1);
            return h;
        }
        hak_os_unmap((void *)(base + old_len), new_len - old_len, HAK_OS_LARGE);
        return NULL;                                    /* no registry leaf */
    }
    if (!keep && map_align == SS_SIZE && base >= SS_SIZE) {
        /* Below: the new chunks, then the old range's pages where they were. */
        size_t d = hak_align_up(new_len - old_len, SS_SIZE);
        uintptr_t lo = base - d;
        if (d < base && hak_os_map_at((void *)lo, d, HAK_OS_LARGE)) {
            hak_large_hdr *q = (hak_large_hdr *)lo;
            hak_track_defined(q, sizeof(*q));
            q->magic = LARGE_MAGIC;                 /* the header before its entries */
            q->state = h->state;
            q->map_len = d + old_len;
            if (hak_registry_set(lo, d + old_len, q, HAK_REG_LARGE) == 0) {
                HAK_STAT_SLOW_ADD(large_grown_down, 1);
                return q;
            }
            hak_os_unmap((void *)lo, d, HAK_OS_LARGE);
        }
        return NULL;
    }
    if (!keep) return NULL;
    /* Moving unmaps the old range, which the next mmap of any thread may get and
     * register: its tombstones must be written before, not after. */
    hak_registry_release(base, old_len);
    hak_large_hdr *q = hak_os_remap(h, old_len, new_len, map_align, 1, HAK_OS_LARGE);
    if (!q) {
        (void)hak_registry_set(base, old_len, h, HAK_REG_LARGE);          /* leaves exist */
        return NULL;
    }
    /* The block's bytes now live only at q: without a registry leaf for it (the
     * metadata map failed) there is no way back. */
    if (hak_registry_set((uintptr_t)q, new_len, q, HAK_REG_LARGE) != 0)
        hak_fatal_ptr("realloc", "out of memory for hakmem's registry after moving a "
                      "Large block", q);
    if (q != h) HAK_STAT_SLOW_ADD(large_moves, 1);
    q->map_len = new_len;
    HAK_STAT_SLOW_ADD(large_remaps, 1);
    return q;
}

/* The cached range for a request of need_len bytes at alignment align, taken out
 * of the cache: the smallest that fits, split after need_len's last chunk when it
 * is bigger (the rest stays cached, its pages where they are); else (to be grown)
 * the largest.  Large lock held. */
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
    hak_large_hdr *h = cache_remove((unsigned)k);
    size_t s = hak_align_up(need_len, SS_SIZE);
    if (h->map_len > s + LARGE_SPLIT_MIN) range_split(h, s, h);
    return h;
}

/* Cache budget for the bytes now live. */
static size_t cache_budget(void) {
    size_t b = g_large_live_bytes / LARGE_CACHE_LIVE_DIV;
    return b > LARGE_CACHE_MIN_BYTES ? b : LARGE_CACHE_MIN_BYTES;
}

/* What a free gives back to the OS, gathered under the large lock (tombstones
 * written) and unmapped after it: whole ranges, and at most one range's tail. */
typedef struct large_release {
    hak_large_hdr *victims[LARGE_CACHE_SLOTS + 1];
    unsigned nv;
    uintptr_t tail;
    size_t tail_len;
} large_release;

static void large_release_run(large_release *r) {
    for (unsigned i = 0; i < r->nv; i++) large_unmap(r->victims[i]);
    if (r->tail_len) hak_os_unmap((void *)r->tail, r->tail_len, HAK_OS_LARGE);
}

/* Bring the cache within its slots and budget, oldest first: a range past the
 * budget gives back only its excess (its tail), one past the slots goes whole.
 * Large lock held. */
static void cache_trim(large_release *r, unsigned max_slots) {
    size_t budget = cache_budget();
    while (g_large_ncached && (g_large_ncached > max_slots || g_large_cached_bytes > budget)) {
        hak_large_hdr *v = g_large_cache[0];
        size_t excess = hak_align_up(g_large_cached_bytes - (g_large_cached_bytes > budget ?
                                     budget : g_large_cached_bytes), HAK_PAGE_SIZE);
        if (g_large_ncached <= max_slots && excess < v->map_len) {
            uintptr_t keep = (uintptr_t)v + v->map_len - excess;
            uintptr_t keep_chunks = hak_align_up(keep, SS_SIZE), end = keep + excess;
            if (keep_chunks < end) hak_registry_release(keep_chunks, end - keep_chunks);
            v->map_len -= excess;
            g_large_cached_bytes -= excess;
            r->tail = keep;                 /* unmapped after the lock: until then a */
            r->tail_len = excess;           /* grow or merge into it just fails     */
            break;
        }
        r->victims[r->nv++] = cache_remove(0);
    }
}

static uint64_t large_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Every cached range freed HAKMEM_LARGE_PURGE_MS ago or more, and not purged yet,
 * gives its pages back but for the header's.  Under the large lock, so that no
 * thread takes the range while its pages go (a taken range's bytes are its owner's).
 * Returns now. */
static uint64_t cache_purge(void) {
    uint64_t now = large_now_ms();
    long delay = hak_option(HAK_OPT_LARGE_PURGE_MS);
    if (delay < 0) return now;
    for (unsigned i = 0; i < g_large_ncached; i++) {
        hak_large_hdr *h = g_large_cache[i];
        if (h->purged || now - h->cached_ms < (uint64_t)delay) continue;
        hak_os_decommit((char *)h + HAK_PAGE_SIZE, h->map_len - HAK_PAGE_SIZE, HAK_OS_LARGE);
        h->purged = 1;
        HAK_STAT_SLOW_ADD(large_purges, 1);
    }
    return now;
}

/* Cache a free range h (in no slot; not live): merged with its free neighbours, then
 * the cache trimmed to its slots and budget.  Large lock held.  What goes back to
 * the OS is in *r (with no cache, h itself), for large_release_run after the lock. */
static void cache_put_locked(hak_large_hdr *h, large_release *r) {
    unsigned max = (unsigned)hak_option(HAK_OPT_LARGE_CACHE);
    r->nv = 0;
    r->tail_len = 0;
    if (max > 0) {
        uint64_t now = cache_purge();
        h = range_coalesce(h);
        h->cached_ms = now;                 /* a fresh free: its pages are there */
        h->purged = 0;
        cache_push(h);
        cache_trim(r, max);
    } else {
        r->victims[r->nv++] = h;
    }
    hak_assert_expensive(large_cache_ok());
}

/* A cached range taken to be grown that could not grow where it lies goes back. */
static void cache_put_back(hak_large_hdr *h) {
    large_release r;
    hak_lock(&g_large_lock);
    cache_put_locked(h, &r);
    hak_unlock(&g_large_lock);
    large_release_run(&r);
}

void *hak_large_alloc(size_t n, size_t align, int *zeroed) {
    size_t off = large_user_off(align);
    if (n > (SIZE_MAX >> 1) - off - SS_SIZE) { errno = ENOMEM; return NULL; }
    size_t need = hak_align_up(off + n, HAK_PAGE_SIZE);
    hak_large_hdr *h = NULL;
    int saved_errno = errno;                 /* a failed in-place grow sets ENOMEM */
    if (hak_option(HAK_OPT_LARGE_CACHE) > 0) {
        hak_lock(&g_large_lock);
        (void)cache_purge();
        h = cache_take(need, align ? align : 1);
        hak_assert_expensive(large_cache_ok());
        hak_unlock(&g_large_lock);
    }
    *zeroed = 0;
    if (h && h->map_len < need) {                        /* grow the largest */
        hak_large_hdr *g = large_grow(h, need, align, 0);
        if (!g) cache_put_back(h);                      /* not where it lies: map */
        h = g;
    }
    if (h && h->map_len - need > need / 4)              /* the rest of its last chunk */
        large_shrink(h, need);
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
    errno = saved_errno;
    h->user = (char *)h + off;
    h->usable = h->map_len - off;
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
    if (hak_unlikely(h->magic != LARGE_MAGIC))
        hak_bad_free(api, p, HAK_BLK_NEVER);
    /* A free range may hold several freed blocks (merged): any pointer into it is a
     * double free or a use of a freed pointer. */
    if (hak_unlikely(__atomic_load_n(&h->state, __ATOMIC_RELAXED) != HAK_BLK_ALLOC))
        hak_bad_free(api, p, HAK_BLK_FREE);
    if (hak_unlikely(p != h->user))
        hak_bad_free(api, p, HAK_BLK_NEVER);
}

size_t hak_large_usable(hak_large_hdr *h, const void *p, const char *api) {
    large_check(h, p, api);
    return h->usable;
}

void hak_large_free(hak_large_hdr *h, void *p, const char *api) {
    large_release r;
    hak_lock(&g_large_lock);
    large_check(h, p, api);      /* under the lock: two racing frees cannot both pass */
    HAK_STAT_SLOW_ADD(large_frees, 1);
    h->state = HAK_BLK_FREE;
    g_large_live_bytes -= h->map_len;
    cache_put_locked(h, &r);
    hak_unlock(&g_large_lock);
    large_release_run(&r);
}

/* Grow the live block h to need bytes over the free range right after it, in place
 * and with that range's pages; what the block does not need past its last chunk
 * stays cached.  Large lock held.  1 if h now holds need bytes, else 0 (unchanged). */
static int large_absorb_next(hak_large_hdr *h, size_t need) {
    uintptr_t next = range_chunk_end(h);
    uintptr_t e = hak_registry_lookup((void *)next);
    int k;
    if (hak_reg_kind(e) != HAK_REG_LARGE || hak_reg_header(e) != (void *)next ||
        (k = cache_index((hak_large_hdr *)next)) < 0 ||
        next - (uintptr_t)h + g_large_cache[k]->map_len < need || range_fill_to(h, next) != 0)
        return 0;
    hak_large_hdr *n = cache_remove((unsigned)k);
    (void)hak_registry_set(next, n->map_len, h, HAK_REG_LARGE);          /* leaves exist */
    h->map_len += n->map_len;
    size_t s = hak_align_up(need, SS_SIZE);
    if (h->map_len > s + LARGE_SPLIT_MIN) range_split(h, s, n);
    HAK_STAT_SLOW_ADD(large_merges, 1);
    return 1;
}

void *hak_large_realloc(hak_large_hdr *h, void *p, size_t n, const char *api) {
    if (HAKMEM_VALGRIND) { errno = ENOMEM; return NULL; }
    large_check(h, p, api);
    size_t off = (size_t)((char *)p - (char *)h);
    if (n > (SIZE_MAX >> 1) - off - SS_SIZE) { errno = ENOMEM; return NULL; }
    size_t need = hak_align_up(off + n, HAK_PAGE_SIZE);
    size_t old = h->map_len;
    int saved_errno = errno;
    if (need <= old) {
        if (old - need > need / 4) large_shrink(h, need);          /* give the tail back */
    } else {
        hak_lock(&g_large_lock);
        (void)cache_purge();
        int absorbed = large_absorb_next(h, need);
        hak_unlock(&g_large_lock);
        if (!absorbed) {
            hak_large_hdr *q = large_grow(h, need, SS_SIZE, 1);
            if (!q) { errno = ENOMEM; return NULL; }
            h = q;
        }
    }
    errno = saved_errno;
    h->user = (char *)h + off;
    h->usable = h->map_len - off;
    hak_lock(&g_large_lock);
    g_large_live_bytes += h->map_len;
    g_large_live_bytes -= old;
    hak_unlock(&g_large_lock);
    return h->user;
}

/* Unmap every cached mapping (memory pressure); returns how many. */
static unsigned large_reclaim(void) {
    hak_large_hdr *victims[LARGE_CACHE_SLOTS + 1];
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
