/**
 * test_threads.c - cross-thread frees with content checks, thread churn without
 * memory growth, fork from a multithreaded parent.
 *
 * Worker threads never call ck_assert (Check reports from the test's main thread
 * only); they count errors, which the main thread asserts on.
 */
#include "test_util.h"
#include "phase_traits.h"
#include "hak_os.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A size drawn over every range: tiny, small-mid, mid, some large. */
static size_t any_size(uint64_t *rs) {
    uint64_t r = rng_next(rs);
    switch (r % 100) {
    case 0: return 65537 + (r >> 8) % 300000;                 /* large  1% */
    case 1 ... 30: return 1025 + (r >> 8) % (65536 - 1024);   /* mid   30% */
    case 31 ... 55: return 256 + (r >> 8) % 769;              /* smallmid range 25% */
    default: return 1 + (r >> 8) % 255;                       /* tiny  44% */
    }
}

/* ---- producer / consumer ------------------------------------------------ */

typedef struct { void *p; size_t n; } item;

#define QCAP 1024
static struct {
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    item q[QCAP];
    size_t head, count;
    int producers_left;
} g_q = { .mu = PTHREAD_MUTEX_INITIALIZER, .not_empty = PTHREAD_COND_INITIALIZER,
          .not_full = PTHREAD_COND_INITIALIZER };

static long g_bad_blocks, g_consumed, g_null_allocs;

static void q_push(item it) {
    pthread_mutex_lock(&g_q.mu);
    while (g_q.count == QCAP) pthread_cond_wait(&g_q.not_full, &g_q.mu);
    g_q.q[(g_q.head + g_q.count++) % QCAP] = it;
    pthread_cond_signal(&g_q.not_empty);
    pthread_mutex_unlock(&g_q.mu);
}

static int q_pop(item *out) {
    pthread_mutex_lock(&g_q.mu);
    while (g_q.count == 0 && g_q.producers_left > 0) pthread_cond_wait(&g_q.not_empty, &g_q.mu);
    if (g_q.count == 0) { pthread_mutex_unlock(&g_q.mu); return 0; }
    *out = g_q.q[g_q.head];
    g_q.head = (g_q.head + 1) % QCAP;
    g_q.count--;
    pthread_cond_signal(&g_q.not_full);
    pthread_mutex_unlock(&g_q.mu);
    return 1;
}

#define ITEMS_PER_PRODUCER 40000

