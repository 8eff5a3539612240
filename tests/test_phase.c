/**
 * test_phase.c - what distinguishes one phase from another, asserted against the
 * traits the phase declares, as literals, in its phase_traits.h (test-only):
 *   PHASE_SMALLMID_OWN_TAG          Small-Mid blocks carry 0xb0|class
 *   PHASE_SMALLMID_DEDICATED_SS     ... in SuperSlabs of their own
 *   PHASE_SMALLMID_REFILL_BATCH     blocks a Small-Mid TLS refill brings, per class
 *   PHASE_SMALLMID_SLOW_START       ... ramped up over a thread's first three refills
 *   PHASE_SMALLMID_OVERFLOW_LEAKS   TLS-overflow frees are lost (the seed's 17-2)
 *   PHASE_SMALLMID_FROM             the smallest request Small-Mid serves when on
 * Each test also asserts the HAKMEM_SMALLMID_ENABLE=0 side: 256..1024 B are Tiny's.
 */
#include "test_util.h"
#include "phase_traits.h"
#include "hak_os.h"
#include "hak_life.h"
#include "hak_registry.h"
#include "hak_slab.h"
#include "hak_stats.h"

/* The Tiny classes, as literals (hak_size_class.h). */
static const size_t k_tiny_sizes[] = { 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024 };
/* Tiny class of a request of n bytes (1..1024) with Small-Mid off. */
static unsigned tiny_class_lit(size_t n) {
    unsigned c = 0;
    while (k_tiny_sizes[c] < n) c++;
    return c;
}
/* Tiny class of the same block size as Small-Mid class c (256 B is Tiny class 7). */
#define TINY_OF_SMALLMID(c) (7u + 2u * (c))
static const unsigned k_refill_batch[3] = PHASE_SMALLMID_REFILL_BATCH;

static const size_t k_sm_sizes[] = { 256, 300, 512, 513, 700, 1000, 1024 };
#define NSM (sizeof k_sm_sizes / sizeof k_sm_sizes[0])

/* ---- where 256..1024 B blocks come from ------------------------------------ */

START_TEST(test_smallmid_block_origin) {
    for (size_t i = 0; i < NSM; i++) {
        size_t n = k_sm_sizes[i];
        void *p = malloc(hide_size(n));
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup(p)), HAK_REG_SMALL);
        unsigned tag = hak_meta_from_ptr(p)->tag;
        /* 256 -> 0, 300/512 -> 1, 513..1024 -> 2 (Small-Mid, over Tiny 7, 9, 11 in
         * Phase 17-1); with Small-Mid off Tiny's own class (300 B: 384, class 8) */
        unsigned sc = n <= 256 ? 0 : n <= 512 ? 1 : 2;
        unsigned tc = smallmid_on() ? TINY_OF_SMALLMID(sc) : tiny_class_lit(n);
        if (smallmid_on() && PHASE_SMALLMID_OWN_TAG) {
            ck_assert_msg(tag == (0xb0 | sc), "n=%zu tag 0x%x", n, tag);
            if (PHASE_SMALLMID_DEDICATED_SS) {
                /* ... in a SuperSlab no Tiny class shares (17-2 assigns slabs in order). */
                hak_superslab *ss = hak_ss_from_ptr(p);
                for (unsigned s = 0; s < ss->nassigned; s++)
                    ck_assert_msg((ss->slabs[s].tag & 0xf0) == 0xb0,
                                  "Small-Mid SuperSlab %p holds slab %u with tag 0x%x", (void *)ss,
                                  s, ss->slabs[s].tag);
            }
        } else {
            /* Tiny's own slabs: the Baseline, and Phase 17-1's front over Tiny. */
            ck_assert_msg(tag == (0xa0 | tc), "n=%zu tag 0x%x", n, tag);
        }
        free(p);
    }
    /* 129..255 B are Tiny blocks (200 B: 256, class 7) in every mode (Phase 17-1's
     * Small-Mid front hands them out, from Tiny's 256 B class). */
    void *q = malloc(hide_size(200));
    ck_assert_uint_eq(hak_meta_from_ptr(q)->tag, 0xa0 | 7);
    free(q);
}
END_TEST

/* ---- refill batch sizes ---------------------------------------------------- */

static void *one_alloc(void *arg) {
    size_t n = (size_t)(uintptr_t)arg;
    void *p = malloc(hide_size(n));                /* a new thread: empty TLS lists */
    free(p);
    return p;
}

