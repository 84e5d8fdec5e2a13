/// Hand-written backward pass of `SASRecNetwork` (equations in SASRecNetwork.swift), using the
/// activations and dropout masks the last `forward` kept.
extension SASRecNetwork {
    /// Forward (training when `dropoutSeed` is given), loss and backward: leaves the gradient of
    /// the batch's mean loss in `grad` and returns that mean loss.
    func lossAndGradient(_ batch: SASRecBatch, _ params: UnsafePointer<T>, loss: SASRecConfig.Loss,
                         dropoutSeed: UInt64?) -> Double {
        precondition(grad.capacity >= layout.total, "network was built without a gradient")
        forward(batch, params, dropoutSeed: dropoutSeed)
        grad.zero(layout.total)
        let value = loss == .fullSoftmax ? fullSoftmaxLoss(params) : binaryCrossEntropyLoss(params)
        backward(params)
        return value
    }

    /// Propagates `dZ` (left by a loss) back to every parameter, accumulating into `grad`.
    func backward(_ params: UnsafePointer<T>) {
        let R = rows, d = d, G = grad.p
        dY.ensure(R * d); dX.ensure(R * d)
        sasLayerNormBackward(dZ.p, rows: R, d: d, xhat: xhatF.p, rstd: rstdF.p, gamma: params + layout.finalGamma,
                             dx: dY.p, accumulate: false, dGamma: G + layout.finalGamma, dBeta: G + layout.finalBeta,
                             threads: threads)
        var dy = dY, dx = dX
        for b in stride(from: layout.blocks.count - 1, through: 0, by: -1) {
            let x = b == 0 ? x0.p : acts[b - 1].y.p
            blockBackward(acts[b], layout.blocks[b], UnsafePointer(x), dy.p, dx.p, params)
            swap(&dy, &dx)
        }
        // Embeddings: x₀ = M₀ ⊙ (√d · E[item] + P[position]). Serial scatter-add: rows share items.
        let dE = G + layout.itemEmb, dP = G + layout.posEmb
        let sqrtD = T(Double(d).squareRoot())
        let dx0 = dy.p, mask = embMask.p, train = training   // locals: no per-access exclusivity checks
        batch.items.withUnsafeBufferPointer { items in
            batch.positions.withUnsafeBufferPointer { positions in
                for r in 0..<R {
                    let g = dx0 + r * d
                    if train { for j in 0..<d { g[j] *= mask[r * d + j] } }
                    let de = dE + Int(items[r]) * d, dp = dP + Int(positions[r]) * d
                    for j in 0..<d { de[j] += sqrtD * g[j]; dp[j] += g[j] }
                }
            }
        }
    }

    /// ∂loss/∂y of block `a` in `dy` → ∂loss/∂x in `dx` (overwritten), parameter gradients added.
    private func blockBackward(_ a: BlockActs, _ lay: SASRecLayout.Block, _ x: UnsafePointer<T>,
                               _ dy: UnsafeMutablePointer<T>, _ dx: UnsafeMutablePointer<T>,
                               _ params: UnsafePointer<T>) {
        let R = rows, d = d, dff = dff, G = grad.p
        for buf in [dG, dF, dH, dQ, dK, dV] { buf.ensure(R * d) }
        dU.ensure(R * dff)

        // y = g + M₂ ⊙ (rd·W₂ + b₂)
        let train = training
        let dg = dG.p, df = dF.p, du = dU.p, m1 = a.m1.p, m2 = a.m2.p, rd = a.rd.p
        sasElementwise(R * d, threads) { range in
            for e in range { dg[e] = dy[e] }
            if train { for e in range { df[e] = dy[e] * m2[e] } } else { for e in range { df[e] = dy[e] } }
        }
        sasLinearBackward(a.rd.p, dF.p, rows: R, din: dff, dout: d, w: params + lay.w2,
                          dW: G + lay.w2, db: G + lay.b2, dx: dU.p, accumulate: false,
                          threads: threads, scratch: linearScratch)
        // rd = M₁ ⊙ ReLU(g·W₁ + b₁): rd > 0 exactly where the unit is active and kept.
        sasElementwise(R * dff, threads) { range in
            if train {
                for e in range { du[e] = rd[e] > 0 ? du[e] * m1[e] : 0 }
            } else {
                for e in range { du[e] = rd[e] > 0 ? du[e] : 0 }
            }
        }
        sasLinearBackward(a.g.p, dU.p, rows: R, din: d, dout: dff, w: params + lay.w1,
                          dW: G + lay.w1, db: G + lay.b1, dx: dG.p, accumulate: true,
                          threads: threads, scratch: linearScratch)
        // g = LN₂(a) → ∂a in dH.
        sasLayerNormBackward(dG.p, rows: R, d: d, xhat: a.xhat2.p, rstd: a.rstd2.p, gamma: params + lay.ln2Gamma,
                             dx: dH.p, accumulate: false, dGamma: G + lay.ln2Gamma, dBeta: G + lay.ln2Beta,
                             threads: threads)
        // a = h + Attn(q, k, v): ∂h starts as ∂a (in dH), the attention output gradient is ∂a too.
        sasDynamic(batch.sequences, threads: threads) { s, w in
            let r0 = batch.seqStart[s], L = batch.seqStart[s + 1] - r0, off = r0 * d
            sasAttentionBackward(q: a.q.p + off, k: a.k.p + off, v: a.v.p + off, L: L, d: d, scale: attnScale,
                                 A: a.A.p + attnStart[s],
                                 mask: training ? UnsafePointer(a.attnMask.p + attnStart[s]) : nil,
                                 dOut: dH.p + off, dq: dQ.p + off, dk: dK.p + off, dv: dV.p + off,
                                 tmp1: workerLL[w].p, tmp2: workerLL2[w].p)
        }
        // q = h·W_q + b_q, k = x·W_k + b_k, v = x·W_v + b_v.
        sasLinearBackward(a.h.p, dQ.p, rows: R, din: d, dout: d, w: params + lay.wq,
                          dW: G + lay.wq, db: G + lay.bq, dx: dH.p, accumulate: true,
                          threads: threads, scratch: linearScratch)
        sasLinearBackward(x, dK.p, rows: R, din: d, dout: d, w: params + lay.wk,
                          dW: G + lay.wk, db: G + lay.bk, dx: dx, accumulate: false,
                          threads: threads, scratch: linearScratch)
        sasLinearBackward(x, dV.p, rows: R, din: d, dout: d, w: params + lay.wv,
                          dW: G + lay.wv, db: G + lay.bv, dx: dx, accumulate: true,
                          threads: threads, scratch: linearScratch)
        // h = LN₁(x).
        sasLayerNormBackward(dH.p, rows: R, d: d, xhat: a.xhat1.p, rstd: a.rstd1.p, gamma: params + lay.ln1Gamma,
                             dx: dx, accumulate: true, dGamma: G + lay.ln1Gamma, dBeta: G + lay.ln1Beta,
                             threads: threads)
    }
}
