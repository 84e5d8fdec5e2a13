/// Attention over the last m = min(n, L) events (MODEL.md "Long-term interest"), evaluated
/// like the runtime: κ = W_kᵀ W_q h / √d, a_r = κ · e_{j_r}, α = softmax(a), ē = Σ α_r e_{j_r},
/// l = W_v ē. Per lane, the scores of all W window rows against the L−1+W history slots are one
/// gemm; each row's softmax is restricted to its own band [attnLo, L−1+τ].
extension Network {
    func attentionForward(_ b: WindowBatch, _ P: TensorPointers<T>) {
        T.gemm(false, true, R, d, d, 1, h.p, d, P[.attnWq], d, 0, q.p, d)          // q = W_q h
        T.gemm(false, false, R, d, d, scale, q.p, d, P[.attnWk], d, 0, kq.p, d)    // κ = W_kᵀ q / √d
        let ld = lanes * d
        // Lanes are independent (own history, scores, rows of ē): one worker per chunk of lanes.
        parallelFor(lanes, threads: threads) { l in
            let hs = hist.p + l * H * d, A = attn.p + l * steps * H
            for s in 0..<H {
                let item = b.hist[l * H + s]
                if item >= 0 { (hs + s * d).update(from: X.p + Int(item) * d, count: d) }
                else { (hs + s * d).update(repeating: 0, count: d) }
            }
            T.gemm(false, true, steps, H, d, 1, kq.p + l * d, ld, hs, d, 0, A, H)
            for tau in 0..<steps {
                let row = A + tau * H
                let lo = Int(b.attnLo[tau * lanes + l]), hi = L - 1 + tau
                guard b.active[tau * lanes + l], lo <= hi else {
                    row.update(repeating: 0, count: H); continue
                }
                let band = row + lo, m = hi - lo + 1
                let sum = T.expShiftSum(band, m, shift: T.maximum(band, m))
                T.scale(band, m, by: 1 / sum)
                if lo > 0 { row.update(repeating: 0, count: lo) }
                if hi + 1 < H { (row + hi + 1).update(repeating: 0, count: H - hi - 1) }
            }
            T.gemm(false, false, steps, d, H, 1, A, H, hs, d, 0, ebar.p + l * d, ld)   // ē = Σ α e
        }
        T.gemm(false, true, R, d, d, 1, ebar.p, d, P[.attnWv], d, 0, lv.p, d)        // l = W_v ē
    }

    /// Needs `dLv` (∂loss/∂l); adds into `dH`, the item-vector gradient and W_q, W_k, W_v.
    func attentionBackward(_ b: WindowBatch, _ P: TensorPointers<T>, _ G: TensorPointers<T>) {
        T.gemm(true, false, d, d, R, 1, dLv.p, d, ebar.p, d, 1, G[.attnWv], d)
        T.gemm(false, false, R, d, d, 1, dLv.p, d, P[.attnWv], d, 0, dEbar.p, d)
        let ld = lanes * d
        let dE = G[.itemEmbedding]
        parallelFor(lanes, threads: threads) { l in
            let hs = hist.p + l * H * d, A = attn.p + l * steps * H
            let dAl = dA.p + l * steps * H, dHs = dHist.p + l * H * d
            T.gemm(false, true, steps, H, d, 1, dEbar.p + l * d, ld, hs, d, 0, dAl, H)  // ∂α
            for tau in 0..<steps {
                let a = A + tau * H, da = dAl + tau * H
                let lo = Int(b.attnLo[tau * lanes + l]), hi = L - 1 + tau
                guard b.active[tau * lanes + l], lo <= hi else { da.update(repeating: 0, count: H); continue }
                var dot: T = 0
                for s in lo...hi { dot += a[s] * da[s] }
                for s in 0..<H { da[s] = (s >= lo && s <= hi) ? a[s] * (da[s] - dot) : 0 }   // ∂a (softmax)
            }
            // ∂e_slot = αᵀ ∂ē + (∂a)ᵀ κ ; ∂κ = ∂a · e_slots
            T.gemm(true, false, H, d, steps, 1, A, H, dEbar.p + l * d, ld, 0, dHs, d)
            T.gemm(true, false, H, d, steps, 1, dAl, H, kq.p + l * d, ld, 1, dHs, d)
            T.gemm(false, false, steps, d, H, 1, dAl, H, hs, d, 0, dKq.p + l * d, ld)
        }
        // Scatter into the shared item gradient serially, in lane order (deterministic).
        for l in 0..<lanes {
            for s in 0..<H {
                let item = b.hist[l * H + s]
                guard item >= 0 else { continue }
                let dst = dE + Int(item) * d, src = dHist.p + (l * H + s) * d
                for j in 0..<d { dst[j] += src[j] }
            }
        }
        // κ = (1/√d) q W_k (row form); q = h W_qᵀ.
        T.gemm(true, false, d, d, R, scale, q.p, d, dKq.p, d, 1, G[.attnWk], d)
        T.gemm(false, true, R, d, d, scale, dKq.p, d, P[.attnWk], d, 0, dQ.p, d)
        T.gemm(true, false, d, d, R, 1, dQ.p, d, h.p, d, 1, G[.attnWq], d)
        T.gemm(false, false, R, d, d, 1, dQ.p, d, P[.attnWq], d, 1, dH.p, d)
    }
}
