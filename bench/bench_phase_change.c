/**
 * bench_phase_change.c - memory that moves between size classes, and memory that
 * goes back to the OS.
 *
 * Fills MIB MiB with FROM-byte blocks, frees them all, fills MIB MiB with TO-byte
 * blocks, frees them all (the timed part), then keeps allocating and freeing a few
 * small blocks for LINGER_MS milliseconds, as a program that has finished a phase
 * and goes on with little.  Blocks are chained through their first word, so the
 * program itself holds no memory but the blocks.
 *
 * RESULT adds peak_kb (getrusage maxrss, the peak of the whole run) and end_rss_kb
 * (resident set after the linger).  An allocator whose freed FROM blocks can serve
 * TO blocks peaks near MIB; one that returns free memory ends near nothing.
 */
#include "bench_common.h"

/* Allocate `bytes` worth of `size`-byte blocks, chained; touches every page. */
static void *fill(size_t size, size_t bytes, uint64_t *ops, uint64_t *sum) {
    void *head = NULL;
    for (size_t done = 0; done < bytes; done += size) {
        unsigned char *p = malloc(size);
        if (!p) { fprintf(stderr, "%s: malloc(%zu) failed after %zu bytes\n", g_prog, size, done); exit(1); }
        for (size_t off = 0; off < size; off += 4096) p[off] = (unsigned char)off;
        p[size - 1] = 0x5a;
        *(void **)p = head;
        head = p;
        *sum += (uintptr_t)p & 0xfff;
        (*ops)++;
    }
    return head;
}

static void drain(void *head, size_t size, uint64_t *ops) {
    while (head) {
        unsigned char *p = head;
        if (p[size - 1] != 0x5a) { fprintf(stderr, "%s: CORRUPTION at %p\n", g_prog, (void *)p); abort(); }
        head = *(void **)p;
        free(p);
        (*ops)++;
    }
}

int main(int argc, char **argv) {
    g_usage = "FROM_SIZE TO_SIZE [MIB [LINGER_MS]]\n"
              "  FROM_SIZE  block size of the first fill, bytes (8..1048576)\n"
              "  TO_SIZE    block size of the second fill, bytes (8..1048576)\n"
              "  MIB        MiB per fill, default 256 (1..65536)\n"
              "  LINGER_MS  small allocations after both fills are freed, default 300 (0..60000)\n"
              "prints: RESULT bench=phase_change ... maxrss_kb= ... peak_kb= end_rss_kb=";
    check_args(argc, argv, 2, 4);
    size_t from = parse_u64(argv[1], "FROM_SIZE", 8, 1 << 20);
    size_t to = parse_u64(argv[2], "TO_SIZE", 8, 1 << 20);
    size_t mib = argc > 3 ? parse_u64(argv[3], "MIB", 1, 65536) : 256;
    uint64_t linger_ms = argc > 4 ? parse_u64(argv[4], "LINGER_MS", 0, 60000) : 300;
    size_t bytes = mib << 20;
    uint64_t ops = 0, sum = 0;

    double t0 = now_sec();
    drain(fill(from, bytes, &ops, &sum), from, &ops);
    drain(fill(to, bytes, &ops, &sum), to, &ops);
    double secs = now_sec() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak_kb = ru.ru_maxrss;

    double until = now_sec() + linger_ms / 1000.0;
    while (now_sec() < until) {
        void *few[8];
        for (int i = 0; i < 8; i++) few[i] = malloc(16 + 8 * (size_t)i);
        for (int i = 0; i < 8; i++) free(few[i]);
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    char extra[96];
    snprintf(extra, sizeof extra, " peak_kb=%ld end_rss_kb=%ld", peak_kb, rss_now_kb());
    print_result("phase_change", 1, ops, secs, sum, extra);
    return 0;
}
