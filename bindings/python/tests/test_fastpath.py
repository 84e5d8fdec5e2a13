"""The fast paths of the per-request calls (State.update, Model.topk, Catalog.topk/update): every
argument is still checked, errors keep their types and messages, results own their memory."""

from __future__ import annotations

import datetime as dt
import enum
import threading
from typing import Iterator

import numpy as np
import pytest

import lsrec
from lsrec import Catalog

from conftest import FIXTURES

T0 = 1_700_000_000


@pytest.fixture()
def tiny() -> Iterator[lsrec.Model]:
    with lsrec.Model.load(FIXTURES / "tiny-random.lsrec") as m:
        yield m


@pytest.fixture()
def user(tiny: lsrec.Model) -> lsrec.State:
    s = tiny.new_state()
    s.update_many(tiny.item_ids[:12], T0 + 60 * np.arange(12))
    return s


class Item(enum.IntEnum):
    FIRST = 1000


# ---- State.update ---------------------------------------------------------------------------------

def test_update_accepts_every_documented_type(tiny: lsrec.Model) -> None:
    s = tiny.new_state()
    s.update(1000, T0)
    s.update(np.int64(1007), np.int64(T0 + 1))
    s.update(np.int32(1014), np.datetime64(T0 + 2, "s"))
    s.update(np.uint16(1021), dt.datetime.fromtimestamp(T0 + 3, dt.timezone.utc))
    s.update(Item.FIRST, None)  # an int subclass; unknown time
    s.update(1000, np.datetime64("NaT"))
    assert s.n_events == 6
    ref = tiny.new_state()
    ref.update_many([1000, 1007, 1014, 1021, 1000, 1000], [T0, T0 + 1, T0 + 2, T0 + 3, -1, -1])
    assert bytes(s) == bytes(ref)


@pytest.mark.parametrize("item", [True, 1000.0, "1000", None, np.float64(1000), np.array([1000])])
def test_update_rejects_non_int_items(tiny: lsrec.Model, item: object) -> None:
    s = tiny.new_state()
    with pytest.raises(TypeError, match="item id must be an int"):
        s.update(item)  # type: ignore[arg-type]
    assert s.n_events == 0


@pytest.mark.parametrize("ts", [True, 1.5, "1700000000", np.float32(1.0)])
def test_update_rejects_non_time_ts(tiny: lsrec.Model, ts: object) -> None:
    s = tiny.new_state()
    with pytest.raises(TypeError, match="time must be"):
        s.update(1000, ts)  # type: ignore[arg-type]
    assert s.n_events == 0


def test_update_library_errors_keep_type_and_message(tiny: lsrec.Model) -> None:
    s = tiny.new_state()
    with pytest.raises(lsrec.UnknownItemError) as e:
        s.update(5, T0)
    assert e.value.code == 6 and e.value.message == "lsrec_state_update: item id 5 is not in the model"
    with pytest.raises(lsrec.InvalidArgumentError, match="negative"):
        s.update(1000, -5)
    s.update(1000, T0)
    with pytest.raises(lsrec.OutOfOrderError) as e2:
        s.update(1007, T0 - 1)
    assert e2.value.message.startswith("lsrec_state_update")
    assert s.n_events == 1


@pytest.mark.parametrize("item,ts", [
    (2**64 + 1000, T0), (2**70, T0), (-(2**63) - 1, T0), (np.uint64(2**64 - 1), T0),
    (1000, 2**64 + T0), (1000, 2**63), (1000, np.uint64(2**64 - 1)),
])
def test_update_beyond_int64_is_refused_not_wrapped(tiny: lsrec.Model, item: int, ts: int) -> None:
    # ctypes would pass these modulo 2**64 (2**64 + 1000 as item 1000, 2**64 - 1 as -1 = unknown).
    s = tiny.new_state()
    with pytest.raises(OverflowError, match="does not fit in int64"):
        s.update(item, ts)
    assert s.n_events == 0
    cat = Catalog(tiny)
    with pytest.raises(OverflowError, match="does not fit in int64"):
        cat.update(s, item, ts)
    assert s.n_events == 0
    assert 2**64 + 1000 not in cat and 1000 in cat


def test_update_on_closed_objects(model_path) -> None:
    m = lsrec.Model.load(model_path)
    s, s2 = m.new_state(), m.new_state()
    s2.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="state is closed"):
        s2.update(1000, 1)
    m.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="model is closed"):
        s.update(1000, 1)
    with pytest.raises(lsrec.InvalidArgumentError, match="model is closed"):  # the model is checked first
        s2.update(1000, 1)
    with pytest.raises(lsrec.InvalidArgumentError, match="model is closed"):  # before the time
        s.update(1000, "not a time")  # type: ignore[arg-type]


# ---- Model.topk -----------------------------------------------------------------------------------

