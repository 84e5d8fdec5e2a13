import LSRecFormat

/// Conversions of C sizes and buffers with every bound checked (no trapping conversions).

func size(_ n: UInt, _ name: String) throws -> Int {
    guard let v = Int(exactly: n) else { throw LSRecError(.invalidArgument, "\(name) = \(n) is too large") }
    return v
}

/// n int64 values from a C array (NULL allowed only when n is 0).
func int64Array(_ p: UnsafePointer<Int64>?, _ n: Int, _ name: String) throws -> [Int64] {
    guard n > 0 else { return [] }
    guard let p else { throw nullArgument(name) }
    return Array(UnsafeBufferPointer(start: p, count: n))
}

/// Copies `values` into a C array that the caller says holds at least `values.count` entries.
func write<T>(_ values: [T], to p: UnsafeMutablePointer<T>) {
    for (i, v) in values.enumerated() { p[i] = v }
}

/// A caller's output buffer of `cap` entries that must hold `needed`: the non-NULL pointer, or
/// INVALID_ARGUMENT for NULL, BUFFER_TOO_SMALL ("cap = …, <holds>") when short.
func outputBuffer<T>(_ p: UnsafeMutablePointer<T>?, _ name: String, cap: UInt, needed: Int,
                     holds: String) throws -> UnsafeMutablePointer<T> {
    guard let p else { throw nullArgument(name) }
    guard try size(cap, "cap") >= needed else {
        throw LSRecError(.bufferTooSmall, "cap = \(cap), \(holds)")
    }
    return p
}
