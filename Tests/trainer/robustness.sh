#!/usr/bin/env bash
# Trainer robustness (docs/RELIABILITY.md, "Trainer"): `lsrec train` on malformed input, killed
# with SIGKILL mid-epoch and resumed, and writing to a full, read-only or unwritable place.
#
#   Tests/trainer/robustness.sh [LSREC]     LSREC: the lsrec binary (default build/bin/lsrec)
#   make test-trainer-robustness             builds build/bin/lsrec first
#
# Everything runs on small synthetic data (`lsrec synth`) in a temporary directory; about a
# minute on 2 cores. Full-disk and read-only cases use a small tmpfs when this process may mount
# one (root with CAP_SYS_ADMIN), else RLIMIT_FSIZE (`ulimit -f`); the permission case runs the
# trainer as user nobody (root ignores permissions) when setpriv is available. Cases that cannot
# run here are reported as "skip". Prints one line per check and a summary; exit 1 on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."

LSREC=${1:-${LSREC:-build/bin/lsrec}}
[[ -x "$LSREC" ]] || { echo "robustness.sh: $LSREC is not built (make cli)" >&2; exit 2; }
LSREC=$(cd "$(dirname "$LSREC")" && pwd)/$(basename "$LSREC")

WORK=$(mktemp -d /tmp/lsrec-robust.XXXXXX)
chmod 755 "$WORK"
MOUNTS=()
cleanup() {
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0 skipped=0
ok()   { passed=$((passed + 1)); echo "  ok    $*"; }
bad()  { failed=$((failed + 1)); echo "  FAIL  $*"; }
skip() { skipped=$((skipped + 1)); echo "  skip  $*"; }
section() { echo "$*"; }

# Small, fast training options (an epoch takes well under a second on x.csv).
FAST=(--epochs 1 --dim 8 --history 10 --seed 1 --threads 1 --no-test --quiet)

"$LSREC" synth --out "$WORK/x.csv" --users 300 --items 200 >/dev/null
"$LSREC" train --data "$WORK/x.csv" --out "$WORK/prev.lsrec" "${FAST[@]}" --checkpoint "$WORK/prev.ckpt"
[[ -s "$WORK/prev.lsrec" ]] || { echo "robustness.sh: cannot train on the synthetic data" >&2; exit 1; }

# expect_refusal NAME PATTERN DATA [extra train options...]: the run fails (exit 1, no signal),
# stderr matches PATTERN, and a previous output file is left byte for byte, with no temporary
# files beside it.
expect_refusal() {
    local name=$1 pattern=$2 data=$3
    shift 3
    local out="$WORK/out/model.lsrec"
    rm -rf "$WORK/out" && mkdir -p "$WORK/out" && cp "$WORK/prev.lsrec" "$out"
    "$LSREC" train --data "$data" --out "$out" "${FAST[@]}" "$@" >"$WORK/stdout" 2>"$WORK/stderr"
    local rc=$?
    local msg
    msg=$(tr -d '\000' <"$WORK/stderr" | grep -av '^ *$' | head -n 2 | tr '\n' ' ' | cut -c1-150)
    if [[ $rc -ne 1 ]]; then bad "$name: exit $rc, expected 1 — $msg"; return; fi
    # -z: the pattern may span lines
    if ! grep -qzE -- "$pattern" "$WORK/stderr"; then bad "$name: message does not match /$pattern/: $msg"; return; fi
    if ! cmp -s "$out" "$WORK/prev.lsrec"; then bad "$name: the previous output file changed"; return; fi
    if compgen -G "$WORK/out/*.tmp.*" >/dev/null; then bad "$name: temporary files left: $(ls "$WORK/out")"; return; fi
    ok "$name — $msg"
}

# ---- 1. Malformed input ---------------------------------------------------------------------
section "malformed input: exit 1 with file:line, previous output intact"
head -n 400 "$WORK/x.csv" >"$WORK/base.csv"
edit() { sed "$1" "$WORK/base.csv" >"$WORK/$2"; }
edit '50s/.*/5,abc,1606240128/' item.csv
expect_refusal "non-numeric item id" 'item\.csv:50: item id is not an integer' "$WORK/item.csv"
edit '51s/.*/x7,12,1606240128/' user.csv
expect_refusal "non-numeric user id" 'user\.csv:51: user id is not an integer' "$WORK/user.csv"
edit '60s/.*/5,12/' fields2.csv
expect_refusal "missing field" 'fields2\.csv:60: expected 3 fields, found 2' "$WORK/fields2.csv"
edit '61s/.*/5,12,1606240128,4.5,9/' fields5.csv
expect_refusal "extra fields" 'fields5\.csv:61: expected 3 fields, found 5' "$WORK/fields5.csv"
edit '70s/.*/5,12,-7/' negts.csv
expect_refusal "negative timestamp (not -1)" 'negts\.csv:70: negative timestamp' "$WORK/negts.csv"
edit '71s/.*/5,12,16062401280000000000000/' bigts.csv
expect_refusal "timestamp beyond int64" 'bigts\.csv:71:' "$WORK/bigts.csv"
edit '73s/.*/99999999999999999999999,1,1606240128/' bigid.csv
expect_refusal "user id beyond int64" 'bigid\.csv:73: user id is not an integer' "$WORK/bigid.csv"
edit '74s/.*/5,,1606240128/' emptyfield.csv
expect_refusal "empty field" 'emptyfield\.csv:74:' "$WORK/emptyfield.csv"
edit '75s/.*/5;12;1606240128/' semicolons.csv
expect_refusal "wrong delimiter on one line" 'semicolons\.csv:75:' "$WORK/semicolons.csv"
sed '100,399s/.*/garbage/' "$WORK/base.csv" >"$WORK/many.csv"
expect_refusal "300 malformed lines (the first 10 listed, all counted)" '300 malformed lines in .*many\.csv:100: .*many\.csv:109: .*and 290 more' "$WORK/many.csv"
{ head -n 200 "$WORK/base.csv"; printf '5,12,1606240'; printf '\0'; printf '128\n'; } >"$WORK/nul.csv"
expect_refusal "NUL byte in a line" 'nul\.csv:201:' "$WORK/nul.csv"
{ head -c 2000 /dev/urandom; echo; } >"$WORK/random.csv"
expect_refusal "random bytes" 'random\.csv' "$WORK/random.csv"
printf 'user,item,timestamp\n' >"$WORK/header.csv"
expect_refusal "header only" 'no events in .*header\.csv' "$WORK/header.csv"
: >"$WORK/empty.csv"
expect_refusal "empty file" 'no events in .*empty\.csv' "$WORK/empty.csv"
expect_refusal "missing file" 'cannot open .*missing\.csv' "$WORK/missing.csv"
gzip -c "$WORK/x.csv" | head -c 40000 >"$WORK/cut.csv.gz"
expect_refusal "truncated gzip" 'cut\.csv\.gz: unexpected end of file' "$WORK/cut.csv.gz"
{ gzip -c "$WORK/base.csv" | head -c 300; head -c 300 /dev/urandom; } >"$WORK/corrupt.csv.gz"
expect_refusal "corrupt gzip" 'corrupt\.csv\.gz' "$WORK/corrupt.csv.gz"
mkdir -p "$WORK/notml"
expect_refusal "directory that is not ML-1M" 'cannot open' "$WORK/notml"
# Accepted on purpose: blank lines are skipped and CRLF line ends are read as LF.
sed '80s/.*//' "$WORK/base.csv" >"$WORK/blank.csv"
if "$LSREC" train --data "$WORK/blank.csv" --out "$WORK/blank.lsrec" "${FAST[@]}" 2>"$WORK/stderr"; then
    ok "blank line: skipped, trains"
else bad "blank line refused: $(head -n 2 "$WORK/stderr")"; fi
sed 's/$/\r/' "$WORK/base.csv" >"$WORK/crlf.csv"
if "$LSREC" train --data "$WORK/crlf.csv" --out "$WORK/crlf.lsrec" "${FAST[@]}" 2>"$WORK/stderr"; then
    ok "CRLF line ends: read as LF, trains"
else bad "CRLF refused: $(head -n 2 "$WORK/stderr")"; fi

# ---- 2. kill -9 mid-epoch, then --resume ----------------------------------------------------
section "interrupted training: kill -9 mid-epoch, --resume gives the byte-identical file"
"$LSREC" synth --out "$WORK/y.csv" --users 2000 --items 300 --seed 3 >/dev/null
RUN=(--data "$WORK/y.csv" --epochs 4 --dim 32 --history 50 --seed 5 --threads 2 --patience 10 --no-test)
"$LSREC" train "${RUN[@]}" --out "$WORK/ref.lsrec" >"$WORK/ref.log" 2>&1 || bad "reference run failed: $(tail -n 3 "$WORK/ref.log")"
epoch_seconds=$(sed -n 's/^epoch 1: .*(training \([0-9.]*\) s.*/\1/p' "$WORK/ref.log")
ckpt_epoch() { "$LSREC" inspect "$1" 2>/dev/null | awk '$1 == "ckpt.epoch" { print $3 }'; }

wait_for() { # FILE PATTERN SECONDS
    local deadline=$((SECONDS + $3))
    until grep -q "$2" "$1" 2>/dev/null; do
        [[ $SECONDS -ge $deadline ]] && return 1
        sleep 0.05
    done
}

# One kill in the middle of epoch 2 (half of epoch 1's training time after epoch 1 finished).
out="$WORK/int.lsrec"
"$LSREC" train "${RUN[@]}" --out "$out" >"$WORK/int.log" 2>&1 &
pid=$!
exec 3>&2 2>/dev/null   # bash's own "Killed" notice
if wait_for "$WORK/int.log" '^epoch 1:' 120; then
    sleep "$(awk -v s="${epoch_seconds:-1}" 'BEGIN { print s / 2 }')"
    kill -9 "$pid"
fi
wait "$pid"
rc=$?
exec 2>&3 3>&-
if [[ $rc -eq 137 ]] && ! grep -q '^epoch 2:' "$WORK/int.log" && [[ "$(ckpt_epoch "$out.ckpt")" == 1 ]] && [[ ! -e "$out" ]]; then
    ok "killed (SIGKILL) in epoch 2, after $(grep -c '^epoch' "$WORK/int.log") finished epoch(s); checkpoint holds epoch 1; no output file"
else
    bad "kill mid-epoch 2: exit $rc, checkpoint epoch '$(ckpt_epoch "$out.ckpt")', log: $(tail -n 2 "$WORK/int.log" | tr '\n' ' ')"
fi
"$LSREC" train "${RUN[@]}" --out "$out" --resume >"$WORK/resume.log" 2>&1
rc=$?
if [[ $rc -eq 0 ]] && grep -q 'resumed from .* after epoch 1' "$WORK/resume.log" && cmp -s "$out" "$WORK/ref.lsrec"; then
    ok "--resume after epoch 1: exit 0, weight file byte-identical to the uninterrupted run ($(stat -c %s "$out") bytes)"
else
    bad "--resume: exit $rc, identical: $(cmp -s "$out" "$WORK/ref.lsrec" && echo yes || echo no); $(tail -n 2 "$WORK/resume.log" | tr '\n' ' ')"
fi

# Many kills at pseudo-random moments (also inside validation, checkpoint and final writes),
# each run resuming from whatever checkpoint exists, until one run completes.
RANDOM=7
out="$WORK/many.lsrec"
kills=0 runs=0 done_rc=1
while [[ $runs -lt 80 ]]; do
    runs=$((runs + 1))
    resume=()
    [[ -e "$out.ckpt" ]] && resume=(--resume)
    "$LSREC" train "${RUN[@]}" --out "$out" "${resume[@]}" >"$WORK/many.log" 2>&1 &
    pid=$!
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + (r % 200) / 100 }')"
    exec 3>&2 2>/dev/null   # bash's own "Killed" notice
    if kill -9 "$pid"; then kills=$((kills + 1)); fi
    wait "$pid"
    rc=$?
    exec 2>&3 3>&-
    if [[ $rc -eq 0 ]]; then done_rc=0; break; fi
    if [[ $rc -ne 137 ]]; then bad "a resumed run failed with exit $rc: $(tail -n 2 "$WORK/many.log" | tr '\n' ' ')"; break; fi
