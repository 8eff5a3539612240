/**
 * hak_mid.c - Mid path slow paths: segments and their spans, refill, flush, release.
 *
 * Lock order: a class lock, then the segment lock, then the registry lock (inside
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

/* A class's pool, under its class lock (mid_lock): runs with room, and a stack of
 * chains that threads' bins flushed whole - a transfer cache, as Tiny's, but under
 * the class lock, which already serializes a class's slow paths (a lock of their
 * own would take the locks fork() holds past the 64 ThreadSanitizer follows).  A
 * flush pushes its chain and an empty bin pops one, O(1) each; walking a chain
 * into its runs reads every block's link, a cache miss per block when another
 * thread freed it, all under the lock.  A popped chain may hold more blocks than
 * the bin's cap (a two-way thread's chain, at most MID_CHAIN_BYTES).
 * Invariant: the chains hold `cached` blocks of the class, each FREE and out of
 * its run (counted in its `used`), as in a bin; at most MID_CHAINS chains and
 * MID_CHAIN_BYTES bytes a class, MID_CHAIN_TOTAL bytes all classes (a chain that
 * does not fit walks to its runs, and a class's oldest chains make room for its
 * newest).  A thread's exit and reclaim drain every class's chains to their runs;
 * a class no thread flushes or takes again keeps its chains until then, as Tiny's
 * transfer caches do.  nchains is also read without the lock, as a hint.
 * Bounds (prodcons of 1025-65536 B, 11 interleaved reps, paired; a 2-thread churn
 * that frees all every round, its highest RSS after a free-all, 3 runs): none,
 * 1.00x, 22.7-25.6 MB; 128 KiB a class and 2 MiB in all, 1.32x, 23.4-24.9 MB; 512
 * KiB and 4 MiB (with bins of 4 blocks at least) 1.55x, 33.9-35.1 MB. */
#define MID_CHAINS      8
#define MID_CHAIN_BYTES ((size_t)128 << 10)                     /* 131072  */
#define MID_CHAIN_TOTAL ((size_t)2 << 20)                       /* 2097152 */
static size_t g_mid_chain_bytes;             /* all classes' chains: atomic */
typedef struct mid_class_pool {
    hak_mid_span *partial;         /* runs with room and a block out           */
    unsigned runs;                 /* runs taken so far: the next one's length */
    unsigned nchains;              /* chains cached                            */
    uint32_t cached;               /* blocks in them                           */
    struct { void *head; uint32_t n; } chain[MID_CHAINS];
} mid_class_pool;

/* The length of a class's next run: 1 span for its first, then 2, 4, 8, and a
 * whole segment's 15 from its fifth on. */
static unsigned mid_run_spans(unsigned runs) {
    return runs >= 4 ? MID_SPANS : 1u << runs;
}

static mid_class_pool g_mid[MID_NUM_CLASSES];

#define MID_LOCKS 14                                   /* classes c, c + 14 share */
static hak_lock_t g_mid_lock[MID_LOCKS] = { [0 ... MID_LOCKS - 1] = HAK_LOCK_INITIALIZER };
static hak_lock_t *mid_lock(unsigned c) { return &g_mid_lock[c % MID_LOCKS]; }

/* Segments, under one lock: those with free spans and used ones (open, most
 * recently opened first), and those whose spans are all free (warm, most recently
 * emptied first; a class takes a run of an open segment, then of a warm one, before
 * it maps a segment): at most HAKMEM_MID_WARM warm segments.  idle counts the free
 * spans of open segments whose pages may be resident (their idle_mask bits): at
 * most HAKMEM_MID_WARM x MID_SPANS.  (One budget for both, counted in spans, took
 * a 1025-65536 B churn's peak 74.9 -> 51.8 MB and its time 0.74x: warm segments
 * fill it, and then every short run going back is decommitted and refaulted.) */
static struct {
    hak_lock_t lock;
    hak_mid_segment *open;
    hak_mid_segment *head, *tail;                     /* warm */
    unsigned n;                                       /* warm */
    unsigned idle;                                    /* spans */
} g_mid_seg = { .lock = HAK_LOCK_INITIALIZER };

static unsigned span_count(unsigned mask) { return (unsigned)__builtin_popcount(mask); }

