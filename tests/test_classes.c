/**
 * test_classes.c - size classes (hak_size_class.h), the chunk registry
 * (hak_registry.h) and malloc_usable_size == class size.
 */
#include "test_util.h"

#include "hak_registry.h"
#include "hak_size_class.h"
#include "phase_traits.h"
#include "hakmem.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static char g_static_buf[4096];

/* The class tables, written out: a wrong constant in hak_size_class.h must fail
 * here, not move the expectation with it. */
static const size_t k_tiny[] = { 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024 };
static const size_t k_smallmid[] = { 256, 512, 1024 };
static const size_t k_mid[] = {
    1280, 1536, 1792, 2048, 2304, 2560, 2816, 3072, 3328, 3584, 3840, 4096,
    5120, 6144, 7168, 8192, 10240, 12288, 14336, 16384, 20480, 24576, 28672, 32768,
    40960, 49152, 57344, 65536,
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Index of the smallest entry >= n, or -1. */
static int first_fit(const size_t *t, size_t nt, size_t n) {
    for (size_t i = 0; i < nt; i++)
        if (t[i] >= n) return (int)i;
    return -1;
}

/* The size a request of n bytes gets, from the literal tables. */
static size_t expected_class_size(size_t n, int smallmid) {
    if (n <= 1024) {
        if (smallmid && n >= PHASE_SMALLMID_FROM) return k_smallmid[first_fit(k_smallmid, 3, n)];
        return k_tiny[first_fit(k_tiny, NELEM(k_tiny), n)];
    }
    return k_mid[first_fit(k_mid, NELEM(k_mid), n)];
}

static int smallmid_mode(void) {
    const char *s = getenv("HAKMEM_SMALLMID_ENABLE");
    return s && strcmp(s, "1") == 0;
}

START_TEST(test_tiny_classes) {
    ck_assert_uint_eq(TINY_NUM_CLASSES, NELEM(k_tiny));
    ck_assert_uint_eq(TINY_MAX_SIZE, 1024);
    ck_assert_uint_eq(tiny_size_to_class(0), 0);
    for (unsigned c = 0; c < NELEM(k_tiny); c++) ck_assert_uint_eq(tiny_class_size(c), k_tiny[c]);
    for (size_t n = 1; n <= 1024; n++) {
        int want = first_fit(k_tiny, NELEM(k_tiny), n);
        ck_assert_msg(tiny_size_to_class(n) == (unsigned)want, "n=%zu class %u, want %d", n,
                      tiny_size_to_class(n), want);
    }
}
END_TEST

START_TEST(test_smallmid_classes) {
    ck_assert_uint_eq(SMALLMID_NUM_CLASSES, NELEM(k_smallmid));
    for (size_t n = 0; n <= 4096; n++) {
        int in = smallmid_is_in_range(n);
        ck_assert_msg(in == (n >= 256 && n <= 1024), "smallmid_is_in_range(%zu) = %d", n, in);
    }
    ck_assert(!smallmid_is_in_range(SIZE_MAX));
    ck_assert(!smallmid_is_in_range(255));
    for (unsigned c = 0; c < NELEM(k_smallmid); c++)
        ck_assert_uint_eq(smallmid_class_size(c), k_smallmid[c]);
    for (size_t n = 256; n <= 1024; n++) {
        int want = first_fit(k_smallmid, NELEM(k_smallmid), n);
        ck_assert_msg(smallmid_size_to_class(n) == (unsigned)want, "n=%zu class %u, want %d", n,
                      smallmid_size_to_class(n), want);
    }
}
END_TEST

START_TEST(test_mid_classes) {
    ck_assert_uint_eq(MID_NUM_CLASSES, NELEM(k_mid));
    ck_assert_uint_eq(MID_MIN_SIZE, 1025);
    ck_assert_uint_eq(MID_MAX_SIZE, 65536);
    for (unsigned c = 0; c < NELEM(k_mid); c++) ck_assert_uint_eq(mid_class_size(c), k_mid[c]);
    for (size_t n = 1025; n <= 65536; n++) {
        int want = first_fit(k_mid, NELEM(k_mid), n);
        ck_assert_msg(mid_size_to_class(n) == (unsigned)want, "n=%zu class %u, want %d", n,
                      mid_size_to_class(n), want);
    }
}
END_TEST

/* Every size 1..65536 (and a few large ones): the usable size is the class size. */
START_TEST(test_usable_is_class_size) {
    int sm = smallmid_mode();
    for (size_t n = 1; n <= MID_MAX_SIZE; n++) {
        void *p = malloc(hide_size(n));
        ck_assert_ptr_nonnull(p);
        size_t u = malloc_usable_size(p);
        size_t want = expected_class_size(n, sm);
        ck_assert_msg(u == want, "n=%zu usable %zu, class size %zu", n, u, want);
        ck_assert_uint_eq(hak_malloc_usable_size(p), u);
        memset(p, 0xa5, u);
        free(p);
    }
    static const size_t large[] = { 65537, 100000, 1 << 20, (1 << 20) + 1, 5 << 20, 9 << 20 };
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
        size_t n = large[i];
        char *p = malloc(hide_size(n));
        ck_assert_ptr_nonnull(p);
        size_t u = malloc_usable_size(p);
        /* a cached mapping may be reused when it wastes at most half of it */
        ck_assert_msg(u >= n && u <= 2 * n + 2 * 4096, "large n=%zu usable %zu", n, u);
        p[0] = 1; p[u - 1] = 2;
        free(p);
    }
    ck_assert_uint_eq(malloc_usable_size(NULL), 0);
}
END_TEST

