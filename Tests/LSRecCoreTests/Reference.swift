import Foundation
import LSRecFormat

/// An independent float64 plain-loop implementation of docs/MODEL.md, written from the equations
/// (keys and values computed per event as W_k e_j, W_v e_j, not the runtime's rearrangement).
struct Reference {
    let d, t, n, k, L, B: Int
    let fusion: String
    let X: [[Double]]
    let bias: [Double]
    let G, Gr: [[Double]]
    let Wx, Wh, Wq, Wk, Wv, Wg, Wo: [[Double]]
    let bl, bg: [Double]
    let ids: [Int64]
    /// β of the repeat term (0 without `score.repeat_bias`).
    let repeatBias: Double

    init(bytes: [UInt8]) throws {
        let f = try WeightFile(bytes: bytes)
        d = Int(try f.int("lsrec.dim")); t = Int(try f.int("lsrec.time_dim")); n = Int(try f.int("lsrec.n_items"))
        k = Int(try f.int("lsrec.text_dim")); L = Int(try f.int("lsrec.history")); B = Int(try f.int("lsrec.time_buckets"))
        fusion = try f.string("lsrec.fusion")
        repeatBias = f.tensor("score.repeat_bias") != nil ? Double(try f.floats("score.repeat_bias")[0]) : 0
        func mat(_ name: String, _ cols: Int) throws -> [[Double]] {
            let v = try f.floats(name).map(Double.init)
            return stride(from: 0, to: v.count, by: cols).map { Array(v[$0..<$0 + cols]) }
        }
        var e = try mat("item.embedding", d)
        if k > 0 {
            let T = try mat("item.text", k), P = try mat("item.text_proj", k)
            for i in 0..<n { for a in 0..<d { for j in 0..<k { e[i][a] += P[a][j] * T[i][j] } } }
        }
        X = e
        bias = try f.floats("item.bias").map(Double.init)
        G = try mat("time.event_gap", t); Gr = try mat("time.request_gap", t)
        Wx = try mat("lstm.w_x", d + t); Wh = try mat("lstm.w_h", d); bl = try f.floats("lstm.bias").map(Double.init)
        Wq = try mat("attn.w_q", d); Wk = try mat("attn.w_k", d); Wv = try mat("attn.w_v", d)
        Wg = try mat("gate.w", 2 * d + t); bg = try f.floats("gate.bias").map(Double.init); Wo = try mat("out.w_h", d)
        ids = try f.int64s("item.ids")
    }

    func matvec(_ A: [[Double]], _ x: [Double]) -> [Double] {
        A.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
    }
    func sig(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// bucket() from MODEL.md, written with floating-point log2 on purpose (an independent path).
    func bucket(_ delta: Int64?) -> Int {
        guard let delta else { return 0 }
        if delta <= 0 { return 1 }
        return 2 + min(B - 3, Int(floor(log2(Double(delta)) + 1e-12)))
    }

    struct State { var h: [Double]; var c: [Double]; var hist: [Int] = []; var last: Int64 = -1 }

    func run(_ events: [(id: Int64, time: Int64)]) -> State {
        var s = State(h: Array(repeating: 0, count: d), c: Array(repeating: 0, count: d))
        for (id, time) in events {
            let i = ids.firstIndex(of: id)!
            let gap: Int64? = time >= 0 && s.last >= 0 ? time - s.last : nil
            let x = X[i] + G[bucket(gap)]
            let z = zip(matvec(Wx, x), matvec(Wh, s.h)).enumerated().map { $1.0 + $1.1 + bl[$0] }
            for j in 0..<d {
                s.c[j] = sig(z[d + j]) * s.c[j] + sig(z[j]) * tanh(z[2 * d + j])
                s.h[j] = sig(z[3 * d + j]) * tanh(s.c[j])
            }
            s.hist.append(i)
            if s.hist.count > L { s.hist.removeFirst() }
            if time >= 0 { s.last = time }
        }
        return s
    }

    /// (u, α, g) at request time; now = nil means "last event".
    func fuse(_ s: State, now: Int64?) -> (u: [Double], alpha: [Double], g: [Double]) {
        var l = Array(repeating: 0.0, count: d), alpha: [Double] = []
        if fusion != "short" && !s.hist.isEmpty {
            let q = matvec(Wq, s.h)
            let a = s.hist.map { j in zip(q, matvec(Wk, X[j])).reduce(0) { $0 + $1.0 * $1.1 } / sqrt(Double(d)) }
            let m = a.max()!
            let ex = a.map { exp($0 - m) }, total = ex.reduce(0, +)
            alpha = ex.map { $0 / total }
            for (r, j) in s.hist.enumerated() {
                let v = matvec(Wv, X[j])
                for c in 0..<d { l[c] += alpha[r] * v[c] }
            }
        }
        let hOut = matvec(Wo, s.h)
        switch fusion {
        case "short": return (hOut, alpha, Array(repeating: 1, count: d))
        case "long": return (l, alpha, Array(repeating: 0, count: d))
        default:
            let tb = s.last < 0 ? 0 : bucket(now.map { $0 - s.last } ?? 0)
            let g = zip(matvec(Wg, s.h + l + Gr[tb]), bg).map { sig($0 + $1) }
            return ((0..<d).map { g[$0] * hOut[$0] + (1 - g[$0]) * l[$0] }, alpha, g)
        }
    }

    func scores(_ s: State, now: Int64?) -> [Double] {
        let u = fuse(s, now: now).u
        let held = Set(s.hist)
        return (0..<n).map { i in
            zip(u, X[i]).reduce(bias[i]) { $0 + $1.0 * $1.1 } + (held.contains(i) ? repeatBias : 0)
        }
    }

    /// Per history item contribution to item i's score (MODEL.md), summed over repeats.
    func contributions(_ s: State, item i: Int, now: Int64?) -> [Int: Double] {
        guard fusion != "short" else { return [:] }
        let f = fuse(s, now: now)
        var out: [Int: Double] = [:]
        for (r, j) in s.hist.enumerated() {
            let v = matvec(Wv, X[j])
            out[j, default: 0] += f.alpha[r] * (0..<d).reduce(0) { $0 + (1 - f.g[$1]) * v[$1] * X[i][$1] }
        }
        return out
    }
}
