/**
 * hak_stress.c - multithreaded allocator stress with a shadow check.
 *
 * Every block is filled with a pattern derived from its identity (a 64-bit id and
 * its size) and checked in full before it is freed or handed on; realloc'ed blocks
 * must keep the checked prefix; calloc'ed blocks must be zero; aligned blocks must
 * be aligned.  Sizes mix Tiny, Small-Mid, Mid and Large; a share of the blocks is
 * freed by other threads (through a shared hand-off pool); threads are created and
 * exit in rounds; optionally a thread forks while the others are inside
 * malloc/free, and each child allocates and exits.
 *
 * Uses the plain malloc API: run it under LD_PRELOAD=build/<phase>/libhakmem.so.
 * Exit status: 0 clean, 1 a check failed, 2 bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct blk {
    unsigned char *p;
    size_t size;
    uint64_t id;
} blk;

static int g_threads = 4, g_slots = 1024, g_forks = 0;
static double g_seconds = 5;
static long g_ops_per_round = 50000;
static uint64_t g_seed = 1;

static volatile int g_failed;
static uint64_t g_id_counter;
static uint64_t g_ops, g_verified, g_handoffs, g_threads_started, g_forks_done;

/* Shared hand-off pool: blocks allocated by one thread, freed by another. */
#define HANDOFF_CAP 4096
static pthread_mutex_t g_hand_lock = PTHREAD_MUTEX_INITIALIZER;
static blk g_hand[HANDOFF_CAP];
static int g_nhand;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}
static uint64_t rnd(uint64_t *s) { *s = *s * 6364136223846793005ULL + 1442695040888963407ULL; return mix(*s); }

static void fail(const char *what, const blk *b, size_t at) {
    fprintf(stderr, "hak_stress: FAIL %s: block id %llu size %zu ptr %p offset %zu\n", what,
            (unsigned long long)b->id, b->size, (void *)b->p, at);
    g_failed = 1;
}

/* Byte i of block `id`: cheap, position dependent, id dependent. */
static inline unsigned char pat(uint64_t id, size_t i) {
    uint64_t h = id * 0x9e3779b97f4a7c15ULL + (i >> 3) * 0x632be59bd9b4e019ULL;
    return (unsigned char)(h >> (8 * (i & 7)));
}
static void fill(blk *b, size_t from) {
    for (size_t i = from; i < b->size; i++) b->p[i] = pat(b->id, i);
}
static void check(const blk *b, size_t upto) {
    for (size_t i = 0; i < upto; i++)
        if (b->p[i] != pat(b->id, i)) { fail("pattern mismatch", b, i); return; }
    __atomic_fetch_add(&g_verified, 1, __ATOMIC_RELAXED);
}

static size_t pick_size(uint64_t *s) {
    uint64_t r = rnd(s) % 1000;
    if (r < 450) return 1 + rnd(s) % 256;              /* tiny        */
    if (r < 800) return 256 + rnd(s) % 769;            /* small-mid   */
    if (r < 995) return 1025 + rnd(s) % 64512;         /* mid         */
    return 65537 + rnd(s) % (1u << 20);                /* large       */
}

static int alloc_block(blk *b, uint64_t *s) {
    size_t n = pick_size(s);
    uint64_t kind = rnd(s) % 10;
    unsigned char *p = NULL;
    size_t align = 0;
    if (kind == 0) {
        align = (size_t)16 << (rnd(s) % 9);            /* 16 .. 4096 */
        void *q = NULL;
        int rc = posix_memalign(&q, align, n);
        if (rc) { fprintf(stderr, "hak_stress: posix_memalign rc %d\n", rc); g_failed = 1; return -1; }
        p = q;
    } else if (kind == 1) {
        align = (size_t)16 << (rnd(s) % 9);
        p = aligned_alloc(align, n);
    } else if (kind == 2) {
        p = calloc(1, n);
        if (p)
            for (size_t i = 0; i < n; i++)
                if (p[i]) { blk t = { p, n, 0 }; fail("calloc not zero", &t, i); break; }
    } else {
        p = malloc(n);
    }
    if (!p) { fprintf(stderr, "hak_stress: allocation of %zu failed (errno %d)\n", n, errno); g_failed = 1; return -1; }
    if (align && ((uintptr_t)p & (align - 1))) { blk t = { p, n, 0 }; fail("misaligned", &t, align); }
    if (n >= 16 ? ((uintptr_t)p & 15) : ((uintptr_t)p & 7)) { blk t = { p, n, 0 }; fail("below min alignment", &t, 0); }
    if (malloc_usable_size(p) < n) { blk t = { p, n, 0 }; fail("usable size < request", &t, 0); }
    b->p = p;
    b->size = n;
    b->id = __atomic_add_fetch(&g_id_counter, 1, __ATOMIC_RELAXED);
    fill(b, 0);
    return 0;
}

static void free_block(blk *b) {
    check(b, b->size);
    free(b->p);
    b->p = NULL;
}

static void realloc_block(blk *b, uint64_t *s) {
    size_t n = pick_size(s);
    check(b, b->size);
    unsigned char *q = realloc(b->p, n);
    if (!q) { fail("realloc returned NULL", b, n); return; }
    b->p = q;
    size_t keep = n < b->size ? n : b->size;
    blk t = *b;
    t.size = keep;
    check(&t, keep);                   /* contents kept across the class change */
    b->size = n;
    fill(b, keep);
}

