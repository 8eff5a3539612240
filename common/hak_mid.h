/**
 * hak_mid.h - the Mid path: 1025 B .. 64 KiB, the same in every phase.
 *
 * 28 classes, every 256 B to 4 KiB, then four per power of two (hak_size_class.h).
 * A Mid segment is a 1 MiB region aligned to 1 MiB (registered as HAK_REG_MID);
 * its area, MID_AREA_OFF into it, is cut into MID_SPANS spans of 64 KiB.  A class
 * takes a run of contiguous spans at a time - 1 span for its first run, then 2, 4,
 * 8, and whole segments (15) from its fifth - so the classes a program touches a
 * little share segments and their header pages (python3 -c pass touches 22 Mid
 * classes; with a segment per class that was 22 header pages), while a class with
 * many blocks wastes no more at run ends than a segment per class did.  Every Mid
 * size is a multiple of 256 and every span starts at a multiple of 256, so each
 * block start has its own state byte at state[(p - area) >> MID_STATE_SHIFT]: no
 * division anywhere.
 * A thread keeps a small TLS bin per class; bins refill from and flush to the
 * class's runs under the class lock, and a flushed chain that fits the class's
 * small stack of cached chains waits there whole for the next empty bin (a
 * transfer cache).  A run whose blocks all come back goes back to
 * its segment; a segment whose spans are all free goes warm (pages kept) in one
 * list, up to HAKMEM_MID_WARM segments; beyond that the least recently emptied is
 * unmapped.  Free spans beside used ones (idle spans of open segments) keep their
 * pages up to HAKMEM_MID_WARM segments' worth of spans; beyond it a run going back
 * has its pages decommitted first.
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
#define MID_SPAN_SHIFT   16                                            /* 64 KiB    */
#define MID_SPAN_SIZE    ((uintptr_t)1 << MID_SPAN_SHIFT)              /* 65536     */
#define MID_SPANS        (MID_AREA_SIZE >> MID_SPAN_SHIFT)             /* 15        */
#define MID_SPANS_ALL    ((1u << MID_SPANS) - 1)                       /* 0x7fff    */
#define MID_STATE_SHIFT  8                                             /* 256 B     */
#define MID_STATE_SLOTS  (MID_AREA_SIZE >> MID_STATE_SHIFT)            /* 3840      */
#define MID_SEG_MAGIC    0x4449484bu                                   /* "KHID"    */
#define MID_NO_CLASS     0xffu                                         /* free span */

/**
 * hak_mid_span - one 64 KiB span of a segment.  The first span of a run describes
 * the run (nspans spans serving one class); the segment's cls[] and first[] name,
 * for every span, its run's class and first span (a free span: MID_NO_CLASS and
 * itself).
 * Invariant (a run): used + |freelist| == carved <= capacity (used: blocks out of
 * the run - with the user, in bins, in cached chains); the state slot of a
 * block start i of the run is NEVER iff i >= carved, every other slot of the run
 * NEVER; ALLOC only while in user hands.  A run is in its class's partial list
 * (in_partial) while it has room and a block out, or in none (full); a free span
 * (cls[k] == MID_NO_CLASS) is a bit in its segment's free_mask.
 * Writers: the segment lock for nspans and dirty (a span changes hands
 * under it); the lock of the run's class for the other fields of a run, except
 * state bytes of blocks out of the run, which belong to whoever holds the block.
 */
typedef struct hak_mid_span {
    uint32_t bsize, capacity, carved, used;
    uint8_t in_partial;
    uint8_t nspans;                          /* run length (first span)         */
    uint8_t dirty;                           /* a run had it: states not NEVER  */
    void *freelist;
    struct hak_mid_span *next, *prev;        /* class's partial list            */
} hak_mid_span;

