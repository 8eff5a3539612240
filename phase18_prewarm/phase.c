/**
 * phase.c - Phase 18 SS-Prewarm's layers for common/'s life cycle (hak_life.h), in
 * lock order: the Small-Mid front and backend (class locks), the Tiny front and
 * pool (class locks), the shared pool of empty slabs (the pool lock), Mid, Large.
 */
#include "hak_backend.h"
#include "hakmem_smallmid.h"
#include "hakmem_smallmid_superslab.h"
#include "ss_shared_pool.h"
#include "tiny_superslab.h"

const hak_layer *const hak_phase_layers[] = {
    &hak_smallmid_front_layer,
    &hak_smallmid_superslab_layer,
    &hak_tiny_front_layer,
    &hak_tiny_pool_layer,
    &hak_shared_pool_layer,
    &hak_mid_layer,
    &hak_large_layer,
    NULL,
};
