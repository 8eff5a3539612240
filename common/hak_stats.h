/**
 * hak_stats.h - allocator counters, printed at exit with HAKMEM_STATS=1.
 *
 * Two kinds:
 *   HAK_STAT_HOT  - per-operation counters (allocs, frees, TLS hits).  Compiled in
 *                   only with make STATS=1 or DEBUG=1; nothing in release builds.
 *   HAK_STAT_SLOW - refills, flushes, SuperSlabs, lost blocks: slow paths only,
 *                   always counted (relaxed atomics, off the fast path).
 * The seed's SmallMidStats (total_allocs, total_frees, tls_hits, tls_misses,
 * superslab_refills) are the smallmid[] rows.
 */
#ifndef HAK_STATS_H
#define HAK_STATS_H

#include "hak_config.h"
#include "hak_size_class.h"

typedef struct hak_class_stats {
    uint64_t allocs, frees, tls_hits;           /* hot: STATS builds only        */
    uint64_t tls_misses;                        /* slow: TLS list empty          */
    uint64_t refills, refill_blocks;            /* slow: backend refills, blocks */
    uint64_t flushes, flush_blocks;             /* slow: TLS overflow returned   */
    uint64_t lost_blocks;                       /* slow: overflow never returned */
    uint64_t superslabs;                        /* slow: SuperSlabs mapped       */
} hak_class_stats;

/* A phase's shared pool of empty slabs (phase18 on; all zero before). */
typedef struct hak_pool_stats {
    uint64_t slabs_put;         /* slabs whose blocks all came back, into the pool  */
    uint64_t slabs_taken;       /* slabs a class took from the pool                 */
    uint64_t class_changes;     /* ... that a different class had owned before       */
    uint64_t ss_warm;           /* SuperSlabs that went all-free and stayed mapped   */
    uint64_t ss_reused;         /* all-free SuperSlabs (warm or cold) taken again    */
    uint64_t ss_decommitted;    /* beyond the warm budget: pages back to the OS      */
    uint64_t ss_unmapped;       /* unmapped under memory pressure (reclaim)          */
    uint64_t ss_prewarmed;      /* mapped and faulted in at start-up (prewarm)       */
    uint64_t ss_huge;           /* mapped in 2 MiB pairs the kernel may back huge    */
} hak_pool_stats;

typedef struct hak_stats {
    hak_class_stats tiny[TINY_NUM_CLASSES];
    hak_class_stats smallmid[SMALLMID_NUM_CLASSES];
    hak_class_stats mid[MID_NUM_CLASSES];
    hak_pool_stats pool;
    uint64_t large_allocs, large_frees, large_cache_hits, large_remaps;
    uint64_t large_splits, large_merges, large_grown_down, large_moves, large_purges;
    uint64_t threads_started, threads_exited;
} hak_stats;

extern hak_stats g_hak_stats;

#define HAK_STAT_SLOW_ADD(field, v) \
    __atomic_fetch_add(&g_hak_stats.field, (uint64_t)(v), __ATOMIC_RELAXED)
#if HAKMEM_STATS_BUILD
#define HAK_STAT_HOT_INC(field) HAK_STAT_SLOW_ADD(field, 1)
#else
#define HAK_STAT_HOT_INC(field) ((void)0)
#endif

/* The report (public: hakmem.h). */
void hak_stats_print(void);

#endif /* HAK_STATS_H */
