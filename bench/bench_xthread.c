/**
 * bench_xthread.c - multithreaded churn with cross-thread frees, in the spirit of
 * mimalloc-bench's xmalloc-test and mstress.
 *
 * THREADS threads in a ring.  Each allocates OPS / (2 * THREADS) blocks of a random
 * size in [MIN, MAX] (fixed seed, one stream per thread) and touches them (tag in the
 * first and last byte).  Half of them, chosen at random, go to the next thread's inbox
 * (a lock-free LIFO: push with compare-and-swap, the owner takes the whole list with
 * one exchange), and that thread checks and frees them; the other half replace a
 * random slot of a local working set of WS blocks, whose previous block is checked
 * and freed.  Every 32 allocations a thread empties its inbox.  At the end a thread
 * frees its working set and keeps emptying its inbox until every thread has stopped
 * sending, then empties it once more: every block is freed exactly once, half of them
 * by another thread.  (A thread that finished first used to sleep in a barrier while
 * the other kept sending, so up to a million blocks piled up in its inbox and the run
 * measured page faults and scheduling luck: 160-930 MB peak from run to run.)
 * ops = malloc + free calls, timed from the threads' start to their join.
 * inbox_max = the most blocks one emptying of an inbox found: how far a sender ran
 * ahead of its receiver, which (not the allocator) sets most of an unbounded run's
 * peak RSS (6-150 MB from run to run for one allocator).  BACKLOG > 0 bounds it: a
 * sender whose receiver has BACKLOG blocks waiting empties its own inbox and yields
 * until fewer wait (a count per inbox, on the inbox's line), so the peak RSS is the
 * allocator's and comparable across allocators; 0 (the default) leaves it unbounded.
 */
#include "bench_common.h"

#include <sched.h>
#include <stdatomic.h>

typedef struct node { struct node *next; } node_t;    /* an inbox link, in the block */

typedef struct {
    _Atomic(node_t *) inbox;
    _Atomic uint64_t waiting;           /* blocks pushed, not yet freed (BACKLOG > 0) */
    char pad[64 - sizeof(node_t *) - sizeof(uint64_t)]; /* one cache line per inbox */
} inbox_t;

typedef struct {
    uint64_t allocs, seed, ops, checksum, inbox_max, backlog;
    size_t min, max, ws;
    unsigned id, n;
    inbox_t *boxes;
    atomic_uint *sending;               /* threads still in their allocation loop */
} worker_t;

/* The size is recoverable from the block: it is stored after the link word. */
typedef struct { node_t link; uint32_t size; } hdr_t;

static unsigned char *alloc_block(size_t size, uint64_t *ops) {
    unsigned char *p = malloc(size);
    if (!p) { fprintf(stderr, "%s: malloc(%zu) failed\n", g_prog, size); exit(1); }
    ((hdr_t *)p)->size = (uint32_t)size;
    p[size - 1] = (unsigned char)size;
    (*ops)++;
    return p;
}

static void free_block(unsigned char *p, uint64_t *ops) {
    uint32_t size = ((hdr_t *)p)->size;
    if (p[size - 1] != (unsigned char)size) {
        fprintf(stderr, "%s: CORRUPTION: block %p size %u found %u\n", g_prog, (void *)p, size,
                p[size - 1]);
        abort();
    }
    free(p);
    (*ops)++;
}

/* Free every block in the inbox; *most = the largest count one call found. */
static void drain_inbox(inbox_t *box, uint64_t *ops, uint64_t *most, int counted) {
    if (!atomic_load_explicit(&box->inbox, memory_order_relaxed)) return;
    node_t *n = atomic_exchange_explicit(&box->inbox, NULL, memory_order_acquire);
    uint64_t k = 0;
    while (n) {
        node_t *next = n->next;
        free_block((unsigned char *)n, ops);
        n = next;
        k++;
    }
    if (k > *most) *most = k;
    if (counted) atomic_fetch_sub_explicit(&box->waiting, k, memory_order_relaxed);
}

