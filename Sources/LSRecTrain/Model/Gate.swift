/// Fusion at request time (MODEL.md): τ = Gτ[bucket], g = σ(W_g [h; l; τ] + b_g), h′ = W_o h,
/// u = g ⊙ h′ + (1 − g) ⊙ l (gate), u = h′ (short), u = l (long).
extension Network {
    func fusionForward(_ b: WindowBatch, _ P: TensorPointers<T>) {
        switch shape.fusion {
        case .long:
            u.p.update(from: lv.p, count: R * d)
        case .short:
            T.gemm(false, true, R, d, d, 1, h.p, d, P[.outW], d, 0, hp.p, d)
            u.p.update(from: hp.p, count: R * d)
        case .gate:
            let Gt = P[.requestGap], bg = P[.gateBias]
            for r in 0..<R {
                let row = gin.p + r * dgate
                row.update(from: h.p + r * d, count: d)
                (row + d).update(from: lv.p + r * d, count: d)
                (row + 2 * d).update(from: Gt + Int(b.requestBucket[r]) * t, count: t)
            }
            T.gemm(false, true, R, d, dgate, 1, gin.p, dgate, P[.gateW], dgate, 0, gate.p, d)
            T.gemm(false, true, R, d, d, 1, h.p, d, P[.outW], d, 0, hp.p, d)
            for r in 0..<R {
                let g = gate.p + r * d, hr = hp.p + r * d, lr = lv.p + r * d, ur = u.p + r * d
                for j in 0..<d {
                    let s = T.sigmoid(g[j] + bg[j])
                    g[j] = s
                    ur[j] = s * hr[j] + (1 - s) * lr[j]
                }
            }
        }
    }

    /// Needs `dU`; writes `dLv` and adds into `dH` and the gate/out/time-table gradients.
    func fusionBackward(_ b: WindowBatch, _ P: TensorPointers<T>, _ G: TensorPointers<T>) {
        switch shape.fusion {
        case .long:
            dLv.p.update(from: dU.p, count: R * d)
        case .short:
            T.gemm(true, false, d, d, R, 1, dU.p, d, h.p, d, 1, G[.outW], d)
            T.gemm(false, false, R, d, d, 1, dU.p, d, P[.outW], d, 1, dH.p, d)
        case .gate:
            for r in 0..<R {
                let g = gate.p + r * d, hr = hp.p + r * d, lr = lv.p + r * d, du = dU.p + r * d
                let dh = dhp.p + r * d, dl = dLv.p + r * d, dg = dGpre.p + r * d
                for j in 0..<d {
                    let s = g[j]
                    dh[j] = du[j] * s
                    dl[j] = du[j] * (1 - s)
                    dg[j] = du[j] * (hr[j] - lr[j]) * s * (1 - s)
                }
            }
            T.gemm(true, false, d, dgate, R, 1, dGpre.p, d, gin.p, dgate, 1, G[.gateW], dgate)
            let gbias = G[.gateBias]
            for r in 0..<R {
                let dg = dGpre.p + r * d
                for j in 0..<d { gbias[j] += dg[j] }
            }
            T.gemm(false, false, R, dgate, d, 1, dGpre.p, d, P[.gateW], dgate, 0, dgin.p, dgate)
            let dGt = G[.requestGap]
            for r in 0..<R {
                let src = dgin.p + r * dgate
                let dh = dH.p + r * d, dl = dLv.p + r * d
                for j in 0..<d { dh[j] += src[j]; dl[j] += src[d + j] }
                if b.active[r] {
                    let dst = dGt + Int(b.requestBucket[r]) * t
                    for j in 0..<t { dst[j] += src[2 * d + j] }
                }
            }
            T.gemm(true, false, d, d, R, 1, dhp.p, d, h.p, d, 1, G[.outW], d)
            T.gemm(false, false, R, d, d, 1, dhp.p, d, P[.outW], d, 1, dH.p, d)
        }
    }
}