/* A new thread's first four Small-Mid refills of class got[0]: got[k] = the blocks
 * refill k + 1 brought (the blocks are kept until the end, so no free refills). */
#define NREFILL 4
static void *refill_sequence(void *arg) {
    uint64_t *got = arg;
    unsigned c = (unsigned)got[0];
    hak_class_stats *s = &g_hak_stats.smallmid[c];
    void *held[256];
    unsigned nh = 0;
    for (unsigned k = 0; k < NREFILL; k++) {
        uint64_t r0 = s->refills, b0 = s->refill_blocks;
        while (s->refills == r0 && nh < 256) {
            held[nh] = malloc(hide_size((size_t)256 << c));
            ck_assert_ptr_nonnull(held[nh]);
            nh++;
        }
        got[k] = s->refills == r0 + 1 ? s->refill_blocks - b0 : 0;
    }
    while (nh) free(held[--nh]);
    return NULL;
}

START_TEST(test_smallmid_refill_batch) {
    for (unsigned c = 0; c < 3; c++) {
        uint64_t t0 = g_hak_stats.tiny[TINY_OF_SMALLMID(c)].refills;
        uint64_t r0 = g_hak_stats.smallmid[c].refills;
        pthread_t t;
        if (smallmid_on()) {
            (void)hak_reclaim();                /* no cached chain for the thread to take */
            uint64_t got[NREFILL] = { c };
            ck_assert_int_eq(pthread_create(&t, NULL, refill_sequence, got), 0);
            pthread_join(t, NULL);
            for (unsigned k = 0; k < NREFILL; k++) {
                unsigned want = k_refill_batch[c];
                if (PHASE_SMALLMID_SLOW_START && k < 3) want >>= 3 - k;
                if (want == 0) want = 1;
                ck_assert_msg(got[k] == want, "class %u: refill %u brought %llu blocks, the "
                              "phase says %u", c, k + 1, (unsigned long long)got[k], want);
            }
            ck_assert_msg(g_hak_stats.tiny[TINY_OF_SMALLMID(c)].refills == t0, "class %u: a Small-Mid allocation refilled Tiny's TLS list", c);
        } else {
            void *ret;
            ck_assert_int_eq(pthread_create(&t, NULL, one_alloc, (void *)((uintptr_t)256 << c)), 0);
            pthread_join(t, &ret);
            ck_assert_ptr_nonnull(ret);
            uint64_t dr = g_hak_stats.smallmid[c].refills - r0;
            uint64_t dt = g_hak_stats.tiny[TINY_OF_SMALLMID(c)].refills - t0;
            ck_assert_msg(dr == 0 && dt == 1, "class %u: Small-Mid off, yet %llu Small-Mid / %llu "
                          "Tiny refills", c, (unsigned long long)dr, (unsigned long long)dt);
        }
    }
}
END_TEST

/* ---- churn: the SuperSlab count ------------------------------------------- */

static long superslabs_live(void) {
    hak_os_counters c;
    hak_os_counters_get(HAK_OS_SUPERSLAB, &c);
    return (long)(c.maps - c.unmaps);
}

#define CHURN_SLOTS 4096
static void *g_slots[CHURN_SLOTS];

/* The seed's random-mixed churn: free if the slot is full, else allocate and touch. */
static void churn(long ops, size_t sz, uint64_t *rs) {
    for (long i = 0; i < ops; i++) {
        unsigned k = (unsigned)(rng_next(rs) % CHURN_SLOTS);
        if (g_slots[k]) {
            free(g_slots[k]);
            g_slots[k] = NULL;
        } else {
            g_slots[k] = malloc(hide_size(sz));
            ck_assert_ptr_nonnull(g_slots[k]);
            memset(g_slots[k], 0x5a, 64);
        }
    }
}