done
leftovers=$(compgen -G "$WORK/many.lsrec*.tmp.*" | wc -l)
if [[ $done_rc -eq 0 ]] && cmp -s "$out" "$WORK/ref.lsrec"; then
    ok "$kills kills at random moments over $runs runs, then completion: byte-identical to the uninterrupted run ($leftovers stale .tmp.<pid> files left by kills during a write)"
else
    bad "random kills: completed: $([[ $done_rc -eq 0 ]] && echo yes || echo no), identical: $(cmp -s "$out" "$WORK/ref.lsrec" && echo yes || echo no)"
fi

# A damaged, foreign or missing checkpoint is refused with a clear error; the output is untouched.
cp "$WORK/int.lsrec.ckpt" "$WORK/damaged.ckpt"
printf '\x55' | dd of="$WORK/damaged.ckpt" bs=1 seek=5000 conv=notrunc status=none
expect_refusal "--resume from a damaged checkpoint" 'checksum|crc' "$WORK/y.csv" --checkpoint "$WORK/damaged.ckpt" --resume
expect_refusal "--resume from a checkpoint of other model sizes" 'sizes differ' "$WORK/x.csv" --checkpoint "$WORK/prev.ckpt" --resume --dim 16
expect_refusal "--resume without a checkpoint" 'cannot open .*nothing\.ckpt' "$WORK/x.csv" --checkpoint "$WORK/nothing.ckpt" --resume

