#!/bin/sh
# profile.sh PHASE SIZE [RUN [SMALLMID]] - where does one phase spend its time?
#
#   make profile PHASE=phase17_1_front SIZE=256 [RUN=long|short] [SMALLMID=1|0]
#
# Runs bench_random_mixed (1 thread; SIZE = 256, 512, 1024 or mixed = 16..1024 B)
# under `perf record -e cpu-clock -g` with build/<PHASE>/libhakmem.so preloaded and
# HAKMEM_SMALLMID_ENABLE=SMALLMID (default 1), then prints the top symbols by self
# time and by inclusive (children) time - e.g. asm_exc_page_fault, as in the seed -
# and the share of samples whose callchain passes through exc_page_fault.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
usage() { echo "usage: make profile PHASE=<phase> SIZE=<256|512|1024|mixed> [RUN=long|short] [SMALLMID=1|0]" >&2; exit 2; }
[ $# -ge 2 ] || usage
phase=$1 size=$2 run=${3:-long} sm=${4:-1}
so=$ROOT/build/$phase/libhakmem.so
prog=$ROOT/build/bench/bench_random_mixed
[ -n "$phase" ] && [ -f "$phase/phase.c" ] || { echo "profile: '$phase' is not a phase folder (phase*/phase.c)" >&2; usage; }
[ -f "$so" ] || { echo "profile: $so missing - run make" >&2; exit 1; }
[ -x "$prog" ] || { echo "profile: $prog missing - run make bench-progs" >&2; exit 1; }
case $size in
    mixed) lo=16 hi=1024 ;;
    *[!0-9]*|'') usage ;;
    *) lo=$size hi=$size ;;
esac
case $run in
    long) ops=30000000 period=250000 ;;   # 4 kHz
    short) ops=300000 period=50000 ;;     # 20 kHz: the run lasts a few ms
    *) usage ;;
esac
case $sm in 0|1) ;; *) usage ;; esac
command -v perf >/dev/null 2>&1 || { echo "profile: perf is not installed (Debian: linux-perf)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-profile.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
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
