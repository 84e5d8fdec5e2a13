/// Output scores s = X·u + b and the loss, per MODEL.md "Training": softmax cross-entropy over
/// the full catalogue, or sampled softmax with shared negatives and the log-Q correction
/// s_j − log(S·Q(j)) (accidental hits of the target are masked out). Loss = mean over targets.
/// With the repeat term, β is added to the logits of the row's held items (`HeldItemMarks`) and
/// ∂β is their summed gradient.
///
/// Full softmax is fused and blocked: each worker takes contiguous blocks of `blockRows` target
/// rows and, per block, computes the [rows × N] scores (one sgemm), the softmax in place while
/// it is still in cache, ∂U' = ∂s·X' and its partial ∂X' += ∂sᵀ·U' (two more sgemms). Partials
/// are summed in worker order, so results depend on the thread count only.
extension Network {
    func lossForward(_ b: WindowBatch, _ P: TensorPointers<T>) -> (lossSum: Double, targets: Int) {
        validRows = (0..<R).filter { b.target[$0] >= 0 }
        let nv = validRows.count
        lossTargets = nv
        guard nv > 0 else { return (0, 0) }
        for (i, r) in validRows.enumerated() {
            let dst = uv.p + i * ldu
            dst.update(from: u.p + r * d, count: d)
            if dropoutOn { for j in 0..<d { dst[j] *= maskU.p[r * d + j] } }
            dst[d] = 1
        }
        let invN = 1 / T(nv)
        let beta: T? = shape.repeatBias ? P[.repeatBias][0] : nil
        var rowLoss = [Double](repeating: 0, count: nv)
        switch lossKind {
        case .full:
            for i in 0..<n {
                (xb.p + i * ldu).update(from: X.p + i * d, count: d)
                xb.p[i * ldu + d] = effectiveBias(i, P)
            }
            let nBlocks = (nv + blockRows - 1) / blockRows
            let workers = min(blocks.count, nBlocks)
            let grad = wantGradient
            let masked = maskedItems
            rowLoss.withUnsafeMutableBufferPointer { lossOut in
              repeatGrad.withUnsafeMutableBufferPointer { dBeta in
                let out = lossOut.baseAddress!
                parallelFor(workers, threads: workers) { w in
                    let blk = blocks[w].p, part = dxPart[w].p
                    if grad { dxPart[w].zero() }
                    for bi in (w * nBlocks / workers)..<((w + 1) * nBlocks / workers) {
                        let r0 = bi * blockRows, m = min(blockRows, nv - r0)
                        T.gemm(false, true, m, n, ldu, 1, uv.p + r0 * ldu, ldu, xb.p, ldu, 0, blk, n)
                        for j in masked { for i in 0..<m { blk[i * n + Int(j)] = -T.greatestFiniteMagnitude / 4 } }
                        for i in 0..<m {
                            let row = blk + i * n
                            if let beta {
                                heldMarks[w].collect(b, row: validRows[r0 + i])
                                for j in heldMarks[w].items { row[Int(j)] += beta }
                            }
                            out[r0 + i] = softmaxCrossEntropy(row, n, target: Int(b.target[validRows[r0 + i]]), scale: invN)
                            // The fast exp floors at e^-87.3, not 0: make masked gradients exactly 0.
                            for j in masked { row[Int(j)] = 0 }
                            if beta != nil {
                                var g: T = 0
                                for j in heldMarks[w].items { g += row[Int(j)] }
                                dBeta[r0 + i] = g
                            }
                        }
                        guard grad else { continue }
                        T.gemm(false, false, m, ldu, n, 1, blk, n, xb.p, ldu, 0, duv.p + r0 * ldu, ldu)
                        T.gemm(true, false, n, ldu, m, 1, blk, n, uv.p + r0 * ldu, ldu, 1, part, ldu)
                    }
                }
              }
            }
        case .sampled:
            let S = negatives.count
            precondition(S >= 1 && S * d <= xneg.count && !logExpectedCount.isEmpty, "sampled softmax needs negatives and log Q")
            let cols = 1 + S
            for (kk, j) in negatives.enumerated() { (xneg.p + kk * d).update(from: X.p + Int(j) * d, count: d) }
            T.gemm(false, true, nv, S, d, 1, uv.p, ldu, xneg.p, d, 0, logits.p + 1, cols)
            // Rows in contiguous chunks, one per worker (each worker has its own held-item marks).
            let workers = max(1, min(threads, nv))
            rowLoss.withUnsafeMutableBufferPointer { lossOut in
              repeatGrad.withUnsafeMutableBufferPointer { dBeta in
                let out = lossOut.baseAddress!
                parallelFor(workers, threads: workers) { w in
                  for i in (w * nv / workers)..<((w + 1) * nv / workers) {
                    let row = logits.p + i * cols
                    let target = Int(b.target[validRows[i]])
                    if beta != nil { heldMarks[w].collect(b, row: validRows[i]) }
                    // β on held columns; the target is never a negative (its hits are masked).
                    @inline(__always) func held(_ j: Int) -> Bool { beta != nil && heldMarks[w].contains(j) }
                    var s: T = effectiveBias(target, P) - logExpectedCount[target]
                    let ur = uv.p + i * ldu, xt = X.p + target * d
                    for j in 0..<d { s += ur[j] * xt[j] }
                    if let beta, held(target) { s += beta }
                    row[0] = s
                    for kk in 0..<S {
                        let j = Int(negatives[kk])
                        row[1 + kk] = j == target ? -T.greatestFiniteMagnitude / 4
                                                  : row[1 + kk] + effectiveBias(j, P) - logExpectedCount[j]
                        if let beta, j != target, held(j) { row[1 + kk] += beta }
                    }
                    out[i] = softmaxCrossEntropy(row, cols, target: 0, scale: invN)
                    if beta != nil {
                        var g: T = held(target) ? row[0] : 0
                        for kk in 0..<S where Int(negatives[kk]) != target && held(Int(negatives[kk])) { g += row[1 + kk] }
                        dBeta[i] = g
                    }
                  }
                }
              }
            }
        }
        return (rowLoss.reduce(0, +), nv)
    }

