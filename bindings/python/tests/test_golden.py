"""The golden case (Tests/Fixtures/golden.json): the same numbers as the Swift core and C."""

from __future__ import annotations

import pickle
from typing import Any, Dict

import numpy as np
import pytest

import lsrec


def check_against_golden(model: lsrec.Model, state: lsrec.State, golden: Dict[str, Any]) -> None:
    tol = golden["tolerance"]
    assert tol == 1e-5
    assert state.n_events == golden["n_events"]
    k = golden["k"]
    for case in golden["topk"]:
        ids, scores = model.topk(state, k, exclude_seen=case["exclude_seen"], now=case["now"])
        assert ids.dtype == np.int64 and scores.dtype == np.float32
        assert ids.tolist() == case["ids"], f"now = {case['now']}"
        np.testing.assert_allclose(scores, case["scores"], rtol=0, atol=tol)
        # The same scores by id, and in the full score vector (model order).
        np.testing.assert_allclose(model.score_items(state, case["ids"], now=case["now"]), case["scores"], rtol=0, atol=tol)
        full = model.score(state, now=case["now"])
        position = {item: i for i, item in enumerate(model.item_ids.tolist())}
        np.testing.assert_allclose(full[[position[i] for i in case["ids"]]], case["scores"], rtol=0, atol=tol)
    uv = golden["user_vector"]
    u = model.user_vector(state, now=uv["now"])
    assert u.shape == (model.dim,)
    np.testing.assert_allclose(u, uv["values"], rtol=0, atol=tol)
    ex = golden["explain"]
    why, weights = model.explain(state, ex["item"], ex["k"])
    assert why.tolist() == ex["history_items"]
    np.testing.assert_allclose(weights, ex["weights"], rtol=0, atol=tol)


def test_golden_file_is_what_the_tests_expect(golden: Dict[str, Any], model: lsrec.Model) -> None:
    assert model.fingerprint == golden["fingerprint"], "golden.json was written for another model"
    assert model.n_items == golden["n_items"] and model.dim == golden["dim"]
    assert lsrec.TS_UNKNOWN in golden["events"]["times"]
    assert [c["now"] for c in golden["topk"]][0] == lsrec.NOW_LAST_EVENT
    assert len(golden["topk"]) >= 2


def test_events_one_at_a_time(model: lsrec.Model, golden: Dict[str, Any]) -> None:
    s = model.new_state()
    for item, ts in zip(golden["events"]["items"], golden["events"]["times"]):
        s.update(item, None if ts == lsrec.TS_UNKNOWN else ts)
    check_against_golden(model, s, golden)


def test_events_as_numpy_arrays(model: lsrec.Model, golden: Dict[str, Any]) -> None:
    s = model.new_state()
    s.update_many(np.array(golden["events"]["items"], dtype=np.int64), np.array(golden["events"]["times"]))
    check_against_golden(model, s, golden)


def test_events_as_datetime64(model: lsrec.Model, golden: Dict[str, Any]) -> None:
    times = np.array(golden["events"]["times"], dtype=np.int64)
    stamps = times.astype("datetime64[s]")
    stamps[times == lsrec.TS_UNKNOWN] = np.datetime64("NaT")
    s = model.new_state()
    s.update_many(golden["events"]["items"], stamps)
    check_against_golden(model, s, golden)


def test_restored_pickled_and_cloned_states(model: lsrec.Model, golden_state: lsrec.State, golden: Dict[str, Any]) -> None:
    check_against_golden(model, model.load_state(bytes(golden_state)), golden)
    check_against_golden(model, pickle.loads(pickle.dumps(golden_state)).clone(), golden)
    check_against_golden(model, golden_state.clone(), golden)


def test_model_from_bytes(model_path, golden: Dict[str, Any]) -> None:
    with lsrec.Model.from_bytes(model_path.read_bytes()) as m:
        s = m.new_state()
        s.update_many(golden["events"]["items"], golden["events"]["times"])
        check_against_golden(m, s, golden)


def test_topk_batch(model: lsrec.Model, golden_state: lsrec.State, golden: Dict[str, Any]) -> None:
    states = [golden_state, model.new_state(), golden_state.clone()]
    for case in golden["topk"]:
        ids, scores = model.topk_batch(states, golden["k"], exclude_seen=case["exclude_seen"], now=case["now"])
        assert ids.shape == scores.shape == (3, golden["k"])
        for row in (0, 2):
            assert ids[row].tolist() == case["ids"]
            np.testing.assert_allclose(scores[row], case["scores"], rtol=0, atol=golden["tolerance"])
        # An empty state: scores from the biases alone, a full list.
        assert (ids[1] >= 0).all()


@pytest.mark.parametrize("now_kind", ["int", "datetime", "datetime64"])
def test_explicit_now_in_any_time_type(model: lsrec.Model, golden_state: lsrec.State, golden: Dict[str, Any], now_kind: str) -> None:
    import datetime as dt

    case = golden["topk"][1]
    now = case["now"]
    value = {
        "int": now,
        "datetime": dt.datetime.fromtimestamp(now, tz=dt.timezone.utc),
        "datetime64": np.datetime64(now, "s"),
    }[now_kind]
    ids, _ = model.topk(golden_state, golden["k"], now=value)
    assert ids.tolist() == case["ids"]
