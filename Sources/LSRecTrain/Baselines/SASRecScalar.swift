import CBLAS
import Dispatch
import Foundation

/// Element type of the SASRec network. `Float` trains and scores; `Double` runs the very same code
/// for the finite-difference gradient checks. (Own protocol rather than the main model's, so the
/// baseline does not move when the model code does.)
protocol SASRecScalar: BinaryFloatingPoint, Sendable {
    /// Row-major C = alpha · op(A) · op(B) + beta · C with explicit leading dimensions.
    static func sasGemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
                        _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int,
                        _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    /// x[i] = exp(x[i] − shift) for i < n; returns Σ x[i] (one pass: the softmax hot loop).
    static func sasExpShiftSum(_ x: UnsafeMutablePointer<Self>, _ n: Int, shift: Self) -> Self
    static func sasExp(_ x: Self) -> Self
    static func sasLog(_ x: Self) -> Self
    static func sasLog1p(_ x: Self) -> Self
}

@inline(__always) private func op(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: SASRecScalar {
    @inline(__always)
    static func sasGemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, op(transA), op(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    /// Vectorised: the full softmax takes catalogue × positions exponentials per epoch.
    static func sasExpShiftSum(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        fastExpShiftSum(x, n, shift: shift)  // Model/FastMath.swift, shared with the trainer
    }
    @inline(__always) static func sasExp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) static func sasLog(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) static func sasLog1p(_ x: Float) -> Float { Foundation.log1pf(x) }
}

extension Double: SASRecScalar {
    @inline(__always)
    static func sasGemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
                        _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
                        _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, op(transA), op(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    static func sasExpShiftSum(_ x: UnsafeMutablePointer<Double>, _ n: Int, shift: Double) -> Double {
        var s = 0.0
        for i in 0..<n { x[i] = Foundation.exp(x[i] - shift); s += x[i] }
        return s
    }
    @inline(__always) static func sasExp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func sasLog(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func sasLog1p(_ x: Double) -> Double { Foundation.log1p(x) }
}

/// A growable raw buffer for activations and scratch (pointers go straight to BLAS).
/// `ensure` drops the contents when it grows; every user overwrites what it reads.
final class SASBuf<T: SASRecScalar> {
    private(set) var p: UnsafeMutablePointer<T>
    private(set) var capacity: Int

    init(_ n: Int = 0) {
        capacity = max(n, 1)
        p = .allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
    }
    deinit { p.deallocate() }

    func ensure(_ n: Int) {
        guard n > capacity else { return }
        p.deallocate()
        capacity = n + n / 4
        p = .allocate(capacity: capacity)
        p.initialize(repeating: 0, count: capacity)
    }
    func zero(_ n: Int) { p.update(repeating: 0, count: n) }
}

/// Runs `body` over contiguous chunks of 0..<n on up to `threads` threads. Each index must write
/// only its own outputs, so the result does not depend on scheduling or the thread count.
func sasParallel(_ n: Int, threads: Int, minChunk: Int = 32, _ body: (Range<Int>) -> Void) {
    let chunks = min(threads, n / max(minChunk, 1))
    if chunks <= 1 {
        if n > 0 { body(0..<n) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body((c * n / chunks)..<((c + 1) * n / chunks))
        }
    }
}

/// Element-wise tensor updates over 0..<n, in large contiguous ranges split over threads.
/// (Bodies should loop over raw pointers held in locals: reading a class's stored property
/// inside the loop costs a dynamic exclusivity check per element.)
@inline(__always)
func sasElementwise(_ n: Int, _ threads: Int, _ body: (Range<Int>) -> Void) {
    sasParallel(n, threads: threads, minChunk: 32_768, body)
}

/// Runs `body(i, worker)` for every i in 0..<n on `threads` workers that take the next index
/// as they become free (worker ∈ 0..<threads owns per-worker scratch). Only for work whose
/// result does not depend on which worker ran it.
func sasDynamic(_ n: Int, threads: Int, _ body: (Int, Int) -> Void) {
    let workers = min(threads, n)
    if workers <= 1 {
        for i in 0..<n { body(i, 0) }
        return
    }
    let lock = NSLock()
    var next = 0
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            while true {
                lock.lock()
                let i = next
                next += 1
                lock.unlock()
                if i >= n { break }
                body(i, w)
            }
        }
    }
}

/// Sets OpenBLAS's (process-wide) thread count; returns the previous one.
/// SASRec runs BLAS single-threaded and parallelises above it: its many small products (one
/// sequence's attention, one user's scoring) lose more to OpenBLAS's spinning thread pool on a
/// shared machine than they gain.
@discardableResult
func sasSetBLASThreads(_ n: Int) -> Int {
    let old = Int(openblas_get_num_threads())
    openblas_set_num_threads(Int32(max(1, n)))
    return old
}