    /// Turns `row` (logits) into scale·(softmax − onehot(target)); returns −log softmax[target].
    func softmaxCrossEntropy(_ row: UnsafeMutablePointer<T>, _ count: Int, target: Int, scale: T) -> Double {
        let mx = T.maximum(row, count)
        let zt = row[target] - mx
        let sum = T.expShiftSum(row, count, shift: mx)
        T.scale(row, count, by: scale / sum)
        row[target] -= scale
        return Double(T.log(sum) - zt)
    }

    func lossBackward(_ b: WindowBatch, _ P: TensorPointers<T>, _ G: TensorPointers<T>) {
        dU.zero()
        let nv = lossTargets
        guard nv > 0 else { return }
        let dE = G[.itemEmbedding], db = G[.itemBias], dNew = G[.newItemBias]
        // A dropped item's bias gradient goes to the shared new-item bias.
        @inline(__always) func addBias(_ i: Int, _ g: T) {
            if isDropped.isEmpty || !isDropped[i] { db[i] += g } else { dNew[0] += g }
        }
        switch lossKind {
        case .full:
            let workers = min(blocks.count, (nv + blockRows - 1) / blockRows)
            for w in 0..<workers {
                let part = dxPart[w].p
                for i in 0..<n {
                    let src = part + i * ldu, dst = dE + i * d
                    for j in 0..<d { dst[j] += src[j] }
                    addBias(i, src[d])
                }
            }
        case .sampled:
            let S = negatives.count, cols = 1 + S
            T.gemm(false, false, nv, d, S, 1, logits.p + 1, cols, xneg.p, d, 0, duv.p, ldu)
            for i in 0..<nv {
                let target = Int(b.target[validRows[i]])
                let dpos = logits.p[i * cols]
                let ur = uv.p + i * ldu, du = duv.p + i * ldu, xt = X.p + target * d, dx = dE + target * d
                for j in 0..<d { du[j] += dpos * xt[j]; dx[j] += dpos * ur[j] }
                addBias(target, dpos)
            }
            // ∂X_neg = ∂s_negᵀ U, scattered (a negative may repeat).
            T.gemm(true, false, S, d, nv, 1, logits.p + 1, cols, uv.p, ldu, 0, xneg.p, d)
            for (kk, j) in negatives.enumerated() {
                let dst = dE + Int(j) * d, src = xneg.p + kk * d
                for c in 0..<d { dst[c] += src[c] }
                var s: T = 0
                for i in 0..<nv { s += logits.p[i * cols + 1 + kk] }
                addBias(Int(j), s)
            }
        }
        if shape.repeatBias {
            var g: T = 0
            for i in 0..<nv { g += repeatGrad[i] }
            G[.repeatBias][0] += g
        }
        for (i, r) in validRows.enumerated() {
            let dst = dU.p + r * d, src = duv.p + i * ldu
            if dropoutOn {
                for j in 0..<d { dst[j] = src[j] * maskU.p[r * d + j] }
            } else {
                dst.update(from: src, count: d)
            }
        }
    }
}