static void *producer(void *arg) {
    uint64_t rs = 0x2545F4914F6CDD1DULL ^ (uintptr_t)arg;
    /* Keep a few blocks of our own alive and check them at the end: blocks freed
     * by other threads must not come back on top of them. */
    enum { KEEP = 64 };
    item keep[KEEP];
    for (int i = 0; i < KEEP; i++) {
        keep[i].n = any_size(&rs);
        keep[i].p = malloc(keep[i].n);
        if (keep[i].p) pattern_fill(keep[i].p, keep[i].n, 7);
    }
    for (int i = 0; i < ITEMS_PER_PRODUCER; i++) {
        item it = { NULL, any_size(&rs) };
        it.p = malloc(it.n);
        if (!it.p) { __atomic_fetch_add(&g_null_allocs, 1, __ATOMIC_RELAXED); continue; }
        pattern_fill(it.p, it.n, 0);
        q_push(it);
    }
    for (int i = 0; i < KEEP; i++) {
        if (!keep[i].p || pattern_check(keep[i].p, keep[i].n, 7) != PATTERN_OK)
            __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED);
        free(keep[i].p);
    }
    pthread_mutex_lock(&g_q.mu);
    g_q.producers_left--;
    pthread_cond_broadcast(&g_q.not_empty);
    pthread_mutex_unlock(&g_q.mu);
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    item it;
    while (q_pop(&it)) {
        if (pattern_check(it.p, it.n, 0) != PATTERN_OK)
            __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED);
        /* Reuse on this thread before freeing the remote block. */
        void *mine = malloc(it.n);
        if (mine) { pattern_fill(mine, it.n, 3); if (pattern_check(mine, it.n, 3) != PATTERN_OK)
            __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED); }
        free(it.p);
        free(mine);
        __atomic_fetch_add(&g_consumed, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

START_TEST(test_cross_thread_free) {
    enum { NP = 2, NC = 2 };
    pthread_t p[NP], c[NC];
    g_q.producers_left = NP;
    for (int i = 0; i < NC; i++) ck_assert_int_eq(pthread_create(&c[i], NULL, consumer, NULL), 0);
    for (int i = 0; i < NP; i++)
        ck_assert_int_eq(pthread_create(&p[i], NULL, producer, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < NP; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < NC; i++) pthread_join(c[i], NULL);
    ck_assert_int_eq(g_null_allocs, 0);
    ck_assert_int_eq(g_bad_blocks, 0);
    ck_assert_int_eq(g_consumed, (long)NP * ITEMS_PER_PRODUCER);
}
END_TEST

/* Ring: thread i allocates, thread i+1 frees, in lock-step batches, all threads
 * at once (every thread is both a remote freer and an allocator). */
#define RING 4
#define RING_BATCH 256
#define RING_ROUNDS 150
static item g_ring[RING][RING_BATCH];
static pthread_barrier_t g_ring_bar;

static void *ring_worker(void *arg) {
    int id = (int)(uintptr_t)arg;
    uint64_t rs = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1);
    for (int r = 0; r < RING_ROUNDS; r++) {
        for (int k = 0; k < RING_BATCH; k++) {
            size_t n = any_size(&rs);
            void *p = malloc(n);
            if (!p) { __atomic_fetch_add(&g_null_allocs, 1, __ATOMIC_RELAXED); n = 0; }
            else pattern_fill(p, n, (uint32_t)r);
            g_ring[id][k] = (item){ p, n };
        }
        pthread_barrier_wait(&g_ring_bar);
        int from = (id + 1) % RING;
        for (int k = 0; k < RING_BATCH; k++) {
            item it = g_ring[from][k];
            if (it.p && pattern_check(it.p, it.n, (uint32_t)r) != PATTERN_OK)
                __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED);
            free(it.p);
        }
        pthread_barrier_wait(&g_ring_bar);
    }
    return NULL;
}

START_TEST(test_ring_remote_free) {
    pthread_t t[RING];
    pthread_barrier_init(&g_ring_bar, NULL, RING);
    for (int i = 0; i < RING; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, ring_worker, (void *)(uintptr_t)i), 0);
    for (int i = 0; i < RING; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&g_ring_bar);
    ck_assert_int_eq(g_null_allocs, 0);
    ck_assert_int_eq(g_bad_blocks, 0);
}
END_TEST

/* ---- producer / consumer: flat memory -------------------------------------
 * One thread allocates 256..1024 B blocks, another frees them: every free is
 * remote and lands in the consumer's TLS lists, whose overflow must reach the
 * producer's refills again.  17-2 with Small-Mid on loses that overflow (its
 * documented weakness) and grows; everything else stays flat. */
#define PC_RING 4096
static void *volatile g_pc_ring[PC_RING];
static unsigned long g_pc_items;

