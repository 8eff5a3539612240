#!/bin/sh
# Run the Check suites of every phase given, with HAKMEM_SMALLMID_ENABLE=0 and =1.
# Prints each run's Check summary and a closing "N passed, N failed" line (runs).
# VALGRIND=1: under memcheck (errors fail the test).  SUITE=name: one Check suite.
BUILD=${BUILD:-build}
passed=0; failed=0; failures=""
runner=""
if [ "${VALGRIND:-0}" = 1 ]; then
    runner="valgrind -q --error-exitcode=99 --leak-check=no --child-silent-after-fork=no"
    export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-20}"
fi
[ -n "${SUITE:-}" ] && export CK_RUN_SUITE="$SUITE"
case "$BUILD" in *san*) export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-4}" ;; esac
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1}"
for phase in "$@"; do
    for mode in 0 1; do
        echo "== $phase HAKMEM_SMALLMID_ENABLE=$mode"
        if HAKMEM_SMALLMID_ENABLE=$mode CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-120} \
           $runner "$BUILD/$phase/tests/hak_tests"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1)); failures="$failures $phase/mode$mode"
        fi
    done
done
# VALGRIND=1: memcheck must see hakmem blocks (leak, overrun, use after free,
# uninitialised read planted in tests/valgrind/vg_detect.c).
if [ "${VALGRIND:-0}" = 1 ]; then
    for phase in "$@"; do
        log=$BUILD/$phase/tests/vg_detect.log
        valgrind --leak-check=full "$BUILD/$phase/tests/vg_detect" >"$log" 2>&1
        ok=1
        # (the leak is reported at its usable size: 100 B is a 128 B block)
        for want in "definitely lost: 128 bytes in 1 blocks" "Invalid write of size 1" \
                    "Invalid read of size 1" "Conditional jump or move depends on uninitialised" \
                    "ERROR SUMMARY: 4 errors from 4 contexts"; do
            grep -q "$want" "$log" || { ok=0; echo "vg_detect ($phase): memcheck did not report: $want"; }
        done
        if [ $ok = 1 ]; then passed=$((passed + 1)); echo "== $phase vg_detect: memcheck reports all 4 planted errors"
        else failed=$((failed + 1)); failures="$failures $phase/vg_detect"; fi
    done
fi
# Default builds: the library's hygiene - namespace (nm), floors (nm), what loading
# the library costs every process (readelf), a static link against a program with
# clashing names, install + pkg-config.
if [ "$BUILD" = build ] && [ -z "${SUITE:-}" ]; then
    hyg_ok=1
    sh tests/hygiene/check_symbols.sh "$BUILD" "$@" || hyg_ok=0
    sh tests/hygiene/check_layers.sh "$BUILD" "$@" || hyg_ok=0
    sh tests/hygiene/check_loadcost.sh "$BUILD" "$@" || hyg_ok=0
    for phase in "$@"; do
        out=$("$BUILD/$phase/tests/user_names") && echo "static link: $phase: $out (program's own phase_init, tiny_alloc_slow, mid_reclaim, ...)" ||
            { echo "static link: $phase: user_names failed: $out"; hyg_ok=0; }
    done
    sh tests/hygiene/install_test.sh "$@" || hyg_ok=0
    if [ $hyg_ok = 1 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures="$failures hygiene"; fi
fi
# Default builds: a short form of `make stress` (shadow-checked threads, forks,
# memory exhaustion) and a replay of every fuzz input kept in tests/fuzz/.
if [ "$BUILD" = build ] && [ -z "${SUITE:-}" ]; then
    if sh tests/stress/run_stress.sh "${STRESS_SECONDS:-5}" "$@"; then passed=$((passed + 1))
    else failed=$((failed + 1)); failures="$failures stress"; fi
    for phase in "$@"; do
        for mode in 0 1; do
            log=build-fuzz/$phase/replay-$mode.log
            if HAKMEM_SMALLMID_ENABLE=$mode build-fuzz/$phase/hak_fuzz tests/fuzz/seeds/* \
                   $(ls tests/fuzz/regress/* 2>/dev/null) >"$log" 2>&1; then
                passed=$((passed + 1))
                echo "== $phase HAKMEM_SMALLMID_ENABLE=$mode fuzz replay: $(grep -c '^Executed' "$log") inputs ok"
            else
                failed=$((failed + 1)); failures="$failures $phase/fuzz-replay-$mode"; tail -n 30 "$log"
            fi
        done
    done
fi
[ -n "$failures" ] && echo "failed runs:$failures"
echo "runs: $passed passed, $failed failed"
[ "$failed" = 0 ]