/* A thread's bin starts at its base, up to 256 KiB of a class in 4 to 16 blocks,
 * and adapts like a Tiny bin (hak_bin_adapt): two-way traffic grows it up to four
 * times the base, one-way traffic shrinks it to half the base (a thread that only
 * allocates the class) or a quarter (one that only frees it).  The bases add up to
 * ~3.6 MiB, so a thread's Mid bins hold at most ~14.5 MiB (tcmalloc's thread cache
 * is 4 MiB a thread, but lets one class take most of it).  With a fixed 32 KiB, 2
 * to 16 blocks, every malloc of 16 KiB or more took the class lock for one block
 * and every second free gave one back: a 1025-65536 B churn ran 0.70x and peaked
 * 74.3 MB (63.7 with the bases alone, 55.9 adaptive).  A budget of 8 MiB above the
 * bases a thread (Tiny's kind) cost 2 threads of that churn 0.87x and 1 thread 6
 * MB more peak; 4 MiB gave back most of the gain. */
static uint32_t mid_tls_cap(unsigned c) {
    size_t cap = ((size_t)256 << 10) / mid_class_size(c);
    return cap < 4 ? 4 : cap > 16 ? 16 : (uint32_t)cap;
}

static void mid_adapt(hak_tls_bin *b, unsigned c, int full) {
    unsigned base = mid_tls_cap(c);
    (void)hak_bin_adapt(b, full, base, base * 4);
}

static void mid_thread_init(void) {
    for (unsigned c = 0; c < MID_NUM_CLASSES; c++) t_hak_mid_bins[c].cap = mid_tls_cap(c);
}

static void partial_push(mid_class_pool *pool, hak_mid_span *sp) {
    sp->prev = NULL;
    sp->next = pool->partial;
    if (pool->partial) pool->partial->prev = sp;
    pool->partial = sp;
    sp->in_partial = 1;
}

static void partial_remove(mid_class_pool *pool, hak_mid_span *sp) {
    if (sp->prev) sp->prev->next = sp->next; else pool->partial = sp->next;
    if (sp->next) sp->next->prev = sp->prev;
    sp->next = sp->prev = NULL;
    sp->in_partial = 0;
}

static hak_mid_segment *mid_segment_of_span(const hak_mid_span *sp) {
    return (hak_mid_segment *)hak_ss_of(sp);
}
static char *mid_span_base(const hak_mid_span *sp) {
    hak_mid_segment *s = mid_segment_of_span(sp);
    return (char *)s + MID_AREA_OFF + ((uintptr_t)(sp - s->span) << MID_SPAN_SHIFT);
}

/* DEBUG builds: the invariant above hak_mid_span, by walking the freelist and
 * every state slot of the run (a slot that is not a carved block's start is NEVER:
 * what a class taking the spans next relies on).  Class lock held. */
static inline int mid_run_ok(hak_mid_span *sp) {
#if HAKMEM_DEBUG
    hak_mid_segment *s = mid_segment_of_span(sp);
    char *base = mid_span_base(sp);
    uint32_t nfree = 0;
    unsigned f = (unsigned)(sp - s->span);
    hak_assert(s->first[f] == f && sp->nspans >= 1);
    for (unsigned i = f; i < f + sp->nspans; i++)
        hak_assert(s->cls[i] == s->cls[f] && s->cls[i] < MID_NUM_CLASSES && s->first[i] == f);
    for (void *b = sp->freelist; b; b = *(void **)b) {
        hak_assert(mid_span_of(s, b) == sp);
        hak_assert(*mid_state(s, b) == HAK_BLK_FREE);
        hak_assert(++nfree <= sp->carved);
    }
    hak_assert(sp->carved <= sp->capacity);
    hak_assert(sp->used + nfree == sp->carved);
    uintptr_t len = (uintptr_t)sp->nspans << MID_SPAN_SHIFT;
    for (uintptr_t off = 0; off < len; off += (uintptr_t)1 << MID_STATE_SHIFT) {
        if (off % sp->bsize != 0 || off / sp->bsize >= sp->carved)
            hak_assert(__atomic_load_n(mid_state(s, base + off), __ATOMIC_RELAXED) == HAK_BLK_NEVER);
    }
#else
    (void)sp;
#endif
    return 1;
}

/* DEBUG builds: idle is the sum over open segments, within the budget, and idle
 * spans are free.  Segment lock held. */
