/**
 * bench_common.h - shared helpers for the hakmem benchmark programs.
 *
 * Every program is plain C calling malloc/free, built with `gcc -O2` and run under
 * LD_PRELOAD, so each contender runs the very same binary.  Each prints exactly one
 * machine-readable line on stdout:
 *
 *   RESULT bench=<name> threads=<n> ops=<n> seconds=<s> ops_per_sec=<x>
 *          maxrss_kb=<n> minflt=<n> majflt=<n> utime=<s> stime=<s> checksum=<n>
 *
 * ops counts malloc + free calls; seconds is wall time of the measured loop (which
 * includes the first touch of every page the allocator hands out); maxrss/minflt/
 * majflt/utime/stime are getrusage(RUSAGE_SELF) at exit of the measured part, so they
 * cover the whole process (start-up included).
 * Bad arguments: a usage message on stderr and exit status 2.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const char *g_usage;
static const char *g_prog;

static void usage_exit(const char *why) {
    if (why) fprintf(stderr, "%s: %s\n", g_prog, why);
    fprintf(stderr, "usage: %s %s\n", g_prog, g_usage);
    exit(2);
}

/* Strict unsigned decimal in [lo, hi]; anything else is a usage error. */
static uint64_t parse_u64(const char *s, const char *name, uint64_t lo, uint64_t hi) {
    char msg[160];
    if (!s || !*s || *s < '0' || *s > '9') {
        snprintf(msg, sizeof msg, "%s must be a decimal integer, got '%s'", name, s ? s : "");
        usage_exit(msg);
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) {
        snprintf(msg, sizeof msg, "%s must be a decimal integer, got '%s'", name, s);
        usage_exit(msg);
    }
    if (v < lo || v > hi) {
        snprintf(msg, sizeof msg, "%s must be in [%llu, %llu], got %llu", name,
                 (unsigned long long)lo, (unsigned long long)hi, v);
        usage_exit(msg);
    }
    return v;
}

/* Common prologue: -h/--help prints usage and exits 0; any other option is rejected. */
static void check_args(int argc, char **argv, int min_pos, int max_pos) {
    g_prog = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: %s %s\n", g_prog, g_usage);
            exit(0);
        }
        if (argv[i][0] == '-') {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            usage_exit(msg);
        }
    }
    if (argc - 1 < min_pos) usage_exit("too few arguments");
    if (argc - 1 > max_pos) usage_exit("too many arguments");
}

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* xorshift64* - fixed-seed, identical sequence for every contender. */
static inline uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint64_t rng_seed(uint64_t seed, uint64_t stream) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + stream * 0xBF58476D1CE4E5B9ULL + 1;
    return s ? s : 0x1234567ULL;
}

/* Allocate and touch: first and last byte carry a tag that is checked before free. */
static inline void touch_block(unsigned char *p, size_t size, unsigned char tag) {
    p[0] = tag;
    p[size - 1] = tag;
}

static inline void check_block(const unsigned char *p, size_t size, unsigned char tag) {
    if (p[0] != tag || p[size - 1] != tag) {
        fprintf(stderr, "%s: CORRUPTION: block %p size %zu tag %u found %u/%u\n", g_prog,
                (const void *)p, size, tag, p[0], p[size - 1]);
        abort();
    }
}

/* extra: more " key=value" fields for the end of the line, or "". */
static void print_result(const char *bench, unsigned threads, uint64_t ops, double secs,
                         uint64_t checksum, const char *extra) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("RESULT bench=%s threads=%u ops=%llu seconds=%.6f ops_per_sec=%.0f "
           "maxrss_kb=%ld minflt=%ld majflt=%ld utime=%.6f stime=%.6f checksum=%llu%s\n",
           bench, threads, (unsigned long long)ops, secs, secs > 0 ? ops / secs : 0.0,
           ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt,
           ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6, (unsigned long long)checksum, extra);
    fflush(stdout);
}

/* Resident set size now, in KiB (/proc/self/statm), 0 if unreadable. */
static inline long rss_now_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Run fn on n threads, thread t getting (char *)args + t * stride, and join them;
 * n == 1 runs it on the calling thread.  Exits 1 if a thread cannot start. */
static inline void run_threads(void *(*fn)(void *), void *args, size_t stride, unsigned n) {
    if (n == 1) { fn(args); return; }
    pthread_t *th = calloc(n, sizeof *th);
    if (!th) { fprintf(stderr, "%s: out of memory\n", g_prog); exit(1); }
    for (unsigned t = 0; t < n; t++)
        if (pthread_create(&th[t], NULL, fn, (char *)args + t * stride)) {
            fprintf(stderr, "%s: pthread_create failed\n", g_prog);
            exit(1);
        }
    for (unsigned t = 0; t < n; t++) pthread_join(th[t], NULL);
    free(th);
}

#endif