START_TEST(test_smallmid_churn_superslabs) {
    uint64_t rs = 0x9E3779B97F4A7C15ULL;
    uint64_t lost0 = g_hak_stats.smallmid[1].lost_blocks;
    churn(300000, 512, &rs);                              /* warm-up */
    long s1 = superslabs_live();
    churn(3000000, 512, &rs);
    long s2 = superslabs_live();
    uint64_t lost = g_hak_stats.smallmid[1].lost_blocks - lost0;
    if (PHASE_SMALLMID_OVERFLOW_LEAKS && smallmid_on()) {
        /* The documented weakness: overflow frees are lost, fresh SuperSlabs keep
         * being mapped (and first-touched) for as long as the churn runs. */
        ck_assert_msg(lost > 0, "no Small-Mid block was lost");
        ck_assert_msg(s2 >= s1 + 4, "SuperSlabs %ld -> %ld: the documented growth did not show", s1, s2);
    } else {
        ck_assert_msg(lost == 0, "%llu blocks lost", (unsigned long long)lost);
        ck_assert_msg(s2 == s1, "SuperSlabs %ld -> %ld after warm-up: churn should reuse them", s1, s2);
    }
    for (unsigned k = 0; k < CHURN_SLOTS; k++) { free(g_slots[k]); g_slots[k] = NULL; }
}
END_TEST

/* ---- a block that overflowed the TLS list is still checked ----------------- */

#define OVERFLOW_N 64                       /* more than any Small-Mid TLS capacity */
static void *g_ov[OVERFLOW_N];
static char g_out[4096];

static void free_all_then_again(void *arg) {
    (void)arg;
    for (int i = 0; i < OVERFLOW_N; i++) free(g_ov[i]);
    free(g_ov[OVERFLOW_N - 1]);             /* its free overflowed the TLS list */
}

START_TEST(test_overflowed_block_double_free) {
    for (int i = 0; i < OVERFLOW_N; i++) g_ov[i] = malloc(hide_size(512));
    int st = death_run(free_all_then_again, NULL, g_out, sizeof g_out, 20);
    assert_abort_msg(st, g_out, "free", REASON_DOUBLE, g_ov[OVERFLOW_N - 1]);
    for (int i = 0; i < OVERFLOW_N; i++) free(g_ov[i]);
}
END_TEST



/* ---- malloc and free agree on which front owns a block ----------------------
 * A thread allocates 300 blocks of n bytes and frees them all: the front whose TLS
 * list refilled (malloc's) must be the one whose list overflowed (free's).  The
 * seed's 17-1 routed 129..255 B to Tiny on malloc and to Small-Mid on free. */
static size_t g_agree_n;
static void *agree_thread(void *arg) {
    (void)arg;
    void *v[300];
    for (int i = 0; i < 300; i++) v[i] = malloc(hide_size(g_agree_n));
    for (int i = 0; i < 300; i++) free(v[i]);
    return NULL;
}

START_TEST(test_fronts_agree) {
    static const size_t sizes[] = { 130, 200, 255, 256, 300, 1000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned sc = n <= 256 ? 0 : n <= 512 ? 1 : 2, tc = tiny_class_lit(n);
        hak_class_stats *t = &g_hak_stats.tiny[tc], *m = &g_hak_stats.smallmid[sc];
        uint64_t tr = t->refills, tf = t->flushes, mr = m->refills, mf = m->flushes, ml = m->lost_blocks;
        g_agree_n = n;
        pthread_t th;
        ck_assert_int_eq(pthread_create(&th, NULL, agree_thread, NULL), 0);
        pthread_join(th, NULL);
        int tiny_in = t->refills > tr, tiny_out = t->flushes > tf;
        int sm_in = m->refills > mr, sm_out = m->flushes > mf || m->lost_blocks > ml;
        ck_assert_msg(tiny_in == tiny_out && sm_in == sm_out,
                      "n=%zu: Tiny refilled %d / overflowed %d, Small-Mid refilled %d / overflowed %d",
                      n, tiny_in, tiny_out, sm_in, sm_out);
        ck_assert_msg(tiny_in + sm_in == 1, "n=%zu: %d fronts refilled", n, tiny_in + sm_in);
    }
}
END_TEST

/* ---- Phase 18: a slab changes class ---------------------------------------
 * 64 B blocks fill slabs; once every block of a slab is back, a reuse phase gives the
 * slab to the shared pool, and 512 B blocks are later carved from it.  A stale 64 B
 * pointer into it must then be judged by the new layout: a free 512 B position is a
 * double free, a never-carved one or a non-block offset is not a block start.
 * Earlier phases keep the slab with its class: no 512 B block ever lands in it.
 * Slab layouts (hak_geometry.h), as literals: 64 B blocks start at slab offset
 * 2048, 512 B blocks at 1536. */
