#!/usr/bin/env bash
# The main job (README: `make demo`): train a model, evaluate it, and recommend for one user
# through the C API. Uses MovieLens-1M when present (LSREC_DATA, default ../shared/data/ml-1m),
# else the built-in synthetic generator. A short run (3 epochs); the full run is in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

LSREC=build/bin/lsrec
OUT=${LSREC_OUT:-out}
DATA=${LSREC_DATA:-../shared/data/ml-1m}
EPOCHS=${LSREC_EPOCHS:-3}
mkdir -p "$OUT"

if [ -e "$DATA" ]; then
    echo "== data: $DATA"
    DATA_ARGS=(--data "$DATA")
    BASELINE_ARGS=("$DATA")
else
    echo "== no MovieLens at $DATA: generating synthetic data (set LSREC_DATA to a MovieLens-1M folder or a user,item,timestamp CSV)"
    "$LSREC" synth --out "$OUT/synth.csv" --item-text "$OUT/synth-items.tsv"
    DATA_ARGS=(--data "$OUT/synth.csv" --item-text "$OUT/synth-items.tsv")
    BASELINE_ARGS=("$OUT/synth.csv" --item-text "$OUT/synth-items.tsv")
    DATA="$OUT/synth.csv"
fi

echo "== train ($EPOCHS epochs; the test split is never trained on)"
"$LSREC" train --data "$DATA" --out "$OUT/model.lsrec" --epochs "$EPOCHS" --val-users 1000 --log "$OUT/train.csv" --no-test

echo
echo "== baselines in the same harness (leave-one-out test split, full ranking)"
"$LSREC" data "${BASELINE_ARGS[@]}" --baselines 2>/dev/null | grep -E '^(###|\| (HR|NDCG)@10|\|---|\| metric)' 

echo
echo "== evaluate $OUT/model.lsrec through the inference core"
"$LSREC" eval --model "$OUT/model.lsrec" "${DATA_ARGS[@]}" 2>/dev/null

echo
echo "== recommend for one user through the C API (examples/c/recommend, linked to liblsrec.so)"
"$LSREC" recommend --model "$OUT/model.lsrec" "${DATA_ARGS[@]}" --history-out "$OUT/user.txt" --titles-out "$OUT/titles.tsv" >/dev/null
build/bin/recommend "$OUT/model.lsrec" -f "$OUT/user.txt" -t "$OUT/titles.tsv" | sed -n '1,/^state blob/p'