static inline int mid_idle_ok(void) {
#if HAKMEM_DEBUG
    hak_assert(g_mid_seg.idle <= (unsigned)hak_option(HAK_OPT_MID_WARM) * MID_SPANS);
    unsigned idle = 0;
    for (hak_mid_segment *o = g_mid_seg.open; o; o = o->next) {
        hak_assert((o->idle_mask & ~o->free_mask) == 0 && o->free_mask != 0);
        idle += span_count(o->idle_mask);
    }
    hak_assert(idle == g_mid_seg.idle);
#endif
    return 1;
}

/* Decommit the idle spans of s (segment lock held: they are free, and the lock
 * keeps any run from taking them meanwhile - a rare path), one madvise per
 * stretch of neighbours; they count no longer. */
static void mid_decommit_idle(hak_mid_segment *s) {
    unsigned mask = s->idle_mask;
    g_mid_seg.idle -= span_count(mask);
    s->idle_mask = 0;
    while (mask) {
        unsigned k = (unsigned)__builtin_ctz(mask), n = 0;
        while (k + n < MID_SPANS && (mask >> (k + n) & 1u)) n++;
        hak_os_decommit((char *)s + MID_AREA_OFF + ((uintptr_t)k << MID_SPAN_SHIFT),
                        (size_t)n << MID_SPAN_SHIFT, HAK_OS_MID);
        mask &= ~(((1u << n) - 1) << k);
    }
}

static void mid_segment_unmap(hak_mid_segment *s) {
    hak_registry_release((uintptr_t)s, SS_SIZE);
    hak_os_unmap(s, SS_SIZE, HAK_OS_MID);
}

/* Segment lock held. */
static void open_push(hak_mid_segment *s) {
    s->prev = NULL;
    s->next = g_mid_seg.open;
    if (s->next) s->next->prev = s;
    g_mid_seg.open = s;
}
static void open_remove(hak_mid_segment *s) {
    if (s->prev) s->prev->next = s->next; else g_mid_seg.open = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
}
static void warm_remove(hak_mid_segment *s) {
    if (s->prev) s->prev->next = s->next; else g_mid_seg.head = s->next;
    if (s->next) s->next->prev = s->prev; else g_mid_seg.tail = s->prev;
    s->next = s->prev = NULL;
    g_mid_seg.n--;
}

/* A new segment, every span free, its header complete before the registry names it. */
static hak_mid_segment *mid_segment_map(unsigned c) {
    hak_mid_segment *s = hak_os_map(SS_SIZE, SS_SIZE, HAK_OS_MID);
    if (!s) return NULL;
    hak_track_defined(s, sizeof(*s));
    s->magic = MID_SEG_MAGIC;
    s->free_mask = MID_SPANS_ALL;
    memset(s->cls, MID_NO_CLASS, sizeof(s->cls));
    for (unsigned k = 0; k < MID_SPANS; k++) s->first[k] = (uint8_t)k;
    if (hak_registry_set((uintptr_t)s, SS_SIZE, s, HAK_REG_MID) != 0) {
        hak_os_unmap(s, SS_SIZE, HAK_OS_MID);
        return NULL;
    }
    HAK_STAT_SLOW_ADD(mid[c].superslabs, 1);                   /* segments mapped */
    return s;
}

/* The first of k contiguous free spans of s, or -1.  Segment lock held. */
static int mid_find_run(const hak_mid_segment *s, unsigned k) {
    unsigned want = (1u << k) - 1;
    for (unsigned f = 0; f + k <= MID_SPANS; f++)
        if (((s->free_mask >> f) & want) == want) return (int)f;
    return -1;
}

/* Give class c a run of k spans: the lowest fitting free spans of an open segment
 * (the first few tried), else of a warm one, else of a new mapping.  (Taking a
 * shorter run of an open segment before mapping one made a 1025-65536 B churn's
 * peak 7% higher: it scatters more classes over more segments.)  Spans a run
 * had before get their state bytes back to NEVER and their area inaccessible again
 * under memcheck.  Class lock held. */
