"""States (and the models they need) survive pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any, Dict

import numpy as np

import lsrec
from conftest import subprocess_env


def test_state_pickle_round_trip(model: lsrec.Model, golden_state: lsrec.State, golden: Dict[str, Any]) -> None:
    back = pickle.loads(pickle.dumps(golden_state))
    assert bytes(back) == bytes(golden_state)
    assert back.n_events == golden_state.n_events
    ids, scores = model.topk(golden_state, 10)
    # The unpickled state comes with its own (reloaded) model; results are identical.
    ids2, scores2 = back.model.topk(back, 10)
    assert ids2.tolist() == ids.tolist() == golden["topk"][0]["ids"]
    assert np.array_equal(scores, scores2)
    # It keeps working independently.
    back.update(1000, None)
    assert back.n_events == golden_state.n_events + 1


def test_states_sharing_a_model_unpickle_sharing_one(model: lsrec.Model, golden_state: lsrec.State) -> None:
    a, b = pickle.loads(pickle.dumps([golden_state, model.new_state()]))
    assert a.model is b.model
    assert a.model.fingerprint == model.fingerprint


def test_model_from_bytes_pickles(model_path) -> None:
    m = lsrec.Model.from_bytes(model_path.read_bytes())
    back = pickle.loads(pickle.dumps(m))
    assert back.fingerprint == m.fingerprint and back.n_items == m.n_items


def test_state_pickled_into_another_process(golden_state: lsrec.State, golden: Dict[str, Any], tmp_path) -> None:
    path = tmp_path / "state.pickle"
    path.write_bytes(pickle.dumps(golden_state))
    code = (
        "import pickle, sys\n"
        "s = pickle.load(open(sys.argv[1], 'rb'))\n"
        "print(' '.join(map(str, s.model.topk(s, 10)[0].tolist())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         env=subprocess_env()).stdout
    assert out.split() == [str(i) for i in golden["topk"][0]["ids"]]
