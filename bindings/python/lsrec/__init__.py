"""lsrec — long- and short-term interest recommendations, from Python.

A thin ctypes layer over liblsrec.so (the C API in include/lsrec.h) with numpy in and out::

    import lsrec

    with lsrec.Model.load("model.lsrec") as model:
        state = model.new_state()
        state.update_many(items, times)          # numpy arrays, one C call
        ids, scores = model.topk(state, 10)      # int64 ids, float32 scores
        blob = bytes(state)                      # keep it; model.load_state(blob) restores it

Every failing call raises an :class:`LsrecError` subclass (``UnknownItemError``,
``OutOfOrderError``, ``ChecksumError``, ...) with ``.code`` and the library's ``.message``.
One Model may be shared by many threads (the GIL is released during calls).
:class:`Catalog` recommends from a model's items plus items added after training from a text
embedding (``catalog.add_item(id, vec)``), without retraining.

Text embeddings (the MiniLM encoder built into the library, for item texts)::

    with lsrec.Encoder("build/encoder/minilm.lsrec") as enc:
        vectors = enc.encode_batch(["Toy Story (1995) Animation, Children's, Comedy"])  # (1, 384)

The library is looked up in ``$LSREC_LIBRARY``, then inside this package (copied there when the
package was built), then in the lsrec checkout's ``build/static`` and ``build/lib``.
"""

from __future__ import annotations

from typing import Optional

from . import _native
from ._catalog import Catalog
from ._encoder import Encoder
from ._model import NOW_LAST_EVENT, TS_UNKNOWN, Metadata, Model, State, Time
from .errors import (
    BadMagicError,
    BufferTooSmallError,
    ByteOrderError,
    ChecksumError,
    FileError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    LibraryNotFoundError,
    LsrecError,
    ModelMismatchError,
    NonFiniteError,
    OutOfMemoryError,
    OutOfOrderError,
    TruncatedError,
    UnknownItemError,
    VersionError,
)

__version__ = "0.5.0"

__all__ = [
    "Model",
    "Encoder",
    "State",
    "Catalog",
    "Metadata",
    "Time",
    "TS_UNKNOWN",
    "NOW_LAST_EVENT",
    "version",
    "abi_version",
    "blas_core",
    "blas_suggested_coretype",
    "library_path",
    "LsrecError",
    "InvalidArgumentError",
    "FileError",
    "FormatError",
    "VersionError",
    "ChecksumError",
    "UnknownItemError",
    "BufferTooSmallError",
    "ModelMismatchError",
    "OutOfMemoryError",
    "InternalError",
    "BadMagicError",
    "TruncatedError",
    "ByteOrderError",
    "NonFiniteError",
    "OutOfOrderError",
    "LibraryNotFoundError",
]


def version() -> str:
    """The loaded library's version string, e.g. ``"0.5.0"``."""
    return str(_native.lib().lsrec_version_string().decode())


def blas_core() -> str:
    """The kernel set the loaded OpenBLAS uses, e.g. ``"SkylakeX"`` or ``"Prescott"``."""
    return str(_native.lib().lsrec_blas_core().decode())


def blas_suggested_coretype() -> Optional[str]:
    """``None`` when OpenBLAS's kernels suit this CPU; else the ``OPENBLAS_CORETYPE`` value to set
    before starting the process (OpenBLAS before 0.3.25 falls back to pre-AVX2 kernels on CPU
    models it does not know; a warning is issued when the library is loaded)."""
    better = _native.lib().lsrec_blas_suggested_coretype()
    return better.decode() if better else None


def abi_version() -> int:
    """The loaded library's ABI version (these bindings are written for ABI 1)."""
    return int(_native.lib().lsrec_abi_version())


def library_path() -> str:
    """The path of the liblsrec.so in use (raises LibraryNotFoundError if there is none)."""
    return _native.library_path()
