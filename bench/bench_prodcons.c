/**
 * bench_prodcons.c - producer/consumer cross-thread free.
 *
 * PAIRS producer threads allocate blocks of random size in [MIN, MAX], touch them and
 * pass them through a bounded single-producer/single-consumer ring to their consumer
 * thread, which checks and frees them: every free is a remote free.  OPS is the total
 * number of malloc+free calls (two per block), split evenly across the pairs.
 */
#include "bench_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define RING 1024 /* power of two */

typedef struct {
    _Alignas(64) _Atomic uint64_t head; /* written by producer */
    _Alignas(64) _Atomic uint64_t tail; /* written by consumer */
    _Alignas(64) unsigned char *blk[RING];
    uint32_t sz[RING];
    uint64_t blocks, seed;
    size_t min, max;
    unsigned id;
    uint64_t checksum;
    uint64_t inflight_sum;   /* producer: blocks in the ring after each push, summed */
    uint64_t inflight_max;   /* producer: the most it saw */
} pair_t;

static void *producer(void *arg) {
    pair_t *q = arg;
    uint64_t s = rng_seed(q->seed, q->id);
    const size_t span = q->max - q->min + 1;
    uint64_t inflight = 0, most = 0;
    for (uint64_t i = 0; i < q->blocks; i++) {
        size_t size = q->min + (size_t)(rng_next(&s) % span);
        unsigned char *p = malloc(size);
        if (!p) { fprintf(stderr, "%s: malloc(%zu) failed\n", g_prog, size); exit(1); }
        touch_block(p, size, (unsigned char)i);
        uint64_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
        while (h - atomic_load_explicit(&q->tail, memory_order_acquire) >= RING) sched_yield();
        q->blk[h & (RING - 1)] = p;
        q->sz[h & (RING - 1)] = (uint32_t)size;
        atomic_store_explicit(&q->head, h + 1, memory_order_release);
        uint64_t n = h + 1 - atomic_load_explicit(&q->tail, memory_order_relaxed);
        inflight += n;
        if (n > most) most = n;
    }
    q->inflight_sum = inflight;
    q->inflight_max = most;
    return NULL;
}

static void *consumer(void *arg) {
    pair_t *q = arg;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < q->blocks; i++) {
        while (atomic_load_explicit(&q->head, memory_order_acquire) == i) sched_yield();
        unsigned char *p = q->blk[i & (RING - 1)];
        size_t size = q->sz[i & (RING - 1)];
        atomic_store_explicit(&q->tail, i + 1, memory_order_release);
        check_block(p, size, (unsigned char)i);
        sum += (uintptr_t)p & 0xfff;
        free(p);
    }
    q->checksum = sum;
    return NULL;
}

int main(int argc, char **argv) {
    g_usage = "OPS MIN_SIZE MAX_SIZE [PAIRS [SEED]]\n"
              "  OPS       total malloc+free calls (2..10^11); each block is one of each\n"
              "  MIN_SIZE  smallest request in bytes (1..1048576)\n"
              "  MAX_SIZE  largest request in bytes (MIN_SIZE..1048576)\n"
              "  PAIRS     producer/consumer thread pairs, default 1 (1..128)\n"
              "  SEED      RNG seed, default 42\n"
              "prints: RESULT bench=prodcons threads= ops= seconds= ops_per_sec= maxrss_kb= minflt= ...";
    check_args(argc, argv, 3, 5);
    uint64_t ops = parse_u64(argv[1], "OPS", 2, 100000000000ULL);
    size_t min = parse_u64(argv[2], "MIN_SIZE", 1, 1 << 20);
    size_t max = parse_u64(argv[3], "MAX_SIZE", min, 1 << 20);
    unsigned pairs = argc > 4 ? parse_u64(argv[4], "PAIRS", 1, 128) : 1;
    uint64_t seed = argc > 5 ? parse_u64(argv[5], "SEED", 0, UINT64_MAX) : 42;

    pair_t *q = aligned_alloc(64, pairs * sizeof *q);
    pthread_t *th = calloc(2 * pairs, sizeof *th);
    if (!q || !th) { fprintf(stderr, "%s: out of memory\n", g_prog); return 1; }
    uint64_t blocks = ops / 2;
    for (unsigned i = 0; i < pairs; i++) {
        memset(&q[i], 0, sizeof q[i]);
        q[i].blocks = blocks / pairs + (i < blocks % pairs);
        q[i].seed = seed;
        q[i].min = min;
        q[i].max = max;
        q[i].id = i;
    }
    double t0 = now_sec();
    for (unsigned i = 0; i < pairs; i++)
        if (pthread_create(&th[2 * i], NULL, consumer, &q[i]) ||
            pthread_create(&th[2 * i + 1], NULL, producer, &q[i])) {
            fprintf(stderr, "%s: pthread_create failed\n", g_prog);
            return 1;
        }
    for (unsigned i = 0; i < 2 * pairs; i++) pthread_join(th[i], NULL);
    double secs = now_sec() - t0;
    uint64_t sum = 0, inflight = 0, most = 0;
    for (unsigned i = 0; i < pairs; i++) {
        sum += q[i].checksum;
        inflight += q[i].inflight_sum;
        most += q[i].inflight_max;
    }
    /* inflight: blocks in the rings (allocated, not yet freed) after each push, mean
     * over the pushes; inflight_max: the sum of each ring's most.  Live memory that
     * depends on a contender's speed balance, not on its overhead: read maxrss_kb
     * next to it (a ring holds at most RING blocks). */
    char extra[80];
    snprintf(extra, sizeof extra, " inflight=%.0f inflight_max=%llu",
             blocks ? (double)inflight * pairs / blocks : 0.0, (unsigned long long)most);
    print_result("prodcons", 2 * pairs, blocks * 2, secs, sum, extra);
    free(q);
    free(th);
    return 0;
}
