#!/bin/sh
# run_bench.sh - hakmem A/B benchmark: every phase vs Baseline vs system allocators.
#
#   make bench [QUICK=1]          (builds everything first, then runs this script)
#   QUICK=1 sh bench/run_bench.sh (expects build/<phase>/libhakmem.so and build/bench/*)
#
# Contenders, run interleaved (A B C ... A B C ...) REPS times (5; QUICK 3), medians:
#   Baseline   first phase's libhakmem.so, HAKMEM_SMALLMID_ENABLE=0
#   <phase>    every phase*/ folder with a phase.c, HAKMEM_SMALLMID_ENABLE=1
#   <phase>-off  a phase whose Tiny backend differs from the Baseline's, Small-Mid off
#   glibc      no preload; mimalloc / jemalloc / tcmalloc from Debian packages
#   sol        build/bench/libsol.so: speed of light, no checks, bench only
# Phase order ("previous phase" for the Delta column): `make phases` (the
# Makefile's PHASE_ORDER, oldest first); override with BENCH_PHASES="p1 p2 ...".
# Groups: short long mt2 mid prodcons larson phase large xthread realprog, and callgrind
# (Ir per malloc/free call, one valgrind run per contender and size).
#
# Output: progress on stderr, the markdown report on stdout and in
# bench/results/<date>-<host>[-quick].md (ignored by git: copy a run worth keeping
# to bench/reference/ under a name that says what it is), raw data in .tsv
# (.perf.tsv, .ir.tsv), chart in .png.
# Env knobs (bench/README.md): QUICK=1, REPS=n, BENCH_PHASES, BENCH_TIMEOUT (s per
# run), BENCH_NO_PERF=1, BENCH_GROUPS="g1 g2 ...", BENCH_CONTENDERS="c1 c2 ...",
# BENCH_CALLGRIND=0|1.
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
    LR_OPS=15             # large buffer replacements
    XT_OPS=1500000
    MID_OPS=1000000       # Mid churn, 1025..65536 B
    CG_OPS=500000         # callgrind (only with BENCH_CALLGRIND=1 in QUICK mode)
    REAL_REPS=$REPS       # real programs: inputs ~0.1-0.4 s each
    PY_N=20000; GCC_FILES=2; SORT_MB=5; GIT_FILES=600; GIT_COMMITS=8; GIT_PER=60
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
    LR_OPS=600
    XT_OPS=24000000
    MID_OPS=10000000
    CG_OPS=2000000
    REAL_REPS=3           # real programs take 0.5-3 s: at most 3 reps (below)
    PY_N=300000; GCC_FILES=30; SORT_MB=100; GIT_FILES=2500; GIT_COMMITS=45; GIT_PER=150
    PERF_SIZES="256 512 1024 mixed"
    TMO=${BENCH_TIMEOUT:-180}
fi
case $REPS in ''|*[!0-9]*|0) die "REPS must be a positive integer" ;; esac
[ "$REAL_REPS" -gt "$REPS" ] && REAL_REPS=$REPS

for p in bench_random_mixed bench_prodcons bench_larson bench_launch bench_phase_change \
         bench_large_replace bench_xthread libsol.so; do
    [ -e "$BB/$p" ] || die "$BB/$p missing - run 'make bench' (or 'make bench-progs')"
done
SOL_SO=$BB/libsol.so

# ---- filters ---------------------------------------------------------------
ALL_GROUPS="short long mt2 mid prodcons larson phase large xthread realprog callgrind"
# Word lists, normalised to single spaces (set -f: no globbing of the words).
set -f
# shellcheck disable=SC2086,SC2116
BENCH_GROUPS=$(echo ${BENCH_GROUPS:-})
# shellcheck disable=SC2086,SC2116
BENCH_CONTENDERS=$(echo ${BENCH_CONTENDERS:-})
set +f
for g in $BENCH_GROUPS; do
    case " $ALL_GROUPS " in *" $g "*) ;; *) die "BENCH_GROUPS: unknown group '$g' (groups: $ALL_GROUPS)" ;; esac
done
group_wanted() { [ -z "$BENCH_GROUPS" ] || case " $BENCH_GROUPS " in *" $1 "*) true ;; *) false ;; esac; }
cont_wanted() { [ -z "$BENCH_CONTENDERS" ] || case " $BENCH_CONTENDERS " in *" $1 "*) true ;; *) false ;; esac; }
case ${BENCH_CALLGRIND:-} in ''|0|1) ;; *) die "BENCH_CALLGRIND must be 0 or 1" ;; esac

