"""docs/MODEL.md in plain numpy: one user's state, the LSTM step, the request-time forward pass,
scores and top-k. The harness's numpy engine (float32) and its parity reference (float64).

The state is the one every Python engine of the harness shares in shape: h, c, a ring of the
last L dense item indices (slot order: attention is a softmax-weighted sum, so the order of the
held events does not matter), the number held, the next slot, and the last known event time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from lsrec_file import LsrecFile, item_matrix

# The item matrix in the requested precision, once per (file, dtype): a 10M-item model is 2.6 GB.


def time_bucket(delta: Optional[int], buckets: int) -> int:
    """MODEL.md, time buckets: 0 unknown, 1 for Δ ≤ 0, else 2 + min(B − 3, ⌊log₂ Δ⌋)."""
    if delta is None:
        return 0
    if delta <= 0:
        return 1
    return 2 + min(buckets - 3, delta.bit_length() - 1)


@dataclass
class UserState:
    h: np.ndarray
    c: np.ndarray
    ring: np.ndarray  # int64 [L], dense item indices in slot order
    held: int = 0
    next_slot: int = 0
    last_time: int = -1

    def copy(self) -> "UserState":
        return UserState(self.h.copy(), self.c.copy(), self.ring.copy(), self.held, self.next_slot, self.last_time)

    def event_bucket(self, ts: int, buckets: int) -> int:
        gap = ts - self.last_time if ts >= 0 and self.last_time >= 0 else None
        return time_bucket(gap, buckets)

    def request_bucket(self) -> int:
        """The bucket of `now = LSREC_NOW_LAST_EVENT`: 1 with a known last time, else 0."""
        return 1 if self.last_time >= 0 else 0

    def push(self, item: int, ts: int) -> None:
        L = self.ring.shape[0]
        self.ring[self.next_slot] = item
        self.next_slot = (self.next_slot + 1) % L
        self.held = min(self.held + 1, L)
        if ts >= 0:
            self.last_time = ts

    def held_items(self) -> np.ndarray:
        return self.ring[: self.held]  # the ring fills slots 0.. first, so these are the held ones


class NumpyEngine:
    """MODEL.md with numpy in one dtype (float32 for timing, float64 as the parity reference)."""

    def __init__(self, f: LsrecFile, dtype: type = np.float32, x: Optional[np.ndarray] = None) -> None:
        T = f.tensors
        self.dt = np.dtype(dtype)
        self.d, self.L = f.int("lsrec.dim"), f.int("lsrec.history")
        self.t, self.B = f.int("lsrec.time_dim"), f.int("lsrec.time_buckets")
        self.fusion = str(f.meta["lsrec.fusion"])
        cast = lambda a: np.ascontiguousarray(a, dtype=self.dt)  # noqa: E731
        self.X = cast(item_matrix(f) if x is None else x)
        self.b = cast(T["item.bias"])
        self.G, self.Gt = cast(T["time.event_gap"]), cast(T["time.request_gap"])
        self.Wx, self.Wh, self.bl = cast(T["lstm.w_x"]), cast(T["lstm.w_h"]), cast(T["lstm.bias"])
        self.Wq, self.WkT, self.Wv = cast(T["attn.w_q"]), cast(T["attn.w_k"].T), cast(T["attn.w_v"])
        self.Wg, self.bg, self.Wo = cast(T["gate.w"]), cast(T["gate.bias"]), cast(T["out.w_h"])
        # The repeat term (MODEL.md "Scores"): beta on every distinct held item; 0 without it.
        self.beta = self.dt.type(T["score.repeat_bias"][0]) if "score.repeat_bias" in T else None
        self.scale = self.dt.type(1 / np.sqrt(self.d))
        self.one = self.dt.type(1)

    def new_state(self) -> UserState:
        z = np.zeros(self.d, dtype=self.dt)
        return UserState(z, z.copy(), np.zeros(self.L, dtype=np.int64))

    def _sig(self, x: np.ndarray) -> np.ndarray:
        return self.one / (self.one + np.exp(-x))

    def update(self, s: UserState, item: int, ts: int) -> None:
        d = self.d
        x = np.concatenate((self.X[item], self.G[s.event_bucket(ts, self.B)]))
        z = self.Wx @ x + self.Wh @ s.h + self.bl
        c = self._sig(z[d : 2 * d]) * s.c + self._sig(z[:d]) * np.tanh(z[2 * d : 3 * d])
        s.h = self._sig(z[3 * d :]) * np.tanh(c)
        s.c = c
        s.push(item, ts)

    def user_vector(self, s: UserState) -> np.ndarray:
        l = np.zeros(self.d, dtype=self.dt)
        if self.fusion != "short" and s.held > 0:
            E = self.X[s.held_items()]  # [m, d]
            a = E @ (self.WkT @ (self.Wq @ s.h)) * self.scale
            a = np.exp(a - a.max())
            l = self.Wv @ ((a / a.sum()) @ E)
        if self.fusion == "long":
            return l
        h_out = self.Wo @ s.h
        if self.fusion == "short":
            return h_out
        g = self._sig(self.Wg @ np.concatenate((s.h, l, self.Gt[s.request_bucket()])) + self.bg)
        return g * h_out + (self.one - g) * l

    def scores(self, s: UserState) -> np.ndarray:
        sc = self.X @ self.user_vector(s) + self.b
        if self.beta is not None and s.held > 0:
            sc[np.unique(s.held_items())] += self.beta
        return sc

    def topk(self, s: UserState, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        """The k best dense indices, best first (ties: lower index first, as lsrec_topk)."""
        sc = self.scores(s)
        part = np.argpartition(-sc, k - 1)[:k]
        order = np.lexsort((part, -sc[part]))
        return part[order], sc[part[order]]
