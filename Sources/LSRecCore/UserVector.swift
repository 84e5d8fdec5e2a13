import LSRecFormat
#if canImport(Glibc)
import Glibc
#endif

/// Everything the request-time forward pass produces; `explain` needs more than `u`.
struct FusedInterest {
    /// The user vector u (d).
    var u: [Float]
    /// Attention weights α over the held events, oldest first (empty for fusion = short).
    var alpha: [Float]
    /// The gate g (d); all ones for `short`, all zeros for `long`.
    var gate: [Float]
}

extension Model {
    /// Request-gap bucket for τ (MODEL.md, "Fusion at request time").
    func requestBucket(_ state: UserState, _ now: RequestTime) -> Int {
        guard state.lastTime >= 0 else { return 0 }
        switch now {
        case .unknown: return 0
        case .lastEvent: return 1
        case .at(let t): return timeBucket(t &- state.lastTime, buckets: config.timeBuckets)
        }
    }

    /// The forward pass at request time: attention, gate, fusion (MODEL.md).
    func fuse(_ state: UserState, now: RequestTime) -> FusedInterest {
        let d = dim, t = config.timeDim, m = state.historyCount
        var l = [Float](repeating: 0, count: d)
        var alpha: [Float] = []
        if config.fusion != .short && m > 0 {
            // a_r = (W_kᵀ W_q h) · e_r / √d
            var q = [Float](repeating: 0, count: d)
            BLAS.gemv(rows: d, cols: d, attnWq, state.h, beta: 0, &q)
            var qk = [Float](repeating: 0, count: d)
            BLAS.gemv(trans: true, rows: d, cols: d, attnWk, q, beta: 0, &qk)
            let scale = 1 / Float(d).squareRoot()
            alpha = [Float](repeating: 0, count: m)
            var best = -Float.infinity
            for r in 0..<m {
                let base = state.historyItem(r) * d
                var s: Float = 0
                for j in 0..<d { s += qk[j] * items[base + j] }
                alpha[r] = s * scale
                best = max(best, alpha[r])
            }
            var total: Float = 0
            for r in 0..<m { alpha[r] = expf(alpha[r] - best); total += alpha[r] }
            // ē = Σ α_r e_r, then l = W_v ē
            var mean = [Float](repeating: 0, count: d)
            for r in 0..<m {
                alpha[r] /= total
                let base = state.historyItem(r) * d, w = alpha[r]
                for j in 0..<d { mean[j] += w * items[base + j] }
            }
            BLAS.gemv(rows: d, cols: d, attnWv, mean, beta: 0, &l)
        }
        switch config.fusion {
        case .long:
            return FusedInterest(u: l, alpha: alpha, gate: [Float](repeating: 0, count: d))
        case .short, .gate:
            var hOut = [Float](repeating: 0, count: d)
            BLAS.gemv(rows: d, cols: d, outW, state.h, beta: 0, &hOut)
            if config.fusion == .short {
                return FusedInterest(u: hOut, alpha: alpha, gate: [Float](repeating: 1, count: d))
            }
            let bucket = requestBucket(state, now)
            var input = state.h + l
            input.append(contentsOf: requestGap[bucket * t ..< (bucket + 1) * t])
            var g = gateBias
            BLAS.gemv(rows: d, cols: 2 * d + t, gateW, input, beta: 1, &g)
            var u = [Float](repeating: 0, count: d)
            for j in 0..<d {
                g[j] = sigmoid(g[j])
                u[j] = g[j] * hOut[j] + (1 - g[j]) * l[j]
            }
            return FusedInterest(u: u, alpha: alpha, gate: g)
        }
    }

    /// The user vector u at request time `now`.
    public func userVector(_ state: UserState, now: RequestTime) throws -> [Float] {
        try checkOwnership(state)
        return fuse(state, now: now).u
    }
}
