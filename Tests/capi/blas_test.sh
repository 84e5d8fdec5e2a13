#!/usr/bin/env bash
# OpenBLAS's kernel choice (make test-c; lsrec.h "BLAS kernels", Sources/LSRecKernels/blas_core.c):
# `lsrec train` names the kernels it runs, keeps an OPENBLAS_CORETYPE the user set, and when
# OpenBLAS fell back to pre-AVX2 kernels on a CPU with AVX2 + FMA it has re-run itself with the
# kernel set this CPU's flags call for. The CPU's flags are read here from /proc/cpuinfo, apart
# from the library's own detection.
#
#   blas_test.sh LSREC_CLI
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 LSREC_CLI" >&2; exit 2; }
lsrec=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 passed=0
check() { if eval "$2"; then passed=$((passed + 1)); else echo "FAIL: $1" >&2; fail=1; fi; }

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
level=0
if has avx2 && has fma; then
    level=1
    if has avx512f && has avx512bw && has avx512vl && has avx512dq && has avx512cd; then level=2; fi
fi
expected=$( [ $level -eq 2 ] && echo SkylakeX || { [ $level -eq 1 ] && echo Haswell || echo none; } )
pre_avx2=" Prescott Core2 Penryn Dunnington Nehalem Atom Banias Katmai Coppermine Northwood Athlon Opteron Opteron_SSE3 Barcelona Bobcat Bulldozer Sandybridge "

"$lsrec" synth --out "$tmp/log.csv" --users 60 --items 40 --clusters 4 --events-per-user 12 --seed 3 >/dev/null
blas_line() {
    env "$@" "$lsrec" train --data "$tmp/log.csv" --out "$tmp/m.lsrec" --epochs 1 --dim 8 --history 8 \
        --threads 1 --no-test 2>&1 | sed -n 's/^BLAS: OpenBLAS kernels //p'
}

# A value the user set is kept (and reported as it is).
pinned=$(blas_line OPENBLAS_CORETYPE=Prescott)
if [ "$pinned" != "Prescott" ]; then
    # OpenBLAS built without DYNAMIC_ARCH ignores the variable: nothing to choose, nothing to test.
    echo "blas_test: OpenBLAS ignores OPENBLAS_CORETYPE here (runs '$pinned'): skipped"
    exit 0
fi
if [ $level -ge 1 ]; then
    check "OPENBLAS_CORETYPE=Haswell kept" '[ "$(blas_line OPENBLAS_CORETYPE=Haswell)" = Haswell ]'
fi

# Left to itself: either OpenBLAS chose well, or lsrec re-ran with the CPU's kernel set.
own=$(blas_line -u OPENBLAS_CORETYPE -u LSREC_BLAS_DETECTED_CORE)
echo "blas_test: CPU level $level (expected kernel set $expected); lsrec train runs: $own"
if [[ "$own" == *"(OPENBLAS_CORETYPE set by lsrec: OpenBLAS chose "* ]]; then
    core=${own%% *}
    chose=${own##*chose }; chose=${chose%)}
    check "re-run only from a pre-AVX2 core ($chose)" '[[ "$pre_avx2" == *" $chose "* ]]'
    check "re-run with the CPU's kernel set ($core vs $expected)" '[ "$core" = "$expected" ]'
else
    check "a pre-AVX2 core ($own) left on a CPU with AVX2 + FMA" \
        '[ $level -eq 0 ] || [[ "$pre_avx2" != *" $own "* ]]'
fi
echo "blas_test: $passed passed, $fail failed"
exit $fail
