/**
 * bench_large_replace.c - a few large buffers, replaced one at a time.
 *
 * LIVE buffers of uniform random size in [MIN_MIB, MAX_MIB] MiB (fixed seed) are
 * allocated, then OPS times a random one is replaced: its tag (first and last byte) is
 * checked, it is freed, a buffer of a new random size is allocated, one byte of every
 * 4 KiB page of it is written and its tag set.  At the end every buffer is checked and
 * freed, and the resident set is read (end_rss_kb): an allocator that keeps freed large
 * blocks shows it there, one that returns them shows close to nothing.  All of it is
 * timed; ops = malloc + free calls (LIVE + 2 * OPS + LIVE).
 */
#include "bench_common.h"

#define PAGE 4096

static unsigned char *fill(size_t size, unsigned char tag) {
    unsigned char *p = malloc(size);
    if (!p) { fprintf(stderr, "%s: malloc(%zu) failed\n", g_prog, size); exit(1); }
    for (size_t off = 0; off < size; off += PAGE) p[off] = (unsigned char)(off >> 12);
    touch_block(p, size, tag);
    return p;
}

int main(int argc, char **argv) {
    g_usage = "OPS [LIVE [MIN_MIB [MAX_MIB [SEED]]]]\n"
              "  OPS      replacements (1..10^9)\n"
              "  LIVE     live buffers, default 20 (1..4096)\n"
              "  MIN_MIB  smallest buffer in MiB, default 5 (1..4096)\n"
              "  MAX_MIB  largest buffer in MiB, default 25 (MIN_MIB..4096)\n"
              "  SEED     RNG seed, default 42\n"
              "prints: RESULT bench=large_replace threads=1 ops= seconds= ... end_rss_kb=";
    check_args(argc, argv, 1, 5);
    uint64_t ops = parse_u64(argv[1], "OPS", 1, 1000000000ULL);
    size_t live = argc > 2 ? parse_u64(argv[2], "LIVE", 1, 4096) : 20;
    size_t lo = (argc > 3 ? parse_u64(argv[3], "MIN_MIB", 1, 4096) : 5) << 20;
    size_t hi = (argc > 4 ? parse_u64(argv[4], "MAX_MIB", lo >> 20, 4096) : 25) << 20;
    uint64_t seed = argc > 5 ? parse_u64(argv[5], "SEED", 0, UINT64_MAX) : 42;

    unsigned char **buf = calloc(live, sizeof *buf);
    size_t *sz = calloc(live, sizeof *sz);
    if (!buf || !sz) { fprintf(stderr, "%s: out of memory\n", g_prog); return 1; }
    uint64_t s = rng_seed(seed, 0), sum = 0, calls = 0;

    double t0 = now_sec();
    for (size_t i = 0; i < live; i++) {
        sz[i] = lo + rng_next(&s) % (hi - lo + 1);
        buf[i] = fill(sz[i], (unsigned char)(i * 31 + 7));
        calls++;
    }
    for (uint64_t n = 0; n < ops; n++) {
        uint64_t r = rng_next(&s);
        size_t i = (size_t)(r % live);
        unsigned char tag = (unsigned char)(i * 31 + 7);
        check_block(buf[i], sz[i], tag);
        free(buf[i]);
        sz[i] = lo + (size_t)((r >> 20) % (hi - lo + 1));
        buf[i] = fill(sz[i], tag);
        sum += (uintptr_t)buf[i] & 0xffff;
        calls += 2;
    }
    for (size_t i = 0; i < live; i++) {
        check_block(buf[i], sz[i], (unsigned char)(i * 31 + 7));
        free(buf[i]);
        calls++;
    }
    double secs = now_sec() - t0;
    char extra[64];
    snprintf(extra, sizeof extra, " end_rss_kb=%ld", rss_now_kb());
    free(buf);
    free(sz);
    print_result("large_replace", 1, calls, secs, sum, extra);
    return 0;
}
