/// CRC32C (Castagnoli): reflected polynomial 0x82F63B78, init 0xFFFFFFFF, final xor 0xFFFFFFFF.
/// `crc32c(Array("123456789".utf8)) == 0xE3069283`. Slice-by-8, table-driven, no hardware needed.

/// Eight 256-entry tables, flattened: table k lives at `[k * 256 ..< (k + 1) * 256]`.
private let crc32cTables: [UInt32] = {
    var t = [UInt32](repeating: 0, count: 8 * 256)
    for n in 0 ..< 256 {
        var c = UInt32(n)
        for _ in 0 ..< 8 { c = (c & 1) != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        t[n] = c
    }
    for k in 1 ..< 8 {
        for n in 0 ..< 256 {
            let prev = t[(k - 1) * 256 + n]
            t[k * 256 + n] = (prev >> 8) ^ t[Int(prev & 0xFF)]
        }
    }
    return t
}()

/// Incremental CRC32C: feed bytes with `update`, read the checksum from `value`.
public struct CRC32C: Sendable {
    private var state: UInt32 = 0xFFFF_FFFF

    /// Starts a new checksum (of zero bytes so far).
    public init() {}

    /// The CRC32C of every byte fed so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// Feeds the bytes of a raw buffer.
    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        var crc = state
        var i = 0
        let n = buffer.count
        crc32cTables.withUnsafeBufferPointer { t in
            while i + 8 <= n {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let lo = crc ^ UInt32(truncatingIfNeeded: word)
                let hi = UInt32(truncatingIfNeeded: word >> 32)
                crc = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                let b = base.load(fromByteOffset: i, as: UInt8.self)
                crc = (crc >> 8) ^ t[Int((crc ^ UInt32(b)) & 0xFF)]
                i += 1
            }
        }
        state = crc
    }

    /// Feeds the bytes of an array slice.
    public mutating func update(_ bytes: ArraySlice<UInt8>) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the bytes of an array.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }
}

/// CRC32C of a whole byte array.
public func crc32c(_ bytes: [UInt8]) -> UInt32 {
    var c = CRC32C()
    c.update(bytes)
    return c.value
}

/// CRC32C of an array slice, e.g. `crc32c(bytes[64 ..< 128])`.
public func crc32c(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c = CRC32C()
    c.update(bytes)
    return c.value
}

/// CRC32C of a raw buffer (for callers holding host memory, e.g. the C ABI).
public func crc32c(_ buffer: UnsafeRawBufferPointer) -> UInt32 {
    var c = CRC32C()
    c.update(buffer)
    return c.value
}
