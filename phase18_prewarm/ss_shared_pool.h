/**
 * ss_shared_pool.h - Phase 18 Box SS-Reuse: one pool of empty slabs for every class.
 *
 * A slab whose blocks have all come back (used == 0) leaves its class: its state
 * bytes go back to NEVER, its tag to HAK_TAG_NONE (hak_slab_reset), and it joins
 * this pool.  Every class, Tiny or Small-Mid, takes a slab from here; only when the
 * pool has none is a SuperSlab mapped.  A slab that changes class gets a new tag,
 * shift, capacity and fresh state bytes (hak_slab_assign).
 *
 * SuperSlabs, by how many of their 16 slabs belong to a class:
 *   FULL     all 16 - on no list
 *   PARTIAL  some   - `partial`; slabs are taken from here first, so that mostly
 *                     free SuperSlabs drain and become ALL-FREE
 *   WARM     none, pages resident - `warm`, most recently emptied first (the
 *                     seed's LRU): taken again before any cold or new one; at most
 *                     HAKMEM_SS_WARM of them
 *   COLD     none, pages given back (MADV_DONTNEED of all but the header page);
 *                     address range and registry entry kept - `cold`, reused before
 *                     a new SuperSlab is mapped, unmapped (tombstone) only under
 *                     memory pressure (the reclaim hook)
 *   RELEASING  on no list while its pages go back (outside the lock)
 * The warm budget is the hysteresis: a program that frees and re-allocates up to
 * HAKMEM_SS_WARM MiB neither faults nor calls the OS again.
 *
 * Box SS-Prewarm (Phase 18 priority 2):
 *   HAKMEM_SS_PREWARM=N   N SuperSlabs in all (every class shares them) are mapped as
 *                         one region at process start-up, faulted in with one call
 *                         (hak_os_populate), and listed WARM: the first N MiB of
 *                         slabs take no page fault.  They count against the warm
 *                         budget, which becomes max(HAKMEM_SS_WARM, N), so the start-up
 *                         work is not undone by the first free; beyond it, memory goes
 *                         back to the OS as in phase18_ss_reuse.
 *   HAKMEM_SS_HUGEPAGE=1  SuperSlabs are mapped in 2 MiB-aligned pairs (the prewarm
 *                         region too) with MADV_HUGEPAGE, so the kernel may back each
 *                         pair with one huge page: one fault per 2 MiB instead of 512.
 *                         The second SuperSlab of a new pair is listed WARM.  Where the
 *                         kernel refuses the advice, pairs stay on small pages, silently.
 *                         Giving a SuperSlab back is the same MADV_DONTNEED of all but
 *                         its header page: the kernel splits the huge page, RSS drops
 *                         at once, and the split-off pages are freed by the kernel's
 *                         deferred split.
 *
 * Invariants (pool lock; DEBUG: pool_check):
 *   popcount(free_mask) + ss.nassigned == SLABS_PER_SS
 *   FULL <=> free_mask == 0; PARTIAL <=> 0 < nassigned < 16; WARM/COLD/RELEASING
 *   <=> nassigned == 0; a slab is free in free_mask <=> its tag is HAK_TAG_NONE
 *   (the tag is written by the class that owns the slab, outside this lock, only
 *   while the bit says it is not free).
 *   touched_mask: slabs whose pages were written since the SuperSlab was mapped or
 *   decommitted; free slabs are taken touched-first (no page fault).
 * Lock order: class locks, then the pool lock, then the registry lock.
 */
#ifndef SS_SHARED_POOL_H
#define SS_SHARED_POOL_H

#include "hak_life.h"
#include "hak_slab.h"

#define SS_POOL_SHARED 3                   /* hak_superslab.pool of Phase 18 SuperSlabs */

enum { SS_FULL = 0, SS_PARTIAL = 1, SS_WARM = 2, SS_COLD = 3, SS_RELEASING = 4 };

/* The common SuperSlab header and what the shared pool keeps about it. */
typedef struct hak_pool_ss {
    hak_superslab ss;                      /* magic, slabs[], next/prev: pool lists     */
    uint16_t free_mask;                    /* pool lock: slabs no class owns            */
    uint16_t touched_mask;                 /* pool lock: slabs with resident pages      */
    uint8_t where;                         /* pool lock: SS_FULL .. SS_RELEASING        */
    uint8_t last_tag[SLABS_PER_SS];        /* a free slab's previous owner: written by
                                              that owner just before it gives the slab
                                              back, read under the pool lock           */
} hak_pool_ss;

_Static_assert(sizeof(hak_pool_ss) <= SLAB_HDR_RESERVE, "pool SuperSlab header exceeds reserve");

/* A slab for the class of `tag`, assigned to it (hak_slab_assign) and the caller's
 * alone; NULL when no memory can be mapped (errno ENOMEM). */
hak_slab_meta *hak_shared_pool_take(unsigned tag);
/* Give back slabs whose blocks have all come back (used == 0), taken off every class
 * list by the caller, chained through m->next: one pool lock round trip. */
void hak_shared_pool_put_list(hak_slab_meta *list);

/* The pool lock (fork) and reclaim: unmap every WARM and COLD SuperSlab. */
extern const hak_layer hak_shared_pool_layer;

#endif /* SS_SHARED_POOL_H */
