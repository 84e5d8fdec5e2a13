"""Model and State: the Python face of the C API."""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from ctypes import byref, c_char, c_float, c_int64, c_size_t, c_void_p
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from . import _native
from ._handle import _Owner
from .errors import InternalError, InvalidArgumentError

__all__ = ["Model", "State", "TS_UNKNOWN", "NOW_LAST_EVENT", "Time"]

#: An event whose time is unknown (``LSREC_TS_UNKNOWN``).
TS_UNKNOWN = -1
#: As ``now``: the time of the user's last event (``LSREC_NOW_LAST_EVENT``); the default.
NOW_LAST_EVENT = -1
_EXCLUDE_SEEN = 1

#: A time: unix seconds (int), a timezone-aware ``datetime``, a ``numpy.datetime64``, or None
#: (an unknown event time / "at the last event" for a request).
Time = Union[int, np.integer, _dt.datetime, np.datetime64, None]
ArrayLike = npt.ArrayLike
PathLike = Union[str, "os.PathLike[str]"]

# Keys documented in docs/FORMAT.md; the C API looks keys up but cannot list them.
_KNOWN_META_KEYS = (
    "general.architecture",
    "general.created_by",
    "general.fingerprint",
    "lsrec.dim",
    "lsrec.history",
    "lsrec.n_items",
    "lsrec.text_dim",
    "lsrec.time_dim",
    "lsrec.time_buckets",
    "lsrec.fusion",
)


# ctypes converts a Python int to int64_t modulo 2**64 without complaint (2**64 + 1000 would reach
# the library as item 1000), so int arguments are range-checked here.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _int64(value: int, what: str) -> int:
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise OverflowError(f"lsrec: {what} {value} does not fit in int64")
    return value


def _item_id(item: Any) -> int:
    """An item id argument as an int (TypeError for a non-integer, OverflowError beyond int64)."""
    if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
        raise TypeError(f"lsrec: an item id must be an int, not {type(item).__name__}")
    return _int64(int(item), "item id")


def _seconds(t: Time) -> int:
    """Unix seconds of a time; None -> -1 (unknown / last event)."""
    if type(t) is int and _INT64_MIN <= t <= _INT64_MAX:  # the common case first
        return t
    if t is None:
        return -1
    if isinstance(t, _dt.datetime):
        if t.tzinfo is None:
            raise InvalidArgumentError(1, "lsrec: a naive datetime is ambiguous; pass an aware one or unix seconds")
        return int(t.timestamp())
    if isinstance(t, np.datetime64):
        if np.isnat(t):
            return -1
        return int(t.astype("datetime64[s]").astype(np.int64))
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
        raise TypeError(f"lsrec: a time must be unix seconds, a datetime or datetime64, not {type(t).__name__}")
    return _int64(int(t), "time")


def _seconds_array(ts: Any, n: int) -> np.ndarray:
    """A contiguous int64 array of n unix times (None -> all unknown; datetime64 NaT -> unknown)."""
    if ts is None:
        return np.full(n, TS_UNKNOWN, dtype=np.int64)
    a = np.asarray(ts)
    if a.size and a.dtype.kind == "O":
        a = np.array([_int64(int(v), "time") for v in a.reshape(-1)], dtype=np.int64)
    if a.dtype.kind == "M":
        nat = np.isnat(a)
        a = a.astype("datetime64[s]").astype(np.int64)
        a[nat] = TS_UNKNOWN
    elif a.dtype.kind not in "iu":
        raise TypeError(f"lsrec: times must be integers (unix seconds) or datetime64, not {a.dtype}")
    return _int64_array(a, "time")


def _ids_array(items: Any) -> np.ndarray:
    a = np.asarray(items)
    if a.size and a.dtype.kind == "O":
        # Python ints beyond uint64 make an object array: convert them one by one (OverflowError).
        a = np.array([_int64(int(v), "item id") for v in a.reshape(-1)], dtype=np.int64)
    if a.size and a.dtype.kind not in "iu":
        raise TypeError(f"lsrec: item ids must be integers, not {a.dtype}")
    return _int64_array(a, "item id")


