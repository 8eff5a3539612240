/**
 * hakmem_smallmid_superslab.h - Phase 18: the Small-Mid SuperSlab backend on the
 * shared pool (Box SS-Reuse).
 *
 * SmallMidSuperSlab: the 1 MiB SuperSlabs of the shared pool (ss_shared_pool.h),
 * which Tiny and Small-Mid now draw on alike; a Small-Mid slab still carries its
 * own tag (0xb0|class) and is found from a pointer through the registry and
 * masking, like every slab.
 * SmallMidSlabMeta: capacity / used / carved / freelist (common hak_slab_meta).
 * SmallMidSSHead: the per-class pool of slabs with room; each thread carves a slab
 * of its own (hakmem_smallmid_superslab.c).  The SuperSlab LRU is the shared pool's
 * warm list.
 *
 * What Phase 18 fixes of 17-2: a chain of freed blocks (TLS overflow, thread exit)
 * reaches meta->freelist and decrements `used`, one lock round trip per chain; a
 * slab whose `used` reaches 0 leaves the class for the shared pool.
 */
#ifndef HAKMEM_SMALLMID_SUPERSLAB_H
#define HAKMEM_SMALLMID_SUPERSLAB_H

#include "hak_config.h"
#include "hak_life.h"
#include "hak_lock.h"
#include "hak_slab.h"

/* Blocks handed to the TLS list per refill: half its capacity (the seed's
 * SMALLMID_REFILL_BATCH_* were 16 / 12 / 8). */
#define SMALLMID_REFILL_BATCH_256B 64
#define SMALLMID_REFILL_BATCH_512B 32
#define SMALLMID_REFILL_BATCH_1KB  32
#define SMALLMID_REFILL_BATCH_MAX  64

typedef hak_superslab SmallMidSuperSlab;
typedef hak_slab_meta SmallMidSlabMeta;

/**
 * SmallMidSSHead - one per Small-Mid class.
 * Invariants (under lock): `reuse` holds exactly the slabs of the class that have
 * room (a non-empty freelist or blocks to carve) and that no thread owns; a slab of
 * the class that no thread owns has used > 0.
 */
typedef struct SmallMidSSHead {
    hak_lock_t lock;
    SmallMidSlabMeta *reuse;              /* slabs with room, owned by no thread     */
} SmallMidSSHead;

/* Fill batch[] with up to batch_max FREE blocks of class class_idx: freelist first,
 * then bump allocation, then a slab from the shared pool.  Returns the count
 * (0: ENOMEM). */
int hak_smallmid_refill_batch(int class_idx, void **batch, int batch_max);
/* Return a NULL-terminated chain of FREE blocks of class c to their slabs (TLS
 * overflow, thread exit): one lock round trip. */
void hak_smallmid_superslab_free_chain(unsigned c, void *head);

/* The class locks (fork). */
extern const hak_layer hak_smallmid_superslab_layer;

#endif /* HAKMEM_SMALLMID_SUPERSLAB_H */
