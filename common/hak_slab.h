/**
 * hak_slab.h - SuperSlab and slab metadata, block states, pointer validation.
 *
 * The layout (hak_geometry.h) and the per-block state bytes are the same in every
 * phase; how slabs are pooled, refilled and recycled is the phase's SuperSlab backend.
 */
#ifndef HAK_SLAB_H
#define HAK_SLAB_H

#include "hak_config.h"
#include "hak_geometry.h"
#include "hak_size_class.h"
#include "hak_block.h"
#include "hak_front.h"

/**
 * hak_slab_meta - one 64 KiB slab of one class (the seed's SmallMidSlabMeta).
 *
 * Invariants (hak_slab_check, DEBUG builds):
 *   carved <= capacity;  used + |freelist| == carved
 *   used = blocks out of the slab: in user hands or on some thread's TLS list
 *   state byte of block i (the byte of its first granule): NEVER iff i >= carved;
 *   ALLOC iff out of the slab, FREE iff on the freelist (written by hak_slab_take /
 *   hak_slab_give only); the bytes of a block's other granules stay NEVER
 * Writers: every field is written under the lock of the pool that owns the slab;
 *   tag, shift and size are written when the slab is assigned, before any block of
 *   it is handed out, and read without the lock by free() (they stay valid while a
 *   block of the slab is allocated).
 */
typedef struct hak_slab_meta {
    void *freelist;                  /* pool lock: freed blocks, linked by word 0   */
    uint16_t capacity;               /* blocks that fit in the slab                 */
    uint16_t carved;                 /* pool lock: bump index                       */
    uint16_t used;                   /* pool lock: blocks out of the slab           */
    uint8_t tag;                     /* 0xa0|c Tiny, 0xb0|c Small-Mid, HAK_TAG_NONE */
    uint8_t shift;                   /* log2 of the block granule                   */
    struct hak_slab_meta *next;      /* pool lock: phase's per-class slab list      */
    struct hak_slab_meta *prev;
    uint32_t list_flags;             /* pool lock: which phase list holds it        */
    uint16_t idx;                    /* slab index in its SuperSlab (constant)      */
    uint16_t size;                   /* block size                                  */
} hak_slab_meta;

#define HAK_SS_MAGIC 0x5353484bu     /* "KHSS" */

/**
 * hak_superslab - header at the base of every small SuperSlab (the seed's
 * SmallMidSuperSlab).  Registered as HAK_REG_SMALL for its 1 MiB chunk.
 * Writers: magic/pool at creation; the rest under the owning pool's lock.
 * magic is checked (DEBUG builds) wherever a registry entry leads to a header.
 */
typedef struct hak_superslab {
    uint32_t magic;
    uint8_t pool;                    /* phase-defined pool id                       */
    uint8_t nassigned;               /* slabs assigned to a class                   */
    struct hak_superslab *next;      /* pool lock: phase SuperSlab list             */
    struct hak_superslab *prev;
    hak_slab_meta slabs[SLABS_PER_SS];
} hak_superslab;

_Static_assert(sizeof(hak_superslab) <= SLAB_HDR_RESERVE, "SuperSlab header exceeds reserve");
_Static_assert(SLAB_CAPACITY(SLAB_MIN_SHIFT, TINY_MIN_SIZE) < 65536, "capacity fits uint16_t");

/* SLAB_BLOCKS_OFF(shift) by shift (hak_slab.c), for the free path's range check. */
extern const uint16_t hak_slab_blocks_off[SLAB_MAX_SHIFT + 1];

HAK_INLINE hak_superslab *hak_ss_from_ptr(const void *p) {
    hak_superslab *ss = (hak_superslab *)hak_ss_of(p);
    hak_assert(ss->magic == HAK_SS_MAGIC);
    return ss;
}
HAK_INLINE hak_slab_meta *hak_meta_from_ptr(const void *p) {
    return &hak_ss_from_ptr(p)->slabs[hak_slab_idx(p)];
}
HAK_INLINE uintptr_t hak_meta_base(const hak_slab_meta *m) {
    return hak_ss_of(m) + ((uintptr_t)m->idx << SLAB_SHIFT);
}
HAK_INLINE uint8_t *hak_blk_state(const void *p, unsigned shift) {
    return (uint8_t *)(hak_slab_base(p) + SLAB_STATE_OFF + (hak_slab_off(p) >> shift));
}

/* Map, initialise and register a SuperSlab for a phase pool (pool id is the phase's).
 * Returns NULL (errno ENOMEM) when the OS or the registry has no memory. */
hak_superslab *hak_superslab_new(unsigned pool);
/* Initialise and register a SuperSlab at base (SS_SIZE-aligned, SS_SIZE bytes of a
 * mapping the caller made with hak_os_map(.., HAK_OS_SUPERSLAB)).  NULL when the
 * registry has no memory; the caller then unmaps. */
