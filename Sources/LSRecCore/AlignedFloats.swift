/// An immutable float array whose first element sits on a 64-byte boundary (a cache line).
///
/// Why: a Swift array's elements start 32 bytes into a malloc'd block, so a model's matrices
/// began at 16 or 48 bytes past a line. Then every 256-byte row (d = 64) spans five lines
/// instead of four — the attention reads 200 such rows from L2 per request — and half of the
/// kernels' 32-byte loads straddle two lines. Aligned, the same arithmetic (same bits) took a
/// screened request from 13.23 to 12.68 µs and a plain one from 27.8 to 22.6 µs (BENCHMARKS.md,
/// "Cache-line aligned model matrices").
///
/// Rows stay aligned when a row's length is a multiple of 16 floats (d, d + t and 2d + t are
/// for the shipped shapes); other shapes are correct, only not line-aligned past the first row.
final class AlignedFloats: RandomAccessCollection, @unchecked Sendable {
    static let alignment = 64

    private let base: UnsafeMutablePointer<Float>
    let count: Int

    /// `count` floats, zeroed, then set by `fill` — so a large matrix (the item matrix: 256 MB at
    /// 1M items × 64) is built in place instead of copied from an array (two at once at load).
    /// If `fill` throws, nothing is kept.
    init(count: Int, fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        precondition(count >= 0)
        // At least one element, so that an empty array still has a (never read) allocation.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: Self.alignment)
        let p = raw.initializeMemory(as: Float.self, repeating: 0, count: Swift.max(count, 1))
        do {
            try fill(UnsafeMutableBufferPointer(start: p, count: count))
        } catch {
            p.deinitialize(count: Swift.max(count, 1))
            raw.deallocate()
            throw error
        }
        base = p
        self.count = count
    }

    /// A copy of `values`.
    convenience init(_ values: [Float]) {
        self.init(count: values.count) { out in _ = out.initialize(from: values) }
    }

    deinit {
        base.deallocate()
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    /// Bounds-checked like an array's: an index outside 0..<count is a programming error.
    subscript(i: Int) -> Float {
        precondition(i >= 0 && i < count, "AlignedFloats index out of range")
        return base[i]
    }

    /// The elements as a buffer, valid only inside `body` (as Array's method of the same name).
    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }
}
