/**
 * hakmem_smallmid_superslab.h - Phase 17-2: dedicated Small-Mid SuperSlab backend.
 *
 * SmallMidSuperSlab: a 1 MiB region aligned to 1 MiB, 16 slabs of 64 KiB, all of one
 * Small-Mid class, separate from the Tiny SuperSlabs (no competition).  Found from a
 * pointer through the common registry and masking, like every SuperSlab.
 * SmallMidSlabMeta: capacity / used / carved / freelist (common hak_slab_meta).
 * SmallMidSSHead: the per-class pool.  (The seed's head also kept LRU stamps that
 * nothing read; Phase 17-2 never reuses a SuperSlab, so there is nothing for an
 * LRU to order.  Phase 18's warm SuperSlabs bring a real one.)
 *
 * The seed's measured weakness is reproduced on purpose (Phase 18 fixes it): a free
 * that overflows the TLS list never reaches meta->freelist and `used` does not
 * decrement for it, no SuperSlab is ever reused once carved out, so churn keeps
 * mapping fresh SuperSlabs.  Only thread exit returns blocks to meta->freelist.
 */
#ifndef HAKMEM_SMALLMID_SUPERSLAB_H
#define HAKMEM_SMALLMID_SUPERSLAB_H

#include "hak_config.h"
#include "hak_life.h"
#include "hak_lock.h"
#include "hak_slab.h"

#define SS_POOL_SMALLMID 2                 /* hak_superslab.pool of Small-Mid SuperSlabs */

/* Blocks handed to the TLS list per refill (the seed's SMALLMID_REFILL_BATCH_*). */
#define SMALLMID_REFILL_BATCH_256B 16
#define SMALLMID_REFILL_BATCH_512B 12
#define SMALLMID_REFILL_BATCH_1KB  8
#define SMALLMID_REFILL_BATCH_MAX  16

typedef hak_superslab SmallMidSuperSlab;
typedef hak_slab_meta SmallMidSlabMeta;

/**
 * SmallMidSSHead - one per Small-Mid class.
 * Invariants (under lock): `current` is the SuperSlab being carved (NULL before the
 * first refill); every slab of `current` below `current->nassigned` is assigned to
 * this class; `reuse` holds exactly the slabs whose freelist is non-empty.
 */
typedef struct SmallMidSSHead {
    hak_lock_t lock;
    SmallMidSuperSlab *current;           /* being carved                           */
    SmallMidSuperSlab *all;               /* every SuperSlab of the class, newest first */
    SmallMidSlabMeta *reuse;              /* slabs with a non-empty freelist         */
} SmallMidSSHead;

/* Fill batch[] with up to batch_max FREE blocks of class class_idx: freelist first,
 * then bump allocation, then a new SuperSlab.  Returns the count (0: ENOMEM). */
int hak_smallmid_refill_batch(int class_idx, void **batch, int batch_max);
/* Return a NULL-terminated chain of FREE blocks to their slabs (thread exit). */
void hak_smallmid_superslab_free_chain(void *head);

/* The class locks (fork) and the reclaim hook: under memory pressure, unmap the
 * SuperSlabs whose slabs all have used == 0 (in this phase that happens only after
 * threads exit: lost blocks stay counted). */
extern const hak_layer hak_smallmid_superslab_layer;

#endif /* HAKMEM_SMALLMID_SUPERSLAB_H */
