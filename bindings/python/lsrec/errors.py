"""Exceptions raised by lsrec: one class per status code of the C API (``include/lsrec.h``).

Every failing library call raises an :class:`LsrecError` subclass carrying the status ``code``,
its short ``status`` text and the library's own ``message`` (``lsrec_last_error()``, read on the
calling thread right after the call)::

    try:
        state.update(123456789, ts)
    except lsrec.UnknownItemError as e:
        print(e.code, e.message)   # 6 "lsrec_state_update: item id 123456789 is not in the model"
"""

from __future__ import annotations

from typing import Any, Dict, Tuple, Type

__all__ = [
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
    "error_for_status",
]


class LsrecError(Exception):
    """A non-OK status from liblsrec.

    Attributes:
        code: the ``lsrec_status`` value (``LSREC_E_*``), e.g. 6 for an unknown item.
        status: the library's fixed description of the code (``lsrec_status_str``).
        message: the library's message for this failure (``lsrec_last_error``), which names the
            function and what was wrong.
    """

    code: int = -1

    def __init__(self, code: int, message: str, status: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message or self.status or f"lsrec status {self.code}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"

    def __reduce__(self) -> Tuple[Any, ...]:  # picklable, e.g. across multiprocessing
        return (type(self), (self.code, self.message, self.status))


class InvalidArgumentError(LsrecError, ValueError):
    """LSREC_E_INVALID_ARGUMENT: a bad argument (k = 0, a negative time, a closed model, ...)."""

    code = 1


class FileError(LsrecError):
    """LSREC_E_IO: a file could not be opened or read."""

    code = 2


class FormatError(LsrecError):
    """LSREC_E_FORMAT: a malformed weight file or state blob (the message says where)."""

    code = 3


class VersionError(LsrecError):
    """LSREC_E_VERSION: an unsupported file format or state version."""

    code = 4


class ChecksumError(LsrecError):
    """LSREC_E_CHECKSUM: a CRC32C does not match; the bytes were damaged."""

    code = 5


class UnknownItemError(LsrecError, KeyError):
    """LSREC_E_UNKNOWN_ITEM: an item id the model does not know."""

    code = 6

    def __str__(self) -> str:  # KeyError would quote the message
        return LsrecError.__str__(self)


class BufferTooSmallError(LsrecError):
    """LSREC_E_BUFFER_TOO_SMALL (the bindings size buffers themselves; seen only on a bug)."""

    code = 7


class ModelMismatchError(LsrecError):
    """LSREC_E_MODEL_MISMATCH: a state or blob made by another model."""

    code = 8


class OutOfMemoryError(LsrecError, MemoryError):
    """LSREC_E_OUT_OF_MEMORY."""

    code = 9


class InternalError(LsrecError):
    """LSREC_E_INTERNAL: a bug in lsrec; please report the message."""

    code = 10


class BadMagicError(LsrecError):
    """LSREC_E_BAD_MAGIC: not an lsrec file or state blob."""

    code = 11


class TruncatedError(LsrecError):
    """LSREC_E_TRUNCATED: the file or blob ends early."""

    code = 12


class ByteOrderError(LsrecError):
    """LSREC_E_BYTE_ORDER: written on a big-endian machine."""

    code = 13


class NonFiniteError(LsrecError):
    """LSREC_E_NONFINITE: NaN or Inf in the weights."""

    code = 14


class OutOfOrderError(LsrecError):
    """LSREC_E_OUT_OF_ORDER: an event time earlier than the user's previous event."""

    code = 15


class LibraryNotFoundError(ImportError):
    """liblsrec.so could not be found or loaded (the message lists where it was looked for)."""


_BY_CODE: Dict[int, Type[LsrecError]] = {
    cls.code: cls
    for cls in (
        InvalidArgumentError,
        FileError,
        FormatError,
        VersionError,
        ChecksumError,
        UnknownItemError,
        BufferTooSmallError,
        ModelMismatchError,
        OutOfMemoryError,
        InternalError,
        BadMagicError,
        TruncatedError,
        ByteOrderError,
        NonFiniteError,
        OutOfOrderError,
    )
}


def error_for_status(code: int, message: str, status: str = "") -> LsrecError:
    """The exception for a status code (an unknown code gives a plain :class:`LsrecError`)."""
    cls = _BY_CODE.get(code, LsrecError)
    return cls(code, message, status)
