"""Finding, loading and declaring liblsrec.so (ctypes).

Search order (the first that exists is loaded):

1. ``$LSREC_LIBRARY`` — a path to ``liblsrec.so`` (if set, nothing else is tried);
2. ``lsrec/_lib/liblsrec.so`` inside this package — copied there when the package is built
   (``pip install ./bindings/python`` after ``make lib-static``);
3. the repository's build folders when running from a source checkout:
   ``build/static/liblsrec.so`` (``make lib-static``), then ``build/lib/liblsrec.so`` (``make lib``).

ctypes releases the GIL around every foreign call (``CDLL``), so long calls (top-k over a large
catalogue, batches) run in parallel with other Python threads.
"""

from __future__ import annotations

import ctypes
import os
import threading
import warnings
from ctypes import POINTER, c_char_p, c_float, c_int32, c_int64, c_size_t, c_uint32, c_void_p
from pathlib import Path
from typing import List, Optional

from .errors import LibraryNotFoundError, error_for_status

ABI_VERSION = 1
LIBRARY_NAME = "liblsrec.so"

_PACKAGE_DIR = Path(__file__).resolve().parent
# bindings/python/lsrec -> the repository root (only meaningful in a source checkout).
_REPO_ROOT = _PACKAGE_DIR.parent.parent.parent

_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_path: Optional[str] = None


def candidate_paths() -> List[Path]:
    """Where the library is looked for, in order."""
    env = os.environ.get("LSREC_LIBRARY")
    if env:
        return [Path(env)]
    paths = [_PACKAGE_DIR / "_lib" / LIBRARY_NAME]
    if (_REPO_ROOT / "include" / "lsrec.h").is_file():
        paths += [_REPO_ROOT / "build" / "static" / LIBRARY_NAME, _REPO_ROOT / "build" / "lib" / LIBRARY_NAME]
    return paths


class ModelParams(ctypes.Structure):
    """lsrec_model_params (lsrec.h)."""

    _fields_ = [("size", c_uint32), ("flags", c_uint32)]


MODEL_SCREEN_ITEMS = 1


