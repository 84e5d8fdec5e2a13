"""One Model shared by 4 threads (the GIL is released in every call); per-thread errors."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import numpy as np

import lsrec

N_THREADS = 4


def test_four_threads_share_one_model(model: lsrec.Model, golden: Dict[str, Any]) -> None:
    items, times = golden["events"]["items"], golden["events"]["times"]
    k = golden["k"]
    barrier = threading.Barrier(N_THREADS)

    def worker(t: int) -> List[Any]:
        barrier.wait()  # start together
        results = []
        for round_ in range(25):
            s = model.new_state()
            if (t + round_) % 2:
                s.update_many(items, times)
            else:
                for item, ts in zip(items, times):
                    s.update(item, ts)
            for case in golden["topk"]:
                ids, scores = model.topk(s, k, exclude_seen=case["exclude_seen"], now=case["now"])
                results.append((ids.tolist() == case["ids"],
                                bool(np.allclose(scores, case["scores"], rtol=0, atol=golden["tolerance"]))))
            batch_ids, _ = model.topk_batch([s, s.clone()], k, now=golden["topk"][0]["now"])
            results.append((batch_ids[1].tolist() == golden["topk"][0]["ids"], True))
        return results

    with ThreadPoolExecutor(N_THREADS) as pool:
        per_thread = list(pool.map(worker, range(N_THREADS)))
    assert all(ok for results in per_thread for pair in results for ok in pair)
    assert sum(len(r) for r in per_thread) == N_THREADS * 25 * (len(golden["topk"]) + 1)


def test_each_thread_sees_its_own_error_message(model: lsrec.Model) -> None:
    barrier = threading.Barrier(N_THREADS)

    def worker(t: int) -> List[str]:
        s = model.new_state()
        messages = []
        for _ in range(50):
            barrier.wait()
            try:
                s.update(770_000_000 + t, 1)
            except lsrec.UnknownItemError as e:
                messages.append(e.message)
        return messages

    with ThreadPoolExecutor(N_THREADS) as pool:
        per_thread = list(pool.map(worker, range(N_THREADS)))
    for t, messages in enumerate(per_thread):
        assert len(messages) == 50
        assert all(str(770_000_000 + t) in m for m in messages), messages[:3]


def test_one_state_from_many_threads_is_serialised(model: lsrec.Model) -> None:
    # A State is not thread-safe in C; the binding locks it, so concurrent updates neither
    # corrupt it nor get lost (the order between threads is unspecified: unknown times).
    s = model.new_state()
    ids = model.item_ids

    def worker(t: int) -> None:
        for i in range(100):
            s.update(int(ids[(t * 100 + i) % len(ids)]))
            model.topk(s, 5)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(N_THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert s.n_events == N_THREADS * 100
    assert model.load_state(bytes(s)).n_events == N_THREADS * 100
