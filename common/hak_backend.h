/**
 * hak_backend.h - what every phase folder must provide to common/.
 *
 * The SuperSlab backend (how slabs are found, refilled, recycled) and the Small-Mid
 * front differ between phases; common/ calls them only through these functions and
 * through the phase's phase_front.h (inline alloc/free routing for n <= 1024).
 */
#ifndef HAK_BACKEND_H
#define HAK_BACKEND_H

#include "hak_config.h"

/* ---- Tiny SuperSlab pool (phase's tiny_superslab.c) ---------------------- */
/* Append up to max free blocks of Tiny class c to the chain ending at **tail
 * (advancing *tail).  Blocks are in state FREE.  Returns the count, 0 on ENOMEM. */
unsigned tiny_backend_refill(unsigned c, void ***tail, unsigned max);
/* Return a NULL-terminated chain of n FREE blocks of Tiny class c to their slabs. */
void tiny_backend_free_chain(unsigned c, void *head, unsigned n);

/* ---- Phase hooks ---------------------------------------------------------- */
void phase_init(void);          /* once, under the init lock, after options    */
void phase_thread_init(void);   /* a thread's first slow path: set bin caps    */
void phase_thread_exit(void);   /* thread exit: return TLS blocks, caps to 0   */
void phase_fork_prepare(void);  /* take every phase lock                       */
void phase_fork_parent(void);
void phase_fork_child(void);
/* Memory pressure: unmap the phase's SuperSlabs whose blocks are all back (used == 0
 * in every slab).  Called with no allocator lock held.  Returns SuperSlabs released. */
unsigned phase_reclaim(void);

/* ---- Services common/ offers the phases ------------------------------------ */
/* After a failed map: release every cached or fully free region of every layer
 * (Large cache, Mid's warm empty segments, phase_reclaim).  Returns the number of
 * regions released; 0 means a retry cannot succeed.  No lock may be held. */
unsigned hak_reclaim(void);

#endif /* HAK_BACKEND_H */
