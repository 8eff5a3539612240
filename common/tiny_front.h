/**
 * tiny_front.h - the Tiny front: one TLS bin per Tiny class (8 B .. 1 KiB).
 *
 * Fast paths are a TLS pop / push with one unlikely branch each to a noinline slow
 * path in tiny_front.c (refill from / flush to the phase's Tiny SuperSlab pool).
 */
#ifndef TINY_FRONT_H
#define TINY_FRONT_H

#include "hak_config.h"
#include "hak_size_class.h"
#include "hak_life.h"
#include "hak_slab.h"
#include "hak_stats.h"
#include "hak_tls.h"

extern HAK_TLS hak_tls_bin t_hak_tiny_bins[TINY_NUM_CLASSES];

void *hak_tiny_alloc_slow(unsigned c) HAK_NOINLINE;
void hak_tiny_free_slow(void *p, unsigned c) HAK_NOINLINE;

/* Allocate a block of Tiny class c. */
HAK_INLINE void *tiny_alloc_class(unsigned c) {
    hak_tls_bin *b = &t_hak_tiny_bins[c];
    void *p = b->head;
    if (hak_unlikely(p == NULL)) return hak_tiny_alloc_slow(c);
    b->head = *(void **)p;
    b->count--;
    HAK_STAT_HOT_INC(tiny[c].allocs);
    HAK_STAT_HOT_INC(tiny[c].tls_hits);
    hak_blk_mark_alloc(p, c + TINY_MIN_SHIFT);
    return p;
}

HAK_INLINE void *tiny_alloc(size_t n) { return tiny_alloc_class(tiny_size_to_class(n)); }

/* Free a block of Tiny class c whose state free() already flipped to FREE. */
HAK_INLINE void tiny_free(void *p, unsigned c) {
    hak_tls_bin *b = &t_hak_tiny_bins[c];
    HAK_STAT_HOT_INC(tiny[c].frees);
    if (hak_unlikely(b->count >= b->cap)) { hak_tiny_free_slow(p, c); return; }
    hak_bin_push(b, p);
}

#endif /* TINY_FRONT_H */
