/**
 * hak_front.h - the small front: one TLS bin per small class and the fast paths of
 * malloc and free for n <= 1 KiB, the same code in every phase.
 *
 * Bins 1..12 serve the Tiny classes (16 B .. 1 KiB; tiny_front.c refills and flushes
 * them), bins 13..15 the Small-Mid classes (256 B, 512 B, 1 KiB; the phase's
 * hakmem_smallmid.c); 0 means "not a small block".  Which bin a request takes and
 * which bin a freed block goes back to are two tables the phase's Small-Mid front
 * fills at process init (hak_front_route_*): the phase's routing is data, so
 * neither fast path branches on it, and malloc and free agree on the front that
 * owns a block by construction.
 *
 *   malloc(n):  route = g_hak_size_route[n]; pop the bin at route; clear the key
 *   free(p):    route = slab map byte of p (hak_slabmap.h: g_hak_tag_route[slab tag]);
 *               p aligned to the bin's granule, its state byte ALLOC, its key
 *               word not the free key; write the key; push
 * A route is a bin's byte offset in t_hak_bins (bin * 16, HAK_ROUTE), so both fast
 * paths add it to the thread's TLS base as it is: no shift, no copy of the index.
 *
 * Block states (one byte per block - its first granule's - hak_block.h) are
 * written by slow paths only:
 * ALLOC while a block is out of its slab - in the user's hands or in some thread's
 * bin - FREE on its slab's freelist, NEVER before it is carved.  Which of "user" and
 * "bin" it is, is told by word 1 of the block: free() writes the process's free key
 * there (g_hak_free_key, random per process, from the kernel's AT_RANDOM bytes) and
 * malloc() clears it.  So a second free of a block still in a bin finds the key, a
 * second free after a flush finds FREE, and the fast paths write only the block
 * (its link and key words, one line) and the bin: no state byte, so two threads
 * never write the same state-byte line.  The one false alarm: a live block whose
 * word 1 holds exactly the secret key (2^-64 for data that does not copy freed
 * blocks) is reported as a double free.
 * Each bin carries its granule (mask, shift; hak_size_class.h) so the fast paths
 * read one TLS line and no table: a pointer into a block but not at its start is
 * either off the granule or on a granule whose state byte is NEVER.  One unlikely
 * branch each to a noinline slow path (empty / full bin); a bad pointer goes to
 * hak_front_bad (message, abort).
 *
 * A pointer below a slab's first block needs no check of its own: its state byte
 * (in the slab's state array, before the blocks) is never ALLOC - never written in
 * a fresh slab, cleared to NEVER when a slab changes class (hak_slab_assign).
 */
#ifndef HAK_FRONT_H
#define HAK_FRONT_H

#include "hak_block.h"
#include "hak_config.h"
#include "hak_geometry.h"
#include "hak_size_class.h"
#include "hak_slabmap.h"
#include "hak_stats.h"
#include "hak_tls.h"
#include "hak_track.h"

#define HAK_BIN_TINY      1                                   /* bins 1..12     */
#define HAK_BIN_SMALLMID  (HAK_BIN_TINY + TINY_NUM_CLASSES)   /* bins 13..15    */
#define HAK_NBINS         (HAK_BIN_SMALLMID + SMALLMID_NUM_CLASSES) /* 16       */
#define HAK_SIZE_BINS     (TINY_MAX_SIZE + 1)                 /* 1025 entries   */

/* Routes: a bin's byte offset in t_hak_bins; 0 = bin 0, "not a small block". */
#define HAK_ROUTE_SHIFT   4                                   /* sizeof(hak_tls_bin) */
#define HAK_ROUTE(bin)    ((unsigned)(bin) << HAK_ROUTE_SHIFT)
#define HAK_ROUTE_BIN(r)  ((unsigned)(r) >> HAK_ROUTE_SHIFT)
_Static_assert(sizeof(hak_tls_bin) == 1u << HAK_ROUTE_SHIFT, "a route is a bin's offset");
_Static_assert(HAK_ROUTE(HAK_NBINS - 1) <= 255, "a route fits the slab map's byte");

/* Routing (hak_front.c): written at process init only, read by every fast path. */
extern uint8_t g_hak_size_route[HAK_SIZE_BINS] HAK_HIDDEN; /* n -> route (n <= 1 KiB)     */
extern uint8_t g_hak_tag_route[256] HAK_HIDDEN;   /* slab tag -> route (the slab map byte) */
/* Route requests of lo..hi bytes (lo <= hi <= 1 KiB) to `bin`. */
void hak_front_route_sizes(size_t lo, size_t hi, unsigned bin);
/* Route frees of blocks whose slab has `tag` to `bin`. */
void hak_front_route_tag(unsigned tag, unsigned bin);

