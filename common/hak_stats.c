/**
 * hak_stats.c - the HAKMEM_STATS=1 report (stderr, no stdio, no malloc).
 */
#include "hak_stats.h"
#include "hak_os.h"
#include "hak_options.h"
#include "hak_report.h"

hak_stats g_hak_stats;

#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static void print_class(const char *family, unsigned c, size_t size, const hak_class_stats *s) {
    hak_class_stats v = {
        LD(s->allocs), LD(s->frees), LD(s->tls_hits), LD(s->tls_misses), LD(s->refills),
        LD(s->refill_blocks), LD(s->flushes), LD(s->flush_blocks), LD(s->lost_blocks),
        LD(s->superslabs),
    };
    if (!(v.allocs | v.frees | v.refills | v.flushes | v.lost_blocks | v.superslabs)) return;
    hak_buf o = { .n = 0 };
    hak_buf_str(&o, family);
    hak_buf_u64(&o, c);
    hak_buf_str(&o, " ");
    hak_buf_u64w(&o, size, 5);
    hak_buf_str(&o, "B allocs ");
#if HAKMEM_STATS_BUILD
    hak_buf_u64(&o, v.allocs);
    hak_buf_str(&o, " frees ");
    hak_buf_u64(&o, v.frees);
    hak_buf_str(&o, " tls_hits ");
    hak_buf_u64(&o, v.tls_hits);
    hak_buf_str(&o, " hit_rate ");
    hak_buf_pct(&o, v.tls_hits, v.allocs);
#else
    hak_buf_str(&o, "- frees - tls_hits - (make STATS=1)");
#endif
    hak_buf_str(&o, " tls_misses ");
    hak_buf_u64(&o, v.tls_misses);
    hak_buf_str(&o, " refills ");
    hak_buf_u64(&o, v.refills);
    hak_buf_str(&o, " blocks/refill ");
    hak_buf_u64(&o, v.refills ? v.refill_blocks / v.refills : 0);
    hak_buf_str(&o, " flushes ");
    hak_buf_u64(&o, v.flushes);
    hak_buf_str(&o, " flushed ");
    hak_buf_u64(&o, v.flush_blocks);
    hak_buf_str(&o, " lost ");
    hak_buf_u64(&o, v.lost_blocks);
    hak_buf_str(&o, " superslabs ");
    hak_buf_u64(&o, v.superslabs);
    hak_buf_str(&o, "\n");
    hak_buf_flush(&o);
}

static void print_os(const char *name, hak_os_purpose why) {
    hak_os_counters c;
    hak_os_counters_get(why, &c);
    hak_buf o = { .n = 0 };
    hak_buf_str(&o, name);
    hak_buf_str(&o, " mapped ");
    hak_buf_u64(&o, c.maps);
    hak_buf_str(&o, " released ");
    hak_buf_u64(&o, c.unmaps);
    hak_buf_str(&o, " bytes_mapped ");
    hak_buf_u64(&o, c.bytes_mapped);
    hak_buf_str(&o, " bytes_released ");
    hak_buf_u64(&o, c.bytes_released);
    hak_buf_str(&o, " bytes_decommitted ");
    hak_buf_u64(&o, c.bytes_decommitted);
    if (c.bytes_populated) {
        hak_buf_str(&o, " bytes_populated ");
        hak_buf_u64(&o, c.bytes_populated);
    }
    hak_buf_str(&o, "\n");
    hak_buf_flush(&o);
}

