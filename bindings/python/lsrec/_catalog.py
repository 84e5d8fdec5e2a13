"""Catalog: recommend from a model's items plus items added after training (lsrec_catalog_*)."""

from __future__ import annotations

import threading
from ctypes import POINTER, byref, c_float, c_int32, c_int64, c_size_t, c_uint32, c_void_p
from typing import Any, Optional, Tuple

import numpy as np

from . import _native
from ._handle import _Owner
from ._model import _INT64_MAX, _INT64_MIN, ArrayLike, Model, State, Time, _ids_array
from ._model import _item_id as _item
from ._model import _call_topk, _k, _out, _out_k, _ptr, _results, _seconds, _topk_args
from .errors import InvalidArgumentError

__all__ = ["Catalog"]

_declared = False
_declare_lock = threading.Lock()


def _lib() -> Any:
    """The library with the catalogue functions declared (once; _native declares the rest)."""
    global _declared
    lib = _native.lib()
    if _declared:
        return lib
    with _declare_lock:
        if not _declared:
            P = c_void_p
            sigs = {
                "lsrec_catalog_new": (c_int32, [P, POINTER(c_void_p)]),
                "lsrec_catalog_free": (None, [P]),
                "lsrec_catalog_n_items": (c_int64, [P]),
                "lsrec_catalog_contains": (c_int32, [P, c_int64]),
                "lsrec_catalog_item_ids": (c_int32, [P, P, c_size_t, POINTER(c_size_t)]),
                "lsrec_catalog_add_item": (c_int32, [P, c_int64, P, c_size_t]),
                "lsrec_catalog_remove_item": (c_int32, [P, c_int64]),
                "lsrec_catalog_restore_item": (c_int32, [P, c_int64]),
                "lsrec_catalog_item_vector": (c_int32, [P, c_int64, P, c_size_t, POINTER(c_float)]),
                "lsrec_catalog_score_items": (c_int32, [P, P, c_int64, P, c_size_t, P]),
                "lsrec_catalog_topk": (
                    c_int32, [P, P, c_int64, c_size_t, c_uint32, P, c_size_t, P, P, POINTER(c_size_t)]
                ),
                "lsrec_catalog_explain": (c_int32, [P, P, c_int64, c_size_t, P, P, POINTER(c_size_t)]),
                "lsrec_catalog_state_update": (c_int32, [P, P, c_int64, c_int64]),
            }
            for name, (restype, argtypes) in sigs.items():
                fn = getattr(lib, name)
                fn.restype = restype
                fn.argtypes = argtypes
            _declared = True
    return lib


