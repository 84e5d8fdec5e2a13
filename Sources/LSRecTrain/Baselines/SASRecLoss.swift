/// The training objectives. Both leave ∂loss/∂z in `dZ` and add their ∂loss/∂E (output side of
/// the shared item embedding) into `grad`; the loss is the mean over all rows (every row of a
/// training batch has a next-item target).
extension SASRecNetwork {
    /// Rows of logits one worker computes at once: its [rows × nItems] block stays in cache.
    static var softmaxChunk: Int { 128 }

    /// Mean over rows of −log softmax(z·Eᵀ)[target], the softmax taken over the whole catalogue.
    /// Chunk c goes to worker c mod threads (a fixed assignment), each worker sums its ∂E in its
    /// own buffer, and the partial sums are added in worker order: deterministic per thread count.
    func fullSoftmaxLoss(_ params: UnsafePointer<T>) -> Double {
        let R = rows, d = d, N = layout.nItems
        precondition(batch.targets.count == R, "every training row needs a target")
        let E = params + layout.itemEmb, dE = grad.p + layout.itemEmb
        let chunk = Self.softmaxChunk
        let nChunks = (R + chunk - 1) / chunk
        let workers = max(1, min(threads, nChunks))
        dZ.ensure(R * d)
        var rowLoss = [Double](repeating: 0, count: R)
        let scale = 1 / T(R)
        batch.targets.withUnsafeBufferPointer { targets in
            rowLoss.withUnsafeMutableBufferPointer { lossOut in
                sasParallel(workers, threads: workers, minChunk: 1) { ws in
                    for w in ws {
                        let logits = workerLogits[w]
                        logits.ensure(chunk * N)
                        // One worker adds straight into the gradient; several keep partials.
                        let part: UnsafeMutablePointer<T>
                        if workers == 1 { part = dE } else {
                            workerDE[w].ensure(N * d)
                            part = workerDE[w].p
                            part.update(repeating: 0, count: N * d)
                        }
                        let zp = z.p, dz = dZ.p, lg = logits.p
                        for ci in stride(from: w, to: nChunks, by: workers) {
                            let c0 = ci * chunk, c = min(chunk, R - c0)
                            T.sasGemm(false, true, c, N, d, 1, zp + c0 * d, d, E, d, 0, lg, N)
                            for i in 0..<c {
                                lossOut[c0 + i] = sasSoftmaxCrossEntropy(lg + i * N, N, target: Int(targets[c0 + i]),
                                                                         scale: scale)
                            }
                            T.sasGemm(false, false, c, d, N, 1, lg, N, E, d, 0, dz + c0 * d, d)   // ∂z = ∂s·E
                            T.sasGemm(true, false, N, d, c, 1, lg, N, zp + c0 * d, d, 1, part, d)  // ∂E += ∂sᵀ·z
                        }
                    }
                }
            }
        }
        if workers > 1 {
            for w in 0..<workers {
                let part = workerDE[w].p
                for i in 0..<(N * d) { dE[i] += part[i] }
            }
        }
        return rowLoss.reduce(0, +) / Double(R)
    }

    /// Mean over rows of −log σ(z·E[target]) − log σ(−z·E[negative]) (the paper's objective).
    func binaryCrossEntropyLoss(_ params: UnsafePointer<T>) -> Double {
        let R = rows, d = d
        precondition(batch.targets.count == R && batch.negatives.count == R, "BCE needs a target and a negative per row")
        let E = params + layout.itemEmb
        let dE = grad.p + layout.itemEmb
        dZ.ensure(R * d)
        let scale = 1 / T(R)
        var total = 0.0
        let zp = z.p, dz0 = dZ.p
        // Serial: ∂E rows are scattered (an item can be target or negative in many rows).
        batch.targets.withUnsafeBufferPointer { targets in
            batch.negatives.withUnsafeBufferPointer { negatives in
                for r in 0..<R {
                    let t = Int(targets[r]), n = Int(negatives[r])
                    let zr = zp + r * d, dz = dz0 + r * d, et = E + t * d, en = E + n * d
                    var sp: T = 0, sn: T = 0
                    for j in 0..<d { sp += zr[j] * et[j]; sn += zr[j] * en[j] }
                    total += Double(sasSoftplus(-sp) + sasSoftplus(sn))
                    let gp = (sasSigmoid(sp) - 1) * scale, gn = sasSigmoid(sn) * scale
                    let dt = dE + t * d, dn = dE + n * d
                    for j in 0..<d {
                        dz[j] = gp * et[j] + gn * en[j]
                        dt[j] += gp * zr[j]
                        dn[j] += gn * zr[j]
                    }
                }
            }
        }
        return total / Double(R)
    }
}

/// Turns `row` (logits) into scale · (softmax − onehot(target)); returns −log softmax[target].
@inline(__always)
func sasSoftmaxCrossEntropy<T: SASRecScalar>(_ row: UnsafeMutablePointer<T>, _ n: Int, target: Int, scale: T) -> Double {
    var mx = row[0]
    for j in 1..<max(n, 1) where row[j] > mx { mx = row[j] }
    let zt = row[target] - mx
    let sum = T.sasExpShiftSum(row, n, shift: mx)
    let f = scale / sum
    for j in 0..<n { row[j] *= f }
    row[target] -= scale
    return Double(T.sasLog(sum) - zt)
}

/// log(1 + eˣ) without overflow.
@inline(__always) func sasSoftplus<T: SASRecScalar>(_ x: T) -> T { max(x, 0) + T.sasLog1p(T.sasExp(-abs(x))) }
@inline(__always) func sasSigmoid<T: SASRecScalar>(_ x: T) -> T {
    x >= 0 ? 1 / (1 + T.sasExp(-x)) : T.sasExp(x) / (1 + T.sasExp(x))
}
