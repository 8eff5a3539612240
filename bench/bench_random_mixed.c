/**
 * bench_random_mixed.c - random-mixed malloc/free churn (the seed's workload).
 *
 * Each thread owns a working set of WS slots.  Every operation picks a random slot:
 * if it is full the block is checked and freed, otherwise a block of a random size in
 * [MIN, MAX] is allocated and touched (first and last byte).  Fixed seed, so every
 * contender sees the same sequence.  OPS churn operations (each one malloc or one
 * free) are split evenly across THREADS threads (each with its own slots and RNG
 * stream); the final drain of the working set is timed too and its frees are added
 * to the reported ops.
 */
#include "bench_common.h"

#include <pthread.h>

typedef struct {
    uint64_t ops, seed;
    size_t min, max, ws;
    unsigned id;
    uint64_t checksum, drained;
} worker_t;

static void *worker(void *arg) {
    worker_t *w = arg;
    unsigned char **slot = calloc(w->ws, sizeof *slot);
    uint32_t *sz = calloc(w->ws, sizeof *sz);
    if (!slot || !sz) { fprintf(stderr, "%s: out of memory\n", g_prog); exit(1); }
    uint64_t s = rng_seed(w->seed, w->id);
    const size_t span = w->max - w->min + 1;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t r = rng_next(&s);
        size_t idx = (size_t)(r % w->ws);
        unsigned char tag = (unsigned char)(idx * 31 + 7);
        if (slot[idx]) {
            check_block(slot[idx], sz[idx], tag);
            free(slot[idx]);
            slot[idx] = NULL;
        } else {
            size_t size = w->min + (size_t)((r >> 32) % span);
            unsigned char *p = malloc(size);
            if (!p) { fprintf(stderr, "%s: malloc(%zu) failed\n", g_prog, size); exit(1); }
            touch_block(p, size, tag);
            slot[idx] = p;
            sz[idx] = (uint32_t)size;
            sum += (uintptr_t)p & 0xfff;
        }
    }
    /* Drain: the remaining blocks are freed inside the timed region and counted. */
    for (size_t i = 0; i < w->ws; i++)
        if (slot[i]) {
            check_block(slot[i], sz[i], (unsigned char)(i * 31 + 7));
            free(slot[i]);
            w->drained++;
        }
    free(slot);
    free(sz);
    w->checksum = sum;
    return NULL;
}

int main(int argc, char **argv) {
    g_usage = "OPS MIN_SIZE MAX_SIZE [THREADS [WORKING_SET [SEED]]]\n"
              "  OPS          total malloc+free calls (1..10^11), split across threads\n"
              "  MIN_SIZE     smallest request in bytes (1..1048576)\n"
              "  MAX_SIZE     largest request in bytes (MIN_SIZE..1048576)\n"
              "  THREADS      worker threads, default 1 (1..256)\n"
              "  WORKING_SET  slots per thread, default 8192 (1..16777216)\n"
              "  SEED         RNG seed, default 42\n"
              "prints: RESULT bench=random_mixed threads= ops= seconds= ops_per_sec= maxrss_kb= minflt= ...";
    check_args(argc, argv, 3, 6);
    uint64_t ops = parse_u64(argv[1], "OPS", 1, 100000000000ULL);
    size_t min = parse_u64(argv[2], "MIN_SIZE", 1, 1 << 20);
    size_t max = parse_u64(argv[3], "MAX_SIZE", min, 1 << 20);
    unsigned threads = argc > 4 ? parse_u64(argv[4], "THREADS", 1, 256) : 1;
    size_t ws = argc > 5 ? parse_u64(argv[5], "WORKING_SET", 1, 1 << 24) : 8192;
    uint64_t seed = argc > 6 ? parse_u64(argv[6], "SEED", 0, UINT64_MAX) : 42;

    worker_t *w = calloc(threads, sizeof *w);
    if (!w) { fprintf(stderr, "%s: out of memory\n", g_prog); return 1; }
    for (unsigned t = 0; t < threads; t++)
        w[t] = (worker_t){ ops / threads + (t < ops % threads), seed, min, max, ws, t, 0, 0 };

    double t0 = now_sec();
    run_threads(worker, w, sizeof *w, threads);
    double secs = now_sec() - t0;
    uint64_t sum = 0;
    uint64_t total = 0;
    for (unsigned t = 0; t < threads; t++) { sum += w[t].checksum; total += w[t].ops + w[t].drained; }
    print_result("random_mixed", threads, total, secs, sum, "");
    free(w);
    return 0;
}
