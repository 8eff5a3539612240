#!/bin/sh
# check_loadcost.sh BUILD PHASE... - what loading each phase's libhakmem.so costs
# every process that preloads it, before its first malloc: the relocation records
# the loader reads and the data it writes (.rela.*, .data*, .got*, .dynamic,
# .init_array/.fini_array, .tdata).  Must stay under LOADCOST_MAX bytes (32 KiB).
# Zero-initialised data (.bss) is not counted: its pages cost nothing until written.
# (A 4096-entry pointer table set by a static initializer once made it 133 KiB.)
# And the .bss layout: the two sparse arrays (the registry root, the slab map's zero
# leaf) come after every other variable, which then share a few pages instead of
# sitting on both sides of them (Makefile: SPARSE_SRCS; 2 pages per process).
set -u
BUILD=$1; shift
MAX=${LOADCOST_MAX:-32768}
rc=0
for phase in "$@"; do
    so="$BUILD/$phase/libhakmem.so"
    # "[Nr] Name Type Address Off Size ...": drop the "[Nr]", keep name and size
    sizes=$(readelf -SW "$so" | sed -n 's/^ *\[ *[0-9]*\] *//p' |
        awk '$1 ~ /^\.(rela\.|relr\.|data|got|dynamic$|init_array$|fini_array$|tdata$)/ { print $1, $5 }')
    total=0; parts=""
    while read -r name hex; do
        n=$(printf '%d' "0x$hex")
        total=$((total + n)); parts="$parts $name $n"
    done <<EOF2
$sizes
EOF2
    out="$total bytes (${parts# })"
    [ "$total" -gt 0 ] && [ "$total" -le "$MAX" ]
    if [ $? = 0 ]; then
        echo "load cost: $phase: $out <= $MAX"
    else
        echo "load cost: $phase: $out > $MAX - every process that preloads the library pays this"
        rc=1
    fi
    # .bss symbols by address: nothing after the first sparse array but the other
    after=$(nm -n "$so" | awk '$2 ~ /^[bB]$/ { if (s) print $3; if ($3 == "g_hak_reg_root" ||
        $3 == "g_hak_slabmap_zero_leaf") s = 1 }' | grep -v '^g_hak_reg_root$\|^g_hak_slabmap_zero_leaf$')
    if [ -n "$after" ]; then
        echo "bss layout: $phase: after the sparse arrays: $(echo $after) - link hak_registry.o and hak_slabmap.o last, keep their other variables out of .bss"
        rc=1
    elif ! nm "$so" | grep -q ' [bB] g_hak_reg_root$'; then
        echo "bss layout: $phase: no g_hak_reg_root in the symbol table (stripped?)"
        rc=1
    else
        echo "bss layout: $phase: the sparse arrays are last"
    fi
done
exit $rc
