import LSRecFormat
import XCTest

/// The exact value of a binary16 bit pattern, computed from the definition in Double.
private func halfValue(_ h: UInt16) -> Double? {
    let s: Double = (h & 0x8000) != 0 ? -1 : 1
    let e = Int((h >> 10) & 0x1F)
    let m = Double(h & 0x3FF)
    if e == 31 { return nil }
    if e == 0 { return s * m * pow2(-24) }
    return s * (1024 + m) * pow2(e - 25)
}

private func pow2(_ k: Int) -> Double {
    var v = 1.0
    if k >= 0 { for _ in 0 ..< k { v *= 2 } } else { for _ in 0 ..< -k { v /= 2 } }
    return v
}

final class HalfTests: XCTestCase {
    func testWideningMatchesDefinitionForEveryPattern() {
        for bits in 0 ... 0xFFFF {
            let h = UInt16(bits)
            let f = floatFromHalfBits(h)
            if let v = halfValue(h) {
                XCTAssertEqual(Double(f), v, "pattern 0x\(String(bits, radix: 16))")
                XCTAssertEqual(f.sign == .minus, (h & 0x8000) != 0)       // keeps -0
            } else if h & 0x3FF == 0 {
                XCTAssertTrue(f.isInfinite, "pattern 0x\(String(bits, radix: 16))")
            } else {
                XCTAssertTrue(f.isNaN, "pattern 0x\(String(bits, radix: 16))")
            }
        }
    }

    func testRoundTripOfEveryFiniteHalf() {
        for bits in 0 ... 0xFFFF {
            let h = UInt16(bits)
            guard (h & 0x7C00) != 0x7C00 else { continue }
            XCTAssertEqual(halfBitsFromFloat(floatFromHalfBits(h)), h, "pattern 0x\(String(bits, radix: 16))")
        }
        XCTAssertEqual(halfBitsFromFloat(.infinity), 0x7C00)
        XCTAssertEqual(halfBitsFromFloat(-.infinity), 0xFC00)
        XCTAssertTrue(floatFromHalfBits(halfBitsFromFloat(.nan)).isNaN)
    }

    func testRoundingHandPickedCases() {
        XCTAssertEqual(halfBitsFromFloat(1.0), 0x3C00)
        XCTAssertEqual(halfBitsFromFloat(-2.0), 0xC000)
        XCTAssertEqual(halfBitsFromFloat(65504), 0x7BFF)                 // largest finite
        XCTAssertEqual(halfBitsFromFloat(65519.99), 0x7BFF)              // just below the tie
        XCTAssertEqual(halfBitsFromFloat(65520), 0x7C00)                 // tie, rounds to even = Inf
        XCTAssertEqual(halfBitsFromFloat(1e6), 0x7C00)
        XCTAssertEqual(halfBitsFromFloat(1 + 1.0 / 2048), 0x3C00)        // tie between 1 and 1+2^-10 -> even (1)
        XCTAssertEqual(halfBitsFromFloat(1 + 3.0 / 2048), 0x3C02)        // tie -> even (1+2^-9)
        XCTAssertEqual(halfBitsFromFloat(1 + 1.0 / 2048 + 1.0 / 65536), 0x3C01)  // above the tie
        XCTAssertEqual(halfBitsFromFloat(Float(pow2(-24))), 0x0001)      // smallest subnormal
        XCTAssertEqual(halfBitsFromFloat(Float(pow2(-25))), 0x0000)      // tie -> even (0)
        XCTAssertEqual(halfBitsFromFloat(Float(pow2(-25) * 1.0001)), 0x0001)
        XCTAssertEqual(halfBitsFromFloat(Float(3 * pow2(-25))), 0x0002)  // tie 1.5 ulp -> 2
        XCTAssertEqual(halfBitsFromFloat(Float(pow2(-14))), 0x0400)      // smallest normal
        XCTAssertEqual(halfBitsFromFloat(Float(pow2(-14) - pow2(-25))), 0x0400) // tie 1023.5 -> 1024
        XCTAssertEqual(halfBitsFromFloat(-0.0), 0x8000)
        XCTAssertEqual(halfBitsFromFloat(Float.leastNonzeroMagnitude), 0x0000)
    }

    /// For many random floats, the chosen half is a nearest one, and on a tie the even one.
    func testRoundingIsNearestEvenAgainstBruteForce() {
        var rng = SplitMix64(seed: 3)
        for i in 0 ..< 20000 {
            let f: Float
            if i % 2 == 0 {
                f = Float(bitPattern: UInt32.random(in: 0x3300_0000 ... 0x477F_E000, using: &rng)) * (i % 4 == 0 ? 1 : -1)
            } else {
                f = Float.random(in: -70000 ... 70000, using: &rng)
            }
            let h = halfBitsFromFloat(f)
            let x = Double(f)
            if abs(x) >= 65520 { XCTAssertEqual(h & 0x7FFF, 0x7C00, "\(f)"); continue }
            guard let v = halfValue(h) else { XCTFail("\(f) -> non-finite 0x\(String(h, radix: 16))"); continue }
            let err = abs(v - x)
            // Neighbours in magnitude.
            let mag = h & 0x7FFF, sign = h & 0x8000
            for n in [mag &- 1, mag + 1] where n <= 0x7BFF {
                guard let w = halfValue(sign | n) else { continue }
                let e2 = abs(w - x)
                XCTAssertLessThanOrEqual(err, e2, "\(f) -> 0x\(String(h, radix: 16))")
                if err == e2 { XCTAssertEqual(h & 1, 0, "tie must go to even: \(f)") }
            }
        }
    }

    #if !(os(macOS) && arch(x86_64))
    /// Swift's own Float16 conversion (an independent implementation) agrees on random inputs.
    func testAgreesWithSwiftFloat16() {
        var rng = SplitMix64(seed: 4)
        for _ in 0 ..< 50000 {
            let f = Float(bitPattern: UInt32.random(in: 0 ... UInt32.max, using: &rng))
            let mine = halfBitsFromFloat(f)
            let theirs = Float16(f).bitPattern
            if f.isNaN {
                XCTAssertTrue(floatFromHalfBits(mine).isNaN)
            } else {
                XCTAssertEqual(mine, theirs, "\(f)")
            }
        }
        for bits in 0 ... 0xFFFF {
            let h = Float16(bitPattern: UInt16(bits))
            if h.isNaN { continue }
            XCTAssertEqual(floatFromHalfBits(UInt16(bits)), Float(h))
        }
    }
    #endif
}
