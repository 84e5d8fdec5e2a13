/// Little-endian readers and writers over `[UInt8]`.
///
/// `ByteReader` never traps: every read is bounds-checked against the region it was created
/// for and throws `LSRecError(.format, ...)` naming the region and the offending offset.

/// A bounds-checked little-endian cursor over a region `[start, end)` of a byte array.
public struct ByteReader {
    /// The bytes being read (the whole buffer; offsets are absolute).
    public let bytes: [UInt8]
    /// Absolute offset of the next byte to read.
    public private(set) var position: Int
    /// Absolute offset one past the last readable byte.
    public let end: Int
    /// Human-readable name of the region, used in error messages ("metadata block").
    public let region: String

    /// Creates a reader over `bytes[start..<end]`; the range is clamped to the buffer.
    public init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil, region: String = "buffer") {
        self.bytes = bytes
        let e = min(max(end ?? bytes.count, 0), bytes.count)
        self.end = e
        self.position = min(max(start, 0), e)
        self.region = region
    }

    /// Bytes left before `end`.
    public var remaining: Int { end - position }

    private func overrun(_ count: Int, _ what: () -> String) -> LSRecError {
        LSRecError(.format, "\(what()): \(count) bytes at offset \(position) run past the end of the \(region) (which ends at \(end))")
    }

    /// Reads `count` bytes as a slice (no copy); throws if fewer remain or `count` is negative.
    public mutating func bytes(_ count: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw overrun(count, what) }
        let s = bytes[position ..< position + count]
        position += count
        return s
    }

    /// Reads a little-endian `UInt32`.
    public mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 {
        guard remaining >= 4 else { throw overrun(4, what) }
        let v = loadU32(bytes, position)
        position += 4
        return v
    }

    /// Reads a little-endian `UInt64`.
    public mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 {
        guard remaining >= 8 else { throw overrun(8, what) }
        let v = loadU64(bytes, position)
        position += 8
        return v
    }
}

/// Reads a little-endian `UInt32` at `offset`. The caller guarantees `offset + 4 <= bytes.count`.
@inline(__always)
func loadU32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    var v: UInt32 = 0
    for i in 0 ..< 4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
    return v
}

/// Reads a little-endian `UInt64` at `offset`. The caller guarantees `offset + 8 <= bytes.count`.
@inline(__always)
func loadU64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0 ..< 8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
    return v
}

/// Reads a little-endian `UInt32` at `offset`, or `nil` when it does not fit in `bytes`.
public func readU32LE(_ bytes: [UInt8], at offset: Int) -> UInt32? {
    guard offset >= 0, offset <= bytes.count - 4 else { return nil }
    return loadU32(bytes, offset)
}

/// Reads a little-endian `UInt64` at `offset`, or `nil` when it does not fit in `bytes`.
public func readU64LE(_ bytes: [UInt8], at offset: Int) -> UInt64? {
    guard offset >= 0, offset <= bytes.count - 8 else { return nil }
    return loadU64(bytes, offset)
}

/// An append-only little-endian byte writer.
public struct ByteWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Creates an empty writer, optionally reserving capacity.
    public init(capacity: Int = 0) { bytes.reserveCapacity(max(0, capacity)) }

    /// Number of bytes written.
    public var count: Int { bytes.count }

    /// Appends one byte.
    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Appends a little-endian `UInt32`.
    public mutating func u32(_ v: UInt32) {
        for i in 0 ..< 4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) }
    }

    /// Appends a little-endian `UInt64`.
    public mutating func u64(_ v: UInt64) {
        for i in 0 ..< 8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    /// Appends raw bytes.
    public mutating func append<S: Sequence>(_ s: S) where S.Element == UInt8 { bytes.append(contentsOf: s) }

    /// Appends zero bytes until `count` is a multiple of `alignment` (> 0).
    public mutating func pad(to alignment: Int) {
        guard alignment > 0 else { return }
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

/// Stores a little-endian `UInt32` at `offset`. The caller guarantees the bytes exist.
public func storeU32LE(_ v: UInt32, into bytes: inout [UInt8], at offset: Int) {
    for i in 0 ..< 4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
}

/// Stores a little-endian `UInt64` at `offset`. The caller guarantees the bytes exist.
public func storeU64LE(_ v: UInt64, into bytes: inout [UInt8], at offset: Int) {
    for i in 0 ..< 8 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}
