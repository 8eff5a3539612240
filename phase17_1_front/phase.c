/**
 * phase.c - Phase 17-1's layers for common/'s life cycle (hak_life.h), in lock
 * order: the Small-Mid front (no lock of its own), the Tiny front and pool (class
 * locks, then the SuperSlab lock), Mid, Large.
 */
#include "hak_backend.h"
#include "hakmem_smallmid.h"
#include "tiny_superslab.h"

const hak_layer *const hak_phase_layers[] = {
    &hak_smallmid_front_layer,
    &hak_tiny_front_layer,
    &hak_tiny_pool_layer,
    &hak_mid_layer,
    &hak_large_layer,
    NULL,
};
