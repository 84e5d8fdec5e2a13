import CBLAS

/// Thin row-major wrappers over OpenBLAS, so the maths files read like the equations.
/// Matrices come as arrays or as buffers (the model's aligned matrices, AlignedFloats.swift).
enum BLAS {
    /// C = alpha · op(A) · op(B) + beta · C, row-major; op(A) is m×k, op(B) is k×n.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafeBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>, beta: Float,
                     _ c: UnsafeMutableBufferPointer<Float>) {
        precondition(c.count >= m * n && a.count >= m * k && b.count >= k * n)
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a.baseAddress, Int32(transA ? m : k), b.baseAddress,
                    Int32(transB ? k : n), beta, c.baseAddress, Int32(n))
    }

    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: [Float], _ b: [Float], beta: Float, _ c: inout [Float]) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a, b, beta: beta, c)
                }
            }
        }
    }

    /// y = alpha · op(A) · x + beta · y with A [rows, cols] row-major.
    static func gemv(trans: Bool = false, rows: Int, cols: Int, alpha: Float = 1, _ a: UnsafeBufferPointer<Float>,
                     _ x: [Float], beta: Float, _ y: inout [Float]) {
        precondition(a.count >= rows * cols && x.count >= (trans ? rows : cols) && y.count >= (trans ? cols : rows))
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols),
                    alpha, a.baseAddress, Int32(cols), x, 1, beta, &y, 1)
    }

    static func gemv(trans: Bool = false, rows: Int, cols: Int, alpha: Float = 1, _ a: [Float],
                     _ x: [Float], beta: Float, _ y: inout [Float]) {
        a.withUnsafeBufferPointer { gemv(trans: trans, rows: rows, cols: cols, alpha: alpha, $0, x, beta: beta, &y) }
    }
}
