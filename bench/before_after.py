#!/usr/bin/env python3
"""Before/after latency of two builds of the C API, measured in one run.

    python3 bench/before_after.py OLD_BENCH NEW_BENCH MODEL.lsrec [ROUNDS]

OLD_BENCH and NEW_BENCH are bench/bench.c linked against the two libraries (e.g. the old
liblsrec.so copied to a folder, bench built with an rpath to it). The two run alternately,
ROUNDS times each (default 5, each a full `bench MODEL 5`), so both see the same machine load;
the table gives, per call, the median over rounds of each one's median µs, and the ratio
old / new computed round by round (median of the per-round ratios).
"""
import re
import statistics
import subprocess
import sys


def run(binary, model):
    out = subprocess.run([binary, model, "5"], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"\|\s*(lsrec_\S.*?|serialize.*?)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|", line)
        if m:
            rows[m.group(1)] = float(m.group(2))
    return rows


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    old, new, model = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    olds, news = [], []
    for r in range(rounds):
        olds.append(run(old, model))
        news.append(run(new, model))
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    print(f"| call (per call) | before µs | after µs | before / after |")
    print("|---|---:|---:|---:|")
    for name in olds[0]:
        b = statistics.median(o[name] for o in olds)
        a = statistics.median(n[name] for n in news)
        ratio = statistics.median(o[name] / n[name] for o, n in zip(olds, news))
        print(f"| {name} | {b:.2f} | {a:.2f} | {ratio:.2f}× |")
    # Rows only the new bench has: the screened model's top-K against the old plain top-K (same
    # results), and new calls without a "before".
    for name in news[0]:
        if name in olds[0]:
            continue
        base = SCREENED_BASE.get(name)
        a = statistics.median(n[name] for n in news)
        if base and base in olds[0]:
            b = statistics.median(o[base] for o in olds)
            ratio = statistics.median(o[base] / n[name] for o, n in zip(olds, news))
            print(f"| {name} (before: {base}) | {b:.2f} | {a:.2f} | {ratio:.2f}× |")
        else:
            print(f"| {name} | – | {a:.2f} | – |")


SCREENED_BASE = {
    "lsrec_topk k=10, screened model": "lsrec_topk k=10",
    "lsrec_topk k=10 excl. seen, screened": "lsrec_topk k=10 exclude seen",
}


if __name__ == "__main__":
    main()