static void *pc_producer(void *arg) {
    uint64_t rs = 0xABCDEF12345ULL ^ (uintptr_t)arg;
    for (unsigned long i = 0; i < g_pc_items; i++) {
        size_t n = 256 + (size_t)(rng_next(&rs) % 769);
        char *p = malloc(n);
        if (!p) { __atomic_fetch_add(&g_null_allocs, 1, __ATOMIC_RELAXED); continue; }
        p[0] = (char)n; p[n - 1] = (char)i;
        void *volatile *slot = &g_pc_ring[i % PC_RING];
        while (__atomic_load_n(slot, __ATOMIC_ACQUIRE)) sched_yield();
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *pc_consumer(void *arg) {
    (void)arg;
    for (unsigned long i = 0; i < g_pc_items; i++) {
        void *volatile *slot = &g_pc_ring[i % PC_RING];
        void *p;
        while (!(p = __atomic_load_n(slot, __ATOMIC_ACQUIRE))) {
            if (__atomic_load_n(&g_null_allocs, __ATOMIC_RELAXED)) return NULL;
            sched_yield();
        }
        __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
        free(p);
    }
    return NULL;
}

static void pc_round(unsigned long items) {
    pthread_t pr, co;
    g_pc_items = items;
    ck_assert_int_eq(pthread_create(&co, NULL, pc_consumer, NULL), 0);
    ck_assert_int_eq(pthread_create(&pr, NULL, pc_producer, (void *)(uintptr_t)items), 0);
    pthread_join(pr, NULL);
    pthread_join(co, NULL);
}

/* Bytes of SuperSlab memory the allocator holds (its own counters: RSS would count a
 * sanitizer's shadow memory too). */
static long superslab_bytes(void) {
    hak_os_counters c;
    hak_os_counters_get(HAK_OS_SUPERSLAB, &c);
    return (long)(c.bytes_mapped - c.bytes_released - c.bytes_decommitted);
}

START_TEST(test_prodcons_flat_memory) {
    pc_round(200000);                          /* warm-up */
    long before = superslab_bytes();
    for (int r = 0; r < 6; r++) pc_round(200000);
    long after = superslab_bytes();
    ck_assert_int_eq(g_null_allocs, 0);
    long growth = after > before ? after - before : 0;
    if (PHASE_SMALLMID_OVERFLOW_LEAKS && smallmid_on()) {
        ck_assert_msg(growth > (64l << 20), "SuperSlab memory grew by only %ld KiB over 1.2M "
                      "remote frees: the documented loss did not show", growth >> 10);
    } else {
        ck_assert_msg(growth < (16l << 20), "SuperSlab memory grew by %ld KiB over 1.2M remote "
                      "frees (%ld -> %ld KiB)", growth >> 10, before >> 10, after >> 10);
    }
}
END_TEST

/* ---- thread churn ------------------------------------------------------- */

#define CHURN_BLOCKS 300
#define CHURN_LEFT 6
#define CHURN_CONC 4
#define CHURN_PER_ROUND 200
static item g_left[CHURN_PER_ROUND][CHURN_LEFT];

static void *churn_thread(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t rs = 0xD1B54A32D192ED03ULL ^ ((uint64_t)id * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)id;
    item b[CHURN_BLOCKS];
    for (int i = 0; i < CHURN_BLOCKS; i++) {
        size_t n = any_size(&rs);
        /* A phase that documents lost Small-Mid blocks (phase17_2 with Small-Mid on)
         * grows here by design; test_phase.c asserts that growth.  This test keeps
         * asserting no growth for everything else. */
        if (PHASE_SMALLMID_OVERFLOW_LEAKS && smallmid_on() && n >= 256 && n <= 1024) n += 1024;
        b[i].n = n;
        b[i].p = malloc(n);
        if (!b[i].p) { __atomic_fetch_add(&g_null_allocs, 1, __ATOMIC_RELAXED); b[i].n = 0; continue; }
        pattern_fill(b[i].p, n, id);
    }
    for (int i = 0; i < CHURN_BLOCKS; i++) {
        if (b[i].p && pattern_check(b[i].p, b[i].n, id) != PATTERN_OK)
            __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED);
        if (i < CHURN_LEFT) g_left[id % CHURN_PER_ROUND][i] = b[i];   /* main frees these */
        else free(b[i].p);
    }
    return NULL;
}

static void churn_round(unsigned round) {
    for (unsigned base = 0; base < CHURN_PER_ROUND; base += CHURN_CONC) {
        pthread_t t[CHURN_CONC];
        for (unsigned k = 0; k < CHURN_CONC; k++) {
            unsigned id = round * CHURN_PER_ROUND + base + k;
            ck_assert_int_eq(pthread_create(&t[k], NULL, churn_thread, (void *)(uintptr_t)id), 0);
        }
        for (unsigned k = 0; k < CHURN_CONC; k++) pthread_join(t[k], NULL);
    }
    for (unsigned i = 0; i < CHURN_PER_ROUND; i++) {
        unsigned id = round * CHURN_PER_ROUND + i;
        for (int k = 0; k < CHURN_LEFT; k++) {
            item it = g_left[i][k];
            if (it.p && pattern_check(it.p, it.n, id) != PATTERN_OK) g_bad_blocks++;
            free(it.p);
        }
    }
}

START_TEST(test_thread_churn_no_growth) {
    churn_round(0);                       /* warm-up: 200 threads */
    churn_round(1);
    size_t before = rss_bytes();
    for (unsigned r = 2; r < 10; r++) churn_round(r);  /* 1600 more threads */
    size_t after = rss_bytes();
    ck_assert_int_eq(g_null_allocs, 0);
    ck_assert_int_eq(g_bad_blocks, 0);
    size_t growth = after > before ? after - before : 0;
    ck_assert_msg(growth < ((size_t)64 << 20),
                  "RSS grew by %zu KiB over 1600 short-lived threads (%zu -> %zu KiB)",
                  growth >> 10, before >> 10, after >> 10);
}
END_TEST

/* ---- allocation from TLS destructors ---------------------------------------
 * A key created after hakmem's (hakmem creates its key at the first allocation)
 * has its destructor run after hakmem's thread-exit hook: malloc/free there must
 * still work, and must not leak memory thread after thread. */
static pthread_key_t g_late_key;

static void late_destructor(void *arg) {
    uint64_t rs = (uintptr_t)arg;
    item b[64];
    for (int i = 0; i < 64; i++) {
        b[i].n = any_size(&rs);
        b[i].p = malloc(b[i].n);
        if (!b[i].p) { __atomic_fetch_add(&g_null_allocs, 1, __ATOMIC_RELAXED); continue; }
        pattern_fill(b[i].p, b[i].n, 9);
    }
    for (int i = 0; i < 64; i++) {
        if (b[i].p && pattern_check(b[i].p, b[i].n, 9) != PATTERN_OK)
            __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED);
        free(b[i].p);
    }
}