#define CC_N64 (8 * 992)                    /* eight slabs' worth of 64 B blocks */
static void *g_cc64[CC_N64];
#define CC_MAX512 200000
static void *g_cc512[CC_MAX512];

static void *cc_alloc64(void *arg) {
    (void)arg;
    for (int i = 0; i < CC_N64; i++) g_cc64[i] = malloc(hide_size(64));
    return NULL;
}
static void *cc_free64(void *arg) {
    (void)arg;
    for (int i = 0; i < CC_N64; i++) free(g_cc64[i]);
    return NULL;                        /* thread exit: the TLS list goes back too */
}
static void run_thread(void *(*fn)(void *)) {
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, fn, NULL), 0);
    pthread_join(t, NULL);
}
static void do_free_ptr(void *p) { free(p); }

START_TEST(test_slab_changes_class) {
    run_thread(cc_alloc64);
    /* A slab all of whose 992 blocks ((65536 - 2048) / 64) are ours. */
    uintptr_t best = 0;
    int best_n = 0;
    for (int i = 0; i < CC_N64 && best_n < 992; i += 61) {
        ck_assert_ptr_nonnull(g_cc64[i]);
        uintptr_t b = (uintptr_t)g_cc64[i] & ~(uintptr_t)0xffff;
        int n = 0;
        for (int k = 0; k < CC_N64; k++) n += ((uintptr_t)g_cc64[k] & ~(uintptr_t)0xffff) == b;
        if (n > best_n) { best_n = n; best = b; }
    }
    ck_assert_msg(best_n == 992, "no slab is all ours: the best has %d of 992 blocks", best_n);
    ck_assert_uint_eq(hak_meta_from_ptr((void *)best)->tag, 0xa0 | 3);      /* 64 B */
    run_thread(cc_free64);
    char *s = (char *)best;
    unsigned tag_after = hak_meta_from_ptr(s)->tag;
    /* A second free of one of its blocks, before anyone takes the slab again: a double
     * free in every phase; a non-block offset in it: not a block start / unused. */
    int st = death_run(do_free_ptr, s + 2048 + 64 * 5, g_out, sizeof g_out, 20);
    assert_abort_msg(st, g_out, "free", REASON_DOUBLE, s + 2048 + 64 * 5);
    st = death_run(do_free_ptr, s + 2048 + 8, g_out, sizeof g_out, 20);
    assert_abort_msg(st, g_out, "free", PHASE_SS_REUSE ? REASON_UNOWNED : REASON_INTERIOR, s + 2048 + 8);
    if (!PHASE_SS_REUSE) {
        ck_assert_uint_eq(tag_after, 0xa0 | 3);             /* the slab stays 64 B's */
    } else {
        ck_assert_msg(tag_after == 0, "an empty slab kept its class: tag 0x%x", tag_after);
    }
    /* 512 B blocks until one lands in the slab (reuse) or 10 MiB of them (earlier). */
    int limit = PHASE_SS_REUSE ? CC_MAX512 : 20000, n512 = 0, j2 = -1;
    char *first = NULL;
    while (n512 < limit) {
        char *q = malloc(hide_size(512));
        ck_assert_ptr_nonnull(q);
        g_cc512[n512++] = q;
        if ((uintptr_t)q >> 16 == (uintptr_t)s >> 16) {
            if (!first) first = q;
            if (q == s + 1536 + 2 * 512) { j2 = n512 - 1; break; }   /* blocks 0..2 carved */
        }
    }
    if (!PHASE_SS_REUSE) {
        ck_assert_msg(first == NULL, "a 512 B block %p landed in a 64 B slab", (void *)first);
    } else {
        ck_assert_msg(first != NULL && j2 >= 0, "%d blocks of 512 B, none from the emptied slab", n512);
        unsigned tag = hak_meta_from_ptr(s)->tag;
        ck_assert_msg(tag == (smallmid_on() ? 0xb1u : 0xa9u), "slab now has tag 0x%x", tag);
        /* Block 1 of the new class goes back: FREE. */
        for (int i = 0; i < n512; i++)
            if (g_cc512[i] == s + 1536 + 512) { free(g_cc512[i]); g_cc512[i] = NULL; }
        /* old 64 B block 0 (offset 2048) = new block 1: free -> double free */
        st = death_run(do_free_ptr, s + 2048, g_out, sizeof g_out, 20);
        assert_abort_msg(st, g_out, "free", REASON_DOUBLE, s + 2048);
        /* old block 1 (2112): inside new block 1 -> not a block start */
        st = death_run(do_free_ptr, s + 2112, g_out, sizeof g_out, 20);
        assert_abort_msg(st, g_out, "free", REASON_INTERIOR, s + 2112);
        /* old block 792 (52736) = new block 100, never carved -> not a block start */
        st = death_run(do_free_ptr, s + 52736, g_out, sizeof g_out, 20);
        assert_abort_msg(st, g_out, "free", REASON_INTERIOR, s + 52736);
    }
    for (int i = 0; i < n512; i++) free(g_cc512[i]);
}
END_TEST