hak_superslab *hak_superslab_init(void *base, unsigned pool);
/* Unregister (tombstone) and unmap a SuperSlab none of whose blocks is out. */
void hak_superslab_release(hak_superslab *ss);

/* ---- slab-level operations, under the owning pool's lock (hak_slab.c) ---- */

/* Assign a slab no class owns (tag HAK_TAG_NONE) to the class of `tag`: tag, shift,
 * size, capacity; carved = used = 0. */
void hak_slab_assign(hak_slab_meta *m, unsigned tag);
/* A slab whose blocks are all back (used == 0) leaves its class: its tag becomes
 * HAK_TAG_NONE, so a stale pointer into it is rejected until a class takes it
 * again.  shift / capacity / carved and the state bytes keep the last owner's
 * layout, so such a pointer is still named a double free when it is one;
 * hak_slab_assign clears them for the next owner. */
void hak_slab_reset(hak_slab_meta *m);
/* free() of p in slab m whose tag is HAK_TAG_NONE: a block the last owner handed
 * out and got back (FREE in its layout) is a double free; anything else is memory
 * hakmem holds unused.  Aborts. */
void hak_slab_bad_unowned(const hak_slab_meta *m, const void *p, const char *api) HAK_NORETURN HAK_COLD;
/* Take up to max blocks (freelist first, then bump carving) and append them to the
 * chain whose last link is **tail (linked through word 0); *tail is advanced to the
 * new last link.  The caller NULL-terminates.  The blocks leave the slab for a bin:
 * state ALLOC, the free key in word 1 (hak_front.h).  Returns the count; used += count. */
unsigned hak_slab_take(hak_slab_meta *m, void ***tail, unsigned max);
/* The same, from blocks that came back only (no carving): the freelist of `own`
 * (the caller's owned slab, or NULL), then those of the slabs at the head of a
 * partial list (flag: the list's list_flags bit) while the head has one; a slab
 * left with no room leaves the list.  A backend's refill calls this before it
 * carves: carving touches new pages while freed blocks wait on other slabs. */
unsigned hak_slab_take_returned(hak_slab_meta *own, hak_slab_meta **partial, uint32_t flag,
                                void ***tail, unsigned max);
/* Return one block (out of the slab: ALLOC, from a bin) to its slab's freelist:
 * state FREE; used -= 1. */
HAK_INLINE void hak_slab_give(hak_slab_meta *m, void *p) {
    hak_assert(*hak_blk_state(p, m->shift) == HAK_BLK_ALLOC);
    __atomic_store_n(hak_blk_state(p, m->shift), (uint8_t)HAK_BLK_FREE, __ATOMIC_RELAXED);
    *(void **)p = m->freelist;
    m->freelist = p;
    hak_assert(m->used > 0);
    m->used--;
}
HAK_INLINE int hak_slab_has_room(const hak_slab_meta *m) {
    return m->freelist != NULL || m->carved < m->capacity;
}
/* Intrusive doubly-linked slab lists (a phase's per-class "partial" list and the
 * like), under the owning pool's lock.  list_flags says which list holds a slab. */
HAK_INLINE void hak_slab_list_push(hak_slab_meta **head, hak_slab_meta *m, uint32_t flag) {
    hak_assert(!(m->list_flags & flag));
    m->prev = NULL;
    m->next = *head;
    if (*head) (*head)->prev = m;
    *head = m;
    m->list_flags |= flag;
}
HAK_INLINE void hak_slab_list_remove(hak_slab_meta **head, hak_slab_meta *m, uint32_t flag) {
    hak_assert(m->list_flags & flag);
    if (m->prev) m->prev->next = m->next; else *head = m->next;
    if (m->next) m->next->prev = m->prev;
    m->next = m->prev = NULL;
    m->list_flags &= ~flag;
}

/* Block size of a slab tag's class; 0 for HAK_TAG_NONE (a slab no class owns). */
HAK_INLINE size_t hak_tag_size(unsigned tag) {
    switch (tag & HAK_TAG_KIND_MASK) {
    case HAK_TAG_TINY:     return tiny_class_size(tag & HAK_TAG_CLASS_MASK);
    case HAK_TAG_SMALLMID: return smallmid_class_size(tag & HAK_TAG_CLASS_MASK);
    default:               return 0;
    }
}
/* Granule shift of a slab tag's class (hak_size_class.h); 0 for HAK_TAG_NONE. */
HAK_INLINE unsigned hak_tag_shift(unsigned tag) {
    size_t size = hak_tag_size(tag);
    return size ? (unsigned)__builtin_ctzll((unsigned long long)size) : 0u;
}

/* DEBUG builds: walk the freelist and the state bytes, abort on a broken invariant. */
void hak_slab_check(const hak_slab_meta *m);

#endif /* HAK_SLAB_H */
