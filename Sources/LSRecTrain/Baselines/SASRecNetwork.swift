/// The SASRec network over one packed batch: forward (this file), loss (SASRecLoss.swift) and
/// backward (SASRecBackward.swift). Generic so the gradient checks run the same code in Double.
///
/// Block b (following the reference TensorFlow implementation, kang205/SASRec):
///
///     h = LN₁(x)                    q = h·W_q + b_q,  k = x·W_k + b_k,  v = x·W_v + b_v
///     a = h + Attn(q, k, v)         (causal, single head, dropout on the attention weights)
///     g = LN₂(a)
///     y = g + M₂ ⊙ ((M₁ ⊙ ReLU(g·W₁ + b₁))·W₂ + b₂)      (M₁, M₂: dropout multipliers)
///
/// i.e. queries come from the normalised input and keys/values from the un-normalised input,
/// and both residuals add to the normalised tensor, exactly as the reference code does (the
/// published numbers come from it; pmixer/SASRec.pytorch does the same). b_k is kept for
/// fidelity but is inert: it adds q_i·b_k to a whole softmax row, so its gradient is 0. The input is
/// x₀ = M₀ ⊙ (√d · E[item] + P[position]) and the output z = LN_f(y_last); scores are z·Eᵀ
/// (the item embedding is shared with the output layer).
final class SASRecNetwork<T: SASRecScalar> {
    let layout: SASRecLayout
    let d: Int, dff: Int
    let threads: Int
    let dropout: Double
    let lnEps: T
    let attnScale: T

    /// Gradient of the last batch's mean loss, laid out like the parameters (`layout.total`
    /// elements; empty for a scoring-only network).
    let grad: SASBuf<T>

    // The current batch.
    private(set) var batch = SASRecBatch()
    var rows: Int { batch.rows }
    /// Offsets of each sequence's L×L attention matrix.
    private(set) var attnStart: [Int] = [0]
    /// Whether the last forward applied dropout (its masks are then used by backward).
    private(set) var training = false

    // Activations.
    let x0 = SASBuf<T>(), embMask = SASBuf<T>()
    final class BlockActs {
        let h = SASBuf<T>(), xhat1 = SASBuf<T>(), rstd1 = SASBuf<T>()
        let q = SASBuf<T>(), k = SASBuf<T>(), v = SASBuf<T>()
        let A = SASBuf<T>(), attnMask = SASBuf<T>()
        let g = SASBuf<T>(), xhat2 = SASBuf<T>(), rstd2 = SASBuf<T>()
        let rd = SASBuf<T>(), m1 = SASBuf<T>(), m2 = SASBuf<T>()
        let y = SASBuf<T>()
    }
    let acts: [BlockActs]
    let z = SASBuf<T>(), xhatF = SASBuf<T>(), rstdF = SASBuf<T>()
    let tmpRows = SASBuf<T>()
    // Per-worker scratch: two L×L matrices for attention, a logits chunk and a ∂E partial sum.
    let workerLL: [SASBuf<T>], workerLL2: [SASBuf<T>], workerLogits: [SASBuf<T>], workerDE: [SASBuf<T>]
    /// Per-part partial sums of the dense layers' weight gradients.
    let linearScratch = SASBuf<T>()
    // Backward scratch.
    let dZ = SASBuf<T>(), dY = SASBuf<T>(), dX = SASBuf<T>(), dG = SASBuf<T>(), dF = SASBuf<T>()
    let dU = SASBuf<T>(), dH = SASBuf<T>(), dQ = SASBuf<T>(), dK = SASBuf<T>(), dV = SASBuf<T>()

    init(layout: SASRecLayout, threads: Int, dropout: Double, layerNormEpsilon: Double, trainable: Bool = true) {
        self.layout = layout
        grad = SASBuf(trainable ? layout.total : 0)
        d = layout.dim; dff = layout.ffnDim
        self.threads = threads
        self.dropout = dropout
        lnEps = T(layerNormEpsilon)
        attnScale = 1 / T(Double(layout.dim).squareRoot())
        acts = layout.blocks.map { _ in BlockActs() }
        let w = max(1, threads)
        workerLL = (0..<w).map { _ in SASBuf() }; workerLL2 = (0..<w).map { _ in SASBuf() }
        workerLogits = (0..<w).map { _ in SASBuf() }; workerDE = (0..<w).map { _ in SASBuf() }
    }

