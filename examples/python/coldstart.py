#!/usr/bin/env python3
"""coldstart.py — recommend an item the model has never seen, mirroring examples/c/coldstart.c:
embed its text with the encoder, add it to a catalogue, rank it for a user (and a contrast user)
and explain it.

Usage
  coldstart.py MODEL ENCODER NEW_ID NEW_TEXT HISTORY [CONTRAST] [-t TITLES]

  HISTORY / CONTRAST  a file of "item_id unix_ts" lines, or (if no such file exists) a
                      comma-separated list ITEM[:TIME],...; a list with no time at all is taken as
                      one event an hour
  TITLES              "item_id<TAB>title" lines for printing names

Run from the repository root after `make lib-static`, with the package importable
(`PYTHONPATH=bindings/python`). It prints the same lines as the C example for the same input
(Tests/capi/coldstart_test.sh compares them).
"""

from __future__ import annotations

import os
import sys
from typing import Dict, List, Tuple

import numpy as np

import lsrec
from recommend import feed, parse_event, read_history, read_titles

TOP_K = 10
EXPLAIN_K = 5
SHOW_HISTORY = 8


def read_history_arg(arg: str) -> List[Tuple[int, int]]:
    """A history file if one exists, else an ITEM[:TIME] list (one event an hour if untimed)."""
    if arg == "-" or os.path.exists(arg):
        return read_history(arg)
    events = [parse_event(a) for a in arg.split(",") if a]
    if not events:
        sys.exit(f"coldstart.py: '{arg}' is neither a history file nor a list of item ids")
    if all(t == lsrec.TS_UNKNOWN for _, t in events):
        t0 = 1_700_000_000  # only the gaps matter
        events = [(item, t0 + 3600 * i) for i, (item, _) in enumerate(events)]
    return events


def user_from(model: lsrec.Model, arg: str, label: str, titles: Dict[int, str]) -> lsrec.State:
    events = read_history_arg(arg)
    state = model.new_state()
    feed(state, np.array([e[0] for e in events], dtype=np.int64), np.array([e[1] for e in events], dtype=np.int64))
    print(f"\n== {label} history: {state.n_events} events; the most recent:")
    for item, _ in events[-SHOW_HISTORY:]:
        print(f"  {item:<8d} {titles.get(item, '')}")
    return state


def rank_new_item(
    cat: lsrec.Catalog, model: lsrec.Model, state: lsrec.State, new_id: int, label: str, titles: Dict[int, str]
) -> Tuple[int, int]:
    top, scores = cat.topk(state, TOP_K, exclude_seen=True)
    print(f"top {TOP_K} for the {label} history (seen items left out):")
    for r, (item, score) in enumerate(zip(top.tolist(), scores.tolist()), 1):
        mark = "   <-- NEW (not in training)" if item == new_id else ""
        print(f"  {r:2d}. {item:<8d} {score:8.4f}  {titles.get(item, '')}{mark}")

    # The rank among all items: topk over the whole catalogue (same exclusions and ties).
    every, every_scores = cat.topk(state, len(cat), exclude_seen=True)
    where = np.flatnonzero(every == new_id)
    assert len(where) == 1
    rank, score = int(where[0]) + 1, float(every_scores[where[0]])
    in_top = ", in the top 10" if rank <= TOP_K else ""
    print(f"new item {new_id}: rank {rank} of {len(every)} (score {score:.4f}){in_top}")

    # The score is u . e + b (in float64 here).
    e, b = cat.item_vector(new_id)
    u = model.user_vector(state)
    ref = float(np.dot(u.astype(np.float64), e.astype(np.float64))) + b
    assert abs(ref - score) <= 1e-4 * (1 + abs(ref))

    why, weights = cat.explain(state, new_id, EXPLAIN_K)
    if len(why):
        print("  because you watched:")
    for item, w in zip(why.tolist(), weights.tolist()):
        assert np.isfinite(w)
        print(f"    {item:<8d} {w:+.4f}  {titles.get(item, '')}")
    return rank, len(every)


def main(argv: List[str]) -> int:
    args, titles_path = [], None
    i = 1
    while i < len(argv):
        if argv[i] == "-t" and i + 1 < len(argv):
            titles_path = argv[i + 1]
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if not 5 <= len(args) <= 6 or not args[2].lstrip("-").isdigit():
        sys.exit("usage: coldstart.py MODEL ENCODER NEW_ID NEW_TEXT HISTORY [CONTRAST] [-t TITLES]")
    model_path, encoder_path, new_id, new_text = args[0], args[1], int(args[2]), args[3]
    titles = read_titles(titles_path) if titles_path else {}

    with lsrec.Model.load(model_path) as model, lsrec.Encoder(encoder_path) as enc:
        k = int(model.metadata.get("lsrec.text_dim", "0") or 0)
        print(
            f"model {model_path}: {model.n_items} items, dim {model.dim}, text_dim {k}; "
            f"encoder {encoder_path}: dim {enc.dim}"
        )
        if k != enc.dim:
            sys.exit(
                f"coldstart.py: the model's text width ({k}) is not the encoder's ({enc.dim}): "
                f"train it with `lsrec train --text-encoder {encoder_path}`"
            )
        with lsrec.Catalog(model) as cat:
            cat.add_item(new_id, enc.encode(new_text))
            titles[new_id] = new_text
            print(f'added item {new_id} "{new_text}": the catalogue now has {len(cat)} items')

            user = user_from(model, args[4], "user's", titles)
            p = rank_new_item(cat, model, user, new_id, "user's", titles)
            if len(args) > 5:
                other = user_from(model, args[5], "contrast", titles)
                q = rank_new_item(cat, model, other, new_id, "contrast", titles)
                print(
                    f'\nsummary: item {new_id} "{new_text}" ranks {p[0]} of {p[1]} for the user\'s history '
                    f"and {q[0]} of {q[1]} for the contrast history"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
