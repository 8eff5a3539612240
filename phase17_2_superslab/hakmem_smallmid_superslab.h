/**
 * hakmem_smallmid_superslab.h - Phase 17-2: dedicated Small-Mid SuperSlab backend.
 *
 * SmallMidSuperSlab: a 1 MiB region aligned to 1 MiB, 16 slabs of 64 KiB, all of one
 * Small-Mid class, separate from the Tiny SuperSlabs (no competition).  Found from a
 * pointer through the common registry and masking, like every SuperSlab.
 * SmallMidSlabMeta: capacity / used / carved / freelist (common hak_slab_meta).
 * SmallMidSSHead: the per-class pool, with LRU tracking.
 *
 * The seed's measured weakness is reproduced on purpose (Phase 18 fixes it): a free
 * that overflows the TLS list never reaches meta->freelist and `used` does not
 * decrement for it, no SuperSlab is ever reused once carved out, so churn keeps
 * mapping fresh SuperSlabs.  Only thread exit returns blocks to meta->freelist.
 */
#ifndef HAKMEM_SMALLMID_SUPERSLAB_H
#define HAKMEM_SMALLMID_SUPERSLAB_H

#include "hak_config.h"
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
    SmallMidSuperSlab *lru;               /* every SuperSlab of the class, MRU first */
    SmallMidSlabMeta *reuse;              /* slabs with a non-empty freelist         */
    uint64_t lru_clock;                   /* ticks once per refill                   */
    uint32_t total_ss;
} SmallMidSSHead;

/* Fill batch[] with up to batch_max FREE blocks of class class_idx: freelist first,
 * then bump allocation, then a new SuperSlab.  Returns the count (0: ENOMEM). */
int smallmid_refill_batch(int class_idx, void **batch, int batch_max);
/* Return a NULL-terminated chain of FREE blocks to their slabs (thread exit). */
void smallmid_superslab_free_chain(void *head);

/* Memory pressure: unmap SuperSlabs whose slabs all have used == 0 (in this phase
 * that happens only after threads exit: lost blocks stay counted). */
unsigned smallmid_superslab_reclaim(void);
void smallmid_superslab_fork_prepare(void);
void smallmid_superslab_fork_parent(void);
void smallmid_superslab_fork_child(void);

#endif /* HAKMEM_SMALLMID_SUPERSLAB_H */
