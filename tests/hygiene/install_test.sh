#!/bin/sh
# install_test.sh PHASE... - make install into a temporary DESTDIR (PREFIX=/opt/hakmem),
# build a program with `pkg-config --cflags --libs` for hakmem.pc and every
# hakmem-<phase>.pc, run it against the installed library, link the installed
# libhakmem.a statically, then make uninstall and check that nothing is left.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
T=$(mktemp -d "${TMPDIR:-/tmp}/hakmem-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
PREFIX=/opt/hakmem
R=$T/dest$PREFIX
fail() { echo "install: $*"; exit 1; }
phases="$*"
newest=$(echo $phases | awk '{print $NF}')
make --no-print-directory install DESTDIR="$T/dest" PREFIX=$PREFIX PHASE="$phases" >"$T/log" 2>&1 ||
    { cat "$T/log"; fail "make install failed"; }
for f in include/hakmem.h lib/libhakmem.so lib/libhakmem.a lib/pkgconfig/hakmem.pc; do
    [ -e "$R/$f" ] || fail "$PREFIX/$f not installed"
done
[ "$(readlink "$R/lib/libhakmem.so")" = "hakmem/$newest/libhakmem.so" ] ||
    fail "lib/libhakmem.so -> $(readlink "$R/lib/libhakmem.so"), want the newest phase $newest"
export PKG_CONFIG_PATH="$R/lib/pkgconfig"
# pc name | library folder the program must load | phase it must report
{ echo "hakmem $R/lib $newest"; for p in $phases; do echo "hakmem-$p $R/lib/hakmem/$p $p"; done; } |
while read -r pc dir phase; do
    grep -q "^prefix=$PREFIX\$" "$R/lib/pkgconfig/$pc.pc" || fail "$pc.pc does not say prefix=$PREFIX"
    flags=$(pkg-config --define-prefix --cflags --libs "$pc") || fail "pkg-config $pc failed"
    case "$flags" in *"$R/include"*) ;; *) fail "pkg-config $pc: no -I into the tree: $flags" ;; esac
    # shellcheck disable=SC2086
    cc -O2 -o "$T/prog" tests/hygiene/user_names.c $flags || fail "cc with \`pkg-config $pc\` failed"
    out=$(LD_LIBRARY_PATH="$dir" "$T/prog") || fail "$pc program: exit $? ($out)"
    [ "$out" = "$phase ok" ] || fail "$pc program printed '$out', want '$phase ok'"
    LD_LIBRARY_PATH="$dir" ldd "$T/prog" | grep -q "$dir/libhakmem.so" || fail "$pc program did not load $dir/libhakmem.so"
    echo "install: pkg-config $pc: built and ran ($out)"
done || exit 1
# The installed archive, statically.
flags=$(pkg-config --define-prefix --cflags --libs --static hakmem)
# shellcheck disable=SC2086
cc -O2 -o "$T/sprog" tests/hygiene/user_names.c -static-libgcc $(echo $flags | sed 's/-lhakmem/-Wl,-Bstatic -lhakmem -Wl,-Bdynamic/') ||
    fail "static link against the installed libhakmem.a failed"
out=$("$T/sprog"); [ "$out" = "$newest ok" ] || fail "static program printed '$out'"
ldd "$T/sprog" | grep -q libhakmem && fail "static program still needs libhakmem.so"
echo "install: libhakmem.a linked statically ($out)"
make --no-print-directory uninstall DESTDIR="$T/dest" PREFIX=$PREFIX >"$T/log" 2>&1 ||
    { cat "$T/log"; fail "make uninstall failed"; }
left=$(find "$T/dest" ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install: make install / uninstall ok ($(echo $phases | wc -w) phases, default $newest)"