#define MID_OPEN_TRIES 4
static hak_mid_span *mid_run_get(unsigned c, unsigned k) {
    hak_lock(&g_mid_seg.lock);
    hak_mid_segment *s = g_mid_seg.open;
    int f = -1;
    for (unsigned t = 0; s && t < MID_OPEN_TRIES; t++, s = s->next)
        if ((f = mid_find_run(s, k)) >= 0) break;
    if (f < 0 && (s = g_mid_seg.head) != NULL) {
        warm_remove(s);
        open_push(s);
        g_mid_seg.idle += span_count(s->idle_mask);
        f = 0;
    }
    if (f < 0) {
        hak_unlock(&g_mid_seg.lock);
        if (!(s = mid_segment_map(c))) return NULL;
        hak_lock(&g_mid_seg.lock);
        open_push(s);
        f = 0;
    }
    unsigned bits = ((1u << k) - 1) << f;
    g_mid_seg.idle -= span_count(s->idle_mask & bits);
    s->idle_mask = (uint16_t)(s->idle_mask & ~bits);
    s->free_mask = (uint16_t)(s->free_mask & ~bits);
    if (!s->free_mask) open_remove(s);
    /* a warm segment's other spans, now beside this run, may take idle over */
    if (g_mid_seg.idle > (unsigned)hak_option(HAK_OPT_MID_WARM) * MID_SPANS) mid_decommit_idle(s);
    hak_assert_expensive(mid_idle_ok());
    hak_mid_span *sp = &s->span[f];
    uint8_t dirty[MID_SPANS];
    for (unsigned i = (unsigned)f; i < (unsigned)f + k; i++) {
        hak_assert(s->cls[i] == MID_NO_CLASS && s->first[i] == i);
        __atomic_store_n(&s->cls[i], (uint8_t)c, __ATOMIC_RELAXED);
        s->first[i] = (uint8_t)f;
        dirty[i] = s->span[i].dirty;
        s->span[i].dirty = 1;
    }
    sp->nspans = (uint8_t)k;
    hak_unlock(&g_mid_seg.lock);
    for (unsigned i = (unsigned)f; i < (unsigned)f + k; i++) {
        if (!dirty[i]) continue;
        char *base = (char *)s + MID_AREA_OFF + ((uintptr_t)i << MID_SPAN_SHIFT);
        memset(mid_state(s, base), HAK_BLK_NEVER, MID_SPAN_SIZE >> MID_STATE_SHIFT);
        hak_track_noaccess(base, MID_SPAN_SIZE);
    }
    sp->bsize = (uint32_t)mid_class_size(c);
    sp->capacity = (uint32_t)(((uintptr_t)k << MID_SPAN_SHIFT) / sp->bsize);
    sp->carved = 0;
    sp->used = 0;
    sp->freelist = NULL;
    sp->next = sp->prev = NULL;
    return sp;
}

/* Every block of run sp is back (class lock held, sp off the partial list): its
 * spans go back to the segment; a segment whose spans are then all free goes warm.
 * Past the budget of idle spans, a run going back beside used spans has its pages
 * decommitted first - while its spans are still the class's, so no other run can
 * have them under the madvise; beyond the warm budget, the least recently emptied
 * warm segment is unmapped.  A stale pointer into a free span still finds its block FREE (a double free), into
 * an unmapped segment the registry's tombstone; once another run has the span, it
 * finds NEVER (an invalid pointer) or - at a block start of the new run, handed out
 * - ALLOC, and that free goes through: the reuse every allocator has, here across
 * classes as well. */