NOTES=""
note() { NOTES="$NOTES
- $*"; log "note: $*"; }

# ---- phases ----------------------------------------------------------------
PHASES=${BENCH_PHASES:-$(make -s --no-print-directory phases)}
# shellcheck disable=SC2086
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
    if [ -z "$PEER_SO" ] || [ ! -f "$PEER_SO" ]; then note "$1 skipped: no shared library found in dpkg -L $2"; return 1; fi
}

# Contender table: name|kind|LD_PRELOAD|HAKMEM_SMALLMID_ENABLE|more environment
# (kind: base, phase, off, peer, sol).  A phase whose Tiny backend (tiny_superslab.c)
# differs from the Baseline's also runs with Small-Mid off ("<phase>-off"), so that
# ON vs OFF compares the Small-Mid layer with Tiny on the same backend.  A phase
# with a bench.env runs (ON and OFF) with the HAKMEM_* settings of its first
# non-comment line - the setting its README entry documents for benchmarks.
CONTENDERS="Baseline|base|$BUILD/$FIRST_PHASE/libhakmem.so|0|"
for p in $PHASES; do
    penv=""
    [ -f "$p/bench.env" ] && penv=$(grep -v '^[[:space:]]*#' "$p/bench.env" | grep -m 1 .)
    case " $penv " in *[!A-Za-z0-9_=\ ]*) die "$p/bench.env: only NAME=VALUE words allowed: $penv" ;; esac
    CONTENDERS="$CONTENDERS
$p|phase|$BUILD/$p/libhakmem.so|1|$penv"
    if ! cmp -s "$p/tiny_superslab.c" "$FIRST_PHASE/tiny_superslab.c"; then
        CONTENDERS="$CONTENDERS
$p-off|off|$BUILD/$p/libhakmem.so|0|$penv"
    fi
done
CONTENDERS="$CONTENDERS
glibc|peer|||"
KNOWN="$(printf '%s\n' "$CONTENDERS" | cut -d'|' -f1 | tr '\n' ' ')mimalloc jemalloc tcmalloc sol"
for c in $BENCH_CONTENDERS; do
    case " $KNOWN " in *" $c "*) ;; *) die "BENCH_CONTENDERS: unknown contender '$c' (contenders: $KNOWN)" ;; esac
done
add_peer() { # name pkg regex (looked up only when wanted)
    cont_wanted "$1" || return 0
    if peer_so "$1" "$2" "$3"; then
        CONTENDERS="$CONTENDERS
$1|peer|$PEER_SO||"
    fi
}
add_peer mimalloc libmimalloc2.0 '/libmimalloc\.so\.[0-9]+$'
add_peer jemalloc libjemalloc2 '/libjemalloc\.so\.[0-9]+$'
add_peer tcmalloc libtcmalloc-minimal4 '/libtcmalloc_minimal\.so\.[0-9]+$'
CONTENDERS="$CONTENDERS
sol|sol|$SOL_SO||"
# BENCH_CONTENDERS: keep only the named rows (the order stays the table's).
if [ -n "$BENCH_CONTENDERS" ]; then
    CONTENDERS=$(printf '%s\n' "$CONTENDERS" | awk -F'|' -v keep=" $BENCH_CONTENDERS " 'index(keep, " " $1 " ")')
    [ -n "$CONTENDERS" ] || die "BENCH_CONTENDERS: none of '$BENCH_CONTENDERS' is available"
fi
NCONT=$(printf '%s\n' "$CONTENDERS" | wc -l)
# What the report compares: the phases (with their -off rows) and the peers kept.
RPHASES="" ROFFS=""
for p in $PHASES; do
    printf '%s\n' "$CONTENDERS" | grep -q "^$p|" && on=1 || on=0
    printf '%s\n' "$CONTENDERS" | grep -q "^$p-off|" && off=1 || off=0
    [ $((on + off)) -gt 0 ] && RPHASES="$RPHASES $p"
    [ "$off" = 1 ] && ROFFS="$ROFFS $p"
done
PEER_NAMES=$(printf '%s\n' "$CONTENDERS" | awk -F'|' '$2 == "peer" { printf "%s%s", s, $1; s = " " }')

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

# ---- temporary directory (run outputs, generated inputs of the real programs) --
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-bench.XXXXXX") || die "mktemp failed"
trap 'rm -rf "$TMP"' EXIT INT TERM

