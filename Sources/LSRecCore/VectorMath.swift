// Eight-lane single-precision exp, sigmoid and tanh for the inference hot paths (LSTM step,
// attention softmax, gate). They are also the trainer's (LSRecTrain/Model/FastMath.swift), so
// training and inference use one implementation; on CPUs with AVX2 the request paths run C twins
// of them (kernels.c: lsk_lstm_cell, lsk_exp_shift_sum, lsk_sigmoid) that KernelTests hold to
// the same bits. `package` + `@inlinable`: inlined across the package's modules, not part of
// the library's public API.
//
// Swift's SIMD comparisons (`.<`, `any`, `replacing(with:where:)`, pointwiseMin) compile to a
// loop over lanes on x86-64, hundreds of instructions per call. These kernels use float
// arithmetic and integer bit operations only (which do compile to SSE), and take a lane-by-lane
// path just for inputs outside the polynomial's range — rare, and exactly the old clamping.

/// Whether any lane has its sign bit set (a negative number, −0, or a NaN with the sign bit).
@inlinable @inline(__always)
package func anySignBit(_ v: SIMD8<Float>) -> Bool {
    let b = unsafeBitCast(v, to: SIMD8<UInt32>.self)
    let a = b.lowHalf | b.highHalf
    let c = a.lowHalf | a.highHalf
    return (c[0] | c[1]) & 0x8000_0000 != 0
}

/// |v|, by clearing the sign bits.
@inlinable @inline(__always)
package func vabs8(_ v: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
}

/// Lanes of v clamped to [lo, hi] one by one (NaN stays NaN): the rare slow path.
@inlinable
package func clampLanes(_ v: SIMD8<Float>, _ lo: Float, _ hi: Float) -> SIMD8<Float> {
    var r = v
    for i in 0..<8 { if r[i] < lo { r[i] = lo } else if r[i] > hi { r[i] = hi } }
    return r
}

/// Vectorised exp (Cephes polynomial, relative error ≈ 2e-7): libm's scalar expf/tanhf were a
/// large part of an LSTM step (5·d calls per event). Inputs below −87.3 give ~1e-38, above 88.3
/// are clamped (2^127 stays finite).
@inlinable @inline(__always)
package func vexp8(_ x0: SIMD8<Float>) -> SIMD8<Float> {
    let lo: Float = -87.3, hi: Float = 88.3
    // In range iff x − lo ≥ 0 and hi − x ≥ 0 in every lane (no sign bit; NaN takes the slow path).
    var x = x0
    if anySignBit(x0 - SIMD8(repeating: lo)) || anySignBit(SIMD8(repeating: hi) - x0) {
        x = clampLanes(x0, lo, hi)
    }
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

/// σ(x) = 1 / (1 + e^{−x}), eight lanes.
@inlinable @inline(__always)
package func vsigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    1 / (1 + vexp8(-x))
}

/// tanh: Cephes odd polynomial for |x| < 0.625 (no cancellation near 0), else 1 − 2/(e^{2|x|}+1)
/// with the sign of x.
@inlinable @inline(__always)
package func vtanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var a = vabs8(x)
    // |x| capped at 40 (tanh is 1 to float precision long before).
    if anySignBit(SIMD8(repeating: 40) - a) { a = clampLanes(a, 0, 40) }
    let big = 1 - 2 / (vexp8(a + a) + 1)          // ≥ 0
    let z = x * x
    var p = SIMD8<Float>(repeating: -5.70498872745e-3)
    p = p * z + 2.06390887954e-2
    p = p * z - 5.37397155531e-2
    p = p * z + 1.33314422036e-1
    p = p * z - 3.33332819422e-1
    let small = p * z * x + x
    let xBits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    let signedBig = unsafeBitCast(big, to: SIMD8<UInt32>.self) | (xBits & 0x8000_0000)
    // All ones where a < 0.625 (a − 0.625 negative), else zero: an arithmetic shift of the sign.
    let useSmall = unsafeBitCast(unsafeBitCast(a - 0.625, to: SIMD8<Int32>.self) &>> 31, to: SIMD8<UInt32>.self)
    let blended = (unsafeBitCast(small, to: SIMD8<UInt32>.self) & useSmall) | (signedBig & ~useSmall)
    return unsafeBitCast(blended, to: SIMD8<Float>.self)
}