# ---- 3. Full disk, read-only and unwritable output ------------------------------------------
section "full disk, read-only file system, unwritable or impossible output path: clear error, previous file intact"
size=$(stat -c %s "$WORK/prev.lsrec")
mnt="$WORK/small"
mkdir -p "$mnt"
if mount -t tmpfs -o size=$((size + size / 2)) tmpfs "$mnt" 2>/dev/null; then
    MOUNTS+=("$mnt")
    # Room for the previous file but not for a second copy beside it.
    cp "$WORK/prev.lsrec" "$mnt/model.lsrec"
    "$LSREC" train --data "$WORK/x.csv" --out "$mnt/model.lsrec" --checkpoint "$WORK/full.ckpt" "${FAST[@]}" 2>"$WORK/stderr"
    rc=$?
    if [[ $rc -eq 1 ]] && grep -q 'No space left on device' "$WORK/stderr" && cmp -s "$mnt/model.lsrec" "$WORK/prev.lsrec" \
        && ! compgen -G "$mnt/*.tmp.*" >/dev/null; then
        ok "full disk (tmpfs of $((size + size / 2)) bytes) at the final write — $(head -n 1 "$WORK/stderr")"
    else bad "full disk at the final write: exit $rc; $(head -n 2 "$WORK/stderr" | tr '\n' ' ')"; fi
    "$LSREC" train --data "$WORK/x.csv" --out "$mnt/model.lsrec" "${FAST[@]}" 2>"$WORK/stderr"
    rc=$?
    if [[ $rc -eq 1 ]] && grep -q 'No space left on device' "$WORK/stderr" && cmp -s "$mnt/model.lsrec" "$WORK/prev.lsrec" \
        && ! compgen -G "$mnt/*.tmp.*" >/dev/null; then
        ok "full disk at the checkpoint after epoch 1 — $(head -n 1 "$WORK/stderr")"
    else bad "full disk at the checkpoint: exit $rc; $(head -n 2 "$WORK/stderr" | tr '\n' ' ')"; fi
    mount -o remount,ro "$mnt"
    "$LSREC" train --data "$WORK/x.csv" --out "$mnt/model.lsrec" --checkpoint "$WORK/ro.ckpt" "${FAST[@]}" 2>"$WORK/stderr"
    rc=$?
    if [[ $rc -eq 1 ]] && grep -q 'Read-only file system' "$WORK/stderr" && cmp -s "$mnt/model.lsrec" "$WORK/prev.lsrec"; then
        ok "read-only file system — $(head -n 1 "$WORK/stderr")"
    else bad "read-only file system: exit $rc; $(head -n 2 "$WORK/stderr" | tr '\n' ' ')"; fi