# ---- workloads -------------------------------------------------------------
# id|group|size|program|args|metric|perf
#   metric: wall = ops / whole-process time, loop = ops / timed loop (both from the
#   RESULT line), time = seconds of the whole process tree (real programs: program
#   "real", args = the program's name for real_cmd)
WORKLOADS=""
NWORK=0
addw() {
    group_wanted "$(echo "$1" | cut -d'|' -f2)" || return 0
    WORKLOADS="$WORKLOADS${WORKLOADS:+
}$1"
    NWORK=$((NWORK + 1))
}
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
# Mid sizes (1-64 KiB) churned, on 1 and 2 threads: ~64 MB live per thread.
addw "mid-1t|mid|1-64KiB|bench_random_mixed|$MID_OPS 1025 65536 1|loop|0"
addw "mid-2t|mid|1-64KiBx2|bench_random_mixed|$MID_OPS 1025 65536 2|loop|0"
addw "prodcons-mixed|prodcons|mixed|bench_prodcons|$PC_OPS 16 1024 1|loop|0"
# ... and with Mid sizes: every consumer free of a 1-64 KiB block is remote too.
# Not for sol (skip_run), which never hands a freed block back to the producer:
# its memory grows by every block allocated, ~100 GB at 6M ops.
addw "prodcons-mid|prodcons|1-64KiB|bench_prodcons|$PC_OPS 1025 65536 1|loop|0"
skip_run() { [ "$1:$2" = "prodcons-mid:sol" ]; }
addw "larson-mixed|larson|mixed|bench_larson|$LA_OPS 16 1024 2|loop|0"
addw "phase-64to512|phase|64to512|bench_phase_change|64 512 $PHC_MIB 300|loop|0"
addw "phase-512to64|phase|512to64|bench_phase_change|512 64 $PHC_MIB 300|loop|0"
# Mid sizes (1-64 KiB): one class's segments emptied, another class's filled.
addw "phase-4096to1536|phase|4096to1536|bench_phase_change|4096 1536 $PHC_MIB 300|loop|0"
addw "large-5to25|large|5-25MiB|bench_large_replace|$LR_OPS 20 5 25|loop|0"
# BACKLOG 4096: at most 4096 blocks wait in an inbox, so the row's RSS is the
# allocator's, not how far a sender ran ahead (bench_xthread.c).
addw "xthread-mixed|xthread|mixed|bench_xthread|$XT_OPS 16 1024 2 1024 42 4096|loop|0"

