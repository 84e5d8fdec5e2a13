"""lsrec.Catalog: items added after training, removal, thread safety (lsrec_catalog_*)."""

from __future__ import annotations

import copy
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List, Set

import numpy as np
import pytest

import lsrec
from lsrec import Catalog

from conftest import FIXTURES

TEXT_DIM = 8


def text(seed: int) -> np.ndarray:
    return np.sin(np.arange(TEXT_DIM) * 1.37 + seed * 31 * 1.37 + 0.2).astype(np.float32)


@pytest.fixture(scope="module")
def tiny() -> Iterator[lsrec.Model]:
    """The fixture model with text embeddings (text_dim 8; the golden model has none)."""
    with lsrec.Model.load(FIXTURES / "tiny-random.lsrec") as m:
        yield m


@pytest.fixture()
def user(tiny: lsrec.Model) -> lsrec.State:
    s = tiny.new_state()
    ids = tiny.item_ids
    s.update_many(ids[[3, 50, 77, 120, 3, 250]], 1_700_000_000 + 60 * np.arange(6))
    return s


def brute_force(cat: Catalog, model: lsrec.Model, state: lsrec.State) -> dict:
    """Every catalogue item's score u . e + b in float64, from the catalogue's item vectors."""
    u = model.user_vector(state).astype(np.float64)
    out = {}
    for item in cat.item_ids.tolist():
        e, b = cat.item_vector(item)
        out[item] = float(u @ e.astype(np.float64) + b)
    return out


def test_topk_over_model_and_added_items_matches_brute_force(tiny: lsrec.Model, user: lsrec.State) -> None:
    cat = Catalog(tiny)
    assert len(cat) == tiny.n_items and cat.text_dim == TEXT_DIM
    for a in range(15):
        cat.add_item(900 + a, text(a))
    removed = [int(tiny.item_ids[i]) for i in (0, 10, 20)] + [905]
    for item in removed:
        cat.remove_item(item)
    assert len(cat) == tiny.n_items + 15 - 4
    ref = brute_force(cat, tiny, user)
    ids, scores = cat.topk(user, len(cat) + 3, exclude_seen=False)
    assert len(ids) == len(cat)  # no padding returned
    assert set(ids.tolist()) == set(cat.item_ids.tolist())
    assert not set(removed) & set(ids.tolist())
    assert np.all(np.diff(scores) <= 0)
    want = np.array([ref[i] for i in ids.tolist()])
    np.testing.assert_allclose(scores, want, rtol=0, atol=1e-4)
    # ranks agree with the float64 ranking up to near-ties
    np.testing.assert_allclose(np.sort(want)[::-1], want, rtol=0, atol=1e-4)
    # score_items == u . e + b for an added and a model item
    got = cat.score_items(user, [903, int(tiny.item_ids[5])])
    np.testing.assert_allclose(got, [ref[903], ref[int(tiny.item_ids[5])]], rtol=0, atol=1e-4)
    assert got[1] == tiny.score_items(user, [int(tiny.item_ids[5])])[0]


def test_exclusions_and_explain(tiny: lsrec.Model, user: lsrec.State) -> None:
    cat = Catalog(tiny)
    cat.add_item(-5, text(1))
    ids, _ = cat.topk(user, 5)
    ids2, _ = cat.topk(user, 3, exclude=ids[:2])
    assert ids2.tolist() == ids[2:5].tolist()
    seen = {int(tiny.item_ids[i]) for i in (3, 50, 77, 120, 250)}
    all_unseen, _ = cat.topk(user, len(cat))
    assert set(all_unseen.tolist()) == set(cat.item_ids.tolist()) - seen
    # explaining a model item through the catalogue == Model.explain
    m_item = int(tiny.item_ids[9])
    for a, b in zip(cat.explain(user, m_item, 4), tiny.explain(user, m_item, 4)):
        assert a.tolist() == b.tolist()
    hist, weights = cat.explain(user, -5, 10)
    assert 0 < len(hist) <= 5 and set(hist.tolist()) <= seen
    assert np.all(np.diff(weights) <= 0)


def test_errors(tiny: lsrec.Model, user: lsrec.State) -> None:
    cat = Catalog(tiny)
    model_item = int(tiny.item_ids[1])
    with pytest.raises(lsrec.InvalidArgumentError, match="text_dim"):
        cat.add_item(1, np.zeros(TEXT_DIM + 1))
    with pytest.raises(lsrec.InvalidArgumentError):
        cat.add_item(1, [])
    with pytest.raises(lsrec.NonFiniteError):
        cat.add_item(1, np.full(TEXT_DIM, np.nan))
    with pytest.raises(lsrec.InvalidArgumentError, match="already"):
        cat.add_item(model_item, text(0))
    cat.add_item(1, text(0))
    with pytest.raises(lsrec.InvalidArgumentError, match="already"):
        cat.add_item(1, text(1))
    with pytest.raises(TypeError):
        cat.add_item(True, text(1))
    cat.remove_item(model_item)
    assert model_item not in cat and 1 in cat
    with pytest.raises(lsrec.InvalidArgumentError, match="restore"):
        cat.add_item(model_item, text(0))
    with pytest.raises(lsrec.UnknownItemError):
        cat.remove_item(model_item)
    with pytest.raises(lsrec.UnknownItemError):
        cat.score_items(user, [model_item])
    with pytest.raises(lsrec.UnknownItemError):
        cat.explain(user, 2)
    cat.restore_item(model_item)
    assert model_item in cat
    with pytest.raises(lsrec.InvalidArgumentError):
        cat.restore_item(model_item)
    with pytest.raises(lsrec.InvalidArgumentError):
        cat.topk(user, 0)
    # events: unknown ids are refused and the state is unchanged (added items: below)
    n = user.n_events
    with pytest.raises(lsrec.UnknownItemError, match="not in the catalogue"):
        cat.update(user, 424242, 1_800_000_000)
    assert user.n_events == n
    cat.update(user, model_item, 1_800_000_000)
    assert user.n_events == n + 1
    for dup in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match="cannot be copied"):
            dup(cat)
    cat.close()
    with pytest.raises(lsrec.InvalidArgumentError, match="closed"):
        len(cat)


