/**
 * hak_tls.h - per-thread free lists (bins).
 *
 * A bin is a LIFO list of free blocks of one class, linked through word 0.
 * Invariant: count == |list| <= cap (owner thread only; no other thread touches it) -
 * except a Mid bin that took a cached chain longer than its cap (hak_mid.c: at most
 * 128 KiB of blocks; its next free flushes it back to cap/2);
 * base/HAK_BIN_FREE_ONLY_DIV <= cap <= max of the bin's front, base/2 <= cap unless the
 * bin has only ever been full, and base <= cap once it has hit both boundaries
 * (hak_bin_adapt).
 * A zeroed bin (a new thread's TLS) has cap 0, so the first push or pop of a thread
 * takes the slow path, which runs hak_thread_init (hak_life.h) and sets the caps.
 * At thread exit the bins are flushed and cap goes back to 0: later frees (other
 * TLS destructors) return blocks straight to the backend instead of stranding them.
 */
#ifndef HAK_TLS_H
#define HAK_TLS_H

#include "hak_config.h"

typedef struct hak_tls_bin {
    void *head;
    uint16_t count;
    uint16_t cap;
    uint16_t mask;           /* small front: block size - 1 (constant, in .tdata)  */
    uint8_t shift;           /* small front: log2 of the block size (constant)     */
    uint8_t slow;            /* slow paths only: HAK_BIN_RAMP / _LAST_FULL / _RUN  */
} hak_tls_bin;

/* The slow-path byte: backend refills so far (slow start, up to HAK_RAMP), which
 * boundary the bin hit last (full: a flush; empty: a refill), how many times in a
 * row it hit that one, and whether it ever hit both (hak_bin_adapt). */
#define HAK_BIN_RAMP      0x03u
#define HAK_BIN_TWO_WAY   0x04u   /* the bin has hit the other boundary than last time */
#define HAK_BIN_RUN       0x30u
#define HAK_BIN_RUN_ONE   0x10u
#define HAK_BIN_HIT       0x40u   /* the bin has hit a boundary since the thread began */
#define HAK_BIN_LAST_FULL 0x80u

/* Slow start (tcmalloc's): a bin's first refills from its backend bring 1/8, 1/4,
 * 1/2 of `full` blocks, later ones all of it - a thread that takes a few blocks of
 * a class touches a page or so of it, not full * size bytes (carving writes every
 * block it hands out).  Refills from a transfer cache take whole chains as they are. */
#define HAK_RAMP 3
_Static_assert(HAK_RAMP <= HAK_BIN_RAMP, "the ramp count fits its bits");
HAK_INLINE unsigned hak_bin_refill_want(hak_tls_bin *b, unsigned full) {
    unsigned ramp = b->slow & HAK_BIN_RAMP;
    unsigned want = full >> (HAK_RAMP - ramp);
    if (ramp < HAK_RAMP) b->slow++;
    return want ? want : 1;
}

/* Adaptive capacity (tcmalloc's thread caches grow their lists the same way): a bin
 * hit a boundary - full (a free found count == cap) or empty (a malloc found it
 * empty).  A bin that hits the other boundary than last time has traffic both ways
 * that swings across its whole range, and every swing costs a transfer (a flush here,
 * a refill on this or another thread, blocks that come back cold): its cap doubles
 * (to the base at least), up to `max`.  A bin that hits the same boundary again,
 * HAK_BIN_SAME_MAX + 1 times in a row, has one-way traffic (a thread that only frees
 * a class, or only allocates it), for which a bigger bin only holds memory: its cap
 * halves, down to `base` - or, if the bin never hit both boundaries, to base/2 when
 * it only runs empty (a producer: a transfer chain, base/2 long, still fits) and to
 * base/4 when it only runs full (a consumer, which the fronts let flush chains as
 * long as its cap: what it holds and what the thread that takes its chains holds are
 * then a quarter base each, not half).  Returns the new cap.  A random walk hits
 * either boundary with even odds, so a two-way bin doubles on about half of its
 * boundaries and halves far less often: it settles at `max` (test_bin_adapt_threads). */
#define HAK_BIN_SAME_MAX 3                     /* repeats the run count holds       */
#define HAK_BIN_FREE_ONLY_DIV 4                /* a consumer's floor: base / 4      */
HAK_INLINE unsigned hak_bin_adapt(hak_tls_bin *b, int full, unsigned base, unsigned max) {
    unsigned slow = b->slow, cap = b->cap;
    int last_full = (slow & HAK_BIN_LAST_FULL) != 0;
    if (!(slow & HAK_BIN_HIT)) {
        slow |= HAK_BIN_HIT;                   /* the first boundary: nothing to compare */
    } else if (last_full != full) {
        slow = (slow & ~HAK_BIN_RUN) | HAK_BIN_TWO_WAY;
        unsigned up = cap * 2 > base ? cap * 2 : base;    /* two-way: the base at least */
        if (cap < max) cap = up < max ? up : max;
    } else if ((slow & HAK_BIN_RUN) == HAK_BIN_SAME_MAX * HAK_BIN_RUN_ONE) {
        slow &= ~HAK_BIN_RUN;
        unsigned min = slow & HAK_BIN_TWO_WAY ? base      /* two-way               */
                     : full ? base / HAK_BIN_FREE_ONLY_DIV    /* only full: a consumer */
                     : base / 2;                              /* only empty: producer  */
        if (cap > min) cap = cap / 2 > min ? cap / 2 : min;
    } else {
        slow += HAK_BIN_RUN_ONE;
    }
    slow = full ? slow | HAK_BIN_LAST_FULL : slow & ~HAK_BIN_LAST_FULL;
    b->slow = (uint8_t)slow;
    b->cap = (uint16_t)cap;
    return cap;
}

/* Push a block onto a bin that has room. */
HAK_INLINE void hak_bin_push(hak_tls_bin *b, void *p) {
    *(void **)p = b->head;
    b->head = p;
    b->count++;
}

/* Cut a NULL-terminated chain after its first k (>= 1) blocks; returns the rest. */
HAK_INLINE void *hak_chain_cut(void *chain, uint32_t k) {
    void *last = chain;
    for (uint32_t i = 1; i < k; i++) last = *(void **)last;
    void *rest = *(void **)last;
    *(void **)last = NULL;
    return rest;
}

/* Detach the older blocks of a bin, keeping the `keep` most recent; returns the
 * detached chain (NULL-terminated) and its length in *n. */
HAK_INLINE void *hak_bin_split(hak_tls_bin *b, uint32_t keep, uint32_t *n) {
    if (b->count <= keep) { *n = 0; return NULL; }
    void *chain;
    if (keep == 0) {
        chain = b->head;
        b->head = NULL;
    } else {
        chain = hak_chain_cut(b->head, keep);
    }
    *n = b->count - keep;
    b->count = (uint16_t)keep;
    return chain;
}

#endif /* HAK_TLS_H */
