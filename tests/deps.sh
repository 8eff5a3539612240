#!/bin/sh
# Install what `make test` needs on a fresh Debian machine: Check and pkg-config
# (plus the real programs the LD_PRELOAD suite runs).  apt-get when root, otherwise
# name the packages and fail.
set -e
need=""
pkg-config --exists check 2>/dev/null || need="$need check"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
for prog in python3:python3 git:git gcc:gcc xz:xz-utils sort:coreutils awk:gawk; do
    cmd=${prog%%:*}; pkg=${prog#*:}
    command -v "$cmd" >/dev/null 2>&1 || need="$need $pkg"
done
# clang with libFuzzer (the fuzz replay of make test, make fuzz)
if ! command -v clang >/dev/null 2>&1; then
    need="$need clang libclang-rt-14-dev"
elif ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
        clang -fsanitize=fuzzer -x c - -o /dev/null >/dev/null 2>&1; then
    need="$need libclang-rt-14-dev"
fi
command -v valgrind >/dev/null 2>&1 || need="$need valgrind"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "deps: installing$need"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q $need >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q $need >/dev/null; }
else
    echo "deps: missing packages:$need - install them (apt-get install$need) and re-run" >&2
    exit 1
fi
