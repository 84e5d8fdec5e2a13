/// Re-expresses trained item vectors so the text projection carries as much of them as a linear
/// map of the text can (run at export, after training):
///
///     x_i = E_i + P·t_i                          the trained vector of item i (unchanged below)
///     P'  = argmin Σ_{i warm} ‖x_i − P'·t_i‖² + λ‖P'‖²       (ridge regression, float64)
///     E'_i = x_i − P'·t_i
///
/// Trained ("warm") items score exactly as before (E' + P'·T = E + P·T up to float rounding), but
/// an item scored from its text alone — a cold-start item or one a host adds to a catalogue, whose
/// vector is P'·t (Model.newItemVector) — now gets the best linear guess of the vector a trained
/// item with that text has. Training alone leaves P weak: the ID embeddings E absorb most of the
/// signal, so P·t on its own ranks poorly (BENCHMARKS.md, cold-start table).
///
/// λ = `ridge` × mean diagonal of TᵀT (scale-free). Items whose text row is all zero carry no
/// text and do not enter the fit; `excluded` items (cold ones) neither.
public func refitTextProjection(_ p: inout NetworkParameters<Float>, excluded: [Bool], ridge: Double = 0.1) {
    let s = p.shape, n = s.nItems, d = s.dim, k = s.textDim
    guard k > 0, n > 0 else { return }
    precondition(excluded.count == n, "one flag per item")
    let e = p[.itemEmbedding], proj = p[.textProj], t = p.text

    // x_i = E_i + P t_i (float64), and the normal equations A = TᵀT, B = TᵀX over fitted items.
    var x = [Double](repeating: 0, count: n * d)
    var a = [Double](repeating: 0, count: k * k), b = [Double](repeating: 0, count: k * d)
    var fitted = 0
    for i in 0..<n {
        let ti = (0..<k).map { Double(t[i * k + $0]) }
        for r in 0..<d {
            var v = Double(e[i * d + r])
            for j in 0..<k { v += Double(proj[r * k + j]) * ti[j] }
            x[i * d + r] = v
        }
        guard !excluded[i], ti.contains(where: { $0 != 0 }) else { continue }
        fitted += 1
        for j in 0..<k where ti[j] != 0 {
            for l in 0..<k { a[j * k + l] += ti[j] * ti[l] }
            for r in 0..<d { b[j * d + r] += ti[j] * x[i * d + r] }
        }
    }
    guard fitted > 0 else { return }
    var trace = 0.0
    for j in 0..<k { trace += a[j * k + j] }
    let lambda = max(ridge * trace / Double(k), 1e-12)
    for j in 0..<k { a[j * k + j] += lambda }

    // A is symmetric positive definite (λ > 0): Cholesky A = LLᵀ, then solve for every column of B.
    guard let l = cholesky(a, k) else { return }     // cannot fail for SPD A; keep P if it does
    let w = choleskySolve(l, k, b, columns: d)       // W = A⁻¹B [k, d] = P'ᵀ

    var newE = e, newP = proj
    for r in 0..<d { for j in 0..<k { newP[r * k + j] = Float(w[j * d + r]) } }
    for i in 0..<n {
        for r in 0..<d {
            var v = x[i * d + r]
            for j in 0..<k { v -= Double(newP[r * k + j]) * Double(t[i * k + j]) }
            newE[i * d + r] = Float(v)
        }
    }
    p[.itemEmbedding] = newE
    p[.textProj] = newP
}

/// Lower-triangular L with A = LLᵀ for a symmetric positive definite k×k matrix, or nil.
func cholesky(_ a: [Double], _ k: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: k * k)
    for i in 0..<k {
        for j in 0...i {
            var s = a[i * k + j]
            for m in 0..<j { s -= l[i * k + m] * l[j * k + m] }
            if i == j {
                guard s > 0 else { return nil }
                l[i * k + i] = s.squareRoot()
            } else {
                l[i * k + j] = s / l[j * k + j]
            }
        }
    }
    return l
}

/// Solves LLᵀ·W = B for W (B and W are k × columns, row-major).
func choleskySolve(_ l: [Double], _ k: Int, _ b: [Double], columns c: Int) -> [Double] {
    var y = b
    for i in 0..<k {                          // forward: L·Y = B
        for m in 0..<i { let f = l[i * k + m]; if f != 0 { for r in 0..<c { y[i * c + r] -= f * y[m * c + r] } } }
        let inv = 1 / l[i * k + i]
        for r in 0..<c { y[i * c + r] *= inv }
    }
    for i in stride(from: k - 1, through: 0, by: -1) {   // backward: Lᵀ·W = Y
        for m in (i + 1)..<k { let f = l[m * k + i]; if f != 0 { for r in 0..<c { y[i * c + r] -= f * y[m * c + r] } } }
        let inv = 1 / l[i * k + i]
        for r in 0..<c { y[i * c + r] *= inv }
    }
    return y
}