else
    skip "tmpfs full-disk and read-only cases (mount not permitted here); RLIMIT_FSIZE stands in below"
fi
# RLIMIT_FSIZE: writes beyond the limit fail with EFBIG (SIGXFSZ ignored) — a full disk as far as
# the writer can tell.
mkdir -p "$WORK/fsize" && cp "$WORK/prev.lsrec" "$WORK/fsize/model.lsrec"
( trap '' XFSZ; ulimit -f $(((size / 2) / 1024)); exec "$LSREC" train --data "$WORK/x.csv" --out "$WORK/fsize/model.lsrec" \
    --checkpoint "$WORK/fsize.ckpt" "${FAST[@]}" ) 2>"$WORK/stderr"
rc=$?
if [[ $rc -eq 1 ]] && grep -q 'File too large' "$WORK/stderr" && cmp -s "$WORK/fsize/model.lsrec" "$WORK/prev.lsrec" \
    && ! compgen -G "$WORK/fsize/*.tmp.*" >/dev/null; then
    ok "file size limit (ulimit -f) — $(head -n 1 "$WORK/stderr")"
else bad "file size limit: exit $rc; $(head -n 2 "$WORK/stderr" | tr '\n' ' ')"; fi
# A directory the trainer may not write to (as user nobody: root ignores permissions).
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    mkdir -p "$WORK/locked" "$WORK/open" && cp "$WORK/prev.lsrec" "$WORK/locked/model.lsrec" && chmod 555 "$WORK/locked"
    chmod 777 "$WORK/open" && chmod 644 "$WORK/x.csv"
    setpriv --reuid=65534 --regid=65534 --clear-groups "$LSREC" train --data "$WORK/x.csv" --out "$WORK/locked/model.lsrec" \
        --checkpoint "$WORK/open/model.ckpt" "${FAST[@]}" 2>"$WORK/stderr"
    rc=$?
    if [[ $rc -eq 1 ]] && grep -q 'Permission denied' "$WORK/stderr" && cmp -s "$WORK/locked/model.lsrec" "$WORK/prev.lsrec"; then
        ok "unwritable directory (as nobody) — $(head -n 1 "$WORK/stderr")"
    else bad "unwritable directory: exit $rc; $(head -n 2 "$WORK/stderr" | tr '\n' ' ')"; fi
