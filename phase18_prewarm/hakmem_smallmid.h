/**
 * hakmem_smallmid.h - Small-Mid allocator (Phase 18 SS-Reuse and SS-Prewarm).
 *
 * The Phase 17-1 front (TLS freelists for 256 B / 512 B / 1 KiB, on only with
 * HAKMEM_SMALLMID_ENABLE=1) over the Small-Mid SuperSlab backend
 * (hakmem_smallmid_superslab.h): batch refill of 16 / 12 / 8 blocks, 0xb0|class
 * tags, no Tiny delegation.  A free that finds the TLS list full sends the older
 * half of the list back to the slabs (17-2 lost the block).
 */
#ifndef HAKMEM_SMALLMID_H
#define HAKMEM_SMALLMID_H

#include "hak_config.h"
#include "hak_life.h"
#include "hak_size_class.h"
#include "hak_slab.h"
#include "hak_stats.h"
#include "hak_tls.h"

/* The seed's TLS capacities. */
#define SMALLMID_TLS_CAP_256B 32
#define SMALLMID_TLS_CAP_512B 24
#define SMALLMID_TLS_CAP_1KB  16

/* Read once at init from HAKMEM_SMALLMID_ENABLE; 0 until then. */
extern int g_hak_smallmid_enabled;
extern HAK_TLS hak_tls_bin t_hak_smallmid_bins[SMALLMID_NUM_CLASSES];

void *hak_smallmid_alloc_slow(unsigned c) HAK_NOINLINE;
void hak_smallmid_free_slow(void *p, unsigned c) HAK_NOINLINE;
/* init (reads HAKMEM_SMALLMID_ENABLE), TLS caps, thread-exit flush. */
extern const hak_layer hak_smallmid_front_layer;

HAK_INLINE void *smallmid_alloc(size_t n) {
    unsigned c = smallmid_size_to_class(n);
    hak_tls_bin *b = &t_hak_smallmid_bins[c];
    void *p = b->head;                                 /* smallmid_tls_pop */
    if (hak_unlikely(p == NULL)) return hak_smallmid_alloc_slow(c);
    b->head = *(void **)p;
    b->count--;
    HAK_STAT_HOT_INC(smallmid[c].allocs);
    HAK_STAT_HOT_INC(smallmid[c].tls_hits);
    hak_blk_mark_alloc(p, c + SMALLMID_MIN_SHIFT);
    return p;
}

/* p is validated and its state already FREE. */
HAK_INLINE void smallmid_free(void *p, unsigned c) {
    hak_tls_bin *b = &t_hak_smallmid_bins[c];            /* smallmid_tls_push */
    HAK_STAT_HOT_INC(smallmid[c].frees);
    if (hak_unlikely(b->count >= b->cap)) { hak_smallmid_free_slow(p, c); return; }
    hak_bin_push(b, p);
}

#endif /* HAKMEM_SMALLMID_H */