/* ---- Phase 18: SuperSlabs beyond the warm budget give their pages back ---- */

static void *wb_chain;
static void *wb_fill(void *arg) {
    (void)arg;
    for (int i = 0; i < (40 << 20) / 256; i++) {        /* 40 MiB of 256 B blocks */
        void **p = malloc(hide_size(256));
        if (!p) return (void *)1;
        memset(p, 1, 256);
        *p = wb_chain;
        wb_chain = p;
    }
    return NULL;
}
static void *wb_free(void *arg) {
    (void)arg;
    while (wb_chain) { void *n = *(void **)wb_chain; free(wb_chain); wb_chain = n; }
    return NULL;
}

/* Outside a Check test (a scenario): no ck_assert. */
static size_t statm_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) { if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0; fclose(f); }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}
static int plain_thread(void *(*fn)(void *)) {
    pthread_t t;
    void *ret = NULL;
    if (pthread_create(&t, NULL, fn, NULL) != 0) return -1;
    pthread_join(t, &ret);
    return ret ? -1 : 0;
}

/* Run by "--hak-scenario warm-budget" (HAKMEM_SS_WARM=2 in its environment). */
int hak_test_warm_budget(void) {
    if (plain_thread(wb_fill) != 0) return 4;
    size_t full = statm_rss();
    if (plain_thread(wb_free) != 0) return 5;
    size_t after = statm_rss();
    hak_os_counters c;
    hak_os_counters_get(HAK_OS_SUPERSLAB, &c);
    fprintf(stderr, "warm-budget rss_full_kb=%zu rss_after_kb=%zu decommitted_ss=%llu "
            "bytes_decommitted=%llu\n", full >> 10, after >> 10,
            (unsigned long long)g_hak_stats.pool.ss_decommitted,
            (unsigned long long)c.bytes_decommitted);
    return 0;
}

START_TEST(test_warm_budget) {
    int st = scenario_run("warm-budget", "HAKMEM_SS_WARM=2", g_out, sizeof g_out, 60);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x: [%s]", st, g_out);
    unsigned long long full, after, ndec, bytes;
    const char *r = strstr(g_out, "warm-budget ");
    ck_assert_msg(r && sscanf(r, "warm-budget rss_full_kb=%llu rss_after_kb=%llu decommitted_ss=%llu "
                              "bytes_decommitted=%llu", &full, &after, &ndec, &bytes) == 4, "[%s]", g_out);
    ck_assert_msg(full > 40000, "40 MiB of blocks, yet RSS %llu KiB", full);
    if (PHASE_SS_REUSE) {
        /* 40+ SuperSlabs went all-free; 2 stay warm, the rest give their pages back. */
        ck_assert_msg(ndec >= 30, "only %llu SuperSlabs decommitted beyond a warm budget of 2", ndec);
        ck_assert_msg(bytes >= ndec * ((1 << 20) - 4096), "%llu bytes for %llu SuperSlabs", bytes, ndec);
        ck_assert_msg(after + 30000 < full, "RSS %llu -> %llu KiB: the pages did not go back", full, after);
    } else {
        ck_assert_msg(ndec == 0 && after + 30000 > full, "RSS %llu -> %llu KiB, %llu decommitted: "
                      "this phase keeps its SuperSlabs", full, after, ndec);
    }
}
END_TEST


/* ---- Phase 18 Box SS-Prewarm ----------------------------------------------- */

