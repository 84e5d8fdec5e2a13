"""An independent reader and writer of the `.lsrec` weight file (docs/FORMAT.md), for the
benchmark harness only.

It shares no code with the Swift reader, so the harness's numpy and ONNX engines compute from
weights decoded a second way. The reader checks the header (magic, byte order, version,
file_size), the directory ranges and every tensor's shape against its byte length; CRC32C
checks are optional (`verify=True`, needs the compiled helper bench/crc32c.c, built by
`make bench-compare`). The writer makes files the library loads: it needs that helper for the
checksums and the fingerprint.

    python3 bench/lsrec_file.py MODEL.lsrec       # prints metadata and tensor shapes
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

MAGIC = b"LSRECWT\x00"
TRAILER_MAGIC = b"LSRECEND"
VERSION = 1
BOM = 0x01020304
HEADER = 64
TRAILER = 16
DTYPES = {0: np.dtype("<f4"), 1: np.dtype("<f2"), 2: np.dtype("<i8")}
DTYPE_CODES = {np.dtype("<f4"): 0, np.dtype("<f2"): 1, np.dtype("<i8"): 2}
META_INT, META_FLOAT, META_STRING = 1, 2, 3

Meta = Union[int, float, str]


class LsrecFileError(ValueError):
    """The file is not a well-formed .lsrec file (message says what and where)."""


@dataclass
class LsrecFile:
    """A decoded weight file: metadata and tensors (numpy arrays; f16 widened to f32)."""

    meta: Dict[str, Meta]
    tensors: Dict[str, np.ndarray]
    file_size: int = 0
    crc_checked: bool = False
    dtypes: Dict[str, int] = field(default_factory=dict)

    def int(self, key: str) -> int:
        v = self.meta[key]
        if not isinstance(v, int):
            raise LsrecFileError(f"metadata {key} is not an int64")
        return v


# ---- CRC32C through a tiny C helper (pure Python would take minutes on a 256 MB tensor) ----

_crc_lib: Optional[ctypes.CDLL] = None


def _crc_helper() -> ctypes.CDLL:
    global _crc_lib
    if _crc_lib is None:
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.environ.get("LSREC_BENCH_CRC", os.path.join(here, "..", "build", "bench", "libcrc32c.so"))
        if not os.path.exists(path):
            raise LsrecFileError(f"CRC32C helper {path} not built (make bench-tools)")
        lib = ctypes.CDLL(path)
        lib.bench_crc32c.restype = ctypes.c_uint32
        lib.bench_crc32c.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t]
        if lib.bench_crc32c(0, b"123456789", 9) != 0xE3069283:
            raise LsrecFileError("CRC32C helper fails the check value")
        _crc_lib = lib
    return _crc_lib


def crc32c(data: Union[bytes, memoryview, np.ndarray], crc: int = 0) -> int:
    """CRC32C (Castagnoli) of data; pass the previous value as crc to continue a stream."""
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1).view(np.uint8)
    buf = np.ascontiguousarray(buf)
    return int(_crc_helper().bench_crc32c(crc, buf.ctypes.data, buf.size))


def _fnv1a64(data: bytes, h: int = 0xCBF29CE484222325) -> int:
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ---- Reader ------------------------------------------------------------------------------------


class _Cursor:
    def __init__(self, buf: memoryview, pos: int, end: int, what: str) -> None:
        self.buf, self.pos, self.end, self.what = buf, pos, end, what

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > self.end:
            raise LsrecFileError(f"{self.what} runs past its end at byte {self.pos}")
        v = self.buf[self.pos : self.pos + n]
        self.pos += n
        return v

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def name(self, kind: str) -> str:
        n = self.u32()
        if not 1 <= n <= 256:
            raise LsrecFileError(f"{kind} length {n} outside 1..256")
        raw = bytes(self.take(n))
        if b"\x00" in raw:
            raise LsrecFileError(f"{kind} contains a NUL byte")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise LsrecFileError(f"{kind} is not UTF-8") from None


def read(path: str, verify: bool = False, mapped: bool = False) -> LsrecFile:
    """Reads and decodes a .lsrec file. Tensors are numpy copies (f32 / i64), or with
    mapped=True read-only views of a memory map of the file (f32/i64 tensors; no second copy of
    a multi-GB item matrix)."""
    if mapped:
        with open(path, "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return decode(mm, verify=verify, copy=False)
    with open(path, "rb") as f:
        data = f.read()
    return decode(data, verify=verify)


def decode(data: Union[bytes, "mmap.mmap"], verify: bool = False, copy: bool = True) -> LsrecFile:
    buf = memoryview(data)
    size = len(buf)
    if size < HEADER + TRAILER:
        raise LsrecFileError(f"truncated: {size} bytes, a file has at least 80")
    if bytes(buf[0:8]) != MAGIC:
        raise LsrecFileError("bad magic: not an .lsrec file")
    version, bom, file_size, meta_off, meta_len, meta_count, tensor_count, dir_off, dir_len, header_crc = (
        struct.unpack("<IIQQQIIQII", buf[8:64]))
    if bom == 0x04030201:
        raise LsrecFileError("written by a big-endian machine")
    if bom != BOM:
        raise LsrecFileError(f"byte-order mark 0x{bom:08x}")
    if version != VERSION:
        raise LsrecFileError(f"format version {version}, this reader knows {VERSION}")
    if size < file_size:
        raise LsrecFileError(f"truncated: {size} bytes of {file_size}")
    if size > file_size:
        raise LsrecFileError(f"{size - file_size} bytes after the declared end")
    if meta_off != HEADER or dir_off != meta_off + meta_len or dir_off + dir_len > size - TRAILER:
        raise LsrecFileError("metadata/directory offsets out of range")
    if bytes(buf[size - 16 : size - 8]) != TRAILER_MAGIC or struct.unpack("<I", buf[size - 4 :])[0] != 0:
        raise LsrecFileError("bad trailer")
    if verify:
        if crc32c(buf[0:60]) != header_crc:
            raise LsrecFileError("header checksum mismatch")
        if crc32c(buf[0 : size - 16]) != struct.unpack("<I", buf[size - 8 : size - 4])[0]:
            raise LsrecFileError("file checksum mismatch")

    meta: Dict[str, Meta] = {}
    c = _Cursor(buf, meta_off, meta_off + meta_len, "metadata block")
    for _ in range(meta_count):
        key = c.name("metadata key")
        kind = c.u32()
        if key in meta:
            raise LsrecFileError(f"duplicate metadata key {key}")
        if kind == META_INT:
            meta[key] = int(struct.unpack("<q", c.take(8))[0])
        elif kind == META_FLOAT:
            meta[key] = float(struct.unpack("<d", c.take(8))[0])
        elif kind == META_STRING:
            n = c.u32()
            if n > 1 << 20:
                raise LsrecFileError(f"metadata {key}: string of {n} bytes")
            meta[key] = bytes(c.take(n)).decode("utf-8")
        else:
            raise LsrecFileError(f"metadata {key}: unknown type {kind}")
    if c.pos != c.end:
        raise LsrecFileError("unused bytes in the metadata block")

    tensors: Dict[str, np.ndarray] = {}
    dtypes: Dict[str, int] = {}
    ranges: List[Tuple[int, int, str]] = []
    fp = 0xCBF29CE484222325
    c = _Cursor(buf, dir_off, dir_off + dir_len, "tensor directory")
    for _ in range(tensor_count):
        name = c.name("tensor name")
        dtype, ndim = c.u32(), c.u32()
        if dtype not in DTYPES:
            raise LsrecFileError(f"{name}: dtype {dtype}")
        if not 1 <= ndim <= 4:
            raise LsrecFileError(f"{name}: ndim {ndim}")
        dims = [c.u64() for _ in range(ndim)]
        offset, length, crc = c.u64(), c.u64(), c.u32()
        if name in tensors:
            raise LsrecFileError(f"duplicate tensor {name}")
        if length != int(np.prod(dims, dtype=object)) * DTYPES[dtype].itemsize:
            raise LsrecFileError(f"{name}: {length} bytes for shape {dims}")
        if offset % 64 or offset < dir_off + dir_len or offset + length > size - TRAILER:
            raise LsrecFileError(f"{name}: range [{offset}, {offset + length}) misplaced")
        raw = buf[offset : offset + length]
        if verify and crc32c(raw) != crc:
            raise LsrecFileError(f"{name}: checksum mismatch")
        arr = np.frombuffer(raw, dtype=DTYPES[dtype]).reshape(dims)
        tensors[name] = arr.astype(np.float32) if dtype == 1 else (arr.copy() if copy else arr)
        dtypes[name] = dtype
        ranges.append((offset, offset + length, name))
        fp = _fnv1a64(name.encode() + b"\x00" + struct.pack("<I", dtype)
                      + b"".join(struct.pack("<Q", x) for x in dims) + struct.pack("<I", crc), fp)
    if c.pos != c.end:
        raise LsrecFileError("unused bytes in the tensor directory")
    ranges.sort()
    for (a0, a1, an), (b0, _, bn) in zip(ranges, ranges[1:]):
        if b0 < a1:
            raise LsrecFileError(f"tensors {an} and {bn} overlap")
    if meta.get("general.fingerprint") != f"{fp:016x}":
        raise LsrecFileError("fingerprint differs from the tensors'")
    out = LsrecFile(meta=meta, tensors=tensors, file_size=size, crc_checked=verify, dtypes=dtypes)
    check_model_shapes(out)
    return out


def check_model_shapes(f: LsrecFile) -> None:
    """The lsrec-v1 tensor shapes against the metadata (docs/FORMAT.md)."""
    if f.meta.get("general.architecture") != "lsrec-v1":
        raise LsrecFileError(f"architecture {f.meta.get('general.architecture')!r}")
    d, n, k = f.int("lsrec.dim"), f.int("lsrec.n_items"), f.int("lsrec.text_dim")
    t, b = f.int("lsrec.time_dim"), f.int("lsrec.time_buckets")
    want = {
        "item.ids": (n,), "item.embedding": (n, d), "item.bias": (n,),
        "time.event_gap": (b, t), "time.request_gap": (b, t),
        "lstm.w_x": (4 * d, d + t), "lstm.w_h": (4 * d, d), "lstm.bias": (4 * d,),
        "attn.w_q": (d, d), "attn.w_k": (d, d), "attn.w_v": (d, d),
        "gate.w": (d, 2 * d + t), "gate.bias": (d,), "out.w_h": (d, d),
    }
    if k > 0:
        want.update({"item.text": (n, k), "item.text_proj": (d, k)})
    for name, shape in want.items():
        if name not in f.tensors:
            raise LsrecFileError(f"missing tensor {name}")
        if f.tensors[name].shape != shape:
            raise LsrecFileError(f"{name}: shape {f.tensors[name].shape}, expected {shape}")
    if f.meta.get("lsrec.fusion") not in ("gate", "short", "long"):
        raise LsrecFileError(f"lsrec.fusion {f.meta.get('lsrec.fusion')!r}")


def item_matrix(f: LsrecFile) -> np.ndarray:
    """X = E + T Pᵀ (MODEL.md, item vectors), float32 [N, d]."""
    x = f.tensors["item.embedding"].astype(np.float32)
    if f.int("lsrec.text_dim") > 0:
        x = (x.astype(np.float64) + f.tensors["item.text"].astype(np.float64) @ f.tensors["item.text_proj"].T.astype(np.float64)).astype(np.float32)
    return np.ascontiguousarray(x)


# ---- Writer ------------------------------------------------------------------------------------


def write(path: str, meta: Dict[str, Meta], tensors: Dict[str, np.ndarray]) -> int:
    """Writes a .lsrec file (f32 tensors, i64 for integer arrays) and returns its size.
    Streams tensor data to disk, so a 2.6 GB model needs no second copy in memory."""
    items = [(name, np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float32))
             for name, a in tensors.items()]
    crcs = [crc32c(a) for _, a in items]
    fp = 0xCBF29CE484222325
    for (name, a), crc in zip(items, crcs):
        fp = _fnv1a64(name.encode() + b"\x00" + struct.pack("<I", DTYPE_CODES[a.dtype.newbyteorder("<")])
                      + b"".join(struct.pack("<Q", x) for x in a.shape) + struct.pack("<I", crc), fp)
    meta = dict(meta)
    meta["general.fingerprint"] = f"{fp:016x}"

    mb = bytearray()
    for key, v in meta.items():
        kb = key.encode()
        mb += struct.pack("<I", len(kb)) + kb
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise TypeError(f"metadata {key}: {type(v).__name__}")
        if isinstance(v, int):
            mb += struct.pack("<Iq", META_INT, v)
        elif isinstance(v, float):
            mb += struct.pack("<Id", META_FLOAT, v)
        else:
            vb = v.encode()
            mb += struct.pack("<II", META_STRING, len(vb)) + vb

    def dir_entry(name: str, a: np.ndarray, off: int, crc: int) -> bytes:
        nb = name.encode()
        return (struct.pack("<I", len(nb)) + nb + struct.pack("<II", DTYPE_CODES[a.dtype.newbyteorder("<")], a.ndim)
                + b"".join(struct.pack("<Q", x) for x in a.shape) + struct.pack("<QQI", off, a.nbytes, crc))

    dir_len = sum(len(dir_entry(n, a, 0, 0)) for n, a in items)
    pos = HEADER + len(mb) + dir_len
    offsets = []
    for _, a in items:
        pos = (pos + 63) // 64 * 64
        offsets.append(pos)
        pos += a.nbytes
    file_size = pos + TRAILER
    db = b"".join(dir_entry(n, a, o, c) for (n, a), o, c in zip(items, offsets, crcs))
    head = bytearray(MAGIC + struct.pack("<IIQQQIIQI", VERSION, BOM, file_size, HEADER, len(mb), len(meta),
                                         len(items), HEADER + len(mb), dir_len))
    head += struct.pack("<I", crc32c(bytes(head)))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        prefix = bytes(head) + bytes(mb) + db
        f.write(prefix)
        running = crc32c(prefix)  # file_crc covers every byte before the trailer
        written = HEADER + len(mb) + dir_len
        for (_, a), off in zip(items, offsets):
            pad = b"\x00" * (off - written)
            running = crc32c(pad, running) if pad else running
            f.write(pad)
            running = crc32c(a, running)
            f.write(memoryview(a.reshape(-1).view(np.uint8)))
            written = off + a.nbytes
        f.write(TRAILER_MAGIC + struct.pack("<II", running, 0))
    os.replace(tmp, path)
    return file_size


def random_model(n_items: int, d: int = 64, history: int = 200, t: int = 16, buckets: int = 32,
                 seed: int = 1, chunk: int = 1 << 20) -> Tuple[Dict[str, Meta], Dict[str, np.ndarray]]:
    """A random-weight lsrec-v1 model of the given shape (ids 1..N); scales like a trained one
    (item vectors ~0.05·N(0,1)·√(64/d), weights ~ 1/√fan-in) so no score overflows."""
    rng = np.random.default_rng(seed)
    emb = np.empty((n_items, d), dtype=np.float32)
    for a in range(0, n_items, chunk):  # in chunks: a float64 temporary of 10M x 64 would be 5 GB
        b = min(n_items, a + chunk)
        emb[a:b] = rng.standard_normal((b - a, d), dtype=np.float32) * np.float32(0.3 / np.sqrt(d))

    def w(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols), dtype=np.float32) / np.float32(np.sqrt(cols)))

    meta: Dict[str, Meta] = {
        "general.architecture": "lsrec-v1", "general.created_by": "bench/lsrec_file.py random_model",
        "lsrec.dim": d, "lsrec.history": history, "lsrec.n_items": n_items, "lsrec.text_dim": 0,
        "lsrec.time_dim": t, "lsrec.time_buckets": buckets, "lsrec.fusion": "gate",
    }
    tensors = {
        "item.ids": np.arange(1, n_items + 1, dtype=np.int64),
        "item.embedding": emb,
        "item.bias": (rng.standard_normal(n_items, dtype=np.float32) * np.float32(0.1)),
        "time.event_gap": w(buckets, t), "time.request_gap": w(buckets, t),
        "lstm.w_x": w(4 * d, d + t), "lstm.w_h": w(4 * d, d), "lstm.bias": np.zeros(4 * d, np.float32),
        "attn.w_q": w(d, d), "attn.w_k": w(d, d), "attn.w_v": w(d, d),
        "gate.w": w(d, 2 * d + t), "gate.bias": np.zeros(d, np.float32), "out.w_h": w(d, d),
    }
    return meta, tensors


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: lsrec_file.py MODEL.lsrec")
    m = read(sys.argv[1], verify=True)
    for k, v in m.meta.items():
        print(f"{k} = {v}")
    for k, a in m.tensors.items():
        print(f"{k}: {a.dtype} {list(a.shape)}")
