/// LSTM over the window (MODEL.md "Short-term interest"): x = [e_i ; G[bucket]],
/// z = W_x x + W_h h_prev + b, gates (i, f, g, o), c = σ(f)c_prev + σ(i)tanh(g), h = σ(o)tanh(c).
extension Network {
    func lstmForward(_ b: WindowBatch, _ P: TensorPointers<T>) {
        let d4 = 4 * d
        let G = P[.eventGap], bias = P[.lstmBias]
        // Inputs for every row, then one big gemm for the W_x part.
        xin.zero()
        for r in 0..<R where b.active[r] {
            let row = xin.p + r * din
            row.update(from: X.p + Int(b.item[r]) * d, count: d)
            (row + d).update(from: G + Int(b.gapBucket[r]) * t, count: t)
        }
        if dropoutOn { for i in 0..<(R * din) { xin.p[i] *= maskIn.p[i] } }
        T.gemm(false, true, R, d4, din, 1, xin.p, din, P[.lstmWx], din, 0, z.p, d4)
        for r in 0..<R {
            let zr = z.p + r * d4
            for j in 0..<d4 { zr[j] += bias[j] }
        }
        for tau in 0..<steps {
            let r0 = tau * lanes
            for l in 0..<lanes {
                let r = r0 + l
                let hp = hprev.p + r * d, cp = cprev.p + r * d
                if b.keep[r] {
                    let hs = tau == 0 ? carryH.p + l * d : h.p + (r - lanes) * d
                    let cs = tau == 0 ? carryC.p + l * d : c.p + (r - lanes) * d
                    hp.update(from: hs, count: d); cp.update(from: cs, count: d)
                } else {
                    hp.update(repeating: 0, count: d); cp.update(repeating: 0, count: d)
                }
            }
            T.gemm(false, true, lanes, d4, d, 1, hprev.p + r0 * d, d, P[.lstmWh], d, 1, z.p + r0 * d4, d4)
            for r in r0..<(r0 + lanes) {
                let zr = z.p + r * d4, cp = cprev.p + r * d
                let cr = c.p + r * d, tr = tc.p + r * d, hr = h.p + r * d
                // z is overwritten by the activations (i, f, g, o), which backward needs.
                T.sigmoidInPlace(zr, 2 * d)
                T.tanhInPlace(zr + 2 * d, d)
                T.sigmoidInPlace(zr + 3 * d, d)
                for j in 0..<d {
                    let cv = zr[d + j] * cp[j] + zr[j] * zr[2 * d + j]
                    cr[j] = cv; tr[j] = cv
                }
                T.tanhInPlace(tr, d)
                for j in 0..<d { hr[j] = zr[3 * d + j] * tr[j] }
            }
        }
    }

    /// Back-propagation through time within the window; `dH` holds ∂loss/∂h from above.
    func lstmBackward(_ b: WindowBatch, _ P: TensorPointers<T>, _ G: TensorPointers<T>) {
        let d4 = 4 * d
        dhNext.zero(); dcNext.zero()
        for tau in stride(from: steps - 1, through: 0, by: -1) {
            let r0 = tau * lanes
            for l in 0..<lanes {
                let r = r0 + l
                let dz = dZ.p + r * d4
                guard b.active[r] else {
                    dz.update(repeating: 0, count: d4)
                    (dcNext.p + l * d).update(repeating: 0, count: d)
                    continue
                }
                let a = z.p + r * d4, cp = cprev.p + r * d, tr = tc.p + r * d
                let dhr = dH.p + r * d, dhn = dhNext.p + l * d, dcn = dcNext.p + l * d
                let keep = b.keep[r]
                for j in 0..<d {
                    let i = a[j], f = a[d + j], g = a[2 * d + j], o = a[3 * d + j], tcv = tr[j]
                    let dh = dhr[j] + dhn[j]
                    let dc = dh * o * (1 - tcv * tcv) + dcn[j]
                    dz[j] = dc * g * i * (1 - i)
                    dz[d + j] = dc * cp[j] * f * (1 - f)
                    dz[2 * d + j] = dc * i * (1 - g * g)
                    dz[3 * d + j] = dh * tcv * o * (1 - o)
                    dcn[j] = keep ? dc * f : 0
                }
            }
            // ∂/∂h_prev = W_hᵀ dz, passed to the previous step where the user continues.
            T.gemm(false, false, lanes, d, d4, 1, dZ.p + r0 * d4, d4, P[.lstmWh], d, 0, tmp.p, d)
            for l in 0..<lanes {
                let r = r0 + l
                let dst = dhNext.p + l * d
                if b.active[r] && b.keep[r] { dst.update(from: tmp.p + l * d, count: d) } else { dst.update(repeating: 0, count: d) }
            }
        }
        T.gemm(true, false, d4, d, R, 1, dZ.p, d4, hprev.p, d, 1, G[.lstmWh], d)
        T.gemm(true, false, d4, din, R, 1, dZ.p, d4, xin.p, din, 1, G[.lstmWx], din)
        let gb = G[.lstmBias]
        for r in 0..<R where b.active[r] {
            let dz = dZ.p + r * d4
            for j in 0..<d4 { gb[j] += dz[j] }
        }
        T.gemm(false, false, R, din, d4, 1, dZ.p, d4, P[.lstmWx], din, 0, dxin.p, din)
        if dropoutOn { for i in 0..<(R * din) { dxin.p[i] *= maskIn.p[i] } }
        let dE = G[.itemEmbedding], dG = G[.eventGap]
        for r in 0..<R where b.active[r] {
            let src = dxin.p + r * din
            let e = dE + Int(b.item[r]) * d, g = dG + Int(b.gapBucket[r]) * t
            for j in 0..<d { e[j] += src[j] }
            for j in 0..<t { g[j] += src[d + j] }
        }
    }
}
