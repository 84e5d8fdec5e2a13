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
        let limit = Double(Float.greatestFiniteMagnitude) / 4
        let d = dim, t = config.timeDim, n = nItems, buckets = config.timeBuckets

        /// max over rows of |a[r, j]|, per column j.
        func columnMax(_ a: [Float], rows: Int, cols: Int) -> [Double] {
            var m = [Double](repeating: 0, count: cols)
            for r in 0..<rows { for j in 0..<cols { m[j] = max(m[j], Double(abs(a[r * cols + j]))) } }
            return m
        }
        /// Per row r: |bias[r]| + Σ_j |a[r, j]| · x[j]  (a bound on (a·x + bias)[r] for |x| ≤ x).
        func rowBound(_ a: [Float], rows: Int, cols: Int, _ x: [Double], bias: [Float]? = nil) -> [Double] {
            (0..<rows).map { r in
                var s = bias.map { Double(abs($0[r])) } ?? 0
                for j in 0..<cols { s += Double(abs(a[r * cols + j])) * x[j] }
                return s
            }
        }
        func require(_ bound: [Double], _ what: String) throws {
            let worst = bound.max() ?? 0
            guard worst <= limit else {  // also catches a Double overflow to +Inf
                throw LSRecError(.nonFinite, "weights too large: \(what) can reach \(worst), beyond float32's range")
            }
        }

        let unit = [Double](repeating: 1, count: d)  // |h| ≤ 1
        let e = columnMax(items, rows: n, cols: d)
        let eventTime = columnMax(eventGap, rows: buckets, cols: t)
        let requestTime = columnMax(requestGap, rows: buckets, cols: t)

        // LSTM: z = b + W_x [e; G] + W_h h
        let zx = rowBound(lstmWx, rows: 4 * d, cols: d + t, e + eventTime, bias: lstmBias)
        let zh = rowBound(lstmWh, rows: 4 * d, cols: d, unit)
        try require(zip(zx, zh).map { $0 + $1 }, "an LSTM pre-activation")
        // Attention logits q_k · e_r with q_k = W_kᵀ W_q h; l = W_v ē.
        let q = rowBound(attnWq, rows: d, cols: d, unit)
        var qk = [Double](repeating: 0, count: d)
        for i in 0..<d { for j in 0..<d { qk[j] += Double(abs(attnWk[i * d + j])) * q[i] } }
        try require(q + qk, "an attention query")
        try require([zip(qk, e).reduce(0) { $0 + $1.0 * $1.1 }], "an attention logit")
        let l = rowBound(attnWv, rows: d, cols: d, e)
        let hOut = rowBound(outW, rows: d, cols: d, unit)
        try require(l + hOut, "the long- or short-term interest")
        // Gate: σ(b + W_g [h; l; Gτ]); u = g ⊙ h′ + (1 − g) ⊙ l.
        try require(rowBound(gateW, rows: d, cols: 2 * d + t, unit + l + requestTime, bias: gateBias), "a gate pre-activation")
        let u = zip(hOut, l).map { max($0, $1) }
        // Scores b_i + e_i · u; explanations α_r · e_r · W_vᵀ((1 − g) ⊙ e_i).
        try require(rowBound(items, rows: n, cols: d, u, bias: itemBias), "an item score")
        var y = [Double](repeating: 0, count: d)
        for i in 0..<d { for j in 0..<d { y[j] += Double(abs(attnWv[i * d + j])) * e[i] } }
        try require([zip(y, e).reduce(0) { $0 + $1.0 * $1.1 }], "an explanation weight")
    }
}