def test_events_on_added_items(tiny: lsrec.Model, user: lsrec.State) -> None:
    """An event on an added item goes into the state with the item's vector (state blob v2)."""
    cat = Catalog(tiny)
    added, other = 5_000_000, 5_000_001
    cat.add_item(added, text(3))
    cat.add_item(other, text(4))
    plain = user.clone()
    assert user.to_bytes()[4] == 1  # model items only: blob version 1
    u_before = tiny.user_vector(user)
    cat.update(user, added, 1_800_000_000)
    assert user.n_events == plain.n_events + 1
    blob = user.to_bytes()
    assert blob[4] == 2 and len(blob) >= len(plain.to_bytes()) + 4 + 8 + 4 * tiny.dim
    assert not np.array_equal(tiny.user_vector(user), u_before)

    # catalogue scores are still u . e + b for the new user vector, the added items included
    ref = brute_force(cat, tiny, user)
    ids, scores = cat.topk(user, len(cat), exclude_seen=False)
    assert added in ids.tolist()
    np.testing.assert_allclose(scores, [ref[i] for i in ids.tolist()], rtol=1e-5, atol=1e-5)
    # seen items are excluded, the held added item included; the other added item stays
    unseen, _ = cat.topk(user, len(cat))
    assert added not in unseen.tolist() and other in unseen.tolist()
    # explanations name the added item by its id, through the catalogue and the bare model
    target = int(tiny.item_ids[17])
    assert added in cat.explain(user, target, k=10)[0].tolist()
    assert added in tiny.explain(user, target, k=10)[0].tolist()

    # the bare model refuses the id but works on the state
    with pytest.raises(lsrec.UnknownItemError):
        user.update(added, 1_800_000_100)
    model_top, _ = tiny.topk(user, 10)
    assert len(model_top) == 10 and added not in model_top.tolist()

    # blob round trip: same bytes, same scores
    back = tiny.load_state(blob)
    assert back.to_bytes() == blob
    np.testing.assert_array_equal(cat.score_items(back, [added, other]), cat.score_items(user, [added, other]))

    # removing the item later: the state keeps its copy; new events on it are refused
    cat.remove_item(added)
    assert user.to_bytes() == blob
    assert added in cat.explain(user, target, k=10)[0].tolist()
    with pytest.raises(lsrec.UnknownItemError, match="not in the catalogue"):
        cat.update(user, added, 1_800_000_200)
    assert user.to_bytes() == blob
    moved, skipped = tiny.rebase(user)  # the model does not know the id: skipped
    assert skipped == 1 and moved.n_events == user.n_events - 1


def test_model_without_text_and_other_model(tiny: lsrec.Model, model: lsrec.Model) -> None:
    cat = Catalog(model)  # the golden model has lsrec.text_dim = 0
    assert cat.text_dim == 0
    with pytest.raises(lsrec.InvalidArgumentError, match="no text projection"):
        cat.add_item(1, text(0))
    with pytest.raises(lsrec.ModelMismatchError):
        cat.topk(tiny.new_state(), 3)


def test_readers_and_writers_share_one_catalog(tiny: lsrec.Model) -> None:
    cat = Catalog(tiny)
    model_ids: Set[int] = set(tiny.item_ids.tolist())
    added: List[int] = []  # appended before each add: anything returned must be in here
    lock = threading.Lock()
    done = threading.Event()

    def writer(w: int) -> int:
        for r in range(150):
            item = 10_000_000 * (w + 1) + r
            with lock:
                added.append(item)
            cat.add_item(item, text(w * 1000 + r))
            if r % 3 == 0:
                cat.remove_item(item)
        return 0

    def reader(t: int) -> int:
        s = tiny.new_state()
        s.update(int(tiny.item_ids[t]), 1_700_000_000)
        bad = 0
        while not done.is_set():
            ids, scores = cat.topk(s, 20)
            with lock:
                known = model_ids | set(added)
            bad += sum(i not in known for i in ids.tolist()) + int(np.any(np.diff(scores) > 0))
        return bad

    with ThreadPoolExecutor(6) as pool:
        readers = [pool.submit(reader, t) for t in range(4)]
        writers = [pool.submit(writer, w) for w in range(2)]
        for f in writers:
            f.result()
        done.set()
        assert sum(f.result() for f in readers) == 0
    assert len(cat) == tiny.n_items + 2 * 100
