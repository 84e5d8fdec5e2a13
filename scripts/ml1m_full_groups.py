#!/usr/bin/env python3
"""Test-split ranks on ml-1m-full by user group, replayed through the Python binding.

    python3 scripts/ml1m_full_groups.py MODEL.lsrec [DATA_DIR]   (default ../shared/data/ml-1m)

Orders each user's events as lsrec's loader does (untimed events first in file order, then the
timed ones by time, stable), skips users whose last two events are not both timed (the protocol
evaluates timed targets only, docs/EVALUATION.md), replays everything before the last event into a fresh state
(`update_many`), scores all items at the target's time and ranks the target (1 + the number of
items scoring strictly higher: ties are rare with float scores). Prints HR@10 and NDCG@10 (full
ranking, seen items kept) for: fully timed users below / from user id 3000 (the data's timed
users ≥ 3000 come from other sources, SOURCE.md), partly timed users, and those split by how many
timed events precede the target; both timing groups also by the target's rating (1–2 or 3–5: in
this rebuild a partly timed user's timed events are their ratings 1–2 of the first 80% of the
data's time plus everything later, so their last timed event is usually a low rating; SOURCE.md).
The model never sees ratings. The totals over the two timing groups match `lsrec eval`'s "by
history timing" table (the same scores, through the C library).
"""
import collections
import gzip
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import lsrec  # noqa: E402


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    model = lsrec.Model.load(sys.argv[1])
    data = sys.argv[2] if len(sys.argv) > 2 else os.path.join("..", "shared", "data", "ml-1m")
    index = {int(x): i for i, x in enumerate(model.item_ids)}
    users = collections.defaultdict(list)
    with gzip.open(os.path.join(data, "ratings_merged.csv.gz"), "rt") as f:
        next(f)
        for line in f:
            u, i, r, t = line.split(",")
            users[int(u)].append((int(t), int(i), int(r)))
    groups = collections.defaultdict(list)
    for u, events in users.items():
        untimed = [e for e in events if e[0] < 0]
        timed = sorted((e for e in events if e[0] >= 0), key=lambda e: e[0])
        seq = untimed + timed
        if len(seq) < 3 or len(timed) < 2:  # no timed test and validation target: not evaluated
            continue
        (t, item, rating), history = seq[-1], seq[:-1]
        state = model.new_state()
        state.update_many([e[1] for e in history], [e[0] for e in history])
        scores = model.score(state, now=t)
        rank = 1 + int((scores > scores[index[item]]).sum())
        low = "1–2" if rating <= 2 else "3–5"
        groups[f"{'partly' if untimed else 'fully'} timed, target rated {low}"].append(rank)
        if untimed:
            groups["some history events untimed"].append(rank)
            before = len(timed) - 1
            groups[f"  of them, {'<= 5' if before <= 5 else '> 5'} timed events before the target"].append(rank)
        else:
            groups["every history event timed"].append(rank)
            groups[f"  of them, user id {'< 3000' if u < 3000 else '>= 3000'}"].append(rank)
    print("| users | count | HR@10 | NDCG@10 |\n|---|---:|---:|---:|")
    for name in ["every history event timed", "  of them, user id < 3000", "  of them, user id >= 3000",
                 "some history events untimed", "  of them, <= 5 timed events before the target",
                 "  of them, > 5 timed events before the target",
                 "fully timed, target rated 1–2", "fully timed, target rated 3–5",
                 "partly timed, target rated 1–2", "partly timed, target rated 3–5"]:
        r = np.array(groups[name])
        ndcg = np.where(r <= 10, 1 / np.log2(r + 1), 0.0).mean()
        print(f"| {name.strip()} | {len(r)} | {(r <= 10).mean():.4f} | {ndcg:.4f} |")


if __name__ == "__main__":
    main()
