"""Side by side (issue 6): lsrec from C, lsrec through ctypes, ONNX Runtime and numpy on the same
request stream, against this machine's own floors. Run by `make bench-compare MODEL=...`.

    python3 bench/compare.py MODEL.lsrec [--requests 4000] [--repeats 7] [--users 256]
                             [--scale 1000000 ...] [--train-data DIR] [--md out/bench-compare.md]

Steps, all in one process run (ratios are taken between figures of the same run):
1. floors: build/bench/floors (single-core sgemm GFLOP/s, DRAM read/triad GB/s, cache read GB/s),
   measured again after the engines of step 3, each rate the best of both;
2. parity: the same events through lsrec (ctypes), numpy float32, ONNX Runtime, each compared with
   numpy float64 (h, c, u, all scores, top-10): the harness stops if any engine disagrees;
3. timing: per request, one event update then top-10 over all items at the time of that event,
   USERS users with full L-event windows, REQUESTS requests per run, a warm-up run then REPEATS
   timed runs, engines interleaved run by run (Python ones) and build/bench/engine (C) in the
   same invocation; medians, ratios pair by pair;
4. optional: --scale N synthetic models (random weights, d = 64) written by bench/lsrec_file.py;
   --train-data: two epochs of `lsrec train` (--threads 1), the faster one's achieved GFLOP/s.
Every engine runs on one thread: OPENBLAS_NUM_THREADS=1 is set before numpy is imported.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from ctypes import c_void_p  # noqa: E402
from statistics import median  # noqa: E402
from typing import Callable, Dict, List, Optional, Tuple  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

import lsrec  # noqa: E402
from lsrec import _native  # noqa: E402
from lsrec_file import LsrecFile, item_matrix, random_model, read, write  # noqa: E402
from numpy_engine import NumpyEngine, UserState  # noqa: E402
from floors import counts, training_flops_per_target  # noqa: E402

# OpenBLAS before 0.3.25 runs pre-AVX2 kernels on CPU models it does not know (lsrec.h, "BLAS
# kernels"); it reads OPENBLAS_CORETYPE only when loaded, so re-run once with the kernel set the
# library names, as the `lsrec` tool does. A value set by the caller is kept.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)  # the binding's load-time note: acted on here
    _better = None if "OPENBLAS_CORETYPE" in os.environ else lsrec.blas_suggested_coretype()
if _better:
    os.environ["LSREC_BLAS_DETECTED_CORE"] = lsrec.blas_core()
    os.environ["OPENBLAS_CORETYPE"] = _better
    os.execv(sys.executable, [sys.executable] + sys.argv)

BIN = os.path.join(ROOT, "build", "bench")
# --clock cpu: process CPU time (time-slicing by other jobs does not count); wall by default.
CLOCK = time.perf_counter
K = 10
T0 = 1_000_000_000
WARM_EVENTS = 300


# ---- the request stream (the same formulas as bench/engine.c) ------------------------------------

def warm_item(n: int, u: int, e: int) -> int:
    return (u * 131 + e * 17) % n


def warm_time(e: int) -> int:
    return T0 + e * 60


def item_at(n: int, r: int, i: int) -> int:
    return (i * 7919 + r * 104729 + 1) % n


def time_at(r: int, i: int, requests: int) -> int:
    return T0 + WARM_EVENTS * 60 + (r * requests + i) * 30


# ---- helpers ---------------------------------------------------------------------------------------

def run_kv(cmd: List[str]) -> Dict[str, str]:
    """Runs a harness C program and parses its key=value lines."""
    p = subprocess.run(cmd, check=True, capture_output=True, text=True)
    out = {}
    for line in p.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def state_hc(blob: bytes, d: int) -> Tuple[np.ndarray, np.ndarray]:
    """h and c from an lsrec_state_serialize blob (docs/FORMAT.md, user-state blob)."""
    if blob[:4] != b"LSRS" or struct.unpack_from("<I", blob, 4)[0] != 1:
        raise SystemExit("parity: unexpected state blob header")
    off = 56
    h = np.frombuffer(blob, dtype="<f4", count=d, offset=off)
    c = np.frombuffer(blob, dtype="<f4", count=d, offset=off + 4 * d)
    return h.astype(np.float64), c.astype(np.float64)


def machine() -> Dict[str, str]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"nproc": str(os.cpu_count()), "cpu": cpu, "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "numpy": np.__version__, "blas": blas_kernels()}


def blas_kernels() -> str:
    """The OpenBLAS kernels lsrec (and build/bench/*) run here, and who chose them."""
    detected = os.environ.get("LSREC_BLAS_DETECTED_CORE")
    how = f"OPENBLAS_CORETYPE set by this script: OpenBLAS chose {detected}" if detected else (
        "OPENBLAS_CORETYPE set by the caller" if "OPENBLAS_CORETYPE" in os.environ else "OpenBLAS's own choice")
    return f"{lsrec.blas_core()} ({how})"


# ---- parity -------------------------------------------------------------------------------------

def parity(f: LsrecFile, x: np.ndarray, model: "lsrec.Model", with_ort: bool, users: int = 6,
           requests: int = 40) -> Dict[str, float]:
    """Same events through every engine; returns the max abs differences against float64 numpy.
    Raises SystemExit when an engine disagrees (beyond float32 rounding) with the reference."""

    d, n = f.int("lsrec.dim"), f.int("lsrec.n_items")
    ids = model.item_ids
    if not np.array_equal(ids, f.tensors["item.ids"]):
        raise SystemExit("parity: lsrec's item order differs from the file's item.ids")
    ref, f32 = NumpyEngine(f, np.float64, x), NumpyEngine(f, np.float32, x)
    ort_e = None
    if with_ort:
        from onnx_engine import OrtEngine
        ort_e = OrtEngine(f, x, K, with_scores=True)
    names = ["lsrec", "ORT", "numpy"] if with_ort else ["lsrec", "numpy"]
    worst = {f"{what} {name}": 0.0 for what in ("h,c", "scores", "top10") for name in names}
    score_scale = 1.0
    for u in range(users):
        sr, s32, so = ref.new_state(), f32.new_state(), f32.new_state()
        sl = model.new_state()
        events = [(warm_item(n, u, e), warm_time(e)) for e in range(WARM_EVENTS)]
        events += [(item_at(n, 0, i), time_at(0, i, requests)) for i in range(requests)]
        for e, (item, ts) in enumerate(events):
            ref.update(sr, item, ts)
            f32.update(s32, item, ts)
            sl.update(int(ids[item]), ts)
            if e < WARM_EVENTS:
                if ort_e:
                    ort_e.update(so, item, ts)
                continue
            if ort_e:
                top_o, _, _, sc_o = _ort_request(ort_e, so, item, ts)
            if e % 10 and e != len(events) - 1:
                continue
            sc_ref = ref.scores(sr)
            score_scale = max(score_scale, float(np.abs(sc_ref).max()))
            h_l, c_l = state_hc(sl.to_bytes(), d)
            cand = {
                "lsrec": (h_l, c_l, model.score(sl).astype(np.float64), model.topk(sl, K, exclude_seen=False)[0]),
                "numpy": (s32.h.astype(np.float64), s32.c.astype(np.float64), f32.scores(s32).astype(np.float64),
                          ids[f32.topk(s32, K)[0]]),
            }
            if ort_e:
                cand["ORT"] = (so.h.astype(np.float64), so.c.astype(np.float64), sc_o.astype(np.float64), ids[top_o])
            for name, (h, c, sc, top) in cand.items():
                worst[f"h,c {name}"] = max(worst[f"h,c {name}"], float(np.abs(h - sr.h).max()), float(np.abs(c - sr.c).max()))
                worst[f"scores {name}"] = max(worst[f"scores {name}"], float(np.abs(sc - sc_ref).max()))
                # top-10: the reference scores of the engine's list must match the reference's own
                # top-10 scores (a swap of two items with equal scores up to rounding is no error)
                idx = np.searchsorted(ids, top) if np.all(np.diff(ids) > 0) else np.array([int(np.where(ids == t)[0][0]) for t in top])
                best = np.sort(sc_ref)[::-1][:K]
                worst[f"top10 {name}"] = max(worst[f"top10 {name}"], float(np.abs(sc_ref[idx] - best).max()))
    tol_state, tol_score = 1e-4, 1e-4 * score_scale
    bad = [k for k, v in worst.items() if v > (tol_state if k.startswith("h,c") else tol_score)]
    for k, v in worst.items():
        print(f"  parity {k:14s} max abs diff vs float64 numpy: {v:.2e}")
    if bad:
        raise SystemExit(f"PARITY FAILED: {', '.join(bad)} beyond tolerance (state {tol_state}, scores {tol_score:.1e})")
    worst["tol_state"], worst["tol_score"] = tol_state, tol_score
    return worst


def _ort_request(e, s: UserState, item: int, ts: int):
    top_idx, top_sc, u, sc = e.request(s, item, ts)
    return top_idx[0], top_sc[0], u[0], sc[0]


# ---- timing ---------------------------------------------------------------------------------------

class PyEngines:
    """The Python-side engines on USERS users each, driven through the same stream."""

    def __init__(self, f: LsrecFile, x: np.ndarray, model: "lsrec.Model", users: int, with_ort: bool) -> None:
        self.f, self.model, self.users = f, model, users
        self.n = f.int("lsrec.n_items")
        self.ids = [int(i) for i in model.item_ids]
        self.np_e = NumpyEngine(f, np.float32, x)
        self.ort_e = None
        if with_ort:
            from onnx_engine import OrtEngine
            self.ort_e = OrtEngine(f, x, K)
        warm = [[(warm_item(self.n, u, e), warm_time(e)) for e in range(WARM_EVENTS)] for u in range(users)]
        self.lsrec_states = []
        for u in range(users):
            s = model.new_state()
            s.update_many([self.ids[i] for i, _ in warm[u]], [t for _, t in warm[u]])
            self.lsrec_states.append(s)
        # The same weights loaded with LSREC_MODEL_SCREEN_ITEMS (int8 or binary16 screen for top-K), its
        # own states fed the same warm-up: the screened requests run interleaved with the rest.
        self.screened = lsrec.Model.load(model._path, screen_items=True) if model._path else None
        self.screened_states, self.raw_screened_states = [], []
        if self.screened is not None:
            for states in (self.screened_states, self.raw_screened_states):
                for u in range(users):
                    s = self.screened.new_state()
                    s.update_many([self.ids[i] for i, _ in warm[u]], [t for _, t in warm[u]])
                    states.append(s)
        # States for the one-call path (Model.update_topk), fed the same stream: at the end they
        # must equal the two-call path's states byte for byte (checked in main).
        self.fused_states, self.fused_screened_states = [], []
        for m, states in ((model, self.fused_states), (self.screened, self.fused_screened_states)):
            if m is not None:
                for u in range(users):
                    s = m.new_state()
                    s.update_many([self.ids[i] for i, _ in warm[u]], [t for _, t in warm[u]])
                    states.append(s)
        self.raw_states = [model.new_state() for _ in range(users)]  # for the raw-ctypes loop
        for u in range(users):
            self.raw_states[u].update_many([self.ids[i] for i, _ in warm[u]], [t for _, t in warm[u]])
        self.np_states = []
        for u in range(users):
            s = self.np_e.new_state()
            for i, t in warm[u]:
                self.np_e.update(s, i, t)
            self.np_states.append(s)
        self.ort_states = [s.copy() for s in self.np_states]

    # Each returns seconds per request for run r of the stream.
    def req_lsrec(self, r: int, R: int) -> float:
        return self._req(self.model, self.lsrec_states, r, R)

    def req_screened(self, r: int, R: int) -> float:
        return self._req(self.screened, self.screened_states, r, R)

    def _req(self, m: "lsrec.Model", st: List["lsrec.State"], r: int, R: int) -> float:
        ids, n = self.ids, self.n
        t = CLOCK()
        for i in range(R):
            s = st[i % len(st)]
            s.update(ids[item_at(n, r, i)], time_at(r, i, R))
            m.topk(s, K, exclude_seen=False)
        return (CLOCK() - t) / R

    def req_fused(self, r: int, R: int, screened: bool = False) -> float:
        """One call per request: Model.update_topk (lsrec_state_update_topk)."""
        m = self.screened if screened else self.model
        st = self.fused_screened_states if screened else self.fused_states
        ids, n = self.ids, self.n
        t = CLOCK()
        for i in range(R):
            m.update_topk(st[i % len(st)], ids[item_at(n, r, i)], time_at(r, i, R), K, exclude_seen=False)
        return (CLOCK() - t) / R

    def req_raw(self, r: int, R: int, screened: bool = False) -> float:
        """The C calls straight through ctypes (no binding wrapper): the binding's own overhead."""
        lib = _native.lib()
        upd, topk = lib.lsrec_state_update, lib.lsrec_topk
        mh = (self.screened if screened else self.model)._h()
        handles = [s._h() for s in (self.raw_screened_states if screened else self.raw_states)]
        ids, n = self.ids, self.n
        out_ids = np.empty(K, np.int64)
        out_sc = np.empty(K, np.float32)
        pi, ps = c_void_p(out_ids.ctypes.data), c_void_p(out_sc.ctypes.data)
        t = CLOCK()
        for i in range(R):
            h = handles[i % len(handles)]
            if upd(mh, h, ids[item_at(n, r, i)], time_at(r, i, R)) != 0 or topk(mh, h, -1, K, 0, None, 0, pi, ps, None) != 0:
                raise SystemExit(lib.lsrec_last_error())
        return (CLOCK() - t) / R

    def req_ort(self, r: int, R: int) -> float:
        e, st, n = self.ort_e, self.ort_states, self.n
        t = CLOCK()
        for i in range(R):
            e.request(st[i % len(st)], item_at(n, r, i), time_at(r, i, R))
        return (CLOCK() - t) / R

    def req_np(self, r: int, R: int) -> float:
        e, st, n = self.np_e, self.np_states, self.n
        t = CLOCK()
        for i in range(R):
            s = st[i % len(st)]
            e.update(s, item_at(n, r, i), time_at(r, i, R))
            e.topk(s, K)
        return (CLOCK() - t) / R

    # The two halves alone: updates on copies (times continue after the stream), top-k on users.
    def halves(self, r: int, R: int, tlast: int) -> Dict[str, float]:
        n, ids, out = self.n, self.ids, {}
        U = len(self.lsrec_states)
        cl = [s.clone() for s in self.lsrec_states]
        t = CLOCK()
        for i in range(R):
            cl[i % U].update(ids[item_at(n, r, i)], tlast + (r * R + i) * 30)
        out["update lsrec"] = (CLOCK() - t) / R
        t = CLOCK()
        for i in range(R):
            self.model.topk(self.lsrec_states[i % U], K, exclude_seen=False)
        out["topk lsrec"] = (CLOCK() - t) / R
        if self.screened is not None:
            t = CLOCK()
            for i in range(R):
                self.screened.topk(self.screened_states[i % U], K, exclude_seen=False)
            out["topk screened"] = (CLOCK() - t) / R
        if self.ort_e is not None:
            cl2 = [s.copy() for s in self.ort_states]
            t = CLOCK()
            for i in range(R):
                self.ort_e.update(cl2[i % U], item_at(n, r, i), tlast + (r * R + i) * 30)
            out["update ORT"] = (CLOCK() - t) / R
            t = CLOCK()
            for i in range(R):
                self.ort_e.topk(self.ort_states[i % U])
            out["topk ORT"] = (CLOCK() - t) / R
        cl3 = [s.copy() for s in self.np_states]
        t = CLOCK()
        for i in range(R):
            self.np_e.update(cl3[i % U], item_at(n, r, i), tlast + (r * R + i) * 30)
        out["update numpy"] = (CLOCK() - t) / R
        t = CLOCK()
        for i in range(R):
            self.np_e.topk(self.np_states[i % U], K)
        out["topk numpy"] = (CLOCK() - t) / R
        # batch: all users at once
        t = CLOCK()
        self.model.topk_batch(self.lsrec_states, K, exclude_seen=False)
        out["batch lsrec"] = (CLOCK() - t) / U
        t = CLOCK()
        uv = np.stack([self.np_e.user_vector(s) for s in self.np_states])
        sc = uv @ self.np_e.X.T + self.np_e.b
        part = np.argpartition(-sc, K - 1, axis=1)[:, :K]
        np.take_along_axis(sc, part, 1)
        out["batch numpy"] = (CLOCK() - t) / U
        return out


def time_engines(eng: PyEngines, R: int, repeats: int) -> Dict[str, List[float]]:
    runs: Dict[str, List[float]] = {}
    order: List[Tuple[str, Callable[[int, int], float]]] = [("request lsrec", eng.req_lsrec), ("request raw", eng.req_raw),
                                                            ("request fused", eng.req_fused), ("request numpy", eng.req_np)]
    if eng.ort_e is not None:
        order.insert(1, ("request ORT", eng.req_ort))
    if eng.screened is not None:
        order += [("request screened", eng.req_screened),
                  ("request raw screened", lambda r, R: eng.req_raw(r, R, screened=True)),
                  ("request fused screened", lambda r, R: eng.req_fused(r, R, screened=True))]
    for r in range(repeats + 1):
        for name, fn in order:
            v = fn(r, R)
            if r > 0:
                runs.setdefault(name, []).append(v)
    tlast = time_at(repeats + 1, 0, R)
    for r in range(repeats + 1):
        h = eng.halves(r, max(R // 2, 1), tlast)
        if r > 0:
            for k, v in h.items():
                runs.setdefault(k, []).append(v)
    return runs


def screen_kind(d: int) -> str:
    """The screen's format on this CPU for rows of d values (ItemScreen.bestFormat): int8 where the
    CPU has AVX2, FMA and F16C (the library's int8 kernels need them) and d <= 1040, else binary16."""
    try:
        flags = set(open("/proc/cpuinfo").read().split())
    except OSError:
        flags = set()
    return "int8" if {"avx2", "fma", "f16c"} <= flags and d <= 1040 else "binary16"


def screen_bytes(n: int, d: int) -> int:
    """Bytes of the screen's copy: int8 values (d rounded up to 4) plus a float scale per item, or
    binary16 values."""
    return n * ((d + 3) // 4 * 4 + 4) if screen_kind(d) == "int8" else n * d * 2


def pair_ratio(runs: Dict[str, List[float]], a: str, b: str) -> Optional[float]:
    """Median over runs of runs[a][r] / runs[b][r] (both measured in the same run r)."""
    if a not in runs or b not in runs:
        return None
    return median(x / y for x, y in zip(runs[a], runs[b]))


# ---- table ----------------------------------------------------------------------------------------

class Table:
    HEAD = ["figure", "lsrec-C", "lsrec-ctypes", "ONNX Runtime", "numpy", "floor", "ratio"]

    def __init__(self) -> None:
        self.rows: List[List[str]] = []

    def add(self, *cells: object) -> None:
        self.rows.append([("–" if c is None else str(c)) for c in cells] + [""] * (len(self.HEAD) - len(cells)))

    def markdown(self) -> str:
        lines = ["| " + " | ".join(self.HEAD) + " |", "|---|" + "---:|" * 5 + "---|"]
        lines += ["| " + " | ".join(r) + " |" for r in self.rows]
        return "\n".join(lines)


def us(x: Optional[float], digits: int = 1) -> Optional[str]:
    return None if x is None else f"{x:.{digits}f} µs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--users", type=int, default=256)
    ap.add_argument("--scale", type=int, nargs="*", default=[], help="synthetic catalogue sizes (items, d = 64)")
    ap.add_argument("--scale-dir", default=os.path.join(ROOT, "out"))
    ap.add_argument("--train-data", help="an ML-1M directory: two epochs of lsrec train, --threads 1, the faster counted")
    ap.add_argument("--train-args", default="", help="extra `lsrec train` options, e.g. '--max-users 300' for a quick run")
    ap.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "lsrec-cli"))
    ap.add_argument("--no-onnx", action="store_true")
    ap.add_argument("--md", default=os.path.join(ROOT, "out", "bench-compare.md"))
    ap.add_argument("--clock", choices=["wall", "cpu"], default=os.environ.get("BENCH_CLOCK", "wall"),
                    help="time with the wall clock or this process's CPU time (a shared, loaded machine)")
    a = ap.parse_args()
    global CLOCK
    CLOCK = time.process_time if a.clock == "cpu" else time.perf_counter
    os.environ["BENCH_CLOCK"] = a.clock  # the C programs read it
    if a.repeats < 5:
        sys.exit("--repeats must be at least 5 (median of >= 5 runs)")

    info = machine()
    print(f"machine: nproc {info['nproc']}, {info['cpu']}, load {info['load']}, {info['date']}; "
          f"OpenBLAS kernels {info['blas']}")
    head_f = read(a.model)
    fl = run_kv([os.path.join(BIN, "floors"), "5", str(head_f.int("lsrec.n_items")), str(head_f.int("lsrec.dim"))])
    sg, rd, l2 = float(fl["sgemm_gflops"]), float(fl["read_gbs"]), float(fl["read_l2_gbs"])
    print(f"floors: sgemm {sg:.1f} GFLOP/s (1 thread), batch-shape sgemm {fl['sgemm_b256_gflops']}, "
          f"DRAM read {rd:.2f} GB/s, triad {fl['triad_gbs']} GB/s, cache read {l2:.2f} GB/s")

    f = read(a.model, verify=True)
    x = item_matrix(f)
    d, L, n, t = f.int("lsrec.dim"), f.int("lsrec.history"), f.int("lsrec.n_items"), f.int("lsrec.time_dim")
    print(f"model {a.model}: N={n} d={d} L={L} t={t} fusion={f.meta['lsrec.fusion']}")
    model = lsrec.Model.load(a.model)
    with_ort = not a.no_onnx and f.meta["lsrec.fusion"] == "gate"

    print("parity (same events through every engine):")
    par = parity(f, x, model, with_ort)

    c_out = run_kv([os.path.join(BIN, "engine"), a.model, str(a.requests), str(a.repeats), str(a.users)])
    eng = PyEngines(f, x, model, a.users, with_ort)
    runs = time_engines(eng, a.requests, a.repeats)
    for one, two in ((eng.fused_states, eng.lsrec_states), (eng.fused_screened_states, eng.screened_states)):
        if any(x.to_bytes() != y.to_bytes() for x, y in zip(one, two)):
            sys.exit("Model.update_topk left different states than update + topk on the same stream")
    c_out2 = run_kv([os.path.join(BIN, "engine"), a.model, str(a.requests), str(a.repeats), str(a.users)])
    # The C engine with the screen (LSREC_MODEL_SCREEN_ITEMS), twice as well; its results must be
    # the plain engine's (the checksum covers every top-10 id and score bit of the stream).
    os.environ["LSREC_BENCH_SCREEN"] = "1"
    c_scr = [run_kv([os.path.join(BIN, "engine"), a.model, str(a.requests), str(a.repeats), str(a.users)]) for _ in range(2)]
    del os.environ["LSREC_BENCH_SCREEN"]
    if any(c["checksum"] != c_out["checksum"] for c in c_scr):
        sys.exit(f"the screened engine's results differ: checksum {c_scr[0]['checksum']} vs {c_out['checksum']}")
    # The batch (no screen) gives the same lists in every run, screened model or not.
    if any(c["batch_checksum"] != c_out["batch_checksum"] for c in [c_out2] + c_scr):
        sys.exit("lsrec_topk_batch's lists differ between runs of the same stream")
    # The machine's limits once more, after the engines: each rate is the better of the two
    # measurements (this machine has slow spells lasting minutes — one measured 111 GFLOP/s for
    # sgemm against 140-160 outside them — and a floor taken in one would flatter lsrec).
    fl2 = run_kv([os.path.join(BIN, "floors"), "5", str(n), str(d)])
    for key in ("sgemm_gflops", "sgemm_b256_gflops", "read_gbs", "triad_gbs", "read_l2_gbs"):
        fl[key] = f"{max(float(fl[key]), float(fl2[key])):.2f}"
    fl["sgemv_us"] = f"{min(float(fl['sgemv_us']), float(fl2['sgemv_us'])):.3f}"
    sg, rd, l2 = float(fl["sgemm_gflops"]), float(fl["read_gbs"]), float(fl["read_l2_gbs"])
    print(f"floors again: sgemm {float(fl2['sgemm_gflops']):.1f} GFLOP/s, cache read {float(fl2['read_l2_gbs']):.2f} GB/s; "
          f"using sgemm {sg:.1f}, DRAM read {rd:.2f}, cache read {l2:.2f}")
    med = {k: median(v) * 1e6 for k, v in runs.items()}
    # C: the better of the two invocations (before and after the Python engines) per figure,
    # both printed, so a burst of load from another job does not decide the figure
    def c_fig(key: str) -> float:
        return min(float(c_out[key]), float(c_out2[key]))

    cnt = counts(d, L, n, t)
    tbl = Table()
    # Floors: FLOPs at the sgemm rate and bytes at the cache read rate (an ML-1M-size item matrix,
    # 0.9 MB, stays in cache over a request stream); both shown, the fraction is for the larger one.
    bw = rd if cnt.item_bytes > 8e6 else l2
    upd_b = cnt.update_bytes
    req = (cnt.update_flops + cnt.score_flops, cnt.update_bytes + cnt.score_bytes)
    bat_bytes = cnt.score_bytes - cnt.item_bytes + cnt.item_bytes / a.users
    fl_req, fl_upd = (req[0] / sg / 1e3, req[1] / bw / 1e3), (cnt.update_flops / sg / 1e3, upd_b / bw / 1e3)
    fl_top, fl_bat = (cnt.score_flops / sg / 1e3, cnt.score_bytes / bw / 1e3), (cnt.score_flops / sg / 1e3, bat_bytes / bw / 1e3)

    def cell(f: Tuple[float, float]) -> str:
        return f"{f[0]:.2f} / {f[1]:.2f} µs"

    def frac(f: Tuple[float, float], meas: float) -> str:
        return f"C at {f[0] / meas:.0%} of the FLOP floor, {max(f) / meas:.0%} of max(FLOP, byte)"

    r_ort = pair_ratio(runs, "request ORT", "request lsrec")
    r_raw = pair_ratio(runs, "request ORT", "request raw")
    tbl.add(f"request: update + top-10 (N={n}, d={d}, L={L})", us(c_fig("request_us")), us(med["request lsrec"]),
            us(med.get("request ORT")), us(med["request numpy"]), cell(fl_req),
            (f"ORT / ctypes = {r_ort:.2f}× (target ≥ 3×); " if r_ort else "")
            + f"numpy / ctypes = {pair_ratio(runs, 'request numpy', 'request lsrec'):.2f}×; {frac(fl_req, c_fig('request_us'))} (target ≥ 50%)")
    tbl.add("  same, raw ctypes calls (no binding wrapper)", None, us(med["request raw"]), None, None, None,
            f"binding overhead {med['request lsrec'] - med['request raw']:.1f} µs/request"
            + (f"; ORT / raw ctypes = {r_raw:.2f}×" if r_raw else ""))
    r_f = pair_ratio(runs, "request ORT", "request fused")
    tbl.add("  same, one call per request (Model.update_topk → lsrec_state_update_topk)", None, us(med["request fused"]),
            us(med.get("request ORT")), None, None,
            (f"ORT / ctypes = {r_f:.2f}× (target ≥ 3×); " if r_f else "")
            + f"two calls / one call (ctypes) = {pair_ratio(runs, 'request lsrec', 'request fused'):.2f}×")
    if "request screened" in med:
        c_req_s = min(float(c["request_us"]) for c in c_scr)
        r_s = pair_ratio(runs, "request ORT", "request screened")
        r_s_raw = pair_ratio(runs, "request ORT", "request raw screened")
        tbl.add("  same, model loaded with LSREC_MODEL_SCREEN_ITEMS (int8/binary16 screen; identical results)",
                us(c_req_s), us(med["request screened"]), us(med.get("request ORT")), None, cell(fl_req),
                (f"ORT / ctypes = {r_s:.2f}× (target ≥ 3×), raw ctypes {us(med['request raw screened'])}, "
                 f"ORT / raw = {r_s_raw:.2f}×; " if r_s else "")
                + f"plain / screened (ctypes) = {pair_ratio(runs, 'request lsrec', 'request screened'):.2f}×; "
                + f"{frac(fl_req, c_req_s)}; screen active: {c_scr[0].get('screens_items') == '1'}")
        r_sf = pair_ratio(runs, "request ORT", "request fused screened")
        tbl.add("  same, screened, one call per request (Model.update_topk)", None, us(med["request fused screened"]),
                us(med.get("request ORT")), None, None,
                (f"ORT / ctypes = {r_sf:.2f}× (target ≥ 3×); " if r_sf else "")
                + f"two calls / one call (ctypes) = {pair_ratio(runs, 'request screened', 'request fused screened'):.2f}×")
    tbl.add("state update (one event)", us(c_fig("update_us")), us(med["update lsrec"]), us(med.get("update ORT")),
            us(med["update numpy"]), cell(fl_upd),
            (f"ORT / ctypes = {pair_ratio(runs, 'update ORT', 'update lsrec'):.2f}×; " if with_ort else "")
            + f"{frac(fl_upd, c_fig('update_us'))}; target ≤ 5 µs")
    tbl.add("top-10 over all items", us(c_fig("topk_us")), us(med["topk lsrec"]), us(med.get("topk ORT")),
            us(med["topk numpy"]), cell(fl_top),
            (f"ORT / ctypes = {pair_ratio(runs, 'topk ORT', 'topk lsrec'):.2f}×; " if with_ort else "")
            + f"{frac(fl_top, c_fig('topk_us'))}; target ≤ 30 µs")
    if "topk screened" in med:
        c_top_s = min(float(c["topk_us"]) for c in c_scr)
        tbl.add("  same, screened model", us(c_top_s), us(med["topk screened"]), us(med.get("topk ORT")), None, cell(fl_top),
                (f"ORT / ctypes = {pair_ratio(runs, 'topk ORT', 'topk screened'):.2f}×; " if with_ort else "")
                + f"{frac(fl_top, c_top_s)}")
    bat_c = c_fig("batch_user_us")
    tbl.add(f"top-10 batch, {a.users} users (per user)", us(bat_c), us(med["batch lsrec"]), None,
            us(med["batch numpy"]), cell(fl_bat),
            f"numpy / ctypes = {pair_ratio(runs, 'batch numpy', 'batch lsrec'):.2f}×; {frac(fl_bat, bat_c)}; "
            f"{cnt.score_flops / bat_c / 1e3:.1f} GFLOP/s = {cnt.score_flops / bat_c / 1e3 / sg:.0%} of sgemm peak")
    sgemv = float(fl["sgemv_us"])
    tbl.add(f"  the scoring product alone: OpenBLAS sgemv [{n} x {d}], in cache", None, None, None, None, us(sgemv, 2),
            f"{2 * n * d / sgemv / 1e3:.1f} GFLOP/s; lsrec's top-10 (C) takes {c_fig('topk_us') / sgemv:.1f}× this")
    fb, rss = int(c_out["file_bytes"]), int(c_out["rss_after_load_kb"]) - int(c_out["rss_before_load_kb"])
    peak = int(c_out["peak_rss_load_kb"]) - int(c_out["rss_before_load_kb"])
    second = int(c_out.get("rss_second_model_kb", "-1"))
    tbl.add("memory: weight file / RSS growth after the first load / peak during it / a second model",
            f"{fb / 1e6:.2f} MB / {rss * 1024 / 1e6:.2f} MB / {peak * 1024 / 1e6:.2f} MB / {second * 1024 / 1e6:.2f} MB",
            None, None, None, f"{fb / 1e6:.2f} MB",
            f"RSS = {rss * 1024 / fb:.2f}× file after the first load (it includes the runtime's and OpenBLAS's one-time start-up), "
            f"{second * 1024 / fb:.2f}× for a second model (target ≤ 1.2×); peak {peak * 1024 / fb:.1f}×")
    scr_second = int(c_scr[0].get("rss_second_model_kb", "-1"))
    tbl.add("memory: a second model loaded with the screen", f"{scr_second * 1024 / 1e6:.2f} MB", None, None, None,
            f"{fb / 1e6:.2f} MB", f"{scr_second * 1024 / fb:.2f}× the file (the {screen_kind(d)} copy is {screen_bytes(n, d) / 1e6:.2f} MB)")
    tbl.add("memory: state blob / in memory per user (300 events)", f"{c_out['state_blob_bytes']} B / {float(c_out['state_mem_bytes']):.0f} B",
            None, None, None, None, "target ≤ 2.5 KB")
    tbl.add("counts: FLOPs / bytes per update", None, None, None, None, f"{cnt.update_flops / 1e3:.0f} kFLOP / {cnt.update_bytes / 1e3:.0f} kB", "")
    tbl.add("counts: FLOPs / bytes per scoring", None, None, None, None, f"{cnt.score_flops / 1e3:.0f} kFLOP / {cnt.score_bytes / 1e3:.0f} kB", "")

    for N in a.scale:
        scale_rows(tbl, N, a, sg, rd, float(fl["sgemm_b256_gflops"]))
    if a.train_data:
        train_rows(tbl, a, sg, n, d, L, t)
    tbl.add("machine: sgemm 1 thread / DRAM read / triad / cache read", None, None, None, None,
            f"{sg:.1f} GFLOP/s / {rd:.2f} GB/s / {fl['triad_gbs']} GB/s / {l2:.2f} GB/s", "measured in this run")

    md = tbl.markdown()
    head = (f"Command: `make bench-compare MODEL={os.path.relpath(a.model, ROOT)}"
            + (f" SCALE=\"{' '.join(map(str, a.scale))}\"" if a.scale else "")
            + (f" TRAIN_DATA={a.train_data}" if a.train_data else "") + (" CLOCK=cpu" if a.clock == "cpu" else "") + "`  \n"
            f"Machine: nproc {info['nproc']}, {info['cpu']}; load average at start {info['load']}; {info['date']}; "
            f"Python {info['python']}, numpy {info['numpy']}, OpenBLAS kernels {info['blas']}"
            + (f", onnxruntime {__import__('onnxruntime').__version__}" if with_ort else "") + "  \n"
            f"Floor column: FLOP floor / byte floor (FLOPs at the 1-thread sgemm rate, bytes at the "
            f"{'DRAM' if bw == rd else 'cache'} read rate, both measured in this run: each the best of 5 runs before the engines and 5 after; bench/floors.py has the counts).  \n"
            f"Clock: {'process CPU time (BENCH_CLOCK=cpu)' if a.clock == 'cpu' else 'wall'}.  \n"
            f"Stream: {a.users} users with full windows, {a.requests} requests per run, median of {a.repeats} runs after a warm-up; "
            f"C = better of two invocations (before: {c_out['request_us']} µs/request, after: {c_out2['request_us']}).  \n"
            + "Parity vs float64 numpy (max abs): "
            + "; ".join(f"{what} " + ", ".join(f"{k.split(' ', 1)[1]} {v:.1e}" for k, v in par.items() if k.startswith(what + " "))
                        for what in ("h,c", "scores", "top10")) + ".\n")
    print()
    print(head)
    print(md)
    os.makedirs(os.path.dirname(a.md) or ".", exist_ok=True)
    with open(a.md, "w") as fh:
        fh.write(head + "\n" + md + "\n")
    print(f"\nwrote {a.md}")


def scale_rows(tbl: Table, N: int, a: argparse.Namespace, sg: float, rd: float, sg_b: float) -> None:
    """A synthetic N-item, d = 64 model: single-user top-10, batch top-10 for 256 users, memory."""
    d, L, t = 64, 200, 16
    path = os.path.join(a.scale_dir, f"bench-{N}.lsrec")
    if not os.path.exists(path):
        os.makedirs(a.scale_dir, exist_ok=True)
        t0 = CLOCK()
        meta, tensors = random_model(N, d, L, t, seed=N)
        write(path, meta, tensors)
        del meta, tensors
        print(f"wrote {path} ({os.path.getsize(path) / 1e9:.2f} GB) in {CLOCK() - t0:.0f} s")
    R = max(5, min(200, int(2e8 / (N * d))))
    # lsrec_topk_batch scores the catalogue a block of items at a time (1 MB of scores for one
    # OpenBLAS thread, Model.topKBatch), so 256 users cost no more memory at 10M items than at 1M.
    # (Before the blocks it held the whole users x N matrix, and this harness batched 32 users
    # past 2 GB of it.)
    users = 256
    try:
        # Twice, each timing the better of the two (the request rows' rule for the C engine: a
        # burst of load from another tenant must not decide a figure); memory from the first run.
        c, c2 = (run_kv([os.path.join(BIN, "engine"), path, str(R), "5", str(users), "1"]) for _ in range(2))
        for key in ("topk_us", "batch_user_us"):
            c[key] = str(min(float(c[key]), float(c2[key])))
    except subprocess.CalledProcessError as e:
        tbl.add(f"scale N={N}: failed", f"engine exit {e.returncode}", None, None, None, None, (e.stderr or "")[-200:])
        return
    # The same catalogue loaded with the screen (LSREC_MODEL_SCREEN_ITEMS): one user's top-10
    # reads a quarter (int8) or half (binary16) of the bytes; same results (checksum), checked here too.
    cs = None
    try:
        os.environ["LSREC_BENCH_SCREEN"] = "1"
        cs = run_kv([os.path.join(BIN, "engine"), path, str(R), "5", "1", "1"])
    except subprocess.CalledProcessError as e:
        tbl.add(f"scale N={N}: screened run failed", f"engine exit {e.returncode}", None, None, None, None, (e.stderr or "")[-200:])
    finally:
        del os.environ["LSREC_BENCH_SCREEN"]
    cnt = counts(d, L, N, t)
    # numpy single-user top-10 at this scale (item matrix from the file, f32)
    f = read(path, mapped=True)
    X, b = f.tensors["item.embedding"], f.tensors["item.bias"]
    u = np.random.default_rng(0).standard_normal(d).astype(np.float32) * np.float32(0.1)
    runs = []
    for r in range(6):
        t0 = CLOCK()
        sc = X @ u + b
        part = np.argpartition(-sc, K - 1)[:K]
        part[np.argsort(-sc[part])]
        if r:
            runs.append(CLOCK() - t0)
    np_us = median(runs) * 1e6
    ort_us = None
    if not a.no_onnx and N * d * 4 < 1.5e9:  # a serialised ONNX model is capped at 2 GB
        # ONNX Runtime's score session (attention, gate, Gemm over X, TopK) for one user with a
        # full window, the state warmed by the numpy engine (same layout)
        from onnx_engine import OrtEngine
        ne = NumpyEngine(f, np.float32, X)
        st = ne.new_state()
        for e in range(WARM_EVENTS):
            ne.update(st, warm_item(N, 0, e), warm_time(e))
        oe = OrtEngine(f, X, K, kinds=("score",))
        runs = []
        for r in range(6):
            t0 = CLOCK()
            oe.topk(st)
            if r:
                runs.append(CLOCK() - t0)
        ort_us = median(runs) * 1e6
        del oe, ne
    del f, X, b, sc
    top_floor = cnt.score_floor_us(sg, rd)
    bat_floor = cnt.batch_floor_us(sg, rd, users)
    topk = float(c["topk_us"])
    bat = float(c["batch_user_us"])
    tbl.add(f"scale N={N:,}: top-10, one user", us(topk, 0), None, us(ort_us, 0), us(np_us, 0), us(top_floor, 0),
            f"{topk / top_floor:.2f}× the bandwidth floor (target ≤ 1.5×); numpy / C = {np_us / topk:.2f}×"
            + (f"; ORT / C = {ort_us / topk:.2f}×" if ort_us else ""))
    if cs is not None:
        ts = float(cs["topk_us"])
        half_floor = screen_bytes(N, d) / (rd * 1e3)  # reading the screen's copy once from DRAM, µs
        tbl.add(f"scale N={N:,}: top-10, one user, screened model", us(ts, 0), None, us(ort_us, 0), None, us(half_floor, 0),
                f"plain / screened = {topk / ts:.2f}×; {ts / top_floor:.2f}× the f32 bandwidth floor, "
                f"{ts / half_floor:.2f}× the {screen_kind(d)} copy's; screen active: {cs.get('screens_items') == '1'}; "
                f"RSS growth after load {(int(cs['rss_after_load_kb']) - int(cs['rss_before_load_kb'])) * 1024 / 1e9:.2f} GB")
    tbl.add(f"scale N={N:,}: top-10 batch of {users} (per user)", us(bat, 0), None, None, None, us(bat_floor, 0),
            f"{cnt.score_flops / (bat * 1e-6) / 1e9:.1f} GFLOP/s = {cnt.score_flops / (bat * 1e-6) / 1e9 / sg:.0%} of sgemm peak "
            f"(target ≥ 60%; batch-shape sgemm alone {sg_b:.1f})")
    fb, rss = int(c["file_bytes"]), int(c["rss_after_load_kb"]) - int(c["rss_before_load_kb"])
    peak = int(c["peak_rss_load_kb"]) - int(c["rss_before_load_kb"])
    tbl.add(f"scale N={N:,}: file / RSS growth after load / peak during load / load time",
            f"{fb / 1e9:.2f} GB / {rss * 1024 / 1e9:.2f} GB / {peak * 1024 / 1e9:.2f} GB / {float(c['load_s']):.1f} s",
            None, None, None, None, f"RSS = {rss * 1024 / fb:.2f}× file after load (target ≤ 1.2×), peak {peak * 1024 / fb:.1f}×")


def train_rows(tbl: Table, a: argparse.Namespace, sg: float, n: int, d: int, L: int, t: int) -> None:
    """Two epochs of `lsrec train` with --threads 1 (trainer defaults otherwise), the faster one's
    events/s and achieved GFLOP/s (FLOPs counted by floors.training_flops_per_target) against the
    sgemm rate of this run; under `perf record` (sampling, negligible overhead) when perf works,
    for a breakdown."""
    import re
    import shutil
    out = os.path.join(a.scale_dir, "bench-train.lsrec")
    os.makedirs(a.scale_dir, exist_ok=True)
    cmd = [a.cli, "train", "--data", a.train_data, "--out", out, "--epochs", "2", "--threads", "1",
           "--val-users", "100", "--no-test", "--checkpoint", out + ".ckpt"] + a.train_args.split()
    prof = out + ".perf"
    perf = shutil.which("perf")
    if perf and subprocess.run([perf, "stat", "-e", "task-clock", "true"], capture_output=True).returncode == 0:
        cmd = [perf, "record", "-F", "499", "-o", prof, "--"] + cmd
    else:
        perf = None
    import resource
    r0, w0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    r1, w1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    # The share of a core the trainer got (CPU seconds / wall seconds over the whole command);
    # with --clock cpu the rate is per CPU-second, i.e. divided by this share.
    share = ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) / max(w1 - w0, 1e-9)
    # Two epochs, the faster one counted (as the better of two C invocations elsewhere), with the
    # seconds the trainer spent in its loss/scoring part (Network.lossSeconds).
    epochs = [(float(s_), float(e_), float(l_)) for s_, e_, l_ in
              re.findall(r"training ([0-9.]+) s, ([0-9]+) events/s, loss/scoring part ([0-9.]+) s", p.stdout)]
    if p.returncode != 0 or not epochs:
        tbl.add("training: failed", None, None, None, None, None, (p.stderr or p.stdout)[-200:].replace("\n", " "))
        return
    secs, eps, loss_secs = max(epochs, key=lambda e: e[1])
    wall_eps = eps
    if a.clock == "cpu":
        eps = eps / max(share, 1e-3)
    # The trained model's own sizes (the trainer's defaults, or --train-args), not the bench model's.
    trained = read(out)
    n_items, d, L, t = (trained.int(k) for k in ("lsrec.n_items", "lsrec.dim", "lsrec.history", "lsrec.time_dim"))
    fl = training_flops_per_target(d, L, n_items, t, 32)
    gf = eps * fl["total"] / 1e9
    # The loss/scoring part alone: its FLOPs over the epoch's targets in the seconds it took.
    lgf = fl["loss"] * wall_eps * secs / max(loss_secs, 1e-9) / 1e9 / (max(share, 1e-3) if a.clock == "cpu" else 1)
    label = (f"{eps:,.0f} events/CPU-s ({wall_eps:,.0f}/s wall, {share:.0%} of a core, {secs:.0f} s)" if a.clock == "cpu"
             else f"{eps:,.0f} events/s ({secs:.0f} s; {share:.0%} of a core)")
    tbl.add(f"training: ML-1M, the faster of 2 epochs, --threads 1 (N={n_items}, d={d})", label, None, None, None,
            f"{sg / fl['total'] * 1e9:,.0f} events/s",
            f"the loss/scoring part {lgf:.1f} GFLOP/s = {lgf / sg:.0%} of sgemm peak (target ≥ 40%; {loss_secs:.0f} s of "
            f"the epoch's {secs:.0f}, {fl['loss'] / fl['total']:.0%} of its {fl['total'] / 1e6:.2f} MFLOP/target); "
            f"all of training {gf:.1f} GFLOP/s = {gf / sg:.0%}")
    if perf:
        rep = subprocess.run([perf, "report", "-i", prof, "--stdio", "--no-children", "--sort", "dso,sym", "-g", "none",
                              "--percent-limit", "0"], capture_output=True, text=True).stdout
        groups = {"OpenBLAS sgemm": 0.0, "softmax exp": 0.0, "loss (other)": 0.0, "LSTM": 0.0, "attention": 0.0,
                  "Adam": 0.0, "elementwise, copies, dropout": 0.0, "trainEpoch (inlined batching)": 0.0, "data loading": 0.0, "validation/export": 0.0, "other": 0.0}
        for line in rep.splitlines():
            mm = re.match(r"\s*([0-9.]+)%\s+(\S+)\s+\[.\]\s+(\S+)", line)
            if not mm:
                continue
            pct, dso, sym = float(mm.group(1)), mm.group(2), mm.group(3)
            key = ("OpenBLAS sgemm" if "openblas" in dso else "softmax exp" if "fastExp" in sym
                   else "loss (other)" if "loss" in sym.lower() else "LSTM" if "lstm" in sym.lower()
                   else "attention" if "attention" in sym.lower() else "Adam" if "Adam" in sym
                   else "elementwise, copies, dropout" if any(w in sym for w in ("Tanh", "Sigmoid", "expm1", "memmove", "memset", "Dropout", "fusion", "pointwise"))
                   else "trainEpoch (inlined batching)" if "trainEpoch" in sym
                   else "data loading" if any(w in sym for w in ("Delimited", "loadMovie", "EventTable", "merge", "Sort", "parse"))
                   else "validation/export" if any(w in sym for w in ("CRC32C", "Ranker", "evaluate", "LSRecCore")) else "other")
            groups[key] += pct
        tbl.add("training: where the time goes (perf samples)", None, None, None, None, None,
                "; ".join(f"{k} {v:.0f}%" for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v >= 0.5))
    for p_ in (out, out + ".ckpt", prof):
        if os.path.exists(p_):
            os.remove(p_)


if __name__ == "__main__":
    main()
