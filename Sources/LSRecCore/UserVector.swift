import LSRecFormat
import LSRecKernels
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
        let d = dim
        let attends = config.fusion != .short && state.historyCount > 0
        var u = [Float](repeating: 0, count: d), gate = [Float](repeating: 0, count: d)
        var alpha = [Float](repeating: 0, count: attends ? state.historyCount : 0)
        u.withUnsafeMutableBufferPointer { u in
            gate.withUnsafeMutableBufferPointer { g in
                alpha.withUnsafeMutableBufferPointer { a in
                    fuse(state, now: now, u: u.baseAddress!, alpha: attends ? a.baseAddress! : nil, gate: g.baseAddress!)
                }
            }
        }
        return FusedInterest(u: u, alpha: alpha, gate: gate)
    }

    /// The forward pass into caller storage, with no heap allocation: u (d floats), and when
    /// given, α (historyCount floats; untouched for fusion = short) and the gate g (d floats).
    ///   a_r = (W_kᵀ W_q h / √d) · e_r,  α = softmax(a),  l = W_v Σ α_r e_r,  h′ = W_o h,
    ///   g = σ(b_g + W_g [h; l; Gτ]),  u = g ⊙ h′ + (1 − g) ⊙ l   (fusion = gate)
    func fuse(_ state: UserState, now: RequestTime, u: UnsafeMutablePointer<Float>,
              alpha alphaOut: UnsafeMutablePointer<Float>?, gate gateOut: UnsafeMutablePointer<Float>?) {
        let d = dim, t = config.timeDim, m = state.historyCount, fusion = config.fusion
        let attends = fusion != .short && m > 0
        let bucket = requestBucket(state, now)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 5 * d + (attends ? m : 0)) { scratch in
            // [h; l] side by side: the gate multiplies them with one product.
            let qk = scratch.baseAddress!, mean = qk + d, hl = qk + 2 * d, l = hl + d, hOut = qk + 4 * d
            let logits = alphaOut ?? (qk + 5 * d)
            l.initialize(repeating: 0, count: d)
            state.h.withUnsafeBufferPointer { hb in
                let h = hb.baseAddress!
                if attends {
                    prepared.attnQK.withUnsafeBufferPointer { gemv($0.baseAddress!, lda: d, rows: d, cols: d, h, accumulate: false, qk) }
                    items.withUnsafeBufferPointer { attend(state, x: $0.baseAddress!, query: qk, alpha: logits, mean: mean) }
                    attnWv.withUnsafeBufferPointer { gemv($0.baseAddress!, lda: d, rows: d, cols: d, mean, accumulate: false, l) }
                }
                switch fusion {
                case .long:
                    u.update(from: l, count: d)
                    gateOut?.initialize(repeating: 0, count: d)
                case .short:
                    outW.withUnsafeBufferPointer { gemv($0.baseAddress!, lda: d, rows: d, cols: d, h, accumulate: false, u) }
                    gateOut?.initialize(repeating: 1, count: d)
                case .gate:
                    outW.withUnsafeBufferPointer { gemv($0.baseAddress!, lda: d, rows: d, cols: d, h, accumulate: false, hOut) }
                    // g = σ(b_g + W_gτ Gτ[bucket] + W_gh h + W_gl l): the first two are prepared.
                    let g = gateOut ?? mean
                    prepared.gateByBucket.withUnsafeBufferPointer { g.update(from: $0.baseAddress! + bucket * d, count: d) }
                    hl.update(from: h, count: d)
                    gateW.withUnsafeBufferPointer { gemv($0.baseAddress!, lda: 2 * d + t, rows: d, cols: 2 * d, hl, accumulate: true, g) }
                    sigmoidInPlace(g, d)
                    for j in 0..<d { u[j] = g[j] * hOut[j] + (1 - g[j]) * l[j] }
                }
            }
        }
    }

    /// Attention over the held events: α = softmax(K q) and mean = Kᵀ α, where K's rows are the
    /// held items' vectors (model rows, or the state's copies for items added to a catalogue).
    /// The kernels read the rows where they are, through an array of row pointers (the ring holds
    /// item indices, not vectors, so the state stays small; copying 200 rows into a block cost a
    /// quarter of a request's user vector). `gather: false` takes a plain row-at-a-time loop
    /// instead (tests compare the two).
    func attend(_ state: UserState, x: UnsafePointer<Float>, query q: UnsafePointer<Float>,
                alpha: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, gather: Bool? = nil) {
        let d = dim, m = state.historyCount
        var best = -Float.infinity
        if gather ?? true {
            state.withHeldVectorPointers(items: x) { rows in
                best = lsk_score_gathered(rows, m, d, q, alpha)
                let total = expShiftSum(alpha, m, shift: best)
                for r in 0..<m { alpha[r] /= total }
                lsk_sum_gathered(rows, m, d, alpha, mean)
            }
        } else {
            state.forEachHeldVector(items: x) { r, e in
                alpha[r] = dot(e, q, d)
                best = max(best, alpha[r])
            }
            let total = expShiftSum(alpha, m, shift: best)
            mean.initialize(repeating: 0, count: d)
            state.forEachHeldVector(items: x) { r, e in
                alpha[r] /= total
                axpy(alpha[r], e, mean, d)
            }
        }
    }

    /// The user vector u at request time `now`.
    public func userVector(_ state: UserState, now: RequestTime) throws -> [Float] {
        try checkOwnership(state)
        return fuse(state, now: now).u
    }
}
