/**
 * tiny_front.c - Tiny front slow paths: refill a TLS bin, flush an overflowing one.
 *
 * A flushed half-bin goes to the bin's transfer cache (hak_transfer.h) first, and an
 * empty bin takes a whole chain from there before it asks the phase's Tiny pool.
 */
#include "tiny_front.h"
#include "hak_backend.h"
#include "hak_front.h"
#include "hak_life.h"
#include "hak_options.h"
#include "hak_transfer.h"

#include <errno.h>

/* Every cached chain back to the slabs; returns how many chains. */
static unsigned tc_drain(void) {
    return hak_transfer_drain(HAK_BIN_TINY, TINY_NUM_CLASSES, hak_tiny_backend_free_chain);
}

/* TLS capacity per class: a thread's bin starts at half the base (one transfer chain;
 * a thread that only ever takes a few blocks of a class, or only frees it, never
 * holds a base of them) and adapts (hak_bin_adapt): two-way traffic grows it up to
 * max, one-way traffic shrinks it back to the base - or, in a bin that never saw
 * both, to half the base (a producer) or a quarter (a consumer).  A refill from the
 * backend brings cap/2 blocks; a full bin keeps about cap/2 and hands the rest to the
 * transfer cache in chains of base/2, or of its cap when that is less (a consumer's:
 * shorter chains are fewer blocks held on both sides), so any thread's bin can take
 * any chain.  16 .. 256 B: 32 .. 512 blocks (0.5 .. 128 KiB per bin); 384 B .. 1 KiB:
 * 16 .. 256 (6 .. 256 KiB). */
static const uint16_t tiny_tls_cap[TINY_NUM_CLASSES] = {
    128, 128, 128, 128, 128, 128, 128, 128, 64, 64, 64, 64,
};
static const uint16_t tiny_tls_cap_max[TINY_NUM_CLASSES] = {
    512, 512, 512, 512, 512, 512, 512, 512, 256, 256, 256, 256,
};

/* What a thread's Tiny bins may hold in all, cap x block size summed over the
 * classes: HAKMEM_TINY_CACHE KiB (512).  The bases add up to 272 KiB; a bin grows
 * above its base only into the budget's rest, and a bin below its base (one-way
 * traffic) lends nothing: it may always grow back to its base.  A budget of 272 KiB
 * or less keeps every bin at or below its base. */
#define TINY_TLS_BUDGET ((uint32_t)hak_option(HAK_OPT_TINY_CACHE) << 10)
static HAK_TLS uint32_t t_tiny_extra_bytes;

static uint32_t tiny_bases_bytes(void) {
    uint32_t sum = 0;
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++)
        sum += tiny_tls_cap[c] * (uint32_t)tiny_class_size(c);
    return sum;
}
static uint32_t tiny_above_base(unsigned c, unsigned cap) {
    return cap > tiny_tls_cap[c] ? (cap - tiny_tls_cap[c]) * (uint32_t)tiny_class_size(c) : 0;
}

/* Invariant (owner thread): t_tiny_extra_bytes == sum over the Tiny bins of
 * (cap - base) x size where cap > base, <= TINY_TLS_BUDGET - the bases (0 when the
 * budget is below them), and every cap is at least base/4 while the thread runs
 * (its bins' caps are 0 once it exits) - so the caps x sizes stay within
 * max(TINY_TLS_BUDGET, the bases). */
#if HAKMEM_DEBUG
static int tiny_budget_ok(void) {
    uint32_t extra = 0, budget = TINY_TLS_BUDGET, bases = tiny_bases_bytes();
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) {
        unsigned cap = t_hak_bins[HAK_BIN_TINY + c].cap;
        if (cap < tiny_tls_cap[c] / HAK_BIN_FREE_ONLY_DIV) return 0;
        extra += tiny_above_base(c, cap);
    }
    return extra == t_tiny_extra_bytes && extra <= (budget > bases ? budget - bases : 0);
}
#endif
/* hak_bin_adapt for Tiny class c (full: 1 on a flush, 0 on a refill) within the
 * thread's budget. */
static void tiny_adapt(hak_tls_bin *b, unsigned c, int full) {
    const unsigned size = (unsigned)tiny_class_size(c), old = b->cap, base = tiny_tls_cap[c];
    const uint32_t budget = TINY_TLS_BUDGET, used = tiny_bases_bytes() + t_tiny_extra_bytes;
    unsigned room = budget > used ? (budget - used) / size : 0;
    unsigned max = (old > base ? old : base) + room;
    if (max > tiny_tls_cap_max[c]) max = tiny_tls_cap_max[c];
    unsigned cap = hak_bin_adapt(b, full, base, max);
    t_tiny_extra_bytes = t_tiny_extra_bytes - tiny_above_base(c, old) + tiny_above_base(c, cap);
    hak_assert_expensive(tiny_budget_ok());
}

