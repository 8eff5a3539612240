/**
 * tiny_front.c - Tiny front slow paths: refill a TLS bin, flush an overflowing one.
 *
 * Transfer cache (tcmalloc's idea): a flushed half-bin goes, as one chain, to a small
 * per-class stack of chains, and an empty bin takes a whole chain from there before
 * it asks the phase's SuperSlab pool.  The blocks stay "out of their slab" (state
 * ALLOC, free key set, counted in `used`), so moving a chain costs one lock round
 * trip and no per-block work; it is what a producer/consumer pair needs.  At most
 * TINY_TC_CHAINS chains per class; beyond, flushes go to the slabs.  Thread exit and
 * reclaim drain the cache to the slabs, so memory still goes back.
 * Lock: g_tiny_tc[c].lock guards the class's stack; nothing else is taken under it.
 */
#include "tiny_front.h"
#include "hak_backend.h"
#include "hak_front.h"
#include "hak_life.h"
#include "hak_lock.h"

#include <errno.h>

#ifndef TINY_TC_CHAINS
#define TINY_TC_CHAINS 16
#endif

typedef struct tiny_transfer {
    hak_lock_t lock;
    unsigned n;                                   /* chains on the stack */
    struct { void *head; uint32_t count; } chain[TINY_TC_CHAINS];
} tiny_transfer;

static tiny_transfer g_tiny_tc[TINY_NUM_CLASSES] = {
#define T { .lock = HAK_LOCK_INITIALIZER }
    T, T, T, T, T, T, T,
#undef T
};

/* Pop a chain of class c into *head; its length, 0 when the stack is empty. */
static uint32_t tc_pop(unsigned c, void **head) {
    tiny_transfer *t = &g_tiny_tc[c];
    uint32_t n = 0;
    if (!__atomic_load_n(&t->n, __ATOMIC_RELAXED)) return 0;    /* racy peek: a hint */
    hak_lock(&t->lock);
    if (t->n) {
        t->n--;
        *head = t->chain[t->n].head;
        n = t->chain[t->n].count;
    }
    hak_unlock(&t->lock);
    return n;
}

/* Push a chain of n blocks of class c; 0 when the stack is full. */
static int tc_push(unsigned c, void *head, uint32_t n) {
    tiny_transfer *t = &g_tiny_tc[c];
    int ok = 0;
    hak_lock(&t->lock);
    if (t->n < TINY_TC_CHAINS) {
        t->chain[t->n].head = head;
        t->chain[t->n].count = n;
        t->n++;
        ok = 1;
    }
    hak_unlock(&t->lock);
    return ok;
}

/* Every cached chain back to the slabs; returns how many chains. */
static unsigned tc_drain(void) {
    unsigned total = 0;
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) {
        void *head;
        uint32_t n;
        while ((n = tc_pop(c, &head)) != 0) {
            hak_tiny_backend_free_chain(c, head, n);
            total++;
        }
    }
    return total;
}

/* TLS capacity per class; a refill brings cap/2 blocks, an overflow returns cap/2. */
static const uint16_t tiny_tls_cap[TINY_NUM_CLASSES] = { 128, 128, 128, 128, 128, 64, 64 };

static void tiny_thread_init(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) t_hak_bins[HAK_BIN_TINY + c].cap = tiny_tls_cap[c];
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
    unsigned want = b->cap ? b->cap / 2 : 1;     /* dead thread: one block, no caching */
    void *head = NULL, **tail = &head;
    unsigned n = b->cap ? tc_pop(c, &head) : 0;
    if (n) {                                     /* a whole chain from the cache */
        HAK_STAT_SLOW_ADD(tiny[c].refills, 1);
        HAK_STAT_SLOW_ADD(tiny[c].refill_blocks, n);
        HAK_STAT_HOT_INC(tiny[c].allocs);
        void *p = head;
        b->head = *(void **)p;
        b->count = (uint16_t)(n - 1);
        HAK_KEY(p) = 0;
        return p;
    }
    n = hak_tiny_backend_refill(c, &tail, want);
    if (hak_unlikely(n == 0) && hak_reclaim()) n = hak_tiny_backend_refill(c, &tail, want);
    *tail = NULL;
    if (hak_unlikely(n == 0)) { errno = ENOMEM; return NULL; }
    HAK_STAT_SLOW_ADD(tiny[c].refills, 1);
    HAK_STAT_SLOW_ADD(tiny[c].refill_blocks, n);
    HAK_STAT_HOT_INC(tiny[c].allocs);
    void *p = head;
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
    uint32_t n;
    void *chain = hak_bin_split(b, b->cap / 2, &n);
    HAK_STAT_SLOW_ADD(tiny[c].flushes, 1);
    HAK_STAT_SLOW_ADD(tiny[c].flush_blocks, n);
    if (!tc_push(c, chain, n)) hak_tiny_backend_free_chain(c, chain, n);
}

static unsigned tiny_front_reclaim(void) { return tc_drain(); }
static void tiny_front_lock_all(void) {
    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++) hak_lock(&g_tiny_tc[c].lock);
}
static void tiny_front_unlock_all(void) {
    for (unsigned c = TINY_NUM_CLASSES; c-- > 0;) hak_unlock(&g_tiny_tc[c].lock);
}

const hak_layer hak_tiny_front_layer = {
    .name = "tiny front",
    .thread_init = tiny_thread_init,
    .thread_exit = tiny_thread_exit,
    .reclaim = tiny_front_reclaim,
    .fork_prepare = tiny_front_lock_all,
    .fork_parent = tiny_front_unlock_all,
    .fork_child = tiny_front_unlock_all,
};
