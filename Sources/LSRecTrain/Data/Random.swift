/// Small deterministic PRNGs for the trainer: synthetic data, negative sampling, initialisation.
/// Never `SystemRandomNumberGenerator`: every run with the same seed gives the same bytes.

/// SplitMix64 (Steele, Lea, Flood 2014). Used to expand a seed into xoshiro state and to
/// derive independent per-user streams (`SeedMixer(seed: base ^ mix(index))`).
public struct SeedMixer: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }

    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A well-mixed 64-bit value of `x` (one SplitMix64 output step); for deriving sub-seeds.
    @inlinable public static func mix(_ x: UInt64) -> UInt64 {
        var g = SeedMixer(seed: x)
        return g.next()
    }
}

/// xoshiro256** (Blackman, Vigna 2018): the generator used for bulk sampling.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var s: (UInt64, UInt64, UInt64, UInt64)

    /// State from SplitMix64 of `seed`, as the authors recommend (never all-zero).
    public init(seed: UInt64) {
        var sm = SeedMixer(seed: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    @inlinable public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inlinable func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

extension RandomNumberGenerator {
    /// Uniform in [0, 1) with 53 random bits.
    @inlinable public mutating func unitDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in [0, n) (Lemire's multiply-shift; bias < n / 2^64, negligible here).
    @inlinable public mutating func index(below n: Int) -> Int {
        precondition(n > 0)
        return Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Standard normal via Box–Muller (one of the pair; simplicity over speed).
    @inlinable public mutating func gaussian() -> Double {
        let u1 = max(unitDouble(), 0x1p-60)
        let u2 = unitDouble()
        return (-2 * _lsrLog(u1)).squareRoot() * _lsrCos(2 * Double.pi * u2)
    }
}

// Glibc maths without importing Foundation into this file's callers' inlinable code.
#if canImport(Glibc)
import Glibc
@usableFromInline func _lsrLog(_ x: Double) -> Double { Glibc.log(x) }
@usableFromInline func _lsrCos(_ x: Double) -> Double { Glibc.cos(x) }
func _lsrPow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Foundation
@usableFromInline func _lsrLog(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _lsrCos(_ x: Double) -> Double { Foundation.cos(x) }
func _lsrPow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
#endif

/// Samples index `i` with probability proportional to `weights[i]` (binary search in the CDF).
public struct WeightedSampler: Sendable {
    public let cdf: [Double]
    public init(weights: [Double]) {
        precondition(!weights.isEmpty)
        var acc = 0.0
        cdf = weights.map { acc += max($0, 0); return acc }
        precondition(acc > 0, "all weights are zero")
    }
    public func sample<G: RandomNumberGenerator>(_ g: inout G) -> Int {
        let x = g.unitDouble() * cdf[cdf.count - 1]
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] > x { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}