def model_params(screen_items: bool) -> ModelParams:
    """lsrec_model_default_params() with the given options (the header's inline function)."""
    return ModelParams(ctypes.sizeof(ModelParams), MODEL_SCREEN_ITEMS if screen_items else 0)


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and result types of every function in lsrec.h (pointers as c_void_p)."""
    P = c_void_p
    sigs = {
        "lsrec_abi_version": (c_uint32, []),
        "lsrec_version_string": (c_char_p, []),
        "lsrec_blas_core": (c_char_p, []),
        "lsrec_blas_suggested_coretype": (c_char_p, []),
        "lsrec_status_str": (c_char_p, [c_int32]),
        "lsrec_last_error": (c_char_p, []),
        "lsrec_model_load": (c_int32, [c_char_p, POINTER(c_void_p)]),
        "lsrec_model_load_memory": (c_int32, [c_char_p, c_size_t, POINTER(c_void_p)]),
        "lsrec_model_load_ex": (c_int32, [c_char_p, POINTER(ModelParams), POINTER(c_void_p)]),
        "lsrec_model_load_memory_ex": (c_int32, [c_char_p, c_size_t, POINTER(ModelParams), POINTER(c_void_p)]),
        "lsrec_model_screens_items": (c_int32, [P]),
        "lsrec_model_free": (None, [P]),
        "lsrec_model_n_items": (c_int64, [P]),
        "lsrec_model_dim": (c_int32, [P]),
        "lsrec_model_item_ids": (c_int32, [P, P, c_size_t]),
        "lsrec_model_meta": (c_int32, [P, c_char_p, P, c_size_t]),
        "lsrec_state_new": (c_int32, [P, POINTER(c_void_p)]),
        "lsrec_state_clone": (c_int32, [P, POINTER(c_void_p)]),
        "lsrec_state_free": (None, [P]),
        "lsrec_state_n_events": (c_int64, [P]),
        "lsrec_state_update": (c_int32, [P, P, c_int64, c_int64]),
        "lsrec_state_update_many": (c_int32, [P, P, P, P, c_size_t]),
        "lsrec_state_serialize": (c_int32, [P, P, c_size_t, POINTER(c_size_t)]),
        "lsrec_state_deserialize": (c_int32, [P, c_char_p, c_size_t, POINTER(c_void_p)]),
        "lsrec_state_rebase": (c_int32, [P, P, POINTER(c_void_p), POINTER(c_size_t)]),
        "lsrec_score": (c_int32, [P, P, c_int64, P, c_size_t]),
        "lsrec_score_items": (c_int32, [P, P, c_int64, P, c_size_t, P]),
        "lsrec_topk": (c_int32, [P, P, c_int64, c_size_t, c_uint32, P, c_size_t, P, P, POINTER(c_size_t)]),
        "lsrec_state_update_topk": (
            c_int32, [P, P, c_int64, c_int64, c_int64, c_size_t, c_uint32, P, c_size_t, P, P, POINTER(c_size_t)]
        ),
        "lsrec_topk_batch": (c_int32, [P, P, c_size_t, c_int64, c_size_t, c_uint32, P, P]),
        "lsrec_explain": (c_int32, [P, P, c_int64, c_size_t, P, P, POINTER(c_size_t)]),
        "lsrec_user_vector": (c_int32, [P, P, c_int64, P, c_size_t]),
        "lsrec_encoder_load": (c_int32, [c_char_p, POINTER(c_void_p)]),
        "lsrec_encoder_free": (None, [P]),
        "lsrec_encoder_dim": (c_int32, [P]),
        "lsrec_encoder_max_tokens": (c_int32, [P]),
        "lsrec_encoder_tokenize": (c_int32, [P, c_char_p, P, c_size_t, POINTER(c_size_t)]),
        "lsrec_encode_text": (c_int32, [P, c_char_p, P, c_size_t]),
        "lsrec_encode_batch": (c_int32, [P, P, c_size_t, P, c_size_t]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def lib() -> ctypes.CDLL:
    """The loaded library (loaded on first use). Raises LibraryNotFoundError."""
    global _lib, _path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = candidate_paths()
        errors = []
        for path in tried:
            if not path.is_file():
                errors.append(f"  {path}: not found")
                continue
            try:
                handle = ctypes.CDLL(str(path))
            except OSError as e:
                errors.append(f"  {path}: {e}")
                continue
            _declare(handle)
            abi = handle.lsrec_abi_version()
            if abi != ABI_VERSION:
                errors.append(f"  {path}: ABI version {abi}, these bindings need {ABI_VERSION}")
                continue
            _path = str(path)
            _lib = handle
            _warn_if_blas_misdetected(handle)
            return handle
        raise LibraryNotFoundError(
            "lsrec: cannot load liblsrec.so. Looked at:\n"
            + "\n".join(errors)
            + "\nBuild it with `make lib-static` in the lsrec repository (then reinstall this package, or"
            " run from the checkout), or set LSREC_LIBRARY to the path of liblsrec.so."
        )


def _warn_if_blas_misdetected(handle: ctypes.CDLL) -> None:
    """OpenBLAS chose pre-AVX2 kernels on a CPU with AVX2 + FMA (lsrec.h, "BLAS kernels"): it is
    too late to change that in this process, so say how to start the next one."""
    better = handle.lsrec_blas_suggested_coretype()
    if better and "OPENBLAS_CORETYPE" not in os.environ:
        core = handle.lsrec_blas_core().decode()
        warnings.warn(
            f"lsrec: OpenBLAS runs its {core} kernels on this CPU, which has better ones; updates and "
            f"scoring run several times slower. Start Python with OPENBLAS_CORETYPE={better.decode()} "
            "set in the environment (it must be set before OpenBLAS is loaded).",
            RuntimeWarning,
            stacklevel=4,
        )


def library_path() -> str:
    """The path of the liblsrec.so in use (loads it if needed)."""
    lib()
    assert _path is not None
    return _path


def last_error() -> str:
    """The calling thread's last error message from the library."""
    msg = lib().lsrec_last_error()
    return msg.decode("utf-8", "replace") if msg else ""


def status_str(code: int) -> str:
    return (lib().lsrec_status_str(code) or b"").decode("utf-8", "replace")


def check(code: int) -> None:
    """Raises the typed exception for a non-OK status. Must run on the thread that made the call
    (the message is thread-local); every wrapper calls it right after the C call."""
    if code != 0:
        raise error_for_status(code, last_error(), status_str(code))
