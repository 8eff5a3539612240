/**
 * test_stats.c - the HAKMEM_STATS=1 report (printed on stderr at exit), checked
 * in a re-exec'd copy of this binary (options are read once per process).
 */
#include "test_util.h"
#include "phase_traits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char g_out[65536];

static void *stats_thread(void *arg) {
    (void)arg;
    for (size_t n = 1; n <= 70000; n = n * 2 + 1) free(malloc(hide_size(n)));
    return NULL;
}

/* Run by "--hak-scenario stats": touch every path, one extra thread, exit 0. */
int hak_test_stats_workload(void) {
    enum { N = 100 };
    void *v[N];
    static const size_t sizes[] = { 8, 100, 256, 512, 1024, 2000, 60000, 100000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int k = 0; k < N; k++) v[k] = malloc(hide_size(sizes[i]));
        for (int k = 0; k < N; k++) free(v[k]);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, stats_thread, NULL) != 0) return 4;
    pthread_join(t, NULL);
    return 0;
}

static int smallmid_mode(void) {
    const char *s = getenv("HAKMEM_SMALLMID_ENABLE");
    return s && strcmp(s, "1") == 0;
}

static unsigned long long number_after(const char *text, const char *key) {
    const char *p = strstr(text, key);
    ck_assert_msg(p != NULL, "report lacks \"%s\": [%s]", key, text);
    return strtoull(p + strlen(key), NULL, 10);
}

START_TEST(test_stats_report) {
    int st = scenario_run("stats", "HAKMEM_STATS=1", g_out, sizeof g_out, 60);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x, stderr [%s]", st, g_out);
    char head[256];
    snprintf(head, sizeof head, "=== hakmem statistics (%s, HAKMEM_SMALLMID_ENABLE=%d) ===",
             HAK_TEST_PHASE, smallmid_mode());
    ck_assert_msg(strstr(g_out, head) != NULL, "report lacks [%s]: [%s]", head, g_out);
    ck_assert_msg(strstr(g_out, "=== Small-Mid Allocator Statistics ===") != NULL, "[%s]", g_out);
    ck_assert_msg(strstr(g_out, "\nos superslab") != NULL, "[%s]", g_out);
    ck_assert_msg(strstr(g_out, "\nos large") != NULL, "[%s]", g_out);
    ck_assert_msg(strstr(g_out, "\nmid") != NULL, "no mid class line: [%s]", g_out);
    ck_assert_msg(strstr(g_out, "\ntiny") != NULL, "no tiny class line: [%s]", g_out);
    ck_assert_uint_ge(number_after(g_out, "large allocs "), 100);
    ck_assert_uint_ge(number_after(g_out, "threads started "), 2);
    ck_assert_uint_ge(number_after(g_out, " exited "), 1);
    /* The shared pool of empty slabs reports itself where there is one. */
    if (PHASE_SS_REUSE) {
        ck_assert_uint_ge(number_after(g_out, "shared pool slabs_put "), 1);
        ck_assert_uint_ge(number_after(g_out, " slabs_taken "), 1);
        ck_assert_msg(strstr(g_out, "shared pool superslabs warm ") != NULL, "[%s]", g_out);
    } else {
        ck_assert_msg(strstr(g_out, "shared pool") == NULL, "[%s]", g_out);
    }
    /* Routing: the Small-Mid front is used exactly when enabled. */
    unsigned long long refills = number_after(g_out, "SuperSlab refills: ");
    if (smallmid_mode()) {
        ck_assert_msg(refills > 0, "HAKMEM_SMALLMID_ENABLE=1 but no Small-Mid refills: [%s]", g_out);
        ck_assert_msg(strstr(g_out, "\nsmallmid0 ") != NULL, "[%s]", g_out);
    } else {
        ck_assert_msg(refills == 0, "Small-Mid disabled but %llu refills: [%s]", refills, g_out);
        ck_assert_msg(strstr(g_out, "\nsmallmid") == NULL, "[%s]", g_out);
    }
}
END_TEST

START_TEST(test_stats_off_by_default) {
    int st = scenario_run("stats", "HAKMEM_STATS=0", g_out, sizeof g_out, 60);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
    ck_assert_msg(strstr(g_out, "hakmem statistics") == NULL, "report printed with HAKMEM_STATS=0");
}
END_TEST

/* (coreutils close stderr in an atexit handler, before the report's destructor
 * runs, so a program that keeps stderr open is used here.) */
#ifndef HAK_TEST_PREFIXED
START_TEST(test_stats_preloaded_program) {
    char *dir = make_tmpdir("stats");
    int rc = run_sh(dir, 1, "HAKMEM_STATS=1 git --version > out 2> err");
    ck_assert_int_eq(rc, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/err", dir);
    ck_assert_msg(file_contains(path, "=== hakmem statistics (" HAK_TEST_PHASE),
                  "preloaded git did not print the hakmem report");
    snprintf(path, sizeof path, "%s/out", dir);
    ck_assert(file_contains(path, "git version"));
    remove_tree(dir);
    free(dir);
}
END_TEST
#endif

Suite *stats_suite(void) {
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("report");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_stats_report);
    tcase_add_test(tc, test_stats_off_by_default);
#ifndef HAK_TEST_PREFIXED
    tcase_add_test(tc, test_stats_preloaded_program);
#endif
    suite_add_tcase(s, tc);
    return s;
}
