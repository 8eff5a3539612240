/**
 * tiny_superslab.h - the Tiny SuperSlab pool (this phase's backend for Tiny).
 *
 * Tiny classes take 64 KiB slabs from shared 1 MiB SuperSlabs; a slab, once given
 * to a class, stays with it and its freed blocks are reused through its freelist
 * ("Tiny reuses warm SuperSlabs").  SuperSlabs are unmapped only under memory
 * pressure (the layer's reclaim hook), when every block of every slab is back.
 */
#ifndef TINY_SUPERSLAB_H
#define TINY_SUPERSLAB_H

#include "hak_backend.h"
#include "hak_slab.h"

#define SS_POOL_TINY 1            /* hak_superslab.pool of Tiny SuperSlabs */

/* The pool's locks (fork) and its reclaim, for hak_phase_layers[]. */
extern const hak_layer hak_tiny_pool_layer;

#endif /* TINY_SUPERSLAB_H */
