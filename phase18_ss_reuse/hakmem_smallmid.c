/**
 * hakmem_smallmid.c - Small-Mid allocator front (Phase 18 SS-Reuse).
 *
 * Strategy (the seed's): the Phase 17-1 TLS front, refilled in batches from the
 * Small-Mid SuperSlab backend; an overflowing TLS list now returns its older half
 * to the slabs (17-2 lost those blocks).
 */
#include "hakmem_smallmid.h"
#include "hak_front.h"
#include "hakmem_smallmid_superslab.h"
#include "hak_backend.h"
#include "hak_options.h"
#include "hak_transfer.h"

#include <errno.h>


static const uint32_t smallmid_tls_capacity[SMALLMID_NUM_CLASSES] = {
    SMALLMID_TLS_CAP_256B, SMALLMID_TLS_CAP_512B, SMALLMID_TLS_CAP_1KB,
};

/* HAKMEM_SMALLMID_ENABLE=1: requests of 256..1024 B (the seed's range) come here;
 * blocks carry their own tags 0xb0|class, which the small front routes back here
 * (hak_front.c's default). */
static void smallmid_init(void) {
    if (hak_option(HAK_OPT_SMALLMID_ENABLE) != 1) return;
    hak_front_route_sizes(256, 256, HAK_BIN_SMALLMID + 0);
    hak_front_route_sizes(257, 512, HAK_BIN_SMALLMID + 1);
    hak_front_route_sizes(513, 1024, HAK_BIN_SMALLMID + 2);
}

static void smallmid_thread_init(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++)
        t_hak_bins[HAK_BIN_SMALLMID + c].cap = smallmid_tls_capacity[c];
}

static const int smallmid_refill_batch_size[SMALLMID_NUM_CLASSES] = {
    SMALLMID_REFILL_BATCH_256B, SMALLMID_REFILL_BATCH_512B, SMALLMID_REFILL_BATCH_1KB,
};

/* smallmid_tls_refill: one batch from the Small-Mid SuperSlabs (a thread's first
 * three bring 1/8, 1/4, 1/2 of it: the Tiny front's slow start); the first block is
 * returned, the rest pushed on the TLS list (in order, so they pop in address order). */
static void *smallmid_tls_refill(unsigned c) {
    void *batch[SMALLMID_REFILL_BATCH_MAX];
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
    uint32_t got;
    void *chain = b->cap ? hak_transfer_refill(HAK_BIN_SMALLMID + c, &got) : NULL;
    if (chain) {                 /* a half-bin another thread flushed (hak_transfer.h) */
        HAK_STAT_SLOW_ADD(smallmid[c].refills, 1);
        HAK_STAT_SLOW_ADD(smallmid[c].refill_blocks, got);
        return chain;
    }
    /* the first batches of a thread ramp up (hak_bin_refill_want); exiting thread: 1 */
    int max = b->cap ? (int)hak_bin_refill_want(b, (unsigned)smallmid_refill_batch_size[c]) : 1;
    int n = hak_smallmid_refill_batch((int)c, batch, max);
    if (n == 0) return NULL;
    HAK_STAT_SLOW_ADD(smallmid[c].refills, 1);
    HAK_STAT_SLOW_ADD(smallmid[c].refill_blocks, n);
    for (int i = n - 1; i >= 1; i--) hak_bin_push(b, batch[i]);
    return batch[0];
}

void *hak_smallmid_alloc_slow(unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
    if (b->head) return hak_front_pop(HAK_BIN_SMALLMID + c);
    HAK_STAT_SLOW_ADD(smallmid[c].tls_misses, 1);
    void *p = smallmid_tls_refill(c);
    if (hak_unlikely(p == NULL) && hak_reclaim()) p = smallmid_tls_refill(c);
    if (hak_unlikely(p == NULL)) { errno = ENOMEM; return NULL; }
    HAK_STAT_HOT_INC(smallmid[c].allocs);
    HAK_KEY(p) = 0;                                  /* in the user's hands now */
    return p;
}

void hak_smallmid_free_slow(void *p, unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
    if (b->count < b->cap) { hak_bin_push(b, p); return; }
    if (b->cap == 0) {                    /* exiting thread: straight back */
        *(void **)p = NULL;
        hak_smallmid_superslab_free_chain(c, p);
        return;
    }
    /* TLS full (the seed's TODO, Phase 17-2.1, done): the older half of the list goes,
     * in one chain, to the transfer cache or else back to its slabs' freelists - one
     * lock round trip either way. */
    hak_bin_push(b, p);
    uint32_t n;
    void *chain = hak_bin_split(b, b->cap / 2, &n);
    HAK_STAT_SLOW_ADD(smallmid[c].flushes, 1);
    HAK_STAT_SLOW_ADD(smallmid[c].flush_blocks, n);
    if (!hak_transfer_push(HAK_BIN_SMALLMID + c, chain, n)) hak_smallmid_superslab_free_chain(c, chain);
}

/* The transfer cache's chains back to their slabs; how many chains. */
static void smallmid_chain_home(unsigned c, void *chain, unsigned n) {
    (void)n;                                       /* the chain is NULL-terminated */
    hak_smallmid_superslab_free_chain(c, chain);
}
static unsigned smallmid_transfer_drain(void) {
    return hak_transfer_drain(HAK_BIN_SMALLMID, SMALLMID_NUM_CLASSES, smallmid_chain_home);
}

/* Thread exit: the TLS blocks go back to their slabs' freelists. */
static void smallmid_thread_exit(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) {
        hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
        uint32_t n;
        void *chain = hak_bin_split(b, 0, &n);
        b->cap = 0;
        if (n) hak_smallmid_superslab_free_chain(c, chain);
    }
    (void)smallmid_transfer_drain();
}

const hak_layer hak_smallmid_front_layer = {
    .name = "smallmid front",
    .init = smallmid_init,
    .thread_init = smallmid_thread_init,
    .reclaim = smallmid_transfer_drain,
    .thread_exit = smallmid_thread_exit,
};
