"""_Owner: the lifetime of a Python object that owns one C handle (Model, Encoder, Catalog)."""

from __future__ import annotations

from typing import Optional, TypeVar

from . import _native
from .errors import InvalidArgumentError

_T = TypeVar("_T", bound="_Owner")


class _Owner:
    """Closes its handle with :meth:`close`, at the end of a ``with`` block, or when
    garbage-collected; a closed object raises InvalidArgumentError ("lsrec: the <kind> is
    closed"). A subclass sets ``_kind`` (its name in that message), ``_free_name`` (the C function
    that frees the handle; declared before the first handle exists) and ``self._handle``."""

    _kind = "object"
    _free_name = ""
    _handle: Optional[int]

    def close(self) -> None:
        """Frees the handle now (it is also freed when garbage-collected); further calls raise
        InvalidArgumentError. Closing twice is fine. Do not close it while another thread is
        using it."""
        handle, self._handle = self._handle, None
        if handle:
            getattr(_native.lib(), self._free_name)(handle)

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown, or __init__ failed before _handle was set
            pass

    def _h(self) -> int:
        if self._handle is None:
            raise InvalidArgumentError(1, f"lsrec: the {self._kind} is closed")
        return self._handle