static long thread_minflt(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

/* Run by "--hak-scenario prewarm": what start-up mapped, then the faults of the first
 * refills (4 MiB of 256 B blocks, this thread only). */
int hak_test_prewarm(void) {
    hak_os_counters c;
    hak_os_counters_get(HAK_OS_SUPERSLAB, &c);
    unsigned long long pre = g_hak_stats.pool.ss_prewarmed;
    unsigned long long populated = c.bytes_populated, maps = c.maps;
    long f0 = thread_minflt();
    void *chain = NULL;
    for (int i = 0; i < (4 << 20) / 256; i++) {
        void **p = malloc(hide_size(256));
        if (!p) return 4;
        memset(p, 7, 256);
        *p = chain;
        chain = p;
    }
    long faults = thread_minflt() - f0;
    unsigned long long huge = g_hak_stats.pool.ss_huge;
    while (chain) { void *n = *(void **)chain; free(chain); chain = n; }
    fprintf(stderr, "prewarm prewarmed=%llu huge=%llu populated=%llu maps=%llu faults=%ld\n", pre,
            huge, populated, maps, faults);
    return 0;
}

static void prewarm_scenario(const char *env, unsigned long long *pre, unsigned long long *huge,
                             unsigned long long *populated, long *faults) {
    int st = scenario_run("prewarm", env, g_out, sizeof g_out, 60);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x: [%s]", env, st, g_out);
    const char *r = strstr(g_out, "prewarm ");
    unsigned long long maps;
    ck_assert_msg(r && sscanf(r, "prewarm prewarmed=%llu huge=%llu populated=%llu maps=%llu faults=%ld",
                              pre, huge, populated, &maps, faults) == 5, "[%s]", g_out);
}

START_TEST(test_prewarm_before_first_alloc) {
    unsigned long long pre, huge, populated, pre0, huge0, populated0;
    long faults, faults0;
    prewarm_scenario("HAKMEM_SS_PREWARM=8", &pre, &huge, &populated, &faults);
    prewarm_scenario("HAKMEM_SS_PREWARM=0", &pre0, &huge0, &populated0, &faults0);
    /* 4 MiB of fresh blocks first-touch about 1000 pages where nothing was prewarmed. */
    ck_assert_msg(faults0 >= 500, "without prewarm, 4 MiB of blocks took only %ld faults", faults0);
    ck_assert_uint_eq(pre0, 0);
    if (PHASE_SS_PREWARM) {
        ck_assert_msg(pre == 8, "%llu SuperSlabs prewarmed, want 8", pre);
        ck_assert_msg(populated >= 8ull << 20, "only %llu bytes faulted in at start-up", populated);
        /* Under ASan the 4 MiB written also first-touch their shadow (a byte per 8):
         * 128 pages that are not hakmem's. */
#if defined(__SANITIZE_ADDRESS__)
        const long shadow = (4 << 20) / 8 / 4096;
#else
        const long shadow = 0;
#endif
        ck_assert_msg(faults < 64 + shadow, "the first refills from prewarmed SuperSlabs took %ld "
                      "faults", faults);
    } else {
        ck_assert_msg(pre == 0 && populated == 0 && faults >= 500,
                      "HAKMEM_SS_PREWARM=8 changed this phase: %llu prewarmed, %ld faults", pre, faults);
    }
}
END_TEST

START_TEST(test_hugepage_faults) {
    unsigned long long pre, huge, populated, pre0, huge0, populated0;
    long faults, faults0;
    prewarm_scenario("HAKMEM_SS_HUGEPAGE=1", &pre, &huge, &populated, &faults);
    prewarm_scenario("HAKMEM_SS_HUGEPAGE=0", &pre0, &huge0, &populated0, &faults0);
    ck_assert_uint_eq(huge0, 0);
    if (!PHASE_SS_PREWARM) {
        ck_assert_msg(huge == 0, "HAKMEM_SS_HUGEPAGE=1 changed this phase");
    } else if (huge == 0) {
        /* The kernel refused MADV_HUGEPAGE (THP "never"): small pages, no error. */
        ck_assert_msg(faults >= 500, "no huge pages, yet only %ld faults", faults);
    } else {
        ck_assert_msg(faults * 4 <= faults0, "huge pages: %ld faults, small pages: %ld (want 4x fewer)",
                      faults, faults0);
    }
}
END_TEST

/* Run by "--hak-scenario free-all": 64 MiB of 256 B blocks, all freed (other threads),
 * RSS before and after. */
int hak_test_free_all(void) {
    wb_chain = NULL;
    for (int k = 0; k < 2; k++) { if (plain_thread(wb_fill) != 0) return 4; }   /* 80 MiB */
    size_t full = statm_rss();
    if (plain_thread(wb_free) != 0) return 5;
    fprintf(stderr, "free-all rss_full_kb=%zu rss_after_kb=%zu\n", full >> 10, statm_rss() >> 10);
    return 0;
}

static void free_all_gives_back(const char *env) {
    int st = scenario_run("free-all", env, g_out, sizeof g_out, 60);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: status 0x%x: [%s]", env, st, g_out);
    unsigned long long full, after;
    const char *r = strstr(g_out, "free-all ");
    ck_assert_msg(r && sscanf(r, "free-all rss_full_kb=%llu rss_after_kb=%llu", &full, &after) == 2,
                  "[%s]", g_out);
    ck_assert_msg(full >= 80000, "%s: 80 MiB of blocks, RSS %llu KiB", env, full);
    if (PHASE_SS_REUSE)     /* the budget (16 MiB here) and the process stay; the rest goes back */
        ck_assert_msg(after <= 40 * 1024, "%s: RSS %llu -> %llu KiB after freeing everything", env,
                      full, after);
    else
        ck_assert_msg(after + 40 * 1024 > full, "%s: RSS %llu -> %llu KiB", env, full, after);
}

START_TEST(test_prewarm_free_all_gives_back) {
    free_all_gives_back("HAKMEM_SS_PREWARM=16");
    free_all_gives_back("HAKMEM_SS_PREWARM=16 HAKMEM_SS_HUGEPAGE=1");
    free_all_gives_back("HAKMEM_SS_HUGEPAGE=1");
}
END_TEST

/* ---- memory moves between classes and back to the OS (bench_phase_change) ---- */
#ifndef HAK_TEST_PREFIXED
static void phase_change_run(const char *from, const char *to) {
    char *dir = make_tmpdir("phasechange");
    int rc = run_sh(dir, 1, "%s/bench_phase_change %s %s 256 300 > out", HAK_TEST_BENCH, from, to);
    ck_assert_msg(rc == 0, "bench_phase_change %s %s: exit %d", from, to, rc);
    char path[512];
    snprintf(path, sizeof path, "%s/out", dir);
    char *txt = read_file_all(path, NULL);
    ck_assert_ptr_nonnull(txt);
    const char *pk = strstr(txt, "peak_kb="), *en = strstr(txt, "end_rss_kb=");
    ck_assert_msg(pk && en, "[%s]", txt);
    long peak = atol(pk + 8), end = atol(en + 11);
    if (PHASE_SS_REUSE) {
        ck_assert_msg(peak <= 300 * 1024, "%s -> %s B: peak RSS %ld KiB > 300 MiB", from, to, peak);
        ck_assert_msg(end <= 32 * 1024, "%s -> %s B: RSS %ld KiB after freeing all > 32 MiB", from, to, end);
    } else {
        /* Documented: a slab stays with its class and nothing goes back. */
        ck_assert_msg(peak > 400 * 1024 && end > 256 * 1024, "%s -> %s B: peak %ld end %ld KiB",
                      from, to, peak, end);
    }
    t_free(txt);
    remove_tree(dir);
    t_free(dir);
}

START_TEST(test_phase_change_64_512) { phase_change_run("64", "512"); }
END_TEST
START_TEST(test_phase_change_512_64) { phase_change_run("512", "64"); }
END_TEST
#endif

Suite *phase_suite(void) {
    Suite *s = suite_create("phase");
    TCase *tc = tcase_create("smallmid");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_smallmid_block_origin);
    tcase_add_test(tc, test_smallmid_refill_batch);
    tcase_add_test(tc, test_smallmid_churn_superslabs);
    tcase_add_test(tc, test_overflowed_block_double_free);
    tcase_add_test(tc, test_fronts_agree);
    suite_add_tcase(s, tc);
    tc = tcase_create("ss_reuse");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_slab_changes_class);
    tcase_add_test(tc, test_warm_budget);
    tcase_add_test(tc, test_prewarm_before_first_alloc);
    tcase_add_test(tc, test_hugepage_faults);
    tcase_add_test(tc, test_prewarm_free_all_gives_back);
#ifndef HAK_TEST_PREFIXED
    tcase_add_test(tc, test_phase_change_64_512);
    tcase_add_test(tc, test_phase_change_512_64);
#endif
    suite_add_tcase(s, tc);
    return s;
}
