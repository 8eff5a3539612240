/**
 * hak_slab.c - slab-level operations shared by every phase's SuperSlab backend.
 */
#include "hak_slab.h"
#include "hak_os.h"
#include "hak_registry.h"
#include "hak_slabmap.h"
#include "hak_front.h"
#include "hak_track.h"

const uint16_t hak_slab_blocks_off[SLAB_MAX_SHIFT + 1] = {
    [4] = SLAB_BLOCKS_OFF(4), [5] = SLAB_BLOCKS_OFF(5), [6] = SLAB_BLOCKS_OFF(6),
    [7] = SLAB_BLOCKS_OFF(7), [8] = SLAB_BLOCKS_OFF(8), [9] = SLAB_BLOCKS_OFF(9),
    [10] = SLAB_BLOCKS_OFF(10),
};

hak_superslab *hak_superslab_init(void *base, unsigned pool) {
    hak_superslab *ss = base;
    hak_track_defined(ss, SLAB_HDR_RESERVE);
    ss->magic = HAK_SS_MAGIC;
    ss->pool = (uint8_t)pool;
    for (unsigned i = 0; i < SLABS_PER_SS; i++) ss->slabs[i].idx = i;
    if (hak_slabmap_reserve((uintptr_t)ss) != 0) return NULL;
    if (hak_registry_set((uintptr_t)ss, SS_SIZE, ss, HAK_REG_SMALL) != 0) return NULL;
    return ss;
}

hak_superslab *hak_superslab_new(unsigned pool) {
    void *base = hak_os_map(SS_SIZE, SS_SIZE, HAK_OS_SUPERSLAB);
    if (!base) return NULL;
    hak_superslab *ss = hak_superslab_init(base, pool);
    if (!ss) hak_os_unmap(base, SS_SIZE, HAK_OS_SUPERSLAB);
    return ss;
}

void hak_superslab_release(hak_superslab *ss) {
    for (unsigned i = 0; i < SLABS_PER_SS; i++)
        hak_slabmap_write((uintptr_t)ss + ((uintptr_t)i << SLAB_SHIFT), 0);
    hak_registry_release((uintptr_t)ss, SS_SIZE);
    hak_os_unmap(ss, SS_SIZE, HAK_OS_SUPERSLAB);
}

void hak_slab_assign(hak_slab_meta *m, unsigned tag) {
    unsigned shift = hak_tag_shift(tag);
    size_t size = hak_tag_size(tag);
    hak_assert(m->used == 0 && m->tag == HAK_TAG_NONE && size >= ((size_t)1 << shift));
    uintptr_t base = hak_meta_base(m);
    hak_track_defined((void *)(base + SLAB_STATE_OFF), hak_slab_blocks_off[shift] - SLAB_STATE_OFF);
    if (m->shift) {
        /* A slab that had an owner: the new class's state array may hold the old
         * class's state bytes or block data.  All of it back to NEVER - those of
         * positions before the first block too, which free() relies on
         * (hak_front.h) - so a stale pointer of the old class lands on NEVER, FREE
         * or ALLOC of the new class, like any pointer. */
        uint8_t *st = (uint8_t *)(base + SLAB_STATE_OFF);
        for (uintptr_t i = 0; i < SLAB_SIZE >> shift; i++)
            __atomic_store_n(&st[i], (uint8_t)HAK_BLK_NEVER, __ATOMIC_RELAXED);
    }
    m->tag = (uint8_t)tag;
    m->shift = (uint8_t)shift;
    m->size = (uint16_t)size;
    m->capacity = (uint16_t)SLAB_CAPACITY(shift, size);
    m->freelist = NULL;
    m->carved = 0;
    m->used = 0;
    hak_slabmap_write(base, g_hak_tag_route[tag]);   /* last: free() may now route here */
}

void hak_slab_reset(hak_slab_meta *m) {
    hak_assert(m->used == 0 && m->tag != HAK_TAG_NONE);
    hak_slabmap_write(hak_meta_base(m), 0);
    __atomic_store_n(&m->tag, (uint8_t)HAK_TAG_NONE, __ATOMIC_RELAXED);
    m->freelist = NULL;
}

void hak_slab_bad_unowned(const hak_slab_meta *m, const void *p, const char *api) {
    unsigned shift = m->shift;                /* the last owner's, 0 if it never had one */
    uintptr_t off = hak_slab_off(p);
    if (shift && off >= hak_slab_blocks_off[shift] &&
        (off - hak_slab_blocks_off[shift]) % m->size == 0 &&
        (off - hak_slab_blocks_off[shift]) / m->size < m->carved &&
        __atomic_load_n(hak_blk_state(p, shift), __ATOMIC_RELAXED) == HAK_BLK_FREE)
        hak_bad_free(api, p, HAK_BLK_FREE);
    hak_bad_free(api, p, HAK_BLK_UNOWNED);
}

/* Up to max blocks from m's freelist (no carving). */
static unsigned slab_take_free(hak_slab_meta *m, void ***tail, unsigned max) {
    void **link = *tail;
    unsigned n = 0;
    uintptr_t key = g_hak_free_key;
    while (n < max && m->freelist) {
        void *b = m->freelist;
        m->freelist = *(void **)b;
        __atomic_store_n(hak_blk_state(b, m->shift), (uint8_t)HAK_BLK_ALLOC, __ATOMIC_RELAXED);
        HAK_KEY(b) = key;                                       /* in a bin */
        *link = b;
        link = (void **)b;
        n++;
    }
    m->used = (uint16_t)(m->used + n);
    *tail = link;
    return n;
}

unsigned hak_slab_take_returned(hak_slab_meta *own, hak_slab_meta **partial, uint32_t flag,
                                void ***tail, unsigned max) {
    unsigned n = own ? slab_take_free(own, tail, max) : 0;
    hak_slab_meta *m;
    while (n < max && (m = *partial) != NULL && m->freelist) {
        n += slab_take_free(m, tail, max - n);
        if (!hak_slab_has_room(m)) hak_slab_list_remove(partial, m, flag);
    }
    return n;
}

unsigned hak_slab_take(hak_slab_meta *m, void ***tail, unsigned max) {
    unsigned n = slab_take_free(m, tail, max);
    void **link = *tail;
    uintptr_t key = g_hak_free_key;
    if (n < max && m->carved < m->capacity) {
        uintptr_t base = hak_meta_base(m);
        uintptr_t bs = m->size;
        uintptr_t stride = bs >> m->shift;                      /* granules per block */
        const unsigned first = m->carved;
        uintptr_t blk = base + hak_slab_blocks_off[m->shift] + (uintptr_t)m->carved * bs;
        uint8_t *st = (uint8_t *)(base + SLAB_STATE_OFF + ((blk - base) >> m->shift));
        while (n < max && m->carved < m->capacity) {
            __atomic_store_n(st, (uint8_t)HAK_BLK_ALLOC, __ATOMIC_RELAXED);
            st += stride;
            hak_track_undefined((void *)blk, 2 * sizeof(void *));  /* link and key words */
            HAK_KEY(blk) = key;                                     /* in a bin */
            *link = (void *)blk;
            link = (void **)blk;
            blk += bs;
            m->carved++;
            n++;
        }
        m->used = (uint16_t)(m->used + (m->carved - first));
    }
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