/* Bin 0 unused; mask and shift of each bin are initialised data (every thread). */
extern HAK_TLS hak_tls_bin t_hak_bins[HAK_NBINS];
/* The bin at `route`. */
HAK_INLINE hak_tls_bin *hak_front_bin(unsigned route) {
    return (hak_tls_bin *)((char *)t_hak_bins + route);
}
/* Block size of each bin (0 for bin 0). */
extern const uint16_t g_hak_bin_size[HAK_NBINS];

/* The free key (set at process init, before any block exists; never 0). */
extern uintptr_t g_hak_free_key HAK_HIDDEN;
void hak_front_init_key(void);
#define HAK_KEY(p) (((uintptr_t *)(p))[1])
/* Whether p's key word holds the free key (a memcheck build first asks whether the
 * program ever wrote that word: hak_track.h). */
#define HAK_KEY_IS(p, key) (hak_track_word_defined(&HAK_KEY(p)) && HAK_KEY(p) == (key))

/* Per-bin hot counters (STATS builds). */
#define HAK_BIN_STAT_HOT_INC(bin, field)                                               \
    do {                                                                               \
        if ((bin) < HAK_BIN_SMALLMID) HAK_STAT_HOT_INC(tiny[(bin) - HAK_BIN_TINY].field);  \
        else HAK_STAT_HOT_INC(smallmid[(bin) - HAK_BIN_SMALLMID].field);                \
    } while (0)

/* The state byte of the granule at p, in a slab of granules of 1 << shift bytes. */
HAK_INLINE uint8_t *hak_front_state(const void *p, unsigned shift) {
    return (uint8_t *)(hak_slab_base(p) + SLAB_STATE_OFF + (hak_slab_off(p) >> shift));
}

/* Pop a block of the bin at `route`; NULL when the bin is empty (the caller's slow
 * path). */
HAK_INLINE void *hak_front_pop_route(unsigned route) {
    hak_tls_bin *b = hak_front_bin(route);
    void *p = b->head;
    if (hak_unlikely(p == NULL)) return NULL;
    b->head = *(void **)p;
    b->count--;
    HAK_BIN_STAT_HOT_INC(HAK_ROUTE_BIN(route), allocs);
    HAK_BIN_STAT_HOT_INC(HAK_ROUTE_BIN(route), tls_hits);
    HAK_KEY(p) = 0;                                  /* in the user's hands now */
    return p;
}
HAK_INLINE void *hak_front_pop(unsigned bin) { return hak_front_pop_route(HAK_ROUTE(bin)); }

/* A free() the checks rejected: the message, then abort (hak_front.c).  Not declared
 * noreturn, so the fast path reaches it by a tail jump and needs no stack frame. */
void hak_front_bad(const void *p, unsigned state, const char *api) HAK_NOINLINE HAK_COLD;

/* The checks of free(): 0 when p is the start of a block in the user's hands in a
 * slab of bin b (its key now written), else HAK_FRONT_BAD | the state to report.
 * The state byte is read, never written (relaxed atomics are plain byte moves; they
 * tell TSan that a slow path on another thread may write it). */
#define HAK_FRONT_BAD 0x100u
HAK_INLINE unsigned hak_front_release(void *p, const hak_tls_bin *b) {
    if (hak_unlikely(hak_slab_off(p) & b->mask)) return HAK_FRONT_BAD | HAK_BLK_NEVER;
    uint8_t s = __atomic_load_n(hak_front_state(p, b->shift), __ATOMIC_RELAXED);
    if (hak_unlikely(s != HAK_BLK_ALLOC)) return HAK_FRONT_BAD | s;
    uintptr_t key = g_hak_free_key;
    if (hak_unlikely(HAK_KEY_IS(p, key))) return HAK_FRONT_BAD | HAK_BLK_FREE;  /* in a bin */
    HAK_KEY(p) = key;
    return 0;
}

/* The same checks without writing (realloc, malloc_usable_size); aborts. */
HAK_INLINE void hak_front_live_check(const void *p, unsigned bin, const char *api) {
    const hak_tls_bin *b = &t_hak_bins[bin];
    if (hak_unlikely(hak_slab_off(p) & b->mask)) hak_bad_free(api, p, HAK_BLK_NEVER);
    uint8_t s = __atomic_load_n(hak_front_state(p, b->shift), __ATOMIC_RELAXED);
    if (hak_unlikely(s != HAK_BLK_ALLOC)) hak_bad_free(api, p, s);
    if (hak_unlikely(HAK_KEY_IS(p, g_hak_free_key))) hak_bad_free(api, p, HAK_BLK_FREE);
}

#endif /* HAK_FRONT_H */
