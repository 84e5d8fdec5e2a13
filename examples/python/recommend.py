#!/usr/bin/env python3
"""recommend.py — a complete lsrec host in Python, mirroring examples/c/recommend.c: load a
model, feed a user's events, recommend, explain, and keep the user's state as a blob.

Usage
  recommend.py [MODEL]                     built-in events (the model's first few items)
  recommend.py MODEL ITEM[:TIME] ...       events from the command line, oldest first
  recommend.py MODEL -f HISTORY [-t TITLES]  events from a file ("item_id unix_ts" lines);
                                           TITLES: "item_id<TAB>title" lines to print titles

Run from the repository root after `make lib-static`, with the package installed
(`pip install ./bindings/python`) or importable (`PYTHONPATH=bindings/python`). It prints the
same lines as the C example for the same input (the tests compare them).
"""

from __future__ import annotations

import sys
from typing import Dict, List, Tuple

import numpy as np

import lsrec

DEFAULT_MODEL = "Tests/Fixtures/tiny-random.lsrec"
TOP_K = 10
EXPLAIN_K = 3


def parse_event(arg: str) -> Tuple[int, int]:
    item, _, time = arg.partition(":")
    try:
        return int(item), int(time) if time else lsrec.TS_UNKNOWN
    except ValueError:
        sys.exit(f"recommend.py: '{arg}' is not ITEM or ITEM:TIME")


def read_history(path: str) -> List[Tuple[int, int]]:
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    events = []
    for line_no, line in enumerate(f, 1):
        fields = line.replace(",", " ").split()
        if not fields or fields[0].startswith("#"):
            continue
        try:
            events.append((int(fields[0]), int(fields[1]) if len(fields) > 1 else lsrec.TS_UNKNOWN))
        except ValueError:
            sys.exit(f'recommend.py: {path}:{line_no}: expected "item_id unix_ts"')
    return events


def read_titles(path: str) -> Dict[int, str]:
    """Item titles from "item_id<TAB>title" lines (`lsrec recommend --titles-out` writes them)."""
    titles = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            id_text, tab, title = line.partition("\t")
            if tab and id_text.lstrip("-").isdigit():
                titles[int(id_text)] = title.rstrip("\r\n")
    return titles


def feed(state: lsrec.State, items: np.ndarray, times: np.ndarray) -> None:
    """All events in one call; if one names an unknown item (the call is all-or-nothing), one at
    a time, skipping the unknown ones."""
    try:
        state.update_many(items, times)
    except lsrec.UnknownItemError:
        for i, (item, ts) in enumerate(zip(items.tolist(), times.tolist())):
            try:
                state.update(item, ts)
            except lsrec.UnknownItemError as e:
                print(f"recommend.py: skipping event {i}: {e.message}", file=sys.stderr)


def print_recommendations(
    model: lsrec.Model, state: lsrec.State, ids: np.ndarray, scores: np.ndarray, titles: Dict[int, str]
) -> None:
    for rank, (item, score) in enumerate(zip(ids.tolist(), scores.tolist()), 1):
        print(f"  {rank:2d}. item {item:<8d} score {score:8.4f}  {titles.get(item, '')}")
        why, weights = model.explain(state, item, EXPLAIN_K)
        if len(why):
            sep = " " if titles else ""
            parts = ", ".join(
                f"{w}{sep}{titles.get(w, '')} ({x:+.3f})" for w, x in zip(why.tolist(), weights.tolist())
            )
            print(f"      because you watched: {parts}")


def main(argv: List[str]) -> int:
    path = argv[1] if len(argv) > 1 else DEFAULT_MODEL
    print(f"liblsrec {lsrec.version()} (ABI {lsrec.abi_version()})")

    with lsrec.Model.load(path) as model:
        meta = model.metadata
        print(
            f"model {path}: architecture {meta.get('general.architecture', '')}, dim {model.dim}, "
            f"n_items {model.n_items}, history {meta.get('lsrec.history', '')}, fingerprint {model.fingerprint}"
        )
        item_ids = model.item_ids

        titles: Dict[int, str] = {}
        if len(argv) > 3 and argv[2] == "-f":
            events = read_history(argv[3])
            if len(argv) > 5 and argv[4] == "-t":
                titles = read_titles(argv[5])
        elif len(argv) > 2:
            events = [parse_event(a) for a in argv[2:]]
        else:
            t0 = 1_700_000_000
            events = [(int(item_ids[p % model.n_items]), t0 + 3600 * i) for i, p in enumerate([0, 1, 2, 5, 8, 13])]
        items = np.array([e[0] for e in events], dtype=np.int64)
        times = np.array([e[1] for e in events], dtype=np.int64)
        print(f"history: {len(events)} events")

        state = model.new_state()
        feed(state, items, times)
        print(f"state: {state.n_events} events")

        top, top_scores = model.topk(state, TOP_K, exclude_seen=True)
        print(f"top {TOP_K} (excluding seen):")
        print_recommendations(model, state, top, top_scores, titles)

        blob = bytes(state)
        restored = model.load_state(blob)
        top2, top2_scores = model.topk(restored, TOP_K)
        assert np.array_equal(top, top2) and np.array_equal(top_scores, top2_scores)
        print(f"state blob: {len(blob)} bytes; restored state gives the identical top {TOP_K}")

        if len(top):
            known = times[times >= 0]
            when = int(known[-1]) + 600 if len(known) else lsrec.TS_UNKNOWN
            restored.update(int(top[0]), when)
            ids3, scores3 = model.topk(restored, 3)
            listed = "".join(f" {i} ({s:.4f})" for i, s in zip(ids3.tolist(), scores3.tolist()))
            print(f"after watching {top[0]}, the new top 3:{listed}")

        u = model.user_vector(state)
        norm = float(np.sqrt(np.sum(u.astype(np.float64) ** 2)))
        print(f"user vector: |u| = {norm:.4f} (d = {model.dim})")
    print("recommend.py: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
