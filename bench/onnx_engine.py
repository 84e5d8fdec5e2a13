"""The lsrec-v1 request as ONNX graphs (onnx.helper), run by onnxruntime on one thread.

What the graphs hold, and why it is a fair comparison:
- Weights are initializers (the item matrix X once, shared by the Gather of the LSTM input,
  the Gather of the attention's history rows and the scoring Gemm).
- The user state lives outside the graph, in the same UserState as the numpy engine
  (numpy_engine.py): h, c, the ring of the last L item indices, last known time. It goes in as
  graph inputs and h, c come back as outputs. The host does what lsrec does outside its
  arithmetic too: picks the two time buckets (integer ⌊log₂⌋) and writes the new item into the
  ring slot. No graph recomputes anything lsrec does not: attention is evaluated once per request
  over the held events, as lsrec does (lsrec keeps no cached keys either).
- Three sessions: "update" (LSTM step), "score" (attention, gate, fusion, X·u + b, TopK) and
  "request" (both in one graph, one session.run per request: the cheapest way to drive ORT from
  Python, used for the headline request row).
- TopK k = 10 over all N scores; indices are dense, mapped to ids by the host when needed.
Only lsrec.fusion = gate is built (the shipped model); the harness refuses other fusions here.
A model with the repeat term (`score.repeat_bias`) gets it in the graph: Unique over the held
items, then a scatter of their scores + β before TopK.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from lsrec_file import LsrecFile
from numpy_engine import UserState

OPSET = 17
F32 = TensorProto.FLOAT
I64 = TensorProto.INT64


class _Builder:
    def __init__(self) -> None:
        self.nodes: List[onnx.NodeProto] = []
        self.inits: Dict[str, onnx.TensorProto] = {}
        self.count = 0

    def init(self, name: str, a: np.ndarray) -> str:
        if name not in self.inits:
            self.inits[name] = numpy_helper.from_array(np.ascontiguousarray(a), name)
        return name

    def op(self, kind: str, inputs: List[str], n_out: int = 1, **attrs: object) -> List[str]:
        self.count += 1
        outs = [f"{kind.lower()}_{self.count}_{j}" for j in range(n_out)]
        self.nodes.append(helper.make_node(kind, inputs, outs, **attrs))
        return outs

    def one(self, kind: str, inputs: List[str], **attrs: object) -> str:
        return self.op(kind, inputs, 1, **attrs)[0]


def _lstm_step(g: _Builder, W: Dict[str, str], h: str, c: str, item: str, ev_bucket: str) -> Tuple[str, str]:
    xe = g.one("Gather", [W["X"], item], axis=0)  # [1, d]
    xg = g.one("Gather", [W["G"], ev_bucket], axis=0)  # [1, t]
    x = g.one("Concat", [xe, xg], axis=1)
    z = g.one("Add", [g.one("Add", [g.one("MatMul", [x, W["WxT"]]), g.one("MatMul", [h, W["WhT"]])]), W["bl"]])
    zi, zf, zg, zo = g.op("Split", [z], 4, axis=1)
    c2 = g.one("Add", [g.one("Mul", [g.one("Sigmoid", [zf]), c]), g.one("Mul", [g.one("Sigmoid", [zi]), g.one("Tanh", [zg])])])
    h2 = g.one("Mul", [g.one("Sigmoid", [zo]), g.one("Tanh", [c2])])
    return h2, c2


def _score(g: _Builder, W: Dict[str, str], h: str, ring: str, req_bucket: str, k: int) -> Tuple[str, str, str, str]:
    q = g.one("MatMul", [h, W["WqT"]])
    qk = g.one("MatMul", [q, W["Wk"]])  # (W_kᵀ q)ᵀ = qᵀ W_k
    E = g.one("Gather", [W["X"], ring], axis=0)  # [m, d]
    a = g.one("Gemm", [qk, E], transB=1, alpha=float(W["scale"]))  # [1, m]
    alpha = g.one("Softmax", [a], axis=1)
    l = g.one("MatMul", [g.one("MatMul", [alpha, E]), W["WvT"]])
    h_out = g.one("MatMul", [h, W["WoT"]])
    tau = g.one("Gather", [W["Gt"], req_bucket], axis=0)
    gate = g.one("Sigmoid", [g.one("Add", [g.one("MatMul", [g.one("Concat", [h, l, tau], axis=1), W["WgT"]]), W["bg"]])])
    u = g.one("Add", [g.one("Mul", [gate, h_out]), g.one("Mul", [g.one("Sub", [W["one"], gate]), l])])
    s = g.one("Gemm", [u, W["X"], W["b"]], transB=1)  # [1, N] = u Xᵀ + b
    if "beta" in W:
        # The repeat term: s[j] += β once per distinct held item j (Unique first: a scatter with
        # repeated indices is undefined).
        held = g.one("Unsqueeze", [g.op("Unique", [ring], 4, sorted=1)[0], W["axis0"]])  # [1, m']
        s = g.one("ScatterElements", [s, held, g.one("Add", [g.one("GatherElements", [s, held], axis=1), W["beta"]])], axis=1)
    vals, idx = g.op("TopK", [s, W["k"]], 2, axis=1, largest=1, sorted=1)
    return u, s, vals, idx


def build(f: LsrecFile, x: np.ndarray, kind: str, k: int = 10, with_scores: bool = False) -> onnx.ModelProto:
    """kind: "update", "score" or "request". with_scores adds u and the N scores as outputs."""
    if f.meta["lsrec.fusion"] != "gate":
        raise ValueError("the ONNX engine builds fusion = gate only")
    T = f.tensors
    d, t = f.int("lsrec.dim"), f.int("lsrec.time_dim")
    g = _Builder()
    W = {
        "X": g.init("X", x.astype(np.float32)), "b": g.init("b", T["item.bias"].reshape(1, -1).astype(np.float32)),
        "G": g.init("G", T["time.event_gap"]), "Gt": g.init("Gt", T["time.request_gap"]),
        "WxT": g.init("WxT", T["lstm.w_x"].T), "WhT": g.init("WhT", T["lstm.w_h"].T),
        "bl": g.init("bl", T["lstm.bias"].reshape(1, -1)),
        "WqT": g.init("WqT", T["attn.w_q"].T), "Wk": g.init("Wk", T["attn.w_k"]), "WvT": g.init("WvT", T["attn.w_v"].T),
        "WoT": g.init("WoT", T["out.w_h"].T), "WgT": g.init("WgT", T["gate.w"].T),
        "bg": g.init("bg", T["gate.bias"].reshape(1, -1)),
        "one": g.init("one", np.ones((1, 1), np.float32)), "k": g.init("k", np.array([k], np.int64)),
        "scale": 1 / np.sqrt(d),  # type: ignore[dict-item]
    }
    if "score.repeat_bias" in T:
        W["beta"] = g.init("beta", T["score.repeat_bias"].reshape(1, 1).astype(np.float32))
        W["axis0"] = g.init("axis0", np.array([0], np.int64))
    inputs, outputs = [], []

    def inp(name: str, ty: int, shape: List[object]) -> str:
        inputs.append(helper.make_tensor_value_info(name, ty, shape))
        return name

    def out(name: str, src: str, ty: int, shape: List[object]) -> None:
        g.nodes.append(helper.make_node("Identity", [src], [name]))
        outputs.append(helper.make_tensor_value_info(name, ty, shape))

    h = inp("h", F32, [1, d])
    if kind in ("update", "request"):
        c = inp("c", F32, [1, d])
        h2, c2 = _lstm_step(g, W, h, c, inp("item", I64, [1]), inp("ev_bucket", I64, [1]))
        out("h_out", h2, F32, [1, d])
        out("c_out", c2, F32, [1, d])
        h = h2
    if kind in ("score", "request"):
        u, s, vals, idx = _score(g, W, h, inp("ring", I64, ["m"]), inp("req_bucket", I64, [1]), k)
        out("top_scores", vals, F32, [1, k])
        out("top_idx", idx, I64, [1, k])
        if with_scores:
            out("u", u, F32, [1, d])
            out("scores", s, F32, [1, "N"])
    used = {name for node in g.nodes for name in node.input}  # each graph keeps the weights it reads
    graph = helper.make_graph(g.nodes, f"lsrec_{kind}", inputs, outputs, [v for k, v in g.inits.items() if k in used])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="lsrec-bench")
    onnx.checker.check_model(model, full_check=False)
    return model


def session(model: onnx.ModelProto) -> ort.InferenceSession:
    """One intra-op and one inter-op thread, sequential, all graph optimisations."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])


