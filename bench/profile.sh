#!/bin/sh
# profile.sh PHASE SIZE [RUN [SMALLMID [MODE]]] - where does one phase spend its time?
#
#   make profile PHASE=phase17_1_front SIZE=256 [RUN=long|short] [SMALLMID=1|0] [MODE=perf|callgrind]
#
# Runs bench_random_mixed (1 thread; SIZE = 256, 512, 1024, mixed = 16..1024 B or
# smallmid = 256..1024 B) with build/<PHASE>/libhakmem.so preloaded and
# HAKMEM_SMALLMID_ENABLE=SMALLMID (default 1); other HAKMEM_* settings come from the
# environment (the phase's bench.env is not applied).
#
# MODE=perf (default): under `perf record -e cpu-clock -g`, then prints the top
# symbols by self time and by inclusive (children) time - e.g. asm_exc_page_fault,
# as in the seed - and the share of samples whose callchain passes through
# exc_page_fault.
#
# MODE=callgrind: under `valgrind --tool=callgrind` (2M ops for RUN=long, 300k for
# short), then prints the Ir per malloc/free call as make bench's callgrind table
# computes it (the loop alone, BENCH_NOALLOC=1, and the 1-op start-up run
# subtracted) and the per-function Ir (callgrind_annotate, self and inclusive), with
# each function's Ir per op.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
usage() { echo "usage: make profile PHASE=<phase> SIZE=<256|512|1024|mixed|smallmid> [RUN=long|short] [SMALLMID=1|0] [MODE=perf|callgrind]" >&2; exit 2; }
[ $# -ge 2 ] || usage
phase=$1 size=$2 run=${3:-long} sm=${4:-1} mode=${5:-perf}
so=$ROOT/build/$phase/libhakmem.so
prog=$ROOT/build/bench/bench_random_mixed
if [ -z "$phase" ] || [ ! -f "$phase/phase.c" ]; then
    echo "profile: '$phase' is not a phase folder (phase*/phase.c)" >&2; usage
fi
[ -f "$so" ] || { echo "profile: $so missing - run make" >&2; exit 1; }
[ -x "$prog" ] || { echo "profile: $prog missing - run make bench-progs" >&2; exit 1; }
case $size in
    mixed) lo=16 hi=1024 ;;
    smallmid) lo=256 hi=1024 ;;
    *[!0-9]*|'') usage ;;
    *) lo=$size hi=$size ;;
esac
case $mode in perf|callgrind) ;; *) usage ;; esac
case $run in
    long) ops=30000000 period=250000 cgops=2000000 ;;   # perf: 4 kHz
    short) ops=300000 period=50000 cgops=300000 ;;      # 20 kHz: the run lasts a few ms
    *) usage ;;
esac
case $sm in 0|1) ;; *) usage ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-profile.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$mode" = callgrind ]; then
    for t in valgrind callgrind_annotate; do
        command -v $t >/dev/null 2>&1 || { echo "profile: $t is not installed (Debian: valgrind)" >&2; exit 1; }
    done
    # cg NAME OPS NOALLOC [PRELOAD]: callgrind.out in $tmp/NAME, prints "Ir ops"
    cg() {
        env ${4:+LD_PRELOAD=$4} HAKMEM_SMALLMID_ENABLE="$sm" BENCH_NOALLOC="$3" \
            valgrind --tool=callgrind --callgrind-out-file="$tmp/$1" "$prog" "$2" "$lo" "$hi" 1 \
            >"$tmp/$1.stdout" 2>"$tmp/$1.err" </dev/null ||
            { echo "profile: callgrind run failed:" >&2; tail -n 5 "$tmp/$1.err" >&2; exit 1; }
        printf '%s %s\n' "$(awk '/^(totals|summary):/ { print $2; exit }' "$tmp/$1")" \
            "$(sed -n 's/^RESULT .* ops=\([0-9]*\) .*/\1/p' "$tmp/$1.stdout")"
    }
    echo "== $phase, HAKMEM_SMALLMID_ENABLE=$sm, callgrind: bench_random_mixed $cgops $lo $hi 1"
    r=$(cg run "$cgops" 0 "$so") || exit 1
    l=$(cg loop "$cgops" 1) || exit 1
    r1=$(cg run1 1 0 "$so") || exit 1
    l1=$(cg loop1 1 1) || exit 1
    # shellcheck disable=SC2086
    set -- $r $l $r1 $l1
    opsn=$2
    awk -v a="$1" -v b="$3" -v a1="$5" -v b1="$7" -v n="$2" -v n1="$6" 'BEGIN {
        printf "== %.0f Ir in all, %.1f Ir per malloc/free call (loop alone: %.1f Ir/op; start-up and exit: %+.0f Ir, all subtracted)\n",
            a, ((a - b) - (a1 - b1)) / (n - n1), (b - b1) / (n - n1), a1 - b1 }'
    # callgrind_annotate lines "1,234 (12.34%)  file:function [object]" -> with Ir/op
    annotate() {
        callgrind_annotate --auto=no "$@" 2>/dev/null | awk -v n="$opsn" '
            /^-+$/ { dash++; next }
            dash == 6 && $1 ~ /^[0-9,]+$/ {
                v = $1; gsub(/,/, "", v); $1 = ""; sub(/^ +/, "")
                printf "%15s %9.2f Ir/op  %s\n", v, v / n, $0 }' | head -n 30
    }
    echo
    echo "== per function, self Ir (Ir / $opsn ops)"
    annotate --inclusive=no "$tmp/run"
    echo
    echo "== per function, inclusive Ir"
    annotate --inclusive=yes "$tmp/run"
    exit 0
fi

command -v perf >/dev/null 2>&1 || { echo "profile: perf is not installed (Debian: linux-perf)" >&2; exit 1; }
echo "== $phase, HAKMEM_SMALLMID_ENABLE=$sm, $run run: bench_random_mixed $ops $lo $hi 1"
if ! perf record -q -e cpu-clock -c "$period" -g -o "$tmp/perf.data" -- \
        env LD_PRELOAD="$so" HAKMEM_SMALLMID_ENABLE="$sm" "$prog" "$ops" "$lo" "$hi" 1 2>"$tmp/err"; then
    echo "profile: perf record failed (not permitted? kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null)):" >&2
    cat "$tmp/err" >&2
    exit 1
fi
perf script -i "$tmp/perf.data" -F comm,ip,sym 2>/dev/null | awk '
    BEGIN { RS = ""; FS = "\n" }
    { split($1, h, " "); if (h[1] !~ /^bench_/) next; n++; if ($0 ~ /exc_page_fault/) f++ }
    END { if (n) printf "== %d samples, %.1f%% under exc_page_fault (kernel page-fault handling)\n", n, 100 * f / n }'
echo
echo "== top symbols, self time"
perf report -i "$tmp/perf.data" --stdio --no-children --sort sym -g none --percent-limit 0.5 \
    --comm bench_random_mi 2>/dev/null | grep -v '^#' | sed '/^$/d' | head -n 30
echo
echo "== top symbols, inclusive (children) time"
perf report -i "$tmp/perf.data" --stdio --children --sort sym -g none --percent-limit 2 \
    --comm bench_random_mi 2>/dev/null | grep -v '^#' | sed '/^$/d' | head -n 30
