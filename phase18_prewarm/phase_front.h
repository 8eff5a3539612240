/**
 * phase_front.h - Phase 18 SS-Prewarm routing of requests <= 1 KiB (included by hak_api.c).
 *
 * HAKMEM_SMALLMID_ENABLE=1: 256..1024 B go through the Small-Mid allocator, whose
 * blocks carry their own tag (0xb0|class) in slabs of their own, taken from the pool
 * Tiny shares; frees are routed by tag.  Off (default), one predictable branch on a global is the cost.
 */
#ifndef PHASE_FRONT_H
#define PHASE_FRONT_H

#include "hakmem_smallmid.h"
#include "hakmem_smallmid_superslab.h"
#include "tiny_front.h"

HAK_INLINE void *phase_small_alloc(size_t n) {
    if (hak_unlikely(g_hak_smallmid_enabled) && smallmid_is_in_range(n)) return smallmid_alloc(n);
    return tiny_alloc(n);
}

/* p lies in a registered small SuperSlab. */
HAK_INLINE void phase_small_free(void *p, const char *api) {
    hak_slab_meta *m = hak_meta_from_ptr(p);
    unsigned tag = m->tag;
    if (hak_likely((tag & HAK_TAG_KIND_MASK) == HAK_TAG_TINY)) {
        unsigned c = tag & HAK_TAG_CLASS_MASK;
        hak_blk_free_check(p, c + TINY_MIN_SHIFT, api);
        tiny_free(p, c);
        return;
    }
    if ((tag & HAK_TAG_KIND_MASK) == HAK_TAG_SMALLMID) {
        unsigned c = tag & HAK_TAG_CLASS_MASK;
        hak_blk_free_check(p, c + SMALLMID_MIN_SHIFT, api);
        smallmid_free(p, c);
        return;
    }
    hak_slab_bad_unowned(m, p, api);               /* HAK_TAG_NONE: no class owns the slab */
}

#endif /* PHASE_FRONT_H */
