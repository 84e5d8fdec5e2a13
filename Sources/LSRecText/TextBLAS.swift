import CBLAS

/// Row-major sgemm on sub-matrices of Swift arrays. Offsets and leading dimensions are needed
/// for the per-head attention products, which read strided column blocks of the Q/K/V matrix;
/// the buffer pointers live only for the call. Callers guarantee the bounds (`precondition`s
/// below check them, so an internal bug traps here rather than reading out of range).
enum TextBLAS {
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, with A, B, C starting at the given offsets.
    static func gemm(transA: Bool = false, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                     _ a: [Float], _ aOffset: Int = 0, lda: Int,
                     _ b: [Float], _ bOffset: Int = 0, ldb: Int,
                     beta: Float, _ c: inout [Float], _ cOffset: Int = 0, ldc: Int) {
        guard m > 0, n > 0 else { return }
        let aRows = transA ? k : m, aCols = transA ? m : k
        let bRows = transB ? n : k, bCols = transB ? k : n
        precondition(aCols <= lda && bCols <= ldb && n <= ldc)
        precondition(aOffset >= 0 && aOffset + (aRows - 1) * lda + aCols <= a.count)
        precondition(bOffset >= 0 && bOffset + (bRows - 1) * ldb + bCols <= b.count)
        precondition(cOffset >= 0 && cOffset + (m - 1) * ldc + n <= c.count)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                                Int32(m), Int32(n), Int32(k), alpha, pa.baseAddress! + aOffset, Int32(lda),
                                pb.baseAddress! + bOffset, Int32(ldb), beta, pc.baseAddress! + cOffset, Int32(ldc))
                }
            }
        }
    }

    /// y[rows × out] = x[rows × in] · Wᵀ + bias, W in PyTorch's [out, in] layout.
    static func linear(_ x: [Float], rows: Int, inDim: Int, _ w: [Float], _ bias: [Float], outDim: Int,
                       into y: inout [Float]) {
        for r in 0 ..< rows {
            let o = r * outDim
            for j in 0 ..< outDim { y[o + j] = bias[j] }
        }
        gemm(transB: true, m: rows, n: outDim, k: inDim, x, lda: inDim, w, ldb: inDim, beta: 1, &y, ldc: outDim)
    }
}
