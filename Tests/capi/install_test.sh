#!/usr/bin/env bash
# install_test.sh — `make install` into a temporary PREFIX, then build against that installed
# copy with pkg-config only: the C examples, the README's "Use from C" snippet, and the Go
# bindings with -tags lsrec_pkgconfig; Python finds the installed library via LSREC_LIBRARY.
# Run by `make test-c` (through `make test-install`). Prints "install_test: N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
MAKE=${MAKE:-make}
CC=${CC:-cc}
GO=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "install_test: ok: $*"; }
bad() { failed=$((failed + 1)); echo "install_test: FAILED: $*" >&2; }

$MAKE --no-print-directory install PREFIX="$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

version=$(sed -n 's/.*LSREC_VERSION_STRING "\(.*\)".*/\1/p' include/lsrec.h)
[ "$(pkg-config --modversion lsrec)" = "$version" ] && ok "pkg-config --modversion lsrec = $version" || bad "modversion"
flags=$(pkg-config --cflags --libs lsrec)
echo "install_test: pkg-config --cflags --libs lsrec: $flags"

# Uses the installed copy: the binary must resolve liblsrec.so inside PREFIX.
# (grep reads all of ldd's output: with -q it could exit first, and pipefail would see SIGPIPE.)
uses_prefix() { ldd "$1" | grep "liblsrec.so => $prefix/lib/liblsrec.so" >/dev/null; }

# recommend.c needs libm itself (sqrt); service.c needs pthreads (in libc on glibc >= 2.34).
if $CC -std=c11 -Wall -Wextra -Werror -o "$tmp/recommend" examples/c/recommend.c $flags -lm &&
    uses_prefix "$tmp/recommend" && "$tmp/recommend" Tests/Fixtures/tiny-random.lsrec | tail -1 | grep '^recommend: ok' >/dev/null; then
    ok "examples/c/recommend.c built with pkg-config, runs on the installed library"
else
    bad "examples/c/recommend.c against the installed copy"
fi
if $CC -std=c11 -Wall -Wextra -Werror -o "$tmp/service" examples/c/service.c $flags -lpthread &&
    uses_prefix "$tmp/service" && (cd "$tmp" && ./service "$repo/Tests/Fixtures/tiny-random.lsrec" s.bin 100 >/dev/null); then
    ok "examples/c/service.c built with pkg-config, runs"
else
    bad "examples/c/service.c against the installed copy"
fi

# README.md "## Use from C": the first ```c block, compiled verbatim.
awk '/^## Use from C/{s=1} s&&/^```c/{b=1;next} b&&/^```/{exit} b' README.md >"$tmp/app.c"
if [ -s "$tmp/app.c" ] && $CC -o "$tmp/app" "$tmp/app.c" $flags && uses_prefix "$tmp/app" &&
    out=$("$tmp/app") && [ "$(wc -l <<<"$out")" -eq 10 ]; then
    ok "README C snippet compiles with pkg-config and prints 10 recommendations"
else
    bad "README C snippet (extracted to app.c):"
    cat "$tmp/app.c" >&2
fi

# The Go bindings through pkg-config (cgo_pkgconfig.go). A build cache of its own: Go's cache
# keeps the link flags of an earlier run, whose temporary prefix no longer exists.
if command -v "$GO" >/dev/null; then
    if (cd bindings/go && export GOCACHE="$tmp/go-cache" GOPROXY=off && "$GO" vet -tags lsrec_pkgconfig ./... && "$GO" test -tags lsrec_pkgconfig -count=1 ./...); then
        ok "Go bindings with -tags lsrec_pkgconfig"
    else
        bad "Go bindings with -tags lsrec_pkgconfig"
    fi
fi

# Python, told where the installed library is.
if LSREC_LIBRARY=$prefix/lib/liblsrec.so PYTHONPATH=bindings/python python3 -c "
import lsrec, sys
assert lsrec.library_path() == sys.argv[1], lsrec.library_path()
m = lsrec.Model.load('Tests/Fixtures/tiny-random.lsrec'); s = m.new_state(); s.update(1000, 1)
assert len(m.topk(s, 10)[0]) == 10
" "$prefix/lib/liblsrec.so"; then
    ok "Python with LSREC_LIBRARY=$prefix/lib/liblsrec.so"
else
    bad "Python with LSREC_LIBRARY"
fi

echo "install_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