def _int64_array(a: np.ndarray, what: str) -> np.ndarray:
    """`a` as a contiguous flat int64 array; like _int64, values beyond int64 raise OverflowError
    instead of wrapping (numpy's uint64 -> int64 cast wraps silently)."""
    if a.dtype.kind == "u" and a.dtype.itemsize == 8 and a.size and int(a.max()) > _INT64_MAX:
        raise OverflowError(f"lsrec: {what} {int(a.max())} does not fit in int64")
    return np.ascontiguousarray(a, dtype=np.int64).reshape(-1)


def _k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError("lsrec: k must be an int")
    if k < 1:  # the library says so too; checked here because size_t cannot carry a negative k
        raise InvalidArgumentError(1, f"lsrec: k = {k}, must be >= 1")
    return int(k)


def _ptr(a: np.ndarray) -> int:
    return a.ctypes.data


def _topk_args(k: Any, exclude: Any, state: Any) -> Tuple[int, Optional[np.ndarray], Optional[int], int]:
    """k, the exclude array (kept by the caller until the call returns), its pointer and length,
    for Model.topk and Catalog.topk. Fast paths for the common argument types; anything else
    takes the general checks, in the documented order: k, exclude, state type."""
    kk = k if type(k) is int and k > 0 else _k(k)
    if exclude is None:
        ex, ex_ptr, ex_n = None, None, 0
    else:
        ex = _ids_array(exclude)
        ex_ptr, ex_n = (_ptr(ex) if ex.size else None), ex.size
    if type(state) is not State and not isinstance(state, State):
        raise TypeError(f"lsrec: expected a State, not {type(state).__name__}")
    return kk, ex, ex_ptr, ex_n


def _call_topk(fn: Any, owner_handle: Any, state: "State", now: Time, exclude_seen: bool,
               ex_ptr: Optional[int], ex_n: int, ids: Any, scores: Any, *event: int) -> int:
    """Runs lsrec_topk, lsrec_catalog_topk or (with ``event`` = item, unix time)
    lsrec_state_update_topk under the state's lock (then: closed state, closed model or
    catalogue, now) and returns the number of results written."""
    with state._lock:
        sh = state._handle
        if sh is None:
            raise InvalidArgumentError(1, "lsrec: the state is closed")
        h = owner_handle()
        t = -1 if now is None else _seconds(now)
        code = fn(h, sh, *event, t, len(ids), _EXCLUDE_SEEN if exclude_seen else 0, ex_ptr, ex_n, ids, scores,
                  state._n_out_ref)
        if code:
            _native.check(code)
        return state._n_out.value  # state._n_out is only used under state._lock


_I64, _F32 = np.dtype(np.int64), np.dtype(np.float32)


def _out_k(k: int) -> Tuple[Any, Any]:
    """Fresh output buffers for k (int64 id, float32 score) pairs, as ctypes arrays: they pass
    straight to the c_void_p parameters and np.frombuffer views them without a copy (about 2 µs
    cheaper per call than np.empty + ``.ctypes.data``). New per call: the results are returned."""
    return (c_int64 * k)(), (c_float * k)()


def _results(ids: Any, scores: Any, n: int) -> Tuple[np.ndarray, np.ndarray]:
    """The first n entries of _out_k's buffers as (int64, float32) arrays (they keep the buffers alive)."""
    return np.frombuffer(ids, _I64, n), np.frombuffer(scores, _F32, n)


def _out(handle: c_void_p) -> int:
    """The handle a constructor returned with LSREC_OK (never NULL then)."""
    if not handle.value:
        raise InternalError(10, "lsrec: a constructor returned OK and a NULL handle")
    return handle.value


