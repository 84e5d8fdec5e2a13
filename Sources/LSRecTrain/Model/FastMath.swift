/// Vectorised single-precision maths for the trainer's hot loops (softmax over the catalogue,
/// LSTM activations). Double keeps libm: it exists for exact gradient checks.
///
/// Vectorised single-precision exp (Cephes polynomial, relative error ≈ 2e-7): the full
/// softmax evaluates N·targets exponentials per epoch, and scalar expf would dominate.
/// Inputs below −87.3 give 0 (well, ~1e-38), above 88.3 are clamped (2^127 stays finite).
@inline(__always)
func fastExp8(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let lo = SIMD8<Float>(repeating: -87.3), hi = SIMD8<Float>(repeating: 88.3)
    var x = x0.replacing(with: lo, where: x0 .< lo)
    x = x.replacing(with: hi, where: x .> hi)
    // Round x·log2(e) to an integer with the 1.5·2^23 trick: the integer lands in the low
    // mantissa bits, so no (slow, scalarised) SIMD float→int conversion is needed.
    let magic = SIMD8<Float>(repeating: 12582912.0)
    let t = x * 1.44269504088896341 + magic
    let n = t - magic
    x = x - n * 0.693359375          // ln2 split in two for an exact reduction
    x = x - n * -2.12194440e-4
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = p * x + 1.3981999507e-3
    p = p * x + 8.3334519073e-3
    p = p * x + 4.1665795894e-2
    p = p * x + 1.6666665459e-1
    p = p * x + 5.0000001201e-1
    let y = p * (x * x) + x + 1
    let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- 0x4B40_0000      // n as an integer
    let e = (ni &+ 127) &<< 23
    return y * unsafeBitCast(e, to: SIMD8<Float>.self)
}

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

@inline(__always) private func sigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    1 / (1 + fastExp8(-x))
}

/// tanh: Cephes odd polynomial for |x| < 0.625 (no cancellation near 0), else 1 − 2/(e^{2|x|}+1).
@inline(__always) private func tanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let a = pointwiseMin(x.replacing(with: -x, where: x .< 0), SIMD8(repeating: 40))
    let big = 1 - 2 / (fastExp8(a + a) + 1)
    let z = x * x
    var p = SIMD8<Float>(repeating: -5.70498872745e-3)
    p = p * z + 2.06390887954e-2
    p = p * z - 5.37397155531e-2
    p = p * z + 1.33314422036e-1
    p = p * z - 3.33332819422e-1
    let small = p * z * x + x
    let signedBig = big.replacing(with: -big, where: x .< 0)
    return signedBig.replacing(with: small, where: a .< 0.625)
}

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