elif [[ $(id -u) -ne 0 ]]; then
    mkdir -p "$WORK/locked" && cp "$WORK/prev.lsrec" "$WORK/locked/model.lsrec" && chmod 555 "$WORK/locked"
    expect_refusal "unwritable directory" 'Permission denied' "$WORK/x.csv" --out "$WORK/locked/model.lsrec"
else
    skip "unwritable directory (root without setpriv)"
fi
expect_refusal "output directory does not exist" "cannot create .*nowhere/.*No such file or directory" "$WORK/x.csv" \
    --out "$WORK/nowhere/model.lsrec" --checkpoint "$WORK/nowhere.ckpt"
mkdir -p "$WORK/isdir"
"$LSREC" train --data "$WORK/x.csv" --out "$WORK/isdir" --checkpoint "$WORK/isdir.ckpt" "${FAST[@]}" 2>"$WORK/stderr"
rc=$?
if [[ $rc -eq 1 ]] && [[ -d "$WORK/isdir" ]] && ! compgen -G "$WORK/isdir.tmp.*" >/dev/null; then
    ok "output path is a directory — $(head -n 1 "$WORK/stderr")"
else bad "output path is a directory: exit $rc; $(head -n 2 "$WORK/stderr" | tr '\n' ' ')"; fi

echo "trainer robustness: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
