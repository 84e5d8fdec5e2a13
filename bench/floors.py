"""FLOP and byte counts of one update, one scoring and one training target (docs/MODEL.md), and
the time floors they imply on this machine (bench/floors.c measures the rates).

Counts: a multiply-add is 2 FLOPs; sigmoid/tanh/exp are not counted (they are a few per d or per
held event, small next to the products). Bytes: what must be read at least once per call — the
weights it touches, the item rows it gathers, the whole item matrix and biases for a full scoring.
A floor is max(FLOPs / sgemm rate, bytes / bandwidth), with the bandwidth of the level the data
lives in (cache for an ML-1M-size catalogue of 0.95 MB, DRAM for 1M items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict


@dataclass
class Counts:
    d: int
    L: int
    n: int
    t: int

    @property
    def update_flops(self) -> float:
        d, t = self.d, self.t
        return 2 * 4 * d * (d + t) + 2 * 4 * d * d + 2 * 4 * d + 3 * d  # W_x x, W_h h, biases, c and h

    @property
    def update_bytes(self) -> float:
        d, t = self.d, self.t
        return 4 * (4 * d * (2 * d + t) + 4 * d + d + t + 4 * d)  # weights, bias, e_i, G row, h/c in+out

    @property
    def attention_flops(self) -> float:
        d, m = self.d, self.L
        return 2 * d * d * 3 + 2 * m * d * 2  # W_q h, W_kᵀ q, W_v ē; a = E qk, ē = αᵀ E

    @property
    def score_flops(self) -> float:
        d, t, n = self.d, self.t, self.n
        return self.attention_flops + 2 * d * d + 2 * d * (2 * d + t) + 3 * d + 2 * n * d + n

    @property
    def item_bytes(self) -> float:
        return 4 * (self.n * self.d + self.n)

    @property
    def score_bytes(self) -> float:
        d, t = self.d, self.t
        weights = 4 * (4 * d * d + d * (2 * d + t) + d)
        return self.item_bytes + 4 * self.L * d + weights

    def update_floor_us(self, gflops: float, gbs: float) -> float:
        return max(self.update_flops / gflops, self.update_bytes / gbs) / 1e3

    def score_floor_us(self, gflops: float, gbs: float) -> float:
        return max(self.score_flops / gflops, self.score_bytes / gbs) / 1e3

    def request_floor_us(self, gflops: float, gbs: float) -> float:
        f = self.update_flops + self.score_flops
        b = self.update_bytes + self.score_bytes
        return max(f / gflops, b / gbs) / 1e3

    def batch_floor_us(self, gflops: float, gbs: float, users: int) -> float:
        """Per user, when `users` share one pass over the item matrix."""
        b = self.score_bytes - self.item_bytes + self.item_bytes / users
        return max(self.score_flops / gflops, b / gbs) / 1e3


def counts(d: int, L: int, n: int, t: int) -> Counts:
    return Counts(d, L, n, t)


def training_flops_per_target(d: int, L: int, n: int, t: int, window: int) -> Dict[str, float]:
    """FLOPs per training target of `lsrec train` (full softmax), forward + backward (backward ≈
    2× forward for every product). The loss part: scores U Xᵀ, ∂U = P X, ∂X = Pᵀ U (6 N d).
    Attention runs over a band of H = L + W − 1 held events per window row (Attention.swift)."""
    H = L + window - 1
    loss = 6.0 * n * d
    lstm = 3.0 * (2 * 4 * d * (d + t) + 2 * 4 * d * d)
    attention = 3.0 * (2 * d * d * 3 + 2 * H * d * 2)
    fusion = 3.0 * (2 * d * d + 2 * d * (2 * d + t))
    return {"loss": loss, "lstm": lstm, "attention": attention, "fusion": fusion,
            "total": loss + lstm + attention + fusion}
