#!/usr/bin/env python3
"""Speed of lsrec's MiniLM encoder (the C API through the Python bindings) next to the numpy
reference of bindings/python/tests/minilm_reference.py, on ML-1M movie titles, one core.

    make encoder lib-static
    python3 bench/encoder_bench.py                       # 256 titles, 5 timed runs
    python3 bench/encoder_bench.py --titles all --runs 5 --encoder build/encoder/minilm.lsrec

The text of a movie is the one `lsrec train` embeds (Sources/LSRecTrain/Data/ItemText.swift):
``"{title} {genres}"`` from movies.dat decoded as latin-1, genres as in the file
("Toy Story (1995) Animation|Children's|Comedy"). Titles are taken evenly spaced through the file.

One core: OPENBLAS_NUM_THREADS=1 (and OMP/TOKENIZERS_PARALLELISM off) are set before numpy or
liblsrec load, and the process is pinned to one CPU. Every row is end to end, text -> unit
vector: lsrec tokenizes in Swift, the reference with the `tokenizers` package. Each row: one
warm-up pass over the titles, then --runs timed passes; titles/s is from the median pass, by wall
clock and by this process's CPU time (the steadier figure on a shared machine). All rows run in
the same process on the same titles, so the ratios are comparable even on a busy machine.
Timing only: correctness is tests/test_encoder.py's job.
"""

from __future__ import annotations

import os

# Before numpy (and its OpenBLAS) or liblsrec (and the system OpenBLAS) are loaded.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable, List, Optional, Sequence, Tuple  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bindings" / "python"))
sys.path.insert(0, str(REPO / "bindings" / "python" / "tests"))

import numpy as np  # noqa: E402

import lsrec  # noqa: E402
from minilm_reference import MiniLMReference, default_model_dir  # noqa: E402


def movie_texts(path: Path) -> List[str]:
    """``"{title} {genres}"`` for every line of movies.dat (latin-1, ``id::title::genres``)."""
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line:
                continue
            _, title, genres = line.split("::")
            out.append(f"{title} {genres}" if genres else title)
    return out


def pin_one_cpu() -> Optional[int]:
    """Pins this process to one of the CPUs it may use; returns that CPU (None if unsupported)."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return cpu
    except (AttributeError, OSError):
        return None


def batched(fn: Callable[[Sequence[str]], object], texts: Sequence[str], size: int) -> Callable[[], None]:
    def run() -> None:
        for i in range(0, len(texts), size):
            fn(texts[i : i + size])

    return run


def one_by_one(fn: Callable[[str], object], texts: Sequence[str]) -> Callable[[], None]:
    def run() -> None:
        for t in texts:
            fn(t)

    return run


def time_runs(run: Callable[[], None], runs: int) -> Tuple[float, float]:
    """Median wall and median CPU seconds of `runs` passes after one warm-up pass. On a shared
    machine the CPU time (this process, pinned to one CPU, single-threaded) is the steadier one."""
    run()
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", default=os.environ.get("LSREC_ENCODER", str(REPO / "build/encoder/minilm.lsrec")))
    ap.add_argument("--encoder-f16", default=None, help="default: minilm-f16.lsrec beside --encoder (row skipped if absent)")
    ap.add_argument("--model-dir", default=None, help="MiniLM folder (default: $LSREC_MINILM_DIR or the pip package)")
    ap.add_argument("--movies", default="/work/shared/data/ml-1m/movies.dat")
    ap.add_argument("--titles", default="256", help="how many titles (evenly spaced), or 'all'")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-numpy-batch1", action="store_true", help="leave out the slowest row")
    args = ap.parse_args()

    cpu = pin_one_cpu()
    texts_all = movie_texts(Path(args.movies))
    n = len(texts_all) if args.titles == "all" else min(int(args.titles), len(texts_all))
    idx = np.linspace(0, len(texts_all) - 1, n).round().astype(int)
    texts = [texts_all[i] for i in idx]

    model_dir = Path(args.model_dir) if args.model_dir else default_model_dir()
    ref64 = MiniLMReference(model_dir, dtype=np.float64)
    ref32 = MiniLMReference(model_dir, dtype=np.float32)
    enc = lsrec.Encoder(args.encoder)
    f16_path = Path(args.encoder_f16) if args.encoder_f16 else Path(args.encoder).with_name("minilm-f16.lsrec")
    enc16 = lsrec.Encoder(f16_path) if f16_path.is_file() else None

    n_tokens = [len(ref64.token_ids(t)) for t in texts]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{n} ML-1M titles ('title genres'), tokens/title mean {np.mean(n_tokens):.1f} max {max(n_tokens)}; "
          f"one core (cpu {cpu}, OPENBLAS_NUM_THREADS=1); median of {args.runs} runs after a warm-up; "
          f"load average {load:.1f}")
    print(f"library {lsrec.library_path()}; encoder {args.encoder}")

    rows = [
        ("lsrec f32, batch 1 (encode)", one_by_one(enc.encode, texts)),
        ("lsrec f32, batch 32 (encode_batch)", batched(enc.encode_batch, texts, 32)),
    ]
    if enc16 is not None:
        rows.append(("lsrec f16 file, batch 32", batched(enc16.encode_batch, texts, 32)))
    rows += [
        ("numpy reference float32, batch 32", batched(ref32.encode_batch, texts, 32)),
        ("numpy reference float64, batch 32", batched(ref64.encode_batch, texts, 32)),
    ]
    if not args.skip_numpy_batch1:
        rows.append(("numpy reference float32, batch 1", one_by_one(ref32.encode, texts)))

    results = []
    for name, run in rows:
        wall, cpu_s = time_runs(run, args.runs)
        results.append((name, n / wall, n / cpu_s))
        print(f"  measured {name}: {n / wall:.1f} titles/s wall, {n / cpu_s:.1f} per CPU second", file=sys.stderr, flush=True)

    base = {name: (w, c) for name, w, c in results}["numpy reference float32, batch 32"]
    print()
    print("| encoder | titles/s (wall) | titles/s (CPU time) | ms/title (CPU) | vs numpy f32 batch 32 (wall / CPU) |")
    print("|---|---:|---:|---:|---:|")
    for name, w, c in results:
        print(f"| {name} | {w:.1f} | {c:.1f} | {1000.0 / c:.2f} | {w / base[0]:.2f}x / {c / base[1]:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
