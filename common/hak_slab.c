/**
 * hak_slab.c - slab-level operations shared by every phase's SuperSlab backend.
 */
#include "hak_slab.h"

void hak_bad_free(const char *api, const void *p, uint8_t state) {
    if (state == HAK_BLK_FREE)
        hak_fatal_ptr(api, "double free or use of a freed pointer", p);
    hak_fatal_ptr(api, "invalid pointer (not the start of a hakmem block)", p);
}

void hak_slab_assign(hak_slab_meta *m, unsigned tag, unsigned shift) {
    hak_assert(m->used == 0);
    m->tag = (uint8_t)tag;
    m->shift = (uint8_t)shift;
    m->capacity = (uint16_t)SLAB_CAPACITY(shift);
    m->freelist = NULL;
    m->carved = 0;
    m->used = 0;
}

unsigned hak_slab_take(hak_slab_meta *m, void ***tail, unsigned max) {
    void **link = *tail;
    unsigned n = 0;
    while (n < max && m->freelist) {
        void *b = m->freelist;
        m->freelist = *(void **)b;
        *link = b;
        link = (void **)b;
        n++;
    }
    if (n < max && m->carved < m->capacity) {
        uintptr_t base = hak_meta_base(m);
        uintptr_t bs = (uintptr_t)1 << m->shift;
        uintptr_t blk = base + hak_slab_blocks_off[m->shift] + ((uintptr_t)m->carved << m->shift);
        uint8_t *st = (uint8_t *)(base + SLAB_STATE_OFF + ((blk - base) >> m->shift));
        while (n < max && m->carved < m->capacity) {
            __atomic_store_n(st++, (uint8_t)HAK_BLK_FREE, __ATOMIC_RELAXED);
            *link = (void *)blk;
            link = (void **)blk;
            blk += bs;
            m->carved++;
            n++;
        }
    }
    m->used = (uint16_t)(m->used + n);
    *tail = link;
    return n;
}

void hak_slab_check(const hak_slab_meta *m) {
#if HAKMEM_DEBUG
    unsigned nfree = 0;
    uintptr_t base = hak_meta_base(m);
    for (void *b = m->freelist; b; b = *(void **)b) {
        hak_assert(hak_slab_base(b) == base);
        hak_assert(*hak_blk_state(b, m->shift) == HAK_BLK_FREE);
        nfree++;
        hak_assert(nfree <= m->carved);
    }
    hak_assert(m->carved <= m->capacity);
    hak_assert(m->used + nfree == m->carved);
#else
    (void)m;
#endif
}