# Real programs (group realprog): inputs generated once into $TMP/real; each run's
# stdout is compared with the output of one run without LD_PRELOAD (a contender that
# changes a program's output FAILs).  real_cmd NAME sets R_DIR (working directory),
# R_ENV (NAME=VALUE words) and R_CMD (the command's words).
RD=$TMP/real
PY="" GCC_SRCS=""
real_cmd() {
    case $1 in
        python) R_DIR=$RD R_ENV="" R_CMD="$PY $RD/dicts.py $PY_N" ;;
        gcc)    R_DIR=$RD/gcc R_ENV="" R_CMD="gcc -O2 -c $GCC_SRCS" ;;
        sort)   R_DIR=$RD R_ENV="LC_ALL=C" R_CMD="sort -S 256M $RD/lines.txt" ;;
        git)    R_DIR=$RD/repo R_ENV="GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME=$RD"
                R_CMD="git --no-pager log -p --stat --word-diff" ;;
    esac
}
# The generators use a Park-Miller LCG in awk (exact in doubles): the same bytes
# on every machine.
gen_python() {
    if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3
    elif command -v python3 >/dev/null 2>&1; then PY=$(python3 -c 'import sys; print(sys.executable)')
    else return 1; fi
    cat > "$RD/dicts.py" <<'PYEOF'
import json, sys
n = int(sys.argv[1])
rows = [{"id": i, "name": "item%d" % i, "score": i * 0.5, "ok": i % 3 == 0, "tag": "t%d" % (i % 97)}
        for i in range(n)]
text = json.dumps(rows)
back = json.loads(text)
index = {r["name"]: r for r in back}
assert len(index) == n and back == rows
print(len(text), len(index))
PYEOF
}
gen_gcc() {
    command -v gcc >/dev/null 2>&1 || return 1
    mkdir -p "$RD/gcc" &&
    awk -v nf="$GCC_FILES" -v dir="$RD/gcc" 'BEGIN {
        for (f = 0; f < nf; f++) {
            out = sprintf("%s/f%02d.c", dir, f)
            printf "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n" > out
            printf "struct rec%d { int key[16]; double w; char name[32]; struct rec%d *next; };\n\n", f, f > out
            for (k = 0; k < 3; k++) {
                printf "static int h%d_%d(struct rec%d *p, int n)\n{\n    int acc = %d;\n", f, k, f, k > out
                printf "    for (int i = 0; i < n; i++) {\n        acc += p->key[i & 15] * (i ^ %d);\n", k * 7 + f > out
                printf "        if (acc > %d) acc -= p->key[(i + %d) & 15];\n", 1000 + k, k % 5 > out
                printf "        if (p->next) acc ^= p->next->key[(acc >> 3) & 15];\n    }\n    switch (n & 7) {\n" > out
                for (c = 0; c < 8; c++)
                    printf "    case %d: acc += %d * n; snprintf(p->name, sizeof p->name, \"%%d-%d\", acc); break;\n", c, c + k, c > out
                printf "    }\n    p->w = p->w * 0.5 + acc;\n    return acc + (int)strlen(p->name);\n}\n\n" > out
            }
            printf "int entry%d(int n)\n{\n    struct rec%d *r = calloc(1, sizeof *r);\n    int t = 0;\n", f, f > out
            printf "    if (!r) return -1;\n" > out
            for (k = 0; k < 3; k++) printf "    t += h%d_%d(r, n + %d);\n", f, k, k > out
            printf "    free(r);\n    return t;\n}\n" > out
            close(out)
        } }' || return 1
    GCC_SRCS=$(cd "$RD/gcc" && echo f*.c)
}
gen_sort() {
    command -v sort >/dev/null 2>&1 || return 1
    awk -v mb="$SORT_MB" 'BEGIN { x = 42; n = 0; lim = mb * 1048576
        while (n < lim) {
            x = (x * 16807) % 2147483647
            line = sprintf("%010d %s %d", x, substr("abcdefghijklmnopqrstuvwxyz", x % 26 + 1, 5 + x % 15), x % 9973)
            print line; n += length(line) + 1 } }' > "$RD/lines.txt"
}
gen_git() {
    command -v git >/dev/null 2>&1 || return 1
    (   export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$RD" \
            GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' \
            GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
        mkdir -p "$RD/repo" && cd "$RD/repo" && git init -q . || exit 1
        i=0; while [ $i -lt 40 ]; do mkdir -p "d$(printf %02d $i)"; i=$((i + 1)); done
        c=0
        while [ $c -le "$GIT_COMMITS" ]; do
            # commit 0 writes every file; commit c rewrites GIT_PER of them, one line in 9 changed
            awk -v nf="$GIT_FILES" -v c="$c" -v per="$GIT_PER" 'BEGIN {
                x = 12345 + c * 7919; n = c ? per : nf
                for (i = 0; i < n; i++) {
                    x = (x * 16807) % 2147483647; f = c ? x % nf : i
                    fn = sprintf("d%02d/f%04d.txt", f % 40, f)
                    for (l = 0; l < 30 + f % 50; l++)
                        printf "line %d of file %d: %s\n", l, f, \
                            (c && (l * 13 + f) % 9 == c % 9) ? "changed in rev " c : "original text " (l * f) % 997 > fn
                    close(fn) } }' || exit 1
            git add -A && git commit -q -m "rev $c" || exit 1
            c=$((c + 1))
        done
        git gc -q ) >/dev/null 2>&1
}
if group_wanted realprog; then
    mkdir -p "$RD"
    T_GEN=$(date +%s)
    log "generating the real programs' inputs in $RD"
    for r in python gcc sort git; do
        case $r in
            python) label="python-json" tool=python3 ;;
            gcc)    label="gcc-O2-c" tool=gcc ;;
            sort)   label="sort-${SORT_MB}MB" tool=sort ;;
            git)    label="git-log-p" tool=git ;;
        esac
        if ! "gen_$r"; then note "realprog $label skipped: $tool is missing or its input could not be generated"; continue; fi
        real_cmd "$r"
        # The reference output (and a warm page cache for the input).
        # shellcheck disable=SC2086
        if ! "$BB/bench_launch" -C "$R_DIR" -o "$RD/$r.ref" $R_ENV -- $R_CMD >/dev/null 2>"$TMP/err"; then
            note "realprog $label skipped: it fails without LD_PRELOAD: $(tail -n 2 "$TMP/err" | tr '\n' ' ')"
            continue
        fi
        addw "real-$r|realprog|$label|real|$r|time|0"
    done
    log "inputs generated in $(( $(date +%s) - T_GEN ))s"
fi

# ---- callgrind: Ir per malloc/free call --------------------------------------
# Runs when BENCH_GROUPS names callgrind, or (BENCH_GROUPS unset) by default in the
# full run; BENCH_CALLGRIND=0/1 overrides.  Per contender: one run per size and one
# of 1 op (start-up and exit: the fixed cost, subtracted), and the same for the loop
# alone (BENCH_NOALLOC=1); callgrind counts are deterministic, one run each.
CG_SIZES="startup smallmid mixed"
if [ -n "$BENCH_GROUPS" ]; then
    if group_wanted callgrind; then CG_RUN=${BENCH_CALLGRIND:-1}; CG_WHY="disabled (BENCH_CALLGRIND=0)"
    else CG_RUN=0; CG_WHY="not in BENCH_GROUPS"; fi
