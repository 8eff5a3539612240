#!/bin/sh
# run_bench.sh - hakmem A/B benchmark: every phase vs Baseline vs system allocators.
#
#   make bench [QUICK=1]          (builds everything first, then runs this script)
#   QUICK=1 sh bench/run_bench.sh (expects build/<phase>/libhakmem.so and build/bench/*)
#
# Contenders, run interleaved (A B C ... A B C ...) REPS times (5; QUICK 3), medians:
#   Baseline   first phase's libhakmem.so, HAKMEM_SMALLMID_ENABLE=0
#   <phase>    every phase*/ folder with a phase.c, HAKMEM_SMALLMID_ENABLE=1
#   glibc      no preload; mimalloc / jemalloc / tcmalloc from Debian packages
# Phase order ("previous phase" for the Delta column): `make phases` (the
# Makefile's PHASE_ORDER, oldest first); override with BENCH_PHASES="p1 p2 ...".
#
# Output: progress on stderr, the markdown report on stdout and in
# bench/results/<date>-<host>[-quick].md (ignored by git: copy a run worth keeping
# to bench/reference/ under a name that says what it is), raw data in .tsv, chart in .png.
# Env knobs: QUICK=1, REPS=n, BENCH_PHASES, BENCH_TIMEOUT (s per run), BENCH_NO_PERF=1.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BB=$ROOT/build/bench
BUILD=$ROOT/build
QUICK=${QUICK:-0}
[ "$QUICK" = 1 ] || QUICK=0

log() { printf '%s\n' "$*" >&2; }
die() { log "run_bench: $*"; exit 1; }

# ---- sizes of the runs -----------------------------------------------------
if [ "$QUICK" = 1 ]; then
    REPS=${REPS:-3}
    SHORT_OPS=200000      # the seed's regime: start-up + first touch dominate
    LONG_OPS=3000000
    MT_OPS=2000000
    PC_OPS=1000000
    LA_OPS=2000000
    PHC_MIB=64            # phase change: MiB per fill
    PERF_SIZES="256"      # perf runs only for the seed's headline size in QUICK mode
    TMO=${BENCH_TIMEOUT:-30}
else
    REPS=${REPS:-5}
    SHORT_OPS=300000
    LONG_OPS=30000000     # tens of millions: steady state
    MT_OPS=20000000
    PC_OPS=6000000
    LA_OPS=16000000
    PHC_MIB=256
    PERF_SIZES="256 512 1024 mixed"
    TMO=${BENCH_TIMEOUT:-180}
fi
case $REPS in ''|*[!0-9]*|0) die "REPS must be a positive integer" ;; esac

for p in bench_random_mixed bench_prodcons bench_larson bench_launch bench_phase_change; do
    [ -x "$BB/$p" ] || die "$BB/$p missing - run 'make bench' (or 'make bench-progs')"
done

