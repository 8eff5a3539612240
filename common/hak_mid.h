/**
 * hak_mid.h - the Mid path: 1025 B .. 64 KiB, the same in every phase.
 *
 * 28 classes, every 256 B to 4 KiB, then four per power of two (hak_size_class.h).
 * A Mid segment is a 1 MiB region aligned to 1 MiB serving one class (registered as
 * HAK_REG_MID); blocks start MID_AREA_OFF into it.  Every Mid size is a multiple of
 * 256, so each block start has its own state byte at
 * state[(p - area) >> MID_STATE_SHIFT]: no division anywhere.
 * A thread keeps a small TLS bin per class; bins refill from and flush to the
 * class's segments under the class lock.  A segment whose blocks all come back
 * leaves its class: it goes warm (pages kept) in one list every Mid class takes
 * from before it maps a segment, up to HAKMEM_MID_WARM segments; beyond that the
 * least recently emptied is unmapped.
 */
#ifndef HAK_MID_H
#define HAK_MID_H

#include "hak_config.h"
#include "hak_geometry.h"
#include "hak_size_class.h"
#include "hak_block.h"
#include "hak_life.h"
#include "hak_stats.h"
#include "hak_tls.h"

#define MID_AREA_OFF     ((uintptr_t)1 << 16)                         /* 65536     */
#define MID_AREA_SIZE    (SS_SIZE - MID_AREA_OFF)                      /* 983040    */
#define MID_STATE_SHIFT  8                                             /* 256 B     */
#define MID_STATE_SLOTS  (MID_AREA_SIZE >> MID_STATE_SHIFT)            /* 3840      */
#define MID_SEG_MAGIC    0x4449484bu                                   /* "KHID"    */
#define MID_NO_CLASS     0xffffffffu                                   /* warm      */

/**
 * hak_mid_segment - header at the base of a Mid segment.
 * Invariant: used + |freelist| == carved <= capacity; state slot of block i is NEVER
 * iff i >= carved; ALLOC only while in user hands.  A segment is in its class's
 * partial list (in_partial) while it has room and a block out, in the warm list
 * (cls == MID_NO_CLASS, used == 0) once every block is back, or in neither (full).
 * Writers: class lock for every field except state bytes of blocks out of the
 * segment, which belong to whoever holds the block; the warm lock for next / prev
 * and cls while the segment is warm (no class lock reaches it then).
 */
typedef struct hak_mid_segment {
    uint32_t magic;
    uint32_t cls;
    uint32_t bsize, capacity, carved, used;
    void *freelist;
    struct hak_mid_segment *next, *prev;     /* class's partial list, or warm */
    uint32_t in_partial;
    uint8_t state[MID_STATE_SLOTS];
} hak_mid_segment;

_Static_assert(sizeof(hak_mid_segment) <= MID_AREA_OFF, "Mid header fits before the area");

extern HAK_TLS hak_tls_bin t_hak_mid_bins[MID_NUM_CLASSES];

void *hak_mid_alloc_slow(unsigned c) HAK_NOINLINE;
void hak_mid_free_slow(void *p, unsigned c) HAK_NOINLINE;

HAK_INLINE hak_mid_segment *mid_segment_of(const void *p) {
    hak_mid_segment *s = (hak_mid_segment *)hak_ss_of(p);
    hak_assert(s->magic == MID_SEG_MAGIC);
    return s;
}

HAK_INLINE uint8_t *mid_state(hak_mid_segment *s, const void *p) {
    return &s->state[((uintptr_t)p - (uintptr_t)s - MID_AREA_OFF) >> MID_STATE_SHIFT];
}

HAK_INLINE void *mid_alloc_class(unsigned c) {
    hak_tls_bin *b = &t_hak_mid_bins[c];
    void *p = b->head;
    if (hak_unlikely(p == NULL)) return hak_mid_alloc_slow(c);
    b->head = *(void **)p;
    b->count--;
    HAK_STAT_HOT_INC(mid[c].allocs);
    HAK_STAT_HOT_INC(mid[c].tls_hits);
    __atomic_store_n(mid_state(mid_segment_of(p), p), (uint8_t)HAK_BLK_ALLOC,
                     __ATOMIC_RELAXED);
    return p;
}

HAK_INLINE void *mid_alloc(size_t n) { return mid_alloc_class(mid_size_to_class(n)); }

/* Validate p inside Mid segment s; with `release`, flip it ALLOC -> FREE. */
HAK_INLINE void mid_check(hak_mid_segment *s, void *p, const char *api, int release) {
    hak_assert(s->magic == MID_SEG_MAGIC);
    uintptr_t off = (uintptr_t)p - (uintptr_t)s - MID_AREA_OFF;   /* wraps if below */
    if (hak_unlikely(off >= MID_AREA_SIZE || (off & ((1u << MID_STATE_SHIFT) - 1))))
        hak_bad_free(api, p, HAK_BLK_NEVER);
    uint8_t *st = &s->state[off >> MID_STATE_SHIFT];
    uint8_t v = __atomic_load_n(st, __ATOMIC_RELAXED);
    if (hak_unlikely(v != HAK_BLK_ALLOC)) hak_bad_free(api, p, v);
    if (release) __atomic_store_n(st, (uint8_t)HAK_BLK_FREE, __ATOMIC_RELAXED);
}

HAK_INLINE void mid_free(hak_mid_segment *s, void *p, const char *api) {
    mid_check(s, p, api, 1);
    unsigned c = s->cls;
    hak_tls_bin *b = &t_hak_mid_bins[c];
    HAK_STAT_HOT_INC(mid[c].frees);
    if (hak_unlikely(b->count >= b->cap)) { hak_mid_free_slow(p, c); return; }
    hak_bin_push(b, p);
}

#endif /* HAK_MID_H */
