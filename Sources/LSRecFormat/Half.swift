/// IEEE-754 binary16 <-> binary32 conversion by bit manipulation (portable; does not need
/// `Float16`, which is missing on macOS x86_64). Narrowing rounds to nearest, ties to even.

/// Widens the binary16 value with bit pattern `h` to `Float` (exact; NaN payloads are kept).
@inline(__always)
public func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = UInt32((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x03FF)
    if exp == 0 {
        // Zero or subnormal: mant × 2^-24, exact in Float.
        let v = Float(mant) * Float(bitPattern: 0x3380_0000)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | ((exp + 112) << 23) | (mant << 13))
}

/// Narrows `f` to a binary16 bit pattern, rounding to nearest-even. Values whose magnitude rounds
/// above 65504 become ±Inf; NaN stays NaN (quiet).
@inline(__always)
public func halfBitsFromFloat(_ f: Float) -> UInt16 {
    let x = f.bitPattern
    let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
    let a = x & 0x7FFF_FFFF
    if a >= 0x7F80_0000 {                                  // Inf or NaN
        if a == 0x7F80_0000 { return sign | 0x7C00 }
        return sign | 0x7E00 | UInt16(truncatingIfNeeded: (a >> 13) & 0x03FF)
    }
    if a >= 0x4780_0000 { return sign | 0x7C00 }          // >= 65536: overflow
    if a >= 0x3880_0000 {                                  // >= 2^-14: normal half
        var h = (a &- 0x3800_0000) >> 13                   // rebias exponent, truncate mantissa
        let rest = a & 0x1FFF
        if rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0) { h += 1 }  // may carry into Inf
        return sign | UInt16(truncatingIfNeeded: h)
    }
    if a < 0x3300_0000 { return sign }                     // < 2^-25: rounds to zero
    // Half subnormal (or the smallest normal after rounding): value / 2^-24.
    let e = a >> 23                                        // 102 ... 112
    let m = (a & 0x7F_FFFF) | 0x80_0000
    let shift = 126 - e                                    // 14 ... 24
    var h = m >> shift
    let rest = m & ((1 << shift) - 1)
    let halfway: UInt32 = 1 << (shift - 1)
    if rest > halfway || (rest == halfway && (h & 1) != 0) { h += 1 }
    return sign | UInt16(truncatingIfNeeded: h)
}

/// True when the binary16 bit pattern is NaN or ±Inf.
@inline(__always)
public func halfBitsAreNonFinite(_ h: UInt16) -> Bool { (h & 0x7C00) == 0x7C00 }
