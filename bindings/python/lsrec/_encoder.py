"""Encoder: the MiniLM sentence encoder of liblsrec (``lsrec_encoder_*``, ``lsrec_encode_*``)."""

from __future__ import annotations

import os
from ctypes import byref, c_char_p, c_size_t, c_void_p
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._handle import _Owner
from .errors import BufferTooSmallError, InternalError, InvalidArgumentError

__all__ = ["Encoder", "Text"]

#: A text: ``str`` (sent as UTF-8) or ``bytes`` already in UTF-8 (the library validates them).
Text = Union[str, bytes]
PathLike = Union[str, "os.PathLike[str]"]


def _utf8(text: Text) -> bytes:
    """The bytes the C API gets. A C string ends at the first NUL, so a NUL inside the text is
    refused here rather than silently cutting the text short."""
    if isinstance(text, str):
        b = text.encode("utf-8", "surrogatepass")  # lone surrogates reach the library, which refuses them
    elif isinstance(text, (bytes, bytearray, memoryview)):
        b = bytes(text)
    else:
        raise TypeError(f"lsrec: a text must be str or bytes, not {type(text).__name__}")
    if b"\x00" in b:
        raise InvalidArgumentError(1, "lsrec: the text contains a NUL character, which a C string cannot carry")
    return b


class Encoder(_Owner):
    """The all-MiniLM-L6-v2 sentence encoder, from an encoder file (``make encoder`` writes
    ``build/encoder/minilm.lsrec``; ``lsrec convert-encoder`` makes one from the model's
    safetensors).

    Texts are tokenized like the model's BERT WordPiece tokenizer (lower case, accents stripped,
    at most :attr:`max_tokens` tokens including ``[CLS]`` and ``[SEP]``) and embedded as the
    L2-normalised mean of the last hidden states: a float32 vector of length :attr:`dim`.

    An Encoder is immutable: any number of threads may use it at once (calls release the GIL).
    Close it with :meth:`close` or a ``with`` block (not while another thread still uses it);
    it is also freed when garbage-collected.

    >>> with Encoder("build/encoder/minilm.lsrec") as enc:
    ...     v = enc.encode("Toy Story (1995) Animation, Children's, Comedy")   # (384,) float32
    ...     m = enc.encode_batch(["Heat (1995)", "Casino (1995)"])          # (2, 384)
    """

    _kind = "encoder"
    _free_name = "lsrec_encoder_free"

    def __init__(self, path: PathLike) -> None:
        """Loads an encoder file (raises FileError, FormatError, BadMagicError, ChecksumError, ...;
        a recommender model file is not an encoder and is refused)."""
        self._handle: Optional[int] = None
        lib = _native.lib()
        p = os.path.abspath(os.fspath(path))
        out = c_void_p()
        _native.check(lib.lsrec_encoder_load(os.fsencode(p), byref(out)))
        if not out.value:
            raise InternalError(10, "lsrec: lsrec_encoder_load returned OK and a NULL handle")
        self._handle = out.value
        self._path = p
        self._dim = int(lib.lsrec_encoder_dim(out.value))
        self._max_tokens = int(lib.lsrec_encoder_max_tokens(out.value))

    @classmethod
    def load(cls, path: PathLike) -> "Encoder":
        """Same as ``Encoder(path)``."""
        return cls(path)

    # ---- lifetime ----------------------------------------------------------------------------

    def __reduce__(self) -> Tuple[Any, ...]:
        """Pickles as "load this file again"."""
        return (Encoder, (self._path,))

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"dim {self._dim}, max {self._max_tokens} tokens"
        return f"<lsrec.Encoder {self._path}: {state}>"

    # ---- queries -----------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """The absolute path the encoder was loaded from."""
        return self._path

    @property
    def dim(self) -> int:
        """Length of an embedding (384 for MiniLM)."""
        return self._dim

    @property
    def max_tokens(self) -> int:
        """Most tokens a text is cut to, ``[CLS]`` and ``[SEP]`` included (128)."""
        return self._max_tokens

    def tokenize(self, text: Text) -> List[int]:
        """The token ids the encoder sees for ``text``: ``[CLS]`` (101), the WordPiece ids,
        ``[SEP]`` (102), truncated to :attr:`max_tokens`. Invalid UTF-8 raises
        InvalidArgumentError."""
        b = _utf8(text)
        lib = _native.lib()
        h = self._h()
        n = c_size_t()
        cap = max(self._max_tokens, 2)
        for _ in range(2):  # the second round only if the library needs more than max_tokens
            ids = np.empty(cap, dtype=np.int32)
            code = lib.lsrec_encoder_tokenize(h, b, ids.ctypes.data, cap, byref(n))
            if code == BufferTooSmallError.code and n.value > cap:
                cap = n.value
                continue
            _native.check(code)
            return [int(i) for i in ids[: n.value]]
        raise InternalError(10, f"lsrec: lsrec_encoder_tokenize asked for {n.value} ids twice")

    def encode(self, text: Text) -> np.ndarray:
        """The embedding of one text: float32, shape (dim,), unit L2 norm."""
        b = _utf8(text)
        out = np.empty(self._dim, dtype=np.float32)
        _native.check(_native.lib().lsrec_encode_text(self._h(), b, out.ctypes.data, out.size))
        return out

    def encode_batch(self, texts: Sequence[Text]) -> np.ndarray:
        """Embeddings of many texts in one call: float32, shape (len(texts), dim), row i for
        texts[i] (the same as ``encode(texts[i])`` up to float rounding)."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("lsrec: encode_batch takes a sequence of texts; use encode for one text")
        encoded = [_utf8(t) for t in texts]
        h = self._h()
        n = len(encoded)
        out = np.empty((n, self._dim), dtype=np.float32)
        if n == 0:
            return out
        # The array holds pointers into the bytes objects in `encoded`, which outlive the call.
        ptrs = (c_char_p * n)(*encoded)
        _native.check(_native.lib().lsrec_encode_batch(h, ptrs, n, out.ctypes.data, out.size))
        return out