def test_topk_results_are_fresh_owned_arrays(tiny: lsrec.Model, user: lsrec.State) -> None:
    ids, scores = tiny.topk(user, 10, exclude_seen=False)
    assert ids.dtype == np.int64 and scores.dtype == np.float32
    assert ids.shape == scores.shape == (10,)
    assert ids.flags.c_contiguous and scores.flags.c_contiguous and ids.flags.writeable
    full = tiny.score(user)
    order = np.argsort(-full, kind="stable")[:10]
    assert ids.tolist() == tiny.item_ids[order].tolist()
    assert np.array_equal(scores, full[order])
    kept = ids.copy(), scores.copy()
    user.update(int(ids[0]), T0 + 10_000)  # the next request must not write into these arrays
    ids2, _ = tiny.topk(user, 10, exclude_seen=True)
    assert ids2[0] != ids[0]
    assert np.array_equal(ids, kept[0]) and np.array_equal(scores, kept[1])
    ids[:] = -7  # writable, and the binding does not reuse them
    assert tiny.topk(user, 10, exclude_seen=False)[0].min() >= 0
    user.close()
    tiny.close()
    assert np.array_equal(scores, kept[1])  # they outlive the state and the model


@pytest.mark.parametrize("k", [1, 5, np.int64(7), np.uint8(3)])
def test_topk_int_like_k(tiny: lsrec.Model, user: lsrec.State, k: int) -> None:
    ids, scores = tiny.topk(user, k)
    assert len(ids) == len(scores) == int(k)


@pytest.mark.parametrize("k", [10**6, 2**64 + 1])
def test_topk_k_beyond_the_catalogue(tiny: lsrec.Model, user: lsrec.State, k: int) -> None:
    # At most N results whatever k is (no huge buffers are allocated for a huge k).
    ids, scores = tiny.topk(user, k, exclude_seen=False)
    assert len(ids) == len(scores) == tiny.n_items == len(set(ids.tolist()))
    assert len(tiny.topk(user, k)[0]) == tiny.n_items - 12  # the 12 held events left out


@pytest.mark.parametrize("k,error", [
    (0, lsrec.InvalidArgumentError), (-3, lsrec.InvalidArgumentError), (np.int64(0), lsrec.InvalidArgumentError),
    (True, TypeError), (2.0, TypeError), ("3", TypeError), (None, TypeError),
])
def test_topk_bad_k(tiny: lsrec.Model, user: lsrec.State, k: object, error: type) -> None:
    with pytest.raises(error):
        tiny.topk(user, k)  # type: ignore[arg-type]


def test_topk_now(tiny: lsrec.Model, user: lsrec.State) -> None:
    later = T0 + 86_400 * 30
    ref = tiny.topk(user, 5, now=later)
    for now in (np.int64(later), np.datetime64(later, "s"), dt.datetime.fromtimestamp(later, dt.timezone.utc)):
        ids, scores = tiny.topk(user, 5, now=now)
        assert np.array_equal(ids, ref[0]) and np.array_equal(scores, ref[1])
    assert np.array_equal(tiny.topk(user, 5, now=None)[0], tiny.topk(user, 5, now=-1)[0])
    with pytest.raises(lsrec.InvalidArgumentError, match="now"):
        tiny.topk(user, 5, now=-7)
    for bad in (1.5, True, "x"):
        with pytest.raises(TypeError):
            tiny.topk(user, 5, now=bad)  # type: ignore[arg-type]
    for huge in (2**64 - 1, 2**64 + later, np.uint64(2**64 - 1)):  # not wrapped to -1 / later
        with pytest.raises(OverflowError):
            tiny.topk(user, 5, now=huge)
        with pytest.raises(OverflowError):
            Catalog(tiny).topk(user, 5, now=huge)
    with pytest.raises(lsrec.InvalidArgumentError):
        tiny.topk(user, 5, now=dt.datetime(2023, 1, 1))  # naive


def test_topk_exclude_forms(tiny: lsrec.Model, user: lsrec.State) -> None:
    best = tiny.topk(user, 6, exclude_seen=False)[0]
    drop = best[:4].copy()
    want = best[4:].tolist()
    for ex in (drop.tolist(), drop, drop.astype(np.int32), drop.astype(np.uint64), np.repeat(drop, 2)[::2],
               drop.reshape(2, 2), tuple(drop.tolist()) + (123456789,)):
        assert tiny.topk(user, 2, exclude_seen=False, exclude=ex)[0].tolist() == want
    assert tiny.topk(user, 6, exclude_seen=False, exclude=[])[0].tolist() == best.tolist()
    assert tiny.topk(user, 6, exclude_seen=False, exclude=np.array([], dtype=np.float64))[0].tolist() == best.tolist()
    with pytest.raises(TypeError, match="item ids must be integers"):
        tiny.topk(user, 2, exclude=drop.astype(np.float64))
    with pytest.raises(TypeError):
        tiny.topk(user, 2, exclude=["a"])