    /// Runs the network on `batch`. With a `dropoutSeed` it trains: dropout masks are drawn from
    /// a generator seeded with it (the same seed gives the same masks); without, it is inference.
    func forward(_ batch: SASRecBatch, _ params: UnsafePointer<T>, dropoutSeed: UInt64?) {
        self.batch = batch
        training = dropoutSeed != nil && dropout > 0
        var rng = SeededGenerator(seed: dropoutSeed ?? 0)
        let R = batch.rows, d = d
        attnStart = [0]
        for s in 0..<batch.sequences {
            let L = batch.seqStart[s + 1] - batch.seqStart[s]
            attnStart.append(attnStart[s] + L * L)
        }
        let maxL = (0..<batch.sequences).map { batch.seqStart[$0 + 1] - batch.seqStart[$0] }.max() ?? 0
        for b in workerLL + workerLL2 { b.ensure(maxL * maxL) }
        tmpRows.ensure(R * max(d, dff))

        // Embedding: √d · E[item] + P[position], then dropout.
        x0.ensure(R * d)
        let E = params + layout.itemEmb, P = params + layout.posEmb
        let sqrtD = T(Double(d).squareRoot())
        batch.items.withUnsafeBufferPointer { items in
            batch.positions.withUnsafeBufferPointer { pos in
                sasParallel(R, threads: threads, minChunk: 256) { range in
                    for r in range {
                        let e = E + Int(items[r]) * d, p = P + Int(pos[r]) * d, o = x0.p + r * d
                        for j in 0..<d { o[j] = sqrtD * e[j] + p[j] }
                    }
                }
            }
        }
        if training {
            embMask.ensure(R * d)
            sasDropoutMask(embMask.p, R * d, rate: dropout, rng: &rng)
            let x = x0.p, m = embMask.p   // locals: class properties cost an exclusivity check per access
            sasElementwise(R * d, threads) { range in for e in range { x[e] *= m[e] } }
        }

        var x = UnsafePointer(x0.p)
        for (b, lay) in layout.blocks.enumerated() {
            blockForward(acts[b], lay, x, params, &rng)
            x = UnsafePointer(acts[b].y.p)
        }
        z.ensure(R * d); xhatF.ensure(R * d); rstdF.ensure(R)
        sasLayerNormForward(x, rows: R, d: d, gamma: params + layout.finalGamma, beta: params + layout.finalBeta,
                            eps: lnEps, out: z.p, xhat: xhatF.p, rstd: rstdF.p, threads: threads)
    }

    private func blockForward(_ a: BlockActs, _ lay: SASRecLayout.Block, _ x: UnsafePointer<T>,
                              _ params: UnsafePointer<T>, _ rng: inout SeededGenerator) {
        let R = rows, d = d, dff = dff
        for buf in [a.h, a.xhat1, a.q, a.k, a.v, a.g, a.xhat2, a.y] { buf.ensure(R * d) }
        a.rstd1.ensure(R); a.rstd2.ensure(R)
        a.rd.ensure(R * dff)
        let attnSize = attnStart[batch.sequences]
        a.A.ensure(attnSize)

        sasLayerNormForward(x, rows: R, d: d, gamma: params + lay.ln1Gamma, beta: params + lay.ln1Beta,
                            eps: lnEps, out: a.h.p, xhat: a.xhat1.p, rstd: a.rstd1.p, threads: threads)
        sasLinear(a.h.p, rows: R, din: d, dout: d, w: params + lay.wq, b: params + lay.bq, out: a.q.p, threads: threads)
        sasLinear(x, rows: R, din: d, dout: d, w: params + lay.wk, b: params + lay.bk, out: a.k.p, threads: threads)
        sasLinear(x, rows: R, din: d, dout: d, w: params + lay.wv, b: params + lay.bv, out: a.v.p, threads: threads)

        if training {
            a.attnMask.ensure(attnSize)
            sasDropoutMask(a.attnMask.p, attnSize, rate: dropout, rng: &rng)
        }
        // Attention output into tmpRows; sequences are independent, so they run in parallel.
        let o = tmpRows.p
        sasDynamic(batch.sequences, threads: threads) { s, w in
            let r0 = batch.seqStart[s], L = batch.seqStart[s + 1] - r0, off = r0 * d
            sasAttentionForward(q: a.q.p + off, k: a.k.p + off, v: a.v.p + off, L: L, d: d, scale: attnScale,
                                A: a.A.p + attnStart[s], mask: training ? UnsafePointer(a.attnMask.p + attnStart[s]) : nil,
                                tmp: workerLL[w].p, out: o + off)
        }
        let h = a.h.p
        sasElementwise(R * d, threads) { range in for e in range { o[e] += h[e] } }   // residual onto LN₁(x)
        sasLayerNormForward(o, rows: R, d: d, gamma: params + lay.ln2Gamma, beta: params + lay.ln2Beta,
                            eps: lnEps, out: a.g.p, xhat: a.xhat2.p, rstd: a.rstd2.p, threads: threads)

        // Point-wise FFN.
        sasLinear(a.g.p, rows: R, din: d, dout: dff, w: params + lay.w1, b: params + lay.b1, out: a.rd.p, threads: threads)
        let rd = a.rd.p
        sasElementwise(R * dff, threads) { range in for e in range { rd[e] = max(rd[e], 0) } }
        if training {
            a.m1.ensure(R * dff)
            let m1 = a.m1.p
            sasDropoutMask(m1, R * dff, rate: dropout, rng: &rng)
            sasElementwise(R * dff, threads) { range in for e in range { rd[e] *= m1[e] } }
        }
        sasLinear(a.rd.p, rows: R, din: dff, dout: d, w: params + lay.w2, b: params + lay.b2, out: a.y.p, threads: threads)
        let y = a.y.p, g = a.g.p
        if training {
            a.m2.ensure(R * d)
            let m2 = a.m2.p
            sasDropoutMask(m2, R * d, rate: dropout, rng: &rng)
            sasElementwise(R * d, threads) { range in for e in range { y[e] = g[e] + m2[e] * y[e] } }
        } else {
            sasElementwise(R * d, threads) { range in for e in range { y[e] += g[e] } }
        }
    }
}