static void mid_run_put(hak_mid_span *sp) {
    hak_assert_expensive(mid_run_ok(sp));
    hak_mid_segment *s = mid_segment_of_span(sp);
    unsigned f = (unsigned)(sp - s->span), k = sp->nspans;
    unsigned bits = ((1u << k) - 1) << f;
    unsigned budget = (unsigned)hak_option(HAK_OPT_MID_WARM);
    unsigned idle_bits = bits;
    hak_mid_segment *victims = NULL;
    hak_lock(&g_mid_seg.lock);
    if ((s->free_mask | bits) != MID_SPANS_ALL && g_mid_seg.idle + k > budget * MID_SPANS) {
        hak_unlock(&g_mid_seg.lock);
        hak_os_decommit(mid_span_base(sp), (size_t)k << MID_SPAN_SHIFT, HAK_OS_MID);
        idle_bits = 0;
        hak_lock(&g_mid_seg.lock);
    }
    for (unsigned i = f; i < f + k; i++) {
        __atomic_store_n(&s->cls[i], (uint8_t)MID_NO_CLASS, __ATOMIC_RELAXED);
        s->first[i] = (uint8_t)i;
    }
    int was_full = s->free_mask == 0;
    s->free_mask = (uint16_t)(s->free_mask | bits);
    s->idle_mask = (uint16_t)(s->idle_mask | idle_bits);
    g_mid_seg.idle += span_count(idle_bits);
    if (s->free_mask == MID_SPANS_ALL) {
        if (!was_full) open_remove(s);
        s->prev = NULL;
        s->next = g_mid_seg.head;
        if (s->next) s->next->prev = s; else g_mid_seg.tail = s;
        g_mid_seg.head = s;
        g_mid_seg.n++;
        g_mid_seg.idle -= span_count(s->idle_mask);
        while (g_mid_seg.tail && g_mid_seg.n > budget) {
            hak_mid_segment *v = g_mid_seg.tail;
            warm_remove(v);
            v->next = victims;
            victims = v;
        }
    } else if (was_full) {
        open_push(s);
    }
    hak_assert_expensive(mid_idle_ok());
    hak_unlock(&g_mid_seg.lock);
    while (victims) {
        hak_mid_segment *v = victims;
        victims = v->next;
        mid_segment_unmap(v);
    }
}

/* Class lock held. */
static unsigned mid_take(hak_mid_span *sp, void ***tail, unsigned max) {
    void **link = *tail;
    unsigned n = 0;
    while (n < max && sp->freelist) {
        void *b = sp->freelist;
        sp->freelist = *(void **)b;
        *link = b;
        link = (void **)b;
        n++;
    }
    if (n < max && sp->carved < sp->capacity) {
        hak_mid_segment *s = mid_segment_of_span(sp);
        char *base = mid_span_base(sp);
        while (n < max && sp->carved < sp->capacity) {
            void *b = base + (uintptr_t)sp->carved * sp->bsize;
            __atomic_store_n(mid_state(s, b), (uint8_t)HAK_BLK_FREE, __ATOMIC_RELAXED);
            hak_track_undefined(b, sizeof(void *));            /* its link word */
            sp->carved++;
            *link = b;
            link = (void **)b;
            n++;
        }
    }
    sp->used += n;
    *tail = link;
    return n;
}

static unsigned mid_refill(unsigned c, void ***tail, unsigned max) {
    mid_class_pool *pool = &g_mid[c];
    unsigned n = 0;
    hak_lock(mid_lock(c));
    while (n < max) {
        hak_mid_span *sp = pool->partial;
        if (!sp) {
            sp = mid_run_get(c, mid_run_spans(pool->runs));
            if (!sp) break;
            if (pool->runs < 4) pool->runs++;
            partial_push(pool, sp);
        }
        n += mid_take(sp, tail, max - n);
        if (!sp->freelist && sp->carved == sp->capacity) partial_remove(pool, sp);
        hak_assert_expensive(mid_run_ok(sp));
    }
    hak_unlock(mid_lock(c));
    return n;
}

/* Each block of the chain back to its run (class lock held). */
static void mid_free_chain_locked(mid_class_pool *pool, unsigned c, void *head) {
    (void)c;                                                   /* asserts only */
    while (head) {
        void *next = *(void **)head;
        hak_mid_segment *s = mid_segment_of(head);
        hak_mid_span *sp = mid_span_of(s, head);
        hak_assert(s->cls[mid_span_index(s, head)] == c);
        *(void **)head = sp->freelist;
        sp->freelist = head;
        sp->used--;
        if (sp->used == 0) {
            if (sp->in_partial) partial_remove(pool, sp);
            mid_run_put(sp);
        } else if (!sp->in_partial) {
            partial_push(pool, sp);
        }
        head = next;
    }
}

static void mid_free_chain(unsigned c, void *head) {
    hak_lock(mid_lock(c));
    mid_free_chain_locked(&g_mid[c], c, head);
    hak_unlock(mid_lock(c));
}