static void tiny_thread_init(void) {
    t_tiny_extra_bytes = 0;
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) t_hak_bins[HAK_BIN_TINY + c].cap = tiny_tls_cap[c] / 2u;
}

static void tiny_thread_exit(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) {
        hak_tls_bin *b = &t_hak_bins[HAK_BIN_TINY + c];
        uint32_t n;
        void *chain = hak_bin_split(b, 0, &n);
        b->cap = 0;
        if (n) hak_tiny_backend_free_chain(c, chain, n);
    }
    (void)tc_drain();
}

void *hak_tiny_alloc_slow(unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_TINY + c];
    /* Re-entry from hak_thread_init (pthread internals) may have refilled it. */
    if (b->head) return hak_front_pop(HAK_BIN_TINY + c);
    HAK_STAT_SLOW_ADD(tiny[c].tls_misses, 1);
    if (b->cap) tiny_adapt(b, c, 0);
    uint32_t got;
    void *p = b->cap ? hak_transfer_refill(HAK_BIN_TINY + c, &got) : NULL;
    if (p) {                                     /* a whole chain from the cache */
        HAK_STAT_SLOW_ADD(tiny[c].refills, 1);
        HAK_STAT_SLOW_ADD(tiny[c].refill_blocks, got);
        HAK_STAT_HOT_INC(tiny[c].allocs);
        HAK_KEY(p) = 0;
        return p;
    }
    /* dead thread: one block, no caching */
    unsigned want = b->cap ? hak_bin_refill_want(b, b->cap / 2u) : 1;
    void *head = NULL, **tail = &head;
    unsigned n = hak_tiny_backend_refill(c, &tail, want);
    if (hak_unlikely(n == 0) && hak_reclaim()) n = hak_tiny_backend_refill(c, &tail, want);
    *tail = NULL;
    if (hak_unlikely(n == 0)) { errno = ENOMEM; return NULL; }
    HAK_STAT_SLOW_ADD(tiny[c].refills, 1);
    HAK_STAT_SLOW_ADD(tiny[c].refill_blocks, n);
    HAK_STAT_HOT_INC(tiny[c].allocs);
    p = head;
    b->head = *(void **)p;
    b->count += n - 1;
    HAK_KEY(p) = 0;                                  /* in the user's hands now */
    return p;
}

void hak_tiny_free_slow(void *p, unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_TINY + c];
    if (b->count < b->cap) { hak_bin_push(b, p); return; }
    if (b->cap == 0) {                              /* exiting thread: no caching */
        *(void **)p = NULL;
        hak_tiny_backend_free_chain(c, p, 1);
        return;
    }
    hak_bin_push(b, p);
    tiny_adapt(b, c, 1);
    if (b->cap > b->count) return;                  /* it grew */
    /* keep about half the cap; send whole chains of half a base bin (of the cap when
     * that is less: a consumer's), one more when that would keep more than the cap
     * (a cap just halved, or one of a single chain: one-way traffic shrinks a bin to
     * that, and then it keeps a block) */
    const uint32_t batch = b->cap < tiny_tls_cap[c] / 2u ? b->cap : tiny_tls_cap[c] / 2u;
    uint32_t send = (b->count - b->cap / 2u) / batch * batch;
    if (b->count - send > b->cap) send += batch;
    uint32_t n;
    void *chain = hak_bin_split(b, b->count - send, &n);
    HAK_STAT_SLOW_ADD(tiny[c].flushes, 1);
    HAK_STAT_SLOW_ADD(tiny[c].flush_blocks, n);
    for (; n; n -= batch) {
        void *rest = hak_chain_cut(chain, batch);
        if (!hak_transfer_push(HAK_BIN_TINY + c, chain, batch)) {   /* the cache is full */
            hak_tiny_backend_free_chain(c, chain, batch);
            if (n > batch) hak_tiny_backend_free_chain(c, rest, n - batch);
            return;
        }
        chain = rest;
    }
}

static unsigned tiny_front_reclaim(void) { return tc_drain(); }


const hak_layer hak_tiny_front_layer = {
    .name = "tiny front",
    .thread_init = tiny_thread_init,
    .thread_exit = tiny_thread_exit,
    .reclaim = tiny_front_reclaim,
    .fork_prepare = hak_transfer_lock_all,      /* every bin's transfer cache */
    .fork_parent = hak_transfer_unlock_all,
    .fork_child = hak_transfer_unlock_all,
};