def test_topk_bad_states(model_path, tiny: lsrec.Model, user: lsrec.State) -> None:
    for bad in (None, tiny, 3, Catalog(tiny)):
        with pytest.raises(TypeError, match="expected a State"):
            tiny.topk(bad, 3)  # type: ignore[arg-type]
    # k is checked before the state, the state before the model, the model before now.
    with pytest.raises(lsrec.InvalidArgumentError, match="k = 0"):
        tiny.topk(None, 0)  # type: ignore[arg-type]
    m = lsrec.Model.load(model_path)
    s, s2 = m.new_state(), m.new_state()
    s2.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="state is closed"):
        m.topk(s2, 3)
    m.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="state is closed"):
        m.topk(s2, 3)
    with pytest.raises(lsrec.InvalidArgumentError, match="model is closed"):
        m.topk(s, 3, now="not a time")  # type: ignore[arg-type]


def test_topk_state_of_another_model(model_path, tiny: lsrec.Model, user: lsrec.State) -> None:
    with lsrec.Model.load(model_path) as other:
        with pytest.raises(lsrec.ModelMismatchError) as e:
            other.topk(user, 3)
        assert e.value.message.startswith("lsrec_topk")


def test_result_lengths_on_one_state_from_many_threads(tiny: lsrec.Model, user: lsrec.State) -> None:
    # The result count comes back through a per-state buffer that only the lock holder touches:
    # concurrent requests with different k on one state each get their own length.
    errors = []
    barrier = threading.Barrier(4)

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(300):
            k = 1 + (t * 7 + i) % 40
            ids, scores = tiny.topk(user, k, exclude_seen=False)
            if len(ids) != k or len(scores) != k:
                errors.append((k, len(ids)))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


# ---- Catalog.topk / Catalog.update ----------------------------------------------------------------

def test_catalog_fast_paths(tiny: lsrec.Model, user: lsrec.State) -> None:
    cat = Catalog(tiny)
    cat.add_item(900, np.linspace(-1, 1, cat.text_dim, dtype=np.float32))
    ids, scores = cat.topk(user, 400, exclude_seen=False)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and len(ids) == tiny.n_items + 1
    ref = tiny.topk(user, 10, exclude_seen=False, exclude=[900])
    got = cat.topk(user, np.int64(10), exclude_seen=False, exclude=np.array([900], dtype=np.int32))
    assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])
    for k, error in ((0, lsrec.InvalidArgumentError), (True, TypeError), (1.0, TypeError)):
        with pytest.raises(error):
            cat.topk(user, k)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a State"):
        cat.topk(tiny, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a State"):
        cat.update(None, 1000)  # type: ignore[arg-type]
    n = user.n_events
    cat.update(user, np.int64(1000), T0 + 10_000)
    cat.update(user, 1007)
    with pytest.raises(lsrec.UnknownItemError, match="lsrec_catalog_state_update"):
        cat.update(user, 424242, T0 + 20_000)  # not in the catalogue
    cat.update(user, np.int64(900), T0 + 20_000)  # an added item (the state keeps its vector)
    with pytest.raises(TypeError, match="item id must be an int"):
        cat.update(user, True)
    with pytest.raises(TypeError, match="time must be"):
        cat.update(user, 1000, 2.5)
    with pytest.raises(lsrec.OutOfOrderError):
        cat.update(user, 1000, T0)
    assert user.n_events == n + 3
    closed = tiny.new_state()
    closed.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="state is closed"):
        cat.topk(closed, 3)
    with pytest.raises(lsrec.InvalidArgumentError, match="state is closed"):
        cat.update(closed, 1000)
    cat.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="catalog is closed"):
        cat.topk(user, 3)
    with pytest.raises(lsrec.InvalidArgumentError, match="catalog is closed"):
        cat.update(user, 1000)
    assert np.array_equal(got[0], ref[0])  # results outlive the catalogue


@pytest.mark.parametrize("items,ts", [
    (np.array([1000, 2**63 + 1000], dtype=np.uint64), None),
    ([1000, 2**64 + 1000], None),
    ([1000, 1007], np.array([T0, 2**64 - 1], dtype=np.uint64)),
    ([1000, 1007], [T0, 2**70]),
])
def test_arrays_beyond_int64_are_refused_not_wrapped(tiny: lsrec.Model, items: object, ts: object) -> None:
    # numpy's uint64 -> int64 cast wraps (2**63 + 1000 would become a negative id, 2**64 - 1 the
    # unknown time -1): every array argument is range-checked like a scalar one.
    s = tiny.new_state()
    with pytest.raises(OverflowError, match="does not fit in int64"):
        s.update_many(items, ts)
    assert s.n_events == 0
    if ts is None:
        with pytest.raises(OverflowError, match="does not fit in int64"):
            tiny.score_items(s, items)
        with pytest.raises(OverflowError, match="does not fit in int64"):
            tiny.topk(s, 5, exclude=items)
        cat = Catalog(tiny)
        with pytest.raises(OverflowError, match="does not fit in int64"):
            cat.topk(s, 5, exclude=items)
