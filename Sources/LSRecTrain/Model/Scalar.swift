import CBLAS
import Foundation

/// The element type of a trainable network. `Float` trains; `Double` exists so the
/// finite-difference gradient checks run the very same code in float64.
public protocol TrainScalar: BinaryFloatingPoint, Sendable {
    /// Row-major C = alpha · op(A) · op(B) + beta · C with explicit leading dimensions.
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                     _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int,
                     _ b: UnsafePointer<Self>, _ ldb: Int,
                     _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
    /// x[i] = exp(x[i]) for i < n (vectorised for Float: the full-softmax hot loop).
    static func expInPlace(_ x: UnsafeMutablePointer<Self>, _ n: Int)
    /// max(x[0..<n]), n ≥ 1.
    static func maximum(_ x: UnsafeMutablePointer<Self>, _ n: Int) -> Self
    /// x[i] = exp(x[i] − shift); returns the sum.
    static func expShiftSum(_ x: UnsafeMutablePointer<Self>, _ n: Int, shift: Self) -> Self
    /// x[i] *= a.
    static func scale(_ x: UnsafeMutablePointer<Self>, _ n: Int, by a: Self)
    /// x[i] = σ(x[i]).
    static func sigmoidInPlace(_ x: UnsafeMutablePointer<Self>, _ n: Int)
    /// x[i] = tanh(x[i]).
    static func tanhInPlace(_ x: UnsafeMutablePointer<Self>, _ n: Int)
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
}

extension TrainScalar {
    @inline(__always) static func sigmoid(_ x: Self) -> Self { 1 / (1 + exp(-x)) }
}

@inline(__always) private func trans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: TrainScalar {
    @inline(__always)
    public static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                            _ b: UnsafePointer<Float>, _ ldb: Int,
                            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor, trans(transA), trans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func expInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) { fastExpInPlace(x, n) }
    @inline(__always) public static func maximum(_ x: UnsafeMutablePointer<Float>, _ n: Int) -> Float { fastMaximum(x, n) }
    @inline(__always) public static func expShiftSum(_ x: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float {
        fastExpShiftSum(x, n, shift: shift)
    }
    @inline(__always) public static func scale(_ x: UnsafeMutablePointer<Float>, _ n: Int, by a: Float) { fastScale(x, n, by: a) }
    @inline(__always) public static func sigmoidInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) { fastSigmoidInPlace(x, n) }
    @inline(__always) public static func tanhInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) { fastTanhInPlace(x, n) }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
}

extension Double: TrainScalar {
    @inline(__always)
    public static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                            _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int,
                            _ b: UnsafePointer<Double>, _ ldb: Int,
                            _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor, trans(transA), trans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    public static func expInPlace(_ x: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { x[i] = Foundation.exp(x[i]) }
    }
    public static func maximum(_ x: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
        var m = x[0]
        for i in 1..<max(n, 1) where x[i] > m { m = x[i] }
        return m
    }
    public static func expShiftSum(_ x: UnsafeMutablePointer<Double>, _ n: Int, shift: Double) -> Double {
        var s = 0.0
        for i in 0..<n { x[i] = Foundation.exp(x[i] - shift); s += x[i] }
        return s
    }
    public static func scale(_ x: UnsafeMutablePointer<Double>, _ n: Int, by a: Double) { for i in 0..<n { x[i] *= a } }
    public static func sigmoidInPlace(_ x: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { x[i] = 1 / (1 + Foundation.exp(-x[i])) }
    }
    public static func tanhInPlace(_ x: UnsafeMutablePointer<Double>, _ n: Int) { for i in 0..<n { x[i] = Foundation.tanh(x[i]) } }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
}

/// Sets the OpenBLAS thread count (process-wide). Results are reproducible for a fixed count.
public func setBLASThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
