/// The SASRec building blocks with their hand-written backward passes, on raw row-major
/// buffers. Every parameter-gradient reduction runs serially in row order (deterministic);
/// per-row work is spread over threads (each row writes only itself).

// MARK: LayerNorm

/// out = γ ⊙ x̂ + β with x̂ = (x − mean) · rstd, rstd = 1/√(var + ε) per row (biased variance).
/// Keeps x̂ and rstd for the backward pass.
func sasLayerNormForward<T: SASRecScalar>(
    _ x: UnsafePointer<T>, rows: Int, d: Int, gamma: UnsafePointer<T>, beta: UnsafePointer<T>, eps: T,
    out: UnsafeMutablePointer<T>, xhat: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>, threads: Int
) {
    let invD = 1 / T(d)
    sasParallel(rows, threads: threads) { range in
        for r in range {
            let xr = x + r * d, o = out + r * d, xh = xhat + r * d
            var mean: T = 0
            for j in 0..<d { mean += xr[j] }
            mean *= invD
            var v: T = 0
            for j in 0..<d { let c = xr[j] - mean; v += c * c }
            let s = 1 / (v * invD + eps).squareRoot()
            rstd[r] = s
            for j in 0..<d {
                let h = (xr[j] - mean) * s
                xh[j] = h
                o[j] = gamma[j] * h + beta[j]
            }
        }
    }
}

/// dx (= or +=) rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)) with g = dy ⊙ γ; dγ += Σ dy ⊙ x̂, dβ += Σ dy.
func sasLayerNormBackward<T: SASRecScalar>(
    _ dy: UnsafePointer<T>, rows: Int, d: Int, xhat: UnsafePointer<T>, rstd: UnsafePointer<T>,
    gamma: UnsafePointer<T>, dx: UnsafeMutablePointer<T>, accumulate: Bool,
    dGamma: UnsafeMutablePointer<T>, dBeta: UnsafeMutablePointer<T>, threads: Int
) {
    for r in 0..<rows {
        let g = dy + r * d, xh = xhat + r * d
        for j in 0..<d { dGamma[j] += g[j] * xh[j]; dBeta[j] += g[j] }
    }
    let invD = 1 / T(d)
    sasParallel(rows, threads: threads) { range in
        for r in range {
            let g = dy + r * d, xh = xhat + r * d, o = dx + r * d
            var m1: T = 0, m2: T = 0
            for j in 0..<d { let gj = g[j] * gamma[j]; m1 += gj; m2 += gj * xh[j] }
            m1 *= invD; m2 *= invD
            let s = rstd[r]
            if accumulate {
                for j in 0..<d { o[j] += s * (g[j] * gamma[j] - m1 - xh[j] * m2) }
            } else {
                for j in 0..<d { o[j] = s * (g[j] * gamma[j] - m1 - xh[j] * m2) }
            }
        }
    }
}

// MARK: Dense layers

/// y = x·W + b for `rows` rows: x [rows, din], W [din, dout], y [rows, dout]. Rows are split
/// over threads (each part one single-threaded sgemm).
func sasLinear<T: SASRecScalar>(_ x: UnsafePointer<T>, rows: Int, din: Int, dout: Int,
                                 w: UnsafePointer<T>, b: UnsafePointer<T>, out: UnsafeMutablePointer<T>,
                                 threads: Int) {
    sasParallel(rows, threads: threads, minChunk: 256) { range in
        let r0 = range.lowerBound
        T.sasGemm(false, false, range.count, dout, din, 1, x + r0 * din, din, w, dout, 0, out + r0 * dout, dout)
        for r in range {
            let o = out + r * dout
            for j in 0..<dout { o[j] += b[j] }
        }
    }
}

/// For y = x·W + b: dW += xᵀ·dy, db += Σ_rows dy, and dx (= or +=) dy·Wᵀ.
/// With threads > 1 and a `scratch` buffer, dW and db are summed per contiguous part of the rows
/// and the parts added in order (deterministic for a given thread count).
func sasLinearBackward<T: SASRecScalar>(_ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, rows: Int,
                                         din: Int, dout: Int, w: UnsafePointer<T>,
                                         dW: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>,
                                         dx: UnsafeMutablePointer<T>, accumulate: Bool,
                                         threads: Int = 1, scratch: SASBuf<T>? = nil) {
    sasParallel(rows, threads: threads, minChunk: 256) { range in
        let r0 = range.lowerBound
        T.sasGemm(false, true, range.count, din, dout, 1, dy + r0 * dout, dout, w, dout, accumulate ? 1 : 0,
                  dx + r0 * din, din)
    }
    let parts = scratch == nil ? 1 : min(threads, rows / 256)
    if parts <= 1 {
        T.sasGemm(true, false, din, dout, rows, 1, x, din, dy, dout, 1, dW, dout)
        sasColumnSums(dy, rows: 0..<rows, cols: dout, into: db)
        return
    }
    let stride = din * dout + dout
    scratch!.ensure(parts * stride)
    let P = scratch!.p
    sasParallel(parts, threads: parts, minChunk: 1) { cs in
        for c in cs {
            let range = (c * rows / parts)..<((c + 1) * rows / parts), r0 = range.lowerBound
            let pw = P + c * stride, pb = pw + din * dout
            T.sasGemm(true, false, din, dout, range.count, 1, x + r0 * din, din, dy + r0 * dout, dout, 0, pw, dout)
            pb.update(repeating: 0, count: dout)
            sasColumnSums(dy, rows: range, cols: dout, into: pb)
        }
    }
    for c in 0..<parts {
        let pw = P + c * stride, pb = pw + din * dout
        for i in 0..<(din * dout) { dW[i] += pw[i] }
        for j in 0..<dout { db[j] += pb[j] }
    }
}

