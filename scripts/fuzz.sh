#!/usr/bin/env bash
# libFuzzer over the C API's two parsers of untrusted bytes (docs/RELIABILITY.md, "Fuzzing").
#
#   scripts/fuzz.sh [TARGET...]        TARGET: model, state (default: both), each for FUZZ_SECONDS
#   make fuzz FUZZ_SECONDS=60          the same through make
#   scripts/fuzz.sh --seeds            regenerate the committed seed corpora (fuzz/corpus/*)
#   scripts/fuzz.sh --replay           run every committed seed once (no fuzzing; a quick check)
#
#   model  FuzzModelLoad: lsrec_model_load_memory (raw, checksum-free parse, CRC-repaired)
#   state  FuzzStateDeserialize: lsrec_state_deserialize (raw and CRC-repaired) + use of the state
#
# Seeds: fuzz/corpus/<target>; dictionaries of the formats' magic numbers, names and edge values:
# fuzz/<target>.dict.
#
# The targets are Swift executables of the package in fuzz/ (it depends on this package by path),
# built with -sanitize=fuzzer,address: coverage instrumentation and ASan in every Swift module of
# the library as well as in the harness. Scratch path .build-fuzz. Working corpora grow in
# .build-fuzz/corpus/<target> (the committed seeds in fuzz/corpus/<target> are read, never
# written); crash inputs land in .build-fuzz/crashes/<target>/. One summary line per target is
# printed and appended to .build-fuzz/fuzz-summary.txt. Exit status 1 if any target crashed.
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_JOBS (parallel targets, default 1),
# FUZZ_FLAGS (extra libFuzzer flags), SWIFT (default swift).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
SWIFT=${SWIFT:-swift}
SCRATCH=.build-fuzz
declare -A PRODUCT=([model]=FuzzModelLoad [state]=FuzzStateDeserialize)

build() { # product
    # SwiftPM caches the plan of a path dependency and may miss new source files in it;
    # dropping the plan costs a second.
    rm -f "$SCRATCH/release/description.json"
    # --sanitize=fuzzer makes SwiftPM leave main() to libFuzzer; the -Xswiftc flag comes last on
    # every command line, so both sanitizers stay on (with two --sanitize options the last one
    # alone wins in swiftc, and SwiftPM's order varies).
    nice "$SWIFT" build -c release --package-path fuzz --scratch-path "$SCRATCH" \
        --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --product "$1" >&2
}

if [[ "${1:-}" == "--seeds" ]]; then
    "$SWIFT" build -c release --package-path fuzz --scratch-path .build-fuzz-seeds --product FuzzSeeds >&2
    .build-fuzz-seeds/release/FuzzSeeds "$PWD"
    exit 0
fi

# The Swift runtime's own crash handler gets in the way of ASan's and libFuzzer's reports.
export SWIFT_BACKTRACE=enable=no

if [[ "${1:-}" == "--replay" ]]; then
    for t in model state; do
        build "${PRODUCT[$t]}"
        "$SCRATCH/release/${PRODUCT[$t]}" -runs=0 "fuzz/corpus/$t" 2>&1 | tail -n 2
    done
    exit 0
fi

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(model state)
for t in "${targets[@]}"; do
    [[ -n "${PRODUCT[$t]:-}" ]] || { echo "fuzz.sh: unknown target '$t' (model, state)" >&2; exit 2; }
    build "${PRODUCT[$t]}"
done

run() { # target
    local t=$1 bin="$SCRATCH/release/${PRODUCT[$1]}"
    local work="$SCRATCH/corpus/$t" crashes="$SCRATCH/crashes/$t" log="$SCRATCH/fuzz-$t.log"
    mkdir -p "$work" "$crashes"
    local status=0 dict=()
    [[ -f "fuzz/$t.dict" ]] && dict=(-dict="fuzz/$t.dict")
    # shellcheck disable=SC2086
    nice -n 10 "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "${dict[@]}" ${FUZZ_FLAGS:-} "$work" "fuzz/corpus/$t" >"$log" 2>&1 || status=$?
    local runs rate cov ft corpus
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
    corpus=$(find "$work" -type f | wc -l)
    local verdict="no crash"
    if [[ $status -ne 0 ]]; then
        verdict="CRASH (exit $status): $(ls -t "$crashes" | head -n 1) — see $log"
    fi
    local line
    line="$(date -u +%FT%TZ) $t: ${SECONDS_PER_TARGET}s, ${runs:-?} executions, ${rate:-?} exec/s, cov ${cov:-?} edges, ft ${ft:-?}, corpus ${corpus} inputs; $verdict"
    echo "$line" | tee -a "$SCRATCH/fuzz-summary.txt"
    return "$status"
}

failed=0
if [[ "${FUZZ_JOBS:-1}" -gt 1 ]]; then
    pids=()
    for t in "${targets[@]}"; do run "$t" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
else
    for t in "${targets[@]}"; do run "$t" || failed=1; done
fi
exit $failed