class Catalog(_Owner):
    """The items to recommend from: a model's items, minus removed ones, plus items added after
    training from a text embedding (scored as ``e = P . t`` with the median trained bias; see
    docs/MODEL.md). The model is never changed.

    Thread-safe: any number of threads may read (topk, score_items, explain) and write (add_item,
    remove_item, restore_item) one Catalog at once; each read sees one consistent catalogue (the
    library guards it with a writer-preferring read-write lock; the GIL is released meanwhile).

    Events on added items are fed with :meth:`update`: the state keeps the item's id and vector
    with the event, so removing the item later does not change the state.

    >>> m = Model.load("Tests/Fixtures/tiny-random.lsrec")
    >>> cat = Catalog(m)
    >>> cat.add_item(42, encoder_output)           # text_dim float32 values
    >>> ids, scores = cat.topk(m.new_state(), 10)
    """

    _kind = "catalog"
    _free_name = "lsrec_catalog_free"

    def __init__(self, model: Model) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"lsrec: expected a Model, not {type(model).__name__}")
        out = c_void_p()
        self._lib = _lib()  # declared; the hot paths call through it
        _native.check(self._lib.lsrec_catalog_new(model._h(), byref(out)))
        self._model = model
        self._handle: Optional[int] = _out(out)
        text_dim = model.metadata.get("lsrec.text_dim")
        self._text_dim = int(text_dim) if text_dim is not None else 0

    # ---- lifetime ------------------------------------------------------------------------------

    @property
    def model(self) -> Model:
        return self._model

    @property
    def text_dim(self) -> int:
        """Length of the text embedding :meth:`add_item` takes (0: items cannot be added)."""
        return self._text_dim

    def __reduce__(self) -> Tuple[Any, ...]:
        # A copy or pickle would share (and later double-free) the C handle; the added items'
        # vectors are not retrievable as text, so there is nothing faithful to rebuild from.
        raise TypeError("lsrec: a Catalog cannot be copied or pickled; make a new Catalog(model) and add the items again")

    def __repr__(self) -> str:
        if self._handle is None:
            return "<lsrec.Catalog closed>"
        return f"<lsrec.Catalog {len(self)} items>"

    # ---- contents ------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of items a recommendation can return now."""
        return int(_lib().lsrec_catalog_n_items(self._h()))

    def __contains__(self, item: object) -> bool:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)) or not _INT64_MIN <= item <= _INT64_MAX:
            return False
        return bool(_lib().lsrec_catalog_contains(self._h(), int(item)) == 1)

    @property
    def item_ids(self) -> np.ndarray:
        """The catalogue's item ids (int64) in catalogue order: the model's items in the model's
        order, then added items in the order they were added."""
        lib = _lib()
        while True:  # another thread may add items between the two calls
            n = max(int(lib.lsrec_catalog_n_items(self._h())), 0)
            ids = np.empty(n, dtype=np.int64)
            got = c_size_t()
            code = lib.lsrec_catalog_item_ids(self._h(), _ptr(ids) if n else None, n, byref(got))
            if code == 7 and got.value > n:  # LSREC_E_BUFFER_TOO_SMALL: grew meanwhile
                continue
            _native.check(code)
            return ids[: got.value]

    def add_item(self, item: int, text: ArrayLike) -> None:
        """Adds an item from its text embedding (:attr:`text_dim` values, converted to float32).
        Raises InvalidArgumentError for an id already in the catalogue or belonging to the model
        (restore a removed model item with :meth:`restore_item`), a wrong length or a model without
        text projection; NonFiniteError for NaN/Inf or an embedding so large scores could overflow."""
        vec = np.ascontiguousarray(np.asarray(text, dtype=np.float32).reshape(-1))
        _native.check(_lib().lsrec_catalog_add_item(self._h(), _item(item), _ptr(vec) if vec.size else None, vec.size))

    def remove_item(self, item: int) -> None:
        """Removes an item (a model item is hidden, an added one dropped). UnknownItemError if it is
        not in the catalogue."""
        _native.check(_lib().lsrec_catalog_remove_item(self._h(), _item(item)))

    def restore_item(self, item: int) -> None:
        """Makes a removed model item recommendable again."""
        _native.check(_lib().lsrec_catalog_restore_item(self._h(), _item(item)))

    def item_vector(self, item: int) -> Tuple[np.ndarray, float]:
        """``(e float32[dim], b)`` of a catalogue item: its score is ``u . e + b`` for the user
        vector ``u`` (:meth:`Model.user_vector`), plus the repeat term's beta when the state holds
        the item and the model has the term (docs/MODEL.md)."""
        out = np.empty(self._model.dim, dtype=np.float32)
        bias = c_float()
        _native.check(_lib().lsrec_catalog_item_vector(self._h(), _item(item), _ptr(out), out.size, byref(bias)))
        return out, float(bias.value)

    # ---- requests ------------------------------------------------------------------------------

    def score_items(self, state: State, items: ArrayLike, now: Time = None) -> np.ndarray:
        """Scores (float32) of catalogue items; an id not in the catalogue raises UnknownItemError."""
        ids = _ids_array(items)
        out = np.empty(ids.size, dtype=np.float32)
        with self._model._use(state) as h:
            _native.check(
                _lib().lsrec_catalog_score_items(
                    self._h(), h, _seconds(now), _ptr(ids) if ids.size else None, ids.size,
                    _ptr(out) if ids.size else None,
                )
            )
        return out

    def topk(
        self,
        state: State,
        k: int = 10,
        exclude_seen: bool = True,
        exclude: Optional[ArrayLike] = None,
        now: Time = None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """The k best catalogue items, best first: ``(ids int64, scores float32)`` (shorter than k
        only when the catalogue, after exclusions, is smaller). Removed items never appear; ties
        rank in catalogue order. Arguments as :meth:`Model.topk`."""
        # The catalogue can grow, so k is not capped at its size (Model.topk caps at N).
        kk, ex, ex_ptr, ex_n = _topk_args(k, exclude, state)
        ids, scores = _out_k(kk)
        n = _call_topk(self._lib.lsrec_catalog_topk, self._h, state, now, exclude_seen, ex_ptr, ex_n, ids, scores)
        del ex  # kept alive until the call returned
        return _results(ids, scores, n)

    def explain(self, state: State, item: int, k: int = 3) -> Tuple[np.ndarray, np.ndarray]:
        """"Because you watched ..." for a catalogue item (model or added): the history items that
        contributed most to its score, largest first, as ``(history_ids int64, weights float32)``."""
        kk = _k(k)
        ids = np.empty(kk, dtype=np.int64)
        weights = np.empty(kk, dtype=np.float32)
        n_out = c_size_t()
        with self._model._use(state) as h:
            _native.check(
                _lib().lsrec_catalog_explain(self._h(), h, _item(item), kk, _ptr(ids), _ptr(weights), byref(n_out))
            )
        n = n_out.value
        return ids[:n], weights[:n]

    def update(self, state: State, item: int, ts: Time = None) -> None:
        """Feeds one event to ``state``: a model item (removed ones included) or an added item
        in the catalogue now (the state keeps its id and vector). Other ids raise
        UnknownItemError; on error the state is unchanged."""
        if type(state) is not State and not isinstance(state, State):
            raise TypeError(f"lsrec: expected a State, not {type(state).__name__}")
        with state._lock:
            sh = state._handle
            if sh is None:
                raise InvalidArgumentError(1, "lsrec: the state is closed")
            ch = self._h()
            item = item if type(item) is int and _INT64_MIN <= item <= _INT64_MAX else _item(item)
            t = -1 if ts is None else _seconds(ts)
            code = self._lib.lsrec_catalog_state_update(ch, sh, item, t)
            if code:
                _native.check(code)