/* The class a block came from also shows in its address alignment: Tiny blocks
 * are aligned to their granule, the largest power of two dividing their size (a
 * power-of-two class to its size). */
START_TEST(test_tiny_natural_alignment) {
    for (size_t n = 1; n <= TINY_MAX_SIZE; n++) {
        void *p = malloc(hide_size(n));
        size_t sz = malloc_usable_size(p), granule = sz & (0 - sz);
        ck_assert_msg((uintptr_t)p % granule == 0, "n=%zu p=%p not aligned to %zu (class %zu)",
                      n, p, granule, sz);
        free(p);
    }
}
END_TEST

START_TEST(test_registry_kinds) {
    static const struct { size_t n; unsigned kind; } cases[] = {
        { 1, HAK_REG_SMALL }, { 8, HAK_REG_SMALL }, { 64, HAK_REG_SMALL }, { 256, HAK_REG_SMALL },
        { 512, HAK_REG_SMALL }, { 1024, HAK_REG_SMALL }, { 1025, HAK_REG_MID },
        { 2000, HAK_REG_MID }, { 40000, HAK_REG_MID }, { 65536, HAK_REG_MID },
        { 65537, HAK_REG_LARGE }, { 100000, HAK_REG_LARGE }, { 3u << 20, HAK_REG_LARGE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].n;
        char *p = malloc(hide_size(n));
        ck_assert_ptr_nonnull(p);
        unsigned k = hak_reg_kind(hak_registry_lookup(p));
        ck_assert_msg(k == cases[i].kind, "malloc(%zu)=%p registry kind %u, want %u", n, p, k, cases[i].kind);
        k = hak_reg_kind(hak_registry_lookup(p + n - 1));
        ck_assert_msg(k == cases[i].kind, "last byte of malloc(%zu) kind %u", n, k);
        ck_assert_ptr_nonnull(hak_reg_header(hak_registry_lookup(p)));
        free(p);
    }
}
END_TEST

START_TEST(test_registry_foreign) {
    int local = 0;
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup(&local)), HAK_REG_NONE);
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup(g_static_buf)), HAK_REG_NONE);
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup(&g_static_buf[4095])), HAK_REG_NONE);
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup((void *)&malloc)), HAK_REG_NONE);
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup(NULL)), HAK_REG_NONE);
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup((void *)0x10)), HAK_REG_NONE);
    ck_assert_uint_eq(hak_registry_lookup((void *)0xdead000000000000ULL), HAK_REG_NONE);
    ck_assert_uint_eq(hak_registry_lookup((void *)UINTPTR_MAX), HAK_REG_NONE);
    /* A private mapping: look in its middle chunk, which only it can cover. */
    size_t len = 4u << 20;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_uint_eq(hak_reg_kind(hak_registry_lookup(m + len / 2)), HAK_REG_NONE);
    munmap(m, len);
}
END_TEST

Suite *classes_suite(void) {
    Suite *s = suite_create("classes");
    TCase *tc = tcase_create("size_classes");
    tcase_add_test(tc, test_tiny_classes);
    tcase_add_test(tc, test_smallmid_classes);
    tcase_add_test(tc, test_mid_classes);
    suite_add_tcase(s, tc);
    tc = tcase_create("usable_and_registry");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_usable_is_class_size);
    tcase_add_test(tc, test_tiny_natural_alignment);
    tcase_add_test(tc, test_registry_kinds);
    tcase_add_test(tc, test_registry_foreign);
    suite_add_tcase(s, tc);
    return s;
}