HAK_EXPORT void hak_stats_print(void) {
    hak_buf o = { .n = 0 };
    hak_buf_str(&o, "\n=== hakmem statistics (");
    hak_buf_str(&o, HAKMEM_PHASE);          /* -D by the Makefile */
    hak_buf_str(&o, ", HAKMEM_SMALLMID_ENABLE=");
    hak_buf_u64(&o, (uint64_t)hak_option(HAK_OPT_SMALLMID_ENABLE));
    hak_buf_str(&o, ") ===\n");
    hak_buf_flush(&o);

    for (unsigned c = 0; c < TINY_NUM_CLASSES; c++)
        print_class("tiny", c, tiny_class_size(c), &g_hak_stats.tiny[c]);

    /* The seed's SmallMidStats block. */
    hak_class_stats t = { 0 };
    for (unsigned c = 0; c < SMALLMID_NUM_CLASSES; c++) {
        const hak_class_stats *s = &g_hak_stats.smallmid[c];
        print_class("smallmid", c, smallmid_class_size(c), s);
        t.allocs += LD(s->allocs); t.frees += LD(s->frees); t.tls_hits += LD(s->tls_hits);
        t.tls_misses += LD(s->tls_misses); t.refills += LD(s->refills);
        t.lost_blocks += LD(s->lost_blocks); t.superslabs += LD(s->superslabs);
    }
    hak_buf_str(&o, "=== Small-Mid Allocator Statistics ===\n");
#if HAKMEM_STATS_BUILD
    hak_buf_str(&o, "Total allocs:      "); hak_buf_u64(&o, t.allocs); hak_buf_str(&o, "\n");
    hak_buf_str(&o, "Total frees:       "); hak_buf_u64(&o, t.frees); hak_buf_str(&o, "\n");
    hak_buf_str(&o, "TLS hits:          "); hak_buf_u64(&o, t.tls_hits); hak_buf_str(&o, "\n");
#else
    hak_buf_str(&o, "Total allocs/frees, TLS hits: not counted in release builds (make STATS=1)\n");
#endif
    hak_buf_str(&o, "TLS misses:        "); hak_buf_u64(&o, t.tls_misses); hak_buf_str(&o, "\n");
    hak_buf_str(&o, "SuperSlab refills: "); hak_buf_u64(&o, t.refills); hak_buf_str(&o, "\n");
#if HAKMEM_STATS_BUILD
    hak_buf_str(&o, "TLS hit rate:      "); hak_buf_pct(&o, t.tls_hits, t.allocs); hak_buf_str(&o, "\n");
#endif
    hak_buf_str(&o, "Blocks lost:       "); hak_buf_u64(&o, t.lost_blocks); hak_buf_str(&o, "\n");
    hak_buf_str(&o, "SuperSlabs:        "); hak_buf_u64(&o, t.superslabs); hak_buf_str(&o, "\n");
    hak_buf_flush(&o);

    for (unsigned c = 0; c < MID_NUM_CLASSES; c++)
        print_class("mid", c, mid_class_size(c), &g_hak_stats.mid[c]);
    hak_buf_str(&o, "large allocs ");
    hak_buf_u64(&o, LD(g_hak_stats.large_allocs));
    hak_buf_str(&o, " frees ");
    hak_buf_u64(&o, LD(g_hak_stats.large_frees));
    hak_buf_str(&o, " cache_hits ");
    hak_buf_u64(&o, LD(g_hak_stats.large_cache_hits));
    hak_buf_str(&o, " remaps ");
    hak_buf_u64(&o, LD(g_hak_stats.large_remaps));
    hak_buf_str(&o, " splits ");
    hak_buf_u64(&o, LD(g_hak_stats.large_splits));
    hak_buf_str(&o, " merges ");
    hak_buf_u64(&o, LD(g_hak_stats.large_merges));
    hak_buf_str(&o, " grown_down ");
    hak_buf_u64(&o, LD(g_hak_stats.large_grown_down));
    hak_buf_str(&o, " moves ");
    hak_buf_u64(&o, LD(g_hak_stats.large_moves));
    hak_buf_str(&o, " purges ");
    hak_buf_u64(&o, LD(g_hak_stats.large_purges));
    hak_buf_str(&o, "\nthreads started ");
    hak_buf_u64(&o, LD(g_hak_stats.threads_started));
    hak_buf_str(&o, " exited ");
    hak_buf_u64(&o, LD(g_hak_stats.threads_exited));
    hak_buf_str(&o, "\n");
    hak_buf_flush(&o);
    const hak_pool_stats *ps = &g_hak_stats.pool;
    if (LD(ps->slabs_put) | LD(ps->slabs_taken) | LD(ps->ss_decommitted) | LD(ps->ss_unmapped) |
        LD(ps->ss_prewarmed)) {
        hak_buf_str(&o, "shared pool slabs_put ");
        hak_buf_u64(&o, LD(ps->slabs_put));
        hak_buf_str(&o, " slabs_taken ");
        hak_buf_u64(&o, LD(ps->slabs_taken));
        hak_buf_str(&o, " class_changes ");
        hak_buf_u64(&o, LD(ps->class_changes));
        hak_buf_str(&o, "\nshared pool superslabs warm ");
        hak_buf_u64(&o, LD(ps->ss_warm));
        hak_buf_str(&o, " reused ");
        hak_buf_u64(&o, LD(ps->ss_reused));
        hak_buf_str(&o, " decommitted ");
        hak_buf_u64(&o, LD(ps->ss_decommitted));
        hak_buf_str(&o, " unmapped ");
        hak_buf_u64(&o, LD(ps->ss_unmapped));
        if (LD(ps->ss_prewarmed) | LD(ps->ss_huge)) {
            hak_buf_str(&o, " prewarmed ");
            hak_buf_u64(&o, LD(ps->ss_prewarmed));
            hak_buf_str(&o, " huge ");
            hak_buf_u64(&o, LD(ps->ss_huge));
        }
        hak_buf_str(&o, "\n");
        hak_buf_flush(&o);
    }
    print_os("os superslab", HAK_OS_SUPERSLAB);
    print_os("os mid      ", HAK_OS_MID);
    print_os("os large    ", HAK_OS_LARGE);
    print_os("os meta     ", HAK_OS_META);
    hak_buf_str(&o, "=======================================\n");
    hak_buf_flush(&o);
}
