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
 *
 * Instructions per malloc/free (run_bench.sh's callgrind table, make profile
 * MODE=callgrind): with BENCH_NOALLOC set in the environment, every malloc and free
 * goes through two noinline functions, ir_alloc and ir_free, so that the loop's call
 * sites (argument set-up, the registers saved around a call) are the same whether
 * the blocks come from malloc or not:
 *   BENCH_NOALLOC=0  ir_alloc/ir_free tail-call malloc/free (the contender runs);
 *   BENCH_NOALLOC=1  the loop alone: ir_alloc returns slot i's block of a pool
 *                    allocated once per thread (pool + i * stride), ir_free does
 *                    nothing; same random sequence, same touching and checking.
 * Ir(contender, =0) - Ir(loop alone, =1) is then the cost of the malloc and free
 * calls (plus the PLT jump), and nothing of the loop.  Unset: the timed loop, which
 * calls malloc and free directly.  The RESULT line ends with noalloc=0 or noalloc=1.
 */
#include "bench_common.h"

#include <pthread.h>

static int g_irmode;   /* BENCH_NOALLOC set: calls through ir_alloc / ir_free */
static int g_noalloc;  /* BENCH_NOALLOC=1: the loop alone */

static __attribute__((noinline)) unsigned char *ir_alloc(size_t size, unsigned char *block) {
    if (g_noalloc) return block;
    return malloc(size);
}

static __attribute__((noinline)) void ir_free(void *p) {
    if (!g_noalloc) free(p);
}

typedef struct {
    uint64_t ops, seed;
    size_t min, max, ws;
    unsigned id;
    uint64_t checksum, drained;
} worker_t;

/* ir: a constant, so the timed loop (ir == 0) is exactly the plain one. */
static inline __attribute__((always_inline)) void churn(worker_t *w, const int ir) {
    unsigned char **slot = calloc(w->ws, sizeof *slot);
    uint32_t *sz = calloc(w->ws, sizeof *sz);
    if (!slot || !sz) { fprintf(stderr, "%s: out of memory\n", g_prog); exit(1); }
    const size_t stride = (w->max + 15) & ~(size_t)15;
    unsigned char *pool = NULL;
    if (ir && !(pool = malloc(w->ws * stride))) {
        fprintf(stderr, "%s: out of memory for the BENCH_NOALLOC pool\n", g_prog);
        exit(1);
    }
    uint64_t s = rng_seed(w->seed, w->id);
    const size_t span = w->max - w->min + 1;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->ops; i++) {
        uint64_t r = rng_next(&s);
        size_t idx = (size_t)(r % w->ws);
        unsigned char tag = (unsigned char)(idx * 31 + 7);
        if (slot[idx]) {
            check_block(slot[idx], sz[idx], tag);
            if (ir) ir_free(slot[idx]); else free(slot[idx]);
            slot[idx] = NULL;
        } else {
            size_t size = w->min + (size_t)((r >> 32) % span);
            unsigned char *p = ir ? ir_alloc(size, pool + idx * stride) : malloc(size);
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
            if (ir) ir_free(slot[i]); else free(slot[i]);
            w->drained++;
        }
    free(slot);
    free(sz);
    free(pool);
    w->checksum = sum;
}

static void *worker(void *arg) {
    if (g_irmode) churn(arg, 1); else churn(arg, 0);
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
              "environment: BENCH_NOALLOC=0|1 - calls through ir_alloc/ir_free, 1: the loop alone\n"
              "  (a fixed pool instead of malloc/free; callgrind's Ir/op, see the source)\n"
              "prints: RESULT bench=random_mixed threads= ops= seconds= ops_per_sec= maxrss_kb= minflt= ...";
    check_args(argc, argv, 3, 6);
    uint64_t ops = parse_u64(argv[1], "OPS", 1, 100000000000ULL);
    size_t min = parse_u64(argv[2], "MIN_SIZE", 1, 1 << 20);
    size_t max = parse_u64(argv[3], "MAX_SIZE", min, 1 << 20);
    unsigned threads = argc > 4 ? parse_u64(argv[4], "THREADS", 1, 256) : 1;
    size_t ws = argc > 5 ? parse_u64(argv[5], "WORKING_SET", 1, 1 << 24) : 8192;
    uint64_t seed = argc > 6 ? parse_u64(argv[6], "SEED", 0, UINT64_MAX) : 42;
    const char *na = getenv("BENCH_NOALLOC");
    if (na && strcmp(na, "0") && strcmp(na, "1")) {
        fprintf(stderr, "%s: BENCH_NOALLOC must be 0 or 1, got '%s'\n", g_prog, na);
        return 2;
    }
    g_irmode = na != NULL;
    g_noalloc = g_irmode && na[0] == '1';

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
    print_result("random_mixed", threads, total, secs, sum,
                 g_irmode ? (g_noalloc ? " noalloc=1" : " noalloc=0") : "");
    free(w);
    return 0;
}
