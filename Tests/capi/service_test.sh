#!/usr/bin/env bash
# service_test.sh SERVICE MODEL — runs examples/c/service.c twice in a temporary folder: the
# first run starts empty and saves its users' states, the second restores exactly those and
# continues. Prints "service_test: N passed, M failed".
set -euo pipefail
service=$(realpath "$1")
model=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

passed=0 failed=0
expect() { # expect OUTPUT LINE
    if grep -qxF -- "$2" <<<"$1"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "service_test: expected the line \"$2\" in:" >&2
        echo "$1" >&2
    fi
}

first=$("$service" "$model" states.bin 2000)
echo "$first"
expect "$first" "service: restored 0 users (0 events) from states.bin"
expect "$first" "service: saved 64 users (2000 events) to states.bin"
grep -q "served 2000 requests on 4 threads (0 failed;" <<<"$first" && passed=$((passed + 1)) || failed=$((failed + 1))

second=$("$service" "$model" states.bin 1000)
echo "$second"
expect "$second" "service: restored 64 users (2000 events) from states.bin"
expect "$second" "service: saved 64 users (3000 events) to states.bin"
[ ! -e states.bin.tmp ] && passed=$((passed + 1)) || failed=$((failed + 1))

# A damaged state file is refused, not half-used.
printf 'garbage' >bad.bin
if "$service" "$model" bad.bin 10 2>/dev/null; then failed=$((failed + 1)); else passed=$((passed + 1)); fi

echo "service_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
