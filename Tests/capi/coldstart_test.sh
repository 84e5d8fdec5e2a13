#!/usr/bin/env bash
# The cold-start flow end to end (make test-c): synthetic data with item text, two small models
# trained here with the MiniLM text encoder (fusion gate, the default, and fusion long, whose
# explanations must sum to the whole score), then Tests/capi/coldstart_test.c on each and the
# examples/c/coldstart program on the default one, and examples/python/coldstart.py, which must
# print the same lines. Small: 300 users, 120 items, d = 16.
#
#   coldstart_test.sh LSREC_CLI ENCODER COLDSTART_TEST COLDSTART_EXAMPLE [PYTHON]
set -euo pipefail
[ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: $0 LSREC_CLI ENCODER COLDSTART_TEST COLDSTART_EXAMPLE [PYTHON]" >&2; exit 2; }
lsrec=$1 encoder=$2 test=$3 example=$4 python=${5:-python3}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$lsrec" synth --out "$tmp/log.csv" --item-text "$tmp/items.tsv" --users 300 --items 120 --clusters 6 \
    --events-per-user 30 --seed 5 >/dev/null
for fusion in gate long; do
    "$lsrec" train --data "$tmp/log.csv" --item-text "$tmp/items.tsv" --text-encoder "$encoder" \
        --text-cache "$tmp/text.cache" --out "$tmp/$fusion.lsrec" --fusion "$fusion" \
        --epochs 6 --dim 16 --history 20 --threads 2 --no-test --quiet
    "$test" "$tmp/$fusion.lsrec" "$encoder" "$tmp/items.tsv"
done

# The example: a new item with cluster 0's text, for a user of cluster 0 and one of cluster 1.
members() { awk -F'\t' -v c="$1" '$2 ~ (" cluster " c " ") { printf "%s%s", n++ ? "," : "", $1 } n == 8 { exit }' \
    "$tmp/items.tsv"; }
text0=$(awk -F'\t' '$2 ~ / cluster 0 / { sub(/^item [0-9]+/, "item 5000", $2); print $2; exit }' "$tmp/items.tsv")
args=("$tmp/gate.lsrec" "$encoder" 5000 "$text0" "$(members 0)" "$(members 1)" -t "$tmp/items.tsv")
out=$("$example" "${args[@]}")
echo "$out" | grep -q '^summary: item 5000 ' || { echo "$out"; echo "coldstart example: no summary line" >&2; exit 1; }
echo "$out" | grep '^summary:'
# The Python example prints the same lines (PYTHONPATH: the checkout's bindings, which find
# build/static/liblsrec.so).
pyout=$(PYTHONPATH="$root/bindings/python" "$python" "$root/examples/python/coldstart.py" "${args[@]}")
if [ "$out" != "$pyout" ]; then
    diff <(echo "$out") <(echo "$pyout") >&2 || true
    echo "examples/python/coldstart.py differs from examples/c/coldstart" >&2
    exit 1
fi
echo "examples/python/coldstart.py: same output as the C example"
echo "coldstart_test.sh: ok"