elif [ "$QUICK" = 1 ]; then
    CG_RUN=${BENCH_CALLGRIND:-0}; CG_WHY="skipped in QUICK mode (BENCH_CALLGRIND=1 runs it)"
else
    CG_RUN=${BENCH_CALLGRIND:-1}; CG_WHY="disabled (BENCH_CALLGRIND=0)"
fi
CG_WANTED=$CG_RUN
if [ "$CG_RUN" = 1 ] && ! command -v valgrind >/dev/null 2>&1; then
    [ "$IS_ROOT" = 1 ] && apt_install valgrind
    if ! command -v valgrind >/dev/null 2>&1; then
        CG_RUN=0; CG_WHY="valgrind is missing (Debian: apt-get install valgrind)"
    fi
fi
[ "$CG_WANTED" = 1 ] && [ "$CG_RUN" = 0 ] && note "callgrind Ir/op not measured: $CG_WHY"
NCG=0
# shellcheck disable=SC2086
[ "$CG_RUN" = 1 ] && NCG=$(( $(echo $CG_SIZES | wc -w) * (NCONT + 1) ))

NHAK=$(printf '%s\n' "$CONTENDERS" | grep -c '|base|\||phase|\||off|')
NPERF=0
if [ "$PERF_OK" = 1 ]; then
    for s in $PERF_SIZES; do
        for g in short long; do
            printf '%s\n' "$WORKLOADS" | grep -q "^$g-$s|" && NPERF=$((NPERF + NHAK))
        done
    done
fi
NREAL=$(printf '%s\n' "$WORKLOADS" | grep -c '|realprog|')
TOTAL=$(( (NWORK - NREAL) * REPS * NCONT + NREAL * REAL_REPS * NCONT + NPERF + NCG ))
printf '%s\n' "$WORKLOADS" | grep -q '^prodcons-mid|' && printf '%s\n' "$CONTENDERS" | grep -q '|sol|' &&
    TOTAL=$((TOTAL - REPS))
[ "$TOTAL" -gt 0 ] || die "nothing to run (BENCH_GROUPS='$BENCH_GROUPS')"

# ---- output files ----------------------------------------------------------
HOST=$(hostname 2>/dev/null || uname -n)
STAMP=$(date +%Y-%m-%d_%H%M%S)
SUFFIX=""; [ "$QUICK" = 1 ] && SUFFIX="-quick"
RES=$ROOT/bench/results
mkdir -p "$RES"
BASE=$RES/$STAMP-$HOST$SUFFIX
RAW=$BASE.tsv
PERFTSV=$BASE.perf.tsv
IRTSV=$BASE.ir.tsv
printf 'workload\tgroup\tsize\tcontender\trep\tstatus\tops\tloop_s\twall_s\tvalue\tmaxrss_kb\tminflt\tutime\tstime\tend_rss_kb\tunit\tbacklog\n' > "$RAW"
printf 'workload\tgroup\tsize\tcontender\tstatus\tsamples\tpf_samples\tpf_share\tperf_page_faults\n' > "$PERFTSV"
printf 'size\targs\tcontender\tstatus\tir_total\tops\n' > "$IRTSV"