static void *worker(void *arg) {
    worker_t *w = arg;
    unsigned char **slot = calloc(w->ws, sizeof *slot);
    if (!slot) { fprintf(stderr, "%s: out of memory\n", g_prog); exit(1); }
    inbox_t *mine = &w->boxes[w->id], *next = &w->boxes[(w->id + 1) % w->n];
    uint64_t s = rng_seed(w->seed, w->id), ops = 0, sum = 0, most = 0;
    const size_t span = w->max - w->min + 1;
    const int bounded = w->backlog != 0;
    for (uint64_t i = 0; i < w->allocs; i++) {
        uint64_t r = rng_next(&s);
        unsigned char *p = alloc_block(w->min + (size_t)((r >> 32) % span), &ops);
        sum += (uintptr_t)p & 0xfff;
        if (r & 1) {                    /* to the next thread */
            if (bounded) {              /* BACKLOG: wait for the receiver, draining ours */
                while (atomic_load_explicit(&next->waiting, memory_order_relaxed) >= w->backlog) {
                    drain_inbox(mine, &ops, &most, 1);
                    sched_yield();
                }
                atomic_fetch_add_explicit(&next->waiting, 1, memory_order_relaxed);
            }
            node_t *n = (node_t *)p, *head = atomic_load_explicit(&next->inbox, memory_order_relaxed);
            do n->next = head;
            while (!atomic_compare_exchange_weak_explicit(&next->inbox, &head, n, memory_order_release,
                                                          memory_order_relaxed));
        } else {                        /* kept: replaces a random local block */
            size_t idx = (size_t)((r >> 8) % w->ws);
            if (slot[idx]) free_block(slot[idx], &ops);
            slot[idx] = p;
        }
        if ((i & 31) == 31) drain_inbox(mine, &ops, &most, bounded);
    }
    for (size_t i = 0; i < w->ws; i++)
        if (slot[i]) free_block(slot[i], &ops);
    free(slot);
    atomic_fetch_sub_explicit(w->sending, 1, memory_order_release);
    while (atomic_load_explicit(w->sending, memory_order_acquire))
        drain_inbox(mine, &ops, &most, bounded); /* the others still send: keep up with them */
    drain_inbox(mine, &ops, &most, bounded);     /* nobody sends any more */
    w->ops = ops;
    w->inbox_max = most;
    w->checksum = sum;
    return NULL;
}

int main(int argc, char **argv) {
    g_usage = "OPS MIN_SIZE MAX_SIZE [THREADS [WORKING_SET [SEED [BACKLOG]]]]\n"
              "  OPS          total malloc+free calls (2..10^11), split across threads\n"
              "  MIN_SIZE     smallest request in bytes (16..1048576)\n"
              "  MAX_SIZE     largest request in bytes (MIN_SIZE..1048576)\n"
              "  THREADS      threads in the ring, default 2 (1..256; 1 sends to itself)\n"
              "  WORKING_SET  blocks each thread keeps, default 1024 (1..16777216)\n"
              "  SEED         RNG seed, default 42\n"
              "  BACKLOG      most blocks waiting in an inbox, default 0 (unbounded)\n"
              "prints: RESULT bench=xthread threads= ops= seconds= ops_per_sec= maxrss_kb= ...";
    check_args(argc, argv, 3, 7);
    uint64_t ops = parse_u64(argv[1], "OPS", 2, 100000000000ULL);
    size_t min = parse_u64(argv[2], "MIN_SIZE", 16, 1 << 20);
    size_t max = parse_u64(argv[3], "MAX_SIZE", min, 1 << 20);
    unsigned threads = argc > 4 ? parse_u64(argv[4], "THREADS", 1, 256) : 2;
    size_t ws = argc > 5 ? parse_u64(argv[5], "WORKING_SET", 1, 1 << 24) : 1024;
    uint64_t seed = argc > 6 ? parse_u64(argv[6], "SEED", 0, UINT64_MAX) : 42;
    uint64_t backlog = argc > 7 ? parse_u64(argv[7], "BACKLOG", 0, UINT64_MAX) : 0;

    worker_t *w = calloc(threads, sizeof *w);
    inbox_t *boxes = aligned_alloc(64, threads * sizeof *boxes);
    atomic_uint sending = threads;
    if (!w || !boxes) {
        fprintf(stderr, "%s: out of memory\n", g_prog);
        return 1;
    }
    uint64_t allocs = ops / 2;
    for (unsigned t = 0; t < threads; t++) {
        atomic_init(&boxes[t].inbox, NULL);
        atomic_init(&boxes[t].waiting, 0);
        w[t] = (worker_t){ .allocs = allocs / threads + (t < allocs % threads), .seed = seed,
                           .min = min, .max = max, .ws = ws, .backlog = backlog, .id = t, .n = threads,
                           .boxes = boxes, .sending = &sending };
    }
    double t0 = now_sec();
    run_threads(worker, w, sizeof *w, threads);
    double secs = now_sec() - t0;
    uint64_t sum = 0, total = 0, most = 0;
    for (unsigned t = 0; t < threads; t++) {
        sum += w[t].checksum;
        total += w[t].ops;
        if (w[t].inbox_max > most) most = w[t].inbox_max;
    }
    if (total != 2 * allocs) {
        fprintf(stderr, "%s: %llu calls, expected %llu\n", g_prog, (unsigned long long)total,
                (unsigned long long)(2 * allocs));
        return 1;
    }
    char extra[64];
    snprintf(extra, sizeof extra, " inbox_max=%llu backlog_limit=%llu", (unsigned long long)most,
             (unsigned long long)backlog);
    print_result("xthread", threads, total, secs, sum, extra);
    free(boxes);
    free(w);
    return 0;
}
