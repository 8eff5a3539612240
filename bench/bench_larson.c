/**
 * bench_larson.c - larson-style server simulation.
 *
 * There are THREADS+1 chunks of BLOCKS live blocks (random sizes in [MIN, MAX]).
 * Each thread works on one chunk: it replaces random blocks (check + free the old
 * one, malloc + touch a new one).  Every ROUND replacements it hands its chunk to
 * the next thread that wants one and takes the chunk left by another thread (an
 * atomic exchange on a shared mailbox), so blocks allocated by one thread are freed
 * by another - like connections migrating between server workers.  OPS is the total
 * number of malloc+free calls (two per replacement), split evenly across threads;
 * the initial fill and final teardown are not timed.
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

typedef struct {
    unsigned char **blk;
    uint32_t *sz;
    unsigned char *tag;
} chunk_t;

static _Atomic(chunk_t *) g_mailbox;
static size_t g_blocks, g_min, g_max;
static uint64_t g_round, g_seed;

typedef struct {
    uint64_t replacements;
    unsigned id;
    chunk_t *chunk;
    uint64_t checksum, handoffs;
} worker_t;

static void fill(chunk_t *c, uint64_t *s) {
    const size_t span = g_max - g_min + 1;
    for (size_t i = 0; i < g_blocks; i++) {
        size_t size = g_min + (size_t)(rng_next(s) % span);
        c->blk[i] = malloc(size);
        if (!c->blk[i]) { fprintf(stderr, "%s: malloc failed\n", g_prog); exit(1); }
        c->sz[i] = (uint32_t)size;
        c->tag[i] = (unsigned char)i;
        touch_block(c->blk[i], size, c->tag[i]);
    }
}

static chunk_t *new_chunk(uint64_t stream) {
    chunk_t *c = malloc(sizeof *c);
    c->blk = malloc(g_blocks * sizeof *c->blk);
    c->sz = malloc(g_blocks * sizeof *c->sz);
    c->tag = malloc(g_blocks);
    if (!c || !c->blk || !c->sz || !c->tag) { fprintf(stderr, "%s: out of memory\n", g_prog); exit(1); }
    uint64_t s = rng_seed(g_seed, 1000 + stream);
    fill(c, &s);
    return c;
}

static void *worker(void *arg) {
    worker_t *w = arg;
    uint64_t s = rng_seed(g_seed, w->id);
    const size_t span = g_max - g_min + 1;
    chunk_t *c = w->chunk;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < w->replacements; i++) {
        if (i && i % g_round == 0) {
            chunk_t *other = atomic_exchange(&g_mailbox, c);
            c = other;
            w->handoffs++;
        }
        uint64_t r = rng_next(&s);
        size_t idx = (size_t)(r % g_blocks);
        check_block(c->blk[idx], c->sz[idx], c->tag[idx]);
        free(c->blk[idx]);
        size_t size = g_min + (size_t)((r >> 32) % span);
        unsigned char *p = malloc(size);
        if (!p) { fprintf(stderr, "%s: malloc(%zu) failed\n", g_prog, size); exit(1); }
        unsigned char tag = (unsigned char)(r >> 24);
        touch_block(p, size, tag);
        c->blk[idx] = p;
        c->sz[idx] = (uint32_t)size;
        c->tag[idx] = tag;
        sum += (uintptr_t)p & 0xfff;
    }
    w->chunk = c;
    w->checksum = sum;
    return NULL;
}

int main(int argc, char **argv) {
    g_usage = "OPS MIN_SIZE MAX_SIZE [THREADS [BLOCKS [ROUND [SEED]]]]\n"
              "  OPS       total malloc+free calls (2..10^11), split across threads\n"
              "  MIN_SIZE  smallest request in bytes (1..1048576)\n"
              "  MAX_SIZE  largest request in bytes (MIN_SIZE..1048576)\n"
              "  THREADS   worker threads, default 2 (1..256)\n"
              "  BLOCKS    live blocks per chunk, default 4096 (1..16777216)\n"
              "  ROUND     replacements between chunk hand-offs, default 10000 (1..10^12)\n"
              "  SEED      RNG seed, default 42\n"
              "prints: RESULT bench=larson threads= ops= seconds= ops_per_sec= maxrss_kb= minflt= ...";
    check_args(argc, argv, 3, 7);
    uint64_t ops = parse_u64(argv[1], "OPS", 2, 100000000000ULL);
    g_min = parse_u64(argv[2], "MIN_SIZE", 1, 1 << 20);
    g_max = parse_u64(argv[3], "MAX_SIZE", g_min, 1 << 20);
    unsigned threads = argc > 4 ? parse_u64(argv[4], "THREADS", 1, 256) : 2;
    g_blocks = argc > 5 ? parse_u64(argv[5], "BLOCKS", 1, 1 << 24) : 4096;
    g_round = argc > 6 ? parse_u64(argv[6], "ROUND", 1, 1000000000000ULL) : 10000;
    g_seed = argc > 7 ? parse_u64(argv[7], "SEED", 0, UINT64_MAX) : 42;

    worker_t *w = calloc(threads, sizeof *w);
    if (!w) { fprintf(stderr, "%s: out of memory\n", g_prog); return 1; }
    uint64_t reps = ops / 2;
    for (unsigned t = 0; t < threads; t++) {
        w[t].replacements = reps / threads + (t < reps % threads);
        w[t].id = t;
        w[t].chunk = new_chunk(t);
    }
    atomic_store(&g_mailbox, new_chunk(threads));

    double t0 = now_sec();
    run_threads(worker, w, sizeof *w, threads);
    double secs = now_sec() - t0;

    uint64_t sum = 0;
    chunk_t *all[257];
    for (unsigned t = 0; t < threads; t++) { sum += w[t].checksum; all[t] = w[t].chunk; }
    all[threads] = atomic_load(&g_mailbox);
    print_result("larson", threads, reps * 2, secs, sum, "");
    for (unsigned t = 0; t <= threads; t++) {
        chunk_t *c = all[t];
        for (size_t i = 0; i < g_blocks; i++) {
            check_block(c->blk[i], c->sz[i], c->tag[i]);
            free(c->blk[i]);
        }
        free(c->blk);
        free(c->sz);
        free(c->tag);
        free(c);
    }
    free(w);
    return 0;
}
