/**
 * hak_transfer.h - the transfer cache (tcmalloc's idea), one per small-front bin.
 *
 * A flushed half-bin goes, as one chain, to a small stack of chains; an empty bin
 * takes a whole chain from there before it asks its front's backend.  The blocks stay
 * "out of their slab" (state ALLOC, free key set, counted in their slab's `used`),
 * so moving a chain between two threads costs one lock round trip and no per-block
 * work.  At most HAK_TRANSFER_CHAINS chains per bin; the owning front drains its bins
 * to its slabs at thread exit and under memory pressure (reclaim), so memory still
 * goes back.  Lock: each bin's stack has its own; nothing is taken under it.
 */
#ifndef HAK_TRANSFER_H
#define HAK_TRANSFER_H

#include "hak_config.h"

#define HAK_TRANSFER_CHAINS 16

/* Push a chain of n blocks of `bin`; 0 when the stack is full. */
int hak_transfer_push(unsigned bin, void *head, uint32_t n);
/* An empty bin takes a whole cached chain: the chain's first block is returned for
 * the caller to hand out (its key still set), the rest become the calling thread's
 * bin `bin`.  NULL when the stack is empty; *n = the chain's length. */
void *hak_transfer_refill(unsigned bin, uint32_t *n);
/* Every cached chain of bins first .. first+nbins-1 back to its slabs, each through
 * sink(bin - first, head, length); returns how many chains (thread exit, reclaim). */
typedef void (*hak_transfer_sink)(unsigned cls, void *head, unsigned n);
unsigned hak_transfer_drain(unsigned first, unsigned nbins, hak_transfer_sink sink);
/* fork: every stack's lock. */
void hak_transfer_lock_all(void);
void hak_transfer_unlock_all(void);

#endif /* HAK_TRANSFER_H */
