#!/bin/sh
# check_symbols.sh BUILD PHASE... - the namespace of each phase's libraries.
#   libhakmem.a : every global symbol is a glibc malloc-family name or carries the
#                 hakmem prefix (hak_, g_hak_, t_hak_), so a static link can never
#                 clash with a program's own names;
#   libhakmem.so: exports exactly the glibc names and the public API of hakmem.h.
set -u
BUILD=$1; shift
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GLIBC="aligned_alloc calloc free malloc malloc_usable_size memalign posix_memalign pvalloc realloc reallocarray valloc"
PUBLIC=$(grep -oE '\bhak_[a-z_]+\(' "$ROOT/common/hakmem.h" | tr -d '(' | sort -u)
want_so=$(printf '%s\n' $GLIBC $PUBLIC | sort -u)
[ -n "$PUBLIC" ] || { echo "symbols: no hak_ function found in common/hakmem.h"; exit 1; }
rc=0
for phase in "$@"; do
    a=$BUILD/$phase/libhakmem.a so=$BUILD/$phase/libhakmem.so
    bad=$(nm -g --defined-only "$a" | awk 'NF == 3 { print $3 }' | sort -u |
          grep -vxF "$(printf '%s\n' $GLIBC)" | grep -vE '^(hak_|g_hak_|t_hak_)')
    if [ -n "$bad" ]; then
        echo "symbols: $a exports names without the hakmem prefix:"; printf '  %s\n' $bad; rc=1
    fi
    have_so=$(nm -D --defined-only "$so" | awk '{ print $NF }' | sort -u)
    if [ "$have_so" != "$want_so" ]; then
        echo "symbols: $so exports differ from glibc names + hakmem.h (< missing, > extra):"
        printf '%s\n' "$want_so" > "$BUILD/$phase/so_want.txt"
        printf '%s\n' "$have_so" > "$BUILD/$phase/so_have.txt"
        diff "$BUILD/$phase/so_want.txt" "$BUILD/$phase/so_have.txt" | grep '^[<>]'; rc=1
    fi
    [ $rc = 0 ] && echo "symbols: $phase ok ($(nm -g --defined-only "$a" | awk 'NF==3' | wc -l) archive symbols prefixed, $(echo "$have_so" | wc -l) exported by the .so)"
done
exit $rc
