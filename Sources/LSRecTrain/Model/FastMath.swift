import LSRecCore

/// Vectorised single-precision maths for the trainer's hot loops (softmax over the catalogue,
/// LSTM activations). Double keeps libm: it exists for exact gradient checks. The eight-lane
/// kernels themselves live in LSRecCore (VectorMath.swift), shared with inference.

/// Vectorised exp (LSRecCore's `vexp8`: Cephes polynomial, relative error ≈ 2e-7).
@inline(__always)
func fastExp8(_ x0: SIMD8<Float>) -> SIMD8<Float> { vexp8(x0) }

/// x[i] = exp(x[i]) for i < n.
func fastExpInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    let raw = UnsafeMutableRawPointer(x)
    while i + 8 <= n {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        raw.storeBytes(of: fastExp8(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    if i < n {
        var tail = SIMD8<Float>(repeating: 0)
        for j in 0..<(n - i) { tail[j] = x[i + j] }
        let r = fastExp8(tail)
        for j in 0..<(n - i) { x[i + j] = r[j] }
    }
}

@inline(__always) private func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeMutableRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// max(x[0..<n]), n ≥ 1.
func fastMaximum(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float {
    var i = 0
    var m = x[0]
    if n >= 8 {
        var v = load8(x, 0)
        i = 8
        while i + 8 <= n { v = pointwiseMax(v, load8(x, i)); i += 8 }
        m = v.max()
    }
    while i < n { m = Swift.max(m, x[i]); i += 1 }
    return m
}

/// x[i] = exp(x[i] − shift); returns Σ x[i] (8 lanes summed in a fixed order).
func fastExpShiftSum(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    let s = SIMD8<Float>(repeating: shift)
    while i + 8 <= n {
        let e = fastExp8(load8(x, i) - s)
        store8(e, x, i)
        acc += e
        i += 8
    }
    var sum = acc.sum()
    if i < n {
        var tail = SIMD8<Float>(repeating: -100)
        for j in 0..<(n - i) { tail[j] = x[i + j] - shift }
        let e = fastExp8(tail)
        for j in 0..<(n - i) { x[i + j] = e[j]; sum += e[j] }
    }
    return sum
}

/// x[i] *= a.
func fastScale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by a: Float) {
    var i = 0
    while i + 8 <= n { store8(load8(x, i) * a, x, i); i += 8 }
    while i < n { x[i] *= a; i += 1 }
}

@inline(__always) private func sigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> { vsigmoid8(x) }

@inline(__always) private func tanh8(_ x: SIMD8<Float>) -> SIMD8<Float> { vtanh8(x) }

/// x[i] = σ(x[i]).
func fastSigmoidInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(sigmoid8(load8(x, i)), x, i); i += 8 }
    while i < n { x[i] = 1 / (1 + fastExp8(SIMD8(repeating: -x[i]))[0]); i += 1 }
}

/// x[i] = tanh(x[i]).
func fastTanhInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 8 <= n { store8(tanh8(load8(x, i)), x, i); i += 8 }
    while i < n { x[i] = tanh8(SIMD8(repeating: x[i]))[0]; i += 1 }
}
