#!/bin/sh
# Run the Check suites of every phase given, with HAKMEM_SMALLMID_ENABLE=0 and =1.
# Prints each run's Check summary and a closing "N passed, N failed" line (runs).
BUILD=${BUILD:-build}
passed=0; failed=0; failures=""
for phase in "$@"; do
    for mode in 0 1; do
        echo "== $phase HAKMEM_SMALLMID_ENABLE=$mode"
        if HAKMEM_SMALLMID_ENABLE=$mode CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} \
           "$BUILD/$phase/tests/hak_tests"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1)); failures="$failures $phase/mode$mode"
        fi
    done
done
[ -n "$failures" ] && echo "failed runs:$failures"
echo "suite runs: $passed passed, $failed failed"
[ "$failed" = 0 ]
