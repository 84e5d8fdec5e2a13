import Dispatch

/// A fixed-size zero-initialised scratch buffer. The network keeps its activations in these
/// (raw pointers: the maths hands them straight to BLAS with strides).
final class Buf<T: TrainScalar> {
    let p: UnsafeMutablePointer<T>
    let count: Int
    init(_ n: Int) {
        count = n
        p = .allocate(capacity: max(n, 1))
        p.initialize(repeating: 0, count: max(n, 1))
    }
    deinit { p.deallocate() }
    @inline(__always) func zero() { p.update(repeating: 0, count: count) }
}

/// Runs `body(i)` for i in 0..<n on up to `threads` threads in contiguous chunks. Each index
/// must write only its own outputs, so results do not depend on scheduling.
func parallelFor(_ n: Int, threads: Int, _ body: (Int) -> Void) {
    if threads <= 1 || n <= 1 {
        for i in 0..<n { body(i) }
        return
    }
    let chunks = min(threads, n)
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * n / chunks, hi = (c + 1) * n / chunks
            for i in lo..<hi { body(i) }
        }
    }
}

/// Pointers to each tensor inside a flat parameter (or gradient) vector.
struct TensorPointers<T: TrainScalar> {
    let base: UnsafeMutablePointer<T>
    let layout: ParameterLayout
    @inline(__always) subscript(_ id: ParamID) -> UnsafeMutablePointer<T> { base + layout.offsets[id.rawValue] }
}
