/**
 * tiny_superslab.h - the Tiny SuperSlab pool (this phase's backend for Tiny).
 *
 * Tiny classes take 64 KiB slabs from the shared pool (ss_shared_pool.h), which
 * Small-Mid draws on too; freed blocks are reused through the slab's freelist, and
 * a slab whose last block comes back returns to the shared pool, where any class
 * may take it.
 */
#ifndef TINY_SUPERSLAB_H
#define TINY_SUPERSLAB_H

#include "hak_backend.h"
#include "hak_slab.h"

/* The class locks (fork), for hak_phase_layers[]. */
extern const hak_layer hak_tiny_pool_layer;

#endif /* TINY_SUPERSLAB_H */
