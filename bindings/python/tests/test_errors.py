"""Bad inputs raise the typed exception for the library's status, with its message."""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys

import pytest

import lsrec
from conftest import crc32c, subprocess_env


def test_exception_hierarchy() -> None:
    for cls, code in [
        (lsrec.InvalidArgumentError, 1), (lsrec.FileError, 2), (lsrec.FormatError, 3), (lsrec.VersionError, 4),
        (lsrec.ChecksumError, 5), (lsrec.UnknownItemError, 6), (lsrec.BufferTooSmallError, 7),
        (lsrec.ModelMismatchError, 8), (lsrec.OutOfMemoryError, 9), (lsrec.InternalError, 10),
        (lsrec.BadMagicError, 11), (lsrec.TruncatedError, 12), (lsrec.ByteOrderError, 13),
        (lsrec.NonFiniteError, 14), (lsrec.OutOfOrderError, 15),
    ]:
        assert issubclass(cls, lsrec.LsrecError) and cls.code == code
    assert issubclass(lsrec.InvalidArgumentError, ValueError)
    assert issubclass(lsrec.UnknownItemError, KeyError)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(lsrec.FileError) as e:
        lsrec.Model.load(tmp_path / "nope.lsrec")
    assert e.value.code == 2 and "nope.lsrec" in e.value.message


def test_damaged_model_bytes(model_path) -> None:
    good = model_path.read_bytes()
    with pytest.raises(lsrec.BadMagicError):
        lsrec.Model.from_bytes(b"NOPE" + good[4:])
    with pytest.raises(lsrec.TruncatedError):
        lsrec.Model.from_bytes(good[: len(good) // 2])
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x10
    with pytest.raises(lsrec.ChecksumError):
        lsrec.Model.from_bytes(flipped)
    with pytest.raises(lsrec.LsrecError):
        lsrec.Model.from_bytes(b"")


def test_event_errors(model: lsrec.Model) -> None:
    s = model.new_state()
    with pytest.raises(lsrec.UnknownItemError) as e:
        s.update(123456789, 1)
    assert e.value.code == 6 and e.value.status
    assert str(e.value) == "lsrec_state_update: item id 123456789 is not in the model"
    s.update(1000, 2_000)
    with pytest.raises(lsrec.OutOfOrderError):
        s.update(1007, 1_999)
    with pytest.raises(lsrec.InvalidArgumentError, match="negative"):
        s.update(1007, -5)
    s.update(1007, 2_000)  # equal times are fine
    assert s.n_events == 2  # nothing was applied by the failed calls


def test_request_errors(model: lsrec.Model) -> None:
    s = model.new_state()
    s.update(1000, 10)
    with pytest.raises(lsrec.InvalidArgumentError):
        model.topk(s, 0)
    with pytest.raises(lsrec.InvalidArgumentError):
        model.topk_batch([s], 0)
    with pytest.raises(lsrec.InvalidArgumentError):
        model.explain(s, 1000, 0)
    with pytest.raises(lsrec.InvalidArgumentError, match="now"):
        model.score(s, now=-7)
    with pytest.raises(lsrec.UnknownItemError):
        model.score_items(s, [1000, 5])
    with pytest.raises(lsrec.UnknownItemError):
        model.explain(s, 5, 3)


def test_damaged_state_blobs(model: lsrec.Model) -> None:
    s = model.new_state()
    s.update_many([1000, 1007, 1014], [1, 2, -1])
    blob = bytes(s)
    with pytest.raises(lsrec.BadMagicError):
        model.load_state(b"XXXX" + blob[4:])
    with pytest.raises(lsrec.TruncatedError):
        model.load_state(blob[:-9])
    damaged = bytearray(blob)
    damaged[-8] ^= 1
    with pytest.raises(lsrec.ChecksumError):
        model.load_state(bytes(damaged))
    # Another model's state: a different fingerprint with a valid checksum.
    other = bytearray(blob)
    other[12:20] = struct.pack("<Q", struct.unpack("<Q", blob[12:20])[0] ^ 1)
    other[-4:] = struct.pack("<I", crc32c(bytes(other[:-4])))
    with pytest.raises(lsrec.ModelMismatchError) as e:
        model.load_state(bytes(other))
    assert e.value.code == 8


def test_exceptions_pickle() -> None:
    e = lsrec.UnknownItemError(6, "lsrec_state_update: item id 5 is not in the model", "unknown item")
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is lsrec.UnknownItemError and back.code == 6 and back.message == e.message


def test_library_not_found_message(tmp_path) -> None:
    code = "import lsrec\ntry:\n    lsrec.Model.load('x')\nexcept lsrec.LibraryNotFoundError as e:\n    print(e)\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env=subprocess_env(LSREC_LIBRARY=str(tmp_path / "missing" / "liblsrec.so")),
    ).stdout
    assert "cannot load liblsrec.so" in out and "missing" in out and "LSREC_LIBRARY" in out
