/**
 * hak_mid.c - Mid path slow paths: segments, refill, flush, release.
 *
 * Lock order: a class lock, then the warm lock, then the registry lock (inside
 * hak_registry_*).  No path holds two class locks, so classes share them: class c
 * takes lock c % MID_LOCKS.  fork() holds every hakmem lock at once (hak_life.c),
 * and ThreadSanitizer's deadlock detector follows at most 64 locks held by one
 * thread: one lock per class (28) took the phase18 total to 65 and TSan aborted;
 * with 14 shared ones it is 51.
 */
#include "hak_mid.h"
#include "hak_backend.h"
#include "hak_lock.h"
#include "hak_options.h"
#include "hak_os.h"
#include "hak_registry.h"
#include "hak_track.h"

#include <errno.h>
#include <string.h>

HAK_TLS hak_tls_bin t_hak_mid_bins[MID_NUM_CLASSES];

/* partial: class lock (mid_lock). */
typedef struct mid_class_pool {
    hak_mid_segment *partial;      /* segments with room and a block out       */
} mid_class_pool;

static mid_class_pool g_mid[MID_NUM_CLASSES];

#define MID_LOCKS 14                                   /* classes c, c + 14 share */
static hak_lock_t g_mid_lock[MID_LOCKS] = { [0 ... MID_LOCKS - 1] = HAK_LOCK_INITIALIZER };
static hak_lock_t *mid_lock(unsigned c) { return &g_mid_lock[c % MID_LOCKS]; }

/* Segments whose blocks all came back, any class's: most recently emptied first.
 * At most HAKMEM_MID_WARM of them; a class takes one before it maps a segment. */
static struct {
    hak_lock_t lock;
    hak_mid_segment *head, *tail;
    unsigned n;
} g_mid_warm = { .lock = HAK_LOCK_INITIALIZER };

static uint32_t mid_tls_cap(unsigned c) {
    size_t cap = 32768 / mid_class_size(c);
    return cap < 2 ? 2 : cap > 16 ? 16 : (uint32_t)cap;
}

static void mid_thread_init(void) {
    for (unsigned c = 0; c < MID_NUM_CLASSES; c++) t_hak_mid_bins[c].cap = mid_tls_cap(c);
}

static void partial_push(mid_class_pool *pool, hak_mid_segment *s) {
    s->prev = NULL;
    s->next = pool->partial;
    if (pool->partial) pool->partial->prev = s;
    pool->partial = s;
    s->in_partial = 1;
}

static void partial_remove(mid_class_pool *pool, hak_mid_segment *s) {
    if (s->prev) s->prev->next = s->next; else pool->partial = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->in_partial = 0;
}

/* DEBUG builds: the invariant above hak_mid_segment, by walking the freelist and
 * every state slot (a slot that is not a carved block's start is NEVER: what a
 * class taking the segment next relies on).  Class lock held. */
static inline int mid_segment_ok(const hak_mid_segment *s) {
#if HAKMEM_DEBUG
    uint32_t nfree = 0;
    for (void *b = s->freelist; b; b = *(void **)b) {
        hak_assert(hak_ss_of(b) == (uintptr_t)s);
        hak_assert(*mid_state((hak_mid_segment *)s, b) == HAK_BLK_FREE);
        hak_assert(++nfree <= s->carved);
    }
    hak_assert(s->carved <= s->capacity);
    hak_assert(s->used + nfree == s->carved);
    for (uintptr_t j = 0; j < MID_STATE_SLOTS; j++) {
        uintptr_t off = j << MID_STATE_SHIFT;
        if (off % s->bsize != 0 || off / s->bsize >= s->carved)
            hak_assert(__atomic_load_n(&s->state[j], __ATOMIC_RELAXED) == HAK_BLK_NEVER);
    }
#else
    (void)s;
#endif
    return 1;
}

static void mid_segment_unmap(hak_mid_segment *s) {
    hak_registry_release((uintptr_t)s, SS_SIZE);
    hak_os_unmap(s, SS_SIZE, HAK_OS_MID);
}

static void mid_segment_class(hak_mid_segment *s, unsigned c) {
    s->next = s->prev = NULL;
    s->cls = c;
    s->bsize = (uint32_t)mid_class_size(c);
    s->capacity = (uint32_t)(MID_AREA_SIZE / s->bsize);
}

