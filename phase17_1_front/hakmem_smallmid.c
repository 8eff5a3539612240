/**
 * hakmem_smallmid.c - Small-Mid Front Box implementation (Phase 17-1).
 *
 * Strategy (the seed's): a thin front with TLS freelists for 256 B / 512 B / 1 KiB
 * whose backend is the existing Tiny SuperSlab pool, to measure whether a
 * dedicated front helps 256 B - 1 KiB before building a dedicated backend.
 */
#include "hakmem_smallmid.h"
#include "hak_front.h"
#include "hak_backend.h"
#include "hak_options.h"

#include <errno.h>


static const uint32_t smallmid_tls_capacity[SMALLMID_NUM_CLASSES] = {
    SMALLMID_TLS_CAP_256B, SMALLMID_TLS_CAP_512B, SMALLMID_TLS_CAP_1KB,
};

/* HAKMEM_SMALLMID_ENABLE=1: this front serves every request whose block is a
 * Small-Mid size - 129..1024 B, all rounded up to 256 / 512 / 1024 B (the seed
 * routed 129..255 to Tiny) - and takes back every block of those sizes: its blocks
 * are Tiny blocks (tags 0xa0|7, 9, 11), so a freed 256 B block cannot tell which
 * front it came from, and both fronts agree on the owner only if this one owns all
 * of them.  Tiny's 192, 384 and 768 B classes get no request in this mode. */
static void smallmid_init(void) {
    if (hak_option(HAK_OPT_SMALLMID_ENABLE) != 1) return;
    hak_front_route_sizes(129, 256, HAK_BIN_SMALLMID + 0);
    hak_front_route_sizes(257, 512, HAK_BIN_SMALLMID + 1);
    hak_front_route_sizes(513, 1024, HAK_BIN_SMALLMID + 2);
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++)
        hak_front_route_tag(HAK_TAG_TINY | SMALLMID_TINY_CLASS(c), HAK_BIN_SMALLMID + c);
}

static void smallmid_thread_init(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++)
        t_hak_bins[HAK_BIN_SMALLMID + c].cap = smallmid_tls_capacity[c];
}

/* Phase 17-1 backend: one block from the Tiny class of the same size. */
static void *smallmid_backend_alloc(unsigned c) {
    void *blk = NULL, **tail = &blk;
    if (hak_tiny_backend_refill(SMALLMID_TINY_CLASS(c), &tail, 1) == 0) return NULL;
    *tail = NULL;
    return blk;
}

static void smallmid_backend_free(void *p, unsigned c) {
    *(void **)p = NULL;
    hak_tiny_backend_free_chain(SMALLMID_TINY_CLASS(c), p, 1);
}

void *hak_smallmid_alloc_slow(unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
    if (b->head) return hak_front_pop(HAK_BIN_SMALLMID + c);
    HAK_STAT_SLOW_ADD(smallmid[c].tls_misses, 1);
    void *p = smallmid_backend_alloc(c);              /* smallmid_tls_refill: 1 block */
    if (hak_unlikely(p == NULL) && hak_reclaim()) p = smallmid_backend_alloc(c);
    if (hak_unlikely(p == NULL)) { errno = ENOMEM; return NULL; }
    HAK_STAT_SLOW_ADD(smallmid[c].refills, 1);
    HAK_STAT_SLOW_ADD(smallmid[c].refill_blocks, 1);
    HAK_STAT_HOT_INC(smallmid[c].allocs);
    HAK_KEY(p) = 0;                                  /* in the user's hands now */
    return p;
}

void hak_smallmid_free_slow(void *p, unsigned c) {
    if (t_hak_thread_state == HAK_THREAD_NEW) hak_thread_init();
    hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
    if (b->count < b->cap) { hak_bin_push(b, p); return; }
    /* TLS full: unlike the seed (which leaked it), return the block to Tiny. */
    HAK_STAT_SLOW_ADD(smallmid[c].flushes, 1);
    HAK_STAT_SLOW_ADD(smallmid[c].flush_blocks, 1);
    smallmid_backend_free(p, c);
}

static void smallmid_thread_exit(void) {
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) {
        hak_tls_bin *b = &t_hak_bins[HAK_BIN_SMALLMID + c];
        uint32_t n;
        void *chain = hak_bin_split(b, 0, &n);
        b->cap = 0;
        if (n) hak_tiny_backend_free_chain(SMALLMID_TINY_CLASS(c), chain, n);
    }
}

const hak_layer hak_smallmid_front_layer = {
    .name = "smallmid front",
    .init = smallmid_init,
    .thread_init = smallmid_thread_init,
    .thread_exit = smallmid_thread_exit,
};
