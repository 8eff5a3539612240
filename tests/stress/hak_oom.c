/**
 * hak_oom.c - memory exhaustion: run under `ulimit -v` with hakmem preloaded.
 *
 * For one size range (tiny, small-mid, mid, large, mixed; all of them in turn
 * with "all"): allocate until malloc returns NULL, and check that errno is ENOMEM,
 * that calloc/realloc/posix_memalign fail cleanly too (the old block intact), that
 * nothing crashed, and that after freeing everything the same amount can be
 * allocated again.  --leaky (a phase that documents lost blocks, phase17_2 with
 * Small-Mid on) reports the recovery instead of asserting it.
 * Blocks are chained through their first word, so the test itself needs no memory.
 * Exit: 0 ok, 1 a check failed, 2 bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failed;

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "hak_oom: FAIL " __VA_ARGS__); \
                                        fputc('\n', stderr); failed = 1; } } while (0)

static size_t size_for(int mode, unsigned long i) {
    switch (mode) {
    case 0: return 64;
    case 1: return 512;
    case 2: return 6000;
    case 3: return (size_t)1 << 20;
    default: {
        static const size_t mix[] = { 24, 300, 1000, 3000, 40000, 200000 };
        return mix[i % 6];
    }
    }
}

/* Allocate until failure; returns the count, chain in *head. */
static unsigned long fill_up(int mode, void **head, unsigned long limit) {
    unsigned long n = 0;
    *head = NULL;
    for (;;) {
        if (n >= limit) break;
        size_t sz = size_for(mode, n);
        errno = 0;
        void *p = malloc(sz);
        if (!p) {
            CHECK(errno == ENOMEM, "mode %d: malloc(%zu) NULL with errno %d, not ENOMEM", mode, sz, errno);
            break;
        }
        memset(p, 0xa5, sz < 4096 ? sz : 4096);
        *(void **)p = *head;
        *head = p;
        n++;
    }
    return n;
}

static void free_all(void *head) {
    while (head) {
        void *next = *(void **)head;
        free(head);
        head = next;
    }
}

static const char *names[] = { "tiny", "small-mid", "mid", "large", "mixed" };

static void usage(const char *argv0) {
    fprintf(stderr, "usage: %s tiny|small-mid|mid|large|mixed|all [--leaky]\n"
                    "       run under ulimit -v, e.g. (ulimit -v 262144; %s all)\n", argv0, argv0);
    exit(2);
}

static void run_mode(int mode, int leaky) {
    const unsigned long limit = 100000000UL;
    void *head;
    unsigned long n1 = fill_up(mode, &head, limit);
    CHECK(n1 > 0 && n1 < limit, "mode %s: %lu allocations (did ulimit -v apply?)", names[mode], n1);

    /* With memory exhausted, the other entry points fail cleanly too. */
    errno = 0;
    void *c = calloc(1, (size_t)64 << 20);
    CHECK(c == NULL && errno == ENOMEM, "mode %s: calloc(64 MiB) = %p errno %d", names[mode], c, errno);
    free(c);
    void *q = NULL;
    int rc = posix_memalign(&q, 4096, (size_t)64 << 20);
    CHECK(rc == ENOMEM && q == NULL, "mode %s: posix_memalign rc %d", names[mode], rc);
    if (head) {
        errno = 0;
        void *r = realloc(head, (size_t)64 << 20);
        CHECK(r == NULL && errno == ENOMEM, "mode %s: realloc(64 MiB) = %p errno %d", names[mode], r, errno);
        if (r) head = r;
        unsigned char *b = head;            /* the old block is intact */
        CHECK(b[sizeof(void *)] == 0xa5, "mode %s: realloc failure changed the block", names[mode]);
    }
    free_all(head);

    /* After freeing, the same amount fits again (allow a little slack). */
    unsigned long n2 = fill_up(mode, &head, n1);
    if (!leaky)
        CHECK(n2 + n2 / 20 + 16 >= n1, "mode %s: only %lu of %lu allocations after freeing",
              names[mode], n2, n1);
    free_all(head);
    printf("hak_oom: %-9s %lu blocks until ENOMEM, %lu again after free%s\n", names[mode], n1, n2,
           leaky ? " (leaky phase: not asserted)" : "");
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) usage(argv[0]);
    int leaky = 0;
    if (argc == 3) {
        if (strcmp(argv[2], "--leaky")) usage(argv[0]);
        leaky = 1;
    }
    int mode = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(argv[1], names[i])) mode = i;
    if (mode < 0 && strcmp(argv[1], "all")) usage(argv[0]);
    for (int m = 0; m < 5; m++)
        if (mode < 0 || m == mode) run_mode(m, leaky);
    printf("hak_oom: %s\n", failed ? "FAILED" : "ok");
    return failed;
}
