/**
 * test_align.c - alignment of every size, and no overlap between live blocks.
 */
#include "test_util.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static void check_one(size_t n) {
    unsigned char *p = malloc(hide_size(n));
    ck_assert_msg(p != NULL, "malloc(%zu) failed", n);
    size_t a = n >= 16 ? 16 : 8;
    ck_assert_msg((uintptr_t)p % a == 0, "malloc(%zu) = %p not %zu-aligned", n, p, a);
    memset(p, (int)(n & 0xff), n);
    ck_assert(p[0] == (unsigned char)n && p[n - 1] == (unsigned char)n);
    free(p);
}

START_TEST(test_align_small_every_size) {
    for (size_t n = 1; n <= 4096; n++) check_one(n);
}
END_TEST

START_TEST(test_align_coarse_and_pow2) {
    for (size_t n = 4097; n <= 1048576; n += 509) check_one(n);
    for (size_t k = 1; k <= 20; k++) {
        size_t n = (size_t)1 << k;
        check_one(n - 1);
        check_one(n);
        check_one(n + 1);
    }
    check_one(1048576);
}
END_TEST

/* Same, with the blocks kept live (a fresh block each time, not the one just freed). */
START_TEST(test_align_live_batch) {
    enum { N = 4096 };
    void **v = malloc(N * sizeof *v);
    for (size_t n = 1; n <= N; n++) {
        v[n - 1] = malloc(hide_size(n));
        ck_assert_uint_eq((uintptr_t)v[n - 1] % (n >= 16 ? 16 : 8), 0);
    }
    for (size_t n = 1; n <= N; n++) free(v[n - 1]);
    free(v);
}
END_TEST

typedef struct { uintptr_t a; size_t n; uint32_t id; } blk;

static int blk_cmp(const void *x, const void *y) {
    const blk *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a;
}

static void overlap_round(uint64_t seed, size_t count, size_t maxsz, int large_every) {
    blk *b = malloc(count * sizeof *b);
    uint64_t rs = seed;
    for (size_t i = 0; i < count; i++) {
        size_t n;
        if (large_every && i % (size_t)large_every == 0) n = 65537 + rng_next(&rs) % 400000;
        else n = 1 + rng_next(&rs) % maxsz;
        void *p = malloc(n);
        ck_assert_ptr_nonnull(p);
        pattern_fill(p, n, (uint32_t)i);
        b[i].a = (uintptr_t)p; b[i].n = n; b[i].id = (uint32_t)i;
    }
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(pattern_check((void *)b[i].a, b[i].n, b[i].id) == PATTERN_OK,
                      "block %zu (%p, %zu bytes) overwritten", i, (void *)b[i].a, b[i].n);
    qsort(b, count, sizeof *b, blk_cmp);
    for (size_t i = 1; i < count; i++)
        ck_assert_msg(b[i - 1].a + b[i - 1].n <= b[i].a,
                      "blocks overlap: [%p,+%zu) and [%p,+%zu)", (void *)b[i - 1].a, b[i - 1].n,
                      (void *)b[i].a, b[i].n);
    /* free half, reallocate, check again */
    for (size_t i = 0; i < count; i += 2) free((void *)b[i].a);
    for (size_t i = 0; i < count; i += 2) {
        size_t n = b[i].n;
        void *p = malloc(n);
        pattern_fill(p, n, b[i].id + 1000000u);
        b[i].a = (uintptr_t)p; b[i].id += 1000000u;
    }
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(pattern_check((void *)b[i].a, b[i].n, b[i].id) == PATTERN_OK,
                      "after reuse: block %p (%zu bytes) overwritten", (void *)b[i].a, b[i].n);
    qsort(b, count, sizeof *b, blk_cmp);
    for (size_t i = 1; i < count; i++)
        ck_assert_msg(b[i - 1].a + b[i - 1].n <= b[i].a, "blocks overlap after reuse: %p and %p",
                      (void *)b[i - 1].a, (void *)b[i].a);
    for (size_t i = 0; i < count; i++) free((void *)b[i].a);
    free(b);
}

START_TEST(test_no_overlap_tiny) { overlap_round(0x9e3779b9, 20000, 1024, 0); }
END_TEST
START_TEST(test_no_overlap_mixed) { overlap_round(0x7f4a7c15, 8000, 65536, 0); }
END_TEST
START_TEST(test_no_overlap_with_large) { overlap_round(0x1b873593, 3000, 8192, 50); }
END_TEST

Suite *align_suite(void) {
    Suite *s = suite_create("align");
    TCase *tc = tcase_create("alignment");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_align_small_every_size);
    tcase_add_test(tc, test_align_coarse_and_pow2);
    tcase_add_test(tc, test_align_live_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("overlap");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_no_overlap_tiny);
    tcase_add_test(tc, test_no_overlap_mixed);
    tcase_add_test(tc, test_no_overlap_with_large);
    suite_add_tcase(s, tc);
    return s;
}