static void handoff_or_free(blk *b) {
    pthread_mutex_lock(&g_hand_lock);
    if (g_nhand < HANDOFF_CAP) {
        g_hand[g_nhand++] = *b;
        b->p = NULL;
        pthread_mutex_unlock(&g_hand_lock);
        __atomic_fetch_add(&g_handoffs, 1, __ATOMIC_RELAXED);
        return;
    }
    pthread_mutex_unlock(&g_hand_lock);
    free_block(b);
}

static void take_handoff(void) {
    blk b = { 0 };
    pthread_mutex_lock(&g_hand_lock);
    if (g_nhand) b = g_hand[--g_nhand];
    pthread_mutex_unlock(&g_hand_lock);
    if (b.p) free_block(&b);
}

static void *worker(void *arg) {
    uint64_t s = mix(g_seed ^ (uintptr_t)arg);
    blk *slots = calloc((size_t)g_slots, sizeof(blk));
    if (!slots) { g_failed = 1; return NULL; }
    __atomic_fetch_add(&g_threads_started, 1, __ATOMIC_RELAXED);
    for (long i = 0; i < g_ops_per_round && !g_failed; i++) {
        blk *b = &slots[rnd(&s) % (uint64_t)g_slots];
        uint64_t r = rnd(&s) % 100;
        if (r < 5) { take_handoff(); continue; }
        if (!b->p) { alloc_block(b, &s); continue; }
        if (r < 15) realloc_block(b, &s);
        else if (r < 30) handoff_or_free(b);
        else free_block(b);
    }
    /* Leave about a quarter of the live blocks to other threads, free the rest. */
    for (int i = 0; i < g_slots; i++) {
        if (!slots[i].p) continue;
        if (i % 4 == 0) handoff_or_free(&slots[i]); else free_block(&slots[i]);
    }
    __atomic_fetch_add(&g_ops, (uint64_t)g_ops_per_round, __ATOMIC_RELAXED);
    free(slots);
    return NULL;
}

static volatile int g_stop_forker;

/* Fork while the workers are inside malloc/free; the child allocates in every size
 * range and exits; a child that hangs (deadlock) is killed by its alarm. */
static void *forker(void *arg) {
    (void)arg;
    uint64_t s = mix(g_seed ^ 0xf0f0);
    while (!g_stop_forker && !g_failed && g_forks_done < (uint64_t)g_forks) {
        pid_t pid = fork();
        if (pid < 0) { perror("hak_stress: fork"); g_failed = 1; break; }
        if (pid == 0) {
            alarm(20);
            for (int i = 0; i < 200; i++) {
                blk b;
                if (alloc_block(&b, &s)) _exit(3);
                check(&b, b.size);
                free(b.p);
            }
            _exit(g_failed ? 4 : 0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "hak_stress: FAIL forked child status 0x%x%s\n", st,
                    WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM ? " (hung: deadlock?)" : "");
            g_failed = 1;
        }
        g_forks_done++;
        usleep(2000);
    }
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--threads N(1..64)] [--seconds S(>0)] [--ops-per-round N] [--slots N]\n"
            "          [--forks N] [--seed N]\n", argv0);
    exit(2);
}

static long num_arg(const char *argv0, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) usage(argv0);
    return v;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage(argv[0]);
        const char *o = argv[i], *v = argv[++i];
        if (!strcmp(o, "--threads")) g_threads = (int)num_arg(argv[0], v, 1, 64);
        else if (!strcmp(o, "--seconds")) g_seconds = (double)num_arg(argv[0], v, 1, 86400);
        else if (!strcmp(o, "--ops-per-round")) g_ops_per_round = num_arg(argv[0], v, 1, 1000000000L);
        else if (!strcmp(o, "--slots")) g_slots = (int)num_arg(argv[0], v, 1, 1 << 20);
        else if (!strcmp(o, "--forks")) g_forks = (int)num_arg(argv[0], v, 0, 1000000);
        else if (!strcmp(o, "--seed")) g_seed = (uint64_t)num_arg(argv[0], v, 0, 1L << 62);
        else usage(argv[0]);
    }
    double t0 = now();
    pthread_t fk;
    int have_forker = g_forks > 0 && pthread_create(&fk, NULL, forker, NULL) == 0;
    long round = 0;
    do {
        pthread_t *t = calloc((size_t)g_threads, sizeof(pthread_t));
        for (int i = 0; i < g_threads; i++)
            if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(round * 1000 + i + 1))) {
                perror("hak_stress: pthread_create");
                return 1;
            }
        for (int i = 0; i < g_threads; i++) pthread_join(t[i], NULL);
        free(t);
        round++;
    } while (!g_failed && now() - t0 < g_seconds);
    g_stop_forker = 1;
    if (have_forker) pthread_join(fk, NULL);
    while (g_nhand) take_handoff();          /* blocks left by exited threads */
    printf("hak_stress: %s rounds %ld ops %llu verified %llu handoffs %llu threads %llu forks %llu\n",
           g_failed ? "FAILED" : "ok", round, (unsigned long long)g_ops,
           (unsigned long long)g_verified, (unsigned long long)g_handoffs,
           (unsigned long long)g_threads_started, (unsigned long long)g_forks_done);
    return g_failed ? 1 : 0;
}