class Metadata(Mapping[str, str]):
    """A model's metadata as text (``lsrec_model_meta``). Any key can be looked up
    (``meta["train.epochs"]``); iteration lists the documented keys present (docs/FORMAT.md),
    because the C API cannot enumerate keys."""

    def __init__(self, model: "Model") -> None:
        self._model = model

    def __getitem__(self, key: str) -> str:
        value = self._model._meta(key)
        if value is None:
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (k for k in _KNOWN_META_KEYS if self._model._meta(k) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"Metadata({dict(self)!r})"


def _load_model(path: Optional[str], data: Optional[bytes], screen_items: bool) -> "Model":
    """Unpickling: load the file (or bytes) again with the same options."""
    if path is not None:
        return Model.load(path, screen_items=screen_items)
    assert data is not None
    return Model.from_bytes(data, screen_items=screen_items)


class Model(_Owner):
    """An immutable lsrec model loaded from a ``.lsrec`` file.

    One Model may be used from any number of threads at once (the library does not lock; calls
    release the GIL). Close it with :meth:`close` or a ``with`` block; it is also freed when
    garbage-collected. States keep their model alive.

    >>> with Model.load("Tests/Fixtures/tiny-random.lsrec") as m:
    ...     s = m.new_state()
    ...     s.update(1000, 1700000000)
    ...     ids, scores = m.topk(s, 10)
    """

    _kind = "model"
    _free_name = "lsrec_model_free"

    def __init__(self, handle: int, *, path: Optional[str] = None, data: Optional[bytes] = None,
                 screen_items: bool = False) -> None:
        """Use :meth:`load` or :meth:`from_bytes`."""
        self._handle: Optional[int] = handle
        self._path = path
        self._data = data
        self._screen_items = screen_items
        lib = _native.lib()
        self._lib = lib  # the hot paths call through it (no _native.lib() per call)
        self._n_items = int(lib.lsrec_model_n_items(handle))
        self._dim = int(lib.lsrec_model_dim(handle))
        self._item_ids: Optional[np.ndarray] = None

    # ---- construction and lifetime -------------------------------------------------------------

    @classmethod
    def load(cls, path: PathLike, *, screen_items: bool = False) -> "Model":
        """Loads a ``.lsrec`` file, verifying every checksum.

        ``screen_items=True`` keeps a compact copy of the item matrix that :meth:`topk` and
        :meth:`update_topk` scan first (``LSREC_MODEL_SCREEN_ITEMS``): the same results, bit for
        bit, usually faster, for N x (d + 4) more bytes (int8, on a CPU with AVX2, FMA and F16C) or
        N x d x 2 (binary16, there for d > 1040); see :attr:`screens_items`.

        Raises FileError, FormatError, ChecksumError, BadMagicError, TruncatedError, ...
        """
        lib = _native.lib()
        p = os.path.abspath(os.fspath(path))
        out = c_void_p()
        params = _native.model_params(screen_items)
        _native.check(lib.lsrec_model_load_ex(os.fsencode(p), byref(params), byref(out)))
        return cls(_out(out), path=p, screen_items=screen_items)

    @classmethod
    def from_bytes(cls, data: Union[bytes, bytearray, memoryview], *, screen_items: bool = False) -> "Model":
        """Loads a model from the bytes of a ``.lsrec`` file (copied by the library). The Model
        keeps a copy of ``data`` for pickling. ``screen_items`` as in :meth:`load`."""
        lib = _native.lib()
        b = data if isinstance(data, bytes) else bytes(memoryview(data))
        out = c_void_p()
        params = _native.model_params(screen_items)
        _native.check(lib.lsrec_model_load_memory_ex(b, len(b), byref(params), byref(out)))
        return cls(_out(out), data=b, screen_items=screen_items)

    def close(self) -> None:
        """Frees the model handle. Further calls on it, or updates and requests with its states,
        raise InvalidArgumentError; its states can still be serialised, cloned, pickled and
        rebased onto another model (the library keeps their weights alive). Do not close a model
        while another thread is still using it."""
        super().close()

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickles as "load this file again" (or the bytes it was loaded from)."""
        if self._path is not None:
            return (_load_model, (self._path, None, self._screen_items))
        return (_load_model, (None, self._data, self._screen_items))

    def __repr__(self) -> str:
        where = self._path or "<bytes>"
        state = "closed" if self.closed else f"{self._n_items} items, dim {self._dim}"
        return f"<lsrec.Model {where}: {state}>"

    # ---- queries -----------------------------------------------------------------------------

    @property
    def n_items(self) -> int:
        """Number of items N in the catalogue."""
        return self._n_items

    @property
    def screens_items(self) -> bool:
        """True when :meth:`topk` scans the compact copy of the item matrix (asked for with
        ``screen_items=True`` and possible here: a CPU with AVX2, FMA and F16C)."""
        return _native.lib().lsrec_model_screens_items(self._h()) == 1

    @property
    def dim(self) -> int:
        """Model width d (length of a user vector)."""
        return self._dim

    @property
    def item_ids(self) -> np.ndarray:
        """The N external item ids (int64, read-only), in the model's order, which is the order
        of :meth:`score`'s output."""
        if self._item_ids is None:
            ids = np.empty(self._n_items, dtype=np.int64)
            _native.check(_native.lib().lsrec_model_item_ids(self._h(), _ptr(ids), ids.size))
            ids.flags.writeable = False
            self._item_ids = ids
        return self._item_ids

    def _meta(self, key: str) -> Optional[str]:
        lib = _native.lib()
        k = key.encode("utf-8")
        n = lib.lsrec_model_meta(self._h(), k, None, 0)
        if n < 0:
            return None
        buf = (c_char * (n + 1))()
        lib.lsrec_model_meta(self._h(), k, buf, n + 1)
        return str(buf.raw[:n].decode("utf-8", "replace"))

    @property
    def metadata(self) -> Metadata:
        """The file's metadata as text: ``model.metadata["general.fingerprint"]``."""
        return Metadata(self)

    @property
    def fingerprint(self) -> str:
        """The weights' fingerprint (16 hex digits); state blobs carry it."""
        return self._meta("general.fingerprint") or ""

    # ---- states ------------------------------------------------------------------------------

    def new_state(self) -> "State":
        """A new, empty user state for this model."""
        out = c_void_p()
        _native.check(_native.lib().lsrec_state_new(self._h(), byref(out)))
        return State(self, _out(out))

    def load_state(self, blob: Union[bytes, bytearray, memoryview]) -> "State":
        """Restores a state from ``bytes(state)``. A blob of another model raises
        ModelMismatchError; damaged ones ChecksumError, TruncatedError, BadMagicError, ..."""
        b = blob if isinstance(blob, bytes) else bytes(memoryview(blob))
        out = c_void_p()
        _native.check(_native.lib().lsrec_state_deserialize(self._h(), b, len(b), byref(out)))
        return State(self, _out(out))

    def rebase(self, state: "State") -> Tuple["State", int]:
        """Moves a user onto this model (e.g. a newly trained one) without losing context: the
        events ``state`` holds are replayed into a new state of this model. Returns the new state
        and how many events were skipped because this model does not know their item.
        ``state`` is unchanged; its own model may already be closed."""
        out = c_void_p()
        skipped = c_size_t()
        with self._use(state) as h:
            _native.check(_native.lib().lsrec_state_rebase(self._h(), h, byref(out), byref(skipped)))
        return State(self, _out(out)), int(skipped.value)

    def _own(self, state: "State") -> int:
        if not isinstance(state, State):
            raise TypeError(f"lsrec: expected a State, not {type(state).__name__}")
        if state._handle is None:
            raise InvalidArgumentError(1, "lsrec: the state is closed")
        return state._handle

    @contextmanager
    def _use(self, state: "State") -> Iterator[int]:
        """Holds the state's lock for one call and yields its handle."""
        if not isinstance(state, State):
            raise TypeError(f"lsrec: expected a State, not {type(state).__name__}")
        with state._lock:
            yield self._own(state)

    # ---- scoring -----------------------------------------------------------------------------

    def score(self, state: "State", now: Time = None) -> np.ndarray:
        """Scores of all N items (float32, in :attr:`item_ids` order) at time ``now``
        (default: the time of the user's last event). Higher is better."""
        out = np.empty(self._n_items, dtype=np.float32)
        with self._use(state) as h:
            _native.check(_native.lib().lsrec_score(self._h(), h, _seconds(now), _ptr(out), out.size))
        return out

    def score_items(self, state: "State", items: ArrayLike, now: Time = None) -> np.ndarray:
        """Scores (float32) of the given item ids; an unknown id raises UnknownItemError."""
        ids = _ids_array(items)
        out = np.empty(ids.size, dtype=np.float32)
        with self._use(state) as h:
            _native.check(
                _native.lib().lsrec_score_items(self._h(), h, _seconds(now), _ptr(ids), ids.size, _ptr(out))
            )
        return out

    def topk(
        self,
        state: "State",
        k: int = 10,
        exclude_seen: bool = True,
        exclude: Optional[ArrayLike] = None,
        now: Time = None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """The k best items, best first: ``(ids int64, scores float32)``, shorter than k only
        when the catalogue (after exclusions) is smaller.

        exclude_seen leaves out the items among the state's held events; ``exclude`` lists
        further item ids to leave out (unknown ids are ignored)."""
        kk, ex, ex_ptr, ex_n = _topk_args(k, exclude, state)
        # At most N results: a larger k needs no larger buffers (nor a huge allocation).
        ids, scores = _out_k(kk if kk <= self._n_items else max(self._n_items, 1))
        n = _call_topk(self._lib.lsrec_topk, self._h, state, now, exclude_seen, ex_ptr, ex_n, ids, scores)
        del ex  # kept alive until the call returned: the library read it through ex_ptr
        return _results(ids, scores, n)

    def update_topk(
        self,
        state: "State",
        item: int,
        ts: Time = None,
        k: int = 10,
        exclude_seen: bool = True,
        exclude: Optional[ArrayLike] = None,
        now: Time = None,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """``state.update(item, ts)`` then ``topk(state, k, exclude_seen, exclude, now)`` in one
        library call (``lsrec_state_update_topk``): the per-click path of a service, the same
        results with one foreign call instead of two. Every argument is checked first: on any
        error the state is unchanged."""
        if type(item) is not int or not _INT64_MIN <= item <= _INT64_MAX:  # fast path: a plain int
            item = _item_id(item)
        kk, ex, ex_ptr, ex_n = _topk_args(k, exclude, state)
        ids, scores = _out_k(kk if kk <= self._n_items else max(self._n_items, 1))
        t = -1 if ts is None else _seconds(ts)
        n = _call_topk(self._lib.lsrec_state_update_topk, self._h, state, now, exclude_seen, ex_ptr, ex_n, ids, scores,
                       item, t)
        del ex  # kept alive until the call returned: the library read it through ex_ptr
        return _results(ids, scores, n)

    def topk_batch(
        self, states: Sequence["State"], k: int = 10, exclude_seen: bool = True, now: Time = None
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Top-k for many users with one matrix product: ``(ids [n, k] int64, scores [n, k]
        float32)``; row b is states[b]'s list, padded with id -1 and score -inf."""
        kk = _k(k)
        states = list(states)
        for s in states:
            self._own(s)
        ids = np.empty((len(states), kk), dtype=np.int64)
        scores = np.empty((len(states), kk), dtype=np.float32)
        if not states:
            return ids, scores
        flags = _EXCLUDE_SEEN if exclude_seen else 0
        with _LockAll(states):
            handles = np.array([self._own(s) for s in states], dtype=np.uintp)
            _native.check(
                _native.lib().lsrec_topk_batch(
                    self._h(), _ptr(handles), len(states), _seconds(now), kk, flags, _ptr(ids), _ptr(scores)
                )
            )
        return ids, scores

    def explain(self, state: "State", item: int, k: int = 3) -> Tuple[np.ndarray, np.ndarray]:
        """"Because you watched ...": the history items that contributed most to ``item``'s
        score, largest first, as ``(history_ids int64, weights float32)`` (at most k)."""
        kk = _k(k)
        ids = np.empty(kk, dtype=np.int64)
        weights = np.empty(kk, dtype=np.float32)
        n_out = c_size_t()
        with self._use(state) as h:
            _native.check(
                _native.lib().lsrec_explain(self._h(), h, int(item), kk, _ptr(ids), _ptr(weights), byref(n_out))
            )
        n = n_out.value
        return ids[:n], weights[:n]

    def user_vector(self, state: "State", now: Time = None) -> np.ndarray:
        """The user vector u (float32, length :attr:`dim`) at time ``now``; scores are
        ``u . e_i + b_i`` (plus beta on held items for a model with the repeat term, docs/MODEL.md)."""
        out = np.empty(self._dim, dtype=np.float32)
        with self._use(state) as h:
            _native.check(_native.lib().lsrec_user_vector(self._h(), h, _seconds(now), _ptr(out), out.size))
        return out


class _LockAll:
    """Holds the locks of several states (each once, in a fixed order: no deadlock)."""

    def __init__(self, states: Iterable["State"]) -> None:
        unique = {id(s): s for s in states}
        self._locks: List[threading.Lock] = [unique[i]._lock for i in sorted(unique)]

    def __enter__(self) -> None:
        for lock in self._locks:
            lock.acquire()

    def __exit__(self, *exc: object) -> None:
        for lock in reversed(self._locks):
            lock.release()


class State:
    """One user's interest state (LSTM state and the last L events) for a model.

    Mutable; each State has its own lock, so concurrent calls on the same State are serialised
    (different States run in parallel). ``bytes(state)`` is a portable ~2 KB blob to keep in any
    store; :meth:`Model.load_state` restores it. States pickle (with their model).
    """

    def __init__(self, model: Model, handle: int) -> None:
        """Use :meth:`Model.new_state` or :meth:`Model.load_state`."""
        self._model = model
        self._handle: Optional[int] = handle
        self._lock = threading.Lock()
        # The *n_out of requests on this state, reused: only touched while holding _lock.
        self._n_out = c_size_t()
        self._n_out_ref = byref(self._n_out)

    @property
    def model(self) -> Model:
        return self._model

    def close(self) -> None:
        """Frees the state now (it is also freed when garbage-collected)."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle:
            _native.lib().lsrec_state_free(handle)

    def __del__(self) -> None:
        try:
            handle, self._handle = self._handle, None
            if handle:
                _native.lib().lsrec_state_free(handle)
        except Exception:  # interpreter shutdown
            pass

    def _h(self) -> int:
        if self._handle is None:
            raise InvalidArgumentError(1, "lsrec: the state is closed")
        return self._handle

    @property
    def n_events(self) -> int:
        """Number of events ever fed (including those the L-event window has dropped)."""
        with self._lock:
            return int(_native.lib().lsrec_state_n_events(self._h()))

    def update(self, item: int, ts: Time = None) -> None:
        """Feeds one event: item id and its time (unix seconds, aware datetime, datetime64; None
        for unknown). Times must not decrease (OutOfOrderError); an unknown item raises
        UnknownItemError. On error the state is unchanged."""
        if type(item) is not int or not _INT64_MIN <= item <= _INT64_MAX:  # fast path: a plain int
            item = _item_id(item)
        model = self._model
        with self._lock:
            mh, sh = model._handle, self._handle
            if mh is None or sh is None:
                model._h()
                self._h()
            t = -1 if ts is None else _seconds(ts)
            code = model._lib.lsrec_state_update(mh, sh, item, t)
            if code:
                _native.check(code)

    def update_many(self, items: ArrayLike, ts: Optional[ArrayLike] = None) -> None:
        """Feeds events in order from arrays (one C call, no Python loop): ``items`` int ids,
        ``ts`` unix seconds or datetime64 (None: all unknown; -1 / NaT: that event unknown).
        All events are validated first; on any error nothing is applied."""
        ids = _ids_array(items)
        times = _seconds_array(ts, ids.size)
        if times.size != ids.size:
            raise InvalidArgumentError(1, f"lsrec: {ids.size} items but {times.size} times")
        with self._lock:
            _native.check(
                _native.lib().lsrec_state_update_many(
                    self._model._h(), self._h(),
                    _ptr(ids) if ids.size else None, _ptr(times) if times.size else None, ids.size,
                )
            )

    def clone(self) -> "State":
        """An independent copy."""
        out = c_void_p()
        with self._lock:
            _native.check(_native.lib().lsrec_state_clone(self._h(), byref(out)))
        return State(self._model, _out(out))

    def to_bytes(self) -> bytes:
        """The state as a portable blob (magic, version, model fingerprint, payload, CRC32C)."""
        lib = _native.lib()
        with self._lock:
            h = self._h()
            needed = c_size_t()
            _native.check(lib.lsrec_state_serialize(h, None, 0, byref(needed)))
            buf = (c_char * needed.value)()
            _native.check(lib.lsrec_state_serialize(h, buf, needed.value, byref(needed)))
        return buf.raw[: needed.value]

    __bytes__ = to_bytes

    def __copy__(self) -> "State":
        return self.clone()

    def __deepcopy__(self, memo: Dict[int, Any]) -> "State":
        return self.clone()

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_restore_state, (self._model, self.to_bytes()))

    def __repr__(self) -> str:
        if self._handle is None:
            return "<lsrec.State closed>"
        return f"<lsrec.State {self.n_events} events>"


def _restore_state(model: Model, blob: bytes) -> State:
    return model.load_state(blob)