static void *late_key_thread(void *arg) {
    for (int i = 0; i < 100; i++) free(malloc(16 + (size_t)i * 300));
    pthread_setspecific(g_late_key, arg);
    return NULL;
}

static void late_key_round(unsigned base) {
    for (unsigned i = 0; i < 100; i += 4) {
        pthread_t t[4];
        for (unsigned k = 0; k < 4; k++)
            ck_assert_int_eq(pthread_create(&t[k], NULL, late_key_thread,
                                            (void *)(uintptr_t)(base + i + k + 1)), 0);
        for (unsigned k = 0; k < 4; k++) pthread_join(t[k], NULL);
    }
}

START_TEST(test_alloc_in_late_tls_destructor) {
    free(malloc(hide_size(10)));                 /* hakmem's key first */
    ck_assert_int_eq(pthread_key_create(&g_late_key, late_destructor), 0);
    late_key_round(0);
    late_key_round(100);
    size_t before = rss_bytes();
    for (unsigned r = 2; r < 12; r++) late_key_round(r * 100);
    size_t after = rss_bytes();
    ck_assert_int_eq(g_null_allocs, 0);
    ck_assert_int_eq(g_bad_blocks, 0);
    size_t growth = after > before ? after - before : 0;
    ck_assert_msg(growth < ((size_t)64 << 20), "RSS grew by %zu KiB over 1000 threads", growth >> 10);
}
END_TEST

/* ---- fork from a multithreaded parent ----------------------------------- */

static volatile int g_stop;