/* Give a segment to class c: a warm one (its blocks' state bytes back to NEVER,
 * nothing carved, its area inaccessible again under memcheck), else a new mapping
 * (its header complete before the registry names it).  Class lock held. */
static hak_mid_segment *mid_segment_get(unsigned c) {
    hak_lock(&g_mid_warm.lock);
    hak_mid_segment *s = g_mid_warm.head;
    if (s) {
        g_mid_warm.head = s->next;
        if (s->next) s->next->prev = NULL; else g_mid_warm.tail = NULL;
        g_mid_warm.n--;
    }
    hak_unlock(&g_mid_warm.lock);
    if (s) {
        hak_assert(s->cls == MID_NO_CLASS && s->used == 0);
        memset(s->state, HAK_BLK_NEVER, sizeof s->state);
        hak_track_noaccess((char *)s + MID_AREA_OFF, MID_AREA_SIZE);
        s->carved = 0;
        s->freelist = NULL;
        mid_segment_class(s, c);
        return s;
    }
    s = hak_os_map(SS_SIZE, SS_SIZE, HAK_OS_MID);
    if (!s) return NULL;
    hak_track_defined(s, sizeof(*s));
    s->magic = MID_SEG_MAGIC;
    mid_segment_class(s, c);
    if (hak_registry_set((uintptr_t)s, SS_SIZE, s, HAK_REG_MID) != 0) {
        hak_os_unmap(s, SS_SIZE, HAK_OS_MID);
        return NULL;
    }
    HAK_STAT_SLOW_ADD(mid[c].superslabs, 1);                   /* segments mapped */
    return s;
}

/* Every block of s is back (class lock held, s off the partial list): s goes warm,
 * and beyond the budget the least recently emptied warm segment is unmapped.  A
 * stale pointer into a warm segment still finds its block FREE (a double free),
 * into an unmapped one the registry's tombstone; once another class has taken the
 * segment, it finds NEVER (an invalid pointer) or - at a block start of the new
 * class, handed out - ALLOC, and that free goes through: the reuse every allocator
 * has, here across classes as well. */
static void mid_segment_retire(hak_mid_segment *s) {
    hak_assert_expensive(mid_segment_ok(s));
    unsigned budget = (unsigned)hak_option(HAK_OPT_MID_WARM);
    hak_mid_segment *victim = NULL;
    hak_lock(&g_mid_warm.lock);
    s->cls = MID_NO_CLASS;
    s->prev = NULL;
    s->next = g_mid_warm.head;
    if (s->next) s->next->prev = s; else g_mid_warm.tail = s;
    g_mid_warm.head = s;
    if (++g_mid_warm.n > budget) {
        victim = g_mid_warm.tail;
        g_mid_warm.tail = victim->prev;
        if (victim->prev) victim->prev->next = NULL; else g_mid_warm.head = NULL;
        g_mid_warm.n--;
    }
    hak_unlock(&g_mid_warm.lock);
    if (victim) mid_segment_unmap(victim);
}

/* Class lock held. */
static unsigned mid_take(hak_mid_segment *s, void ***tail, unsigned max) {
    void **link = *tail;
    unsigned n = 0;
    while (n < max && s->freelist) {
        void *b = s->freelist;
        s->freelist = *(void **)b;
        *link = b;
        link = (void **)b;
        n++;
    }
    while (n < max && s->carved < s->capacity) {
        void *b = (char *)s + MID_AREA_OFF + (uintptr_t)s->carved * s->bsize;
        __atomic_store_n(mid_state(s, b), (uint8_t)HAK_BLK_FREE, __ATOMIC_RELAXED);
        hak_track_undefined(b, sizeof(void *));                /* its link word */
        s->carved++;
        *link = b;
        link = (void **)b;
        n++;
    }
    s->used += n;
    *tail = link;
    return n;
}

static unsigned mid_refill(unsigned c, void ***tail, unsigned max) {
    mid_class_pool *pool = &g_mid[c];
    unsigned n = 0;
    hak_lock(mid_lock(c));
    while (n < max) {
        hak_mid_segment *s = pool->partial;
        if (!s) {
            s = mid_segment_get(c);
            if (!s) break;
            partial_push(pool, s);
        }
        n += mid_take(s, tail, max - n);
        if (!s->freelist && s->carved == s->capacity) partial_remove(pool, s);
        hak_assert_expensive(mid_segment_ok(s));
    }
    hak_unlock(mid_lock(c));
    return n;
}