/// into[j] += Σ_{r ∈ rows} m[r, j], rows in order.
@inline(__always)
func sasColumnSums<T: SASRecScalar>(_ m: UnsafePointer<T>, rows: Range<Int>, cols: Int, into: UnsafeMutablePointer<T>) {
    for r in rows {
        let g = m + r * cols
        for j in 0..<cols { into[j] += g[j] }
    }
}

// MARK: Causal self-attention (one sequence)

/// One single-head causal attention over a sequence of `L` rows:
/// A = softmax_row(scale · q·kᵀ) restricted to j ≤ i (entries above the diagonal are stored as 0),
/// out = (A ⊙ mask)·v, where `mask` (nil = none) holds the dropout keep-mask scaled by 1/(1−p).
/// `tmp` needs L·L elements when `mask` is given.
func sasAttentionForward<T: SASRecScalar>(
    q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>, L: Int, d: Int, scale: T,
    A: UnsafeMutablePointer<T>, mask: UnsafePointer<T>?, tmp: UnsafeMutablePointer<T>,
    out: UnsafeMutablePointer<T>
) {
    T.sasGemm(false, true, L, L, d, scale, q, d, k, d, 0, A, L)
    for i in 0..<L {
        let row = A + i * L
        var mx = row[0]
        for j in 0...i where row[j] > mx { mx = row[j] }
        let inv = 1 / T.sasExpShiftSum(row, i + 1, shift: mx)
        for j in 0...i { row[j] *= inv }
        for j in (i + 1)..<L { row[j] = 0 }                // causal mask: no look-ahead
    }
    var weights = UnsafePointer(A)
    if let m = mask {
        for e in 0..<(L * L) { tmp[e] = A[e] * m[e] }
        weights = UnsafePointer(tmp)
    }
    T.sasGemm(false, false, L, d, L, 1, weights, L, v, d, 0, out, d)
}

/// Backward of `sasAttentionForward` given dOut [L, d]: writes dq, dk, dv [L, d].
/// `tmp1`, `tmp2` need L·L elements each.
func sasAttentionBackward<T: SASRecScalar>(
    q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>, L: Int, d: Int, scale: T,
    A: UnsafePointer<T>, mask: UnsafePointer<T>?, dOut: UnsafePointer<T>,
    dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>,
    tmp1: UnsafeMutablePointer<T>, tmp2: UnsafeMutablePointer<T>
) {
    var weights = A
    if let m = mask {
        for e in 0..<(L * L) { tmp1[e] = A[e] * m[e] }
        weights = UnsafePointer(tmp1)
    }
    T.sasGemm(true, false, L, d, L, 1, weights, L, dOut, d, 0, dv, d)    // dv = (A⊙M)ᵀ·dOut
    T.sasGemm(false, true, L, L, d, 1, dOut, d, v, d, 0, tmp2, L)         // d(A⊙M) = dOut·vᵀ
    for i in 0..<L {
        let a = A + i * L, g = tmp2 + i * L
        if let m = mask { for j in 0...i { g[j] *= m[i * L + j] } }
        // Softmax backward on the causal support: dS = A ⊙ (dA − Σ_j A dA).
        var dot: T = 0
        for j in 0...i { dot += a[j] * g[j] }
        for j in 0...i { g[j] = a[j] * (g[j] - dot) }
        for j in (i + 1)..<L { g[j] = 0 }
    }
    T.sasGemm(false, false, L, d, L, scale, tmp2, L, k, d, 0, dq, d)     // dq = scale · dS·k
    T.sasGemm(true, false, L, d, L, scale, tmp2, L, q, d, 0, dk, d)      // dk = scale · dSᵀ·q
}

// MARK: Dropout

/// Fills `n` inverted-dropout multipliers: 0 with probability ≈ `rate`, else 1/(1 − rate′) where
/// rate′ is the rate actually realised by the 16-bit threshold (so the expectation is exactly 1).
/// Four masks per 64-bit draw, in index order: the same generator state gives the same masks.
func sasDropoutMask<T: SASRecScalar, G: RandomNumberGenerator>(_ m: UnsafeMutablePointer<T>, _ n: Int,
                                                               rate: Double, rng: inout G) {
    let threshold = UInt64((rate * 65536).rounded())
    let keep = T(1 / (1 - Double(threshold) / 65536))
    var i = 0
    while i < n {
        var bits = rng.next()
        for _ in 0..<4 where i < n {
            m[i] = (bits & 0xFFFF) >= threshold ? keep : 0
            bits >>= 16
            i += 1
        }
    }
}