T_START=$(date +%s)
log "hakmem bench: $NCONT contenders x $NWORK workloads x $REPS reps$( [ "$NREAL" -gt 0 ] && [ "$REAL_REPS" != "$REPS" ] && echo " ($REAL_REPS for real programs)") (+$NPERF perf runs, +$NCG callgrind runs) = $TOTAL runs$( [ "$QUICK" = 1 ] && echo ', QUICK')"
log "phases (in order): $PHASES"
log "contenders: $(printf '%s\n' "$CONTENDERS" | cut -d'|' -f1 | tr '\n' ' ')"


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
    if [ "$metric" = time ]; then
        # A real program: its own output to $RD/NAME.out (compared with the reference),
        # the LAUNCH line (wall time, rusage of the process tree) on bench_launch's stdout.
        real_cmd "$args"
        # shellcheck disable=SC2086
        timeout "$TMO" "$BB/bench_launch" -C "$R_DIR" -o "$RD/$args.out" $envs $R_ENV -- $R_CMD \
            >"$out" 2>"$err" </dev/null
        rc=$?
        if [ "$rc" = 0 ] && ! cmp -s "$RD/$args.out" "$RD/$args.ref"; then
            rc=1; echo "output differs from the run without LD_PRELOAD" >> "$err"
        fi
    else
        # shellcheck disable=SC2086
        timeout "$TMO" "$BB/bench_launch" $envs -- "$BB/$prog" $args >"$out" 2>"$err" </dev/null
        rc=$?
    fi
    # One awk: the TSV record, a tab, the value for the progress line ("" when the
    # RESULT line - not needed for a real program - or the LAUNCH line is missing).
    rec=""
    [ "$rc" = 0 ] && rec=$(awk -v metric="$metric" '
        function kv(into,    i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); into[a[1]] = a[2] } }
        /^RESULT / { delete v; kv(v); res = 1 }
        /^LAUNCH / { delete l; kv(l); lau = 1 }
        END {
            if (!lau || (!res && metric != "time")) exit
            if (metric == "time") {     # the whole process tree, from bench_launch
                printf "ok\t\t\t%s\t%s\t%s\t%s\t%s\t%s\t\ts\t\t%.3f s", l["wall"], l["wall"], l["maxrss_kb"], l["minflt"], l["utime"], l["stime"], l["wall"]
                exit
            }
            ops = v["ops"]; loop = v["seconds"]; wall = l["wall"]
            r = (metric == "wall") ? ops / wall : ops / loop
            # backlog: the most blocks waiting between threads (xthread inbox_max,
            # prodcons inflight_max); peak RSS of those rows follows it
            bl = ("inbox_max" in v) ? v["inbox_max"] : v["inflight_max"]
            printf "ok\t%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t%s\t%s\tops/s\t%s\t", ops, loop, wall, r, v["maxrss_kb"], v["minflt"], v["utime"], v["stime"], v["end_rss_kb"], bl
            if (r >= 1e5) printf "%.2fM ops/s", r / 1e6; else printf "%.0f ops/s", r }' "$out")
    if [ -n "$rec" ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$wid" "$grp" "$size" "$cname" "$rep" "${rec%	*}" >> "$RAW"
        log "[$N/$TOTAL] $wid rep $rep/$NREP $cname: ${rec##*	}"
    else
        if [ "$rc" = 124 ]; then why="timeout after ${TMO}s"; elif [ "$rc" = 0 ]; then why="no RESULT/LAUNCH line"; else why="exit $rc"; fi
        printf '%s\t%s\t%s\t%s\t%s\tFAIL\t\t\t\t\t\t\t\t\t\t\t\n' "$wid" "$grp" "$size" "$cname" "$rep" >> "$RAW"
        log "[$N/$TOTAL] $wid rep $rep/$NREP $cname: FAILED ($why): $(tail -n 2 "$err" | tr '\n' ' ')"
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
    # shellcheck disable=SC2086
    set -- $counts
    share=$(awk -v n="$1" -v f="$2" 'BEGIN { if (n > 0) printf "%.4f", f / n; }')
    printf '%s\t%s\t%s\t%s\tok\t%s\t%s\t%s\t%s\n' "$wid" "$grp" "$size" "$cname" "$1" "$2" "$share" "$pf" >> "$PERFTSV"
    log "[$N/$TOTAL] perf $wid $cname: $(awk -v s="$share" 'BEGIN{printf "%.1f", s*100}')% of $1 samples in exc_page_fault, $pf page faults"
}

# cg_one SIZE ARGS NAME PRELOAD ENABLE XENV NOALLOC: one callgrind run of
# bench_random_mixed ARGS; sets CG_IR (Ir of the whole process) and CG_OPS_DONE
# (its RESULT's ops), or returns 1.
cg_one() {
    N=$((N + 1))
    rm -f "$TMP/cg.out"
    # shellcheck disable=SC2086
    timeout "$CG_TMO" env ${4:+LD_PRELOAD=$4} ${5:+HAKMEM_SMALLMID_ENABLE=$5} $6 BENCH_NOALLOC="$7" \
        valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
        "$BB/bench_random_mixed" $2 >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    CG_IR=$(awk '/^(totals|summary):/ { print $2; exit }' "$TMP/cg.out" 2>/dev/null)
    CG_OPS_DONE=$(sed -n 's/^RESULT .* ops=\([0-9]*\) .*/\1/p' "$TMP/out")
    if [ "$rc" != 0 ] || [ -z "$CG_IR" ] || [ -z "$CG_OPS_DONE" ]; then
        [ "$rc" = 124 ] && why="timeout after ${CG_TMO}s" || why="exit $rc"
        log "[$N/$TOTAL] callgrind $1 $3: FAILED ($why): $(grep -v '^==' "$TMP/err" | tail -n 2 | tr '\n' ' ')"
        return 1
    fi
}