/* DEBUG builds: the invariant above mid_class_pool.  Class lock held. */
static inline int mid_chains_ok(const mid_class_pool *pool, unsigned c) {
#if HAKMEM_DEBUG
    uint32_t total = 0;
    hak_assert(pool->nchains <= MID_CHAINS);
    for (unsigned i = 0; i < pool->nchains; i++) {
        uint32_t n = 0;
        for (void *b = pool->chain[i].head; b; b = *(void **)b, n++) {
            hak_mid_segment *s = mid_segment_of(b);
            hak_assert(s->cls[mid_span_index(s, b)] == c);
            hak_assert(*mid_state(s, b) == HAK_BLK_FREE);
        }
        hak_assert(n == pool->chain[i].n && n > 0);
        total += n;
    }
    hak_assert(total == pool->cached);
    hak_assert((size_t)total * mid_class_size(c) <= MID_CHAIN_BYTES);
#else
    (void)pool; (void)c;
#endif
    return 1;
}

/* Room for a chain of `bytes` under the total, taken (0: none; a hard bound). */
static int mid_chain_bytes_take(size_t bytes) {
    if (__atomic_add_fetch(&g_mid_chain_bytes, bytes, __ATOMIC_RELAXED) <= MID_CHAIN_TOTAL)
        return 1;
    __atomic_sub_fetch(&g_mid_chain_bytes, bytes, __ATOMIC_RELAXED);
    return 0;
}

/* A flushed chain of n blocks, cached whole: the class's oldest chains go to their
 * runs first if it needs their room (a stack that turned the newest away would
 * keep its oldest for good); when it cannot fit at all, it goes to its runs. */
static void mid_flush(unsigned c, void *head, uint32_t n) {
    mid_class_pool *pool = &g_mid[c];
    size_t size = mid_class_size(c), bytes = (size_t)n * size;
    hak_lock(mid_lock(c));
    if (bytes <= MID_CHAIN_BYTES) {
        while (pool->nchains == MID_CHAINS || (size_t)pool->cached * size + bytes > MID_CHAIN_BYTES) {
            void *old = pool->chain[0].head;
            uint32_t on = pool->chain[0].n;
            pool->cached -= on;
            __atomic_sub_fetch(&g_mid_chain_bytes, (size_t)on * size, __ATOMIC_RELAXED);
            memmove(&pool->chain[0], &pool->chain[1], (pool->nchains - 1) * sizeof pool->chain[0]);
            __atomic_store_n(&pool->nchains, pool->nchains - 1, __ATOMIC_RELAXED);
            mid_free_chain_locked(pool, c, old);
        }
    }
    if (bytes <= MID_CHAIN_BYTES && mid_chain_bytes_take(bytes)) {
        pool->chain[pool->nchains].head = head;
        pool->chain[pool->nchains].n = n;
        pool->cached += n;
        __atomic_store_n(&pool->nchains, pool->nchains + 1, __ATOMIC_RELAXED);
    } else {
        mid_free_chain_locked(pool, c, head);
    }
    hak_assert_expensive(mid_chains_ok(pool, c));
    hak_unlock(mid_lock(c));
}

/* The most recently cached chain of class c into *head (NULL-terminated); its
 * length, 0 when none. */
static uint32_t mid_chain_pop(unsigned c, void **head) {
    mid_class_pool *pool = &g_mid[c];
    uint32_t n = 0;
    if (!__atomic_load_n(&pool->nchains, __ATOMIC_RELAXED)) return 0;
    hak_lock(mid_lock(c));
    if (pool->nchains) {
        unsigned i = pool->nchains - 1;
        *head = pool->chain[i].head;
        n = pool->chain[i].n;
        pool->cached -= n;
        __atomic_fetch_sub(&g_mid_chain_bytes, (size_t)n * mid_class_size(c), __ATOMIC_RELAXED);
        __atomic_store_n(&pool->nchains, i, __ATOMIC_RELAXED);
    }
    hak_assert_expensive(mid_chains_ok(pool, c));
    hak_unlock(mid_lock(c));
    return n;
}

