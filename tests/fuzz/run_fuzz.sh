#!/bin/sh
# make fuzz: libFuzzer on every phase given, both HAKMEM_SMALLMID_ENABLE modes.
# New inputs go to build-fuzz/<phase>/corpus-<mode>; a crashing input is written to
# tests/fuzz/regress/ - commit it: make test replays everything in seeds/ and regress/.
# usage: run_fuzz.sh SECONDS PHASE...
secs=$1; shift
passed=0; failed=0
for phase in "$@"; do
    for mode in 0 1; do
        corpus=build-fuzz/$phase/corpus-$mode
        mkdir -p "$corpus"
        echo "== fuzz $phase HAKMEM_SMALLMID_ENABLE=$mode (${secs}s)"
        log=build-fuzz/$phase/fuzz-$mode.log
        if HAKMEM_SMALLMID_ENABLE=$mode build-fuzz/$phase/hak_fuzz -max_total_time="$secs" \
               -max_len=2048 -print_final_stats=1 -artifact_prefix=tests/fuzz/regress/ \
               "$corpus" tests/fuzz/seeds tests/fuzz/regress >"$log" 2>&1; then
            passed=$((passed + 1)); tail -n 4 "$log"
        else
            failed=$((failed + 1)); tail -n 40 "$log"
            echo "FAILED: fuzz $phase/$mode (input saved in tests/fuzz/regress/)"
        fi
    done
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