printf '%s\n' "$WORKLOADS" > "$TMP/workloads"
printf '%s\n' "$CONTENDERS" > "$TMP/contenders"
while IFS='|' read -r wid grp size prog args metric perfw; do
    [ -n "$wid" ] || continue
    NREP=$REPS; [ "$grp" = realprog ] && NREP=$REAL_REPS
    rep=1
    while [ "$rep" -le "$NREP" ]; do
        while IFS='|' read -r cname kind preload enable xenv; do
            skip_run "$wid" "$kind" && continue
            run_one "$wid" "$grp" "$size" "$prog" "$args" "$metric" "$cname" "$kind" "$preload" "$enable" "$rep" "$xenv"
        done < "$TMP/contenders"
        rep=$((rep + 1))
    done
    if [ "$PERF_OK" = 1 ] && [ "$perfw" = 1 ] && echo " $PERF_SIZES " | grep -q " $size "; then
        while IFS='|' read -r cname kind preload enable xenv; do
            case $kind in base|phase|off) ;; *) continue ;; esac
            perf_one "$wid" "$grp" "$size" "$prog" "$args" "$metric" "$cname" "$kind" "$preload" "$enable" "$xenv"
        done < "$TMP/contenders"
    fi
done < "$TMP/workloads"

CG_ELAPSED=0
if [ "$CG_RUN" = 1 ]; then
    T_CG=$(date +%s)
    CG_TMO=$((TMO * 4))
    # IR.tsv: size args contender status ir_total ops (report.awk does the arithmetic)
    # the loop alone first (a contender row with noalloc=1), then every contender
    { echo "(loop)|loop||||1"; cat "$TMP/contenders"; } > "$TMP/cgconts"
    for s in $CG_SIZES; do
        case $s in
            startup)  args="1 256 1024 1" ;;
            smallmid) args="$CG_OPS 256 1024 1" ;;
            *)        args="$CG_OPS 16 1024 1" ;;
        esac
        while IFS='|' read -r cname kind preload enable xenv noalloc; do
            if cg_one "$s" "$args" "$cname" "$preload" "$enable" "$xenv" "${noalloc:-0}"; then
                printf '%s\t%s\t%s\tok\t%s\t%s\n' "$s" "$args" "$cname" "$CG_IR" "$CG_OPS_DONE" >> "$IRTSV"
                if [ "$s" = startup ]; then
                    log "[$N/$TOTAL] callgrind start-up and exit, $cname: $CG_IR Ir"
                else
                    log "[$N/$TOTAL] callgrind $s $cname: $CG_IR Ir, $CG_OPS_DONE ops"
                fi
            else
                printf '%s\t%s\t%s\tFAIL\t\t\n' "$s" "$args" "$cname" >> "$IRTSV"
            fi
        done < "$TMP/cgconts"
    done
    CG_ELAPSED=$(( $(date +%s) - T_CG ))
fi
T_END=$(date +%s)
ELAPSED=$((T_END - T_START))
log "runs finished in ${ELAPSED}s"

# ---- report ----------------------------------------------------------------
CPU=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
[ -n "$CPU" ] || CPU=$(uname -m)
GCCV=$(gcc --version 2>/dev/null | head -n 1)
LIBCV=$(ldd --version 2>/dev/null | head -n 1)
# shellcheck disable=SC2086
COMMIT=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- common $PHASES 2>/dev/null || echo "+dirty")
CONTORDER=$(cut -d'|' -f1 "$TMP/contenders" | tr '\n' ' ' | sed 's/ $//')
PNG=$BASE.png
MD=$BASE.md
CHART_NOTE=""

if [ "$NWORK" = 0 ]; then
    PNG=""