static void mid_free_chain(unsigned c, void *head) {
    mid_class_pool *pool = &g_mid[c];
    hak_lock(mid_lock(c));
    while (head) {
        void *next = *(void **)head;
        hak_mid_segment *s = mid_segment_of(head);
        *(void **)head = s->freelist;
        s->freelist = head;
        s->used--;
        if (s->used == 0) {
            if (s->in_partial) partial_remove(pool, s);
            mid_segment_retire(s);
        } else if (!s->in_partial) {
            partial_push(pool, s);
        }
        head = next;
    }
    hak_unlock(mid_lock(c));
}

void *hak_mid_alloc_slow(unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_mid_bins[c];
    if (b->head) return mid_alloc_class(c);
    HAK_STAT_SLOW_ADD(mid[c].tls_misses, 1);
    unsigned want = b->cap ? hak_bin_refill_want(b, (b->cap + 1) / 2) : 1;
    void *head = NULL, **tail = &head;
    unsigned n = mid_refill(c, &tail, want);
    if (hak_unlikely(n == 0) && hak_reclaim()) n = mid_refill(c, &tail, want);
    *tail = NULL;
    if (hak_unlikely(n == 0)) { errno = ENOMEM; return NULL; }
    HAK_STAT_SLOW_ADD(mid[c].refills, 1);
    HAK_STAT_SLOW_ADD(mid[c].refill_blocks, n);
    HAK_STAT_HOT_INC(mid[c].allocs);
    void *p = head;
    b->head = *(void **)p;
    b->count += n - 1;
    __atomic_store_n(mid_state(mid_segment_of(p), p), (uint8_t)HAK_BLK_ALLOC,
                     __ATOMIC_RELAXED);
    return p;
}

void hak_mid_free_slow(void *p, unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_mid_bins[c];
    if (b->count < b->cap) { hak_bin_push(b, p); return; }
    if (b->cap == 0) { *(void **)p = NULL; mid_free_chain(c, p); return; }
    hak_bin_push(b, p);
    uint32_t n;
    void *chain = hak_bin_split(b, b->cap / 2, &n);
    HAK_STAT_SLOW_ADD(mid[c].flushes, 1);
    HAK_STAT_SLOW_ADD(mid[c].flush_blocks, n);
    mid_free_chain(c, chain);
}

static void mid_thread_exit(void) {
    for (unsigned c = 0; c < MID_NUM_CLASSES; c++) {
        uint32_t n;
        void *chain = hak_bin_split(&t_hak_mid_bins[c], 0, &n);
        t_hak_mid_bins[c].cap = 0;
        if (n) mid_free_chain(c, chain);
    }
}

static unsigned mid_reclaim(void) {
    hak_lock(&g_mid_warm.lock);
    hak_mid_segment *s = g_mid_warm.head;
    g_mid_warm.head = g_mid_warm.tail = NULL;
    g_mid_warm.n = 0;
    hak_unlock(&g_mid_warm.lock);
    unsigned released = 0;
    while (s) {
        hak_mid_segment *next = s->next;
        mid_segment_unmap(s);
        released++;
        s = next;
    }
    return released;
}

static void mid_fork_prepare(void) {
    for (unsigned i = 0; i < MID_LOCKS; i++) hak_lock(&g_mid_lock[i]);
    hak_lock(&g_mid_warm.lock);
}
static void mid_fork_parent(void) {
    hak_unlock(&g_mid_warm.lock);
    for (unsigned i = MID_LOCKS; i-- > 0;) hak_unlock(&g_mid_lock[i]);
}
static void mid_fork_child(void) { mid_fork_parent(); }

const hak_layer hak_mid_layer = {
    .name = "mid",
    .thread_init = mid_thread_init,
    .thread_exit = mid_thread_exit,
    .reclaim = mid_reclaim,         /* unmap every warm segment */
    .fork_prepare = mid_fork_prepare,
    .fork_parent = mid_fork_parent,
    .fork_child = mid_fork_child,
};
