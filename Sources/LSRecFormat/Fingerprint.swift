/// The model fingerprint: FNV-1a 64 over, for each tensor in directory order, the name bytes,
/// a 0 byte, the dtype as u32 LE, each dim as u64 LE and the tensor's CRC32C as u32 LE.
/// It depends on tensors only, never on metadata.

private let fnvOffsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
private let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

private struct FNV1a64 {
    var h = fnvOffsetBasis
    mutating func byte(_ b: UInt8) { h = (h ^ UInt64(b)) &* fnvPrime }
    mutating func bytes<S: Sequence>(_ s: S) where S.Element == UInt8 { for b in s { byte(b) } }
    mutating func u32(_ v: UInt32) { for i in 0 ..< 4 { byte(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func u64(_ v: UInt64) { for i in 0 ..< 8 { byte(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
}

/// Computes the fingerprint of a tensor directory (see docs/FORMAT.md, "Fingerprint").
public func computeFingerprint(_ tensors: [TensorInfo]) -> UInt64 {
    var f = FNV1a64()
    for t in tensors {
        f.bytes(t.name.utf8)
        f.byte(0)
        f.u32(t.dtype.rawValue)
        for d in t.shape { f.u64(UInt64(truncatingIfNeeded: d)) }
        f.u32(t.crc)
    }
    return f.h
}

/// Formats a fingerprint as exactly 16 lower-case hex digits.
public func fingerprintHex(_ fp: UInt64) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8](repeating: 0, count: 16)
    for i in 0 ..< 16 { out[i] = digits[Int((fp >> UInt64(60 - 4 * i)) & 0xF)] }
    return String(decoding: out, as: UTF8.self)
}

/// Parses exactly 16 lower-case hex digits (the form `fingerprintHex` writes); `nil` otherwise.
public func parseFingerprintHex(_ s: String) -> UInt64? {
    let u = Array(s.utf8)
    guard u.count == 16 else { return nil }
    var v: UInt64 = 0
    for c in u {
        let d: UInt8
        switch c {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
        default: return nil
        }
        v = (v << 4) | UInt64(d)
    }
    return v
}