elif command -v gnuplot >/dev/null 2>&1 || { [ "$IS_ROOT" = 1 ] && apt_install gnuplot-nox; }; then
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
            sol)   echo "  - **$cname**: $preload - speed of light: no checks, bench only (bench/sol_malloc.c: thread-local LIFO lists per power-of-two class, class from the address, nothing returned; not a peer)" ;;
        esac
    done < "$TMP/contenders"
    [ -n "$BENCH_CONTENDERS" ] && echo "  (BENCH_CONTENDERS=\"$BENCH_CONTENDERS\")"
    echo "- workloads (programs in build/bench/, run under LD_PRELOAD; ops = malloc+free calls)$( [ -n "$BENCH_GROUPS" ] && echo " - BENCH_GROUPS=\"$BENCH_GROUPS\""):"
    ran() { grep -q "^[^|]*|$1|" "$TMP/workloads"; }
    ran short && echo "  - **short**: \`bench_random_mixed $SHORT_OPS SIZE SIZE 1\` - the seed's regime; ops/s over the *whole process* (fork, exec, allocator start-up, first touch, exit; measured by bench_launch)"
    ran long && echo "  - **long**: \`bench_random_mixed $LONG_OPS SIZE SIZE 1\` - steady state; ops/s over the timed loop"
    ran mt2 && echo "  - **mt2**: \`bench_random_mixed $MT_OPS SIZE SIZE 2\` - the same churn on 2 threads"
    ran mid && echo "  - **mid**: \`bench_random_mixed $MID_OPS 1025 65536 THREADS\` - the churn with Mid sizes (1025..65536 B) on 1 and 2 threads (x2)"
    ran prodcons && echo "  - **prodcons**: \`bench_prodcons $PC_OPS MIN MAX 1\`, 16-1024 B and 1025-65536 B - 1 producer allocates, 1 consumer frees (all frees remote)"
    ran larson && echo "  - **larson**: \`bench_larson $LA_OPS 16 1024 2\` - 2 threads replace random blocks and swap block sets every 10000 replacements"
    ran phase && echo "  - **phase**: \`bench_phase_change FROM TO $PHC_MIB 300\` - fill $PHC_MIB MiB with FROM-byte blocks, free all, fill $PHC_MIB MiB with TO-byte blocks, free all, then 300 ms of a few small blocks; peak RSS and RSS at the end"
    ran large && echo "  - **large**: \`bench_large_replace $LR_OPS 20 5 25\` - 20 live buffers of 5..25 MiB, $LR_OPS times one replaced (free, malloc, one byte written per 4 KiB page); peak RSS and RSS after everything was freed"
    ran xthread && echo "  - **xthread**: \`bench_xthread $XT_OPS 16 1024 2 1024 42 4096\` - 2 threads in a ring allocate 16..1024 B; half of the blocks are freed by the next thread (lock-free inbox, at most 4096 blocks waiting), half locally"
    if ran realprog; then
        echo "  - **realprog**: real programs, wall time of the whole process tree (bench_launch; lower is better), $REAL_REPS reps, inputs generated once per run; each run's output is compared with a run without LD_PRELOAD:"
        while IFS='|' read -r wid grp size prog args metric perfw; do
            [ "$grp" = realprog ] || continue
            real_cmd "$args"
            case $args in
                python) what="$PY_N dicts built, json.dumps, json.loads, a dict of them, compared" ;;
                gcc)    what="$GCC_FILES generated C files of 3 functions each" ;;
                sort)   what="$SORT_MB MB of generated lines" ;;
                git)    what="a generated repository: $GIT_FILES files, $GIT_COMMITS commits of $GIT_PER changed files, packed" ;;
            esac
            echo "    - $size: \`$(echo "$R_ENV $R_CMD" | sed "s|$RD/||g; s|$RD|TMPDIR|g; s|^ ||")\` - $what"
        done < "$TMP/workloads"
    fi
    echo "  - SIZE mixed = uniform random 16..1024 B; working set 8192 slots/thread, seed 42"
    echo "- perf: $( [ "$PERF_OK" = 1 ] && echo "one extra run per hakmem contender on short/long sizes $PERF_SIZES: \`perf record -e cpu-clock -g\` (share of the benchmark's samples whose callchain contains exc_page_fault) and \`perf stat -e page-faults\`" || echo "unavailable - $PERF_WHY")"
    if [ "$CG_RUN" = 1 ]; then
        echo "- callgrind: \`valgrind --tool=callgrind bench_random_mixed $CG_OPS MIN 1024 1\` once per contender (MIN 256 and 16) and with 1 op (start-up and exit), each also for the loop alone (BENCH_NOALLOC=1); ${CG_ELAPSED}s"
    else
        echo "- callgrind Ir/op: not measured - $CG_WHY"
    fi
    echo "- wall time of the runs: ${ELAPSED}s"
    [ -n "$NOTES" ] && { echo "- notes:"; printf '%s\n' "$NOTES" | sed '/^$/d; s/^/  /'; }
    echo
    awk -f bench/report.awk -v mode=md -v contenders="$CONTORDER" -v peers="$PEER_NAMES" \
        -v phases="$RPHASES" -v offs="$ROFFS" -v perfok="$PERF_OK" \
        -v cgrun="$CG_WANTED" -v cgwhy="$CG_WHY" "$RAW" "$PERFTSV" "$IRTSV"
    if [ -n "$PNG" ]; then echo; echo "![ops/s per size per contender]($(basename "$PNG"))"; fi
    echo
    echo "Raw per-run data: $(basename "$RAW"), $(basename "$PERFTSV")$( [ "$CG_RUN" = 1 ] && echo ", $(basename "$IRTSV")")."
} > "$MD"

[ "$CG_RUN" = 1 ] || rm -f "$IRTSV"
cat "$MD"
log "report: $MD${PNG:+, chart: $PNG}"