void *hak_mid_alloc_slow(unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_mid_bins[c];
    if (b->head) return mid_alloc_class(c);
    HAK_STAT_SLOW_ADD(mid[c].tls_misses, 1);
    if (b->cap) mid_adapt(b, c, 0);
    void *head = NULL;
    unsigned n = b->cap ? mid_chain_pop(c, &head) : 0;        /* a whole chain */
    if (!n) {                 /* none cached, or a dead thread (cap 0): one block */
        unsigned want = b->cap ? hak_bin_refill_want(b, (b->cap + 1) / 2) : 1;
        void **tail = &head;
        n = mid_refill(c, &tail, want);
        if (hak_unlikely(n == 0) && hak_reclaim()) n = mid_refill(c, &tail, want);
        *tail = NULL;
        if (hak_unlikely(n == 0)) { errno = ENOMEM; return NULL; }
    }
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
    mid_adapt(b, c, 1);
    if (b->cap > b->count) return;                  /* it grew */
    uint32_t n;
    void *chain = hak_bin_split(b, b->cap / 2, &n);
    HAK_STAT_SLOW_ADD(mid[c].flushes, 1);
    HAK_STAT_SLOW_ADD(mid[c].flush_blocks, n);
    mid_flush(c, chain, n);
}

/* Cached chains of every class back to their runs, each class's under one hold of
 * its lock (a drain that popped one chain at a time could chase other threads'
 * flushes for ever); how many chains. */
static unsigned mid_chains_drain(void) {
    unsigned drained = 0;
    for (unsigned c = 0; c < MID_NUM_CLASSES; c++) {
        mid_class_pool *pool = &g_mid[c];
        if (!__atomic_load_n(&pool->nchains, __ATOMIC_RELAXED)) continue;
        hak_lock(mid_lock(c));
        for (unsigned i = 0; i < pool->nchains; i++) mid_free_chain_locked(pool, c, pool->chain[i].head);
        drained += pool->nchains;
        __atomic_sub_fetch(&g_mid_chain_bytes, (size_t)pool->cached * mid_class_size(c),
                           __ATOMIC_RELAXED);
        pool->cached = 0;
        __atomic_store_n(&pool->nchains, 0, __ATOMIC_RELAXED);
        hak_unlock(mid_lock(c));
    }
    return drained;
}

size_t hak_mid_cached_bytes(void) { return __atomic_load_n(&g_mid_chain_bytes, __ATOMIC_RELAXED); }

/* The thread's bins back to their runs, and the cached chains with them (as Tiny's
 * transfer caches: a program whose threads are gone keeps no Mid blocks cached). */
static void mid_thread_exit(void) {
    for (unsigned c = 0; c < MID_NUM_CLASSES; c++) {
        uint32_t n;
        void *chain = hak_bin_split(&t_hak_mid_bins[c], 0, &n);
        t_hak_mid_bins[c].cap = 0;
        if (n) mid_free_chain(c, chain);
    }
    (void)mid_chains_drain();
}

/* Cached chains back to their runs, every warm segment unmapped, and the idle
 * spans of open segments decommitted (under the segment lock, which keeps them free
 * meanwhile: a rare path).  Returns chains drained plus segments unmapped: non-zero
 * when a refill that failed may now find room. */
static unsigned mid_reclaim(void) {
    unsigned drained = mid_chains_drain();       /* their runs may now have room */
    hak_lock(&g_mid_seg.lock);
    for (hak_mid_segment *o = g_mid_seg.open; o; o = o->next) mid_decommit_idle(o);
    hak_mid_segment *s = g_mid_seg.head;
    hak_assert(g_mid_seg.idle == 0);
    g_mid_seg.head = g_mid_seg.tail = NULL;
    g_mid_seg.n = 0;
    hak_unlock(&g_mid_seg.lock);
    unsigned released = 0;
    while (s) {
        hak_mid_segment *next = s->next;
        mid_segment_unmap(s);
        released++;
        s = next;
    }
    return released + drained;
}

static void mid_fork_prepare(void) {
    for (unsigned i = 0; i < MID_LOCKS; i++) hak_lock(&g_mid_lock[i]);
    hak_lock(&g_mid_seg.lock);
}
static void mid_fork_parent(void) {
    hak_unlock(&g_mid_seg.lock);
    for (unsigned i = MID_LOCKS; i-- > 0;) hak_unlock(&g_mid_lock[i]);
}
static void mid_fork_child(void) { mid_fork_parent(); }

const hak_layer hak_mid_layer = {
    .name = "mid",
    .thread_init = mid_thread_init,
    .thread_exit = mid_thread_exit,
    .reclaim = mid_reclaim,         /* unmap warm segments, decommit idle spans */
    .fork_prepare = mid_fork_prepare,
    .fork_parent = mid_fork_parent,
    .fork_child = mid_fork_child,
};
