#!/bin/sh
# check_layers.sh BUILD PHASE... - every object of each phase uses only symbols
# defined on a lower floor (tests/hygiene/layers.txt).  Prints each violation.
set -u
BUILD=$1; shift
HERE=$(dirname "$0")
rc=0
for phase in "$@"; do
    objs=$(ls "$BUILD/$phase"/obj/common/*.o "$BUILD/$phase"/obj/phase/*.o)
    # symbol -> defining object (basename without .o)
    for o in $objs; do
        b=$(basename "$o" .o)
        nm -g --defined-only "$o" | awk -v b="$b" 'NF == 3 { print $3, b }'
    done > "$BUILD/$phase/defs.txt"
    for o in $objs; do
        b=$(basename "$o" .o)
        nm -u "$o" | awk -v b="$b" '{ print b, $NF }'
    done > "$BUILD/$phase/uses.txt"
    out=$(awk -v phase="$phase" '
        FILENAME == ARGV[1] {
            if ($1 ~ /^#/ || NF == 0) next
            if ($1 == "allow") { allow[$2 " " $3] = 1; next }
            for (i = 2; i <= NF; i++) floor[$i] = $1
            next }
        FILENAME == ARGV[2] { def[$1] = $2; next }
        {
            user = $1; sym = $2
            if (!(user in floor)) { printf "%s: %s.o has no floor in layers.txt\n", phase, user; bad = 1; next }
            if (!(sym in def)) next                       # libc, pthread, ...
            d = def[sym]
            if (d == user || (user " " sym) in allow) next
            if (!(d in floor)) { printf "%s: %s.o has no floor in layers.txt\n", phase, d; bad = 1; next }
            if (floor[d] >= floor[user]) {
                printf "%s: %s.o (floor %d) uses %s from %s.o (floor %d)\n", phase, user, floor[user], sym, d, floor[d]
                bad = 1 }
        }
        END { exit bad }' "$HERE/layers.txt" "$BUILD/$phase/defs.txt" "$BUILD/$phase/uses.txt")
    st=$?
    [ -n "$out" ] && printf '%s\n' "$out" | sort -u
    if [ $st != 0 ]; then rc=1; else echo "layers: $phase ok ($(echo $objs | wc -w) objects, nothing calls up)"; fi
done
exit $rc