class OrtEngine:
    """Drives the three sessions with UserState (the numpy engine's state layout, float32)."""

    def __init__(self, f: LsrecFile, x: np.ndarray, k: int = 10, with_scores: bool = False,
                 kinds: Tuple[str, ...] = ("update", "score", "request")) -> None:
        self.B = f.int("lsrec.time_buckets")
        self.k = k
        # Each session holds its own copy of the item matrix: build only those that are used.
        self.upd = session(build(f, x, "update", k)) if "update" in kinds else None
        self.sco = session(build(f, x, "score", k, with_scores)) if "score" in kinds else None
        self.req = session(build(f, x, "request", k, with_scores)) if "request" in kinds else None
        self.req_out = ["h_out", "c_out", "top_idx", "top_scores"] + (["u", "scores"] if with_scores else [])
        self.sco_out = ["top_idx", "top_scores"] + (["u", "scores"] if with_scores else [])

    @staticmethod
    def _vec(a: np.ndarray) -> np.ndarray:
        return a.reshape(1, -1)

    def update(self, s: UserState, item: int, ts: int) -> None:
        b = s.event_bucket(ts, self.B)
        h, c = self.upd.run(["h_out", "c_out"], {"h": self._vec(s.h), "c": self._vec(s.c),
                                                 "item": np.array([item], np.int64), "ev_bucket": np.array([b], np.int64)})
        s.h, s.c = h[0], c[0]
        s.push(item, ts)

    def topk(self, s: UserState) -> List[np.ndarray]:
        return self.sco.run(self.sco_out, {"h": self._vec(s.h), "ring": s.held_items(),
                                           "req_bucket": np.array([s.request_bucket()], np.int64)})

    def request(self, s: UserState, item: int, ts: int) -> List[np.ndarray]:
        """Update then top-k in one session.run: the host pushes the event first (ring slot and
        last time), then the graph steps the LSTM and scores at the time of that event."""
        b = s.event_bucket(ts, self.B)
        h, c = self._vec(s.h), self._vec(s.c)
        s.push(item, ts)
        res = self.req.run(self.req_out, {"h": h, "c": c, "item": np.array([item], np.int64),
                                          "ev_bucket": np.array([b], np.int64), "ring": s.held_items(),
                                          "req_bucket": np.array([s.request_bucket()], np.int64)})
        s.h, s.c = res[0][0], res[1][0]
        return res[2:]
