/**
 * phase_traits.h - what this phase promises, for the shared tests only (no
 * allocator source includes it).  Values are literals on purpose: a wrong
 * constant in the allocator must fail a test, not move the expectation with it.
 */
#ifndef PHASE_TRAITS_H
#define PHASE_TRAITS_H

/* TLS-overflow frees of Small-Mid blocks are lost (HAKMEM_SMALLMID_ENABLE=1). */
#define PHASE_SMALLMID_OVERFLOW_LEAKS 0        /* they go back to their slabs     */
/* Small-Mid blocks live in SuperSlabs of their own (tag 0xb0|class). */
#define PHASE_SMALLMID_DEDICATED_SS   0        /* own slabs (0xb0|class), shared SuperSlabs */
/* Blocks one Small-Mid TLS refill brings, for 256 / 512 / 1024 B (half the Tiny caps). */
#define PHASE_SMALLMID_REFILL_BATCH   { 64, 32, 32 }
/* A thread's first three Small-Mid refills bring 1/8, 1/4, 1/2 of the batch (the
 * Tiny front's slow start, hak_bin_refill_want), later ones all of it. */
#define PHASE_SMALLMID_SLOW_START     1
/* With HAKMEM_SMALLMID_ENABLE=1, requests of this many bytes up to 1 KiB get a
 * Small-Mid block (256 / 512 / 1024 B); 129..255 B stay Tiny's (192 / 256 B). */
#define PHASE_SMALLMID_FROM           256
/* Small-Mid blocks carry their own tag 0xb0|class. */
#define PHASE_SMALLMID_OWN_TAG        1
/* Empty slabs go to a pool every class takes from; all-free SuperSlabs beyond
 * HAKMEM_SS_WARM give their pages back to the OS. */
#define PHASE_SS_REUSE                1
/* HAKMEM_SS_PREWARM maps and faults SuperSlabs in at start-up; HAKMEM_SS_HUGEPAGE
 * maps them in 2 MiB pairs with MADV_HUGEPAGE. */
#define PHASE_SS_PREWARM              1

#endif /* PHASE_TRAITS_H */
