#!/bin/sh
# make stress: the shadow-checked stress program (threads, cross-thread frees,
# thread churn, forks under load) and the memory-exhaustion program under every
# phase given, with HAKMEM_SMALLMID_ENABLE=0 and =1.
# usage: run_stress.sh SECONDS PHASE...
secs=$1; shift
passed=0; failed=0
run() {  # name, command...
    name=$1; shift
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
for phase in "$@"; do
    so=$PWD/build/$phase/libhakmem.so
    for mode in 0 1; do
        echo "== stress $phase HAKMEM_SMALLMID_ENABLE=$mode (${secs}s)"
        run "stress $phase/$mode" env HAKMEM_SMALLMID_ENABLE=$mode LD_PRELOAD=$so \
            build/tools/hak_stress --seconds "$secs" --threads 4 --forks 100000
        leaky=""
        if [ "$mode" = 1 ] && grep -q 'define PHASE_SMALLMID_OVERFLOW_LEAKS 1' "$phase/phase_traits.h"; then
            leaky=--leaky
        fi
        for range in tiny small-mid mid large mixed; do
            run "oom $phase/$mode/$range" sh -c "ulimit -v 262144 && HAKMEM_SMALLMID_ENABLE=$mode \
                LD_PRELOAD=$so exec build/tools/hak_oom $range $leaky"
        done
    done
done
echo "stress: $passed passed, $failed failed"
[ "$failed" = 0 ]