/**
 * hak_mid_segment - header at the base of a Mid segment: the class and the run's
 * first span of each span (in the first cache line, so that free() finds a
 * block's class in one load and a flush its run in one more), the spans, then
 * the state bytes (those of spans 0..12 on the header's first
 * page; spans are handed out lowest first).
 * A segment is in the open list (some spans free, some not), in the warm list
 * (every span free), or in neither (no span free).
 * Invariant: cls[k] == MID_NO_CLASS iff bit k of free_mask, and then first[k] == k;
 * the spans of a run have one class and one first; idle_mask is within free_mask
 * (free spans whose pages may be resident; those of open segments are counted
 * against the idle budget).
 * Writers: the segment lock (hak_mid.c) for cls, first, free_mask, idle_mask,
 * next / prev; free() reads cls[] without it, of a span whose block it holds,
 * and the class lock's holder first[] of its own runs.
 */
typedef struct hak_mid_segment {
    uint32_t magic;
    uint16_t free_mask;                      /* bit k: span k has no class      */
    uint16_t idle_mask;                      /* bit k: free, pages counted      */
    uint8_t cls[16];                         /* span k's class, or MID_NO_CLASS */
    uint8_t first[16];                       /* span k's run's first span       */
    struct hak_mid_segment *next, *prev;     /* open list, or warm list         */
    hak_mid_span span[MID_SPANS];
    uint8_t state[MID_STATE_SLOTS];
} hak_mid_segment;

_Static_assert(sizeof(hak_mid_segment) <= MID_AREA_OFF, "Mid header fits before the area");
_Static_assert(MID_SPANS <= 16, "free_mask has a bit and cls a byte per span");
_Static_assert(MID_NUM_CLASSES < MID_NO_CLASS, "a class fits cls[]'s byte");
_Static_assert(offsetof(hak_mid_segment, first) + 16 <= 64, "cls[], first[] in the first line");

extern HAK_TLS hak_tls_bin t_hak_mid_bins[MID_NUM_CLASSES];

void *hak_mid_alloc_slow(unsigned c) HAK_NOINLINE;
/* Bytes of Mid blocks in cached chains, all classes (tests, DEBUG checks). */
size_t hak_mid_cached_bytes(void);
void hak_mid_free_slow(void *p, unsigned c) HAK_NOINLINE;

HAK_INLINE hak_mid_segment *mid_segment_of(const void *p) {
    hak_mid_segment *s = (hak_mid_segment *)hak_ss_of(p);
    hak_assert(s->magic == MID_SEG_MAGIC);
    return s;
}

HAK_INLINE uint8_t *mid_state(hak_mid_segment *s, const void *p) {
    return &s->state[((uintptr_t)p - (uintptr_t)s - MID_AREA_OFF) >> MID_STATE_SHIFT];
}

/* The span index of p, a pointer inside segment s's area. */
HAK_INLINE unsigned mid_span_index(const hak_mid_segment *s, const void *p) {
    return (unsigned)(((uintptr_t)p - (uintptr_t)s - MID_AREA_OFF) >> MID_SPAN_SHIFT);
}
/* The run of p (its first span). */
HAK_INLINE hak_mid_span *mid_span_of(hak_mid_segment *s, const void *p) {
    return &s->span[s->first[mid_span_index(s, p)]];
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

/* The class of live block p (mid_check passed).  A block whose run has gone back
 * to its segment cannot be ALLOC unless two threads freed one of its siblings at
 * once (both passed the state check): reported as the double free it is, not a
 * bin index out of range. */
HAK_INLINE unsigned mid_class_of(hak_mid_segment *s, const void *p, const char *api) {
    unsigned c = __atomic_load_n(&s->cls[mid_span_index(s, p)], __ATOMIC_RELAXED);
    if (hak_unlikely(c >= MID_NUM_CLASSES)) hak_bad_free(api, p, HAK_BLK_FREE);
    return c;
}

HAK_INLINE void mid_free(hak_mid_segment *s, void *p, const char *api) {
    mid_check(s, p, api, 1);
    unsigned c = mid_class_of(s, p, api);
    hak_tls_bin *b = &t_hak_mid_bins[c];
    HAK_STAT_HOT_INC(mid[c].frees);
    if (hak_unlikely(b->count >= b->cap)) { hak_mid_free_slow(p, c); return; }
    hak_bin_push(b, p);
}

#endif /* HAK_MID_H */
