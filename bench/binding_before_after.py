#!/usr/bin/env python3
"""The Python binding's own cost per call, two versions of it in one run.

    git archive OLD_REF bindings/python | tar -x -C /tmp/old    # the baseline binding
    python3 bench/binding_before_after.py /tmp/old/bindings/python MODEL.lsrec [--clock cpu]

Loads the baseline package (as ``lsrec_before``) next to this checkout's ``lsrec``, both on the
same liblsrec.so (``$LSREC_LIBRARY``, default build/static/liblsrec.so), and times compare.py's
request stream (one ``State.update`` then ``Model.topk(state, 10, exclude_seen=False)``) through
each binding and through raw ctypes calls (no wrapper), interleaved run by run on separate users.
Prints per-request medians, binding overhead (binding minus raw) and per-run ratios.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads, as in compare.py

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from ctypes import c_void_p  # noqa: E402
from statistics import median  # noqa: E402
from typing import Callable, Dict, List  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
os.environ.setdefault("LSREC_LIBRARY", os.path.join(ROOT, "build", "static", "liblsrec.so"))
sys.path[:0] = [HERE, os.path.join(ROOT, "bindings", "python")]

import lsrec  # noqa: E402  (this checkout's)
from compare import K, WARM_EVENTS, item_at, time_at, warm_item, warm_time  # noqa: E402


def load_baseline(bindings_dir: str):  # type: ignore[no-untyped-def]
    pkg = os.path.join(bindings_dir, "lsrec")
    spec = importlib.util.spec_from_file_location("lsrec_before", os.path.join(pkg, "__init__.py"),
                                                  submodule_search_locations=[pkg])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["lsrec_before"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("baseline", help="the bindings/python folder of the baseline version")
    ap.add_argument("model")
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--users", type=int, default=256)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    a = ap.parse_args()
    clock = time.process_time if a.clock == "cpu" else time.perf_counter
    old = load_baseline(a.baseline)

    def users(pkg) -> List:  # type: ignore[no-untyped-def]
        m = pkg.Model.load(a.model)
        ids = [int(i) for i in m.item_ids]
        out = []
        for u in range(a.users):
            s = m.new_state()
            s.update_many([ids[warm_item(len(ids), u, e)] for e in range(WARM_EVENTS)],
                          [warm_time(e) for e in range(WARM_EVENTS)])
            out.append(s)
        return [m, ids, out]

    new_m, ids, new_st = users(lsrec)
    old_m, _, old_st = users(old)
    raw_m, _, raw_st = users(lsrec)
    n, R = len(ids), a.requests

    def binding(m, st) -> Callable[[int], float]:  # type: ignore[no-untyped-def]
        def run(r: int) -> float:
            t = clock()
            for i in range(R):
                s = st[i % len(st)]
                s.update(ids[item_at(n, r, i)], time_at(r, i, R))
                m.topk(s, K, exclude_seen=False)
            return (clock() - t) / R
        return run

    def raw(r: int) -> float:  # compare.py's req_raw
        lib = lsrec._native.lib()
        upd, topk = lib.lsrec_state_update, lib.lsrec_topk
        mh, handles = raw_m._h(), [s._h() for s in raw_st]
        out_ids, out_sc = np.empty(K, np.int64), np.empty(K, np.float32)
        pi, ps = c_void_p(out_ids.ctypes.data), c_void_p(out_sc.ctypes.data)
        t = clock()
        for i in range(R):
            h = handles[i % len(handles)]
            if upd(mh, h, ids[item_at(n, r, i)], time_at(r, i, R)) != 0 or topk(mh, h, -1, K, 0, None, 0, pi, ps, None) != 0:
                raise SystemExit(lib.lsrec_last_error())
        return (clock() - t) / R

    engines = {"before": binding(old_m, old_st), "after": binding(new_m, new_st), "raw": raw}
    runs: Dict[str, List[float]] = {k: [] for k in engines}
    for r in range(a.repeats + 1):
        for name, fn in engines.items():
            v = fn(r)
            if r:
                runs[name].append(v)
    med = {k: median(v) * 1e6 for k, v in runs.items()}
    ratio = median(b / x for b, x in zip(runs["before"], runs["after"]))
    over = {k: median((x - w) * 1e6 for x, w in zip(runs[k], runs["raw"])) for k in ("before", "after")}
    print(f"clock {a.clock}; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {a.users} users, "
          f"{R} requests/run, median of {a.repeats} runs after a warm-up")
    print("| request (update + top-10) | before | after | raw ctypes |")
    print("|---|---:|---:|---:|")
    print(f"| µs / request | {med['before']:.1f} | {med['after']:.1f} | {med['raw']:.1f} |")
    print(f"| binding overhead (binding - raw, per run) | {over['before']:.1f} | {over['after']:.1f} | – |")
    print(f"before / after = {ratio:.2f}× (per-run ratios)")


if __name__ == "__main__":
    main()
