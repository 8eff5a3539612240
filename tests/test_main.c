/**
 * test_main.c - runs every hakmem Check suite (CK_NORMAL), exits nonzero on any
 * failure.  Hidden mode: `hak_tests --hak-scenario NAME` runs one scenario that
 * needs a fresh process (options are read once, at the first allocation).
 */
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--hak-scenario") == 0)
        return hak_test_scenario(argv[2]);
    if (!realpath(argv[0], g_test_exe)) g_test_exe[0] = 0;

    SRunner *sr = srunner_create(classes_suite());
    srunner_add_suite(sr, api_suite());
    srunner_add_suite(sr, align_suite());
    srunner_add_suite(sr, threads_suite());
    srunner_add_suite(sr, death_suite());
    srunner_add_suite(sr, stats_suite());
    srunner_add_suite(sr, phase_suite());
#ifndef HAK_TEST_PREFIXED
    /* Real programs need the LD_PRELOAD-able library, which prefixed-only
     * (sanitizer / valgrind) builds do not export. */
    srunner_add_suite(sr, realprog_suite());
#endif
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