static void *busy_thread(void *arg) {
    uint64_t rs = (uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1;
    void *slots[64] = { 0 };
    size_t ns[64] = { 0 };
    while (!__atomic_load_n(&g_stop, __ATOMIC_RELAXED)) {
        unsigned k = (unsigned)(rng_next(&rs) % 64);
        if (slots[k]) {
            if (pattern_check(slots[k], ns[k], 1) != PATTERN_OK)
                __atomic_fetch_add(&g_bad_blocks, 1, __ATOMIC_RELAXED);
            free(slots[k]);
        }
        ns[k] = any_size(&rs);
        slots[k] = malloc(ns[k]);
        if (slots[k]) pattern_fill(slots[k], ns[k], 1);
    }
    for (int k = 0; k < 64; k++) free(slots[k]);
    return NULL;
}

static __attribute__((unused)) void *child_thread(void *arg) {
    (void)arg;
    for (size_t n = 1; n <= 70000; n = n * 2 + 3) {
        void *p = malloc(n);
        if (!p) return (void *)1;
        pattern_fill(p, n, 5);
        if (pattern_check(p, n, 5) != PATTERN_OK) return (void *)1;
        free(p);
    }
    return NULL;
}

static int child_work(void) {
    signal(SIGALRM, SIG_DFL);          /* not Check's timeout handler (kills the test) */
    alarm(20);                         /* a deadlocked allocator lock becomes SIGALRM */
    enum { K = 16 };
    for (size_t n = 1; n <= 140000; n += (n < 1024 ? 7 : n < 65536 ? 997 : 20000)) {
        void *v[K];
        for (int k = 0; k < K; k++) {
            v[k] = malloc(n);
            if (!v[k]) return 2;
            pattern_fill(v[k], n, (uint32_t)k);
        }
        for (int k = 0; k < K; k++) {
            if (pattern_check(v[k], n, (uint32_t)k) != PATTERN_OK) return 3;
            free(v[k]);
        }
    }
    void *big = calloc(1, 3u << 20);
    if (!big) return 4;
    free(big);
#ifndef HAK_TEST_PREFIXED
    /* (Not under a sanitizer: its own allocator, which pthread_create uses, is not
     * fork-safe and deadlocks in the child of a multithreaded parent.) */
    pthread_t t;
    void *res = (void *)1;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0) return 5;
    pthread_join(t, &res);
    if (res != NULL) return 6;
#endif
    return 0;
}

START_TEST(test_fork_multithreaded) {
    enum { NT = 3, NFORK = 50 };
    pthread_t t[NT];
    g_stop = 0;
    for (int i = 0; i < NT; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, busy_thread, (void *)(uintptr_t)(i + 1)), 0);
    int bad = 0;
    char why[256] = "";
    for (int f = 0; f < NFORK; f++) {
        /* parent allocates around the fork too */
        void *p = malloc(100 + (size_t)f * 997);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) _exit(child_work());
        free(p);
        int st = 0;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            if (!bad)
                snprintf(why, sizeof why, "fork #%d: child %s %d", f,
                         WIFSIGNALED(st) ? "killed by signal" : "exited with",
                         WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            bad++;
        }
    }
    __atomic_store_n(&g_stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < NT; i++) pthread_join(t[i], NULL);
    ck_assert_msg(bad == 0, "%d of %d children failed; first: %s (SIGALRM=%d: deadlock)", bad,
                  NFORK, why, SIGALRM);
    ck_assert_int_eq(g_bad_blocks, 0);
}
END_TEST

Suite *threads_suite(void) {
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_cross_thread_free);
    tcase_add_test(tc, test_ring_remote_free);
    tcase_add_test(tc, test_prodcons_flat_memory);
    tcase_add_test(tc, test_thread_churn_no_growth);
    tcase_add_test(tc, test_alloc_in_late_tls_destructor);
    tcase_add_test(tc, test_fork_multithreaded);
    suite_add_tcase(s, tc);
    return s;
}
