import LSRecFormat

extension Model {
    /// Refuses weights that are finite but so large that inference could overflow Float32 (found
    /// by fuzzing, docs/RELIABILITY.md): an LSTM pre-activation of ±Inf, or +Inf − Inf inside a
    /// matrix product, gives NaN in h and c, so the state's scores are NaN and its serialised
    /// blob is refused by lsrec_state_deserialize (a user's context would be lost).
    ///
    /// Interval bounds, in Double, on every intermediate of MODEL.md's forward pass, from
    /// |h| ≤ 1 (h = o ⊙ tanh c), |ē| ≤ max |e| (a convex combination of item vectors), gates in
    /// [0, 1]; each must stay below Float.greatestFiniteMagnitude / 4 (the margin covers float
    /// rounding of the partial sums). c needs no bound: |c| grows by at most 1 per event. Trained
    /// models are many orders of magnitude below the limit. O(parameters), once at load.
    func checkNoOverflow() throws {
        let e = itemColumnMax
        if let (worst, what) = overflow(history: e, exactItemScores: true) {
            throw LSRecError(.nonFinite, "weights too large: \(what) can reach \(worst), beyond float32's range")
        }
    }

    /// max over rows of |a[r, j]|, per column j.
    static func columnMax<A: RandomAccessCollection<Float>>(_ a: A, rows: Int, cols: Int) -> [Double] where A.Index == Int {
        var m = [Double](repeating: 0, count: cols)
        for r in 0..<rows { for j in 0..<cols { m[j] = max(m[j], Double(abs(a[r * cols + j]))) } }
        return m
    }

    /// The largest |value| an added item's vector may have to be held in a user state (an event
    /// on an item added to a catalogue): the bounds of `checkNoOverflow` must still hold when
    /// every held or fed vector lies in the box |e_j| ≤ max(ê_j, limit). The largest power of two
    /// from 2¹⁶ · max_j ê_j down that passes (O(d² log) at load; trained models pass 2¹⁶ with room
    /// to spare, so in practice any projected text vector is accepted); min_j ê_j — the model's
    /// own box — if none does.
    func largestHeldVectorLimit() -> Float {
        let e = itemColumnMax
        let top = e.max() ?? 0
        guard top > 0 else { return 0 }
        for exponent in stride(from: 16, through: -24, by: -1) {
            let limit = Double(Float(top) * Float(sign: .plus, exponent: exponent, significand: 1))
            guard limit.isFinite, limit <= Double(Float.greatestFiniteMagnitude) else { continue }
            if overflow(history: e.map { max($0, limit) }, exactItemScores: false) == nil { return Float(limit) }
        }
        return Float(e.min() ?? 0)
    }

    /// The per-dimension box any held (or fed) item vector lies in: ê_j widened to `heldVectorLimit`.
    func heldVectorBox() -> [Double] {
        itemColumnMax.map { max($0, Double(heldVectorLimit)) }
    }

    /// The first intermediate (value, name) that could leave float32's range when every item
    /// vector the state sees (fed to the LSTM, held for attention) lies in the box |e_j| ≤ hist_j,
    /// or nil. Targets of scores and explanations are the model's items. `exactItemScores` bounds
    /// the scores item by item (O(N·d)); otherwise with the column maxima (O(d), looser).
    func overflow(history hist: [Double], exactItemScores: Bool) -> (Double, String)? {
        let limit = Double(Float.greatestFiniteMagnitude) / 4
        let d = dim, t = config.timeDim, n = nItems, buckets = config.timeBuckets

        /// Per row r: |bias[r]| + Σ_j |a[r, j]| · x[j]  (a bound on (a·x + bias)[r] for |x| ≤ x).
        func rowBound<A: RandomAccessCollection<Float>>(_ a: A, rows: Int, cols: Int, _ x: [Double],
                                                        bias: [Float]? = nil) -> [Double] where A.Index == Int {
            (0..<rows).map { r in
                var s = bias.map { Double(abs($0[r])) } ?? 0
                for j in 0..<cols { s += Double(abs(a[r * cols + j])) * x[j] }
                return s
            }
        }
        var failure: (Double, String)?
        func require(_ bound: [Double], _ what: String) {
            let worst = bound.max() ?? 0
            if failure == nil && !(worst <= limit) { failure = (worst, what) }  // also catches +Inf
        }

        let unit = [Double](repeating: 1, count: d)  // |h| ≤ 1
        let e = exactItemScores ? [] : itemColumnMax
        let eventTime = Model.columnMax(eventGap, rows: buckets, cols: t)
        let requestTime = Model.columnMax(requestGap, rows: buckets, cols: t)

        // LSTM: z = b + W_x [e; G] + W_h h
        let zx = rowBound(lstmWx, rows: 4 * d, cols: d + t, hist + eventTime, bias: lstmBias)
        let zh = rowBound(lstmWh, rows: 4 * d, cols: d, unit)
        require(zip(zx, zh).map { $0 + $1 }, "an LSTM pre-activation")
        // Attention logits q_k · e_r with q_k = W_kᵀ W_q h; l = W_v ē.
        let q = rowBound(attnWq, rows: d, cols: d, unit)
        var qk = [Double](repeating: 0, count: d)
        for i in 0..<d { for j in 0..<d { qk[j] += Double(abs(attnWk[i * d + j])) * q[i] } }
        require(q + qk, "an attention query")
        require([zip(qk, hist).reduce(0) { $0 + $1.0 * $1.1 }], "an attention logit")
        let l = rowBound(attnWv, rows: d, cols: d, hist)
        let hOut = rowBound(outW, rows: d, cols: d, unit)
        require(l + hOut, "the long- or short-term interest")
        // Gate: σ(b + W_g [h; l; Gτ]); u = g ⊙ h′ + (1 − g) ⊙ l.
        require(rowBound(gateW, rows: d, cols: 2 * d + t, unit + l + requestTime, bias: gateBias), "a gate pre-activation")
        let u = zip(hOut, l).map { max($0, $1) }
        // Scores b_i + e_i · u; explanations α_r · e_r · W_vᵀ((1 − g) ⊙ e_i), e_r in the box.
        if exactItemScores {
            require(rowBound(items, rows: n, cols: d, u, bias: itemBias), "an item score")
        } else {
            let maxBias = itemBias.reduce(0) { max($0, Double(abs($1))) }
            require([zip(e, u).reduce(maxBias) { $0 + $1.0 * $1.1 }], "an item score")
        }
        let target = exactItemScores ? hist : e
        var y = [Double](repeating: 0, count: d)
        for i in 0..<d { for j in 0..<d { y[j] += Double(abs(attnWv[i * d + j])) * target[i] } }
        require([zip(y, hist).reduce(0) { $0 + $1.0 * $1.1 }], "an explanation weight")
        return failure
    }
}