NOTES=""
note() { NOTES="$NOTES
- $*"; log "note: $*"; }

# ---- phases ----------------------------------------------------------------
PHASES=${BENCH_PHASES:-$(make -s --no-print-directory phases)}
set -- $PHASES
PHASES=$*
[ $# -gt 0 ] || die "no phase*/phase.c folders found"
FIRST_PHASE=$1
for p in $PHASES; do
    [ -f "$BUILD/$p/libhakmem.so" ] || die "$BUILD/$p/libhakmem.so missing - run 'make' first"
done

# ---- peers (Debian packages) -----------------------------------------------
IS_ROOT=0; [ "$(id -u)" = 0 ] && IS_ROOT=1
apt_install() { # pkg... ; only as root with apt-get
    [ "$IS_ROOT" = 1 ] && command -v apt-get >/dev/null 2>&1 || return 1
    log "installing $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "$@" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null 2>&1; }
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
# peer_so NAME PKG REGEX: sets PEER_SO (the package's shared library) or notes why not.
peer_so() {
    PEER_SO=""
    if ! command -v dpkg >/dev/null 2>&1; then note "$1 skipped: no dpkg on this machine"; return 1; fi
    if ! pkg_installed "$2"; then
        if [ "$IS_ROOT" != 1 ]; then note "$1 skipped: package $2 not installed and not root (apt-get install $2)"; return 1; fi
        apt_install "$2" || { note "$1 skipped: apt-get install $2 failed"; return 1; }
    fi
    PEER_SO=$(dpkg -L "$2" 2>/dev/null | grep -E "$3" | head -n 1)
    [ -n "$PEER_SO" ] && [ -f "$PEER_SO" ] || { note "$1 skipped: no shared library found in dpkg -L $2"; return 1; }
}

# Contender table: name|kind|LD_PRELOAD|HAKMEM_SMALLMID_ENABLE|more environment
# (kind: base, phase, off, peer).  A phase whose Tiny backend (tiny_superslab.c)
# differs from the Baseline's also runs with Small-Mid off ("<phase>-off"), so that
# ON vs OFF compares the Small-Mid layer with Tiny on the same backend.  A phase
# with a bench.env runs (ON and OFF) with the HAKMEM_* settings of its first
# non-comment line - the setting its README entry documents for benchmarks.
CONTENDERS="Baseline|base|$BUILD/$FIRST_PHASE/libhakmem.so|0|"
OFF_PHASES=""
for p in $PHASES; do
    penv=""
    [ -f "$p/bench.env" ] && penv=$(grep -v '^[[:space:]]*#' "$p/bench.env" | grep -m 1 .)
    case " $penv " in *[!A-Za-z0-9_=\ ]*) die "$p/bench.env: only NAME=VALUE words allowed: $penv" ;; esac
    CONTENDERS="$CONTENDERS
$p|phase|$BUILD/$p/libhakmem.so|1|$penv"
    if ! cmp -s "$p/tiny_superslab.c" "$FIRST_PHASE/tiny_superslab.c"; then
        CONTENDERS="$CONTENDERS
$p-off|off|$BUILD/$p/libhakmem.so|0|$penv"
        OFF_PHASES="$OFF_PHASES $p"
    fi
done
CONTENDERS="$CONTENDERS
glibc|peer|||"
PEER_NAMES="glibc"
add_peer() { # name pkg regex
    if peer_so "$1" "$2" "$3"; then
        CONTENDERS="$CONTENDERS
$1|peer|$PEER_SO||"
        PEER_NAMES="$PEER_NAMES $1"
    fi
}
add_peer mimalloc libmimalloc2.0 '/libmimalloc\.so\.[0-9]+$'
add_peer jemalloc libjemalloc2 '/libjemalloc\.so\.[0-9]+$'
add_peer tcmalloc libtcmalloc-minimal4 '/libtcmalloc_minimal\.so\.[0-9]+$'
NCONT=$(printf '%s\n' "$CONTENDERS" | wc -l)

# ---- perf availability -----------------------------------------------------
PERF_OK=0
PERF_WHY=""
if [ "${BENCH_NO_PERF:-0}" = 1 ]; then
    PERF_WHY="disabled (BENCH_NO_PERF=1)"
elif ! command -v perf >/dev/null 2>&1; then
    PERF_WHY="perf is not installed (Debian: linux-perf)"
elif ! perf stat -x, -e page-faults -o /dev/null -- true >/dev/null 2>&1 ||
     ! perf record -q -e cpu-clock -o /tmp/hakmem-perfprobe.$$ -- true >/dev/null 2>&1; then
    PERF_WHY="perf is not permitted here (kernel.perf_event_paranoid=$(cat /proc/sys/kernel/perf_event_paranoid 2>/dev/null))"
elif ! awk '$3=="exc_page_fault" && $1 !~ /^0+$/ {f=1} END{exit !f}' /proc/kallsyms 2>/dev/null; then
    PERF_WHY="kernel symbols are hidden (kptr_restrict), exc_page_fault cannot be attributed"
else
    PERF_OK=1
fi
rm -f /tmp/hakmem-perfprobe.$$
[ "$PERF_OK" = 1 ] || note "perf columns unavailable: $PERF_WHY; page faults come from getrusage (ru_minflt) only"

# ---- workloads -------------------------------------------------------------
# id|group|size|program|args|metric|perf   (metric: wall = ops / whole-process time)
WORKLOADS=""
addw() { WORKLOADS="$WORKLOADS${WORKLOADS:+
}$1"; }
for s in 256 512 1024 mixed; do
    if [ "$s" = mixed ]; then lo=16 hi=1024; else lo=$s hi=$s; fi
    addw "short-$s|short|$s|bench_random_mixed|$SHORT_OPS $lo $hi 1|wall|1"
done
for s in 256 512 1024 mixed; do
    if [ "$s" = mixed ]; then lo=16 hi=1024; else lo=$s hi=$s; fi
    addw "long-$s|long|$s|bench_random_mixed|$LONG_OPS $lo $hi 1|loop|1"
done
for s in 256 512 1024 mixed; do
    if [ "$s" = mixed ]; then lo=16 hi=1024; else lo=$s hi=$s; fi
    addw "mt2-$s|mt2|$s|bench_random_mixed|$MT_OPS $lo $hi 2|loop|0"
done
addw "prodcons-mixed|prodcons|mixed|bench_prodcons|$PC_OPS 16 1024 1|loop|0"
addw "larson-mixed|larson|mixed|bench_larson|$LA_OPS 16 1024 2|loop|0"
addw "phase-64to512|phase|64to512|bench_phase_change|64 512 $PHC_MIB 300|loop|0"
addw "phase-512to64|phase|512to64|bench_phase_change|512 64 $PHC_MIB 300|loop|0"
NWORK=$(printf '%s\n' "$WORKLOADS" | wc -l)

NHAK=$(printf '%s\n' "$CONTENDERS" | grep -c '|base|\||phase|\||off|')
NPERF=0
if [ "$PERF_OK" = 1 ]; then
    NPERF=$(( $(echo $PERF_SIZES | wc -w) * 2 * NHAK ))
fi
TOTAL=$(( NWORK * REPS * NCONT + NPERF ))

# ---- output files ----------------------------------------------------------
HOST=$(hostname 2>/dev/null || uname -n)
STAMP=$(date +%Y-%m-%d_%H%M%S)
SUFFIX=""; [ "$QUICK" = 1 ] && SUFFIX="-quick"
RES=$ROOT/bench/results
mkdir -p "$RES"
BASE=$RES/$STAMP-$HOST$SUFFIX
RAW=$BASE.tsv
PERFTSV=$BASE.perf.tsv
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT INT TERM
printf 'workload\tgroup\tsize\tcontender\trep\tstatus\tops\tloop_s\twall_s\tops_per_sec\tmaxrss_kb\tminflt\tutime\tstime\tend_rss_kb\n' > "$RAW"
printf 'workload\tgroup\tsize\tcontender\tstatus\tsamples\tpf_samples\tpf_share\tperf_page_faults\n' > "$PERFTSV"

T_START=$(date +%s)
log "hakmem bench: $NCONT contenders x $NWORK workloads x $REPS reps (+$NPERF perf runs) = $TOTAL runs$( [ "$QUICK" = 1 ] && echo ', QUICK')"
log "phases (in order): $PHASES"

fmt_m() { awk -v v="$1" 'BEGIN{ if (v=="" ) print "-"; else printf "%.2fM", v/1e6 }'; }

N=0
# run_one workload group size prog args metric contender kind preload enable rep
run_one() {
    wid=$1 grp=$2 size=$3 prog=$4 args=$5 metric=$6 cname=$7 preload=$9 enable=${10} rep=${11} xenv=${12}
    N=$((N + 1))
    envs=""
    [ -n "$preload" ] && envs="LD_PRELOAD=$preload"
    [ -n "$enable" ] && envs="$envs HAKMEM_SMALLMID_ENABLE=$enable"
    [ -n "$xenv" ] && envs="$envs $xenv"
    out=$TMP/out err=$TMP/err
    # shellcheck disable=SC2086
    timeout "$TMO" "$BB/bench_launch" $envs -- "$BB/$prog" $args >"$out" 2>"$err" </dev/null
    rc=$?
    line=$(grep '^RESULT ' "$out" | tail -n 1)
    lline=$(grep '^LAUNCH ' "$out" | tail -n 1)
    if [ "$rc" = 0 ] && [ -n "$line" ] && [ -n "$lline" ]; then
        rec=$(printf '%s %s\n' "$line" "$lline" | awk -v metric="$metric" '{
            for (i = 2; i <= NF; i++) {
                if ($i == "LAUNCH") { inl = 1; continue }
                split($i, kv, "=");
                if (!inl) v[kv[1]] = kv[2]; else if (kv[1] == "wall") wall = kv[2] }
            ops = v["ops"]; loop = v["seconds"];
            r = (metric == "wall") ? ops / wall : ops / loop;
            printf "ok\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s", ops, loop, wall, r, v["maxrss_kb"], v["minflt"], v["utime"], v["stime"], v["end_rss_kb"] }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$wid" "$grp" "$size" "$cname" "$rep" "$rec" >> "$RAW"
        val=$(printf '%s' "$rec" | cut -f5)
        log "[$N/$TOTAL] $wid rep $rep/$REPS $cname: $(fmt_m "$val") ops/s"
    else
        [ "$rc" = 124 ] && why="timeout after ${TMO}s" || why="exit $rc"
        printf '%s\t%s\t%s\t%s\t%s\tFAIL\t\t\t\t\t\t\t\t\t\n' "$wid" "$grp" "$size" "$cname" "$rep" >> "$RAW"
        log "[$N/$TOTAL] $wid rep $rep/$REPS $cname: FAILED ($why): $(tail -n 2 "$err" | tr '\n' ' ')"
    fi
}

# perf_one: one extra run under perf record -g + perf stat -e page-faults
perf_one() {
    wid=$1 grp=$2 size=$3 prog=$4 args=$5 cname=$7 preload=$9 enable=${10} xenv=${11}
    N=$((N + 1))
    # enough samples for a ~10 ms short run, ~2 kHz for the long ones
    if [ "$grp" = short ]; then period=50000; else period=500000; fi
    # shellcheck disable=SC2086
    timeout "$TMO" perf record -q -e cpu-clock -c "$period" -g -o "$TMP/perf.data" -- \
        perf stat -x, -e page-faults -o "$TMP/stat" -- \
        env LD_PRELOAD="$preload" HAKMEM_SMALLMID_ENABLE="$enable" $xenv "$BB/$prog" $args \
        >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    if [ "$rc" != 0 ]; then
        printf '%s\t%s\t%s\t%s\tFAIL\t\t\t\t\n' "$wid" "$grp" "$size" "$cname" >> "$PERFTSV"
        log "[$N/$TOTAL] perf $wid $cname: FAILED (exit $rc)"
        return
    fi
    pf=$(awk -F, '$3 ~ /page-faults/ {print $1}' "$TMP/stat" | head -n 1)
    # Samples of the benchmark process (comm bench_*), and those whose callchain
    # passes through the kernel page-fault handler.
    counts=$(perf script -i "$TMP/perf.data" -F comm,ip,sym 2>/dev/null | awk '
        BEGIN { RS = ""; FS = "\n" }
        { split($1, h, " "); if (h[1] !~ /^bench_/) next; n++; if ($0 ~ /exc_page_fault/) f++ }
        END { printf "%d %d", n, f }')
    set -- $counts
    share=$(awk -v n="$1" -v f="$2" 'BEGIN { if (n > 0) printf "%.4f", f / n; }')
    printf '%s\t%s\t%s\t%s\tok\t%s\t%s\t%s\t%s\n' "$wid" "$grp" "$size" "$cname" "$1" "$2" "$share" "$pf" >> "$PERFTSV"
    log "[$N/$TOTAL] perf $wid $cname: $(awk -v s="$share" 'BEGIN{printf "%.1f", s*100}')% of $1 samples in exc_page_fault, $pf page faults"
}

printf '%s\n' "$WORKLOADS" > "$TMP/workloads"
printf '%s\n' "$CONTENDERS" > "$TMP/contenders"
while IFS='|' read -r wid grp size prog args metric perfw; do
    rep=1
    while [ "$rep" -le "$REPS" ]; do
        while IFS='|' read -r cname kind preload enable xenv; do
            run_one "$wid" "$grp" "$size" "$prog" "$args" "$metric" "$cname" "$kind" "$preload" "$enable" "$rep" "$xenv"
        done < "$TMP/contenders"
        rep=$((rep + 1))
    done
    if [ "$PERF_OK" = 1 ] && [ "$perfw" = 1 ] && echo " $PERF_SIZES " | grep -q " $size "; then
        while IFS='|' read -r cname kind preload enable xenv; do
            [ "$kind" = peer ] && continue
            perf_one "$wid" "$grp" "$size" "$prog" "$args" "$metric" "$cname" "$kind" "$preload" "$enable" "$xenv"
        done < "$TMP/contenders"
    fi
done < "$TMP/workloads"
T_END=$(date +%s)
ELAPSED=$((T_END - T_START))
log "runs finished in ${ELAPSED}s"

# ---- report ----------------------------------------------------------------
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
[ -n "$CPU" ] || CPU=$(uname -m)
GCCV=$(gcc --version 2>/dev/null | head -n 1)
LIBCV=$(ldd --version 2>/dev/null | head -n 1)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- common $PHASES 2>/dev/null || echo "+dirty")
CONTORDER=$(cut -d'|' -f1 "$TMP/contenders" | tr '\n' ' ' | sed 's/ $//')
PNG=$BASE.png
MD=$BASE.md
CHART_NOTE=""

if command -v gnuplot >/dev/null 2>&1 || { [ "$IS_ROOT" = 1 ] && apt_install gnuplot-nox; }; then
    if command -v gnuplot >/dev/null 2>&1; then
        awk -f bench/report.awk -v mode=chartdata -v dir="$TMP" -v contenders="$CONTORDER" "$RAW"
        sh bench/chart.sh "$TMP" "$PNG" "$CONTORDER" "$HOST $STAMP$SUFFIX" 2>"$TMP/gperr" ||
            { CHART_NOTE="gnuplot failed: $(head -n 3 "$TMP/gperr" | tr '\n' ' ')"; PNG=""; }
    fi
else
    CHART_NOTE="no chart: gnuplot is not installed and not root (apt-get install gnuplot-nox)"; PNG=""
fi
[ -n "$CHART_NOTE" ] && note "$CHART_NOTE"

{
    echo "# hakmem A/B benchmark - $STAMP - $HOST$( [ "$QUICK" = 1 ] && echo ' (QUICK)')"
    echo
    echo "- machine: $(nproc) CPUs, $CPU; kernel $(uname -sr); $GCCV; $LIBCV"
    echo "- hakmem commit: $COMMIT; phases (oldest first): $PHASES"
    echo "- contenders, interleaved (A B C ... A B C ...), $REPS reps each, medians:"
    while IFS='|' read -r cname kind preload enable xenv; do
        [ -n "$xenv" ] && xenv=" and $xenv (its bench.env)"
        case $kind in
            base)  echo "  - **$cname**: $preload with HAKMEM_SMALLMID_ENABLE=0" ;;
            phase) echo "  - **$cname** (ON): $preload with HAKMEM_SMALLMID_ENABLE=1$xenv" ;;
            off)   echo "  - **$cname**: $preload with HAKMEM_SMALLMID_ENABLE=0$xenv (its Tiny backend differs from the Baseline's)" ;;
            peer)  echo "  - **$cname**: ${preload:-no LD_PRELOAD (system malloc)}" ;;
        esac
    done < "$TMP/contenders"
    echo "- workloads (programs in build/bench/, run under LD_PRELOAD; ops = malloc+free calls):"
    echo "  - **short**: \`bench_random_mixed $SHORT_OPS SIZE SIZE 1\` - the seed's regime; ops/s over the *whole process* (fork, exec, allocator start-up, first touch, exit; measured by bench_launch)"
    echo "  - **long**: \`bench_random_mixed $LONG_OPS SIZE SIZE 1\` - steady state; ops/s over the timed loop"
    echo "  - **mt2**: \`bench_random_mixed $MT_OPS SIZE SIZE 2\` - the same churn on 2 threads"
    echo "  - **prodcons**: \`bench_prodcons $PC_OPS 16 1024 1\` - 1 producer allocates, 1 consumer frees (all frees remote)"
    echo "  - **larson**: \`bench_larson $LA_OPS 16 1024 2\` - 2 threads replace random blocks and swap block sets every 10000 replacements"
    echo "  - **phase**: \`bench_phase_change FROM TO $PHC_MIB 300\` - fill $PHC_MIB MiB with FROM-byte blocks, free all, fill $PHC_MIB MiB with TO-byte blocks, free all, then 300 ms of a few small blocks; peak RSS and RSS at the end"
    echo "  - SIZE mixed = uniform random 16..1024 B; working set 8192 slots/thread, seed 42"
    echo "- perf: $( [ "$PERF_OK" = 1 ] && echo "one extra run per hakmem contender on short/long sizes $PERF_SIZES: \`perf record -e cpu-clock -g\` (share of the benchmark's samples whose callchain contains exc_page_fault) and \`perf stat -e page-faults\`" || echo "unavailable - $PERF_WHY")"
    echo "- wall time of the runs: ${ELAPSED}s"
    [ -n "$NOTES" ] && { echo "- notes:"; printf '%s\n' "$NOTES" | sed '/^$/d; s/^/  /'; }
    echo
    awk -f bench/report.awk -v mode=md -v contenders="$CONTORDER" -v peers="$PEER_NAMES" \
        -v phases="$PHASES" -v offs="$OFF_PHASES" -v perfok="$PERF_OK" "$RAW" "$PERFTSV"
    if [ -n "$PNG" ]; then echo; echo "![ops/s per size per contender]($(basename "$PNG"))"; fi
    echo
    echo "Raw per-run data: $(basename "$RAW"), $(basename "$PERFTSV")."
} > "$MD"

cat "$MD"
log "report: $MD${PNG:+, chart: $PNG}"
